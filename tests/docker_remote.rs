//! Engines beyond the local socket, connected the way the docker CLI does
//! (`src/docker/endpoint.rs`):
//! - a second dockerd, TLS-protected, in a network namespace of its own on a
//!   private veth address, with a CA, server and client certificates made here
//!   with openssl: `DOCKER_HOST=tcp://...` with
//!   `DOCKER_TLS_VERIFY`/`DOCKER_CERT_PATH`, and the same through a docker
//!   context that carries the TLS material;
//! - a docker context (`~/.docker/config.json` `currentContext`, HOME in a temp
//!   folder) pointing at the local socket;
//! - `ssh://`: an error that says how to forward the socket.
//!
//! One test (it changes the process environment). It needs root, dockerd and
//! openssl: it skips with a message without them, but fails under `CI=true`.
//! The second daemon is stopped and its folders removed in every case.

mod docker_support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use dopt::docker::endpoint::context_id;
use dopt::docker::engine;

fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A key `{name}-key.pem` and a certificate `{name}.pem` signed by the CA, with
/// the extensions `ext`.
fn signed(dir: &Path, key: &str, cert: &str, subject: &str, ext: &str) {
    let csr = format!("{cert}.csr");
    let ext_file = format!("{cert}.ext");
    std::fs::write(dir.join(&ext_file), ext).unwrap();
    let req = [
        "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", &csr, "-subj", subject,
    ];
    openssl(dir, &req);
    let sign = [
        "x509",
        "-req",
        "-in",
        &csr,
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca-key.pem",
        "-CAcreateserial",
        "-out",
        cert,
        "-days",
        "2",
        "-extfile",
        &ext_file,
    ];
    openssl(dir, &sign);
}

/// CA, server certificate for [`REMOTE_IP`], client certificate (`ca.pem`,
/// `cert.pem`, `key.pem`: the names the docker CLI reads).
fn make_certificates(dir: &Path) {
    let ca = [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca-key.pem",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=dopt test CA",
    ];
    openssl(dir, &ca);
    let server_ext = format!("subjectAltName=IP:{REMOTE_IP}\nextendedKeyUsage=serverAuth\n");
    signed(
        dir,
        "server-key.pem",
        "server-cert.pem",
        "/CN=dopt test engine",
        &server_ext,
    );
    signed(
        dir,
        "key.pem",
        "cert.pem",
        "/CN=dopt test client",
        "extendedKeyUsage=clientAuth\n",
    );
}

/// A dockerd of its own, in a network namespace of its own (a dockerd in the
/// host's namespace with `--bridge=none` or `--bridge=X` deletes `docker0`,
/// the main engine's bridge), reached over a veth pair at [`REMOTE_IP`].
/// Stopped, and its namespace and folders removed, on drop.
struct Daemon {
    child: Child,
    root: PathBuf,
    netns: String,
}

/// The second engine's address, on the veth pair's far end.
const REMOTE_IP: &str = "10.231.77.2";
const HOST_VETH: &str = "dopt-tls-h";

fn ip(args: &[&str]) {
    let ok = Command::new("ip")
        .args(args)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "ip {args:?} failed");
}

fn make_netns(name: &str) {
    let _ = Command::new("ip").args(["netns", "delete", name]).status();
    let _ = Command::new("ip")
        .args(["link", "delete", HOST_VETH])
        .status();
    ip(&["netns", "add", name]);
    ip(&[
        "link",
        "add",
        HOST_VETH,
        "type",
        "veth",
        "peer",
        "name",
        "dopt-tls-n",
    ]);
    ip(&["link", "set", "dopt-tls-n", "netns", name]);
    ip(&["addr", "add", "10.231.77.1/30", "dev", HOST_VETH]);
    ip(&["link", "set", HOST_VETH, "up"]);
    ip(&[
        "netns",
        "exec",
        name,
        "ip",
        "addr",
        "add",
        &format!("{REMOTE_IP}/30"),
        "dev",
        "dopt-tls-n",
    ]);
    ip(&[
        "netns",
        "exec",
        name,
        "ip",
        "link",
        "set",
        "dopt-tls-n",
        "up",
    ]);
    ip(&["netns", "exec", name, "ip", "link", "set", "lo", "up"]);
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        // vfs layers may hold read-only files; the folder goes with the tempdir.
        let _ = Command::new("rm").arg("-rf").arg(&self.root).status();
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.netns])
            .status();
        let _ = Command::new("ip")
            .args(["link", "delete", HOST_VETH])
            .status();
    }
}

fn start_tls_daemon(dir: &Path, port: u16) -> Daemon {
    let netns = format!("dopt-tls-{}", std::process::id());
    make_netns(&netns);
    let root = dir.join("daemon");
    std::fs::create_dir_all(&root).unwrap();
    let log = std::fs::File::create(dir.join("dockerd.log")).unwrap();
    // nsenter, not `ip netns exec`: that remounts /sys, and dockerd then finds
    // no cgroups.
    let child = Command::new("nsenter")
        .arg(format!("--net=/run/netns/{netns}"))
        .arg("dockerd")
        .arg("--data-root")
        .arg(root.join("data"))
        .arg("--exec-root")
        .arg(root.join("exec"))
        .arg("--pidfile")
        .arg(root.join("docker.pid"))
        .arg("-H")
        .arg(format!("tcp://{REMOTE_IP}:{port}"))
        .arg("--tlsverify")
        .arg("--tlscacert")
        .arg(dir.join("ca.pem"))
        .arg("--tlscert")
        .arg(dir.join("server-cert.pem"))
        .arg("--tlskey")
        .arg(dir.join("server-key.pem"))
        .args([
            "--iptables=false",
            "--ip-masq=false",
            "--storage-driver=vfs",
        ])
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("dockerd starts");
    let daemon = Daemon { child, root, netns };
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect((REMOTE_IP, port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "the TLS dockerd did not listen within 60 s: {}",
            std::fs::read_to_string(dir.join("dockerd.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    daemon
}

fn set(vars: &[(&str, Option<&str>)]) {
    for (k, v) in vars {
        match v {
            // SAFETY (edition 2021: safe): this binary has a single test.
            Some(v) => std::env::set_var(k, v),
            None => std::env::remove_var(k),
        }
    }
}

const ALL: [&str; 5] = [
    "DOCKER_HOST",
    "DOCKER_TLS_VERIFY",
    "DOCKER_CERT_PATH",
    "DOCKER_CONTEXT",
    "DOCKER_CONFIG",
];

fn clear() {
    for k in ALL {
        std::env::remove_var(k);
    }
}

fn write_context(home: &Path, name: &str, host: &str, tls_from: Option<&Path>) {
    let docker = home.join(".docker");
    let id = context_id(name);
    let meta = docker.join("contexts/meta").join(&id);
    std::fs::create_dir_all(&meta).unwrap();
    std::fs::write(
        meta.join("meta.json"),
        format!(
            r#"{{"Name":"{name}","Metadata":{{}},"Endpoints":{{"docker":{{"Host":"{host}","SkipTLSVerify":false}}}}}}"#
        ),
    )
    .unwrap();
    if let Some(certs) = tls_from {
        let tls = docker.join("contexts/tls").join(&id).join("docker");
        std::fs::create_dir_all(&tls).unwrap();
        for f in ["ca.pem", "cert.pem", "key.pem"] {
            std::fs::copy(certs.join(f), tls.join(f)).unwrap();
        }
    }
    std::fs::write(
        docker.join("config.json"),
        format!(r#"{{"currentContext":"{name}"}}"#),
    )
    .unwrap();
}

#[test]
fn tls_tcp_engines_docker_contexts_and_ssh() {
    let ci = std::env::var_os("CI").is_some();
    let missing: Vec<&str> = [
        ("dockerd", have("dockerd")),
        ("openssl", have("openssl")),
        ("root", is_root()),
    ]
    .iter()
    .filter(|(_, ok)| !ok)
    .map(|(what, _)| *what)
    .collect();
    if !missing.is_empty() {
        assert!(
            !ci,
            "CI is set but this machine lacks {missing:?} for the remote-engine test"
        );
        eprintln!("SKIPPED tls_tcp_engines_docker_contexts_and_ssh: no {missing:?}");
        return;
    }
    let local = docker_support::block_on(engine::connect());
    if local.is_err() {
        assert!(!ci, "CI is set but no local engine answers: {local:?}");
        eprintln!("SKIPPED tls_tcp_engines_docker_contexts_and_ssh: no local engine");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path();
    make_certificates(certs);
    // The namespace is fresh: the usual TLS port is free there.
    let port = 2376;
    let _daemon = start_tls_daemon(certs, port);
    let tcp = format!("tcp://{REMOTE_IP}:{port}");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let old_home = std::env::var_os("HOME");
    std::env::set_var("HOME", &home);

    // 1. DOCKER_HOST + DOCKER_TLS_VERIFY + DOCKER_CERT_PATH.
    clear();
    set(&[
        ("DOCKER_HOST", Some(&tcp)),
        ("DOCKER_TLS_VERIFY", Some("1")),
        ("DOCKER_CERT_PATH", certs.to_str()),
    ]);
    let e = docker_support::block_on(engine::connect()).expect("TLS engine via DOCKER_HOST");
    assert_eq!(e.host, tcp);
    assert!(e.server_version.starts_with("20.") || !e.server_version.is_empty());
    // A real request on that engine: it has its own (empty) image store.
    let images = docker_support::block_on(
        e.docker()
            .list_images(None::<bollard::query_parameters::ListImagesOptions>),
    )
    .expect("list images over TLS");
    assert!(images.is_empty(), "a fresh data root has no images");

    // Without the client certificate the engine refuses: the error says where.
    set(&[("DOCKER_TLS_VERIFY", None), ("DOCKER_CERT_PATH", None)]);
    let err = docker_support::block_on(engine::connect())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&tcp) && err.contains("from DOCKER_HOST"),
        "{err}"
    );

    // 2. A docker context with the TLS material, as `docker context create
    // --docker host=...,ca=...,cert=...,key=...` stores it.
    clear();
    write_context(&home, "tls-remote", &tcp, Some(certs));
    let e = docker_support::block_on(engine::connect()).expect("TLS engine via context");
    assert_eq!(e.host, tcp);

    // 3. A context pointing at the local socket.
    write_context(&home, "local", "unix:///var/run/docker.sock", None);
    let e = docker_support::block_on(engine::connect()).expect("local engine via context");
    assert_eq!(e.host, "unix:///var/run/docker.sock");
    // DOCKER_CONTEXT names another one; DOCKER_HOST beats both.
    set(&[("DOCKER_CONTEXT", Some("tls-remote"))]);
    assert_eq!(
        docker_support::block_on(engine::connect()).unwrap().host,
        tcp
    );
    set(&[("DOCKER_HOST", Some("unix:///var/run/docker.sock"))]);
    assert_eq!(
        docker_support::block_on(engine::connect()).unwrap().host,
        "unix:///var/run/docker.sock"
    );

    // 4. ssh://: not spoken directly; the error says how to forward the socket.
    clear();
    set(&[("DOCKER_HOST", Some("ssh://builder@build-host"))]);
    let err = docker_support::block_on(engine::connect())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("ssh -NfL") && err.contains("builder@build-host"),
        "{err}"
    );

    // The main engine's bridge is untouched.
    assert!(
        Command::new("ip")
            .args(["link", "show", "docker0"])
            .output()
            .is_ok_and(|o| o.status.success()),
        "docker0 is gone"
    );
    clear();
    match old_home {
        Some(h) => std::env::set_var("HOME", h),
        None => std::env::remove_var("HOME"),
    }
}
