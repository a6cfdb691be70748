//! `scripts/install-deployer` against a loopback release server.
//!
//! Every test runs the real script with `bash` and a cleared environment, so nothing from
//! the machine (or from a GitHub runner running these tests) leaks in.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

const BINARIES: [&str; 6] = [
    "detect-changes",
    "semver-release",
    "ecs-deploy",
    "run-migration",
    "rollback",
    "gate-check",
];
const LINUX_X64: &str = "x86_64-unknown-linux-musl";

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/install-deployer")
}

/// A tiny HTTP/1.1 server on 127.0.0.1: serves `routes` (path → body), 404 otherwise,
/// and counts requests. One thread; each connection answers one request and closes.
struct ReleaseServer {
    base: String,
    routes: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    requests: Arc<AtomicUsize>,
    paths: Arc<Mutex<Vec<String>>>,
}

impl ReleaseServer {
    fn start() -> ReleaseServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let base = format!("http://{}", listener.local_addr().expect("local addr"));
        let routes: Arc<Mutex<HashMap<String, Vec<u8>>>> = Arc::default();
        let requests = Arc::new(AtomicUsize::new(0));
        let paths: Arc<Mutex<Vec<String>>> = Arc::default();
        let (r, n, p) = (routes.clone(), requests.clone(), paths.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    continue;
                }
                // Skip the headers up to the blank line.
                let mut line = String::new();
                while reader
                    .read_line(&mut line)
                    .map(|read| read > 2)
                    .unwrap_or(false)
                {
                    line.clear();
                }
                let path = request_line
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("/")
                    .to_string();
                n.fetch_add(1, Ordering::SeqCst);
                p.lock().expect("paths lock").push(path.clone());
                let body = r.lock().expect("routes lock").get(&path).cloned();
                let (status, body) = match body {
                    Some(body) => ("200 OK", body),
                    None => ("404 Not Found", b"Not Found".to_vec()),
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
                let _ = stream.flush();
            }
        });
        ReleaseServer {
            base,
            routes,
            requests,
            paths,
        }
    }

    fn serve(&self, path: &str, body: Vec<u8>) {
        self.routes
            .lock()
            .expect("routes lock")
            .insert(path.to_string(), body);
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    fn paths(&self) -> Vec<String> {
        self.paths.lock().expect("paths lock").clone()
    }
}

/// A temp world: fake action checkout, checksums dir, tool cache, $GITHUB_PATH/$GITHUB_OUTPUT.
struct World {
    dir: tempfile::TempDir,
    server: ReleaseServer,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().expect("tempdir");
        for sub in ["source", "checksums", "cache", "home", "bin", "pack"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
        }
        std::fs::write(dir.path().join("source/Cargo.toml"), "[workspace]\n").expect("write");
        World {
            dir,
            server: ReleaseServer::start(),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Builds `deployer-<version>-<target>.tar.gz` with six fake binaries; returns (bytes, sha256).
    fn archive(&self, version: &str, target: &str) -> (Vec<u8>, String) {
        let name = format!("deployer-{version}-{target}");
        let root = self.path("pack").join(&name);
        std::fs::create_dir_all(&root).expect("mkdir");
        for b in BINARIES {
            let file = root.join(b);
            std::fs::write(
                &file,
                format!("#!/bin/sh\necho \"fake {b} {version} $*\"\n"),
            )
            .expect("write fake binary");
            set_executable(&file);
        }
        let out = self.path("pack").join(format!("{name}.tar.gz"));
        let status = Command::new("tar")
            .arg("-czf")
            .arg(&out)
            .arg("-C")
            .arg(self.path("pack"))
            .arg(&name)
            .status()
            .expect("run tar");
        assert!(status.success(), "tar failed");
        let sha = sha256(&out);
        (std::fs::read(&out).expect("read archive"), sha)
    }

    /// Serves a release asset and records its checksum; returns the sha256 written.
    fn release(&self, version: &str, target: &str) -> String {
        let (bytes, sha) = self.archive(version, target);
        self.server.serve(
            &format!("/{version}/deployer-{version}-{target}.tar.gz"),
            bytes,
        );
        self.write_checksums(version, &[(&sha, target)]);
        sha
    }

    fn write_checksums(&self, version: &str, entries: &[(&str, &str)]) {
        let text: String = entries
            .iter()
            .map(|(sha, target)| format!("{sha}  deployer-{version}-{target}.tar.gz\n"))
            .collect();
        std::fs::write(self.path(&format!("checksums/{version}.sha256")), text).expect("write");
    }

    /// A fake `cargo` on PATH that logs its arguments and produces target/release binaries.
    fn fake_cargo(&self) {
        let body = format!(
            "#!/bin/sh\nprintf '%s\\n' \"$*\" >> \"{log}\"\nmkdir -p target/release\nfor b in {bins}; do\n  printf '#!/bin/sh\\necho built-from-source %s\\n' \"$b\" > \"target/release/$b\"\n  chmod +x \"target/release/$b\"\ndone\n",
            log = self.path("cargo.log").display(),
            bins = BINARIES.join(" "),
        );
        let cargo = self.path("bin/cargo");
        std::fs::write(&cargo, body).expect("write fake cargo");
        set_executable(&cargo);
    }

    fn cargo_log(&self) -> String {
        std::fs::read_to_string(self.path("cargo.log")).unwrap_or_default()
    }

    /// PATH without any real cargo, with the world's bin dir first.
    fn path_var(&self) -> String {
        let system = std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into());
        let mut dirs = vec![self.path("bin").display().to_string()];
        dirs.extend(
            system
                .split(':')
                .filter(|d| !d.is_empty() && !Path::new(d).join("cargo").exists())
                .map(str::to_string),
        );
        dirs.join(":")
    }

    fn run(&self, version: &str, extra: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new("bash");
        cmd.arg(script())
            .env_clear()
            .env("PATH", self.path_var())
            .env("HOME", self.path("home"))
            .env("DEPLOYER_VERSION", version)
            .env("DEPLOYER_SOURCE_DIR", self.path("source"))
            .env("DEPLOYER_CHECKSUMS_DIR", self.path("checksums"))
            .env("DEPLOYER_RELEASE_BASE_URL", &self.server.base)
            .env("RUNNER_TOOL_CACHE", self.path("cache"))
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64")
            .env("GITHUB_PATH", self.path("github_path"))
            .env("GITHUB_OUTPUT", self.path("github_output"))
            .env("FAKE_CARGO_LOG", self.path("cargo.log"));
        for (k, v) in extra {
            cmd.env(k, v);
        }
        cmd.output().expect("run bash")
    }

    fn github_path(&self) -> String {
        std::fs::read_to_string(self.path("github_path")).unwrap_or_default()
    }

    fn github_output(&self) -> String {
        std::fs::read_to_string(self.path("github_output")).unwrap_or_default()
    }

    /// Everything under the cache except the script's scratch dirs (removed on exit).
    fn cache_entries(&self) -> Vec<String> {
        fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let p = entry.path();
                out.push(p.strip_prefix(base).expect("prefix").display().to_string());
                if p.is_dir() {
                    walk(&p, base, out);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.path("cache"), &self.path("cache"), &mut out);
        out.sort();
        out
    }
}

fn set_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

fn sha256(path: &Path) -> String {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .or_else(|_| {
            Command::new("shasum")
                .args(["-a", "256"])
                .arg(path)
                .output()
        })
        .expect("sha256sum or shasum");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .expect("digest")
        .to_string()
}

fn text(out: &Output) -> String {
    format!(
        "status: {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn run_binary(path: &Path, arg: &str) -> String {
    let out = Command::new(path)
        .arg(arg)
        .output()
        .expect("run installed binary");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn verified_release_is_installed_on_path_and_reused_from_cache() {
    let w = World::new();
    w.release("v1.2.3", LINUX_X64);

    let first = w.run("v1.2.3", &[]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    let bin = w.path("cache/deployer/v1.2.3/x86_64-unknown-linux-musl/bin");
    for b in BINARIES {
        assert!(bin.join(b).is_file(), "{b} not installed\n{}", text(&first));
    }
    assert_eq!(
        run_binary(&bin.join("ecs-deploy"), "--x"),
        "fake ecs-deploy v1.2.3 --x\n"
    );
    assert_eq!(w.github_path(), format!("{}\n", bin.display()));
    let outputs = w.github_output();
    assert!(
        outputs.contains(&format!("bin-dir={}\n", bin.display())),
        "{outputs}"
    );
    assert!(outputs.contains("version=v1.2.3\n"), "{outputs}");
    assert!(outputs.contains("installed-from=release\n"), "{outputs}");
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(stdout.contains("SHA-256 verified"), "{}", text(&first));
    assert_eq!(w.server.requests(), 1);
    assert_eq!(
        w.server.paths(),
        ["/v1.2.3/deployer-v1.2.3-x86_64-unknown-linux-musl.tar.gz"]
    );

    let second = w.run("v1.2.3", &[]);
    assert_eq!(second.status.code(), Some(0), "{}", text(&second));
    assert!(
        String::from_utf8_lossy(&second.stdout).contains("cached"),
        "{}",
        text(&second)
    );
    assert_eq!(w.server.requests(), 1, "the second run must not download");
    assert_eq!(
        w.github_path().lines().count(),
        2,
        "each job step adds the dir"
    );
    // No scratch directories are left behind.
    assert!(
        w.cache_entries().iter().all(|e| !e.contains(".install.")),
        "{:?}",
        w.cache_entries()
    );
}

#[test]
fn moving_tag_and_commit_sha_resolve_through_checksums_latest() {
    let w = World::new();
    w.release("v1.4.0", LINUX_X64);
    std::fs::write(w.path("checksums/latest"), "v1.4.0\n").expect("write latest");

    let out = w.run("v1", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("resolved through checksums/latest"),
        "{}",
        text(&out)
    );
    assert!(
        w.path("cache/deployer/v1.4.0/x86_64-unknown-linux-musl/bin/gate-check")
            .is_file()
    );
    assert_eq!(w.server.requests(), 1);

    let sha = w.run("0123456789abcdef0123456789abcdef01234567", &[]);
    assert_eq!(sha.status.code(), Some(0), "{}", text(&sha));
    assert!(String::from_utf8_lossy(&sha.stdout).contains("cached"));
    assert_eq!(w.server.requests(), 1);
}

#[test]
fn checksum_mismatch_fails_loudly_and_installs_nothing() {
    let w = World::new();
    w.release("v1.2.3", LINUX_X64);
    let wrong = "0".repeat(64);
    w.write_checksums("v1.2.3", &[(&wrong, LINUX_X64)]);

    let out = w.run("v1.2.3", &[("GITHUB_ACTIONS", "true")]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("CHECKSUM MISMATCH"), "{}", text(&out));
    assert!(stderr.contains("NOTHING WAS INSTALLED"), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("::error title=deployer install::"),
        "{}",
        text(&out)
    );
    assert_eq!(w.server.requests(), 1);
    assert!(
        !w.path("cache/deployer/v1.2.3").exists(),
        "{:?}",
        w.cache_entries()
    );
    assert!(w.cache_entries().iter().all(|e| !e.contains(".install.")));
    assert_eq!(w.github_path(), "", "nothing may be added to PATH");
    assert_eq!(w.github_output(), "");
    assert_eq!(
        w.cargo_log(),
        "",
        "a mismatch is not a reason to build from source"
    );
}

#[test]
fn missing_checksum_entry_fails_without_downloading() {
    let w = World::new();
    w.release("v1.2.3", LINUX_X64);
    w.write_checksums("v1.2.3", &[(&"a".repeat(64), "aarch64-apple-darwin")]);

    let out = w.run("v1.2.3", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("no SHA-256 for deployer-v1.2.3-x86_64-unknown-linux-musl.tar.gz"),
        "{}",
        text(&out)
    );
    assert_eq!(w.server.requests(), 0);
    assert!(!w.path("cache/deployer/v1.2.3").exists());
}

#[test]
fn missing_release_asset_falls_back_to_cargo_build() {
    let w = World::new();
    w.fake_cargo();
    // Checksums are committed but the asset was never uploaded: the server answers 404.
    w.write_checksums("v2.0.0", &[(&"b".repeat(64), LINUX_X64)]);

    let out = w.run("v2.0.0", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("HTTP 404"), "{}", text(&out));
    assert!(stdout.contains("building from source"), "{}", text(&out));
    assert_eq!(w.server.requests(), 1);
    let log = w.cargo_log();
    assert!(
        log.starts_with("build --release --locked "),
        "cargo args: {log}"
    );
    for b in BINARIES {
        assert!(log.contains(&format!("-p {b}")), "cargo args: {log}");
    }
    let bin = w.path("cache/deployer/source-worktree/x86_64-unknown-linux-musl/bin");
    assert_eq!(
        run_binary(&bin.join("rollback"), ""),
        "built-from-source rollback\n"
    );
    assert_eq!(w.github_path(), format!("{}\n", bin.display()));
    assert!(w.github_output().contains("installed-from=source\n"));
    assert!(
        w.cache_entries().iter().all(|e| !e.contains(".install.")),
        "scratch dirs left: {:?}",
        w.cache_entries()
    );
}

#[test]
fn build_from_source_flag_and_unreleased_refs_skip_the_download() {
    let w = World::new();
    w.fake_cargo();
    w.release("v1.2.3", LINUX_X64);

    let forced = w.run("v1.2.3", &[("DEPLOYER_BUILD_FROM_SOURCE", "1")]);
    assert_eq!(forced.status.code(), Some(0), "{}", text(&forced));
    assert_eq!(w.server.requests(), 0);
    assert_eq!(w.cargo_log().lines().count(), 1);

    // `v1` with no checksums/latest (nothing released yet, or a local `act` run).
    let unreleased = w.run("v1", &[]);
    assert_eq!(unreleased.status.code(), Some(0), "{}", text(&unreleased));
    assert!(
        String::from_utf8_lossy(&unreleased.stdout).contains("does not name one"),
        "{}",
        text(&unreleased)
    );
    assert_eq!(w.server.requests(), 0);
    assert_eq!(w.cargo_log().lines().count(), 2);
}

#[test]
fn fallback_without_cargo_says_to_install_rust() {
    let w = World::new();
    w.write_checksums("v2.0.0", &[(&"b".repeat(64), LINUX_X64)]);

    let out = w.run("v2.0.0", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cargo is not installed"), "{}", text(&out));
    assert!(stderr.contains("Install Rust"), "{}", text(&out));
    assert!(stderr.contains("released version"), "{}", text(&out));
    assert_eq!(w.github_path(), "");
}

#[test]
fn unsupported_platform_exits_2_naming_supported_list() {
    let w = World::new();
    w.release("v1.2.3", LINUX_X64);

    let out = w.run(
        "v1.2.3",
        &[("RUNNER_OS", "Windows"), ("RUNNER_ARCH", "X64")],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unsupported platform: Windows X64"),
        "{}",
        text(&out)
    );
    for target in [
        "x86_64-unknown-linux-musl",
        "aarch64-unknown-linux-musl",
        "x86_64-apple-darwin",
        "aarch64-apple-darwin",
    ] {
        assert!(stderr.contains(target), "{target} missing: {}", text(&out));
    }
    assert_eq!(w.server.requests(), 0);
}

#[test]
fn runner_platforms_map_to_release_targets() {
    let w = World::new();
    for (os, arch, target) in [
        ("macOS", "ARM64", "aarch64-apple-darwin"),
        ("macOS", "X64", "x86_64-apple-darwin"),
        ("Linux", "ARM64", "aarch64-unknown-linux-musl"),
    ] {
        let version = "v3.0.0";
        let (bytes, sha) = w.archive(version, target);
        w.server.serve(
            &format!("/{version}/deployer-{version}-{target}.tar.gz"),
            bytes,
        );
        w.write_checksums(version, &[(&sha, target)]);
        let out = w.run(version, &[("RUNNER_OS", os), ("RUNNER_ARCH", arch)]);
        assert_eq!(out.status.code(), Some(0), "{os} {arch}: {}", text(&out));
        assert!(
            w.path(&format!("cache/deployer/{version}/{target}/bin/ecs-deploy"))
                .is_file(),
            "{os} {arch}"
        );
    }
    assert_eq!(w.server.requests(), 3);
}

#[test]
fn prebuilt_bin_dir_is_used_in_place_for_local_runs() {
    let w = World::new();
    let prebuilt = w.path("prebuilt");
    std::fs::create_dir_all(&prebuilt).expect("mkdir");
    for b in BINARIES {
        std::fs::write(prebuilt.join(b), "#!/bin/sh\necho prebuilt\n").expect("write");
        set_executable(&prebuilt.join(b));
    }
    let dir = prebuilt.display().to_string();

    let out = w.run("v1", &[("DEPLOYER_PREBUILT_BIN_DIR", &dir)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(w.github_path(), format!("{dir}\n"));
    assert!(w.github_output().contains("installed-from=prebuilt\n"));
    assert_eq!(w.server.requests(), 0);

    std::fs::remove_file(prebuilt.join("gate-check")).expect("rm");
    let incomplete = w.run("v1", &[("DEPLOYER_PREBUILT_BIN_DIR", &dir)]);
    assert_eq!(incomplete.status.code(), Some(2), "{}", text(&incomplete));
    assert!(String::from_utf8_lossy(&incomplete.stderr).contains("must hold all of"));
}
