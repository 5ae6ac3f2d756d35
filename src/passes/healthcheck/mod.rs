//! DOP012 `healthcheck`: a server image without a HEALTHCHECK.

mod command;
mod probe;
mod script;

use crate::evidence::{ports, routes};
use crate::fix::{Edit, Finding, Fix};
use crate::model::{text, OsFamily, StageModel};
use crate::passes::{Pass, PassContext};
use crate::syntax::{Dockerfile, InstructionKind, Span};

macro_rules! docs {
    () => {
        r#"## What it does
Checks that the shipped stage of an image that `EXPOSE`s a port (so it runs a
server) has a `HEALTHCHECK`, and offers one that probes only what is known to
answer.

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

Use instead (with `app.get('/healthz', ...)` in `server.js`):
```dockerfile
FROM node:20-slim
COPY . .
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD node -e "require('http').get('http://127.0.0.1:3000/healthz', r => process.exit(r.statusCode < 400 ? 0 : 1)).on('error', () => process.exit(1))"
CMD ["node", "server.js"]
```

The probe needs evidence for what it asks:
- **Path.** An HTTP path is probed only when a GET on it is known to answer:
  `options: { healthcheck: { path: /healthz } }` in `.dopt.yaml`; the documented
  health endpoint of a known server (`profiles/servers.yaml`: Jenkins `/login`,
  Meilisearch `/health`, ...); or a GET route in the app's sources in the build
  context (Express/Fastify/Koa, Flask/FastAPI/Django, Go net/http/gin/echo,
  Spring mappings and the actuator's `/actuator/health`), preferring a
  health-like path, then `/`. A POST-only route is no evidence.
- **No path.** Without such evidence the probe is a TCP connect (`node -e` with
  `net`, `python3 -c` with `socket`, bash's `/dev/tcp`, `nc -z` from BusyBox on
  Alpine or installed): it checks that the server listens, not that it is
  healthy, and the message says so. Without any such program, the finding has
  no fix and says how to give the path.
- **Port.** The port the server listens on: its flags (`--port`, `--bind`,
  `-b host:port`...), `PORT`-style ENV it reads, framework defaults (gunicorn,
  uvicorn 8000, `flask run` 5000...), the sources (`process.env.PORT || 3000`,
  `app.listen(8080)`, `app.run(port=...)`, `server.port`), else the single
  exposed port; `options: { healthcheck: { port: 8080 } }` in `.dopt.yaml` wins
  over all of these. A port only an ARG gives is not used: a HEALTHCHECK does not see
  build args. Among several exposed ports without such evidence, and on
  well-known non-HTTP ports (databases...), there is no fix.
- **Program.** curl or wget when installed (BusyBox `wget` on Alpine), else the
  runtime, from the base image or installed by apt/apk; in distroless images
  the runtime at its known path, in exec form. The probe targets 127.0.0.1.
- **Runtime evidence** (`suggest --build`, `apply --verify`: dopt runs the
  original first). The path is one that answered `GET` with 2xx/3xx on the
  running original, or none (a TCP probe) when every path tried failed. The port
  is checked against the ports the original listened on (`/proc/net/tcp`): the
  chosen port is confirmed when it listens there, replaced by the only port it
  listened on when not, and gives no fix when it listened on several others. A
  server with no `EXPOSE` gets a probe only from this evidence. The configured
  port still wins.

No finding when the stage starts no server (`--help`, a shell, a one-shot
tool), when the image is a base for others (its CMD is a base image's own
server, `httpd-foreground`, `nginx`, `php-fpm`, and it copies no application:
what is healthy depends on the images built on it), when the stage is not
the shipped one (a dev stage), or when a compose
file in the context (or its parent folder) defines a `healthcheck:` for the
service that builds this context; a compose `target:` names the shipped stage.

A finding without a fix (it says why, and what to do instead):
- **Generated file.** A header comment says the file is generated (`# NOTE:
  THIS DOCKERFILE IS GENERATED VIA "apply-templates.sh"`, `DO NOT EDIT`, `Code
  generated ... DO NOT EDIT.`): the HEALTHCHECK belongs in the template or
  generator, and the message gives the line to put there.
- **gRPC.** The server speaks gRPC: `grpc_health_probe` or a `GRPC_` variable
  or gRPC/proto paths in the Dockerfile, a gRPC server or health service in the
  context's sources (`grpc.health.v1`, `HealthStatusManager`,
  `grpc.NewServer(`...), or, when the context has no code to read, a gRPC
  dependency in its manifests (`grpcio`, `@grpc/grpc-js`,
  `google.golang.org/grpc`, `io.grpc`). A TCP connect is weaker than the gRPC
  health protocol these services implement. When the Dockerfile puts
  `grpc_health_probe` into the image at a known path, the fix probes with it
  (`HEALTHCHECK CMD ["/bin/grpc_health_probe", "-addr=:PORT"]`).
- **A script that starts no server.** `python app.py` / `node server.js` where
  the script is readable in the context and neither it nor the local modules it
  imports start a server (`app.run(`, `uvicorn.run(`, `serve_forever(`,
  `.listen(`...): it exits, or defines an app that another server runs.
- **A script dopt cannot read.** The same command where the context does not
  hold the script (or dopt was given the Dockerfile alone), and EXPOSE is the
  only sign of the port: dopt cannot tell whether anything listens (as DOP011
  gives no fix on a start-up script it cannot read). An `ENV PORT` that names
  the exposed port, or the running original seen listening (`--build`), is
  enough.
- **Compose runs another command.** A compose service that builds this context
  sets `command:` or `entrypoint:`: the Dockerfile's command is not what runs
  there, and a probe for it could mark that service unhealthy.

## Fix safety
Unsafe: an unhealthy container may be restarted or taken out of service by an
orchestrator, and the probe adds a process every 30 seconds."#
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

/// How to give the path, for messages.
const HOW_TO_PATH: &str =
    "set the health endpoint in .dopt.yaml: `options: { healthcheck: { path: /healthz } }`";

impl Pass for Healthcheck {
    fn code(&self) -> &'static str {
        "DOP012"
    }
    fn name(&self) -> &'static str {
        "healthcheck"
    }
    fn summary(&self) -> &'static str {
        "server image without HEALTHCHECK: add one that probes what is known to answer"
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
        let Some(shipped) = crate::evidence::shipped::stage(ctx, ctx.model()) else {
            return Vec::new();
        };
        if shipped.compose_healthcheck {
            return Vec::new();
        }
        let stage = shipped.stage;
        let Some(mut finding) =
            check_stage(ctx, ctx.file, stage, shipped.compose_override.as_deref())
        else {
            return Vec::new();
        };
        // A generated file: the change belongs in its template or generator.
        let added: String = finding
            .fix
            .iter()
            .flat_map(|fix| fix.edits.iter().map(|e| e.content.trim()))
            .collect();
        crate::evidence::generated::decline_fix_if_generated(
            &mut finding,
            &ctx.file.source,
            "the HEALTHCHECK",
            Some(format!("the line: `{added}`")),
        );
        vec![finding]
    }
}

/// The value of an ENV (not an ARG: a HEALTHCHECK runs without build args).
fn env_of(stage: &StageModel, name: &str) -> Option<String> {
    stage
        .env
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

/// Where the port comes from.
enum PortChoice {
    Port(ports::Port),
    /// No fix: why.
    Unknown(String),
}

/// The port evidence when EXPOSE is all there is.
const ONLY_EXPOSED: &str = "the only exposed port";

fn choose_port(
    config_port: Option<u16>,
    stage: &StageModel,
    argv: &[String],
    sources: Option<&routes::Sources>,
    known: Option<&crate::profiles::HealthEndpoint>,
) -> PortChoice {
    if let Some(port) = config_port {
        return PortChoice::Port(ports::Port {
            port,
            evidence: "options.healthcheck.port in .dopt.yaml".to_string(),
        });
    }
    let env = |name: &str| env_of(stage, name);
    if let Some(p) = ports::from_command(argv, &env) {
        return PortChoice::Port(p);
    }
    if let Some(e) = known {
        if let Some(p) = e.port {
            return PortChoice::Port(ports::Port {
                port: p,
                evidence: format!("{}'s default port", e.server),
            });
        }
    }
    // A compiled server (`/app`) built from Go sources in the context.
    let go = sources.is_some_and(|s| s.with_ext(&["go"]).next().is_some());
    let runtime = command::runtime_of(argv)
        .or(stage.language)
        .or(go.then_some("go"));
    if let (Some(sources), Some(rt)) = (sources, runtime) {
        if let Some(p) = ports::from_sources(sources, rt, &env) {
            return PortChoice::Port(p);
        }
    }
    // The exposed TCP ports, resolved with ENV only.
    let mut exposed: Vec<u16> = Vec::new();
    let mut arg_only: Vec<String> = Vec::new();
    for p in stage.exposed.iter().filter(|p| p.protocol == "tcp") {
        let resolved = crate::model::substitute(&p.raw, &|name| env_of(stage, name));
        match resolved
            .as_deref()
            .and_then(|r| r.split(['/', '-']).next()?.parse::<u16>().ok())
        {
            Some(n) if !exposed.contains(&n) => exposed.push(n),
            Some(_) => {}
            None => arg_only.push(p.raw.clone()),
        }
    }
    match (exposed.as_slice(), arg_only.as_slice()) {
        ([one], []) => PortChoice::Port(ports::Port {
            port: *one,
            evidence: ONLY_EXPOSED.to_string(),
        }),
        ([], [raw, ..]) => PortChoice::Unknown(format!(
            "the port `{raw}` is not known when the container runs (a build ARG or an unset variable; a HEALTHCHECK does not see build args)"
        )),
        (many, _) => PortChoice::Unknown(format!(
            "cannot tell which of the exposed ports {} the server listens on; set it in .dopt.yaml: `options: {{ healthcheck: {{ port: N }} }}`",
            many.iter()
                .map(u16::to_string)
                .chain(arg_only.iter().cloned())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// The static port choice checked against the ports the running original
/// listened on (`/proc/net/tcp{,6}` under `--verify`), when they were read: a
/// port it listens on is confirmed; a port it does not listen on is replaced by
/// the only port it listens on, or gives no fix when it listens on several.
fn runtime_port(choice: PortChoice, listening: Option<&[u16]>) -> PortChoice {
    let Some(listening) = listening else {
        return choice;
    };
    let list = || {
        listening
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let only = |before: &str| {
        match listening {
        [one] => PortChoice::Port(ports::Port {
            port: *one,
            evidence: format!(
                "the only port the running original listened on (/proc/net/tcp, --verify){before}"
            ),
        }),
        _ => PortChoice::Unknown(format!(
            "the running original listened on ports {}{before}; set the one to probe in .dopt.yaml: `options: {{ healthcheck: {{ port: N }} }}`",
            list()
        )),
    }
    };
    match choice {
        PortChoice::Port(p) if listening.contains(&p.port) => PortChoice::Port(ports::Port {
            port: p.port,
            evidence: format!(
                "{}, and the running original listened on it (--verify)",
                p.evidence
            ),
        }),
        PortChoice::Port(p) => only(&format!(", not on {} ({})", p.port, p.evidence)),
        PortChoice::Unknown(_) => only(""),
    }
}

/// `options: { healthcheck: { port: 8080 } }` in `.dopt.yaml`.
fn config_port(ctx: &PassContext) -> Option<u16> {
    let port = ctx.options_for("healthcheck")?.get("port")?;
    port.as_u64()
        .or_else(|| port.as_str()?.parse().ok())
        .and_then(|p| u16::try_from(p).ok())
        .filter(|p| *p > 0)
}

/// The HTTP path to probe and its evidence.
fn choose_path(
    ctx: &PassContext,
    sources: Option<&routes::Sources>,
    known: Option<&crate::profiles::HealthEndpoint>,
) -> Option<(String, String)> {
    if let Some(p) = ctx
        .options_for("healthcheck")
        .and_then(|o| o.get("path"))
        .and_then(|p| p.as_str())
        .filter(|p| p.starts_with('/') && !p.contains(['\'', '"', ' ', '\\']))
    {
        return Some((
            p.to_string(),
            "options.healthcheck.path in .dopt.yaml".into(),
        ));
    }
    // Runtime evidence (--verify): a path that answered the running original,
    // or none (a port check) when the paths tried all failed.
    if let Some(runtime) = ctx.runtime.filter(|r| !r.paths_tried.is_empty()) {
        return runtime
            .health_path()
            .map(|(path, why)| (path.to_string(), why));
    }
    if let Some(e) = known {
        return Some((e.path.clone(), format!("{}'s health endpoint", e.server)));
    }
    let routes = routes::get_routes(sources?);
    routes::best_route(&routes).map(|r| (r.path.clone(), r.source.clone()))
}

/// The port to probe (with its evidence), the app's sources in the build
/// context and the known server's health endpoint.
fn port_evidence<'c>(
    ctx: &'c PassContext,
    stage: &StageModel,
    argv: &[String],
    listening: Option<&[u16]>,
) -> (
    PortChoice,
    Option<routes::Sources>,
    Option<&'c crate::profiles::HealthEndpoint>,
) {
    let image = stage.root_image.as_ref().map(|i| i.raw.as_str());
    let known = ctx
        .profiles
        .health_endpoint_for(image, argv.first().map(String::as_str));
    let sources = ctx
        .build_context
        .map(|b| routes::Sources::scan(b.path()))
        .filter(|s| !s.files.is_empty());
    let configured = config_port(ctx);
    let choice = choose_port(configured, stage, argv, sources.as_ref(), known);
    // The user's configured port stands; any other choice meets the evidence.
    let choice = match configured {
        Some(_) => choice,
        None => runtime_port(choice, listening),
    };
    (choice, sources, known)
}

/// The port and HTTP path that DOP012 would probe in `stage` with evidence
/// (a GET route in the sources, a known server's endpoint, the user's
/// `.dopt.yaml`, or the running original), when it has both: what a stage
/// split asks before it builds a static HTTP probe for a shell-less runtime.
pub fn http_evidence(
    ctx: &PassContext,
    file: &Dockerfile,
    stage: &StageModel,
) -> Option<(u16, String)> {
    if stage.healthcheck.is_some() || stage.family == OsFamily::Windows {
        return None;
    }
    let argv = command::server_argv(file, stage);
    if command::no_server(&argv).is_some() || argv.first().is_some_and(|a| a.contains("php-fpm")) {
        return None;
    }
    let listening = ctx
        .runtime
        .filter(|r| r.ports_read && !r.listening_ports.is_empty())
        .map(|r| r.listening_ports.as_slice());
    if !stage.exposed.iter().any(|p| p.protocol == "tcp") && listening.is_none() {
        return None;
    }
    let (choice, sources, known) = port_evidence(ctx, stage, &argv, listening);
    let PortChoice::Port(port) = choice else {
        return None;
    };
    if NON_HTTP_PORTS.contains(&port.port) {
        return None;
    }
    let (path, _) = choose_path(ctx, sources.as_ref(), known)?;
    Some((port.port, path))
}

fn check_stage(
    ctx: &PassContext,
    file: &Dockerfile,
    stage: &StageModel,
    compose_override: Option<&str>,
) -> Option<Finding> {
    if stage.healthcheck.is_some() || stage.family == OsFamily::Windows {
        return None;
    }
    // The ports the running original listened on (--verify), when read.
    let listening = ctx
        .runtime
        .filter(|r| r.ports_read && !r.listening_ports.is_empty())
        .map(|r| r.listening_ports.as_slice());
    let first = stage.exposed.iter().find(|p| p.protocol == "tcp");
    let argv = command::server_argv(file, stage);
    if command::no_server(&argv).is_some() {
        return None;
    }
    // A base image for others (the official httpd, nginx, php images): what
    // is healthy depends on what the images built on it serve.
    if crate::passes::non_root_user::is_meant_as_base(ctx, file, stage) {
        return None;
    }
    // Without EXPOSE, only a server seen listening on the running original.
    let anchor = match first {
        Some(p) => p.instruction,
        None => {
            listening?;
            stage.cmd.or(stage.entrypoint)?
        }
    };
    let inst = &file.instructions[anchor];
    let mut finding = Finding {
        code: "DOP012",
        name: "healthcheck",
        message: String::new(),
        span: Span::new(inst.keyword_span.start, inst.args_span.end),
        fix: None,
    };
    let (choice, sources, known) = port_evidence(ctx, stage, &argv, listening);
    // A compose service runs another command: the image's CMD is not what runs.
    if let Some(by) = compose_override {
        finding.message = format!(
            "the image has no HEALTHCHECK (no fix: {by}, so in that deployment the Dockerfile's command is not what runs, and a probe written for it may probe nothing and mark that service unhealthy; add a `healthcheck:` to the service for the server its command starts)"
        );
        return Some(finding);
    }
    // `python app.py` where app.py starts no server (unless the running
    // original was seen listening).
    if listening.is_none() {
        if let Some(script) = sources
            .as_ref()
            .and_then(|s| script::starts_no_server(&argv, s))
        {
            finding.message = format!(
                "the image has no HEALTHCHECK (no fix: `{}` runs {script}, which starts no server that dopt can see in it or the local modules it imports (no `app.run(`, `uvicorn.run(`, `serve_forever(`, `.listen(`...): it exits, or defines an app for a server started elsewhere (gunicorn, a compose `command:`); add the HEALTHCHECK where that server is started)",
                argv.join(" ")
            );
            return Some(finding);
        }
    }
    let port = match choice {
        PortChoice::Port(p) => p,
        PortChoice::Unknown(why) => {
            finding.message =
                format!("the image runs a server but has no HEALTHCHECK (no fix: {why})");
            return Some(finding);
        }
    };
    let p = port.port;
    let port_ev = &port.evidence;
    // A gRPC service: the gRPC health protocol, not a TCP connect.
    if let Some(g) = crate::evidence::grpc::evidence(
        file,
        ctx.model(),
        stage,
        ctx.build_context.map(|b| b.path()),
        sources.as_ref(),
    ) {
        let head = format!(
            "the image's server speaks gRPC ({}) on port {p} (port: {port_ev}) but has no HEALTHCHECK",
            g.evidence
        );
        match (g.probe_in_image, g.probe_path) {
            (true, Some(path)) => {
                finding.message = format!(
                    "{head}; probe it with {path}, which asks the gRPC health service (grpc.health.v1)"
                );
                let line_text = format!(
                    "{} {TIMINGS} CMD [\"{path}\", \"-addr=:{p}\"]",
                    text::keyword(file, "HEALTHCHECK")
                );
                finding.fix = Some(Fix::unsafe_(vec![placement(file, stage, &line_text)]));
            }
            (true, None) => {
                finding.message = format!(
                    "{head} (no fix: grpc_health_probe is put into the image, but dopt cannot tell its path; add `HEALTHCHECK CMD [\"/path/to/grpc_health_probe\", \"-addr=:{p}\"]`)"
                );
            }
            _ => {
                finding.message = format!(
                    "{head} (no fix: a TCP connect only checks that the port listens, which is weaker than the gRPC health protocol (grpc.health.v1) that gRPC services implement; add grpc_health_probe (github.com/grpc-ecosystem/grpc-health-probe) to the image and `HEALTHCHECK CMD [\"/bin/grpc_health_probe\", \"-addr=:{p}\"]`, or on Kubernetes, which ignores HEALTHCHECK, use its native gRPC probe (`livenessProbe: {{ grpc: {{ port: {p} }} }}`))"
                );
            }
        }
        return Some(finding);
    }
    if NON_HTTP_PORTS.contains(&p) {
        finding.message = format!(
            "the image serves port {p} but has no HEALTHCHECK; port {p} is not HTTP, so add one with the service's own client"
        );
        return Some(finding);
    }
    // `python app.py` that the context does not hold, with EXPOSE as the only
    // sign of a server: the script may only define an app that gunicorn or a
    // compose `command:` serves, and exit. Like DOP011, no fix on an unread
    // script; the port from an ENV the server reads (`ENV PORT=80`) counts.
    // The user's `.dopt.yaml` health path says a server answers there.
    let configured_path = ctx
        .options_for("healthcheck")
        .is_some_and(|o| o.get("path").is_some());
    if listening.is_none() && port.evidence == ONLY_EXPOSED && !configured_path {
        let env_port = env_of(stage, "PORT").is_some_and(|v| v.trim() == p.to_string());
        if let (false, Some(script)) =
            (env_port, script::unreadable_script(&argv, sources.as_ref()))
        {
            finding.message = format!(
                "the image exposes port {p} but has no HEALTHCHECK (no fix: `{}` runs {script}, which the build context does not hold, so dopt cannot see whether it starts a server on that port; EXPOSE alone does not say so (a script may only define an app that another server runs, such as gunicorn or a compose `command:`); run dopt with the project folder as `--context`, or `dopt suggest --build` to see the original listen)",
                argv.join(" ")
            );
            return Some(finding);
        }
    }
    // php-fpm speaks FastCGI, not HTTP: only a TCP probe fits.
    let fastcgi = argv
        .first()
        .is_some_and(|a| a.rsplit('/').next().unwrap_or(a).starts_with("php-fpm"));
    let path = choose_path(ctx, sources.as_ref(), known).filter(|_| !fastcgi);
    let http = path
        .as_ref()
        .and_then(|(path, ev)| Some((probe::http(ctx, stage, p, path)?, path, ev)));
    let head = format!("the image serves port {p} but has no HEALTHCHECK");
    let probe = if let Some((probe, path, evidence)) = http {
        finding.message = format!(
            "{head}; probe http://127.0.0.1:{p}{path} with {} (path: {evidence}; port: {port_ev})",
            probe.program
        );
        probe
    } else {
        // No path, or no program to request it with: a TCP connect probe.
        let (missing, no_probe) = match &path {
            Some((path, _)) => (
                format!("no curl, wget or language runtime that dopt knows the image has, to request {path} with"),
                "no bash or nc for a TCP probe either".to_string(),
            ),
            None => (
                format!("no evidence of an HTTP path that answers GET (no GET route in the build context's sources, no known server); {HOW_TO_PATH}"),
                format!("no evidence of an HTTP path that answers GET (no GET route in the build context's sources, no known server) and no runtime, bash or nc that dopt knows the image has, for a TCP probe; {HOW_TO_PATH}"),
            ),
        };
        let Some(probe) = probe::tcp(stage, p) else {
            finding.message = match &path {
                Some(_) => format!("{head} (no fix: {missing}; {no_probe})"),
                None => format!("{head} (no fix: {no_probe})"),
            };
            return Some(finding);
        };
        finding.message = format!(
            "{head}; probe with {} that port {p} accepts connections (port: {port_ev}). This checks that the server listens, not that it is healthy: {missing}",
            probe.program
        );
        probe
    };
    let line_text = format!(
        "{} {TIMINGS} CMD {}",
        text::keyword(file, "HEALTHCHECK"),
        probe.command
    );
    finding.fix = Some(Fix::unsafe_(vec![placement(file, stage, &line_text)]));
    Some(finding)
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

    const HC: &str = "HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ";

    fn with_ctx(src: &str, files: &[(&str, &str)]) -> crate::model::testing::Checked {
        check(&Healthcheck, src, Some(files))
    }

    #[test]
    fn route_in_sources_gives_the_path_and_port() {
        let src = "FROM node:20-slim\nCOPY . .\nEXPOSE 3000\nCMD [\"node\", \"server.js\"]\n";
        let js = "const port = process.env.PORT || 3000;\napp.get('/', h);\napp.get('/healthz', h);\napp.listen(port);\n";
        let c = with_ctx(src, &[("server.js", js)]);
        assert_eq!(
            c.fixed,
            format!("FROM node:20-slim\nCOPY . .\nEXPOSE 3000\n{HC}node -e \"require('http').get('http://127.0.0.1:3000/healthz', r => process.exit(r.statusCode < 400 ? 0 : 1)).on('error', () => process.exit(1))\"\nCMD [\"node\", \"server.js\"]\n")
        );
        assert!(
            c.findings[0].message.contains("server.js:3 (GET route)"),
            "{}",
            c.findings[0].message
        );
    }

    #[test]
    fn no_route_gives_a_tcp_probe_that_says_so() {
        let src = "FROM node:18-slim\nRUN apt-get update && apt-get install -y --no-install-recommends curl tini && rm -rf /var/lib/apt/lists/*\nENV PORT=80\nEXPOSE $PORT\nCMD [\"node\", \"server.js\"]";
        let c = check(&Healthcheck, src, None);
        assert!(
            c.fixed.contains(&format!(
                "{HC}node -e \"require('net').connect(80, '127.0.0.1')"
            )),
            "{}",
            c.fixed
        );
        assert!(c.findings[0].message.contains("not that it is healthy"));
        assert!(c.findings[0]
            .message
            .contains("options: { healthcheck: { path: /healthz } }"));
        // curl installed and a route: curl wins.
        let c = with_ctx(src, &[("server.js", "app.get('/', h);\napp.listen(80);\n")]);
        assert!(
            c.fixed
                .contains(&format!("{HC}curl -fsS http://127.0.0.1:80/ || exit 1\n")),
            "{}",
            c.fixed
        );
    }

    #[test]
    fn post_only_route_is_no_evidence() {
        let src = "FROM python:3.12-slim\nCOPY . .\nEXPOSE 5000\nCMD [\"flask\", \"run\", \"--host=0.0.0.0\"]\n";
        let c = with_ctx(
            src,
            &[(
                "app.py",
                "@app.route('/vote', methods=['POST'])\ndef v(): pass\n",
            )],
        );
        assert!(
            c.fixed
                .contains("socket.create_connection(('127.0.0.1', 5000), 3)"),
            "{}",
            c.fixed
        );
    }

    #[test]
    fn port_from_the_command_not_the_first_expose() {
        let src = "FROM python:3.11-slim\nRUN apt-get update && apt-get install -y curl\nEXPOSE 9000 80\nCMD [\"gunicorn\", \"app:app\", \"-b\", \"0.0.0.0:80\"]\n";
        let c = with_ctx(
            src,
            &[("app.py", "@app.route('/', methods=['POST','GET'])\n")],
        );
        assert!(
            c.fixed
                .contains(&format!("{HC}curl -fsS http://127.0.0.1:80/ || exit 1")),
            "{}",
            c.fixed
        );
        assert!(
            c.findings[0].message.contains("port: gunicorn --bind"),
            "{}",
            c.findings[0].message
        );
    }

    #[test]
    fn apt_installed_python_is_a_runtime() {
        let src = "FROM ubuntu:24.04\nRUN apt-get update && apt-get install -y python3 python3-flask\nCOPY app.py .\nEXPOSE 5000\nCMD [\"python3\", \"app.py\"]\n";
        let c = with_ctx(
            src,
            &[(
                "app.py",
                "app = Flask(__name__)\n@app.route('/')\ndef i(): pass\napp.run(host='0.0.0.0')\n",
            )],
        );
        assert!(c.fixed.contains(&format!("{HC}python3 -c \"import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:5000/', timeout=3)")), "{}", c.fixed);
    }

    #[test]
    fn distroless_runtime_in_exec_form() {
        let src = "FROM gcr.io/distroless/nodejs20-debian12\nCOPY . /app\nEXPOSE 8080\nCMD [\"/app/server.js\"]\n";
        let c = with_ctx(src, &[("server.js", "app.get('/ping', h)\n")]);
        assert!(c.fixed.contains(&format!("{HC}[\"/nodejs/bin/node\",\"-e\",\"require('http').get('http://127.0.0.1:8080/ping'")), "{}", c.fixed);
    }

    #[test]
    fn known_server_endpoint() {
        let c = check(
            &Healthcheck,
            "FROM jenkins/jenkins:lts\nRUN echo x\nEXPOSE 8080 50000\n",
            None,
        );
        assert!(
            c.findings[0].message.contains("/login"),
            "{}",
            c.findings[0].message
        );
        let c = check(&Healthcheck, "FROM debian:12\nRUN apt-get update && apt-get install -y curl\nEXPOSE 7700\nCMD [\"meilisearch\"]\n", None);
        assert!(
            c.fixed.contains(&format!(
                "{HC}curl -fsS http://127.0.0.1:7700/health || exit 1"
            )),
            "{}",
            c.fixed
        );
    }

    #[test]
    fn findings_without_fix() {
        for (src, why) in [
            ("FROM postgres:16\nEXPOSE 5432\n", "not HTTP"),
            (
                "FROM gcr.io/distroless/static-debian12\nEXPOSE 8080\nCMD [\"/app\"]\n",
                "no runtime, bash or nc",
            ),
            (
                "FROM busybox:1\nEXPOSE 8080\nCMD [\"/app\"]\n",
                "no runtime, bash or nc",
            ),
            (
                "FROM debian:12\nARG P=8080\nEXPOSE $P\nCMD [\"/app\"]\n",
                "build args",
            ),
            (
                "FROM debian:12\nEXPOSE 8080 9090\nCMD [\"/app\"]\n",
                "8080, 9090",
            ),
        ] {
            let c = check(&Healthcheck, src, None);
            assert_eq!(c.findings.len(), 1, "{src}");
            assert!(c.findings[0].fix.is_none(), "{src}");
            assert!(
                c.findings[0].message.contains(why),
                "{src}: {}",
                c.findings[0].message
            );
        }
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
            "FROM node:20\nEXPOSE 3000\nENTRYPOINT [\"/app\"]\nCMD [\"--help\"]\n",
            "FROM node:20\nEXPOSE 3000\nCMD [\"npm\", \"test\"]\n",
            "FROM node:20 AS base\nEXPOSE 3000\nCMD node x\nFROM base AS dev\nRUN npm i\n",
        ] {
            let c = check(&Healthcheck, src, None);
            assert!(c.findings.is_empty(), "{src}: {:#?}", c.findings);
        }
    }

    #[test]
    fn config_port_and_path_win() {
        let src = "FROM node:20-slim\nEXPOSE 8080 9090\nCMD [\"node\", \"s.js\"]\n";
        let file = crate::syntax::parse(src).unwrap();
        let profiles = crate::profiles::Profiles::embedded();
        let options: serde_yaml::Mapping =
            serde_yaml::from_str("healthcheck: { port: 9090, path: /ready }").unwrap();
        let findings = Healthcheck.run(&PassContext::new(&file, &profiles, None, &options));
        assert!(
            findings[0]
                .message
                .contains("probe http://127.0.0.1:9090/ready with node (path: options.healthcheck.path in .dopt.yaml; port: options.healthcheck.port in .dopt.yaml)"),
            "{}",
            findings[0].message
        );
        let c = check(&Healthcheck, src, None);
        assert!(
            c.findings[0].message.contains("port: N"),
            "{}",
            c.findings[0].message
        );
    }

    #[test]
    fn compose_healthcheck_and_target() {
        let src =
            "FROM node:20 AS prod\nEXPOSE 3000\nCMD node s.js\nFROM prod AS dev\nCMD npm run dev\n";
        let compose =
            "services:\n  web:\n    build: .\n    healthcheck:\n      test: [\"CMD\", \"true\"]\n";
        assert!(with_ctx(src, &[("compose.yaml", compose)])
            .findings
            .is_empty());
        let compose = "services:\n  web:\n    build:\n      context: .\n      target: prod\n";
        let c = with_ctx(
            src,
            &[
                ("compose.yaml", compose),
                ("s.js", "app.get('/', h);\napp.listen(3000);\n"),
            ],
        );
        assert_eq!(c.findings.len(), 1);
        assert!(c.fixed.contains("EXPOSE 3000\nHEALTHCHECK"), "{}", c.fixed);
    }

    /// DOP012 with the runtime evidence of `--verify` (listening ports read).
    fn with_ports(src: &str, listening: &[u16]) -> Vec<Finding> {
        let file = crate::syntax::parse(src).expect("parses");
        let profiles = crate::profiles::Profiles::embedded();
        let options = serde_yaml::Mapping::new();
        let runtime = crate::evidence::runtime::RuntimeEvidence {
            listening_ports: listening.to_vec(),
            ports_read: true,
            ..Default::default()
        };
        let mut ctx = PassContext::new(&file, &profiles, None, &options);
        ctx.runtime = Some(&runtime);
        Healthcheck.run(&ctx)
    }

    fn probe_line(findings: &[Finding]) -> String {
        let fix = findings[0]
            .fix
            .as_ref()
            .unwrap_or_else(|| panic!("no fix: {}", findings[0].message));
        fix.edits.iter().map(|e| e.content.clone()).collect()
    }

    #[test]
    fn runtime_ports_confirm_replace_or_refuse_the_static_port() {
        let node = "FROM node:20-slim\nCOPY . .\nEXPOSE 3000\nCMD [\"node\", \"server.js\"]\n";
        // Listening on the exposed port: confirmed.
        let f = with_ports(node, &[3000]);
        assert!(f[0].message.contains("listened on it"), "{}", f[0].message);
        assert!(probe_line(&f).contains("3000"));
        // Listening elsewhere: the port it really listens on.
        let f = with_ports(node, &[8080]);
        assert!(probe_line(&f).contains("8080"), "{}", probe_line(&f));
        assert!(f[0].message.contains("not on 3000"), "{}", f[0].message);
        // Several, none of them the exposed one: no fix, and they are named.
        let f = with_ports(node, &[80, 8080]);
        assert!(f[0].fix.is_none());
        assert!(f[0].message.contains("80, 8080"), "{}", f[0].message);
        // Two exposed ports, one listening: that one.
        let two = "FROM node:20-slim\nEXPOSE 3000 3001\nCMD [\"node\", \"server.js\"]\n";
        let f = with_ports(two, &[3001]);
        assert!(probe_line(&f).contains("3001"), "{}", probe_line(&f));
    }

    #[test]
    fn a_server_without_expose_gets_a_probe_only_from_runtime_evidence() {
        let src = "FROM python:3.12-slim\nCOPY app.py .\nCMD [\"python\", \"app.py\"]\n";
        assert!(check(&Healthcheck, src, None).findings.is_empty());
        let f = with_ports(src, &[5000]);
        assert_eq!(f.len(), 1);
        assert!(probe_line(&f).contains("5000"), "{}", probe_line(&f));
        assert!(f[0]
            .message
            .contains("the only port the running original listened on"));
        // A known non-server command: nothing, whatever it listens on.
        let cli = "FROM python:3.12-slim\nCMD [\"pytest\"]\n";
        assert!(with_ports(cli, &[5000]).is_empty());
    }
}
