//! # merge-run (DOP001)
//!
//! ## What it does
//! Merges consecutive shell-form RUN instructions of a stage into one, chained
//! with ` && \` and a continuation line in the file's own indentation, escape
//! character and line endings, where merging pays:
//! - a later RUN cleans up what an earlier one left (`rm -rf
//!   /var/lib/apt/lists/*`, `apt-get clean`, `pip cache purge`, `rm` of a file an
//!   earlier RUN downloaded): the cleanup then lands in the same layer as what it
//!   cleans, and shrinks the image;
//! - a later RUN installs with the package index an earlier RUN updated
//!   (`RUN apt-get update` then `RUN apt-get install`).
//!
//! The message says which. Only the RUNs from the first to the last of such a
//! pair are merged: folding unrelated steps together (user creation into a
//! multi-minute apt layer) costs build-cache reuse and gains nothing, so those
//! are not reported. Comments between the RUNs stay where they are, above the
//! commands they describe, as comment lines of the continuation; blank lines
//! between them go. A linter pragma (`# hadolint ignore=`, `# dopt ignore=`,
//! `# tally ignore=`, `# check=skip=`...) belongs to the RUN under it, so a RUN
//! with one above it is never merged into the RUN before it.
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
//! RUN apt-get update && apt-get install -y curl
//! # the lists are not needed at run time
//! RUN rm -rf /var/lib/apt/lists/*
//! ```
//! Use instead:
//! ```dockerfile
//! RUN apt-get update && apt-get install -y curl && \
//! # the lists are not needed at run time
//!     rm -rf /var/lib/apt/lists/*
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
        if !ctx.posix_shell() || ctx.shell_errexit() {
            return Vec::new();
        }
        let indent = continuation_indent(file);
        let mut findings = Vec::new();
        for group in groups(ctx) {
            merge_what_pays(ctx, &group, &indent, &mut findings);
        }
        findings
    }
}

/// Runs of consecutive RUNs of the stages that ship that could be merged
/// without changing what the build does (see the module docs), longest first.
fn groups<'a>(ctx: &'a PassContext) -> Vec<Vec<Part<'a>>> {
    let file = ctx.file;
    let scope = ctx.scope();
    let mut out = Vec::new();
    for stage in file.stages() {
        // Layers of a build stage that is only copied from never ship:
        // merging them would only coarsen the build cache.
        if !scope.ships_instruction(stage.from_instruction) {
            continue;
        }
        let mut group: Vec<Part> = Vec::new();
        for idx in stage.instructions.clone() {
            match Part::new(ctx, idx) {
                // A part that turns on `set -e` must stay last: chained with
                // `&&` after it, -e would be ignored for its commands. A linter
                // pragma above a RUN belongs to that RUN: merging would move
                // it onto another instruction.
                Some(part)
                    if group.last().is_some_and(|prev| {
                        prev.idx + 1 == idx
                            && prev.flags == part.flags
                            && !prev.script.enables_errexit()
                            && !pragma_between(file, prev.inst, part.inst)
                    }) =>
                {
                    group.push(part)
                }
                other => {
                    out.push(std::mem::replace(&mut group, other.into_iter().collect()));
                }
            }
        }
        out.push(group);
    }
    out.retain(|g| g.len() > 1);
    out
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
fn merge(file: &Dockerfile, parts: &[Part], indent: &str, reason: &str) -> Finding {
    let n = parts.len();
    let esc = file.escape;
    let wraps: Vec<bool> = (0..n)
        .map(|k| {
            (k > 0 && !parts[k].script.plain_and_chain)
                || (k + 1 < n && parts[k].script.changes_shell_state)
        })
        .collect();
    let mut edits = Vec::new();
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
        // Comment lines between the two stay where they are, above the commands
        // they describe, as comment lines of the continuation; blank lines go.
        let mut comments = String::new();
        for item in items_between(file, cur.inst, next.inst) {
            if item.kind == ItemKind::Comment {
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
            format!(
                "{comments}{indent}{open}{}",
                &file.source[next.body_start..head_end]
            ),
        ));
    }
    if wraps[n - 1] {
        edits.push(Edit::insert(parts[n - 1].body_end, ")"));
    }
    let wrapped = wraps.iter().any(|w| *w);
    let mut message = format!("{n} consecutive RUN instructions can be one layer: {reason}");
    if wrapped {
        message.push_str(
            " (parts that change the shell state or are not plain `&&` chains run in subshells)",
        );
    }
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

/// True if a linter pragma comment (`# hadolint ignore=`, `# dopt ignore=`,
/// `# tally ignore=`, `# check=skip=`...) stands between two instructions: it
/// belongs to the second one.
fn pragma_between(file: &Dockerfile, a: &Instruction, b: &Instruction) -> bool {
    items_between(file, a, b)
        .any(|item| item.kind == ItemKind::Comment && is_pragma(item.span.text(&file.source)))
}

/// The items (comments, blank lines...) between the end of `a` and the start of
/// `b`. Items are in source order: a binary search finds the first, so merging
/// stays linear on long files.
fn items_between<'f>(
    file: &'f Dockerfile,
    a: &Instruction,
    b: &Instruction,
) -> impl Iterator<Item = &'f crate::syntax::Item> {
    let (start, end) = (a.span.end, b.span.start);
    let first = file.items.partition_point(|item| item.span.start < start);
    file.items[first..]
        .iter()
        .take_while(move |item| item.span.start < end)
        .filter(move |item| item.span.end <= end)
}

/// A comment line that tells a linter something about the next instruction.
pub fn is_pragma(comment: &str) -> bool {
    let body = comment
        .trim()
        .trim_start_matches('#')
        .trim()
        .to_ascii_lowercase();
    let body: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    [
        "hadolint ignore",
        "hadolint global",
        "dopt ignore",
        "tally ignore",
        "check=skip",
        "check skip",
        "checkov:skip",
        "trivy:ignore",
        "kics-scan",
        "noqa",
    ]
    .iter()
    .any(|p| body.starts_with(p))
}

/// Merges the parts of `group` (consecutive mergeable RUNs) where merging pays:
/// a later part cleans up what an earlier one made (the cleanup then shrinks the
/// image), or installs with the index an earlier part updated. Parts between such
/// a pair are merged with it; unrelated RUNs stay apart (merging them would only
/// cost build-cache reuse).
fn merge_what_pays(ctx: &PassContext, group: &[Part], indent: &str, out: &mut Vec<Finding>) {
    if group.len() < 2 {
        return;
    }
    // Spans [j, k] of parts worth merging, with their reason.
    let mut spans: Vec<(usize, usize, String)> = Vec::new();
    for k in 1..group.len() {
        // The earliest part it pays with: one merge then covers all of them.
        for j in 0..k {
            if let Some(reason) = pays(ctx, &group[j], &group[k]) {
                spans.push((j, k, reason));
                break;
            }
        }
    }
    // Overlapping spans make one merge.
    spans.sort_by_key(|s| s.0);
    let mut merged: Vec<(usize, usize, Vec<String>)> = Vec::new();
    for (j, k, reason) in spans {
        match merged.last_mut() {
            Some(last) if j <= last.1 => {
                last.1 = last.1.max(k);
                if !last.2.contains(&reason) {
                    last.2.push(reason);
                }
            }
            _ => merged.push((j, k, vec![reason])),
        }
    }
    for (j, k, reasons) in merged {
        out.push(merge(ctx.file, &group[j..=k], indent, &reasons.join("; ")));
    }
}

/// Subcommands of a package manager that remove what it installed or cached.
const CLEANUP_SUBCOMMANDS: &[&str] = &[
    "clean",
    "autoclean",
    "autoremove",
    "purge",
    "remove",
    "del",
    "uninstall",
    "cache",
    "dist-clean",
    "clear-cache",
    "cleanup",
    "prune",
];

/// Cleanup subcommands that take the packages to remove.
const REMOVE_SUBCOMMANDS: &[&str] = &["purge", "remove", "del", "uninstall"];

/// `word` stands in `text` as a whole word (not inside a longer name).
fn has_word(text: &str, word: &str) -> bool {
    text.split(|c: char| c.is_whitespace() || "\"';&|()=`".contains(c))
        .any(|w| w == word)
}

/// Why merging `later` into the layer of `earlier` pays, if it does.
fn pays(ctx: &PassContext, earlier: &Part, later: &Part) -> Option<String> {
    let line = later.inst.start_line;
    let earlier_text = &earlier.inst.logical.text;
    let uses = |part: &Part, programs: &[String]| {
        part.script
            .commands
            .iter()
            .any(|c| c.program().is_some_and(|p| programs.contains(&p)))
    };
    for profile in ctx.profiles.iter() {
        if profile.programs.is_empty() || !uses(earlier, &profile.programs) {
            continue;
        }
        // What a command cleans of this profile's work: `apt-get clean`, `apk
        // del`, `pip cache purge` (the subcommand), `rm -rf /var/lib/apt/lists/*`
        // (the cache folders).
        let cleans = |c: &crate::shell::SimpleCommand| -> Vec<String> {
            let argv = c.effective_strings();
            let Some(program) = argv.first() else {
                return Vec::new();
            };
            if profile.programs.contains(program) {
                let mut operands = argv.iter().skip(1).filter(|a| !a.starts_with('-'));
                let Some(sub) = operands.next() else {
                    return Vec::new();
                };
                if !CLEANUP_SUBCOMMANDS.contains(&sub.as_str()) {
                    return Vec::new();
                }
                // `apk del .build-deps`, `apt-get purge gcc`: only packages an
                // earlier RUN installed make the merge pay.
                if REMOVE_SUBCOMMANDS.contains(&sub.as_str())
                    && !operands.any(|p| has_word(earlier_text, p))
                {
                    return Vec::new();
                }
                return vec![format!("{program} {sub}")];
            }
            if program != "rm" {
                return Vec::new();
            }
            let ops = rm_operands(&argv);
            profile
                .cache_dirs
                .iter()
                .filter(|d| ops.iter().any(|op| within(op, d.trim_end_matches('/'))))
                .cloned()
                .collect()
        };
        // Cleanups the earlier part already does itself gain nothing.
        let done: Vec<String> = earlier.script.commands.iter().flat_map(cleans).collect();
        for c in &later.script.commands {
            if cleans(c).iter().any(|k| !done.contains(k)) {
                let what = later_command_text(later, c);
                return Some(format!(
                    "the cleanup `{what}` (line {line}) then runs in the layer of the {} work it cleans, and shrinks the image",
                    profile.name
                ));
            }
        }
        // `RUN apt-get update` then `RUN apt-get install`: the install uses the
        // index of the same layer, and the lists can be removed there.
        let updates = profile.hygiene.iter().find_map(|r| match r.action() {
            Some(crate::profiles::HygieneAction::Before(b)) => {
                Some((r.command.as_str(), b, &r.flag_aliases))
            }
            _ => None,
        });
        if let Some((install, update, update_flags)) = updates {
            let (ip, is) = package_hygiene::rule_words(profile, install);
            let (up, us) = package_hygiene::rule_words(profile, update);
            let updates = |part: &Part| {
                part.script
                    .commands
                    .iter()
                    .any(|c| c.matches(&up, &us).is_some())
            };
            // `apt-get install --update` updates by itself.
            let installs = later.script.commands.iter().any(|c| {
                c.matches(&ip, &is).is_some()
                    && !update_flags
                        .split_first()
                        .is_some_and(|(f, rest)| c.has_flag(f, rest))
            }) && !updates(later);
            let updated = updates(earlier);
            if updated && installs {
                return Some(format!(
                    "the install (line {line}) then uses the package index updated in the same layer, which can be removed there"
                ));
            }
        }
    }
    // `rm` of a path an earlier part names (a download, a build directory), and
    // does not remove itself.
    let removed_before: Vec<String> = earlier
        .script
        .commands
        .iter()
        .map(|c| c.effective_strings())
        .filter(|argv| argv.first().map(String::as_str) == Some("rm"))
        .flat_map(|argv| rm_operands(&argv))
        .collect();
    for c in &later.script.commands {
        let argv = c.effective_strings();
        if argv.first().map(String::as_str) != Some("rm") {
            continue;
        }
        for op in rm_operands(&argv) {
            if op.len() > 1
                && op != "/tmp"
                && !removed_before.contains(&op)
                && earlier_text.contains(op.as_str())
            {
                let what = later_command_text(later, c);
                return Some(format!(
                    "the cleanup `{what}` (line {line}) then removes `{op}` in the layer that creates it, and shrinks the image"
                ));
            }
        }
    }
    None
}

/// The operands of an `rm` command, without a trailing `/*`, `*` or `/`.
fn rm_operands(argv: &[String]) -> Vec<String> {
    argv.iter()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .map(|a| {
            let t = a.trim_end_matches('*').trim_end_matches('/');
            if t.is_empty() {
                a.clone()
            } else {
                t.to_string()
            }
        })
        .collect()
}

/// `path` is `dir` or inside it.
fn within(path: &str, dir: &str) -> bool {
    path == dir || path.strip_prefix(dir).is_some_and(|r| r.starts_with('/'))
}

/// A command's text as written, shortened for a message.
fn later_command_text(part: &Part, c: &crate::shell::SimpleCommand) -> String {
    let text = &part.inst.logical.text;
    let t = text.get(c.range.clone()).unwrap_or_default().trim();
    let t: String = t.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.chars().count() > 50 {
        format!("{}...", t.chars().take(47).collect::<String>())
    } else {
        t
    }
}

/// The indentation the file gives to commands on continuation lines (lines that
/// follow a line ending in `&&`, `||`, `;` or `|`, or that start with one), the
/// most common one. Argument lists (`    curl \`) do not count: they are often
/// indented deeper than the commands. A file without such lines follows the
/// style of its other continuation lines (a tab, or their spaces up to four);
/// else four spaces.
fn continuation_indent(file: &Dockerfile) -> String {
    let esc = file.escape;
    let mut counts: Vec<(String, usize)> = Vec::new();
    // Any continuation line, for files without command continuations.
    let mut any_counts: Vec<(String, usize)> = Vec::new();
    let bump = |counts: &mut Vec<(String, usize)>, indent: &str| match counts
        .iter_mut()
        .find(|(i, _)| i == indent)
    {
        Some((_, c)) => *c += 1,
        None => counts.push((indent.to_string(), 1)),
    };
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
            if !indent.is_empty() && !trimmed.is_empty() && !trimmed.starts_with('#') {
                if prev_ends_command || starts_command {
                    bump(&mut counts, indent);
                }
                bump(&mut any_counts, indent);
            }
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let body = trimmed.trim_end().trim_end_matches(esc).trim_end();
            prev_ends_command = ["&&", "||", "|", ";"].iter().any(|op| body.ends_with(op));
        }
    }
    // Ties go to the indent seen first.
    let most_common = |counts: Vec<(String, usize)>| {
        let mut best: Option<(String, usize)> = None;
        for (indent, count) in counts {
            if best.as_ref().is_none_or(|(_, c)| count > *c) {
                best = Some((indent, count));
            }
        }
        best.map(|(i, _)| i)
    };
    // Argument lists are often deeper than commands would be: from them take
    // the style (tabs, or spaces up to four), not the depth.
    let from_arguments = most_common(any_counts).map(|i| {
        if i.starts_with('\t') {
            "\t".to_string()
        } else if i.len() < 4 {
            i
        } else {
            "    ".to_string()
        }
    });
    most_common(counts)
        .or(from_arguments)
        .unwrap_or_else(|| "    ".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::apply::apply_edits;
    use crate::passes::PassContext;
    use crate::profiles::Profiles;

    /// The pass itself.
    fn run_pass(src: &str) -> Vec<Finding> {
        let file = crate::syntax::parse(src).expect("parses");
        let profiles = Profiles::embedded();
        let options = serde_yaml::Mapping::new();
        let ctx = PassContext::new(&file, &profiles, None, &options);
        MergeRun.run(&ctx)
    }

    /// The merge mechanics: every group that could be merged is, whether or not
    /// it pays (the pass merges only what pays).
    fn run(src: &str) -> Vec<Finding> {
        let file = crate::syntax::parse(src).expect("parses");
        let profiles = Profiles::embedded();
        let options = serde_yaml::Mapping::new();
        let ctx = PassContext::new(&file, &profiles, None, &options);
        if !shell::posix_shell(&file) || shell::shell_errexit(&file) {
            return Vec::new();
        }
        let indent = continuation_indent(&file);
        groups(&ctx)
            .iter()
            .map(|g| merge(&file, g, &indent, "test"))
            .collect()
    }

    #[test]
    fn merges_only_what_pays() {
        // A cleanup that lands in the layer of what it cleans.
        let f = run_pass("FROM debian\nRUN apt-get update && apt-get install -y curl\nRUN rm -rf /var/lib/apt/lists/*\n");
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message
                .contains("cleanup `rm -rf /var/lib/apt/lists/*` (line 3)"),
            "{}",
            f[0].message
        );
        let f = run_pass("FROM x\nRUN curl -o /tmp/app.tgz https://example.com/app.tgz && tar xzf /tmp/app.tgz -C /opt\nRUN rm /tmp/app.tgz\n");
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message.contains("removes `/tmp/app.tgz`"),
            "{}",
            f[0].message
        );
        let f = run_pass(
            "FROM python:3.12\nRUN pip install -r requirements.txt\nRUN pip cache purge\n",
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        // The install uses the index updated in the same layer.
        let f = run_pass("FROM debian\nRUN apt-get update\nRUN apt-get install -y curl\n");
        assert_eq!(f.len(), 1);
        assert!(run_pass(
            "FROM debian:trixie\nRUN apt-get update\nRUN apt-get install --update -y curl\n"
        )
        .is_empty());
        assert!(f[0].message.contains("package index"), "{}", f[0].message);
        // Unrelated steps stay apart: user creation after an apt layer, two
        // self-contained apt layers, commands without a cleanup.
        for src in [
            "FROM debian\nRUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\nRUN useradd -m app\n",
            "FROM debian\nRUN apt-get update && apt-get install -y a && rm -rf /var/lib/apt/lists/*\nRUN apt-get update && apt-get install -y b && rm -rf /var/lib/apt/lists/*\n",
            "FROM x\nRUN mkdir -p /app\nRUN chmod +x /entrypoint.sh\n",
            // `apk del` of a group the later RUN installed itself.
            "FROM alpine\nRUN apk add --no-cache python3\nRUN apk add --no-cache --virtual .build-deps gcc && pip install x && apk del .build-deps\n",
        ] {
            assert!(run_pass(src).is_empty(), "merged:\n{src}");
        }
        // Only the span that pays is merged; the RUN after it stays.
        let src =
            "FROM debian\nRUN apt-get update\nRUN apt-get install -y curl\nRUN useradd -m app\n";
        let f = run_pass(src);
        assert_eq!(f.len(), 1);
        let out = apply_edits(src, &f[0].fix.as_ref().unwrap().edits);
        assert_eq!(out, "FROM debian\nRUN apt-get update && \\\n    apt-get install -y curl\nRUN useradd -m app\n");
    }

    #[test]
    fn pragmas_stay_with_their_instruction() {
        for pragma in [
            "# hadolint ignore=DL3059",
            "# dopt ignore=DOP001",
            "# tally ignore=StageNameCasing",
            "# check=skip=JSONArgsRecommended",
            "#hadolint ignore=DL3008",
        ] {
            let src =
                format!("FROM debian\nRUN apt-get update\n{pragma}\nRUN apt-get install -y curl\n");
            assert!(run_pass(&src).is_empty(), "merged across {pragma}");
            assert!(run(&src).is_empty(), "merged across {pragma}");
        }
        // A pragma above the first RUN stays above it.
        let src = "FROM debian\n# hadolint ignore=DL3009\nRUN apt-get update\nRUN apt-get install -y curl\n";
        let f = run_pass(src);
        let out = apply_edits(src, &f[0].fix.as_ref().unwrap().edits);
        assert_eq!(out, "FROM debian\n# hadolint ignore=DL3009\nRUN apt-get update && \\\n    apt-get install -y curl\n");
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
    fn comments_stay_with_their_commands_and_blank_lines_go() {
        let src = "FROM debian\n  RUN a\n\n# why b\nRUN b   \n";
        let (out, _) = fixed(src);
        assert_eq!(out, "FROM debian\n  RUN a && \\\n# why b\n    b   \n");
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
        // Without command continuations: the file's argument indentation.
        let (out, _) = fixed("FROM x\nRUN a \\\n\tx\nRUN c\n");
        assert_eq!(out, "FROM x\nRUN a \\\n\tx && \\\n\tc\n");
        let (out, _) = fixed("FROM x\nRUN a\nRUN c\n");
        assert_eq!(out, "FROM x\nRUN a && \\\n    c\n");
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
