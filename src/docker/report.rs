//! The result of building, measuring and verifying both versions: a serializable
//! struct, rendered as Markdown for people and as JSON for machines.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::bisect::{Candidate, Verdict};
use super::build::BuilderKind;
use super::measure::{human_bytes, ImageFacts};
use super::verify::{Verification, VerifyMode};

/// The engine the measurements come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngineInfo {
    /// Address connected to (DOCKER_HOST or the default socket).
    pub host: String,
    pub server_version: String,
    /// API version after negotiation.
    pub api_version: String,
}

/// Measurements of one version (original or optimized).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionReport {
    /// The tag dopt gave the image (removed at the end unless images are kept).
    pub tag: String,
    pub built: bool,
    /// Image facts (size, layers, user...), when the build succeeded.
    pub image: Option<ImageFacts>,
    /// The external image the built stage starts from, when known and present.
    pub base_image: Option<BaseImage>,
    /// Wall-clock time of the build without cache (`nocache`), in seconds. The base
    /// image is local, so this is the time of the Dockerfile's own steps.
    pub cold_build_seconds: f64,
    /// Wall-clock time of a rebuild with cache after a source-only change.
    pub warm_rebuild_seconds: Option<f64>,
    /// Why the build failed.
    pub build_error: Option<String>,
    /// Last 30 lines of the build log when the build failed.
    pub log_tail: Option<String>,
    /// The complete build log when the build failed.
    pub build_log: Option<String>,
}

/// A base image and its size, recorded because some rewrites change the base.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaseImage {
    /// As written in the FROM line.
    pub reference: String,
    /// Uncompressed on-disk size (image inspect `Size`).
    pub size_bytes: u64,
    /// Set when it is a stand-in (see `measure::STANDIN_LABEL`).
    pub standin: Option<String>,
}

/// One fix and what the search decided about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FixVerdict {
    #[serde(flatten)]
    pub fix: Candidate,
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// One extra build of the search: the file with a subset of the fixes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialBuild {
    /// How many of the fixes it applied.
    pub fixes_applied: usize,
    /// Wall-clock seconds of the build (with the layer cache) and of its run.
    pub build_seconds: f64,
    pub verify_seconds: f64,
    pub built: bool,
    /// It built and behaved like the original.
    pub passed: bool,
}

/// When the file with every fix did not build or verify: which fixes broke it
/// (see `bisect.rs`), and the file with all the others.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchReport {
    /// Every fix of the full run, in order, with its verdict.
    pub fixes: Vec<FixVerdict>,
    /// The extra builds, in order.
    pub builds: Vec<TrialBuild>,
    /// The cap on extra builds, and whether the search reached it.
    pub max_builds: usize,
    pub capped: bool,
    /// The image with the kept fixes (None when no fix is kept).
    pub kept_image: Option<ImageFacts>,
    /// original size − size with the kept fixes, in bytes.
    pub kept_size_saved_bytes: Option<i64>,
    /// Its comparison with the original (it verified).
    pub kept_verification: Option<Verification>,
}

impl SearchReport {
    pub fn kept(&self) -> usize {
        self.fixes
            .iter()
            .filter(|f| f.verdict == Verdict::Kept)
            .count()
    }

    /// Markdown: the verdict per fix with its evidence, then the builds.
    pub fn to_markdown(&self, md: &mut String) {
        let _ = writeln!(
            md,
            "### Fix by fix

The file with every fix did not verify, so dopt searched for the \
             fixes responsible (by pass, then halving; {} extra build(s), cap {}{}). Kept {} of {} \
             fix(es).\n",
            self.builds.len(),
            self.max_builds,
            if self.capped { ", reached" } else { "" },
            self.kept(),
            self.fixes.len()
        );
        for f in &self.fixes {
            let head = format!(
                "- {} {} ({}): {}",
                f.fix.code, f.fix.name, f.fix.safety, f.fix.message
            );
            match &f.verdict {
                Verdict::Kept => {
                    let _ = writeln!(md, "{head} — **kept**");
                }
                Verdict::Dropped { evidence } => {
                    let _ = writeln!(md, "{head} — **dropped**");
                    for line in evidence {
                        let _ = writeln!(md, "  - {line}");
                    }
                }
                Verdict::Undecided { reason } => {
                    let _ = writeln!(md, "{head} — **not applied**: {reason}");
                }
            }
        }
        if let Some(image) = &self.kept_image {
            let _ = writeln!(
                md,
                "\nWith the kept fixes: {}, {} layers{}.",
                human_bytes(image.size_bytes),
                image.layers,
                self.kept_size_saved_bytes
                    .map(|saved| format!(
                        " ({} vs the original)",
                        signed_bytes(-saved, (image.size_bytes as i64 + saved).max(0) as u64)
                    ))
                    .unwrap_or_default()
            );
        }
        if !self.builds.is_empty() {
            let _ = writeln!(
                md,
                "\n| build | fixes applied | built | verified | build s | run s |"
            );
            let _ = writeln!(md, "|---:|---:|---|---|---:|---:|");
            for (i, b) in self.builds.iter().enumerate() {
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} | {:.1} | {:.1} |",
                    i + 1,
                    b.fixes_applied,
                    if b.built { "yes" } else { "no" },
                    if b.passed { "yes" } else { "no" },
                    b.build_seconds,
                    b.verify_seconds
                );
            }
        }
        md.push('\n');
    }
}

/// Everything `compare` found out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub engine: EngineInfo,
    pub builder: BuilderKind,
    /// Why that builder was used.
    pub builder_reason: String,
    pub target: Option<String>,
    /// Names of the build arguments passed to both builds (values are not
    /// reported: they may be secrets).
    pub build_arg_names: Vec<String>,
    pub network: Option<String>,
    pub original: VersionReport,
    pub optimized: VersionReport,
    /// The file edited for the warm rebuilds (a newline and a whitespace-only line
    /// that is new each run), relative to the context; None when the context has
    /// no suitable file.
    pub warm_edit_file: Option<String>,
    /// original size − optimized size, in bytes (negative: the optimized image is
    /// bigger).
    pub size_saved_bytes: Option<i64>,
    /// True when either image was built on a stand-in base image (see
    /// `measure::STANDIN_LABEL`): absolute sizes then are not those of the real
    /// bases.
    pub standin_bases: bool,
    /// The stand-in label values seen (what the stand-ins replace).
    pub standin_names: Vec<String>,
    /// None when the optimized image did not build.
    pub verification: Option<Verification>,
    /// The bottom line: the optimized image built and behaves like the original.
    pub verified: bool,
    pub notes: Vec<String>,
    /// Images left behind on request (`keep_images`).
    pub kept_images: Vec<String>,
    /// The fix-by-fix search, when the rewrite with every fix did not verify and
    /// a search was asked for (`--verify`, `suggest --build`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<SearchReport>,
}

impl Report {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("the report is plain data")
    }

    /// A Markdown summary: a table of the measurements, the verdict with its
    /// reasons, and the caveats (stand-in bases, notes).
    pub fn to_markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "## dopt build comparison\n");
        let _ = writeln!(
            md,
            "Engine {} (API {}) at `{}`; {} ({}){}{}.\n",
            self.engine.server_version,
            self.engine.api_version,
            self.engine.host,
            self.builder,
            self.builder_reason,
            self.target
                .as_ref()
                .map(|t| format!("; target `{t}`"))
                .unwrap_or_default(),
            self.network
                .as_ref()
                .map(|n| format!("; build network `{n}`"))
                .unwrap_or_default(),
        );

        let (a, b) = (&self.original, &self.optimized);
        let _ = writeln!(md, "| | original | optimized | change |");
        let _ = writeln!(md, "|---|---:|---:|---:|");
        let size = |v: &VersionReport| v.image.as_ref().map(|i| i.size_bytes);
        let _ = writeln!(
            md,
            "| image size (uncompressed on disk, image inspect `Size`) | {} | {} | {} |",
            opt(size(a).map(human_bytes)),
            opt(size(b).map(human_bytes)),
            match (size(a), size(b)) {
                (Some(x), Some(y)) => signed_bytes(y as i64 - x as i64, x),
                _ => "–".into(),
            }
        );
        let layers = |v: &VersionReport| v.image.as_ref().map(|i| i.layers);
        let _ = writeln!(
            md,
            "| layers (RootFS) | {} | {} | {} |",
            opt(layers(a)),
            opt(layers(b)),
            match (layers(a), layers(b)) {
                (Some(x), Some(y)) => format!("{:+}", y as i64 - x as i64),
                _ => "–".into(),
            }
        );
        let _ = writeln!(
            md,
            "| cold build (no cache) | {} | {} | {} |",
            seconds(a.built.then_some(a.cold_build_seconds)),
            seconds(b.built.then_some(b.cold_build_seconds)),
            delta_seconds(
                a.built.then_some(a.cold_build_seconds),
                b.built.then_some(b.cold_build_seconds)
            )
        );
        let base = |v: &VersionReport| {
            v.base_image.as_ref().map(|b| {
                format!(
                    "`{}` ({}{})",
                    b.reference,
                    human_bytes(b.size_bytes),
                    if b.standin.is_some() {
                        ", stand-in"
                    } else {
                        ""
                    }
                )
            })
        };
        if a.base_image.is_some() || b.base_image.is_some() {
            let _ = writeln!(
                md,
                "| base image of the built stage | {} | {} | |",
                opt(base(a)),
                opt(base(b))
            );
        }
        let warm_label = match &self.warm_edit_file {
            Some(file) => format!("warm rebuild after editing `{file}`"),
            None => "warm rebuild after a source edit".to_string(),
        };
        let _ = writeln!(
            md,
            "| {warm_label} | {} | {} | {} |",
            seconds(a.warm_rebuild_seconds),
            seconds(b.warm_rebuild_seconds),
            delta_seconds(a.warm_rebuild_seconds, b.warm_rebuild_seconds)
        );
        if let Some(v) = &self.verification {
            let user = |o: &super::verify::RunObservation| {
                let name = if o.config_user.is_empty() {
                    "root (default)".to_string()
                } else {
                    format!("`{}`", o.config_user)
                };
                match &o.uid {
                    Some(uid) => format!("{name}, uid {uid}"),
                    None => name,
                }
            };
            let _ = writeln!(
                md,
                "| user | {} | {} | |",
                user(&v.original),
                user(&v.optimized)
            );
            let health = |o: &super::verify::RunObservation| {
                o.health.clone().unwrap_or_else(|| "no HEALTHCHECK".into())
            };
            let _ = writeln!(
                md,
                "| health | {} | {} | |",
                health(&v.original),
                health(&v.optimized)
            );
            match v.mode {
                VerifyMode::Http { port } => {
                    let status = |o: &super::verify::RunObservation| {
                        o.http_status
                            .map_or_else(|| "no answer".to_string(), |s| s.to_string())
                    };
                    let _ = writeln!(
                        md,
                        "| `GET {}` on port {port} | {} | {} | |",
                        v.path,
                        status(&v.original),
                        status(&v.optimized)
                    );
                }
                VerifyMode::Command => {
                    let exit = |o: &super::verify::RunObservation| {
                        if o.timed_out {
                            "still running at timeout".to_string()
                        } else {
                            o.exit_code
                                .map_or_else(|| "–".to_string(), |c| format!("exit {c}"))
                        }
                    };
                    let _ = writeln!(
                        md,
                        "| default command | {} | {} | |",
                        exit(&v.original),
                        exit(&v.optimized)
                    );
                }
            }
        }
        md.push('\n');

        if self.verified {
            let files = match self
                .verification
                .as_ref()
                .map(|v| v.explained_removals_total)
            {
                Some(n) if n > 0 => {
                    format!("files, except {n} path(s) removed on purpose, listed below")
                }
                _ => "files".to_string(),
            };
            let _ = writeln!(
                md,
                "**Verified**: the optimized image builds and behaves like the original{}.\n",
                match self.verification.as_ref().map(|v| v.mode) {
                    Some(VerifyMode::Http { port }) =>
                        format!(" (same HTTP status on port {port}, same user, health and {files})"),
                    _ => format!(" (same exit code and output, same user, health and {files})"),
                }
            );
        } else {
            let inconclusive = self.verification.as_ref().is_some_and(|v| v.inconclusive);
            if inconclusive {
                let _ = writeln!(
                    md,
                    "**Not verified** (inconclusive: the original itself could not be checked, \
                     e.g. it needs a service that is not running):\n"
                );
            } else {
                let _ = writeln!(md, "**Not verified**:\n");
            }
            if let Some(error) = &b.build_error {
                let _ = writeln!(md, "- the optimized Dockerfile failed to build: {error}");
                if let Some(tail) = &b.log_tail {
                    let _ = writeln!(md, "\n```text\n{tail}\n```");
                }
            }
            if let Some(v) = &self.verification {
                for reason in &v.reasons {
                    let _ = writeln!(md, "- {reason}");
                }
                for (which, o) in [("original", &v.original), ("optimized", &v.optimized)] {
                    if let Some(tail) = o.log_tail.as_deref().filter(|t| !t.trim().is_empty()) {
                        let _ = writeln!(
                            md,
                            "\nOutput of the {which} container:\n\n```text\n{tail}\n```"
                        );
                    }
                }
            }
            md.push('\n');
        }
        if let Some(runtime) = self
            .verification
            .as_ref()
            .and_then(|v| v.original.runtime.as_ref())
        {
            runtime_markdown(runtime, &mut md);
        }
        if let Some(search) = &self.search {
            search.to_markdown(&mut md);
        }
        if let Some(v) = &self.verification {
            let workdir = v.workdir_compared.as_deref().unwrap_or("");
            if v.missing_files_total > 0 {
                let _ = writeln!(
                    md,
                    "Missing from the optimized image under `{workdir}`, not explained by any \
                     fix ({} in all): {}\n",
                    v.missing_files_total,
                    code_list(&v.missing_files, v.missing_files_total)
                );
            }
            if v.explained_removals_total > 0 {
                let _ = writeln!(
                    md,
                    "Removed on purpose under `{workdir}` ({} path(s); not held against the \
                     optimized image, but check that the app does not need them):\n",
                    v.explained_removals_total
                );
                for group in &v.explained_removals {
                    let packages = if group.packages_total > 0 {
                        format!(
                            ", packages {}",
                            code_list(&group.packages, group.packages_total)
                        )
                    } else {
                        String::new()
                    };
                    let _ = writeln!(
                        md,
                        "- {} path(s), {}{packages}: {}",
                        group.paths_total,
                        group.cause,
                        code_list(&group.paths, group.paths_total)
                    );
                }
                md.push('\n');
            }
        }

        if self.standin_bases {
            let _ = writeln!(
                md,
                "> **Sizes measured on stand-in base images** ({}): the bases were made \
                 locally because no registry is reachable, so absolute sizes differ from a \
                 build on the real base images; the change between the two versions is \
                 what the Dockerfile itself adds or saves.\n",
                self.standin_names.join(", ")
            );
        }
        let mut notes: Vec<&String> = self.notes.iter().collect();
        if let Some(v) = &self.verification {
            notes.extend(v.notes.iter());
        }
        if !notes.is_empty() {
            let _ = writeln!(md, "Notes:\n");
            for note in notes {
                let _ = writeln!(md, "- {note}");
            }
            md.push('\n');
        }
        if !self.kept_images.is_empty() {
            let _ = writeln!(md, "Images kept: {}\n", self.kept_images.join(", "));
        }
        md
    }
}

/// `` `a`, `b` and 3 more `` for a list shortened to `items` out of `total`.
fn code_list(items: &[String], total: usize) -> String {
    let mut text = items
        .iter()
        .map(|item| format!("`{item}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if total > items.len() {
        let _ = write!(text, " and {} more", total - items.len());
    }
    text
}

/// What the probes of the running original showed.
fn runtime_markdown(runtime: &crate::evidence::runtime::RuntimeEvidence, md: &mut String) {
    let _ = writeln!(md, "Running original (probes, fed to DOP011/DOP012):\n");
    if !runtime.paths_tried.is_empty() {
        let answered: Vec<String> = runtime
            .health_paths
            .iter()
            .map(|(path, status)| format!("`{path}` {status}"))
            .collect();
        let _ = writeln!(
            md,
            "- HTTP paths answering 2xx/3xx: {} (tried {})",
            if answered.is_empty() {
                "none".to_string()
            } else {
                answered.join(", ")
            },
            runtime.paths_tried.join(" ")
        );
    }
    if !runtime.listening_ports.is_empty() {
        let ports: Vec<String> = runtime.listening_ports.iter().map(u16::to_string).collect();
        let _ = writeln!(md, "- listens on TCP {}", ports.join(", "));
    }
    if let Some(uid) = runtime.uid {
        let _ = writeln!(md, "- main process (PID 1) runs as uid {uid}");
    }
    if !runtime.startup_writes.is_empty() {
        let _ = writeln!(
            md,
            "- writes at start-up (docker diff): {}",
            runtime.startup_writes.join(", ")
        );
    }
    md.push('\n');
}

fn opt<T: ToString>(value: Option<T>) -> String {
    value.map_or_else(|| "–".to_string(), |v| v.to_string())
}

fn seconds(value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_string(), |s| format!("{s:.1} s"))
}

fn delta_seconds(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) => format!("{:+.1} s", b - a),
        _ => "–".into(),
    }
}

/// `-2.2 MB (-17.9%)`.
fn signed_bytes(delta: i64, base: u64) -> String {
    let sign = if delta < 0 { "-" } else { "+" };
    let percent = if base > 0 {
        format!(
            " ({sign}{:.1}%)",
            delta.unsigned_abs() as f64 * 100.0 / base as f64
        )
    } else {
        String::new()
    };
    format!("{sign}{}{percent}", human_bytes(delta.unsigned_abs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_changes_have_sign_and_percentage() {
        assert_eq!(signed_bytes(-2_200_000, 12_300_000), "-2.2 MB (-17.9%)");
        assert_eq!(signed_bytes(500, 1000), "+500 B (+50.0%)");
    }
}
