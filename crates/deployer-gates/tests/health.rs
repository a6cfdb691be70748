//! The HTTP health gate against local servers.

use std::sync::Mutex;
use std::time::Duration;

use deployer_gates::http::{self, HealthOptions};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn fast(deadline_ms: u64) -> HealthOptions {
    HealthOptions {
        deadline: Duration::from_millis(deadline_ms),
        request_timeout: Duration::from_millis(300),
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(80),
        progress_every: Duration::from_millis(0),
    }
}

#[tokio::test]
async fn healthy_endpoint_passes_on_the_first_attempt() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/health"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let urls = vec![format!("{}/health", server.uri())];
    let results = http::check_health(&urls, Duration::from_secs(5)).await;
    assert!(results[0].healthy, "{results:?}");
    assert_eq!((results[0].status, results[0].attempts), (Some(200), 1));
    let gate = http::health_gate(&results, Duration::from_secs(5));
    assert!(gate.passed);
    assert_eq!(gate.measured, "1/1 endpoints 2xx");
}

#[tokio::test]
async fn endpoint_recovering_from_503_passes_within_the_retries() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/ready"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/ready"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let urls = vec![format!("{}/ready", server.uri())];
    let lines = Mutex::new(Vec::new());
    let progress = |line: &str| lines.lock().expect("lock").push(line.to_string());
    let results = http::check_health_with(&urls, &fast(3000), &progress).await;
    assert!(results[0].healthy, "{results:?}");
    assert_eq!((results[0].status, results[0].attempts), (Some(204), 3));
    let lines = lines.into_inner().expect("lock");
    assert!(
        lines.iter().any(|l| l.contains("answered HTTP 503")),
        "{lines:?}"
    );
}

#[tokio::test]
async fn endpoint_that_keeps_failing_fails_with_the_last_status() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/live"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/health"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let urls = vec![
        format!("{}/health", server.uri()),
        format!("{}/live", server.uri()),
    ];
    let results = http::check_health_with(&urls, &fast(400), &|_: &str| {}).await;
    assert!(results[0].healthy);
    assert!(!results[1].healthy);
    assert!(results[1].attempts > 1, "retried: {results:?}");
    let gate = http::health_gate(&results, Duration::from_millis(400));
    assert!(!gate.passed);
    assert_eq!(gate.measured, "1/2 endpoints 2xx");
    assert!(
        gate.detail
            .contains("/live: answered HTTP 500 Internal Server Error"),
        "{}",
        gate.detail
    );
}

#[tokio::test]
async fn slow_endpoint_times_out_within_the_deadline() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let urls = vec![format!("{}/health", server.uri())];
    let started = std::time::Instant::now();
    let results = http::check_health_with(&urls, &fast(700), &|_: &str| {}).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the deadline bounds the check"
    );
    assert!(!results[0].healthy);
    assert!(
        results[0]
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("no answer within"),
        "{results:?}"
    );
}

#[tokio::test]
async fn refused_connection_is_reported() {
    // Bind then drop a listener to get a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let urls = vec![format!("http://127.0.0.1:{port}/health")];
    let results = http::check_health_with(&urls, &fast(200), &|_: &str| {}).await;
    assert!(!results[0].healthy);
    assert_eq!(results[0].status, None);
}

#[test]
fn urls_are_validated() {
    assert!(http::validate_urls(&["https://example.com/health".into()]).is_ok());
    assert!(http::validate_urls(&[]).is_err());
    let msg = http::validate_urls(&["ftp://x/health".into()])
        .expect_err("scheme")
        .to_string();
    assert!(msg.contains("use http or https"), "{msg}");
    assert!(http::validate_urls(&["/health".into()]).is_err());
}
