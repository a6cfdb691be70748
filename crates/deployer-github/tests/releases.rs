mod common;

use common::{json, mount};
use deployer_github::{Client, GithubError, NewRelease, RetryPolicy, TagRefOutcome};
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn release_json(tag: &str, pre: bool) -> serde_json::Value {
    serde_json::json!({"id": 7, "tag_name": tag, "html_url": format!("https://github.com/o/r/releases/tag/{tag}"), "draft": false, "prerelease": pre})
}

fn new_release(tag: &str, pre: bool) -> NewRelease {
    NewRelease {
        tag: tag.into(),
        target_sha: "abc".into(),
        name: tag.into(),
        body: "## notes".into(),
        prerelease: pre,
    }
}

#[tokio::test]
async fn creates_a_missing_release_with_prerelease_flag() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/repos/o/r/releases/tags/v1.3.0-rc.1"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(serde_json::json!({"message": "Not Found"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/o/r/releases"))
        .and(header("authorization", "Bearer test-token-123"))
        .and(header("x-github-api-version", "2022-11-28"))
        .and(body_partial_json(serde_json::json!({
            "tag_name": "v1.3.0-rc.1", "target_commitish": "abc", "draft": false, "prerelease": true, "make_latest": "false", "body": "## notes"
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(release_json("v1.3.0-rc.1", true)))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::new(&server.uri(), Some("test-token-123".into()), "o/r").expect("client");
    let (release, created) = client
        .ensure_release(&new_release("v1.3.0-rc.1", true))
        .await
        .expect("release");
    assert!(created);
    assert!(release.prerelease);
    assert_eq!(
        release.html_url,
        "https://github.com/o/r/releases/tag/v1.3.0-rc.1"
    );
}

#[tokio::test]
async fn existing_release_is_reused() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/repos/o/r/releases/tags/v1.0.0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(release_json("v1.0.0", false)))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let client = Client::new(&server.uri(), Some("tok-abcdef".into()), "o/r").expect("client");
    let (_, created) = client
        .ensure_release(&new_release("v1.0.0", false))
        .await
        .expect("release");
    assert!(!created);
}

#[tokio::test]
async fn tag_refs_are_idempotent_and_never_moved() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/repos/o/r/git/ref/tags/v1.0.0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            serde_json::json!({"ref":"refs/tags/v1.0.0","object":{"sha":"abc","type":"commit"}}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/o/r/git/ref/tags/v2.0.0"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(serde_json::json!({"message":"Not Found"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/o/r/git/refs"))
        .and(body_partial_json(
            serde_json::json!({"ref":"refs/tags/v2.0.0","sha":"def"}),
        ))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(serde_json::json!({"ref":"refs/tags/v2.0.0"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::new(&server.uri(), Some("tok-abcdef".into()), "o/r").expect("client");
    assert_eq!(
        client.create_tag_ref("v1.0.0", "abc").await.expect("ok"),
        TagRefOutcome::AlreadyExists
    );
    assert!(matches!(
        client.create_tag_ref("v1.0.0", "zzz").await,
        Err(GithubError::TagConflict { .. })
    ));
    assert_eq!(
        client.create_tag_ref("v2.0.0", "def").await.expect("ok"),
        TagRefOutcome::Created
    );
}

#[tokio::test]
async fn errors_carry_github_message_and_hint_and_never_the_token() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(403).set_body_json(
            serde_json::json!({"message": "Resource not accessible by integration"}),
        ))
        .mount(&server)
        .await;
    let client =
        Client::new(&server.uri(), Some("secret-token-xyz".into()), "o/r").expect("client");
    let err = client.get_release_by_tag("v1").await.expect_err("403");
    let text = err.to_string();
    assert!(
        text.contains("HTTP 403")
            && text.contains("Resource not accessible")
            && text.contains("contents: write"),
        "{text}"
    );
    assert!(!text.contains("secret-token-xyz"));
    assert!(matches!(
        Client::new("http://x", None, "nope"),
        Err(GithubError::BadRepository(_))
    ));
    let anon = Client::new(&server.uri(), None, "o/r").expect("client");
    assert!(matches!(
        anon.create_release(&new_release("v1", false)).await,
        Err(GithubError::NoToken { .. })
    ));
}

#[tokio::test]
async fn tags_with_slashes_are_encoded() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/repos/o/r/releases/tags/api%2Fv1.0.0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(release_json("api/v1.0.0", false)))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::new(&server.uri(), None, "o/r").expect("client");
    assert!(
        client
            .get_release_by_tag("api/v1.0.0")
            .await
            .expect("ok")
            .is_some()
    );
}

#[tokio::test]
async fn annotated_tag_refs_are_peeled() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/repos/o/r/git/ref/tags/v3.0.0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            serde_json::json!({"ref":"refs/tags/v3.0.0","object":{"sha":"tagobj","type":"tag"}}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/o/r/git/tags/tagobj"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            serde_json::json!({"sha":"tagobj","object":{"sha":"commit1","type":"commit"}}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let client = Client::new(&server.uri(), Some("tok-abcdef".into()), "o/r").expect("client");
    assert_eq!(
        client.get_tag_ref("v3.0.0").await.expect("ok").as_deref(),
        Some("commit1")
    );
    assert_eq!(
        client
            .create_tag_ref("v3.0.0", "commit1")
            .await
            .expect("ok"),
        TagRefOutcome::AlreadyExists
    );
}

#[tokio::test]
async fn release_calls_are_retried_and_404_names_the_repository() {
    let server = MockServer::start().await;
    let by_tag = "/repos/o/r/releases/tags/v1.0.0";
    mount(
        &server,
        "GET",
        by_tag,
        ResponseTemplate::new(500),
        Some(1),
        Some(1),
    )
    .await;
    let found = json(200, release_json("v1.0.0", false));
    mount(&server, "GET", by_tag, found, Some(1), None).await;
    let not_found = json(404, serde_json::json!({"message": "Not Found"}));
    mount(
        &server,
        "POST",
        "/repos/o/r/releases",
        not_found,
        Some(1),
        None,
    )
    .await;
    let client = Client::new(&server.uri(), Some("tok-abcdef".into()), "o/r")
        .expect("client")
        .with_retry(RetryPolicy::fast(3));
    let (_, created) = client
        .ensure_release(&new_release("v1.0.0", false))
        .await
        .expect("retried");
    assert!(!created);
    let err = client
        .create_release(&new_release("v2.0.0", false))
        .await
        .expect_err("404");
    assert!(err.to_string().contains("`o/r`"), "{err}");
}

#[tokio::test]
async fn a_tag_made_by_a_retried_post_is_not_an_error() {
    let server = MockServer::start().await;
    let tag = "/repos/o/r/git/ref/tags/v4.0.0";
    let missing = json(404, serde_json::json!({"message": "Not Found"}));
    mount(&server, "GET", tag, missing, None, Some(1)).await;
    let at_abc =
        serde_json::json!({"ref": "refs/tags/v4.0.0", "object": {"sha": "abc", "type": "commit"}});
    mount(&server, "GET", tag, json(200, at_abc), None, None).await;
    let exists = json(
        422,
        serde_json::json!({"message": "Reference already exists"}),
    );
    mount(
        &server,
        "POST",
        "/repos/o/r/git/refs",
        exists,
        Some(1),
        None,
    )
    .await;
    let client = Client::new(&server.uri(), Some("tok-abcdef".into()), "o/r").expect("client");
    let outcome = client.create_tag_ref("v4.0.0", "abc").await;
    assert!(
        matches!(outcome, Ok(TagRefOutcome::AlreadyExists)),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn an_answer_that_is_not_the_rest_api_is_bad_input() {
    // e.g. GITHUB_API_URL pointing at the web UI or a proxy's login page: HTTP 200, HTML.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/repos/o/r/releases/tags/v1.0.0"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>sign in</html>"))
        .mount(&server)
        .await;
    let client = Client::new(&server.uri(), Some("t".into()), "o/r").expect("client");
    let err = client
        .ensure_release(&new_release("v1.0.0", false))
        .await
        .expect_err("HTML is not a release");
    assert!(matches!(err, GithubError::Decode { .. }), "{err:?}");
    assert_eq!(
        deployer_core::Classify::kind(&err),
        deployer_core::ErrorKind::BadInput
    );
    assert!(err.to_string().contains("GITHUB_API_URL"), "{err}");
}

#[tokio::test]
async fn a_release_created_by_a_concurrent_run_is_reused_not_duplicated() {
    // Two runs release the same tag: this one sees no release, the other creates it first,
    // GitHub answers this one's POST with 422 already_exists; the release is then reused.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/repos/o/r/releases/tags/v2.0.0"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(serde_json::json!({"message": "Not Found"})),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/o/r/releases"))
        .respond_with(ResponseTemplate::new(422).set_body_json(serde_json::json!({
            "message": "Validation Failed",
            "errors": [{"resource": "Release", "code": "already_exists", "field": "tag_name"}]
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/o/r/releases/tags/v2.0.0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(release_json("v2.0.0", false)))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::new(&server.uri(), Some("t".into()), "o/r").expect("client");
    let (release, created) = client
        .ensure_release(&new_release("v2.0.0", false))
        .await
        .expect("the concurrent run's release is reused");
    assert!(!created, "this run did not create it");
    assert_eq!(release.tag_name, "v2.0.0");
}
