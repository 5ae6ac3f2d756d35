//! Engine test: files a fix creates (DOP022's `.dockerignore`) are part of the
//! optimized build's context, so their savings are measured, while the user's
//! folder is left untouched.

mod docker_support;

use docker_support::{context, engine_or_skip, ensure_base_image, options, BASE};
use dopt::docker::{compare_blocking, BuilderChoice};

const JUNK_BYTES: usize = 5 * 1024 * 1024;

#[test]
fn a_fixs_dockerignore_makes_the_optimized_image_smaller() {
    let Some(engine) = engine_or_skip("a_fixs_dockerignore_makes_the_optimized_image_smaller")
    else {
        return;
    };
    ensure_base_image(&engine);
    let junk = "j".repeat(JUNK_BYTES);
    let dir = context(&[
        ("hello.sh", "echo hello from the app\n"),
        ("node_modules/junk", &junk),
    ]);
    let dockerfile = format!(
        "FROM {BASE}\n\
         WORKDIR /app\n\
         COPY . /app\n\
         CMD [\"sh\", \"/app/hello.sh\"]\n"
    );
    for builder in [BuilderChoice::Classic, BuilderChoice::BuildKit] {
        let mut opts = options(dir.path());
        opts.builder = builder;
        opts.optimized_extra_files = vec![(".dockerignore".into(), "node_modules\n".into())];
        let report = compare_blocking(&dockerfile, &dockerfile, &opts).unwrap();
        println!("{builder:?}\n{}", report.to_markdown());
        let saved = report.size_saved_bytes.unwrap();
        assert!(
            // The new 13-byte `.dockerignore` itself is copied in.
            (JUNK_BYTES as i64 - 1024..JUNK_BYTES as i64 + 64 * 1024).contains(&saved),
            "{builder:?}: saved {saved} bytes, expected the 5 MiB node_modules/junk"
        );
        // Both versions edit the same file for the warm rebuild.
        assert_eq!(report.warm_edit_file.as_deref(), Some("hello.sh"));
        assert!(report.optimized.warm_rebuild_seconds.is_some());
        // The behaviour is the same; the files that are gone are reported, not
        // hidden, and do not fail verification: the new `.dockerignore` explains them.
        let verification = report.verification.as_ref().unwrap();
        assert_eq!(
            verification.original.stdout, verification.optimized.stdout,
            "{verification:?}"
        );
        assert!(report.verified, "{}", report.to_markdown());
        assert_eq!(verification.missing_files_total, 0, "{verification:?}");
        // `node_modules` and `node_modules/junk`.
        assert_eq!(verification.explained_removals_total, 2);
        assert!(
            verification.explained_removals[0]
                .paths
                .iter()
                .all(|path| path.starts_with("node_modules")),
            "{:?}",
            verification.explained_removals
        );
    }
    // Never written to the folder.
    assert!(!dir.path().join(".dockerignore").exists());

    // Without the new file, both contexts are the same and so are the sizes.
    let report = compare_blocking(&dockerfile, &dockerfile, &options(dir.path())).unwrap();
    assert_eq!(report.size_saved_bytes, Some(0));
}
