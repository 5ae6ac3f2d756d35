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
//!   really installed.
//!
//! A link in `node_modules/.bin` is explained with the package it points to, and a
//! missing directory when everything the original had below it is explained.
//! Everything else stays unexplained and fails verification: dopt never hides a
//! difference it cannot account for.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::dockerignore::DockerIgnore;

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
