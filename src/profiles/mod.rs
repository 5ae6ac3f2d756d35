//! Ecosystem profiles (`profiles/*.yaml`), embedded in the binary and overridable
//! from a user directory. Loaded with serde_yaml; unknown keys are errors.
//!
//! ```
//! let profiles = dopt::profiles::Profiles::embedded();
//! assert_eq!(profiles.runtime_for("node:20").as_deref(), Some("node:20-slim"));
//! assert_eq!(profiles.user_for_image("node:20-slim").map(|u| u.name.as_str()), Some("node"));
//! ```

pub mod schema;

pub use schema::*;

use std::path::{Path, PathBuf};

/// The profiles shipped with dopt, as (file name, YAML text).
pub const EMBEDDED: &[(&str, &str)] = &[
    ("apt.yaml", include_str!("../../profiles/apt.yaml")),
    ("apk.yaml", include_str!("../../profiles/apk.yaml")),
    ("dnf.yaml", include_str!("../../profiles/dnf.yaml")),
    ("zypper.yaml", include_str!("../../profiles/zypper.yaml")),
    ("npm.yaml", include_str!("../../profiles/npm.yaml")),
    ("yarn.yaml", include_str!("../../profiles/yarn.yaml")),
    ("pnpm.yaml", include_str!("../../profiles/pnpm.yaml")),
    ("pip.yaml", include_str!("../../profiles/pip.yaml")),
    ("go.yaml", include_str!("../../profiles/go.yaml")),
    ("maven.yaml", include_str!("../../profiles/maven.yaml")),
    ("gradle.yaml", include_str!("../../profiles/gradle.yaml")),
    ("cargo.yaml", include_str!("../../profiles/cargo.yaml")),
    ("gem.yaml", include_str!("../../profiles/gem.yaml")),
    (
        "composer.yaml",
        include_str!("../../profiles/composer.yaml"),
    ),
    (
        "distroless.yaml",
        include_str!("../../profiles/distroless.yaml"),
    ),
    ("curl.yaml", include_str!("../../profiles/curl.yaml")),
    (
        "base-images.yaml",
        include_str!("../../profiles/base-images.yaml"),
    ),
    ("wget.yaml", include_str!("../../profiles/wget.yaml")),
    ("servers.yaml", include_str!("../../profiles/servers.yaml")),
];

/// Why profiles could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("cannot read profile directory {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Bad YAML or an unknown key; `message` is serde's (it names the key and the
    /// line/column).
    #[error("{file}: {message}")]
    Yaml { file: String, message: String },
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
}

/// All loaded profiles.
#[derive(Debug, Clone, Default)]
pub struct Profiles {
    /// In load order: embedded files first, then user files (a user file with an
    /// existing name takes the embedded profile's place).
    pub profiles: Vec<Profile>,
}

/// A parsed image reference, normalized for matching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// Repository with registry, without `docker.io/` and `library/`.
    pub repository: String,
    /// The tag, `latest` when absent.
    pub tag: String,
    pub digest: Option<String>,
}

impl ImageRef {
    /// Parses `[registry/]repo[:tag][@digest]`. Returns None for references that
    /// use variables (`$BASE`), since nothing can be known about them.
    pub fn parse(image: &str) -> Option<ImageRef> {
        let image = image.trim();
        if image.is_empty() || image.contains('$') || image.contains(char::is_whitespace) {
            return None;
        }
        let (rest, digest) = match image.split_once('@') {
            Some((r, d)) => (r, Some(d.to_string())),
            None => (image, None),
        };
        let last_slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
        let (repo, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (&rest[..last_slash + i], &rest[last_slash + i + 1..]),
            None => (rest, "latest"),
        };
        let mut repo = repo.to_ascii_lowercase();
        for prefix in ["docker.io/", "index.docker.io/", "registry-1.docker.io/"] {
            if let Some(r) = repo.strip_prefix(prefix) {
                repo = r.to_string();
            }
        }
        if let Some(r) = repo.strip_prefix("library/") {
            repo = r.to_string();
        }
        Some(ImageRef {
            repository: repo,
            tag: tag.to_string(),
            digest,
        })
    }

    /// Matches an image pattern (see `schema` docs); returns the `*` captures.
    pub fn matches(&self, pattern: &str) -> Option<Vec<String>> {
        let pattern = pattern.trim();
        let pattern = pattern.strip_prefix("docker.io/").unwrap_or(pattern);
        let pattern = pattern.strip_prefix("library/").unwrap_or(pattern);
        let last_slash = pattern.rfind('/').map(|i| i + 1).unwrap_or(0);
        if pattern[last_slash..].contains(':') {
            glob_captures(pattern, &format!("{}:{}", self.repository, self.tag))
        } else {
            glob_captures(pattern, &self.repository)
        }
    }
}

/// Matches `text` against a glob where `*` matches any run of characters (also
/// empty); returns what each `*` matched, leftmost-shortest.
pub fn glob_captures(pattern: &str, text: &str) -> Option<Vec<String>> {
    fn go(p: &[u8], t: &[u8], caps: &mut Vec<(usize, usize)>, base: usize) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some(b'*') => {
                for take in 0..=t.len() {
                    caps.push((base, base + take));
                    if go(&p[1..], &t[take..], caps, base + take) {
                        return true;
                    }
                    caps.pop();
                }
                false
            }
            Some(&c) => t.first() == Some(&c) && go(&p[1..], &t[1..], caps, base + 1),
        }
    }
    let mut caps = Vec::new();
    if go(pattern.as_bytes(), text.as_bytes(), &mut caps, 0) {
        Some(caps.iter().map(|&(s, e)| text[s..e].to_string()).collect())
    } else {
        None
    }
}

/// Fills `{1}`, `{2}`... in a template with glob captures.
fn fill_captures(template: &str, caps: &[String]) -> String {
    let mut out = template.to_string();
    for (i, c) in caps.iter().enumerate().rev() {
        out = out.replace(&format!("{{{}}}", i + 1), c);
    }
    out
}

fn parse_profile(file: &str, text: &str) -> Result<Profile, ProfileError> {
    let profile: Profile = serde_yaml::from_str(text).map_err(|e| ProfileError::Yaml {
        file: file.to_string(),
        message: e.to_string(),
    })?;
    validate(file, &profile)?;
    Ok(profile)
}

fn validate(file: &str, p: &Profile) -> Result<(), ProfileError> {
    let invalid = |message: String| ProfileError::Invalid {
        file: file.to_string(),
        message,
    };
    if p.name.trim().is_empty() {
        return Err(invalid("`name` must not be empty".into()));
    }
    for rule in &p.hygiene {
        if rule.action().is_none() {
            return Err(invalid(format!(
                "hygiene rule `{}` must set exactly one of require_flag, require_before, \
                 require_cleanup, replace_with",
                rule.id
            )));
        }
        if let Some(HygieneAction::Cleanup(cleanup)) = rule.action() {
            // The fix must satisfy the rule afterwards, or fixing never converges.
            if !rule
                .cleanup_matches
                .iter()
                .any(|m| cleanup.contains(m.as_str()))
            {
                return Err(invalid(format!(
                    "hygiene rule `{}`: require_cleanup must contain one of cleanup_matches",
                    rule.id
                )));
            }
        }
        if rule.command.split_whitespace().next().is_none() {
            return Err(invalid(format!(
                "hygiene rule `{}` has an empty command",
                rule.id
            )));
        }
    }
    for m in p.runtime_images.iter().chain(&p.slim) {
        let stars = m.pattern.matches('*').count();
        if let Some(to) = &m.to {
            for i in 1..=9 {
                if to.contains(&format!("{{{i}}}")) && i > stars {
                    return Err(invalid(format!(
                        "runtime image `{}` uses {{{i}}} but the pattern has only {stars} `*`",
                        m.pattern
                    )));
                }
            }
        }
    }
    Ok(())
}

impl Profiles {
    /// The profiles shipped with dopt. They are tested to load, so this panics
    /// only if the binary was built from broken profiles.
    pub fn embedded() -> Profiles {
        Self::from_sources(EMBEDDED.iter().map(|(f, t)| (f.to_string(), t.to_string())))
            .expect("embedded profiles are valid (tests/profiles.rs)")
    }

    /// Embedded profiles, overridden and extended by `*.yaml`/`*.yml` files of
    /// `user_dir`: a user profile with an embedded profile's `name` replaces it,
    /// other names are added.
    pub fn load(user_dir: Option<&Path>) -> Result<Profiles, ProfileError> {
        let mut sources: Vec<(String, String)> = EMBEDDED
            .iter()
            .map(|(f, t)| (f.to_string(), t.to_string()))
            .collect();
        if let Some(dir) = user_dir {
            let io = |source| ProfileError::Io {
                path: dir.to_path_buf(),
                source,
            };
            let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
                .map_err(io)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    matches!(
                        p.extension().and_then(|e| e.to_str()),
                        Some("yaml") | Some("yml")
                    )
                })
                .collect();
            files.sort();
            for path in files {
                let text = std::fs::read_to_string(&path).map_err(|source| ProfileError::Io {
                    path: path.clone(),
                    source,
                })?;
                sources.push((path.display().to_string(), text));
            }
        }
        Self::from_sources(sources)
    }

    /// Loads profiles from (file name, YAML) pairs; later names replace earlier.
    pub fn from_sources(
        sources: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Profiles, ProfileError> {
        let mut profiles: Vec<Profile> = Vec::new();
        for (file, text) in sources {
            let p = parse_profile(&file, &text)?;
            match profiles.iter_mut().find(|q| q.name == p.name) {
                Some(slot) => *slot = p,
                None => profiles.push(p),
            }
        }
        Ok(Profiles { profiles })
    }

    /// The profile with this name.
    pub fn get(&self, name: &str) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.name == name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Profile> {
        self.profiles.iter()
    }

    /// The profile a program belongs to (`apt-get` → apt, `pip3` → pip). The
    /// program may be a path (`/usr/bin/pip`).
    pub fn by_program(&self, program: &str) -> Option<&Profile> {
        let base = program.rsplit('/').next().unwrap_or(program);
        self.profiles
            .iter()
            .find(|p| p.programs.iter().any(|q| q == base))
    }

    /// All profiles an image implies: its OS (if known) and its ecosystems.
    pub fn for_base_image(&self, image: &str) -> Vec<&Profile> {
        let Some(r) = ImageRef::parse(image) else {
            return Vec::new();
        };
        self.profiles
            .iter()
            .filter(|p| {
                p.base_images.iter().any(|pat| r.matches(pat).is_some())
                    && !p.exclude_images.iter().any(|pat| r.matches(pat).is_some())
            })
            .collect()
    }

    /// The OS profile of an image (apt for `node:20`, apk for `node:20-alpine`).
    pub fn os_for_image(&self, image: &str) -> Option<&Profile> {
        self.for_base_image(image)
            .into_iter()
            .find(|p| p.kind == ProfileKind::Os)
    }

    /// The runtime image for a build image (`node:20` → `node:20-slim`), using only
    /// mappings without requirements. None if unknown or already a runtime image.
    pub fn runtime_for(&self, image: &str) -> Option<String> {
        self.runtime_for_with(image, &[])
    }

    /// Like [`Profiles::runtime_for`], also allowing mappings whose `requires` are
    /// all in `facts` (e.g. `cgo-disabled` for a static Go binary).
    pub fn runtime_for_with(&self, image: &str, facts: &[&str]) -> Option<String> {
        let r = ImageRef::parse(image)?;
        for p in &self.profiles {
            for m in &p.runtime_images {
                if !m.requires.iter().all(|req| facts.contains(&req.as_str())) {
                    continue;
                }
                if let Some(caps) = r.matches(&m.pattern) {
                    return m.to.as_ref().map(|to| fill_captures(to, &caps));
                }
            }
        }
        None
    }

    /// The slim variant of an image from the profiles' `slim` mappings
    /// (`python:3.12` → `python:3.12-slim`, `node:20-bookworm` →
    /// `node:20-bookworm-slim`). None if unknown or already slim.
    pub fn slim_for(&self, image: &str) -> Option<String> {
        let r = ImageRef::parse(image)?;
        if r.digest.is_some() {
            return None; // a digest pins this very image
        }
        self.profiles
            .iter()
            .flat_map(|p| p.slim.iter())
            .find_map(|m| r.matches(&m.pattern).map(|caps| (m, caps)))
            .and_then(|(m, caps)| m.to.as_ref().map(|to| fill_captures(to, &caps)))
    }

    /// True if a mapping says the image already is a runtime image (`node:20-slim`).
    pub fn is_runtime_image(&self, image: &str) -> bool {
        let Some(r) = ImageRef::parse(image) else {
            return false;
        };
        for p in &self.profiles {
            for m in &p.runtime_images {
                if m.requires.is_empty() && r.matches(&m.pattern).is_some() {
                    return m.to.is_none();
                }
            }
        }
        false
    }

    /// The manifests of an ecosystem (profile name).
    pub fn manifests_for(&self, ecosystem: &str) -> &[Manifest] {
        self.get(ecosystem)
            .map(|p| p.manifests.as_slice())
            .unwrap_or(&[])
    }

    /// The profile whose manifest (or lockfile) this file name is (`go.sum` → go).
    pub fn by_manifest(&self, file_name: &str) -> Option<(&Profile, &Manifest)> {
        let base = file_name.rsplit('/').next().unwrap_or(file_name);
        self.profiles.iter().find_map(|p| {
            p.manifests
                .iter()
                .find(|m| glob_captures(&m.path, base).is_some())
                .map(|m| (p, m))
        })
    }

    /// The non-root user an image already has (`node` in node images, `nonroot`
    /// in distroless).
    pub fn user_for_image(&self, image: &str) -> Option<&ImageUser> {
        let r = ImageRef::parse(image)?;
        self.profiles
            .iter()
            .flat_map(|p| p.users.iter())
            .find(|u| u.images.iter().any(|pat| r.matches(pat).is_some()))
    }

    /// The command that creates a system user `user` on this image's OS.
    pub fn user_creation_for(&self, image: &str, user: &str) -> Option<String> {
        self.os_for_image(image)?
            .user_creation
            .as_ref()
            .map(|c| c.command.replace("{user}", user))
    }

    /// A HEALTHCHECK command for an image, given programs known to be installed in
    /// it (e.g. `curl` from an `apt-get install`). Installed curl/wget win; then the
    /// probe of the image's runtime (`node -e ...`). `{port}`/`{path}` are filled.
    pub fn health_probe_for(
        &self,
        image: &str,
        installed: &[&str],
        port: u16,
        path: &str,
    ) -> Option<String> {
        let fill = |probe: &HealthProbe| {
            probe
                .command
                .replace("{port}", &port.to_string())
                .replace("{path}", path)
        };
        for p in self.profiles.iter().filter(|p| p.kind == ProfileKind::Tool) {
            if let Some(probe) = &p.health_probe {
                if probe
                    .programs
                    .iter()
                    .all(|prog| installed.contains(&prog.as_str()))
                {
                    return Some(fill(probe));
                }
            }
        }
        for p in self.for_base_image(image) {
            if let Some(probe) = &p.health_probe {
                return Some(fill(probe));
            }
        }
        None
    }

    /// The health endpoint of a known server, found by the image the stage
    /// starts from or the program its command runs.
    pub fn health_endpoint_for(
        &self,
        image: Option<&str>,
        program: Option<&str>,
    ) -> Option<&HealthEndpoint> {
        let r = image.and_then(ImageRef::parse);
        let program = program.map(|p| p.rsplit('/').next().unwrap_or(p));
        self.profiles
            .iter()
            .flat_map(|p| p.health_endpoints.iter())
            .find(|e| {
                r.as_ref()
                    .is_some_and(|r| e.images.iter().any(|pat| r.matches(pat).is_some()))
                    || program.is_some_and(|p| e.programs.iter().any(|x| x == p))
            })
    }

    /// The runtime packages of a `-dev` package on an image (`libssl-dev` →
    /// `libssl3` on `debian:bookworm-slim`), from the OS profiles'
    /// `dev_libraries`: Some("") for a header-only package, None when no
    /// release table matches the image or the table lacks the package.
    pub fn dev_library(&self, dev: &str, image: &str) -> Option<&str> {
        let r = ImageRef::parse(image)?;
        self.profiles
            .iter()
            .flat_map(|p| p.dev_libraries.iter())
            .find(|t| t.images.iter().any(|pat| r.matches(pat).is_some()))?
            .packages
            .get(dev)
            .map(String::as_str)
    }

    /// The profile whose build command starts `argv` (`npm run build`, `go build`).
    pub fn build_command(&self, argv: &[&str]) -> Option<&Profile> {
        self.profiles.iter().find(|p| {
            p.build_commands
                .iter()
                .any(|c| command_matches(p, c, argv).is_some())
        })
    }

    /// The profile whose install command starts `argv` (`npm ci`, `pip install -r`).
    pub fn install_command(&self, argv: &[&str]) -> Option<&Profile> {
        self.profiles.iter().find(|p| {
            p.install_commands
                .iter()
                .any(|c| command_matches(p, c, argv).is_some())
        })
    }
}

/// Matches a profile command pattern (`{program} install -r`, `go build`) against
/// argv. The first pattern word matches argv[0] (basename) exactly, or any of the
/// profile's programs when it is `{program}`. Later pattern words are found in
/// order, skipping options (`-q`, `--foo`) between the program and the first of
/// them; after that they must follow each other directly. A final `{bare}` word
/// means only options may follow. Returns the argv index just past the last
/// matched word.
pub fn command_matches(profile: &Profile, pattern: &str, argv: &[&str]) -> Option<usize> {
    let mut words = pattern.split_whitespace();
    let first = words.next()?;
    let prog = argv.first()?;
    let prog = prog.rsplit('/').next().unwrap_or(prog);
    let prog_ok = if first == "{program}" {
        profile.programs.iter().any(|p| p == prog)
    } else {
        first == prog
    };
    if !prog_ok {
        return None;
    }
    let mut i = 1;
    for (n, w) in words.enumerate() {
        if w == "{bare}" {
            // Only options may follow (`yarn` or `yarn --production`, not `yarn build`).
            return argv[i..]
                .iter()
                .all(|a| a.starts_with('-'))
                .then_some(argv.len());
        }
        if n == 0 && !w.starts_with('-') {
            while i < argv.len() && argv[i].starts_with('-') && argv[i] != w {
                i += 1;
            }
        }
        if argv.get(i) != Some(&w) {
            return None;
        }
        i += 1;
    }
    Some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_refs_normalize() {
        let r = ImageRef::parse("docker.io/library/node:20-alpine@sha256:abc").unwrap();
        assert_eq!(r.repository, "node");
        assert_eq!(r.tag, "20-alpine");
        assert_eq!(r.digest.as_deref(), Some("sha256:abc"));
        let r = ImageRef::parse("localhost:5000/team/app").unwrap();
        assert_eq!(r.repository, "localhost:5000/team/app");
        assert_eq!(r.tag, "latest");
        assert!(ImageRef::parse("${BASE}").is_none());
    }

    #[test]
    fn globs_capture() {
        assert_eq!(
            glob_captures("eclipse-temurin:*-jdk*", "eclipse-temurin:21-jdk-jammy"),
            Some(vec!["21".to_string(), "-jammy".to_string()])
        );
        assert_eq!(glob_captures("node", "node"), Some(vec![]));
        assert_eq!(glob_captures("node", "nodes"), None);
    }

    #[test]
    fn python_slim_tags_put_slim_before_the_release() {
        let p = Profiles::embedded();
        for (full, slim) in [
            ("python:3.8-buster", Some("python:3.8-slim-buster")),
            ("python:3.12-bookworm", Some("python:3.12-slim-bookworm")),
            ("python:3.13-trixie", Some("python:3.13-slim-trixie")),
            ("python:3.11", Some("python:3.11-slim")),
            ("python:3.8-slim-buster", None),
            ("python:3.12-windowsservercore-ltsc2022", None),
        ] {
            assert_eq!(p.slim_for(full).as_deref(), slim, "{full}");
        }
    }

    #[test]
    fn dev_libraries_by_release() {
        let p = Profiles::embedded();
        assert_eq!(
            p.dev_library("libssl-dev", "debian:bookworm-slim"),
            Some("libssl3")
        );
        assert_eq!(p.dev_library("libpq-dev", "debian:12-slim"), Some("libpq5"));
        assert_eq!(p.dev_library("libboost-dev", "debian:bookworm"), Some(""));
        assert_eq!(p.dev_library("openssl-dev", "alpine:3.19"), Some("libssl3"));
        // Other releases and unknown packages: no answer rather than a guess.
        assert_eq!(p.dev_library("libssl-dev", "ubuntu:22.04"), None);
        assert_eq!(p.dev_library("libfoo-dev", "debian:bookworm"), None);
    }
}
