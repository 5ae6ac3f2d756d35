//! Syntax: the pest grammar (`grammar.pest` at the repo root), the lossless typed
//! tree built from it, parse errors with source snippets, and BuildKit's dump format.
//!
//! Entry points:
//! - [`parse`]: UTF-8 text → [`Dockerfile`] (lossless: `print()` gives the input back);
//! - [`decode`]: raw bytes (UTF-8, or UTF-16/32 with a byte order mark) → text;
//! - [`dump::buildkit_dump`]: the tree in BuildKit's parser dump format.

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
