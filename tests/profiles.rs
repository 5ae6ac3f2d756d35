//! The embedded profiles load, unknown keys are rejected by name, and user
//! profiles override and extend the embedded ones.

use dopt::profiles::{ProfileError, ProfileKind, Profiles, EMBEDDED};

#[test]
fn every_embedded_profile_loads() {
    for (file, text) in EMBEDDED {
        let one = Profiles::from_sources([(file.to_string(), text.to_string())]);
        assert!(one.is_ok(), "{file}: {:?}", one.err());
    }
    let all = Profiles::embedded();
    assert_eq!(
        all.profiles.len(),
        EMBEDDED.len(),
        "profile names are unique"
    );
    for name in [
        "apt", "apk", "dnf", "zypper", "npm", "yarn", "pnpm", "pip", "go", "maven", "gradle",
        "cargo", "gem", "composer",
    ] {
        assert!(all.get(name).is_some(), "missing profile {name}");
    }
}

#[test]
fn embedded_files_match_the_profiles_directory() {
    // A profile added to profiles/ but not to EMBEDDED would silently be ignored.
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/profiles");
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    on_disk.sort();
    let mut embedded: Vec<String> = EMBEDDED.iter().map(|(f, _)| f.to_string()).collect();
    embedded.sort();
    assert_eq!(on_disk, embedded);
}

#[test]
fn unknown_key_is_rejected_with_its_name_and_file() {
    let yaml = "name: x\nkind: tool\nprogramz: [x]\n";
    let err = Profiles::from_sources([("mine.yaml".to_string(), yaml.to_string())]).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, ProfileError::Yaml { .. }));
    assert!(msg.contains("mine.yaml"), "{msg}");
    assert!(msg.contains("programz"), "{msg}");

    let nested = "name: x\nkind: tool\nhygiene:\n  - id: a\n    command: x\n    require_flag: -y\n    safety: safe\n    reason: r\n    colour: red\n";
    let msg = Profiles::from_sources([("n.yaml".to_string(), nested.to_string())])
        .unwrap_err()
        .to_string();
    assert!(msg.contains("colour") && msg.contains("n.yaml"), "{msg}");
}

#[test]
fn rule_with_two_actions_is_invalid() {
    let yaml = "name: x\nkind: tool\nhygiene:\n  - id: both\n    command: x i\n    require_flag: -y\n    replace_with: x ci\n    safety: safe\n    reason: r\n";
    let msg = Profiles::from_sources([("b.yaml".to_string(), yaml.to_string())])
        .unwrap_err()
        .to_string();
    assert!(msg.contains("both") && msg.contains("b.yaml"), "{msg}");
}

#[test]
fn user_directory_overrides_and_extends() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("npm.yaml"),
        "name: npm\nkind: ecosystem\nprograms: [npm]\nbase_images: [node]\nusers:\n  - images: [node]\n    name: app\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("bun.yml"),
        "name: bun\nkind: ecosystem\nprograms: [bun]\nbase_images: [oven/bun]\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("README.txt"), "not a profile").unwrap();

    let p = Profiles::load(Some(dir.path())).unwrap();
    assert_eq!(p.profiles.len(), EMBEDDED.len() + 1);
    assert_eq!(p.user_for_image("node:20").unwrap().name, "app");
    // The override replaced the whole profile: its hygiene rules are gone.
    assert!(p.get("npm").unwrap().hygiene.is_empty());
    assert_eq!(p.by_program("bun").unwrap().name, "bun");
    assert_eq!(p.for_base_image("oven/bun:1")[0].name, "bun");

    let bad = tempfile::tempdir().unwrap();
    std::fs::write(bad.path().join("x.yaml"), "name: [").unwrap();
    let msg = Profiles::load(Some(bad.path())).unwrap_err().to_string();
    assert!(msg.contains("x.yaml"), "{msg}");
    assert!(Profiles::load(Some(std::path::Path::new("/nonexistent/dopt"))).is_err());
}

#[test]
fn lookups() {
    let p = Profiles::embedded();
    assert_eq!(p.by_program("apt-get").unwrap().name, "apt");
    assert_eq!(p.by_program("/usr/bin/pip3").unwrap().name, "pip");
    assert_eq!(p.by_program("microdnf").unwrap().name, "dnf");
    assert!(p.by_program("ls").is_none());

    assert_eq!(p.os_for_image("node:20").unwrap().name, "apt");
    assert_eq!(p.os_for_image("node:20-alpine").unwrap().name, "apk");
    assert_eq!(p.os_for_image("alpine:3.20").unwrap().name, "apk");
    assert_eq!(p.os_for_image("fedora:40").unwrap().name, "dnf");
    assert_eq!(
        p.os_for_image("docker.io/library/debian:bookworm")
            .unwrap()
            .name,
        "apt"
    );
    assert!(p.os_for_image("$BASE").is_none());
    let eco: Vec<_> = p
        .for_base_image("python:3.12")
        .into_iter()
        .filter(|q| q.kind == ProfileKind::Ecosystem)
        .map(|q| q.name.as_str())
        .collect();
    assert_eq!(eco, ["pip"]);

    let rt = |i: &str| p.runtime_for(i);
    assert_eq!(rt("node:20").as_deref(), Some("node:20-slim"));
    assert_eq!(rt("node").as_deref(), Some("node:slim"));
    assert_eq!(
        rt("node:20-bookworm").as_deref(),
        Some("node:20-bookworm-slim")
    );
    assert_eq!(rt("node:20-alpine"), None);
    assert!(p.is_runtime_image("node:20-slim"));
    assert_eq!(rt("python:3.12").as_deref(), Some("python:3.12-slim"));
    assert_eq!(
        rt("eclipse-temurin:21-jdk").as_deref(),
        Some("eclipse-temurin:21-jre")
    );
    assert_eq!(
        rt("eclipse-temurin:17-jdk-jammy").as_deref(),
        Some("eclipse-temurin:17-jre-jammy")
    );
    assert_eq!(
        rt("maven:3.9-eclipse-temurin-21").as_deref(),
        Some("eclipse-temurin:21-jre")
    );
    assert_eq!(
        rt("maven:3.9-eclipse-temurin-17-alpine").as_deref(),
        Some("eclipse-temurin:17-jre-alpine")
    );
    assert_eq!(rt("rust:1.80").as_deref(), Some("debian:bookworm-slim"));
    assert_eq!(
        rt("golang:1.22").as_deref(),
        Some("gcr.io/distroless/base-debian12")
    );
    assert_eq!(
        p.runtime_for_with("golang:1.22", &["cgo-disabled"])
            .as_deref(),
        Some("gcr.io/distroless/static-debian12")
    );
    assert_eq!(rt("ubuntu:24.04"), None);

    assert_eq!(p.user_for_image("node:20-alpine").unwrap().name, "node");
    assert_eq!(
        p.user_for_image("gcr.io/distroless/static-debian12")
            .unwrap()
            .uid,
        Some(65532)
    );
    assert!(p.user_for_image("debian:bookworm").is_none());
    assert!(p
        .user_creation_for("debian:bookworm", "app")
        .unwrap()
        .contains("useradd --system --gid app"));
    assert!(p
        .user_creation_for("node:20-alpine", "app")
        .unwrap()
        .starts_with("addgroup -S -g 10001 app && adduser -S"));

    let probe = p.health_probe_for("node:20-slim", &[], 3000, "/").unwrap();
    assert!(
        probe.starts_with("node -e") && probe.contains("localhost:3000/"),
        "{probe}"
    );
    let probe = p
        .health_probe_for("node:20-slim", &["curl"], 8080, "/health")
        .unwrap();
    assert_eq!(probe, "curl -fsS http://127.0.0.1:8080/health || exit 1");
    assert!(p
        .health_probe_for("python:3.12-slim", &[], 80, "/")
        .unwrap()
        .starts_with("python -c"));

    assert!(p
        .manifests_for("npm")
        .iter()
        .any(|m| m.path == "package-lock.json" && m.lockfile));
    assert_eq!(p.by_manifest("go.sum").unwrap().0.name, "go");
    assert_eq!(p.by_manifest("requirements-dev.txt").unwrap().0.name, "pip");
    assert_eq!(
        p.build_command(&["npm", "run", "build"]).unwrap().name,
        "npm"
    );
    assert_eq!(
        p.build_command(&["go", "build", "-o", "app"]).unwrap().name,
        "go"
    );
    assert_eq!(
        p.build_command(&["./mvnw", "-B", "package"]).unwrap().name,
        "maven"
    );
    assert_eq!(
        p.install_command(&["pip3", "install", "-r", "r.txt"])
            .unwrap()
            .name,
        "pip"
    );
    assert!(p.build_command(&["echo", "build"]).is_none());
    assert_eq!(p.install_command(&["yarn"]).unwrap().name, "yarn");
    assert_eq!(
        p.install_command(&["yarn", "--production"]).unwrap().name,
        "yarn"
    );
    assert!(p.install_command(&["yarn", "build"]).is_none());
    assert_eq!(p.build_command(&["yarn", "build"]).unwrap().name, "yarn");
}

#[test]
fn user_profiles_drive_the_hygiene_passes() {
    use dopt::fix::apply::FixOptions;
    use dopt::runner::{Runner, Selection};
    // An override of `apk` whose rule asks for `--no-progress` instead.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("apk.yaml"),
        r#"name: apk
kind: os
programs: [apk]
base_images: [alpine]
hygiene:
  - id: apk-no-progress
    command: "apk add"
    require_flag: "--no-progress"
    safety: safe
    reason: "quiet logs please"
"#,
    )
    .unwrap();
    let selection = Selection {
        select: vec!["apk-hygiene".into()],
        ignore: vec![],
    };
    let runner = Runner::new(
        &selection,
        Profiles::load(Some(dir.path())).unwrap(),
        FixOptions::default(),
    );
    let outcome = runner.run("FROM alpine\nRUN apk add curl\n").unwrap();
    assert_eq!(outcome.findings.len(), 1);
    assert_eq!(outcome.findings[0].message, "quiet logs please");
    assert_eq!(
        outcome.fixed,
        "FROM alpine\nRUN apk add --no-progress curl\n"
    );
}
