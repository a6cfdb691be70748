//! aws-config itself honours AWS_ENDPOINT_URL_<SERVICE>: this file is its own test
//! process, so setting the variables here races with nothing.

use deployer_aws::{AwsContext, LoadOptions};
use wiremock::matchers::{header, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn service_specific_endpoint_variables_are_honoured() {
    let ecs = MockServer::start().await;
    Mock::given(method("POST"))
        .and(header(
            "x-amz-target",
            "AmazonEC2ContainerServiceV20141113.DescribeServices",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            serde_json::json!({"services": [], "failures": [{"arn": "x", "reason": "MISSING"}]}),
        ))
        .expect(1..)
        .mount(&ecs)
        .await;
    // SAFETY: the only test in this process; nothing reads the environment concurrently.
    unsafe {
        std::env::set_var("AWS_ENDPOINT_URL_ECS", ecs.uri());
        std::env::set_var("AWS_ACCESS_KEY_ID", "AKIDENV");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "env-secret");
        std::env::remove_var("AWS_ENDPOINT_URL");
        std::env::remove_var("AWS_PROFILE");
    }
    let ctx = AwsContext::load(LoadOptions {
        region: Some("us-east-1".into()),
        ..Default::default()
    })
    .await
    .expect("context");
    let e = deployer_aws::ecs::Ecs::new(&ctx.config);
    let err = e.describe_service("c", "s").await.expect_err("missing");
    assert!(err.to_string().contains("was not found"), "{err}");
    ecs.verify().await;
}
