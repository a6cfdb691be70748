//! Every malformed-input class, for every binary, as a real process: bad flags and
//! values, a missing/unreadable/malformed deployer.yml, a malformed event payload,
//! malformed reports (gate-check), and malformed answers from the servers deployer talks
//! to (ECS, the OIDC token service, STS, the GitHub API). Each must end with the
//! documented exit code and a message naming the problem — never a panic, never 0.
//!
//! One table, so a missing class for a binary is visible at a glance.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use deployer_git::testing::TestRepo;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

const CONFIG: &str =
    "services:\n  api:\n    paths: [\"services/api/**\"]\n    cluster: shop\n    service: api\n";

struct Case {
    bin: &'static str,
    what: &'static str,
    args: Vec<String>,
    env: Vec<(String, String)>,
    /// Expected exit code.
    code: i32,
    /// Every one of these must appear in stdout+stderr (case-insensitive).
    words: Vec<&'static str>,
    /// The run must end within this (a hang is a failure, not a stuck test).
    within: Duration,
}

/// Any case that runs longer is killed and fails; generous for 2 busy cores.
const HARD_LIMIT: Duration = Duration::from_secs(120);
/// The bound for refusals that need no server: ≥ 10× what they take on a loaded machine.
const QUICK: Duration = Duration::from_secs(20);

fn case(
    bin: &'static str,
    what: &'static str,
    args: &[&str],
    code: i32,
    words: &[&'static str],
) -> Case {
    Case {
        bin,
        what,
        args: args.iter().map(|s| s.to_string()).collect(),
        env: Vec::new(),
        code,
        words: words.to_vec(),
        within: HARD_LIMIT,
    }
}

impl Case {
    /// The case must finish within [`QUICK`].
    fn quick(mut self) -> Self {
        self.within = QUICK;
        self
    }

    fn env(mut self, k: &str, v: impl AsRef<std::ffi::OsStr>) -> Self {
        self.env
            .push((k.into(), v.as_ref().to_string_lossy().into_owned()));
        self
    }
}

struct Outcome {
    code: Option<i32>,
    text: String,
}

/// Waits for `cmd` at most `limit`; a process still running then is killed and reported.
fn output_within(mut cmd: Command, limit: Duration) -> Outcome {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let started = Instant::now();
    let child = cmd.spawn().expect("spawn");
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => {
            let out = out.expect("wait");
            Outcome {
                code: out.status.code(),
                text: String::from_utf8_lossy(&out.stdout).into_owned()
                    + &String::from_utf8_lossy(&out.stderr),
            }
        }
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            Outcome {
                code: None,
                text: format!(
                    "did not finish within {} s (killed after {} s)",
                    limit.as_secs(),
                    started.elapsed().as_secs()
                ),
            }
        }
    }
}

fn run(dir: &Path, c: &Case) -> Outcome {
    let binary: PathBuf = deployer_testbed::workspace_binary(c.bin)
        .unwrap_or_else(|| panic!("the {} binary is required", c.bin));
    let mut cmd = Command::new(binary);
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", dir.join("out"))
        .env("GITHUB_STEP_SUMMARY", dir.join("summary.md"))
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "AKIDBADINPUT")
        .env("AWS_SECRET_ACCESS_KEY", "bad-input-secret")
        .env("AWS_MAX_ATTEMPTS", "1")
        // Nothing listens here: a case that reaches AWS unexpectedly fails fast.
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("RUST_BACKTRACE", "0")
        .args(&c.args);
    for (k, v) in &c.env {
        cmd.env(k, v);
    }
    output_within(cmd, c.within)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(&p, bytes).expect("write");
    p.display().to_string()
}

/// A server answering every request with `status` and `body`.
async fn garbage(status: u16, body: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(status)
                .insert_header("content-type", "application/x-amz-json-1.1")
                .set_body_string(body),
        )
        .mount(&server)
        .await;
    server
}

fn check(dir: &Path, cases: &[Case]) {
    let mut problems = Vec::new();
    for c in cases {
        let out = run(dir, c);
        let lower = out.text.to_lowercase();
        let missing: Vec<&str> = c
            .words
            .iter()
            .copied()
            .filter(|w| !lower.contains(&w.to_lowercase()))
            .collect();
        let code_ok = out.code == Some(c.code);
        if !code_ok || !missing.is_empty() || lower.contains("panicked") {
            problems.push(format!(
                "{} — {}: exit {:?} (want {}), missing {:?}\n{}",
                c.bin,
                c.what,
                out.code,
                c.code,
                missing,
                out.text.trim_end()
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {} cases wrong:\n\n{}",
        problems.len(),
        cases.len(),
        problems.join("\n\n")
    );
}

const ALL: [&str; 6] = [
    "detect-changes",
    "semver-release",
    "ecs-deploy",
    "run-migration",
    "rollback",
    "gate-check",
];

/// Arguments that make each binary otherwise runnable, so the bad part is the only fault.
fn base_args(bin: &str) -> Vec<&'static str> {
    match bin {
        "ecs-deploy" => vec![
            "--cluster",
            "shop",
            "--service",
            "api",
            "--image",
            "api=repo/api:v2",
        ],
        "run-migration" => vec![
            "--cluster",
            "shop",
            "--service",
            "api",
            "--command",
            "migrate",
        ],
        "rollback" => vec!["--cluster", "shop", "--service", "api"],
        "gate-check" => vec!["--junit", "junit.xml", "--min-tests", "1"],
        _ => vec![],
    }
}

fn with_base(bin: &'static str, extra: &[&str]) -> Vec<String> {
    base_args(bin)
        .into_iter()
        .chain(extra.iter().copied())
        .map(String::from)
        .collect()
}

fn repo() -> TestRepo {
    let mut repo = TestRepo::new();
    repo.write(".github/deployer.yml", CONFIG);
    repo.write("services/api/main.py", "v1\n");
    repo.commit("feat(api): first");
    repo.tag("v0.1.0");
    repo.write("services/api/main.py", "v2\n");
    repo.commit("fix(api): second");
    repo.write(
        "junit.xml",
        "<testsuite name=\"s\" tests=\"1\" failures=\"0\"><testcase name=\"t\"/></testsuite>",
    );
    repo
}

#[test]
fn bad_flags_and_values_exit_2_naming_the_flag() {
    let repo = repo();
    let dir = repo.path();
    let mut cases = Vec::new();
    for bin in ALL {
        let mut c = case(bin, "unknown flag", &[], 2, &["--no-such-flag"]);
        c.args = with_base(bin, &["--no-such-flag"]);
        cases.push(c);
    }
    let typed: &[(&'static str, &[&str], &[&'static str])] = &[
        (
            "detect-changes",
            &["--files-limit", "lots"],
            &["files-limit", "lots"],
        ),
        (
            "ecs-deploy",
            &["--timeout", "banana"],
            &["timeout", "banana"],
        ),
        (
            "ecs-deploy",
            &["--on-failure", "panic"],
            &["on-failure", "panic"],
        ),
        (
            "ecs-deploy",
            &["--desired-count", "many"],
            &["desired-count"],
        ),
        (
            "ecs-deploy",
            &["--poll-interval", "forever"],
            &["poll-interval", "forever"],
        ),
        ("run-migration", &["--timeout", "5 parsecs"], &["timeout"]),
        (
            "rollback",
            &["--to-revision", "abc"],
            &["to-revision", "abc"],
        ),
        (
            "rollback",
            &["--to-revision", "1", "--to-sha", "abc1234"],
            &["to-revision", "to-sha"],
        ),
        (
            "gate-check",
            &["--min-coverage", "lots"],
            &["min-coverage", "lots"],
        ),
        (
            "gate-check",
            &["--coverage-format", "pdf"],
            &["coverage-format", "pdf"],
        ),
        (
            "gate-check",
            &["--max-severity", "apocalyptic"],
            &["severity", "apocalyptic"],
        ),
    ];
    for (bin, extra, words) in typed {
        let mut c = case(bin, "invalid flag value", &[], 2, words);
        c.args = with_base(bin, extra);
        cases.push(c);
    }
    // The same through the env variable an action.yml passes inputs with.
    let mut c = case("ecs-deploy", "invalid env value", &[], 2, &["banana"]);
    c.args = with_base("ecs-deploy", &[]);
    cases.push(c.env("DEPLOYER_TIMEOUT", "banana"));
    // Required input missing.
    cases.push(case(
        "ecs-deploy",
        "no service",
        &["--image", "x:1"],
        2,
        &["--service"],
    ));
    cases.push(case("rollback", "no service", &[], 2, &["--service"]));
    check(&dir, &cases);
}

#[test]
fn missing_unreadable_and_malformed_config_exit_2_naming_the_file() {
    let repo = repo();
    let dir = repo.path();
    let broken = write(
        &dir,
        "cfg/broken.yml",
        b"services:\n  api:\n    paths: [\"a\"\n    image: x\n",
    );
    let unknown = write(
        &dir,
        "cfg/unknown.yml",
        b"services:\n  api:\n    paths: [\"a\"]\n    imgae: x\n",
    );
    let binary = write(&dir, "cfg/binary.yml", b"\xff\xfe\x00services");
    let empty = write(&dir, "cfg/empty.yml", b"");
    let missing = dir.join("cfg/missing.yml").display().to_string();
    let a_dir = dir.join("cfg").display().to_string();
    let mut cases = Vec::new();
    for bin in ALL {
        for (what, path, words) in [
            ("config missing", &missing, &["missing.yml"][..]),
            ("config is a directory", &a_dir, &["cfg"][..]),
            ("config not UTF-8", &binary, &["binary.yml"][..]),
            ("config empty", &empty, &["empty.yml"][..]),
            (
                "config invalid YAML",
                &broken,
                &["broken.yml:4", "YAML"][..],
            ),
            (
                "config unknown key",
                &unknown,
                &["unknown.yml:4", "imgae"][..],
            ),
        ] {
            let mut c = case(bin, what, &[], 2, words);
            // gate-check reads deployer.yml only for --environment (documented).
            let env: &[&str] = if bin == "gate-check" {
                &["--environment", "staging"]
            } else {
                &[]
            };
            c.args = with_base(bin, &[&["--config", path.as_str()][..], env].concat());
            cases.push(c);
        }
    }
    check(&dir, &cases);
}

#[test]
fn malformed_event_payloads_exit_2_naming_the_event() {
    let repo = repo();
    let dir = repo.path();
    let ev = |name: &str, body: &[u8]| write(&dir, &format!("events/{name}.json"), body);
    let payloads = [
        (
            "invalid JSON",
            "push",
            ev("truncated", b"{\"ref\":\"refs/heads/main\",\"commits\":["),
            vec!["push", "truncated.json"],
        ),
        (
            "not an object",
            "push",
            ev("array", b"[]"),
            vec!["push", "array.json", "object"],
        ),
        (
            "wrong type",
            "push",
            ev("ref-number", b"{\"ref\":42}"),
            vec!["push", "ref-number.json"],
        ),
        (
            "missing pull_request",
            "pull_request",
            ev("no-pr", b"{\"action\":\"opened\"}"),
            vec!["pull_request", "no-pr.json"],
        ),
        (
            "missing head",
            "pull_request",
            ev("no-head", b"{\"pull_request\":{\"base\":{\"sha\":\"a\"}}}"),
            vec!["pull_request", "head"],
        ),
        (
            "missing merge_group.base_sha",
            "merge_group",
            ev("mg", b"{\"merge_group\":{\"head_sha\":\"x\"}}"),
            vec!["merge_group", "base_sha"],
        ),
        (
            "not UTF-8",
            "push",
            ev("binary", b"{\"ref\":\"\xff\"}"),
            vec!["binary.json"],
        ),
        (
            "file missing",
            "push",
            dir.join("events/nope.json").display().to_string(),
            vec!["nope.json"],
        ),
    ];
    let mut cases = Vec::new();
    for bin in ["detect-changes", "semver-release"] {
        for (what, name, path, words) in &payloads {
            let mut c = case(bin, what, &[], 2, &[]);
            c.words = words.clone();
            cases.push(
                c.env("GITHUB_EVENT_NAME", name)
                    .env("GITHUB_EVENT_PATH", path),
            );
        }
        cases.push(
            case(
                bin,
                "event path without event name",
                &[],
                2,
                &["GITHUB_EVENT_NAME"],
            )
            .env("GITHUB_EVENT_PATH", ev("ok", b"{}")),
        );
    }
    check(&dir, &cases);
}

#[test]
fn malformed_reports_exit_2_naming_the_file_and_format() {
    let repo = repo();
    let dir = repo.path();
    let r = |name: &str, body: &[u8]| write(&dir, &format!("reports/{name}"), body);
    let g = |what, args: Vec<String>, words: &[&'static str]| Case {
        bin: "gate-check",
        what,
        args,
        env: Vec::new(),
        code: 2,
        words: words.to_vec(),
        within: HARD_LIMIT,
    };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let cases = vec![
        g("junit missing", s(&["--junit", "reports/none.xml", "--min-tests", "1"]), &["none.xml"]),
        g("junit garbage", s(&["--junit", &r("junit.xml", b"<testsuite tests=\"x\"/>"), "--min-tests", "1"]), &["junit.xml", "JUnit"]),
        g("junit truncated", s(&["--junit", &r("junit-cut.xml", b"<testsuites><testsuite"), "--min-tests", "1"]), &["junit-cut.xml", "JUnit"]),
        g("junit empty", s(&["--junit", &r("junit-empty.xml", b""), "--min-tests", "1"]), &["junit-empty.xml"]),
        g("cobertura garbage", s(&["--coverage", &r("cov.xml", b"<coverage line-rate=\"x\"/>"), "--min-coverage", "80"]), &["cov.xml", "Cobertura"]),
        // Found by fuzzing: these measured 20213 % coverage and -1184 ms, passing any gate.
        g("cobertura more lines covered than exist", s(&["--coverage", &r("cov-over.xml", b"<coverage lines-valid=\"29\" lines-covered=\"5862\"/>"), "--min-coverage", "80"]), &["cov-over.xml", "lines-covered"]),
        g("k6 negative average", s(&["--k6", &r("k6-neg.json", b"{\"metrics\":{\"http_reqs\":{\"count\":3000},\"http_req_failed\":{\"rate\":0.002},\"http_req_duration\":{\"avg\":-1184.3}}}"), "--max-average-ms", "2000"]), &["k6-neg.json", "negative"]),
        g("lcov garbage", s(&["--coverage", &r("lcov.info", b"LF:abc\nLH:1\n"), "--coverage-format", "lcov", "--min-coverage", "80"]), &["lcov.info", "LCOV"]),
        g("coverage binary", s(&["--coverage", &r("cov.bin", b"\x00\xff\xfe"), "--min-coverage", "80"]), &["cov.bin"]),
        g("sarif garbage", s(&["--sarif", &r("scan.sarif", b"{\"version\":\"2.1.0\",\"runs\":{}}"), "--max-severity", "high"]), &["scan.sarif", "SARIF"]),
        g("sarif not JSON", s(&["--sarif", &r("scan2.sarif", b"<html>"), "--max-severity", "high"]), &["scan2.sarif", "SARIF"]),
        g("k6 garbage", s(&["--k6", &r("k6.json", b"{\"metrics\":{}}"), "--min-success-rate", "95"]), &["k6.json", "k6"]),
        g("k6 not JSON", s(&["--k6", &r("k6-2.json", b"nope"), "--min-success-rate", "95"]), &["k6-2.json", "k6"]),
        g("locust garbage", s(&["--locust", &r("locust.csv", b"Name,Request Count\n"), "--min-success-rate", "95"]), &["locust.csv", "Locust"]),
        g("locust numbers", s(&["--locust", &r("locust2.csv", b"Type,Name,Request Count,Failure Count,Average Response Time\n,Aggregated,abc,1,2\n"), "--min-success-rate", "95"]), &["locust2.csv", "Locust"]),
    ];
    check(&dir, &cases);
}

/// Malformed answers from ECS: a deploy, migration, rollback or ECS gate is never reported
/// as done; the answer is bad input (exit 2) and the message names the call that got it.
#[test]
fn malformed_ecs_answers_exit_2_and_name_the_call() {
    malformed_ecs_answers();
}

fn malformed_ecs_answers() {
    let repo = repo();
    let dir = repo.path();
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let not_json = rt.block_on(garbage(200, "<html>definitely not ECS</html>"));
    let empty = rt.block_on(garbage(200, ""));
    let wrong_shape = rt.block_on(garbage(
        200,
        "{\"services\":[{\"serviceName\":\"api\"}],\"failures\":[]}",
    ));
    let mut cases = Vec::new();
    for bin in ["ecs-deploy", "run-migration", "rollback"] {
        for (what, server, code, words) in [
            ("ECS answers HTML", &not_json, 2, &["DescribeServices"][..]),
            ("ECS answers an empty body", &empty, 2, &["not found"][..]),
            (
                "ECS answers a service without status",
                &wrong_shape,
                2,
                &["not ACTIVE"][..],
            ),
        ] {
            let mut c = case(bin, what, &[], code, words);
            c.args = with_base(bin, &[]);
            cases.push(c.env("AWS_ENDPOINT_URL_ECS", server.uri()));
        }
    }
    check(&dir, &cases);
}

/// Malformed answers from the OIDC token service, STS and the GitHub API: exit 2, named.
#[test]
fn malformed_token_sts_and_github_answers_exit_2() {
    malformed_token_sts_and_github_answers();
}

fn malformed_token_sts_and_github_answers() {
    let repo = repo();
    let dir = repo.path();
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let token_html = rt.block_on(garbage(200, "<html>login</html>"));
    let token_no_value = rt.block_on(garbage(200, "{\"count\":1}"));
    let token_ok = rt.block_on(garbage(
        200,
        "{\"value\":\"eyJhbGciOiJSUzI1NiJ9.e30.c2ln\"}",
    ));
    let sts_garbage = rt.block_on(garbage(200, "this is not XML"));
    let github_garbage = rt.block_on(garbage(200, "not json"));
    let role = "arn:aws:iam::123456789012:role/deployer";
    let mut cases = Vec::new();
    for bin in ["ecs-deploy", "run-migration", "rollback"] {
        for (what, token, code, words) in [
            ("token service answers HTML", &token_html, 2, &["OIDC"][..]),
            (
                "token service answers JSON without value",
                &token_no_value,
                2,
                &["OIDC", "value"][..],
            ),
            (
                "STS answers garbage",
                &token_ok,
                2,
                &["AssumeRoleWithWebIdentity"][..],
            ),
        ] {
            let mut c = case(bin, what, &[], code, words);
            c.args = with_base(bin, &["--role-to-assume", role]);
            cases.push(
                c.env(
                    "ACTIONS_ID_TOKEN_REQUEST_URL",
                    format!("{}/token?x=1", token.uri()),
                )
                .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "request-token-bad-input")
                .env("AWS_ENDPOINT_URL_STS", sts_garbage.uri()),
            );
        }
    }
    cases.push(
        case(
            "semver-release",
            "GitHub API answers garbage",
            &[
                "--create-tag",
                "--github-release",
                "--repository",
                "org/app",
            ],
            2,
            &["GitHub"],
        )
        .env("GITHUB_API_URL", github_garbage.uri())
        .env("GITHUB_TOKEN", "ghs_badinputtoken123456"),
    );
    check(&dir, &cases);
}

/// Issue 16: a report that measured nothing, or a payload that says nothing, is never a
/// pass. Reports of nothing are failed gates (exit 1) saying so; contradictory or
/// non-numeric values and field-less payloads are bad input (exit 2).
#[test]
fn garbage_is_never_a_pass() {
    let repo = repo();
    let dir = repo.path();
    let r = |name: &str, body: &[u8]| write(&dir, &format!("reports/{name}"), body);
    let ev = |name: &str, body: &[u8]| write(&dir, &format!("events/{name}.json"), body);
    let g = |what, args: &[&str], code, words: &[&'static str]| {
        case("gate-check", what, args, code, words).quick()
    };
    let lcov = r(
        "zero.lcov",
        b"TN:\nSF:app/__init__.py\nLF:0\nLH:0\nend_of_record\n",
    );
    let covpy = r(
        "zero-coverage.json",
        br#"{"totals":{"covered_lines":0,"num_statements":0,"percent_covered":100.0,"percent_statements_covered":100.0}}"#,
    );
    let cobertura = r(
        "contradicting.xml",
        br#"<coverage line-rate="1" lines-valid="100" lines-covered="10"/>"#,
    );
    let no_runs = r("no-runs.sarif", br#"{"version":"2.1.0","runs":[]}"#);
    let no_results = r(
        "no-results.sarif",
        br#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"Bandit"}}}]}"#,
    );
    let clean = r(
        "clean.sarif",
        br#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"Bandit"}},"results":[]}]}"#,
    );
    let nan = r(
        "nan.sarif",
        br#"{"version":"2.1.0","runs":[{"results":[{"ruleId":"R","properties":{"security-severity":"NaN"}}]}]}"#,
    );
    let junit = r(
        "zero-tests.xml",
        br#"<testsuites><testsuite name="pytest" tests="0" failures="0"/></testsuites>"#,
    );
    let k6 = r(
        "k6-zero.json",
        br#"{"metrics":{"http_reqs":{"count":0},"http_req_failed":{"rate":0},"http_req_duration":{"avg":0}}}"#,
    );
    let locust = r(
        "locust-zero_stats.csv",
        b"Type,Name,Request Count,Failure Count,Average Response Time\n,Aggregated,0,0,0\n",
    );
    let mut cases = vec![
        g(
            "LCOV LF:0 LH:0",
            &["--coverage", &lcov, "--min-coverage", "80"],
            1,
            &["measured no lines"],
        ),
        g(
            "coverage.py 0 statements",
            &["--coverage", &covpy, "--min-coverage", "80"],
            1,
            &["measured no lines"],
        ),
        g(
            "Cobertura line-rate contradicts counts",
            &["--coverage", &cobertura, "--min-coverage", "80"],
            2,
            &["contradicting.xml", "line-rate=\"1\" contradicts"],
        ),
        g(
            "SARIF with zero runs",
            &["--sarif", &no_runs],
            1,
            &["no runs"],
        ),
        g(
            "SARIF run without results",
            &["--sarif", &no_results],
            1,
            &["Bandit", "no `results` array"],
        ),
        g(
            "SARIF clean scan (control)",
            &["--sarif", &clean],
            0,
            &["security"],
        ),
        g(
            "SARIF security-severity NaN",
            &["--sarif", &nan],
            2,
            &["nan.sarif", "not a score from 0.0 to 10.0"],
        ),
        g(
            "JUnit with 0 tests, --min-tests 0",
            &["--junit", &junit, "--min-tests", "0"],
            1,
            &["no tests"],
        ),
        g(
            "k6 with 0 requests",
            &["--k6", &k6, "--min-success-rate", "0"],
            1,
            &["no requests"],
        ),
        g(
            "Locust with 0 requests",
            &["--locust", &locust, "--min-success-rate", "0"],
            1,
            &["no requests"],
        ),
    ];
    let empty = ev("empty-push", b"{}");
    let no_before = ev(
        "no-before",
        br#"{"ref":"refs/heads/main","after":"0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c"}"#,
    );
    let pr = ev(
        "pr-no-head-sha",
        br#"{"pull_request":{"base":{"ref":"main","sha":"9049f1265b7d61be4a8904a9a27120d2064dab3b"},"head":{"ref":"x"}}}"#,
    );
    for bin in ["detect-changes", "semver-release"] {
        for (what, name, path, words) in [
            (
                "push payload {}",
                "push",
                &empty,
                &["`push`", "empty-push.json", "no `ref`"][..],
            ),
            (
                "push without before",
                "push",
                &no_before,
                &["no-before.json", "no `before`"][..],
            ),
            (
                "pull request without head sha",
                "pull_request",
                &pr,
                &["pr-no-head-sha.json", "pull_request.head.sha"][..],
            ),
        ] {
            cases.push(
                case(bin, what, &[], 2, words)
                    .quick()
                    .env("GITHUB_EVENT_NAME", name)
                    .env("GITHUB_EVENT_PATH", path),
            );
        }
        cases.push(
            case(
                bin,
                "push without a payload file",
                &[],
                2,
                &["`push`", "GITHUB_EVENT_PATH is not set"],
            )
            .quick()
            .env("GITHUB_EVENT_NAME", "push"),
        );
    }
    check(&dir, &cases);
}

/// Issue 16: values that parse but make no sense (zero or too-short durations, a poll
/// interval longer than the timeout, blank required values, duplicates in lists) exit 2
/// naming the flag, before anything reaches AWS.
#[test]
fn nonsense_values_exit_2_naming_the_flag() {
    let repo = repo();
    let dir = repo.path();
    let mut cases = Vec::new();
    let based: &[(&'static str, &[&str], &[&'static str])] = &[
        (
            "ecs-deploy",
            &["--poll-interval", "0"],
            &["--poll-interval", "at least 0.1s"],
        ),
        (
            "ecs-deploy",
            &["--poll-interval", "0.01s"],
            &["--poll-interval", "at least 0.1s"],
        ),
        (
            "ecs-deploy",
            &["--poll-interval", "10m", "--timeout", "5m"],
            &["--poll-interval (600 s) is longer than --timeout (300 s)"],
        ),
        ("ecs-deploy", &["--timeout", "0"], &["--timeout", "is zero"]),
        (
            "ecs-deploy",
            &["--timeout", "soon"],
            &["--timeout", "or `auto`"],
        ),
        (
            "ecs-deploy",
            &["--on-timeout", "forever"],
            &["on-timeout", "rollback, stop, leave"],
        ),
        (
            "ecs-deploy",
            &["--watch"],
            &["--watch", "cannot be used with"],
        ),
        (
            "ecs-deploy",
            &["--max-task-failures", "0"],
            &["max-task-failures"],
        ),
        ("ecs-deploy", &["--desired-count=-1"], &["desired-count"]),
        (
            "run-migration",
            &["--poll-interval", "0"],
            &["--poll-interval", "at least 0.1s"],
        ),
        (
            "run-migration",
            &["--timeout", "0s"],
            &["--timeout", "is zero"],
        ),
        (
            "run-migration",
            &["--poll-interval", "5m", "--timeout", "1m"],
            &["longer than --timeout"],
        ),
        ("run-migration", &["--image", ""], &["--image is empty"]),
        (
            "run-migration",
            &["--container", " "],
            &["--container is empty"],
        ),
        (
            "run-migration",
            &["--client-token", "has spaces in it"],
            &["--client-token", "64"],
        ),
        (
            "rollback",
            &["--poll-interval", "0"],
            &["--poll-interval", "at least 0.1s"],
        ),
        ("rollback", &["--timeout", "0"], &["--timeout", "is zero"]),
        (
            "rollback",
            &["--health-deadline", "0"],
            &["--health-deadline", "is zero"],
        ),
        (
            "rollback",
            &["--poll-interval", "20m"],
            &["longer than --timeout"],
        ),
        ("rollback", &["--to-revision", "0"], &["to-revision", "0"]),
        (
            "rollback",
            &["--to-task-definition", ""],
            &["--to-task-definition is empty"],
        ),
        ("rollback", &["--to-sha", " "], &["--to-sha is empty"]),
        (
            "rollback",
            &[
                "--health-url",
                "http://a.example/health",
                "--health-url",
                "http://a.example/health",
            ],
            &["--health-url names", "twice"],
        ),
        (
            "gate-check",
            &["--junit", "junit.xml"],
            &["--junit names `junit.xml` twice"],
        ),
        (
            "gate-check",
            &[
                "--health-url",
                "http://a.example/",
                "--health-url",
                "http://a.example/",
            ],
            &["--health-url names", "twice"],
        ),
        (
            "gate-check",
            &[
                "--health-url",
                "http://a.example/",
                "--health-timeout-seconds",
                "0",
            ],
            &["--health-timeout-seconds must be at least 1"],
        ),
        ("detect-changes", &["--base", ""], &["--base is empty"]),
        ("detect-changes", &["--head", " "], &["--head is empty"]),
        (
            "detect-changes",
            &["--last-deployed-sha", ""],
            &["--last-deployed-sha is empty"],
        ),
    ];
    for (bin, extra, words) in based {
        let mut c = case(bin, "nonsense value", &[], 2, words).quick();
        c.args = with_base(bin, extra);
        cases.push(c);
    }
    // Flags the base arguments already set, given alone.
    let alone: &[(&'static str, &[&str], &[&'static str])] = &[
        (
            "ecs-deploy",
            &["--cluster", "shop", "--service", "api", "--image", ""],
            &["--image is empty"],
        ),
        (
            "ecs-deploy",
            &["--cluster", "shop", "--service", "api", "--image", " , "],
            &["--image", "names no image"],
        ),
        (
            "ecs-deploy",
            &[
                "--cluster",
                "shop",
                "--service",
                "web,web",
                "--image",
                "repo/web:v2",
            ],
            &["--service names `web` twice"],
        ),
        (
            "ecs-deploy",
            &[
                "--cluster",
                "shop",
                "--service",
                "api",
                "--image",
                "api=repo/a:1,api=repo/a:2",
            ],
            &["--image names `api` twice"],
        ),
        (
            "ecs-deploy",
            &[
                "--cluster",
                "",
                "--service",
                "api",
                "--image",
                "repo/api:v2",
            ],
            &["--cluster is empty"],
        ),
        (
            "ecs-deploy",
            &[
                "--cluster",
                "shop",
                "--service",
                ",",
                "--image",
                "repo/api:v2",
            ],
            &["--service is empty"],
        ),
        (
            "run-migration",
            &["--cluster", "shop", "--service", "api", "--command", ""],
            &["--command is empty"],
        ),
        (
            "rollback",
            &["--cluster", "shop", "--service", ""],
            &["--service is empty"],
        ),
    ];
    for (bin, args, words) in alone {
        cases.push(case(bin, "nonsense value", args, 2, words).quick());
    }
    // A deployer.yml key and the ECS name it maps to are one service, deployed once.
    let two_names = write(
        &dir,
        "cfg/two-names.yml",
        b"services:\n  web:\n    paths: [\"web/**\"]\n    cluster: shop\n    service: storefront-web\n",
    );
    cases.push(
        case(
            "ecs-deploy",
            "a key and its ECS name",
            &[
                "--config",
                &two_names,
                "--service",
                "web,storefront-web",
                "--image",
                "repo/web:v2",
            ],
            2,
            &["`web` and `storefront-web` are the same ECS service shop/storefront-web"],
        )
        .quick(),
    );
    // The same through the env variables an action.yml passes inputs with.
    let mut c = case(
        "ecs-deploy",
        "DEPLOYER_POLL_INTERVAL=0",
        &[],
        2,
        &["poll-interval"],
    )
    .quick();
    c.args = with_base("ecs-deploy", &[]);
    cases.push(c.env("DEPLOYER_POLL_INTERVAL", "0"));
    let mut c = case(
        "ecs-deploy",
        "DEPLOYER_SERVICE=api,api",
        &[],
        2,
        &["--service names `api` twice"],
    )
    .quick();
    c.args = s(&["--cluster", "shop", "--image", "repo/api:v2"]);
    cases.push(c.env("DEPLOYER_SERVICE", "api,api"));
    check(&dir, &cases);
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}
