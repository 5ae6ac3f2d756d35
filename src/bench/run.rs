//! Running the cases: each one is `dopt suggest --unsafe --build --json` in a
//! process of its own (the same build, verification, fix-by-fix search and
//! measurement as a user's run; a case that fails or hangs never takes the
//! others down), `--jobs` at a time, sharing the engine and its layer cache.

use super::case::Case;
use crate::docker::report::Report;
use serde::Serialize;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// How to run the cases.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// The `dopt` executable to run for each case.
    pub dopt: PathBuf,
    pub jobs: usize,
    /// `--network` for the builds (`host` where installs need it).
    pub network: Option<String>,
    /// `--builder` for the builds (`auto`, `classic`, `buildkit`).
    pub builder: Option<&'static str>,
    pub run_timeout: Option<u64>,
    pub max_builds: Option<usize>,
    /// Show progress (a terminal): one line per running case.
    pub progress: bool,
}

/// One image's measurements.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measure {
    pub size_bytes: u64,
    pub layers: usize,
    pub cold_build_seconds: Option<f64>,
    pub warm_rebuild_seconds: Option<f64>,
    /// `Config.User` (empty: root).
    pub user: String,
    /// The HEALTHCHECK's state when dopt ran the image (`healthy`...), if any.
    pub health: Option<String>,
}

/// What happened to a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Built both, and the written file verified.
    Verified,
    /// Built, but the written file did not verify (or the probe failed).
    NotVerified,
    /// No fix changes the file: nothing to build.
    Unchanged,
    /// The case could not be run (the original did not build, no engine, ...).
    Failed,
}

/// The result of one case.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseResult {
    pub name: String,
    pub dockerfile: String,
    pub outcome: Outcome,
    pub original: Option<Measure>,
    /// The image of the file dopt would write: every fix when that verified,
    /// else the fixes the search kept.
    pub optimized: Option<Measure>,
    /// (original - optimized) / original, in percent.
    pub saved_percent: Option<f64>,
    pub fixes_kept: usize,
    pub fixes_dropped: usize,
    /// Why it did not verify, or failed.
    pub reasons: Vec<String>,
    pub standin_bases: Vec<String>,
    /// The builder that built both versions (`classic`, `BuildKit`).
    pub builder: Option<String>,
    pub notes: Option<String>,
    /// The case expected not to verify (a known gap, with its reason).
    pub expected_failure: Option<String>,
    pub seconds: f64,
}

impl CaseResult {
    /// Warm rebuild after a source-only edit: original / optimized.
    pub fn rebuild_speedup(&self) -> Option<f64> {
        let a = self.original.as_ref()?.warm_rebuild_seconds?;
        let b = self.optimized.as_ref()?.warm_rebuild_seconds?;
        (b > 0.0).then(|| a / b)
    }
}

/// Runs every case, `settings.jobs` at a time; `on_done` sees each result as
/// it finishes. Results come back in the cases' order.
pub fn run_all(
    cases: &[Case],
    settings: &Settings,
    on_done: &(dyn Fn(&CaseResult) + Sync),
) -> Vec<CaseResult> {
    let next = Arc::new(Mutex::new(0usize));
    let results: Arc<Mutex<Vec<Option<CaseResult>>>> =
        Arc::new(Mutex::new(vec![None; cases.len()]));
    let bars = indicatif::MultiProgress::with_draw_target(if settings.progress {
        indicatif::ProgressDrawTarget::stderr()
    } else {
        indicatif::ProgressDrawTarget::hidden()
    });
    std::thread::scope(|scope| {
        for _ in 0..settings.jobs.max(1) {
            let next = Arc::clone(&next);
            let results = Arc::clone(&results);
            let bars = bars.clone();
            scope.spawn(move || loop {
                let i = {
                    let mut n = next.lock().expect("queue");
                    let i = *n;
                    *n += 1;
                    i
                };
                let Some(case) = cases.get(i) else { break };
                let bar = bars.add(indicatif::ProgressBar::new_spinner());
                bar.set_style(
                    indicatif::ProgressStyle::with_template("{spinner} [{elapsed:>4}] {msg}")
                        .expect("template"),
                );
                bar.enable_steady_tick(std::time::Duration::from_millis(200));
                bar.set_message(format!("{}: building both versions", case.name));
                let result = run_case(case, settings);
                bar.finish_and_clear();
                bars.remove(&bar);
                on_done(&result);
                results.lock().expect("results")[i] = Some(result);
            });
        }
    });
    Arc::try_unwrap(results)
        .expect("threads joined")
        .into_inner()
        .expect("results")
        .into_iter()
        .map(|r| r.expect("every case ran"))
        .collect()
}

/// Runs one case.
pub fn run_case(case: &Case, settings: &Settings) -> CaseResult {
    let started = Instant::now();
    let mut result = CaseResult {
        name: case.name.clone(),
        dockerfile: case.dockerfile.display().to_string(),
        outcome: Outcome::Failed,
        original: None,
        optimized: None,
        saved_percent: None,
        fixes_kept: 0,
        fixes_dropped: 0,
        reasons: Vec::new(),
        standin_bases: Vec::new(),
        builder: None,
        notes: case.notes.clone(),
        expected_failure: (!case.expect.verified).then(|| {
            case.expect
                .reason
                .clone()
                .unwrap_or_else(|| "(no reason given)".into())
        }),
        seconds: 0.0,
    };
    let mut cmd = Command::new(&settings.dopt);
    cmd.args([
        "--color", "never", "suggest", "--unsafe", "--build", "--json",
    ])
    .arg("--context")
    .arg(&case.context);
    if let Some(t) = &case.target {
        cmd.args(["--target", t]);
    }
    for (k, v) in &case.build_args {
        cmd.arg("--build-arg").arg(format!("{k}={v}"));
    }
    if let Some(p) = &case.probe.path {
        cmd.args(["--verify-path", p]);
    }
    if let Some(n) = &settings.network {
        cmd.args(["--network", n]);
    }
    if let Some(b) = settings.builder {
        cmd.args(["--builder", b]);
    }
    if let Some(t) = case.run_timeout.or(settings.run_timeout) {
        cmd.args(["--run-timeout", &t.to_string()]);
    }
    if let Some(m) = settings.max_builds {
        cmd.args(["--max-builds", &m.to_string()]);
    }
    cmd.arg(&case.dockerfile);
    let output = match cmd.output() {
        Ok(o) => o,
        Err(e) => {
            result
                .reasons
                .push(format!("cannot run {}: {e}", settings.dopt.display()));
            result.seconds = started.elapsed().as_secs_f64();
            return result;
        }
    };
    result.seconds = started.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // No fix changes the file: nothing was built (`--json` prints `[]`).
    if output.status.code() != Some(2)
        && stderr.contains("Nothing to build")
        && matches!(stdout.trim(), "" | "[]")
    {
        result.outcome = Outcome::Unchanged;
        return result;
    }
    if stdout.trim().is_empty() {
        result.reasons.push(tail(&stderr));
        return result;
    }
    match serde_json::from_str::<Report>(&stdout) {
        Ok(report) => fill(&mut result, &report, case),
        Err(e) => result
            .reasons
            .push(format!("unreadable report ({e}): {}", tail(&stderr))),
    }
    result
}

/// The last lines of a process's stderr, for a failure's reason.
fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = lines.len().saturating_sub(4);
    let t = lines[start..].join(" / ");
    if t.is_empty() {
        "dopt printed nothing".into()
    } else {
        t
    }
}

fn measure(
    image: &crate::docker::measure::ImageFacts,
    version: Option<&crate::docker::report::VersionReport>,
    health: Option<String>,
) -> Measure {
    Measure {
        size_bytes: image.size_bytes,
        layers: image.layers,
        cold_build_seconds: version.map(|v| v.cold_build_seconds),
        warm_rebuild_seconds: version.and_then(|v| v.warm_rebuild_seconds),
        user: image.config_user.clone(),
        health,
    }
}

fn fill(result: &mut CaseResult, report: &Report, case: &Case) {
    result.standin_bases = report.standin_names.clone();
    result.builder = Some(report.builder.to_string());
    let Some(original) = &report.original.image else {
        result.reasons.push(format!(
            "the original did not build: {}",
            report.original.build_error.clone().unwrap_or_default()
        ));
        return;
    };
    result.original = Some(measure(
        original,
        Some(&report.original),
        report
            .verification
            .as_ref()
            .and_then(|v| v.original.health.clone()),
    ));
    let verification = report.verification.as_ref();
    let (image, version, verified, health) = if report.verified {
        (
            report.optimized.image.as_ref(),
            Some(&report.optimized),
            true,
            verification.and_then(|v| v.optimized.health.clone()),
        )
    } else if let Some(search) = report.search.as_ref().filter(|s| s.kept_image.is_some()) {
        let kept = search.kept_verification.as_ref();
        (
            search.kept_image.as_ref(),
            None,
            kept.is_some_and(|v| v.verified),
            kept.and_then(|v| v.optimized.health.clone()),
        )
    } else {
        (
            report.optimized.image.as_ref(),
            Some(&report.optimized),
            false,
            verification.and_then(|v| v.optimized.health.clone()),
        )
    };
    if let Some(search) = &report.search {
        use crate::docker::Verdict;
        result.fixes_kept = search
            .fixes
            .iter()
            .filter(|f| f.verdict == Verdict::Kept)
            .count();
        result.fixes_dropped = search.fixes.len() - result.fixes_kept;
        for f in &search.fixes {
            if let Verdict::Dropped { evidence } = &f.verdict {
                result.reasons.push(format!(
                    "dropped {} ({}): {}",
                    f.fix.code,
                    f.fix.name,
                    evidence.join("; ")
                ));
            }
        }
    }
    if let Some(image) = image {
        let m = measure(image, version, health);
        let before = original.size_bytes as f64;
        if before > 0.0 {
            result.saved_percent = Some((before - m.size_bytes as f64) / before * 100.0);
        }
        result.optimized = Some(m);
    }
    if !verified {
        if let Some(v) = verification {
            result.reasons.extend(v.reasons.iter().cloned());
        }
        if let Some(e) = &report.optimized.build_error {
            result
                .reasons
                .push(format!("the optimized file did not build: {e}"));
        }
    }
    let mut ok = verified && image.is_some();
    // The case's own probe of the optimized image.
    if let Some(obs) = verification
        .map(|v| &v.optimized)
        .filter(|_| report.verified)
    {
        if let (Some(want), got) = (case.probe.status, obs.http_status) {
            if got != Some(want) {
                ok = false;
                result
                    .reasons
                    .push(format!("probe: expected HTTP {want}, got {got:?}"));
            }
        }
        if let Some(want) = &case.probe.output {
            if !obs
                .stdout
                .as_deref()
                .is_some_and(|s| s.contains(want.as_str()))
            {
                ok = false;
                result
                    .reasons
                    .push(format!("probe: the output does not contain {want:?}"));
            }
        }
    }
    result.outcome = if ok {
        Outcome::Verified
    } else {
        Outcome::NotVerified
    };
}
