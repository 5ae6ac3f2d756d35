//! Optimization passes: one pass per file, each with a stable code, a kebab-case
//! name and docs (What it does / Why is this bad? / Example / Fix safety).
//!
//! A pass reads the parsed file (plus profiles and the build context) and returns
//! findings; each finding may carry a fix made of byte-range edits over the
//! original text. Passes never print; the fix engine applies and re-runs them.

pub mod add_to_copy;
pub mod apk;
pub mod apt_get;
pub mod build_deps;
pub mod composer;
pub mod copy_order;
pub mod dockerignore;
pub mod exec_form;
pub mod gem;
pub mod healthcheck;
pub mod latest_tag;
pub mod maintainer;
pub mod merge_run;
pub mod non_root_user;
pub mod npm;
pub mod package_hygiene;
pub mod pip;
pub mod relative_workdir;
pub mod rpm;
pub mod slim_base;
pub mod split_stages;
pub mod yarn;

use crate::fix::Finding;
use crate::model::Model;
use crate::shell;
use crate::syntax::Dockerfile;
use std::cell::OnceCell;
use std::path::{Path, PathBuf};

/// What a pass gets to look at. Make one per parsed file with
/// [`PassContext::new`] and give it to every pass: the semantic model is built
/// at most once per context.
pub struct PassContext<'a> {
    pub file: &'a Dockerfile,
    /// Ecosystem knowledge loaded from `profiles/` (embedded + user overrides).
    pub profiles: &'a crate::profiles::Profiles,
    /// The build context, to check which files exist (manifests, lockfiles,
    /// `.dockerignore`). `None` for stdin input without `--context`.
    pub build_context: Option<&'a BuildContext>,
    /// Per-pass options from `.dopt.yaml` (`options: { <pass-name>: {...} }`).
    pub options: &'a serde_yaml::Mapping,
    /// `Model::build(file)`, built by the first pass that asks. The context
    /// borrows `file`, so the file cannot change under it: the fix loop parses
    /// again after each round and makes a new context for the new parse.
    model: OnceCell<Model>,
    /// `shell::run_shell` of each instruction (by index), made on first use:
    /// the package-hygiene passes alone would otherwise analyse every RUN eight
    /// times per round.
    shells: Vec<OnceCell<Option<shell::Script>>>,
    /// True when the split-stages fix will be applied by this run (the pass is
    /// selected and unsafe fixes are on). Set by the runner; false by default.
    pub split_applies: bool,
    /// What the running original showed (`--verify`, see
    /// `evidence::runtime`); `None` for static runs. DOP011 and DOP012 read it.
    pub runtime: Option<&'a crate::evidence::runtime::RuntimeEvidence>,
    /// [`split_stages::plan`] of `file`, made on first use.
    split: OnceCell<Option<split_stages::Found>>,
    /// [`Scope::of`](crate::model::scope::Scope::of) `file`, made on first use.
    scope: OnceCell<crate::model::scope::Scope>,
    /// [`shell::posix_shell`] and [`shell::shell_errexit`] of `file`.
    shell_facts: OnceCell<(bool, bool)>,
}

impl<'a> PassContext<'a> {
    pub fn new(
        file: &'a Dockerfile,
        profiles: &'a crate::profiles::Profiles,
        build_context: Option<&'a BuildContext>,
        options: &'a serde_yaml::Mapping,
    ) -> Self {
        PassContext {
            file,
            profiles,
            build_context,
            options,
            model: OnceCell::new(),
            shells: (0..file.instructions.len())
                .map(|_| OnceCell::new())
                .collect(),
            split_applies: false,
            runtime: None,
            split: OnceCell::new(),
            scope: OnceCell::new(),
            shell_facts: OnceCell::new(),
        }
    }

    /// Which stages reach the target image, computed once per context.
    pub fn scope(&self) -> &crate::model::scope::Scope {
        self.scope
            .get_or_init(|| crate::model::scope::Scope::of(self.file))
    }

    fn shell_facts(&self) -> (bool, bool) {
        *self.shell_facts.get_or_init(|| {
            (
                shell::posix_shell(self.file),
                shell::shell_errexit(self.file),
            )
        })
    }

    /// [`shell::posix_shell`] of the file, computed once per context.
    pub fn posix_shell(&self) -> bool {
        self.shell_facts().0
    }

    /// [`shell::shell_errexit`] of the file, computed once per context.
    pub fn shell_errexit(&self) -> bool {
        self.shell_facts().1
    }

    /// The stage split DOP013 finds on this file (with its fix, or the reason
    /// there is none), computed once per context.
    pub fn split_plan(&self) -> Option<&split_stages::Found> {
        self.split.get_or_init(|| split_stages::plan(self)).as_ref()
    }

    /// True when this run will split the (single) stage into a build stage and a
    /// runtime stage: passes that harden the final stage (USER, HEALTHCHECK)
    /// wait for the next fix-loop round, when the runtime stage exists, instead
    /// of changing the stage the build keeps.
    pub fn split_pending(&self) -> bool {
        self.split_applies
            && self.split_plan().is_some_and(|found| {
                found.has_fix()
                    && !crate::runner::is_suppressed(self.file, &split_stages::finding(found))
            })
    }

    /// The semantic model of `file`, shared by all passes run with this context.
    pub fn model(&self) -> &Model {
        self.model.get_or_init(|| Model::build(self.file))
    }

    /// [`shell::run_shell`] of instruction `idx`, analysed once per context: the
    /// shell text of a shell-form RUN (or of its `RUN <<EOF` script) and its
    /// analysis.
    pub fn run_shell(&self, idx: usize) -> Option<(shell::RunText<'a>, &shell::Script)> {
        let text = shell::run_text(self.file, self.file.instructions.get(idx)?)?;
        let script = self.shells[idx]
            .get_or_init(|| shell::analyze(text.text))
            .as_ref()?;
        Some((text, script))
    }

    /// [`shell::run_script`] of instruction `idx`, from the same cache: the
    /// analysis of a shell-form RUN without heredocs.
    pub fn run_script(&self, idx: usize) -> Option<&shell::Script> {
        self.run_shell(idx)
            .filter(|(text, _)| !text.is_heredoc())
            .map(|(_, script)| script)
    }

    /// Options for one pass, or an empty mapping.
    pub fn options_for(&self, pass: &str) -> Option<&serde_yaml::Value> {
        self.options
            .get(serde_yaml::Value::String(pass.to_string()))
    }
}

/// The build context directory, as seen by COPY/ADD.
#[derive(Debug, Clone)]
pub struct BuildContext {
    pub root: PathBuf,
}

impl BuildContext {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        BuildContext { root: root.into() }
    }
    /// True if `rel` (relative to the context root) exists.
    pub fn exists(&self, rel: &str) -> bool {
        self.root.join(rel.trim_start_matches("./")).exists()
    }
    pub fn read(&self, rel: &str) -> Option<String> {
        std::fs::read_to_string(self.root.join(rel.trim_start_matches("./"))).ok()
    }
    pub fn path(&self) -> &Path {
        &self.root
    }
}

/// One optimization pass.
pub trait Pass: Sync + Send {
    /// Stable code, e.g. `DOP001`.
    fn code(&self) -> &'static str;
    /// Kebab-case name, e.g. `merge-run`.
    fn name(&self) -> &'static str;
    /// One line for `dopt rules`.
    fn summary(&self) -> &'static str;
    /// Markdown docs with the sections What it does / Why is this bad? / Example /
    /// Fix safety. Kept next to the pass, usually as the file's doc comment.
    fn docs(&self) -> &'static str;
    /// Rules of other tools this pass corresponds to (`hadolint DL3009`,
    /// `buildkit JSONArgsRecommended`...).
    fn related(&self) -> &'static [&'static str] {
        &[]
    }
    /// Passes on by default? (all are; `--select` narrows)
    fn default_enabled(&self) -> bool {
        true
    }
    fn run(&self, ctx: &PassContext) -> Vec<Finding>;
}

/// Every pass, in the order they run.
pub fn all() -> Vec<Box<dyn Pass>> {
    vec![
        Box::new(merge_run::MergeRun),
        Box::new(apt_get::AptGetHygiene),
        Box::new(apk::ApkHygiene),
        Box::new(rpm::RpmHygiene),
        Box::new(pip::PipHygiene),
        Box::new(npm::NpmHygiene),
        Box::new(yarn::YarnHygiene),
        Box::new(gem::GemHygiene),
        Box::new(composer::ComposerHygiene),
        Box::new(copy_order::CopyOrder),
        Box::new(non_root_user::NonRootUser),
        Box::new(healthcheck::Healthcheck),
        Box::new(add_to_copy::AddToCopy),
        Box::new(exec_form::ExecForm),
        Box::new(dockerignore::Dockerignore),
        Box::new(latest_tag::LatestTag),
        Box::new(maintainer::Maintainer),
        Box::new(relative_workdir::RelativeWorkdir),
        Box::new(split_stages::SplitStages),
        Box::new(slim_base::SlimBase),
        Box::new(build_deps::BuildDeps),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_analysis_is_made_once_per_context() {
        let file = crate::syntax::parse(
            "FROM debian\nRUN apt-get update > /dev/null\nRUN <<EOF\necho hi\nEOF\nCMD x\n",
        )
        .unwrap();
        let profiles = crate::profiles::Profiles::embedded();
        let options = serde_yaml::Mapping::new();
        let ctx = PassContext::new(&file, &profiles, None, &options);
        let (text, script) = ctx.run_shell(1).unwrap();
        assert_eq!(text.text, "apt-get update > /dev/null");
        assert!(std::ptr::eq(script, ctx.run_shell(1).unwrap().1));
        assert!(std::ptr::eq(script, ctx.run_script(1).unwrap()));
        assert_eq!(
            Some(script),
            crate::shell::run_script(&file.instructions[1]).as_ref()
        );
        // A heredoc script: run_shell sees its body, run_script does not.
        assert_eq!(ctx.run_shell(2).unwrap().0.text, "echo hi\n");
        assert!(ctx.run_script(2).is_none());
        assert!(ctx.run_shell(0).is_none() && ctx.run_shell(3).is_none());
        assert!(ctx.run_shell(99).is_none());
    }
}
