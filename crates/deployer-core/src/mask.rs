//! Process-wide list of secret values.
//!
//! GitHub only masks values announced with `::add-mask::`, and only in the log it
//! renders; outputs, the job summary and anything printed before the announcement are
//! not protected. So every secret goes through [`add`] the moment it is known, and every
//! line we write passes through [`redact`].

use std::sync::{Mutex, OnceLock};

/// Shorter values would redact ordinary words; GitHub itself ignores them too.
const MIN_SECRET_LEN: usize = 4;

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

/// Replaces every registered secret in `text` with `***`.
pub fn redact(text: &str) -> String {
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
    fn every_line_of_a_multi_line_secret_is_redacted() {
        add("-----BEGIN KEY-----\nAAAABBBBCCCC\n-----END KEY-----");
        assert_eq!(redact("got AAAABBBBCCCC here"), "got *** here");
    }
}
