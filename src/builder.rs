//! Building a [`CognitoAuthLayer`].

use crate::authorizer::Authorizer;
use crate::claims::CognitoClaims;
use crate::error::{AuthError, ConfigError, ResponseType};
use crate::keys::{FetchLimits, KeyStore, PoolSpec, StoreSettings};
use crate::layer::{CognitoAuthLayer, Core, PolicySource};
use crate::policy::{anchored_regex, Checks, RoutePolicy};
use crate::pool::{default_base, UserPool};
use crate::response::{GatewayResponse, RejectedRequest, Responses};
use bytes::Bytes;
use http::header::HeaderName;
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
#[must_use]
pub struct CognitoAuthBuilder {
    pools: Vec<String>,
    token_header: String,
    jwks_endpoint: Option<String>,
    issuer_endpoint: Option<String>,
    leeway: Duration,
    max_token_len: usize,
    policy: Result<RoutePolicy, ConfigError>,
    token_validation: Option<String>,
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
            .finish_non_exhaustive()
    }
}

impl Default for CognitoAuthBuilder {
    fn default() -> Self {
        Self {
            pools: Vec::new(),
            token_header: "Authorization".into(),
            jwks_endpoint: None,
            issuer_endpoint: None,
            leeway: Duration::ZERO,
            max_token_len: 8 * 1024,
            policy: Ok(RoutePolicy::identity_token()),
            token_validation: None,
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
        self.token_header = name.into();
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
    pub fn policy(mut self, policy: RoutePolicy) -> Self {
        self.policy = Ok(policy);
        self
    }

    /// Shorthand for `policy(RoutePolicy::scopes(scopes)?)`: access tokens with any
    /// one of these scopes. Invalid scopes are reported by `build`.
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.policy = RoutePolicy::scopes(scopes);
        self
    }

    /// API Gateway's "Token validation" (`identityValidationExpression`): `aud`
    /// must match this regular expression in full. Tokens without `aud` (every
    /// access token) are then refused. The syntax is Rust's `regex` crate's, a
    /// subset of Java's without look-around and backreferences.
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

    /// Checks the configuration and builds the layer.
    ///
    /// Inside a Tokio runtime this starts the background key refresh; outside
    /// one, it starts with the first request. Keys are not awaited here: see
    /// [`KeyStore::load`].
    pub fn build(self) -> Result<CognitoAuthLayer, ConfigError> {
        crate::crypto::install_jsonwebtoken_provider();
        if self.pools.is_empty() {
            return Err(ConfigError::NoUserPools);
        }
        if self.pools.len() > MAX_POOLS {
            return Err(ConfigError::TooManyUserPools(self.pools.len()));
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
        let header = HeaderName::try_from(self.token_header.as_str())
            .map_err(|_| ConfigError::InvalidHeaderName(self.token_header.clone()))?;
        let policy = self.policy?;

        let mut specs: Vec<PoolSpec> = Vec::with_capacity(self.pools.len());
        let mut issuers = HashMap::with_capacity(self.pools.len());
        let mut by_given: HashMap<&str, Box<str>> = HashMap::new();
        for given in &self.pools {
            let pool = UserPool::parse(given, lenient)?;
            by_given.insert(given.as_str(), pool.id.clone());
            if specs.iter().any(|s| s.pool_id == pool.id) {
                continue;
            }
            let issuer = format!(
                "{}/{}",
                issuer_base
                    .clone()
                    .unwrap_or_else(|| default_base(&pool.region)),
                pool.id
            );
            let jwks_url = format!(
                "{}/{}/.well-known/jwks.json",
                jwks_base
                    .clone()
                    .unwrap_or_else(|| default_base(&pool.region)),
                pool.id
            );
            issuers.insert(issuer.clone().into_boxed_str(), specs.len());
            specs.push(PoolSpec {
                pool_id: pool.id,
                issuer: issuer.into(),
                jwks_url: jwks_url.into(),
            });
        }

        let checks = Checks {
            token_validation: self
                .token_validation
                .as_deref()
                .map(anchored_regex)
                .transpose()?,
            client_ids: self
                .client_ids
                .map(|ids| ids.into_iter().map(String::into_boxed_str).collect()),
            groups: self
                .groups
                .map(|g| g.into_iter().map(String::into_boxed_str).collect()),
            accept_any_token_use: self.accept_any_token_use,
            revoked: self.revoked,
        };

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

        let core = Core {
            authorizer: Authorizer {
                header,
                max_token_len: self.max_token_len,
                issuers,
                leeway: i64::try_from(self.leeway.as_secs()).unwrap_or(i64::MAX / 4),
                checks,
            },
            keys,
            responses: self.responses,
        };
        Ok(CognitoAuthLayer::from_parts(
            Arc::new(core),
            PolicySource::Fixed(policy.requirement),
        ))
    }
}
