//! Engine test: a comparison leaves no image behind, whatever it built: no tag of
//! its run, no dangling `<none>` image of a non-target stage, of a failed or of a
//! stopped build. Every test Dockerfile labels each stage with a marker unique to
//! this test, so the images a run made are counted exactly, even while other tests
//! use the engine.

mod docker_support;

use docker_support::{
    context, engine_or_skip, ensure_base_image, image_ids, image_tags_with_prefix, options, BASE,
};
use dopt::docker::{compare_blocking, BuilderChoice, Engine};

const LABEL: &str = "org.dopt.test.cleanup";

/// Every image (intermediate ones too) whose stage carries `LABEL=marker`.
fn labelled_images(engine: &Engine, marker: &str) -> Vec<String> {
    image_ids(engine, true, &[("label", &format!("{LABEL}={marker}"))])
}

/// Tags of this process's dopt runs (`dopt-<pid><time>:original`...); other
/// processes (a bench, another test binary) may run dopt at the same time.
fn dopt_tags(engine: &Engine) -> Vec<String> {
    image_tags_with_prefix(engine, &format!("dopt-{:x}", std::process::id()))
}

/// A builder stage, a stage the target does not need, and the runtime stage.
fn multi_stage(marker: &str, runtime_step: &str) -> String {
    format!(
        "FROM {BASE} AS build\nLABEL {LABEL}={marker}\nWORKDIR /src\nCOPY . .\n\
         RUN echo built > /src/out.txt\n\n\
         FROM {BASE} AS unused\nLABEL {LABEL}={marker}\nRUN echo never needed > /x\n\n\
         FROM {BASE}\nLABEL {LABEL}={marker}\nWORKDIR /app\n\
         COPY --from=build /src/out.txt /app/out.txt\n{runtime_step}\
         CMD [\"cat\", \"/app/out.txt\"]\n"
    )
}

#[test]
fn a_comparison_leaves_no_image_behind() {
    let Some(engine) = engine_or_skip("a_comparison_leaves_no_image_behind") else {
        return;
    };
    ensure_base_image(&engine);
    let dir = context(&[("main.sh", "echo main\n")]);
    let tags_before = dopt_tags(&engine);
    let dangling_before = image_ids(&engine, false, &[("dangling", "true")]);
    for builder in [BuilderChoice::Classic, BuilderChoice::BuildKit] {
        let marker = format!("{}-{builder:?}", std::process::id());
        assert_eq!(labelled_images(&engine, &marker), Vec::<String>::new());
        let mut opts = options(dir.path());
        opts.builder = builder;

        // Both build (cold and warm), verify and are removed.
        let report = compare_blocking(
            &multi_stage(&marker, ""),
            &multi_stage(&marker, "RUN true\n"),
            &opts,
        )
        .unwrap();
        assert!(report.verified, "{}", report.to_markdown());
        assert!(report.optimized.warm_rebuild_seconds.is_some());
        assert_eq!(
            labelled_images(&engine, &marker),
            Vec::<String>::new(),
            "{builder:?}: a successful comparison left images"
        );

        // The optimized version fails in its last stage, after the others built;
        // then it hangs and is stopped by the build timeout.
        opts.build_timeout = Some(std::time::Duration::from_secs(4));
        for (what, step) in [
            ("a failed build", "RUN echo failing && exit 7\n"),
            ("a stopped build", "RUN sleep 293\n"),
        ] {
            let report = compare_blocking(
                &multi_stage(&marker, ""),
                &multi_stage(&marker, step),
                &opts,
            )
            .unwrap();
            assert!(!report.optimized.built);
            assert_eq!(
                labelled_images(&engine, &marker),
                Vec::<String>::new(),
                "{builder:?}: {what} left images"
            );
        }
    }
    let new_tags: Vec<String> = dopt_tags(&engine)
        .into_iter()
        .filter(|tag| !tags_before.contains(tag))
        .collect();
    assert_eq!(new_tags, Vec::<String>::new());
    // Other tests may build at the same time, so this is informative only: the
    // labelled counts above are the exact check.
    println!(
        "dangling images: {} before, {} after",
        dangling_before.len(),
        image_ids(&engine, false, &[("dangling", "true")]).len()
    );
}
