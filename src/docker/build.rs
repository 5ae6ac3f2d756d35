//! Building one image through the engine API, with the classic builder or with
//! BuildKit over bollard's gRPC session.
//!
//! The full build log is always kept (it is shown when a build fails); a spinner
//! shows the latest line while the build runs.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bollard::models::{BuildInfo, BuildInfoAux};
use bollard::query_parameters::{BuildImageOptionsBuilder, BuilderVersion};
use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

use super::engine::Engine;

/// Which builder actually ran a build (after `BuilderChoice::Auto` was resolved).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BuilderKind {
    /// The legacy builder of the engine (API `version=1`).
    Classic,
    /// BuildKit, driven through bollard's session (API `version=2`).
    BuildKit,
}

impl std::fmt::Display for BuilderKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BuilderKind::Classic => "classic builder",
            BuilderKind::BuildKit => "BuildKit",
        })
    }
}

/// Whether a Dockerfile uses what the classic builder rejects: `RUN --mount`,
/// `--network`/`--security` on RUN, `--link`/`--chmod`/`--parents`/`--exclude` on
/// COPY/ADD, heredocs, or the automatic platform ARGs (`$BUILDPLATFORM`...).
///
/// This is a line-based check rather than `Dockerfile::uses_buildkit()` on purpose:
/// it must work even when our parser rejects a file, and a bare `# syntax=`
/// directive does not need BuildKit (the classic builder ignores it, while BuildKit
/// would try to pull the named frontend image, which fails offline).
pub fn needs_buildkit(dockerfile: &str) -> bool {
    // Automatic platform ARGs exist only in BuildKit; engine 20.10's classic builder
    // fails on `FROM --platform=$BUILDPLATFORM` ("invalid component").
    const PLATFORM_ARGS: &[&str] = &[
        "BUILDPLATFORM",
        "BUILDOS",
        "BUILDARCH",
        "BUILDVARIANT",
        "TARGETPLATFORM",
        "TARGETOS",
        "TARGETARCH",
        "TARGETVARIANT",
    ];
    let uses_platform_arg = PLATFORM_ARGS.iter().any(|arg| {
        dockerfile.contains(&format!("${arg}")) || dockerfile.contains(&format!("${{{arg}"))
    });
    if uses_platform_arg {
        return true;
    }
    const FLAGS: &[&str] = &[
        "--mount",
        "--network",
        "--security",
        "--link",
        "--chmod",
        "--parents",
        "--exclude",
    ];
    dockerfile.lines().any(|line| {
        let trimmed = line.trim_start();
        if trimmed.starts_with('#') {
            return false;
        }
        let has_flag = FLAGS.iter().any(|flag| {
            trimmed.split_whitespace().any(|word| {
                word == *flag
                    || word
                        .strip_prefix(flag)
                        .is_some_and(|rest| rest.starts_with('='))
            })
        });
        let keyword = trimmed
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let heredoc = matches!(keyword.as_str(), "RUN" | "COPY" | "ADD")
            && trimmed.split_whitespace().any(is_heredoc_word);
        has_flag || heredoc
    })
}

/// `<<EOF`, `<<-EOF`, `<<"EOF"`, `3<<EOF`: a heredoc opener (not `<<` alone, which
/// is a shell here-string or a shift in arithmetic).
fn is_heredoc_word(word: &str) -> bool {
    let word = word.trim_start_matches(|c: char| c.is_ascii_digit());
    let Some(rest) = word.strip_prefix("<<") else {
        return false;
    };
    let rest = rest.strip_prefix('-').unwrap_or(rest);
    let rest = rest.trim_start_matches(['"', '\'']);
    rest.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
}

/// The frontend image named by a `# syntax=` parser directive, if any.
pub fn syntax_directive(dockerfile: &str) -> Option<String> {
    for line in dockerfile.trim_start_matches('\u{feff}').lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            // Directives end at the first empty line... or at the first non-comment.
            return None;
        }
        let body = trimmed.strip_prefix('#')?.trim();
        if let Some((key, value)) = body.split_once('=') {
            if key.trim().eq_ignore_ascii_case("syntax") {
                return Some(value.trim().to_string());
            }
            continue;
        }
        return None;
    }
    None
}

/// Turns the `# syntax=` directive into a plain comment so BuildKit uses its
/// built-in Dockerfile frontend instead of pulling the named one. Only ever applied
/// to the copy we send to the engine, identically for both versions.
pub fn disable_syntax_directive(dockerfile: &str) -> String {
    let mut out = String::with_capacity(dockerfile.len() + 32);
    let mut done = false;
    for line in dockerfile.split_inclusive('\n') {
        if !done {
            let body = line.trim_start_matches('\u{feff}').trim();
            if let Some(rest) = body.strip_prefix('#') {
                if let Some((key, _)) = rest.split_once('=') {
                    if key.trim().eq_ignore_ascii_case("syntax") {
                        let at = line.find(['s', 'S']).unwrap_or(0);
                        out.push_str(&line[..at]);
                        out.push_str("dopt-disabled-");
                        out.push_str(&line[at..]);
                        done = true;
                        continue;
                    }
                } else {
                    done = true;
                }
            } else {
                done = true;
            }
        }
        out.push_str(line);
    }
    out
}

/// Everything one build needs.
#[derive(Debug, Clone)]
pub(crate) struct BuildSpec<'a> {
    /// Label shown in the progress display, e.g. "original (cold)".
    pub label: String,
    pub context_tar: Vec<u8>,
    pub dockerfile_name: &'a str,
    pub tag: String,
    pub build_args: &'a [(String, String)],
    pub target: Option<&'a str>,
    pub builder: BuilderKind,
    pub network: Option<&'a str>,
    pub no_cache: bool,
    /// Stop the build (a failure) when it runs longer than this.
    pub timeout: Option<Duration>,
    /// Receives the log as it grows, so that an interrupted build's intermediate
    /// images can still be found.
    pub log_mirror: Option<&'a Mutex<String>>,
    /// Labels for the built image (who made it, see `owner.rs`).
    pub labels: &'a HashMap<String, String>,
}

/// What came out of a build.
#[derive(Debug, Clone)]
pub(crate) struct BuildOutcome {
    pub duration: Duration,
    /// The full log, as the engine streamed it.
    pub log: String,
    /// `Some(message)` when the build failed.
    pub failure: Option<String>,
}

/// A spinner on stderr, or nothing when not on a terminal, in CI, or when asked.
pub(crate) fn progress_bar(enabled: bool) -> ProgressBar {
    let in_ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
    if !enabled || in_ci || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {prefix:.bold} [{elapsed}] {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// Keeps the log and mirrors its latest line on the spinner.
struct LogSink<'a> {
    log: String,
    bar: &'a ProgressBar,
    /// A copy readable by the caller even if this build's future is dropped.
    mirror: Option<&'a Mutex<String>>,
}

impl LogSink<'_> {
    fn push(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        self.log.push_str(text);
        if !text.ends_with('\n') {
            self.log.push('\n');
        }
        if let Some(last) = text.lines().rev().find(|l| !l.trim().is_empty()) {
            self.bar.set_message(last.trim().to_string());
        }
        if let Some(mirror) = self.mirror {
            if let Ok(mut mirror) = mirror.lock() {
                mirror.push_str(text);
                if !text.ends_with('\n') {
                    mirror.push('\n');
                }
            }
        }
    }
}

/// BuildKit reports vertices (steps) and their logs by digest; we number them in the
/// order they appear, like `docker build --progress=plain` does.
#[derive(Default)]
struct BuildKitPrinter {
    numbers: HashMap<String, usize>,
    announced: HashMap<String, (bool, bool)>,
}

impl BuildKitPrinter {
    fn number(&mut self, digest: &str) -> usize {
        let next = self.numbers.len() + 1;
        *self.numbers.entry(digest.to_string()).or_insert(next)
    }

    fn render(&mut self, status: &bollard::moby::buildkit::v1::StatusResponse) -> String {
        let mut out = String::new();
        for vertex in &status.vertexes {
            let n = self.number(&vertex.digest);
            let (started, finished) = self
                .announced
                .get(&vertex.digest)
                .copied()
                .unwrap_or((false, false));
            if !started && (vertex.started.is_some() || vertex.cached) {
                out.push_str(&format!("#{n} {}\n", vertex.name));
            }
            let mut done = finished;
            if !finished {
                if !vertex.error.is_empty() {
                    out.push_str(&format!("#{n} ERROR: {}\n", vertex.error));
                    done = true;
                } else if vertex.cached {
                    out.push_str(&format!("#{n} CACHED\n"));
                    done = true;
                } else if vertex.completed.is_some() {
                    out.push_str(&format!("#{n} DONE\n"));
                    done = true;
                }
            }
            self.announced.insert(
                vertex.digest.clone(),
                (started || vertex.started.is_some() || vertex.cached, done),
            );
        }
        for log in &status.logs {
            let n = self.number(&log.vertex);
            for line in String::from_utf8_lossy(&log.msg).lines() {
                out.push_str(&format!("#{n} {line}\n"));
            }
        }
        out
    }
}

/// Builds one image and tags it `spec.tag`. Never returns an error for a failed
/// build: the failure and its log are in the outcome.
pub(crate) async fn build(engine: &Engine, spec: BuildSpec<'_>, bar: &ProgressBar) -> BuildOutcome {
    bar.set_prefix(spec.label.clone());
    bar.set_message("sending context");
    let mut sink = LogSink {
        log: String::new(),
        bar,
        mirror: spec.log_mirror,
    };
    let build_args: HashMap<String, String> = spec.build_args.iter().cloned().collect();
    let mut options = BuildImageOptionsBuilder::default()
        .dockerfile(spec.dockerfile_name)
        .t(&spec.tag)
        .nocache(spec.no_cache)
        .rm(true)
        .forcerm(true)
        .buildargs(&build_args)
        .version(match spec.builder {
            BuilderKind::Classic => BuilderVersion::BuilderV1,
            BuilderKind::BuildKit => BuilderVersion::BuilderBuildKit,
        });
    if let Some(target) = spec.target {
        options = options.target(target);
    }
    if !spec.labels.is_empty() {
        options = options.labels(spec.labels);
    }
    if let Some(network) = spec.network {
        options = options.networkmode(network);
    }
    if spec.builder == BuilderKind::BuildKit {
        // The session carries the gRPC services BuildKit calls back into (auth,
        // file sync); its id only has to be unique per build.
        options = options.session(&format!("{}-session", spec.tag.replace([':', '/'], "-")));
    }

    let started = Instant::now();
    let mut failure = None;
    // The progress stream can break without the build failing (seen on CI:
    // "bytes remaining on stream" after the last step's output). Whether the
    // image exists decides then, not the broken stream.
    let mut stream_lost = None;
    let mut printer = BuildKitPrinter::default();
    {
        let body = bollard::body_full(spec.context_tar.into());
        let mut stream = engine.docker.build_image(options.build(), None, Some(body));
        // Dropping the stream hangs up on the engine, which cancels the build (and,
        // with `forcerm`, removes the step's container).
        let deadline = spec.timeout.map(|t| tokio::time::Instant::now() + t);
        loop {
            let next = match deadline {
                Some(deadline) => match tokio::time::timeout_at(deadline, stream.next()).await {
                    Ok(next) => next,
                    Err(_) => {
                        let message = format!(
                            "the build did not finish within {} and was stopped \
                             (BuildOptions::build_timeout)",
                            show_duration(spec.timeout.unwrap_or_default())
                        );
                        sink.push(&format!("ERROR: {message}"));
                        failure = Some(message);
                        break;
                    }
                },
                None => stream.next().await,
            };
            let Some(item) = next else { break };
            match item {
                Ok(info) => {
                    let text = render_build_info(&info, &mut printer);
                    sink.push(&text);
                }
                Err(e) => {
                    let message = match e {
                        bollard::errors::Error::DockerStreamError { error } => error,
                        bollard::errors::Error::DockerResponseServerError { message, .. } => {
                            message
                        }
                        other => {
                            // Not an error the engine reported: the stream itself broke.
                            stream_lost = Some(other.to_string());
                            break;
                        }
                    };
                    sink.push(&format!("ERROR: {message}"));
                    failure = Some(message);
                    break;
                }
            }
        }
    }
    let duration = started.elapsed();
    if failure.is_none() {
        // A stream that ends without an error but without an image (the engine hung
        // up) is still a failure; check that the tag exists.
        match (engine.docker.inspect_image(&spec.tag).await, stream_lost) {
            (Ok(_), None) => {}
            (Ok(_), Some(lost)) => sink.push(&format!(
                "note: the build's progress stream broke ({lost}), but the image `{}` was built",
                spec.tag
            )),
            (Err(_), Some(lost)) => {
                let message = format!("the build's progress stream broke: {lost}");
                sink.push(&format!("ERROR: {message}"));
                failure = Some(message);
            }
            (Err(e), None) => {
                let message = format!(
                    "the build finished but produced no image `{}`: {e}",
                    spec.tag
                );
                sink.push(&message);
                failure = Some(message);
            }
        }
    }
    BuildOutcome {
        duration,
        log: sink.log,
        failure,
    }
}

/// `90 s`, `30 min`, `1 h 30 min`.
fn show_duration(duration: Duration) -> String {
    let secs = duration.as_secs();
    match secs {
        0..=119 => format!("{secs} s"),
        _ if secs < 3600 => format!("{} min", secs / 60),
        _ => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
    }
}

fn render_build_info(info: &BuildInfo, printer: &mut BuildKitPrinter) -> String {
    let mut text = String::new();
    if let Some(stream) = &info.stream {
        text.push_str(stream);
    }
    if let Some(status) = &info.status {
        // Classic-builder pull/extract progress; one line each is plenty.
        if info.progress_detail.is_none() {
            text.push_str(status);
            text.push('\n');
        }
    }
    if let Some(BuildInfoAux::BuildKit(status)) = &info.aux {
        text.push_str(&printer.render(status));
    }
    text
}

/// Image ids a failed classic build created: its ` ---> <id>` lines, except those
/// right after ` ---> Using cache` (cache that existed before). A failed build
/// leaves them dangling; a successful one makes them parents of the tagged image,
/// which go when the tag is removed.
pub(crate) fn classic_intermediate_ids(log: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut after_cache_hit = false;
    let mut after_from = false;
    for line in log.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("Step ") {
            // The id printed after a FROM step is the base image: never ours.
            after_from = trimmed.split_once(" : ").is_some_and(|(_, instr)| {
                instr.trim_start().to_ascii_uppercase().starts_with("FROM")
            });
            continue;
        }
        let Some(rest) = trimmed.strip_prefix("---> ") else {
            continue;
        };
        if after_from {
            after_from = false;
            continue;
        }
        let rest = rest.trim();
        if rest == "Using cache" {
            after_cache_hit = true;
            continue;
        }
        let is_id = rest.len() >= 12 && rest.chars().all(|c| c.is_ascii_hexdigit());
        if is_id && !after_cache_hit {
            ids.push(rest.to_string());
        }
        after_cache_hit = false;
    }
    ids
}

/// A line explaining well-known failures, to append to a log tail (or "").
pub(crate) fn failure_hint(builder: BuilderKind, log: &str) -> String {
    if builder == BuilderKind::BuildKit
        && log.contains("dockerfile parse error")
        && log.contains("unknown instruction")
    {
        return "\nhint: this engine's built-in Dockerfile frontend may predate syntax the file \
                uses (heredocs need dockerfile 1.4); make the `# syntax=` frontend image \
                available locally (`docker load`) or use a newer engine"
            .into();
    }
    String::new()
}

/// The last `lines` lines of a log, for error messages and the report.
pub fn log_tail(log: &str, lines: usize) -> String {
    let all: Vec<&str> = log.lines().collect();
    let start = all.len().saturating_sub(lines);
    all[start..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_buildkit_only_features() {
        assert!(needs_buildkit(
            "FROM a\nRUN --mount=type=cache,target=/root/.cache pip install x\n"
        ));
        assert!(needs_buildkit("FROM a\nRUN <<EOF\necho hi\nEOF\n"));
        assert!(needs_buildkit("FROM a\nCOPY --link . /app\n"));
        assert!(needs_buildkit("FROM a\nCOPY --chmod=755 x /x\n"));
        assert!(!needs_buildkit(
            "# syntax=docker/dockerfile:1.4\nFROM a\nRUN echo hi\n"
        ));
        assert!(!needs_buildkit(
            "FROM a\nRUN echo $((1 << 2)) && cat <<< hi\n"
        ));
        assert!(!needs_buildkit("FROM a\n# RUN --mount=type=cache x\n"));
        assert!(!needs_buildkit("FROM a\nCOPY --from=b /x /y\n"));
        assert!(needs_buildkit(
            "FROM --platform=$BUILDPLATFORM golang AS b\n"
        ));
        assert!(needs_buildkit(
            "FROM a\nRUN GOARCH=${TARGETARCH} go build\n"
        ));
    }

    #[test]
    fn finds_and_disables_the_syntax_directive() {
        let text = "# syntax=docker/dockerfile:1.4\n\nFROM a\n# syntax=not-a-directive\n";
        assert_eq!(
            syntax_directive(text).as_deref(),
            Some("docker/dockerfile:1.4")
        );
        let disabled = disable_syntax_directive(text);
        assert_eq!(
            disabled,
            "# dopt-disabled-syntax=docker/dockerfile:1.4\n\nFROM a\n# syntax=not-a-directive\n"
        );
        assert_eq!(syntax_directive(&disabled), None);
        assert_eq!(syntax_directive("FROM a\n# syntax=x\n"), None);
        assert_eq!(
            syntax_directive("# escape=`\n# Syntax = x/y\nFROM a\n").as_deref(),
            Some("x/y")
        );
    }

    #[test]
    fn intermediate_ids_skip_cache_hits() {
        let log =
            "Step 1/3 : FROM x\n ---> aaaaaaaaaaaa\nStep 2/3 : COPY a /a\n ---> Using cache\n \
                   ---> bbbbbbbbbbbb\nStep 3/3 : RUN false\n ---> Running in cccccccccccc\n \
                   ---> dddddddddddd\n";
        assert_eq!(
            classic_intermediate_ids(log),
            vec!["dddddddddddd".to_string()]
        );
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(log_tail("a\nb\nc\n", 2), "b\nc");
        assert_eq!(log_tail("a", 5), "a");
    }
}
