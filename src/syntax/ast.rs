//! The typed, lossless Dockerfile tree.
//!
//! Every node carries a [`Span`] of byte offsets into [`Dockerfile::source`]. The
//! top-level [`Dockerfile::items`] tile the whole source: concatenating the text of
//! their spans, in order, gives back the input byte for byte (see
//! [`Dockerfile::print`]). Passes never re-print nodes they did not change; they
//! produce byte-range edits against `source` instead (see `crate::fix`).
//!
//! Offsets are byte offsets into the original text, *including* a UTF-8 byte order
//! mark if the file has one (the BOM is its own [`ItemKind::Bom`] item).

use serde::Serialize;

/// A half-open byte range `start..end` into the original source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        debug_assert!(start <= end);
        Span { start, end }
    }
    pub fn len(&self) -> usize {
        self.end - self.start
    }
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
    pub fn text<'a>(&self, source: &'a str) -> &'a str {
        &source[self.start..self.end]
    }
    pub fn range(&self) -> std::ops::Range<usize> {
        self.start..self.end
    }
}

/// The line ending style that dominates a file; rewrites insert new lines with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum LineEnding {
    Lf,
    CrLf,
}

impl LineEnding {
    pub fn as_str(&self) -> &'static str {
        match self {
            LineEnding::Lf => "\n",
            LineEnding::CrLf => "\r\n",
        }
    }
}

/// A parsed Dockerfile.
#[derive(Debug, Clone, Serialize)]
pub struct Dockerfile {
    /// The original text, untouched.
    #[serde(skip)]
    pub source: String,
    /// The escape character in force (`\` unless a `# escape=` directive says otherwise).
    pub escape: char,
    /// The dominant line ending of the file.
    pub line_ending: LineEnding,
    /// Parser directives (`# syntax=`, `# escape=`, `# check=`), in order.
    pub directives: Vec<Directive>,
    /// Instructions in file order (ONBUILD triggers are nested, not listed here).
    pub instructions: Vec<Instruction>,
    /// Items that tile the whole source, in order. `Instruction` items refer to
    /// `instructions` by index.
    pub items: Vec<Item>,
}

impl Dockerfile {
    /// Prints the tree back to text. For every accepted input this equals the input.
    pub fn print(&self) -> String {
        let mut out = String::with_capacity(self.source.len());
        for item in &self.items {
            out.push_str(item.span.text(&self.source));
        }
        out
    }

    /// The text of a span of this file.
    pub fn text(&self, span: Span) -> &str {
        span.text(&self.source)
    }

    /// 1-based (line, column) of a byte offset; the column counts characters.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        line_col(&self.source, offset)
    }

    /// True if the file opts into BuildKit-only syntax already: a `# syntax=`
    /// directive, or a BuildKit-only feature (heredocs, `RUN --mount`, `COPY --link`,
    /// `--chmod`, `--parents`, `--exclude`...). Rewrites may then use such features.
    pub fn uses_buildkit(&self) -> bool {
        if self
            .directives
            .iter()
            .any(|d| d.name.eq_ignore_ascii_case("syntax"))
        {
            return true;
        }
        self.instructions.iter().any(|i| {
            !i.heredocs.is_empty()
                || i.flags.iter().any(|f| {
                    matches!(
                        f.name.as_str(),
                        "mount" | "network" | "security" | "link" | "chmod" | "parents" | "exclude"
                    )
                })
        })
    }

    /// The build stages: each begins at a FROM and runs until the next FROM.
    pub fn stages(&self) -> Vec<Stage> {
        let mut stages: Vec<Stage> = Vec::new();
        for (idx, inst) in self.instructions.iter().enumerate() {
            if let InstructionKind::From(from) = &inst.kind {
                if let Some(last) = stages.last_mut() {
                    last.instructions.end = idx;
                }
                stages.push(Stage {
                    index: stages.len(),
                    name: from.alias.as_ref().map(|a| a.value.clone()),
                    base: from.image.value.clone(),
                    from_instruction: idx,
                    instructions: idx..self.instructions.len(),
                });
            }
        }
        stages
    }
}

/// 1-based (line, column) of a byte offset in `source`; the column counts characters.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = &source[..offset];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let col = source[line_start..offset].chars().count() + 1;
    (line, col)
}

/// One build stage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stage {
    /// 0-based stage index.
    pub index: usize,
    /// The `AS name`, if any.
    pub name: Option<String>,
    /// The base image as written (may contain `$VARS`).
    pub base: String,
    /// Index into `Dockerfile::instructions` of the stage's FROM.
    pub from_instruction: usize,
    /// Range of indices into `Dockerfile::instructions` (FROM included).
    pub instructions: std::ops::Range<usize>,
}

/// A top-level piece of the file. Items tile the source without gaps or overlap.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    pub kind: ItemKind,
    /// Includes the line terminator(s) that end the item, if any.
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ItemKind {
    /// A UTF-8 byte order mark at the very start.
    Bom,
    /// A parser directive line (index into `Dockerfile::directives`).
    Directive(usize),
    /// A comment line outside any instruction.
    Comment,
    /// An empty or whitespace-only line.
    Blank,
    /// An instruction (index into `Dockerfile::instructions`), including its
    /// continuation lines, comment/blank lines inside continuations, heredoc bodies
    /// and its final line terminator.
    Instruction(usize),
}

/// A parser directive such as `# syntax=docker/dockerfile:1`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Directive {
    /// Lower-cased name: `syntax`, `escape` or `check`.
    pub name: String,
    pub value: String,
    pub span: Span,
}

/// A single instruction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Instruction {
    /// From the first byte of the keyword's line (leading whitespace included) to
    /// the end of the instruction, line terminator and heredoc bodies included.
    pub span: Span,
    /// The keyword as written (any case).
    pub keyword: String,
    pub keyword_span: Span,
    /// Flags such as `--from=build` in order.
    pub flags: Vec<Flag>,
    /// Everything after the keyword and flags up to the end of the logical line,
    /// as a source span (continuations included, final line terminator excluded).
    pub args_span: Span,
    /// The arguments as one logical line: escaped newlines, the whitespace after
    /// the escape character, and comment/blank lines inside continuations removed,
    /// exactly as BuildKit builds it. `logical.map(i)` maps back to source offsets.
    pub logical: LogicalText,
    pub kind: InstructionKind,
    /// Heredocs attached to this instruction (RUN/COPY/ADD only).
    pub heredocs: Vec<Heredoc>,
    /// 1-based first and last line of the instruction (heredoc bodies included).
    pub start_line: usize,
    pub end_line: usize,
}

impl Instruction {
    /// The lower-case keyword.
    pub fn name(&self) -> &'static str {
        self.kind.name()
    }
    pub fn flag(&self, name: &str) -> Option<&Flag> {
        self.flags.iter().find(|f| f.name == name)
    }

    /// For an instruction in exec (JSON) form (RUN/CMD/ENTRYPOINT/SHELL,
    /// HEALTHCHECK CMD, COPY/ADD, and ONBUILD of those), the source span of each
    /// JSON string, quotes included, in order. `None` for the shell form.
    pub fn exec_arg_spans(&self) -> Option<Vec<Span>> {
        let logical = match &self.kind {
            InstructionKind::Onbuild(inner) => return inner.exec_arg_spans(),
            InstructionKind::Run(c) | InstructionKind::Cmd(c) | InstructionKind::Entrypoint(c)
                if c.is_exec() =>
            {
                self.logical.clone()
            }
            InstructionKind::Shell(_) => self.logical.clone(),
            InstructionKind::Copy(a) | InstructionKind::Add(a) if a.json => self.logical.clone(),
            InstructionKind::Healthcheck(Healthcheck::Cmd(c))
            | InstructionKind::Healthcheck(Healthcheck::Other { command: c, .. })
                if c.is_exec() =>
            {
                let text = &self.logical.text;
                let is_space = super::words::is_go_space;
                let sep = text.find(is_space).unwrap_or(text.len());
                let next = text[sep..]
                    .find(|c: char| !is_space(c))
                    .map(|i| sep + i)
                    .unwrap_or(text.len());
                self.logical.slice(next, text.len())
            }
            _ => return None,
        };
        match super::parser::parse_json_array(&logical.text) {
            super::parser::JsonArray::Strings(list) => Some(
                list.iter()
                    .map(|s| logical.map_span(s.start, s.end))
                    .collect(),
            ),
            _ => None,
        }
    }
}

/// Text with a map back to source offsets.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct LogicalText {
    pub text: String,
    /// Sorted pieces: `(logical_start, source_start, len)`. Each piece is a run of
    /// bytes copied verbatim from the source.
    #[serde(skip)]
    pub pieces: Vec<(usize, usize, usize)>,
}

impl LogicalText {
    /// Maps a byte offset in `text` to a byte offset in the source. An offset at
    /// the end of a piece maps to the end of that piece in the source.
    pub fn map(&self, logical: usize) -> usize {
        // Pieces are sorted and contiguous in logical space: binary search for
        // the first piece that contains `logical` strictly before its end.
        let idx = self
            .pieces
            .partition_point(|&(ls, _, len)| ls + len <= logical);
        match self.pieces.get(idx) {
            Some(&(ls, ss, _)) if logical >= ls => ss + (logical - ls),
            _ => {
                // At (or past) the end: the end of the last piece.
                self.pieces
                    .last()
                    .map(|&(_, ss, len)| ss + len)
                    .unwrap_or(0)
            }
        }
    }
    /// Maps a logical *end* offset to a source offset: an offset at the end of a
    /// piece maps to the end of that piece (not to the start of the next one), so
    /// a word that ends a physical line does not swallow the line continuation.
    pub fn map_end(&self, logical: usize) -> usize {
        // First piece whose logical end is >= `logical`.
        let idx = self
            .pieces
            .partition_point(|&(ls, _, len)| ls + len < logical);
        match self.pieces.get(idx) {
            Some(&(ls, ss, _)) if logical >= ls => ss + (logical - ls),
            Some(&(_, ss, _)) => ss,
            None => self
                .pieces
                .last()
                .map(|&(_, ss, len)| ss + len)
                .unwrap_or(0),
        }
    }
    /// Maps a logical span to a source span (start-biased start, end-biased end).
    pub fn map_span(&self, start: usize, end: usize) -> Span {
        let s = self.map(start);
        let e = if end > start { self.map_end(end) } else { s };
        Span::new(s, e.max(s))
    }
    /// The sub-text `start..end` (byte offsets on char boundaries of `text`) with
    /// its pieces clipped and shifted so that `map` keeps pointing into the source.
    /// Like [`LogicalText::slice`], reusing this text's buffers.
    pub fn into_slice(mut self, start: usize, end: usize) -> LogicalText {
        let end = end.min(self.text.len());
        let start = start.min(end);
        let anchor = self.map(start);
        self.pieces.retain_mut(|(ls, ss, len)| {
            let (a, b) = ((*ls).max(start), (*ls + *len).min(end));
            if a >= b {
                return false;
            }
            *ss += a - *ls;
            *ls = a - start;
            *len = b - a;
            true
        });
        if self.pieces.is_empty() {
            // Keep an anchor so that an empty slice still maps to a sensible place.
            self.pieces.push((0, anchor, 0));
        }
        self.text.truncate(end);
        self.text.drain(..start);
        self
    }
    pub fn slice(&self, start: usize, end: usize) -> LogicalText {
        let end = end.min(self.text.len());
        let start = start.min(end);
        let mut pieces = Vec::new();
        for &(ls, ss, len) in &self.pieces {
            let (a, b) = (ls.max(start), (ls + len).min(end));
            if a < b {
                pieces.push((a - start, ss + (a - ls), b - a));
            }
        }
        if pieces.is_empty() {
            // Keep an anchor so that an empty slice still maps to a sensible place.
            let anchor = self.map(start);
            pieces.push((0, anchor, 0));
        }
        LogicalText {
            text: self.text[start..end].to_string(),
            pieces,
        }
    }
}

/// A `--name=value` or `--name` flag.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flag {
    /// The name without the leading dashes.
    pub name: String,
    /// The value after `=`, as written, if any.
    pub value: Option<String>,
    /// The whole flag (`--name=value`).
    pub span: Span,
}

/// A word of an instruction's arguments (an image name, a path, a user...).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Word {
    /// The word as written (quotes kept, continuations removed).
    pub value: String,
    pub span: Span,
}

/// A command given in shell form or exec (JSON) form.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Command {
    /// Shell form: the logical text (see `Instruction::logical`).
    Shell { text: String, span: Span },
    /// Exec form: the decoded JSON strings.
    Exec { args: Vec<String>, span: Span },
}

impl Command {
    pub fn span(&self) -> Span {
        match self {
            Command::Shell { span, .. } | Command::Exec { span, .. } => *span,
        }
    }
    pub fn is_exec(&self) -> bool {
        matches!(self, Command::Exec { .. })
    }
    /// The argument vector: exec-form strings, or the shell text split at white
    /// space (a rough view, enough to name the program and its plain arguments).
    pub fn rough_argv(&self) -> Vec<String> {
        match self {
            Command::Exec { args, .. } => args.clone(),
            Command::Shell { text, .. } => text.split_whitespace().map(str::to_string).collect(),
        }
    }
}

/// A `key=value` (or legacy `key value`) pair of ENV or LABEL.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyValue {
    pub key: String,
    /// The value as written (quotes and escapes kept, as BuildKit's dump shows it).
    pub value: String,
    /// True for the `key=value` form, false for the legacy `KEY value` form.
    pub equals: bool,
    pub span: Span,
}

/// An ARG declaration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArgDecl {
    pub name: String,
    pub default: Option<String>,
    pub span: Span,
}

/// A heredoc attached to RUN/COPY/ADD.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Heredoc {
    /// The delimiter word with quotes removed.
    pub name: String,
    /// The body, exactly as BuildKit's parser stores it: every line with its line
    /// terminator, leading tabs kept even for `<<-` (see [`Heredoc::chomped_content`]).
    pub content: String,
    /// False when the delimiter was quoted (no variable expansion).
    pub expand: bool,
    /// True for `<<-`.
    pub chomp: bool,
    /// The file descriptor prefix (`3<<EOF`), default 0.
    pub file_descriptor: u32,
    /// The body lines and the terminating delimiter line.
    pub body_span: Span,
}

impl Heredoc {
    /// The content as it is used at build time: for `<<-`, leading tabs are
    /// removed from every line (BuildKit's `ChompHeredocContent`).
    pub fn chomped_content(&self) -> String {
        if !self.chomp {
            return self.content.clone();
        }
        self.content
            .split_inclusive('\n')
            .map(|line| line.trim_start_matches('\t'))
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct From {
    /// The image reference as written.
    pub image: Word,
    /// `AS name`.
    pub alias: Option<Word>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CopyArgs {
    /// Sources (heredoc sources appear as `<<EOF` words).
    pub sources: Vec<Word>,
    pub dest: Word,
    /// True for the JSON form.
    pub json: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Healthcheck {
    None,
    /// `HEALTHCHECK [options] CMD ...`; options are in `Instruction::flags`.
    Cmd(Command),
    /// `HEALTHCHECK` with no argument at all (BuildKit's parser accepts it).
    Empty,
    /// `HEALTHCHECK OTHER ...`: a type BuildKit's parser accepts but its builder
    /// rejects (`Unknown type "OTHER" in HEALTHCHECK (try CMD)`).
    Other {
        kind: Word,
        command: Command,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum InstructionKind {
    From(From),
    Run(Command),
    Cmd(Command),
    Entrypoint(Command),
    Shell(Vec<String>),
    Healthcheck(Healthcheck),
    Copy(CopyArgs),
    Add(CopyArgs),
    Env(Vec<KeyValue>),
    Label(Vec<KeyValue>),
    Arg(Vec<ArgDecl>),
    Expose(Vec<Word>),
    Volume(Vec<Word>),
    User(Word),
    Workdir(Word),
    Stopsignal(Word),
    Maintainer(Word),
    Onbuild(Box<Instruction>),
}

impl InstructionKind {
    /// The lower-case keyword.
    pub fn name(&self) -> &'static str {
        match self {
            InstructionKind::From(_) => "from",
            InstructionKind::Run(_) => "run",
            InstructionKind::Cmd(_) => "cmd",
            InstructionKind::Entrypoint(_) => "entrypoint",
            InstructionKind::Shell(_) => "shell",
            InstructionKind::Healthcheck(_) => "healthcheck",
            InstructionKind::Copy(_) => "copy",
            InstructionKind::Add(_) => "add",
            InstructionKind::Env(_) => "env",
            InstructionKind::Label(_) => "label",
            InstructionKind::Arg(_) => "arg",
            InstructionKind::Expose(_) => "expose",
            InstructionKind::Volume(_) => "volume",
            InstructionKind::User(_) => "user",
            InstructionKind::Workdir(_) => "workdir",
            InstructionKind::Stopsignal(_) => "stopsignal",
            InstructionKind::Maintainer(_) => "maintainer",
            InstructionKind::Onbuild(_) => "onbuild",
        }
    }
}
