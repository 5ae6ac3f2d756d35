//! Build-context tars: packing (through `context.rs`, which honours
//! `.dockerignore`) and the "source-only change" used to time warm rebuilds.
//!
//! The warm rebuild edits the *tar* rather than a copied directory: the tar is
//! exactly what the engine sees (ignored files are already gone), so the edited
//! file is guaranteed to be part of the context, and nothing on disk is copied.

use std::io::Read;
use std::path::Path;

use super::error::DockerError;

/// Packs `context_dir` with the Dockerfile contents stored under `dockerfile_name`.
pub(crate) fn context_tar(
    context_dir: &Path,
    dockerfile_name: &str,
    dockerfile_contents: &[u8],
    builder: super::BuilderKind,
) -> Result<Vec<u8>, DockerError> {
    super::context_packer(context_dir, dockerfile_name, dockerfile_contents, builder).map_err(|e| {
        DockerError::Context {
            dir: context_dir.display().to_string(),
            cause: format!("{e:#}"),
        }
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

/// A copy of the tar in which `path` has a newline appended: harmless in every text
/// format, but a different checksum, so every layer that copied it is rebuilt.
pub(crate) fn with_appended_newline(tar_bytes: &[u8], path: &str) -> std::io::Result<Vec<u8>> {
    let mut archive = tar::Archive::new(tar_bytes);
    let mut out = tar::Builder::new(Vec::new());
    for entry in archive.entries()? {
        let mut entry = entry?;
        let mut header = entry.header().clone();
        let entry_path = entry.path()?.to_string_lossy().to_string();
        let mut data = Vec::new();
        entry.read_to_end(&mut data)?;
        if entry_path.trim_start_matches("./") == path {
            data.push(b'\n');
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
    fn appends_a_newline_to_exactly_one_file() {
        let tar = tar_of(&[("a.py", b"print(1)"), ("b.py", b"print(2)")]);
        let edited = with_appended_newline(&tar, "b.py").unwrap();
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
                ("b.py".to_string(), "print(2)\n".to_string())
            ]
        );
    }
}
