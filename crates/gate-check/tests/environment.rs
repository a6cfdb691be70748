//! gate-check's environment-health gates end to end: ecs-service against ecs-sim (exit 0 on
//! the expected image, 1 otherwise), stacks against moto; AWS credentials are loaded only
//! for environments with such a gate.

use std::collections::BTreeMap;
use std::path::Path;

use assert_cmd::Command;
use deployer_core::runtime::parse_output_file;
use ecs_sim::{Scenario, SimConfig, SimHandle};

const CONFIG: &str = r#"services:
  api:
    paths: ["api/**"]
environments:
  production:
    region: us-east-1
    gates:
      - ecs-service: { cluster: shop, service: "api-{env}", image: "repo/api:v1" }
  staging:
    region: us-east-1
    gates:
      - ecs-service: { cluster: shop, service: api-production, image: "repo/api:v2" }
  by-tag:
    region: us-east-1
    gates:
      - name: api-image
        ecs-service: { cluster: shop, service: api-production }
  no-region:
    gates:
      - ecs-service: { cluster: shop, service: api-production, image: "repo/api:v1" }
  plain:
    gates:
      - confirmation: { expect: DEPLOY }
  bad-gate:
    gates:
      - ecs-service: { cluster: shop, service: api-production }
  missing-cluster:
    region: us-east-1
    gates:
      - ecs-service: { cluster: no-such-cluster, service: api-production, image: "repo/api:v1" }
"#;

struct Run {
    code: i32,
    outputs: BTreeMap<String, String>,
    stdout: String,
}

fn sim_with_service() -> SimHandle {
    let sim = ecs_sim::spawn(SimConfig {
        scenario: Scenario::default(),
        time_scale: 60.0,
        seed: 5,
    })
    .expect("sim");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let ctx = deployer_aws::testing::context(&sim.endpoint()).await;
        let ecs = deployer_aws::ecs::Ecs::new(&ctx.config);
        deployer_aws::testing::create_service(
            &ecs,
            "shop",
            "api-production",
            "repo/api:v1",
            1,
            false,
            200,
        )
        .await;
    });
    sim
}

fn gate_check(dir: &Path, endpoint: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let output = dir.join("output");
    let _ = std::fs::remove_file(&output);
    let mut cmd = Command::cargo_bin("gate-check").expect("binary");
    cmd.env_clear()
        .current_dir(dir)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", dir.join("summary"))
        .env("AWS_ENDPOINT_URL_ECS", endpoint)
        .env("AWS_ENDPOINT_URL_CLOUDFORMATION", endpoint)
        .env("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9") // no STS: the identity line is skipped
        .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        outputs: parse_output_file(&std::fs::read_to_string(&output).unwrap_or_default())
            .expect("valid GITHUB_OUTPUT"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
    }
}

#[test]
fn ecs_service_gate_passes_on_the_expected_image_and_fails_otherwise() {
    let sim = sim_with_service();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join(".github")).expect("mkdir");
    std::fs::write(dir.path().join(".github/deployer.yml"), CONFIG).expect("write");
    let endpoint = sim.endpoint();

    let ok = gate_check(dir.path(), &endpoint, &["--environment", "production"], &[]);
    assert_eq!(ok.code, 0, "{}", ok.stdout);
    assert_eq!(ok.outputs.get("passed").map(String::as_str), Some("true"));
    assert!(
        ok.stdout
            .contains("image repo/api:v1, last deployment SUCCESSFUL"),
        "{}",
        ok.stdout
    );
    assert!(sim.call_count("DescribeServices") > 0);
    assert!(sim.call_count("DescribeTaskDefinition") > 0);
    assert!(sim.call_count("ListServiceDeployments") > 0);

    let wrong = gate_check(dir.path(), &endpoint, &["--environment", "staging"], &[]);
    assert_eq!(wrong.code, 1, "{}", wrong.stdout);
    assert_eq!(
        wrong.outputs.get("failed-gates").map(String::as_str),
        Some(r#"["ecs-service"]"#)
    );
    assert!(
        wrong
            .stdout
            .contains("shop/api-production runs repo/api:v1, not repo/api:v2"),
        "{}",
        wrong.stdout
    );

    // A bare tag from the flag/env matches the full image.
    let tag = gate_check(
        dir.path(),
        &endpoint,
        &["--environment", "by-tag"],
        &[("DEPLOYER_EXPECTED_IMAGE", "v1")],
    );
    assert_eq!(tag.code, 0, "{}", tag.stdout);
    let tag = gate_check(
        dir.path(),
        &endpoint,
        &["--environment", "by-tag", "--expected-image", "v2"],
        &[],
    );
    assert_eq!(tag.code, 1, "{}", tag.stdout);
    assert_eq!(
        tag.outputs.get("failed-gates").map(String::as_str),
        Some(r#"["api-image"]"#)
    );

    // The region can come from the flag (an empty env value counts as not given).
    let region = gate_check(
        dir.path(),
        &endpoint,
        &["--environment", "no-region", "--region", "us-east-1"],
        &[("DEPLOYER_ROLE_TO_ASSUME", ""), ("DEPLOYER_CHAIN_ROLE", "")],
    );
    assert_eq!(region.code, 0, "{}", region.stdout);
}

#[test]
fn aws_is_needed_only_for_environment_health_gates() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join(".github")).expect("mkdir");
    std::fs::write(dir.path().join(".github/deployer.yml"), CONFIG).expect("write");
    // Nothing listens here: any AWS call would fail.
    let nowhere = "http://127.0.0.1:9";

    // No region anywhere: bad input, before any gate runs.
    let run = gate_check(dir.path(), nowhere, &["--environment", "no-region"], &[]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stdout.contains("no AWS region"), "{}", run.stdout);

    // Bad input in the gates is reported before AWS is set up.
    let run = gate_check(dir.path(), nowhere, &["--environment", "bad-gate"], &[]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stdout.contains("ecs-service has no image"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("AWS region"), "{}", run.stdout);

    // An emergency that bypasses every AWS-reading gate does not need AWS at all.
    let run = gate_check(
        dir.path(),
        nowhere,
        &[
            "--environment",
            "no-region",
            "--emergency",
            "--emergency-reason",
            "AWS console is down",
        ],
        &[("GITHUB_ACTOR", "octocat")],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.outputs
            .get("bypassed-gates")
            .is_some_and(|b| b.contains("ecs-service")),
        "{:?}",
        run.outputs
    );

    // Without such gates, gate-check neither needs a region nor calls AWS.
    let run = gate_check(
        dir.path(),
        nowhere,
        &["--environment", "plain", "--confirm", "DEPLOY"],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
}

#[test]
fn stacks_gate_against_moto() {
    let Some(moto) = deployer_testbed::moto_endpoint() else {
        return;
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let prefix = format!("gc-{}-{nanos}", std::process::id());
    let stack = format!("{prefix}-net");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let ctx = deployer_aws::testing::context(&moto).await;
        aws_sdk_cloudformation::Client::new(&ctx.config)
            .create_stack()
            .stack_name(&stack)
            .template_body(
                r#"{"Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}}"#,
            )
            .send()
            .await
            .expect("create stack");
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let config = format!(
        "services:\n  api:\n    paths: [\"api/**\"]\nenvironments:\n  production:\n    region: us-east-1\n    gates:\n      - stacks: {{ names: [{stack}], prefix: {prefix}- }}\n  staging:\n    region: us-east-1\n    gates:\n      - stacks: {{ names: [{stack}, {prefix}-missing] }}\n"
    );
    std::fs::write(dir.path().join("deployer.yml"), config).expect("write");
    let cfg = dir.path().join("deployer.yml");
    let cfg = cfg.to_str().expect("utf-8 path");

    let ok = gate_check(
        dir.path(),
        &moto,
        &["--environment", "production", "--config", cfg],
        &[],
    );
    assert_eq!(ok.code, 0, "{}", ok.stdout);
    assert!(ok.stdout.contains("1/1 stacks healthy"), "{}", ok.stdout);

    let missing = gate_check(
        dir.path(),
        &moto,
        &["--environment", "staging", "--config", cfg],
        &[],
    );
    assert_eq!(missing.code, 1, "{}", missing.stdout);
    assert!(
        missing
            .stdout
            .contains(&format!("stack {prefix}-missing does not exist")),
        "{}",
        missing.stdout
    );
}

/// A gate that names what cannot exist — a cluster that is not there, an ECS endpoint that
/// refuses connections — is bad configuration: exit 2 with what to fix, not a failed gate.
#[test]
fn an_ecs_service_gate_on_a_missing_cluster_or_a_dead_endpoint_is_bad_input() {
    let sim = sim_with_service();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join(".github")).expect("mkdir");
    std::fs::write(dir.path().join(".github/deployer.yml"), CONFIG).expect("write");

    let missing = gate_check(
        dir.path(),
        &sim.endpoint(),
        &["--environment", "missing-cluster"],
        &[("AWS_MAX_ATTEMPTS", "1")],
    );
    assert_eq!(missing.code, 2, "{}", missing.stdout);
    for words in [
        "the ecs-service gate cannot be evaluated",
        "cluster `no-such-cluster` does not exist in region us-east-1",
    ] {
        assert!(
            missing.stdout.contains(words),
            "no `{words}` in\n{}",
            missing.stdout
        );
    }

    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let dead = format!(
        "http://127.0.0.1:{}",
        listener.local_addr().expect("addr").port()
    );
    drop(listener);
    let refused = gate_check(
        dir.path(),
        &dead,
        &["--environment", "production"],
        &[("AWS_MAX_ATTEMPTS", "1")],
    );
    assert_eq!(refused.code, 2, "{}", refused.stdout);
    for words in [
        "the ecs-service gate cannot be evaluated",
        &format!("cannot reach {dead}"),
    ] {
        assert!(
            refused.stdout.contains(words),
            "no `{words}` in\n{}",
            refused.stdout
        );
    }
}
