//! Faults a test can inject while the simulator runs: bursts (set_faults), an endpoint that
//! goes away and comes back with its state (outage), and access keys that expire.

mod common;

use std::time::Duration;

use common::*;
use ecs_sim::Faults;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outage_refuses_connections_then_serves_the_same_state_on_the_same_port() {
    let sim = sim("", 1.0);
    let c = ecs(&sim);
    c.create_cluster()
        .cluster_name("c")
        .send()
        .await
        .expect("cluster");
    let port = sim.port();
    sim.outage(Duration::from_millis(800));
    let refused = std::net::TcpStream::connect(("127.0.0.1", port));
    assert!(refused.is_err(), "the port is closed during the outage");
    assert!(c.list_clusters().send().await.is_err());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(sim.port(), port);
    let clusters = c.list_clusters().send().await.expect("back");
    assert_eq!(clusters.cluster_arns().len(), 1, "state kept: {clusters:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_bursts_can_be_switched_on_and_off() {
    let sim = sim("", 1.0);
    let c = ecs(&sim);
    sim.set_faults(Faults {
        throttle_rate: 1.0,
        ..Default::default()
    });
    let err = c.list_clusters().send().await.expect_err("throttled");
    assert!(
        format!("{err:?}").contains("ThrottlingException"),
        "{err:?}"
    );
    sim.set_faults(Faults::default());
    c.list_clusters().send().await.expect("fine again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_keys_expire_after_their_lifetime() {
    let sim = sim("faults: {credential-lifetime-ms: 300}\n", 1.0);
    let old = ecs_with_key(&sim, "AKIDOLD");
    old.list_clusters().send().await.expect("fresh key");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let err = old.list_clusters().send().await.expect_err("expired");
    let text = format!("{err:?}");
    assert!(text.contains("ExpiredTokenException"), "{text}");
    assert!(
        text.contains("security token included in the request is expired"),
        "{text}"
    );
    ecs_with_key(&sim, "AKIDNEW")
        .list_clusters()
        .send()
        .await
        .expect("a new key works");
    assert_eq!(
        sim.access_keys(),
        vec!["AKIDOLD".to_string(), "AKIDNEW".to_string()]
    );
}
