//! Splicing edits into the original text, and the fix-until-stable loop.
//!
//! Like rustfmt/taplo we never re-print what we did not change: the output is the
//! original text with each edit's span replaced by its content. Like ruff, fixes
//! are re-applied until nothing changes (with an iteration cap), and fixes whose
//! edits overlap are never applied in the same round: the later one is retried
//! on the next round, against the updated text.

use super::{Edit, Finding, Fix, Safety};
use crate::syntax::{self, Dockerfile, ParseError};

/// Applies non-overlapping edits to `source`. Edits may come in any order.
///
/// Panics in debug builds if two edits overlap (callers select a compatible set
/// first with [`select_compatible`]).
pub fn apply_edits(source: &str, edits: &[Edit]) -> String {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.span.start, e.span.end));
    let mut out = String::with_capacity(source.len() + 64);
    let mut cursor = 0;
    for edit in sorted {
        debug_assert!(edit.span.start >= cursor, "overlapping edits");
        let start = edit.span.start.max(cursor);
        out.push_str(&source[cursor..start]);
        out.push_str(&edit.content);
        cursor = edit.span.end.max(start);
    }
    out.push_str(&source[cursor..]);
    out
}

/// True if two edits cannot be applied together: their spans intersect, or both
/// insert at the same offset (the order of the insertions would be arbitrary), or
/// one inserts strictly inside the other's replaced range.
fn conflicts(a: &Edit, b: &Edit) -> bool {
    let (a, b) = (a.span, b.span);
    if a.is_empty() && b.is_empty() {
        return a.start == b.start;
    }
    if a.is_empty() {
        return a.start > b.start && a.start < b.end;
    }
    if b.is_empty() {
        return b.start > a.start && b.start < a.end;
    }
    a.start < b.end && b.start < a.end
}

/// Picks, in order, the fixes whose edits conflict with no fix picked before.
/// Returns the indices of the picked fixes.
pub fn select_compatible(fixes: &[&Fix]) -> Vec<usize> {
    let mut taken: Vec<&Edit> = Vec::new();
    let mut picked = Vec::new();
    for (i, fix) in fixes.iter().enumerate() {
        let clash = fix
            .edits
            .iter()
            .any(|e| taken.iter().any(|t| conflicts(e, t)))
            || fix
                .edits
                .iter()
                .enumerate()
                .any(|(j, e)| fix.edits[j + 1..].iter().any(|f| conflicts(e, f)));
        if !clash {
            taken.extend(fix.edits.iter());
            picked.push(i);
        }
    }
    picked
}

/// Options of the fix loop.
#[derive(Debug, Clone, Copy)]
pub struct FixOptions {
    /// Apply unsafe fixes too.
    pub unsafe_fixes: bool,
    /// Rounds of fixing before giving up on convergence.
    pub max_iterations: usize,
}

impl Default for FixOptions {
    fn default() -> Self {
        FixOptions {
            unsafe_fixes: false,
            max_iterations: 10,
        }
    }
}

impl FixOptions {
    fn allows(&self, fix: &Fix) -> bool {
        fix.safety == Safety::Safe || self.unsafe_fixes
    }
}

/// A fix that was applied, for the report.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AppliedFix {
    pub code: &'static str,
    pub name: &'static str,
    pub message: String,
    pub safety: Safety,
    /// 1-based round in which it was applied.
    pub round: usize,
}

/// What the fix loop produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The findings on the original text (what `check` reports).
    pub findings: Vec<Finding>,
    /// The text after all rounds.
    pub fixed: String,
    /// Fixes applied, in order.
    pub applied: Vec<AppliedFix>,
    /// Files the applied fixes create (path relative to the build context, content).
    pub new_files: Vec<(String, String)>,
    /// Rounds that changed the text.
    pub rounds: usize,
    /// False if the cap was hit while fixes were still changing the text.
    pub converged: bool,
    /// Fixes dropped because their output did not parse (a bug in a pass).
    pub rejected: Vec<String>,
}

impl Outcome {
    /// Records that `finding`'s fix was applied in `round`, with the files it creates.
    fn record(&mut self, finding: &Finding, round: usize) {
        let fix = finding
            .fix
            .as_ref()
            .expect("only findings with a fix are applied");
        self.applied.push(AppliedFix {
            code: finding.code,
            name: finding.name,
            message: finding.message.clone(),
            safety: fix.safety,
            round,
        });
        for nf in &fix.new_files {
            if !self.new_files.iter().any(|(p, _)| p == &nf.0) {
                self.new_files.push(nf.clone());
            }
        }
    }

    pub fn changed(&self) -> bool {
        !self.applied.is_empty()
    }
}

/// Runs `analyze` on `source`, applies allowed fixes, and repeats on the result
/// until no allowed fix remains or `max_iterations` rounds have run.
///
/// `analyze` parses a text and returns the findings of the selected passes. A
/// parse error on the original text is returned as an error; a round whose
/// output does not parse is undone fix by fix, keeping only fixes whose output
/// parses, so a buggy pass can never produce an unparseable file.
pub fn fix_until_stable<F>(
    source: &str,
    opts: FixOptions,
    analyze: F,
) -> Result<Outcome, ParseError>
where
    F: Fn(&Dockerfile) -> Vec<Finding>,
{
    let original = syntax::parse(source)?;
    let findings = analyze(&original);
    let mut outcome = Outcome {
        findings: findings.clone(),
        fixed: source.to_string(),
        applied: Vec::new(),
        new_files: Vec::new(),
        rounds: 0,
        converged: true,
        rejected: Vec::new(),
    };
    let mut current_findings = findings;
    for round in 1..=opts.max_iterations + 1 {
        let candidates: Vec<&Finding> = current_findings
            .iter()
            .filter(|f| f.fix.as_ref().is_some_and(|fix| opts.allows(fix)))
            .filter(|f| !outcome.rejected.iter().any(|r| r == f.code))
            // A fix that only creates files already recorded has nothing left to do.
            .filter(|f| {
                let fix = f.fix.as_ref().unwrap();
                !fix.edits.is_empty()
                    || fix
                        .new_files
                        .iter()
                        .any(|nf| !outcome.new_files.iter().any(|(p, _)| p == &nf.0))
            })
            .collect();
        if candidates.is_empty() {
            break;
        }
        if round > opts.max_iterations {
            outcome.converged = false;
            break;
        }
        let fixes: Vec<&Fix> = candidates.iter().map(|f| f.fix.as_ref().unwrap()).collect();
        let picked = select_compatible(&fixes);
        let edits: Vec<Edit> = picked
            .iter()
            .flat_map(|&i| fixes[i].edits.clone())
            .collect();
        let mut next = apply_edits(&outcome.fixed, &edits);
        let mut kept = picked.clone();
        if syntax::parse(&next).is_err() {
            // Keep only the fixes that parse on their own, applied one by one.
            kept.clear();
            let mut text = outcome.fixed.clone();
            let mut accepted_edits: Vec<Edit> = Vec::new();
            for &i in &picked {
                let mut trial_edits = accepted_edits.clone();
                trial_edits.extend(fixes[i].edits.iter().cloned());
                let trial = apply_edits(&outcome.fixed, &trial_edits);
                if syntax::parse(&trial).is_ok() {
                    accepted_edits = trial_edits;
                    text = trial;
                    kept.push(i);
                } else {
                    outcome.rejected.push(candidates[i].code.to_string());
                }
            }
            next = text;
        }
        if kept.is_empty() || next == outcome.fixed {
            if kept.is_empty() {
                continue;
            }
            // Fixes that only create files (e.g. `.dockerignore`) change no text:
            // record them, then stop.
            for &i in &kept {
                let fix = candidates[i].fix.as_ref().unwrap();
                if fix.edits.is_empty() && !fix.new_files.is_empty() {
                    outcome.record(candidates[i], round);
                }
            }
            break;
        }
        for &i in &kept {
            outcome.record(candidates[i], round);
        }
        outcome.fixed = next;
        outcome.rounds = round;
        match syntax::parse(&outcome.fixed) {
            Ok(df) => current_findings = analyze(&df),
            Err(_) => break, // unreachable: every kept round parses
        }
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::Span;

    #[test]
    fn splices_edits_in_any_order() {
        let src = "abcdef";
        let edits = vec![
            Edit::replace(Span::new(4, 5), "E"),
            Edit::insert(0, ">"),
            Edit::delete(Span::new(1, 3)),
        ];
        assert_eq!(apply_edits(src, &edits), ">adEf");
    }

    #[test]
    fn overlapping_fixes_are_not_picked_together() {
        let a = Fix::safe(vec![Edit::replace(Span::new(0, 3), "x")]);
        let b = Fix::safe(vec![Edit::replace(Span::new(2, 4), "y")]);
        let c = Fix::safe(vec![Edit::insert(3, "z")]);
        let d = Fix::safe(vec![Edit::insert(3, "w")]);
        let picked = select_compatible(&[&a, &b, &c, &d]);
        // a and c touch at 3 but do not overlap; d inserts at the same point as c.
        assert_eq!(picked, vec![0, 2]);
    }
}
