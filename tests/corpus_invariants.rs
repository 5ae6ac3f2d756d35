//! Invariants of the whole pipeline over every real-world Dockerfile of
//! `../shared/corpus/real` and every fixture, with safe fixes and with unsafe ones:
//! no panic, the output parses, fixes converge within the cap, a second run
//! changes nothing (idempotence), comments survive, and the file's BOM and CRLF
//! line endings are kept. Safe mode also never moves a linter pragma onto another
//! instruction, never drops MAINTAINER and never adds `apt-get update &&` inside
//! a `set -e` script. (Untouched bytes stay identical by construction: fixes
//! are spliced into the original text, see `fix::apply`.)

mod common;

use std::path::PathBuf;

fn inputs() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(common::corpus().join("real"))
        .expect("../shared/corpus/real is present")
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 152, "the real corpus has 152 files");
    files
}

/// Comment lines (outside heredocs, roughly) of a text, trimmed.
fn comment_lines(text: &str) -> Vec<&str> {
    text.lines()
        .map(str::trim)
        .filter(|l| l.starts_with('#') && l.len() > 1)
        .collect()
}

fn check_file(path: &PathBuf, unsafe_fixes: bool) -> Result<usize, String> {
    let bytes = std::fs::read(path).unwrap();
    let Ok((source, _)) = dopt::syntax::decode(&bytes) else {
        return Err(format!("{}: cannot decode", path.display()));
    };
    let runner = common::runner(&[], unsafe_fixes, None);
    let name = path.display();
    let outcome = runner
        .run(&source)
        .map_err(|e| format!("{name}: parse error: {e}"))?;
    if !outcome.converged {
        return Err(format!("{name}: fixes did not converge"));
    }
    if !outcome.rejected.is_empty() {
        return Err(format!(
            "{name}: fixes produced unparsable output: {:?}",
            outcome.rejected
        ));
    }
    let again = runner
        .run(&outcome.fixed)
        .map_err(|e| format!("{name}: output does not parse: {e}"))?;
    if !again.applied.is_empty() {
        return Err(format!(
            "{name}: not idempotent (unsafe={unsafe_fixes}); second run applied {:?}\n{}",
            again.applied.iter().map(|a| a.code).collect::<Vec<_>>(),
            dopt::render::diff::unified(&outcome.fixed, &again.fixed, "first", "second")
        ));
    }
    // Every comment line of the original is still there (multiset inclusion).
    let mut after = comment_lines(&outcome.fixed);
    for c in comment_lines(&source) {
        match after.iter().position(|a| *a == c) {
            Some(i) => {
                after.swap_remove(i);
            }
            None => return Err(format!("{name}: comment lost: {c}")),
        }
    }
    // The file's own conventions survive: BOM, and CRLF line endings
    // (a CRLF file gets no bare LF from a fix).
    if source.starts_with('\u{feff}') != outcome.fixed.starts_with('\u{feff}') {
        return Err(format!("{name}: byte order mark changed"));
    }
    let bare_lf = |t: &str| {
        t.match_indices('\n')
            .filter(|(i, _)| *i == 0 || t.as_bytes()[i - 1] != b'\r')
            .count()
    };
    if bare_lf(&source) == 0 && source.contains("\r\n") && bare_lf(&outcome.fixed) > 0 {
        return Err(format!(
            "{name}: a fix inserted LF line endings into a CRLF file"
        ));
    }
    if !unsafe_fixes {
        safe_mode_invariants(&source, &outcome.fixed).map_err(|e| format!("{name}: {e}"))?;
    }
    Ok(outcome.applied.len())
}

/// A linter pragma comment (it belongs to the instruction under it).
fn is_pragma(line: &str) -> bool {
    let body = line
        .trim()
        .trim_start_matches('#')
        .trim()
        .to_ascii_lowercase();
    [
        "hadolint ignore",
        "dopt ignore",
        "tally ignore",
        "check=skip",
    ]
    .iter()
    .any(|p| body.starts_with(p))
}

/// For each pragma comment line, in order: the first line of the instruction
/// under it (skipping other comments and blank lines).
fn pragma_targets(text: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if !is_pragma(line) {
            continue;
        }
        let next = lines[i + 1..]
            .iter()
            .map(|l| l.trim())
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .unwrap_or_default();
        out.push((line.trim().to_string(), next.to_string()));
    }
    out
}

/// Count of `apt-get update &&` / `apt update &&` in RUNs that turn on `set -e`.
fn updates_chained_under_set_e(text: &str) -> usize {
    let Ok(file) = dopt::syntax::parse(text) else {
        return 0;
    };
    file.instructions
        .iter()
        .filter(|i| i.name() == "run")
        .map(|i| i.logical.text.as_str())
        .filter(|t| {
            t.split([';', '&', '|', '\n']).map(str::trim).any(|c| {
                let mut w = c.split_whitespace();
                w.next() == Some("set")
                    && w.any(|f| {
                        (f.starts_with('-') && !f.starts_with("--") && f.contains('e'))
                            || f == "errexit"
                    })
            })
        })
        .map(|t| t.matches("apt-get update &&").count() + t.matches("apt update &&").count())
        .sum()
}

/// What safe mode must never do: move a pragma onto another instruction, drop
/// MAINTAINER (the image's Author field), or add `apt-get update &&` inside a
/// `set -e` script (a failed update would silently skip the install).
fn safe_mode_invariants(source: &str, fixed: &str) -> Result<(), String> {
    let before = pragma_targets(source);
    let after = pragma_targets(fixed);
    if before.len() != after.len() {
        return Err(format!("pragma comments changed: {before:?} -> {after:?}"));
    }
    for ((pragma, was), (_, now)) in before.iter().zip(&after) {
        // Fixes may insert words into the instruction under the pragma, but its
        // first line keeps its keyword and every word it had.
        let words = |l: &str| {
            l.split_whitespace()
                .filter(|w| *w != "\\" && *w != "`")
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        let (was_w, now_w) = (words(was), words(now));
        let same_keyword = was_w.first().map(|k| k.to_ascii_lowercase())
            == now_w.first().map(|k| k.to_ascii_lowercase());
        if !same_keyword || !was_w.iter().all(|w| now_w.contains(w)) {
            return Err(format!(
                "pragma `{pragma}` moved: it was above `{was}`, now above `{now}`"
            ));
        }
    }
    let maintainers = |t: &str| {
        t.lines()
            .filter(|l| {
                l.trim_start()
                    .to_ascii_lowercase()
                    .starts_with("maintainer ")
            })
            .count()
    };
    if maintainers(fixed) != maintainers(source) {
        return Err("safe mode dropped a MAINTAINER (the image's Author field)".into());
    }
    if updates_chained_under_set_e(fixed) > updates_chained_under_set_e(source) {
        return Err("safe mode added `apt-get update &&` inside a `set -e` script".into());
    }
    Ok(())
}

#[test]
fn safe_mode_invariants_catch_what_they_should() {
    assert!(safe_mode_invariants(
        "FROM a\nRUN x\n# hadolint ignore=DL3008\nRUN y\n",
        "FROM a\n# hadolint ignore=DL3008\nRUN x && \\\n    y\n"
    )
    .is_err());
    assert!(safe_mode_invariants(
        "FROM a\n# hadolint ignore=DL3008\nRUN apt-get install y\n",
        "FROM a\n# hadolint ignore=DL3008\nRUN apt-get update && apt-get install -y y\n"
    )
    .is_ok());
    assert!(safe_mode_invariants("FROM a\nMAINTAINER me\n", "FROM a\nLABEL x=me\n").is_err());
    assert!(safe_mode_invariants(
        "FROM a\nRUN set -eux; apt-get install -y x\n",
        "FROM a\nRUN set -eux; apt-get update && apt-get install -y x\n"
    )
    .is_err());
    assert!(safe_mode_invariants(
        "FROM a\nRUN set -eux; apt-get install -y x\n",
        "FROM a\nRUN set -eux; apt-get update; apt-get install -y x\n"
    )
    .is_ok());
}

#[test]
fn real_corpus_invariants_safe_and_unsafe() {
    let mut failures = Vec::new();
    let mut applied = [0usize; 2];
    let mut changed = [0usize; 2];
    for path in inputs() {
        for (i, unsafe_fixes) in [false, true].into_iter().enumerate() {
            let result = std::panic::catch_unwind(|| check_file(&path, unsafe_fixes));
            match result {
                Ok(Ok(n)) => {
                    applied[i] += n;
                    changed[i] += (n > 0) as usize;
                }
                Ok(Err(e)) => failures.push(e),
                Err(_) => {
                    failures.push(format!("{}: PANIC (unsafe={unsafe_fixes})", path.display()))
                }
            }
        }
    }
    eprintln!(
        "real corpus: safe run changed {} files with {} fixes; unsafe run changed {} files with {} fixes",
        changed[0], applied[0], changed[1], applied[1]
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
