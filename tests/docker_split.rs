//! Engine test: a single-stage Go build split by DOP013 (with the other passes,
//! as `dopt suggest --unsafe` does) builds on the stand-in bases, serves the same
//! answer, runs as distroless's nonroot user and is a fraction of the size.
//!
//! Needs the stand-ins `golang:1.22` and `gcr.io/distroless/static-debian12`
//! (`scripts/standin-bases.sh`); skips without them unless `CI` is set.

mod common;
mod docker_support;

use docker_support::{block_on, context, engine_or_skip, options};
use dopt::docker::{compare_blocking, BuilderChoice};

const MAIN_GO: &str = "package main

import (
\t\"fmt\"
\t\"net/http\"
)

func main() {
\thttp.HandleFunc(\"/\", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, \"hello\") })
\thttp.ListenAndServe(\":8080\", nil)
}
";

const DOCKERFILE: &str = "\
FROM golang:1.22
WORKDIR /src
COPY go.mod ./
COPY main.go ./
RUN go build -o /out/server .
EXPOSE 8080
CMD [\"/out/server\"]
";

#[test]
fn split_go_server_builds_and_runs_on_distroless_static() {
    let Some(engine) = engine_or_skip("split_go_server_builds_and_runs_on_distroless_static")
    else {
        return;
    };
    for image in ["golang:1.22", "gcr.io/distroless/static-debian12"] {
        if block_on(engine.docker().inspect_image(image)).is_err() {
            if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
                panic!(
                    "CI is set but the stand-in {image} is missing: run scripts/standin-bases.sh"
                );
            }
            eprintln!("SKIPPED: no {image} image (run scripts/standin-bases.sh)");
            return;
        }
    }
    let dir = context(&[
        // The stand-in's Go is Debian's 1.19.
        ("go.mod", "module example.com/server\n\ngo 1.19\n"),
        ("main.go", MAIN_GO),
    ]);
    let runner = common::runner(&[], true, Some(dir.path()));
    let outcome = runner.run(DOCKERFILE).unwrap();
    let fixed = &outcome.fixed;
    let (build, runtime) = fixed.split_once("\nFROM ").expect("split");
    assert!(build.contains("ENV CGO_ENABLED=0\n"), "{fixed}");
    assert!(
        runtime.starts_with("gcr.io/distroless/static-debian12\n"),
        "{fixed}"
    );
    assert!(
        !build.contains("USER") && runtime.contains("USER nonroot"),
        "{fixed}"
    );

    let mut opts = options(dir.path());
    opts.builder = BuilderChoice::Classic;
    opts.timeout = std::time::Duration::from_secs(60);
    opts.build_timeout = Some(std::time::Duration::from_secs(600));
    let report = compare_blocking(DOCKERFILE, fixed, &opts).unwrap();
    println!("{}", report.to_markdown());
    let optimized = report
        .optimized
        .image
        .as_ref()
        .expect("optimized image built");
    assert!(
        optimized.size_bytes < 30_000_000,
        "{} bytes",
        optimized.size_bytes
    );
    let v = report.verification.as_ref().unwrap();
    assert_eq!(v.original.http_status, Some(200), "{v:?}");
    assert_eq!(v.optimized.http_status, Some(200), "{v:?}");
    assert_eq!(v.optimized.uid.as_deref(), Some("65532"), "{v:?}");
}
