//! What a compose file next to the build context says about this image: a
//! service that builds it with a `healthcheck:` (then the Dockerfile needs none)
//! or a `target:` (then that stage is the one that runs), and whether it
//! replaces the image's command (`command:`, `entrypoint:`).

use crate::passes::BuildContext;
use serde_yaml::Value;
use std::path::{Path, PathBuf};

const NAMES: &[&str] = &[
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
];

/// A compose service that builds the context.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComposeService {
    /// `compose.yaml: service web`, for messages.
    pub source: String,
    pub target: Option<String>,
    pub has_healthcheck: bool,
    /// The service replaces the image's command: `command:` or `entrypoint:`.
    pub overrides: Option<&'static str>,
}

/// Services of compose files in the context or its parent folder whose build
/// context is this context.
pub fn services_building(ctx: &BuildContext) -> Vec<ComposeService> {
    let Ok(root) = ctx.path().canonicalize() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let dirs = [Some(root.clone()), root.parent().map(Path::to_path_buf)];
    for dir in dirs.into_iter().flatten() {
        for name in NAMES {
            let path = dir.join(name);
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let Ok(doc) = serde_yaml::from_str::<Value>(&text) else {
                continue;
            };
            collect(&doc, &dir, &root, name, &mut out);
        }
    }
    out
}

fn collect(doc: &Value, dir: &Path, root: &PathBuf, file: &str, out: &mut Vec<ComposeService>) {
    let Some(services) = doc.get("services").and_then(Value::as_mapping) else {
        return;
    };
    for (name, svc) in services {
        let (context, target) = match svc.get("build") {
            Some(Value::String(c)) => (c.as_str(), None),
            Some(b @ Value::Mapping(_)) => (
                b.get("context").and_then(Value::as_str).unwrap_or("."),
                b.get("target").and_then(Value::as_str),
            ),
            _ => continue,
        };
        if dir.join(context).canonicalize().ok().as_ref() != Some(root) {
            continue;
        }
        // Also `disable: true`: compose decides about health, not the image.
        let has_healthcheck = svc.get("healthcheck").is_some();
        let overrides = ["entrypoint", "command"]
            .into_iter()
            .find(|k| svc.get(*k).is_some_and(|v| !v.is_null()));
        out.push(ComposeService {
            source: format!("{file}: service {}", name.as_str().unwrap_or("?")),
            target: target.map(str::to_string),
            has_healthcheck,
            overrides,
        });
    }
}
