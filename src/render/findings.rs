//! Finding lists: human text, JSON and GitHub workflow annotations (SARIF and
//! GitLab Code Quality are in their own files).

use super::style::{paint, CODE, DIM, SAFE, UNSAFE};
use crate::fix::{Finding, Safety};
use serde::Serialize;

/// The findings of one file, with the text they point into.
pub struct FileFindings<'a> {
    pub path: &'a str,
    pub source: &'a str,
    pub findings: &'a [Finding],
}

/// A file that could not be processed (unreadable, does not parse, or its
/// fixes do not converge), for machine output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileError {
    pub path: String,
    /// 1-based line and column (1:1 when the error is about the whole file).
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// An error in the JSON array: the finding fields (code `error`, fix `none`)
/// plus `"error": true`, so consumers that read findings keep working.
#[derive(Debug, Serialize)]
struct FlatError<'a> {
    path: &'a str,
    code: &'static str,
    name: &'static str,
    message: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    fix: &'static str,
    error: bool,
}

/// A finding flattened for machine output.
#[derive(Debug, Serialize)]
pub struct FlatFinding<'a> {
    pub path: &'a str,
    pub code: &'a str,
    pub name: &'a str,
    pub message: &'a str,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    /// `safe`, `unsafe`, or `none` when the pass offers no fix.
    pub fix: &'static str,
}

fn fix_label(f: &Finding) -> &'static str {
    match f.fix.as_ref().map(|x| x.safety) {
        Some(Safety::Safe) => "safe",
        Some(Safety::Unsafe) => "unsafe",
        None => "none",
    }
}

/// Line starts of a text, so that the line and column of an offset cost a
/// binary search and a scan of one line instead of a scan from the start
/// (which made rendering quadratic in the number of findings).
pub struct LineIndex<'a> {
    source: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(source: &'a str) -> Self {
        let starts = std::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', source.as_bytes()).map(|i| i + 1))
            .collect();
        LineIndex { source, starts }
    }

    /// Same as [`line_col`]: 1-based line, and 1-based column in characters.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.source.len());
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line - 1];
        let col = self
            .source
            .get(start..offset)
            .map(|s| s.chars().count())
            // Not a char boundary (a bug in a pass): count what is there.
            .unwrap_or_else(|| {
                String::from_utf8_lossy(&self.source.as_bytes()[start..offset])
                    .chars()
                    .count()
            });
        (line, col + 1)
    }
}

pub fn flatten<'a>(files: &'a [FileFindings<'a>]) -> Vec<FlatFinding<'a>> {
    let mut out = Vec::new();
    for file in files {
        let lines = LineIndex::new(file.source);
        for f in file.findings {
            let (line, column) = lines.line_col(f.span.start);
            let (end_line, end_column) = lines.line_col(f.span.end);
            out.push(FlatFinding {
                path: file.path,
                code: f.code,
                name: f.name,
                message: &f.message,
                line,
                column,
                end_line,
                end_column,
                fix: fix_label(f),
            });
        }
    }
    out
}

/// `path:line:col: CODE [safe] message`, one per line.
/// `unsafe_applied` says whether unsafe fixes are being applied in this run, so
/// the label can tell the user how to get them.
pub fn text(file: &FileFindings, unsafe_applied: bool) -> String {
    let mut out = String::new();
    let lines = LineIndex::new(file.source);
    for f in file.findings {
        let (line, col) = lines.line_col(f.span.start);
        let label = match f.fix.as_ref().map(|x| x.safety) {
            Some(Safety::Safe) => paint(SAFE, "[fix]"),
            Some(Safety::Unsafe) if unsafe_applied => paint(UNSAFE, "[unsafe fix]"),
            Some(Safety::Unsafe) => paint(UNSAFE, "[unsafe fix: --unsafe]"),
            None => paint(DIM, "[no fix]"),
        };
        out.push_str(&format!(
            "{}:{}:{}: {} {} {}\n",
            file.path,
            line,
            col,
            paint(CODE, f.code),
            label,
            f.message
        ));
    }
    out
}

/// A JSON array of flattened findings, followed by one entry per file error
/// (`"code": "error"`, `"error": true`).
pub fn json(files: &[FileFindings], errors: &[FileError]) -> String {
    let mut values: Vec<serde_json::Value> = flatten(files)
        .iter()
        .map(|f| serde_json::to_value(f).expect("findings serialize"))
        .collect();
    values.extend(errors.iter().map(|e| {
        serde_json::to_value(FlatError {
            path: &e.path,
            code: "error",
            name: "error",
            message: &e.message,
            line: e.line,
            column: e.column,
            end_line: e.line,
            end_column: e.column,
            fix: "none",
            error: true,
        })
        .expect("errors serialize")
    }));
    serde_json::to_string_pretty(&values).expect("findings serialize") + "\n"
}

/// GitHub Actions workflow commands (`::warning file=...::message`), and
/// `::error file=...::message` for each file that could not be processed.
pub fn github(files: &[FileFindings], errors: &[FileError]) -> String {
    fn data(s: &str) -> String {
        s.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    }
    fn prop(s: &str) -> String {
        data(s).replace(':', "%3A").replace(',', "%2C")
    }
    let mut out = String::new();
    for f in flatten(files) {
        out.push_str(&format!(
            "::warning file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
            prop(f.path),
            f.line,
            f.column,
            f.end_line,
            f.end_column,
            prop(&format!("{} {}", f.code, f.name)),
            data(f.message)
        ));
    }
    for e in errors {
        out.push_str(&format!(
            "::error file={},line={},col={},title={}::{}\n",
            prop(&e.path),
            e.line,
            e.column,
            prop("dopt error"),
            data(&e.message)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::ast::line_col;

    #[test]
    fn line_index_agrees_with_line_col() {
        for source in ["", "a", "\n", "ab\ncd\n", "é\r\nxü\n\nz", "\n\n"] {
            let lines = LineIndex::new(source);
            for offset in 0..=source.len() + 1 {
                if source.is_char_boundary(offset.min(source.len())) {
                    assert_eq!(
                        lines.line_col(offset),
                        line_col(source, offset),
                        "{source:?} at {offset}"
                    );
                }
            }
        }
    }
}
