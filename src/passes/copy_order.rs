//! DOP010 `copy-order`: a whole-context COPY before the dependency install.

use crate::docker::dockerignore::DockerIgnore;
use crate::fix::{Edit, Finding, Fix, Safety};
use crate::model::{text, CopyInfo, Model, StageModel};
use crate::passes::{BuildContext, Pass, PassContext};
use crate::profiles::schema::ProfileKind;
use crate::profiles::{glob_captures, Profile};
use crate::shell::{self, Separator, SimpleCommand};
use crate::syntax::{Command, Dockerfile, InstructionKind, Span};

macro_rules! docs {
    () => {
        r#"## What it does
Finds a `COPY . .` (or `ADD . .`) that comes before the dependency install of an
ecosystem (`npm ci`, `yarn install`, `pip install -r`, `poetry install`,
`go mod download`, `bundle install`, `mvn dependency:go-offline`...), and moves the
install before it, after a COPY of just the dependency manifests.

## Why is this bad?
Docker reuses a layer only if everything it was built from is unchanged. After
`COPY . .`, any edit to any source file invalidates the cache, so every rebuild
downloads and installs all dependencies again. Manifests change rarely: copying
them first keeps the install layer cached.

## Example
```dockerfile
FROM node:20-slim
WORKDIR /app
COPY . .
RUN npm ci && npm run build
```

Use instead:
```dockerfile
FROM node:20-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build
```

Only manifests that exist in the build context (and are not excluded by
`.dockerignore`) are copied, with the original COPY's flags (`--chown`) and
destination. A RUN that also builds is split: the install part moves, the rest
stays after `COPY . .`. When `ENV`/`ARG` lines sit between the COPY and the
install, the install keeps its place and `COPY . .` moves down after it instead.
There is no fix when other instructions sit between the COPY and the install, when the install reads more than the manifests
(`pip install .`, `-e .`, local path dependencies, npm workspaces, Cargo and
Composer projects), or without a build context.

## Fix safety
Safe when the install only reads the manifests. Unsafe when `package.json` has
lifecycle scripts (`preinstall`, `install`, `postinstall`, `prepare`), which now run
before the rest of the source is present."#
    };
}

#[doc = docs!()]
pub struct CopyOrder;

impl Pass for CopyOrder {
    fn code(&self) -> &'static str {
        "DOP010"
    }
    fn name(&self) -> &'static str {
        "copy-order"
    }
    fn summary(&self) -> &'static str {
        "dependency install after COPY . .: copy the manifests and install first"
    }
    fn docs(&self) -> &'static str {
        docs!()
    }
    fn run(&self, ctx: &PassContext) -> Vec<Finding> {
        let file = ctx.file;
        let model = ctx.model();
        model
            .stages
            .iter()
            .filter_map(|stage| check_stage(ctx, file, model, stage))
            .collect()
    }
}

/// An install command found in a RUN.
struct Install<'p> {
    run: usize,
    profile: &'p Profile,
    script: shell::Script,
    /// Index into `script.commands` of the install command.
    command: usize,
}

fn check_stage(
    ctx: &PassContext,
    file: &Dockerfile,
    model: &Model,
    stage: &StageModel,
) -> Option<Finding> {
    let copy = stage.copies.iter().find(|c| c.whole_context)?;
    let install = find_install(ctx, file, stage, copy.instruction)?;
    let copy_inst = &file.instructions[copy.instruction];
    let install_text = install.script.commands[install.command]
        .effective_strings()
        .join(" ");
    let copy_text = format!("{} {}", copy_inst.keyword, copy_inst.logical.text.trim());
    let mut finding = Finding {
        code: "DOP010",
        name: "copy-order",
        message: format!(
            "`{install_text}` runs after `{copy_text}`, so any source change re-installs every dependency; copy the {} manifests and install first",
            install.profile.name
        ),
        span: Span::new(copy_inst.keyword_span.start, copy_inst.args_span.end),
        fix: None,
    };
    match plan_fix(ctx, file, model, stage, copy, &install) {
        Ok((fix, unsafe_reason)) => {
            if let Some(why) = unsafe_reason {
                finding.message.push_str(&format!(" (unsafe: {why})"));
            }
            finding.fix = Some(fix);
        }
        Err(why) => finding.message.push_str(&format!(" (no fix: {why})")),
    }
    Some(finding)
}

/// The first RUN after `after` in the stage that runs an install command.
fn find_install<'p>(
    ctx: &'p PassContext,
    file: &Dockerfile,
    stage: &StageModel,
    after: usize,
) -> Option<Install<'p>> {
    for &run in stage.runs.iter().filter(|&&r| r > after) {
        let inst = &file.instructions[run];
        let InstructionKind::Run(Command::Shell { .. }) = &inst.kind else {
            continue;
        };
        let Some(script) = shell::analyze(&inst.logical.text) else {
            continue;
        };
        let found = script.commands.iter().enumerate().find_map(|(i, c)| {
            let argv = c.effective_strings();
            let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
            // Only language ecosystems have manifests; OS package installs do not.
            let profile = ctx
                .profiles
                .install_command(&refs)
                .filter(|p| p.kind == ProfileKind::Ecosystem)?;
            is_project_install(profile, c).then_some((i, profile))
        });
        if let Some((command, profile)) = found {
            return Some(Install {
                run,
                profile,
                script,
                command,
            });
        }
    }
    None
}

/// True for installs of the project's dependencies (not `npm install -g x`,
/// `gem install rails`, `go get x`).
fn is_project_install(profile: &Profile, command: &SimpleCommand) -> bool {
    let argv = command.effective_strings();
    let operands: Vec<&String> = argv
        .iter()
        .skip(2)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let has = |f: &str| argv.iter().any(|a| a == f);
    match profile.name.as_str() {
        "npm" | "pnpm" | "yarn" => {
            !has("-g")
                && !has("--global")
                && argv.get(1).is_none_or(|s| s != "global")
                && (operands.is_empty() || argv.get(1).is_some_and(|s| s.starts_with('-')))
        }
        "gem" => argv.get(1).is_some_and(|s| s == "install") && argv[0] == "bundle",
        "go" => argv.get(1).is_some_and(|s| s == "mod"),
        "cargo" => argv.get(1).is_some_and(|s| s == "fetch"),
        _ => true,
    }
}

/// Commands that may move with the install: they read nothing from the source.
fn is_neutral(command: &SimpleCommand) -> bool {
    let argv = command.effective_strings();
    let a = |i: usize| argv.get(i).map(String::as_str).unwrap_or("");
    match a(0) {
        "npm" | "yarn" | "pnpm" => matches!(a(1), "cache" | "config" | "set" | "store"),
        "pip" | "pip3" => {
            (a(1) == "cache")
                || (a(1) == "install"
                    && argv[2..].iter().filter(|w| !w.starts_with('-')).all(|w| {
                        matches!(
                            w.as_str(),
                            "pip" | "setuptools" | "wheel" | "pipenv" | "poetry" | "uv"
                        )
                    }))
        }
        "go" => a(1) == "mod" && a(2) == "verify",
        "bundle" => a(1) == "config",
        "rm" => argv[1..]
            .iter()
            .filter(|w| !w.starts_with('-'))
            .all(|w| w.starts_with('/') || w.starts_with('~') || w.starts_with("$HOME")),
        "true" | "echo" => true,
        _ => false,
    }
}

/// What the moved install and the manifests are.
struct Plan {
    /// Manifest paths relative to the context root, in order.
    files: Vec<String>,
    /// Directories to copy as a whole (e.g. `.mvn`).
    dirs: Vec<String>,
    unsafe_reason: Option<String>,
}

fn plan_fix(
    ctx: &PassContext,
    file: &Dockerfile,
    model: &Model,
    stage: &StageModel,
    copy: &CopyInfo,
    install: &Install,
) -> Result<(Fix, Option<String>), String> {
    let context = ctx
        .build_context
        .ok_or("no build context to check which manifests exist")?;
    let copy_inst = &file.instructions[copy.instruction];
    let run_inst = &file.instructions[install.run];
    // Nothing between the COPY and the install may change what the install sees.
    // ENV/ARG lines may: then the install stays where it is and `COPY . .` moves
    // down after it instead.
    let mut move_copy_down = false;
    // A WORKDIR into the COPY's (absolute) destination between the two, as in
    // `COPY . /app` / `WORKDIR /app` / `RUN pip install -r requirements.txt`:
    // it moves up in front of the moved lines, so that they run there too.
    let mut hoist_workdir: Option<usize> = None;
    let copy_sets_owner = copy_inst
        .flags
        .iter()
        .any(|f| matches!(f.name.as_str(), "chown" | "chmod"));
    for i in copy.instruction + 1..install.run {
        let same_workdir = model.states.get(i).map(|s| &s.workdir)
            == model.states.get(install.run).map(|s| &s.workdir);
        let into_copy_dest = copy.dest.starts_with('/')
            && !copy_sets_owner
            && model
                .states
                .get(i + 1)
                .and_then(|s| s.workdir.as_ref())
                .is_some()
            && model.states.get(i + 1).map(|s| &s.workdir)
                == model.states.get(install.run).map(|s| &s.workdir)
            && model.states.get(install.run).map(|s| &s.workdir) == Some(&copy.dest_resolved);
        match file.instructions[i].kind {
            InstructionKind::Label(_) | InstructionKind::Expose(_) => {}
            InstructionKind::Env(_) | InstructionKind::Arg(_) => move_copy_down = true,
            // `WORKDIR .` and the like: the install runs in the same place anyway.
            InstructionKind::Workdir(_) if same_workdir => {}
            InstructionKind::Workdir(_) if into_copy_dest && hoist_workdir.is_none() => {
                hoist_workdir = Some(i);
            }
            _ => {
                return Err(format!(
                    "line {} between the COPY and the install would run in a different order",
                    file.instructions[i].start_line
                ))
            }
        }
    }
    if hoist_workdir.is_some() && move_copy_down {
        return Err("an ENV or ARG and a WORKDIR stand between the COPY and the install".into());
    }
    if !run_inst.heredocs.is_empty() {
        return Err("the install RUN has a heredoc".into());
    }
    if !copy
        .sources
        .iter()
        .all(|s| matches!(s.trim_end_matches('/'), "." | "" | "./."))
    {
        return Err("the COPY has other sources than the context root".into());
    }
    if copy.dest.contains(char::is_whitespace) || copy.dest.contains('$') {
        return Err("the COPY destination has spaces or variables".into());
    }
    // The install runs in the WORKDIR (unless it `cd`s): it must be where the
    // context lands, so manifests keep their relative place.
    let cwd = model
        .states
        .get(install.run)
        .and_then(|s| s.workdir.clone());
    if install.script.changes_shell_state || cwd.is_none() || cwd != copy.dest_resolved {
        return Err("the install does not run where the COPY puts the sources".into());
    }
    let ignore = DockerIgnore::from_dir(context.path()).unwrap_or_else(|_| DockerIgnore::parse(""));
    let plan = manifests(context, install)?;
    for f in plan.files.iter().chain(&plan.dirs) {
        if ignore.is_excluded(f) {
            return Err(format!("`{f}` is excluded by .dockerignore"));
        }
    }
    // Manifests an earlier COPY already brings in need no new COPY.
    let already = |path: &str| {
        stage.copies.iter().any(|c| {
            c.instruction < copy.instruction
                && c.from.is_none()
                && !c.whole_context
                && c.dest_resolved == copy.dest_resolved
                && c.sources.iter().any(|s| {
                    let s = s.trim_start_matches("./");
                    s == path || glob_captures(s, path).is_some()
                })
        })
    };
    let files: Vec<&String> = plan.files.iter().filter(|f| !already(f)).collect();
    let dirs: Vec<&String> = plan.dirs.iter().filter(|d| !already(d)).collect();

    // The COPY lines: one per parent directory, keeping the original flags.
    let ind = text::indent(file, copy_inst);
    let copy_kw = text::keyword(file, "COPY");
    let flags: Vec<&str> = copy_inst
        .flags
        .iter()
        .filter(|f| matches!(f.name.as_str(), "chown" | "chmod" | "link"))
        .map(|f| file.text(f.span))
        .collect();
    let flag_text: String = flags.iter().map(|f| format!(" {f}")).collect();
    let dest_dir = {
        let d = copy.dest.as_str();
        if d == "." {
            "./".to_string()
        } else if d.ends_with('/') {
            d.to_string()
        } else {
            format!("{d}/")
        }
    };
    let mut block = String::new();
    let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
    for f in &files {
        let parent = f
            .rsplit_once('/')
            .map(|(p, _)| p.to_string())
            .unwrap_or_default();
        match groups.iter_mut().find(|(p, _)| *p == parent) {
            Some((_, v)) => v.push(f),
            None => groups.push((parent, vec![f])),
        }
    }
    for (parent, members) in &groups {
        let dest = if parent.is_empty() {
            dest_dir.clone()
        } else {
            format!("{dest_dir}{parent}/")
        };
        block.push_str(&text::line(
            file,
            ind,
            &format!("{copy_kw}{flag_text} {} {dest}", members.join(" ")),
        ));
    }
    for d in &dirs {
        block.push_str(&text::line(
            file,
            ind,
            &format!("{copy_kw}{flag_text} {d} {dest_dir}{d}/"),
        ));
    }

    // The install RUN: the whole instruction, or its leading install part.
    let mut edits = Vec::new();
    let commands = &install.script.commands;
    let movable = commands
        .iter()
        .enumerate()
        .take_while(|(i, c)| {
            c.depth == 0
                && (*i == install.command
                    || is_neutral(c)
                    || c.matches(
                        &install
                            .profile
                            .programs
                            .iter()
                            .map(String::as_str)
                            .collect::<Vec<_>>(),
                        &["install"],
                    )
                    .is_some())
        })
        .count();
    if movable <= install.command {
        return Err("the install is not at the start of its RUN".into());
    }
    let whole_run = movable == commands.len() && install.script.trailing.trim().is_empty();
    let splittable = install.script.plain_and_chain
        && install.script.parse_ok
        && commands[..movable]
            .iter()
            .all(|c| c.separator_after == Some(Separator::And) && !c.in_pipeline);
    if !whole_run && !splittable {
        return Err(
            "the install RUN also runs other commands in a way that cannot be split".into(),
        );
    }
    if move_copy_down {
        // The manifests take the COPY's place; the COPY goes after the install.
        let mut copy_text = file.source[copy_inst.span.range()].to_string();
        if !copy_text.ends_with('\n') {
            copy_text.push_str(file.line_ending.as_str());
        }
        edits.push(Edit::replace(copy_inst.span, block));
        if whole_run {
            let (at, content) = text::insert_lines_after(file, install.run, &copy_text);
            edits.push(Edit::insert(at, content));
        } else {
            let logical = &run_inst.logical;
            let first = logical.map(commands[0].range.start);
            let last_end = logical.map(commands[movable - 1].range.end);
            let rest_start = logical.map(commands[movable].range.start);
            let le = file.line_ending.as_str();
            let run_prefix = &file.source[run_inst.span.start..first];
            edits.push(Edit::replace(
                Span::new(last_end, rest_start),
                format!("{le}{copy_text}{run_prefix}"),
            ));
        }
        let mut fix = Fix::safe(edits);
        if plan.unsafe_reason.is_some() {
            fix.safety = Safety::Unsafe;
        }
        return Ok((fix, plan.unsafe_reason));
    }
    let copy_at = text::insertion_before(file, copy.instruction);
    if let Some(w) = hoist_workdir {
        let from = text::insertion_before(file, w);
        let mut moved = file.source[from..file.instructions[w].span.end].to_string();
        if !moved.ends_with('\n') {
            moved.push_str(file.line_ending.as_str());
        }
        block.insert_str(0, &moved);
        edits.push(Edit::delete(Span::new(from, file.instructions[w].span.end)));
    }
    if whole_run {
        // Move the whole RUN with the comment lines attached to it.
        let from = text::insertion_before(file, install.run);
        let mut moved = file.source[from..run_inst.span.end].to_string();
        if !moved.ends_with('\n') {
            moved.push_str(file.line_ending.as_str());
        }
        block.push_str(&moved);
        edits.push(Edit::delete(Span::new(
            from,
            end_with_one_blank_line_less(file, from, run_inst.span.end),
        )));
    } else {
        let logical = &run_inst.logical;
        let first = logical.map(commands[0].range.start);
        let last_end = logical.map(commands[movable - 1].range.end);
        let rest_start = logical.map(commands[movable].range.start);
        let mut moved = file.source[run_inst.span.start..first].to_string();
        moved.push_str(&file.source[first..last_end]);
        moved.push_str(file.line_ending.as_str());
        block.push_str(&moved);
        edits.push(Edit::delete(Span::new(first, rest_start)));
    }
    edits.push(Edit::insert(copy_at, block));
    let mut fix = Fix::safe(edits);
    if plan.unsafe_reason.is_some() {
        fix.safety = Safety::Unsafe;
    }
    Ok((fix, plan.unsafe_reason))
}

/// When the deleted lines `from..to` sit between two blank lines, also delete the
/// blank line after them, so moving a RUN does not leave a double gap.
fn end_with_one_blank_line_less(file: &Dockerfile, from: usize, to: usize) -> usize {
    use crate::syntax::ItemKind;
    let before = file.items.iter().rposition(|it| it.span.end == from);
    let after = file.items.iter().position(|it| it.span.start == to);
    match (before, after) {
        (Some(b), Some(a))
            if file.items[b].kind == ItemKind::Blank && file.items[a].kind == ItemKind::Blank =>
        {
            file.items[a].span.end
        }
        _ => to,
    }
}

fn exists(context: &BuildContext, rel: &str) -> bool {
    context.path().join(rel).is_file()
}

/// The manifests the install reads, per ecosystem; `Err` when it reads more.
fn manifests(context: &BuildContext, install: &Install) -> Result<Plan, String> {
    let cmd = &install.script.commands[install.command];
    let argv = cmd.effective_strings();
    let has = |f: &str| {
        argv.iter()
            .any(|a| a == f || a.starts_with(&format!("{f}=")))
    };
    let present = |names: &[&str]| -> Vec<String> {
        names
            .iter()
            .filter(|n| exists(context, n))
            .map(|n| n.to_string())
            .collect()
    };
    let mut plan = Plan {
        files: Vec::new(),
        dirs: Vec::new(),
        unsafe_reason: None,
    };
    match install.profile.name.as_str() {
        "npm" | "yarn" | "pnpm" => {
            let pkg = context
                .read("package.json")
                .ok_or("package.json is not in the build context")?;
            let json: serde_json::Value =
                serde_json::from_str(&pkg).map_err(|_| "package.json does not parse")?;
            if json.get("workspaces").is_some() || exists(context, "pnpm-workspace.yaml") {
                return Err("the project uses workspaces".into());
            }
            if exists(context, ".yarnrc.yml") {
                return Err("Yarn Berry projects need their .yarn directory".into());
            }
            for section in [
                "dependencies",
                "devDependencies",
                "optionalDependencies",
                "peerDependencies",
            ] {
                if let Some(deps) = json.get(section).and_then(|d| d.as_object()) {
                    if deps.values().filter_map(|v| v.as_str()).any(|v| {
                        ["file:", "link:", "workspace:", "portal:", "./", "../", "/"]
                            .iter()
                            .any(|p| v.starts_with(p))
                    }) {
                        return Err("package.json has local path dependencies".into());
                    }
                }
            }
            let scripts: Vec<&str> = ["preinstall", "install", "postinstall", "prepare"]
                .into_iter()
                .filter(|s| json.get("scripts").and_then(|x| x.get(*s)).is_some())
                .collect();
            if !scripts.is_empty() {
                plan.unsafe_reason = Some(format!(
                    "package.json lifecycle scripts ({}) run before the source is copied",
                    scripts.join(", ")
                ));
            }
            plan.files = present(&[
                "package.json",
                "package-lock.json",
                "npm-shrinkwrap.json",
                "yarn.lock",
                "pnpm-lock.yaml",
                ".npmrc",
                ".yarnrc",
            ]);
        }
        "pip" => match argv.first().map(String::as_str) {
            Some("poetry") => {
                if !has("--no-root") {
                    return Err(
                        "`poetry install` without --no-root installs the project itself".into(),
                    );
                }
                plan.files = present(&["pyproject.toml", "poetry.lock", "poetry.toml"]);
            }
            Some("uv") => {
                if !has("--no-install-project") {
                    return Err(
                        "`uv sync` without --no-install-project installs the project itself".into(),
                    );
                }
                plan.files = present(&["pyproject.toml", "uv.lock"]);
            }
            Some("pipenv") => {
                let pipfile = context
                    .read("Pipfile")
                    .ok_or("Pipfile is not in the build context")?;
                if pipfile.contains("path =") || pipfile.contains("path=") {
                    return Err("the Pipfile has local path dependencies".into());
                }
                plan.files = present(&["Pipfile", "Pipfile.lock"]);
            }
            _ => plan.files = pip_requirement_files(context, &argv)?,
        },
        "go" => {
            let gomod = context
                .read("go.mod")
                .ok_or("go.mod is not in the build context")?;
            if gomod
                .lines()
                .any(|l| l.contains("=> ./") || l.contains("=> ../"))
            {
                return Err("go.mod replaces modules with local directories".into());
            }
            if exists(context, "go.work") {
                return Err("the project uses a Go workspace".into());
            }
            plan.files = present(&["go.mod", "go.sum"]);
        }
        "gem" => {
            let gemfile = context
                .read("Gemfile")
                .ok_or("Gemfile is not in the build context")?;
            if gemfile.lines().any(|l| {
                let l = l.trim_start();
                l.starts_with("gemspec") || l.contains("path:") || l.contains(":path")
            }) {
                return Err("the Gemfile has local path gems".into());
            }
            plan.files = present(&["Gemfile", "Gemfile.lock"]);
        }
        "maven" => {
            let pom = context
                .read("pom.xml")
                .ok_or("pom.xml is not in the build context")?;
            if pom.contains("<modules>") {
                return Err("multi-module Maven projects need every module's pom".into());
            }
            plan.files = present(&["pom.xml"]);
            if argv.first().is_some_and(|p| p == "mvnw") {
                plan.files.push("mvnw".into());
                if context.path().join(".mvn").is_dir() {
                    plan.dirs.push(".mvn".into());
                }
            }
        }
        other => {
            return Err(format!(
                "moving the `{other}` install needs more than its manifests"
            ))
        }
    }
    if plan.files.is_empty() {
        return Err("none of the manifests is in the build context".into());
    }
    Ok(plan)
}

/// The requirement files `pip install -r` reads, following `-r`/`-c` includes.
fn pip_requirement_files(context: &BuildContext, argv: &[String]) -> Result<Vec<String>, String> {
    let mut files = Vec::new();
    let mut i = 2;
    while i < argv.len() {
        let a = argv[i].as_str();
        let value = |flag: &str| -> Option<String> {
            if a == flag {
                argv.get(i + 1).cloned()
            } else {
                a.strip_prefix(&format!("{flag}=")).map(str::to_string)
            }
        };
        if let Some(v) = value("-r")
            .or_else(|| value("--requirement"))
            .or_else(|| value("-c"))
            .or_else(|| value("--constraint"))
        {
            files.push(v);
            i += if a.contains('=') { 1 } else { 2 };
            continue;
        }
        if a == "-e" || a == "--editable" {
            return Err("`pip install -e` installs from the source".into());
        }
        if !a.starts_with('-') && (a.contains('/') || a.starts_with('.') || a.ends_with(".whl")) {
            return Err(format!("`pip install {a}` installs from the source"));
        }
        i += 1;
    }
    if files.is_empty() {
        return Err("`pip install` without -r does not read a manifest".into());
    }
    let mut seen: Vec<String> = Vec::new();
    let mut queue: std::collections::VecDeque<String> = files.into();
    while let Some(f) = queue.pop_front() {
        let f = f.trim_start_matches("./").to_string();
        if f.starts_with('/') || f.contains("..") || f.contains('$') {
            return Err(format!("requirement file `{f}` is outside the context"));
        }
        if seen.contains(&f) {
            continue;
        }
        let body = context
            .read(&f)
            .ok_or_else(|| format!("`{f}` is not in the build context"))?;
        let dir = f
            .rsplit_once('/')
            .map(|(d, _)| format!("{d}/"))
            .unwrap_or_default();
        for line in body.lines() {
            let l = line.trim();
            let mut words = l.split_whitespace();
            match words.next() {
                Some("-r" | "--requirement" | "-c" | "--constraint") => {
                    if let Some(inc) = words.next() {
                        queue.push_back(format!("{dir}{inc}"));
                    }
                }
                Some(w) if w.starts_with("-e") || w.starts_with("--editable") => {
                    return Err(format!("`{f}` installs an editable local package"));
                }
                Some(w)
                    if w.starts_with('.')
                        || w.starts_with('/')
                        || l.contains("file:")
                        || w.starts_with("--find-links")
                        || w.starts_with("-f") =>
                {
                    return Err(format!("`{f}` refers to local files"));
                }
                _ => {}
            }
        }
        seen.push(f);
    }
    Ok(seen)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::check;

    const PKG: &str = r#"{"name":"x","dependencies":{"express":"^4"}}"#;

    #[test]
    fn npm_whole_run_moves_with_its_comment() {
        let src = "FROM node:20-slim\nWORKDIR /app\nCOPY --chown=node:node . .\n# deps\nRUN npm ci\nCMD [\"node\", \"server.js\"]\n";
        let c = check(
            &CopyOrder,
            src,
            Some(&[("package.json", PKG), ("package-lock.json", "{}")]),
        );
        assert_eq!(c.findings.len(), 1);
        assert_eq!(c.findings[0].fix.as_ref().unwrap().safety, Safety::Safe);
        assert_eq!(
            c.fixed,
            "FROM node:20-slim\nWORKDIR /app\nCOPY --chown=node:node package.json package-lock.json ./\n# deps\nRUN npm ci\nCOPY --chown=node:node . .\nCMD [\"node\", \"server.js\"]\n"
        );
    }

    #[test]
    fn splits_install_from_build() {
        let src = "FROM node:20\r\nWORKDIR /app\r\nCOPY . /app\r\nRUN npm ci && \\\r\n    npm cache clean --force && \\\r\n    npm run build\r\n";
        let c = check(
            &CopyOrder,
            src,
            Some(&[("package.json", PKG), ("yarn.lock", "")]),
        );
        assert_eq!(
            c.fixed,
            "FROM node:20\r\nWORKDIR /app\r\nCOPY package.json yarn.lock /app/\r\nRUN npm ci && \\\r\n    npm cache clean --force\r\nCOPY . /app\r\nRUN npm run build\r\n"
        );
    }

    #[test]
    fn lifecycle_scripts_make_it_unsafe() {
        let pkg = r#"{"scripts":{"postinstall":"node build.js"}}"#;
        let src = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install\n";
        let c = check(&CopyOrder, src, Some(&[("package.json", pkg)]));
        let fix = c.findings[0].fix.as_ref().unwrap();
        assert_eq!(fix.safety, Safety::Unsafe);
        assert!(c.findings[0].message.contains("postinstall"));
        assert_eq!(
            c.fixed,
            "FROM node:20\nWORKDIR /app\nCOPY package.json ./\nRUN npm install\nCOPY . .\n"
        );
    }

    #[test]
    fn pip_requirements_with_includes() {
        let src = "FROM python:3.12-slim\nWORKDIR /srv\nCOPY . .\nRUN pip install --no-cache-dir -r requirements/prod.txt\nCMD [\"python\", \"app.py\"]\n";
        let c = check(
            &CopyOrder,
            src,
            Some(&[
                ("requirements/prod.txt", "-r base.txt\ngunicorn\n"),
                ("requirements/base.txt", "flask==3.0\n"),
            ]),
        );
        assert_eq!(
            c.fixed,
            "FROM python:3.12-slim\nWORKDIR /srv\nCOPY requirements/prod.txt requirements/base.txt ./requirements/\nRUN pip install --no-cache-dir -r requirements/prod.txt\nCOPY . .\nCMD [\"python\", \"app.py\"]\n"
        );
    }

    #[test]
    fn noop_workdir_in_between_and_root_destination() {
        let src = "FROM python:3.7.13\n\nCOPY . .\nWORKDIR .\n\nRUN pip install -r requirements.txt\n\nCMD [ \"python\", \"app.py\" ]\n";
        let c = check(&CopyOrder, src, Some(&[("requirements.txt", "flask\n")]));
        assert_eq!(
            c.fixed,
            "FROM python:3.7.13\n\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . .\nWORKDIR .\n\nCMD [ \"python\", \"app.py\" ]\n"
        );
    }

    #[test]
    fn env_in_between_moves_the_copy_down_instead() {
        let src = "FROM node:20\nWORKDIR /app\nCOPY . .\nARG NODE_ENV=production\nENV NODE_ENV=$NODE_ENV\nRUN npm ci && npm run build\nCMD [\"node\", \".\"]\n";
        let c = check(
            &CopyOrder,
            src,
            Some(&[("package.json", PKG), ("package-lock.json", "{}")]),
        );
        assert_eq!(
            c.fixed,
            "FROM node:20\nWORKDIR /app\nCOPY package.json package-lock.json ./\nARG NODE_ENV=production\nENV NODE_ENV=$NODE_ENV\nRUN npm ci\nCOPY . .\nRUN npm run build\nCMD [\"node\", \".\"]\n"
        );
        let src = "FROM python:3.12-slim\nWORKDIR /srv\nCOPY . .\nENV PIP_NO_CACHE_DIR=1\nRUN pip install -r requirements.txt\n";
        let c = check(&CopyOrder, src, Some(&[("requirements.txt", "flask\n")]));
        assert_eq!(
            c.fixed,
            "FROM python:3.12-slim\nWORKDIR /srv\nCOPY requirements.txt ./\nENV PIP_NO_CACHE_DIR=1\nRUN pip install -r requirements.txt\nCOPY . .\n"
        );
    }

    #[test]
    fn go_mod_download_with_existing_manifest_copy() {
        let src = "FROM golang:1.22 AS build\nWORKDIR /src\nCOPY go.* ./\nCOPY . .\nRUN go mod download\nRUN go build -o /app .\n";
        let c = check(
            &CopyOrder,
            src,
            Some(&[("go.mod", "module x\n"), ("go.sum", "")]),
        );
        assert_eq!(
            c.fixed,
            "FROM golang:1.22 AS build\nWORKDIR /src\nCOPY go.* ./\nRUN go mod download\nCOPY . .\nRUN go build -o /app .\n"
        );
    }

    #[test]
    fn findings_without_fix() {
        let cases: &[(&str, &[(&str, &str)])] = &[
            // pip install . reads the source
            (
                "FROM python:3\nWORKDIR /a\nCOPY . .\nRUN pip install .\n",
                &[("setup.py", "")],
            ),
            // editable requirement
            (
                "FROM python:3\nWORKDIR /a\nCOPY . .\nRUN pip install -r r.txt\n",
                &[("r.txt", "-e .\n")],
            ),
            // workspaces
            (
                "FROM node:20\nWORKDIR /a\nCOPY . .\nRUN npm ci\n",
                &[("package.json", r#"{"workspaces":["a"]}"#)],
            ),
            // something in between
            (
                "FROM node:20\nWORKDIR /a\nCOPY . .\nRUN apt-get update\nRUN npm ci\n",
                &[("package.json", PKG)],
            ),
            // install not first
            (
                "FROM node:20\nWORKDIR /a\nCOPY . .\nRUN npm run gen && npm ci\n",
                &[("package.json", PKG)],
            ),
            // no WORKDIR known relation
            (
                "FROM node:20\nWORKDIR /a\nCOPY . /b\nRUN npm ci\n",
                &[("package.json", PKG)],
            ),
            // manifest ignored
            (
                "FROM node:20\nWORKDIR /a\nCOPY . .\nRUN npm ci\n",
                &[("package.json", PKG), (".dockerignore", "package.json\n")],
            ),
            // cargo
            (
                "FROM rust:1\nWORKDIR /a\nCOPY . .\nRUN cargo fetch\n",
                &[("Cargo.toml", "")],
            ),
        ];
        for (src, files) in cases {
            let c = check(&CopyOrder, src, Some(files));
            assert_eq!(c.findings.len(), 1, "{src}");
            assert!(c.findings[0].fix.is_none(), "{src}: {:#?}", c.findings);
        }
        let c = check(
            &CopyOrder,
            "FROM node:20\nWORKDIR /a\nCOPY . .\nRUN npm ci\n",
            None,
        );
        assert!(c.findings[0].fix.is_none());
    }

    #[test]
    fn os_package_installs_are_not_dependency_installs() {
        let src = "FROM debian:12\nWORKDIR /a\nCOPY . .\nRUN apt-get update && apt-get install -y make\nRUN apk add gcc\n";
        let c = check(&CopyOrder, src, Some(&[]));
        assert!(c.findings.is_empty(), "{:#?}", c.findings);
    }

    #[test]
    fn must_not_fire() {
        for src in [
            "FROM node:20\nWORKDIR /a\nCOPY package.json .\nRUN npm install\nCOPY . .\n",
            "FROM node:20\nWORKDIR /a\nCOPY . .\nRUN npm install -g nodemon\n",
            "FROM node:20\nWORKDIR /a\nCOPY . .\nRUN npm run build\n",
            "FROM node:20 AS a\nCOPY . .\nFROM node:20\nRUN npm ci\n",
            "FROM node:20\nCOPY --from=build /a .\nRUN npm ci\n",
        ] {
            let c = check(&CopyOrder, src, Some(&[("package.json", PKG)]));
            assert!(c.findings.is_empty(), "{src}: {:#?}", c.findings);
        }
    }
}
