//! A Markdown changelog section grouped by commit type.

use crate::conventional::ConventionalCommit;

/// One commit in the changelog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub short_sha: String,
    pub commit: ConventionalCommit,
}

const GROUPS: [(&str, &[&str]); 4] = [
    ("Features", &["feat", "feature"]),
    ("Bug fixes", &["fix"]),
    ("Performance", &["perf"]),
    ("Reverts", &["revert"]),
];

fn line(scope: Option<&str>, text: &str, sha: &str) -> String {
    let text = text.lines().next().unwrap_or("").trim();
    match scope {
        Some(s) => format!("- **{s}:** {text} ({sha})\n"),
        None => format!("- {text} ({sha})\n"),
    }
}

/// One commit in the changelog, borrowed (no copy of 100k parsed commits to render a
/// long history).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryRef<'a> {
    pub short_sha: &'a str,
    pub commit: &'a ConventionalCommit,
}

/// [`render_refs`] for owned entries.
pub fn render(title: &str, entries: &[Entry]) -> String {
    let refs: Vec<EntryRef<'_>> = entries
        .iter()
        .map(|e| EntryRef {
            short_sha: &e.short_sha,
            commit: &e.commit,
        })
        .collect();
    render_refs(title, &refs)
}

/// Renders `## {title}` and one `###` group per kind: breaking changes first, then
/// features, fixes, performance and reverts. Other types (docs, chore, …) are left out.
pub fn render_refs(title: &str, entries: &[EntryRef<'_>]) -> String {
    let mut out = format!("## {title}\n");
    let breaking: Vec<&EntryRef<'_>> = entries.iter().filter(|e| e.commit.breaking).collect();
    if !breaking.is_empty() {
        out.push_str("\n### ⚠ Breaking changes\n\n");
        for e in breaking {
            let text = e
                .commit
                .breaking_description
                .as_deref()
                .unwrap_or(&e.commit.description);
            out.push_str(&line(e.commit.scope.as_deref(), text, e.short_sha));
        }
    }
    let mut any = false;
    for (heading, kinds) in GROUPS {
        let group: Vec<&EntryRef<'_>> = entries
            .iter()
            .filter(|e| kinds.contains(&e.commit.kind.as_str()))
            .collect();
        if group.is_empty() {
            continue;
        }
        any = true;
        out.push_str(&format!("\n### {heading}\n\n"));
        for e in group {
            out.push_str(&line(
                e.commit.scope.as_deref(),
                &e.commit.description,
                e.short_sha,
            ));
        }
    }
    if !any && !entries.iter().any(|e| e.commit.breaking) {
        out.push_str("\n_No notable changes._\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conventional::parse;

    fn e(sha: &str, m: &str) -> Entry {
        Entry {
            short_sha: sha.into(),
            commit: parse(m).expect("conventional"),
        }
    }

    #[test]
    fn grouped_markdown() {
        let text = render(
            "v1.3.0",
            &[
                e("aaaaaaa", "feat(api): add orders"),
                e("bbbbbbb", "fix: crash"),
                e("ccccccc", "docs: x"),
                e(
                    "ddddddd",
                    "feat!: drop v1\n\nBREAKING CHANGE: v1 endpoints removed",
                ),
            ],
        );
        assert_eq!(
            text,
            "## v1.3.0\n\n### ⚠ Breaking changes\n\n- v1 endpoints removed (ddddddd)\n\n### Features\n\n- **api:** add orders (aaaaaaa)\n- drop v1 (ddddddd)\n\n### Bug fixes\n\n- crash (bbbbbbb)\n"
        );
        assert_eq!(
            render("v1.0.1", &[e("a", "docs: x")]),
            "## v1.0.1\n\n_No notable changes._\n"
        );
    }
}
