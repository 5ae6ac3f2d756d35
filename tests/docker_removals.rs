//! Engine tests: files that a fix removes on purpose (the new `.dockerignore` of
//! DOP022, devDependencies left out by the production-only install of DOP013) are
//! reported but do not fail verification; any other missing file still does.

mod docker_support;

use docker_support::{context, engine_or_skip, ensure_base_image, options, BASE};
use dopt::docker::{compare_blocking, RemovalCause};

const NEW_DOCKERIGNORE: &str = ".git\n*.md\ntests\n";

fn app_with_clutter() -> tempfile::TempDir {
    context(&[
        ("app.sh", "cat /app/data.txt\n"),
        ("data.txt", "the data\n"),
        ("README.md", "# app\n"),
        (".git/HEAD", "ref: refs/heads/main\n"),
        (".git/config", "[core]\n"),
        ("tests/test.sh", "exit 0\n"),
    ])
}

fn dockerfile(extra: &str) -> String {
    format!("FROM {BASE}\nWORKDIR /app\nCOPY . .\n{extra}CMD [\"sh\", \"app.sh\"]\n")
}

#[test]
fn files_left_out_by_the_new_dockerignore_do_not_fail_verification() {
    let Some(engine) =
        engine_or_skip("files_left_out_by_the_new_dockerignore_do_not_fail_verification")
    else {
        return;
    };
    ensure_base_image(&engine);
    let dir = app_with_clutter();
    let mut opts = options(dir.path());
    opts.optimized_extra_files = vec![(".dockerignore".into(), NEW_DOCKERIGNORE.into())];
    let report = compare_blocking(&dockerfile(""), &dockerfile(""), &opts).unwrap();
    let markdown = report.to_markdown();
    println!("{markdown}");

    assert!(report.verified, "{markdown}");
    let verification = report.verification.as_ref().unwrap();
    assert_eq!(verification.missing_files_total, 0, "{verification:?}");
    // .git, .git/HEAD, .git/config, README.md, tests, tests/test.sh.
    assert_eq!(verification.explained_removals_total, 6, "{verification:?}");
    let by_pattern: Vec<(String, usize)> = verification
        .explained_removals
        .iter()
        .map(|group| match &group.cause {
            RemovalCause::NewDockerignore { pattern } => (pattern.clone(), group.paths_total),
            other => panic!("unexpected cause {other:?}"),
        })
        .collect();
    assert_eq!(
        by_pattern,
        vec![
            ("*.md".to_string(), 1),
            (".git".to_string(), 3),
            ("tests".to_string(), 2)
        ]
    );
    assert!(
        markdown.contains("except 6 path(s) removed on purpose"),
        "{markdown}"
    );
    assert!(
        markdown.contains("new `.dockerignore` (pattern `.git`)"),
        "{markdown}"
    );
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(json["verified"], true);
    let groups = json["verification"]["explained_removals"]
        .as_array()
        .unwrap();
    assert_eq!(groups[1]["cause"]["kind"], "new_dockerignore");
    assert_eq!(groups[1]["cause"]["pattern"], ".git");
    assert_eq!(groups[1]["paths"][0], ".git");
}

#[test]
fn a_file_no_fix_removes_still_fails_verification() {
    let Some(engine) = engine_or_skip("a_file_no_fix_removes_still_fails_verification") else {
        return;
    };
    ensure_base_image(&engine);
    let dir = app_with_clutter();
    let mut opts = options(dir.path());
    opts.optimized_extra_files = vec![(".dockerignore".into(), NEW_DOCKERIGNORE.into())];
    // The same output (the app printed its data before the removal mattered is not
    // the point): `hint.txt` is gone, and nothing the fixes did explains it.
    let original = dockerfile("RUN echo hint > hint.txt\n");
    let optimized = dockerfile("");
    let report = compare_blocking(&original, &optimized, &opts).unwrap();
    let markdown = report.to_markdown();
    println!("{markdown}");

    assert!(!report.verified, "{markdown}");
    let verification = report.verification.as_ref().unwrap();
    assert_eq!(verification.missing_files, vec!["hint.txt"]);
    assert_eq!(verification.explained_removals_total, 6);
    let reasons = verification.reasons.join("\n");
    assert!(
        reasons.contains("1 path(s) under /app in the original are missing")
            && reasons.contains("no fix removes them on purpose: hint.txt"),
        "{reasons}"
    );
    assert!(markdown.contains("not explained by any fix"), "{markdown}");
    assert!(markdown.contains("Removed on purpose"), "{markdown}");
}

/// An npm project as the node images leave it, made with busybox: `typescript`
/// is a devDependency (with its `.bin` link), `express` a dependency.
const PACKAGE_JSON: &str = r#"{"name":"app","version":"1.0.0",
"dependencies":{"express":"^4.18.0"},"devDependencies":{"typescript":"^5.0.0"}}"#;

fn install(packages: &[&str]) -> String {
    let mut steps = vec!["mkdir -p node_modules/.bin".to_string()];
    for package in packages {
        steps.push(format!(
            "mkdir -p node_modules/{package}/bin && echo '{{}}' > node_modules/{package}/package.json && echo run > node_modules/{package}/bin/{package}"
        ));
        steps.push(format!(
            "busybox ln -s ../{package}/bin/{package} node_modules/.bin/{package}"
        ));
    }
    steps.join(" && ")
}

#[test]
fn dev_dependencies_left_out_by_a_production_install_do_not_fail_verification() {
    let Some(engine) = engine_or_skip(
        "dev_dependencies_left_out_by_a_production_install_do_not_fail_verification",
    ) else {
        return;
    };
    ensure_base_image(&engine);
    let dir = context(&[
        ("package.json", PACKAGE_JSON),
        ("app.sh", "ls node_modules/express\n"),
    ]);
    let original = format!(
        "FROM {BASE}\nWORKDIR /app\nCOPY package.json app.sh ./\n\
         RUN {}\nCMD [\"sh\", \"app.sh\"]\n",
        install(&["express", "typescript"])
    );
    // What `npm ci --omit=dev` leaves (the marker is what dopt looks for).
    let production = format!(
        "FROM {BASE}\nWORKDIR /app\nCOPY package.json app.sh ./\n\
         RUN echo npm ci --omit=dev && {}\nCMD [\"sh\", \"app.sh\"]\n",
        install(&["express"])
    );
    let opts = options(dir.path());
    let report = compare_blocking(&original, &production, &opts).unwrap();
    let markdown = report.to_markdown();
    println!("{markdown}");
    assert!(report.verified, "{markdown}");
    let verification = report.verification.as_ref().unwrap();
    let group = &verification.explained_removals[0];
    assert_eq!(
        group.cause,
        RemovalCause::DevDependency {
            manifest: "package.json".into()
        }
    );
    assert_eq!(group.packages, vec!["typescript"]);
    // The package folder, its files and its `.bin` link.
    assert_eq!(group.paths_total, 5, "{group:?}");
    assert!(group
        .paths
        .contains(&"node_modules/.bin/typescript".to_string()));
    assert!(
        markdown.contains("devDependencies (per `package.json`)"),
        "{markdown}"
    );

    // Losing a production dependency is not explained, even with that install.
    let broken = format!(
        "FROM {BASE}\nWORKDIR /app\nCOPY package.json app.sh ./\n\
         RUN echo npm ci --omit=dev && {}\nCMD [\"sh\", \"-c\", \"sh app.sh; true\"]\n",
        install(&[])
    );
    let original_ok = original.replace(
        "CMD [\"sh\", \"app.sh\"]",
        "CMD [\"sh\", \"-c\", \"sh app.sh; true\"]",
    );
    let report = compare_blocking(&original_ok, &broken, &opts).unwrap();
    println!("{}", report.to_markdown());
    assert!(!report.verified);
    let verification = report.verification.as_ref().unwrap();
    assert!(
        verification
            .missing_files
            .iter()
            .all(|path| path.contains("express")),
        "{:?}",
        verification.missing_files
    );
    assert_eq!(verification.missing_files_total, 5);
}
