//! Shell analysis of RUN commands: the logical shell text of a RUN
//! (`Instruction::logical.text`) split into simple commands with their argv words
//! and byte ranges, using brush-parser.
//!
//! Ranges are byte ranges into the analysed text; map them to the Dockerfile with
//! `instruction.logical.map_span(start, end)`.
//!
//! When brush-parser cannot parse the text (unusual syntax, heredocs, a `$(`
//! left open...), [`analyze`] falls back to a conservative tokenizer and sets
//! [`Script::parse_ok`] to false: passes must then not offer fixes.
//!
//! ```
//! let script = dopt::shell::analyze("set -eux; sudo apt-get -q install -y curl && rm -rf /x").unwrap();
//! let install = script.find_commands(&["apt-get"], &["install"]);
//! assert_eq!(install.len(), 1);
//! assert!(install[0].has_flag("-y", &[]));
//! assert_eq!(install[0].effective_argv()[0].text, "apt-get");
//! ```

use brush_parser::ast::{self, SourceLocation};
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

/// A simple command: optional `VAR=value` assignments, then argv words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimpleCommand {
    /// Leading `NAME=value` assignments.
    pub assignments: Vec<Word>,
    /// Command name and arguments, redirections excluded.
    pub argv: Vec<Word>,
    /// Byte range of the whole command: assignments, words and redirections
    /// (`> f`, `2>&1`, `>/dev/null`, `<<< word`, `<(cmd)`), wherever they stand.
    /// Splicing this range moves or keeps the command with its redirections.
    /// A command with a here-document (`<<EOF`) keeps the range of its words:
    /// the body lies on later lines, and cutting there would break it.
    pub range: Range<usize>,
    /// Byte ranges of the redirections (`2>&1`, `> /dev/null`, `<<<"x"`), each
    /// with its file descriptor number and target, in source order.
    pub redirects: Vec<Range<usize>>,
    /// The operator written right after the command, if any.
    pub separator_after: Option<Separator>,
    /// 0 at the top level; more inside `if`, `for`, `{ }`, `( )`, functions...
    pub depth: usize,
    /// Part of a pipeline with more than one command.
    pub in_pipeline: bool,
}

/// Programs that run the command given after them; they are skipped to find the
/// effective program (`sudo apt-get` → `apt-get`).
const WRAPPERS: &[&str] = &[
    "sudo",
    "env",
    "nice",
    "nohup",
    "time",
    "eatmydata",
    "command",
];

/// Shell builtins whose effect lasts after them in the same shell (cwd,
/// variables, options, traps, ending the shell).
const STATEFUL_BUILTINS: &[&str] = &[
    "cd", "pushd", "popd", "export", "set", "unset", "source", ".", "alias", "unalias", "umask",
    "shopt", "trap", "exec", "exit", "declare", "typeset", "readonly", "local", "eval", "ulimit",
    "enable", "hash", "return", "shift", "builtin",
];

impl SimpleCommand {
    /// Index into `argv` of the effective program, past wrappers such as `sudo -u x`,
    /// `env A=1`, `nice -n 5`, and turning `python3 -m pip` into `pip`.
    pub fn program_index(&self) -> Option<usize> {
        let mut i = 0;
        loop {
            let word = self.argv.get(i)?.unquoted();
            let base = basename(&word);
            if WRAPPERS.contains(&base) {
                i += 1;
                // Skip the wrapper's options, the values of options that take one,
                // and env's NAME=value words.
                while let Some(w) = self.argv.get(i) {
                    let w = w.unquoted();
                    if w == "--" {
                        i += 1;
                        break;
                    }
                    if w.starts_with('-') {
                        let takes_value = match base {
                            "sudo" => matches!(
                                w.as_str(),
                                "-u" | "-g" | "-C" | "-D" | "-h" | "-p" | "-r" | "-t" | "-U"
                            ),
                            "env" => matches!(w.as_str(), "-u" | "-C" | "-S"),
                            "nice" => w == "-n",
                            _ => false,
                        };
                        i += if takes_value { 2 } else { 1 };
                    } else if base == "env" && is_assignment(&w) {
                        i += 1;
                    } else {
                        break;
                    }
                }
                continue;
            }
            if is_python(base)
                && self.argv.get(i + 1).map(|w| w.unquoted()).as_deref() == Some("-m")
            {
                if let Some(m) = self.argv.get(i + 2) {
                    if m.unquoted() == "pip" || m.unquoted() == "pip3" {
                        return Some(i + 2);
                    }
                }
            }
            return Some(i);
        }
    }

    /// argv from the effective program on (empty for a bare assignment).
    pub fn effective_argv(&self) -> &[Word] {
        match self.program_index() {
            Some(i) => &self.argv[i..],
            None => &[],
        }
    }

    /// The effective program's basename, unquoted (`/usr/bin/pip3` → `pip3`).
    pub fn program(&self) -> Option<String> {
        self.effective_argv()
            .first()
            .map(|w| basename(&w.unquoted()).to_string())
    }

    /// Effective argv as unquoted strings, program as basename.
    pub fn effective_strings(&self) -> Vec<String> {
        let mut v: Vec<String> = self.effective_argv().iter().map(|w| w.unquoted()).collect();
        if let Some(first) = v.first_mut() {
            *first = basename(first).to_string();
        }
        v
    }

    /// Matches `program [options] sub1 sub2...`: the effective program is one of
    /// `programs`, and the first non-option words are `subcommand` in order.
    /// A final `{bare}` means only options may follow. Returns the index into
    /// [`SimpleCommand::effective_argv`] of the last subcommand word (0, the
    /// program, when `subcommand` is empty or just `{bare}`).
    pub fn matches(&self, programs: &[&str], subcommand: &[&str]) -> Option<usize> {
        let argv = self.effective_strings();
        if !programs.contains(&argv.first()?.as_str()) {
            return None;
        }
        let mut i = 1;
        let mut last = 0;
        for (n, sub) in subcommand.iter().enumerate() {
            if *sub == "{bare}" {
                // Only options may follow: `yarn` or `yarn --production`.
                return argv[i..].iter().all(|a| a.starts_with('-')).then_some(last);
            }
            if n == 0 {
                // Options may come between program and subcommand (`apt-get -q install`).
                while i < argv.len() && argv[i].starts_with('-') && argv[i] != *sub {
                    i += 1;
                }
            }
            if argv.get(i).map(String::as_str) != Some(*sub) {
                return None;
            }
            last = i;
            i += 1;
        }
        Some(last)
    }

    /// True if the command carries `flag` or one of `aliases`. A one-letter short
    /// flag (`-y`) is also found in bundles (`-qy`); a long flag also as
    /// `--flag=value`; an alias with a space (`-o X=y`) matches two words.
    /// Words after `--` are operands, not flags.
    pub fn has_flag(&self, flag: &str, aliases: &[String]) -> bool {
        let argv = self.effective_strings();
        let end = argv.iter().position(|w| w == "--").unwrap_or(argv.len());
        let argv = &argv[..end.min(argv.len())];
        let candidates = std::iter::once(flag).chain(aliases.iter().map(String::as_str));
        for cand in candidates {
            let parts: Vec<&str> = cand.split_whitespace().collect();
            if parts.len() > 1 {
                if argv
                    .windows(parts.len())
                    .any(|w| w.iter().zip(&parts).all(|(a, b)| a == b))
                {
                    return true;
                }
                continue;
            }
            let short = cand.len() == 2
                && cand.starts_with('-')
                && cand.as_bytes()[1].is_ascii_alphanumeric();
            for w in argv.iter().skip(1) {
                if w == cand {
                    return true;
                }
                if cand.starts_with("--") && w.starts_with(&format!("{cand}=")) {
                    return true;
                }
                if short
                    && w.len() > 2
                    && w.starts_with('-')
                    && !w.starts_with("--")
                    && w[1..].bytes().all(|b| b.is_ascii_alphabetic())
                    && w[1..].contains(&cand[1..])
                {
                    return true;
                }
            }
        }
        false
    }

    /// Operands (non-option words) after the word at `after` (an index into
    /// [`SimpleCommand::effective_argv`]).
    pub fn operands_after(&self, after: usize) -> Vec<&Word> {
        self.effective_argv()
            .iter()
            .skip(after + 1)
            .filter(|w| !w.unquoted().starts_with('-'))
            .collect()
    }

    /// True for `set -e`, `set -eux`, `set -o errexit` and the like.
    pub fn enables_errexit(&self) -> bool {
        let argv = self.effective_strings();
        if argv.first().map(String::as_str) != Some("set") {
            return false;
        }
        argv.iter().enumerate().skip(1).any(|(i, w)| {
            (w.starts_with('-')
                && !w.starts_with("--")
                && w[1..].bytes().all(|b| b.is_ascii_alphabetic())
                && w.contains('e'))
                || (w == "-o" && argv.get(i + 1).map(String::as_str) == Some("errexit"))
        })
    }

    /// What stands in front of the effective program, as written in `text` (the
    /// analysed text): assignments and wrappers such as `DEBIAN_FRONTEND=x sudo `,
    /// with redirections (`2>/dev/null `) left out, so it can be repeated in front
    /// of another command.
    pub fn text_before_program(&self, text: &str) -> String {
        let program_start = self
            .effective_argv()
            .first()
            .map_or(self.range.end, |w| w.range.start);
        let mut out = String::new();
        let mut pos = self.range.start;
        for r in &self.redirects {
            if r.start >= program_start {
                break;
            }
            out.push_str(&text[pos..r.start]);
            // Drop the blanks after the redirection too.
            pos = r.end + text[r.end..program_start].len()
                - text[r.end..program_start].trim_start().len();
        }
        out.push_str(&text[pos.min(program_start)..program_start]);
        out
    }

    /// True for a builtin whose effect outlives the command (`cd`, `export`,
    /// `set`, `exit`...) or a bare `NAME=value` assignment.
    pub fn changes_shell_state(&self) -> bool {
        match self.argv.first() {
            None => !self.assignments.is_empty(),
            Some(w) => STATEFUL_BUILTINS.contains(&w.unquoted().as_str()),
        }
    }
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
    Some(match parse_with_brush(text) {
        Some(script) => script,
        None => fallback(text),
    })
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

fn basename(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

fn is_python(base: &str) -> bool {
    base.strip_prefix("python")
        .is_some_and(|v| v.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
}

fn is_assignment(w: &str) -> bool {
    match w.split_once('=') {
        Some((name, _)) => {
            !name.is_empty()
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                && !name.as_bytes()[0].is_ascii_digit()
        }
        None => false,
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

/// Converts brush-parser's character indices to byte offsets.
struct CharMap {
    byte_of_char: Vec<usize>,
}

impl CharMap {
    fn new(text: &str) -> Self {
        let mut byte_of_char: Vec<usize> = text.char_indices().map(|(b, _)| b).collect();
        byte_of_char.push(text.len());
        CharMap { byte_of_char }
    }
    fn byte(&self, char_index: usize) -> usize {
        *self
            .byte_of_char
            .get(char_index)
            .unwrap_or(self.byte_of_char.last().unwrap_or(&0))
    }
}

/// A token of brush-parser's tokenizer, with a byte range.
struct Tok {
    text: String,
    range: Range<usize>,
    operator: bool,
}

impl Tok {
    fn is_redirect_operator(&self) -> bool {
        self.operator
            && matches!(
                self.text.as_str(),
                "<" | ">" | ">>" | "<&" | ">&" | "<>" | ">|" | "&>" | "&>>" | "<<" | "<<-" | "<<<"
            )
    }
    /// A file descriptor number written right before a redirection operator
    /// (`2` in `2>&1`, `{fd}` in `{fd}>x`).
    fn is_fd_before(&self, operator: &Tok) -> bool {
        !self.operator
            && self.range.end == operator.range.start
            && operator.is_redirect_operator()
            && (self.text.bytes().all(|b| b.is_ascii_digit())
                || (self.text.starts_with('{') && self.text.ends_with('}') && self.text.len() > 2))
    }
}

/// The tokens of the analysed text in source order, to find the extent of
/// redirections, which brush-parser's AST gives no locations for.
struct Tokens(Vec<Tok>);

impl Tokens {
    fn new(raw: &[brush_parser::Token], map: &CharMap) -> Self {
        let mut toks: Vec<Tok> = raw
            .iter()
            .map(|t| {
                let loc = t.location();
                Tok {
                    text: t.to_str().to_string(),
                    range: map.byte(loc.start.index)..map.byte(loc.end.index),
                    operator: matches!(t, brush_parser::Token::Operator(..)),
                }
            })
            .collect();
        // Here-document bodies come right after their operator in the token
        // stream; sort back into source order.
        toks.sort_by_key(|t| t.range.start);
        Tokens(toks)
    }

    /// The redirection that starts at token `i` (`[fd]op target`, or a process
    /// substitution `<(...)`): its byte range and the index of the token after it.
    fn redirect_at(&self, i: usize) -> Option<(Range<usize>, usize)> {
        let toks = &self.0;
        let first = toks.get(i)?;
        let op_index = if toks.get(i + 1).is_some_and(|op| first.is_fd_before(op)) {
            i + 1
        } else {
            i
        };
        let op = &toks[op_index];
        if !op.is_redirect_operator() {
            return None;
        }
        let target = toks.get(op_index + 1)?;
        if target.operator && target.text == "(" {
            // `<(cmd)` / `>(cmd)`: up to the matching parenthesis.
            if !matches!(op.text.as_str(), "<" | ">") || op.range.end != target.range.start {
                return None;
            }
            let mut depth = 0usize;
            for (j, t) in toks.iter().enumerate().skip(op_index + 1) {
                if t.operator && t.text == "(" {
                    depth += 1;
                } else if t.operator && t.text == ")" {
                    depth -= 1;
                    if depth == 0 {
                        return Some((first.range.start..t.range.end, j + 1));
                    }
                }
            }
            return None;
        }
        if target.operator {
            return None;
        }
        Some((first.range.start..target.range.end, op_index + 2))
    }

    /// Index of the first token starting at or after `pos`.
    fn first_at(&self, pos: usize) -> usize {
        self.0.partition_point(|t| t.range.start < pos)
    }

    /// `pos` moved past the redirections that follow it.
    fn redirects_after(&self, mut pos: usize) -> usize {
        let mut i = self.first_at(pos);
        while let Some((range, next)) = self.redirect_at(i) {
            pos = range.end;
            i = next;
        }
        pos
    }

    /// `pos` moved back over the redirections that stand before it, or whose
    /// operator does (`>` in `>log` when `log` starts at `pos`).
    fn redirects_before(&self, mut pos: usize) -> usize {
        loop {
            // The last token ending at or before `pos`.
            let Some(last) = self
                .0
                .partition_point(|t| t.range.end <= pos)
                .checked_sub(1)
            else {
                return pos;
            };
            // A redirection covering that token starts at most two tokens earlier
            // (`2` `>` `/dev/null`).
            let found = (last.saturating_sub(2)..=last).find_map(|k| {
                let (range, next) = self.redirect_at(k)?;
                (next > last).then_some(range.start)
            });
            match found {
                Some(start) if start < pos => pos = start,
                _ => return pos,
            }
        }
    }

    /// Byte ranges of the redirections inside `range`.
    fn redirects_within(&self, range: &Range<usize>) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        let mut i = self.first_at(range.start);
        while self.0.get(i).is_some_and(|t| t.range.end <= range.end) {
            match self.redirect_at(i) {
                Some((r, next)) if r.end <= range.end => {
                    out.push(r);
                    i = next;
                }
                _ => i += 1,
            }
        }
        out
    }
}

struct Walker<'a> {
    text: &'a str,
    map: CharMap,
    tokens: Tokens,
    commands: Vec<SimpleCommand>,
    has_background: bool,
    has_compound: bool,
    changes_state: bool,
    failed: bool,
}

impl Walker<'_> {
    fn range(&self, span: &brush_parser::SourceSpan) -> Range<usize> {
        self.map.byte(span.start.index)..self.map.byte(span.end.index)
    }

    fn word(&mut self, w: &ast::Word) -> Option<Word> {
        match &w.loc {
            Some(loc) => {
                let range = self.range(loc);
                // Trust the location only if it covers the word's text.
                if self.text.get(range.clone()) == Some(w.value.as_str()) {
                    return Some(Word {
                        text: w.value.clone(),
                        range,
                    });
                }
                self.failed = true;
                None
            }
            None => {
                self.failed = true;
                None
            }
        }
    }

    fn list(&mut self, list: &ast::CompoundList, depth: usize) {
        for item in &list.0 {
            self.and_or(&item.0, depth);
            if matches!(item.1, ast::SeparatorOperator::Async) {
                self.has_background = true;
            }
        }
    }

    fn and_or(&mut self, list: &ast::AndOrList, depth: usize) {
        self.pipeline(&list.first, depth);
        for next in &list.additional {
            match next {
                ast::AndOr::And(p) | ast::AndOr::Or(p) => self.pipeline(p, depth),
            }
        }
    }

    fn pipeline(&mut self, p: &ast::Pipeline, depth: usize) {
        let in_pipeline = p.seq.len() > 1;
        for c in &p.seq {
            self.command(c, depth, in_pipeline);
        }
    }

    fn command(&mut self, c: &ast::Command, depth: usize, in_pipeline: bool) {
        match c {
            ast::Command::Simple(sc) => self.simple(sc, depth, in_pipeline),
            ast::Command::Compound(cc, _) => {
                self.has_compound = true;
                self.compound(cc, depth + 1);
            }
            ast::Command::Function(f) => {
                self.has_compound = true;
                self.changes_state = true;
                self.compound(&f.body.0, depth + 1);
            }
            ast::Command::ExtendedTest(..) => {
                self.has_compound = true;
            }
        }
    }

    fn compound(&mut self, cc: &ast::CompoundCommand, depth: usize) {
        use ast::CompoundCommand as C;
        match cc {
            C::BraceGroup(b) => self.list(&b.list, depth),
            C::Subshell(s) => self.list(&s.list, depth),
            C::ForClause(f) => self.list(&f.body.list, depth),
            C::ArithmeticForClause(f) => self.list(&f.body.list, depth),
            C::CaseClause(c) => {
                for item in &c.cases {
                    if let Some(cmd) = &item.cmd {
                        self.list(cmd, depth);
                    }
                }
            }
            C::IfClause(i) => {
                self.list(&i.condition, depth);
                self.list(&i.then, depth);
                for e in i.elses.iter().flatten() {
                    if let Some(c) = &e.condition {
                        self.list(c, depth);
                    }
                    self.list(&e.body, depth);
                }
            }
            C::WhileClause(w) | C::UntilClause(w) => {
                self.list(&w.0, depth);
                self.list(&w.1.list, depth);
            }
            C::Coprocess(c) => {
                self.has_background = true;
                self.command(&c.body, depth, false);
            }
            C::Arithmetic(_) => {}
        }
    }

    fn simple(&mut self, sc: &ast::SimpleCommand, depth: usize, in_pipeline: bool) {
        let mut assignments = Vec::new();
        let mut argv = Vec::new();
        // Located redirection targets: they bound the command like its words.
        let mut targets = Vec::new();
        let mut has_here_document = false;
        let items = sc
            .prefix
            .iter()
            .flat_map(|p| p.0.iter().map(|item| (true, item)))
            .chain(
                sc.suffix
                    .iter()
                    .flat_map(|p| p.0.iter().map(|item| (false, item))),
            );
        let mut program_seen = false;
        for (in_prefix, item) in items {
            if !in_prefix && !program_seen {
                // The program word sits between prefix and suffix.
                program_seen = true;
                if let Some(w) = sc.word_or_name.as_ref().and_then(|w| self.word(w)) {
                    argv.push(w);
                }
            }
            match item {
                ast::CommandPrefixOrSuffixItem::AssignmentWord(_, w) if in_prefix => {
                    if let Some(w) = self.word(w) {
                        assignments.push(w);
                    }
                }
                // An assignment-looking word after the program is an argument.
                ast::CommandPrefixOrSuffixItem::Word(w)
                | ast::CommandPrefixOrSuffixItem::AssignmentWord(_, w) => {
                    if let Some(w) = self.word(w) {
                        argv.push(w);
                    }
                }
                ast::CommandPrefixOrSuffixItem::IoRedirect(redirect) => {
                    use ast::{IoFileRedirectTarget as T, IoRedirect as R};
                    let target = match redirect {
                        R::File(_, _, T::Filename(w) | T::Duplicate(w))
                        | R::HereString(_, w)
                        | R::OutputAndError(w, _) => Some(w),
                        R::HereDocument(..) => {
                            has_here_document = true;
                            None
                        }
                        R::File(_, _, T::Fd(_) | T::ProcessSubstitution(..)) => None,
                    };
                    if let Some(w) = target.and_then(|w| self.word(w)) {
                        targets.push(w.range);
                    }
                }
                ast::CommandPrefixOrSuffixItem::ProcessSubstitution(..) => {}
            }
        }
        if !program_seen {
            if let Some(w) = sc.word_or_name.as_ref().and_then(|w| self.word(w)) {
                argv.push(w);
            }
        }
        let mut bounds = assignments
            .iter()
            .chain(&argv)
            .map(|w| w.range.clone())
            .chain(targets)
            .chain(sc.location().map(|loc| self.range(&loc)));
        let Some(mut range) = bounds.next() else {
            self.failed = true;
            return;
        };
        // Widen to the words in case a location is narrower than its words.
        for r in bounds {
            range.start = range.start.min(r.start);
            range.end = range.end.max(r.end);
        }
        // Then over the redirections before and after them (`2>/dev/null cmd`,
        // `cmd > /etc/x 2>&1`), which the AST has no locations for. A
        // here-document's body follows on later lines: such a command keeps the
        // range of its words.
        if !has_here_document {
            range.start = self.tokens.redirects_before(range.start);
            range.end = self.tokens.redirects_after(range.end);
        }
        let redirects = self.tokens.redirects_within(&range);
        // `{fd}>file` keeps the descriptor open and sets `fd` in the shell (bash).
        if redirects
            .iter()
            .any(|r| self.text[r.clone()].starts_with('{'))
        {
            self.changes_state = true;
        }
        let cmd = SimpleCommand {
            assignments,
            argv,
            range: range.clone(),
            redirects,
            separator_after: separator_at(self.text, range.end),
            depth,
            in_pipeline,
        };
        if cmd.changes_shell_state() {
            self.changes_state = true;
        }
        self.commands.push(cmd);
    }
}

/// The operator at `pos` (after spaces and tabs), if any.
fn separator_at(text: &str, pos: usize) -> Option<Separator> {
    let rest = text.get(pos..)?.trim_start_matches([' ', '\t']);
    if rest.starts_with("&&") {
        Some(Separator::And)
    } else if rest.starts_with("||") {
        Some(Separator::Or)
    } else if rest.starts_with("|&") || rest.starts_with('|') {
        Some(Separator::Pipe)
    } else if rest.starts_with(";;") {
        None
    } else if rest.starts_with(';') || rest.starts_with('\n') {
        Some(Separator::Seq)
    } else if rest.starts_with('&') && !rest.starts_with("&>") {
        Some(Separator::Async)
    } else {
        None
    }
}

/// Moves `end` past closing words of compound commands (`fi`, `done`, `esac`,
/// `}`, `)`), the redirections after them (`{ a; b; } > log`) and the `;`/`;;`
/// between them; a `;` with no closer after it stays out.
fn extend_over_closers(text: &str, tokens: &Tokens, mut end: usize) -> usize {
    const CLOSERS: &[&str] = &["fi", "done", "esac", "}", ")"];
    let closer_at = |pos: usize| -> Option<usize> {
        let rest = &text[pos..];
        CLOSERS.iter().find_map(|c| {
            let after = rest.strip_prefix(c)?;
            let boundary = c.len() == 1
                || after
                    .chars()
                    .next()
                    .is_none_or(|ch| ch.is_whitespace() || ";&|)".contains(ch));
            boundary.then_some(pos + c.len())
        })
    };
    let skip_ws = |pos: usize| pos + (text[pos..].len() - text[pos..].trim_start().len());
    let mut pos = end;
    loop {
        pos = skip_ws(pos);
        if let Some(next) = closer_at(pos) {
            pos = tokens.redirects_after(next);
            end = pos;
            continue;
        }
        let semis = text[pos..].bytes().take_while(|&b| b == b';').count();
        if semis > 0 && closer_at(skip_ws(pos + semis)).is_some() {
            pos += semis;
            continue;
        }
        return end;
    }
}

fn parse_with_brush(text: &str) -> Option<Script> {
    let options = brush_parser::ParserOptions::default();
    // Tokenize here (as `Parser::parse_program` would) to keep the tokens: the
    // AST has no locations for redirection operators.
    let raw_tokens =
        brush_parser::uncached_tokenize_str(text, &options.tokenizer_options()).ok()?;
    let program = brush_parser::parse_tokens(&raw_tokens, &options).ok()?;
    let map = CharMap::new(text);
    let tokens = Tokens::new(&raw_tokens, &map);
    let mut w = Walker {
        text,
        map,
        tokens,
        commands: Vec::new(),
        has_background: false,
        has_compound: false,
        changes_state: false,
        failed: false,
    };
    for cc in &program.complete_commands {
        w.list(cc, 0);
    }
    if w.failed {
        return None;
    }
    if w.tokens
        .0
        .iter()
        .any(|t| t.operator && t.text.starts_with("&>"))
    {
        w.has_background = true;
    }
    w.commands.sort_by_key(|c| c.range.start);
    let mut range = match (w.commands.first(), w.commands.last()) {
        (Some(f), Some(_)) => f.range.start..w.commands.iter().map(|c| c.range.end).max()?,
        _ => 0..0,
    };
    // Compound commands end after their last simple command (`fi`, `done`, `)`);
    // brush-parser's locations stop earlier, so extend over closing words.
    // The same at the start (`if`, `for x in ...; do`, `(`, `{`): the text
    // parsed, so its first non-blank character starts the first command.
    if w.has_compound {
        range.start = range.start.min(text.len() - text.trim_start().len());
        range.end = extend_over_closers(text, &w.tokens, range.end);
    }
    let trailing = text[range.end..].trim().to_string();
    let top_level_and_only = program.complete_commands.len() == 1
        && program.complete_commands[0].0.len() == 1
        && program.complete_commands[0].0[0]
            .0
            .additional
            .iter()
            .all(|x| matches!(x, ast::AndOr::And(_)));
    let plain_and_chain = top_level_and_only
        && !w.has_compound
        && !w.has_background
        && trailing.is_empty()
        && text[..range.start].trim().is_empty();
    Some(Script {
        commands: w.commands,
        parse_ok: true,
        plain_and_chain,
        has_background: w.has_background,
        has_compound: w.has_compound,
        changes_shell_state: w.changes_state,
        range,
        trailing,
    })
}

/// Length of a backslash at `i` plus the character it escapes (which may be
/// multi-byte, or missing at the end of the text).
fn escaped_len(text: &str, i: usize) -> usize {
    1 + text[i + 1..].chars().next().map_or(0, char::len_utf8)
}

/// Conservative tokenizer used when brush-parser fails: splits on unquoted
/// whitespace and the operators `&&`, `||`, `|`, `;`, `&`. Good enough to say
/// which programs run; not trusted for fixes.
fn fallback(text: &str) -> Script {
    let bytes = text.as_bytes();
    let mut commands = Vec::new();
    let mut words: Vec<Word> = Vec::new();
    let mut i = 0;
    let mut word_start: Option<usize> = None;
    let mut quote: Option<u8> = None;
    let mut has_background = false;
    let flush_word = |words: &mut Vec<Word>, start: &mut Option<usize>, end: usize| {
        if let Some(s) = start.take() {
            words.push(Word {
                text: text[s..end].to_string(),
                range: s..end,
            });
        }
    };
    let finish =
        |words: &mut Vec<Word>, commands: &mut Vec<SimpleCommand>, sep: Option<Separator>| {
            if words.is_empty() {
                return;
            }
            let taken = std::mem::take(words);
            let split = taken
                .iter()
                .position(|w| !is_assignment(&w.text))
                .unwrap_or(taken.len());
            let range = taken[0].range.start..taken[taken.len() - 1].range.end;
            let (assignments, argv) = taken.split_at(split);
            commands.push(SimpleCommand {
                assignments: assignments.to_vec(),
                argv: argv.to_vec(),
                range,
                redirects: Vec::new(),
                separator_after: sep,
                depth: 0,
                in_pipeline: sep == Some(Separator::Pipe),
            });
        };
    while i < bytes.len() {
        let b = bytes[i];
        if let Some(q) = quote {
            if b == b'\\' && q == b'"' {
                i += escaped_len(text, i);
                continue;
            }
            if b == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        match b {
            b'\'' | b'"' => {
                word_start.get_or_insert(i);
                quote = Some(b);
                i += 1;
            }
            b'\\' => {
                word_start.get_or_insert(i);
                i += escaped_len(text, i);
            }
            b' ' | b'\t' | b'\n' | b'\r' => {
                flush_word(&mut words, &mut word_start, i);
                i += 1;
            }
            b'&' | b'|' | b';' => {
                flush_word(&mut words, &mut word_start, i);
                let two = bytes.get(i + 1) == Some(&b);
                let sep = match (b, two) {
                    (b'&', true) => Separator::And,
                    (b'|', true) => Separator::Or,
                    (b'|', false) => Separator::Pipe,
                    (b'&', false) => {
                        has_background = true;
                        Separator::Async
                    }
                    _ => Separator::Seq,
                };
                finish(&mut words, &mut commands, Some(sep));
                i += if two { 2 } else { 1 };
            }
            _ => {
                word_start.get_or_insert(i);
                i += 1;
            }
        }
    }
    flush_word(&mut words, &mut word_start, bytes.len().min(i));
    finish(&mut words, &mut commands, None);
    let changes_shell_state = commands.iter().any(|c| c.changes_shell_state());
    let range = match (commands.first(), commands.last()) {
        (Some(f), Some(l)) => f.range.start..l.range.end,
        _ => 0..0,
    };
    Script {
        trailing: text.get(range.end..).unwrap_or("").trim().to_string(),
        commands,
        parse_ok: false,
        plain_and_chain: false,
        has_background,
        has_compound: false,
        changes_shell_state,
        range,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(c: &SimpleCommand) -> Vec<&str> {
        c.argv.iter().map(|w| w.text.as_str()).collect()
    }

    #[test]
    fn splits_and_chain_with_ranges() {
        let text = "apt-get update && apt-get install -y curl | tee log; echo done";
        let s = analyze(text).unwrap();
        assert!(s.parse_ok);
        assert_eq!(s.commands.len(), 4);
        assert_eq!(argv(&s.commands[1]), ["apt-get", "install", "-y", "curl"]);
        for c in &s.commands {
            for w in &c.argv {
                assert_eq!(&text[w.range.clone()], w.text);
            }
        }
        assert_eq!(
            &text[s.commands[1].range.clone()],
            "apt-get install -y curl"
        );
        let seps: Vec<_> = s.commands.iter().map(|c| c.separator_after).collect();
        assert_eq!(
            seps,
            [
                Some(Separator::And),
                Some(Separator::Pipe),
                Some(Separator::Seq),
                None
            ]
        );
        assert!(s.commands[1].in_pipeline);
        assert!(!s.plain_and_chain);
        assert_eq!(s.range, 0..text.len());
    }

    #[test]
    fn plain_and_chain_detection() {
        assert!(analyze("a && b | c && d").unwrap().plain_and_chain);
        assert!(!analyze("a || b").unwrap().plain_and_chain);
        assert!(!analyze("a && b &").unwrap().plain_and_chain);
        assert!(analyze("a && b &").unwrap().has_background);
        assert!(!analyze("a && b;").unwrap().plain_and_chain);
        assert!(!analyze("a && b # note").unwrap().plain_and_chain);
        assert_eq!(analyze("a && b # note").unwrap().trailing, "# note");
        assert!(!analyze("if a; then b; fi").unwrap().plain_and_chain);
        for text in [
            "if a; then b; fi",
            "for x in 1 2; do b; done",
            "while a; do b; done",
            "a && (b; c)",
            "{ a; b; }",
            "case $x in a) b;; esac",
        ] {
            let s = analyze(text).unwrap();
            assert_eq!(s.range, 0..text.len(), "{text}");
            assert_eq!(s.trailing, "", "{text}");
        }
        assert!(analyze("if a; then b; fi").unwrap().has_compound);
    }

    #[test]
    fn byte_ranges_survive_multibyte_text() {
        let text = "echo 'héllo wörld' && apk add --no-cache curl";
        let s = analyze(text).unwrap();
        let apk = &s.find_commands(&["apk"], &["add"])[0];
        assert_eq!(&text[apk.range.clone()], "apk add --no-cache curl");
        assert_eq!(&text[s.commands[0].argv[1].range.clone()], "'héllo wörld'");
    }

    #[test]
    fn wrappers_and_prefixes() {
        let s = analyze("set -eux; sudo -u root env DEBIAN_FRONTEND=noninteractive apt-get -qq install -y x && python3 -m pip install --no-cache-dir y && DEBUG=1 /usr/local/bin/pip3 install z").unwrap();
        assert!(s.changes_shell_state);
        let apt = s.find_commands(&["apt-get"], &["install"]);
        assert_eq!(apt.len(), 1);
        assert_eq!(apt[0].matches(&["apt-get"], &["install"]), Some(2));
        let pip = s.find_commands(&["pip", "pip3"], &["install"]);
        assert_eq!(pip.len(), 2);
        assert!(pip[0].has_flag("--no-cache-dir", &[]));
        assert!(!pip[1].has_flag("--no-cache-dir", &[]));
        assert_eq!(pip[1].assignments[0].text, "DEBUG=1");
        assert_eq!(pip[1].program().as_deref(), Some("pip3"));
    }

    #[test]
    fn flags() {
        let s = analyze(
            "apt-get install -qy --no-install-recommends -o APT::Install-Suggests=0 x -- -z",
        )
        .unwrap();
        let c = &s.commands[0];
        assert!(c.has_flag("-y", &[]));
        assert!(c.has_flag("-q", &[]));
        assert!(c.has_flag("--no-install-recommends", &[]));
        assert!(c.has_flag("--yes", &["-o APT::Install-Suggests=0".to_string()]));
        assert!(!c.has_flag("-z", &[]));
        assert!(!c.has_flag("--yes", &[]));
        let s = analyze("pip install --cache-dir=/tmp x").unwrap();
        assert!(s.commands[0].has_flag("--cache-dir", &[]));
        assert_eq!(
            s.commands[0]
                .operands_after(1)
                .iter()
                .map(|w| w.text.as_str())
                .collect::<Vec<_>>(),
            ["x"]
        );
    }

    #[test]
    fn nested_commands_are_found_with_depth() {
        let s = analyze("if [ -f x ]; then cd /app && npm install; fi").unwrap();
        let npm = s.find_commands(&["npm"], &["install"]);
        assert_eq!(npm.len(), 1);
        assert_eq!(npm[0].depth, 1);
        assert!(s.changes_shell_state);
        let s = analyze("(cd /x && make)").unwrap();
        assert!(s.changes_shell_state && s.has_compound);
    }

    #[test]
    fn fallback_on_unparseable_text() {
        let s = analyze("echo $(( && apt-get install curl").unwrap();
        assert!(!s.parse_ok);
        assert!(!s.plain_and_chain);
        let apt = s.find_commands(&["apt-get"], &["install"]);
        assert_eq!(apt.len(), 1);
        assert_eq!(argv(apt[0]), ["apt-get", "install", "curl"]);
        assert!(analyze("   ").is_none());
    }

    proptest::proptest! {
        /// Any text: no panic, and every range lies on char boundaries inside it.
        #[test]
        fn ranges_are_always_valid(text in "[a-z12 \\\\'\"&|;()$<>#é{}\n-]{0,40}") {
            if let Some(s) = analyze(&text) {
                proptest::prop_assert!(s.range.start <= s.range.end && s.range.end <= text.len());
                proptest::prop_assert!(text.is_char_boundary(s.range.start) && text.is_char_boundary(s.range.end));
                for c in &s.commands {
                    proptest::prop_assert!(text.get(c.range.clone()).is_some());
                    for r in &c.redirects {
                        proptest::prop_assert!(text.get(r.clone()).is_some());
                        proptest::prop_assert!(c.range.start <= r.start && r.end <= c.range.end);
                    }
                    for w in c.argv.iter().chain(&c.assignments) {
                        proptest::prop_assert_eq!(text.get(w.range.clone()), Some(w.text.as_str()));
                    }
                }
            }
        }
    }

    #[test]
    fn fallback_handles_multibyte_escapes() {
        let text = "echo \\é $(( \\";
        let s = analyze(text).unwrap();
        assert!(!s.parse_ok);
        for c in &s.commands {
            for w in &c.argv {
                assert_eq!(&text[w.range.clone()], w.text);
            }
        }
    }

    /// The text of each command's range and of its redirections.
    fn extents(text: &str) -> Vec<(&str, Vec<&str>)> {
        let s = analyze(text).unwrap();
        assert!(s.parse_ok, "{text}");
        s.commands
            .iter()
            .map(|c| {
                (
                    &text[c.range.clone()],
                    c.redirects.iter().map(|r| &text[r.clone()]).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn command_ranges_include_redirections() {
        assert_eq!(
            extents("echo x > /etc/foo"),
            [("echo x > /etc/foo", vec!["> /etc/foo"])]
        );
        assert_eq!(
            extents("cat a >> b 2>&1"),
            [("cat a >> b 2>&1", vec![">> b", "2>&1"])]
        );
        assert_eq!(
            extents("a && echo x 2>/dev/null | tee y >/dev/null; b"),
            [
                ("a", vec![]),
                ("echo x 2>/dev/null", vec!["2>/dev/null"]),
                ("tee y >/dev/null", vec![">/dev/null"]),
                ("b", vec![]),
            ]
        );
        // Before the program, between the words, here-strings, `&>`, fds by name.
        assert_eq!(
            extents(">log 2>&1 FOO=1 cmd <in arg <<< \"here str\" &>> all {fd}>&-"),
            [(
                ">log 2>&1 FOO=1 cmd <in arg <<< \"here str\" &>> all {fd}>&-",
                vec![
                    ">log",
                    "2>&1",
                    "<in",
                    "<<< \"here str\"",
                    "&>> all",
                    "{fd}>&-"
                ]
            )]
        );
        assert_eq!(
            extents("diff <(sort a) >(cat) > out"),
            [(
                "diff <(sort a) >(cat) > out",
                vec!["<(sort a)", ">(cat)", "> out"]
            )]
        );
        // A bare redirection is a command of its own.
        assert_eq!(extents(": && >/x"), [(":", vec![]), (">/x", vec![">/x"])]);
        assert_eq!(extents("then=1 >x a"), [("then=1 >x a", vec![">x"])]);
        // In compound commands: the script ends after the group's redirection.
        let text = "if a; then b >x; fi >y";
        assert_eq!(extents(text), [("a", vec![]), ("b >x", vec![">x"])]);
        let s = analyze(text).unwrap();
        assert_eq!((s.range.clone(), s.trailing.as_str()), (0..text.len(), ""));
        let s = analyze("{ a; b; } > log 2>&1 && c").unwrap();
        assert!(s.trailing.is_empty() && s.has_compound);
    }

    #[test]
    fn bash_redirections_that_sh_reads_differently() {
        // dash reads `a &> f` as `a &` and `> f`.
        for text in ["a &> f", "a &>> f && b", "{ a; } &>/dev/null"] {
            let s = analyze(text).unwrap();
            assert!(s.has_background && !s.plain_and_chain, "{text}");
        }
        assert!(!analyze("a >f 2>&1 && b >&2").unwrap().has_background);
        // `{fd}>x` sets a variable and keeps the descriptor open.
        assert!(analyze("a {fd}>x").unwrap().changes_shell_state);
        assert!(!analyze("a 3>x").unwrap().changes_shell_state);
    }

    #[test]
    fn redirections_fix_separators_and_the_script_end() {
        let s =
            analyze("apt-get update > /dev/null && apt-get install -y x 2>&1 | tee log").unwrap();
        assert!(s.plain_and_chain);
        let seps: Vec<_> = s.commands.iter().map(|c| c.separator_after).collect();
        assert_eq!(seps, [Some(Separator::And), Some(Separator::Pipe), None]);
        let text = "echo x >> /etc/foo";
        let s = analyze(text).unwrap();
        assert_eq!((s.range.clone(), s.trailing.as_str()), (0..text.len(), ""));
        assert!(s.plain_and_chain);
        // A comment after a redirection stays out.
        assert_eq!(analyze("echo x > f # note").unwrap().trailing, "# note");
    }

    #[test]
    fn here_documents_keep_the_command_words() {
        let text = "cat <<EOF\nbody\nEOF\n";
        let s = analyze(text).unwrap();
        assert_eq!(&text[s.commands[0].range.clone()], "cat");
        assert!(!s.trailing.is_empty());
    }

    #[test]
    fn text_before_program_leaves_redirections_out() {
        let text =
            "2>/dev/null DEBIAN_FRONTEND=noninteractive >log sudo apt-get install -y x >/dev/null";
        let s = analyze(text).unwrap();
        assert_eq!(
            s.commands[0].text_before_program(text),
            "DEBIAN_FRONTEND=noninteractive sudo "
        );
        let text = "X=1 apt-get install";
        let s = analyze(text).unwrap();
        assert_eq!(s.commands[0].text_before_program(text), "X=1 ");
    }

    #[test]
    fn unquoting() {
        assert_eq!(unquote(r#"'a b'"c"\-d"#), "a bc-d");
        let s = analyze(r#""apt-get" 'install' -y x"#).unwrap();
        assert_eq!(s.commands[0].matches(&["apt-get"], &["install"]), Some(1));
    }
}
