//! Checking that the optimized image still does what the original did.
//!
//! Both images are run the same way, with memory/CPU limits and a timeout, and
//! their observable behaviour is compared: the HTTP status of `GET <path>` when the
//! original EXPOSEs a port, otherwise the exit code and stdout of the default
//! command; plus the user each runs as, whether its HEALTHCHECK reaches healthy,
//! and which files of the original's WORKDIR the optimized image lacks. Any
//! difference means *not verified*, with the reason, except files that a fix
//! removed on purpose (see [`super::removals`]): those are reported, not held
//! against the optimized image. Containers are always removed.

use std::collections::{BTreeSet, HashMap};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use bollard::container::LogOutput;
use bollard::models::{
    ContainerCreateBody, HealthConfig, HealthStatusEnum, HostConfig, PortBinding,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, DownloadFromContainerOptionsBuilder, LogsOptionsBuilder,
    RemoveContainerOptionsBuilder,
};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use super::engine::Engine;
use super::error::DockerError;
use super::measure::ImageFacts;
use super::removals::{self, ExplainedRemoval, RemovalEvidence, TreeEntry, TreeListing};

/// Memory limit for verification runs: generous for small apps, but a runaway
/// process cannot take the machine down.
const MEMORY_LIMIT_BYTES: i64 = 1024 * 1024 * 1024;
/// One CPU, in units of 1e-9 CPUs.
const NANO_CPUS: i64 = 1_000_000_000;
/// At most this many processes per verification container (a fork bomb stops there).
const PIDS_LIMIT: i64 = 512;
/// We keep at most this much stdout per run (and compare that).
const MAX_STDOUT: usize = 64 * 1024;
/// At most this many missing paths are listed in the report (the count is exact).
const MAX_LISTED_MISSING: usize = 50;

/// How the images were exercised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerifyMode {
    /// Started both, published the port on 127.0.0.1 and compared `GET` statuses.
    Http { port: u16 },
    /// Ran the default command and compared exit code and stdout.
    Command,
}

/// What we saw when running one image.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunObservation {
    /// HTTP status code of the GET (HTTP mode).
    pub http_status: Option<u16>,
    /// Exit code of the default command (command mode, or a server that died).
    pub exit_code: Option<i64>,
    /// Stdout of the default command (command mode), truncated to 64 KiB.
    pub stdout: Option<String>,
    /// The container was still running when the timeout expired.
    pub timed_out: bool,
    /// `Config.User` of the image (empty: root).
    pub config_user: String,
    /// `id -u` inside the container, when the image has `id`.
    pub uid: Option<String>,
    /// Last State.Health.Status seen (`healthy`, `unhealthy`, `starting`), if the
    /// image has a HEALTHCHECK.
    pub health: Option<String>,
    /// Something went wrong running it (cannot start, port never answered...).
    pub problem: Option<String>,
    /// Last lines of the container's output, to explain a problem.
    pub log_tail: Option<String>,
    /// Lines of the container's output (stdout and stderr) that say `permission
    /// denied` or `operation not permitted` (at most 5): the evidence against a
    /// fix that changed the user.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub denied: Vec<String>,
    /// What the container needed and did not have here (a TTY, a display, a
    /// device), from its output, when it failed: e.g. `a display (cannot open
    /// display)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needs: Option<String>,
    /// What the probes of the running original showed (the original only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<crate::evidence::runtime::RuntimeEvidence>,
}

/// What a failed container's output says it needed: a TTY, a display or a device.
pub(crate) fn needs_from_output(output: &str) -> Option<String> {
    const SIGNS: &[(&str, &str)] = &[
        ("cannot open display", "a display"),
        ("can't open display", "a display"),
        ("unable to open display", "a display"),
        ("no display name", "a display"),
        ("not a tty", "a TTY"),
        ("input device is not a tty", "a TTY"),
        ("inappropriate ioctl for device", "a TTY"),
        ("no such device", "a device"),
        ("/dev/snd", "a device"),
        ("/dev/dri", "a device"),
        ("/dev/video", "a device"),
        ("/dev/ttyusb", "a device"),
        ("/dev/kvm", "a device"),
        ("/dev/fuse", "a device"),
    ];
    output.lines().find_map(|line| {
        let lower = line.to_ascii_lowercase();
        SIGNS
            .iter()
            .find(|(sign, _)| lower.contains(sign))
            .map(|(_, what)| {
                format!(
                    "{what} ({})",
                    line.trim().chars().take(160).collect::<String>()
                )
            })
    })
}

/// At most this many `permission denied` lines are kept per run.
const MAX_DENIED_LINES: usize = 5;

/// The lines of a container's output that report a permission error.
pub(crate) fn denied_lines(output: &str) -> Vec<String> {
    output
        .lines()
        .filter(|line| {
            let lower = line.to_ascii_lowercase();
            lower.contains("permission denied")
                || lower.contains("operation not permitted")
                || lower.contains("eacces")
        })
        .map(|line| line.trim().chars().take(300).collect())
        .take(MAX_DENIED_LINES)
        .collect()
}

/// The verdict and its evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    pub verified: bool,
    /// Why it is not verified (empty when verified).
    pub reasons: Vec<String>,
    /// The original itself did not answer or could not run, so behaviour could not
    /// be compared (e.g. it needs a database); not verified, but not shown broken.
    pub inconclusive: bool,
    /// The original needs what this machine's check cannot give it (a TTY, a
    /// display, a device): *not verifiable here*. `--verify` then applies no
    /// unsafe fix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_verifiable: Option<String>,
    pub mode: VerifyMode,
    /// The HTTP path requested in HTTP mode.
    pub path: String,
    pub original: RunObservation,
    pub optimized: RunObservation,
    /// The WORKDIR whose file tree was compared (None: no WORKDIR, not compared).
    pub workdir_compared: Option<String>,
    /// Paths (relative to that WORKDIR) present in the original image but not in
    /// the optimized one that no fix explains: each fails verification. At most 50
    /// are listed.
    pub missing_files: Vec<String>,
    pub missing_files_total: usize,
    /// Paths missing from the optimized image on purpose, by cause (the fixes' new
    /// `.dockerignore`, devDependencies left out by a production-only install):
    /// reported, but they do not fail verification.
    pub explained_removals: Vec<ExplainedRemoval>,
    /// How many paths `explained_removals` accounts for.
    pub explained_removals_total: usize,
    /// Notes on how the check was done (e.g. the shortened health-check interval).
    pub notes: Vec<String>,
}

pub(crate) struct VerifySettings<'a> {
    pub run_id: &'a str,
    /// Who made the containers (see `owner.rs`).
    pub labels: &'a HashMap<String, String>,
    pub path: &'a str,
    pub timeout: Duration,
    /// What the optimized build did that removes files on purpose.
    pub removal_evidence: RemovalEvidence<'a>,
}

/// The original image's run, kept so that several candidate images can be
/// compared with it (the fix search of `--verify`) without running it again.
pub(crate) struct OriginalRun {
    mode: VerifyMode,
    workdir: Option<String>,
    notes: Vec<String>,
    run: RunOutcome,
}

pub(crate) async fn verify(
    engine: &Engine,
    original: (&str, &ImageFacts),
    optimized: (&str, &ImageFacts),
    settings: &VerifySettings<'_>,
    probe_paths: &[String],
) -> Result<(Verification, OriginalRun), DockerError> {
    let original_run = run_original(engine, original, settings, probe_paths).await?;
    let verification =
        verify_against(engine, original.1, &original_run, optimized, settings).await?;
    Ok((verification, original_run))
}

/// Runs the original image once (see [`verify_against`]), and probes it (see
/// `probe.rs`; `probe_paths`: HTTP paths to try before the conventional ones).
pub(crate) async fn run_original(
    engine: &Engine,
    original: (&str, &ImageFacts),
    settings: &VerifySettings<'_>,
    probe_paths: &[String],
) -> Result<OriginalRun, DockerError> {
    let port = original
        .1
        .exposed_ports
        .iter()
        .filter_map(|p| {
            let (num, proto) = p.split_once('/').unwrap_or((p, "tcp"));
            (proto == "tcp").then(|| num.parse::<u16>().ok()).flatten()
        })
        .min();
    let mode = match port {
        Some(port) => VerifyMode::Http { port },
        None => VerifyMode::Command,
    };
    let mut notes = Vec::new();
    if original.1.healthcheck.is_some() {
        notes.push(
            "HEALTHCHECK interval shortened to 1s for the check (test, timeout and retries \
             as in the image)"
                .to_string(),
        );
    }
    let workdir = match original.1.workdir.trim_end_matches('/') {
        "" => None,
        dir => Some(dir.to_string()),
    };
    if workdir.is_none() {
        notes.push("the original has no WORKDIR (or WORKDIR /): file trees not compared".into());
    }
    let run = run_one(
        engine,
        original,
        mode,
        workdir.as_deref(),
        settings,
        Some(Probe {
            http_paths: Some(probe_paths),
        }),
    )
    .await?;
    Ok(OriginalRun {
        mode,
        workdir,
        notes,
        run,
    })
}

/// Runs `optimized` and compares it with the original's run.
pub(crate) async fn verify_against(
    engine: &Engine,
    original_facts: &ImageFacts,
    original: &OriginalRun,
    optimized: (&str, &ImageFacts),
    settings: &VerifySettings<'_>,
) -> Result<Verification, DockerError> {
    let (mode, workdir) = (original.mode, original.workdir.clone());
    let mut notes = original.notes.clone();
    if optimized.1.healthcheck.is_some() && original_facts.healthcheck.is_none() {
        notes.push(
            "HEALTHCHECK interval shortened to 1s for the check (test, timeout and retries \
             as in the image)"
                .to_string(),
        );
    }
    let original_run = &original.run;
    let optimized_run = run_one(
        engine,
        optimized,
        mode,
        workdir.as_deref(),
        settings,
        Some(Probe { http_paths: None }),
    )
    .await?;

    if mode == VerifyMode::Command {
        let (a, b) = (&original_run.observation, &optimized_run.observation);
        if a.timed_out && b.timed_out {
            notes.push(format!(
                "both default commands were still running after {}s (a server without \
                 EXPOSE?): only their output so far was compared",
                settings.timeout.as_secs()
            ));
        } else if let (Some(code), Some(other)) = (a.exit_code, b.exit_code) {
            if code != 0 && code == other {
                notes.push(format!(
                    "the original's default command fails too (exit {code}), so the check only \
                     shows that both fail the same way (missing services or arguments?)"
                ));
            }
        }
    }

    let mut reasons = Vec::new();
    compare_behaviour(
        mode,
        settings.path,
        &original_run.observation,
        &optimized_run.observation,
        &mut reasons,
    );
    if original_facts.exposed_ports != optimized.1.exposed_ports {
        reasons.push(format!(
            "exposes {:?} instead of {:?}",
            optimized.1.exposed_ports, original_facts.exposed_ports
        ));
    }
    compare_users(
        &original_run.observation,
        &optimized_run.observation,
        &mut reasons,
    );
    compare_health(
        &original_run.observation,
        &optimized_run.observation,
        &mut reasons,
    );
    compare_runtime(
        mode,
        &original_run.observation,
        &optimized_run.observation,
        &mut reasons,
    );

    let classified = match &original_run.files {
        Some(before) => {
            let missing: BTreeSet<String> = before
                .entries
                .keys()
                .filter(|path| {
                    optimized_run
                        .files
                        .as_ref()
                        .is_none_or(|after| !after.entries.contains_key(*path))
                })
                .cloned()
                .collect();
            removals::classify(&missing, before, &settings.removal_evidence)
        }
        None => removals::Classified::default(),
    };
    let mut missing = classified.unexplained;
    let missing_total = missing.len();
    if let (Some(dir), true) = (&workdir, missing_total > 0) {
        let shown: Vec<&str> = missing.iter().take(5).map(String::as_str).collect();
        reasons.push(format!(
            "{missing_total} path(s) under {dir} in the original are missing from the optimized \
             image, and no fix removes them on purpose: {}{}",
            shown.join(", "),
            if missing_total > shown.len() {
                ", ..."
            } else {
                ""
            }
        ));
    }
    missing.truncate(MAX_LISTED_MISSING);

    let not_verifiable = original_run.observation.needs.clone();
    if let Some(needs) = &not_verifiable {
        reasons.insert(
            0,
            format!("not verifiable here: the original image needs {needs} to run"),
        );
    }
    let inconclusive = not_verifiable.is_some()
        || match mode {
            VerifyMode::Http { .. } => original_run.observation.http_status.is_none(),
            VerifyMode::Command => original_run.observation.problem.is_some(),
        };
    Ok(Verification {
        verified: reasons.is_empty(),
        reasons,
        inconclusive,
        not_verifiable,
        mode,
        path: settings.path.to_string(),
        original: original_run.observation.clone(),
        optimized: optimized_run.observation,
        workdir_compared: workdir,
        missing_files: missing,
        missing_files_total: missing_total,
        explained_removals: classified.explained,
        explained_removals_total: classified.explained_total,
        notes,
    })
}

fn compare_behaviour(
    mode: VerifyMode,
    path: &str,
    before: &RunObservation,
    after: &RunObservation,
    reasons: &mut Vec<String>,
) {
    match mode {
        VerifyMode::Http { port } => match (before.http_status, after.http_status) {
            (Some(a), Some(b)) if a == b => {}
            (Some(a), Some(b)) => reasons.push(format!(
                "GET {path} on port {port} answered {a} on the original but {b} on the optimized image"
            )),
            (Some(a), None) => reasons.push(format!(
                "the optimized image did not answer GET {path} on port {port} (the original answered {a}): {}",
                after.problem.as_deref().unwrap_or("no answer")
            )),
            (None, _) => reasons.push(format!(
                "the original image itself did not answer GET {path} on port {port}, so there is \
                 nothing to compare: {}",
                before.problem.as_deref().unwrap_or("no answer")
            )),
        },
        VerifyMode::Command => {
            if before.timed_out != after.timed_out {
                let (which, other) = if after.timed_out {
                    ("optimized", "original")
                } else {
                    ("original", "optimized")
                };
                reasons.push(format!(
                    "the {which} image was still running at the timeout, the {other} had exited"
                ));
            } else if before.exit_code != after.exit_code {
                reasons.push(format!(
                    "the default command exited with {} on the original but {} on the optimized image",
                    show_code(before.exit_code),
                    show_code(after.exit_code)
                ));
            }
            if before.stdout != after.stdout {
                let a = before.stdout.as_deref().unwrap_or("");
                let b = after.stdout.as_deref().unwrap_or("");
                reasons.push(format!(
                    "the default command printed different output: {}",
                    first_difference(a, b)
                ));
            }
            match (&before.problem, &after.problem) {
                (Some(problem), _) => reasons.push(format!(
                    "the original image itself could not be run, so there is nothing to \
                     compare: {problem}"
                )),
                (None, Some(problem)) => {
                    reasons.push(format!("the optimized image could not be run: {problem}"))
                }
                (None, None) => {}
            }
        }
    }
}

fn show_code(code: Option<i64>) -> String {
    code.map_or_else(|| "no exit code".to_string(), |c| c.to_string())
}

/// `line 3: "hello" vs "hullo"`.
fn first_difference(a: &str, b: &str) -> String {
    let (mut la, mut lb) = (a.lines(), b.lines());
    let mut n = 1;
    loop {
        match (la.next(), lb.next()) {
            (Some(x), Some(y)) if x == y => n += 1,
            (x, y) => {
                let show = |s: Option<&str>| {
                    s.map_or("<end of output>".to_string(), |s| {
                        format!("{:?}", s.chars().take(120).collect::<String>())
                    })
                };
                if x.is_none() && y.is_none() {
                    return "the same lines, different line endings or whitespace".into();
                }
                return format!("line {n}: original {} vs optimized {}", show(x), show(y));
            }
        }
    }
}

/// Dropping root (original uid 0, optimized non-root) is what the non-root-user
/// pass is for: the report shows both users, and whether the app still works is
/// judged by its behaviour, not by the uid. Gaining root, or moving between two
/// different non-root users, is a difference.
fn compare_users(before: &RunObservation, after: &RunObservation, reasons: &mut Vec<String>) {
    match (&before.uid, &after.uid) {
        (Some(a), Some(_)) if a == "0" => {}
        (Some(a), Some(b)) if a != b => reasons.push(format!(
            "runs as uid {b} instead of uid {a} (USER {:?} vs {:?})",
            after.config_user, before.config_user
        )),
        (Some(_), Some(_)) => {}
        _ if !before.config_user.is_empty()
            && before.config_user != "root"
            && before.config_user != "0"
            && before.config_user != after.config_user =>
        {
            reasons.push(format!(
                "runs as USER {:?} instead of {:?}",
                after.config_user, before.config_user
            ))
        }
        _ => {}
    }
}

/// The ports both listen on (when the original listens on any), and for a
/// command, the files it wrote (`docker diff`, minus home folders and caches).
fn compare_runtime(
    mode: VerifyMode,
    before: &RunObservation,
    after: &RunObservation,
    reasons: &mut Vec<String>,
) {
    let (Some(a), Some(b)) = (&before.runtime, &after.runtime) else {
        return;
    };
    let list = |ports: &[u16]| {
        if ports.is_empty() {
            "none".to_string()
        } else {
            ports
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    // Ports are only read from a running container that has `cat`.
    if a.ports_read
        && b.ports_read
        && !a.listening_ports.is_empty()
        && a.listening_ports != b.listening_ports
    {
        reasons.push(format!(
            "the original listens on TCP {} but the optimized image on {}",
            list(&a.listening_ports),
            list(&b.listening_ports)
        ));
    }
    if mode == VerifyMode::Command {
        let shared = |writes: &[String]| -> BTreeSet<String> {
            writes
                .iter()
                .filter(|w| !super::probe::per_user_path(w))
                .cloned()
                .collect()
        };
        let (wa, wb) = (shared(&a.startup_writes), shared(&b.startup_writes));
        let missing: Vec<&String> = wa.difference(&wb).take(5).collect();
        let extra: Vec<&String> = wb.difference(&wa).take(5).collect();
        if !missing.is_empty() || !extra.is_empty() {
            let show = |v: &[&String]| {
                if v.is_empty() {
                    "nothing".to_string()
                } else {
                    v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                }
            };
            reasons.push(format!(
                "the default command wrote different files (docker diff): only the original \
                 wrote {}; only the optimized image wrote {}",
                show(&missing),
                show(&extra)
            ));
        }
    }
}

fn compare_health(before: &RunObservation, after: &RunObservation, reasons: &mut Vec<String>) {
    let healthy = |o: &RunObservation| o.health.as_deref() == Some("healthy");
    match (&before.health, &after.health) {
        (None, None) => {}
        (_, Some(status)) if !healthy(after) && (before.health.is_none() || healthy(before)) => {
            reasons.push(format!(
                "the optimized image's HEALTHCHECK did not become healthy (last status: {status})"
            ))
        }
        (Some(_), None) if healthy(before) => {
            reasons.push("the optimized image lost the original's HEALTHCHECK".to_string())
        }
        _ => {}
    }
}

/// What to probe on a run (see `probe.rs`): `http_paths` (tried before the
/// conventional health paths) for the original; `None` for the optimized image,
/// whose ports, user and writes are compared with the original's.
#[derive(Clone, Copy)]
struct Probe<'a> {
    http_paths: Option<&'a [String]>,
}

/// One image's run, plus the file listing of the compared WORKDIR.
struct RunOutcome {
    observation: RunObservation,
    files: Option<TreeListing>,
}

async fn run_one(
    engine: &Engine,
    (image, facts): (&str, &ImageFacts),
    mode: VerifyMode,
    workdir: Option<&str>,
    settings: &VerifySettings<'_>,
    probe: Option<Probe<'_>>,
) -> Result<RunOutcome, DockerError> {
    let mut host_config = HostConfig {
        memory: Some(MEMORY_LIMIT_BYTES),
        nano_cpus: Some(NANO_CPUS),
        pids_limit: Some(PIDS_LIMIT),
        ..Default::default()
    };
    let mut exposed = None;
    if let VerifyMode::Http { port } = mode {
        let key = format!("{port}/tcp");
        // Port 0 lets the engine pick a free host port; 127.0.0.1 keeps the app off
        // the outside network while we poke it.
        host_config.port_bindings = Some(HashMap::from([(
            key.clone(),
            Some(vec![PortBinding {
                host_ip: Some("127.0.0.1".into()),
                host_port: Some(String::new()),
            }]),
        )]));
        exposed = Some(vec![key]);
    }
    let healthcheck = facts.healthcheck.as_ref().map(|_| HealthConfig {
        // Zero fields are inherited from the image; only the 30s default interval
        // is too slow to wait for.
        interval: Some(1_000_000_000),
        ..Default::default()
    });
    let name = format!(
        "{}-{}",
        settings.run_id,
        &facts.id.trim_start_matches("sha256:")[..12.min(facts.id.len())]
    );
    let body = ContainerCreateBody {
        image: Some(image.to_string()),
        host_config: Some(host_config),
        exposed_ports: exposed,
        healthcheck,
        labels: Some(
            settings
                .labels
                .clone()
                .into_iter()
                .chain([("dopt.run".to_string(), settings.run_id.to_string())])
                .collect(),
        ),
        ..Default::default()
    };
    let created = engine
        .docker
        .create_container(
            Some(CreateContainerOptionsBuilder::default().name(&name).build()),
            body,
        )
        .await;
    let id = match created {
        Ok(created) => created.id,
        // E.g. "no command specified": the image cannot run, which is an
        // observation about it, not a failure of the comparison.
        Err(e) => {
            return Ok(RunOutcome {
                observation: RunObservation {
                    config_user: facts.config_user.clone(),
                    problem: Some(format!("could not create a container: {}", api_message(&e))),
                    ..Default::default()
                },
                files: None,
            })
        }
    };
    let result = exercise(engine, &id, facts, mode, workdir, settings, probe).await;
    remove_container(engine, &id).await;
    result
}

pub(crate) async fn remove_container(engine: &Engine, id: &str) {
    let _ = engine
        .docker
        .remove_container(
            id,
            Some(
                RemoveContainerOptionsBuilder::default()
                    .force(true)
                    .v(true)
                    .build(),
            ),
        )
        .await;
}

async fn exercise(
    engine: &Engine,
    id: &str,
    facts: &ImageFacts,
    mode: VerifyMode,
    workdir: Option<&str>,
    settings: &VerifySettings<'_>,
    probe: Option<Probe<'_>>,
) -> Result<RunOutcome, DockerError> {
    // List files before the app runs, so files it writes at run time do not count.
    let files = match workdir {
        Some(dir) => list_tree(engine, id, dir).await,
        None => None,
    };
    let mut observation = RunObservation {
        config_user: facts.config_user.clone(),
        ..Default::default()
    };
    if let Err(e) = engine.docker.start_container(id, None).await {
        observation.problem = Some(format!("could not start: {}", api_message(&e)));
        return Ok(RunOutcome { observation, files });
    }
    let started = Instant::now();
    let deadline = started + settings.timeout;

    match mode {
        VerifyMode::Http { port } => {
            http_probe(engine, id, port, settings.path, deadline, &mut observation).await
        }
        VerifyMode::Command => {
            command_run(engine, id, deadline, &mut observation).await;
        }
    }
    if let Some(request) = probe {
        let evidence = if is_running(engine, id).await.0 {
            let http = match (mode, request.http_paths) {
                (VerifyMode::Http { port }, Some(_)) if observation.http_status.is_some() => {
                    published_address(engine, id, port).await
                }
                _ => None,
            };
            let mut tried = vec![settings.path.to_string()];
            tried.extend(request.http_paths.unwrap_or_default().iter().cloned());
            super::probe::probe(engine, id, http, &tried).await
        } else {
            // Exited (a command): what it wrote is still there.
            crate::evidence::runtime::RuntimeEvidence {
                startup_writes: super::probe::writes(engine, id).await,
                ..Default::default()
            }
        };
        observation.runtime = Some(evidence);
    }
    if facts.healthcheck.is_some() {
        // Give the health check at least a few probes even when the app was quick.
        let health_deadline = deadline.max(Instant::now() + Duration::from_secs(5));
        observation.health = wait_health(engine, id, health_deadline).await;
    }
    observation.uid = current_uid(engine, id, &facts.config_user).await;
    let (_, tail, all) = container_output(engine, id, true).await;
    observation.denied = denied_lines(&all);
    let failed = observation.problem.is_some() || observation.exit_code.is_some_and(|c| c != 0);
    if failed {
        observation.needs = needs_from_output(&all);
    }
    if observation.problem.is_some() {
        observation.log_tail = Some(tail);
    }
    Ok(RunOutcome { observation, files })
}

fn api_message(e: &bollard::errors::Error) -> String {
    match e {
        bollard::errors::Error::DockerResponseServerError { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

async fn is_running(engine: &Engine, id: &str) -> (bool, Option<i64>) {
    match engine.docker.inspect_container(id, None).await {
        Ok(inspect) => {
            let state = inspect.state.unwrap_or_default();
            (state.running.unwrap_or(false), state.exit_code)
        }
        Err(_) => (false, None),
    }
}

async fn http_probe(
    engine: &Engine,
    id: &str,
    port: u16,
    path: &str,
    deadline: Instant,
    observation: &mut RunObservation,
) {
    let mut last_error = String::from("no answer");
    loop {
        let (running, exit_code) = is_running(engine, id).await;
        if !running {
            observation.exit_code = exit_code;
            observation.problem = Some(format!(
                "the container exited (code {}) before answering on port {port}",
                show_code(exit_code)
            ));
            return;
        }
        if let Some(addr) = published_address(engine, id, port).await {
            let path = path.to_string();
            let attempt = tokio::task::spawn_blocking(move || http_get_status(addr, &path)).await;
            match attempt {
                Ok(Ok(status)) => {
                    observation.http_status = Some(status);
                    return;
                }
                Ok(Err(e)) => last_error = e,
                Err(e) => last_error = e.to_string(),
            }
        }
        if Instant::now() >= deadline {
            observation.timed_out = true;
            observation.problem = Some(format!(
                "port {port} did not answer within the timeout (last error: {last_error})"
            ));
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Where the engine published the container's port on the host.
async fn published_address(engine: &Engine, id: &str, port: u16) -> Option<SocketAddr> {
    let inspect = engine.docker.inspect_container(id, None).await.ok()?;
    let settings = inspect.network_settings?;
    let bindings = settings.ports?.get(&format!("{port}/tcp"))?.clone()?;
    let binding = bindings
        .iter()
        .find(|b| b.host_ip.as_deref() == Some("127.0.0.1"))
        .or(bindings.first())?;
    let host_port: u16 = binding.host_port.as_deref()?.parse().ok()?;
    Some(SocketAddr::from(([127, 0, 0, 1], host_port)))
}

/// A deliberately tiny HTTP/1.0 client: one GET, the status code of the answer.
/// HTTP/1.0 means the server closes the connection and never sends chunked data.
pub fn http_get_status(addr: SocketAddr, path: &str) -> Result<u16, String> {
    let timeout = Duration::from_secs(5);
    let mut stream = TcpStream::connect_timeout(&addr, timeout).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    let request = format!(
        "GET {path} HTTP/1.0\r\nHost: localhost\r\nUser-Agent: dopt-verify\r\nAccept: */*\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut head = Vec::new();
    let mut buf = [0u8; 512];
    while !head.windows(2).any(|w| w == b"\r\n") && head.len() < 4096 {
        let n = stream.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    if head.is_empty() {
        return Err("connection closed without an answer".into());
    }
    let line = String::from_utf8_lossy(&head);
    let status_line = line.lines().next().unwrap_or("");
    let mut parts = status_line.split_whitespace();
    match (parts.next(), parts.next()) {
        (Some(version), Some(code)) if version.starts_with("HTTP/") => code
            .parse()
            .map_err(|_| format!("bad status line {status_line:?}")),
        _ => Err(format!("not an HTTP answer: {status_line:?}")),
    }
}

async fn command_run(
    engine: &Engine,
    id: &str,
    deadline: Instant,
    observation: &mut RunObservation,
) {
    let remaining = deadline.saturating_duration_since(Instant::now());
    let mut wait = engine.docker.wait_container(id, None);
    match tokio::time::timeout(remaining, wait.next()).await {
        Err(_) => observation.timed_out = true,
        Ok(Some(Ok(response))) => observation.exit_code = Some(response.status_code),
        // bollard reports a non-zero exit as an error carrying the code.
        Ok(Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. }))) => {
            observation.exit_code = Some(code)
        }
        Ok(Some(Err(e))) => observation.problem = Some(format!("wait failed: {}", api_message(&e))),
        Ok(None) => {}
    }
    if observation.exit_code.is_none() && !observation.timed_out {
        observation.exit_code = is_running(engine, id).await.1;
    }
    observation.stdout = Some(container_output(engine, id, false).await.0);
}

/// (stdout, last lines of stdout+stderr, all of stdout+stderr) of a container so far.
async fn container_output(
    engine: &Engine,
    id: &str,
    with_stderr: bool,
) -> (String, String, String) {
    let options = LogsOptionsBuilder::default()
        .stdout(true)
        .stderr(with_stderr)
        .follow(false)
        .build();
    let mut stream = engine.docker.logs(id, Some(options));
    let mut stdout = Vec::new();
    let mut all = Vec::new();
    while let Some(Ok(chunk)) = stream.next().await {
        match chunk {
            LogOutput::StdOut { message } | LogOutput::Console { message } => {
                if stdout.len() < MAX_STDOUT {
                    stdout.extend_from_slice(&message);
                }
                all.extend_from_slice(&message);
            }
            LogOutput::StdErr { message } => all.extend_from_slice(&message),
            LogOutput::StdIn { .. } => {}
        }
    }
    stdout.truncate(MAX_STDOUT);
    let all = String::from_utf8_lossy(&all);
    (
        String::from_utf8_lossy(&stdout).into_owned(),
        super::build::log_tail(&all, 20),
        all.into_owned(),
    )
}

async fn wait_health(engine: &Engine, id: &str, deadline: Instant) -> Option<String> {
    let mut last = None;
    loop {
        let inspect = engine.docker.inspect_container(id, None).await.ok()?;
        let state = inspect.state.unwrap_or_default();
        let status = state.health.and_then(|h| h.status);
        last = match status {
            Some(HealthStatusEnum::HEALTHY) => return Some("healthy".into()),
            Some(HealthStatusEnum::UNHEALTHY) => return Some("unhealthy".into()),
            Some(HealthStatusEnum::STARTING) => Some("starting".to_string()),
            _ => last,
        };
        if !state.running.unwrap_or(false) {
            return Some(match last {
                Some(s) => format!("{s} (container exited)"),
                None => "never checked (container exited)".into(),
            });
        }
        if Instant::now() >= deadline {
            return last.or(Some("starting".into()));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// The numeric uid the container runs as: `id -u` through exec when it is still
/// running; a numeric `Config.User` otherwise; unknown when neither works.
async fn current_uid(engine: &Engine, id: &str, config_user: &str) -> Option<String> {
    let numeric_config = || {
        let user = config_user.split(':').next().unwrap_or("");
        if user.is_empty() {
            Some("0".to_string())
        } else {
            user.parse::<u32>().ok().map(|u| u.to_string())
        }
    };
    if !is_running(engine, id).await.0 {
        return match numeric_config() {
            Some(uid) => Some(uid),
            None => uid_from_passwd(engine, id, config_user).await,
        };
    }
    let out = super::probe::exec_stdout(engine, id, &["id", "-u"])
        .await
        .unwrap_or_default();
    let uid = out.trim();
    if !uid.is_empty() && uid.chars().all(|c| c.is_ascii_digit()) {
        Some(uid.to_string())
    } else if let Some(uid) = numeric_config() {
        Some(uid)
    } else {
        uid_from_passwd(engine, id, config_user).await
    }
}

/// Resolves a user name through the image's `/etc/passwd`, read with the archive
/// API: works on stopped containers and on images without `id` (distroless).
async fn uid_from_passwd(engine: &Engine, id: &str, config_user: &str) -> Option<String> {
    let name = config_user.split(':').next()?;
    let options = DownloadFromContainerOptionsBuilder::default()
        .path("/etc/passwd")
        .build();
    let mut stream = engine.docker.download_from_container(id, Some(options));
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        bytes.extend_from_slice(&chunk.ok()?);
        if bytes.len() > 4 * 1024 * 1024 {
            return None;
        }
    }
    let mut archive = tar::Archive::new(bytes.as_slice());
    let mut entry = archive.entries().ok()?.next()?.ok()?;
    let mut passwd = String::new();
    entry.read_to_string(&mut passwd).ok()?;
    passwd_uid(&passwd, name)
}

/// The uid of `name` in an `/etc/passwd` text.
fn passwd_uid(passwd: &str, name: &str) -> Option<String> {
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        (fields.next()? == name)
            .then(|| fields.nth(1).map(str::to_string))
            .flatten()
    })
}

/// Everything under `dir` in the container's filesystem (GET
/// /containers/{id}/archive), with link targets and the npm manifests that
/// [`removals::is_manifest`] selects; None when `dir` does not exist. The archive
/// goes to a temporary file, since a `node_modules` tree can be large.
async fn list_tree(engine: &Engine, id: &str, dir: &str) -> Option<TreeListing> {
    let options = DownloadFromContainerOptionsBuilder::default()
        .path(dir)
        .build();
    let mut stream = engine.docker.download_from_container(id, Some(options));
    let mut file = tempfile::tempfile().ok()?;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.ok()?;
        file.write_all(&chunk).ok()?;
    }
    tokio::task::spawn_blocking(move || {
        use std::io::Seek;
        file.seek(std::io::SeekFrom::Start(0)).ok()?;
        let mut archive = tar::Archive::new(file);
        let mut listing = TreeListing::default();
        for entry in archive.entries().ok()? {
            let mut entry = entry.ok()?;
            let path = entry.path().ok()?.to_string_lossy().into_owned();
            // The archive's top entry is the directory itself (its base name).
            let Some((_, rest)) = path.trim_end_matches('/').split_once('/') else {
                continue;
            };
            let kind = entry.header().entry_type();
            let link_target = match kind {
                tar::EntryType::Symlink => entry
                    .link_name()
                    .ok()
                    .flatten()
                    .map(|target| target.to_string_lossy().into_owned()),
                _ => None,
            };
            if kind == tar::EntryType::Regular
                && removals::is_manifest(rest)
                && entry.size() <= removals::MAX_MANIFEST_BYTES
            {
                let mut text = String::new();
                if entry.read_to_string(&mut text).is_ok() {
                    listing.manifests.insert(rest.to_string(), text);
                }
            }
            listing.entries.insert(
                rest.to_string(),
                TreeEntry {
                    is_dir: kind == tar::EntryType::Directory,
                    link_target,
                },
            );
        }
        Some(listing)
    })
    .await
    .ok()?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_and_command_writes_are_compared() {
        use crate::evidence::runtime::RuntimeEvidence;
        let run = |ports: &[u16], read: bool, writes: &[&str]| RunObservation {
            runtime: Some(RuntimeEvidence {
                listening_ports: ports.to_vec(),
                ports_read: read,
                startup_writes: writes.iter().map(|w| w.to_string()).collect(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut reasons = Vec::new();
        let http = VerifyMode::Http { port: 80 };
        compare_runtime(
            http,
            &run(&[80], true, &[]),
            &run(&[80], true, &[]),
            &mut reasons,
        );
        // Unread ports (no `cat`) are not a difference.
        compare_runtime(
            http,
            &run(&[80], true, &[]),
            &run(&[], false, &[]),
            &mut reasons,
        );
        assert!(reasons.is_empty(), "{reasons:?}");
        compare_runtime(
            http,
            &run(&[80], true, &[]),
            &run(&[], true, &[]),
            &mut reasons,
        );
        assert_eq!(
            reasons,
            vec!["the original listens on TCP 80 but the optimized image on none"]
        );
        reasons.clear();
        let cmd = VerifyMode::Command;
        // Home folders differ by user: not compared.
        compare_runtime(
            cmd,
            &run(&[], false, &["/out/report.txt", "/root/.history"]),
            &run(&[], false, &["/out/report.txt", "/home/app/.history"]),
            &mut reasons,
        );
        assert!(reasons.is_empty(), "{reasons:?}");
        compare_runtime(
            cmd,
            &run(&[], false, &["/out/report.txt"]),
            &run(&[], false, &[]),
            &mut reasons,
        );
        assert_eq!(reasons.len(), 1);
        assert!(reasons[0].contains("only the original wrote /out/report.txt"));
    }

    #[test]
    fn what_a_failed_container_needed() {
        assert_eq!(
            needs_from_output("Error: Can't open display: :0\n").as_deref(),
            Some("a display (Error: Can't open display: :0)")
        );
        assert!(needs_from_output("the input device is not a TTY\n")
            .unwrap()
            .starts_with("a TTY"));
        assert!(
            needs_from_output("open /dev/snd/controlC0: No such file or directory")
                .unwrap()
                .starts_with("a device")
        );
        assert_eq!(needs_from_output("Traceback\nKeyError: 'x'\n"), None);
    }

    #[test]
    fn http_client_reads_the_status_code() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut buf = [0u8; 1024];
            let n = conn.read(&mut buf).unwrap();
            let request = String::from_utf8_lossy(&buf[..n]).to_string();
            conn.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                .unwrap();
            request
        });
        assert_eq!(http_get_status(addr, "/health"), Ok(404));
        let request = server.join().unwrap();
        assert!(request.starts_with("GET /health HTTP/1.0\r\n"), "{request}");
    }

    #[test]
    fn passwd_lookup() {
        let passwd = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n";
        assert_eq!(passwd_uid(passwd, "nobody").as_deref(), Some("65534"));
        assert_eq!(passwd_uid(passwd, "root").as_deref(), Some("0"));
        assert_eq!(passwd_uid(passwd, "app"), None);
    }

    #[test]
    fn differences_are_explained() {
        assert_eq!(
            first_difference("a\nb\n", "a\nc\n"),
            "line 2: original \"b\" vs optimized \"c\""
        );
        assert_eq!(
            first_difference("a\n", "a\nmore\n"),
            "line 2: original <end of output> vs optimized \"more\""
        );
        let mut reasons = Vec::new();
        let before = RunObservation {
            exit_code: Some(0),
            stdout: Some("hello\n".into()),
            ..Default::default()
        };
        let after = RunObservation {
            exit_code: Some(1),
            stdout: Some("hello\n".into()),
            ..Default::default()
        };
        compare_behaviour(VerifyMode::Command, "/", &before, &after, &mut reasons);
        assert_eq!(
            reasons,
            vec!["the default command exited with 0 on the original but 1 on the optimized image"]
        );
    }

    #[test]
    fn dropping_root_is_not_a_difference_but_gaining_it_is() {
        let root = RunObservation {
            uid: Some("0".into()),
            ..Default::default()
        };
        let app = RunObservation {
            uid: Some("1000".into()),
            config_user: "app".into(),
            ..Default::default()
        };
        let mut reasons = Vec::new();
        compare_users(&root, &app, &mut reasons);
        assert!(reasons.is_empty(), "{reasons:?}");
        compare_users(&app, &root, &mut reasons);
        assert_eq!(reasons.len(), 1, "{reasons:?}");
        assert!(reasons[0].contains("uid 0 instead of uid 1000"));
    }

    #[test]
    fn user_and_health_changes_are_reasons() {
        let root = RunObservation {
            uid: Some("0".into()),
            health: Some("healthy".into()),
            ..Default::default()
        };
        let app = RunObservation {
            uid: Some("1000".into()),
            config_user: "app".into(),
            health: Some("unhealthy".into()),
            ..Default::default()
        };
        let other = RunObservation {
            uid: Some("1001".into()),
            config_user: "other".into(),
            ..Default::default()
        };
        let mut reasons = Vec::new();
        compare_users(&app, &other, &mut reasons);
        compare_health(&root, &app, &mut reasons);
        assert_eq!(reasons.len(), 2, "{reasons:?}");
        assert!(reasons[0].contains("uid 1001 instead of uid 1000"));
        assert!(reasons[1].contains("unhealthy"));
    }
}
