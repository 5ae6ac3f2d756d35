//! Probes of the running original (issue 11, item 2): which HTTP paths answer,
//! which TCP ports it listens on, which user its main process runs as after the
//! entrypoint, and which files it writes at start-up. The result,
//! [`RuntimeEvidence`], goes into the report and back to the passes.

use std::net::SocketAddr;
use std::time::Duration;

use bollard::container::LogOutput;
use bollard::exec::StartExecResults;
use bollard::models::ExecConfig;
use futures_util::StreamExt;

use super::engine::Engine;
use crate::evidence::runtime::{self, RuntimeEvidence};

/// Conventional health paths, tried after the configured path and the routes
/// found in the sources.
pub const CONVENTIONAL_PATHS: &[&str] = &[
    "/health", "/healthz", "/ready", "/status", "/ping", "/login", "/",
];

/// The stdout of `cmd` run in the container (`None` when it cannot run, e.g.
/// no such program in the image), waiting at most 10 s.
pub(crate) async fn exec_stdout(engine: &Engine, id: &str, cmd: &[&str]) -> Option<String> {
    let exec = engine
        .docker
        .create_exec(
            id,
            ExecConfig {
                cmd: Some(cmd.iter().map(|s| s.to_string()).collect()),
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                ..Default::default()
            },
        )
        .await
        .ok()?;
    let mut out = String::new();
    if let Ok(StartExecResults::Attached { mut output, .. }) =
        engine.docker.start_exec(&exec.id, None).await
    {
        let read = async {
            while let Some(Ok(chunk)) = output.next().await {
                if let LogOutput::StdOut { message } = chunk {
                    out.push_str(&String::from_utf8_lossy(&message));
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(10), read).await;
    }
    let code = engine
        .docker
        .inspect_exec(&exec.id)
        .await
        .ok()
        .and_then(|i| i.exit_code);
    (code == Some(0)).then_some(out)
}

/// Probes the running container `id`. `http`: its published address, when it
/// serves HTTP; `paths`: the configured path and the routes found in the
/// sources, tried before [`CONVENTIONAL_PATHS`].
pub(crate) async fn probe(
    engine: &Engine,
    id: &str,
    http: Option<SocketAddr>,
    paths: &[String],
) -> RuntimeEvidence {
    let mut evidence = RuntimeEvidence::default();
    if let Some(addr) = http {
        let mut tried: Vec<String> = Vec::new();
        for path in paths
            .iter()
            .map(String::as_str)
            .chain(CONVENTIONAL_PATHS.iter().copied())
        {
            if tried.iter().any(|t| t == path) || !path.starts_with('/') {
                continue;
            }
            tried.push(path.to_string());
            let owned = path.to_string();
            let status =
                tokio::task::spawn_blocking(move || super::verify::http_get_status(addr, &owned))
                    .await;
            if let Ok(Ok(status)) = status {
                if (200..400).contains(&status) {
                    evidence.health_paths.push((path.to_string(), status));
                }
            }
        }
        evidence.paths_tried = tried;
    }
    let tcp = match exec_stdout(engine, id, &["cat", "/proc/net/tcp", "/proc/net/tcp6"]).await {
        Some(tcp) => Some(tcp),
        None => exec_stdout(engine, id, &["cat", "/proc/net/tcp"]).await,
    };
    if let Some(tcp) = tcp {
        evidence.listening_ports = runtime::listening_ports(&tcp);
        evidence.ports_read = true;
    }
    if let Some(status) = exec_stdout(engine, id, &["cat", "/proc/1/status"]).await {
        evidence.uid = runtime::status_uid(&status);
    }
    evidence.startup_writes = writes(engine, id).await;
    evidence
}

/// The files the container added or changed (`docker diff`, see
/// [`files_only`]); works on a stopped container too.
pub(crate) async fn writes(engine: &Engine, id: &str) -> Vec<String> {
    match engine.docker.container_changes(id).await {
        Ok(Some(changes)) => {
            let paths: Vec<String> = changes.into_iter().map(|c| c.path).collect();
            files_only(&paths)
        }
        _ => Vec::new(),
    }
}

/// True for paths whose writes differ between users by nature (home folders,
/// caches), left out when the writes of two runs are compared.
pub(crate) fn per_user_path(path: &str) -> bool {
    path == "/root"
        || path.starts_with("/root/")
        || path.starts_with("/home/")
        || path.contains("/.cache/")
        || path.contains("__pycache__")
}

/// The paths of a `docker diff` that are not folders holding another changed
/// path, leaving out what the engine or the probe itself touches.
fn files_only(paths: &[String]) -> Vec<String> {
    let mut files: Vec<String> = paths
        .iter()
        .filter(|p| {
            !paths.iter().any(|q| {
                q.len() > p.len() && q.starts_with(p.as_str()) && q[p.len()..].starts_with('/')
            })
        })
        .filter(|p| {
            !["/proc", "/sys", "/dev", "/tmp", "/run", "/var/run"]
                .iter()
                .any(|skip| p == skip || p.starts_with(&format!("{skip}/")))
                && !matches!(
                    p.as_str(),
                    "/etc/hosts" | "/etc/hostname" | "/etc/resolv.conf"
                )
                && !p.contains("__pycache__")
        })
        .cloned()
        .collect();
    files.sort();
    files.dedup();
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_keeps_the_files_not_their_folders() {
        let diff: Vec<String> = [
            "/var",
            "/var/log",
            "/var/log/app.log",
            "/tmp",
            "/tmp/x",
            "/root",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(files_only(&diff), vec!["/root", "/var/log/app.log"]);
    }
}
