//! # yarn-hygiene (DOP007)
//!
//! ## What it does
//! Checks `yarn install` and `pnpm install` in shell-form RUNs: with a `yarn.lock`
//! (`pnpm-lock.yaml`) copied into the image from the build context, the install
//! must use `--frozen-lockfile` (or Yarn 2+'s `--immutable`), and `yarn cache
//! clean` must run in the same RUN (unless a cache mount targets Yarn's cache).
//!
//! ## Why is this bad?
//! Without a frozen lockfile the install may resolve versions other than the ones
//! tested, and may silently rewrite the lockfile. Yarn's cache (`/usr/local/share/.cache/yarn`)
//! is as large as `node_modules` and useless in the image.
//!
//! ## Example
//! ```dockerfile
//! COPY package.json yarn.lock ./
//! RUN yarn install
//! ```
//! Use instead:
//! ```dockerfile
//! COPY package.json yarn.lock ./
//! RUN yarn install --frozen-lockfile && yarn cache clean
//! ```
//!
//! ## Fix safety
//! Safe: the frozen lockfile is only required when the lockfile is copied in; a
//! build whose lockfile is stale then fails loudly instead of drifting.

use crate::fix::Finding;
use crate::passes::{package_hygiene, Pass, PassContext};

/// See the module docs.
pub struct YarnHygiene;

impl Pass for YarnHygiene {
    fn code(&self) -> &'static str {
        "DOP007"
    }
    fn name(&self) -> &'static str {
        "yarn-hygiene"
    }
    fn summary(&self) -> &'static str {
        "`yarn install` / `pnpm install` without a frozen lockfile, and Yarn's cache left in the layer"
    }
    fn docs(&self) -> &'static str {
        static DOCS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        DOCS.get_or_init(|| package_hygiene::module_docs(include_str!("yarn.rs")))
    }
    fn related(&self) -> &'static [&'static str] {
        &["hadolint DL3060"]
    }
    fn run(&self, ctx: &PassContext) -> Vec<Finding> {
        package_hygiene::check(ctx, &["yarn", "pnpm"], "DOP007", "yarn-hygiene")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::package_hygiene::testing::{fix, run};

    #[test]
    fn frozen_lockfile_and_cache_clean() {
        let files: &[(&str, &str)] = &[("package.json", "{}"), ("yarn.lock", "")];
        let src = "FROM node\nCOPY package.json yarn.lock ./\nRUN yarn install --production\n";
        assert_eq!(
            fix(&YarnHygiene, src, Some(files), false),
            "FROM node\nCOPY package.json yarn.lock ./\nRUN yarn install --frozen-lockfile --production && yarn cache clean\n"
        );
        // No lockfile: only the cache clean.
        let src = "FROM node\nCOPY package.json ./\nRUN yarn install\n";
        assert_eq!(
            fix(&YarnHygiene, src, Some(files), false),
            "FROM node\nCOPY package.json ./\nRUN yarn install && yarn cache clean\n"
        );
        let src = "FROM node\nCOPY . .\nRUN yarn && yarn build\n";
        assert_eq!(
            fix(&YarnHygiene, src, Some(files), false),
            "FROM node\nCOPY . .\nRUN yarn --frozen-lockfile && yarn build && yarn cache clean\n"
        );
        let files: &[(&str, &str)] = &[("package.json", "{}"), ("pnpm-lock.yaml", "")];
        let src = "FROM node\nCOPY . .\nRUN pnpm install\n";
        assert_eq!(
            fix(&YarnHygiene, src, Some(files), false),
            "FROM node\nCOPY . .\nRUN pnpm install --frozen-lockfile\n"
        );
    }

    #[test]
    fn berry_projects_are_left_to_immutable() {
        let files: &[(&str, &str)] = &[
            ("package.json", "{}"),
            ("yarn.lock", ""),
            (".yarnrc.yml", ""),
        ];
        let f = run(
            &YarnHygiene,
            "FROM node\nCOPY . .\nRUN yarn install\n",
            Some(files),
        );
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("cache clean"));
    }

    #[test]
    fn must_not_fire() {
        let files: &[(&str, &str)] = &[("package.json", "{}"), ("yarn.lock", "")];
        for src in [
            "FROM node\nCOPY . .\nRUN yarn install --immutable && yarn cache clean\n",
            "FROM node\nCOPY . .\nRUN --mount=type=cache,target=/usr/local/share/.cache/yarn yarn install --frozen-lockfile\n",
            "FROM node\nCOPY . .\nRUN yarn build\n",
        ] {
            assert!(run(&YarnHygiene, src, Some(files)).is_empty(), "fired on:\n{src}");
        }
    }
}
