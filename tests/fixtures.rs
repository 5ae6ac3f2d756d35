//! Snapshot tests over fixture files, one folder per pass:
//! `tests/fixtures/<pass-name>/<case>.Dockerfile`, with an optional build context
//! `tests/fixtures/<pass-name>/<case>.context/` (else an empty folder).
//!
//! Each case runs only its pass, with unsafe fixes, and snapshots the findings
//! and the exact diff (`tests/fixtures/snapshots/<pass>__<case>.snap`). Cases whose
//! name starts with `no-` must produce no finding. Every output must parse again
//! and a second run must change nothing.

mod common;

use std::path::Path;

#[test]
fn fixtures() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let empty = tempfile::tempdir().unwrap();
    let mut cases = 0;
    let Ok(entries) = std::fs::read_dir(&root) else {
        eprintln!("no fixtures yet");
        return;
    };
    let mut dirs: Vec<_> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir() && p.file_name().unwrap() != "snapshots")
        .collect();
    dirs.sort();
    for dir in dirs {
        let pass = dir.file_name().unwrap().to_str().unwrap().to_string();
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "Dockerfile"))
            .collect();
        files.sort();
        for file in files {
            let case = file.file_stem().unwrap().to_str().unwrap().to_string();
            let source = std::fs::read_to_string(&file).unwrap();
            let ctx_dir = dir.join(format!("{case}.context"));
            let ctx = if ctx_dir.is_dir() {
                ctx_dir.as_path()
            } else {
                empty.path()
            };
            let runner = common::runner(&[&pass], true, Some(ctx));
            let outcome = runner
                .run(&source)
                .unwrap_or_else(|e| panic!("{pass}/{case}: parse error: {e}"));
            if case.starts_with("no-") {
                assert!(
                    outcome.findings.is_empty(),
                    "{pass}/{case}: expected no finding, got {:#?}",
                    outcome.findings
                );
            }
            assert!(outcome.converged, "{pass}/{case}: fixes did not converge");
            assert!(
                outcome.rejected.is_empty(),
                "{pass}/{case}: rejected fixes {:?}",
                outcome.rejected
            );
            // The second run sees the files the first one created (e.g. `.dockerignore`).
            let with_new_files = tempfile::tempdir().unwrap();
            copy_dir(ctx, with_new_files.path());
            for (rel, content) in &outcome.new_files {
                std::fs::write(with_new_files.path().join(rel), content).unwrap();
            }
            let runner = common::runner(&[&pass], true, Some(with_new_files.path()));
            let again = runner.run(&outcome.fixed).expect("output parses");
            assert!(
                again.applied.is_empty(),
                "{pass}/{case}: not idempotent, second run applied {:?}",
                again.applied
            );
            let text = common::suggest_text("Dockerfile", &source, &outcome, true);
            insta::with_settings!({
                snapshot_path => root.join("snapshots"),
                prepend_module_to_snapshot => false,
                input_file => &file,
            }, {
                insta::assert_snapshot!(format!("{pass}__{case}"), text);
            });
            cases += 1;
        }
    }
    eprintln!("{cases} fixture cases checked");
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
