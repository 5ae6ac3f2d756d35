//! The shell text of a RUN (shell form or heredoc script) and the way back
//! to the Dockerfile's bytes; what shell a file's RUNs run in.

use super::{analyze, command::basename, Script};
use std::ops::Range;

/// The shell text a RUN runs, with the way back to the Dockerfile: the logical
/// line of a shell-form RUN, or the body of a `RUN <<EOF` heredoc script.
#[derive(Debug, Clone, Copy)]
pub struct RunText<'a> {
    pub text: &'a str,
    mapping: Mapping<'a>,
}

#[derive(Debug, Clone, Copy)]
enum Mapping<'a> {
    /// Through the instruction's logical text (continuations removed).
    Logical(&'a crate::syntax::LogicalText),
    /// Verbatim source starting at this offset (a heredoc body).
    Verbatim(usize),
}

impl RunText<'_> {
    /// Source offset of a position where something starts.
    pub fn start(&self, pos: usize) -> usize {
        match self.mapping {
            Mapping::Logical(l) => source_start(l, pos),
            Mapping::Verbatim(base) => base + pos,
        }
    }
    /// Source offset of a position where something ends.
    pub fn end(&self, pos: usize) -> usize {
        match self.mapping {
            Mapping::Logical(l) => source_end(l, pos),
            Mapping::Verbatim(base) => base + pos,
        }
    }
    /// Source span of a range of the text.
    pub fn span(&self, range: Range<usize>) -> crate::syntax::Span {
        match self.mapping {
            Mapping::Logical(l) => l.map_span(range.start, range.end),
            Mapping::Verbatim(base) => {
                crate::syntax::Span::new(base + range.start, base + range.end)
            }
        }
    }
    /// True for a heredoc script body.
    pub fn is_heredoc(&self) -> bool {
        matches!(self.mapping, Mapping::Verbatim(_))
    }
}

/// The shell text of a RUN and its analysis: shell form without heredocs, or a
/// RUN whose whole command is one heredoc (`RUN <<EOF` ... `EOF`, the body is the
/// script) kept verbatim in the source (not `<<-`) and not starting with a
/// non-shell `#!` line. None otherwise (exec form, `python <<EOF`, ...).
pub fn run_shell<'a>(
    file: &'a crate::syntax::Dockerfile,
    inst: &'a crate::syntax::Instruction,
) -> Option<(RunText<'a>, Script)> {
    let text = run_text(file, inst)?;
    Some((text, analyze(text.text)?))
}

/// The shell text [`run_shell`] analyses, without analysing it.
pub fn run_text<'a>(
    file: &'a crate::syntax::Dockerfile,
    inst: &'a crate::syntax::Instruction,
) -> Option<RunText<'a>> {
    use crate::syntax::{Command, InstructionKind};
    let InstructionKind::Run(Command::Shell { .. }) = &inst.kind else {
        return None;
    };
    if inst.heredocs.is_empty() {
        return Some(RunText {
            text: inst.logical.text.as_str(),
            mapping: Mapping::Logical(&inst.logical),
        });
    }
    let [doc] = inst.heredocs.as_slice() else {
        return None;
    };
    let head = inst.logical.text.trim();
    let bare = head
        .strip_prefix("<<")
        .map(|n| n.trim_matches(|c| c == '"' || c == '\''))
        .is_some_and(|n| n == doc.name);
    if !bare || doc.chomp {
        return None;
    }
    let start = doc.body_span.start;
    let text = file.source.get(start..start + doc.content.len())?;
    if text != doc.content {
        return None;
    }
    if let Some(first) = text.lines().next().filter(|l| l.starts_with("#!")) {
        let interpreter = first
            .trim_start_matches("#!")
            .split_whitespace()
            .collect::<Vec<_>>();
        let program = match interpreter.as_slice() {
            [env, prog, ..] if basename(env) == "env" => *prog,
            [prog, ..] => basename(prog),
            [] => "",
        };
        if !["sh", "bash", "dash", "ash"].contains(&program) {
            return None;
        }
    }
    Some(RunText {
        text,
        mapping: Mapping::Verbatim(start),
    })
}

/// True if shell-form RUNs of this file run in a POSIX shell: no SHELL
/// instruction switches to something else (PowerShell, cmd), and no stage builds
/// on a Windows image (whose default shell is cmd).
pub fn posix_shell(file: &crate::syntax::Dockerfile) -> bool {
    use crate::syntax::InstructionKind;
    const POSIX: &[&str] = &["sh", "bash", "dash", "ash", "zsh", "ksh", "busybox"];
    let shells_ok = file.instructions.iter().all(|i| match &i.kind {
        InstructionKind::Shell(args) => args.first().is_some_and(|a| {
            POSIX.contains(&basename(a))
                && args
                    .last()
                    .is_some_and(|l| l.starts_with('-') && l.ends_with('c'))
        }),
        _ => true,
    });
    let windows = file.stages().iter().any(|s| {
        let b = s.base.to_ascii_lowercase();
        b.contains("windows") || b.contains("nanoserver") || b.contains("servercore")
    });
    shells_ok && !windows
}

/// True if a SHELL instruction of the file runs its shell with errexit (`-e`,
/// `-ec`, `-o errexit`): then every RUN stops at its first failing command.
pub fn shell_errexit(file: &crate::syntax::Dockerfile) -> bool {
    use crate::syntax::InstructionKind;
    file.instructions.iter().any(|i| match &i.kind {
        InstructionKind::Shell(args) => args.iter().enumerate().skip(1).any(|(n, a)| {
            (a.starts_with('-')
                && !a.starts_with("--")
                && a[1..].bytes().all(|b| b.is_ascii_alphabetic())
                && a.contains('e'))
                || (a == "-o" && args.get(n + 1).is_some_and(|x| x == "errexit"))
        }),
        _ => false,
    })
}

/// Maps a logical offset that ends something (a word, a command) to the source:
/// at a line continuation it stays before the escape character.
pub fn source_end(logical: &crate::syntax::LogicalText, pos: usize) -> usize {
    if pos == 0 {
        logical.map(0)
    } else {
        logical.map_span(pos - 1, pos).end
    }
}

/// Maps a logical offset that starts something to the source: at a line
/// continuation it moves past it.
pub fn source_start(logical: &crate::syntax::LogicalText, pos: usize) -> usize {
    if pos >= logical.text.len() {
        return source_end(logical, pos);
    }
    // The byte at `pos` lies inside a piece; its source offset is unambiguous.
    let after = logical.map_span(pos, pos + 1).end;
    after - 1
}

/// The shell RUNs of `file` ([`run_text`]) nested deeper than
/// [`MAX_NESTING`](super::MAX_NESTING): their shell is not parsed, only
/// tokenized, so no pass offers a fix there. The CLI warns about them.
pub fn too_deep_runs(file: &crate::syntax::Dockerfile) -> Vec<&crate::syntax::Instruction> {
    file.instructions
        .iter()
        .filter(|inst| {
            run_text(file, inst).is_some_and(|t| super::nesting_depth(t.text) > super::MAX_NESTING)
        })
        .collect()
}
