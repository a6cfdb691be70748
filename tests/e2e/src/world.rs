//! One isolated world for workflow runs: an ecs-sim with the storefront's clusters and
//! services, the loopback stand-ins, a fresh consumer repository made from
//! examples/storefront with the starter workflows copied in unmodified, and a clean export
//! of this checkout that act uses as `org/deployer@v1`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use serde_json::{Value, json};

use crate::act::{self, ActConfig, ActRun, Trigger};
use crate::servers::StandIns;

/// The six binaries the actions install (DEPLOYER_PREBUILT_BIN_DIR must hold all of them).
pub const BINARIES: [&str; 6] = [
    "detect-changes",
    "semver-release",
    "ecs-deploy",
    "run-migration",
    "rollback",
    "gate-check",
];

/// Image registry of the storefront's deployer.yml.
pub const REGISTRY: &str = "111111111111.dkr.ecr.us-east-1.amazonaws.com";

/// The sim runs 3 simulated seconds per real second: rollouts take seconds, yet the
/// binaries' 5 s poll still spans only 15 simulated seconds, so verdicts are AWS's.
pub const TIME_SCALE: f64 = 3.0;

/// Where the programs a world needs are.
#[derive(Debug, Clone)]
pub struct Tools {
    /// This checkout.
    pub root: PathBuf,
    pub act: PathBuf,
    /// The shared moto server (STS) from `scripts/testbed start`.
    pub moto: String,
    /// Directory with the six deployer binaries.
    pub bin_dir: PathBuf,
}

impl Tools {
    /// For integration tests: `None` (after a loud note) when the test bed is missing,
    /// a panic when DEPLOYER_TESTBED_REQUIRED=1.
    pub fn for_tests() -> Option<Tools> {
        let moto = deployer_testbed::moto_endpoint()?;
        let act = deployer_testbed::venv_tool("act")?;
        let mut bin_dir = None;
        for name in BINARIES {
            let path = deployer_testbed::workspace_binary(name)?;
            bin_dir = path.parent().map(Path::to_path_buf);
        }
        Some(Tools {
            root: deployer_testbed::workspace_root(),
            act,
            moto,
            bin_dir: bin_dir?,
        })
    }

    /// For the demo binary: the deployer binaries next to this executable.
    pub fn beside_executable(root: PathBuf, act: PathBuf, moto: String) -> Result<Tools> {
        let exe = std::env::current_exe().context("find this executable")?;
        let bin_dir = exe
            .parent()
            .context("this executable has no directory")?
            .to_path_buf();
        for name in BINARIES {
            ensure!(
                bin_dir.join(name).is_file(),
                "{} is missing: build the deployer binaries first (cargo build -p {name})",
                bin_dir.join(name).display()
            );
        }
        Ok(Tools {
            root,
            act,
            moto,
            bin_dir,
        })
    }
}

/// How a world starts.
#[derive(Debug, Clone)]
pub struct WorldOptions {
    /// ecs-sim scenario (YAML, crates/ecs-sim/README.md).
    pub scenario: String,
    /// deployer.yml environments whose clusters and services are created.
    pub environments: Vec<String>,
    pub seed: u64,
    /// ECS services (e.g. `api-production`) created with the native blue/green strategy and
    /// a pause hook once test traffic reaches the new revision (what blue-green.yml needs).
    pub blue_green: Vec<String>,
}

impl WorldOptions {
    /// The demo's scenario (examples/storefront/demo/ecs-sim.yml) for these environments.
    pub fn demo(root: &Path, environments: &[&str]) -> Result<WorldOptions> {
        let path = root.join("examples/storefront/demo/ecs-sim.yml");
        let scenario =
            std::fs::read_to_string(&path).with_context(|| format!("read {}", path.display()))?;
        Ok(WorldOptions {
            scenario,
            environments: environments.iter().map(|e| e.to_string()).collect(),
            seed: 7,
            blue_green: Vec::new(),
        })
    }
}

/// A service's state in the sim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceState {
    pub task_definition: String,
    pub image: String,
    /// Number of deployments the service lists (1 when steady).
    pub deployments: usize,
}

pub struct World {
    pub tools: Tools,
    /// Everything on disk (repository, export, act's workspaces); removed on drop.
    pub dir: tempfile::TempDir,
    pub repo: PathBuf,
    pub sim: ecs_sim::SimHandle,
    pub stand_ins: StandIns,
    pub act: ActConfig,
}

impl World {
    pub fn start(tools: &Tools, options: &WorldOptions) -> Result<World> {
        check_listening(&tools.moto)?;
        let dir = tempfile::Builder::new()
            .prefix("deployer-e2e.")
            .tempdir()
            .context("create a temporary directory")?;
        let scenario = ecs_sim::Scenario::from_yaml(&options.scenario)
            .map_err(|e| anyhow::anyhow!("ecs-sim scenario: {e}"))?;
        let sim = ecs_sim::spawn(ecs_sim::SimConfig {
            scenario,
            time_scale: TIME_SCALE,
            seed: options.seed,
        })
        .context("start ecs-sim")?;
        let stand_ins = StandIns::start()?;
        let export = dir.path().join("deployer");
        export_checkout(&tools.root, &export)?;
        let repo = dir.path().join("storefront");
        consumer_repo(&tools.root, &repo, &stand_ins.health_url())?;
        let act = ActConfig {
            act: tools.act.clone(),
            deployer_checkout: export,
            cache_dir: dir.path().join("act"),
            env: vec![
                ("AWS_REGION".into(), "us-east-1".into()),
                ("AWS_DEFAULT_REGION".into(), "us-east-1".into()),
                ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
                ("AWS_ENDPOINT_URL_ECS".into(), sim.endpoint()),
                ("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS".into(), sim.endpoint()),
                ("AWS_ENDPOINT_URL_STS".into(), tools.moto.clone()),
                ("ACTIONS_ID_TOKEN_REQUEST_URL".into(), stand_ins.oidc_url()),
                (
                    "ACTIONS_ID_TOKEN_REQUEST_TOKEN".into(),
                    "e2e-oidc-request-token".into(),
                ),
                ("GITHUB_API_URL".into(), stand_ins.github_api_url()),
                ("GITHUB_REPOSITORY".into(), "org/storefront".into()),
                (
                    "DEPLOYER_PREBUILT_BIN_DIR".into(),
                    tools.bin_dir.display().to_string(),
                ),
            ],
            secrets: vec![(
                "GITHUB_TOKEN".into(),
                "ghs_e2eStandInToken0123456789".into(),
            )],
            vars: Vec::new(),
            timeout: Duration::from_secs(420),
        };
        let world = World {
            tools: tools.clone(),
            dir,
            repo,
            sim,
            stand_ins,
            act,
        };
        world.create_infrastructure(&options.environments, &options.blue_green)?;
        Ok(world)
    }

    /// Runs `workflow` under act.
    pub fn run(&self, workflow: &str, trigger: &Trigger) -> Result<ActRun> {
        self.run_with(workflow, trigger, &mut |_| {})
    }

    pub fn run_with(
        &self,
        workflow: &str,
        trigger: &Trigger,
        on_event: &mut dyn FnMut(&Value),
    ) -> Result<ActRun> {
        act::run(&self.act, &self.repo, workflow, trigger, on_event)
    }

    /// Commits `content` appended to `file` with `message`; returns (before, after) SHAs.
    pub fn commit(&self, file: &str, content: &str, message: &str) -> Result<(String, String)> {
        let before = self.git(&["rev-parse", "HEAD"])?;
        let path = self.repo.join(file);
        let mut text = std::fs::read_to_string(&path).unwrap_or_default();
        text.push_str(content);
        std::fs::write(&path, text)?;
        self.git(&["add", "-A"])?;
        self.git(&["commit", "-qm", message])?;
        let after = self.git(&["rev-parse", "HEAD"])?;
        Ok((before, after))
    }

    /// The push event GitHub sends for `before..after` on main.
    pub fn push_event(&self, before: &str, after: &str, message: &str) -> Trigger {
        let commit = json!({ "id": after, "message": message });
        Trigger {
            event_name: "push".into(),
            payload: json!({
                "ref": "refs/heads/main", "before": before, "after": after,
                "created": false, "deleted": false, "forced": false,
                "repository": { "default_branch": "main", "full_name": "org/storefront",
                                "name": "storefront", "owner": { "login": "org" } },
                "commits": [commit], "head_commit": commit,
            }),
        }
    }

    pub fn git(&self, args: &[&str]) -> Result<String> {
        git(&self.repo, args)
    }

    /// Current task definition and image of a service.
    pub fn service(&self, cluster: &str, service: &str) -> Result<ServiceState> {
        let found = self.ecs(
            "DescribeServices",
            json!({ "cluster": cluster, "services": [service] }),
        )?;
        let svc = &found["services"][0];
        let task_definition = svc["taskDefinition"]
            .as_str()
            .with_context(|| format!("no service {service} in {cluster}: {found}"))?
            .to_string();
        let td = self.ecs(
            "DescribeTaskDefinition",
            json!({ "taskDefinition": task_definition }),
        )?;
        let image = td["taskDefinition"]["containerDefinitions"][0]["image"]
            .as_str()
            .unwrap_or("")
            .to_string();
        Ok(ServiceState {
            task_definition,
            image,
            deployments: svc["deployments"].as_array().map_or(0, Vec::len),
        })
    }

    /// One call of the ECS JSON protocol to the sim (unsigned: the sim does not check).
    pub fn ecs(&self, operation: &str, body: Value) -> Result<Value> {
        let url = self.sim.endpoint();
        let target = format!("AmazonEC2ContainerServiceV20141113.{operation}");
        let response: Result<(u16, Value)> = self.stand_ins.block_on(async {
            let r = reqwest::Client::new()
                .post(&url)
                .header("X-Amz-Target", target)
                .header("Content-Type", "application/x-amz-json-1.1")
                .body(body.to_string())
                .send()
                .await?;
            let status = r.status().as_u16();
            Ok((status, r.json::<Value>().await?))
        });
        let (status, value) = response.with_context(|| format!("ecs-sim {operation}"))?;
        ensure!(
            status == 200,
            "ecs-sim {operation} answered {status}: {value}"
        );
        Ok(value)
    }

    /// What Terraform would have made: a cluster per environment (production's is
    /// storefront-prod, as in deployer.yml), api-<env> and web-<env> on v0.1.0, circuit
    /// breaker on; waits until each first deployment completed.
    pub fn create_infrastructure(
        &self,
        environments: &[String],
        blue_green: &[String],
    ) -> Result<()> {
        for env in environments {
            let cluster = cluster_of(env);
            self.ecs("CreateCluster", json!({ "clusterName": cluster }))?;
            for svc in ["api", "web"] {
                let family = format!("{svc}-{env}");
                self.ecs(
                    "RegisterTaskDefinition",
                    json!({
                        "family": family, "networkMode": "awsvpc",
                        "requiresCompatibilities": ["FARGATE"], "cpu": "256", "memory": "512",
                        "executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
                        "containerDefinitions": [{
                            "name": svc, "image": format!("{REGISTRY}/{svc}:v0.1.0"), "essential": true,
                            "portMappings": [{ "containerPort": 8000 }],
                            "logConfiguration": { "logDriver": "awslogs", "options": {
                                "awslogs-group": format!("/ecs/{family}"), "awslogs-region": "us-east-1",
                                "awslogs-stream-prefix": "ecs" } }
                        }]
                    }),
                )?;
                let mut deployment = json!({
                    "deploymentCircuitBreaker": { "enable": true, "rollback": true },
                    "maximumPercent": 200, "minimumHealthyPercent": 100 });
                if blue_green.contains(&family) {
                    deployment["strategy"] = json!("BLUE_GREEN");
                    deployment["bakeTimeInMinutes"] = json!(0);
                }
                self.ecs(
                    "CreateService",
                    json!({
                        "cluster": cluster, "serviceName": family, "taskDefinition": family,
                        "desiredCount": 2, "launchType": "FARGATE",
                        "networkConfiguration": { "awsvpcConfiguration": {
                            "subnets": ["subnet-0a1b2c"], "securityGroups": ["sg-0d1e2f"],
                            "assignPublicIp": "DISABLED" } },
                        "deploymentConfiguration": deployment
                    }),
                )?;
            }
        }
        let started = Instant::now();
        for env in environments {
            for svc in ["api", "web"] {
                loop {
                    let found = self.ecs(
                        "DescribeServices",
                        json!({ "cluster": cluster_of(env), "services": [format!("{svc}-{env}")] }),
                    )?;
                    let deployments = &found["services"][0]["deployments"];
                    if deployments.as_array().map_or(0, Vec::len) == 1
                        && deployments[0]["rolloutState"] == "COMPLETED"
                    {
                        break;
                    }
                    if started.elapsed() > Duration::from_secs(120) {
                        bail!("{svc}-{env} never finished its first deployment: {found}");
                    }
                    std::thread::sleep(Duration::from_millis(250));
                }
            }
        }
        // The pause hook is added once the first deployment is done (it would stop there too);
        // changing only the configuration starts no deployment.
        for env in environments {
            for svc in ["api", "web"] {
                let family = format!("{svc}-{env}");
                if blue_green.contains(&family) {
                    self.ecs(
                        "UpdateService",
                        json!({ "cluster": cluster_of(env), "service": family,
                            "deploymentConfiguration": {
                                "deploymentCircuitBreaker": { "enable": true, "rollback": true },
                                "maximumPercent": 200, "minimumHealthyPercent": 100,
                                "strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0,
                                "lifecycleHooks": [{ "targetType": "PAUSE",
                                    "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"] }] } }),
                    )?;
                }
            }
        }
        Ok(())
    }
}

/// Fails early, with the fix, when the shared moto server is gone (every OIDC role
/// assumption would fail later with a less obvious connection error).
fn check_listening(endpoint: &str) -> Result<()> {
    let addr = endpoint
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let parsed: std::net::SocketAddr = addr
        .parse()
        .with_context(|| format!("DEPLOYER_MOTO_ENDPOINT {endpoint} is not http://<ip>:<port>"))?;
    std::net::TcpStream::connect_timeout(&parsed, Duration::from_secs(2)).with_context(|| {
        format!("moto (STS) at {endpoint} is not answering: run `source \"$(scripts/testbed start)\"` again")
    })?;
    Ok(())
}

/// ECS cluster of an environment in the storefront's deployer.yml.
pub fn cluster_of(env: &str) -> String {
    if env == "production" {
        "storefront-prod".into()
    } else {
        format!("storefront-{env}")
    }
}

pub fn git(dir: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=storefront dev",
            "-c",
            "user.email=dev@storefront.example.com",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "tag.gpgsign=false",
        ])
        .args(args)
        .output()
        .with_context(|| format!("run git {args:?}"))?;
    ensure!(
        out.status.success(),
        "git {args:?} in {} failed: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Copies this checkout's tracked and untracked-not-ignored files (no target/, no .venv):
/// act copies the local repository for every `uses:`, so it must stay small.
pub fn export_checkout(root: &Path, to: &Path) -> Result<()> {
    let out = Command::new("git")
        .current_dir(root)
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .output()
        .context("git ls-files")?;
    ensure!(
        out.status.success(),
        "git ls-files failed in {}",
        root.display()
    );
    for name in out.stdout.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let name = String::from_utf8_lossy(name).to_string();
        let from = root.join(&name);
        // Listed but deleted in the working tree, or a submodule: nothing to copy.
        if !from.is_file() {
            continue;
        }
        let dest = to.join(&name);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(&from, &dest).with_context(|| format!("copy {name}"))?;
    }
    Ok(())
}

/// examples/storefront as a fresh repository: the starter workflows copied in unmodified,
/// deployer.yml's health URLs pointed at the local health server, one commit tagged v0.1.0.
pub fn consumer_repo(root: &Path, repo: &Path, health_base: &str) -> Result<()> {
    copy_tree(&root.join("examples/storefront"), repo, &|p| {
        p.starts_with("demo")
    })?;
    let workflows = repo.join(".github/workflows");
    std::fs::create_dir_all(&workflows)?;
    for entry in std::fs::read_dir(root.join("workflows-templates"))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "yml") {
            std::fs::copy(
                &path,
                workflows.join(path.file_name().context("file name")?),
            )?;
        }
    }
    let config = repo.join(".github/deployer.yml");
    let text = std::fs::read_to_string(&config).context("read the example's deployer.yml")?;
    let local = text
        .replace(
            "https://api.{env}.storefront.example.com",
            &format!("{health_base}/api.{{env}}"),
        )
        .replace(
            "https://www.{env}.storefront.example.com",
            &format!("{health_base}/www.{{env}}"),
        );
    ensure!(
        local != text,
        "deployer.yml of examples/storefront no longer has the health URLs this harness points at the local health server"
    );
    std::fs::write(&config, local)?;
    git(repo, &["init", "-q", "-b", "main"])?;
    git(repo, &["add", "-A"])?;
    git(repo, &["commit", "-qm", "feat: storefront api and web"])?;
    git(repo, &["tag", "-a", "v0.1.0", "-m", "v0.1.0"])?;
    Ok(())
}

fn copy_tree(from: &Path, to: &Path, skip: &dyn Fn(&Path) -> bool) -> Result<()> {
    fn walk(base: &Path, dir: &Path, to: &Path, skip: &dyn Fn(&Path) -> bool) -> Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            let rel = path.strip_prefix(base)?;
            if skip(rel) {
                continue;
            }
            let dest = to.join(rel);
            if path.is_dir() {
                std::fs::create_dir_all(&dest)?;
                walk(base, &path, to, skip)?;
            } else {
                if let Some(parent) = dest.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                std::fs::copy(&path, &dest)?;
            }
        }
        Ok(())
    }
    std::fs::create_dir_all(to)?;
    walk(from, from, to, skip)
}
