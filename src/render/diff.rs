//! Unified diffs between the original and the rewritten text (similar).

use super::style::{paint, ADDED, BOLD, HUNK, REMOVED};
use similar::{Algorithm, TextDiff};

/// Texts larger than this (bytes; the largest real Dockerfile we know is
/// 20 KB) are diffed with the patience algorithm.
const LARGE: usize = 64 * 1024;

/// A unified diff with 3 lines of context, `a/`- and `b/`-style headers.
/// Empty when the texts are equal. Line endings are kept as they are, so CRLF
/// files give CRLF diff lines and the diff applies with `patch`.
pub fn unified(original: &str, fixed: &str, old_name: &str, new_name: &str) -> String {
    if original == fixed {
        return String::new();
    }
    let diff = if original.len().max(fixed.len()) > LARGE {
        // Myers' diff is O(N·D): on a large file with changes all over it
        // (one per stage), quadratic. Patience anchors on unique lines, so it
        // diffs many small gaps instead; small files keep Myers' output.
        TextDiff::configure()
            .algorithm(Algorithm::Patience)
            .diff_lines(original, fixed)
    } else {
        TextDiff::from_lines(original, fixed)
    };
    let mut text = diff
        .unified_diff()
        .context_radius(3)
        .missing_newline_hint(true)
        .header(old_name, new_name)
        .to_string();
    // similar leaves the last "\ No newline at end of file" marker unterminated;
    // end the diff with a newline so whatever is printed next starts on its own line.
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// Colours a unified diff line by line.
pub fn colorize(diff: &str) -> String {
    let mut out = String::with_capacity(diff.len() + diff.len() / 4);
    for line in diff.split_inclusive('\n') {
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        let styled = if body.starts_with("+++") || body.starts_with("---") {
            paint(BOLD, body)
        } else if body.starts_with('+') {
            paint(ADDED, body)
        } else if body.starts_with('-') {
            paint(REMOVED, body)
        } else if body.starts_with("@@") {
            paint(HUNK, body)
        } else {
            body.to_string()
        };
        out.push_str(&styled);
        out.push_str(nl);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_has_headers_and_hunks() {
        let d = unified("a\nb\nc\n", "a\nB\nc\n", "a/Dockerfile", "b/Dockerfile");
        assert!(
            d.starts_with("--- a/Dockerfile\n+++ b/Dockerfile\n@@ -1,3 +1,3 @@\n"),
            "{d}"
        );
        assert!(d.contains("-b\n+B\n"));
        assert_eq!(unified("x\n", "x\n", "a", "b"), "");
        let no_final_newline = unified("a\nb", "a\nc", "a", "b");
        assert!(
            no_final_newline.ends_with("\\ No newline at end of file\n"),
            "{no_final_newline:?}"
        );
    }
}
