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
        // Show only the first line the span touches, and at most ~100
        // characters of it around the span: annotate-snippets 0.11 panics when
        // it trims long lines (margin.rs subtraction overflow, found by
        // fuzzing), and its trimming code only runs for lines wider than 140.
        let line_start = source[..start].rfind('\n').map(|i| i + 1).unwrap_or(0);
        let line_end = source[start..]
            .find('\n')
            .map(|i| start + i)
            .unwrap_or(source.len());
        let long_line = source[line_start..line_end].chars().nth(120).is_some();
        let window_start = if !long_line {
            line_start
        } else {
            let before = &source[line_start..start];
            match before.char_indices().rev().nth(39) {
                Some((i, _)) => line_start + i,
                None => line_start,
            }
        };
        let window_end = match source[window_start..line_end].char_indices().nth(100) {
            Some((i, _)) if long_line => window_start + i,
            _ => line_end,
        };
        // Control characters and exotic white space are shown as same-length
        // ASCII, so byte offsets stay valid.
        let excerpt = sanitize(&source[window_start..window_end]);
        let rel_start = start - window_start;
        let rel_end = end.clamp(start, window_end) - window_start;
        let line_number = line;
        let snippet = std::panic::catch_unwind(|| {
            let message = Level::Error.title(&self.message).snippet(
                Snippet::source(&excerpt)
                    .line_start(line_number)
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

/// Replaces control characters (except tab, `\r` included) and non-ASCII white
/// space with as many `?` / spaces as they have bytes.
fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\t' || c == ' ' {
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
