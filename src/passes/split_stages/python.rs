//! Python builds: pip installs on the official `python` images (into a venv
//! copied onto the slim image) and on distribution images with the system's
//! python3 (`apt-get install python3 python3-pip`, `apk add python3 py3-pip`):
//! there the build stage creates the venv with the build tools, and the runtime
//! stage, on the same distribution, installs python3 only.

use super::script::SimpleCommand;
use super::{BuildKind, RunInfo};
use std::collections::BTreeMap;

/// Where Python dependencies are installed so they can be copied as one folder.
pub const VENV: &str = "/opt/venv";

/// True for `pip install ...`, `pip3 install ...`, `python3 -m pip install ...`.
pub fn is_pip_install(cmd: &SimpleCommand) -> bool {
    let program = cmd.program();
    if program == "pip" || program.starts_with("pip3") {
        return cmd.subcommand() == Some("install");
    }
    program.starts_with("python")
        && matches!(cmd.args(), [m, pip, install, ..] if m == "-m" && pip == "pip" && install == "install")
}

/// The role of a Python toolchain command (None: not one).
pub fn build_kind(cmd: &SimpleCommand) -> Option<BuildKind> {
    let program = cmd.program();
    let sub = cmd.subcommand().unwrap_or("");
    if matches!(program, "poetry" | "pipenv" | "uv" | "conda" | "pdm")
        && matches!(sub, "install" | "sync" | "pip")
    {
        return Some(BuildKind::Unsupported(format!(
            "`{program}` manages its own environment; copying it is not automated yet"
        )));
    }
    if is_pip_install(cmd) {
        if cmd.has_flag(&["--user", "--target", "-t", "--prefix", "--root"]) {
            return Some(BuildKind::Unsupported(
                "`pip install` writes outside a virtual environment (--user/--target/--prefix)"
                    .into(),
            ));
        }
        return Some(BuildKind::PipInstall);
    }
    if matches!(program, "virtualenv")
        || (program.starts_with("python") && cmd.args().iter().any(|a| a == "venv"))
    {
        return Some(BuildKind::Unsupported(
            "the Dockerfile already creates a virtual environment".into(),
        ));
    }
    None
}

/// True when a distribution image's stage is a Python app: it installs
/// dependencies with pip and compiles nothing itself (gcc or make that only
/// serve pip's source builds are installed, not run).
pub fn on_distro(runs: &BTreeMap<usize, RunInfo>) -> bool {
    let commands = || runs.values().flat_map(|r| &r.commands);
    commands().any(is_pip_install)
        && !commands().any(|c| {
            matches!(
                c.program(),
                "gcc"
                    | "cc"
                    | "g++"
                    | "c++"
                    | "clang"
                    | "clang++"
                    | "make"
                    | "cmake"
                    | "ninja"
                    | "configure"
            )
        })
}

/// Packages of the system's Python that only serve to install dependencies.
pub fn is_build_only_package(name: &str) -> bool {
    matches!(
        name,
        "python3-pip"
            | "python-pip"
            | "python3-venv"
            | "python3-setuptools"
            | "python3-wheel"
            | "py3-pip"
            | "py3-setuptools"
            | "py3-wheel"
            | "py3-virtualenv"
            | "python3-virtualenv"
    ) || (name.starts_with("python3.") && name.ends_with("-venv"))
}

/// True if the package is the interpreter (`python3`, `python3.11`,
/// `python3-minimal`) or pulls it in.
pub fn is_interpreter_package(name: &str) -> bool {
    name == "python3"
        || name == "python3-minimal"
        || (name.starts_with("python3.")
            && name[8..].bytes().all(|b| b.is_ascii_digit() || b == b'.'))
}

/// The build-stage command that creates the venv. On Debian and Ubuntu the
/// venv module needs `python3-venv` (ensurepip), which the file may not
/// install; Alpine's python3 has it.
pub fn venv_command(distro: bool, os: Option<&str>, installed: &[String]) -> String {
    if !distro {
        return format!("python -m venv {VENV}");
    }
    let has_venv = installed
        .iter()
        .any(|p| p == "python3-venv" || (p.starts_with("python3.") && p.ends_with("-venv")));
    if os == Some("apt") && !has_venv {
        format!(
            "apt-get update && apt-get install -y --no-install-recommends python3-venv && \
             rm -rf /var/lib/apt/lists/* && python3 -m venv {VENV}"
        )
    } else {
        format!("python3 -m venv {VENV}")
    }
}

/// Packages whose compiled extensions need system libraries the slim image
/// lacks (they build from source on the full image), from requirements.txt:
/// the runtime packages to install in the runtime stage (same names on
/// Debian 12 and 13 and Ubuntu, or on Alpine), or an error naming the package
/// whose library is not in the mapping.
pub fn check_packages(requirements: Option<&str>, alpine: bool) -> Result<Vec<String>, String> {
    let Some(req) = requirements else {
        return Ok(Vec::new());
    };
    // (requirement, Debian/Ubuntu runtime package, Alpine runtime package, what it links)
    const NEEDS_SYSTEM_LIBS: &[(&str, Option<&str>, Option<&str>, &str)] = &[
        ("psycopg2", Some("libpq5"), Some("libpq"), "libpq"),
        (
            "mysqlclient",
            Some("libmariadb3"),
            Some("mariadb-connector-c"),
            "libmariadb",
        ),
        ("python-ldap", None, None, "libldap"),
        ("pyodbc", None, None, "unixodbc"),
        ("pycairo", None, None, "libcairo2"),
        ("pygobject", None, None, "libgirepository"),
    ];
    let mut libs = Vec::new();
    for line in req.lines() {
        let name: String = line
            .trim()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect::<String>()
            .to_ascii_lowercase();
        if let Some((pkg, deb, apk, lib)) = NEEDS_SYSTEM_LIBS.iter().find(|(p, ..)| *p == name) {
            let runtime = if alpine { apk } else { deb };
            let Some(runtime) = runtime else {
                return Err(format!(
                    "`{pkg}` in requirements.txt compiles against system libraries ({lib}) that \
                     the slim image lacks, and which package provides them there is not in the \
                     mapping; install it in the runtime stage by hand"
                ));
            };
            if !libs.iter().any(|l| l == runtime) {
                libs.push(runtime.to_string());
            }
        }
    }
    Ok(libs)
}
