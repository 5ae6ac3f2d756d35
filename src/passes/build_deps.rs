//! # build-deps (DOP015)
//!
//! ## What it does
//! Two things about packages that are only needed to build:
//!
//! - A RUN that removes packages (`apk del`, `apt-get purge/remove`,
//!   `apt-get autoremove`, `yum/dnf remove`) which an *earlier* RUN of the same
//!   stage installed. The finding says so; it has no fix.
//! - A RUN that installs a build toolchain (`gcc`, `make`, `build-base`,
//!   `build-essential`, `musl-dev`, `-dev`/`-devel` packages...) and uses it to
//!   build (`pip install`, `npm ci`, `gem install`, `make`, `./configure`,
//!   `go build`...) in the same RUN, and never removes it. When no stage split
//!   is possible (DOP013 has no fix, or the file already has several stages,
//!   where this part stays quiet), the single-stage alternative is to remove the
//!   toolchain at the end of that RUN: on Alpine with
//!   `apk add --virtual .build-deps ...` and `apk del .build-deps`, on
//!   Debian/Ubuntu with `apt-get purge -y --auto-remove ...`.
//!
//! The runtime libraries of the `-dev` packages stay: on Alpine they are added
//! to the packages the RUN installs for good (with `libgcc`, and `libstdc++`
//! for `g++`/`build-base`), on Debian they are marked as installed by hand
//! (`apt-mark manual libpq5`), from the `-dev` → runtime tables of the OS
//! profiles (`dev_libraries`). A `-dev` package missing from those tables (or a
//! Debian release they do not cover, such as an image tag that names none)
//! leaves the finding without fix, naming the package. So do a RUN with `||`,
//! `;` without `set -e`, compound commands or a comment among the packages;
//! several `apk add` with build tools; an apt base image whose packages are not
//! known (not debian, ubuntu or an official slim image); and a package of the
//! RUN that depends on the toolchain (`npm`, `cargo`...), which `apt-get purge`
//! would take along. An author's own `--virtual` group without `apk del` gets
//! the `apk del`.
//!
//! It stays quiet when the toolchain is needed later: a later RUN builds
//! something, or CMD/ENTRYPOINT/HEALTHCHECK runs a compiler or an install; when
//! the RUN (or a later one) removes packages already; on base images that ship
//! a toolchain already (`python:3.12`, `node:20`, `buildpack-deps`, every
//! `rust` image, the build tools of the Debian `php` images), where removing it
//! saves nothing.
//!
//! ## Why is this bad?
//! Every RUN is a layer, and a layer only adds files: removing in a later RUN
//! hides the files but the earlier layer still carries them, so the image does
//! not get smaller. Compilers and headers left in the final image are hundreds
//! of megabytes to pull, store and scan, used only during the build.
//!
//! ## Example
//! ```dockerfile
//! FROM python:3.12-alpine
//! COPY requirements.txt .
//! RUN apk add --no-cache gcc musl-dev libffi-dev \
//!     && pip install --no-cache-dir -r requirements.txt
//! ```
//! Use instead:
//! ```dockerfile
//! FROM python:3.12-alpine
//! COPY requirements.txt .
//! RUN apk add --no-cache libgcc libffi && apk add --no-cache --virtual .build-deps gcc musl-dev libffi-dev \
//!     && pip install --no-cache-dir -r requirements.txt && apk del .build-deps
//! ```
//!
//! ## Fix safety
//! Unsafe. The removal runs only where it cannot change which commands run: the
//! RUN is a plain `&&` chain (or a `set -e` script), the stage is the one that
//! ships, and only toolchain packages the same RUN installed are removed. But
//! what the build produced may need more than the runtime libraries the tables
//! know (a library loaded at run time, `libgomp` for OpenMP code), apt's
//! `--auto-remove` also removes what only the toolchain pulled in, and a package
//! of the same RUN that depends on a removed one goes with it.

use crate::fix::{Edit, Finding, Fix};
use crate::model::commands::{self, PackageChange};
use crate::model::{run_script, BaseRef, ImageRef};
use crate::passes::{package_hygiene, Pass, PassContext};
use crate::shell::{RunText, Script, Separator, SimpleCommand};
use crate::syntax::{Healthcheck, InstructionKind};

/// See the module docs.
pub struct BuildDeps;

const CODE: &str = "DOP015";
const NAME: &str = "build-deps";

/// Packages that are a build toolchain (besides every `-dev`/`-devel` package).
const TOOLCHAIN: &[&str] = &[
    "build-essential",
    "build-base",
    "gcc",
    "g++",
    "clang",
    "make",
    "cmake",
    "autoconf",
    "automake",
    "libtool",
    "pkgconf",
    "pkg-config",
    "pkgconfig",
    "musl-dev",
    "libc-dev",
    "libc6-dev",
    "linux-headers",
    "linux-libc-dev",
    "bison",
    "flex",
];

/// `-dev` packages of the toolchain itself: headers of the C library and the
/// kernel, which nothing links at run time.
const HEADERS_ONLY: &[&str] = &[
    "musl-dev",
    "libc-dev",
    "libc6-dev",
    "linux-headers",
    "linux-libc-dev",
];

/// Toolchain packages whose removal takes runtime libraries with it on Alpine:
/// what `g++` builds links `libstdc++`, and `gcc`'s output may need `libgcc`.
const APK_TOOLCHAIN_RUNTIME: &[(&str, &str)] = &[
    ("build-base", "libstdc++ libgcc"),
    ("g++", "libstdc++ libgcc"),
    ("gcc", "libgcc"),
];

/// Images that ship a toolchain unless their tag says slim or alpine.
const FULL_IMAGES: &[&str] = &[
    "buildpack-deps",
    "gcc",
    "python",
    "pypy",
    "node",
    "ruby",
    "perl",
    "golang",
    "rust",
];

/// The build tools the Debian variants of the `php` image keep installed
/// (`$PHPIZE_DEPS`, for `docker-php-ext-install` and `pecl`): removing them
/// saves nothing and breaks those tools.
const PHP_DEBIAN_KEEPS: &[&str] = &[
    "autoconf",
    "dpkg-dev",
    "file",
    "g++",
    "gcc",
    "libc-dev",
    "make",
    "pkg-config",
    "re2c",
];

/// Debian packages that depend on a compiler or on `-dev` packages: `apt-get
/// purge` of the toolchain would remove them with it.
const APT_NEEDS_TOOLCHAIN: &[&str] = &[
    "npm",
    "node-gyp",
    "cargo",
    "rustc",
    "golang",
    "golang-go",
    "dkms",
    "libtool-bin",
    "devscripts",
];

/// Debian/Ubuntu images whose packages are known: the minimal OS images and
/// the official images built on their slim variants. On any other base a
/// toolchain package may come with the image, where `apt-get purge` would
/// remove what the image ships (and save nothing).
const APT_KNOWN_BASES: &[&str] = &[
    "debian",
    "ubuntu",
    "python",
    "pypy",
    "node",
    "ruby",
    "perl",
    "php",
    "httpd",
    "nginx",
    "eclipse-temurin",
    "openjdk",
];

use crate::model::commands::{APK_VALUE_OPTS, APT_VALUE_OPTS};

/// The name used for the virtual package on Alpine.
const GROUP: &str = ".build-deps";

impl Pass for BuildDeps {
    fn code(&self) -> &'static str {
        CODE
    }
    fn name(&self) -> &'static str {
        NAME
    }
    fn summary(&self) -> &'static str {
        "build toolchain left in the image, or removed in a later RUN where removing cannot shrink it"
    }
    fn docs(&self) -> &'static str {
        static DOCS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        DOCS.get_or_init(|| package_hygiene::module_docs(include_str!("build_deps.rs")))
    }
    fn related(&self) -> &'static [&'static str] {
        &["docker docs: multi-stage builds"]
    }
    fn run(&self, ctx: &PassContext) -> Vec<Finding> {
        if !ctx.posix_shell() {
            return Vec::new();
        }
        let mut findings = late_removals(ctx);
        findings.extend(toolchains_left(ctx));
        findings
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Manager {
    Apk,
    Apt,
}

/// An `apk add` / `apt-get install` of a RUN, with the positions of its words
/// (indices into [`SimpleCommand::effective_argv`]).
struct Install<'s> {
    cmd: &'s SimpleCommand,
    manager: Manager,
    /// The `add`/`install` word.
    sub: usize,
    /// (word, package name); the name is None when it cannot be told (`$X`, a
    /// file, a glob).
    packages: Vec<(usize, Option<String>)>,
    /// Option words and their values, in order.
    options: Vec<usize>,
    /// apk's `--virtual` group.
    group: Option<String>,
}

/// An install of a RUN that has toolchain packages: its index among the
/// script's commands, the install, and those packages (word index, name).
type Toolchain<'a, 's> = (usize, &'a Install<'s>, Vec<(usize, String)>);

fn install_of(cmd: &SimpleCommand) -> Option<Install<'_>> {
    let argv = cmd.effective_strings();
    let (manager, verb, value_opts) = match argv.first()?.as_str() {
        "apk" => (Manager::Apk, "add", APK_VALUE_OPTS),
        "apt-get" | "apt" => (Manager::Apt, "install", APT_VALUE_OPTS),
        _ => return None,
    };
    let mut sub = None;
    let mut packages = Vec::new();
    let mut options = Vec::new();
    let mut group = None;
    let mut k = 1;
    while k < argv.len() {
        let a = &argv[k];
        if a.starts_with('-') {
            options.push(k);
            let (name, inline) = match a.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (a.as_str(), None),
            };
            let mut value = inline.clone();
            if value_opts.contains(&name) && inline.is_none() && k + 1 < argv.len() {
                k += 1;
                options.push(k);
                value = Some(argv[k].clone());
            }
            if manager == Manager::Apk && (name == "-t" || name == "--virtual") {
                group = value;
            }
        } else if sub.is_none() {
            if a != verb {
                return None;
            }
            sub = Some(k);
        } else {
            packages.push((k, package_name(a)));
        }
        k += 1;
    }
    Some(Install {
        cmd,
        manager,
        sub: sub?,
        packages,
        options,
        group,
    })
}

/// `gcc=12.2.0-3` / `curl>8` / `curl~8` / `curl:amd64` / `x/bookworm-backports`
/// → the name; None for words that are not a plain package name.
fn package_name(word: &str) -> Option<String> {
    if word.contains(['$', '*', '?', '`', '(']) || word.starts_with('/') || word.starts_with('.') {
        return None;
    }
    let end = word
        .find(['=', '<', '>', '~', ':', '/'])
        .unwrap_or(word.len());
    let name = &word[..end];
    (!name.is_empty() && !name.ends_with(".apk") && !name.ends_with(".deb"))
        .then(|| name.to_string())
}

fn is_toolchain(name: &str) -> bool {
    TOOLCHAIN.contains(&name) || name.ends_with("-dev") || name.ends_with("-devel")
}

/// The packages a simple command removes (names, or apk groups), as the
/// model reads it; `autoremove` is an apt removal with no operands.
fn removal(cmd: &SimpleCommand) -> Option<(&'static str, Vec<String>, bool)> {
    let argv = cmd.effective_strings();
    match commands::package_change(&argv)? {
        PackageChange::Remove { manager, packages } => {
            let auto = manager == "apt"
                && (argv.iter().any(|a| a == "autoremove")
                    || argv
                        .iter()
                        .any(|a| a == "--auto-remove" || a == "--autoremove"));
            Some((manager, packages, auto))
        }
        PackageChange::Install { .. } => None,
    }
}

/// The packages (and apk groups) a simple command installs.
fn installed(cmd: &SimpleCommand) -> Option<(&'static str, Vec<String>)> {
    match commands::package_change(&cmd.effective_strings())? {
        PackageChange::Install {
            manager,
            mut packages,
            group,
        } => {
            packages.extend(group);
            Some((manager, packages))
        }
        PackageChange::Remove { .. } => None,
    }
}

/// Finding A: removals in a RUN of packages an earlier RUN of the stage
/// installed.
fn late_removals(ctx: &PassContext) -> Vec<Finding> {
    let file = ctx.file;
    let scope = ctx.scope();
    let total = file.instructions.len();
    let mut findings = Vec::new();
    for stage in 0..scope.stage_count() {
        // (manager, package or group, line of the RUN that installed it)
        let mut earlier: Vec<(&'static str, String, usize)> = Vec::new();
        for idx in scope.instructions_of(stage, total) {
            let Some((run_text, script)) = ctx.run_shell(idx) else {
                continue;
            };
            if !script.parse_ok {
                continue;
            }
            let line = file.instructions[idx].start_line;
            let here: Vec<(&str, Vec<String>)> =
                script.commands.iter().filter_map(installed).collect();
            let installs_here = |m: &str, p: &str| {
                here.iter()
                    .any(|(hm, ps)| *hm == m && ps.iter().any(|x| x == p))
            };
            let mut removed: Vec<(&str, String)> = Vec::new();
            for cmd in &script.commands {
                let Some((manager, packages, auto)) = removal(cmd) else {
                    continue;
                };
                let span = run_text.span(cmd.range.clone());
                let at = file.line_col(span.start).0;
                let shown = &run_text.text[cmd.range.clone()];
                let mut shown = shown.split_whitespace().collect::<Vec<_>>().join(" ");
                if let Some((cut, _)) = shown.char_indices().nth(60) {
                    shown.truncate(cut);
                    shown.push('…');
                }
                let mut hidden: Vec<(String, usize)> = Vec::new();
                for p in &packages {
                    removed.push((manager, p.clone()));
                    if installs_here(manager, p) {
                        continue;
                    }
                    if let Some((_, _, l)) = earlier
                        .iter()
                        .rev()
                        .find(|(m, e, _)| *m == manager && e == p)
                    {
                        hidden.push((p.clone(), *l));
                    }
                }
                let message = if !hidden.is_empty() {
                    let mut lines: Vec<usize> = hidden.iter().map(|(_, l)| *l).collect();
                    lines.sort_unstable();
                    lines.dedup();
                    let lines = lines
                        .iter()
                        .map(|l| l.to_string())
                        .collect::<Vec<_>>()
                        .join(", ");
                    let names = hidden
                        .iter()
                        .map(|(p, _)| {
                            if p.starts_with('.') {
                                format!("the `{p}` group")
                            } else {
                                format!("`{p}`")
                            }
                        })
                        .collect::<Vec<_>>()
                        .join(", ");
                    let s = if lines.contains(',') { "s" } else { "" };
                    format!(
                        "`{shown}` at line {at} removes {names}, installed by the RUN{s} at line{s} {lines}: \
                         the files stay in that earlier layer, so the image does not get smaller; \
                         install and remove build-only packages in the same RUN, or build in a separate stage"
                    )
                } else if auto
                    && packages.is_empty()
                    && !findings.last().is_some_and(|f: &Finding| {
                        f.span.start >= file.instructions[idx].span.start
                    })
                    && !here.iter().any(|(m, _)| *m == "apt")
                    && earlier.iter().any(|(m, _, _)| *m == "apt")
                {
                    let first = earlier
                        .iter()
                        .find(|(m, _, _)| *m == "apt")
                        .map_or(0, |e| e.2);
                    format!(
                        "`{shown}` at line {at} can only remove packages that earlier layers installed \
                         (the first apt install is at line {first}): their files stay in those layers, so the image \
                         does not get smaller; remove what only the build needs in the RUN that installs it"
                    )
                } else {
                    continue;
                };
                if !scope.ships_instruction(idx) {
                    continue;
                }
                findings.push(Finding {
                    code: CODE,
                    name: NAME,
                    message,
                    span,
                    fix: None,
                });
            }
            earlier.retain(|(m, p, _)| !removed.iter().any(|(rm, rp)| rm == m && rp == p));
            for (m, ps) in here {
                for p in ps {
                    earlier.push((m, p, line));
                }
            }
        }
    }
    findings
}

/// What a command builds, as the words to show (`pip install`, `make`), or
/// None. `argv` is the effective argv with the program as a basename.
fn build_step(argv: &[String]) -> Option<String> {
    let p = argv.first()?.as_str();
    let first_op = argv[1..]
        .iter()
        .find(|a| !a.starts_with('-'))
        .map(String::as_str);
    let with_sub = |ok: bool| ok.then(|| format!("{p} {}", first_op.unwrap_or_default()));
    match p {
        "pip" | "pip3" | "pip2" => with_sub(matches!(first_op, Some("install" | "wheel"))),
        "npm" => with_sub(matches!(first_op, Some("install" | "i" | "ci" | "rebuild"))),
        "yarn" => match first_op {
            None => Some("yarn".into()),
            Some("install" | "add") => with_sub(true),
            _ => None,
        },
        "pnpm" => with_sub(matches!(first_op, Some("install" | "i" | "add"))),
        "gem" | "pecl" | "luarocks" => with_sub(first_op == Some("install")),
        "bundle" | "bundler" => match first_op {
            None => Some(p.into()),
            Some("install") => with_sub(true),
            _ => None,
        },
        "cargo" | "go" => with_sub(matches!(first_op, Some("build" | "install"))),
        "configure" => Some("./configure".into()),
        "docker-php-ext-install" | "cpanm" | "phpize" | "autoreconf" => Some(p.into()),
        p if crate::passes::slim_base::BUILD_PROGRAMS.contains(&p) || p == "node-gyp" => {
            Some(p.into())
        }
        p if p.starts_with("python") && argv.iter().any(|a| a.ends_with("setup.py")) => {
            Some(format!("{p} setup.py"))
        }
        _ => None,
    }
}

/// True if the image ships a compiler already: removing one saves nothing.
fn ships_toolchain(image: &ImageRef) -> bool {
    let tag = image.tag.as_deref().unwrap_or("latest");
    let official = image.registry.is_none();
    // Every rust image, slim and alpine too, has a C compiler for the linker.
    (official && image.repository == "rust")
        || (official
            && FULL_IMAGES.contains(&image.repository.as_str())
            && !tag.contains("slim")
            && !tag.contains("alpine"))
}

/// The image whose `dev_libraries` table applies to a stage on `image`: the
/// Debian release its tag names, or None when the release is not known.
fn apt_release(image: &ImageRef) -> Option<String> {
    let tag = image.tag.as_deref().unwrap_or("latest");
    if image.repository == "debian" || image.repository == "ubuntu" {
        return Some(format!("{}:{tag}", image.repository));
    }
    ["trixie", "bookworm", "bullseye", "buster"]
        .iter()
        .find(|c| tag.contains(*c))
        .map(|c| format!("debian:{c}"))
}

/// Finding B: a toolchain installed, used and kept in one RUN of a
/// single-stage file.
fn toolchains_left(ctx: &PassContext) -> Vec<Finding> {
    let file = ctx.file;
    let model = ctx.model();
    if model.stages.len() != 1 {
        return Vec::new();
    }
    if ctx.split_plan().is_some_and(|found| {
        found.has_fix()
            && !crate::runner::is_suppressed(file, &crate::passes::split_stages::finding(found))
    }) {
        return Vec::new(); // DOP013 splits the stage: the toolchain stays behind anyway
    }
    let Some(stage) = model.final_stage() else {
        return Vec::new();
    };
    let BaseRef::Image(image) = &stage.base else {
        return Vec::new();
    };
    if ships_toolchain(image) {
        return Vec::new();
    }
    // The toolchain used when the container runs.
    for idx in stage.instructions.clone() {
        let inst = &file.instructions[idx];
        let command = match &inst.kind {
            InstructionKind::Cmd(c)
            | InstructionKind::Entrypoint(c)
            | InstructionKind::Healthcheck(Healthcheck::Cmd(c))
            | InstructionKind::Healthcheck(Healthcheck::Other { command: c, .. }) => c,
            _ => continue,
        };
        for mut words in commands::simple_commands(&run_script(command, inst)) {
            if let Some(first) = words.first_mut() {
                *first = commands::program(std::slice::from_ref(first)).to_string();
            }
            if build_step(&words).is_some() {
                return Vec::new();
            }
        }
    }
    let runs: Vec<usize> = stage
        .runs
        .iter()
        .copied()
        .filter(|&i| matches!(file.instructions[i].kind, InstructionKind::Run(_)))
        .collect();
    // One pass each way over the stage's RUNs (linear in their number): a
    // later RUN that removes packages or builds again, and the packages
    // earlier RUNs installed (removing those here would not shrink them; not
    // those of an apk `--virtual` group, nor those removed again).
    let commands: Vec<Vec<Vec<String>>> = runs.iter().map(|&i| run_commands(ctx, i)).collect();
    let mut later_blocks = vec![false; runs.len()];
    let mut seen = false;
    for n in (0..runs.len()).rev() {
        later_blocks[n] = seen;
        seen |= commands[n]
            .iter()
            .any(|argv| removes(argv) || build_step(argv).is_some());
    }
    let mut findings = Vec::new();
    let mut earlier: Vec<String> = Vec::new();
    for (n, &idx) in runs.iter().enumerate() {
        // A later RUN removes the packages, or builds with them.
        if !later_blocks[n] {
            if let Some(f) = toolchain_left(ctx, image, &earlier, idx) {
                findings.push(f);
            }
        }
        for argv in &commands[n] {
            match commands::package_change(argv) {
                Some(PackageChange::Install {
                    packages,
                    group: None,
                    ..
                }) => {
                    for p in packages {
                        if !earlier.contains(&p) {
                            earlier.push(p);
                        }
                    }
                }
                Some(PackageChange::Remove { packages, .. }) => {
                    earlier.retain(|p| !packages.contains(p))
                }
                _ => {}
            }
        }
    }
    findings
}

/// True for a command that removes packages.
fn removes(argv: &[String]) -> bool {
    matches!(
        commands::package_change(argv),
        Some(PackageChange::Remove { .. })
    )
}

/// Every simple command of a RUN with its effective argv (program as basename),
/// from the shell analysis or, for RUNs it cannot read, the model's tokenizer.
fn run_commands(ctx: &PassContext, idx: usize) -> Vec<Vec<String>> {
    if let Some((_, script)) = ctx.run_shell(idx) {
        return script
            .commands
            .iter()
            .map(SimpleCommand::effective_strings)
            .collect();
    }
    let inst = &ctx.file.instructions[idx];
    let InstructionKind::Run(c) = &inst.kind else {
        return Vec::new();
    };
    commands::simple_commands(&run_script(c, inst))
        .into_iter()
        .map(|mut w| {
            if let Some(first) = w.first_mut() {
                *first = commands::program(std::slice::from_ref(first)).to_string();
            }
            w
        })
        .collect()
}

fn toolchain_left(
    ctx: &PassContext,
    image: &ImageRef,
    earlier: &[String],
    idx: usize,
) -> Option<Finding> {
    let file = ctx.file;
    let (run_text, script) = ctx.run_shell(idx)?;
    if !script.parse_ok {
        return None;
    }
    let line = file.instructions[idx].start_line;
    let installs: Vec<(usize, Install)> = script
        .commands
        .iter()
        .enumerate()
        .filter_map(|(i, c)| install_of(c).map(|inst| (i, inst)))
        .collect();
    let earlier: Vec<String> = earlier
        .iter()
        .cloned()
        .chain(
            if image.repository == "php"
                && !image.tag.as_deref().unwrap_or_default().contains("alpine")
            {
                PHP_DEBIAN_KEEPS
            } else {
                &[]
            }
            .iter()
            .map(|p| p.to_string()),
        )
        .collect();
    // (install, its toolchain packages: word index and name)
    let mut tool: Vec<Toolchain> = Vec::new();
    for (i, inst) in &installs {
        let pkgs: Vec<(usize, String)> = inst
            .packages
            .iter()
            .filter_map(|(w, n)| n.clone().map(|n| (*w, n)))
            .filter(|(_, n)| is_toolchain(n) && !earlier.contains(n))
            .collect();
        if !pkgs.is_empty() {
            tool.push((*i, inst, pkgs));
        }
    }
    let first_install = tool.first()?.0;
    // (the build step after it also means the `apk add` is not the last command)
    let manager = tool[0].1.manager;
    if tool.iter().any(|(_, t, _)| t.manager != manager) {
        return None;
    }
    // A build step after the install, in the same RUN.
    let step = script.commands[first_install + 1..]
        .iter()
        .find_map(|c| build_step(&c.effective_strings()))?;
    // Removed already (here or later, see the caller): nothing to add; a
    // later removal is reported by the other half of this rule.
    if script
        .commands
        .iter()
        .any(|c| removes(&c.effective_strings()))
    {
        return None;
    }
    let names: Vec<&str> = tool
        .iter()
        .flat_map(|(_, _, p)| p.iter().map(|(_, n)| n.as_str()))
        .collect();
    let list = names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let how = match (manager, &tool[0].1.group) {
        (Manager::Apk, Some(group)) => format!(
            "remove the `{group}` group at the end of the same RUN (`apk del {group}`)"
        ),
        (Manager::Apk, None) => format!(
            "install {{them}} with `apk add --virtual {GROUP}` and `apk del {GROUP}` at the end of the same RUN"
        ),
        (Manager::Apt, _) => {
            "remove {them} at the end of the same RUN with `apt-get purge -y --auto-remove`".into()
        }
    };
    let (they, are) = if names.len() == 1 {
        ("it", "is a build-only package")
    } else {
        ("them", "are build-only packages")
    };
    let how = how.replace("{them}", they);
    let mut message = format!(
        "{list} (RUN at line {line}) {are} kept in the image after the build in the same RUN (`{step}`); {how}, or build in a separate stage"
    );
    let fix = match plan_fix(ctx, image, run_text, script, &installs, &tool) {
        Ok(edits) => Some(Fix::unsafe_(edits)),
        Err(reason) => {
            message.push_str(&format!(" (no fix: {reason})"));
            None
        }
    };
    let cmd = tool[0].1.cmd;
    Some(Finding {
        code: CODE,
        name: NAME,
        message,
        span: run_text.span(cmd.range.clone()),
        fix,
    })
}

/// The runtime packages to keep for the toolchain packages `names`, or the
/// reason they are not known.
fn runtime_packages(
    ctx: &PassContext,
    image: &ImageRef,
    manager: Manager,
    names: &[&str],
) -> Result<Vec<String>, String> {
    let python_image = matches!(image.repository.as_str(), "python" | "pypy");
    let release = match manager {
        Manager::Apk => Some("alpine".to_string()),
        Manager::Apt => apt_release(image),
    };
    let mut keep: Vec<String> = Vec::new();
    let mut unknown: Vec<&str> = Vec::new();
    for &n in names {
        let runtime: Option<&str> = if HEADERS_ONLY.contains(&n) {
            Some("")
        } else if n == "python3-dev" {
            // The image's own Python is not the package's: nothing to keep there.
            Some(if python_image { "" } else { "python3" })
        } else if manager == Manager::Apk && !n.ends_with("-dev") {
            Some(
                APK_TOOLCHAIN_RUNTIME
                    .iter()
                    .find(|(p, _)| *p == n)
                    .map_or("", |(_, r)| r),
            )
        } else if !n.ends_with("-dev") && !n.ends_with("-devel") {
            Some("") // apt itself needs libstdc++6 and libgcc-s1
        } else {
            release
                .as_deref()
                .and_then(|r| ctx.profiles.dev_library(n, r))
                // Libraries named alike on every release the image's tags
                // follow (`python:*-slim*` in profiles/apt.yaml).
                .or_else(|| ctx.profiles.dev_library(n, &image.raw))
        };
        match runtime {
            Some(r) => {
                for p in r.split_whitespace() {
                    if !keep.iter().any(|k| k == p) {
                        keep.push(p.to_string());
                    }
                }
            }
            None => unknown.push(n),
        }
    }
    if unknown.is_empty() {
        return Ok(keep);
    }
    let list = unknown
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    Err(match (manager, release) {
        (Manager::Apt, None) => format!(
            "the Debian release of `{}` is not known, so neither are the runtime libraries of {list}",
            image.raw
        ),
        (_, Some(r)) => format!(
            "the runtime libraries of {list} on {r} are not known (`dev_libraries` in the OS profiles)"
        ),
        (Manager::Apk, None) => format!("the runtime libraries of {list} are not known"),
    })
}

/// The edits of the fix, or why there are none.
fn plan_fix(
    ctx: &PassContext,
    image: &ImageRef,
    run_text: RunText,
    script: &Script,
    installs: &[(usize, Install)],
    tool: &[Toolchain],
) -> Result<Vec<Edit>, String> {
    let text = run_text.text;
    let errexit = ctx.shell_errexit();
    // A plain list: `&&` (or `;` after `set -e`), pipelines allowed.
    let mut errexit_on = errexit;
    for c in &script.commands {
        if c.depth != 0 || script.has_compound {
            return Err("the RUN has compound commands".into());
        }
        if c.enables_errexit() {
            errexit_on = true;
        }
        match c.separator_after {
            None | Some(Separator::And) | Some(Separator::Pipe) => {}
            Some(Separator::Seq) if errexit_on => {}
            Some(Separator::Seq) => {
                return Err("the RUN goes on after a failing command (`;` without `set -e`)".into())
            }
            Some(Separator::Or) => return Err("the RUN has `||`".into()),
            Some(Separator::Async) => return Err("the RUN runs something in the background".into()),
        }
    }
    if script.has_background || !script.trailing.is_empty() {
        return Err("the RUN does not end with a plain command".into());
    }
    if tool.iter().any(|(_, t, _)| t.cmd.in_pipeline) {
        return Err("the install is part of a pipeline".into());
    }
    let manager = tool[0].1.manager;
    let names: Vec<&str> = tool
        .iter()
        .flat_map(|(_, _, p)| p.iter().map(|(_, n)| n.as_str()))
        .collect();
    let keep_all = runtime_packages(ctx, image, manager, &names)?;
    // Runtime packages the RUN installs anyway need nothing more.
    let installed_here: Vec<&str> = installs
        .iter()
        .filter(|(_, i)| i.group.is_none())
        .flat_map(|(_, i)| i.packages.iter().filter_map(|(_, n)| n.as_deref()))
        .collect();
    let keep: Vec<&str> = keep_all
        .iter()
        .map(String::as_str)
        .filter(|k| !names.contains(k))
        .collect();
    let end = run_text.end(script.range.end);
    // How appended commands join the last one: as the script joins its commands.
    let join = match script
        .commands
        .iter()
        .rev()
        .nth(1)
        .map(|c| c.separator_after)
    {
        Some(Some(Separator::Seq)) => "; ",
        _ => " && ",
    };
    let sudo = |cmd: &SimpleCommand| {
        if cmd.argv.first().map(|w| w.unquoted()).as_deref() == Some("sudo") {
            "sudo "
        } else {
            ""
        }
    };
    match manager {
        Manager::Apt => {
            if image.registry.is_some() || !APT_KNOWN_BASES.contains(&image.repository.as_str()) {
                return Err(format!(
                    "which of these packages `{}` ships already is not known, and purging those would save nothing",
                    image.raw
                ));
            }
            if let Some(p) = installed_here
                .iter()
                .find(|p| APT_NEEDS_TOOLCHAIN.contains(p))
            {
                return Err(format!(
                    "`{p}` depends on the toolchain, and `apt-get purge` would remove it too"
                ));
            }
            let sudo = sudo(tool[0].1.cmd);
            let mut append = String::new();
            let marks: Vec<&str> = keep
                .iter()
                .copied()
                .filter(|k| !installed_here.contains(k))
                .collect();
            if !marks.is_empty() {
                append.push_str(&format!("{join}{sudo}apt-mark manual {}", marks.join(" ")));
            }
            append.push_str(&format!(
                "{join}{sudo}apt-get purge -y --auto-remove {}",
                names.join(" ")
            ));
            Ok(vec![Edit::insert(end, append)])
        }
        Manager::Apk => {
            let [(i, inst, pkgs)] = tool else {
                return Err("the toolchain is installed by several `apk add`".into());
            };
            let cmd = inst.cmd;
            let argv = cmd.effective_argv();
            let sudo = sudo(cmd);
            let others: Vec<usize> = inst
                .packages
                .iter()
                .map(|(w, _)| *w)
                .filter(|w| !pkgs.iter().any(|(p, _)| p == w))
                .collect();
            // Runtime libraries the RUN does not install for good already.
            let keep: Vec<&str> = keep
                .iter()
                .copied()
                .filter(|k| !installed_here.contains(k))
                .collect();
            if let Some(group) = &inst.group {
                // The author grouped these packages to remove them: the whole
                // group goes, after its runtime libraries are installed for good.
                let mut append = String::new();
                if !keep.is_empty() {
                    append.push_str(&format!(
                        "{join}{sudo}apk add --no-cache {}",
                        keep.join(" ")
                    ));
                }
                append.push_str(&format!("{join}{sudo}apk del {group}"));
                return Ok(vec![Edit::insert(end, append)]);
            }
            let del = Edit::insert(end, format!("{join}{sudo}apk del {GROUP}"));
            // A new `apk add` with the options of this one (`--no-cache`,
            // `--repository X`), joined to it as it is joined to the next command.
            let options: String = inst
                .options
                .iter()
                .map(|&o| format!(" {}", argv[o].text))
                .collect();
            let new_add = |words: &[&str]| {
                format!(
                    "{}{} add{options} {}",
                    cmd.text_before_program(text),
                    argv[0].text,
                    words.join(" ")
                )
            };
            let sep = match cmd.separator_after {
                Some(Separator::Seq) => "; ",
                _ => " && ",
            };
            if others.is_empty() {
                // Every package is a build tool: the `apk add` becomes the
                // group's, after the runtime libraries are installed for good.
                let first = inst.packages.first().map_or(inst.sub + 1, |(w, _)| *w);
                let at = run_text.end(argv[first - 1].range.end);
                let mut edits = vec![Edit::insert(at, format!(" --virtual {GROUP}")), del];
                if !keep.is_empty() {
                    let start = run_text.start(cmd.range.start);
                    edits.push(Edit::insert(start, format!("{}{sep}", new_add(&keep))));
                }
                return Ok(edits);
            }
            let mut edits = Vec::new();
            // Out of this `apk add`: the toolchain, each word with the blanks
            // (and line continuation) before it.
            let source = &ctx.file.source;
            let mut cuts: Vec<(usize, usize)> = Vec::new();
            for (w, _) in pkgs {
                let word = run_text.span(argv[*w].range.clone());
                let gap_start = run_text.end(argv[w - 1].range.end);
                let gap = &source[gap_start..word.start];
                // A word alone on its line, continued: the whole line goes.
                let line_start = source[..word.start].rfind('\n').map_or(0, |p| p + 1);
                let line_end = source[word.end..]
                    .find('\n')
                    .map_or(source.len(), |p| word.end + p + 1);
                let before = &source[line_start..word.start];
                let after = source[word.end..line_end].trim();
                let escape = ctx.file.escape.to_string();
                if line_start >= gap_start && before.trim().is_empty() && after == escape {
                    cuts.push((line_start, line_end));
                } else if gap.contains('#') {
                    return Err("a comment stands among the packages".into());
                } else {
                    cuts.push((gap_start, word.end));
                }
            }
            // Cuts that touch (a whole line, then the gap after it) become one.
            cuts.sort_unstable();
            let mut merged: Vec<(usize, usize)> = Vec::new();
            for (a, b) in cuts {
                match merged.last_mut() {
                    Some(last) if a < last.1 => last.1 = last.1.max(b),
                    _ => merged.push((a, b)),
                }
            }
            for (a, b) in merged {
                edits.push(Edit::delete(crate::syntax::Span::new(a, b)));
            }
            // In: the runtime libraries, after its last package that stays.
            if let (false, Some(&last_kept)) = (keep.is_empty(), others.last()) {
                edits.push(Edit::insert(
                    run_text.end(argv[last_kept].range.end),
                    format!(" {}", keep.join(" ")),
                ));
            }
            // The toolchain in a group of its own, in front of the command
            // after the `apk add`.
            let mut group = vec!["--virtual", GROUP];
            group.extend(pkgs.iter().map(|(w, _)| argv[*w].text.as_str()));
            let next = &script.commands[*i + 1];
            edits.push(Edit::insert(
                run_text.start(next.range.start),
                format!("{}{sep}", new_add(&group)),
            ));
            edits.push(del);
            Ok(edits)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::package_hygiene::testing::{fix, run};

    #[test]
    fn alpine_virtual_group() {
        assert_eq!(
            fix(
                &BuildDeps,
                "FROM python:3.12-alpine\nRUN apk add --no-cache gcc musl-dev && pip install x\n",
                None,
                true
            ),
            "FROM python:3.12-alpine\nRUN apk add --no-cache libgcc && apk add --no-cache --virtual .build-deps gcc musl-dev && pip install x && apk del .build-deps\n"
        );
        assert_eq!(
            fix(
                &BuildDeps,
                "FROM python:3.12-alpine\nRUN apk add --no-cache musl-dev linux-headers && pip install x\n",
                None,
                true
            ),
            "FROM python:3.12-alpine\nRUN apk add --no-cache --virtual .build-deps musl-dev linux-headers && pip install x && apk del .build-deps\n"
        );
        assert_eq!(
            fix(
                &BuildDeps,
                "FROM alpine:3.19\nRUN apk add --no-cache python3 py3-pip \\\n    g++ \\\n    libffi-dev \\\n  && pip install x\n",
                None,
                true
            ),
            "FROM alpine:3.19\nRUN apk add --no-cache python3 py3-pip libstdc++ libgcc libffi \\\n  && apk add --no-cache --virtual .build-deps g++ libffi-dev && pip install x && apk del .build-deps\n"
        );
    }

    #[test]
    fn alpine_words_on_their_own_lines() {
        // Whole lines go; a comment line among the packages stays.
        assert_eq!(
            fix(
                &BuildDeps,
                "FROM alpine:3.19\nRUN apk add --no-cache \\\n    python3 \\\n    # to build\n    musl-dev \\\n    py3-pip \\\n    linux-headers \\\n    && pip3 install x\n",
                None,
                true
            ),
            "FROM alpine:3.19\nRUN apk add --no-cache \\\n    python3 \\\n    # to build\n    py3-pip \\\n    && apk add --no-cache --virtual .build-deps musl-dev linux-headers && pip3 install x && apk del .build-deps\n"
        );
        // A heredoc script under `set -e`: commands joined with `;`.
        assert_eq!(
            fix(
                &BuildDeps,
                "FROM alpine:3.19\nRUN <<EOF\nset -eux\napk add --no-cache musl-dev make\nmake -C /src install\nEOF\nCMD [\"/usr/local/bin/app\"]\n",
                None,
                true
            ),
            "FROM alpine:3.19\nRUN <<EOF\nset -eux\napk add --no-cache --virtual .build-deps musl-dev make\nmake -C /src install; apk del .build-deps\nEOF\nCMD [\"/usr/local/bin/app\"]\n"
        );
    }

    #[test]
    fn alpine_overlapping_cuts() {
        // `gcc` alone on its line, `musl-dev` on the next line with a package
        // that stays: one cut.
        assert_eq!(
            fix(
                &BuildDeps,
                "FROM alpine:3.19\nRUN apk add --no-cache \\\n    gcc \\\n    musl-dev python3 py3-pip \\\n    && pip3 install x\n",
                None,
                true
            ),
            "FROM alpine:3.19\nRUN apk add --no-cache \\\n python3 py3-pip libgcc \\\n    && apk add --no-cache --virtual .build-deps gcc musl-dev && pip3 install x && apk del .build-deps\n"
        );
    }

    #[test]
    fn debian_purge() {
        assert_eq!(
            fix(
                &BuildDeps,
                "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y build-essential libpq-dev python3 python3-pip && pip3 install psycopg2 && rm -rf /var/lib/apt/lists/*\n",
                None,
                true
            ),
            "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y build-essential libpq-dev python3 python3-pip && pip3 install psycopg2 && rm -rf /var/lib/apt/lists/* && apt-mark manual libpq5 && apt-get purge -y --auto-remove build-essential libpq-dev\n"
        );
    }

    #[test]
    fn late_removal() {
        let f = run(
            &BuildDeps,
            "FROM alpine\nRUN apk add --no-cache gcc\nRUN gcc -o /x x.c\nRUN apk del gcc\n",
            None,
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].message.contains("line 2"), "{}", f[0].message);
        assert!(f[0].fix.is_none());
    }

    #[test]
    fn must_not_fire() {
        for src in [
            // Removed in the same RUN already.
            "FROM alpine\nRUN apk add --virtual .b gcc && make && apk del .b\n",
            // Full image: the toolchain is in the base already.
            "FROM python:3.12\nRUN apt-get update && apt-get install -y gcc && pip install x\n",
            // Needed when the container runs.
            "FROM alpine\nRUN apk add --no-cache gcc musl-dev && make\nCMD [\"gcc\", \"--version\"]\n",
            // A later RUN builds too.
            "FROM alpine\nRUN apk add --no-cache gcc musl-dev && make\nRUN pip install x\n",
            // Multi-stage.
            "FROM alpine AS b\nRUN apk add --no-cache gcc && make\nFROM alpine\nCOPY --from=b /x /x\n",
            // Installed but not used in the same RUN.
            "FROM alpine\nRUN apk add --no-cache gcc\n",
        ] {
            assert!(run(&BuildDeps, src, None).is_empty(), "fired on:\n{src}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]
        /// RUNs made of package-manager and build words: the pass never panics,
        /// its fixes parse and converge.
        #[test]
        fn random_runs_fix_cleanly(
            base in proptest::sample::select(vec!["alpine:3.19", "debian:bookworm-slim", "python:3.12-alpine"]),
            runs in proptest::collection::vec(
                proptest::collection::vec(
                    proptest::sample::select(vec![
                        "apk", "add", "del", "--no-cache", "--virtual", ".b", "gcc", "musl-dev",
                        "libffi-dev", "python3", "py3-pip", "postgresql-dev", "build-base",
                        "apt-get", "install", "purge", "-y", "build-essential", "libpq-dev",
                        "&&", "||", ";", "|", "\\\n    ", "\\\n    # c\n    ", "pip", "make",
                        "npm", "ci", "set", "-e", "sudo", "X=1", "(", ")", "x",
                    ]),
                    1..14,
                ),
                1..3,
            )
        ) {
            let mut src = format!("FROM {base}\nCOPY . .\n");
            for words in &runs {
                src.push_str("RUN ");
                src.push_str(&words.join(" "));
                src.push('\n');
            }
            if crate::syntax::parse(&src).is_err() {
                return Ok(());
            }
            fix(&BuildDeps, &src, None, true);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        /// Installs followed by a build step, with packages and gaps drawn at
        /// random: fixes parse, converge, and keep every comment line.
        #[test]
        fn random_installs_fix_cleanly(
            alpine in proptest::bool::ANY,
            pkgs in proptest::collection::vec(
                proptest::sample::select(vec![
                    "gcc", "musl-dev", "libffi-dev", "python3", "py3-pip", "postgresql-dev",
                    "build-base", "g++", "make", "linux-headers", "curl", "build-essential",
                    "libpq-dev", "libssl-dev", "ca-certificates", "libfoo-dev",
                ]),
                1..7,
            ),
            gaps in proptest::collection::vec(
                proptest::sample::select(vec![" ", " \\\n    ", " \\\n# note\n    ", "  "]),
                8,
            ),
            sep in proptest::sample::select(vec![" && ", " \\\n    && ", "; "]),
            errexit in proptest::bool::ANY,
            tail in proptest::sample::select(vec!["", " && rm -rf /tmp/x", " && rm -rf /var/lib/apt/lists/*"]),
        ) {
            let install = if alpine { "apk add --no-cache" } else { "apt-get update && apt-get install -y" };
            let base = if alpine { "alpine:3.19" } else { "debian:bookworm-slim" };
            let mut run = String::from(if errexit { "set -eux; " } else { "" });
            run.push_str(install);
            for (n, p) in pkgs.iter().enumerate() {
                run.push_str(gaps[n % gaps.len()]);
                run.push_str(p);
            }
            run.push_str(sep);
            run.push_str("pip install x");
            run.push_str(tail);
            let src = format!("FROM {base}\nCOPY . /src\nRUN {run}\nCMD [\"app\"]\n");
            if crate::syntax::parse(&src).is_err() {
                return Ok(());
            }
            let out = fix(&BuildDeps, &src, None, true);
            let comments = |t: &str| t.lines().filter(|l| l.trim_start().starts_with('#')).count();
            proptest::prop_assert_eq!(comments(&src), comments(&out), "{}\n=>\n{}", src, out);
        }
    }
}
