//! Which files missing from the optimized image dopt removed on purpose.
//!
//! Verification lists the paths under the original's WORKDIR that the optimized
//! image lacks. Two fixes remove files deliberately, and those removals must not
//! fail verification:
//!
//! - the fixes' new `.dockerignore` (DOP022) leaves files out of the build context
//!   (`.git`, a host `node_modules`, `*.md`...): a missing path is explained when that
//!   `.dockerignore` excludes it (the moby matcher of [`super::dockerignore`]) and it
//!   exists in the build context, i.e. it was copied from there;
//! - the runtime stage of split-stages (DOP013) installs production dependencies
//!   only (`npm ci --omit=dev`, `npm prune --omit=dev`, `yarn install --production`):
//!   a missing path is explained when the optimized Dockerfile does such an install
//!   and the path lies in a package that the project's npm lockfile marks `"dev":
//!   true` (`package-lock.json`, or the `node_modules/.package-lock.json` npm writes
//!   itself), or, without a lockfile (yarn), that the installed dependency tree
//!   reaches from `devDependencies` only. The manifests are read from the original
//!   image, in and next to the `node_modules` folder, so they describe what was
//!   really installed;
//! - split-stages (DOP013) turns a single-stage build into a build stage and a
//!   runtime stage that copies only the build output (`COPY --from=build`): the
//!   sources and intermediate files stay in the build stage. A missing path is
//!   explained when the original is single-stage, the optimized final stage copies
//!   from one of its own earlier stages, the path is not under (nor above) what it
//!   copies, and the original put it there: a context COPY/ADD brought it (the
//!   file exists at the matching place in the build context), or it lies in the
//!   destination of such a COPY that a later RUN builds in (objects, the build
//!   tree), and no RUN before that COPY touched the destination. Destinations
//!   that are system folders (`/`, `/usr`, `/go`...) never explain anything: the
//!   base image has files there.
//!
//! A link in `node_modules/.bin` is explained with the package it points to, and a
//! missing directory when everything the original had below it is explained.
//! Everything else stays unexplained and fails verification: dopt never hides a
//! difference it cannot account for.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::dockerignore::DockerIgnore;
use crate::model::join_path;
use crate::syntax::{self, InstructionKind};

/// The dependency folder of npm, yarn (classic) and pnpm's hoisted links.
const NODE_MODULES: &str = "node_modules";
/// At most this many paths and packages are listed per explained group.
const MAX_LISTED: usize = 5;
/// A manifest larger than this is not read (lockfiles of big monorepos can be tens
/// of MB; then the removal stays unexplained).
pub(crate) const MAX_MANIFEST_BYTES: u64 = 32 * 1024 * 1024;

/// One entry of a file tree listed from a container.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TreeEntry {
    pub is_dir: bool,
    /// The target of a symbolic link, as stored.
    pub link_target: Option<String>,
}

/// A container's file tree under the compared WORKDIR, plus the npm manifests in it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TreeListing {
    /// Paths relative to the WORKDIR.
    pub entries: BTreeMap<String, TreeEntry>,
    /// Contents of the manifests that [`is_manifest`] selects, by relative path.
    pub manifests: BTreeMap<String, String>,
}

/// Whether the listing keeps the contents of this file: a project's `package.json`
/// or `package-lock.json`, the hidden lockfile `node_modules/.package-lock.json` of
/// a project, or the `package.json` at the root of an installed package (for the
/// dependency tree, when there is no lockfile).
pub(crate) fn is_manifest(path: &str) -> bool {
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    match name {
        "package-lock.json" => !has_component(dir, NODE_MODULES),
        "package.json" => !has_component(dir, NODE_MODULES) || is_package_dir(dir),
        ".package-lock.json" => {
            dir.strip_suffix(NODE_MODULES)
                .is_some_and(|parent| parent.is_empty() || parent.ends_with('/'))
                && !has_component(&dir[..dir.len() - NODE_MODULES.len()], NODE_MODULES)
        }
        _ => false,
    }
}

/// `…node_modules/<name>` or `…node_modules/@scope/<name>`.
fn is_package_dir(dir: &str) -> bool {
    let mut parts = dir.rsplit('/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(name), Some(NODE_MODULES), _) => !name.starts_with(['.', '@']),
        (Some(name), Some(scope), Some(NODE_MODULES)) => {
            scope.starts_with('@') && !name.starts_with('.')
        }
        _ => false,
    }
}

fn has_component(path: &str, component: &str) -> bool {
    path.split('/').any(|c| c == component)
}

/// Why a file is missing on purpose.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RemovalCause {
    /// The fixes' new `.dockerignore` leaves it out of the build context.
    NewDockerignore {
        /// The pattern that excludes it, as written.
        pattern: String,
    },
    /// A development dependency, left out by the optimized image's production-only
    /// install.
    DevDependency {
        /// The manifest that says so, relative to the WORKDIR
        /// (`package-lock.json`, `node_modules/.package-lock.json`, `package.json`).
        manifest: String,
    },
    /// A build input or output that split-stages leaves in the build stage: the
    /// runtime stage copies only what it names from there.
    KeptInBuildStage {
        /// The build stage's name (or index).
        stage: String,
        /// How the original made the path: `copied from the build context (line N)`
        /// or `made by a RUN after the COPY at line N`.
        origin: String,
    },
}

impl std::fmt::Display for RemovalCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RemovalCause::NewDockerignore { pattern } => write!(
                f,
                "left out of the build context by the new `.dockerignore` (pattern `{pattern}`)"
            ),
            RemovalCause::DevDependency { manifest } => write!(
                f,
                "devDependencies (per `{manifest}`) left out by the production-only install"
            ),
            RemovalCause::KeptInBuildStage { stage, origin } => write!(
                f,
                "kept in the build stage `{stage}` by split-stages ({origin}); the runtime \
                 stage copies only the build output"
            ),
        }
    }
}

/// The paths missing for one cause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExplainedRemoval {
    pub cause: RemovalCause,
    /// How many missing paths it explains.
    pub paths_total: usize,
    /// The first few of them (at most 5).
    pub paths: Vec<String>,
    /// For dev dependencies: the packages (at most 5 listed).
    pub packages: Vec<String>,
    pub packages_total: usize,
}

/// What the optimized build did that may remove files on purpose.
#[derive(Debug, Default)]
pub(crate) struct RemovalEvidence<'a> {
    /// The fixes' new `.dockerignore` when it filtered the optimized context, and the
    /// context folder (a path it explains must exist there).
    pub new_dockerignore: Option<(DockerIgnore, &'a Path)>,
    /// The optimized Dockerfile installs production dependencies only.
    pub production_install: bool,
    /// The optimized Dockerfile splits the single-stage original (see
    /// [`split_evidence`]).
    pub split: Option<SplitEvidence<'a>>,
}

/// What a split of a single-stage original keeps in its build stage.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SplitEvidence<'a> {
    /// The build stage the optimized final stage copies from.
    pub stage: String,
    /// The original's (final) WORKDIR: the missing paths are relative to it.
    pub workdir: String,
    /// Absolute sources and destinations of the final stage's `COPY --from=<stage>`.
    pub kept: Vec<String>,
    /// The original's COPY/ADD from the build context.
    pub context_copies: Vec<ContextCopy>,
    /// The build context, to tell which paths a context COPY brought.
    pub context_dir: Option<&'a Path>,
    /// The Dockerfile's path in the context: dopt puts it into the context it
    /// sends even when it is not on disk there.
    pub dockerfile: Option<&'a str>,
}

/// One COPY/ADD of the original from the build context.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ContextCopy {
    pub line: usize,
    /// Source paths relative to the context (plain ones: no wildcard, URL or heredoc).
    pub sources: Vec<String>,
    /// Whether some source is not plain (then only the RUN rule applies).
    pub other_sources: bool,
    /// The absolute destination.
    pub dest: String,
    /// The destination is a folder (ends with `/`, several sources, or `.`).
    pub dest_is_dir: bool,
    /// A RUN follows it in the original (and none before it touched `dest`).
    pub built_in: bool,
}

/// Folders where the base image has files of its own: a COPY there says nothing
/// about what else is there.
const SYSTEM_DIRS: &[&str] = &[
    "/",
    "/bin",
    "/etc",
    "/go",
    "/home",
    "/lib",
    "/opt",
    "/root",
    "/sbin",
    "/srv",
    "/tmp",
    "/usr",
    "/usr/bin",
    "/usr/lib",
    "/usr/local",
    "/usr/local/bin",
    "/usr/local/lib",
    "/usr/share",
    "/usr/src",
    "/var",
    "/var/lib",
];

/// The split evidence when `optimized` is a split of the single-stage `original`:
/// the original has one FROM, a WORKDIR without variables and its final stage
/// copies from a build stage of `optimized` (`COPY --from=<earlier stage>`).
pub(crate) fn split_evidence<'a>(
    original: &str,
    optimized: &str,
    context_dir: Option<&'a Path>,
    dockerfile: Option<&'a str>,
) -> Option<SplitEvidence<'a>> {
    let before = syntax::parse(original).ok()?;
    if before.stages().len() != 1 {
        return None;
    }
    let after = syntax::parse(optimized).ok()?;
    let stages = after.stages();
    let (last, earlier) = stages.split_last()?;

    // The final stage of the optimized file: what it copies from a build stage.
    let mut cwd: Option<String> = None;
    let mut stage = None;
    let mut kept = Vec::new();
    for inst in &after.instructions[last.instructions.clone()] {
        match &inst.kind {
            InstructionKind::Workdir(dir) => {
                cwd = join_path(cwd.as_deref().or(Some("/")), &unquote(&dir.value));
            }
            InstructionKind::Copy(args) => {
                let Some(from) = inst.flag("from").and_then(|f| f.value.as_deref()) else {
                    continue;
                };
                let from = unquote(from);
                let is_stage = earlier.iter().any(|s| {
                    s.name
                        .as_deref()
                        .is_some_and(|n| n.eq_ignore_ascii_case(&from))
                        || s.index.to_string() == from
                });
                if !is_stage {
                    continue;
                }
                stage.get_or_insert(from);
                let dest = unquote(&args.dest.value);
                kept.push(join_path(cwd.as_deref().or(Some("/")), &dest)?);
                for source in &args.sources {
                    // Sources are absolute in the build stage or relative to its `/`.
                    kept.push(join_path(Some("/"), &unquote(&source.value))?);
                }
            }
            _ => {}
        }
    }
    let stage = stage?;
    if kept.iter().any(|p| p.contains(['$', '*', '?', '['])) {
        return None;
    }

    // The original: its context copies, and whether a RUN builds in them.
    let mut workdir: Option<String> = None;
    let mut context_copies: Vec<ContextCopy> = Vec::new();
    let mut touched_before: Vec<String> = Vec::new();
    let instructions = &before.instructions[before.stages()[0].instructions.clone()];
    for inst in instructions {
        match &inst.kind {
            InstructionKind::Workdir(dir) => {
                let dir = unquote(&dir.value);
                if dir.contains('$') {
                    return None;
                }
                workdir = join_path(workdir.as_deref().or(Some("/")), &dir);
            }
            InstructionKind::Run(command) => {
                let text = match command {
                    syntax::Command::Shell { text, .. } => text.clone(),
                    syntax::Command::Exec { args, .. } => args.join(" "),
                };
                for copy in &mut context_copies {
                    copy.built_in = true;
                }
                if let Some(dir) = workdir.as_ref().filter(|_| may_write_to_cwd(&text)) {
                    touched_before.push(dir.clone());
                }
                touched_before.extend(
                    text.split(|c: char| c.is_whitespace() || "=;&|()'\"".contains(c))
                        .filter(|w| w.starts_with('/'))
                        .filter_map(|w| join_path(None, w)),
                );
            }
            InstructionKind::Copy(args) | InstructionKind::Add(args) => {
                if inst.flag("from").is_some() {
                    continue;
                }
                let dest_word = unquote(&args.dest.value);
                if dest_word.contains('$') {
                    continue;
                }
                // A relative destination before any WORKDIR depends on the base image.
                let Some(dest) = join_path(workdir.as_deref(), &dest_word) else {
                    continue;
                };
                let mut sources = Vec::new();
                let mut other_sources = false;
                for source in &args.sources {
                    let s = unquote(&source.value);
                    let plain = !s.starts_with("<<")
                        && !s.contains("://")
                        && !s.contains(['$', '*', '?', '['])
                        && !s.split('/').any(|c| c == "..");
                    if plain {
                        sources.push(s);
                    } else {
                        other_sources = true;
                    }
                }
                let dest_is_dir = dest_word.ends_with('/')
                    || matches!(dest_word.as_str(), "." | "./")
                    || args.sources.len() > 1;
                if SYSTEM_DIRS.contains(&dest.as_str())
                    || touched_before
                        .iter()
                        .any(|t| inside(t, &dest) || inside(&dest, t))
                {
                    continue;
                }
                context_copies.push(ContextCopy {
                    line: inst.start_line,
                    sources,
                    other_sources,
                    dest,
                    dest_is_dir,
                    built_in: false,
                });
            }
            _ => {}
        }
    }
    Some(SplitEvidence {
        stage,
        workdir: workdir?,
        kept,
        context_copies,
        context_dir,
        dockerfile,
    })
}

/// Whether a RUN script may write into its working directory: anything but
/// package installs, user creation and removals.
fn may_write_to_cwd(script: &str) -> bool {
    const HARMLESS: &[&str] = &[
        "apt-get",
        "apt",
        "apk",
        "yum",
        "dnf",
        "microdnf",
        "rm",
        "groupadd",
        "useradd",
        "addgroup",
        "adduser",
        "set",
        "true",
        "chmod",
        "chown",
        "update-ca-certificates",
    ];
    script
        .split(['&', ';', '|', '\n'])
        .filter_map(|segment| {
            segment
                .split_whitespace()
                .find(|w| !w.contains('=') && *w != "\\")
        })
        .any(|program| !HARMLESS.contains(&program))
}

fn unquote(word: &str) -> String {
    crate::model::unquote(word)
}

/// True if `path` is `dir` or lies below it.
fn inside(path: &str, dir: &str) -> bool {
    dir == "/"
        || path == dir
        || path
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Why split-stages explains the missing `path` (relative to the WORKDIR).
fn split_cause(path: &str, evidence: &RemovalEvidence<'_>) -> Option<RemovalCause> {
    let split = evidence.split.as_ref()?;
    let absolute = join_path(Some(&split.workdir), path)?;
    if split
        .kept
        .iter()
        .any(|k| inside(&absolute, k) || inside(k, &absolute))
    {
        return None;
    }
    let cause = |origin: String| RemovalCause::KeptInBuildStage {
        stage: split.stage.clone(),
        origin,
    };
    // The last COPY into the place wins, as in the build.
    for copy in split.context_copies.iter().rev() {
        if !inside(&absolute, &copy.dest) {
            continue;
        }
        if let Some(context) = split.context_dir {
            let brought = copy.sources.iter().any(|source| {
                let in_context = context.join(source.trim_start_matches('/'));
                let Ok(meta) = std::fs::metadata(&in_context) else {
                    return false;
                };
                if meta.is_dir() {
                    let rest = absolute[copy.dest.len()..].trim_start_matches('/');
                    let in_dir = source.trim_start_matches("./").trim_matches('/');
                    let sent = match in_dir {
                        "" | "." => rest.to_string(),
                        dir => format!("{dir}/{rest}"),
                    };
                    rest.is_empty()
                        || std::fs::symlink_metadata(in_context.join(rest)).is_ok()
                        || split.dockerfile == Some(sent.as_str())
                } else {
                    let name = source.rsplit('/').next().unwrap_or(source);
                    let target = if copy.dest_is_dir {
                        join_path(Some(&copy.dest), name)
                    } else {
                        Some(copy.dest.clone())
                    };
                    target.as_deref() == Some(absolute.as_str())
                }
            });
            if brought {
                return Some(cause(format!(
                    "copied from the build context at line {}",
                    copy.line
                )));
            }
        }
        if copy.built_in && absolute != copy.dest {
            return Some(cause(format!(
                "made by a RUN after the COPY at line {}",
                copy.line
            )));
        }
    }
    None
}

/// Missing paths sorted into explained groups and the rest.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Classified {
    pub explained: Vec<ExplainedRemoval>,
    pub explained_total: usize,
    /// In path order.
    pub unexplained: Vec<String>,
}

/// Whether a Dockerfile installs npm/yarn/pnpm production dependencies only, the
/// way the split-stages runtime stage does.
pub(crate) fn installs_production_only(dockerfile: &str) -> bool {
    const MARKERS: &[&str] = &[
        "--omit=dev",
        "--omit dev",
        "--only=prod",
        "--only=production",
        "--production",
        "--prod",
        "npm prune",
        "NODE_ENV=production",
        "workspaces focus",
    ];
    MARKERS.iter().any(|marker| dockerfile.contains(marker))
}

/// Sorts the `missing` paths (relative to the WORKDIR, as listed from the original
/// image in `original`) by cause.
pub(crate) fn classify(
    missing: &BTreeSet<String>,
    original: &TreeListing,
    evidence: &RemovalEvidence<'_>,
) -> Classified {
    let mut projects = HashMap::new();
    let mut causes: BTreeMap<&str, (RemovalCause, Option<String>)> = BTreeMap::new();
    for path in missing {
        let cause = dockerignore_cause(path, evidence)
            .or_else(|| split_cause(path, evidence))
            .map(|cause| (cause, None))
            .or_else(|| {
                if !evidence.production_install {
                    return None;
                }
                let target = bin_link_target(path, original);
                let package_path = target.as_deref().unwrap_or(path);
                dev_package(package_path, original, &mut projects).map(|(manifest, package)| {
                    (RemovalCause::DevDependency { manifest }, Some(package))
                })
            });
        if let Some(cause) = cause {
            causes.insert(path, cause);
        }
    }
    // A missing directory is explained when all the original had below it is
    // explained (e.g. a scope folder `node_modules/@types`); deepest first, so a
    // parent sees its children's verdicts.
    let mut dirs: Vec<&str> = missing
        .iter()
        .map(String::as_str)
        .filter(|p| !causes.contains_key(p) && original.entries.get(*p).is_some_and(|e| e.is_dir))
        .collect();
    dirs.sort_by_key(|d| std::cmp::Reverse(d.matches('/').count()));
    for dir in dirs {
        let prefix = format!("{dir}/");
        // Everything below `dir/` sorts together, from `dir/` on.
        let mut below = original
            .entries
            .range::<str, _>((
                std::ops::Bound::Included(prefix.as_str()),
                std::ops::Bound::Unbounded,
            ))
            .map(|(path, _)| path.as_str())
            .take_while(|path| path.starts_with(&prefix))
            .peekable();
        let Some(first) = below.peek().copied() else {
            continue;
        };
        if below.all(|path| causes.contains_key(path)) {
            let cause = causes[first].0.clone();
            causes.insert(dir, (cause, None));
        }
    }

    let mut groups: BTreeMap<RemovalCause, (Vec<&str>, BTreeSet<String>)> = BTreeMap::new();
    let mut unexplained = Vec::new();
    for path in missing {
        match causes.get(path.as_str()) {
            Some((cause, package)) => {
                let group = groups.entry(cause.clone()).or_default();
                group.0.push(path);
                group.1.extend(package.clone());
            }
            None => unexplained.push(path.clone()),
        }
    }
    let explained: Vec<ExplainedRemoval> = groups
        .into_iter()
        .map(|(cause, (paths, packages))| ExplainedRemoval {
            cause,
            paths_total: paths.len(),
            paths: paths
                .iter()
                .take(MAX_LISTED)
                .map(|p| p.to_string())
                .collect(),
            packages_total: packages.len(),
            packages: packages.into_iter().take(MAX_LISTED).collect(),
        })
        .collect();
    Classified {
        explained_total: explained.iter().map(|g| g.paths_total).sum(),
        explained,
        unexplained,
    }
}

/// The new `.dockerignore` pattern that left `path` out, when the path is in the
/// build context (so the original got it from there).
fn dockerignore_cause(path: &str, evidence: &RemovalEvidence<'_>) -> Option<RemovalCause> {
    let (ignore, context_dir) = evidence.new_dockerignore.as_ref()?;
    let pattern = ignore.excluded_by(path)?;
    std::fs::symlink_metadata(context_dir.join(path)).ok()?;
    Some(RemovalCause::NewDockerignore {
        pattern: pattern.text.clone(),
    })
}

/// Where a link in a `node_modules/.bin` folder points, relative to the WORKDIR
/// (`node_modules/.bin/tsc` → `node_modules/typescript/bin/tsc`).
fn bin_link_target(path: &str, original: &TreeListing) -> Option<String> {
    let (dir, _) = path.rsplit_once('/')?;
    if !dir.ends_with(&format!("{NODE_MODULES}/.bin")) {
        return None;
    }
    let target = original.entries.get(path)?.link_target.as_deref()?;
    if target.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = dir.split('/').collect();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

/// What one project's manifests say: the manifest relied on, and for installed
/// package paths below the project (`node_modules/a`,
/// `node_modules/a/node_modules/@s/b`) whether they are dev-only.
type ProjectDevs = Option<(String, HashMap<String, bool>)>;

/// `(manifest, package)` when `path` lies in a dev-only package of its project.
fn dev_package(
    path: &str,
    original: &TreeListing,
    projects: &mut HashMap<String, ProjectDevs>,
) -> Option<(String, String)> {
    let marker = format!("{NODE_MODULES}/");
    let at = if path.starts_with(&marker) {
        0
    } else {
        path.find(&format!("/{marker}"))? + 1
    };
    let project = &path[..at];
    let inside = &path[at..];
    let devs = projects
        .entry(project.to_string())
        .or_insert_with(|| read_project(project, original));

    // Package folders along the path, outermost first: `node_modules/a`,
    // `node_modules/a/node_modules/@s/b`.
    let mut packages = Vec::new();
    let parts: Vec<&str> = inside.split('/').collect();
    let mut i = 0;
    while i + 1 < parts.len() && parts[i] == NODE_MODULES {
        let width = if parts[i + 1].starts_with('@') { 3 } else { 2 };
        if i + width > parts.len() || parts[i + 1].starts_with('.') {
            break;
        }
        packages.push(parts[..i + width].join("/"));
        i += width;
    }
    let (manifest, dev) = devs.as_ref()?;
    // A package pruned as dev takes everything below it along.
    packages
        .iter()
        .find(|package| dev.get(*package) == Some(&true))
        .map(|package| {
            let name = package
                .rsplit_once("node_modules/")
                .map_or(package.as_str(), |(_, n)| n);
            (manifest.clone(), name.to_string())
        })
}

/// The lockfile's `dev` flags when there is a lockfile; else what the installed
/// dependency tree says (see [`tree_devs`]).
fn read_project(project: &str, original: &TreeListing) -> ProjectDevs {
    let json_of = |manifest: &str| {
        original
            .manifests
            .get(manifest)
            .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
    };
    for lockfile in ["package-lock.json", "node_modules/.package-lock.json"] {
        let manifest = format!("{project}{lockfile}");
        let Some(json) = json_of(&manifest) else {
            continue;
        };
        let mut dev = HashMap::new();
        if let Some(packages) = json.get("packages").and_then(|p| p.as_object()) {
            // lockfileVersion 2 and 3: `"node_modules/a": {"dev": true}`.
            for (key, entry) in packages {
                if key.starts_with(NODE_MODULES) {
                    let is_dev = entry.get("dev").and_then(|d| d.as_bool()) == Some(true);
                    dev.insert(key.clone(), is_dev);
                }
            }
        } else if let Some(deps) = json.get("dependencies").and_then(|d| d.as_object()) {
            // lockfileVersion 1: nested `"dependencies": {"a": {"dev": true, ...}}`.
            lock_v1(deps, NODE_MODULES, &mut dev);
        }
        if !dev.is_empty() {
            return Some((manifest, dev));
        }
    }
    let manifest = format!("{project}package.json");
    let root = json_of(&manifest)?;
    let dev = tree_devs(project, &root, original, &json_of)?;
    Some((manifest, dev))
}

/// Without a lockfile (yarn, `npm install` of old npm), the installed tree decides:
/// follows `dependencies`, `optionalDependencies` and `peerDependencies` from the
/// project's production sections and from its `devDependencies`, resolving each
/// name as Node does (the nearest `node_modules/<name>` upwards). Dev-only: reached
/// from the devDependencies only. None when a reached package has no readable
/// `package.json` (the tree cannot be told then).
fn tree_devs(
    project: &str,
    root: &serde_json::Value,
    original: &TreeListing,
    json_of: &dyn Fn(&str) -> Option<serde_json::Value>,
) -> Option<HashMap<String, bool>> {
    const RUNTIME: &[&str] = &["dependencies", "optionalDependencies", "peerDependencies"];
    let names = |json: &serde_json::Value, sections: &[&str]| -> Vec<String> {
        sections
            .iter()
            .filter_map(|section| json.get(section).and_then(|d| d.as_object()))
            .flat_map(|deps| deps.keys().cloned())
            .collect()
    };
    let closure = |roots: Vec<String>| -> Option<BTreeSet<String>> {
        let mut seen = BTreeSet::new();
        let mut queue: Vec<(String, String)> = roots
            .into_iter()
            .map(|name| (String::new(), name))
            .collect();
        while let Some((from, name)) = queue.pop() {
            // Not installed (an optional or peer dependency npm skipped): nothing to follow.
            let Some(package) = resolve(project, &from, &name, original) else {
                continue;
            };
            if !seen.insert(package.clone()) {
                continue;
            }
            let json = json_of(&format!("{project}{package}/package.json"))?;
            queue.extend(
                names(&json, RUNTIME)
                    .into_iter()
                    .map(|n| (package.clone(), n)),
            );
        }
        Some(seen)
    };
    let production = closure(names(root, RUNTIME))?;
    let development = closure(names(root, &["devDependencies"]))?;
    Some(
        production
            .iter()
            .map(|p| (p.clone(), false))
            .chain(
                development
                    .difference(&production)
                    .map(|p| (p.clone(), true)),
            )
            .collect(),
    )
}

/// Where Node finds `name` when required from the package at `from` (relative to
/// the project; `""` is the project itself): `from/node_modules/name`, then the
/// same in each enclosing package, up to the project's `node_modules/name`.
fn resolve(project: &str, from: &str, name: &str, original: &TreeListing) -> Option<String> {
    let mut base = from;
    loop {
        let candidate = if base.is_empty() {
            format!("{NODE_MODULES}/{name}")
        } else {
            format!("{base}/{NODE_MODULES}/{name}")
        };
        if original
            .entries
            .contains_key(&format!("{project}{candidate}"))
        {
            return Some(candidate);
        }
        if base.is_empty() {
            return None;
        }
        base = base
            .rfind(&format!("/{NODE_MODULES}/"))
            .map_or("", |at| &base[..at]);
    }
}

fn lock_v1(
    deps: &serde_json::Map<String, serde_json::Value>,
    prefix: &str,
    out: &mut HashMap<String, bool>,
) {
    for (name, entry) in deps {
        let path = format!("{prefix}/{name}");
        out.insert(
            path.clone(),
            entry.get("dev").and_then(|d| d.as_bool()) == Some(true),
        );
        if let Some(nested) = entry.get("dependencies").and_then(|d| d.as_object()) {
            lock_v1(nested, &format!("{path}/{NODE_MODULES}"), out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(paths: &[&str]) -> TreeListing {
        let mut tree = TreeListing::default();
        for path in paths {
            let (path, link) = match path.split_once(" -> ") {
                Some((p, l)) => (p, Some(l.to_string())),
                None => (*path, None),
            };
            let is_dir = path.ends_with('/');
            tree.entries.insert(
                path.trim_end_matches('/').to_string(),
                TreeEntry {
                    is_dir,
                    link_target: link,
                },
            );
        }
        tree
    }

    fn set(paths: &[&str]) -> BTreeSet<String> {
        paths
            .iter()
            .map(|p| p.trim_end_matches('/').to_string())
            .collect()
    }

    const PRODUCTION_INSTALL: RemovalEvidence = RemovalEvidence {
        new_dockerignore: None,
        production_install: true,
        split: None,
    };

    /// `debug` is listed as a devDependency but `express` needs it at run time.
    const PACKAGE_JSON: &str = r#"{"name":"app","dependencies":{"express":"^4"},
        "devDependencies":{"typescript":"^5","@types/node":"^20","jest":"^29","debug":"^4"}}"#;

    #[test]
    fn manifests_are_those_of_projects_and_package_roots() {
        assert!(is_manifest("package.json"));
        assert!(is_manifest("web/package-lock.json"));
        assert!(is_manifest("node_modules/.package-lock.json"));
        assert!(is_manifest("web/node_modules/.package-lock.json"));
        assert!(is_manifest("node_modules/express/package.json"));
        assert!(is_manifest("node_modules/@types/node/package.json"));
        assert!(is_manifest("node_modules/a/node_modules/b/package.json"));
        assert!(!is_manifest("node_modules/express/lib/package.json"));
        assert!(!is_manifest("node_modules/express/package-lock.json"));
        assert!(!is_manifest(
            "node_modules/a/node_modules/.package-lock.json"
        ));
        assert!(!is_manifest("src/index.js"));
    }

    /// A project installed without a lockfile: each package with its `package.json`
    /// (`deps` are its dependencies).
    fn installed(packages: &[(&str, &str)], other: &[&str]) -> TreeListing {
        let mut paths: Vec<String> = other.iter().map(|p| p.to_string()).collect();
        for (package, _) in packages {
            paths.push(format!("{package}/"));
            paths.push(format!("{package}/package.json"));
            paths.push(format!("{package}/index.js"));
        }
        let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
        let mut tree = listing(&refs);
        tree.manifests
            .insert("package.json".into(), PACKAGE_JSON.into());
        for (package, deps) in packages {
            let deps: Vec<String> = deps
                .split_whitespace()
                .map(|d| format!("\"{d}\":\"*\""))
                .collect();
            tree.manifests.insert(
                format!("{package}/package.json"),
                format!(r#"{{"dependencies":{{{}}}}}"#, deps.join(",")),
            );
        }
        tree
    }

    #[test]
    fn without_a_lockfile_the_installed_tree_decides() {
        let tree = installed(
            &[
                ("node_modules/express", "debug"),
                ("node_modules/debug", "ms"),
                ("node_modules/ms", ""),
                ("node_modules/typescript", ""),
                ("node_modules/@types/node", ""),
                ("node_modules/jest", "chalk"),
                ("node_modules/chalk", ""),
                // jest's own copy of ms (another version) is dev-only.
                ("node_modules/jest/node_modules/ms", ""),
                // In no dependency list: not a devDependency, just there.
                ("node_modules/stale", ""),
            ],
            &[
                "server.js",
                "node_modules/",
                "node_modules/@types/",
                "node_modules/.bin/",
                "node_modules/.bin/tsc -> ../typescript/bin/tsc",
                "node_modules/.bin/mystery -> ../mystery/cli.js",
            ],
        );
        let missing: BTreeSet<String> = tree
            .entries
            .keys()
            .filter(|p| !["node_modules", "node_modules/.bin"].contains(&p.as_str()))
            .cloned()
            .collect();
        let classified = classify(&missing, &tree, &PRODUCTION_INSTALL);
        let unexplained_roots: BTreeSet<&str> = classified
            .unexplained
            .iter()
            .map(|p| p.split("/index.js").next().unwrap())
            .map(|p| p.split("/package.json").next().unwrap())
            .collect();
        assert_eq!(
            unexplained_roots,
            BTreeSet::from([
                "node_modules/.bin/mystery",
                "node_modules/debug",
                "node_modules/express",
                "node_modules/ms",
                "node_modules/stale",
                "server.js",
            ])
        );
        let group = &classified.explained[0];
        assert_eq!(
            group.cause,
            RemovalCause::DevDependency {
                manifest: "package.json".into()
            }
        );
        assert_eq!(
            group.packages,
            vec!["@types/node", "chalk", "jest", "typescript"]
        );
        // 5 packages (jest's own ms too) x 3 entries, `@types`, `.bin/tsc`.
        assert_eq!(group.paths_total, 5 * 3 + 2);

        // Without a production-only install the same paths are not explained.
        let classified = classify(&missing, &tree, &RemovalEvidence::default());
        assert_eq!(classified.explained_total, 0);
        assert_eq!(classified.unexplained.len(), missing.len());

        // A reached package without a readable package.json: nothing is explained.
        let mut unreadable = tree.clone();
        unreadable
            .manifests
            .remove("node_modules/chalk/package.json");
        let classified = classify(&missing, &unreadable, &PRODUCTION_INSTALL);
        assert_eq!(classified.explained_total, 0);
    }

    #[test]
    fn the_lockfile_decides_transitive_packages() {
        let mut tree = listing(&[
            "web/package.json",
            "web/node_modules/jest/index.js",
            "web/node_modules/chalk/index.js",
            "web/node_modules/ms/index.js",
            "web/node_modules/debug/node_modules/ms/index.js",
        ]);
        tree.manifests
            .insert("web/package.json".into(), PACKAGE_JSON.into());
        tree.manifests.insert(
            "web/node_modules/.package-lock.json".into(),
            r#"{"lockfileVersion":3,"packages":{
                "node_modules/jest":{"dev":true},
                "node_modules/chalk":{"dev":true},
                "node_modules/ms":{},
                "node_modules/debug":{},
                "node_modules/debug/node_modules/ms":{"dev":true}}}"#
                .into(),
        );
        let missing = set(&[
            "web/node_modules/jest/index.js",
            "web/node_modules/chalk/index.js",
            "web/node_modules/ms/index.js",
            "web/node_modules/debug/node_modules/ms/index.js",
        ]);
        let classified = classify(&missing, &tree, &PRODUCTION_INSTALL);
        assert_eq!(classified.unexplained, vec!["web/node_modules/ms/index.js"]);
        assert_eq!(classified.explained.len(), 1);
        let group = &classified.explained[0];
        assert_eq!(
            group.cause,
            RemovalCause::DevDependency {
                manifest: "web/node_modules/.package-lock.json".into()
            }
        );
        assert_eq!(group.packages, vec!["chalk", "jest", "ms"]);

        // lockfileVersion 1 nests dependencies.
        let mut v1 = HashMap::new();
        let json: serde_json::Value =
            serde_json::from_str(r#"{"a":{"dev":true,"dependencies":{"b":{"dev":true}}},"c":{}}"#)
                .unwrap();
        lock_v1(json.as_object().unwrap(), NODE_MODULES, &mut v1);
        assert_eq!(v1.get("node_modules/a/node_modules/b"), Some(&true));
        assert_eq!(v1.get("node_modules/c"), Some(&false));
    }

    #[test]
    fn new_dockerignore_explains_paths_it_excludes_that_are_in_the_context() {
        let context = tempfile::tempdir().unwrap();
        for file in [".git/HEAD", "README.md", "app.js", "tests/a.test.js"] {
            let path = context.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "x").unwrap();
        }
        let tree = listing(&[
            ".git/",
            ".git/HEAD",
            "README.md",
            "app.js",
            "tests/",
            "tests/a.test.js",
            "generated.md",
        ]);
        let evidence = RemovalEvidence {
            new_dockerignore: Some((DockerIgnore::parse(".git\n*.md\ntests\n"), context.path())),
            production_install: false,
            split: None,
        };
        // All gone; `generated.md` is excluded by `*.md` but not in the context: the
        // image made it itself.
        let missing: BTreeSet<String> = tree.entries.keys().cloned().collect();
        let classified = classify(&missing, &tree, &evidence);
        assert_eq!(classified.unexplained, vec!["app.js", "generated.md"]);
        let patterns: Vec<(String, usize)> = classified
            .explained
            .iter()
            .map(|g| match &g.cause {
                RemovalCause::NewDockerignore { pattern } => (pattern.clone(), g.paths_total),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            patterns,
            vec![
                ("*.md".to_string(), 1),
                (".git".to_string(), 2),
                ("tests".to_string(), 2)
            ]
        );
        assert_eq!(classified.explained_total, 5);
    }

    const C_ORIGINAL: &str = "\
FROM debian:bookworm
RUN apt-get update \\
 && apt-get install -y --no-install-recommends gcc make zlib1g-dev \\
 && rm -rf /var/lib/apt/lists/*
WORKDIR /usr/src/app
COPY Makefile ./
COPY src/ ./src/
RUN make
CMD [\"./hello\"]
";

    const C_SPLIT: &str = "\
FROM debian:bookworm AS build
RUN apt-get update \\
 && apt-get install -y --no-install-recommends gcc make zlib1g-dev \\
 && rm -rf /var/lib/apt/lists/*
WORKDIR /usr/src/app
COPY Makefile ./
COPY src/ ./src/
RUN make

FROM debian:bookworm-slim
WORKDIR /usr/src/app
COPY --from=build /usr/src/app/hello /usr/src/app/hello
CMD [\"./hello\"]
";

    fn c_context() -> tempfile::TempDir {
        let context = tempfile::tempdir().unwrap();
        for file in ["Makefile", "src/hello.c", "src/util.h", "README.md"] {
            let path = context.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "x").unwrap();
        }
        context
    }

    #[test]
    fn split_evidence_reads_what_the_runtime_stage_copies_and_the_context_copies() {
        let split = split_evidence(C_ORIGINAL, C_SPLIT, None, None).unwrap();
        assert_eq!(split.stage, "build");
        assert_eq!(split.workdir, "/usr/src/app");
        assert_eq!(split.kept, vec!["/usr/src/app/hello", "/usr/src/app/hello"]);
        let copies: Vec<(&str, bool, bool)> = split
            .context_copies
            .iter()
            .map(|c| (c.dest.as_str(), c.dest_is_dir, c.built_in))
            .collect();
        assert_eq!(
            copies,
            vec![
                ("/usr/src/app", true, true),
                ("/usr/src/app/src", true, true)
            ]
        );

        // Not a split: the original is multi-stage, the final stage copies from no
        // build stage (or from an image), or there is no WORKDIR.
        assert!(split_evidence(C_SPLIT, C_SPLIT, None, None).is_none());
        let no_copy = C_SPLIT.replace("COPY --from=build", "COPY");
        assert!(split_evidence(C_ORIGINAL, &no_copy, None, None).is_none());
        let from_image = C_SPLIT.replace("--from=build", "--from=busybox");
        assert!(split_evidence(C_ORIGINAL, &from_image, None, None).is_none());
        let by_index = C_SPLIT.replace("--from=build", "--from=0");
        assert_eq!(
            split_evidence(C_ORIGINAL, &by_index, None, None)
                .unwrap()
                .stage,
            "0"
        );
        let no_workdir = C_ORIGINAL.replace("WORKDIR /usr/src/app", "WORKDIR $DIR");
        assert!(split_evidence(&no_workdir, C_SPLIT, None, None).is_none());
    }

    #[test]
    fn split_explains_build_inputs_and_outputs_only() {
        let context = c_context();
        let evidence = RemovalEvidence {
            split: split_evidence(
                C_ORIGINAL,
                C_SPLIT,
                Some(context.path()),
                Some("Dockerfile"),
            ),
            ..RemovalEvidence::default()
        };
        let tree = listing(&[
            "Makefile",
            "src/",
            "src/hello.c",
            "src/util.h",
            "src/hello.o",
            "hello",
            "hello.d/",
        ]);
        let missing = set(&[
            "Makefile",
            "src/",
            "src/hello.c",
            "src/util.h",
            "src/hello.o",
        ]);
        let classified = classify(&missing, &tree, &evidence);
        assert!(classified.unexplained.is_empty(), "{classified:?}");
        let origins: Vec<(String, usize)> = classified
            .explained
            .iter()
            .map(|g| match &g.cause {
                RemovalCause::KeptInBuildStage { stage, origin } => {
                    assert_eq!(stage, "build");
                    (origin.clone(), g.paths_total)
                }
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            origins,
            vec![
                ("copied from the build context at line 6".to_string(), 1),
                ("copied from the build context at line 7".to_string(), 3),
                ("made by a RUN after the COPY at line 7".to_string(), 1),
            ]
        );

        // The Dockerfile is in the context dopt sends even when not on disk.
        let whole = C_ORIGINAL.replace("COPY Makefile ./\nCOPY src/ ./src/\n", "COPY . .\n");
        let evidence_whole = RemovalEvidence {
            split: split_evidence(&whole, C_SPLIT, Some(context.path()), Some("Dockerfile")),
            ..RemovalEvidence::default()
        };
        let classified = classify(&set(&["Dockerfile"]), &tree, &evidence_whole);
        assert_eq!(
            classified.explained[0].cause,
            RemovalCause::KeptInBuildStage {
                stage: "build".into(),
                origin: "copied from the build context at line 6".into()
            }
        );

        // What the runtime stage copies is never explained: missing, it is a failure.
        let missing = set(&["hello"]);
        assert_eq!(
            classify(&missing, &tree, &evidence).unexplained,
            vec!["hello"]
        );

        // Without a RUN after the COPY, only what the context holds is explained.
        let no_build = C_ORIGINAL.replace("RUN make\n", "");
        let evidence = RemovalEvidence {
            split: split_evidence(&no_build, C_SPLIT, Some(context.path()), None),
            ..RemovalEvidence::default()
        };
        let missing = set(&["src/hello.c", "src/hello.o", "data/"]);
        let classified = classify(&missing, &tree, &evidence);
        assert_eq!(classified.unexplained, vec!["data", "src/hello.o"]);
    }

    #[test]
    fn split_explains_nothing_that_a_run_made_before_the_copy_or_the_base_had() {
        let context = c_context();
        // `mkdir` in the WORKDIR before the COPY: what is there may be needed at run time.
        let early = C_ORIGINAL.replace(
            "COPY Makefile ./",
            "RUN mkdir -p data && touch data/seed.db\nCOPY Makefile ./",
        );
        let evidence = RemovalEvidence {
            split: split_evidence(&early, C_SPLIT, Some(context.path()), None),
            ..RemovalEvidence::default()
        };
        let tree = listing(&["data/", "data/seed.db", "src/hello.o"]);
        let missing = set(&["data/", "data/seed.db", "src/hello.o"]);
        // Not even the objects below ./src: the RUN might have made that folder too.
        assert_eq!(
            classify(&missing, &tree, &evidence).unexplained,
            vec!["data", "data/seed.db", "src/hello.o"]
        );

        // A copy into a system folder says nothing about the rest of it.
        let system = C_ORIGINAL
            .replace("WORKDIR /usr/src/app", "WORKDIR /usr/local")
            .replace("COPY src/ ./src/\n", "");
        let split = split_evidence(&system, C_SPLIT, Some(context.path()), None).unwrap();
        assert!(split.context_copies.is_empty(), "{split:?}");

        // Package installs before the COPY do not touch the WORKDIR.
        assert!(!may_write_to_cwd(
            "apt-get update && apt-get install -y gcc && rm -rf /var/lib/apt/lists/*"
        ));
        assert!(may_write_to_cwd("apt-get update && make"));
        assert!(may_write_to_cwd("DEBUG=1 ./configure"));
    }

    #[test]
    fn production_installs_are_recognised() {
        assert!(installs_production_only("RUN npm ci --omit=dev\n"));
        assert!(installs_production_only("RUN npm prune --production\n"));
        assert!(installs_production_only(
            "RUN yarn install --production --frozen-lockfile\n"
        ));
        assert!(installs_production_only(
            "ENV NODE_ENV=production\nRUN npm ci\n"
        ));
        assert!(!installs_production_only("RUN npm ci\n"));
    }
}
