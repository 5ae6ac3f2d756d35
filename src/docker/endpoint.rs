//! Which engine to talk to, the way the docker CLI decides it:
//!
//! 1. `DOCKER_HOST` (with `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH` for a TLS
//!    TCP endpoint: `ca.pem`, `cert.pem`, `key.pem`, by default in
//!    `$DOCKER_CONFIG` or `~/.docker`);
//! 2. else the docker context named by `DOCKER_CONTEXT`, else the config's
//!    `currentContext` (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`):
//!    its endpoint in `contexts/meta/<sha256 of the name>/meta.json`
//!    (`Endpoints.docker.Host`) and its TLS material in
//!    `contexts/tls/<sha256 of the name>/docker/`;
//! 3. else the default socket.
//!
//! `unix://`, `tcp://` (plain or TLS) and `https://` are supported. `ssh://` is
//! not: the error says how to forward the engine's socket over ssh instead.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The engine's default address on Unix.
pub const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";

/// Client certificates for a TLS endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tls {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Where the engine is, and why we think so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    /// For messages: `from DOCKER_HOST`, `docker context "remote"`, ...
    pub source: String,
    pub tls: Option<Tls>,
}

/// Resolves the endpoint from the environment (`var`) and the docker config
/// folder (`$DOCKER_CONFIG`, else `home/.docker`).
pub fn resolve(
    var: &dyn Fn(&str) -> Option<String>,
    home: Option<&Path>,
) -> Result<Endpoint, String> {
    let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
    let config_dir = set("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| home.map(|h| h.join(".docker")));
    if let Some(host) = set("DOCKER_HOST") {
        let tls = match set("DOCKER_TLS_VERIFY") {
            Some(_) => {
                let dir = set("DOCKER_CERT_PATH")
                    .map(PathBuf::from)
                    .or_else(|| config_dir.clone())
                    .ok_or("DOCKER_TLS_VERIFY is set but neither DOCKER_CERT_PATH nor a home folder names the certificates")?;
                Some(tls_in(&dir, "DOCKER_CERT_PATH")?)
            }
            None => None,
        };
        return Ok(Endpoint {
            host,
            source: "from DOCKER_HOST".into(),
            tls,
        });
    }
    let context = match set("DOCKER_CONTEXT") {
        Some(name) => Some((name, "DOCKER_CONTEXT")),
        None => config_dir
            .as_deref()
            .and_then(current_context)
            .map(|name| (name, "currentContext in the docker config")),
    };
    match context {
        Some((name, why)) if name != "default" => {
            let dir = config_dir.ok_or_else(|| {
                format!("docker context {name:?} ({why}) but no docker config folder")
            })?;
            from_context(&dir, &name, why)
        }
        _ => Ok(Endpoint {
            host: DEFAULT_HOST.into(),
            source: "the default socket; DOCKER_HOST is not set and no docker context is selected"
                .into(),
            tls: None,
        }),
    }
}

/// `currentContext` of `dir/config.json`, if any.
fn current_context(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("config.json")).ok()?;
    let config: serde_json::Value = serde_json::from_str(&text).ok()?;
    config["currentContext"]
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The folder name the docker CLI stores context `name` under.
pub fn context_id(name: &str) -> String {
    Sha256::digest(name.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn from_context(dir: &Path, name: &str, why: &str) -> Result<Endpoint, String> {
    let id = context_id(name);
    let meta_path = dir.join("contexts/meta").join(&id).join("meta.json");
    let text = std::fs::read_to_string(&meta_path).map_err(|e| {
        format!(
            "docker context {name:?} ({why}) has no metadata at {}: {e}; `docker context ls` lists the contexts",
            meta_path.display()
        )
    })?;
    let meta: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not valid JSON: {e}", meta_path.display()))?;
    let docker = &meta["Endpoints"]["docker"];
    let host = docker["Host"]
        .as_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| format!("{}: no Endpoints.docker.Host", meta_path.display()))?
        .to_string();
    if docker["SkipTLSVerify"].as_bool() == Some(true) {
        return Err(format!(
            "docker context {name:?} skips TLS verification (SkipTLSVerify), which dopt does not do; give the context a CA certificate"
        ));
    }
    let tls_dir = dir.join("contexts/tls").join(&id).join("docker");
    let tls = tls_dir
        .join("ca.pem")
        .exists()
        .then(|| tls_in(&tls_dir, "the context's TLS folder"))
        .transpose()?;
    Ok(Endpoint {
        host,
        source: format!("docker context {name:?} ({why})"),
        tls,
    })
}

fn tls_in(dir: &Path, what: &str) -> Result<Tls, String> {
    let tls = Tls {
        ca: dir.join("ca.pem"),
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    for f in [&tls.ca, &tls.cert, &tls.key] {
        if !f.is_file() {
            return Err(format!(
                "TLS is on but {} is missing ({what}: {})",
                f.display(),
                dir.display()
            ));
        }
    }
    Ok(tls)
}

/// The message for an `ssh://` host: how to reach it anyway.
pub fn ssh_hint(host: &str) -> String {
    let target = host.trim_start_matches("ssh://");
    format!(
        "dopt does not connect over ssh:// itself; forward the engine's socket and point DOCKER_HOST at it:\n  \
         ssh -NfL /tmp/dopt-docker.sock:/var/run/docker.sock {target}\n  \
         DOCKER_HOST=unix:///tmp/dopt-docker.sock dopt ..."
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k: &str| map.get(k).cloned()
    }

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn context_ids_are_the_docker_clis() {
        // `docker context create remote` stores it under this folder.
        // `docker context create remote` stores it under sha256("remote").
        assert_eq!(
            context_id("remote"),
            "b71199ebd070b36beab7317920c2c2f1d777df8d05e5527d8458fda57cb17a7a"
        );
        assert_eq!(context_id("default").len(), 64);
    }

    #[test]
    fn docker_host_then_context_then_default() {
        let home = tempfile::tempdir().unwrap();
        let h = home.path();
        // Nothing set: the default socket.
        let e = resolve(&env(&[]), Some(h)).unwrap();
        assert_eq!(e.host, DEFAULT_HOST);
        // A current context in config.json.
        write(
            &h.join(".docker/config.json"),
            r#"{"currentContext": "remote"}"#,
        );
        let id = context_id("remote");
        write(
            &h.join(".docker/contexts/meta").join(&id).join("meta.json"),
            r#"{"Name":"remote","Endpoints":{"docker":{"Host":"tcp://10.0.0.5:2376","SkipTLSVerify":false}}}"#,
        );
        let e = resolve(&env(&[]), Some(h)).unwrap();
        assert_eq!(e.host, "tcp://10.0.0.5:2376");
        assert!(e.source.contains("\"remote\""), "{}", e.source);
        assert_eq!(e.tls, None);
        // Its TLS material.
        let tls = h.join(".docker/contexts/tls").join(&id).join("docker");
        for f in ["ca.pem", "cert.pem", "key.pem"] {
            write(&tls.join(f), "x");
        }
        let e = resolve(&env(&[]), Some(h)).unwrap();
        assert_eq!(e.tls.unwrap().ca, tls.join("ca.pem"));
        // DOCKER_CONTEXT=default wins over the config: the default socket.
        let e = resolve(&env(&[("DOCKER_CONTEXT", "default")]), Some(h)).unwrap();
        assert_eq!(e.host, DEFAULT_HOST);
        // An unknown context is an error that says how to list them.
        let err = resolve(&env(&[("DOCKER_CONTEXT", "nope")]), Some(h)).unwrap_err();
        assert!(err.contains("docker context ls"), "{err}");
        // DOCKER_HOST wins over any context; TLS from DOCKER_CERT_PATH.
        let e = resolve(
            &env(&[
                ("DOCKER_HOST", "tcp://127.0.0.1:1"),
                ("DOCKER_CONTEXT", "remote"),
            ]),
            Some(h),
        )
        .unwrap();
        assert_eq!(
            (e.host.as_str(), e.tls.is_none()),
            ("tcp://127.0.0.1:1", true)
        );
        let err = resolve(
            &env(&[
                ("DOCKER_HOST", "tcp://127.0.0.1:1"),
                ("DOCKER_TLS_VERIFY", "1"),
                ("DOCKER_CERT_PATH", "/no/such/dir"),
            ]),
            Some(h),
        )
        .unwrap_err();
        assert!(err.contains("/no/such/dir/ca.pem"), "{err}");
        let e = resolve(
            &env(&[
                ("DOCKER_HOST", "tcp://127.0.0.1:1"),
                ("DOCKER_TLS_VERIFY", "1"),
                ("DOCKER_CERT_PATH", tls.to_str().unwrap()),
            ]),
            Some(h),
        )
        .unwrap();
        assert_eq!(e.tls.unwrap().key, tls.join("key.pem"));
    }
}
