//! What we measure about a built image, straight from `GET /images/{name}/json`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::engine::Engine;
use super::error::DockerError;

/// Label that stand-in base images carry (`org.dopt.standin=true`, set by
/// `scripts/standin-bases.sh`). Labels are inherited by every image built on top, so
/// its presence on a built image means the size was measured on a stand-in, not on
/// the real base image.
pub const STANDIN_LABEL: &str = "org.dopt.standin";
/// Which stand-in it is (e.g. `python`), and what it contains; used to name it.
const STANDIN_FLAVOR_LABEL: &str = "org.dopt.standin.flavor";
const STANDIN_CONTENTS_LABEL: &str = "org.dopt.standin.contents";

/// Facts about one built image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageFacts {
    /// The image id (`sha256:...`).
    pub id: String,
    /// Uncompressed on-disk size in bytes: the `Size` field of image inspect (all
    /// layers, base included). Not the compressed size a registry would store.
    pub size_bytes: u64,
    /// Number of filesystem layers (`RootFS.Layers`), base layers included.
    pub layers: usize,
    /// The configured user (`Config.User`); empty means root.
    pub config_user: String,
    /// `Config.WorkingDir`; empty means `/`.
    pub workdir: String,
    /// `Config.ExposedPorts`, e.g. `["8080/tcp"]`, sorted.
    pub exposed_ports: Vec<String>,
    /// The HEALTHCHECK test, if the image has one that is not `NONE`.
    pub healthcheck: Option<Vec<String>>,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    /// Set when the image was built on a stand-in base: its flavor (or contents).
    pub standin_base: Option<String>,
    pub labels: BTreeMap<String, String>,
}

pub(crate) async fn inspect(engine: &Engine, image: &str) -> Result<ImageFacts, DockerError> {
    let inspect = engine
        .docker
        .inspect_image(image)
        .await
        .map_err(DockerError::api("inspect image"))?;
    let config = inspect.config.unwrap_or_default();
    let labels: BTreeMap<String, String> = config
        .labels
        .unwrap_or_default()
        .into_iter()
        .filter(|(key, _)| !super::owner::is_owner_label(key))
        .collect();
    let mut exposed_ports = config.exposed_ports.unwrap_or_default();
    exposed_ports.sort();
    let healthcheck = config
        .healthcheck
        .and_then(|h| h.test)
        .filter(|test| !test.is_empty() && test[0] != "NONE");
    Ok(ImageFacts {
        id: inspect.id.unwrap_or_default(),
        size_bytes: inspect.size.unwrap_or(0).max(0) as u64,
        layers: inspect
            .root_fs
            .and_then(|r| r.layers)
            .map(|l| l.len())
            .unwrap_or(0),
        config_user: config.user.unwrap_or_default(),
        workdir: config.working_dir.unwrap_or_default(),
        exposed_ports,
        healthcheck,
        entrypoint: config.entrypoint.unwrap_or_default(),
        cmd: config.cmd.unwrap_or_default(),
        standin_base: labels.contains_key(STANDIN_LABEL).then(|| {
            labels
                .get(STANDIN_FLAVOR_LABEL)
                .or(labels.get(STANDIN_CONTENTS_LABEL))
                .cloned()
                .unwrap_or_else(|| "unnamed stand-in".to_string())
        }),
        labels,
    })
}

/// `1234567` → `1.2 MB` (decimal units, like `docker images`).
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: &[&str] = &["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_sizes() {
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1_980_000), "2.0 MB");
        assert_eq!(human_bytes(123_400_000), "123.4 MB");
    }
}
