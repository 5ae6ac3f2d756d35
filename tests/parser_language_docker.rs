//! The language-docker fixtures, per `language-docker-expectations.tsv`.

use std::fs;
use std::path::Path;

use dopt::syntax::{self, InstructionKind, SourceEncoding};

fn dir() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/corpus/parser/language-docker"
    ))
}

fn parse_ok(name: &str, text: &str) -> syntax::Dockerfile {
    let df = syntax::parse(text).unwrap_or_else(|e| panic!("{}", e.render(name, text, false)));
    assert_eq!(df.print(), text, "{name}: round trip");
    df
}

#[test]
fn every_fixture_meets_its_expectation() {
    let tsv = fs::read_to_string(dir().join("../language-docker-expectations.tsv")).unwrap();
    let mut checked = 0;
    for line in tsv.lines().skip(1) {
        let (file, expectation) = line.split_once('\t').unwrap();
        let bytes = fs::read(dir().join(file)).unwrap();
        let (text, encoding) = syntax::decode(&bytes).unwrap();
        let df = parse_ok(file, &text);
        if expectation.contains("LF is replaced by CRLF") {
            let crlf = text.replace('\n', "\r\n");
            let df2 = parse_ok(file, &crlf);
            // Same logical content with either line ending.
            assert_eq!(
                syntax::dump::buildkit_dump(&df),
                syntax::dump::buildkit_dump(&df2),
                "{file}: CRLF changes the parse"
            );
        }
        if expectation.contains("byte for byte") {
            assert_eq!(df.print().as_bytes(), bytes.as_slice(), "{file}");
        }
        match file {
            "6.Dockerfile" => {
                assert_eq!(df.escape, '`');
                assert_eq!(df.instructions[0].logical.text, "cmd a  && cmd b");
            }
            "7.Dockerfile" => {
                assert_eq!(df.escape, '\\');
                assert_eq!(df.instructions[1].logical.text, "cmd a  && cmd b");
            }
            "8.Dockerfile" => {
                // The escape directive after FROM is an ordinary comment.
                assert_eq!(df.escape, '\\');
                assert!(df.directives.is_empty());
                assert_eq!(df.instructions[1].logical.text, "cmd a  && cmd b");
            }
            _ => {}
        }
        if file.starts_with("Dockerfile.bom.") {
            let want = match file.rsplit('.').next().unwrap() {
                "utf8" => SourceEncoding::Utf8,
                "utf16le" => SourceEncoding::Utf16Le,
                "utf16be" => SourceEncoding::Utf16Be,
                "utf32le" => SourceEncoding::Utf32Le,
                "utf32be" => SourceEncoding::Utf32Be,
                other => panic!("{other}"),
            };
            assert_eq!(encoding, want, "{file}");
            let summary: Vec<String> = df
                .instructions
                .iter()
                .map(|i| format!("{} {}", i.keyword, i.logical.text))
                .collect();
            assert_eq!(
                summary,
                ["FROM debian:11", "USER root", "RUN foo bar"],
                "{file}"
            );
            // Re-encoding gives back the original bytes.
            assert_eq!(syntax::encode(&text, encoding), bytes, "{file}");
        }
        checked += 1;
    }
    assert_eq!(checked, 13);
}

#[test]
fn env_edge_cases_of_fixture_1() {
    let text = fs::read_to_string(dir().join("1.Dockerfile")).unwrap();
    let df = parse_ok("1.Dockerfile", &text);
    let envs: Vec<Vec<(String, String)>> = df
        .instructions
        .iter()
        .filter_map(|i| match &i.kind {
            InstructionKind::Env(kvs) => Some(
                kvs.iter()
                    .map(|kv| (kv.key.clone(), kv.value.clone()))
                    .collect(),
            ),
            _ => None,
        })
        .collect();
    assert_eq!(
        envs[0],
        [
            ("container".to_string(), "false".to_string()),
            ("container2".to_string(), "true".to_string())
        ]
    );
    assert_eq!(envs[2], [("X".to_string(), "\"Y\" Z".to_string())]);
}
