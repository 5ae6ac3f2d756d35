//! BuildKit's parser dump format (`Node.Dump()`), used by the conformance tests
//! and by `dopt parse --format buildkit`.

use super::ast::*;
use super::words;

/// The tree in BuildKit's dump format: one line per instruction, ending with a
/// newline.
pub fn buildkit_dump(df: &Dockerfile) -> String {
    let mut out = String::new();
    for inst in &df.instructions {
        out.push('(');
        out.push_str(&dump_instruction(inst));
        out.push_str(")\n");
    }
    out
}

fn dump_instruction(inst: &Instruction) -> String {
    let mut s = inst.keyword.to_lowercase();
    if !inst.flags.is_empty() {
        s.push_str(" [");
        for (i, f) in inst.flags.iter().enumerate() {
            if i > 0 {
                s.push(' ');
            }
            let word = match &f.value {
                Some(v) => format!("--{}={}", f.name, v),
                None => format!("--{}", f.name),
            };
            s.push_str(&go_quote(&word));
        }
        s.push(']');
    }
    let mut args: Vec<String> = Vec::new();
    let text = inst.logical.text.as_str();
    let ws_words = || -> Vec<String> {
        words::split_token_ws(text)
            .into_iter()
            .map(|(a, b)| text[a..b].to_string())
            .collect()
    };
    match &inst.kind {
        InstructionKind::From(_) | InstructionKind::Expose(_) => args = ws_words(),
        InstructionKind::Run(c) | InstructionKind::Cmd(c) | InstructionKind::Entrypoint(c) => {
            args = command_args(c)
        }
        InstructionKind::Shell(list) => args = list.clone(),
        InstructionKind::Healthcheck(h) => match h {
            Healthcheck::Empty => {}
            Healthcheck::None | Healthcheck::Cmd(_) | Healthcheck::Other { .. } => {
                let sep = text
                    .char_indices()
                    .find(|&(_, c)| words::is_go_space(c))
                    .map(|(i, _)| i)
                    .unwrap_or(text.len());
                args.push(text[..sep].to_string());
                match h {
                    Healthcheck::Cmd(c) | Healthcheck::Other { command: c, .. } => {
                        args.extend(command_args(c))
                    }
                    _ => {}
                }
            }
        },
        InstructionKind::Copy(c) | InstructionKind::Add(c) => {
            args = c
                .sources
                .iter()
                .chain(std::iter::once(&c.dest))
                .map(|w| w.value.clone())
                .collect()
        }
        InstructionKind::Env(kvs) | InstructionKind::Label(kvs) => {
            for kv in kvs {
                args.push(kv.key.clone());
                args.push(kv.value.clone());
                args.push(if kv.equals { "=".into() } else { String::new() });
            }
        }
        InstructionKind::Arg(decls) => {
            for d in decls {
                args.push(match &d.default {
                    Some(v) => format!("{}={}", d.name, v),
                    None => d.name.clone(),
                })
            }
        }
        InstructionKind::Volume(list) => args = list.iter().map(|w| w.value.clone()).collect(),
        InstructionKind::User(w)
        | InstructionKind::Workdir(w)
        | InstructionKind::Stopsignal(w)
        | InstructionKind::Maintainer(w) => args.push(w.value.clone()),
        InstructionKind::Onbuild(inner) => {
            s.push_str(" (");
            s.push_str(&dump_instruction(inner));
            s.push(')');
        }
    }
    for a in args {
        s.push(' ');
        s.push_str(&go_quote(&a));
    }
    s.trim().to_string()
}

fn command_args(c: &Command) -> Vec<String> {
    match c {
        Command::Shell { text, .. } if text.is_empty() => Vec::new(),
        Command::Shell { text, .. } => vec![text.clone()],
        Command::Exec { args, .. } => args.clone(),
    }
}

/// Go's `strconv.Quote`.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{07}' => out.push_str("\\a"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0C}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{0B}' => out.push_str("\\v"),
            c if is_go_printable(c) => out.push(c),
            c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// An approximation of Go's `strconv.IsPrint`: letters, marks, numbers,
/// punctuation, symbols and the ASCII space.
fn is_go_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    let v = c as u32;
    // Format characters, private use and non-characters are not printable.
    !matches!(v,
        0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x180E | 0x200B..=0x200F
        | 0x202A..=0x202E | 0x2060..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB
        | 0xE000..=0xF8FF | 0xF0000..=0x10FFFF | 0xFFFE | 0xFFFF)
}
