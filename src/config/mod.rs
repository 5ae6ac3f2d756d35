//! `.dopt.yaml`: project configuration, found from the Dockerfile's folder upwards
//! or given with `--config`.
//!
//! ```yaml
//! select: [DOP001, copy-order]     # only these passes (codes, names or code prefixes)
//! ignore: [healthcheck]            # never these
//! unsafe: false                    # apply unsafe fixes too
//! profiles-dir: ./dopt-profiles    # user profiles that override/extend the embedded ones
//! runtime-images:                  # override runtime image mappings of split-stages
//!   "node:20": "node:20-bookworm-slim"
//! options:                         # per-pass options, keyed by pass name
//!   healthcheck: { path: /healthz }
//! ```

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The file name looked for.
pub const FILE_NAME: &str = ".dopt.yaml";

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    #[serde(default)]
    pub select: Vec<String>,
    #[serde(default)]
    pub ignore: Vec<String>,
    #[serde(default, rename = "unsafe")]
    pub unsafe_fixes: bool,
    #[serde(default)]
    pub profiles_dir: Option<PathBuf>,
    #[serde(default)]
    pub runtime_images: BTreeMap<String, String>,
    #[serde(default)]
    pub options: serde_yaml::Mapping,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Invalid {
        path: PathBuf,
        source: serde_yaml::Error,
    },
}

impl Config {
    /// Loads a config file. Relative `profiles-dir` is resolved against its folder.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut config: Config = if text.trim().is_empty() {
            Config::default()
        } else {
            serde_yaml::from_str(&text).map_err(|source| ConfigError::Invalid {
                path: path.to_path_buf(),
                source,
            })?
        };
        if let (Some(dir), Some(parent)) = (&config.profiles_dir, path.parent()) {
            if dir.is_relative() {
                config.profiles_dir = Some(parent.join(dir));
            }
        }
        Ok(config)
    }

    /// Finds `.dopt.yaml` in `start` or the nearest ancestor folder.
    pub fn discover(start: &Path) -> Result<Option<(PathBuf, Config)>, ConfigError> {
        let start = std::fs::canonicalize(start).unwrap_or_else(|_| start.to_path_buf());
        for dir in start.ancestors() {
            let candidate = dir.join(FILE_NAME);
            if candidate.is_file() {
                return Ok(Some((candidate.clone(), Config::load(&candidate)?)));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_unknown_keys_with_their_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, "selec: [DOP001]\n").unwrap();
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(err.contains("unknown field `selec`"), "{err}");
    }

    #[test]
    fn discovers_upwards_and_resolves_profiles_dir() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(FILE_NAME),
            "ignore: [healthcheck]\nprofiles-dir: prof\nunsafe: true\n",
        )
        .unwrap();
        let sub = dir.path().join("a/b");
        std::fs::create_dir_all(&sub).unwrap();
        let (_, cfg) = Config::discover(&sub).unwrap().unwrap();
        assert_eq!(cfg.ignore, vec!["healthcheck"]);
        assert!(cfg.unsafe_fixes);
        assert!(cfg.profiles_dir.unwrap().ends_with("prof"));
    }
}
