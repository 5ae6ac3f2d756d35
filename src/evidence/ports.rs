//! Which port a container's server listens on: from its command line (flags such
//! as `--port 8080`, `-b 0.0.0.0:80`), the `PORT` environment variable where the
//! server reads it, framework defaults (Flask 5000, uvicorn and gunicorn 8000...)
//! and the app's sources (`process.env.PORT || 3000`, `app.listen(8080)`,
//! `app.run(port=5000)`, `server.port=9000`).

use super::routes::Sources;
use regex::Regex;
use std::sync::OnceLock;

/// A port and the evidence for it (shown in the finding's message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    pub port: u16,
    pub evidence: String,
}

impl Port {
    fn new(port: u16, evidence: impl Into<String>) -> Port {
        Port {
            port,
            evidence: evidence.into(),
        }
    }
}

/// `host:port`, `:port`, `port`, `tcp://host:port` → port.
fn port_of(addr: &str) -> Option<u16> {
    let addr = addr.trim_matches(['"', '\'']);
    if addr.starts_with("unix:") || addr.contains('$') {
        return None;
    }
    let last = addr.rsplit(':').next()?;
    last.parse().ok().filter(|p| *p > 0)
}

/// The value of option `names` in `argv` (`--port 80`, `--port=80`, `-p80`).
fn flag<'a>(argv: &'a [String], names: &[&str]) -> Option<&'a str> {
    for (i, a) in argv.iter().enumerate() {
        for n in names {
            if a == n {
                return argv.get(i + 1).map(String::as_str);
            }
            if let Some(v) = a.strip_prefix(n) {
                if let Some(v) = v.strip_prefix('=') {
                    return Some(v);
                }
                // `-p8080` (short options only)
                if n.len() == 2 && !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
                    return Some(v);
                }
            }
        }
    }
    None
}

fn base(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

/// What the command line says about the port, for a server command `argv`
/// (wrappers already removed). `env` gives ENV values (not ARGs: a HEALTHCHECK
/// does not see build args).
pub fn from_command(argv: &[String], env: &dyn Fn(&str) -> Option<String>) -> Option<Port> {
    let prog = base(argv.first()?);
    let sub = |i: usize| argv.get(i).map(|s| base(s)).unwrap_or("");
    let words: Vec<&str> = argv.iter().map(|s| base(s)).collect();
    let is_py = prog.starts_with("python");
    // `python -m uvicorn`, `python -m flask run`, `python manage.py runserver`
    let (prog, rest): (&str, &[String]) = if is_py && sub(1) == "-m" && argv.len() > 2 {
        (base(&argv[2]), &argv[3..])
    } else {
        (prog, &argv[1..])
    };
    let with_flag = |names: &[&str], label: &str| {
        flag(rest, names)
            .and_then(port_of)
            .map(|p| Port::new(p, format!("{label} {}", names[0])))
    };
    let env_port = |name: &str, label: &str| {
        env(name)
            .as_deref()
            .and_then(port_of)
            .map(|p| Port::new(p, format!("ENV {name} read by {label}")))
    };
    match prog {
        "gunicorn" => with_flag(&["--bind", "-b"], "gunicorn")
            .or_else(|| env_port("PORT", "gunicorn"))
            .or(Some(Port::new(8000, "gunicorn's default port"))),
        "uvicorn" | "hypercorn" | "daphne" => {
            if flag(rest, &["--uds", "-u"]).is_some() {
                return None;
            }
            with_flag(&["--port", "--bind", "-b", "-p"], prog)
                .or(Some(Port::new(8000, format!("{prog}'s default port"))))
        }
        "flask" if rest.first().map(String::as_str) == Some("run") => {
            with_flag(&["--port", "-p"], "flask run")
                .or_else(|| env_port("FLASK_RUN_PORT", "flask run"))
                .or(Some(Port::new(5000, "flask run's default port")))
        }
        "http.server" => rest
            .iter()
            .find(|a| a.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|a| a.parse().ok())
            .map(|p| Port::new(p, "python -m http.server argument"))
            .or(Some(Port::new(8000, "http.server's default port"))),
        "php" if rest.first().map(String::as_str) == Some("-S") => rest
            .get(1)
            .and_then(|a| port_of(a))
            .map(|p| Port::new(p, "php -S")),
        _ if is_py && words.contains(&"manage.py") => {
            let i = words.iter().position(|w| *w == "runserver")?;
            Some(
                argv.get(i + 1)
                    .filter(|a| !a.starts_with('-'))
                    .and_then(|a| port_of(a))
                    .map(|p| Port::new(p, "manage.py runserver address"))
                    .unwrap_or(Port::new(8000, "Django runserver's default port")),
            )
        }
        // Node and Ruby servers with a default port.
        "next" | "serve" | "http-server" | "rails" | "puma" | "rackup" => {
            let (flags, default): (&[&str], u16) = match prog {
                "next" => (&["--port", "-p"], 3000),
                "serve" => (&["--listen", "-l", "--port", "-p"], 3000),
                "http-server" => (&["--port", "-p"], 8080),
                "rails" if matches!(rest.first().map(String::as_str), Some("server" | "s")) => {
                    (&["--port", "-p"], 3000)
                }
                "puma" | "rackup" => (&["--port", "-p"], 9292),
                _ => return None,
            };
            with_flag(flags, prog).or(Some(Port::new(default, format!("{prog}'s default port"))))
        }
        "bundle" if rest.first().map(String::as_str) == Some("exec") => {
            from_command(&rest[1..], env)
        }
        _ => with_flag(
            &[
                "--port",
                "--http-port",
                "--listen",
                "--bind",
                "--addr",
                "--http.addr",
                "--web.listen-address",
            ],
            prog,
        ),
    }
}

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("valid regex"))
}

/// The port the app's sources listen on, for a runtime (`node`, `python`, `go`,
/// `java`). `env` resolves `PORT`-style variables that the source reads. `None`
/// when nothing is found or the sources name several different ports.
pub fn from_sources(
    sources: &Sources,
    runtime: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<Port> {
    let mut found: Vec<Port> = Vec::new();
    let mut add = |p: Option<Port>| {
        if let Some(p) = p {
            if !found.iter().any(|f| f.port == p.port) {
                found.push(p);
            }
        }
    };
    match runtime {
        "node" => {
            static DEFAULT: OnceLock<Regex> = OnceLock::new();
            static LISTEN: OnceLock<Regex> = OnceLock::new();
            let default = re(
                &DEFAULT,
                r#"process\.env\.([A-Z_]+)\s*(?:\|\||\?\?)\s*['"]?(\d{2,5})"#,
            );
            let listen = re(
                &LISTEN,
                r#"\.listen\s*\(\s*(?:\{\s*port\s*:\s*)?(\d{2,5})\b"#,
            );
            for f in sources.with_ext(&["js", "mjs", "cjs", "ts"]) {
                for c in default.captures_iter(&f.text) {
                    let var = &c[1];
                    if !var.contains("PORT") {
                        continue;
                    }
                    add(env(var)
                        .as_deref()
                        .and_then(port_of)
                        .map(|p| Port::new(p, format!("ENV {var}, read by {}", f.rel)))
                        .or_else(|| {
                            c[2].parse().ok().map(|p| {
                                Port::new(p, format!("{}: process.env.{var} || {p}", f.rel))
                            })
                        }));
                }
                for c in listen.captures_iter(&f.text) {
                    add(c[1]
                        .parse()
                        .ok()
                        .map(|p| Port::new(p, format!("{}: listen({p})", f.rel))));
                }
            }
        }
        "python" => {
            static RUN: OnceLock<Regex> = OnceLock::new();
            let run = re(
                &RUN,
                r#"\b(?:app|application|uvicorn|socketio|web)\s*\.\s*run(?:_app)?\s*\(([^)]*)\)"#,
            );
            for f in sources.with_ext(&["py"]) {
                for c in run.captures_iter(&f.text) {
                    let args = &c[1];
                    let port = args.split(',').find_map(|a| {
                        let (k, v) = a.split_once('=')?;
                        (k.trim() == "port").then(|| v.trim().parse::<u16>().ok())?
                    });
                    add(match port {
                        Some(p) => Some(Port::new(p, format!("{}: run(port={p})", f.rel))),
                        // Flask's app.run() default.
                        None if f.text.contains("Flask(") && c[0].starts_with("app") => Some(
                            Port::new(5000, format!("{}: Flask app.run() default", f.rel)),
                        ),
                        None => None,
                    });
                }
            }
        }
        "go" => {
            static ADDR: OnceLock<Regex> = OnceLock::new();
            let addr = re(
                &ADDR,
                r#"(?:ListenAndServe(?:TLS)?|\.Run|\.Start|\.Listen)\s*\(\s*"[^":]*:(\d{2,5})""#,
            );
            for f in sources.with_ext(&["go"]) {
                for c in addr.captures_iter(&f.text) {
                    add(c[1]
                        .parse()
                        .ok()
                        .map(|p| Port::new(p, format!("{}: listens on :{p}", f.rel))));
                }
            }
        }
        "java" => {
            static PROP: OnceLock<Regex> = OnceLock::new();
            let prop = re(&PROP, r#"(?m)^\s*server\.port\s*[=:]\s*(\d{2,5})\s*$"#);
            let mut spring = false;
            let explicit = sources.files.iter().any(|f| prop.is_match(&f.text));
            for f in &sources.files {
                let name = f.rel.rsplit('/').next().unwrap_or("");
                if name.starts_with("application") && name.ends_with(".properties") {
                    spring = true;
                    for c in prop.captures_iter(&f.text) {
                        add(c[1]
                            .parse()
                            .ok()
                            .map(|p| Port::new(p, format!("{}: server.port", f.rel))));
                    }
                }
                if f.text.contains("spring-boot") && name != "application.properties" {
                    spring = true;
                }
            }
            if spring {
                add(Some(Port::new(8080, "Spring Boot's default port")).filter(|_| !explicit));
            }
        }
        _ => {}
    }
    (found.len() == 1).then(|| found.pop()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::routes::SourceFile;

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }
    fn no_env(_: &str) -> Option<String> {
        None
    }
    fn cmd(s: &str) -> Option<u16> {
        from_command(&argv(s), &no_env).map(|p| p.port)
    }

    #[test]
    fn command_flags_and_defaults() {
        assert_eq!(cmd("gunicorn app:app -b 0.0.0.0:80 --workers 4"), Some(80));
        assert_eq!(cmd("gunicorn --bind=:9000 app:app"), Some(9000));
        assert_eq!(cmd("gunicorn app:app"), Some(8000));
        assert_eq!(
            cmd("uvicorn main:app --host 0.0.0.0 --port 8080"),
            Some(8080)
        );
        assert_eq!(cmd("python -m uvicorn main:app"), Some(8000));
        assert_eq!(cmd("uvicorn main:app --uds /tmp/s"), None);
        assert_eq!(cmd("flask run --host=0.0.0.0"), Some(5000));
        assert_eq!(cmd("flask run -p5001"), Some(5001));
        assert_eq!(cmd("python manage.py runserver 0.0.0.0:8001"), Some(8001));
        assert_eq!(cmd("python3 manage.py runserver"), Some(8000));
        assert_eq!(cmd("python -m http.server 9999"), Some(9999));
        assert_eq!(cmd("php -S 0.0.0.0:8080 -t public"), Some(8080));
        assert_eq!(cmd("/app --listen :7000"), Some(7000));
        assert_eq!(cmd("/app --port $PORT"), None);
        assert_eq!(cmd("node server.js"), None);
        assert_eq!(cmd("next start"), Some(3000));
        assert_eq!(cmd("serve -s build -l 5000"), Some(5000));
        assert_eq!(cmd("bundle exec rails s -b 0.0.0.0 -p 3001"), Some(3001));
        assert_eq!(cmd("bundle exec puma"), Some(9292));
        let env = |k: &str| (k == "PORT").then(|| "5555".to_string());
        assert_eq!(
            from_command(&argv("gunicorn app:app"), &env).map(|p| p.port),
            Some(5555)
        );
    }

    fn sources(files: &[(&str, &str)]) -> Sources {
        Sources {
            files: files
                .iter()
                .map(|(r, t)| SourceFile {
                    rel: r.to_string(),
                    text: t.to_string(),
                })
                .collect(),
        }
    }

    #[test]
    fn source_ports() {
        let s = sources(&[(
            "server.js",
            "var port = process.env.PORT || 4000;\nserver.listen(port);",
        )]);
        assert_eq!(
            from_sources(&s, "node", &no_env).map(|p| p.port),
            Some(4000)
        );
        let env = |k: &str| (k == "PORT").then(|| "80".to_string());
        assert_eq!(from_sources(&s, "node", &env).map(|p| p.port), Some(80));
        let s = sources(&[("a.js", "app.listen(3000)"), ("b.js", "x.listen(3001)")]);
        assert_eq!(from_sources(&s, "node", &no_env), None);
        let s = sources(&[(
            "app.py",
            "app = Flask(__name__)\nif 1:\n    app.run(host='0.0.0.0', port=8000)",
        )]);
        assert_eq!(
            from_sources(&s, "python", &no_env).map(|p| p.port),
            Some(8000)
        );
        let s = sources(&[("app.py", "app = Flask(__name__)\napp.run(debug=True)")]);
        assert_eq!(
            from_sources(&s, "python", &no_env).map(|p| p.port),
            Some(5000)
        );
        let s = sources(&[("main.go", "http.ListenAndServe(\":8081\", nil)")]);
        assert_eq!(from_sources(&s, "go", &no_env).map(|p| p.port), Some(8081));
        let s = sources(&[(
            "src/main/resources/application.properties",
            "server.port=9090\n",
        )]);
        assert_eq!(
            from_sources(&s, "java", &no_env).map(|p| p.port),
            Some(9090)
        );
    }
}
