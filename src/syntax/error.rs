//! Parse errors: a message and the span it points at; rendered with a caret snippet.

use super::ast::{line_col, Span};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    pub message: String,
    pub span: Span,
}

impl ParseError {
    pub fn new(message: impl Into<String>, span: Span) -> Self {
        ParseError {
            message: message.into(),
            span,
        }
    }

    /// 1-based (line, column) of the error's start in `source`.
    pub fn line_col(&self, source: &str) -> (usize, usize) {
        line_col(source, floor_char_boundary(source, self.span.start))
    }

    /// `path:line:col: error: message`, then a source snippet with a caret under
    /// the offending text (annotate-snippets). `color` adds ANSI styles.
    pub fn render(&self, path: &str, source: &str, color: bool) -> String {
        use annotate_snippets::{Level, Renderer, Snippet};
        let (line, col) = self.line_col(source);
        let start = floor_char_boundary(source, self.span.start);
        let end = floor_char_boundary(source, self.span.end.max(start));
        // Show only the lines the span touches: cheap for large files.
        let first_line_start = source[..start].rfind('\n').map(|i| i + 1).unwrap_or(0);
        let last_line_end = source[end..]
            .find('\n')
            .map(|i| end + i)
            .unwrap_or(source.len());
        // annotate-snippets counts columns by characters and panics on some
        // long lines of control characters (found by fuzzing): show control
        // characters and exotic white space as same-length ASCII, so byte
        // offsets stay valid, and fall back to a plain caret if it still panics.
        let excerpt = sanitize(&source[first_line_start..last_line_end]);
        let (rel_start, rel_end) = (start - first_line_start, end - first_line_start);
        let snippet = std::panic::catch_unwind(|| {
            let message = Level::Error.title(&self.message).snippet(
                Snippet::source(&excerpt)
                    .line_start(line)
                    .origin(path)
                    .fold(false)
                    .annotation(Level::Error.span(rel_start..rel_end).label("here")),
            );
            let renderer = if color {
                Renderer::styled()
            } else {
                Renderer::plain()
            };
            let rendered = renderer.render(message).to_string();
            rendered
        })
        .unwrap_or_else(|_| {
            let first_line = excerpt.lines().next().unwrap_or("");
            let caret_at = excerpt[..rel_start.min(first_line.len())].chars().count();
            format!("{first_line}\n{}^", " ".repeat(caret_at))
        });
        format!("{path}:{line}:{col}: error: {}\n{snippet}", self.message)
    }
}

/// Replaces control characters (except tab) and non-ASCII white space with as
/// many `?` / spaces as they have bytes.
fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\t' || c == '\n' || c == '\r' || c == ' ' {
            out.push(c);
        } else if c.is_control() {
            out.extend(std::iter::repeat_n('?', c.len_utf8()));
        } else if c.is_whitespace() {
            out.extend(std::iter::repeat_n(' ', c.len_utf8()));
        } else {
            out.push(c);
        }
    }
    out
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_survives_inputs_that_crash_annotate_snippets() {
        // Found by cargo-fuzz: an unknown "instruction" after 130 vertical tabs
        // (Unicode white space, stripped as indentation) on a long line.
        let src = format!(
            "FROM a\n{}-o{}\n",
            "\u{0B}".repeat(130),
            "\u{0B}".repeat(200)
        );
        let e = crate::syntax::parse(&src).unwrap_err();
        assert_eq!(e.message, "unknown instruction: -O");
        let out = e.render("Dockerfile", &src, false);
        assert!(out.starts_with("Dockerfile:2:131: error:"), "{out}");
        for span in [
            Span::new(0, 0),
            Span::new(7, 300),
            Span::new(src.len(), src.len()),
        ] {
            let e = ParseError::new("x", span);
            let out = e.render("Dockerfile", &src, false);
            assert!(out.starts_with("Dockerfile:"), "{out}");
        }
    }
}
