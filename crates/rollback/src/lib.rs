//! `rollback`: Roll an ECS service back to its last successful deployment or a named target.

use std::time::Duration;

use deployer_aws::cli::{
    AwsArgs, TimeoutFlag, aws_context, cancelled, check_poll_within_timeout, check_unique,
    identity_line, listen_for_cancellation, load_config, non_blank, parse_poll_interval,
    parse_positive_duration, parse_timeout, resolve_service, tokio_runtime,
};
use deployer_aws::deploy::{DeployRequest, OnFailure, Source, deploy_service, wait_rollback};
use deployer_aws::ecs::{Ecs, short_td};
use deployer_aws::logs::Logs;
use deployer_aws::rollback::{
    SEARCH_LIMIT, TagMatch, Target, first_running_tag, newest_revisions, resolve, service_family,
    tag_candidates,
};
use deployer_aws::wait::{JudgeOptions, WatchOptions};
use deployer_core::Runtime;
use deployer_core::cli::CommonArgs;
use deployer_core::markdown::{Table, code_block};
use deployer_core::runtime::Annotation;

pub use deployer_aws::Error;

use deployer_aws::cli::NotifyArgs;
pub use deployer_notify::{
    DeploymentRecord, DeploymentStatus, Event, FailureKind, Notifier, RollbackReason, RunContext,
    find_by_sha, find_by_version,
};

/// Roll an ECS service back to its last successful deployment or a named target.
///
/// Default target: the last SUCCESSFUL service deployment before the current one (from
/// the service-deployment history; never "revision − 1"). A deployment in progress is
/// stopped with StopServiceDeployment(ROLLBACK). Nothing is ever deregistered.
/// Database migrations are NOT rolled back.
#[derive(Debug, clap::Parser)]
#[command(
    name = "rollback",
    version,
    about = "Roll an ECS service back to its last successful deployment or a named target"
)]
pub struct Args {
    /// ECS cluster (default: from deployer.yml).
    #[arg(long, env = "DEPLOYER_CLUSTER")]
    pub cluster: Option<String>,
    /// ECS service (or deployer.yml service key).
    #[arg(long, env = "DEPLOYER_SERVICE")]
    pub service: String,
    /// Roll back to this revision number of the service's task-definition family.
    #[arg(long, env = "DEPLOYER_TO_REVISION", conflicts_with_all = ["to_task_definition", "to_image_tag", "to_sha"],
          value_parser = clap::value_parser!(u32).range(1..))]
    pub to_revision: Option<u32>,
    /// Roll back to this task definition (ARN or family:revision).
    #[arg(long, env = "DEPLOYER_TO_TASK_DEFINITION", conflicts_with_all = ["to_image_tag", "to_sha"])]
    pub to_task_definition: Option<String>,
    /// Roll back to the newest revision tagged deployer:version=<this> (e.g. v1.2.3, a leading
    /// `v` is optional), else whose image carries this tag.
    #[arg(long, env = "DEPLOYER_TO_IMAGE_TAG", conflicts_with = "to_sha")]
    pub to_image_tag: Option<String>,
    /// Roll back to the newest revision tagged deployer:git-sha=<this commit> (7+ characters),
    /// else whose image tag or any task-definition tag contains it.
    #[arg(long, env = "DEPLOYER_TO_SHA")]
    pub to_sha: Option<String>,
    /// How long to wait for the rollback to finish: `auto` (from the service's deployment
    /// configuration, as ecs-deploy computes it; at least 15m) or a duration (90s, 15m, 1h).
    #[arg(long, env = "DEPLOYER_TIMEOUT", default_value = "auto", value_parser = parse_timeout)]
    pub timeout: TimeoutFlag,
    /// After the rollback, check these URLs answer 2xx (repeatable; `DEPLOYER_HEALTH_URLS`
    /// takes one per line). An unhealthy answer fails the rollback (exit 1). Default: the
    /// service's `health` URLs in deployer.yml (url, ready, live; `{env}` = --environment).
    #[arg(
        long = "health-url",
        env = "DEPLOYER_HEALTH_URLS",
        value_delimiter = '\n'
    )]
    pub health_urls: Vec<String>,
    /// How long the health check may retry before giving up.
    #[arg(long, env = "DEPLOYER_HEALTH_DEADLINE", default_value = "2m", value_parser = parse_positive_duration)]
    pub health_deadline: Duration,
    /// Poll interval (at least 0.1s, not longer than --timeout).
    #[arg(long, env = "DEPLOYER_POLL_INTERVAL", default_value = "5s", value_parser = parse_poll_interval)]
    pub poll_interval: Duration,
    #[command(flatten)]
    pub notify: NotifyArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Flag values that parse but make no sense, refused before anything is read or called.
fn validate(args: &Args) -> Result<(), Error> {
    if let TimeoutFlag::Fixed(timeout) = args.timeout {
        check_poll_within_timeout(args.poll_interval, timeout)?;
    }
    check_unique(
        "--health-url",
        args.health_urls
            .iter()
            .map(|u| u.trim())
            .filter(|u| !u.is_empty()),
    )
}

/// The rollback target. An explicit but blank target is refused: it used to fall through
/// to "the last successful deployment", a different target than the one asked for.
fn target(args: &Args) -> Result<Target, Error> {
    const FIX: &str =
        "name the target, or leave the flag out to roll back to the last successful deployment";
    if let Some(n) = args.to_revision {
        return Ok(Target::Revision(n));
    }
    if let Some(t) = non_blank(
        "--to-task-definition",
        args.to_task_definition.as_deref(),
        FIX,
    )? {
        return Ok(Target::TaskDefinition(t.to_string()));
    }
    let tag = non_blank("--to-image-tag", args.to_image_tag.as_deref(), FIX)?;
    let sha = non_blank("--to-sha", args.to_sha.as_deref(), FIX)?;
    if let Some(t) = tag.or(sha) {
        if args.to_sha.is_some() && t.len() < 7 {
            return Err(Error::BadInput(format!(
                "--to-sha `{t}` is too short: give at least 7 characters"
            )));
        }
        return Ok(Target::ImageTag(t.to_string()));
    }
    Ok(Target::Auto)
}

/// `--to-sha` / `--to-image-tag`: the newest of the newest revisions whose provenance
/// tag (`deployer:git-sha` / `deployer:version`) matches, else the newest that runs the tag
/// (image tag, or any tag value; see `runs_tag`).
async fn find_tagged(
    ecs: &Ecs,
    svc: &deployer_aws::ecs::ServiceInfo,
    value: &str,
    sha: bool,
) -> Result<(String, String), Error> {
    let family = service_family(svc)?;
    let revisions = newest_revisions(ecs, &family, SEARCH_LIMIT).await?;
    let candidates = tag_candidates(&revisions);
    let by_tag = if sha {
        find_by_sha(&candidates, value)
    } else {
        find_by_version(&candidates, value)
    };
    let key = if sha {
        deployer_notify::tags::TAG_GIT_SHA
    } else {
        deployer_notify::tags::TAG_VERSION
    };
    if let Some(arn) = by_tag.first() {
        return Ok((
            arn.to_string(),
            format!("newest revision of {family} tagged {key}={value}"),
        ));
    }
    let mode = if sha {
        TagMatch::GitSha
    } else {
        TagMatch::Exact
    };
    if let Some(arn) = first_running_tag(&revisions, value, mode) {
        return Ok((
            arn.to_string(),
            format!("newest revision of {family} that runs `{value}`"),
        ));
    }
    Err(Error::BadInput(format!(
        "no revision of {family} (newest {SEARCH_LIMIT} searched) is tagged {key}={value}, runs an image tagged `{value}` or carries it as a tag"
    )))
}

/// Announces the rollback (or its failure); returns the summary section and the GitHub
/// deployment created, if any. Problems are warnings only.
#[allow(clippy::too_many_arguments)] // one call site
async fn notify_rollback(
    args: &Args,
    ecs: &Ecs,
    target: &deployer_aws::cli::ServiceTarget,
    environment_url: Option<String>,
    ok: bool,
    td: &str,
    explain: &str,
    warn: &dyn Fn(&str),
) -> (String, Option<u64>) {
    let name = target.key.clone().unwrap_or_else(|| target.service.clone());
    let environment = args
        .aws
        .environment
        .clone()
        .unwrap_or_else(|| target.cluster.clone());
    let mut notifier = Notifier::from_env(&args.notify.notifier_config());
    let mut record = DeploymentRecord::new(&name, environment).with_run(&RunContext::from_env());
    record.environment_url = environment_url;
    record.task_definition_arn = Some(td.to_string()).filter(|t| !t.is_empty());
    let event = if ok {
        let to = deployer_aws::rollback::rollback_target(ecs, td, RollbackReason::Manual).await;
        record.image = to.image.clone();
        record.rolled_back_to = Some(to.revision.clone());
        record.finish(DeploymentStatus::RolledBack, None);
        Event::RolledBack { to }
    } else {
        let cause = Some(explain.trim().to_string()).filter(|c| !c.is_empty());
        record.finish(
            DeploymentStatus::Failed,
            cause.or_else(|| Some("the rollback did not succeed".into())),
        );
        Event::Failed {
            kind: FailureKind::Deploy,
        }
    };
    let report = notifier.notify(&record, &event).await;
    for w in report.warnings() {
        warn(&format!("{name} ({}): {w}", event.name()));
    }
    (
        format!("**{name}: {}**\n\n{}\n", event.name(), report.to_markdown()),
        notifier.deployment_id(),
    )
}

/// The run was cancelled (SIGINT/SIGTERM): ECS carries on with whatever was already asked
/// (a StopServiceDeployment ROLLBACK or the redeploy of the target), so one quick look says
/// what is in flight and how to follow it. GitHub kills the job ~10 s after SIGINT.
async fn cancelled_rollback(
    ecs: &Ecs,
    target: &deployer_aws::cli::ServiceTarget,
    signal: &str,
    say: &dyn Fn(&str),
) -> (bool, String, String, String, String, String) {
    // Both looks together stay well inside the ~10 s GitHub leaves before SIGKILL.
    let look = async {
        let svc = ecs
            .describe_service(&target.cluster, &target.service)
            .await
            .ok()?;
        let mut current = svc.current_service_deployment.clone().unwrap_or_default();
        if current.is_empty() {
            current = ecs
                .list_service_deployments(&target.cluster, &target.service, None)
                .await
                .unwrap_or_default()
                .into_iter()
                .find(|d| d.status.is_rolling_out())
                .map(|d| d.arn)
                .unwrap_or_default();
        }
        Some((svc.task_definition, current))
    };
    let (td, current) = tokio::time::timeout(Duration::from_secs(4), look)
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    let check = if current.is_empty() {
        format!(
            "aws ecs describe-services --cluster {} --services {}",
            target.cluster, target.service
        )
    } else {
        format!("aws ecs describe-service-deployments --service-deployment-arns {current}")
    };
    let explain = format!(
        "cancelled ({signal}) before the rollback finished. What was already requested continues \
         in ECS: the service targets {}{}. Check it with `{check}`; re-run the rollback if it \
         does not end where you want",
        if td.is_empty() {
            "(unknown: ECS did not answer)"
        } else {
            short_td(&td)
        },
        if current.is_empty() {
            String::new()
        } else {
            format!(" (deployment {current})")
        }
    );
    say(&explain);
    (
        false,
        td,
        String::new(),
        current,
        format!("cancelled ({signal}); the rollback continues in ECS"),
        explain,
    )
}

/// `services.<service>.health` of deployer.yml for --environment, when both are known.
fn configured_health_urls(cfg: Option<&deployer_config::Config>, args: &Args) -> Vec<String> {
    let (Some(cfg), Some(env)) = (cfg, args.aws.environment.as_deref()) else {
        return Vec::new();
    };
    cfg.service(&args.service)
        .map(|service| {
            service
                .health_urls(env)
                .into_iter()
                .map(|h| h.url)
                .collect()
        })
        .unwrap_or_default()
}

/// The command that undoes the last migration, when the config names one.
pub fn undo_hint(service_key: &str, m: Option<&deployer_config::Migration>) -> Option<String> {
    let m = m?;
    let alembic =
        m.preset.as_deref() == Some("alembic") || m.command.iter().any(|c| c.contains("alembic"));
    alembic.then(|| {
        format!("run-migration --service {service_key} --preset alembic --alembic downgrade   (runs `alembic downgrade -1`)")
    })
}

pub fn run(args: &Args, runtime: &mut Runtime) -> Result<(), Error> {
    // Secrets first: nothing may print them.
    args.notify.mask_secrets();
    validate(args)?;
    let cfg = load_config(&args.aws)?;
    let svc_target = resolve_service(
        cfg.as_ref(),
        args.aws.environment.as_deref(),
        args.cluster.as_deref(),
        &args.service,
    )?;
    let wanted = target(args)?;
    let mut health_urls: Vec<String> = args
        .health_urls
        .iter()
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty())
        .collect();
    if health_urls.is_empty() {
        health_urls = configured_health_urls(cfg.as_ref(), args);
    }
    // Checked before anything changes: a typo in a URL must not surface after the rollback.
    if !health_urls.is_empty() {
        deployer_gates::http::validate_urls(&health_urls)
            .map_err(|e| Error::BadInput(format!("--health-url: {e}")))?;
    }
    let environment_url = args
        .notify
        .environment_url(cfg.as_ref(), args.aws.environment.as_deref());
    let rt = tokio_runtime()?;
    listen_for_cancellation(&rt);
    let warning =
        "database migrations are NOT rolled back: the schema stays as the newest migration left it"
            .to_string();
    let undo = undo_hint(
        svc_target.key.as_deref().unwrap_or(&svc_target.service),
        svc_target.migration.as_ref(),
    );
    let outcome = rt.block_on(async {
        let ctx = aws_context(&args.aws, cfg.as_ref()).await?;
        if let Some(id) = identity_line(&ctx).await {
            runtime.say(&id);
        }
        let ecs = Ecs::new(&ctx.config);
        let logs = Logs::new(&ctx.config);
        let rt_ref: &Runtime = runtime;
        let say = |s: &str| rt_ref.say(s);
        let warn = |s: &str| rt_ref.warning(s, &Annotation::titled("notifications"));
        let work = async {
            let svc = ecs
                .describe_service(&svc_target.cluster, &svc_target.service)
                .await?;
            let history = ecs
                .list_service_deployments(&svc_target.cluster, &svc_target.service, None)
                .await
                .unwrap_or_default();
            let active = history.iter().find(|d| d.status.is_rolling_out()).cloned();
            if let (Some(active), Target::Auto) = (&active, &wanted) {
                say(&format!(
                    "a deployment is in progress ({}); stopping it with rollback",
                    active.arn
                ));
                ecs.stop_service_deployment(&active.arn, true).await?;
                let d = wait_rollback(
                    &ecs,
                    &active.arn,
                    args.timeout.initial(),
                    args.poll_interval,
                    &say,
                    &svc_target.service,
                )
                .await?;
                let now = ecs
                    .describe_service(&svc_target.cluster, &svc_target.service)
                    .await?;
                let ok =
                    d.status == deployer_aws::states::ServiceDeploymentStatus::RollbackSuccessful;
                return Ok::<_, Error>((
                    ok,
                    now.task_definition,
                    svc.task_definition.clone(),
                    active.arn.clone(),
                    format!("StopServiceDeployment(ROLLBACK) → {}", d.status),
                    String::new(),
                ));
            }
            let resolved = match &wanted {
                Target::ImageTag(value) => {
                    let (arn, why) = find_tagged(&ecs, &svc, value, args.to_sha.is_some()).await?;
                    let mut r = resolve(
                        &ecs,
                        &svc_target.cluster,
                        &svc,
                        &Target::TaskDefinition(arn),
                    )
                    .await?;
                    r.why = why;
                    r
                }
                other => resolve(&ecs, &svc_target.cluster, &svc, other).await?,
            };
            say(&format!(
                "rollback target: {} ({})",
                short_td(&resolved.task_definition),
                resolved.why
            ));
            if resolved.task_definition == svc.task_definition && active.is_none() {
                return Ok((
                    true,
                    resolved.task_definition,
                    svc.task_definition.clone(),
                    String::new(),
                    "already serving the target".into(),
                    String::new(),
                ));
            }
            let req = DeployRequest {
                cluster: svc_target.cluster.clone(),
                service: svc_target.service.clone(),
                source: Source::Existing(resolved.task_definition.clone()),
                images: vec![],
                default_containers: vec![],
                env: vec![],
                tags: vec![],
                desired_count: None,
                force_new_deployment: false,
                on_failure: OnFailure::Leave,
                on_timeout: OnFailure::Leave,
                watch: WatchOptions {
                    judge: JudgeOptions {
                        timeout: args.timeout.initial(),
                        ..Default::default()
                    },
                    poll_interval: args.poll_interval,
                    auto_timeout: args.timeout == TimeoutFlag::Auto,
                    ..Default::default()
                },
                continue_deployment: false,
                watch_only: false,
            };
            let r = deploy_service(&ecs, &logs, &req, &say).await?;
            Ok((
                r.status.ok(),
                r.task_definition_arn.clone(),
                r.previous_task_definition_arn.clone(),
                r.service_deployment_arn.clone(),
                format!(
                    "deploy {} → {}",
                    short_td(&r.task_definition_arn),
                    r.status.as_str()
                ),
                r.explain(),
            ))
        };
        let res = tokio::select! {
            r = work => r,
            signal = cancelled() => Ok(cancelled_rollback(&ecs, &svc_target, signal, &say).await),
        };
        let notes = match &res {
            Ok((ok, td, prev, _, _, explain)) if args.notify.enabled() && !(*ok && td == prev) => {
                Some(
                    notify_rollback(
                        args,
                        &ecs,
                        &svc_target,
                        environment_url.clone(),
                        *ok,
                        td,
                        explain,
                        &warn,
                    )
                    .await,
                )
            }
            _ => None,
        };
        res.map(|o| (o, notes))
    });
    runtime.warning(&warning, &Annotation::titled("migrations"));
    if let Some(u) = &undo {
        runtime.say(format!("to undo the last migration: {u}"));
    }
    let ((ok, td, prev, sd, action, mut explain), notes) = outcome?;
    let health = (ok && !health_urls.is_empty()).then(|| {
        let _group = runtime.group("health check");
        rt.block_on(deployer_gates::http::check_health(
            &health_urls,
            args.health_deadline,
        ))
    });
    let unhealthy: Vec<String> = health
        .iter()
        .flatten()
        .filter(|h| !h.healthy)
        .map(|h| {
            let answer = h
                .status
                .map(|s| format!("HTTP {s}"))
                .or_else(|| h.last_error.clone())
                .unwrap_or_else(|| "no answer".into());
            format!("{} → {answer} after {} attempts", h.url, h.attempts)
        })
        .collect();
    if !unhealthy.is_empty() {
        explain = format!(
            "the service is back on {}, but the health check failed:\n  {}\n\
             The previous revision is serving yet unhealthy: look for a cause outside the \
             deploy (a migration that changed the schema, a dependency that is down, config).",
            short_td(&td),
            unhealthy.join("\n  ")
        );
    }
    let ok = ok && unhealthy.is_empty();
    let set = |rt: &mut Runtime, k: &str, v: String| {
        rt.set_output(k, v)
            .map_err(|e| Error::Failed(e.to_string()))
    };
    set(runtime, "task-definition-arn", td.clone())?;
    set(runtime, "previous-task-definition-arn", prev.clone())?;
    set(runtime, "service-deployment-arn", sd)?;
    set(
        runtime,
        "status",
        if ok {
            "succeeded".into()
        } else {
            "failed".into()
        },
    )?;
    let mut table = Table::new(["service", "from", "to", "action"]);
    table.row([
        format!("{} ({})", svc_target.service, svc_target.cluster),
        short_td(&prev).to_string(),
        short_td(&td).to_string(),
        action.clone(),
    ]);
    let mut md = format!(
        "## {} Rollback\n\n{}\n> ⚠️ {warning}\n",
        if ok { "✅" } else { "❌" },
        table.render()
    );
    if let Some(u) = &undo {
        md.push_str(&format!(
            "\nTo undo the last migration:\n\n{}\n",
            code_block("sh", u)
        ));
    }
    if let Some(results) = &health {
        let mut t = Table::new(["health check", "answer", "attempts"]);
        for h in results {
            t.row([
                h.url.clone(),
                if h.healthy {
                    format!("✅ {}", h.status.map(|s| s.to_string()).unwrap_or_default())
                } else {
                    format!(
                        "❌ {}",
                        h.status
                            .map(|s| format!("HTTP {s}"))
                            .or_else(|| h.last_error.clone())
                            .unwrap_or_default()
                    )
                },
                h.attempts.to_string(),
            ]);
        }
        md.push('\n');
        md.push_str(&t.render());
    }
    if !explain.trim().is_empty() {
        md.push_str(&code_block("text", &explain));
    }
    if let Some((notes_md, deployment_id)) = &notes {
        md.push_str("\n### Notifications\n\n");
        md.push_str(notes_md);
        if let Some(id) = deployment_id {
            set(runtime, "github-deployment-id", id.to_string())?;
        }
    }
    let _ = runtime.summary(&md);
    if ok {
        runtime.say(format!(
            "✅ {} is back on {} ({action})",
            svc_target.service,
            short_td(&td)
        ));
        Ok(())
    } else {
        Err(Error::Failed(format!(
            "the rollback of {} did not succeed: {action}\n{explain}",
            svc_target.service
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undo_hint_only_for_alembic() {
        let m = deployer_config::Migration {
            container: None,
            command: vec!["alembic".into(), "upgrade".into(), "head".into()],
            preset: None,
        };
        assert!(undo_hint("api", Some(&m)).is_some_and(|h| h.contains("alembic downgrade -1")));
        let m = deployer_config::Migration {
            container: None,
            command: vec!["./migrate".into()],
            preset: None,
        };
        assert!(undo_hint("api", Some(&m)).is_none());
        assert!(undo_hint("api", None).is_none());
    }
}
