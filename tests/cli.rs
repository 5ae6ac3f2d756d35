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
        ("gitlab", "\"check_name\": \"DOP001 merge-run\""),
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

/// The codes of the findings `suggest` lists with a fix (stdout), and the
/// number in "N fix(es) shown in the diff" (stderr; 0 when absent).
fn suggest_fixes(stdout: &str, stderr: &str) -> (Vec<String>, usize) {
    let codes = stdout
        .lines()
        .filter(|l| l.contains(" [fix] ") || l.contains(" [unsafe fix] "))
        .filter_map(|l| l.split_whitespace().nth(1).map(str::to_string))
        .collect();
    let shown = stderr
        .split(" fix(es) shown in the diff")
        .next()
        .filter(|_| stderr.contains(" fix(es) shown in the diff"))
        .and_then(|s| s.rsplit(' ').next())
        .map(|n| n.parse().unwrap())
        .unwrap_or(0);
    (codes, shown)
}

/// The codes `apply` reports as applied (stderr lines `  CODE message`).
fn applied_codes(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| l.starts_with("  DOP"))
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect()
}

/// Inputs on which DOP011's fixes once did not settle (issue 8), checked for the
/// fix loop's guarantees whatever the passes do: `apply` never writes a result
/// that did not converge (it exits 2, names the pass and leaves the file
/// alone, or writes a file on which a second `apply` changes nothing), and the
/// fixes `suggest` lists are the ones `apply` makes.
#[test]
fn apply_never_writes_an_unsettled_result_and_suggest_lists_what_apply_does() {
    for text in [
        "FROM node:20-slim\nCMD [\"a\"]\nUSER root\n",
        "FROM alpine:3.19\nCMD [\"x\"]\nCMD [\"y\"]\n",
        "RUN true\nFROM alpine:3.19\n",
        // The same with files of the app copied in, so that DOP011 offers its fix.
        "FROM node:20-slim\nCOPY server.js .\nCMD [\"a\"]\nUSER root\n",
        "FROM alpine:3.19\nCOPY app /app\nCMD [\"x\"]\nCMD [\"y\"]\n",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("Dockerfile");
        std::fs::write(&f, text).unwrap();
        let suggest = dopt()
            .args(["suggest", "--unsafe", "--no-config"])
            .arg(&f)
            .output()
            .unwrap();
        let (s_out, s_err) = (
            String::from_utf8(suggest.stdout).unwrap(),
            String::from_utf8(suggest.stderr).unwrap(),
        );
        let apply = dopt()
            .args(["apply", "--unsafe", "--no-config"])
            .arg(&f)
            .output()
            .unwrap();
        let a_err = String::from_utf8(apply.stderr).unwrap();
        let after = std::fs::read_to_string(&f).unwrap();
        let (listed, shown) = suggest_fixes(&s_out, &s_err);
        if apply.status.code() == Some(2) {
            // Not converged: the same error from both, the pass named, no write.
            assert_eq!(after, text, "{text:?}: written although apply failed");
            assert!(a_err.contains("did not converge"), "{text:?}: {a_err}");
            assert!(a_err.contains("DOP0"), "{text:?}: no pass named: {a_err}");
            assert_eq!(suggest.status.code(), Some(2), "{text:?}: {s_err}");
            assert!(s_err.contains("did not converge"), "{text:?}: {s_err}");
            assert!(!s_out.contains("+++ "), "{text:?}: suggest shows a diff");
            continue;
        }
        assert_eq!(apply.status.code(), Some(0), "{text:?}: {a_err}");
        assert!(!a_err.contains("did not"), "{text:?}: {a_err}");
        let applied = applied_codes(&a_err);
        assert_eq!(shown, applied.len(), "{text:?}:\n{s_err}\n{a_err}");
        for code in &listed {
            assert!(
                applied.contains(code),
                "{text:?}: {code} listed, not applied: {a_err}"
            );
        }
        if applied.is_empty() {
            assert_eq!(after, text);
            assert!(a_err.contains("Nothing to apply"), "{a_err}");
        }
        // A converged file: a second apply has nothing to do.
        dopt()
            .args(["apply", "--unsafe", "--no-config"])
            .arg(&f)
            .assert()
            .success()
            .stderr(predicate::str::contains("Nothing to apply"));
        assert_eq!(std::fs::read_to_string(&f).unwrap(), after);
    }
}

/// `check` reports a file it cannot parse in every machine format.
#[test]
fn check_reports_parse_errors_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("Dockerfile");
    std::fs::write(&bad, "FROM alpine\nNOPE x\n").unwrap();
    let run = |format: &str| {
        let out = dopt()
            .args(["check", "--no-config", "--format", format])
            .arg(&bad)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{format}");
        String::from_utf8(out.stdout).unwrap()
    };
    let json: serde_json::Value = serde_json::from_str(&run("json")).unwrap();
    let err = &json.as_array().unwrap()[0];
    assert_eq!(err["error"], true);
    assert_eq!(err["path"], bad.display().to_string());
    assert_eq!(
        (err["line"].as_u64(), err["column"].as_u64()),
        (Some(2), Some(1))
    );
    assert!(err["message"].as_str().unwrap().contains("NOPE"), "{err}");

    let sarif: serde_json::Value = serde_json::from_str(&run("sarif")).unwrap();
    let inv = &sarif["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false);
    let note = &inv["toolExecutionNotifications"][0];
    assert_eq!(note["level"], "error");
    let region = &note["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        (region["startLine"].as_u64(), region["startColumn"].as_u64()),
        (Some(2), Some(1))
    );
    assert!(note["message"]["text"].as_str().unwrap().contains("NOPE"));

    let github = run("github");
    assert!(
        github.starts_with(&format!("::error file={},line=2,col=1,", bad.display())),
        "{github}"
    );
    assert!(github.contains("NOPE"), "{github}");

    let gitlab: serde_json::Value = serde_json::from_str(&run("gitlab")).unwrap();
    let issue = &gitlab.as_array().unwrap()[0];
    assert_eq!(issue["severity"], "blocker");
    assert_eq!(issue["location"]["lines"]["begin"], 2);
    assert!(issue["description"].as_str().unwrap().contains("NOPE"));

    // A good file next to the bad one: findings and the error in one report.
    let good = dir.path().join("good.Dockerfile");
    std::fs::write(&good, MESSY).unwrap();
    let out = dopt()
        .args(["check", "--no-config", "--format", "json"])
        .arg(&good)
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let items = json.as_array().unwrap();
    assert!(items.iter().any(|i| i["code"] == "DOP001"));
    assert_eq!(items.iter().filter(|i| i["error"] == true).count(), 1);
}

#[test]
fn suggest_gives_the_reason_of_fixes_made_after_a_split() {
    // The USER and HEALTHCHECK fixes wait for the runtime stage the split
    // makes; their reasons are listed with the diff all the same.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        "FROM debian:bookworm\nRUN apt-get update && apt-get install -y gcc make libc6-dev libssl-dev\nWORKDIR /app\nCOPY . .\nRUN make\nEXPOSE 8080\nCMD [\"./server\"]\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("Makefile"),
        "server: server.c\n\tgcc -o server server.c -lssl\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("server.c"), "int main(void){return 0;}\n").unwrap();
    dopt()
        .args(["suggest", "--unsafe", "--color", "never"])
        .arg(dir.path().join("Dockerfile"))
        .assert()
        .code(1)
        .stdout(predicate::str::contains("DOP013 [unsafe fix]"))
        .stdout(predicate::str::is_match(r"DOP011 \[unsafe fix, round \d\]").unwrap())
        .stdout(predicate::str::contains("+USER 10001:10001"));
}

#[test]
fn a_folder_stands_for_the_dockerfiles_under_it() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["Dockerfile", "svc/api.Dockerfile", "vendor/Dockerfile"] {
        let p = dir.path().join(f);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, MESSY).unwrap();
    }
    std::fs::write(dir.path().join(".gitignore"), "vendor/\n").unwrap();
    let out = dopt()
        .current_dir(dir.path())
        .args(["check", "--no-config", "--format", "json", "."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let findings: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut paths: Vec<&str> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    paths.dedup();
    assert_eq!(paths, ["./Dockerfile", "./svc/api.Dockerfile"]);
    // A folder with no Dockerfile: a clear error, exit 2.
    let empty = tempfile::tempdir().unwrap();
    dopt()
        .args(["check", "--no-config"])
        .arg(empty.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no Dockerfile in it"));
}
