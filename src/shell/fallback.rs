//! The conservative tokenizer used when brush-parser cannot parse a text.

use super::command::is_assignment;
use super::{Script, Separator, SimpleCommand, Word};

/// Length of a backslash at `i` plus the character it escapes (which may be
/// multi-byte, or missing at the end of the text).
fn escaped_len(text: &str, i: usize) -> usize {
    1 + text[i + 1..].chars().next().map_or(0, char::len_utf8)
}

/// Conservative tokenizer used when brush-parser fails: splits on unquoted
/// whitespace and the operators `&&`, `||`, `|`, `;`, `&`. Good enough to say
/// which programs run; not trusted for fixes.
pub(super) fn fallback(text: &str) -> Script {
    let bytes = text.as_bytes();
    let mut commands = Vec::new();
    let mut words: Vec<Word> = Vec::new();
    let mut i = 0;
    let mut word_start: Option<usize> = None;
    let mut quote: Option<u8> = None;
    let mut has_background = false;
    let flush_word = |words: &mut Vec<Word>, start: &mut Option<usize>, end: usize| {
        if let Some(s) = start.take() {
            words.push(Word {
                text: text[s..end].to_string(),
                range: s..end,
            });
        }
    };
    let finish =
        |words: &mut Vec<Word>, commands: &mut Vec<SimpleCommand>, sep: Option<Separator>| {
            if words.is_empty() {
                return;
            }
            let taken = std::mem::take(words);
            let split = taken
                .iter()
                .position(|w| !is_assignment(&w.text))
                .unwrap_or(taken.len());
            let range = taken[0].range.start..taken[taken.len() - 1].range.end;
            let (assignments, argv) = taken.split_at(split);
            commands.push(SimpleCommand {
                assignments: assignments.to_vec(),
                argv: argv.to_vec(),
                range,
                redirects: Vec::new(),
                separator_after: sep,
                depth: 0,
                in_pipeline: sep == Some(Separator::Pipe),
            });
        };
    while i < bytes.len() {
        let b = bytes[i];
        if let Some(q) = quote {
            if b == b'\\' && q == b'"' {
                i += escaped_len(text, i);
                continue;
            }
            if b == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        match b {
            b'\'' | b'"' => {
                word_start.get_or_insert(i);
                quote = Some(b);
                i += 1;
            }
            b'\\' => {
                word_start.get_or_insert(i);
                i += escaped_len(text, i);
            }
            b' ' | b'\t' | b'\n' | b'\r' => {
                flush_word(&mut words, &mut word_start, i);
                i += 1;
            }
            b'&' | b'|' | b';' => {
                flush_word(&mut words, &mut word_start, i);
                let two = bytes.get(i + 1) == Some(&b);
                let sep = match (b, two) {
                    (b'&', true) => Separator::And,
                    (b'|', true) => Separator::Or,
                    (b'|', false) => Separator::Pipe,
                    (b'&', false) => {
                        has_background = true;
                        Separator::Async
                    }
                    _ => Separator::Seq,
                };
                finish(&mut words, &mut commands, Some(sep));
                i += if two { 2 } else { 1 };
            }
            _ => {
                word_start.get_or_insert(i);
                i += 1;
            }
        }
    }
    flush_word(&mut words, &mut word_start, bytes.len().min(i));
    finish(&mut words, &mut commands, None);
    let changes_shell_state = commands.iter().any(|c| c.changes_shell_state());
    let range = match (commands.first(), commands.last()) {
        (Some(f), Some(l)) => f.range.start..l.range.end,
        _ => 0..0,
    };
    Script {
        trailing: text.get(range.end..).unwrap_or("").trim().to_string(),
        commands,
        parse_ok: false,
        plain_and_chain: false,
        has_background,
        has_compound: false,
        changes_shell_state,
        range,
    }
}
