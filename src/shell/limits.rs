//! Bounds on the shell analysis of deeply nested text.
//!
//! brush-parser recurses once or more per nesting level (`{ }`, `( )`, `$( )`,
//! `if`/`for`/`while`/`case`...), and so does dropping its AST: a RUN nested a few
//! hundred levels deep (which BuildKit accepts) would overflow the stack, which
//! aborts the process. So [`analyze`](super::analyze) first estimates the
//! nesting with [`nesting_depth`], a cheap scan that never recurses:
//! - up to [`INLINE_NESTING`] levels (all real scripts), brush-parser runs on the
//!   caller's stack;
//! - up to [`MAX_NESTING`] levels, it runs on a thread with a known
//!   [`PARSE_STACK`]-byte stack, tens of times what that depth needs;
//! - deeper, the text is not given to brush-parser at all: the fallback
//!   tokenizer (no recursion) reads it and the script is opaque
//!   (`parse_ok == false`, so no pass offers a fix there).

/// Deeper text is not parsed with brush-parser (see the module docs).
pub const MAX_NESTING: usize = 100;

/// Text up to this deep is parsed on the caller's stack.
pub(super) const INLINE_NESTING: usize = 16;

/// The stack of the thread that parses text between [`INLINE_NESTING`] and
/// [`MAX_NESTING`] levels deep. A debug build uses about 17 KiB per level of
/// `{ }` or `if`, so 64 MiB holds some 3,800 levels, far more than the limit
/// even when the estimate is off. Only touched pages use memory.
pub(super) const PARSE_STACK: usize = 64 << 20;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Open {
    /// `(`, `$(`, `$((`
    Paren,
    /// `{`, `${`
    Brace,
    /// `` ` ``
    Backtick,
    /// `"`
    Double,
    /// `if`, `case`, `for`/`while`/`until`/`select` (closed by `fi`, `esac`, `done`)
    Keyword(u8),
}

/// Estimates how deeply `text` nests, counting `( )`, `{ }`, `$( )`, `${ }`,
/// backticks, double quotes and the `if`/`case`/loop keywords (in command
/// position), skipping single quotes, escapes and comments. A closer only closes
/// an opener of its own kind, so stray closers (`case x in a)`, `':-)'`) never
/// lower the count: the estimate errs high rather than low. Linear time, no
/// recursion.
pub fn nesting_depth(text: &str) -> usize {
    let b = text.as_bytes();
    let mut stack: Vec<Open> = Vec::new();
    let mut max = 0;
    let mut i = 0;
    // A word may start here (a keyword or a comment).
    let mut word_start = true;
    // A command may start here, so a word here may be a reserved word.
    let mut command_position = true;
    while i < b.len() {
        let c = b[i];
        let in_double = stack.last() == Some(&Open::Double);
        let at_word_start = word_start;
        word_start = false;
        match c {
            b'\\' => {
                command_position = false;
                i += 2;
                continue;
            }
            b'"' if in_double => {
                stack.pop();
            }
            b'`' if stack.last() == Some(&Open::Backtick) => {
                stack.pop();
            }
            b'`' => {
                stack.push(Open::Backtick);
                (word_start, command_position) = (true, true);
            }
            b'$' if matches!(b.get(i + 1), Some(b'(' | b'{')) => {
                let paren = b[i + 1] == b'(';
                stack.push(if paren { Open::Paren } else { Open::Brace });
                (word_start, command_position) = (paren, paren);
                max = max.max(stack.len());
                i += 2;
                continue;
            }
            _ if in_double => {}
            b'"' => {
                stack.push(Open::Double);
                command_position = false;
            }
            b'\'' => {
                // Literal up to the next quote.
                command_position = false;
                i = memchr::memchr(b'\'', &b[i + 1..]).map_or(b.len(), |n| i + 1 + n + 1);
                continue;
            }
            b'#' if at_word_start => {
                i = memchr::memchr(b'\n', &b[i..]).map_or(b.len(), |n| i + n);
                continue;
            }
            b'(' | b'{' => {
                stack.push(if c == b'(' { Open::Paren } else { Open::Brace });
                (word_start, command_position) = (true, true);
            }
            b')' | b'}' => {
                let open = if c == b')' { Open::Paren } else { Open::Brace };
                let closes = stack.last() == Some(&open);
                if closes {
                    stack.pop();
                }
                // A stray `)` ends a case pattern: a command follows.
                word_start = true;
                command_position = !closes && c == b')';
            }
            b' ' | b'\t' => word_start = true,
            b'\n' | b'\r' | b';' | b'&' | b'|' => (word_start, command_position) = (true, true),
            _ if at_word_start && command_position && c.is_ascii_alphabetic() => {
                let len = b[i..]
                    .iter()
                    .position(|&x| !(x.is_ascii_alphanumeric() || x == b'_'))
                    .unwrap_or(b.len() - i);
                let word = &b[i..i + len];
                let closer = match word {
                    b"fi" => Some(0),
                    b"esac" => Some(1),
                    b"done" => Some(2),
                    _ => None,
                };
                match word {
                    b"if" => stack.push(Open::Keyword(0)),
                    b"case" => stack.push(Open::Keyword(1)),
                    b"for" | b"while" | b"until" | b"select" => stack.push(Open::Keyword(2)),
                    _ => {}
                }
                if let Some(kind) = closer {
                    if stack.last() == Some(&Open::Keyword(kind)) {
                        stack.pop();
                    }
                }
                // Reserved words after which a command may follow.
                command_position = matches!(
                    word,
                    b"if" | b"then" | b"else" | b"elif" | b"do" | b"while" | b"until" | b"time"
                );
                i += len;
                max = max.max(stack.len());
                continue;
            }
            _ => command_position = false,
        }
        max = max.max(stack.len());
        i += 1;
    }
    max
}

/// Runs `f` on a thread with a [`PARSE_STACK`]-byte stack. None if the thread
/// cannot be started or `f` panics.
pub(super) fn on_big_stack<T: Send>(f: impl FnOnce() -> Option<T> + Send) -> Option<T> {
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("dopt-shell".into())
            .stack_size(PARSE_STACK)
            .spawn_scoped(s, f)
            .ok()?
            .join()
            .ok()?
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_of_common_shapes() {
        assert_eq!(nesting_depth("apt-get update && apt-get install -y x"), 0);
        assert_eq!(nesting_depth("if a; then b; fi; if c; then d; fi"), 1);
        assert_eq!(
            nesting_depth("for x in $(ls); do { echo \"$x\"; }; done"),
            3
        );
        assert_eq!(nesting_depth("echo ')))))' \\) # )))\n( x )"), 1);
        // Stray closers never lower the estimate.
        assert_eq!(nesting_depth("case $x in a) ( ( b ) ) ;; esac"), 3);
        assert_eq!(nesting_depth("echo \"${a:-$(b)}\""), 3);
        // `done`/`fi` as arguments or in words do not close anything.
        assert_eq!(nesting_depth("while x; do echo done; done"), 1);
        let text = "if a; then echo fi; ".repeat(50);
        assert_eq!(nesting_depth(&text), 50);
        assert_eq!(nesting_depth("echo ifx fi_ done if"), 0);
    }

    #[test]
    fn deep_text_is_measured_without_recursion() {
        let n = 200_000;
        let text = format!("{}true{}", "{ ".repeat(n), "; }".repeat(n));
        assert_eq!(nesting_depth(&text), n);
        let text = format!("echo {}x{}", "\"$(".repeat(n), ")\"".repeat(n));
        assert_eq!(nesting_depth(&text), 2 * n);
    }
}
