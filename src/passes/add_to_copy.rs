//! DOP020 `add-to-copy`: ADD used for plain local files.

use crate::fix::{Edit, Finding, Fix};
use crate::passes::{Pass, PassContext};
use crate::syntax::{Instruction, InstructionKind, Span};

macro_rules! docs {
    () => {
        r#"## What it does
Replaces `ADD` with `COPY` when every source is a local file or directory that
`ADD` would copy as is: not a URL, not a Git repository, not a tar archive.

## Why is this bad?
`ADD` has hidden behaviours: it downloads URLs and unpacks local tar archives.
`COPY` says what it does and nothing more, so readers (and reviewers) need not
wonder whether a file gets extracted.

## Example
```dockerfile
ADD requirements.txt /app/
```

Use instead:
```dockerfile
COPY requirements.txt /app/
```

Sources that look like archives (`.tar`, `.tar.gz`, `.tgz`, `.tar.bz2`, `.tar.xz`,
`.zst`...) are left alone, and so are files in the build context whose content
is a tar, gzip, bzip2 or xz archive (ADD detects archives by content, not name).
ADD-only flags (`--checksum`, `--keep-git-dir`, `--unpack`) keep `ADD`.

## Fix safety
Safe: for these sources `ADD` and `COPY` produce the same files."#
    };
}

#[doc = docs!()]
pub struct AddToCopy;

impl Pass for AddToCopy {
    fn code(&self) -> &'static str {
        "DOP020"
    }
    fn name(&self) -> &'static str {
        "add-to-copy"
    }
    fn summary(&self) -> &'static str {
        "ADD of plain local files: use COPY"
    }
    fn docs(&self) -> &'static str {
        docs!()
    }
    fn related(&self) -> &'static [&'static str] {
        &["hadolint DL3020"]
    }
    fn run(&self, ctx: &PassContext) -> Vec<Finding> {
        ctx.file
            .instructions
            .iter()
            .filter_map(|inst| check(ctx, inst))
            .collect()
    }
}

const ARCHIVE_SUFFIXES: &[&str] = &[
    ".tar", ".tgz", ".tbz", ".tbz2", ".txz", ".tzst", ".gz", ".bz2", ".xz", ".zst", ".lz", ".lzma",
    ".z", ".zip",
];

fn check(ctx: &PassContext, inst: &Instruction) -> Option<Finding> {
    let InstructionKind::Add(args) = &inst.kind else {
        return None;
    };
    if !inst.heredocs.is_empty()
        || inst
            .flags
            .iter()
            .any(|f| matches!(f.name.as_str(), "checksum" | "keep-git-dir" | "unpack"))
    {
        return None;
    }
    for source in &args.sources {
        let s = crate::model::unquote(&source.value);
        let lower = s.to_ascii_lowercase();
        if lower.contains("://") || lower.starts_with("git@") || lower.ends_with(".git") {
            return None;
        }
        if s.contains('$') || ARCHIVE_SUFFIXES.iter().any(|x| lower.ends_with(x)) {
            return None;
        }
        let is_glob = s.contains(['*', '?', '[']);
        if let Some(context) = ctx.build_context {
            if is_glob {
                // ADD unpacks every archive a glob matches: only allow globs whose
                // matches we can see and none is an archive.
                if glob_matches_archive(context.path(), &s) {
                    return None;
                }
            } else if is_archive_file(&context.path().join(s.trim_start_matches("./"))) {
                return None;
            }
        } else if is_glob {
            return None;
        }
    }
    let keyword = match inst.keyword.as_str() {
        k if k.chars().all(|c| c.is_ascii_lowercase()) => "copy",
        "Add" => "Copy",
        _ => "COPY",
    };
    Some(Finding {
        code: "DOP020",
        name: "add-to-copy",
        message: "ADD of local files: COPY does the same without ADD's URL download and archive extraction".into(),
        span: Span::new(inst.keyword_span.start, inst.args_span.end),
        fix: Some(Fix::safe(vec![Edit::replace(inst.keyword_span, keyword)])),
    })
}

/// True if the file starts like a tar, gzip, bzip2, xz or zstd archive.
fn is_archive_file(path: &std::path::Path) -> bool {
    use std::io::Read;
    let Ok(mut f) = std::fs::File::open(path) else {
        return false;
    };
    let mut head = [0u8; 512];
    let n = f.read(&mut head).unwrap_or(0);
    let head = &head[..n];
    head.starts_with(&[0x1f, 0x8b])
        || head.starts_with(b"BZh")
        || head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0])
        || head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd])
        || (n >= 262 && &head[257..262] == b"ustar")
}

/// True if a one-level glob (`*.txt`, `conf/*.ini`) matches an archive, or the
/// glob cannot be checked.
fn glob_matches_archive(root: &std::path::Path, pattern: &str) -> bool {
    let pattern = pattern.trim_start_matches("./");
    let (dir, name) = pattern.rsplit_once('/').unwrap_or(("", pattern));
    if dir.contains(['*', '?', '[']) {
        return true;
    }
    let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
        return true;
    };
    entries.flatten().any(|e| {
        let file_name = e.file_name().to_string_lossy().to_string();
        crate::profiles::glob_captures(name, &file_name).is_some() && is_archive_file(&e.path())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::check as run;

    #[test]
    fn replaces_keyword_keeping_flags_and_case() {
        let c = run(
            &AddToCopy,
            "FROM a\nADD --chown=1:1 app.py /app/\nadd . /src\n",
            None,
        );
        assert_eq!(c.findings.len(), 2);
        assert_eq!(
            c.fixed,
            "FROM a\nCOPY --chown=1:1 app.py /app/\ncopy . /src\n"
        );
    }

    #[test]
    fn must_not_fire() {
        for src in [
            "FROM a\nADD https://example.com/x.sh /x.sh\n",
            "FROM a\nADD rootfs.tar.gz /\n",
            "FROM a\nADD app.tgz /opt/\n",
            "FROM a\nADD git@github.com:moby/buildkit.git /src\n",
            "FROM a\nADD --checksum=sha256:abc x /x\n",
            "FROM a\nADD $SRC /x\n",
            "FROM a\nADD *.conf /etc/\n",
            "FROM a\nCOPY x /x\n",
        ] {
            let c = run(&AddToCopy, src, None);
            assert!(c.findings.is_empty(), "{src}");
        }
    }

    #[test]
    fn archive_content_in_context_keeps_add() {
        let mut tar_like = vec![0u8; 300];
        tar_like[257..262].copy_from_slice(b"ustar");
        let tar_like = String::from_utf8(tar_like).unwrap();
        let c = run(
            &AddToCopy,
            "FROM a\nADD bundle /opt/\nADD notes.txt /opt/\n",
            Some(&[("bundle", &tar_like), ("notes.txt", "hi")]),
        );
        assert_eq!(c.fixed, "FROM a\nADD bundle /opt/\nCOPY notes.txt /opt/\n");
        let c = run(
            &AddToCopy,
            "FROM a\nADD *.txt /opt/\n",
            Some(&[("notes.txt", "hi")]),
        );
        assert_eq!(c.fixed, "FROM a\nCOPY *.txt /opt/\n");
    }
}
