//! The parse driver: runs the pest grammar (`grammar.pest`) item by item, keeps
//! BuildKit's directive state, consumes heredoc bodies, and builds the typed tree
//! of [`super::ast`] in one pass over the source.

use pest::Parser;

use super::ast::*;
use super::error::ParseError;
use super::words::{self, RawWord};

#[derive(pest_derive::Parser)]
#[grammar = "../grammar.pest"]
pub(crate) struct DockerfileGrammar;

const BOM: &str = "\u{FEFF}";

/// Parses a Dockerfile (see [`super::parse`]).
pub fn parse(source: &str) -> Result<Dockerfile, ParseError> {
    Driver::new(source).run()
}

/// Parses with one grammar call per item (no multi-item chunks), i.e. with the
/// single-item rules only: slower, used by tests and the fuzzer to check that
/// the chunk rules (shaped for speed) build the same tree.
pub fn parse_item_by_item(source: &str) -> Result<Dockerfile, ParseError> {
    let mut driver = Driver::new(source);
    driver.chunked = false;
    driver.run()
}

struct Driver<'s> {
    src: &'s str,
    pos: usize,
    /// 1-based line number of `pos`.
    line: usize,
    escape: char,
    directives: Vec<Directive>,
    directives_done: bool,
    instructions: Vec<Instruction>,
    items: Vec<Item>,
    /// Parse runs of items in one grammar call (see `next_items`).
    chunked: bool,
}

/// The longest line BuildKit reads, in bytes, line terminator excluded (a
/// `\r` before the `\n` counts). BuildKit's parser reads lines with a
/// `bufio.Scanner` whose buffer stops at `bufio.MaxScanTokenSize` (65,536)
/// bytes, the `\n` included, and fails with "dockerfile line greater than max
/// allowed size of 65535"; a last line without `\n` gets the same limit (the
/// buffer is full before the reader reports the end of the file).
pub const MAX_LINE_BYTES: usize = 65_535;

/// Rejects a Dockerfile with a line BuildKit would not read ([`MAX_LINE_BYTES`]),
/// pointing at the first byte past the limit.
fn check_line_lengths(src: &str) -> Result<(), ParseError> {
    if src.len() <= MAX_LINE_BYTES {
        return Ok(());
    }
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', src.as_bytes()).chain([src.len()]) {
        if end - start > MAX_LINE_BYTES {
            return Err(ParseError::new(
                format!(
                    "this line is {} bytes long; BuildKit rejects lines over {MAX_LINE_BYTES} bytes \
                     (\"dockerfile line greater than max allowed size of {MAX_LINE_BYTES}\")",
                    end - start
                ),
                Span::new(start + MAX_LINE_BYTES, end),
            ));
        }
        start = end + 1;
    }
    Ok(())
}

/// The physical pieces of one instruction, as the grammar found them.
struct PhysicalInstruction {
    /// The logical line (keyword included) with its map to the source.
    logical: LogicalText,
    /// End of the instruction's text (line terminator included).
    end: usize,
}

impl<'s> Driver<'s> {
    fn new(src: &'s str) -> Self {
        // One item per line at most; reserving up front avoids regrowing (and
        // moving) the large `Instruction` values while parsing.
        // (Estimates: real Dockerfiles average about 35 bytes per line and 140
        // per instruction; an `Instruction` is large, so do not overshoot.)
        let lines = src.len() / 24 + 8;
        Driver {
            src,
            pos: 0,
            line: 1,
            escape: '\\',
            directives: Vec::new(),
            directives_done: false,
            instructions: Vec::with_capacity(src.len() / 96 + 4),
            items: Vec::with_capacity(lines + 1),
            chunked: true,
        }
    }

    fn run(mut self) -> Result<Dockerfile, ParseError> {
        check_line_lengths(self.src)?;
        if self.src.starts_with(BOM) {
            self.push_item(ItemKind::Bom, BOM.len());
        }
        while self.pos < self.src.len() {
            if !self.directives_done && self.try_directive()? {
                continue;
            }
            self.directives_done = true;
            if self.chunked {
                self.next_items()?;
            } else {
                self.next_item()?;
            }
        }
        if self.instructions.is_empty() {
            let message = if self.src.trim_start_matches(BOM).is_empty() {
                "the Dockerfile is empty"
            } else {
                "file with no instructions"
            };
            return Err(ParseError::new(
                message,
                Span::new(self.src.len(), self.src.len()),
            ));
        }
        // Every byte is in exactly one item, so `line - 1` counts all newlines.
        let line_ending = dominant_line_ending(self.src, self.line - 1);
        Ok(Dockerfile {
            source: self.src.to_string(),
            escape: self.escape,
            line_ending,
            directives: self.directives,
            instructions: self.instructions,
            items: self.items,
        })
    }

    /// Records an item of `len` bytes at the current position and advances.
    fn push_item(&mut self, kind: ItemKind, len: usize) {
        let newlines = count_newlines(&self.src[self.pos..self.pos + len]);
        self.push_item_with_newlines(kind, len, newlines);
    }

    fn push_item_with_newlines(&mut self, kind: ItemKind, len: usize, newlines: usize) {
        let span = Span::new(self.pos, self.pos + len);
        self.line += newlines;
        self.pos = span.end;
        self.items.push(Item { kind, span });
    }

    /// BuildKit's directive parser: while no other line has been seen, a
    /// `# name=value` line with a known name is a directive.
    fn try_directive(&mut self) -> Result<bool, ParseError> {
        let line_end = self.src[self.pos..]
            .find('\n')
            .map(|i| self.pos + i + 1)
            .unwrap_or(self.src.len());
        let rest = &self.src[self.pos..line_end];
        // Necessary conditions first: a failed grammar call builds a full pest
        // error (with line and column), which costs more than the whole line.
        let first = rest.trim_start_matches(char::is_whitespace);
        if !first.starts_with('#') || !first.contains('=') {
            return Ok(false);
        }
        let Ok(mut pairs) = DockerfileGrammar::parse(Rule::directive, rest) else {
            return Ok(false);
        };
        let Some(pair) = pairs.next() else {
            return Ok(false);
        };
        let len = pair.as_span().end();
        let mut name = String::new();
        let mut value_span = (0, 0);
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::directive_name => name = inner.as_str().to_ascii_lowercase(),
                Rule::directive_value => {
                    value_span = (inner.as_span().start(), inner.as_span().end())
                }
                _ => {}
            }
        }
        if !matches!(name.as_str(), "syntax" | "escape" | "check") {
            return Ok(false);
        }
        let raw_value = &rest[value_span.0..value_span.1];
        let trimmed = raw_value.trim_end_matches([' ', '\t', '\x0C', '\r']);
        let value = if trimmed.is_empty() {
            // Go's `(.+?)\s*$` keeps one character when the value is all blanks.
            raw_value
                .chars()
                .last()
                .map(String::from)
                .unwrap_or_default()
        } else {
            trimmed.to_string()
        };
        let span = Span::new(self.pos, self.pos + len);
        let value_abs = Span::new(
            self.pos + value_span.0,
            self.pos + value_span.0 + value.len(),
        );
        if self.directives.iter().any(|d| d.name == name) {
            return Err(ParseError::new(
                format!("only one {name} parser directive can be used"),
                span_without_newline(self.src, span),
            ));
        }
        if name == "escape" {
            match value.as_str() {
                "\\" => self.escape = '\\',
                "`" => self.escape = '`',
                _ => {
                    return Err(ParseError::new(
                        format!("invalid escape token '{value}' does not match ` or \\"),
                        value_abs,
                    ))
                }
            }
        }
        let index = self.directives.len();
        self.directives.push(Directive { name, value, span });
        self.push_item(ItemKind::Directive(index), len);
        Ok(true)
    }

    /// One blank line, comment line or instruction (with its heredoc bodies).
    /// Parses the items before the next line that may start a heredoc in one
    /// grammar call, then (if needed) the item holding that line on its own.
    fn next_items(&mut self) -> Result<(), ParseError> {
        let chunk_end = match memchr::memmem::find(&self.src.as_bytes()[self.pos..], b"<<") {
            Some(i) => {
                let at = self.pos + i;
                self.src[self.pos..at]
                    .rfind('\n')
                    .map(|j| self.pos + j + 1)
                    .unwrap_or(self.pos)
            }
            None => self.src.len(),
        };
        if chunk_end > self.pos {
            let base = self.pos;
            let rule = if self.escape == '`' {
                Rule::items_backtick
            } else {
                Rule::items_backslash
            };
            let pairs = DockerfileGrammar::parse(rule, &self.src[base..chunk_end])
                .map_err(|e| self.internal_error(&e.to_string()))?;
            for outer in pairs {
                for pair in outer.into_inner() {
                    let pair_end = base + pair.as_span().end();
                    self.take_item(pair, base)?;
                    if self.pos != pair_end {
                        // A heredoc whose `<<` was split by a line continuation
                        // (`RUN <\` + `<EOF`) consumed lines that this chunk parsed
                        // as items: drop the rest of the chunk.
                        return Ok(());
                    }
                }
            }
        }
        if self.pos < self.src.len() {
            self.next_item()?;
        }
        Ok(())
    }

    fn internal_error(&self, detail: &str) -> ParseError {
        // The grammar accepts every line, so this is a bug in dopt; report it at
        // the current position rather than panicking.
        ParseError::new(
            format!("internal grammar error: {detail}"),
            Span::new(self.pos, self.pos),
        )
    }

    fn next_item(&mut self) -> Result<(), ParseError> {
        // pest indexes the lines of the whole input it is given for every call,
        // so hand it only the lines this item can span (linear, not quadratic).
        let base = self.pos;
        let rest = &self.src[base..item_bound(self.src, base, self.escape)];
        let entry = if self.escape == '`' {
            Rule::item_backtick
        } else {
            Rule::item_backslash
        };
        let mut pairs = DockerfileGrammar::parse(entry, rest)
            .map_err(|e| self.internal_error(&e.to_string()))?;
        let outer = pairs.next().ok_or_else(|| self.internal_error("no item"))?;
        let pair = outer
            .into_inner()
            .next()
            .ok_or_else(|| self.internal_error("empty item"))?;
        self.take_item(pair, base)
    }

    /// Records the item of `pair` (offsets relative to `base`), which starts at
    /// the current position.
    fn take_item(
        &mut self,
        pair: pest::iterators::Pair<'_, Rule>,
        base: usize,
    ) -> Result<(), ParseError> {
        let end = base + pair.as_span().end();
        if end <= self.pos {
            return Err(self.internal_error("no progress"));
        }
        let len = end - self.pos;
        match pair.as_rule() {
            // The chunk rules' comment and blank lines end with their only "\n".
            Rule::blank_line_nl => self.push_item_with_newlines(ItemKind::Blank, len, 1),
            Rule::comment_line_nl => self.push_item_with_newlines(ItemKind::Comment, len, 1),
            Rule::blank_line => self.push_item(ItemKind::Blank, len),
            Rule::comment_line => self.push_item(ItemKind::Comment, len),
            Rule::instruction_bs
            | Rule::instruction_bt
            | Rule::instruction_nl_bs
            | Rule::instruction_nl_bt => {
                let physical = physical_instruction(pair, self.src, base);
                self.instruction(physical)?;
            }
            other => return Err(self.internal_error(&format!("unexpected {other:?}"))),
        }
        Ok(())
    }

    fn instruction(&mut self, physical: PhysicalInstruction) -> Result<(), ParseError> {
        let start = self.pos;
        let start_line = self.line;
        // Heredoc operators are looked for in the whole logical line (BuildKit's
        // `heredocsFromLine`), which `build_instruction` consumes.
        let line_heredocs = memchr::memmem::find(physical.logical.text.as_bytes(), b"<<")
            .map(|_| heredocs_from_line(&physical.logical.text));
        let mut instruction = build_instruction(
            self.src,
            physical.logical,
            Span::new(start, physical.end),
            self.escape,
        )?;
        let mut end = physical.end;
        if let Some(heredocs) = line_heredocs.filter(|_| can_contain_heredoc(&instruction)) {
            for mut heredoc in heredocs {
                let (body_end, content) = self.heredoc_body(end, &heredoc, start)?;
                heredoc.content = content;
                heredoc.body_span = Span::new(end, body_end);
                end = body_end;
                instruction.heredocs.push(heredoc);
            }
            if let InstructionKind::Onbuild(inner) = &mut instruction.kind {
                inner.heredocs = instruction.heredocs.clone();
            }
        }
        instruction.span = Span::new(start, end);
        instruction.start_line = start_line;
        let text = &self.src[start..end];
        let newlines = count_newlines(text);
        instruction.end_line = start_line + newlines - usize::from(text.ends_with('\n'));
        if let InstructionKind::Onbuild(inner) = &mut instruction.kind {
            inner.start_line = instruction.start_line;
            inner.end_line = instruction.end_line;
        }
        let index = self.instructions.len();
        self.instructions.push(instruction);
        self.push_item_with_newlines(ItemKind::Instruction(index), end - start, newlines);
        Ok(())
    }

    /// Reads a heredoc body starting at `from`; returns the end of the
    /// terminator line and the content (lines with their terminators).
    fn heredoc_body(
        &self,
        from: usize,
        heredoc: &Heredoc,
        instruction_start: usize,
    ) -> Result<(usize, String), ParseError> {
        let mut pos = from;
        let mut content = String::new();
        while pos < self.src.len() {
            let line_end = self.src[pos..]
                .find('\n')
                .map(|i| pos + i + 1)
                .unwrap_or(self.src.len());
            let line = &self.src[pos..line_end];
            let mut candidate = line.trim_end_matches(['\r', '\n']);
            if heredoc.chomp {
                candidate = candidate.trim_start_matches('\t');
            }
            if candidate == heredoc.name {
                return Ok((line_end, content));
            }
            content.push_str(line);
            pos = line_end;
        }
        Err(ParseError::new(
            format!("unterminated heredoc: no line `{}` ends it", heredoc.name),
            Span::new(
                instruction_start,
                instruction_start
                    + self.src[instruction_start..]
                        .find('\n')
                        .unwrap_or(self.src.len() - instruction_start),
            ),
        ))
    }
}

/// An upper bound for the end of the item starting at `pos`: the end of the
/// first line after which no continuation can follow. A line may continue the
/// item if it ends with the escape character (trailing blanks ignored); comment
/// and blank lines inside a continuation are skipped. This over-approximates
/// the grammar (e.g. it ignores that `\\` does not continue), which is safe:
/// the grammar decides where the item really ends.
fn item_bound(src: &str, pos: usize, escape: char) -> usize {
    let bytes = src.as_bytes();
    let mut line_start = pos;
    let mut first = true;
    loop {
        let line_end = memchr_newline(bytes, line_start);
        let line = &src[line_start..line_end];
        let content = line.trim_end_matches([' ', '\t', '\r', '\n']);
        let skippable = !first && {
            let t = line.trim_start_matches(char::is_whitespace);
            t.is_empty() || t.starts_with('#')
        };
        let continues = content.ends_with(escape);
        if line_end >= src.len() {
            return src.len();
        }
        if !skippable && !continues {
            return line_end;
        }
        first = false;
        line_start = line_end;
    }
}

/// The offset just after the next `\n` at or after `from` (or the end).
fn memchr_newline(bytes: &[u8], from: usize) -> usize {
    memchr::memchr(b'\n', &bytes[from..])
        .map(|i| from + i + 1)
        .unwrap_or(bytes.len())
}

fn physical_instruction(
    pair: pest::iterators::Pair<'_, Rule>,
    src: &str,
    base: usize,
) -> PhysicalInstruction {
    let end = base + pair.as_span().end();
    let mut text = String::with_capacity(pair.as_span().end() - pair.as_span().start());
    // (logical_start, source_start, len); contiguous runs are merged so that a
    // piece is always a maximal run of source bytes.
    let mut pieces: Vec<(usize, usize, usize)> = Vec::with_capacity(4);
    let mut previous_end: Option<usize> = None;
    for inner in pair.into_inner() {
        if !matches!(
            inner.as_rule(),
            Rule::segment_bs
                | Rule::segment_bt
                | Rule::text_bs
                | Rule::text_bt
                | Rule::escaped_bs
                | Rule::escaped_bt
        ) {
            continue;
        }
        let span = inner.as_span();
        let mut start = base + span.start();
        let stop = base + span.end();
        if let Some(previous) = previous_end {
            // A run after a line continuation starts after its line's indent
            // (the chunk rules read it); the logical line keeps that indent.
            let line = line_start(src, start);
            if line > previous {
                start = line;
            }
        }
        previous_end = Some(stop);
        if start == stop {
            continue;
        }
        match pieces.last_mut() {
            Some((_, piece_start, len)) if *piece_start + *len == start => *len += stop - start,
            _ => pieces.push((text.len(), start, stop - start)),
        }
        text.push_str(&src[start..stop]);
    }
    if pieces.is_empty() {
        pieces.push((0, base, 0));
    }
    PhysicalInstruction {
        logical: LogicalText { text, pieces },
        end,
    }
}

/// The start of the physical line holding `pos`.
fn line_start(src: &str, pos: usize) -> usize {
    src.as_bytes()[..pos]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1)
}

fn count_newlines(text: &str) -> usize {
    memchr::memchr_iter(b'\n', text.as_bytes()).count()
}

fn span_without_newline(src: &str, span: Span) -> Span {
    let text = &src[span.range()];
    let trimmed = text.trim_end_matches(['\r', '\n']);
    Span::new(span.start, span.start + trimmed.len())
}

fn dominant_line_ending(src: &str, lf: usize) -> LineEnding {
    let bytes = src.as_bytes();
    // `\r` is rare in LF files, so this is cheaper than searching for "\r\n".
    let crlf = memchr::memchr_iter(b'\r', bytes)
        .filter(|&i| bytes.get(i + 1) == Some(&b'\n'))
        .count();
    if crlf * 2 > lf {
        LineEnding::CrLf
    } else {
        LineEnding::Lf
    }
}

fn can_contain_heredoc(instruction: &Instruction) -> bool {
    let target = match &instruction.kind {
        InstructionKind::Onbuild(inner) => &inner.kind,
        other => other,
    };
    match target {
        InstructionKind::Run(command) => !command.is_exec(),
        InstructionKind::Copy(args) | InstructionKind::Add(args) => !args.json,
        _ => false,
    }
}

/// BuildKit's `heredocsFromLine`: every shell word of the logical line of the
/// form `[fd]<<[-]NAME` starts a heredoc, unless BuildKit's shell lexer fails
/// on the line ([`words::buildkit_lex_fails`]).
fn heredocs_from_line(line: &str) -> Vec<Heredoc> {
    let mut docs = Vec::new();
    // BuildKit ignores the lexer's error: no words, no heredocs.
    if words::buildkit_lex_fails(line) {
        return docs;
    }
    let raw_words = words::raw_shell_words(line);
    let mut iter = raw_words.iter().peekable();
    while let Some(&(s, e)) = iter.next() {
        let word = &line[s..e];
        // ^(\d*)<<(-?)([^<]*)$
        let digits = word.bytes().take_while(|b| b.is_ascii_digit()).count();
        let Some(after) = word[digits..].strip_prefix("<<") else {
            continue;
        };
        let (chomp, mut rest) = match after.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, after),
        };
        if rest.is_empty() {
            // `<<  EOF`: white space between the operator and the delimiter
            // (BuildKit's heredoc tests expect `EOF` here, as a shell would).
            match iter.peek() {
                Some(&&(ns, ne)) => {
                    rest = &line[ns..ne];
                    iter.next();
                }
                None => continue,
            }
        }
        if rest.is_empty() || rest.contains('<') {
            continue;
        }
        let Some(name) = words::unquote_shell_word(rest) else {
            continue;
        };
        let quotes = |t: &str| t.chars().filter(|&c| c == '\'' || c == '"').count();
        let expand = quotes(&name) == quotes(rest);
        let file_descriptor = word[..digits].parse::<u32>().unwrap_or(0);
        docs.push(Heredoc {
            name,
            content: String::new(),
            expand,
            chomp,
            file_descriptor,
            body_span: Span::default(),
        });
    }
    docs
}

/// Builds an instruction from its logical line (BuildKit's `newNodeFromLine`
/// plus the argument checks of its instruction parser).
fn build_instruction(
    src: &str,
    full: LogicalText,
    span: Span,
    escape: char,
) -> Result<Instruction, ParseError> {
    let text = full.text.as_str();
    let (a, b) = words::trim_space(text, 0, text.len());
    let trimmed = &text[a..b];
    let (kw, rest) = words::split_token_ws2(trimmed);
    let keyword = trimmed[kw.0..kw.1].to_string();
    let keyword_span = full.map_span(a + kw.0, a + kw.1);
    let mut flags = Vec::new();
    let mut args_range = (b, b);
    if let Some((rs, re)) = rest {
        let rest_text = &trimmed[rs..re];
        let (remaining, raw_flags) = words::extract_builder_flags(rest_text);
        let base = a + rs;
        for f in raw_flags {
            let body = f.value.strip_prefix("--").unwrap_or(&f.value);
            let (name, value) = match body.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (body.to_string(), None),
            };
            flags.push(Flag {
                name,
                value,
                span: full.map_span(base + f.start, base + f.end),
            });
        }
        args_range = words::trim_space(text, base + remaining, a + re);
    }
    let args_span = if args_range.0 < args_range.1 {
        full.map_span(args_range.0, args_range.1)
    } else {
        let at = keyword_span
            .end
            .max(flags.last().map(|f: &Flag| f.span.end).unwrap_or(0));
        Span::new(at, at)
    };
    let logical = full.into_slice(args_range.0, args_range.1);
    let ctx = ArgsContext {
        src,
        keyword: &keyword,
        keyword_span,
        logical: &logical,
        args_span,
        escape,
    };
    // Lower-case the keyword on the stack (the longest is 11 bytes).
    let mut lower_buf = [0u8; 12];
    let lower = match keyword.len() {
        n @ 1..=12 => {
            lower_buf[..n].copy_from_slice(keyword.as_bytes());
            lower_buf[..n].make_ascii_lowercase();
            std::str::from_utf8(&lower_buf[..n]).unwrap_or("")
        }
        _ => "",
    };
    let kind = match lower {
        "from" => ctx.from()?,
        "run" => {
            let command = ctx.maybe_json()?;
            if command_is_empty(&command) {
                return Err(ctx.missing("RUN requires at least one argument"));
            }
            InstructionKind::Run(command)
        }
        "cmd" => InstructionKind::Cmd(ctx.maybe_json()?),
        "entrypoint" => InstructionKind::Entrypoint(ctx.maybe_json()?),
        "shell" => match ctx.maybe_json()? {
            Command::Exec { args, .. } if !args.is_empty() => InstructionKind::Shell(args),
            Command::Exec { .. } => return Err(ctx.missing("SHELL requires at least one argument")),
            Command::Shell { text, .. } if text.is_empty() => {
                return Err(ctx.missing("SHELL requires at least one argument"))
            }
            Command::Shell { .. } => return Err(ParseError::new(
                "SHELL requires the arguments to be in JSON form, e.g. SHELL [\"/bin/sh\", \"-c\"]",
                args_span,
            )),
        },
        "healthcheck" => InstructionKind::Healthcheck(ctx.healthcheck()?),
        "copy" => InstructionKind::Copy(ctx.copy_args("COPY")?),
        "add" => InstructionKind::Add(ctx.copy_args("ADD")?),
        "env" => InstructionKind::Env(ctx.name_val("ENV")?),
        "label" => InstructionKind::Label(ctx.name_val("LABEL")?),
        "arg" => InstructionKind::Arg(ctx.arg()?),
        "expose" => {
            let list = ctx.whitespace_words();
            if list.is_empty() {
                return Err(ctx.missing("EXPOSE requires at least one argument"));
            }
            InstructionKind::Expose(list)
        }
        "volume" => {
            let (list, _) = ctx.json_or_words()?;
            if list.is_empty() {
                return Err(ctx.missing("VOLUME requires at least one argument"));
            }
            InstructionKind::Volume(list)
        }
        "user" => InstructionKind::User(ctx.string("USER")?),
        "workdir" => InstructionKind::Workdir(ctx.string("WORKDIR")?),
        "stopsignal" => InstructionKind::Stopsignal(ctx.string("STOPSIGNAL")?),
        "maintainer" => InstructionKind::Maintainer(ctx.string("MAINTAINER")?),
        "onbuild" => {
            if logical.text.is_empty() {
                return Err(ctx.missing("ONBUILD requires at least one argument"));
            }
            let inner = build_instruction(src, logical.clone(), args_span, escape)?;
            match inner.name() {
                "onbuild" => {
                    return Err(ParseError::new(
                        "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed",
                        inner.keyword_span,
                    ))
                }
                "from" | "maintainer" => {
                    return Err(ParseError::new(
                        format!(
                            "{} isn't allowed as an ONBUILD trigger",
                            inner.keyword.to_ascii_uppercase()
                        ),
                        inner.keyword_span,
                    ))
                }
                _ => {}
            }
            InstructionKind::Onbuild(Box::new(inner))
        }
        _ => {
            let message = if keyword.is_empty() {
                "expected an instruction".to_string()
            } else {
                let upper = keyword.to_ascii_uppercase();
                match closest_keyword(&upper) {
                    Some(k) => format!("unknown instruction: {upper} (did you mean {k}?)"),
                    None => format!("unknown instruction: {upper}"),
                }
            };
            return Err(ParseError::new(message, keyword_span));
        }
    };
    Ok(Instruction {
        span,
        keyword,
        keyword_span,
        flags,
        args_span,
        logical,
        kind,
        heredocs: Vec::new(),
        start_line: 0,
        end_line: 0,
    })
}

/// One string of an exec-form array: its decoded value and the byte range of
/// the JSON string (quotes included) in the text that was parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JsonString {
    pub value: String,
    pub start: usize,
    pub end: usize,
}

pub(crate) enum JsonArray {
    NotJson,
    NotAllStrings,
    Strings(Vec<JsonString>),
}

/// Runs the grammar's `json_array` rule on `text` (leading white space is
/// skipped, as BuildKit does), decoding strings like Go's `encoding/json`.
pub(crate) fn parse_json_array(text: &str) -> JsonArray {
    let trimmed = text.trim_start_matches(words::is_go_space);
    if !trimmed.starts_with('[') {
        return JsonArray::NotJson;
    }
    let offset = text.len() - trimmed.len();
    let Ok(mut pairs) = DockerfileGrammar::parse(Rule::json_array, trimmed) else {
        return JsonArray::NotJson;
    };
    let Some(array) = pairs.next() else {
        return JsonArray::NotJson;
    };
    let mut list = Vec::new();
    for element in array.into_inner() {
        match element.as_rule() {
            Rule::json_string => {
                let span = element.as_span();
                let chars = element
                    .into_inner()
                    .next()
                    .map(|p| p.as_str())
                    .unwrap_or("");
                list.push(JsonString {
                    value: decode_json_string(chars),
                    start: offset + span.start(),
                    end: offset + span.end(),
                });
            }
            Rule::json_other => return JsonArray::NotAllStrings,
            _ => {}
        }
    }
    JsonArray::Strings(list)
}

/// Decodes the inside of a JSON string the grammar validated. Like Go, an
/// unpaired surrogate escape becomes U+FFFD.
fn decode_json_string(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('b') => out.push('\u{08}'),
            Some('f') => out.push('\u{0C}'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('u') => {
                let hex4 = |chars: &mut std::str::Chars<'_>| -> Option<u32> {
                    let s: String = chars.by_ref().take(4).collect();
                    u32::from_str_radix(&s, 16).ok()
                };
                let Some(unit) = hex4(&mut chars) else {
                    out.push('\u{FFFD}');
                    continue;
                };
                if (0xD800..0xDC00).contains(&unit) {
                    // A high surrogate: valid only when a low one follows.
                    let mut look = chars.clone();
                    if look.next() == Some('\\') && look.next() == Some('u') {
                        if let Some(low) = hex4(&mut look) {
                            if (0xDC00..0xE000).contains(&low) {
                                let code = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                                out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                                chars = look;
                                continue;
                            }
                        }
                    }
                    out.push('\u{FFFD}');
                } else {
                    out.push(char::from_u32(unit).unwrap_or('\u{FFFD}'));
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

const KEYWORDS: [&str; 18] = [
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// The instruction keyword closest to `word` (edit distance 1, or 2 for longer words).
fn closest_keyword(word: &str) -> Option<&'static str> {
    fn distance(a: &[u8], b: &[u8]) -> usize {
        let mut prev: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.iter().enumerate() {
            let mut cur = vec![i + 1; b.len() + 1];
            for (j, cb) in b.iter().enumerate() {
                let cost = usize::from(ca != cb);
                cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
            }
            prev = cur;
        }
        prev[b.len()]
    }
    if word.len() > 16 {
        return None;
    }
    KEYWORDS
        .iter()
        .map(|k| (distance(word.as_bytes(), k.as_bytes()), *k))
        .filter(|&(d, _)| d == 1 || (d == 2 && word.len() >= 5))
        .min_by_key(|&(d, _)| d)
        .map(|(_, k)| k)
}

fn command_is_empty(command: &Command) -> bool {
    match command {
        Command::Shell { text, .. } => text.is_empty(),
        Command::Exec { .. } => false,
    }
}

struct ArgsContext<'a> {
    #[allow(dead_code)]
    src: &'a str,
    keyword: &'a str,
    keyword_span: Span,
    logical: &'a LogicalText,
    args_span: Span,
    escape: char,
}

impl ArgsContext<'_> {
    fn missing(&self, message: &str) -> ParseError {
        let span = if self.args_span.is_empty() {
            self.keyword_span
        } else {
            self.args_span
        };
        ParseError::new(message, span)
    }

    fn word(&self, start: usize, end: usize, value: String) -> Word {
        Word {
            value,
            span: self.logical.map_span(start, end),
        }
    }

    fn whitespace_words(&self) -> Vec<Word> {
        let text = &self.logical.text;
        words::split_token_ws(text)
            .into_iter()
            .map(|(s, e)| self.word(s, e, text[s..e].to_string()))
            .collect()
    }

    fn from(&self) -> Result<InstructionKind, ParseError> {
        let list = self.whitespace_words();
        let mut iter = list.into_iter();
        let Some(image) = iter.next() else {
            return Err(self.missing("FROM requires either one or three arguments"));
        };
        let rest: Vec<Word> = iter.collect();
        let alias = match rest.as_slice() {
            [] => None,
            [as_kw, name] if as_kw.value.eq_ignore_ascii_case("as") => Some(name.clone()),
            _ => {
                return Err(ParseError::new(
                    "FROM requires either one or three arguments (FROM image [AS name])",
                    self.args_span,
                ))
            }
        };
        Ok(InstructionKind::From(From { image, alias }))
    }

    /// BuildKit's `parseJSON`: `Ok(Some(args))` for a JSON array of strings
    /// (with their logical ranges), `Ok(None)` when the text is not JSON (shell
    /// form), an error for a JSON array with non-string elements.
    fn json(&self, text: &str) -> Result<Option<Vec<JsonString>>, ParseError> {
        match parse_json_array(text) {
            JsonArray::NotJson => Ok(None),
            JsonArray::Strings(list) => Ok(Some(list)),
            JsonArray::NotAllStrings => Err(ParseError::new(
                format!(
                    "{}: when using JSON array syntax, arrays must be comprised of strings only",
                    self.keyword.to_ascii_uppercase()
                ),
                self.args_span,
            )),
        }
    }

    fn maybe_json(&self) -> Result<Command, ParseError> {
        let text = &self.logical.text;
        if let Some(list) = self.json(text)? {
            return Ok(Command::Exec {
                args: list.into_iter().map(|s| s.value).collect(),
                span: self.args_span,
            });
        }
        Ok(Command::Shell {
            text: text.clone(),
            span: self.args_span,
        })
    }

    fn json_or_words(&self) -> Result<(Vec<Word>, bool), ParseError> {
        if let Some(list) = self.json(&self.logical.text)? {
            let list = list
                .into_iter()
                .map(|s| self.word(s.start, s.end, s.value))
                .collect();
            return Ok((list, true));
        }
        Ok((self.whitespace_words(), false))
    }

    fn copy_args(&self, name: &str) -> Result<CopyArgs, ParseError> {
        let (mut list, json) = self.json_or_words()?;
        if list.len() < 2 {
            return Err(self.missing(&format!(
                "{name} requires at least two arguments: one or more sources and a destination"
            )));
        }
        let dest = list.pop().expect("at least two words");
        Ok(CopyArgs {
            sources: list,
            dest,
            json,
        })
    }

    fn healthcheck(&self) -> Result<Healthcheck, ParseError> {
        let text = self.logical.text.as_str();
        let sep = text
            .char_indices()
            .find(|&(_, c)| words::is_go_space(c))
            .map(|(i, _)| i)
            .unwrap_or(text.len());
        if sep == 0 {
            return Ok(Healthcheck::Empty);
        }
        let next = text[sep..]
            .char_indices()
            .find(|&(_, c)| !words::is_go_space(c))
            .map(|(i, _)| sep + i)
            .unwrap_or(text.len());
        let kind = self.word(0, sep, text[..sep].to_string());
        let sub = self.logical.slice(next, text.len());
        let sub_span = if next < text.len() {
            self.logical.map_span(next, text.len())
        } else {
            Span::new(kind.span.end, kind.span.end)
        };
        let command = match self.json(&sub.text)? {
            Some(list) => Command::Exec {
                args: list.into_iter().map(|s| s.value).collect(),
                span: sub_span,
            },
            None => Command::Shell {
                text: sub.text.clone(),
                span: sub_span,
            },
        };
        if kind.value.eq_ignore_ascii_case("none") {
            if !command_is_empty(&command) {
                return Err(ParseError::new(
                    "HEALTHCHECK NONE takes no arguments",
                    sub_span,
                ));
            }
            return Ok(Healthcheck::None);
        }
        if kind.value.eq_ignore_ascii_case("cmd") {
            return Ok(Healthcheck::Cmd(command));
        }
        Ok(Healthcheck::Other { kind, command })
    }

    fn name_val(&self, key: &str) -> Result<Vec<KeyValue>, ParseError> {
        let text = self.logical.text.as_str();
        let list = words::parse_words(text, self.escape);
        let Some(first) = list.first() else {
            return Err(self.missing(&format!("{key} requires at least one argument")));
        };
        if !first.value.contains('=') {
            let (k, v) = words::split_token_ws2(text);
            let Some((vs, ve)) = v else {
                return Err(self.missing(&format!(
                    "{key} must have two arguments: {key} name value (or {key} name=value)"
                )));
            };
            return Ok(vec![KeyValue {
                key: text[k.0..k.1].to_string(),
                value: text[vs..ve].to_string(),
                equals: false,
                span: self.args_span,
            }]);
        }
        let mut pairs = Vec::with_capacity(list.len());
        for RawWord { value, start, end } in list {
            let Some((k, v)) = value.split_once('=') else {
                return Err(ParseError::new(
                    format!(
                        "Syntax error - can't find = in {value:?}. Must be of the form: name=value"
                    ),
                    self.logical.map_span(start, end),
                ));
            };
            pairs.push(KeyValue {
                key: k.to_string(),
                value: v.to_string(),
                equals: true,
                span: self.logical.map_span(start, end),
            });
        }
        Ok(pairs)
    }

    fn arg(&self) -> Result<Vec<ArgDecl>, ParseError> {
        let list = words::parse_words(&self.logical.text, self.escape);
        if list.is_empty() {
            return Err(self.missing("ARG requires at least one argument"));
        }
        Ok(list
            .into_iter()
            .map(|w| {
                let (name, default) = match w.value.split_once('=') {
                    Some((n, d)) => (n.to_string(), Some(d.to_string())),
                    None => (w.value.clone(), None),
                };
                ArgDecl {
                    name,
                    default,
                    span: self.logical.map_span(w.start, w.end),
                }
            })
            .collect())
    }

    fn string(&self, name: &str) -> Result<Word, ParseError> {
        let text = &self.logical.text;
        if text.is_empty() {
            return Err(self.missing(&format!("{name} requires exactly one argument")));
        }
        Ok(Word {
            value: text.clone(),
            span: self.args_span,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every byte of the logical text maps back to the same byte in the source.
    fn assert_map_is_faithful(df: &Dockerfile, inst: &Instruction) {
        let text = &inst.logical.text;
        for (i, c) in text.char_indices() {
            let at = inst.logical.map(i);
            assert_eq!(
                df.source[at..].chars().next(),
                Some(c),
                "logical offset {i} of {text:?}"
            );
        }
    }

    #[test]
    fn logical_text_maps_back_across_continuations_comments_and_crlf() {
        let src = "FROM alpine\r\nRUN apt-get update \\  \r\n# a comment\r\n\r\n    && apt-get install -y \\\r\n  curl\r\nCMD [\"sh\"]\r\n";
        let df = parse(src).unwrap();
        assert_eq!(df.print(), src);
        assert_eq!(df.line_ending, LineEnding::CrLf);
        let run = &df.instructions[1];
        assert_eq!(
            run.logical.text,
            "apt-get update     && apt-get install -y   curl"
        );
        assert_map_is_faithful(&df, run);
        // A word's span covers exactly the word, also at the end of a line.
        let pos = run.logical.text.find("-y").unwrap();
        let span = run.logical.map_span(pos, pos + 2);
        assert_eq!(&src[span.range()], "-y");
        let pos = run.logical.text.find("update").unwrap();
        let span = run.logical.map_span(pos, pos + 6);
        assert_eq!(&src[span.range()], "update");
        let pos = run.logical.text.find("curl").unwrap();
        let span = run.logical.map_span(pos, pos + 4);
        assert_eq!(&src[span.range()], "curl");
        assert_eq!((run.start_line, run.end_line), (2, 6));
        assert_eq!(&src[run.args_span.range()].chars().next(), &Some('a'));
        assert!(src[run.args_span.range()].ends_with("curl"));
        match &run.kind {
            InstructionKind::Run(Command::Shell { text, span }) => {
                assert_eq!(text, &run.logical.text);
                assert_eq!(*span, run.args_span);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn flags_and_stages() {
        let src = "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nRUN --mount=type=cache,target=/root/.cache go build\nFROM scratch\nCOPY --from=build /out /app\n";
        let df = parse(src).unwrap();
        let stages = df.stages();
        assert_eq!(stages.len(), 2);
        assert_eq!(stages[0].name.as_deref(), Some("build"));
        assert_eq!(stages[0].base, "golang:1.22");
        assert_eq!(stages[0].instructions, 0..2);
        let run = &df.instructions[1];
        let mount = run.flag("mount").unwrap();
        assert_eq!(
            mount.value.as_deref(),
            Some("type=cache,target=/root/.cache")
        );
        assert_eq!(
            &src[mount.span.range()],
            "--mount=type=cache,target=/root/.cache"
        );
        assert_eq!(run.logical.text, "go build");
        assert!(df.uses_buildkit());
    }

    #[test]
    fn heredocs_are_attached_and_bodies_are_part_of_the_item() {
        let src = "FROM alpine\nRUN <<EOF cat > /x\nhello\nEOF\nCOPY <<-A <<B /dest\n\tone\n\tA\ntwo\nB\n";
        let df = parse(src).unwrap();
        assert_eq!(df.print(), src);
        assert_eq!(df.instructions.len(), 3);
        let run = &df.instructions[1];
        assert_eq!(run.heredocs[0].name, "EOF");
        assert_eq!(run.heredocs[0].content, "hello\n");
        assert_eq!(&src[run.heredocs[0].body_span.range()], "hello\nEOF\n");
        let copy = &df.instructions[2];
        assert_eq!(copy.heredocs.len(), 2);
        assert!(copy.heredocs[0].chomp);
        assert_eq!(copy.heredocs[0].chomped_content(), "one\n");
        assert_eq!(copy.heredocs[1].content, "two\n");
        assert_eq!((copy.start_line, copy.end_line), (5, 9));
    }

    #[test]
    fn errors_point_at_the_problem() {
        let src = "FROM alpine\nFOO bar\n";
        let err = parse(src).unwrap_err();
        assert_eq!(err.message, "unknown instruction: FOO");
        assert_eq!(&src[err.span.range()], "FOO");
        let typo = parse("FROM a\nRUNN x\n").unwrap_err();
        assert_eq!(
            typo.message,
            "unknown instruction: RUNN (did you mean RUN?)"
        );
        let rendered = err.render("Dockerfile", src, false);
        assert!(rendered.starts_with("Dockerfile:2:1: error: unknown instruction: FOO\n"));
        assert!(parse("FROM a\nRUN <<EOF\nno end\n").is_err());
        assert!(parse("").is_err());
        assert!(parse("# only\n\n").is_err());
        assert!(parse("FROM a\nENV PATH\n").is_err());
    }

    #[test]
    fn backtick_escape_directive() {
        let src = "# escape=`\nFROM windows\nRUN dir `\n  c:\\\n";
        let df = parse(src).unwrap();
        assert_eq!(df.escape, '`');
        assert_eq!(df.directives[0].name, "escape");
        assert_eq!(df.instructions[1].logical.text, "dir   c:\\");
    }
}

#[cfg(test)]
mod json_tests {
    use super::*;

    #[test]
    fn json_strings_decode_like_go() {
        let JsonArray::Strings(list) =
            parse_json_array(r#"  ["a\u00e9", "\ud83d\ude00", "\ud800x", "\" \\ \/ \b"]"#)
        else {
            panic!("not JSON")
        };
        let values: Vec<_> = list.iter().map(|s| s.value.as_str()).collect();
        assert_eq!(values, ["aé", "😀", "\u{FFFD}x", "\" \\ / \u{08}"]);
        assert_eq!(list[0].start, 3);
        assert!(matches!(
            parse_json_array("[\"a\", 1]"),
            JsonArray::NotAllStrings
        ));
        assert!(matches!(
            parse_json_array("[[\"a\"]]"),
            JsonArray::NotAllStrings
        ));
        assert!(matches!(parse_json_array("['a']"), JsonArray::NotJson));
        assert!(matches!(parse_json_array("[\"a\"] x"), JsonArray::NotJson));
        assert!(matches!(parse_json_array("[\"a\",]"), JsonArray::NotJson));
        assert!(matches!(parse_json_array("[]"), JsonArray::Strings(ref l) if l.is_empty()));
    }

    #[test]
    fn exec_arg_spans_point_at_each_string() {
        let src =
            "FROM a\nCMD [\"echo\", \\\n  \"hi there\"]\nHEALTHCHECK CMD [\"curl\", \"-f\"]\n";
        let df = parse(src).unwrap();
        let spans = df.instructions[1].exec_arg_spans().unwrap();
        let texts: Vec<_> = spans.iter().map(|s| &src[s.range()]).collect();
        assert_eq!(texts, ["\"echo\"", "\"hi there\""]);
        let spans = df.instructions[2].exec_arg_spans().unwrap();
        let texts: Vec<_> = spans.iter().map(|s| &src[s.range()]).collect();
        assert_eq!(texts, ["\"curl\"", "\"-f\""]);
        assert!(df.instructions[0].exec_arg_spans().is_none());
    }
}

#[cfg(test)]
mod limit_tests {
    use super::*;

    #[test]
    fn deeply_nested_json_does_not_overflow_the_stack() {
        // 30,000 levels and back fit in BuildKit's 65,535-byte line.
        for depth in [1_000, 30_000] {
            let src = format!("FROM a\nCMD {}\n", "[".repeat(depth));
            let df = parse(&src).unwrap();
            assert!(!matches!(&df.instructions[1].kind, InstructionKind::Cmd(c) if c.is_exec()));
            let src = format!("FROM a\nCMD {}{}\n", "[".repeat(depth), "]".repeat(depth));
            // Valid JSON with a nested array: rejected, or (beyond the grammar's
            // depth limit) taken as shell form; never a crash.
            let _ = parse(&src);
        }
    }

    #[test]
    fn no_heredoc_on_a_line_buildkits_lexer_rejects() {
        // BuildKit's heredocsFromLine ignores the lexer's error and finds no
        // words: the `<<X` starts no heredoc and the next line is an instruction.
        for run in [
            "RUN echo ${a^^} cat <<X",
            "RUN echo ${#a} <<X",
            "RUN echo ${a//b} <<X",
            "RUN echo ${} && cat <<X",
            "COPY ${!a} <<X /x",
        ] {
            let src = format!("FROM a\n{run}\nRUN true\n");
            let df = parse(&src).unwrap_or_else(|e| panic!("{run}: {e}"));
            assert!(df.instructions[1].heredocs.is_empty(), "{run}");
            assert_eq!(df.instructions.len(), 3, "{run}");
        }
        // The lexer accepts these: heredocs as before.
        for run in ["RUN echo ${a##*-} cat <<X", "RUN echo ${a:-b} ${c%%.*} <<X"] {
            let src = format!("FROM a\n{run}\nbody\nX\n");
            let df = parse(&src).unwrap_or_else(|e| panic!("{run}: {e}"));
            assert_eq!(df.instructions[1].heredocs.len(), 1, "{run}");
        }
    }

    #[test]
    fn lines_over_buildkits_limit_are_rejected() {
        for (body, ok) in [
            ("a".repeat(MAX_LINE_BYTES - 9), true),
            ("a".repeat(MAX_LINE_BYTES - 8), false),
        ] {
            // "RUN echo " is 9 bytes: the line is exactly 65,535 bytes, then one more.
            for end in ["\n", "", "\nRUN true\n"] {
                let src = format!("FROM a\nRUN echo {body}{end}");
                let result = parse(&src);
                assert_eq!(result.is_ok(), ok, "{} bytes, end {end:?}", body.len() + 9);
                if let Err(e) = result {
                    assert_eq!(e.line_col(&src).0, 2);
                    assert!(e.message.contains("max allowed size of 65535"));
                }
            }
        }
        // A `\r` before the `\n` counts, as in BuildKit.
        let src = format!("FROM a\r\nRUN echo {}\r\n", "a".repeat(MAX_LINE_BYTES - 9));
        assert!(parse(&src).is_err());
        // Many lines are fine however long the file.
        let src = format!("FROM a\n{}", "RUN echo hello\n".repeat(10_000));
        assert!(parse(&src).is_ok());
    }

    #[test]
    fn long_lines_and_many_continuations() {
        let mut src = String::from("FROM a\nRUN x");
        for _ in 0..20_000 {
            src.push_str(" \\\n  && y");
        }
        src.push('\n');
        let df = parse(&src).unwrap();
        assert_eq!(df.print(), src);
        assert_eq!(df.instructions[1].end_line, 20_002);
    }
}

#[cfg(test)]
mod chunk_tests {
    use super::*;

    /// `ws_char` spells Unicode's White_Space minus "\n" as single-character
    /// matches; check it against the Unicode property (Rust's `is_whitespace`)
    /// for every character up to U+3100 (all white space is below U+3001), as
    /// an indent and as the indent of a comment line inside a continuation.
    #[test]
    fn indent_characters_are_unicode_white_space() {
        for c in (0..0x3100u32).filter_map(char::from_u32) {
            if c == '\n' {
                continue;
            }
            let src = format!("FROM a\n{c}RUN x\n");
            let indent = parse(&src)
                .is_ok_and(|df| df.instructions.len() == 2 && df.instructions[1].keyword == "RUN");
            assert_eq!(indent, c.is_whitespace(), "{c:?} as an indent");
            same(&src);
            let src = format!("RUN a \\\n{c}# note\n b\n");
            let skipped = parse(&src).is_ok_and(|df| df.instructions[0].logical.text == "a  b");
            assert_eq!(
                skipped,
                c.is_whitespace() || c == '#',
                "{c:?} before a skipped comment"
            );
            same(&src);
        }
    }

    fn same(text: &str) {
        let a = parse(text);
        let b = parse_item_by_item(text);
        assert_eq!(format!("{a:?}"), format!("{b:?}"), "input: {text:?}");
    }

    #[test]
    fn heredoc_operator_split_by_a_continuation() {
        let src = "FROM a\nRUN <\\\n<EOF\nbody\nEOF\nRUN x\n";
        same(src);
        let df = parse(src).unwrap();
        assert_eq!(df.instructions.len(), 3);
        assert_eq!(df.instructions[1].heredocs[0].content, "body\n");
        assert_eq!(df.print(), src);
    }

    #[test]
    fn chunked_parse_equals_item_by_item_parse() {
        let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus"));
        let mut inputs = Vec::new();
        for sub in ["real", "parser/language-docker"] {
            for entry in std::fs::read_dir(dir.join(sub)).unwrap() {
                let bytes = std::fs::read(entry.unwrap().path()).unwrap();
                if let Ok((text, _)) = super::super::decode(&bytes) {
                    inputs.push(text);
                }
            }
        }
        for text in &inputs {
            same(text);
            same(&text.replace('\n', "\r\n"));
        }
        // Token soups from a small deterministic generator.
        let tokens = [
            "RUN a",
            "FROM x",
            "COPY <<EOF /d",
            "EOF",
            "\\",
            "\\\\",
            "`",
            "\n",
            "\r\n",
            "\r",
            " ",
            "\t",
            "# c",
            "#",
            "<<",
            "<<-E",
            "\tE",
            "\u{A0}",
            "ENV a=b",
            "x \\ \n",
            "RUN <\\\n<E\n",
            "E\n",
            "\\\\\\",
            "\\ \r\n",
            "\\\t\n",
            "``",
            "` \n",
            "\r\r\n",
            "  # c \\\n",
            "\u{2028}",
            "\u{3000}",
            "\u{85}",
            "\x0B",
        ];
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..30_000 {
            let mut text = String::new();
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let n = (state % 24) as usize;
            for _ in 0..n {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                text.push_str(tokens[(state % tokens.len() as u64) as usize]);
            }
            same(&text);
            same(&format!("# escape=`\n{text}"));
        }
    }
}
