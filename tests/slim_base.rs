//! DOP014 composes with DOP013: when the split is applied, its runtime stage is
//! already slim and DOP014 changes nothing; without a split it moves the base.

mod common;

use std::path::Path;

fn fixture(case: &str) -> (String, std::path::PathBuf) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let source = std::fs::read_to_string(dir.join(format!("{case}.Dockerfile"))).unwrap();
    (source, dir.join(format!("{case}.context")))
}

#[test]
fn the_split_runtime_stage_is_not_slimmed_twice() {
    let (source, ctx) = fixture("split-stages/python-venv");
    let runner = common::runner(&["split-stages", "slim-base"], true, Some(&ctx));
    let outcome = runner.run(&source).unwrap();
    assert!(outcome.converged);
    let froms: Vec<&str> = outcome
        .fixed
        .lines()
        .filter(|l| l.starts_with("FROM"))
        .collect();
    // The build stage keeps the full image (it compiles); only the runtime is slim.
    assert_eq!(
        froms,
        ["FROM python:3.11 AS build", "FROM python:3.11-slim"]
    );
    assert!(outcome.findings.iter().all(|f| f.code != "DOP014"));
}

#[test]
fn without_a_split_the_base_moves() {
    // Nothing to split off (no dependency install): the base still moves.
    let (source, ctx) = fixture("slim-base/node-static-no-install");
    let runner = common::runner(&["split-stages", "slim-base"], true, Some(&ctx));
    let outcome = runner.run(&source).unwrap();
    assert!(outcome.converged);
    let codes: Vec<&str> = outcome.findings.iter().map(|f| f.code).collect();
    assert!(codes.contains(&"DOP014"), "{codes:?}");
    assert!(outcome.fixed.contains("FROM node:18-slim\n"));
}
