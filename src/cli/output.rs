//! Writing to the terminal: stdout through anstream (colour stripped when piped
//! or with NO_COLOR), errors and hints on stderr, broken pipes detected.

use crate::render::style::{paint, BOLD, ERROR, WARNING};
use std::io::Write;

/// Writes `text` to stdout. A broken pipe surfaces as an `io::Error` that
/// [`is_broken_pipe`] recognises.
pub fn out(text: &str) -> std::io::Result<()> {
    let mut stdout = anstream::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()
}

/// `error: message` on stderr.
pub fn error(message: &str) {
    let _ = writeln!(anstream::stderr(), "{} {}", paint(ERROR, "error:"), message);
}

/// `warning: message` on stderr.
pub fn warning(message: &str) {
    let _ = writeln!(
        anstream::stderr(),
        "{} {}",
        paint(WARNING, "warning:"),
        message
    );
}

/// A status line on stderr (what happened, what to do next).
pub fn note(message: &str) {
    let _ = writeln!(anstream::stderr(), "{}", message);
}

/// Bold text, for summaries.
pub fn bold(text: &str) -> String {
    paint(BOLD, text)
}

/// True if the error (or its cause chain) is a broken pipe on stdout.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
