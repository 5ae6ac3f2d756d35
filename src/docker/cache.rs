//! The result cache of `--verify` / `--build`: a second run over unchanged input
//! reuses the first run's report instead of building and running again.
//!
//! The key covers everything the result depends on: both Dockerfile texts as
//! built, both build contexts (the tar streams, so every file's content and
//! mode), the ids of both base images, the build and run options, the fixes the
//! search may drop, and dopt's version. Any change builds again. Only finished
//! runs are stored (an interrupted one never is), one JSON file per key, written
//! atomically. `DOPT_VERIFY_CACHE=off` turns the cache off; `--keep-images`
//! always builds (the images are the point).

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use super::report::Report;

/// The folder of the cache: `$DOPT_VERIFY_CACHE` when it is a path,
/// `$XDG_CACHE_HOME/dopt/verify` or `~/.cache/dopt/verify`; `None` when turned
/// off (`DOPT_VERIFY_CACHE=off`) or no home is known.
pub fn default_dir() -> Option<PathBuf> {
    match std::env::var("DOPT_VERIFY_CACHE") {
        Ok(v) if matches!(v.as_str(), "off" | "0" | "false" | "no") => return None,
        Ok(v) if !v.is_empty() => return Some(PathBuf::from(v)),
        _ => {}
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("dopt").join("verify"))
}

/// Bumped when how dopt measures changes within one version, so reports made
/// the old way are not reused (2: the warm rebuild's edit is new each run).
const MEASUREMENT: u32 = 2;

/// A 128-bit key (two SipHash runs with different prefixes) of `parts`, in hex.
pub(crate) fn key(parts: &[&[u8]]) -> String {
    let hash = |seed: &str| {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        seed.hash(&mut h);
        env!("CARGO_PKG_VERSION").hash(&mut h);
        MEASUREMENT.hash(&mut h);
        for part in parts {
            part.len().hash(&mut h);
            part.hash(&mut h);
        }
        h.finish()
    };
    format!(
        "{:016x}{:016x}",
        hash("dopt-verify-a"),
        hash("dopt-verify-b")
    )
}

/// The report stored under `key`, if any (an unreadable entry is a miss).
pub(crate) fn load(dir: &Path, key: &str) -> Option<Report> {
    let text = std::fs::read_to_string(dir.join(format!("{key}.json"))).ok()?;
    serde_json::from_str(&text).ok()
}

/// Stores `report` under `key` (errors are ignored: the cache is an optimization).
/// Only a conclusive comparison is worth reusing: the original ran and was
/// observed. When the original itself could not be run or did not answer (the
/// engine's network was broken, a port never answered), the next run must try
/// again rather than repeat that result.
pub(crate) fn conclusive(report: &Report) -> bool {
    report.original.built
        && report
            .verification
            .as_ref()
            .is_some_and(|v| !v.inconclusive && v.original.problem.is_none())
}

pub(crate) fn store(dir: &Path, key: &str, report: &Report) {
    let Ok(text) = serde_json::to_string(report) else {
        return;
    };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let tmp = dir.join(format!(".{key}.{}.tmp", std::process::id()));
    if std::fs::write(&tmp, text).is_ok()
        && std::fs::rename(&tmp, dir.join(format!("{key}.json"))).is_err()
    {
        let _ = std::fs::remove_file(&tmp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_changes_with_any_part() {
        let a = key(&[b"FROM x\n", b"ctx"]);
        assert_eq!(a, key(&[b"FROM x\n", b"ctx"]));
        assert_ne!(a, key(&[b"FROM x\n", b"ctx2"]));
        // Part boundaries count.
        assert_ne!(key(&[b"ab", b"c"]), key(&[b"a", b"bc"]));
        assert_eq!(a.len(), 32);
    }
}
