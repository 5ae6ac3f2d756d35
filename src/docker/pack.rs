//! Build-context tars: packing (through `context.rs`, which honours
//! `.dockerignore`) and the "source-only change" used to time warm rebuilds.
//!
//! The warm rebuild edits the *tar* rather than a copied directory: the tar is
//! exactly what the engine sees (ignored files are already gone), so the edited
//! file is guaranteed to be part of the context, and nothing on disk is copied.

use std::io::Read;
use std::path::Path;

use super::context::{self, ContextOptions};
use super::dockerignore::{DockerIgnore, DOCKERIGNORE_FILE};
use super::error::DockerError;
use super::BuilderKind;

/// Packs `context_dir` with the Dockerfile contents stored under `dockerfile_name`,
/// as the given builder must receive it (see `context.rs`), plus `new_files`: the
/// files a fix creates next to the Dockerfile (`(path relative to the context,
/// contents)`), which exist only in the tar, never on disk.
///
/// `new_files` are taken exactly as `dopt apply` would leave the folder: a file that
/// already exists is never overwritten, so the one on disk is packed instead. A new
/// `.dockerignore` filters the context it is packed with (unless a Dockerfile-specific
/// `<Dockerfile>.dockerignore` exists, which Docker prefers; then it is an ordinary
/// file); other new files are added unless the ignore rules exclude them.
pub(crate) fn context_tar(
    context_dir: &Path,
    dockerfile_name: &str,
    dockerfile_contents: &[u8],
    builder: BuilderKind,
    new_files: &[(String, String)],
) -> Result<Vec<u8>, DockerError> {
    let context_error = |cause: String| DockerError::Context {
        dir: context_dir.display().to_string(),
        cause,
    };
    let dockerfile_name = dockerfile_name.trim_start_matches("./");
    let dockerignore = applied_new_dockerignore(context_dir, dockerfile_name, new_files);
    let mut added: Vec<(&str, &[u8])> = Vec::new();
    for (rel, contents) in new_files {
        let rel = rel.trim_start_matches("./");
        if rel.is_empty()
            || rel.starts_with('/')
            || rel.split('/').any(|part| part == ".." || part.is_empty())
        {
            return Err(context_error(format!(
                "a fix's new file {rel:?} is not a path inside the build context"
            )));
        }
        if is_kept_as_is(context_dir, dockerfile_name, rel) {
            continue; // `dopt apply` keeps the user's file
        }
        if rel != DOCKERIGNORE_FILE || dockerignore.is_none() {
            added.push((rel, contents.as_bytes()));
        }
    }
    let options = ContextOptions {
        for_buildkit: builder == BuilderKind::BuildKit,
        dockerignore,
    };
    let tar = context::build_context_tar_with(
        context_dir,
        dockerfile_name,
        dockerfile_contents,
        &options,
    )
    .map_err(|e| context_error(format!("{e:#}")))?;
    if added.is_empty() {
        return Ok(tar);
    }
    let ignore = match dockerignore {
        Some(text) => DockerIgnore::parse(text),
        None => DockerIgnore::for_dockerfile(context_dir, Path::new(dockerfile_name))
            .map_err(|e| context_error(e.to_string()))?,
    };
    added.retain(|(rel, _)| !ignore.is_excluded(rel));
    rewrite(&tar, None, &added).map_err(|e| context_error(e.to_string()))
}

/// The text of a fix's new `.dockerignore` when it filters the optimized context:
/// the folder has no `.dockerignore` of its own (the user's is kept, as `dopt apply`
/// does) and no Dockerfile-specific `<Dockerfile>.dockerignore`, which Docker would
/// prefer. None otherwise.
pub(crate) fn applied_new_dockerignore<'a>(
    context_dir: &Path,
    dockerfile_name: &str,
    new_files: &'a [(String, String)],
) -> Option<&'a str> {
    let dockerfile_name = dockerfile_name.trim_start_matches("./");
    if context_dir
        .join(format!("{dockerfile_name}.dockerignore"))
        .is_file()
    {
        return None;
    }
    new_files
        .iter()
        .find(|(rel, _)| rel.trim_start_matches("./") == DOCKERIGNORE_FILE)
        .filter(|_| !is_kept_as_is(context_dir, dockerfile_name, DOCKERIGNORE_FILE))
        .map(|(_, contents)| contents.as_str())
}

/// A new file that `dopt apply` would not write: the Dockerfile itself, or a path
/// that already exists in the folder.
fn is_kept_as_is(context_dir: &Path, dockerfile_name: &str, rel: &str) -> bool {
    rel == dockerfile_name || std::fs::symlink_metadata(context_dir.join(rel)).is_ok()
}

/// Whether the tar holds a regular file at `path`.
pub(crate) fn contains_file(tar_bytes: &[u8], path: &str) -> bool {
    let mut archive = tar::Archive::new(tar_bytes);
    let Ok(entries) = archive.entries() else {
        return false;
    };
    entries.flatten().any(|entry| {
        entry.header().entry_type() == tar::EntryType::Regular
            && entry
                .path()
                .is_ok_and(|p| p.to_string_lossy().trim_start_matches("./") == path)
    })
}

#[cfg(test)]
fn append_file(
    builder: &mut tar::Builder<Vec<u8>>,
    name: &str,
    contents: &[u8],
) -> std::io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(contents.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_entry_type(tar::EntryType::Regular);
    builder.append_data(&mut header, name, contents)
}

/// File names that declare dependencies. A change to one of them invalidates the
/// dependency-install layer in *any* layout, so timing a rebuild after editing one
/// says nothing about layer ordering.
const MANIFESTS: &[&str] = &[
    "package.json",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lockb",
    "requirements.txt",
    "requirements-dev.txt",
    "constraints.txt",
    "Pipfile",
    "Pipfile.lock",
    "pyproject.toml",
    "poetry.lock",
    "uv.lock",
    "setup.py",
    "setup.cfg",
    "go.mod",
    "go.sum",
    "Cargo.toml",
    "Cargo.lock",
    "Gemfile",
    "Gemfile.lock",
    "composer.json",
    "composer.lock",
    "pom.xml",
    "build.gradle",
    "build.gradle.kts",
    "settings.gradle",
    "gradle.properties",
    "mix.exs",
    "mix.lock",
    "packages.config",
    "Directory.Packages.props",
];

fn is_manifest(name: &str) -> bool {
    MANIFESTS.iter().any(|m| m.eq_ignore_ascii_case(name))
        || (name.starts_with("requirements") && name.ends_with(".txt"))
        || name.ends_with(".csproj")
        || name.ends_with(".fsproj")
        || name.ends_with(".gemspec")
}

/// Extensions of files that are plainly application sources; preferred as the file
/// to touch, since that is the everyday edit a warm rebuild stands for.
const SOURCE_EXTENSIONS: &[&str] = &[
    "py", "js", "mjs", "cjs", "ts", "tsx", "jsx", "go", "java", "kt", "rb", "php", "rs", "c", "cc",
    "cpp", "h", "cs", "ex", "exs", "sh", "html", "css", "scss", "vue", "svelte", "ejs", "erb",
    "jinja", "j2",
];

/// Text that ships with an app but is rarely what a developer edits between builds.
const DOC_EXTENSIONS: &[&str] = &["md", "txt", "rst", "adoc"];

/// Picks the file whose edit stands for "a source-only change": a regular text file
/// of the context that is neither a dependency manifest, the Dockerfile, nor
/// `.dockerignore`. Prefers source-code extensions, then the shallowest path.
pub(crate) fn pick_source_file(tar_bytes: &[u8], dockerfile_name: &str) -> Option<String> {
    let mut archive = tar::Archive::new(tar_bytes);
    let mut best: Option<(u8, usize, String)> = None;
    for entry in archive.entries().ok()? {
        let Ok(mut entry) = entry else { continue };
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let Ok(path) = entry.path() else { continue };
        let path = path.to_string_lossy().trim_start_matches("./").to_string();
        let file_name = path.rsplit('/').next().unwrap_or(&path).to_string();
        if path == dockerfile_name
            || path.split('/').any(|part| part.starts_with('.'))
            || file_name.starts_with("Dockerfile")
            || file_name.ends_with(".Dockerfile")
            || is_manifest(&file_name)
        {
            continue;
        }
        let mut head = Vec::new();
        if entry.by_ref().take(8192).read_to_end(&mut head).is_err() || head.contains(&0) {
            continue; // binary (or unreadable): appending a newline could break it
        }
        let extension = file_name.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
        let extension = extension.to_ascii_lowercase();
        let rank = if SOURCE_EXTENSIONS.contains(&extension.as_str()) {
            0
        } else if DOC_EXTENSIONS.contains(&extension.as_str()) {
            1
        } else {
            2
        };
        let depth = path.matches('/').count();
        let candidate = (rank, depth, path);
        if best.as_ref().is_none_or(|b| candidate < *b) {
            best = Some(candidate);
        }
    }
    best.map(|(_, _, path)| path)
}

/// A copy of the tar in which `path` ends with a newline and a blank line of
/// `nonce`'s bits as spaces and tabs: harmless in every text format (a
/// whitespace-only line), but a checksum no earlier build produced. A fixed edit
/// (one newline) is the same every run, so BuildKit, whose cache outlives the
/// images, would find the "edited" layers cached from the last run and report a
/// rebuild that did no work.
pub(crate) fn with_source_edit(
    tar_bytes: &[u8],
    path: &str,
    nonce: u32,
) -> std::io::Result<Vec<u8>> {
    rewrite(tar_bytes, Some((path, &edit_suffix(nonce))), &[])
}

/// `\n`, a space, then 32 spaces or tabs, one per bit of `nonce`. The line
/// never starts with a tab, which a Makefile would read as a recipe line.
fn edit_suffix(nonce: u32) -> Vec<u8> {
    let mut suffix = vec![b'\n', b' '];
    suffix.extend((0..32).map(|bit| if nonce >> bit & 1 == 1 { b'\t' } else { b' ' }));
    suffix
}

/// A nonce for [`with_source_edit`] that differs between runs.
pub(crate) fn edit_nonce() -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    (nanos as u32) ^ std::process::id().rotate_left(16)
}

/// A copy of the tar, with `touch`'s bytes appended to its file and the `added`
/// regular files (mode 0644, owner 0:0) at the end.
fn rewrite(
    tar_bytes: &[u8],
    touch: Option<(&str, &[u8])>,
    added: &[(&str, &[u8])],
) -> std::io::Result<Vec<u8>> {
    let mut archive = tar::Archive::new(tar_bytes);
    let mut out = tar::Builder::new(Vec::new());
    for entry in archive.entries()? {
        let mut entry = entry?;
        let mut header = entry.header().clone();
        let entry_path = entry.path()?.to_string_lossy().to_string();
        let mut data = Vec::new();
        entry.read_to_end(&mut data)?;
        if let Some((_, suffix)) =
            touch.filter(|(path, _)| entry_path.trim_start_matches("./") == *path)
        {
            data.extend_from_slice(suffix);
        }
        header.set_size(data.len() as u64);
        header.set_cksum();
        // Long names and link targets travel in extension entries that `entries()`
        // folds into the entry; re-append through the path-aware APIs.
        match header.entry_type() {
            tar::EntryType::Symlink | tar::EntryType::Link => {
                let target = entry.link_name()?.unwrap_or_default().into_owned();
                out.append_link(&mut header, &entry_path, target)?;
            }
            _ => out.append_data(&mut header, &entry_path, data.as_slice())?,
        }
    }
    for (path, contents) in added {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(contents.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        out.append_data(&mut header, path, *contents)?;
    }
    out.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (name, data) in files {
            append_file(&mut builder, name, data).unwrap();
        }
        builder.into_inner().unwrap()
    }

    #[test]
    fn picks_a_source_file_not_a_manifest() {
        let tar = tar_of(&[
            ("Dockerfile", b"FROM x"),
            ("package.json", b"{}"),
            ("logo.png", b"\x89PNG\0\0"),
            ("README", b"hello"),
            ("NOTES.md", b"notes"),
            ("src/deep/app.js", b"x()"),
            ("server.js", b"y()"),
        ]);
        assert_eq!(
            pick_source_file(&tar, "Dockerfile").as_deref(),
            Some("server.js")
        );
        let only_manifests = tar_of(&[("Dockerfile", b"FROM x"), ("go.mod", b"module x")]);
        assert_eq!(pick_source_file(&only_manifests, "Dockerfile"), None);
    }

    #[test]
    fn edits_exactly_one_file_with_whitespace_that_differs_per_nonce() {
        let tar = tar_of(&[("a.py", b"print(1)"), ("b.py", b"print(2)")]);
        let other = with_source_edit(&tar, "b.py", 6).unwrap();
        let edited = with_source_edit(&tar, "b.py", 5).unwrap();
        assert_ne!(edited, other);
        let mut archive = tar::Archive::new(edited.as_slice());
        let mut seen = Vec::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let name = entry.path().unwrap().to_string_lossy().to_string();
            let mut data = String::new();
            entry.read_to_string(&mut data).unwrap();
            seen.push((name, data));
        }
        assert_eq!(
            seen,
            vec![
                ("a.py".to_string(), "print(1)".to_string()),
                (
                    "b.py".to_string(),
                    format!("print(2)\n \t \t{}", " ".repeat(29))
                )
            ]
        );
    }

    fn names(tar_bytes: &[u8]) -> Vec<String> {
        let mut archive = tar::Archive::new(tar_bytes);
        archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_string_lossy().to_string())
            .collect()
    }

    #[test]
    fn a_fixs_dockerignore_filters_only_the_packed_context() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("node_modules")).unwrap();
        std::fs::write(dir.path().join("node_modules/junk"), "x").unwrap();
        std::fs::write(dir.path().join("app.js"), "y()").unwrap();
        let new_files = vec![(".dockerignore".to_string(), "node_modules\n".to_string())];
        for builder in [BuilderKind::Classic, BuilderKind::BuildKit] {
            let plain = context_tar(dir.path(), "Dockerfile", b"FROM x", builder, &[]).unwrap();
            assert!(contains_file(&plain, "node_modules/junk"));
            let fixed =
                context_tar(dir.path(), "Dockerfile", b"FROM x", builder, &new_files).unwrap();
            let fixed_names = names(&fixed);
            assert!(!fixed_names.iter().any(|n| n.starts_with("node_modules")));
            assert!(contains_file(&fixed, "app.js"));
            assert!(contains_file(&fixed, ".dockerignore"), "{fixed_names:?}");
        }
        // The folder is left as it was.
        assert!(!dir.path().join(".dockerignore").exists());
    }

    #[test]
    fn new_files_never_replace_the_users_and_stay_inside_the_context() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".dockerignore"), "*.log\n").unwrap();
        std::fs::write(dir.path().join("a.log"), "log").unwrap();
        std::fs::write(dir.path().join("app.js"), "y()").unwrap();
        let new_files = vec![
            (".dockerignore".to_string(), "app.js\n".to_string()),
            ("conf/extra.txt".to_string(), "extra".to_string()),
            ("debug.log".to_string(), "ignored".to_string()),
        ];
        let tar = context_tar(
            dir.path(),
            "Dockerfile",
            b"FROM x",
            BuilderKind::Classic,
            &new_files,
        )
        .unwrap();
        // The user's .dockerignore still rules: app.js stays, *.log goes.
        assert!(contains_file(&tar, "app.js"));
        assert!(!contains_file(&tar, "a.log"));
        assert!(contains_file(&tar, "conf/extra.txt"));
        assert!(!contains_file(&tar, "debug.log"));
        for bad in ["../escape", "/abs", "a//b"] {
            let err = context_tar(
                dir.path(),
                "Dockerfile",
                b"FROM x",
                BuilderKind::Classic,
                &[(bad.to_string(), String::new())],
            )
            .unwrap_err();
            assert!(err.to_string().contains("not a path inside"), "{err}");
        }
    }
}
