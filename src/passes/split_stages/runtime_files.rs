//! Whether a compiled C/C++ or Rust program reads files from its working
//! directory at run time, so that copying only the binary into the runtime
//! stage would lose them: a relative path in a file-opening call of the
//! sources (`fopen("httpd.conf", "r")`, `std::ifstream f("www/index.html")`,
//! `File::open("config.toml")`, `Tera::new("templates/**/*")`,
//! `ServeDir::new("static")`), or a folder or config file at the top of the
//! build context that such programs serve or read (`www/`, `static/`,
//! `templates/`, `public/`, `assets/`, `*.conf`, `*.cfg`, `*.ini`). Go has its
//! own scan (`go.rs`).

use crate::passes::BuildContext;
use regex::Regex;
use std::path::Path;
use std::sync::OnceLock;

/// At most this many source files are read.
const MAX_FILES: usize = 2000;

const DATA_DIRS: &[&str] = &["www", "static", "templates", "public", "assets", "html"];
const CONFIG_EXTS: &[&str] = &[".conf", ".cfg", ".ini"];

fn c_open() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r#"\b(fopen|open|ifstream|fstream)\s*(?:[A-Za-z_]\w*\s*)?\(\s*"([^"]*)""#)
            .expect("valid regex")
    })
}

fn rust_open() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(concat!(
            r#"\b(File::open|fs::read_to_string|fs::read|fs::read_dir|Tera::new|ServeDir::new"#,
            r#"|Files::new|NamedFile::open|ServeFile::new|Config::builder|from_path)\s*\(\s*"([^"]*)""#,
        ))
        .expect("valid regex")
    })
}

/// What the program reads, as evidence for the message; None when nothing
/// suggests it reads files next to it. `rust`: Rust sources, else C/C++.
pub fn reads_files(ctx: Option<&BuildContext>, rust: bool) -> Option<String> {
    let ctx = ctx?;
    let root = ctx.path();
    let exts: &[&str] = if rust {
        &["rs"]
    } else {
        &["c", "cc", "cpp", "cxx", "h", "hh", "hpp"]
    };
    let mut files = Vec::new();
    let skip = &[
        ".git",
        "target",
        "build",
        "node_modules",
        "vendor",
        "third_party",
    ];
    collect(root, exts, skip, MAX_FILES, &mut files);
    let re = if rust { rust_open() } else { c_open() };
    for f in &files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        for c in re.captures_iter(&text) {
            let lit = &c[2];
            if !lit.is_empty() && !lit.starts_with('/') && !lit.contains("://") {
                let rel = f.strip_prefix(root).unwrap_or(f);
                return Some(format!("{}: {}(\"{lit}\")", rel.display(), &c[1]));
            }
        }
    }
    let mut found: Vec<String> = Vec::new();
    for e in std::fs::read_dir(root).ok()?.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let Ok(kind) = e.file_type() else { continue };
        if (kind.is_dir() && DATA_DIRS.contains(&name.as_str()))
            || (kind.is_file() && CONFIG_EXTS.iter().any(|x| name.ends_with(x)))
        {
            found.push(name);
        }
    }
    found.sort();
    (!found.is_empty()).then(|| format!("the build context holds {}", found.join(", ")))
}

/// The files under `dir` whose extension is one of `exts`, at most `max`,
/// not descending into folders named in `skip`.
pub(super) fn collect(
    dir: &Path,
    exts: &[&str],
    skip: &[&str],
    max: usize,
    out: &mut Vec<std::path::PathBuf>,
) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        if out.len() >= max {
            return;
        }
        let p = e.path();
        let Ok(kind) = e.file_type() else { continue };
        if kind.is_dir() {
            if !skip.contains(&e.file_name().to_string_lossy().as_ref()) {
                collect(&p, exts, skip, max, out);
            }
        } else if p
            .extension()
            .and_then(|x| x.to_str())
            .is_some_and(|x| exts.contains(&x))
        {
            out.push(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(files: &[(&str, &str)]) -> (tempfile::TempDir, BuildContext) {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let p = dir.path().join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let ctx = BuildContext::new(dir.path());
        (dir, ctx)
    }

    #[test]
    fn relative_opens_and_served_folders() {
        let (_d, ctx) = context(&[(
            "main.cpp",
            "int main() { std::ifstream conf(\"httpd.conf\"); }",
        )]);
        assert_eq!(
            reads_files(Some(&ctx), false).as_deref(),
            Some("main.cpp: ifstream(\"httpd.conf\")")
        );
        let (_d, ctx) = context(&[
            (
                "main.c",
                "int main() { FILE *f = fopen(\"/etc/passwd\", \"r\"); }",
            ),
            ("www/index.html", "<p>hi</p>"),
        ]);
        assert_eq!(
            reads_files(Some(&ctx), false).as_deref(),
            Some("the build context holds www")
        );
        let (_d, ctx) = context(&[(
            "src/main.rs",
            "fn main() { let t = Tera::new(\"templates/**/*\"); }",
        )]);
        assert!(reads_files(Some(&ctx), true).unwrap().contains("Tera::new"));
        let (_d, ctx) = context(&[("src/main.rs", "fn main() { println!(\"hi\"); }")]);
        assert_eq!(reads_files(Some(&ctx), true), None);
        assert_eq!(reads_files(None, true), None);
    }
}
