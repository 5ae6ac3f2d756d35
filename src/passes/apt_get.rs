//! # apt-get-hygiene (DOP002)
//!
//! ## What it does
//! Checks every `apt-get install` (also `apt install`, behind `sudo`/`env`) in a
//! shell-form RUN for four things, from the `apt` profile:
//! - `apt-get update` runs earlier in the same RUN;
//! - `-y` (or `--yes`, `-qy`...) is given;
//! - `--no-install-recommends` is given;
//! - `rm -rf /var/lib/apt/lists/*` runs later in the same RUN.
//!
//! ## Why is this bad?
//! An `update` in an earlier RUN is cached on its own, so a later `install` can
//! use a months-old package index. Without `-y` apt waits for an answer. Recommended
//! packages are rarely needed in a container and often add tens of megabytes. The
//! package lists (~20-40 MB) stay in the layer unless removed in the same RUN;
//! removing them in a later RUN does not shrink the image.
//!
//! Skipped when a `RUN --mount=type=cache` targets `/var/lib/apt` (or the lists):
//! the cache is then intentional and not stored in the layer. The list cleanup is
//! not asked for in a stage whose layers do not ship (only copied from), and
//! fixes apply only to stages the final image needs (stage references with ARGs,
//! such as `COPY --from=build_${TARGETARCH}`, are resolved).
//!
//! ## Example
//! ```dockerfile
//! RUN apt-get install curl
//! ```
//! Use instead:
//! ```dockerfile
//! RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
//! ```
//!
//! ## Fix safety
//! Adding `update`, `-y` and the list cleanup is safe. Adding
//! `--no-install-recommends` is unsafe: the software may rely on a recommended
//! package (e.g. `ca-certificates` for `curl` to reach HTTPS hosts).
//! `update` is only inserted where it keeps the meaning (first command, or after
//! `&&`/`;`/a newline at the top level), with the separator the script already
//! uses there. Under errexit (`set -e`, or a SHELL with `-e`) a failure in any
//! but the last command of an `a && b` list is ignored, so `update && install`
//! would let a failed update silently skip the install: there the update gets its
//! own command (`apt-get update; apt-get install ...`), and after `&&` the finding
//! has no fix. Elsewhere (after `||`, in a pipeline or a compound command) the
//! finding has no fix either. `apt-get install --update` (apt 3) already updates.
//!
//! The list cleanup is not added while a later RUN of the stage (or of a stage
//! built `FROM` it) may install without its own `update`: that install would
//! find no lists and fail. "May install" includes installs inside `if`, loops and
//! functions, and any script dopt cannot see (`./install.sh`, `. /env.sh`,
//! `curl ... | sh`); the finding then names that RUN and has no fix.

use crate::fix::Finding;
use crate::passes::{package_hygiene, Pass, PassContext};

/// See the module docs.
pub struct AptGetHygiene;

impl Pass for AptGetHygiene {
    fn code(&self) -> &'static str {
        "DOP002"
    }
    fn name(&self) -> &'static str {
        "apt-get-hygiene"
    }
    fn summary(&self) -> &'static str {
        "apt-get installs without `update`, `-y`, `--no-install-recommends` or list cleanup"
    }
    fn docs(&self) -> &'static str {
        static DOCS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        DOCS.get_or_init(|| package_hygiene::module_docs(include_str!("apt_get.rs")))
    }
    fn related(&self) -> &'static [&'static str] {
        &["hadolint DL3009", "hadolint DL3014", "hadolint DL3015"]
    }
    fn run(&self, ctx: &PassContext) -> Vec<Finding> {
        package_hygiene::check(ctx, &["apt"], "DOP002", "apt-get-hygiene")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::Safety;
    use crate::passes::package_hygiene::testing::{fix, run};

    #[test]
    fn fixes_everything_in_one_run() {
        let src = "FROM debian:12\nRUN apt-get install curl\n";
        assert_eq!(
            fix(&AptGetHygiene, src, None, false),
            "FROM debian:12\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n"
        );
        assert_eq!(
            fix(&AptGetHygiene, src, None, true),
            "FROM debian:12\nRUN apt-get update && apt-get install --no-install-recommends -y curl && rm -rf /var/lib/apt/lists/*\n"
        );
    }

    #[test]
    fn messages_and_safety() {
        let f = run(
            &AptGetHygiene,
            "FROM debian\nRUN apt-get update && apt-get install -y curl\n",
            None,
        );
        assert_eq!(f.len(), 2, "{f:#?}");
        assert!(f[0].message.contains("--no-install-recommends"));
        assert_eq!(f[0].fix.as_ref().unwrap().safety, Safety::Unsafe);
        assert!(f[1].message.contains("/var/lib/apt/lists"));
        assert_eq!(f[1].fix.as_ref().unwrap().safety, Safety::Safe);
    }

    #[test]
    fn continuation_lines_and_wrappers() {
        let src = "FROM ubuntu\nRUN set -eux; \\\n    sudo apt-get -q update && \\\n    DEBIAN_FRONTEND=noninteractive sudo apt-get -q install \\\n      git\n";
        assert_eq!(
            fix(&AptGetHygiene, src, None, true),
            "FROM ubuntu\nRUN set -eux; \\\n    sudo apt-get -q update && \\\n    DEBIAN_FRONTEND=noninteractive sudo apt-get -q install --no-install-recommends -y \\\n      git && sudo rm -rf /var/lib/apt/lists/*\n"
        );
    }

    #[test]
    fn redirections_stay_with_their_command() {
        // The cleanup goes after the redirection; `update` gets the assignment
        // but not the redirection in front of the install.
        let src = "FROM debian\nRUN 2>/dev/null DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends curl > /tmp/apt.log\n";
        assert_eq!(
            fix(&AptGetHygiene, src, None, false),
            "FROM debian\nRUN DEBIAN_FRONTEND=noninteractive apt-get update && 2>/dev/null DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends curl > /tmp/apt.log && rm -rf /var/lib/apt/lists/*\n"
        );
        // `&>` is `&` then `>` in sh: a cleanup after it would not wait.
        let f = run(&AptGetHygiene, "FROM debian\nRUN apt-get update && apt-get install -y --no-install-recommends curl &> /dev/null\n", None);
        assert_eq!(f.len(), 1);
        assert!(f[0].fix.is_none());
    }

    #[test]
    fn update_uses_the_scripts_separator() {
        // `;`-separated and `set -e` scripts: the update gets its own command, so
        // under errexit a failed update stops the build.
        assert_eq!(
            fix(&AptGetHygiene, "FROM debian\nRUN set -eux; apt-get install -y --no-install-recommends x; rm -rf /var/lib/apt/lists/*\n", None, false),
            "FROM debian\nRUN set -eux; apt-get update; apt-get install -y --no-install-recommends x; rm -rf /var/lib/apt/lists/*\n"
        );
        assert_eq!(
            fix(&AptGetHygiene, "FROM debian\nRUN echo a; apt-get install -y --no-install-recommends x && rm -rf /var/lib/apt/lists/*\n", None, false),
            "FROM debian\nRUN echo a; apt-get update; apt-get install -y --no-install-recommends x && rm -rf /var/lib/apt/lists/*\n"
        );
        assert_eq!(
            fix(&AptGetHygiene, "FROM debian\nRUN cd /x && apt-get install -y --no-install-recommends x && rm -rf /var/lib/apt/lists/*\n", None, false),
            "FROM debian\nRUN cd /x && apt-get update && apt-get install -y --no-install-recommends x && rm -rf /var/lib/apt/lists/*\n"
        );
        // A SHELL with -e: the first command gets `; ` too.
        assert_eq!(
            fix(&AptGetHygiene, "FROM debian\nSHELL [\"/bin/bash\", \"-eo\", \"pipefail\", \"-c\"]\nRUN apt-get install -y --no-install-recommends x && rm -rf /var/lib/apt/lists/*\n", None, false),
            "FROM debian\nSHELL [\"/bin/bash\", \"-eo\", \"pipefail\", \"-c\"]\nRUN apt-get update; apt-get install -y --no-install-recommends x && rm -rf /var/lib/apt/lists/*\n"
        );
        // A newline-separated heredoc script: one more line.
        assert_eq!(
            fix(&AptGetHygiene, "FROM debian\nRUN <<EOF\nset -e\n  apt-get install -y --no-install-recommends git\n  rm -rf /var/lib/apt/lists/*\nEOF\n", None, false),
            "FROM debian\nRUN <<EOF\nset -e\n  apt-get update\n  apt-get install -y --no-install-recommends git\n  rm -rf /var/lib/apt/lists/*\nEOF\n"
        );
        // After `&&` under `set -e` there is no place that keeps the failure
        // fatal: report without a fix.
        let f = run(&AptGetHygiene, "FROM debian\nRUN set -e; cd /x && apt-get install -y --no-install-recommends x; rm -rf /var/lib/apt/lists/*\n", None);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].fix.is_none());
        // After a compound command: report only.
        let f = run(&AptGetHygiene, "FROM debian\nRUN if true; then :; fi && apt-get install -y --no-install-recommends x && rm -rf /var/lib/apt/lists/*\n", None);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].fix.is_none());
    }

    #[test]
    fn install_update_flag_counts_as_update() {
        for src in [
            "FROM debian:trixie\nRUN apt-get install --update -y --no-install-recommends x && rm -rf /var/lib/apt/lists/*\n",
            "FROM debian:trixie\nRUN apt install --update -y --no-install-recommends x && rm -rf /var/lib/apt/lists/*\n",
        ] {
            let f = run(&AptGetHygiene, src, None);
            assert!(f.is_empty(), "fired on:\n{src}\n{f:#?}");
        }
    }

    #[test]
    fn update_not_inserted_after_or() {
        let f = run(&AptGetHygiene, "FROM debian\nRUN true || apt-get install -y --no-install-recommends x && rm -rf /var/lib/apt/lists/*\n", None);
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("apt-get update"));
        assert!(f[0].fix.is_none());
    }

    #[test]
    fn heredoc_scripts() {
        let src = "# syntax=docker/dockerfile:1\nFROM debian\nRUN <<EOF\napt-get update\napt-get install -y --no-install-recommends git\nEOF\n";
        assert_eq!(
            fix(&AptGetHygiene, src, None, true),
            "# syntax=docker/dockerfile:1\nFROM debian\nRUN <<EOF\napt-get update\napt-get install -y --no-install-recommends git && rm -rf /var/lib/apt/lists/*\nEOF\n"
        );
        let src = "FROM debian\nRUN <<EOF\napt-get install git\nEOF\n";
        assert_eq!(
            fix(&AptGetHygiene, src, None, false),
            "FROM debian\nRUN <<EOF\napt-get update && apt-get install -y git && rm -rf /var/lib/apt/lists/*\nEOF\n"
        );
        for src in [
            // Not the shell's script: stdin of another program, or another interpreter.
            "FROM debian\nRUN python3 <<EOF\napt-get install git\nEOF\n",
            "FROM debian\nRUN <<EOF\n#!/usr/bin/env python3\napt-get install git\nEOF\n",
            // `<<-` strips tabs: the body is not verbatim.
            "FROM debian\nRUN <<-EOF\n\tapt-get install git\n\tEOF\n",
            "FROM debian\nCOPY <<EOF /x\napt-get install git\nEOF\n",
        ] {
            assert!(
                run(&AptGetHygiene, src, None).is_empty(),
                "fired on:\n{src}"
            );
        }
        let src = "FROM debian\nRUN <<EOF\n#!/bin/bash\napt-get install -y --no-install-recommends git\nEOF\n";
        assert_eq!(run(&AptGetHygiene, src, None).len(), 2);
    }

    #[test]
    fn stages_the_target_does_not_need_get_no_fix() {
        let src = "FROM debian AS dev\nRUN apt-get update && apt-get install -y --no-install-recommends gdb && rm -rf /var/lib/apt/lists/*\nRUN apt-get install vim\nFROM debian\nCMD x\n";
        let f = run(&AptGetHygiene, src, None);
        assert!(!f.is_empty());
        assert!(f.iter().all(|f| f.fix.is_none()), "{f:#?}");
        // Stages named with a platform arg are resolved.
        let src = "FROM debian AS build_amd64\nRUN apt-get install -y --no-install-recommends gcc\nFROM debian AS build_arm64\nRUN apt-get install -y --no-install-recommends gcc\nFROM scratch\nCOPY --from=build_${TARGETARCH} /x /x\n";
        let f = run(&AptGetHygiene, src, None);
        assert_eq!(f.len(), 2, "{f:#?}");
        assert!(f.iter().all(|f| f.fix.is_some()), "{f:#?}");
    }

    #[test]
    fn lists_stay_while_a_later_run_installs_without_update() {
        let cleanup = |src: &str| {
            let f = run(&AptGetHygiene, src, None);
            let c: Vec<_> = f
                .into_iter()
                .filter(|f| f.message.contains("/var/lib/apt/lists"))
                .collect();
            // The first RUN's cleanup comes first.
            assert!(!c.is_empty(), "{src}");
            c[0].clone()
        };
        let head =
            "FROM debian\nRUN apt-get update && apt-get install -y --no-install-recommends curl\n";
        for later in [
            "RUN apt-get install -y --no-install-recommends git",
            "RUN if [ -n \"$X\" ]; then apt-get install -y --no-install-recommends git; fi",
            "RUN f() { apt-get install -y --no-install-recommends \"$@\"; }; f git",
            "RUN ./install-deps.sh",
            "RUN . /opt/env.sh && setup",
            "RUN bash /tmp/setup",
            "RUN curl -fsSL https://example.com/setup | bash -",
            "RUN sh -c \"apt-get install -y git\"",
            "RUN xargs apt-get install -y < /pkgs.txt",
            "RUN [\"/bin/sh\", \"-c\", \"apt-get install -y git\"]",
            "RUN [\"/tmp/install.sh\"]",
        ] {
            let src = format!("{head}{later}\n");
            let f = cleanup(&src);
            assert!(f.fix.is_none(), "fix offered with:\n{src}");
            assert!(f.message.contains("line 3"), "{}", f.message);
        }
        // In a stage built FROM this one, too.
        let f = cleanup("FROM debian AS base\nRUN apt-get update && apt-get install -y --no-install-recommends curl\nFROM base\nRUN apt-get install -y --no-install-recommends git\n");
        assert!(f.fix.is_none());
        // Later RUNs that update first, or do not install: the fix is offered.
        for later in [
            "RUN apt-get update && apt-get install -y --no-install-recommends git && rm -rf /var/lib/apt/lists/*",
            "RUN apt-get install --update -y --no-install-recommends git && rm -rf /var/lib/apt/lists/*",
            "RUN make -C /src install",
            "RUN sh -c 'echo \"deb https://example.com/ any main\" > /etc/apt/sources.list.d/x.list'",
            "RUN [\"npm\", \"ci\"]",
        ] {
            let src = format!("{head}{later}\n");
            assert!(cleanup(&src).fix.is_some(), "no fix with:\n{src}");
        }
        // Another stage that is not built from this one does not matter.
        let src = "FROM debian AS base\nRUN apt-get update && apt-get install -y --no-install-recommends curl\nFROM debian AS other\nRUN ./install.sh\nFROM base\nCOPY --from=other /x /x\n";
        assert!(cleanup(src).fix.is_some());
    }

    #[test]
    fn stages_that_ship_still_fire() {
        let src = "FROM debian AS base\nRUN apt-get update && apt-get install -y --no-install-recommends gcc\nFROM base\nCMD x\n";
        assert_eq!(run(&AptGetHygiene, src, None).len(), 1);
    }

    #[test]
    fn must_not_fire() {
        for src in [
            "FROM debian\nRUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n",
            "FROM debian\nRUN apt-get update && apt-get install -qqy --no-install-recommends curl \\\n && apt-get clean && rm -rf /var/lib/apt/lists/* /tmp/*\n",
            "FROM debian\nRUN --mount=type=cache,target=/var/cache/apt --mount=type=cache,target=/var/lib/apt apt-get update && apt-get install --yes --no-install-recommends curl\n",
            "FROM debian\nRUN [\"apt-get\", \"install\", \"curl\"]\n",
            "FROM debian\nRUN apt-get update\n",
            "FROM debian\nRUN echo apt-get install x\n",
            // apt 3: `install --update` and `dist-clean`.
            "FROM debian:trixie\nRUN set -eux; apt-get install --update -y --no-install-recommends x; apt-get dist-clean\n",
            // Build stages that are only copied from do not ship their caches.
            "FROM debian AS build\nRUN apt-get update && apt-get install -y --no-install-recommends gcc\nFROM scratch\nCOPY --from=build /x /x\n",
        ] {
            let f = run(&AptGetHygiene, src, None);
            assert!(f.is_empty(), "fired on:\n{src}\n{f:#?}");
        }
    }
}
