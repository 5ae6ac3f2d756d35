//! `.dockerignore` semantics: the moby/patternmatcher test tables, ported, and the places
//! where Docker's rules differ from gitignore's (which is what people usually expect).

use dopt::docker::dockerignore::{DockerIgnore, PatternError};

fn ignore(patterns: &[&str]) -> DockerIgnore {
    let ignore = DockerIgnore::parse(&patterns.join("\n"));
    assert!(
        ignore.errors().is_empty(),
        "patterns {patterns:?}: {:?}",
        ignore.errors()
    );
    ignore
}

fn excluded(patterns: &[&str], path: &str) -> bool {
    ignore(patterns).is_excluded(path)
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Expect {
    /// The pattern matches the path itself.
    Exact,
    /// The pattern does not match the path, but matches a parent directory of it.
    Inexact,
    Fail,
}
use Expect::*;

/// patternmatcher_test.go `TestMatches` (non-Windows cases).
const MATCHES: &[(&str, &str, Expect)] = &[
    ("**", "file", Exact),
    ("**", "file/", Exact),
    ("**/", "file", Exact),
    ("**/", "file/", Exact),
    ("**", "/", Exact),
    ("**/", "/", Exact),
    ("**", "dir/file", Exact),
    ("**/", "dir/file", Exact),
    ("**", "dir/file/", Exact),
    ("**/", "dir/file/", Exact),
    ("**/**", "dir/file", Exact),
    ("**/**", "dir/file/", Exact),
    ("dir/**", "dir/file", Exact),
    ("dir/**", "dir/file/", Exact),
    ("dir/**", "dir/dir2/file", Exact),
    ("dir/**", "dir/dir2/file/", Exact),
    ("**/dir", "dir", Exact),
    ("**/dir", "dir/file", Inexact),
    ("**/dir2/*", "dir/dir2/file", Exact),
    ("**/dir2/*", "dir/dir2/file/", Inexact),
    ("**/dir2/**", "dir/dir2/dir3/file", Exact),
    ("**/dir2/**", "dir/dir2/dir3/file/", Exact),
    ("**file", "file", Exact),
    ("**file", "dir/file", Exact),
    ("**/file", "dir/file", Exact),
    ("**file", "dir/dir/file", Exact),
    ("**/file", "dir/dir/file", Exact),
    ("**/file*", "dir/dir/file", Exact),
    ("**/file*", "dir/dir/file.txt", Exact),
    ("**/file*txt", "dir/dir/file.txt", Exact),
    ("**/file*.txt", "dir/dir/file.txt", Exact),
    ("**/file*.txt*", "dir/dir/file.txt", Exact),
    ("**/**/*.txt", "dir/dir/file.txt", Exact),
    ("**/**/*.txt2", "dir/dir/file.txt", Fail),
    ("**/*.txt", "file.txt", Exact),
    ("**/**/*.txt", "file.txt", Exact),
    ("a**/*.txt", "a/file.txt", Exact),
    ("a**/*.txt", "a/dir/file.txt", Exact),
    ("a**/*.txt", "a/dir/dir/file.txt", Exact),
    ("a/*.txt", "a/dir/file.txt", Fail),
    ("a/*.txt", "a/file.txt", Exact),
    ("a/*.txt**", "a/file.txt", Exact),
    ("a[b-d]e", "ae", Fail),
    ("a[b-d]e", "ace", Exact),
    ("a[b-d]e", "aae", Fail),
    ("a[^b-d]e", "aze", Exact),
    (".*", ".foo", Exact),
    (".*", "foo", Fail),
    ("abc.def", "abcdef", Fail),
    ("abc.def", "abc.def", Exact),
    ("abc.def", "abcZdef", Fail),
    ("abc?def", "abcZdef", Exact),
    ("abc?def", "abcdef", Fail),
    ("**/foo/bar", "foo/bar", Exact),
    ("**/foo/bar", "dir/foo/bar", Exact),
    ("**/foo/bar", "dir/dir2/foo/bar", Exact),
    ("abc/**", "abc", Fail),
    ("abc/**", "abc/def", Exact),
    ("abc/**", "abc/def/ghi", Exact),
    ("**/.foo", ".foo", Exact),
    ("**/.foo", "bar.foo", Fail),
    ("a(b)c/def", "a(b)c/def", Exact),
    ("a(b)c/def", "a(b)c/xyz", Fail),
    ("a.|)$(}+{bc", "a.|)$(}+{bc", Exact),
    (
        "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
        "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
        Exact,
    ),
    (
        "dist/*.whl",
        "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
        Exact,
    ),
    ("a\\\\", "a\\", Exact),
    ("a\\*b", "a*b", Exact),
];

#[test]
fn patternmatcher_matches_exact() {
    for &(pattern, text, expect) in MATCHES {
        let ignore = ignore(&[pattern]);
        let got = ignore.patterns()[0].matches(text);
        assert_eq!(got, expect == Exact, "pattern {pattern:?} text {text:?}");
    }
}

#[test]
fn patternmatcher_matches_or_parent_matches() {
    for &(pattern, text, expect) in MATCHES {
        if text.trim_matches('/').is_empty() {
            continue; // the context root is never excluded
        }
        assert_eq!(
            excluded(&[pattern], text),
            expect != Fail,
            "pattern {pattern:?} text {text:?}"
        );
    }
}

#[test]
fn patternmatcher_multi_pattern_cases() {
    let whl = "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl";
    assert!(!excluded(
        &["**", "!util/docker/web"],
        "util/docker/web/foo"
    ));
    assert!(excluded(
        &["**", "!util/docker/web", "util/docker/web/foo"],
        "util/docker/web/foo"
    ));
    assert!(!excluded(&["**", &format!("!{whl}")], whl));
    assert!(!excluded(&["**", "!dist/*.whl"], whl));
}

/// The small `Matches` tests at the top of patternmatcher_test.go.
#[test]
fn patternmatcher_simple_cases() {
    assert!(excluded(&["*"], "fileutils.go"));
    assert!(excluded(&["*.go"], "fileutils.go"));
    assert!(excluded(&["!fileutils.go", "*.go"], "fileutils.go"));
    assert!(!excluded(&["docs", "!docs/README.md"], "docs/README.md"));
    assert!(!excluded(&["docs/", "!docs/README.md"], "docs/README.md"));
    assert!(!excluded(&["docs/*", "!docs/README.md"], "docs/README.md"));
    assert!(!excluded(&["*.go", "!fileutils.go"], "fileutils.go"));
    assert!(!excluded(&["*.go"], "."));
    assert!(!excluded(&[], "any/path/there"));
}

/// go's filepath.Match tests as run by patternmatcher's `TestMatch` (through `Matches`, i.e.
/// with parent-directory matching).
#[test]
fn go_filepath_match_table() {
    let cases: &[(&str, &str, bool)] = &[
        ("abc", "abc", true),
        ("*", "abc", true),
        ("*c", "abc", true),
        ("a*", "a", true),
        ("a*", "abc", true),
        ("a*", "ab/c", true),
        ("a*/b", "abc/b", true),
        ("a*/b", "a/c/b", false),
        ("a*b*c*d*e*/f", "axbxcxdxe/f", true),
        ("a*b*c*d*e*/f", "axbxcxdxexxx/f", true),
        ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false),
        ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", false),
        ("a*b?c*x", "abxbbxdbxebxczzx", true),
        ("a*b?c*x", "abxbbxdbxebxczzy", false),
        ("ab[c]", "abc", true),
        ("ab[b-d]", "abc", true),
        ("ab[e-g]", "abc", false),
        ("ab[^c]", "abc", false),
        ("ab[^b-d]", "abc", false),
        ("ab[^e-g]", "abc", true),
        ("a\\*b", "a*b", true),
        ("a\\*b", "ab", false),
        ("a?b", "a☺b", true),
        ("a[^a]b", "a☺b", true),
        ("a???b", "a☺b", false),
        ("a[^a][^a][^a]b", "a☺b", false),
        ("[a-ζ]*", "α", true),
        ("*[a-ζ]", "A", false),
        ("a?b", "a/b", false),
        ("a*b", "a/b", false),
        ("[\\]a]", "]", true),
        ("[\\-]", "-", true),
        ("[x\\-]", "x", true),
        ("[x\\-]", "-", true),
        ("[x\\-]", "z", false),
        ("[\\-x]", "x", true),
        ("[\\-x]", "-", true),
        ("[\\-x]", "a", false),
        ("*x", "xxx", true),
    ];
    for &(pattern, text, want) in cases {
        assert_eq!(
            excluded(&[pattern], text),
            want,
            "pattern {pattern:?} text {text:?}"
        );
    }
}

#[test]
fn malformed_patterns_are_errors_and_never_match() {
    for pattern in [
        "[]a]", "[-]", "[x-]", "[-x]", "\\", "[a-b-c]", "[", "[^", "[^bc", "a[", "[z-a]",
    ] {
        let ignore = DockerIgnore::parse(pattern);
        assert!(
            matches!(ignore.errors(), [PatternError::BadPattern { line: 1, .. }]),
            "pattern {pattern:?}: {:?}",
            ignore.errors()
        );
        assert!(ignore.patterns().is_empty());
        assert!(!ignore.is_excluded("a"));
    }
    // patternmatcher's regression case: passes filepath.Match but not regexp compilation.
    assert_eq!(DockerIgnore::parse("[Local-Only]/").errors().len(), 1);
    let lone = DockerIgnore::parse("ok\n!\n");
    assert_eq!(lone.errors(), &[PatternError::LoneExclamation { line: 2 }]);
    assert_eq!(lone.patterns().len(), 1);
}

/// ignorefile_test.go `TestReadAll`, plus BOM and CRLF handling.
#[test]
fn reading_the_file() {
    let content =
        "test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n!\n! ";
    let ignore = DockerIgnore::parse(content);
    let got: Vec<String> = ignore
        .patterns()
        .iter()
        .map(|p| format!("{}{}", if p.exception { "!" } else { "" }, p.pattern))
        .collect();
    assert_eq!(
        got,
        [
            "test1",
            "test2",
            "a/file/here",
            "lastfile",
            "!inverted/abs/path"
        ]
    );
    // The two lone `!` lines are what `docker build` rejects.
    assert_eq!(
        ignore.errors(),
        &[
            PatternError::LoneExclamation { line: 8 },
            PatternError::LoneExclamation { line: 9 }
        ]
    );
    assert_eq!(ignore.patterns()[4].line, 7);
    assert_eq!(ignore.patterns()[4].text, "! /inverted/abs/path");

    let crlf = DockerIgnore::parse("\u{feff}node_modules\r\n  *.log  \r\n");
    assert!(crlf.is_excluded("node_modules/x/index.js"));
    assert!(crlf.is_excluded("app.log"));
}

// ---- Where Docker differs from gitignore -------------------------------------------------

#[test]
fn patterns_are_anchored_at_the_context_root() {
    // gitignore: `*.log` matches at any depth. Docker: only at the top level.
    assert!(excluded(&["*.log"], "app.log"));
    assert!(!excluded(&["*.log"], "a/b.log"));
    assert!(!excluded(&["*.log"], "logs/app.log"));
    // gitignore: `foo` matches `foo` anywhere. Docker: only the top-level `foo`.
    assert!(excluded(&["node_modules"], "node_modules"));
    assert!(!excluded(&["node_modules"], "web/node_modules"));
    assert!(!excluded(
        &["node_modules"],
        "web/node_modules/react/index.js"
    ));
    // `**/` is needed to match at any depth (and also matches at the top).
    assert!(excluded(&["**/*.log"], "a/b.log"));
    assert!(excluded(&["**/*.log"], "b.log"));
    assert!(excluded(
        &["**/node_modules"],
        "web/node_modules/react/index.js"
    ));
}

#[test]
fn a_matched_directory_excludes_everything_below() {
    assert!(excluded(&[".git"], ".git/objects/ab/cdef"));
    assert!(excluded(&["build/*"], "build/out/deep/file.o"));
    // `*` does not cross `/`, but the match on `docs/api` covers its contents.
    assert!(excluded(&["docs/*"], "docs/api/index.html"));
    assert!(!excluded(&["docs/*"], "docs"));
}

#[test]
fn trailing_slash_is_cleaned_away_and_does_not_mean_directory_only() {
    // gitignore: `foo/` matches only directories. Docker: `foo/` is `foo`, file or not.
    assert!(excluded(&["foo/"], "foo"));
    assert!(excluded(&["foo/"], "foo/bar"));
    let ignore = ignore(&["foo/", "/bar", "./baz//qux/", "a/../c"]);
    let cleaned: Vec<&str> = ignore
        .patterns()
        .iter()
        .map(|p| p.pattern.as_str())
        .collect();
    assert_eq!(cleaned, ["foo", "bar", "baz/qux", "c"]);
}

#[test]
fn leading_slash_is_the_same_as_none() {
    assert!(excluded(&["/secret.txt"], "secret.txt"));
    assert!(!excluded(&["/secret.txt"], "a/secret.txt"));
}

#[test]
fn exceptions_and_last_match_wins() {
    // Re-include after exclude.
    assert!(!excluded(&["*.md", "!README.md"], "README.md"));
    assert!(excluded(&["*.md", "!README.md"], "CHANGES.md"));
    // Order matters: a later exclude overrides an earlier exception.
    assert!(excluded(&["!README.md", "*.md"], "README.md"));
    assert!(excluded(
        &["*.md", "!README*.md", "README-secret.md"],
        "README-secret.md"
    ));
    assert!(!excluded(
        &["*.md", "!README*.md", "README-secret.md"],
        "README-public.md"
    ));
    // gitignore cannot re-include a file whose parent directory is excluded; Docker can.
    assert!(!excluded(&["docs", "!docs/keep.md"], "docs/keep.md"));
    assert!(excluded(&["docs", "!docs/keep.md"], "docs/other.md"));
    // Exclude everything, then allow-list.
    let allow = ["*", "!src", "!package.json"];
    assert!(!excluded(&allow, "src/index.js"));
    assert!(!excluded(&allow, "package.json"));
    assert!(excluded(&allow, "node_modules/x.js"));
    assert!(excluded(&allow, ".env"));
}

#[test]
fn double_star_matches_any_number_of_directories() {
    assert!(excluded(&["**/*.go"], "main.go"));
    assert!(excluded(&["**/*.go"], "cmd/app/main.go"));
    assert!(!excluded(&["**/*.go"], "cmd/app/main.go.txt"));
    assert!(excluded(&["src/**/test"], "src/test"));
    assert!(excluded(&["src/**/test"], "src/a/b/test/x.py"));
    assert!(!excluded(&["src/**/test"], "lib/src/test"));
    // patternmatcher's suffix fast path: `**foo` is "ends with foo".
    assert!(excluded(&["**foo"], "barfoo"));
}

#[test]
fn comments_blank_lines_and_whitespace() {
    let ignore = DockerIgnore::parse("# comment\n\n   \n  # not a comment: a pattern\n\t*.tmp \n");
    let texts: Vec<&str> = ignore
        .patterns()
        .iter()
        .map(|p| p.pattern.as_str())
        .collect();
    assert_eq!(texts, ["# not a comment: a pattern", "*.tmp"]);
    assert!(ignore.is_excluded("x.tmp"));
    assert!(ignore.is_excluded("# not a comment: a pattern"));
    // `\#` escapes are not needed for comments, but `#` in the middle is literal.
    assert!(excluded(&["a#b"], "a#b"));
}

#[test]
fn character_classes_and_escapes() {
    assert!(excluded(&["file[0-9].txt"], "file7.txt"));
    assert!(!excluded(&["file[0-9].txt"], "filex.txt"));
    assert!(excluded(&["file[^0-9].txt"], "filex.txt"));
    assert!(excluded(&["file?.txt"], "fileA.txt"));
    assert!(!excluded(&["file?.txt"], "file/.txt"));
    assert!(excluded(&["\\*.txt"], "*.txt"));
    assert!(!excluded(&["\\*.txt"], "a.txt"));
    assert!(excluded(&["\\[x\\]"], "[x]"));
}

#[test]
fn judging_what_a_dockerignore_covers() {
    let ignore = ignore(&[".git", "node_modules", "!node_modules/keep.txt", "*.log"]);
    assert!(ignore.excludes_tree(".git"));
    assert!(ignore.is_excluded("node_modules"));
    assert!(!ignore.excludes_tree("node_modules"));
    assert!(ignore.has_exceptions());
    assert!(!ignore.is_excluded("Dockerfile"));
    assert!(!DockerIgnore::parse("").is_present());
}

#[test]
fn from_dir_reads_the_file_and_tolerates_its_absence() {
    let dir = tempfile::tempdir().unwrap();
    let missing = DockerIgnore::from_dir(dir.path()).unwrap();
    assert!(!missing.is_present());
    assert!(!missing.is_excluded(".git"));
    std::fs::write(dir.path().join(".dockerignore"), ".git\n").unwrap();
    let present = DockerIgnore::from_dir(dir.path()).unwrap();
    assert!(present.is_present());
    assert!(present.is_excluded(".git/HEAD"));
    // BuildKit's per-Dockerfile ignore file takes precedence.
    std::fs::write(dir.path().join("Dockerfile.dev.dockerignore"), "*.md\n").unwrap();
    let specific = DockerIgnore::for_dockerfile(dir.path(), "Dockerfile.dev".as_ref()).unwrap();
    assert!(specific.is_excluded("README.md"));
    assert!(!specific.is_excluded(".git"));
    let generic = DockerIgnore::for_dockerfile(dir.path(), "Dockerfile".as_ref()).unwrap();
    assert!(generic.is_excluded(".git"));
}

#[test]
fn corpus_dockerignores_parse_cleanly() {
    let apps = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/apps");
    let mut seen = 0;
    for entry in std::fs::read_dir(apps).unwrap() {
        let dir = entry.unwrap().path();
        if dir.join(".dockerignore").is_file() {
            let ignore = DockerIgnore::from_dir(&dir).unwrap();
            assert!(
                ignore.errors().is_empty(),
                "{}: {:?}",
                dir.display(),
                ignore.errors()
            );
            assert!(!ignore.patterns().is_empty());
            seen += 1;
        }
    }
    assert!(seen >= 2, "expected the corpus apps with a .dockerignore");
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn segment() -> impl Strategy<Value = String> {
        prop::string::string_regex("[a-c.*?]{1,3}|\\*\\*|\\[[a-c^-]{1,3}\\]").unwrap()
    }

    fn pattern() -> impl Strategy<Value = String> {
        (
            prop::option::of(Just("/")),
            prop::collection::vec(segment(), 1..4),
            prop::option::of(Just("/")),
        )
            .prop_map(|(lead, parts, trail)| {
                format!(
                    "{}{}{}",
                    lead.unwrap_or(""),
                    parts.join("/"),
                    trail.unwrap_or("")
                )
            })
    }

    fn path() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop::string::string_regex("[a-c][a-c.]{0,2}").unwrap(),
            1..5,
        )
        .prop_map(|parts| parts.join("/"))
    }

    proptest! {
        /// Arbitrary text never panics, whatever it contains.
        #[test]
        fn arbitrary_input_never_panics(text in "\\PC{0,80}", path in "\\PC{0,40}") {
            let ignore = DockerIgnore::parse(&text);
            let _ = ignore.is_excluded(&path);
            let _ = ignore.might_reinclude_below(&path);
        }

        /// Without `!` exceptions, Docker's walk reduces to "some pattern matches the path or
        /// one of its parent directories".
        #[test]
        fn without_exceptions_a_match_on_any_parent_excludes(
            patterns in prop::collection::vec(pattern(), 1..4),
            path in path(),
        ) {
            let ignore = DockerIgnore::parse(&patterns.join("\n"));
            let mut prefixes: Vec<&str> = path.match_indices('/').map(|(i, _)| &path[..i]).collect();
            prefixes.push(&path);
            let naive = ignore.patterns().iter().any(|p| prefixes.iter().any(|dir| p.matches(dir)));
            prop_assert_eq!(ignore.is_excluded(&path), naive, "patterns {:?}", patterns);
        }

        /// An exception that names the path exactly, placed last, always re-includes it.
        #[test]
        fn a_final_exact_exception_wins(patterns in prop::collection::vec(pattern(), 0..4), path in path()) {
            let mut lines = patterns.clone();
            lines.push(format!("!{path}"));
            let ignore = DockerIgnore::parse(&lines.join("\n"));
            // Malformed earlier lines are dropped (and reported); the last line is valid.
            prop_assert!(!ignore.is_excluded(&path), "patterns {:?}", lines);
        }
    }
}
