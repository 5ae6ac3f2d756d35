//! Scaling with instruction count: `suggest --unsafe` (parse, all passes, the fix
//! loop, the unified diff) and `check --format json` (parse, all passes, the
//! safe fix loop, JSON rendering) on generated files of 10k and 50k
//! instructions, in two shapes: many small stages (`multi`), and one long stage
//! (`one`, where per-RUN walks over the rest of the stage would show). The
//! passes must stay linear: 50k should take about 5x the time of 10k, like
//! `parse` (see benchmarks/README.md).

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
    generate_shaped(n, true)
}

/// Like [`generate`]; with `stages` false, one `FROM` and then the same
/// instructions in a single stage.
pub fn generate_shaped(n: usize, stages: bool) -> String {
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
        let template = match k % BLOCK.len() {
            0 if !stages && k > 0 => "LABEL stage{i}=one",
            slot => BLOCK[slot],
        };
        let line = template
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
    for (shape, stages) in [("multi", true), ("one", false)] {
        for n in [10_000, 50_000] {
            let text = generate_shaped(n, stages);
            group.throughput(Throughput::Elements(n as u64));
            group.bench_function(format!("parse/{shape}/{n}"), |b| {
                b.iter(|| dopt::syntax::parse(&text).unwrap().instructions.len())
            });
            group.bench_function(format!("suggest-unsafe/{shape}/{n}"), |b| {
                b.iter(|| {
                    let outcome = unsafe_runner.run(&text).unwrap();
                    dopt::render::diff::unified(&text, &outcome.fixed, "a", "b").len()
                })
            });
            group.bench_function(format!("check-json/{shape}/{n}"), |b| {
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
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
