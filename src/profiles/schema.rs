//! The YAML schema of `profiles/*.yaml`. One file holds one [`Profile`].
//!
//! Every struct denies unknown fields, so a misspelled key is an error that names
//! the key and the file instead of being silently ignored.
//!
//! Image patterns (used by `base_images`, `exclude_images`, `runtime_images.match`
//! and `users.images`) are globs where `*` matches any run of characters. A
//! pattern without `:` matches the repository only (any tag); a pattern with `:`
//! matches `repository:tag` (the tag defaults to `latest`). Repositories are
//! normalized first: `docker.io/` and `library/` are dropped, digests are ignored.

use serde::{Deserialize, Serialize};

/// What a profile describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProfileKind {
    /// An OS package manager and its distribution (apt, apk, dnf, zypper).
    Os,
    /// A language ecosystem / package manager (npm, pip, go, maven...).
    Ecosystem,
    /// A family of base images without a package manager (distroless, scratch).
    Image,
    /// A tool that other passes care about (curl, wget).
    Tool,
}

/// Safety of a rule's fix, mirrored into `crate::fix::Safety`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleSafety {
    Safe,
    Unsafe,
}

impl From<RuleSafety> for crate::fix::Safety {
    fn from(s: RuleSafety) -> Self {
        match s {
            RuleSafety::Safe => crate::fix::Safety::Safe,
            RuleSafety::Unsafe => crate::fix::Safety::Unsafe,
        }
    }
}

/// One profile file.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Unique name; a user profile with the same name replaces the embedded one.
    pub name: String,
    pub kind: ProfileKind,
    #[serde(default)]
    pub description: String,
    /// The language runtime this ecosystem runs on (`node`, `python`, `go`,
    /// `java`, `rust`, `ruby`, `php`), shared by ecosystems of one runtime.
    #[serde(default)]
    pub runtime: Option<String>,
    /// Program names (argv[0], basename) that identify the profile.
    #[serde(default)]
    pub programs: Vec<String>,
    /// Image patterns whose images imply this profile (see module docs).
    #[serde(default)]
    pub base_images: Vec<String>,
    /// Image patterns excluded even if `base_images` matches (e.g. `*:*alpine*`
    /// for apt).
    #[serde(default)]
    pub exclude_images: Vec<String>,
    /// Dependency manifests, relative to the project root.
    #[serde(default)]
    pub manifests: Vec<Manifest>,
    /// Commands that install dependencies (argv prefixes, words separated by
    /// spaces; `{program}` stands for any of `programs`).
    #[serde(default)]
    pub install_commands: Vec<String>,
    /// Commands that indicate a toolchain build (a build stage candidate).
    #[serde(default)]
    pub build_commands: Vec<String>,
    /// Cache directories the package manager writes.
    #[serde(default)]
    pub cache_dirs: Vec<String>,
    /// Cache-hygiene rules checked by the package-hygiene passes.
    #[serde(default)]
    pub hygiene: Vec<HygieneRule>,
    /// Build image → runtime image mappings, first match wins.
    #[serde(default)]
    pub runtime_images: Vec<RuntimeImage>,
    /// Non-root users that images already have.
    #[serde(default)]
    pub users: Vec<ImageUser>,
    /// How to create a non-root user (OS profiles).
    #[serde(default)]
    pub user_creation: Option<UserCreation>,
    /// A HEALTHCHECK command that needs only this profile's programs.
    #[serde(default)]
    pub health_probe: Option<HealthProbe>,
    /// What families of base images serve and how they are meant to be used
    /// (read by the non-root-user pass).
    #[serde(default)]
    pub image_facts: Vec<ImageFacts>,
    /// Health endpoints of known servers, as evidence of an HTTP path to probe.
    #[serde(default)]
    pub health_endpoints: Vec<HealthEndpoint>,
    /// `-dev` package → the runtime libraries a program built against it links,
    /// per release (OS profiles; read by the C and Rust stage splits).
    #[serde(default)]
    pub dev_libraries: Vec<DevLibraries>,
    /// Image → the smaller variant of the same image (`python:3.12` →
    /// `python:3.12-slim`): same runtime, same paths, without the compilers and
    /// `-dev` libraries. First match wins; `to: null` = already the small one.
    #[serde(default)]
    pub slim: Vec<RuntimeImage>,
}

/// The runtime libraries of `-dev` packages on the images of one release.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DevLibraries {
    /// Image patterns of the release (`debian:bookworm*`, `alpine`).
    pub images: Vec<String>,
    /// `-dev` package → runtime packages, space-separated; empty for a
    /// header-only package that needs nothing at run time.
    pub packages: std::collections::BTreeMap<String, String>,
}

/// A dependency manifest such as `package.json` or a lockfile such as `go.sum`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// A file name or glob (`requirements*.txt`).
    pub path: String,
    /// True for lockfiles (exact resolved versions).
    #[serde(default)]
    pub lockfile: bool,
}

/// One cache-hygiene rule. Exactly one of `require_flag`, `require_before`,
/// `require_cleanup` and `replace_with` is set.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HygieneRule {
    /// Stable id, e.g. `apt-get-no-install-recommends`.
    pub id: String,
    /// The command the rule is about: an argv prefix such as `{program} install`.
    /// Options between the program and the subcommand are allowed.
    pub command: String,
    /// A flag the command must carry (inserted right after the subcommand).
    #[serde(default)]
    pub require_flag: Option<String>,
    /// Other spellings that satisfy `require_flag` (`--yes` for `-y`). A one-letter
    /// short flag is also found inside bundles such as `-qy`. For `require_before`:
    /// flags of the command itself that do the same (`apt-get install --update`).
    #[serde(default)]
    pub flag_aliases: Vec<String>,
    /// A command that must run earlier in the same RUN (`apt-get update`).
    #[serde(default)]
    pub require_before: Option<String>,
    /// A command that must run later in the same RUN (cleanup).
    #[serde(default)]
    pub require_cleanup: Option<String>,
    /// Words whose presence in a later command of the same RUN shows the cleanup
    /// is already done (`/var/lib/apt/lists`).
    #[serde(default)]
    pub cleanup_matches: Vec<String>,
    /// Replace the `command` prefix with this one (`npm ci` for `npm install`).
    #[serde(default)]
    pub replace_with: Option<String>,
    /// The rule only applies when one of these files exists in the build context
    /// (e.g. a lockfile). Never applies without a build context.
    #[serde(default)]
    pub when_files: Vec<String>,
    /// The rule does not apply when one of these files exists in the build
    /// context root (e.g. `.yarnrc.yml`: Yarn 2+ has other flags).
    #[serde(default)]
    pub unless_files: Vec<String>,
    /// The rule only applies when the command has no operands after the prefix
    /// (`npm install` but not `npm install express`).
    #[serde(default)]
    pub only_bare: bool,
    /// ENV/ARG names that already give the effect when set (`PIP_NO_CACHE_DIR`).
    #[serde(default)]
    pub satisfied_by_env: Vec<String>,
    /// If a `RUN --mount=type=cache` target contains (or lies within) one of
    /// these, the cache is intentional and the rule is skipped. Empty for rules
    /// that are not about caches (`-y`).
    #[serde(default)]
    pub cache_dirs: Vec<String>,
    pub safety: RuleSafety,
    /// One-line reason shown with the fix.
    pub reason: String,
}

impl HygieneRule {
    /// Which action the rule takes.
    pub fn action(&self) -> Option<HygieneAction<'_>> {
        let mut actions = Vec::new();
        if let Some(f) = &self.require_flag {
            actions.push(HygieneAction::Flag(f));
        }
        if let Some(c) = &self.require_before {
            actions.push(HygieneAction::Before(c));
        }
        if let Some(c) = &self.require_cleanup {
            actions.push(HygieneAction::Cleanup(c));
        }
        if let Some(c) = &self.replace_with {
            actions.push(HygieneAction::Replace(c));
        }
        if actions.len() == 1 {
            actions.pop()
        } else {
            None
        }
    }
}

/// The action of a [`HygieneRule`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HygieneAction<'a> {
    Flag(&'a str),
    Before(&'a str),
    Cleanup(&'a str),
    Replace(&'a str),
}

/// A build image → runtime image mapping.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeImage {
    /// Image pattern; `*` captures are available to `to` as `{1}`, `{2}`...
    #[serde(rename = "match")]
    pub pattern: String,
    /// The runtime image, or null when the matched image already is a runtime
    /// image (nothing to change).
    #[serde(default)]
    pub to: Option<String>,
    /// Facts that must hold for this mapping (e.g. `cgo-disabled`: the binary is
    /// static). Mappings with requirements are skipped unless the caller states them.
    #[serde(default)]
    pub requires: Vec<String>,
    #[serde(default)]
    pub note: String,
}

/// A non-root user that an image family already has.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ImageUser {
    /// Image patterns.
    pub images: Vec<String>,
    pub name: String,
    #[serde(default)]
    pub uid: Option<u32>,
    /// What `USER` names, when the image's documented form is not the name
    /// (`$APP_UID` on .NET 8+ images, which set `ENV APP_UID=1654`).
    #[serde(default)]
    pub switch_to: Option<String>,
    /// The image's own config already switches to this user (its Dockerfile
    /// ends with `USER`): a stage that sets no USER runs as it.
    #[serde(default)]
    pub is_default: bool,
}

/// How an OS creates a system user.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UserCreation {
    /// Shell command; `{user}` is replaced by the user name.
    pub command: String,
    /// Programs the command needs (checked by callers against installed tools).
    #[serde(default)]
    pub programs: Vec<String>,
    /// The uid and gid the command gives the user, when fixed: `USER uid:gid`
    /// then names it numerically (Kubernetes `runAsNonRoot` cannot verify a
    /// user given by name).
    #[serde(default)]
    pub uid: Option<u32>,
}

/// A HEALTHCHECK probe.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HealthProbe {
    /// Shell command; `{port}` and `{path}` are replaced.
    pub command: String,
    /// Programs the probe needs in the image.
    #[serde(default)]
    pub programs: Vec<String>,
}

/// Facts about a family of base images.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ImageFacts {
    /// Image patterns.
    pub images: Vec<String>,
    /// TCP ports the image's own server listens on when its CMD is kept
    /// (`80` for `httpd` and `php:*-apache`).
    #[serde(default)]
    pub serves_ports: Vec<u16>,
    /// Programs (argv[0] basenames) of the image's own CMD: an image that runs
    /// one of these and copies no application of its own is a base for other
    /// images, used as root by the Dockerfiles that extend it.
    #[serde(default)]
    pub own_commands: Vec<String>,
}

/// The documented health endpoint of a known server (Jenkins `/login`,
/// Meilisearch `/health`): evidence that a GET on `path` answers.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HealthEndpoint {
    /// The server's name, shown in messages.
    pub server: String,
    /// Image patterns of the server's images.
    #[serde(default)]
    pub images: Vec<String>,
    /// Program names (argv[0] basename of the container's command) that start it.
    #[serde(default)]
    pub programs: Vec<String>,
    /// The HTTP path that answers GET with a success status when healthy.
    pub path: String,
    /// The server's default port.
    #[serde(default)]
    pub port: Option<u16>,
}
