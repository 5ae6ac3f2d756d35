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
        let excerpt = &source[first_line_start..last_line_end];
        let (rel_start, rel_end) = (start - first_line_start, end - first_line_start);
        let message = Level::Error.title(&self.message).snippet(
            Snippet::source(excerpt)
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
        format!(
            "{path}:{line}:{col}: error: {}\n{}",
            self.message,
            renderer.render(message)
        )
    }
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
