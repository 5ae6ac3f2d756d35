//! Which stages reach the target image (the last stage), with stage references
//! that use variables resolved.
//!
//! A reference (`FROM <ref>`, `COPY --from=<ref>`, `RUN --mount=from=<ref>`) is
//! expanded with the ARG defaults declared before the first FROM. BuildKit's
//! automatic platform args (`TARGETARCH`, `BUILDPLATFORM`...) take a value per
//! build, so a reference using them (`COPY --from=build_${TARGETARCH}`) may name
//! every stage that matches for some value. A reference that cannot be resolved
//! (an ARG without default) may name any earlier stage.

use crate::syntax::{Dockerfile, InstructionKind, Stage};

/// BuildKit's automatic platform ARGs: known only at build time.
const PLATFORM_ARGS: &[&str] = &[
    "TARGETPLATFORM",
    "TARGETOS",
    "TARGETARCH",
    "TARGETVARIANT",
    "BUILDPLATFORM",
    "BUILDOS",
    "BUILDARCH",
    "BUILDVARIANT",
];

/// Stands for any value of a platform arg inside a resolved reference.
const ANY: char = '\u{0}';

/// Per stage (by index): whether the target image needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// The stage is needed to build the target: the target itself, or a stage
    /// it is built `FROM`, copies from or mounts, transitively.
    pub used: Vec<bool>,
    /// The stage's layers are part of the target image: the target and the
    /// stages on its `FROM` chain. (A stage only copied from is used but does not
    /// ship.)
    pub ships: Vec<bool>,
    /// The FROM instruction of each stage.
    starts: Vec<usize>,
    /// The earlier stages each stage may be built `FROM`.
    bases: Vec<Vec<usize>>,
}

impl Scope {
    /// The scope of every stage of `file`, for the last stage as target.
    pub fn of(file: &Dockerfile) -> Scope {
        let stages = file.stages();
        let n = stages.len();
        let globals = global_args(file);
        let resolve = |text: &str| resolve(text, &globals);
        let names: Vec<Option<Resolved>> = stages
            .iter()
            .map(|s| s.name.as_deref().map(resolve))
            .collect();
        // Stages by exact (lower-cased) name, in order, and the stages whose name
        // holds a variable: an exact reference is looked up, not compared with
        // every earlier name (files with thousands of stages stay linear).
        let mut by_name: std::collections::HashMap<&str, Vec<usize>> =
            std::collections::HashMap::new();
        let mut inexact: Vec<usize> = Vec::new();
        for (j, name) in names.iter().enumerate() {
            match name {
                Some(Resolved::Exact(t)) => by_name.entry(t.as_str()).or_default().push(j),
                Some(_) => inexact.push(j),
                None => {}
            }
        }
        // Earlier stages a reference from stage `i` may name (`None`: an image).
        let targets =
            |i: usize, reference: &str| -> Vec<usize> {
                let r = resolve(reference.trim_matches(['"', '\'']));
                match &r {
                    Resolved::Exact(t) => {
                        if let Ok(k) = t.parse::<usize>() {
                            return if k < i { vec![k] } else { Vec::new() };
                        }
                        let exact = by_name.get(t.as_str()).map_or(&[][..], |v| v.as_slice());
                        let mut out: Vec<usize> =
                            exact.iter().copied().take_while(|&j| j < i).collect();
                        out.extend(inexact.iter().copied().take_while(|&j| j < i).filter(|&j| {
                            names[j].as_ref().is_some_and(|name| may_match(&r, name))
                        }));
                        out.sort_unstable();
                        out
                    }
                    Resolved::Unknown => (0..i).collect(),
                    Resolved::Pattern(_) => (0..i)
                        .filter(|&j| names[j].as_ref().is_some_and(|name| may_match(&r, name)))
                        .collect(),
                }
            };
        let mut from_edges: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut all_edges: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, stage) in stages.iter().enumerate() {
            from_edges[i] = targets(i, &stage.base);
            all_edges[i] = from_edges[i].clone();
            for reference in stage_references(file, stage) {
                all_edges[i].extend(targets(i, &reference));
            }
        }
        Scope {
            used: reach(&all_edges, n.checked_sub(1)),
            ships: reach(&from_edges, n.checked_sub(1)),
            starts: stages.iter().map(|s| s.from_instruction).collect(),
            bases: from_edges,
        }
    }

    /// The stage holding instruction `inst` ships (true before the first FROM).
    pub fn ships_instruction(&self, inst: usize) -> bool {
        self.stage_of(inst).is_none_or(|s| self.ships[s])
    }

    /// The stage holding instruction `inst` is needed by the target (true before
    /// the first FROM).
    pub fn uses_instruction(&self, inst: usize) -> bool {
        self.stage_of(inst).is_none_or(|s| self.used[s])
    }

    /// True if stage `stage` is, or may be, on the `FROM` chain of stage `of`
    /// (a stage is on its own chain): `of` starts from its filesystem.
    pub fn on_from_chain(&self, stage: usize, of: usize) -> bool {
        of < self.bases.len() && reach(&self.bases, Some(of)).get(stage) == Some(&true)
    }

    /// The stage holding instruction `inst`.
    pub fn stage_of(&self, inst: usize) -> Option<usize> {
        // `starts` is in file order: a binary search, not a walk.
        self.starts.partition_point(|&s| s <= inst).checked_sub(1)
    }

    /// The stages that have stage `stage` on their `FROM` chain (`stage`
    /// itself included), in order: one pass over the edges, since a stage is
    /// built only from earlier ones.
    pub fn built_on(&self, stage: usize) -> Vec<usize> {
        let n = self.bases.len();
        let mut on = vec![false; n];
        let mut out = Vec::new();
        for s in stage..n {
            if s == stage || self.bases[s].iter().any(|&b| b >= stage && on[b]) {
                on[s] = true;
                out.push(s);
            }
        }
        out
    }

    /// The number of stages.
    pub fn stage_count(&self) -> usize {
        self.starts.len()
    }

    /// The instructions of stage `stage` (FROM included), given the number of
    /// instructions in the file.
    pub fn instructions_of(&self, stage: usize, total: usize) -> std::ops::Range<usize> {
        let start = self.starts.get(stage).copied().unwrap_or(total);
        let end = self.starts.get(stage + 1).copied().unwrap_or(total);
        start..end
    }
}

/// Stages reachable from `start` along `edges`.
fn reach(edges: &[Vec<usize>], start: Option<usize>) -> Vec<bool> {
    let mut seen = vec![false; edges.len()];
    let mut todo: Vec<usize> = start.into_iter().collect();
    while let Some(i) = todo.pop() {
        if !std::mem::replace(&mut seen[i], true) {
            todo.extend(edges[i].iter().copied());
        }
    }
    seen
}

/// `--from=` of COPY/ADD and `from=` of RUN `--mount` in a stage.
pub fn stage_references(file: &Dockerfile, stage: &Stage) -> Vec<String> {
    let mut refs = Vec::new();
    for inst in &file.instructions[stage.instructions.clone()] {
        if matches!(
            inst.kind,
            InstructionKind::Copy(_) | InstructionKind::Add(_)
        ) {
            if let Some(value) = inst.flag("from").and_then(|f| f.value.clone()) {
                refs.push(value);
            }
        }
        for flag in inst.flags.iter().filter(|f| f.name == "mount") {
            let value = crate::shell::unquote(flag.value.as_deref().unwrap_or(""));
            for part in value.split(',') {
                if let Some(from) = part.trim().strip_prefix("from=") {
                    refs.push(from.to_string());
                }
            }
        }
    }
    refs
}

/// ARGs declared before the first FROM, with their defaults.
fn global_args(file: &Dockerfile) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    for inst in &file.instructions {
        match &inst.kind {
            InstructionKind::From(_) => break,
            InstructionKind::Arg(decls) => out.extend(
                decls
                    .iter()
                    .map(|d| (d.name.clone(), d.default.as_deref().map(super::unquote))),
            ),
            _ => {}
        }
    }
    out
}

/// A stage reference after expansion.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Resolved {
    /// No variable left.
    Exact(String),
    /// Contains [`ANY`] where a platform arg stood.
    Pattern(String),
    /// A variable without a known value.
    Unknown,
}

fn resolve(text: &str, globals: &[(String, Option<String>)]) -> Resolved {
    // Modifiers other than `:-`/`-` (`${X:+-debug}`, `${X%.*}`...) are not
    // expanded here: such a reference may name anything.
    let mut rest = text;
    while let Some(open) = rest.find("${") {
        let inner = &rest[open + 2..];
        let close = inner.find('}').unwrap_or(inner.len());
        let body = &inner[..close];
        let name_end = body
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(body.len());
        let modifier = &body[name_end..];
        if !(modifier.is_empty() || modifier.starts_with(":-") || modifier.starts_with('-')) {
            return Resolved::Unknown;
        }
        rest = &inner[close.min(inner.len())..];
    }
    let lookup = |name: &str| {
        if let Some((_, v)) = globals.iter().rev().find(|(k, _)| k == name) {
            // A platform arg redeclared without default keeps its build value.
            return v.clone().or_else(|| platform(name));
        }
        platform(name)
    };
    match super::substitute(text, &lookup) {
        Some(s) if s.contains(ANY) => Resolved::Pattern(s.to_ascii_lowercase()),
        Some(s) => Resolved::Exact(s.to_ascii_lowercase()),
        None => Resolved::Unknown,
    }
}

fn platform(name: &str) -> Option<String> {
    PLATFORM_ARGS.contains(&name).then(|| ANY.to_string())
}

/// True if reference `r` may name a stage called `name`.
fn may_match(r: &Resolved, name: &Resolved) -> bool {
    match (r, name) {
        (Resolved::Unknown, _) | (_, Resolved::Unknown) => true,
        (Resolved::Exact(a), Resolved::Exact(b)) => a == b,
        (Resolved::Pattern(p), Resolved::Exact(s)) | (Resolved::Exact(s), Resolved::Pattern(p)) => {
            glob(p, s)
        }
        // Two patterns: assume they may meet.
        (Resolved::Pattern(_), Resolved::Pattern(_)) => true,
    }
}

/// Matches `text` against `pattern`, where [`ANY`] matches any run of
/// characters. The classic wildcard walk: on a mismatch, only the last
/// [`ANY`] takes one more character, so the time is bounded by
/// `pattern.len() * text.len()` (a recursive try-every-split is exponential in
/// the number of wildcards; the pipeline fuzzer found a file that hung on it).
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split(ANY).collect();
    let (first, rest) = parts.split_first().expect("split yields one part");
    let Some(mut tail) = text.strip_prefix(first) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return tail.is_empty(); // no wildcard: `first` had to be all of `text`
    };
    // Each middle part matches at its leftmost place: any later match leaves
    // less text for the parts after it, never more.
    for part in middle {
        match tail.find(part) {
            Some(at) => tail = &tail[at + part.len()..],
            None => return false,
        }
    }
    tail.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_wildcards_in_bounded_time() {
        let any = ANY.to_string();
        let p = |parts: &[&str]| parts.join(&any);
        assert!(glob(&p(&["a", "b", "c"]), "axxbyyc"));
        assert!(glob(&p(&["a", "b", "c"]), "abc"));
        assert!(!glob(&p(&["a", "b", "c"]), "ab"));
        assert!(!glob(&p(&["a", "c"]), "acb"));
        assert!(glob(&p(&["", ""]), "anything"));
        assert!(glob(&p(&["x", ""]), "x"));
        assert!(glob("exact", "exact") && !glob("exact", "exactly"));
        assert!(glob(&p(&["ab", "ab"]), "abab") && !glob(&p(&["ab", "ab"]), "aba"));
        // 40 wildcards against a 200-character name that does not match: the
        // old recursive matcher tried every split (found hanging by the
        // pipeline fuzzer).
        let pattern = vec!["a"; 41].join(&any) + "z";
        assert!(!glob(&pattern, &"a".repeat(200)));
    }

    fn scope(src: &str) -> Scope {
        Scope::of(&crate::syntax::parse(src).expect("parses"))
    }

    #[test]
    fn last_stage_and_its_from_chain_ship() {
        let s = scope(
            "FROM a AS base\nFROM b AS build\nFROM c AS unused\nFROM base\nCOPY --from=build /x /x\n",
        );
        assert_eq!(s.used, vec![true, true, false, true]);
        assert_eq!(s.ships, vec![true, false, false, true]);
    }

    #[test]
    fn stages_built_on_a_stage_and_their_instructions() {
        let src =
            "ARG X\nFROM a AS base\nRUN x\nFROM b AS other\nFROM base AS mid\nRUN y\nFROM MID\n";
        let s = scope(src);
        assert_eq!(s.built_on(0), vec![0, 2, 3]);
        assert_eq!(s.built_on(1), vec![1]);
        assert_eq!(s.stage_of(0), None, "the ARG before the first FROM");
        assert_eq!(s.stage_of(2), Some(0));
        assert_eq!(s.stage_of(6), Some(3));
        assert_eq!(s.instructions_of(0, 7), 1..3);
        assert_eq!(s.instructions_of(3, 7), 6..7);
        // An exact name and a name built from a variable both match.
        let s = scope("ARG V\nFROM a AS x\nFROM a AS ${V}\nFROM a AS y\nFROM x\n");
        assert_eq!(s.bases[3], vec![0, 1]);
    }

    #[test]
    fn references_with_platform_args_name_every_matching_stage() {
        let s = scope(
            "FROM a AS build_amd64\nFROM a AS build_arm64\nFROM a AS other\nFROM scratch\nCOPY --from=build_${TARGETARCH} /x /x\n",
        );
        assert_eq!(s.used, vec![true, true, false, true]);
        assert_eq!(s.ships, vec![false, false, false, true]);
        let s = scope("FROM a AS build_amd64\nFROM a AS b\nFROM build_$TARGETARCH\n");
        assert_eq!(s.ships, vec![true, false, true]);
        // A stage name made with a platform arg.
        let s = scope(
            "FROM a AS build_${TARGETARCH}\nFROM a AS b\nFROM scratch\nCOPY --from=build_${TARGETARCH} /x /x\n",
        );
        assert_eq!(s.used, vec![true, false, true]);
    }

    #[test]
    fn references_with_arg_defaults_resolve() {
        let s = scope("ARG VARIANT=slim\nFROM a AS full\nFROM a AS slim\nFROM ${VARIANT}\nRUN x\n");
        assert_eq!(s.ships, vec![false, true, true]);
        assert_eq!(s.used, vec![false, true, true]);
        // `FROM ${BASE}` naming an image: earlier stages do not ship.
        let s =
            scope("ARG BASE=debian:12\nFROM a AS build\nFROM ${BASE}\nCOPY --from=build /x /x\n");
        assert_eq!(s.ships, vec![false, true]);
        assert_eq!(s.used, vec![true, true]);
    }

    #[test]
    fn unresolved_references_may_name_any_earlier_stage() {
        let s = scope("ARG FLAVOUR\nFROM a AS one\nFROM a AS two\nFROM $FLAVOUR\n");
        assert_eq!(s.ships, vec![true, true, true]);
        let s = scope("FROM a AS one\nFROM a AS two\nFROM scratch\nCOPY --from=${X} /x /x\n");
        assert_eq!(s.used, vec![true, true, true]);
        assert_eq!(s.ships, vec![false, false, true]);
        // `${X:+...}` is not expanded: any stage.
        let s = scope(
            "FROM a AS buildkit-linux\nFROM a AS buildkit-linux-debug\nFROM buildkit-$TARGETOS${DEBUG:+-debug}\n",
        );
        assert_eq!(s.ships, vec![true, true, true]);
        let s = scope("FROM a\nFROM b\nFROM c\nCOPY --from=0 /x /x\nRUN --mount=type=bind,from=1,target=/y y\n");
        assert_eq!(s.used, vec![true, true, true]);
    }
}
