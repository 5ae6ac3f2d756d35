//! # merge-run (DOP001)
//!
//! ## What it does
//! Merges consecutive shell-form RUN instructions of a stage into one, chained
//! with ` && \` and a continuation line in the file's own indentation, escape
//! character and line endings. Comments between the RUNs move above the merged
//! instruction; blank lines between them go.
//!
//! Only stages whose layers end up in the final image are considered (the last
//! stage and the stages it is built `FROM`); a build stage that is only copied
//! from gains nothing. Never merged: a RUN that turns on `set -e` with a RUN after it (POSIX ignores
//! -e inside all but the last command of an `&&` list, so its failures would
//! pass silently), exec-form RUNs, heredoc RUNs, RUNs whose `--mount`/`--network`/
//! `--security` flags differ (or that have other flags), RUNs separated by any
//! other instruction, RUNs that end with `&`, a comment or a stray `;`, RUNs that
//! use bash's `&>` (which `sh` reads as `&` then `>`), RUNs whose
//! shell text cannot be parsed, and files whose SHELL is not a POSIX shell, runs
//! it with `-e`, or that build on Windows images.
//!
//! ## Why is this bad?
//! Every RUN is a layer. Files that one RUN creates and a later RUN deletes (package
//! lists, build tools, caches) still ship in the earlier layer, so cleanups only
//! shrink the image when they run in the same RUN as what they clean. Fewer layers
//! also pull and unpack faster.
//!
//! ## Example
//! ```dockerfile
//! RUN apt-get update
//! # tools for the health check
//! RUN apt-get install -y curl
//! ```
//! Use instead:
//! ```dockerfile
//! # tools for the health check
//! RUN apt-get update && \
//!     apt-get install -y curl
//! ```
//!
//! ## Fix safety
//! Safe when every part is a plain `&&` chain of simple commands that leaves the
//! shell state alone: then `a && b` fails exactly when one of the RUNs failed.
//! Redirections (`> file`, `>> log 2>&1`, `2>/dev/null cmd`, `<<< word`) apply to
//! their own command only, so they move with it unchanged.
//! A part that changes the shell state for what follows (`cd`, `export`, `set`,
//! `exit`, `exec`, assignments, functions...) is wrapped in `( ... )` so the next
//! part starts as it did in its own shell, and a later part that is not a plain
//! `&&` chain (`a; b`, `a || b`, `if ...`) is wrapped so that an earlier failure
//! still stops it. Those merges are behaviour-preserving by construction but
//! marked unsafe, since they change the text more than a join.

use crate::fix::{Edit, Finding, Fix, Safety};
use crate::passes::{package_hygiene, Pass, PassContext};
use crate::shell::{self, Script};
use crate::syntax::{Dockerfile, Instruction, ItemKind, Span};

/// See the module docs.
pub struct MergeRun;

/// Flags with which RUNs may still be merged, when equal on both.
const MERGEABLE_FLAGS: &[&str] = &["mount", "network", "security"];

impl Pass for MergeRun {
    fn code(&self) -> &'static str {
        "DOP001"
    }
    fn name(&self) -> &'static str {
        "merge-run"
    }
    fn summary(&self) -> &'static str {
        "Consecutive RUN instructions that can be one layer"
    }
    fn docs(&self) -> &'static str {
        static DOCS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        DOCS.get_or_init(|| package_hygiene::module_docs(include_str!("merge_run.rs")))
    }
    fn related(&self) -> &'static [&'static str] {
        &["hadolint DL3059"]
    }
    fn run(&self, ctx: &PassContext) -> Vec<Finding> {
        let file = ctx.file;
        // With errexit from SHELL, `a; b` inside a merged `&&` chain would no
        // longer stop at `a`: POSIX ignores -e for all but the last command of an
        // AND-OR list, subshells included.
        if !shell::posix_shell(file) || shell::shell_errexit(file) {
            return Vec::new();
        }
        let indent = continuation_indent(file);
        let mut findings = Vec::new();
        for stage in file.stages() {
            // Layers of a build stage that is only copied from never ship:
            // merging them would only coarsen the build cache.
            if !ctx.stage_ships(stage.from_instruction) {
                continue;
            }
            let mut group: Vec<Part> = Vec::new();
            for idx in stage.instructions.clone() {
                match Part::new(ctx, idx) {
                    // A part that turns on `set -e` must stay last: chained with
                    // `&&` after it, -e would be ignored for its commands.
                    Some(part)
                        if group.last().is_some_and(|prev| {
                            prev.idx + 1 == idx
                                && prev.flags == part.flags
                                && !prev.script.enables_errexit()
                        }) =>
                    {
                        group.push(part)
                    }
                    other => {
                        if group.len() > 1 {
                            findings.push(merge(file, &group, &indent));
                        }
                        group = other.into_iter().collect();
                    }
                }
            }
            if group.len() > 1 {
                findings.push(merge(file, &group, &indent));
            }
        }
        findings
    }
}

/// A RUN that may take part in a merge.
struct Part<'a> {
    idx: usize,
    inst: &'a Instruction,
    script: &'a Script,
    /// `(name, value)` of its flags, compared between parts.
    flags: Vec<(String, Option<String>)>,
    /// Source offset of the first command.
    body_start: usize,
    /// Source offset just past the last command.
    body_end: usize,
    /// Source offset of the end of the instruction's last line, terminator excluded.
    line_end: usize,
}

impl<'a> Part<'a> {
    fn new(ctx: &'a PassContext, idx: usize) -> Option<Part<'a>> {
        let file = ctx.file;
        let inst = &file.instructions[idx];
        let script = ctx.run_script(idx)?;
        let text = &inst.logical.text;
        let ok = script.parse_ok
            && !script.has_background
            && script.trailing.is_empty()
            && text[..script.range.start].trim().is_empty()
            && !text.contains('\n')
            && inst
                .flags
                .iter()
                .all(|f| MERGEABLE_FLAGS.contains(&f.name.as_str()));
        if !ok {
            return None;
        }
        let body_start = shell::source_start(&inst.logical, script.range.start);
        let body_end = shell::source_end(&inst.logical, script.range.end);
        let span_text = inst.span.text(&file.source);
        let terminator = if span_text.ends_with("\r\n") {
            2
        } else if span_text.ends_with('\n') {
            1
        } else {
            0
        };
        let line_end = inst.span.end - terminator;
        // Between the last command and the end of the line only spaces may stand
        // (no comment lines of a continuation, no stray escape).
        if body_end > line_end
            || body_start < inst.keyword_span.end
            || !file.source[body_end..line_end]
                .bytes()
                .all(|b| b == b' ' || b == b'\t')
        {
            return None;
        }
        let flags = inst
            .flags
            .iter()
            .map(|f| (f.name.clone(), f.value.clone()))
            .collect();
        Some(Part {
            idx,
            inst,
            script,
            flags,
            body_start,
            body_end,
            line_end,
        })
    }
}

/// The finding and fix merging a group of two or more parts.
fn merge(file: &Dockerfile, parts: &[Part], indent: &str) -> Finding {
    let n = parts.len();
    let esc = file.escape;
    let wraps: Vec<bool> = (0..n)
        .map(|k| {
            (k > 0 && !parts[k].script.plain_and_chain)
                || (k + 1 < n && parts[k].script.changes_shell_state)
        })
        .collect();
    let mut edits = Vec::new();
    let mut comments = String::new();
    if wraps[0] {
        edits.push(Edit::insert(parts[0].body_start, "("));
    }
    for k in 0..n - 1 {
        let (cur, next) = (&parts[k], &parts[k + 1]);
        let close = if wraps[k] { ")" } else { "" };
        edits.push(Edit::replace(
            Span::new(cur.body_end, cur.line_end),
            format!("{close} && {esc}"),
        ));
        // Comment items between the two move above the group; blank lines go.
        for item in &file.items {
            if item.span.start >= cur.inst.span.end
                && item.span.end <= next.inst.span.start
                && item.kind == ItemKind::Comment
            {
                comments.push_str(item.span.text(&file.source));
            }
        }
        // Replace the gap, the next RUN's keyword and flags, and its first
        // character: the edit then also covers the position where another pass
        // might insert in front of the first command, so such an insertion waits
        // for the next round instead of landing twice.
        let first_char_len = file.source[next.body_start..]
            .chars()
            .next()
            .map_or(0, char::len_utf8);
        let head_end = next.body_start + first_char_len;
        let open = if wraps[k + 1] { "(" } else { "" };
        edits.push(Edit::replace(
            Span::new(cur.inst.span.end, head_end),
            format!("{indent}{open}{}", &file.source[next.body_start..head_end]),
        ));
    }
    if wraps[n - 1] {
        edits.push(Edit::insert(parts[n - 1].body_end, ")"));
    }
    if !comments.is_empty() {
        edits.push(Edit::insert(parts[0].inst.span.start, comments));
    }
    let wrapped = wraps.iter().any(|w| *w);
    let message = if wrapped {
        format!(
            "{n} consecutive RUN instructions can be one layer (parts that change the shell state or are not plain `&&` chains run in subshells)"
        )
    } else {
        format!(
            "{n} consecutive RUN instructions can be one layer, so later cleanups shrink the image"
        )
    };
    Finding {
        code: "DOP001",
        name: "merge-run",
        message,
        span: Span::new(parts[0].inst.keyword_span.start, parts[n - 1].body_end),
        fix: Some(Fix {
            safety: if wrapped {
                Safety::Unsafe
            } else {
                Safety::Safe
            },
            edits,
            new_files: Vec::new(),
        }),
    }
}

/// The indentation the file gives to commands on continuation lines (lines that
/// follow a line ending in `&&`, `||`, `;` or `|`, or that start with one), the
/// most common one; else four spaces. Argument lists (`    curl \`) do not count:
/// they are often indented deeper than the commands.
fn continuation_indent(file: &Dockerfile) -> String {
    let esc = file.escape;
    let mut counts: Vec<(String, usize)> = Vec::new();
    for inst in &file.instructions {
        if inst.start_line == inst.end_line {
            continue;
        }
        let text = inst.args_span.text(&file.source);
        let mut prev_ends_command = false;
        for line in text.split('\n') {
            let line = line.trim_end_matches('\r');
            let trimmed = line.trim_start_matches([' ', '\t']);
            let indent = &line[..line.len() - trimmed.len()];
            let starts_command = ["&&", "||", "|", ";"]
                .iter()
                .any(|op| trimmed.starts_with(op));
            if !indent.is_empty()
                && !trimmed.is_empty()
                && !trimmed.starts_with('#')
                && (prev_ends_command || starts_command)
            {
                match counts.iter_mut().find(|(i, _)| i == indent) {
                    Some((_, c)) => *c += 1,
                    None => counts.push((indent.to_string(), 1)),
                }
            }
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let body = trimmed.trim_end().trim_end_matches(esc).trim_end();
            prev_ends_command = ["&&", "||", "|", ";"].iter().any(|op| body.ends_with(op));
        }
    }
    // Ties go to the indent seen first.
    let mut best: Option<(String, usize)> = None;
    for (indent, count) in counts {
        if best.as_ref().is_none_or(|(_, c)| count > *c) {
            best = Some((indent, count));
        }
    }
    best.map(|(i, _)| i).unwrap_or_else(|| "    ".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::apply::apply_edits;
    use crate::passes::PassContext;
    use crate::profiles::Profiles;

    fn run(src: &str) -> Vec<Finding> {
        let file = crate::syntax::parse(src).expect("parses");
        let profiles = Profiles::embedded();
        let options = serde_yaml::Mapping::new();
        let ctx = PassContext::new(&file, &profiles, None, &options);
        MergeRun.run(&ctx)
    }

    /// Applies the first finding's fix, and checks that the result parses and
    /// that the pass is then quiet.
    fn fixed(src: &str) -> (String, Safety) {
        let findings = run(src);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        let fix = findings[0].fix.as_ref().unwrap();
        let out = apply_edits(src, &fix.edits);
        assert!(run(&out).is_empty(), "not idempotent:\n{out}");
        (out, fix.safety)
    }

    #[test]
    fn merges_plain_chains_safely() {
        let (out, safety) =
            fixed("FROM debian\nRUN apt-get update\nRUN apt-get install -y curl && echo ok\n");
        assert_eq!(
            out,
            "FROM debian\nRUN apt-get update && \\\n    apt-get install -y curl && echo ok\n"
        );
        assert_eq!(safety, Safety::Safe);
    }

    #[test]
    fn keeps_crlf_escape_and_indent() {
        let src = "# escape=`\r\nFROM debian\r\nRUN a && `\r\n  b\r\nRUN c\r\n";
        let (out, _) = fixed(src);
        assert_eq!(
            out,
            "# escape=`\r\nFROM debian\r\nRUN a && `\r\n  b && `\r\n  c\r\n"
        );
    }

    #[test]
    fn moves_comments_above_and_drops_blank_lines() {
        let src = "FROM debian\n  RUN a\n\n# why b\nRUN b   \n";
        let (out, _) = fixed(src);
        assert_eq!(out, "FROM debian\n# why b\n  RUN a && \\\n    b   \n");
    }

    #[test]
    fn three_runs_in_one_fix() {
        let (out, _) = fixed("FROM x\nRUN a\nRUN b\nRUN c\nCMD d\n");
        assert_eq!(out, "FROM x\nRUN a && \\\n    b && \\\n    c\nCMD d\n");
    }

    #[test]
    fn wraps_state_changes_and_lists_unsafely() {
        let (out, safety) = fixed("FROM x\nRUN cd /src && make\nRUN a; b\nRUN c || d\n");
        assert_eq!(
            out,
            "FROM x\nRUN (cd /src && make) && \\\n    (a; b) && \\\n    (c || d)\n"
        );
        assert_eq!(safety, Safety::Unsafe);
        // A first part with `;` needs no wrapping: `a; b && c` fails like before.
        let (out, safety) = fixed("FROM x\nRUN a; b\nRUN c\n");
        assert_eq!(out, "FROM x\nRUN a; b && \\\n    c\n");
        assert_eq!(safety, Safety::Safe);
    }

    #[test]
    fn errexit_parts_stay_last() {
        // `(set -e; a; b) && c` would ignore a failing `a`: never merge after it.
        assert!(run("FROM x\nRUN set -eux; a; b\nRUN c\n").is_empty());
        assert!(run("FROM x\nRUN set -o errexit; a\nRUN c\n").is_empty());
        let (out, _) = fixed("FROM x\nRUN c\nRUN set -eux; a; b\nRUN set -e; d\n");
        assert_eq!(
            out,
            "FROM x\nRUN c && \\\n    (set -eux; a; b)\nRUN set -e; d\n"
        );
        assert!(run(
            "FROM x\nSHELL [\"/bin/bash\", \"-eo\", \"pipefail\", \"-c\"]\nRUN a\nRUN b\n"
        )
        .is_empty());
        // pipefail alone is fine.
        assert_eq!(
            run("FROM x\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nRUN a\nRUN b\n")
                .len(),
            1
        );
    }

    #[test]
    fn redirections_stay_with_their_command() {
        let (out, safety) = fixed(
            "FROM x\nRUN echo x > /etc/foo\nRUN cat a >> b 2>&1\nRUN a && b | tee c >/dev/null\nRUN 2>/dev/null d\n",
        );
        assert_eq!(
            out,
            "FROM x\nRUN echo x > /etc/foo && \\\n    cat a >> b 2>&1 && \\\n    a && b | tee c >/dev/null && \\\n    2>/dev/null d\n"
        );
        assert_eq!(safety, Safety::Safe);
        // `exec` with only redirections changes the shell's own descriptors.
        let (out, safety) = fixed("FROM x\nRUN exec >/dev/null\nRUN echo y\n");
        assert_eq!(out, "FROM x\nRUN (exec >/dev/null) && \\\n    echo y\n");
        assert_eq!(safety, Safety::Unsafe);
        // A group's redirection is part of the part.
        let (out, _) = fixed("FROM x\nRUN a\nRUN { b; c; } > log 2>&1\n");
        assert_eq!(out, "FROM x\nRUN a && \\\n    ({ b; c; } > log 2>&1)\n");
    }

    #[test]
    fn stages_built_from_are_merged() {
        let (out, _) = fixed("FROM x AS base\nRUN a\nRUN b\nFROM base\nCMD c\n");
        assert_eq!(
            out,
            "FROM x AS base\nRUN a && \\\n    b\nFROM base\nCMD c\n"
        );
    }

    #[test]
    fn same_mount_flags_merge() {
        let (out, _) = fixed(
            "FROM x\nRUN --mount=type=cache,target=/c a\nRUN --mount=type=cache,target=/c b\n",
        );
        assert_eq!(
            out,
            "FROM x\nRUN --mount=type=cache,target=/c a && \\\n    b\n"
        );
    }

    #[test]
    fn must_not_fire() {
        for src in [
            "FROM x\nRUN a\nENV X=1\nRUN b\n",
            "FROM x\nRUN [\"a\"]\nRUN b\n",
            "FROM x\nRUN --mount=type=cache,target=/a a\nRUN --mount=type=cache,target=/b b\n",
            "FROM x\nRUN --network=none a\nRUN b\n",
            "FROM x\nRUN a &\nRUN b\n",
            "FROM x\nRUN a # note\nRUN b\n",
            "FROM x\nRUN a;\nRUN b\n",
            "FROM x\nRUN <<EOF\na\nEOF\nRUN b\n",
            "FROM x\nRUN a\nFROM y\nRUN b\n",
            "FROM x AS build\nRUN a\nRUN b\nFROM y\nCOPY --from=build /a /a\n",
            "FROM x\nSHELL [\"powershell\", \"-Command\"]\nRUN a\nRUN b\n",
            "FROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN a\nRUN b\n",
            "FROM x\nRUN echo $((\nRUN b\n",
            "FROM x\nRUN a > f # note\nRUN b\n",
            "FROM x\nRUN set -e; a > f\nRUN b\n",
            "FROM x\nRUN a > f &\nRUN b\n",
            "FROM x\nRUN a &> f\nRUN b\n",
            "FROM x\nRUN a\nRUN b &>> f\n",
        ] {
            assert!(run(src).is_empty(), "fired on:\n{src}");
        }
    }

    #[test]
    fn uses_the_files_indent() {
        let (out, _) = fixed("FROM x\nRUN a && \\\n\tb\nRUN c\n");
        assert_eq!(out, "FROM x\nRUN a && \\\n\tb && \\\n\tc\n");
        // Deeper argument lists do not count; ` && ` at line start does.
        let (out, _) = fixed("FROM x\nRUN a \\\n        x \\\n  && b\nRUN c\n");
        assert_eq!(out, "FROM x\nRUN a \\\n        x \\\n  && b && \\\n  c\n");
        let (out, _) = fixed("FROM x\nRUN a \\\n        x\nRUN c\n");
        assert_eq!(out, "FROM x\nRUN a \\\n        x && \\\n    c\n");
    }

    /// Runs shell text as a RUN does (`/bin/sh -c`) in /, returning success and
    /// stdout.
    fn sh(text: &str) -> (bool, String) {
        let out = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(text)
            .current_dir("/")
            .env_remove("X")
            .env_remove("Y")
            .output()
            .expect("/bin/sh runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    }

    /// The merge keeps what the RUNs did: for every pair and many triples of
    /// snippets, running the RUNs one by one (each in a fresh shell, stopping at
    /// the first failure) and running the merged RUN give the same success and the
    /// same output, for safe and unsafe merges alike.
    #[test]
    fn merged_runs_behave_like_separate_runs_in_sh() {
        const SNIPPETS: &[&str] = &[
            "echo a",
            "false",
            "echo b && false",
            "false || echo c",
            "echo d; false",
            "false; echo e",
            "cd /tmp && echo f",
            "cd /tmp; pwd",
            "pwd",
            "X=1; echo x$X",
            "echo y$X$Y",
            "set -e; false; echo g",
            "set -e && echo k",
            "exit 0",
            "exit 3",
            "if true; then echo h; fi",
            "export Y=2",
            "true | false",
            "(exit 1)",
            "{ echo j; false; }",
            "for i in 1 2; do echo $i; done",
            "f() { echo fn; }; f",
            "echo r >/dev/null",
            "echo s 2>&1",
            "ls /nonexistent-dopt 2>/dev/null",
            "false 2>/dev/null",
            "echo t 2>&1 | cat >/dev/stdout",
            "exec >/dev/null",
            "cd /tmp >/dev/null; pwd",
            "cat </dev/null && echo u",
            "{ echo v; false; } >/dev/null 2>&1",
        ];
        let separate = |parts: &[&str]| {
            let mut out = String::new();
            for p in parts {
                let (ok, o) = sh(p);
                out.push_str(&o);
                if !ok {
                    return (false, out);
                }
            }
            (true, out)
        };
        let mut cases: Vec<Vec<&str>> = Vec::new();
        for a in SNIPPETS {
            for b in SNIPPETS {
                cases.push(vec![a, b]);
            }
        }
        // Triples: a deterministic spread instead of all 10k.
        for (i, a) in SNIPPETS.iter().enumerate() {
            for (j, b) in SNIPPETS.iter().enumerate() {
                let c = SNIPPETS[(i * 7 + j * 3) % SNIPPETS.len()];
                cases.push(vec![a, b, c]);
            }
        }
        let mut merged_count = 0;
        for parts in cases {
            let mut src = String::from("FROM x\n");
            for p in &parts {
                src.push_str(&format!("RUN {p}\n"));
            }
            let findings = run(&src);
            let Some(fix) = findings.first().and_then(|f| f.fix.as_ref()) else {
                continue;
            };
            let out = apply_edits(&src, &fix.edits);
            let file = crate::syntax::parse(&out).unwrap();
            let runs: Vec<_> = file
                .instructions
                .iter()
                .filter(|i| i.name() == "run")
                .collect();
            // Groups may stop early (after `set -e`): run what is there, in order.
            let mut got = String::new();
            let mut ok = true;
            for r in runs {
                let (k, o) = sh(&r.logical.text);
                got.push_str(&o);
                if !k {
                    ok = false;
                    break;
                }
            }
            merged_count += 1;
            assert_eq!(
                (ok, got),
                separate(&parts),
                "parts {parts:?} merged to:\n{out}"
            );
        }
        assert!(merged_count > 300, "only {merged_count} merges");
    }
}
