//! Running a command and measuring it: wall time around spawn → reap, peak RSS (see
//! [`Run::max_rss_kib`]), a watchdog that kills a run that takes too long, and medians.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::BenchError;

/// One finished run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Run {
    pub wall: Duration,
    /// Peak resident set size of the child, in KiB.
    ///
    /// From the child's `rusage` (`wait4`) when that is above this process's own peak,
    /// else from the child's `VmHWM`, sampled every 5 ms while it runs. Linux carries the
    /// high-water mark of the address space a process *leaves* at `execve` into its
    /// `ru_maxrss`, and a spawned child leaves this process's (vfork): its `ru_maxrss`
    /// is never below the bench's own peak (about 20 MB once ecs-sim runs in it).
    pub max_rss_kib: u64,
    pub success: bool,
    pub timed_out: bool,
    /// When the child exited (before it was reaped): lags are measured up to here.
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

/// Runs `spec` once; stdout/stderr go to `log` (appended) or are discarded.
pub fn run_once(spec: &Spec, log: Option<&Path>, timeout: Duration) -> Result<Run, BenchError> {
    let mut cmd = Command::new(&spec.program);
    cmd.args(&spec.args)
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
    let own_peak = vm_hwm_kib("self").unwrap_or(0);
    let start = Instant::now();
    let child = cmd
        .spawn()
        .map_err(|e| BenchError::Io(format!("cannot start {}", spec.display()), e))?;
    let pid = child.id() as libc::pid_t;
    // Watchdog: kills the child when it outlives `timeout`. The child is not reaped until
    // the watchdog has been told it exited, so the pid cannot be reused under it.
    let (tx, rx) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        let deadline = Instant::now() + timeout;
        let mut hwm = 0;
        loop {
            if let Some(k) = vm_hwm_kib(&pid.to_string()) {
                hwm = hwm.max(k);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left.min(Duration::from_millis(5))) {
                Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => return (false, hwm),
                Err(mpsc::RecvTimeoutError::Timeout) if left.is_zero() => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
        }
        // SAFETY: plain syscall on a pid we spawned and have not reaped yet.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
        (true, hwm)
    });
    // Wait for exit without reaping (WNOWAIT), stop the clock, then reap with rusage.
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
            break;
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(BenchError::Io("waitid".into(), err));
        }
    }
    let ended = Instant::now();
    let wall = ended - start;
    let _ = tx.send(());
    let (timed_out, sampled_hwm) = watchdog.join().unwrap_or((false, 0));
    let mut status: libc::c_int = 0;
    // SAFETY: zeroed rusage is a valid out-parameter.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: reaping our own exited child.
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if rc < 0 {
        return Err(BenchError::Io(
            "wait4".into(),
            std::io::Error::last_os_error(),
        ));
    }
    drop(child); // already reaped; dropping a Child does not wait
    let success = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    Ok(Run {
        wall,
        max_rss_kib: peak_rss(usage.ru_maxrss.max(0) as u64, own_peak, sampled_hwm),
        success: success && !timed_out,
        timed_out,
        ended,
    })
}

/// `VmHWM` of `/proc/<pid>/status` in KiB (`pid` may be `self`).
fn vm_hwm_kib(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    crate::machine::field(&status, "VmHWM")?
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// The child's peak RSS: `rusage` is max(our peak at spawn, the child's peak), so it is
/// the child's own only when it is above ours; otherwise the sampled `VmHWM` is used.
pub fn peak_rss(rusage: u64, own_peak: u64, sampled: u64) -> u64 {
    if rusage > own_peak || sampled == 0 {
        rusage
    } else {
        sampled
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
    fn peak_rss_is_the_childs_own() {
        // rusage above our own peak: it is the child's.
        assert_eq!(peak_rss(50_000, 20_000, 30_000), 50_000);
        // rusage equal to our peak: the child stayed below it; the samples tell.
        assert_eq!(peak_rss(20_000, 20_000, 12_000), 12_000);
        // Nothing sampled (a very short run): rusage is all there is.
        assert_eq!(peak_rss(20_000, 20_000, 0), 20_000);
    }

    #[test]
    fn a_small_child_is_not_charged_with_our_memory() {
        // Grow this process well above what `sleep` needs.
        let ballast: Vec<u8> = vec![1; 64 << 20];
        assert!(ballast.iter().map(|&b| u64::from(b)).sum::<u64>() > 0);
        let r = run_once(
            &Spec::new("sleep", &std::env::temp_dir()).arg("0.3"),
            None,
            Duration::from_secs(10),
        )
        .expect("run");
        assert!(r.success);
        assert!(r.max_rss_kib < 32 << 10, "{} KiB", r.max_rss_kib);
        drop(ballast);
    }

    #[test]
    fn runs_measure_time_rss_and_timeouts() {
        let dir = std::env::temp_dir();
        let ok = run_once(
            &Spec::new("sh", &dir).args(["-c", "sleep 0.05"]),
            None,
            Duration::from_secs(10),
        )
        .expect("run");
        assert!(ok.success && !ok.timed_out);
        assert!(ok.wall >= ms(50), "{:?}", ok.wall);
        assert!(ok.max_rss_kib > 0);
        let fail = run_once(&Spec::new("false", &dir), None, Duration::from_secs(10)).expect("run");
        assert!(!fail.success);
        let slow = run_once(
            &Spec::new("sleep", &dir).arg("5"),
            None,
            Duration::from_millis(100),
        )
        .expect("run");
        assert!(slow.timed_out && !slow.success);
        assert!(slow.wall < Duration::from_secs(4));
        let s = sample(
            &Spec::new("true", &dir),
            1,
            3,
            None,
            Duration::from_secs(5),
            &|| {},
        )
        .expect("sample");
        assert_eq!(s.runs.len(), 3);
        assert!(s.all_ok() && s.median().is_some());
    }
}
