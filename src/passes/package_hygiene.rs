//! The shared engine of the package-hygiene passes (DOP002..DOP009): it checks
//! the `hygiene` rules of some profiles against every shell-form RUN (and every
//! `RUN <<EOF` heredoc script, see `shell::run_shell`) and builds minimal fixes. Each pass (`apt_get.rs`, `apk.rs`, ...) picks its profiles.
//!
//! A rule is skipped, never guessed, when:
//! - the RUN's shell text cannot be parsed (fallback tokenizer) or the file does
//!   not use a POSIX shell;
//! - a `RUN --mount=type=cache` targets one of the rule's `cache_dirs` (the cache
//!   is then intentional and not part of the layer);
//! - an ENV/ARG (or an inline assignment) names one of `satisfied_by_env`;
//! - `when_files` are not copied into the image from the build context, or there
//!   is no build context;
//! - a rule about caches (`cache_dirs`) fires in a stage whose layers do not ship
//!   (a stage only copied from, see `model::scope`).
//!
//! Fixes apply only to stages the final image needs (`model::scope`, which
//! resolves stage references made with ARGs); elsewhere the finding has no fix.

use crate::fix::{Edit, Finding, Fix};
use crate::model::scope::Scope;
use crate::passes::PassContext;
use crate::profiles::{glob_captures, HygieneAction, HygieneRule, Profile};
use crate::shell::{self, Script, Separator, SimpleCommand};
use crate::syntax::{Dockerfile, Instruction, InstructionKind, Span};
use std::cell::OnceCell;

/// Runs the hygiene rules of the named profiles over the file.
pub fn check(
    ctx: &PassContext,
    profile_names: &[&str],
    code: &'static str,
    name: &'static str,
) -> Vec<Finding> {
    let file = ctx.file;
    if !ctx.posix_shell() {
        return Vec::new();
    }
    let profiles: Vec<&Profile> = profile_names
        .iter()
        .filter_map(|n| ctx.profiles.get(n))
        .collect();
    let scope = ctx.scope();
    let memo = Memo::default();
    // Per profile, made on first use: the installs that rely on the package index.
    let later_installs: Vec<OnceCell<Option<NextInstall>>> =
        profiles.iter().map(|_| OnceCell::new()).collect();
    let mut findings = Vec::new();
    for (idx, inst) in file.instructions.iter().enumerate() {
        let Some((run_text, script)) = ctx.run_shell(idx) else {
            continue;
        };
        if !script.parse_ok {
            continue;
        }
        let first = findings.len();
        for (profile, later) in profiles.iter().zip(&later_installs) {
            for rule in &profile.hygiene {
                check_rule(
                    ctx,
                    (scope, later, &memo),
                    idx,
                    inst,
                    run_text,
                    script,
                    profile,
                    rule,
                    code,
                    name,
                    &mut findings,
                );
            }
        }
        out_of_scope(scope, idx, &mut findings[first..]);
    }
    findings
}

/// Fixes apply only to stages the final image needs: in another stage (one
/// built only with `--target`, or not at all) the findings stay, without fix.
pub fn out_of_scope(scope: &Scope, inst_idx: usize, findings: &mut [Finding]) {
    if scope.uses_instruction(inst_idx) {
        return;
    }
    for f in findings {
        if f.fix.take().is_some() {
            f.message
                .push_str(" (no fix: this stage is not needed for the final image)");
        }
    }
}

/// Flags that make a package-manager command deliberately offline: adding
/// `--no-cache` to `apk add --no-network` would make it fetch the remote
/// indexes, so such commands are left alone.
const OFFLINE_FLAGS: &[&str] = &["--no-network"];

/// Program names a rule command's first word stands for.
fn rule_programs<'a>(profile: &'a Profile, first: &'a str) -> Vec<&'a str> {
    if first == "{program}" {
        profile.programs.iter().map(String::as_str).collect()
    } else {
        vec![first]
    }
}

#[allow(clippy::too_many_arguments)]
fn check_rule(
    ctx: &PassContext,
    (scope, later, memo): (&Scope, &OnceCell<Option<NextInstall>>, &Memo),
    inst_idx: usize,
    inst: &Instruction,
    run_text: shell::RunText,
    script: &Script,
    profile: &Profile,
    rule: &HygieneRule,
    code: &'static str,
    name: &'static str,
    findings: &mut Vec<Finding>,
) {
    let Some(action) = rule.action() else {
        return;
    };
    let mut words = rule.command.split_whitespace();
    let Some(first) = words.next() else {
        return;
    };
    let sub: Vec<&str> = words.collect();
    let programs = rule_programs(profile, first);
    let matching: Vec<(usize, &SimpleCommand, usize)> = script
        .commands
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.matches(&programs, &sub).map(|last| (i, c, last)))
        // An offline step (`apk add --no-network`) must not be made to fetch.
        .filter(|(_, c, _)| !OFFLINE_FLAGS.iter().any(|f| c.has_flag(f, &[])))
        .collect();
    if matching.is_empty() {
        return;
    }
    if cache_mount_covers(inst, &rule.cache_dirs) {
        return;
    }
    // Caches in a stage whose layers never ship (a build stage only copied from)
    // cost nothing in the final image.
    if !rule.cache_dirs.is_empty() && !scope.ships_instruction(inst_idx) {
        return;
    }
    if !rule.satisfied_by_env.is_empty()
        && env_set_before(ctx.file, memo, inst_idx, script, &rule.satisfied_by_env)
    {
        return;
    }
    if !rule.when_files.is_empty() && !files_copied(ctx, inst_idx, &rule.when_files) {
        return;
    }
    if let Some(bc) = ctx.build_context {
        if rule.unless_files.iter().any(|f| bc.exists(f)) {
            return;
        }
    }
    let text = run_text.text;
    let span_of = |c: &SimpleCommand| run_text.span(c.range.clone());

    match action {
        HygieneAction::Flag(flag) => {
            for &(i, cmd, last) in &matching {
                if cmd.has_flag(flag, &rule.flag_aliases)
                    || later_mentions(script, text, i, &rule.cleanup_matches)
                {
                    continue;
                }
                let word = &cmd.effective_argv()[last];
                let at = run_text.end(word.range.end);
                findings.push(finding(
                    code,
                    name,
                    rule,
                    cmd,
                    span_of(cmd),
                    Some(vec![Edit::insert(at, format!(" {flag}"))]),
                ));
            }
        }
        HygieneAction::Before(before) => {
            let mut bwords = before.split_whitespace();
            let bfirst = bwords.next().unwrap_or_default();
            let bsub: Vec<&str> = bwords.collect();
            let bprograms = rule_programs(profile, bfirst);
            for &(i, cmd, _) in &matching {
                let done = script.commands[..i]
                    .iter()
                    .any(|c| c.matches(&bprograms, &bsub).is_some())
                    || rule
                        .flag_aliases
                        .split_first()
                        .is_some_and(|(f, rest)| cmd.has_flag(f, rest));
                if done {
                    continue;
                }
                let edits = before_separator(ctx, script, text, i).map(|sep| {
                    // Assignments and wrappers apply to the inserted command too;
                    // redirections stay with the original one.
                    let prefix = cmd.text_before_program(text);
                    let program = cmd.effective_argv()[0].text.as_str();
                    let filled = if bfirst == "{program}" {
                        before.replacen("{program}", program, 1)
                    } else {
                        before.to_string()
                    };
                    let at = run_text.start(cmd.range.start);
                    vec![Edit::insert(at, format!("{prefix}{filled}{sep}"))]
                });
                findings.push(finding(code, name, rule, cmd, span_of(cmd), edits));
            }
        }
        HygieneAction::Cleanup(cleanup) => {
            // One finding per RUN: the cleanup goes after the last matching command.
            let &(i, cmd, _) = matching.last().expect("not empty");
            if later_mentions(script, text, i, &rule.cleanup_matches) {
                return;
            }
            let program = cmd.program().unwrap_or_default();
            let sudo = if cmd.argv.first().map(|w| w.unquoted()).as_deref() == Some("sudo") {
                "sudo "
            } else {
                ""
            };
            let filled = cleanup.replace("{program}", &program);
            // ` && cleanup` at the end runs after everything before it only when the
            // script is a flat list of `&&`/`;` commands: after `a || install` it would
            // also run when the install did not (and fail where the tool is missing).
            let flat = script.commands.iter().all(|c| {
                c.depth == 0
                    && !c.in_pipeline
                    && matches!(
                        c.separator_after,
                        None | Some(Separator::And) | Some(Separator::Seq)
                    )
            });
            let appendable = flat && !script.has_background && script.trailing.is_empty();
            // Removing the package index breaks a later install that relies on it.
            let needed_by = index_needed_later(ctx, (scope, later), inst_idx, profile, rule);
            let edits = (appendable && needed_by.is_none()).then(|| {
                let at = run_text.end(script.range.end);
                vec![Edit::insert(at, format!(" && {sudo}{filled}"))]
            });
            let mut f = finding(code, name, rule, cmd, span_of(cmd), edits);
            if let Some(line) = needed_by {
                f.message.push_str(&format!(
                    " (no fix: the RUN at line {line} may install without updating the index first, and needs the lists)"
                ));
            }
            findings.push(f);
        }
        HygieneAction::Replace(with) => {
            let with_words: Vec<&str> = with.split_whitespace().collect();
            for &(_, cmd, last) in &matching {
                let argv = cmd.effective_argv();
                let strings = cmd.effective_strings();
                if rule.only_bare && !cmd.operands_after(last).is_empty() {
                    continue;
                }
                // Flags that only make sense for `install` (or that `ci` rejects).
                let incompatible = strings.iter().skip(last + 1).any(|w| {
                    w.starts_with("--save")
                        || w.starts_with("--no-save")
                        || w.starts_with("--package-lock")
                        || w.starts_with("--no-package-lock")
                        || w == "-g"
                        || w == "--global"
                        || w == "-S"
                        || w == "-D"
                });
                if incompatible {
                    continue;
                }
                // Replace only the subcommand word when both have one and the same
                // program, so options between program and subcommand stay.
                let edit = if sub.len() == 1 && with_words.len() == 2 && with_words[0] == first {
                    let w = &argv[last];
                    Edit::replace(run_text.span(w.range.clone()), with_words[1].to_string())
                } else {
                    Edit::replace(
                        run_text.span(argv[0].range.start..argv[last].range.end),
                        with.to_string(),
                    )
                };
                findings.push(finding(
                    code,
                    name,
                    rule,
                    cmd,
                    span_of(cmd),
                    Some(vec![edit]),
                ));
            }
        }
    }
}

fn finding(
    code: &'static str,
    name: &'static str,
    rule: &HygieneRule,
    cmd: &SimpleCommand,
    span: Span,
    edits: Option<Vec<Edit>>,
) -> Finding {
    // `{program}` in a reason names the program as the command calls it.
    let program = cmd.program().unwrap_or_default();
    Finding {
        code,
        name,
        message: rule.reason.replace("{program}", &program),
        span,
        fix: edits.map(|edits| {
            let mut fix = Fix::safe(edits);
            fix.safety = rule.safety.into();
            fix
        }),
    }
}

/// What to write between a command inserted in front of command `i` and that
/// command, or `None` when an insertion would change what the script does.
///
/// The insertion must start a new and-or list where command `i` did, or join
/// its `&&` chain: so `i` is at the top level, not in a pipeline, and follows
/// nothing, `;`/a newline, or `&&` (after `||`, `|` or a compound command it
/// would not). The separator is the one the script already uses there: `; ` (or
/// a newline in a newline-separated script) after `;`, ` && ` after `&&`. Under
/// errexit (`set -e` earlier in the script, or a SHELL with `-e`) a failure of
/// any command of an `a && b` list but the last is ignored, so a failed
/// `update && install` would silently skip the install: there the inserted
/// command gets its own list (`update; install`), and after `&&` there is no
/// safe place for it.
fn before_separator(ctx: &PassContext, script: &Script, text: &str, i: usize) -> Option<String> {
    let cmd = &script.commands[i];
    if cmd.depth != 0 || cmd.in_pipeline {
        return None;
    }
    let errexit = ctx.shell_errexit()
        || script.commands[..i]
            .iter()
            .any(|c| c.depth == 0 && c.enables_errexit());
    // A newline-separated script (a heredoc): one command per line, in the
    // indentation and line ending of the command's line.
    let own_line = |gap: &str| {
        let line_start = text[..cmd.range.start].rfind('\n').map_or(0, |p| p + 1);
        let indent = &text[line_start..cmd.range.start];
        let eol = if gap.contains("\r\n") { "\r\n" } else { "\n" };
        format!("{eol}{indent}")
    };
    let Some(prev) = i.checked_sub(1).map(|p| &script.commands[p]) else {
        // The first command: follow the separator after it.
        let next = script.commands.get(i + 1).filter(|n| n.depth == 0);
        let after = next.and_then(|n| text.get(cmd.range.end..n.range.start));
        return Some(match (cmd.separator_after, after) {
            (Some(Separator::Seq), Some(gap)) if gap.trim().is_empty() => own_line(gap),
            (Some(Separator::Seq), Some(gap)) if gap.trim() == ";" => "; ".to_string(),
            _ if errexit => "; ".to_string(),
            _ => " && ".to_string(),
        });
    };
    // The text between the two commands is the separator itself: anything else
    // (`fi`, `done`, `}`...) means the previous command is nested.
    let gap = text.get(prev.range.end..cmd.range.start)?;
    match (gap.trim(), prev.separator_after) {
        ("&&", Some(Separator::And)) => (!errexit).then(|| " && ".to_string()),
        (";", Some(Separator::Seq)) => Some("; ".to_string()),
        ("", Some(Separator::Seq)) if gap.contains('\n') => Some(own_line(gap)),
        _ => None,
    }
}

/// For a cleanup rule that removes the package index of a profile whose installs
/// need an index update first (apt: `rm -rf /var/lib/apt/lists/*`): the line of
/// a later RUN, in this stage or a stage built `FROM` it, that may install
/// without updating first, and so relies on the lists this RUN would remove.
///
/// "May install" covers installs inside `if`, loops and functions, and whatever
/// runs a script dopt cannot see (`./install.sh`, `. /env.sh`, `bash x`,
/// `curl ... | sh`, `sh -c "..."` naming the tool, `xargs apt-get`...), exec-form
/// RUNs and heredocs in another language that name the tool, and RUNs whose shell
/// text does not parse.
fn index_needed_later(
    ctx: &PassContext,
    (scope, later): (&Scope, &OnceCell<Option<NextInstall>>),
    inst_idx: usize,
    profile: &Profile,
    rule: &HygieneRule,
) -> Option<usize> {
    if !rule
        .cleanup_matches
        .iter()
        .any(|m| m.contains("/var/lib/apt/lists") || m.contains("dist-clean"))
    {
        return None;
    }
    let next = later
        .get_or_init(|| next_installs(ctx, scope, profile))
        .as_ref()?;
    let file = ctx.file;
    let total = file.instructions.len();
    let stage = scope.stage_of(inst_idx)?;
    // Later in this stage, then in the stages built on it (they come after it).
    let own = (inst_idx + 1 < scope.instructions_of(stage, total).end)
        .then(|| next.0[inst_idx + 1])
        .flatten();
    let found = own.or_else(|| {
        scope
            .built_on(stage)
            .into_iter()
            .skip(1)
            .find_map(|s| next.0[scope.instructions_of(s, total).start])
    })?;
    Some(file.instructions[found].start_line)
}

/// What one run of [`check`] computes once and reuses for every RUN.
#[derive(Default)]
struct Memo {
    /// By a rule's `satisfied_by_env` names: the first instruction setting one.
    env_first: std::cell::RefCell<std::collections::HashMap<Vec<String>, Option<usize>>>,
}

/// For each instruction, the first RUN at or after it in its stage that may
/// install with the profile's install command without updating the index first
/// (see [`index_needed_later`]). Made once per pass run and profile, in one
/// backward walk per stage, so the check stays linear on long stages.
struct NextInstall(Vec<Option<usize>>);

fn next_installs(ctx: &PassContext, scope: &Scope, profile: &Profile) -> Option<NextInstall> {
    // The profile's install command and the command it needs before it.
    let (install, before) = profile.hygiene.iter().find_map(|r| match r.action() {
        Some(HygieneAction::Before(b)) => Some((r.command.as_str(), (b, &r.flag_aliases))),
        _ => None,
    })?;
    let (programs, sub) = rule_words(profile, install);
    let (bprograms, bsub) = rule_words(profile, before.0);
    let file = ctx.file;
    let total = file.instructions.len();
    let may_install = |idx: usize| {
        let inst = &file.instructions[idx];
        if !matches!(inst.kind, InstructionKind::Run(_)) {
            return false;
        }
        match ctx.run_shell(idx) {
            Some((_, script)) if script.parse_ok => {
                script_may_install(script, &programs, &sub, &bprograms, &bsub, before.1)
            }
            // Exec form, another interpreter, or unparsable shell: look at the text.
            _ => {
                let text = inst.span.text(&file.source);
                names_program(text, &programs) || runs_unseen_script_text(text)
            }
        }
    };
    let mut next = vec![None; total];
    for stage in 0..scope.stage_count() {
        let mut first = None;
        for idx in scope.instructions_of(stage, total).rev() {
            if may_install(idx) {
                first = Some(idx);
            }
            next[idx] = first;
        }
    }
    Some(NextInstall(next))
}

/// The programs and subcommand words of a rule command (`{program} install`).
pub(crate) fn rule_words<'a>(
    profile: &'a Profile,
    command: &'a str,
) -> (Vec<&'a str>, Vec<&'a str>) {
    let mut words = command.split_whitespace();
    let first = words.next().unwrap_or_default();
    (rule_programs(profile, first), words.collect())
}

/// `text` has one of `programs` as a word (`apt-get`, `/usr/bin/apt-get`), not
/// merely inside a path such as `/etc/apt/sources.list`.
fn names_program(text: &str, programs: &[&str]) -> bool {
    text.split(|c: char| c.is_whitespace() || "\"';&|()`[],".contains(c))
        .any(|w| programs.contains(&w.rsplit('/').next().unwrap_or(w)))
}

/// Shells that run a script file given as operand.
const SHELLS: &[&str] = &["sh", "bash", "dash", "ash", "zsh", "ksh", "busybox"];

/// True if the script may install with `programs sub` before any `bprograms
/// bsub` (the index update) ran in it.
fn script_may_install(
    script: &Script,
    programs: &[&str],
    sub: &[&str],
    bprograms: &[&str],
    bsub: &[&str],
    update_flags: &[String],
) -> bool {
    for c in &script.commands {
        if c.matches(bprograms, bsub).is_some() {
            // Whatever follows runs with a fresh index.
            return false;
        }
        if c.matches(programs, sub).is_some() {
            let updates = update_flags
                .split_first()
                .is_some_and(|(f, rest)| c.has_flag(f, rest));
            if !updates {
                return true;
            }
            continue;
        }
        let argv = c.effective_strings();
        let Some(program) = argv.first() else {
            continue;
        };
        let raw = c.effective_argv()[0].unquoted();
        let names_tool = |s: &str| names_program(s, programs);
        let unseen = match program.as_str() {
            "." | "source" => true,
            p if SHELLS.contains(&p) => match argv.iter().position(|a| a == "-c") {
                Some(k) => argv.get(k + 1).is_some_and(|s| names_tool(s)),
                // A script file, or a script read from a pipe (`curl ... | sh`).
                None => argv.iter().skip(1).any(|a| !a.starts_with('-')) || c.in_pipeline,
            },
            "eval" => argv.iter().skip(1).any(|s| names_tool(s)),
            _ => runs_unseen_script_word(&raw),
        };
        // `xargs apt-get install`, `find ... -exec apt-get ...`.
        let passes_tool = argv.iter().skip(1).any(|a| programs.contains(&a.as_str()));
        if unseen || passes_tool {
            return true;
        }
    }
    false
}

/// A program word that names a script of the image or the context rather than a
/// system tool: a relative path, a `.sh` file, or a path outside the system
/// binary folders.
fn runs_unseen_script_word(word: &str) -> bool {
    word.ends_with(".sh")
        || (word.contains('/')
            && !["/bin/", "/usr/bin/", "/sbin/", "/usr/sbin/"]
                .iter()
                .any(|d| word.starts_with(d)))
}

/// Text-only version of [`runs_unseen_script_word`] for RUNs that cannot be
/// analysed.
fn runs_unseen_script_text(text: &str) -> bool {
    text.split(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == ',' || c == '[')
        .any(|w| runs_unseen_script_word(w) && !w.is_empty() && !w.starts_with("--"))
}

/// True if a command after `index` mentions one of `needles` (a cleanup already
/// done by hand, such as `rm -rf /var/lib/apt/lists/*`).
fn later_mentions(script: &Script, text: &str, index: usize, needles: &[String]) -> bool {
    if needles.is_empty() {
        return false;
    }
    script.commands[index + 1..].iter().any(|c| {
        let t = &text[c.range.clone()];
        needles.iter().any(|n| t.contains(n.as_str()))
    })
}

/// Parses `--mount=type=cache,target=/x,...` flags; true if a cache mount target
/// and one of `dirs` contain one another.
pub fn cache_mount_covers(inst: &Instruction, dirs: &[String]) -> bool {
    if dirs.is_empty() {
        return false;
    }
    cache_mount_targets(inst).iter().any(|t| {
        dirs.iter().any(|d| {
            let d = d.trim_end_matches('/');
            path_within(d, t) || path_within(t, d)
        })
    })
}

/// Targets of `RUN --mount=type=cache,...` flags.
pub fn cache_mount_targets(inst: &Instruction) -> Vec<String> {
    let mut out = Vec::new();
    for f in inst.flags.iter().filter(|f| f.name == "mount") {
        let Some(v) = &f.value else { continue };
        let v = shell::unquote(v);
        let mut is_cache = false;
        let mut target = None;
        for part in v.split(',') {
            let (k, val) = part.split_once('=').unwrap_or((part, ""));
            match k.trim() {
                "type" => is_cache = val.trim() == "cache",
                "target" | "dst" | "destination" => {
                    target = Some(val.trim().trim_end_matches('/').to_string())
                }
                _ => {}
            }
        }
        if let (true, Some(t)) = (is_cache, target) {
            out.push(t);
        }
    }
    out
}

fn path_within(inner: &str, outer: &str) -> bool {
    inner == outer
        || (inner.starts_with(outer) && inner.as_bytes().get(outer.len()) == Some(&b'/'))
        || outer == "/"
}

/// True if one of `names` is set by an ENV or ARG before instruction `inst_idx`,
/// or inside the RUN itself (`NAME=1 pip install`, `env NAME=1 ...`, `export NAME=`).
fn env_set_before(
    file: &Dockerfile,
    memo: &Memo,
    inst_idx: usize,
    script: &Script,
    names: &[String],
) -> bool {
    let named = |k: &str| names.iter().any(|n| n == k);
    // The first ENV/ARG setting one of `names`, found once per pass run.
    let first = *memo
        .env_first
        .borrow_mut()
        .entry(names.to_vec())
        .or_insert_with(|| {
            file.instructions.iter().position(|i| match &i.kind {
                InstructionKind::Env(kvs) => kvs.iter().any(|kv| named(&kv.key)),
                InstructionKind::Arg(args) => args.iter().any(|a| named(&a.name)),
                _ => false,
            })
        });
    let in_file = first.is_some_and(|f| f < inst_idx);
    let in_run = script.commands.iter().any(|c| {
        c.assignments
            .iter()
            .chain(c.argv.iter())
            .any(|w| w.text.split_once('=').is_some_and(|(k, _)| named(k)))
    });
    in_file || in_run
}

/// True if one of `files` (relative names such as `package-lock.json`) exists in
/// the build context in a directory that a COPY/ADD (without `--from`) of this
/// stage, before `inst_idx`, copies it from, and `.dockerignore` does not
/// exclude it. Without a build context, false.
fn files_copied(ctx: &PassContext, inst_idx: usize, files: &[String]) -> bool {
    let Some(bc) = ctx.build_context else {
        return false;
    };
    let file = ctx.file;
    let scope = ctx.scope();
    let stage_start = scope.stage_of(inst_idx).map_or(0, |s| {
        scope.instructions_of(s, file.instructions.len()).start
    });
    let ignore = bc.read(".dockerignore").unwrap_or_default();
    let ignored = |rel: &str| {
        ignore.lines().any(|l| {
            let l = l.trim();
            if l.is_empty() || l.starts_with('#') || l.starts_with('!') {
                return false;
            }
            let l = l.trim_start_matches('/').trim_start_matches("**/");
            let l = l.trim_end_matches('/');
            glob_captures(l, rel).is_some()
                || glob_captures(l, rel.rsplit('/').next().unwrap_or(rel)).is_some()
                || rel.starts_with(&format!("{l}/"))
        })
    };
    for inst in &file.instructions[stage_start..inst_idx] {
        let args = match &inst.kind {
            InstructionKind::Copy(a) | InstructionKind::Add(a) => a,
            _ => continue,
        };
        if inst.flag("from").is_some() {
            continue;
        }
        for src in &args.sources {
            let src = shell::unquote(&src.value);
            let src = src.trim_start_matches("./").trim_end_matches('/');
            for f in files {
                let whole_context = src.is_empty() || src == ".";
                let candidates: Vec<String> = if whole_context {
                    vec![f.clone()]
                } else {
                    // `src` is a directory holding the file, or a name/glob
                    // matching it in its own directory.
                    let dir_copy = format!("{src}/{f}");
                    let sibling = match src.rsplit_once('/') {
                        Some((dir, _)) => format!("{dir}/{f}"),
                        None => f.clone(),
                    };
                    let mut c = vec![dir_copy];
                    if glob_captures(src, &sibling).is_some() {
                        c.push(sibling);
                    }
                    c
                };
                if candidates.iter().any(|rel| bc.exists(rel) && !ignored(rel)) {
                    return true;
                }
            }
        }
    }
    false
}

/// The `//!` doc comment of a pass's source file, as Markdown (for `docs()`).
pub fn module_docs(source: &str) -> String {
    let mut out = String::new();
    for line in source.lines() {
        let Some(rest) = line.strip_prefix("//!") else {
            if line.trim().is_empty() && out.is_empty() {
                continue;
            }
            break;
        };
        out.push_str(rest.strip_prefix(' ').unwrap_or(rest));
        out.push('\n');
    }
    out
}

/// Test helpers shared by the hygiene pass files.
#[cfg(test)]
pub(crate) mod testing {
    use crate::fix::apply::{apply_edits, select_compatible};
    use crate::fix::{Finding, Fix, Safety};
    use crate::passes::{BuildContext, Pass, PassContext};
    use crate::profiles::Profiles;

    /// Runs one pass on `src`, with a build context made of `files` (path,
    /// content) when given.
    pub fn run(pass: &dyn Pass, src: &str, files: Option<&[(&str, &str)]>) -> Vec<Finding> {
        let dir = tempfile::tempdir().unwrap();
        let bc = files.map(|files| {
            for (path, content) in files {
                let p = dir.path().join(path);
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(p, content).unwrap();
            }
            BuildContext::new(dir.path())
        });
        let file = crate::syntax::parse(src).expect("test input parses");
        let profiles = Profiles::embedded();
        let options = serde_yaml::Mapping::new();
        let ctx = PassContext::new(&file, &profiles, bc.as_ref(), &options);
        pass.run(&ctx)
    }

    /// Applies the pass's fixes (unsafe ones too when `unsafe_fixes`) round by
    /// round until none is left; checks every round parses and that it converges.
    pub fn fix(
        pass: &dyn Pass,
        src: &str,
        files: Option<&[(&str, &str)]>,
        unsafe_fixes: bool,
    ) -> String {
        let mut text = src.to_string();
        for _ in 0..10 {
            let findings = run(pass, &text, files);
            let fixes: Vec<&Fix> = findings
                .iter()
                .filter_map(|f| f.fix.as_ref())
                .filter(|f| unsafe_fixes || f.safety == Safety::Safe)
                .collect();
            if fixes.is_empty() {
                return text;
            }
            let edits: Vec<_> = select_compatible(&fixes)
                .into_iter()
                .flat_map(|i| fixes[i].edits.clone())
                .collect();
            text = apply_edits(&text, &edits);
            crate::syntax::parse(&text).expect("fixed text parses");
        }
        panic!("fixes did not converge:\n{text}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// RUNs made of package-manager words, operators and continuations: every
        /// shell pass runs without panicking, its fixes parse, and they converge.
        #[test]
        fn random_runs_fix_cleanly(
            runs in proptest::collection::vec(
                proptest::collection::vec(
                    proptest::sample::select(vec![
                        "apt-get", "apt", "install", "update", "-y", "--no-install-recommends",
                        "curl", "&&", "||", ";", "|", "\\\n   ", "pip", "pip3", "python", "-m",
                        "--no-cache-dir", "npm", "ci", "i", "yarn", "apk", "add", "--no-cache",
                        "dnf", "yum", "clean", "all", "gem", "composer", "rm", "-rf",
                        "/var/lib/apt/lists/*", "cd", "/x", "set", "-e", "(", ")", "'a b'",
                        "\"$X\"", "sudo", "env", "A=1", "#", "&", "if", "then", "fi",
                    ]),
                    1..12,
                ),
                1..4,
            )
        ) {
            let mut src = String::from("FROM debian\nCOPY . .\n");
            for words in &runs {
                src.push_str("RUN ");
                src.push_str(&words.join(" "));
                src.push('\n');
            }
            if crate::syntax::parse(&src).is_err() {
                return Ok(());
            }
            let files: &[(&str, &str)] = &[("package-lock.json", "{}"), ("yarn.lock", "")];
            for pass in crate::passes::all() {
                if pass.code() <= "DOP009" {
                    fix(pass.as_ref(), &src, Some(files), true);
                }
            }
        }
    }
}
