//! The `ecs-sim` binary prints its endpoint and serves until killed.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn binary_prints_endpoint_and_serves() {
    let dir = tempfile::tempdir().expect("tempdir");
    let scenario = dir.path().join("s.yml");
    std::fs::write(&scenario, "default: {kind: healthy, start-after: 5}\n").expect("write");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ecs-sim"))
        .args([
            "--port",
            "0",
            "--time-scale",
            "60",
            "--seed",
            "3",
            "--scenario",
        ])
        .arg(&scenario)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read");
    let endpoint = line.trim().to_string();
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let result = rt.block_on(async {
        let conf = aws_sdk_ecs::Config::builder()
            .behavior_version(aws_sdk_ecs::config::BehaviorVersion::latest())
            .region(aws_sdk_ecs::config::Region::new("us-east-1"))
            .endpoint_url(&endpoint)
            .credentials_provider(aws_sdk_ecs::config::Credentials::new(
                "a", "b", None, None, "test",
            ))
            .build();
        let c = aws_sdk_ecs::Client::from_conf(conf);
        c.create_cluster()
            .cluster_name("demo")
            .send()
            .await
            .map_err(|e| e.to_string())?;
        c.list_clusters().send().await.map_err(|e| e.to_string())
    });
    let _ = child.kill();
    let _ = child.wait();
    let out = result.expect("the binary answers ECS calls");
    assert_eq!(out.cluster_arns().len(), 1);
}

#[test]
fn binary_rejects_a_bad_scenario() {
    let dir = tempfile::tempdir().expect("tempdir");
    let scenario = dir.path().join("s.yml");
    std::fs::write(&scenario, "images: {x: {kind: sometimes}}\n").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_ecs-sim"))
        .arg("--scenario")
        .arg(&scenario)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("scenario"));
}

/// Backwards compatibility: every scenario file in the repository still loads.
#[test]
fn every_scenario_file_in_the_repository_still_loads() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let files = ["examples/storefront/demo/ecs-sim.yml"];
    for f in files {
        let text = std::fs::read_to_string(root.join(f)).expect("read scenario");
        ecs_sim::Scenario::from_yaml(&text).unwrap_or_else(|e| panic!("{f}: {e}"));
    }
}
