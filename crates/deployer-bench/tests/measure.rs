//! `measure::run_once` through the real helper binary: times, exit status, timeouts, and a
//! peak RSS that is the command's own whatever this process holds or allocates meanwhile.

use std::time::Duration;

use deployer_bench::measure::{self, Spec, run_once, sample};

fn helper() {
    measure::set_helper(env!("CARGO_BIN_EXE_deployer-bench"));
}

fn python_touching(mib: u64) -> Spec {
    // `b"x" * n` writes every byte, so the pages are resident (a zeroed bytearray may not be).
    Spec::new("python3", &std::env::temp_dir()).args([
        "-c".to_string(),
        format!("import time; b = b'x' * ({mib} << 20); time.sleep(0.2)"),
    ])
}

#[test]
fn a_small_child_is_not_charged_with_our_memory() {
    helper();
    // This process holds far more than `sleep` needs, and keeps allocating while it runs
    // (the parallel tests and ecs-sim do that to the bench): none of it may be charged.
    let ballast: Vec<u8> = vec![1; 256 << 20];
    let grower = std::thread::spawn(|| {
        let mut more = Vec::new();
        for _ in 0..20 {
            more.push(vec![2u8; 8 << 20]);
            std::thread::sleep(Duration::from_millis(10));
        }
        more.len()
    });
    let r = run_once(
        &Spec::new("sleep", &std::env::temp_dir()).arg("0.3"),
        None,
        Duration::from_secs(60),
    )
    .expect("run");
    assert_eq!(grower.join().expect("grower"), 20);
    assert!(r.success);
    assert!(r.max_rss_kib < 16 << 10, "{} KiB", r.max_rss_kib);
    assert!(ballast.iter().step_by(4096).all(|&b| b == 1));
}

#[test]
fn a_child_larger_than_us_is_measured_at_its_own_peak() {
    helper();
    let r = run_once(&python_touching(96), None, Duration::from_secs(60)).expect("run");
    assert!(r.success, "python3 must run: {r:?}");
    let mib = r.max_rss_kib >> 10;
    assert!((96..96 + 64).contains(&mib), "{mib} MiB for a 96 MiB child");
}

#[test]
fn a_child_smaller_than_us_is_measured_at_its_own_peak() {
    helper();
    let ballast: Vec<u8> = vec![1; 300 << 20];
    let r = run_once(&python_touching(48), None, Duration::from_secs(60)).expect("run");
    assert!(r.success, "python3 must run: {r:?}");
    let mib = r.max_rss_kib >> 10;
    assert!((48..48 + 64).contains(&mib), "{mib} MiB for a 48 MiB child");
    assert!(ballast.iter().step_by(4096).all(|&b| b == 1));
}

#[test]
fn runs_measure_time_status_and_timeouts() {
    helper();
    let dir = std::env::temp_dir();
    let ok = run_once(
        &Spec::new("sh", &dir).args(["-c", "sleep 0.05"]),
        None,
        Duration::from_secs(60),
    )
    .expect("run");
    assert!(ok.success && !ok.timed_out);
    assert!(ok.wall >= Duration::from_millis(50), "{:?}", ok.wall);
    assert!(ok.max_rss_kib > 0);
    let fail = run_once(&Spec::new("false", &dir), None, Duration::from_secs(60)).expect("run");
    assert!(!fail.success && !fail.timed_out);
    let slow = run_once(
        &Spec::new("sleep", &dir).arg("30"),
        None,
        Duration::from_millis(200),
    )
    .expect("run");
    assert!(slow.timed_out && !slow.success);
    assert!(slow.wall < Duration::from_secs(20), "{:?}", slow.wall);
    let s = sample(
        &Spec::new("true", &dir),
        1,
        3,
        None,
        Duration::from_secs(60),
        &|| {},
    )
    .expect("sample");
    assert_eq!(s.runs.len(), 3);
    assert!(s.all_ok() && s.median().is_some());
}

#[test]
fn output_goes_to_the_log_and_a_missing_program_is_an_error() {
    helper();
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("run.log");
    let r = run_once(
        &Spec::new("sh", dir.path())
            .args(["-c", "echo out; echo err >&2; echo \"$BENCH_X\""])
            .env("BENCH_X", "from-env"),
        Some(&log),
        Duration::from_secs(60),
    )
    .expect("run");
    assert!(r.success);
    let text = std::fs::read_to_string(&log).expect("log");
    assert!(
        text.contains("out") && text.contains("err") && text.contains("from-env"),
        "{text}"
    );
    let missing = run_once(
        &Spec::new("/nonexistent/program", dir.path()),
        None,
        Duration::from_secs(60),
    );
    let err = missing
        .expect_err("a program that cannot start is an error")
        .to_string();
    assert!(
        err.contains("/nonexistent/program") || err.contains("No such file"),
        "{err}"
    );
}
