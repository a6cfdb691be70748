//! AWS failures that are the user's to fix exit 2 with a message that says what, why and
//! the fix, quickly: a missing cluster (names the cluster, the account when known, the
//! region and the deployer.yml field), a refused connection, a name that does not resolve
//! and a region that is not one (name the endpoint and what to check). `AWS_MAX_ATTEMPTS`
//! and `AWS_RETRY_MODE` (environment or profile) are honoured, and bad values of them are
//! bad input. Each command runs as a process, as a step runs it.

use std::process::Command;
use std::time::{Duration, Instant};

use ecs_sim::{Scenario, SimConfig};
use serde_json::json;
use wiremock::matchers::{header, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Generous: each case takes well under a second with one attempt; the SDK's default of 8
/// attempts with back-off against a dead endpoint takes about 30 s.
const BOUND: Duration = Duration::from_secs(20);

struct Outcome {
    code: Option<i32>,
    text: String,
    took: Duration,
}

/// Runs `command` with environment credentials, outside Actions (messages on stderr),
/// `AWS_MAX_ATTEMPTS=1` unless `env` says otherwise.
fn run(command: &str, args: &[&str], env: &[(&str, &str)]) -> Option<Outcome> {
    let mut env = env.to_vec();
    if !env.iter().any(|(k, _)| *k == "AWS_MAX_ATTEMPTS") {
        env.insert(0, ("AWS_MAX_ATTEMPTS", "1"));
    }
    run_as_is(command, args, &env)
}

/// Runs `command` with environment credentials and exactly `env` besides.
fn run_as_is(command: &str, args: &[&str], env: &[(&str, &str)]) -> Option<Outcome> {
    let binary = deployer_testbed::workspace_binary(command)?;
    let home = tempfile::tempdir().expect("home");
    let mut cmd = Command::new(binary);
    cmd.current_dir(home.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("AWS_ACCESS_KEY_ID", "AKIDERRORSTEST")
        .env("AWS_SECRET_ACCESS_KEY", "errors-test-secret")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "us-east-1")
        .env("RUST_BACKTRACE", "0")
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let started = Instant::now();
    let out = cmd.output().expect("run");
    Some(Outcome {
        code: out.status.code(),
        text: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        took: started.elapsed(),
    })
}

/// The three commands that start from DescribeServices, with what each needs besides.
fn commands(cluster: &'static str) -> Vec<(&'static str, Vec<&'static str>)> {
    let service = ["--cluster", cluster, "--service", "api"];
    let with = |extra: &[&'static str]| service.iter().chain(extra).copied().collect();
    vec![
        ("ecs-deploy", with(&["--image", "api=repo/api:v2"])),
        (
            "run-migration",
            with(&[
                "--image",
                "repo/migrate:v1",
                "--container",
                "api",
                "--command",
                "migrate",
            ]),
        ),
        ("rollback", with(&[])),
    ]
}

fn assert_bad_input(what: &str, outcome: &Outcome, words: &[&str]) {
    assert_eq!(outcome.code, Some(2), "{what}: exit code\n{}", outcome.text);
    for w in words {
        assert!(
            outcome.text.contains(w),
            "{what}: no `{w}` in\n{}",
            outcome.text
        );
    }
    assert!(
        outcome.took < BOUND,
        "{what}: took {:?} (bound {BOUND:?})\n{}",
        outcome.took,
        outcome.text
    );
    assert!(
        !outcome.text.contains("Unhandled") && !outcome.text.contains("ErrorMetadata"),
        "{what}: the SDK's Debug dump is shown\n{}",
        outcome.text
    );
}

fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

#[test]
fn a_missing_cluster_is_bad_input_naming_cluster_region_and_the_config_field() {
    let sim = ecs_sim::spawn(SimConfig {
        scenario: Scenario::from_yaml("default: {kind: healthy}").expect("scenario"),
        time_scale: 20.0,
        seed: 1,
    })
    .expect("sim");
    let endpoint = sim.endpoint();
    let env = [("AWS_ENDPOINT_URL", endpoint.as_str())];
    for (command, args) in commands("no-such-cluster") {
        let Some(outcome) = run(command, &args, &env) else {
            return;
        };
        assert_bad_input(
            command,
            &outcome,
            &[
                "cluster `no-such-cluster` does not exist in region us-east-1",
                "ClusterNotFoundException",
                "`cluster` in deployer.yml",
                "--cluster",
            ],
        );
    }
    // A cluster ARN names its account; the message does too.
    let arn = "arn:aws:ecs:us-east-1:123456789012:cluster/gone";
    let args = [
        "--cluster",
        arn,
        "--service",
        "api",
        "--image",
        "api=repo/api:v2",
    ];
    if let Some(outcome) = run("ecs-deploy", &args, &env) {
        assert_bad_input(
            "ecs-deploy (cluster ARN)",
            &outcome,
            &["does not exist in account 123456789012, region us-east-1"],
        );
    }
}

#[test]
fn a_refused_connection_is_bad_input_naming_the_endpoint_and_fails_fast() {
    let dead = closed_port();
    for (command, args) in commands("shop") {
        let Some(outcome) = run(command, &args, &[("AWS_ENDPOINT_URL_ECS", dead.as_str())]) else {
            return;
        };
        assert_bad_input(
            command,
            &outcome,
            &[
                &format!("cannot reach {dead}"),
                "AWS_ENDPOINT_URL_ECS",
                "--region / AWS_REGION",
            ],
        );
    }
}

#[test]
fn a_name_that_does_not_resolve_is_bad_input_naming_the_endpoint() {
    // `.invalid` never resolves (RFC 6761).
    let nowhere = "http://ecs.deployer-test.invalid";
    let args = [
        "--cluster",
        "shop",
        "--service",
        "api",
        "--image",
        "api=repo/api:v2",
    ];
    let Some(outcome) = run("ecs-deploy", &args, &[("AWS_ENDPOINT_URL_ECS", nowhere)]) else {
        return;
    };
    assert_bad_input(
        "ecs-deploy",
        &outcome,
        &[&format!("cannot reach {nowhere}"), "DNS"],
    );
}

#[test]
fn a_region_that_is_not_one_is_bad_input() {
    let args = [
        "--cluster",
        "shop",
        "--service",
        "api",
        "--image",
        "api=repo/api:v2",
    ];
    // Not a DNS label: refused before any call.
    let Some(outcome) = run(
        "ecs-deploy",
        &[&args[..], &["--region", "US East 1"]].concat(),
        &[],
    ) else {
        return;
    };
    assert_bad_input(
        "ecs-deploy --region 'US East 1'",
        &outcome,
        &["region `US East 1` is not an AWS region name", "--region"],
    );
    // Well formed but unknown: its endpoint does not resolve, and the message says so.
    let Some(outcome) = run(
        "ecs-deploy",
        &[&args[..], &["--region", "us-nowhere-9"]].concat(),
        &[],
    ) else {
        return;
    };
    assert_bad_input(
        "ecs-deploy --region us-nowhere-9",
        &outcome,
        &[
            "cannot reach https://ecs.us-nowhere-9.amazonaws.com",
            "--region / AWS_REGION (is it an AWS region?)",
        ],
    );
}

/// Answers DescribeServices with HTTP 500 and counts the attempts.
async fn failing_ecs() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(path_regex(".*"))
        .and(header(
            "x-amz-target",
            "AmazonEC2ContainerServiceV20141113.DescribeServices",
        ))
        .respond_with(
            ResponseTemplate::new(500)
                .insert_header("content-type", "application/x-amz-json-1.1")
                .set_body_json(json!({"__type": "ServerException", "message": "boom"})),
        )
        .mount(&server)
        .await;
    server
}

fn describe_attempts(rt: &tokio::runtime::Runtime, server: &MockServer) -> usize {
    rt.block_on(server.received_requests())
        .unwrap_or_default()
        .iter()
        .filter(|r| {
            r.headers
                .get("x-amz-target")
                .is_some_and(|v| v.as_bytes().ends_with(b".DescribeServices"))
        })
        .count()
}

#[test]
fn aws_max_attempts_from_the_environment_or_the_profile_is_honoured() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let args = [
        "--cluster",
        "shop",
        "--service",
        "api",
        "--image",
        "api=repo/api:v2",
    ];
    // (attempts, from the profile file instead of AWS_MAX_ATTEMPTS)
    for (attempts, from_profile) in [(1usize, false), (3, false), (2, true)] {
        let server = rt.block_on(failing_ecs());
        let uri = server.uri();
        let dir = tempfile::tempdir().expect("dir");
        let config = dir.path().join("config");
        std::fs::write(&config, format!("[default]\nmax_attempts = {attempts}\n")).expect("config");
        let config = config.to_string_lossy().into_owned();
        let count = attempts.to_string();
        let mut env = vec![
            ("AWS_ENDPOINT_URL_ECS", uri.as_str()),
            ("AWS_RETRY_MODE", "standard"),
        ];
        if from_profile {
            env.push(("AWS_CONFIG_FILE", config.as_str()));
        } else {
            env.push(("AWS_MAX_ATTEMPTS", count.as_str()));
        }
        let Some(outcome) = run_as_is("ecs-deploy", &args, &env) else {
            return;
        };
        assert_eq!(
            outcome.code,
            Some(1),
            "a 500 is a failure\n{}",
            outcome.text
        );
        assert!(
            outcome.text.contains("ServerException: boom"),
            "{}",
            outcome.text
        );
        assert_eq!(
            describe_attempts(&rt, &server),
            attempts,
            "max attempts {attempts} (from the {})\n{}",
            if from_profile {
                "profile"
            } else {
                "environment"
            },
            outcome.text
        );
    }
}

#[test]
fn bad_retry_settings_are_bad_input_naming_the_variable() {
    let args = [
        "--cluster",
        "shop",
        "--service",
        "api",
        "--image",
        "api=repo/api:v2",
    ];
    let dead = closed_port();
    let cases = [
        (
            "AWS_MAX_ATTEMPTS",
            "lots",
            "set AWS_MAX_ATTEMPTS to a whole number",
        ),
        ("AWS_MAX_ATTEMPTS", "0", "0 is not a number of attempts"),
        (
            "AWS_RETRY_MODE",
            "sometimes",
            "set AWS_RETRY_MODE to standard or adaptive",
        ),
    ];
    for (name, value, words) in cases {
        let env = [("AWS_ENDPOINT_URL_ECS", dead.as_str()), (name, value)];
        let Some(outcome) = run("ecs-deploy", &args, &env) else {
            return;
        };
        assert_bad_input(&format!("{name}={value}"), &outcome, &[name, words]);
    }
    // adaptive is a retry mode, and empty means not set: the run gets as far as the
    // (dead) endpoint.
    let env = [
        ("AWS_ENDPOINT_URL_ECS", dead.as_str()),
        ("AWS_RETRY_MODE", "adaptive"),
    ];
    if let Some(outcome) = run(
        "ecs-deploy",
        &args,
        &[
            ("AWS_ENDPOINT_URL_ECS", dead.as_str()),
            ("AWS_RETRY_MODE", ""),
        ],
    ) {
        assert_bad_input(
            "AWS_RETRY_MODE=",
            &outcome,
            &[&format!("cannot reach {dead}")],
        );
    }
    if let Some(outcome) = run("ecs-deploy", &args, &env) {
        assert_bad_input(
            "AWS_RETRY_MODE=adaptive",
            &outcome,
            &[&format!("cannot reach {dead}")],
        );
    }
}
