//! One-off migration tasks: the service's networking, a `<family>-migrate` task
//! definition, live awslogs streaming with a final drain, and the container's exit code.

use std::time::{Duration, Instant};

use aws_sdk_ecs::types as t;
use serde_json::Value;

use crate::ecs::{Ecs, TaskInfo, short_td};
use crate::error::{Error, Result};
use crate::logs::{LogTarget, Logs, awslogs_target};
use crate::states::{StopCode, TaskStatus};
use crate::taskdef::{self, ImageSpec, RenderOptions};

/// `alembic upgrade head` etc.
pub fn alembic_command(action: &str) -> Result<Vec<String>> {
    let args: &[&str] = match action {
        "upgrade" => &["upgrade", "head"],
        "downgrade" => &["downgrade", "-1"],
        "current" => &["current"],
        "history" => &["history"],
        other => {
            return Err(Error::BadInput(format!(
                "--alembic `{other}` is not one of upgrade, downgrade, current, history"
            )));
        }
    };
    Ok(std::iter::once("alembic")
        .chain(args.iter().copied())
        .map(String::from)
        .collect())
}

/// Splits a command line like a shell would for simple cases (quotes, no expansion).
pub fn split_command(text: &str) -> Result<Vec<String>> {
    let trimmed = text.trim();
    if trimmed.starts_with('[') {
        return serde_json::from_str(trimmed)
            .map_err(|e| Error::BadInput(format!("--command JSON array is invalid: {e}")));
    }
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut has = false;
    for c in trimmed.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                has = true;
            }
            (None, c) if c.is_whitespace() => {
                if has || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                    has = false;
                }
            }
            (None, c) => cur.push(c),
        }
    }
    if quote.is_some() {
        return Err(Error::BadInput(format!(
            "--command has an unclosed quote: {text}"
        )));
    }
    if has || !cur.is_empty() {
        out.push(cur);
    }
    if out.is_empty() {
        return Err(Error::BadInput("--command is empty".into()));
    }
    Ok(out)
}

#[derive(Debug, Clone)]
pub struct MigrationRequest {
    pub cluster: String,
    pub service: String,
    pub images: Vec<ImageSpec>,
    pub default_containers: Vec<String>,
    /// The container whose exit code counts (default: the first essential one).
    pub container: Option<String>,
    pub command: Vec<String>,
    pub timeout: Duration,
    pub poll_interval: Duration,
    pub client_token: Option<String>,
}

#[derive(Debug, Clone)]
pub struct MigrationReport {
    pub task_arn: String,
    pub task_definition_arn: String,
    pub container: String,
    pub exit_code: Option<i32>,
    pub stop_code: Option<StopCode>,
    pub stopped_reason: Option<String>,
    pub log_lines: usize,
    /// The container's last log lines (at most [`TAIL_LINES`]), for the failure summary.
    pub last_lines: Vec<String>,
    pub duration: Duration,
    pub logs_readable: bool,
}

fn watched_container(td: &Value, wanted: Option<&str>) -> Result<String> {
    let names = taskdef::container_names(td);
    if let Some(w) = wanted {
        if names.iter().any(|n| n == w) {
            return Ok(w.to_string());
        }
        return Err(Error::BadInput(format!(
            "the task definition has no container named `{w}`; its containers are: {}",
            names.join(", ")
        )));
    }
    let essential = td
        .get("containerDefinitions")
        .and_then(Value::as_array)
        .and_then(|cs| {
            cs.iter()
                .find(|c| c.get("essential").and_then(Value::as_bool) != Some(false))
        })
        .and_then(|c| c.get("name").and_then(Value::as_str))
        .map(String::from);
    essential
        .or_else(|| names.first().cloned())
        .ok_or_else(|| Error::BadInput("the task definition has no containers".into()))
}

/// Renders the service's definition into `<family>-migrate` and registers it if changed.
async fn migrate_definition(
    ecs: &Ecs,
    req: &MigrationRequest,
    service_td: &str,
) -> Result<(String, Value)> {
    let current = ecs.describe_task_definition_raw(service_td).await?;
    let opts = RenderOptions {
        images: req.images.clone(),
        default_containers: req.default_containers.clone(),
        env: vec![],
        tags: vec![],
    };
    let (mut rendered, _) = taskdef::render(&current, &opts)?;
    let family = taskdef::family(&rendered).unwrap_or_default();
    let migrate = if family.ends_with("-migrate") {
        family
    } else {
        format!("{family}-migrate")
    };
    if let Some(o) = rendered.as_object_mut() {
        o.insert("family".into(), Value::String(migrate.clone()));
    }
    if let Some(latest) = ecs.list_task_definitions(&migrate).await?.first() {
        let raw = ecs.describe_task_definition_raw(latest).await?;
        if taskdef::is_same(&raw, &rendered) {
            return Ok((latest.clone(), rendered));
        }
    }
    let arn = ecs.register_task_definition(&rendered).await?;
    Ok((arn, rendered))
}

/// How many of the last log lines a report keeps.
pub const TAIL_LINES: usize = 20;

/// Lines read so far: how many, and the last [`TAIL_LINES`].
#[derive(Default)]
struct LogTail {
    count: usize,
    last: std::collections::VecDeque<String>,
}

impl LogTail {
    fn push(&mut self, line: &str) {
        self.count += 1;
        if self.last.len() == TAIL_LINES {
            self.last.pop_front();
        }
        self.last.push_back(line.to_string());
    }
}

async fn drain(
    logs: &Logs,
    target: &LogTarget,
    token: &mut Option<String>,
    say: &dyn Fn(&str),
    tail: &mut LogTail,
) -> Result<usize> {
    let mut total = 0;
    for _ in 0..1000 {
        let (lines, next) = logs.forward(target, token.clone()).await?;
        let same = next == *token;
        *token = next;
        for l in &lines {
            say(l);
            tail.push(l);
        }
        total += lines.len();
        if lines.is_empty() || same {
            break;
        }
    }
    Ok(total)
}

/// `f`'s output if it is ready now, without waiting for it.
async fn already<F: std::future::Future + Unpin>(f: &mut F) -> Option<F::Output> {
    tokio::select! {
        biased;
        out = f => Some(out),
        () = std::future::ready(()) => None,
    }
}

/// Runs the migration and waits; `cancel` resolves when the workflow is cancelled.
pub async fn run_migration(
    ecs: &Ecs,
    logs: &Logs,
    req: &MigrationRequest,
    say: &dyn Fn(&str),
    cancel: impl std::future::Future<Output = &'static str>,
) -> Result<MigrationReport> {
    let started = Instant::now();
    let mut cancel = std::pin::pin!(cancel);
    let svc = ecs.describe_service(&req.cluster, &req.service).await?;
    let (td_arn, td) = migrate_definition(ecs, req, &svc.task_definition).await?;
    let container = watched_container(&td, req.container.as_deref())?;
    say(&format!(
        "running {} (container `{container}`): {}",
        short_td(&td_arn),
        req.command.join(" ")
    ));
    let mut run = ecs
        .client
        .run_task()
        .cluster(&req.cluster)
        .task_definition(&td_arn)
        .count(1)
        .started_by("deployer/run-migration")
        .overrides(
            t::TaskOverride::builder()
                .container_overrides(
                    t::ContainerOverride::builder()
                        .name(&container)
                        .set_command(Some(req.command.clone()))
                        .build(),
                )
                .build(),
        );
    if let Some(nc) = &svc.network_configuration {
        run = run.network_configuration(nc.clone());
    }
    if !svc.capacity_provider_strategy.is_empty() {
        run = run.set_capacity_provider_strategy(Some(svc.capacity_provider_strategy.clone()));
    } else if let Some(lt) = &svc.launch_type {
        run = run.launch_type(lt.clone());
    }
    if let Some(pv) = &svc.platform_version {
        run = run.platform_version(pv);
    }
    if let Some(token) = &req.client_token {
        let token: String = token
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .take(64)
            .collect();
        if !token.is_empty() {
            run = run.client_token(token);
        }
    }
    // A workflow cancelled before the task was started: start nothing.
    if let Some(why) = already(&mut cancel).await {
        return Err(Error::Failed(format!(
            "the workflow was cancelled ({why}) before the migration task was started: nothing ran"
        )));
    }
    let out = run
        .send()
        .await
        .map_err(|e| ecs.in_cluster(&req.cluster, Error::aws("RunTask", e)))?;
    if let Some(f) = out.failures().first() {
        return Err(Error::Failed(format!(
            "ECS could not start the migration task: {} {}",
            f.reason().unwrap_or_default(),
            f.detail().unwrap_or_default()
        )));
    }
    let task_arn = out
        .tasks()
        .first()
        .and_then(|t| t.task_arn())
        .map(String::from)
        .ok_or_else(|| Error::Failed("RunTask returned no task".into()))?;
    let task_id = task_arn.rsplit('/').next().unwrap_or(&task_arn).to_string();
    say(&format!("task {task_arn} started"));
    let log_target = awslogs_target(&td, &container, &task_id);
    if log_target.is_none() {
        say(&format!(
            "container `{container}` does not log with awslogs: its output cannot be shown here (only its exit code)"
        ));
    }
    let mut token: Option<String> = None;
    let mut lines = LogTail::default();
    let mut last_status: Option<TaskStatus> = None;
    let mut last_print = Instant::now();
    let task: TaskInfo = loop {
        let tasks = ecs
            .describe_tasks(&req.cluster, std::slice::from_ref(&task_arn))
            .await;
        if let Some(target) = &log_target
            && let Err(e) = drain(logs, target, &mut token, say, &mut lines).await
        {
            say(&format!("(could not read logs yet: {e})"));
        }
        match tasks {
            Ok(ts) => {
                if let Some(t) = ts.into_iter().next() {
                    if last_status.as_ref() != Some(&t.last_status)
                        || last_print.elapsed() >= Duration::from_secs(15)
                    {
                        if t.last_status != TaskStatus::Stopped {
                            say(&format!(
                                "task {}: {} · {} s",
                                t.id(),
                                t.last_status,
                                started.elapsed().as_secs()
                            ));
                        }
                        last_status = Some(t.last_status.clone());
                        last_print = Instant::now();
                    }
                    if t.last_status == TaskStatus::Stopped {
                        break t;
                    }
                }
            }
            Err(e) => say(&format!("could not read the task state (will retry): {e}")),
        }
        let reason = if started.elapsed() >= req.timeout {
            Some("timeout")
        } else {
            tokio::select! {
                _ = tokio::time::sleep(req.poll_interval) => None,
                why = &mut cancel => Some(why),
            }
        };
        if let Some(why) = reason {
            let text = if why == "timeout" {
                format!(
                    "the migration did not finish within {} s",
                    req.timeout.as_secs()
                )
            } else {
                format!("the workflow was cancelled ({why})")
            };
            let stop = ecs
                .stop_task(&req.cluster, &task_arn, &format!("deployer: {text}"))
                .await;
            if let Some(target) = &log_target {
                let _ = drain(logs, target, &mut token, say, &mut lines).await;
            }
            return Err(Error::Failed(match stop {
                Ok(()) => format!("{text}; the task {task_arn} was stopped"),
                Err(e) => {
                    format!("{text}; stopping the task {task_arn} FAILED ({e}): stop it by hand")
                }
            }));
        }
    };
    // Drain: CloudWatch may deliver the last lines after the task stopped.
    if let Some(target) = &log_target {
        let mut empty = 0;
        for _ in 0..10 {
            let n = drain(logs, target, &mut token, say, &mut lines)
                .await
                .unwrap_or(0);
            if n == 0 {
                empty += 1;
                if empty >= 2 {
                    break;
                }
            } else {
                empty = 0;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    let state = task.containers.iter().find(|c| c.name == container);
    Ok(MigrationReport {
        task_arn,
        task_definition_arn: td_arn,
        exit_code: state.and_then(|c| c.exit_code),
        stop_code: task.stop_code.clone(),
        stopped_reason: task.stopped_reason.clone(),
        log_lines: lines.count,
        last_lines: lines.last.into(),
        duration: started.elapsed(),
        logs_readable: log_target.is_some(),
        container,
    })
}

/// Turns a finished migration into Ok / the error that carries the exit code.
pub fn verdict(r: &MigrationReport) -> Result<()> {
    if r.stop_code == Some(StopCode::TaskFailedToStart) {
        return Err(Error::Failed(format!(
            "the migration task failed to start: {}",
            r.stopped_reason.clone().unwrap_or_default()
        )));
    }
    match r.exit_code {
        Some(0) => Ok(()),
        Some(code) => Err(Error::ExitCode {
            code: u8::try_from(code).ok().filter(|c| *c != 0).unwrap_or(1),
            message: format!(
                "the migration exited with code {code} (container `{}`; {})",
                r.container,
                r.stopped_reason.clone().unwrap_or_default()
            ),
        }),
        None => Err(Error::Failed(format!(
            "the migration container `{}` has no exit code: {}",
            r.container,
            r.stopped_reason
                .clone()
                .unwrap_or_else(|| "the task stopped before it ran".into())
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn alembic_presets() {
        assert_eq!(
            alembic_command("upgrade").expect("ok"),
            ["alembic", "upgrade", "head"]
        );
        assert_eq!(
            alembic_command("downgrade").expect("ok"),
            ["alembic", "downgrade", "-1"]
        );
        assert!(alembic_command("sideways").is_err());
    }

    #[test]
    fn command_splitting() {
        assert_eq!(
            split_command("python -m app 'a b' \"c\"").expect("ok"),
            ["python", "-m", "app", "a b", "c"]
        );
        assert_eq!(
            split_command(r#"["sh","-c","echo hi"]"#).expect("ok"),
            ["sh", "-c", "echo hi"]
        );
        assert!(split_command("'open").is_err());
        assert!(split_command("  ").is_err());
    }

    #[test]
    fn watched_container_defaults_to_first_essential() {
        let td = json!({"containerDefinitions": [{"name": "proxy", "essential": false}, {"name": "app"}]});
        assert_eq!(watched_container(&td, None).expect("ok"), "app");
        assert!(
            watched_container(&td, Some("nope"))
                .expect_err("bad")
                .to_string()
                .contains("proxy, app")
        );
    }

    fn report(exit: Option<i32>, stop: Option<&str>) -> MigrationReport {
        MigrationReport {
            task_arn: "t".into(),
            task_definition_arn: "td".into(),
            container: "app".into(),
            exit_code: exit,
            stop_code: stop.map(StopCode::parse),
            stopped_reason: Some("Essential container in task exited".into()),
            log_lines: 0,
            last_lines: Vec::new(),
            duration: Duration::ZERO,
            logs_readable: true,
        }
    }

    #[test]
    fn exit_codes_map() {
        assert!(verdict(&report(Some(0), None)).is_ok());
        assert_eq!(
            verdict(&report(Some(3), None))
                .expect_err("fail")
                .exit_code(),
            3
        );
        assert_eq!(
            verdict(&report(Some(256), None))
                .expect_err("fail")
                .exit_code(),
            1
        );
        assert_eq!(
            verdict(&report(None, Some("TaskFailedToStart")))
                .expect_err("fail")
                .exit_code(),
            1
        );
    }
}
