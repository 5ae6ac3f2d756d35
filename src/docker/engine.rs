//! Connecting to the Docker engine and agreeing on an API version.
//!
//! bollard speaks the newest API it knows (1.5x); engines older than that (our CI
//! machines run 20.10, API 1.41) reject such requests, so the version is always
//! negotiated down to what the engine offers.

use std::time::Duration;

use bollard::Docker;

use super::error::DockerError;

/// How long we wait for the engine to answer a ping before declaring it absent.
const PING_TIMEOUT: Duration = Duration::from_secs(10);

/// Per-request timeout of the HTTP client. Builds stream for a long time; bollard's
/// default of two minutes would cut a slow `npm ci` short.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(3 * 3600);

/// The engine's default address on Unix (bollard's default too).
pub const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";

/// A connected, version-negotiated engine.
#[derive(Debug, Clone)]
pub struct Engine {
    pub(crate) docker: Docker,
    /// The address we connected to (DOCKER_HOST or the default socket).
    pub host: String,
    /// The engine's version string, e.g. `20.10.24+dfsg1`.
    pub server_version: String,
    /// The API version both sides speak after negotiation, e.g. `1.41`.
    pub api_version: String,
}

impl Engine {
    /// The underlying bollard client (negotiated), for callers that need more.
    pub fn docker(&self) -> &Docker {
        &self.docker
    }
}

/// Where we look for the engine: `DOCKER_HOST`, else the platform's default socket.
pub fn engine_address() -> (String, &'static str) {
    match std::env::var("DOCKER_HOST") {
        Ok(host) if !host.trim().is_empty() => (host, "from DOCKER_HOST"),
        _ => (
            DEFAULT_HOST.to_string(),
            "the default socket; DOCKER_HOST is not set",
        ),
    }
}

/// Connects to the engine named by `DOCKER_HOST` (or the default socket), pings it
/// and negotiates the API version.
pub async fn connect() -> Result<Engine, DockerError> {
    let (looked_at, source_of_address) = engine_address();
    let no_engine = |cause: String| DockerError::NoEngine {
        looked_at: looked_at.clone(),
        source_of_address,
        cause,
    };

    let docker = Docker::connect_with_host(&looked_at)
        .map_err(|e| no_engine(e.to_string()))?
        .with_timeout(REQUEST_TIMEOUT);
    match tokio::time::timeout(PING_TIMEOUT, docker.ping()).await {
        Err(_) => return Err(no_engine(format!("no answer within {PING_TIMEOUT:?}"))),
        Ok(Err(e)) => return Err(no_engine(e.to_string())),
        Ok(Ok(_)) => {}
    }
    let docker = tokio::time::timeout(PING_TIMEOUT, docker.negotiate_version())
        .await
        .map_err(|_| no_engine("version negotiation timed out".into()))?
        .map_err(|e| no_engine(format!("version negotiation failed: {e}")))?;
    let version = docker
        .version()
        .await
        .map_err(DockerError::api("version"))?;
    let api = docker.client_version();
    Ok(Engine {
        docker,
        host: looked_at,
        server_version: version.version.unwrap_or_else(|| "unknown".into()),
        api_version: format!("{}.{}", api.major_version, api.minor_version),
    })
}
