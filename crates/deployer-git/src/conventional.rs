//! A Conventional Commits 1.0.0 parser.
//!
//! * Header `type(scope)!: description`; type and scope are case-insensitive (the type
//!   is lower-cased), `!` marks a breaking change for **any** type.
//! * Footers are `Token: value` or `Token #value` (spec rules 8–9): the trailing
//!   paragraphs that each open with a token, and everything from a paragraph that opens
//!   with a `BREAKING CHANGE` footer on; a value runs, across lines and paragraphs, until
//!   the next token. `BREAKING CHANGE` (uppercase, the only token allowed a space) and its
//!   synonym `BREAKING-CHANGE` mark a breaking change; `breaking change:` in lower case
//!   does not (spec rule 15).
//! * `Release-As: x.y.z` (any case, optional `v`) forces the next version.
//! * Reverts: `revert: …`, git's default `Revert "…"` subject and git 2.47's `Reapply "…"`
//!   (a revert of a revert) are parsed as type `revert`, with the reverted SHA taken
//!   from "This reverts commit <sha>.".
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

/// The quoted subject of a revert git wrote: `Revert "<subject>"`, and `Reapply
/// "<subject>"`, which git 2.47+ writes when reverting a revert (both name the commit
/// they undo in "This reverts commit <sha>.").
fn git_revert_subject(header: &str) -> Option<&str> {
    ["Revert \"", "Reapply \""]
        .iter()
        .find_map(|p| header.strip_prefix(p))
        .and_then(|r| r.strip_suffix('"'))
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

/// The message after the header, split into paragraphs (runs of non-blank lines).
fn paragraphs<'a>(lines: impl Iterator<Item = &'a str>) -> Vec<Vec<&'a str>> {
    let mut paragraphs: Vec<Vec<&str>> = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in lines {
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
    paragraphs
}

fn is_breaking_token(token: &str) -> bool {
    token == "BREAKING CHANGE" || token == "BREAKING-CHANGE"
}

/// Where the footers begin: the earliest of (a) the first paragraph that opens with a
/// `BREAKING CHANGE:`/`BREAKING-CHANGE:` footer and (b) the trailing run of paragraphs
/// that each open with a footer token.
///
/// (a) is Conventional Commits 1.0 rule 9: a footer's value "MAY contain spaces and
/// newlines, and parsing MUST terminate when the next valid footer token/separator pair
/// is observed", so prose paragraphs after a breaking footer continue its value instead
/// of hiding it (semantic-release's own history writes `BREAKING CHANGE:` and then an
/// explanation; conventional-commits-parser, which its commit analyzer uses, reads the
/// note up to the next keyword). The breaking token is uppercase only (rule 15), so it
/// cannot be confused with prose. (b) keeps an ordinary paragraph such as `Note: …`
/// followed by prose in the body, as git's trailer rules do for other tokens.
fn footer_section(paragraphs: &[Vec<&str>]) -> usize {
    let opens_footer = |p: &Vec<&str>| p.first().and_then(|l| footer_start(l));
    let mut trailing = paragraphs.len();
    for i in (0..paragraphs.len()).rev() {
        if opens_footer(&paragraphs[i]).is_none() {
            break;
        }
        trailing = i;
    }
    let breaking = paragraphs
        .iter()
        .position(|p| opens_footer(p).is_some_and(|(token, _)| is_breaking_token(&token)));
    breaking.map_or(trailing, |b| b.min(trailing))
}

/// Footers from their paragraphs: a line that starts a footer opens one; any other line
/// continues the value of the footer before it (a new paragraph after a blank line).
fn parse_footers(paragraphs: &[Vec<&str>]) -> Vec<Footer> {
    let mut footers: Vec<Footer> = Vec::new();
    for paragraph in paragraphs {
        for (n, line) in paragraph.iter().enumerate() {
            match footer_start(line) {
                Some((token, value)) => footers.push(Footer { token, value }),
                None => {
                    if let Some(last) = footers.last_mut() {
                        last.value.push_str(if n == 0 { "\n\n" } else { "\n" });
                        last.value.push_str(line);
                    }
                }
            }
        }
    }
    footers
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
    let (kind, scope, bang, description) = if let Some(inner) = git_revert_subject(header) {
        ("revert".to_string(), None, false, inner.to_string())
    } else {
        parse_header(header)?
    };

    let paragraphs = paragraphs(lines);
    let footer_from = footer_section(&paragraphs);
    let body = paragraphs[..footer_from]
        .iter()
        .map(|p| p.join("\n"))
        .collect::<Vec<_>>()
        .join("\n\n");
    let footers = parse_footers(&paragraphs[footer_from..]);
    let breaking_footer = footers
        .iter()
        .find(|f| is_breaking_token(&f.token))
        // `BREAKING-CHANGE #text`: the `#` is the separator here, not part of what breaks.
        .map(|f| f.value.trim_start_matches('#').trim().to_string());
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
        assert_eq!(
            p("fix: y\n\nBREAKING-CHANGE #node 10 is required")
                .breaking_description
                .as_deref(),
            Some("node 10 is required")
        );
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
    fn prose_after_a_breaking_footer_continues_it() {
        // semantic-release's history: the footer, then a paragraph that explains it.
        let c = p(
            "perf: use git tag --merge\n\nBREAKING CHANGE: Git 2.7.1 or higher is now required\n\nThe --merge option was added in Git 2.7.1.",
        );
        assert!(c.breaking);
        assert_eq!(c.bump(), Bump::Major);
        assert_eq!(
            c.breaking_description.as_deref(),
            Some(
                "Git 2.7.1 or higher is now required\n\nThe --merge option was added in Git 2.7.1."
            )
        );
        assert_eq!(c.body, None);
        // A body before it stays the body; a later token ends the value (rule 9).
        let c = p("feat: x\n\nWhy.\n\nBREAKING-CHANGE: gone\n\nmore prose\n\nRefs: #4\n\ntail");
        assert_eq!(c.body.as_deref(), Some("Why."));
        assert_eq!(
            c.footers,
            vec![
                Footer {
                    token: "BREAKING-CHANGE".into(),
                    value: "gone\n\nmore prose".into()
                },
                Footer {
                    token: "Refs".into(),
                    value: "#4\n\ntail".into()
                }
            ]
        );
        // Lower case is prose, not the token (rule 15): prose after it stays the body.
        let c = p("fix: y\n\nbreaking change: no\n\nprose");
        assert!(!c.breaking && c.footers.is_empty());
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
        let c = p("Revert \"Revert \"feat: add x\"\"\n\nThis reverts commit abcdef1.");
        assert_eq!(
            (c.kind.as_str(), c.description.as_str()),
            ("revert", "Revert \"feat: add x\"")
        );
        let c = p("Reapply \"feat: add x\"\n\nThis reverts commit abcdef2.");
        assert_eq!(
            (c.kind.as_str(), c.reverts.as_deref()),
            ("revert", Some("abcdef2"))
        );
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
