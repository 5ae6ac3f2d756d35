//! The probe command, made only from programs the image has: curl or wget when
//! installed (or shipped, like BusyBox `wget` on Alpine), else the language
//! runtime (`node -e`, `python3 -c`: from the base image, from `apt-get install
//! python3`, or at its known path in distroless images, in exec form), else
//! bash's `/dev/tcp` or an installed `nc` for a TCP connect probe.

use crate::model::{OsFamily, StageModel};
use crate::passes::PassContext;

/// A HEALTHCHECK command, as written after `CMD `.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub command: String,
    /// The program that makes the probe (for messages).
    pub program: String,
}

/// How a runtime is invoked: its program and whether the image has a shell
/// (else the probe is written in exec form).
struct Runtime {
    bin: &'static str,
    shell: bool,
}

fn node(stage: &StageModel) -> Option<Runtime> {
    let image = stage.root_image.as_ref().map_or("", |i| i.raw.as_str());
    if stage.family == OsFamily::Distroless {
        return image.contains("/nodejs").then_some(Runtime {
            bin: "/nodejs/bin/node",
            shell: false,
        });
    }
    (stage.language == Some("node") || stage.has_package("nodejs") || stage.has_package("node"))
        .then_some(Runtime {
            bin: "node",
            shell: true,
        })
}

fn python(stage: &StageModel) -> Option<Runtime> {
    let image = stage.root_image.as_ref().map_or("", |i| i.raw.as_str());
    if stage.family == OsFamily::Distroless {
        return image.contains("/python3").then_some(Runtime {
            bin: "/usr/bin/python3",
            shell: false,
        });
    }
    (stage.language == Some("python")
        || ["python3", "python3-minimal", "python"]
            .iter()
            .any(|p| stage.has_package(p)))
    .then_some(Runtime {
        bin: "python3",
        shell: true,
    })
}

/// `prog -x "script"` as shell text or exec-form JSON.
fn runtime_command(rt: &Runtime, flag: &str, script: &str) -> Probe {
    let command = if rt.shell {
        format!("{} {flag} \"{script}\"", rt.bin)
    } else {
        serde_json::to_string(&[rt.bin, flag, script]).expect("strings serialize")
    };
    Probe {
        command,
        program: rt.bin.rsplit('/').next().unwrap_or(rt.bin).to_string(),
    }
}

/// Images without /bin/sh: distroless, scratch, Ubuntu "chiseled" images.
fn no_shell(stage: &StageModel) -> bool {
    matches!(stage.family, OsFamily::Distroless | OsFamily::Scratch)
        || stage
            .root_image
            .as_ref()
            .is_some_and(|i| i.raw.contains("chiseled"))
}

/// An HTTP GET probe of `http://127.0.0.1:{port}{path}`.
pub fn http(ctx: &PassContext, stage: &StageModel, port: u16, path: &str) -> Option<Probe> {
    let url = format!("http://127.0.0.1:{port}{path}");
    if !no_shell(stage) {
        for tool in ["curl", "wget"] {
            if stage.has_package(tool) {
                let probe = ctx.profiles.get(tool)?.health_probe.as_ref()?;
                return Some(Probe {
                    command: probe
                        .command
                        .replace("{port}", &port.to_string())
                        .replace("{path}", path),
                    program: tool.to_string(),
                });
            }
        }
    }
    if no_shell(stage) {
        // The static HTTP probe that a Go stage split builds and copies in.
        let probe = crate::passes::split_stages::go::PROBE;
        if stage
            .copies
            .iter()
            .any(|c| c.from_stage.is_some() && c.dest_resolved.as_deref() == Some(probe))
        {
            return Some(Probe {
                command: serde_json::to_string(&[probe, url.as_str()]).expect("strings serialize"),
                program: "healthcheck (a static probe built in the build stage)".to_string(),
            });
        }
        if stage.family != OsFamily::Distroless {
            return None;
        }
    }
    if let Some(rt) = node(stage) {
        let script = format!("require('http').get('{url}', r => process.exit(r.statusCode < 400 ? 0 : 1)).on('error', () => process.exit(1))");
        return Some(runtime_command(&rt, "-e", &script));
    }
    if let Some(rt) = python(stage) {
        let script = format!("import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('{url}', timeout=3).status < 400 else 1)");
        return Some(runtime_command(&rt, "-c", &script));
    }
    None
}

/// A TCP connect probe of `127.0.0.1:{port}`: the server listens (not: it is
/// healthy).
pub fn tcp(stage: &StageModel, port: u16) -> Option<Probe> {
    if no_shell(stage) && stage.family != OsFamily::Distroless {
        return None;
    }
    let node_probe = |rt: Runtime| {
        let script = format!("require('net').connect({port}, '127.0.0.1').on('connect', () => process.exit(0)).on('error', () => process.exit(1))");
        runtime_command(&rt, "-e", &script)
    };
    let python_probe = |rt: Runtime| {
        let script =
            format!("import socket; socket.create_connection(('127.0.0.1', {port}), 3).close()");
        runtime_command(&rt, "-c", &script)
    };
    // The image's own language runtime reads naturally; then bash, which
    // Debian, Ubuntu and RHEL images have; then a runtime installed for
    // something else.
    match stage.language {
        Some("node") => return node(stage).map(node_probe),
        Some("python") => return python(stage).map(python_probe),
        _ => {}
    }
    if no_shell(stage) {
        return node(stage)
            .map(node_probe)
            .or_else(|| python(stage).map(python_probe));
    }
    let has_bash = matches!(
        stage.family,
        OsFamily::Debian | OsFamily::Ubuntu | OsFamily::Rhel
    ) || stage.has_package("bash");
    if has_bash {
        return Some(Probe {
            command: format!("bash -c 'exec 3<>/dev/tcp/127.0.0.1/{port}'"),
            program: "bash".to_string(),
        });
    }
    if let Some(p) = node(stage).map(node_probe) {
        return Some(p);
    }
    if let Some(p) = python(stage).map(python_probe) {
        return Some(p);
    }
    // Alpine's BusyBox `nc` has `-z` (the `wait-for` scripts rely on it).
    if stage.family == OsFamily::Alpine
        || ["netcat-openbsd", "netcat", "nmap-ncat", "ncat"]
            .iter()
            .any(|p| stage.has_package(p))
    {
        return Some(Probe {
            command: format!("nc -z -w 3 127.0.0.1 {port}"),
            program: "nc".to_string(),
        });
    }
    None
}
