//! Bounded retries with exponential backoff for one HTTP request, shared by the GitHub
//! client and other small reqwest clients of deployer (the Slack webhook in
//! `deployer-notify`): one loop, one policy type, one reading of `Retry-After`.

use std::time::Duration;

use deployer_core::mask::redact;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::text::error_chain;

/// How often and how long to retry a request that failed with a 5xx, a rate limit or a
/// connection error. The total wait is bounded: at most `max_attempts - 1` sleeps, and at
/// most `max_total_wait` of sleeping in all.
///
/// A wait the server requires (`Retry-After`, a rate limit's reset) is a minimum: it is
/// waited whole or not at all. GitHub's REST docs say not to retry before it has elapsed
/// ("you should not retry your request until after that many seconds has elapsed",
/// <https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit>);
/// a request sent earlier only fails again and risks the integration being banned. When
/// the required wait does not fit in what is left of `max_total_wait`, the loop stops at
/// once and hands back the answer with [`Answer::wait_refused`] set, so the caller can say
/// how long the server asked for instead of blocking a job for an hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, including the first one (1 = no retry).
    pub max_attempts: u32,
    /// Delay before the first retry; doubles for each further retry.
    pub initial_delay: Duration,
    /// Upper bound of any one backoff delay (not of a wait the server requires).
    pub max_delay: Duration,
    /// Upper bound of all sleeps of one request together.
    pub max_total_wait: Duration,
}

impl Default for RetryPolicy {
    /// 4 attempts, 1 s → 2 s → 4 s backoff; server-required waits honoured up to 2 minutes
    /// in total (one secondary-rate-limit minute fits, an hourly reset does not).
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(20),
            max_total_wait: Duration::from_secs(120),
        }
    }
}

/// The next sleep of the retry loop, or why there is none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextWait {
    /// Sleep this long, then try again.
    Sleep(Duration),
    /// No attempt left.
    NoAttemptsLeft,
    /// The wait needed (the server's requirement, else the backoff) exceeds what is left
    /// of [`RetryPolicy::max_total_wait`].
    OverBudget(Duration),
}

impl RetryPolicy {
    /// One attempt, no retry.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            initial_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
            max_total_wait: Duration::ZERO,
        }
    }

    /// Fast backoff for tests; server-required waits up to 5 s in total are honoured
    /// (a `Retry-After: 1` answer is retried after a real second).
    pub fn fast(max_attempts: u32) -> Self {
        RetryPolicy {
            max_attempts,
            initial_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(50),
            max_total_wait: Duration::from_secs(5),
        }
    }

    /// Backoff after failed attempt number `attempt` (1-based), honouring the server's
    /// required wait whole (never shortened to `max_delay`).
    pub fn delay(&self, attempt: u32, server_wait: Option<Duration>) -> Duration {
        let exp = attempt.saturating_sub(1).min(16);
        let backoff = self.initial_delay.saturating_mul(1u32 << exp);
        server_wait.unwrap_or(backoff.min(self.max_delay))
    }

    /// What to do after failed attempt `attempt` (1-based) when `waited` was slept already.
    pub fn next_wait(
        &self,
        attempt: u32,
        server_wait: Option<Duration>,
        waited: Duration,
    ) -> NextWait {
        let wait = self.delay(attempt, server_wait);
        if attempt >= self.attempts() {
            NextWait::NoAttemptsLeft
        } else if waited.saturating_add(wait) > self.max_total_wait {
            NextWait::OverBudget(wait)
        } else {
            NextWait::Sleep(wait)
        }
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
    /// Set when retrying stopped because the wait this answer required (shown here) did
    /// not fit in the policy's remaining [`RetryPolicy::max_total_wait`].
    pub wait_refused: Option<Duration>,
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
    let mut attempt = 0;
    let mut waited = Duration::ZERO;
    loop {
        attempt += 1;
        let failure = match build().send().await {
            Ok(resp) => {
                let status = resp.status();
                let headers = resp.headers().clone();
                match resp.text().await {
                    Ok(body) => {
                        let mut answer = Answer {
                            status,
                            headers,
                            body,
                            attempts: attempt,
                            wait_refused: None,
                        };
                        let Verdict::Retry(server_wait) = judge(&answer) else {
                            return Ok(answer);
                        };
                        match policy.next_wait(attempt, server_wait, waited) {
                            NextWait::Sleep(wait) => {
                                tracing::warn!(
                                    "{what}: HTTP {}; retrying in {wait:?}",
                                    status.as_u16()
                                );
                                tokio::time::sleep(wait).await;
                                waited += wait;
                                continue;
                            }
                            NextWait::OverBudget(wait) => answer.wait_refused = Some(wait),
                            NextWait::NoAttemptsLeft => {}
                        }
                        return Ok(answer);
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
        if retryable && let NextWait::Sleep(wait) = policy.next_wait(attempt, None, waited) {
            tracing::warn!("{what}: {message}; retrying in {wait:?}");
            tokio::time::sleep(wait).await;
            waited += wait;
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
    fn backoff_doubles_and_is_capped_but_a_server_wait_is_never_shortened() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay(1, None), Duration::from_secs(1));
        assert_eq!(p.delay(2, None), Duration::from_secs(2));
        assert_eq!(p.delay(3, None), Duration::from_secs(4));
        assert_eq!(p.delay(30, None), Duration::from_secs(20));
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(3600))),
            Duration::from_secs(3600)
        );
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(7))),
            Duration::from_secs(7)
        );
    }

    #[test]
    fn a_wait_that_does_not_fit_the_budget_is_refused_not_shortened() {
        let p = RetryPolicy::default();
        let secs = Duration::from_secs;
        assert_eq!(
            p.next_wait(1, Some(secs(60)), Duration::ZERO),
            NextWait::Sleep(secs(60))
        );
        // 60 s slept already: another 60 s fits the 120 s budget, 61 s does not.
        assert_eq!(
            p.next_wait(2, Some(secs(60)), secs(60)),
            NextWait::Sleep(secs(60))
        );
        assert_eq!(
            p.next_wait(2, Some(secs(61)), secs(60)),
            NextWait::OverBudget(secs(61))
        );
        assert_eq!(
            p.next_wait(1, Some(secs(3600)), Duration::ZERO),
            NextWait::OverBudget(secs(3600))
        );
        assert_eq!(
            p.next_wait(4, Some(secs(1)), Duration::ZERO),
            NextWait::NoAttemptsLeft
        );
        assert_eq!(
            RetryPolicy::none().next_wait(1, None, Duration::ZERO),
            NextWait::NoAttemptsLeft
        );
    }
}
