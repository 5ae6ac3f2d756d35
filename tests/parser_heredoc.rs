//! Heredocs (`../shared/corpus/parser/buildkit-heredoc`) and line spans
//! (`buildkit-lines`).

use std::fs;
use std::path::{Path, PathBuf};

use dopt::syntax::{self, InstructionKind};
use serde_json::Value;

fn corpus() -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/corpus/parser"
    ))
    .to_path_buf()
}

fn check_expected_heredocs(case: &str) -> usize {
    let dir = corpus().join("buildkit-heredoc").join(case);
    let mut text = fs::read_to_string(dir.join("Dockerfile")).unwrap();
    if text.contains("\nUSER <<INVALID\nINVALID\n") {
        // `USER` cannot take a heredoc, so the next line is an instruction of
        // its own. BuildKit's parser keeps the unknown `INVALID` (its builder
        // rejects it later); dopt rejects it at once, at the right place.
        let err = syntax::parse(&text).unwrap_err();
        assert_eq!(err.message, "unknown instruction: INVALID");
        assert_eq!(err.line_col(&text), (9, 1));
        // Make it a valid instruction and check everything else.
        text = text.replace(
            "\nUSER <<INVALID\nINVALID\n",
            "\nUSER <<INVALID\nUSER INVALID\n",
        );
    }
    let expected: Value =
        serde_json::from_str(&fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let df = syntax::parse(&text).unwrap_or_else(|e| panic!("{}", e.render(case, &text, false)));
    assert_eq!(df.print(), text);
    let mut checked = 0;
    for child in expected["children"].as_array().unwrap() {
        let index = child["child"].as_u64().unwrap() as usize;
        let inst = &df.instructions[index];
        let first_line = match child["first_line"].as_str().unwrap() {
            "INVALID" => "USER INVALID",
            other => other,
        };
        let inst_text = &text[inst.span.range()];
        assert!(
            inst_text.starts_with(first_line),
            "{case} child {index}: {inst_text:?} does not start with {first_line:?}"
        );
        let want: Vec<Value> = child["heredocs"].as_array().cloned().unwrap_or_default();
        assert_eq!(
            inst.heredocs.len(),
            want.len(),
            "{case} child {index} ({first_line}): {:?}",
            inst.heredocs
        );
        for (got, want) in inst.heredocs.iter().zip(&want) {
            assert_eq!(got.name, want["name"].as_str().unwrap(), "{case} {index}");
            assert_eq!(
                got.content,
                want["content"].as_str().unwrap(),
                "{case} {index}"
            );
            assert_eq!(
                got.expand,
                want["expand"].as_bool().unwrap(),
                "{case} {index}"
            );
            assert_eq!(
                got.chomp,
                want["chomp"].as_bool().unwrap(),
                "{case} {index}"
            );
            assert_eq!(
                u64::from(got.file_descriptor),
                want["fd"].as_u64().unwrap(),
                "{case} {index}"
            );
            // The body span holds the content followed by the terminator line.
            let body = &text[got.body_span.range()];
            assert!(body.starts_with(&got.content), "{case} {index}");
        }
        checked += 1;
    }
    checked
}

#[test]
fn parse_extracts_heredoc() {
    assert_eq!(check_expected_heredocs("parse-extracts-heredoc"), 27);
}

#[test]
fn json_form_never_starts_a_heredoc() {
    assert_eq!(check_expected_heredocs("parse-json-heredoc"), 3);
}

/// For the buildable heredoc cases, every `COPY <<NAME dest` whose destination
/// is one of the expected files must carry exactly that file's content.
#[test]
fn buildable_heredoc_cases_keep_bodies_intact() {
    let mut compared = 0;
    for entry in fs::read_dir(corpus().join("buildkit-heredoc")).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.join("expected-files.json").exists() {
            continue;
        }
        let case = dir.file_name().unwrap().to_string_lossy().to_string();
        let text = fs::read_to_string(dir.join("Dockerfile")).unwrap();
        let df =
            syntax::parse(&text).unwrap_or_else(|e| panic!("{}", e.render(&case, &text, false)));
        assert_eq!(df.print(), text, "{case}");
        let expected: Value =
            serde_json::from_str(&fs::read_to_string(dir.join("expected-files.json")).unwrap())
                .unwrap();
        let files = expected["files"].as_object().unwrap();
        let mut workdir = String::from("/");
        for inst in &df.instructions {
            if let InstructionKind::Workdir(w) = &inst.kind {
                workdir = format!("{}/", w.value.trim_end_matches('/'));
            }
            let InstructionKind::Copy(args) = &inst.kind else {
                continue;
            };
            if args.sources.len() != 1 || inst.heredocs.len() != 1 || inst.flag("from").is_some() {
                continue;
            }
            let dest = if args.dest.value.starts_with('/') {
                args.dest.value.clone()
            } else {
                format!("{workdir}{}", args.dest.value)
            };
            let key = dest
                .trim_start_matches("/dest/")
                .trim_start_matches('/')
                .to_string();
            let heredoc = &inst.heredocs[0];
            if heredoc.expand && heredoc.content.contains(['$', '\\']) {
                continue; // expanded at build time
            }
            if let Some(want) = files.get(&key) {
                assert_eq!(
                    inst.heredocs[0].chomped_content(),
                    want.as_str().unwrap(),
                    "{case}: {key}"
                );
                compared += 1;
            }
        }
    }
    assert!(compared >= 3, "only {compared} COPY heredocs compared");
}

#[test]
fn line_spans_match_buildkit() {
    let dir = corpus().join("buildkit-lines/testfile-line");
    let text = fs::read_to_string(dir.join("Dockerfile")).unwrap();
    let expected: Value =
        serde_json::from_str(&fs::read_to_string(dir.join("expected-lines.json")).unwrap())
            .unwrap();
    let df = syntax::parse(&text).unwrap();
    let got: Vec<[usize; 2]> = df
        .instructions
        .iter()
        .map(|i| [i.start_line, i.end_line])
        .collect();
    let want: Vec<[usize; 2]> = serde_json::from_value(expected["children"].clone()).unwrap();
    assert_eq!(got, want);
    let root: [usize; 2] = serde_json::from_value(expected["root"].clone()).unwrap();
    assert_eq!(
        [got[0][0], got.last().unwrap()[1]],
        root,
        "root span = first start .. last end"
    );
}
