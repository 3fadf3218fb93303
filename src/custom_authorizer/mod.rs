//! API Gateway's Lambda authorizers (`TOKEN` and `REQUEST`) as a tower layer.
//!
//! [`CustomAuthorizerLayer`] builds the event API Gateway sends a Lambda
//! authorizer, hands it to any async function (or tower service, through
//! [`ServiceAuthorizer`]) the application provides, reads the answer
//! (`principalId`, `policyDocument`, `context`, `usageIdentifierKey`),
//! evaluates the policy against the request's method ARN and passes the
//! request on with the [`AuthorizerOutput`] in its extensions.
//!
//! ```
//! use serde_json::{json, Value};
//! use tower_cognito::custom_authorizer::{AuthorizerError, CustomAuthorizerLayer};
//!
//! async fn authorize(event: Value) -> Result<Value, AuthorizerError> {
//!     if event["authorizationToken"] != "allow" {
//!         return Err(AuthorizerError::Unauthorized);
//!     }
//!     Ok(json!({
//!         "principalId": "user-1",
//!         "policyDocument": {"Version": "2012-10-17", "Statement": [
//!             {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": event["methodArn"]}
//!         ]},
//!         "context": {"tier": "gold"}
//!     }))
//! }
//!
//! let layer = CustomAuthorizerLayer::token(authorize)
//!     .identity_source("method.request.header.Authorization")
//!     .result_ttl_seconds(300)
//!     .build()
//!     .unwrap();
//! let app = axum::Router::<()>::new()
//!     .route("/pets", axum::routing::get(|| async { "pets" }))
//!     .layer(layer);
//! # drop(app);
//! ```
//!
//! # Answers
//!
//! Each with `content-type: application/json` and `x-amzn-ErrorType`:
//!
//! | case | status | body | `x-amzn-ErrorType` |
//! |---|---|---|---|
//! | missing identity source, no validation match, [`AuthorizerError::Unauthorized`] | 401 | `{"message":"Unauthorized"}` | `UnauthorizedException` |
//! | explicit `Deny` | 403 | `{"Message":"User is not authorized to access this resource with an explicit deny"}` | `AccessDeniedException` |
//! | no matching `Allow` | 403 | `{"Message":"User is not authorized to access this resource"}` | `AccessDeniedException` |
//! | any other failure, malformed answer, timeout | 500 | `{"message":null}` | `AuthorizerConfigurationException` |
//!
//! The capital `M` of the 403s is API Gateway's (LocalStack's recordings
//! carry it). **\[choice\]** The explicit-deny wording is AWS's documented
//! text; no recording of it was at hand.
//!
//! # Identity sources and the cache
//!
//! - `TOKEN`: one header (default `Authorization`); missing or empty → 401
//!   without calling the authorizer. `identityValidationExpression`, when
//!   set, must match the whole token (**\[choice\]**: anchored, the stricter
//!   reading), else 401 without calling.
//! - `REQUEST`: any of `method.request.header.X`,
//!   `method.request.querystring.X`, `stageVariables.X`, `context.X`. With
//!   caching on, a missing or empty one is 401 without calling; with caching
//!   off they are not required, as on API Gateway.
//! - The cache (`authorizerResultTtlInSeconds`, default 300, at most 3600, 0
//!   off) is keyed by the token or by all identity values, and keeps the
//!   answer, whose *policy* is evaluated again for each method ARN. It is
//!   bounded in entries (default 10 000), oldest evicted first.
//!   **\[choice\]** Only usable answers are cached: a 401 or 500 is asked again.
//! - Single flight: requests that miss the cache with the same key while the
//!   authorizer is being asked for it wait for that one call (each at most
//!   the [timeout](CustomAuthorizerBuilder::timeout)) and share its outcome,
//!   401 and 500 included; the next request after a failure asks again.
//! - A cached answer costs about what a cached Cognito token does: each
//!   thread matches its recent hits on the exact identity values (held in
//!   its memory, as the token cache's memo holds tokens) and keeps the last
//!   decision per method and path; the event is built only to ask.
//! - A repeated header or query parameter: the last value, as API Gateway.
//! - `context.X` sources read the REQUEST event's `requestContext`, nested
//!   keys too (`context.identity.sourceIp`).
//!
//! # The REQUEST event
//!
//! As in AWS's "Input to an API Gateway Lambda authorizer": `resource` and
//! `pathParameters` are the matched route's: a [`MatchedRoute`](crate::MatchedRoute)
//! and [`PathParams`](crate::PathParams) an earlier layer added, else axum's
//! `MatchedPath` (`/files/{*rest}` as `/files/{rest+}`), else the path and
//! no parameters. `requestContext.identity.sourceIp` is the client's
//! address from axum's `ConnectInfo<SocketAddr>` (serve with
//! `into_make_service_with_connect_info::<SocketAddr>()`), empty without it.
//!
//! # Timeout
//!
//! An authorizer that has not answered within the timeout is a 500, its
//! waiters' too. **\[choice\]** The default, 10 s, is the only Lambda
//! authorizer timeout AWS publishes ("Timeout for Lambda authorizer
//! response: 10000 ms", the HTTP API quotas); its REST quota table names
//! none.

mod cache;
mod event;
mod flight;
mod future;
mod output;
mod policy;
mod service;

pub use event::ApiInfo;
pub use future::CustomAuthorizerFuture;
pub use output::{AuthorizerOutput, ContextValue, MalformedOutput};
pub use policy::{wildcard_match, Decision, MalformedPolicy, PolicyDocument};
pub use service::{AuthorizerRejection, CustomAuthorizer};

use cache::ResultCache;
pub(crate) use event::IdentitySource;
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// The future an [`Authorize`] returns.
pub type AuthorizeFuture = Pin<Box<dyn Future<Output = Result<Value, AuthorizerError>> + Send>>;

/// How the authorizer itself failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthorizerError {
    /// The authorizer's `Unauthorized` error (a Lambda's `Error("Unauthorized")`): 401.
    Unauthorized,
    /// Any other failure: 500 `{"message":null}`.
    Failed(String),
}

impl std::fmt::Display for AuthorizerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unauthorized => f.write_str("Unauthorized"),
            Self::Failed(m) => write!(f, "authorizer failed: {m}"),
        }
    }
}

impl std::error::Error for AuthorizerError {}

/// The authorizer: an event in, API Gateway's authorizer output out.
///
/// Implemented for every `Fn(Value) -> impl Future<Output = Result<Value,
/// AuthorizerError>>`; wrap a tower service in [`ServiceAuthorizer`].
pub trait Authorize: Send + Sync + 'static {
    /// Decides on one event.
    fn authorize(&self, event: Value) -> AuthorizeFuture;
}

impl<F, Fut> Authorize for F
where
    F: Fn(Value) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, AuthorizerError>> + Send + 'static,
{
    fn authorize(&self, event: Value) -> AuthorizeFuture {
        Box::pin(self(event))
    }
}

/// A tower service used as the authorizer; each call uses a clone.
///
/// ```
/// use tower_cognito::custom_authorizer::{AuthorizerError, CustomAuthorizerLayer, ServiceAuthorizer};
///
/// let svc = tower::service_fn(|_event: serde_json::Value| async {
///     Err::<serde_json::Value, _>(AuthorizerError::Unauthorized)
/// });
/// let layer = CustomAuthorizerLayer::request(ServiceAuthorizer::new(svc))
///     .identity_source("method.request.header.X-Key, method.request.querystring.k")
///     .build()
///     .unwrap();
/// # drop(layer);
/// ```
#[derive(Clone, Debug)]
pub struct ServiceAuthorizer<S>(S);

impl<S> ServiceAuthorizer<S> {
    /// Wraps a service.
    pub fn new(service: S) -> Self {
        Self(service)
    }
}

impl<S> Authorize for ServiceAuthorizer<S>
where
    S: tower_service::Service<Value, Response = Value, Error = AuthorizerError>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
{
    fn authorize(&self, event: Value) -> AuthorizeFuture {
        let mut svc = self.0.clone();
        Box::pin(async move {
            std::future::poll_fn(|cx| svc.poll_ready(cx)).await?;
            svc.call(event).await
        })
    }
}

/// `TOKEN` or `REQUEST`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthorizerType {
    /// The token from one header; event `{"type":"TOKEN",...}`.
    Token,
    /// The whole request; event `{"type":"REQUEST",...}`.
    Request,
}

/// A configuration the builder refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomAuthorizerConfigError(String);

impl std::fmt::Display for CustomAuthorizerConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CustomAuthorizerConfigError {}

/// The largest `authorizerResultTtlInSeconds` API Gateway accepts.
pub const MAX_RESULT_TTL_SECONDS: u32 = 3600;

/// How long an authorizer may take by default: 10 s, AWS's published
/// Lambda authorizer timeout (see the [module docs](self#timeout)).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Builds a [`CustomAuthorizerLayer`].
#[must_use]
pub struct CustomAuthorizerBuilder {
    kind: AuthorizerType,
    authorizer: Arc<dyn Authorize>,
    identity_source: Option<String>,
    validation: Option<String>,
    ttl: u32,
    capacity: usize,
    max_bytes: usize,
    timeout: Duration,
    api: ApiInfo,
}

impl std::fmt::Debug for CustomAuthorizerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustomAuthorizerBuilder")
            .field("kind", &self.kind)
            .field("identity_source", &self.identity_source)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl CustomAuthorizerBuilder {
    /// `identitySource`: comma-separated, as in API Gateway. TOKEN takes one
    /// `method.request.header.X` (default `Authorization`).
    pub fn identity_source(mut self, sources: &str) -> Self {
        self.identity_source = Some(sources.to_owned());
        self
    }

    /// `identityValidationExpression` (TOKEN only): a regular expression the
    /// whole token must match.
    pub fn identity_validation_expression(mut self, regex: &str) -> Self {
        self.validation = Some(regex.to_owned());
        self
    }

    /// `authorizerResultTtlInSeconds`: 0 turns the cache off; at most 3600.
    pub fn result_ttl_seconds(mut self, ttl: u32) -> Self {
        self.ttl = ttl;
        self
    }

    /// The most answers the cache holds (default 10 000).
    pub fn cache_capacity(mut self, entries: usize) -> Self {
        self.capacity = entries;
        self
    }

    /// The most memory the cache's answers may hold, each charged an upper
    /// bound of its texts and allocations (default 64 MiB, as the token
    /// cache); the oldest go first, and an answer bigger than the bound is
    /// not cached.
    pub fn cache_max_bytes(mut self, bytes: usize) -> Self {
        self.max_bytes = bytes;
        self
    }

    /// How long the authorizer may take before the answer is a 500 (default
    /// [`DEFAULT_TIMEOUT`], 10 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The method ARN's region, account, API id and stage.
    pub fn api(mut self, region: &str, account_id: &str, api_id: &str, stage: &str) -> Self {
        self.api.region = region.to_owned();
        self.api.account_id = account_id.to_owned();
        self.api.api_id = api_id.to_owned();
        self.api.stage = stage.to_owned();
        self
    }

    /// A stage variable: `stageVariables` in REQUEST events and sources.
    pub fn stage_variable(mut self, name: &str, value: &str) -> Self {
        self.api
            .stage_variables
            .insert(name.to_owned(), value.to_owned());
        self
    }

    /// Checks the configuration and builds the layer.
    pub fn build(self) -> Result<CustomAuthorizerLayer, CustomAuthorizerConfigError> {
        let err = |m: String| Err(CustomAuthorizerConfigError(m));
        if self.ttl > MAX_RESULT_TTL_SECONDS {
            return err(format!(
                "authorizerResultTtlInSeconds {} is over {MAX_RESULT_TTL_SECONDS}",
                self.ttl
            ));
        }
        let text = self.identity_source.as_deref().unwrap_or(match self.kind {
            AuthorizerType::Token => "method.request.header.Authorization",
            AuthorizerType::Request => "",
        });
        let mut sources = Vec::new();
        for part in text.split(',').filter(|p| !p.trim().is_empty()) {
            match IdentitySource::parse(part) {
                Some(s) => sources.push(s),
                None => {
                    return err(format!(
                        "identity source {:?} is not supported",
                        part.trim()
                    ))
                }
            }
        }
        match self.kind {
            AuthorizerType::Token if !matches!(sources.as_slice(), [IdentitySource::Header(_)]) => {
                return err(
                    "a TOKEN authorizer takes exactly one method.request.header.X source".into(),
                )
            }
            AuthorizerType::Request if sources.is_empty() && self.ttl > 0 => {
                return err("a cached REQUEST authorizer needs an identity source".into())
            }
            _ => {}
        }
        let validation = match (&self.validation, self.kind) {
            (None, _) => None,
            (Some(_), AuthorizerType::Request) => {
                return err("identityValidationExpression is for TOKEN authorizers only".into())
            }
            (Some(re), AuthorizerType::Token) => match regex::Regex::new(&format!("^(?:{re})$")) {
                Ok(r) => Some(r),
                Err(e) => return err(format!("identityValidationExpression: {e}")),
            },
        };
        Ok(CustomAuthorizerLayer {
            shared: Arc::new(Shared {
                kind: self.kind,
                authorizer: self.authorizer,
                reads_context: sources
                    .iter()
                    .any(|s| matches!(s, IdentitySource::Context(_))),
                sources,
                validation,
                cache: (self.ttl > 0).then(|| {
                    ResultCache::new(
                        Duration::from_secs(self.ttl.into()),
                        self.capacity,
                        self.max_bytes,
                    )
                }),
                flights: flight::Flights::default(),
                timeout: self.timeout,
                api: self.api,
            }),
        })
    }
}

pub(crate) struct Shared {
    pub(crate) kind: AuthorizerType,
    pub(crate) authorizer: Arc<dyn Authorize>,
    pub(crate) sources: Vec<IdentitySource>,
    /// Whether a `context.X` source needs `requestContext` for every request.
    pub(crate) reads_context: bool,
    pub(crate) validation: Option<regex::Regex>,
    pub(crate) cache: Option<ResultCache>,
    pub(crate) flights: flight::Flights,
    pub(crate) timeout: Duration,
    pub(crate) api: ApiInfo,
}

/// The layer: see the [module docs](self).
#[derive(Clone)]
pub struct CustomAuthorizerLayer {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for CustomAuthorizerLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustomAuthorizerLayer")
            .field("kind", &self.shared.kind)
            .finish_non_exhaustive()
    }
}

impl CustomAuthorizerLayer {
    /// A `TOKEN` authorizer.
    pub fn token(authorizer: impl Authorize) -> CustomAuthorizerBuilder {
        Self::builder(AuthorizerType::Token, Arc::new(authorizer))
    }

    /// A `REQUEST` authorizer.
    pub fn request(authorizer: impl Authorize) -> CustomAuthorizerBuilder {
        Self::builder(AuthorizerType::Request, Arc::new(authorizer))
    }

    /// A builder for either type, with a shared authorizer.
    pub fn builder(
        kind: AuthorizerType,
        authorizer: Arc<dyn Authorize>,
    ) -> CustomAuthorizerBuilder {
        CustomAuthorizerBuilder {
            kind,
            authorizer,
            identity_source: None,
            validation: None,
            ttl: 300,
            capacity: 10_000,
            max_bytes: 64 * 1024 * 1024,
            timeout: DEFAULT_TIMEOUT,
            api: ApiInfo::default(),
        }
    }
}

impl<S> tower_layer::Layer<S> for CustomAuthorizerLayer {
    type Service = CustomAuthorizer<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CustomAuthorizer::new(inner, self.shared.clone())
    }
}
