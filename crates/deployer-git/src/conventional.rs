//! A Conventional Commits 1.0.0 parser.
//!
//! * Header `type(scope)!: description`; type and scope are case-insensitive (the type
//!   is lower-cased), `!` marks a breaking change for **any** type.
//! * Footers are git-trailer style (`Token: value` or `Token #value`) in the final
//!   paragraphs of the message; a value runs until the next token. `BREAKING CHANGE`
//!   (uppercase, the only token allowed a space) and its synonym `BREAKING-CHANGE` mark
//!   a breaking change; `breaking change:` in lower case does not (spec rule 15).
//! * `Release-As: x.y.z` (any case, optional `v`) forces the next version.
//! * Reverts: `revert: …` and git's default `Revert "…"` subject are both parsed as type
//!   `revert`, with the reverted SHA taken from "This reverts commit <sha>.".
//! * `fixup!`, `squash!`, `amend!` and merge subjects are not conventional.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Footer {
    pub token: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConventionalCommit {
    /// Lower-cased type (`feat`, `fix`, …).
    pub kind: String,
    pub scope: Option<String>,
    pub description: String,
    pub body: Option<String>,
    pub footers: Vec<Footer>,
    /// `!` in the header or a `BREAKING CHANGE`/`BREAKING-CHANGE` footer.
    pub breaking: bool,
    /// The footer's text, or the description when only `!` was used.
    pub breaking_description: Option<String>,
    /// Value of a `Release-As:` footer.
    pub release_as: Option<String>,
    /// For reverts: the SHA named in "This reverts commit <sha>".
    pub reverts: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("empty commit message")]
    Empty,
    #[error("merge commit")]
    Merge,
    #[error("fixup/squash commit")]
    Fixup,
    #[error("header is not `type(scope)!: description`: {0}")]
    Header(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Bump {
    None,
    Patch,
    Minor,
    Major,
}

impl ConventionalCommit {
    /// The SemVer bump this commit asks for (before any 0.x policy):
    /// breaking → major, `feat` → minor, `fix`/`perf`/`revert` → patch, others none.
    pub fn bump(&self) -> Bump {
        Bump::of(&self.kind, self.breaking)
    }

    /// What breaks, for a breaking change: the footer's text, or the description when
    /// only `!` was used.
    pub fn breaking_text(&self) -> Option<&str> {
        self.breaking.then(|| {
            self.breaking_description
                .as_deref()
                .unwrap_or(&self.description)
        })
    }
}

impl Bump {
    /// The bump of a commit of type `kind` (lower-cased): breaking → major, `feat` →
    /// minor, `fix`/`perf`/`revert` → patch, others none.
    pub fn of(kind: &str, breaking: bool) -> Bump {
        if breaking {
            return Bump::Major;
        }
        match kind {
            "feat" | "feature" => Bump::Minor,
            "fix" | "perf" | "revert" => Bump::Patch,
            _ => Bump::None,
        }
    }
}

/// True for the subjects git and GitHub write for merge commits.
pub fn is_merge_subject(subject: &str) -> bool {
    [
        "Merge pull request #",
        "Merge branch ",
        "Merge remote-tracking branch ",
        "Merge tag ",
        "Merge commit ",
    ]
    .iter()
    .any(|p| subject.starts_with(p))
}

fn reverted_sha(message: &str) -> Option<String> {
    let idx = message.find("This reverts commit ")?;
    let rest = &message[idx + "This reverts commit ".len()..];
    let sha: String = rest.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
    (sha.len() >= 7).then_some(sha)
}

/// Splits `Token: value` / `Token #value`; returns None when `line` does not start a footer.
fn footer_start(line: &str) -> Option<(String, String)> {
    for special in ["BREAKING CHANGE", "BREAKING-CHANGE"] {
        if let Some(rest) = line.strip_prefix(special) {
            if let Some(v) = rest.strip_prefix(": ") {
                return Some((special.to_string(), v.to_string()));
            }
            if let Some(v) = rest.strip_prefix(" #") {
                return Some((special.to_string(), format!("#{v}")));
            }
        }
    }
    let end = line.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))?;
    let (token, rest) = line.split_at(end);
    if token.is_empty() || !token.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    if let Some(v) = rest
        .strip_prefix(": ")
        .or_else(|| if rest == ":" { Some("") } else { None })
    {
        return Some((token.to_string(), v.to_string()));
    }
    rest.strip_prefix(" #")
        .map(|v| (token.to_string(), format!("#{v}")))
}

fn parse_header(header: &str) -> Result<(String, Option<String>, bool, String), ParseError> {
    let type_end = header
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .ok_or(ParseError::Header("no `:` after the type"))?;
    let kind = &header[..type_end];
    if kind.is_empty() || !kind.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err(ParseError::Header("the type must start with a letter"));
    }
    let mut rest = &header[type_end..];
    let mut scope = None;
    if let Some(after) = rest.strip_prefix('(') {
        let close = after
            .find(')')
            .ok_or(ParseError::Header("unclosed scope"))?;
        let s = after[..close].trim();
        if s.is_empty() || s.contains('(') {
            return Err(ParseError::Header("empty or nested scope"));
        }
        scope = Some(s.to_string());
        rest = &after[close + 1..];
    }
    let breaking = rest.starts_with('!');
    if breaking {
        rest = &rest[1..];
    }
    let description = rest
        .strip_prefix(": ")
        .ok_or(ParseError::Header("expected `: ` after the type"))?
        .trim();
    if description.is_empty() {
        return Err(ParseError::Header("empty description"));
    }
    Ok((
        kind.to_ascii_lowercase(),
        scope,
        breaking,
        description.to_string(),
    ))
}

/// Parses one commit message.
pub fn parse(message: &str) -> Result<ConventionalCommit, ParseError> {
    let message = message.replace("\r\n", "\n");
    let message = message.trim_matches('\n');
    let mut lines = message.lines();
    let header = lines.next().map(str::trim).unwrap_or("");
    if header.is_empty() {
        return Err(ParseError::Empty);
    }
    if is_merge_subject(header) {
        return Err(ParseError::Merge);
    }
    if ["fixup! ", "squash! ", "amend! "]
        .iter()
        .any(|p| header.starts_with(p))
    {
        return Err(ParseError::Fixup);
    }
    let (kind, scope, bang, description) = if let Some(inner) = header
        .strip_prefix("Revert \"")
        .and_then(|r| r.strip_suffix('"'))
    {
        ("revert".to_string(), None, false, inner.to_string())
    } else {
        parse_header(header)?
    };

    // Paragraphs after the header.
    let rest: Vec<&str> = lines.collect();
    let mut paragraphs: Vec<Vec<&str>> = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in rest {
        if line.trim().is_empty() {
            if !current.is_empty() {
                paragraphs.push(std::mem::take(&mut current));
            }
        } else {
            current.push(line);
        }
    }
    if !current.is_empty() {
        paragraphs.push(current);
    }
    // The footer section: the earliest paragraph from which every paragraph starts with a token.
    let mut footer_from = paragraphs.len();
    for i in (0..paragraphs.len()).rev() {
        if paragraphs[i]
            .first()
            .is_some_and(|l| footer_start(l).is_some())
        {
            footer_from = i;
        } else {
            break;
        }
    }
    let body = paragraphs[..footer_from]
        .iter()
        .map(|p| p.join("\n"))
        .collect::<Vec<_>>()
        .join("\n\n");
    let mut footers: Vec<Footer> = Vec::new();
    for paragraph in &paragraphs[footer_from..] {
        for line in paragraph {
            match footer_start(line) {
                Some((token, value)) => footers.push(Footer { token, value }),
                None => {
                    if let Some(last) = footers.last_mut() {
                        last.value.push('\n');
                        last.value.push_str(line);
                    }
                }
            }
        }
    }
    let breaking_footer = footers
        .iter()
        .find(|f| f.token == "BREAKING CHANGE" || f.token == "BREAKING-CHANGE")
        .map(|f| f.value.trim().to_string());
    let release_as = footers
        .iter()
        .rev()
        .find(|f| f.token.eq_ignore_ascii_case("release-as"))
        .map(|f| f.value.trim().to_string());
    let breaking = bang || breaking_footer.is_some();
    let breaking_description = breaking_footer.or_else(|| bang.then(|| description.clone()));
    let reverts = if kind == "revert" {
        reverted_sha(message)
    } else {
        None
    };
    Ok(ConventionalCommit {
        kind,
        scope,
        description,
        body: (!body.is_empty()).then_some(body),
        footers,
        breaking,
        breaking_description,
        release_as,
        reverts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(m: &str) -> ConventionalCommit {
        parse(m).expect("conventional")
    }

    #[test]
    fn header_forms() {
        let c = p("feat(api): add endpoint");
        assert_eq!(
            (
                c.kind.as_str(),
                c.scope.as_deref(),
                c.description.as_str(),
                c.breaking
            ),
            ("feat", Some("api"), "add endpoint", false)
        );
        assert_eq!(p("FIX: upper").kind, "fix");
        assert_eq!(p("Feat(Api): mixed").scope.as_deref(), Some("Api"));
        assert_eq!(p("feat: x").bump(), Bump::Minor);
        assert_eq!(p("docs: x").bump(), Bump::None);
        assert_eq!(p("perf: x").bump(), Bump::Patch);
    }

    #[test]
    fn bang_is_breaking_for_any_type() {
        for m in [
            "fix!: drop v1",
            "refactor(core)!: rename",
            "chore!: drop node 16",
        ] {
            let c = p(m);
            assert!(c.breaking, "{m}");
            assert_eq!(c.bump(), Bump::Major);
            assert!(c.breaking_description.is_some());
        }
    }

    #[test]
    fn breaking_footers_are_uppercase_only() {
        let c = p(
            "feat: x\n\nSome body.\n\nBREAKING CHANGE: the API changed\nacross two lines\nRefs: #12",
        );
        assert!(c.breaking);
        assert_eq!(
            c.breaking_description.as_deref(),
            Some("the API changed\nacross two lines")
        );
        assert_eq!(c.body.as_deref(), Some("Some body."));
        assert_eq!(c.footers.len(), 2);
        assert!(p("fix: y\n\nBREAKING-CHANGE: synonym").breaking);
        assert!(!p("fix: y\n\nbreaking change: lower case is not the token").breaking);
        assert!(!p("fix: y\n\nBreaking-Change: mixed case").breaking);
    }

    #[test]
    fn body_paragraph_with_colon_is_not_a_footer_when_followed_by_prose() {
        let c = p("fix: y\n\nNote: this paragraph\n\nis followed by prose.");
        assert!(c.footers.is_empty());
        assert_eq!(
            c.body.as_deref(),
            Some("Note: this paragraph\n\nis followed by prose.")
        );
    }

    #[test]
    fn release_as_and_trailers() {
        let c = p("chore: release\n\nRelease-As: 1.0.0\nSigned-off-by: A <a@b.c>");
        assert_eq!(c.release_as.as_deref(), Some("1.0.0"));
        assert_eq!(
            p("chore: x\n\nrelease-as: v2.0.0").release_as.as_deref(),
            Some("v2.0.0")
        );
        assert_eq!(p("fix: x\n\nCloses #12").footers[0].value, "#12");
    }

    #[test]
    fn reverts() {
        let c = p(
            "Revert \"feat: add x\"\n\nThis reverts commit 0123456789abcdef0123456789abcdef01234567.",
        );
        assert_eq!(c.kind, "revert");
        assert_eq!(c.description, "feat: add x");
        assert_eq!(
            c.reverts.as_deref(),
            Some("0123456789abcdef0123456789abcdef01234567")
        );
        assert_eq!(c.bump(), Bump::Patch);
        assert_eq!(
            p("revert: undo y\n\nThis reverts commit abcdef1.")
                .reverts
                .as_deref(),
            Some("abcdef1")
        );
    }

    #[test]
    fn not_conventional() {
        assert_eq!(
            parse("Merge pull request #3 from o/b"),
            Err(ParseError::Merge)
        );
        assert_eq!(parse("Merge branch 'main' into x"), Err(ParseError::Merge));
        assert_eq!(parse("fixup! feat: x"), Err(ParseError::Fixup));
        assert_eq!(parse(""), Err(ParseError::Empty));
        for m in [
            "update readme",
            "feat:no space",
            "feat(): empty scope",
            "feat: ",
            "(x): y",
            "feat(a: b",
            "1feat: x",
        ] {
            assert!(parse(m).is_err(), "{m}");
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(message in "\\PC{0,80}") {
            let _ = parse(&message);
        }

        #[test]
        fn never_panics_on_structured_input(kind in "[a-zA-Z!]{0,6}", scope in "[()a-z!: ]{0,6}", rest in "[a-zA-Z :#!\n-]{0,60}") {
            let _ = parse(&format!("{kind}{scope}{rest}"));
        }
    }
}
