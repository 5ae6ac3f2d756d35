//! `dopt bench` on a real engine: two small cases on the test's busybox base
//! (no registry needed), two at a time, with the JSON and Markdown reports, the
//! step summary and the gates.

mod docker_support;

use assert_cmd::Command;
use docker_support::{engine_or_skip, ensure_base_image, BASE};

#[test]
fn bench_builds_verifies_measures_and_gates() {
    let Some(engine) = engine_or_skip("bench_builds_verifies_measures_and_gates") else {
        return;
    };
    ensure_base_image(&engine);
    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("cases/one-shot");
    let two = dir.path().join("cases/clean");
    std::fs::create_dir_all(&one).unwrap();
    std::fs::create_dir_all(&two).unwrap();
    // Two RUNs that merge (a cleanup of what the first made), a one-shot CMD.
    std::fs::write(
        one.join("Dockerfile"),
        format!(
            "FROM {BASE}\nRUN mkdir /scratch && dd if=/dev/zero of=/scratch/big bs=1M count=8\nRUN rm -rf /scratch\nCMD [\"echo\", \"hello from the case\"]\n"
        ),
    )
    .unwrap();
    std::fs::write(
        one.join("case.yaml"),
        "name: one-shot\nprobe:\n  output: hello from the case\nnotes: a cleanup in its own layer\n",
    )
    .unwrap();
    // Nothing to fix: dopt must find little and change nothing.
    std::fs::write(
        two.join("Dockerfile"),
        format!("FROM {BASE}\nUSER 1000\nCMD [\"echo\", \"ok\"]\n"),
    )
    .unwrap();
    let json = dir.path().join("report.json");
    let md = dir.path().join("REPORT.md");
    let summary = dir.path().join("summary.md");
    let out = Command::cargo_bin("dopt")
        .unwrap()
        .env("DOPT_VERIFY_CACHE", "off")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(["bench", "--jobs", "2", "--require-verified", "--json"])
        .arg(&json)
        .arg("--markdown")
        .arg(&md)
        .arg(dir.path().join("cases"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let cases = report["cases"].as_array().unwrap();
    let by_name = |n: &str| cases.iter().find(|c| c["name"] == n).unwrap().clone();
    let shot = by_name("one-shot");
    assert_eq!(shot["outcome"], "verified", "{shot}");
    let before = shot["original"]["size_bytes"].as_u64().unwrap();
    let after = shot["optimized"]["size_bytes"].as_u64().unwrap();
    assert!(after + 8_000_000 <= before, "{before} -> {after}");
    assert!(shot["saved_percent"].as_f64().unwrap() > 0.0);
    assert!(shot["original"]["cold_build_seconds"].as_f64().is_some());
    let clean = by_name("clean");
    assert_eq!(clean["outcome"], "unchanged", "{clean}");
    assert_eq!(report["summary"]["verified"], 1);
    let markdown = std::fs::read_to_string(&md).unwrap();
    assert!(markdown.contains("| one-shot |"), "{markdown}");
    assert!(std::fs::read_to_string(&summary)
        .unwrap()
        .contains("# dopt bench"));

    // The median gate: the one measured case saved far less than 99%.
    Command::cargo_bin("dopt")
        .unwrap()
        .env("DOPT_VERIFY_CACHE", "off")
        .env_remove("GITHUB_STEP_SUMMARY")
        .args(["bench", "--fail-under-median", "99"])
        .arg(&one)
        .assert()
        .code(1)
        .stderr(predicates::str::contains("--fail-under-median 99"));
}
