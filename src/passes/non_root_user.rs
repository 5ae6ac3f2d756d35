//! DOP011 `non-root-user`: the final stage runs as root.

use crate::fix::{Edit, Finding, Fix};
use crate::model::{text, BaseRef, Model, OsFamily, StageModel};
use crate::passes::{Pass, PassContext};
use crate::syntax::{Dockerfile, InstructionKind};

macro_rules! docs {
    () => {
        r#"## What it does
Checks that the final stage switches to a non-root `USER` before its `CMD` /
`ENTRYPOINT`, and offers to add one.

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
COPY --chown=node:node . .
RUN npm ci
RUN chown node:node /app
USER node
CMD ["node", "server.js"]
```

The user is one the image already has (`node` in node images, `nonroot` in
distroless), one the Dockerfile creates but never switches to, or a new one made
with the base image's own tools (`useradd` on Debian/Ubuntu, `adduser` on Alpine,
uid 10001). Files copied into the WORKDIR get `--chown`, and the WORKDIR itself is
handed to the user (a non-recursive `chown`), so the app can still write there. `USER` goes after the last `RUN` (which may need root) and before `CMD`.

No fix is offered when the image `EXPOSE`s a port below 1024 (a non-root user
cannot bind it without extra capabilities), when the base image's OS is unknown,
or when the image drops privileges itself (`gosu`, `su-exec`). Stages whose process
is the base image's own entrypoint (e.g. `FROM postgres`) are left alone.

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
        let Some(stage) = model.final_stage() else {
            return Vec::new();
        };
        check_stage(ctx, file, model, stage).into_iter().collect()
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
    if stage.family == OsFamily::Windows || stage.shell.is_some() {
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
    if stage.user.as_deref().is_some_and(|u| u.contains('$')) {
        return None;
    }
    if drops_privileges_itself(file, model, stage) {
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
    let low_ports: Vec<String> = stage
        .exposed
        .iter()
        .filter_map(|p| p.port.filter(|n| *n < 1024))
        .map(|n| n.to_string())
        .collect();
    if !low_ports.is_empty() {
        finding.message = format!(
            "the final stage runs as root; no USER added because it EXPOSEs port {} below 1024, which a non-root user cannot bind without CAP_NET_BIND_SERVICE (move the app to a port >= 1024, then add USER)",
            low_ports.join(", ")
        );
        return Some(finding);
    }
    // A VOLUME outside the WORKDIR is where the app keeps data; it is created
    // root-owned, so the new user could not write to it.
    let workdir = stage.workdir.clone().unwrap_or_default();
    if let Some(volume) = volumes(file, model, stage).into_iter().find(|v| {
        let in_workdir =
            workdir.len() > 1 && (v == &workdir || v.starts_with(&format!("{workdir}/")));
        !in_workdir && !chowned_by_a_run(file, stage, v)
    }) {
        finding.message = format!(
            "the final stage runs as root; no USER added because VOLUME {volume} would stay owned by root (chown it to the new user, then add USER)"
        );
        return Some(finding);
    }
    // State kept under /root (e.g. `MAVEN_CONFIG=/root/.m2`) is unreadable for
    // another user.
    if let Some((name, _)) = stage
        .env
        .iter()
        .find(|(_, v)| v == "/root" || v.starts_with("/root/"))
    {
        finding.message = format!(
            "the final stage runs as root; no USER added because ENV {name} points into /root, which another user cannot use"
        );
        return Some(finding);
    }
    let choice = choose_user(ctx, file, stage);
    let Some(choice) = choice else {
        let family = stage.family.as_str();
        finding.message = format!(
            "the final stage runs as root; add a non-root USER (no fix: cannot tell how to create a user on a `{family}` base)"
        );
        return Some(finding);
    };
    finding.message = match &choice.create {
        Some(_) => format!(
            "the final stage runs as root; create user `{}` and switch to it before the container starts",
            choice.name
        ),
        None if choice.name.contains(':') => format!(
            "the final stage runs as root; switch to the unprivileged uid:gid `{}`, which needs no entry in /etc/passwd",
            choice.name
        ),
        None => format!(
            "the final stage runs as root; switch to the existing non-root user `{}`",
            choice.name
        ),
    };
    finding.fix = Some(Fix::unsafe_(build_edits(file, stage, &choice)));
    Some(finding)
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
    let mut chain = vec![stage.index];
    let mut cur = stage;
    while let BaseRef::Stage(p) = cur.base {
        chain.push(p);
        cur = &model.stages[p];
    }
    chain.iter().any(|&s| {
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

/// Absolute paths declared with VOLUME in the stage (and the stages it builds on).
fn volumes(file: &Dockerfile, model: &Model, stage: &StageModel) -> Vec<String> {
    let mut out = Vec::new();
    let mut chain = vec![stage.index];
    let mut cur = stage;
    while let BaseRef::Stage(p) = cur.base {
        chain.push(p);
        cur = &model.stages[p];
    }
    let instructions = chain
        .iter()
        .flat_map(|&s| &file.instructions[model.stages[s].instructions.clone()]);
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

struct UserChoice {
    /// Name (or `uid:gid`) for `USER` and `--chown`.
    name: String,
    /// Shell command that creates the user, when it must be created.
    create: Option<String>,
    /// The instruction after which the user exists (`--chown` needs it).
    exists_after: usize,
}

fn choose_user(ctx: &PassContext, file: &Dockerfile, stage: &StageModel) -> Option<UserChoice> {
    let is_root = |u: &str| {
        let n = u.split(':').next().unwrap_or("");
        n == "root" || n == "0" || n.is_empty() || u.contains('$')
    };
    // 1. A non-root user this stage switched to before going back to root.
    let earlier = file.instructions[stage.instructions.clone()]
        .iter()
        .filter_map(|i| match &i.kind {
            InstructionKind::User(w) => Some(crate::model::unquote(&w.value)),
            _ => None,
        })
        .rfind(|u| !is_root(u));
    if let Some(name) = earlier {
        let exists_after = stage
            .find_user(name.split(':').next().unwrap_or(""))
            .and_then(|u| u.created_by)
            .unwrap_or(stage.from_instruction);
        return Some(UserChoice {
            name,
            create: None,
            exists_after,
        });
    }
    // 2. A user the Dockerfile creates but never switches to.
    if let Some(u) = stage
        .users
        .iter()
        .rev()
        .find(|u| u.created_by.is_some() && !is_root(&u.name))
    {
        return Some(UserChoice {
            name: u.name.clone(),
            create: None,
            exists_after: u.created_by.unwrap_or(stage.from_instruction),
        });
    }
    let image = stage.root_image.as_ref()?;
    // 3. A user the base image ships.
    if let Some(u) = ctx.profiles.user_for_image(&image.raw) {
        return Some(UserChoice {
            name: u.name.clone(),
            create: None,
            exists_after: stage.from_instruction,
        });
    }
    if let Some(u) = stage.users.iter().find(|u| u.created_by.is_none()) {
        return Some(UserChoice {
            name: u.name.clone(),
            create: None,
            exists_after: stage.from_instruction,
        });
    }
    // 4. scratch has no /etc/passwd: a numeric uid:gid needs none.
    if stage.family == OsFamily::Scratch {
        return Some(UserChoice {
            name: "65534:65534".into(),
            create: None,
            exists_after: stage.from_instruction,
        });
    }
    // 5. Create one with the OS's own tools.
    if !matches!(
        stage.family,
        OsFamily::Debian | OsFamily::Ubuntu | OsFamily::Alpine
    ) {
        return None;
    }
    let taken =
        |n: &str| stage.users.iter().any(|u| u.name == n) || stage.groups.iter().any(|g| g == n);
    let name = ["app", "appuser", "dopt-app"]
        .into_iter()
        .find(|n| !taken(n))?;
    // The OS profile of the image, else the one of the family we recognised.
    let create = ctx
        .profiles
        .user_creation_for(&image.raw, name)
        .or_else(|| {
            let os = if stage.family == OsFamily::Alpine {
                "apk"
            } else {
                "apt"
            };
            let creation = ctx.profiles.get(os)?.user_creation.as_ref()?;
            Some(creation.command.replace("{user}", name))
        })?;
    Some(UserChoice {
        name: name.to_string(),
        create: Some(create),
        exists_after: stage.from_instruction,
    })
}

fn build_edits(file: &Dockerfile, stage: &StageModel, choice: &UserChoice) -> Vec<Edit> {
    let mut edits = Vec::new();
    let from = &file.instructions[stage.from_instruction];
    let ind = text::indent(file, from).to_string();
    if let Some(create) = &choice.create {
        let line = text::line(
            file,
            &ind,
            &format!("{} {create}", text::keyword(file, "RUN")),
        );
        let (at, content) = text::insert_lines_after(file, stage.from_instruction, &line);
        edits.push(Edit::insert(at, content));
    }
    // Let the app write where it lives: chown what is copied into the WORKDIR.
    if let Some(workdir) = stage.workdir.as_deref().filter(|w| *w != "/") {
        let owner = if choice.name.contains(':') {
            choice.name.clone()
        } else {
            format!("{0}:{0}", choice.name)
        };
        for copy in &stage.copies {
            let inside = copy
                .dest_resolved
                .as_deref()
                .is_some_and(|d| d == workdir || d.starts_with(&format!("{workdir}/")));
            if !inside || copy.chown.is_some() || copy.instruction <= choice.exists_after {
                continue;
            }
            let inst = &file.instructions[copy.instruction];
            // After the existing flags: `COPY --from=build --chown=app:app ...`.
            let at = inst
                .flags
                .last()
                .map(|f| f.span.end)
                .unwrap_or(inst.keyword_span.end);
            edits.push(Edit::insert(at, format!(" --chown={owner}")));
        }
    }
    // USER after the last RUN and before the CMD/ENTRYPOINT that follows it.
    let last_run = stage.runs.last().copied().unwrap_or(stage.from_instruction);
    let start_cmd = (last_run + 1..stage.instructions.end).find(|&i| {
        matches!(
            file.instructions[i].kind,
            InstructionKind::Cmd(_) | InstructionKind::Entrypoint(_)
        )
    });
    let user_kw = text::keyword(file, "USER");
    let insert_index = start_cmd.unwrap_or(stage.instructions.end);
    let mut lines = Vec::new();
    // The WORKDIR itself was created by root: let the app create files in it
    // (a non-recursive chown, so no file is copied into a new layer).
    if let Some(workdir) = stage.workdir.as_deref().filter(|w| *w != "/") {
        let has_shell = !matches!(
            stage.family,
            OsFamily::Scratch | OsFamily::Distroless | OsFamily::Unknown | OsFamily::Windows
        );
        let set_here = (stage.from_instruction..insert_index)
            .any(|i| matches!(file.instructions[i].kind, InstructionKind::Workdir(_)));
        if has_shell
            && set_here
            && !workdir.contains(char::is_whitespace)
            && !chowned_by_a_run(file, stage, workdir)
        {
            let owner = if choice.name.contains(':') {
                choice.name.clone()
            } else {
                format!("{0}:{0}", choice.name)
            };
            lines.push(format!(
                "{} chown {owner} {workdir}",
                text::keyword(file, "RUN")
            ));
        }
    }
    lines.push(format!("{user_kw} {}", choice.name));
    match start_cmd {
        Some(i) => {
            let ind = text::indent(file, &file.instructions[i]);
            let at = text::insertion_before(file, i);
            let block: String = lines.iter().map(|l| text::line(file, ind, l)).collect();
            edits.push(Edit::insert(at, block));
        }
        None => {
            let last = stage.instructions.end - 1;
            let ind = text::indent(file, &file.instructions[last]);
            let block: String = lines.iter().map(|l| text::line(file, ind, l)).collect();
            let (at, content) = text::insert_lines_after(file, last, &block);
            edits.push(Edit::insert(at, content));
        }
    }
    edits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::check;

    fn fixed(src: &str) -> String {
        check(&NonRootUser, src, None).fixed
    }

    #[test]
    fn node_image_uses_node_user_and_chowns_workdir_copies() {
        let src = "FROM node:20-slim\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\n# start\nCMD [\"node\", \"server.js\"]\n";
        let c = check(&NonRootUser, src, None);
        assert_eq!(c.findings.len(), 1);
        assert_eq!(
            c.fixed,
            "FROM node:20-slim\nWORKDIR /app\nCOPY --chown=node:node package*.json ./\nRUN npm ci\nCOPY --chown=node:node . .\nRUN chown node:node /app\nUSER node\n# start\nCMD [\"node\", \"server.js\"]\n"
        );
    }

    #[test]
    fn debian_creates_a_user() {
        let src = "FROM python:3.12-slim\r\nWORKDIR /srv\r\nCOPY app.py .\r\nRUN pip install flask\r\nCMD python app.py\r\n";
        assert_eq!(
            fixed(src),
            "FROM python:3.12-slim\r\nRUN groupadd --system --gid 10001 app && useradd --system --gid app --uid 10001 --create-home --shell /usr/sbin/nologin app\r\nWORKDIR /srv\r\nCOPY --chown=app:app app.py .\r\nRUN pip install flask\r\nRUN chown app:app /srv\r\nUSER app\r\nCMD python app.py\r\n"
        );
    }

    #[test]
    fn alpine_creates_a_user_with_adduser() {
        let src = "from alpine:3.19\nrun apk add --no-cache curl\nentrypoint [\"/bin/app\"]";
        assert_eq!(
            fixed(src),
            "from alpine:3.19\nrun addgroup -S app && adduser -S -D -u 10001 -G app app\nrun apk add --no-cache curl\nuser app\nentrypoint [\"/bin/app\"]"
        );
    }

    #[test]
    fn uses_a_user_created_but_never_switched_to() {
        let src =
            "FROM debian:12\nRUN useradd -r web\nCOPY app /app\nRUN true\nENTRYPOINT [\"/app\"]";
        assert_eq!(
            fixed(src),
            "FROM debian:12\nRUN useradd -r web\nCOPY app /app\nRUN true\nUSER web\nENTRYPOINT [\"/app\"]"
        );
    }

    #[test]
    fn scratch_and_distroless() {
        let src = "FROM golang:1.22 AS build\nRUN go build -o /out/app .\nFROM scratch\nCOPY --from=build /out/app /app\nENTRYPOINT [\"/app\"]\n";
        assert!(fixed(src).ends_with(
            "COPY --from=build /out/app /app\nUSER 65534:65534\nENTRYPOINT [\"/app\"]\n"
        ));
        let src = "FROM gcr.io/distroless/static-debian12\nCOPY app /\nCMD [\"/app\"]\n";
        assert_eq!(
            fixed(src),
            "FROM gcr.io/distroless/static-debian12\nCOPY app /\nUSER nonroot\nCMD [\"/app\"]\n"
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
            "FROM debian:12\nVOLUME /var/lib/data\nENTRYPOINT [\"/app\"]\n",
            None,
        );
        assert!(c.findings[0].fix.is_none());
        assert!(c.findings[0].message.contains("/var/lib/data"));
        let c = check(
            &NonRootUser,
            "FROM node:20\nWORKDIR /app\nVOLUME /app/data\nCMD node x\n",
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
    fn switches_back_to_an_earlier_user() {
        let src =
            "FROM node:20\nUSER node\nRUN npm ci\nUSER root\nRUN apt-get update\nCMD node x\n";
        assert_eq!(
            fixed(src),
            "FROM node:20\nUSER node\nRUN npm ci\nUSER root\nRUN apt-get update\nUSER node\nCMD node x\n"
        );
    }
}
