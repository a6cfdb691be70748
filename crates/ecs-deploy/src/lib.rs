//! `ecs-deploy`: Deploy new images to ECS services and wait for a verdict you can trust.

use std::time::{Duration, SystemTime};

use deployer_aws::cli::{
    AwsArgs, TimeoutFlag, aws_context, cancelled, check_poll_within_timeout, check_unique,
    expand_image, identity_line, listen_for_cancellation, load_config, non_blank, parse_duration,
    parse_poll_interval, parse_timeout, resolve_service, tokio_runtime,
};
use deployer_aws::deploy::{
    Cancel, DeployReport, DeployRequest, OnFailure, Source, Status, assign_images,
    execute_plan_cancellable, plan_service,
};
use deployer_aws::ecs::{Ecs, short_td};
use deployer_aws::logs::Logs;
use deployer_aws::taskdef::{self, ImageSpec};
use deployer_aws::wait::{JudgeOptions, WaitUntil, WatchOptions};
use deployer_core::Runtime;
use deployer_core::cli::CommonArgs;
use deployer_core::markdown::{Table, code_block};
use deployer_core::runtime::Annotation;

pub use deployer_aws::Error;

pub mod notify;

use notify::{NotifyArgs, ServiceNotifications, Subject};

/// Deploy new images to ECS services and wait for a verdict you can trust.
///
/// Success means the service deployment this run created reached SUCCESSFUL and its
/// task definition is the one serving. A circuit-breaker rollback, a crash-looping task,
/// a pull failure or tasks that cannot be placed end the run early with the cause.
#[derive(Debug, clap::Parser)]
#[command(
    name = "ecs-deploy",
    version,
    about = "Deploy new images to ECS services and wait for a verdict you can trust"
)]
pub struct Args {
    /// ECS cluster (default: from deployer.yml).
    #[arg(long, env = "DEPLOYER_CLUSTER")]
    pub cluster: Option<String>,
    /// ECS service(s), or service keys of deployer.yml; repeat or comma-separate to deploy several at once.
    #[arg(long, env = "DEPLOYER_SERVICE", value_delimiter = ',', required = true)]
    pub service: Vec<String>,
    /// Image(s): `repo:tag` (the only container, or the config's containers) or `api=repo:tag,worker=repo:tag`.
    /// A bare tag is prefixed with the config's image repository.
    #[arg(long, env = "DEPLOYER_IMAGE")]
    pub image: Option<String>,
    /// Task definition file (JSON or YAML) instead of the live definition.
    #[arg(long, env = "DEPLOYER_TASK_DEFINITION")]
    pub task_definition: Option<std::path::PathBuf>,
    /// Environment variable for the containers whose image changes: KEY=VALUE or container:KEY=VALUE (repeatable; newline-separated in the env var).
    #[arg(long = "env", env = "DEPLOYER_ENV", value_delimiter = '\n')]
    pub env: Vec<String>,
    /// Task definition tag key=value (repeatable; newline-separated in the env var). Every
    /// registered revision also gets deployer:git-sha, deployer:version, deployer:run-url and
    /// deployer:deployed-by (a --tag with the same key wins).
    #[arg(long = "tag", env = "DEPLOYER_TAGS", value_delimiter = '\n')]
    pub tags: Vec<String>,
    /// Version recorded in the deployer:version tag and the notifications (default: the tag
    /// of the first image). (`--version` prints the version of ecs-deploy itself.)
    #[arg(long, env = "DEPLOYER_VERSION_LABEL")]
    pub version_label: Option<String>,
    /// Set the service's desired count (0 or more).
    #[arg(long, env = "DEPLOYER_DESIRED_COUNT", value_parser = clap::value_parser!(i32).range(0..))]
    pub desired_count: Option<i32>,
    /// Start a new deployment even when the task definition is unchanged.
    #[arg(long, env = "DEPLOYER_FORCE_NEW_DEPLOYMENT")]
    pub force_new_deployment: bool,
    /// How long to wait for a verdict: `auto` (from the service's deployment configuration —
    /// strategy, step and bake times, health checks, desired count — with a margin, at least
    /// 15m; said in the first lines of the output) or a duration (90, 90s, 15m, 1h).
    #[arg(long, env = "DEPLOYER_TIMEOUT", default_value = "auto", value_parser = parse_timeout)]
    pub timeout: TimeoutFlag,
    /// Poll interval (jittered ±10 %; slows down only when AWS throttles); at least 0.1s and
    /// not longer than --timeout.
    #[arg(long, env = "DEPLOYER_POLL_INTERVAL", default_value = "5s", value_parser = parse_poll_interval)]
    pub poll_interval: Duration,
    /// What to do when the deployment fails: rollback, stop or leave.
    #[arg(long, env = "DEPLOYER_ON_FAILURE", default_value = "rollback")]
    pub on_failure: OnFailure,
    /// What to do when the timeout is reached and the deployment is still in progress
    /// without having failed: leave (the default: report timed-out and how to go on), rollback
    /// or stop.
    #[arg(long, env = "DEPLOYER_ON_TIMEOUT", default_value = "leave")]
    pub on_timeout: OnFailure,
    /// Blue/green: stop waiting when the deployment is deployed, at test traffic, or paused at a hook.
    #[arg(long, env = "DEPLOYER_WAIT_UNTIL", default_value = "deployed")]
    pub wait_until: WaitUntil,
    /// Blue/green: continue the paused deployment (ContinueServiceDeployment) and wait to the end.
    #[arg(long = "continue", env = "DEPLOYER_CONTINUE")]
    pub continue_deployment: bool,
    /// Watch the service's deployment in progress to its end and give the verdict, changing
    /// nothing (e.g. after a timeout left it running).
    // Checked in `validate`, not with clap's conflicts: the action passes every flag as an
    // env var (`DEPLOYER_WATCH: "false"`), and clap counts an env var as the flag given.
    #[arg(long, env = "DEPLOYER_WATCH")]
    pub watch: bool,
    /// Stopped tasks of the new revision (failed to start, essential container exited) that fail the deploy.
    #[arg(long, env = "DEPLOYER_MAX_TASK_FAILURES", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_task_failures: u32,
    /// How long "unable to place" may persist without progress before the deploy fails.
    #[arg(long, env = "DEPLOYER_UNPLACEABLE_GRACE", default_value = "60s", value_parser = parse_duration)]
    pub unplaceable_grace: Duration,
    #[command(flatten)]
    pub notify: NotifyArgs,

    /// With --continue: report on the GitHub deployment an earlier run created (its
    /// `github-deployment-id` output) instead of creating another. One service only.
    #[arg(long, env = "DEPLOYER_GITHUB_DEPLOYMENT_ID")]
    pub github_deployment_id: Option<u64>,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// The version label: `--version-label`, else the tag of the first image.
fn version_label(args: &Args) -> Result<Option<String>, Error> {
    if let Some(v) = args
        .version_label
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        return Ok(Some(v.to_string()));
    }
    Ok(match &args.image {
        Some(text) => taskdef::parse_images(text)?
            .first()
            .and_then(|s| notify::image_tag(&s.image)),
        None => None,
    })
}

/// Flag values that parse but make no sense, refused before anything is read or called.
fn validate(args: &Args) -> Result<(), Error> {
    if let TimeoutFlag::Fixed(timeout) = args.timeout {
        check_poll_within_timeout(args.poll_interval, timeout)?;
    }
    if args.watch {
        let changes: Vec<&str> = [
            (args.image.is_some(), "--image"),
            (args.task_definition.is_some(), "--task-definition"),
            (args.force_new_deployment, "--force-new-deployment"),
            (args.desired_count.is_some(), "--desired-count"),
            (args.continue_deployment, "--continue"),
        ]
        .into_iter()
        .filter_map(|(given, flag)| given.then_some(flag))
        .collect();
        if !changes.is_empty() {
            return Err(Error::BadInput(format!(
                "--watch only watches the deployment in progress and changes nothing: it cannot be used with {}; drop them, or drop --watch to deploy",
                changes.join(", ")
            )));
        }
    }
    if let Some(text) = non_blank(
        "--image",
        args.image.as_deref(),
        "pass `repo:tag` or `container=repo:tag,...`, or leave --image out (with --task-definition, --force-new-deployment or --desired-count)",
    )? {
        let images = taskdef::parse_images(text)?;
        if images.is_empty() {
            return Err(Error::BadInput(format!(
                "--image `{text}` names no image: pass `repo:tag` or `container=repo:tag,...`"
            )));
        }
        check_unique(
            "--image",
            images.iter().filter_map(|i| i.container.as_deref()),
        )
        .map_err(|e| Error::BadInput(format!("{e} (one image per container)")))?;
    }
    let services = service_names(args);
    if services.is_empty() {
        return Err(Error::BadInput(
            "--service is empty: name the ECS service(s) or deployer.yml service keys to deploy"
                .into(),
        ));
    }
    // `--service web,web` deployed the same service twice, concurrently.
    check_unique("--service", services)
}

/// `--service` values, trimmed, blanks dropped (`a,b,` is two services).
fn service_names(args: &Args) -> Vec<&str> {
    args.service
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Two names (e.g. a deployer.yml key and the ECS name) that resolve to one service.
fn check_distinct_targets(reqs: &[DeployRequest], names: &[&str]) -> Result<(), Error> {
    for (i, r) in reqs.iter().enumerate() {
        if let Some(j) = reqs[..i]
            .iter()
            .position(|o| o.cluster == r.cluster && o.service == r.service)
        {
            return Err(Error::BadInput(format!(
                "--service `{}` and `{}` are the same ECS service {}/{}: list it once",
                names[j], names[i], r.cluster, r.service
            )));
        }
    }
    Ok(())
}

fn requests(args: &Args) -> Result<(Vec<DeployRequest>, Vec<Subject>), Error> {
    validate(args)?;
    let cfg = load_config(&args.aws)?;
    let file = match &args.task_definition {
        Some(p) => {
            let text = deployer_core::files::read_text_limited(
                p,
                "the --task-definition file",
                deployer_core::files::limit::TASK_DEFINITION,
            )
            .map_err(|e| Error::BadInput(e.to_string()))?;
            Some(taskdef::parse_file(&text, &p.display().to_string())?)
        }
        None => None,
    };
    if args.image.is_none()
        && file.is_none()
        && !args.force_new_deployment
        && !args.continue_deployment
        && args.desired_count.is_none()
    {
        return Err(Error::BadInput(
            "nothing to deploy: pass --image, --task-definition, --force-new-deployment, --desired-count or --continue".into(),
        ));
    }
    let env = args
        .env
        .iter()
        .filter(|e| !e.trim().is_empty())
        .map(|e| taskdef::parse_env(e))
        .collect::<Result<Vec<_>, _>>()?;
    let tags = args
        .tags
        .iter()
        .filter(|e| !e.trim().is_empty())
        .map(|e| taskdef::parse_tag(e))
        .collect::<Result<Vec<_>, _>>()?;
    let version = version_label(args)?;
    let tags = notify::merged_tags(version.as_deref(), tags);
    let environment_url = args
        .notify
        .environment_url(cfg.as_ref(), args.aws.environment.as_deref());
    let mut out = Vec::new();
    let mut subjects = Vec::new();
    let names = service_names(args);
    for &name in &names {
        let t = resolve_service(
            cfg.as_ref(),
            args.aws.environment.as_deref(),
            args.cluster.as_deref(),
            name,
        )?;
        let images: Vec<ImageSpec> = match &args.image {
            Some(text) => taskdef::parse_images(text)?
                .into_iter()
                .map(|s| ImageSpec {
                    image: expand_image(&s.image, t.image_repository.as_deref()),
                    ..s
                })
                .collect(),
            None => vec![],
        };
        subjects.push(Subject {
            name: t.key.clone().unwrap_or_else(|| t.service.clone()),
            environment: args
                .aws
                .environment
                .clone()
                .unwrap_or_else(|| t.cluster.clone()),
            version: version.clone(),
            image: None,
            environment_url: environment_url.clone(),
        });
        out.push(DeployRequest {
            cluster: t.cluster,
            service: t.service,
            source: file.clone().map(Source::File).unwrap_or(Source::Live),
            images,
            default_containers: t.containers,
            env: env.clone(),
            tags: tags.clone(),
            desired_count: args.desired_count,
            force_new_deployment: args.force_new_deployment,
            on_failure: args.on_failure,
            on_timeout: args.on_timeout,
            watch: WatchOptions {
                judge: JudgeOptions {
                    max_task_failures: args.max_task_failures,
                    unplaceable_grace: args.unplaceable_grace,
                    timeout: args.timeout.initial(),
                    wait_until: args.wait_until,
                    ..Default::default()
                },
                poll_interval: args.poll_interval,
                auto_timeout: args.timeout == TimeoutFlag::Auto,
                ..Default::default()
            },
            continue_deployment: args.continue_deployment || args.watch,
            watch_only: args.watch,
        });
    }
    check_distinct_targets(&out, &names)?;
    Ok((out, subjects))
}

fn report_json(r: &DeployReport, github_deployment_id: Option<u64>) -> serde_json::Value {
    serde_json::json!({
        "github-deployment-id": github_deployment_id,
        "cluster": r.cluster,
        "service": r.service,
        "status": r.status.as_str(),
        "task-definition-arn": r.task_definition_arn,
        "previous-task-definition-arn": r.previous_task_definition_arn,
        "service-deployment-arn": r.service_deployment_arn,
        "registered": r.registered,
        "duration-seconds": r.duration.as_secs(),
        "stage": r.stage,
        "hook-id": r.hook_id,
        "cause": r.cause.as_ref().map(|c| format!("{}: {}", c.kind.label(), c.summary)),
        "rollback": r.rollback.as_ref().map(|b| serde_json::json!({
            "action": b.action, "to-task-definition-arn": b.to_task_definition, "status": b.final_status, "ok": b.ok
        })),
    })
}

/// `errors` are services that never got to deploy (bad input, AWS refused a call).
fn summary(reports: &[DeployReport], errors: &[(String, Error)], identity: Option<&str>) -> String {
    let ok = errors.is_empty() && !reports.is_empty() && reports.iter().all(|r| r.status.ok());
    let mut md = format!("## {} ECS deploy\n\n", if ok { "✅" } else { "❌" });
    if let Some(id) = identity {
        md.push_str(&format!("{id}\n\n"));
    }
    let mut table = Table::new([
        "service",
        "status",
        "task definition",
        "previous",
        "running",
        "duration",
        "rollback",
    ]);
    for r in reports {
        table.row([
            format!("{} ({})", r.service, r.cluster),
            r.status.as_str().to_string(),
            format!(
                "{}{}",
                short_td(&r.task_definition_arn),
                if r.registered { " (new)" } else { "" }
            ),
            short_td(&r.previous_task_definition_arn).to_string(),
            format!("{}/{}", r.running, r.desired),
            format!("{} s", r.duration.as_secs()),
            r.rollback
                .as_ref()
                .map(|b| format!("{} → {}", b.action, b.final_status))
                .unwrap_or_else(|| "—".into()),
        ]);
    }
    for (service, err) in errors {
        table.row([
            service.clone(),
            format!("error: {err}"),
            "—".into(),
            "—".into(),
            "—".into(),
            "—".into(),
            "—".into(),
        ]);
    }
    md.push_str(&table.render());
    for r in reports {
        if let Some(c) = &r.cause {
            md.push_str(&format!(
                "\n### {}: {}\n\n{}\n",
                r.service,
                c.kind.label(),
                c.summary
            ));
            md.push_str(&code_block("text", &r.explain()));
        }
        if let Some(n) = &r.next_step {
            md.push_str(&format!("\n**{}**: {n}\n", r.service));
        }
        if !r.changes.is_empty() {
            md.push_str(&format!(
                "\n<details><summary>{}: changes</summary>\n\n",
                r.service
            ));
            for c in &r.changes {
                md.push_str(&format!("- {c}\n"));
            }
            md.push_str("\n</details>\n");
        }
        if !r.timeline.is_empty() {
            md.push_str(&format!(
                "\n<details><summary>{}: timeline</summary>\n\n",
                r.service
            ));
            let mut t = Table::new(["t+s", "what"]);
            for (s, what) in &r.timeline {
                t.row([s.to_string(), what.clone()]);
            }
            md.push_str(&t.render());
            md.push_str("\n</details>\n");
        }
    }
    md
}

/// One service: plan (render/register), notify "started" when something will be deployed,
/// deploy, notify how it ended. Notifications never change the result.
async fn deploy_one(
    ecs: &Ecs,
    logs: &Logs,
    req: &DeployRequest,
    mut notes: Option<ServiceNotifications>,
    say: &dyn Fn(&str),
    warn: &dyn Fn(&str),
    mut cancel: Cancel,
) -> (Result<DeployReport, Error>, Option<ServiceNotifications>) {
    let planned = tokio::select! {
        p = plan_service(ecs, req, say) => p,
        signal = &mut cancel => Err(Error::Failed(format!(
            "cancelled ({signal}) before UpdateService: the service was not changed and keeps \
             running what it ran (a task definition revision may have been registered; it serves nothing)"
        ))),
    };
    let plan = match planned {
        Ok(p) => p,
        Err(e) => return (Err(e), None),
    };
    // Nothing deployed: nothing to announce.
    if plan.is_noop() {
        notes = None;
    }
    if let Some(n) = notes.as_mut() {
        n.set_task_definition(plan.task_definition_arn());
        // A continued blue/green deploy was announced by the run that started it.
        if !req.continue_deployment {
            n.started(warn).await;
        }
    }
    let result = execute_plan_cancellable(ecs, logs, req, plan, say, cancel).await;
    if let Some(n) = notes.as_mut() {
        n.finished(ecs, &result, req.watch.judge.wait_until, warn)
            .await;
    }
    (result, notes)
}

pub fn run(args: &Args, runtime: &mut Runtime) -> Result<(), Error> {
    // Secrets first: nothing may print them.
    args.notify.mask_secrets();
    let (mut reqs, mut subjects) = requests(args)?;
    let rt = tokio_runtime()?;
    listen_for_cancellation(&rt);
    let (reports, identity) = rt.block_on(async {
        let cfg = load_config(&args.aws)?;
        let ctx = aws_context(&args.aws, cfg.as_ref()).await?;
        if let Some(w) = ctx.expiry_warning(SystemTime::now() + args.timeout.initial()) {
            runtime.warning(&w, &Annotation::titled("credentials"));
        }
        let identity = identity_line(&ctx).await;
        if let Some(id) = &identity {
            runtime.say(id);
        }
        let ecs = Ecs::new(&ctx.config);
        assign_images(&ecs, &mut reqs).await?;
        let logs = Logs::new(&ctx.config);
        let rt_ref: &Runtime = runtime;
        let say = |s: &str| rt_ref.say(s);
        let warn = |s: &str| rt_ref.warning(s, &Annotation::titled("notifications"));
        // SIGINT/SIGTERM (a cancelled workflow) reaches every service's deploy at once.
        let (signal_tx, signal_rx) = tokio::sync::watch::channel::<Option<&'static str>>(None);
        tokio::spawn(async move {
            let signal = cancelled().await;
            let _ = signal_tx.send(Some(signal));
            // Keep the sender: a dropped one would read as "cancelled" to the receivers.
            std::future::pending::<()>().await;
        });
        let cancel_for = |mut rx: tokio::sync::watch::Receiver<Option<&'static str>>| -> Cancel {
            Box::pin(async move {
                let signal = match rx.wait_for(Option::is_some).await {
                    Ok(v) => Some(v.unwrap_or("SIGTERM")),
                    Err(_) => None,
                };
                match signal {
                    Some(s) => s,
                    None => std::future::pending().await,
                }
            })
        };
        let mut config = args.notify.notifier_config();
        if reqs.len() == 1 {
            config.deployment_id = args.github_deployment_id;
        }
        let futures = reqs.iter().zip(subjects.iter_mut()).map(|(r, subject)| {
            subject.image = r.images.first().map(|i| i.image.clone());
            let notes = args
                .notify
                .enabled()
                .then(|| ServiceNotifications::new(&config, subject));
            deploy_one(
                &ecs,
                &logs,
                r,
                notes,
                &say,
                &warn,
                cancel_for(signal_rx.clone()),
            )
        });
        let results = futures_util::future::join_all(futures).await;
        Ok::<_, Error>((results, identity))
    })?;
    let mut done = Vec::new();
    let mut deployment_ids = Vec::new();
    let mut errors = Vec::new();
    let mut notes_md = String::new();
    for (req, (r, notes)) in reqs.iter().zip(reports) {
        let id = notes.as_ref().and_then(ServiceNotifications::deployment_id);
        if let Some(n) = &notes {
            notes_md.push_str(&n.to_markdown());
        }
        match r {
            Ok(rep) => {
                done.push(rep);
                deployment_ids.push(id);
            }
            Err(e) => errors.push((req.service.clone(), e)),
        }
    }
    let all: Vec<serde_json::Value> = done
        .iter()
        .zip(&deployment_ids)
        .map(|(r, id)| report_json(r, *id))
        .collect();
    runtime
        .set_output("services-json", serde_json::Value::Array(all).to_string())
        .map_err(|e| Error::Failed(e.to_string()))?;
    if let [r] = done.as_slice() {
        let outs = [
            ("task-definition-arn", r.task_definition_arn.clone()),
            (
                "previous-task-definition-arn",
                r.previous_task_definition_arn.clone(),
            ),
            ("service-deployment-arn", r.service_deployment_arn.clone()),
            ("status", r.status.as_str().to_string()),
            ("duration-seconds", r.duration.as_secs().to_string()),
            ("hook-id", r.hook_id.clone().unwrap_or_default()),
        ];
        for (k, v) in outs {
            runtime
                .set_output(k, v)
                .map_err(|e| Error::Failed(e.to_string()))?;
        }
        if let Some(Some(id)) = deployment_ids.first() {
            runtime
                .set_output("github-deployment-id", id.to_string())
                .map_err(|e| Error::Failed(e.to_string()))?;
        }
    } else {
        let overall = if errors.is_empty() && done.iter().all(|r| r.status.ok()) {
            "succeeded"
        } else {
            "failed"
        };
        runtime
            .set_output("status", overall)
            .map_err(|e| Error::Failed(e.to_string()))?;
    }
    let mut md = summary(&done, &errors, identity.as_deref());
    if !notes_md.is_empty() {
        md.push_str("\n### Notifications\n\n");
        md.push_str(&notes_md);
    }
    let _ = runtime.summary(&md);
    for r in &done {
        match r.status {
            Status::Succeeded => runtime.say(format!(
                "✅ {}: {} is deployed and serving ({} s)",
                r.service,
                short_td(&r.task_definition_arn),
                r.duration.as_secs()
            )),
            Status::NoTasks => {
                let next = r.next_step.clone().unwrap_or_default();
                runtime.warning(
                    &format!("{}: {next}", r.service),
                    &Annotation::titled("deployed with desired count 0"),
                );
                runtime.say(format!("⚠️ {}: {next}", r.service));
            }
            Status::Unchanged => runtime.say(format!(
                "✅ {}: already running {}",
                r.service,
                short_td(&r.task_definition_arn)
            )),
            Status::Reached => runtime.say(format!(
                "⏸ {}: {}",
                r.service,
                r.next_step.clone().unwrap_or_default()
            )),
            Status::Failed | Status::TimedOut | Status::Cancelled | Status::Unknown => {}
        }
    }
    // Errors: bad input wins (exit 2), then failures.
    if let Some((svc, e)) = errors.into_iter().next() {
        // Keeps the kind (and exit code) of a typed AWS error, e.g. a missing cluster.
        return Err(match e {
            e @ (Error::BadInput(_) | Error::Aws(_)) => e.for_service(&svc),
            other => Error::Failed(format!("{svc}: {other}")),
        });
    }
    let failed: Vec<&DeployReport> = done.iter().filter(|r| !r.status.ok()).collect();
    if failed.is_empty() {
        return Ok(());
    }
    let mut msg = String::new();
    for r in failed {
        match r.status {
            Status::TimedOut => msg.push_str(&format!(
                "{}: timed out — {}\n",
                r.service,
                r.next_step.clone().unwrap_or_default()
            )),
            Status::Cancelled | Status::Unknown => msg.push_str(&format!(
                "{}: {} — {}\n",
                r.service,
                r.status.as_str(),
                r.next_step.clone().unwrap_or_default()
            )),
            _ => msg.push_str(&format!(
                "{}: deploy of {} failed — {}",
                r.service,
                short_td(&r.task_definition_arn),
                r.explain()
            )),
        }
        if let Some(b) = &r.rollback {
            msg.push_str(&format!(
                "  rollback: {} → {}{}\n",
                b.action,
                b.final_status,
                b.to_task_definition
                    .as_deref()
                    .map(|t| if b.final_status.ends_with("_REQUESTED") {
                        // Only asked for (a cancelled run): ECS has not got there yet.
                        format!(" (going back to {})", short_td(t))
                    } else {
                        format!(" (service now on {})", short_td(t))
                    })
                    .unwrap_or_default()
            ));
        }
    }
    Err(Error::Failed(msg.trim_end().to_string()))
}
