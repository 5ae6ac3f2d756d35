//! Test helpers for passes: run one pass over a source text with an optional
//! build context, and apply its fixes until stable (unsafe ones included).

use crate::fix::apply::{fix_until_stable, FixOptions};
use crate::fix::Finding;
use crate::passes::{BuildContext, Pass, PassContext};
use crate::profiles::Profiles;

/// The result of [`check`].
pub struct Checked {
    /// Findings on the original text.
    pub findings: Vec<Finding>,
    /// The text after applying every fix (unsafe included) until stable.
    pub fixed: String,
    /// Files the applied fixes create.
    pub new_files: Vec<(String, String)>,
}

/// Runs `pass` on `source` with a build context holding `context_files`
/// (`(relative path, content)`; `None` for no build context at all). Panics if the
/// source does not parse, the fixes do not converge, or a second run would
/// still change something.
pub fn check(pass: &dyn Pass, source: &str, context_files: Option<&[(&str, &str)]>) -> Checked {
    let profiles = Profiles::embedded();
    let options = serde_yaml::Mapping::new();
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, content) in context_files.unwrap_or(&[]) {
        let full = dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, content).unwrap();
    }
    let context = BuildContext::new(dir.path());
    let build_context = context_files.map(|_| &context);
    let analyze = |file: &crate::syntax::Dockerfile| {
        pass.run(&PassContext {
            file,
            profiles: &profiles,
            build_context,
            options: &options,
        })
    };
    let outcome = fix_until_stable(
        source,
        FixOptions {
            unsafe_fixes: true,
            ..Default::default()
        },
        analyze,
    )
    .unwrap_or_else(|e| panic!("parse error: {e}"));
    assert!(outcome.converged, "fixes did not converge");
    assert!(
        outcome.rejected.is_empty(),
        "rejected: {:?}",
        outcome.rejected
    );
    let again = crate::syntax::parse(&outcome.fixed).expect("fixed text parses");
    let second = analyze(&again);
    assert!(
        second.iter().all(|f| f.fix.is_none()),
        "not idempotent: {second:#?}\n---\n{}",
        outcome.fixed
    );
    Checked {
        findings: outcome.findings,
        fixed: outcome.fixed,
        new_files: outcome.new_files,
    }
}
