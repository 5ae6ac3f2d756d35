//! GET routes found in the app's sources in the build context, as evidence that
//! an HTTP GET on a path answers (for a HEALTHCHECK probe).
//!
//! A bounded, pattern-based scan: Express / Koa / Fastify (`app.get('/x')`,
//! routers mounted with `app.use('/p', router)`), Flask / FastAPI
//! (`@app.route('/x')`, `@app.get('/x')`), Django (`path('x/', ...)` in the
//! root `urls.py`), Go net/http / gin / echo / chi (`HandleFunc("/x")`,
//! `r.GET("/x")`), Spring (`@GetMapping`, `@RequestMapping` with GET, and the
//! actuator's `/actuator/health`). A route that only accepts other methods
//! (`app.post`, `methods=['POST']`, `"POST /x"`, `.Methods("POST")`) is no
//! evidence. Paths with parameters (`/:id`, `/{id}`, `<id>`) are skipped.

use regex::Regex;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Scan bounds: entries visited, bytes per file, directory depth, bytes in all.
const MAX_FILES: usize = 2000;
const MAX_FILE_BYTES: u64 = 256 * 1024;
const MAX_DEPTH: usize = 8;
const MAX_TOTAL_BYTES: u64 = 8 * 1024 * 1024;
/// Directories never scanned: dependencies, VCS, build output, tests.
const SKIP_DIRS: &[&str] = &[
    "node_modules",
    "vendor",
    ".git",
    ".hg",
    "venv",
    ".venv",
    "__pycache__",
    "site-packages",
    "dist",
    "target",
    "test",
    "tests",
    "__tests__",
    "spec",
    "testdata",
    "e2e",
];
const EXTENSIONS: &[&str] = &[
    "js",
    "mjs",
    "cjs",
    "ts",
    "py",
    "go",
    "java",
    "kt",
    "properties",
    "yml",
    "yaml",
    "xml",
    "gradle",
    "kts",
];

/// One source file of the context (path relative to the root, text).
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub rel: String,
    pub text: String,
}

/// The scanned sources of a build context.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    pub files: Vec<SourceFile>,
}

impl Sources {
    /// Sources from `(path, text)` pairs (tests).
    #[cfg(test)]
    pub(crate) fn from_pairs(files: &[(&str, &str)]) -> Sources {
        Sources {
            files: files
                .iter()
                .map(|(rel, text)| SourceFile {
                    rel: rel.to_string(),
                    text: text.to_string(),
                })
                .collect(),
        }
    }

    /// Reads the source files of `root` within the scan bounds, honouring
    /// `.dockerignore` (what it excludes is not in the image).
    pub fn scan(root: &Path) -> Sources {
        let ignore = crate::docker::dockerignore::DockerIgnore::from_dir(root).ok();
        let mut files = Vec::new();
        let mut stack: Vec<(PathBuf, usize)> = vec![(root.to_path_buf(), 0)];
        let mut visited = 0usize;
        let mut total = 0u64;
        while let Some((dir, depth)) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            let mut entries: Vec<_> = entries.flatten().collect();
            entries.sort_by_key(|e| e.file_name());
            for e in entries {
                visited += 1;
                if visited > MAX_FILES {
                    return Sources { files };
                }
                let path = e.path();
                let Ok(rel) = path.strip_prefix(root) else {
                    continue;
                };
                let rel = rel.to_string_lossy().replace('\\', "/");
                if ignore.as_ref().is_some_and(|i| i.is_excluded(&rel)) {
                    continue;
                }
                let Ok(ft) = e.file_type() else { continue };
                let name = e.file_name().to_string_lossy().to_string();
                if ft.is_dir() {
                    if depth < MAX_DEPTH && !SKIP_DIRS.contains(&name.as_str()) {
                        stack.push((path, depth + 1));
                    }
                } else if ft.is_file()
                    && name
                        .rsplit_once('.')
                        .is_some_and(|(_, ext)| EXTENSIONS.contains(&ext))
                    && !is_test_file(&name)
                    && e.metadata().is_ok_and(|m| {
                        total += m.len();
                        m.len() <= MAX_FILE_BYTES && total <= MAX_TOTAL_BYTES
                    })
                {
                    if let Ok(text) = std::fs::read_to_string(&path) {
                        files.push(SourceFile { rel, text });
                    }
                }
            }
        }
        Sources { files }
    }

    /// Files whose name ends with one of `exts`.
    pub fn with_ext<'a>(&'a self, exts: &'a [&str]) -> impl Iterator<Item = &'a SourceFile> {
        self.files.iter().filter(move |f| {
            f.rel
                .rsplit_once('.')
                .is_some_and(|(_, e)| exts.contains(&e))
        })
    }
}

fn is_test_file(name: &str) -> bool {
    name.contains(".test.")
        || name.contains(".spec.")
        || name.ends_with("_test.go")
        || name.starts_with("test_")
        || name.ends_with("_test.py")
        || name.ends_with("Test.java")
}

/// A GET route and where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub path: String,
    /// `server.js:12` style location plus the framework, for the message.
    pub source: String,
}

/// All GET routes with a static path found in `sources`.
pub fn get_routes(sources: &Sources) -> Vec<Route> {
    let mut out = Vec::new();
    for f in &sources.files {
        let ext = f.rel.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
        match ext {
            "js" | "mjs" | "cjs" | "ts" => js_routes(f, &mut out),
            "py" => python_routes(f, sources, &mut out),
            "go" => go_routes(f, &mut out),
            "java" | "kt" => spring_routes(f, &mut out),
            _ => {}
        }
    }
    if let Some(r) = actuator(sources) {
        out.push(r);
    }
    out.retain(|r| is_static_path(&r.path));
    out
}

/// The route to probe: a health-like path first, then `/`, then the shortest.
pub fn best_route(routes: &[Route]) -> Option<&Route> {
    const HEALTHY: &[&str] = &[
        "health",
        "healthz",
        "healthcheck",
        "ping",
        "status",
        "ready",
        "readyz",
        "live",
        "livez",
        "alive",
    ];
    let health = |r: &&Route| {
        r.path
            .trim_matches('/')
            .rsplit('/')
            .next()
            .is_some_and(|last| HEALTHY.contains(&last.to_ascii_lowercase().as_str()))
    };
    routes
        .iter()
        .filter(health)
        .min_by_key(|r| r.path.len())
        .or_else(|| routes.iter().find(|r| r.path == "/"))
        .or_else(|| routes.iter().min_by_key(|r| r.path.len()))
}

fn is_static_path(p: &str) -> bool {
    p.starts_with('/')
        && !p.contains([
            ':', '{', '<', '*', '(', '[', '?', '$', '\'', '"', ' ', '\\', '`',
        ])
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset].matches('\n').count() + 1
}

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("valid regex"))
}

/// Receivers that are the application itself (not a router that may be mounted
/// under a prefix).
const JS_APPS: &[&str] = &["app", "server", "fastify", "application", "koa"];

fn js_routes(f: &SourceFile, out: &mut Vec<Route>) {
    static CALL: OnceLock<Regex> = OnceLock::new();
    static ROUTE: OnceLock<Regex> = OnceLock::new();
    static MOUNT: OnceLock<Regex> = OnceLock::new();
    let call = re(
        &CALL,
        r#"\b([A-Za-z_$][\w$]*)\s*\.\s*(get|all)\s*\(\s*(?:'(/[^']*)'|"(/[^"]*)"|`(/[^`$]*)`)"#,
    );
    // `app.route('/x').get(...)`
    let route = re(
        &ROUTE,
        r#"\b([A-Za-z_$][\w$]*)\s*\.\s*route\s*\(\s*['"](/[^'"]*)['"]\s*\)\s*\.\s*get\s*\("#,
    );
    let mount = re(
        &MOUNT,
        r#"\.\s*use\s*\(\s*(?:['"](/[^'"]*)['"]\s*,\s*)?([A-Za-z_$][\w$]*)\s*(?:\.\s*routes\s*\(\s*\))?\s*[,)]"#,
    );
    let mut push = |recv: &str, path: &str, at: usize| {
        let full = if JS_APPS.contains(&recv) {
            Some(path.to_string())
        } else if koa_prefix(&f.text, recv) {
            // `new Router({ prefix: '/api' })`: the path is not the route's.
            None
        } else {
            // A router: evidence only where this file mounts it.
            mount
                .captures_iter(&f.text)
                .find(|m| &m[2] == recv)
                .map(|m| join(m.get(1).map_or("", |p| p.as_str()), path))
        };
        if let Some(full) = full {
            out.push(Route {
                path: full,
                source: format!("{}:{} (GET route)", f.rel, line_of(&f.text, at)),
            });
        }
    };
    // Authentication in front of a route: a GET there answers 401/403 to a probe.
    static GUARD: OnceLock<Regex> = OnceLock::new();
    static APP_GUARD: OnceLock<Regex> = OnceLock::new();
    let guard = re(
        &GUARD,
        r"(?i)auth|passport|jwt|guard|protect|login|token|verify|acl|permission|basic",
    );
    // `app.use(authenticate)` / `app.use(passport.authenticate('jwt'))`: every
    // route the app defines after it is behind it.
    let app_guard = re(
        &APP_GUARD,
        r#"\b([A-Za-z_$][\w$]*)\s*\.\s*use\s*\(\s*([A-Za-z_$][\w$.]*)"#,
    );
    let guarded_from = |recv: &str| {
        app_guard
            .captures_iter(&f.text)
            .find(|c| &c[1] == recv && guard.is_match(&c[2]))
            .map(|c| c.get(0).unwrap().start())
    };
    // `app.get('/x', authenticate, handler)`: the arguments after the path,
    // up to the handler.
    let inline_guard = |after: usize| {
        let rest = &f.text[after..];
        let args = &rest[..rest.find(['{', '\n']).unwrap_or(rest.len())];
        guard.is_match(args)
    };
    for c in call.captures_iter(&f.text) {
        let path = c.get(3).or(c.get(4)).or(c.get(5)).unwrap().as_str();
        let at = c.get(0).unwrap().start();
        if guarded_from(&c[1]).is_some_and(|g| g < at) || inline_guard(c.get(0).unwrap().end()) {
            continue;
        }
        push(&c[1], path, at);
    }
    for c in route.captures_iter(&f.text) {
        let at = c.get(0).unwrap().start();
        if guarded_from(&c[1]).is_some_and(|g| g < at) || inline_guard(c.get(0).unwrap().end()) {
            continue;
        }
        push(&c[1], &c[2], at);
    }
}

/// True if `recv` is a Koa router made with a `prefix` option.
fn koa_prefix(text: &str, recv: &str) -> bool {
    let decl = format!("{recv} = new ");
    text.match_indices(&decl).any(|(at, _)| {
        let rest = &text[at + decl.len()..];
        let args = rest.find('(').map(|i| &rest[i..]).unwrap_or("");
        let args = &args[..args.find(')').unwrap_or(args.len())];
        rest.trim_start().contains("Router") && args.contains("prefix")
    })
}

fn join(prefix: &str, path: &str) -> String {
    let prefix = prefix.trim_end_matches('/');
    if prefix.is_empty() {
        return path.to_string();
    }
    if path == "/" {
        return prefix.to_string();
    }
    format!("{prefix}{path}")
}

const PY_APPS: &[&str] = &["app", "application", "server"];

fn python_routes(f: &SourceFile, sources: &Sources, out: &mut Vec<Route>) {
    static DECO: OnceLock<Regex> = OnceLock::new();
    static METHODS: OnceLock<Regex> = OnceLock::new();
    let deco = re(
        &DECO,
        r#"(?m)^\s*@\s*([A-Za-z_]\w*)\s*\.\s*(route|get|api_route)\s*\(\s*(?:'(/[^']*)'|"(/[^"]*)")([^)]*)\)"#,
    );
    let methods = re(&METHODS, r#"methods\s*=\s*[\[\(\{]([^\]\)\}]*)"#);
    for c in deco.captures_iter(&f.text) {
        if !PY_APPS.contains(&&c[1]) {
            continue;
        }
        let path = c.get(3).or(c.get(4)).unwrap().as_str();
        let rest = &c[5];
        let get_ok = match (&c[2], methods.captures(rest)) {
            ("get", _) => true,
            (_, Some(m)) => m[1].to_ascii_uppercase().contains("GET"),
            ("route", None) => true,
            // FastAPI's api_route defaults to GET too.
            (_, None) => true,
        };
        if get_ok {
            out.push(Route {
                path: path.to_string(),
                source: format!(
                    "{}:{} (GET route)",
                    f.rel,
                    line_of(&f.text, c.get(0).unwrap().start())
                ),
            });
        }
    }
    django_routes(f, sources, out);
}

/// Django: `path('x/', view)` in the root URLconf (the `urls.py` next to a
/// `settings.py`), when `ALLOWED_HOSTS` lets a probe on localhost through.
fn django_routes(f: &SourceFile, sources: &Sources, out: &mut Vec<Route>) {
    static PATH: OnceLock<Regex> = OnceLock::new();
    if !(f.rel == "urls.py" || f.rel.ends_with("/urls.py")) {
        return;
    }
    let dir = f.rel.strip_suffix("urls.py").unwrap_or("");
    let Some(settings) = sources
        .files
        .iter()
        .find(|s| s.rel == format!("{dir}settings.py"))
    else {
        return;
    };
    if !django_allows_localhost(&settings.text) {
        return;
    }
    let path = re(
        &PATH,
        r#"\b(?:re_)?path\s*\(\s*r?['"]\^?([^'"<$]*)\$?['"]\s*,\s*([^,)]*)"#,
    );
    for c in path.captures_iter(&f.text) {
        // An include() is a prefix of other routes, not a view.
        if c[2].trim_start().starts_with("include") {
            continue;
        }
        out.push(Route {
            path: format!("/{}", &c[1]),
            source: format!(
                "{}:{} (Django URL)",
                f.rel,
                line_of(&f.text, c.get(0).unwrap().start())
            ),
        });
    }
}

fn django_allows_localhost(settings: &str) -> bool {
    static HOSTS: OnceLock<Regex> = OnceLock::new();
    let hosts = re(&HOSTS, r#"(?m)^ALLOWED_HOSTS\s*=\s*(.*)$"#);
    match hosts.captures(settings) {
        Some(c) => ["'*'", "\"*\"", "localhost", "127.0.0.1"]
            .iter()
            .any(|h| c[1].contains(h)),
        None => false,
    }
}

fn go_routes(f: &SourceFile, out: &mut Vec<Route>) {
    static HANDLE: OnceLock<Regex> = OnceLock::new();
    static VERB: OnceLock<Regex> = OnceLock::new();
    static GROUP: OnceLock<Regex> = OnceLock::new();
    // net/http, gorilla/mux: all methods unless a method pattern or .Methods().
    let handle = re(
        &HANDLE,
        r#"\b([A-Za-z_]\w*)\s*\.\s*(?:HandleFunc|Handle)\s*\(\s*"((?:GET |HEAD )?/[^"]*|[A-Z]+ /[^"]*)"[^\n]*"#,
    );
    // gin / echo / chi / fiber.
    let verb = re(
        &VERB,
        r#"\b([A-Za-z_]\w*)\s*\.\s*(GET|Get|Any)\s*\(\s*"(/[^"]*)""#,
    );
    let group = re(
        &GROUP,
        r#"\b([A-Za-z_]\w*)\s*:?=\s*[A-Za-z_]\w*\s*\.\s*(?:Group|Route)\s*\("#,
    );
    let grouped: Vec<&str> = group
        .captures_iter(&f.text)
        .map(|c| c.get(1).unwrap().as_str())
        .collect();
    for c in handle.captures_iter(&f.text) {
        let pattern = &c[2];
        let whole = c.get(0).unwrap().as_str();
        if grouped.contains(&&c[1]) {
            continue;
        }
        let path = match pattern.split_once(' ') {
            Some((m, p)) if m == "GET" || m == "HEAD" => p,
            Some(_) => continue,
            None => pattern,
        };
        if let Some(m) = whole.find(".Methods(") {
            if !whole[m..].contains("\"GET\"") {
                continue;
            }
        }
        // Go's ServeMux: "/x/" is a subtree; the path itself still answers.
        out.push(Route {
            path: path.to_string(),
            source: format!(
                "{}:{} (Go handler)",
                f.rel,
                line_of(&f.text, c.get(0).unwrap().start())
            ),
        });
    }
    for c in verb.captures_iter(&f.text) {
        if grouped.contains(&&c[1]) {
            continue;
        }
        out.push(Route {
            path: c[3].to_string(),
            source: format!(
                "{}:{} (GET route)",
                f.rel,
                line_of(&f.text, c.get(0).unwrap().start())
            ),
        });
    }
}

fn spring_routes(f: &SourceFile, out: &mut Vec<Route>) {
    static MAPPING: OnceLock<Regex> = OnceLock::new();
    static CLASS: OnceLock<Regex> = OnceLock::new();
    let mapping = re(
        &MAPPING,
        r#"@(GetMapping|RequestMapping)\s*(?:\(([^)]*)\))?"#,
    );
    let class = re(&CLASS, r#"\b(?:class|interface)\s+[A-Za-z_]"#);
    let class_at = class.find(&f.text).map_or(usize::MAX, |m| m.start());
    let first_path = |args: &str| -> Option<String> {
        let q = args.find('"')?;
        let rest = &args[q + 1..];
        Some(rest[..rest.find('"')?].to_string())
    };
    let mut prefix = String::new();
    for c in mapping.captures_iter(&f.text) {
        let at = c.get(0).unwrap().start();
        let args = c.get(2).map_or("", |m| m.as_str());
        if at < class_at {
            if &c[1] == "RequestMapping" {
                prefix = first_path(args).unwrap_or_default();
            }
            continue;
        }
        if &c[1] == "RequestMapping" && args.contains("method") && !args.contains("GET") {
            continue;
        }
        let path = first_path(args).unwrap_or_else(|| "/".to_string());
        let path = if path.starts_with('/') {
            path
        } else {
            format!("/{path}")
        };
        let prefix = if prefix.is_empty() || prefix.starts_with('/') {
            prefix.clone()
        } else {
            format!("/{prefix}")
        };
        out.push(Route {
            path: join(&prefix, &path),
            source: format!("{}:{} (Spring mapping)", f.rel, line_of(&f.text, at)),
        });
    }
}

/// Spring Boot Actuator in the build file exposes `/actuator/health` by default.
fn actuator(sources: &Sources) -> Option<Route> {
    sources
        .files
        .iter()
        .filter(|f| {
            matches!(
                f.rel.rsplit('/').next(),
                Some("pom.xml" | "build.gradle" | "build.gradle.kts")
            )
        })
        .find(|f| f.text.contains("spring-boot-starter-actuator"))
        .map(|f| Route {
            path: "/actuator/health".to_string(),
            source: format!("{}: spring-boot-starter-actuator", f.rel),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes(files: &[(&str, &str)]) -> Vec<String> {
        let sources = Sources::from_pairs(files);
        get_routes(&sources).into_iter().map(|r| r.path).collect()
    }

    #[test]
    fn express_routes_and_mounted_routers() {
        let js = "app.get('/', h);\napp.post('/todos', h);\nrouter.get(\"/\", h);\napp.use(\"/api\", router);\nredis.get('key');\napp.get('/users/:id', h);\nother.get('/x', h);\n";
        assert_eq!(routes(&[("server.js", js)]), ["/", "/api"]);
        let koa = "const router = new Router();\nrouter.get('/ping', h);\napp.use(router.routes());\nconst api = new Router({ prefix: '/api' });\napi.get('/x', h);\napp.use(api.routes());\n";
        assert_eq!(routes(&[("koa.js", koa)]), ["/ping"]);
        assert_eq!(
            routes(&[("a.js", "fastify.get(`/healthz`, h)\napp.route('/b').get(h)")]),
            ["/healthz", "/b"]
        );
    }

    #[test]
    fn express_routes_behind_authentication_are_not_evidence() {
        let app = "const app = express();\napp.get('/open', (req, res) => res.send('ok'));\napp.get('/me', authenticate, (req, res) => res.json(req.user));\napp.use(express.json());\napp.use(passport.authenticate('jwt'));\napp.get('/status', (req, res) => res.json({ ok: true }));\n";
        assert_eq!(routes(&[("app.js", app)]), vec!["/open"]);
    }

    #[test]
    fn flask_fastapi_methods() {
        let py = "@app.route('/')\ndef a(): pass\n@app.route('/vote', methods=['POST'])\ndef b(): pass\n@app.route(\"/both\", methods=['POST','GET'])\n@app.get('/health')\n@app.post('/p')\n@bp.route('/bp')\n";
        assert_eq!(routes(&[("app.py", py)]), ["/", "/both", "/health"]);
    }

    #[test]
    fn django_needs_settings_allowing_localhost() {
        let urls = "urlpatterns = [\n    path('admin/', admin.site.urls),\n    path('', include('polls.urls')),\n    path('ping/', views.ping),\n]\n";
        let ok = "ALLOWED_HOSTS = ['*']\n";
        assert_eq!(
            routes(&[("site/urls.py", urls), ("site/settings.py", ok)]),
            ["/admin/", "/ping/"]
        );
        let strict = "ALLOWED_HOSTS = ['example.com']\n";
        assert!(routes(&[("site/urls.py", urls), ("site/settings.py", strict)]).is_empty());
    }

    #[test]
    fn go_handlers() {
        let go = "http.HandleFunc(\"/\", h)\nmux.HandleFunc(\"POST /submit\", h)\nmux.HandleFunc(\"GET /healthz\", h)\nr.HandleFunc(\"/x\", h).Methods(\"POST\")\nr.GET(\"/ping\", h)\napi := r.Group(\"/api\")\napi.GET(\"/v\", h)\n";
        assert_eq!(routes(&[("main.go", go)]), ["/", "/healthz", "/ping"]);
    }

    #[test]
    fn spring_mappings() {
        let java = "@RestController\n@RequestMapping(\"/api\")\npublic class C {\n  @GetMapping(\"/status\")\n  String s() {}\n  @PostMapping(\"/p\")\n  void p() {}\n  @RequestMapping(value = \"/r\", method = RequestMethod.POST)\n  void r() {}\n}\n";
        assert_eq!(routes(&[("C.java", java)]), ["/api/status"]);
        assert_eq!(
            routes(&[(
                "pom.xml",
                "<artifactId>spring-boot-starter-actuator</artifactId>"
            )]),
            ["/actuator/health"]
        );
    }

    #[test]
    fn best_prefers_health_then_root() {
        let r = |p: &str| Route {
            path: p.into(),
            source: String::new(),
        };
        assert_eq!(
            best_route(&[r("/a"), r("/"), r("/healthz")]).unwrap().path,
            "/healthz"
        );
        assert_eq!(best_route(&[r("/abc"), r("/"), r("/x")]).unwrap().path, "/");
        assert_eq!(best_route(&[r("/abc"), r("/x")]).unwrap().path, "/x");
    }
}
