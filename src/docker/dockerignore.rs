//! Docker's `.dockerignore` semantics, ported from moby/patternmatcher and its `ignorefile`
//! reader, which both the classic builder and BuildKit use.
//!
//! These are **not** gitignore's rules:
//! - a pattern is matched against the *whole* path relative to the context root, so `*.log`
//!   matches `app.log` but not `logs/app.log` (gitignore would match both), and `foo` matches
//!   only the top-level `foo`; use `**/*.log` to match at any depth;
//! - a pattern that matches a directory excludes everything below it;
//! - patterns are cleaned like Go's `filepath.Clean` and a leading `/` is dropped, so `/foo`,
//!   `foo/` and `./foo` are all `foo` (a trailing `/` does *not* mean "directories only");
//! - `!pattern` re-includes, and the last matching pattern wins;
//! - only lines that *start* with `#` are comments; blank lines are ignored and surrounding
//!   whitespace is trimmed;
//! - `*` and `?` never match `/`; `**` matches any number of directories (including none);
//!   `[...]`/`[^...]` classes and `\` escapes work as in Go's `filepath.Match`.
//!
//! Matching follows the directory walk Docker does (`MatchesUsingParentResults`): each path
//! component is matched in turn and a pattern that matched a parent directory counts as
//! matching everything below it.
//!
//! A malformed pattern (e.g. `[` or a trailing `\`) makes `docker build` fail; here it is
//! reported by [`DockerIgnore::errors`] and never matches.

use std::io;
use std::path::{Path, PathBuf};

use regex::Regex;

/// The name of the ignore file at the context root.
pub const DOCKERIGNORE_FILE: &str = ".dockerignore";

/// A parsed `.dockerignore`.
#[derive(Debug, Clone, Default)]
pub struct DockerIgnore {
    patterns: Vec<Pattern>,
    errors: Vec<PatternError>,
    /// Where the patterns came from, when read from disk.
    source: Option<PathBuf>,
}

/// One usable pattern line.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// 1-based line number in the ignore file.
    pub line: usize,
    /// The line as written, trimmed (e.g. `!/docs/README.md `→`!/docs/README.md`).
    pub text: String,
    /// The cleaned pattern Docker matches, without the `!` (e.g. `docs/README.md`).
    pub pattern: String,
    /// `true` for `!` lines, which re-include what earlier lines excluded.
    pub exception: bool,
    matcher: Matcher,
}

/// A pattern line that `docker build` would reject.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    #[error("line {line}: illegal exclusion pattern \"!\"")]
    LoneExclamation { line: usize },
    #[error("line {line}: syntax error in pattern `{pattern}`")]
    BadPattern { line: usize, pattern: String },
}

/// How a compiled pattern is matched; mirrors patternmatcher's `matchType` so the quirks of
/// its fast paths (e.g. `**foo` matching `barfoo`) are reproduced exactly.
#[derive(Debug, Clone)]
enum Matcher {
    /// No wildcard: the path must equal the pattern.
    Exact,
    /// `literal/**`: the path must start with the literal part (`literal/`).
    Prefix,
    /// `**` followed by a wildcard-free rest: the path must end with the rest.
    Suffix,
    Regex(Regex),
}

/// Per-pattern match results of a directory, carried to its children during a walk (Docker's
/// `MatchInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatchInfo {
    parent_matched: Vec<bool>,
}

impl DockerIgnore {
    /// Parses the text of a `.dockerignore` file. Never fails: unusable lines are reported by
    /// [`errors`](Self::errors).
    pub fn parse(text: &str) -> Self {
        let mut ignore = DockerIgnore::default();
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (index, raw_line) in text.split('\n').enumerate() {
            let line = index + 1;
            let raw_line = raw_line.strip_suffix('\r').unwrap_or(raw_line);
            // Only a `#` in the first column starts a comment (checked before trimming).
            if raw_line.starts_with('#') {
                continue;
            }
            let trimmed = raw_line.trim();
            if trimmed.is_empty() {
                continue;
            }
            // ignorefile.ReadAll: split off `!`, clean, drop a leading `/`, put `!` back.
            let (exception, rest) = match trimmed.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, trimmed),
            };
            let mut normalized = if rest.is_empty() {
                String::new()
            } else {
                let cleaned = go_clean(rest);
                match cleaned.strip_prefix('/') {
                    Some(relative) if !relative.is_empty() => relative.to_string(),
                    _ => cleaned,
                }
            };
            if exception {
                normalized.insert(0, '!');
            }
            // patternmatcher.New: clean again (the `!` included), then split off `!`.
            let cleaned = go_clean(&normalized);
            let (exception, pattern) = match cleaned.strip_prefix('!') {
                Some("") => {
                    ignore.errors.push(PatternError::LoneExclamation { line });
                    continue;
                }
                Some(rest) => (true, rest.to_string()),
                None => (false, cleaned),
            };
            match compile(&pattern) {
                Ok(matcher) => ignore.patterns.push(Pattern {
                    line,
                    text: trimmed.to_string(),
                    pattern,
                    exception,
                    matcher,
                }),
                Err(()) => ignore
                    .errors
                    .push(PatternError::BadPattern { line, pattern }),
            }
        }
        ignore
    }

    /// Reads `<context>/.dockerignore`; a missing file gives an empty set (nothing excluded,
    /// [`is_present`](Self::is_present) is `false`).
    pub fn from_dir(context: &Path) -> io::Result<Self> {
        Self::from_file(&context.join(DOCKERIGNORE_FILE))
    }

    /// Like [`from_dir`](Self::from_dir), but prefers a Dockerfile-specific ignore file
    /// (`<dockerfile>.dockerignore` next to the Dockerfile), which BuildKit uses instead of
    /// the context's `.dockerignore` when it exists.
    pub fn for_dockerfile(context: &Path, dockerfile: &Path) -> io::Result<Self> {
        let mut specific = dockerfile.as_os_str().to_owned();
        specific.push(".dockerignore");
        let specific = PathBuf::from(specific);
        let specific = if specific.is_absolute() {
            specific
        } else {
            context.join(specific)
        };
        if specific.is_file() {
            Self::from_file(&specific)
        } else {
            Self::from_dir(context)
        }
    }

    fn from_file(path: &Path) -> io::Result<Self> {
        match std::fs::read(path) {
            Ok(bytes) => {
                let mut ignore = Self::parse(&String::from_utf8_lossy(&bytes));
                ignore.source = Some(path.to_path_buf());
                Ok(ignore)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(e),
        }
    }

    /// Whether the patterns were read from an existing file.
    pub fn is_present(&self) -> bool {
        self.source.is_some()
    }

    /// The file the patterns were read from, if any.
    pub fn source(&self) -> Option<&Path> {
        self.source.as_deref()
    }

    /// The usable patterns, in file order.
    pub fn patterns(&self) -> &[Pattern] {
        &self.patterns
    }

    /// Lines `docker build` would reject (the build fails on them).
    pub fn errors(&self) -> &[PatternError] {
        &self.errors
    }

    /// Whether any `!` exception pattern exists.
    pub fn has_exceptions(&self) -> bool {
        self.patterns.iter().any(|p| p.exception)
    }

    /// Whether `rel_path` (relative to the context root, `/`-separated) is left out of the
    /// build context. The context root itself (`""`, `.`) is never excluded.
    ///
    /// This is the answer for the path itself as Docker's walk computes it: a file inside an
    /// excluded directory is excluded unless a later `!` pattern matches it. (The `Dockerfile`
    /// and `.dockerignore` are still *sent* even when excluded, see
    /// [`crate::docker::context`], but `COPY` does not see them.)
    pub fn is_excluded(&self, rel_path: &str) -> bool {
        let path = clean_rel_path(rel_path);
        if path.is_empty() {
            return false;
        }
        let mut info = MatchInfo::default();
        let mut excluded = false;
        let mut end = 0;
        // Walk the path one component at a time, as Docker's directory walk does.
        for component in path.split('/') {
            end += component.len();
            let (matched, next) = self.matches_using_parent_results(&path[..end], &info);
            excluded = matched;
            info = next;
            end += 1; // the separator
        }
        excluded
    }

    /// The pattern that leaves `rel_path` out of the context, for explaining it: the last
    /// inclusion pattern that matches the path or one of its parent directories. None when
    /// the path is not excluded.
    pub fn excluded_by(&self, rel_path: &str) -> Option<&Pattern> {
        if !self.is_excluded(rel_path) {
            return None;
        }
        let path = clean_rel_path(rel_path);
        self.patterns.iter().rev().find(|pattern| {
            !pattern.exception
                && (pattern.matches(&path) || parent_dirs(&path).any(|dir| pattern.matches(dir)))
        })
    }

    /// Whether `dir` is excluded *and* no `!` pattern could re-include anything below it, so
    /// the whole tree is left out (what a "`.git` is excluded" check wants).
    pub fn excludes_tree(&self, dir: &str) -> bool {
        self.is_excluded(dir) && !self.might_reinclude_below(dir)
    }

    /// Whether some `!` pattern could match a path strictly below `dir`. Conservative: `true`
    /// unless the literal prefixes of all exception patterns rule it out. Docker walks into an
    /// excluded directory only in that case.
    pub fn might_reinclude_below(&self, dir: &str) -> bool {
        let dir = clean_rel_path(dir);
        let dir_slash = format!("{dir}/");
        self.patterns.iter().filter(|p| p.exception).any(|p| {
            let literal = literal_prefix(&p.pattern);
            literal.starts_with(&dir_slash) || dir_slash.starts_with(literal.as_str())
        })
    }

    /// One step of Docker's walk: the result for `path` given its parent directory's
    /// [`MatchInfo`] (use `MatchInfo::default()` at the top level). `path` must be cleaned and
    /// relative. Returns whether `path` is excluded and the info to pass to its children.
    pub fn matches_using_parent_results(
        &self,
        path: &str,
        parent: &MatchInfo,
    ) -> (bool, MatchInfo) {
        let have_parent =
            parent.parent_matched.len() == self.patterns.len() && !self.patterns.is_empty();
        let mut matched = false;
        let mut info = MatchInfo {
            parent_matched: vec![false; self.patterns.len()],
        };
        for (i, pattern) in self.patterns.iter().enumerate() {
            let mut hit = have_parent && parent.parent_matched[i];
            if !hit {
                // An inclusion cannot change an already excluded path, nor an exception an
                // included one: skip (and, as Docker does, record "no match" for children).
                if pattern.exception != matched {
                    continue;
                }
                hit = pattern.matches(path);
                if !hit && !have_parent {
                    // No walk information: check the parent directories directly.
                    hit = parent_dirs(path).any(|dir| pattern.matches(dir));
                }
            }
            info.parent_matched[i] = hit;
            if hit {
                matched = !pattern.exception;
            }
        }
        (matched, info)
    }
}

impl Pattern {
    /// Whether this single pattern matches `path` exactly (no parent-directory logic).
    pub fn matches(&self, path: &str) -> bool {
        match &self.matcher {
            Matcher::Exact => path == self.pattern,
            Matcher::Prefix => path.starts_with(&self.pattern[..self.pattern.len() - 2]),
            Matcher::Suffix => {
                let suffix = &self.pattern[2..];
                path.ends_with(suffix) || suffix.strip_prefix('/').is_some_and(|rest| path == rest)
            }
            Matcher::Regex(re) => re.is_match(path),
        }
    }
}

/// The proper parent directories of `path`, shortest first (`a/b/c` → `a`, `a/b`).
fn parent_dirs(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/').map(move |(i, _)| &path[..i])
}

/// Cleans a context-relative path for matching: `./a//b/` → `a/b`, `.`/`` → ``.
fn clean_rel_path(path: &str) -> String {
    let cleaned = go_clean(path);
    let cleaned = cleaned.trim_start_matches('/');
    if cleaned == "." {
        String::new()
    } else {
        cleaned.to_string()
    }
}

/// The part of a pattern before its first wildcard, escape or class.
fn literal_prefix(pattern: &str) -> String {
    pattern
        .chars()
        .take_while(|c| !matches!(c, '*' | '?' | '[' | ']' | '\\'))
        .collect()
}

/// Go's `filepath.Clean` for `/`-separated paths.
pub(crate) fn go_clean(path: &str) -> String {
    if path.is_empty() {
        return ".".to_string();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|last| *last != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// Compiles a cleaned pattern the way patternmatcher's `Pattern.compile` does, after checking
/// it with `filepath.Match`'s syntax rules.
fn compile(pattern: &str) -> Result<Matcher, ()> {
    #[derive(PartialEq, Clone, Copy)]
    enum Kind {
        Exact,
        Prefix,
        Suffix,
        Regex,
    }
    let chars: Vec<char> = pattern.chars().collect();
    let mut regex = String::from("^");
    let mut kind = Kind::Exact;
    let mut i = 0;
    let mut step = 0;
    while i < chars.len() {
        let ch = chars[i];
        i += 1;
        match ch {
            '*' if chars.get(i) == Some(&'*') => {
                i += 1;
                // `**/` is treated as `**`.
                if chars.get(i) == Some(&'/') {
                    i += 1;
                }
                if i == chars.len() {
                    // Trailing `**` matches everything below (as in .gitignore).
                    if kind == Kind::Exact {
                        kind = Kind::Prefix;
                    } else {
                        regex.push_str(".*");
                        kind = Kind::Regex;
                    }
                } else {
                    // Any number of directories, including none.
                    regex.push_str("(.*/)?");
                    kind = Kind::Regex;
                }
                if step == 0 {
                    kind = Kind::Suffix;
                }
            }
            '*' => {
                regex.push_str("[^/]*");
                kind = Kind::Regex;
            }
            '?' => {
                regex.push_str("[^/]");
                kind = Kind::Regex;
            }
            '\\' => {
                // `\x` is a literal x; a trailing `\` is a syntax error.
                let escaped = *chars.get(i).ok_or(())?;
                i += 1;
                push_literal(&mut regex, escaped);
                kind = Kind::Regex;
            }
            '[' => {
                i = push_class(&mut regex, &chars, i)?;
                kind = Kind::Regex;
            }
            ']' => {
                regex.push_str("\\]");
                kind = Kind::Regex;
            }
            // Go leaves `^` unescaped: an anchor in mid-pattern, which never matches.
            '^' => regex.push('^'),
            other => push_literal(&mut regex, other),
        }
        step += 1;
    }
    Ok(match kind {
        Kind::Exact => Matcher::Exact,
        Kind::Prefix => Matcher::Prefix,
        Kind::Suffix => Matcher::Suffix,
        Kind::Regex => {
            regex.push('$');
            // Inverted ranges such as `[z-a]` fail here, as they do in Go's regexp.
            Matcher::Regex(Regex::new(&regex).map_err(|_| ())?)
        }
    })
}

fn push_literal(regex: &mut String, ch: char) {
    let mut buf = [0u8; 4];
    regex.push_str(&regex::escape(ch.encode_utf8(&mut buf)));
}

/// Parses a `filepath.Match` character class starting after its `[` and appends an equivalent
/// regex class (members escaped, so Rust's class set operators never apply). Returns the
/// index after the closing `]`.
fn push_class(regex: &mut String, chars: &[char], mut i: usize) -> Result<usize, ()> {
    regex.push('[');
    if chars.get(i) == Some(&'^') {
        regex.push('^');
        i += 1;
    }
    let mut ranges = 0;
    loop {
        match chars.get(i) {
            None => return Err(()),
            Some(']') if ranges > 0 => {
                regex.push(']');
                return Ok(i + 1);
            }
            Some(_) => {}
        }
        let (lo, next) = class_char(chars, i)?;
        push_class_member(regex, lo);
        i = next;
        if chars.get(i) == Some(&'-') {
            let (hi, next) = class_char(chars, i + 1)?;
            regex.push('-');
            push_class_member(regex, hi);
            i = next;
        }
        ranges += 1;
    }
}

/// One (possibly escaped) class member; a bare `-` or `]` here is a syntax error (Go's
/// `getEsc`).
fn class_char(chars: &[char], i: usize) -> Result<(char, usize), ()> {
    match chars.get(i) {
        None | Some('-') | Some(']') => Err(()),
        Some('\\') => chars.get(i + 1).map(|&c| (c, i + 2)).ok_or(()),
        Some(&c) => Ok((c, i + 1)),
    }
}

fn push_class_member(regex: &mut String, ch: char) {
    // Escape all ASCII punctuation (Rust accepts that, except for `<`/`>`, which are not special
    // in a class): `&&`, `--`, `~~` and `[` would otherwise be class set syntax in Rust.
    if ch.is_ascii_punctuation() && ch != '<' && ch != '>' {
        regex.push('\\');
    }
    regex.push(ch);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excluded(patterns: &str, path: &str) -> bool {
        let ignore = DockerIgnore::parse(patterns);
        assert!(ignore.errors().is_empty(), "{:?}", ignore.errors());
        ignore.is_excluded(path)
    }

    #[test]
    fn go_clean_matches_go() {
        for (input, want) in [
            ("", "."),
            ("abc", "abc"),
            ("abc/", "abc"),
            ("a//b", "a/b"),
            ("./a", "a"),
            ("a/./b", "a/b"),
            ("a/../b", "b"),
            ("a/..", "."),
            ("../a", "../a"),
            ("../../a/..", "../.."),
            ("/../a", "/a"),
            ("/", "/"),
            ("//", "/"),
            ("!/", "!"),
            ("abc/def/../ghi", "abc/ghi"),
        ] {
            assert_eq!(go_clean(input), want, "clean({input:?})");
        }
    }

    #[test]
    fn compiled_kinds_match_patternmatcher() {
        // (pattern, kind) from patternmatcher's compileTests.
        for (pattern, kind) in [
            ("*", "regex"),
            ("**", "suffix"),
            ("**/**", "regex"),
            ("dir/**", "prefix"),
            ("**/dir", "suffix"),
            ("**file", "suffix"),
            ("a[b-d]e", "regex"),
            (".*", "regex"),
            ("abc.def", "exact"),
            ("abc?def", "regex"),
            ("**/foo/bar", "suffix"),
            ("a(b)c/def", "exact"),
            ("a.|)$(}+{bc", "exact"),
        ] {
            let got = match compile(&go_clean(pattern)).unwrap() {
                Matcher::Exact => "exact",
                Matcher::Prefix => "prefix",
                Matcher::Suffix => "suffix",
                Matcher::Regex(_) => "regex",
            };
            assert_eq!(got, kind, "pattern {pattern:?}");
        }
    }

    #[test]
    fn compiled_regexes_match_patternmatcher() {
        for (pattern, want) in [
            ("*", r"^[^/]*$"),
            ("file*", r"^file[^/]*$"),
            ("a*/b", r"^a[^/]*/b$"),
            ("**/**", r"^(.*/)?.*$"),
            ("**/dir2/*", r"^(.*/)?dir2/[^/]*$"),
            ("**/dir2/**", r"^(.*/)?dir2/.*$"),
            ("**/file*txt", r"^(.*/)?file[^/]*txt$"),
            ("**/**/*.txt", r"^(.*/)?(.*/)?[^/]*\.txt$"),
            ("a[b-d]e", r"^a[b-d]e$"),
            (".*", r"^\.[^/]*$"),
            ("abc?def", r"^abc[^/]def$"),
        ] {
            match compile(pattern).unwrap() {
                Matcher::Regex(re) => assert_eq!(re.as_str(), want, "pattern {pattern:?}"),
                _ => panic!("{pattern:?} should compile to a regex"),
            }
        }
    }

    #[test]
    fn class_members_are_escaped_for_rust() {
        // `&&` and `~~` are set operators in Rust's regex classes, not in Go's.
        assert!(excluded("[&&]", "&"));
        assert!(excluded("[~~]", "~"));
        assert!(excluded("[[]", "["));
        assert!(!excluded("[[]", "a"));
    }

    #[test]
    fn walk_semantics_differ_from_checking_each_parent() {
        // Docker's walk does not re-check a skipped exception against parents, so `!a` after
        // `a/*` re-includes the directory `a` but not `a/b`.
        assert!(!excluded("a/*\n!a", "a"));
        assert!(excluded("a/*\n!a", "a/b"));
    }

    #[test]
    fn might_reinclude_below_uses_literal_prefixes() {
        let ignore = DockerIgnore::parse("docs\n!docs/README.md\nnode_modules\n!**/keep");
        assert!(ignore.might_reinclude_below("docs"));
        assert!(ignore.might_reinclude_below("node_modules")); // `**/keep` could match
        let ignore = DockerIgnore::parse("docs\nbuild\n!docs/README.md");
        assert!(!ignore.might_reinclude_below("build"));
        assert!(ignore.excludes_tree("build"));
        assert!(!ignore.excludes_tree("docs"));
    }
}
