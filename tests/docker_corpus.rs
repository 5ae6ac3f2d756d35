//! Measurements on the buildable corpus apps (`../shared/corpus/apps`), built on the
//! stand-in base images of `scripts/standin-bases.sh` with the host network (package
//! registries are reached through it). They download packages, which takes time
//! (measured on 2 cores, engine 20.10: 31-52 s each, 88 s for both in a row), so
//! they run only when `CI` is set or
//! `DOPT_DOCKER_CORPUS=1`, and are skipped with a message otherwise:
//! `DOPT_DOCKER_CORPUS=1 cargo test --test docker_corpus -- --nocapture`.

mod docker_support;

use std::path::PathBuf;
use std::time::Duration;

use docker_support::engine_or_skip;
use dopt::docker::{compare_blocking, BuildOptions, BuilderKind, Engine, VerifyMode};

/// Whether the corpus builds should run (see the module docs); prints why not.
fn corpus_builds_enabled(test: &str) -> bool {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0");
    if set("CI") || set("DOPT_DOCKER_CORPUS") {
        return true;
    }
    eprintln!(
        "SKIPPED {test}: builds a corpus app with package downloads (minutes); \
         set DOPT_DOCKER_CORPUS=1 (or CI) to run it"
    );
    false
}

fn app_dir(name: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/corpus/apps"
    ))
    .join(name)
}

/// True when every base image is present locally (stand-ins are made by
/// `scripts/standin-bases.sh`); prints why not otherwise.
fn bases_present(engine: &Engine, bases: &[&str], test: &str) -> bool {
    let rt = tokio::runtime::Runtime::new().unwrap();
    for base in bases {
        if rt.block_on(engine.docker().inspect_image(base)).is_err() {
            eprintln!("SKIPPED {test}: base image {base} missing (run scripts/standin-bases.sh)");
            return false;
        }
    }
    true
}

fn corpus_options(app: &str) -> BuildOptions {
    let mut opts = BuildOptions::new(app_dir(app));
    opts.network = Some("host".into());
    opts.progress = false;
    opts.timeout = Duration::from_secs(20);
    opts
}

#[test]
fn node_bulletin_board() {
    if !corpus_builds_enabled("node_bulletin_board") {
        return;
    }
    let Some(engine) = engine_or_skip("node_bulletin_board") else {
        return;
    };
    if !bases_present(&engine, &["node:current-slim"], "node_bulletin_board") {
        return;
    }
    let original = std::fs::read_to_string(app_dir("node-bulletin-board/Dockerfile")).unwrap();
    // What dopt's passes aim at: npm's cache removed in the layer that fills it.
    let optimized = original.replace(
        "RUN npm install\n",
        "RUN npm install && npm cache clean --force\n",
    );
    assert_ne!(original, optimized);
    let report = compare_blocking(
        &original,
        &optimized,
        &corpus_options("node-bulletin-board"),
    )
    .unwrap();
    println!("{}", report.to_markdown());
    println!("{}", report.to_json());
    assert!(report.standin_bases);
    let verification = report.verification.as_ref().unwrap();
    assert_eq!(verification.mode, VerifyMode::Http { port: 8080 });
    assert!(report.verified, "{}", report.to_markdown());
    assert!(report.size_saved_bytes.unwrap() > 0);
}

#[test]
fn awesome_compose_flask_with_buildkit_mount() {
    let test = "awesome_compose_flask_with_buildkit_mount";
    if !corpus_builds_enabled(test) {
        return;
    }
    let Some(engine) = engine_or_skip(test) else {
        return;
    };
    if !bases_present(&engine, &["python:3.10-alpine"], test) {
        return;
    }
    let original = std::fs::read_to_string(app_dir("awesome-compose-flask/Dockerfile")).unwrap();
    // Only the stage we build changes; the heredoc stages stay as they are.
    let optimized = original.replace(
        "COPY requirements.txt /app\n",
        "COPY requirements.txt /app/\n",
    );
    let mut opts = corpus_options("awesome-compose-flask");
    opts.target = Some("builder".into());
    // Without the `docker/dockerfile:1.4` frontend image, engine 20.10's built-in
    // frontend (which predates heredocs) is used, and the dev-envs stage (not
    // needed for `builder`) is left out of both builds, with a note.
    let frontend_present = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(engine.docker().inspect_image("docker/dockerfile:1.4"))
        .is_ok();
    let report = compare_blocking(&original, &optimized, &opts).unwrap();
    println!("{}", report.to_markdown());
    assert_eq!(report.builder, BuilderKind::BuildKit);
    assert_eq!(
        report.notes.iter().any(|n| n.contains("heredocs")),
        !frontend_present,
        "{:?}",
        report.notes
    );
    assert!(report.notes.iter().any(|n| n.contains("cache mounts")));
    assert!(report.optimized.built);
    // app.py serves on 8000 only when run as a script, without EXPOSE: command mode.
    assert_eq!(
        report.verification.as_ref().unwrap().mode,
        VerifyMode::Command
    );
}
