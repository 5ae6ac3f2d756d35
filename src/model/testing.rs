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
        pass.run(&PassContext::new(file, &profiles, build_context, &options))
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
    // `dopt apply` writes the files fixes create; do the same before re-running.
    for (path, content) in &outcome.new_files {
        std::fs::write(dir.path().join(path), content).unwrap();
    }
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

/// Runs the structural passes over every Dockerfile of the shared corpus: no panic,
/// fixes converge, outputs parse, a second run applies nothing. Prints counts.
#[test]
fn structural_passes_on_corpus() {
    use crate::passes::{
        add_to_copy::AddToCopy, copy_order::CopyOrder, dockerignore::Dockerignore,
        exec_form::ExecForm, healthcheck::Healthcheck, latest_tag::LatestTag,
        maintainer::Maintainer, non_root_user::NonRootUser, relative_workdir::RelativeWorkdir,
    };
    let corpus = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus"));
    if !corpus.is_dir() {
        return;
    }
    // The real-world files, plus every Dockerfile of the parser conformance sets
    // and the apps (odd syntax: escapes, heredocs, no FROM...).
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n == "Dockerfile" || n.ends_with(".Dockerfile"))
            {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(corpus, &mut files);
    let passes: Vec<Box<dyn Pass>> = vec![
        Box::new(CopyOrder),
        Box::new(NonRootUser),
        Box::new(Healthcheck),
        Box::new(AddToCopy),
        Box::new(ExecForm),
        Box::new(Dockerignore),
        Box::new(LatestTag),
        Box::new(Maintainer),
        Box::new(RelativeWorkdir),
    ];
    let profiles = Profiles::embedded();
    let options = serde_yaml::Mapping::new();
    let mut counts = vec![(0usize, 0usize); passes.len()];
    files.sort();
    for path in files {
        let Ok(source) = std::fs::read_to_string(&path) else {
            continue;
        };
        if crate::syntax::parse(&source).is_err() {
            continue;
        }
        for (i, pass) in passes.iter().enumerate() {
            let analyze = |file: &crate::syntax::Dockerfile| {
                pass.run(&PassContext::new(file, &profiles, None, &options))
            };
            let outcome = fix_until_stable(
                &source,
                FixOptions {
                    unsafe_fixes: true,
                    ..Default::default()
                },
                analyze,
            )
            .unwrap();
            let name = path.display();
            assert!(
                outcome.converged,
                "{name}: {} did not converge",
                pass.name()
            );
            assert!(
                outcome.rejected.is_empty(),
                "{name}: {} rejected",
                pass.name()
            );
            let again = crate::syntax::parse(&outcome.fixed).unwrap();
            assert!(
                analyze(&again).iter().all(|f| f.fix.is_none()),
                "{name}: {} not idempotent",
                pass.name()
            );
            counts[i].0 += outcome.findings.len();
            counts[i].1 += outcome.applied.len();
        }
    }
    for (pass, (found, applied)) in passes.iter().zip(counts) {
        eprintln!("{}: {found} findings, {applied} fixes applied", pass.name());
    }
}
