//! `ecs-sim`: a faithful ECS control-plane simulator speaking the AWS JSON 1.1 protocol.
//!
//! It serves ECS (`X-Amz-Target: AmazonEC2ContainerServiceV20141113.*`) and CloudWatch Logs
//! (`Logs_20140328.*`) on one port of 127.0.0.1. Rollouts run on a simulated clock
//! (`time_scale` simulated seconds per real second); a [`Scenario`] decides what each
//! container image does. See the crate README for the scenario format.

pub mod bluegreen;
pub mod logs;
pub mod ops;
pub mod protocol;
pub mod rolling;
pub mod scenario;
pub mod server;
pub mod state;
pub mod tasks;

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

pub use scenario::{Behavior, Faults, Kind, Scenario, ScenarioError};

/// How to run the simulator.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub scenario: Scenario,
    /// Simulated seconds per real second (e.g. 60: a 5-minute rollout takes 5 s).
    pub time_scale: f64,
    pub seed: u64,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            scenario: Scenario::default(),
            time_scale: 1.0,
            seed: 1,
        }
    }
}

/// A running simulator. Dropping it (or [`SimHandle::shutdown`]) stops the server.
pub struct SimHandle {
    addr: std::net::SocketAddr,
    shared: Arc<server::Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// Start a simulator on 127.0.0.1 (random port) in its own thread and tokio runtime.
pub fn spawn(config: SimConfig) -> std::io::Result<SimHandle> {
    spawn_on(config, 0)
}

/// Like [`spawn`], on a chosen port (0 = any).
pub fn spawn_on(config: SimConfig, port: u16) -> std::io::Result<SimHandle> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let clock = server::Clock::new(config.time_scale);
    let state = state::State::new(config.scenario, config.seed, clock.base());
    let shared = Arc::new(server::Shared {
        state: Mutex::new(state),
        clock,
        calls: Mutex::new(Default::default()),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("ecs-sim")
        .build()?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let app = server::router(shared.clone());
    let ticker = shared.clone();
    let thread = std::thread::Builder::new()
        .name("ecs-sim".into())
        .spawn(move || {
            runtime.block_on(async move {
                let listener = match tokio::net::TcpListener::from_std(listener) {
                    Ok(l) => l,
                    Err(e) => {
                        eprintln!("ecs-sim: cannot listen: {e}");
                        return;
                    }
                };
                let tick = async move {
                    let mut interval = tokio::time::interval(Duration::from_millis(50));
                    loop {
                        interval.tick().await;
                        let t = ticker.clone();
                        // Advancing may take a moment after long idle gaps: keep it off the reactor.
                        let _ = tokio::task::spawn_blocking(move || t.tick()).await;
                    }
                };
                tokio::select! {
                    r = axum::serve(listener, app) => {
                        if let Err(e) = r {
                            eprintln!("ecs-sim: server stopped: {e}");
                        }
                    }
                    _ = rx => {}
                    _ = tick => {}
                }
            });
            runtime.shutdown_timeout(Duration::from_millis(200));
        })?;
    Ok(SimHandle {
        addr,
        shared,
        stop: Some(tx),
        thread: Some(thread),
    })
}

impl SimHandle {
    /// `http://127.0.0.1:PORT`
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// How many times `operation` (e.g. "DescribeServices", "GetLogEvents") was called,
    /// including calls answered with an injected fault.
    pub fn call_count(&self, operation: &str) -> u64 {
        self.shared.calls().get(operation).copied().unwrap_or(0)
    }

    pub fn total_calls(&self) -> u64 {
        self.shared.calls().values().sum()
    }

    /// Current simulated time (epoch seconds).
    pub fn sim_now(&self) -> f64 {
        self.shared.clock.now()
    }

    /// Block until the server thread ends (the binary uses this).
    pub fn wait(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    pub fn shutdown(self) {
        drop(self);
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
