//! DOP014 `slim-base`: a full language image where its slim variant would do.

use crate::fix::{Edit, Finding, Fix};
use crate::model::{commands, run_script, BaseRef};
use crate::passes::{Pass, PassContext};
use crate::syntax::{Healthcheck, InstructionKind, Span};

macro_rules! docs {
    () => {
        r#"## What it does
Reports a final stage that starts from a full language image (`python:3.12`,
`node:20`) when nothing in the file needs what the full image adds over its slim
variant, and moves it to the slim variant from the profiles (`slim:` in
`profiles/pip.yaml`, `profiles/npm.yaml`).

What is checked, in the final stage:
- no compiler or build tool runs (`gcc`, `make`, `cmake`, `configure`,
  `node-gyp`, `cargo`, `go`, `setup.py build`...);
- no `-dev` package, `build-essential` or compiler is installed;
- no program that only the full image ships is used by RUN, CMD, ENTRYPOINT or
  HEALTHCHECK without being installed by the file (`git`, `curl`, `wget`, `ssh`,
  `gpg`, `ps`, `unzip`, ImageMagick, and `python3` on node images);
- no dependency builds from source: pip requirements (read from the build
  context) have no `git+`/`--no-binary`/editable entries and none of the
  packages known to have no binary wheel (`mysqlclient`, `psycopg2`, `uwsgi`...);
  a local `pip install .` has no C extension; an npm install has a
  `package-lock.json` (v2+) where no package has an install script or a git
  source;
- the stage does not copy from another stage or image (what was built there
  may link libraries of the full image).

It holds with no dependency install at all. When a split into a build stage
and a runtime stage is going to be applied (DOP013), this rule waits: the
runtime stage is already on the slim image.

## Why is this bad?
The full images are built on `buildpack-deps`: compilers, hundreds of `-dev`
packages, version control tools. They are 3 to 10 times larger than the slim
variant with the same runtime, paths and users, and every one of those packages
is more to pull, to store and to scan for vulnerabilities.

## Example
```dockerfile
FROM python:3.12
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
CMD ["python", "app.py"]
```

Use instead:
```dockerfile
FROM python:3.12-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
CMD ["python", "app.py"]
```

When a dependency install cannot be checked (no build context, a requirements
file that is not there, npm without a v2+ lockfile), the finding has no fix
and names the evidence that is missing.

## Fix safety
Unsafe: a program the app starts at run time from its own code (a `git` or
`curl` call inside Python) or a shared library it loads that the full image
happened to ship would be missing, and a dependency without a wheel for the
platform would need a compiler."#
    };
}

#[doc = docs!()]
pub struct SlimBase;

const CODE: &str = "DOP014";
const NAME: &str = "slim-base";

/// Programs that compile or drive a native build.
pub(crate) const BUILD_PROGRAMS: &[&str] = &[
    "gcc",
    "g++",
    "cc",
    "c++",
    "clang",
    "clang++",
    "make",
    "gmake",
    "cmake",
    "ninja",
    "meson",
    "configure",
    "autoreconf",
    "autoconf",
    "automake",
    "libtool",
    "pkg-config",
    "node-gyp",
    "cargo",
    "rustc",
    "rustup",
    "go",
    "javac",
    "mvn",
    "gradle",
    "cython",
    "maturin",
    "ld",
    "as",
];

/// Packages whose presence means a native build.
const BUILD_PACKAGES: &[&str] = &[
    "build-essential",
    "build-base",
    "gcc",
    "g++",
    "make",
    "cmake",
    "clang",
    "autoconf",
    "automake",
    "libtool",
    "pkg-config",
    "pkgconf",
    "musl-dev",
    "linux-headers",
];

/// Programs the full image ships and the slim one lacks, with the package that
/// provides them (installing it in the file makes the program fine).
const FULL_ONLY_PROGRAMS: &[(&str, &str)] = &[
    ("git", "git"),
    ("curl", "curl"),
    ("wget", "wget"),
    ("ssh", "openssh-client"),
    ("scp", "openssh-client"),
    ("ssh-keyscan", "openssh-client"),
    ("gpg", "gnupg"),
    ("hg", "mercurial"),
    ("svn", "subversion"),
    ("ps", "procps"),
    ("pkill", "procps"),
    ("pgrep", "procps"),
    ("file", "file"),
    ("patch", "patch"),
    ("unzip", "unzip"),
    ("bzip2", "bzip2"),
    ("xz", "xz-utils"),
    ("convert", "imagemagick"),
    ("identify", "imagemagick"),
    ("mogrify", "imagemagick"),
];

/// Python packages with no binary wheel on PyPI (they compile against headers
/// the slim image lacks) or that load a library only the full image ships.
const PY_SOURCE_ONLY: &[&str] = &[
    "mysqlclient",
    "psycopg2",
    "uwsgi",
    "python-ldap",
    "pycairo",
    "pygobject",
    "dbus-python",
    "pyaudio",
    "mod-wsgi",
    "pylibmc",
    "xmlsec",
    "python-magic",
    "pycurl",
    "gssapi",
];

impl Pass for SlimBase {
    fn code(&self) -> &'static str {
        CODE
    }
    fn name(&self) -> &'static str {
        NAME
    }
    fn summary(&self) -> &'static str {
        "full language image where nothing needs more than its slim variant: move to slim"
    }
    fn docs(&self) -> &'static str {
        docs!()
    }
    fn related(&self) -> &'static [&'static str] {
        &["docker docs: choose the right base image"]
    }
    fn run(&self, ctx: &PassContext) -> Vec<Finding> {
        if ctx.split_pending() {
            return Vec::new(); // the split's runtime stage is on the slim image already
        }
        let model = ctx.model();
        let Some(stage) = model.final_stage() else {
            return Vec::new();
        };
        let BaseRef::Image(image) = &stage.base else {
            return Vec::new();
        };
        let Some(slim) = ctx.profiles.slim_for(&image.raw) else {
            return Vec::new();
        };
        if stage.copies.iter().any(|c| c.from.is_some()) {
            return Vec::new();
        }
        let file = ctx.file;
        let InstructionKind::From(from) = &file.instructions[stage.from_instruction].kind else {
            return Vec::new();
        };
        let is_node = image.repository == "node";

        // Every command of the stage: RUN (with where it is), CMD, ENTRYPOINT, HEALTHCHECK.
        let mut runs: Vec<(usize, Vec<String>)> = Vec::new();
        let mut used: Vec<Vec<String>> = Vec::new();
        // What the RUNs rewrite (`sed -i`, `echo ... >> f`): a requirements file
        // edited in the image is not the context's copy.
        let mut edited: Vec<String> = Vec::new();
        for idx in stage.instructions.clone() {
            let inst = &file.instructions[idx];
            match &inst.kind {
                InstructionKind::Run(c) => {
                    let script = run_script(c, inst);
                    edited.extend(edited_files(&script));
                    for cmd in commands::simple_commands(&script) {
                        used.push(cmd.clone());
                        runs.push((inst.start_line, cmd));
                    }
                }
                InstructionKind::Cmd(c)
                | InstructionKind::Entrypoint(c)
                | InstructionKind::Healthcheck(Healthcheck::Cmd(c))
                | InstructionKind::Healthcheck(Healthcheck::Other { command: c, .. }) => {
                    used.extend(commands::simple_commands(&run_script(c, inst)));
                }
                _ => {}
            }
        }
        let mut installed: Vec<String> = Vec::new();
        for (_, cmd) in &runs {
            if let Some(commands::PackageChange::Install { packages, .. }) =
                commands::package_change(cmd)
            {
                installed.extend(packages);
            }
        }
        // 1. A native build in the file itself.
        for p in &installed {
            if p.ends_with("-dev") || p.ends_with("-devel") || BUILD_PACKAGES.contains(&p.as_str())
            {
                return Vec::new();
            }
        }
        for cmd in &used {
            let prog = commands::program(cmd);
            if BUILD_PROGRAMS.contains(&prog)
                || cmd.iter().any(|w| w.ends_with("setup.py"))
                || (is_node
                    && matches!(prog, "python" | "python3")
                    && !installed_any(&installed, &["python3"]))
            {
                return Vec::new();
            }
            // 2. A program only the full image has.
            if let Some((_, pkg)) = FULL_ONLY_PROGRAMS.iter().find(|(p, _)| *p == prog) {
                if !installed.iter().any(|i| i == pkg) {
                    return Vec::new();
                }
            }
        }
        // 3. Dependencies that could build from source.
        let mut missing: Vec<String> = Vec::new();
        let mut checked: Vec<String> = Vec::new();
        for (line, cmd) in &runs {
            let verdict = if let Some(args) = pip_install_args(cmd) {
                pip_verdict(ctx, &args, stage.workdir.as_deref(), &edited)
            } else if let Some(tool) = node_install(cmd) {
                node_verdict(ctx, tool, cmd)
            } else {
                continue;
            };
            match verdict {
                Verdict::Fine(what) => push_unique(&mut checked, what),
                Verdict::Builds => return Vec::new(),
                Verdict::Unknown(why) => missing.push(format!("line {line}: {why}")),
            }
        }
        let current = from.image.value.as_str();
        let checks = if checked.is_empty() {
            "no dependency install".to_string()
        } else {
            checked.join(", ")
        };
        if !missing.is_empty() {
            return vec![Finding {
                code: CODE,
                name: NAME,
                message: format!(
                    "`{current}` could be `{slim}` (no compiler or build tool, no -dev package, no \
                     program that only the full image ships), but whether a dependency builds from \
                     source is not known ({}); with that evidence the move is a fix",
                    missing.join("; ")
                ),
                span: from.image.span,
                fix: None,
            }];
        }
        vec![Finding {
            code: CODE,
            name: NAME,
            message: format!(
                "`{current}` ships compilers, -dev libraries, git and curl that nothing here uses \
                 (checked: no compiler or build tool, no -dev package, no program only the full \
                 image has, {checks}); use `{slim}`"
            ),
            span: from.image.span,
            fix: Some(Fix::unsafe_(vec![Edit::replace(
                Span::new(from.image.span.start, from.image.span.end),
                slim,
            )])),
        }]
    }
}

enum Verdict {
    /// Checked: nothing builds from source (what was checked).
    Fine(String),
    /// Something builds from source: the full image is needed.
    Builds,
    /// Cannot tell; the evidence that is missing.
    Unknown(String),
}

fn installed_any(installed: &[String], pkgs: &[&str]) -> bool {
    installed.iter().any(|i| pkgs.contains(&i.as_str()))
}

fn push_unique(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}

/// The words after `install` of `pip install ...` / `python -m pip install ...`.
fn pip_install_args(cmd: &[String]) -> Option<Vec<String>> {
    let prog = commands::program(cmd);
    let rest = if prog.starts_with("pip") {
        &cmd[1..]
    } else if prog.starts_with("python") && cmd.get(1..3) == Some(&["-m".into(), "pip".into()]) {
        &cmd[3..]
    } else {
        return None;
    };
    let i = rest.iter().position(|w| !w.starts_with('-'))?;
    (rest[i] == "install").then(|| rest[i + 1..].to_vec())
}

/// The normalized name of a requirement (`Psycopg2==2.9` → `psycopg2`).
fn requirement_name(req: &str) -> String {
    let end = req
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(req.len());
    req[..end].to_ascii_lowercase().replace(['_', '.'], "-")
}

fn is_source_requirement(req: &str) -> bool {
    let req = req.trim();
    req.contains("git+")
        || req.contains("hg+")
        || req.contains("svn+")
        || req.starts_with("--no-binary")
        || PY_SOURCE_ONLY.contains(&requirement_name(req).as_str())
}

/// The file names (last path part) a shell script edits in place or writes
/// into: the operands of `sed`/`perl`/`awk -i`/`tee`/`patch`, and redirect
/// targets (`> f`, `>> f`).
fn edited_files(script: &str) -> Vec<String> {
    let base = |w: &str| w.rsplit('/').next().unwrap_or(w).to_string();
    let mut out = Vec::new();
    for cmd in commands::simple_commands(script) {
        if matches!(
            commands::program(&cmd),
            "sed" | "perl" | "awk" | "gawk" | "tee" | "patch" | "ed" | "truncate"
        ) {
            out.extend(
                cmd.iter()
                    .skip(1)
                    .filter(|w| !w.starts_with('-') && w.contains('.'))
                    .map(|w| base(w)),
            );
        }
    }
    for (i, _) in script.match_indices('>') {
        let target: String = script[i + 1..]
            .trim_start_matches('>')
            .trim_start()
            .chars()
            .take_while(|c| !c.is_whitespace() && !matches!(c, ';' | '&' | '|' | ')'))
            .collect();
        if !target.is_empty() && !target.starts_with('&') {
            out.push(base(target.trim_matches(['"', '\''])));
        }
    }
    out
}

fn pip_verdict(
    ctx: &PassContext,
    args: &[String],
    workdir: Option<&str>,
    edited: &[String],
) -> Verdict {
    let mut files: Vec<&str> = Vec::new();
    let mut local = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-r" | "--requirement" | "-c" | "--constraint" => {
                if let Some(f) = it.next() {
                    files.push(f);
                }
            }
            "--no-binary" => return Verdict::Builds,
            "-e" | "--editable" => local = true,
            _ if a.starts_with("--no-binary") => return Verdict::Builds,
            _ if a.starts_with("--requirement=") => files.push(&a["--requirement=".len()..]),
            _ if a.starts_with('-') => {}
            _ if a.starts_with('.') || a.starts_with('/') => local = true,
            _ if is_source_requirement(a) => return Verdict::Builds,
            _ => {}
        }
    }
    let Some(context) = ctx.build_context else {
        if files.is_empty() && !local {
            return Verdict::Fine("no pip package known to build from source".into());
        }
        return Verdict::Unknown(
            "no build context to read what pip installs (run with the context directory)".into(),
        );
    };
    let mut checked = Vec::new();
    for f in files {
        let name = f.rsplit('/').next().unwrap_or(f);
        if edited.iter().any(|e| e == name) {
            return Verdict::Unknown(format!(
                "a RUN rewrites `{name}` in the image (`sed -i`, a redirect), so the context's copy is not what pip installs"
            ));
        }
        let Some(text) = read_from_context(context, f, workdir) else {
            return Verdict::Unknown(format!("`{f}` is not in the build context"));
        };
        for line in text.lines() {
            let line = line.split(" #").next().unwrap_or(line).trim();
            if line.starts_with("-e")
                || line.starts_with("--editable")
                || is_source_requirement(line)
            {
                return Verdict::Builds;
            }
            if line.starts_with("-r") || line.starts_with("-c ") {
                return Verdict::Unknown(format!("`{f}` includes another file"));
            }
        }
        checked.push(format!("`{f}` has no source-only package"));
    }
    if local {
        let setup = context.read("setup.py").unwrap_or_default();
        let pyproject = context.read("pyproject.toml").unwrap_or_default();
        if setup.is_empty() && pyproject.is_empty() {
            return Verdict::Unknown(
                "pip installs a local project that is not in the context".into(),
            );
        }
        let all = format!("{setup}\n{pyproject}");
        if [
            "Extension(",
            "ext_modules",
            "cythonize",
            "setuptools-rust",
            "setuptools_rust",
            "maturin",
            "scikit-build",
            "pybind11",
            "cffi_modules",
        ]
        .iter()
        .any(|m| all.contains(m))
        {
            return Verdict::Builds;
        }
        checked.push("the local project has no C extension".into());
    }
    Verdict::Fine(if checked.is_empty() {
        "no pip package known to build from source".into()
    } else {
        checked.join(", ")
    })
}

/// A requirements file by the path a RUN names: relative to the context, or an
/// image path under the WORKDIR, or its file name at the context root.
fn read_from_context(
    context: &crate::passes::BuildContext,
    path: &str,
    workdir: Option<&str>,
) -> Option<String> {
    let mut candidates = vec![path.to_string()];
    if let Some(w) = workdir {
        if let Some(rel) = path.strip_prefix(&format!("{}/", w.trim_end_matches('/'))) {
            candidates.push(rel.to_string());
        }
    }
    if let Some(name) = path.rsplit('/').next() {
        candidates.push(name.to_string());
    }
    candidates
        .iter()
        .filter(|c| !c.starts_with('/') && !c.contains('$'))
        .find_map(|c| context.read(c))
}

/// `npm ci`/`npm install`/`yarn`/`pnpm install`: the tool.
fn node_install(cmd: &[String]) -> Option<&'static str> {
    let verb = cmd.iter().skip(1).find(|w| !w.starts_with('-'));
    match (commands::program(cmd), verb.map(String::as_str)) {
        ("npm", Some("ci" | "install" | "i" | "add")) => Some("npm"),
        ("yarn", None | Some("install" | "add")) => Some("yarn"),
        ("pnpm", Some("install" | "i" | "add")) => Some("pnpm"),
        _ => None,
    }
}

fn node_verdict(ctx: &PassContext, tool: &str, cmd: &[String]) -> Verdict {
    let named = cmd
        .iter()
        .skip(1)
        .filter(|w| !w.starts_with('-'))
        .skip(1)
        .count();
    if tool != "npm" || named > 0 {
        return Verdict::Unknown(format!(
            "`{}` does not record which packages run install scripts (a native build); \
             only npm's package-lock.json v2+ does",
            cmd.join(" ")
        ));
    }
    let Some(lock) = ctx.build_context.and_then(|c| c.read("package-lock.json")) else {
        return Verdict::Unknown(
            "no package-lock.json in the build context to show that no package runs an install \
             script (a native build)"
                .into(),
        );
    };
    let Ok(json) = serde_json::from_str::<serde_json::Value>(&lock) else {
        return Verdict::Unknown("package-lock.json does not parse".into());
    };
    let Some(packages) = json.get("packages").and_then(|p| p.as_object()) else {
        return Verdict::Unknown(
            "package-lock.json is v1, which does not record install scripts".into(),
        );
    };
    for p in packages.values() {
        let scripts = p.get("hasInstallScript").and_then(|v| v.as_bool()) == Some(true);
        let git = p
            .get("resolved")
            .and_then(|v| v.as_str())
            .is_some_and(|r| r.starts_with("git") || r.contains("github:"));
        if scripts || git {
            return Verdict::Builds;
        }
    }
    Verdict::Fine("no package in package-lock.json runs an install script".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::check;

    const FLASK: &str = "FROM python:3.12\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\nCMD [\"python\", \"app.py\"]\n";

    #[test]
    fn moves_to_slim_with_evidence() {
        let c = check(
            &SlimBase,
            FLASK,
            Some(&[("requirements.txt", "flask==3.0\n")]),
        );
        assert_eq!(c.findings.len(), 1);
        assert!(
            c.fixed.starts_with("FROM python:3.12-slim\n"),
            "{}",
            c.fixed
        );
        let c = check(
            &SlimBase,
            "FROM node:20-bookworm\nCOPY . .\nCMD [\"node\", \"s.js\"]\n",
            None,
        );
        assert!(c.fixed.starts_with("FROM node:20-bookworm-slim\n"));
    }

    #[test]
    fn no_fix_without_evidence() {
        let c = check(&SlimBase, FLASK, None);
        assert_eq!(c.findings.len(), 1);
        assert!(c.findings[0].fix.is_none());
        assert!(c.findings[0].message.contains("no build context"));
        let c = check(&SlimBase, FLASK, Some(&[]));
        assert!(c.findings[0].message.contains("not in the build context"));
    }

    #[test]
    fn keeps_the_full_image_when_something_needs_it() {
        for (src, files) in [
            (FLASK, &[("requirements.txt", "mysqlclient\nflask\n")][..]),
            (FLASK, &[("requirements.txt", "git+https://x/y.git\n")][..]),
            (
                "FROM python:3.12\nRUN apt-get update && apt-get install -y libpq-dev\n",
                &[][..],
            ),
            ("FROM python:3.12\nRUN git clone x /app\n", &[][..]),
            (
                "FROM python:3.12\nHEALTHCHECK CMD curl -f localhost || exit 1\n",
                &[][..],
            ),
            ("FROM node:20\nCOPY . .\nRUN make\n", &[][..]),
            ("FROM node:20\nCMD python3 x.py\n", &[][..]),
            ("FROM python:3.12-slim\nCMD python\n", &[][..]),
            ("FROM python:3.12@sha256:abc\nCMD python\n", &[][..]),
            (
                "FROM python:3.12 AS b\nRUN true\nFROM python:3.12\nCOPY --from=b /a /a\n",
                &[][..],
            ),
        ] {
            let c = check(&SlimBase, src, Some(files));
            assert!(c.findings.is_empty(), "{src}: {:?}", c.findings);
        }
        // curl installed by the file is fine.
        let c = check(
            &SlimBase,
            "FROM python:3.12\nRUN apt-get update && apt-get install -y curl\nHEALTHCHECK CMD curl -f localhost\n",
            Some(&[]),
        );
        assert!(c.findings[0].fix.is_some());
    }

    #[test]
    fn npm_lockfile_is_the_evidence() {
        let src = "FROM node:20\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\nCMD [\"node\", \"s.js\"]\n";
        let clean =
            r#"{"lockfileVersion":3,"packages":{"":{},"node_modules/express":{"version":"4"}}}"#;
        let native =
            r#"{"lockfileVersion":3,"packages":{"node_modules/bcrypt":{"hasInstallScript":true}}}"#;
        let c = check(&SlimBase, src, Some(&[("package-lock.json", clean)]));
        assert!(c.fixed.starts_with("FROM node:20-slim\n"));
        let c = check(&SlimBase, src, Some(&[("package-lock.json", native)]));
        assert!(c.findings.is_empty());
        let c = check(&SlimBase, src, Some(&[]));
        assert!(c.findings[0].fix.is_none());
    }
}
