//! `dopt bench`: size benchmark reports. Each case (a Dockerfile, or a
//! `case.yaml`; see [`case`]) is optimized with every fix (unsafe included),
//! built and verified against the original with the fix-by-fix search, and
//! measured: size, layers, cold build, warm rebuild after a source-only edit,
//! user and health ([`run`]). The report ([`report`]) is printed, written as
//! Markdown and JSON, appended to `$GITHUB_STEP_SUMMARY` in GitHub Actions,
//! and can gate CI (`--fail-under-median`, `--require-verified`).

pub mod case;
pub mod report;
pub mod run;
