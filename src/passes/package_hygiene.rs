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
//!   is no build context.

use crate::fix::{Edit, Finding, Fix};
use crate::passes::PassContext;
use crate::profiles::{glob_captures, HygieneAction, HygieneRule, Profile};
use crate::shell::{self, Script, Separator, SimpleCommand};
use crate::syntax::{Dockerfile, Instruction, InstructionKind, Span};

/// Runs the hygiene rules of the named profiles over the file.
pub fn check(
    ctx: &PassContext,
    profile_names: &[&str],
    code: &'static str,
    name: &'static str,
) -> Vec<Finding> {
    let file = ctx.file;
    if !shell::posix_shell(file) {
        return Vec::new();
    }
    let profiles: Vec<&Profile> = profile_names
        .iter()
        .filter_map(|n| ctx.profiles.get(n))
        .collect();
    let mut findings = Vec::new();
    for (idx, inst) in file.instructions.iter().enumerate() {
        let Some((run_text, script)) = ctx.run_shell(idx) else {
            continue;
        };
        if !script.parse_ok {
            continue;
        }
        for profile in &profiles {
            for rule in &profile.hygiene {
                check_rule(
                    ctx,
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
    }
    findings
}

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
        .collect();
    if matching.is_empty() {
        return;
    }
    if cache_mount_covers(inst, &rule.cache_dirs) {
        return;
    }
    // Caches in a stage whose layers never ship (a build stage only copied from)
    // cost nothing in the final image.
    if !rule.cache_dirs.is_empty() && !ctx.stage_ships(inst_idx) {
        return;
    }
    if !rule.satisfied_by_env.is_empty()
        && env_set_before(ctx.file, inst_idx, script, &rule.satisfied_by_env)
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
                // `x && install` or `x; install` or a first command: inserting
                // `update && ` in front keeps the meaning. After `||` or `|`, or
                // inside a compound command, it would not: report only.
                let prev = i.checked_sub(1).map(|p| &script.commands[p]);
                let insertable = cmd.depth == 0
                    && !cmd.in_pipeline
                    && match prev {
                        None => true,
                        Some(p) => matches!(
                            p.separator_after,
                            Some(Separator::And) | Some(Separator::Seq)
                        ),
                    };
                let edits = insertable.then(|| {
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
                    vec![Edit::insert(at, format!("{prefix}{filled} && "))]
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
            let edits = appendable.then(|| {
                let at = run_text.end(script.range.end);
                vec![Edit::insert(at, format!(" && {sudo}{filled}"))]
            });
            findings.push(finding(code, name, rule, cmd, span_of(cmd), edits));
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

/// True if the stage holding instruction `inst_idx` ends up in the final image:
/// it is the last stage, or a stage that ships is built `FROM` it. Stages only
/// used by `COPY --from` (or not at all) do not ship. Passes should ask
/// [`PassContext::stage_ships`], which computes this once per file.
pub fn stage_ships(file: &Dockerfile, inst_idx: usize) -> bool {
    shipping_instructions(file)
        .get(inst_idx)
        .copied()
        .unwrap_or(true)
}

/// For each instruction, whether its stage ships (see [`stage_ships`]); linear
/// in the file (one pass for the stages, one for the FROM chain).
pub fn shipping_instructions(file: &Dockerfile) -> Vec<bool> {
    let stages = file.stages();
    let n = file.instructions.len();
    let Some(last) = stages.len().checked_sub(1) else {
        return vec![true; n];
    };
    // A stage whose name is computed (`FROM ${BASE}`) might be anything: ship.
    if stages.iter().any(|s| s.base.contains('$')) {
        return vec![true; n];
    }
    // parent[i]: the latest stage before i whose name is i's base.
    let mut latest: std::collections::HashMap<String, usize> = Default::default();
    let mut parent = Vec::with_capacity(stages.len());
    for (i, s) in stages.iter().enumerate() {
        parent.push(latest.get(&s.base.to_ascii_lowercase()).copied());
        if let Some(name) = &s.name {
            latest.insert(name.to_ascii_lowercase(), i);
        }
    }
    // Walk from the last stage down its FROM chain.
    let mut ships = vec![false; stages.len()];
    let mut at = Some(last);
    while let Some(i) = at {
        ships[i] = true;
        at = parent[i];
    }
    // Instructions before the first FROM belong to no stage: true.
    let mut out = vec![true; n];
    for (i, s) in stages.iter().enumerate() {
        for flag in &mut out[s.instructions.clone()] {
            *flag = ships[i];
        }
    }
    out
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
fn env_set_before(file: &Dockerfile, inst_idx: usize, script: &Script, names: &[String]) -> bool {
    let named = |k: &str| names.iter().any(|n| n == k);
    let in_file = file.instructions[..inst_idx].iter().any(|i| match &i.kind {
        InstructionKind::Env(kvs) => kvs.iter().any(|kv| named(&kv.key)),
        InstructionKind::Arg(args) => args.iter().any(|a| named(&a.name)),
        _ => false,
    });
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
    let stage_start = file
        .stages()
        .into_iter()
        .filter(|s| s.instructions.contains(&inst_idx))
        .map(|s| s.from_instruction)
        .next()
        .unwrap_or(0);
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
