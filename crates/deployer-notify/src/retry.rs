//! Bounded exponential backoff shared by the GitHub and Slack clients.

use std::time::Duration;

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

    pub(crate) fn attempts(&self) -> u32 {
        self.max_attempts.max(1)
    }
}

/// `Retry-After: <seconds>` (the HTTP-date form is ignored: GitHub and Slack send seconds).
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
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
