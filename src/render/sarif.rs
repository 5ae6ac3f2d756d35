//! SARIF 2.1.0 logs for code scanning (`dopt check --format sarif`).
//!
//! Written to pass Microsoft's SARIF validator (`Sarif.Multitool validate`)
//! without errors:
//! - an artifact location is a URI: a relative path as a relative reference
//!   (forward slashes, percent-encoded), an absolute path as a `file://` URI
//!   (a relative reference that begins with a slash is error SARIF1004);
//! - every rule in `tool.driver.rules` has its short and full description, its
//!   help (the rule's documentation as text and Markdown), its default level,
//!   and a help URI when the package names its repository;
//! - files that could not be processed are error notifications of the
//!   invocation, which then is not successful.

use super::findings::{flatten, FileError, FileFindings};
use crate::passes::Pass;

/// The repository named in Cargo.toml (`repository`), empty when none.
const REPOSITORY: &str = env!("CARGO_PKG_REPOSITORY");

/// Where dopt comes from: the tool's `informationUri` and the base of each
/// rule's `helpUri`. `DOPT_HOMEPAGE` at run time (the GitHub Action sets it
/// to the repository it installed dopt from), else `DOPT_HOMEPAGE` when dopt
/// was built, else Cargo.toml's `repository`; empty when none is known (the
/// validator then warns SARIF2005). Only an `http(s)://` URL counts.
fn homepage() -> String {
    let valid = |u: &str| {
        let u = u.trim().trim_end_matches('/');
        ((u.starts_with("https://") || u.starts_with("http://"))
            && u.len() > "https://".len()
            && !u.contains(char::is_whitespace))
        .then(|| u.to_string())
    };
    std::env::var("DOPT_HOMEPAGE")
        .ok()
        .and_then(|u| valid(&u))
        .or_else(|| option_env!("DOPT_HOMEPAGE").and_then(valid))
        .or_else(|| valid(REPOSITORY))
        .unwrap_or_default()
}

/// The SARIF log of `files` and `errors`, with every pass of `passes` as a rule.
pub fn sarif(files: &[FileFindings], errors: &[FileError], passes: &[Box<dyn Pass>]) -> String {
    let home = homepage();
    let repository = home.as_str();
    let rules: Vec<serde_json::Value> = passes
        .iter()
        .map(|p| {
            let mut rule = serde_json::json!({
                "id": p.code(),
                "name": p.name(),
                "shortDescription": { "text": p.summary() },
                "fullDescription": { "text": p.summary() },
                "help": { "text": p.docs(), "markdown": p.docs() },
                "defaultConfiguration": { "level": "warning" },
                "properties": { "tags": p.related() },
            });
            if !repository.is_empty() {
                rule["helpUri"] = serde_json::json!(format!(
                    "{repository}/blob/main/docs/rules.md#{}",
                    p.code().to_ascii_lowercase()
                ));
            }
            rule
        })
        .collect();
    let results: Vec<serde_json::Value> = flatten(files)
        .iter()
        .map(|f| {
            serde_json::json!({
                "ruleId": f.code,
                "level": "warning",
                "message": { "text": f.message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": artifact_uri(f.path) },
                        "region": {
                            "startLine": f.line,
                            "startColumn": f.column,
                            "endLine": f.end_line,
                            "endColumn": f.end_column,
                        }
                    }
                }],
                "properties": { "fix": f.fix },
            })
        })
        .collect();
    let notifications: Vec<serde_json::Value> = errors
        .iter()
        .map(|e| {
            serde_json::json!({
                "level": "error",
                "message": { "text": e.message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": artifact_uri(&e.path) },
                        "region": { "startLine": e.line, "startColumn": e.column }
                    }
                }],
            })
        })
        .collect();
    let mut driver = serde_json::json!({
        "name": "dopt",
        "version": env!("CARGO_PKG_VERSION"),
        "semanticVersion": env!("CARGO_PKG_VERSION"),
        "rules": rules,
    });
    if !repository.is_empty() {
        driver["informationUri"] = serde_json::json!(repository);
    }
    let log = serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": driver },
            "invocations": [{
                "executionSuccessful": errors.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }]
    });
    serde_json::to_string_pretty(&log).expect("sarif serializes") + "\n"
}

/// A path as a SARIF artifact URI: `file:///abs/path` for an absolute path, a
/// relative reference (`src/Dockerfile`) otherwise; backslashes become slashes,
/// a leading `./` goes, and bytes outside the URI's unreserved set and `/` are
/// percent-encoded. Stdin (`-`) stays `-`.
pub fn artifact_uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let mut rel = path.as_str();
    while let Some(rest) = rel.strip_prefix("./") {
        rel = rest;
    }
    let encoded = percent_encode(rel);
    if rel.starts_with('/') {
        format!("file://{encoded}")
    } else {
        encoded
    }
}

fn percent_encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifact_uris() {
        assert_eq!(artifact_uri("Dockerfile"), "Dockerfile");
        assert_eq!(artifact_uri("./app/Dockerfile"), "app/Dockerfile");
        assert_eq!(
            artifact_uri("/tmp/x/Dockerfile"),
            "file:///tmp/x/Dockerfile"
        );
        assert_eq!(artifact_uri("my app/Docker file"), "my%20app/Docker%20file");
        assert_eq!(artifact_uri("/a/ü#1"), "file:///a/%C3%BC%231");
        assert_eq!(artifact_uri("dir\\Dockerfile"), "dir/Dockerfile");
        assert_eq!(artifact_uri("-"), "-");
    }

    #[test]
    fn rules_have_metadata_and_locations_are_uris() {
        let source = "FROM alpine\n";
        let file = crate::syntax::parse(source).unwrap();
        let profiles = crate::profiles::Profiles::embedded();
        let options = serde_yaml::Mapping::new();
        let ctx = crate::passes::PassContext::new(&file, &profiles, None, &options);
        let findings: Vec<_> = crate::passes::all()
            .iter()
            .flat_map(|p| p.run(&ctx))
            .collect();
        assert!(!findings.is_empty());
        let files = [FileFindings {
            path: "/abs/Dockerfile",
            source,
            findings: &findings,
        }];
        let errors = [FileError {
            path: "./bad Dockerfile".into(),
            line: 2,
            column: 1,
            message: "unknown instruction: FOO".into(),
        }];
        let log: serde_json::Value =
            serde_json::from_str(&sarif(&files, &errors, &crate::passes::all())).unwrap();
        let run = &log["runs"][0];
        for rule in run["tool"]["driver"]["rules"].as_array().unwrap() {
            assert_eq!(rule["defaultConfiguration"]["level"], "warning");
            assert!(rule["help"]["markdown"]
                .as_str()
                .unwrap()
                .contains("## What it does"));
        }
        let uri = &run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(uri["uri"], "file:///abs/Dockerfile");
        assert!(uri.get("uriBaseId").is_none());
        let note = &run["invocations"][0]["toolExecutionNotifications"][0];
        assert_eq!(
            note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "bad%20Dockerfile"
        );
        assert_eq!(run["invocations"][0]["executionSuccessful"], false);
    }
}
