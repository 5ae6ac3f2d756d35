//! Issue 11, item 4: a second `--verify` / `--build` run over unchanged input
//! reuses the first run's result (see `src/docker/cache.rs`) and is fast; any
//! change to the Dockerfile builds again.

mod docker_support;

use std::time::Instant;

use assert_cmd::Command;
use docker_support::{engine_or_skip, ensure_base_image, BASE};

fn suggest_build(file: &std::path::Path, cache: &std::path::Path) -> (serde_json::Value, f64) {
    let started = Instant::now();
    let out = Command::cargo_bin("dopt")
        .unwrap()
        .args(["suggest", "--select", "merge-run", "--build", "--json"])
        .arg(file)
        .env("CI", "1")
        .env("DOPT_VERIFY_CACHE", cache)
        .output()
        .unwrap();
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (serde_json::from_slice(&out.stdout).unwrap(), seconds)
}

fn reused(report: &serde_json::Value) -> bool {
    report["notes"].as_array().unwrap().iter().any(|n| {
        n.as_str()
            .unwrap()
            .contains("reused the result of an identical earlier run")
    })
}

#[test]
fn a_second_run_over_unchanged_input_reuses_the_result() {
    let Some(engine) = engine_or_skip("a_second_run_over_unchanged_input_reuses_the_result") else {
        return;
    };
    ensure_base_image(&engine);
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let file = dir.path().join("Dockerfile");
    let text = format!(
        "FROM {BASE}\nRUN mkdir /one /scratch\nRUN rm -rf /scratch\nCMD [\"ls\", \"-d\", \"/one\"]\n"
    );
    std::fs::write(&file, &text).unwrap();

    let (first, first_seconds) = suggest_build(&file, cache.path());
    assert_eq!(first["verified"], true, "{first:#}");
    assert!(!reused(&first));
    let (second, second_seconds) = suggest_build(&file, cache.path());
    assert!(reused(&second), "{second:#}");
    assert_eq!(second["verified"], true);
    assert_eq!(
        second["optimized"]["image"]["size_bytes"],
        first["optimized"]["image"]["size_bytes"]
    );
    eprintln!("first run {first_seconds:.2} s, second {second_seconds:.2} s");
    assert!(
        second_seconds < first_seconds,
        "{second_seconds} vs {first_seconds}"
    );

    // A changed Dockerfile builds again.
    std::fs::write(&file, text.replace("/one", "/two")).unwrap();
    let (third, _) = suggest_build(&file, cache.path());
    assert!(!reused(&third), "{third:#}");
}
