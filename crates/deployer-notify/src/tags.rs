//! ECS task-definition tags that say what a revision contains, so that rollback can find
//! a revision by git SHA or version and anyone can see what is running.
//!
//! ECS tag rules (`TagResource`): key 1–128 characters, value 0–256 characters, letters,
//! digits and spaces plus `_ . : / = + - @`; the prefix `aws:` is reserved. Values are
//! sanitised (any other character becomes `_`) and truncated to fit.

/// Tag key holding the full commit SHA (lowercase).
pub const TAG_GIT_SHA: &str = "deployer:git-sha";
/// Tag key holding the version (e.g. `v1.2.3`, `dev-0123abc`).
pub const TAG_VERSION: &str = "deployer:version";
/// Tag key holding the URL of the run that registered the revision.
pub const TAG_RUN_URL: &str = "deployer:run-url";
/// Tag key holding the GitHub login that started the run.
pub const TAG_DEPLOYED_BY: &str = "deployer:deployed-by";

pub const MAX_KEY_CHARS: usize = 128;
pub const MAX_VALUE_CHARS: usize = 256;

fn allowed(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, ' ' | '_' | '.' | ':' | '/' | '=' | '+' | '-' | '@')
}

fn sanitise(text: &str, max: usize) -> String {
    let mut out: String = text
        .trim()
        .chars()
        .map(|c| if allowed(c) { c } else { '_' })
        .collect();
    // `aws:` is reserved by AWS in keys and values, in any letter case.
    if out.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:")) {
        out.insert(0, '_');
    }
    let out: String = out.chars().take(max).collect();
    out.trim_end().to_string()
}

/// A tag value ECS accepts: disallowed characters become `_`, at most 256 characters.
pub fn sanitise_value(value: &str) -> String {
    sanitise(value, MAX_VALUE_CHARS)
}

/// A tag key ECS accepts: disallowed characters become `_`, at most 128 characters.
pub fn sanitise_key(key: &str) -> String {
    sanitise(key, MAX_KEY_CHARS)
}

/// The tags to put on a task-definition revision this run registers. Empty inputs are
/// left out (an empty SHA would otherwise match nothing useful).
pub fn deployment_tags(
    sha: &str,
    version: &str,
    run_url: &str,
    actor: &str,
) -> Vec<(String, String)> {
    [
        (TAG_GIT_SHA, sha.trim().to_ascii_lowercase()),
        (TAG_VERSION, version.to_string()),
        (TAG_RUN_URL, run_url.to_string()),
        (TAG_DEPLOYED_BY, actor.to_string()),
    ]
    .into_iter()
    .filter_map(|(k, v)| {
        let v = sanitise_value(&v);
        (!v.is_empty()).then(|| (sanitise_key(k), v))
    })
    .collect()
}

fn tag<'a>(tags: &'a [(String, String)], key: &str) -> Option<&'a str> {
    tags.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Task-definition ARNs whose `deployer:git-sha` tag matches `sha`, in input order. A short
/// SHA (at least 7 hex characters) matches the full SHA it abbreviates; case is ignored.
pub fn find_by_sha<'a>(
    candidates: &'a [(String, Vec<(String, String)>)],
    sha: &str,
) -> Vec<&'a str> {
    let wanted = sha.trim().to_ascii_lowercase();
    if wanted.is_empty() {
        return Vec::new();
    }
    candidates
        .iter()
        .filter(|(_, tags)| {
            tag(tags, TAG_GIT_SHA).is_some_and(|have| {
                let have = have.to_ascii_lowercase();
                have == wanted
                    || (wanted.len() >= 7 && have.starts_with(&wanted))
                    || (have.len() >= 7 && wanted.starts_with(&have))
            })
        })
        .map(|(arn, _)| arn.as_str())
        .collect()
}

/// `v1.2.3` and `1.2.3` name the same version.
fn normalise_version(v: &str) -> &str {
    let v = v.trim();
    match v.strip_prefix(['v', 'V']) {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => rest,
        _ => v,
    }
}

/// Task-definition ARNs whose `deployer:version` tag equals `version` (a leading `v` before
/// a digit is ignored on both sides), in input order.
pub fn find_by_version<'a>(
    candidates: &'a [(String, Vec<(String, String)>)],
    version: &str,
) -> Vec<&'a str> {
    let wanted = normalise_version(&sanitise_value(version)).to_string();
    if wanted.is_empty() {
        return Vec::new();
    }
    candidates
        .iter()
        .filter(|(_, tags)| {
            tag(tags, TAG_VERSION).is_some_and(|have| normalise_version(have) == wanted)
        })
        .map(|(arn, _)| arn.as_str())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "0123456789ABCDEF0123456789abcdef01234567";

    #[test]
    fn tags_have_the_documented_keys_and_clean_values() {
        let tags = deployment_tags(
            SHA,
            "v1.2.3",
            "https://github.com/org/app/actions/runs/42",
            "dependabot[bot]",
        );
        assert_eq!(
            tags,
            vec![
                ("deployer:git-sha".into(), SHA.to_ascii_lowercase()),
                ("deployer:version".into(), "v1.2.3".into()),
                (
                    "deployer:run-url".into(),
                    "https://github.com/org/app/actions/runs/42".into()
                ),
                ("deployer:deployed-by".into(), "dependabot_bot_".into()),
            ]
        );
    }

    #[test]
    fn disallowed_characters_become_underscores() {
        assert_eq!(sanitise_value("a&b<c>d\"e'f\n g"), "a_b_c_d_e_f_ g");
        assert_eq!(
            sanitise_value("ok _.:/=+-@ Ünïcödé 123"),
            "ok _.:/=+-@ Ünïcödé 123"
        );
        assert_eq!(sanitise_value("  padded  "), "padded");
        assert_eq!(
            sanitise_value("https://x/?q=1&r=2#frag"),
            "https://x/_q=1_r=2_frag"
        );
    }

    #[test]
    fn values_and_keys_are_truncated_to_ecs_limits() {
        let long = "x".repeat(1000);
        assert_eq!(sanitise_value(&long).chars().count(), MAX_VALUE_CHARS);
        assert_eq!(sanitise_key(&long).chars().count(), MAX_KEY_CHARS);
        let multibyte = "é".repeat(300);
        assert_eq!(sanitise_value(&multibyte).chars().count(), MAX_VALUE_CHARS);
        let tags = deployment_tags(SHA, &long, &long, &long);
        assert!(
            tags.iter()
                .all(|(k, v)| k.chars().count() <= 128 && v.chars().count() <= 256)
        );
    }

    #[test]
    fn reserved_aws_prefix_is_defused() {
        assert_eq!(sanitise_value("AWS:thing"), "_AWS:thing");
        assert_eq!(sanitise_value("awsome"), "awsome");
    }

    #[test]
    fn empty_values_are_left_out() {
        let tags = deployment_tags(SHA, "", " ", "octocat");
        let keys: Vec<&str> = tags.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["deployer:git-sha", "deployer:deployed-by"]);
    }

    fn candidates() -> Vec<(String, Vec<(String, String)>)> {
        vec![
            (
                "arn:td/api:3".into(),
                deployment_tags(SHA, "v1.2.3", "", "a"),
            ),
            (
                "arn:td/api:2".into(),
                deployment_tags("fedcba9876543210fedcba9876543210fedcba98", "1.2.2", "", "a"),
            ),
            ("arn:td/api:1".into(), vec![("other".into(), "x".into())]),
            (
                "arn:td/api:4".into(),
                deployment_tags(SHA, "v1.2.3-rc.1", "", "a"),
            ),
        ]
    }

    #[test]
    fn find_by_sha_matches_full_and_short_shas() {
        let c = candidates();
        assert_eq!(find_by_sha(&c, SHA), ["arn:td/api:3", "arn:td/api:4"]);
        assert_eq!(find_by_sha(&c, "0123456"), ["arn:td/api:3", "arn:td/api:4"]);
        assert_eq!(find_by_sha(&c, "FEDCBA98"), ["arn:td/api:2"]);
        assert!(
            find_by_sha(&c, "012345").is_empty(),
            "6 characters is too short to be a SHA"
        );
        assert!(find_by_sha(&c, "").is_empty());
    }

    #[test]
    fn find_by_version_ignores_a_leading_v() {
        let c = candidates();
        assert_eq!(find_by_version(&c, "v1.2.3"), ["arn:td/api:3"]);
        assert_eq!(find_by_version(&c, "1.2.3"), ["arn:td/api:3"]);
        assert_eq!(find_by_version(&c, "v1.2.2"), ["arn:td/api:2"]);
        assert_eq!(find_by_version(&c, "1.2.3-rc.1"), ["arn:td/api:4"]);
        assert!(find_by_version(&c, "v9").is_empty());
    }
}
