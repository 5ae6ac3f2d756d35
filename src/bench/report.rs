//! The bench report: a summary (medians, totals, verified count), Markdown for
//! humans and CI step summaries, JSON for machines.

use super::run::{CaseResult, Outcome};
use serde::Serialize;

/// Totals and medians over the cases.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub cases: usize,
    /// Cases built and measured (verified or not).
    pub measured: usize,
    pub verified: usize,
    pub not_verified: usize,
    pub unchanged: usize,
    pub failed: usize,
    /// Cases that did not verify and were expected not to (a known gap).
    pub expected_failures: usize,
    /// The median size saving over the measured cases, in percent.
    pub median_saved_percent: Option<f64>,
    pub total_original_bytes: u64,
    pub total_optimized_bytes: u64,
    /// The median warm-rebuild speedup (original / optimized) after a
    /// source-only edit, over the cases where both were measured.
    pub median_rebuild_speedup: Option<f64>,
    /// Base images that were local stand-ins (sizes are not the official ones).
    pub standin_bases: Vec<String>,
    /// The builders that built the cases (build times depend on it).
    pub builders: Vec<String>,
}

/// The whole report (`--json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchReport {
    pub summary: Summary,
    pub cases: Vec<CaseResult>,
}

pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    })
}

pub fn summarize(cases: &[CaseResult]) -> Summary {
    let count = |o: Outcome| cases.iter().filter(|c| c.outcome == o).count();
    let measured: Vec<&CaseResult> = cases
        .iter()
        .filter(|c| c.original.is_some() && c.optimized.is_some())
        .collect();
    let mut saved: Vec<f64> = measured.iter().filter_map(|c| c.saved_percent).collect();
    let mut speedups: Vec<f64> = cases
        .iter()
        .filter_map(CaseResult::rebuild_speedup)
        .collect();
    let mut standins: Vec<String> = cases
        .iter()
        .flat_map(|c| c.standin_bases.iter().cloned())
        .collect();
    standins.sort();
    standins.dedup();
    let mut builders: Vec<String> = cases.iter().filter_map(|c| c.builder.clone()).collect();
    builders.sort();
    builders.dedup();
    Summary {
        cases: cases.len(),
        measured: measured.len(),
        verified: count(Outcome::Verified),
        not_verified: count(Outcome::NotVerified),
        unchanged: count(Outcome::Unchanged),
        failed: count(Outcome::Failed),
        expected_failures: cases
            .iter()
            .filter(|c| c.outcome != Outcome::Verified && c.expected_failure.is_some())
            .count(),
        median_saved_percent: median(&mut saved),
        total_original_bytes: measured
            .iter()
            .filter_map(|c| c.original.as_ref())
            .map(|m| m.size_bytes)
            .sum(),
        total_optimized_bytes: measured
            .iter()
            .filter_map(|c| c.optimized.as_ref())
            .map(|m| m.size_bytes)
            .sum(),
        median_rebuild_speedup: median(&mut speedups),
        standin_bases: standins,
        builders,
    }
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

fn secs(s: Option<f64>) -> String {
    s.map_or("—".into(), |s| format!("{s:.1} s"))
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn outcome_text(c: &CaseResult) -> String {
    let mut t = match c.outcome {
        Outcome::Verified => "yes".to_string(),
        Outcome::NotVerified => format!("**no**: {}", c.reasons.first().map_or("", |r| r)),
        Outcome::Unchanged => "no change".to_string(),
        Outcome::Failed => format!("**failed**: {}", c.reasons.first().map_or("", |r| r)),
    };
    if c.outcome != Outcome::Verified {
        if let Some(why) = &c.expected_failure {
            t.push_str(&format!(" (expected: {why})"));
        }
    }
    cell(&t)
}

/// The Markdown report: a table per case, then the summary.
pub fn markdown(report: &BenchReport) -> String {
    let s = &report.summary;
    let mut out = String::from("# dopt bench\n\n");
    if !s.standin_bases.is_empty() {
        out.push_str(&format!(
            "> **Sizes come from stand-in base images** built locally from Debian packages ({}); \
             absolute sizes differ from the official images, the difference between the two \
             versions is the Dockerfile's.\n\n",
            s.standin_bases.join(", ")
        ));
    }
    if !s.builders.is_empty() {
        out.push_str(&format!(
            "Built with {} (build and rebuild times depend on the builder).\n\n",
            s.builders.join(" and ")
        ));
    }
    out.push_str(
        "| case | before | after | saved | layers | cold build | warm rebuild | user | health | fixes dropped | verified |\n\
         |---|---:|---:|---:|---:|---:|---:|---|---|---:|---|\n",
    );
    for c in &report.cases {
        let (before, after) = (c.original.as_ref(), c.optimized.as_ref());
        let pair = |f: &dyn Fn(&super::run::Measure) -> String| match (before, after) {
            (Some(a), Some(b)) => format!("{} → {}", f(a), f(b)),
            (Some(a), None) => format!("{} → —", f(a)),
            _ => "—".into(),
        };
        let user = |m: &super::run::Measure| {
            if m.user.is_empty() {
                "root".to_string()
            } else {
                m.user.clone()
            }
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            cell(&c.name),
            before.map_or("—".into(), |m| mb(m.size_bytes)),
            after.map_or("—".into(), |m| mb(m.size_bytes)),
            c.saved_percent.map_or("—".into(), |p| format!("{p:.0}%")),
            pair(&|m| m.layers.to_string()),
            pair(&|m| secs(m.cold_build_seconds)),
            pair(&|m| secs(m.warm_rebuild_seconds)),
            pair(&user),
            after
                .and_then(|m| m.health.clone())
                .unwrap_or_else(|| "—".into()),
            c.fixes_dropped,
            outcome_text(c),
        ));
    }
    out.push_str(&format!(
        "\n**{} case(s)**: {} verified, {} not verified, {} unchanged, {} failed{}. ",
        s.cases,
        s.verified,
        s.not_verified,
        s.unchanged,
        s.failed,
        if s.expected_failures > 0 {
            format!(
                " ({} of them expected, see the case files)",
                s.expected_failures
            )
        } else {
            String::new()
        }
    ));
    if let Some(m) = s.median_saved_percent {
        out.push_str(&format!(
            "Median size saving **{m:.0}%** over {} measured case(s); in total {} → {}. ",
            s.measured,
            mb(s.total_original_bytes),
            mb(s.total_optimized_bytes)
        ));
    }
    if let Some(x) = s.median_rebuild_speedup {
        out.push_str(&format!(
            "Median warm rebuild after a source-only edit: **{x:.1}x** faster."
        ));
    }
    out.push('\n');
    out
}

/// The CI gates that fail, each with its reason: `--fail-under-median PCT`,
/// `--require-verified` (a case that did not verify and whose case.yaml does
/// not expect it), and always a case that could not be run at all (unless
/// expected).
pub fn gates(
    report: &BenchReport,
    fail_under_median: Option<f64>,
    require_verified: bool,
) -> Vec<String> {
    let s = &report.summary;
    let mut failed = Vec::new();
    if let Some(pct) = fail_under_median {
        match s.median_saved_percent {
            Some(m) if m >= pct => {}
            Some(m) => failed.push(format!(
                "the median size saving is {m:.1}%, under --fail-under-median {pct}%"
            )),
            None => failed.push("no case was measured, so there is no median".into()),
        }
    }
    let unexpected = |o: Outcome| -> Vec<&str> {
        report
            .cases
            .iter()
            .filter(|c| c.outcome == o && c.expected_failure.is_none())
            .map(|c| c.name.as_str())
            .collect()
    };
    let not_verified = unexpected(Outcome::NotVerified);
    if require_verified && !not_verified.is_empty() {
        failed.push(format!(
            "--require-verified: {} did not verify",
            not_verified.join(", ")
        ));
    }
    let failed_cases = unexpected(Outcome::Failed);
    if !failed_cases.is_empty() {
        failed.push(format!("{} could not be run", failed_cases.join(", ")));
    }
    failed
}

/// A short plain-text line per case, for the terminal as cases finish.
pub fn line(c: &CaseResult) -> String {
    let size = match (&c.original, &c.optimized, c.saved_percent) {
        (Some(a), Some(b), Some(p)) => {
            format!("{} -> {} ({p:.0}%)", mb(a.size_bytes), mb(b.size_bytes))
        }
        _ => "-".into(),
    };
    let verdict = match c.outcome {
        Outcome::Verified => "verified".to_string(),
        Outcome::NotVerified => format!(
            "NOT verified: {}",
            c.reasons.first().map_or("", |r| r.as_str())
        ),
        Outcome::Unchanged => "no change".into(),
        Outcome::Failed => format!("FAILED: {}", c.reasons.first().map_or("", |r| r.as_str())),
    };
    format!("{:<32} {:<34} {verdict} [{:.0} s]", c.name, size, c.seconds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::run::Measure;

    fn case(name: &str, before: u64, after: u64, outcome: Outcome) -> CaseResult {
        let m = |size| Measure {
            size_bytes: size,
            layers: 5,
            cold_build_seconds: Some(10.0),
            warm_rebuild_seconds: Some(if size == before { 8.0 } else { 1.0 }),
            user: String::new(),
            health: None,
        };
        CaseResult {
            name: name.into(),
            dockerfile: format!("{name}/Dockerfile"),
            outcome,
            original: Some(m(before)),
            optimized: Some(m(after)),
            saved_percent: Some((before - after) as f64 / before as f64 * 100.0),
            fixes_kept: 3,
            fixes_dropped: 0,
            reasons: if outcome == Outcome::Verified {
                vec![]
            } else {
                vec!["HTTP 500".into()]
            },
            standin_bases: vec!["node:20".into()],
            builder: Some("BuildKit".into()),
            notes: None,
            expected_failure: None,
            seconds: 30.0,
        }
    }

    #[test]
    fn summary_and_markdown() {
        let cases = vec![
            case("a", 1000, 400, Outcome::Verified),
            case("b", 1000, 100, Outcome::Verified),
            case("c", 1000, 900, Outcome::NotVerified),
        ];
        let s = summarize(&cases);
        assert_eq!((s.verified, s.not_verified, s.measured), (2, 1, 3));
        assert_eq!(s.median_saved_percent, Some(60.0));
        assert_eq!(s.median_rebuild_speedup, Some(8.0));
        assert_eq!(s.standin_bases, ["node:20"]);
        let md = markdown(&BenchReport { summary: s, cases });
        assert!(md.contains("stand-in base images"), "{md}");
        assert!(md.contains("| a | 0.0 MB | 0.0 MB | 60% |"), "{md}");
        assert!(md.contains("**no**: HTTP 500"), "{md}");
        assert!(md.contains("Median size saving **60%**"), "{md}");
        assert_eq!(median(&mut [3.0, 1.0, 2.0, 10.0]), Some(2.5));
    }

    #[test]
    fn gates_fail_with_reasons() {
        let mut cases = vec![
            case("a", 1000, 400, Outcome::Verified),
            case("c", 1000, 900, Outcome::NotVerified),
        ];
        let report = |cases: &Vec<CaseResult>| BenchReport {
            summary: summarize(cases),
            cases: cases.clone(),
        };
        // Median 35%: under 60 fails, under 30 passes.
        let r = report(&cases);
        assert_eq!(gates(&r, Some(30.0), false), Vec::<String>::new());
        let g = gates(&r, Some(60.0), true);
        assert_eq!(g.len(), 2, "{g:?}");
        assert!(
            g[0].contains("35.0%") && g[1].contains("c did not verify"),
            "{g:?}"
        );
        // An expected failure does not fail --require-verified.
        cases[1].expected_failure = Some("known".into());
        assert!(gates(&report(&cases), None, true).is_empty());
        // A case that could not be run always fails the run.
        cases.push(case("d", 1000, 1000, Outcome::Failed));
        let g = gates(&report(&cases), None, false);
        assert_eq!(g, ["d could not be run"]);
        assert_eq!(median(&mut []), None);
    }
}
