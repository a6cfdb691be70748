//! HTTP server: one POST endpoint speaking AWS JSON 1.1 for ECS and CloudWatch Logs.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::protocol::{
    ApiError, CONTENT_TYPE, ECS_PREFIX, LOGS_PREFIX, access_key_from_auth, region_from_auth,
};
use crate::scenario::Throttling;
use crate::state::State;

/// Simulated clock: `time_scale` simulated seconds per real second, starting at wall time.
pub struct Clock {
    base: f64,
    start: Instant,
    scale: f64,
}

impl Clock {
    pub fn new(scale: f64) -> Clock {
        let base = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        let scale = if scale.is_finite() && scale > 0.0 {
            scale
        } else {
            1.0
        };
        Clock {
            base,
            start: Instant::now(),
            scale,
        }
    }
    pub fn base(&self) -> f64 {
        self.base
    }
    pub fn now(&self) -> f64 {
        self.base + self.start.elapsed().as_secs_f64() * self.scale
    }
}

pub struct Shared {
    pub state: Mutex<State>,
    pub clock: Clock,
    pub calls: Mutex<BTreeMap<String, u64>>,
    /// Access key id -> when it was first seen (order kept by the Vec).
    pub keys: Mutex<Vec<(String, Instant)>>,
    /// The ECS API's token buckets (per Region, shared by every caller).
    pub buckets: Mutex<crate::throttle::Buckets>,
}

impl Shared {
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
    pub fn calls(&self) -> MutexGuard<'_, BTreeMap<String, u64>> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner())
    }
    pub fn access_keys(&self) -> Vec<String> {
        self.keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(k, _)| k.clone())
            .collect()
    }
    /// Records the key and says whether it outlived `lifetime_ms` (0 = never expires).
    fn key_expired(&self, key: &str, lifetime_ms: u64) -> bool {
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        let first = match keys.iter().find(|(k, _)| k == key) {
            Some((_, at)) => *at,
            None => {
                keys.push((key.to_string(), Instant::now()));
                return false;
            }
        };
        lifetime_ms > 0 && first.elapsed() > Duration::from_millis(lifetime_ms)
    }
    pub fn tick(&self) {
        let now = self.clock.now();
        self.state().advance(now);
    }
}

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

fn respond(status: u16, body: &Value, request_id: &str) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = (code, body.to_string()).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-requestid", v);
    }
    resp
}

fn error(e: &ApiError, request_id: &str) -> Response {
    let mut resp = respond(e.status, &e.body(), request_id);
    resp.headers_mut()
        .insert("x-amzn-errortype", HeaderValue::from_static(e.kind));
    resp
}

enum Api {
    Ecs,
    Logs,
}

async fn handle(
    AxState(shared): AxState<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let request_id = shared.state().rng.uuid();
    let (api, op) = if let Some(op) = target.strip_prefix(ECS_PREFIX) {
        (Api::Ecs, op.to_string())
    } else if let Some(op) = target.strip_prefix(LOGS_PREFIX) {
        (Api::Logs, op.to_string())
    } else {
        let e = ApiError::new(
            400,
            "UnknownOperationException",
            format!("Unknown or missing X-Amz-Target header: '{target}'."),
        );
        return error(&e, &request_id);
    };
    {
        let mut calls = shared.calls();
        *calls.entry(op.clone()).or_insert(0) += 1;
    }
    let key = access_key_from_auth(
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
    );
    let lifetime = shared.state().scenario.faults.credential_lifetime_ms;
    if let Some(key) = key
        && shared.key_expired(&key, lifetime)
    {
        return error(&ApiError::expired_token(), &request_id);
    }
    let region = region_from_auth(
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
    );
    // Request throttling (token buckets), before any work is done for the call.
    if matches!(api, Api::Ecs) && shared.state().scenario.throttling == Throttling::Aws {
        let r = region.as_deref().unwrap_or("us-east-1");
        let admitted = shared
            .buckets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .admit(r, &op, Instant::now());
        if !admitted {
            return error(&ApiError::throttled(), &request_id);
        }
    }
    // Faults.
    let (latency, fault) = {
        let mut st = shared.state();
        let faults = st.scenario.faults.clone();
        if faults.applies_to(&op) {
            let throttle = faults.throttle_rate > 0.0 && st.fault_rng.unit() < faults.throttle_rate;
            let fail =
                !throttle && faults.error_rate > 0.0 && st.fault_rng.unit() < faults.error_rate;
            let fault = if throttle {
                Some(ApiError::throttled())
            } else if fail {
                Some(ApiError::server())
            } else {
                None
            };
            (faults.latency_ms, fault)
        } else {
            (0, None)
        }
    };
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency.min(600_000))).await;
    }
    if let Some(e) = fault {
        return error(&e, &request_id);
    }
    let parsed: Value = if body.iter().all(|b| b.is_ascii_whitespace()) {
        Value::Object(Default::default())
    } else {
        match serde_json::from_slice(&body) {
            Ok(v @ Value::Object(_)) => v,
            Ok(_) => {
                return error(
                    &ApiError::serialization("Request body must be a JSON object."),
                    &request_id,
                );
            }
            Err(e) => {
                return error(
                    &ApiError::serialization(format!("Could not parse the request body: {e}")),
                    &request_id,
                );
            }
        }
    };
    let result = {
        let now = shared.clock.now();
        let mut st = shared.state();
        st.advance(now);
        if let Some(r) = region {
            st.region = r;
        }
        match api {
            Api::Ecs => crate::ops::handle(&mut st, &op, &parsed),
            Api::Logs => crate::logs::handle(&mut st, &op, &parsed),
        }
    };
    match result {
        Ok(v) => respond(200, &v, &request_id),
        Err(e) => error(&e, &request_id),
    }
}
