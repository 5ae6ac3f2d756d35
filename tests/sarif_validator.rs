//! `dopt check --format sarif` through Microsoft's SARIF validator
//! (`Sarif.Multitool validate`, npm package `@microsoft/sarif-multitool-linux`),
//! for relative and absolute paths and a file that does not parse.
//!
//! The validator is looked up at `$DOPT_SARIF_MULTITOOL`, then in the test
//! cache (`~/.cache/dopt-test/sarif-multitool`). With `CI` set and no validator,
//! the test installs it there with npm (using the machine's extra CA
//! certificates, as the containers do) instead of skipping.
//!
//! Every error fails the test, and so does every warning but one: SARIF2005
//! (no `informationUri`) while Cargo.toml names no `repository`, since dopt
//! will not invent a home page; with one, the log carries it and that warning
//! fails too.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

const PACKAGE: &str = "@microsoft/sarif-multitool-linux";

fn cache_dir() -> PathBuf {
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
    home.join(".cache/dopt-test/sarif-multitool")
}

fn installed(dir: &Path) -> Option<PathBuf> {
    let tool = dir.join("node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool");
    tool.is_file().then_some(tool)
}

/// The validator, installed with npm when `CI` is set and it is missing.
fn multitool() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("DOPT_SARIF_MULTITOOL") {
        return Some(PathBuf::from(p));
    }
    let dir = cache_dir();
    if let Some(tool) = installed(&dir) {
        return Some(tool);
    }
    // Outside CI, a missing validator is a skip.
    std::env::var_os("CI")?;
    std::fs::create_dir_all(&dir).unwrap();
    let mut npm = std::process::Command::new("npm");
    npm.args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(&dir)
        .arg(PACKAGE);
    // npm inside this network needs the machine's extra CA certificates.
    if let Ok(entries) = std::fs::read_dir("/usr/local/share/ca-certificates") {
        let mut certs: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "crt"))
            .collect();
        certs.sort();
        if !certs.is_empty() {
            let bundle = dir.join("extra-ca.pem");
            let text: String = certs
                .iter()
                .map(|c| std::fs::read_to_string(c).unwrap_or_default())
                .collect::<Vec<_>>()
                .join("\n");
            std::fs::write(&bundle, text).unwrap();
            npm.env("NODE_EXTRA_CA_CERTS", &bundle);
        }
    }
    let status = npm.status().expect("CI is set but npm cannot run");
    assert!(
        status.success(),
        "CI is set but `npm install {PACKAGE}` failed"
    );
    Some(installed(&dir).expect("the npm package has no Sarif.Multitool"))
}

/// The validator's findings on `log` as (rule id, level).
fn validate(tool: &Path, log: &str) -> Vec<(String, String)> {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("dopt.sarif");
    let output = dir.path().join("validation.sarif");
    std::fs::write(&input, log).unwrap();
    let out = std::process::Command::new(tool)
        .arg("validate")
        .arg(&input)
        .arg("-o")
        .arg(&output)
        .env("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", "1")
        .output()
        .expect("the validator runs");
    let report = std::fs::read_to_string(&output).unwrap_or_else(|_| {
        panic!(
            "the validator wrote no report: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    report["runs"][0]["results"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|r| {
            (
                r["ruleId"].as_str().unwrap_or("?").to_string(),
                r["level"].as_str().unwrap_or("warning").to_string(),
            )
        })
        .collect()
}

fn sarif_of(args: &[&std::ffi::OsStr], dir: &Path, homepage: Option<&str>) -> String {
    let mut cmd = Command::cargo_bin("dopt").unwrap();
    match homepage {
        Some(h) => cmd.env("DOPT_HOMEPAGE", h),
        None => cmd.env_remove("DOPT_HOMEPAGE"),
    };
    let out = cmd
        .current_dir(dir)
        .args(["check", "--no-config", "--format", "sarif"])
        .args(args)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn sarif_passes_microsofts_validator() {
    let Some(tool) = multitool() else {
        eprintln!(
            "SKIPPED sarif_passes_microsofts_validator: no SARIF validator (set CI=true to install {PACKAGE} with npm, or DOPT_SARIF_MULTITOOL)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("my app");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(
        sub.join("Dockerfile"),
        "FROM debian\nRUN apt-get update\nRUN apt-get install -y curl\nEXPOSE 8080\nCMD [\"app\"]\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("bad.Dockerfile"), "FROM alpine\nNOPE x\n").unwrap();
    let abs = sub.join("Dockerfile");
    let cases: [(&str, Vec<&std::ffi::OsStr>); 3] = [
        ("relative", vec!["my app/Dockerfile".as_ref()]),
        ("absolute", vec![abs.as_os_str()]),
        (
            "with an error",
            vec!["bad.Dockerfile".as_ref(), abs.as_os_str()],
        ),
    ];
    let no_repository =
        env!("CARGO_PKG_REPOSITORY").is_empty() && option_env!("DOPT_HOMEPAGE").is_none();
    // As the GitHub Action runs it (DOPT_HOMEPAGE = the repository it installed
    // dopt from): no error and no warning at all. Without a homepage, only
    // SARIF2005 (no informationUri) is allowed.
    for homepage in [Some("https://example.org/dopt"), None] {
        for (name, args) in &cases {
            let log = sarif_of(args, dir.path(), homepage);
            assert!(log.contains("\"results\""), "{name}: {log}");
            let found = validate(&tool, &log);
            eprintln!("{name} (homepage {homepage:?}): validator says {found:?}");
            let bad: Vec<&(String, String)> = found
                .iter()
                .filter(|(rule, level)| {
                    matches!(level.as_str(), "error" | "warning")
                        && !(rule == "SARIF2005" && no_repository && homepage.is_none())
                })
                .collect();
            assert!(bad.is_empty(), "{name}: {bad:?}\n{log}");
            if homepage.is_some() {
                assert!(
                    log.contains("\"informationUri\": \"https://example.org/dopt\""),
                    "{log}"
                );
            }
        }
    }
}
