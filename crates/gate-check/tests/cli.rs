//! gate-check end to end: exit codes 0/1/2, outputs parsed as the runner parses them,
//! the summary table, gates from deployer.yml and from flags.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use deployer_core::runtime::parse_output_file;
use serde_json::Value;

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../deployer-gates/tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

struct Run {
    code: i32,
    outputs: BTreeMap<String, String>,
    summary: String,
    stdout: String,
    stderr: String,
}

impl Run {
    fn results(&self) -> Vec<Value> {
        let text = self.outputs.get("results").expect("results output");
        serde_json::from_str::<Vec<Value>>(text).expect("results is a JSON array")
    }

    fn failed_gates(&self) -> Vec<String> {
        serde_json::from_str(
            self.outputs
                .get("failed-gates")
                .expect("failed-gates output"),
        )
        .expect("JSON array")
    }
}

fn gate_check(args: &[&str], env: &[(&str, &str)], cwd: Option<&Path>) -> Run {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = dir.path().join("output");
    let summary = dir.path().join("summary");
    let mut cmd = Command::cargo_bin("gate-check").expect("binary");
    cmd.env_clear()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    if let Some(cwd) = cwd {
        cmd.current_dir(cwd);
    }
    let out = cmd.output().expect("runs");
    let outputs = parse_output_file(&std::fs::read_to_string(&output).unwrap_or_default())
        .expect("valid GITHUB_OUTPUT");
    Run {
        code: out.status.code().expect("exit code"),
        outputs,
        summary: std::fs::read_to_string(&summary).unwrap_or_default(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn every_gate_passing_exits_0_with_outputs_and_a_summary_table() {
    let junit = fixture("passing-junit.xml");
    let cov = fixture("passing-coverage.xml");
    let sarif = fixture("passing-bandit.sarif");
    let k6 = fixture("passing-k6-summary-export.json");
    let run = gate_check(
        &[
            "--junit",
            &junit,
            "--min-tests",
            "2",
            "--coverage",
            &cov,
            "--min-coverage",
            "80",
            "--min-branch-coverage",
            "80",
            "--sarif",
            &sarif,
            "--max-severity",
            "low",
            "--k6",
            &k6,
            "--min-success-rate",
            "95",
            "--max-average-ms",
            "2000",
            "--max-p95-ms",
            "500",
            "--freeze",
            "fri 18:00 - mon 06:00",
            "--now",
            "2026-11-24T09:00:00Z",
            "--confirm",
            " DEPLOY ",
            "--expect-confirmation",
            "DEPLOY",
        ],
        &[],
        None,
    );
    assert_eq!(
        run.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    assert_eq!(run.outputs["passed"], "true");
    assert!(run.failed_gates().is_empty());
    let results = run.results();
    let names: Vec<&str> = results
        .iter()
        .map(|r| r["name"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        names,
        [
            "freeze",
            "confirmation",
            "tests",
            "coverage",
            "security",
            "performance"
        ]
    );
    assert!(results.iter().all(|r| r["passed"] == Value::Bool(true)));
    assert!(
        run.stdout.contains(
            "✅ coverage: 100 % lines, 100 % branches (threshold lines ≥ 80 %, branches ≥ 80 %)"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.summary
            .contains("| Gate | Status | Measured | Threshold | Detail |"),
        "{}",
        run.summary
    );
    assert!(
        run.summary.contains(
            "| performance | ✅ passed | 3000 requests, 99.8 % success, avg 184 ms, p95 413 ms |"
        ),
        "{}",
        run.summary
    );
}

#[test]
fn failing_reports_exit_1_and_list_the_failed_gates() {
    let junit = fixture("failing-junit.xml");
    let cov = fixture("failing-coverage.json");
    let sarif = fixture("failing-bandit.sarif");
    let locust = fixture("failing-locust_stats.csv");
    let run = gate_check(
        &[
            "--junit",
            &junit,
            "--coverage",
            &cov,
            "--sarif",
            &sarif,
            "--locust",
            &locust,
        ],
        &[],
        None,
    );
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.outputs["passed"], "false");
    assert_eq!(
        run.failed_gates(),
        ["tests", "coverage", "security", "performance"]
    );
    let results = run.results();
    assert_eq!(results[1]["measured"], "58.62 % lines, 12.5 % branches");
    assert_eq!(results[1]["threshold"], "lines ≥ 80 %");
    assert!(
        run.stdout.contains("::error title=gate tests::"),
        "{}",
        run.stdout
    );
    assert!(
        run.summary
            .contains("❌ Not met: tests, coverage, security, performance (0 passed)"),
        "{}",
        run.summary
    );
    assert!(
        run.summary
            .contains("| security | ❌ failed | 1 high, 1 medium, 1 low | no findings ≥ high |"),
        "{}",
        run.summary
    );
}

#[test]
fn a_required_failure_blocks_but_each_gate_is_still_reported() {
    let run = gate_check(
        &[
            "--junit",
            &fixture("passing-junit.xml"),
            "--k6",
            &fixture("failing-k6-handle-summary.json"),
        ],
        &[],
        None,
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.failed_gates(), ["performance"]);
    assert_eq!(run.results()[0]["passed"], Value::Bool(true));
}

#[test]
fn malformed_or_missing_reports_exit_2_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broken = dir.path().join("junit.xml");
    std::fs::write(&broken, "<testsuite><testcase name=\"a\">").expect("write");
    let broken = broken.display().to_string();
    let run = gate_check(&["--junit", &broken], &[], None);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stdout.contains("JUnit XML report")
            && run.stdout.contains("junit.xml")
            && run.stdout.contains("truncated"),
        "{}",
        run.stdout
    );
    assert!(run.outputs.is_empty(), "no verdict on bad input");

    let run = gate_check(&["--coverage", "does/not/exist.xml"], &[], None);
    assert_eq!(run.code, 2);
    assert!(
        run.stdout
            .contains("cannot read coverage report does/not/exist.xml"),
        "{}",
        run.stdout
    );

    let run = gate_check(&["--k6", &fixture("passing-locust_stats.csv")], &[], None);
    assert_eq!(run.code, 2);
    assert!(
        run.stdout.contains("k6 summary report") && run.stdout.contains("not valid JSON"),
        "{}",
        run.stdout
    );
}

#[test]
fn bad_flags_exit_2() {
    for (args, needle) in [
        (vec![], "no gates to check"),
        (vec!["--freeze", "someday"], "freeze window"),
        (vec!["--confirm", "DEPLOY"], "--expect-confirmation"),
        (
            vec!["--coverage", "y.xml", "--min-coverage", "180"],
            "not a percentage",
        ),
        (vec!["--health-url", "not a url"], "is not a URL"),
        (
            vec!["--expect-confirmation", "DEPLOY", "--emergency"],
            "needs a reason",
        ),
        (
            vec!["--expect-confirmation", "DEPLOY", "--now", "yesterday"],
            "RFC 3339",
        ),
    ] {
        let run = gate_check(&args, &[], None);
        assert_eq!(run.code, 2, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stdout.contains(needle) || run.stderr.contains(needle),
            "{args:?} should mention {needle}: {}{}",
            run.stdout,
            run.stderr
        );
    }
    // clap rejects an unknown severity with exit 2 as well.
    let run = gate_check(&["--sarif", "x", "--max-severity", "severe"], &[], None);
    assert_eq!(run.code, 2);
}

#[test]
fn typed_confirmation_is_case_sensitive_and_says_what_to_type() {
    let run = gate_check(
        &["--confirm", "deploy", "--expect-confirmation", "DEPLOY"],
        &[],
        None,
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.failed_gates(), ["confirmation"]);
    assert!(run.stdout.contains("type DEPLOY exactly"), "{}", run.stdout);
    let run = gate_check(
        &[],
        &[
            ("DEPLOYER_CONFIRM", "ROLLBACK"),
            ("DEPLOYER_EXPECT_CONFIRMATION", "ROLLBACK"),
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
}

#[test]
fn freeze_window_blocks_at_a_fixed_time() {
    let run = gate_check(
        &[
            "--freeze",
            "2026-12-24T00:00:00Z .. 2026-12-27T00:00:00Z",
            "--freeze",
            "fri 18:00 - mon 06:00",
            "--now",
            "2026-11-28T10:00:00Z",
        ],
        &[],
        None,
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .contains("change freeze until 2026-11-30T06:00:00Z"),
        "{}",
        run.stdout
    );
}

#[test]
fn emergency_bypasses_named_gates_and_records_who_and_why() {
    let env = [
        ("GITHUB_ACTOR", "octocat"),
        ("DEPLOYER_EMERGENCY", "true"),
        ("DEPLOYER_EMERGENCY_REASON", "INC-42 checkout down"),
    ];
    let junit = fixture("failing-junit.xml");
    let cov = fixture("failing-coverage.xml");
    let run = gate_check(
        &[
            "--junit",
            &junit,
            "--coverage",
            &cov,
            "--emergency-bypass",
            "tests",
        ],
        &env,
        None,
    );
    assert_eq!(run.code, 1, "coverage is not bypassed: {}", run.stdout);
    assert_eq!(run.failed_gates(), ["coverage"]);

    let run = gate_check(
        &[
            "--junit",
            &junit,
            "--coverage",
            &cov,
            "--wait-seconds",
            "600",
            "--confirm",
            "DEPLOY",
            "--expect-confirmation",
            "DEPLOY",
        ],
        &env,
        None,
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.outputs["passed"], "true");
    assert_eq!(
        run.outputs["bypassed-gates"],
        r#"["tests","coverage","wait"]"#
    );
    let outcomes: Vec<String> = run
        .results()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(outcomes, ["passed", "bypassed", "bypassed", "bypassed"]);
    assert!(
        run.summary
            .contains("**Emergency promotion** declared by **octocat**: INC-42 checkout down"),
        "{}",
        run.summary
    );
    assert!(run.summary.contains("⏭️ bypassed (emergency)"));
    assert!(
        run.summary
            .contains("✅ All required gates met (1 passed, 3 bypassed by the emergency)"),
        "{}",
        run.summary
    );

    // The typed confirmation is not bypassed unless named.
    let run = gate_check(
        &["--expect-confirmation", "DEPLOY", "--emergency"],
        &env,
        None,
    );
    assert_eq!(run.code, 1);
}

#[test]
fn wait_timer_runs_last_and_only_when_nothing_failed() {
    let run = gate_check(
        &[
            "--wait-seconds",
            "1",
            "--confirm",
            "DEPLOY",
            "--expect-confirmation",
            "DEPLOY",
        ],
        &[],
        None,
    );
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("waiting: 1 s left"), "{}", run.stdout);
    assert!(run.stdout.contains("✅ wait: waited 1 s"), "{}", run.stdout);

    let started = std::time::Instant::now();
    let run = gate_check(
        &[
            "--wait-seconds",
            "600",
            "--confirm",
            "nope",
            "--expect-confirmation",
            "DEPLOY",
        ],
        &[],
        None,
    );
    assert!(started.elapsed().as_secs() < 60);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .contains("not waited: another required gate failed"),
        "{}",
        run.stdout
    );
}

#[test]
fn gates_come_from_deployer_yml_for_the_environment() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (from, to) in [
        ("passing-junit.xml", "reports/junit.xml"),
        ("failing-coverage.lcov", "reports/coverage.lcov"),
        ("failing-bandit.sarif", "reports/bandit.sarif"),
        ("passing-locust_stats.csv", "reports/production_stats.csv"),
    ] {
        let to = dir.path().join(to);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::copy(fixture(from), to).expect("copy");
    }
    let config = r#"
services:
  api:
    paths: ["api/**"]
environments:
  staging: {}
  production:
    gates:
      - tests: { junit: [reports/junit.xml], min-tests: 2 }
      - name: line-coverage
        required: false
        coverage: { report: reports/coverage.lcov, format: lcov, min-line: 80 }
      - security: { sarif: [reports/bandit.sarif], fail-on: critical }
      - performance: { locust: "reports/{env}_stats.csv", max-p95-ms: 200 }
      - freeze: { windows: ["2026-12-24T00:00:00Z .. 2026-12-27T00:00:00Z"] }
      - confirmation: { expect: DEPLOY }
"#;
    std::fs::create_dir_all(dir.path().join(".github")).expect("mkdir");
    std::fs::write(dir.path().join(".github/deployer.yml"), config).expect("write");

    let env = [("DEPLOYER_NOW", "2026-11-24T09:00:00Z")];
    let run = gate_check(
        &["--environment", "production", "--confirm", "DEPLOY"],
        &env,
        Some(dir.path()),
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let names: Vec<String> = run
        .results()
        .iter()
        .map(|r| r["name"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        names,
        [
            "tests",
            "line-coverage",
            "security",
            "performance",
            "freeze",
            "confirmation"
        ]
    );
    assert!(run.summary.contains("### Gates for `production`"));
    assert!(
        run.summary.contains(
            "| line-coverage | ⚠️ failed (not required) | 58.62 % lines, 12.5 % branches |"
        ),
        "{}",
        run.summary
    );
    assert!(
        run.stdout.contains("::warning title=gate line-coverage::"),
        "{}",
        run.stdout
    );

    // Flags add gates to the configured ones; a wrong word fails the configured confirmation.
    let run = gate_check(
        &["--environment", "production", "--confirm", "deploy"],
        &env,
        Some(dir.path()),
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.failed_gates(), ["confirmation"]);

    // An environment without gates passes with nothing to check.
    let run = gate_check(&["--environment", "staging"], &env, Some(dir.path()));
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.outputs["passed"], "true");

    // Unknown environment, and a gate that sets two kinds, are bad input.
    let run = gate_check(&["--environment", "qa"], &env, Some(dir.path()));
    assert_eq!(run.code, 2);
    std::fs::write(
        dir.path().join(".github/deployer.yml"),
        "services:\n  api:\n    paths: [\"api/**\"]\nenvironments:\n  production:\n    gates:\n      - wait: { seconds: 1 }\n        confirmation: { expect: DEPLOY }\n",
    )
    .expect("write");
    let run = gate_check(&["--environment", "production"], &env, Some(dir.path()));
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stdout.contains("environments.production.gates[0]")
            && run.stdout.contains("a gate sets 2 kinds"),
        "{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_urls_are_checked_against_a_local_server() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/health"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/ready"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let health = format!("{}/health", server.uri());
    let ready = format!("{}/ready", server.uri());

    let ok = tokio::task::spawn_blocking({
        let health = health.clone();
        move || gate_check(&["--health-url", &health], &[], None)
    })
    .await
    .expect("join");
    assert_eq!(ok.code, 0, "{}", ok.stdout);
    assert!(
        ok.stdout.contains("✅ health: 1/1 endpoints 2xx"),
        "{}",
        ok.stdout
    );

    let env_urls = format!("{health}\n{ready}\n");
    let bad = tokio::task::spawn_blocking(move || {
        gate_check(
            &[
                "--health-deadline-seconds",
                "2",
                "--health-timeout-seconds",
                "1",
            ],
            &[("DEPLOYER_HEALTH_URLS", env_urls.as_str())],
            None,
        )
    })
    .await
    .expect("join");
    assert_eq!(bad.code, 1, "{}", bad.stdout);
    assert!(
        bad.stdout.contains("/ready: answered HTTP 503"),
        "{}",
        bad.stdout
    );
    assert!(
        bad.stdout.contains("not healthy yet"),
        "progress is printed: {}",
        bad.stdout
    );
}

#[test]
fn json_mode_prints_outputs_as_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::cargo_bin("gate-check")
        .expect("binary")
        .env_clear()
        .current_dir(dir.path())
        .args(["--json", "--junit", &fixture("passing-junit.xml")])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let json: Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(json["passed"], "true");
    assert_eq!(json["failed-gates"], "[]");
}

#[test]
fn empty_environment_variables_from_unset_action_inputs_mean_not_given() {
    let junit = fixture("passing-junit.xml");
    let mut env: Vec<(&str, &str)> = [
        "DEPLOYER_CONFIG",
        "DEPLOYER_ENVIRONMENT",
        "DEPLOYER_MIN_TESTS",
        "DEPLOYER_COVERAGE",
        "DEPLOYER_COVERAGE_FORMAT",
        "DEPLOYER_MIN_COVERAGE",
        "DEPLOYER_MIN_BRANCH_COVERAGE",
        "DEPLOYER_SARIF",
        "DEPLOYER_MAX_SEVERITY",
        "DEPLOYER_K6",
        "DEPLOYER_LOCUST",
        "DEPLOYER_MIN_SUCCESS_RATE",
        "DEPLOYER_MAX_AVERAGE_MS",
        "DEPLOYER_MAX_P95_MS",
        "DEPLOYER_HEALTH_URLS",
        "DEPLOYER_HEALTH_DEADLINE_SECONDS",
        "DEPLOYER_HEALTH_TIMEOUT_SECONDS",
        "DEPLOYER_CONFIRM",
        "DEPLOYER_EXPECT_CONFIRMATION",
        "DEPLOYER_WAIT_SECONDS",
        "DEPLOYER_FREEZE",
        "DEPLOYER_NOW",
        "DEPLOYER_EMERGENCY",
        "DEPLOYER_EMERGENCY_REASON",
        "DEPLOYER_EMERGENCY_BYPASS",
        "DEPLOYER_EXPECTED_IMAGE",
    ]
    .into_iter()
    .map(|k| (k, ""))
    .collect();
    env.push(("DEPLOYER_JUNIT", junit.as_str()));
    let run = gate_check(&[], &env, None);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.failed_gates(), Vec::<String>::new());
    assert_eq!(run.results().len(), 1);
}

/// A deployer.yml whose `api` has health URLs on `base` (with `{env}` in the path) and whose
/// `web` has none.
fn verify_config(dir: &Path, base: &str) -> PathBuf {
    let config = dir.join("deployer.yml");
    std::fs::write(
        &config,
        format!(
            "services:\n  api:\n    paths: [\"api/**\"]\n    cluster: c\n    service: api-{{env}}\n    health:\n      url: {base}/{{env}}/health\n      ready: {base}/{{env}}/ready\n      timeout-seconds: 2\n  web:\n    paths: [\"web/**\"]\n    cluster: c\n    service: web-{{env}}\nenvironments:\n  staging:\n    url: https://www.{{env}}.example.com/\n    gates:\n      - confirmation: {{ expect: DEPLOY }}\n"
        ),
    )
    .expect("write config");
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_service_checks_the_health_urls_of_deployer_yml_only() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/staging/health"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1..)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/staging/ready"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1..)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = verify_config(dir.path(), &server.uri());
    let config = config.display().to_string();

    // The environment's confirmation gate is for promotion, not verification: not checked.
    let run = tokio::task::spawn_blocking(move || {
        gate_check(
            &[
                "--config",
                &config,
                "--environment",
                "staging",
                "--verify-service",
                "api",
            ],
            &[],
            None,
        )
    })
    .await
    .expect("join");
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("✅ health: 2/2 endpoints 2xx"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("confirmation"), "{}", run.stdout);
    assert_eq!(
        run.outputs.get("environment-url").map(String::as_str),
        Some("https://www.staging.example.com/")
    );
    server.verify().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_service_fails_within_the_configured_timeout() {
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = verify_config(dir.path(), &server.uri())
        .display()
        .to_string();
    let started = std::time::Instant::now();
    let run = tokio::task::spawn_blocking(move || {
        gate_check(
            &[
                "--config",
                &config,
                "--environment",
                "staging",
                "--verify-service",
                "api",
                "--health-timeout-seconds",
                "1",
            ],
            &[],
            None,
        )
    })
    .await
    .expect("join");
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("/staging/health: answered HTTP 503"),
        "{}",
        run.stdout
    );
    // health.timeout-seconds: 2 is the deadline, not the 120 s default.
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
}

#[test]
fn verify_service_without_health_urls_passes_with_a_notice_and_bad_names_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = verify_config(dir.path(), "http://127.0.0.1:9")
        .display()
        .to_string();

    let none = gate_check(
        &[
            "--config",
            &config,
            "--environment",
            "staging",
            "--verify-service",
            "web",
        ],
        &[],
        None,
    );
    assert_eq!(none.code, 0, "{}", none.stdout);
    assert!(
        none.stdout.contains("::notice") && none.stdout.contains("services.web.health"),
        "{}",
        none.stdout
    );
    assert_eq!(none.outputs.get("passed").map(String::as_str), Some("true"));

    let unknown = gate_check(
        &[
            "--config",
            &config,
            "--environment",
            "staging",
            "--verify-service",
            "apii",
        ],
        &[],
        None,
    );
    assert_eq!(unknown.code, 2, "{}{}", unknown.stdout, unknown.stderr);
    assert!(
        format!("{}{}", unknown.stdout, unknown.stderr).contains("apii"),
        "{}{}",
        unknown.stdout,
        unknown.stderr
    );

    let no_env = gate_check(&["--config", &config, "--verify-service", "api"], &[], None);
    assert_eq!(no_env.code, 2, "{}{}", no_env.stdout, no_env.stderr);
    assert!(no_env.stderr.contains("--environment"), "{}", no_env.stderr);
}
