//! The subcommands.

use super::input::{self, Source};
use super::output::{self, out};
use super::{exit, ApplyArgs, CheckArgs, CheckFormat, Command, ParseArgs, ParseFormat, PassArgs};
use super::{BenchArgs, RulesArgs, RulesFormat};
use super::{BuilderArg, EngineArgs, SuggestArgs};
use crate::config::Config;
use crate::docker;
use crate::evidence::runtime::RuntimeEvidence;
use crate::fix::apply::{AppliedFix, FixId, FixOptions, Outcome};
use crate::fix::Safety;
use crate::passes::{self, BuildContext, Pass};
use crate::profiles::Profiles;
use crate::render::{self, findings::FileError, findings::FileFindings};
use crate::runner::{Runner, Selection};
use crate::syntax::{self, ParseError};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

pub fn run(command: Command) -> Result<i32> {
    match command {
        Command::Parse(args) => parse(args),
        Command::Suggest(args) => suggest(args),
        Command::Apply(args) => apply(args),
        Command::Check(args) => check(args),
        Command::Rules(args) => rules(args),
        Command::Bench(args) => bench(args),
        Command::Rule { code } => rule(&code),
    }
}

/// Prints a parse error as `file:line:col: error: ...` with a caret snippet.
fn report_parse_error(src: &Source, err: &ParseError) {
    let color = anstream::ColorChoice::global() != anstream::ColorChoice::Never
        && std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none();
    let rendered = err.render(&src.display, &src.text, color);
    let _ = std::io::Write::write_all(&mut std::io::stderr(), rendered.as_bytes());
}

fn parse(args: ParseArgs) -> Result<i32> {
    let src = input::read(&args.file)?;
    let tree = match syntax::parse(&src.text) {
        Ok(t) => t,
        Err(e) => {
            report_parse_error(&src, &e);
            return Ok(exit::ERROR);
        }
    };
    let text = match args.format {
        ParseFormat::Json => serde_json::to_string_pretty(&tree)? + "\n",
        ParseFormat::Buildkit => syntax::dump::buildkit_dump(&tree),
    };
    out(&text)?;
    Ok(exit::OK)
}

/// The Dockerfiles named on the command line (default `./Dockerfile`).
/// The files to process: the paths given, with each folder replaced by the
/// Dockerfiles under it (`crate::discover`: honours `.gitignore`); a folder
/// with none stays, so that reading it reports the error. No path:
/// `./Dockerfile`.
fn paths(args: &PassArgs) -> Vec<PathBuf> {
    if args.paths.is_empty() {
        return vec![PathBuf::from("Dockerfile")];
    }
    let mut out = Vec::new();
    for path in &args.paths {
        if path.is_dir() {
            let found = crate::discover::dockerfiles(path);
            if found.is_empty() {
                out.push(path.clone());
            }
            out.extend(found);
        } else {
            out.push(path.clone());
        }
    }
    out
}

/// Builds the runner for one file: its config, selection, profiles and context.
fn runner_for(args: &PassArgs, src: &Source, unsafe_flag: bool) -> Result<Runner> {
    let config = if args.no_config {
        Config::default()
    } else if let Some(path) = &args.config {
        Config::load(path)?
    } else {
        Config::discover(&src.folder())?
            .map(|(_, c)| c)
            .unwrap_or_default()
    };
    let selection = Selection {
        select: if args.select.is_empty() {
            config.select.clone()
        } else {
            args.select.clone()
        },
        ignore: args
            .ignore
            .iter()
            .chain(config.ignore.iter())
            .cloned()
            .collect(),
    };
    let unknown = selection.unknown_entries(&passes::all());
    if !unknown.is_empty() {
        bail!(
            "unknown pass {}: run `dopt rules` to list codes and names",
            unknown
                .iter()
                .map(|u| format!("`{u}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let profiles_dir = args.profiles.clone().or(config.profiles_dir.clone());
    let profiles = load_profiles(profiles_dir.as_deref(), &config)?;
    let fix = FixOptions {
        unsafe_fixes: unsafe_flag || config.unsafe_fixes,
        ..Default::default()
    };
    let mut runner = Runner::new(&selection, profiles, fix);
    runner.options = config.options.clone();
    runner.build_context = match (&args.context, &src.path) {
        (Some(dir), _) => {
            if !dir.is_dir() {
                bail!("--context {}: not a folder", dir.display());
            }
            Some(BuildContext::new(dir))
        }
        (None, Some(_)) => Some(BuildContext::new(src.folder())),
        (None, None) => None,
    };
    Ok(runner)
}

fn load_profiles(dir: Option<&Path>, config: &Config) -> Result<Profiles> {
    let mut profiles = Profiles::load(dir).context("cannot load profiles")?;
    // `.dopt.yaml`'s runtime-images win over every profile's mappings: they go
    // first in the first profile, and the first matching mapping wins.
    if let Some(first) = profiles.profiles.first_mut() {
        for (from, to) in config.runtime_images.iter().rev() {
            first.runtime_images.insert(
                0,
                crate::profiles::schema::RuntimeImage {
                    pattern: from.clone(),
                    to: Some(to.clone()),
                    requires: Vec::new(),
                    note: "from .dopt.yaml runtime-images".into(),
                },
            );
        }
    }
    Ok(profiles)
}

/// One processed file.
struct Processed {
    src: Source,
    outcome: Outcome,
    unsafe_applied: bool,
}

impl Processed {
    /// True if the fix loop reached a fixpoint, so its result may be shown and written.
    fn settled(&self) -> bool {
        self.outcome.converged
    }
}

/// Reads, parses and fixes each file. Files that cannot be read or parsed are
/// reported and skipped, and returned as errors. A file whose fixes do not
/// converge is kept (its findings are valid) but also reported as an error
/// when `need_fixed` (suggest, apply): its fixed text must not be shown or written.
fn process_all(
    args: &PassArgs,
    unsafe_flag: bool,
    need_fixed: bool,
) -> Result<(Vec<Processed>, Vec<FileError>)> {
    let mut done = Vec::new();
    let mut errors = Vec::new();
    for path in paths(args) {
        let src = match input::read(&path) {
            Ok(s) => s,
            Err(e) => {
                let message = format!("{e:#}");
                output::error(&message);
                errors.push(FileError {
                    path: path.display().to_string(),
                    line: 1,
                    column: 1,
                    message,
                });
                continue;
            }
        };
        let runner = runner_for(args, &src, unsafe_flag)?;
        match runner.run(&src.text) {
            Ok(outcome) => {
                for code in &outcome.rejected {
                    output::warning(&format!(
                        "{}: a fix of {code} produced a file that does not parse; it was not applied (please report this bug)",
                        src.display
                    ));
                }
                warn_too_deep(&src);
                if let Some(unsettled) = &outcome.unsettled {
                    let message = format!(
                        "fixes did not converge: {unsettled}. This is a bug in dopt (please report it); \
                         nothing was written. `--ignore {}` skips the pass.",
                        unsettled
                            .passes
                            .first()
                            .map(|(code, _)| *code)
                            .unwrap_or("CODE")
                    );
                    if need_fixed {
                        output::error(&format!("{}: {message}", src.display));
                        errors.push(FileError {
                            path: src.display.clone(),
                            line: 1,
                            column: 1,
                            message,
                        });
                    } else {
                        output::warning(&format!("{}: {message}", src.display));
                    }
                }
                done.push(Processed {
                    src,
                    outcome,
                    unsafe_applied: runner.fix.unsafe_fixes,
                });
            }
            Err(e) => {
                report_parse_error(&src, &e);
                let (line, column) = e.line_col(&src.text);
                errors.push(FileError {
                    path: src.display.clone(),
                    line,
                    column,
                    message: e.message.clone(),
                });
            }
        }
    }
    Ok((done, errors))
}

/// Says which RUNs nest too deeply for shell analysis (they are left alone).
fn warn_too_deep(src: &Source) {
    // A RUN needs more than MAX_NESTING bytes to nest that deep.
    if src.text.len() <= crate::shell::MAX_NESTING {
        return;
    }
    let Ok(tree) = syntax::parse(&src.text) else {
        return;
    };
    for inst in crate::shell::too_deep_runs(&tree) {
        output::warning(&format!(
            "{}:{}: this RUN nests too deeply to analyse (over {} levels of brackets, quotes and compound commands); no fix changes it",
            src.display,
            inst.start_line,
            crate::shell::MAX_NESTING
        ));
    }
}

fn diff_names(src: &Source) -> (String, String) {
    match &src.path {
        Some(p) => {
            let p = p.display().to_string();
            (format!("a/{p}"), format!("b/{p}"))
        }
        None => ("a/Dockerfile".into(), "b/Dockerfile".into()),
    }
}

fn summary(items: &[Processed]) -> (usize, usize, usize) {
    let mut total = 0;
    let mut unsafe_hidden = 0;
    let mut no_fix = 0;
    for p in items {
        for f in &p.outcome.findings {
            total += 1;
            match f.fix.as_ref().map(|x| x.safety) {
                Some(Safety::Unsafe) if !p.unsafe_applied => unsafe_hidden += 1,
                None => no_fix += 1,
                _ => {}
            }
        }
    }
    (total, unsafe_hidden, no_fix)
}

fn suggest(args: SuggestArgs) -> Result<i32> {
    let (items, errors) = process_all(&args.fix.pass, args.fix.unsafe_fixes, true)?;
    let failed = !errors.is_empty();
    let mut any = false;
    let json_only = args.build && args.engine.json;
    for p in &items {
        any |= !p.outcome.findings.is_empty();
        if json_only {
            continue;
        }
        let ff = FileFindings {
            path: &p.src.display,
            source: &p.src.text,
            findings: &p.outcome.findings,
        };
        out(&render::findings::text(&ff, p.unsafe_applied))?;
        if p.settled() {
            // Fixes found on the rewritten text (the runtime stage a split made,
            // merges a first fix enabled): their reasons belong with the diff too.
            let listed = |a: &&AppliedFix| {
                p.outcome
                    .findings
                    .iter()
                    .any(|f| f.code == a.code && f.message == a.message)
            };
            for a in p.outcome.applied.iter().filter(|a| a.round > 1) {
                if listed(&a) {
                    continue;
                }
                let kind = match a.safety {
                    Safety::Safe => "fix",
                    Safety::Unsafe => "unsafe fix",
                };
                out(&format!(
                    "{}: {} [{kind}, round {}] {}\n",
                    p.src.display, a.code, a.round, a.message
                ))?;
            }
        }
        if !args.no_diff && p.settled() {
            let (a, b) = diff_names(&p.src);
            let diff = render::diff::unified(&p.src.text, &p.outcome.fixed, &a, &b);
            if !diff.is_empty() {
                out(&render::diff::colorize(&diff))?;
            }
            for (path, _) in &p.outcome.new_files {
                out(&format!(
                    "{}\n",
                    output::bold(&format!("+ new file: {path}"))
                ))?;
            }
        }
    }
    let (total, unsafe_hidden, no_fix) = summary(&items);
    let changes: usize = items
        .iter()
        .filter(|p| p.settled())
        .map(|p| p.outcome.applied.len())
        .sum();
    if total == 0 && !failed {
        output::note("No suggestions: the Dockerfile is already in good shape.");
    } else if total > 0 {
        let mut line = format!("{total} finding(s), {changes} fix(es) shown in the diff");
        if unsafe_hidden > 0 {
            line.push_str(&format!(
                "; {unsafe_hidden} unsafe fix(es) hidden (rerun with --unsafe to see them)"
            ));
        }
        if no_fix > 0 {
            line.push_str(&format!("; {no_fix} without an automatic fix"));
        }
        output::note(&line);
        if changes > 0 && !args.build {
            output::note("Run `dopt apply` with the same options to write the changes, or `dopt suggest --build` to measure them first.");
        }
    }
    let mut not_verified = false;
    if args.build {
        let mut reports = Vec::new();
        for p in items.iter().filter(|p| p.settled() && p.outcome.changed()) {
            let report = build_and_verify(p, &args.fix.pass, &args.engine)?.report;
            not_verified |= !report.verified;
            if !args.engine.json {
                out(&format!("\n{}", report.to_markdown()))?;
            }
            reports.push((p.src.display.clone(), report));
        }
        if reports.is_empty() {
            output::note("Nothing to build: no fix changes the file.");
        }
        write_reports(&reports, &args.engine)?;
    }
    Ok(if failed {
        exit::ERROR
    } else if (any || not_verified) && !args.exit_zero {
        exit::FINDINGS
    } else {
        exit::OK
    })
}

/// What `--build` / `--verify` built: the report, the fix run it built (the
/// static one, or the one redone with the running original's evidence), and
/// that evidence when it was used.
struct Built {
    report: docker::Report,
    outcome: Outcome,
    runtime: Option<RuntimeEvidence>,
}

/// Builds the original and the fixed text of one file, verifies and measures.
/// When the running original's probes (runtime evidence: health paths, user,
/// start-up writes) change the fixes, the new rewrite is built and verified
/// instead.
fn build_and_verify(p: &Processed, pass: &PassArgs, engine: &EngineArgs) -> Result<Built> {
    let context_dir = pass.context.clone().unwrap_or_else(|| p.src.folder());
    let mut opts = docker::BuildOptions::new(&context_dir);
    if let Some(name) = p.src.path.as_ref().and_then(|f| f.file_name()) {
        opts.dockerfile_name = name.to_string_lossy().into_owned();
    }
    for kv in &engine.build_args {
        let (k, v) = kv
            .split_once('=')
            .with_context(|| format!("--build-arg {kv}: expected KEY=VALUE"))?;
        opts.build_args.push((k.to_string(), v.to_string()));
    }
    opts.target = engine.target.clone();
    opts.builder = match engine.builder {
        BuilderArg::Auto => docker::BuilderChoice::Auto,
        BuilderArg::Classic => docker::BuilderChoice::Classic,
        BuilderArg::Buildkit => docker::BuilderChoice::BuildKit,
    };
    opts.network = engine.network.clone();
    opts.keep_images = engine.keep_images;
    opts.verify_path = engine.verify_path.clone();
    opts.timeout = std::time::Duration::from_secs(engine.run_timeout);
    opts.report_cache = docker::cache::default_dir();
    let runner = runner_for(pass, &p.src, p.unsafe_applied)?;
    opts.probe_paths = probe_paths(&runner, &context_dir);
    output::note(&format!(
        "Building {} twice (original and optimized) in {} ...",
        p.src.display,
        context_dir.display()
    ));
    // Does the running original's evidence change the fixes? (Then no search
    // on the static ones: the new rewrite is built next.)
    let differs = |outcome: &Outcome| {
        outcome.changed()
            && (outcome.fixed != p.outcome.fixed || outcome.new_files != p.outcome.new_files)
    };
    let replan = |runtime: &RuntimeEvidence| {
        informed_run(pass, p, runtime).is_some_and(|(_, outcome)| differs(&outcome))
    };
    let report = compare_plan(p, &runner, engine, &mut opts, &p.outcome, Some(&replan))?;
    let runtime = report
        .verification
        .as_ref()
        .and_then(|v| v.original.runtime.clone());
    if let Some((informed, outcome)) = runtime.as_ref().and_then(|r| informed_run(pass, p, r)) {
        let runtime = runtime.expect("informed_run had it");
        if differs(&outcome) {
            output::note(&format!(
                "{}: the running original changed the fixes (runtime evidence: {}); building \
                 that rewrite ...",
                p.src.display,
                describe_runtime(&runtime)
            ));
            let report = compare_plan(p, &informed, engine, &mut opts, &outcome, None)?;
            return Ok(Built {
                report,
                outcome,
                runtime: Some(runtime),
            });
        }
    }
    Ok(Built {
        report,
        outcome: p.outcome.clone(),
        runtime: None,
    })
}

/// The fix run with the running original's evidence (when it converges).
fn informed_run(
    pass: &PassArgs,
    p: &Processed,
    runtime: &RuntimeEvidence,
) -> Option<(Runner, Outcome)> {
    let mut runner = runner_for(pass, &p.src, p.unsafe_applied).ok()?;
    runner.runtime = Some(runtime.clone());
    let outcome = runner.run(&p.src.text).ok()?;
    outcome.converged.then_some((runner, outcome))
}

/// The HTTP paths to probe on the running original before the conventional
/// ones: `.dopt.yaml`'s `options.healthcheck.path`, then the GET routes found in
/// the sources.
fn probe_paths(runner: &Runner, context_dir: &Path) -> Vec<String> {
    let configured = runner
        .options
        .get("healthcheck")
        .and_then(|o| o.get("path"))
        .and_then(|p| p.as_str())
        .map(str::to_string);
    let sources = crate::evidence::routes::Sources::scan(context_dir);
    configured
        .into_iter()
        .chain(
            crate::evidence::routes::get_routes(&sources)
                .into_iter()
                .map(|r| r.path),
        )
        .collect()
}

/// `GET /healthz answered 200; uid 0; writes /var/log/app.log`.
fn describe_runtime(runtime: &RuntimeEvidence) -> String {
    let mut parts = Vec::new();
    match runtime.health_path() {
        Some((_, why)) => parts.push(why),
        None if !runtime.paths_tried.is_empty() => parts.push(format!(
            "none of {} answered",
            runtime.paths_tried.join(" ")
        )),
        None => {}
    }
    if let Some(uid) = runtime.uid {
        parts.push(format!("its main process runs as uid {uid}"));
    }
    if !runtime.startup_writes.is_empty() {
        parts.push(format!(
            "it writes {} at start-up",
            runtime.startup_writes.join(", ")
        ));
    }
    parts.join("; ")
}

/// Builds and verifies `outcome` (a fix run of `runner` over the file), with the
/// fix-by-fix search when it does not verify.
fn compare_plan(
    p: &Processed,
    runner: &Runner,
    engine: &EngineArgs,
    opts: &mut docker::BuildOptions,
    outcome: &Outcome,
    replans: Option<&(dyn Fn(&RuntimeEvidence) -> bool + Sync)>,
) -> Result<docker::Report> {
    opts.optimized_extra_files = outcome.new_files.clone();
    // The file with any subset of the applied fixes, for the fix-by-fix search.
    let ids: Vec<FixId> = outcome.applied.iter().map(|a| a.id.clone()).collect();
    let variant = |kept: &[usize]| {
        let allowed: Vec<FixId> = kept.iter().filter_map(|&i| ids.get(i).cloned()).collect();
        let outcome = runner.run_only(&p.src.text, &allowed).ok()?;
        outcome.converged.then_some(docker::Variant {
            text: outcome.fixed,
            new_files: outcome.new_files,
        })
    };
    let search = docker::FixSearch {
        fixes: outcome
            .applied
            .iter()
            .map(|a| docker::Candidate {
                code: a.code.to_string(),
                name: a.name.to_string(),
                message: a.message.clone(),
                safety: match a.safety {
                    Safety::Safe => "safe".into(),
                    Safety::Unsafe => "unsafe".into(),
                },
            })
            .collect(),
        variant: &variant,
        max_builds: engine.max_builds,
        replans,
    };
    let search = (engine.max_builds > 0).then_some(&search);
    docker::compare_blocking_with_search(&p.src.text, &outcome.fixed, opts, search)
        .with_context(|| format!("{}: cannot build and compare", p.src.display))
}

/// When the rewrite with every fix did not verify but the search kept some
/// fixes: the file with those fixes (it verified). When the original is not
/// verifiable here (it needs a TTY, a display, a device) or did not answer at
/// all (nothing to compare with): the file with the safe
/// fixes only.
fn verified_subset(p: &Processed, pass: &PassArgs, built: &Built) -> Result<Option<Outcome>> {
    let report = &built.report;
    // Not verifiable here, or the original itself did not answer (so no trial
    // can be compared with it): the safe fixes only.
    let not_verifiable = report
        .verification
        .as_ref()
        .is_some_and(|v| v.not_verifiable.is_some() || v.inconclusive);
    let kept: Vec<FixId> = match &report.search {
        // Not verifiable here: only the safe fixes, which need no proof.
        _ if not_verifiable => built
            .outcome
            .applied
            .iter()
            .filter(|a| a.safety == Safety::Safe)
            .map(|a| a.id.clone())
            .collect(),
        Some(search) if search.kept_verification.is_some() => search
            .fixes
            .iter()
            .zip(&built.outcome.applied)
            .filter(|(f, _)| f.verdict == docker::Verdict::Kept)
            .map(|(_, a)| a.id.clone())
            .collect(),
        _ => return Ok(None),
    };
    if kept.is_empty() {
        return Ok(None);
    }
    let mut runner = runner_for(pass, &p.src, p.unsafe_applied)?;
    runner.runtime = built.runtime.clone();
    let outcome = runner.run_only(&p.src.text, &kept)?;
    Ok(outcome.converged.then_some(outcome))
}

/// `--json` prints the reports on stdout; `--markdown FILE` writes them.
fn write_reports(reports: &[(String, docker::Report)], engine: &EngineArgs) -> Result<()> {
    if engine.json {
        let value = match reports {
            [(_, one)] => serde_json::to_value(one)?,
            many => serde_json::Value::Array(
                many.iter()
                    .map(|(file, r)| serde_json::json!({ "file": file, "report": r }))
                    .collect(),
            ),
        };
        out(&(serde_json::to_string_pretty(&value)? + "\n"))?;
    }
    if let Some(path) = &engine.markdown {
        let text: String = reports
            .iter()
            .map(|(file, r)| format!("# dopt build report: {file}\n\n{}\n", r.to_markdown()))
            .collect();
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
        output::note(&format!("Report written to {}", path.display()));
    }
    Ok(())
}

fn apply(args: ApplyArgs) -> Result<i32> {
    let pass = &args.fix.pass;
    if pass.paths.iter().any(|p| p.as_os_str() == "-") {
        bail!("`dopt apply` rewrites files in place and cannot take stdin; use `dopt suggest -`");
    }
    // Refuse what cannot be rewritten (a FIFO, a device, a read-only file)
    // before reading or building anything; the other files go on.
    let mut refused = false;
    let mut writable = pass.clone();
    writable.paths = paths(pass)
        .into_iter()
        .filter(|path| {
            if std::fs::metadata(path).is_err() {
                return true; // reported by process_all
            }
            match input::check_writable(path) {
                Ok(()) => true,
                Err(e) => {
                    output::error(&format!("{e:#}"));
                    refused = true;
                    false
                }
            }
        })
        .collect();
    if writable.paths.is_empty() {
        return Ok(exit::ERROR);
    }
    let pass = &writable;
    let (items, errors) = process_all(pass, args.fix.unsafe_fixes, true)?;
    let failed = !errors.is_empty() || refused;
    let mut not_verified = false;
    let mut written = 0;
    let mut reports = Vec::new();
    for p in &items {
        let Some(path) = &p.src.path else { continue };
        // A loop that did not converge is never written (reported above).
        if !p.settled() || !p.outcome.changed() {
            continue;
        }
        let mut subset = None;
        if args.verify {
            let built = build_and_verify(p, pass, &args.engine)?;
            let verified = built.report.verified;
            if !args.engine.json {
                output::note(&built.report.to_markdown());
            }
            if verified {
                subset = Some(built.outcome.clone());
            } else {
                subset = verified_subset(p, pass, &built)?;
                let report = &built.report;
                not_verified = true;
                let not_verifiable = report
                    .verification
                    .as_ref()
                    .and_then(|v| v.not_verifiable.as_deref());
                match (&subset, &report.search) {
                    (Some(kept), _) if not_verifiable.is_some() => output::warning(&format!(
                        "{}: not verifiable here (the original needs {}); writing only the {} \
                         safe fix(es), no unsafe one.",
                        p.src.display,
                        not_verifiable.unwrap_or_default(),
                        kept.applied.len()
                    )),
                    (Some(kept), Some(search)) => output::warning(&format!(
                        "{}: the file with every fix did not verify; writing the {} fix(es) \
                         that did, without the {} that broke it or were not decided (see \
                         \"Fix by fix\" above).",
                        p.src.display,
                        kept.applied.len(),
                        search.fixes.len() - search.kept()
                    )),
                    _ => output::error(&format!(
                        "{}: the optimized version did not verify (see the report above); the file was left unchanged. \
                         Try without --unsafe, or --ignore the pass that broke it.",
                        p.src.display
                    )),
                }
            }
            reports.push((p.src.display.clone(), built.report));
            if !verified && subset.is_none() {
                continue;
            }
        }
        let outcome = subset.as_ref().unwrap_or(&p.outcome);
        // Same encoding as read (UTF-16/32 files stay UTF-16/32).
        input::write_file(path, &syntax::encode(&outcome.fixed, p.src.encoding))?;
        written += 1;
        output::note(&format!(
            "{}: applied {} fix(es):",
            output::bold(&p.src.display),
            outcome.applied.len()
        ));
        for a in &outcome.applied {
            let unsafe_tag = if a.safety == Safety::Unsafe {
                " (unsafe)"
            } else {
                ""
            };
            output::note(&format!("  {} {}{unsafe_tag}", a.code, a.message));
        }
        let context_dir = pass.context.clone().unwrap_or_else(|| p.src.folder());
        for (rel, content) in &outcome.new_files {
            let target = context_dir.join(rel);
            // Never overwrites a user's file.
            if input::create_file(&target, content.as_bytes())? {
                output::note(&format!("  created {}", target.display()));
            }
        }
    }
    if args.verify {
        write_reports(&reports, &args.engine)?;
    }
    let (_, unsafe_hidden, no_fix) = summary(&items);
    if written == 0 && !failed {
        output::note("Nothing to apply.");
    }
    if unsafe_hidden > 0 {
        output::note(&format!(
            "{unsafe_hidden} unsafe fix(es) not applied: review them with `dopt suggest --unsafe`, then `dopt apply --unsafe`."
        ));
    }
    if no_fix > 0 {
        output::note(&format!(
            "{no_fix} finding(s) need a manual change: see `dopt check`."
        ));
    }
    Ok(if failed {
        exit::ERROR
    } else if not_verified {
        exit::FINDINGS
    } else {
        exit::OK
    })
}

fn check(args: CheckArgs) -> Result<i32> {
    let (items, errors) = process_all(&args.pass, false, false)?;
    let failed = !errors.is_empty();
    let files: Vec<FileFindings> = items
        .iter()
        .map(|p| FileFindings {
            path: &p.src.display,
            source: &p.src.text,
            findings: &p.outcome.findings,
        })
        .collect();
    let text = match args.format {
        CheckFormat::Text => files
            .iter()
            .map(|f| render::findings::text(f, false))
            .collect(),
        CheckFormat::Json => render::findings::json(&files, &errors),
        CheckFormat::Sarif => render::sarif::sarif(&files, &errors, &passes::all()),
        CheckFormat::Github => render::findings::github(&files, &errors),
        CheckFormat::Gitlab => render::gitlab::gitlab(&files, &errors),
    };
    out(&text)?;
    let any = files.iter().any(|f| !f.findings.is_empty());
    Ok(if failed {
        exit::ERROR
    } else if any && !args.exit_zero {
        exit::FINDINGS
    } else {
        exit::OK
    })
}

fn rules(args: RulesArgs) -> Result<i32> {
    let all = passes::all();
    let text = match args.format {
        RulesFormat::Text => render::rules::text(&all),
        RulesFormat::Json => render::rules::json(&all),
        RulesFormat::Markdown => render::rules::markdown(&all),
    };
    out(&text)?;
    Ok(exit::OK)
}

fn rule(code: &str) -> Result<i32> {
    let all = passes::all();
    let Some(pass) = find_pass(&all, code) else {
        bail!("no pass named `{code}`: run `dopt rules` to list them");
    };
    out(&render::rules::doc(pass))?;
    Ok(exit::OK)
}

fn find_pass<'a>(all: &'a [Box<dyn Pass>], key: &str) -> Option<&'a dyn Pass> {
    all.iter()
        .find(|p| p.code().eq_ignore_ascii_case(key) || p.name().eq_ignore_ascii_case(key))
        .map(|p| p.as_ref())
}

fn bench(args: BenchArgs) -> Result<i32> {
    use crate::bench::{case, report, run};
    let cases = match case::discover(&args.paths) {
        Ok(c) => c,
        Err(e) => {
            output::error(&e);
            return Ok(exit::ERROR);
        }
    };
    let settings = run::Settings {
        dopt: std::env::current_exe().context("cannot find the dopt executable")?,
        jobs: args.jobs.max(1),
        network: args.network.clone(),
        builder: match args.builder {
            BuilderArg::Auto => None,
            BuilderArg::Classic => Some("classic"),
            BuilderArg::Buildkit => Some("buildkit"),
        },
        run_timeout: args.run_timeout,
        max_builds: args.max_builds,
        progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
    };
    output::note(&format!(
        "Benchmarking {} case(s), {} at a time: each is built twice, verified and measured ...",
        cases.len(),
        settings.jobs
    ));
    let results = run::run_all(&cases, &settings, &|r| output::note(&report::line(r)));
    let bench = report::BenchReport {
        summary: report::summarize(&results),
        cases: results,
    };
    let markdown = report::markdown(&bench);
    if args.json.as_deref() != Some(Path::new("-")) {
        out(&markdown)?;
    }
    if let Some(path) = &args.markdown {
        std::fs::write(path, &markdown)
            .with_context(|| format!("cannot write {}", path.display()))?;
        output::note(&format!("Report written to {}", path.display()));
    }
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&bench)? + "\n";
        if path == Path::new("-") {
            out(&text)?;
        } else {
            std::fs::write(path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
    }
    if let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|s| !s.is_empty()) {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&summary)
            .with_context(|| format!("cannot append to {}", summary.to_string_lossy()))?;
        writeln!(f, "{markdown}")?;
    }
    let s = &bench.summary;
    // No engine: every case failed the same way; that is an error, not a gate.
    if s.failed == s.cases
        && bench
            .cases
            .iter()
            .all(|c| c.reasons.iter().any(|r| r.contains("no Docker engine")))
    {
        output::error("no Docker engine answered, so nothing was measured (see above)");
        return Ok(exit::ERROR);
    }
    let failed_gates = report::gates(&bench, args.fail_under_median, args.require_verified);
    for g in &failed_gates {
        output::error(g);
    }
    Ok(if failed_gates.is_empty() {
        exit::OK
    } else {
        exit::FINDINGS
    })
}
