//! Runtime evidence: what the running original image showed when `--verify` ran
//! it (see `docker/probe.rs`), handed to the passes so that fixes made with a
//! running image are better than static ones.
//!
//! The passes read it through `PassContext::runtime` when present:
//! - DOP012 (healthcheck) probes a path that answered the original with 2xx/3xx
//!   ([`RuntimeEvidence::health_paths`]), or no path (a port check) when none did;
//! - DOP011 (non-root-user) offers no fix when the main process already runs as a
//!   non-root user after its entrypoint ([`RuntimeEvidence::uid`]), hands the
//!   user the folders the app wrote to at start-up, and offers no fix when it
//!   wrote into system folders ([`RuntimeEvidence::startup_writes`]).

use serde::{Deserialize, Serialize};

/// What the running original showed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeEvidence {
    /// HTTP paths that answered `GET` with 2xx/3xx, in the order tried (the
    /// configured path, routes from the sources, then `/health`, `/healthz`,
    /// `/ready`, `/status`, `/ping`, `/login`, `/`), with their status.
    pub health_paths: Vec<(String, u16)>,
    /// The paths tried (so an empty `health_paths` means none of these answered).
    pub paths_tried: Vec<String>,
    /// TCP ports the container listens on (`/proc/net/tcp{,6}`), sorted.
    pub listening_ports: Vec<u16>,
    /// The ports could be read (the container ran and had `cat`).
    #[serde(default)]
    pub ports_read: bool,
    /// The real uid of the container's main process (PID 1) after its
    /// entrypoint, from `/proc/1/status`.
    pub uid: Option<u32>,
    /// Paths the original added or changed at start-up (`docker diff`), files
    /// only (not the folders that hold them), sorted.
    pub startup_writes: Vec<String>,
}

impl RuntimeEvidence {
    /// The first path that answered, and the evidence to quote.
    pub fn health_path(&self) -> Option<(&str, String)> {
        self.health_paths.first().map(|(path, status)| {
            (
                path.as_str(),
                format!("GET {path} answered {status} on the running original (--verify)"),
            )
        })
    }
}

impl RuntimeEvidence {
    /// Splits the start-up writes by where they are: the folders that hold the
    /// writes outside system folders (to hand to a non-root user), and the
    /// writes inside system folders (which a non-root user cannot make).
    pub fn write_folders(
        &self,
        is_system_dir: impl Fn(&str) -> bool,
    ) -> (Vec<String>, Vec<String>) {
        let mut folders: Vec<String> = Vec::new();
        let mut system = Vec::new();
        for path in &self.startup_writes {
            let parent = match path.rsplit_once('/') {
                Some(("", _)) | None => "/",
                Some((parent, _)) => parent,
            };
            // Only plain paths go into a RUN line; others are not handed over.
            let plain = path.chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | '+' | '@')
            });
            if !plain || is_system_dir(parent) || parent.split('/').any(|c| c == "..") {
                system.push(path.clone());
            } else if !folders.iter().any(|f| f == parent) {
                folders.push(parent.to_string());
            }
        }
        (folders, system)
    }
}

/// The listening TCP ports in the text of `/proc/net/tcp` or `/proc/net/tcp6`:
/// rows whose state is `0A` (LISTEN); the local port is the hex after the colon
/// of the second column.
pub fn listening_ports(proc_net_tcp: &str) -> Vec<u16> {
    let mut ports: Vec<u16> = proc_net_tcp
        .lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            if cols.get(3) != Some(&"0A") {
                return None;
            }
            let (_, port) = cols.get(1)?.rsplit_once(':')?;
            u16::from_str_radix(port, 16).ok()
        })
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

/// The real uid in the text of `/proc/<pid>/status` (`Uid:` real effective ...).
pub fn status_uid(status: &str) -> Option<u32> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listening_ports_from_proc_net_tcp() {
        let tcp = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
           0: 00000000:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0\n\
           1: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0\n\
           2: 0100007F:9C40 0100007F:1F40 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0 100 0 0 10 0\n";
        assert_eq!(listening_ports(tcp), vec![80, 8000]);
        let tcp6 = "  sl  local_address                         remote_address                        st\n\
           0: 00000000000000000000000000000000:0BB8 00000000000000000000000000000000:0000 0A 0\n";
        assert_eq!(listening_ports(tcp6), vec![3000]);
    }

    #[test]
    fn writes_in_system_folders_are_told_apart() {
        let evidence = RuntimeEvidence {
            startup_writes: vec![
                "/var/log/app.log".into(),
                "/srv/data/db.sqlite".into(),
                "/srv/data/db.lock".into(),
                "/pidfile".into(),
            ],
            ..Default::default()
        };
        let system = |d: &str| matches!(d, "/" | "/var/log");
        assert_eq!(
            evidence.write_folders(system),
            (
                vec!["/srv/data".to_string()],
                vec!["/var/log/app.log".to_string(), "/pidfile".to_string()]
            )
        );
    }

    #[test]
    fn uid_from_proc_status() {
        let status = "Name:\tpython\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t999\t999\t999\t999\nGid:\t999\t999\t999\t999\n";
        assert_eq!(status_uid(status), Some(999));
        assert_eq!(status_uid("Name: x\n"), None);
    }
}
