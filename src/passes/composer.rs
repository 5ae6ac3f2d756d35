//! # composer-hygiene (DOP009)
//!
//! ## What it does
//! Checks that `composer install` in a shell-form RUN uses `--no-cache`, unless the
//! cache is cleared later in the RUN or a `RUN --mount=type=cache` targets
//! Composer's cache directory.
//!
//! ## Why is this bad?
//! Composer keeps every downloaded package archive in its cache
//! (`/root/.composer/cache` or `/tmp/cache` in the official image), which then
//! ships in the layer.
//!
//! ## Example
//! ```dockerfile
//! RUN composer install --no-dev
//! ```
//! Use instead:
//! ```dockerfile
//! RUN composer install --no-cache --no-dev
//! ```
//!
//! ## Fix safety
//! Safe: only the download cache is skipped.

use crate::fix::Finding;
use crate::passes::{package_hygiene, Pass, PassContext};

/// See the module docs.
pub struct ComposerHygiene;

impl Pass for ComposerHygiene {
    fn code(&self) -> &'static str {
        "DOP009"
    }
    fn name(&self) -> &'static str {
        "composer-hygiene"
    }
    fn summary(&self) -> &'static str {
        "`composer install` without `--no-cache`"
    }
    fn docs(&self) -> &'static str {
        static DOCS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        DOCS.get_or_init(|| package_hygiene::module_docs(include_str!("composer.rs")))
    }
    fn related(&self) -> &'static [&'static str] {
        &[]
    }
    fn run(&self, ctx: &PassContext) -> Vec<Finding> {
        package_hygiene::check(ctx, &["composer"], "DOP009", "composer-hygiene")
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
                &ComposerHygiene,
                "FROM php\nRUN composer install --no-dev\n",
                None,
                false
            ),
            "FROM php\nRUN composer install --no-cache --no-dev\n"
        );
    }

    #[test]
    fn must_not_fire() {
        for src in [
            "FROM php\nRUN composer install --no-cache\n",
            "FROM php\nRUN composer install && composer clear-cache\n",
            "FROM php\nRUN --mount=type=cache,target=/tmp/cache composer install\n",
        ] {
            assert!(
                run(&ComposerHygiene, src, None).is_empty(),
                "fired on:\n{src}"
            );
        }
    }
}
