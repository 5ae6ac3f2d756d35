//! Rendering: unified diffs, finding lists, and machine formats (JSON, SARIF,
//! GitHub annotations, GitLab Code Quality). Everything here returns strings; colour is emitted as ANSI
//! codes and stripped by `anstream` when the output is not a terminal or
//! `NO_COLOR` is set.

pub mod diff;
pub mod findings;
pub mod gitlab;
pub mod rules;
pub mod sarif;
pub mod style;
