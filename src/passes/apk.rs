//! # apk-hygiene (DOP003)
//!
//! ## What it does
//! Checks that every `apk add` in a shell-form RUN uses `--no-cache`, unless the
//! same RUN removes `/var/cache/apk` afterwards or a `RUN --mount=type=cache`
//! targets the apk cache.
//!
//! ## Why is this bad?
//! Without `--no-cache`, `apk add` needs an index downloaded by `apk update` and
//! keeps it (and any cached packages) in the layer.
//!
//! ## Example
//! ```dockerfile
//! RUN apk add curl
//! ```
//! Use instead:
//! ```dockerfile
//! RUN apk add --no-cache curl
//! ```
//!
//! ## Fix safety
//! Safe: `--no-cache` fetches a fresh index for this command and stores nothing.

use crate::fix::Finding;
use crate::passes::{package_hygiene, Pass, PassContext};

/// See the module docs.
pub struct ApkHygiene;

impl Pass for ApkHygiene {
    fn code(&self) -> &'static str {
        "DOP003"
    }
    fn name(&self) -> &'static str {
        "apk-hygiene"
    }
    fn summary(&self) -> &'static str {
        "`apk add` without `--no-cache`"
    }
    fn docs(&self) -> &'static str {
        static DOCS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        DOCS.get_or_init(|| package_hygiene::module_docs(include_str!("apk.rs")))
    }
    fn related(&self) -> &'static [&'static str] {
        &["hadolint DL3019"]
    }
    fn run(&self, ctx: &PassContext) -> Vec<Finding> {
        package_hygiene::check(ctx, &["apk"], "DOP003", "apk-hygiene")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::package_hygiene::testing::{fix, run};

    #[test]
    fn adds_no_cache() {
        assert_eq!(
            fix(
                &ApkHygiene,
                "FROM alpine\nRUN apk update && apk add curl git\n",
                None,
                false
            ),
            "FROM alpine\nRUN apk update && apk add --no-cache curl git\n"
        );
        assert_eq!(
            fix(
                &ApkHygiene,
                "FROM alpine\nRUN apk --update add curl\n",
                None,
                false
            ),
            "FROM alpine\nRUN apk --update add --no-cache curl\n"
        );
    }

    #[test]
    fn must_not_fire() {
        for src in [
            "FROM alpine\nRUN apk add --no-cache curl\n",
            "FROM alpine\nRUN apk add curl && rm -rf /var/cache/apk/*\n",
            "FROM alpine\nRUN --mount=type=cache,target=/var/cache/apk apk add curl\n",
            "FROM alpine\nRUN apk del curl\n",
        ] {
            assert!(run(&ApkHygiene, src, None).is_empty(), "fired on:\n{src}");
        }
    }
}
