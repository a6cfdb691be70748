//! OIDC → STS against a wiremock token service and moto's STS.

use aws_credential_types::Credentials;
use aws_credential_types::provider::ProvideCredentials;
use deployer_aws::credentials::{OidcRequest, fetch_oidc_token};
use deployer_aws::{AwsContext, LoadOptions};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const JWT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOm9yZy9hcHA6ZW52aXJvbm1lbnQ6cHJvZCIsImF1ZCI6InN0cy5hbWF6b25hd3MuY29tIn0.c2lnbmF0dXJl";

async fn token_service(fail_first: u64) -> MockServer {
    let server = MockServer::start().await;
    if fail_first > 0 {
        Mock::given(method("GET"))
            .and(path("/token"))
            .respond_with(ResponseTemplate::new(500))
            .up_to_n_times(fail_first)
            .with_priority(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path("/token"))
        .and(query_param("audience", "sts.amazonaws.com"))
        .and(query_param("api-version", "2.0"))
        .and(header("authorization", "bearer request-token-123456"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"count": 1, "value": JWT})),
        )
        .with_priority(2)
        .mount(&server)
        .await;
    server
}

fn oidc(server: &MockServer) -> OidcRequest {
    OidcRequest {
        url: format!("{}/token?api-version=2.0", server.uri()),
        token: "request-token-123456".into(),
    }
}

#[tokio::test]
async fn token_fetch_retries_server_errors_and_masks() {
    let server = token_service(2).await;
    let jwt = fetch_oidc_token(&oidc(&server))
        .await
        .expect("token after retries");
    assert_eq!(jwt, JWT);
    assert_eq!(deployer_core::mask::redact(&format!("t={JWT}")), "t=***");
    assert_eq!(deployer_core::mask::redact("request-token-123456"), "***");
}

#[tokio::test]
async fn token_fetch_refusal_is_explained() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(403))
        .mount(&server)
        .await;
    let err = fetch_oidc_token(&oidc(&server))
        .await
        .expect_err("refused")
        .to_string();
    assert!(err.contains("id-token: write"), "{err}");
}

#[tokio::test]
async fn oidc_assume_role_with_moto_returns_masked_keys_and_chains() {
    let Some(moto) = deployer_testbed::moto_endpoint() else {
        return;
    };
    let server = token_service(1).await;
    let ctx = AwsContext::load(LoadOptions {
        region: Some("us-east-1".into()),
        role_to_assume: Some("arn:aws:iam::123456789012:role/deployer".into()),
        chain_role: Some("arn:aws:iam::210987654321:role/cross-account".into()),
        session_name: Some("org/repo run 42".into()),
        oidc: Some(oidc(&server)),
        endpoint_url: Some(moto.clone()),
        base_credentials: Some(Credentials::new(
            "AKIDBASE",
            "base-secret",
            None,
            None,
            "test",
        )),
        ..Default::default()
    })
    .await
    .expect("assumed");
    let creds = ctx
        .config
        .credentials_provider()
        .expect("provider")
        .provide_credentials()
        .await
        .expect("credentials");
    assert!(!creds.access_key_id().is_empty());
    assert_ne!(creds.access_key_id(), "AKIDBASE");
    let line = format!(
        "{} {} {}",
        creds.access_key_id(),
        creds.secret_access_key(),
        creds.session_token().unwrap_or("")
    );
    let red = deployer_core::mask::redact(&line);
    assert!(!red.contains(creds.access_key_id()), "{red}");
    assert!(!red.contains(creds.secret_access_key()), "{red}");
    assert!(ctx.expiration.is_some());
    assert!(ctx.source.contains("cross-account"), "{}", ctx.source);
    let id = ctx.caller_identity().await.expect("identity");
    assert!(
        id.arn
            .contains("assumed-role/cross-account/org-repo-run-42"),
        "{}",
        id.arn
    );
    assert_eq!(id.account, "210987654321");
}

#[tokio::test]
async fn role_without_oidc_uses_default_chain_then_assume_role() {
    let Some(moto) = deployer_testbed::moto_endpoint() else {
        return;
    };
    let ctx = AwsContext::load(LoadOptions {
        region: Some("us-east-1".into()),
        role_to_assume: Some("arn:aws:iam::123456789012:role/laptop".into()),
        session_name: Some("me".into()),
        // An OIDC request that points nowhere would be used if given; laptop = none.
        oidc: None,
        endpoint_url: Some(moto),
        base_credentials: Some(Credentials::new(
            "AKIDLAPTOP",
            "laptop-secret",
            None,
            None,
            "test",
        )),
        ..Default::default()
    })
    .await;
    // Under Actions the env may carry an OIDC URL; this test is about the laptop path.
    if std::env::var("ACTIONS_ID_TOKEN_REQUEST_URL").is_ok() {
        return;
    }
    let ctx = ctx.expect("assumed");
    let id = ctx.caller_identity().await.expect("identity");
    assert!(id.arn.contains("assumed-role/laptop/me"), "{}", id.arn);
}

#[tokio::test]
async fn no_role_uses_the_given_chain_and_bad_role_is_bad_input() {
    let ctx = AwsContext::load(LoadOptions {
        region: Some("us-east-1".into()),
        base_credentials: Some(Credentials::new(
            "AKIDPLAIN",
            "plain-secret",
            None,
            None,
            "test",
        )),
        ..Default::default()
    })
    .await
    .expect("default chain");
    assert_eq!(ctx.source, "default credential chain");
    assert!(ctx.expiration.is_none());
    let err = AwsContext::load(LoadOptions {
        region: Some("us-east-1".into()),
        role_to_assume: Some("deployer".into()),
        base_credentials: Some(Credentials::new(
            "AKIDPLAIN",
            "plain-secret",
            None,
            None,
            "test",
        )),
        ..Default::default()
    })
    .await
    .expect_err("not an ARN");
    assert_eq!(
        deployer_core::Classify::kind(&err),
        deployer_core::ErrorKind::BadInput
    );
}

const STS_OK: &str = r#"<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <Credentials>
      <AccessKeyId>ASIAFAKESTSRETRY0001</AccessKeyId>
      <SecretAccessKey>fake-secret-after-retry-0123456789</SecretAccessKey>
      <SessionToken>fake-session-token-after-retry-abcdef</SessionToken>
      <Expiration>2099-01-01T00:00:00Z</Expiration>
    </Credentials>
    <SubjectFromWebIdentityToken>repo:org/app</SubjectFromWebIdentityToken>
    <AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/deployer/s</Arn><AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>"#;

const STS_IDP_ERROR: &str = r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>IDPCommunicationError</Code><Message>Couldn't retrieve verification key from your identity provider</Message></Error>
  <RequestId>2</RequestId>
</ErrorResponse>"#;

#[tokio::test]
async fn sts_idp_communication_error_is_retried() {
    let tokens = token_service(0).await;
    let sts = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_string(STS_IDP_ERROR)
                .insert_header("content-type", "text/xml"),
        )
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&sts)
        .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string(STS_OK)
                .insert_header("content-type", "text/xml"),
        )
        .with_priority(2)
        .mount(&sts)
        .await;
    let ctx = AwsContext::load(LoadOptions {
        region: Some("us-east-1".into()),
        role_to_assume: Some("arn:aws:iam::123456789012:role/deployer".into()),
        oidc: Some(oidc(&tokens)),
        endpoint_url: Some(sts.uri()),
        base_credentials: Some(Credentials::new(
            "AKIDBASE",
            "base-secret",
            None,
            None,
            "test",
        )),
        ..Default::default()
    })
    .await
    .expect("assumed after retries");
    let creds = ctx
        .config
        .credentials_provider()
        .expect("p")
        .provide_credentials()
        .await
        .expect("c");
    assert_eq!(creds.access_key_id(), "ASIAFAKESTSRETRY0001");
    assert_eq!(
        deployer_core::mask::redact("fake-secret-after-retry-0123456789"),
        "***"
    );
    assert_eq!(
        deployer_core::mask::redact("fake-session-token-after-retry-abcdef"),
        "***"
    );
    let posts = sts.received_requests().await.unwrap_or_default().len();
    assert!(posts >= 3, "{posts} STS calls");
}
