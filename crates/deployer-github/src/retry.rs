//! Bounded retries with exponential backoff for one HTTP request, shared by the GitHub
//! client and other small reqwest clients of deployer (the Slack webhook in
//! `deployer-notify`): one loop, one policy type, one reading of `Retry-After`.

use std::time::Duration;

use deployer_core::mask::redact;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::text::error_chain;

/// How often and how long to retry a request that failed with a 5xx, a rate limit or a
/// connection error. The total wait is bounded: at most `max_attempts - 1` sleeps, each at
/// most `max_delay` (a server's `Retry-After` is honoured up to that cap).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, including the first one (1 = no retry).
    pub max_attempts: u32,
    /// Delay before the first retry; doubles for each further retry.
    pub initial_delay: Duration,
    /// Upper bound of any single delay.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 4 attempts, 1 s → 2 s → 4 s (a `Retry-After` up to 20 s is honoured).
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(20),
        }
    }
}

impl RetryPolicy {
    /// One attempt, no retry.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            initial_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
        }
    }

    /// Fast retries for tests.
    pub fn fast(max_attempts: u32) -> Self {
        RetryPolicy {
            max_attempts,
            initial_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(50),
        }
    }

    /// Delay after failed attempt number `attempt` (1-based), honouring the server's
    /// requested wait up to `max_delay`.
    pub fn delay(&self, attempt: u32, server_wait: Option<Duration>) -> Duration {
        let exp = attempt.saturating_sub(1).min(16);
        let backoff = self.initial_delay.saturating_mul(1u32 << exp);
        server_wait.unwrap_or(backoff).min(self.max_delay)
    }

    /// Attempts in total (at least 1).
    pub fn attempts(&self) -> u32 {
        self.max_attempts.max(1)
    }
}

/// `Retry-After: <seconds>` (the HTTP-date form is ignored: GitHub and Slack send seconds).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// An HTTP answer (any status), read whole.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
    /// Attempts made, including the one that produced this answer.
    pub attempts: u32,
}

/// No answer: the server could not be reached (or the body could not be read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreachable {
    /// The error chain, without the URL (it may carry a secret) and redacted.
    pub message: String,
    pub attempts: u32,
}

/// What to do with an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Final: hand the answer to the caller.
    Done,
    /// Transient (5xx, rate limit): retry after this wait (else the backoff) while
    /// attempts remain; the last answer is handed to the caller otherwise.
    Retry(Option<Duration>),
}

/// Sends the request `build` makes, retrying connection failures and timeouts, and the
/// answers `judge` calls transient, within `policy`. `what` names the request in the
/// retry log lines (never put a secret in it).
///
/// A timeout after a POST was sent may mean it was applied: callers of non-idempotent
/// requests must accept a repeat (or detect it, as the release and tag calls do).
pub async fn send_with_retries(
    policy: &RetryPolicy,
    what: &str,
    build: impl Fn() -> reqwest::RequestBuilder,
    judge: impl Fn(&Answer) -> Verdict,
) -> Result<Answer, Unreachable> {
    let attempts = policy.attempts();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let failure = match build().send().await {
            Ok(resp) => {
                let status = resp.status();
                let headers = resp.headers().clone();
                match resp.text().await {
                    Ok(body) => {
                        let answer = Answer {
                            status,
                            headers,
                            body,
                            attempts: attempt,
                        };
                        match judge(&answer) {
                            Verdict::Retry(wait) if attempt < attempts => {
                                let wait = policy.delay(attempt, wait);
                                tracing::warn!(
                                    "{what}: HTTP {}; retrying in {wait:?}",
                                    status.as_u16()
                                );
                                tokio::time::sleep(wait).await;
                                continue;
                            }
                            _ => return Ok(answer),
                        }
                    }
                    Err(e) => (e, false),
                }
            }
            Err(e) => {
                let retryable = e.is_connect() || e.is_timeout();
                (e, retryable)
            }
        };
        let (error, retryable) = failure;
        let message = redact(&error_chain(&error.without_url()));
        if retryable && attempt < attempts {
            let wait = policy.delay(attempt, None);
            tracing::warn!("{what}: {message}; retrying in {wait:?}");
            tokio::time::sleep(wait).await;
            continue;
        }
        return Err(Unreachable {
            message,
            attempts: attempt,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay(1, None), Duration::from_secs(1));
        assert_eq!(p.delay(2, None), Duration::from_secs(2));
        assert_eq!(p.delay(3, None), Duration::from_secs(4));
        assert_eq!(p.delay(30, None), Duration::from_secs(20));
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(3600))),
            Duration::from_secs(20)
        );
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(7))),
            Duration::from_secs(7)
        );
    }
}
