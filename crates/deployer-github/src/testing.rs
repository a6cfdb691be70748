//! A stand-in for GitHub's Deployments REST API, for tests (feature `testing`): it keeps
//! the deployments and statuses it is sent and answers the lists from them, so a test can
//! write records the way deployer writes them and read them back the way detect-changes
//! reads them.
//!
//! What it follows (REST API docs, "REST API endpoints for deployments" and "… for
//! deployment statuses"):
//! * `POST /repos/{o}/{r}/deployments`: `ref` is required (422 without it); `task`
//!   defaults to `deploy`, `environment` to `production`; `production_environment`
//!   defaults to true for `production` only; `transient_environment` to false. The stand-in
//!   takes `ref` as the commit SHA (deployer always deploys a commit SHA).
//! * `GET …/deployments`: filters `sha`, `ref`, `task`, `environment`; `per_page` (default
//!   30, max 100) and `page`; newest first.
//! * `POST …/deployments/{id}/statuses`: `state` one of error, failure, inactive,
//!   in_progress, queued, pending, success (422 otherwise); 404 for an unknown deployment.
//!   `auto_inactive` (default true) on a `success` "adds a new inactive status to all prior
//!   non-transient, non-production environment deployments with the same repository and
//!   environment name … An inactive status is only added to deployments that had a success
//!   state".
//! * `GET …/deployments/{id}/statuses`: newest first, `per_page`/`page`; 404 when unknown.
//!
//! [`Answer`] makes every call fail the way GitHub does when it is down (503) or when the
//! token lacks the permission (403 "Resource not accessible by integration").

use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{Value, json};
use wiremock::matchers::path_regex;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// How the stand-in answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Answer {
    /// As GitHub does (the module docs).
    #[default]
    Normal,
    /// 503 to every call.
    Unavailable,
    /// 403 to every call, as for a token without `deployments: read`/`write`.
    Forbidden,
}

#[derive(Debug, Clone)]
struct Stored {
    deployment: Value,
    /// Oldest first.
    statuses: Vec<Value>,
}

#[derive(Debug, Default)]
struct State {
    deployments: Vec<Stored>,
    next_id: u64,
    answer: Answer,
    requests: u64,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // A panicking test thread cannot leave the lists half-updated in a way that matters.
    state.lock().unwrap_or_else(|p| p.into_inner())
}

/// A handle on the stand-in's records.
#[derive(Clone, Default)]
pub struct Deployments {
    state: Arc<Mutex<State>>,
}

impl Deployments {
    /// Serves the Deployments API of every repository on `server`.
    pub async fn mount(server: &MockServer) -> Deployments {
        let handle = Deployments::default();
        Mock::given(path_regex(r"^/repos/[^/]+/[^/]+/deployments(/.*)?$"))
            .respond_with(Routes {
                state: handle.state.clone(),
            })
            .mount(server)
            .await;
        handle
    }

    pub fn set_answer(&self, answer: Answer) {
        lock(&self.state).answer = answer;
    }

    /// Every deployment, oldest first.
    pub fn deployments(&self) -> Vec<Value> {
        lock(&self.state)
            .deployments
            .iter()
            .map(|d| d.deployment.clone())
            .collect()
    }

    /// The states of deployment `id`'s statuses, oldest first.
    pub fn states(&self, id: u64) -> Vec<String> {
        lock(&self.state)
            .deployments
            .iter()
            .find(|d| d.deployment["id"] == id)
            .map(|d| {
                d.statuses
                    .iter()
                    .map(|s| s["state"].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Requests answered so far.
    pub fn requests(&self) -> u64 {
        lock(&self.state).requests
    }
}

/// The stand-in on its own server, for synchronous tests (e.g. ones that run a binary
/// with `GITHUB_API_URL` pointing at [`StandIn::uri`]).
pub struct StandIn {
    pub records: Deployments,
    server: MockServer,
    runtime: tokio::runtime::Runtime,
}

impl StandIn {
    pub fn start() -> StandIn {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the GitHub stand-in");
        // wiremock serves from a thread of its own: nothing needs to poll this runtime.
        let (server, records) = runtime.block_on(async {
            let server = MockServer::start().await;
            let records = Deployments::mount(&server).await;
            (server, records)
        });
        StandIn {
            records,
            server,
            runtime,
        }
    }

    /// `GITHUB_API_URL`.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// Runs `f` on the stand-in's runtime (to write records with an async client).
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }
}

struct Routes {
    state: Arc<Mutex<State>>,
}

fn answer(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}

fn not_found() -> ResponseTemplate {
    answer(
        404,
        json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}),
    )
}

fn unprocessable(message: &str) -> ResponseTemplate {
    answer(422, json!({"message": message}))
}

const STATES: [&str; 7] = [
    "error",
    "failure",
    "inactive",
    "in_progress",
    "queued",
    "pending",
    "success",
];

fn query(request: &Request, key: &str) -> Option<String> {
    request
        .url
        .query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// `per_page` (default 30, at most 100) and `page` (from 1) of `items`.
fn page<T: Clone>(request: &Request, items: &[T]) -> Vec<T> {
    let per_page = query(request, "per_page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let page = query(request, "page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    items
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .cloned()
        .collect()
}

impl Respond for Routes {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut state = lock(&self.state);
        state.requests += 1;
        match state.answer {
            Answer::Normal => {}
            Answer::Unavailable => return answer(503, json!({"message": "Service Unavailable"})),
            Answer::Forbidden => {
                return answer(
                    403,
                    json!({"message": "Resource not accessible by integration"}),
                );
            }
        }
        let segments: Vec<&str> = request
            .url
            .path_segments()
            .map(|s| s.skip(3).collect())
            .unwrap_or_default();
        let id = segments.get(1).and_then(|s| s.parse::<u64>().ok());
        match (request.method.as_str(), segments.as_slice(), id) {
            ("POST", ["deployments"], _) => state.create(request),
            ("GET", ["deployments"], _) => state.list(request),
            ("GET", ["deployments", _], Some(id)) => match state.find(id) {
                Some(d) => answer(200, d.deployment.clone()),
                None => not_found(),
            },
            ("POST", ["deployments", _, "statuses"], Some(id)) => state.add_status(id, request),
            ("GET", ["deployments", _, "statuses"], Some(id)) => match state.find(id) {
                Some(d) => {
                    let newest_first: Vec<Value> = d.statuses.iter().rev().cloned().collect();
                    answer(200, Value::Array(page(request, &newest_first)))
                }
                None => not_found(),
            },
            _ => not_found(),
        }
    }
}

impl State {
    fn find(&self, id: u64) -> Option<&Stored> {
        self.deployments.iter().find(|d| d.deployment["id"] == id)
    }

    fn create(&mut self, request: &Request) -> ResponseTemplate {
        let Ok(body) = request.body_json::<Value>() else {
            return answer(400, json!({"message": "Problems parsing JSON"}));
        };
        let Some(git_ref) = body["ref"].as_str().filter(|r| !r.is_empty()) else {
            return unprocessable("Invalid request.\n\n\"ref\" wasn't supplied.");
        };
        let environment = body["environment"].as_str().unwrap_or("production");
        self.next_id += 1;
        let deployment = json!({
            "id": self.next_id,
            "sha": git_ref,
            "ref": git_ref,
            "task": body["task"].as_str().unwrap_or("deploy"),
            "environment": environment,
            "payload": body.get("payload").cloned().unwrap_or(json!({})),
            "description": body["description"],
            "production_environment": body["production_environment"]
                .as_bool()
                .unwrap_or(environment == "production"),
            "transient_environment": body["transient_environment"].as_bool().unwrap_or(false),
        });
        self.deployments.push(Stored {
            deployment: deployment.clone(),
            statuses: Vec::new(),
        });
        answer(201, deployment)
    }

    fn list(&self, request: &Request) -> ResponseTemplate {
        let filters: Vec<(&str, String)> = ["sha", "ref", "task", "environment"]
            .into_iter()
            .filter_map(|key| query(request, key).map(|v| (key, v)))
            .collect();
        let newest_first: Vec<Value> = self
            .deployments
            .iter()
            .rev()
            .map(|d| &d.deployment)
            .filter(|d| filters.iter().all(|(key, v)| d[*key] == v.as_str()))
            .cloned()
            .collect();
        answer(200, Value::Array(page(request, &newest_first)))
    }

    fn add_status(&mut self, id: u64, request: &Request) -> ResponseTemplate {
        let Ok(body) = request.body_json::<Value>() else {
            return answer(400, json!({"message": "Problems parsing JSON"}));
        };
        let state = body["state"].as_str().unwrap_or("");
        if !STATES.contains(&state) {
            return unprocessable("Validation Failed: state is not included in the list");
        }
        let Some(index) = self
            .deployments
            .iter()
            .position(|d| d.deployment["id"] == id)
        else {
            return not_found();
        };
        self.next_id += 1;
        let status =
            json!({"id": self.next_id, "state": state, "description": body["description"]});
        self.deployments[index].statuses.push(status.clone());
        if state == "success" && body["auto_inactive"].as_bool().unwrap_or(true) {
            self.inactivate_before(index);
        }
        answer(201, status)
    }

    /// `auto_inactive`: prior deployments of the same environment that are neither
    /// transient nor production and whose state is `success` get an `inactive` status.
    fn inactivate_before(&mut self, index: usize) {
        let environment = self.deployments[index].deployment["environment"].clone();
        let mut next_id = self.next_id;
        for prior in &mut self.deployments[..index] {
            let d = &prior.deployment;
            let eligible = d["environment"] == environment
                && d["transient_environment"] != true
                && d["production_environment"] != true
                && prior
                    .statuses
                    .last()
                    .is_some_and(|s| s["state"] == "success");
            if eligible {
                next_id += 1;
                prior
                    .statuses
                    .push(json!({"id": next_id, "state": "inactive", "description": null}));
            }
        }
        self.next_id = next_id;
    }
}
