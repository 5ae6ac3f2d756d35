//! Parser throughput over the real-world corpus (`../shared/corpus/real`).
//!
//! `cargo bench --bench parse` reports MB/s for the whole corpus (throughput in
//! bytes) and the time per file (throughput in elements = files).

use std::fs;
use std::path::Path;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

// The `dopt` binary's allocator (see src/main.rs), so that the bench measures
// what users run.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn corpus() -> Vec<String> {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/corpus/real"
    ));
    let mut paths: Vec<_> = fs::read_dir(dir)
        .expect("corpus at ../shared/corpus/real")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "Dockerfile"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let bytes = fs::read(&p).unwrap();
            dopt::syntax::decode(&bytes).unwrap().0
        })
        .collect()
}

fn bench_parse(c: &mut Criterion) {
    let files = corpus();
    let total: usize = files.iter().map(String::len).sum();

    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Bytes(total as u64));
    group.bench_function("real_corpus_bytes", |b| {
        b.iter(|| {
            for text in &files {
                black_box(dopt::syntax::parse(black_box(text)).unwrap());
            }
        })
    });
    group.throughput(Throughput::Elements(files.len() as u64));
    group.bench_function("real_corpus_files", |b| {
        b.iter(|| {
            for text in &files {
                black_box(dopt::syntax::parse(black_box(text)).unwrap());
            }
        })
    });
    group.finish();

    // The largest file alone (BuildKit's own Dockerfile, ~500 lines).
    let largest = files.iter().max_by_key(|f| f.len()).unwrap().clone();
    let mut group = c.benchmark_group("parse_largest");
    group.throughput(Throughput::Bytes(largest.len() as u64));
    group.bench_function("largest_file", |b| {
        b.iter(|| black_box(dopt::syntax::parse(black_box(&largest)).unwrap()))
    });
    group.finish();

    let dump_input: Vec<_> = files
        .iter()
        .map(|t| dopt::syntax::parse(t).unwrap())
        .collect();
    c.bench_function("buildkit_dump_corpus", |b| {
        b.iter(|| {
            for df in &dump_input {
                black_box(dopt::syntax::dump::buildkit_dump(df));
            }
        })
    });
}

criterion_group!(benches, bench_parse);
criterion_main!(benches);
