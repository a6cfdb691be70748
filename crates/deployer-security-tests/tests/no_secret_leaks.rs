//! Every command, run as a real process the way a GitHub Actions step runs it, with OIDC
//! (a local token service whose JWT is a distinctive secret, and moto's STS returning
//! real temporary keys), a GitHub token and a Slack webhook URL in its environment:
//! none of those values, nor the AWS keys STS handed out, appears in stdout, stderr,
//! `$GITHUB_OUTPUT` or `$GITHUB_STEP_SUMMARY` except inside `::add-mask::` lines, and
//! each secret's `::add-mask::` line comes before any other line mentioning it. The
//! GitHub token and the webhook, known from the start, are masked before ecs-deploy,
//! rollback and semver-release print anything else.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use deployer_git::testing::TestRepo;
use ecs_sim::{Scenario, SimConfig};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, path_regex, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The OIDC JWT: header `{"alg":"RS256"}`, payload with a distinctive `jti`, fake signature.
const JWT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOm9yZy9hcHA6ZW52aXJvbm1lbnQ6c3RhZ2luZyIsImF1ZCI6InN0cy5hbWF6b25hd3MuY29tIiwianRpIjoiSnd0U2VjcmV0UXVva2thN1oifQ.SldUc2lnbmF0dXJlU2VjcmV0WHg5";
/// `ACTIONS_ID_TOKEN_REQUEST_TOKEN`, the runner's bearer for the token service.
const REQUEST_TOKEN: &str = "ReqTokenSecret_7d1e0c4b9a2f_Qq";
const GITHUB_TOKEN: &str = "ghs_GhTokenSecret0123456789abcdefZZ";
/// The secret part of the Slack webhook URL.
const HOOK_SECRET: &str = "HookSecret9x8y7w6v5u4t3s";
const ROLE: &str = "arn:aws:iam::123456789012:role/deployer-staging";

const SCENARIO: &str = r#"
default: {kind: healthy, start-after: 2}
images:
  "*/migrate:*": {kind: exits, start-after: 1, after: 2, exit-code: 0, logs: ["applying 0001_init", "done"]}
  "*/migrate-bad:*": {kind: exits, start-after: 1, after: 2, exit-code: 3, logs: ["ERROR: relation exists"]}
  "*:crash": {kind: crash-loop, start-after: 1, after: 2, exit-code: 3, logs: ["FATAL: boom"]}
"#;

/// Answers like the GitHub REST API for the calls deployer makes, and, like a hostile or
/// buggy server, echoes the caller's Authorization header in every error it returns.
/// `GithubStandIn(true)` refuses everything with 401, echoing the token.
struct GithubStandIn(bool);

impl Respond for GithubStandIn {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let auth = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        if self.0 {
            return ResponseTemplate::new(401)
                .set_body_json(json!({"message": format!("Bad credentials: {auth}")}));
        }
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let p = request.url.path().to_string();
        match request.method.as_str() {
            "POST" if p.ends_with("/git/refs") => ResponseTemplate::new(201).set_body_json(json!({
                "ref": body["ref"], "object": {"sha": body["sha"], "type": "commit"}
            })),
            "POST" if p.ends_with("/releases") => ResponseTemplate::new(201).set_body_json(json!({
                "id": 11, "tag_name": body["tag_name"], "html_url": "https://github.example/org/app/releases/11",
                "prerelease": body["prerelease"], "name": body["name"]
            })),
            "POST" if p.ends_with("/deployments") => ResponseTemplate::new(201).set_body_json(json!({
                "id": 21, "url": "https://github.example/deployments/21", "environment": body["environment"],
                "sha": body["ref"], "ref": body["ref"], "task": "deploy"
            })),
            "POST" if p.ends_with("/statuses") => ResponseTemplate::new(201).set_body_json(json!({
                "id": 31, "state": body["state"]
            })),
            _ => ResponseTemplate::new(404).set_body_json(json!({
                "message": format!("Not Found (request authorised with {auth})"),
                "documentation_url": "https://docs.github.com/rest"
            })),
        }
    }
}

struct Servers {
    token: MockServer,
    github: MockServer,
    slack: MockServer,
}

/// The stand-ins; `hostile` makes GitHub refuse with 401 and Slack fail with 500, both
/// echoing what they were sent (token, webhook path) in their answers.
async fn servers(hostile: bool) -> Servers {
    let token = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/token"))
        .and(query_param("audience", "sts.amazonaws.com"))
        .and(header(
            "authorization",
            format!("bearer {REQUEST_TOKEN}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"count": 1, "value": JWT})))
        .mount(&token)
        .await;
    let github = MockServer::start().await;
    Mock::given(path_regex(".*"))
        .respond_with(GithubStandIn(hostile))
        .mount(&github)
        .await;
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/services/T0SEC/B0SEC/{HOOK_SECRET}")))
        .respond_with(if hostile {
            ResponseTemplate::new(500).set_body_string(format!(
                "invalid_token for /services/T0SEC/B0SEC/{HOOK_SECRET}"
            ))
        } else {
            ResponseTemplate::new(200).set_body_string("ok")
        })
        .mount(&slack)
        .await;
    Servers {
        token,
        github,
        slack,
    }
}

struct Run {
    command: &'static str,
    code: Option<i32>,
    stdout: String,
    stderr: String,
    outputs: String,
    summary: String,
}

impl Run {
    fn all(&self) -> String {
        format!(
            "--- stdout\n{}\n--- stderr\n{}\n--- outputs\n{}\n--- summary\n{}",
            self.stdout, self.stderr, self.outputs, self.summary
        )
    }

    /// The values this run announced with `::add-mask::` (unescaped), in order.
    fn masks(&self) -> Vec<String> {
        self.stdout
            .lines()
            .filter_map(|l| l.strip_prefix("::add-mask::"))
            .map(|v| {
                v.replace("%0A", "\n")
                    .replace("%0D", "\r")
                    .replace("%25", "%")
            })
            .collect()
    }
}

struct Bed {
    dir: tempfile::TempDir,
    repo: TestRepo,
    moto: String,
    sim: String,
    servers: Servers,
}

impl Bed {
    fn run(&self, command: &'static str, args: &[&str], env: &[(&str, &str)]) -> Run {
        let binary: PathBuf = deployer_testbed::workspace_binary(command)
            .unwrap_or_else(|| panic!("the {command} binary is required"));
        let work = self.dir.path().join(command);
        std::fs::create_dir_all(&work).expect("mkdir");
        let outputs = work.join("output");
        let summary = work.join("summary.md");
        let event = work.join("event.json");
        std::fs::write(
            &event,
            json!({"ref": "refs/heads/main", "before": "0".repeat(40), "after": self.repo.head().to_string(),
                   "repository": {"full_name": "org/app", "default_branch": "main"}})
                .to_string(),
        )
        .expect("event");
        let mut cmd = Command::new(binary);
        cmd.current_dir(self.repo.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &work)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GITHUB_ACTIONS", "true")
            .env("CI", "true")
            .env("GITHUB_OUTPUT", &outputs)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("GITHUB_EVENT_NAME", "push")
            .env("GITHUB_EVENT_PATH", &event)
            .env("GITHUB_REPOSITORY", "org/app")
            .env("GITHUB_RUN_ID", "4242")
            .env("GITHUB_SHA", self.repo.head().to_string())
            .env("GITHUB_SERVER_URL", "https://github.example")
            .env("GITHUB_API_URL", self.servers.github.uri())
            .env("GITHUB_TOKEN", GITHUB_TOKEN)
            .env(
                "ACTIONS_ID_TOKEN_REQUEST_URL",
                format!("{}/token?api-version=2.0", self.servers.token.uri()),
            )
            .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN)
            .env("DEPLOYER_SLACK_WEBHOOK_URL", self.webhook())
            .env("DEPLOYER_ROLE_TO_ASSUME", ROLE)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ENDPOINT_URL_STS", &self.moto)
            .env("AWS_ENDPOINT_URL_ECS", &self.sim)
            .env("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", &self.sim)
            .env("AWS_ENDPOINT_URL_CLOUDFORMATION", &self.moto)
            .env("AWS_MAX_ATTEMPTS", "3")
            .env("RUST_BACKTRACE", "0")
            .args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("run");
        Run {
            command,
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            outputs: std::fs::read_to_string(&outputs).unwrap_or_default(),
            summary: std::fs::read_to_string(&summary).unwrap_or_default(),
        }
    }

    fn webhook(&self) -> String {
        format!(
            "{}/services/T0SEC/B0SEC/{HOOK_SECRET}",
            self.servers.slack.uri()
        )
    }
}

/// Every `ASIA…`/`AKIA…` access key id (20 upper-case alphanumerics) in `text`.
fn access_key_ids(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 20 <= b.len() {
        let w = &b[i..i + 20];
        if (w.starts_with(b"ASIA") || w.starts_with(b"AKIA"))
            && w.iter()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            out.push(String::from_utf8_lossy(w).into_owned());
            i += 20;
        } else {
            i += 1;
        }
    }
    out
}

/// Checks one run against every known secret; returns the problems found.
fn leaks(run: &Run, secrets: &BTreeSet<String>) -> Vec<String> {
    let mut problems = Vec::new();
    let name = run.command;
    for secret in secrets {
        for (where_, text) in [
            ("stderr", &run.stderr),
            ("$GITHUB_OUTPUT", &run.outputs),
            ("$GITHUB_STEP_SUMMARY", &run.summary),
        ] {
            if let Some(line) = text.lines().find(|l| l.contains(secret.as_str())) {
                problems.push(format!("{name}: {where_} shows a secret: {line}"));
            }
        }
        let mut masked = false;
        for line in run.stdout.lines() {
            if !line.contains(secret.as_str()) {
                continue;
            }
            // A mask of a value containing the secret (the webhook URL) hides it too.
            if line
                .strip_prefix("::add-mask::")
                .is_some_and(|m| m.contains(secret.as_str()))
            {
                masked = true;
            } else if masked {
                problems.push(format!("{name}: stdout shows a masked secret: {line}"));
            } else {
                problems.push(format!(
                    "{name}: stdout shows a secret before (or without) its ::add-mask::: {line}"
                ));
            }
        }
    }
    // Keys nobody announced: an STS answer printed before being masked would show here.
    let announced: BTreeSet<String> = run.masks().into_iter().collect();
    for text in [&run.stdout, &run.stderr, &run.outputs, &run.summary] {
        for key in access_key_ids(text) {
            if !announced.contains(&key) {
                problems.push(format!("{name}: unannounced AWS access key id {key}"));
            }
        }
    }
    problems
}

/// The `::add-mask::` lines for the secrets known from the start precede every line of
/// stdout from the first one `could_print` selects (`None`: every other line).
fn masked_first(run: &Run, upfront: &[&str]) -> Vec<String> {
    let mut problems = Vec::new();
    let first_other = run
        .stdout
        .lines()
        .position(|l| !l.starts_with("::add-mask::"))
        .unwrap_or(usize::MAX);
    for secret in upfront {
        match run
            .stdout
            .lines()
            .position(|l| l.strip_prefix("::add-mask::") == Some(secret))
        {
            Some(at) if at < first_other => {}
            Some(at) => problems.push(format!(
                "{}: ::add-mask:: of {secret:.8}… is line {at}, after other output (line {first_other})",
                run.command
            )),
            None => problems.push(format!("{}: {secret:.8}… was never masked", run.command)),
        }
    }
    problems
}

fn setup_repo() -> TestRepo {
    let mut repo = TestRepo::new();
    repo.write(
        ".github/deployer.yml",
        &format!(
            "services:\n  api:\n    paths: [\"services/api/**\"]\n    cluster: shop\n    service: api\n    containers: [api]\n\
             environments:\n  staging:\n    role: {ROLE}\n    region: us-east-1\n    gates:\n      \
             - ecs-service: {{ cluster: shop, service: api, image: \"repo/api:v1\", container: api }}\n  \
             staging-wrong-image:\n    role: {ROLE}\n    region: us-east-1\n    gates:\n      \
             - ecs-service: {{ cluster: shop, service: api, image: \"repo/api:v9\", container: api }}\n"
        ),
    );
    repo.write("services/api/main.py", "print('v1')\n");
    repo.commit("feat(api): first version");
    repo.tag("v0.1.0");
    repo.write("services/api/main.py", "print('v2')\n");
    repo.commit("fix(api): second version");
    repo
}

/// Which way the commands are run: everything working, or every failure path at once.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Working,
    Failing,
}

fn check_all(mode: Mode) {
    let Some(moto) = deployer_testbed::moto_endpoint() else {
        return;
    };
    let failing = mode == Mode::Failing;
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let servers = rt.block_on(servers(failing));
    let sim = ecs_sim::spawn(SimConfig {
        scenario: Scenario::from_yaml(SCENARIO).expect("scenario"),
        time_scale: 20.0,
        seed: 9,
    })
    .expect("sim");
    rt.block_on(async {
        let ctx = deployer_aws::testing::context(&sim.endpoint()).await;
        let ecs = deployer_aws::ecs::Ecs::new(&ctx.config);
        deployer_aws::testing::create_service(&ecs, "shop", "api", "repo/api:v1", 2, false, 200)
            .await
    });
    let bed = Bed {
        dir: tempfile::tempdir().expect("dir"),
        repo: setup_repo(),
        moto,
        sim: sim.endpoint(),
        servers,
    };
    let head = bed.repo.head().to_string();
    let pick = |ok: &'static str, bad: &'static str| if failing { bad } else { ok };
    let waits = [
        ("DEPLOYER_GITHUB_DEPLOYMENTS", "true"),
        ("DEPLOYER_ENVIRONMENT", "staging"),
        ("DEPLOYER_POLL_INTERVAL", "0.2s"),
        ("DEPLOYER_TIMEOUT", "2m"),
    ];

    let runs = vec![
        bed.run(
            "detect-changes",
            &["--base", pick("v0.1.0", "no-such-ref"), "--head", &head],
            &[],
        ),
        bed.run(
            "semver-release",
            &[
                "--create-tag",
                "--github-release",
                "--repository",
                "org/app",
            ],
            &[],
        ),
        bed.run(
            "gate-check",
            &["--environment", pick("staging", "staging-wrong-image")],
            &[("DEPLOYER_CONFIG", ".github/deployer.yml")],
        ),
        bed.run(
            "ecs-deploy",
            &[
                "--cluster",
                "shop",
                "--service",
                "api",
                "--image",
                pick("api=repo/api:v2", "api=repo/api:crash"),
            ],
            &waits,
        ),
        bed.run(
            "run-migration",
            &[
                "--cluster",
                "shop",
                "--service",
                "api",
                "--image",
                pick("repo/migrate:v1", "repo/migrate-bad:v1"),
                "--container",
                "api",
                "--command",
                "alembic upgrade head",
            ],
            &waits[2..],
        ),
        // Failing: back to the crash-looping revision ecs-deploy registered, so the rollback
        // itself fails and notifies.
        bed.run(
            "rollback",
            &[
                "--cluster",
                "shop",
                "--service",
                "api",
                "--to-revision",
                pick("0", "2"),
            ][..if failing { 6 } else { 4 }],
            &waits,
        ),
    ];
    let expected_codes: &[(&str, i32)] = if failing {
        &[
            ("detect-changes", 2),
            ("semver-release", 2),
            ("gate-check", 1),
            ("ecs-deploy", 1),
            ("run-migration", 3),
            ("rollback", 1),
        ]
    } else {
        &[
            ("detect-changes", 0),
            ("semver-release", 0),
            ("gate-check", 0),
            ("ecs-deploy", 0),
            ("run-migration", 0),
            ("rollback", 0),
        ]
    };

    // The secrets: the four given ones, and every value any run masked (STS keys, ...).
    let mut secrets: BTreeSet<String> = [JWT, REQUEST_TOKEN, GITHUB_TOKEN, HOOK_SECRET]
        .into_iter()
        .map(String::from)
        .collect();
    for run in &runs {
        secrets.extend(run.masks().into_iter().filter(|m| m.len() >= 8));
    }
    let webhook = bed.webhook();
    // Checked through HOOK_SECRET, which it contains (a partial print must count too).
    secrets.remove(&webhook);

    let mut problems = Vec::new();
    for run in &runs {
        eprintln!("===== {} exited {:?}\n{}", run.command, run.code, run.all());
        assert_ne!(
            run.code,
            Some(101),
            "{} panicked:\n{}",
            run.command,
            run.all()
        );
        problems.extend(leaks(run, &secrets));
    }
    for (command, code) in expected_codes {
        let run = runs.iter().find(|r| r.command == *command).expect("run");
        if run.code != Some(*code) {
            problems.push(format!(
                "{command}: exited {:?}, expected {code} (the path under test did not run)",
                run.code
            ));
        }
    }

    // The AWS commands went through OIDC → STS (so the check above is not vacuous): each
    // masked the JWT, the request token and the three parts of the STS credentials.
    for run in runs
        .iter()
        .filter(|r| ["gate-check", "ecs-deploy", "run-migration", "rollback"].contains(&r.command))
    {
        let masks = run.masks();
        for needed in [JWT, REQUEST_TOKEN] {
            if !masks.iter().any(|m| m == needed) {
                problems.push(format!("{}: {needed:.8}… was never masked", run.command));
            }
        }
        if !masks
            .iter()
            .any(|m| m.len() == 20 && access_key_ids(m).len() == 1)
        {
            problems.push(format!(
                "{}: no STS access key id was masked (did OIDC → AssumeRoleWithWebIdentity run?)",
                run.command
            ));
        }
        if masks.len() < 5 {
            problems.push(format!(
                "{}: only {} masks, expected JWT, request token, key id, secret key, session token",
                run.command,
                masks.len()
            ));
        }
    }
    // Secrets known from the start are masked before the command prints anything.
    for run in &runs {
        match run.command {
            "ecs-deploy" | "rollback" => {
                problems.extend(masked_first(run, &[webhook.as_str(), GITHUB_TOKEN]))
            }
            "semver-release" => problems.extend(masked_first(run, &[GITHUB_TOKEN])),
            _ => {}
        }
    }

    // The notification and API paths really ran with the secrets.
    let slack_calls = rt
        .block_on(bed.servers.slack.received_requests())
        .unwrap_or_default()
        .len();
    assert!(slack_calls > 0, "no Slack notification was attempted");
    let github_posts = rt
        .block_on(bed.servers.github.received_requests())
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.method.as_str() == "POST")
        .count();
    assert!(github_posts > 0, "no GitHub API write was attempted");

    assert!(
        problems.is_empty(),
        "secret handling problems:\n{}",
        problems.join("\n")
    );
    drop(sim);
}

#[test]
fn working_commands_leak_no_secret_and_mask_each_first() {
    check_all(Mode::Working);
}

/// Failure paths print the most (errors, causes, server answers echoed back): the GitHub
/// stand-in refuses with 401 echoing the token, Slack fails with 500 echoing the webhook
/// path, the deploy crash-loops, the migration exits 3, the gate is not met.
#[test]
fn failing_commands_leak_no_secret_either() {
    check_all(Mode::Failing);
}

/// The checker itself: it must flag each way a secret can leak, or the tests above prove
/// nothing.
#[test]
fn the_checker_flags_every_kind_of_leak() {
    let run = |stdout: &str, stderr: &str, outputs: &str, summary: &str| Run {
        command: "x",
        code: Some(0),
        stdout: stdout.into(),
        stderr: stderr.into(),
        outputs: outputs.into(),
        summary: summary.into(),
    };
    let secrets: BTreeSet<String> = [GITHUB_TOKEN.to_string(), HOOK_SECRET.to_string()].into();
    let masked = format!("::add-mask::{GITHUB_TOKEN}\nhello\n");
    assert!(leaks(&run(&masked, "", "", ""), &secrets).is_empty());
    let url_mask = format!("::add-mask::http://h/services/T/B/{HOOK_SECRET}\n");
    assert!(leaks(&run(&url_mask, "", "", ""), &secrets).is_empty());

    let cases = [
        run(
            &format!("token {GITHUB_TOKEN}\n::add-mask::{GITHUB_TOKEN}\n"),
            "",
            "",
            "",
        ),
        run(&format!("{masked}again {GITHUB_TOKEN}\n"), "", "", ""),
        run(&masked, &format!("err {GITHUB_TOKEN}"), "", ""),
        run(&masked, "", &format!("url=https://h/{HOOK_SECRET}"), ""),
        run(&masked, "", "", &format!("| {HOOK_SECRET} |")),
        run(&masked, "key ASIAABCDEFGHIJKLMNOP used", "", ""),
    ];
    for (i, case) in cases.iter().enumerate() {
        assert!(!leaks(case, &secrets).is_empty(), "case {i} not flagged");
    }
    let late = run(&format!("first\n::add-mask::{GITHUB_TOKEN}\n"), "", "", "");
    assert!(!masked_first(&late, &[GITHUB_TOKEN]).is_empty());
    let early = run(
        &format!(
            "::add-mask::{GITHUB_TOKEN}
first
"
        ),
        "",
        "",
        "",
    );
    assert!(masked_first(&early, &[GITHUB_TOKEN]).is_empty());
    assert!(!masked_first(&run("", "", "", ""), &[GITHUB_TOKEN]).is_empty());
}
