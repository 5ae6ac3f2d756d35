//! # apk-hygiene (DOP003)
//!
//! ## What it does
//! Checks that every `apk add` in a shell-form RUN uses `--no-cache`, unless the
//! same RUN removes `/var/cache/apk` afterwards or a `RUN --mount=type=cache`
//! targets the apk cache. `apk add --no-network` is an intentionally offline
//! step (it installs from the cache or local files): it is left alone, since
//! `--no-cache` would make it fetch the remote indexes. Then removes an `apk update` whose only purpose was
//! those installs: every later `apk` command of the RUN is an
//! `apk add --no-cache`.
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
//! Safe: `--no-cache` fetches a fresh index for this command and stores nothing,
//! so a preceding `apk update` only leaves its index (~2 MB) in the layer. The
//! update is only removed where deleting it keeps the meaning: at the top level,
//! not in a pipeline, first or after `&&`/`;`, and followed by `&&`/`;`.

use crate::fix::Finding;
use crate::fix::{Edit, Fix};
use crate::passes::{package_hygiene, Pass, PassContext};
use crate::shell::Separator;
use crate::syntax::Span;

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
        let mut findings = package_hygiene::check(ctx, &["apk"], "DOP003", "apk-hygiene");
        findings.extend(redundant_updates(ctx));
        findings
    }
}

/// `apk update` before installs that all use `--no-cache`.
fn redundant_updates(ctx: &PassContext) -> Vec<Finding> {
    let file = ctx.file;
    let mut findings = Vec::new();
    if !ctx.posix_shell() {
        return findings;
    }
    let cache_dirs = ["/var/cache/apk".to_string(), "/etc/apk/cache".to_string()];
    let scope = ctx.scope();
    for (idx, inst) in file.instructions.iter().enumerate() {
        let first = findings.len();
        let Some((run_text, script)) = ctx.run_shell(idx) else {
            continue;
        };
        if !script.parse_ok || package_hygiene::cache_mount_covers(inst, &cache_dirs) {
            continue;
        }
        for (i, cmd) in script.commands.iter().enumerate() {
            if cmd.matches(&["apk"], &["update"]).is_none()
                || cmd.depth != 0
                || cmd.in_pipeline
                || !matches!(cmd.separator_after, Some(Separator::And | Separator::Seq))
            {
                continue;
            }
            let prev_ok = i == 0
                || matches!(
                    script.commands[i - 1].separator_after,
                    Some(Separator::And | Separator::Seq)
                );
            let later: Vec<_> = script.commands[i + 1..]
                .iter()
                .filter(|c| c.program().as_deref() == Some("apk"))
                .collect();
            let all_no_cache = !later.is_empty()
                && later.iter().all(|c| {
                    c.matches(&["apk"], &["add"]).is_some() && c.has_flag("--no-cache", &[])
                });
            let Some(next) = script.commands.get(i + 1) else {
                continue;
            };
            if !prev_ok || !all_no_cache || next.depth != 0 {
                continue;
            }
            let span = Span::new(
                run_text.start(cmd.range.start),
                run_text.start(next.range.start),
            );
            findings.push(Finding {
                code: "DOP003",
                name: "apk-hygiene",
                message: "`apk update` is not needed before `apk add --no-cache` and leaves the package index in the layer".into(),
                span: run_text.span(cmd.range.clone()),
                fix: Some(Fix::safe(vec![Edit::delete(span)])),
            });
        }
        package_hygiene::out_of_scope(scope, idx, &mut findings[first..]);
    }
    findings
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
            "FROM alpine\nRUN apk add --no-cache curl git\n"
        );
        assert_eq!(
            fix(
                &ApkHygiene,
                "FROM alpine\nRUN set -x; apk update && \\\n    apk add curl\n",
                None,
                false
            ),
            "FROM alpine\nRUN set -x; apk add --no-cache curl\n"
        );
        // The update goes with its redirections; the add keeps its own.
        assert_eq!(
            fix(
                &ApkHygiene,
                "FROM alpine\nRUN apk update > /dev/null 2>&1 && apk add curl >/dev/null\n",
                None,
                false
            ),
            "FROM alpine\nRUN apk add --no-cache curl >/dev/null\n"
        );
        // `apk upgrade` needs the index: the update stays.
        assert_eq!(
            fix(
                &ApkHygiene,
                "FROM alpine\nRUN apk update && apk upgrade && apk add curl\n",
                None,
                false
            ),
            "FROM alpine\nRUN apk update && apk upgrade && apk add --no-cache curl\n"
        );
        // After `||` deleting would change the meaning.
        assert_eq!(
            fix(
                &ApkHygiene,
                "FROM alpine\nRUN true || apk update && apk add --no-cache x\n",
                None,
                false
            ),
            "FROM alpine\nRUN true || apk update && apk add --no-cache x\n"
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
            // Offline on purpose: `--no-cache` would make it fetch the indexes.
            "FROM alpine\nRUN apk add --no-network /tmp/pkgs/*.apk\n",
            "FROM alpine\nRUN apk update && apk add --no-network --allow-untrusted curl\n",
        ] {
            assert!(run(&ApkHygiene, src, None).is_empty(), "fired on:\n{src}");
        }
    }
}
