//! Shared setup of the engine tests: find the engine (skip locally, fail in CI when
//! it is missing) and make a tiny busybox base image with `docker import`, so the
//! tests need no registry and no debootstrap.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use dopt::docker::{BuildOptions, Engine};
use futures_util::StreamExt;

/// The base image every test Dockerfile starts FROM.
pub const BASE: &str = "dopt-test-busybox:2";

/// Busybox applets linked into the base image.
const APPLETS: &[&str] = &[
    "sh", "ls", "cat", "echo", "id", "find", "sleep", "httpd", "wget", "mkdir", "rm", "touch",
    "cp", "env", "true", "false", "printf", "test", "[", "dd", "head",
];

static BASE_READY: Mutex<bool> = Mutex::new(false);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Runs a future to completion on a fresh single-threaded runtime.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    runtime().block_on(future)
}

/// Tags of the images whose repository starts with `prefix`.
pub fn image_tags_with_prefix(engine: &Engine, prefix: &str) -> Vec<String> {
    block_on(
        engine
            .docker()
            .list_images(None::<bollard::query_parameters::ListImagesOptions>),
    )
    .unwrap()
    .into_iter()
    .flat_map(|image| image.repo_tags)
    .filter(|tag| tag.starts_with(prefix))
    .collect()
}

/// Ids of the images that pass the list filters (`("dangling", "true")`,
/// `("label", "k=v")`); intermediate images too when `all`.
pub fn image_ids(engine: &Engine, all: bool, filters: &[(&str, &str)]) -> Vec<String> {
    let mut by_name = std::collections::HashMap::<String, Vec<String>>::new();
    for (name, value) in filters {
        by_name
            .entry(name.to_string())
            .or_default()
            .push(value.to_string());
    }
    let options = bollard::query_parameters::ListImagesOptionsBuilder::default()
        .all(all)
        .filters(&by_name)
        .build();
    block_on(engine.docker().list_images(Some(options)))
        .unwrap()
        .into_iter()
        .map(|image| image.id)
        .collect()
}

/// `Some(engine)` when an engine answers. Without one: a test failure when `CI` is
/// set (CI must exercise the engine), otherwise a printed skip.
pub fn engine_or_skip(test: &str) -> Option<Engine> {
    match runtime().block_on(dopt::docker::connect()) {
        Ok(engine) => Some(engine),
        Err(e) => {
            if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
                panic!("CI is set but no Docker engine is available for {test}: {e}");
            }
            eprintln!("SKIPPED {test}: no Docker engine (set CI to make this a failure): {e}");
            None
        }
    }
}

/// A statically linked busybox on this machine (package `busybox-static`).
fn static_busybox() -> Option<PathBuf> {
    ["/bin/busybox", "/usr/bin/busybox", "/sbin/busybox"]
        .iter()
        .map(PathBuf::from)
        .find(|p| {
            // A dynamically linked binary names its loader (ld-linux / ld-musl).
            std::fs::read(p)
                .is_ok_and(|bytes| !bytes.windows(7).any(|w| w == b"/lib64/" || w == b"/lib/ld"))
        })
}

/// Creates [`BASE`] once per test process (kept afterwards: it is 2 MB and makes
/// reruns faster). It carries the stand-in label, like the stand-in bases of
/// `scripts/standin-bases.sh`.
pub fn ensure_base_image(engine: &Engine) {
    let mut ready = BASE_READY.lock().unwrap_or_else(|e| e.into_inner());
    if *ready {
        return;
    }
    let rt = runtime();
    if rt.block_on(engine.docker().inspect_image(BASE)).is_ok() {
        *ready = true;
        return;
    }
    let busybox = static_busybox().unwrap_or_else(|| {
        panic!("the engine tests need a static busybox: apt-get install busybox-static")
    });
    let rootfs = rootfs_tar(&busybox);
    let (repo, tag) = BASE.split_once(':').unwrap();
    let options = bollard::query_parameters::CreateImageOptions {
        from_src: Some("-".into()),
        repo: Some(repo.into()),
        tag: Some(tag.into()),
        changes: vec![
            "LABEL org.dopt.standin=true org.dopt.standin.flavor=busybox-test-base".into(),
        ],
        ..Default::default()
    };
    rt.block_on(async {
        let mut stream = engine.docker().create_image(
            Some(options),
            Some(bollard::body_full(rootfs.into())),
            None,
        );
        while let Some(item) = stream.next().await {
            item.expect("docker import of the busybox rootfs");
        }
    });
    *ready = true;
}

fn rootfs_tar(busybox: &Path) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    let mut dir = |name: &str, mode: u32| {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Directory);
        header.set_mode(mode);
        header.set_size(0);
        header.set_mtime(0);
        tar.append_data(&mut header, name, std::io::empty())
            .unwrap();
    };
    for d in ["bin", "etc", "tmp", "root", "var", "var/www"] {
        dir(d, if d == "tmp" { 0o1777 } else { 0o755 });
    }
    let mut file = |name: &str, mode: u32, data: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_mode(mode);
        header.set_size(data.len() as u64);
        header.set_mtime(0);
        tar.append_data(&mut header, name, data).unwrap();
    };
    file("bin/busybox", 0o755, &std::fs::read(busybox).unwrap());
    file(
        "etc/passwd",
        0o644,
        b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n",
    );
    file("etc/group", 0o644, b"root:x:0:\nnogroup:x:65534:\n");
    for applet in APPLETS {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Symlink);
        header.set_mode(0o777);
        header.set_size(0);
        header.set_mtime(0);
        tar.append_link(&mut header, format!("bin/{applet}"), "busybox")
            .unwrap();
    }
    tar.into_inner().unwrap()
}

/// A temporary build context with the given files.
pub fn context(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, contents) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }
    dir
}

/// Options for tests: no spinner, short timeout.
pub fn options(dir: &Path) -> BuildOptions {
    let mut opts = BuildOptions::new(dir);
    opts.progress = false;
    opts.timeout = std::time::Duration::from_secs(20);
    opts
}
