//! # gem-hygiene (DOP008)
//!
//! ## What it does
//! Checks that `gem install` in a shell-form RUN uses `--no-document` (or `-N`).
//!
//! ## Why is this bad?
//! RubyGems generates rdoc and ri documentation for every installed gem by
//! default: slower builds and megabytes nobody reads inside a container.
//!
//! ## Example
//! ```dockerfile
//! RUN gem install bundler
//! ```
//! Use instead:
//! ```dockerfile
//! RUN gem install bundler --no-document
//! ```
//! (dopt inserts the flag right after `install`.)
//!
//! ## Fix safety
//! Safe: only documentation is skipped.

use crate::fix::Finding;
use crate::passes::{package_hygiene, Pass, PassContext};

/// See the module docs.
pub struct GemHygiene;

impl Pass for GemHygiene {
    fn code(&self) -> &'static str {
        "DOP008"
    }
    fn name(&self) -> &'static str {
        "gem-hygiene"
    }
    fn summary(&self) -> &'static str {
        "`gem install` without `--no-document`"
    }
    fn docs(&self) -> &'static str {
        static DOCS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        DOCS.get_or_init(|| package_hygiene::module_docs(include_str!("gem.rs")))
    }
    fn related(&self) -> &'static [&'static str] {
        &[]
    }
    fn run(&self, ctx: &PassContext) -> Vec<Finding> {
        package_hygiene::check(ctx, &["gem"], "DOP008", "gem-hygiene")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::package_hygiene::testing::{fix, run};

    #[test]
    fn adds_no_document() {
        assert_eq!(
            fix(
                &GemHygiene,
                "FROM ruby\nRUN gem install bundler -v 2.5\n",
                None,
                false
            ),
            "FROM ruby\nRUN gem install --no-document bundler -v 2.5\n"
        );
    }

    #[test]
    fn must_not_fire() {
        for src in [
            "FROM ruby\nRUN gem install -N bundler\n",
            "FROM ruby\nRUN gem install bundler --no-document\n",
            "FROM ruby\nRUN bundle install\n",
        ] {
            assert!(run(&GemHygiene, src, None).is_empty(), "fired on:\n{src}");
        }
    }
}
