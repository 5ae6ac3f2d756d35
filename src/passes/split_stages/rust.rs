//! Rust builds (cargo): the binaries a build makes (from Cargo.toml) and the
//! system libraries they link at run time (from Cargo.lock's `-sys` crates).

/// A `-sys` crate → the runtime packages of what it links, on Debian 12 and on
/// Alpine (`""`: nothing outside the binary, the crate builds its library in).
/// Installing a library the binary then links statically (a `vendored` or
/// `bundled` feature) costs a few MB and breaks nothing.
const SYS_CRATES: &[(&str, &str, &str)] = &[
    ("openssl-sys", "libssl3", "libssl3"),
    ("pq-sys", "libpq5", "libpq"),
    ("libsqlite3-sys", "libsqlite3-0", "sqlite-libs"),
    ("libz-sys", "zlib1g", "zlib"),
    ("curl-sys", "libcurl4", "libcurl"),
    ("mysqlclient-sys", "libmariadb3", "mariadb-connector-c"),
    ("lzma-sys", "liblzma5", "xz-libs"),
    ("bzip2-sys", "libbz2-1.0", "libbz2"),
    ("libdbus-sys", "libdbus-1-3", "dbus-libs"),
    ("libudev-sys", "libudev1", "eudev-libs"),
    // Build their C code into the binary.
    ("zstd-sys", "", ""),
    ("ring", "", ""),
    ("aws-lc-sys", "", ""),
    ("aws-lc-fips-sys", "", ""),
    ("libmimalloc-sys", "", ""),
    ("tikv-jemalloc-sys", "", ""),
    ("jemalloc-sys", "", ""),
    ("brotli-sys", "", ""),
    ("libnghttp2-sys", "", ""),
    ("onig_sys", "", ""),
    ("libgit2-sys", "", ""),
    // Bindings to the kernel or other systems' APIs: nothing to install.
    ("linux-raw-sys", "", ""),
    ("windows-sys", "", ""),
    ("js-sys", "", ""),
    ("web-sys", "", ""),
    ("core-foundation-sys", "", ""),
    ("security-framework-sys", "", ""),
    ("system-configuration-sys", "", ""),
    ("io-kit-sys", "", ""),
    ("fsevent-sys", "", ""),
    ("inotify-sys", "", ""),
    ("wasi", "", ""),
];

/// Crates that read the system's CA certificates at run time (native-tls through
/// OpenSSL, rustls with the platform's roots). `webpki-roots` bundles its own.
const NEEDS_CA_CERTIFICATES: &[&str] = &[
    "native-tls",
    "openssl-probe",
    "rustls-native-certs",
    "rustls-platform-verifier",
];

/// The binaries `cargo build` makes, from Cargo.toml: the one `[[bin]]`, else
/// the `[package]` name. `Err` names what hides it.
pub fn binaries(toml: &str) -> Result<Vec<String>, String> {
    let mut section = String::new();
    let mut package: Option<String> = None;
    let mut bins: Vec<String> = Vec::new();
    for line in toml.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            section = line.to_string();
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        if k.trim() != "name" {
            continue;
        }
        let v = v.trim().trim_matches('"').to_string();
        match section.as_str() {
            "[package]" => package = Some(v),
            "[[bin]]" => bins.push(v),
            _ => {}
        }
    }
    if toml.contains("[workspace]") && package.is_none() {
        return Err("Cargo.toml is a workspace; the binary's name is unknown".into());
    }
    match (bins.len(), package) {
        (1, _) => Ok(bins),
        (0, Some(p)) => Ok(vec![p]),
        _ => Err("Cargo.toml declares several binaries; name one with --bin".into()),
    }
}

/// Whether Cargo.toml declares dependencies (of the program, not dev- or
/// build-dependencies).
fn has_dependencies(toml: &str) -> bool {
    let mut in_deps = false;
    for line in toml.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            let header = line.trim_matches(['[', ']']);
            if header == "dependencies"
                || header.starts_with("dependencies.")
                || (header.starts_with("target.") && header.ends_with(".dependencies"))
            {
                if header.starts_with("dependencies.") {
                    return true;
                }
                in_deps = true;
            } else {
                in_deps = false;
            }
            continue;
        }
        if in_deps && !line.is_empty() && !line.starts_with('#') {
            return true;
        }
    }
    false
}

/// The runtime packages the program needs on a Debian (`alpine == false`) or
/// Alpine runtime image, from the crates in Cargo.lock: the libraries its `-sys`
/// crates link and `ca-certificates` when it reads the system's roots. `Err`
/// names the crate (or the missing lockfile) that leaves it unknown.
pub fn runtime_packages(
    toml: &str,
    lock: Option<&str>,
    alpine: bool,
) -> Result<Vec<String>, String> {
    let Some(lock) = lock else {
        if has_dependencies(toml) {
            return Err(
                "Cargo.lock is not in the build context, so which system libraries \
                        the program links is unknown; commit Cargo.lock"
                    .into(),
            );
        }
        return Ok(Vec::new());
    };
    let mut out: Vec<String> = Vec::new();
    let mut push = |p: &str| {
        if !p.is_empty() && !out.iter().any(|o| o == p) {
            out.push(p.to_string());
        }
    };
    for name in lock_packages(lock) {
        if NEEDS_CA_CERTIFICATES.contains(&name) {
            push("ca-certificates");
        }
        if let Some((_, debian, apk)) = SYS_CRATES.iter().find(|(c, _, _)| *c == name) {
            push(if alpine { apk } else { debian });
        } else if name.ends_with("-sys") || name.ends_with("_sys") {
            return Err(format!(
                "Cargo.lock has `{name}`, a binding to a system library, and which runtime \
                 package provides that library is not in the mapping; install it in the runtime \
                 stage by hand"
            ));
        }
    }
    Ok(out)
}

/// The `name = "…"` of each `[[package]]` of a Cargo.lock.
fn lock_packages(lock: &str) -> impl Iterator<Item = &str> {
    let mut in_package = false;
    lock.lines().filter_map(move |line| {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = line == "[[package]]";
            return None;
        }
        let (k, v) = line.split_once('=')?;
        (in_package && k.trim() == "name").then(|| v.trim().trim_matches('"'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"version = 3

[[package]]
name = "openssl-sys"
version = "0.9.102"
dependencies = [
 "cc",
 "libc",
]

[[package]]
name = "native-tls"
version = "0.2.11"

[[package]]
name = "linux-raw-sys"
version = "0.4.14"

[[package]]
name = "libc"
version = "0.2.155"
"#;

    #[test]
    fn binary_names_come_from_the_manifest() {
        let toml = "[package]\nname = \"hello-web\"\n\n[dependencies]\n";
        assert_eq!(binaries(toml).unwrap(), vec!["hello-web"]);
        let bin = "[package]\nname = \"x\"\n[[bin]]\nname = \"server\"\npath = \"src/main.rs\"\n";
        assert_eq!(binaries(bin).unwrap(), vec!["server"]);
        let two = format!("{bin}[[bin]]\nname = \"cli\"\n");
        assert!(binaries(&two).unwrap_err().contains("--bin"));
        assert!(binaries("[workspace]\nmembers = [\"a\"]\n")
            .unwrap_err()
            .contains("workspace"));
    }

    #[test]
    fn runtime_packages_follow_the_sys_crates_of_the_lockfile() {
        let toml = "[package]\nname = \"x\"\n[dependencies]\nreqwest = \"0.12\"\n";
        assert_eq!(
            runtime_packages(toml, Some(LOCK), false).unwrap(),
            vec!["libssl3", "ca-certificates"]
        );
        assert_eq!(
            runtime_packages(toml, Some(LOCK), true).unwrap(),
            vec!["libssl3", "ca-certificates"]
        );
        let unknown = format!("{LOCK}\n[[package]]\nname = \"libfoo-sys\"\nversion = \"1\"\n");
        let err = runtime_packages(toml, Some(&unknown), false).unwrap_err();
        assert!(err.contains("`libfoo-sys`"), "{err}");
        // std only: nothing to install, with or without a lockfile.
        let std_only = "[package]\nname = \"x\"\n\n[dev-dependencies]\nproptest = \"1\"\n";
        assert_eq!(
            runtime_packages(std_only, None, false).unwrap(),
            Vec::<String>::new()
        );
        let err = runtime_packages(toml, None, false).unwrap_err();
        assert!(err.contains("Cargo.lock"), "{err}");
        assert!(has_dependencies("[dependencies.serde]\nversion = \"1\"\n"));
        assert!(has_dependencies(
            "[target.'cfg(unix)'.dependencies]\nnix = \"0.29\"\n"
        ));
    }
}
