//! HTTP health gate: GET each URL until it answers 2xx or its deadline passes, retrying
//! with exponential backoff. Shared with ecs-deploy's post-deploy health check.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::GateError;
use crate::gate::GateResult;

/// How patiently to check.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthOptions {
    /// How long each URL may take to become healthy, retries included.
    pub deadline: Duration,
    /// Timeout of one request.
    pub request_timeout: Duration,
    /// First pause between attempts; doubled after each failure up to `max_backoff`.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// Minimum gap between two progress lines for the same URL (≤ 15 s by contract).
    pub progress_every: Duration,
}

impl HealthOptions {
    pub fn with_deadline(deadline: Duration) -> Self {
        HealthOptions {
            deadline,
            ..HealthOptions::default()
        }
    }
}

impl Default for HealthOptions {
    fn default() -> Self {
        HealthOptions {
            deadline: Duration::from_secs(120),
            request_timeout: Duration::from_secs(10),
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(5),
            progress_every: Duration::from_secs(10),
        }
    }
}

/// What happened to one URL.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EndpointHealth {
    pub url: String,
    pub healthy: bool,
    /// HTTP status of the last answer, if any answer came.
    pub status: Option<u16>,
    pub attempts: u32,
    pub elapsed_ms: u64,
    /// Why the last attempt was not healthy.
    pub last_error: Option<String>,
}

/// Checks that every URL is an absolute http(s) URL; the error names the bad one.
pub fn validate_urls(urls: &[String]) -> Result<(), GateError> {
    if urls.is_empty() {
        return Err(GateError::invalid(
            "health urls",
            "no URL given; list at least one endpoint such as https://host/health",
        ));
    }
    for url in urls {
        match reqwest::Url::parse(url) {
            Ok(u) if u.scheme() == "http" || u.scheme() == "https" => {}
            Ok(u) => {
                return Err(GateError::invalid(
                    "health url",
                    format!("{url:?} uses scheme {:?}; use http or https", u.scheme()),
                ));
            }
            Err(e) => {
                return Err(GateError::invalid(
                    "health url",
                    format!("{url:?} is not a URL ({e})"),
                ));
            }
        }
    }
    Ok(())
}

/// Checks all URLs concurrently with default options and a deadline; no progress lines.
pub async fn check_health(urls: &[String], deadline: Duration) -> Vec<EndpointHealth> {
    check_health_with(urls, &HealthOptions::with_deadline(deadline), &|_: &str| {}).await
}

/// Checks all URLs concurrently; `progress` receives a line for slow endpoints at most
/// every `options.progress_every`.
pub async fn check_health_with(
    urls: &[String],
    options: &HealthOptions,
    progress: &(dyn Fn(&str) + Sync),
) -> Vec<EndpointHealth> {
    let client = reqwest::Client::builder()
        .user_agent(concat!("deployer-gate-check/", env!("CARGO_PKG_VERSION")))
        .build();
    let client = match client {
        Ok(c) => c,
        Err(e) => {
            return urls
                .iter()
                .map(|url| EndpointHealth {
                    url: url.clone(),
                    healthy: false,
                    status: None,
                    attempts: 0,
                    elapsed_ms: 0,
                    last_error: Some(format!("cannot create an HTTP client: {}", error_chain(&e))),
                })
                .collect();
        }
    };
    futures_util::future::join_all(
        urls.iter()
            .map(|url| check_one(&client, url, options, progress)),
    )
    .await
}

async fn check_one(
    client: &reqwest::Client,
    url: &str,
    options: &HealthOptions,
    progress: &(dyn Fn(&str) + Sync),
) -> EndpointHealth {
    let start = Instant::now();
    // A deadline too far to represent is as good as none.
    let end = start
        .checked_add(options.deadline)
        .unwrap_or(start + Duration::from_secs(365 * 24 * 3600));
    let mut backoff = options.initial_backoff;
    let mut attempts = 0u32;
    let mut status = None;
    let mut last_error;
    let mut last_progress: Option<Instant> = None;
    loop {
        attempts += 1;
        let remaining = end.saturating_duration_since(Instant::now());
        let timeout = options
            .request_timeout
            .min(remaining)
            .max(Duration::from_millis(100));
        match client.get(url).timeout(timeout).send().await {
            Ok(response) if response.status().is_success() => {
                return EndpointHealth {
                    url: url.to_string(),
                    healthy: true,
                    status: Some(response.status().as_u16()),
                    attempts,
                    elapsed_ms: start.elapsed().as_millis() as u64,
                    last_error: None,
                };
            }
            Ok(response) => {
                status = Some(response.status().as_u16());
                last_error = format!("answered HTTP {}", response.status());
            }
            Err(e) if e.is_timeout() => {
                last_error = format!("no answer within {} s", timeout.as_secs_f64())
            }
            Err(e) => last_error = error_chain(&e),
        }
        let now = Instant::now();
        if now + backoff >= end {
            break;
        }
        if last_progress.is_none_or(|t| now.duration_since(t) >= options.progress_every) {
            progress(&format!(
                "{url}: not healthy yet ({last_error}); attempt {attempts}, {} s left",
                end.saturating_duration_since(now).as_secs()
            ));
            last_progress = Some(now);
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(options.max_backoff);
    }
    EndpointHealth {
        url: url.to_string(),
        healthy: false,
        status,
        attempts,
        elapsed_ms: start.elapsed().as_millis() as u64,
        last_error: Some(last_error),
    }
}

/// "error sending request: connection refused" rather than only the outermost message.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// The health gate's verdict over all endpoints.
pub fn health_gate(results: &[EndpointHealth], deadline: Duration) -> GateResult {
    let healthy = results.iter().filter(|r| r.healthy).count();
    let measured = format!("{healthy}/{} endpoints 2xx", results.len());
    let threshold = format!("all 2xx within {} s", deadline.as_secs());
    let failing: Vec<String> = results
        .iter()
        .filter(|r| !r.healthy)
        .map(|r| {
            format!(
                "{}: {} after {} attempt(s)",
                r.url,
                r.last_error.as_deref().unwrap_or("not healthy"),
                r.attempts
            )
        })
        .collect();
    let passed = !results.is_empty() && failing.is_empty();
    let detail = if results.is_empty() {
        "no endpoints were checked".to_string()
    } else {
        failing.join("; ")
    };
    GateResult::new("health", passed, measured, threshold, detail)
}
