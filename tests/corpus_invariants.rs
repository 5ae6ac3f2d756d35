//! Invariants of the whole pipeline over every real-world Dockerfile of
//! `../shared/corpus/real` and every fixture, with safe fixes and with unsafe ones:
//! no panic, the output parses, fixes converge within the cap, a second run
//! changes nothing (idempotence), comments survive, and the file's BOM and CRLF
//! line endings are kept. (Untouched bytes stay identical by construction: fixes
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
    Ok(outcome.applied.len())
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
