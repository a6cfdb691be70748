//! Every command, run as a real process the way a GitHub Actions step runs it
//! (`GITHUB_ACTIONS=true`), with AWS credentials from each source the SDK reads —
//! environment keys with a session token, a profile file, the container-credentials
//! endpoint, and OIDC → AssumeRoleWithWebIdentity — against an AWS endpoint that echoes the
//! signed request (Authorization with its signature, X-Amz-Security-Token, the body) back
//! in a 500 answer, and against one that refuses connections. No credential value (access
//! key id, secret key, session token, container authorization token, OIDC tokens) and no
//! request signature appears in stdout, stderr, `$GITHUB_OUTPUT` or the job summary, except
//! in `::add-mask::` lines that come before any other line mentioning it; the credentials in
//! the environment are masked before the command prints anything else.
//!
//! Every stand-in is a loopback wiremock server: no moto or ecs-sim is needed, and the
//! credential values are known, so the check is exact.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use deployer_git::testing::TestRepo;
use serde_json::json;
use wiremock::matchers::{body_string_contains, header, method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const ENV_KEY: &str = "AKIAENVKEY0000000001";
const ENV_SECRET: &str = "EnvSecretKey/abcdefghijklmnopqrstuvwxyz01";
const ENV_TOKEN: &str = "EnvSessionToken+IQoJb3JpZ2luX2VjEnvTokenValue1234567890==";
const PROFILE_KEY: &str = "AKIAPROFILEKEY000002";
const PROFILE_SECRET: &str = "ProfileSecretKey/abcdefghijklmnopqrstuvwx02";
const PROFILE_TOKEN: &str = "ProfileSessionToken+FwoGZXIvProfileTokenValue0987654321==";
const CONTAINER_KEY: &str = "ASIACONTAINERKEY0003";
const CONTAINER_SECRET: &str = "ContainerSecretKey/abcdefghijklmnopqrstu03";
const CONTAINER_TOKEN: &str = "ContainerSessionToken+IQoJContainerTokenValue111222333==";
/// `AWS_CONTAINER_AUTHORIZATION_TOKEN`: the bearer for the container endpoint.
const CONTAINER_AUTH: &str = "ContainerAuthToken_5f4e3d2c1b0a_Zz";
const STS_KEY: &str = "ASIASTSWEBIDENTITY04";
const STS_SECRET: &str = "StsSecretKey/abcdefghijklmnopqrstuvwxyz0004";
const STS_TOKEN: &str = "StsSessionToken+IQoJStsWebIdentityTokenValue444555666==";
const JWT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOm9yZy9hcHAiLCJqdGkiOiJDcmVkU291cmNlc0p3dCJ9.Q3JlZFNvdXJjZXNTaWc";
const REQUEST_TOKEN: &str = "ReqTokenCredSources_0a1b2c3d4e5f_Qq";
const ROLE: &str = "arn:aws:iam::123456789012:role/deployer-staging";

/// Where the credentials come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Env,
    Profile,
    Container,
    Oidc,
}

impl Source {
    const ALL: [Source; 4] = [
        Source::Env,
        Source::Profile,
        Source::Container,
        Source::Oidc,
    ];

    /// The access key id, secret key and session token requests are signed with.
    fn credentials(self) -> [&'static str; 3] {
        match self {
            Source::Env => [ENV_KEY, ENV_SECRET, ENV_TOKEN],
            Source::Profile => [PROFILE_KEY, PROFILE_SECRET, PROFILE_TOKEN],
            Source::Container => [CONTAINER_KEY, CONTAINER_SECRET, CONTAINER_TOKEN],
            Source::Oidc => [STS_KEY, STS_SECRET, STS_TOKEN],
        }
    }

    fn signing_key(self) -> &'static str {
        self.credentials()[0]
    }
}

/// The AWS endpoint of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// Answers every call with HTTP 500 whose message is the request itself.
    Echo,
    /// A closed port: every connection is refused.
    Refused,
}

/// Answers like a buggy or hostile server: HTTP 500, the request's method, path, every
/// header (Authorization with its signature and X-Amz-Security-Token first) and the body
/// as the error message of an AWS JSON error.
struct Echo;

impl Respond for Echo {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut headers: Vec<(String, String)> = request
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        headers.sort_by_key(|(k, _)| !(k == "authorization" || k == "x-amz-security-token"));
        let mut text = format!("echo {} {} |", request.method, request.url);
        for (k, v) in headers {
            text.push_str(&format!(" {k}: {v} |"));
        }
        text.push_str(&format!(
            " body: {}",
            String::from_utf8_lossy(&request.body)
        ));
        ResponseTemplate::new(500)
            .insert_header("content-type", "application/x-amz-json-1.1")
            .insert_header("x-amzn-requestid", "echo-request-id-1")
            .set_body_json(json!({"__type": "ServerException", "message": text}))
    }
}

struct Servers {
    echo: MockServer,
    sts: MockServer,
    token: MockServer,
    container: MockServer,
    /// A port nothing listens on.
    refused: String,
}

async fn servers() -> Servers {
    let echo = MockServer::start().await;
    Mock::given(path_regex(".*"))
        .respond_with(Echo)
        .mount(&echo)
        .await;

    // STS: AssumeRoleWithWebIdentity hands out the STS keys; everything else (the signed
    // GetCallerIdentity) is echoed.
    let sts = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("Action=AssumeRoleWithWebIdentity"))
        .respond_with(ResponseTemplate::new(200).insert_header("content-type", "text/xml").set_body_string(format!(
            "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
             <AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>{STS_KEY}</AccessKeyId>\
             <SecretAccessKey>{STS_SECRET}</SecretAccessKey><SessionToken>{STS_TOKEN}</SessionToken>\
             <Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>\
             <AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/deployer-staging/s</Arn>\
             <AssumedRoleId>AROAEXAMPLE:s</AssumedRoleId></AssumedRoleUser>\
             <SubjectFromWebIdentityToken>repo:org/app</SubjectFromWebIdentityToken>\
             </AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>sts-1</RequestId>\
             </ResponseMetadata></AssumeRoleWithWebIdentityResponse>"
        )))
        .mount(&sts)
        .await;
    Mock::given(path_regex(".*"))
        .respond_with(Echo)
        .mount(&sts)
        .await;

    let token = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/token"))
        .and(header(
            "authorization",
            format!("bearer {REQUEST_TOKEN}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"count": 1, "value": JWT})))
        .mount(&token)
        .await;

    // The ECS/EKS container-credentials endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI).
    let container = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/creds"))
        .and(header("authorization", CONTAINER_AUTH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "AccessKeyId": CONTAINER_KEY,
            "SecretAccessKey": CONTAINER_SECRET,
            "Token": CONTAINER_TOKEN,
            "Expiration": "2099-01-01T00:00:00Z"
        })))
        .mount(&container)
        .await;

    let refused = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        drop(listener);
        format!("http://127.0.0.1:{port}")
    };
    Servers {
        echo,
        sts,
        token,
        container,
        refused,
    }
}

struct Run {
    label: String,
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
    servers: Servers,
}

impl Bed {
    fn run(&self, source: Source, target: Target, command: &'static str, args: &[&str]) -> Run {
        let binary: PathBuf = deployer_testbed::workspace_binary(command)
            .unwrap_or_else(|| panic!("the {command} binary is required"));
        let label = format!("{source:?}/{target:?}/{command}");
        let work = self.dir.path().join(label.replace('/', "-"));
        std::fs::create_dir_all(&work).expect("mkdir");
        let outputs = work.join("output");
        let summary = work.join("summary.md");
        let event = work.join("event.json");
        std::fs::write(
            &event,
            // A push as GitHub sends it: detect-changes and semver-release refuse one
            // without `before`/`after`.
            json!({"ref": "refs/heads/main", "before": "0".repeat(40), "after": self.repo.head().to_string(),
                   "repository": {"full_name": "org/app", "default_branch": "main"}})
                .to_string(),
        )
        .expect("event");
        let aws = match target {
            Target::Echo => self.servers.echo.uri(),
            Target::Refused => self.servers.refused.clone(),
        };
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
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ENDPOINT_URL_ECS", &aws)
            .env("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", &aws)
            .env("AWS_ENDPOINT_URL_CLOUDFORMATION", &aws)
            .env("AWS_ENDPOINT_URL_STS", self.servers.sts.uri())
            // No instance metadata lookups on a test machine.
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_MAX_ATTEMPTS", "2")
            .env("RUST_BACKTRACE", "0")
            .args(args);
        match source {
            Source::Env => {
                cmd.env("AWS_ACCESS_KEY_ID", ENV_KEY)
                    .env("AWS_SECRET_ACCESS_KEY", ENV_SECRET)
                    .env("AWS_SESSION_TOKEN", ENV_TOKEN);
            }
            Source::Profile => {
                let credentials = work.join("credentials");
                let config = work.join("config");
                std::fs::write(
                    &credentials,
                    format!(
                        "[leaky]\naws_access_key_id = {PROFILE_KEY}\naws_secret_access_key = {PROFILE_SECRET}\n\
                         aws_session_token = {PROFILE_TOKEN}\n"
                    ),
                )
                .expect("credentials file");
                std::fs::write(&config, "[profile leaky]\nregion = us-east-1\n")
                    .expect("config file");
                cmd.env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
                    .env("AWS_CONFIG_FILE", &config)
                    .env("AWS_PROFILE", "leaky");
            }
            Source::Container => {
                cmd.env(
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                    format!("{}/creds", self.servers.container.uri()),
                )
                .env("AWS_CONTAINER_AUTHORIZATION_TOKEN", CONTAINER_AUTH);
            }
            Source::Oidc => {
                cmd.env(
                    "ACTIONS_ID_TOKEN_REQUEST_URL",
                    format!("{}/token?api-version=2.0", self.servers.token.uri()),
                )
                .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN)
                .env("DEPLOYER_ROLE_TO_ASSUME", ROLE);
            }
        }
        let out = cmd.output().expect("run");
        Run {
            label,
            command,
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            outputs: std::fs::read_to_string(&outputs).unwrap_or_default(),
            summary: std::fs::read_to_string(&summary).unwrap_or_default(),
        }
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

/// Each problem with `run`: a secret outside an `::add-mask::` line that came before it.
fn leaks(run: &Run, secrets: &BTreeSet<String>) -> Vec<String> {
    let mut problems = Vec::new();
    let name = &run.label;
    for secret in secrets {
        for (where_, text) in [
            ("stderr", &run.stderr),
            ("$GITHUB_OUTPUT", &run.outputs),
            ("$GITHUB_STEP_SUMMARY", &run.summary),
        ] {
            if let Some(line) = text.lines().find(|l| l.contains(secret.as_str())) {
                problems.push(format!("{name}: {where_} shows {secret:.12}…: {line}"));
            }
        }
        let mut masked = false;
        for line in run.stdout.lines() {
            if !line.contains(secret.as_str()) {
                continue;
            }
            if line.strip_prefix("::add-mask::") == Some(secret.as_str()) {
                masked = true;
            } else if masked {
                problems.push(format!("{name}: stdout shows masked {secret:.12}…: {line}"));
            } else {
                problems.push(format!(
                    "{name}: stdout shows {secret:.12}… before (or without) its ::add-mask::: {line}"
                ));
            }
        }
    }
    let announced: BTreeSet<String> = run.masks().into_iter().collect();
    for text in [&run.stdout, &run.stderr, &run.outputs, &run.summary] {
        for key in access_key_ids(text) {
            if !announced.contains(&key) {
                problems.push(format!("{name}: unannounced access key id {key}"));
            }
        }
    }
    problems
}

/// The `::add-mask::` lines of `upfront` come before every other line of stdout.
fn masked_first(run: &Run, upfront: &[&str]) -> Vec<String> {
    let first_other = run
        .stdout
        .lines()
        .position(|l| !l.starts_with("::add-mask::"))
        .unwrap_or(usize::MAX);
    let mut problems = Vec::new();
    for secret in upfront {
        match run
            .stdout
            .lines()
            .position(|l| l.strip_prefix("::add-mask::") == Some(secret))
        {
            Some(at) if at < first_other => {}
            Some(at) => problems.push(format!(
                "{}: ::add-mask:: of {secret:.12}… is line {at}, after other output (line {first_other})",
                run.label
            )),
            None => problems.push(format!("{}: {secret:.12}… was never masked", run.label)),
        }
    }
    problems
}

/// `Signature=<hex>` values and `X-Amz-Security-Token` headers of the requests a stand-in
/// received: made per request, never registered anywhere, so they must never show.
fn request_secrets(requests: &[Request]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for r in requests {
        if let Some(auth) = r.headers.get("authorization").and_then(|v| v.to_str().ok())
            && let Some((_, sig)) = auth.split_once("Signature=")
        {
            out.insert(sig.trim().to_string());
        }
        if let Some(token) = r
            .headers
            .get("x-amz-security-token")
            .and_then(|v| v.to_str().ok())
        {
            out.insert(token.to_string());
        }
    }
    out
}

fn setup_repo() -> TestRepo {
    let mut repo = TestRepo::new();
    repo.write(
        ".github/deployer.yml",
        "services:\n  api:\n    paths: [\"services/api/**\"]\n    cluster: shop\n    service: api\n    containers: [api]\n\
         environments:\n  staging:\n    region: us-east-1\n    gates:\n      \
         - ecs-service: { cluster: shop, service: api, image: \"repo/api:v1\", container: api }\n",
    );
    repo.write("services/api/main.py", "print('v1')\n");
    repo.commit("feat(api): first version");
    repo.tag("v0.1.0");
    repo.write("services/api/main.py", "print('v2')\n");
    repo.commit("fix(api): second version");
    repo
}

/// The six commands for one source and target, with the exit code each must reach (so the
/// path under test really ran).
fn runs(bed: &Bed, source: Source, target: Target) -> Vec<(Run, i32)> {
    let head = bed.repo.head().to_string();
    let aws_fails = match target {
        Target::Echo => 1,
        Target::Refused => 2,
    };
    let service = ["--cluster", "shop", "--service", "api"];
    let with = |extra: &[&'static str]| -> Vec<&str> {
        service
            .iter()
            .copied()
            .chain(extra.iter().copied())
            .collect()
    };
    vec![
        (
            bed.run(
                source,
                target,
                "detect-changes",
                &["--base", "v0.1.0", "--head", &head],
            ),
            0,
        ),
        (bed.run(source, target, "semver-release", &[]), 0),
        (
            bed.run(
                source,
                target,
                "gate-check",
                &[
                    "--environment",
                    "staging",
                    "--config",
                    ".github/deployer.yml",
                ],
            ),
            // The ecs-service gate reads ECS: an endpoint that refuses connections is bad
            // configuration (exit 2), an answer that is an error is a failed gate (exit 1).
            aws_fails,
        ),
        (
            bed.run(
                source,
                target,
                "ecs-deploy",
                &with(&["--image", "api=repo/api:v2"]),
            ),
            aws_fails,
        ),
        (
            bed.run(
                source,
                target,
                "run-migration",
                &with(&[
                    "--image",
                    "repo/migrate:v1",
                    "--container",
                    "api",
                    "--command",
                    "alembic upgrade head",
                ]),
            ),
            aws_fails,
        ),
        (bed.run(source, target, "rollback", &with(&[])), aws_fails),
    ]
}

fn every_source_against(target: Target) {
    if deployer_testbed::workspace_binary("ecs-deploy").is_none() {
        return;
    }
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let bed = Bed {
        dir: tempfile::tempdir().expect("dir"),
        repo: setup_repo(),
        servers: rt.block_on(servers()),
    };
    let mut problems = Vec::new();
    let mut all_runs = Vec::new();
    for source in Source::ALL {
        for (run, expected) in runs(&bed, source, target) {
            eprintln!("===== {} exited {:?}\n{}", run.label, run.code, run.all());
            assert_ne!(
                run.code,
                Some(101),
                "{} panicked:\n{}",
                run.label,
                run.all()
            );
            if run.code != Some(expected) {
                problems.push(format!(
                    "{}: exited {:?}, expected {expected} (the path under test did not run)",
                    run.label, run.code
                ));
            }
            all_runs.push((source, run));
        }
    }

    let mut secrets: BTreeSet<String> = [
        ENV_KEY,
        ENV_SECRET,
        ENV_TOKEN,
        PROFILE_KEY,
        PROFILE_SECRET,
        PROFILE_TOKEN,
        CONTAINER_KEY,
        CONTAINER_SECRET,
        CONTAINER_TOKEN,
        CONTAINER_AUTH,
        STS_KEY,
        STS_SECRET,
        STS_TOKEN,
        JWT,
        REQUEST_TOKEN,
    ]
    .into_iter()
    .map(String::from)
    .collect();
    let echoed = rt
        .block_on(bed.servers.echo.received_requests())
        .unwrap_or_default();
    let sts_seen = rt
        .block_on(bed.servers.sts.received_requests())
        .unwrap_or_default();
    let per_request = request_secrets(&echoed)
        .into_iter()
        .chain(request_secrets(&sts_seen))
        .collect::<BTreeSet<_>>();
    secrets.extend(per_request.iter().cloned());

    for (source, run) in &all_runs {
        problems.extend(leaks(run, &secrets));
        // Credentials in the environment are masked before anything else is printed.
        let upfront: &[&str] = match source {
            Source::Env => &[ENV_KEY, ENV_SECRET, ENV_TOKEN],
            Source::Container => &[CONTAINER_AUTH],
            Source::Oidc => &[REQUEST_TOKEN],
            Source::Profile => &[],
        };
        problems.extend(masked_first(run, upfront));
        // Resolved credentials are masked by every command that resolved them.
        let aws_command =
            ["ecs-deploy", "run-migration", "rollback", "gate-check"].contains(&run.command);
        if aws_command {
            let masks = run.masks();
            for value in source.credentials() {
                if !masks.iter().any(|m| m == value) {
                    problems.push(format!(
                        "{}: {value:.12}… ({source:?} credentials) was never masked",
                        run.label
                    ));
                }
            }
        }
    }

    // Not vacuous: requests signed with each source's keys reached the stand-ins, with a
    // signature and a session token to leak.
    let signed = echoed.iter().chain(sts_seen.iter()).filter_map(|r| {
        r.headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    });
    let signed: Vec<String> = signed.collect();
    // (When ECS refuses connections, nothing signed need reach a stand-in: the masks
    // checked above show the credentials were resolved.)
    if target == Target::Echo {
        for source in Source::ALL {
            if !signed.iter().any(|a| a.contains(source.signing_key())) {
                problems.push(format!(
                    "no request signed with the {source:?} credentials reached a stand-in"
                ));
            }
        }
        assert!(
            per_request.len() >= 8,
            "expected signatures and session tokens from the echoed requests, got {}",
            per_request.len()
        );
        let echoed_ecs = echoed
            .iter()
            .filter(|r| r.headers.get("x-amz-security-token").is_some())
            .count();
        assert!(
            echoed_ecs > 0,
            "no ECS request with a session token was echoed"
        );
    }
    assert!(
        problems.is_empty(),
        "credential handling problems:\n{}",
        problems.join("\n")
    );
}

#[test]
fn no_credential_from_any_source_leaks_through_an_echoing_endpoint() {
    every_source_against(Target::Echo);
}

#[test]
fn no_credential_from_any_source_leaks_when_the_endpoint_refuses_connections() {
    every_source_against(Target::Refused);
}

/// The checker flags each way a credential can leak, or the tests above prove nothing.
#[test]
fn the_checker_flags_every_kind_of_leak() {
    let run = |stdout: &str, stderr: &str, outputs: &str, summary: &str| Run {
        label: "x".into(),
        command: "x",
        code: Some(0),
        stdout: stdout.into(),
        stderr: stderr.into(),
        outputs: outputs.into(),
        summary: summary.into(),
    };
    let secrets: BTreeSet<String> = [ENV_SECRET.to_string(), ENV_TOKEN.to_string()].into();
    let masked = format!("::add-mask::{ENV_SECRET}\n::add-mask::{ENV_TOKEN}\nhello\n");
    assert!(leaks(&run(&masked, "", "", ""), &secrets).is_empty());
    let cases = [
        run(
            &format!("x {ENV_SECRET}\n::add-mask::{ENV_SECRET}\n"),
            "",
            "",
            "",
        ),
        run(&format!("{masked}::error::{ENV_TOKEN}\n"), "", "", ""),
        run(&masked, &format!("err {ENV_TOKEN}"), "", ""),
        run(&masked, "", &format!("results={ENV_SECRET}"), ""),
        run(&masked, "", "", &format!("| {ENV_TOKEN} |")),
        run(&masked, "Credential=AKIAUNANNOUNCED000001/2026", "", ""),
    ];
    for (i, case) in cases.iter().enumerate() {
        assert!(!leaks(case, &secrets).is_empty(), "case {i} not flagged");
    }
    let late = run(&format!("first\n::add-mask::{ENV_SECRET}\n"), "", "", "");
    assert!(!masked_first(&late, &[ENV_SECRET]).is_empty());
    assert!(masked_first(&run(&masked, "", "", ""), &[ENV_SECRET, ENV_TOKEN]).is_empty());
    let requests_signature =
        "AWS4-HMAC-SHA256 Credential=AKIA/x, SignedHeaders=host, Signature=abc123";
    assert_eq!(
        requests_signature.split_once("Signature=").map(|(_, s)| s),
        Some("abc123")
    );
}
