//! `dopt suggest --build` and `dopt apply --verify` as a user runs them: a real
//! process against the real engine, on the tests' own busybox base image.

mod docker_support;

use assert_cmd::Command;
use docker_support::{engine_or_skip, ensure_base_image, BASE};

fn dockerfile() -> String {
    // A cleanup in its own RUN: merge-run moves it into the layer that
    // creates what it removes (one layer less), same behaviour.
    format!("FROM {BASE}\nRUN mkdir /one /scratch\nRUN rm -rf /scratch\nCMD [\"ls\", \"-d\", \"/one\"]\n")
}

#[test]
fn apply_verify_writes_only_a_verified_rewrite_and_reports_json() {
    let Some(engine) =
        engine_or_skip("apply_verify_writes_only_a_verified_rewrite_and_reports_json")
    else {
        return;
    };
    ensure_base_image(&engine);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("Dockerfile");
    std::fs::write(&file, dockerfile()).unwrap();

    // suggest --build --json: the report, and nothing written.
    let out = Command::cargo_bin("dopt")
        .unwrap()
        .args(["suggest", "--select", "merge-run", "--build", "--json"])
        .arg(&file)
        .env("CI", "1")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["verified"], true, "{report:#}");
    assert_eq!(
        report["original"]["image"]["layers"].as_u64().unwrap(),
        report["optimized"]["image"]["layers"].as_u64().unwrap() + 1
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), dockerfile());

    // apply --verify: verified, so written, with a Markdown report on request.
    let md = dir.path().join("report.md");
    Command::cargo_bin("dopt")
        .unwrap()
        .args(["apply", "--select", "merge-run", "--verify", "--markdown"])
        .arg(&md)
        .arg(&file)
        .env("CI", "1")
        .assert()
        .success();
    let after = std::fs::read_to_string(&file).unwrap();
    assert!(
        after.contains("RUN mkdir /one /scratch && \\\n    rm -rf /scratch"),
        "{after}"
    );
    assert!(std::fs::read_to_string(&md).unwrap().contains("Verified"));
}

/// Issue 8: `RUN echo ${a##*-} cat <<X` starts a heredoc for the Dockerfile
/// frontend that runs here (BuildKit's lexer supports `##`), so the lines up
/// to `X` are its body, not instructions: the file builds, and dopt parses it
/// the same way.
#[test]
fn heredoc_after_prefix_removal_matches_the_frontend() {
    let Some(engine) = engine_or_skip("heredoc_after_prefix_removal_matches_the_frontend") else {
        return;
    };
    let frontend = docker_support::block_on(engine.docker().inspect_image("docker/dockerfile:1.4"));
    if frontend.is_err() {
        // scripts/standin-bases.sh builds it; the engine's built-in frontend
        // predates heredocs.
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but the docker/dockerfile:1.4 stand-in frontend is missing"
        );
        eprintln!("SKIPPED heredoc_after_prefix_removal_matches_the_frontend: no docker/dockerfile:1.4 image (run scripts/standin-bases.sh)");
        return;
    }
    ensure_base_image(&engine);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("Dockerfile");
    let text = format!(
        "# syntax=docker/dockerfile:1.4\nFROM {BASE}\nRUN echo ${{a##*-}} cat <<X > /out\nhello\nX\nCMD cat /out\n"
    );
    std::fs::write(&file, &text).unwrap();
    let out = Command::cargo_bin("dopt")
        .unwrap()
        .args([
            "suggest",
            "--unsafe",
            "--select",
            "exec-form",
            "--build",
            "--builder",
            "buildkit",
            "--json",
        ])
        .arg(&file)
        .env("CI", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["verified"], true, "{report:#}");
}
