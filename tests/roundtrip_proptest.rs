//! Property tests: the parser never panics, and every accepted input prints back
//! byte for byte with all spans inside the source.

use std::fs;
use std::path::Path;
use std::sync::OnceLock;

use dopt::syntax;
use proptest::prelude::*;

/// Checks the invariants for one input.
fn check(text: &str) {
    match syntax::parse(text) {
        Ok(df) => {
            assert_eq!(df.print(), text);
            let mut at = 0;
            for item in &df.items {
                assert_eq!(item.span.start, at, "items tile the source");
                at = item.span.end;
            }
            assert_eq!(at, text.len());
            for inst in &df.instructions {
                for span in [inst.span, inst.keyword_span, inst.args_span] {
                    assert!(span.end <= text.len());
                    assert!(text.is_char_boundary(span.start));
                    assert!(text.is_char_boundary(span.end));
                }
                // Every logical char maps to the same char in the source.
                for (i, c) in inst.logical.text.char_indices() {
                    let src = inst.logical.map(i);
                    assert_eq!(text[src..].chars().next(), Some(c));
                }
            }
            let _ = syntax::dump::buildkit_dump(&df);
        }
        Err(e) => {
            assert!(e.span.start <= e.span.end && e.span.end <= text.len());
            let rendered = e.render("Dockerfile", text, false);
            assert!(rendered.starts_with("Dockerfile:"));
        }
    }
}

/// Dockerfile-flavoured tokens, so random inputs hit the interesting paths.
fn token() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "FROM ",
        "RUN ",
        "run ",
        "COPY ",
        "ADD ",
        "ENV ",
        "ARG ",
        "LABEL ",
        "CMD ",
        "ENTRYPOINT ",
        "HEALTHCHECK ",
        "ONBUILD ",
        "SHELL ",
        "USER ",
        "WORKDIR ",
        "EXPOSE ",
        "VOLUME ",
        "STOPSIGNAL ",
        "MAINTAINER ",
        "AS ",
        "NONE",
        "# escape=`\n",
        "# syntax=x\n",
        "# c\n",
        "#",
        " ",
        "\t",
        "\\",
        "\\\\",
        "`",
        "\n",
        "\r\n",
        "\r",
        "<<EOF",
        "<<-EOF",
        "3<<'E'",
        "EOF\n",
        "\tEOF\n",
        "\"",
        "'",
        "[",
        "]",
        "[\"a\", \"b\"]",
        ",",
        "=",
        "--mount=type=cache ",
        "--",
        "a",
        "b=c",
        "$X",
        "${Y:-z}",
        "é",
        "\u{FEFF}",
        "\u{A0}",
        "\u{2028}",
        "\0",
        "[[\"x\"]]",
        // Long runs of vertical tabs once crashed the error renderer (fuzzing).
        "\u{0B}\u{0B}\u{0B}\u{0B}\u{0B}\u{0B}\u{0B}\u{0B}\u{0B}\u{0B}\u{0B}\u{0B}\u{0B}\u{0B}\u{0B}\u{0B}",
        "-o",
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    ])
}

fn corpus_files() -> &'static Vec<String> {
    static FILES: OnceLock<Vec<String>> = OnceLock::new();
    FILES.get_or_init(|| {
        let dir = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/corpus/real"
        ));
        let mut paths: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        paths.sort();
        paths
            .into_iter()
            .filter_map(|p| fs::read_to_string(p).ok())
            .collect()
    })
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_never_panic(text in any::<String>()) {
        check(&text);
    }

    #[test]
    fn token_soup_never_panics_and_round_trips(tokens in prop::collection::vec(token(), 0..40)) {
        check(&tokens.concat());
    }

    #[test]
    fn mutated_corpus_snippets(
        file in 0usize..152,
        start in any::<prop::sample::Index>(),
        len in 0usize..600,
        edits in prop::collection::vec((any::<prop::sample::Index>(), token(), 0usize..4), 0..6),
    ) {
        let files = corpus_files();
        let source = &files[file % files.len()];
        let a = floor_boundary(source, start.index(source.len().max(1)));
        let b = floor_boundary(source, a + len);
        let mut text = source[a..b].to_string();
        for (at, tok, delete) in edits {
            let i = floor_boundary(&text, at.index(text.len().max(1)));
            let j = floor_boundary(&text, i + delete);
            text.replace_range(i..j, tok);
        }
        check(&text);
    }
}

#[test]
fn whole_corpus_files_with_crlf_round_trip() {
    for text in corpus_files() {
        let crlf = text.replace('\n', "\r\n");
        check(&crlf);
    }
}
