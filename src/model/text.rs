//! Helpers for passes that insert or move whole lines: where a new instruction
//! goes, how it is indented and cased, and which line ending it uses, so inserted
//! text looks like the file around it.

use crate::syntax::{Dockerfile, Instruction, ItemKind};

/// `keyword` (upper case) in the case the file uses: lower case when most of the
/// file's keywords are written in lower case.
pub fn keyword(file: &Dockerfile, keyword: &str) -> String {
    let lower = file
        .instructions
        .iter()
        .filter(|i| i.keyword.chars().all(|c| c.is_ascii_lowercase()))
        .count();
    if lower * 2 > file.instructions.len() {
        keyword.to_ascii_lowercase()
    } else {
        keyword.to_ascii_uppercase()
    }
}

/// The whitespace before an instruction's keyword on its first line.
pub fn indent<'a>(file: &'a Dockerfile, inst: &Instruction) -> &'a str {
    let start = inst.span.start.min(inst.keyword_span.start);
    &file.source[start..inst.keyword_span.start]
}

/// One new line: `indent + text + line ending`.
pub fn line(file: &Dockerfile, indent: &str, text: &str) -> String {
    format!("{indent}{text}{}", file.line_ending.as_str())
}

/// The offset to insert new lines before instruction `index`, placed above the
/// comment lines directly attached to it (no blank line in between), so a
/// comment stays with the instruction it describes.
pub fn insertion_before(file: &Dockerfile, index: usize) -> usize {
    let Some(pos) = file
        .items
        .iter()
        .position(|it| it.kind == ItemKind::Instruction(index))
    else {
        return file.instructions[index].span.start;
    };
    let mut first = pos;
    while first > 0 && file.items[first - 1].kind == ItemKind::Comment {
        first -= 1;
    }
    file.items[first].span.start
}

/// The offset just after instruction `index` (its line terminator included), and
/// the prefix an inserted line needs there: a line ending when the instruction is
/// the last line of a file without a final newline.
pub fn insertion_after(file: &Dockerfile, index: usize) -> (usize, &'static str) {
    let end = file.instructions[index].span.end;
    let ends_line = file.source[..end].ends_with('\n');
    if ends_line || end == 0 {
        (end, "")
    } else {
        (end, file.line_ending.as_str())
    }
}

/// Inserts text after instruction `index`: returns the offset and the content to
/// insert (a line ending is added first if the instruction ends the file without
/// one, and the inserted lines then lose their own final line ending so the file
/// keeps "no final newline").
pub fn insert_lines_after(file: &Dockerfile, index: usize, lines: &str) -> (usize, String) {
    let (at, prefix) = insertion_after(file, index);
    if prefix.is_empty() {
        (at, lines.to_string())
    } else {
        let body = lines
            .strip_suffix(file.line_ending.as_str())
            .unwrap_or(lines);
        (at, format!("{prefix}{body}"))
    }
}
