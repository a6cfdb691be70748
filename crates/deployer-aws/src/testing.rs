//! Test support shared by this crate's and the binaries' integration tests (ecs-sim setup).
//! Not part of the product's behaviour.

use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sdk_ecs::types as t;
use serde_json::{Value, json};

use crate::ecs::Ecs;
use crate::states::{HookStatus, ServiceDeploymentStatus};
use crate::{AwsContext, LoadOptions};

/// A context that talks to `endpoint` with dummy static credentials in us-east-1.
pub async fn context(endpoint: &str) -> AwsContext {
    AwsContext::load(LoadOptions {
        region: Some("us-east-1".into()),
        endpoint_url: Some(endpoint.to_string()),
        base_credentials: Some(Credentials::new("AKIDTEST", "secret", None, None, "test")),
        max_attempts: Some(10),
        ..Default::default()
    })
    .await
    .expect("test context")
}

/// A deploy of `container=image` to `cluster/service` as tests want it: the live task
/// definition, rollback on failure, a 60 s timeout and a 200 ms poll. Tests change what
/// they need with struct-update syntax.
pub fn deploy_request(cluster: &str, service: &str, image: &str) -> crate::deploy::DeployRequest {
    crate::deploy::DeployRequest {
        cluster: cluster.into(),
        service: service.into(),
        source: crate::deploy::Source::Live,
        images: crate::taskdef::parse_images(&format!("api={image}")).expect("images"),
        default_containers: vec![],
        env: vec![],
        tags: vec![],
        desired_count: None,
        force_new_deployment: false,
        on_failure: crate::deploy::OnFailure::Rollback,
        on_timeout: crate::deploy::OnFailure::Leave,
        watch: crate::wait::WatchOptions {
            judge: crate::wait::JudgeOptions {
                timeout: Duration::from_secs(60),
                ..Default::default()
            },
            poll_interval: Duration::from_millis(200),
            progress_every: Duration::from_secs(2),
            log_lines: 20,
            max_unreachable: Duration::from_secs(60),
            clock: crate::wait::Clock::real(),
            auto_timeout: false,
        },
        continue_deployment: false,
        watch_only: false,
    }
}

/// A Fargate task definition with one awslogs container `api`.
pub fn task_definition(family: &str, image: &str) -> Value {
    json!({
        "family": family,
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "256",
        "memory": "512",
        "containerDefinitions": [{
            "name": "api",
            "image": image,
            "essential": true,
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": format!("/ecs/{family}"), "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs"}}
        }]
    })
}

/// Creates the cluster (if needed) and a service, and waits for its first deployment.
/// Returns the service's task definition ARN.
pub async fn create_service(
    ecs: &Ecs,
    cluster: &str,
    name: &str,
    image: &str,
    desired: i32,
    bluegreen: bool,
    max_percent: i32,
) -> String {
    let _ = ecs
        .client
        .create_cluster()
        .cluster_name(cluster)
        .send()
        .await;
    let arn = ecs
        .register_task_definition(&task_definition(name, image))
        .await
        .expect("register");
    let mut dc = t::DeploymentConfiguration::builder()
        .deployment_circuit_breaker(
            t::DeploymentCircuitBreaker::builder()
                .enable(true)
                .rollback(true)
                .build(),
        )
        .maximum_percent(max_percent)
        .minimum_healthy_percent(100);
    if bluegreen {
        dc = dc
            .strategy(t::DeploymentStrategy::BlueGreen)
            .bake_time_in_minutes(0)
            .lifecycle_hooks(
                t::DeploymentLifecycleHook::builder()
                    .target_type(t::DeploymentLifecycleHookTargetType::Pause)
                    .lifecycle_stages(t::DeploymentLifecycleHookStage::PostTestTrafficShift)
                    .build(),
            );
    }
    ecs.client
        .create_service()
        .cluster(cluster)
        .service_name(name)
        .task_definition(&arn)
        .desired_count(desired)
        .launch_type(t::LaunchType::Fargate)
        .network_configuration(
            t::NetworkConfiguration::builder()
                .awsvpc_configuration(
                    t::AwsVpcConfiguration::builder()
                        .subnets("subnet-1")
                        .security_groups("sg-1")
                        .build()
                        .expect("vpc"),
                )
                .build(),
        )
        .deployment_configuration(dc.build())
        .send()
        .await
        .expect("create service");
    for _ in 0..300 {
        let s = ecs.describe_service(cluster, name).await.expect("describe");
        if s.running == desired && s.deployments.len() == 1 {
            let list = ecs
                .list_service_deployments(cluster, name, None)
                .await
                .unwrap_or_default();
            if list
                .first()
                .is_none_or(|d| d.status == ServiceDeploymentStatus::Successful)
            {
                return s.task_definition;
            }
        }
        // Blue/green: let the first deployment through its pause hook.
        if let Some(first) = ecs
            .list_service_deployments(cluster, name, None)
            .await
            .unwrap_or_default()
            .first()
            && let Ok(d) = ecs.describe_service_deployment(&first.arn).await
            && let Some(h) = d
                .hooks
                .iter()
                .find(|h| h.status == HookStatus::AwaitingAction)
        {
            let _ = ecs
                .continue_service_deployment(&first.arn, Some(&h.id), false)
                .await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("initial deployment of {name} never finished");
}

/// What a cancelled binary did: its exit code (None: killed by a signal) and everything it
/// printed (stdout then stderr).
#[derive(Debug)]
pub struct Cancelled {
    pub code: Option<i32>,
    pub text: String,
}

/// GitHub's cancellation of a step: SIGINT, then SIGTERM if the process has not exited
/// within 7500 ms, then the process tree is killed 2500 ms later
/// (<https://docs.github.com/en/actions/reference/workflow-cancellation-reference>).
/// A cancelled binary must be done within this after the first signal.
pub const GITHUB_CANCEL_GRACE: Duration = Duration::from_millis(7_500 + 2_500);

/// A binary run by a test, its stdout and stderr going to files in a directory.
pub struct Running {
    child: std::process::Child,
    out_path: std::path::PathBuf,
    err_path: std::path::PathBuf,
    first_signal: Option<std::time::Instant>,
}

impl Running {
    pub fn spawn(mut cmd: std::process::Command, dir: &std::path::Path) -> Running {
        let out_path = dir.join("stdout.txt");
        let err_path = dir.join("stderr.txt");
        let out = std::fs::File::create(&out_path).expect("stdout file");
        let err = std::fs::File::create(&err_path).expect("stderr file");
        let child = cmd.stdout(out).stderr(err).spawn().expect("spawn");
        Running {
            child,
            out_path,
            err_path,
            first_signal: None,
        }
    }

    /// Everything it printed so far (stdout then stderr).
    pub fn text(&self) -> String {
        std::fs::read_to_string(&self.out_path).unwrap_or_default()
            + &std::fs::read_to_string(&self.err_path).unwrap_or_default()
    }

    /// Returns once `ready` holds (checked every 20 ms), while the process still runs.
    /// Panics, naming `what`, if it exits first or `ready` does not hold within 60 s.
    pub fn wait_until(&mut self, what: &str, ready: impl Fn(&str) -> bool) {
        let started = std::time::Instant::now();
        loop {
            let text = self.text();
            if ready(&text) {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("exited ({status}) before {what}:\n{text}");
            }
            if started.elapsed() > Duration::from_secs(60) {
                let _ = self.child.kill();
                panic!("{what} never happened:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Returns once it printed `marker`.
    pub fn wait_for(&mut self, marker: &str) {
        self.wait_until(&format!("`{marker}`"), |t| t.contains(marker));
    }

    /// Whether it has not exited yet.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Sends `signal` ("INT", "TERM") to it.
    pub fn signal(&mut self, signal: &str) {
        self.first_signal
            .get_or_insert_with(std::time::Instant::now);
        let status = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits for it to exit; panics if it outlives [`GITHUB_CANCEL_GRACE`] after the first
    /// signal (GitHub would have killed it by then).
    pub fn finish(mut self) -> Cancelled {
        let since = self.first_signal.unwrap_or_else(std::time::Instant::now);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Cancelled {
                    code: status.code(),
                    text: self.text(),
                };
            }
            if since.elapsed() > GITHUB_CANCEL_GRACE {
                let _ = self.child.kill();
                panic!(
                    "still running {GITHUB_CANCEL_GRACE:?} after the first signal (GitHub \
                     kills it by then):\n{}",
                    self.text()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Runs `cmd` (stdout/stderr to files in `dir`), sends SIGTERM once its output contains
/// `marker`, and waits for it to exit (see [`Running::finish`]).
pub fn run_and_cancel(
    cmd: std::process::Command,
    dir: &std::path::Path,
    marker: &str,
) -> Cancelled {
    let mut run = Running::spawn(cmd, dir);
    run.wait_for(marker);
    run.signal("TERM");
    run.finish()
}

/// How a test cancels a run: as GitHub does (SIGINT, then SIGTERM if the step still runs),
/// or as other runners and `docker stop` do (SIGTERM).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelBy {
    Sigint,
    Sigterm,
    SigintThenSigterm,
}

impl CancelBy {
    pub const ALL: [CancelBy; 3] = [
        CancelBy::Sigint,
        CancelBy::Sigterm,
        CancelBy::SigintThenSigterm,
    ];

    /// The signal the run must say it was cancelled by: the first one it got.
    pub fn first(self) -> &'static str {
        match self {
            CancelBy::Sigterm => "SIGTERM",
            CancelBy::Sigint | CancelBy::SigintThenSigterm => "SIGINT",
        }
    }
}

/// Cancels `run` as `by` says. For [`CancelBy::SigintThenSigterm`], SIGTERM follows once
/// `taken` holds of the output (the run has taken SIGINT and is cleaning up), if the run is
/// still running then, as GitHub sends it only to a step that outlived SIGINT; GitHub waits
/// 7.5 s, the test only until `taken`, which makes the overlap likelier, never rarer.
/// Returns whether a SIGTERM reached the run mid-cleanup.
pub fn cancel(run: &mut Running, by: CancelBy, taken: impl Fn(&str) -> bool) -> bool {
    match by {
        CancelBy::Sigterm => {
            run.signal("TERM");
            false
        }
        CancelBy::Sigint => {
            run.signal("INT");
            false
        }
        CancelBy::SigintThenSigterm => {
            run.signal("INT");
            let since = std::time::Instant::now();
            while !taken(&run.text()) && run.is_running() && since.elapsed() < GITHUB_CANCEL_GRACE {
                std::thread::sleep(Duration::from_millis(20));
            }
            let running = run.is_running();
            if running {
                run.signal("TERM");
            }
            running
        }
    }
}
