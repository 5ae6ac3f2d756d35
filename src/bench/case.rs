//! Bench cases: which Dockerfiles to measure and how (`case.yaml`).
//!
//! Each argument of `dopt bench` is a Dockerfile or a folder. In a folder, every
//! `case.yaml` is a case, and so is every Dockerfile (`crate::discover`) whose
//! folder has no `case.yaml`. A `case.yaml` (all keys optional):
//!
//! ```yaml
//! name: node-express        # default: the folder's name
//! dockerfile: Dockerfile    # relative to the case.yaml's folder
//! context: .                # the build context, relative to that folder too
//! target: runtime           # the stage to build
//! build_args: { VERSION: "1" }
//! run_timeout: 30          # seconds each image may run during verification
//! probe:
//!   path: /healthz          # the HTTP path verification requests
//!   status: 200             # the status the optimized image must answer
//!   output: "hello"         # text the one-shot output must contain
//! notes: why this case is here
//! expect:
//!   verified: false         # a known gap; `reason` says which
//!   reason: ...
//! ```
//!
//! `context` and `dockerfile` may point outside the case's folder, so a case can
//! measure an app that lives elsewhere (`../../../../shared/corpus/apps/x`)
//! without copying it. A `bench:` section of a `.dopt.yaml` beside the
//! Dockerfile is read the same way when there is no `case.yaml`.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What a `case.yaml` says.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    pub name: Option<String>,
    pub dockerfile: Option<PathBuf>,
    pub context: Option<PathBuf>,
    pub target: Option<String>,
    #[serde(default)]
    pub build_args: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub probe: Probe,
    /// Seconds each image may run during verification (`--run-timeout`).
    pub run_timeout: Option<u64>,
    pub notes: Option<String>,
    #[serde(default)]
    pub expect: Expect,
}

/// How to check the optimized image beyond dopt's comparison with the original.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Probe {
    pub path: Option<String>,
    pub status: Option<u16>,
    pub output: Option<String>,
}

/// What the case is expected to show (a known gap is written down, not hidden).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    #[serde(default = "yes")]
    pub verified: bool,
    pub reason: Option<String>,
}

fn yes() -> bool {
    true
}

impl Default for Expect {
    fn default() -> Self {
        Expect {
            verified: true,
            reason: None,
        }
    }
}

/// One case, resolved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Case {
    pub name: String,
    pub dockerfile: PathBuf,
    pub context: PathBuf,
    /// The `case.yaml` it came from, if any.
    pub case_file: Option<PathBuf>,
    pub target: Option<String>,
    pub build_args: Vec<(String, String)>,
    pub probe: Probe,
    pub run_timeout: Option<u64>,
    pub notes: Option<String>,
    pub expect: Expect,
}

/// The cases named by `paths`, in order (folders sorted), or the first error.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<Case>, String> {
    let mut cases = Vec::new();
    for path in paths {
        if path.is_dir() {
            let found = cases_in(path)?;
            if found.is_empty() {
                return Err(format!(
                    "{}: no case.yaml and no Dockerfile in it",
                    path.display()
                ));
            }
            cases.extend(found);
        } else if path.is_file() {
            let folder = path.parent().unwrap_or(Path::new(".")).to_path_buf();
            let case_yaml = folder.join("case.yaml");
            let file = if path.file_name().is_some_and(|n| n == "case.yaml") {
                Some(path.clone())
            } else {
                None
            };
            match file {
                Some(f) => cases.push(from_case_file(&f)?),
                None if case_yaml.is_file() => {
                    let mut case = from_case_file(&case_yaml)?;
                    case.dockerfile = path.clone();
                    cases.push(case);
                }
                None => cases.push(plain(path, &folder)?),
            }
        } else {
            return Err(format!("{}: no such file or folder", path.display()));
        }
    }
    let mut names = std::collections::HashSet::new();
    for case in &mut cases {
        let base = case.name.clone();
        let mut n = 2;
        while !names.insert(case.name.clone()) {
            case.name = format!("{base}-{n}");
            n += 1;
        }
    }
    Ok(cases)
}

fn cases_in(dir: &Path) -> Result<Vec<Case>, String> {
    let mut case_files: Vec<PathBuf> = ignore::WalkBuilder::new(dir)
        .hidden(false)
        .require_git(false)
        .filter_entry(|e| e.file_name() != ".git")
        .build()
        .flatten()
        .filter(|e| e.file_name() == "case.yaml")
        .map(ignore::DirEntry::into_path)
        .collect();
    case_files.sort();
    let mut cases = Vec::new();
    for f in &case_files {
        cases.push(from_case_file(f)?);
    }
    for dockerfile in crate::discover::dockerfiles(dir) {
        let folder = dockerfile.parent().unwrap_or(dir).to_path_buf();
        if folder.join("case.yaml").is_file() {
            continue;
        }
        cases.push(plain(&dockerfile, &folder)?);
    }
    Ok(cases)
}

fn folder_name(folder: &Path) -> String {
    folder
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "case".into())
}

/// A Dockerfile without a `case.yaml`: its folder's `.dopt.yaml` `bench:`
/// section, else the defaults.
fn plain(dockerfile: &Path, folder: &Path) -> Result<Case, String> {
    let config = folder.join(".dopt.yaml");
    let section = std::fs::read_to_string(&config)
        .ok()
        .and_then(|text| serde_yaml::from_str::<serde_yaml::Value>(&text).ok())
        .and_then(|v| v.get("bench").cloned());
    let file: CaseFile = match section {
        Some(v) => {
            serde_yaml::from_value(v).map_err(|e| format!("{}: bench: {e}", config.display()))?
        }
        None => CaseFile::default(),
    };
    let mut name = folder_name(folder);
    let file_name = dockerfile
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if file_name != "Dockerfile" {
        name = format!("{name}/{file_name}");
    }
    Ok(resolve(
        file,
        folder,
        None,
        name,
        Some(dockerfile.to_path_buf()),
    ))
}

fn from_case_file(path: &Path) -> Result<Case, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let file: CaseFile = if text.trim().is_empty() {
        CaseFile::default()
    } else {
        serde_yaml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?
    };
    let folder = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let name = folder_name(&folder);
    let case = resolve(file, &folder, Some(path.to_path_buf()), name, None);
    if !case.dockerfile.is_file() {
        return Err(format!(
            "{}: the Dockerfile {} does not exist",
            path.display(),
            case.dockerfile.display()
        ));
    }
    if !case.context.is_dir() {
        return Err(format!(
            "{}: the context {} is not a folder",
            path.display(),
            case.context.display()
        ));
    }
    Ok(case)
}

fn resolve(
    file: CaseFile,
    folder: &Path,
    case_file: Option<PathBuf>,
    default_name: String,
    dockerfile: Option<PathBuf>,
) -> Case {
    let context = folder.join(file.context.unwrap_or_else(|| PathBuf::from(".")));
    let dockerfile = dockerfile.unwrap_or_else(|| {
        // A Dockerfile named relative to the case's folder.
        folder.join(
            file.dockerfile
                .unwrap_or_else(|| PathBuf::from("Dockerfile")),
        )
    });
    Case {
        name: file.name.unwrap_or(default_name),
        dockerfile,
        context,
        case_file,
        target: file.target,
        build_args: file.build_args.into_iter().collect(),
        probe: file.probe,
        run_timeout: file.run_timeout,
        notes: file.notes,
        expect: file.expect,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn folders_case_files_and_plain_dockerfiles() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(&root.join("a/Dockerfile"), "FROM x\n");
        write(
            &root.join("a/case.yaml"),
            "name: app-a\ntarget: run\nbuild_args: {V: '1'}\nprobe: {path: /healthz, status: 200}\n",
        );
        write(&root.join("b/Dockerfile"), "FROM x\n");
        write(&root.join("elsewhere/app/Dockerfile"), "FROM x\n");
        write(&root.join("c/case.yaml"), "context: ../elsewhere/app\ndockerfile: ../elsewhere/app/Dockerfile\nexpect: {verified: false, reason: known}\n");
        write(&root.join("d/api.Dockerfile"), "FROM x\n");
        let cases = discover(&[
            root.join("a"),
            root.join("b"),
            root.join("c"),
            root.join("d"),
        ])
        .unwrap();
        let names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["app-a", "b", "c", "d/api.Dockerfile"]);
        assert_eq!(cases[0].target.as_deref(), Some("run"));
        assert_eq!(cases[0].build_args, [("V".to_string(), "1".to_string())]);
        assert_eq!(cases[0].probe.status, Some(200));
        assert!(cases[2].context.ends_with("c/../elsewhere/app"));
        assert!(!cases[2].expect.verified);
        // The whole folder: the case.yaml cases, then Dockerfiles without one
        // (elsewhere/app counts too: it has no case.yaml).
        let all = discover(&[root.to_path_buf()]).unwrap();
        assert_eq!(all.len(), 5);
    }

    #[test]
    fn bad_case_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(&root.join("x/case.yaml"), "targett: run\n");
        let err = discover(&[root.join("x")]).unwrap_err();
        assert!(
            err.contains("case.yaml") && err.contains("targett"),
            "{err}"
        );
        write(&root.join("y/case.yaml"), "dockerfile: nope\n");
        let err = discover(&[root.join("y")]).unwrap_err();
        assert!(err.contains("does not exist"), "{err}");
        let err = discover(&[root.join("empty-missing")]).unwrap_err();
        assert!(err.contains("no such file"), "{err}");
    }
}
