//! No input can hang a command or exhaust its memory (issue 16).
//!
//! For every binary and every file it reads from a path given from outside — deployer.yml
//! (`--config`), the event payload (`GITHUB_EVENT_PATH`), `--task-definition`, and
//! gate-check's reports — a FIFO with no writer (a plain open blocks forever), `/dev/zero`
//! (never ends), a directory, and a file one byte over its limit (sparse, so the test
//! itself stays cheap) must each end with exit 2 and a message naming the file and the
//! limit, within [`BOUND`]. A 200 KB deeply nested deployer.yml and 200 KB wide ones must
//! be refused or loaded within the same bound.
//!
//! The bound is generous on purpose (each case takes well under a second on an idle
//! machine; this one has two busy cores): what it catches is a hang, not slowness.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use deployer_core::files::{Bytes, limit};
use deployer_git::testing::TestRepo;

/// How long one command may take before it counts as hung.
const BOUND: Duration = Duration::from_secs(20);

const CONFIG: &str =
    "services:\n  api:\n    paths: [\"services/api/**\"]\n    cluster: shop\n    service: api\n";

const ALL: [&str; 6] = [
    "detect-changes",
    "semver-release",
    "ecs-deploy",
    "run-migration",
    "rollback",
    "gate-check",
];

/// Arguments and environment variables that point a binary at a file.
type Pointed = (Vec<String>, Vec<(String, String)>);
/// How one binary is pointed at a file of one kind.
type Point = fn(&Path) -> Pointed;

/// One file slot of one binary: how to point the binary at a path.
struct Slot {
    bin: &'static str,
    what: &'static str,
    limit: u64,
    point: Point,
}

fn args(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Arguments that make each binary otherwise runnable, so the file is the only fault.
fn base_args(bin: &str) -> Vec<String> {
    match bin {
        "ecs-deploy" => args(&[
            "--cluster",
            "shop",
            "--service",
            "api",
            "--image",
            "api=repo/api:v2",
        ]),
        "run-migration" => args(&[
            "--cluster",
            "shop",
            "--service",
            "api",
            "--command",
            "migrate",
        ]),
        "rollback" => args(&["--cluster", "shop", "--service", "api"]),
        "gate-check" => args(&["--junit", "junit.xml", "--min-tests", "1"]),
        _ => vec![],
    }
}

fn config_flag(path: &Path) -> Pointed {
    (vec!["--config".into(), path.display().to_string()], vec![])
}

/// `--config` plus an environment the configuration lacks: gate-check reads deployer.yml
/// only for `--environment` (documented), and the AWS commands stop at the unknown
/// environment right after loading the file instead of going on to AWS.
fn config_and_environment(path: &Path) -> Pointed {
    let (mut args, env) = config_flag(path);
    args.extend(["--environment".to_owned(), "nope".to_owned()]);
    (args, env)
}

/// How each binary is pointed at a deployer.yml.
fn config_point(bin: &str) -> Point {
    match bin {
        "detect-changes" | "semver-release" => config_flag,
        _ => config_and_environment,
    }
}

fn slots() -> Vec<Slot> {
    let mut slots: Vec<Slot> = ALL
        .iter()
        .map(|&bin| Slot {
            bin,
            what: "deployer.yml",
            limit: limit::CONFIG,
            point: config_point(bin),
        })
        .collect();
    for bin in ["detect-changes", "semver-release"] {
        slots.push(Slot {
            bin,
            what: "event payload",
            limit: limit::EVENT_PAYLOAD,
            point: |p| {
                (
                    vec![],
                    vec![
                        ("GITHUB_EVENT_NAME".into(), "push".into()),
                        ("GITHUB_EVENT_PATH".into(), p.display().to_string()),
                    ],
                )
            },
        });
    }
    slots.push(Slot {
        bin: "ecs-deploy",
        what: "--task-definition",
        limit: limit::TASK_DEFINITION,
        point: |p| {
            (
                vec!["--task-definition".into(), p.display().to_string()],
                vec![],
            )
        },
    });
    let report = |flag: &'static str| -> Point {
        match flag {
            "--junit" => |p| (vec!["--junit".into(), p.display().to_string()], vec![]),
            "--coverage" => |p| {
                let p = p.display().to_string();
                (args(&["--coverage", &p, "--min-coverage", "80"]), vec![])
            },
            "--sarif" => |p| {
                let p = p.display().to_string();
                (args(&["--sarif", &p, "--max-severity", "high"]), vec![])
            },
            "--k6" => |p| {
                let p = p.display().to_string();
                (args(&["--k6", &p, "--min-success-rate", "95"]), vec![])
            },
            _ => |p| {
                let p = p.display().to_string();
                (args(&["--locust", &p, "--min-success-rate", "95"]), vec![])
            },
        }
    };
    for (flag, what) in [
        ("--junit", "JUnit"),
        ("--coverage", "coverage"),
        ("--sarif", "SARIF"),
        ("--k6", "k6"),
        ("--locust", "Locust"),
    ] {
        slots.push(Slot {
            bin: "gate-check",
            what,
            limit: limit::REPORT,
            point: report(flag),
        });
    }
    slots
}

struct Outcome {
    code: Option<i32>,
    text: String,
    took: Duration,
}

/// Runs `bin` in `dir`; a command still running after [`BOUND`] is killed and reported
/// as hung (`code: None`).
fn run(dir: &Path, bin: &str, extra: Vec<String>, env: Vec<(String, String)>) -> Outcome {
    let binary: PathBuf = deployer_testbed::workspace_binary(bin)
        .unwrap_or_else(|| panic!("the {bin} binary is required"));
    let (out, err) = (dir.join(".stdout"), dir.join(".stderr"));
    let mut cmd = Command::new(binary);
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", dir.join("out"))
        .env("GITHUB_STEP_SUMMARY", dir.join("summary.md"))
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "AKIDBOUNDED")
        .env("AWS_SECRET_ACCESS_KEY", "bounded-input-secret")
        .env("AWS_MAX_ATTEMPTS", "1")
        // Nothing listens here: a case that reaches AWS fails fast.
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("RUST_BACKTRACE", "0")
        .args(base_args(bin))
        .args(extra)
        .envs(env)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).expect("stdout file"))
        .stderr(std::fs::File::create(&err).expect("stderr file"));
    let start = Instant::now();
    let mut child = cmd.spawn().expect("spawn");
    let code = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status.code();
        }
        if start.elapsed() > BOUND {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = start.elapsed();
    let text = std::fs::read_to_string(&out).unwrap_or_default()
        + &std::fs::read_to_string(&err).unwrap_or_default();
    Outcome { code, text, took }
}

fn repo() -> TestRepo {
    let mut repo = TestRepo::new();
    repo.write(".github/deployer.yml", CONFIG);
    repo.write("services/api/main.py", "v1\n");
    repo.commit("feat(api): first");
    repo.tag("v0.1.0");
    repo.write("services/api/main.py", "v2\n");
    repo.commit("fix(api): second");
    repo.write(
        "junit.xml",
        "<testsuite name=\"s\" tests=\"1\" failures=\"0\"><testcase name=\"t\"/></testsuite>",
    );
    repo
}

/// The four things that are not a readable file of sane size, made under `dir`.
fn bad_files(dir: &Path, slot: &Slot, n: usize) -> Vec<(&'static str, PathBuf)> {
    let fifo = dir.join(format!("bad/{n}-fifo"));
    let status = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(status.success(), "mkfifo {}", fifo.display());
    let directory = dir.join(format!("bad/{n}-dir"));
    std::fs::create_dir_all(&directory).expect("mkdir");
    let big = dir.join(format!("bad/{n}-big"));
    // Sparse: one byte over the limit costs no disk and no time to make.
    std::fs::File::create(&big)
        .and_then(|f| f.set_len(slot.limit + 1))
        .expect("sparse file");
    vec![
        ("a FIFO with no writer", fifo),
        ("/dev/zero", PathBuf::from("/dev/zero")),
        ("a directory", directory),
        ("one byte over the limit", big),
    ]
}

#[test]
fn fifos_devices_directories_and_oversized_files_exit_2_in_bounded_time() {
    let repo = repo();
    let dir = repo.path();
    std::fs::create_dir_all(dir.join("bad")).expect("mkdir");
    let mut problems = Vec::new();
    let mut count = 0;
    for (n, slot) in slots().iter().enumerate() {
        for (kind, path) in bad_files(&dir, slot, n) {
            count += 1;
            let (extra, env) = (slot.point)(&path);
            let out = run(&dir, slot.bin, extra, env);
            let limit = Bytes(slot.limit).to_string();
            let named = out.text.contains(&path.display().to_string());
            let wrong = out.code != Some(2)
                || !named
                || !out.text.contains(&limit)
                || out.text.contains("panicked");
            if wrong {
                problems.push(format!(
                    "{} {} — {kind} ({}): exit {:?} after {:?} (want 2 within {BOUND:?}, \
                     naming the file and {limit})\n{}",
                    slot.bin,
                    slot.what,
                    path.display(),
                    out.code,
                    out.took,
                    out.text.trim_end()
                ));
            }
        }
    }
    assert!(count >= 14 * 4, "{count} cases");
    assert!(
        problems.is_empty(),
        "{} of {count} cases wrong:\n\n{}",
        problems.len(),
        problems.join("\n\n")
    );
}

/// 200 KB of nesting or width, as deployer.yml of every binary.
fn big_configs() -> Vec<(&'static str, String, bool)> {
    const SIZE: usize = 200_000;
    let mut deep_flow = String::from("services:\n  api:\n    paths: ");
    deep_flow.push_str(&"[".repeat(SIZE / 2));
    deep_flow.push_str(&"]".repeat(SIZE / 2));
    deep_flow.push('\n');
    let deep_block = "- ".repeat(SIZE / 2) + "x\n";
    let mut deep_indent = String::new();
    for level in 0.. {
        if deep_indent.len() > SIZE {
            break;
        }
        deep_indent.push_str(&format!("{}k{level}:\n", " ".repeat(level)));
    }
    let (mut wide, mut wide_invalid) = (String::from("services:\n"), String::from("services:\n"));
    for i in 0.. {
        if wide.len() > SIZE && wide_invalid.len() > SIZE {
            break;
        }
        wide.push_str(&format!("  svc{i}:\n    paths: [\"services/s{i}/**\"]\n"));
        wide_invalid.push_str(&format!("  svc{i}:\n    paths: [\"\"]\n"));
    }
    let wide_flow = format!(
        "services:\n  api:\n    paths: [{}]\n",
        (0..SIZE / 12)
            .map(|i| format!("\"p{i}/**\""))
            .collect::<Vec<_>>()
            .join(", ")
    );
    // (name, text, must be refused for depth)
    vec![
        ("deep flow", deep_flow, true),
        ("deep block sequence", deep_block, true),
        ("deep indentation", deep_indent, true),
        ("wide: thousands of services", wide, false),
        ("wide: thousands of invalid services", wide_invalid, false),
        ("wide: one long flow list", wide_flow, false),
    ]
}

#[test]
fn two_hundred_kilobyte_configs_of_any_shape_load_or_are_refused_in_bounded_time() {
    let repo = repo();
    let dir = repo.path();
    let mut problems = Vec::new();
    for (name, text, deep) in big_configs() {
        assert!(text.len() >= 200_000, "{name}: {} bytes", text.len());
        let path = dir.join(format!("big-{}.yml", name.replace([' ', ':'], "-")));
        std::fs::write(&path, &text).expect("write");
        for bin in ALL {
            let (extra, env) = config_point(bin)(&path);
            let out = run(&dir, bin, extra, env);
            let refused_for_depth = out.code == Some(2)
                && out.text.contains(&path.display().to_string())
                && out.text.contains("deeper than 32 levels");
            let finished = out.code.is_some() && !out.text.contains("panicked");
            if !finished || (deep && !refused_for_depth) {
                problems.push(format!(
                    "{bin} — {name}: exit {:?} after {:?} (want {} within {BOUND:?})\n{}",
                    out.code,
                    out.took,
                    if deep {
                        "exit 2 naming the file and the depth limit"
                    } else {
                        "any exit"
                    },
                    out.text.chars().take(2_000).collect::<String>()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
