//! C/C++ builds (gcc, g++, make, cmake, autotools): the runtime image, the
//! runtime libraries that `-dev` packages correspond to, and where `make install`
//! puts the program.

use super::paths::resolve;
use super::script::SimpleCommand;
use crate::profiles::ImageRef;

/// `-dev` package → the runtime libraries it links (space-separated), on Debian
/// 12 (bookworm).
const APT_BOOKWORM: &[(&str, &str)] = &[
    ("libssl-dev", "libssl3"),
    ("libpq-dev", "libpq5"),
    ("libcurl4-openssl-dev", "libcurl4"),
    ("libcurl4-gnutls-dev", "libcurl3-gnutls"),
    ("zlib1g-dev", "zlib1g"),
    ("libsqlite3-dev", "libsqlite3-0"),
    ("libpcre3-dev", "libpcre3"),
    ("libpcre2-dev", "libpcre2-8-0"),
    (
        "libevent-dev",
        "libevent-2.1-7 libevent-core-2.1-7 libevent-extra-2.1-7 libevent-openssl-2.1-7 libevent-pthreads-2.1-7",
    ),
    ("libjson-c-dev", "libjson-c5"),
    ("libjansson-dev", "libjansson4"),
    ("libyaml-dev", "libyaml-0-2"),
    ("libxml2-dev", "libxml2"),
    ("libffi-dev", "libffi8"),
    ("libncurses-dev", "libncursesw6"),
    ("libncurses5-dev", "libncursesw6"),
    ("libncursesw5-dev", "libncursesw6"),
    ("libreadline-dev", "libreadline8"),
    ("libbz2-dev", "libbz2-1.0"),
    ("liblzma-dev", "liblzma5"),
    ("libzstd-dev", "libzstd1"),
    ("libuv1-dev", "libuv1"),
    ("libpng-dev", "libpng16-16"),
    ("libjpeg-dev", "libjpeg62-turbo"),
    ("libjpeg62-turbo-dev", "libjpeg62-turbo"),
    ("libmariadb-dev", "libmariadb3"),
    ("libmariadb-dev-compat", "libmariadb3"),
    ("default-libmysqlclient-dev", "libmariadb3"),
    ("libmicrohttpd-dev", "libmicrohttpd12"),
    ("libgmp-dev", "libgmp10"),
    ("libhiredis-dev", "libhiredis0.14"),
    ("libcjson-dev", "libcjson1"),
    ("libsodium-dev", "libsodium23"),
    ("libargon2-dev", "libargon2-1"),
    ("libgdbm-dev", "libgdbm6"),
    ("libexpat1-dev", "libexpat1"),
    ("libpcap-dev", "libpcap0.8"),
    ("libcap-dev", "libcap2"),
    ("libseccomp-dev", "libseccomp2"),
    ("libmagic-dev", "libmagic1"),
    ("libldap2-dev", "libldap-2.5-0"),
    ("libsasl2-dev", "libsasl2-2"),
    ("libkrb5-dev", "libkrb5-3"),
    ("libedit-dev", "libedit2"),
    ("libpopt-dev", "libpopt0"),
    ("libudev-dev", "libudev1"),
    ("libsystemd-dev", "libsystemd0"),
    ("libboost-dev", ""),
];

/// `-dev` package → runtime library on Alpine (names stable across 3.17+).
const APK: &[(&str, &str)] = &[
    ("openssl-dev", "libssl3"),
    ("libressl-dev", "libressl"),
    ("curl-dev", "libcurl"),
    ("zlib-dev", "zlib"),
    ("sqlite-dev", "sqlite-libs"),
    ("pcre-dev", "pcre"),
    ("pcre2-dev", "pcre2"),
    ("libevent-dev", "libevent"),
    ("libpq-dev", "libpq"),
    ("postgresql-dev", "libpq"),
    ("ncurses-dev", "ncurses-libs"),
    ("yaml-dev", "yaml"),
    ("libxml2-dev", "libxml2"),
    ("jansson-dev", "jansson"),
    ("libuv-dev", "libuv"),
    ("json-c-dev", "json-c"),
    ("readline-dev", "readline"),
    ("libffi-dev", "libffi"),
    ("zstd-dev", "zstd-libs"),
    ("bzip2-dev", "libbz2"),
    ("xz-dev", "xz-libs"),
    ("gmp-dev", "gmp"),
    ("libsodium-dev", "libsodium"),
    ("mariadb-dev", "mariadb-connector-c"),
    ("mariadb-connector-c-dev", "mariadb-connector-c"),
    ("libpng-dev", "libpng"),
    ("libjpeg-turbo-dev", "libjpeg-turbo"),
    ("expat-dev", "libexpat"),
    ("libcap-dev", "libcap"),
    ("libseccomp-dev", "libseccomp"),
    ("hiredis-dev", "hiredis"),
];

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
/// mapping does not know the package or the release.
pub fn runtime_library(dev: &str, runtime: &str) -> Option<&'static str> {
    let table = if ["debian:bookworm", "debian:12"]
        .iter()
        .any(|p| runtime.starts_with(p))
    {
        APT_BOOKWORM
    } else if runtime == "alpine" || runtime.starts_with("alpine:") {
        APK
    } else {
        return None;
    };
    table.iter().find(|(d, _)| *d == dev).map(|(_, r)| *r)
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
