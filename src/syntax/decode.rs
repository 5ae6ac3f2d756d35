//! Byte decoding: Dockerfiles are UTF-8, but some tools write UTF-16 or UTF-32
//! with a byte order mark. BuildKit itself only reads UTF-8; dopt decodes such
//! files so it can analyse them. A rewrite of a non-UTF-8 file is re-encoded in
//! the file's original encoding (see [`encode`]), so the BOM and encoding stay.

use super::ast::Span;
use super::error::ParseError;
use serde::Serialize;

/// How a file was encoded on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SourceEncoding {
    /// UTF-8 (with or without BOM; a UTF-8 BOM stays in the decoded text).
    Utf8,
    Utf16Le,
    Utf16Be,
    Utf32Le,
    Utf32Be,
}

/// Decodes a Dockerfile's bytes. UTF-16/32 need a byte order mark; the BOM is
/// dropped from the decoded text for those (it is re-added by [`encode`]).
pub fn decode(bytes: &[u8]) -> Result<(String, SourceEncoding), ParseError> {
    // UTF-32 first: its LE BOM starts with the UTF-16 LE BOM.
    if bytes.starts_with(&[0xFF, 0xFE, 0x00, 0x00]) {
        return decode_utf32(&bytes[4..], false).map(|s| (s, SourceEncoding::Utf32Le));
    }
    if bytes.starts_with(&[0x00, 0x00, 0xFE, 0xFF]) {
        return decode_utf32(&bytes[4..], true).map(|s| (s, SourceEncoding::Utf32Be));
    }
    if bytes.starts_with(&[0xFF, 0xFE]) {
        return decode_utf16(&bytes[2..], false).map(|s| (s, SourceEncoding::Utf16Le));
    }
    if bytes.starts_with(&[0xFE, 0xFF]) {
        return decode_utf16(&bytes[2..], true).map(|s| (s, SourceEncoding::Utf16Be));
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok((s.to_string(), SourceEncoding::Utf8)),
        Err(e) => {
            let at = e.valid_up_to();
            Err(ParseError::new(
                format!("the file is not valid UTF-8 (invalid byte at offset {at})"),
                Span::new(at, at),
            ))
        }
    }
}

/// Encodes text back into `encoding` (with a BOM for UTF-16/32).
pub fn encode(text: &str, encoding: SourceEncoding) -> Vec<u8> {
    match encoding {
        SourceEncoding::Utf8 => text.as_bytes().to_vec(),
        SourceEncoding::Utf16Le | SourceEncoding::Utf16Be => {
            let be = encoding == SourceEncoding::Utf16Be;
            let mut out = if be {
                vec![0xFE, 0xFF]
            } else {
                vec![0xFF, 0xFE]
            };
            for unit in text.encode_utf16() {
                out.extend(if be {
                    unit.to_be_bytes()
                } else {
                    unit.to_le_bytes()
                });
            }
            out
        }
        SourceEncoding::Utf32Le | SourceEncoding::Utf32Be => {
            let be = encoding == SourceEncoding::Utf32Be;
            let mut out = if be {
                vec![0x00, 0x00, 0xFE, 0xFF]
            } else {
                vec![0xFF, 0xFE, 0x00, 0x00]
            };
            for c in text.chars() {
                let v = c as u32;
                out.extend(if be { v.to_be_bytes() } else { v.to_le_bytes() });
            }
            out
        }
    }
}

fn decode_utf16(bytes: &[u8], be: bool) -> Result<String, ParseError> {
    if bytes.len() % 2 != 0 {
        return Err(ParseError::new(
            "truncated UTF-16 file (odd number of bytes)",
            Span::new(0, 0),
        ));
    }
    let units = bytes.chunks_exact(2).map(|c| {
        if be {
            u16::from_be_bytes([c[0], c[1]])
        } else {
            u16::from_le_bytes([c[0], c[1]])
        }
    });
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .map_err(|_| ParseError::new("invalid UTF-16 (unpaired surrogate)", Span::new(0, 0)))
}

fn decode_utf32(bytes: &[u8], be: bool) -> Result<String, ParseError> {
    if bytes.len() % 4 != 0 {
        return Err(ParseError::new(
            "truncated UTF-32 file (length not a multiple of 4)",
            Span::new(0, 0),
        ));
    }
    bytes
        .chunks_exact(4)
        .map(|c| {
            let v = if be {
                u32::from_be_bytes([c[0], c[1], c[2], c[3]])
            } else {
                u32::from_le_bytes([c[0], c[1], c[2], c[3]])
            };
            char::from_u32(v)
                .ok_or_else(|| ParseError::new("invalid UTF-32 code point", Span::new(0, 0)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_and_utf32_round_trip() {
        for enc in [
            SourceEncoding::Utf16Le,
            SourceEncoding::Utf16Be,
            SourceEncoding::Utf32Le,
            SourceEncoding::Utf32Be,
        ] {
            let bytes = encode("FROM debian:11\nRUN é\n", enc);
            let (text, got) = decode(&bytes).unwrap();
            assert_eq!(got, enc);
            assert_eq!(text, "FROM debian:11\nRUN é\n");
        }
    }
}
