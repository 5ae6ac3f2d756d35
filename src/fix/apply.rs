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

/// True if two of `edits` conflict (see [`conflicts`]). O(e log e): a sweep over
/// the edits sorted by span.
fn self_conflicting(edits: &[Edit]) -> bool {
    let mut spans: Vec<(usize, usize)> = edits.iter().map(|e| (e.span.start, e.span.end)).collect();
    spans.sort_unstable();
    // Sorted, an insertion at p comes before a range starting at p, so an
    // insertion conflicts iff an earlier range ends after it or an earlier
    // insertion is at the same point; a range iff an earlier range ends after
    // its start.
    let mut max_end = 0;
    let mut last_insert = None;
    for (start, end) in spans {
        if start == end {
            if start < max_end || last_insert == Some(start) {
                return true;
            }
            last_insert = Some(start);
        } else {
            if start < max_end {
                return true;
            }
            max_end = max_end.max(end);
        }
    }
    false
}

/// Edits already picked in a round, pairwise compatible, by (start, end).
/// Sorted that way their ends never decrease, so the edits an edit can
/// conflict with are found by walking back from its end.
#[derive(Default)]
struct Taken(std::collections::BTreeSet<(usize, usize)>);

impl Taken {
    fn conflicts_with(&self, e: &Edit) -> bool {
        self.0
            .range(..=(e.span.end, usize::MAX))
            .rev()
            .take_while(|(_, end)| *end >= e.span.start)
            .any(|&(start, end)| {
                conflicts(
                    e,
                    &Edit {
                        span: syntax::Span::new(start, end),
                        content: String::new(),
                    },
                )
            })
    }
}

/// Picks, in order, the fixes whose edits conflict with no fix picked before.
/// Returns the indices of the picked fixes. O(e log e) in the number of edits.
pub fn select_compatible(fixes: &[&Fix]) -> Vec<usize> {
    let mut taken = Taken::default();
    let mut picked = Vec::new();
    for (i, fix) in fixes.iter().enumerate() {
        let clash =
            fix.edits.iter().any(|e| taken.conflicts_with(e)) || self_conflicting(&fix.edits);
        if !clash {
            taken
                .0
                .extend(fix.edits.iter().map(|e| (e.span.start, e.span.end)));
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
    /// Names this fix across runs of the loop (see [`FixId`]).
    pub id: FixId,
}

/// A fix's name across runs of the fix loop over the same text: its pass, its
/// message (which names the instruction it changes) and, for fixes with the same
/// pass and message, how many of those were applied before it. Running the loop
/// again with an allow-list of ids ([`fix_until_stable_filtered`]) applies those
/// fixes and no other, deterministically: a fix left out is never applied, so it
/// never shifts the numbering of the fixes that are.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct FixId {
    pub code: &'static str,
    pub message: String,
    /// 0 for the first applied fix with this code and message, 1 for the next...
    pub nth: usize,
}

impl std::fmt::Display for FixId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.code, self.message)?;
        if self.nth > 0 {
            write!(f, " (#{})", self.nth + 1)?;
        }
        Ok(())
    }
}

/// Why the fix loop did not reach a fixpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unsettled {
    /// The text after round `round` equals the text after round `earlier`
    /// (0 = the original): the fixes go round in a cycle.
    Cycle { round: usize, earlier: usize },
    /// `rounds` rounds ran and fixes still wanted to change the text.
    Cap { rounds: usize },
}

/// A fix loop that did not converge: a bug in the named passes. Its result must
/// never be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotConverged {
    pub why: Unsettled,
    /// (code, name) of the passes whose fixes keep changing the text, sorted.
    pub passes: Vec<(&'static str, &'static str)>,
}

impl std::fmt::Display for NotConverged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self
            .passes
            .iter()
            .map(|(code, name)| format!("{code} ({name})"))
            .collect();
        let who = if names.is_empty() {
            "the fixes".to_string()
        } else {
            format!("the fixes of {}", names.join(", "))
        };
        match self.why {
            Unsettled::Cycle { round, earlier: 0 } => write!(
                f,
                "{who} oscillate: round {round} gives back the original text"
            ),
            Unsettled::Cycle { round, earlier } => write!(
                f,
                "{who} oscillate: round {round} gives back the text of round {earlier}"
            ),
            Unsettled::Cap { rounds } => {
                write!(f, "{who} still change the text after {rounds} rounds")
            }
        }
    }
}

/// What the fix loop produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The findings on the original text (what `check` reports). A finding
    /// keeps its fix only if the loop applies it (or, for a fix the options do
    /// not allow, if it is applicable on its own): fixes that change nothing,
    /// cannot be applied or never get applied are removed, so every fix listed
    /// is a fix `apply` makes.
    pub findings: Vec<Finding>,
    /// The text after all rounds.
    pub fixed: String,
    /// Fixes applied, in order.
    pub applied: Vec<AppliedFix>,
    /// Files the applied fixes create (path relative to the build context, content).
    pub new_files: Vec<(String, String)>,
    /// Rounds that changed the text.
    pub rounds: usize,
    /// False if the fixes did not reach a fixpoint (see `unsettled`): `fixed`
    /// must then not be written.
    pub converged: bool,
    /// Why the loop did not converge, and which passes.
    pub unsettled: Option<NotConverged>,
    /// Fixes dropped because their output did not parse (a bug in a pass).
    pub rejected: Vec<String>,
}

impl Outcome {
    /// Records that `finding`'s fix was applied in `round`, with the files it creates.
    fn record(&mut self, finding: &Finding, round: usize, id: FixId) {
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
            id,
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

/// True if every edit of `fix` lies inside `text` on char boundaries and no two
/// of its edits conflict, so that the fix can be spliced into `text`.
pub fn applicable(text: &str, fix: &Fix) -> bool {
    let in_range = fix.edits.iter().all(|e| {
        e.span.start <= e.span.end
            && e.span.end <= text.len()
            && text.is_char_boundary(e.span.start)
            && text.is_char_boundary(e.span.end)
    });
    in_range && !self_conflicting(&fix.edits)
}

/// True if applying `fix` to `text` changes nothing: every edit writes back the
/// bytes it replaces (`fix` must be [`applicable`]).
pub fn is_noop(text: &str, fix: &Fix) -> bool {
    fix.edits
        .iter()
        .all(|e| e.content == text[e.span.start..e.span.end])
}

/// True if the fix has something to do on `text`: its edits can be applied and
/// change the text, or it creates a file not created yet.
fn does_something(text: &str, fix: &Fix, created: &[(String, String)]) -> bool {
    if !applicable(text, fix) {
        return false;
    }
    !is_noop(text, fix)
        || fix
            .new_files
            .iter()
            .any(|nf| !created.iter().any(|(p, _)| p == &nf.0))
}

/// (code, name) of `findings`, sorted and deduplicated.
fn pass_names<'a>(
    findings: impl Iterator<Item = (&'static str, &'static str)> + 'a,
) -> Vec<(&'static str, &'static str)> {
    let mut names: Vec<_> = findings.collect();
    names.sort();
    names.dedup();
    names
}

/// Runs `analyze` on `source`, applies allowed fixes, and repeats on the result
/// until no allowed fix remains.
///
/// `analyze` parses a text and returns the findings of the selected passes. A
/// parse error on the original text is returned as an error; a round whose
/// output does not parse is undone fix by fix, keeping only fixes whose output
/// parses, so a buggy pass can never produce an unparseable file.
///
/// A loop that does not reach a fixpoint is a bug in a pass: when a round gives
/// back the text of an earlier round (a cycle), or `max_iterations` rounds have
/// run and fixes still want to change the text, the outcome says so
/// (`converged == false`, `unsettled` names the passes) and must not be written.
///
/// Fixes that cannot be applied (edits out of range or overlapping each other)
/// or that change nothing are never candidates, and they are removed from the
/// reported findings, as are fixes the loop never gets to apply.
pub fn fix_until_stable<F>(
    source: &str,
    opts: FixOptions,
    analyze: F,
) -> Result<Outcome, ParseError>
where
    F: Fn(&Dockerfile) -> Vec<Finding>,
{
    fix_until_stable_filtered(source, opts, analyze, &|_| true)
}

/// [`fix_until_stable`], applying only the fixes whose [`FixId`] `allow` accepts
/// (the others are treated like fixes the options do not allow). Used by
/// `--verify` to rebuild a file with a subset of the fixes of a full run.
pub fn fix_until_stable_filtered<F>(
    source: &str,
    opts: FixOptions,
    analyze: F,
    allow: &dyn Fn(&FixId) -> bool,
) -> Result<Outcome, ParseError>
where
    F: Fn(&Dockerfile) -> Vec<Finding>,
{
    let original = syntax::parse(source)?;
    let findings = analyze(&original);
    let mut outcome = Outcome {
        findings: Vec::new(),
        fixed: source.to_string(),
        applied: Vec::new(),
        new_files: Vec::new(),
        rounds: 0,
        converged: true,
        unsettled: None,
        rejected: Vec::new(),
    };
    // Which findings of the original text had their fix applied in round 1.
    let mut applied_codes = std::collections::HashSet::new();
    let mut applied_first = vec![false; findings.len()];
    // The text before round 1 and after every round, to detect cycles.
    let mut history: Vec<String> = vec![source.to_string()];
    let mut current_findings = findings.clone();
    for round in 1..=opts.max_iterations + 1 {
        // The id each finding's fix would get if applied this round.
        // (Hashed counts: linear in the findings, for files of any size.)
        let mut seen: std::collections::HashMap<(&str, &str), usize> =
            std::collections::HashMap::new();
        for a in &outcome.applied {
            *seen.entry((a.code, a.message.as_str())).or_default() += 1;
        }
        let mut ids: Vec<FixId> = Vec::with_capacity(current_findings.len());
        for f in &current_findings {
            let count = seen.entry((f.code, f.message.as_str())).or_default();
            ids.push(FixId {
                code: f.code,
                message: f.message.clone(),
                nth: *count,
            });
            *count += 1;
        }
        let candidates: Vec<usize> = current_findings
            .iter()
            .enumerate()
            .filter(|(_, f)| f.fix.as_ref().is_some_and(|fix| opts.allows(fix)))
            .filter(|(i, _)| allow(&ids[*i]))
            .filter(|(_, f)| !outcome.rejected.iter().any(|r| r == f.code))
            .filter(|(_, f)| {
                does_something(&outcome.fixed, f.fix.as_ref().unwrap(), &outcome.new_files)
            })
            .map(|(i, _)| i)
            .collect();
        if candidates.is_empty() {
            break;
        }
        if round > opts.max_iterations {
            outcome.converged = false;
            outcome.unsettled = Some(NotConverged {
                why: Unsettled::Cap {
                    rounds: opts.max_iterations,
                },
                passes: pass_names(candidates.iter().map(|&i| {
                    let f = &current_findings[i];
                    (f.code, f.name)
                })),
            });
            break;
        }
        let fixes: Vec<&Fix> = candidates
            .iter()
            .map(|&i| current_findings[i].fix.as_ref().unwrap())
            .collect();
        // Never empty: the first candidate always fits (it is applicable).
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
                    let code = current_findings[candidates[i]].code.to_string();
                    if !outcome.rejected.contains(&code) {
                        outcome.rejected.push(code);
                    }
                }
            }
            next = text;
        }
        if kept.is_empty() {
            // Every picked fix was rejected: the others get their turn.
            continue;
        }
        if round == 1 {
            for &i in &kept {
                applied_first[candidates[i]] = true;
            }
        }
        for &i in &kept {
            let finding = current_findings[candidates[i]].clone();
            outcome.record(&finding, round, ids[candidates[i]].clone());
        }
        if next == outcome.fixed {
            // Fixes that only create files (e.g. `.dockerignore`) change no
            // text: recorded, and nothing else is left to do.
            break;
        }
        if let Some(earlier) = history.iter().position(|t| *t == next) {
            outcome.converged = false;
            outcome.unsettled = Some(NotConverged {
                why: Unsettled::Cycle { round, earlier },
                passes: pass_names(
                    outcome
                        .applied
                        .iter()
                        .filter(|a| a.round > earlier)
                        .map(|a| (a.code, a.name)),
                ),
            });
            outcome.fixed = next;
            outcome.rounds = round;
            break;
        }
        history.push(next.clone());
        outcome.fixed = next;
        outcome.rounds = round;
        match syntax::parse(&outcome.fixed) {
            Ok(df) => current_findings = analyze(&df),
            Err(_) => break, // unreachable: every kept round parses
        }
    }
    applied_codes.extend(outcome.applied.iter().map(|a| a.code));
    outcome.findings = findings
        .into_iter()
        .enumerate()
        .map(|(i, mut f)| {
            let keep = match &f.fix {
                None => true,
                Some(fix) if !does_something(source, fix, &[]) => false,
                Some(fix) if !opts.allows(fix) => true,
                Some(_) if outcome.rejected.iter().any(|r| r == f.code) => false,
                // Deferred by a conflict in round 1: applied if a fix of the
                // same pass was applied in a later round.
                Some(_) => applied_first[i] || outcome.applied.iter().any(|a| a.code == f.code),
            };
            if !keep {
                f.fix = None;
            }
            f
        })
        .collect();
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

    fn finding_with(code: &'static str, fix: Option<Fix>) -> Finding {
        Finding {
            code,
            name: "synthetic",
            message: format!("{code} fires"),
            span: Span::new(0, 0),
            fix,
        }
    }

    /// Replaces the first occurrence of `from` in the text with `to`.
    fn swap(df: &Dockerfile, code: &'static str, from: &str, to: &str) -> Option<Finding> {
        let at = df.source.find(from)?;
        Some(finding_with(
            code,
            Some(Fix::safe(vec![Edit::replace(
                Span::new(at, at + from.len()),
                to,
            )])),
        ))
    }

    #[test]
    fn a_fix_that_undoes_itself_is_a_cycle_naming_the_pass() {
        // DOP900 turns `USER a` into `USER b`, DOP901 turns it back.
        let outcome = fix_until_stable("FROM x\nUSER a\n", FixOptions::default(), |df| {
            swap(df, "DOP900", "USER a", "USER b")
                .into_iter()
                .chain(swap(df, "DOP901", "USER b", "USER a"))
                .collect()
        })
        .unwrap();
        assert!(!outcome.converged);
        let unsettled = outcome.unsettled.unwrap();
        assert_eq!(
            unsettled.why,
            Unsettled::Cycle {
                round: 2,
                earlier: 0
            }
        );
        assert_eq!(
            unsettled.passes,
            vec![("DOP900", "synthetic"), ("DOP901", "synthetic")]
        );
        assert!(unsettled.to_string().contains("DOP900 (synthetic), DOP901"));
        // Detected at once, not after the cap.
        assert_eq!(outcome.rounds, 2);
    }

    #[test]
    fn a_longer_cycle_is_found_too() {
        // a -> b -> c -> a
        let outcome = fix_until_stable("FROM x\nUSER a\n", FixOptions::default(), |df| {
            swap(df, "DOP900", "USER a", "USER b")
                .into_iter()
                .chain(swap(df, "DOP900", "USER b", "USER c"))
                .chain(swap(df, "DOP900", "USER c", "USER a"))
                .collect()
        })
        .unwrap();
        assert_eq!(
            outcome.unsettled.map(|u| u.why),
            Some(Unsettled::Cycle {
                round: 3,
                earlier: 0
            })
        );
    }

    #[test]
    fn a_fix_that_keeps_growing_the_file_hits_the_cap() {
        let outcome = fix_until_stable("FROM x\n", FixOptions::default(), |df| {
            vec![finding_with(
                "DOP902",
                Some(Fix::safe(vec![Edit::insert(df.source.len(), "USER x\n")])),
            )]
        })
        .unwrap();
        assert!(!outcome.converged);
        let unsettled = outcome.unsettled.unwrap();
        assert_eq!(unsettled.why, Unsettled::Cap { rounds: 10 });
        assert_eq!(unsettled.passes, vec![("DOP902", "synthetic")]);
    }

    #[test]
    fn fixes_that_change_nothing_or_cannot_apply_are_dropped_from_the_findings() {
        let src = "FROM x\nUSER a\n";
        let outcome = fix_until_stable(src, FixOptions::default(), |_| {
            vec![
                // Writes back the bytes it replaces.
                finding_with(
                    "DOP903",
                    Some(Fix::safe(vec![Edit::replace(Span::new(0, 4), "FROM")])),
                ),
                // Two edits of one fix overlap: never applicable.
                finding_with(
                    "DOP904",
                    Some(Fix::safe(vec![
                        Edit::replace(Span::new(0, 3), "x"),
                        Edit::replace(Span::new(2, 4), "y"),
                    ])),
                ),
                // Out of range: would panic if spliced.
                finding_with(
                    "DOP905",
                    Some(Fix::safe(vec![Edit::insert(src.len() + 5, "x")])),
                ),
                // No edits and no files.
                finding_with("DOP906", Some(Fix::safe(vec![]))),
            ]
        })
        .unwrap();
        assert!(outcome.converged);
        assert_eq!(outcome.fixed, src);
        assert!(outcome.applied.is_empty());
        assert_eq!(outcome.findings.len(), 4);
        assert!(outcome.findings.iter().all(|f| f.fix.is_none()));
    }

    #[test]
    fn every_listed_fix_is_applied() {
        // Two fixes of one pass conflict in round 1; the second is re-found
        // and applied in round 2. A third pass's fix is unsafe and not allowed.
        let outcome = fix_until_stable("FROM x\nUSER a\n", FixOptions::default(), |df| {
            let mut out: Vec<Finding> = swap(df, "DOP907", "USER a", "USER b")
                .into_iter()
                .chain(swap(df, "DOP908", "USER", "USER"))
                .chain(swap(df, "DOP909", "FROM x", "FROM y"))
                .collect();
            if let Some(at) = df.source.find("USER a") {
                out.push(finding_with(
                    "DOP910",
                    Some(Fix::safe(vec![Edit::replace(
                        Span::new(at, at + 4),
                        "user",
                    )])),
                ));
            }
            out.push(finding_with(
                "DOP911",
                Some(Fix::unsafe_(vec![Edit::insert(0, "# x\n")])),
            ));
            out
        })
        .unwrap();
        assert!(outcome.converged);
        assert_eq!(outcome.fixed, "FROM y\nUSER b\n");
        let with_fix: Vec<&str> = outcome
            .findings
            .iter()
            .filter(|f| f.fix.is_some())
            .map(|f| f.code)
            .collect();
        // DOP908 is a no-op; DOP910 lost to DOP907 and is gone after round 1;
        // DOP911 keeps its (not allowed, applicable) unsafe fix.
        assert_eq!(with_fix, vec!["DOP907", "DOP909", "DOP911"]);
    }

    #[test]
    fn the_sweep_agrees_with_pairwise_conflicts() {
        // Every pair and triple of small spans.
        let mut spans = Vec::new();
        for s in 0..5 {
            for e in s..5 {
                spans.push(Edit::replace(Span::new(s, e), "x"));
            }
        }
        let pairwise = |edits: &[Edit]| {
            edits
                .iter()
                .enumerate()
                .any(|(j, e)| edits[j + 1..].iter().any(|f| conflicts(e, f)))
        };
        for a in &spans {
            for b in &spans {
                let two = [a.clone(), b.clone()];
                assert_eq!(self_conflicting(&two), pairwise(&two), "{two:?}");
                for c in &spans {
                    let three = [a.clone(), b.clone(), c.clone()];
                    assert_eq!(self_conflicting(&three), pairwise(&three), "{three:?}");
                    // Picking fix by fix equals the pairwise rule.
                    let fixes: Vec<Fix> =
                        three.iter().map(|e| Fix::safe(vec![e.clone()])).collect();
                    let refs: Vec<&Fix> = fixes.iter().collect();
                    let mut expected: Vec<usize> = Vec::new();
                    for i in 0..3 {
                        if !expected.iter().any(|&k| conflicts(&three[k], &three[i])) {
                            expected.push(i);
                        }
                    }
                    assert_eq!(select_compatible(&refs), expected, "{three:?}");
                }
            }
        }
    }
}
