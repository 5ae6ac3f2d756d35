//! One trial of the fix search (see `bisect.rs`): the Dockerfile with a subset of
//! the fixes is built with the layer cache (steps before the first changed one
//! come from the original's build) and run against the original's recorded run.
//!
//! Depends only on the leaf modules (build, pack, measure, verify, removals), not
//! on the session in `mod.rs`, which hands over what it needs and removes the
//! images listed in [`Trials::images`] at the end.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use super::bisect::{FixSearch, Search, Tester, TrialResult, Variant};
use super::build::{self, BuildSpec, BuilderKind};
use super::dockerignore::DockerIgnore;
use super::engine::Engine;
use super::error::DockerError;
use super::measure::{self, ImageFacts};
use super::pack;
use super::removals::{self, RemovalEvidence};
use super::report::{FixVerdict, SearchReport, TrialBuild};
use super::verify::{self, OriginalRun, Verification, VerifySettings};

/// How trials build: the same context, arguments, target, builder and network
/// as the two main builds.
pub(crate) struct TrialBuildSettings<'a> {
    pub context_dir: &'a Path,
    pub dockerfile_name: &'a str,
    pub build_args: &'a [(String, String)],
    pub target: Option<&'a str>,
    pub builder: BuilderKind,
    pub network: Option<&'a str>,
    pub timeout: Option<Duration>,
    pub labels: &'a HashMap<String, String>,
    pub run_id: &'a str,
    pub verify_path: &'a str,
    pub run_timeout: Duration,
    /// HTTP paths to probe on the original (see `probe.rs`).
    pub probe_paths: &'a [String],
}

pub(crate) struct Trials<'a> {
    pub engine: &'a Engine,
    pub bar: &'a indicatif::ProgressBar,
    pub settings: TrialBuildSettings<'a>,
    /// The original text as given (a variant equal to it needs no build).
    pub original_text: &'a str,
    pub original_facts: &'a ImageFacts,
    pub original_run: &'a OriginalRun,
    /// The same preparation the main builds got (`# syntax=` dropped offline,
    /// unneeded heredoc stages left out).
    pub prepare: &'a (dyn Fn(&str) -> String + Sync),
    pub variant: &'a (dyn Fn(&[usize]) -> Option<Variant> + Sync),
    /// Out: tags made (to remove), classic builder intermediates, the builds,
    /// and the image and verification of every set that passed.
    pub images: Vec<String>,
    pub intermediate_ids: Vec<String>,
    pub builds: Vec<TrialBuild>,
    pub passed: HashMap<Variant, (ImageFacts, Verification)>,
    /// Results by variant: different sets that give the same file build once.
    by_variant: HashMap<Variant, TrialResult>,
}

impl<'a> Trials<'a> {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        engine: &'a Engine,
        bar: &'a indicatif::ProgressBar,
        settings: TrialBuildSettings<'a>,
        original_text: &'a str,
        original_facts: &'a ImageFacts,
        original_run: &'a OriginalRun,
        prepare: &'a (dyn Fn(&str) -> String + Sync),
        variant: &'a (dyn Fn(&[usize]) -> Option<Variant> + Sync),
    ) -> Self {
        Trials {
            engine,
            bar,
            settings,
            original_text,
            original_facts,
            original_run,
            prepare,
            variant,
            images: Vec::new(),
            intermediate_ids: Vec::new(),
            builds: Vec::new(),
            passed: HashMap::new(),
            by_variant: HashMap::new(),
        }
    }

    async fn try_variant(&mut self, kept: &[usize], variant: &Variant) -> TrialResult {
        let s = &self.settings;
        let fail = |evidence: String| TrialResult {
            passed: false,
            evidence: vec![evidence],
        };
        let text = (self.prepare)(&variant.text);
        let tar = match pack::context_tar(
            s.context_dir,
            s.dockerfile_name,
            text.as_bytes(),
            s.builder,
            &variant.new_files,
        ) {
            Ok(tar) => tar,
            Err(e) => return fail(format!("cannot pack the build context: {e}")),
        };
        let n = self.builds.len() + 1;
        let tag = format!("{}:trial-{n}", s.run_id);
        self.images.push(tag.clone());
        self.bar.set_prefix(format!("search {n}"));
        let spec = BuildSpec {
            label: format!("trial {n} ({} fixes)", kept.len()),
            context_tar: tar,
            dockerfile_name: s.dockerfile_name,
            tag: tag.clone(),
            build_args: s.build_args,
            target: s.target,
            builder: s.builder,
            network: s.network,
            // The layer cache: steps the fixes left alone are not rebuilt.
            no_cache: false,
            timeout: s.timeout,
            log_mirror: None,
            labels: s.labels,
        };
        let outcome = build::build(self.engine, spec, self.bar).await;
        if s.builder == BuilderKind::Classic {
            self.intermediate_ids
                .extend(build::classic_intermediate_ids(&outcome.log));
        }
        let mut record = TrialBuild {
            fixes_applied: kept.len(),
            build_seconds: outcome.duration.as_secs_f64(),
            verify_seconds: 0.0,
            built: outcome.failure.is_none(),
            passed: false,
        };
        if let Some(failure) = &outcome.failure {
            self.builds.push(record);
            let mut evidence = vec![format!("the build failed: {failure}")];
            evidence.extend(failing_build_line(&outcome.log));
            return TrialResult {
                passed: false,
                evidence,
            };
        }
        let facts = match measure::inspect(self.engine, &tag).await {
            Ok(facts) => facts,
            Err(e) => {
                self.builds.push(record);
                return fail(format!("cannot inspect the built image: {e}"));
            }
        };
        let new_dockerignore =
            pack::applied_new_dockerignore(s.context_dir, s.dockerfile_name, &variant.new_files);
        let verify_settings = VerifySettings {
            run_id: s.run_id,
            labels: s.labels,
            path: s.verify_path,
            timeout: s.run_timeout,
            removal_evidence: RemovalEvidence {
                new_dockerignore: new_dockerignore
                    .map(|text| (DockerIgnore::parse(text), s.context_dir)),
                production_install: removals::installs_production_only(&text),
                split: removals::split_evidence(
                    self.original_text,
                    &variant.text,
                    Some(s.context_dir),
                    Some(s.dockerfile_name),
                ),
            },
        };
        let started = Instant::now();
        let verification = verify::verify_against(
            self.engine,
            self.original_facts,
            self.original_run,
            (&tag, &facts),
            &verify_settings,
        )
        .await;
        record.verify_seconds = started.elapsed().as_secs_f64();
        let verification = match verification {
            Ok(v) => v,
            Err(e) => {
                self.builds.push(record);
                return fail(format!("cannot run the built image: {e}"));
            }
        };
        record.passed = verification.verified;
        self.builds.push(record);
        let evidence = evidence_of(&verification);
        let passed = verification.verified;
        if passed {
            self.passed.insert(variant.clone(), (facts, verification));
        }
        TrialResult { passed, evidence }
    }
}

impl Tester for Trials<'_> {
    async fn trial(&mut self, kept: &[usize]) -> TrialResult {
        let Some(variant) = (self.variant)(kept) else {
            return TrialResult {
                passed: false,
                evidence: vec!["the fix loop with these fixes alone does not converge".into()],
            };
        };
        if variant.text == self.original_text && variant.new_files.is_empty() {
            return TrialResult {
                passed: true,
                evidence: Vec::new(),
            };
        }
        if let Some(result) = self.by_variant.get(&variant) {
            return result.clone();
        }
        let result = self.try_variant(kept, &variant).await;
        self.by_variant.insert(variant, result.clone());
        result
    }
}

/// Everything the search needs from the session.
pub(crate) struct SearchInputs<'a> {
    pub engine: &'a Engine,
    pub bar: &'a indicatif::ProgressBar,
    pub settings: TrialBuildSettings<'a>,
    pub original_text: &'a str,
    /// The original's tag and facts, and its run when the verification ran it.
    pub original: (&'a str, &'a ImageFacts),
    pub original_run: Option<OriginalRun>,
    pub prepare: &'a (dyn Fn(&str) -> String + Sync),
    /// What the build or run of the file with every fix showed.
    pub all_failed: Vec<String>,
}

/// What the search leaves for the session to clean up.
pub(crate) struct SearchLeftovers {
    pub images: Vec<String>,
    pub intermediate_ids: Vec<String>,
}

/// Runs the search of `bisect.rs` with Docker trials.
pub(crate) async fn search(
    inputs: SearchInputs<'_>,
    search: &FixSearch<'_>,
) -> Result<(SearchReport, SearchLeftovers), DockerError> {
    let SearchInputs {
        engine,
        bar,
        settings,
        original_text,
        original,
        original_run,
        prepare,
        all_failed,
    } = inputs;
    let original_run = match original_run {
        Some(run) => run,
        None => {
            bar.set_prefix("verify");
            bar.set_message("running the original");
            let verify_settings = VerifySettings {
                run_id: settings.run_id,
                labels: settings.labels,
                path: settings.verify_path,
                timeout: settings.run_timeout,
                removal_evidence: RemovalEvidence::default(),
            };
            verify::run_original(engine, original, &verify_settings, settings.probe_paths).await?
        }
    };
    let mut trials = Trials::new(
        engine,
        bar,
        settings,
        original_text,
        original.1,
        &original_run,
        prepare,
        search.variant,
    );
    let outcome = Search {
        groups: search.groups(),
        all_failed,
        max_trials: search.max_builds,
    }
    .run(&mut trials)
    .await;
    let kept = (!outcome.kept.is_empty())
        .then(|| (search.variant)(&outcome.kept))
        .flatten()
        .and_then(|variant| trials.passed.get(&variant).cloned());
    let fixes = search
        .fixes
        .iter()
        .cloned()
        .zip(outcome.verdicts)
        .map(|(fix, verdict)| FixVerdict { fix, verdict })
        .collect();
    let report = SearchReport {
        fixes,
        builds: trials.builds,
        max_builds: search.max_builds,
        capped: outcome.capped,
        kept_size_saved_bytes: kept
            .as_ref()
            .map(|(facts, _)| original.1.size_bytes as i64 - facts.size_bytes as i64),
        kept_image: kept.as_ref().map(|(facts, _)| facts.clone()),
        kept_verification: kept.map(|(_, v)| v),
    };
    Ok((
        report,
        SearchLeftovers {
            images: trials.images,
            intermediate_ids: trials.intermediate_ids,
        },
    ))
}

/// What a failed verification holds against the image: its reasons, then the
/// `permission denied` lines of its container's output.
pub(crate) fn evidence_of(verification: &Verification) -> Vec<String> {
    if verification.verified {
        return Vec::new();
    }
    let mut evidence = verification.reasons.clone();
    evidence.extend(
        verification
            .optimized
            .denied
            .iter()
            .map(|line| format!("container log: {line}")),
    );
    evidence
}

/// The line of a failed build log that says what failed: the last line with
/// `error`, `returned a non-zero code`, `not found` or `denied`.
pub(crate) fn failing_build_line(log: &str) -> Option<String> {
    log.lines()
        .rev()
        .map(str::trim)
        .find(|line| {
            let lower = line.to_ascii_lowercase();
            ["error", "non-zero code", "not found", "denied"]
                .iter()
                .any(|word| lower.contains(word))
        })
        .map(|line| format!("build log: {}", line.chars().take(300).collect::<String>()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_failing_build_line_is_the_last_error() {
        let log = "Step 1/3 : FROM debian\nStep 2/3 : RUN apt-get install -y nginx\n\
                   E: Unable to locate package nginx\n\
                   The command '/bin/sh -c apt-get install -y nginx' returned a non-zero code: 100\n";
        assert_eq!(
            failing_build_line(log).as_deref(),
            Some(
                "build log: The command '/bin/sh -c apt-get install -y nginx' returned a \
                 non-zero code: 100"
            )
        );
        assert_eq!(failing_build_line("Step 1/1 : FROM x\nok\n"), None);
    }

    #[test]
    fn permission_errors_are_picked_from_container_output() {
        let out = "starting\nnginx: [emerg] bind() to 0.0.0.0:80 failed (13: Permission denied)\n\
                   PermissionError: [Errno 13] Permission denied: '/var/log/app.log'\nok\n";
        assert_eq!(verify::denied_lines(out).len(), 2);
        assert!(verify::denied_lines("all fine\n").is_empty());
    }
}
