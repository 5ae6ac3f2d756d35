//! Java builds (Maven, Gradle, `javac`, `jar`): what each writes for the runtime
//! stage, and the files the `java` command reads at run time.

use super::paths::resolve;
use super::script::SimpleCommand;

/// Where `javac` at `cwd` writes its classes: `-d DIR`, else the working
/// directory (classes sit next to the sources, those of packages too). `Err`
/// when that cannot be copied alone.
pub fn javac_output(c: &SimpleCommand, cwd: &str, line: usize) -> Result<String, String> {
    match c.option_value(&["-d"]) {
        Some(d) if !d.contains('$') => Ok(resolve(cwd, d)),
        None if cwd != "/" && !c.has_flag(&["-d"]) => Ok(cwd.to_string()),
        _ => Err(format!(
            "`javac` at line {line} writes classes next to the sources in /, which cannot be \
             copied alone; compile with -d DIR or in a WORKDIR"
        )),
    }
}

/// The file `jar` writes (`jar cf NAME`, `jar cfe NAME MAIN`, `--file NAME`).
pub fn jar_output(c: &SimpleCommand, cwd: &str, line: usize) -> Result<String, String> {
    let name = c.option_value(&["--file"]).map(str::to_string).or_else(|| {
        let mode = c.args().first()?;
        let ops = c.operands(&[]);
        // `f` takes the first operand after the mode.
        (mode.contains('c') && mode.contains('f'))
            .then(|| ops.get(1).map(|s| s.to_string()))
            .flatten()
    });
    match name {
        Some(n) if !n.contains('$') => Ok(resolve(cwd, &n)),
        _ => Err(format!("the jar file written at line {line} is not known")),
    }
}

/// The jar a Maven build in `cwd` packages: `target/<finalName>.jar` or
/// `target/<artifactId>-<version>.jar` from `pom` when it says so plainly, else
/// `target/*.jar` (`.war` for war packaging). `Ok(None)` when the command
/// packages nothing; `Err` for builds whose jar is not there (other modules,
/// pom or ear packaging).
pub fn maven_output(
    c: &SimpleCommand,
    cwd: &str,
    line: usize,
    pom: Option<&str>,
) -> Result<Option<String>, String> {
    if !c
        .args()
        .iter()
        .any(|a| matches!(a.as_str(), "package" | "install" | "verify"))
    {
        return Ok(None);
    }
    if c.has_flag(&["-f", "--file", "-pl", "--projects"]) {
        return Err(format!(
            "Maven at line {line} builds another module; the jar's path is unknown"
        ));
    }
    let target = resolve(cwd, "target");
    let Some(pom) = pom else {
        return Ok(Some(format!("{target}/*.jar")));
    };
    if pom.contains("<modules>") {
        return Err(format!(
            "Maven at line {line} builds several modules (pom.xml has <modules>); which jar \
             the program is, is unknown"
        ));
    }
    // An executable war (Spring Boot) runs with `java -jar` too.
    let ext = match element(pom, "packaging").as_deref() {
        None | Some("jar") => "jar",
        Some("war") => "war",
        Some(other) => {
            return Err(format!(
                "pom.xml has `<packaging>{other}</packaging>`, not a jar or war to copy to the runtime stage"
            ))
        }
    };
    let name = element(pom, "finalName").or_else(|| {
        let artifact = element(pom, "artifactId")?;
        let version = element(pom, "version")?;
        Some(format!("{artifact}-{version}"))
    });
    Ok(Some(match name {
        Some(name) if !name.contains('$') => format!("{target}/{name}.{ext}"),
        _ => format!("{target}/*.{ext}"),
    }))
}

/// The jars a Gradle build in `cwd` writes (`build/libs/*.jar`). `Ok(None)` when
/// the tasks build no jar.
pub fn gradle_output(c: &SimpleCommand, cwd: &str, line: usize) -> Result<Option<String>, String> {
    let tasks = c.operands(&["-p", "-x"]);
    if tasks
        .iter()
        .any(|t| t.contains("installDist") || t.contains("distTar"))
    {
        return Err(format!(
            "Gradle at line {line} builds a distribution; its layout is not known"
        ));
    }
    if c.has_flag(&["-p", "--project-dir"]) {
        return Err(format!(
            "Gradle at line {line} builds another project directory; the jar's path is unknown"
        ));
    }
    if !tasks
        .iter()
        .any(|t| matches!(*t, "build" | "assemble" | "bootJar" | "jar" | "shadowJar"))
    {
        return Ok(None);
    }
    Ok(Some(format!("{}/build/libs/*.jar", resolve(cwd, "."))))
}

/// The text of the project's own `<name>` element in a pom (not the parent's
/// or a dependency's): the first one outside `<parent>`, `<dependencies>`,
/// `<dependencyManagement>`, `<build>` (except `finalName`), `<profiles>` and
/// `<properties>`.
fn element(pom: &str, name: &str) -> Option<String> {
    const SKIPPED: &[&str] = &[
        "parent",
        "dependencies",
        "dependencyManagement",
        "plugins",
        "pluginManagement",
        "profiles",
        "properties",
        "reporting",
        "extensions",
        "resources",
    ];
    let mut rest = pom;
    let mut depth_skipped = 0usize;
    while let Some(at) = rest.find('<') {
        rest = &rest[at + 1..];
        let end = rest.find('>')?;
        let tag = &rest[..end];
        let after = &rest[end + 1..];
        if tag.starts_with('!') || tag.starts_with('?') || tag.ends_with('/') {
            if tag.starts_with("!--") {
                rest = &rest[rest.find("-->")? + 3..];
            } else {
                rest = after;
            }
            continue;
        }
        if let Some(closing) = tag.strip_prefix('/') {
            if SKIPPED.contains(&closing.trim()) {
                depth_skipped = depth_skipped.saturating_sub(1);
            }
            rest = after;
            continue;
        }
        let tag_name = tag.split_whitespace().next().unwrap_or(tag);
        if SKIPPED.contains(&tag_name) {
            depth_skipped += 1;
        } else if depth_skipped == 0 && tag_name == name {
            let text = &after[..after.find('<')?];
            let text = text.trim();
            return (!text.is_empty()).then(|| text.to_string());
        }
        rest = after;
    }
    None
}

/// The words of a `java` start command that name files it reads at run time,
/// as written: `-jar FILE`, class path entries (`-cp a.jar:lib/*`), and the
/// values of options that are paths (`--spring.config.location=file:config/`,
/// `-Dlogback.configurationFile=logback.xml`). Only words that look like paths
/// (a `/`, or a file extension); the caller keeps those that exist in the build
/// context.
pub fn run_time_paths(argv: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |word: &str, surely_path: bool| {
        let word = word.trim_start_matches("file:").trim_end_matches('*');
        // `config/`: a folder.
        let surely_path = surely_path || (word.len() > 1 && word.ends_with('/'));
        let word = word.trim_end_matches('/');
        if word.is_empty() || word.starts_with('-') || word.contains(['$', '*', ',', '%']) {
            return;
        }
        let looks_like_path = surely_path
            || word.contains('/')
            || word
                .rsplit_once('.')
                .is_some_and(|(_, ext)| is_file_ext(ext));
        if looks_like_path && !out.iter().any(|o| o == word) {
            out.push(word.to_string());
        }
    };
    let mut args = argv.iter().map(String::as_str);
    while let Some(arg) = args.next() {
        match arg {
            "-jar" | "-cp" | "-classpath" | "--class-path" => {
                if let Some(value) = args.next() {
                    value.split(':').for_each(|w| push(w, true));
                }
            }
            _ => {
                if let Some((_, value)) = arg.split_once('=') {
                    // `classpath:` resources are inside the jar.
                    value
                        .split(',')
                        .map(|v| v.trim_start_matches("optional:"))
                        .filter(|v| !v.starts_with("classpath:"))
                        .flat_map(|v| v.trim_start_matches("file:").split(':'))
                        .for_each(|w| push(w, false));
                } else if !arg.starts_with('-') {
                    push(arg, false);
                }
            }
        }
    }
    out
}

fn is_file_ext(ext: &str) -> bool {
    matches!(
        ext,
        "jar"
            | "war"
            | "class"
            | "yml"
            | "yaml"
            | "properties"
            | "xml"
            | "json"
            | "conf"
            | "toml"
            | "txt"
            | "csv"
            | "sql"
            | "policy"
            | "jks"
            | "p12"
            | "pem"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn the_jar_name_comes_from_the_pom() {
        let pom = r#"<?xml version="1.0"?>
<project>
  <parent>
    <groupId>org.springframework.boot</groupId>
    <artifactId>spring-boot-starter-parent</artifactId>
    <version>3.3.0</version>
  </parent>
  <!-- <artifactId>commented</artifactId> -->
  <artifactId>demo</artifactId>
  <version>1.0</version>
  <properties><java.version>17</java.version></properties>
  <dependencies>
    <dependency><artifactId>spring-boot-starter-web</artifactId><version>x</version></dependency>
  </dependencies>
</project>"#;
        assert_eq!(element(pom, "artifactId").as_deref(), Some("demo"));
        assert_eq!(element(pom, "version").as_deref(), Some("1.0"));
        assert_eq!(element(pom, "packaging"), None);
        let final_name = pom.replace(
            "</dependencies>",
            "</dependencies><build><finalName>app</finalName><plugins><plugin>\
             <artifactId>x</artifactId></plugin></plugins></build>",
        );
        assert_eq!(element(&final_name, "finalName").as_deref(), Some("app"));
        assert_eq!(element(&final_name, "artifactId").as_deref(), Some("demo"));
    }

    #[test]
    fn java_command_words_that_are_files() {
        assert_eq!(
            run_time_paths(&words(
                "java -Xmx512m -jar target/demo-1.0.jar --spring.config.location=file:config/ \
                 -Dlogback.configurationFile=logback.xml com.example.Main --port=8080"
            )),
            vec!["target/demo-1.0.jar", "config", "logback.xml"]
        );
        assert_eq!(
            run_time_paths(&words(
                "java -cp classes:lib/* examples.Hello data/input.csv"
            )),
            vec!["classes", "lib", "data/input.csv"]
        );
    }
}
