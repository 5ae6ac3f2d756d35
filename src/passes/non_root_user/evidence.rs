//! What DOP011 reads before it dares to add a `USER`: the commands the container
//! starts with (ENTRYPOINT, CMD and the scripts they run from the build context),
//! and what those commands say about privileges: dropping them itself, daemons
//! that start as root by design, root-only actions at start-up, and ports below
//! 1024.

use crate::model::commands::{program, simple_commands};
use crate::model::{Model, StageModel};
use crate::passes::PassContext;
use crate::syntax::{Dockerfile, InstructionKind};

/// Programs that switch to another user themselves.
const DROPPERS: &[&str] = &[
    "su",
    "gosu",
    "su-exec",
    "setpriv",
    "runuser",
    "s6-setuidgid",
    "chpst",
];

/// Daemons that start as root by design (and drop privileges per worker, or
/// need root for what they do).
const ROOT_DAEMONS: &[&str] = &[
    "sshd",
    "cron",
    "crond",
    "apache2",
    "apache2ctl",
    "apachectl",
    "apache2-foreground",
    "httpd",
    "httpd-foreground",
    "nginx",
    "pcscd",
    "dockerd",
    "dockerd-entrypoint.sh",
    "supervisord",
    "rsyslogd",
    "syslog-ng",
    "syslogd",
    "postfix",
    "radiusd",
    "freeradius",
    "named",
    "vsftpd",
    "smbd",
    "openvpn",
];

/// Programs that need root for what they do: raw sockets, devices, the Docker
/// socket.
const ROOT_TOOLS: &[&str] = &[
    "nmap",
    "masscan",
    "tcpdump",
    "tshark",
    "hping3",
    "iftop",
    "arp-scan",
    "docker",
    "watchtower",
];

/// Packages of desktop applications (display, sound, GPU): such images run
/// with the caller's uid and devices, not a fixed user.
const DESKTOP_PACKAGES: &[&str] = &[
    "libgtk",
    "libx11",
    "libxss",
    "libxtst",
    "libgl1",
    "libvulkan",
    "mesa-",
    "libasound",
    "pulseaudio",
    "libpulse",
    "xauth",
    "xdotool",
    "xdg-utils",
    "libqt5gui",
    "libqt6gui",
    "libnotify",
];

/// Well-known default ports (below 1024) of programs, when no port is given.
const DEFAULT_PORTS: &[(&str, u16)] = &[
    ("coredns", 53),
    ("named", 53),
    ("dnsmasq", 53),
    ("unbound", 53),
    ("sshd", 22),
    ("nginx", 80),
    ("httpd", 80),
    ("httpd-foreground", 80),
    ("apache2", 80),
    ("apache2ctl", 80),
    ("apache2-foreground", 80),
    ("lighttpd", 80),
    ("caddy", 80),
    ("traefik", 80),
    ("vsftpd", 21),
    ("proftpd", 21),
    ("postfix", 25),
    ("exim", 25),
    ("ntpd", 123),
    ("chronyd", 123),
    ("slapd", 389),
    ("smbd", 445),
    ("cupsd", 631),
];

/// Wrappers that run the rest of their arguments as the real command.
const WRAPPERS: &[&str] = &["tini", "dumb-init", "catatonit", "exec", "nohup", "env"];

/// A script the container runs that comes from the build context.
#[derive(Debug, Clone)]
pub struct Script {
    /// The path inside the image.
    pub image_path: String,
    /// The path in the build context.
    pub context_path: String,
    /// Its text, or `None` when the context does not hold it (or there is no
    /// context).
    pub text: Option<String>,
    /// False for a script that no COPY/ADD of the file brings from the build
    /// context: the base image, a RUN or another image made it, and dopt
    /// cannot read it (`context_path` is then empty).
    pub from_context: bool,
}

/// Entrypoint scripts of official images that only pass the command on (they
/// neither switch users nor need root): node's `docker-entrypoint.sh` runs
/// `node` for a flag, php's `docker-php-entrypoint` does the same for `php`.
const PASS_THROUGH_ENTRYPOINTS: &[(&str, &str)] = &[
    ("node", "docker-entrypoint.sh"),
    ("php", "docker-php-entrypoint"),
];

/// What the start-up of the final stage shows.
#[derive(Debug, Default)]
pub struct Startup {
    /// Simple commands of ENTRYPOINT, CMD and the scripts read, with where each
    /// comes from (`CMD`, `ENTRYPOINT` or the script's image path).
    pub commands: Vec<(String, Vec<String>)>,
    /// Scripts from the build context that the container runs.
    pub scripts: Vec<Script>,
}

impl Startup {
    /// Gathers the commands the final stage starts with.
    pub fn gather(ctx: &PassContext, file: &Dockerfile, model: &Model, stage: &StageModel) -> Self {
        let mut out = Startup::default();
        for (what, idx) in [("ENTRYPOINT", stage.entrypoint), ("CMD", stage.cmd)] {
            let Some(idx) = idx else { continue };
            let command = match &file.instructions[idx].kind {
                InstructionKind::Cmd(c) | InstructionKind::Entrypoint(c) => c,
                _ => continue,
            };
            let mut commands = if command.is_exec() {
                vec![command.rough_argv()]
            } else {
                let text = crate::model::run_script(command, &file.instructions[idx]);
                simple_commands(&text)
            };
            // `sh -c "..."`: the string is a script.
            let inner: Vec<Vec<String>> = commands
                .iter()
                .filter(|argv| is_shell(program(argv)))
                .filter_map(|argv| {
                    let i = argv.iter().position(|a| a == "-c")?;
                    argv.get(i + 1).map(|s| simple_commands(s))
                })
                .flatten()
                .collect();
            commands.extend(inner);
            for c in commands {
                let c = strip_wrappers(&c);
                if c.is_empty() {
                    continue;
                }
                out.commands.push((what.to_string(), c));
            }
        }
        // The scripts those commands run, when they come from the build context.
        let mut i = 0;
        while i < out.commands.len() {
            let argv = out.commands[i].1.clone();
            i += 1;
            for path in script_candidates(&argv) {
                if out.scripts.iter().any(|s| s.image_path == path) || out.scripts.len() >= 8 {
                    continue;
                }
                let Some(context_path) = context_source(model, stage, &path) else {
                    // Not from the context: a script the base image (or a RUN,
                    // or another image) provides, which dopt cannot read.
                    let name = path.rsplit('/').next().unwrap_or("");
                    let lower = name.to_ascii_lowercase();
                    let scriptish = lower.ends_with(".sh")
                        || lower.ends_with(".bash")
                        || (!lower.contains('.')
                            && ["entrypoint", "docker-", "start", "boot", "launch"]
                                .iter()
                                .any(|w| lower.contains(w)));
                    let base = stage.root_image.as_ref().map(|i| i.short_name());
                    let pass_through = PASS_THROUGH_ENTRYPOINTS
                        .iter()
                        .any(|(img, n)| Some(*img) == base && *n == name);
                    if scriptish && !pass_through {
                        out.scripts.push(Script {
                            image_path: path,
                            context_path: String::new(),
                            text: None,
                            from_context: false,
                        });
                    }
                    continue;
                };
                let exists = ctx.build_context.is_some_and(|c| c.exists(&context_path));
                let text = ctx
                    .build_context
                    .and_then(|c| c.read(&context_path))
                    .filter(|t| !t.contains('\0'));
                match &text {
                    // A binary or a folder: not a script.
                    None if exists => continue,
                    Some(t) if !looks_like_shell_script(&context_path, t) => continue,
                    Some(t) => {
                        for c in simple_commands(t) {
                            let c = strip_wrappers(&c);
                            if !c.is_empty() {
                                out.commands.push((format!("`{path}`"), c));
                            }
                        }
                    }
                    // Missing: only names that can be scripts matter.
                    None => {
                        let name = context_path.rsplit('/').next().unwrap_or("");
                        let ext = name.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
                        let scriptish = matches!(ext, "sh" | "bash")
                            || (ext.is_empty()
                                && [
                                    "entrypoint",
                                    "start",
                                    "run",
                                    "init",
                                    "boot",
                                    "launch",
                                    "docker-",
                                    "wrapper",
                                ]
                                .iter()
                                .any(|w| name.to_ascii_lowercase().contains(w)));
                        if !scriptish {
                            continue;
                        }
                    }
                }
                out.scripts.push(Script {
                    image_path: path,
                    context_path,
                    text,
                    from_context: true,
                });
            }
        }
        out
    }

    /// Scripts from the context that dopt could not read.
    pub fn unreadable(&self) -> impl Iterator<Item = &Script> {
        self.scripts.iter().filter(|s| s.text.is_none())
    }

    /// The first command that switches users itself: (where, program).
    pub fn dropper(&self) -> Option<(&str, String)> {
        self.commands.iter().find_map(|(w, c)| {
            let p = program(c);
            let is = DROPPERS.contains(&p)
                || (p == "chroot" && c.iter().any(|a| a.starts_with("--userspec")));
            is.then(|| (w.as_str(), p.to_string()))
        })
    }

    /// The first daemon that starts as root by design.
    pub fn root_daemon(&self) -> Option<(&str, String)> {
        self.commands.iter().find_map(|(w, c)| {
            let p = program(c);
            if ROOT_DAEMONS.contains(&p) {
                return Some((w.as_str(), p.to_string()));
            }
            // `service cron start`, `/etc/init.d/ssh start`, `systemctl start x`
            let started = match p {
                "service" | "rc-service" => c.get(1),
                "systemctl" => c.get(2),
                _ if c[0].starts_with("/etc/init.d/") => Some(&c[0]),
                _ => None,
            }?;
            let name = started.rsplit('/').next().unwrap_or(started);
            Some((w.as_str(), format!("{p} {name}")))
        })
    }

    /// The first program that needs root for raw sockets, devices or the
    /// Docker socket.
    pub fn root_tool(&self) -> Option<(&str, String)> {
        self.commands.iter().find_map(|(w, c)| {
            let p = program(c);
            ROOT_TOOLS.contains(&p).then(|| (w.as_str(), p.to_string()))
        })
    }

    /// A build tool the start-up runs (`cargo run`, `mvn spring-boot:run`,
    /// `gradle bootRun`, `dotnet run`...): it writes into the build output and
    /// caches the image's build made as root (`target/`, `.gradle/`, `obj/`).
    pub fn build_tool(&self) -> Option<(&str, String)> {
        self.commands.iter().find_map(|(w, c)| {
            let p = program(c);
            let sub = c
                .iter()
                .skip(1)
                .find(|a| !a.starts_with('-'))
                .map(String::as_str);
            let builds = match p {
                "cargo" => matches!(sub, Some("run" | "watch" | "build" | "test")),
                "mvn" | "mvnw" | "gradle" | "gradlew" | "sbt" | "lein" => true,
                "dotnet" => matches!(sub, Some("run" | "watch" | "build" | "test")),
                _ => false,
            };
            builds.then(|| {
                let shown: Vec<&str> = c.iter().take(3).map(String::as_str).collect();
                (w.as_str(), shown.join(" "))
            })
        })
    }

    /// The first root-only action in a start-up script (not in CMD/ENTRYPOINT
    /// themselves, which name one program).
    pub fn root_action(&self) -> Option<(&str, String)> {
        self.commands
            .iter()
            .find_map(|(w, c)| root_action(c).map(|a| (w.as_str(), a)))
    }

    /// Ports below 1024 the start-up commands bind, with the reason.
    pub fn low_ports(&self) -> Vec<(u16, String)> {
        let mut out = Vec::new();
        for (w, c) in &self.commands {
            let p = program(c);
            let explicit = port_arguments(c);
            if explicit.is_empty() {
                if let Some((_, port)) = DEFAULT_PORTS.iter().find(|(n, _)| *n == p) {
                    out.push((
                        *port,
                        format!("{w} runs `{p}`, which listens on port {port} by default"),
                    ));
                }
            }
            for port in explicit.into_iter().filter(|p| *p < 1024) {
                out.push((port, format!("{w} runs `{p}` on port {port}")));
            }
        }
        out
    }
}

pub(super) fn is_shell(p: &str) -> bool {
    matches!(p, "sh" | "bash" | "ash" | "dash" | "zsh" | "ksh")
}

fn strip_wrappers(argv: &[String]) -> Vec<String> {
    let mut rest = argv;
    loop {
        let Some(first) = rest.first() else {
            return Vec::new();
        };
        let p = first.rsplit('/').next().unwrap_or(first);
        if WRAPPERS.contains(&p) || p == "--" || (p.contains('=') && !p.starts_with('-')) {
            rest = &rest[1..];
            // Options of the wrapper (`tini -g --`, `dumb-init --single-child`).
            while rest
                .first()
                .is_some_and(|a| a.starts_with('-') && a != "--")
            {
                rest = &rest[1..];
            }
            continue;
        }
        return rest.to_vec();
    }
}

/// Paths of scripts an argv runs: its program, or the file a shell is given.
fn script_candidates(argv: &[String]) -> Vec<String> {
    let Some(first) = argv.first() else {
        return Vec::new();
    };
    let p = program(argv);
    if is_shell(p) {
        // `sh script.sh args`, but not `sh -c "..."` (read as commands above).
        if argv.iter().any(|a| a == "-c") {
            return Vec::new();
        }
        return argv[1..]
            .iter()
            .find(|a| !a.starts_with('-'))
            .filter(|a| !a.contains('$'))
            .cloned()
            .into_iter()
            .collect();
    }
    if first.contains('$') || first.is_empty() {
        return Vec::new();
    }
    vec![first.clone()]
}

/// True for a file that a shell runs: a shell shebang, or a `.sh` name.
fn looks_like_shell_script(path: &str, text: &str) -> bool {
    let first = text.lines().next().unwrap_or("");
    if let Some(shebang) = first.strip_prefix("#!") {
        return shebang
            .split(|c: char| c == '/' || c.is_whitespace())
            .any(is_shell);
    }
    path.ends_with(".sh") || path.ends_with(".bash")
}

/// The build-context path of the file that ends up at `path` (an absolute path,
/// a path relative to the WORKDIR, or a bare program name found on any copied
/// file's name), when a `COPY`/`ADD` from the context put it there. The last
/// copy wins, as in the image.
fn context_source(model: &Model, stage: &StageModel, path: &str) -> Option<String> {
    context_source_in(model, stage, path, 0)
}

fn context_source_in(
    model: &Model,
    stage: &StageModel,
    path: &str,
    depth: usize,
) -> Option<String> {
    let bare = !path.contains('/');
    let abs = if path.starts_with('/') {
        Some(normalize(path))
    } else if bare {
        None
    } else {
        crate::model::join_path(stage.workdir.as_deref(), path).map(|p| normalize(&p))
    };
    for s in super::stage_chain(model, stage) {
        for copy in model.stages[s].copies.iter().rev() {
            let Some(dest) = copy.dest_resolved.as_deref().map(normalize) else {
                continue;
            };
            if copy.from.is_some() {
                // A file copied from an earlier stage: where it came from there.
                let Some(from) = copy.from_stage else {
                    continue;
                };
                if depth >= 4 || from >= stage.index {
                    continue;
                }
                for src in copy.sources.iter().filter(|s| s.starts_with('/')) {
                    let src = normalize(src);
                    let base = src.rsplit('/').next().unwrap_or("");
                    let Some(abs) = &abs else {
                        // A program name: the copied file with that name.
                        let lands_as = if copy.dest_is_dir || copy.sources.len() > 1 {
                            base
                        } else {
                            dest.rsplit('/').next().unwrap_or("")
                        };
                        if lands_as == path {
                            if let Some(found) =
                                context_source_in(model, &model.stages[from], &src, depth + 1)
                            {
                                return Some(found);
                            }
                        }
                        continue;
                    };
                    let there = if *abs == dest && !copy.dest_is_dir {
                        Some(src.clone())
                    } else if let Some(rel) =
                        abs.strip_prefix(&format!("{}/", dest.trim_end_matches('/')))
                    {
                        if rel == base {
                            Some(src.clone())
                        } else {
                            Some(format!("{}/{rel}", src.trim_end_matches('/')))
                        }
                    } else {
                        None
                    };
                    if let Some(found) = there
                        .and_then(|t| context_source_in(model, &model.stages[from], &t, depth + 1))
                    {
                        return Some(found);
                    }
                }
                continue;
            }
            for src in copy.sources.iter().rev() {
                if src.contains("://") || src.contains('$') || src.starts_with("<<") {
                    continue;
                }
                let src_clean = src.trim_start_matches("./").trim_end_matches('/');
                let base = src_clean.rsplit('/').next().unwrap_or(src_clean);
                if let Some(abs) = &abs {
                    // COPY entrypoint.sh /entrypoint.sh
                    if !copy.dest_is_dir && *abs == dest && !copy.whole_context {
                        return Some(src_clean.to_string());
                    }
                    // COPY entrypoint.sh /usr/local/bin/  (or a folder's content)
                    if let Some(rel) = abs.strip_prefix(&format!("{}/", dest.trim_end_matches('/')))
                    {
                        if copy.whole_context || src_clean.is_empty() || src_clean == "." {
                            return Some(rel.to_string());
                        }
                        if (copy.dest_is_dir || copy.sources.len() > 1) && rel == base {
                            return Some(src_clean.to_string());
                        }
                        if !src_clean.contains('*') {
                            return Some(format!("{src_clean}/{rel}"));
                        }
                    }
                } else if bare {
                    // A program name: a copied file with that name.
                    let lands_as = if copy.dest_is_dir || copy.sources.len() > 1 {
                        base
                    } else {
                        dest.rsplit('/').next().unwrap_or("")
                    };
                    if copy.whole_context {
                        continue;
                    }
                    if lands_as == path && !src_clean.contains('*') {
                        return Some(src_clean.to_string());
                    }
                    // COPY *.sh /usr/local/bin/
                    if base.contains('*')
                        && (copy.dest_is_dir || copy.sources.len() > 1)
                        && crate::profiles::glob_captures(base, path).is_some()
                    {
                        let dir = src_clean.rsplit_once('/').map(|(d, _)| d);
                        return Some(match dir {
                            Some(d) => format!("{d}/{path}"),
                            None => path.to_string(),
                        });
                    }
                }
            }
        }
    }
    None
}

/// `path` (absolute) without `.`, `..` and a trailing slash.
fn normalize(path: &str) -> String {
    crate::model::join_path(Some("/"), path).unwrap_or_else(|| path.to_string())
}

/// Ports named by `--port N`, `--port=N`, `-p N`, `--bind host:N`, `-b host:N`,
/// `--listen :N`, `listen N`.
fn port_arguments(argv: &[String]) -> Vec<u16> {
    const FLAGS: &[&str] = &[
        "--port",
        "-p",
        "--bind",
        "-b",
        "--listen",
        "-l",
        "--http",
        "--addr",
        "--address",
        "--http-port",
        "--web.listen-address",
        "listen",
    ];
    if matches!(
        program(argv),
        "mkdir"
            | "cp"
            | "mv"
            | "ln"
            | "install"
            | "ssh"
            | "scp"
            | "rm"
            | "chmod"
            | "chown"
            | "sed"
            | "grep"
            | "ls"
            | "tar"
            | "unzip"
            | "xargs"
            | "read"
            | "curl"
            | "wget"
            | "nc"
            | "echo"
            | "printf"
            | "test"
            | "["
            | "tail"
            | "cat"
            | "psql"
            | "mysql"
            | "redis-cli"
            // `-l` is a log level or log file here, not a port.
            | "crond"
            | "cron"
            | "busybox"
            | "syslogd"
            | "rsyslogd"
    ) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (i, a) in argv.iter().enumerate().skip(1) {
        let value = if let Some((flag, v)) = a.split_once('=') {
            FLAGS.contains(&flag).then_some(v)
        } else if FLAGS.contains(&a.as_str()) {
            argv.get(i + 1).map(String::as_str)
        } else {
            None
        };
        let Some(value) = value else { continue };
        let value = value.trim_end_matches(';');
        let last = value.rsplit(':').next().unwrap_or(value);
        if let Ok(port) = last.parse::<u16>() {
            if port > 0 {
                out.push(port);
            }
        }
    }
    out
}

/// A root-only action: installing packages, editing crontabs, writing under
/// `/etc` or `/var/log`, mounting, loading kernel modules, managing users.
fn root_action(argv: &[String]) -> Option<String> {
    let p = program(argv);
    let sub = argv.get(1).map(String::as_str).unwrap_or("");
    let has = |w: &str| argv.iter().any(|a| a == w);
    let installs = match p {
        "apt-get" | "apt" | "aptitude" => matches!(sub, "install" | "update" | "upgrade"),
        "apk" => matches!(sub, "add" | "update" | "upgrade"),
        "yum" | "dnf" | "microdnf" | "zypper" | "tdnf" => argv
            .iter()
            .any(|a| matches!(a.as_str(), "install" | "update" | "upgrade" | "in")),
        "dpkg" => has("-i") || has("--install"),
        "rpm" => argv
            .iter()
            .any(|a| a.starts_with("-i") || a.starts_with("-U")),
        "npm" | "yarn" | "pnpm" => has("-g") || has("--global") || sub == "global",
        _ => false,
    };
    if installs {
        return Some(format!("`{p} {sub}` (installs packages)"));
    }
    if matches!(
        p,
        "crontab"
            | "mount"
            | "umount"
            | "modprobe"
            | "insmod"
            | "rmmod"
            | "useradd"
            | "adduser"
            | "groupadd"
            | "addgroup"
            | "usermod"
            | "chown"
            | "setcap"
            | "iptables"
            | "ip6tables"
            | "update-ca-certificates"
            | "ldconfig"
            | "chroot"
    ) {
        return Some(format!("`{p}`"));
    }
    // `ulimit -n 65536` raises the hard limit: root only.
    if p == "ulimit"
        && argv[1..]
            .iter()
            .any(|a| a.parse::<u64>().is_ok() || a == "unlimited")
    {
        return Some("`ulimit` (raises a limit)".to_string());
    }
    if p == "sysctl" && argv.iter().any(|a| a == "-w" || a.contains('=')) {
        return Some("`sysctl -w`".to_string());
    }
    // Writes under /etc or /var/log.
    let system = |a: &str| {
        let a = a.trim_matches(|c| c == '"' || c == '\'');
        (a.starts_with("/etc/") || a.starts_with("/var/log/") || a == "/var/log")
            && !a.starts_with("/etc/hosts")
    };
    let mut words = argv.iter().map(String::as_str).peekable();
    while let Some(w) = words.next() {
        let target = w.trim_start_matches(|c: char| c.is_ascii_digit());
        if let Some(t) = target.strip_prefix('>') {
            let t = t.trim_start_matches('>');
            let t = if t.is_empty() {
                words.peek().copied().unwrap_or("")
            } else {
                t
            };
            if system(t) {
                return Some(format!("a write to `{t}`"));
            }
        }
    }
    let writes_args: &[String] = match p {
        "tee" | "touch" | "mkdir" | "rm" | "chmod" | "truncate" => &argv[1..],
        "sed" | "perl" if argv.iter().any(|a| a.starts_with("-i")) => &argv[1..],
        "cp" | "mv" | "ln" | "install" | "envsubst" => {
            argv.last().map(std::slice::from_ref).unwrap_or(&[])
        }
        _ => &[],
    };
    writes_args
        .iter()
        .find(|a| system(a))
        .map(|a| format!("`{p}` on `{a}`"))
}

/// A desktop package the stage installs, if any.
pub fn desktop_package(stage: &StageModel) -> Option<&str> {
    stage
        .packages
        .iter()
        .find(|p| DESKTOP_PACKAGES.iter().any(|d| p.starts_with(d)))
        .map(String::as_str)
}

/// Programs of base images' own CMDs, from every profile (`php-fpm`,
/// `catalina.sh`): the official images themselves are built `FROM` an OS image.
pub fn own_commands<'p>(ctx: &'p PassContext) -> impl Iterator<Item = &'p str> {
    ctx.profiles
        .iter()
        .flat_map(|p| p.image_facts.iter())
        .flat_map(|f| f.own_commands.iter().map(String::as_str))
}

/// Profile facts that match the stage's base image.
pub fn image_facts<'p>(
    ctx: &'p PassContext,
    stage: &StageModel,
) -> Vec<&'p crate::profiles::ImageFacts> {
    let Some(image) = stage
        .root_image
        .as_ref()
        .and_then(|i| crate::profiles::ImageRef::parse(&i.raw))
    else {
        return Vec::new();
    };
    ctx.profiles
        .iter()
        .flat_map(|p| p.image_facts.iter())
        .filter(|f| f.images.iter().any(|pat| image.matches(pat).is_some()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn ports_from_arguments() {
        assert_eq!(
            port_arguments(&argv("gunicorn app:app -b 0.0.0.0:80")),
            [80]
        );
        assert_eq!(
            port_arguments(&argv("uvicorn main:app --port=8000")),
            [8000]
        );
        assert_eq!(port_arguments(&argv("app --bind :443")), [443]);
        assert!(port_arguments(&argv("mkdir -p /x")).is_empty());
        assert!(port_arguments(&argv("app --port ${PORT}")).is_empty());
    }

    #[test]
    fn root_actions() {
        assert!(root_action(&argv("apt-get install -y x")).is_some());
        assert!(root_action(&argv("crontab /etc/cron")).is_some());
        assert!(root_action(&argv("echo x > /etc/app.conf")).is_some());
        assert!(root_action(&argv("sed -i s/a/b/ /etc/nginx/nginx.conf")).is_some());
        assert!(root_action(&argv("cp a /etc/x")).is_some());
        assert!(root_action(&argv("cat /etc/passwd")).is_none());
        assert!(root_action(&argv("node server.js")).is_none());
        assert!(root_action(&argv("echo hi 2>/dev/null")).is_none());
    }

    #[test]
    fn wrappers_are_skipped() {
        assert_eq!(
            strip_wrappers(&argv("/usr/bin/tini -- node x")),
            argv("node x")
        );
        assert_eq!(
            strip_wrappers(&argv("dumb-init --single-child sshd")),
            argv("sshd")
        );
        assert_eq!(
            strip_wrappers(&argv("FOO=1 exec gosu app x")),
            argv("gosu app x")
        );
    }

    #[test]
    fn paths_normalize() {
        assert_eq!(normalize("/app/./x/../start.sh"), "/app/start.sh");
        assert_eq!(normalize("/"), "/");
    }
}
