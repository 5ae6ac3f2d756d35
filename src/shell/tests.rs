use super::*;

fn argv(c: &SimpleCommand) -> Vec<&str> {
    c.argv.iter().map(|w| w.text.as_str()).collect()
}

#[test]
fn splits_and_chain_with_ranges() {
    let text = "apt-get update && apt-get install -y curl | tee log; echo done";
    let s = analyze(text).unwrap();
    assert!(s.parse_ok);
    assert_eq!(s.commands.len(), 4);
    assert_eq!(argv(&s.commands[1]), ["apt-get", "install", "-y", "curl"]);
    for c in &s.commands {
        for w in &c.argv {
            assert_eq!(&text[w.range.clone()], w.text);
        }
    }
    assert_eq!(
        &text[s.commands[1].range.clone()],
        "apt-get install -y curl"
    );
    let seps: Vec<_> = s.commands.iter().map(|c| c.separator_after).collect();
    assert_eq!(
        seps,
        [
            Some(Separator::And),
            Some(Separator::Pipe),
            Some(Separator::Seq),
            None
        ]
    );
    assert!(s.commands[1].in_pipeline);
    assert!(!s.plain_and_chain);
    assert_eq!(s.range, 0..text.len());
}

#[test]
fn plain_and_chain_detection() {
    assert!(analyze("a && b | c && d").unwrap().plain_and_chain);
    assert!(!analyze("a || b").unwrap().plain_and_chain);
    assert!(!analyze("a && b &").unwrap().plain_and_chain);
    assert!(analyze("a && b &").unwrap().has_background);
    assert!(!analyze("a && b;").unwrap().plain_and_chain);
    assert!(!analyze("a && b # note").unwrap().plain_and_chain);
    assert_eq!(analyze("a && b # note").unwrap().trailing, "# note");
    assert!(!analyze("if a; then b; fi").unwrap().plain_and_chain);
    for text in [
        "if a; then b; fi",
        "for x in 1 2; do b; done",
        "while a; do b; done",
        "a && (b; c)",
        "{ a; b; }",
        "case $x in a) b;; esac",
    ] {
        let s = analyze(text).unwrap();
        assert_eq!(s.range, 0..text.len(), "{text}");
        assert_eq!(s.trailing, "", "{text}");
    }
    assert!(analyze("if a; then b; fi").unwrap().has_compound);
}

#[test]
fn byte_ranges_survive_multibyte_text() {
    let text = "echo 'héllo wörld' && apk add --no-cache curl";
    let s = analyze(text).unwrap();
    let apk = &s.find_commands(&["apk"], &["add"])[0];
    assert_eq!(&text[apk.range.clone()], "apk add --no-cache curl");
    assert_eq!(&text[s.commands[0].argv[1].range.clone()], "'héllo wörld'");
}

#[test]
fn wrappers_and_prefixes() {
    let s = analyze("set -eux; sudo -u root env DEBIAN_FRONTEND=noninteractive apt-get -qq install -y x && python3 -m pip install --no-cache-dir y && DEBUG=1 /usr/local/bin/pip3 install z").unwrap();
    assert!(s.changes_shell_state);
    let apt = s.find_commands(&["apt-get"], &["install"]);
    assert_eq!(apt.len(), 1);
    assert_eq!(apt[0].matches(&["apt-get"], &["install"]), Some(2));
    let pip = s.find_commands(&["pip", "pip3"], &["install"]);
    assert_eq!(pip.len(), 2);
    assert!(pip[0].has_flag("--no-cache-dir", &[]));
    assert!(!pip[1].has_flag("--no-cache-dir", &[]));
    assert_eq!(pip[1].assignments[0].text, "DEBUG=1");
    assert_eq!(pip[1].program().as_deref(), Some("pip3"));
}

#[test]
fn flags() {
    let s =
        analyze("apt-get install -qy --no-install-recommends -o APT::Install-Suggests=0 x -- -z")
            .unwrap();
    let c = &s.commands[0];
    assert!(c.has_flag("-y", &[]));
    assert!(c.has_flag("-q", &[]));
    assert!(c.has_flag("--no-install-recommends", &[]));
    assert!(c.has_flag("--yes", &["-o APT::Install-Suggests=0".to_string()]));
    assert!(!c.has_flag("-z", &[]));
    assert!(!c.has_flag("--yes", &[]));
    let s = analyze("pip install --cache-dir=/tmp x").unwrap();
    assert!(s.commands[0].has_flag("--cache-dir", &[]));
    assert_eq!(
        s.commands[0]
            .operands_after(1)
            .iter()
            .map(|w| w.text.as_str())
            .collect::<Vec<_>>(),
        ["x"]
    );
}

#[test]
fn nested_commands_are_found_with_depth() {
    let s = analyze("if [ -f x ]; then cd /app && npm install; fi").unwrap();
    let npm = s.find_commands(&["npm"], &["install"]);
    assert_eq!(npm.len(), 1);
    assert_eq!(npm[0].depth, 1);
    assert!(s.changes_shell_state);
    let s = analyze("(cd /x && make)").unwrap();
    assert!(s.changes_shell_state && s.has_compound);
}

#[test]
fn fallback_on_unparseable_text() {
    let s = analyze("echo $(( && apt-get install curl").unwrap();
    assert!(!s.parse_ok);
    assert!(!s.plain_and_chain);
    let apt = s.find_commands(&["apt-get"], &["install"]);
    assert_eq!(apt.len(), 1);
    assert_eq!(argv(apt[0]), ["apt-get", "install", "curl"]);
    assert!(analyze("   ").is_none());
}

proptest::proptest! {
    /// Any text: no panic, and every range lies on char boundaries inside it.
    #[test]
    fn ranges_are_always_valid(text in "[a-z12 \\\\'\"&|;()$<>#é{}\n-]{0,40}") {
        if let Some(s) = analyze(&text) {
            proptest::prop_assert!(s.range.start <= s.range.end && s.range.end <= text.len());
            proptest::prop_assert!(text.is_char_boundary(s.range.start) && text.is_char_boundary(s.range.end));
            for c in &s.commands {
                proptest::prop_assert!(text.get(c.range.clone()).is_some());
                for r in &c.redirects {
                    proptest::prop_assert!(text.get(r.clone()).is_some());
                    proptest::prop_assert!(c.range.start <= r.start && r.end <= c.range.end);
                }
                for w in c.argv.iter().chain(&c.assignments) {
                    proptest::prop_assert_eq!(text.get(w.range.clone()), Some(w.text.as_str()));
                }
            }
        }
    }
}

#[test]
fn fallback_handles_multibyte_escapes() {
    let text = "echo \\é $(( \\";
    let s = analyze(text).unwrap();
    assert!(!s.parse_ok);
    for c in &s.commands {
        for w in &c.argv {
            assert_eq!(&text[w.range.clone()], w.text);
        }
    }
}

/// The text of each command's range and of its redirections.
fn extents(text: &str) -> Vec<(&str, Vec<&str>)> {
    let s = analyze(text).unwrap();
    assert!(s.parse_ok, "{text}");
    s.commands
        .iter()
        .map(|c| {
            (
                &text[c.range.clone()],
                c.redirects.iter().map(|r| &text[r.clone()]).collect(),
            )
        })
        .collect()
}

#[test]
fn command_ranges_include_redirections() {
    assert_eq!(
        extents("echo x > /etc/foo"),
        [("echo x > /etc/foo", vec!["> /etc/foo"])]
    );
    assert_eq!(
        extents("cat a >> b 2>&1"),
        [("cat a >> b 2>&1", vec![">> b", "2>&1"])]
    );
    assert_eq!(
        extents("a && echo x 2>/dev/null | tee y >/dev/null; b"),
        [
            ("a", vec![]),
            ("echo x 2>/dev/null", vec!["2>/dev/null"]),
            ("tee y >/dev/null", vec![">/dev/null"]),
            ("b", vec![]),
        ]
    );
    // Before the program, between the words, here-strings, `&>`, fds by name.
    assert_eq!(
        extents(">log 2>&1 FOO=1 cmd <in arg <<< \"here str\" &>> all {fd}>&-"),
        [(
            ">log 2>&1 FOO=1 cmd <in arg <<< \"here str\" &>> all {fd}>&-",
            vec![
                ">log",
                "2>&1",
                "<in",
                "<<< \"here str\"",
                "&>> all",
                "{fd}>&-"
            ]
        )]
    );
    assert_eq!(
        extents("diff <(sort a) >(cat) > out"),
        [(
            "diff <(sort a) >(cat) > out",
            vec!["<(sort a)", ">(cat)", "> out"]
        )]
    );
    // A bare redirection is a command of its own.
    assert_eq!(extents(": && >/x"), [(":", vec![]), (">/x", vec![">/x"])]);
    assert_eq!(extents("then=1 >x a"), [("then=1 >x a", vec![">x"])]);
    // In compound commands: the script ends after the group's redirection.
    let text = "if a; then b >x; fi >y";
    assert_eq!(extents(text), [("a", vec![]), ("b >x", vec![">x"])]);
    let s = analyze(text).unwrap();
    assert_eq!((s.range.clone(), s.trailing.as_str()), (0..text.len(), ""));
    let s = analyze("{ a; b; } > log 2>&1 && c").unwrap();
    assert!(s.trailing.is_empty() && s.has_compound);
}

#[test]
fn bash_redirections_that_sh_reads_differently() {
    // dash reads `a &> f` as `a &` and `> f`.
    for text in ["a &> f", "a &>> f && b", "{ a; } &>/dev/null"] {
        let s = analyze(text).unwrap();
        assert!(s.has_background && !s.plain_and_chain, "{text}");
    }
    assert!(!analyze("a >f 2>&1 && b >&2").unwrap().has_background);
    // `{fd}>x` sets a variable and keeps the descriptor open.
    assert!(analyze("a {fd}>x").unwrap().changes_shell_state);
    assert!(!analyze("a 3>x").unwrap().changes_shell_state);
}

#[test]
fn redirections_fix_separators_and_the_script_end() {
    let s = analyze("apt-get update > /dev/null && apt-get install -y x 2>&1 | tee log").unwrap();
    assert!(s.plain_and_chain);
    let seps: Vec<_> = s.commands.iter().map(|c| c.separator_after).collect();
    assert_eq!(seps, [Some(Separator::And), Some(Separator::Pipe), None]);
    let text = "echo x >> /etc/foo";
    let s = analyze(text).unwrap();
    assert_eq!((s.range.clone(), s.trailing.as_str()), (0..text.len(), ""));
    assert!(s.plain_and_chain);
    // A comment after a redirection stays out.
    assert_eq!(analyze("echo x > f # note").unwrap().trailing, "# note");
}

#[test]
fn here_documents_keep_the_command_words() {
    let text = "cat <<EOF\nbody\nEOF\n";
    let s = analyze(text).unwrap();
    assert_eq!(&text[s.commands[0].range.clone()], "cat");
    assert!(!s.trailing.is_empty());
}

#[test]
fn text_before_program_leaves_redirections_out() {
    let text =
        "2>/dev/null DEBIAN_FRONTEND=noninteractive >log sudo apt-get install -y x >/dev/null";
    let s = analyze(text).unwrap();
    assert_eq!(
        s.commands[0].text_before_program(text),
        "DEBIAN_FRONTEND=noninteractive sudo "
    );
    let text = "X=1 apt-get install";
    let s = analyze(text).unwrap();
    assert_eq!(s.commands[0].text_before_program(text), "X=1 ");
}

#[test]
fn unquoting() {
    assert_eq!(unquote(r#"'a b'"c"\-d"#), "a bc-d");
    let s = analyze(r#""apt-get" 'install' -y x"#).unwrap();
    assert_eq!(s.commands[0].matches(&["apt-get"], &["install"]), Some(1));
}

#[test]
fn deep_nesting_degrades_to_the_fallback_without_overflowing() {
    // Depths BuildKit accepts; brush-parser would overflow the stack on them.
    let texts = [
        format!("{}true{}", "{ ".repeat(1515), "; }".repeat(1515)),
        format!("echo {}true{}", "$( ".repeat(7000), " )".repeat(7000)),
        format!(
            "{}true{}",
            "if true; then ".repeat(5000),
            "; fi".repeat(5000)
        ),
        format!(
            "{}true{}",
            "while a; do ".repeat(3000),
            "; done".repeat(3000)
        ),
        format!("echo {}x{}", "\"$(".repeat(3000), ")\"".repeat(3000)),
    ];
    for text in &texts {
        let script = analyze(text).unwrap();
        assert!(!script.parse_ok, "{}", &text[..40]);
    }
}

#[test]
fn nesting_below_the_limit_is_parsed_on_a_bigger_stack() {
    let n = MAX_NESTING - 2;
    let text = format!(
        "{}apt-get install -y curl{}",
        "{ ".repeat(n),
        "; }".repeat(n)
    );
    assert!(nesting_depth(&text) > limits::INLINE_NESTING);
    let script = analyze(&text).unwrap();
    assert!(script.parse_ok);
    let install = script.find_commands(&["apt-get"], &["install"]);
    assert_eq!(install.len(), 1);
    assert_eq!(install[0].depth, n);
}
