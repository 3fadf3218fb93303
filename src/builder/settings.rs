//! The builder's settings, other than routes: key fetching, the token cache,
//! checks beyond API Gateway, responses and named authorizers.

use super::{AuthorizerConfig, CognitoAuthBuilder};
use crate::cache::CacheLimits;
use crate::claims::CognitoClaims;
use crate::error::{AuthError, ResponseType};
use crate::policy::RoutePolicy;
use crate::response::{GatewayResponse, RejectedRequest};
use bytes::Bytes;
use std::sync::Arc;
use std::time::Duration;

impl CognitoAuthBuilder {
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

    /// Limits of the verified-token cache; default 10,000 entries and 64 MiB.
    ///
    /// A token seen before is not verified again while its `exp` has not passed
    /// and the key that verified it is still in its pool's key set; the route
    /// policy is still decided on every request. Entries are keyed by the
    /// SHA-256 of the whole token; failures are never cached. An entry is
    /// stored with its claims map built, and charged up front for everything
    /// it can grow to (the map, the policy strings and the API Gateway
    /// rendering a service may ask for): a typical Cognito ID token's entry
    /// takes about 2.9 to 3.8 KiB (measured with a counting allocator) and is
    /// charged about 5.8 KiB, an upper bound, so `max_bytes` bounds real memory
    /// and the default holds 10,000 such entries.
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

    /// Beyond API Gateway (off by default, as there): refuse tokens covered
    /// by this [`RevocationList`](crate::revocation::RevocationList) (a
    /// revoked token family or a signed-out user) with the 401 `Unauthorized`
    /// response and [`RejectionKind::Revoked`](crate::RejectionKind::Revoked),
    /// token-cache hits included. Checked after the route policy and any
    /// [`revocation_check`](Self::revocation_check). A list shared through a
    /// store refuses every token until it is loaded; see
    /// [`revocation`](crate::revocation).
    ///
    /// ```
    /// use tower_cognito::{revocation::RevocationList, CognitoAuthLayer};
    ///
    /// let list = RevocationList::new();
    /// let layer = CognitoAuthLayer::builder()
    ///     .user_pool("us-east-1_AbCdEf123")
    ///     .revocation_list(list.clone())
    ///     .build()
    ///     .unwrap();
    /// # drop(layer);
    /// ```
    pub fn revocation_list(mut self, list: crate::revocation::RevocationList) -> Self {
        self.revocation_list = Some(list);
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

    /// Whether gRPC requests (HTTP/2 with `content-type` `application/grpc`,
    /// `application/grpc+...` or `application/grpc;...`) get gRPC replies
    /// (`grpc-status` 16, 7, 12 or 13) instead of the HTTP responses; default on.
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
}
