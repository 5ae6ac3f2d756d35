//! C/C++ builds (gcc, g++, make, cmake, autotools): the runtime image, the
//! runtime libraries that `-dev` packages correspond to, and where `make install`
//! puts the program.

use super::paths::resolve;
use super::script::SimpleCommand;
use crate::profiles::{ImageRef, Profiles};

/// The runtime image of a C build on `image`: the same distribution's slim
/// image (`gcc:13` is Debian bookworm, `debian:bookworm` → `debian:bookworm-slim`),
/// or the image itself when it has no slim variant (ubuntu, alpine).
pub fn runtime_image(image: &ImageRef, base: &str) -> String {
    match image.repository.as_str() {
        "gcc" => super::debian_slim_for(&image.tag),
        "debian" => {
            let tag = image.tag.as_str();
            if tag.ends_with("-slim") {
                base.to_string()
            } else if tag.is_empty() || tag == "latest" {
                "debian:stable-slim".to_string()
            } else if tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.') {
                format!("debian:{tag}-slim")
            } else {
                base.to_string()
            }
        }
        _ => base.to_string(),
    }
}

/// The runtime library of a `-dev` package on `runtime` (`libssl-dev` → `libssl3`
/// on Debian 12), Some("") when none is needed (header-only), None when the
/// mapping (`dev_libraries` of the OS profiles) does not know the package or
/// the release.
pub fn runtime_library<'p>(profiles: &'p Profiles, dev: &str, runtime: &str) -> Option<&'p str> {
    profiles.dev_library(dev, runtime)
}

/// Where an install step puts the program, when the step is one:
/// `make install`, `ninja install`, `cmake --install DIR`,
/// `cmake --build DIR --target install`. `Ok(None)` for other commands; `Err`
/// names what hides the destination.
pub fn install_prefix(
    cmd: &SimpleCommand,
    all: &[&SimpleCommand],
    line: usize,
) -> Result<Option<String>, String> {
    let p = cmd.program();
    let installs = match p {
        "make" | "gmake" | "ninja" => cmd.operands(&["-C", "-f", "-j"]).contains(&"install"),
        "cmake" => {
            cmd.has_flag(&["--install"]) || cmd.option_value(&["--target"]) == Some("install")
        }
        _ => false,
    };
    if !installs {
        return Ok(None);
    }
    let assignment = |names: &[&str]| {
        cmd.args().iter().find_map(|a| {
            let (k, v) = a.split_once('=')?;
            names.contains(&k).then(|| v.to_string())
        })
    };
    if assignment(&["DESTDIR"]).is_some() || cmd.env_value("DESTDIR").is_some() {
        return Err(format!(
            "`{p} install` at line {line} installs under DESTDIR; copy that folder by hand"
        ));
    }
    let prefix = assignment(&["PREFIX", "prefix"])
        .or_else(|| cmd.option_value(&["--prefix"]).map(str::to_string))
        .or_else(|| {
            all.iter().rev().find_map(|c| match c.program() {
                "configure" => c.option_value(&["--prefix"]).map(str::to_string),
                "cmake" => c.args().iter().find_map(|a| {
                    a.strip_prefix("-DCMAKE_INSTALL_PREFIX=")
                        .or_else(|| a.strip_prefix("-DCMAKE_INSTALL_PREFIX:PATH="))
                        .map(str::to_string)
                }),
                _ => None,
            })
        })
        .unwrap_or_else(|| "/usr/local".to_string());
    if prefix.contains('$') || !prefix.starts_with('/') {
        return Err(format!(
            "`{p} install` at line {line} installs under `{prefix}`, which is not a plain path"
        ));
    }
    let prefix = resolve("/", &prefix);
    if matches!(prefix.as_str(), "/" | "/usr") {
        return Err(format!(
            "`{p} install` at line {line} installs into {prefix}, among the system's own files; \
             configure with --prefix=/usr/local (or /opt/<app>) so the runtime stage can copy it"
        ));
    }
    Ok(Some(prefix))
}

/// Words of a command, quoted for `sh` where needed.
pub fn shell_words(argv: &[String]) -> String {
    argv.iter()
        .map(|w| {
            if !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b))
            {
                w.clone()
            } else {
                format!("'{}'", w.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
