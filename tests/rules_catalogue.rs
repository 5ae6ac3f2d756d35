//! The pass catalogue: every pass is documented ruff-style, codes and names are
//! unique and stable in shape, and `docs/rules.md` (the catalogue with the
//! corresponding hadolint / BuildKit rules) is up to date.
//! Regenerate it with `cargo run -- rules --format markdown > docs/rules.md`.

use std::collections::HashSet;

#[test]
fn every_pass_is_documented_and_uniquely_named() {
    let passes = dopt::passes::all();
    let mut codes = HashSet::new();
    let mut names = HashSet::new();
    for p in &passes {
        assert!(codes.insert(p.code()), "duplicate code {}", p.code());
        assert!(names.insert(p.name()), "duplicate name {}", p.name());
        assert!(
            p.code().len() == 6
                && p.code().starts_with("DOP")
                && p.code()[3..].chars().all(|c| c.is_ascii_digit()),
            "code {} is not DOPnnn",
            p.code()
        );
        assert!(
            p.name().chars().all(|c| c.is_ascii_lowercase() || c == '-'),
            "name {} is not kebab-case",
            p.name()
        );
        for section in ["What it does", "Why is this bad?", "Example", "Fix safety"] {
            assert!(
                p.docs().contains(section),
                "{} docs lack `{section}`",
                p.name()
            );
        }
        assert!(!p.summary().is_empty());
    }
}

#[test]
fn docs_rules_md_is_up_to_date() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rules.md");
    let expected = dopt::render::rules::markdown(&dopt::passes::all());
    let actual = std::fs::read_to_string(path).unwrap_or_default();
    assert_eq!(
        actual, expected,
        "docs/rules.md is stale: run `cargo run -- rules --format markdown > docs/rules.md`"
    );
}
