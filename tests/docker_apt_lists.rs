//! Engine test for DOP002's list cleanup: `rm -rf /var/lib/apt/lists/*` must not
//! be added to a RUN while a later RUN of the stage still installs without its
//! own `apt-get update` (here inside an `if`). Built on the stand-in `debian`
//! image of `scripts/standin-bases.sh` with the host network (the Debian mirror is
//! reached through it): with the cleanup the later install finds no package and
//! the build fails; dopt's safe output builds.
//!
//! `cargo test --test docker_apt_lists -- --nocapture` (measured: 113 s on 2
//! cores, engine 20.10; it builds the original and two versions, cold and warm).

mod common;
mod docker_support;

use docker_support::{context, engine_or_skip, options};
use dopt::docker::compare_blocking;

const BASE: &str = "debian:bookworm-slim";

const ORIGINAL: &str = "FROM debian:bookworm-slim\n\
RUN apt-get update && apt-get install -y --no-install-recommends netbase\n\
RUN if true; then apt-get install -y --no-install-recommends libexpat1; fi\n\
CMD [\"sh\", \"-c\", \"test -e /etc/protocols && echo ok\"]\n";

#[test]
fn list_cleanup_is_not_added_before_a_later_install() {
    let Some(engine) = engine_or_skip("list_cleanup_is_not_added_before_a_later_install") else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    if rt.block_on(engine.docker().inspect_image(BASE)).is_err() {
        if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
            panic!("base image {BASE} missing: run scripts/standin-bases.sh");
        }
        eprintln!("SKIPPED: base image {BASE} missing (run scripts/standin-bases.sh)");
        return;
    }
    let dir = context(&[]);
    let mut opts = options(dir.path());
    opts.network = Some("host".into());

    // What dopt does in safe mode: the finding is there, without a fix.
    let runner = common::runner(&["DOP002"], false, Some(dir.path()));
    let outcome = runner.run(ORIGINAL).unwrap();
    let cleanup: Vec<_> = outcome
        .findings
        .iter()
        .filter(|f| f.message.contains("/var/lib/apt/lists"))
        .collect();
    assert!(
        cleanup
            .iter()
            .any(|f| f.fix.is_none() && f.message.contains("line 3")),
        "{cleanup:#?}"
    );
    let fixed = outcome.fixed;
    assert!(!fixed.contains("rm -rf /var/lib/apt/lists"), "{fixed}");
    let report = compare_blocking(ORIGINAL, &fixed, &opts).unwrap();
    assert!(
        report.optimized.built,
        "dopt's output does not build:\n{fixed}\n{:?}",
        report.optimized.build_error
    );

    // The evidence: the cleanup dopt refuses to add breaks this build.
    let naive = ORIGINAL.replacen("netbase\n", "netbase && rm -rf /var/lib/apt/lists/*\n", 1);
    assert_ne!(naive, ORIGINAL);
    let report = compare_blocking(ORIGINAL, &naive, &opts).unwrap();
    assert!(
        !report.optimized.built,
        "the later install built without lists:\n{naive}"
    );
    let log = report.optimized.log_tail.clone().unwrap_or_default()
        + report.optimized.build_error.as_deref().unwrap_or_default();
    assert!(log.contains("Unable to locate package"), "{log}");
}
