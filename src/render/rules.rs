//! `dopt rules` and `dopt rule CODE`: the pass catalogue.

use super::style::{paint, CODE, DIM};
use crate::passes::Pass;

pub fn text(passes: &[Box<dyn Pass>]) -> String {
    let width = passes.iter().map(|p| p.name().len()).max().unwrap_or(0);
    let mut out = String::new();
    for p in passes {
        out.push_str(&format!(
            "{}  {:width$}  {}\n",
            paint(CODE, p.code()),
            p.name(),
            p.summary(),
        ));
        if !p.related().is_empty() {
            out.push_str(&format!(
                "        {:width$}  {}\n",
                "",
                paint(DIM, &format!("see also: {}", p.related().join(", ")))
            ));
        }
    }
    out
}

pub fn json(passes: &[Box<dyn Pass>]) -> String {
    let list: Vec<serde_json::Value> = passes
        .iter()
        .map(|p| {
            serde_json::json!({
                "code": p.code(),
                "name": p.name(),
                "summary": p.summary(),
                "related": p.related(),
                "docs": p.docs(),
            })
        })
        .collect();
    serde_json::to_string_pretty(&list).expect("rules serialize") + "\n"
}

/// The catalogue as a Markdown table: each pass and the rules of other tools it
/// corresponds to (hadolint, BuildKit build checks).
pub fn markdown(passes: &[Box<dyn Pass>]) -> String {
    let mut out = String::from(
        "| Code | Name | What it does | Related rules in other tools |\n|---|---|---|---|\n",
    );
    for p in passes {
        out.push_str(&format!(
            "| {} | `{}` | {} | {} |\n",
            p.code(),
            p.name(),
            p.summary(),
            if p.related().is_empty() {
                "—".to_string()
            } else {
                p.related().join(", ")
            }
        ));
    }
    out
}

pub fn doc(pass: &dyn Pass) -> String {
    let mut out = format!(
        "{} {}\n\n{}\n",
        pass.code(),
        pass.name(),
        pass.docs().trim_end()
    );
    if !pass.related().is_empty() {
        out.push_str(&format!("\nRelated rules: {}\n", pass.related().join(", ")));
    }
    out
}
