//! ECS service and CloudFormation stack gates against a fake probe.

use deployer_gates::environment::{
    DeploymentState, EcsExpectation, EcsServiceState, EnvironmentProbe, ProbeError, ProbeFuture,
    StackState, ecs_service_gate, stacks_gate,
};

struct FakeProbe {
    service: Result<EcsServiceState, ProbeError>,
    stacks: Vec<StackState>,
}

impl EnvironmentProbe for FakeProbe {
    fn ecs_service<'a>(
        &'a self,
        _cluster: &'a str,
        _service: &'a str,
    ) -> ProbeFuture<'a, EcsServiceState> {
        let answer = self.service.clone();
        Box::pin(async move { answer })
    }

    fn stacks<'a>(
        &'a self,
        names: &'a [String],
        prefix: Option<&'a str>,
    ) -> ProbeFuture<'a, Vec<StackState>> {
        let found = self
            .stacks
            .iter()
            .filter(|s| names.contains(&s.name) || prefix.is_some_and(|p| s.name.starts_with(p)))
            .cloned()
            .collect();
        Box::pin(async move { Ok(found) })
    }
}

fn service(image: &str, status: &str) -> EcsServiceState {
    EcsServiceState {
        task_definition: "arn:aws:ecs:us-east-1:1:task-definition/api:7".into(),
        containers: vec![
            ("api".into(), image.into()),
            ("envoy".into(), "envoy:v1.30".into()),
        ],
        last_deployment: Some(DeploymentState {
            id: "ecs-svc/123".into(),
            status: status.into(),
            succeeded: status == "SUCCESSFUL",
            task_definition: "arn:aws:ecs:us-east-1:1:task-definition/api:7".into(),
        }),
    }
}

fn expect() -> EcsExpectation {
    EcsExpectation {
        cluster: "staging".into(),
        service: "api".into(),
        image: "repo/api:v1.4.0".into(),
        container: Some("api".into()),
    }
}

async fn ecs_gate(probe: &dyn EnvironmentProbe) -> deployer_gates::GateResult {
    let e = expect();
    let state = probe.ecs_service(&e.cluster, &e.service).await;
    ecs_service_gate(&e, state.as_ref())
}

#[tokio::test]
async fn ecs_service_on_the_expected_image_with_successful_deployment_passes() {
    let probe = FakeProbe {
        service: Ok(service("repo/api:v1.4.0", "SUCCESSFUL")),
        stacks: vec![],
    };
    let gate = ecs_gate(&probe).await;
    assert!(gate.passed, "{gate:?}");
    assert_eq!(
        gate.measured,
        "image repo/api:v1.4.0, last deployment SUCCESSFUL"
    );
}

#[tokio::test]
async fn ecs_service_fails_on_wrong_image_unfinished_deployment_or_probe_error() {
    let wrong = ecs_gate(&FakeProbe {
        service: Ok(service("repo/api:v1.3.9", "SUCCESSFUL")),
        stacks: vec![],
    })
    .await;
    assert!(!wrong.passed);
    assert!(
        wrong
            .detail
            .contains("staging/api runs repo/api:v1.3.9, not repo/api:v1.4.0"),
        "{}",
        wrong.detail
    );

    let rolling = ecs_gate(&FakeProbe {
        service: Ok(service("repo/api:v1.4.0", "ROLLBACK_SUCCESSFUL")),
        stacks: vec![],
    })
    .await;
    assert!(!rolling.passed);
    assert!(
        rolling
            .detail
            .contains("last deployment ecs-svc/123 is ROLLBACK_SUCCESSFUL")
    );

    let mut none = service("repo/api:v1.4.0", "SUCCESSFUL");
    none.last_deployment = None;
    assert!(
        !ecs_gate(&FakeProbe {
            service: Ok(none),
            stacks: vec![]
        })
        .await
        .passed
    );

    let denied = ecs_gate(&FakeProbe {
        service: Err(ProbeError::Failed("AccessDenied: not authorized".into())),
        stacks: vec![],
    })
    .await;
    assert!(!denied.passed);
    assert!(
        denied
            .detail
            .contains("cannot read service api in cluster staging: AccessDenied"),
        "{}",
        denied.detail
    );
}

#[tokio::test]
async fn stacks_pass_when_complete_and_fail_on_rollback_or_missing() {
    let probe = FakeProbe {
        service: Err(ProbeError::Failed("unused".into())),
        stacks: vec![
            StackState {
                name: "shop-dev-network".into(),
                status: "CREATE_COMPLETE".into(),
            },
            StackState {
                name: "shop-dev-app".into(),
                status: "UPDATE_COMPLETE".into(),
            },
            StackState {
                name: "shop-prod-app".into(),
                status: "UPDATE_ROLLBACK_COMPLETE".into(),
            },
        ],
    };
    let names: Vec<String> = vec![];
    let found = probe.stacks(&names, Some("shop-dev-")).await.expect("fake");
    let gate = stacks_gate(&names, Some("shop-dev-"), Ok(&found));
    assert!(gate.passed, "{gate:?}");
    assert_eq!(gate.measured, "2/2 stacks healthy");

    let names = vec!["shop-prod-app".to_string(), "shop-prod-db".to_string()];
    let found = probe.stacks(&names, None).await.expect("fake");
    let gate = stacks_gate(&names, None, Ok(&found));
    assert!(!gate.passed);
    assert!(
        gate.detail.contains("stack shop-prod-db does not exist"),
        "{}",
        gate.detail
    );
    assert!(
        gate.detail
            .contains("stack shop-prod-app rolled back (UPDATE_ROLLBACK_COMPLETE)"),
        "{}",
        gate.detail
    );

    let none: Vec<String> = vec![];
    let found = probe.stacks(&none, Some("nothing-")).await.expect("fake");
    assert!(!stacks_gate(&none, Some("nothing-"), Ok(&found)).passed);
}
