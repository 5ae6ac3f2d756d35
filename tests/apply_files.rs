//! How `dopt apply` writes files (README "How apply writes files"): symlinks,
//! hard links, read-only files, FIFOs, owner and group, new files' mode, and
//! never a stray temp file. Real processes on real files.
#![cfg(unix)]

use assert_cmd::Command;
use predicates::prelude::*;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;

const MESSY: &str = "FROM debian:bookworm\nRUN apt-get update\nRUN apt-get install -y curl\nCMD [\"curl\", \"--version\"]\n";

fn dopt() -> Command {
    let mut c = Command::cargo_bin("dopt").unwrap();
    c.env_remove("NO_COLOR").env_remove("CLICOLOR_FORCE");
    c.timeout(std::time::Duration::from_secs(60));
    c
}

fn apply(path: &Path) -> assert_cmd::assert::Assert {
    dopt()
        .args(["apply", "--select", "merge-run"])
        .arg(path)
        .assert()
}

fn no_temp_files(dir: &Path) {
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".dopt-"))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
}

#[test]
fn a_symlink_is_written_through_to_its_target() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("real");
    std::fs::create_dir(&sub).unwrap();
    let target = sub.join("Dockerfile");
    std::fs::write(&target, MESSY).unwrap();
    let link = dir.path().join("Dockerfile");
    std::os::unix::fs::symlink("real/Dockerfile", &link).unwrap();
    apply(&link).success();
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        std::fs::read_link(&link).unwrap(),
        Path::new("real/Dockerfile")
    );
    assert_ne!(std::fs::read_to_string(&target).unwrap(), MESSY);
    no_temp_files(dir.path());
    no_temp_files(&sub);
}

#[test]
fn a_hard_link_keeps_sharing_the_new_content() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("Dockerfile");
    let b = dir.path().join("Dockerfile.other");
    std::fs::write(&a, MESSY).unwrap();
    std::fs::hard_link(&a, &b).unwrap();
    let inode = std::fs::metadata(&a).unwrap().ino();
    apply(&a).success();
    let (ma, mb) = (
        std::fs::metadata(&a).unwrap(),
        std::fs::metadata(&b).unwrap(),
    );
    assert_eq!(ma.ino(), inode);
    assert_eq!(mb.ino(), inode);
    assert_eq!(ma.nlink(), 2);
    let after = std::fs::read_to_string(&a).unwrap();
    assert_ne!(after, MESSY);
    assert_eq!(std::fs::read_to_string(&b).unwrap(), after);
    no_temp_files(dir.path());
}

#[test]
fn a_read_only_file_is_refused_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("Dockerfile");
    std::fs::write(&f, MESSY).unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o444)).unwrap();
    let inode = std::fs::metadata(&f).unwrap().ino();
    apply(&f)
        .code(2)
        .stderr(predicate::str::contains("is read-only"));
    assert_eq!(std::fs::read_to_string(&f).unwrap(), MESSY);
    assert_eq!(std::fs::metadata(&f).unwrap().ino(), inode);
    no_temp_files(dir.path());
    // The other files still get their fixes.
    let g = dir.path().join("Dockerfile.ok");
    std::fs::write(&g, MESSY).unwrap();
    dopt()
        .args(["apply", "--select", "merge-run"])
        .arg(&f)
        .arg(&g)
        .assert()
        .code(2);
    assert_ne!(std::fs::read_to_string(&g).unwrap(), MESSY);
}

#[test]
fn a_fifo_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("Dockerfile");
    let status = std::process::Command::new("mkfifo")
        .arg(&f)
        .status()
        .unwrap();
    assert!(status.success());
    apply(&f)
        .code(2)
        .stderr(predicate::str::contains("is a named pipe"));
    assert!(std::fs::symlink_metadata(&f).unwrap().file_type().is_fifo());
    // Reading one with no writer does not block either.
    dopt()
        .arg("suggest")
        .arg(&f)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nothing was written to it"));
    no_temp_files(dir.path());
}

#[test]
fn owner_group_and_mode_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("Dockerfile");
    std::fs::write(&f, MESSY).unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o640)).unwrap();
    let is_root = std::fs::metadata(dir.path()).unwrap().uid() == 0
        && std::os::unix::fs::chown(&f, Some(65534), Some(65534)).is_ok();
    let before = std::fs::metadata(&f).unwrap();
    apply(&f).success();
    let after = std::fs::metadata(&f).unwrap();
    assert_ne!(std::fs::read_to_string(&f).unwrap(), MESSY);
    assert_eq!((after.uid(), after.gid()), (before.uid(), before.gid()));
    if is_root {
        assert_eq!(after.uid(), 65534);
    }
    assert_eq!(after.mode() & 0o7777, 0o640);
    no_temp_files(dir.path());
}

#[test]
fn a_new_dockerignore_gets_the_usual_mode_under_the_umask() {
    for (umask, mode) in [("022", 0o644), ("027", 0o640)] {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("Dockerfile");
        std::fs::write(&f, "FROM node:20\nCOPY . .\nRUN npm ci\n").unwrap();
        std::fs::write(dir.path().join("package.json"), "{}").unwrap();
        let bin = assert_cmd::cargo::cargo_bin("dopt");
        let script =
            format!("umask {umask} && exec \"$0\" apply --unsafe --select dockerignore \"$1\"");
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg(&bin)
            .arg(&f)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let ignore = dir.path().join(".dockerignore");
        let meta = std::fs::metadata(&ignore).unwrap();
        assert_eq!(meta.mode() & 0o777, mode, "umask {umask}");
        no_temp_files(dir.path());
        // An existing .dockerignore is never replaced.
        std::fs::write(&ignore, "keep\n").unwrap();
        std::fs::write(&f, "FROM node:20\nCOPY . .\nRUN npm ci\n").unwrap();
        dopt()
            .args(["apply", "--unsafe", "--select", "dockerignore"])
            .arg(&f)
            .assert()
            .code(predicate::in_iter([0, 1]));
        assert_eq!(std::fs::read_to_string(&ignore).unwrap(), "keep\n");
    }
}

/// A file of another user, writable by this one in a folder this one may
/// write: a rename would hand the file over, so dopt writes in place and the
/// owner stays. Needs root (to make the other user) and `setpriv`.
#[test]
fn a_file_whose_owner_cannot_be_kept_is_written_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("Dockerfile");
    std::fs::write(&f, MESSY).unwrap();
    let root = std::fs::metadata(&f).unwrap().uid() == 0;
    let setpriv = std::process::Command::new("setpriv")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !root || !setpriv {
        eprintln!("skipped: needs root and setpriv");
        return;
    }
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o666)).unwrap();
    let inode = std::fs::metadata(&f).unwrap().ino();
    let out = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(assert_cmd::cargo::cargo_bin("dopt"))
        .args(["apply", "--select", "merge-run"])
        .arg(&f)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let meta = std::fs::metadata(&f).unwrap();
    assert_ne!(std::fs::read_to_string(&f).unwrap(), MESSY);
    assert_eq!((meta.uid(), meta.gid(), meta.ino()), (0, 0, inode));
    assert_eq!(meta.mode() & 0o777, 0o666);
    no_temp_files(dir.path());
}
