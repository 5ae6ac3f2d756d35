//! The build context: what `docker build <dir>` sends to the engine, packed as a tar.
//!
//! [`build_context_tar`] reproduces the Docker CLI: it walks the context directory in a
//! deterministic (byte-sorted) order, leaves out what `.dockerignore` excludes (see
//! [`DockerIgnore`]), keeps file modes and symlinks (never followed), and sets owners to
//! `0:0`. The Dockerfile to build is injected under a given name, so the original and the
//! optimized Dockerfile are built from *the same* context and only the Dockerfile differs.
//!
//! As in the Docker CLI, the Dockerfile and `.dockerignore` are always sent, even when
//! `.dockerignore` excludes them: the classic builder needs them, and removes excluded ones
//! before `COPY`/`ADD` see the context (checked: `COPY . /ctx` gives the same file list as the
//! `docker` CLI's own context). BuildKit behind the Engine API (`version=2` with a tar body)
//! applies no `.dockerignore` at all and shows `COPY` the tar as is, so
//! [`build_context_tar_for_buildkit`] leaves an excluded `.dockerignore` out; the Dockerfile
//! must stay in the tar for BuildKit to read it, so with BuildKit an excluded Dockerfile is
//! still visible to `COPY . .` (identically in the original and the optimized build).
//!
//! Also here: helpers for the warm-rebuild measurement, which needs a copy of the context
//! with a one-file source edit ([`copy_context_to_temp`], [`pick_source_file_to_touch`],
//! [`make_source_edit`]).

use std::fs::{self, Metadata};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::dockerignore::{DockerIgnore, MatchInfo, DOCKERIGNORE_FILE};

/// Packs `context_dir` as Docker would send it, with `dockerfile_contents` stored under
/// `dockerfile_name` (a `/`-separated path relative to the context, e.g. `Dockerfile`),
/// replacing any file of that name. Use the same `dockerfile_name` for the original and
/// the optimized build so `COPY . .` copies the same set of files in both.
///
/// The ignore file is `<dockerfile_name>.dockerignore` if the context has one (BuildKit's
/// per-Dockerfile ignore file), else `.dockerignore`. Entries are in byte order of their
/// paths, directories before their contents; the injected Dockerfile comes first.
pub fn build_context_tar(
    context_dir: &Path,
    dockerfile_name: &str,
    dockerfile_contents: &[u8],
) -> anyhow::Result<Vec<u8>> {
    build_context_tar_with(
        context_dir,
        dockerfile_name,
        dockerfile_contents,
        &ContextOptions::default(),
    )
}

/// [`build_context_tar`] for a BuildKit build through the Engine API, which applies no
/// `.dockerignore` itself: an excluded `.dockerignore` is left out so `COPY . .` does not
/// see it, as with `docker buildx build`.
pub fn build_context_tar_for_buildkit(
    context_dir: &Path,
    dockerfile_name: &str,
    dockerfile_contents: &[u8],
) -> anyhow::Result<Vec<u8>> {
    let options = ContextOptions {
        for_buildkit: true,
        ..ContextOptions::default()
    };
    build_context_tar_with(context_dir, dockerfile_name, dockerfile_contents, &options)
}

/// Variations of [`build_context_tar`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ContextOptions<'a> {
    /// The tar goes to BuildKit through the Engine API (see
    /// [`build_context_tar_for_buildkit`]).
    pub for_buildkit: bool,
    /// `.dockerignore` contents to use *instead of* the context's ignore files, and to send
    /// as `.dockerignore`: e.g. the file a fix creates or edits, so the optimized build is
    /// measured with it while the directory stays untouched.
    pub dockerignore: Option<&'a str>,
}

/// [`build_context_tar`] with [`ContextOptions`].
pub fn build_context_tar_with(
    context_dir: &Path,
    dockerfile_name: &str,
    dockerfile_contents: &[u8],
    options: &ContextOptions<'_>,
) -> anyhow::Result<Vec<u8>> {
    let receiver = if options.for_buildkit {
        Receiver::BuildKit
    } else {
        Receiver::ClassicBuilder
    };
    pack(
        context_dir,
        dockerfile_name,
        dockerfile_contents,
        receiver,
        options.dockerignore,
    )
}

/// Who unpacks the tar: it decides whether an excluded `.dockerignore` must be sent.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Receiver {
    /// Reads `.dockerignore` from the tar and removes excluded build files itself.
    ClassicBuilder,
    /// Uses the tar as the context, unfiltered.
    BuildKit,
}

fn pack(
    context_dir: &Path,
    dockerfile_name: &str,
    dockerfile_contents: &[u8],
    receiver: Receiver,
    dockerignore_override: Option<&str>,
) -> anyhow::Result<Vec<u8>> {
    let dockerfile_name = dockerfile_name
        .trim_start_matches("./")
        .trim_start_matches('/');
    anyhow::ensure!(
        !dockerfile_name.is_empty() && !dockerfile_name.split('/').any(|c| c == ".."),
        "Dockerfile name {dockerfile_name:?} must be a path inside the build context"
    );
    anyhow::ensure!(
        fs::metadata(context_dir).is_ok_and(|m| m.is_dir()),
        "the build context {} is not a directory",
        context_dir.display()
    );
    let ignore = match dockerignore_override {
        Some(text) => DockerIgnore::parse(text),
        None => DockerIgnore::for_dockerfile(context_dir, Path::new(dockerfile_name))
            .with_context(|| format!("reading the .dockerignore of {}", context_dir.display()))?,
    };
    if let Some(error) = ignore.errors().first() {
        // `docker build` refuses to start with a malformed pattern; so do we.
        anyhow::bail!(
            "{}: {error}",
            ignore
                .source()
                .unwrap_or(Path::new(DOCKERIGNORE_FILE))
                .display()
        );
    }

    let mut builder = tar::Builder::new(Vec::new());
    builder.mode(tar::HeaderMode::Complete);
    builder.follow_symlinks(false);

    // The Dockerfile first, with the original's mode and mtime when it exists so that the
    // only difference between two contexts is the content.
    let original = fs::symlink_metadata(context_dir.join(dockerfile_name)).ok();
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_size(dockerfile_contents.len() as u64);
    header.set_mode(
        original
            .as_ref()
            .filter(|m| m.is_file())
            .map_or(0o644, |m| m.mode() & 0o7777),
    );
    header.set_mtime(original.as_ref().map_or(0, |m| m.mtime().max(0) as u64));
    header.set_uid(0);
    header.set_gid(0);
    builder
        .append_data(&mut header, dockerfile_name, dockerfile_contents)
        .context("adding the Dockerfile to the context tar")?;

    // A replacement `.dockerignore` is sent in place of the file on disk (which the walk
    // then skips), under the same rule: the classic builder always gets it.
    if let Some(text) = dockerignore_override {
        if receiver == Receiver::ClassicBuilder || !ignore.is_excluded(DOCKERIGNORE_FILE) {
            let on_disk = fs::symlink_metadata(context_dir.join(DOCKERIGNORE_FILE)).ok();
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(tar::EntryType::Regular);
            header.set_size(text.len() as u64);
            header.set_mode(
                on_disk
                    .as_ref()
                    .filter(|m| m.is_file())
                    .map_or(0o644, |m| m.mode() & 0o7777),
            );
            header.set_mtime(on_disk.as_ref().map_or(0, |m| m.mtime().max(0) as u64));
            header.set_uid(0);
            header.set_gid(0);
            builder
                .append_data(&mut header, DOCKERIGNORE_FILE, text.as_bytes())
                .context("adding the .dockerignore to the context tar")?;
        }
    }

    let mut walker = ContextWalker {
        root: context_dir,
        ignore: &ignore,
        dockerfile_name,
        send_excluded_dockerignore: receiver == Receiver::ClassicBuilder,
        skip_dockerignore: dockerignore_override.is_some(),
        builder,
        pending_dirs: Vec::new(),
    };
    walker.walk_dir(context_dir, "", &MatchInfo::default())?;
    let bytes = walker
        .builder
        .into_inner()
        .context("finishing the context tar")?;
    Ok(bytes)
}

struct ContextWalker<'a> {
    root: &'a Path,
    ignore: &'a DockerIgnore,
    dockerfile_name: &'a str,
    send_excluded_dockerignore: bool,
    /// The `.dockerignore` was replaced (and sent already).
    skip_dockerignore: bool,
    builder: tar::Builder<Vec<u8>>,
    /// Excluded directories we walk into because an exception may re-include something
    /// below; their headers are written only if something inside is.
    pending_dirs: Vec<(String, Metadata)>,
}

impl ContextWalker<'_> {
    fn walk_dir(
        &mut self,
        dir: &Path,
        rel_dir: &str,
        parent_info: &MatchInfo,
    ) -> anyhow::Result<()> {
        for (name, path) in sorted_entries(dir)? {
            let rel = if rel_dir.is_empty() {
                name.clone()
            } else {
                format!("{rel_dir}/{name}")
            };
            if rel == self.dockerfile_name || (self.skip_dockerignore && rel == DOCKERIGNORE_FILE) {
                continue; // injected already
            }
            let meta = fs::symlink_metadata(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            let (excluded, info) = self.ignore.matches_using_parent_results(&rel, parent_info);
            let always_sent = self.send_excluded_dockerignore && rel == DOCKERIGNORE_FILE;
            if meta.is_dir() {
                if !excluded {
                    self.flush_pending_dirs()?;
                    self.append(&rel, &path, &meta)?;
                    self.walk_dir(&path, &rel, &info)?;
                } else if self.ignore.might_reinclude_below(&rel) {
                    self.pending_dirs.push((rel.clone(), meta));
                    self.walk_dir(&path, &rel, &info)?;
                    // Pop it if nothing below was re-included (else it was flushed).
                    if self
                        .pending_dirs
                        .last()
                        .is_some_and(|(pending, _)| *pending == rel)
                    {
                        self.pending_dirs.pop();
                    }
                }
            } else if !excluded || always_sent {
                let file_type = meta.file_type();
                if file_type.is_file() || file_type.is_symlink() {
                    self.flush_pending_dirs()?;
                    self.append(&rel, &path, &meta)?;
                }
                // Sockets, FIFOs and devices cannot be meaningfully sent; the CLI skips
                // sockets and a FIFO would block the read, so leave them all out.
            }
        }
        Ok(())
    }

    fn flush_pending_dirs(&mut self) -> anyhow::Result<()> {
        for (rel, meta) in std::mem::take(&mut self.pending_dirs) {
            let path = self.root.join(&rel);
            self.append(&rel, &path, &meta)?;
        }
        Ok(())
    }

    fn append(&mut self, rel: &str, path: &Path, meta: &Metadata) -> anyhow::Result<()> {
        let mut header = tar::Header::new_gnu();
        header.set_metadata_in_mode(meta, tar::HeaderMode::Complete);
        // The CLI sends everything as root-owned (ChownOpts 0:0) without user/group names.
        header.set_uid(0);
        header.set_gid(0);
        let adding = || format!("adding {} to the context tar", path.display());
        if meta.file_type().is_symlink() {
            let target = fs::read_link(path).with_context(adding)?;
            header.set_size(0);
            self.builder
                .append_link(&mut header, rel, &target)
                .with_context(adding)?;
        } else if meta.is_dir() {
            header.set_size(0);
            self.builder
                .append_data(&mut header, format!("{rel}/"), io::empty())
                .with_context(adding)?;
        } else {
            let file = fs::File::open(path).with_context(adding)?;
            self.builder
                .append_data(&mut header, rel, file)
                .with_context(adding)?;
        }
        Ok(())
    }
}

/// Directory entries as (name, path), sorted by name bytes. Names that are not UTF-8 are
/// converted lossily for matching and storage (Docker would keep the raw bytes; such names
/// do not occur in the contexts we build).
fn sorted_entries(dir: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let mut entries = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let entry = entry.with_context(|| format!("listing {}", dir.display()))?;
        entries.push((
            entry.file_name().to_string_lossy().into_owned(),
            entry.path(),
        ));
    }
    entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    Ok(entries)
}

/// Copies the whole context directory (ignored files included, symlinks kept as symlinks,
/// permissions kept) into a new temporary directory, removed when the returned handle drops.
pub fn copy_context_to_temp(context_dir: &Path) -> io::Result<tempfile::TempDir> {
    let temp = tempfile::Builder::new().prefix("dopt-context-").tempdir()?;
    copy_tree(context_dir, temp.path())?;
    Ok(temp)
}

fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let source = entry.path();
        let target = to.join(entry.file_name());
        let file_type = entry.file_type()?;
        if file_type.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(&source)?, &target)?;
        } else if file_type.is_dir() {
            fs::create_dir(&target)?;
            copy_tree(&source, &target)?;
            fs::set_permissions(&target, fs::metadata(&source)?.permissions())?;
        } else if file_type.is_file() {
            // fs::copy keeps the permission bits.
            fs::copy(&source, &target)?;
        }
    }
    Ok(())
}

/// Extensions of files that are application source (edited often, copied late).
const SOURCE_EXTENSIONS: &[&str] = &[
    "py", "js", "mjs", "cjs", "ts", "tsx", "jsx", "go", "java", "kt", "rb", "rs", "php", "c", "h",
    "cc", "cpp", "cs", "scala", "ex", "exs", "html", "css", "scss", "vue", "svelte", "sh",
];

/// Picks a file whose edit models "the developer changed some source code": a regular file
/// that the build context includes, not a dependency manifest (`manifests` holds file names
/// such as `package.json` or context-relative paths), not a Dockerfile or ignore file, and not
/// inside a hidden directory. Prefers known source extensions, then shallower paths, then
/// byte order. Returns the path **relative to the context**, so it can be applied to a copy
/// made by [`copy_context_to_temp`].
pub fn pick_source_file_to_touch(
    context_dir: &Path,
    ignore: &DockerIgnore,
    manifests: &[&str],
) -> Option<PathBuf> {
    let mut candidates: Vec<(bool, usize, String)> = Vec::new();
    collect_candidates(context_dir, "", ignore, manifests, &mut candidates);
    candidates
        .into_iter()
        .min_by(|a, b| (!a.0, a.1, a.2.as_bytes()).cmp(&(!b.0, b.1, b.2.as_bytes())))
        .map(|(_, _, rel)| PathBuf::from(rel))
}

fn collect_candidates(
    dir: &Path,
    rel_dir: &str,
    ignore: &DockerIgnore,
    manifests: &[&str],
    out: &mut Vec<(bool, usize, String)>,
) {
    let Ok(entries) = sorted_entries(dir) else {
        return;
    };
    for (name, path) in entries {
        let rel = if rel_dir.is_empty() {
            name.clone()
        } else {
            format!("{rel_dir}/{name}")
        };
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        if name.starts_with('.') {
            continue; // .git, .github, .env, .dockerignore: not application source
        }
        if meta.is_dir() {
            if !ignore.excludes_tree(&rel) {
                collect_candidates(&path, &rel, ignore, manifests, out);
            }
            continue;
        }
        if !meta.is_file() || ignore.is_excluded(&rel) || meta.permissions().mode() & 0o200 == 0 {
            continue;
        }
        let lower = name.to_ascii_lowercase();
        let is_build_file = lower.starts_with("dockerfile")
            || lower.ends_with(".dockerfile")
            || lower.starts_with("containerfile")
            || lower.ends_with(".dockerignore");
        let is_manifest = manifests.iter().any(|m| *m == name || *m == rel);
        if is_build_file || is_manifest {
            continue;
        }
        let is_source = Path::new(&name)
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| SOURCE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
        let depth = rel.matches('/').count();
        out.push((is_source, depth, rel));
    }
}

/// Makes a content change to `path` that keeps it valid for practically every language and
/// data format: appends a newline. (BuildKit's cache keys on content, so touching the mtime
/// would not invalidate anything.)
pub fn make_source_edit(path: &Path) -> io::Result<()> {
    let mut file = fs::OpenOptions::new().append(true).open(path)?;
    file.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::io::Read;

    /// Writes files given as (path, contents); a path ending in `/` is a directory, contents
    /// starting with `->` make a symlink.
    fn context(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, contents) in files {
            let full = dir.path().join(path);
            if path.ends_with('/') {
                fs::create_dir_all(&full).unwrap();
                continue;
            }
            fs::create_dir_all(full.parent().unwrap()).unwrap();
            if let Some(target) = contents.strip_prefix("->") {
                std::os::unix::fs::symlink(target, &full).unwrap();
            } else {
                fs::write(&full, contents).unwrap();
            }
        }
        dir
    }

    struct Entry {
        kind: tar::EntryType,
        mode: u32,
        uid: u64,
        contents: String,
        link: Option<String>,
    }

    fn entries(tar_bytes: &[u8]) -> Vec<(String, Entry)> {
        let mut archive = tar::Archive::new(tar_bytes);
        let mut out = Vec::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let path = entry.path().unwrap().to_string_lossy().into_owned();
            let header = entry.header();
            let kind = header.entry_type();
            let mode = header.mode().unwrap();
            let uid = header.uid().unwrap();
            let link = entry
                .link_name()
                .unwrap()
                .map(|l| l.to_string_lossy().into_owned());
            let mut contents = String::new();
            entry.read_to_string(&mut contents).unwrap();
            out.push((
                path,
                Entry {
                    kind,
                    mode,
                    uid,
                    contents,
                    link,
                },
            ));
        }
        out
    }

    fn names(tar_bytes: &[u8]) -> Vec<String> {
        entries(tar_bytes)
            .into_iter()
            .map(|(name, _)| name)
            .collect()
    }

    #[test]
    fn injects_the_dockerfile_and_applies_dockerignore() {
        let ctx = context(&[
            ("Dockerfile", "FROM original\n"),
            (".dockerignore", "node_modules\n*.log\n.git\nDockerfile\n"),
            ("app.js", "console.log(1)\n"),
            ("debug.log", "x"),
            ("logs/keep.log", "nested logs are not matched by *.log"),
            ("node_modules/a/index.js", "x"),
            (".git/HEAD", "ref"),
            ("src/b.js", "b"),
            ("src/a.js", "a"),
        ]);
        let tar = build_context_tar(ctx.path(), "Dockerfile", b"FROM optimized\n").unwrap();
        assert_eq!(
            names(&tar),
            [
                "Dockerfile",
                ".dockerignore",
                "app.js",
                "logs/",
                "logs/keep.log",
                "src/",
                "src/a.js",
                "src/b.js"
            ]
        );
        let all: BTreeMap<_, _> = entries(&tar).into_iter().collect();
        assert_eq!(all["Dockerfile"].contents, "FROM optimized\n");
        assert!(all.values().all(|e| e.uid == 0));
    }

    #[test]
    fn buildkit_tar_leaves_out_an_excluded_dockerignore() {
        let ctx = context(&[
            (".dockerignore", ".dockerignore\nDockerfile\n"),
            ("app.js", "a"),
        ]);
        let classic = build_context_tar(ctx.path(), "Dockerfile", b"FROM x\n").unwrap();
        assert_eq!(names(&classic), ["Dockerfile", ".dockerignore", "app.js"]);
        let buildkit =
            build_context_tar_for_buildkit(ctx.path(), "Dockerfile", b"FROM x\n").unwrap();
        assert_eq!(names(&buildkit), ["Dockerfile", "app.js"]);
        // Not excluded: sent to both.
        let ctx = context(&[(".dockerignore", "*.log\n"), ("app.js", "a")]);
        let buildkit =
            build_context_tar_for_buildkit(ctx.path(), "Dockerfile", b"FROM x\n").unwrap();
        assert_eq!(names(&buildkit), ["Dockerfile", ".dockerignore", "app.js"]);
    }

    #[test]
    fn a_replacement_dockerignore_is_used_and_sent() {
        let ctx = context(&[
            (".dockerignore", "*.log\n"),
            ("app.log", "l"),
            ("node_modules/x.js", "x"),
            ("app.js", "a"),
        ]);
        let options = ContextOptions {
            dockerignore: Some("node_modules\n"),
            ..ContextOptions::default()
        };
        let tar = build_context_tar_with(ctx.path(), "Dockerfile", b"FROM x\n", &options).unwrap();
        assert_eq!(
            names(&tar),
            ["Dockerfile", ".dockerignore", "app.js", "app.log"]
        );
        let all: BTreeMap<_, _> = entries(&tar).into_iter().collect();
        assert_eq!(all[".dockerignore"].contents, "node_modules\n");
        // A context without any .dockerignore (the case of a fix creating one).
        let ctx = context(&[("node_modules/x.js", "x"), ("app.js", "a")]);
        let tar = build_context_tar_with(ctx.path(), "Dockerfile", b"FROM x\n", &options).unwrap();
        assert_eq!(names(&tar), ["Dockerfile", ".dockerignore", "app.js"]);
        // Excluding itself: BuildKit does not get it.
        let options = ContextOptions {
            dockerignore: Some(".dockerignore\nnode_modules\n"),
            for_buildkit: true,
        };
        let tar = build_context_tar_with(ctx.path(), "Dockerfile", b"FROM x\n", &options).unwrap();
        assert_eq!(names(&tar), ["Dockerfile", "app.js"]);
        let bad = ContextOptions {
            dockerignore: Some("[\n"),
            ..ContextOptions::default()
        };
        assert!(build_context_tar_with(ctx.path(), "Dockerfile", b"", &bad).is_err());
    }

    #[test]
    fn same_input_gives_identical_bytes() {
        let ctx = context(&[("b", "2"), ("a/z", "1"), ("a/y", "0"), ("c/", "")]);
        let first = build_context_tar(ctx.path(), "Dockerfile", b"FROM x\n").unwrap();
        let second = build_context_tar(ctx.path(), "Dockerfile", b"FROM x\n").unwrap();
        assert_eq!(first, second);
        assert_eq!(names(&first), ["Dockerfile", "a/", "a/y", "a/z", "b", "c/"]);
    }

    #[test]
    fn keeps_modes_and_symlinks() {
        let ctx = context(&[
            ("run.sh", "#!/bin/sh\n"),
            ("link", "->run.sh"),
            ("dangling", "->nowhere"),
        ]);
        fs::set_permissions(ctx.path().join("run.sh"), fs::Permissions::from_mode(0o755)).unwrap();
        let tar = build_context_tar(ctx.path(), "Dockerfile", b"FROM x\n").unwrap();
        let all: BTreeMap<_, _> = entries(&tar).into_iter().collect();
        assert_eq!(all["run.sh"].mode & 0o777, 0o755);
        assert_eq!(all["run.sh"].kind, tar::EntryType::Regular);
        assert_eq!(all["link"].kind, tar::EntryType::Symlink);
        assert_eq!(all["link"].link.as_deref(), Some("run.sh"));
        assert_eq!(all["dangling"].link.as_deref(), Some("nowhere"));
        assert_eq!(all["Dockerfile"].mode, 0o644);
    }

    #[test]
    fn descends_into_excluded_dirs_only_for_exceptions() {
        let ctx = context(&[
            (".dockerignore", "docs\n!docs/keep.md\nbuild\n"),
            ("docs/keep.md", "k"),
            ("docs/drop.md", "d"),
            ("docs/sub/deep.md", "d"),
            ("build/out.o", "o"),
        ]);
        let tar = build_context_tar(ctx.path(), "Dockerfile", b"FROM x\n").unwrap();
        // `docs/` itself is excluded but its header is sent with the re-included file, as
        // BuildKit does, so the directory keeps its mode.
        assert_eq!(
            names(&tar),
            ["Dockerfile", ".dockerignore", "docs/", "docs/keep.md"]
        );
    }

    #[test]
    fn allow_list_style_dockerignore() {
        let ctx = context(&[
            (".dockerignore", "*\n!src\n!package.json\n"),
            ("package.json", "{}"),
            ("src/index.js", "x"),
            ("secrets.env", "x"),
            ("Dockerfile", "FROM x\n"),
        ]);
        let tar = build_context_tar(ctx.path(), "Dockerfile", b"FROM x\n").unwrap();
        // The Dockerfile and .dockerignore are sent even though `*` excludes them.
        assert_eq!(
            names(&tar),
            [
                "Dockerfile",
                ".dockerignore",
                "package.json",
                "src/",
                "src/index.js"
            ]
        );
    }

    #[test]
    fn per_dockerfile_ignore_and_nested_dockerfile_name() {
        let ctx = context(&[
            (".dockerignore", "*.md\n"),
            ("build/app.Dockerfile.dockerignore", "secret\n"),
            ("README.md", "r"),
            ("secret", "s"),
        ]);
        let tar = build_context_tar(ctx.path(), "build/app.Dockerfile", b"FROM x\n").unwrap();
        assert_eq!(
            names(&tar),
            [
                "build/app.Dockerfile",
                ".dockerignore",
                "README.md",
                "build/",
                "build/app.Dockerfile.dockerignore"
            ]
        );
    }

    #[test]
    fn rejects_bad_inputs() {
        let ctx = context(&[(".dockerignore", "[\n")]);
        let err = build_context_tar(ctx.path(), "Dockerfile", b"").unwrap_err();
        assert!(err.to_string().contains("syntax error in pattern"), "{err}");
        let ctx = context(&[]);
        assert!(build_context_tar(ctx.path(), "../Dockerfile", b"").is_err());
        assert!(build_context_tar(&ctx.path().join("missing"), "Dockerfile", b"").is_err());
    }

    #[test]
    fn long_paths_survive() {
        let long = format!("{}/file.txt", "d".repeat(120));
        let ctx = context(&[(long.as_str(), "x")]);
        let tar = build_context_tar(ctx.path(), "Dockerfile", b"FROM x\n").unwrap();
        assert!(names(&tar).contains(&long));
    }

    #[test]
    fn copy_keeps_everything() {
        let ctx = context(&[("a/b.txt", "b"), ("link", "->a/b.txt"), (".git/HEAD", "h")]);
        fs::set_permissions(
            ctx.path().join("a/b.txt"),
            fs::Permissions::from_mode(0o640),
        )
        .unwrap();
        let copy = copy_context_to_temp(ctx.path()).unwrap();
        assert_eq!(
            fs::read_to_string(copy.path().join("a/b.txt")).unwrap(),
            "b"
        );
        assert_eq!(
            fs::read_link(copy.path().join("link")).unwrap(),
            Path::new("a/b.txt")
        );
        assert!(copy.path().join(".git/HEAD").is_file());
        let mode = fs::metadata(copy.path().join("a/b.txt"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o640);
    }

    #[test]
    fn picks_a_source_file_not_a_manifest() {
        let ctx = context(&[
            ("Dockerfile", "FROM x\n"),
            (".dockerignore", "ignored.py\n"),
            ("package.json", "{}"),
            ("package-lock.json", "{}"),
            ("README.md", "r"),
            ("ignored.py", "x"),
            ("src/deep/util.js", "u"),
            ("server.js", "s"),
        ]);
        let ignore = DockerIgnore::from_dir(ctx.path()).unwrap();
        let manifests = ["package.json", "package-lock.json"];
        assert_eq!(
            pick_source_file_to_touch(ctx.path(), &ignore, &manifests),
            Some(PathBuf::from("server.js"))
        );
        // Without source files, any other included file will do.
        let ctx = context(&[
            ("Dockerfile", ""),
            ("requirements.txt", ""),
            ("data.csv", "1"),
        ]);
        let none = DockerIgnore::default();
        assert_eq!(
            pick_source_file_to_touch(ctx.path(), &none, &["requirements.txt"]),
            Some(PathBuf::from("data.csv"))
        );
        let ctx = context(&[("Dockerfile", ""), ("requirements.txt", "")]);
        assert_eq!(
            pick_source_file_to_touch(ctx.path(), &none, &["requirements.txt"]),
            None
        );
    }

    #[test]
    fn source_edit_changes_content() {
        let ctx = context(&[("app.py", "print(1)\n")]);
        let path = ctx.path().join("app.py");
        make_source_edit(&path).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "print(1)\n\n");
    }
}
