//! Shell text through brush-parser: the AST walked into simple commands.

use super::tokens::{CharMap, Tokens};
use super::{Script, Separator, SimpleCommand, Word};
use brush_parser::ast::{self, SourceLocation};
use std::ops::Range;

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

pub(super) fn parse_with_brush(text: &str) -> Option<Script> {
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
