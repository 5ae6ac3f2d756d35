//! A small, conservative reading of RUN scripts for the semantic model: split a
//! script into simple commands (argv words), then recognise package installs
//! (apt/apk/yum/dnf), package removals and user/group creation.
//!
//! This is deliberately not a full shell parser (`crate::shell` is): the model only
//! needs "is curl installed" and "was user X created", and a tokenizer that never
//! fails keeps the model total on any input. Words keep no spans here.

/// Splits a shell script into simple commands, each a list of words with quotes
/// removed. Separators are `&&`, `||`, `;`, `|`, `&`, newlines and parentheses.
/// Leading assignments (`DEBIAN_FRONTEND=noninteractive`), `sudo`, `env`, `exec`
/// and shell keywords (`if`, `then`, `do`...) are stripped so the first word is the
/// program being run.
pub fn simple_commands(script: &str) -> Vec<Vec<String>> {
    let mut commands = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = script.chars().peekable();

    fn end_word(words: &mut Vec<String>, word: &mut String, in_word: &mut bool) {
        if *in_word {
            words.push(std::mem::take(word));
            *in_word = false;
        }
    }
    fn end_command(commands: &mut Vec<Vec<String>>, words: &mut Vec<String>) {
        let taken = std::mem::take(words);
        let stripped = strip_prefixes(taken);
        if !stripped.is_empty() {
            commands.push(stripped);
        }
    }

    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    word.push(q);
                }
            }
            '"' => {
                in_word = true;
                while let Some(q) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' => {
                            if let Some(n) = chars.next() {
                                if !matches!(n, '"' | '\\' | '$' | '`' | '\n') {
                                    word.push('\\');
                                }
                                if n != '\n' {
                                    word.push(n);
                                }
                            }
                        }
                        _ => word.push(q),
                    }
                }
            }
            '\\' => {
                if let Some(n) = chars.next() {
                    if n != '\n' {
                        in_word = true;
                        word.push(n);
                    }
                }
            }
            '#' if !in_word => {
                // A comment runs to the end of the line.
                for q in chars.by_ref() {
                    if q == '\n' {
                        break;
                    }
                }
                end_command(&mut commands, &mut words);
            }
            ' ' | '\t' | '\r' => end_word(&mut words, &mut word, &mut in_word),
            '\n' | ';' | '(' | ')' | '`' => {
                end_word(&mut words, &mut word, &mut in_word);
                end_command(&mut commands, &mut words);
            }
            '&' | '|' => {
                end_word(&mut words, &mut word, &mut in_word);
                if chars.peek() == Some(&c) {
                    chars.next();
                }
                end_command(&mut commands, &mut words);
            }
            '$' if chars.peek() == Some(&'(') => {
                // Command substitution: treat its body as separate commands.
                chars.next();
                end_word(&mut words, &mut word, &mut in_word);
                end_command(&mut commands, &mut words);
            }
            _ => {
                in_word = true;
                word.push(c);
            }
        }
    }
    end_word(&mut words, &mut word, &mut in_word);
    end_command(&mut commands, &mut words);
    commands
}

fn strip_prefixes(mut words: Vec<String>) -> Vec<String> {
    loop {
        let Some(first) = words.first() else {
            return words;
        };
        let is_assignment = first
            .split_once('=')
            .is_some_and(|(name, _)| is_identifier(name));
        let is_prefix = matches!(
            first.as_str(),
            "sudo"
                | "exec"
                | "time"
                | "nohup"
                | "command"
                | "builtin"
                | "if"
                | "then"
                | "else"
                | "elif"
                | "do"
                | "while"
                | "until"
                | "!"
                | "{"
                | "}"
                | "fi"
                | "done"
        );
        if first == "env" {
            words.remove(0);
            while words
                .first()
                .is_some_and(|w| w.starts_with('-') || w.contains('='))
            {
                words.remove(0);
            }
            continue;
        }
        if is_assignment || is_prefix {
            words.remove(0);
            continue;
        }
        return words;
    }
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The program name of a command: its first word without a directory.
pub fn program(command: &[String]) -> &str {
    command
        .first()
        .map(|w| w.rsplit('/').next().unwrap_or(w))
        .unwrap_or("")
}

/// What a simple command does to the image's package set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageChange {
    /// Installed packages (names without versions). `group` is apk's `--virtual`.
    Install {
        manager: &'static str,
        packages: Vec<String>,
        group: Option<String>,
    },
    /// Removed packages or apk virtual groups.
    Remove {
        manager: &'static str,
        packages: Vec<String>,
    },
}

/// Options of `apk` that take a value as the next word.
pub const APK_VALUE_OPTS: &[&str] = &[
    "-t",
    "--virtual",
    "-X",
    "--repository",
    "--root",
    "-p",
    "--arch",
    "--cache-dir",
    "--keys-dir",
    "--repositories-file",
];

/// Options of `apt-get`/`apt` that take a value as the next word.
/// The folders of the default `PATH` in Debian- and Alpine-based images.
pub const DEFAULT_PATH: &[&str] = &[
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

pub const APT_VALUE_OPTS: &[&str] = &["-o", "-t", "--target-release", "-c", "--option"];

/// Recognises `apt-get install`, `apt install`, `apk add`, `yum/dnf/microdnf install`
/// and their removal counterparts.
pub fn package_change(command: &[String]) -> Option<PackageChange> {
    let prog = program(command);
    let args = &command[1.min(command.len())..];
    let (manager, install_verbs, remove_verbs, value_opts): (
        &'static str,
        &[&str],
        &[&str],
        &[&str],
    ) = match prog {
        "apt-get" | "apt" | "aptitude" => (
            "apt",
            &["install"],
            &["remove", "purge", "autoremove"],
            APT_VALUE_OPTS,
        ),
        "apk" => ("apk", &["add"], &["del"], APK_VALUE_OPTS),
        "yum" | "dnf" | "microdnf" | "tdnf" => (
            "rpm",
            &["install"],
            &["remove", "erase"],
            &[
                "--setopt",
                "--enablerepo",
                "--disablerepo",
                "--releasever",
                "--installroot",
            ],
        ),
        _ => return None,
    };
    let mut verb: Option<&str> = None;
    let mut packages = Vec::new();
    let mut group = None;
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_str();
        if arg.starts_with('-') {
            let (name, inline) = match arg.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (arg, None),
            };
            if value_opts.contains(&name) {
                let value = match inline {
                    Some(v) => Some(v.to_string()),
                    None => {
                        i += 1;
                        args.get(i).cloned()
                    }
                };
                if manager == "apk" && (name == "-t" || name == "--virtual") {
                    group = value;
                }
            }
            i += 1;
            continue;
        }
        if verb.is_none() {
            verb = Some(arg);
        } else {
            packages.push(package_name(arg));
        }
        i += 1;
    }
    let verb = verb?;
    if install_verbs.contains(&verb) {
        Some(PackageChange::Install {
            manager,
            packages,
            group,
        })
    } else if remove_verbs.contains(&verb) {
        Some(PackageChange::Remove { manager, packages })
    } else {
        None
    }
}

/// `curl=7.88.1-10` / `curl>=8` / `curl~8` / `curl:amd64` → `curl`.
fn package_name(arg: &str) -> String {
    let end = arg.find(['=', '<', '>', '~', ':']).unwrap_or(arg.len());
    arg[..end].to_string()
}

/// A user or group created by a RUN command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountChange {
    User { name: String, uid: Option<String> },
    Group { name: String, gid: Option<String> },
}

/// Recognises `useradd`, `adduser` (Debian and BusyBox), `groupadd` and `addgroup`.
pub fn account_change(command: &[String]) -> Option<AccountChange> {
    let prog = program(command);
    let is_user = match prog {
        "useradd" | "adduser" => true,
        "groupadd" | "addgroup" => false,
        _ => return None,
    };
    // Options that take a value, across shadow-utils, Debian adduser and BusyBox.
    const VALUE_OPTS: &[&str] = &[
        "-u",
        "--uid",
        "-g",
        "--gid",
        "-G",
        "--groups",
        "-d",
        "--home-dir",
        "--home",
        "-h",
        "-s",
        "--shell",
        "-c",
        "--comment",
        "--gecos",
        "-k",
        "--skel",
        "-K",
        "--key",
        "-e",
        "--expiredate",
        "-f",
        "--inactive",
        "-p",
        "--password",
        "-b",
        "--base-dir",
        "-R",
        "--root",
        "-Z",
        "--selinux-user",
        "--ingroup",
        "--firstuid",
        "--lastuid",
        "--firstgid",
        "--lastgid",
        "--conf",
        "--add_extra_groups",
    ];
    let mut id = None;
    let mut name = None;
    let args = &command[1..];
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_str();
        if arg.starts_with('-') && arg.len() > 1 {
            let (mut opt, inline) = match arg.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (arg, None),
            };
            // Bundled short options (`-Dh /home/x`): the last one may take a value.
            let last_short;
            if !opt.starts_with("--") && opt.len() > 2 {
                last_short = format!("-{}", &opt[opt.len() - 1..]);
                opt = &last_short;
            }
            if VALUE_OPTS.contains(&opt) {
                let value = match inline {
                    Some(v) => Some(v),
                    None => {
                        i += 1;
                        args.get(i).cloned()
                    }
                };
                let is_id_opt = if is_user {
                    matches!(opt, "-u" | "--uid")
                } else {
                    matches!(opt, "-g" | "--gid")
                };
                if is_id_opt {
                    id = value;
                }
            }
            i += 1;
            continue;
        }
        if name.is_none() {
            name = Some(arg.to_string());
        }
        i += 1;
    }
    let name = name.filter(|n| !n.contains('/') && !n.is_empty())?;
    Some(if is_user {
        AccountChange::User { name, uid: id }
    } else {
        AccountChange::Group { name, gid: id }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmds(s: &str) -> Vec<Vec<String>> {
        simple_commands(s)
    }

    #[test]
    fn splits_on_operators_and_strips_prefixes() {
        let c = cmds("apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends curl 'ca-certificates' ; rm -rf /var/lib/apt/lists/*");
        assert_eq!(c.len(), 3);
        assert_eq!(
            c[1],
            [
                "apt-get",
                "install",
                "-y",
                "--no-install-recommends",
                "curl",
                "ca-certificates"
            ]
        );
        assert_eq!(program(&c[2]), "rm");
    }

    #[test]
    fn comments_and_substitutions() {
        let c = cmds("echo $(id -u) # apk add curl\nset -e");
        assert_eq!(
            c,
            vec![
                vec!["echo".to_string()],
                vec!["id".into(), "-u".into()],
                vec!["set".into(), "-e".into()]
            ]
        );
    }

    #[test]
    fn package_installs() {
        let c =
            cmds("apk add --no-cache --virtual .build-deps gcc curl=8.0-r0 && apk del .build-deps");
        assert_eq!(
            package_change(&c[0]),
            Some(PackageChange::Install {
                manager: "apk",
                packages: vec!["gcc".into(), "curl".into()],
                group: Some(".build-deps".into())
            })
        );
        assert_eq!(
            package_change(&c[1]),
            Some(PackageChange::Remove {
                manager: "apk",
                packages: vec![".build-deps".into()]
            })
        );
        let c = cmds("apt-get -o Dpkg::Options::=--force-confold install -y wget");
        assert!(
            matches!(package_change(&c[0]), Some(PackageChange::Install { packages, .. }) if packages == ["wget"])
        );
        assert_eq!(package_change(&cmds("apt-get update")[0]), None);
    }

    #[test]
    fn accounts() {
        let c = cmds("groupadd -r app -g 999 && useradd --no-log-init -r -g app -u 999 app && adduser -S -D -H -u 1001 -G www www && adduser --disabled-password --gecos '' bob");
        assert_eq!(
            account_change(&c[0]),
            Some(AccountChange::Group {
                name: "app".into(),
                gid: Some("999".into())
            })
        );
        assert_eq!(
            account_change(&c[1]),
            Some(AccountChange::User {
                name: "app".into(),
                uid: Some("999".into())
            })
        );
        assert_eq!(
            account_change(&c[2]),
            Some(AccountChange::User {
                name: "www".into(),
                uid: Some("1001".into())
            })
        );
        assert_eq!(
            account_change(&c[3]),
            Some(AccountChange::User {
                name: "bob".into(),
                uid: None
            })
        );
    }
}
