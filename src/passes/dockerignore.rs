//! DOP022 `dockerignore`: a whole-context COPY without a `.dockerignore` that
//! keeps VCS data, dependencies and caches out.

use crate::docker::dockerignore::DockerIgnore;
use crate::fix::{Finding, Fix};
use crate::model::commands;
use crate::passes::{Pass, PassContext};
use crate::syntax::{InstructionKind, Span};

macro_rules! docs {
    () => {
        r#"## What it does
When the Dockerfile copies the whole build context (`COPY . .`), checks that a
`.dockerignore` exists and excludes the usual heavy or sensitive folders that are
present: `.git`, `node_modules`, Python caches and virtualenvs, Rust `target`.
Offers a `.dockerignore` when there is none.

## Why is this bad?
Everything in the context is sent to the builder and, with `COPY . .`, lands in
the image: the whole Git history, a host `node_modules` built for another OS,
caches. The image grows, builds are slower, and any change to these files
invalidates the layer cache.

## Example
A context with `.git/` and `node_modules/`, no `.dockerignore`, and:
```dockerfile
COPY . .
RUN npm ci
```

The fix creates `.dockerignore`:
```text
.git
node_modules
```

Entries are only added when the Dockerfile does not use them: no `.git` when a RUN
calls `git`, no `node_modules` unless the Dockerfile installs Node dependencies
itself, nothing a COPY names as a source. An existing `.dockerignore` is never
overwritten: missing entries are reported without a fix.

## Fix safety
Unsafe: a build step or the application might read an excluded file (e.g. a
version computed from `.git`)."#
    };
}

#[doc = docs!()]
pub struct Dockerignore;

impl Pass for Dockerignore {
    fn code(&self) -> &'static str {
        "DOP022"
    }
    fn name(&self) -> &'static str {
        "dockerignore"
    }
    fn summary(&self) -> &'static str {
        "COPY . . without a .dockerignore that excludes .git, node_modules, caches"
    }
    fn docs(&self) -> &'static str {
        docs!()
    }
    fn run(&self, ctx: &PassContext) -> Vec<Finding> {
        let Some(context) = ctx.build_context else {
            return Vec::new();
        };
        let file = ctx.file;
        let model = ctx.model();
        let Some(copy) = model
            .stages
            .iter()
            .flat_map(|s| s.copies.iter())
            .find(|c| c.whole_context)
        else {
            return Vec::new();
        };
        let root = context.path();
        let exists = |p: &str| root.join(p).exists();
        let sources: Vec<String> = model
            .stages
            .iter()
            .flat_map(|s| s.copies.iter())
            .filter(|c| c.from.is_none())
            .flat_map(|c| {
                c.sources
                    .iter()
                    .map(|s| s.trim_start_matches("./").to_string())
            })
            .collect();
        let named_by_copy = |entry: &str| {
            sources
                .iter()
                .any(|s| s == entry || s.starts_with(&format!("{entry}/")))
        };
        // What the RUNs use.
        let mut programs: Vec<String> = Vec::new();
        for inst in &file.instructions {
            if let InstructionKind::Run(command) = &inst.kind {
                let script = crate::model::run_script(command, inst);
                for cmd in commands::simple_commands(&script) {
                    programs.push(commands::program(&cmd).to_string());
                    if let Some(sub) = cmd.get(1) {
                        programs.push(format!("{} {sub}", commands::program(&cmd)));
                    }
                }
            }
        }
        let runs = |p: &str| programs.iter().any(|x| x == p);
        let installs_node = [
            "npm ci",
            "npm install",
            "npm i",
            "yarn",
            "pnpm install",
            "pnpm i",
        ]
        .iter()
        .any(|p| runs(p));
        let is_python = exists("requirements.txt")
            || exists("pyproject.toml")
            || exists("setup.py")
            || exists("Pipfile");

        // Candidate entries: (pattern, relevant here?, safe to exclude?)
        let candidates: Vec<(&str, bool, bool)> = vec![
            (
                ".git",
                exists(".git"),
                !runs("git") && !named_by_copy(".git"),
            ),
            (
                "node_modules",
                exists("node_modules") || exists("package.json"),
                installs_node && !named_by_copy("node_modules"),
            ),
            ("**/__pycache__", is_python, true),
            ("**/*.pyc", is_python, true),
            (
                ".venv",
                exists(".venv") || is_python,
                !named_by_copy(".venv"),
            ),
            ("target", exists("Cargo.toml"), !named_by_copy("target")),
        ];
        let inst = &file.instructions[copy.instruction];
        let span = Span::new(inst.keyword_span.start, inst.args_span.end);
        let ignore = DockerIgnore::from_dir(root).unwrap_or_else(|_| DockerIgnore::parse(""));
        if !ignore.is_present() {
            let entries: Vec<&str> = candidates
                .iter()
                .filter(|(_, relevant, safe)| *relevant && *safe)
                .map(|(p, _, _)| *p)
                .collect();
            let mut content = String::from(
                "# Keep VCS data, host dependencies and caches out of the build context\n# (and out of `COPY . .`).\n",
            );
            let listed = if entries.is_empty() {
                vec![".git"]
            } else {
                entries
            };
            let listed: Vec<&str> = if runs("git") {
                listed.into_iter().filter(|e| *e != ".git").collect()
            } else {
                listed
            };
            if listed.is_empty() {
                return Vec::new();
            }
            for e in &listed {
                content.push_str(e);
                content.push('\n');
            }
            let mut fix = Fix::unsafe_(Vec::new());
            fix.new_files.push((".dockerignore".to_string(), content));
            return vec![Finding {
                code: "DOP022",
                name: "dockerignore",
                message: format!(
                    "`{} {}` sends the whole build context, and there is no .dockerignore; create one excluding {}",
                    inst.keyword,
                    inst.logical.text.trim(),
                    listed.join(", ")
                ),
                span,
                fix: Some(fix),
            }];
        }
        // An existing file: report heavy folders that exist and are not excluded.
        let missing: Vec<&str> = candidates
            .iter()
            .filter(|(p, _, safe)| {
                *safe && !p.contains('*') && root.join(p).is_dir() && !ignore.is_excluded(p)
            })
            .map(|(p, _, _)| *p)
            .collect();
        if missing.is_empty() {
            return Vec::new();
        }
        vec![Finding {
            code: "DOP022",
            name: "dockerignore",
            message: format!(
                "`{} {}` sends the whole build context, and .dockerignore does not exclude {}; add {}",
                inst.keyword,
                inst.logical.text.trim(),
                missing.join(", "),
                if missing.len() == 1 { "it" } else { "them" }
            ),
            span,
            fix: None,
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::check;

    #[test]
    fn offers_a_dockerignore() {
        let c = check(
            &Dockerignore,
            "FROM node:20\nCOPY . .\nRUN npm ci\n",
            Some(&[
                ("package.json", "{}"),
                (".git/HEAD", "ref"),
                ("node_modules/x/index.js", ""),
            ]),
        );
        assert_eq!(c.findings.len(), 1);
        assert_eq!(c.fixed, "FROM node:20\nCOPY . .\nRUN npm ci\n");
        assert_eq!(c.new_files.len(), 1);
        let (path, content) = &c.new_files[0];
        assert_eq!(path, ".dockerignore");
        assert!(content.ends_with("\n.git\nnode_modules\n"), "{content}");
    }

    #[test]
    fn keeps_what_the_build_uses() {
        let c = check(
            &Dockerignore,
            "FROM python:3\nCOPY . .\nRUN git rev-parse HEAD > /version\n",
            Some(&[("requirements.txt", ""), (".git/HEAD", "ref")]),
        );
        let content = &c.new_files[0].1;
        assert!(!content.contains(".git\n"), "{content}");
        assert!(content.contains("**/__pycache__\n"));
    }

    #[test]
    fn existing_file_missing_entries() {
        let c = check(
            &Dockerignore,
            "FROM node:20\nCOPY . .\nRUN npm ci\n",
            Some(&[
                (".dockerignore", "*.md\n"),
                (".git/HEAD", "ref"),
                ("node_modules/x/index.js", ""),
            ]),
        );
        assert_eq!(c.findings.len(), 1);
        assert!(c.findings[0].fix.is_none());
        assert!(c.findings[0].message.contains(".git, node_modules"));
    }

    #[test]
    fn must_not_fire() {
        let cases: &[(&str, &[(&str, &str)])] = &[
            ("FROM node:20\nCOPY package.json .\n", &[(".git/HEAD", "")]),
            (
                "FROM node:20\nCOPY . .\n",
                &[(".dockerignore", ".git\n"), (".git/HEAD", "")],
            ),
        ];
        for (src, files) in cases {
            let c = check(&Dockerignore, src, Some(files));
            assert!(c.findings.is_empty(), "{src}: {:?}", c.findings);
        }
        let c = check(&Dockerignore, "FROM a\nCOPY . .\n", None);
        assert!(c.findings.is_empty());
    }
}
