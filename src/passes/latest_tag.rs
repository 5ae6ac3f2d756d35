//! DOP023 `latest-tag`: base images without a pinned tag.

use crate::fix::Finding;
use crate::model::ImageRef;
use crate::passes::{Pass, PassContext};
use crate::syntax::{InstructionKind, Span};

macro_rules! docs {
    () => {
        r#"## What it does
Reports `FROM` (and `COPY --from=<image>`) references to an image without a tag
or with the `latest` tag.

## Why is this bad?
`latest` moves: the same Dockerfile builds a different image next month, a new
major version can break the build or the app, and the layer cache of the base
image is invalidated whenever upstream pushes. A pinned tag (or digest) makes
builds reproducible.

## Example
```dockerfile
FROM node
FROM python:latest
```

Use instead:
```dockerfile
FROM node:20.11-slim
FROM python:3.12-slim
```

`scratch`, references to earlier stages and references made of build arguments
(`FROM $BASE`) are ignored. Images pinned by digest are fine.

## Fix safety
No fix: only you know which version the image should use."#
    };
}

#[doc = docs!()]
pub struct LatestTag;

impl Pass for LatestTag {
    fn code(&self) -> &'static str {
        "DOP023"
    }
    fn name(&self) -> &'static str {
        "latest-tag"
    }
    fn summary(&self) -> &'static str {
        "base image without a tag or with `latest`: pin a version"
    }
    fn docs(&self) -> &'static str {
        docs!()
    }
    fn related(&self) -> &'static [&'static str] {
        &["hadolint DL3006", "hadolint DL3007"]
    }
    fn run(&self, ctx: &PassContext) -> Vec<Finding> {
        let file = ctx.file;
        let mut stage_names: Vec<String> = Vec::new();
        let mut findings = Vec::new();
        for inst in &file.instructions {
            let (reference, span) = match &inst.kind {
                InstructionKind::From(from) => {
                    let r = (from.image.value.clone(), from.image.span);
                    if let Some(alias) = &from.alias {
                        stage_names.push(alias.value.to_ascii_lowercase());
                    }
                    r
                }
                InstructionKind::Copy(_) => match inst.flag("from") {
                    Some(f) => match &f.value {
                        Some(v) => (v.clone(), f.span),
                        None => continue,
                    },
                    None => continue,
                },
                _ => continue,
            };
            let lower = reference.to_ascii_lowercase();
            if lower == "scratch"
                || reference.contains('$')
                || reference.parse::<usize>().is_ok()
                || stage_names.contains(&lower)
            {
                continue;
            }
            let image = ImageRef::parse(&reference);
            if image.digest.is_some() {
                continue;
            }
            // The alias of this very FROM is not a reference to itself.
            let message = match image.tag.as_deref() {
                None => format!(
                    "`{reference}` has no tag, so it means `latest` and changes whenever upstream pushes; pin a version"
                ),
                Some("latest") => format!(
                    "`{reference}` moves whenever upstream pushes; pin a version"
                ),
                Some(_) => continue,
            };
            findings.push(Finding {
                code: "DOP023",
                name: "latest-tag",
                message,
                span: Span::new(span.start, span.end),
                fix: None,
            });
        }
        findings
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::check;

    #[test]
    fn reports_untagged_and_latest() {
        let c = check(
            &LatestTag,
            "FROM node AS build\nFROM python:latest\nCOPY --from=nginx /etc/nginx /x\nCOPY --from=build /a /b\n",
            None,
        );
        let msgs: Vec<&str> = c.findings.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(c.findings.len(), 3, "{msgs:?}");
        assert!(msgs[0].contains("`node` has no tag"));
        assert!(msgs[1].contains("`python:latest` moves"));
    }

    #[test]
    fn must_not_fire() {
        for src in [
            "FROM scratch\n",
            "ARG BASE=node:20\nFROM $BASE\n",
            "FROM node:20 AS base\nFROM base\nCOPY --from=0 /a /b\n",
            "FROM node@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
            "FROM localhost:5000/app:1.2\n",
        ] {
            let c = check(&LatestTag, src, None);
            assert!(c.findings.is_empty(), "{src}: {:?}", c.findings);
        }
    }
}
