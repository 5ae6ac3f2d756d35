//! The CI integrations in the repository, run here as a user's CI would:
//! `action.yml` (its shell steps, with the environment GitHub gives them) and
//! `.pre-commit-hooks.yaml` (its entries and file patterns).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn yaml(path: &str) -> serde_yaml::Value {
    serde_yaml::from_str(&std::fs::read_to_string(repo().join(path)).unwrap()).unwrap()
}

/// `${{ inputs.NAME }}` replaced by `inputs[NAME]`, else the input's default
/// (other expressions are left as they are: the steps tested do not use them).
fn expand(text: &str, inputs: &BTreeMap<String, String>, action: &serde_yaml::Value) -> String {
    let mut out = text.to_string();
    for (name, spec) in action["inputs"].as_mapping().unwrap() {
        let name = name.as_str().unwrap();
        let value = inputs.get(name).cloned().unwrap_or_else(|| {
            spec["default"]
                .as_str()
                .filter(|d| !d.contains("${{"))
                .unwrap_or("")
                .to_string()
        });
        out = out.replace(&format!("${{{{ inputs.{name} }}}}"), &value);
    }
    out
}

struct StepRun {
    status: Option<i32>,
    stdout: String,
    summary: String,
    output: String,
}

/// Runs step `id_or_name` of action.yml the way a runner does: bash, the
/// step's `env` expanded, `GITHUB_ACTION_PATH` at the repository, the step
/// summary and output files, and the debug `dopt` first on PATH.
fn run_step(name: &str, inputs: &[(&str, &str)], dir: &Path) -> StepRun {
    let action = yaml("action.yml");
    assert_eq!(action["runs"]["using"], "composite");
    let inputs: BTreeMap<String, String> = inputs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for key in inputs.keys() {
        assert!(
            action["inputs"].get(key.as_str()).is_some(),
            "no input {key}"
        );
    }
    let step = action["runs"]["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|s| s["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no step {name}"))
        .clone();
    assert_eq!(step["shell"], "bash");
    let script = step["run"].as_str().unwrap();
    let summary = dir.join("summary.md");
    let output = dir.join("output.txt");
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_dopt"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("bash");
    cmd.args(["-e", "-c", script])
        .current_dir(dir)
        .env("GITHUB_ACTION_PATH", repo())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_ACTIONS", "true")
        .env("PATH", path);
    if let Some(env) = step["env"].as_mapping() {
        for (k, v) in env {
            cmd.env(
                k.as_str().unwrap(),
                expand(v.as_str().unwrap_or(""), &inputs, &action),
            );
        }
    }
    let out = cmd.output().unwrap();
    StepRun {
        status: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        summary: std::fs::read_to_string(&summary).unwrap_or_default(),
        output: std::fs::read_to_string(&output).unwrap_or_default(),
    }
}

const MESSY: &str =
    "FROM debian:bookworm\nRUN apt-get update\nRUN apt-get install -y curl\nCMD [\"curl\"]\n";

#[test]
fn action_check_step_annotates_summarises_and_writes_sarif() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("svc")).unwrap();
    std::fs::write(dir.path().join("svc/api.Dockerfile"), MESSY).unwrap();
    let run = run_step(
        "dopt check",
        &[
            ("paths", "svc"),
            ("sarif", "true"),
            ("sarif-file", "out.sarif"),
        ],
        dir.path(),
    );
    assert_eq!(run.status, Some(1), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("::warning file=svc/api.Dockerfile,line=2,col=1,"),
        "{}",
        run.stdout
    );
    assert!(run.summary.contains("| DOP001 | 1 |"), "{}", run.summary);
    assert!(
        run.output.contains("sarif-file=out.sarif"),
        "{}",
        run.output
    );
    let findings: usize = run
        .output
        .lines()
        .find_map(|l| l.strip_prefix("findings="))
        .unwrap()
        .parse()
        .unwrap();
    assert!(findings >= 3, "{}", run.output);
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out.sarif")).unwrap())
            .unwrap();
    assert_eq!(
        sarif["runs"][0]["results"].as_array().unwrap().len(),
        findings
    );

    // fail-on-findings: false passes with findings; a broken file still fails.
    let run = run_step(
        "dopt check",
        &[("paths", "svc"), ("fail-on-findings", "false")],
        dir.path(),
    );
    assert_eq!(run.status, Some(0), "{}", run.stdout);
    std::fs::write(dir.path().join("svc/Dockerfile"), "FROM alpine\nNOPE\n").unwrap();
    let run = run_step(
        "dopt check",
        &[("paths", "svc"), ("fail-on-findings", "false")],
        dir.path(),
    );
    assert_eq!(run.status, Some(2), "{}", run.stdout);
    assert!(run.stdout.contains("::error file=svc/Dockerfile,line=2"));
    assert!(run.summary.contains("1 file(s) could not be checked"));
}

#[test]
fn action_install_step_runs_cargo_install_from_the_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let action = yaml("action.yml");
    let install = action["runs"]["steps"][0].clone();
    assert_eq!(install["if"], "inputs.install == 'true'");
    // The command it would run (a real install needs the network and minutes).
    let out = Command::new("bash")
        .arg(repo().join(".github/action/run.sh"))
        .arg("install")
        .current_dir(dir.path())
        .env("DOPT_INSTALL_DRY_RUN", "1")
        .env("DOPT_REPOSITORY", "https://example.invalid/dopt")
        .env("DOPT_VERSION", "v1")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "cargo install --locked --git https://example.invalid/dopt --rev v1 dopt"
    );
    // The SARIF upload step uploads the file the check step wrote.
    let upload = &action["runs"]["steps"][3];
    assert!(upload["uses"]
        .as_str()
        .unwrap()
        .starts_with("github/codeql-action/upload-sarif@"));
    assert_eq!(upload["with"]["sarif_file"], "${{ inputs.sarif-file }}");
}

#[test]
fn pre_commit_hooks_match_the_files_dopt_looks_for() {
    let hooks = yaml(".pre-commit-hooks.yaml");
    let hooks = hooks.as_sequence().unwrap();
    assert!(hooks.iter().any(|h| h["id"] == "dopt-check"));
    for hook in hooks {
        let entry = hook["entry"].as_str().unwrap();
        let mut words = entry.split_whitespace();
        assert_eq!(words.next(), Some("dopt"));
        let sub = words.next().unwrap();
        let help = Command::new(env!("CARGO_BIN_EXE_dopt"))
            .args([sub, "--help"])
            .output()
            .unwrap();
        assert!(help.status.success(), "{entry}");
        let files = regex::Regex::new(hook["files"].as_str().unwrap()).unwrap();
        let exclude = regex::Regex::new(hook["exclude"].as_str().unwrap()).unwrap();
        // pre-commit matches the path relative to the repository with re.search.
        for path in [
            "Dockerfile",
            "svc/Dockerfile",
            "svc/Dockerfile.prod",
            "api.Dockerfile",
            "docker/x.dockerfile",
            "Containerfile",
            "svc/Dockerfile.dockerignore",
            "README.md",
            "Dockerfiles/notes.txt",
            "my-Dockerfile-notes.md",
        ] {
            let name = path.rsplit('/').next().unwrap();
            let hooked = files.is_match(path) && !exclude.is_match(path);
            assert_eq!(
                hooked,
                dopt::discover::is_dockerfile_name(name),
                "{} {path}",
                hook["id"].as_str().unwrap()
            );
        }
    }
}

#[test]
fn action_bench_step_runs_dopt_bench_and_reports_errors() {
    let action = yaml("action.yml");
    let bench = &action["runs"]["steps"][2];
    assert_eq!(bench["if"], "inputs.bench != ''");
    // A case folder with a broken case.yaml: dopt bench's exit 2 is the step's.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("cases/x")).unwrap();
    std::fs::write(dir.path().join("cases/x/case.yaml"), "nope: 1\n").unwrap();
    let run = run_step("dopt bench", &[("bench", "cases")], dir.path());
    assert_eq!(run.status, Some(2), "{}", run.stdout);
    assert!(run.output.contains("bench-json="), "{}", run.output);
}
