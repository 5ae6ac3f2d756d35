//! Go builds: whether the program needs cgo (so whether a static binary on
//! distroless static or scratch is possible), and whether it makes TLS requests
//! or loads time zones (so whether scratch needs CA certificates and tzdata).

use super::paths::{resolve, unquote};
use super::script::SimpleCommand;
use super::{BuildKind, Cgo, Family, Planner, Role};
use crate::passes::BuildContext;
use crate::syntax::InstructionKind;

/// Modules that only build with cgo: a `go.mod` that requires one rules out
/// `CGO_ENABLED=0`.
const CGO_MODULES: &[&str] = &[
    "github.com/mattn/go-sqlite3",
    "github.com/mattn/go-oci8",
    "github.com/godror/godror",
    "github.com/ibmdb/go_ibm_db",
    "github.com/confluentinc/confluent-kafka-go",
    "github.com/DataDog/zstd",
    "github.com/google/gopacket",
    "github.com/miekg/pkcs11",
    "github.com/go-gl/",
    "github.com/veandco/go-sdl2",
    "github.com/tecbot/gorocksdb",
    "github.com/linxGnu/grocksdb",
    "github.com/ceph/go-ceph",
    "github.com/libgit2/git2go",
    "github.com/h2non/bimg",
    "github.com/davidbyttow/govips",
    "gopkg.in/gographics/",
    "fyne.io/fyne",
    "gioui.org",
    "github.com/hajimehoshi/ebiten",
    "github.com/bytecodealliance/wasmtime-go",
    "github.com/wasmerio/wasmer-go",
    "github.com/ebitengine/purego",
];

/// Where the split puts the static health probe it builds for a runtime image
/// without a shell or HTTP client (distroless, scratch).
pub const PROBE: &str = "/usr/local/bin/healthcheck";

/// The RUN (without the keyword) that builds the probe in the build stage: a
/// few lines of `net/http` that exit 1 when the URL does not answer below 400,
/// built outside the module (in /tmp) as a static binary.
pub fn probe_build_script() -> String {
    format!(
        "printf '%s\\n' 'package main' 'import (\"net/http\"; \"os\"; \"time\")' \
         'func main() {{ c := http.Client{{Timeout: 10 * time.Second}}; r, err := c.Get(os.Args[1]); \
         if err != nil || r.StatusCode >= 400 {{ os.Exit(1) }} }}' > /tmp/healthcheck.go \
         && cd /tmp && CGO_ENABLED=0 GOFLAGS= go build -ldflags='-s -w' -o {PROBE} healthcheck.go && rm healthcheck.go"
    )
}

/// The URL of a HEALTHCHECK that asks the container's own HTTP server with curl
/// or wget, failing on an error status (`curl -f http://localhost:8080/health
/// || exit 1`, `wget -q --spider http://127.0.0.1:3000/`): what the static
/// probe checks the same way. None for anything else.
pub fn http_probe_url(commands: &[SimpleCommand], text: &str) -> Option<String> {
    let (probe, rest) = commands.split_first()?;
    match rest {
        [] => {}
        [exit] if exit.argv == ["exit", "1"] && text.contains("||") => {}
        _ => return None,
    }
    let operands = probe.operands(&[]);
    let [url] = operands.as_slice() else {
        return None;
    };
    let local = ["http://localhost", "http://127.0.0.1"].iter().any(|p| {
        url.strip_prefix(p)
            .is_some_and(|r| r.is_empty() || r.starts_with([':', '/']))
    });
    if !local || url.contains(['$', '`', ' ']) {
        return None;
    }
    let flags_ok = |allowed: &[&str]| {
        probe
            .args()
            .iter()
            .filter(|a| a.starts_with('-'))
            .all(|a| allowed.contains(&a.as_str()))
    };
    let fails_on_status = match probe.program() {
        "curl" => {
            flags_ok(&[
                "-f",
                "--fail",
                "-s",
                "--silent",
                "-S",
                "--show-error",
                "-fs",
                "-sf",
                "-fsS",
                "-sSf",
                "-fSs",
                "-sfS",
                "-Ssf",
            ]) && probe.args().iter().any(|a| {
                a == "--fail" || (a.starts_with('-') && !a.starts_with("--") && a.contains('f'))
            })
        }
        "wget" => flags_ok(&["-q", "--quiet", "--spider", "-qO-", "-q0-", "-nv"]),
        _ => false,
    };
    fails_on_status.then(|| url.to_string())
}

/// At most this many files are read from the build context.
const MAX_FILES: usize = 5000;

/// What the Go sources in the build context say.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Source {
    /// Why the program needs cgo (`import "C"` in a file, a cgo module in
    /// go.mod); None when it does not.
    pub cgo: Option<String>,
    /// It makes TLS connections (`crypto/tls`, an `net/http` client).
    pub tls: bool,
    /// It loads time zones (`time.LoadLocation`, `time/tzdata`).
    pub tz: bool,
    /// It reads files by a relative path at run time (`template.ParseGlob(
    /// "templates/*.html")`, `http.Dir("static")`, `os.ReadFile("config.yaml")`,
    /// a SQLite file): where, and the call.
    pub reads_files: Option<String>,
}

/// Calls that open files by path at run time; their relative string-literal
/// arguments resolve against the working directory.
fn file_reads() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(concat!(
            r"\b(os\.(?:Open|OpenFile|ReadFile|ReadDir|Stat)|ioutil\.(?:ReadFile|ReadDir)",
            r"|http\.Dir|http\.ServeFile|(?:template\.|\.)(?:ParseGlob|ParseFiles)",
            r"|\.LoadHTMLGlob|\.LoadHTMLFiles|\.Static|\.StaticFile|\.File|godotenv\.(?:Load|Overload)",
            r"|sql\.Open|gorm\.Open|sqlite\.Open|\.AddConfigPath|\.SetConfigFile)\(([^)]*)\)",
        ))
        .expect("valid regex")
    })
}

/// The string literals among a call's arguments, not those of calls nested in
/// them (`os.Getenv("DSN")`).
fn top_level_literals(args: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start: Option<usize> = None;
    for (i, ch) in args.char_indices() {
        match (ch, start) {
            ('"', Some(s)) => {
                if depth == 0 {
                    out.push(&args[s..i]);
                }
                start = None;
            }
            ('"', None) => start = Some(i + 1),
            (_, Some(_)) => {}
            ('(', None) => depth += 1,
            (')', None) => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    out
}

/// The first relative file path a call in `text` reads, as `call("path")`.
fn relative_read(text: &str) -> Option<String> {
    for c in file_reads().captures_iter(text) {
        let call = &c[1];
        let args = &c[2];
        // `godotenv.Load()` reads `.env` in the working directory.
        if call.starts_with("godotenv") && args.trim().is_empty() {
            return Some(format!("{call}() (reads .env)"));
        }
        for lit in top_level_literals(args) {
            let relative = !lit.is_empty()
                && !lit.starts_with('/')
                && !lit.contains("://")
                && !lit.contains(['@', '=', ' ', '%', ':'])
                && !matches!(
                    lit,
                    "sqlite3" | "sqlite" | "postgres" | "pgx" | "mysql" | "sqlserver" | "."
                );
            if relative {
                return Some(format!("{call}(\"{lit}\")"));
            }
        }
    }
    None
}

/// Reads the `.go` files and `go.mod` of the build context. None when there is
/// no context, no `go.mod` or no `.go` file: no evidence either way.
pub fn scan(ctx: Option<&BuildContext>) -> Option<Source> {
    let ctx = ctx?;
    let go_mod = ctx.read("go.mod")?;
    let mut src = Source::default();
    if let Some(m) = CGO_MODULES.iter().find(|m| go_mod.contains(*m)) {
        src.cgo = Some(format!(
            "go.mod requires {}, which needs cgo",
            m.trim_end_matches('/')
        ));
    }
    let mut files = Vec::new();
    super::runtime_files::collect(ctx.path(), &["go"], &[".git"], MAX_FILES, &mut files);
    if files.is_empty() || files.len() >= MAX_FILES {
        return None;
    }
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        if src.cgo.is_none() && imports_c(&text) {
            let rel = f.strip_prefix(ctx.path()).unwrap_or(&f);
            src.cgo = Some(format!("{} imports \"C\"", rel.display()));
        }
        src.tls |= text.contains("\"crypto/tls\"")
            || (text.contains("\"net/http\"")
                && [
                    "http.Get(",
                    "http.Post(",
                    "http.Client",
                    "http.DefaultClient",
                    "http.NewRequest",
                ]
                .iter()
                .any(|w| text.contains(w)));
        src.tz |= text.contains("time.LoadLocation") || text.contains("\"time/tzdata\"");
        let test = f.to_string_lossy().ends_with("_test.go");
        if src.reads_files.is_none() && !test {
            if let Some(call) = relative_read(&text) {
                let rel = f.strip_prefix(ctx.path()).unwrap_or(&f);
                src.reads_files = Some(format!("{}: {call}", rel.display()));
            }
        }
    }
    Some(src)
}

/// `import "C"` alone or inside an import block.
fn imports_c(text: &str) -> bool {
    let mut in_block = false;
    for line in text.lines() {
        let l = line.trim();
        if l == "import \"C\"" {
            return true;
        }
        if l.starts_with("import (") {
            in_block = true;
            continue;
        }
        if in_block {
            if l.starts_with(')') {
                in_block = false;
            } else if l == "\"C\"" {
                return true;
            }
        }
    }
    false
}

impl Planner<'_> {
    /// Where `go build` (`-o`, else the package's name in the working
    /// directory) or `go install` (`$GOPATH/bin`, `/go` in the golang images)
    /// writes the binary.
    pub(super) fn go_binary_path(
        &self,
        c: &SimpleCommand,
        cwd: &str,
        line: usize,
    ) -> Result<String, String> {
        let sub = c.subcommand().unwrap_or("");
        if let Some(o) = c.option_value(&["-o"]) {
            if o.contains('$') || o.ends_with('/') {
                return Err(format!(
                    "the -o path at line {line} is not a plain file path"
                ));
            }
            return Ok(resolve(cwd, o));
        }
        let pkgs = c.operands(&[
            "-o",
            "-tags",
            "-ldflags",
            "-gcflags",
            "-asmflags",
            "-p",
            "-mod",
            "-installsuffix",
            "-buildmode",
            "-modfile",
            "-overlay",
            "-pkgdir",
        ]);
        let pkgs: Vec<&str> = pkgs.into_iter().skip(1).collect();
        let name = match pkgs.as_slice() {
            [one] if one.ends_with(".go") => one
                .trim_end_matches(".go")
                .rsplit('/')
                .next()
                .unwrap_or(one)
                .to_string(),
            [] | ["."] | ["./"] => self.go_module_name().ok_or_else(|| {
                format!(
                    "`go {sub}` at line {line} has no -o and go.mod is not readable, so the \
                     binary's name is unknown"
                )
            })?,
            [one] if one.starts_with("./") && !one.contains("...") && !one.contains('$') => one
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or(one)
                .to_string(),
            _ => {
                return Err(format!(
                    "`go {sub}` at line {line} has no -o; the binary's name is unknown"
                ))
            }
        };
        if sub != "install" {
            return Ok(resolve(cwd, &name));
        }
        // `go install`: $GOBIN, else $GOPATH/bin; the golang images set GOPATH=/go.
        let moved = self
            .body
            .clone()
            .any(|i| match &self.file.instructions[i].kind {
                InstructionKind::Env(kvs) => kvs.iter().any(|kv| {
                    kv.key == "GOBIN" || (kv.key == "GOPATH" && unquote(&kv.value) != "/go")
                }),
                _ => false,
            })
            || c.env_value("GOBIN").is_some()
            || c.env_value("GOPATH").is_some();
        if moved || !matches!(self.image.repository.as_str(), "golang") {
            return Err(format!(
                "`go install` at line {line} writes to $GOBIN or $GOPATH/bin, which is not known \
                 here; build with `go build -o PATH`"
            ));
        }
        Ok(format!("/go/bin/{name}"))
    }

    /// What the Go build does about cgo.
    pub(super) fn cgo(&self) -> Cgo {
        if self.family != Family::Go {
            return Cgo::Unknown;
        }
        if self.cgo_disabled() {
            return Cgo::Off;
        }
        let forced = self.body.clone().any(|i| {
            let text = self.file.text(self.file.instructions[i].span);
            text.contains("CGO_ENABLED=1") || text.contains("CGO_ENABLED 1")
        }) || self.runs.values().flat_map(|i| &i.commands).any(|c| {
            c.program() == "go"
                && c.subcommand() == Some("build")
                && c.has_flag(&["-race", "-msan", "-asan"])
        });
        if forced {
            return Cgo::Used("the Dockerfile turns cgo on".into());
        }
        match scan(self.ctx.build_context) {
            Some(src) => match &src.cgo {
                Some(why) => Cgo::Used(why.clone()),
                None => Cgo::NotUsed(src),
            },
            None => Cgo::Unknown,
        }
    }

    /// CGO_ENABLED=0 is in force for every `go build`.
    pub(super) fn cgo_disabled(&self) -> bool {
        let mut env_off = false;
        let mut all = true;
        for idx in self.body.clone() {
            let inst = &self.file.instructions[idx];
            match &inst.kind {
                InstructionKind::Env(kvs) => {
                    for kv in kvs {
                        if kv.key == "CGO_ENABLED" {
                            env_off = unquote(&kv.value) == "0";
                        }
                    }
                }
                InstructionKind::Arg(decls) => {
                    for d in decls {
                        if d.name == "CGO_ENABLED" {
                            env_off = d.default.as_deref().map(unquote) == Some("0");
                        }
                    }
                }
                InstructionKind::Run(_) => {
                    let Some(info) = self.runs.get(&idx) else {
                        continue;
                    };
                    let mut exported = env_off;
                    for (n, c) in info.commands.iter().enumerate() {
                        if c.program() == "export" {
                            for a in c.args() {
                                if let Some(v) = a.strip_prefix("CGO_ENABLED=") {
                                    exported = v == "0";
                                }
                            }
                        }
                        if c.argv.is_empty() {
                            if let Some(v) = c.env_value("CGO_ENABLED") {
                                exported = v == "0";
                            }
                        }
                        if self.roles[&idx][n] == Role::Build(BuildKind::GoBuild) {
                            let off = c
                                .env_value("CGO_ENABLED")
                                .map(|v| v == "0")
                                .unwrap_or(exported);
                            all &= off;
                        }
                    }
                }
                _ => {}
            }
        }
        all
    }

    /// The binary `go build` names after the module (`example.com/app/v2` → `app`).
    pub(super) fn go_module_name(&self) -> Option<String> {
        let text = self.ctx.build_context?.read("go.mod")?;
        let module = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("module "))?
            .trim()
            .trim_matches('"');
        let last = module.rsplit('/').next()?;
        // `example.com/app/v2` builds `app`.
        if last.starts_with('v') && last[1..].bytes().all(|b| b.is_ascii_digit()) && last.len() > 1
        {
            return module.rsplit('/').nth(1).map(str::to_string);
        }
        Some(last.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn healthchecks_a_static_probe_can_replace() {
        let url = |text: &str| http_probe_url(&super::super::script::commands(text).0, text);
        assert_eq!(
            url("curl -fsS http://localhost:8080/health || exit 1").as_deref(),
            Some("http://localhost:8080/health")
        );
        assert_eq!(
            url("wget -q --spider http://127.0.0.1:3000/").as_deref(),
            Some("http://127.0.0.1:3000/")
        );
        assert_eq!(
            url("curl --fail http://localhost").as_deref(),
            Some("http://localhost")
        );
        // curl without -f succeeds on an error status: not the same check.
        assert_eq!(url("curl -s http://localhost:8080/"), None);
        // Other hosts, other options, other commands, variables: left alone.
        assert_eq!(url("curl -f http://db:5432/"), None);
        assert_eq!(url("curl -f -H 'X: y' http://localhost/"), None);
        assert_eq!(url("curl -f http://localhost:$PORT/"), None);
        assert_eq!(url("curl -f http://localhost/ && touch /tmp/ok"), None);
        assert_eq!(url("pg_isready"), None);
        assert!(probe_build_script().contains(&format!("-o {PROBE} ")));
    }

    #[test]
    fn relative_file_reads_at_run_time() {
        for (text, want) in [
            (
                r#"t := template.Must(template.ParseGlob("templates/*.html"))"#,
                Some(r#"template.ParseGlob("templates/*.html")"#),
            ),
            (
                r#"http.Handle("/s/", http.FileServer(http.Dir("static")))"#,
                Some(r#"http.Dir("static")"#),
            ),
            (
                r#"db, _ := sql.Open("sqlite3", "./database/forum.db")"#,
                Some(r#"sql.Open("./database/forum.db")"#),
            ),
            (
                r#"r.Static("/assets", "./assets")"#,
                Some(r#".Static("./assets")"#),
            ),
            (r#"godotenv.Load()"#, Some("godotenv.Load() (reads .env)")),
            (r#"sql.Open("postgres", os.Getenv("DSN"))"#, None),
            (r#"sql.Open("postgres", "host=db user=x")"#, None),
            (r#"os.ReadFile("/etc/app/config.yaml")"#, None),
            (r#"os.ReadFile(path)"#, None),
        ] {
            assert_eq!(relative_read(text).as_deref(), want, "{text}");
        }
    }

    #[test]
    fn cgo_tls_and_time_zones_are_read_from_the_sources() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = BuildContext::new(dir.path());
        assert_eq!(scan(Some(&ctx)), None, "no go.mod: no evidence");
        std::fs::write(dir.path().join("go.mod"), "module example.com/app\n").unwrap();
        assert_eq!(scan(Some(&ctx)), None, "no .go file: no evidence");
        std::fs::write(
            dir.path().join("main.go"),
            "package main\nimport (\n\t\"net/http\"\n)\nfunc main() { http.ListenAndServe(\":8080\", nil) }\n",
        )
        .unwrap();
        assert_eq!(scan(Some(&ctx)), Some(Source::default()), "a server only");
        std::fs::create_dir(dir.path().join("x")).unwrap();
        std::fs::write(
            dir.path().join("x/c.go"),
            "package x\n// #include <stdio.h>\nimport \"C\"\nimport \"time\"\nimport \"net/http\"\nvar _, _ = time.LoadLocation(\"UTC\")\nvar _ = http.Get(\"https://x\")\n",
        )
        .unwrap();
        let s = scan(Some(&ctx)).unwrap();
        assert_eq!(s.cgo.as_deref(), Some("x/c.go imports \"C\""));
        assert!(s.tz && s.tls);
        std::fs::write(
            dir.path().join("go.mod"),
            "module a\nrequire github.com/mattn/go-sqlite3 v1.14.22\n",
        )
        .unwrap();
        assert!(scan(Some(&ctx))
            .unwrap()
            .cgo
            .unwrap()
            .contains("go-sqlite3"));
    }
}
