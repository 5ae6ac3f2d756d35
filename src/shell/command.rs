//! Simple commands: argv, effective program past wrappers, flags.

use super::{Separator, Word};
use std::ops::Range;

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

pub(super) fn basename(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

fn is_python(base: &str) -> bool {
    base.strip_prefix("python")
        .is_some_and(|v| v.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
}

pub(super) fn is_assignment(w: &str) -> bool {
    match w.split_once('=') {
        Some((name, _)) => {
            !name.is_empty()
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                && !name.as_bytes()[0].is_ascii_digit()
        }
        None => false,
    }
}
