//! The loopback stand-ins a workflow run talks to besides AWS: the runner's OIDC token
//! service, the GitHub REST API (releases, tags, deployments) and the services' health
//! endpoints. All three run in one small tokio runtime owned by [`StandIns`].

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use anyhow::{Context, Result};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A JWT as the Actions token service hands out (moto's STS does not verify signatures).
pub const OIDC_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOm9yZy9zdG9yZWZyb250OmVudmlyb25tZW50OnByb2R1Y3Rpb24iLCJhdWQiOiJzdHMuYW1hem9uYXdzLmNvbSJ9.c2lnbmF0dXJl";

/// One request the GitHub API stand-in answered.
#[derive(Debug, Clone)]
pub struct GithubCall {
    pub method: String,
    /// Path below `/repos/<owner>/<repo>/` (e.g. `releases`, `deployments/3/statuses`).
    pub path: String,
    /// `owner/repo` of the request.
    pub repository: String,
    pub body: Value,
}

#[derive(Default)]
struct Github {
    calls: Vec<GithubCall>,
    tags: BTreeMap<String, String>,
    releases: BTreeMap<String, Value>,
    deployments: Vec<Value>,
    next_id: u64,
}

#[derive(Default)]
struct Shared {
    github: Mutex<Github>,
    health_hits: Mutex<BTreeMap<String, u64>>,
    oidc_requests: Mutex<u64>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking handler cannot leave these maps half-updated in a way that matters.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The three servers, each on its own 127.0.0.1 port. Dropped: they stop.
pub struct StandIns {
    runtime: tokio::runtime::Runtime,
    shared: Arc<Shared>,
    pub oidc: SocketAddr,
    pub github: SocketAddr,
    pub health: SocketAddr,
}

impl StandIns {
    pub fn start() -> Result<StandIns> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .context("start the stand-ins' runtime")?;
        let shared = Arc::new(Shared::default());
        let oidc = serve(&runtime, Router::new().fallback(oidc), &shared)?;
        let github = serve(&runtime, Router::new().fallback(github), &shared)?;
        let health = serve(&runtime, Router::new().fallback(health), &shared)?;
        Ok(StandIns {
            runtime,
            shared,
            oidc,
            github,
            health,
        })
    }

    /// `ACTIONS_ID_TOKEN_REQUEST_URL` (the runner appends `&audience=…`).
    pub fn oidc_url(&self) -> String {
        format!("http://{}/token?api-version=2.0", self.oidc)
    }

    /// `GITHUB_API_URL`.
    pub fn github_api_url(&self) -> String {
        format!("http://{}", self.github)
    }

    /// Base URL of the health server; every path answers 200.
    pub fn health_url(&self) -> String {
        format!("http://{}", self.health)
    }

    pub fn github_calls(&self) -> Vec<GithubCall> {
        lock(&self.shared.github).calls.clone()
    }

    /// Health checks received per path.
    pub fn health_hits(&self) -> BTreeMap<String, u64> {
        lock(&self.shared.health_hits).clone()
    }

    pub fn oidc_requests(&self) -> u64 {
        *lock(&self.shared.oidc_requests)
    }

    /// Runs a future on the stand-ins' runtime (used for HTTP calls to ecs-sim).
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }
}

fn serve(
    runtime: &tokio::runtime::Runtime,
    router: Router<Arc<Shared>>,
    shared: &Arc<Shared>,
) -> Result<SocketAddr> {
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .context("bind a loopback port")?;
    let addr = listener.local_addr()?;
    let app = router.with_state(shared.clone());
    runtime.spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            eprintln!("deployer-e2e: stand-in on {addr} stopped: {e}");
        }
    });
    Ok(addr)
}

async fn oidc(State(shared): State<Arc<Shared>>) -> Response {
    *lock(&shared.oidc_requests) += 1;
    axum::Json(json!({ "value": OIDC_TOKEN })).into_response()
}

async fn health(State(shared): State<Arc<Shared>>, uri: Uri) -> Response {
    *lock(&shared.health_hits)
        .entry(uri.path().to_string())
        .or_insert(0) += 1;
    (StatusCode::OK, "ok").into_response()
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({ "message": "Not Found" })),
    )
        .into_response()
}

fn created(v: Value) -> Response {
    (StatusCode::CREATED, axum::Json(v)).into_response()
}

/// The endpoints of deployer-github: tags, releases, deployments and their statuses.
async fn github(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let parts: Vec<String> = uri
        .path()
        .trim_matches('/')
        .split('/')
        .map(|s| s.replace("%2F", "/").replace("%2f", "/"))
        .collect();
    let (repository, rest) = match parts.as_slice() {
        [repos, owner, repo, rest @ ..] if repos == "repos" => (format!("{owner}/{repo}"), rest),
        _ => return not_found(),
    };
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    let mut gh = lock(&shared.github);
    gh.calls.push(GithubCall {
        method: method.to_string(),
        path: rest.join("/"),
        repository: repository.clone(),
        body: body.clone(),
    });
    let query = uri.query().unwrap_or("");
    match (method.as_str(), rest.as_slice()) {
        ("GET", ["git", "ref", "tags", tag @ ..]) => match gh.tags.get(&tag.join("/")) {
            Some(sha) => axum::Json(
                json!({ "ref": format!("refs/tags/{}", tag.join("/")), "object": { "sha": sha, "type": "commit" } }),
            )
            .into_response(),
            None => not_found(),
        },
        ("POST", ["git", "refs"]) => {
            let name = body["ref"].as_str().unwrap_or("");
            let sha = body["sha"].as_str().unwrap_or("").to_string();
            let tag = name.strip_prefix("refs/tags/").unwrap_or(name).to_string();
            gh.tags.insert(tag, sha.clone());
            created(json!({ "ref": name, "object": { "sha": sha, "type": "commit" } }))
        }
        ("GET", ["releases", "tags", tag @ ..]) => match gh.releases.get(&tag.join("/")) {
            Some(r) => axum::Json(r.clone()).into_response(),
            None => not_found(),
        },
        ("POST", ["releases"]) => {
            gh.next_id += 1;
            let tag = body["tag_name"].as_str().unwrap_or("").to_string();
            let release = json!({
                "id": gh.next_id,
                "tag_name": tag,
                "html_url": format!("https://github.com/{repository}/releases/tag/{tag}"),
                "draft": false,
                "prerelease": body["prerelease"].as_bool().unwrap_or(false),
                "name": body["name"],
            });
            gh.releases.insert(tag, release.clone());
            created(release)
        }
        ("POST", ["deployments"]) => {
            gh.next_id += 1;
            let deployment = json!({
                "id": gh.next_id,
                "sha": body["sha"].as_str().or(body["ref"].as_str()).unwrap_or(""),
                "ref": body["ref"],
                "environment": body["environment"],
                "payload": body.get("payload").cloned().unwrap_or(Value::Null),
            });
            gh.deployments.push(deployment.clone());
            created(deployment)
        }
        ("GET", ["deployments"]) => {
            let environment = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("environment="))
                .map(|e| e.replace("%2F", "/"));
            let list: Vec<Value> = gh
                .deployments
                .iter()
                .rev()
                .filter(|d| environment.as_deref().is_none_or(|e| d["environment"] == e))
                .take(1)
                .cloned()
                .collect();
            axum::Json(Value::Array(list)).into_response()
        }
        ("POST", ["deployments", _id, "statuses"]) => {
            gh.next_id += 1;
            created(json!({ "id": gh.next_id, "state": body["state"] }))
        }
        _ => not_found(),
    }
}
