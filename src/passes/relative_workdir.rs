//! DOP025 `relative-workdir`: WORKDIR with a relative path.

use crate::fix::{Edit, Finding, Fix};
use crate::model::{unquote, OsFamily};
use crate::passes::{Pass, PassContext};
use crate::syntax::{InstructionKind, Span};

macro_rules! docs {
    () => {
        r#"## What it does
Reports `WORKDIR` instructions with a relative path, and makes them absolute when
the previous working directory is known.

## Why is this bad?
A relative `WORKDIR` is resolved against whatever the working directory was
before, possibly set by the base image. Changing the base image, or moving lines
around, silently moves the directory. An absolute path says where files go.

## Example
```dockerfile
WORKDIR /app
WORKDIR src
```

Use instead:
```dockerfile
WORKDIR /app
WORKDIR /app/src
```

Paths built from variables (`$HOME/app`) and Windows paths are left alone.

## Fix safety
Safe: the fix writes the same directory the relative path resolved to."#
    };
}

#[doc = docs!()]
pub struct RelativeWorkdir;

impl Pass for RelativeWorkdir {
    fn code(&self) -> &'static str {
        "DOP025"
    }
    fn name(&self) -> &'static str {
        "relative-workdir"
    }
    fn summary(&self) -> &'static str {
        "relative WORKDIR: use an absolute path"
    }
    fn docs(&self) -> &'static str {
        docs!()
    }
    fn related(&self) -> &'static [&'static str] {
        &["hadolint DL3000", "buildkit WorkdirRelativePath"]
    }
    fn run(&self, ctx: &PassContext) -> Vec<Finding> {
        let file = ctx.file;
        let model = ctx.model();
        let mut findings = Vec::new();
        for (idx, inst) in file.instructions.iter().enumerate() {
            let InstructionKind::Workdir(word) = &inst.kind else {
                continue;
            };
            let Some(stage) = model.stage_of(idx) else {
                continue;
            };
            let path = unquote(&word.value);
            if path.starts_with('/')
                || path.starts_with('$')
                || path.starts_with('~')
                || path.contains('\\')
                || path.contains(':')
                || stage.family == OsFamily::Windows
                || file.escape == '`'
            {
                continue;
            }
            let previous = model.states[idx].workdir.clone();
            let absolute = previous
                .as_deref()
                .and_then(|p| crate::model::join_path(Some(p), &path));
            let mut finding = Finding {
                code: "DOP025",
                name: "relative-workdir",
                message: format!("WORKDIR `{path}` is relative to whatever the working directory was before; use an absolute path"),
                span: Span::new(inst.keyword_span.start, inst.args_span.end),
                fix: None,
            };
            match absolute {
                Some(abs) if !path.contains('$') && !path.contains(char::is_whitespace) => {
                    finding.message = format!(
                        "WORKDIR `{path}` is relative; it resolves to `{abs}`, so write that"
                    );
                    finding.fix = Some(Fix::safe(vec![Edit::replace(word.span, abs)]));
                }
                _ => finding
                    .message
                    .push_str(" (no fix: the previous WORKDIR is not known)"),
            }
            findings.push(finding);
        }
        findings
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::check;

    #[test]
    fn resolves_against_previous_workdir() {
        let c = check(
            &RelativeWorkdir,
            "FROM a\nWORKDIR /app\nWORKDIR src/../web/\nWORKDIR .\n",
            None,
        );
        assert_eq!(c.findings.len(), 2);
        assert_eq!(
            c.fixed,
            "FROM a\nWORKDIR /app\nWORKDIR /app/web\nWORKDIR /app/web\n"
        );
        let c = check(&RelativeWorkdir, "FROM node:20\nWORKDIR app\n", None);
        assert_eq!(c.fixed, "FROM node:20\nWORKDIR /app\n");
    }

    #[test]
    fn unknown_previous_gives_finding_without_fix() {
        let c = check(&RelativeWorkdir, "FROM myorg/base\nWORKDIR app\n", None);
        assert_eq!(c.findings.len(), 1);
        assert!(c.findings[0].fix.is_none());
    }

    #[test]
    fn must_not_fire() {
        for src in [
            "FROM a\nWORKDIR /app\n",
            "FROM a\nWORKDIR $HOME/app\n",
            "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nWORKDIR C:\\app\n",
        ] {
            let c = check(&RelativeWorkdir, src, None);
            assert!(c.findings.is_empty(), "{src}");
        }
    }
}
