//! Every real-world Dockerfile of the corpus parses and round-trips byte for byte.

use std::fs;
use std::path::Path;

use dopt::syntax;

#[test]
fn real_corpus_parses_and_round_trips() {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/corpus/real"
    ));
    let mut paths: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "Dockerfile"))
        .collect();
    paths.sort();
    assert_eq!(paths.len(), 152);
    let mut failures = Vec::new();
    for path in &paths {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let bytes = fs::read(path).unwrap();
        let (text, _) = syntax::decode(&bytes).unwrap();
        match syntax::parse(&text) {
            Ok(df) => {
                if df.print() != text {
                    failures.push(format!("{name}: print() differs from input"));
                }
                // Every instruction's spans must be inside its own span.
                for inst in &df.instructions {
                    assert!(inst.keyword_span.start >= inst.span.start, "{name}");
                    assert!(inst.args_span.end <= inst.span.end, "{name}");
                }
            }
            Err(e) => failures.push(e.render(&name, &text, false)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        paths.len(),
        failures.join("\n")
    );
}

/// CPU-time throughput, independent of machine load: run with
/// `/usr/bin/time -f '%U s user' cargo test --release --test parser_real -- --ignored throughput --nocapture`.
#[test]
#[ignore]
fn throughput() {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/corpus/real"
    ));
    let files: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            syntax::decode(&fs::read(e.unwrap().path()).unwrap())
                .unwrap()
                .0
        })
        .collect();
    let total: usize = files.iter().map(String::len).sum();
    // DOPT_THROUGHPUT_ROUNDS lowers the count for instruction counting under valgrind.
    let rounds: usize = std::env::var("DOPT_THROUGHPUT_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(200);
    let start = std::time::Instant::now();
    for _ in 0..rounds {
        for f in &files {
            std::hint::black_box(syntax::parse(f).unwrap());
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{} files, {} bytes x {rounds}: {:.1} MB/s wall, {:.1} us/file wall",
        files.len(),
        total,
        (total * rounds) as f64 / secs / 1e6,
        secs * 1e6 / (files.len() * rounds) as f64
    );
}
