//! Engine test: Ctrl-C during `dopt suggest --build` removes the images and
//! containers of the run, and dopt exits with 130.

mod docker_support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use docker_support::{
    block_on, context, engine_or_skip, ensure_base_image, image_ids, image_tags_with_prefix,
    options, BASE,
};
use dopt::docker::Engine;

/// Ids of the containers (any state) labelled by a dopt run whose id starts with
/// `prefix`.
fn containers_with_prefix(engine: &Engine, prefix: &str) -> Vec<String> {
    let options = bollard::query_parameters::ListContainersOptionsBuilder::default()
        .all(true)
        .build();
    block_on(engine.docker().list_containers(Some(options)))
        .unwrap()
        .into_iter()
        .filter(|c| {
            c.labels
                .as_ref()
                .and_then(|labels| labels.get("dopt.run"))
                .is_some_and(|run| run.starts_with(prefix))
        })
        .filter_map(|c| c.id)
        .collect()
}

/// No tag and no container of the runs whose id starts with `prefix` is left.
fn assert_nothing_left(engine: &Engine, prefix: &str) {
    assert_eq!(image_tags_with_prefix(engine, prefix), Vec::<String>::new());
    assert_eq!(containers_with_prefix(engine, prefix), Vec::<String>::new());
}

/// Starts `dopt suggest --build` on a Dockerfile whose image sleeps, and waits
/// until verification runs its container, after all four builds: (the context,
/// the process, the prefix of its run id).
fn dopt_verifying_a_sleeper(engine: &Engine) -> (tempfile::TempDir, std::process::Child, String) {
    ensure_base_image(engine);
    // Two RUNs that dopt merges (the second cleans up after the first); the image's command sleeps, so verification is
    // still running its container when Ctrl-C arrives, after all four builds.
    let dir = context(&[
        (
            "Dockerfile",
            &format!(
                "FROM {BASE}\nCOPY hello.sh /app/\nRUN mkdir /scratch && echo one\nRUN echo two && rm -rf /scratch\n\
                 CMD [\"sleep\", \"293\"]\n"
            ),
        ),
        ("hello.sh", "echo hello\n"),
    ]);
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("dopt"))
        .args(["suggest", "--build", "--run-timeout", "200"])
        .arg(dir.path().join("Dockerfile"))
        .env_remove("CI")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let prefix = format!("dopt-{:x}", child.id());

    // Wait until the verification container runs.
    let deadline = Instant::now() + Duration::from_secs(180);
    while containers_with_prefix(engine, &prefix).is_empty() {
        if let Some(status) = child.try_wait().unwrap() {
            let output = child.wait_with_output().unwrap();
            panic!(
                "dopt ended early ({status}): {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        assert!(
            Instant::now() < deadline,
            "no verification container came up"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    (dir, child, prefix)
}

#[test]
fn ctrl_c_during_build_removes_what_dopt_created_and_exits_130() {
    let Some(engine) =
        engine_or_skip("ctrl_c_during_build_removes_what_dopt_created_and_exits_130")
    else {
        return;
    };
    let (_dir, child, prefix) = dopt_verifying_a_sleeper(&engine);
    let images_before = image_tags_with_prefix(&engine, &prefix);
    assert!(images_before.len() >= 2, "{images_before:?}");

    let interrupted_at = Instant::now();
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stderr}");
    println!(
        "exited {:?} {:.1} s after Ctrl-C; images before: {images_before:?}",
        output.status.code(),
        interrupted_at.elapsed().as_secs_f64()
    );
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(interrupted_at.elapsed() < Duration::from_secs(30));
    assert_nothing_left(&engine, &prefix);
}

/// Whether the image was made by a step whose command contains `marker`.
fn made_by(engine: &Engine, id: &str, marker: &str) -> bool {
    // The newest history entry is the step that made the image.
    block_on(engine.docker().image_history(id)).is_ok_and(|history| {
        history
            .first()
            .is_some_and(|h| h.created_by.contains(marker))
    })
}

#[test]
fn ctrl_c_during_a_classic_build_removes_its_finished_steps() {
    let Some(engine) = engine_or_skip("ctrl_c_during_a_classic_build_removes_its_finished_steps")
    else {
        return;
    };
    ensure_base_image(&engine);
    let marker = format!("step-done-{}", std::process::id());
    let dir = context(&[
        (
            "Dockerfile",
            &format!("FROM {BASE}\nRUN mkdir /scratch && echo {marker}\nRUN echo two && sleep 271 && rm -rf /scratch\nCMD [\"true\"]\n"),
        ),
        ("hello.sh", "echo hello\n"),
    ]);
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("dopt"))
        .args(["suggest", "--build", "--builder", "classic"])
        .arg(dir.path().join("Dockerfile"))
        .env_remove("CI")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the first step's image exists and the second step runs.
    let deadline = Instant::now() + Duration::from_secs(120);
    let step_image = loop {
        let running_sleep = block_on(
            engine
                .docker()
                .list_containers(None::<bollard::query_parameters::ListContainersOptions>),
        )
        .unwrap()
        .iter()
        .any(|c| c.command.as_deref().unwrap_or("").contains("sleep 271"));
        let step = image_ids(&engine, true, &[])
            .into_iter()
            .find(|id| made_by(&engine, id, &marker));
        if let (true, Some(step)) = (running_sleep, step) {
            break step;
        }
        if child.try_wait().unwrap().is_some() {
            let output = child.wait_with_output().unwrap();
            panic!(
                "dopt ended early: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        assert!(
            Instant::now() < deadline,
            "the build did not get to `sleep`"
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        block_on(engine.docker().inspect_image(&step_image)).is_err(),
        "the finished step's image {step_image} is left"
    );
}

#[test]
fn the_next_run_removes_what_a_killed_run_left() {
    let Some(engine) = engine_or_skip("the_next_run_removes_what_a_killed_run_left") else {
        return;
    };
    let (dir, mut child, prefix) = dopt_verifying_a_sleeper(&engine);
    // SIGKILL: no chance to clean up.
    child.kill().unwrap();
    child.wait().unwrap();
    let left = image_tags_with_prefix(&engine, &prefix);
    assert!(left.len() >= 2, "{left:?}");
    assert!(!containers_with_prefix(&engine, &prefix).is_empty());

    let dockerfile = format!("FROM {BASE}\nCMD [\"echo\", \"hi\"]\n");
    let report =
        dopt::docker::compare_blocking(&dockerfile, &dockerfile, &options(dir.path())).unwrap();
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("killed") && n.contains(&prefix)),
        "{:?}",
        report.notes
    );
    assert_nothing_left(&engine, &prefix);
}
