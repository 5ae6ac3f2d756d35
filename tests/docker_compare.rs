//! Engine tests: really build, measure and run images on a local busybox base.
//! They skip (with a message) when no engine is available, unless `CI` is set.

mod docker_support;

use docker_support::{context, engine_or_skip, ensure_base_image, options, BASE};
use dopt::docker::{compare_blocking, BuilderChoice, BuilderKind, DockerError, VerifyMode};

/// Sources plus a dependency manifest. `deps.txt` stands for `requirements.txt`.
fn app_files() -> Vec<(&'static str, &'static str)> {
    vec![
        ("requirements.txt", "dep1\ndep2\n"),
        ("hello.sh", "echo hello from the app\n"),
        ("data/extra.txt", "extra\n"),
    ]
}

/// Three RUNs after `COPY .`: every source edit reinstalls the "dependencies".
fn original_dockerfile() -> String {
    format!(
        "FROM {BASE}\n\
         WORKDIR /app\n\
         COPY . /app\n\
         RUN sleep 1 && mkdir -p /opt/deps\n\
         RUN sleep 1 && echo dep1 > /opt/deps/a\n\
         RUN sleep 1 && echo dep2 > /opt/deps/b\n\
         CMD [\"sh\", \"-c\", \"cat /opt/deps/a /opt/deps/b && sh /app/hello.sh\"]\n"
    )
}

/// The same result with the RUNs merged and placed before `COPY .`.
fn optimized_dockerfile() -> String {
    format!(
        "FROM {BASE}\n\
         WORKDIR /app\n\
         RUN sleep 1 && mkdir -p /opt/deps && sleep 1 && echo dep1 > /opt/deps/a && sleep 1 && echo dep2 > /opt/deps/b\n\
         COPY . /app\n\
         CMD [\"sh\", \"-c\", \"cat /opt/deps/a /opt/deps/b && sh /app/hello.sh\"]\n"
    )
}

#[test]
fn equivalent_pair_is_verified_and_measured() {
    let Some(engine) = engine_or_skip("equivalent_pair_is_verified_and_measured") else {
        return;
    };
    ensure_base_image(&engine);
    let dir = context(&app_files());
    let report = compare_blocking(
        &original_dockerfile(),
        &optimized_dockerfile(),
        &options(dir.path()),
    )
    .unwrap();
    println!("{}", report.to_markdown());

    assert_eq!(report.builder, BuilderKind::Classic);
    let before = report.original.image.as_ref().unwrap();
    let after = report.optimized.image.as_ref().unwrap();
    assert!(before.size_bytes > 0 && after.size_bytes > 0);
    // Base layer + WORKDIR's layer are shared; 3 RUN + COPY become 1 RUN + COPY.
    assert_eq!(before.layers - after.layers, 2, "{before:?}\n{after:?}");
    assert!(
        report.standin_bases,
        "the test base carries the stand-in label"
    );
    let base = report.original.base_image.as_ref().unwrap();
    assert_eq!(base.reference, BASE);
    assert!(base.size_bytes > 1_000_000 && base.size_bytes <= before.size_bytes);
    assert_eq!(base.standin.as_deref(), Some("busybox-test-base"));
    assert_eq!(report.warm_edit_file.as_deref(), Some("hello.sh"));
    let (warm_before, warm_after) = (
        report.original.warm_rebuild_seconds.unwrap(),
        report.optimized.warm_rebuild_seconds.unwrap(),
    );
    // The original reruns three one-second RUNs after a source edit; the optimized
    // one only the COPY.
    assert!(warm_before >= 3.0, "{warm_before}");
    assert!(
        warm_after < warm_before - 1.5,
        "{warm_after} vs {warm_before}"
    );
    assert!(report.original.cold_build_seconds >= 3.0);

    assert!(report.verified, "{}", report.to_markdown());
    let verification = report.verification.as_ref().unwrap();
    assert_eq!(verification.mode, VerifyMode::Command);
    assert_eq!(
        verification.original.stdout.as_deref(),
        Some("dep1\ndep2\nhello from the app\n")
    );
    assert_eq!(verification.original.exit_code, Some(0));
    assert_eq!(verification.original.uid.as_deref(), Some("0"));
    assert_eq!(verification.workdir_compared.as_deref(), Some("/app"));
    assert_eq!(verification.missing_files_total, 0);

    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(json["verified"], true);
    assert_eq!(json["builder"], "classic");
    assert!(json["original"]["image"]["size_bytes"].as_u64().unwrap() > 0);
    let markdown = report.to_markdown();
    assert!(markdown.contains("**Verified**"), "{markdown}");
    assert!(markdown.contains("stand-in base images"), "{markdown}");
    assert!(report.kept_images.is_empty());
    // Cleanup: the tags dopt created are gone.
    let rt = tokio::runtime::Runtime::new().unwrap();
    assert!(rt
        .block_on(engine.docker().inspect_image(&report.original.tag))
        .is_err());
}

#[test]
fn different_output_and_missing_files_are_not_verified() {
    let Some(engine) = engine_or_skip("different_output_and_missing_files_are_not_verified") else {
        return;
    };
    ensure_base_image(&engine);
    let dir = context(&app_files());
    let original =
        format!("FROM {BASE}\nWORKDIR /app\nCOPY . /app\nCMD [\"sh\", \"/app/hello.sh\"]\n");
    // Prints something else and loses a file (and drops root, which alone is fine).
    let optimized = format!(
        "FROM {BASE}\nWORKDIR /app\nCOPY . /app\nRUN rm -r /app/data\nUSER nobody\n\
         CMD [\"echo\", \"something else\"]\n"
    );
    let report = compare_blocking(&original, &optimized, &options(dir.path())).unwrap();
    println!("{}", report.to_markdown());
    assert!(!report.verified);
    let verification = report.verification.as_ref().unwrap();
    let reasons = verification.reasons.join("\n");
    assert!(
        reasons.contains("printed different output")
            && reasons.contains("\"hello from the app\"")
            && reasons.contains("\"something else\""),
        "{reasons}"
    );
    assert!(reasons.contains("missing from the optimized"), "{reasons}");
    assert_eq!(
        verification.missing_files,
        vec!["data".to_string(), "data/extra.txt".to_string()]
    );
    assert!(
        !reasons.contains("uid"),
        "dropping root is not a difference: {reasons}"
    );
    assert_eq!(verification.optimized.uid.as_deref(), Some("65534"));
    assert!(report.to_markdown().contains("**Not verified**"));
}

#[test]
fn http_servers_are_compared_by_status_and_health() {
    let Some(engine) = engine_or_skip("http_servers_are_compared_by_status_and_health") else {
        return;
    };
    ensure_base_image(&engine);
    let dir = context(&[("www/index.html", "<h1>hi</h1>\n"), ("notes.md", "x\n")]);
    let server = |extra: &str| {
        format!(
            "FROM {BASE}\nWORKDIR /srv\nCOPY . /srv\n{extra}EXPOSE 8080\n\
             HEALTHCHECK CMD wget -q -O /dev/null http://127.0.0.1:8080/ || exit 1\n\
             CMD [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/srv/www\"]\n"
        )
    };
    let mut opts = options(dir.path());
    opts.timeout = std::time::Duration::from_secs(15);

    let same = compare_blocking(&server(""), &server("RUN true\n"), &opts).unwrap();
    println!("{}", same.to_markdown());
    let verification = same.verification.as_ref().unwrap();
    assert_eq!(verification.mode, VerifyMode::Http { port: 8080 });
    assert_eq!(verification.original.http_status, Some(200));
    assert_eq!(verification.optimized.http_status, Some(200));
    assert_eq!(verification.original.health.as_deref(), Some("healthy"));
    assert_eq!(verification.optimized.uid.as_deref(), Some("0"));
    assert!(same.verified, "{}", same.to_markdown());

    let broken =
        compare_blocking(&server(""), &server("RUN rm /srv/www/index.html\n"), &opts).unwrap();
    println!("{}", broken.to_markdown());
    assert!(!broken.verified);
    let verification = broken.verification.as_ref().unwrap();
    assert_eq!(verification.optimized.http_status, Some(404));
    let reasons = verification.reasons.join("\n");
    assert!(
        reasons.contains("answered 200 on the original but 404 on the optimized"),
        "{reasons}"
    );
    assert!(
        reasons.contains("HEALTHCHECK did not become healthy"),
        "{reasons}"
    );
    assert_eq!(verification.missing_files, vec!["www/index.html"]);
}

#[test]
fn failing_optimized_build_is_reported_with_its_log() {
    let Some(engine) = engine_or_skip("failing_optimized_build_is_reported_with_its_log") else {
        return;
    };
    ensure_base_image(&engine);
    let dir = context(&[("a.txt", "a\n")]);
    let original = format!("FROM {BASE}\nCOPY a.txt /a.txt\nCMD [\"cat\", \"/a.txt\"]\n");
    let optimized = format!(
        "FROM {BASE}\nCOPY a.txt /a.txt\nRUN echo about to fail && exit 3\nCMD [\"cat\", \"/a.txt\"]\n"
    );
    let report = compare_blocking(&original, &optimized, &options(dir.path())).unwrap();
    assert!(!report.verified);
    assert!(!report.optimized.built);
    assert!(report.verification.is_none());
    let error = report.optimized.build_error.as_deref().unwrap();
    assert!(error.contains("returned a non-zero code: 3"), "{error}");
    let tail = report.optimized.log_tail.as_deref().unwrap();
    assert!(tail.contains("about to fail"), "{tail}");
    let markdown = report.to_markdown();
    assert!(markdown.contains("failed to build"), "{markdown}");

    // The original failing is an error: there is nothing to compare against.
    let err = compare_blocking(&optimized, &original, &options(dir.path())).unwrap_err();
    match err {
        DockerError::OriginalBuildFailed { log_tail, .. } => {
            assert!(log_tail.contains("about to fail"), "{log_tail}")
        }
        other => panic!("unexpected error {other}"),
    }
}

/// A stage the target does not need, with a heredoc (as in the awesome-compose
/// samples' `dev-envs` stages).
const DEV_STAGE: &str = "\nFROM app AS dev\nRUN <<EOF\necho dev tools\nEOF\n";

#[test]
fn run_mount_builds_with_buildkit_session() {
    let Some(engine) = engine_or_skip("run_mount_builds_with_buildkit_session") else {
        return;
    };
    ensure_base_image(&engine);
    let dir = context(&[("main.sh", "echo built with buildkit\n")]);
    let original = format!(
        "# syntax=docker/dockerfile:1.4\n\
         FROM {BASE} AS app\nWORKDIR /w\nCOPY . /w\n\
         RUN --mount=type=cache,target=/cache echo cached > /cache/x && cp /cache/x /w/x\n\
         RUN echo second > /w/y\n\
         CMD [\"sh\", \"/w/main.sh\"]\n{DEV_STAGE}"
    );
    let optimized = format!(
        "# syntax=docker/dockerfile:1.4\n\
         FROM {BASE} AS app\nWORKDIR /w\n\
         RUN --mount=type=cache,target=/cache mkdir -p /w && echo cached > /cache/x && cp /cache/x /w/x && echo second > /w/y\n\
         COPY . /w\n\
         CMD [\"sh\", \"/w/main.sh\"]\n{DEV_STAGE}"
    );
    // The host network, as on our machines where registries are reached through it;
    // BuildKit needs the `network.host` entitlement for it, which the engine grants.
    let mut opts = options(dir.path());
    opts.network = Some("host".into());
    opts.target = Some("app".into());
    let report = compare_blocking(&original, &optimized, &opts).unwrap();
    println!("{}", report.to_markdown());
    assert_eq!(report.builder, BuilderKind::BuildKit);
    assert!(report.optimized.built, "{:?}", report.optimized.log_tail);
    // Without the `docker/dockerfile:1.4` frontend image (a stand-in may be made by
    // scripts/standin-bases.sh), BuildKit's built-in frontend is used; on engine
    // 20.10 it cannot parse the dev stage's heredoc, which the target does not
    // need, so that stage is left out.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let frontend_present = rt
        .block_on(engine.docker().inspect_image("docker/dockerfile:1.4"))
        .is_ok();
    let has_note = |text: &str| report.notes.iter().any(|n| n.contains(text));
    assert_eq!(
        has_note("built-in Dockerfile frontend"),
        !frontend_present,
        "{:?}",
        report.notes
    );
    assert_eq!(
        has_note("left out of both builds"),
        !frontend_present,
        "{:?}",
        report.notes
    );
    let verification = report.verification.as_ref().unwrap();
    assert_eq!(
        verification.original.stdout.as_deref(),
        Some("built with buildkit\n")
    );
    assert!(report.verified, "{}", report.to_markdown());
    let (before, after) = (
        report.original.image.as_ref().unwrap(),
        report.optimized.image.as_ref().unwrap(),
    );
    assert_eq!(before.layers, after.layers + 1);
    assert!(report.original.warm_rebuild_seconds.is_some());

    // The classic builder cannot build it, and says so.
    let mut classic = options(dir.path());
    classic.builder = BuilderChoice::Classic;
    classic.target = Some("app".into());
    match compare_blocking(&original, &optimized, &classic) {
        Err(DockerError::OriginalBuildFailed { log_tail, .. }) => {
            assert!(
                log_tail.contains("--mount option requires BuildKit"),
                "{log_tail}"
            )
        }
        other => panic!("expected the classic builder to reject RUN --mount: {other:?}"),
    }
}

#[test]
fn images_that_cannot_run_are_inconclusive_not_errors() {
    let Some(engine) = engine_or_skip("images_that_cannot_run_are_inconclusive_not_errors") else {
        return;
    };
    ensure_base_image(&engine);
    let dir = context(&[("a.txt", "a\n")]);
    // The base has no CMD, so neither image can start a container.
    let original = format!("FROM {BASE}\nCOPY a.txt /a.txt\nRUN true\n");
    let optimized = format!("FROM {BASE}\nCOPY a.txt /a.txt\n");
    let report = compare_blocking(&original, &optimized, &options(dir.path())).unwrap();
    println!("{}", report.to_markdown());
    assert!(!report.verified);
    let verification = report.verification.as_ref().unwrap();
    assert!(verification.inconclusive);
    let reasons = verification.reasons.join("\n");
    assert!(
        reasons.contains("original image itself could not be run"),
        "{reasons}"
    );
    assert!(report.to_markdown().contains("inconclusive"));
}

/// Containers (any state) whose command mentions `marker`.
fn containers_running(engine: &dopt::docker::Engine, marker: &str) -> Vec<String> {
    let options = bollard::query_parameters::ListContainersOptionsBuilder::default()
        .all(true)
        .build();
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(engine.docker().list_containers(Some(options)))
        .unwrap()
        .into_iter()
        .filter(|c| c.command.as_deref().unwrap_or("").contains(marker))
        .filter_map(|c| c.id)
        .collect()
}

#[test]
fn a_hung_build_is_stopped_and_reported() {
    let Some(engine) = engine_or_skip("a_hung_build_is_stopped_and_reported") else {
        return;
    };
    ensure_base_image(&engine);
    let dir = context(&app_files());
    let original = format!("FROM {BASE}\nCOPY . /app\nCMD [\"sh\", \"/app/hello.sh\"]\n");
    let hung =
        format!("FROM {BASE}\nCOPY . /app\nRUN sleep 347\nCMD [\"sh\", \"/app/hello.sh\"]\n");
    for builder in [BuilderChoice::Classic, BuilderChoice::BuildKit] {
        let mut opts = options(dir.path());
        opts.builder = builder;
        opts.build_timeout = Some(std::time::Duration::from_secs(4));
        let started = std::time::Instant::now();
        let report = compare_blocking(&original, &hung, &opts).unwrap();
        let elapsed = started.elapsed().as_secs_f64();
        println!("{builder:?}: {elapsed:.1} s\n{}", report.to_markdown());
        assert!(elapsed < 60.0, "{elapsed}");
        assert!(report.original.built);
        assert!(!report.optimized.built);
        let error = report.optimized.build_error.as_deref().unwrap();
        assert!(error.contains("did not finish within 4 s"), "{error}");
        assert!((4.0..15.0).contains(&report.optimized.cold_build_seconds));

        // The hung original is an error that says so.
        let err = compare_blocking(&hung, &original, &opts).unwrap_err();
        assert!(
            matches!(&err, DockerError::OriginalBuildFailed { log_tail, .. }
                if log_tail.contains("did not finish within 4 s")),
            "{err}"
        );
    }
    // Hanging up cancelled the builds: no `sleep 347` is left (the engine needs a
    // moment to stop them).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !containers_running(&engine, "sleep 347").is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "containers left: {:?}",
            containers_running(&engine, "sleep 347")
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}
