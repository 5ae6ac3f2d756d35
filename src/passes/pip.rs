//! # pip-hygiene (DOP005)
//!
//! ## What it does
//! Checks that `pip install` (also `pip3`, `python -m pip`) in a shell-form RUN
//! uses `--no-cache-dir`, unless `PIP_NO_CACHE_DIR` is set by ENV/ARG or inline,
//! the cache is purged later in the RUN, or a `RUN --mount=type=cache` targets
//! `/root/.cache/pip`.
//!
//! ## Why is this bad?
//! pip keeps every downloaded wheel in `/root/.cache/pip`; in an image that cache
//! is dead weight, often as large as the installed packages.
//!
//! ## Example
//! ```dockerfile
//! RUN pip install -r requirements.txt
//! ```
//! Use instead:
//! ```dockerfile
//! RUN pip install --no-cache-dir -r requirements.txt
//! ```
//!
//! ## Fix safety
//! Safe: only the download cache is skipped.

use crate::fix::Finding;
use crate::passes::{package_hygiene, Pass, PassContext};

/// See the module docs.
pub struct PipHygiene;

impl Pass for PipHygiene {
    fn code(&self) -> &'static str {
        "DOP005"
    }
    fn name(&self) -> &'static str {
        "pip-hygiene"
    }
    fn summary(&self) -> &'static str {
        "`pip install` without `--no-cache-dir`"
    }
    fn docs(&self) -> &'static str {
        static DOCS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        DOCS.get_or_init(|| package_hygiene::module_docs(include_str!("pip.rs")))
    }
    fn related(&self) -> &'static [&'static str] {
        &["hadolint DL3042"]
    }
    fn run(&self, ctx: &PassContext) -> Vec<Finding> {
        package_hygiene::check(ctx, &["pip"], "DOP005", "pip-hygiene")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::package_hygiene::testing::{fix, run};

    #[test]
    fn adds_no_cache_dir() {
        assert_eq!(
            fix(&PipHygiene, "FROM python:3.12\nRUN pip install -r requirements.txt && python -m pip install x\n", None, false),
            "FROM python:3.12\nRUN pip install --no-cache-dir -r requirements.txt && python -m pip install --no-cache-dir x\n"
        );
        assert_eq!(
            fix(&PipHygiene, "FROM python:3.12\nRUN pip3 --disable-pip-version-check install -U pip\n", None, false),
            "FROM python:3.12\nRUN pip3 --disable-pip-version-check install --no-cache-dir -U pip\n"
        );
    }

    #[test]
    fn must_not_fire() {
        for src in [
            "FROM python\nRUN pip install --no-cache-dir x\n",
            "FROM python\nENV PIP_NO_CACHE_DIR=1\nRUN pip install x\n",
            "FROM python\nARG PIP_NO_CACHE_DIR=off\nRUN pip install x\n",
            "FROM python\nRUN PIP_NO_CACHE_DIR=1 pip install x\n",
            "FROM python\nRUN pip install x && rm -rf /root/.cache/pip\n",
            "FROM python\nRUN pip install x && pip cache purge\n",
            "FROM python\nRUN --mount=type=cache,target=/root/.cache pip install x\n",
            "FROM python\nRUN pip uninstall -y x\n",
            "FROM python\nRUN pip download x\n",
        ] {
            assert!(run(&PipHygiene, src, None).is_empty(), "fired on:\n{src}");
        }
    }
}
