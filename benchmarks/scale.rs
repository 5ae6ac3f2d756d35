//! Scaling with instruction count: `suggest --unsafe` (parse, all passes, the fix
//! loop, the unified diff) and `check --format json` (parse, all passes, the
//! safe fix loop, JSON rendering) on generated files of 10k and 50k
//! instructions. The passes must stay linear: 50k should take about 5x the
//! time of 10k, like `parse` (see benchmarks/README.md).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dopt::fix::apply::FixOptions;
use dopt::profiles::Profiles;
use dopt::render::findings::FileFindings;
use dopt::runner::{Runner, Selection};

// The `dopt` binary's allocator (see src/main.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `n` instructions: stages of ten common instructions (apt-get RUNs that get
/// findings and fixes, COPY, ENV, ARG, LABEL, EXPOSE...), then a CMD.
pub fn generate(n: usize) -> String {
    const BLOCK: [&str; 10] = [
        "FROM debian:bookworm AS s{i}",
        "ENV A{i}=1 B{i}=2",
        "RUN apt-get update",
        "RUN apt-get install -y curl",
        "COPY . /app{i}",
        "WORKDIR /app{i}",
        "RUN make build{i} && make install",
        "ARG V{i}=1",
        "LABEL x{i}=y",
        "EXPOSE {p}",
    ];
    let mut out = String::new();
    for k in 0..n {
        let i = k / BLOCK.len();
        let line = BLOCK[k % BLOCK.len()]
            .replace("{i}", &i.to_string())
            .replace("{p}", &(1000 + i % 5000).to_string());
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str("CMD [\"app\"]\n");
    out
}

fn runner(unsafe_fixes: bool) -> Runner {
    Runner::new(
        &Selection::default(),
        Profiles::load(None).unwrap(),
        FixOptions {
            unsafe_fixes,
            ..Default::default()
        },
    )
}

fn bench(c: &mut Criterion) {
    let unsafe_runner = runner(true);
    let safe_runner = runner(false);
    let mut group = c.benchmark_group("scale");
    group.sample_size(10);
    for n in [10_000, 50_000] {
        let text = generate(n);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(format!("parse/{n}"), |b| {
            b.iter(|| dopt::syntax::parse(&text).unwrap().instructions.len())
        });
        group.bench_function(format!("suggest-unsafe/{n}"), |b| {
            b.iter(|| {
                let outcome = unsafe_runner.run(&text).unwrap();
                dopt::render::diff::unified(&text, &outcome.fixed, "a", "b").len()
            })
        });
        group.bench_function(format!("check-json/{n}"), |b| {
            b.iter(|| {
                let outcome = safe_runner.run(&text).unwrap();
                let file = FileFindings {
                    path: "Dockerfile",
                    source: &text,
                    findings: &outcome.findings,
                };
                dopt::render::findings::json(&[file], &[]).len()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
