//! Finding Dockerfiles under a folder (`dopt check .`, and `dopt bench DIR`).
//!
//! A file is a Dockerfile when its name is `Dockerfile` or `Containerfile`,
//! starts with `Dockerfile.` (`Dockerfile.prod`), or ends with `.Dockerfile` /
//! `.dockerfile` (`api.Dockerfile`); `Dockerfile.dockerignore`-style ignore
//! files are not. The walk honours `.gitignore`, `.git/info/exclude` and the
//! global git excludes (the `ignore` crate, as ripgrep does), looks into hidden
//! folders such as `.devcontainer` but never into `.git`, and does not follow
//! symbolic links. Results are sorted, so output is stable.

use std::path::{Path, PathBuf};

/// True when `name` (a file name, not a path) names a Dockerfile.
pub fn is_dockerfile_name(name: &str) -> bool {
    if name.ends_with(".dockerignore") {
        return false;
    }
    matches!(name, "Dockerfile" | "Containerfile")
        || name.starts_with("Dockerfile.")
        || name.starts_with("Containerfile.")
        || name.ends_with(".Dockerfile")
        || name.ends_with(".dockerfile")
}

/// The Dockerfiles under `dir`, sorted.
pub fn dockerfiles(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = ignore::WalkBuilder::new(dir)
        .hidden(false)
        .follow_links(false)
        .require_git(false)
        .filter_entry(|e| e.file_name() != ".git")
        .build()
        .flatten()
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .filter(|e| e.file_name().to_str().is_some_and(is_dockerfile_name))
        .map(ignore::DirEntry::into_path)
        .collect();
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for yes in [
            "Dockerfile",
            "Containerfile",
            "Dockerfile.prod",
            "api.Dockerfile",
            "x.dockerfile",
        ] {
            assert!(is_dockerfile_name(yes), "{yes}");
        }
        for no in [
            "Dockerfile.dockerignore",
            "api.Dockerfile.dockerignore",
            "dockerfile-notes.md",
            "Dockerfiles",
            ".dockerignore",
        ] {
            assert!(!is_dockerfile_name(no), "{no}");
        }
    }

    #[test]
    fn walk_honours_gitignore_and_skips_git() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for f in [
            "Dockerfile",
            "svc/api.Dockerfile",
            "svc/Dockerfile.dockerignore",
            ".devcontainer/Dockerfile",
            "build/Dockerfile",
            ".git/Dockerfile",
            "docs/README.md",
        ] {
            let p = root.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "FROM x\n").unwrap();
        }
        std::fs::write(root.join(".gitignore"), "build/\n").unwrap();
        let found: Vec<String> = dockerfiles(root)
            .iter()
            .map(|p| p.strip_prefix(root).unwrap().display().to_string())
            .collect();
        assert_eq!(
            found,
            [
                ".devcontainer/Dockerfile",
                "Dockerfile",
                "svc/api.Dockerfile"
            ]
        );
    }
}
