//! GitLab Code Quality reports (`dopt check --format gitlab`): the JSON array
//! GitLab reads from a job's `artifacts: reports: codequality:` file and shows
//! in merge requests.
//!
//! Each entry has `description`, `check_name`, `fingerprint`, `severity` and
//! `location` (`path` relative to the repository, `lines.begin`). The
//! fingerprint is stable across runs and line moves: a hash of the path, the
//! rule, the message and the how-manieth identical finding in that file it is,
//! so GitLab can tell new findings from old ones. Files that could not be
//! processed are `blocker` entries with the check name `dopt-error`.

use super::findings::{flatten, FileError, FileFindings};
use serde::Serialize;
use std::collections::HashMap;

#[derive(Serialize)]
struct Issue<'a> {
    description: &'a str,
    check_name: String,
    fingerprint: String,
    severity: &'static str,
    location: Location,
}

#[derive(Serialize)]
struct Location {
    path: String,
    lines: Lines,
}

#[derive(Serialize)]
struct Lines {
    begin: usize,
}

/// The Code Quality report of `files` and `errors`.
pub fn gitlab(files: &[FileFindings], errors: &[FileError]) -> String {
    let mut seen: HashMap<(String, String, String), usize> = HashMap::new();
    let mut fingerprint = |path: &str, check: &str, message: &str| {
        let key = (path.to_string(), check.to_string(), message.to_string());
        let n = seen.entry(key).or_default();
        *n += 1;
        let text = format!("{path}\0{check}\0{message}\0{n}");
        format!("{:016x}{:016x}", fnv1a(&text, 0), fnv1a(&text, 1))
    };
    let mut issues = Vec::new();
    for f in flatten(files) {
        let path = repo_path(f.path);
        let check_name = format!("{} {}", f.code, f.name);
        issues.push(Issue {
            description: f.message,
            fingerprint: fingerprint(&path, &check_name, f.message),
            check_name,
            severity: "minor",
            location: Location {
                path,
                lines: Lines { begin: f.line },
            },
        });
    }
    for e in errors {
        let path = repo_path(&e.path);
        issues.push(Issue {
            description: &e.message,
            fingerprint: fingerprint(&path, "dopt-error", &e.message),
            check_name: "dopt-error".into(),
            severity: "blocker",
            location: Location {
                path,
                lines: Lines { begin: e.line },
            },
        });
    }
    serde_json::to_string_pretty(&issues).expect("report serializes") + "\n"
}

/// GitLab wants paths relative to the repository root: a leading `./` goes.
fn repo_path(path: &str) -> String {
    let mut p = path;
    while let Some(rest) = p.strip_prefix("./") {
        p = rest;
    }
    p.to_string()
}

/// 64-bit FNV-1a of `text`, seeded: stable across Rust versions and runs
/// (unlike `DefaultHasher`).
fn fnv1a(text: &str, seed: u64) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325_u64 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for b in text.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::Finding;
    use crate::syntax::Span;

    fn finding(message: &str, at: usize) -> Finding {
        Finding {
            code: "DOP023",
            name: "latest-tag",
            message: message.into(),
            span: Span::new(at, at + 1),
            fix: None,
        }
    }

    #[test]
    fn report_shape_and_stable_fingerprints() {
        let source = "FROM a\nFROM a\n";
        let findings = [finding("pin a", 5), finding("pin a", 12)];
        let files = [FileFindings {
            path: "./Dockerfile",
            source,
            findings: &findings,
        }];
        let errors = [FileError {
            path: "x/Dockerfile".into(),
            line: 3,
            column: 1,
            message: "unknown instruction: FOO".into(),
        }];
        let report: serde_json::Value = serde_json::from_str(&gitlab(&files, &errors)).unwrap();
        let issues = report.as_array().unwrap();
        assert_eq!(issues.len(), 3);
        assert_eq!(issues[0]["check_name"], "DOP023 latest-tag");
        assert_eq!(issues[0]["severity"], "minor");
        assert_eq!(issues[0]["location"]["path"], "Dockerfile");
        assert_eq!(issues[1]["location"]["lines"]["begin"], 2);
        assert_eq!(issues[2]["severity"], "blocker");
        // Two identical findings differ; a run with the lines moved keeps them.
        assert_ne!(issues[0]["fingerprint"], issues[1]["fingerprint"]);
        let moved = "\nFROM a\nFROM a\n";
        let findings2 = [finding("pin a", 6), finding("pin a", 13)];
        let files2 = [FileFindings {
            path: "Dockerfile",
            source: moved,
            findings: &findings2,
        }];
        let again: serde_json::Value = serde_json::from_str(&gitlab(&files2, &[])).unwrap();
        assert_eq!(again[0]["fingerprint"], issues[0]["fingerprint"]);
        assert_eq!(again[0]["location"]["lines"]["begin"], 2);
    }
}
