//! The `dopt` binary as a user runs it: real processes, exit codes, files on disk.

use assert_cmd::Command;
use predicates::prelude::*;
use std::path::Path;

fn dopt() -> Command {
    let mut c = Command::cargo_bin("dopt").unwrap();
    c.env_remove("NO_COLOR").env_remove("CLICOLOR_FORCE");
    c
}

const MESSY: &str = "FROM debian:bookworm\nRUN apt-get update\nRUN apt-get install -y curl\nCMD [\"curl\", \"--version\"]\n";

#[test]
fn help_documents_exit_codes_and_commands() {
    dopt()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Exit codes:"))
        .stdout(predicate::str::contains("suggest"))
        .stdout(predicate::str::contains("apply"));
    dopt()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("dopt "));
}

#[test]
fn bad_usage_exits_2() {
    dopt().arg("frobnicate").assert().code(2);
}

#[test]
fn missing_file_is_a_clear_error() {
    dopt()
        .args(["suggest", "no/such/Dockerfile"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no/such/Dockerfile does not exist",
        ));
}

#[test]
fn unknown_pass_is_an_error_that_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("Dockerfile");
    std::fs::write(&f, MESSY).unwrap();
    dopt()
        .args(["suggest", "--select", "no-such-pass"])
        .arg(&f)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("dopt rules"));
}

#[test]
fn config_with_unknown_key_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Dockerfile"), MESSY).unwrap();
    std::fs::write(dir.path().join(".dopt.yaml"), "selct: [merge-run]\n").unwrap();
    dopt()
        .current_dir(dir.path())
        .arg("suggest")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown field `selct`"));
}

#[test]
fn parse_error_points_at_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("Dockerfile");
    std::fs::write(&f, "FROM alpine\nFROBNICATE x\n").unwrap();
    dopt()
        .arg("suggest")
        .arg(&f)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("Dockerfile:2:1"))
        .stderr(predicate::str::contains("FROBNICATE x"));
    // The file is untouched by apply.
    dopt().arg("apply").arg(&f).assert().code(2);
    assert_eq!(
        std::fs::read_to_string(&f).unwrap(),
        "FROM alpine\nFROBNICATE x\n"
    );
}

#[test]
fn suggest_prints_findings_and_diff_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("Dockerfile");
    std::fs::write(&f, MESSY).unwrap();
    dopt()
        .arg("suggest")
        .arg(&f)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("DOP001"))
        .stdout(predicate::str::contains("+++ b/"))
        .stdout(predicate::str::contains("\x1b[").not()); // piped: no colour
    dopt()
        .args(["suggest", "--exit-zero"])
        .arg(&f)
        .assert()
        .code(0);
    // suggest never writes.
    assert_eq!(std::fs::read_to_string(&f).unwrap(), MESSY);
}

#[test]
fn colour_only_when_forced_and_never_with_no_color() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("Dockerfile");
    std::fs::write(&f, MESSY).unwrap();
    dopt()
        .args(["--color", "always", "suggest"])
        .arg(&f)
        .assert()
        .stdout(predicate::str::contains("\x1b["));
    dopt()
        .env("NO_COLOR", "1")
        .args(["suggest"])
        .arg(&f)
        .assert()
        .stdout(predicate::str::contains("\x1b[").not());
}

#[test]
fn suggest_reads_stdin() {
    dopt()
        .args(["suggest", "-"])
        .write_stdin(MESSY)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("<stdin>:2:1: DOP001"));
}

#[test]
fn clean_file_exits_0() {
    dopt()
        .args(["suggest", "--select", "merge-run", "-"])
        .write_stdin("FROM alpine:3.20\nRUN echo hi\n")
        .assert()
        .code(0)
        .stderr(predicate::str::contains("No suggestions"));
}

#[cfg(unix)]
#[test]
fn apply_rewrites_atomically_keeping_mode_and_crlf() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("Dockerfile");
    let crlf = MESSY.replace('\n', "\r\n");
    std::fs::write(&f, &crlf).unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o640)).unwrap();
    dopt()
        .args(["apply", "--select", "merge-run"])
        .arg(&f)
        .assert()
        .success()
        .stderr(predicate::str::contains("applied"));
    let after = std::fs::read_to_string(&f).unwrap();
    assert_ne!(after, crlf);
    assert!(
        !after.replace("\r\n", "").contains('\n'),
        "LF leaked into CRLF file: {after:?}"
    );
    assert_eq!(
        std::fs::metadata(&f).unwrap().permissions().mode() & 0o777,
        0o640
    );
    // No temp file left behind.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".dopt-"))
        .collect();
    assert!(leftovers.is_empty());
    // Idempotent: a second apply has nothing to do.
    dopt()
        .args(["apply", "--select", "merge-run"])
        .arg(&f)
        .assert()
        .success()
        .stderr(predicate::str::contains("Nothing to apply"));
}

#[test]
fn check_formats() {
    for (format, needle) in [
        ("json", "\"code\": \"DOP001\""),
        ("sarif", "\"version\": \"2.1.0\""),
        ("github", "::warning file=<stdin>,line=2"),
        ("text", "<stdin>:2:1: DOP001"),
    ] {
        dopt()
            .args(["check", "--format", format, "-"])
            .write_stdin(MESSY)
            .assert()
            .code(1)
            .stdout(predicate::str::contains(needle));
    }
}

#[test]
fn rules_and_rule_docs() {
    dopt()
        .arg("rules")
        .assert()
        .success()
        .stdout(predicate::str::contains("DOP001"))
        .stdout(predicate::str::contains("merge-run"));
    dopt()
        .args(["rule", "merge-run"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Fix safety"));
    dopt().args(["rule", "DOP999"]).assert().code(2);
}

#[test]
fn parse_formats() {
    let f = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/parser/buildkit/env/Dockerfile");
    let expected = std::fs::read_to_string(f.with_file_name("result")).unwrap();
    dopt()
        .args(["parse", "--format", "buildkit"])
        .arg(&f)
        .assert()
        .success()
        .stdout(expected);
    dopt()
        .args(["parse"])
        .arg(&f)
        .assert()
        .success()
        .stdout(predicate::str::contains("\"instructions\""));
}

#[test]
fn broken_pipe_exits_quietly() {
    use std::process::{Command as Std, Stdio};
    let bin = assert_cmd::cargo::cargo_bin("dopt");
    let mut child = Std::new(bin)
        .args(["rules", "--format", "markdown"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // close the read end before dopt writes
    let out = child.wait_with_output().unwrap();
    assert!(out.status.code() == Some(0), "status {:?}", out.status);
    assert!(
        String::from_utf8_lossy(&out.stderr).is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn inline_ignore_comment_and_config_select() {
    let suppressed =
        "FROM debian:bookworm\nRUN apt-get update\n# dopt ignore=merge-run\nRUN echo two\n";
    dopt()
        .args(["suggest", "--select", "merge-run", "-"])
        .write_stdin(suppressed)
        .assert()
        .code(0);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Dockerfile"), MESSY).unwrap();
    std::fs::write(dir.path().join(".dopt.yaml"), "select: [merge-run]\n").unwrap();
    let out = dopt()
        .current_dir(dir.path())
        .arg("check")
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    assert!(out.lines().all(|l| l.contains("DOP001")), "{out}");
}

#[test]
fn apply_skips_unparsable_files_but_fixes_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.Dockerfile");
    let bad = dir.path().join("bad.Dockerfile");
    std::fs::write(&good, MESSY).unwrap();
    std::fs::write(&bad, "FROM x\nNOPE\n").unwrap();
    dopt()
        .args(["apply", "--select", "merge-run"])
        .arg(&good)
        .arg(&bad)
        .assert()
        .code(2);
    assert_ne!(std::fs::read_to_string(&good).unwrap(), MESSY);
    assert_eq!(std::fs::read_to_string(&bad).unwrap(), "FROM x\nNOPE\n");
}

#[test]
fn per_pass_options_from_config() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        "FROM node:20-slim\nEXPOSE 3000\nCMD [\"node\", \"server.js\"]\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join(".dopt.yaml"),
        "select: [healthcheck]\nunsafe: true\noptions:\n  healthcheck: { path: /healthz }\n",
    )
    .unwrap();
    dopt()
        .current_dir(dir.path())
        .arg("suggest")
        .assert()
        .code(1)
        .stdout(predicate::str::contains("http://127.0.0.1:3000/healthz"));
}
