//! AWS JSON 1.1 protocol: errors and small request-parsing helpers.

use serde_json::{Value, json};

pub const ECS_PREFIX: &str = "AmazonEC2ContainerServiceV20141113.";
pub const LOGS_PREFIX: &str = "Logs_20140328.";
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// An error in AWS's JSON shape: `{"__type": "...", "message": "..."}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub kind: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, kind: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            kind,
            message: message.into(),
        }
    }
    pub fn client(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "ClientException", message)
    }
    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "InvalidParameterException", message)
    }
    pub fn cluster_not_found() -> ApiError {
        ApiError::new(400, "ClusterNotFoundException", "Cluster not found.")
    }
    pub fn service_not_found() -> ApiError {
        ApiError::new(400, "ServiceNotFoundException", "Service not found.")
    }
    pub fn sd_not_found() -> ApiError {
        ApiError::new(
            400,
            "ServiceDeploymentNotFoundException",
            "Service deployment not found.",
        )
    }
    pub fn throttled() -> ApiError {
        ApiError::new(400, "ThrottlingException", "Rate exceeded")
    }
    pub fn expired_token() -> ApiError {
        ApiError::new(
            400,
            "ExpiredTokenException",
            "The security token included in the request is expired",
        )
    }
    pub fn server() -> ApiError {
        ApiError::new(
            500,
            "ServerException",
            "Service Unavailable. Please try again later.",
        )
    }
    pub fn serialization(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "SerializationException", message)
    }
    pub fn body(&self) -> Value {
        json!({"__type": self.kind, "message": self.message})
    }
}

pub type ApiResult = Result<Value, ApiError>;

pub fn s<'a>(body: &'a Value, key: &str) -> Option<&'a str> {
    body.get(key)
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
}

pub fn required<'a>(body: &'a Value, key: &str) -> Result<&'a str, ApiError> {
    s(body, key)
        .ok_or_else(|| ApiError::invalid(format!("{key} is required but was not provided.")))
}

pub fn strings(body: &Value, key: &str) -> Vec<String> {
    body.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

pub fn int(body: &Value, key: &str) -> Option<i64> {
    body.get(key).and_then(Value::as_i64)
}

pub fn boolean(body: &Value, key: &str) -> Option<bool> {
    body.get(key).and_then(Value::as_bool)
}

/// The last `/`-separated part of a name-or-ARN (`arn:...:service/c/name` -> `name`).
pub fn short_name(name_or_arn: &str) -> &str {
    name_or_arn.rsplit('/').next().unwrap_or(name_or_arn)
}

/// Region from a SigV4 `Authorization` header's credential scope, if any.
/// The access key id of a SigV4 `Authorization` header (`Credential=AKID/date/...`).
pub fn access_key_from_auth(auth: Option<&str>) -> Option<String> {
    let rest = auth?.split("Credential=").nth(1)?;
    let key = rest.split('/').next()?.trim();
    (!key.is_empty()).then(|| key.to_string())
}

pub fn region_from_auth(auth: Option<&str>) -> Option<String> {
    let auth = auth?;
    let cred = auth.split("Credential=").nth(1)?;
    let scope = cred.split([',', ' ']).next()?;
    let region = scope.split('/').nth(2)?;
    (!region.is_empty()
        && region
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-'))
    .then(|| region.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_parsing() {
        let h = "AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-1/ecs/aws4_request, SignedHeaders=host, Signature=x";
        assert_eq!(region_from_auth(Some(h)).as_deref(), Some("eu-west-1"));
        assert_eq!(region_from_auth(Some("garbage")), None);
        assert_eq!(access_key_from_auth(Some(h)).as_deref(), Some("AKID"));
        assert_eq!(access_key_from_auth(Some("garbage")), None);
        assert_eq!(short_name("arn:aws:ecs:us-east-1:1:service/c/web"), "web");
    }
}
