//! Running one workflow under `act` (host mode) and reading what happened from its JSON
//! log: each job's result, each step's outputs, annotations and the job summaries.
//!
//! act 0.2.89 in host mode gives every step a fresh `$GITHUB_STEP_SUMMARY` file and, after
//! the step, logs its content as a `"command":"summary"` record; a composite action's
//! summary is logged twice (inner step, then the action's step), so consecutive duplicates
//! within a job are dropped.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// Everything act needs besides the workflow and its event.
#[derive(Debug, Clone)]
pub struct ActConfig {
    pub act: PathBuf,
    /// `--local-repository org/deployer@v1=<this>`.
    pub deployer_checkout: PathBuf,
    /// `--action-cache-path`: act's per-run workspaces live here.
    pub cache_dir: PathBuf,
    pub env: Vec<(String, String)>,
    pub secrets: Vec<(String, String)>,
    pub vars: Vec<(String, String)>,
    /// act is killed after this long (a hung run must not hang the suite).
    pub timeout: Duration,
}

/// The event that starts the run.
#[derive(Debug, Clone)]
pub struct Trigger {
    /// `push`, `workflow_dispatch`, `repository_dispatch`.
    pub event_name: String,
    pub payload: Value,
}

impl Trigger {
    pub fn dispatch(inputs: Value) -> Trigger {
        Trigger {
            event_name: "workflow_dispatch".into(),
            payload: serde_json::json!({ "inputs": inputs }),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobResult {
    /// act's job name, e.g. `deploy-production/production` or
    /// `production/deploy/deploy api → production` inside a called workflow.
    pub job: String,
    pub result: String,
}

#[derive(Debug, Clone)]
pub struct Summary {
    pub job: String,
    pub content: String,
}

#[derive(Debug, Clone)]
pub struct Output {
    pub job: String,
    pub name: String,
    pub value: String,
}

/// What one act run did.
#[derive(Debug, Clone, Default)]
pub struct ActRun {
    pub workflow: String,
    /// act's own exit status: success only when every job that ran succeeded.
    pub success: bool,
    pub jobs: Vec<JobResult>,
    pub summaries: Vec<Summary>,
    pub outputs: Vec<Output>,
    /// `::error::` annotations, as `job: message`.
    pub errors: Vec<String>,
    /// Human-readable log (step results, tool output), for failure messages.
    pub log: Vec<String>,
    pub elapsed: Duration,
}

impl ActRun {
    /// Result of the first job whose name contains `part`.
    pub fn job(&self, part: &str) -> Option<&str> {
        self.jobs
            .iter()
            .find(|j| j.job.contains(part))
            .map(|j| j.result.as_str())
    }

    /// Every job result whose name contains `part`.
    pub fn jobs_matching(&self, part: &str) -> Vec<&JobResult> {
        self.jobs.iter().filter(|j| j.job.contains(part)).collect()
    }

    /// The last value of step output `name` in a job whose name contains `job`.
    pub fn output(&self, job: &str, name: &str) -> Option<&str> {
        self.outputs
            .iter()
            .rev()
            .find(|o| o.job.contains(job) && o.name == name)
            .map(|o| o.value.as_str())
    }

    /// True when a log line (step output included) contains `text`.
    pub fn log_contains(&self, text: &str) -> bool {
        self.log.iter().any(|l| l.contains(text))
    }

    /// Every summary, joined (to look for a message anywhere).
    pub fn all_summaries(&self) -> String {
        self.summaries
            .iter()
            .map(|s| s.content.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The tail of the log and the job table, for an assertion message.
    pub fn describe(&self) -> String {
        let tail: Vec<&String> = self.log.iter().rev().take(150).collect();
        let tail: Vec<&str> = tail.into_iter().rev().map(String::as_str).collect();
        format!(
            "act run of {} (success: {}, {:.0?})\njobs: {:#?}\nerrors: {:#?}\n--- last log lines ---\n{}",
            self.workflow,
            self.success,
            self.elapsed,
            self.jobs,
            self.errors,
            tail.join("\n")
        )
    }
}

/// Runs `workflow` (a file under `<repo>/.github/workflows/`) for `trigger`. `on_event` sees
/// every JSON record as it arrives (the demo prints progress from it).
pub fn run(
    config: &ActConfig,
    repo: &Path,
    workflow: &str,
    trigger: &Trigger,
    on_event: &mut dyn FnMut(&Value),
) -> Result<ActRun> {
    let event_file = config
        .cache_dir
        .join(format!("event-{}.json", unique_suffix()));
    std::fs::create_dir_all(&config.cache_dir)?;
    std::fs::write(&event_file, serde_json::to_vec_pretty(&trigger.payload)?)?;
    let mut cmd = Command::new(&config.act);
    cmd.current_dir(repo)
        .arg(&trigger.event_name)
        .arg("-W")
        .arg(format!(".github/workflows/{workflow}"))
        .arg("-e")
        .arg(&event_file)
        .args([
            "-P",
            "ubuntu-latest=-self-hosted",
            "--json",
            "--no-cache-server",
        ])
        .arg("--action-cache-path")
        .arg(&config.cache_dir)
        .arg("--local-repository")
        .arg(format!(
            "org/deployer@v1={}",
            config.deployer_checkout.display()
        ))
        // One job at a time keeps a 2-core machine responsive and the log readable.
        .args(["--concurrent-jobs", "1"]);
    for (k, v) in &config.env {
        cmd.arg("--env").arg(format!("{k}={v}"));
    }
    for (k, v) in &config.secrets {
        cmd.arg("--secret").arg(format!("{k}={v}"));
    }
    for (k, v) in &config.vars {
        cmd.arg("--var").arg(format!("{k}={v}"));
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .with_context(|| format!("start {}", config.act.display()))?;
    let stderr = child.stderr.take().context("act stderr")?;
    let stderr_lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let collected = stderr_lines.clone();
    let stderr_thread = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            collected
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(line);
        }
    });
    // A watchdog: act that outlives its timeout is killed (by pid: only the act we started).
    let pid = child.id();
    let deadline = config.timeout;
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let done_flag = done.clone();
    let timed_out = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let timed_out_flag = timed_out.clone();
    std::thread::spawn(move || {
        let start = Instant::now();
        while start.elapsed() < deadline {
            if done_flag.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        if !done_flag.load(std::sync::atomic::Ordering::SeqCst) {
            timed_out_flag.store(true, std::sync::atomic::Ordering::SeqCst);
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
    });

    let mut run = ActRun {
        workflow: workflow.to_string(),
        ..ActRun::default()
    };
    let stdout = child.stdout.take().context("act stdout")?;
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        let Ok(record) = serde_json::from_str::<Value>(&line) else {
            run.log.push(line);
            continue;
        };
        on_event(&record);
        absorb(&mut run, &record);
    }
    let status = child.wait().context("wait for act")?;
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let _ = stderr_thread.join();
    run.elapsed = started.elapsed();
    run.success = status.success();
    for line in stderr_lines
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
    {
        run.log.push(format!("[act stderr] {line}"));
    }
    if timed_out.load(std::sync::atomic::Ordering::SeqCst) {
        bail!(
            "act ran longer than {:?} and was stopped\n{}",
            config.timeout,
            run.describe()
        );
    }
    Ok(run)
}

fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

fn text(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or("").to_string()
}

/// Folds one JSON record of act's log into `run`.
fn absorb(run: &mut ActRun, record: &Value) {
    let job = text(record, "job");
    let msg = text(record, "msg");
    if let Some(result) = record.get("jobResult").and_then(Value::as_str) {
        run.jobs.push(JobResult {
            job: job.clone(),
            result: result.to_string(),
        });
    }
    match record.get("command").and_then(Value::as_str) {
        Some("summary") => {
            let content = text(record, "content");
            let duplicate = run
                .summaries
                .iter()
                .rev()
                .find(|s| s.job == job)
                .is_some_and(|s| s.content == content);
            if !duplicate && !content.trim().is_empty() {
                run.summaries.push(Summary {
                    job: job.clone(),
                    content,
                });
            }
            return;
        }
        Some("set-output") => {
            run.outputs.push(Output {
                job: job.clone(),
                name: text(record, "name"),
                value: text(record, "arg"),
            });
        }
        Some("error") => run.errors.push(format!("{job}: {}", text(record, "arg"))),
        _ => {}
    }
    let line = msg.trim_end();
    if !line.is_empty() {
        run.log.push(format!("[{job}] {line}"));
    }
}

/// A short, human line for a record, or `None` for noise (the demo's live progress).
pub fn progress_line(record: &Value) -> Option<String> {
    let job = text(record, "job").trim().to_string();
    let msg = text(record, "msg");
    if let Some(result) = record.get("jobResult").and_then(Value::as_str) {
        let icon = if result == "success" { "✅" } else { "❌" };
        return Some(format!("{icon} job {job}: {result}"));
    }
    if record.get("raw_output").and_then(Value::as_bool) == Some(true) {
        let out = msg.trim_end();
        if out.is_empty() {
            return None;
        }
        return Some(
            out.lines()
                .map(|l| format!("  │ {l}"))
                .collect::<Vec<_>>()
                .join("\n"),
        );
    }
    if let Some(result) = record.get("stepResult").and_then(Value::as_str) {
        let step = text(record, "step");
        if step == "Set up job" || step == "Complete job" || step.starts_with("Post ") {
            return None;
        }
        let stage = text(record, "stage");
        if stage == "Pre" || stage == "Post" {
            return None;
        }
        let first = step.lines().next().unwrap_or("");
        let icon = match result {
            "success" => "✓",
            "skipped" => "·",
            _ => "✗",
        };
        return Some(format!("  {icon} [{job}] {first} ({result})"));
    }
    None
}
