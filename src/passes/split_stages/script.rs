//! Simple commands of RUN/CMD text, reduced to what the split pass asks of them:
//! the program, its unquoted arguments and the `NAME=value` assignments in front
//! (`CGO_ENABLED=0 go build`, `env CGO_ENABLED=0 go build`).
//!
//! Built on [`crate::shell::analyze`]; `sh -c '...'` is read recursively.

/// One simple command.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SimpleCommand {
    /// `NAME=value` words before the program (also those given to `env`).
    pub env: Vec<(String, String)>,
    /// The effective program (base name) and its arguments, unquoted.
    pub argv: Vec<String>,
}

impl SimpleCommand {
    /// The program's base name, or "".
    pub fn program(&self) -> &str {
        self.argv.first().map(String::as_str).unwrap_or("")
    }
    pub fn args(&self) -> &[String] {
        self.argv.get(1..).unwrap_or(&[])
    }
    /// The first argument that is not an option.
    pub fn subcommand(&self) -> Option<&str> {
        self.args()
            .iter()
            .find(|a| !a.starts_with('-'))
            .map(String::as_str)
    }
    /// True if any argument is one of `flags`, exactly or as `--flag=value`.
    pub fn has_flag(&self, flags: &[&str]) -> bool {
        self.args().iter().any(|a| {
            flags
                .iter()
                .any(|f| a == f || a.strip_prefix(f).is_some_and(|r| r.starts_with('=')))
        })
    }
    /// The value of an option given as `-o value` or `--opt=value`.
    pub fn option_value(&self, names: &[&str]) -> Option<&str> {
        let args = self.args();
        for (i, a) in args.iter().enumerate() {
            for n in names {
                if a == n {
                    return args.get(i + 1).map(String::as_str);
                }
                if let Some(v) = a.strip_prefix(n).and_then(|r| r.strip_prefix('=')) {
                    return Some(v);
                }
            }
        }
        None
    }
    /// Arguments that are not options, skipping the values of the options in
    /// `takes_value`.
    pub fn operands(&self, takes_value: &[&str]) -> Vec<&str> {
        let mut out = Vec::new();
        let mut skip = false;
        for a in self.args() {
            if skip {
                skip = false;
                continue;
            }
            if a.starts_with('-') {
                skip = takes_value.contains(&a.as_str());
                continue;
            }
            out.push(a.as_str());
        }
        out
    }
    /// The value an assignment in front of this command gives `name`.
    pub fn env_value(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Shell text split into simple commands. The second value is false when the
/// shell parser could not read the text (a fallback tokenizer was used).
pub fn commands(text: &str) -> (Vec<SimpleCommand>, bool) {
    let mut out = Vec::new();
    let ok = push_script(text, &mut out, 0);
    (out, ok)
}

/// Commands of an exec-form argument list (`["npm", "ci"]`).
pub fn exec_commands(args: &[String]) -> (Vec<SimpleCommand>, bool) {
    let mut out = Vec::new();
    if let Some(pos) = shell_c(args) {
        let ok = push_script(&args[pos], &mut out, 1);
        return (out, ok);
    }
    let program = args
        .first()
        .map(|p| p.rsplit('/').next().unwrap_or(p).to_string());
    if let Some(program) = program {
        let mut argv = vec![program];
        argv.extend(args[1..].iter().cloned());
        out.push(SimpleCommand {
            env: Vec::new(),
            argv,
        });
    }
    (out, true)
}

/// For `sh -c SCRIPT ...`, the index of SCRIPT.
fn shell_c(argv: &[String]) -> Option<usize> {
    let program = argv.first()?;
    let base = program.rsplit('/').next().unwrap_or(program);
    if !matches!(base, "sh" | "bash" | "ash" | "dash") {
        return None;
    }
    let pos = argv
        .iter()
        .position(|a| a.starts_with('-') && !a.starts_with("--") && a.ends_with('c'))?;
    (pos + 1 < argv.len()).then_some(pos + 1)
}

fn push_script(text: &str, out: &mut Vec<SimpleCommand>, depth: usize) -> bool {
    let Some(script) = crate::shell::analyze(text) else {
        return true;
    };
    let mut ok = script.parse_ok;
    for cmd in &script.commands {
        let mut env: Vec<(String, String)> = cmd
            .assignments
            .iter()
            .filter_map(|w| {
                let w = w.unquoted();
                w.split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
            })
            .collect();
        // `env A=1 prog`: the wrapper's assignments come before the program index.
        let start = cmd.program_index().unwrap_or(cmd.argv.len());
        for w in &cmd.argv[..start] {
            if let Some((k, v)) = w.unquoted().split_once('=') {
                if !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                    env.push((k.to_string(), v.to_string()));
                }
            }
        }
        let argv = cmd.effective_strings();
        if depth < 3 {
            if let Some(pos) = shell_c(&argv) {
                ok &= push_script(&argv[pos], out, depth + 1);
                continue;
            }
        }
        if argv.is_empty() && env.is_empty() {
            continue;
        }
        out.push(SimpleCommand { env, argv });
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_env_prefix_and_wrappers() {
        let (cmds, ok) = commands("CGO_ENABLED=0 GOOS=linux go build -o /out/app .");
        assert!(ok);
        assert_eq!(cmds.len(), 1);
        assert_eq!(cmds[0].env_value("CGO_ENABLED"), Some("0"));
        assert_eq!(cmds[0].program(), "go");
        assert_eq!(cmds[0].option_value(&["-o"]), Some("/out/app"));
        let (cmds, _) = commands("sh -c 'cd /src && make'");
        assert_eq!(cmds.len(), 2);
        assert_eq!(cmds[1].program(), "make");
        let (cmds, _) = commands("env CGO_ENABLED=0 go build");
        assert_eq!(cmds[0].env_value("CGO_ENABLED"), Some("0"));
        assert_eq!(cmds[0].program(), "go");
        let (cmds, _) = commands("python -m pip install -r requirements.txt");
        assert_eq!(cmds[0].program(), "pip");
        assert_eq!(cmds[0].subcommand(), Some("install"));
    }

    #[test]
    fn exec_form() {
        let args: Vec<String> = ["/bin/sh", "-c", "npm ci && npm run build"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let (cmds, _) = exec_commands(&args);
        assert_eq!(cmds.len(), 2);
        assert_eq!(cmds[1].argv, vec!["npm", "run", "build"]);
    }
}
