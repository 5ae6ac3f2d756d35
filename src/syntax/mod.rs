//! Syntax: the pest grammar (`grammar.pest` at the repo root), the lossless typed
//! tree built from it, parse errors with source snippets, and BuildKit's dump format.
//!
//! Entry points:
//! - [`parse`]: UTF-8 text → [`Dockerfile`] (lossless: `print()` gives the input back);
//! - [`decode`]: raw bytes (UTF-8, or UTF-16/32 with a byte order mark) → text;
//! - [`dump::buildkit_dump`]: the tree in BuildKit's parser dump format.
//!
//! Notes for passes:
//! - `Instruction::logical` is the argument text exactly as BuildKit joins it
//!   (continuations, and comment/blank lines inside them, removed).
//!   `logical.map_span(a, b)` maps a logical byte range back to the source
//!   (an end offset at the end of a physical line stays on that line);
//!   `logical.slice(a, b)` keeps the map for a sub-range.
//! - Exec form: `Instruction::exec_arg_spans()` gives the source span of each
//!   JSON string; invalid JSON falls back to the shell form, as in BuildKit.
//! - Heredoc `content` is raw (BuildKit's parser); `Heredoc::chomped_content()`
//!   applies `<<-` tab stripping. Bodies are part of the instruction's item.
//! - Unknown instructions are errors (BuildKit's parser keeps them and its
//!   builder rejects them). `HEALTHCHECK` alone and `HEALTHCHECK OTHER ...` are
//!   accepted as `Healthcheck::Empty` / `Healthcheck::Other`, like BuildKit's parser.
//! - Files in UTF-16/32 are decoded by [`decode`]; write rewrites back with
//!   [`encode`] and the original [`SourceEncoding`] (the BOM is re-added).

pub mod ast;
pub mod decode;
pub mod dump;
pub mod error;
mod parser;
pub mod words;

pub use ast::*;
pub use decode::{decode, encode, SourceEncoding};
pub use error::ParseError;

/// Parses a Dockerfile. The source must already be UTF-8 (a UTF-8 BOM is kept as
/// an item of its own; see [`decode`] for other encodings).
pub fn parse(source: &str) -> Result<Dockerfile, ParseError> {
    parser::parse(source)
}

/// [`parse`] with one grammar call per item: the reference that tests and the
/// fuzzer compare the (faster) chunked parse with. Not for general use.
#[doc(hidden)]
pub fn parse_item_by_item(source: &str) -> Result<Dockerfile, ParseError> {
    parser::parse_item_by_item(source)
}
