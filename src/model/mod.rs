//! The semantic model of a Dockerfile: per stage, the base image and its OS family,
//! the packages installed, the users created, the effective USER and WORKDIR, the
//! exposed ports, ENV, CMD/ENTRYPOINT/HEALTHCHECK, COPY sources, stage references
//! and which stage is final. Also the WORKDIR/USER in force before every
//! instruction, so passes can resolve relative paths.
//!
//! Passes get it from `PassContext::model`, which builds it once per parsed file
//! with [`Model::build`]; it never fails (unknowns are `None` /
//! [`OsFamily::Unknown`]).

pub mod commands;
pub mod image;
pub mod scope;
#[cfg(test)]
pub mod testing;
pub mod text;

pub use image::{ImageRef, OsFamily};

use crate::syntax::{Command, Dockerfile, InstructionKind};
use serde::Serialize;
use std::collections::BTreeSet;
use std::ops::Range;

/// What a stage is built `FROM`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum BaseRef {
    /// An earlier stage of this file (by index).
    Stage(usize),
    /// An image (`scratch` included).
    Image(ImageRef),
}

/// A user the stage can switch to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KnownUser {
    pub name: String,
    pub uid: Option<String>,
    /// The RUN that created it, or `None` when the base image ships it.
    pub created_by: Option<usize>,
}

/// An `EXPOSE`d port.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExposedPort {
    /// As written (`8080/tcp`, `$PORT`).
    pub raw: String,
    /// The (first) port number, when it resolves.
    pub port: Option<u16>,
    /// `tcp` or `udp`.
    pub protocol: String,
    pub instruction: usize,
}

/// A COPY or ADD.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CopyInfo {
    pub instruction: usize,
    pub is_add: bool,
    /// The `--from` value, if any.
    pub from: Option<String>,
    /// The stage `--from` names, when it names one.
    pub from_stage: Option<usize>,
    pub sources: Vec<String>,
    pub dest: String,
    /// The destination made absolute against the WORKDIR in force, normalised
    /// (no trailing slash), when known.
    pub dest_resolved: Option<String>,
    /// True if the destination was written as a directory (`./`, `/app/`, `.`).
    pub dest_is_dir: bool,
    /// `--chown` value, if any.
    pub chown: Option<String>,
    /// Copies the whole build context (`COPY . .`, `ADD ./ /app`, `COPY * ./`).
    pub whole_context: bool,
}

/// What is in force just before an instruction runs.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct InstructionState {
    /// The stage the instruction belongs to (`None` before the first FROM).
    pub stage: Option<usize>,
    /// Absolute WORKDIR, when known.
    pub workdir: Option<String>,
    /// The USER value in force (as written, variables resolved when possible);
    /// `None` means the base image's default.
    pub user: Option<String>,
}

/// The semantic model of one stage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageModel {
    pub index: usize,
    pub name: Option<String>,
    pub from_instruction: usize,
    /// Indices into `Dockerfile::instructions` (FROM included).
    pub instructions: Range<usize>,
    pub base: BaseRef,
    /// The image at the root of the FROM chain (following stage references).
    pub root_image: Option<ImageRef>,
    pub family: OsFamily,
    /// Language runtime of the root image (`node`, `python`, `go`, `java`...).
    pub language: Option<&'static str>,
    /// OS packages present: installed by RUN in this stage or its parents (minus
    /// removals), plus HTTP clients the base image is known to ship.
    pub packages: BTreeSet<String>,
    /// apk `--virtual` groups and their members, so `apk del <group>` removes them.
    #[serde(skip)]
    pub package_groups: Vec<(String, Vec<String>)>,
    /// Users available: shipped by the base image or created by RUN.
    pub users: Vec<KnownUser>,
    pub groups: Vec<String>,
    /// The effective USER at the end of the stage (`None`: image default).
    pub user: Option<String>,
    /// The USER instruction that set `user`.
    pub user_instruction: Option<usize>,
    /// Absolute WORKDIR at the end of the stage, when known.
    pub workdir: Option<String>,
    pub exposed: Vec<ExposedPort>,
    /// ENV in force at the end of the stage (inherited from parent stages), values unquoted; in the order each key was first set.
    pub env: Vec<(String, String)>,
    /// ARGs declared in the stage with their defaults.
    pub args: Vec<(String, Option<String>)>,
    /// Last CMD / ENTRYPOINT / HEALTHCHECK / SHELL in force (possibly inherited).
    pub cmd: Option<usize>,
    pub entrypoint: Option<usize>,
    pub healthcheck: Option<usize>,
    pub shell: Option<usize>,
    /// RUN instructions of this stage (not inherited).
    pub runs: Vec<usize>,
    /// COPY/ADD of this stage (not inherited).
    pub copies: Vec<CopyInfo>,
    /// Stages this stage needs: its FROM parent, `COPY --from`, `RUN --mount=from=`.
    pub depends_on: Vec<usize>,
    pub is_final: bool,
}

impl StageModel {
    /// True if `tool` (a package name such as `curl`) is present.
    pub fn has_package(&self, tool: &str) -> bool {
        self.packages.contains(tool)
    }

    /// Whether the stage runs as root at the end: `Some(true)` root,
    /// `Some(false)` another user, `None` unknown (unresolved variable, or a base
    /// image we know nothing about).
    pub fn runs_as_root(&self) -> Option<bool> {
        match &self.user {
            Some(user) => {
                if user.contains('$') {
                    return None;
                }
                let name = user.split(':').next().unwrap_or("").trim();
                Some(name == "root" || name == "0" || name.is_empty())
            }
            None => {
                let image = self.root_image.as_ref()?;
                if image.default_non_root_user().is_some() {
                    return Some(false);
                }
                match self.family {
                    OsFamily::Unknown | OsFamily::Windows => None,
                    _ => Some(true),
                }
            }
        }
    }

    /// A user of the stage by name or uid.
    pub fn find_user(&self, name_or_uid: &str) -> Option<&KnownUser> {
        self.users
            .iter()
            .find(|u| u.name == name_or_uid || u.uid.as_deref() == Some(name_or_uid))
    }

    /// The value of an ENV or ARG visible at the end of the stage.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .or_else(|| {
                self.args
                    .iter()
                    .rev()
                    .find(|(k, _)| k == name)
                    .and_then(|(_, v)| v.as_deref())
            })
    }
}

/// The model of a whole file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Model {
    pub stages: Vec<StageModel>,
    /// Indexed like `Dockerfile::instructions`.
    pub states: Vec<InstructionState>,
    /// ARGs declared before the first FROM, with their defaults.
    pub global_args: Vec<(String, Option<String>)>,
    /// Stage indices by lower-cased `AS` name.
    #[serde(skip)]
    names: StageNames,
}

/// Stage indices by lower-cased `AS` name, in order: a lookup instead of a walk
/// over every earlier stage (files with thousands of stages stay linear).
#[derive(Debug, Clone, Default, PartialEq)]
struct StageNames(std::collections::HashMap<String, Vec<usize>>);

impl StageNames {
    fn add(&mut self, name: Option<&str>, index: usize) {
        if let Some(name) = name {
            self.0
                .entry(name.to_ascii_lowercase())
                .or_default()
                .push(index);
        }
    }

    /// Looks a stage up by `AS` name (case-insensitive; the last of that name)
    /// or numeric index, as `--from` and `FROM` do, among the first `count`
    /// stages.
    fn lookup(&self, reference: &str, count: usize) -> Option<usize> {
        if let Ok(n) = reference.parse::<usize>() {
            return (n < count).then_some(n);
        }
        let found = self.0.get(&reference.to_ascii_lowercase())?;
        found.iter().rev().copied().find(|&i| i < count)
    }
}

impl Model {
    /// The final (last) stage, if the file has any FROM.
    pub fn final_stage(&self) -> Option<&StageModel> {
        self.stages.last()
    }

    /// The stage an instruction belongs to.
    pub fn stage_of(&self, instruction: usize) -> Option<&StageModel> {
        self.states
            .get(instruction)
            .and_then(|s| s.stage)
            .and_then(|i| self.stages.get(i))
    }

    /// Looks a stage up by `AS` name (case-insensitive) or numeric index, as
    /// `--from` and `FROM` do, among the stages before `before`.
    pub fn stage_by_ref(&self, reference: &str, before: usize) -> Option<usize> {
        self.names.lookup(reference, before.min(self.stages.len()))
    }

    /// True if some other stage depends on stage `index`.
    pub fn is_referenced(&self, index: usize) -> bool {
        self.stages
            .iter()
            .any(|s| s.index != index && s.depends_on.contains(&index))
    }

    /// Builds the model. Never fails.
    pub fn build(file: &Dockerfile) -> Model {
        Builder::new(file).run()
    }
}

struct Builder<'a> {
    file: &'a Dockerfile,
    stages: Vec<StageModel>,
    states: Vec<InstructionState>,
    global_args: Vec<(String, Option<String>)>,
    names: StageNames,
    /// Per stage: where each ENV key sits in the stage's `env` (keys are
    /// unique there), so a redefinition is a lookup, not a walk.
    env_index: Vec<std::collections::HashMap<String, usize>>,
}

impl<'a> Builder<'a> {
    fn new(file: &'a Dockerfile) -> Self {
        Builder {
            file,
            stages: Vec::new(),
            states: Vec::with_capacity(file.instructions.len()),
            global_args: Vec::new(),
            names: StageNames::default(),
            env_index: Vec::new(),
        }
    }

    fn run(mut self) -> Model {
        let instruction_count = self.file.instructions.len();
        let stage_ranges = self.file.stages();
        for (idx, inst) in self.file.instructions.iter().enumerate() {
            if let InstructionKind::From(from) = &inst.kind {
                // The n-th FROM starts the n-th stage.
                let range = stage_ranges
                    .get(self.stages.len())
                    .filter(|s| s.from_instruction == idx)
                    .map(|s| s.instructions.clone())
                    .unwrap_or(idx..instruction_count);
                let name = from.alias.as_ref().map(|a| a.value.clone());
                let image_text = substitute(&from.image.value, &|n| {
                    self.global_args
                        .iter()
                        .rev()
                        .find(|(k, _)| k == n)
                        .and_then(|(_, v)| v.clone())
                })
                .unwrap_or_else(|| from.image.value.clone());
                let stage = self.new_stage(idx, name, range, &image_text);
                self.names.add(stage.name.as_deref(), stage.index);
                let env_index = stage
                    .env
                    .iter()
                    .enumerate()
                    .map(|(i, (k, _))| (k.clone(), i))
                    .collect();
                self.env_index.push(env_index);
                self.stages.push(stage);
                self.states.push(InstructionState {
                    stage: Some(self.stages.len() - 1),
                    ..Default::default()
                });
                continue;
            }
            let Some(stage_index) = self.stages.len().checked_sub(1) else {
                // Before the first FROM only ARG is meaningful.
                if let InstructionKind::Arg(decls) = &inst.kind {
                    for d in decls {
                        self.global_args
                            .push((d.name.clone(), d.default.as_deref().map(unquote)));
                    }
                }
                self.states.push(InstructionState::default());
                continue;
            };
            let stage = &self.stages[stage_index];
            self.states.push(InstructionState {
                stage: Some(stage_index),
                workdir: stage.workdir.clone(),
                user: stage.user.clone(),
            });
            self.apply(stage_index, idx);
        }
        let last = self.stages.len().checked_sub(1);
        if let Some(last) = last {
            self.stages[last].is_final = true;
        }
        Model {
            stages: self.stages,
            states: self.states,
            global_args: self.global_args,
            names: self.names,
        }
    }

    fn new_stage(
        &self,
        from_instruction: usize,
        name: Option<String>,
        instructions: Range<usize>,
        image_text: &str,
    ) -> StageModel {
        let index = self.stages.len();
        if let Some(parent) = self.names.lookup(image_text, self.stages.len()) {
            // `FROM <stage>` inherits everything but the per-stage lists.
            let p = &self.stages[parent];
            return StageModel {
                index,
                name,
                from_instruction,
                instructions,
                base: BaseRef::Stage(parent),
                root_image: p.root_image.clone(),
                family: p.family,
                language: p.language,
                packages: p.packages.clone(),
                package_groups: p.package_groups.clone(),
                users: p.users.clone(),
                groups: p.groups.clone(),
                user: p.user.clone(),
                user_instruction: p.user_instruction,
                workdir: p.workdir.clone(),
                exposed: p.exposed.clone(),
                env: p.env.clone(),
                args: Vec::new(),
                cmd: p.cmd,
                entrypoint: p.entrypoint,
                healthcheck: p.healthcheck,
                shell: p.shell,
                runs: Vec::new(),
                copies: Vec::new(),
                depends_on: vec![parent],
                is_final: false,
            };
        }
        let image = ImageRef::parse(image_text);
        let family = image.family();
        let packages = image
            .known_http_clients()
            .into_iter()
            .map(str::to_string)
            .collect();
        let mut users: Vec<KnownUser> = image
            .known_users()
            .into_iter()
            .map(|u| KnownUser {
                name: u.to_string(),
                uid: known_uid(u),
                created_by: None,
            })
            .collect();
        let user = image.default_non_root_user().map(str::to_string);
        if let Some(u) = &user {
            if !users.iter().any(|k| &k.name == u) {
                users.push(KnownUser {
                    name: u.clone(),
                    uid: known_uid(u),
                    created_by: None,
                });
            }
        }
        let workdir = default_workdir(&image);
        StageModel {
            index,
            name,
            from_instruction,
            instructions,
            base: BaseRef::Image(image.clone()),
            language: image.language(),
            root_image: Some(image),
            family,
            packages,
            package_groups: Vec::new(),
            users,
            groups: Vec::new(),
            user,
            user_instruction: None,
            workdir,
            exposed: Vec::new(),
            env: Vec::new(),
            args: Vec::new(),
            cmd: None,
            entrypoint: None,
            healthcheck: None,
            shell: None,
            runs: Vec::new(),
            copies: Vec::new(),
            depends_on: Vec::new(),
            is_final: false,
        }
    }

    fn resolve(&self, stage: usize, text: &str) -> Option<String> {
        let st = &self.stages[stage];
        substitute(text, &|name| {
            st.var(name).map(str::to_string).or_else(|| {
                // A global ARG is visible in a stage only once redeclared; we are
                // lenient and use its default when the stage declared it bare.
                st.args.iter().any(|(k, _)| k == name).then_some(())?;
                self.global_args
                    .iter()
                    .rev()
                    .find(|(k, _)| k == name)
                    .and_then(|(_, v)| v.clone())
            })
        })
    }

    fn apply(&mut self, stage_index: usize, idx: usize) {
        let file = self.file;
        let inst = &file.instructions[idx];
        match &inst.kind {
            InstructionKind::Arg(decls) => {
                for d in decls {
                    let default = d.default.as_deref().map(unquote).or_else(|| {
                        self.global_args
                            .iter()
                            .rev()
                            .find(|(k, _)| k == &d.name)
                            .and_then(|(_, v)| v.clone())
                    });
                    self.stages[stage_index]
                        .args
                        .push((d.name.clone(), default));
                }
            }
            InstructionKind::Env(pairs) => {
                for kv in pairs {
                    let raw = unquote(&kv.value);
                    let value = self.resolve(stage_index, &raw).unwrap_or(raw);
                    let env = &mut self.stages[stage_index].env;
                    let index = &mut self.env_index[stage_index];
                    match index.get(&kv.key) {
                        Some(&at) => env[at].1 = value,
                        None => {
                            index.insert(kv.key.clone(), env.len());
                            env.push((kv.key.clone(), value));
                        }
                    }
                }
            }
            InstructionKind::Workdir(word) => {
                let raw = unquote(&word.value);
                let resolved = self.resolve(stage_index, &raw);
                let st = &self.stages[stage_index];
                let new = resolved.and_then(|p| join_path(st.workdir.as_deref(), &p));
                self.stages[stage_index].workdir = new;
            }
            InstructionKind::User(word) => {
                let raw = unquote(&word.value);
                let value = self.resolve(stage_index, &raw).unwrap_or(raw);
                let st = &mut self.stages[stage_index];
                st.user = Some(value);
                st.user_instruction = Some(idx);
            }
            InstructionKind::Expose(words) => {
                for w in words {
                    let raw = unquote(&w.value);
                    let resolved = self.resolve(stage_index, &raw);
                    let (port_text, protocol) = match resolved.as_deref() {
                        Some(r) => match r.split_once('/') {
                            Some((p, proto)) => (Some(p.to_string()), proto.to_ascii_lowercase()),
                            None => (Some(r.to_string()), "tcp".to_string()),
                        },
                        None => (None, "tcp".to_string()),
                    };
                    let port = port_text.and_then(|p| {
                        p.split('-')
                            .next()
                            .and_then(|n| n.trim().parse::<u16>().ok())
                    });
                    self.stages[stage_index].exposed.push(ExposedPort {
                        raw,
                        port,
                        protocol,
                        instruction: idx,
                    });
                }
            }
            InstructionKind::Cmd(_) => self.stages[stage_index].cmd = Some(idx),
            InstructionKind::Entrypoint(_) => {
                // Setting ENTRYPOINT resets an inherited CMD (Docker semantics).
                let st = &mut self.stages[stage_index];
                if st.cmd.is_some_and(|c| c < st.from_instruction) {
                    st.cmd = None;
                }
                st.entrypoint = Some(idx);
            }
            InstructionKind::Healthcheck(_) => self.stages[stage_index].healthcheck = Some(idx),
            InstructionKind::Shell(_) => self.stages[stage_index].shell = Some(idx),
            InstructionKind::Run(command) => {
                self.stages[stage_index].runs.push(idx);
                if let Some(from) = inst
                    .flags
                    .iter()
                    .filter(|f| f.name == "mount")
                    .find_map(|f| f.value.as_deref().and_then(mount_from))
                {
                    if let Some(s) = self.names.lookup(&from, stage_index) {
                        push_unique(&mut self.stages[stage_index].depends_on, s);
                    }
                }
                let script = run_script(command, inst);
                for cmd in commands::simple_commands(&script) {
                    self.apply_command(stage_index, idx, &cmd);
                }
            }
            InstructionKind::Copy(args) | InstructionKind::Add(args) => {
                let is_add = matches!(inst.kind, InstructionKind::Add(_));
                let from = inst.flag("from").and_then(|f| f.value.clone());
                let from_stage = from
                    .as_deref()
                    .and_then(|f| self.names.lookup(f, stage_index));
                if let Some(s) = from_stage {
                    push_unique(&mut self.stages[stage_index].depends_on, s);
                }
                let sources: Vec<String> = args.sources.iter().map(|w| unquote(&w.value)).collect();
                let dest = unquote(&args.dest.value);
                let dest_is_dir = dest.ends_with('/') || dest == "." || dest == "..";
                let st = &self.stages[stage_index];
                let dest_resolved = self
                    .resolve(stage_index, &dest)
                    .and_then(|d| join_path(st.workdir.as_deref(), &d));
                let whole_context = from.is_none()
                    && sources
                        .iter()
                        .any(|s| matches!(s.trim_end_matches('/'), "." | "./." | "*" | "./*" | ""));
                let info = CopyInfo {
                    instruction: idx,
                    is_add,
                    from,
                    from_stage,
                    sources,
                    dest,
                    dest_resolved,
                    dest_is_dir,
                    chown: inst.flag("chown").and_then(|f| f.value.clone()),
                    whole_context,
                };
                self.stages[stage_index].copies.push(info);
            }
            _ => {}
        }
    }

    fn apply_command(&mut self, stage_index: usize, idx: usize, cmd: &[String]) {
        let st = &mut self.stages[stage_index];
        if let Some(change) = commands::package_change(cmd) {
            match change {
                commands::PackageChange::Install {
                    packages, group, ..
                } => {
                    if let Some(group) = group {
                        // Remember virtual-group members so `apk del <group>` removes them.
                        st.package_groups.push((group, packages.clone()));
                    }
                    st.packages.extend(packages);
                }
                commands::PackageChange::Remove { packages, .. } => {
                    for p in packages {
                        let members: Vec<String> = st
                            .package_groups
                            .iter()
                            .filter(|(g, _)| g == &p)
                            .flat_map(|(_, m)| m.clone())
                            .collect();
                        st.package_groups.retain(|(g, _)| g != &p);
                        for m in members {
                            st.packages.remove(&m);
                        }
                        st.packages.remove(&p);
                    }
                }
            }
        }
        if let Some(change) = commands::account_change(cmd) {
            match change {
                commands::AccountChange::User { name, uid } => {
                    if !name.contains('$') && !st.users.iter().any(|u| u.name == name) {
                        st.users.push(KnownUser {
                            name,
                            uid,
                            created_by: Some(idx),
                        });
                    }
                }
                commands::AccountChange::Group { name, .. } => {
                    if !st.groups.contains(&name) {
                        st.groups.push(name);
                    }
                }
            }
        }
    }
}

fn push_unique(v: &mut Vec<usize>, x: usize) {
    if !v.contains(&x) {
        v.push(x);
    }
}

fn known_uid(user: &str) -> Option<String> {
    match user {
        "node" => Some("1000".into()),
        "nonroot" => Some("65532".into()),
        _ => None,
    }
}

/// WORKDIR of images that do not set one is `/`; a few official images set one.
fn default_workdir(image: &ImageRef) -> Option<String> {
    if image.registry.is_some() {
        return None;
    }
    match image.repository.as_str() {
        "scratch" | "debian" | "ubuntu" | "alpine" | "busybox" | "node" | "python" | "ruby"
        | "rust" | "buildpack-deps" | "eclipse-temurin" | "openjdk" => Some("/".into()),
        "golang" => Some("/go".into()),
        "php" | "wordpress" => Some("/var/www/html".into()),
        _ => None,
    }
}

/// The `from=` of a `--mount` value (`type=cache,from=build,target=/x`).
fn mount_from(value: &str) -> Option<String> {
    value.split(',').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k.trim() == "from").then(|| v.trim().to_string())
    })
}

/// The shell text a RUN executes: shell form text, `sh -c` script of exec form,
/// plus heredoc bodies.
pub fn run_script(command: &Command, inst: &crate::syntax::Instruction) -> String {
    let mut script = match command {
        Command::Shell { text, .. } => text.clone(),
        Command::Exec { args, .. } => {
            let is_shell = args
                .first()
                .is_some_and(|a| a.ends_with("sh") || a.ends_with("bash"));
            match args.iter().position(|a| a == "-c") {
                Some(i) if is_shell => args.get(i + 1).cloned().unwrap_or_default(),
                _ => args
                    .iter()
                    .map(|a| shell_quote(a))
                    .collect::<Vec<_>>()
                    .join(" "),
            }
        }
    };
    for heredoc in &inst.heredocs {
        script.push('\n');
        script.push_str(&heredoc.content);
    }
    script
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Removes one level of matching surrounding quotes.
pub fn unquote(s: &str) -> String {
    let t = s.trim();
    if t.len() >= 2
        && ((t.starts_with('"') && t.ends_with('"')) || (t.starts_with('\'') && t.ends_with('\'')))
    {
        t[1..t.len() - 1].to_string()
    } else {
        t.to_string()
    }
}

/// Substitutes `$NAME`, `${NAME}`, `${NAME:-default}` and `${NAME-default}`.
/// Returns `None` if a variable without default cannot be resolved.
pub fn substitute(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    if !text.contains('$') {
        return Some(text.to_string());
    }
    let mut out = String::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'\\' && i + 1 < bytes.len() && bytes[i + 1] == b'$' {
            out.push('$');
            i += 2;
            continue;
        }
        if c != b'$' {
            let ch = text[i..].chars().next()?;
            out.push(ch);
            i += ch.len_utf8();
            continue;
        }
        if bytes.get(i + 1) == Some(&b'{') {
            let close = text[i + 2..].find('}')? + i + 2;
            let inner = &text[i + 2..close];
            let (name, default) = if let Some((n, d)) = inner.split_once(":-") {
                (n, Some(d))
            } else if let Some((n, d)) = inner.split_once('-') {
                (n, Some(d))
            } else {
                (inner, None)
            };
            match lookup(name)
                .filter(|v| !v.is_empty())
                .or(default.map(str::to_string))
            {
                Some(v) => out.push_str(&v),
                None => return None,
            }
            i = close + 1;
        } else {
            let start = i + 1;
            let mut end = start;
            while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
                end += 1;
            }
            if end == start {
                out.push('$');
                i += 1;
                continue;
            }
            out.push_str(&lookup(&text[start..end])?);
            i = end;
        }
    }
    Some(out)
}

/// Joins `path` onto `base` (when relative) and normalises it: no `.`, `..`
/// resolved, no trailing slash (except `/` itself). `None` if relative and the
/// base is unknown.
pub fn join_path(base: Option<&str>, path: &str) -> Option<String> {
    let joined = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{}/{}", base?, path)
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    Some(format!("/{}", parts.join("/")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(join_path(Some("/app"), "."), Some("/app".into()));
        assert_eq!(join_path(Some("/app"), "./src/"), Some("/app/src".into()));
        assert_eq!(join_path(None, "/x/../y/"), Some("/y".into()));
        assert_eq!(join_path(None, "x"), None);
        assert_eq!(join_path(Some("/"), "."), Some("/".into()));
    }

    #[test]
    fn substitution() {
        let vars = |n: &str| (n == "PORT").then(|| "8080".to_string());
        assert_eq!(substitute("$PORT/tcp", &vars), Some("8080/tcp".into()));
        assert_eq!(substitute("${PORT}", &vars), Some("8080".into()));
        assert_eq!(substitute("${X:-3000}", &vars), Some("3000".into()));
        assert_eq!(substitute("$X", &vars), None);
        assert_eq!(substitute("a\\$X", &vars), Some("a$X".into()));
    }
}

#[cfg(test)]
mod build_tests {
    use super::*;

    fn model(src: &str) -> (Dockerfile, Model) {
        let file = crate::syntax::parse(src).expect("parses");
        let model = Model::build(&file);
        (file, model)
    }

    #[test]
    fn stage_references_by_name_and_index() {
        let (_, m) = model("FROM a AS Dup\nFROM b AS dup\nFROM c\nCOPY --from=DUP /x /x\n");
        // Case-insensitive; the last stage of that name before the reference.
        assert_eq!(m.stage_by_ref("dup", 3), Some(1));
        assert_eq!(m.stage_by_ref("dup", 1), Some(0));
        assert_eq!(m.stage_by_ref("dup", 0), None);
        assert_eq!(m.stage_by_ref("1", 3), Some(1));
        assert_eq!(m.stage_by_ref("3", 3), None);
        assert_eq!(m.stage_by_ref("nope", 3), None);
        assert_eq!(m.stages[2].depends_on, vec![1]);
    }

    #[test]
    fn stages_inherit_and_reference() {
        let (_, m) = model(
            "ARG NODE=20\nFROM node:${NODE}-alpine AS base\nWORKDIR /app\nENV PORT=3000\nEXPOSE $PORT\nRUN apk add --no-cache curl && adduser -S -u 1001 web\n\
             FROM golang:1.22 AS tools\nRUN go build -o /x .\n\
             FROM base AS final\nCOPY --from=tools /x ./bin/\nUSER web\nCMD [\"node\", \"s.js\"]\n",
        );
        assert_eq!(m.stages.len(), 3);
        let base = &m.stages[0];
        assert_eq!(base.root_image.as_ref().unwrap().raw, "node:20-alpine");
        assert_eq!(base.family, OsFamily::Alpine);
        assert_eq!(base.language, Some("node"));
        assert!(base.has_package("curl") && base.has_package("wget"));
        assert_eq!(base.exposed[0].port, Some(3000));
        assert!(!base.is_final);
        let fin = m.final_stage().unwrap();
        assert!(fin.is_final);
        assert_eq!(fin.base, BaseRef::Stage(0));
        assert_eq!(fin.depends_on, vec![0, 1]);
        assert_eq!(fin.workdir.as_deref(), Some("/app"));
        assert_eq!(fin.copies[0].dest_resolved.as_deref(), Some("/app/bin"));
        assert!(fin.copies[0].dest_is_dir);
        assert_eq!(fin.copies[0].from_stage, Some(1));
        assert_eq!(fin.user.as_deref(), Some("web"));
        assert_eq!(fin.find_user("1001").map(|u| u.name.as_str()), Some("web"));
        assert_eq!(fin.runs_as_root(), Some(false));
        assert!(fin.cmd.is_some());
        assert!(m.is_referenced(1));
        assert_eq!(m.stage_by_ref("TOOLS", 3), Some(1));
    }

    #[test]
    fn per_instruction_state_and_removals() {
        let (file, m) = model(
            "FROM debian:12\nRUN apt-get update && apt-get install -y curl gosu && apt-get purge -y curl\nWORKDIR srv\nWORKDIR ../opt/app\nCOPY . .\nUSER 0\n",
        );
        let st = &m.stages[0];
        assert!(!st.has_package("curl"));
        assert!(st.has_package("gosu"));
        assert_eq!(st.workdir.as_deref(), Some("/opt/app"));
        let copy = file
            .instructions
            .iter()
            .position(|i| matches!(i.kind, InstructionKind::Copy(_)))
            .unwrap();
        assert_eq!(m.states[copy].workdir.as_deref(), Some("/opt/app"));
        assert!(st.copies[0].whole_context);
        assert_eq!(st.runs_as_root(), Some(true));
    }

    #[test]
    fn unknown_images_and_entrypoint_resets_inherited_cmd() {
        let (_, m) = model("FROM $BASE AS a\nCMD x\nFROM a\nENTRYPOINT [\"y\"]\n");
        assert_eq!(m.stages[0].family, OsFamily::Unknown);
        assert_eq!(m.stages[0].runs_as_root(), None);
        assert_eq!(m.stages[1].cmd, None);
        assert!(m.stages[1].entrypoint.is_some());
    }
}
