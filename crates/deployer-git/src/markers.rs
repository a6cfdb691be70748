//! Commit-message markers: GitHub's skip list and the `[deploy-all]` force marker.
//!
//! Matching is a case-insensitive substring match of the exact token (brackets
//! included). The `skip-checks: true` trailer counts when it is a trailer line (a line
//! of the message's last paragraph), as GitHub documents.
//!
//! # Which commit a skip marker is read from: the head commit only
//! GitHub applies skip markers itself, before a `push` or `pull_request` workflow
//! starts, and it reads them from the **head commit** of the push or pull request:
//! * the docs ("Skipping workflow runs"): workflows "won't be triggered if you add any of
//!   the following strings to the commit message in a push, or the HEAD commit of a pull
//!   request" (<https://docs.github.com/en/actions/managing-workflow-runs/skipping-workflow-runs>;
//!   the Japanese edition says "the HEAD commit of the push or pull request");
//! * the 2021 changelog said "If any commit message in your push … contains" a marker
//!   (<https://github.blog/changelog/2021-02-08-github-actions-skip-pull-request-and-push-workflows-with-skip-ci/>),
//!   but a test of a multi-commit push found that only the latest commit counts, and
//!   GitHub Support answered that it should read "If **the** commit message in your push
//!   contains …; the same idea applies to the HEAD commit of a pull request"
//!   (<https://github.com/github/docs/issues/6162>,
//!   <https://github.com/actions/runner/issues/774#issuecomment-776048193>).
//!
//! So a marker on a commit that is not the head never stopped GitHub from starting the
//! run, and must not make deployer skip it either: the head commit's changes would then
//! never be deployed. Reading the head commit only is also right under the changelog's
//! wording: had GitHub skipped on any commit, the run would not exist. `[deploy-all]` is
//! deployer's own marker and counts from any commit of the push.

use serde::Serialize;

/// GitHub's documented skip markers.
pub const GITHUB_SKIP_MARKERS: [&str; 5] = [
    "[skip ci]",
    "[ci skip]",
    "[no ci]",
    "[skip actions]",
    "[actions skip]",
];
pub const DEFAULT_DEPLOY_ALL: &str = "[deploy-all]";

/// Which markers to look for (mirrors `deployer.yml`'s `markers:` block).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkerSettings {
    pub deploy_all: String,
    pub skip: Vec<String>,
    /// Honour the `skip-checks: true` trailer.
    pub skip_checks_trailer: bool,
}

impl Default for MarkerSettings {
    fn default() -> Self {
        MarkerSettings {
            deploy_all: DEFAULT_DEPLOY_ALL.to_string(),
            skip: GITHUB_SKIP_MARKERS.iter().map(|s| s.to_string()).collect(),
            skip_checks_trailer: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MarkerHit {
    pub marker: String,
    /// First line of the message that carried it.
    pub subject: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Markers {
    pub skip: Option<MarkerHit>,
    pub deploy_all: Option<MarkerHit>,
}

fn contains_ci(haystack: &str, needle: &str) -> bool {
    !needle.is_empty() && haystack.to_lowercase().contains(&needle.to_lowercase())
}

fn has_skip_checks_trailer(message: &str) -> bool {
    let trimmed = message.trim_end();
    let last_paragraph = trimmed.rsplit("\n\n").next().unwrap_or("");
    // The subject line alone is not a trailer block.
    if !trimmed.contains("\n\n") {
        return false;
    }
    last_paragraph.lines().any(|line| {
        let Some((key, value)) = line.split_once(':') else {
            return false;
        };
        key.trim().eq_ignore_ascii_case("skip-checks") && value.trim().eq_ignore_ascii_case("true")
    })
}

/// Scans for markers: skip markers in `head` (the head commit's message, see the module
/// docs) only, `[deploy-all]` in `head` and every message of `others` (the rest of the
/// push, a pull request's title and body); the first hit of each kind is reported.
pub fn scan<'a, I: IntoIterator<Item = &'a str>>(
    head: Option<&'a str>,
    others: I,
    settings: &MarkerSettings,
) -> Markers {
    let mut found = Markers {
        skip: head.and_then(|message| skip_marker(message, settings)),
        deploy_all: None,
    };
    for message in head.into_iter().chain(others) {
        if contains_ci(message, &settings.deploy_all) {
            found.deploy_all = Some(MarkerHit {
                marker: settings.deploy_all.clone(),
                subject: subject(message),
            });
            break;
        }
    }
    found
}

fn subject(message: &str) -> String {
    message.lines().next().unwrap_or("").to_string()
}

/// The skip marker `message` carries, if any.
fn skip_marker(message: &str, settings: &MarkerSettings) -> Option<MarkerHit> {
    let marker = match settings.skip.iter().find(|m| contains_ci(message, m)) {
        Some(marker) => marker.clone(),
        None if settings.skip_checks_trailer && has_skip_checks_trailer(message) => {
            "skip-checks: true".into()
        }
        None => return None,
    };
    Some(MarkerHit {
        marker,
        subject: subject(message),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_github_skip_marker_any_case() {
        let s = MarkerSettings::default();
        for m in GITHUB_SKIP_MARKERS {
            let msg = format!("docs: typo {}", m.to_uppercase());
            assert_eq!(
                scan(Some(msg.as_str()), [], &s).skip.map(|h| h.marker),
                Some(m.to_string()),
                "{m}"
            );
        }
        assert!(
            scan(Some("fix: skip ci handling"), [], &s).skip.is_none(),
            "token must include brackets"
        );
    }

    #[test]
    fn skip_checks_trailer_only_in_trailer_block() {
        let s = MarkerSettings::default();
        let hit = scan(Some("docs: x\n\nbody\n\n\nskip-checks: true"), [], &s).skip;
        assert_eq!(hit.map(|h| h.marker), Some("skip-checks: true".into()));
        assert!(
            scan(Some("skip-checks: true"), [], &s).skip.is_none(),
            "subject is not a trailer"
        );
        assert!(
            scan(Some("docs: x\n\nskip-checks: false"), [], &s)
                .skip
                .is_none()
        );
    }

    #[test]
    fn deploy_all_from_any_commit() {
        let s = MarkerSettings::default();
        let found = scan(
            Some("feat: head"),
            ["feat: a", "chore: bump\n\n[Deploy-All] please"],
            &s,
        );
        assert_eq!(
            found.deploy_all.map(|h| h.subject),
            Some("chore: bump".into())
        );
        assert!(found.skip.is_none());
    }

    #[test]
    fn skip_markers_count_on_the_head_commit_only() {
        let s = MarkerSettings::default();
        // A three-commit push with `[skip ci]` on the middle commit: GitHub runs it.
        let found = scan(
            Some("fix(billing): rounding"),
            ["feat: first", "docs: typo [skip ci]"],
            &s,
        );
        assert_eq!(found.skip, None);
        let trailer = scan(Some("feat: x"), ["docs: y\n\n\nskip-checks: true"], &s);
        assert_eq!(trailer.skip, None);
        let head = scan(Some("docs: typo [skip ci]"), ["feat: first"], &s);
        assert_eq!(
            head.skip.map(|h| h.subject),
            Some("docs: typo [skip ci]".into())
        );
    }
}
