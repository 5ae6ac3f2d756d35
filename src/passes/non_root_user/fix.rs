//! Making the DOP011 fix: which user, who owns what, and where `USER` goes.

use super::chowned_by_a_run;
use crate::fix::Edit;
use crate::model::{text, Model, OsFamily, StageModel};
use crate::passes::PassContext;
use crate::syntax::{Dockerfile, InstructionKind};

pub(super) struct UserChoice {
    /// Name (or `uid:gid`) for `chown` and the messages.
    pub name: String,
    /// What `USER` names: `name`, a numeric `uid:gid` for a user dopt creates
    /// (Kubernetes `runAsNonRoot` cannot verify a name), or the image's
    /// documented form (`$APP_UID` on .NET 8+).
    pub switch_to: String,
    /// Shell command that creates the user, when it must be created.
    pub create: Option<String>,
    /// The instruction after which the user exists (`--chown` needs it).
    pub exists_after: usize,
}

pub(super) fn choose_user(
    ctx: &PassContext,
    file: &Dockerfile,
    stage: &StageModel,
) -> Option<UserChoice> {
    let is_root = |u: &str| {
        let n = u.split(':').next().unwrap_or("");
        n == "root" || n == "0" || n.is_empty() || u.contains('$')
    };
    // 1. A non-root user this stage switched to before going back to root.
    let earlier = file.instructions[stage.instructions.clone()]
        .iter()
        .filter_map(|i| match &i.kind {
            InstructionKind::User(w) => Some(crate::model::unquote(&w.value)),
            _ => None,
        })
        .rfind(|u| !is_root(u));
    if let Some(name) = earlier {
        let exists_after = stage
            .find_user(name.split(':').next().unwrap_or(""))
            .and_then(|u| u.created_by)
            .unwrap_or(stage.from_instruction);
        return Some(UserChoice {
            switch_to: name.clone(),
            name,
            create: None,
            exists_after,
        });
    }
    // 2. A user the Dockerfile creates but never switches to.
    if let Some(u) = stage
        .users
        .iter()
        .rev()
        .find(|u| u.created_by.is_some() && !is_root(&u.name))
    {
        return Some(UserChoice {
            name: u.name.clone(),
            switch_to: u.name.clone(),
            create: None,
            exists_after: u.created_by.unwrap_or(stage.from_instruction),
        });
    }
    let image = stage.root_image.as_ref()?;
    // 3. A user the base image ships.
    if let Some(u) = ctx.profiles.user_for_image(&image.raw) {
        return Some(UserChoice {
            name: u.name.clone(),
            switch_to: u.switch_to.clone().unwrap_or_else(|| u.name.clone()),
            create: None,
            exists_after: stage.from_instruction,
        });
    }
    if let Some(u) = stage.users.iter().find(|u| u.created_by.is_none()) {
        return Some(UserChoice {
            name: u.name.clone(),
            switch_to: u.name.clone(),
            create: None,
            exists_after: stage.from_instruction,
        });
    }
    // 4. scratch has no /etc/passwd: a numeric uid:gid needs none.
    if stage.family == OsFamily::Scratch {
        return Some(UserChoice {
            name: "65534:65534".into(),
            switch_to: "65534:65534".into(),
            create: None,
            exists_after: stage.from_instruction,
        });
    }
    // 5. Create one with the OS's own tools.
    if !matches!(
        stage.family,
        OsFamily::Debian | OsFamily::Ubuntu | OsFamily::Alpine
    ) {
        return None;
    }
    let taken =
        |n: &str| stage.users.iter().any(|u| u.name == n) || stage.groups.iter().any(|g| g == n);
    let name = ["app", "appuser", "dopt-app"]
        .into_iter()
        .find(|n| !taken(n))?;
    // The OS profile of the image, else the one of the family we recognised.
    let creation = ctx
        .profiles
        .os_for_image(&image.raw)
        .and_then(|p| p.user_creation.as_ref())
        .or_else(|| {
            let os = if stage.family == OsFamily::Alpine {
                "apk"
            } else {
                "apt"
            };
            ctx.profiles.get(os)?.user_creation.as_ref()
        })?;
    // Numeric, so that Kubernetes `runAsNonRoot` can verify it, unless the
    // file's own style names its users.
    let switch_to = match creation.uid {
        Some(uid) if !names_its_users(file) => format!("{uid}:{uid}"),
        _ => name.to_string(),
    };
    Some(UserChoice {
        name: name.to_string(),
        switch_to,
        create: Some(creation.command.replace("{user}", name)),
        exists_after: stage.from_instruction,
    })
}

/// True when a `USER` of the file (any stage) names a non-root user by name:
/// the file's own style, which a new user follows.
fn names_its_users(file: &Dockerfile) -> bool {
    file.instructions.iter().any(|i| match &i.kind {
        InstructionKind::User(w) => {
            let v = crate::model::unquote(&w.value);
            let user = v.split(':').next().unwrap_or("");
            !user.is_empty()
                && user != "root"
                && !user.contains('$')
                && !user.chars().all(|c| c.is_ascii_digit())
        }
        _ => false,
    })
}

/// True for folders that belong to the system: never handed to the app's user.
pub(super) fn is_system_dir(path: &str) -> bool {
    let path = path.trim_end_matches('/');
    let path = if path.is_empty() { "/" } else { path };
    matches!(
        path,
        "/" | "/root"
            | "/tmp"
            | "/bin"
            | "/sbin"
            | "/lib"
            | "/lib32"
            | "/lib64"
            | "/etc"
            | "/var"
            | "/var/lib"
            | "/var/log"
            | "/var/cache"
            | "/var/run"
            | "/var/tmp"
            | "/var/spool"
            | "/var/www"
            | "/home"
            | "/opt"
            | "/mnt"
            | "/media"
            | "/run"
            | "/dev"
            | "/proc"
            | "/sys"
            | "/boot"
    ) || [
        "/usr", "/etc/", "/bin/", "/sbin/", "/lib/", "/proc/", "/sys/", "/dev/", "/boot/", "/root/",
    ]
    .iter()
    .any(|p| path == *p || path.starts_with(&format!("{}/", p.trim_end_matches('/'))))
}

/// The owner spelling for `chown`: `user:user`, or `uid:gid` as given.
fn owner(choice: &UserChoice) -> String {
    if choice.name.contains(':') {
        choice.name.clone()
    } else {
        format!("{0}:{0}", choice.name)
    }
}

/// Folders the app writes to that the fix hands to the user: the WORKDIR (not
/// recursively) and folders a RUN of the stage makes with `mkdir`. Never a
/// system folder, never one a `COPY --chown` or a `RUN chown` already handled.
fn data_dirs(file: &Dockerfile, stage: &StageModel, before: usize) -> Vec<String> {
    let mut dirs = Vec::new();
    let copied_with_chown = |d: &str| {
        stage.copies.iter().any(|c| {
            c.chown.is_some()
                && c.dest_resolved
                    .as_deref()
                    .is_some_and(|x| x.trim_end_matches('/') == d)
        })
    };
    let add = |d: String, dirs: &mut Vec<String>| {
        if d.starts_with('/')
            && !d.contains(|c: char| {
                c.is_whitespace() || matches!(c, '$' | '*' | '{' | '\\' | '"' | '\'')
            })
            && !is_system_dir(&d)
            && !copied_with_chown(&d)
            && !chowned_by_a_run(file, stage, &d)
            && !dirs.contains(&d)
        {
            dirs.push(d);
        }
    };
    let set_here = (stage.from_instruction..before)
        .any(|i| matches!(file.instructions[i].kind, InstructionKind::Workdir(_)));
    if let Some(w) = stage.workdir.as_deref().filter(|_| set_here) {
        add(w.trim_end_matches('/').to_string(), &mut dirs);
    }
    for &r in stage.runs.iter().filter(|&&r| r < before) {
        let script = &file.instructions[r].logical.text;
        for c in crate::model::commands::simple_commands(script) {
            if crate::model::commands::program(&c) != "mkdir" {
                continue;
            }
            for a in c.iter().skip(1).filter(|a| !a.starts_with('-')) {
                add(a.trim_end_matches('/').to_string(), &mut dirs);
            }
        }
    }
    dirs
}

/// The VOLUME instructions of the stage with their paths.
pub(super) fn stage_volumes(file: &Dockerfile, stage: &StageModel) -> Vec<(usize, Vec<String>)> {
    stage
        .instructions
        .clone()
        .filter_map(|i| match &file.instructions[i].kind {
            InstructionKind::Volume(words) => Some((
                i,
                words
                    .iter()
                    .map(|w| {
                        let v = crate::model::unquote(&w.value);
                        let v = v.trim_matches(|c| c == '[' || c == ']' || c == ',');
                        crate::model::unquote(v).trim_end_matches('/').to_string()
                    })
                    .filter(|v| !v.is_empty())
                    .collect(),
            )),
            _ => None,
        })
        .collect()
}

/// Edits that add the user, hand it what it writes and switch to it; or why
/// that cannot be done.
/// `runtime_dirs`: folders the running original wrote to at start-up (runtime
/// evidence of `--verify`), made if needed and handed to the user too.
pub(super) fn build_edits(
    file: &Dockerfile,
    stage: &StageModel,
    choice: &UserChoice,
    runtime_dirs: &[String],
) -> Result<Vec<Edit>, String> {
    let mut edits = Vec::new();
    let from = &file.instructions[stage.from_instruction];
    let ind = text::indent(file, from).to_string();
    let run_kw = text::keyword(file, "RUN");
    let has_shell = !matches!(
        stage.family,
        OsFamily::Scratch | OsFamily::Distroless | OsFamily::Unknown | OsFamily::Windows
    ) && !stage.root_image.as_ref().is_some_and(|i| {
        // Ubuntu "chiseled" and .NET's distroless images have no /bin/sh.
        let raw = i.raw.to_ascii_lowercase();
        raw.contains("chiseled") || (raw.contains("/dotnet/") && raw.contains("distroless"))
    });
    if let Some(create) = &choice.create {
        let line = text::line(file, &ind, &format!("{run_kw} {create}"));
        let (at, content) = text::insert_lines_after(file, stage.from_instruction, &line);
        edits.push(Edit::insert(at, content));
    }
    // VOLUMEs: chowned before the VOLUME instruction (the classic builder
    // discards changes made to a volume after it is declared).
    for (idx, paths) in stage_volumes(file, stage) {
        let todo: Vec<&String> = paths
            .iter()
            .filter(|p| !chowned_by_a_run(file, stage, p))
            .collect();
        if todo.is_empty() {
            continue;
        }
        if let Some(p) = todo.iter().find(|p| {
            !p.starts_with('/')
                || p.contains(|c: char| c.is_whitespace() || matches!(c, '$' | '"' | '\''))
                || is_system_dir(p)
        }) {
            return Err(format!(
                "VOLUME {p} would stay owned by root, and dopt does not hand it to another user"
            ));
        }
        if !has_shell {
            return Err(format!(
                "VOLUME {} would stay owned by root (no shell in the image to chown it)",
                todo[0]
            ));
        }
        if idx <= choice.exists_after {
            return Err(format!(
                "VOLUME {} is declared before user `{}` exists, so it would stay owned by root",
                todo[0], choice.name
            ));
        }
        let list = todo
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let line = format!("{run_kw} mkdir -p {list} && chown {} {list}", owner(choice));
        let i = text::indent(file, &file.instructions[idx]);
        edits.push(Edit::insert(
            text::insertion_before(file, idx),
            text::line(file, i, &line),
        ));
    }
    // USER after the last RUN (which may need root) and the last USER, before
    // the CMD/ENTRYPOINT that follows them.
    let last_run = stage.runs.last().copied().unwrap_or(stage.from_instruction);
    let last_user = stage
        .instructions
        .clone()
        .rfind(|&i| matches!(file.instructions[i].kind, InstructionKind::User(_)))
        .unwrap_or(stage.from_instruction);
    let anchor = last_run.max(last_user);
    let start_cmd = (anchor + 1..stage.instructions.end).find(|&i| {
        matches!(
            file.instructions[i].kind,
            InstructionKind::Cmd(_) | InstructionKind::Entrypoint(_)
        )
    });
    let insert_index = start_cmd.unwrap_or(stage.instructions.end);
    let mut lines = Vec::new();
    if has_shell {
        let mut dirs = data_dirs(file, stage, insert_index);
        let made: Vec<&String> = runtime_dirs.iter().filter(|d| !dirs.contains(d)).collect();
        let mkdir = if made.is_empty() {
            String::new()
        } else {
            let made: Vec<&str> = made.iter().map(|d| d.as_str()).collect();
            format!("mkdir -p {} && ", made.join(" "))
        };
        // The WORKDIR right after the WORKDIR instruction that makes it, while
        // the stage still builds as root: a layer that source edits do not
        // invalidate (COPY into the folder keeps its owner), so a warm rebuild
        // does not run it again.
        let workdir = stage.workdir.as_deref().map(|w| w.trim_end_matches('/'));
        let made_by = (stage.from_instruction + 1..insert_index)
            .rfind(|&i| matches!(file.instructions[i].kind, InstructionKind::Workdir(_)));
        let root_until = |end: usize| {
            !(stage.from_instruction + 1..end)
                .any(|i| matches!(file.instructions[i].kind, InstructionKind::User(_)))
        };
        // An ADD may unpack an archive whose `./` entry resets the folder.
        let no_add_after = |at: usize| {
            !(at + 1..insert_index)
                .any(|i| matches!(file.instructions[i].kind, InstructionKind::Add(_)))
        };
        if let (Some(w), Some(at)) = (workdir, made_by) {
            if dirs.first().map(String::as_str) == Some(w)
                && at >= choice.exists_after
                && root_until(at)
                && no_add_after(at)
            {
                dirs.remove(0);
                let i = text::indent(file, &file.instructions[at]);
                let line = text::line(file, i, &format!("{run_kw} chown {} {w}", owner(choice)));
                let (pos, content) = text::insert_lines_after(file, at, &line);
                edits.push(Edit::insert(pos, content));
            }
        }
        dirs.extend(made.into_iter().cloned());
        if !dirs.is_empty() {
            lines.push(format!(
                "{run_kw} {mkdir}chown {} {}",
                owner(choice),
                dirs.join(" ")
            ));
        }
    }
    lines.push(format!(
        "{} {}",
        text::keyword(file, "USER"),
        choice.switch_to
    ));
    match start_cmd {
        Some(i) => {
            let ind = text::indent(file, &file.instructions[i]);
            let at = text::insertion_before(file, i);
            let block: String = lines.iter().map(|l| text::line(file, ind, l)).collect();
            edits.push(Edit::insert(at, block));
        }
        None => {
            let last = stage.instructions.end - 1;
            let ind = text::indent(file, &file.instructions[last]);
            let block: String = lines.iter().map(|l| text::line(file, ind, l)).collect();
            let (at, content) = text::insert_lines_after(file, last, &block);
            edits.push(Edit::insert(at, content));
        }
    }
    Ok(merge_inserts(edits))
}

/// Insertions at one offset become one edit, in the order they were made (two
/// edits of one fix at the same offset would conflict with each other).
fn merge_inserts(edits: Vec<Edit>) -> Vec<Edit> {
    let mut out: Vec<Edit> = Vec::new();
    for e in edits {
        match out
            .iter_mut()
            .find(|o| o.span.is_empty() && e.span.is_empty() && o.span.start == e.span.start)
        {
            Some(o) => o.content.push_str(&e.content),
            None => out.push(e),
        }
    }
    out
}

/// Applies the edits and checks the result: it parses, and its final stage no
/// longer runs as root. A fix that would not take effect is not offered (the
/// fix loop would offer it again and again).
pub(super) fn takes_effect(source: &str, edits: &[Edit], choice: &UserChoice) -> bool {
    let fixed = crate::fix::apply::apply_edits(source, edits);
    if fixed == source {
        return false;
    }
    let Ok(file) = crate::syntax::parse(&fixed) else {
        return false;
    };
    let model = Model::build(&file);
    // `$APP_UID` is the image's own variable: dopt cannot resolve it, but the
    // USER in force must be the one written.
    model.final_stage().is_some_and(|s| {
        s.runs_as_root() == Some(false)
            || (choice.switch_to.contains('$') && s.user.as_deref() == Some(&choice.switch_to))
    })
}
