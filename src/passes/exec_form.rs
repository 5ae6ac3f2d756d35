//! DOP021 `exec-form`: shell-form CMD/ENTRYPOINT.

use crate::fix::{Edit, Finding, Fix};
use crate::model::OsFamily;
use crate::passes::{Pass, PassContext};
use crate::syntax::{Command, InstructionKind, Span};

macro_rules! docs {
    () => {
        r#"## What it does
Rewrites a shell-form `CMD` or `ENTRYPOINT` (`CMD node server.js`) into exec form
(`CMD ["node", "server.js"]`) when the command is a plain list of words.

## Why is this bad?
Shell form runs the command as a child of `/bin/sh -c`. The shell is PID 1 and
does not forward signals: `docker stop` sends SIGTERM to the shell, the
application never sees it, and is killed with SIGKILL after the timeout, without
a clean shutdown.

## Example
```dockerfile
CMD node server.js
```

Use instead:
```dockerfile
CMD ["node", "server.js"]
```

Only commands without shell features are rewritten: no variables, globs, quotes
that hide expansions, redirections, pipes or `&&`. A leading `exec` is dropped
(exec form needs none). Stages with a custom `SHELL` and Windows images are left
alone. A shell-form `ENTRYPOINT` is rewritten only when no `CMD` follows it, since
exec form would append the `CMD` as arguments.

## Fix safety
Unsafe: the command no longer runs through a shell, so anything that relied on the
shell's environment (e.g. `$HOME` expansion by the program's arguments, or the shell
being PID 1) behaves differently."#
    };
}

#[doc = docs!()]
pub struct ExecForm;

impl Pass for ExecForm {
    fn code(&self) -> &'static str {
        "DOP021"
    }
    fn name(&self) -> &'static str {
        "exec-form"
    }
    fn summary(&self) -> &'static str {
        "shell-form CMD/ENTRYPOINT: use exec form so signals reach the process"
    }
    fn docs(&self) -> &'static str {
        docs!()
    }
    fn related(&self) -> &'static [&'static str] {
        &["buildkit JSONArgsRecommended", "hadolint DL3025"]
    }
    fn run(&self, ctx: &PassContext) -> Vec<Finding> {
        let file = ctx.file;
        let model = ctx.model();
        let mut findings = Vec::new();
        for (idx, inst) in file.instructions.iter().enumerate() {
            let (command, is_entrypoint) = match &inst.kind {
                InstructionKind::Cmd(c) => (c, false),
                InstructionKind::Entrypoint(c) => (c, true),
                _ => continue,
            };
            let Command::Shell { text, span } = command else {
                continue;
            };
            let Some(stage) = model.stage_of(idx) else {
                continue;
            };
            if stage.shell.is_some() || stage.family == OsFamily::Windows || file.escape == '`' {
                continue;
            }
            let what = if is_entrypoint { "ENTRYPOINT" } else { "CMD" };
            let mut finding = Finding {
                code: "DOP021",
                name: "exec-form",
                message: format!(
                    "shell-form {what} runs under `/bin/sh -c`, which does not pass SIGTERM on to the process; use exec form"
                ),
                span: Span::new(inst.keyword_span.start, inst.args_span.end),
                fix: None,
            };
            let cmd_follows = is_entrypoint
                && file.instructions[idx + 1..]
                    .iter()
                    .any(|i| matches!(i.kind, InstructionKind::Cmd(_)));
            match plain_argv(text) {
                Some(_) if cmd_follows => {
                    finding.message.push_str(
                        " (no fix: a CMD follows, which exec form would append as arguments)",
                    );
                }
                Some(argv) => {
                    finding.fix = Some(Fix::unsafe_(vec![Edit::replace(*span, json_array(&argv))]));
                }
                None => finding.message.push_str(
                    " (no fix: the command uses shell features; wrap it in a script or use `exec`)",
                ),
            }
            findings.push(finding);
        }
        findings
    }
}

/// The argv of a command that needs no shell, or None.
fn plain_argv(text: &str) -> Option<Vec<String>> {
    let script = crate::shell::analyze(text)?;
    if !script.parse_ok
        || script.commands.len() != 1
        || !script.trailing.trim().is_empty()
        || script.has_background
        || script.has_compound
    {
        return None;
    }
    let command = &script.commands[0];
    if !command.assignments.is_empty() || command.in_pipeline || command.depth != 0 {
        return None;
    }
    // Everything outside the words must be blank (no redirections).
    let mut cursor = 0;
    for w in &command.argv {
        if !text.get(cursor..w.range.start)?.trim().is_empty() {
            return None;
        }
        cursor = w.range.end;
    }
    if !text.get(cursor..)?.trim().is_empty() {
        return None;
    }
    let mut argv = Vec::new();
    for w in &command.argv {
        argv.push(plain_word(&w.text)?);
    }
    if argv.first().is_some_and(|a| a == "exec") {
        argv.remove(0);
    }
    let first = argv.first()?;
    const BUILTINS: &[&str] = &[
        "cd", "source", ".", "set", "export", "eval", "exit", "ulimit", "umask", "trap", "exec",
        "alias", "unset", "shift", "read", "wait", "[", "test",
    ];
    if BUILTINS.contains(&first.as_str()) {
        return None;
    }
    Some(argv)
}

/// A word's value when the shell would not change it: plain characters, or a
/// single/double-quoted string without expansions.
fn plain_word(word: &str) -> Option<String> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:=,@%+^".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        return Some(word.to_string());
    }
    if word.len() >= 2 && word.starts_with('\'') && word.ends_with('\'') {
        let inner = &word[1..word.len() - 1];
        return (!inner.contains('\'')).then(|| inner.to_string());
    }
    if word.len() >= 2 && word.starts_with('"') && word.ends_with('"') {
        let inner = &word[1..word.len() - 1];
        return (!inner.contains(['"', '$', '`', '\\', '!'])).then(|| inner.to_string());
    }
    None
}

fn json_array(argv: &[String]) -> String {
    let items: Vec<String> = argv
        .iter()
        .map(|a| serde_json::to_string(a).unwrap_or_default())
        .collect();
    format!("[{}]", items.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::check;

    #[test]
    fn rewrites_plain_commands() {
        let c = check(
            &ExecForm,
            "FROM node:20\nCMD node server.js --port 3000\n",
            None,
        );
        assert_eq!(
            c.fixed,
            "FROM node:20\nCMD [\"node\", \"server.js\", \"--port\", \"3000\"]\n"
        );
        let c = check(
            &ExecForm,
            "FROM python:3\nCMD exec gunicorn -b '0.0.0.0:8000' \"app:create_app()\"",
            None,
        );
        assert_eq!(
            c.fixed,
            "FROM python:3\nCMD [\"gunicorn\", \"-b\", \"0.0.0.0:8000\", \"app:create_app()\"]"
        );
        let c = check(
            &ExecForm,
            "FROM a\nENTRYPOINT /usr/bin/app \\\n  --serve\n",
            None,
        );
        assert_eq!(
            c.fixed,
            "FROM a\nENTRYPOINT [\"/usr/bin/app\", \"--serve\"]\n"
        );
    }

    #[test]
    fn findings_without_fix() {
        for src in [
            "FROM a\nCMD node server.js --port $PORT\n",
            "FROM a\nCMD npm run migrate && npm start\n",
            "FROM a\nCMD app > /var/log/app.log\n",
            "FROM a\nCMD ls *.txt\n",
            "FROM a\nENTRYPOINT app\nCMD --help\n",
            "FROM a\nCMD cd /app\n",
        ] {
            let c = check(&ExecForm, src, None);
            assert!(!c.findings.is_empty(), "{src}");
            assert!(c.findings[0].fix.is_none(), "{src}");
        }
    }

    #[test]
    fn must_not_fire() {
        for src in [
            "FROM a\nCMD [\"node\", \"x\"]\n",
            "FROM a\nSHELL [\"/bin/bash\", \"-c\"]\nCMD node x\n",
            "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nCMD ping -t localhost\n",
        ] {
            let c = check(&ExecForm, src, None);
            assert!(c.findings.is_empty(), "{src}");
        }
    }
}
