//! `rollback`: Roll an ECS service back to its last successful deployment or a named target.

use std::time::Duration;

use deployer_aws::cli::{
    AwsArgs, aws_context, identity_line, load_config, parse_duration, resolve_service,
    tokio_runtime,
};
use deployer_aws::deploy::{DeployRequest, OnFailure, Source, deploy_service, wait_rollback};
use deployer_aws::ecs::{Ecs, short_td};
use deployer_aws::logs::Logs;
use deployer_aws::rollback::{Target, resolve};
use deployer_aws::wait::{JudgeOptions, WatchOptions};
use deployer_core::Runtime;
use deployer_core::cli::CommonArgs;
use deployer_core::markdown::{Table, code_block};
use deployer_core::runtime::Annotation;

pub use deployer_aws::Error;

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
    #[arg(long, env = "DEPLOYER_TO_REVISION", conflicts_with_all = ["to_task_definition", "to_image_tag", "to_sha"])]
    pub to_revision: Option<u32>,
    /// Roll back to this task definition (ARN or family:revision).
    #[arg(long, env = "DEPLOYER_TO_TASK_DEFINITION", conflicts_with_all = ["to_image_tag", "to_sha"])]
    pub to_task_definition: Option<String>,
    /// Roll back to the newest revision whose image carries this tag (e.g. v1.2.3).
    #[arg(long, env = "DEPLOYER_TO_IMAGE_TAG", conflicts_with = "to_sha")]
    pub to_image_tag: Option<String>,
    /// Roll back to the newest revision built from this commit (image tag or task-definition tag contains it).
    #[arg(long, env = "DEPLOYER_TO_SHA")]
    pub to_sha: Option<String>,
    /// How long to wait for the rollback to finish.
    #[arg(long, env = "DEPLOYER_TIMEOUT", default_value = "15m", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Poll interval.
    #[arg(long, env = "DEPLOYER_POLL_INTERVAL", default_value = "5s", value_parser = parse_duration)]
    pub poll_interval: Duration,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

fn target(args: &Args) -> Result<Target, Error> {
    if let Some(n) = args.to_revision {
        return Ok(Target::Revision(n));
    }
    if let Some(t) = args.to_task_definition.as_deref().filter(|t| !t.is_empty()) {
        return Ok(Target::TaskDefinition(t.to_string()));
    }
    if let Some(t) = args
        .to_image_tag
        .as_deref()
        .or(args.to_sha.as_deref())
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        if args.to_sha.is_some() && t.len() < 7 {
            return Err(Error::BadInput(format!(
                "--to-sha `{t}` is too short: give at least 7 characters"
            )));
        }
        return Ok(Target::ImageTag(t.to_string()));
    }
    Ok(Target::Auto)
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
    let cfg = load_config(&args.aws)?;
    let svc_target = resolve_service(
        cfg.as_ref(),
        args.aws.environment.as_deref(),
        args.cluster.as_deref(),
        &args.service,
    )?;
    let wanted = target(args)?;
    let rt = tokio_runtime()?;
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
        let svc = ecs
            .describe_service(&svc_target.cluster, &svc_target.service)
            .await?;
        let history = ecs
            .list_service_deployments(&svc_target.cluster, &svc_target.service, None)
            .await
            .unwrap_or_default();
        let active = history
            .iter()
            .find(|d| matches!(d.status.as_str(), "IN_PROGRESS" | "PENDING"))
            .cloned();
        if let (Some(active), Target::Auto) = (&active, &wanted) {
            say(&format!(
                "a deployment is in progress ({}); stopping it with rollback",
                active.arn
            ));
            ecs.stop_service_deployment(&active.arn, true).await?;
            let d = wait_rollback(
                &ecs,
                &active.arn,
                args.timeout,
                args.poll_interval,
                &say,
                &svc_target.service,
            )
            .await?;
            let now = ecs
                .describe_service(&svc_target.cluster, &svc_target.service)
                .await?;
            let ok = d.status == "ROLLBACK_SUCCESSFUL";
            return Ok::<_, Error>((
                ok,
                now.task_definition,
                svc.task_definition.clone(),
                active.arn.clone(),
                format!("StopServiceDeployment(ROLLBACK) → {}", d.status),
                String::new(),
            ));
        }
        let resolved = resolve(&ecs, &svc_target.cluster, &svc, &wanted).await?;
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
            watch: WatchOptions {
                judge: JudgeOptions {
                    timeout: args.timeout,
                    ..Default::default()
                },
                poll_interval: args.poll_interval,
                ..Default::default()
            },
            continue_deployment: false,
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
    });
    runtime.warning(&warning, &Annotation::titled("migrations"));
    if let Some(u) = &undo {
        runtime.say(format!("to undo the last migration: {u}"));
    }
    let (ok, td, prev, sd, action, explain) = outcome?;
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
    if !explain.trim().is_empty() {
        md.push_str(&code_block("text", &explain));
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
