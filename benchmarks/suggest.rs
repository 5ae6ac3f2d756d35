//! `suggest` over the whole real corpus: parse, all passes (unsafe included), the
//! fix loop and diff rendering — what a user waits for. Target: ≤ 1 ms median per
//! file (see benchmarks/README.md).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dopt::fix::apply::FixOptions;
use dopt::profiles::Profiles;
use dopt::runner::{Runner, Selection};
use std::path::Path;

fn corpus() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/real");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("../shared/corpus/real")
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    files
        .into_iter()
        .filter_map(|p| {
            let bytes = std::fs::read(&p).ok()?;
            let (text, _) = dopt::syntax::decode(&bytes).ok()?;
            Some((p.file_name()?.to_string_lossy().into_owned(), text))
        })
        .collect()
}

fn suggest_one(runner: &Runner, name: &str, text: &str) -> usize {
    match runner.run(text) {
        Ok(outcome) => {
            let diff = dopt::render::diff::unified(text, &outcome.fixed, name, name);
            outcome.findings.len() + diff.len()
        }
        Err(_) => 0,
    }
}

fn bench(c: &mut Criterion) {
    let files = corpus();
    let bytes: usize = files.iter().map(|(_, t)| t.len()).sum();
    let runner = Runner::new(
        &Selection::default(),
        Profiles::load(None).unwrap(),
        FixOptions {
            unsafe_fixes: true,
            ..Default::default()
        },
    );
    let mut group = c.benchmark_group("suggest");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("real-corpus-all-passes", |b| {
        b.iter(|| {
            files
                .iter()
                .map(|(n, t)| suggest_one(&runner, n, t))
                .sum::<usize>()
        })
    });
    group.finish();
    // Per-file medians, for the "≤ 1 ms median per file" target.
    let mut per_file = c.benchmark_group("suggest-per-file");
    per_file.sample_size(10);
    for (name, text) in files.iter().filter(|(n, _)| {
        n.contains("python__3.13-bookworm")
            || n.contains("awesome-compose")
            || n.contains("buildkit")
    }) {
        per_file.bench_function(name.as_str(), |b| {
            b.iter(|| suggest_one(&runner, name, text))
        });
    }
    per_file.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
