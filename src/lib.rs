//! dopt: makes Dockerfiles smaller, faster to rebuild and safer, with minimal,
//! explained diffs, and proves it by building both versions.
//!
//! Architecture, in data-flow order:
//! - [`syntax`]: pest grammar → lossless typed tree with spans;
//! - [`shell`]: shell commands inside RUN (brush-parser), mapped back to spans;
//! - [`model`]: the semantic model of stages, users, ports and installed tools;
//! - [`profiles`]: ecosystem knowledge from YAML;
//! - [`passes`]: one optimization per file, producing findings with fixes;
//! - [`fix`]: byte-range edits, spliced into the original and iterated to a fixpoint;
//! - [`render`]: diffs, finding lists, JSON/SARIF/GitHub output, diagnostics;
//! - [`docker`]: build both versions, verify, measure and report;
//! - [`bench`]: `dopt bench`, the size benchmark over many cases;
//! - [`cli`]: the `dopt` command line.

pub mod bench;
pub mod cli;
pub mod config;
pub mod discover;
pub mod docker;
pub mod evidence;
pub mod fix;
pub mod model;
pub mod passes;
pub mod profiles;
pub mod render;
pub mod runner;
pub mod shell;
pub mod syntax;
