//! Node specifics: which devDependencies the app itself still needs at run time.
//!
//! Pruning devDependencies is the point of a Node runtime stage, and the classic way
//! to break an app with it: many small apps list packages they `require()` at run
//! time under devDependencies (docker's own bulletin-board sample does). So before
//! pruning we read `package.json` and look for those packages in the app's sources
//! and in the npm script that CMD starts.

use crate::passes::BuildContext;
use std::path::Path;

/// What the build context tells about the app's devDependencies.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DevDependencies {
    /// Names listed under `devDependencies` (None: no package.json to read).
    pub listed: Option<Vec<String>>,
    /// Listed devDependencies the app uses at run time, with the file that uses
    /// them (`body-parser` in `server.js`).
    pub needed_at_run_time: Vec<(String, String)>,
}

/// Reads `package.json` at the context root and scans the app's JavaScript
/// sources and the npm scripts named in `run_scripts` (e.g. `start`).
pub fn dev_dependencies(context: Option<&BuildContext>, run_scripts: &[String]) -> DevDependencies {
    let Some(ctx) = context else {
        return DevDependencies::default();
    };
    let Some(text) = ctx.read("package.json") else {
        return DevDependencies::default();
    };
    let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
        return DevDependencies::default();
    };
    let listed: Vec<String> = json
        .get("devDependencies")
        .and_then(|d| d.as_object())
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    let mut needed = Vec::new();
    if !listed.is_empty() {
        let mut files = Vec::new();
        collect_sources(ctx.path(), ctx.path(), 0, &mut files);
        for (rel, source) in &files {
            for dep in &listed {
                if needed.iter().any(|(d, _)| d == dep) {
                    continue;
                }
                if requires(source, dep) {
                    needed.push((dep.clone(), rel.clone()));
                }
            }
        }
        let scripts = json.get("scripts").and_then(|s| s.as_object());
        for name in run_scripts {
            let Some(script) = scripts.and_then(|s| s.get(name)).and_then(|s| s.as_str()) else {
                continue;
            };
            for dep in &listed {
                let used = script
                    .split(|c: char| c.is_whitespace() || c == '&' || c == ';' || c == '|')
                    .any(|w| w == dep);
                if used && !needed.iter().any(|(d, _)| d == dep) {
                    needed.push((dep.clone(), format!("the `{name}` script")));
                }
            }
        }
    }
    DevDependencies {
        listed: Some(listed),
        needed_at_run_time: needed,
    }
}

/// True if `source` loads package `dep` (or a file inside it).
fn requires(source: &str, dep: &str) -> bool {
    for q in ['\'', '"', '`'] {
        for prefix in ["require(", "from ", "import ", "import("] {
            for tail in [q.to_string(), "/".to_string()] {
                let needle = format!("{prefix}{q}{dep}{tail}");
                if source.contains(&needle) {
                    return true;
                }
            }
        }
    }
    false
}

/// JavaScript files of the app, skipping dependencies, tests and build-tool
/// configuration (which legitimately use devDependencies).
fn collect_sources(root: &Path, dir: &Path, depth: usize, out: &mut Vec<(String, String)>) {
    if depth > 6 || out.len() > 2000 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(|e| e.ok()).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        if path.is_dir() {
            if matches!(
                name.as_str(),
                "node_modules" | ".git" | "test" | "tests" | "__tests__" | "spec" | "coverage"
            ) {
                continue;
            }
            collect_sources(root, &path, depth + 1, out);
            continue;
        }
        let is_js = [".js", ".cjs", ".mjs", ".jsx"]
            .iter()
            .any(|ext| name.ends_with(ext));
        let is_tooling = name.contains(".test.")
            || name.contains(".spec.")
            || name.contains(".config.")
            || name.starts_with('.')
            || name.starts_with("Gruntfile")
            || name.starts_with("gulpfile");
        if !is_js || is_tooling {
            continue;
        }
        if let Ok(text) = std::fs::read_to_string(&path) {
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .to_string();
            out.push((rel, text));
        }
    }
}

/// The major version in a node image tag (`18-bookworm` → 18), if it has one.
pub fn major_version(tag: &str) -> Option<u32> {
    let digits: String = tag.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_requires() {
        assert!(requires("var b = require('body-parser');", "body-parser"));
        assert!(requires("import x from \"lodash/fp\";", "lodash"));
        assert!(!requires("require('body-parser-x')", "body-parser"));
    }

    #[test]
    fn bulletin_board_needs_its_dev_dependencies() {
        let ctx = BuildContext::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/corpus/apps/node-bulletin-board"
        ));
        let deps = dev_dependencies(Some(&ctx), &["start".to_string()]);
        let names: Vec<&str> = deps
            .needed_at_run_time
            .iter()
            .map(|(d, _)| d.as_str())
            .collect();
        assert!(names.contains(&"body-parser"), "{names:?}");
        assert!(names.contains(&"errorhandler"));
        assert!(names.contains(&"method-override"));
    }
}
