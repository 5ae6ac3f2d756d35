//! docker: build the original and the optimized Dockerfile through the Docker
//! Engine API (bollard), check that the optimized image still works, and measure
//! what changed. This is what turns dopt's suggestions into *verified* savings.
//!
//! Entry points: [`compare`] (async) and [`compare_blocking`]. Both versions are
//! built from the same context, build arguments, target and builder; each is built
//! once without cache (cold build time, image size, layers), then rebuilt with
//! cache after a source-only edit (warm rebuild time). Then both images are run and
//! compared (see [`verify`]). Everything dopt created is removed at the end unless
//! [`BuildOptions::keep_images`] is set.

pub mod bisect;
mod build;
pub mod cache;
pub mod context;
pub mod dockerignore;
pub mod endpoint;
pub mod engine;
mod error;
pub mod measure;
mod owner;
mod pack;
mod probe;
pub mod removals;
pub mod report;
mod stages;
mod trial;
pub mod verify;

use std::path::PathBuf;
use std::time::Duration;

use bollard::query_parameters::{RemoveImageOptions, RemoveImageOptionsBuilder};

pub use bisect::{Candidate, FixSearch, Variant, Verdict};
pub use build::{needs_buildkit, BuilderKind};
pub use engine::{connect, Engine};
pub use error::DockerError;
pub use measure::ImageFacts;
pub use removals::{ExplainedRemoval, RemovalCause};
pub use report::{
    BaseImage, EngineInfo, FixVerdict, Report, SearchReport, TrialBuild, VersionReport,
};
pub use verify::{RunObservation, Verification, VerifyMode};

use build::{BuildOutcome, BuildSpec};

/// Which builder to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BuilderChoice {
    /// BuildKit when either Dockerfile uses BuildKit-only syntax (`RUN --mount`,
    /// heredocs, `COPY --link`...), the classic builder otherwise (it needs no
    /// gRPC session and never tries to reach a registry for metadata).
    #[default]
    Auto,
    Classic,
    BuildKit,
}

/// How to build, run and measure.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The build context directory.
    pub context_dir: PathBuf,
    /// The Dockerfile's name inside the context (both versions are sent under this
    /// name, so `.dockerignore` rules that mention it act the same).
    pub dockerfile_name: String,
    /// `--build-arg` pairs, passed to both builds.
    pub build_args: Vec<(String, String)>,
    /// `--target` stage, for both builds.
    pub target: Option<String>,
    pub builder: BuilderChoice,
    /// Network for RUN steps (`--network`), e.g. `host` where package registries
    /// are only reachable through the host network.
    pub network: Option<String>,
    /// Keep the built images (tags are listed in the report).
    pub keep_images: bool,
    /// Path requested when verifying a server (`GET <path>`).
    pub verify_path: String,
    /// How long each image gets to answer (or its command to finish) when verified.
    pub timeout: Duration,
    /// Show a progress spinner (only on a terminal, never when `CI` is set).
    pub progress: bool,
    /// Files the fixes create next to the Dockerfile (`Outcome::new_files`: path
    /// relative to the build context, contents), e.g. the `.dockerignore` of DOP022.
    /// They are packed into the *optimized* version's context only, never written to
    /// the folder; as with `dopt apply`, a file that already exists is kept as is.
    pub optimized_extra_files: Vec<(String, String)>,
    /// The longest one build (each cold or warm build of each version) may take;
    /// a build still running then is stopped and reported as failed. `None` waits
    /// for ever.
    pub build_timeout: Option<Duration>,
    /// HTTP paths to probe on the running original besides `verify_path` (e.g. the
    /// routes found in the sources), before the conventional health paths.
    pub probe_paths: Vec<String>,
    /// Where finished reports are kept to be reused by an identical run (see
    /// `cache.rs`); `None`: always build. The CLI sets [`cache::default_dir`].
    pub report_cache: Option<PathBuf>,
}

impl BuildOptions {
    /// Defaults: `Dockerfile`, no build args or target, automatic builder, default
    /// network, images removed, `GET /`, 60 s run timeout, progress shown, no new
    /// files, 30 min per build.
    pub fn new(context_dir: impl Into<PathBuf>) -> Self {
        BuildOptions {
            context_dir: context_dir.into(),
            dockerfile_name: "Dockerfile".into(),
            build_args: Vec::new(),
            target: None,
            builder: BuilderChoice::Auto,
            network: None,
            keep_images: false,
            verify_path: "/".into(),
            timeout: Duration::from_secs(60),
            progress: true,
            optimized_extra_files: Vec::new(),
            build_timeout: Some(Duration::from_secs(30 * 60)),
            probe_paths: Vec::new(),
            report_cache: None,
        }
    }
}

/// Builds both versions, measures them and verifies the optimized one.
///
/// `original` and `optimized` are the Dockerfile texts. Errors are returned only
/// when no comparison is possible (no engine, unreadable context, the original does
/// not build); a failing optimized build is reported in the [`Report`].
///
/// First, the images and containers that earlier dopt runs of this host left
/// when they were killed (SIGKILL, a CI timeout) are removed, with a note in the
/// report (see `owner.rs`).
///
/// Ctrl-C (SIGINT) is caught while this runs: the build in progress is cancelled,
/// every image and container of this run is removed (even with
/// [`BuildOptions::keep_images`]: no report lists them), and
/// [`DockerError::Interrupted`] is returned. (Tokio keeps its SIGINT handler for
/// the rest of the process, so a later Ctrl-C no longer ends the process by
/// itself.)
pub async fn compare(
    original: &str,
    optimized: &str,
    opts: &BuildOptions,
) -> Result<Report, DockerError> {
    compare_with_search(original, optimized, opts, None).await
}

/// [`compare`], and when the optimized version does not build or verify, the
/// search for the fixes responsible (see `bisect.rs`): `Report::search` then
/// says which fixes verified and which were dropped, with their evidence.
pub async fn compare_with_search(
    original: &str,
    optimized: &str,
    opts: &BuildOptions,
    search: Option<&FixSearch<'_>>,
) -> Result<Report, DockerError> {
    let engine = engine::connect().await?;
    let stale_note = owner::remove_what_killed_runs_left(&engine).await;
    let run_id = run_id();
    let bar = build::progress_bar(opts.progress);
    let mut session = Session {
        engine: &engine,
        opts,
        run_id: &run_id,
        bar: &bar,
        images: Vec::new(),
        built_image_ids: Vec::new(),
        labels: owner::labels(&run_id, opts.keep_images),
        current_build_log: std::sync::Mutex::new(String::new()),
        current_builder: std::sync::Mutex::new(None),
        edit_nonce: pack::edit_nonce(),
    };
    let result = {
        let run = session.run(original, optimized, search);
        tokio::pin!(run);
        tokio::select! {
            result = &mut run => Some(result),
            () = interrupted() => None,
        }
    };
    bar.finish_and_clear();
    let Some(result) = result else {
        eprintln!("dopt: interrupted; removing the images and containers it created ...");
        // Bounded: a second Ctrl-C is caught too, and cleanup must not hang.
        let cleanup = async {
            session.remove_containers().await;
            session.remove_trial_images().await;
            session.remove_images().await;
            let log = session
                .current_build_log
                .lock()
                .map(|log| log.clone())
                .unwrap_or_default();
            let builder = session.current_builder.lock().ok().and_then(|b| *b);
            if let Some(builder) = builder {
                session.remove_failed_intermediates(builder, &log).await;
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(60), cleanup).await;
        return Err(DockerError::Interrupted);
    };
    let kept = if opts.keep_images {
        session.remove_stage_images().await;
        session.images.clone()
    } else {
        session.remove_images().await;
        Vec::new()
    };
    result.map(|mut report| {
        report.kept_images = kept;
        report.notes.extend(stale_note);
        report
    })
}

/// True when the original's runtime evidence changes the fixes (see
/// [`FixSearch::replans`]).
fn replanned(search: &FixSearch<'_>, verification: Option<&Verification>) -> bool {
    let runtime = verification.and_then(|v| v.original.runtime.as_ref());
    match (search.replans, runtime) {
        (Some(replans), Some(runtime)) => replans(runtime),
        _ => false,
    }
}

/// Resolves on Ctrl-C; never when no handler can be installed.
async fn interrupted() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// The exit status of a process ended by Ctrl-C (128 + SIGINT), as shells report it.
pub const INTERRUPTED_EXIT_CODE: i32 = 130;

/// [`compare`] on a fresh tokio runtime, for synchronous callers such as the CLI.
/// Called from inside a runtime, it runs on a scoped thread of its own (a runtime
/// cannot block inside another).
///
/// On Ctrl-C, after [`compare`] has removed what it created, the process exits
/// with status [`INTERRUPTED_EXIT_CODE`]: the SIGINT handler replaced the default
/// action, and a synchronous caller must not go on (e.g. `dopt apply --verify`
/// writing a file that was never verified).
pub fn compare_blocking(
    original: &str,
    optimized: &str,
    opts: &BuildOptions,
) -> Result<Report, DockerError> {
    compare_blocking_with_search(original, optimized, opts, None)
}

/// [`compare_with_search`] for synchronous callers (see [`compare_blocking`]).
pub fn compare_blocking_with_search(
    original: &str,
    optimized: &str,
    opts: &BuildOptions,
    search: Option<&FixSearch<'_>>,
) -> Result<Report, DockerError> {
    let result = compare_blocking_inner(original, optimized, opts, search);
    if let Err(DockerError::Interrupted) = result {
        eprintln!("dopt: {}", DockerError::Interrupted);
        std::process::exit(INTERRUPTED_EXIT_CODE);
    }
    result
}

fn compare_blocking_inner(
    original: &str,
    optimized: &str,
    opts: &BuildOptions,
    search: Option<&FixSearch<'_>>,
) -> Result<Report, DockerError> {
    let run = || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| DockerError::Runtime(e.to_string()))?;
        runtime.block_on(compare_with_search(original, optimized, opts, search))
    };
    if tokio::runtime::Handle::try_current().is_ok() {
        std::thread::scope(|scope| {
            scope
                .spawn(run)
                .join()
                .unwrap_or_else(|_| Err(DockerError::Runtime("the comparison panicked".into())))
        })
    } else {
        run()
    }
}

/// Removes a tag dopt made, and its image when no other tag names it (forced: a
/// stopped container of ours may still use it).
async fn remove_tag(engine: &Engine, tag: &str) {
    let _ = engine
        .docker
        .remove_image(
            tag,
            Some(RemoveImageOptionsBuilder::default().force(true).build()),
            None,
        )
        .await;
}

/// A short unique prefix for the tags and container names of one run.
fn run_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("dopt-{:x}{:x}", std::process::id(), nanos & 0xff_ffff)
}

struct Session<'a> {
    engine: &'a Engine,
    opts: &'a BuildOptions,
    run_id: &'a str,
    bar: &'a indicatif::ProgressBar,
    /// Every tag we created, for cleanup.
    images: Vec<String>,
    /// The images that the classic builder made for each step of the builds that
    /// succeeded, oldest first. Most go with their tag, but the last image of a
    /// stage other than the target is never tagged: without this it would stay
    /// behind as a dangling `<none>` image after every multi-stage build.
    built_image_ids: Vec<String>,
    /// Who made the images and containers (see `owner.rs`).
    labels: std::collections::HashMap<String, String>,
    /// The log of the latest build so far, and its builder: when interrupted, the
    /// steps it finished are found there.
    current_build_log: std::sync::Mutex<String>,
    current_builder: std::sync::Mutex<Option<BuilderKind>>,
    /// What the warm rebuild's source edit writes (new each run, and different
    /// for the two versions: see [`pack::with_source_edit`]).
    edit_nonce: u32,
}

impl Session<'_> {
    async fn run(
        &mut self,
        original: &str,
        optimized: &str,
        search: Option<&FixSearch<'_>>,
    ) -> Result<Report, DockerError> {
        let opts = self.opts;
        let mut notes = Vec::new();
        let (builder, builder_reason) = match opts.builder {
            BuilderChoice::Classic => (BuilderKind::Classic, "chosen by option".to_string()),
            BuilderChoice::BuildKit => (BuilderKind::BuildKit, "chosen by option".to_string()),
            BuilderChoice::Auto if needs_buildkit(original) || needs_buildkit(optimized) => (
                BuilderKind::BuildKit,
                "the Dockerfile uses BuildKit-only syntax: RUN --mount, heredocs, COPY --link \
                 or $BUILDPLATFORM"
                    .to_string(),
            ),
            BuilderChoice::Auto => (
                BuilderKind::Classic,
                "no BuildKit-only syntax in either Dockerfile".to_string(),
            ),
        };

        // BuildKit would pull the frontend image a `# syntax=` line names; offline
        // that fails, so fall back to the built-in frontend for both versions.
        let (mut original_text, mut optimized_text) = (original.to_string(), optimized.to_string());
        let mut syntax_disabled = false;
        if builder == BuilderKind::BuildKit {
            let frontends: Vec<String> = [original, optimized]
                .iter()
                .filter_map(|t| build::syntax_directive(t))
                .collect();
            let mut missing = Vec::new();
            for frontend in &frontends {
                if self.engine.docker.inspect_image(frontend).await.is_err()
                    && !missing.contains(frontend)
                {
                    missing.push(frontend.clone());
                }
            }
            if !missing.is_empty() {
                syntax_disabled = true;
                original_text = build::disable_syntax_directive(original);
                optimized_text = build::disable_syntax_directive(optimized);
                notes.push(format!(
                    "the `# syntax=` frontend image ({}) is not available locally, so both \
                     versions were built with BuildKit's built-in Dockerfile frontend",
                    missing.join(", ")
                ));
            }
        }

        // Built-in frontends (classic, or BuildKit's own) predate heredocs on older
        // engines, and parse every stage even with --target: leave out unneeded
        // stages that hold heredocs.
        let builtin_frontend = builder == BuilderKind::Classic
            || build::syntax_directive(&original_text).is_none()
            || original_text != original;
        if builtin_frontend {
            let target = opts.target.as_deref();
            let pruned_original = stages::without_unneeded_heredoc_stages(&original_text, target);
            let pruned_optimized = stages::without_unneeded_heredoc_stages(&optimized_text, target);
            if pruned_original.is_some() || pruned_optimized.is_some() {
                notes.push(format!(
                    "stages that the {} does not need, and that use heredocs, were left out of \
                     both builds (the engine's built-in Dockerfile frontend may not parse \
                     heredocs); the built image is the same",
                    target.map_or("last stage".to_string(), |t| format!("target `{t}`"))
                ));
            }
            if let Some(text) = pruned_original {
                original_text = text;
            }
            if let Some(text) = pruned_optimized {
                optimized_text = text;
            }
        }

        if builder == BuilderKind::BuildKit
            && [&original_text, &optimized_text]
                .iter()
                .any(|t| t.contains("type=cache"))
        {
            notes.push(
                "cache mounts (RUN --mount=type=cache) keep their contents across builds even \
                 without the layer cache, so the second cold build may profit from the first"
                    .into(),
            );
        }

        let dir = &opts.context_dir;
        let name = opts.dockerfile_name.as_str();
        let original_tar = pack::context_tar(dir, name, original_text.as_bytes(), builder, &[])?;
        let optimized_tar = pack::context_tar(
            dir,
            name,
            optimized_text.as_bytes(),
            builder,
            &opts.optimized_extra_files,
        )?;
        // The edited file must be in both contexts (a fix's `.dockerignore` may leave
        // files out of the optimized one), or one warm rebuild would edit nothing.
        let edit_file = pack::pick_source_file(&optimized_tar, name)
            .filter(|path| pack::contains_file(&original_tar, path));
        if edit_file.is_none() {
            notes.push(
                "the context has no text file besides dependency manifests and the \
                 Dockerfile, so warm rebuilds were not measured"
                    .into(),
            );
        }

        let cache_key = match &opts.report_cache {
            Some(_) if !opts.keep_images => Some(
                self.cache_key(
                    [&original_text, &optimized_text],
                    [&original_tar, &optimized_tar],
                    builder,
                    search,
                )
                .await,
            ),
            _ => None,
        };
        if let (Some(dir), Some(key)) = (&opts.report_cache, &cache_key) {
            if let Some(mut report) = cache::load(dir, key) {
                report.notes.push(format!(
                    "reused the result of an identical earlier run (same Dockerfiles, build \
                     context, base images and options) from {}; nothing was built. Set \
                     DOPT_VERIFY_CACHE=off to build again",
                    dir.display()
                ));
                return Ok(report);
            }
        }

        let run_id = self.run_id;
        let tag = |suffix: &str| format!("{run_id}:{suffix}");
        // A failed original returns early with `DockerError::OriginalBuildFailed`.
        let original_report = match self
            .build_version(
                "original",
                original_tar,
                tag("original"),
                builder,
                edit_file.as_deref(),
                stages::final_base_image(&original_text, opts.target.as_deref()),
            )
            .await?
        {
            Ok(report) | Err(report) => report,
        };
        let optimized_report = match self
            .build_version(
                "optimized",
                optimized_tar,
                tag("optimized"),
                builder,
                edit_file.as_deref(),
                stages::final_base_image(&optimized_text, opts.target.as_deref()),
            )
            .await?
        {
            Ok(report) | Err(report) => report,
        };

        let mut verification = None;
        let mut original_run = None;
        if let (Some(a), Some(b)) = (&original_report.image, &optimized_report.image) {
            self.bar.set_prefix("verify");
            self.bar.set_message("running both images");
            let new_dockerignore = pack::applied_new_dockerignore(
                &opts.context_dir,
                &opts.dockerfile_name,
                &opts.optimized_extra_files,
            );
            let settings = verify::VerifySettings {
                run_id: self.run_id,
                labels: &self.labels,
                path: &opts.verify_path,
                timeout: opts.timeout,
                removal_evidence: removals::RemovalEvidence {
                    new_dockerignore: new_dockerignore
                        .map(|text| (dockerignore::DockerIgnore::parse(text), &*opts.context_dir)),
                    production_install: removals::installs_production_only(&optimized_text),
                    split: removals::split_evidence(
                        &original_text,
                        &optimized_text,
                        Some(&*opts.context_dir),
                        Some(&opts.dockerfile_name),
                    ),
                },
            };
            let (result, run) = verify::verify(
                self.engine,
                (&original_report.tag, a),
                (&optimized_report.tag, b),
                &settings,
                &opts.probe_paths,
            )
            .await?;
            verification = Some(result);
            original_run = Some(run);
        }

        let mut standin_names: Vec<String> = [&original_report, &optimized_report]
            .iter()
            .filter_map(|v| v.image.as_ref()?.standin_base.clone())
            .collect();
        standin_names.sort();
        standin_names.dedup();
        let size_saved_bytes = match (&original_report.image, &optimized_report.image) {
            (Some(a), Some(b)) => Some(a.size_bytes as i64 - b.size_bytes as i64),
            _ => None,
        };
        let verified = optimized_report.built && verification.as_ref().is_some_and(|v| v.verified);
        let search = match (search, &original_report.image) {
            (Some(search), Some(facts))
                if !verified
                    && !search.fixes.is_empty()
                    && verification
                        .as_ref()
                        .is_none_or(|v| v.not_verifiable.is_none() && !v.inconclusive)
                    && !replanned(search, verification.as_ref()) =>
            {
                let all_failed = match (&optimized_report.build_error, &verification) {
                    (Some(error), _) => std::iter::once(format!("the build failed: {error}"))
                        .chain(
                            optimized_report
                                .build_log
                                .as_deref()
                                .and_then(trial::failing_build_line),
                        )
                        .collect(),
                    (None, Some(v)) => trial::evidence_of(v),
                    (None, None) => vec!["the optimized image could not be checked".into()],
                };
                let target = opts.target.clone();
                let prepare = move |text: &str| {
                    let mut text = if syntax_disabled {
                        build::disable_syntax_directive(text)
                    } else {
                        text.to_string()
                    };
                    if builtin_frontend {
                        if let Some(pruned) =
                            stages::without_unneeded_heredoc_stages(&text, target.as_deref())
                        {
                            text = pruned;
                        }
                    }
                    text
                };
                self.bar
                    .set_message("searching for the fixes that broke it");
                let (report, leftovers) = trial::search(
                    trial::SearchInputs {
                        engine: self.engine,
                        bar: self.bar,
                        settings: trial::TrialBuildSettings {
                            context_dir: &opts.context_dir,
                            dockerfile_name: &opts.dockerfile_name,
                            build_args: &opts.build_args,
                            target: opts.target.as_deref(),
                            builder,
                            network: opts.network.as_deref(),
                            timeout: opts.build_timeout,
                            labels: &self.labels,
                            run_id: self.run_id,
                            verify_path: &opts.verify_path,
                            run_timeout: opts.timeout,
                            probe_paths: &opts.probe_paths,
                        },
                        original_text: original,
                        original: (&original_report.tag, facts),
                        original_run,
                        prepare: &prepare,
                        all_failed,
                    },
                    search,
                )
                .await?;
                self.images.extend(leftovers.images);
                self.built_image_ids.extend(leftovers.intermediate_ids);
                Some(report)
            }
            _ => None,
        };
        let mut build_arg_names: Vec<String> =
            opts.build_args.iter().map(|(k, _)| k.clone()).collect();
        build_arg_names.sort();
        let report = Report {
            engine: EngineInfo {
                host: self.engine.host.clone(),
                server_version: self.engine.server_version.clone(),
                api_version: self.engine.api_version.clone(),
            },
            builder,
            builder_reason,
            target: opts.target.clone(),
            build_arg_names,
            network: opts.network.clone(),
            original: original_report,
            optimized: optimized_report,
            warm_edit_file: edit_file,
            size_saved_bytes,
            standin_bases: !standin_names.is_empty(),
            standin_names,
            verification,
            verified,
            notes,
            kept_images: Vec::new(),
            search,
        };
        if let (Some(dir), Some(key)) = (&opts.report_cache, &cache_key) {
            if cache::conclusive(&report) {
                cache::store(dir, key, &report);
            }
        }
        Ok(report)
    }

    /// The cache key of this comparison (see `cache.rs`): the texts and
    /// contexts as built, the ids of every image a FROM names, the options and
    /// the fixes the search may drop.
    async fn cache_key(
        &self,
        texts: [&str; 2],
        tars: [&[u8]; 2],
        builder: BuilderKind,
        search: Option<&FixSearch<'_>>,
    ) -> String {
        let mut base_ids = String::new();
        for text in texts {
            for line in text.lines() {
                let mut words = line.split_whitespace();
                if !words.next().is_some_and(|w| w.eq_ignore_ascii_case("FROM")) {
                    continue;
                }
                if let Some(image) = words.find(|w| !w.starts_with("--")) {
                    let id = self.engine.docker.inspect_image(image).await.ok();
                    base_ids.push_str(&format!("{image}={:?}\n", id.and_then(|i| i.id)));
                }
            }
        }
        let opts = self.opts;
        let fixes: Vec<String> = search
            .map(|s| {
                s.fixes
                    .iter()
                    .map(|f| format!("{} {}", f.code, f.message))
                    .chain([format!("max {}", s.max_builds)])
                    .collect()
            })
            .unwrap_or_default();
        let options = format!(
            "{:?}|{:?}|{builder}|{:?}|{}|{}|{:?}|{:?}|{:?}",
            opts.build_args,
            opts.target,
            opts.network,
            opts.verify_path,
            opts.timeout.as_secs(),
            opts.probe_paths,
            opts.optimized_extra_files,
            fixes
        );
        cache::key(&[
            texts[0].as_bytes(),
            texts[1].as_bytes(),
            tars[0],
            tars[1],
            base_ids.as_bytes(),
            options.as_bytes(),
        ])
    }

    /// Cold build, inspect, then warm rebuild after the source edit.
    /// `Ok(Ok(report))` when built; `Ok(Err(report))` when the optimized version
    /// failed to build; `Err` when the original failed (nothing to compare).
    async fn build_version(
        &mut self,
        which: &str,
        context_tar: Vec<u8>,
        tag: String,
        builder: BuilderKind,
        edit_file: Option<&str>,
        base_reference: Option<String>,
    ) -> Result<Result<VersionReport, VersionReport>, DockerError> {
        let warm_tar = match edit_file {
            // A different edit for each version: with the same one, the version
            // built second would find the steps it shares with the first (a
            // build stage the split kept as it was) cached from the first's
            // warm rebuild, and measure a rebuild that did not happen.
            Some(path) => {
                let nonce = match which {
                    "original" => self.edit_nonce,
                    _ => !self.edit_nonce,
                };
                Some(pack::with_source_edit(&context_tar, path, nonce)?)
            }
            None => None,
        };
        self.images.push(tag.clone());
        let cold = self
            .build_once(format!("{which} (cold)"), context_tar, &tag, builder, true)
            .await;
        if let Some(error) = cold.failure.clone() {
            self.show_failed_log(which, &cold);
            self.remove_failed_intermediates(builder, &cold.log).await;
            let hint = build::failure_hint(builder, &cold.log);
            if which == "original" {
                return Err(DockerError::OriginalBuildFailed {
                    builder: builder.to_string(),
                    log_tail: build::log_tail(&cold.log, 40) + &hint,
                    full_log: cold.log,
                });
            }
            return Ok(Err(VersionReport {
                tag,
                built: false,
                image: None,
                base_image: None,
                cold_build_seconds: cold.duration.as_secs_f64(),
                warm_rebuild_seconds: None,
                build_error: Some(error),
                log_tail: Some(build::log_tail(&cold.log, 30) + &hint),
                build_log: Some(cold.log),
            }));
        }
        self.record_built_images(builder, &cold.log);
        let image = measure::inspect(self.engine, &tag).await?;
        let mut base_image = None;
        if let Some(reference) = base_reference {
            if let Ok(facts) = measure::inspect(self.engine, &reference).await {
                base_image = Some(report::BaseImage {
                    reference,
                    size_bytes: facts.size_bytes,
                    standin: facts.standin_base,
                });
            }
        }

        let mut warm_rebuild_seconds = None;
        if let Some(warm_tar) = warm_tar {
            let warm_tag = format!("{tag}-warm");
            self.images.push(warm_tag.clone());
            let warm = self
                .build_once(
                    format!("{which} (warm)"),
                    warm_tar,
                    &warm_tag,
                    builder,
                    false,
                )
                .await;
            if warm.failure.is_none() {
                self.record_built_images(builder, &warm.log);
                warm_rebuild_seconds = Some(warm.duration.as_secs_f64());
            } else {
                self.show_failed_log(&format!("{which} warm rebuild"), &warm);
                self.remove_failed_intermediates(builder, &warm.log).await;
            }
        }
        Ok(Ok(VersionReport {
            tag,
            built: true,
            image: Some(image),
            base_image,
            cold_build_seconds: cold.duration.as_secs_f64(),
            warm_rebuild_seconds,
            build_error: None,
            log_tail: None,
            build_log: None,
        }))
    }

    async fn build_once(
        &self,
        label: String,
        context_tar: Vec<u8>,
        tag: &str,
        builder: BuilderKind,
        no_cache: bool,
    ) -> BuildOutcome {
        let opts = self.opts;
        let spec = BuildSpec {
            label,
            context_tar,
            dockerfile_name: &opts.dockerfile_name,
            tag: tag.to_string(),
            build_args: &opts.build_args,
            target: opts.target.as_deref(),
            builder,
            network: opts.network.as_deref(),
            no_cache,
            timeout: opts.build_timeout,
            log_mirror: Some(&self.current_build_log),
            labels: &self.labels,
        };
        if let Ok(mut log) = self.current_build_log.lock() {
            log.clear();
        }
        if let Ok(mut current) = self.current_builder.lock() {
            *current = Some(builder);
        }
        build::build(self.engine, spec, self.bar).await
    }

    /// On a terminal, a failed build's whole log is shown right away; the report
    /// keeps it too.
    fn show_failed_log(&self, which: &str, outcome: &BuildOutcome) {
        if !self.bar.is_hidden() {
            self.bar.suspend(|| {
                eprintln!("--- {which}: build failed; full log ---\n{}", outcome.log);
            });
        }
    }

    fn record_built_images(&mut self, builder: BuilderKind, log: &str) {
        if builder == BuilderKind::Classic {
            self.built_image_ids
                .extend(build::classic_intermediate_ids(log));
        }
    }

    /// A failed classic build leaves its intermediate images dangling; remove those
    /// that are still untagged (never a tagged image, never with force).
    async fn remove_failed_intermediates(&self, builder: BuilderKind, log: &str) {
        if builder != BuilderKind::Classic || self.opts.keep_images {
            return;
        }
        self.remove_untagged(&build::classic_intermediate_ids(log), true)
            .await;
    }

    /// Removes the images among `ids` (oldest first) that have no tag, newest
    /// first so that children go before their parents. Never with force: an image
    /// that is a kept image's parent, or that a container still uses, stays.
    /// `patient`: after a cancelled build (timeout, Ctrl-C) the engine stops the
    /// step's container a moment later, and until then the image it runs on
    /// cannot be removed, so retry a while.
    async fn remove_untagged(&self, ids: &[String], patient: bool) {
        let attempts = if patient { 20 } else { 1 };
        for attempt in 0..attempts {
            let mut left = false;
            for id in ids.iter().rev() {
                let Ok(image) = self.engine.docker.inspect_image(id).await else {
                    continue;
                };
                let untagged = image
                    .repo_tags
                    .unwrap_or_default()
                    .iter()
                    .all(|t| t == "<none>:<none>");
                if untagged {
                    left |= self
                        .engine
                        .docker
                        .remove_image(id, None::<RemoveImageOptions>, None)
                        .await
                        .is_err();
                }
            }
            if !left || attempt + 1 == attempts {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Containers of this run (verification runs carry the `dopt.run` label), e.g.
    /// one left running when the run was interrupted.
    async fn remove_containers(&self) {
        let filters = std::collections::HashMap::from([(
            "label".to_string(),
            vec![format!("dopt.run={}", self.run_id)],
        )]);
        let options = bollard::query_parameters::ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        if let Ok(containers) = self.engine.docker.list_containers(Some(options)).await {
            for id in containers.into_iter().filter_map(|c| c.id) {
                verify::remove_container(self.engine, &id).await;
            }
        }
    }

    /// The images of a fix search still under way (`{run_id}:trial-N`, listed
    /// in `images` only when the search ends), e.g. when interrupted.
    async fn remove_trial_images(&self) {
        let filters = std::collections::HashMap::from([(
            "reference".to_string(),
            vec![format!("{}:trial-*", self.run_id)],
        )]);
        let options = bollard::query_parameters::ListImagesOptionsBuilder::default()
            .filters(&filters)
            .build();
        if let Ok(images) = self.engine.docker.list_images(Some(options)).await {
            for tag in images.into_iter().flat_map(|i| i.repo_tags) {
                remove_tag(self.engine, &tag).await;
            }
        }
    }

    /// Removes the tags of this run, then the untagged images its builds left
    /// (the last images of non-target stages).
    async fn remove_images(&self) {
        for tag in self.images.iter().rev() {
            remove_tag(self.engine, tag).await;
        }
        self.remove_stage_images().await;
    }

    /// The untagged images that successful builds left: the last images of stages
    /// other than the target. Removed even with `keep_images`: no report lists
    /// them, and the kept images' own parents are safe (they have children).
    async fn remove_stage_images(&self) {
        self.remove_untagged(&self.built_image_ids, false).await;
    }
}
