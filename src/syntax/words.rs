//! BuildKit's word-level helpers, applied to the logical line of an instruction.
//!
//! Each function mirrors one function of BuildKit's Dockerfile parser
//! (`frontend/dockerfile/parser`), and returns byte offsets into the text it was
//! given so that callers can map every word back to the source.

/// Go's `unicode.IsSpace`, which BuildKit uses for trimming.
pub fn is_go_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r' | ' ' | '\u{85}' | '\u{A0}'
    ) || (c as u32 > 0xff && c.is_whitespace())
}

/// The separators of BuildKit's `reWhitespace` (`[\t\v\f\r ]+`).
pub fn is_token_ws(b: u8) -> bool {
    matches!(b, b'\t' | 0x0B | 0x0C | b'\r' | b' ')
}

/// Go's `strings.TrimSpace`, as a byte range of `text`.
pub fn trim_space(text: &str, start: usize, end: usize) -> (usize, usize) {
    let slice = &text[start..end];
    let trimmed_start = slice.len() - slice.trim_start_matches(is_go_space).len();
    let trimmed = slice.trim_matches(is_go_space);
    let s = start + trimmed_start;
    (s, s + trimmed.len())
}

/// `reWhitespace.Split(text, -1)`: the words between runs of `[\t\v\f\r ]`, as
/// byte ranges of `text`. Callers pass trimmed text; like Go, leading or
/// trailing separators would give empty words.
pub fn split_token_ws(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut words = Vec::new();
    if text.is_empty() {
        return words;
    }
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if is_token_ws(bytes[i]) {
            words.push((start, i));
            while i < bytes.len() && is_token_ws(bytes[i]) {
                i += 1;
            }
            start = i;
        } else {
            i += 1;
        }
    }
    words.push((start, bytes.len()));
    words
}

/// `reWhitespace.Split(text, 2)`: the first word and the rest (if any).
pub fn split_token_ws2(text: &str) -> ((usize, usize), Option<(usize, usize)>) {
    let bytes = text.as_bytes();
    match bytes.iter().position(|&b| is_token_ws(b)) {
        None => ((0, text.len()), None),
        Some(i) => {
            let mut j = i;
            while j < bytes.len() && is_token_ws(bytes[j]) {
                j += 1;
            }
            ((0, i), Some((j, text.len())))
        }
    }
}

/// A word with its byte range in the text it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawWord {
    pub value: String,
    pub start: usize,
    pub end: usize,
}

/// BuildKit's `extractBuilderFlags`: the `--flag` words at the start of `line`,
/// and the offset where the remaining arguments start. Flag values lose their
/// quotes (BuildKit dumps them that way); `\` escapes the next byte.
pub fn extract_builder_flags(line: &str) -> (usize, Vec<RawWord>) {
    #[derive(PartialEq)]
    enum Phase {
        Spaces,
        Word,
        Quote,
    }
    let bytes = line.as_bytes();
    let mut words = Vec::new();
    let mut phase = Phase::Spaces;
    let mut word: Vec<u8> = Vec::new();
    let mut word_start = 0;
    let mut quote = 0u8;
    let mut blank_ok = false;
    let is_space = |b: u8| matches!(b, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ');
    let finish = |word: &mut Vec<u8>| String::from_utf8_lossy(&std::mem::take(word)).into_owned();
    let mut pos = 0;
    while pos <= bytes.len() {
        let ch = if pos < bytes.len() { bytes[pos] } else { 0 };
        if phase == Phase::Spaces {
            if pos == bytes.len() {
                break;
            }
            if is_space(ch) {
                pos += 1;
                continue;
            }
            if ch != b'-' || pos + 1 == bytes.len() || bytes[pos + 1] != b'-' {
                return (pos, words);
            }
            phase = Phase::Word;
            word_start = pos;
        }
        if pos == bytes.len() {
            if word != b"--" && (blank_ok || !word.is_empty()) {
                words.push(RawWord {
                    value: finish(&mut word),
                    start: word_start,
                    end: pos,
                });
            }
            return (bytes.len(), words);
        }
        if phase == Phase::Word {
            if is_space(ch) {
                phase = Phase::Spaces;
                if word == b"--" {
                    return (pos, words);
                }
                if blank_ok || !word.is_empty() {
                    words.push(RawWord {
                        value: finish(&mut word),
                        start: word_start,
                        end: pos,
                    });
                }
                word.clear();
                blank_ok = false;
                pos += 1;
                continue;
            }
            if ch == b'\'' || ch == b'"' {
                quote = ch;
                blank_ok = true;
                phase = Phase::Quote;
                pos += 1;
                continue;
            }
            let mut c = ch;
            if ch == b'\\' {
                if pos + 1 == bytes.len() {
                    pos += 1;
                    continue;
                }
                pos += 1;
                c = bytes[pos];
            }
            word.push(c);
            pos += 1;
            continue;
        }
        // In quotes.
        if ch == quote {
            phase = Phase::Word;
            pos += 1;
            continue;
        }
        let mut c = ch;
        if ch == b'\\' {
            if pos + 1 == bytes.len() {
                phase = Phase::Word;
                pos += 1;
                continue;
            }
            pos += 1;
            c = bytes[pos];
        }
        word.push(c);
        pos += 1;
    }
    (bytes.len(), words)
}

/// BuildKit's `parseWords`: words separated by white space, where quotes group
/// (and are kept) and the escape character protects the next character (and is
/// kept too). Used by ENV, LABEL and ARG.
pub fn parse_words(rest: &str, escape: char) -> Vec<RawWord> {
    #[derive(PartialEq)]
    enum Phase {
        Spaces,
        Word,
        Quote,
    }
    let mut words = Vec::new();
    let mut phase = Phase::Spaces;
    let mut word = String::new();
    let mut word_start = 0;
    let mut quote = '\0';
    let mut blank_ok = false;
    let mut chars = rest.char_indices().peekable();
    loop {
        let next = chars.next();
        let Some((pos, ch)) = next else {
            if phase != Phase::Spaces && (blank_ok || !word.is_empty()) {
                words.push(RawWord {
                    value: std::mem::take(&mut word),
                    start: word_start,
                    end: rest.len(),
                });
            }
            break;
        };
        if phase == Phase::Spaces {
            if is_go_space(ch) {
                continue;
            }
            phase = Phase::Word;
            word_start = pos;
        }
        if phase == Phase::Word {
            if is_go_space(ch) {
                phase = Phase::Spaces;
                if blank_ok || !word.is_empty() {
                    words.push(RawWord {
                        value: std::mem::take(&mut word),
                        start: word_start,
                        end: pos,
                    });
                }
                word.clear();
                blank_ok = false;
                continue;
            }
            if ch == '\'' || ch == '"' {
                quote = ch;
                blank_ok = true;
                phase = Phase::Quote;
            }
            if ch == escape {
                match chars.next() {
                    None => {
                        // An escape character at the very end is dropped.
                        if blank_ok || !word.is_empty() {
                            words.push(RawWord {
                                value: std::mem::take(&mut word),
                                start: word_start,
                                end: rest.len(),
                            });
                        }
                        break;
                    }
                    Some((_, next_ch)) => {
                        word.push(ch);
                        word.push(next_ch);
                        continue;
                    }
                }
            }
            word.push(ch);
            continue;
        }
        // Phase::Quote
        if ch == quote {
            phase = Phase::Word;
        }
        if ch == escape && quote != '\'' {
            match chars.next() {
                None => {
                    if blank_ok || !word.is_empty() {
                        words.push(RawWord {
                            value: std::mem::take(&mut word),
                            start: word_start,
                            end: rest.len(),
                        });
                    }
                    break;
                }
                Some((_, next_ch)) => {
                    word.push(ch);
                    word.push(next_ch);
                    continue;
                }
            }
        }
        word.push(ch);
    }
    words
}

/// The shell words of a line as BuildKit's heredoc detection sees them
/// (`shell.Lex` with raw quotes, raw escapes and unset variables kept): the
/// words are verbatim substrings, split at unquoted, unescaped white space.
pub fn raw_shell_words(line: &str) -> Vec<(usize, usize)> {
    let mut words = Vec::new();
    let mut start: Option<usize> = None;
    let mut chars = line.char_indices();
    while let Some((pos, ch)) = chars.next() {
        if start.is_none() {
            if ch == ' ' || ch == '\t' || ch == '\n' {
                continue;
            }
            start = Some(pos);
        }
        match ch {
            ' ' | '\t' | '\n' => {
                words.push((start.take().unwrap_or(pos), pos));
            }
            '\\' => {
                chars.next();
            }
            '\'' => {
                for (_, c) in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                }
            }
            '"' => {
                while let Some((_, c)) = chars.next() {
                    if c == '\\' {
                        chars.next();
                    } else if c == '"' {
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        words.push((s, line.len()));
    }
    words
}

/// True if BuildKit's shell lexer (`shell.Lex.ProcessWords`, escape `\\`, as
/// `heredocsFromLine` runs it: raw quotes and escapes, unset variables kept)
/// fails on `line`. `heredocsFromLine` ignores the error and the word list it
/// gets is then empty: a line the lexer rejects starts no heredoc, whatever
/// `<<` it holds. The lexer fails on:
/// - an unterminated single or double quote;
/// - `${` at the end, `${}`, `${{`, `${:`;
/// - `${name` followed by anything but `}`, `:`, `+`, `-`, `?`, `#`, `%`, `/`
///   (`${a^^}`, `${#a}`, `${!a}`, `${a[0]}`), or by `:#` / `:%`;
/// - a `${name...` (or `${name/pattern`) left open.
///
/// Iterative (an explicit stack): nested `${a:-${b:-...}}` cannot overflow.
pub fn buildkit_lex_fails(line: &str) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum Ctx {
        Top,
        /// `processStopOn(stop)`; `then_brace`: a `${a/pattern` whose
        /// replacement (up to `}`) follows.
        Until {
            stop: char,
            then_brace: bool,
        },
        Double,
    }
    let mut it = line.chars().peekable();
    let mut stack = vec![Ctx::Top];
    loop {
        let ctx = *stack.last().unwrap_or(&Ctx::Top);
        let Some(&c) = it.peek() else {
            // The end: fine at the top level, an error inside anything.
            return stack.len() != 1;
        };
        if ctx == Ctx::Double {
            match c {
                '"' => {
                    it.next();
                    stack.pop();
                    continue;
                }
                '$' => {}
                _ => {
                    it.next();
                    if c == '\\' && matches!(it.peek(), Some('"' | '$' | '\\')) {
                        it.next();
                    }
                    continue;
                }
            }
        } else {
            if let Ctx::Until { stop, then_brace } = ctx {
                if c == stop {
                    it.next();
                    stack.pop();
                    if then_brace {
                        stack.push(Ctx::Until {
                            stop: '}',
                            then_brace: false,
                        });
                    }
                    continue;
                }
            }
            match c {
                '\'' => {
                    it.next();
                    if !it.by_ref().any(|x| x == '\'') {
                        return true;
                    }
                    continue;
                }
                '"' => {
                    it.next();
                    stack.push(Ctx::Double);
                    continue;
                }
                '\\' => {
                    it.next();
                    it.next();
                    continue;
                }
                '$' => {}
                _ => {
                    it.next();
                    continue;
                }
            }
        }
        // `processDollar`.
        it.next();
        if it.peek() != Some(&'{') {
            skip_name(&mut it);
            continue;
        }
        it.next();
        if matches!(it.peek(), None | Some('{' | '}' | ':')) {
            return true;
        }
        skip_name(&mut it);
        match it.next() {
            Some('}') => {}
            Some(':') => {
                if matches!(it.next(), None | Some('#' | '%')) {
                    return true;
                }
                stack.push(Ctx::Until {
                    stop: '}',
                    then_brace: false,
                });
            }
            Some('+' | '-' | '?' | '#' | '%') => stack.push(Ctx::Until {
                stop: '}',
                then_brace: false,
            }),
            Some('/') => {
                if it.peek() == Some(&'/') {
                    it.next();
                }
                stack.push(Ctx::Until {
                    stop: '/',
                    then_brace: true,
                });
            }
            _ => return true,
        }
    }
}

/// BuildKit's `processName`: digits, or one special parameter, or a name.
fn skip_name(it: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match it.peek() {
        Some(c) if c.is_numeric() => {
            while it.peek().is_some_and(|c| c.is_numeric()) {
                it.next();
            }
        }
        Some('@' | '*' | '#' | '?' | '-' | '$' | '!' | '0') => {
            it.next();
        }
        _ => {
            while it.peek().is_some_and(|&c| c.is_alphanumeric() || c == '_') {
                it.next();
            }
        }
    }
}

/// The value of a shell word with quotes removed and backslash escapes applied
/// (`shell.Lex.ProcessWords` without raw quotes), or `None` if the text is not
/// exactly one word.
pub fn unquote_shell_word(word: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = word.chars().peekable();
    let mut saw_word = false;
    while let Some(ch) = chars.next() {
        match ch {
            ' ' | '\t' | '\n' => {
                // Separator: more than one word?
                while matches!(chars.peek(), Some(' ' | '\t' | '\n')) {
                    chars.next();
                }
                if saw_word && chars.peek().is_some() {
                    return None;
                }
            }
            '\\' => {
                saw_word = true;
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            '\'' => {
                saw_word = true;
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    out.push(c);
                }
            }
            '"' => {
                saw_word = true;
                while let Some(c) = chars.next() {
                    if c == '\\' {
                        match chars.peek() {
                            Some(&n) if matches!(n, '"' | '\\' | '$' | '`') => {
                                out.push(n);
                                chars.next();
                            }
                            _ => out.push('\\'),
                        }
                    } else if c == '"' {
                        break;
                    } else {
                        out.push(c);
                    }
                }
            }
            c => {
                saw_word = true;
                out.push(c);
            }
        }
    }
    if saw_word {
        Some(out)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_extracted_like_buildkit() {
        let (rest, flags) = extract_builder_flags("--user=me --doit=true foo /tmp/");
        assert_eq!(&"--user=me --doit=true foo /tmp/"[rest..], "foo /tmp/");
        let values: Vec<_> = flags.iter().map(|f| f.value.as_str()).collect();
        assert_eq!(values, ["--user=me", "--doit=true"]);
        let (rest, flags) = extract_builder_flags("-- foo /tmp/");
        assert_eq!(&"-- foo /tmp/"[rest..], " foo /tmp/");
        assert!(flags.is_empty());
        let (_, flags) = extract_builder_flags("--a=\"x y\" z");
        assert_eq!(flags[0].value, "--a=x y");
    }

    #[test]
    fn words_keep_quotes_and_escapes() {
        let words = parse_words(r#"name="a b" c=d\ e"#, '\\');
        let values: Vec<_> = words.iter().map(|w| w.value.as_str()).collect();
        assert_eq!(values, [r#"name="a b""#, r"c=d\ e"]);
    }

    #[test]
    fn buildkit_lexer_failures() {
        for ok in [
            "RUN cat <<X",
            "RUN echo ${a##*-} cat <<X",
            "RUN echo ${a:-${b:-c}} \"$x\" '${' ${a/b/c} ${a//b/} \\' <<X",
            "RUN echo ${a:=b} ${a:2} ${1} ${#} $# ${@} \\",
            "RUN echo \"a \\\" b\" <<X",
        ] {
            assert!(!buildkit_lex_fails(ok), "{ok}");
        }
        for bad in [
            "RUN echo 'open <<X",
            "RUN echo \"open <<X",
            "RUN echo ${a^^} <<X",
            "RUN echo ${#a} <<X",
            "RUN echo ${!a} <<X",
            "RUN echo ${a[0]} <<X",
            "RUN echo ${} <<X",
            "RUN echo ${:-a} <<X",
            "RUN echo ${a:#b} <<X",
            "RUN echo ${a:-b <<X",
            "RUN echo ${a/b} <<X",
            "RUN echo ${a//b} <<X",
            "RUN echo ${",
            "RUN echo \"${a:-'b}\" <<X",
        ] {
            assert!(buildkit_lex_fails(bad), "{bad}");
        }
        let deep = format!("{}x{}", "${a:-".repeat(50_000), "}".repeat(50_000));
        assert!(!buildkit_lex_fails(&deep));
        assert!(buildkit_lex_fails(&deep[..deep.len() - 1]));
    }

    #[test]
    fn raw_shell_words_group_quotes() {
        let line = r#"RUN "<<NO HEREDOC" 3<<EOF"#;
        let words: Vec<_> = raw_shell_words(line)
            .into_iter()
            .map(|(s, e)| &line[s..e])
            .collect();
        assert_eq!(words, ["RUN", "\"<<NO HEREDOC\"", "3<<EOF"]);
        assert_eq!(unquote_shell_word("'EOF'").as_deref(), Some("EOF"));
        assert_eq!(unquote_shell_word("E\"O\"F").as_deref(), Some("EOF"));
    }
}
