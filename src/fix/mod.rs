//! Fixes: sets of byte-range edits over the original text, marked safe or unsafe,
//! spliced into the source (never re-printed) and re-applied until nothing changes.

pub mod apply;

use crate::syntax::Span;
use serde::Serialize;

/// Whether a fix keeps the build's behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Safety {
    /// Keeps behaviour: applied by default.
    Safe,
    /// Might change behaviour: shown, applied only with `--unsafe`.
    Unsafe,
}

/// Replace `span` of the original text with `content` (an insertion when the span
/// is empty, a deletion when `content` is empty).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Edit {
    pub span: Span,
    pub content: String,
}

impl Edit {
    pub fn replace(span: Span, content: impl Into<String>) -> Self {
        Edit {
            span,
            content: content.into(),
        }
    }
    pub fn insert(at: usize, content: impl Into<String>) -> Self {
        Edit {
            span: Span::new(at, at),
            content: content.into(),
        }
    }
    pub fn delete(span: Span) -> Self {
        Edit {
            span,
            content: String::new(),
        }
    }
}

/// A fix: edits applied together or not at all.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fix {
    pub safety: Safety,
    pub edits: Vec<Edit>,
    /// Extra files the fix creates next to the Dockerfile (e.g. `.dockerignore`),
    /// as (path relative to the build context, content). Never overwrites.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub new_files: Vec<(String, String)>,
}

impl Fix {
    pub fn safe(edits: Vec<Edit>) -> Self {
        Fix {
            safety: Safety::Safe,
            edits,
            new_files: Vec::new(),
        }
    }
    pub fn unsafe_(edits: Vec<Edit>) -> Self {
        Fix {
            safety: Safety::Unsafe,
            edits,
            new_files: Vec::new(),
        }
    }
}

/// One thing a pass found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Stable code such as `DOP001`.
    pub code: &'static str,
    /// Kebab-case pass name such as `merge-run`.
    pub name: &'static str,
    /// One-line reason, shown next to the diff.
    pub message: String,
    /// What the finding points at.
    pub span: Span,
    /// The fix, if the pass can offer one.
    pub fix: Option<Fix>,
}
