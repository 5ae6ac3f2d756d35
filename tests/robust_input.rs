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
    // One level per physical line: BuildKit reads lines up to 64 KiB.
    let runs = [
        format!("{}true{}", "{ \\\n".repeat(1515), "; } \\\n".repeat(1515)),
        format!(
            "echo {}true{}",
            "$( \\\n".repeat(7000),
            " ) \\\n".repeat(7000)
        ),
        format!(
            "{}true{}",
            "if true; then \\\n".repeat(5000),
            "; fi \\\n".repeat(5000)
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

#[test]
fn a_line_over_buildkits_limit_is_an_error_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    // "RUN echo " + body: 65,535 bytes is the longest line BuildKit reads.
    let ok = write(
        &dir,
        &format!("FROM alpine:3.20\nRUN echo {}\n", "a".repeat(65_535 - 9)),
    );
    dopt().arg("parse").arg(&ok).assert().success();
    let long = write(
        &dir,
        &format!("FROM alpine:3.20\nRUN echo {}\n", "a".repeat(65_536 - 9)),
    );
    dopt()
        .arg("suggest")
        .arg(&long)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "Dockerfile:2:65536: error: this line is 65536 bytes long",
        ))
        .stderr(predicate::str::contains("max allowed size of 65535"));
}

#[cfg(target_os = "linux")]
#[test]
fn endless_input_is_cut_at_the_cap() {
    dopt()
        .args(["suggest", "/dev/zero"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "/dev/zero is larger than 32 MiB, the most dopt reads",
        ));
    dopt()
        .args(["check", "-"])
        .write_stdin(vec![b'#'; (32 << 20) + 1])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "standard input is larger than 32 MiB",
        ));
    // Stdin under the cap is still read.
    dopt()
        .args(["check", "-"])
        .write_stdin("FROM alpine:3.20\nRUN true\n")
        .assert()
        .code(predicate::in_iter([0, 1]));
}

#[test]
fn a_file_over_the_cap_is_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("Dockerfile");
    let file = std::fs::File::create(&f).unwrap();
    file.set_len((32 << 20) + 1).unwrap(); // sparse
    dopt()
        .arg("suggest")
        .arg(&f)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("larger than 32 MiB"));
}

#[test]
fn help_states_the_input_cap() {
    dopt()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("at most 32 MiB per input"))
        .stdout(predicate::str::contains("65,535"));
}
