use super::*;
use crate::fix::apply::apply_edits;
use crate::passes::BuildContext;
use crate::profiles::Profiles;
use std::path::Path;

fn corpus_app(name: &str) -> String {
    format!(
        "{}/../shared/corpus/apps/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// Runs the pass; returns its findings and the text after applying the fix.
fn run_with(source: &str, context: Option<&Path>) -> (Vec<Finding>, Option<String>) {
    let file = crate::syntax::parse(source).expect("test input parses");
    let profiles = Profiles::embedded();
    let ctx_dir = context.map(BuildContext::new);
    let options = serde_yaml::Mapping::new();
    let ctx = PassContext::new(&file, &profiles, ctx_dir.as_ref(), &options);
    let findings = SplitStages.run(&ctx);
    let fixed = findings
        .first()
        .and_then(|f| f.fix.as_ref())
        .map(|fix| apply_edits(source, &fix.edits));
    if let Some(out) = &fixed {
        // The output parses, is multi-stage, and the pass does not fire again.
        let again = crate::syntax::parse(out).expect("output parses");
        assert!(again.stages().len() == 2, "{out}");
        let ctx2 = PassContext::new(&again, &profiles, ctx_dir.as_ref(), &options);
        assert!(SplitStages.run(&ctx2).is_empty(), "fires again on:\n{out}");
    }
    (findings, fixed)
}

/// A temporary build context with these files.
fn context(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

fn fixed(source: &str, context: Option<&Path>) -> String {
    let (findings, out) = run_with(source, context);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(
        findings[0].fix.as_ref().unwrap().safety,
        crate::fix::Safety::Unsafe
    );
    out.unwrap_or_else(|| panic!("no fix: {}", findings[0].message))
}

fn no_fix_reason(source: &str, context: Option<&Path>) -> String {
    let (findings, out) = run_with(source, context);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert!(out.is_none(), "unexpected fix:\n{}", out.unwrap());
    findings[0].message.clone()
}

fn silent(source: &str, context: Option<&Path>) {
    let (findings, _) = run_with(source, context);
    assert!(findings.is_empty(), "{findings:#?}");
}

const PKG_WITH_DEV: &str = r#"{"name":"web","scripts":{"build":"tsc","start":"node dist/server.js"},
"dependencies":{"express":"^4"},"devDependencies":{"typescript":"^5"}}"#;

#[test]
fn node_build_with_dev_dependencies() {
    let ctx = context(&[
        ("package.json", PKG_WITH_DEV),
        ("src/server.ts", "import express from 'express';"),
    ]);
    let src = "\
FROM node:20
WORKDIR /app
ENV PORT=3000
COPY package*.json ./
RUN npm ci
COPY . .
RUN npm run build

EXPOSE 3000
USER node
CMD [\"node\", \"dist/server.js\"]
";
    assert_eq!(
        fixed(src, Some(ctx.path())),
        "\
FROM node:20 AS build
WORKDIR /app
ENV PORT=3000
COPY package*.json ./
RUN npm ci
COPY . .
RUN npm run build
RUN npm prune --omit=dev

FROM node:20-slim
WORKDIR /app
ENV PORT=3000
COPY --from=build /app /app

EXPOSE 3000
USER node
CMD [\"node\", \"dist/server.js\"]
"
    );
}

#[test]
fn node_user_before_build_chowns_the_copy_and_old_npm_uses_production() {
    let ctx = context(&[("package.json", PKG_WITH_DEV)]);
    let src = "\
FROM node:14.17.3
WORKDIR /home/node/app
USER node
COPY --chown=node package.json ./
RUN npm install && npm run build
CMD npm start
";
    assert_eq!(
        fixed(src, Some(ctx.path())),
        "\
FROM node:14.17.3 AS build
WORKDIR /home/node/app
USER node
COPY --chown=node package.json ./
RUN npm install && npm run build
RUN npm prune --production

FROM node:14.17.3-slim
WORKDIR /home/node/app
USER node
COPY --from=build --chown=node /home/node/app /home/node/app
CMD npm start
"
    );
}

#[test]
fn node_example_app_keeps_curl_and_swaps_the_base() {
    let dir = format!("{}/examples/node-app", env!("CARGO_MANIFEST_DIR"));
    let src = std::fs::read_to_string(format!("{dir}/Dockerfile")).unwrap();
    let out = fixed(&src, Some(Path::new(&dir)));
    assert!(out.starts_with(
        &src[..src.find("RUN npm install").unwrap()]
            .replace("FROM node:20", "FROM node:20 AS build")
    ));
    let runtime = &out[out.find("FROM node:20-slim").expect(&out)..];
    assert_eq!(
        runtime,
        "\
FROM node:20-slim
MAINTAINER Jane Doe <jane@example.com>
WORKDIR /app
RUN apt-get update
RUN apt-get install -y curl
COPY --from=build /app /app

EXPOSE 3000
CMD node server.js
"
    );
}

#[test]
fn bulletin_board_dev_dependencies_are_needed_so_no_fix() {
    let dir = corpus_app("node-bulletin-board");
    let src = std::fs::read_to_string(format!("{dir}/Dockerfile")).unwrap();
    let msg = no_fix_reason(&src, Some(Path::new(&dir)));
    assert!(msg.contains("`body-parser` (server.js)"), "{msg}");
    assert!(msg.contains("devDependencies"), "{msg}");
}

#[test]
fn corpus_single_stage_node_apps_on_small_images_are_left_alone() {
    for app in [
        "awesome-compose-nginx-nodejs-redis-web",
        "voting-app-result",
    ] {
        let dir = corpus_app(app);
        let src = std::fs::read_to_string(format!("{dir}/Dockerfile")).unwrap();
        silent(&src, Some(Path::new(&dir)));
    }
}

#[test]
fn corpus_multi_stage_and_python_slim_apps_do_not_fire() {
    let apps = std::fs::read_dir(format!(
        "{}/../shared/corpus/apps",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    for app in apps.flatten() {
        let name = app.file_name().to_string_lossy().to_string();
        if name == "node-bulletin-board" {
            continue;
        }
        let src = std::fs::read_to_string(app.path().join("Dockerfile")).unwrap();
        silent(&src, Some(&app.path()));
    }
}

#[test]
fn node_writes_outside_the_app_dir_so_no_fix() {
    let src = "\
FROM node:18
WORKDIR /usr/local/app
COPY package*.json ./
RUN npm ci && mv /usr/local/app/node_modules /node_modules
COPY . .
CMD [\"node\", \"server.js\"]
";
    let msg = no_fix_reason(src, None);
    assert!(msg.contains("writes /node_modules"), "{msg}");
}

#[test]
fn node_without_workdir_has_no_fix() {
    let msg = no_fix_reason(
        "FROM node:20\nCOPY . .\nRUN npm ci\nCMD node index.js\n",
        None,
    );
    assert!(msg.contains("no WORKDIR"), "{msg}");
}

#[test]
fn node_env_production_installs_no_dev_dependencies() {
    let ctx = context(&[("package.json", PKG_WITH_DEV)]);
    let out = fixed(
        "FROM node:20\nENV NODE_ENV=production\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD [\"node\", \"index.js\"]\n",
        Some(ctx.path()),
    );
    assert!(!out.contains("prune"), "{out}");
    let out = fixed(
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN NODE_ENV=production npm ci\nCMD [\"node\", \"index.js\"]\n",
        Some(ctx.path()),
    );
    assert!(!out.contains("prune"), "{out}");
}

#[test]
fn node_without_package_json_is_not_pruned() {
    // Unknown devDependencies: no prune on a full image, and no finding on a slim one.
    let out = fixed(
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install\nCMD [\"npm\", \"start\"]\n",
        None,
    );
    assert!(!out.contains("prune"), "{out}");
    silent(
        "FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN npm install\nCMD [\"npm\", \"start\"]\n",
        None,
    );
    let real = format!(
        "{}/../shared/corpus/real/mobz-elasticsearch-head__root.Dockerfile",
        env!("CARGO_MANIFEST_DIR")
    );
    let src = std::fs::read_to_string(real).unwrap();
    let out = fixed(&src, None);
    assert!(out.contains("\nFROM node:slim\nMAINTAINER Niko Bellic <niko.bellic@kakaocorp.com>\nWORKDIR /usr/src/app\nRUN npm install -g grunt\nCOPY --from=build /usr/src/app /usr/src/app\n"), "{out}");
}

#[test]
fn node_slim_without_dev_dependencies_is_left_alone() {
    let ctx = context(&[("package.json", r#"{"dependencies":{"express":"4"}}"#)]);
    silent(
        "FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD node index.js\n",
        Some(ctx.path()),
    );
}

#[test]
fn tools_of_the_full_image_are_installed_in_the_runtime_stage() {
    // A curl HEALTHCHECK (e.g. added by the healthcheck pass on node:20, which ships curl).
    let out = fixed(
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nUSER node\nHEALTHCHECK CMD curl -f http://localhost/ || exit 1\nCMD node index.js\n",
        None,
    );
    assert!(
        out.contains("\nFROM node:20-slim\nRUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\nWORKDIR /app\nCOPY --from=build /app /app\nUSER node\nHEALTHCHECK CMD curl"),
        "{out}"
    );
    let ctx = context(&[("package.json", PKG_WITH_DEV)]);
    let src = "FROM node:20-alpine\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build\nHEALTHCHECK CMD wget -qO- http://localhost/\nCMD node index.js\n";
    // Without package.json nothing shows that a split on the same image gains anything.
    silent(src, None);
    let out = fixed(src, Some(ctx.path()));
    assert!(
        out.contains("\nFROM node:20-alpine\nWORKDIR /app\n"),
        "{out}"
    );
    // Toolchains are not installed: no fix.
    let msg = no_fix_reason(
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD make start\n",
        None,
    );
    assert!(msg.contains("`make`"), "{msg}");
}

#[test]
fn python_full_image_gets_a_venv() {
    let ctx = context(&[("requirements.txt", "flask==3.0\ngunicorn\n")]);
    let src = "\
FROM python:3.11
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
WORKDIR /usr/local/app
COPY requirements.txt ./requirements.txt
RUN pip install --no-cache-dir -r requirements.txt

COPY . .
EXPOSE 80
CMD [\"gunicorn\", \"app:app\", \"-b\", \"0.0.0.0:80\"]
";
    assert_eq!(
        fixed(src, Some(ctx.path())),
        "\
FROM python:3.11 AS build
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
WORKDIR /usr/local/app
COPY requirements.txt ./requirements.txt
RUN python -m venv /opt/venv
ENV PATH=\"/opt/venv/bin:$PATH\"
RUN pip install --no-cache-dir -r requirements.txt

FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
WORKDIR /usr/local/app
ENV PATH=\"/opt/venv/bin:$PATH\"
COPY --from=build /opt/venv /opt/venv
COPY --from=build /usr/local/app /usr/local/app

COPY . .
EXPOSE 80
CMD [\"gunicorn\", \"app:app\", \"-b\", \"0.0.0.0:80\"]
"
    );
}

#[test]
fn python_seed_course_example_without_workdir() {
    // From the course notes: COPY before pip, no WORKDIR, CMD before EXPOSE.
    let src = "\
FROM python:3.7.13
#FROM tensorflow/serving

COPY . .
WORKDIR .

RUN pip install -r requirements.txt
#RUN python -m spacy download en_core_web_sm

CMD [ \"python\", \"app.py\" ]

EXPOSE 5000
";
    let out = fixed(src, None);
    assert_eq!(
        out,
        "\
FROM python:3.7.13 AS build
#FROM tensorflow/serving

COPY . .
WORKDIR .

RUN python -m venv /opt/venv
ENV PATH=\"/opt/venv/bin:$PATH\"
RUN pip install -r requirements.txt

FROM python:3.7.13-slim
COPY . .
WORKDIR .
ENV PATH=\"/opt/venv/bin:$PATH\"
COPY --from=build /opt/venv /opt/venv
#RUN python -m spacy download en_core_web_sm

CMD [ \"python\", \"app.py\" ]

EXPOSE 5000
"
    );
}

#[test]
fn python_slim_and_dev_headers() {
    silent(
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n",
        None,
    );
    // A -dev package whose runtime library has the same name on Debian 12
    // and 13: the runtime stage installs that library.
    let out = fixed(
        "FROM python:3.11\nRUN apt-get update && apt-get install -y gcc libpq-dev\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n",
        None,
    );
    assert!(
        out.contains("FROM python:3.11-slim\nRUN apt-get update && apt-get install -y --no-install-recommends libpq5 && rm -rf /var/lib/apt/lists/*\n"),
        "{out}"
    );
    assert_eq!(out.matches("gcc").count(), 1, "{out}");
    // One that is renamed between releases (libssl3 / libssl3t64): no fix.
    let msg = no_fix_reason(
        "FROM python:3.11\nRUN apt-get update && apt-get install -y libssl-dev\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n",
        None,
    );
    assert!(msg.contains("libssl-dev"), "{msg}");
    // psycopg2 builds against libpq, which the full image has.
    let ctx = context(&[("requirements.txt", "psycopg2==2.9\n")]);
    let out = fixed(
        "FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n",
        Some(ctx.path()),
    );
    assert!(
        out.contains("install -y --no-install-recommends libpq5 "),
        "{out}"
    );
    let ctx = context(&[("requirements.txt", "python-ldap==3.4\n")]);
    let msg = no_fix_reason(
        "FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n",
        Some(ctx.path()),
    );
    assert!(msg.contains("python-ldap"), "{msg}");
}

#[test]
fn go_static_binary_goes_to_distroless_static() {
    let src = "\
FROM golang:1.22
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -o /out/app ./cmd/app
EXPOSE 8080
ENTRYPOINT [\"/out/app\"]
";
    assert_eq!(
        fixed(src, None),
        "\
FROM golang:1.22 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -o /out/app ./cmd/app

FROM gcr.io/distroless/static-debian12
WORKDIR /src
COPY --from=build /out/app /out/app
EXPOSE 8080
ENTRYPOINT [\"/out/app\"]
"
    );
}

#[test]
fn go_with_cgo_or_a_shell_cmd() {
    // CGO on: a glibc runtime.
    let out = fixed(
        "FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go build -o app .\nCMD [\"./app\"]\n",
        None,
    );
    assert!(out.contains("FROM gcr.io/distroless/base-debian12\nWORKDIR /src\nCOPY --from=build /src/app /src/app\nCMD [\"./app\"]\n"), "{out}");
    // A shell-form CMD needs a shell: Debian slim, not distroless.
    let out = fixed(
        "FROM golang:1.21-bookworm\nENV CGO_ENABLED=0\nWORKDIR /src\nCOPY . .\nRUN go build -o app .\nCMD ./app --port 80\n",
        None,
    );
    assert!(out.contains("FROM debian:bookworm-slim\nENV CGO_ENABLED=0\nWORKDIR /src\nCOPY --from=build /src/app /src/app\n"), "{out}");
    // The traefik sample's build stage, as a single stage file.
    let ctx = context(&[("go.mod", "module example.com/hello\n")]);
    let out = fixed(
        "FROM golang:1.18\nWORKDIR /compose/hello-docker\nCOPY main.go main.go\nRUN CGO_ENABLED=0 go build main.go\nCMD [\"./main\"]\n",
        Some(ctx.path()),
    );
    assert!(
        out.contains("COPY --from=build /compose/hello-docker/main /compose/hello-docker/main\n"),
        "{out}"
    );
}

#[test]
fn go_run_at_start_has_no_fix() {
    let msg = no_fix_reason(
        "FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go build -o app .\nCMD [\"go\", \"run\", \"main.go\"]\n",
        None,
    );
    assert!(msg.contains("`go`"), "{msg}");
    let msg = no_fix_reason(
        "FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go build ./...\nCMD [\"/src/app\"]\n",
        None,
    );
    assert!(msg.contains("no -o"), "{msg}");
}

#[test]
fn java_maven_jar_goes_to_a_jre() {
    let src = "\
FROM maven:3.9-eclipse-temurin-17
WORKDIR /app
COPY pom.xml .
RUN mvn -B dependency:go-offline
COPY src ./src
RUN mvn -B package -DskipTests
CMD [\"java\", \"-jar\", \"target/demo-1.0.jar\"]
";
    assert_eq!(
        fixed(src, None),
        "\
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /app
COPY pom.xml .
RUN mvn -B dependency:go-offline
COPY src ./src
RUN mvn -B package -DskipTests

FROM eclipse-temurin:17-jre
WORKDIR /app
COPY --from=build /app/target/*.jar /app/target/
CMD [\"java\", \"-jar\", \"target/demo-1.0.jar\"]
"
    );
}

#[test]
fn java_javac_and_jar_like_the_distroless_sample() {
    let src = "\
FROM eclipse-temurin:17-jdk
COPY . /app/examples
WORKDIR /app
RUN javac examples/*.java
RUN jar cfe main.jar examples.HelloJava examples/*.class 
CMD [\"java\", \"-jar\", \"main.jar\"]
";
    let out = fixed(src, None);
    assert!(
        out.ends_with("\nFROM eclipse-temurin:17-jre\nWORKDIR /app\nCOPY --from=build /app/main.jar /app/main.jar\nCMD [\"java\", \"-jar\", \"main.jar\"]\n"),
        "{out}"
    );
    let msg = no_fix_reason(
        "FROM eclipse-temurin:17-jdk\nWORKDIR /app\nCOPY . .\nRUN ./mvnw package\nCMD [\"./mvnw\", \"spring-boot:run\"]\n",
        None,
    );
    assert!(msg.contains("mvnw"), "{msg}");
}

#[test]
fn rust_release_binary_from_cargo_toml() {
    let ctx = context(&[(
        "Cargo.toml",
        "[package]\nname = \"my-app\"\nversion = \"0.1.0\"\n",
    )]);
    let src = "\
FROM rust:1.79
WORKDIR /usr/src/my-app
COPY . .
RUN cargo build --release
CMD [\"./target/release/my-app\"]
";
    assert_eq!(
        fixed(src, Some(ctx.path())),
        "\
FROM rust:1.79 AS build
WORKDIR /usr/src/my-app
COPY . .
RUN cargo build --release

FROM gcr.io/distroless/cc-debian12
WORKDIR /usr/src/my-app
COPY --from=build /usr/src/my-app/target/release/my-app /usr/src/my-app/target/release/my-app
CMD [\"./target/release/my-app\"]
"
    );
    let msg = no_fix_reason(src, None);
    assert!(msg.contains("Cargo.toml"), "{msg}");
}

#[test]
fn c_on_gcc_and_on_debian() {
    let out = fixed(
        "FROM gcc:13\nWORKDIR /src\nCOPY hello.c .\nRUN gcc -O2 -o hello hello.c\nCMD [\"./hello\"]\n",
        None,
    );
    assert!(out.ends_with("\nFROM debian:bookworm-slim\nWORKDIR /src\nCOPY --from=build /src/hello /src/hello\nCMD [\"./hello\"]\n"), "{out}");
    let src = "\
FROM debian:bookworm
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev make && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make
ENTRYPOINT [\"/src/bin/server\"]
";
    let out = fixed(src, None);
    // The same distribution's slim image, without the compiler.
    assert!(out.ends_with("\nFROM debian:bookworm-slim\nWORKDIR /src\nCOPY --from=build /src/bin/server /src/bin/server\nENTRYPOINT [\"/src/bin/server\"]\n"), "{out}");
    let msg = no_fix_reason(
        "FROM gcc:13\nWORKDIR /src\nCOPY . .\nRUN g++ -o app main.cpp\nCMD [\"./app\"]\n",
        None,
    );
    assert!(msg.contains("libstdc++"), "{msg}");
    // A distribution image without a compiler install is not a toolchain build.
    silent("FROM debian:bookworm\nRUN make -C /usr/share/foo\n", None);
    // Built from source with the build dependencies purged in the same RUN (the
    // official images' pattern): nothing ships.
    silent(
        "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y gcc make \\\n && cd /usr/src/x && ./configure && make && make install \\\n && apt-get purge -y --auto-remove gcc make\n",
        None,
    );
}

#[test]
fn keeps_crlf_lowercase_keywords_escape_and_platform() {
    let src = "from --platform=$BUILDPLATFORM node:20\r\nworkdir /app\r\ncopy . .\r\nrun npm ci && \\\r\n    npm run build\r\ncmd [\"node\", \"dist/index.js\"]";
    let out = fixed(src, None);
    assert_eq!(
        out,
        "from --platform=$BUILDPLATFORM node:20 as build\r\nworkdir /app\r\ncopy . .\r\nrun npm ci && \\\r\n    npm run build\r\n\r\nfrom --platform=$BUILDPLATFORM node:20-slim\r\nworkdir /app\r\ncopy --from=build /app /app\r\ncmd [\"node\", \"dist/index.js\"]"
    );
    let src = "# escape=`\nFROM node:20 AS builder\nWORKDIR /app\nCOPY . .\nRUN npm ci && `\n    npm run build\nCMD [\"node\", \"dist/index.js\"]\n";
    let out = fixed(src, None);
    assert!(
        out.starts_with("# escape=`\nFROM node:20 AS builder\n"),
        "{out}"
    );
    assert!(out.contains("COPY --from=builder /app /app\n"), "{out}");
}

#[test]
fn args_used_after_the_split_are_declared_again() {
    let src = "\
ARG NODE_VERSION=20
FROM node:${NODE_VERSION}
ARG PORT=3000
ARG UNUSED=1
WORKDIR /app
COPY . .
RUN npm ci && npm run build
EXPOSE ${PORT}
CMD [\"node\", \"dist/index.js\"]
";
    let out = fixed(src, None);
    assert!(out.contains("FROM node:20-slim\nARG PORT=3000\nWORKDIR /app\nCOPY --from=build /app /app\nEXPOSE ${PORT}\n"), "{out}");
}

#[test]
fn users_must_exist_in_the_runtime_image() {
    // Created in a repeated RUN: fine.
    let out = fixed(
        "FROM node:20\nRUN useradd -m app\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build\nUSER app\nCMD [\"node\", \"index.js\"]\n",
        None,
    );
    assert!(out.contains("FROM node:20-slim\nRUN useradd -m app\nWORKDIR /app\nCOPY --from=build /app /app\nUSER app\n"), "{out}");
    // Created in the build RUN: not in the runtime image.
    let msg = no_fix_reason(
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci && useradd app\nUSER app\nCMD [\"node\", \"index.js\"]\n",
        None,
    );
    assert!(msg.contains("same RUN as the build"), "{msg}");
}

#[test]
fn global_tools_and_unknown_commands() {
    let out = fixed(
        "FROM node:20\nRUN npm install -g nodemon\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD [\"nodemon\", \"index.js\"]\n",
        None,
    );
    assert!(
        out.contains("FROM node:20-slim\nRUN npm install -g nodemon\nWORKDIR /app\n"),
        "{out}"
    );
    let msg = no_fix_reason(
        "FROM node:20\nRUN curl -fsSL https://example.invalid/x.sh | sh\nWORKDIR /app\nCOPY . .\nRUN npm ci\n",
        None,
    );
    assert!(msg.contains("`curl`"), "{msg}");
}

#[test]
fn multi_stage_and_plain_files_do_not_fire() {
    silent("FROM node:20 AS build\nWORKDIR /app\nRUN npm ci\nFROM node:20-slim\nCOPY --from=build /app /app\n", None);
    silent("FROM nginx:1.25\nCOPY . /usr/share/nginx/html\n", None);
    silent(
        "FROM node:20\nWORKDIR /app\nCOPY . .\nCMD [\"node\", \"index.js\"]\n",
        None,
    );
    silent("FROM $BASE\nRUN npm ci\n", None);
}

/// Every real-world file: no panic; a fix parses, is multi-stage and does not fire
/// again (see `run_with`). Prints the findings for review with `--nocapture`.
#[test]
fn real_corpus_sweep() {
    let corpus = format!("{}/../shared/corpus", env!("CARGO_MANIFEST_DIR"));
    let mut entries: Vec<_> = std::fs::read_dir(format!("{corpus}/real"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "Dockerfile"))
        .collect();
    // The parser conformance cases: escapes, continuations, heredocs, odd JSON.
    for set in ["parser/buildkit", "parser/buildkit-heredoc"] {
        for case in std::fs::read_dir(format!("{corpus}/{set}"))
            .unwrap()
            .flatten()
        {
            let path = case.path().join("Dockerfile");
            if path.is_file() {
                entries.push(path);
            }
        }
    }
    entries.sort();
    let (mut fixes, mut no_fix) = (0, 0);
    for path in entries {
        let Ok(src) = std::fs::read_to_string(&path) else {
            continue; // UTF-16/32 files are decoded by the CLI, not here
        };
        if crate::syntax::parse(&src).is_err() {
            continue;
        }
        let (findings, out) = run_with(&src, None);
        for f in &findings {
            let name = path.strip_prefix(&corpus).unwrap_or(&path).display();
            println!(
                "{name}: {} {}",
                if out.is_some() { "FIX" } else { "NOFIX" },
                f.message
            );
        }
        match (findings.is_empty(), out.is_some()) {
            (false, true) => fixes += 1,
            (false, false) => no_fix += 1,
            _ => {}
        }
    }
    println!("fixes: {fixes}, findings without fix: {no_fix}");
}

#[test]
#[ignore = "prints outputs for review"]
fn print_outputs() {
    for (file, ctx) in [
        (
            "../shared/corpus/real/mobz-elasticsearch-head__root.Dockerfile",
            None,
        ),
        ("examples/node-app/Dockerfile", Some("examples/node-app")),
    ] {
        let root = env!("CARGO_MANIFEST_DIR");
        let src = std::fs::read_to_string(format!("{root}/{file}")).unwrap();
        let ctx = ctx.map(|c| format!("{root}/{c}"));
        let (findings, out) = run_with(&src, ctx.as_deref().map(Path::new));
        println!(
            "=== {file}\n{}\n{}",
            findings[0].message,
            out.unwrap_or_default()
        );
    }
}

#[test]
fn official_image_pattern_with_semicolons_is_silent() {
    let src = std::fs::read_to_string(format!(
        "{}/tests/fixtures/split-stages/no-official-image-build-from-source.Dockerfile",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let file = crate::syntax::parse(&src).unwrap();
    if let InstructionKind::Run(Command::Shell { text, .. }) = &file.instructions[1].kind {
        for c in script::commands(text).0 {
            println!("{:?}", c.argv);
        }
    }
    silent(&src, None);
}

#[test]
fn apk_virtual_build_deps_stay_in_the_build_stage() {
    let out = fixed(
        "FROM golang:1.22-alpine\nRUN apk add --no-cache --virtual .build-deps git=2.45.2-r0\nWORKDIR /src\nCOPY . .\nRUN CGO_ENABLED=0 go build -o /bin/app .\nUSER nobody\nENTRYPOINT [\"/bin/app\"]\n",
        None,
    );
    assert!(
        out.ends_with("\nFROM gcr.io/distroless/static-debian12\nWORKDIR /src\nCOPY --from=build /bin/app /bin/app\nUSER nobody\nENTRYPOINT [\"/bin/app\"]\n"),
        "{out}"
    );
}

#[test]
fn gradle_boot_jar_and_yarn_build() {
    let out = fixed(
        "FROM gradle:8.7-jdk21\nWORKDIR /home/gradle/project\nCOPY . .\nRUN gradle bootJar --no-daemon\nEXPOSE 8080\nENTRYPOINT [\"java\", \"-jar\", \"build/libs/app.jar\"]\n",
        None,
    );
    assert!(
        out.ends_with("\nFROM eclipse-temurin:21-jre\nWORKDIR /home/gradle/project\nCOPY --from=build /home/gradle/project/build/libs/*.jar /home/gradle/project/build/libs/\nEXPOSE 8080\nENTRYPOINT [\"java\", \"-jar\", \"build/libs/app.jar\"]\n"),
        "{out}"
    );
    let ctx = context(&[("package.json", PKG_WITH_DEV), ("yarn.lock", "")]);
    let out = fixed(
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN yarn install --frozen-lockfile && yarn build\nCMD [\"node\", \"dist/server.js\"]\n",
        Some(ctx.path()),
    );
    assert!(
        out.contains("yarn build\nRUN yarn install --production --ignore-scripts --prefer-offline\n\nFROM node:20-slim\n"),
        "{out}"
    );
}

/// Runs every pass with unsafe fixes, like `dopt suggest --unsafe`.
fn all_passes(source: &str, context: Option<&Path>) -> String {
    let mut runner = crate::runner::Runner::new(
        &crate::runner::Selection::default(),
        Profiles::embedded(),
        crate::fix::apply::FixOptions {
            unsafe_fixes: true,
            ..Default::default()
        },
    );
    runner.build_context = context.map(BuildContext::new);
    let outcome = runner.run(source).unwrap();
    assert!(outcome.converged && outcome.rejected.is_empty());
    outcome.fixed
}

#[test]
fn user_and_healthcheck_fixes_wait_for_the_runtime_stage() {
    // The seed's C file: USER creation must not land in the build stage's apt
    // RUN (split-stages would then repeat gcc and make in the runtime stage).
    let src = "\
FROM debian:bookworm
RUN apt-get update && apt-get install -y gcc make libc6-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
RUN make
EXPOSE 8080
CMD [\"./server\"]
";
    let out = all_passes(src, None);
    let (build, runtime) = out.split_once("\nFROM ").unwrap();
    for word in ["useradd", "chown", "USER"] {
        assert!(!build.contains(word), "{word} in the build stage:\n{out}");
    }
    assert!(runtime.starts_with("debian:bookworm-slim\n"), "{out}");
    assert!(
        runtime.contains("useradd") && runtime.contains("\nUSER 10001:10001\n"),
        "{out}"
    );
    for tool in ["gcc", "make", "libc6-dev"] {
        assert!(
            !runtime.contains(tool),
            "{tool} in the runtime stage:\n{out}"
        );
    }
    // Without unsafe fixes the split is not applied: USER is reported as usual.
    let file = crate::syntax::parse(src).unwrap();
    let profiles = Profiles::embedded();
    let options = serde_yaml::Mapping::new();
    let mut ctx = PassContext::new(&file, &profiles, None, &options);
    assert!(!ctx.split_pending());
    ctx.split_applies = true;
    assert!(ctx.split_pending());
    assert!(crate::passes::non_root_user::NonRootUser
        .run(&ctx)
        .is_empty());
    // A `# dopt ignore=DOP013` keeps the stage whole, so USER does not wait.
    let ignored = src.replace("RUN make", "# dopt ignore=split-stages\nRUN make");
    let file = crate::syntax::parse(&ignored).unwrap();
    let mut ctx = PassContext::new(&file, &profiles, None, &options);
    ctx.split_applies = true;
    assert!(!ctx.split_pending());
}

#[test]
fn c_runtime_libraries_users_and_make_install() {
    // -dev packages become their runtime libraries; a user created in the same
    // RUN as the build tools is created again, without the build tools.
    let src = "\
FROM debian:bookworm
RUN apt-get update && apt-get install -y --no-install-recommends \\
    build-essential \\
    libssl-dev \\
    libpq-dev \\
    ca-certificates \\
 && rm -rf /var/lib/apt/lists/* \\
 && useradd -r -u 1001 app
WORKDIR /usr/src/app
COPY . .
RUN ./configure --prefix=/usr/local && make -j4 && make install
USER app
ENTRYPOINT [\"/usr/local/bin/server\"]
";
    let out = fixed(src, None);
    assert!(
        out.ends_with("\nFROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y --no-install-recommends ca-certificates libssl3 libpq5 && rm -rf /var/lib/apt/lists/*\nRUN useradd -r -u 1001 app\nWORKDIR /usr/src/app\nCOPY --from=build /usr/local /usr/local\nUSER app\nENTRYPOINT [\"/usr/local/bin/server\"]\n"),
        "{out}"
    );
    // Alpine: apk names, PREFIX= on the make command line.
    let out = fixed(
        "FROM alpine:3.19\nRUN apk add --no-cache gcc musl-dev make openssl-dev\nWORKDIR /src\nCOPY . .\nRUN make && make install PREFIX=/opt/app\nCMD [\"/opt/app/bin/tool\"]\n",
        None,
    );
    assert!(
        out.ends_with("\nFROM alpine:3.19\nRUN apk add --no-cache libssl3\nWORKDIR /src\nCOPY --from=build /opt/app /opt/app\nCMD [\"/opt/app/bin/tool\"]\n"),
        "{out}"
    );
    // The gcc image keeps its compiler in /usr/local.
    let msg = no_fix_reason(
        "FROM gcc:13\nWORKDIR /src\nCOPY . .\nRUN make && make install\nCMD [\"/usr/local/bin/app\"]\n",
        None,
    );
    assert!(
        msg.contains("line 4") && msg.contains("--prefix") || msg.contains("prefix such as"),
        "{msg}"
    );
    // A -dev package the mapping does not know: the message names it and the line.
    let msg = no_fix_reason(
        "FROM debian:bookworm\nRUN apt-get update && apt-get install -y gcc make libfoo-dev\nWORKDIR /src\nCOPY . .\nRUN make\nCMD [\"./app\"]\n",
        None,
    );
    assert!(
        msg.contains("line 2") && msg.contains("libfoo-dev"),
        "{msg}"
    );
    // make install into /usr mixes with the system's files.
    let msg = no_fix_reason(
        "FROM debian:bookworm\nRUN apt-get update && apt-get install -y gcc make\nWORKDIR /src\nCOPY . .\nRUN ./configure --prefix=/usr && make && make install\nCMD [\"app\"]\n",
        None,
    );
    assert!(msg.contains("line 5") && msg.contains("/usr,"), "{msg}");
}

const GO_SERVER: &str = "package main\n\nimport (\n\t\"fmt\"\n\t\"net/http\"\n)\n\nfunc main() {\n\thttp.HandleFunc(\"/\", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, \"hi\") })\n\thttp.ListenAndServe(\":8080\", nil)\n}\n";

#[test]
fn go_without_cgo_in_the_sources_builds_static() {
    let src = "\
FROM golang:1.22
WORKDIR /src
COPY go.mod ./
RUN go mod download
COPY . .
RUN go build -o /go/bin/server .
EXPOSE 8080
ENTRYPOINT [\"/go/bin/server\"]
";
    let ctx = context(&[
        ("go.mod", "module example.com/server\n\ngo 1.22\n"),
        ("main.go", GO_SERVER),
    ]);
    assert_eq!(
        fixed(src, Some(ctx.path())),
        "\
FROM golang:1.22 AS build
ENV CGO_ENABLED=0
RUN go build std
RUN {probe}
WORKDIR /src
COPY go.mod ./
RUN go mod download
COPY . .
RUN go build -o /go/bin/server .

FROM gcr.io/distroless/static-debian12
WORKDIR /src
COPY --from=build /go/bin/server /go/bin/server
COPY --from=build /usr/local/bin/healthcheck /usr/local/bin/healthcheck
EXPOSE 8080
ENTRYPOINT [\"/go/bin/server\"]
"
        .replace("{probe}", &super::go::probe_build_script())
    );
    // cgo in the sources: the distribution's slim image.
    let cgo = context(&[
        ("go.mod", "module example.com/server\n"),
        ("main.go", GO_SERVER),
        (
            "sys/c.go",
            "package sys\n\n// #include <unistd.h>\nimport \"C\"\n",
        ),
    ]);
    let (findings, out) = run_with(src, Some(cgo.path()));
    let out = out.unwrap();
    assert!(
        out.contains("\nFROM debian:bookworm-slim\n") && !out.contains("CGO_ENABLED"),
        "{out}"
    );
    assert!(
        findings[0].message.contains("sys/c.go imports \"C\""),
        "{}",
        findings[0].message
    );
    // A cgo module in go.mod counts too.
    let sqlite = context(&[
        (
            "go.mod",
            "module a\n\nrequire github.com/mattn/go-sqlite3 v1.14.22\n",
        ),
        ("main.go", GO_SERVER),
    ]);
    assert!(fixed(src, Some(sqlite.path())).contains("\nFROM debian:bookworm-slim\n"));
    // CGO_ENABLED=1 forced on.
    let forced = src.replace("RUN go build", "RUN CGO_ENABLED=1 go build");
    assert!(fixed(&forced, Some(ctx.path())).contains("\nFROM debian:bookworm-slim\n"));
    // Alpine with a named user: alpine, whose adduser the RUN uses.
    let out = fixed(
        "FROM golang:1.21-alpine3.19\nRUN adduser -D -u 10001 appuser\nWORKDIR /src\nCOPY . .\nRUN go build -o /go/bin/app .\nUSER appuser\nENTRYPOINT [\"/go/bin/app\"]\n",
        Some(ctx.path()),
    );
    assert!(
        out.contains("\nFROM alpine:3.19\nRUN adduser -D -u 10001 appuser\n"),
        "{out}"
    );
}

#[test]
fn go_on_scratch_gets_certificates_time_zones_and_uid_65532() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("go.yaml"),
        "name: go\nkind: ecosystem\nruntime: go\nprograms: [go]\nbase_images: [golang]\nruntime_images:\n  - match: \"golang:*\"\n    to: scratch\n    requires: [cgo-disabled]\n",
    )
    .unwrap();
    let profiles = Profiles::load(Some(dir.path())).unwrap();
    let client = GO_SERVER.replace(
        "http.ListenAndServe(\":8080\", nil)",
        "http.Get(\"https://example.com\")",
    );
    let ctx_dir = context(&[("go.mod", "module example.com/c\n"), ("main.go", &client)]);
    let src =
        "FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go build -o /app .\nENTRYPOINT [\"/app\"]\n";
    let file = crate::syntax::parse(src).unwrap();
    let bc = BuildContext::new(ctx_dir.path());
    let options = serde_yaml::Mapping::new();
    let ctx = PassContext::new(&file, &profiles, Some(&bc), &options);
    let findings = SplitStages.run(&ctx);
    let out = apply_edits(src, &findings[0].fix.as_ref().unwrap().edits);
    assert!(
        out.ends_with("\nFROM scratch\nWORKDIR /src\nCOPY --from=build /app /app\nCOPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt\nUSER 65532:65532\nENTRYPOINT [\"/app\"]\n"),
        "{out}"
    );

    // scratch has no /etc/passwd: a user by name (even distroless's `nonroot`)
    // cannot be found there, so the runtime stage would be the slim image.
    for user in ["nonroot", "1000:1000"] {
        let src = format!(
            "FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go build -o /app .\nUSER {user}\nENTRYPOINT [\"/app\"]\n"
        );
        let file = crate::syntax::parse(&src).unwrap();
        let ctx = PassContext::new(&file, &profiles, Some(&bc), &options);
        let findings = SplitStages.run(&ctx);
        let Some(fix) = &findings[0].fix else {
            // debian slim lacks `nonroot` too: no split, and the message says so.
            assert!(user == "nonroot", "{:?}", findings[0]);
            assert!(
                findings[0]
                    .message
                    .contains("the user `nonroot`, which debian:bookworm-slim"),
                "{}",
                findings[0].message
            );
            continue;
        };
        // Numeric ids need no /etc/passwd.
        assert_eq!(user, "1000:1000");
        let out = apply_edits(&src, &fix.edits);
        assert!(out.contains("\nFROM scratch\n"), "{out}");
    }
}

#[test]
fn java_javac_without_d_copies_the_working_directory() {
    // The course notes' example, single-stage.
    let src = "FROM openjdk:10\nCOPY . /usr/src/myapp\nWORKDIR /usr/src/myapp\nRUN javac Main.java\nCMD [\"java\", \"Main\"]\n";
    assert_eq!(
        fixed(src, None),
        "FROM openjdk:10 AS build\nCOPY . /usr/src/myapp\nWORKDIR /usr/src/myapp\nRUN javac Main.java\n\nFROM openjdk:10-jre-slim\nWORKDIR /usr/src/myapp\nCOPY --from=build /usr/src/myapp /usr/src/myapp\nCMD [\"java\", \"Main\"]\n"
    );
    let out = fixed(
        "FROM eclipse-temurin:17-jdk\nWORKDIR /app\nCOPY . .\nRUN javac -d classes src/Main.java\nCMD [\"java\", \"-cp\", \"classes\", \"Main\"]\n",
        None,
    );
    assert!(out.ends_with("\nFROM eclipse-temurin:17-jre\nWORKDIR /app\nCOPY --from=build /app/classes /app/classes\nCMD [\"java\", \"-cp\", \"classes\", \"Main\"]\n"), "{out}");
    let msg = no_fix_reason("FROM eclipse-temurin:17-jdk\nCOPY Main.java /\nRUN javac Main.java\nCMD [\"java\", \"Main\"]\n", None);
    assert!(msg.contains("line 3") && msg.contains("-d DIR"), "{msg}");
}

#[test]
fn go_install_and_a_bare_program_name() {
    let ctx = context(&[
        ("go.mod", "module example.com/api\n"),
        ("cmd/api/main.go", GO_SERVER),
    ]);
    let out = fixed(
        "FROM golang:1.21\nWORKDIR /go/src/app\nCOPY . .\nRUN go install -v ./cmd/api\nCMD [\"api\"]\n",
        Some(ctx.path()),
    );
    assert!(
        out.ends_with("\nCOPY --from=build /go/bin/api /go/bin/api\nENV PATH=\"/go/bin:$PATH\"\nCMD [\"api\"]\n"),
        "{out}"
    );
    // `go build ./cmd/api` writes `api` in the working directory.
    let out = fixed(
        "FROM golang:1.21\nWORKDIR /src\nCOPY . .\nRUN go build ./cmd/api\nCMD [\"/src/api\"]\n",
        Some(ctx.path()),
    );
    assert!(
        out.contains("\nCOPY --from=build /src/api /src/api\n"),
        "{out}"
    );
    // The README pattern over every package: the binaries are not known.
    let msg = no_fix_reason(
        "FROM golang:1.21\nWORKDIR /go/src/app\nCOPY . .\nRUN go get -d -v ./... && go install -v ./...\nCMD [\"app\"]\n",
        Some(ctx.path()),
    );
    assert!(msg.contains("line 4") && msg.contains("no -o"), "{msg}");
    let msg = no_fix_reason(
        "FROM golang:1.21\nENV GOBIN=/usr/local/bin\nWORKDIR /src\nCOPY . .\nRUN go install ./cmd/api\nCMD [\"api\"]\n",
        Some(ctx.path()),
    );
    assert!(msg.contains("GOBIN"), "{msg}");
    let msg = no_fix_reason(
        "FROM golang:1.21\nRUN go install github.com/air-verse/air@latest\nWORKDIR /src\nCOPY . .\nRUN go build -o /app .\nCMD [\"air\"]\n",
        Some(ctx.path()),
    );
    assert!(msg.contains("@VERSION"), "{msg}");
}

#[test]
fn git_writes_its_clone_or_its_repository() {
    let cmd = |text: &str| script::commands(text).0.remove(0);
    let writes = |text: &str| git_role(&cmd(text), Some("/src"));
    assert_eq!(
        writes("git clone --depth 1 --branch v1 https://github.com/a/b.git"),
        Role::Writes(Some(vec!["/src/b".into()]))
    );
    assert_eq!(
        writes("git clone -b v1 https://github.com/a/b /go/src/b"),
        Role::Writes(Some(vec!["/go/src/b".into()]))
    );
    assert_eq!(
        writes("git -C /opt/x checkout v2"),
        Role::Writes(Some(vec!["/opt/x".into()]))
    );
    assert_eq!(
        writes("git config --global advice.detachedHead false"),
        Role::Harmless
    );
    assert_eq!(writes("git clone $REPO"), Role::Writes(None));
    // A clone into the source tree the build runs in stays in the build stage.
    let out = fixed(
        "FROM golang:1.22\nRUN git clone https://github.com/a/tool /go/src/tool\nWORKDIR /go/src/tool\nRUN CGO_ENABLED=0 go build -o /usr/local/bin/tool .\nENTRYPOINT [\"tool\"]\n",
        None,
    );
    assert!(out.ends_with("\nFROM gcr.io/distroless/static-debian12\nWORKDIR /go/src/tool\nCOPY --from=build /usr/local/bin/tool /usr/local/bin/tool\nENTRYPOINT [\"tool\"]\n"), "{out}");
}
