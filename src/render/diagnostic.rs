//! Source diagnostics: `file:line:col: error: message` and a caret snippet
//! (annotate-snippets), for parse errors and anything else that points at text.

use crate::syntax::ast::line_col;
use crate::syntax::ParseError;
use annotate_snippets::{Level, Renderer, Snippet};

/// Renders a parse error with its location and a snippet of the offending line.
pub fn parse_error(path: &str, source: &str, err: &ParseError, color: bool) -> String {
    let start = floor_char_boundary(source, err.span.start);
    let end = floor_char_boundary(source, err.span.end.max(start)).max(start);
    let (line, col) = line_col(source, start);
    // Show the line(s) of the error only, so huge files stay readable.
    let line_start = source[..start].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let line_end = source[end..]
        .find('\n')
        .map(|i| end + i)
        .unwrap_or(source.len());
    let excerpt = &source[line_start..line_end];
    let mut a = start - line_start;
    let mut b = end - line_start;
    if a == b {
        // Point at one character (or the end of the line).
        b = excerpt[a..]
            .chars()
            .next()
            .map(|c| a + c.len_utf8())
            .unwrap_or(a);
        if a == b && a > 0 {
            a = floor_char_boundary(excerpt, a - 1);
        }
    }
    let origin = format!("{path}:{line}:{col}");
    let message = Level::Error.title(&err.message).snippet(
        Snippet::source(excerpt)
            .line_start(line)
            .origin(&origin)
            .fold(true)
            .annotation(Level::Error.span(a..b).label(&err.message)),
    );
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    format!(
        "{path}:{line}:{col}: error: {}\n{}\n",
        err.message,
        renderer.render(message)
    )
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::Span;

    #[test]
    fn points_at_line_and_column() {
        let src = "FROM x\nFOO bar\n";
        let err = ParseError::new("unknown instruction: FOO", Span::new(7, 10));
        let out = parse_error("Dockerfile", src, &err, false);
        assert!(
            out.starts_with("Dockerfile:2:1: error: unknown instruction: FOO\n"),
            "{out}"
        );
        assert!(out.contains("FOO bar"), "{out}");
        assert!(out.contains("^^^"), "{out}");
    }

    #[test]
    fn survives_spans_inside_multibyte_chars_and_at_eof() {
        let src = "FROM é";
        for (s, e) in [(6, 6), (5, 6), (0, 0), (6, 99)] {
            let err = ParseError::new("x", Span::new(s, e.min(src.len())));
            let _ = parse_error("f", src, &err, true);
        }
    }
}
