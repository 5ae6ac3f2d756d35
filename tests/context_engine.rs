//! The build context we pack, checked against a real engine: `COPY . /ctx` must see exactly
//! the files `docker build` gives it for a `.dockerignore` full of Docker-specific rules.
//! The expected list was produced by the `docker` CLI (28.2, legacy builder) on Docker 20.10;
//! when the CLI is installed the test also compares with it live.
//!
//! Also checks the local Dockerfile frontend image from `scripts/standin-bases.sh`, which makes
//! `# syntax=` lines and heredocs work on engines whose built-in frontend predates them.
//!
//! Skips (with a message) without an engine, unless `CI` is set.

mod docker_support;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use bollard::container::LogOutput;
use bollard::models::ContainerCreateBody;
use bollard::query_parameters::{
    BuildImageOptionsBuilder, BuilderVersion, LogsOptionsBuilder, RemoveContainerOptionsBuilder,
    RemoveImageOptionsBuilder,
};
use docker_support::{engine_or_skip, ensure_base_image, BASE};
use dopt::docker::context::{build_context_tar, build_context_tar_for_buildkit};
use dopt::docker::Engine;
use futures_util::StreamExt;

const DOCKERIGNORE: &str = "# comment
*.log
!keep.log
docs
!docs/README.md
**/node_modules
/build/
a/*
!a
src/**/*.tmp
[b]ar
\\*star
 spaced 
Dockerfile
.dockerignore
**foo
.git
  # not a comment
*.md
!README*.md
";

const FILES: &[&str] = &[
    "app.log",
    "keep.log",
    "sub/app.log",
    "sub/keep.log",
    "docs/README.md",
    "docs/x.md",
    "node_modules/x",
    "web/node_modules/y",
    "build/out",
    "a/b",
    "a/c/d",
    "src/x.tmp",
    "src/d/e.tmp",
    "src/y.py",
    "bar",
    "*star",
    "spaced",
    "foo/z",
    "barfoo",
    "other.txt",
    ".git/HEAD",
    "we ird.txt",
    "x.md",
    "README.md",
];

/// What `COPY . /ctx` sees with the `docker` CLI (`find /ctx | sort`, `/ctx/` stripped).
const EXPECTED: &[&str] = &[
    "README.md",
    "a",
    "docs",
    "docs/README.md",
    "keep.log",
    "link",
    "other.txt",
    "src",
    "src/d",
    "src/y.py",
    "sub",
    "sub/app.log",
    "sub/keep.log",
    "we ird.txt",
    "web",
];

fn make_context(dir: &Path) {
    for file in FILES {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, file).unwrap();
    }
    std::os::unix::fs::symlink("other.txt", dir.join("link")).unwrap();
    std::fs::write(dir.join(".dockerignore"), DOCKERIGNORE).unwrap();
    std::fs::write(dir.join("Dockerfile"), dockerfile()).unwrap();
}

fn dockerfile() -> String {
    format!("FROM {BASE}\nCOPY . /ctx\n")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

async fn build(engine: &Engine, tar: Vec<u8>, tag: &str, buildkit: bool) {
    let mut options = BuildImageOptionsBuilder::default()
        .dockerfile("Dockerfile")
        .t(tag)
        .rm(true)
        .forcerm(true)
        .version(if buildkit {
            BuilderVersion::BuilderBuildKit
        } else {
            BuilderVersion::BuilderV1
        });
    if buildkit {
        options = options.session(&format!("{}-session", tag.replace([':', '/'], "-")));
    }
    let mut stream =
        engine
            .docker()
            .build_image(options.build(), None, Some(bollard::body_full(tar.into())));
    while let Some(item) = stream.next().await {
        item.unwrap_or_else(|e| panic!("building {tag}: {e}"));
    }
}

/// `find /ctx` in a container of `image`, as sorted context-relative paths.
async fn files_in(engine: &Engine, image: &str) -> Vec<String> {
    let docker = engine.docker();
    let body = ContainerCreateBody {
        image: Some(image.to_string()),
        cmd: Some(vec!["find".into(), "/ctx".into()]),
        labels: Some(HashMap::from([(
            "dopt.test".to_string(),
            "context_engine".to_string(),
        )])),
        ..Default::default()
    };
    let id = docker.create_container(None, body).await.unwrap().id;
    docker.start_container(&id, None).await.unwrap();
    let mut wait = docker.wait_container(&id, None);
    while let Some(status) = wait.next().await {
        status.unwrap();
    }
    let mut logs = docker.logs(
        &id,
        Some(LogsOptionsBuilder::default().stdout(true).build()),
    );
    let mut out = Vec::new();
    while let Some(Ok(chunk)) = logs.next().await {
        if let LogOutput::StdOut { message } = chunk {
            out.extend_from_slice(&message);
        }
    }
    let remove = RemoveContainerOptionsBuilder::default().force(true).build();
    docker.remove_container(&id, Some(remove)).await.unwrap();
    let mut files: Vec<String> = String::from_utf8_lossy(&out)
        .lines()
        .filter_map(|line| line.strip_prefix("/ctx/").map(str::to_string))
        .collect();
    files.sort();
    files
}

async fn remove_image(engine: &Engine, tag: &str) {
    let options = RemoveImageOptionsBuilder::default().force(true).build();
    let _ = engine.docker().remove_image(tag, Some(options), None).await;
}

#[test]
fn copy_sees_what_docker_build_sends() {
    let Some(engine) = engine_or_skip("copy_sees_what_docker_build_sends") else {
        return;
    };
    ensure_base_image(&engine);
    let dir = tempfile::tempdir().unwrap();
    make_context(dir.path());
    let rt = runtime();
    let pid = std::process::id();
    let classic_tag = format!("dopt-test-context:classic-{pid}");
    let buildkit_tag = format!("dopt-test-context:buildkit-{pid}");

    let tar = build_context_tar(dir.path(), "Dockerfile", dockerfile().as_bytes()).unwrap();
    rt.block_on(build(&engine, tar, &classic_tag, false));
    let classic = rt.block_on(files_in(&engine, &classic_tag));

    let tar =
        build_context_tar_for_buildkit(dir.path(), "Dockerfile", dockerfile().as_bytes()).unwrap();
    rt.block_on(build(&engine, tar, &buildkit_tag, true));
    let buildkit = rt.block_on(files_in(&engine, &buildkit_tag));

    rt.block_on(remove_image(&engine, &classic_tag));
    rt.block_on(remove_image(&engine, &buildkit_tag));

    assert_eq!(classic, EXPECTED);
    // BuildKit through the API filters nothing itself and must read the Dockerfile from the
    // tar, so an excluded Dockerfile is the one difference left.
    let mut expected_buildkit: Vec<&str> = EXPECTED.to_vec();
    expected_buildkit.push("Dockerfile");
    expected_buildkit.sort();
    assert_eq!(buildkit, expected_buildkit);

    // Live comparison with the docker CLI's own context, when the CLI is here.
    let cli_tag = format!("dopt-test-context:cli-{pid}");
    let cli_build = Command::new("docker")
        .args(["build", "-q", "-t", &cli_tag])
        .arg(dir.path())
        .env("DOCKER_BUILDKIT", "0")
        .output();
    match cli_build {
        Ok(output) if output.status.success() => {
            let cli = rt.block_on(files_in(&engine, &cli_tag));
            rt.block_on(remove_image(&engine, &cli_tag));
            assert_eq!(classic, cli, "our context vs the docker CLI's");
        }
        Ok(output) => eprintln!(
            "docker CLI build failed, live comparison skipped: {}",
            String::from_utf8_lossy(&output.stderr)
        ),
        Err(e) => eprintln!("no docker CLI, live comparison skipped: {e}"),
    }
}

/// The frontend image `scripts/standin-bases.sh` builds, named as the corpus files ask for it.
const FRONTEND: &str = "docker/dockerfile:1.4";

async fn build_logged(
    engine: &Engine,
    tar: Vec<u8>,
    tag: &str,
    build_args: &[(&str, &str)],
) -> Result<(), String> {
    let args: HashMap<String, String> = build_args
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let options = BuildImageOptionsBuilder::default()
        .dockerfile("Dockerfile")
        .t(tag)
        .rm(true)
        .forcerm(true)
        .buildargs(&args)
        .version(BuilderVersion::BuilderBuildKit)
        .session(&format!("{}-session", tag.replace([':', '/'], "-")));
    let mut stream =
        engine
            .docker()
            .build_image(options.build(), None, Some(bollard::body_full(tar.into())));
    while let Some(item) = stream.next().await {
        item.map_err(|e| e.to_string())?;
    }
    Ok(())
}

#[test]
fn local_frontend_image_runs_heredocs() {
    let Some(engine) = engine_or_skip("local_frontend_image_runs_heredocs") else {
        return;
    };
    let rt = runtime();
    if rt
        .block_on(engine.docker().inspect_image(FRONTEND))
        .is_err()
    {
        eprintln!("SKIPPED local_frontend_image_runs_heredocs: no local {FRONTEND} (scripts/standin-bases.sh builds it)");
        return;
    }
    ensure_base_image(&engine);
    let dir = tempfile::tempdir().unwrap();
    let pid = std::process::id();
    let heredoc = format!("FROM {BASE}\nRUN <<EOF\necho built by a heredoc > /heredoc.txt\nEOF\nCOPY <<EOT /inline.txt\ninline\nEOT\n");

    // With a `# syntax=` line, BuildKit picks the local image instead of pulling it.
    let tag = format!("dopt-test-context:heredoc-{pid}");
    let with_syntax = format!("# syntax={FRONTEND}\n{heredoc}");
    let tar =
        build_context_tar_for_buildkit(dir.path(), "Dockerfile", with_syntax.as_bytes()).unwrap();
    rt.block_on(build_logged(&engine, tar, &tag, &[])).unwrap();
    let body = ContainerCreateBody {
        image: Some(tag.clone()),
        cmd: Some(vec![
            "cat".into(),
            "/heredoc.txt".into(),
            "/inline.txt".into(),
        ]),
        ..Default::default()
    };
    let output = rt.block_on(async {
        let docker = engine.docker();
        let id = docker.create_container(None, body).await.unwrap().id;
        docker.start_container(&id, None).await.unwrap();
        let mut wait = docker.wait_container(&id, None);
        while let Some(status) = wait.next().await {
            status.unwrap();
        }
        let mut logs = docker.logs(
            &id,
            Some(LogsOptionsBuilder::default().stdout(true).build()),
        );
        let mut out = Vec::new();
        while let Some(Ok(chunk)) = logs.next().await {
            if let LogOutput::StdOut { message } = chunk {
                out.extend_from_slice(&message);
            }
        }
        let remove = RemoveContainerOptionsBuilder::default().force(true).build();
        docker.remove_container(&id, Some(remove)).await.unwrap();
        String::from_utf8_lossy(&out).into_owned()
    });
    assert_eq!(output, "built by a heredoc\ninline\n");

    // Without the line, `BUILDKIT_SYNTAX` selects it.
    let tag2 = format!("dopt-test-context:heredoc-arg-{pid}");
    let tar = build_context_tar_for_buildkit(dir.path(), "Dockerfile", heredoc.as_bytes()).unwrap();
    let result = rt.block_on(build_logged(
        &engine,
        tar,
        &tag2,
        &[("BUILDKIT_SYNTAX", FRONTEND)],
    ));
    rt.block_on(remove_image(&engine, &tag));
    rt.block_on(remove_image(&engine, &tag2));
    result.unwrap();
}
