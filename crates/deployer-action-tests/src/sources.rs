//! Keeps each binary's `OUTPUTS` honest: the output names its source passes to
//! `Runtime::set_output`, read from the source text.
//!
//! The binaries set outputs in three shapes, all recognised here:
//! `runtime.set_output("name", …)`, a local `set(runtime, "name", …)` closure, and a
//! `let outs = [("name", …), …]` table passed to `set_output(k, v)` in a loop. A name
//! computed at run time (detect-changes' per-service outputs) is not a literal and is
//! not counted; a new shape would go unseen here, so add it to [`output_names`].

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

/// A difference between a binary's `OUTPUTS` and the names its source sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputDrift {
    SetNotDeclared {
        crate_name: String,
        output: String,
        file: PathBuf,
    },
    DeclaredNotSet {
        crate_name: String,
        output: String,
    },
}

impl fmt::Display for OutputDrift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutputDrift::SetNotDeclared {
                crate_name,
                output,
                file,
            } => write!(
                f,
                "crates/{crate_name}: {} sets output `{output}`, which is not in {crate_name}'s OUTPUTS; \
                 add it there and declare it in actions/{crate_name}/action.yml",
                file.display()
            ),
            OutputDrift::DeclaredNotSet { crate_name, output } => write!(
                f,
                "crates/{crate_name}: OUTPUTS lists `{output}` but no set_output call in src/ sets it; \
                 remove it from OUTPUTS and from actions/{crate_name}/action.yml, or set it"
            ),
        }
    }
}

/// Compares `declared` with the literal output names set in `src_dir` (recursively).
pub fn drift(
    crate_name: &str,
    src_dir: &Path,
    declared: &[&str],
) -> std::io::Result<Vec<OutputDrift>> {
    let mut set = BTreeSet::new();
    let mut findings = Vec::new();
    for file in rust_files(src_dir)? {
        let text = std::fs::read_to_string(&file)?;
        for output in output_names(&text) {
            if !declared.contains(&output.as_str()) {
                findings.push(OutputDrift::SetNotDeclared {
                    crate_name: crate_name.into(),
                    output: output.clone(),
                    file: file.clone(),
                });
            }
            set.insert(output);
        }
    }
    for output in declared.iter().filter(|o| !set.contains(**o)) {
        findings.push(OutputDrift::DeclaredNotSet {
            crate_name: crate_name.into(),
            output: output.to_string(),
        });
    }
    Ok(findings)
}

/// The literal output names set in one source file (comments skipped).
pub fn output_names(source: &str) -> Vec<String> {
    let code: String = source
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut names = Vec::new();
    for (at, m) in code.match_indices("set_output(") {
        names.extend(literal_at(&code[at + m.len()..]));
    }
    for (at, m) in code.match_indices("set(") {
        if code[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '.') {
            continue; // `.set(`, `reset(`, `HashSet::set(`: not the output closure
        }
        let rest = &code[at + m.len()..];
        if let Some(comma) = rest.find(',').filter(|&c| is_ident(rest[..c].trim())) {
            names.extend(literal_at(&rest[comma + 1..]));
        }
    }
    for (at, m) in code.match_indices("let outs = [") {
        let table = &code[at + m.len()..];
        let table = &table[..table.find("];").unwrap_or(table.len())];
        for (t, _) in table.match_indices('(') {
            names.extend(literal_at(&table[t + 1..]));
        }
    }
    names
}

/// The string literal at the start of `text` (after whitespace), if it is one followed by `,`.
fn literal_at(text: &str) -> Option<String> {
    let rest = text.trim_start().strip_prefix('"')?;
    let end = rest.find('"')?;
    rest[end + 1..]
        .trim_start()
        .starts_with(',')
        .then(|| rest[..end].to_string())
}

fn is_ident(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_')
}

fn rust_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            files.extend(rust_files(&path)?);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_three_shapes_and_skips_computed_names_and_comments() {
        let src = r#"
            runtime.set_output("changes", x)?;
            runtime.set_output(
                "matrix",
                y,
            )?;
            runtime.set_output(name, "true")?;
            // runtime.set_output("commented", x)?;
            set(runtime, "task-arn", v)?;
            set(
                runtime,
                "exit-code",
                v,
            )?;
            headers.set("not-an-output", v);
            let outs = [
                ("hook-id", a),
                ("status", b.to_string()),
            ];
            let other = [("not-in-a-table", 1)];
        "#;
        assert_eq!(
            output_names(src),
            [
                "changes",
                "matrix",
                "task-arn",
                "exit-code",
                "hook-id",
                "status"
            ]
        );
    }
}
