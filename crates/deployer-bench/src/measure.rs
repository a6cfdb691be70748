//! Running a command and measuring it: wall time around spawn → exit, the command's own
//! peak RSS, a watchdog that kills a run that takes too long, and medians.
//!
//! Every run goes through a small helper, this crate's own binary started as
//! `deployer-bench measure-child …`, which spawns the command, waits for it and reports.
//! Why: Linux carries the high-water mark of the address space a process *leaves* at
//! `execve` into that process's `ru_maxrss`. A command spawned by the bench leaves the
//! bench's address space (`posix_spawn` shares it; `fork` copies it, high-water mark
//! included), so its `ru_maxrss` is never below the bench's own peak, and that peak moves
//! whenever another thread allocates (ecs-sim runs in the bench; tests run in parallel).
//! The helper is a fresh `execve` holding a few MiB, so the command it spawns starts from
//! that small floor and the helper's `wait4` gives the command's own peak, whatever this
//! process does meanwhile.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::BenchError;

/// One finished run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Run {
    pub wall: Duration,
    /// Peak resident set size of the command, in KiB: its own `ru_maxrss`, read by the
    /// helper (see the module header), so it never includes the bench's memory. Its floor
    /// is the helper's own few MiB at spawn time.
    pub max_rss_kib: u64,
    pub success: bool,
    pub timed_out: bool,
    /// When the command's helper had reaped it: lags are measured up to here.
    pub ended: Instant,
}

/// Repeated runs of one command.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub runs: Vec<Run>,
}

impl Sample {
    pub fn median(&self) -> Option<Duration> {
        median(self.runs.iter().map(|r| r.wall).collect())
    }

    pub fn max_rss_kib(&self) -> u64 {
        self.runs.iter().map(|r| r.max_rss_kib).max().unwrap_or(0)
    }

    pub fn all_ok(&self) -> bool {
        !self.runs.is_empty() && self.runs.iter().all(|r| r.success)
    }

    pub fn timed_out(&self) -> bool {
        self.runs.iter().any(|r| r.timed_out)
    }
}

/// The median (mean of the two middle values for an even count).
pub fn median(mut values: Vec<Duration>) -> Option<Duration> {
    if values.is_empty() {
        return None;
    }
    values.sort();
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2
    })
}

/// What to run.
#[derive(Debug, Clone)]
pub struct Spec {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub dir: PathBuf,
    pub env: Vec<(String, String)>,
}

impl Spec {
    pub fn new(program: impl Into<PathBuf>, dir: &Path) -> Spec {
        Spec {
            program: program.into(),
            args: Vec::new(),
            dir: dir.to_path_buf(),
            env: Vec::new(),
        }
    }

    pub fn arg(mut self, a: impl Into<String>) -> Spec {
        self.args.push(a.into());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, a: I) -> Spec {
        self.args.extend(a.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, k: &str, v: impl Into<String>) -> Spec {
        self.env.push((k.to_string(), v.into()));
        self
    }

    /// `program args…` for the log and the report.
    pub fn display(&self) -> String {
        let name = self
            .program
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        std::iter::once(name)
            .chain(self.args.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The first argument that makes the bench binary the measuring helper.
pub const HELPER_COMMAND: &str = "measure-child";

/// How long past a run's own timeout the helper itself is given before it is killed (it
/// kills the command at the timeout and reports; this only guards against a stuck helper).
const HELPER_GRACE: Duration = Duration::from_secs(30);

static HELPER: OnceLock<PathBuf> = OnceLock::new();

/// Uses `path` (a `deployer-bench` binary) as the measuring helper instead of this
/// process's own executable: for tests, whose executable is the test harness.
pub fn set_helper(path: impl Into<PathBuf>) {
    let _ = HELPER.set(path.into());
}

fn helper() -> Result<PathBuf, BenchError> {
    match HELPER.get() {
        Some(path) => Ok(path.clone()),
        None => std::env::current_exe()
            .map_err(|e| BenchError::Io("cannot find the deployer-bench binary".into(), e)),
    }
}

/// Runs `spec` once; stdout/stderr go to `log` (appended) or are discarded.
pub fn run_once(spec: &Spec, log: Option<&Path>, timeout: Duration) -> Result<Run, BenchError> {
    let result = result_path();
    let mut cmd = Command::new(helper()?);
    cmd.arg(HELPER_COMMAND)
        .arg(&result)
        .arg(timeout.as_millis().to_string())
        .arg(&spec.program)
        .args(&spec.args)
        .current_dir(&spec.dir)
        .stdin(Stdio::null());
    for (k, v) in &spec.env {
        cmd.env(k, v);
    }
    match log {
        Some(path) => {
            let open = || {
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| BenchError::Io(format!("cannot open {}", path.display()), e))
            };
            cmd.stdout(open()?).stderr(open()?);
        }
        None => {
            cmd.stdout(Stdio::null()).stderr(Stdio::null());
        }
    }
    // Its own process group: a stuck helper is killed together with the command it runs.
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd.spawn().map_err(|e| {
        BenchError::Io(format!("cannot start the helper for {}", spec.display()), e)
    })?;
    let group = child.id() as libc::pid_t;
    let guard = Watchdog::start(group, timeout.saturating_add(HELPER_GRACE), Signal::Group);
    let status = child.wait();
    let ended = Instant::now();
    guard.stop();
    let status = status.map_err(|e| BenchError::Io("waiting for the helper".into(), e))?;
    let report = std::fs::read_to_string(&result).unwrap_or_default();
    let _ = std::fs::remove_file(&result);
    parse_report(&report, ended).ok_or_else(|| {
        BenchError::Tool(format!(
            "cannot measure {}: the helper ({status}) reported {:?}",
            spec.display(),
            report.trim()
        ))
    })
}

/// A fresh path for one helper report.
fn result_path() -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("deployer-bench-run-{}-{n}", std::process::id()))
}

/// The helper's report: `wall_ns rss_kib success timed_out`, or `error <message>`.
fn parse_report(report: &str, ended: Instant) -> Option<Run> {
    let fields: Vec<u64> = report
        .split_whitespace()
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    let &[wall_ns, max_rss_kib, success, timed_out] = fields.as_slice() else {
        return None;
    };
    Some(Run {
        wall: Duration::from_nanos(wall_ns),
        max_rss_kib,
        success: success == 1,
        timed_out: timed_out == 1,
        ended,
    })
}

/// The helper's entry point: `main` calls it first and exits with its code when the
/// process was started as `deployer-bench measure-child RESULT TIMEOUT_MS PROGRAM ARGS…`.
pub fn helper_main() -> Option<i32> {
    let mut args = std::env::args_os().skip(1);
    if args.next()? != HELPER_COMMAND {
        return None;
    }
    let (Some(result), Some(timeout_ms), Some(program)) = (args.next(), args.next(), args.next())
    else {
        eprintln!("deployer-bench {HELPER_COMMAND}: RESULT TIMEOUT_MS PROGRAM [ARGS…] expected");
        return Some(2);
    };
    let timeout = timeout_ms
        .to_str()
        .and_then(|t| t.parse().ok())
        .map(Duration::from_millis)
        .unwrap_or(Duration::MAX);
    let report = match measure_command(&program, args.collect(), timeout) {
        Ok(m) => format!(
            "{} {} {} {}\n",
            m.wall.as_nanos(),
            m.max_rss_kib,
            u8::from(m.success),
            u8::from(m.timed_out)
        ),
        Err(e) => format!("error {e}\n"),
    };
    Some(match std::fs::write(&result, report) {
        Ok(()) => 0,
        Err(_) => 1,
    })
}

/// What the helper measures of the command it runs.
struct Measured {
    wall: Duration,
    max_rss_kib: u64,
    success: bool,
    timed_out: bool,
}

/// Spawns `program` (its stdio are the helper's), kills it at `timeout`, and reaps it with
/// `wait4` for its own rusage.
fn measure_command(
    program: &OsString,
    args: Vec<OsString>,
    timeout: Duration,
) -> std::io::Result<Measured> {
    let start = Instant::now();
    let child = Command::new(program).args(args).spawn()?;
    let pid = child.id() as libc::pid_t;
    let guard = Watchdog::start(pid, timeout, Signal::Process);
    wait_for_exit(pid)?;
    let wall = start.elapsed();
    let timed_out = guard.stop();
    let mut status: libc::c_int = 0;
    // SAFETY: zeroed rusage is a valid out-parameter.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: reaping our own exited child.
    if unsafe { libc::wait4(pid, &mut status, 0, &mut usage) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    drop(child); // already reaped; dropping a Child does not wait
    let exited_ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    Ok(Measured {
        wall,
        max_rss_kib: usage.ru_maxrss.max(0) as u64,
        success: exited_ok && !timed_out,
        timed_out,
    })
}

/// Waits until `pid` has exited without reaping it (`WNOWAIT`), so the clock stops at the
/// exit and the pid stays ours while the watchdog may still signal it.
fn wait_for_exit(pid: libc::pid_t) -> std::io::Result<()> {
    // SAFETY: zeroed siginfo is a valid out-parameter.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: waitid on our own child with a valid out-pointer.
        let rc = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if rc == 0 {
            return Ok(());
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

#[derive(Clone, Copy)]
enum Signal {
    Process,
    Group,
}

/// Kills a child (or its process group) that outlives a deadline. The child must not be
/// reaped before [`Watchdog::stop`], so its pid cannot be reused under the watchdog.
struct Watchdog {
    stop: mpsc::Sender<()>,
    thread: std::thread::JoinHandle<bool>,
}

impl Watchdog {
    fn start(pid: libc::pid_t, timeout: Duration, target: Signal) -> Watchdog {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            if !matches!(
                stopped.recv_timeout(timeout),
                Err(mpsc::RecvTimeoutError::Timeout)
            ) {
                return false;
            }
            let pid = match target {
                Signal::Process => pid,
                Signal::Group => -pid,
            };
            // SAFETY: plain syscall on a child (or its group) we have not reaped yet.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
            true
        });
        Watchdog { stop, thread }
    }

    /// Stops the watchdog; true when it had fired.
    fn stop(self) -> bool {
        let _ = self.stop.send(());
        self.thread.join().unwrap_or(false)
    }
}
/// `warmup` unmeasured runs (the first one logged), then `runs` measured ones. Stops
/// early when a run fails or times out (the sample then says so).
pub fn sample(
    spec: &Spec,
    warmup: usize,
    runs: usize,
    log: Option<&Path>,
    timeout: Duration,
    before_each: &dyn Fn(),
) -> Result<Sample, BenchError> {
    for i in 0..warmup {
        before_each();
        let r = run_once(spec, if i == 0 { log } else { None }, timeout)?;
        if !r.success {
            return Ok(Sample { runs: vec![r] });
        }
    }
    let mut out = Vec::with_capacity(runs);
    for _ in 0..runs {
        before_each();
        let r = run_once(spec, None, timeout)?;
        out.push(r);
        if !r.success {
            break;
        }
    }
    Ok(Sample { runs: out })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn medians() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![ms(5)]), Some(ms(5)));
        assert_eq!(median(vec![ms(9), ms(1), ms(5)]), Some(ms(5)));
        assert_eq!(median(vec![ms(4), ms(1), ms(2), ms(100)]), Some(ms(3)));
    }

    #[test]
    fn helper_reports_are_read_strictly() {
        let now = Instant::now();
        let run = parse_report("50000000 2048 1 0\n", now).expect("a report");
        assert_eq!(run.wall, ms(50));
        assert_eq!(run.max_rss_kib, 2048);
        assert!(run.success && !run.timed_out);
        assert_eq!(parse_report("", now), None);
        assert_eq!(parse_report("error No such file or directory", now), None);
        assert_eq!(parse_report("1 2 3", now), None);
    }
}
