//! `run-migration`: Run a database migration as a one-off ECS task and return its exit code.

use std::time::Duration;

use deployer_aws::cli::{
    AwsArgs, aws_context, cancelled, check_poll_within_timeout, expand_image, identity_line,
    listen_for_cancellation, load_config, non_blank, parse_poll_interval, parse_positive_duration,
    resolve_service, tokio_runtime,
};
use deployer_aws::ecs::{Ecs, short_td};
use deployer_aws::logs::Logs;
use deployer_aws::migration::{self, MigrationRequest, alembic_command, split_command};
use deployer_aws::taskdef::{self, ImageSpec};
use deployer_core::Runtime;
use deployer_core::cli::CommonArgs;
use deployer_core::markdown::Table;

pub use deployer_aws::Error;

/// Every step output this binary sets (`$GITHUB_OUTPUT`). actions/run-migration/action.yml
/// declares exactly these; deployer-action-tests checks both that and that every
/// `set_output` name in this crate is listed here.
pub const OUTPUTS: &[&str] = &[
    "exit-code",
    "task-arn",
    "task-definition-arn",
    "duration-seconds",
];

/// Run a database migration as a one-off ECS task and return its exit code.
///
/// The task copies the service's network configuration, launch type / capacity
/// provider and platform version, runs in a separate `<family>-migrate` task definition
/// family (so it never becomes a rollback target), streams the container's awslogs
/// live, and exits with the container's own exit code.
#[derive(Debug, clap::Parser)]
#[command(
    name = "run-migration",
    version,
    about = "Run a database migration as a one-off ECS task and return its exit code"
)]
pub struct Args {
    /// ECS cluster (default: from deployer.yml).
    #[arg(long, env = "DEPLOYER_CLUSTER")]
    pub cluster: Option<String>,
    /// ECS service (or deployer.yml service key) whose task definition and networking are used.
    #[arg(long, env = "DEPLOYER_SERVICE")]
    pub service: String,
    /// Image being deployed: `repo:tag` or `container=repo:tag,...` (default: the service's current images).
    #[arg(long, env = "DEPLOYER_IMAGE")]
    pub image: Option<String>,
    /// Container whose command is replaced and whose exit code counts (default: config, else the first essential one).
    #[arg(long, env = "DEPLOYER_CONTAINER")]
    pub container: Option<String>,
    /// Command to run: a shell-like string or a JSON array (default: deployer.yml's migration command).
    #[arg(long, env = "DEPLOYER_COMMAND")]
    pub command: Option<String>,
    /// Preset: `alembic`.
    #[arg(long, env = "DEPLOYER_PRESET")]
    pub preset: Option<String>,
    /// Alembic action with `--preset alembic`: upgrade (head), downgrade (-1), current, history.
    #[arg(long, env = "DEPLOYER_ALEMBIC", default_value = "upgrade")]
    pub alembic: String,
    /// How long the migration may run before it is stopped.
    #[arg(long, env = "DEPLOYER_TIMEOUT", default_value = "30m", value_parser = parse_positive_duration)]
    pub timeout: Duration,
    /// How often the task and its logs are read (at least 0.1s, not longer than --timeout).
    #[arg(long, env = "DEPLOYER_POLL_INTERVAL", default_value = "3s", value_parser = parse_poll_interval)]
    pub poll_interval: Duration,
    /// Idempotency token (default: GITHUB_RUN_ID-GITHUB_RUN_ATTEMPT-service under Actions).
    #[arg(long, env = "DEPLOYER_CLIENT_TOKEN")]
    pub client_token: Option<String>,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

fn command(
    args: &Args,
    cfg_migration: Option<&deployer_config::Migration>,
) -> Result<Vec<String>, Error> {
    if let Some(c) = &args.command {
        return split_command(c);
    }
    let preset = args
        .preset
        .clone()
        .or_else(|| cfg_migration.and_then(|m| m.preset.clone()));
    match preset.as_deref() {
        Some("alembic") => return alembic_command(&args.alembic),
        Some(other) => {
            return Err(Error::BadInput(format!(
                "--preset `{other}` is not known (known: alembic)"
            )));
        }
        None => {}
    }
    match cfg_migration.map(|m| m.command.clone()).filter(|c| !c.is_empty()) {
        Some(c) => Ok(c),
        None => Err(Error::BadInput(
            "no migration command: pass --command, or --preset alembic, or set services.<name>.migration in deployer.yml".into(),
        )),
    }
}

/// RunTask's `clientToken`: up to 64 ASCII characters from 33 to 126 (no spaces)
/// (<https://docs.aws.amazon.com/AmazonECS/latest/APIReference/ECS_Idempotency.html>).
fn check_client_token(token: &str) -> Result<(), Error> {
    if token.len() > 64 || !token.bytes().all(|b| (33..=126).contains(&b)) {
        return Err(Error::BadInput(format!(
            "--client-token `{token}` is not a RunTask client token: use up to 64 printable ASCII characters without spaces"
        )));
    }
    Ok(())
}

/// Flag values that parse but make no sense, refused before anything is read or called.
fn validate(args: &Args) -> Result<(), Error> {
    check_poll_within_timeout(args.poll_interval, args.timeout)?;
    let leave_out = "give a value, or leave the flag out for the default";
    for (flag, value) in [
        ("--image", args.image.as_deref()),
        ("--container", args.container.as_deref()),
        ("--command", args.command.as_deref()),
        ("--preset", args.preset.as_deref()),
        ("--alembic", Some(args.alembic.as_str())),
    ] {
        non_blank(flag, value, leave_out)?;
    }
    if let Some(text) = args.image.as_deref()
        && taskdef::parse_images(text)?.is_empty()
    {
        return Err(Error::BadInput(format!(
            "--image `{text}` names no image: pass `repo:tag` or `container=repo:tag,...`"
        )));
    }
    match non_blank("--client-token", args.client_token.as_deref(), leave_out)? {
        Some(token) => check_client_token(token),
        None => Ok(()),
    }
}

pub fn run(args: &Args, runtime: &mut Runtime) -> Result<(), Error> {
    validate(args)?;
    let cfg = load_config(&args.aws)?;
    let target = resolve_service(
        cfg.as_ref(),
        args.aws.environment.as_deref(),
        args.cluster.as_deref(),
        &args.service,
    )?;
    let cmd = command(args, target.migration.as_ref())?;
    let images: Vec<ImageSpec> = match &args.image {
        Some(text) => taskdef::parse_images(text)?
            .into_iter()
            .map(|s| ImageSpec {
                image: expand_image(&s.image, target.image_repository.as_deref()),
                ..s
            })
            .collect(),
        None => vec![],
    };
    let client_token = args.client_token.clone().or_else(|| {
        let run = std::env::var("GITHUB_RUN_ID").ok()?;
        let attempt = std::env::var("GITHUB_RUN_ATTEMPT").unwrap_or_else(|_| "1".into());
        Some(format!("{run}-{attempt}-{}", target.service))
    });
    let req = MigrationRequest {
        cluster: target.cluster.clone(),
        service: target.service.clone(),
        images,
        default_containers: target.containers.clone(),
        container: args
            .container
            .clone()
            .or_else(|| target.migration.as_ref().and_then(|m| m.container.clone())),
        command: cmd,
        timeout: args.timeout,
        poll_interval: args.poll_interval,
        client_token,
    };
    let rt = tokio_runtime()?;
    listen_for_cancellation(&rt);
    let result = rt.block_on(async {
        let ctx = aws_context(&args.aws, cfg.as_ref()).await?;
        if let Some(id) = identity_line(&ctx).await {
            runtime.say(&id);
        }
        let ecs = Ecs::new(&ctx.config);
        let logs = Logs::new(&ctx.config);
        let rt_ref: &Runtime = runtime;
        let _group = rt_ref.group(&format!("migration: {}", req.command.join(" ")));
        let say = |s: &str| rt_ref.say(s);
        migration::run_migration(&ecs, &logs, &req, &say, cancelled()).await
    });
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            let _ = runtime.summary(&format!(
                "## ❌ Migration on {}\n\n`{}`\n\n{e}\n",
                req.service,
                req.command.join(" ")
            ));
            return Err(e);
        }
    };
    let set = |rt: &mut Runtime, k: &str, v: String| {
        rt.set_output(k, v)
            .map_err(|e| Error::Failed(e.to_string()))
    };
    set(runtime, "task-arn", report.task_arn.clone())?;
    set(
        runtime,
        "task-definition-arn",
        report.task_definition_arn.clone(),
    )?;
    set(
        runtime,
        "exit-code",
        report.exit_code.map(|c| c.to_string()).unwrap_or_default(),
    )?;
    set(
        runtime,
        "duration-seconds",
        report.duration.as_secs().to_string(),
    )?;
    let verdict = migration::verdict(&report);
    let mut table = Table::new([
        "service",
        "command",
        "task definition",
        "exit code",
        "log lines",
        "duration",
    ]);
    table.row([
        format!("{} ({})", req.service, req.cluster),
        format!("`{}`", req.command.join(" ")),
        short_td(&report.task_definition_arn).to_string(),
        report
            .exit_code
            .map(|c| c.to_string())
            .unwrap_or_else(|| "none".into()),
        if report.logs_readable {
            report.log_lines.to_string()
        } else {
            "not awslogs".into()
        },
        format!("{} s", report.duration.as_secs()),
    ]);
    let mut md = format!(
        "## {} Migration\n\n{}",
        if verdict.is_ok() { "✅" } else { "❌" },
        table.render()
    );
    if let Err(e) = &verdict {
        md.push_str(&format!("\n{e}\n"));
        if !report.last_lines.is_empty() {
            md.push_str(&format!(
                "\nLast {} log line(s) of `{}`:\n\n{}",
                report.last_lines.len(),
                report.container,
                deployer_core::markdown::code_block("text", &report.last_lines.join("\n"))
            ));
        }
    }
    let _ = runtime.summary(&md);
    if verdict.is_ok() {
        runtime.say(format!(
            "✅ migration finished with exit code 0 in {} s",
            report.duration.as_secs()
        ));
    }
    verdict
}
