//! The `dopt` command line: argument parsing (clap), dispatch, exit codes.
//!
//! Exit codes, as documented in `--help`:
//! - 0: nothing to suggest / no findings / everything applied;
//! - 1: suggestions or findings exist (`suggest`, `check`), or verification failed;
//! - 2: an error (unreadable or unparsable file, fixes that do not converge,
//!   bad configuration, no engine).

mod commands;
mod input;
mod output;

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

const AFTER_HELP: &str = "\
Exit codes:
  0  nothing to suggest, no findings, or all changes applied
  1  suggestions or findings exist (suggest, check), or verification failed
  2  error: unreadable or unparsable input, fixes that do not converge (nothing
     is written), bad configuration, no Docker engine

Input limits: at most 32 MiB per input (files and stdin); lines up to 65,535
bytes, as in BuildKit. `apply` rewrites regular files only and refuses read-only
ones; it writes through symlinks and keeps hard links, owner and group.

Examples:
  dopt suggest                      # findings and a diff for ./Dockerfile
  dopt suggest --unsafe app/Dockerfile
  dopt apply                        # rewrite ./Dockerfile with the safe fixes
  dopt check --format sarif > dopt.sarif
  dopt rules                        # list the passes; `dopt rule DOP001` explains one";

#[derive(Debug, Parser)]
#[command(
    name = "dopt",
    version,
    about = "Make Dockerfiles smaller, faster to rebuild and safer, with minimal explained diffs",
    long_about = "dopt parses Dockerfiles losslessly, runs optimization passes (merge RUN layers, \
package-cache hygiene, COPY order for the layer cache, non-root USER, HEALTHCHECK, multi-stage \
split, ...) and shows each change as a unified diff with its reason, or applies it in place. \
Changes that could alter behaviour are marked unsafe and applied only with --unsafe.",
    after_help = AFTER_HELP
)]
pub struct Cli {
    /// When to use colour: auto (terminal and no NO_COLOR), always, never.
    #[arg(long, value_enum, default_value_t = ColorWhen::Auto, global = true)]
    pub color: ColorWhen,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse a Dockerfile and print its tree (JSON) or BuildKit's dump format.
    Parse(ParseArgs),
    /// Show findings and the unified diff of the fixes, without writing anything.
    /// With --build, also build both versions, verify and measure the savings.
    Suggest(SuggestArgs),
    /// Rewrite Dockerfiles in place with the fixes (atomically: temp file + rename;
    /// in place for hard-linked files).
    /// With --verify, only when the optimized image builds and behaves the same.
    Apply(ApplyArgs),
    /// Report findings without rewriting, for CI gates and code scanning.
    Check(CheckArgs),
    /// List the optimization passes.
    Rules(RulesArgs),
    /// Size benchmark: optimize, build, verify and measure many cases
    /// (Dockerfiles, folders, case.yaml files), with a report and CI gates.
    Bench(BenchArgs),
    /// Print the documentation of one pass (by code or name).
    Rule {
        /// A pass code (DOP001) or name (merge-run).
        code: String,
    },
}

#[derive(Debug, Args)]
pub struct ParseArgs {
    /// The Dockerfile to parse (`-` for stdin).
    pub file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ParseFormat::Json)]
    pub format: ParseFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ParseFormat {
    /// The typed tree with byte spans.
    Json,
    /// BuildKit's parser dump format (one line per instruction).
    Buildkit,
}

/// Options shared by every command that runs passes.
#[derive(Debug, Args, Clone)]
pub struct PassArgs {
    /// Dockerfiles or folders to process (`-` for stdin). A folder stands for the
    /// Dockerfiles under it (Dockerfile, Containerfile, Dockerfile.*, *.Dockerfile),
    /// honouring .gitignore. Default: ./Dockerfile.
    pub paths: Vec<PathBuf>,
    /// Only run these passes (codes, names or code prefixes, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "PASS")]
    pub select: Vec<String>,
    /// Never run these passes (codes, names or code prefixes, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "PASS")]
    pub ignore: Vec<String>,
    /// The build context, to check which manifests and lockfiles exist.
    /// Default: the Dockerfile's folder.
    #[arg(long, value_name = "DIR")]
    pub context: Option<PathBuf>,
    /// Configuration file. Default: `.dopt.yaml` in the Dockerfile's folder or above.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Ignore any `.dopt.yaml`.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,
    /// A folder of profile YAML files that override or extend the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub profiles: Option<PathBuf>,
}

#[derive(Debug, Args, Clone)]
pub struct FixArgs {
    #[command(flatten)]
    pub pass: PassArgs,
    /// Also apply fixes that might change behaviour (marked unsafe).
    #[arg(long = "unsafe")]
    pub unsafe_fixes: bool,
}

#[derive(Debug, Args, Clone)]
pub struct SuggestArgs {
    #[command(flatten)]
    pub fix: FixArgs,
    /// Exit 0 even when there are suggestions.
    #[arg(long)]
    pub exit_zero: bool,
    /// Only print the findings, not the diff.
    #[arg(long)]
    pub no_diff: bool,
    /// Build the original and the optimized Dockerfile with the Docker engine,
    /// verify that the optimized image still works, and report the savings.
    #[arg(long)]
    pub build: bool,
    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Debug, Args, Clone)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub fix: FixArgs,
    /// Write a file only if its optimized version builds and verifies (needs a
    /// Docker engine); otherwise say why and leave it alone.
    #[arg(long)]
    pub verify: bool,
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// How to build and verify (with `suggest --build` / `apply --verify`).
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Build and verify (with --build / --verify)")]
pub struct EngineArgs {
    /// A build argument for both builds (repeatable).
    #[arg(long = "build-arg", value_name = "KEY=VALUE")]
    pub build_args: Vec<String>,
    /// The stage to build, for both versions.
    #[arg(long, value_name = "STAGE")]
    pub target: Option<String>,
    /// Which builder: auto picks BuildKit only when the Dockerfile needs it.
    #[arg(long, value_enum, default_value_t = BuilderArg::Auto)]
    pub builder: BuilderArg,
    /// Network for RUN steps during the build (e.g. `host`).
    #[arg(long, value_name = "NETWORK", env = "DOPT_BUILD_NETWORK")]
    pub network: Option<String>,
    /// Keep the built images instead of removing them.
    #[arg(long)]
    pub keep_images: bool,
    /// The HTTP path requested to check a server image.
    #[arg(long, value_name = "PATH", default_value = "/")]
    pub verify_path: String,
    /// Seconds each image gets to answer, or its command to finish.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub run_timeout: u64,
    /// When the file with every fix does not build or verify, at most this many
    /// extra builds search for the fixes responsible (by pass, then halving);
    /// the others are kept. 0: no search (all or nothing).
    #[arg(long, value_name = "N", default_value_t = 12)]
    pub max_builds: usize,
    /// Print the build report as JSON on stdout (instead of findings and diff).
    #[arg(long)]
    pub json: bool,
    /// Also write the build report as Markdown to FILE.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum BuilderArg {
    Auto,
    Classic,
    Buildkit,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub pass: PassArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
    /// Exit 0 even when there are findings.
    #[arg(long)]
    pub exit_zero: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CheckFormat {
    /// `path:line:col: CODE [fix] message`, one per line.
    Text,
    /// A JSON array of findings (and of errors, with `"error": true`).
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// GitHub Actions annotations (`::warning file=...`).
    Github,
    /// A GitLab Code Quality report (`artifacts: reports: codequality:`).
    Gitlab,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Each case is run as `dopt suggest --unsafe --build --json` (build both versions, verify,
search for the fixes that break it, measure). A folder stands for the case.yaml files and the
Dockerfiles (without a case.yaml beside them) under it; see src/bench/case.rs for case.yaml.

Exit codes:
  0  every case ran and the gates passed
  1  a gate failed: --fail-under-median, --require-verified (a case that did not verify
     and was not expected to), or a case failed
  2  error: a case.yaml or path is wrong, no Docker engine, a report cannot be written")]
pub struct BenchArgs {
    /// Dockerfiles, case.yaml files or folders of cases.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Cases built at the same time (they share the engine and its cache).
    #[arg(long, short = 'j', default_value_t = 1)]
    pub jobs: usize,
    /// Write the report as Markdown to FILE.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Write the report as JSON to FILE (`-` for stdout).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Fail (exit 1) when the median size saving is below PCT percent.
    #[arg(long, value_name = "PCT")]
    pub fail_under_median: Option<f64>,
    /// Fail (exit 1) when a case does not verify (unless its case.yaml expects it).
    #[arg(long)]
    pub require_verified: bool,
    /// Network for the builds' RUN steps (`host` where installs need it).
    #[arg(long)]
    pub network: Option<String>,
    /// Which builder builds every case: auto picks BuildKit only when a
    /// Dockerfile needs it. Warm rebuilds on the classic builder include about a
    /// second of per-step commits that BuildKit does not have.
    #[arg(long, value_enum, default_value_t = BuilderArg::Auto)]
    pub builder: BuilderArg,
    /// Seconds each image may run during verification.
    #[arg(long, value_name = "SECONDS")]
    pub run_timeout: Option<u64>,
    /// Extra builds the fix-by-fix search may make per case.
    #[arg(long, value_name = "N")]
    pub max_builds: Option<usize>,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = RulesFormat::Text)]
    pub format: RulesFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RulesFormat {
    Text,
    Json,
    Markdown,
}

/// Process exit codes.
pub mod exit {
    pub const OK: i32 = 0;
    pub const FINDINGS: i32 = 1;
    pub const ERROR: i32 = 2;
}

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::ERROR
            } else {
                exit::OK
            };
            let _ = e.print();
            return code;
        }
    };
    match cli.color {
        ColorWhen::Auto => anstream::ColorChoice::Auto.write_global(),
        ColorWhen::Always => anstream::ColorChoice::Always.write_global(),
        ColorWhen::Never => anstream::ColorChoice::Never.write_global(),
    }
    match commands::run(cli.command) {
        Ok(code) => code,
        Err(err) => {
            if output::is_broken_pipe(&err) {
                // Like ripgrep: `dopt ... | head` is not an error.
                return exit::OK;
            }
            output::error(&format!("{err:#}"));
            exit::ERROR
        }
    }
}
