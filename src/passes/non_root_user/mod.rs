//! DOP011 `non-root-user`: the final stage runs as root.

mod evidence;
mod fix;

use crate::fix::{Finding, Fix};
use crate::model::{BaseRef, Model, OsFamily, StageModel};
use crate::passes::{Pass, PassContext};
use crate::syntax::{Dockerfile, InstructionKind};

macro_rules! docs {
    () => {
        r#"## What it does
Checks that the final stage switches to a non-root `USER` before its `CMD` /
`ENTRYPOINT`, and offers to add one. The stage is the one that runs: the
`target:` of a compose service that builds the context, else the final stage;
a final development stage (`dev-envs` of Docker Dev Environments, `dev`,
`test`...) is not shipped and gets no finding.
A WebAssembly image (`ENTRYPOINT ["app.wasm"]`) gets no finding: a wasm
runtime runs the module, not a Linux process. Neither does a BuildKit frontend
image (a `LABEL moby.buildkit.frontend.*`): BuildKit starts a frontend with the
image's environment, entrypoint and working directory, never its user. Nor an
image whose program only exits (`true`, `/bin/true`, `false`, `:`, `exit 0`):
nothing runs long enough for its user to matter.

## Why is this bad?
A process running as root inside the container is root on the container's
filesystem and, after any container escape, much closer to root on the host.
Most applications need no privileges at run time.

## Example
```dockerfile
FROM node:20-slim
WORKDIR /app
COPY . .
RUN npm ci
CMD ["node", "server.js"]
```

Use instead:
```dockerfile
FROM node:20-slim
WORKDIR /app
COPY . .
RUN npm ci
RUN chown node:node /app
USER node
CMD ["node", "server.js"]
```

The user is one the image already has (the base image's service user from the
profiles: `node`, `www-data`, `nginx`, `nonroot`; `app` on .NET 8+ images,
named `USER $APP_UID` as Microsoft documents, which expands to its uid 1654),
one the Dockerfile creates but never switches to, or a new one `app` made with
the base image's own tools (`useradd` on Debian/Ubuntu, `adduser` on Alpine)
with uid and gid 10001. A user dopt creates is named numerically,
`USER 10001:10001`: Kubernetes `runAsNonRoot` refuses to start an image whose
user is a name ("cannot verify user is non-root"). When the file names its
users itself (a `USER node` in another stage), `USER app` follows its style. The user owns only what the
app writes: the WORKDIR and folders a RUN makes with `mkdir` (a non-recursive
`chown`, never a system folder such as `/`, `/tmp`, `/usr/**` or `/etc`), and
each VOLUME (chowned before the VOLUME instruction, since the classic builder
discards later changes). Application code stays owned by root. `USER` goes after
the last `RUN` (which may need root) and the last `USER`, before `CMD`.

The fix is made only when dopt can see enough. It reads the scripts that
`ENTRYPOINT`/`CMD` run when they come from the build context, and gives a
finding without a fix, naming what it found or could not check, when:
- a script comes from the context but the context does not hold it (or there is
  no context, as for stdin): dopt cannot know what it does;
- the start-up runs a script (`*.sh`, `*entrypoint*`, `start*`...) that no
  COPY/ADD of the file brings from the context: the base image (postgres's
  `docker-entrypoint.sh`, which drops to `postgres` with `gosu`), a RUN or
  another image made it, and dopt cannot read it. The official images'
  pass-through entrypoints (node's `docker-entrypoint.sh`, php's
  `docker-php-entrypoint`) are known and do not block the fix;
- the start-up runs a daemon that starts as root by design (`sshd`, `cron`,
  `apache2`/`httpd`, the `nginx` master, `pcscd`, `dockerd`, `supervisord`,
  syslog daemons, `postfix`) or a root-only action (installing packages,
  `crontab`, writing under `/etc` or `/var/log`, `mount`, `modprobe`, `chown`);
- it binds a port below 1024: `EXPOSE`, the port the base image's own server
  serves (profiles: `httpd`, `nginx`, `php:*-apache`), `--port`/`-p`/`--bind`/
  `listen` arguments, `ENV PORT`, or a program's well-known default (`coredns`
  53, `sshd` 22, `nginx` 80);
- state lives in `/root` (an ENV or the WORKDIR there);
- a VOLUME cannot be handed to the user (declared in an earlier stage, a system
  folder, or before the user exists);
- the OS of the base image is unknown;
- the image makes the program it starts setuid root (`chmod +s`, `chmod u+s`,
  `chmod 4755`, `install -m 4755`, `COPY --chmod=4755`, on its path or, for a
  program named without one, on the PATH): it runs as root whatever `USER`
  says, so a USER would claim a change it does not make;
- the start-up runs a build tool (`cargo run`, `mvn`/`./mvnw`, `gradle`,
  `dotnet run`, `sbt`, `lein`): it writes into the build output and caches that
  the image's build made as root;
- the whole build context is copied in and holds what the app writes at run
  time: a SQLite file (`*.sqlite3`, `*.db`) or a data folder (`tmp/`,
  `uploads/`, `media/`, `logs/`, `instance/`, `storage/`, `var/`) at its top,
  not excluded by `.dockerignore`: COPY makes it root's, and handing just those
  paths to the user is the author's call;
- a header comment says the file is generated (`DO NOT EDIT`, `THIS DOCKERFILE
  IS GENERATED VIA ...`): the USER belongs in the template or generator.

No finding at all when the image manages its user itself (`su`, `gosu`,
`su-exec`, `setpriv`, `runuser`, `chroot --userspec`, `s6-setuidgid`, `chpst`,
or a process supervisor, in the Dockerfile or in its start-up scripts), when it
is a base for other images (its CMD is a REPL, a shell or the base image's own
server such as `php-fpm` or `catalina.sh`, with no files of its own copied in),
or when the process is the base image's own entrypoint (e.g. `FROM postgres`),
or when the base image already switches to its own user and the file does not
switch back (.NET "chiseled" and distroless images end with `USER $APP_UID`).

With runtime evidence (`suggest --build`, `apply --verify`: dopt runs the
original first), the rule also uses what the running original did: no fix when
its main process already runs as a non-root user after the entrypoint
(`/proc/1/status`); the folders outside system folders that it wrote to at
start-up (`docker diff`) are created and handed to the user; and no fix, naming
the file, when it wrote into a system folder such as `/var/log`.

## Fix safety
Unsafe: the application may write to paths it no longer owns, or rely on root."#
    };
}

#[doc = docs!()]
pub struct NonRootUser;

impl Pass for NonRootUser {
    fn code(&self) -> &'static str {
        "DOP011"
    }
    fn name(&self) -> &'static str {
        "non-root-user"
    }
    fn summary(&self) -> &'static str {
        "final stage runs as root: switch to a non-root USER"
    }
    fn docs(&self) -> &'static str {
        docs!()
    }
    fn related(&self) -> &'static [&'static str] {
        &["hadolint DL3002", "trivy DS002", "checkov CKV_DOCKER_3"]
    }
    fn run(&self, ctx: &PassContext) -> Vec<Finding> {
        if ctx.split_pending() {
            return Vec::new(); // acts on the runtime stage once DOP013 has made it
        }
        let file = ctx.file;
        let model = ctx.model();
        // The compose `target:`, else the final stage; not a development
        // environment (`dev-envs`), whose user is the developer's choice.
        let Some(shipped) = crate::evidence::shipped::stage(ctx, model) else {
            return Vec::new();
        };
        let mut finding = check_stage(ctx, file, model, shipped.stage);
        if let Some(finding) = &mut finding {
            // A generated file: the change belongs in its template or generator.
            crate::evidence::generated::decline_fix_if_generated(
                finding,
                &file.source,
                "the USER",
                None,
            );
        }
        finding.into_iter().collect()
    }
}

/// Images whose entrypoint we know does not manage privileges itself.
fn base_entrypoint_is_generic(stage: &StageModel) -> bool {
    let Some(image) = &stage.root_image else {
        return false;
    };
    image.language().is_some()
        || matches!(
            stage.family,
            OsFamily::Scratch | OsFamily::Distroless | OsFamily::Busybox
        )
        || matches!(
            image.short_name(),
            "debian"
                | "ubuntu"
                | "alpine"
                | "buildpack-deps"
                | "fedora"
                | "centos"
                | "rockylinux"
                | "almalinux"
                | "amazonlinux"
        )
}

fn check_stage(
    ctx: &PassContext,
    file: &Dockerfile,
    model: &Model,
    stage: &StageModel,
) -> Option<Finding> {
    if stage.family == OsFamily::Windows
        || stage.shell.is_some()
        || runs_wasm(file, stage)
        || is_buildkit_frontend(file, model, stage)
    {
        return None;
    }
    // Only stages that run a process the Dockerfile chose.
    let entrypoint_in_file = stage.entrypoint.is_some();
    let cmd_in_file = stage.cmd.is_some();
    let runs_own_process = entrypoint_in_file || (cmd_in_file && base_entrypoint_is_generic(stage));
    if !runs_own_process {
        return None;
    }
    if runs_interactive_tool(file, stage) {
        return None;
    }
    let root = stage.runs_as_root();
    if root == Some(false) {
        return None;
    }
    // The base image already switches to its own user (.NET chiseled images
    // end with `USER $APP_UID`) and the file does not switch back.
    let base_user_is_default = stage.user.is_none()
        && stage
            .root_image
            .as_ref()
            .and_then(|i| ctx.profiles.user_for_image(&i.raw))
            .is_some_and(|u| u.is_default);
    if base_user_is_default {
        return None;
    }
    if stage.user.as_deref().is_some_and(|u| u.contains('$')) {
        return None;
    }
    if drops_privileges_itself(file, model, stage) {
        return None;
    }
    // Runtime evidence (--verify): the main process of the running original is
    // not root after its entrypoint, so it drops privileges itself.
    if ctx.runtime.and_then(|r| r.uid).is_some_and(|uid| uid != 0) {
        return None;
    }
    let startup = evidence::Startup::gather(ctx, file, model, stage);
    // The entrypoint (or a script it runs) switches users itself.
    if startup.dropper().is_some() {
        return None;
    }
    // The program only exits (`true`, `exit 0`): nothing runs long enough for
    // its user to matter.
    if only_exits(stage, &startup) {
        return None;
    }
    if is_meant_as_base(ctx, file, stage) {
        return None;
    }
    let from = &file.instructions[stage.from_instruction];
    let span = match stage.user_instruction {
        Some(u) if u >= stage.from_instruction => {
            let inst = &file.instructions[u];
            crate::syntax::Span::new(inst.keyword_span.start, inst.args_span.end)
        }
        _ => match &from.kind {
            InstructionKind::From(f) => f.image.span,
            _ => from.keyword_span,
        },
    };
    let mut finding = Finding {
        code: "DOP011",
        name: "non-root-user",
        message: String::new(),
        span,
        fix: None,
    };
    if root.is_none() {
        let base = stage
            .root_image
            .as_ref()
            .map(|i| i.raw.clone())
            .unwrap_or_default();
        finding.message = format!(
            "the final stage sets no USER; unless base image `{base}` sets a non-root user, the container runs as root"
        );
        return Some(finding);
    }
    let mut reasons = no_fix_reasons(ctx, file, stage, &startup);
    // Runtime evidence (--verify): what the running original wrote at start-up.
    let (runtime_dirs, system_writes) = ctx
        .runtime
        .map(|r| r.write_folders(fix::is_system_dir))
        .unwrap_or_default();
    if !system_writes.is_empty() {
        reasons.push(format!(
            "the running original writes {} at start-up (docker diff), in a system folder a non-root user cannot write",
            system_writes.join(", ")
        ));
    }
    if !reasons.is_empty() {
        finding.message = format!(
            "the final stage runs as root; no USER added because {}",
            reasons.join("; ")
        );
        return Some(finding);
    }
    let Some(choice) = fix::choose_user(ctx, file, stage) else {
        let family = stage.family.as_str();
        finding.message = format!(
            "the final stage runs as root; add a non-root USER (no fix: cannot tell how to create a user on a `{family}` base)"
        );
        return Some(finding);
    };
    let edits = match fix::build_edits(file, stage, &choice, &runtime_dirs) {
        Ok(edits) => edits,
        Err(why) => {
            finding.message = format!("the final stage runs as root; no USER added because {why}");
            return Some(finding);
        }
    };
    if !fix::takes_effect(&file.source, &edits, &choice) {
        finding.message = "the final stage runs as root; no USER added because dopt could not place one that takes effect".to_string();
        return Some(finding);
    }
    let checked = if startup.scripts.is_empty() {
        String::new()
    } else {
        let names: Vec<String> = startup
            .scripts
            .iter()
            .map(|s| format!("`{}`", s.context_path))
            .collect();
        format!(
            " ({} read: no privilege changes, root-only actions or low ports)",
            names.join(", ")
        )
    };
    finding.message = match &choice.create {
        Some(_) if choice.switch_to != choice.name => format!(
            "the final stage runs as root; create user `{}` and switch to it before the container starts, as the numeric `USER {}` that Kubernetes `runAsNonRoot` can verify{checked}",
            choice.name, choice.switch_to
        ),
        Some(_) => format!(
            "the final stage runs as root; create user `{}` and switch to it before the container starts{checked}",
            choice.name
        ),
        None if choice.switch_to != choice.name => format!(
            "the final stage runs as root; switch to the image's non-root user `{}` with its documented `USER {}`{checked}",
            choice.name, choice.switch_to
        ),
        None if choice.name.contains(':') => format!(
            "the final stage runs as root; switch to the unprivileged uid:gid `{}`, which needs no entry in /etc/passwd{checked}",
            choice.name
        ),
        None => format!(
            "the final stage runs as root; switch to the existing non-root user `{}`{checked}",
            choice.name
        ),
    };
    finding.fix = Some(Fix::unsafe_(edits));
    Some(finding)
}

/// Folders in the build context that hold what an app writes at run time.
const DATA_DIRS: &[&str] = &[
    "tmp", "uploads", "upload", "media", "logs", "log", "instance", "storage", "var",
];

/// A SQLite database or a run-time data folder (uploads, logs, Laravel's
/// `storage/`) at the top of the build context, copied in with the whole
/// context: the app writes there, but COPY makes it root's, and a chown of the
/// WORKDIR does not reach inside it.
fn writable_data_in_context(ctx: &PassContext, stage: &StageModel) -> Option<String> {
    let context = ctx.build_context?;
    let copy = stage
        .copies
        .iter()
        .find(|c| c.whole_context && c.from.is_none() && c.chown.is_none())?;
    let ignore = crate::docker::dockerignore::DockerIgnore::from_dir(context.path()).ok();
    let mut found: Vec<String> = Vec::new();
    for e in std::fs::read_dir(context.path()).ok()?.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let Ok(kind) = e.file_type() else { continue };
        if ignore.as_ref().is_some_and(|i| i.is_excluded(&name)) {
            continue;
        }
        if kind.is_dir() && DATA_DIRS.contains(&name.as_str()) {
            found.push(format!("{name}/"));
        } else if kind.is_file()
            && [".sqlite3", ".sqlite", ".db"]
                .iter()
                .any(|x| name.ends_with(x))
        {
            found.push(name);
        }
    }
    if found.is_empty() {
        return None;
    }
    found.sort();
    let dest = copy.dest_resolved.as_deref().unwrap_or(&copy.dest);
    Some(format!(
        "the build context holds {}, which the app writes at run time, and the COPY of the whole context into `{dest}` makes {} root's: hand {} to the user (`COPY --chown`, or a `chown -R` of just {}), then add USER",
        found.join(", "),
        if found.len() == 1 { "it" } else { "them" },
        if found.len() == 1 { "it" } else { "them" },
        if found.len() == 1 { "that path" } else { "those paths" },
    ))
}

/// Why the image may need root at run time, or what dopt could not check.
fn no_fix_reasons(
    ctx: &PassContext,
    file: &Dockerfile,
    stage: &StageModel,
    startup: &evidence::Startup,
) -> Vec<String> {
    let mut reasons = Vec::new();
    if let Some((how, program)) = setuid_program(file, ctx.model(), stage, startup) {
        reasons.push(format!(
            "`{how}` makes `{program}`, which the container starts, setuid root: it runs as root whatever USER says, so a USER would claim a change it does not make (drop the setuid bit first)"
        ));
    }
    for s in startup.unreadable() {
        if !s.from_context {
            let base = stage
                .root_image
                .as_ref()
                .map_or("the base image".to_string(), |i| {
                    format!("the base image `{}`", i.raw)
                });
            reasons.push(format!(
                "`{}` runs `{}`, which no COPY or ADD of this file brings from the build context ({base}, a RUN or another image provides it): cannot check whether it needs root or switches users itself",
                startup_instruction(stage), s.image_path
            ));
            continue;
        }
        reasons.push(match ctx.build_context {
            Some(_) => format!(
                "`{}` runs `{}`, copied from `{}`, which the build context does not hold: cannot check whether it needs root or switches users itself",
                startup_instruction(stage), s.image_path, s.context_path
            ),
            None => format!(
                "`{}` runs `{}` from the build context, and dopt was given no build context: cannot check whether it needs root or switches users itself",
                startup_instruction(stage), s.image_path
            ),
        });
    }
    if let Some((w, d)) = startup.root_daemon() {
        reasons.push(format!("{w} starts `{d}`, which runs as root by design"));
    }
    if let Some((w, t)) = startup.root_tool() {
        reasons.push(format!(
            "{w} runs `{t}`, which needs root (raw sockets, devices or the Docker socket)"
        ));
    }
    if let Some(why) = runs_as_the_caller(file, stage) {
        reasons.push(why);
    }
    if let Some(e) = stage.exposed.iter().find(|p| p.port.is_none()) {
        reasons.push(format!(
            "EXPOSE {} does not resolve to a number: cannot check that the port is >= 1024",
            e.raw
        ));
    }
    if let Some((w, a)) = startup.root_action() {
        reasons.push(format!("{w} runs {a}, which needs root at run time"));
    }
    if let Some(why) = writable_data_in_context(ctx, stage) {
        reasons.push(why);
    }
    if let Some((w, t)) = startup.build_tool() {
        reasons.push(format!(
            "{w} runs `{t}`, a build tool that writes into the build output and caches the image's build made as root (`target/`, `.gradle/`, `obj/`), which another user cannot write; run the built program instead (a build stage), then add USER"
        ));
    }
    // Ports below 1024.
    let mut ports: Vec<(u16, String)> = stage
        .exposed
        .iter()
        .filter_map(|p| p.port.filter(|n| *n < 1024))
        .map(|n| (n, format!("it EXPOSEs port {n}")))
        .collect();
    ports.extend(startup.low_ports());
    let keeps_base_cmd = stage.cmd.is_none();
    let cmd_program = stage.cmd.and_then(|c| match &file.instructions[c].kind {
        InstructionKind::Cmd(c) => c
            .rough_argv()
            .first()
            .map(|p| p.rsplit('/').next().unwrap_or(p).to_string()),
        _ => None,
    });
    for facts in evidence::image_facts(ctx, stage) {
        // Images without a server of their own (a runtime's default port) serve
        // their port whatever the CMD, unless the file sets the URLs itself.
        let overridden = stage
            .env
            .iter()
            .any(|(k, _)| k == "ASPNETCORE_URLS" || k == "ASPNETCORE_HTTP_PORTS");
        let runs_server = (facts.own_commands.is_empty() && !overridden)
            || keeps_base_cmd
            || cmd_program
                .as_deref()
                .is_some_and(|p| facts.own_commands.iter().any(|c| c == p));
        if runs_server {
            for &port in facts.serves_ports.iter().filter(|p| **p < 1024) {
                ports.push((
                    port,
                    format!("the base image's server listens on port {port}"),
                ));
            }
        }
    }
    for (name, value) in &stage.env {
        let names_a_port = matches!(
            name.as_str(),
            "PORT" | "HTTP_PORT" | "LISTEN_PORT" | "SERVER_PORT" | "APP_PORT"
        ) || name == "ASPNETCORE_URLS"
            || name == "ASPNETCORE_HTTP_PORTS";
        if !names_a_port {
            continue;
        }
        // `80`, `http://+:80;https://+:443`, `80;8080`
        let value = crate::model::unquote(value);
        let low = value
            .split(';')
            .filter_map(|u| {
                u.rsplit(':')
                    .next()?
                    .trim_end_matches('/')
                    .parse::<u16>()
                    .ok()
            })
            .find(|n| *n < 1024);
        if let Some(n) = low {
            ports.push((n, format!("ENV {name}={value}")));
        }
    }
    if !ports.is_empty() {
        let mut whys: Vec<&str> = ports.iter().map(|(_, w)| w.as_str()).collect();
        whys.dedup();
        reasons.push(format!(
            "it binds a port below 1024 ({}), which a non-root user cannot bind without CAP_NET_BIND_SERVICE (move the app to a port >= 1024, then add USER)",
            whys.join(", ")
        ));
    }
    // State kept under /root (e.g. `MAVEN_CONFIG=/root/.m2`, a tool meant to
    // have files bind-mounted into /root) is unusable for another user.
    let in_root = |v: &str| v == "/root" || v.starts_with("/root/");
    if let Some((name, _)) = stage.env.iter().find(|(_, v)| in_root(v)) {
        reasons.push(format!(
            "ENV {name} points into /root, which another user cannot use"
        ));
    } else if stage.workdir.as_deref().is_some_and(in_root) {
        reasons.push("the WORKDIR is in /root, which another user cannot use".to_string());
    }
    // VOLUMEs of the stages this one is built on: their chown would have to be
    // made there, before the user exists.
    let own: Vec<String> = fix::stage_volumes(file, stage)
        .into_iter()
        .flat_map(|(_, v)| v)
        .collect();
    if let Some(v) = volumes(file, ctx.model(), stage)
        .into_iter()
        .find(|v| !own.contains(v) && !chowned_by_a_run(file, stage, v))
    {
        reasons.push(format!(
            "VOLUME {v} is declared in an earlier stage and would stay owned by root (chown it before the VOLUME, then add USER)"
        ));
    }
    reasons
}

/// Images meant to run with the caller's uid: command-line tools that work on
/// files mounted from the host (`CMD ["--help"]`), desktop applications.
fn runs_as_the_caller(file: &Dockerfile, stage: &StageModel) -> Option<String> {
    if let Some(cmd) = stage.cmd {
        if let InstructionKind::Cmd(c) = &file.instructions[cmd].kind {
            let argv = c.rough_argv();
            let help = !argv.is_empty()
                && argv.iter().all(|a| {
                    matches!(
                        a.as_str(),
                        "--help" | "-h" | "help" | "--version" | "-version" | "version" | "-help"
                    )
                });
            let usage = argv.first().is_some_and(|p| p == "echo");
            if help || usage {
                return Some(format!(
                    "CMD `{}` shows a command-line tool run with the caller's arguments, often on files mounted from the host that a fixed user may not be able to write (such images are run with `docker run --user`)",
                    argv.join(" ")
                ));
            }
        }
    }
    if let Some(why) = documented_usage(file) {
        return Some(why);
    }
    if let Some(p) = evidence::desktop_package(stage) {
        return Some(format!(
            "it installs `{p}`: a desktop application using the host's display and devices, meant to run with the caller's uid (`docker run --user`)"
        ));
    }
    packaged_tool(file, stage)
}

/// An image that packages a tool rather than an app of its own: nothing is
/// copied from the build context or from a stage built here (everything is
/// installed or downloaded), no port is exposed, and the command is the
/// installed program. Such images
/// (`kicad`, `beets`, `makemkv`, `jq`...) run on the caller's files, display
/// or devices, usually with `docker run --user`; a fixed user may not be able
/// to read or write what is mounted, or reach the devices.
fn packaged_tool(file: &Dockerfile, stage: &StageModel) -> Option<String> {
    if !stage.exposed.is_empty() {
        return None;
    }
    // Files of its own: from the build context, or built in a stage of this
    // file (`COPY --from=build`). A `--from` naming an image is a download.
    let copies_own_files = file.instructions.iter().any(|inst| match &inst.kind {
        InstructionKind::Copy(args) | InstructionKind::Add(args) => match inst.flag("from") {
            Some(from) => from.value.as_deref().is_some_and(|f| {
                file.stages().iter().any(|s| {
                    s.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(f))
                        || f.parse::<usize>().is_ok()
                })
            }),
            None => args.sources.iter().any(|w| {
                let v = w.value.trim_matches(['"', '\'']);
                !(v.starts_with("http://") || v.starts_with("https://") || v.starts_with("git@"))
            }),
        },
        _ => false,
    });
    if copies_own_files {
        return None;
    }
    let command = stage.entrypoint.or(stage.cmd)?;
    let argv = match &file.instructions[command].kind {
        InstructionKind::Entrypoint(c) | InstructionKind::Cmd(c) => c.rough_argv(),
        _ => return None,
    };
    let program = argv.first()?;
    let program = program.rsplit('/').next().unwrap_or(program);
    Some(format!(
        "it packages the tool `{program}` (installed or downloaded; no files of its own from the build context, no EXPOSE): such images run on the caller's files, display or devices, usually with `docker run --user`, and a fixed user may not be able to use what is mounted"
    ))
}

/// What a usage comment (`# docker run ...`, with its continuation lines) says
/// about the user the image is meant to run as.
fn documented_usage(file: &Dockerfile) -> Option<String> {
    let mut usage = String::new();
    let mut inside = false;
    for line in file.source.lines() {
        let Some(comment) = line.trim_start().strip_prefix('#') else {
            inside = false;
            continue;
        };
        let comment = comment.trim();
        if comment.contains("docker run") {
            inside = true;
        }
        if inside {
            usage.push_str(comment);
            usage.push(' ');
            inside = comment.ends_with('\\') || comment.contains("\\ #");
        }
    }
    let words: Vec<&str> = usage.split_whitespace().collect();
    if let Some(w) = words
        .iter()
        .find(|w| w.contains(":/root/") || w.ends_with(":/root") || w.contains(":/root:"))
    {
        return Some(format!(
            "its usage comment bind-mounts into /root (`{w}`), which another user cannot use"
        ));
    }
    let flag = words.iter().find(|w| {
        matches!(
            **w,
            "--privileged" | "--device" | "--cap-add" | "-u" | "--user"
        ) || w.starts_with("--device=")
            || w.starts_with("--cap-add=")
            || w.starts_with("--user=")
            || w.contains(".X11-unix")
    })?;
    Some(format!(
        "its usage comment runs it with `{flag}`: it needs the host's devices, capabilities or the caller's uid"
    ))
}

/// `ENTRYPOINT` if the stage has one, else `CMD`.
fn startup_instruction(stage: &StageModel) -> &'static str {
    if stage.entrypoint.is_some() {
        "ENTRYPOINT"
    } else {
        "CMD"
    }
}

/// A BuildKit frontend image (a `LABEL moby.buildkit.frontend.*` in the stage
/// or the stages it is built on): BuildKit starts a frontend with the image's
/// Env, Entrypoint and WorkingDir only, never its User, and nobody
/// `docker run`s it, so a USER has no effect.
fn is_buildkit_frontend(file: &Dockerfile, model: &Model, stage: &StageModel) -> bool {
    stage_chain(model, stage).into_iter().any(|s| {
        file.instructions[model.stages[s].instructions.clone()]
            .iter()
            .any(|inst| match &inst.kind {
                InstructionKind::Label(kvs) => kvs.iter().any(|kv| {
                    crate::model::unquote(&kv.key).starts_with("moby.buildkit.frontend.")
                }),
                _ => false,
            })
    })
}

/// True when what the container starts only exits: `true`, `/bin/true`,
/// `false`, `:`, `exit 0` (also inside `sh -c`).
fn only_exits(stage: &StageModel, startup: &evidence::Startup) -> bool {
    // The ENTRYPOINT, when there is one, is the program (the CMD its arguments).
    let what = if stage.entrypoint.is_some() {
        "ENTRYPOINT"
    } else {
        "CMD"
    };
    let mut commands = startup
        .commands
        .iter()
        .filter(|(w, _)| w == what)
        .map(|(_, c)| c)
        .filter(|c| {
            !(evidence::is_shell(crate::model::commands::program(c)) && c.iter().any(|a| a == "-c"))
        })
        .peekable();
    commands.peek().is_some()
        && commands.all(|c| {
            matches!(
                crate::model::commands::program(c),
                "true" | "false" | ":" | "exit"
            )
        })
}

/// The setuid root program the container starts, if the image makes it so
/// (`chmod +s`, `chmod u+s`, `chmod 4755`, `install -m 4755`, `COPY
/// --chmod=4755` in this stage or the stages it is built on): (the command that
/// sets the bit, the program's path). A program named without a path is found
/// on the PATH.
fn setuid_program(
    file: &Dockerfile,
    model: &Model,
    stage: &StageModel,
    startup: &evidence::Startup,
) -> Option<(String, String)> {
    let mut targets: Vec<(String, String)> = Vec::new();
    for s in stage_chain(model, stage) {
        let st = &model.stages[s];
        for i in st.instructions.clone() {
            let inst = &file.instructions[i];
            match &inst.kind {
                InstructionKind::Run(_) => {
                    for c in crate::model::commands::simple_commands(&inst.logical.text) {
                        for t in setuid_targets(&c) {
                            targets.push((c.join(" "), t));
                        }
                    }
                }
                InstructionKind::Copy(_) | InstructionKind::Add(_) => {
                    let Some(mode) = inst.flag("chmod").and_then(|f| f.value.clone()) else {
                        continue;
                    };
                    if !is_setuid_mode(&crate::model::unquote(&mode)) {
                        continue;
                    }
                    let Some(copy) = st.copies.iter().find(|c| c.instruction == i) else {
                        continue;
                    };
                    let Some(dest) = copy.dest_resolved.as_deref() else {
                        continue;
                    };
                    let keyword = if copy.is_add { "ADD" } else { "COPY" };
                    let how = format!("{keyword} --chmod={mode}");
                    targets.push((how.clone(), dest.to_string()));
                    for src in &copy.sources {
                        let base = src.trim_end_matches('/').rsplit('/').next().unwrap_or(src);
                        targets.push((
                            how.clone(),
                            format!("{}/{base}", dest.trim_end_matches('/')),
                        ));
                    }
                }
                _ => {}
            }
        }
    }
    if targets.is_empty() {
        return None;
    }
    // The PATH of the stage, and the usual one (the base image's).
    let path_dirs: Vec<&str> = stage
        .var("PATH")
        .unwrap_or("")
        .split(':')
        .map(|d| d.trim_end_matches('/'))
        .chain(crate::model::commands::DEFAULT_PATH.iter().copied())
        .collect();
    for (_, c) in &startup.commands {
        let Some(p) = c.first() else { continue };
        let found = targets.iter().find(|(_, t)| {
            let t = t.trim_end_matches('/');
            if p.contains('/') {
                crate::model::join_path(stage.workdir.as_deref().or(Some("/")), p)
                    .is_some_and(|abs| abs.trim_end_matches('/') == t)
            } else {
                t.rsplit_once('/')
                    .is_some_and(|(dir, base)| base == p && path_dirs.contains(&dir))
            }
        });
        if let Some((how, t)) = found {
            return Some((how.clone(), t.clone()));
        }
    }
    None
}

/// The files a command makes setuid: `chmod [opts] MODE FILE...` with a mode
/// that sets the setuid bit, `install -m MODE ... DEST`.
fn setuid_targets(argv: &[String]) -> Vec<String> {
    let abs = |a: &String| a.starts_with('/').then(|| a.clone());
    match crate::model::commands::program(argv) {
        "chmod" => {
            let mut args = argv[1..]
                .iter()
                .filter(|a| !a.starts_with('-') || is_setuid_mode(a));
            match args.next() {
                Some(mode) if is_setuid_mode(mode) => args.filter_map(abs).collect(),
                _ => Vec::new(),
            }
        }
        "install" => {
            let mut mode = None;
            let mut operands = Vec::new();
            let mut it = argv[1..].iter();
            while let Some(a) = it.next() {
                if a == "-m" || a == "--mode" {
                    mode = it.next().cloned();
                } else if let Some(m) = a.strip_prefix("--mode=") {
                    mode = Some(m.to_string());
                } else if let Some(m) = a.strip_prefix("-m") {
                    mode = Some(m.to_string());
                } else if !a.starts_with('-') {
                    operands.push(a.clone());
                }
            }
            if !mode.is_some_and(|m| is_setuid_mode(&m)) || operands.len() < 2 {
                return Vec::new();
            }
            let dest = operands.pop().unwrap_or_default();
            let mut out: Vec<String> = operands
                .iter()
                .map(|src| {
                    let base = src.rsplit('/').next().unwrap_or(src);
                    format!("{}/{base}", dest.trim_end_matches('/'))
                })
                .collect();
            out.push(dest);
            out.into_iter().filter(|t| t.starts_with('/')).collect()
        }
        _ => Vec::new(),
    }
}

/// A chmod mode that sets the setuid bit: `+s`, `u+s`, `a+s`, `u=rwxs`, or an
/// octal mode with 4000 (`4755`, `04755`, `6755`).
fn is_setuid_mode(mode: &str) -> bool {
    if !mode.is_empty() && mode.chars().all(|c| ('0'..='7').contains(&c)) {
        return u32::from_str_radix(mode, 8).is_ok_and(|m| m & 0o4000 != 0);
    }
    mode.split(',').any(|clause| {
        let Some(op) = clause.find(['+', '=']) else {
            return false;
        };
        let who = &clause[..op];
        who.chars().all(|c| matches!(c, 'u' | 'g' | 'o' | 'a'))
            && (who.is_empty() || who.contains('u') || who.contains('a'))
            && clause[op..].contains('s')
    })
}

/// A WebAssembly image (`ENTRYPOINT ["app.wasm"]` on scratch): a wasm runtime
/// runs the module, not a Linux process, so a USER means nothing there.
fn runs_wasm(file: &Dockerfile, stage: &StageModel) -> bool {
    [stage.entrypoint, stage.cmd]
        .into_iter()
        .flatten()
        .any(|i| match &file.instructions[i].kind {
            InstructionKind::Cmd(c) | InstructionKind::Entrypoint(c) => {
                c.rough_argv().first().is_some_and(|p| p.ends_with(".wasm"))
            }
            _ => false,
        })
}

/// An image that is a base for others: its CMD is a base image's own server
/// (`php-fpm`, `catalina.sh`) and it copies no application of its own (only
/// programs, entrypoint scripts and configuration).
pub(crate) fn is_meant_as_base(ctx: &PassContext, file: &Dockerfile, stage: &StageModel) -> bool {
    let Some(cmd) = stage.cmd else {
        return false;
    };
    let InstructionKind::Cmd(command) = &file.instructions[cmd].kind else {
        return false;
    };
    let argv = command.rough_argv();
    let Some(p) = argv.first().map(|p| p.rsplit('/').next().unwrap_or(p)) else {
        return false;
    };
    if !evidence::own_commands(ctx).any(|c| c == p) {
        return false;
    }
    stage.copies.iter().all(|c| {
        let Some(dest) = c.dest_resolved.as_deref() else {
            return false;
        };
        let dest = dest.trim_end_matches('/');
        let parent = dest.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
        !c.whole_context
            && (parent.is_empty()
                || [
                    "/usr/local/bin",
                    "/usr/local/sbin",
                    "/usr/bin",
                    "/usr/sbin",
                    "/bin",
                    "/sbin",
                    "/etc",
                    "/usr/local/etc",
                ]
                .iter()
                .any(|d| dest == *d || dest.starts_with(&format!("{d}/"))))
    })
}

/// True when the container starts a bare interpreter or shell (`python3`,
/// `irb`, `bash`, `php -a`): a toolbox or base image that others build on, where
/// root is expected by the Dockerfiles that extend it.
fn runs_interactive_tool(file: &Dockerfile, stage: &StageModel) -> bool {
    // An ENTRYPOINT such as `docker-entrypoint.sh` or `tini --` still ends up
    // running the CMD, so only the CMD matters.
    let Some(cmd) = stage.cmd else {
        return false;
    };
    let argv = match &file.instructions[cmd].kind {
        InstructionKind::Cmd(command) => command.rough_argv(),
        _ => return false,
    };
    let Some(program) = argv.first().map(|p| p.rsplit('/').next().unwrap_or(p)) else {
        return false;
    };
    let interpreter = program
        .trim_end_matches(|c: char| c.is_ascii_digit() || c == '.')
        .to_string();
    matches!(
        interpreter.as_str(),
        "python"
            | "pypy"
            | "irb"
            | "julia"
            | "node"
            | "bash"
            | "sh"
            | "ash"
            | "zsh"
            | "php"
            | "perl"
            | "jshell"
            | "iex"
            | "erl"
            | "ghci"
            | "R"
            | "ruby"
            | "lua"
            | "swift"
            | "clojure"
            | "lein"
            | "sbcl"
    ) && argv[1..].iter().all(|a| a.starts_with('-'))
}

/// Entrypoints that switch users themselves, and process supervisors that start
/// each program as its own user, break (or lose their point) under USER.
fn drops_privileges_itself(file: &Dockerfile, model: &Model, stage: &StageModel) -> bool {
    const DROPPERS: &[&str] = &[
        "gosu",
        "su-exec",
        "setpriv",
        "chpst",
        "runuser",
        "s6-setuidgid",
        "supervisor",
        "supervisord",
        "s6-overlay",
        "s6-svscan",
        "runit",
        "runsvdir",
        "systemd",
    ];
    if DROPPERS.iter().any(|d| stage.has_package(d)) {
        return true;
    }
    // Look through every stage this one is built on.
    stage_chain(model, stage).iter().any(|&s| {
        let st = &model.stages[s];
        file.instructions[st.instructions.clone()]
            .iter()
            .any(|inst| {
                matches!(
                    inst.kind,
                    InstructionKind::Run(_)
                        | InstructionKind::Entrypoint(_)
                        | InstructionKind::Cmd(_)
                ) && {
                    let text = &inst.logical.text;
                    DROPPERS.iter().any(|d| {
                        text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                            .any(|w| w == *d)
                    })
                }
            })
    })
}

/// True if a RUN of the stage chowns `path` (or a parent of it).
fn chowned_by_a_run(file: &Dockerfile, stage: &StageModel, path: &str) -> bool {
    stage.runs.iter().any(|&r| {
        let script = &file.instructions[r].logical.text;
        crate::model::commands::simple_commands(script)
            .iter()
            .filter(|c| crate::model::commands::program(c) == "chown")
            .any(|c| {
                c.iter().skip(1).any(|arg| {
                    let arg = arg.trim_end_matches('/');
                    arg.starts_with('/') && (path == arg || path.starts_with(&format!("{arg}/")))
                })
            })
    })
}

/// The stage and the stages it is built on (`FROM <stage>`), latest first.
fn stage_chain(model: &Model, stage: &StageModel) -> Vec<usize> {
    let mut chain = vec![stage.index];
    let mut cur = stage;
    while let BaseRef::Stage(p) = cur.base {
        if chain.contains(&p) {
            break;
        }
        chain.push(p);
        cur = &model.stages[p];
    }
    chain
}

/// Absolute paths declared with VOLUME in the stage (and the stages it builds on).
fn volumes(file: &Dockerfile, model: &Model, stage: &StageModel) -> Vec<String> {
    let mut out = Vec::new();
    let instructions = stage_chain(model, stage)
        .into_iter()
        .flat_map(|s| &file.instructions[model.stages[s].instructions.clone()]);
    for inst in instructions {
        if let InstructionKind::Volume(words) = &inst.kind {
            for w in words {
                let v = crate::model::unquote(&w.value);
                let v = v.trim_matches(|c| c == '[' || c == ']' || c == ',');
                let v = crate::model::unquote(v);
                if v.starts_with('/') {
                    out.push(v.trim_end_matches('/').to_string());
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::check;

    fn fixed(src: &str) -> String {
        check(&NonRootUser, src, None).fixed
    }

    #[test]
    fn node_image_uses_node_user_and_owns_only_the_workdir() {
        let src = "FROM node:20-slim\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\n# start\nCMD [\"node\", \"server.js\"]\n";
        let c = check(&NonRootUser, src, None);
        assert_eq!(c.findings.len(), 1);
        assert_eq!(
            c.fixed,
            "FROM node:20-slim\nWORKDIR /app\nRUN chown node:node /app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\nUSER node\n# start\nCMD [\"node\", \"server.js\"]\n"
        );
    }

    #[test]
    fn debian_creates_a_user() {
        let src = "FROM python:3.12-slim\r\nWORKDIR /srv\r\nCOPY app.py .\r\nRUN pip install flask\r\nCMD python app.py\r\n";
        assert_eq!(
            fixed(src),
            "FROM python:3.12-slim\r\nRUN groupadd --system --gid 10001 app && useradd --system --gid app --uid 10001 --create-home --shell /usr/sbin/nologin app\r\nWORKDIR /srv\r\nRUN chown app:app /srv\r\nCOPY app.py .\r\nRUN pip install flask\r\nUSER 10001:10001\r\nCMD python app.py\r\n"
        );
    }

    #[test]
    fn alpine_creates_a_user_with_adduser() {
        let src = "from alpine:3.19\nrun apk add --no-cache curl\ncopy app /bin/app\nentrypoint [\"/bin/app\"]";
        assert_eq!(
            fixed(src),
            "from alpine:3.19\nrun addgroup -S -g 10001 app && adduser -S -D -u 10001 -G app app\nrun apk add --no-cache curl\ncopy app /bin/app\nuser 10001:10001\nentrypoint [\"/bin/app\"]"
        );
    }

    #[test]
    fn uses_a_user_created_but_never_switched_to() {
        let src =
            "FROM debian:12\nRUN useradd -r web\nCOPY app.jar /app.jar\nRUN true\nENTRYPOINT [\"java\", \"-jar\", \"/app.jar\"]";
        assert_eq!(
            fixed(src),
            "FROM debian:12\nRUN useradd -r web\nCOPY app.jar /app.jar\nRUN true\nUSER web\nENTRYPOINT [\"java\", \"-jar\", \"/app.jar\"]"
        );
    }

    #[test]
    fn scratch_and_distroless() {
        let src = "FROM golang:1.22 AS build\nRUN go build -o /out/app .\nFROM scratch\nCOPY --from=build /out/app /app\nENTRYPOINT [\"/app\"]\n";
        assert!(fixed(src).ends_with(
            "COPY --from=build /out/app /app\nUSER 65534:65534\nENTRYPOINT [\"/app\"]\n"
        ));
        let src = "FROM gcr.io/distroless/static-debian12\nCOPY app /\nCMD [\"/app\"]\n";
        let c = check(&NonRootUser, src, Some(&[("app", "\u{7f}ELF\0binary")]));
        assert_eq!(
            c.fixed,
            "FROM gcr.io/distroless/static-debian12\nCOPY app /\nUSER nonroot\nCMD [\"/app\"]\n"
        );
        // Without the context, a start script could need root.
        let src = "FROM debian:12\nCOPY start.sh /\nCMD [\"/start.sh\"]\n";
        let c = check(&NonRootUser, src, None);
        assert!(c.findings[0].fix.is_none());
        assert!(
            c.findings[0].message.contains("no build context"),
            "{}",
            c.findings[0].message
        );
    }

    #[test]
    fn low_port_gives_finding_without_fix() {
        let src = "FROM node:20\nEXPOSE 80\nCMD node server.js\n";
        let c = check(&NonRootUser, src, None);
        assert_eq!(c.findings.len(), 1);
        assert!(c.findings[0].fix.is_none());
        assert!(
            c.findings[0].message.contains("80"),
            "{}",
            c.findings[0].message
        );
    }

    #[test]
    fn state_in_root_home_gives_finding_without_fix() {
        let src = "FROM eclipse-temurin:21-jdk-noble\nARG USER_HOME_DIR=\"/root\"\nENV MAVEN_CONFIG=\"$USER_HOME_DIR/.m2\"\nENTRYPOINT [\"mvn\"]\n";
        let c = check(&NonRootUser, src, None);
        assert_eq!(c.findings.len(), 1);
        assert!(c.findings[0].fix.is_none());
        assert!(
            c.findings[0].message.contains("MAVEN_CONFIG"),
            "{}",
            c.findings[0].message
        );
    }

    #[test]
    fn volumes_and_supervisors() {
        let c = check(
            &NonRootUser,
            "FROM debian:12\nVOLUME /var/lib/data\nCOPY app /app\nENTRYPOINT [\"/app\"]\n",
            None,
        );
        assert_eq!(
            c.fixed,
            "FROM debian:12\nRUN groupadd --system --gid 10001 app && useradd --system --gid app --uid 10001 --create-home --shell /usr/sbin/nologin app\nRUN mkdir -p /var/lib/data && chown app:app /var/lib/data\nVOLUME /var/lib/data\nCOPY app /app\nUSER 10001:10001\nENTRYPOINT [\"/app\"]\n"
        );
        let c = check(
            &NonRootUser,
            "FROM debian:12 AS base\nVOLUME /data\nFROM base\nENTRYPOINT [\"/app\"]\n",
            None,
        );
        assert!(c.findings[0].fix.is_none());
        assert!(c.findings[0].message.contains("earlier stage"));
        let c = check(
            &NonRootUser,
            "FROM node:20\nWORKDIR /app\nVOLUME /app/data\nCOPY x .\nCMD node x\n",
            None,
        );
        assert!(c.findings[0].fix.is_some());
        let c = check(
            &NonRootUser,
            "FROM python:3-slim\nRUN pip install supervisor\nENTRYPOINT [\"supervisord\"]\n",
            None,
        );
        assert!(c.findings.is_empty());
    }

    #[test]
    fn unknown_family_gives_finding_without_fix() {
        let c = check(
            &NonRootUser,
            "FROM myorg/base:1\nENTRYPOINT [\"x\"]\n",
            None,
        );
        assert_eq!(c.findings.len(), 1);
        assert!(c.findings[0].fix.is_none());
    }

    #[test]
    fn must_not_fire() {
        for src in [
            // already non-root
            "FROM node:20\nUSER node\nCMD node x\n",
            "FROM gcr.io/distroless/nodejs20-debian12:nonroot\nCMD [\"x.js\"]\n",
            // base image's own entrypoint (drops privileges itself)
            "FROM postgres:16\nCOPY init.sql /docker-entrypoint-initdb.d/\n",
            "FROM redis:7\nCMD [\"redis-server\", \"--appendonly\", \"yes\"]\n",
            // gosu in the entrypoint
            "FROM debian:12\nRUN apt-get update && apt-get install -y gosu\nENTRYPOINT [\"docker-entrypoint.sh\"]\n",
            // only a build stage runs as root
            "FROM node:20 AS build\nRUN npm ci\nFROM node:20-slim\nUSER node\nCMD node x\n",
            // a toolbox image that starts a REPL
            "FROM debian:12\nRUN apt-get update && apt-get install -y python3\nCMD [\"python3\"]\n",
            "FROM php:8.3-cli\nCMD [\"php\", \"-a\"]\n",
            "FROM node:20\nENTRYPOINT [\"docker-entrypoint.sh\"]\nCMD [\"node\"]\n",
            // user from a variable
            "FROM debian:12\nARG U\nUSER $U\nCMD x\n",
            // windows
            "FROM mcr.microsoft.com/windows/servercore:ltsc2022\nCMD cmd\n",
        ] {
            let c = check(&NonRootUser, src, None);
            assert!(c.findings.is_empty(), "{src}: {:#?}", c.findings);
        }
    }

    #[test]
    fn packaged_tools_get_no_user_but_apps_built_here_do() {
        for src in [
            // GUI tool from apt (jessfraz/kicad style)
            "FROM debian:bullseye-slim\nRUN apt-get update && apt-get install -y kicad --no-install-recommends\nENTRYPOINT [ \"kicad\" ]\n",
            // a pip-installed command-line tool (tianon/beets style)
            "FROM python:3.12-slim\nRUN pip install --no-cache-dir \"beets == 2.0\"\nCMD [\"beet\"]\n",
            // a binary downloaded with ADD
            "FROM alpine:3.20\nADD https://example.org/tool /usr/local/bin/tool\nENTRYPOINT [\"tool\"]\n",
        ] {
            let c = check(&NonRootUser, src, None);
            assert_eq!(c.findings.len(), 1, "{src}");
            assert!(c.findings[0].fix.is_none(), "{src}");
            assert!(c.findings[0].message.contains("packages the tool"), "{src}: {}", c.findings[0].message);
        }
        // Built in a stage of this file: an app of its own, so the fix stays.
        let src = "FROM golang:1.22 AS build\nRUN git clone https://example.org/x . && go build -o /out/x .\nFROM debian:12-slim\nCOPY --from=build /out/x /usr/local/bin/x\nENTRYPOINT [\"x\"]\n";
        assert!(check(&NonRootUser, src, None).findings[0].fix.is_some());
    }

    #[test]
    fn switches_back_to_an_earlier_user() {
        let src =
            "FROM node:20\nUSER node\nCOPY package.json .\nRUN npm ci\nUSER root\nRUN apt-get update\nCMD node x\n";
        assert_eq!(
            fixed(src),
            "FROM node:20\nUSER node\nCOPY package.json .\nRUN npm ci\nUSER root\nRUN apt-get update\nUSER node\nCMD node x\n"
        );
    }

    #[test]
    fn reads_scripts_copied_through_stages_and_globs() {
        let src = "FROM alpine:3.19 AS builder\nCOPY . /src\nRUN true\nFROM alpine:3.19\nCOPY --from=builder /src/scripts/entrypoint.sh /\nENTRYPOINT [\"/entrypoint.sh\"]\n";
        // The context holds it and it is harmless: fix, naming the script read.
        let c = check(
            &NonRootUser,
            src,
            Some(&[("scripts/entrypoint.sh", "#!/bin/sh\nexec /app \"$@\"\n")]),
        );
        assert!(c.findings[0].fix.is_some(), "{:#?}", c.findings);
        assert!(c.findings[0]
            .message
            .contains("`scripts/entrypoint.sh` read"));
        // It drops privileges itself: no finding.
        let c = check(
            &NonRootUser,
            src,
            Some(&[(
                "scripts/entrypoint.sh",
                "#!/bin/sh\nexec su-exec app /app\n",
            )]),
        );
        assert!(c.findings.is_empty(), "{:#?}", c.findings);
        // The context does not hold it: no fix, and the message says which file.
        let c = check(&NonRootUser, src, Some(&[("other", "")]));
        assert!(c.findings[0].fix.is_none());
        assert!(
            c.findings[0].message.contains("`scripts/entrypoint.sh`"),
            "{}",
            c.findings[0].message
        );
        // A glob source, a program found by name, a daemon in the script.
        let src = "FROM debian:12\nCOPY bin/*.sh /usr/local/bin/\nENTRYPOINT [\"run.sh\"]\n";
        let c = check(
            &NonRootUser,
            src,
            Some(&[("bin/run.sh", "#!/bin/bash\ncron\nexec node /app/x.js\n")]),
        );
        assert!(c.findings[0].fix.is_none());
        assert!(
            c.findings[0].message.contains("`cron`"),
            "{}",
            c.findings[0].message
        );
    }

    #[test]
    fn root_only_start_up_and_unresolved_ports() {
        for (src, needle) in [
            (
                "FROM node:20\nCMD sh -c \"echo 1 > /etc/app.conf && node x\"\n",
                "/etc/app.conf",
            ),
            ("FROM node:20\nARG P\nEXPOSE $P\nCMD node x\n", "EXPOSE $P"),
            ("FROM node:20\nENV PORT=443\nCMD node x\n", "PORT=443"),
            ("FROM debian:12\nCMD [\"nmap\"]\n", "`nmap`"),
            (
                "FROM debian:12\nCOPY --from=b /x /x\nCMD [\"/x\", \"--listen\", \":53\"]\n",
                "port 53",
            ),
        ] {
            let c = check(&NonRootUser, src, None);
            assert_eq!(c.findings.len(), 1, "{src}");
            assert!(c.findings[0].fix.is_none(), "{src}");
            assert!(
                c.findings[0].message.contains(needle),
                "{src}: {}",
                c.findings[0].message
            );
        }
    }

    #[test]
    fn system_folders_are_never_chowned() {
        for dir in ["/", "/tmp", "/usr/src/app", "/etc/app", "/var", "/root"] {
            assert!(fix::is_system_dir(dir), "{dir}");
        }
        for dir in [
            "/app",
            "/srv/app",
            "/home/node/app",
            "/var/lib/app",
            "/data",
        ] {
            assert!(!fix::is_system_dir(dir), "{dir}");
        }
        let src = "FROM python:3.12-slim\nWORKDIR /tmp\nRUN mkdir -p /usr/share/x /data\nCOPY app.py .\nCMD python app.py\n";
        let fixed = fixed(src);
        assert!(
            fixed.contains("RUN chown app:app /data\nUSER 10001:10001\n"),
            "{fixed}"
        );
    }
    #[test]
    fn setuid_program_gets_no_fix() {
        for (src, needle) in [
            (
                "FROM alpine:3.20\nCOPY nnp /usr/local/bin/nnp\nRUN chmod +s /usr/local/bin/nnp\nCMD [\"/usr/local/bin/nnp\"]\n",
                "`chmod +s /usr/local/bin/nnp`",
            ),
            (
                "FROM debian:12\nCOPY tool /usr/bin/tool\nRUN chmod -v u+s,g+x /usr/bin/tool\nENTRYPOINT [\"tool\"]\n",
                "`/usr/bin/tool`",
            ),
            (
                "FROM debian:12\nWORKDIR /app\nCOPY x .\nRUN chmod 4755 /app/x\nCMD [\"./x\"]\n",
                "`chmod 4755 /app/x`",
            ),
            (
                "FROM debian:12\nCOPY --chmod=04755 x /usr/local/bin/\nCMD x --serve\n",
                "`COPY --chmod=04755`",
            ),
        ] {
            let c = check(&NonRootUser, src, None);
            assert_eq!(c.findings.len(), 1, "{src}");
            assert!(c.findings[0].fix.is_none(), "{src}");
            assert!(
                c.findings[0].message.contains(needle) && c.findings[0].message.contains("setuid root"),
                "{src}: {}",
                c.findings[0].message
            );
        }
        // Another file made setuid, or the bit removed: the fix stays.
        for src in [
            "FROM debian:12\nCOPY x /usr/local/bin/x\nRUN chmod u+s /usr/bin/other\nCMD [\"x\"]\n",
            "FROM debian:12\nCOPY x /usr/local/bin/x\nRUN chmod u-s /usr/local/bin/x && chmod 0755 /usr/local/bin/x\nCMD [\"x\"]\n",
            "FROM debian:12\nCOPY x /usr/local/bin/x\nRUN chmod g+s /usr/local/bin/x\nCMD [\"x\"]\n",
        ] {
            let c = check(&NonRootUser, src, None);
            assert!(c.findings[0].fix.is_some(), "{src}: {:#?}", c.findings);
        }
        assert!(is_setuid_mode("+s") && is_setuid_mode("a+rs") && is_setuid_mode("6755"));
        assert!(!is_setuid_mode("755") && !is_setuid_mode("g+s") && !is_setuid_mode("2755"));
    }

    #[test]
    fn frontends_and_programs_that_only_exit_get_no_finding() {
        for src in [
            "FROM scratch AS release\nLABEL moby.buildkit.frontend.network.none=\"true\"\nCOPY f /bin/f\nENTRYPOINT [\"/bin/f\"]\n\nFROM release\n",
            "FROM alpine:3.20\nLABEL \"moby.buildkit.frontend.caps\"=\"x\"\nCOPY f /bin/f\nENTRYPOINT [\"/bin/f\"]\n",
            "FROM scratch\nCOPY true-asm /true\nCMD [\"/true\"]\n",
            "FROM debian:12\nCOPY x /x\nCMD [\"/bin/true\"]\n",
            "FROM debian:12\nCOPY x /x\nCMD exit 0\n",
            "FROM debian:12\nCOPY x /x\nENTRYPOINT [\"sh\", \"-c\", \":\"]\n",
            "FROM busybox\nCOPY x /x\nCMD [\"false\"]\n",
        ] {
            let c = check(&NonRootUser, src, None);
            assert!(c.findings.is_empty(), "{src}: {:#?}", c.findings);
        }
        // `true` as an argument of the program, or after a real command: fires.
        for src in [
            "FROM debian:12\nCOPY app /app\nENTRYPOINT [\"/app\"]\nCMD [\"true\"]\n",
            "FROM debian:12\nCOPY app /app\nCMD /app || true\n",
        ] {
            assert_eq!(check(&NonRootUser, src, None).findings.len(), 1, "{src}");
        }
    }

    #[test]
    fn dotnet_8_has_app_and_7_does_not() {
        for image in [
            "mcr.microsoft.com/dotnet/aspnet:8.0",
            "mcr.microsoft.com/dotnet/runtime:9.0-alpine",
            "mcr.microsoft.com/dotnet/runtime-deps:10.0-noble",
            "mcr.microsoft.com/dotnet/aspnet:8.0.11-bookworm-slim",
        ] {
            let src = format!("FROM {image}\nCOPY out/ /srv/\nENTRYPOINT [\"/srv/Worker\"]\n");
            assert_eq!(
                fixed(&src),
                format!(
                    "FROM {image}\nCOPY out/ /srv/\nUSER $APP_UID\nENTRYPOINT [\"/srv/Worker\"]\n"
                )
            );
        }
        // Chiseled and distroless .NET images already run as `app`, and have
        // no shell for a `RUN chown`.
        for image in [
            "mcr.microsoft.com/dotnet/aspnet:8.0-jammy-chiseled",
            "mcr.microsoft.com/dotnet/runtime-deps:6.0-jammy-chiseled",
            "mcr.microsoft.com/dotnet/runtime:8.0-azurelinux3.0-distroless",
        ] {
            let src = format!("FROM {image}\nWORKDIR /app\nCOPY out/ .\nENTRYPOINT [\"./Web\"]\n");
            assert!(
                check(&NonRootUser, &src, None).findings.is_empty(),
                "{image}"
            );
        }
        let src = "FROM mcr.microsoft.com/dotnet/aspnet:9.0-noble-chiseled\nUSER root\nWORKDIR /app\nCOPY out/ .\nENTRYPOINT [\"./Web\"]\n";
        assert_eq!(
            fixed(src),
            "FROM mcr.microsoft.com/dotnet/aspnet:9.0-noble-chiseled\nUSER root\nWORKDIR /app\nCOPY out/ .\nUSER $APP_UID\nENTRYPOINT [\"./Web\"]\n"
        );
        let src = "FROM mcr.microsoft.com/dotnet/runtime:7.0\nCOPY out/ /srv/\nENTRYPOINT [\"dotnet\", \"/srv/Worker.dll\"]\n";
        let out = fixed(src);
        assert!(
            out.contains("groupadd") && out.contains("USER 10001:10001"),
            "{out}"
        );
    }

    #[test]
    fn created_users_are_numeric_unless_the_file_names_users() {
        let src = "FROM node:20 AS build\nUSER node\nRUN npm ci\nFROM debian:12\nCOPY --from=build /x /x\nCMD [\"/x\"]\n";
        assert!(
            fixed(src).ends_with("USER app\nCMD [\"/x\"]\n"),
            "{}",
            fixed(src)
        );
        let src = "FROM debian:12 AS build\nUSER 1000\nRUN make\nFROM debian:12\nCOPY --from=build /x /x\nCMD [\"/x\"]\n";
        assert!(
            fixed(src).ends_with("USER 10001:10001\nCMD [\"/x\"]\n"),
            "{}",
            fixed(src)
        );
        // Profile users keep their names.
        let src = "FROM node:20-slim\nCOPY . /app\nCMD [\"node\", \"/app/x.js\"]\n";
        assert!(fixed(src).contains("USER node\n"));
    }
}
