//! Credentials: GitHub OIDC → STS AssumeRoleWithWebIdentity (optionally a second hop),
//! the default chain otherwise. Every key is masked the moment it is known, from any
//! source: STS answers in [`convert`], the default chain (environment, profile files,
//! container and instance endpoints) through [`MaskingCredentials`], which wraps the
//! provider every client signs with and is asked once up front, so the `::add-mask::`
//! lines come before anything a failed call could print.
//!
//! Retries: `AWS_MAX_ATTEMPTS` / `AWS_RETRY_MODE` (or `max_attempts` / `retry_mode` in the
//! selected profile) are read the way the SDK reads them ([`retry_config`]); without them
//! deployer's own default (8 attempts, standard mode) applies.
//!
//! Endpoints: `aws-config` itself honours `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>`
//! (see the `endpoint_env` integration test); [`LoadOptions::endpoint_url`] is an explicit
//! override used by tests that must not touch the process environment.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use aws_config::identity::IdentityCache;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider, future};
use aws_sdk_sts::operation::assume_role_with_web_identity::AssumeRoleWithWebIdentityError;
use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction};
use aws_smithy_types::retry::{RetryConfig, RetryMode};

use crate::error::{Error, Result};

const AUDIENCE: &str = "sts.amazonaws.com";
const OIDC_ATTEMPTS: u32 = 5;

/// Where to get the GitHub OIDC token (the two `ACTIONS_ID_TOKEN_REQUEST_*` variables).
#[derive(Debug, Clone)]
pub struct OidcRequest {
    pub url: String,
    pub token: String,
}

impl OidcRequest {
    pub fn from_env() -> Option<OidcRequest> {
        let url = std::env::var("ACTIONS_ID_TOKEN_REQUEST_URL")
            .ok()
            .filter(|v| !v.is_empty())?;
        let token = std::env::var("ACTIONS_ID_TOKEN_REQUEST_TOKEN").unwrap_or_default();
        Some(OidcRequest { url, token })
    }

    /// The token URL with `audience=sts.amazonaws.com` appended with `&` or `?` as needed.
    pub fn token_url(&self) -> String {
        let sep = if self.url.contains('?') { '&' } else { '?' };
        format!("{}{sep}audience={AUDIENCE}", self.url)
    }
}

#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    pub region: Option<String>,
    pub role_to_assume: Option<String>,
    /// Second hop (cross-account), assumed with the first role's credentials.
    pub chain_role: Option<String>,
    /// Defaults to [`session_name_from_env`].
    pub session_name: Option<String>,
    /// `None` = read `ACTIONS_ID_TOKEN_REQUEST_*` from the environment.
    pub oidc: Option<OidcRequest>,
    /// Explicit endpoint for every service (tests); normally the env variables do this.
    pub endpoint_url: Option<String>,
    /// Explicit base credentials instead of the default chain (tests).
    pub base_credentials: Option<Credentials>,
    /// Maximum attempts for every AWS call; wins over `AWS_MAX_ATTEMPTS`, which wins over
    /// the profile's `max_attempts`; default [`DEFAULT_MAX_ATTEMPTS`].
    pub max_attempts: Option<u32>,
    /// Role session duration; default 3600 s.
    pub duration_seconds: Option<i32>,
    /// Per-attempt timeout of every AWS call (a hung endpoint costs at most this per
    /// attempt); default 30 s.
    pub attempt_timeout: Option<Duration>,
    /// Timeout of a whole AWS call, retries included; default 120 s.
    pub operation_timeout: Option<Duration>,
    /// Assumed-role credentials are renewed this long before they expire; default 5 min.
    pub refresh_margin: Option<Duration>,
}

const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// Attempts per AWS call when neither [`LoadOptions::max_attempts`], `AWS_MAX_ATTEMPTS` nor
/// the profile's `max_attempts` says otherwise: a deploy outlives short throttling bursts.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 8;

/// The account the credentials act in, once known (from the role ARN or
/// GetCallerIdentity): error messages name it ("cluster X does not exist in account A").
static KNOWN_ACCOUNT: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// The account of the credentials in use, if known.
pub fn known_account() -> Option<String> {
    KNOWN_ACCOUNT
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
}

fn remember_account(account: &str) {
    if account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) {
        *KNOWN_ACCOUNT.lock().unwrap_or_else(|p| p.into_inner()) = Some(account.to_string());
    }
}

/// `arn:aws:iam::123456789012:role/x` → `123456789012`.
fn account_of_arn(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

/// Masks the three parts of a set of credentials (the access key id too: it names the key).
fn mask_credentials(creds: &Credentials) {
    deployer_core::mask::add(creds.access_key_id());
    deployer_core::mask::add(creds.secret_access_key());
    if let Some(token) = creds.session_token() {
        deployer_core::mask::add(token);
    }
}

/// Wraps a credentials provider so that whatever it resolves is masked before it is used:
/// the default chain reads environment keys, profile files, the container endpoint
/// (`AWS_CONTAINER_CREDENTIALS_FULL_URI`) or instance metadata, and none of those values
/// may reach a log.
#[derive(Debug)]
struct MaskingCredentials(SharedCredentialsProvider);

impl ProvideCredentials for MaskingCredentials {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            let creds = self.0.provide_credentials().await?;
            mask_credentials(&creds);
            Ok(creds)
        })
    }
}

/// `base` with its credentials provider wrapped in [`MaskingCredentials`].
fn with_masking(base: SdkConfig) -> SdkConfig {
    let Some(provider) = base.credentials_provider() else {
        return base;
    };
    base.into_builder()
        .credentials_provider(SharedCredentialsProvider::new(MaskingCredentials(provider)))
        .build()
}

/// The retry configuration: [`LoadOptions::max_attempts`], else `AWS_MAX_ATTEMPTS` / the
/// profile's `max_attempts`, else [`DEFAULT_MAX_ATTEMPTS`]; `AWS_RETRY_MODE` / the profile's
/// `retry_mode` (standard or adaptive), else standard. Read with aws-runtime's
/// `EnvConfigValue`, the SDK's own env-then-profile reader; a bad value is a bad-input
/// error naming where it came from (the SDK's loader would panic on it).
pub async fn retry_config(explicit_attempts: Option<u32>) -> Result<RetryConfig> {
    use aws_runtime::env_config::EnvConfigValue;
    use aws_types::os_shim_internal::{Env, Fs};
    let env = Env::real();
    // An unreadable profile file is reported by the credential chain; retries only need
    // what can be read.
    let profiles = aws_config::profile::load(
        &Fs::real(),
        &env,
        &aws_runtime::env_config::file::EnvConfigFiles::default(),
        None,
    )
    .await
    .ok();
    let bad = |e: &dyn std::fmt::Display, fix: &str| Error::BadInput(format!("{e}: {fix}"));
    let attempts = EnvConfigValue::new()
        .env("AWS_MAX_ATTEMPTS")
        .profile("max_attempts")
        // Empty means not set (an action input passed through `env:` arrives empty).
        .validate(&env, profiles.as_ref(), |v| match v.trim() {
            "" => Ok(None),
            v => match v.parse::<u32>() {
                Ok(0) => Err(RetrySettingError("0 is not a number of attempts".into())),
                Ok(n) => Ok(Some(n)),
                Err(_) => Err(RetrySettingError(format!(
                    "`{v}` is not a number of attempts"
                ))),
            },
        })
        .map_err(|e| {
            bad(
                &e,
                "set AWS_MAX_ATTEMPTS to a whole number of at least 1, e.g. 3",
            )
        })?;
    let mode = EnvConfigValue::new()
        .env("AWS_RETRY_MODE")
        .profile("retry_mode")
        .validate(&env, profiles.as_ref(), |v| match v.trim() {
            "" => Ok(None),
            v => v
                .parse::<RetryMode>()
                .map(Some)
                .map_err(|_| RetrySettingError(format!("`{v}` is not a retry mode"))),
        })
        .map_err(|e| bad(&e, "set AWS_RETRY_MODE to standard or adaptive"))?;
    let mut retry = RetryConfig::standard()
        .with_max_attempts(
            explicit_attempts
                .or(attempts.flatten())
                .unwrap_or(DEFAULT_MAX_ATTEMPTS)
                .max(1),
        )
        .with_initial_backoff(Duration::from_millis(500))
        .with_max_backoff(Duration::from_secs(20));
    if let Some(mode) = mode.flatten() {
        retry = retry.with_retry_mode(mode);
    }
    Ok(retry)
}

/// Why an `AWS_MAX_ATTEMPTS` / `AWS_RETRY_MODE` value is unusable.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RetrySettingError(String);

/// A region must be a DNS label (`us-east-1`): anything else cannot name an endpoint.
fn validate_region(region: &str) -> Result<()> {
    let label = !region.is_empty()
        && region.len() <= 63
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !region.starts_with('-')
        && !region.ends_with('-');
    if label {
        Ok(())
    } else {
        Err(Error::BadInput(format!(
            "region `{region}` is not an AWS region name (lower-case letters, digits and '-', \
             e.g. us-east-1): fix --region (env DEPLOYER_REGION), `region` of the environment \
             in deployer.yml, or AWS_REGION"
        )))
    }
}

/// Bumped each time AWS answers ExpiredToken: every [`Refresher`] whose credentials were
/// fetched before that renews them on the next call. Process-wide because the retry
/// classifier sees only the HTTP exchange, not which provider signed it; a needless renewal
/// costs one STS call, a missed one a failed deploy.
static EXPIRED_GENERATION: AtomicU64 = AtomicU64::new(0);
/// Refreshing providers built in this process: only then is ExpiredToken worth a retry.
static REFRESHING_PROVIDERS: AtomicU64 = AtomicU64::new(0);

/// The assumed role (OIDC → AssumeRoleWithWebIdentity, or default chain → AssumeRole, plus
/// the optional second hop), renewed before expiry and after an ExpiredToken answer.
#[derive(Debug)]
struct Refresher {
    base: SdkConfig,
    role: String,
    chain: Option<String>,
    session: String,
    duration: i32,
    oidc: Option<OidcRequest>,
    margin: Duration,
    /// The credentials and the [`EXPIRED_GENERATION`] they were fetched at.
    cache: tokio::sync::Mutex<Option<(Credentials, u64, SystemTime)>>,
}

impl Refresher {
    async fn fetch(&self) -> Result<Credentials> {
        let mut creds = match &self.oidc {
            // The JWT is short-lived (minutes): fetch a new one for every assume.
            Some(request) => {
                let jwt = fetch_oidc_token(request).await?;
                assume_with_web_identity(&self.base, &self.role, &self.session, &jwt, self.duration)
                    .await?
            }
            None => assume_role(&self.base, &self.role, &self.session, self.duration).await?,
        };
        if let Some(chain) = &self.chain {
            let hop = with_credentials(&self.base, creds.clone());
            creds = assume_role(&hop, chain, &self.session, self.duration).await?;
        }
        Ok(creds)
    }

    async fn get(&self) -> Result<Credentials> {
        let mut cache = self.cache.lock().await;
        let generation = EXPIRED_GENERATION.load(Ordering::SeqCst);
        let now = SystemTime::now();
        if let Some((creds, fetched_generation, fetched_at)) = cache.as_ref()
            && *fetched_generation == generation
            && still_fresh(creds.expiry(), *fetched_at, now, self.margin)
        {
            return Ok(creds.clone());
        }
        let fresh = self.fetch().await?;
        *cache = Some((fresh.clone(), generation, now));
        Ok(fresh)
    }
}

/// Fresh until `margin` before expiry; the margin shrinks to half the lifetime for short
/// sessions, so they are not renewed on every call.
fn still_fresh(
    expiry: Option<SystemTime>,
    fetched_at: SystemTime,
    now: SystemTime,
    margin: Duration,
) -> bool {
    let Some(expiry) = expiry else {
        return true;
    };
    let lifetime = expiry.duration_since(fetched_at).unwrap_or(Duration::ZERO);
    let margin = margin.min(lifetime / 2);
    now + margin < expiry
}

#[derive(Debug, Clone)]
struct RefreshingCredentials {
    inner: Arc<Refresher>,
}

impl ProvideCredentials for RefreshingCredentials {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            self.inner
                .get()
                .await
                .map_err(CredentialsError::provider_error)
        })
    }
}

/// Retries a call AWS refused with ExpiredToken(Exception), after telling the refreshing
/// providers to renew: the retry is signed with new credentials. Added to every ECS and
/// CloudWatch Logs client ([`crate::ecs::Ecs::new`], [`crate::logs::Logs::new`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct ExpiredTokenRetry;

impl ClassifyRetry for ExpiredTokenRetry {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let Some(resp) = ctx.response() else {
            return RetryAction::NoActionIndicated;
        };
        if !matches!(resp.status().as_u16(), 400 | 403) {
            return RetryAction::NoActionIndicated;
        }
        let in_header = resp
            .headers()
            .get("x-amzn-errortype")
            .is_some_and(|v| v.contains("ExpiredToken"));
        let in_body = resp
            .body()
            .bytes()
            .is_some_and(|b| b.windows(12).any(|w| w == b"ExpiredToken"));
        if !(in_header || in_body) {
            return RetryAction::NoActionIndicated;
        }
        EXPIRED_GENERATION.fetch_add(1, Ordering::SeqCst);
        if REFRESHING_PROVIDERS.load(Ordering::SeqCst) > 0 {
            RetryAction::transient_error()
        } else {
            RetryAction::NoActionIndicated
        }
    }

    fn name(&self) -> &'static str {
        "deployer ExpiredToken → renew credentials"
    }
}

/// What the commands use: the SDK config plus what we know about the credentials.
#[derive(Debug, Clone)]
pub struct AwsContext {
    pub config: SdkConfig,
    /// When the first assumed-role credentials expire (None: unknown / long-lived).
    pub expiration: Option<SystemTime>,
    /// The role is assumed again (OIDC token fetched again) before the credentials expire
    /// or after AWS answers ExpiredToken, so long waits outlive one session.
    pub refreshable: bool,
    /// How the credentials were obtained, for the summary.
    pub source: String,
}

#[derive(Debug, Clone)]
pub struct CallerIdentity {
    pub account: String,
    pub arn: String,
    pub user_id: String,
}

/// `[\w+=,.@-]`, at most 64 characters, at least 2 (STS's rules).
pub fn sanitize_session_name(raw: &str) -> String {
    let mut out: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    while out.len() < 2 {
        out.push('-');
    }
    out
}

/// `deployer-<owner-repo>-<run id>` from `GITHUB_REPOSITORY` / `GITHUB_RUN_ID`, sanitised.
pub fn session_name_from(repository: Option<&str>, run_id: Option<&str>) -> String {
    let mut name = String::from("deployer");
    if let Some(repo) = repository.filter(|r| !r.is_empty()) {
        name.push('-');
        name.push_str(repo);
    }
    if let Some(run) = run_id.filter(|r| !r.is_empty()) {
        name.push('-');
        name.push_str(run);
    }
    // Keep the run id when the repository name is long: it is what makes the name unique.
    if name.len() > 64
        && let Some(run) = run_id.filter(|r| !r.is_empty() && r.len() < 40)
    {
        let keep = 64 - run.len() - 1;
        let head: String = name.chars().take(keep).collect();
        name = format!("{head}-{run}");
    }
    sanitize_session_name(&name)
}

pub fn session_name_from_env() -> String {
    let repo = std::env::var("GITHUB_REPOSITORY").ok();
    let run = std::env::var("GITHUB_RUN_ID").ok();
    session_name_from(repo.as_deref(), run.as_deref())
}

impl AwsContext {
    pub async fn load(opts: LoadOptions) -> Result<AwsContext> {
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(10))
            .operation_attempt_timeout(opts.attempt_timeout.unwrap_or(Duration::from_secs(30)))
            .operation_timeout(opts.operation_timeout.unwrap_or(Duration::from_secs(120)))
            .build();
        let retry = retry_config(opts.max_attempts).await?;
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(retry)
            .timeout_config(timeouts);
        if let Some(region) = opts.region.clone().filter(|r| !r.is_empty()) {
            loader = loader.region(Region::new(region));
        }
        if let Some(url) = &opts.endpoint_url {
            loader = loader.endpoint_url(url.clone());
        }
        if let Some(creds) = opts.base_credentials.clone() {
            loader = loader.credentials_provider(creds);
        }
        let base = with_masking(loader.load().await);
        let Some(region) = base.region() else {
            return Err(Error::BadInput(
                "no AWS region: pass --region (env DEPLOYER_REGION) or set AWS_REGION".into(),
            ));
        };
        validate_region(region.as_ref())?;
        let Some(role) = opts.role_to_assume.clone().filter(|r| !r.is_empty()) else {
            resolve_up_front(&base, opts.attempt_timeout).await?;
            return Ok(AwsContext {
                config: base,
                expiration: None,
                refreshable: false,
                source: "default credential chain".into(),
            });
        };
        validate_role_arn(&role, "role-to-assume")?;
        if let Some(account) = account_of_arn(&role) {
            remember_account(account);
        }
        let session = opts
            .session_name
            .clone()
            .map(|s| sanitize_session_name(&s))
            .unwrap_or_else(session_name_from_env);
        let duration = opts.duration_seconds.unwrap_or(3600);
        let oidc = opts.oidc.clone().or_else(OidcRequest::from_env);
        let mut source = match &oidc {
            Some(_) => format!("OIDC web identity → {role}"),
            None => {
                let provider = base.credentials_provider().ok_or_else(|| {
                    Error::BadInput(format!(
                        "role-to-assume {role} was given but there is neither a GitHub OIDC token \
                         (ACTIONS_ID_TOKEN_REQUEST_URL is not set: add `permissions: id-token: write` to the job) \
                         nor default AWS credentials to assume it with"
                    ))
                })?;
                provider.provide_credentials().await.map_err(|e| {
                    Error::BadInput(format!(
                        "role-to-assume {role} was given outside GitHub Actions (no ACTIONS_ID_TOKEN_REQUEST_URL) \
                         and the default AWS credential chain has no credentials to assume it with: {e}"
                    ))
                })?;
                format!("default chain → {role}")
            }
        };
        let chain = opts.chain_role.clone().filter(|r| !r.is_empty());
        if let Some(chain) = &chain {
            validate_role_arn(chain, "chain-role")?;
            if let Some(account) = account_of_arn(chain) {
                remember_account(account);
            }
            source.push_str(&format!(" → {chain}"));
        }
        let refresher = Arc::new(Refresher {
            base: base.clone(),
            role,
            chain,
            session,
            duration,
            oidc,
            margin: opts.refresh_margin.unwrap_or(DEFAULT_REFRESH_MARGIN),
            cache: tokio::sync::Mutex::new(None),
        });
        // The first set now, so a refused OIDC token or trust policy is reported up front.
        let creds = refresher.get().await?;
        REFRESHING_PROVIDERS.fetch_add(1, Ordering::SeqCst);
        let config = base
            .clone()
            .into_builder()
            // Our provider caches and knows when to refresh (before expiry, or after AWS
            // answered ExpiredToken); the SDK's cache would hold expired keys until their
            // stated expiry.
            .identity_cache(IdentityCache::no_cache())
            .credentials_provider(SharedCredentialsProvider::new(RefreshingCredentials {
                inner: refresher,
            }))
            .build();
        Ok(AwsContext {
            config,
            expiration: creds.expiry(),
            refreshable: true,
            source,
        })
    }

    /// GetCallerIdentity, for the summary.
    pub async fn caller_identity(&self) -> Result<CallerIdentity> {
        // Informational only: few retries, so a missing STS never holds a deploy up.
        let conf = aws_sdk_sts::config::Builder::from(&self.config)
            .retry_config(RetryConfig::standard().with_max_attempts(2))
            .interceptor(crate::error::EndpointRecorder)
            .build();
        let sts = aws_sdk_sts::Client::from_conf(conf);
        let out = sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| Error::aws("GetCallerIdentity", e))?;
        if let Some(account) = out.account() {
            remember_account(account);
        }
        Ok(CallerIdentity {
            account: out.account().unwrap_or_default().to_string(),
            arn: out.arn().unwrap_or_default().to_string(),
            user_id: out.user_id().unwrap_or_default().to_string(),
        })
    }

    /// A warning when the credentials expire before `deadline` (long deploy waits).
    pub fn expiry_warning(&self, deadline: SystemTime) -> Option<String> {
        if self.refreshable {
            return None;
        }
        let exp = self.expiration?;
        if exp < deadline {
            let left = exp
                .duration_since(SystemTime::now())
                .map(|d| d.as_secs())
                .unwrap_or(0);
            Some(format!(
                "the AWS credentials expire in {left} s, before the wait timeout; \
                 raise the role's maximum session duration or lower --timeout"
            ))
        } else {
            None
        }
    }
}

fn validate_role_arn(role: &str, field: &str) -> Result<()> {
    if role.starts_with("arn:") && role.contains(":role/") {
        Ok(())
    } else {
        Err(Error::BadInput(format!(
            "{field} `{role}` is not an IAM role ARN (expected arn:aws:iam::<account>:role/<name>)"
        )))
    }
}

fn with_credentials(base: &SdkConfig, creds: Credentials) -> SdkConfig {
    base.clone()
        .into_builder()
        .credentials_provider(SharedCredentialsProvider::new(creds))
        .build()
}

fn backoff(attempt: u32) -> Duration {
    let base = 500u64 * 2u64.saturating_pow(attempt.min(5));
    let jitter = rand::random_range(0..=base / 4);
    Duration::from_millis(base + jitter)
}

/// Fetches the GitHub OIDC JWT; retries transport errors and 5xx; masks both tokens.
pub async fn fetch_oidc_token(request: &OidcRequest) -> Result<String> {
    deployer_core::mask::add(&request.token);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| Error::Failed(format!("cannot build an HTTP client: {e}")))?;
    let url = request.token_url();
    let mut last = String::new();
    for attempt in 0..OIDC_ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(backoff(attempt)).await;
        }
        let resp = client
            .get(&url)
            .header("Authorization", format!("bearer {}", request.token))
            .header("Accept", "application/json")
            .send()
            .await;
        match resp {
            Ok(resp) if resp.status().is_success() => {
                let body: serde_json::Value = resp
                    .json()
                    .await
                    .map_err(|e| Error::BadInput(format!(
                        "the GitHub OIDC token service answered with something that is not JSON ({e}); \
                         check ACTIONS_ID_TOKEN_REQUEST_URL: on a runner it is set by `permissions: id-token: write`"
                    )))?;
                let Some(value) = body
                    .get("value")
                    .and_then(|v| v.as_str())
                    .filter(|v| !v.is_empty())
                else {
                    return Err(Error::BadInput(
                        "the GitHub OIDC token service answered without a `value` field; check \
                         ACTIONS_ID_TOKEN_REQUEST_URL: on a runner it is set by `permissions: id-token: write`"
                            .into(),
                    ));
                };
                deployer_core::mask::add(value);
                return Ok(value.to_string());
            }
            Ok(resp) if resp.status().is_server_error() || resp.status().as_u16() == 429 => {
                last = format!("HTTP {}", resp.status());
            }
            Ok(resp) => {
                return Err(Error::Failed(format!(
                    "the GitHub OIDC token service refused the request (HTTP {}); does the job have \
                     `permissions: id-token: write`?",
                    resp.status()
                )));
            }
            Err(e) => last = deployer_core::mask::redact(&e.to_string()),
        }
    }
    Err(Error::Failed(format!(
        "could not get a GitHub OIDC token after {OIDC_ATTEMPTS} attempts: {last}"
    )))
}

/// Asks the (masking) provider once, so every credential it resolves is masked before the
/// command prints anything, and missing credentials are reported before any AWS call.
async fn resolve_up_front(base: &SdkConfig, timeout: Option<Duration>) -> Result<()> {
    let Some(provider) = base.credentials_provider() else {
        return Ok(());
    };
    let limit = timeout.unwrap_or(Duration::from_secs(30));
    match tokio::time::timeout(limit, provider.provide_credentials()).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(Error::BadInput(format!(
            "no usable AWS credentials ({}): use role-to-assume with `permissions: id-token: write`, \
             or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), AWS_PROFILE, \
             or run where container or instance credentials exist",
            crate::error::short(
                &aws_smithy_types::error::display::DisplayErrorContext(&e).to_string()
            )
        ))),
        Err(_) => Err(Error::BadInput(format!(
            "the AWS credential chain gave no credentials within {} s (instance or container \
             metadata endpoint not answering?): use role-to-assume, or set AWS_ACCESS_KEY_ID/\
             AWS_SECRET_ACCESS_KEY or AWS_PROFILE",
            limit.as_secs()
        ))),
    }
}

fn sts_client(config: &SdkConfig) -> aws_sdk_sts::Client {
    aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::config::Builder::from(config)
            .interceptor(crate::error::EndpointRecorder)
            .build(),
    )
}

fn mask_sts(creds: &aws_sdk_sts::types::Credentials) {
    deployer_core::mask::add(creds.access_key_id());
    deployer_core::mask::add(creds.secret_access_key());
    deployer_core::mask::add(creds.session_token());
}

fn convert(creds: &aws_sdk_sts::types::Credentials, provider: &'static str) -> Credentials {
    mask_sts(creds);
    let expiry = SystemTime::try_from(*creds.expiration()).ok();
    Credentials::new(
        creds.access_key_id(),
        creds.secret_access_key(),
        Some(creds.session_token().to_string()),
        expiry,
        provider,
    )
}

async fn assume_with_web_identity(
    base: &SdkConfig,
    role: &str,
    session: &str,
    jwt: &str,
    duration: i32,
) -> Result<Credentials> {
    let sts = sts_client(base);
    let mut last = String::new();
    for attempt in 0..OIDC_ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(backoff(attempt)).await;
        }
        let result = sts
            .assume_role_with_web_identity()
            .role_arn(role)
            .role_session_name(session)
            .web_identity_token(jwt)
            .duration_seconds(duration)
            .send()
            .await;
        match result {
            Ok(out) => {
                let Some(creds) = out.credentials() else {
                    return Err(Error::Failed(
                        "STS AssumeRoleWithWebIdentity returned no credentials".into(),
                    ));
                };
                return Ok(convert(creds, "deployer-oidc"));
            }
            Err(err) => {
                let retryable = matches!(
                    err.as_service_error(),
                    Some(AssumeRoleWithWebIdentityError::IdpCommunicationErrorException(_))
                        | Some(AssumeRoleWithWebIdentityError::InvalidIdentityTokenException(_))
                );
                let e = Error::aws("AssumeRoleWithWebIdentity", err);
                let refused = e
                    .as_aws()
                    .is_some_and(|a| a.kind == crate::error::AwsErrorKind::Rejected);
                if refused && !retryable {
                    // The trust policy is configuration: exit 2, with what to fix.
                    return Err(Error::BadInput(format!(
                        "{e}. Check the role's trust policy: it must trust token.actions.githubusercontent.com \
                         with aud = sts.amazonaws.com and a matching sub"
                    )));
                }
                if !retryable {
                    return Err(e);
                }
                last = e.to_string();
            }
        }
    }
    Err(Error::Failed(format!(
        "could not assume {role} after {OIDC_ATTEMPTS} attempts: {last}"
    )))
}

async fn assume_role(
    config: &SdkConfig,
    role: &str,
    session: &str,
    duration: i32,
) -> Result<Credentials> {
    let sts = sts_client(config);
    let out = sts
        .assume_role()
        .role_arn(role)
        .role_session_name(session)
        .duration_seconds(duration)
        .send()
        .await
        .map_err(|e| Error::aws("AssumeRole", e))?;
    let creds = out
        .credentials()
        .ok_or_else(|| Error::Failed(format!("STS AssumeRole {role} returned no credentials")))?;
    Ok(convert(creds, "deployer-assume-role"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_names_are_sanitised_and_bounded() {
        assert_eq!(sanitize_session_name("org/repo run#1"), "org-repo-run-1");
        assert_eq!(sanitize_session_name("a"), "a-");
        assert_eq!(sanitize_session_name(&"x".repeat(100)).len(), 64);
        assert_eq!(sanitize_session_name("ok_+=,.@-"), "ok_+=,.@-");
        assert_eq!(
            session_name_from(Some("org/repo"), Some("123")),
            "deployer-org-repo-123"
        );
        assert_eq!(session_name_from(None, None), "deployer");
        let long = session_name_from(Some(&format!("org/{}", "r".repeat(80))), Some("987654321"));
        assert_eq!(long.len(), 64);
        assert!(long.ends_with("-987654321"), "{long}");
        assert!(sanitize_session_name("é/ü").chars().all(|c| c == '-'));
    }

    #[test]
    fn audience_is_appended_with_the_right_separator() {
        let r = OidcRequest {
            url: "https://t.example/token?api-version=2.0".into(),
            token: "t".into(),
        };
        assert_eq!(
            r.token_url(),
            "https://t.example/token?api-version=2.0&audience=sts.amazonaws.com"
        );
        let r = OidcRequest {
            url: "https://t.example/token".into(),
            token: "t".into(),
        };
        assert_eq!(
            r.token_url(),
            "https://t.example/token?audience=sts.amazonaws.com"
        );
    }

    #[test]
    fn expiry_before_the_deadline_warns() {
        let config = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .build();
        let now = SystemTime::now();
        let ctx = AwsContext {
            config,
            expiration: Some(now + Duration::from_secs(600)),
            refreshable: false,
            source: "t".into(),
        };
        assert!(
            ctx.expiry_warning(now + Duration::from_secs(900))
                .is_some_and(|w| w.contains("expire"))
        );
        assert!(ctx.expiry_warning(now + Duration::from_secs(300)).is_none());
        let ctx = AwsContext {
            expiration: None,
            ..ctx
        };
        assert!(
            ctx.expiry_warning(now + Duration::from_secs(90_000))
                .is_none()
        );
    }

    #[test]
    fn renewal_comes_before_expiry_and_short_sessions_are_not_renewed_every_call() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let hour = Some(t0 + Duration::from_secs(3600));
        let margin = Duration::from_secs(300);
        assert!(still_fresh(
            hour,
            t0,
            t0 + Duration::from_secs(3000),
            margin
        ));
        assert!(!still_fresh(
            hour,
            t0,
            t0 + Duration::from_secs(3301),
            margin
        ));
        // A 60 s session is renewed after 30 s, not at once.
        let short = Some(t0 + Duration::from_secs(60));
        assert!(still_fresh(short, t0, t0 + Duration::from_secs(29), margin));
        assert!(!still_fresh(
            short,
            t0,
            t0 + Duration::from_secs(31),
            margin
        ));
        assert!(still_fresh(
            None,
            t0,
            t0 + Duration::from_secs(99_999),
            margin
        ));
    }

    #[test]
    fn role_arns_are_validated() {
        assert!(validate_role_arn("arn:aws:iam::123456789012:role/x", "r").is_ok());
        assert!(validate_role_arn("deployer", "r").is_err());
    }
}
