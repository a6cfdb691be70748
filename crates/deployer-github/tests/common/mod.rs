#![allow(dead_code)]

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Answers `verb path` with `response`, expecting exactly `times` calls when given
/// (checked when the server drops); `up_to` limits how many calls it answers.
pub async fn mount(
    server: &MockServer,
    verb: &str,
    route: &str,
    response: ResponseTemplate,
    times: Option<u64>,
    up_to: Option<u64>,
) {
    let mut mock = Mock::given(method(verb))
        .and(path(route))
        .respond_with(response);
    if let Some(n) = up_to {
        mock = mock.up_to_n_times(n);
    }
    if let Some(n) = times {
        mock = mock.expect(n);
    }
    mock.mount(server).await;
}

/// A JSON answer.
pub fn json(status: u16, body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}
