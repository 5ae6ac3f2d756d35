//! Absolute-path arithmetic for container paths (always `/`-separated), as WORKDIR
//! and COPY resolve them.

/// Joins `path` onto the directory `cwd` and normalizes `.`, `..` and repeated or
/// trailing slashes. An absolute `path` ignores `cwd`.
pub fn resolve(cwd: &str, path: &str) -> String {
    crate::model::join_path(Some(cwd), path).expect("a base directory is given")
}

/// True if `path` is `dir` or lies below it (`/` contains everything).
pub fn inside(path: &str, dir: &str) -> bool {
    dir == "/"
        || path == dir
        || path
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Strips one layer of matching quotes, as Dockerfile words may carry them.
pub fn unquote(word: &str) -> &str {
    let w = word.trim();
    for q in ['"', '\''] {
        if w.len() >= 2 && w.starts_with(q) && w.ends_with(q) {
            return &w[1..w.len() - 1];
        }
    }
    w
}

/// Matches a path against a pattern whose last component may hold `*`.
pub fn glob_match(pattern: &str, path: &str) -> bool {
    crate::profiles::glob_captures(pattern, path).is_some_and(|caps| {
        // `*` must not cross a directory boundary.
        caps.iter().all(|c| !c.contains('/'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_relative_and_dots() {
        assert_eq!(resolve("/usr/src/app", "."), "/usr/src/app");
        assert_eq!(resolve("/usr/src/app", "./"), "/usr/src/app");
        assert_eq!(resolve("/app", "../x//y/"), "/x/y");
        assert_eq!(resolve("/app", "/opt/venv"), "/opt/venv");
        assert_eq!(resolve("/", "app"), "/app");
    }

    #[test]
    fn containment() {
        assert!(inside("/app/node_modules", "/app"));
        assert!(inside("/app", "/app"));
        assert!(!inside("/application", "/app"));
        assert!(inside("/x", "/"));
        assert!(glob_match("/app/target/*.jar", "/app/target/demo-1.0.jar"));
        assert!(!glob_match("/app/target/*.jar", "/app/target/x/y.jar"));
    }
}
