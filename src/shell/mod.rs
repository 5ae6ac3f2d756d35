//! Shell analysis of RUN commands: the logical shell text of a RUN
//! (`Instruction::logical.text`) split into simple commands with their argv words
//! and byte ranges, using brush-parser.
//!
//! Ranges are byte ranges into the analysed text; map them to the Dockerfile with
//! `instruction.logical.map_span(start, end)`.
//!
//! When brush-parser cannot parse the text (unusual syntax, heredocs, a `$(`
//! left open, nesting deeper than [`MAX_NESTING`]...), [`analyze`] falls back to a conservative tokenizer and sets
//! [`Script::parse_ok`] to false: passes must then not offer fixes.
//!
//! ```
//! let script = dopt::shell::analyze("set -eux; sudo apt-get -q install -y curl && rm -rf /x").unwrap();
//! let install = script.find_commands(&["apt-get"], &["install"]);
//! assert_eq!(install.len(), 1);
//! assert!(install[0].has_flag("-y", &[]));
//! assert_eq!(install[0].effective_argv()[0].text, "apt-get");
//! ```

mod brush;
mod command;
mod fallback;
mod limits;
mod run;
#[cfg(test)]
mod tests;
mod tokens;

pub use command::SimpleCommand;
pub use limits::{nesting_depth, MAX_NESTING};
pub use run::{
    posix_shell, run_shell, run_text, shell_errexit, source_end, source_start, too_deep_runs,
    RunText,
};
use std::ops::Range;

/// A word of a simple command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The word as written (quotes kept).
    pub text: String,
    /// Byte range in the analysed text.
    pub range: Range<usize>,
}

impl Word {
    /// The word with simple quoting removed (`'a b'` → `a b`, `"x"` → `x`,
    /// `\-y` → `-y`). Expansions (`$X`) are left alone.
    pub fn unquoted(&self) -> String {
        unquote(&self.text)
    }
}

/// What follows a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Separator {
    /// `&&`
    And,
    /// `||`
    Or,
    /// `|`
    Pipe,
    /// `;` (or a newline)
    Seq,
    /// `&`
    Async,
}

/// A RUN's shell text, analysed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// Simple commands in source order (nested ones included, see `depth`).
    pub commands: Vec<SimpleCommand>,
    /// False when brush-parser failed and the fallback tokenizer was used.
    pub parse_ok: bool,
    /// The whole text is one `&&` chain of simple commands or pipelines: no
    /// top-level `;`, `||` or `&`, no compound commands, nothing after the last
    /// command (such as a comment or a trailing `;`).
    pub plain_and_chain: bool,
    /// Something runs in the background (`&`), or may: bash's `&>`/`&>>`
    /// (stdout and stderr to a file) reads as `cmd &` then `> file` in a POSIX
    /// `sh` such as dash, so what follows would no longer wait for `cmd`.
    pub has_background: bool,
    /// Compound commands (if/for/while/case/{ }/( )) or function definitions.
    pub has_compound: bool,
    /// Some command changes the shell's state for what follows (see
    /// [`SimpleCommand::changes_shell_state`]), or a function is defined.
    pub changes_shell_state: bool,
    /// Byte range from the first command's start to the last command's end
    /// (empty at 0 for an empty script).
    pub range: Range<usize>,
    /// Non-whitespace text after the last command (`;`, `&`, a comment...).
    pub trailing: String,
}

impl Script {
    /// Some command turns on `set -e` (errexit).
    pub fn enables_errexit(&self) -> bool {
        self.commands.iter().any(SimpleCommand::enables_errexit)
    }

    /// Commands whose effective program is one of `programs` followed by
    /// `subcommand` (see [`SimpleCommand::matches`]).
    pub fn find_commands(&self, programs: &[&str], subcommand: &[&str]) -> Vec<&SimpleCommand> {
        self.commands
            .iter()
            .filter(|c| c.matches(programs, subcommand).is_some())
            .collect()
    }
}

/// Free-function form of [`Script::find_commands`].
pub fn find_commands<'a>(
    script: &'a Script,
    programs: &[&str],
    subcommand: &[&str],
) -> Vec<&'a SimpleCommand> {
    script.find_commands(programs, subcommand)
}

/// Free-function form of [`SimpleCommand::has_flag`].
pub fn has_flag(command: &SimpleCommand, flag: &str, aliases: &[String]) -> bool {
    command.has_flag(flag, aliases)
}

/// Analyses shell text. Returns None only for text with nothing to analyse
/// (empty or only whitespace).
pub fn analyze(text: &str) -> Option<Script> {
    if text.trim().is_empty() {
        return None;
    }
    let depth = limits::nesting_depth(text);
    let parsed = if depth <= limits::INLINE_NESTING {
        brush::parse_with_brush(text)
    } else if depth <= limits::MAX_NESTING {
        limits::on_big_stack(|| brush::parse_with_brush(text))
    } else {
        None
    };
    Some(parsed.unwrap_or_else(|| fallback::fallback(text)))
}

/// The analysed shell text of a shell-form RUN without heredocs; None for exec
/// form, heredoc RUNs and other instructions.
pub fn run_script(inst: &crate::syntax::Instruction) -> Option<Script> {
    match &inst.kind {
        crate::syntax::InstructionKind::Run(crate::syntax::Command::Shell { .. })
            if inst.heredocs.is_empty() =>
        {
            analyze(&inst.logical.text)
        }
        _ => None,
    }
}

/// Removes simple quoting: single and double quotes, and backslashes outside
/// single quotes.
pub fn unquote(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    let mut single = false;
    let mut double = false;
    while let Some(c) = chars.next() {
        match c {
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            '\\' if !single => {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            _ => out.push(c),
        }
    }
    out
}
