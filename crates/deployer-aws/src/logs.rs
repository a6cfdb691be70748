//! CloudWatch Logs: locating a container's awslogs stream and reading it.

use aws_config::SdkConfig;
use serde_json::Value;

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogTarget {
    pub group: String,
    pub stream: String,
    pub region: Option<String>,
}

/// `prefix/container/taskId` in `awslogs-group`, when the container logs with awslogs.
pub fn awslogs_target(td: &Value, container: &str, task_id: &str) -> Option<LogTarget> {
    let inner = td.get("taskDefinition").unwrap_or(td);
    let c = inner
        .get("containerDefinitions")?
        .as_array()?
        .iter()
        .find(|c| c.get("name").and_then(Value::as_str) == Some(container))?;
    let lc = c.get("logConfiguration")?;
    if lc.get("logDriver").and_then(Value::as_str) != Some("awslogs") {
        return None;
    }
    let opts = lc.get("options")?;
    let group = opts.get("awslogs-group")?.as_str()?.to_string();
    let prefix = opts.get("awslogs-stream-prefix")?.as_str()?;
    Some(LogTarget {
        group,
        stream: format!("{prefix}/{container}/{task_id}"),
        region: opts
            .get("awslogs-region")
            .and_then(Value::as_str)
            .map(String::from),
    })
}

/// Does the container log anywhere we can read?
pub fn uses_awslogs(td: &Value, container: &str) -> bool {
    awslogs_target(td, container, "x").is_some()
}

/// GetLogEvents' error code for a log group or stream that does not exist (yet): a task
/// that has not started logging.
const STREAM_MISSING: &str = "ResourceNotFoundException";

#[derive(Debug, Clone)]
pub struct Logs {
    pub client: aws_sdk_cloudwatchlogs::Client,
}

impl Logs {
    pub fn new(config: &SdkConfig) -> Logs {
        Logs {
            client: aws_sdk_cloudwatchlogs::Client::from_conf(
                aws_sdk_cloudwatchlogs::config::Builder::from(config)
                    .retry_classifier(crate::credentials::ExpiredTokenRetry)
                    .interceptor(crate::error::EndpointRecorder)
                    .build(),
            ),
        }
    }

    /// The last `n` lines of a stream (empty when the stream does not exist yet).
    pub async fn tail(&self, target: &LogTarget, n: usize) -> Result<Vec<String>> {
        let out = self
            .client
            .get_log_events()
            .log_group_name(&target.group)
            .log_stream_name(&target.stream)
            .start_from_head(false)
            .limit(n.clamp(1, 10_000) as i32)
            .send()
            .await;
        match out {
            Ok(out) => Ok(out
                .events()
                .iter()
                .filter_map(|e| e.message().map(String::from))
                .collect()),
            Err(e) => {
                let err = Error::aws("GetLogEvents", e);
                if err.aws_code() == Some(STREAM_MISSING) {
                    Ok(vec![])
                } else {
                    Err(err)
                }
            }
        }
    }

    /// One forward page from `token` (None = from the start). Returns the lines and the
    /// token to continue from; a missing stream is an empty page with the same token.
    pub async fn forward(
        &self,
        target: &LogTarget,
        token: Option<String>,
    ) -> Result<(Vec<String>, Option<String>)> {
        let mut req = self
            .client
            .get_log_events()
            .log_group_name(&target.group)
            .log_stream_name(&target.stream)
            .start_from_head(true);
        if let Some(t) = &token {
            req = req.next_token(t);
        }
        match req.send().await {
            Ok(out) => Ok((
                out.events()
                    .iter()
                    .filter_map(|e| e.message().map(String::from))
                    .collect(),
                out.next_forward_token().map(String::from).or(token),
            )),
            Err(e) => {
                let err = Error::aws("GetLogEvents", e);
                if err.aws_code() == Some(STREAM_MISSING) {
                    Ok((vec![], token))
                } else {
                    Err(err)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn awslogs_stream_name() {
        let td = json!({"containerDefinitions": [
            {"name": "api", "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": "/ecs/api", "awslogs-stream-prefix": "ecs", "awslogs-region": "us-east-1"}}},
            {"name": "side", "logConfiguration": {"logDriver": "json-file"}}
        ]});
        let t = awslogs_target(&td, "api", "abc123").expect("target");
        assert_eq!(t.stream, "ecs/api/abc123");
        assert_eq!(t.group, "/ecs/api");
        assert!(awslogs_target(&td, "side", "abc").is_none());
        assert!(!uses_awslogs(&td, "missing"));
    }
}
