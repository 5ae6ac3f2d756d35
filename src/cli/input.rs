//! Reading Dockerfiles (files or stdin) and writing them back atomically.

use crate::syntax::SourceEncoding;
use anyhow::{Context, Result};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// A Dockerfile as read.
pub struct Source {
    /// The name shown in messages and diff headers.
    pub display: String,
    /// The file on disk; `None` for stdin.
    pub path: Option<PathBuf>,
    /// The text, decoded to UTF-8.
    pub text: String,
    /// The encoding it was read in, to write it back the same way.
    pub encoding: SourceEncoding,
}

impl Source {
    /// The folder the default build context and config discovery start from.
    pub fn folder(&self) -> PathBuf {
        match &self.path {
            Some(p) => p
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from(".")),
            None => PathBuf::from("."),
        }
    }
}

/// Reads `path` (`-` is stdin).
pub fn read(path: &Path) -> Result<Source> {
    let (display, file, bytes) = if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .context("cannot read standard input")?;
        ("<stdin>".to_string(), None, buf)
    } else {
        let bytes = std::fs::read(path).with_context(|| {
            if path.is_dir() {
                format!(
                    "{} is a folder; pass the Dockerfile inside it",
                    path.display()
                )
            } else if !path.exists() {
                format!(
                    "{} does not exist (pass the Dockerfile's path)",
                    path.display()
                )
            } else {
                format!("cannot read {}", path.display())
            }
        })?;
        (path.display().to_string(), Some(path.to_path_buf()), bytes)
    };
    let (text, encoding) =
        crate::syntax::decode(&bytes).map_err(|e| anyhow::anyhow!("{display}: {}", e.message))?;
    Ok(Source {
        display,
        path: file,
        text,
        encoding,
    })
}

/// Replaces `path` with `contents` atomically: a temp file in the same folder,
/// the original's permissions, then a rename. On any error the original stays.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".dopt-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    tmp.write_all(contents)?;
    tmp.as_file().sync_all()?;
    if let Ok(meta) = std::fs::metadata(path) {
        std::fs::set_permissions(tmp.path(), meta.permissions())?;
    }
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}
