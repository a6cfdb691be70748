//! Commit-message markers: GitHub's skip list and the `[deploy-all]` force marker.
//!
//! Matching is a case-insensitive substring match of the exact token (brackets
//! included). The `skip-checks: true` trailer counts when it is a trailer line (a line
//! of the message's last paragraph), as GitHub documents.

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

/// Scans `messages` (every commit of a push, or the head commit) for markers; the first
/// hit of each kind is reported.
pub fn scan<'a, I: IntoIterator<Item = &'a str>>(
    messages: I,
    settings: &MarkerSettings,
) -> Markers {
    let mut found = Markers::default();
    for message in messages {
        let subject = message.lines().next().unwrap_or("").to_string();
        if found.skip.is_none() {
            if let Some(marker) = settings.skip.iter().find(|m| contains_ci(message, m)) {
                found.skip = Some(MarkerHit {
                    marker: marker.clone(),
                    subject: subject.clone(),
                });
            } else if settings.skip_checks_trailer && has_skip_checks_trailer(message) {
                found.skip = Some(MarkerHit {
                    marker: "skip-checks: true".into(),
                    subject: subject.clone(),
                });
            }
        }
        if found.deploy_all.is_none() && contains_ci(message, &settings.deploy_all) {
            found.deploy_all = Some(MarkerHit {
                marker: settings.deploy_all.clone(),
                subject,
            });
        }
    }
    found
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
                scan([msg.as_str()], &s).skip.map(|h| h.marker),
                Some(m.to_string()),
                "{m}"
            );
        }
        assert!(
            scan(["fix: skip ci handling"], &s).skip.is_none(),
            "token must include brackets"
        );
    }

    #[test]
    fn skip_checks_trailer_only_in_trailer_block() {
        let s = MarkerSettings::default();
        let hit = scan(["docs: x\n\nbody\n\n\nskip-checks: true"], &s).skip;
        assert_eq!(hit.map(|h| h.marker), Some("skip-checks: true".into()));
        assert!(
            scan(["skip-checks: true"], &s).skip.is_none(),
            "subject is not a trailer"
        );
        assert!(scan(["docs: x\n\nskip-checks: false"], &s).skip.is_none());
    }

    #[test]
    fn deploy_all_from_any_commit() {
        let s = MarkerSettings::default();
        let found = scan(["feat: a", "chore: bump\n\n[Deploy-All] please"], &s);
        assert_eq!(
            found.deploy_all.map(|h| h.subject),
            Some("chore: bump".into())
        );
        assert!(found.skip.is_none());
    }
}
