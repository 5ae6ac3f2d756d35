//! The container's server command: ENTRYPOINT + CMD with wrappers removed
//! (`tini --`, `dumb-init`, `gosu user`, `exec`, `sh -c "... && exec x"`,
//! `docker-entrypoint.sh` that passes its arguments on), and whether it starts a
//! server at all.

use crate::model::StageModel;
use crate::syntax::{Dockerfile, InstructionKind};

/// The argv the container runs, as far as the Dockerfile tells (empty when the
/// stage sets neither ENTRYPOINT nor CMD: the base image's command).
pub fn server_argv(file: &Dockerfile, stage: &StageModel) -> Vec<String> {
    let argv_of = |idx: Option<usize>| -> Option<(Vec<String>, bool)> {
        match &file.instructions[idx?].kind {
            InstructionKind::Cmd(c) | InstructionKind::Entrypoint(c) => {
                Some((c.rough_argv(), c.is_exec()))
            }
            _ => None,
        }
    };
    let mut argv = Vec::new();
    let entry = argv_of(stage.entrypoint);
    let entry_exec = entry.as_ref().is_none_or(|(_, exec)| *exec);
    if let Some((words, _)) = entry {
        argv.extend(words);
    }
    // A shell-form ENTRYPOINT ignores CMD.
    if entry_exec {
        if let Some((words, _)) = argv_of(stage.cmd) {
            argv.extend(words);
        }
    }
    unwrap(argv)
}

fn base(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

/// Removes process supervisors and shell wrappers in front of the server.
fn unwrap(mut argv: Vec<String>) -> Vec<String> {
    for _ in 0..8 {
        // The last command of a `a && b; exec c` chain.
        if let Some(i) = argv
            .iter()
            .rposition(|w| matches!(w.as_str(), "&&" | ";" | "||") || w.ends_with(';'))
        {
            argv.drain(..=i);
        }
        let Some(first) = argv.first() else {
            return argv;
        };
        let prog = base(first).to_string();
        match prog.as_str() {
            "tini" | "tini-static" | "dumb-init" | "catatonit" | "exec" => {
                argv.remove(0);
                while argv.first().is_some_and(|w| w.starts_with('-')) {
                    let done = argv[0] == "--";
                    argv.remove(0);
                    if done {
                        break;
                    }
                }
            }
            "env" => {
                argv.remove(0);
                while argv
                    .first()
                    .is_some_and(|w| w.contains('=') || w.starts_with('-'))
                {
                    argv.remove(0);
                }
            }
            "gosu" | "su-exec" if argv.len() > 2 => {
                argv.drain(..2);
            }
            "sh" | "bash" | "ash" | "dash" if argv.get(1).is_some_and(|a| a == "-c") => {
                let Some(script) = argv.get(2) else {
                    return argv;
                };
                argv = script
                    .split_whitespace()
                    .map(|w| w.trim_matches(['"', '\'']).to_string())
                    .collect();
            }
            // An entrypoint script that runs its arguments (`exec "$@"`).
            // (Options after it are the script's own: keep it then.)
            p if p.contains("entrypoint") && argv.get(1).is_some_and(|a| !a.starts_with('-')) => {
                argv.remove(0);
            }
            _ => {
                if argv
                    .first()
                    .is_some_and(|w| w.contains('=') && !w.starts_with('-'))
                {
                    // `PORT=80 node server.js` in a shell-form command.
                    argv.remove(0);
                    continue;
                }
                return argv;
            }
        }
    }
    argv
}

/// Why the command starts no server, if it does not: a shell, a REPL, `--help`,
/// a one-shot tool.
pub fn no_server(argv: &[String]) -> Option<&'static str> {
    let prog = base(argv.first()?);
    let args: Vec<&str> = argv[1..].iter().map(String::as_str).collect();
    let first_arg = args.first().copied().unwrap_or("");
    if matches!(
        first_arg,
        "--help" | "-h" | "help" | "--version" | "-V" | "-v" | "version"
    ) || args.contains(&"--help")
    {
        return Some("the default command prints help or a version");
    }
    let only_flags = args.iter().all(|a| a.starts_with('-'));
    match prog {
        "sh" | "bash" | "ash" | "zsh" | "dash" | "fish" if only_flags => {
            Some("the default command is a shell")
        }
        "node" | "python" | "python3" | "irb" | "ruby" | "php" | "jshell" if args.is_empty() => {
            Some("the default command is an interactive interpreter")
        }
        "true" | "false" | "echo" | "cat" | "ls" | "printenv" | "date" | "sleep" | "tail"
        | "jq" | "make" | "git" | "pytest" | "tox" | "terraform" | "ansible-playbook" => {
            Some("the default command is a one-shot tool, not a server")
        }
        "npm" | "yarn" | "pnpm"
            if matches!(first_arg, "test" | "build" | "lint" | "ci" | "install")
                || (first_arg == "run"
                    && args
                        .get(1)
                        .is_some_and(|s| matches!(*s, "test" | "build" | "lint"))) =>
        {
            Some("the default command is a build or test script, not a server")
        }
        "go" | "cargo" | "mvn" | "gradle" if matches!(first_arg, "test" | "build" | "vet") => {
            Some("the default command is a build or test, not a server")
        }
        _ => None,
    }
}

/// The language runtime a command runs on (`node`, `python`, `java`), to look
/// for its port in the sources.
pub fn runtime_of(argv: &[String]) -> Option<&'static str> {
    let prog = base(argv.first()?);
    Some(match prog {
        "node" | "nodemon" | "npm" | "yarn" | "pnpm" | "npx" | "ts-node" | "pm2-runtime"
        | "bun" => "node",
        "gunicorn" | "uvicorn" | "flask" | "hypercorn" | "daphne" | "waitress-serve" => "python",
        p if p.starts_with("python") => "python",
        "java" => "java",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn wrappers_are_removed() {
        assert_eq!(
            unwrap(v("/usr/bin/tini -- node server.js")),
            v("node server.js")
        );
        assert_eq!(unwrap(v("dumb-init gosu app gunicorn x")), v("gunicorn x"));
        assert_eq!(
            unwrap(vec![
                "sh".into(),
                "-c".into(),
                "cd /app && exec uvicorn main:app --port 9000".into()
            ]),
            v("uvicorn main:app --port 9000")
        );
        assert_eq!(
            unwrap(v("docker-entrypoint.sh nginx -g x")),
            v("nginx -g x")
        );
        assert_eq!(unwrap(v("PORT=80 node s.js")), v("node s.js"));
        assert_eq!(
            unwrap(v("entrypoint.sh -b 0.0.0.0")),
            v("entrypoint.sh -b 0.0.0.0")
        );
    }

    #[test]
    fn servers_and_not_servers() {
        for s in [
            "bash",
            "sh -l",
            "node",
            "app --help",
            "npm test",
            "sleep infinity",
            "python",
        ] {
            assert!(no_server(&v(s)).is_some(), "{s}");
        }
        for s in [
            "node server.js",
            "npm start",
            "gunicorn app:app",
            "/app",
            "nginx -g x",
        ] {
            assert!(no_server(&v(s)).is_none(), "{s}");
        }
    }
}
