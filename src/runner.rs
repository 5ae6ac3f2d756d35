//! Runs the selected passes over one Dockerfile: pass selection, inline
//! `# dopt ignore=CODE` suppressions, and the fix loop.

use crate::fix::apply::{fix_until_stable, fix_until_stable_filtered, FixId, FixOptions, Outcome};
use crate::fix::Finding;
use crate::passes::{self, BuildContext, Pass, PassContext};
use crate::profiles::Profiles;
use crate::syntax::{Dockerfile, ItemKind, ParseError, Span};

/// Which passes run: `select` (empty = all default passes) minus `ignore`.
/// Entries are codes (`DOP001`), names (`merge-run`), code prefixes (`DOP0`) or `ALL`.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub select: Vec<String>,
    pub ignore: Vec<String>,
}

fn matches(entry: &str, pass: &dyn Pass) -> bool {
    entry.eq_ignore_ascii_case("all")
        || entry.eq_ignore_ascii_case(pass.name())
        || pass
            .code()
            .to_ascii_uppercase()
            .starts_with(&entry.to_ascii_uppercase())
}

impl Selection {
    pub fn includes(&self, pass: &dyn Pass) -> bool {
        let selected = if self.select.is_empty() {
            pass.default_enabled()
        } else {
            self.select.iter().any(|e| matches(e, pass))
        };
        selected && !self.ignore.iter().any(|e| matches(e, pass))
    }

    /// Entries that name no pass at all (reported as errors: a typo would
    /// otherwise silently select nothing).
    pub fn unknown_entries(&self, all: &[Box<dyn Pass>]) -> Vec<String> {
        self.select
            .iter()
            .chain(self.ignore.iter())
            .filter(|e| !all.iter().any(|p| matches(e, p.as_ref())))
            .cloned()
            .collect()
    }
}

/// Everything a run needs besides the text.
pub struct Runner {
    pub passes: Vec<Box<dyn Pass>>,
    pub profiles: Profiles,
    pub build_context: Option<BuildContext>,
    pub options: serde_yaml::Mapping,
    pub fix: FixOptions,
    /// What the running original showed (`--verify`), for the passes that use it.
    pub runtime: Option<crate::evidence::runtime::RuntimeEvidence>,
}

impl Runner {
    /// A runner with the given selection over all passes.
    pub fn new(selection: &Selection, profiles: Profiles, fix: FixOptions) -> Self {
        let passes = passes::all()
            .into_iter()
            .filter(|p| selection.includes(p.as_ref()))
            .collect();
        Runner {
            passes,
            profiles,
            build_context: None,
            options: Default::default(),
            fix,
            runtime: None,
        }
    }

    /// The findings of every selected pass on a parsed file, minus suppressed ones,
    /// sorted by position.
    pub fn analyze(&self, file: &Dockerfile) -> Vec<Finding> {
        let mut ctx = PassContext::new(
            file,
            &self.profiles,
            self.build_context.as_ref(),
            &self.options,
        );
        ctx.runtime = self.runtime.as_ref();
        ctx.split_applies =
            self.fix.unsafe_fixes && self.passes.iter().any(|p| p.code() == "DOP013");
        let suppressions = Suppressions::new(file);
        let mut findings: Vec<Finding> = self
            .passes
            .iter()
            .flat_map(|p| p.run(&ctx))
            .filter(|f| !suppressions.suppress(f))
            .collect();
        findings.sort_by(|a, b| (a.span.start, a.code).cmp(&(b.span.start, b.code)));
        findings
    }

    /// Parses `source`, reports findings and applies allowed fixes to a fixpoint.
    pub fn run(&self, source: &str) -> Result<Outcome, ParseError> {
        fix_until_stable(source, self.fix, |df| self.analyze(df))
    }

    /// [`Runner::run`] applying only the fixes in `allowed` (ids from the
    /// `applied` list of an earlier run over the same text): the same findings,
    /// and a fixed text with just those fixes. Deterministic, so `--verify` can
    /// rebuild a file with any subset of a run's fixes.
    pub fn run_only(&self, source: &str, allowed: &[FixId]) -> Result<Outcome, ParseError> {
        let allowed: std::collections::HashSet<&FixId> = allowed.iter().collect();
        fix_until_stable_filtered(source, self.fix, |df| self.analyze(df), &|id| {
            allowed.contains(id)
        })
    }
}

/// The instructions of a file that have a `dopt ignore=` comment directly
/// above them, in source order, with those comments: built once per analysis
/// so that checking a finding costs a binary search, not a scan of the file.
struct Suppressions<'a> {
    /// (instruction span, its comment lines that mention `dopt ignore=`).
    entries: Vec<(Span, Vec<&'a str>)>,
}

impl<'a> Suppressions<'a> {
    fn new(file: &'a Dockerfile) -> Self {
        let mut entries = Vec::new();
        let mut comments: Vec<&str> = Vec::new();
        for item in &file.items {
            match item.kind {
                ItemKind::Comment => {
                    let text = file.text(item.span);
                    if text.contains("dopt ignore=") {
                        comments.push(text);
                    }
                    continue;
                }
                ItemKind::Instruction(_) if !comments.is_empty() => {
                    entries.push((item.span, std::mem::take(&mut comments)));
                }
                _ => {}
            }
            comments.clear();
        }
        Suppressions { entries }
    }

    /// True if a comment directly above an instruction the finding covers
    /// silences it (see [`is_suppressed`]).
    fn suppress(&self, finding: &Finding) -> bool {
        let (start, end) = (
            finding.span.start,
            finding.span.end.max(finding.span.start + 1),
        );
        // Instruction spans are disjoint and sorted: the ones that overlap the
        // finding are a run starting at the first that ends after `start`.
        let first = self
            .entries
            .partition_point(|(span, _)| span.end.max(span.start + 1) <= start);
        self.entries[first..]
            .iter()
            .take_while(|(span, _)| span.start < end)
            .any(|(_, comments)| comments.iter().any(|c| comment_suppresses(c, finding)))
    }
}

/// True if the comment lines directly above an instruction the finding covers
/// say `dopt ignore=CODE` (or the pass name, or `all`). A finding that spans
/// several instructions (e.g. a RUN merge) is silenced by a comment above any of them.
pub fn is_suppressed(file: &Dockerfile, finding: &Finding) -> bool {
    Suppressions::new(file).suppress(finding)
}

fn comment_suppresses(comment: &str, finding: &Finding) -> bool {
    let Some(idx) = comment.find("dopt ignore=") else {
        return false;
    };
    comment[idx + "dopt ignore=".len()..]
        .split(|c: char| c == ',' || c.is_whitespace())
        .take_while(|s| !s.is_empty())
        .any(|s| {
            s.eq_ignore_ascii_case(finding.code)
                || s.eq_ignore_ascii_case(finding.name)
                || s.eq_ignore_ascii_case("all")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(code: &'static str, name: &'static str) -> Finding {
        Finding {
            code,
            name,
            message: String::new(),
            span: Span::new(0, 0),
            fix: None,
        }
    }

    /// Adds a stage while the model it is given has fewer than three, and counts
    /// how many times it ran.
    struct GrowStages(std::sync::atomic::AtomicUsize);

    impl Pass for GrowStages {
        fn code(&self) -> &'static str {
            "DOP999"
        }
        fn name(&self) -> &'static str {
            "grow-stages"
        }
        fn summary(&self) -> &'static str {
            ""
        }
        fn docs(&self) -> &'static str {
            ""
        }
        fn run(&self, ctx: &PassContext) -> Vec<Finding> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            // The same model for every call within one context.
            assert!(std::ptr::eq(ctx.model(), ctx.model()));
            if ctx.model().stages.len() >= 3 {
                return Vec::new();
            }
            let end = ctx.file.source.len();
            vec![Finding {
                fix: Some(crate::fix::Fix::safe(vec![crate::fix::Edit::insert(
                    end,
                    "FROM scratch\n",
                )])),
                ..finding("DOP999", "grow-stages")
            }]
        }
    }

    #[test]
    fn the_fix_loop_sees_a_fresh_model_after_each_round() {
        let runner = Runner {
            passes: vec![Box::new(GrowStages(Default::default()))],
            profiles: Profiles::embedded(),
            build_context: None,
            options: Default::default(),
            fix: FixOptions::default(),
            runtime: None,
        };
        // A model cached across rounds would keep saying one stage and never stop.
        let outcome = runner.run("FROM debian\n").unwrap();
        assert!(outcome.converged);
        assert_eq!(outcome.fixed, "FROM debian\nFROM scratch\nFROM scratch\n");
        assert_eq!(outcome.rounds, 2);
    }

    /// Two passes, each replacing a word of its own everywhere, one fix per line.
    struct Replace(&'static str, &'static str, &'static str);

    impl Pass for Replace {
        fn code(&self) -> &'static str {
            self.0
        }
        fn name(&self) -> &'static str {
            "replace"
        }
        fn summary(&self) -> &'static str {
            ""
        }
        fn docs(&self) -> &'static str {
            ""
        }
        fn run(&self, ctx: &PassContext) -> Vec<Finding> {
            let text = ctx.file.source.as_str();
            text.match_indices(self.1)
                .map(|(at, _)| Finding {
                    message: "replace it".into(),
                    span: Span::new(at, at + self.1.len()),
                    fix: Some(crate::fix::Fix::safe(vec![crate::fix::Edit::replace(
                        Span::new(at, at + self.1.len()),
                        self.2,
                    )])),
                    ..finding(self.0, "replace")
                })
                .collect()
        }
    }

    #[test]
    fn run_only_applies_exactly_the_allowed_fixes() {
        let runner = Runner {
            passes: vec![
                Box::new(Replace("DOP901", "aaa", "A")),
                Box::new(Replace("DOP902", "bbb", "B")),
            ],
            profiles: Profiles::embedded(),
            build_context: None,
            options: Default::default(),
            fix: FixOptions::default(),
            runtime: None,
        };
        let source = "FROM x\nRUN aaa bbb\nRUN aaa bbb\n";
        let full = runner.run(source).unwrap();
        assert_eq!(full.fixed, "FROM x\nRUN A B\nRUN A B\n");
        let ids: Vec<FixId> = full.applied.iter().map(|a| a.id.clone()).collect();
        assert_eq!(ids.len(), 4);
        // Same message, numbered in order.
        assert_eq!((ids[0].code, ids[0].nth), ("DOP901", 0));
        assert_eq!((ids[2].code, ids[2].nth), ("DOP901", 1));
        for (keep, expected) in [
            (vec![], source),
            (vec![ids[0].clone()], "FROM x\nRUN A bbb\nRUN aaa bbb\n"),
            (
                vec![ids[1].clone(), ids[3].clone()],
                "FROM x\nRUN aaa B\nRUN aaa B\n",
            ),
            (ids.clone(), "FROM x\nRUN A B\nRUN A B\n"),
        ] {
            let outcome = runner.run_only(source, &keep).unwrap();
            assert_eq!(outcome.fixed, expected, "{keep:?}");
            let got: Vec<FixId> = outcome.applied.iter().map(|a| a.id.clone()).collect();
            assert_eq!(got.len(), keep.len());
            assert!(got.iter().all(|id| keep.contains(id)));
            // Deterministic.
            assert_eq!(runner.run_only(source, &keep).unwrap().fixed, expected);
        }
    }

    #[test]
    fn ignore_comment_lists_codes_or_names() {
        let f = finding("DOP001", "merge-run");
        assert!(comment_suppresses("# dopt ignore=DOP001\n", &f));
        assert!(comment_suppresses("# dopt ignore=DOP009,merge-run\n", &f));
        assert!(comment_suppresses("# dopt ignore=all", &f));
        assert!(!comment_suppresses("# dopt ignore=DOP002\n", &f));
        assert!(!comment_suppresses("# nothing here\n", &f));
    }
}
