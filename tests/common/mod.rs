//! Helpers shared by the integration tests.
#![allow(dead_code)]

use dopt::fix::apply::{FixOptions, Outcome};
use dopt::passes::BuildContext;
use dopt::profiles::Profiles;
use dopt::runner::{Runner, Selection};
use std::path::{Path, PathBuf};

/// `../shared/corpus`, as CI lays it out beside the clone.
pub fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus")
}

/// Profiles as the CLI loads them by default.
pub fn profiles() -> Profiles {
    Profiles::load(None).expect("embedded profiles load")
}

/// A runner over `select` (empty = all passes) with or without unsafe fixes.
pub fn runner(select: &[&str], unsafe_fixes: bool, context: Option<&Path>) -> Runner {
    let selection = Selection {
        select: select.iter().map(|s| s.to_string()).collect(),
        ignore: vec![],
    };
    let mut r = Runner::new(
        &selection,
        profiles(),
        FixOptions {
            unsafe_fixes,
            ..Default::default()
        },
    );
    r.build_context = context.map(BuildContext::new);
    r
}

/// Strips ANSI colour codes.
pub fn plain(s: &str) -> String {
    anstream::adapter::strip_str(s).to_string()
}

/// The findings list and diff of an outcome, as `dopt suggest` prints them (no colour).
pub fn suggest_text(name: &str, source: &str, outcome: &Outcome, unsafe_fixes: bool) -> String {
    let ff = dopt::render::findings::FileFindings {
        path: name,
        source,
        findings: &outcome.findings,
    };
    let mut out = plain(&dopt::render::findings::text(&ff, unsafe_fixes));
    out.push_str(&dopt::render::diff::unified(
        source,
        &outcome.fixed,
        &format!("a/{name}"),
        &format!("b/{name}"),
    ));
    for (path, content) in &outcome.new_files {
        out.push_str(&format!("+ new file: {path}\n{content}"));
    }
    out
}
