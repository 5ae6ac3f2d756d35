//! Which fixes broke the optimized image: when the file with every fix does not
//! build or does not verify, find the fixes responsible and keep all the others.
//!
//! The search is adaptive group testing (delta debugging's "find every culprit"
//! form) over the fixes, grouped by pass first:
//!
//! - a *trial* applies a set of fixes (the ones kept so far plus a candidate
//!   group), builds the result with the layer cache and compares it with the
//!   original's run (see `trial.rs`);
//! - a group whose trial passes is kept whole; a failing list of groups is split
//!   in halves, each tried on top of what is kept by then; a single failing pass
//!   is split into its fixes the same way; a single failing fix is dropped, with
//!   the evidence of its trial;
//! - results are remembered by fix set, so a set is never tried twice: when the
//!   first half passes, the second half on top of it is the set that already
//!   failed, which costs no build;
//! - after a fix is dropped, everything still pending is tried at once: when that
//!   was the only culprit, the search ends there.
//!
//! With one broken fix among `n` in `g` passes this takes about
//! `log2(g) + log2(n/g) + 1` trials; every further broken fix adds about as many.
//! The number of trials is capped ([`Search::max_trials`]): fixes still undecided
//! at the cap are not applied. The set kept at the end is always one whose trial
//! passed (or the empty set: the original file).
//!
//! This module is only the search; it knows nothing of Docker (see
//! [`Tester`]), so it is tested without an engine.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// A fix the search decides on, as the report shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub code: String,
    pub name: String,
    pub message: String,
    /// `safe` or `unsafe`.
    pub safety: String,
}

/// The Dockerfile with a subset of the fixes, and the files those fixes create.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Variant {
    pub text: String,
    pub new_files: Vec<(String, String)>,
}

/// What `--verify` needs to search: the fixes of the full run, and a way to
/// write the file with any subset of them (the fix loop run again with an
/// allow-list, see `Runner::run_only`). `None` when that run fails.
pub struct FixSearch<'a> {
    pub fixes: Vec<Candidate>,
    pub variant: &'a (dyn Fn(&[usize]) -> Option<Variant> + Sync),
    /// The cap on extra builds (`--max-builds`).
    pub max_builds: usize,
    /// True when the running original's evidence changes the fixes: the caller
    /// then builds the new rewrite instead, and this search is skipped.
    pub replans: Option<&'a (dyn Fn(&crate::evidence::runtime::RuntimeEvidence) -> bool + Sync)>,
}

impl FixSearch<'_> {
    /// The fixes' indices grouped by pass, passes in order of their first fix.
    pub fn groups(&self) -> Vec<Vec<usize>> {
        let mut groups: Vec<(&str, Vec<usize>)> = Vec::new();
        for (i, fix) in self.fixes.iter().enumerate() {
            match groups.iter_mut().find(|(code, _)| *code == fix.code) {
                Some((_, group)) => group.push(i),
                None => groups.push((&fix.code, vec![i])),
            }
        }
        groups.into_iter().map(|(_, group)| group).collect()
    }
}

/// What a trial found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrialResult {
    /// The image built and behaves like the original.
    pub passed: bool,
    /// Why not (build log line, HTTP status, exit code, health state,
    /// `permission denied` lines...): empty when it passed.
    pub evidence: Vec<String>,
}

/// Runs one trial: builds the file with exactly the fixes `kept` (indices into
/// the search's fixes, sorted) and compares it with the original.
pub trait Tester {
    fn trial(&mut self, kept: &[usize]) -> impl std::future::Future<Output = TrialResult>;
}

/// The verdict on one fix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// Applied: the file with it (and the other kept fixes) verified.
    Kept,
    /// Not applied: the trial that added it to the kept fixes failed, with this
    /// evidence.
    Dropped { evidence: Vec<String> },
    /// Not applied: the search stopped before deciding (the trial cap).
    Undecided { reason: String },
}

/// A search over `groups` of fix indices (one group per pass, in file order).
pub struct Search {
    pub groups: Vec<Vec<usize>>,
    /// What the trial of every fix together found (it failed: that is why we
    /// search), so that it is not built again.
    pub all_failed: Vec<String>,
    /// At most this many trials (builds).
    pub max_trials: usize,
}

/// What the search decided.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchOutcome {
    /// One verdict per fix index.
    pub verdicts: Vec<Verdict>,
    /// The fixes kept, sorted: a set whose trial passed (or empty).
    pub kept: Vec<usize>,
    /// Trials run (each one a build, unless the tester answered from a cache).
    pub trials: usize,
    /// The cap stopped the search.
    pub capped: bool,
}

impl Search {
    pub async fn run(self, tester: &mut impl Tester) -> SearchOutcome {
        let count = self.groups.iter().map(Vec::len).sum::<usize>();
        let size = self
            .groups
            .iter()
            .flatten()
            .max()
            .map_or(0, |&max| max + 1)
            .max(count);
        let mut verdicts: Vec<Option<Verdict>> = vec![None; size];
        let mut keep: Vec<usize> = Vec::new();
        let mut results: HashMap<Vec<usize>, TrialResult> = HashMap::new();
        let mut all: Vec<usize> = self.groups.iter().flatten().copied().collect();
        all.sort_unstable();
        results.insert(
            all,
            TrialResult {
                passed: false,
                evidence: self.all_failed.clone(),
            },
        );
        let mut trials = 0;
        let mut capped = false;
        // Each task: a list of units (groups or single fixes) to try on top of
        // `keep`. Last pushed, first done, so halves go in order.
        let mut tasks: Vec<Vec<Vec<usize>>> =
            vec![self.groups.into_iter().filter(|g| !g.is_empty()).collect()];
        while let Some(units) = tasks.pop() {
            if units.is_empty() {
                continue;
            }
            let mut set: Vec<usize> = keep.iter().chain(units.iter().flatten()).copied().collect();
            set.sort_unstable();
            set.dedup();
            let result = match results.get(&set) {
                Some(result) => result.clone(),
                None if trials >= self.max_trials => {
                    capped = true;
                    for &i in units.iter().flatten() {
                        verdicts[i] = Some(Verdict::Undecided {
                            reason: format!(
                                "not tried: the search stopped at its cap of {} build(s) \
                                 (--max-builds)",
                                self.max_trials
                            ),
                        });
                    }
                    continue;
                }
                None => {
                    trials += 1;
                    let result = tester.trial(&set).await;
                    results.insert(set.clone(), result.clone());
                    result
                }
            };
            if result.passed {
                keep = set;
                continue;
            }
            match units.as_slice() {
                [single] if single.len() == 1 => {
                    verdicts[single[0]] = Some(Verdict::Dropped {
                        evidence: result.evidence,
                    });
                    // Often the only culprit: try everything still pending at
                    // once, which saves the trials of the halves that are fine.
                    let pending: Vec<usize> = tasks.iter().flatten().flatten().copied().collect();
                    if tasks.len() > 1 && trials < self.max_trials {
                        let mut set: Vec<usize> = keep.iter().chain(&pending).copied().collect();
                        set.sort_unstable();
                        set.dedup();
                        if !results.contains_key(&set) {
                            trials += 1;
                            let result = tester.trial(&set).await;
                            results.insert(set.clone(), result.clone());
                            if result.passed {
                                keep = set;
                                tasks.clear();
                            }
                        }
                    }
                }
                // One pass fails: its fixes one by one, halving.
                [group] => tasks.push(group.iter().map(|&i| vec![i]).collect()),
                _ => {
                    let mut first = units;
                    let second = first.split_off(first.len() / 2);
                    tasks.push(second);
                    tasks.push(first);
                }
            }
        }
        let verdicts = verdicts
            .into_iter()
            .enumerate()
            .map(|(i, v)| match v {
                _ if keep.binary_search(&i).is_ok() => Verdict::Kept,
                Some(v) => v,
                None => Verdict::Undecided {
                    reason: "not part of the search".into(),
                },
            })
            .collect();
        SearchOutcome {
            verdicts,
            kept: keep,
            trials,
            capped,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails a trial when it holds a bad fix, or both fixes of a bad pair.
    struct Fake {
        bad: Vec<usize>,
        bad_pairs: Vec<(usize, usize)>,
        tried: Vec<Vec<usize>>,
    }

    impl Tester for Fake {
        async fn trial(&mut self, kept: &[usize]) -> TrialResult {
            self.tried.push(kept.to_vec());
            let bad: Vec<String> = self
                .bad
                .iter()
                .filter(|b| kept.contains(b))
                .map(|b| format!("fix {b} breaks it"))
                .chain(
                    self.bad_pairs
                        .iter()
                        .filter(|(a, b)| kept.contains(a) && kept.contains(b))
                        .map(|(a, b)| format!("fixes {a} and {b} clash")),
                )
                .collect();
            TrialResult {
                passed: bad.is_empty(),
                evidence: bad,
            }
        }
    }

    fn search(groups: Vec<Vec<usize>>, max: usize, fake: &mut Fake) -> SearchOutcome {
        let search = Search {
            groups,
            all_failed: vec!["all together fail".into()],
            max_trials: max,
        };
        futures_util::FutureExt::now_or_never(search.run(fake)).expect("no real waiting")
    }

    fn fake(bad: &[usize]) -> Fake {
        Fake {
            bad: bad.to_vec(),
            bad_pairs: Vec::new(),
            tried: Vec::new(),
        }
    }

    fn dropped(outcome: &SearchOutcome) -> Vec<usize> {
        (0..outcome.verdicts.len())
            .filter(|&i| matches!(outcome.verdicts[i], Verdict::Dropped { .. }))
            .collect()
    }

    /// 16 fixes in 8 passes of 2.
    fn groups16() -> Vec<Vec<usize>> {
        (0..8).map(|g| vec![2 * g, 2 * g + 1]).collect()
    }

    #[test]
    fn one_broken_fix_is_found_in_about_log2_trials_and_the_rest_kept() {
        for bad in 0..16 {
            let mut f = fake(&[bad]);
            let outcome = search(groups16(), 50, &mut f);
            assert_eq!(dropped(&outcome), vec![bad]);
            assert_eq!(outcome.kept.len(), 15);
            assert!(!outcome.kept.contains(&bad));
            assert!(!outcome.capped);
            // log2(8 passes) + log2(2 fixes) + 1 = 5 at most.
            assert!(outcome.trials <= 5, "{bad}: {} trials", outcome.trials);
            // The kept set is one that was tried and passed.
            assert!(f.tried.contains(&outcome.kept));
            match &outcome.verdicts[bad] {
                // The trial that added it, or (for the last) the run of all fixes.
                Verdict::Dropped { evidence } => assert!(
                    evidence == &vec![format!("fix {bad} breaks it")]
                        || evidence == &vec!["all together fail".to_string()],
                    "{evidence:?}"
                ),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn several_broken_fixes_and_a_clashing_pair() {
        let mut f = fake(&[3, 12]);
        f.bad_pairs.push((6, 9));
        let outcome = search(groups16(), 50, &mut f);
        // Of the pair, the one tried on top of the other is dropped.
        assert_eq!(dropped(&outcome), vec![3, 9, 12]);
        assert_eq!(outcome.kept.len(), 13);
        assert!(f.tried.contains(&outcome.kept));
        assert!(outcome.trials <= 16, "{} trials", outcome.trials);
    }

    #[test]
    fn a_single_fix_fails_with_no_trial_at_all() {
        let mut f = fake(&[0]);
        let outcome = search(vec![vec![0]], 10, &mut f);
        assert_eq!(outcome.trials, 0);
        assert_eq!(
            outcome.verdicts,
            vec![Verdict::Dropped {
                evidence: vec!["all together fail".into()]
            }]
        );
        assert!(outcome.kept.is_empty());
    }

    #[test]
    fn the_cap_leaves_fixes_undecided_and_unapplied() {
        let mut f = fake(&[5]);
        let outcome = search(groups16(), 2, &mut f);
        assert!(outcome.capped);
        assert_eq!(outcome.trials, 2);
        assert!(!outcome.kept.contains(&5));
        assert!(f.tried.contains(&outcome.kept) || outcome.kept.is_empty());
        assert!(outcome
            .verdicts
            .iter()
            .any(|v| matches!(v, Verdict::Undecided { .. })));
        for (i, v) in outcome.verdicts.iter().enumerate() {
            assert_eq!(matches!(v, Verdict::Kept), outcome.kept.contains(&i));
        }
    }
}
