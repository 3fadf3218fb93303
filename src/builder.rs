//! Building a [`CognitoAuthLayer`].

use crate::authorizer::Authorizer;
use crate::cache::{CacheLimits, TokenCache};
use crate::claims::CognitoClaims;
use crate::error::{AuthError, ConfigError, ResponseType};
use crate::keys::{FetchLimits, KeyStore, PoolSpec, StoreSettings};
use crate::layer::{CognitoAuthLayer, Core};
use crate::policy::{anchored_regex, Checks, Requirement, RoutePolicy, Rule};
use crate::pool::{default_base, UserPool};
use crate::response::{GatewayResponse, RejectedRequest, Responses};
use crate::route_table::{MethodMatch, RouteTable};
use crate::routes::{
    MatchedRoute, PolicySource, PolicyTable, RouteSummary, TableEntry, UnlistedRoutes,
};
use bytes::Bytes;
use http::header::HeaderName;
use http::Method;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// API Gateway's limit on `providerARNs`.
const MAX_POOLS: usize = 1000;

/// Builder for [`CognitoAuthLayer`]; get one from [`CognitoAuthLayer::builder`].
///
/// Every setting has API Gateway's behaviour as its default; the ones beyond
/// API Gateway are opt-in. Errors are reported by [`build`](Self::build), naming
/// the bad value.
///
/// # Authorizers
///
/// [`user_pool`](Self::user_pool), [`token_header`](Self::token_header) and
/// [`token_validation`](Self::token_validation) configure the authorizer named
/// `default`. More can be added by name with [`authorizer`](Self::authorizer),
/// and an OpenAPI import adds one per Cognito security scheme. Policies that
/// name no authorizer use the default one: `default` when
/// [`user_pool`](Self::user_pool) was given, else the one named with
/// [`default_authorizer`](Self::default_authorizer), else the first added (for
/// an import, the first scheme by name). All pools share one key store.
///
/// # Routes
///
/// Without routes, every request gets one [`policy`](Self::policy). With
/// [`route`](Self::route), [`grpc_method`](Self::grpc_method),
/// [`grpc_service`](Self::grpc_service), [`unlisted_routes`](Self::unlisted_routes)
/// or an OpenAPI import, the layer looks each request up in a route table
/// instead, and requests matching no route get the
/// [`unlisted_routes`](Self::unlisted_routes) policy (default: deny).
///
/// # Overrides
///
/// [`override_user_pools`](Self::override_user_pools) and
/// [`override_token_validation`](Self::override_token_validation) apply to
/// every authorizer, whatever the order of calls, and win over the document
/// and over [`AuthorizerConfig`]. [`jwks_endpoint`](Self::jwks_endpoint) and
/// [`issuer_endpoint`](Self::issuer_endpoint) apply to every pool. So a
/// program can take an API Gateway export as its configuration and point it
/// at other pools (or a local emulator) from its environment.
#[must_use]
pub struct CognitoAuthBuilder {
    pools: Vec<String>,
    token_header: Option<String>,
    jwks_endpoint: Option<String>,
    issuer_endpoint: Option<String>,
    leeway: Duration,
    max_token_len: usize,
    cache: CacheLimits,
    policy: Option<Result<RoutePolicy, ConfigError>>,
    token_validation: Option<String>,
    authorizers: Vec<(String, AuthorizerConfig)>,
    default_authorizer: Option<String>,
    override_pools: Option<Vec<String>>,
    override_token_validation: Option<String>,
    routes: Vec<RouteSpec>,
    table: bool,
    unlisted: UnlistedRoutes,
    warnings: Vec<String>,
    /// The first invalid argument, reported by `build`.
    error: Option<ConfigError>,
    client_ids: Option<Vec<String>>,
    groups: Option<Vec<String>>,
    accept_any_token_use: bool,
    revoked: Option<crate::policy::RevocationFn>,
    refresh_interval: Duration,
    retry_interval: Duration,
    miss_rate_limit: Duration,
    connect_timeout: Duration,
    fetch_timeout: Duration,
    max_jwks_bytes: usize,
    inline_jwks: Vec<(String, String)>,
    responses: Responses,
}

impl std::fmt::Debug for CognitoAuthBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CognitoAuthBuilder")
            .field("pools", &self.pools)
            .field("token_header", &self.token_header)
            .field("authorizers", &self.authorizers)
            .field("routes", &self.routes.len())
            .finish_non_exhaustive()
    }
}

impl Default for CognitoAuthBuilder {
    fn default() -> Self {
        Self {
            pools: Vec::new(),
            token_header: None,
            jwks_endpoint: None,
            issuer_endpoint: None,
            leeway: Duration::ZERO,
            max_token_len: 8 * 1024,
            cache: CacheLimits {
                max_entries: 10_000,
                max_bytes: 32 * 1024 * 1024,
            },
            policy: None,
            token_validation: None,
            authorizers: Vec::new(),
            default_authorizer: None,
            override_pools: None,
            override_token_validation: None,
            routes: Vec::new(),
            table: false,
            unlisted: UnlistedRoutes::Deny,
            warnings: Vec::new(),
            error: None,
            client_ids: None,
            groups: None,
            accept_any_token_use: false,
            revoked: None,
            refresh_interval: Duration::from_secs(3600),
            retry_interval: Duration::from_secs(10),
            miss_rate_limit: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(2),
            fetch_timeout: Duration::from_secs(5),
            max_jwks_bytes: 64 * 1024,
            inline_jwks: Vec::new(),
            responses: Responses::default(),
        }
    }
}

fn validate_endpoint(value: &str) -> Result<String, ConfigError> {
    let invalid = |reason| ConfigError::InvalidEndpoint {
        value: value.to_owned(),
        reason,
    };
    let trimmed = value.trim_end_matches('/');
    let uri: http::Uri = trimmed.parse().map_err(|_| invalid("not a URL"))?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        _ => return Err(invalid("the scheme must be http or https")),
    }
    if uri.authority().is_none() {
        return Err(invalid("a host is required"));
    }
    if uri.query().is_some() || trimmed.contains('#') {
        return Err(invalid("a base URL takes no query or fragment"));
    }
    Ok(trimmed.to_owned())
}

impl CognitoAuthBuilder {
    /// Adds a user pool, as an ARN
    /// (`arn:aws:cognito-idp:{region}:{account}:userpool/{userPoolId}`) or a pool
    /// ID (`us-east-1_AbCdEf123`; the region is taken from it).
    pub fn user_pool(mut self, arn_or_id: impl Into<String>) -> Self {
        self.pools.push(arn_or_id.into());
        self
    }

    /// Adds several user pools (API Gateway's `providerARNs`, 1 to 1000). A token
    /// from any of them is accepted.
    pub fn user_pools<I, S>(mut self, pools: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.pools.extend(pools.into_iter().map(Into::into));
        self
    }

    /// The header the token is read from (API Gateway's "Token source");
    /// default `Authorization`. Matched case-insensitively.
    pub fn token_header(mut self, name: impl Into<String>) -> Self {
        self.token_header = Some(name.into());
        self
    }

    /// Replaces `https://cognito-idp.{region}.amazonaws.com` as the base of JWKS
    /// URLs: keys are fetched from `{base}/{userPoolId}/.well-known/jwks.json`.
    /// The only way to fetch keys over plain `http://` (emulators on loopback).
    /// Also relaxes pool ID checks to `{prefix}_{alphanumerics}`.
    pub fn jwks_endpoint(mut self, base_url: impl Into<String>) -> Self {
        self.jwks_endpoint = Some(base_url.into());
        self
    }

    /// Replaces `https://cognito-idp.{region}.amazonaws.com` as the base of the
    /// expected issuer: tokens must carry `iss` = `{base}/{userPoolId}`. Also
    /// relaxes pool ID checks to `{prefix}_{alphanumerics}`.
    pub fn issuer_endpoint(mut self, base_url: impl Into<String>) -> Self {
        self.issuer_endpoint = Some(base_url.into());
        self
    }

    /// Limits of the verified-token cache; default 10,000 entries and 32 MiB.
    ///
    /// A token seen before is not verified again while its `exp` has not passed
    /// and the key that verified it is still in its pool's key set; the route
    /// policy is still decided on every request. Entries are keyed by the
    /// SHA-256 of the whole token; failures are never cached. An entry of a
    /// typical Cognito ID token takes about 2.7 KiB (measured with a counting
    /// allocator); it is accounted as six times its payload plus 512 bytes
    /// (about 3.3 KiB), an upper bound, so `max_bytes` bounds real memory.
    /// Either limit at 0 turns caching off.
    pub fn token_cache(mut self, max_entries: usize, max_bytes: usize) -> Self {
        self.cache = CacheLimits {
            max_entries,
            max_bytes,
        };
        self
    }

    /// Turns the verified-token cache off: every request verifies its token.
    pub fn no_token_cache(self) -> Self {
        self.token_cache(0, 0)
    }

    /// Clock leeway for `exp` and `nbf`; default 0, as API Gateway.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Longest token accepted, in bytes, checked before any decoding; default
    /// 8 KiB.
    pub fn max_token_len(mut self, bytes: usize) -> Self {
        self.max_token_len = bytes;
        self
    }

    /// The policy every request through this layer gets; default
    /// [`RoutePolicy::identity_token`] (a method with the authorizer and no scopes).
    /// Not for layers with routes: see [`unlisted_routes`](Self::unlisted_routes).
    pub fn policy(mut self, policy: RoutePolicy) -> Self {
        self.policy = Some(Ok(policy));
        self
    }

    /// Shorthand for `policy(RoutePolicy::scopes(scopes)?)`: access tokens with any
    /// one of these scopes. Invalid scopes are reported by `build`.
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.policy = Some(RoutePolicy::scopes(scopes));
        self
    }

    /// API Gateway's "Token validation" (`identityValidationExpression`) of the
    /// `default` authorizer: `aud` must match this regular expression in full.
    /// Tokens without `aud` (every access token) are then refused. The syntax is
    /// Rust's `regex` crate's, a subset of Java's without look-around and
    /// backreferences. For every authorizer at once (imported ones included),
    /// see [`override_token_validation`](Self::override_token_validation).
    pub fn token_validation(mut self, expression: impl Into<String>) -> Self {
        self.token_validation = Some(expression.into());
        self
    }

    /// Beyond API Gateway: only these app clients (`aud` of ID tokens,
    /// `client_id` of access tokens).
    pub fn allowed_client_ids<I, S>(mut self, ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.client_ids = Some(ids.into_iter().map(Into::into).collect());
        self
    }

    /// Beyond API Gateway: only users in at least one of these groups
    /// (`cognito:groups`).
    pub fn required_groups<I, S>(mut self, groups: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.groups = Some(groups.into_iter().map(Into::into).collect());
        self
    }

    /// Beyond API Gateway: on routes without scopes, accept access tokens as well
    /// as ID tokens.
    pub fn accept_any_token_use(mut self, yes: bool) -> Self {
        self.accept_any_token_use = yes;
        self
    }

    /// Beyond API Gateway: a check run after every other one passed; returning
    /// `true` refuses the token as revoked (for example by `jti` or `sub`).
    /// It runs on the request path: keep it fast and non-blocking.
    pub fn revocation_check<F>(mut self, is_revoked: F) -> Self
    where
        F: Fn(&CognitoClaims) -> bool + Send + Sync + 'static,
    {
        self.revoked = Some(Arc::new(is_revoked));
        self
    }

    /// How often keys are refreshed in the background; default 1 hour.
    pub fn refresh_interval(mut self, every: Duration) -> Self {
        self.refresh_interval = every;
        self
    }

    /// How soon a pool whose fetch failed (or that has no keys yet) is tried
    /// again in the background; default 10 s.
    pub fn retry_interval(mut self, every: Duration) -> Self {
        self.retry_interval = every;
        self
    }

    /// Least time between fetches of one pool caused by unknown `kid`s; default
    /// 10 s. Misses meanwhile are refused without a fetch.
    pub fn unknown_kid_rate_limit(mut self, every: Duration) -> Self {
        self.miss_rate_limit = every;
        self
    }

    /// Connect timeout of key fetches; default 2 s.
    pub fn fetch_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Total timeout of one key fetch; default 5 s.
    pub fn fetch_timeout(mut self, timeout: Duration) -> Self {
        self.fetch_timeout = timeout;
        self
    }

    /// Largest JWKS body accepted; default 64 KiB.
    pub fn max_jwks_bytes(mut self, bytes: usize) -> Self {
        self.max_jwks_bytes = bytes;
        self
    }

    /// Seeds a pool's keys from a JWKS document, so requests verify before (or
    /// without) the first fetch. `pool` is the pool ID or ARN as configured.
    pub fn jwks(mut self, pool: impl Into<String>, jwks_json: impl Into<String>) -> Self {
        self.inline_jwks.push((pool.into(), jwks_json.into()));
        self
    }

    /// Replaces the response for one response type (API Gateway's gateway
    /// responses). The default is [`GatewayResponse::api_gateway_default`].
    pub fn gateway_response(
        mut self,
        response_type: ResponseType,
        response: GatewayResponse,
    ) -> Self {
        self.responses.set(response_type, response);
        self
    }

    /// Whether gRPC requests (`content-type: application/grpc...`) get gRPC
    /// replies (`grpc-status` 16 or 7) instead of the HTTP responses; default on.
    pub fn grpc_replies(mut self, yes: bool) -> Self {
        self.responses.grpc = yes;
        self
    }

    /// Builds every rejection response with `handler`, in place of the gateway
    /// responses and gRPC replies. The [`AuthError`] is added to the response's
    /// extensions afterwards either way.
    pub fn rejection_handler<F>(mut self, handler: F) -> Self
    where
        F: Fn(&AuthError, &RejectedRequest<'_>) -> http::Response<Bytes> + Send + Sync + 'static,
    {
        self.responses.handler = Some(Arc::new(handler));
        self
    }

    /// Adds a named authorizer with its own pools, token header and Token
    /// validation; policies pick it with [`RoutePolicy::authorizer`]. Beyond
    /// these three settings it shares the layer's (client IDs, groups, leeway...).
    ///
    /// ```
    /// use tower_cognito::{AuthorizerConfig, CognitoAuthLayer, RoutePolicy};
    ///
    /// let layer = CognitoAuthLayer::builder()
    ///     .user_pool("us-east-1_AbCdEf123")
    ///     .authorizer(
    ///         "StaffPool",
    ///         AuthorizerConfig::new().user_pool("us-east-1_StAfF4567").token_header("X-Staff-Token"),
    ///     )
    ///     .route("GET", "/pets", RoutePolicy::identity_token())
    ///     .route("DELETE", "/pets/{petId}", RoutePolicy::identity_token().authorizer("StaffPool"))
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(layer.policy_summary().authorizers.len(), 2);
    /// ```
    pub fn authorizer(mut self, name: impl Into<String>, config: AuthorizerConfig) -> Self {
        self.authorizers.push((name.into(), config));
        self
    }

    /// Which authorizer policies that name none use, when no
    /// [`user_pool`](Self::user_pool) was given (for example one of several
    /// imported from an OpenAPI document).
    pub fn default_authorizer(mut self, name: impl Into<String>) -> Self {
        self.default_authorizer = Some(name.into());
        self
    }

    /// Replaces the user pools of **every** authorizer (the `default` one, named
    /// ones and imported ones: an OpenAPI document's `providerARNs`) with these,
    /// whatever the order of calls. For running an API Gateway export against
    /// other pools.
    pub fn override_user_pools<I, S>(mut self, pools: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.override_pools = Some(pools.into_iter().map(Into::into).collect());
        self
    }

    /// Replaces the Token validation expression of **every** authorizer
    /// (including an OpenAPI document's `identityValidationExpression`),
    /// whatever the order of calls. An empty expression removes Token
    /// validation from every authorizer, as an empty
    /// `identityValidationExpression` does in API Gateway.
    pub fn override_token_validation(mut self, expression: impl Into<String>) -> Self {
        self.override_token_validation = Some(expression.into());
        self
    }

    /// Adds a route to the policy table: `method` is an HTTP method (`GET`,
    /// compared exactly; `HEAD` is not `GET`) or `ANY` for every method without
    /// a route of its own on the same path. `template` is an API Gateway /
    /// OpenAPI path template: `/pets/{petId}` (one segment), `/{proxy+}`
    /// (greedy, one or more segments, last only).
    ///
    /// Matching is on the raw, case-sensitive path; one trailing slash is
    /// ignored; a static segment beats a parameter, which beats a greedy one.
    /// A path that matches a route whose method does not is unlisted (no
    /// fall-back to a wider route), as in API Gateway.
    pub fn route(mut self, method: &str, template: impl Into<String>, policy: RoutePolicy) -> Self {
        let template = template.into();
        let method = if method == "ANY" {
            MethodMatch::Any
        } else {
            match Method::from_bytes(method.as_bytes()) {
                Ok(m) => MethodMatch::Exact(m),
                Err(_) => {
                    self.fail(ConfigError::InvalidRoute {
                        route: format!("{method} {template}"),
                        reason: "invalid method".into(),
                    });
                    return self;
                }
            }
        };
        self.push_route(method, template, policy, None);
        self
    }

    /// Adds a gRPC method to the policy table by its path,
    /// `/package.Service/Method` (any HTTP method, as gRPC always POSTs). It
    /// beats a [`grpc_service`](Self::grpc_service) entry for its service.
    ///
    /// ```
    /// use tower_cognito::{CognitoAuthLayer, RoutePolicy};
    ///
    /// let auth = CognitoAuthLayer::builder()
    ///     .user_pool("us-east-1_AbCdEf123")
    ///     .grpc_service("grpc.health.v1.Health", RoutePolicy::scopes(["health/read"]).unwrap())
    ///     .grpc_method("/grpc.health.v1.Health/Check", RoutePolicy::public())
    ///     .build()
    ///     .unwrap();
    /// let route = auth.route_for(&http::Method::POST, "/grpc.health.v1.Health/Watch").unwrap();
    /// assert_eq!(route.as_str(), "ANY /grpc.health.v1.Health/{method}");
    /// ```
    pub fn grpc_method(mut self, path: impl Into<String>, policy: RoutePolicy) -> Self {
        let path = path.into();
        let valid = path
            .strip_prefix('/')
            .and_then(|rest| rest.split_once('/'))
            .is_some_and(|(service, method)| valid_grpc_name(service) && valid_grpc_name(method));
        if valid {
            self.push_route(MethodMatch::Any, path, policy, None);
        } else {
            self.fail(ConfigError::InvalidRoute {
                route: path,
                reason: "a gRPC method path has the form /package.Service/Method".into(),
            });
        }
        self
    }

    /// Adds every method of a gRPC service (`package.Service`, no slashes) to
    /// the policy table, as the route `ANY /package.Service/{method}`.
    pub fn grpc_service(mut self, service: impl Into<String>, policy: RoutePolicy) -> Self {
        let service = service.into();
        if valid_grpc_name(&service) {
            self.push_route(
                MethodMatch::Any,
                format!("/{service}/{{method}}"),
                policy,
                None,
            );
        } else {
            self.fail(ConfigError::InvalidRoute {
                route: service,
                reason: "a gRPC service name has the form package.Service".into(),
            });
        }
        self
    }

    /// The policy for requests that match no route of the table (and makes
    /// the layer use a table even without routes). Default
    /// [`UnlistedRoutes::Deny`].
    pub fn unlisted_routes(mut self, policy: UnlistedRoutes) -> Self {
        self.unlisted = policy;
        self.table = true;
        self
    }

    /// Imports an API Gateway OpenAPI export (OpenAPI 3.x or 2.0, JSON or YAML)
    /// as the layer's authorizers and route table; see the [`openapi`](crate::openapi)
    /// module for what is read. Import warnings (root-level `security`, skipped
    /// methods...) are logged with `tracing::warn!` and kept in
    /// [`CognitoAuthLayer::policy_summary`]. Methods skipped because of an
    /// unsupported authorizer are denied.
    ///
    /// To inspect the import first, parse it yourself with
    /// [`OpenApiImport::parse`](crate::openapi::OpenApiImport::parse) and pass
    /// it to [`openapi_import`](Self::openapi_import).
    ///
    /// ```
    /// use tower_cognito::{openapi::ImportOptions, CognitoAuthLayer};
    ///
    /// let document = r#"{
    ///   "openapi": "3.0.1",
    ///   "components": {"securitySchemes": {"MyUserPool": {
    ///     "type": "apiKey", "name": "Authorization", "in": "header",
    ///     "x-amazon-apigateway-authorizer": {"type": "cognito_user_pools",
    ///       "providerARNs": ["arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbCdEf123"]}}}},
    ///   "paths": {"/pets": {"get": {"security": [{"MyUserPool": []}]}}}
    /// }"#;
    /// let layer = CognitoAuthLayer::builder()
    ///     .openapi(document, &ImportOptions::new())?
    ///     .override_user_pools(["us-east-1_OtHeR9876"])
    ///     .build()?;
    /// let summary = layer.policy_summary();
    /// assert_eq!(summary.authorizers[0].pools[0].pool_id, "us-east-1_OtHeR9876");
    /// assert_eq!(summary.routes[0].to_string(), "GET /pets: identity token (authorizer MyUserPool)");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "openapi")]
    #[cfg_attr(docsrs, doc(cfg(feature = "openapi")))]
    pub fn openapi(
        self,
        document: &str,
        options: &crate::openapi::ImportOptions,
    ) -> Result<Self, crate::openapi::ImportError> {
        let import = crate::openapi::OpenApiImport::parse(document, options)?;
        Ok(self.openapi_import(&import))
    }

    /// Adds an import made with
    /// [`OpenApiImport::parse`](crate::openapi::OpenApiImport::parse); see
    /// [`openapi`](Self::openapi).
    #[cfg(feature = "openapi")]
    #[cfg_attr(docsrs, doc(cfg(feature = "openapi")))]
    pub fn openapi_import(mut self, import: &crate::openapi::OpenApiImport) -> Self {
        use crate::openapi::RouteAuth;
        for w in &import.warnings {
            tracing::warn!(pointer = w.pointer(), "OpenAPI import: {}", w.message());
            self.warnings.push(w.to_string());
        }
        for a in &import.authorizers {
            let mut config = AuthorizerConfig::new()
                .user_pools(a.provider_arns.iter().cloned())
                .token_header(a.token_header.clone());
            if let Some(v) = &a.identity_validation_expression {
                config = config.token_validation(v.clone());
            }
            self.authorizers.push((a.name.clone(), config));
        }
        let method_of = |m: &Option<Method>| m.clone().map_or(MethodMatch::Any, MethodMatch::Exact);
        for r in &import.routes {
            let policy = match &r.auth {
                RouteAuth::Public => Ok(RoutePolicy::public()),
                RouteAuth::Authorizer { name, scopes } if scopes.is_empty() => {
                    Ok(RoutePolicy::identity_token().authorizer(name.clone()))
                }
                RouteAuth::Authorizer { name, scopes } => {
                    RoutePolicy::scopes(scopes.iter().cloned()).map(|p| p.authorizer(name.clone()))
                }
            };
            match policy {
                Ok(policy) => self.push_route(
                    method_of(&r.method),
                    r.path.clone(),
                    policy,
                    Some(&r.pointer),
                ),
                Err(e) => self.fail(e),
            }
        }
        // Never public: a method whose authorizer cannot be reproduced is refused.
        for r in &import.skipped {
            self.push_route(
                method_of(&r.method),
                r.path.clone(),
                RoutePolicy::deny(),
                Some(&r.pointer),
            );
        }
        self.table = true;
        self
    }

    fn push_route(
        &mut self,
        method: MethodMatch,
        template: String,
        policy: RoutePolicy,
        source: Option<&str>,
    ) {
        self.routes.push(RouteSpec {
            method,
            template,
            policy,
            source: source.map(str::to_owned),
        });
        self.table = true;
    }

    fn fail(&mut self, error: ConfigError) {
        self.error.get_or_insert(error);
    }

    /// Checks the configuration and builds the layer.
    ///
    /// Inside a Tokio runtime this starts the background key refresh; outside
    /// one, it starts with the first request. Keys are not awaited here: see
    /// [`KeyStore::load`].
    pub fn build(self) -> Result<CognitoAuthLayer, ConfigError> {
        crate::crypto::install_jsonwebtoken_provider();
        if let Some(error) = self.error {
            return Err(error);
        }
        let jwks_base = self
            .jwks_endpoint
            .as_deref()
            .map(validate_endpoint)
            .transpose()?;
        let issuer_base = self
            .issuer_endpoint
            .as_deref()
            .map(validate_endpoint)
            .transpose()?;
        let lenient = jwks_base.is_some() || issuer_base.is_some();

        // Authorizer definitions: `default` (builder-level settings), then named.
        let mut defs: Vec<(String, AuthorizerConfig)> = Vec::new();
        if !self.pools.is_empty() || self.authorizers.is_empty() {
            defs.push((
                DEFAULT_AUTHORIZER.to_owned(),
                AuthorizerConfig {
                    pools: self.pools,
                    token_header: self.token_header,
                    token_validation: self.token_validation,
                },
            ));
        } else if self.token_header.is_some() || self.token_validation.is_some() {
            return Err(ConfigError::Other(
                "token_header and token_validation configure the authorizer given with \
                 user_pool, and none was given; use AuthorizerConfig for named authorizers \
                 or override_token_validation for every authorizer"
                    .into(),
            ));
        }
        for (name, config) in self.authorizers {
            if defs.iter().any(|(n, _)| *n == name) {
                return Err(ConfigError::Other(format!(
                    "authorizer {name:?} is defined twice"
                )));
            }
            defs.push((name, config));
        }
        if let Some(pools) = &self.override_pools {
            for (_, config) in &mut defs {
                config.pools.clone_from(pools);
            }
        }
        if let Some(expression) = &self.override_token_validation {
            for (_, config) in &mut defs {
                config.token_validation = Some(expression.clone()).filter(|e| !e.is_empty());
            }
        }
        let default_authorizer = match &self.default_authorizer {
            Some(name) => defs
                .iter()
                .position(|(n, _)| n == name)
                .ok_or_else(|| ConfigError::UnknownAuthorizer(name.clone()))?,
            None => 0,
        };

        // Every pool once in the key store; each authorizer maps its issuers.
        let mut specs: Vec<PoolSpec> = Vec::new();
        let mut by_given: HashMap<String, Box<str>> = HashMap::new();
        let checks = Checks {
            token_validation: None,
            client_ids: self
                .client_ids
                .map(|ids| ids.into_iter().map(String::into_boxed_str).collect()),
            groups: self
                .groups
                .map(|g| g.into_iter().map(String::into_boxed_str).collect()),
            accept_any_token_use: self.accept_any_token_use,
            revoked: self.revoked,
        };
        let leeway = i64::try_from(self.leeway.as_secs()).unwrap_or(i64::MAX / 4);
        let mut authorizers = Vec::with_capacity(defs.len());
        for (name, config) in defs {
            if config.pools.is_empty() {
                return Err(ConfigError::NoUserPools);
            }
            if config.pools.len() > MAX_POOLS {
                return Err(ConfigError::TooManyUserPools(config.pools.len()));
            }
            let header_text = config.token_header.as_deref().unwrap_or("Authorization");
            let header = HeaderName::try_from(header_text)
                .map_err(|_| ConfigError::InvalidHeaderName(header_text.to_owned()))?;
            let mut issuers = HashMap::with_capacity(config.pools.len());
            let mut slots = Vec::with_capacity(config.pools.len());
            for given in &config.pools {
                let pool = UserPool::parse(given, lenient)?;
                by_given.insert(given.clone(), pool.id.clone());
                let slot = match specs.iter().position(|s| s.pool_id == pool.id) {
                    Some(slot) => slot,
                    None => {
                        let base = |over: &Option<String>| {
                            over.clone().unwrap_or_else(|| default_base(&pool.region))
                        };
                        let issuer = format!("{}/{}", base(&issuer_base), pool.id);
                        let jwks_url =
                            format!("{}/{}/.well-known/jwks.json", base(&jwks_base), pool.id);
                        specs.push(PoolSpec {
                            pool_id: pool.id,
                            issuer: issuer.into(),
                            jwks_url: jwks_url.into(),
                        });
                        specs.len() - 1
                    }
                };
                if !slots.contains(&slot) {
                    slots.push(slot);
                    issuers.insert(specs[slot].issuer.clone(), slot);
                }
            }
            let token_validation = config
                .token_validation
                .as_deref()
                .map(anchored_regex)
                .transpose()?;
            authorizers.push(Authorizer {
                name: name.into(),
                slots: slots.into(),
                token_validation_source: config.token_validation.map(String::into_boxed_str),
                header,
                max_token_len: self.max_token_len,
                issuers,
                leeway,
                checks: Checks {
                    token_validation,
                    ..checks.clone()
                },
            });
        }

        let keys = KeyStore::new(
            specs,
            StoreSettings {
                refresh_interval: self.refresh_interval,
                retry_interval: self.retry_interval,
                miss_rate_limit: self.miss_rate_limit,
                limits: FetchLimits {
                    connect_timeout: self.connect_timeout,
                    timeout: self.fetch_timeout,
                    max_bytes: self.max_jwks_bytes,
                },
            },
        )?;
        for (given, doc) in &self.inline_jwks {
            let id = match by_given.get(given.as_str()) {
                Some(id) => id.to_string(),
                None => UserPool::parse(given, lenient)
                    .map(|p| p.id.to_string())
                    .unwrap_or_else(|_| given.clone()),
            };
            keys.insert_jwks(&id, doc)?;
        }
        keys.ensure_started();

        let rule_for = |policy: &RoutePolicy| -> Result<Rule, ConfigError> {
            let authorizer = match &policy.authorizer {
                None => default_authorizer,
                Some(name) => authorizers
                    .iter()
                    .position(|a| *a.name == **name)
                    .ok_or_else(|| ConfigError::UnknownAuthorizer(name.to_string()))?,
            };
            Ok(Rule {
                authorizer,
                requirement: policy.requirement.clone(),
            })
        };
        let policy = if self.table {
            if self.policy.is_some() {
                return Err(ConfigError::Other(
                    "policy() and scopes() set one policy for every request; a layer with \
                     routes uses unlisted_routes() for requests that match none"
                        .into(),
                ));
            }
            let mut table = RouteTable::builder();
            let mut summary = Vec::with_capacity(self.routes.len());
            for spec in self.routes {
                let rule = rule_for(&spec.policy)?;
                let route = MatchedRoute::new(&spec.method.to_string(), &spec.template);
                let shown = match &spec.source {
                    Some(pointer) => format!("{route} (at {pointer})"),
                    None => route.to_string(),
                };
                let mut policy = spec.policy;
                if matches!(
                    rule.requirement,
                    Requirement::Identity | Requirement::Scopes(_)
                ) {
                    policy = policy.authorizer(authorizers[rule.authorizer].name.to_string());
                }
                table
                    .insert(
                        spec.method,
                        &spec.template,
                        TableEntry {
                            rule,
                            route: route.clone(),
                        },
                    )
                    .map_err(|e| ConfigError::InvalidRoute {
                        route: shown,
                        reason: e.to_string(),
                    })?;
                summary.push(RouteSummary {
                    route,
                    policy,
                    source: spec.source,
                });
            }
            let requirement = match self.unlisted {
                UnlistedRoutes::Deny => Requirement::Deny,
                UnlistedRoutes::Public => Requirement::Public,
                UnlistedRoutes::IdentityToken => Requirement::Identity,
            };
            PolicySource::Table(Arc::new(PolicyTable {
                table: table.build(),
                unlisted: Rule {
                    authorizer: default_authorizer,
                    requirement,
                },
                unlisted_kind: self.unlisted,
                summary,
            }))
        } else {
            let policy = self
                .policy
                .unwrap_or_else(|| Ok(RoutePolicy::identity_token()))?;
            PolicySource::Fixed(rule_for(&policy)?)
        };

        let core = Core {
            cache: TokenCache::new(self.cache),
            authorizers: authorizers.into(),
            default_authorizer,
            keys,
            responses: self.responses,
            warnings: self.warnings,
        };
        Ok(CognitoAuthLayer::from_parts(Arc::new(core), policy))
    }
}

/// The name of the authorizer configured with the builder's own settings.
const DEFAULT_AUTHORIZER: &str = "default";

/// A gRPC package-qualified service name or a method name.
fn valid_grpc_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// A route waiting for `build`.
#[derive(Debug)]
struct RouteSpec {
    method: MethodMatch,
    template: String,
    policy: RoutePolicy,
    /// JSON pointer of an imported operation.
    source: Option<String>,
}

/// One named authorizer's own settings, for
/// [`CognitoAuthBuilder::authorizer`]: its user pools (API Gateway's
/// `providerARNs`), token header and Token validation.
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct AuthorizerConfig {
    pools: Vec<String>,
    token_header: Option<String>,
    token_validation: Option<String>,
}

impl AuthorizerConfig {
    /// No pools yet, token header `Authorization`, no Token validation.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a user pool, as an ARN or a pool ID.
    pub fn user_pool(mut self, arn_or_id: impl Into<String>) -> Self {
        self.pools.push(arn_or_id.into());
        self
    }

    /// Adds several user pools (1 to 1000 in all).
    pub fn user_pools<I, S>(mut self, pools: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.pools.extend(pools.into_iter().map(Into::into));
        self
    }

    /// The header the token is read from; default `Authorization`.
    pub fn token_header(mut self, name: impl Into<String>) -> Self {
        self.token_header = Some(name.into());
        self
    }

    /// The Token validation expression `aud` must match in full; see
    /// [`CognitoAuthBuilder::token_validation`].
    pub fn token_validation(mut self, expression: impl Into<String>) -> Self {
        self.token_validation = Some(expression.into());
        self
    }
}
