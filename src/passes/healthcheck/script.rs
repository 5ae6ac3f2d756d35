//! Whether a `python app.py` / `node server.js` command starts a server: when
//! the script is readable in the build context and neither it nor the local
//! modules it imports start one (`app.run(`, `uvicorn.run(`, `serve_forever(`,
//! `app.listen(`...), the command exits, or only defines an app that a server
//! started elsewhere runs (`gunicorn app:app` from a compose file). A probe
//! on the exposed port would then probe nothing.

use crate::evidence::routes::{SourceFile, Sources};
use regex::Regex;
use std::sync::OnceLock;

/// Local modules followed from the script, at most.
const MAX_FOLLOWED: usize = 16;

fn python_start() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(concat!(
            r"\.run\(|run_app\(|serve_forever\(|\bserve\(|HTTPServer\(|make_server\(",
            r"|socketserver|\.start\(|start_server\(|run_simple\(|\.listen\(|IOLoop",
            r"|execute_from_command_line|uvicorn|hypercorn|gunicorn|waitress|run_forever\(",
            r"|reactor\.run|cherrypy|bjoern|wsgiref|create_server\(|subprocess|Popen|os\.exec|os\.system",
            // Gradio `demo.launch(`, Dash `app.run_server(`, eventlet, prometheus_client.
            r"|\.launch\(|run_server\(|wsgi\.server\(|start_http_server\(",
        ))
        .expect("valid regex")
    })
}

fn node_start() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(concat!(
            r"\.listen\(|createServer\(|\bserve\(|\.start\(|bindAsync\(|\.run\(",
            r"|child_process|cluster\.fork|spawn\(|execFile\(|\bexeca\b",
        ))
        .expect("valid regex")
    })
}

fn python_import() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?m)^\s*(?:from\s+\.*([\w.]+)\s+import|import\s+([\w.]+))")
            .expect("valid regex")
    })
}

fn node_import() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r#"(?:require\(\s*|from\s+|import\s+|import\(\s*)['"](\.{1,2}/[^'"]+)['"]"#)
            .expect("valid regex")
    })
}

/// The script a `python`/`node` command runs, as written (`app.py`), and its
/// language; `None` for `-m module`, `-c code` or another program.
fn script_of(argv: &[String]) -> Option<(&str, bool)> {
    let prog = argv.first()?.rsplit('/').next()?;
    let python = prog.starts_with("python");
    if !python && !matches!(prog, "node" | "nodejs" | "bun" | "ts-node") {
        return None;
    }
    let mut args = argv[1..].iter();
    while let Some(a) = args.next() {
        match a.as_str() {
            "-m" | "-c" | "-e" | "--eval" | "-p" | "--print" => return None,
            "-r" | "--require" | "--import" | "--loader" | "-W" | "-X" => {
                args.next();
            }
            a if a.starts_with('-') => {}
            script => {
                let exts: &[&str] = if python {
                    &[".py"]
                } else {
                    &[".js", ".mjs", ".cjs", ".ts"]
                };
                return exts
                    .iter()
                    .any(|e| script.ends_with(e))
                    .then_some((script, python));
            }
        }
    }
    None
}

/// The one source file the script path names: the longest suffix of its path
/// (`/app/src/app.py`: `app/src/app.py`, `src/app.py`, `app.py`) that is exactly
/// one file's path in the context.
fn find<'s>(sources: &'s Sources, script: &str) -> Option<&'s SourceFile> {
    let parts: Vec<&str> = script
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.contains(&"..") {
        return None;
    }
    for i in 0..parts.len() {
        let rel = parts[i..].join("/");
        let mut hits = sources.files.iter().filter(|f| f.rel == rel);
        match (hits.next(), hits.next()) {
            (Some(f), None) => return Some(f),
            (Some(_), Some(_)) => return None,
            _ => {}
        }
    }
    None
}

fn dir_of(rel: &str) -> &str {
    rel.rsplit_once('/').map_or("", |(d, _)| d)
}

fn join(dir: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for p in rel.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// The context files the module imports that are local (in the context).
fn local_imports<'s>(sources: &'s Sources, file: &SourceFile, python: bool) -> Vec<&'s SourceFile> {
    let dir = dir_of(&file.rel);
    let mut wanted: Vec<String> = Vec::new();
    if python {
        for c in python_import().captures_iter(&file.text) {
            let Some(m) = c.get(1).or(c.get(2)) else {
                continue;
            };
            let path = m.as_str().replace('.', "/");
            for base in [dir, ""] {
                for cand in [format!("{path}.py"), format!("{path}/__init__.py")] {
                    if let Some(p) = join(base, &cand) {
                        wanted.push(p);
                    }
                }
            }
        }
    } else {
        for c in node_import().captures_iter(&file.text) {
            let Some(p) = join(dir, &c[1]) else { continue };
            for suffix in ["", ".js", ".mjs", ".cjs", ".ts", "/index.js", "/index.ts"] {
                wanted.push(format!("{p}{suffix}"));
            }
        }
    }
    sources
        .files
        .iter()
        .filter(|f| f.rel != file.rel && wanted.contains(&f.rel))
        .collect()
}

/// When `argv` runs a Python or Node script that is readable in the context and
/// neither it nor the local modules it imports start a server: the script's
/// path in the context.
pub fn starts_no_server(argv: &[String], sources: &Sources) -> Option<String> {
    let (script, python) = script_of(argv)?;
    let root = find(sources, script)?;
    let start = if python { python_start() } else { node_start() };
    let mut seen: Vec<&str> = vec![root.rel.as_str()];
    let mut queue = vec![root];
    while let Some(f) = queue.pop() {
        if start.is_match(&f.text) {
            return None;
        }
        for m in local_imports(sources, f, python) {
            if seen.len() >= MAX_FOLLOWED {
                // Too much to read: no claim.
                return None;
            }
            if !seen.contains(&m.rel.as_str()) {
                seen.push(m.rel.as_str());
                queue.push(m);
            }
        }
    }
    Some(root.rel.clone())
}

/// The script a `python`/`node` command runs when the build context does not
/// hold it (or there is no context): dopt cannot read whether it starts a
/// server.
pub fn unreadable_script<'a>(argv: &'a [String], sources: Option<&Sources>) -> Option<&'a str> {
    let (script, _) = script_of(argv)?;
    sources
        .and_then(|s| find(s, script))
        .is_none()
        .then_some(script)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(files: &[(&str, &str)]) -> Sources {
        Sources::from_pairs(files)
    }

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    const FLASK_NO_RUN: &str = "from flask import Flask\napp = Flask(__name__)\n\n@app.route('/')\ndef hello():\n    return 'hi'\n";

    #[test]
    fn flask_app_without_run_starts_no_server() {
        let s = sources(&[("app.py", FLASK_NO_RUN)]);
        assert_eq!(
            starts_no_server(&argv("python app.py"), &s).as_deref(),
            Some("app.py")
        );
        assert_eq!(
            starts_no_server(&argv("python3 -u /app/app.py"), &s).as_deref(),
            Some("app.py")
        );
    }

    #[test]
    fn a_server_start_anywhere_it_imports_counts() {
        let run =
            format!("{FLASK_NO_RUN}\nif __name__ == '__main__':\n    app.run(host='0.0.0.0')\n");
        assert_eq!(
            starts_no_server(&argv("python app.py"), &sources(&[("app.py", &run)])),
            None
        );
        let s = sources(&[
            ("main.py", "from server import main\nmain()\n"),
            (
                "server.py",
                "import uvicorn\ndef main():\n    uvicorn.run('x:app')\n",
            ),
        ]);
        assert_eq!(starts_no_server(&argv("python main.py"), &s), None);
        for start in [
            "demo.launch(server_name='0.0.0.0')",
            "app.run_server(debug=False)",
        ] {
            let s = sources(&[("app.py", start)]);
            assert_eq!(
                starts_no_server(&argv("python app.py"), &s),
                None,
                "{start}"
            );
        }
        let s = sources(&[
            ("index.js", "require('./src/app');\n"),
            ("src/app.js", "const app = express();\napp.listen(3000);\n"),
        ]);
        assert_eq!(starts_no_server(&argv("node index.js"), &s), None);
        let s = sources(&[("index.js", "console.log('done');\n")]);
        assert_eq!(
            starts_no_server(&argv("node index.js"), &s).as_deref(),
            Some("index.js")
        );
    }

    #[test]
    fn unreadable_or_ambiguous_scripts_make_no_claim() {
        let s = sources(&[("a/app.py", FLASK_NO_RUN), ("b/app.py", FLASK_NO_RUN)]);
        assert_eq!(starts_no_server(&argv("python app.py"), &s), None);
        assert_eq!(starts_no_server(&argv("python other.py"), &s), None);
        assert_eq!(starts_no_server(&argv("python -m app"), &s), None);
        assert_eq!(starts_no_server(&argv("gunicorn app:app"), &s), None);
    }
}
