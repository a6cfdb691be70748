//! Container image tags for a build.

use semver::Version;

/// Length of the short SHA in `dev-<shortsha>` tags.
pub const SHORT_SHA_LEN: usize = 7;

/// `dev-<shortsha>` for a branch build.
pub fn dev_tag(sha: &str) -> String {
    let short: String = sha.chars().take(SHORT_SHA_LEN).collect();
    format!("dev-{short}")
}

/// Image tags for a release: `vX.Y.Z`, then the floating `X.Y` and `X` for final
/// releases (no bare `0` floating tag: a 0.x minor is its compatibility line). A
/// pre-release gets only its exact tag, never a floating one.
pub fn release_tags(version: &Version) -> Vec<String> {
    let mut out = vec![format!("v{version}")];
    if version.pre.is_empty() {
        out.push(format!("{}.{}", version.major, version.minor));
        if version.major > 0 {
            out.push(version.major.to_string());
        }
    }
    out
}

/// The image tags for this run: release tags when `released` is a version, else the dev tag.
pub fn image_tags(released: Option<&Version>, sha: &str) -> Vec<String> {
    match released {
        Some(v) => release_tags(v),
        None => vec![dev_tag(sha)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).expect("version")
    }

    #[test]
    fn tags() {
        assert_eq!(release_tags(&v("1.2.3")), ["v1.2.3", "1.2", "1"]);
        assert_eq!(release_tags(&v("0.4.1")), ["v0.4.1", "0.4"]);
        assert_eq!(release_tags(&v("2.0.0-rc.3")), ["v2.0.0-rc.3"]);
        assert_eq!(image_tags(None, "0123456789abcdef"), ["dev-0123456"]);
    }
}
