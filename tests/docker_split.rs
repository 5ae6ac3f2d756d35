//! Engine tests: single-stage builds split by DOP013 (with the other passes, as
//! `dopt suggest --unsafe` does) build on the stand-in bases, behave the same and
//! are a fraction of the size:
//!
//! - Go: serves the same answer, runs as distroless's nonroot user (stand-ins
//!   `golang:1.22`, `gcr.io/distroless/static-debian12`);
//! - C with gcc/make from apt on Debian: `dopt apply --unsafe --verify` writes the
//!   split because it verifies (the sources and objects left in the build stage
//!   are explained removals), and the runtime stage has no compiler (stand-ins
//!   `debian:bookworm`, `debian:bookworm-slim`; apt needs the host network).
//!
//! Skip without the stand-ins (`scripts/standin-bases.sh`) unless `CI` is set.

mod common;
mod docker_support;

use docker_support::{block_on, context, engine_or_skip, options};
use dopt::docker::{compare_blocking, BuilderChoice, Report};

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

/// The Dockerfile after all passes with unsafe fixes, as `dopt apply --unsafe`
/// writes it.
fn split_with_all_passes(dockerfile: &str, context: &std::path::Path) -> String {
    let runner = common::runner(&[], true, Some(context));
    runner.run(dockerfile).unwrap().fixed
}

/// Both versions built (classic builder) and compared; the report is printed.
fn compare_on_engine(original: &str, fixed: &str, context: &std::path::Path) -> Report {
    let mut opts = options(context);
    opts.builder = BuilderChoice::Classic;
    opts.timeout = std::time::Duration::from_secs(60);
    opts.build_timeout = Some(std::time::Duration::from_secs(600));
    let report = compare_blocking(original, fixed, &opts).unwrap();
    println!("{}", report.to_markdown());
    report
}

/// Whether the engine and the stand-in images are there (the test skips
/// otherwise); panics under CI when an image is missing.
fn engine_with_standins(test: &str, images: &[&str]) -> bool {
    let Some(engine) = engine_or_skip(test) else {
        return false;
    };
    for image in images {
        if block_on(engine.docker().inspect_image(image)).is_err() {
            if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
                panic!(
                    "CI is set but the stand-in {image} is missing: run scripts/standin-bases.sh"
                );
            }
            eprintln!("SKIPPED: no {image} image (run scripts/standin-bases.sh)");
            return false;
        }
    }
    true
}

#[test]
fn split_go_server_builds_and_runs_on_distroless_static() {
    if !engine_with_standins(
        "split_go_server_builds_and_runs_on_distroless_static",
        &["golang:1.22", "gcr.io/distroless/static-debian12"],
    ) {
        return;
    }
    let dir = context(&[
        // The stand-in's Go is Debian's 1.19.
        ("go.mod", "module example.com/server\n\ngo 1.19\n"),
        ("main.go", MAIN_GO),
    ]);
    let fixed = &split_with_all_passes(DOCKERFILE, dir.path());
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

    let report = compare_on_engine(DOCKERFILE, fixed, dir.path());
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
    // main.go's GET route: the split builds the static probe, DOP012 uses it.
    assert!(
        runtime.contains("CMD [\"/usr/local/bin/healthcheck\",\"http://127.0.0.1:8080/\"]"),
        "{fixed}"
    );
    assert_eq!(v.optimized.health.as_deref(), Some("healthy"), "{v:?}");
}

/// Python on the full image with psycopg2 built from source against libpq:
/// the slim runtime stage installs libpq5 (profiles/apt.yaml), and the
/// program imports the same psycopg2 there.
const PSYCOPG2_DOCKERFILE: &str = "\
FROM python:3.11
RUN apt-get update \\
    && apt-get install -y --no-install-recommends gcc libpq-dev \\
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
CMD [\"python\", \"check.py\"]
";

#[test]
fn split_python_psycopg2_installs_libpq_in_the_slim_runtime() {
    if !engine_with_standins(
        "split_python_psycopg2_installs_libpq_in_the_slim_runtime",
        &["python:3.11", "python:3.11-slim"],
    ) {
        return;
    }
    let dir = context(&[
        ("requirements.txt", "psycopg2==2.9.9\n"),
        (
            "check.py",
            "import psycopg2\nprint('psycopg2', psycopg2.__version__.split()[0], 'libpq', psycopg2.__libpq_version__)\n",
        ),
    ]);
    let fixed = split_with_all_passes(PSYCOPG2_DOCKERFILE, dir.path());
    let (build, runtime) = fixed.split_once("\nFROM ").expect("split");
    assert!(build.contains("libpq-dev"), "{fixed}");
    assert!(
        runtime.starts_with("python:3.11-slim\n")
            && runtime.contains("install -y --no-install-recommends libpq5 ")
            && !runtime.contains("gcc"),
        "{fixed}"
    );
    let report = compare_on_engine(PSYCOPG2_DOCKERFILE, &fixed, dir.path());
    let v = report.verification.as_ref().unwrap();
    assert!(report.verified, "{v:?}");
    assert!(
        v.optimized
            .stdout
            .as_deref()
            .is_some_and(|o| o.contains("psycopg2 2.9.9 libpq")),
        "{v:?}"
    );
    let (before, after) = (
        report.original.image.as_ref().unwrap().size_bytes,
        report.optimized.image.as_ref().unwrap().size_bytes,
    );
    assert!(after < before / 2, "{before} -> {after}");
}

/// The issue's seed shape: gcc and make from apt, a `-dev` library, `make` in the
/// WORKDIR, the program started by a relative path.
const C_DOCKERFILE: &str = "\
FROM debian:bookworm
RUN apt-get update \\
 && apt-get install -y --no-install-recommends gcc make libc6-dev zlib1g-dev \\
 && rm -rf /var/lib/apt/lists/*
WORKDIR /usr/src/app
COPY . .
RUN make
CMD [\"./hello\"]
";

const C_MAKEFILE: &str = "hello: hello.o\n\t$(CC) -o $@ $^ -lz\n";

const C_HELLO: &str = "#include <stdio.h>
#include <zlib.h>
int main(void) { printf(\"hello from C, zlib %s\\n\", zlibVersion()); return 0; }
";

#[test]
fn split_c_make_build_verifies_and_ships_no_compiler() {
    if !engine_with_standins(
        "split_c_make_build_verifies_and_ships_no_compiler",
        &["debian:bookworm", "debian:bookworm-slim"],
    ) {
        return;
    }
    let dir = context(&[
        ("Dockerfile", C_DOCKERFILE),
        ("Makefile", C_MAKEFILE),
        ("hello.c", C_HELLO),
    ]);
    let file = dir.path().join("Dockerfile");
    let out = assert_cmd::Command::cargo_bin("dopt")
        .unwrap()
        .args([
            "apply",
            "--unsafe",
            "--verify",
            "--keep-images",
            "--network",
            "host",
            "--json",
        ])
        .arg(&file)
        .env("CI", "1")
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let kept: Vec<String> = report["kept_images"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let optimized_tag = report["optimized"]["tag"].as_str().map(str::to_string);
    // What the runtime image holds, before the kept images go.
    let compilers = optimized_tag.as_deref().map(|tag| {
        std::process::Command::new("docker")
            .args([
                "run",
                "--rm",
                "--user",
                "0",
                "--entrypoint",
                "sh",
                tag,
                "-c",
            ])
            .arg("for p in gcc cc make ld; do command -v $p; done; ls /usr/src/app")
            .output()
            .unwrap()
    });
    for tag in &kept {
        let _ = std::process::Command::new("docker")
            .args(["rmi", "-f", tag])
            .output();
    }

    assert!(
        out.status.success(),
        "{}\n{report:#}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(report["verified"], true, "{report:#}");
    let written = std::fs::read_to_string(&file).unwrap();
    let (build, runtime) = written.split_once("\nFROM ").expect("split written");
    assert!(
        build.starts_with("FROM debian:bookworm AS build\n"),
        "{written}"
    );
    assert!(runtime.starts_with("debian:bookworm-slim\n"), "{written}");
    assert!(
        runtime.contains("COPY --from=build /usr/src/app/hello /usr/src/app/hello"),
        "{written}"
    );
    assert!(
        !runtime.contains("gcc") && !runtime.contains("make") && runtime.contains("zlib1g"),
        "{written}"
    );

    let v = &report["verification"];
    assert_eq!(v["original"]["exit_code"], 0, "{v:#}");
    assert!(
        v["original"]["stdout"]
            .as_str()
            .is_some_and(|s| s.starts_with("hello from C, zlib ")),
        "{v:#}"
    );
    assert_eq!(v["optimized"]["stdout"], v["original"]["stdout"], "{v:#}");
    // The sources and the object file stay in the build stage, on purpose.
    let kept_in_build: Vec<&str> = v["explained_removals"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["cause"]["kind"] == "kept_in_build_stage")
        .flat_map(|g| g["paths"].as_array().unwrap())
        .filter_map(|p| p.as_str())
        .collect();
    for path in ["Makefile", "hello.c", "hello.o"] {
        assert!(kept_in_build.contains(&path), "{v:#}");
    }

    let compilers = compilers.expect("the optimized image was kept");
    let listing = String::from_utf8_lossy(&compilers.stdout);
    assert_eq!(
        listing.trim(),
        "hello",
        "no compiler, only the program: {listing}"
    );

    let size = |which: &str| report[which]["image"]["size_bytes"].as_u64().unwrap();
    let (before, after) = (size("original"), size("optimized"));
    println!(
        "C split: {:.1} MB -> {:.1} MB",
        before as f64 / 1e6,
        after as f64 / 1e6
    );
    assert!(
        after < 250_000_000 && after * 2 < before,
        "{before} -> {after}"
    );
}

const RUST_MAIN: &str = r#"use std::io::{Read, Write};
use std::net::TcpListener;

fn main() {
    let listener = TcpListener::bind("0.0.0.0:8080").unwrap();
    for stream in listener.incoming() {
        let mut stream = match stream {
            Ok(s) => s,
            Err(_) => continue,
        };
        let mut request = [0u8; 1024];
        let _ = stream.read(&mut request);
        let _ = stream.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nhello\n",
        );
    }
}
"#;

const RUST_DOCKERFILE: &str = "\
FROM rust:1.79
WORKDIR /usr/src/hello
COPY . .
RUN cargo build --release --locked
EXPOSE 8080
CMD [\"./target/release/hello-web\"]
";

#[test]
fn split_rust_server_builds_and_runs_on_distroless_cc() {
    if !engine_with_standins(
        "split_rust_server_builds_and_runs_on_distroless_cc",
        &["rust:1.79", "gcr.io/distroless/cc-debian12"],
    ) {
        return;
    }
    let dir = context(&[
        // The stand-in's cargo is Debian's 1.63: no let-else (1.65).
        (
            "Cargo.toml",
            "[package]\nname = \"hello-web\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        ),
        (
            "Cargo.lock",
            "version = 3\n\n[[package]]\nname = \"hello-web\"\nversion = \"0.1.0\"\n",
        ),
        ("src/main.rs", RUST_MAIN),
    ]);
    let fixed = &split_with_all_passes(RUST_DOCKERFILE, dir.path());
    let (_, runtime) = fixed.split_once("\nFROM ").expect("split");
    assert!(
        runtime.starts_with("gcr.io/distroless/cc-debian12\n"),
        "{fixed}"
    );

    let report = compare_on_engine(RUST_DOCKERFILE, fixed, dir.path());
    let v = report.verification.as_ref().unwrap();
    assert!(report.verified, "{v:?}");
    assert_eq!(v.original.http_status, Some(200), "{v:?}");
    assert_eq!(v.optimized.http_status, Some(200), "{v:?}");
    assert_ne!(v.optimized.uid.as_deref(), Some("0"), "{v:?}");
    let size = |r: &dopt::docker::VersionReport| r.image.as_ref().unwrap().size_bytes;
    let (before, after) = (size(&report.original), size(&report.optimized));
    println!(
        "Rust split: {:.1} MB -> {:.1} MB",
        before as f64 / 1e6,
        after as f64 / 1e6
    );
    assert!(after < 40_000_000, "{before} -> {after}");
}

const JAVAC_DOCKERFILE: &str = "\
FROM eclipse-temurin:17-jdk
WORKDIR /usr/src/myapp
COPY Main.java .
RUN javac Main.java
CMD [\"java\", \"Main\"]
";

#[test]
fn split_javac_program_runs_the_same_on_the_jre() {
    if !engine_with_standins(
        "split_javac_program_runs_the_same_on_the_jre",
        &["eclipse-temurin:17-jdk", "eclipse-temurin:17-jre"],
    ) {
        return;
    }
    let dir = context(&[(
        "Main.java",
        "public class Main {\n    public static void main(String[] args) {\n        \
         System.out.println(\"hello from \" + System.getProperty(\"java.specification.version\"));\n    }\n}\n",
    )]);
    let fixed = &split_with_all_passes(JAVAC_DOCKERFILE, dir.path());
    let (_, runtime) = fixed.split_once("\nFROM ").expect("split");
    assert!(runtime.starts_with("eclipse-temurin:17-jre\n"), "{fixed}");
    assert!(
        runtime.contains("COPY --from=build /usr/src/myapp /usr/src/myapp"),
        "{fixed}"
    );

    let report = compare_on_engine(JAVAC_DOCKERFILE, fixed, dir.path());
    let v = report.verification.as_ref().unwrap();
    assert!(report.verified, "{v:?}");
    assert_eq!(v.original.exit_code, Some(0), "{v:?}");
    assert_eq!(
        v.original.stdout.as_deref(),
        Some("hello from 17\n"),
        "{v:?}"
    );
    assert_eq!(v.optimized.stdout, v.original.stdout, "{v:?}");
    let size = |r: &dopt::docker::VersionReport| r.image.as_ref().unwrap().size_bytes;
    let (before, after) = (size(&report.original), size(&report.optimized));
    println!(
        "javac split: {:.1} MB -> {:.1} MB",
        before as f64 / 1e6,
        after as f64 / 1e6
    );
    assert!(after < before, "{before} -> {after}");
}

/// A curl HEALTHCHECK: distroless has no curl, so the split builds a static probe
/// in the build stage and the HEALTHCHECK runs it.
const GO_HEALTHCHECK_DOCKERFILE: &str = "\
FROM golang:1.22
WORKDIR /src
COPY go.mod main.go ./
RUN go build -o /out/server .
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD curl -fsS http://localhost:8080/ || exit 1
CMD [\"/out/server\"]
";

#[test]
fn split_go_server_keeps_a_healthy_healthcheck_on_distroless() {
    if !engine_with_standins(
        "split_go_server_keeps_a_healthy_healthcheck_on_distroless",
        &["golang:1.22", "gcr.io/distroless/static-debian12"],
    ) {
        return;
    }
    let dir = context(&[
        ("go.mod", "module example.com/server\n\ngo 1.19\n"),
        ("main.go", MAIN_GO),
    ]);
    let fixed = split_with_all_passes(GO_HEALTHCHECK_DOCKERFILE, dir.path());
    let (_, runtime) = fixed.split_once("\nFROM ").expect("split");
    assert!(
        runtime.starts_with("gcr.io/distroless/static-debian12\n")
            && runtime.contains("CMD [\"/usr/local/bin/healthcheck\", \"http://localhost:8080/\"]"),
        "{fixed}"
    );

    let report = compare_on_engine(GO_HEALTHCHECK_DOCKERFILE, &fixed, dir.path());
    let v = report.verification.as_ref().unwrap();
    assert!(report.verified, "{v:?}");
    assert_eq!(v.original.health.as_deref(), Some("healthy"), "{v:?}");
    assert_eq!(v.optimized.health.as_deref(), Some("healthy"), "{v:?}");
    assert_eq!(v.optimized.uid.as_deref(), Some("65532"), "{v:?}");
    let optimized = report.optimized.image.as_ref().unwrap();
    assert!(
        optimized.size_bytes < 30_000_000,
        "{}",
        optimized.size_bytes
    );
}
