//! `ecs-sim`: a faithful ECS control-plane simulator speaking the AWS JSON 1.1 protocol.
//!
//! It serves ECS (`X-Amz-Target: AmazonEC2ContainerServiceV20141113.*`) and CloudWatch Logs
//! (`Logs_20140328.*`) on one port of 127.0.0.1. Rollouts run on a simulated clock
//! (`time_scale` simulated seconds per real second); a [`Scenario`] decides what each
//! container image does. See the crate README for the scenario format.

pub mod alarms;
pub mod bluegreen;
pub mod breaker;
pub mod health;
pub mod hooks;
pub mod logs;
pub mod ops;
pub mod protocol;
pub mod rolling;
pub mod scenario;
pub mod server;
pub mod state;
pub mod tasks;
pub mod throttle;
pub mod timing;
pub mod traffic;
pub mod validate;

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
    control: std::sync::mpsc::Sender<Control>,
    thread: Option<JoinHandle<()>>,
}

/// Messages to the server thread.
enum Control {
    Stop,
    /// Close the port (and every open connection) for this long, then listen again on the
    /// same port with the same state; the sender is told once the port is closed.
    Outage(Duration, std::sync::mpsc::Sender<()>),
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
        keys: Mutex::new(Default::default()),
        buckets: Mutex::new(Default::default()),
    });
    let (control, rx) = std::sync::mpsc::channel::<Control>();
    let serving = shared.clone();
    let thread = std::thread::Builder::new()
        .name("ecs-sim".into())
        .spawn(move || {
            let mut listener = Some(listener);
            loop {
                let Some(l) = listener.take().or_else(|| rebind(addr)) else {
                    eprintln!("ecs-sim: cannot listen on {addr} again after an outage");
                    return;
                };
                match serve_until_control(l, serving.clone(), &rx) {
                    Some(Control::Outage(d, done)) => {
                        // The runtime (listener, connections) is gone: the port refuses now.
                        let _ = done.send(());
                        let mut until = std::time::Instant::now() + d;
                        loop {
                            let left = until.saturating_duration_since(std::time::Instant::now());
                            match rx.recv_timeout(left) {
                                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => break,
                                Ok(Control::Outage(more, done)) => {
                                    let _ = done.send(());
                                    until = std::time::Instant::now() + more;
                                }
                                Ok(Control::Stop)
                                | Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
                            }
                        }
                    }
                    Some(Control::Stop) | None => return,
                }
            }
        })?;
    Ok(SimHandle {
        addr,
        shared,
        control,
        thread: Some(thread),
    })
}

/// Listens again on `addr` after an outage (the old socket may take a moment to go).
fn rebind(addr: std::net::SocketAddr) -> Option<std::net::TcpListener> {
    for _ in 0..100 {
        if let Ok(l) = std::net::TcpListener::bind(addr)
            && l.set_nonblocking(true).is_ok()
        {
            return Some(l);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// Serves on `listener` in a fresh runtime until a control message arrives (returned) or
/// the handle is gone (None). Dropping the runtime closes the listener and every connection,
/// which is what a restarted endpoint looks like to a client.
fn serve_until_control(
    listener: std::net::TcpListener,
    shared: Arc<server::Shared>,
    rx: &std::sync::mpsc::Receiver<Control>,
) -> Option<Control> {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("ecs-sim")
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ecs-sim: cannot start a runtime: {e}");
            return None;
        }
    };
    let app = server::router(shared.clone());
    let ticker = shared;
    runtime.spawn(async move {
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
            _ = tick => {}
        }
    });
    let msg = rx.recv().ok();
    runtime.shutdown_timeout(Duration::from_millis(200));
    msg
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

    /// Replace the injected faults (throttling, 5xx, latency, credential lifetime) while
    /// the simulator runs: bursts of faults in the middle of a rollout.
    pub fn set_faults(&self, faults: Faults) {
        self.shared.state().scenario.faults = faults;
    }

    /// Put the CloudWatch alarm `name` in the ALARM state (true) or OK (false), overriding
    /// the scenario's `alarms` for it; deployments that monitor it react on their next step.
    pub fn set_alarm(&self, name: &str, in_alarm: bool) {
        self.shared
            .state()
            .alarm_overrides
            .insert(name.to_string(), in_alarm);
    }

    /// The endpoint goes away for `duration`: the port is closed (connections refused, open
    /// connections dropped), then the simulator listens again on the same port with the
    /// same state. Rollouts keep progressing meanwhile, as ECS does while a client cannot
    /// reach it. Returns once the port is closed.
    pub fn outage(&self, duration: Duration) {
        let (tx, rx) = std::sync::mpsc::channel();
        if self.control.send(Control::Outage(duration, tx)).is_ok() {
            let _ = rx.recv_timeout(Duration::from_secs(5));
        }
    }

    /// Access key ids seen in SigV4 `Authorization` headers, in order of first use.
    pub fn access_keys(&self) -> Vec<String> {
        self.shared.access_keys()
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
        let _ = self.control.send(Control::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
