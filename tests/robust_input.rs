//! Hostile or unusual input through the `dopt` binary: deep nesting, BuildKit's
//! line limit, unbounded or blocking inputs. Never a crash, never a hang.

use assert_cmd::Command;
use predicates::prelude::*;

fn dopt() -> Command {
    let mut c = Command::cargo_bin("dopt").unwrap();
    c.env_remove("NO_COLOR").env_remove("CLICOLOR_FORCE");
    c.timeout(std::time::Duration::from_secs(60));
    c
}

fn write(dir: &tempfile::TempDir, text: &str) -> std::path::PathBuf {
    let f = dir.path().join("Dockerfile");
    std::fs::write(&f, text).unwrap();
    f
}

#[test]
fn deeply_nested_runs_are_left_opaque_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let runs = [
        format!("{}true{}", "{ ".repeat(1515), "; }".repeat(1515)),
        format!("echo {}true{}", "$( ".repeat(7000), " )".repeat(7000)),
        format!(
            "{}true{}",
            "if true; then ".repeat(5000),
            "; fi".repeat(5000)
        ),
    ];
    for run in &runs {
        let f = write(&dir, &format!("FROM alpine:3.20\nRUN {run}\n"));
        for cmd in ["suggest", "check"] {
            dopt()
                .arg(cmd)
                .arg(&f)
                .assert()
                .code(predicate::in_iter([0, 1]))
                .stderr(predicate::str::contains(":2: this RUN nests too deeply"));
        }
    }
    // The same as a heredoc script.
    let f = write(
        &dir,
        &format!(
            "FROM alpine:3.20\nRUN <<EOF\n{}true{}\nEOF\n",
            "{ ".repeat(3000),
            "; }".repeat(3000)
        ),
    );
    dopt()
        .arg("suggest")
        .arg(&f)
        .assert()
        .code(predicate::in_iter([0, 1]))
        .stderr(predicate::str::contains("nests too deeply"));
}
