//! Image references (`registry/repo:tag@digest`) and what we know about common
//! base images: the OS family they are built on, the language runtime they carry,
//! the users they ship, and the HTTP clients available in them.

use serde::Serialize;

/// The OS family of a base image: decides how to create users and install tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OsFamily {
    Debian,
    Ubuntu,
    Alpine,
    /// `gcr.io/distroless/*`: no shell, no package manager, a `nonroot` user.
    Distroless,
    /// `FROM scratch`: nothing at all.
    Scratch,
    /// RHEL, Fedora, Amazon Linux, CentOS, Rocky, Alma (rpm based).
    Rhel,
    /// Windows Server Core / Nano Server images.
    Windows,
    /// BusyBox images: a shell and applets, no package manager.
    Busybox,
    /// Anything we cannot tell.
    Unknown,
}

impl OsFamily {
    pub fn as_str(&self) -> &'static str {
        match self {
            OsFamily::Debian => "debian",
            OsFamily::Ubuntu => "ubuntu",
            OsFamily::Alpine => "alpine",
            OsFamily::Distroless => "distroless",
            OsFamily::Scratch => "scratch",
            OsFamily::Rhel => "rhel",
            OsFamily::Windows => "windows",
            OsFamily::Busybox => "busybox",
            OsFamily::Unknown => "unknown",
        }
    }
    /// Debian or Ubuntu (apt, `useradd`).
    pub fn is_debian_like(&self) -> bool {
        matches!(self, OsFamily::Debian | OsFamily::Ubuntu)
    }
}

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageRef {
    /// As written (after substituting known ARG defaults).
    pub raw: String,
    /// Registry host if one is written (`gcr.io`), `None` for Docker Hub.
    pub registry: Option<String>,
    /// Repository path without registry and without Docker Hub's `library/`
    /// (`node`, `distroless/nodejs20-debian12`, `bitnami/redis`).
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageRef {
    /// Parses `[registry/]repo[:tag][@digest]`. Never fails; odd input yields odd
    /// but harmless parts.
    pub fn parse(raw: &str) -> ImageRef {
        let (rest, digest) = match raw.split_once('@') {
            Some((r, d)) => (r, Some(d.to_string())),
            None => (raw, None),
        };
        // A tag is after the last ':' that follows the last '/'.
        let last_slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
        let (path, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (
                &rest[..last_slash + i],
                Some(rest[last_slash + i + 1..].to_string()),
            ),
            None => (rest, None),
        };
        let mut registry = None;
        let mut repository = path.to_string();
        if let Some((first, remainder)) = path.split_once('/') {
            if first.contains('.') || first.contains(':') || first == "localhost" {
                registry = Some(first.to_string());
                repository = remainder.to_string();
            }
        }
        if matches!(
            registry.as_deref(),
            Some("docker.io" | "index.docker.io" | "registry-1.docker.io")
        ) {
            registry = None;
        }
        if registry.is_none() {
            if let Some(stripped) = repository.strip_prefix("library/") {
                repository = stripped.to_string();
            }
        }
        ImageRef {
            raw: raw.to_string(),
            registry,
            repository: repository.to_ascii_lowercase(),
            tag,
            digest,
        }
    }

    /// The last path component of the repository (`nodejs20-debian12`).
    pub fn short_name(&self) -> &str {
        self.repository
            .rsplit('/')
            .next()
            .unwrap_or(&self.repository)
    }

    /// True when the reference still holds an unexpanded `$VAR`.
    pub fn has_variable(&self) -> bool {
        self.raw.contains('$')
    }

    fn tag_lower(&self) -> String {
        self.tag.clone().unwrap_or_default().to_ascii_lowercase()
    }

    /// The OS family, from the repository and tag.
    pub fn family(&self) -> OsFamily {
        let repo = self.repository.as_str();
        let short = self.short_name();
        let tag = self.tag_lower();
        let full = format!(
            "{}/{}",
            self.registry.as_deref().unwrap_or(""),
            self.repository
        );
        if repo == "scratch" {
            return OsFamily::Scratch;
        }
        if full.contains("distroless") || repo.starts_with("chainguard/") {
            return OsFamily::Distroless;
        }
        if full.contains("windows")
            || full.contains("nanoserver")
            || full.contains("servercore")
            || tag.contains("nanoserver")
            || tag.contains("windowsservercore")
            || tag.contains("ltsc20")
        {
            return OsFamily::Windows;
        }
        if tag.contains("alpine") || short == "alpine" || short.ends_with("-alpine") {
            return OsFamily::Alpine;
        }
        const DEBIAN_CODENAMES: &[&str] = &[
            "trixie", "bookworm", "bullseye", "buster", "stretch", "jessie", "wheezy", "sid",
        ];
        const UBUNTU_CODENAMES: &[&str] = &[
            "noble", "jammy", "focal", "bionic", "xenial", "trusty", "mantic", "lunar", "kinetic",
            "oracular", "plucky",
        ];
        if tag
            .split(['-', '.', '_'])
            .any(|p| UBUNTU_CODENAMES.contains(&p) || p == "ubuntu")
        {
            return OsFamily::Ubuntu;
        }
        if tag
            .split(['-', '.', '_'])
            .any(|p| DEBIAN_CODENAMES.contains(&p) || p == "slim" || p == "debian")
        {
            return OsFamily::Debian;
        }
        if tag.contains("ubi") || tag.contains("centos") || tag.contains("oraclelinux") {
            return OsFamily::Rhel;
        }
        match short {
            "debian" | "buildpack-deps" => return OsFamily::Debian,
            "ubuntu" => return OsFamily::Ubuntu,
            "busybox" => return OsFamily::Busybox,
            "centos" | "fedora" | "rockylinux" | "almalinux" | "amazonlinux" | "oraclelinux"
            | "ubi" | "ubi-minimal" | "ubi8" | "ubi9" | "ubi-micro" => return OsFamily::Rhel,
            _ => {}
        }
        if repo.starts_with("redhat/") || repo.contains("/ubi") {
            return OsFamily::Rhel;
        }
        // Official language and server images default to Debian, except those
        // whose default variant is Ubuntu.
        match short {
            "eclipse-temurin" | "ibm-semeru-runtimes" => OsFamily::Ubuntu,
            "node" | "python" | "golang" | "ruby" | "php" | "rust" | "perl" | "openjdk"
            | "maven" | "gradle" | "elixir" | "erlang" | "haskell" | "julia" | "nginx"
            | "httpd" | "postgres" | "redis" | "mysql" | "mariadb" | "mongo" | "ghost"
            | "wordpress" | "tomcat" | "clojure" | "swift" | "r-base" | "gcc" | "haproxy"
            | "memcached" | "rabbitmq" | "composer" | "pypy" | "dart" => OsFamily::Debian,
            _ if self.registry.as_deref() == Some("mcr.microsoft.com")
                && repo.starts_with("dotnet/") =>
            {
                OsFamily::Debian
            }
            _ => OsFamily::Unknown,
        }
    }

    /// The language runtime the image carries, if it is a known language image.
    pub fn language(&self) -> Option<&'static str> {
        let short = self.short_name();
        let full = self.repository.as_str();
        let lang = match short {
            "node" => "node",
            "python" | "pypy" => "python",
            "golang" => "go",
            "rust" => "rust",
            "ruby" => "ruby",
            "php" | "composer" => "php",
            "openjdk"
            | "eclipse-temurin"
            | "amazoncorretto"
            | "ibm-semeru-runtimes"
            | "maven"
            | "gradle"
            | "tomcat" => "java",
            "elixir" => "elixir",
            "perl" => "perl",
            _ if full.starts_with("dotnet/") => "dotnet",
            _ if full.starts_with("distroless/nodejs") => "node",
            _ if full.starts_with("distroless/python") => "python",
            _ if full.starts_with("distroless/java") => "java",
            _ => return None,
        };
        Some(lang)
    }

    /// True for Docker's full official language images that derive from
    /// `buildpack-deps` (curl and wget included): `node:20`, `python:3.12-bookworm`,
    /// `golang:1.22`, `ruby:3`, but not their `-slim` or `-alpine` variants.
    pub fn is_buildpack_deps_based(&self) -> bool {
        if self.registry.is_some() {
            return false;
        }
        let tag = self.tag_lower();
        let lean = tag.contains("slim") || tag.contains("alpine") || tag.contains("windows");
        match self.repository.as_str() {
            "buildpack-deps" => true,
            "node" | "python" | "golang" | "ruby" | "rust" | "perl" | "php" => {
                // php's default images are not buildpack-deps based.
                self.repository != "php" && !lean
            }
            _ => false,
        }
    }

    /// HTTP clients the image ships before any RUN: `curl`, `wget`.
    pub fn known_http_clients(&self) -> Vec<&'static str> {
        let mut tools = Vec::new();
        if self.is_buildpack_deps_based() {
            tools.push("curl");
            tools.push("wget");
        }
        match self.family() {
            // BusyBox provides `wget` in Alpine and BusyBox images.
            OsFamily::Alpine | OsFamily::Busybox if !tools.contains(&"wget") => tools.push("wget"),
            _ => {}
        }
        tools
    }

    /// Non-root users the image already has (usable with `USER`), best first.
    pub fn known_users(&self) -> Vec<&'static str> {
        match (self.family(), self.short_name()) {
            (OsFamily::Distroless, _) => vec!["nonroot"],
            (_, "node") => vec!["node"],
            // .NET 8 and later images ship an `app` user (uid 1654).
            _ if self.registry.as_deref() == Some("mcr.microsoft.com")
                && self.repository.starts_with("dotnet/")
                && self
                    .tag
                    .as_deref()
                    .and_then(|t| t.split('.').next())
                    .and_then(|major| major.parse::<u32>().ok())
                    .is_some_and(|major| major >= 8) =>
            {
                vec!["app"]
            }
            _ => Vec::new(),
        }
    }

    /// The user the image runs as when it says so by convention, if not root:
    /// distroless `:nonroot` tags, Chainguard images, `nginx-unprivileged`,
    /// Bitnami images.
    pub fn default_non_root_user(&self) -> Option<&'static str> {
        let tag = self.tag_lower();
        if self.family() == OsFamily::Distroless && tag.contains("nonroot") {
            return Some("nonroot");
        }
        if self.repository.starts_with("chainguard/") {
            return Some("nonroot");
        }
        if self.repository.ends_with("nginx-unprivileged") {
            return Some("nginx");
        }
        if self.repository.starts_with("bitnami/") {
            return Some("1001");
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_references() {
        let r = ImageRef::parse("gcr.io/distroless/nodejs20-debian12:nonroot");
        assert_eq!(r.registry.as_deref(), Some("gcr.io"));
        assert_eq!(r.repository, "distroless/nodejs20-debian12");
        assert_eq!(r.tag.as_deref(), Some("nonroot"));
        assert_eq!(r.family(), OsFamily::Distroless);
        assert_eq!(r.default_non_root_user(), Some("nonroot"));

        let r = ImageRef::parse("localhost:5000/library/foo:1@sha256:abc");
        assert_eq!(r.registry.as_deref(), Some("localhost:5000"));
        assert_eq!(r.repository, "library/foo");
        assert_eq!(r.tag.as_deref(), Some("1"));
        assert_eq!(r.digest.as_deref(), Some("sha256:abc"));

        let r = ImageRef::parse("docker.io/library/node");
        assert_eq!(r.registry, None);
        assert_eq!(r.repository, "node");
        assert_eq!(r.tag, None);
    }

    #[test]
    fn families() {
        let fam = |s: &str| ImageRef::parse(s).family();
        assert_eq!(fam("node:18-alpine"), OsFamily::Alpine);
        assert_eq!(fam("node:18-slim"), OsFamily::Debian);
        assert_eq!(fam("node"), OsFamily::Debian);
        assert_eq!(fam("python:3.11-slim-bookworm"), OsFamily::Debian);
        assert_eq!(fam("ubuntu:22.04"), OsFamily::Ubuntu);
        assert_eq!(fam("eclipse-temurin:17-jdk"), OsFamily::Ubuntu);
        assert_eq!(fam("eclipse-temurin:17-jre-alpine"), OsFamily::Alpine);
        assert_eq!(fam("alpine:3.19"), OsFamily::Alpine);
        assert_eq!(fam("scratch"), OsFamily::Scratch);
        assert_eq!(
            fam("mcr.microsoft.com/dotnet/aspnet:8.0-noble"),
            OsFamily::Ubuntu
        );
        assert_eq!(
            fam("mcr.microsoft.com/windows/servercore:ltsc2022"),
            OsFamily::Windows
        );
        assert_eq!(fam("myorg/thing:1.0"), OsFamily::Unknown);
        assert_eq!(fam("fedora:39"), OsFamily::Rhel);
    }

    #[test]
    fn tools_and_users() {
        assert_eq!(
            ImageRef::parse("node:20").known_http_clients(),
            ["curl", "wget"]
        );
        assert!(ImageRef::parse("node:20-slim")
            .known_http_clients()
            .is_empty());
        assert_eq!(
            ImageRef::parse("node:20-alpine").known_http_clients(),
            ["wget"]
        );
        assert_eq!(ImageRef::parse("node:20-alpine").known_users(), ["node"]);
        assert_eq!(ImageRef::parse("python:3.12").language(), Some("python"));
        assert_eq!(
            ImageRef::parse("mcr.microsoft.com/dotnet/aspnet:8.0").known_users(),
            ["app"]
        );
        assert!(ImageRef::parse("mcr.microsoft.com/dotnet/aspnet:7.0")
            .known_users()
            .is_empty());
    }
}
