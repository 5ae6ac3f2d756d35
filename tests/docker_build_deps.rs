//! Engine test for DOP015 `build-deps`: a C program compiled with gcc against
//! zlib in one RUN on Debian; the fix purges the toolchain at the end of the
//! same RUN, keeps the runtime library (`apt-mark manual zlib1g`), and the
//! image still runs the program, smaller (stand-in `debian:bookworm`; apt
//! needs the host network).
//!
//! Skips without an engine, or without the stand-in unless `CI` is set.

mod common;
mod docker_support;

use docker_support::{block_on, context, engine_or_skip, options};
use dopt::docker::{compare_blocking, BuilderChoice};

const DOCKERFILE: &str = "\
FROM debian:bookworm
WORKDIR /src
COPY hello.c .
# The user keeps one stage: DOP013's split is ignored, DOP015 offers the purge.
# dopt ignore=DOP013
RUN apt-get update \\
    && apt-get install -y --no-install-recommends gcc libc6-dev zlib1g-dev \\
    && gcc -O2 -o /usr/local/bin/hello hello.c -lz \\
    && rm -rf /var/lib/apt/lists/*
CMD [\"hello\"]
";

const HELLO: &str = "#include <stdio.h>
#include <zlib.h>
int main(void) { printf(\"hello, zlib %s\\n\", zlibVersion()); return 0; }
";

#[test]
fn purged_toolchain_keeps_the_runtime_library_and_the_program_runs() {
    let test = "purged_toolchain_keeps_the_runtime_library_and_the_program_runs";
    let Some(engine) = engine_or_skip(test) else {
        return;
    };
    if block_on(engine.docker().inspect_image("debian:bookworm")).is_err() {
        if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
            panic!("CI is set but the stand-in debian:bookworm is missing: run scripts/standin-bases.sh");
        }
        eprintln!("SKIPPED: no debian:bookworm image (run scripts/standin-bases.sh)");
        return;
    }
    let dir = context(&[("hello.c", HELLO)]);
    let runner = common::runner(&["DOP015"], true, Some(dir.path()));
    let fixed = runner.run(DOCKERFILE).unwrap().fixed;
    assert!(
        fixed.contains("&& apt-mark manual zlib1g && apt-get purge -y --auto-remove gcc libc6-dev zlib1g-dev\n"),
        "{fixed}"
    );

    let mut opts = options(dir.path());
    opts.builder = BuilderChoice::Classic;
    opts.timeout = std::time::Duration::from_secs(60);
    opts.build_timeout = Some(std::time::Duration::from_secs(600));
    let report = compare_blocking(DOCKERFILE, &fixed, &opts).unwrap();
    println!("{}", report.to_markdown());
    let v = report.verification.as_ref().unwrap();
    assert_eq!(v.optimized.exit_code, Some(0), "{v:?}");
    assert!(
        v.optimized
            .stdout
            .as_deref()
            .is_some_and(|o| o.starts_with("hello, zlib 1.")),
        "{v:?}"
    );
    assert_eq!(v.original.stdout, v.optimized.stdout, "{v:?}");
    let (before, after) = (
        report.original.image.as_ref().unwrap().size_bytes,
        report.optimized.image.as_ref().unwrap().size_bytes,
    );
    assert!(after + 50_000_000 < before, "{before} -> {after}");
}
