//! # npm-hygiene (DOP006)
//!
//! ## What it does
//! Replaces a bare `npm install` (no package operands) with `npm ci` when a
//! `package-lock.json` or `npm-shrinkwrap.json` is copied into the image from the
//! build context, and checks that `npm cache clean --force` runs in the same RUN
//! as `npm ci`/`npm install` (unless a `RUN --mount=type=cache` targets `~/.npm`).
//!
//! ## Why is this bad?
//! `npm install` may resolve other versions than the lockfile says and rewrite it;
//! `npm ci` installs exactly the locked tree, is faster and fails when the lockfile
//! is out of date. npm's download cache (`/root/.npm`) stays in the layer otherwise.
//!
//! ## Example
//! ```dockerfile
//! COPY package.json package-lock.json ./
//! RUN npm install
//! ```
//! Use instead:
//! ```dockerfile
//! COPY package.json package-lock.json ./
//! RUN npm ci && npm cache clean --force
//! ```
//!
//! ## Fix safety
//! Safe: `npm ci` is only suggested when the lockfile is present in the build
//! context and copied by an earlier COPY of the stage (and not excluded by
//! `.dockerignore`); commands with `--save*`, `-g` or package operands are left
//! alone. The cache clean only removes downloads.

use crate::fix::Finding;
use crate::passes::{package_hygiene, Pass, PassContext};

/// See the module docs.
pub struct NpmHygiene;

impl Pass for NpmHygiene {
    fn code(&self) -> &'static str {
        "DOP006"
    }
    fn name(&self) -> &'static str {
        "npm-hygiene"
    }
    fn summary(&self) -> &'static str {
        "`npm install` where `npm ci` fits, and npm's cache left in the layer"
    }
    fn docs(&self) -> &'static str {
        static DOCS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        DOCS.get_or_init(|| package_hygiene::module_docs(include_str!("npm.rs")))
    }
    fn related(&self) -> &'static [&'static str] {
        &[]
    }
    fn run(&self, ctx: &PassContext) -> Vec<Finding> {
        package_hygiene::check(ctx, &["npm"], "DOP006", "npm-hygiene")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::package_hygiene::testing::{fix, run};

    const LOCKED: &[(&str, &str)] = &[("package.json", "{}"), ("package-lock.json", "{}")];

    #[test]
    fn install_becomes_ci_with_a_copied_lockfile() {
        let src = "FROM node:20\nWORKDIR /app\nCOPY package*.json ./\nRUN npm install --omit=dev\n";
        assert_eq!(
            fix(&NpmHygiene, src, Some(LOCKED), false),
            "FROM node:20\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci --omit=dev && npm cache clean --force\n"
        );
        let src = "FROM node:20\nCOPY . .\nRUN npm i\n";
        assert_eq!(
            fix(&NpmHygiene, src, Some(LOCKED), false),
            "FROM node:20\nCOPY . .\nRUN npm ci && npm cache clean --force\n"
        );
        let sub: &[(&str, &str)] = &[("web/package.json", "{}"), ("web/package-lock.json", "{}")];
        let src = "FROM node:20\nCOPY web/ /app/\nRUN npm install\n";
        assert!(fix(&NpmHygiene, src, Some(sub), false).contains("RUN npm ci &&"));
    }

    #[test]
    fn no_cleanup_appended_after_an_or_list() {
        // `true || npm ci && npm cache clean` would run the cleanup (and fail where npm
        // is missing) even though the install never ran: finding only.
        let src = "FROM node:20\nRUN true || npm ci\n";
        assert_eq!(fix(&NpmHygiene, src, None, false), src);
        assert_eq!(run(&NpmHygiene, src, None).len(), 1);
    }

    #[test]
    fn no_ci_without_a_usable_lockfile() {
        let clean_only = |src: &str, files: Option<&[(&str, &str)]>| {
            let f = run(&NpmHygiene, src, files);
            assert_eq!(f.len(), 1, "{src}\n{f:#?}");
            assert!(f[0].message.contains("cache clean"));
        };
        // Lockfile not copied before the RUN.
        clean_only(
            "FROM node\nCOPY package.json ./\nRUN npm install\n",
            Some(LOCKED),
        );
        // No lockfile in the context.
        clean_only(
            "FROM node\nCOPY . .\nRUN npm install\n",
            Some(&[("package.json", "{}")]),
        );
        // Excluded by .dockerignore.
        clean_only(
            "FROM node\nCOPY . .\nRUN npm install\n",
            Some(&[
                ("package.json", "{}"),
                ("package-lock.json", "{}"),
                (".dockerignore", "package-lock.json\n"),
            ]),
        );
        // No build context at all.
        clean_only("FROM node\nCOPY . .\nRUN npm install\n", None);
        // Installing named packages, or globally.
        clean_only(
            "FROM node\nCOPY . .\nRUN npm install express\n",
            Some(LOCKED),
        );
        clean_only("FROM node\nCOPY . .\nRUN npm install -g\n", Some(LOCKED));
        // A lockfile copied from another stage does not count.
        clean_only(
            "FROM node\nCOPY --from=deps /x/package-lock.json ./\nRUN npm install\n",
            Some(LOCKED),
        );
    }

    #[test]
    fn must_not_fire() {
        for src in [
            "FROM node\nCOPY . .\nRUN npm ci && npm cache clean --force\n",
            "FROM node\nCOPY . .\nRUN --mount=type=cache,target=/root/.npm npm ci\n",
            "FROM node\nCOPY . .\nRUN npm ci && rm -rf /root/.npm\n",
            "FROM node\nRUN npm run build\n",
        ] {
            let f = run(&NpmHygiene, src, Some(LOCKED));
            assert!(f.is_empty(), "fired on:\n{src}\n{f:#?}");
        }
    }
}
