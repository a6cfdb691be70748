//! Process-wide list of secret values.
//!
//! GitHub only masks values announced with `::add-mask::`, and only in the log it
//! renders; outputs, the job summary and anything printed before the announcement are
//! not protected. So every secret goes through [`add`] the moment it is known, and every
//! line we write passes through [`redact`].

use std::sync::{Mutex, OnceLock};

/// Shorter values would redact ordinary words; GitHub itself ignores them too.
const MIN_SECRET_LEN: usize = 4;

/// Environment variables that hold a credential the moment the process starts: masked by
/// [`add_env_credentials`] before anything is printed. `AWS_ACCESS_KEY_ID` is on the list
/// because an access key id names the key and the account it belongs to.
pub const CREDENTIAL_VARIABLES: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "ACTIONS_RUNTIME_TOKEN",
];

/// Masks every credential the environment holds at start ([`CREDENTIAL_VARIABLES`] and the
/// file `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` names). Credentials resolved later (a
/// profile file, the container or instance endpoint, STS) are masked where they are
/// resolved (deployer-aws's credentials module).
pub fn add_env_credentials() {
    for name in CREDENTIAL_VARIABLES {
        if let Ok(value) = std::env::var(name) {
            add(&value);
        }
    }
    if let Some(path) = std::env::var_os("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
        && let Ok(token) = crate::files::read_text_limited(
            std::path::Path::new(&path),
            "the container authorization token file",
            crate::files::limit::CREDENTIAL,
        )
    {
        add(&token);
    }
}

/// Values that are never registered because they are made per request: SigV4 signatures
/// (`Signature=<hex>` in an Authorization header, `X-Amz-Signature=` in a presigned URL),
/// the key id in `Credential=<key id>/<date>/…`, and session tokens in headers or query
/// strings. Registered values are replaced too; these patterns catch what an echoing
/// server returns before (or without) the value being known.
///
/// Each pattern comes with the word it cannot match without (lower case): regex-lite's
/// case-insensitive matching is ASCII only, so a text whose ASCII-lowercased form lacks
/// the word cannot match, and looking for a word costs far less than regex-lite's
/// PikeVM over a long text (four patterns over a 100 KB changelog took about 18 ms, a
/// third of a `semver-release` run).
fn patterns() -> &'static [(regex_lite::Regex, &'static str, &'static str)] {
    static PATTERNS: OnceLock<Vec<(regex_lite::Regex, &'static str, &'static str)>> =
        OnceLock::new();
    PATTERNS.get_or_init(|| {
        [
            (
                r"(?i)(signature\s*=\s*)[0-9a-f]{16,}",
                "signature",
                "${1}***",
            ),
            (
                r"(?i)(credential\s*=\s*)[A-Za-z0-9]{12,}",
                "credential",
                "${1}***",
            ),
            (
                r#"(?i)(security[-_]token\\?["']?\s*[:=]\s*\\?["']?)[^\s"'\\,;&<>]{16,}"#,
                "security",
                "${1}***",
            ),
            (
                r#"(?i)(secret[-_]?access[-_]?key\\?["']?\s*[:=]\s*\\?["']?)[^\s"'\\,;&<>]{16,}"#,
                "secret",
                "${1}***",
            ),
        ]
        .into_iter()
        .filter_map(|(re, word, to)| regex_lite::Regex::new(re).ok().map(|r| (r, word, to)))
        .collect()
    })
}

fn secrets() -> &'static Mutex<Vec<String>> {
    static SECRETS: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    SECRETS.get_or_init(|| Mutex::new(Vec::new()))
}

/// Registers a secret. Under Actions this also emits `::add-mask::` so the runner hides it.
/// Returns true when the value was new.
pub fn add(secret: &str) -> bool {
    let secret = secret.trim();
    if secret.len() < MIN_SECRET_LEN {
        return false;
    }
    let mut list = secrets()
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if list.iter().any(|known| known == secret) {
        return false;
    }
    // One mask per line: a multi-line secret would otherwise only have its first line hidden.
    if crate::runtime::in_actions() {
        for line in secret.lines().filter(|l| l.trim().len() >= MIN_SECRET_LEN) {
            println!("::add-mask::{}", crate::runtime::escape_data(line));
        }
    }
    list.push(secret.to_string());
    // Longest first so a secret that contains another is replaced whole.
    list.sort_by_key(|s| std::cmp::Reverse(s.len()));
    true
}

/// Replaces every registered secret in `text`, and every request signature or credential
/// field ([`patterns`]), with `***`.
pub fn redact(text: &str) -> String {
    let mut out = redact_registered(text);
    let mut lower = out.to_ascii_lowercase();
    for (pattern, word, replacement) in patterns() {
        if lower.contains(word) && pattern.is_match(&out) {
            out = pattern.replace_all(&out, *replacement).into_owned();
            lower = out.to_ascii_lowercase();
        }
    }
    out
}

/// [`redact`], then at most `max_bytes` bytes (at a character boundary) followed by
/// `marker` when something was cut. The cut comes after redaction, so it can never leave
/// the visible prefix of a secret behind, which the runner would no longer recognise.
pub fn redact_capped(text: &str, max_bytes: usize, marker: &str) -> String {
    let mut out = redact(text);
    if out.len() <= max_bytes {
        return out;
    }
    let mut cut = max_bytes.saturating_sub(marker.len());
    while cut > 0 && !out.is_char_boundary(cut) {
        cut -= 1;
    }
    out.truncate(cut);
    out.push_str(marker);
    out
}

fn redact_registered(text: &str) -> String {
    let list = secrets()
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut out = text.to_string();
    for secret in list.iter() {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), "***");
        }
        for line in secret.lines().filter(|l| l.trim().len() >= MIN_SECRET_LEN) {
            if out.contains(line) {
                out = out.replace(line, "***");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_registered_values_and_ignores_short_ones() {
        assert!(add("s3cr3t-token-value"));
        assert!(!add("s3cr3t-token-value"), "second registration is a no-op");
        assert!(!add("ab"), "too short to be a secret");
        assert_eq!(redact("token=s3cr3t-token-value;"), "token=***;");
        assert_eq!(redact("ab stays"), "ab stays");
    }

    #[test]
    fn longer_secret_containing_a_shorter_one_is_replaced_whole() {
        add("inner-secret");
        add("outer-inner-secret-x");
        assert_eq!(redact("[outer-inner-secret-x]"), "[***]");
    }

    #[test]
    fn signatures_and_credential_fields_are_redacted_by_pattern() {
        let auth = "Authorization: AWS4-HMAC-SHA256 Credential=ASIAPATTERNKEY0000001/20261204/us-east-1/ecs/aws4_request, \
                    SignedHeaders=host;x-amz-date, Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let out = redact(auth);
        assert!(!out.contains("0123456789abcdef"), "{out}");
        assert!(!out.contains("ASIAPATTERNKEY0000001"), "{out}");
        assert!(
            out.contains("Signature=***") && out.contains("Credential=***/20261204"),
            "{out}"
        );
        let url = "https://b.s3.amazonaws.com/k?X-Amz-Security-Token=IQoJb3JpZ2luX2VjEXAMPLETOKENVALUE&X-Amz-Signature=abcdef0123456789abcdef";
        let out = redact(url);
        assert!(
            !out.contains("IQoJb3JpZ2luX2VjEXAMPLE") && !out.contains("abcdef0123456789"),
            "{out}"
        );
        let json =
            r#"{"x-amz-security-token": "FwoGZXIvYXdzEXAMPLESESSIONTOKEN", "ok": "keep me"}"#;
        let out = redact(json);
        assert!(
            !out.contains("FwoGZXIvYXdzEXAMPLE") && out.contains("keep me"),
            "{out}"
        );
        let escaped = r#"{\"X-Amz-Security-Token\": \"FwoGZXIvYXdzESCAPEDTOKEN\"}"#;
        assert!(
            !redact(escaped).contains("FwoGZXIvYXdzESCAPED"),
            "{}",
            redact(escaped)
        );
        assert_eq!(
            redact("Signature verification is on"),
            "Signature verification is on"
        );
    }

    #[test]
    fn each_patterns_word_is_one_it_cannot_match_without() {
        // The prefilter of `redact` skips a pattern when the text lacks its word: the word
        // must be a literal of the pattern, outside any class or alternation.
        for (pattern, word, _) in patterns() {
            let source = pattern.as_str().to_ascii_lowercase();
            assert!(
                source.starts_with(&format!("(?i)({word}")),
                "{source} does not start with {word}"
            );
        }
        // Any ASCII case of the word still lets its pattern run.
        let mixed = "sEcUrItY_ToKeN=FwoGZXIvYXdzMIXEDCASETOKEN and SIGNATURE=0123456789abcdef01";
        let out = redact(mixed);
        assert!(
            !out.contains("FwoGZXIvYXdzMIXED") && !out.contains("0123456789abcdef01"),
            "{out}"
        );
    }

    #[test]
    fn capping_cuts_after_redaction_and_marks_the_cut() {
        add("capped-secret-value-123");
        // Cutting the raw text at 40 bytes would leave `capped-secret-` visible, a prefix
        // no mask matches.
        let text = format!(
            "{}capped-secret-value-123 {}",
            "a".repeat(20),
            "b".repeat(40)
        );
        let out = redact_capped(&text, 40, "…[cut]");
        assert!(out.len() <= 40, "{out}");
        assert!(
            out.starts_with(&format!("{}*** b", "a".repeat(20))),
            "{out}"
        );
        assert!(
            out.ends_with("…[cut]") && !out.contains("capped-secret"),
            "{out}"
        );
        assert_eq!(redact_capped("short", 30, "…[cut]"), "short");
        let wide = "é".repeat(40);
        let out = redact_capped(&wide, 21, "~");
        assert!(out.len() <= 21 && out.ends_with('~'), "{out}");
    }

    #[test]
    fn every_line_of_a_multi_line_secret_is_redacted() {
        add("-----BEGIN KEY-----\nAAAABBBBCCCC\n-----END KEY-----");
        assert_eq!(redact("got AAAABBBBCCCC here"), "got *** here");
    }
}
