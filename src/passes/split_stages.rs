#![doc = include_str!("split_stages/docs.md")]

mod c;
pub(crate) mod go;
mod java;
mod node;
mod paths;
mod python;
mod runtime_files;
mod rust;
mod script;

use crate::fix::{Edit, Finding, Fix};
use crate::passes::{healthcheck, Pass, PassContext};
use crate::profiles::{ImageRef, ProfileKind};
use crate::syntax::{Command, Dockerfile, Healthcheck, Instruction, InstructionKind, Span};
use paths::{inside, resolve, unquote};
use script::SimpleCommand;
use std::collections::BTreeMap;

/// DOP013 `split-stages`.
pub struct SplitStages;

const CODE: &str = "DOP013";
const NAME: &str = "split-stages";
/// The stage name given to the build stage when the FROM has none.
const BUILD_STAGE: &str = "build";
use python::VENV;

impl Pass for SplitStages {
    fn code(&self) -> &'static str {
        CODE
    }
    fn name(&self) -> &'static str {
        NAME
    }
    fn summary(&self) -> &'static str {
        "Split a single-stage toolchain build into a build stage and a small runtime stage"
    }
    fn docs(&self) -> &'static str {
        include_str!("split_stages/docs.md")
    }
    fn related(&self) -> &'static [&'static str] {
        &["docker docs: multi-stage builds"]
    }
    fn run(&self, ctx: &PassContext) -> Vec<Finding> {
        ctx.split_plan().map(finding).into_iter().collect()
    }
}

/// The split of `ctx.file`, planned on the model before any pass changes the
/// stage: None when the pass has nothing to say, else the build step found and
/// either the edits or the reason there are none. Cached on the context
/// ([`PassContext::split_plan`]) so that the passes that harden the final stage
/// can wait for the runtime stage ([`PassContext::split_pending`]).
pub fn plan(ctx: &PassContext) -> Option<Found> {
    let mut found = analyze(ctx)?;
    if found.plan.is_ok() {
        if let Some((line, text)) = crate::evidence::generated::generated_marker(&ctx.file.source) {
            found.plan = Err(format!(
                "line {line} says `{text}`, so the split belongs in the template or generator \
                 that writes this file, not in it (an edit here is overwritten by its next run)"
            ));
        }
    }
    Some(found)
}

/// The DOP013 finding for a planned split.
pub fn finding(found: &Found) -> Finding {
    {
        let (message, fix) = match &found.plan {
            Ok(plan) => (
                format!(
                    "{} builds on {} and the toolchain ships with the app; \
                     split into a build stage and a runtime stage on {}{}",
                    found.step, found.base, plan.runtime, plan.note
                ),
                Some(Fix::unsafe_(plan.edits.clone())),
            ),
            Err(reason) => (
                format!(
                    "{} builds on {} and the toolchain ships with the app; \
                     a build stage would help, but no automatic split: {}",
                    found.step, found.base, reason
                ),
                None,
            ),
        };
        Finding {
            code: CODE,
            name: NAME,
            message,
            span: found.span,
            fix,
        }
    }
}

/// The language family of a build, from its base image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Node,
    Python,
    Go,
    Java,
    Rust,
    /// C/C++ with gcc/make on a `gcc` image or a distribution image.
    C,
}

/// What the pass found: a build step on a build image, and either a plan or the
/// reason there is none.
pub struct Found {
    span: Span,
    /// "`npm ci` (line 5)".
    step: String,
    base: String,
    plan: Result<Plan, String>,
}

impl Found {
    /// True if the split comes with a fix.
    pub fn has_fix(&self) -> bool {
        self.plan.is_ok()
    }
}

struct Plan {
    runtime: String,
    /// Extra words for the message (what is copied, what was kept).
    note: String,
    edits: Vec<Edit>,
}

/// What one instruction before the split point becomes in the runtime stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Carry {
    /// Stays in the build stage only (build steps, sources, build tools).
    Stay,
    /// Repeated verbatim in the runtime stage (ENV, WORKDIR, metadata, runtime
    /// packages, user creation).
    Repeat,
}

/// The run-time part of RUNs that also install build tools, made anew for the
/// runtime stage: `apt-get install gcc libpq-dev curl && useradd app` becomes
/// an install of `curl libpq5` and the `useradd`.
#[derive(Default)]
struct Rebuilt {
    packages: Vec<String>,
    /// User and group creation commands, as shell text.
    users: Vec<String>,
    /// The users and groups they create.
    created: Vec<String>,
}

/// What a Go build does about cgo.
#[derive(Debug)]
enum Cgo {
    /// CGO_ENABLED=0 is set for every `go build`.
    Off,
    /// The sources in the build context use no cgo: the split sets CGO_ENABLED=0.
    NotUsed(go::Source),
    /// The program needs cgo (why).
    Used(String),
    /// No sources to tell (or not a Go build).
    Unknown,
}

/// One RUN, read.
struct RunInfo {
    commands: Vec<SimpleCommand>,
    parsed: bool,
    /// The working directory each command runs in (after `cd`s), if known.
    cwds: Vec<Option<String>>,
}

fn run_info(inst: &Instruction, workdir: Option<&str>) -> Option<RunInfo> {
    let InstructionKind::Run(command) = &inst.kind else {
        return None;
    };
    let (mut commands, mut parsed) = match command {
        Command::Shell { text, .. } => script::commands(text),
        Command::Exec { args, .. } => script::exec_commands(args),
    };
    for heredoc in &inst.heredocs {
        let (more, ok) = script::commands(&heredoc.content);
        commands.extend(more);
        parsed &= ok;
    }
    let mut cwd = workdir.map(str::to_string);
    let mut cwds = Vec::new();
    for c in &commands {
        cwds.push(cwd.clone());
        if c.program() == "cd" {
            cwd = match (c.args().first(), &cwd) {
                (Some(dir), Some(cur)) if !dir.contains('$') && dir != "-" => {
                    Some(resolve(cur, dir))
                }
                _ => None,
            };
        }
    }
    Some(RunInfo {
        commands,
        parsed,
        cwds,
    })
}

/// Image references with variables resolved from the global ARG defaults.
fn expand_args(text: &str, args: &BTreeMap<String, String>) -> Option<String> {
    if !text.contains('$') {
        return Some(text.to_string());
    }
    let mut out = String::new();
    let mut rest = text;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        rest = &rest[pos + 1..];
        let (name, after) = if let Some(r) = rest.strip_prefix('{') {
            let end = r.find('}')?;
            let inner = &r[..end];
            if !inner
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
            {
                return None;
            }
            (inner, &r[end + 1..])
        } else {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            (&rest[..end], &rest[end..])
        };
        out.push_str(args.get(name)?);
        rest = after;
    }
    out.push_str(rest);
    Some(out)
}

fn family_of(ctx: &PassContext, image: &ImageRef, base: &str) -> Option<Family> {
    for p in ctx.profiles.for_base_image(base) {
        if p.kind != ProfileKind::Ecosystem {
            continue;
        }
        match p.runtime.as_deref() {
            Some("node") => return Some(Family::Node),
            Some("python") => return Some(Family::Python),
            Some("go") => return Some(Family::Go),
            Some("java") => return Some(Family::Java),
            Some("rust") => return Some(Family::Rust),
            _ => {}
        }
    }
    let repo = image.repository.as_str();
    if repo == "gcc" || is_distro(repo) {
        return Some(Family::C);
    }
    None
}

/// Plain distribution images, where a C build installs its compiler with the
/// package manager and the runtime stage can use the same image.
fn is_distro(repo: &str) -> bool {
    matches!(
        repo,
        "debian" | "ubuntu" | "alpine" | "fedora" | "rockylinux" | "almalinux"
    )
}

/// What a command means for the split.
#[derive(Debug, Clone, PartialEq)]
enum Role {
    /// A dependency install or build of the family's toolchain.
    Build(BuildKind),
    /// OS package manager: install of these packages (empty for update/clean).
    Packages(Vec<String>),
    /// OS package manager: removes packages (`apt-get purge`, `apk del`).
    RemovesPackages,
    /// Installs a tool globally (`npm install -g nodemon`): the image keeps it.
    GlobalTool,
    /// Creates users or groups.
    Users,
    /// Changes files: the paths it writes (resolved; None if unknown).
    Writes(Option<Vec<String>>),
    /// Reads or prints only; no lasting effect.
    Harmless,
    /// Cannot tell.
    Unknown,
}

#[derive(Debug, Clone, PartialEq)]
enum BuildKind {
    /// npm/yarn/pnpm install; `dev` when devDependencies are included.
    NodeInstall {
        tool: &'static str,
        dev: bool,
    },
    /// A node build script (`npm run build`).
    NodeBuild,
    PipInstall,
    GoBuild,
    Maven,
    Gradle,
    Javac,
    Jar,
    Cargo,
    /// gcc/cc/g++/clang, make, cmake...
    CBuild,
    /// A toolchain command whose output is not an artefact (`go mod download`).
    Aux,
    /// A toolchain command the pass cannot plan for, with the reason.
    Unsupported(String),
}

const OS_PACKAGE_TOOLS: &[&str] = &[
    "apt-get", "apt", "aptitude", "apk", "dnf", "yum", "microdnf", "zypper",
];
const USER_TOOLS: &[&str] = &[
    "useradd", "adduser", "groupadd", "addgroup", "usermod", "groupmod",
];
const HARMLESS: &[&str] = &[
    "echo", "printf", "true", "false", "ls", "cat", "test", "[", "set", "export", "cd", "pwd",
    "which", "id", "whoami", "sleep", "env", "uname", "head", "tail", "grep", "wc", "du", "df",
    "stat", "exit", ":", "rm", "unset",
];
/// Write files; the destination is the last operand (or all operands).
const FILE_TOOLS: &[&str] = &[
    "mkdir", "chmod", "chown", "chgrp", "touch", "ln", "cp", "mv", "install", "tee", "sed",
];
/// Directories whose contents are caches or scratch space: writes there do not
/// matter at run time.
const SCRATCH_DIRS: &[&str] = &[
    "/tmp",
    "/var/tmp",
    "/root/.npm",
    "/root/.cache",
    "/root/.m2",
    "/root/.gradle",
    "/home/node/.npm",
    "/var/lib/apt/lists",
    "/var/cache",
    "/usr/local/share/.cache",
    "/go/pkg",
    "/usr/local/cargo/registry",
    "/usr/local/cargo/git",
    "/dev/null",
];

/// Packages that only serve to build.
fn is_build_only_package(pkg: &str) -> bool {
    let name = pkg.split(['=', ':']).next().unwrap_or(pkg);
    matches!(
        name,
        "gcc"
            | "g++"
            | "cpp"
            | "make"
            | "cmake"
            | "build-essential"
            | "build-base"
            | "autoconf"
            | "automake"
            | "libtool"
            | "pkg-config"
            | "pkgconf"
            | "git"
            | "bison"
            | "flex"
            | "ninja-build"
            | "meson"
            | "clang"
            | "llvm"
            | "musl-dev"
            | "linux-headers"
            | "libc6-dev"
            | "libc-dev"
            | "linux-libc-dev"
            | "python3-dev"
            | "python-dev"
            | "golang"
            | "golang-go"
            | "maven"
            | "gradle"
            | "cargo"
            | "rustc"
    ) || name.starts_with("gcc-")
        || name.starts_with("g++-")
        || name.starts_with("clang-")
        || name.starts_with("openjdk-") && name.contains("jdk")
        || name.starts_with("default-jdk")
        || is_dev_package(name)
        || python::is_build_only_package(name)
}

/// `-dev`/`-devel` packages: headers whose runtime library the app then links.
fn is_dev_package(name: &str) -> bool {
    name.ends_with("-dev") || name.ends_with("-devel")
}

/// Headers that come with a compiler rather than with a library the app links.
fn is_toolchain_header_package(name: &str) -> bool {
    matches!(
        name,
        "musl-dev"
            | "linux-headers"
            | "libc6-dev"
            | "libc-dev"
            | "linux-libc-dev"
            | "python3-dev"
            | "python-dev"
    ) || name.starts_with("python3.")
}

fn node_tool(program: &str) -> Option<&'static str> {
    match program {
        "npm" => Some("npm"),
        "yarn" => Some("yarn"),
        "pnpm" => Some("pnpm"),
        _ => None,
    }
}

/// The role of one command for a build of `family`.
fn role(ctx: &PassContext, family: Family, cmd: &SimpleCommand, cwd: Option<&str>) -> Role {
    let program = cmd.program();
    let sub = cmd.subcommand().unwrap_or("");
    if program.is_empty() {
        return Role::Harmless;
    }
    if OS_PACKAGE_TOOLS.contains(&program) {
        if matches!(sub, "purge" | "remove" | "autoremove" | "del" | "erase") {
            return Role::RemovesPackages;
        }
        let packages = match crate::model::commands::package_change(&cmd.argv) {
            Some(crate::model::commands::PackageChange::Install { packages, .. }) => packages,
            _ => Vec::new(),
        };
        return Role::Packages(packages);
    }
    if USER_TOOLS.contains(&program) {
        return Role::Users;
    }
    if let Some(kind) = build_kind(ctx, family, cmd) {
        return match kind {
            Some(k) => Role::Build(k),
            None => Role::GlobalTool,
        };
    }
    if HARMLESS.contains(&program) {
        return Role::Harmless;
    }
    if FILE_TOOLS.contains(&program) {
        let operands = cmd.operands(&["-m", "-o", "-g", "-t", "-e", "-f"]);
        let targets: Vec<&str> = match program {
            "cp" | "mv" | "ln" | "install" => operands.last().into_iter().copied().collect(),
            "chmod" | "chown" | "chgrp" => operands.iter().skip(1).copied().collect(),
            "sed" => {
                if !cmd.has_flag(&["-i"]) && !cmd.args().iter().any(|a| a.starts_with("-i")) {
                    return Role::Harmless;
                }
                operands.iter().skip(1).copied().collect()
            }
            _ => operands,
        };
        let Some(cwd) = cwd else {
            return Role::Writes(None);
        };
        if targets.iter().any(|t| t.contains('$') || t.contains('`')) {
            return Role::Writes(None);
        }
        return Role::Writes(Some(targets.iter().map(|t| resolve(cwd, t)).collect()));
    }
    if program == "git" {
        return git_role(cmd, cwd);
    }
    // Cache cleanup of the family's package managers.
    if matches!(program, "npm" | "yarn" | "pnpm" | "pip" | "pip3") && sub == "cache" {
        return Role::Harmless;
    }
    Role::Unknown
}

/// What a `git` command writes: `git clone URL [DIR]` the clone (DIR, else
/// the repository's name in the working directory), other subcommands the
/// repository they run in (`-C DIR`, else the working directory); `git config`
/// and read-only subcommands nothing that matters at run time.
fn git_role(cmd: &SimpleCommand, cwd: Option<&str>) -> Role {
    let args = cmd.args();
    let mut dir = cwd.map(str::to_string);
    let mut i = 0;
    // Global options before the subcommand.
    while let Some(a) = args.get(i) {
        match a.as_str() {
            "-C" => {
                let Some(d) = args.get(i + 1) else {
                    return Role::Writes(None);
                };
                dir = dir.filter(|_| !d.contains('$')).map(|cur| resolve(&cur, d));
                i += 2;
            }
            "-c" => i += 2,
            a if a.starts_with('-') => i += 1,
            _ => break,
        }
    }
    let Some(sub) = args.get(i).map(String::as_str) else {
        return Role::Harmless;
    };
    let rest = SimpleCommand {
        env: Vec::new(),
        argv: args[i..].to_vec(),
    };
    match sub {
        "config" | "describe" | "log" | "rev-parse" | "status" | "show" | "version"
        | "ls-remote" | "diff" => Role::Harmless,
        "clone" => {
            let ops = rest.operands(&[
                "--depth",
                "--branch",
                "-b",
                "--origin",
                "-o",
                "--config",
                "-c",
                "--reference",
                "--separate-git-dir",
                "--jobs",
                "-j",
                "--filter",
                "--shallow-since",
                "--shallow-exclude",
                "--template",
                "-u",
                "--upload-pack",
            ]);
            let target = match ops.as_slice() {
                [url] => url
                    .trim_end_matches('/')
                    .trim_end_matches(".git")
                    .rsplit(['/', ':'])
                    .next()
                    .unwrap_or("")
                    .to_string(),
                [_, d] => d.to_string(),
                _ => return Role::Writes(None),
            };
            match dir {
                Some(cur) if !target.is_empty() && !target.contains('$') => {
                    Role::Writes(Some(vec![resolve(&cur, &target)]))
                }
                _ => Role::Writes(None),
            }
        }
        _ => Role::Writes(dir.map(|d| vec![d])),
    }
}

/// Some(Some(kind)) for a toolchain command, Some(None) for a global tool install,
/// None for anything else.
fn build_kind(ctx: &PassContext, family: Family, cmd: &SimpleCommand) -> Option<Option<BuildKind>> {
    let program = cmd.program();
    let sub = cmd.subcommand().unwrap_or("");
    let argv: Vec<&str> = cmd.argv.iter().map(String::as_str).collect();
    match family {
        Family::Node => {
            if let Some(tool) = node_tool(program) {
                let global = cmd.has_flag(&["-g", "--global"]) || sub == "global";
                let install = matches!(sub, "ci" | "install" | "i" | "add")
                    || (tool == "yarn" && cmd.args().is_empty());
                if install && global {
                    return Some(None);
                }
                if install {
                    // Named packages (`npm install express`) still install the
                    // project's devDependencies with npm.
                    let prod = cmd.has_flag(&["--production", "--prod", "-P"])
                        || cmd.option_value(&["--omit"]) == Some("dev")
                        || cmd
                            .option_value(&["--only"])
                            .is_some_and(|v| v.starts_with("prod"));
                    return Some(Some(BuildKind::NodeInstall { tool, dev: !prod }));
                }
                if matches!(sub, "run" | "run-script") || (tool != "npm" && sub == "build") {
                    return Some(Some(BuildKind::NodeBuild));
                }
                if tool == "npm" && matches!(sub, "prune" | "rebuild") {
                    return Some(Some(BuildKind::Aux));
                }
                return None;
            }
            if ctx
                .profiles
                .build_command(&argv)
                .is_some_and(|p| p.runtime.as_deref() == Some("node"))
            {
                return Some(Some(BuildKind::NodeBuild));
            }
            None
        }
        Family::Python => python::build_kind(cmd).map(Some),
        Family::Go => {
            if program != "go" {
                return None;
            }
            Some(Some(match sub {
                "build" => BuildKind::GoBuild,
                "install" if cmd.args().iter().any(|a| a.contains('@')) => BuildKind::Unsupported(
                    "`go install PKG@VERSION` installs a tool the runtime stage may need; \
                     install it there or build the app with `go build -o`"
                        .into(),
                ),
                "install" => BuildKind::GoBuild,
                "mod" | "get" | "generate" | "test" | "vet" | "version" | "env" | "list" => {
                    BuildKind::Aux
                }
                _ => return None,
            }))
        }
        Family::Java => match program {
            "mvn" | "mvnw" => Some(Some(BuildKind::Maven)),
            "gradle" | "gradlew" => Some(Some(BuildKind::Gradle)),
            "javac" => Some(Some(BuildKind::Javac)),
            "jar" => Some(Some(BuildKind::Jar)),
            _ => None,
        },
        Family::Rust => match (program, sub) {
            ("cargo", "build" | "install") => Some(Some(BuildKind::Cargo)),
            ("cargo", "fetch" | "test" | "check" | "clippy" | "fmt") => Some(Some(BuildKind::Aux)),
            ("rustc", _) => Some(Some(BuildKind::Unsupported(
                "`rustc` is called directly; the output is not known".into(),
            ))),
            _ => None,
        },
        Family::C => match program {
            "gcc" | "cc" | "g++" | "c++" | "clang" | "clang++" | "make" | "cmake" | "ninja"
            | "configure" => Some(Some(BuildKind::CBuild)),
            // Autotools set-up: generates the build files, builds nothing.
            "autogen.sh" | "bootstrap" | "bootstrap.sh" | "autoreconf" | "aclocal" | "autoconf"
            | "automake" | "autoheader" | "libtoolize" => Some(Some(BuildKind::Aux)),
            _ => None,
        },
    }
}

/// Runs `analyze` over the file. None when the pass has nothing to say.
fn analyze(ctx: &PassContext) -> Option<Found> {
    let file = ctx.file;
    let stages = file.stages();
    // Multi-stage files are already split (this is also what makes the rewrite
    // converge).
    if stages.len() != 1 {
        return None;
    }
    let stage = &stages[0];
    if file
        .instructions
        .iter()
        .any(|i| matches!(i.kind, InstructionKind::Onbuild(_)))
    {
        return None; // a base image for others: its toolchain is the point
    }
    let from_inst = &file.instructions[stage.from_instruction];
    let InstructionKind::From(from) = &from_inst.kind else {
        return None;
    };
    let global_args: BTreeMap<String, String> = file.instructions[..stage.from_instruction]
        .iter()
        .filter_map(|i| match &i.kind {
            InstructionKind::Arg(decls) => Some(decls),
            _ => None,
        })
        .flatten()
        .filter_map(|d| {
            d.default
                .as_ref()
                .map(|v| (d.name.clone(), unquote(v).to_string()))
        })
        .collect();
    let base = expand_args(&from.image.value, &global_args)?;
    let image = ImageRef::parse(&base)?;
    let mut family = family_of(ctx, &image, &base)?;

    // Walk the stage: working directory and role of each command.
    let body = stage.from_instruction + 1..stage.instructions.end;
    let mut workdir: Option<String> = Some("/".to_string());
    let mut workdirs: Vec<Option<String>> = Vec::new(); // in effect at each instruction
    let mut runs: BTreeMap<usize, RunInfo> = BTreeMap::new();
    for idx in body.clone() {
        let inst = &file.instructions[idx];
        if let InstructionKind::Workdir(w) = &inst.kind {
            let w = unquote(&w.value);
            workdir = match &workdir {
                Some(cur) if !w.contains('$') => Some(resolve(cur, w)),
                _ => None,
            };
        }
        workdirs.push(workdir.clone());
        if let Some(info) = run_info(inst, workdir.as_deref()) {
            runs.insert(idx, info);
        }
    }
    let workdir_at = |idx: usize| workdirs[idx - body.start].clone();
    // A distribution image with the system's python3 and pip: a Python build.
    let distro_python =
        family == Family::C && is_distro(&image.repository) && python::on_distro(&runs);
    if distro_python {
        family = Family::Python;
    }
    let roles: BTreeMap<usize, Vec<Role>> = runs
        .iter()
        .map(|(&idx, info)| {
            let roles = info
                .commands
                .iter()
                .zip(&info.cwds)
                .map(|(c, cwd)| role(ctx, family, c, cwd.as_deref()))
                .collect();
            (idx, roles)
        })
        .collect();
    let is_build_run = |idx: usize| {
        roles
            .get(&idx)
            .is_some_and(|r| r.iter().any(|r| matches!(r, Role::Build(_))))
    };
    let build_runs: Vec<usize> = body.clone().filter(|&i| is_build_run(i)).collect();
    let split_after = *build_runs.last()?;
    let builds: Vec<(usize, usize, BuildKind)> = roles
        .iter()
        .flat_map(|(&idx, rs)| {
            rs.iter().enumerate().filter_map(move |(n, r)| match r {
                Role::Build(k) => Some((idx, n, k.clone())),
                _ => None,
            })
        })
        .collect();
    if builds.iter().all(|(_, _, k)| matches!(k, BuildKind::Aux)) {
        return None;
    }

    // Does splitting gain anything? Runtime images already in use gain nothing
    // from a base swap.
    let runtime_mapped = ctx.profiles.runtime_for(&base);
    let already_runtime = ctx.profiles.is_runtime_image(&base);
    // With NODE_ENV=production in force, npm and yarn leave devDependencies out.
    let production_env_at = |idx: usize| {
        file.instructions[body.start..idx]
            .iter()
            .rev()
            .find_map(|i| match &i.kind {
                InstructionKind::Env(kvs) => kvs
                    .iter()
                    .rev()
                    .find(|kv| kv.key == "NODE_ENV")
                    .map(|kv| unquote(&kv.value) == "production"),
                _ => None,
            })
            .unwrap_or(false)
    };
    let node_dev_install = builds.iter().any(|(idx, n, k)| {
        matches!(k, BuildKind::NodeInstall { dev: true, .. })
            && !production_env_at(*idx)
            && runs[idx].commands[*n].env_value("NODE_ENV") != Some("production")
    });
    let node_build_script = builds
        .iter()
        .any(|(_, _, k)| matches!(k, BuildKind::NodeBuild));
    let run_scripts = npm_scripts_run_at_start(file, body.clone());
    let dev = if family == Family::Node {
        node::dev_dependencies(ctx.build_context, &run_scripts)
    } else {
        node::DevDependencies::default()
    };
    match family {
        Family::Python if !distro_python && (already_runtime || runtime_mapped.is_none()) => {
            return None
        }
        Family::Node => {
            // Only a package.json that lists devDependencies is evidence that a
            // prune gains anything.
            // (A build script alone gains nothing: its tools are devDependencies.)
            let has_dev = dev.listed.as_ref().is_some_and(|l| !l.is_empty());
            let base_swap = runtime_mapped.is_some();
            if !(base_swap || ((node_dev_install || node_build_script) && has_dev)) {
                return None;
            }
        }
        Family::Go | Family::Java | Family::Rust if already_runtime => return None,
        _ => {}
    }
    if family == Family::C && removes_packages(&roles) {
        // Built from source with build dependencies purged afterwards (the
        // official images' pattern): the toolchain does not ship.
        return None;
    }
    if family == Family::C && image.repository != "gcc" {
        // On a distribution image, a C build needs a compiler installed first.
        let installs_compiler = roles.values().flatten().any(|r| match r {
            Role::Packages(p) => p.iter().any(|p| is_build_only_package(p)),
            _ => false,
        });
        if !installs_compiler {
            return None;
        }
    }

    let last = &file.instructions[split_after];
    // Name the main build step: the last real one (`npm run build`, `mvn package`).
    let (step_idx, step_n) = builds
        .iter()
        .rev()
        .find(|(_, _, k)| !matches!(k, BuildKind::Aux))
        .map(|(idx, n, _)| (*idx, *n))
        .unwrap_or((split_after, 0));
    let step = format!(
        "`{}` (line {})",
        short_command(&runs[&step_idx].commands[step_n]),
        file.instructions[step_idx].start_line
    );
    let span = Span::new(
        last.keyword_span.start,
        last.args_span.end.max(last.keyword_span.end),
    );
    let planner = Planner {
        ctx,
        file,
        family,
        base: &base,
        image: &image,
        body: body.clone(),
        split_after,
        runs: &runs,
        roles: &roles,
        workdir_at: &workdir_at,
        dev: &dev,
        node_dev_install,
        distro_python,
    };
    Some(Found {
        span,
        step,
        base: base.clone(),
        plan: planner.plan(),
    })
}

/// A command as the message names it: `npm run build`, `go build`, `gcc`.
fn short_command(c: &SimpleCommand) -> String {
    let words: Vec<&str> = c
        .argv
        .iter()
        .map(String::as_str)
        .filter(|w| !w.starts_with('-'))
        .collect();
    let take = match c.program() {
        "npm" | "yarn" | "pnpm" if matches!(c.subcommand(), Some("run" | "run-script")) => 3,
        "npm" | "yarn" | "pnpm" | "pip" | "go" | "cargo" | "mvn" | "mvnw" | "gradle"
        | "gradlew" => 2,
        p if p.starts_with("pip3") => 2,
        _ => 1,
    };
    words[..take.min(words.len())].join(" ")
}

/// True if some RUN removes OS packages again (`apt-get purge`, `apk del`).
fn removes_packages(roles: &BTreeMap<usize, Vec<Role>>) -> bool {
    roles
        .values()
        .flatten()
        .any(|r| matches!(r, Role::RemovesPackages))
}

/// npm scripts that CMD/ENTRYPOINT start (`npm start` → `start`).
fn npm_scripts_run_at_start(file: &Dockerfile, body: std::ops::Range<usize>) -> Vec<String> {
    let mut out = Vec::new();
    for idx in body {
        let cmds = match &file.instructions[idx].kind {
            InstructionKind::Cmd(c) | InstructionKind::Entrypoint(c) => command_list(c),
            _ => continue,
        };
        for c in cmds {
            if node_tool(c.program()).is_none() {
                continue;
            }
            match c.subcommand() {
                Some("start") => out.push("start".to_string()),
                Some("run" | "run-script") => {
                    if let Some(name) = c.operands(&[]).get(1) {
                        out.push(name.to_string());
                    }
                }
                Some(s) if c.program() != "npm" => out.push(s.to_string()),
                _ => {}
            }
        }
    }
    out
}

fn command_list(c: &Command) -> Vec<SimpleCommand> {
    match c {
        Command::Shell { text, .. } => script::commands(text).0,
        Command::Exec { args, .. } => script::exec_commands(args).0,
    }
}

/// Programs a full language image has that its slim/runtime counterpart lacks.
const FULL_IMAGE_ONLY: &[&str] = &[
    "curl",
    "wget",
    "git",
    "gcc",
    "g++",
    "cc",
    "c++",
    "make",
    "cmake",
    "ssh",
    "scp",
    "gpg",
    "unzip",
    "zip",
    "bzip2",
    "xz",
    "svn",
    "hg",
    "patch",
    "file",
    "ps",
    "netstat",
    "nc",
    "jq",
    "vim",
    "less",
    "openssl",
    "go",
    "gofmt",
    "cargo",
    "rustc",
    "rustup",
    "javac",
    "jar",
    "jlink",
    "jshell",
    "mvn",
    "mvnw",
    "gradle",
    "gradlew",
    "clang",
    "pkg-config",
];

/// The package that provides a small tool of the full images (`ps` → procps) on
/// an apt or apk based runtime image; None for toolchains and unknown OSes.
fn tool_package(program: &str, os: &str) -> Option<String> {
    if !matches!(os, "apt" | "apk") {
        return None;
    }
    let pkg = match program {
        "curl" | "wget" | "git" | "unzip" | "zip" | "bzip2" | "jq" | "less" | "openssl"
        | "file" | "patch" => program,
        "ps" => "procps",
        "xz" if os == "apt" => "xz-utils",
        "xz" => "xz",
        "nc" => "netcat-openbsd",
        "gpg" => "gnupg",
        "ssh" | "scp" => "openssh-client",
        "netstat" => "net-tools",
        _ => return None,
    };
    Some(pkg.to_string())
}

fn push_unique(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}

/// Programs an OS package provides under another name.
fn programs_of_package(pkg: &str) -> Vec<String> {
    let name = pkg.split(['=', ':']).next().unwrap_or(pkg);
    let mut out = vec![name.to_string()];
    match name {
        "procps" | "procps-ng" => out.extend(["ps".into(), "pkill".into()]),
        "netcat-openbsd" | "netcat-traditional" | "netcat" => out.push("nc".into()),
        "xz-utils" => out.push("xz".into()),
        "openssh-client" => out.extend(["ssh".into(), "scp".into()]),
        "gnupg" => out.push("gpg".into()),
        _ => {}
    }
    out
}

struct Planner<'a> {
    ctx: &'a PassContext<'a>,
    /// Python with the distribution's python3 (`apt-get install python3-pip`):
    /// the runtime stage is the same distribution with python3 only.
    distro_python: bool,
    file: &'a Dockerfile,
    family: Family,
    base: &'a str,
    image: &'a ImageRef,
    body: std::ops::Range<usize>,
    split_after: usize,
    runs: &'a BTreeMap<usize, RunInfo>,
    roles: &'a BTreeMap<usize, Vec<Role>>,
    workdir_at: &'a dyn Fn(usize) -> Option<String>,
    dev: &'a node::DevDependencies,
    node_dev_install: bool,
}

/// A path copied from the build stage to the same place in the runtime stage.
struct Artefact {
    /// Absolute source path in the build stage (may end in a `*.jar` glob).
    source: String,
    /// Absolute destination.
    dest: String,
}

impl Planner<'_> {
    /// Where lines go that open the build stage: right after its FROM line,
    /// above the comments that belong to the first instruction; and the line
    /// ending to write first when the FROM is the file's unterminated last line.
    fn stage_top(&self) -> (usize, &'static str) {
        let file = self.file;
        let end = file.instructions[self.body.start - 1].span.end;
        if file.source[..end].ends_with('\n') {
            return (end, "");
        }
        match file.source[end..].find('\n') {
            Some(i) => (end + i + 1, ""),
            None => (file.source.len(), file.line_ending.as_str()),
        }
    }

    fn line(&self, idx: usize) -> usize {
        self.file.instructions[idx].start_line
    }

    fn plan(&self) -> Result<Plan, String> {
        let file = self.file;
        let l = self.split_after;
        for (&idx, info) in self.runs {
            if idx <= l && !info.parsed {
                return Err(format!(
                    "the RUN at line {} could not be read as shell",
                    self.line(idx)
                ));
            }
        }
        if let Some(reason) = self.roles.iter().find_map(|(_, rs)| {
            rs.iter().find_map(|r| match r {
                Role::Build(BuildKind::Unsupported(why)) => Some(why.clone()),
                _ => None,
            })
        }) {
            return Err(reason);
        }
        let app_dir = (self.workdir_at)(l);
        let Some(app_dir) = app_dir else {
            return Err("the WORKDIR uses a variable".into());
        };

        // What the runtime stage copies, and the directories it covers.
        let mut note = String::new();
        let mut artefacts: Vec<Artefact> = Vec::new();
        let mut pre_edits: Vec<Edit> = Vec::new();
        let mut prune: Option<String> = None;
        let mut venv_at: Option<usize> = None;
        let mut py_runtime_libs: Vec<String> = Vec::new();
        match self.family {
            Family::Node => {
                if app_dir == "/" {
                    return Err(
                        "there is no WORKDIR, so the app's files are not in one directory to copy"
                            .into(),
                    );
                }
                self.check_node_installs_in(&app_dir)?;
                if !self.dev.needed_at_run_time.is_empty() {
                    let used: Vec<String> = self
                        .dev
                        .needed_at_run_time
                        .iter()
                        .map(|(d, f)| format!("`{d}` ({f})"))
                        .collect();
                    if self.ctx.profiles.runtime_for(self.base).is_none() {
                        return Err(format!(
                            "the app uses devDependencies at run time: {}; move them to \
                             dependencies first, then a runtime stage can leave the rest out",
                            used.join(", ")
                        ));
                    }
                    note = format!(" (devDependencies kept: the app uses {})", used.join(", "));
                } else if self.node_dev_install
                    && self.dev.listed.as_ref().is_some_and(|l| !l.is_empty())
                {
                    prune = Some(self.prune_command());
                    note = format!(
                        "; copies {app_dir} with production dependencies only (`{}`)",
                        prune.as_deref().unwrap_or_default()
                    );
                }
                if note.is_empty() {
                    note = format!("; copies {app_dir}");
                }
                artefacts.push(Artefact {
                    source: app_dir.clone(),
                    dest: app_dir.clone(),
                });
            }
            Family::Python => {
                let first_pip = self
                    .roles
                    .iter()
                    .find(|(_, rs)| {
                        rs.iter()
                            .any(|r| matches!(r, Role::Build(BuildKind::PipInstall)))
                    })
                    .map(|(&i, _)| i)
                    .ok_or("no pip install")?;
                if let Some(user) = self.user_at(first_pip) {
                    if !is_root(&user) {
                        return Err(format!("pip runs as `{user}`, which cannot create {VENV}"));
                    }
                }
                if !self.distro_python {
                    let libs = python::check_packages(
                        self.ctx
                            .build_context
                            .and_then(|b| b.read("requirements.txt"))
                            .as_deref(),
                        self.image.tag.contains("alpine"),
                    )?;
                    if !libs.is_empty() {
                        note.push_str(&format!(
                            "; installs {} there for what requirements.txt builds against",
                            libs.join(", ")
                        ));
                    }
                    py_runtime_libs = libs;
                }
                venv_at = Some(first_pip);
                let le = file.line_ending.as_str();
                let venv = python::venv_command(
                    self.distro_python,
                    self.os_of(self.base),
                    &self.installed_before(first_pip),
                );
                pre_edits.push(Edit::insert(
                    file.instructions[first_pip].span.start,
                    format!("{} {venv}{le}{}{le}", self.kw("RUN"), self.venv_env()),
                ));
                artefacts.push(Artefact {
                    source: VENV.into(),
                    dest: VENV.into(),
                });
                if app_dir != "/" {
                    artefacts.push(Artefact {
                        source: app_dir.clone(),
                        dest: app_dir.clone(),
                    });
                    note =
                        format!("; installs dependencies into {VENV} and copies it with {app_dir}");
                } else {
                    note = format!("; installs dependencies into {VENV} and copies it");
                }
            }
            _ => {
                artefacts = self.compiled_artefacts()?;
                if self.family == Family::Java {
                    artefacts.extend(self.java_run_time_inputs(&artefacts)?);
                }
                // A Go program that reads files by relative path (templates,
                // static assets, a SQLite file) needs its working directory.
                let reads = match self.family {
                    Family::Go => match self.cgo() {
                        Cgo::NotUsed(src) => src.reads_files,
                        _ => go::scan(self.ctx.build_context).and_then(|s| s.reads_files),
                    },
                    Family::C => runtime_files::reads_files(self.ctx.build_context, false),
                    Family::Rust => runtime_files::reads_files(self.ctx.build_context, true),
                    _ => None,
                };
                match reads {
                    Some(read) => {
                        if app_dir == "/" {
                            return Err(format!(
                                "the program may read files next to it at run time ({read}), and there is no WORKDIR to copy them from; build in a WORKDIR, or embed the files in the binary"
                            ));
                        }
                        let under = format!("{}/", app_dir.trim_end_matches('/'));
                        artefacts.retain(|a| !a.source.starts_with(&under));
                        artefacts.push(Artefact {
                            source: app_dir.clone(),
                            dest: app_dir.clone(),
                        });
                        let list: Vec<&str> = artefacts.iter().map(|a| a.source.as_str()).collect();
                        note = format!(
                            "; copies {} (the program may read files there at run time: {read})",
                            list.join(", ")
                        );
                    }
                    _ => {
                        let list: Vec<&str> = artefacts.iter().map(|a| a.source.as_str()).collect();
                        note = format!("; copies only {}", list.join(", "));
                    }
                }
            }
        }
        let cgo = self.cgo();
        if let Cgo::NotUsed(_) = &cgo {
            // No cgo in the sources: build a static binary.
            if !self
                .roles
                .values()
                .any(|rs| rs.contains(&Role::Build(BuildKind::GoBuild)))
            {
                return Err("no go build".into());
            }
            let le = file.line_ending.as_str();
            // First in the build stage, with the standard library compiled
            // for that setting into Go's build cache: the layer does not
            // depend on the sources, so a source edit recompiles only the
            // app (Go 1.20+ ships no compiled standard library, and one made
            // with cgo would not serve a CGO_ENABLED=0 build anyway).
            let (top, nl) = self.stage_top();
            pre_edits.push(Edit::insert(
                top,
                format!(
                    "{nl}{} CGO_ENABLED=0{le}{} go build std{le}",
                    self.kw("ENV"),
                    self.kw("RUN")
                ),
            ));
            note.push_str(
                "; builds with CGO_ENABLED=0 (no cgo in the sources), with the standard library \
                 compiled first in a layer of its own so a source edit recompiles only the app",
            );
        }
        match &cgo {
            Cgo::Used(why) => note.push_str(&format!("; links libc ({why})")),
            Cgo::Unknown if self.family == Family::Go => note.push_str(
                "; links libc (no go.mod and .go files in the build context to rule cgo out)",
            ),
            _ => {}
        }
        let covered: Vec<String> = artefacts.iter().map(|a| a.source.clone()).collect();

        // Carry each instruction before the split.
        let mut carry: Vec<(usize, Carry)> = Vec::new();
        let mut runtime_packages: Vec<String> = Vec::new();
        let mut rebuilt = Rebuilt::default();
        let mut repeats_run = false;
        let build_cwds = self.build_cwds();
        // Where build steps may write freely: what is copied, its parent folders,
        // and (for compiled builds) the source trees left behind.
        let mut build_area = covered.clone();
        if !matches!(self.family, Family::Node | Family::Python) {
            build_area.extend(build_cwds.iter().cloned());
        }
        for idx in self.body.start..=l {
            let inst = &file.instructions[idx];
            let c = match &inst.kind {
                InstructionKind::Run(_) => {
                    let (c, pkgs) = self.carry_run(idx, &build_area, &mut rebuilt)?;
                    runtime_packages.extend(pkgs);
                    repeats_run |= c == Carry::Repeat;
                    c
                }
                InstructionKind::Copy(args) | InstructionKind::Add(args) => {
                    let Some(cwd) = (self.workdir_at)(idx) else {
                        return Err("the WORKDIR uses a variable".into());
                    };
                    let dest = unquote(&args.dest.value);
                    if dest.contains('$') {
                        return Err(format!(
                            "the destination of line {} uses a variable",
                            self.line(idx)
                        ));
                    }
                    let dest = resolve(&cwd, dest);
                    let within = |dirs: &[String]| dirs.iter().any(|d| inside(&dest, d));
                    let is_source = match self.family {
                        Family::Node | Family::Python => within(&covered),
                        // Also the source tree a build folder sits in
                        // (`COPY . /app`, then `cmake ..` in /app/build).
                        _ => {
                            within(&build_cwds)
                                || within(&covered)
                                || build_cwds.iter().any(|c| inside(c, &dest))
                        }
                    };
                    if is_source {
                        Carry::Stay
                    } else {
                        Carry::Repeat
                    }
                }
                InstructionKind::Arg(_) => Carry::Stay, // decided below, when used
                InstructionKind::From(_) => Carry::Stay,
                _ => Carry::Repeat,
            };
            carry.push((idx, c));
        }
        // ARGs the runtime stage uses are declared again.
        let mut runtime_text_probe = String::new();
        for (idx, c) in &carry {
            if *c == Carry::Repeat {
                runtime_text_probe.push_str(file.text(file.instructions[*idx].span));
            }
        }
        for inst in &file.instructions[l + 1..self.body.end] {
            runtime_text_probe.push_str(file.text(inst.span));
        }
        for (idx, c) in carry.iter_mut() {
            if let InstructionKind::Arg(decls) = &file.instructions[*idx].kind {
                if decls.iter().any(|d| uses_var(&runtime_text_probe, &d.name)) {
                    *c = Carry::Repeat;
                }
            }
        }

        // Runtime-stage programs: post-split RUNs and the start commands.
        // A static Go binary reads CA certificates and time zones as files:
        // distroless static has them, and scratch gets them copied from the
        // build stage, so installing them does not need a shell there.
        let static_go = self.family == Family::Go && matches!(cgo, Cgo::Off | Cgo::NotUsed(_));
        let copied_data = |p: &str| static_go && matches!(p, "ca-certificates" | "tzdata");
        let needs_shell = repeats_run
            || !rebuilt.users.is_empty()
            || rebuilt.packages.iter().any(|p| !copied_data(p))
            || !py_runtime_libs.is_empty()
            || self.post_split_needs_shell();
        let runtime = self.runtime_image(needs_shell, &cgo)?;
        let mut data_wanted = (false, false);
        if self.shell_less(&runtime) {
            data_wanted = (
                rebuilt.packages.iter().any(|p| p == "ca-certificates"),
                rebuilt.packages.iter().any(|p| p == "tzdata"),
            );
            rebuilt.packages.retain(|p| !copied_data(p));
        }
        let mut runtime_user: Option<&str> = None;
        if runtime == "scratch" {
            // scratch has no CA certificates, time zones or /etc/passwd.
            let (tls, tz) = match &cgo {
                Cgo::NotUsed(src) => (src.tls || data_wanted.0, src.tz || data_wanted.1),
                _ => (true, true),
            };
            if (tls || tz) && self.image.tag.contains("alpine") {
                return Err(format!(
                    "the program may need CA certificates or time zones, which scratch lacks and {} \
                     has not installed to copy; use distroless static",
                    self.base
                ));
            }
            for (wanted, path) in [
                (tls, "/etc/ssl/certs/ca-certificates.crt"),
                (tz, "/usr/share/zoneinfo"),
            ] {
                if wanted {
                    artefacts.push(Artefact {
                        source: path.into(),
                        dest: path.into(),
                    });
                }
            }
            if self.user_at(self.body.end).is_none() {
                runtime_user = Some("65532:65532");
            }
        }
        // A curl/wget HEALTHCHECK on a shell-less runtime: a static probe built
        // in the build stage asks the same URL.
        let probe = self.go_probe();
        let body = || self.body.clone().map(|i| &file.instructions[i].kind);
        // No HEALTHCHECK, but DOP012 knows a GET path and port: the same
        // static probe, which DOP012 then uses on the shell-less runtime.
        let evidence_probe = probe.is_none()
            && static_go
            && self.shell_less(&runtime)
            && !body().any(|k| matches!(k, InstructionKind::Healthcheck(_)))
            && self
                .ctx
                .model()
                .stage_of(self.body.start)
                .and_then(|stage| healthcheck::http_evidence(self.ctx, file, stage))
                .is_some();
        if probe.is_some() || evidence_probe {
            // First in the build stage: it does not depend on the sources, so it
            // stays cached when they change (and no ENV of the file reaches it).
            let (top, nl) = self.stage_top();
            pre_edits.push(Edit::insert(
                top,
                format!(
                    "{nl}{} {}{}",
                    self.kw("RUN"),
                    go::probe_build_script(),
                    file.line_ending.as_str()
                ),
            ));
            artefacts.push(Artefact {
                source: go::PROBE.into(),
                dest: go::PROBE.into(),
            });
            let which = if probe.is_some() { "the" } else { "a" };
            note.push_str(&format!(
                "; builds a static HTTP probe ({}) for {which} HEALTHCHECK, as {runtime} has no curl or wget",
                go::PROBE
            ));
        }
        if let Some((_, url, span)) = &probe {
            pre_edits.push(Edit::replace(
                *span,
                format!("[\"{}\", \"{url}\"]", go::PROBE),
            ));
        }
        if probe.is_none()
            && !evidence_probe
            && self.shell_less(&runtime)
            && body().any(|k| matches!(k, InstructionKind::Expose(_)))
            && !body().any(|k| matches!(k, InstructionKind::Healthcheck(_)))
        {
            let unblock = if self.family == Family::Go {
                "a HEALTHCHECK that runs `curl -f` on localhost would get a static probe built"
            } else {
                "a HEALTHCHECK needs a probe program copied into the image"
            };
            note.push_str(&format!(
                "; no HEALTHCHECK: {runtime} has no shell or HTTP client to run one with, and \
                 which path answers on the port is not known ({unblock})"
            ));
        }
        // Small tools the full image had and the runtime stage uses (a curl
        // HEALTHCHECK) are installed there; toolchains are not.
        let mut tools = self.check_runtime_programs(&runtime, &runtime_packages, &covered)?;
        if self.family == Family::Rust && !self.shell_less(&runtime) {
            for p in self.rust_runtime_packages()? {
                push_unique(&mut tools, p);
            }
        }
        for p in &rebuilt.packages {
            push_unique(&mut tools, p.clone());
        }
        for p in &py_runtime_libs {
            push_unique(&mut tools, p.clone());
        }
        if self.distro_python
            && !runtime_packages
                .iter()
                .chain(&tools)
                .any(|p| python::is_interpreter_package(p))
        {
            // `python3-pip` brought python3 in; the runtime stage installs it alone.
            tools.insert(0, "python3".to_string());
        }
        self.check_users(&runtime, &carry, &rebuilt.created)?;

        // Render.
        let le = file.line_ending.as_str();
        let mut text = String::new();
        let insert_at = file.instructions[l].span.end;
        if !file.source[..insert_at].ends_with('\n') {
            text.push_str(le);
        }
        if let Some(p) = &prune {
            text.push_str(&format!("{} {p}{le}", self.kw("RUN")));
        }
        text.push_str(le);
        let platform: Vec<&str> = file.instructions[self.body.start - 1]
            .flags
            .iter()
            .map(|f| file.text(f.span))
            .collect();
        text.push_str(&self.kw("FROM"));
        text.push(' ');
        for p in &platform {
            text.push_str(p);
            text.push(' ');
        }
        text.push_str(&runtime);
        text.push_str(le);
        if !tools.is_empty() {
            let os = self
                .ctx
                .profiles
                .os_for_image(&runtime)
                .map(|p| p.name.as_str());
            let install = if os == Some("apk") {
                format!("apk add --no-cache {}", tools.join(" "))
            } else {
                format!(
                    "apt-get update && apt-get install -y --no-install-recommends {} && \
                     rm -rf /var/lib/apt/lists/*",
                    tools.join(" ")
                )
            };
            if !matches!(os, Some("apk" | "apt")) {
                return Err(format!(
                    "the runtime stage needs {}, and {runtime} has no known package manager",
                    tools.join(", ")
                ));
            }
            text.push_str(&format!("{} {install}{le}", self.kw("RUN")));
            note.push_str(&format!("; installs {} there", tools.join(", ")));
        }
        if !rebuilt.users.is_empty() {
            text.push_str(&format!(
                "{} {}{le}",
                self.kw("RUN"),
                rebuilt.users.join(" && ")
            ));
        }
        for (idx, c) in &carry {
            if Some(*idx) == venv_at {
                text.push_str(&self.venv_env());
                text.push_str(le);
            }
            if *c != Carry::Repeat {
                continue;
            }
            let inst_text = file.text(file.instructions[*idx].span);
            text.push_str(inst_text);
            if !inst_text.ends_with('\n') {
                text.push_str(le);
            }
        }
        let chown = self
            .user_at(l + 1)
            .filter(|u| !is_root(u))
            .map(|u| format!("--chown={u} "))
            .unwrap_or_default();
        let stage_name = self.stage_name();
        for a in &artefacts {
            text.push_str(&format!(
                "{} --from={stage_name} {chown}{} {}{le}",
                self.kw("COPY"),
                a.source,
                a.dest
            ));
        }
        let mut edits = pre_edits;
        if let Some(rename) = self.rename_edit() {
            edits.push(rename);
        }
        if let Some(dir) = self.start_program_dir(&artefacts) {
            // The build image found the program on its PATH (`/go/bin` in golang).
            text.push_str(&format!("{} PATH=\"{dir}:$PATH\"{le}", self.kw("ENV")));
        }
        if let Some(u) = runtime_user {
            text.push_str(&format!("{} {u}{le}", self.kw("USER")));
        }
        edits.push(Edit::insert(insert_at, text));
        Ok(Plan {
            runtime,
            note,
            edits: vec![self.whole_stage_edit(&edits)],
        })
    }

    /// The split as one edit over the whole stage (FROM to the end of the file),
    /// with the same output as the small edits. Every other pass's edit inside
    /// the stage then conflicts with it, so the fix loop applies those first and
    /// the split is planned again on their result in a later round: a user that
    /// another pass creates before the split point, or a COPY it moves after it,
    /// is then carried into the runtime stage like any other instruction.
    fn whole_stage_edit(&self, edits: &[Edit]) -> Edit {
        let source = &self.file.source;
        let start = self.file.instructions[self.body.start - 1].span.start;
        let shifted: Vec<Edit> = edits
            .iter()
            .map(|e| {
                Edit::replace(
                    Span::new(e.span.start - start, e.span.end - start),
                    e.content.clone(),
                )
            })
            .collect();
        Edit::replace(
            Span::new(start, source.len()),
            crate::fix::apply::apply_edits(&source[start..], &shifted),
        )
    }

    /// The keyword, in the case the file's FROM uses.
    fn kw(&self, upper: &str) -> String {
        let from_kw = &self.file.instructions[self.body.start - 1].keyword;
        if from_kw.chars().all(|c| c.is_ascii_lowercase()) {
            upper.to_ascii_lowercase()
        } else {
            upper.to_string()
        }
    }

    fn venv_env(&self) -> String {
        format!("{} PATH=\"{VENV}/bin:$PATH\"", self.kw("ENV"))
    }

    fn stage_name(&self) -> String {
        match &self.file.instructions[self.body.start - 1].kind {
            InstructionKind::From(f) => f
                .alias
                .as_ref()
                .map(|a| a.value.clone())
                .unwrap_or_else(|| BUILD_STAGE.to_string()),
            _ => BUILD_STAGE.to_string(),
        }
    }

    /// ` AS build` after the image, unless the FROM is already named.
    fn rename_edit(&self) -> Option<Edit> {
        match &self.file.instructions[self.body.start - 1].kind {
            InstructionKind::From(f) if f.alias.is_none() => Some(Edit::insert(
                f.image.span.end,
                format!(" {} {BUILD_STAGE}", self.kw("AS")),
            )),
            _ => None,
        }
    }

    /// The USER in effect at instruction `idx` (None: root by default).
    fn user_at(&self, idx: usize) -> Option<String> {
        self.file.instructions[self.body.start..idx]
            .iter()
            .rev()
            .find_map(|i| match &i.kind {
                InstructionKind::User(w) => Some(unquote(&w.value).to_string()),
                _ => None,
            })
    }

    fn prune_command(&self) -> String {
        let tools: Vec<&str> = self
            .roles
            .values()
            .flatten()
            .filter_map(|r| match r {
                Role::Build(BuildKind::NodeInstall { tool, .. }) => Some(*tool),
                _ => None,
            })
            .collect();
        if tools.contains(&"yarn") && !tools.contains(&"npm") {
            return "yarn install --production --ignore-scripts --prefer-offline".into();
        }
        if tools.contains(&"pnpm") && !tools.contains(&"npm") {
            return "pnpm prune --prod".into();
        }
        // npm 6 (node ≤ 14) knows only --production.
        match node::major_version(&self.image.tag) {
            Some(major) if major <= 14 => "npm prune --production".into(),
            _ => "npm prune --omit=dev".into(),
        }
    }

    /// Node installs must run in the app directory for the prune and copy to hold.
    fn check_node_installs_in(&self, app_dir: &str) -> Result<(), String> {
        for (&idx, info) in self.runs {
            for (n, c) in info.commands.iter().enumerate() {
                let is_install = matches!(
                    self.roles[&idx][n],
                    Role::Build(BuildKind::NodeInstall { .. })
                );
                if !is_install {
                    continue;
                }
                if c.has_flag(&["--prefix", "-C", "--cwd", "--dir"]) {
                    return Err(format!(
                        "the install at line {} uses another directory",
                        self.line(idx)
                    ));
                }
                if info.cwds[n].as_deref() != Some(app_dir) {
                    return Err(format!(
                        "the install at line {} runs outside the WORKDIR {app_dir}",
                        self.line(idx)
                    ));
                }
            }
        }
        if self
            .ctx
            .build_context
            .is_some_and(|b| b.exists(".yarnrc.yml"))
        {
            return Err(
                "Yarn 2+ (.yarnrc.yml) has no production-only install to prune with".into(),
            );
        }
        Ok(())
    }

    /// The OS profile name of an image (`apt`, `apk`).
    fn os_of(&self, image: &str) -> Option<&str> {
        self.ctx
            .profiles
            .os_for_image(image)
            .map(|p| p.name.as_str())
    }

    /// OS packages installed by the RUNs before instruction `idx`.
    fn installed_before(&self, idx: usize) -> Vec<String> {
        self.roles
            .range(..idx)
            .flat_map(|(_, rs)| rs)
            .filter_map(|r| match r {
                Role::Packages(p) => Some(p.clone()),
                _ => None,
            })
            .flatten()
            .collect()
    }

    /// Directories the toolchain ran in (the source trees).
    fn build_cwds(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (&idx, info) in self.runs {
            for (n, cwd) in info.cwds.iter().enumerate() {
                if matches!(self.roles[&idx][n], Role::Build(_)) {
                    if let Some(cwd) = cwd {
                        if cwd != "/" && !out.contains(cwd) {
                            out.push(cwd.clone());
                        }
                    }
                }
            }
        }
        out
    }

    /// The build output of a compiled family, or why it is not known.
    fn compiled_artefacts(&self) -> Result<Vec<Artefact>, String> {
        let mut out: Vec<Artefact> = Vec::new();
        let mut javac_dirs: Vec<Artefact> = Vec::new();
        let mut unknown: Option<String> = None;
        let all_commands: Vec<&SimpleCommand> =
            self.runs.values().flat_map(|i| &i.commands).collect();
        let mut installed_prefix = false;
        let push = |out: &mut Vec<Artefact>, path: String| {
            if !out.iter().any(|a| a.source == path) {
                // A glob copies into its folder (`/app/target/*.jar` → `/app/target/`).
                let dest = match path.rsplit_once('/') {
                    Some((dir, last)) if last.contains('*') => format!("{dir}/"),
                    _ => path.clone(),
                };
                out.push(Artefact { dest, source: path });
            }
        };
        for (&idx, info) in self.runs {
            for (n, c) in info.commands.iter().enumerate() {
                let Role::Build(kind) = &self.roles[&idx][n] else {
                    continue;
                };
                let line = self.line(idx);
                let Some(cwd) = info.cwds[n].clone() else {
                    return Err(format!(
                        "the build at line {line} runs in an unknown directory (a `cd` to a computed path); \
                         build in a WORKDIR or an absolute folder to let the pass copy its output"
                    ));
                };
                match kind {
                    BuildKind::GoBuild => {
                        let path = self.go_binary_path(c, &cwd, line)?;
                        push(&mut out, path);
                    }
                    BuildKind::Maven => {
                        let pom = self
                            .context_file_of(&resolve(&cwd, "pom.xml"))
                            .and_then(|rel| self.ctx.build_context?.read(&rel));
                        if let Some(jar) = java::maven_output(c, &cwd, line, pom.as_deref())? {
                            push(&mut out, jar);
                        }
                    }
                    BuildKind::Gradle => {
                        if let Some(jars) = java::gradle_output(c, &cwd, line)? {
                            push(&mut out, jars);
                        }
                    }
                    BuildKind::Jar => push(&mut out, java::jar_output(c, &cwd, line)?),
                    BuildKind::Javac => match java::javac_output(c, &cwd, line) {
                        Ok(p) => {
                            if !javac_dirs.iter().any(|a| a.source == p) {
                                javac_dirs.push(Artefact {
                                    dest: p.clone(),
                                    source: p,
                                });
                            }
                        }
                        Err(why) => unknown = Some(why),
                    },
                    BuildKind::Cargo => {
                        let bins = self.cargo_binaries(c)?;
                        let sub = c.subcommand().unwrap_or("");
                        if sub == "install" {
                            let root = c.option_value(&["--root"]).unwrap_or("/usr/local/cargo");
                            for b in bins {
                                push(&mut out, resolve(&cwd, &format!("{root}/bin/{b}")));
                            }
                            continue;
                        }
                        if c.has_flag(&["--target-dir", "--manifest-path"]) {
                            return Err(format!(
                                "cargo at line {line} uses another target or manifest path"
                            ));
                        }
                        let profile = if c.has_flag(&["--release", "-r"]) {
                            "release".to_string()
                        } else if let Some(p) = c.option_value(&["--profile"]) {
                            if p == "dev" {
                                "debug".to_string()
                            } else {
                                p.to_string()
                            }
                        } else {
                            "debug".to_string()
                        };
                        let triple = c
                            .option_value(&["--target"])
                            .map(|t| format!("{t}/"))
                            .unwrap_or_default();
                        for b in bins {
                            push(
                                &mut out,
                                resolve(&cwd, &format!("target/{triple}{profile}/{b}")),
                            );
                        }
                    }
                    BuildKind::CBuild => {
                        let p = c.program();
                        if matches!(p, "gcc" | "cc" | "g++" | "c++" | "clang" | "clang++") {
                            if c.has_flag(&["-c", "-E", "-S"]) {
                                continue;
                            }
                            if matches!(p, "g++" | "c++" | "clang++")
                                && self.image.repository == "gcc"
                                && !c
                                    .args()
                                    .iter()
                                    .any(|a| a == "-static" || a == "-static-libstdc++")
                            {
                                return Err(format!(
                                    "the C++ program built at line {line} links the gcc image's newer libstdc++, \
                                     which a Debian runtime lacks; link with -static-libstdc++"
                                ));
                            }
                            match c.option_value(&["-o"]) {
                                Some(o) if !o.contains('$') => push(&mut out, resolve(&cwd, o)),
                                _ => {
                                    if !c.has_flag(&["-o"]) {
                                        push(&mut out, resolve(&cwd, "a.out"));
                                    }
                                }
                            }
                        } else if let Some(prefix) = c::install_prefix(c, &all_commands, line)? {
                            if self.image.repository == "gcc" && prefix == "/usr/local" {
                                return Err(format!(
                                    "`{p} install` at line {line} installs into /usr/local, where the gcc \
                                     image keeps its compiler; install with a prefix such as /opt/app"
                                ));
                            }
                            installed_prefix = true;
                            push(&mut out, prefix);
                        } else if installed_prefix {
                            continue;
                        } else if let Some(prog) = self.start_program_path() {
                            push(&mut out, prog);
                        } else {
                            unknown = Some(format!(
                                "`{p}` at line {line} builds files the pass cannot name, and CMD/ENTRYPOINT \
                                 does not name the program"
                            ));
                        }
                    }
                    _ => {}
                }
            }
        }
        // A program `make` built and `make install` copied under the prefix is
        // copied with the prefix.
        let sources: Vec<String> = out.iter().map(|a| a.source.clone()).collect();
        out.retain(|a| {
            !sources
                .iter()
                .any(|s| *s != a.source && !s.contains('*') && inside(&a.source, s))
        });
        if out.is_empty() {
            out = javac_dirs;
        }
        if let Some(why) = unknown {
            if out.is_empty() {
                return Err(why);
            }
        }
        if out.is_empty() {
            return Err("the build output is not known".into());
        }
        Ok(out)
    }

    /// Binary names a cargo command builds (from `--bin` or Cargo.toml).
    fn cargo_binaries(&self, c: &SimpleCommand) -> Result<Vec<String>, String> {
        if let Some(b) = c.option_value(&["--bin"]) {
            return Ok(vec![b.to_string()]);
        }
        let toml = self
            .ctx
            .build_context
            .and_then(|b| b.read("Cargo.toml"))
            .ok_or("Cargo.toml is not readable, so the binary's name is unknown")?;
        rust::binaries(&toml)
    }

    /// What the runtime stage of a Rust build installs: the libraries of the
    /// `-sys` crates in Cargo.lock, CA certificates when the program reads them.
    fn rust_runtime_packages(&self) -> Result<Vec<String>, String> {
        let context = self.ctx.build_context;
        let toml = context.and_then(|b| b.read("Cargo.toml")).ok_or(
            "Cargo.toml is not readable, so which system libraries the program links is unknown",
        )?;
        let lock = context.and_then(|b| b.read("Cargo.lock"));
        rust::runtime_packages(&toml, lock.as_deref(), self.image.tag.contains("alpine"))
    }

    /// The program CMD/ENTRYPOINT starts, as an absolute path, when it is a path.
    fn start_program_path(&self) -> Option<String> {
        let (idx, c) = self.start_command()?;
        let args = c.rough_argv();
        let prog = args.first()?;
        if !prog.contains('/') || prog.contains('$') {
            return None;
        }
        Some(resolve(&(self.workdir_at)(idx)?, prog))
    }

    /// The folder of a copied program that CMD/ENTRYPOINT starts by its bare
    /// name, when the runtime image's PATH does not have that folder.
    fn start_program_dir(&self, artefacts: &[Artefact]) -> Option<String> {
        if matches!(self.family, Family::Node | Family::Python) {
            return None;
        }
        let (_, c) = self.start_command()?;
        let args = c.rough_argv();
        let prog = args.first()?;
        if prog.contains('/') || prog.contains('$') {
            return None;
        }
        let (dir, _) = artefacts
            .iter()
            .find_map(|a| a.dest.rsplit_once('/').filter(|(_, base)| base == prog))?;
        (!crate::model::commands::DEFAULT_PATH.contains(&dir)).then(|| dir.to_string())
    }

    /// The ENTRYPOINT, else the CMD, that the image ends with.
    fn start_command(&self) -> Option<(usize, &Command)> {
        let find = |want_entry: bool| {
            self.body
                .clone()
                .rev()
                .find_map(|i| match &self.file.instructions[i].kind {
                    InstructionKind::Entrypoint(c) if want_entry => Some((i, c)),
                    InstructionKind::Cmd(c) if !want_entry => Some((i, c)),
                    _ => None,
                })
        };
        find(true).or_else(|| find(false))
    }

    /// The build-context path that a COPY/ADD of the stage put at the absolute
    /// `path`, when the context has it (`""`: the context itself).
    fn context_file_of(&self, path: &str) -> Option<String> {
        let context = self.ctx.build_context?;
        for idx in self.body.clone().rev() {
            let inst = &self.file.instructions[idx];
            let (InstructionKind::Copy(args) | InstructionKind::Add(args)) = &inst.kind else {
                continue;
            };
            if inst.flag("from").is_some() {
                continue;
            }
            let Some(cwd) = (self.workdir_at)(idx) else {
                continue;
            };
            let dest_word = unquote(&args.dest.value);
            if dest_word.contains('$') {
                continue;
            }
            let dest = resolve(&cwd, dest_word);
            let dest_is_dir = dest_word.ends_with('/')
                || matches!(dest_word, "." | "./")
                || args.sources.len() > 1;
            for source in &args.sources {
                let s = unquote(&source.value);
                if s.contains(['$', '*', '?', '[']) || s.starts_with("<<") || s.contains("://") {
                    continue;
                }
                let rel = s.trim_start_matches("./").trim_matches('/');
                let rel = if rel == "." { "" } else { rel };
                if rel.split('/').any(|c| c == "..") {
                    continue;
                }
                let candidate = if rel.is_empty() || context.path().join(rel).is_dir() {
                    if !inside(path, &dest) {
                        continue;
                    }
                    let rest = path[dest.len()..].trim_start_matches('/');
                    match (rel.is_empty(), rest.is_empty()) {
                        (true, _) => rest.to_string(),
                        (false, true) => rel.to_string(),
                        (false, false) => format!("{rel}/{rest}"),
                    }
                } else {
                    let name = rel.rsplit('/').next().unwrap_or(rel);
                    let target = if dest_is_dir {
                        resolve(&dest, name)
                    } else {
                        dest.clone()
                    };
                    if target != path {
                        continue;
                    }
                    rel.to_string()
                };
                if context.exists(&candidate) {
                    return Some(candidate);
                }
            }
        }
        None
    }

    /// What the `java` start command reads besides the build output (a config
    /// folder, `-cp lib/*`): files the build context brought, copied from the
    /// build stage. `Err` names a path that a build step made and the split
    /// does not copy.
    fn java_run_time_inputs(&self, artefacts: &[Artefact]) -> Result<Vec<Artefact>, String> {
        let mut out: Vec<Artefact> = Vec::new();
        let build_cwds = self.build_cwds();
        for idx in self.body.clone() {
            let (InstructionKind::Cmd(c) | InstructionKind::Entrypoint(c)) =
                &self.file.instructions[idx].kind
            else {
                continue;
            };
            let Some(cwd) = (self.workdir_at)(idx) else {
                continue;
            };
            let argv = c.rough_argv();
            let start = argv
                .iter()
                .position(|a| a == "java" || a.ends_with("/java"))
                .map_or(0, |i| i + 1);
            for word in java::run_time_paths(&argv[start..]) {
                let path = resolve(&cwd, &word);
                let covered = artefacts.iter().chain(&out).any(|a| {
                    inside(&path, &a.source)
                        || (a.source.contains('*') && paths::glob_match(&a.source, &path))
                });
                if covered {
                    continue;
                }
                if self.context_file_of(&path).is_some() {
                    out.push(Artefact {
                        source: path.clone(),
                        dest: path,
                    });
                } else if build_cwds.iter().any(|d| inside(&path, d)) {
                    return Err(format!(
                        "the start command at line {} reads `{word}`, which the build stage \
                         makes and the split would not copy",
                        self.line(idx)
                    ));
                }
            }
        }
        Ok(out)
    }

    /// How a RUN before the split is carried, the packages it installs for
    /// the runtime stage, and what the runtime stage must get instead when the
    /// RUN also installs build tools (see [`Rebuilt`]).
    fn carry_run(
        &self,
        idx: usize,
        build_area: &[String],
        rebuilt: &mut Rebuilt,
    ) -> Result<(Carry, Vec<String>), String> {
        let line = self.line(idx);
        let info = &self.runs[&idx];
        let roles = &self.roles[&idx];
        let is_build = roles.iter().any(|r| matches!(r, Role::Build(_)));
        let mut build_pkgs = Vec::new();
        let mut run_pkgs = Vec::new();
        let mut runtime_libs = Vec::new();
        let mut users: Vec<Vec<String>> = Vec::new();
        let mut repeat_reasons = false;
        let mut other_reasons = false;
        let mut writes_inside = false;
        for (n, r) in roles.iter().enumerate() {
            match r {
                Role::Build(_) | Role::Harmless | Role::RemovesPackages => {}
                Role::Packages(pkgs) => {
                    for p in pkgs {
                        if p.starts_with('-') {
                            continue;
                        }
                        let name = p.split(['=', ':']).next().unwrap_or(p);
                        if matches!(self.family, Family::C | Family::Rust | Family::Python)
                            && is_dev_package(name)
                            && !is_toolchain_header_package(name)
                        {
                            let runtime = if self.family == Family::Rust
                                || (self.family == Family::Python && !self.distro_python)
                            {
                                // The runtime image when the program links more than libc.
                                self.ctx
                                    .profiles
                                    .runtime_for(self.base)
                                    .unwrap_or_else(|| self.base.to_string())
                            } else {
                                c::runtime_image(self.image, self.base)
                            };
                            match c::runtime_library(self.ctx.profiles, name, &runtime) {
                                Some(libs) => {
                                    for lib in libs.split_whitespace() {
                                        push_unique(&mut runtime_libs, lib.to_string());
                                    }
                                    build_pkgs.push(p.clone());
                                    continue;
                                }
                                None => {
                                    return Err(format!(
                                        "line {line} installs `{name}`, and which runtime library of {runtime} \
                                         the program then needs is not in the mapping; install that library in \
                                         the runtime stage by hand"
                                    ))
                                }
                            }
                        }
                        if is_dev_package(name) && !is_toolchain_header_package(name) {
                            return Err(format!(
                                "line {line} installs `{name}`: what is built against it needs the matching \
                                 library at run time, which the runtime image would lack"
                            ));
                        }
                        if is_build_only_package(p) {
                            build_pkgs.push(p.clone());
                        } else {
                            run_pkgs.push(p.clone());
                        }
                    }
                }
                Role::Users => {
                    repeat_reasons = true;
                    users.push(info.commands[n].argv.clone());
                }
                Role::GlobalTool => {
                    repeat_reasons = true;
                    other_reasons = true;
                }
                Role::Writes(paths) => {
                    let Some(paths) = paths else {
                        return Err(format!(
                            "`{}` at line {line} writes to a path the pass cannot resolve",
                            info.commands[n].program()
                        ));
                    };
                    for p in paths {
                        if SCRATCH_DIRS.iter().any(|d| inside(p, d)) {
                            continue;
                        }
                        if build_area.iter().any(|d| inside(p, d) || inside(d, p)) {
                            writes_inside = true;
                        } else {
                            repeat_reasons = true;
                            other_reasons = true;
                            if is_build {
                                return Err(format!(
                                    "line {line} writes {p}, outside what the runtime stage copies"
                                ));
                            }
                        }
                    }
                }
                Role::Unknown => {
                    return Err(format!(
                    "line {line} runs `{}`, and the pass cannot tell what it leaves for run time; \
                     move it to a RUN of its own after the build to unblock the split",
                    info.commands[n].program()
                ))
                }
            }
        }
        if !build_pkgs.is_empty() && !is_build && !other_reasons && !writes_inside {
            // Build tools and what runs (packages, users) in one RUN: the build
            // stage keeps the RUN, the runtime stage gets only the run-time part.
            for p in run_pkgs.iter().chain(&runtime_libs) {
                push_unique(&mut rebuilt.packages, p.clone());
            }
            for argv in users {
                if let Some(change) = crate::model::commands::account_change(&argv) {
                    match change {
                        crate::model::commands::AccountChange::User { name, .. }
                        | crate::model::commands::AccountChange::Group { name, .. } => {
                            rebuilt.created.push(name)
                        }
                    }
                }
                rebuilt.users.push(c::shell_words(&argv));
            }
            return Ok((Carry::Stay, run_pkgs));
        }
        if !runtime_libs.is_empty() {
            for p in &runtime_libs {
                push_unique(&mut rebuilt.packages, p.clone());
            }
        }
        if !build_pkgs.is_empty() && !run_pkgs.is_empty() {
            return Err(format!(
                "line {line} installs build tools ({}) together with other packages ({}); \
                 the pass cannot tell which the app needs at run time",
                build_pkgs.join(", "),
                run_pkgs.join(", ")
            ));
        }
        if is_build {
            if !run_pkgs.is_empty() || repeat_reasons {
                return Err(format!(
                    "line {line} installs packages, tools or users in the same RUN as the build; \
                     install them in a RUN of their own before the build to unblock the split"
                ));
            }
            return Ok((Carry::Stay, Vec::new()));
        }
        let installs = roles
            .iter()
            .any(|r| matches!(r, Role::Packages(p) if !p.is_empty()));
        let only_update = roles.iter().any(|r| matches!(r, Role::Packages(_))) && !installs;
        if only_update {
            // `apt-get update` alone: repeat it when a later package RUN is repeated.
            let later_repeats = self.roles.range(idx + 1..=self.split_after).any(|(_, rs)| {
                let pk: Vec<&String> = rs
                    .iter()
                    .filter_map(|r| match r {
                        Role::Packages(p) => Some(p),
                        _ => None,
                    })
                    .flatten()
                    .collect();
                !rs.iter().any(|r| matches!(r, Role::Build(_)))
                    && !pk.is_empty()
                    && pk.iter().all(|p| !is_build_only_package(p))
            });
            return Ok((
                if later_repeats {
                    Carry::Repeat
                } else {
                    Carry::Stay
                },
                Vec::new(),
            ));
        }
        if !run_pkgs.is_empty() || repeat_reasons {
            if writes_inside {
                return Err(format!(
                    "line {line} changes both the app directory and the system"
                ));
            }
            return Ok((Carry::Repeat, run_pkgs));
        }
        Ok((Carry::Stay, Vec::new()))
    }

    /// True if the runtime stage runs shell commands.
    fn post_split_needs_shell(&self) -> bool {
        let probe = self.go_probe().map(|(idx, _, _)| idx);
        (self.split_after + 1..self.body.end)
            .filter(|&idx| Some(idx) != probe)
            .map(|idx| &self.file.instructions[idx])
            .any(|i| match &i.kind {
                InstructionKind::Run(_) => true,
                InstructionKind::Cmd(c) | InstructionKind::Entrypoint(c) => !c.is_exec(),
                InstructionKind::Healthcheck(Healthcheck::Cmd(c)) => !c.is_exec(),
                _ => false,
            })
            || self.body.clone().any(|i| {
                matches!(&self.file.instructions[i].kind,
                    InstructionKind::Cmd(c) | InstructionKind::Entrypoint(c) if !c.is_exec())
            })
    }

    /// The runtime base image.
    fn runtime_image(&self, needs_shell: bool, cgo: &Cgo) -> Result<String, String> {
        if self.image.digest.is_some() {
            return Err(
                "the base image is pinned by digest; pick and pin a runtime image by hand".into(),
            );
        }
        let profiles = self.ctx.profiles;
        match self.family {
            Family::Node => Ok(profiles
                .runtime_for(self.base)
                .unwrap_or_else(|| self.base.to_string())),
            Family::Python if self.distro_python => Ok(c::runtime_image(self.image, self.base)),
            Family::Python | Family::Java => profiles
                .runtime_for(self.base)
                .ok_or_else(|| format!("no runtime image is known for {}", self.base)),
            Family::Rust => {
                // Distroless cc (glibc, libgcc, CA certificates) when the profile
                // allows it and the program links nothing else.
                let libc_only = self.rust_runtime_packages()?.is_empty();
                let facts: &[&str] = if libc_only { &["links-libc-only"] } else { &[] };
                let mapped = profiles
                    .runtime_for_with(self.base, facts)
                    .ok_or_else(|| format!("no runtime image is known for {}", self.base))?;
                if self.shell_less(&mapped) && (needs_shell || self.lacks_user(&mapped)) {
                    return profiles
                        .runtime_for(self.base)
                        .ok_or_else(|| format!("no runtime image is known for {}", self.base));
                }
                Ok(mapped)
            }
            Family::Go => {
                if let Cgo::Used(_) = cgo {
                    // A binary that links libc: the distribution's slim image.
                    return Ok(alpine_or_debian_slim(&self.image.tag));
                }
                let facts: &[&str] = if matches!(cgo, Cgo::Off | Cgo::NotUsed(_)) {
                    &["cgo-disabled"]
                } else {
                    &[]
                };
                let mapped = profiles
                    .runtime_for_with(self.base, facts)
                    .ok_or_else(|| format!("no runtime image is known for {}", self.base))?;
                if self.shell_less(&mapped) && (needs_shell || self.lacks_user(&mapped)) {
                    // Distroless/scratch have no shell or user tools: the
                    // build image's distribution (alpine's adduser differs).
                    return Ok(alpine_or_debian_slim(&self.image.tag));
                }
                Ok(mapped)
            }
            Family::C => Ok(c::runtime_image(self.image, self.base)),
        }
    }

    /// The HEALTHCHECK (index, URL, command span) after the split that a static Go probe
    /// replaces: a Go program without cgo whose runtime image from the profile has
    /// no shell or curl, and a HEALTHCHECK that asks its own HTTP server with
    /// curl or wget.
    fn go_probe(&self) -> Option<(usize, String, Span)> {
        if self.family != Family::Go || matches!(self.cgo(), Cgo::Used(_) | Cgo::Unknown) {
            return None;
        }
        let mapped = self
            .ctx
            .profiles
            .runtime_for_with(self.base, &["cgo-disabled"])?;
        if !self.shell_less(&mapped) {
            return None;
        }
        let idx = (self.split_after + 1..self.body.end).rev().find(|&i| {
            matches!(
                self.file.instructions[i].kind,
                InstructionKind::Healthcheck(_)
            )
        })?;
        let InstructionKind::Healthcheck(Healthcheck::Cmd(c)) = &self.file.instructions[idx].kind
        else {
            return None;
        };
        let text = self.file.text(c.span());
        go::http_probe_url(&command_list(c), text).map(|url| (idx, url, c.span()))
    }

    /// Distroless and scratch: no shell, no user tools, no package manager.
    fn shell_less(&self, image: &str) -> bool {
        self.ctx
            .profiles
            .for_base_image(image)
            .iter()
            .any(|p| p.kind == ProfileKind::Image)
            || image == "scratch"
    }

    fn needs_named_user(&self) -> bool {
        self.body
            .clone()
            .any(|i| match &self.file.instructions[i].kind {
                InstructionKind::User(w) => {
                    let u = unquote(&w.value);
                    let name = u.split(':').next().unwrap_or(u);
                    // Distroless images have root, nobody and nonroot in /etc/passwd.
                    !(name.bytes().all(|b| b.is_ascii_digit())
                        || matches!(name, "root" | "nobody" | "nonroot"))
                }
                _ => false,
            })
    }

    /// Whether `runtime` lacks a user that a USER of the stage names: any name on
    /// scratch (no /etc/passwd: only numeric ids work there), else the names
    /// distroless lacks.
    fn lacks_user(&self, runtime: &str) -> bool {
        if runtime != "scratch" {
            return self.needs_named_user();
        }
        self.body
            .clone()
            .any(|i| match &self.file.instructions[i].kind {
                InstructionKind::User(w) => unquote(&w.value)
                    .split(':')
                    .any(|part| !part.bytes().all(|b| b.is_ascii_digit())),
                _ => false,
            })
    }

    /// Programs the runtime stage runs must exist in the runtime image.
    fn check_runtime_programs(
        &self,
        runtime: &str,
        repeated_packages: &[String],
        covered: &[String],
    ) -> Result<Vec<String>, String> {
        let os = self
            .ctx
            .profiles
            .os_for_image(runtime)
            .map(|p| p.name.clone())
            .unwrap_or_default();
        let mut to_install: Vec<String> = Vec::new();
        let mut installed: Vec<String> = repeated_packages
            .iter()
            .flat_map(|p| programs_of_package(p))
            .collect();
        let post = self.split_after + 1..self.body.end;
        for idx in post.clone() {
            if let Some(rs) = self.roles.get(&idx) {
                for r in rs {
                    if let Role::Packages(p) = r {
                        installed.extend(p.iter().flat_map(|p| programs_of_package(p)));
                    }
                }
            }
        }
        let missing = |prog: &str| -> bool {
            let base = prog.rsplit('/').next().unwrap_or(prog);
            if installed.iter().any(|p| p == base) {
                return false;
            }
            if prog.starts_with('/') && covered.iter().any(|c| inside(prog, c)) {
                return false;
            }
            if self.family == Family::Node && matches!(base, "python" | "python3") {
                return runtime != self.base;
            }
            FULL_IMAGE_ONLY.contains(&base) && runtime != self.base
        };
        let probe = self.go_probe().map(|(idx, _, _)| idx);
        for idx in post.filter(|&idx| Some(idx) != probe) {
            let inst = &self.file.instructions[idx];
            let (what, cmds) = match &inst.kind {
                InstructionKind::Run(_) => ("RUN", self.runs[&idx].commands.clone()),
                InstructionKind::Cmd(c) => ("CMD", command_list(c)),
                InstructionKind::Entrypoint(c) => ("ENTRYPOINT", command_list(c)),
                InstructionKind::Healthcheck(Healthcheck::Cmd(c)) => {
                    ("HEALTHCHECK", command_list(c))
                }
                _ => continue,
            };
            for c in &cmds {
                if missing(c.program()) {
                    match tool_package(c.program(), &os) {
                        Some(pkg) => push_unique(&mut to_install, pkg),
                        None => {
                            return Err(format!(
                                "the {what} at line {} runs `{}`, which {runtime} does not have",
                                inst.start_line,
                                c.program()
                            ))
                        }
                    }
                }
            }
        }
        // The start command, even when it comes before the split.
        for idx in self.body.start..=self.split_after {
            let inst = &self.file.instructions[idx];
            let cmds = match &inst.kind {
                InstructionKind::Cmd(c) | InstructionKind::Entrypoint(c) => command_list(c),
                InstructionKind::Healthcheck(Healthcheck::Cmd(c)) => command_list(c),
                _ => continue,
            };
            for c in &cmds {
                if missing(c.program()) {
                    match tool_package(c.program(), &os) {
                        Some(pkg) => push_unique(&mut to_install, pkg),
                        None => {
                            return Err(format!(
                                "line {} runs `{}`, which {runtime} does not have",
                                inst.start_line,
                                c.program()
                            ))
                        }
                    }
                }
            }
        }
        // For compiled builds, paths under the source tree that the start
        // command names must be build output that is copied.
        if !matches!(self.family, Family::Node | Family::Python) {
            if let Some((idx, c)) = self.start_command() {
                let cwd = (self.workdir_at)(idx).unwrap_or_else(|| "/".into());
                let words = c.rough_argv();
                let trees = self.build_cwds();
                for w in words
                    .iter()
                    .filter(|w| !w.starts_with('-') && !w.contains('$'))
                {
                    if !(w.contains('/') || w.ends_with(".jar")) {
                        continue;
                    }
                    let p = resolve(&cwd, w);
                    let in_tree = trees.iter().any(|t| inside(&p, t));
                    let is_copied = covered
                        .iter()
                        .any(|c| inside(&p, c) || paths::glob_match(c, &p));
                    if in_tree && !is_copied {
                        return Err(format!(
                            "the start command uses {p}, which is not known build output"
                        ));
                    }
                }
            }
        }
        Ok(to_install)
    }

    /// USER and `--chown` names in the runtime stage must exist there.
    fn check_users(
        &self,
        runtime: &str,
        carry: &[(usize, Carry)],
        rebuilt: &[String],
    ) -> Result<(), String> {
        // Users and groups that RUNs of the runtime stage create.
        let runtime_runs = carry
            .iter()
            .filter(|(_, c)| *c == Carry::Repeat)
            .map(|(i, _)| *i)
            .chain(self.split_after + 1..self.body.end);
        let created: Vec<String> = runtime_runs
            .filter_map(|i| self.runs.get(&i))
            .flat_map(|info| &info.commands)
            .filter_map(|c| crate::model::commands::account_change(&c.argv))
            .map(|change| match change {
                crate::model::commands::AccountChange::User { name, .. }
                | crate::model::commands::AccountChange::Group { name, .. } => name,
            })
            .collect();
        let image_user = self
            .ctx
            .profiles
            .user_for_image(runtime)
            .map(|u| u.name.clone());
        let mut names: Vec<(String, usize)> = Vec::new();
        let runtime_range = self.body.clone().filter(|i| {
            *i > self.split_after || carry.iter().any(|(j, c)| j == i && *c == Carry::Repeat)
        });
        for idx in runtime_range {
            let inst = &self.file.instructions[idx];
            if let InstructionKind::User(w) = &inst.kind {
                names.push((unquote(&w.value).to_string(), inst.start_line));
            }
            if let Some(f) = inst.flag("chown") {
                names.push((f.value.clone().unwrap_or_default(), inst.start_line));
            }
        }
        for (spec, line) in names {
            let name = spec.split(':').next().unwrap_or(&spec).to_string();
            let known = name.bytes().all(|b| b.is_ascii_digit())
                || matches!(
                    name.as_str(),
                    "root" | "nobody" | "daemon" | "bin" | "www-data"
                )
                || image_user.as_deref() == Some(name.as_str())
                || name.contains('$')
                || created.contains(&name)
                || rebuilt.contains(&name);
            if !known {
                return Err(format!(
                    "line {line} uses the user `{name}`, which {runtime} does not have"
                ));
            }
        }
        Ok(())
    }
}

/// `alpine:3.NN` for a tag naming an Alpine release (`1.22-alpine3.20`),
/// `alpine:3` for other alpine tags, else [`debian_slim_for`].
fn alpine_or_debian_slim(tag: &str) -> String {
    match tag.split_once("alpine") {
        Some((_, version))
            if !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit() || b == b'.') =>
        {
            format!("alpine:{version}")
        }
        Some(_) => "alpine:3".into(),
        None => debian_slim_for(tag),
    }
}

/// `debian:<codename>-slim` for a tag naming a Debian release, else bookworm.
fn debian_slim_for(tag: &str) -> String {
    for codename in ["trixie", "bookworm", "bullseye", "buster"] {
        if tag.contains(codename) {
            return format!("debian:{codename}-slim");
        }
    }
    "debian:bookworm-slim".to_string()
}

fn is_root(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or(user);
    name == "root" || name == "0"
}

/// True if `text` expands the variable `name` (`$NAME` or `${NAME...}`).
fn uses_var(text: &str, name: &str) -> bool {
    let plain = format!("${name}");
    let braced = format!("${{{name}");
    text.match_indices(&plain).any(|(i, _)| {
        !text[i + plain.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
    }) || text
        .match_indices(&braced)
        .any(|(i, _)| text[i + braced.len()..].starts_with(['}', ':', '-', '+', '?']))
}

#[cfg(test)]
mod tests;
