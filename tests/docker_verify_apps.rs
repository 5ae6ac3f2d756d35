//! Issue 11: `dopt apply --unsafe --verify` on small apps where one fix may break
//! the image (tests/verify-apps/<name>/, on the stand-in bases of
//! scripts/standin-bases.sh, packages from Debian through the host network).
//! For each, the written file builds, answers like the original and is smaller;
//! it has a HEALTHCHECK only if that became healthy; and every fix that was
//! dropped is named with its evidence.
//!
//! Each app is copied to a temporary folder (the repo's copy is never
//! rewritten). Skipped without an engine or a stand-in base, a failure instead
//! when `CI` is set.

mod docker_support;

use std::path::Path;

use assert_cmd::Command;
use docker_support::{block_on, engine_or_skip};
use serde_json::Value;

/// What one app run showed.
struct AppRun {
    report: Value,
    before: String,
    after: String,
    stderr: String,
}

/// Runs `dopt apply --unsafe --verify --json` on a copy of the app; `None` when
/// skipped.
fn apply_verify(test: &str, app: &str) -> Option<AppRun> {
    let engine = engine_or_skip(test)?;
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/verify-apps")
        .join(app);
    let dockerfile = std::fs::read_to_string(source.join("Dockerfile")).unwrap();
    let base = dockerfile
        .lines()
        .find_map(|l| l.strip_prefix("FROM "))
        .unwrap()
        .trim();
    if block_on(engine.docker().inspect_image(base)).is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but the stand-in base {base} is missing (scripts/standin-bases.sh)"
        );
        eprintln!("SKIPPED {test}: no {base} image (run scripts/standin-bases.sh)");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(&source).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    let file = dir.path().join("Dockerfile");
    let out = Command::cargo_bin("dopt")
        .unwrap()
        .args([
            "apply",
            "--unsafe",
            "--verify",
            "--network",
            "host",
            "--run-timeout",
            "20",
            "--json",
        ])
        .arg(&file)
        .env("CI", "1")
        .env("DOPT_VERIFY_CACHE", "off")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{stderr}", String::from_utf8_lossy(&out.stdout)));
    let after = std::fs::read_to_string(&file).unwrap();
    eprintln!("--- {app}: written ---\n{after}\n--- stderr ---\n{stderr}");
    let size = |v: &Value| {
        v.as_u64()
            .map_or("-".to_string(), |b| format!("{:.1} MB", b as f64 / 1e6))
    };
    let written_size = if report["verified"] == true {
        &report["optimized"]["image"]["size_bytes"]
    } else {
        &report["search"]["kept_image"]["size_bytes"]
    };
    let extra = report["search"]["builds"].as_array().map_or(0, Vec::len);
    eprintln!(
        "SUMMARY {app}: original {} -> written {}; verified with every fix: {}; extra builds: {extra}",
        size(&report["original"]["image"]["size_bytes"]),
        size(written_size),
        report["verified"]
    );
    Some(AppRun {
        report,
        before: dockerfile,
        after,
        stderr,
    })
}

/// The checks every app must pass; returns the codes of the dropped fixes.
fn check_written_file(run: &AppRun) -> Vec<String> {
    let report = &run.report;
    assert_ne!(run.after, run.before, "nothing written:\n{}", run.stderr);
    let original_size = report["original"]["image"]["size_bytes"].as_u64().unwrap();
    let (size, verification, dropped) = if report["verified"] == true {
        assert!(report.get("search").is_none(), "{report:#}");
        (
            report["optimized"]["image"]["size_bytes"].as_u64().unwrap(),
            &report["verification"],
            Vec::new(),
        )
    } else {
        let search = &report["search"];
        assert!(search.is_object(), "not verified and no search: {report:#}");
        let builds = search["builds"].as_array().unwrap();
        assert!(!builds.is_empty() && builds.len() <= 12, "{search:#}");
        let mut dropped = Vec::new();
        for fix in search["fixes"].as_array().unwrap() {
            if fix["verdict"] == "dropped" {
                let evidence = fix["evidence"].as_array().unwrap();
                assert!(!evidence.is_empty(), "dropped without evidence: {fix:#}");
                dropped.push(fix["code"].as_str().unwrap().to_string());
                // Named in the report, and no longer in the file (for fixes
                // that add a line).
            }
        }
        assert!(!dropped.is_empty(), "{search:#}");
        (
            search["kept_image"]["size_bytes"].as_u64().unwrap(),
            &search["kept_verification"],
            dropped,
        )
    };
    assert_eq!(verification["verified"], true, "{verification:#}");
    assert!(
        size < original_size,
        "not smaller: {size} >= {original_size}"
    );
    // Answers like the original.
    assert_eq!(
        verification["original"]["http_status"], verification["optimized"]["http_status"],
        "{verification:#}"
    );
    // A HEALTHCHECK only if it became healthy.
    if run.after.contains("HEALTHCHECK") && !run.before.contains("HEALTHCHECK") {
        assert_eq!(
            verification["optimized"]["health"], "healthy",
            "{verification:#}"
        );
    }
    dropped
}

/// The running original writes /var/log/app.log at start-up (docker diff) and
/// answers `GET /` with 200: with that evidence the USER fix is not offered
/// (a non-root user could not write there) and the HEALTHCHECK probes `/`.
#[test]
fn python_app_logging_under_var_log_gets_no_user_fix_from_the_running_original() {
    let Some(run) = apply_verify(
        "python_app_logging_under_var_log_gets_no_user_fix_from_the_running_original",
        "python-log",
    ) else {
        return;
    };
    let dropped = check_written_file(&run);
    assert!(dropped.is_empty(), "{:#}", run.report);
    assert!(!run.after.contains("USER"), "{}", run.after);
    assert!(run.after.contains("rm -rf /var/lib/apt/lists/*"));
    assert!(
        run.after.contains("http://127.0.0.1:8000/"),
        "{}",
        run.after
    );
    let runtime = &run.report["verification"]["original"]["runtime"];
    assert!(
        runtime["startup_writes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w == "/var/log/app.log"),
        "{runtime:#}"
    );
    assert_eq!(runtime["listening_ports"], serde_json::json!([8000]));
    assert_eq!(runtime["uid"], 0);
    assert!(run
        .stderr
        .contains("the running original changed the fixes"));
}

/// A command, not a server, that reads a root-only file: the USER fix breaks
/// it (exit code and output differ, `Permission denied` in its output), the
/// search drops just that fix and keeps the others.
#[test]
fn command_reading_a_root_only_file_keeps_all_but_the_user_fix() {
    let Some(run) = apply_verify(
        "command_reading_a_root_only_file_keeps_all_but_the_user_fix",
        "cli-root-file",
    ) else {
        return;
    };
    let dropped = check_written_file(&run);
    assert_eq!(dropped, vec!["DOP011"], "{:#}", run.report["search"]);
    assert!(!run.after.contains("USER"), "{}", run.after);
    assert!(run.after.contains("rm -rf /var/lib/apt/lists/*"));
    let search = &run.report["search"];
    let user_fix = search["fixes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "DOP011")
        .unwrap();
    let evidence = user_fix["evidence"].to_string();
    assert!(
        evidence.contains("exited with 0 on the original but 1"),
        "{evidence}"
    );
    assert!(
        evidence.contains("Permission denied: '/etc/shadow'"),
        "{evidence}"
    );
    // One extra build finds it, one confirms the rest.
    assert!(
        search["builds"].as_array().unwrap().len() <= 2,
        "{search:#}"
    );
    assert_eq!(
        search["kept_verification"]["optimized"]["stdout"],
        search["kept_verification"]["original"]["stdout"]
    );
}

#[test]
fn nginx_on_port_80_as_root_without_expose() {
    let Some(run) = apply_verify("nginx_on_port_80_as_root_without_expose", "nginx-root") else {
        return;
    };
    let dropped = check_written_file(&run);
    // nginx must start as root to bind port 80: no USER fix is offered.
    assert!(!dropped.contains(&"DOP011".to_string()));
    assert!(!run.after.contains("USER"), "{}", run.after);
}

#[test]
fn node_post_only_root_with_a_get_health_route() {
    let Some(run) = apply_verify(
        "node_post_only_root_with_a_get_health_route",
        "node-post-only",
    ) else {
        return;
    };
    check_written_file(&run);
    let verification = if run.report["verified"] == true {
        &run.report["verification"]
    } else {
        &run.report["search"]["kept_verification"]
    };
    // `GET /` answers 405 on both: the same behaviour.
    assert_eq!(verification["original"]["http_status"], 405);
    // The HEALTHCHECK probes the GET route that answered the running original,
    // not `/`, and it became healthy.
    assert!(run.after.contains("/healthz"), "{}", run.after);
    assert_eq!(verification["optimized"]["health"], "healthy");
}

#[test]
fn entrypoint_dropping_privileges_with_setpriv() {
    let Some(run) = apply_verify(
        "entrypoint_dropping_privileges_with_setpriv",
        "setpriv-entrypoint",
    ) else {
        return;
    };
    check_written_file(&run);
    // setpriv needs root to switch users: a USER line would break it.
    assert!(!run.after.contains("\nUSER "), "{}", run.after);
    let verification = if run.report["verified"] == true {
        &run.report["verification"]
    } else {
        &run.report["search"]["kept_verification"]
    };
    assert_eq!(
        verification["optimized"]["stdout"], "running as worker\n",
        "{verification:#}"
    );
}
