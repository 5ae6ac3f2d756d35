//! Whether the image's server speaks gRPC, and whether `grpc_health_probe` is
//! in the image. A TCP connect on a gRPC port only checks that something
//! listens; the gRPC health protocol (`grpc.health.v1.Health/Check`) is what
//! such services implement and what their operators probe (Kubernetes' native
//! `grpc:` probe, `grpc_health_probe`).
//!
//! Evidence, first found wins:
//! - the Dockerfile: `grpc_health_probe`, a `GRPC_` variable, gRPC or `.proto`
//!   paths and packages in its instructions;
//! - the build context's manifests: `grpcio` / `grpcio-health-checking` in
//!   `requirements*.txt`, `pyproject.toml`, `Pipfile`; `@grpc/grpc-js` in
//!   `package.json`; `google.golang.org/grpc` in `go.mod`; `io.grpc` in
//!   `build.gradle` / `pom.xml`;
//! - the sources: the gRPC health service (`grpc.health.v1`, `health_pb2_grpc`,
//!   `HealthStatusManager`, `google.golang.org/grpc/health`) or a gRPC server
//!   (`grpc.server(`, `grpc.NewServer(`, `ServerBuilder.forPort(`).

use super::routes::Sources;
use crate::model::{BaseRef, Model, StageModel};
use crate::syntax::{Dockerfile, InstructionKind};
use std::path::Path;

/// What says the server speaks gRPC, and where the probe is in the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Grpc {
    /// For messages: `go.mod: google.golang.org/grpc`.
    pub evidence: String,
    /// `grpc_health_probe` is put into the shipped stage (or a stage it is
    /// built FROM).
    pub probe_in_image: bool,
    /// Its absolute path there, when the Dockerfile says it.
    pub probe_path: Option<String>,
}

const PROBE_NAMES: &[&str] = &["grpc_health_probe", "grpc-health-probe"];

/// Manifests at the context root and what in them means gRPC.
const MANIFESTS: &[(&str, &[&str])] = &[
    ("requirements.txt", &["grpcio"]),
    ("requirements.in", &["grpcio"]),
    ("pyproject.toml", &["grpcio"]),
    ("Pipfile", &["grpcio"]),
    ("setup.py", &["grpcio"]),
    ("package.json", &["@grpc/grpc-js", "\"grpc\""]),
    ("go.mod", &["google.golang.org/grpc"]),
    ("build.gradle", &["io.grpc"]),
    ("build.gradle.kts", &["io.grpc"]),
    ("pom.xml", &["<groupid>io.grpc</groupid>"]),
];

/// In sources: the gRPC health service, then a gRPC server.
const SOURCE_MARKERS: &[&str] = &[
    "grpc_health.v1",
    "grpc.health.v1",
    "health_pb2_grpc",
    "HealthStatusManager",
    "google.golang.org/grpc/health",
    "grpc.server(",
    "grpc.NewServer(",
    "ServerBuilder.forPort(",
    "new grpc.Server(",
];

const CODE_EXTS: &[&str] = &["py", "go", "java", "kt", "js", "mjs", "cjs", "ts"];

/// gRPC evidence for the server of `stage`, if any.
pub(crate) fn evidence(
    file: &Dockerfile,
    model: &Model,
    stage: &StageModel,
    context: Option<&Path>,
    sources: Option<&Sources>,
) -> Option<Grpc> {
    let (probe_in_image, probe_path) = probe_in(file, model, stage);
    // A dependency on gRPC is also what a gRPC *client* has (a web frontend
    // that calls gRPC backends): the manifests count only when the context has
    // no code to read the server from.
    let has_code = sources.is_some_and(|s| s.with_ext(CODE_EXTS).next().is_some());
    let found = from_dockerfile(file)
        .or_else(|| sources.and_then(from_sources))
        .or_else(|| context.filter(|_| !has_code).and_then(from_manifests))?;
    Some(Grpc {
        evidence: found,
        probe_in_image,
        probe_path,
    })
}

/// The probe's name anywhere; gRPC or proto paths in COPY/ADD/WORKDIR; a
/// `GRPC_` variable in ENV/ARG. (Not a package a RUN installs: a client
/// library is no evidence that the server speaks gRPC.)
fn from_dockerfile(file: &Dockerfile) -> Option<String> {
    for inst in &file.instructions {
        let text = &inst.logical.text;
        let words = || text.split_whitespace();
        let probe = words().find(|w| PROBE_NAMES.iter().any(|n| w.contains(n)));
        let other = || match inst.kind {
            InstructionKind::Copy(_) | InstructionKind::Add(_) | InstructionKind::Workdir(_) => {
                words().find(|w| {
                    let lower = w.to_ascii_lowercase();
                    let path =
                        lower.trim_matches(|c: char| matches!(c, '"' | '\'' | ',' | '[' | ']'));
                    path.contains("grpc")
                        || path.ends_with(".proto")
                        || path.starts_with("proto/")
                        || path.starts_with("protos/")
                        || path.contains("/proto/")
                        || path.contains("/protos/")
                })
            }
            InstructionKind::Env(_) | InstructionKind::Arg(_) => {
                words().find(|w| w.starts_with("GRPC_"))
            }
            _ => None,
        };
        if let Some(word) = probe.or_else(other) {
            // `-qO/bin/grpc_health_probe`: the path, not wget's flags.
            let word = match word.find('/') {
                Some(i) if word.starts_with('-') => &word[i..],
                _ => word,
            };
            let shown: String = word.chars().take(60).collect();
            let more = if shown.len() < word.len() { "..." } else { "" };
            return Some(format!(
                "line {}: `{} {shown}{more}`",
                inst.start_line,
                inst.keyword.to_ascii_uppercase()
            ));
        }
    }
    None
}

fn from_manifests(root: &Path) -> Option<String> {
    for (name, needles) in MANIFESTS {
        let Ok(text) = std::fs::read_to_string(root.join(name)) else {
            continue;
        };
        let lower = text.to_ascii_lowercase();
        if let Some(n) = needles.iter().find(|n| lower.contains(*n)) {
            return Some(format!("{name}: {}", n.trim_matches('"')));
        }
    }
    None
}

fn from_sources(sources: &Sources) -> Option<String> {
    for f in sources.with_ext(CODE_EXTS) {
        for (i, line) in f.text.lines().enumerate() {
            if let Some(m) = SOURCE_MARKERS.iter().find(|m| line.contains(*m)) {
                return Some(format!("{}:{}: {}", f.rel, i + 1, m.trim_end_matches('(')));
            }
        }
    }
    None
}

/// Whether the shipped stage (or a stage it is built FROM) puts
/// `grpc_health_probe` into the image, and its absolute path when told.
fn probe_in(file: &Dockerfile, model: &Model, stage: &StageModel) -> (bool, Option<String>) {
    let mut chain = vec![stage];
    let mut cur = stage;
    while let BaseRef::Stage(i) = &cur.base {
        let Some(parent) = model.stages.get(*i).filter(|p| p.index < cur.index) else {
            break;
        };
        chain.push(parent);
        cur = parent;
    }
    // The last instruction that names the probe decides its path (once: the
    // stage's copies are searched for that one only).
    let mut last = None;
    for s in chain.iter().rev() {
        for i in s.instructions.clone() {
            let inst = &file.instructions[i];
            if matches!(
                inst.kind,
                InstructionKind::Run(_) | InstructionKind::Copy(_) | InstructionKind::Add(_)
            ) && PROBE_NAMES.iter().any(|n| inst.logical.text.contains(n))
            {
                last = Some((*s, i));
            }
        }
    }
    match last {
        Some((s, i)) => {
            let inst = &file.instructions[i];
            (true, probe_path(inst, s, i, &inst.logical.text))
        }
        None => (false, None),
    }
}

fn is_probe_file(p: &str) -> bool {
    let base = p.rsplit('/').next().unwrap_or(p);
    PROBE_NAMES.contains(&base)
}

/// The absolute path the instruction puts the probe at.
fn probe_path(
    inst: &crate::syntax::Instruction,
    stage: &StageModel,
    idx: usize,
    text: &str,
) -> Option<String> {
    if let Some(copy) = stage.copies.iter().find(|c| c.instruction == idx) {
        let src = copy.sources.iter().find(|s| is_probe_file(s))?;
        let dest = copy.dest_resolved.as_deref().unwrap_or(&copy.dest);
        if !dest.starts_with('/') {
            return None;
        }
        return Some(if copy.dest_is_dir || dest.ends_with('/') {
            let base = src.rsplit('/').next().unwrap_or(src);
            format!("{}/{base}", dest.trim_end_matches('/'))
        } else {
            dest.to_string()
        });
    }
    if !matches!(inst.kind, InstructionKind::Run(_)) {
        return None;
    }
    // `wget -qO/bin/grpc_health_probe URL`, `curl -o /bin/grpc_health_probe`,
    // `chmod +x /bin/grpc_health_probe`.
    text.split(|c: char| c.is_whitespace() || matches!(c, ';' | '&' | '|' | '"' | '\''))
        .filter(|w| !w.contains("://") && !w.contains('$'))
        .map(|w| match w.find('/') {
            Some(i) if w.starts_with('-') => &w[i..],
            _ => w,
        })
        .rfind(|w| w.starts_with('/') && is_probe_file(w))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(src: &str) -> Option<Grpc> {
        let file = crate::syntax::parse(src).unwrap();
        let model = crate::model::Model::build(&file);
        let stage = model.final_stage().unwrap();
        evidence(&file, &model, stage, None, None)
    }

    #[test]
    fn probe_downloaded_in_the_final_stage() {
        let g = ev("FROM golang:1.22 AS b\nRUN go build -o /s .\nFROM alpine:3\nRUN GRPC_HEALTH_PROBE_VERSION=v0.4.24 && wget -qO/bin/grpc_health_probe https://github.com/grpc-ecosystem/grpc-health-probe/releases/download/${GRPC_HEALTH_PROBE_VERSION}/grpc_health_probe-linux-amd64 && chmod +x /bin/grpc_health_probe\nCOPY --from=b /s /s\nEXPOSE 9555\nENTRYPOINT [\"/s\"]\n").unwrap();
        assert!(g.probe_in_image);
        assert_eq!(g.probe_path.as_deref(), Some("/bin/grpc_health_probe"));
        assert_eq!(g.evidence, "line 4: `RUN /bin/grpc_health_probe`");
    }

    #[test]
    fn probe_copied_from_a_build_stage() {
        let g = ev("FROM golang:1.22 AS b\nRUN go install github.com/grpc-ecosystem/grpc-health-probe@latest\nFROM gcr.io/distroless/static\nCOPY --from=b /go/bin/grpc-health-probe /usr/local/bin/\nEXPOSE 50051\n").unwrap();
        assert!(g.probe_in_image);
        assert_eq!(
            g.probe_path.as_deref(),
            Some("/usr/local/bin/grpc-health-probe")
        );
    }

    #[test]
    fn probe_only_in_a_build_stage_is_not_in_the_image() {
        let g = ev("FROM golang:1.22 AS b\nRUN go install github.com/grpc-ecosystem/grpc-health-probe@latest\nFROM alpine:3\nEXPOSE 50051\n").unwrap();
        assert!(!g.probe_in_image);
    }

    #[test]
    fn no_evidence_in_a_plain_server() {
        assert_eq!(
            ev("FROM eclipse-temurin:21-jre-alpine\nWORKDIR /app\nCOPY --from=builder /app .\nEXPOSE 9555\nENTRYPOINT [\"/app/build/install/hipstershop/bin/AdService\"]\n"),
            None
        );
        assert!(ev("FROM python:3.12\nCOPY protos/ protos/\nEXPOSE 8080\n").is_some());
        assert!(ev("FROM python:3.12\nENV GRPC_PORT=8080\nEXPOSE 8080\n").is_some());
        // A client library installed is no evidence.
        assert_eq!(
            ev("FROM python:3.12\nRUN pip install grpcio-status pyspark\nEXPOSE 4040\n"),
            None
        );
    }

    #[test]
    fn context_manifests_and_sources() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("requirements.txt"),
            "grpcio-health-checking==1.60\n",
        )
        .unwrap();
        assert_eq!(
            from_manifests(dir.path()).as_deref(),
            Some("requirements.txt: grpcio")
        );
        let sources = Sources {
            files: vec![super::super::routes::SourceFile {
                rel: "email_server.py".into(),
                text: "import grpc\nfrom grpc_health.v1 import health_pb2\n".into(),
            }],
        };
        assert_eq!(
            from_sources(&sources).as_deref(),
            Some("email_server.py:2: grpc_health.v1")
        );
        // A dependency, and code that starts no gRPC server: a client.
        let file = crate::syntax::parse("FROM python:3.12\nEXPOSE 8080\n").unwrap();
        let model = crate::model::Model::build(&file);
        let stage = model.final_stage().unwrap();
        let web = Sources {
            files: vec![super::super::routes::SourceFile {
                rel: "main.py".into(),
                text: "import grpc\nchannel = grpc.insecure_channel('cart:7070')\n".into(),
            }],
        };
        assert_eq!(
            evidence(&file, &model, stage, Some(dir.path()), Some(&web)),
            None
        );
        assert!(evidence(&file, &model, stage, Some(dir.path()), None).is_some());
    }
}
