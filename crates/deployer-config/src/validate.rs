//! Checks beyond types: names, ARNs, regions, placeholders, versions, globs.

use crate::locate::{FieldPath, Target};
use crate::model::{Config, Environment, Health, MIGRATION_PRESETS, Migration, Service};

/// One failed check: where, what and how to fix it.
#[derive(Debug, Clone)]
pub(crate) struct Finding {
    pub path: FieldPath,
    pub target: Target,
    pub message: String,
    pub hint: String,
}

#[derive(Default)]
struct Findings(Vec<Finding>);

impl Findings {
    fn value(&mut self, path: FieldPath, message: impl Into<String>, hint: impl Into<String>) {
        self.0.push(Finding {
            path,
            target: Target::Value,
            message: message.into(),
            hint: hint.into(),
        });
    }

    fn key(&mut self, path: FieldPath, message: impl Into<String>, hint: impl Into<String>) {
        self.0.push(Finding {
            path,
            target: Target::Key { nth: 1 },
            message: message.into(),
            hint: hint.into(),
        });
    }
}

pub(crate) fn validate(config: &Config) -> Vec<Finding> {
    let mut f = Findings::default();
    let root = FieldPath::root();

    for (name, service) in &config.services {
        let at = root.key("services").key(name);
        check_name(&mut f, &at, name, "service");
        check_service(&mut f, &at, service);
    }
    for (name, env) in &config.environments {
        let at = root.key("environments").key(name);
        check_name(&mut f, &at, name, "environment");
        check_environment(&mut f, &at, env);
    }

    let release = root.key("release");
    check_tag_prefix(
        &mut f,
        release.key("tag-prefix"),
        &config.release.tag_prefix,
        true,
    );
    if let Err(e) = semver::Version::parse(&config.release.initial_version) {
        f.value(
            release.key("initial-version"),
            format!(
                "`{}` is not a semantic version ({e})",
                config.release.initial_version
            ),
            "Use MAJOR.MINOR.PATCH without a prefix, e.g. \"0.1.0\" (quote it)",
        );
    }
    let label = &config.release.prerelease_label;
    if label.is_empty() || !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        f.value(
            release.key("prerelease-label"),
            format!("`{label}` is not a valid pre-release label"),
            "Use letters, digits and `-` only, e.g. `rc` (gives v1.3.0-rc.1)",
        );
    }

    let markers = root.key("markers");
    if config.markers.deploy_all.trim().is_empty() {
        f.value(
            markers.key("deploy-all"),
            "the marker is empty (it would match every commit)",
            "Use a distinctive text such as \"[deploy-all]\"",
        );
    }
    for (i, marker) in config.markers.skip.iter().enumerate() {
        if marker.trim().is_empty() {
            f.value(
                markers.key("skip").index(i),
                "the marker is empty (it would skip every commit)",
                "Remove the entry or use a distinctive text such as \"[skip ci]\"",
            );
        }
    }
    f.0
}

/// `[a-z0-9][a-z0-9-_]*`
pub(crate) fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

fn check_name(f: &mut Findings, at: &FieldPath, name: &str, what: &str) {
    if !is_valid_name(name) {
        let suggestion: String = name
            .to_ascii_lowercase()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        f.key(
            at.clone(),
            format!("`{name}` is not a valid {what} name"),
            format!(
                "Names use lowercase letters, digits, `-` and `_`, starting with a letter or digit \
                 (e.g. `{}`)",
                suggestion.trim_start_matches(['-', '_'])
            ),
        );
    }
}

fn check_service(f: &mut Findings, at: &FieldPath, service: &Service) {
    let paths = at.key("paths");
    if service.paths.is_empty() {
        f.value(
            paths.clone(),
            "`paths` is empty, so no change would ever select this service",
            "List the files of the service, e.g. `paths: [\"services/api/**\"]`",
        );
    }
    for (i, pattern) in service.paths.iter().enumerate() {
        let glob = pattern.strip_prefix('!').unwrap_or(pattern);
        // The same rules detect-changes applies (deployer_git::glob), so a file that loads
        // here is not refused later without a line number.
        let body = glob.trim();
        let body = body.strip_prefix("./").unwrap_or(body);
        if glob.trim().is_empty() {
            f.value(
                paths.index(i),
                "empty path pattern",
                "Remove the entry or write a glob such as `services/api/**`",
            );
        } else if body.starts_with('/') {
            f.value(
                paths.index(i),
                format!("`{pattern}` starts with `/`"),
                "Patterns are relative to the repository root: drop the leading `/`",
            );
        } else if let Err(e) = globset::Glob::new(glob) {
            f.value(
                paths.index(i),
                format!("`{pattern}` is not a valid glob: {}", e.kind()),
                "Use GitHub-style globs: `*`, `**`, `?`, `[abc]`, `{a,b}`; prefix with `!` to exclude",
            );
        }
    }

    if !service.paths.is_empty() && service.paths.iter().all(|p| p.trim().starts_with('!')) {
        f.value(
            paths.clone(),
            "`paths` holds only exclusions (`!…`), so no change would ever select this service",
            "Add a positive pattern first, e.g. `services/api/**`",
        );
    }

    if let Some(image) = &service.image {
        check_image(f, at.key("image"), image);
    }
    if let Some(cluster) = &service.cluster {
        check_template(f, at.key("cluster"), cluster);
    }
    if let Some(name) = &service.service {
        check_template(f, at.key("service"), name);
    }
    for (i, container) in service.containers.iter().enumerate() {
        if container.trim().is_empty() {
            f.value(
                at.key("containers").index(i),
                "empty container name",
                "Write the container name as it appears in the task definition",
            );
        }
    }
    if let Some(prefix) = &service.tag_prefix {
        check_tag_prefix(f, at.key("tag-prefix"), prefix, false);
    }
    if let Some(migration) = &service.migration {
        check_migration(f, &at.key("migration"), migration);
    }
    if let Some(health) = &service.health {
        check_health(f, &at.key("health"), health);
    }
}

fn check_migration(f: &mut Findings, at: &FieldPath, migration: &Migration) {
    if let Some(preset) = &migration.preset {
        if !MIGRATION_PRESETS.contains(&preset.as_str()) {
            f.value(
                at.key("preset"),
                format!("unknown migration preset `{preset}`"),
                format!(
                    "Known presets: {}; or leave `preset` out and give `command`",
                    MIGRATION_PRESETS.map(|p| format!("`{p}`")).join(", ")
                ),
            );
        }
    } else if migration.command.is_empty() {
        f.value(
            at.clone(),
            "a migration needs a `command` or a `preset`",
            "Add `command: [alembic, upgrade, head]` (one list item per argument) or `preset: alembic`",
        );
    }
    if migration.command.iter().any(|a| a.is_empty()) {
        f.value(
            at.key("command"),
            "the command has an empty argument",
            "Remove the empty list item",
        );
    }
    if migration
        .container
        .as_deref()
        .is_some_and(|c| c.trim().is_empty())
    {
        f.value(
            at.key("container"),
            "empty container name",
            "Write the container name as it appears in the task definition, or remove the key",
        );
    }
}

fn check_health(f: &mut Findings, at: &FieldPath, health: &Health) {
    let urls = [
        ("url", &health.url),
        ("ready", &health.ready),
        ("live", &health.live),
    ];
    if urls.iter().all(|(_, u)| u.is_none()) {
        f.value(
            at.clone(),
            "`health` has no URL",
            "Set at least one of `url`, `ready`, `live`, or remove `health`",
        );
    }
    for (key, url) in urls {
        if let Some(url) = url {
            check_url(f, at.key(key), url);
        }
    }
    if health.timeout_seconds == Some(0) {
        f.value(
            at.key("timeout-seconds"),
            "the timeout is 0 seconds",
            "Use a positive number of seconds, e.g. 60 (the default)",
        );
    }
}

fn check_environment(f: &mut Findings, at: &FieldPath, env: &Environment) {
    if let Some(role) = &env.role {
        check_role(f, at.key("role"), role);
    }
    if let Some(role) = &env.chain_role {
        check_role(f, at.key("chain-role"), role);
    }
    if let Some(region) = env.region.as_deref().filter(|r| !is_region(r)) {
        f.value(
            at.key("region"),
            format!("`{region}` is not an AWS region name"),
            "Use a region code such as `us-east-1`, `eu-west-2` or `ap-southeast-2`",
        );
    }
    if let Some(cluster) = &env.cluster {
        check_template(f, at.key("cluster"), cluster);
    }
    if let Some(url) = &env.url {
        check_url(f, at.key("url"), url);
    }
    for (i, gate) in env.gates.iter().enumerate() {
        if let Err(message) = gate.kind() {
            f.value(
                at.key("gates").index(i),
                message,
                "Write one gate per list item, e.g. `- coverage: { report: coverage.xml, min-line: 80 }`",
            );
        }
    }
}

fn check_url(f: &mut Findings, path: FieldPath, url: &str) {
    if !check_template(f, path.clone(), url) {
        return;
    }
    if !(url.starts_with("http://") || url.starts_with("https://"))
        || url.contains(char::is_whitespace)
    {
        f.value(
            path,
            format!("`{url}` is not an http(s) URL"),
            "Write a full URL such as `https://api.{env}.example.com/health`",
        );
    }
}

/// Checks `{…}` placeholders; only `{env}` exists. Returns whether the template is fine.
fn check_template(f: &mut Findings, path: FieldPath, template: &str) -> bool {
    if template.trim().is_empty() {
        f.value(
            path,
            "the value is empty",
            "Write a value or remove the key",
        );
        return false;
    }
    match unknown_placeholder(template) {
        None => true,
        Some(bad) => {
            f.value(
                path,
                format!("unknown placeholder `{bad}` in `{template}`"),
                "The only placeholder is `{env}` (replaced by the environment name)",
            );
            false
        }
    }
}

/// The first placeholder other than `{env}`, or an unbalanced brace.
pub(crate) fn unknown_placeholder(template: &str) -> Option<String> {
    let mut rest = template;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Some("}".to_owned());
        }
        let after = &rest[open + 1..];
        match after.find(['{', '}']) {
            Some(close) if after[close..].starts_with('}') => {
                let name = &after[..close];
                if name != "env" {
                    return Some(format!("{{{name}}}"));
                }
                rest = &after[close + 1..];
            }
            _ => return Some(format!("{{{}", after.chars().take(20).collect::<String>())),
        }
    }
    None
}

fn check_image(f: &mut Findings, path: FieldPath, image: &str) {
    if image.trim().is_empty() || image.contains(char::is_whitespace) {
        f.value(
            path,
            format!("`{image}` is not an image repository"),
            "Write the repository without spaces, e.g. `111111111111.dkr.ecr.us-east-1.amazonaws.com/api`",
        );
        return;
    }
    if image.contains(['{', '}']) {
        f.value(
            path,
            format!("`{image}` contains a placeholder"),
            "`image` is one repository shared by every environment; write it literally",
        );
        return;
    }
    if let Some((repo, _digest)) = image.split_once('@') {
        f.value(
            path,
            format!("`{image}` includes a digest"),
            format!("Write the repository only (`{repo}`); the deploy chooses the tag"),
        );
        return;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    if let Some((name, tag)) = last.split_once(':') {
        let repo = &image[..image.len() - last.len() + name.len()];
        f.value(
            path,
            format!("`{image}` includes the tag `{tag}`"),
            format!(
                "Write the repository only (`{repo}`); tags are computed per build (`dev-<sha>`, `v1.2.3`)"
            ),
        );
    }
}

fn check_role(f: &mut Findings, path: FieldPath, role: &str) {
    if !is_role_arn(role) {
        f.value(
            path,
            format!("`{role}` is not an IAM role ARN"),
            "Write it as `arn:aws:iam::<12-digit account id>:role/<role name>`, e.g. \
             `arn:aws:iam::111111111111:role/deployer-dev`",
        );
    }
}

/// `arn:<partition>:iam::<12 digits>:role/<name>`
pub(crate) fn is_role_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, service, region, account, resource] = parts.as_slice() else {
        return false;
    };
    let name = resource.strip_prefix("role/").unwrap_or("");
    *prefix == "arn"
        && matches!(*partition, "aws" | "aws-cn" | "aws-us-gov")
        && *service == "iam"
        && region.is_empty()
        && account.len() == 12
        && account.chars().all(|c| c.is_ascii_digit())
        && !name.is_empty()
        && !name.ends_with('/')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c))
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`, `ap-southeast-4`, `il-central-1`.
pub(crate) fn is_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    let Some((number, words)) = parts.split_last() else {
        return false;
    };
    words.len() >= 2
        && words[0].len() == 2
        && words
            .iter()
            .all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase()))
        && !number.is_empty()
        && number.len() <= 2
        && number.chars().all(|c| c.is_ascii_digit())
}

fn check_tag_prefix(f: &mut Findings, path: FieldPath, prefix: &str, may_be_empty: bool) {
    let bad = prefix
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || "~^:?*[\\{}".contains(*c));
    if let Some(c) = bad {
        f.value(
            path,
            format!("tag prefix `{prefix}` contains `{c}`, which git tags cannot contain"),
            "Use letters, digits, `-`, `_`, `.` or `/`, e.g. `v` or `api-v`",
        );
    } else if prefix.is_empty() && !may_be_empty {
        f.value(
            path,
            "the tag prefix is empty",
            "Remove the key to use `release.tag-prefix`, or write a prefix such as `api-v`",
        );
    } else if prefix.starts_with(['/', '.', '-']) || prefix.contains("..") {
        f.value(
            path,
            format!("tag prefix `{prefix}` would make invalid git tag names"),
            "Start the prefix with a letter or digit, e.g. `v` or `api-v`",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(is_valid_name("api"));
        assert!(is_valid_name("0web_a-b"));
        assert!(!is_valid_name("Api"));
        assert!(!is_valid_name("-api"));
        assert!(!is_valid_name(""));
        assert!(!is_valid_name("a b"));
    }

    #[test]
    fn role_arns() {
        assert!(is_role_arn("arn:aws:iam::111111111111:role/deployer-dev"));
        assert!(is_role_arn("arn:aws:iam::111111111111:role/path/to/name"));
        assert!(!is_role_arn("arn:aws:iam::11111111111:role/x"));
        assert!(!is_role_arn("arn:aws:iam::111111111111:user/x"));
        assert!(!is_role_arn("arn:aws:iam:us-east-1:111111111111:role/x"));
        assert!(!is_role_arn("arn:aws:iam::111111111111:role/"));
        assert!(!is_role_arn("deployer-dev"));
    }

    #[test]
    fn regions() {
        for ok in [
            "us-east-1",
            "eu-central-2",
            "us-gov-west-1",
            "ap-southeast-4",
        ] {
            assert!(is_region(ok), "{ok}");
        }
        for bad in [
            "us-east",
            "US-EAST-1",
            "useast1",
            "us-east-1a",
            "",
            "east-1",
        ] {
            assert!(!is_region(bad), "{bad}");
        }
    }

    #[test]
    fn placeholders() {
        assert_eq!(unknown_placeholder("api-{env}"), None);
        assert_eq!(unknown_placeholder("{env}-{env}"), None);
        assert_eq!(unknown_placeholder("plain"), None);
        assert_eq!(
            unknown_placeholder("api-{stage}").as_deref(),
            Some("{stage}")
        );
        assert_eq!(unknown_placeholder("api-{env").as_deref(), Some("{env"));
        assert_eq!(unknown_placeholder("api-env}").as_deref(), Some("}"));
        assert_eq!(unknown_placeholder("{}").as_deref(), Some("{}"));
    }
}
