//! Leaving out stages the build does not need, when they hold syntax the engine's
//! built-in Dockerfile frontend cannot parse.
//!
//! Why: BuildKit parses the *whole* file even with `--target`. Engine 20.10's
//! built-in frontend predates heredocs, so a `dev-envs` stage with `RUN <<EOF` (as
//! in the awesome-compose samples) breaks the build of a `builder` target that
//! never uses it. Removing stages the target does not reach changes nothing in the
//! built image, and is applied to both versions alike (and reported).

use std::collections::BTreeSet;

use crate::syntax;

/// The Dockerfile text without the stages that `target` (the last stage when
/// `None`) does not depend on, if any such stage contains a heredoc. `None` when
/// nothing needs to (or can safely) be removed: a parse error, an unknown target,
/// numeric `--from=<index>` references (removing stages would renumber them), or
/// no heredoc in an unreachable stage.
pub(crate) fn without_unneeded_heredoc_stages(text: &str, target: Option<&str>) -> Option<String> {
    let dockerfile = syntax::parse(text).ok()?;
    let stages = dockerfile.stages();
    if stages.is_empty() {
        return None;
    }
    let index_of = |name: &str| {
        stages.iter().position(|s| {
            s.name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
    };
    let target_index = match target {
        Some(name) => index_of(name)?,
        None => stages.len() - 1,
    };

    // What each stage refers to: its base (when it names an earlier stage), and
    // `--from=` of COPY/ADD and of RUN --mount.
    let mut deps: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); stages.len()];
    for (i, stage) in stages.iter().enumerate() {
        if let Some(j) = index_of(&stage.base).filter(|&j| j < i) {
            deps[i].insert(j);
        }
        for reference in crate::model::scope::stage_references(&dockerfile, stage) {
            let reference = reference.trim_matches(['"', '\'']);
            if reference.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            if let Some(j) = index_of(reference) {
                deps[i].insert(j);
            }
        }
    }

    let mut needed = BTreeSet::new();
    let mut todo = vec![target_index];
    while let Some(i) = todo.pop() {
        if needed.insert(i) {
            todo.extend(deps[i].iter().copied());
        }
    }
    let has_heredoc = |i: usize| {
        dockerfile.instructions[stages[i].instructions.clone()]
            .iter()
            .any(|inst| !inst.heredocs.is_empty())
    };
    let removable: Vec<usize> = (0..stages.len()).filter(|i| !needed.contains(i)).collect();
    if !removable.iter().any(|&i| has_heredoc(i)) {
        return None;
    }

    // Remove each unneeded stage from its FROM to the next stage's FROM (or the end).
    let start_of = |i: usize| {
        dockerfile.instructions[stages[i].from_instruction]
            .span
            .start
    };
    let mut out = String::with_capacity(text.len());
    let mut cursor = 0;
    for &i in &removable {
        let start = start_of(i);
        let end = if i + 1 < stages.len() {
            start_of(i + 1)
        } else {
            dockerfile.source.len()
        };
        out.push_str(&dockerfile.source[cursor..start]);
        cursor = end;
    }
    out.push_str(&dockerfile.source[cursor..]);
    Some(out)
}

/// The external image the built stage (`target`, else the last) starts from,
/// following `FROM <earlier stage>` links; None for `scratch`, for references
/// with variables, or when the file does not parse.
pub(crate) fn final_base_image(text: &str, target: Option<&str>) -> Option<String> {
    let dockerfile = syntax::parse(text).ok()?;
    let stages = dockerfile.stages();
    let index_of = |name: &str| {
        stages.iter().position(|s| {
            s.name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
    };
    let mut current = match target {
        Some(name) => index_of(name)?,
        None => stages.len().checked_sub(1)?,
    };
    // Each hop goes to an earlier stage, so this ends.
    loop {
        let base = &stages[current].base;
        match index_of(base).filter(|&j| j < current) {
            Some(j) => current = j,
            None if base.contains('$') || base.eq_ignore_ascii_case("scratch") => return None,
            None => return Some(base.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLASK: &str = "# syntax=docker/dockerfile:1.4\n\
FROM python:3.10-alpine AS builder\n\
WORKDIR /app\n\
RUN --mount=type=cache,target=/root/.cache/pip pip3 install flask\n\
COPY . /app\n\
\n\
FROM builder as dev-envs\n\
RUN <<EOF\n\
apk add git\n\
EOF\n\
COPY --from=gloursdocker/docker / /\n";

    #[test]
    fn drops_the_heredoc_stage_the_target_does_not_use() {
        let pruned = without_unneeded_heredoc_stages(FLASK, Some("builder")).unwrap();
        assert_eq!(
            pruned,
            "# syntax=docker/dockerfile:1.4\n\
FROM python:3.10-alpine AS builder\n\
WORKDIR /app\n\
RUN --mount=type=cache,target=/root/.cache/pip pip3 install flask\n\
COPY . /app\n\
\n"
        );
        // Building dev-envs needs everything: nothing to remove.
        assert_eq!(without_unneeded_heredoc_stages(FLASK, None), None);
        assert_eq!(without_unneeded_heredoc_stages(FLASK, Some("nope")), None);
    }

    #[test]
    fn finds_the_external_base_of_the_built_stage() {
        assert_eq!(
            final_base_image(FLASK, None).as_deref(),
            Some("python:3.10-alpine")
        );
        let multi = "FROM golang:1.22 AS build\nRUN x\nFROM debian:bookworm-slim\nCOPY --from=build /a /a\n";
        assert_eq!(
            final_base_image(multi, None).as_deref(),
            Some("debian:bookworm-slim")
        );
        assert_eq!(
            final_base_image(multi, Some("build")).as_deref(),
            Some("golang:1.22")
        );
        assert_eq!(final_base_image("FROM scratch\nCOPY a /a\n", None), None);
        assert_eq!(final_base_image("ARG V=1\nFROM node:$V\n", None), None);
    }

    #[test]
    fn keeps_stages_reached_through_copy_from_and_mounts() {
        let text = "FROM golang AS build\nRUN go build\n\
FROM build AS dev\nRUN <<EOF\necho dev\nEOF\n\
FROM alpine AS assets\nRUN touch /a\n\
FROM scratch\nCOPY --from=build /out /out\nRUN --mount=type=bind,from=assets,target=/m true\n";
        let pruned = without_unneeded_heredoc_stages(text, None).unwrap();
        assert_eq!(
            pruned,
            "FROM golang AS build\nRUN go build\n\
FROM alpine AS assets\nRUN touch /a\n\
FROM scratch\nCOPY --from=build /out /out\nRUN --mount=type=bind,from=assets,target=/m true\n"
        );
        // Numeric references would be renumbered: leave such files alone.
        let numeric = text.replace("--from=build", "--from=0");
        assert_eq!(without_unneeded_heredoc_stages(&numeric, None), None);
    }
}
