//! Conformance against BuildKit's own parser tests (`../shared/corpus/parser`).

use std::fs;
use std::path::{Path, PathBuf};

use dopt::syntax::{self, dump::buildkit_dump};

fn corpus() -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/corpus/parser"
    ))
    .to_path_buf()
}

fn case_dirs(set: &str) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(corpus().join(set))
        .unwrap_or_else(|e| panic!("corpus set {set}: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn buildkit_dumps_match_byte_for_byte() {
    let mut failures = Vec::new();
    let dirs = case_dirs("buildkit");
    assert_eq!(dirs.len(), 33, "expected 33 BuildKit cases");
    for dir in &dirs {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let bytes = fs::read(dir.join("Dockerfile")).unwrap();
        let expected = fs::read_to_string(dir.join("result")).unwrap();
        let (text, _) = syntax::decode(&bytes).unwrap();
        match syntax::parse(&text) {
            Ok(df) => {
                assert_eq!(df.print(), text, "{name}: round trip");
                let got = buildkit_dump(&df);
                if got != expected {
                    failures.push(format!("{name}:\n--- expected\n{expected}--- got\n{got}"));
                }
            }
            Err(e) => failures.push(format!("{name}: error {}", e.render(&name, &text, false))),
        }
    }
    assert!(
        failures.is_empty(),
        "{}/{} cases failed:\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n")
    );
}

#[test]
fn negative_cases_are_rejected() {
    for dir in case_dirs("buildkit-negative") {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let bytes = fs::read(dir.join("Dockerfile")).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        let err = syntax::parse(&text).expect_err(&name);
        let rendered = err.render("Dockerfile", &text, false);
        assert!(rendered.starts_with("Dockerfile:"), "{name}: {rendered}");
        let expected_words = match name.as_str() {
            "empty_dockerfile" => "empty",
            "only_comments" => "no instructions",
            "env_no_value" => "ENV must have two arguments",
            "shykes-nested-json" => "strings only",
            other => panic!("unexpected negative case {other}"),
        };
        assert!(
            err.message.contains(expected_words),
            "{name}: {}",
            err.message
        );
    }
}
