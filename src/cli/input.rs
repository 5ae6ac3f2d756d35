//! Reading Dockerfiles (files or stdin), bounded, and writing them back.
//!
//! Reading: at most [`MAX_INPUT_BYTES`] from any input (a file, `-` for stdin,
//! a pipe, a device such as `/dev/zero`); a named pipe with no writer reads as
//! empty instead of blocking.
//!
//! Writing ([`write_file`], for `dopt apply`), see README "How apply writes
//! files":
//! - only regular files; a symlink is written through to its target;
//! - a read-only file (no write permission bit, or not writable by this
//!   process) is refused;
//! - normally a temp file in the same folder, with the original's mode, owner
//!   and group, renamed over the original: atomic;
//! - when a rename would change the file's identity (hard links, or an owner
//!   this process may not set), the new content is written in place into the
//!   same inode, as rustfmt, prettier and ruff always do: not atomic, so the
//!   original bytes are written back if the write fails;
//! - new files ([`create_file`]) get mode 0666 minus the umask, never replace
//!   an existing file, and appear complete or not at all.

use crate::syntax::SourceEncoding;
use anyhow::{bail, Context, Result};
use std::fs::{File, Metadata, OpenOptions};
use std::io::{ErrorKind, Read, Seek, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The most bytes dopt reads from one input (32 MiB): the largest real
/// Dockerfiles are well under 1 MiB. Said in `--help` and the README.
pub const MAX_INPUT_BYTES: u64 = 32 << 20;

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

/// Reads at most [`MAX_INPUT_BYTES`] from `reader`; more is an error.
fn read_capped(reader: impl Read, display: &str) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut limited = reader.take(MAX_INPUT_BYTES + 1);
    loop {
        match limited.read_to_end(&mut buf) {
            Ok(_) => break,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            // A pipe opened without blocking whose writer has not written yet.
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            Err(e) => return Err(e).with_context(|| format!("cannot read {display}")),
        }
    }
    if buf.len() as u64 > MAX_INPUT_BYTES {
        bail!(
            "{display} is larger than {} MiB, the most dopt reads from one input \
             (is it really a Dockerfile?)",
            MAX_INPUT_BYTES >> 20
        );
    }
    Ok(buf)
}

/// Reads `path` (`-` is stdin), at most [`MAX_INPUT_BYTES`].
pub fn read(path: &Path) -> Result<Source> {
    let (display, file, bytes) = if path.as_os_str() == "-" {
        let display = "<stdin>".to_string();
        let bytes = read_capped(std::io::stdin().lock(), "standard input")?;
        (display, None, bytes)
    } else {
        let display = path.display().to_string();
        let meta = std::fs::metadata(path).with_context(|| {
            if std::fs::symlink_metadata(path).is_ok() {
                format!("{display} is a symbolic link to a file that does not exist")
            } else {
                format!("{display} does not exist (pass the Dockerfile's path)")
            }
        })?;
        if meta.is_dir() {
            bail!("{display} is a folder with no Dockerfile in it (looked for Dockerfile, Containerfile, Dockerfile.*, *.Dockerfile, *.dockerfile, honouring .gitignore)");
        }
        if meta.is_file() && meta.len() > MAX_INPUT_BYTES {
            bail!(
                "{display} is {} MiB, larger than {} MiB, the most dopt reads from one input \
                 (is it really a Dockerfile?)",
                meta.len() >> 20,
                MAX_INPUT_BYTES >> 20
            );
        }
        // Not blocking at open: a named pipe with no writer then reads as empty
        // (and says so below) instead of waiting forever.
        let handle = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
            .with_context(|| format!("cannot read {display}"))?;
        let bytes = read_capped(handle, &display)?;
        if bytes.is_empty() && meta.file_type().is_fifo() {
            bail!("{display} is a named pipe and nothing was written to it");
        }
        (display, Some(path.to_path_buf()), bytes)
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

/// What kind of file `meta` describes, for messages.
fn kind(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        "a folder"
    } else if t.is_fifo() {
        "a named pipe"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else {
        "not a regular file"
    }
}

/// Checks that `dopt apply` may rewrite `path`: a regular file (a symlink is
/// followed) that this process may write and that has a write permission bit.
pub fn check_writable(path: &Path) -> Result<()> {
    let display = path.display();
    let meta = std::fs::metadata(path).with_context(|| format!("cannot read {display}"))?;
    if !meta.is_file() {
        bail!(
            "{display} is {}; `dopt apply` only rewrites regular files (use `dopt suggest` to see the changes)",
            kind(&meta)
        );
    }
    let denied = || {
        anyhow::anyhow!(
            "{display} is read-only; `dopt apply` does not change read-only files \
             (make it writable first, or use `dopt suggest` to see the changes)"
        )
    };
    if meta.permissions().readonly() {
        return Err(denied());
    }
    // Opening for writing, without truncating, checks this process's right to
    // write (ownership, ACLs, a read-only mount) and changes nothing.
    match OpenOptions::new().write(true).open(path) {
        Ok(_) => Ok(()),
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem
            ) =>
        {
            Err(denied())
        }
        Err(e) => Err(e).with_context(|| format!("cannot write {display}")),
    }
}

/// A temp file next to `target` (same folder, so a rename is atomic) holding
/// `contents`, synced. It is deleted if dropped before being persisted.
fn temp_with(target: &Path, contents: &[u8], mode: u32) -> Result<tempfile::NamedTempFile> {
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".dopt-")
        .suffix(".tmp")
        .permissions(std::fs::Permissions::from_mode(mode))
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    tmp.write_all(contents)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write a temporary file in {}", dir.display()))?;
    Ok(tmp)
}

/// Rewrites the Dockerfile `path` with `contents` (see the module docs): through
/// a symlink, atomically by rename when that keeps the file's mode, owner, group
/// and links, else in place.
pub fn write_file(path: &Path, contents: &[u8]) -> Result<()> {
    check_writable(path)?;
    // Write through symlinks: the link stays, its target changes.
    let real = std::fs::canonicalize(path)
        .with_context(|| format!("cannot resolve {}", path.display()))?;
    let meta = std::fs::metadata(&real)?;
    if meta.nlink() > 1 {
        return write_in_place(&real, contents);
    }
    let tmp = temp_with(&real, contents, meta.mode() & 0o7777)?;
    // Keep owner and group: root may set both, an owner may set a group it is
    // in. When the owner cannot be kept, write in place rather than hand the
    // file to this process's user.
    let made = tmp.as_file().metadata()?;
    let same_owner = made.uid() == meta.uid() && made.gid() == meta.gid();
    if !same_owner
        && std::os::unix::fs::fchown(tmp.as_file(), Some(meta.uid()), Some(meta.gid())).is_err()
    {
        drop(tmp);
        return write_in_place(&real, contents);
    }
    // chown may clear set-user-ID bits: set the mode again.
    std::fs::set_permissions(tmp.path(), meta.permissions())?;
    tmp.persist(&real)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot replace {}", real.display()))?;
    Ok(())
}

/// Writes `contents` into the existing inode of `path` (keeps hard links, owner,
/// mode, ACLs). Not atomic: on failure the original bytes are written back.
fn write_in_place(path: &Path, contents: &[u8]) -> Result<()> {
    let original =
        std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut file = OpenOptions::new()
        .write(true)
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    let overwrite = |file: &mut File, bytes: &[u8]| -> std::io::Result<()> {
        file.rewind()?;
        file.write_all(bytes)?;
        file.set_len(bytes.len() as u64)?;
        file.sync_all()
    };
    if let Err(e) = overwrite(&mut file, contents) {
        let restored = overwrite(&mut file, &original).is_ok();
        return Err(e).with_context(|| {
            format!(
                "cannot write {}{}",
                path.display(),
                if restored {
                    " (its original content was written back)"
                } else {
                    "; it may be partly written, check it"
                }
            )
        });
    }
    Ok(())
}

/// Creates the new file `path` with `contents` and mode 0666 minus the umask
/// (like `touch` or an editor). Never replaces an existing file: returns false
/// if one exists.
pub fn create_file(path: &Path, contents: &[u8]) -> Result<bool> {
    if std::fs::symlink_metadata(path).is_ok() {
        return Ok(false);
    }
    let tmp = temp_with(path, contents, 0o666)?;
    match tmp.persist_noclobber(path) {
        Ok(_) => Ok(true),
        Err(e) if e.error.kind() == ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e.error).with_context(|| format!("cannot create {}", path.display())),
    }
}
