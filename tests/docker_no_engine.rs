//! Without an engine, dopt says where it looked and how to start one. This runs in
//! its own test binary because it changes DOCKER_HOST for the whole process.

use dopt::docker::{compare_blocking, BuildOptions, DockerError};

#[test]
fn missing_engine_error_says_where_and_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("no-such-docker.sock");
    let host = format!("unix://{}", socket.display());
    // SAFETY (edition 2021: set_var is safe): this binary has a single test, so no
    // other thread reads the environment concurrently.
    std::env::set_var("DOCKER_HOST", &host);
    let mut opts = BuildOptions::new(dir.path());
    opts.progress = false;
    let err = compare_blocking("FROM x\n", "FROM x\n", &opts).unwrap_err();
    assert!(matches!(err, DockerError::NoEngine { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains(&host), "{message}");
    assert!(message.contains("from DOCKER_HOST"), "{message}");
    assert!(message.contains("sudo systemctl start docker"), "{message}");
    assert!(message.contains("dockerd"), "{message}");
    assert!(message.contains("`dopt suggest` and `dopt apply` work without an engine"));
}
