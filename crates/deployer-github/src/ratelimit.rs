//! GitHub's rate limits, read once from an answer, and the wait GitHub requires before the
//! next attempt: pure functions (the clock is a parameter) so every rule is tested without
//! sleeping.
//!
//! The rules, from GitHub's REST API docs ("Exceeding the rate limit",
//! <https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit>):
//!
//! * Primary limit: a 403 or 429 with `x-ratelimit-remaining: 0`; do not retry until after
//!   the time in `x-ratelimit-reset` (UTC epoch seconds).
//! * Secondary limit: a 403 or 429 with an error message saying so. If `retry-after` is
//!   present, do not retry until that many seconds have elapsed; if
//!   `x-ratelimit-remaining` is 0, until `x-ratelimit-reset`; otherwise wait at least one
//!   minute; if it keeps failing, wait exponentially longer between retries and give up
//!   after a number of retries.
//!
//! GitHub marks a secondary limit only by its message ("You have exceeded a secondary rate
//! limit…"), so that text is read here, at the seam, and nowhere else.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::retry::retry_after;

/// The minimum wait after a secondary limit without `retry-after` ("at least one minute").
pub const SECONDARY_MIN_WAIT: Duration = Duration::from_secs(60);

/// Which rate limit an answer hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// The token's hourly request quota is used up (`x-ratelimit-remaining: 0`).
    Primary,
    /// Too many requests at once or per minute (a secondary limit, or HTTP 429).
    Secondary,
}

/// A rate-limited answer as GitHub described it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimited {
    pub limit: Limit,
    /// `retry-after`, when sent.
    pub retry_after: Option<Duration>,
    /// `x-ratelimit-reset` (UTC epoch seconds), when sent.
    pub reset_at: Option<u64>,
}

/// `Some` when `status`, `headers` and `body` say a rate limit was hit.
pub fn classify(status: StatusCode, headers: &HeaderMap, body: &str) -> Option<RateLimited> {
    if !matches!(
        status,
        StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS
    ) {
        return None;
    }
    let retry_after = retry_after(headers);
    let reset_at = header_u64(headers, "x-ratelimit-reset");
    let exhausted = header_u64(headers, "x-ratelimit-remaining") == Some(0);
    let limit = if exhausted {
        Limit::Primary
    } else if status == StatusCode::TOO_MANY_REQUESTS
        || retry_after.is_some()
        || body.to_ascii_lowercase().contains("rate limit")
    {
        Limit::Secondary
    } else {
        // A plain 403: a missing permission, not a limit.
        return None;
    };
    Some(RateLimited {
        limit,
        retry_after,
        reset_at,
    })
}

impl RateLimited {
    /// The wait GitHub requires before the next attempt, at `now` (UTC epoch seconds),
    /// after `consecutive` rate-limited answers in a row (1 for the first). Every rule
    /// that applies is a lower bound, so the longest one wins; a reset is waited until
    /// one second after it ("until after").
    pub fn required_wait(&self, now: u64, consecutive: u32) -> Duration {
        let until_reset = self
            .reset_at
            .map(|reset| Duration::from_secs(reset.saturating_sub(now).saturating_add(1)));
        let exhausted = self.limit == Limit::Primary;
        let minute = match (exhausted, self.retry_after, until_reset) {
            // Primary with a reset, or a secondary with retry-after: no minimum of its own.
            (true, _, Some(_)) | (false, Some(_), _) => Duration::ZERO,
            // Otherwise at least a minute, doubling while the limit persists.
            _ => {
                let exp = consecutive.saturating_sub(1).min(6);
                SECONDARY_MIN_WAIT.saturating_mul(1u32 << exp)
            }
        };
        let reset = if exhausted { until_reset } else { None };
        [Some(minute), self.retry_after, reset]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(SECONDARY_MIN_WAIT)
    }
}

/// Seconds since the epoch on this machine's clock.
pub fn now_epoch() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// `2026-12-04 04:00:00 UTC` for epoch seconds (the epoch itself when out of range).
pub fn utc(epoch: u64) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    i64::try_from(epoch)
        .ok()
        .and_then(|e| time::OffsetDateTime::from_unix_timestamp(e).ok())
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| format!("epoch {epoch}"))
}

/// `45 s`, `2 min 5 s`, `1 h 0 min`: how long a wait is, for people.
pub fn human(wait: Duration) -> String {
    let s = wait.as_secs();
    match s {
        0..60 => format!("{s} s"),
        60..3600 if s.is_multiple_of(60) => format!("{} min", s / 60),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().expect("header value"));
        }
        h
    }

    const SECONDARY: &str = r#"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}"#;

    #[test]
    fn primary_limit_waits_until_after_the_reset() {
        let reset = (NOW + 3540).to_string();
        let h = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", &reset),
        ]);
        let r = classify(
            StatusCode::FORBIDDEN,
            &h,
            r#"{"message":"API rate limit exceeded"}"#,
        )
        .expect("limited");
        assert_eq!(r.limit, Limit::Primary);
        assert_eq!(r.required_wait(NOW, 1), Duration::from_secs(3541));
        // Same on 429, and a reset already past still waits a second.
        let r = classify(StatusCode::TOO_MANY_REQUESTS, &h, "").expect("limited");
        assert_eq!(r.required_wait(NOW + 5000, 1), Duration::from_secs(1));
    }

    #[test]
    fn secondary_limit_honours_retry_after_whole() {
        let h = headers(&[("retry-after", "90")]);
        let r = classify(StatusCode::FORBIDDEN, &h, SECONDARY).expect("limited");
        assert_eq!(r.limit, Limit::Secondary);
        assert_eq!(r.required_wait(NOW, 1), Duration::from_secs(90));
        let h = headers(&[("retry-after", "1")]);
        let r = classify(StatusCode::TOO_MANY_REQUESTS, &h, "").expect("limited");
        assert_eq!(r.required_wait(NOW, 3), Duration::from_secs(1));
    }

    #[test]
    fn secondary_limit_without_headers_waits_a_minute_then_exponentially_longer() {
        let r = classify(StatusCode::FORBIDDEN, &HeaderMap::new(), SECONDARY).expect("limited");
        assert_eq!(r.limit, Limit::Secondary);
        assert_eq!(r.required_wait(NOW, 1), Duration::from_secs(60));
        assert_eq!(r.required_wait(NOW, 2), Duration::from_secs(120));
        assert_eq!(r.required_wait(NOW, 3), Duration::from_secs(240));
        // A 429 without headers is a secondary limit too.
        let r = classify(StatusCode::TOO_MANY_REQUESTS, &HeaderMap::new(), "").expect("429");
        assert_eq!(r.required_wait(NOW, 1), Duration::from_secs(60));
    }

    #[test]
    fn both_headers_the_longer_wait_wins() {
        let reset = (NOW + 30).to_string();
        let h = headers(&[
            ("retry-after", "10"),
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", &reset),
        ]);
        let r = classify(StatusCode::FORBIDDEN, &h, SECONDARY).expect("limited");
        assert_eq!(r.required_wait(NOW, 1), Duration::from_secs(31));
    }

    #[test]
    fn a_plain_403_or_other_status_is_no_limit() {
        let body = r#"{"message":"Resource not accessible by integration"}"#;
        assert_eq!(
            classify(StatusCode::FORBIDDEN, &HeaderMap::new(), body),
            None
        );
        let h = headers(&[("x-ratelimit-remaining", "0")]);
        assert_eq!(
            classify(StatusCode::INTERNAL_SERVER_ERROR, &h, SECONDARY),
            None
        );
        let h = headers(&[("x-ratelimit-remaining", "12")]);
        assert_eq!(classify(StatusCode::FORBIDDEN, &h, body), None);
    }

    #[test]
    fn times_read_for_people() {
        assert_eq!(utc(1_800_000_000), "2027-01-15 08:00:00 UTC");
        assert_eq!(human(Duration::from_secs(45)), "45 s");
        assert_eq!(human(Duration::from_secs(120)), "2 min");
        assert_eq!(human(Duration::from_secs(125)), "2 min 5 s");
        assert_eq!(human(Duration::from_secs(3541)), "59 min 1 s");
        assert_eq!(human(Duration::from_secs(7260)), "2 h 1 min");
    }
}
