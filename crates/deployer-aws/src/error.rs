//! One error type for the AWS layer; every variant reads as "what happened, why, what to do".
//!
//! AWS SDK errors are parsed once, at the seam ([`Error::aws`]), into an [`AwsError`]: the
//! operation, a typed [`AwsErrorKind`] built from the SDK's own typed error (the `SdkError`
//! variant, the error code from `ProvideErrorMetadata::code()`, the modelled
//! `aws_smithy_types::retry::ErrorKind`, the `ConnectorError` flags), AWS's short message, the
//! HTTP status and the request id. Retry and exit-code decisions match on that kind
//! ([`Error::is_transient`], [`Error::is_throttle`], [`Classify::kind`]), never on text, and
//! the SDK's `Debug` dump of the request and response is never shown: an endpoint that echoes
//! the signed request back cannot put a signature or a session token into an error text.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Mutex, OnceLock};

use aws_credential_types::provider::error::CredentialsError;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::{HttpResponse, Metadata};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::retry::{ErrorKind as RetryKind, ProvideErrorKind};
use aws_types::request_id::RequestId;
use deployer_core::{Classify, ErrorKind, mask};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Flags, config or a referenced AWS resource are unusable (exit 2).
    #[error("{0}")]
    BadInput(String),
    /// The operation ran and failed (exit 1).
    #[error("{0}")]
    Failed(String),
    /// An AWS call failed after the SDK's retries; its kind decides the exit code.
    #[error("{0}")]
    Aws(Box<AwsError>),
    /// A one-off task finished with this exit code (run-migration exits with it).
    #[error("{message}")]
    ExitCode { code: u8, message: String },
}

/// What kind of failure an AWS call ended in, read from the SDK's typed error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsErrorKind {
    /// AWS refused the request as given (4xx with an error code): a wrong name or parameter,
    /// a missing resource or permission.
    Rejected,
    /// AWS refused because of the request rate (throttling codes, HTTP 429).
    Throttled,
    /// AWS or the endpoint failed (5xx, or a transient code such as RequestTimeout).
    ServerError,
    /// The session credentials expired (ExpiredToken).
    ExpiredToken,
    /// No credentials could be loaded, or AWS does not accept them.
    Credentials,
    /// No answer in time (connect, attempt or operation timeout).
    Timeout,
    /// The endpoint could not be reached: DNS, refused connection, TLS, reset.
    Unreachable,
    /// The endpoint answered with something that is not an AWS API answer.
    NotAws,
    /// The request could not be built (endpoint resolution, invalid input).
    Construction,
}

/// One failed AWS call, short: never the SDK's `Debug` dump of request and response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    pub operation: &'static str,
    pub kind: AwsErrorKind,
    /// The AWS error code (`ClusterNotFoundException`), when AWS answered with one.
    pub code: Option<String>,
    /// AWS's message, or what went wrong on the way; redacted and capped.
    pub message: String,
    pub status: Option<u16>,
    pub request_id: Option<String>,
    /// `scheme://host[:port]` the call went to, when known.
    pub endpoint: Option<String>,
    /// The service id (`ecs`, `sts`, `cloudformation`, `cloudwatchlogs`), when known.
    pub service: Option<String>,
    /// What the caller was doing (`api-service`), shown first.
    pub context: Option<String>,
}

/// Longest AWS message kept: AWS's own are a sentence; an echoing endpoint's are not.
const MAX_MESSAGE_CHARS: usize = 400;

/// Error codes that say the credentials are not accepted (IAM, STS, ECS, CloudFormation).
const CREDENTIAL_CODES: &[&str] = &[
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "InvalidSignatureException",
    "IncompleteSignature",
    "MissingAuthenticationToken",
    "MissingAuthenticationTokenException",
    "InvalidAccessKeyId",
    "AuthFailure",
];

const EXPIRED_CODES: &[&str] = &["ExpiredToken", "ExpiredTokenException"];

/// Rejections that mean the input (a name, a parameter, a role's permissions) is wrong:
/// exit 2. Other rejections (conflicts, limits) are failures of the operation.
const BAD_INPUT_CODES: &[&str] = &[
    "ClusterNotFoundException",
    "ServiceNotFoundException",
    "ServiceNotActiveException",
    "InvalidParameterException",
    "InvalidParameterValue",
    "InvalidParameterValueException",
    "ClientException",
    "ValidationError",
    "ValidationException",
    "AccessDeniedException",
    "AccessDenied",
    "UnsupportedFeatureException",
    "PlatformUnknownException",
    "PlatformTaskDefinitionIncompatibilityException",
    "TargetNotFoundException",
    "NamespaceNotFoundException",
];

/// Error codes AWS documents as server-side failures that a retry may cure.
const SERVER_CODES: &[&str] = &[
    "ServerException",
    "InternalFailure",
    "InternalError",
    "InternalServerError",
    "InternalServiceError",
    "ServiceUnavailable",
    "ServiceUnavailableException",
];

impl Error {
    /// An SDK error of `operation`, parsed into a short, typed [`AwsError`].
    pub fn aws<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + ProvideErrorKind + std::error::Error + 'static,
    {
        Error::Aws(Box::new(AwsError::from_sdk(operation, &err)))
    }

    /// The process exit code this error should produce.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::ExitCode { code, .. } => *code,
            other => other.kind().code(),
        }
    }

    /// The AWS failure behind this error, if it is one.
    pub fn as_aws(&self) -> Option<&AwsError> {
        match self {
            Error::Aws(e) => Some(e),
            _ => None,
        }
    }

    /// The AWS error code (`ClusterNotFoundException`) when AWS answered with one.
    pub fn aws_code(&self) -> Option<&str> {
        self.as_aws().and_then(|e| e.code.as_deref())
    }

    /// "ECS could not be reached or could not answer now", not "this request is wrong":
    /// throttling, 5xx, timeouts, unreachable endpoints, expired tokens (renewed before the
    /// retry) and answers that were not AWS's (a proxy hiccup). The wait loop keeps polling
    /// through these.
    pub fn is_transient(&self) -> bool {
        self.as_aws().is_some_and(|e| {
            matches!(
                e.kind,
                AwsErrorKind::Throttled
                    | AwsErrorKind::ServerError
                    | AwsErrorKind::Timeout
                    | AwsErrorKind::Unreachable
                    | AwsErrorKind::ExpiredToken
                    | AwsErrorKind::NotAws
            )
        })
    }

    /// AWS refused because of the request rate: poll more slowly.
    pub fn is_throttle(&self) -> bool {
        self.as_aws()
            .is_some_and(|e| e.kind == AwsErrorKind::Throttled)
    }

    /// The same error with `context` (a service name) in front, keeping its kind.
    pub fn for_service(self, context: &str) -> Error {
        match self {
            Error::BadInput(m) => Error::BadInput(format!("{context}: {m}")),
            Error::Failed(m) => Error::Failed(format!("{context}: {m}")),
            Error::Aws(mut e) => {
                e.context = Some(context.to_string());
                Error::Aws(e)
            }
            Error::ExitCode { code, message } => Error::ExitCode {
                code,
                message: format!("{context}: {message}"),
            },
        }
    }
}

impl AwsError {
    /// Reads the SDK's typed error; texts are redacted and capped here, once.
    pub fn from_sdk<E>(operation: &'static str, err: &SdkError<E, HttpResponse>) -> AwsError
    where
        E: ProvideErrorMetadata + ProvideErrorKind + std::error::Error + 'static,
    {
        let recorded = recorded_endpoint(operation);
        let mut out = AwsError {
            operation,
            kind: AwsErrorKind::Construction,
            code: None,
            message: String::new(),
            status: err.raw_response().map(|r| r.status().as_u16()),
            request_id: err
                .raw_response()
                .and_then(|r| r.headers().request_id().map(String::from)),
            endpoint: recorded.as_ref().map(|r| r.0.clone()),
            service: recorded.map(|r| r.1),
            context: None,
        };
        match err {
            SdkError::ServiceError(context) if !context.raw().status().is_success() => {
                let e = context.err();
                out.code = ProvideErrorMetadata::code(e)
                    .filter(|c| !c.is_empty())
                    .map(String::from);
                out.request_id = e.meta().request_id().map(String::from).or(out.request_id);
                out.message = e.message().map(short).unwrap_or_default();
                out.kind = service_kind(out.code.as_deref(), e.retryable_error_kind(), out.status);
                if out.code.is_none() && out.message.is_empty() {
                    out.message = body_start(context.raw());
                }
            }
            // A success status whose body could not be read (AWS never answers that way), or
            // an answer the SDK could not read as the AWS API's (HTML from a proxy, a wrong
            // AWS_ENDPOINT_URL, a truncated body).
            SdkError::ServiceError(context) => {
                out.kind = AwsErrorKind::NotAws;
                out.message = body_start(context.raw());
            }
            SdkError::ResponseError(context) => {
                out.kind = AwsErrorKind::NotAws;
                out.message = body_start(context.raw());
            }
            SdkError::TimeoutError(_) => {
                out.kind = AwsErrorKind::Timeout;
                out.message = innermost(err);
            }
            SdkError::DispatchFailure(failure) => {
                out.kind = match failure.as_other() {
                    _ if has_credentials_error(err) => AwsErrorKind::Credentials,
                    _ if failure.is_timeout() => AwsErrorKind::Timeout,
                    Some(RetryKind::ThrottlingError) => AwsErrorKind::Throttled,
                    Some(RetryKind::ServerError) | Some(RetryKind::TransientError) => {
                        AwsErrorKind::ServerError
                    }
                    _ if failure.is_user() => AwsErrorKind::Construction,
                    _ => AwsErrorKind::Unreachable,
                };
                out.message = innermost(err);
            }
            // ConstructionFailure, and whatever the SDK adds later.
            _ => {
                out.kind = if has_credentials_error(err) {
                    AwsErrorKind::Credentials
                } else {
                    AwsErrorKind::Construction
                };
                out.message = innermost(err);
            }
        }
        out
    }

    /// The exit-code class: what the user must fix (exit 2) or a failed operation (exit 1).
    pub fn error_kind(&self) -> ErrorKind {
        match self.kind {
            AwsErrorKind::Credentials
            | AwsErrorKind::Unreachable
            | AwsErrorKind::NotAws
            | AwsErrorKind::Construction => ErrorKind::BadInput,
            AwsErrorKind::Rejected
                if self
                    .code
                    .as_deref()
                    .is_some_and(|c| BAD_INPUT_CODES.contains(&c)) =>
            {
                ErrorKind::BadInput
            }
            _ => ErrorKind::Failed,
        }
    }

    /// `AWS_ENDPOINT_URL_ECS`: the variable that overrides this service's endpoint.
    fn endpoint_variable(&self) -> String {
        let id = match self.service.as_deref() {
            Some("cloudwatchlogs") | Some("logs") => "CLOUDWATCH_LOGS".to_string(),
            Some(other) => other.to_ascii_uppercase().replace([' ', '-'], "_"),
            None => "<SERVICE>".to_string(),
        };
        format!("AWS_ENDPOINT_URL_{id}")
    }

    /// "(HTTP 400, request id abc)", or nothing.
    fn answer_details(&self) -> String {
        let mut parts = Vec::new();
        if let Some(s) = self.status {
            parts.push(format!("HTTP {s}"));
        }
        if let Some(id) = &self.request_id {
            parts.push(format!("request id {id}"));
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!(" ({})", parts.join(", "))
        }
    }

    fn what_aws_said(&self) -> String {
        match (&self.code, self.message.is_empty()) {
            (Some(code), false) => format!("{code}: {}", self.message),
            (Some(code), true) => code.clone(),
            (None, false) => self.message.clone(),
            (None, true) => "no error code".to_string(),
        }
    }

    /// What to do about it, per kind.
    fn fix(&self) -> String {
        let endpoint_vars = format!("AWS_ENDPOINT_URL / {}", self.endpoint_variable());
        match self.kind {
            AwsErrorKind::Rejected => match self.code.as_deref() {
                Some("AccessDeniedException" | "AccessDenied") => format!(
                    "the credentials are not allowed to call {}: add that action to the role's IAM policy",
                    self.operation
                ),
                Some(c) if BAD_INPUT_CODES.contains(&c) => {
                    "check the names and values passed (flags, deployer.yml) and the region".into()
                }
                _ => "AWS refused the request; see its message".into(),
            },
            AwsErrorKind::Throttled => {
                "AWS throttled the calls after the SDK's retries: run fewer deploys at once, \
                 raise AWS_MAX_ATTEMPTS or set AWS_RETRY_MODE=adaptive"
                    .into()
            }
            AwsErrorKind::ServerError => {
                "the AWS endpoint failed; try again, and if it persists check the AWS Health \
                 Dashboard (or the endpoint, if AWS_ENDPOINT_URL points elsewhere)"
                    .into()
            }
            AwsErrorKind::ExpiredToken => {
                "the AWS credentials expired: use role-to-assume (renewed automatically) or \
                 fresh keys"
                    .into()
            }
            AwsErrorKind::Credentials => {
                "use role-to-assume with `permissions: id-token: write`, or set \
                 AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), AWS_PROFILE, or \
                 run where container or instance credentials exist; check that the keys are current"
                    .into()
            }
            AwsErrorKind::Timeout => format!(
                "check that the endpoint is up and reachable from the runner ({endpoint_vars}, \
                 --region / AWS_REGION, any proxy); AWS_MAX_ATTEMPTS sets how often it is retried"
            ),
            AwsErrorKind::Unreachable => format!(
                "check --region / AWS_REGION (is it an AWS region?), {endpoint_vars}, and the \
                 runner's network, DNS and proxy"
            ),
            AwsErrorKind::NotAws => format!(
                "check {endpoint_vars}, the region and any proxy between the runner and AWS"
            ),
            AwsErrorKind::Construction => {
                format!("check --region / AWS_REGION and {endpoint_vars}")
            }
        }
    }

    fn endpoint_text(&self) -> String {
        self.endpoint
            .clone()
            .unwrap_or_else(|| "the AWS endpoint".to_string())
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(context) = &self.context {
            write!(f, "{context}: ")?;
        }
        let op = self.operation;
        let fix = self.fix();
        match self.kind {
            AwsErrorKind::Unreachable => write!(
                f,
                "AWS {op} failed: cannot reach {} ({}); {fix}",
                self.endpoint_text(),
                self.message
            ),
            AwsErrorKind::Timeout => write!(
                f,
                "AWS {op} failed: {} did not answer in time ({}); {fix}",
                self.endpoint_text(),
                self.message
            ),
            AwsErrorKind::NotAws => write!(
                f,
                "{op}: {} answered HTTP {} with something that is not an AWS API answer ({}); {fix}",
                self.endpoint_text(),
                self.status
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "?".into()),
                self.message
            ),
            AwsErrorKind::Construction => write!(
                f,
                "AWS {op} failed: the request could not be built ({}); {fix}",
                self.message
            ),
            AwsErrorKind::Credentials if self.code.is_none() => write!(
                f,
                "AWS {op} failed: no usable AWS credentials ({}); {fix}",
                self.message
            ),
            _ => write!(
                f,
                "AWS {op} failed: {}{}; {fix}",
                self.what_aws_said(),
                self.answer_details()
            ),
        }
    }
}

/// The kind of an answer AWS gave with an error status.
fn service_kind(
    code: Option<&str>,
    modelled: Option<RetryKind>,
    status: Option<u16>,
) -> AwsErrorKind {
    let code = code.unwrap_or_default();
    // aws-runtime's lists are the codes the SDK's own retry classifier treats as throttling
    // and transient (aws_runtime::retries::classifiers).
    if aws_runtime::retries::classifiers::THROTTLING_ERRORS.contains(&code)
        || modelled == Some(RetryKind::ThrottlingError)
        || status == Some(429)
    {
        return AwsErrorKind::Throttled;
    }
    if EXPIRED_CODES.contains(&code) {
        return AwsErrorKind::ExpiredToken;
    }
    if CREDENTIAL_CODES.contains(&code) {
        return AwsErrorKind::Credentials;
    }
    if aws_runtime::retries::classifiers::TRANSIENT_ERRORS.contains(&code)
        || SERVER_CODES.contains(&code)
        || matches!(
            modelled,
            Some(RetryKind::ServerError | RetryKind::TransientError)
        )
        || status.is_some_and(|s| s >= 500)
    {
        return AwsErrorKind::ServerError;
    }
    AwsErrorKind::Rejected
}

/// A credentials provider failed somewhere in the chain of causes (typed: downcast).
fn has_credentials_error(err: &(dyn std::error::Error + 'static)) -> bool {
    causes(err).any(|e| e.downcast_ref::<CredentialsError>().is_some())
}

fn causes<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(err), |e| e.source())
}

/// The deepest cause's text ("Connection refused (os error 111)"), or the credentials
/// provider's, redacted and capped: what happened, without the SDK's wrapping.
fn innermost(err: &(dyn std::error::Error + 'static)) -> String {
    if let Some(creds) = causes(err).find_map(|e| e.downcast_ref::<CredentialsError>()) {
        return short(&aws_smithy_types::error::display::DisplayErrorContext(creds).to_string());
    }
    let deepest = causes(err).last().unwrap_or(err);
    short(&deepest.to_string())
}

/// Redacts, flattens to one line and caps a text that came from outside. Redaction comes
/// first, so a cut can never leave part of a secret behind.
pub(crate) fn short(text: &str) -> String {
    let flat: String = mask::redact(text)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let flat = flat.trim();
    if flat.chars().count() <= MAX_MESSAGE_CHARS {
        return flat.to_string();
    }
    let kept: String = flat.chars().take(MAX_MESSAGE_CHARS).collect();
    format!("{kept}… [cut]")
}

/// "`<html>…`" or "an empty body": the first bytes of an answer, redacted.
fn body_start(raw: &HttpResponse) -> String {
    // Redact a generous window before cutting it to 60 characters, so a secret near the
    // start is replaced whole rather than cut into an unrecognisable prefix.
    let window: String = raw
        .body()
        .bytes()
        .map(|b| String::from_utf8_lossy(&b[..b.len().min(8192)]).into_owned())
        .unwrap_or_default();
    let redacted = mask::redact(&window);
    let start: String = redacted
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(60)
        .collect();
    let start = start.trim();
    if start.is_empty() {
        "an empty body".to_string()
    } else {
        format!("`{start}`")
    }
}

/// Where each operation last went (`operation` → (endpoint, service id)), recorded by
/// [`EndpointRecorder`]: a connection error does not say which endpoint it was for.
fn endpoints() -> &'static Mutex<BTreeMap<String, (String, String)>> {
    static ENDPOINTS: OnceLock<Mutex<BTreeMap<String, (String, String)>>> = OnceLock::new();
    ENDPOINTS.get_or_init(|| Mutex::new(BTreeMap::new()))
}

fn recorded_endpoint(operation: &str) -> Option<(String, String)> {
    endpoints()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(operation)
        .cloned()
}

/// `https://ecs.us-east-1.amazonaws.com/?x` → `https://ecs.us-east-1.amazonaws.com`.
fn origin(uri: &str) -> String {
    let after_scheme = uri.find("://").map(|i| i + 3).unwrap_or(0);
    let end = uri[after_scheme..]
        .find(['/', '?', '#'])
        .map(|i| i + after_scheme)
        .unwrap_or(uri.len());
    uri[..end].to_string()
}

/// Records the endpoint of every request before it is sent, so an unreachable endpoint
/// can be named in the error. Added to every client this crate builds.
#[derive(Debug, Clone, Copy, Default)]
pub struct EndpointRecorder;

impl Intercept for EndpointRecorder {
    fn name(&self) -> &'static str {
        "deployer endpoint recorder"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(meta) = cfg.load::<Metadata>() {
            let endpoint = origin(context.request().uri());
            endpoints()
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(
                    meta.name().to_string(),
                    (endpoint, meta.service().to_string()),
                );
        }
        Ok(())
    }
}

impl Classify for Error {
    fn kind(&self) -> ErrorKind {
        match self {
            Error::BadInput(_) => ErrorKind::BadInput,
            Error::Aws(e) => e.error_kind(),
            _ => ErrorKind::Failed,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_decide_the_kind() {
        assert_eq!(
            service_kind(Some("ThrottlingException"), None, Some(400)),
            AwsErrorKind::Throttled
        );
        assert_eq!(service_kind(None, None, Some(429)), AwsErrorKind::Throttled);
        assert_eq!(
            service_kind(Some("ExpiredTokenException"), None, Some(400)),
            AwsErrorKind::ExpiredToken
        );
        assert_eq!(
            service_kind(Some("UnrecognizedClientException"), None, Some(400)),
            AwsErrorKind::Credentials
        );
        assert_eq!(
            service_kind(Some("ServerException"), None, Some(500)),
            AwsErrorKind::ServerError
        );
        assert_eq!(
            service_kind(None, None, Some(503)),
            AwsErrorKind::ServerError
        );
        assert_eq!(
            service_kind(Some("ClusterNotFoundException"), None, Some(400)),
            AwsErrorKind::Rejected
        );
    }

    fn aws(kind: AwsErrorKind, code: Option<&str>) -> Error {
        Error::Aws(Box::new(AwsError {
            operation: "DescribeServices",
            kind,
            code: code.map(String::from),
            message: "m".into(),
            status: Some(400),
            request_id: Some("rid-1".into()),
            endpoint: Some("http://127.0.0.1:1".into()),
            service: Some("ecs".into()),
            context: None,
        }))
    }

    #[test]
    fn kinds_decide_exit_codes_and_retries() {
        let missing = aws(AwsErrorKind::Rejected, Some("ClusterNotFoundException"));
        assert_eq!(missing.exit_code(), 2);
        assert!(!missing.is_transient());
        let conflict = aws(AwsErrorKind::Rejected, Some("ConflictException"));
        assert_eq!(conflict.exit_code(), 1);
        let refused = aws(AwsErrorKind::Unreachable, None);
        assert_eq!(refused.exit_code(), 2);
        assert!(refused.is_transient());
        let throttled = aws(AwsErrorKind::Throttled, Some("ThrottlingException"));
        assert!(throttled.is_throttle() && throttled.is_transient());
        assert_eq!(throttled.exit_code(), 1);
        assert!(!Error::Failed("timeout ThrottlingException".into()).is_transient());
        let named = refused.for_service("api");
        assert_eq!(named.exit_code(), 2);
        assert!(
            named
                .to_string()
                .starts_with("api: AWS DescribeServices failed: cannot reach http://127.0.0.1:1")
        );
        assert!(
            named.to_string().contains("AWS_ENDPOINT_URL_ECS"),
            "{named}"
        );
    }

    #[test]
    fn the_text_is_short_and_keeps_code_and_request_id() {
        let text = aws(AwsErrorKind::Rejected, Some("AccessDeniedException")).to_string();
        assert!(
            text.starts_with(
                "AWS DescribeServices failed: AccessDeniedException: m (HTTP 400, request id rid-1)"
            ),
            "{text}"
        );
        assert!(text.contains("IAM policy"), "{text}");
        let long = "x".repeat(5000);
        let cut = short(&long);
        assert!(cut.chars().count() < MAX_MESSAGE_CHARS + 10 && cut.ends_with("[cut]"));
    }

    #[test]
    fn origins_drop_path_and_query() {
        assert_eq!(
            origin("https://ecs.us-east-1.amazonaws.com/?a=b"),
            "https://ecs.us-east-1.amazonaws.com"
        );
        assert_eq!(origin("http://127.0.0.1:4566"), "http://127.0.0.1:4566");
    }
}
