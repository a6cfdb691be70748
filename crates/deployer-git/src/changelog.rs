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

/// One commit in the changelog, borrowed: what a line shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryRef<'a> {
    pub short_sha: &'a str,
    /// Lower-cased type (`feat`, `fix`, …).
    pub kind: &'a str,
    pub scope: Option<&'a str>,
    pub description: &'a str,
    /// What breaks, for breaking changes.
    pub breaking: Option<&'a str>,
}

impl<'a> EntryRef<'a> {
    pub fn of(short_sha: &'a str, commit: &'a ConventionalCommit) -> Self {
        EntryRef {
            short_sha,
            kind: &commit.kind,
            scope: commit.scope.as_deref(),
            description: &commit.description,
            breaking: commit.breaking_text(),
        }
    }
}

/// [`render_refs`] for owned entries.
pub fn render(title: &str, entries: &[Entry]) -> String {
    render_refs(
        title,
        entries
            .iter()
            .map(|e| EntryRef::of(&e.short_sha, &e.commit)),
    )
}

/// Renders `## {title}` and one `###` group per kind: breaking changes first, then
/// features, fixes, performance and reverts. Other types (docs, chore, …) are left out.
/// `entries` is walked once per group rather than collected, so a long history is not
/// copied to be rendered.
pub fn render_refs<'a, I>(title: &str, entries: I) -> String
where
    I: IntoIterator<Item = EntryRef<'a>>,
    I::IntoIter: Clone,
{
    let entries = entries.into_iter();
    let mut out = format!("## {title}\n");
    let mut breaking = entries
        .clone()
        .filter_map(|e| e.breaking.map(|b| (e, b)))
        .peekable();
    let any_breaking = breaking.peek().is_some();
    if any_breaking {
        out.push_str("\n### ⚠ Breaking changes\n\n");
        for (e, text) in breaking {
            out.push_str(&line(e.scope, text, e.short_sha));
        }
    }
    let mut any = false;
    for (heading, kinds) in GROUPS {
        let mut group = entries
            .clone()
            .filter(|e| kinds.contains(&e.kind))
            .peekable();
        if group.peek().is_none() {
            continue;
        }
        any = true;
        out.push_str(&format!("\n### {heading}\n\n"));
        for e in group {
            out.push_str(&line(e.scope, e.description, e.short_sha));
        }
    }
    if !any && !any_breaking {
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
