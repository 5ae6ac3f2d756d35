//! DOP012 `healthcheck`: a server image without a HEALTHCHECK.

use crate::fix::{Edit, Finding, Fix};
use crate::model::{text, ExposedPort, OsFamily, StageModel};
use crate::passes::{Pass, PassContext};
use crate::syntax::{Dockerfile, InstructionKind, Span};

macro_rules! docs {
    () => {
        r#"## What it does
Checks that a final stage which `EXPOSE`s a port (so it runs a server) has a
`HEALTHCHECK`, and offers one that probes the exposed port over HTTP.

## Why is this bad?
Without a health check, Docker (and Swarm, Compose `depends_on: service_healthy`)
only knows whether the process is alive, not whether it answers. A hung server
keeps receiving traffic.

## Example
```dockerfile
FROM node:20-slim
COPY . .
EXPOSE 3000
CMD ["node", "server.js"]
```

Use instead:
```dockerfile
FROM node:20-slim
COPY . .
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD node -e "require('http').get('http://localhost:3000/', r => process.exit(r.statusCode < 400 ? 0 : 1)).on('error', () => process.exit(1))"
CMD ["node", "server.js"]
```

The probe only uses what the image has: `curl` or `wget` when the stage installs
them with its package manager (or the base image ships them, like BusyBox `wget`
on Alpine), else the runtime itself (`node -e`, `python -c` with urllib). It
requests `/` on the first exposed TCP port with conservative timings. No fix is
offered when no probe is available (distroless, scratch, unknown bases), when the
port is not an HTTP port (databases, SSH...) or cannot be resolved. Images that
expose no port never get a finding.

## Fix safety
Unsafe: `/` may not answer with a success status (set your health endpoint in
`.dopt.yaml`: `options: { healthcheck: { path: /healthz } }`), and an unhealthy container may be restarted by an orchestrator."#
    };
}

#[doc = docs!()]
pub struct Healthcheck;

/// The probe timings: conservative, so slow starts are not marked unhealthy.
const TIMINGS: &str = "--interval=30s --timeout=5s --start-period=30s --retries=3";

/// Well-known ports that do not speak plain HTTP (TLS included).
const NON_HTTP_PORTS: &[u16] = &[
    21, 22, 23, 25, 53, 110, 143, 389, 443, 445, 465, 587, 636, 993, 995, 1433, 1521, 1883, 2181,
    3306, 3389, 4222, 4369, 5432, 5671, 5672, 5900, 6379, 6380, 7000, 7001, 8443, 8883, 9042, 9092,
    9093, 9229, 11211, 25672, 26257, 27017, 27018, 28015, 50051,
];

/// Ports that usually serve plain HTTP, to choose among several exposed ports.
const COMMON_HTTP_PORTS: &[u16] = &[
    80, 3000, 4000, 5000, 8000, 8008, 8080, 8081, 8088, 8888, 9000, 9090,
];

impl Pass for Healthcheck {
    fn code(&self) -> &'static str {
        "DOP012"
    }
    fn name(&self) -> &'static str {
        "healthcheck"
    }
    fn summary(&self) -> &'static str {
        "server image without HEALTHCHECK: add one that probes the exposed port"
    }
    fn docs(&self) -> &'static str {
        docs!()
    }
    fn related(&self) -> &'static [&'static str] {
        &["trivy DS026", "checkov CKV_DOCKER_2"]
    }
    fn run(&self, ctx: &PassContext) -> Vec<Finding> {
        if ctx.split_pending() {
            return Vec::new(); // acts on the runtime stage once DOP013 has made it
        }
        let file = ctx.file;
        let model = ctx.model();
        let Some(stage) = model.final_stage() else {
            return Vec::new();
        };
        check_stage(ctx, file, stage).into_iter().collect()
    }
}

fn check_stage(ctx: &PassContext, file: &Dockerfile, stage: &StageModel) -> Option<Finding> {
    if stage.healthcheck.is_some() || stage.family == OsFamily::Windows {
        return None;
    }
    let tcp: Vec<&ExposedPort> = stage
        .exposed
        .iter()
        .filter(|p| p.protocol == "tcp")
        .collect();
    let first = tcp.first()?;
    if runs_interactive_shell(file, stage) {
        return None;
    }
    let inst = &file.instructions[first.instruction];
    let span = Span::new(inst.keyword_span.start, inst.args_span.end);
    let mut finding = Finding {
        code: "DOP012",
        name: "healthcheck",
        message: String::new(),
        span,
        fix: None,
    };
    // One candidate port is probably the server; among several, only a
    // well-known HTTP port is a safe guess.
    let candidates: Vec<u16> = tcp
        .iter()
        .filter_map(|p| p.port)
        .filter(|p| !NON_HTTP_PORTS.contains(p))
        .collect();
    let chosen = match candidates.as_slice() {
        [one] => Some(*one),
        many => many.iter().copied().find(|p| COMMON_HTTP_PORTS.contains(p)),
    };
    if chosen.is_none() && candidates.len() > 1 {
        finding.message = format!(
            "the image serves ports {} but has no HEALTHCHECK (no fix: cannot tell which port answers HTTP)",
            candidates.iter().map(u16::to_string).collect::<Vec<_>>().join(", ")
        );
        return Some(finding);
    }
    let Some(port) = chosen else {
        finding.message = match tcp.iter().find_map(|p| p.port) {
            Some(p) => format!(
                "the image serves port {p} but has no HEALTHCHECK; port {p} is not HTTP, so add one with the service's own client"
            ),
            None => format!(
                "the image serves port {} but has no HEALTHCHECK (no fix: the port does not resolve to a number)",
                first.raw
            ),
        };
        return Some(finding);
    };
    let probe = probe_for(ctx, stage, port);
    let Some(probe) = probe else {
        finding.message = format!(
            "the image serves port {port} but has no HEALTHCHECK (no fix: no curl, wget or language runtime in the image to probe it with)"
        );
        return Some(finding);
    };
    finding.message = format!(
        "the image serves port {port} but has no HEALTHCHECK; probe http://localhost:{port}{} so the runtime knows when the server stops answering",
        probe_path(ctx)
    );
    let line_text = format!(
        "{} {TIMINGS} CMD {probe}",
        text::keyword(file, "HEALTHCHECK")
    );
    finding.fix = Some(Fix::unsafe_(vec![placement(file, stage, &line_text)]));
    Some(finding)
}

/// True if the container's command is a bare interactive shell (not a server).
fn runs_interactive_shell(file: &Dockerfile, stage: &StageModel) -> bool {
    let Some(cmd) = stage.cmd.filter(|_| stage.entrypoint.is_none()) else {
        return false;
    };
    let argv = match &file.instructions[cmd].kind {
        InstructionKind::Cmd(command) => command.rough_argv(),
        _ => return false,
    };
    argv.len() == 1
        && matches!(
            argv[0].rsplit('/').next().unwrap_or(""),
            "sh" | "bash" | "ash" | "zsh"
        )
}

/// The HTTP path to probe: `.dopt.yaml` `options: { healthcheck: { path: /healthz } }`,
/// else `/`.
fn probe_path(ctx: &PassContext) -> String {
    ctx.options_for("healthcheck")
        .and_then(|o| o.get("path"))
        .and_then(|p| p.as_str())
        .filter(|p| p.starts_with('/') && !p.contains(['\'', '"', ' ', '\\']))
        .unwrap_or("/")
        .to_string()
}

fn probe_for(ctx: &PassContext, stage: &StageModel, port: u16) -> Option<String> {
    // Shell-form HEALTHCHECK needs /bin/sh, which distroless and scratch lack.
    if matches!(stage.family, OsFamily::Distroless | OsFamily::Scratch) {
        return None;
    }
    let path = probe_path(ctx);
    let image = stage.root_image.as_ref()?;
    let installed: Vec<&str> = stage.packages.iter().map(String::as_str).collect();
    ctx.profiles
        .health_probe_for(&image.raw, &installed, port, &path)
        .or_else(|| {
            // A variable in the base image hides its runtime from the profiles;
            // an installed HTTP client is still enough.
            let tool = ["curl", "wget"]
                .into_iter()
                .find(|t| stage.has_package(t))?;
            ctx.profiles.get(tool)?.health_probe.as_ref().map(|p| {
                p.command
                    .replace("{port}", &port.to_string())
                    .replace("{path}", &path)
            })
        })
}

/// After the stage's last EXPOSE, else before its first CMD/ENTRYPOINT, else at
/// the end of the stage.
fn placement(file: &Dockerfile, stage: &StageModel, line_text: &str) -> Edit {
    let range = stage.instructions.clone();
    let last_expose = range
        .clone()
        .rev()
        .find(|&i| matches!(file.instructions[i].kind, InstructionKind::Expose(_)));
    let anchor = last_expose.unwrap_or(range.end - 1);
    let ind = text::indent(file, &file.instructions[anchor]);
    let line = text::line(file, ind, line_text);
    if last_expose.is_none() {
        if let Some(cmd) = range.clone().find(|&i| {
            matches!(
                file.instructions[i].kind,
                InstructionKind::Cmd(_) | InstructionKind::Entrypoint(_)
            )
        }) {
            return Edit::insert(text::insertion_before(file, cmd), line);
        }
    }
    let (at, content) = text::insert_lines_after(file, anchor, &line);
    Edit::insert(at, content)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::check;

    fn fixed(src: &str) -> String {
        check(&Healthcheck, src, None).fixed
    }

    #[test]
    fn node_runtime_probe_after_expose() {
        let src = "FROM node:20-slim\nCOPY . .\nEXPOSE 3000\nCMD [\"node\", \"server.js\"]\n";
        assert_eq!(
            fixed(src),
            "FROM node:20-slim\nCOPY . .\nEXPOSE 3000\nHEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD node -e \"require('http').get('http://localhost:3000/', r => process.exit(r.statusCode < 400 ? 0 : 1)).on('error', () => process.exit(1))\"\nCMD [\"node\", \"server.js\"]\n"
        );
    }

    #[test]
    fn installed_curl_wins_and_env_port_resolves() {
        let src = "FROM node:18-slim\nRUN apt-get update && apt-get install -y --no-install-recommends curl tini && rm -rf /var/lib/apt/lists/*\nENV PORT=80\nEXPOSE $PORT\nCMD [\"node\", \"server.js\"]";
        assert_eq!(
            fixed(src),
            "FROM node:18-slim\nRUN apt-get update && apt-get install -y --no-install-recommends curl tini && rm -rf /var/lib/apt/lists/*\nENV PORT=80\nEXPOSE $PORT\nHEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD curl -fsS http://localhost:80/ || exit 1\nCMD [\"node\", \"server.js\"]"
        );
    }

    #[test]
    fn alpine_busybox_wget_and_python() {
        let out =
            fixed("FROM python:3.12-alpine\nEXPOSE 8000/tcp\nCMD [\"gunicorn\", \"app:app\"]\n");
        assert!(
            out.contains("CMD wget -q --spider http://localhost:8000/ || exit 1\n"),
            "{out}"
        );
        let out = fixed("FROM python:3.12-slim\nEXPOSE 5000\nCMD [\"flask\", \"run\"]\n");
        assert!(
            out.contains("CMD python -c \"import sys, urllib.request;"),
            "{out}"
        );
    }

    #[test]
    fn expose_is_last_line_without_newline() {
        let out = fixed("FROM node:20\nCMD node x\nEXPOSE 8080");
        assert!(out.ends_with("EXPOSE 8080\nHEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD curl -fsS http://localhost:8080/ || exit 1"), "{out}");
    }

    #[test]
    fn findings_without_fix() {
        for src in [
            "FROM postgres:16\nEXPOSE 5432\n",
            "FROM gcr.io/distroless/static-debian12\nEXPOSE 8080\nCMD [\"/app\"]\n",
            "FROM debian:12\nEXPOSE 8080\nCMD [\"/app\"]\n",
            "FROM debian:12\nARG P\nEXPOSE $P\nCMD [\"/app\"]\n",
        ] {
            let c = check(&Healthcheck, src, None);
            assert_eq!(c.findings.len(), 1, "{src}");
            assert!(c.findings[0].fix.is_none(), "{src}");
        }
    }

    #[test]
    fn several_ports() {
        let out = fixed("FROM node:20\nEXPOSE 9229 3000\nCMD node x\n");
        assert!(out.contains("http://localhost:3000/"), "{out}");
        let c = check(
            &Healthcheck,
            "FROM node:20\nEXPOSE 5672 44001 15672\nCMD node x\n",
            None,
        );
        assert!(c.findings[0].fix.is_none());
        assert!(
            c.findings[0].message.contains("44001, 15672"),
            "{}",
            c.findings[0].message
        );
    }

    #[test]
    fn must_not_fire() {
        for src in [
            "FROM node:20\nCMD node x\n",
            "FROM node:20\nEXPOSE 3000\nHEALTHCHECK NONE\nCMD node x\n",
            "FROM node:20 AS base\nHEALTHCHECK CMD true\nFROM base\nEXPOSE 3000\n",
            "FROM node:20 AS build\nEXPOSE 3000\nFROM nginx:1\nCOPY --from=build /a /b\n",
            "FROM debian:12\nEXPOSE 53/udp\nCMD [\"dns\"]\n",
            "FROM ubuntu:24.04\nEXPOSE 8080\nCMD [\"bash\"]\n",
        ] {
            let c = check(&Healthcheck, src, None);
            assert!(c.findings.is_empty(), "{src}: {:#?}", c.findings);
        }
    }
}
