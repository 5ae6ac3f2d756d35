//! DOP024 `maintainer`: the deprecated MAINTAINER instruction.

use crate::fix::{Edit, Finding, Fix};
use crate::passes::{package_hygiene, Pass, PassContext};
use crate::syntax::{InstructionKind, Span};

macro_rules! docs {
    () => {
        r#"## What it does
Replaces the deprecated `MAINTAINER` instruction with the OCI label
`org.opencontainers.image.authors`.

## Why is this bad?
`MAINTAINER` has been deprecated since Docker 1.13. Labels are what tools read
(`docker inspect`, registries, SBOM generators), and the OCI annotation is the
standard key for the image's authors.

## Example
```dockerfile
MAINTAINER Jane Doe <jane@example.com>
```

Use instead:
```dockerfile
LABEL org.opencontainers.image.authors="Jane Doe <jane@example.com>"
```

## Fix safety
Unsafe: `MAINTAINER` sets the `Author` field of the image config
(`docker inspect --format '{{.Author}}'`); the label keeps the information but
the field is then empty, and tools that read it see no author. Only MAINTAINER
in stages the final image needs gets a fix; the finding is reported in every
stage."#
    };
}

#[doc = docs!()]
pub struct Maintainer;

impl Pass for Maintainer {
    fn code(&self) -> &'static str {
        "DOP024"
    }
    fn name(&self) -> &'static str {
        "maintainer"
    }
    fn summary(&self) -> &'static str {
        "deprecated MAINTAINER: use LABEL org.opencontainers.image.authors"
    }
    fn docs(&self) -> &'static str {
        docs!()
    }
    fn related(&self) -> &'static [&'static str] {
        &["hadolint DL4000", "buildkit MaintainerDeprecated"]
    }
    fn run(&self, ctx: &PassContext) -> Vec<Finding> {
        let file = ctx.file;
        let scope = ctx.scope();
        let mut findings: Vec<Finding> = Vec::new();
        for (idx, inst) in file.instructions.iter().enumerate() {
            if !matches!(inst.kind, InstructionKind::Maintainer(_)) {
                continue;
            }
            findings.push({
                let value = inst.logical.text.trim();
                // MAINTAINER takes its text literally; LABEL expands `$` and treats
                // quotes and the escape character, so escape them.
                let esc = file.escape;
                let mut quoted = String::from("\"");
                for c in value.chars() {
                    if c == '"' || c == '$' || c == esc {
                        quoted.push(esc);
                    }
                    quoted.push(c);
                }
                quoted.push('"');
                let keyword = crate::model::text::keyword(file, "LABEL");
                let span = Span::new(inst.keyword_span.start, inst.args_span.end);
                Finding {
                    code: "DOP024",
                    name: "maintainer",
                    message: "MAINTAINER is deprecated; the OCI label org.opencontainers.image.authors keeps the information (unsafe: the image's Author field is then empty)".into(),
                    span,
                    fix: Some(Fix::unsafe_(vec![Edit::replace(
                        span,
                        format!("{keyword} org.opencontainers.image.authors={quoted}"),
                    )])),
                }
            });
            let n = findings.len();
            package_hygiene::out_of_scope(scope, idx, &mut findings[n - 1..]);
        }
        findings
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::check;

    #[test]
    fn rewrites_to_label() {
        let c = check(
            &Maintainer,
            "FROM a\r\nMAINTAINER Jane \"JD\" Doe <jane@example.com>\r\nRUN x\r\n",
            None,
        );
        assert_eq!(
            c.fixed,
            "FROM a\r\nLABEL org.opencontainers.image.authors=\"Jane \\\"JD\\\" Doe <jane@example.com>\"\r\nRUN x\r\n"
        );
        let c = check(&Maintainer, "from a\nmaintainer $me", None);
        assert_eq!(
            c.fixed,
            "from a\nlabel org.opencontainers.image.authors=\"\\$me\""
        );
    }

    #[test]
    fn must_not_fire() {
        let c = check(&Maintainer, "FROM a\nLABEL maintainer=x\n", None);
        assert!(c.findings.is_empty());
    }
}
