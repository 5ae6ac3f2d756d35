//! Connecting to the Docker engine and agreeing on an API version.
//!
//! bollard speaks the newest API it knows (1.5x); engines older than that (our CI
//! machines run 20.10, API 1.41) reject such requests, so the version is always
//! negotiated down to what the engine offers.

use std::time::Duration;

use bollard::Docker;

use super::endpoint::{resolve, ssh_hint, Endpoint};
use super::error::DockerError;

/// How long we wait for the engine to answer a ping before declaring it absent.
const PING_TIMEOUT: Duration = Duration::from_secs(10);

/// Per-request timeout of the HTTP client. Builds stream for a long time; bollard's
/// default of two minutes would cut a slow `npm ci` short.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(3 * 3600);

/// The engine's default address on Unix (bollard's default too).
pub use super::endpoint::DEFAULT_HOST;

/// A connected, version-negotiated engine.
#[derive(Debug, Clone)]
pub struct Engine {
    pub(crate) docker: Docker,
    /// The address we connected to (DOCKER_HOST, the docker context's, or the default socket).
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

/// Where we look for the engine (see [`super::endpoint`]): the address and
/// why, or why it cannot be worked out.
pub fn engine_address() -> (String, String) {
    match endpoint() {
        Ok(e) => (e.host, e.source),
        Err(why) => ("(unknown)".into(), why),
    }
}

fn endpoint() -> Result<Endpoint, String> {
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    resolve(&|name| std::env::var(name).ok(), home.as_deref())
}

/// A client for `endpoint` (not yet contacted).
fn client(endpoint: &Endpoint) -> Result<Docker, String> {
    let host = endpoint.host.as_str();
    let timeout = REQUEST_TIMEOUT.as_secs();
    if host.starts_with("ssh://") {
        return Err(ssh_hint(host));
    }
    let docker = match &endpoint.tls {
        Some(tls) if host.starts_with("tcp://") || host.starts_with("https://") => {
            Docker::connect_with_ssl(
                host,
                &tls.key,
                &tls.cert,
                &tls.ca,
                timeout,
                bollard::API_DEFAULT_VERSION,
            )
        }
        Some(_) => {
            return Err(format!(
                "TLS certificates are given but {host} is not a tcp:// or https:// address"
            ))
        }
        None if host.starts_with("tcp://") || host.starts_with("http://") => {
            Docker::connect_with_http(host, timeout, bollard::API_DEFAULT_VERSION)
        }
        None if host.starts_with("https://") => {
            return Err(format!(
                "{host} needs TLS certificates: set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem)"
            ))
        }
        None => Docker::connect_with_host(host),
    };
    docker.map_err(|e| e.to_string())
}

/// Connects to the engine (see [`super::endpoint`]: `DOCKER_HOST` with its
/// TLS settings, else the docker context, else the default socket), pings it
/// and negotiates the API version.
pub async fn connect() -> Result<Engine, DockerError> {
    let endpoint = endpoint();
    let (looked_at, source_of_address) = match &endpoint {
        Ok(e) => (e.host.clone(), e.source.clone()),
        Err(_) => ("(unknown)".to_string(), "the docker settings".to_string()),
    };
    let no_engine = |cause: String| DockerError::NoEngine {
        looked_at: looked_at.clone(),
        source_of_address: source_of_address.clone(),
        cause,
    };
    let endpoint = endpoint.map_err(&no_engine)?;
    let docker = client(&endpoint)
        .map_err(&no_engine)?
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
