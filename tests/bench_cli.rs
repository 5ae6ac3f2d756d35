//! `dopt bench` as a user runs it, without an engine: case discovery errors,
//! the engine error, help and exit codes.

use assert_cmd::Command;
use predicates::prelude::*;

fn dopt() -> Command {
    let mut c = Command::cargo_bin("dopt").unwrap();
    c.env_remove("GITHUB_STEP_SUMMARY");
    c
}

#[test]
fn help_documents_case_files_gates_and_exit_codes() {
    dopt()
        .args(["bench", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("--fail-under-median"))
        .stdout(predicate::str::contains("--require-verified"))
        .stdout(predicate::str::contains("Exit codes:"))
        .stdout(predicate::str::contains("case.yaml"));
    dopt().arg("bench").assert().code(2);
}

#[test]
fn bad_cases_are_errors_with_the_file_named() {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("app");
    std::fs::create_dir_all(&case).unwrap();
    std::fs::write(case.join("Dockerfile"), "FROM x\n").unwrap();
    std::fs::write(case.join("case.yaml"), "targett: run\n").unwrap();
    dopt()
        .arg("bench")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("case.yaml"))
        .stderr(predicate::str::contains("targett"));
    let empty = tempfile::tempdir().unwrap();
    dopt()
        .arg("bench")
        .arg(empty.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no case.yaml and no Dockerfile"));
}

#[test]
fn without_an_engine_it_says_so_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        "FROM debian:bookworm\nRUN apt-get update\nRUN apt-get install -y curl\n",
    )
    .unwrap();
    let json = dir.path().join("report.json");
    dopt()
        .env(
            "DOCKER_HOST",
            format!("unix://{}/no-such.sock", dir.path().display()),
        )
        .env("DOPT_VERIFY_CACHE", "off")
        .arg("bench")
        .arg(dir.path())
        .arg("--json")
        .arg(&json)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no Docker engine"));
    // The report is still written, with the case marked failed.
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["summary"]["failed"], 1);
    assert_eq!(report["cases"][0]["outcome"], "failed");
}
