//! Amazon API Gateway's `COGNITO_USER_POOLS` authorizer as a [tower](https://docs.rs/tower) layer.
//!
//! [`CognitoAuthLayer`] reads the token from the configured header, verifies it
//! against the user pools' keys (fetched once, refreshed in the background, read
//! without locks), applies the route's policy exactly as API Gateway does, and
//! passes the request on with its [`CognitoClaims`](claims::CognitoClaims) in the
//! extensions. Rejections are API Gateway's responses, byte for byte.
//!
//! ```
//! use axum::{routing::get, Router};
//! use tower_cognito::{claims::CognitoClaims, CognitoAuthLayer};
//!
//! async fn hello(claims: CognitoClaims) -> String {
//!     format!("hello {}", claims.username().unwrap_or("?"))
//! }
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let auth = CognitoAuthLayer::builder()
//!         .user_pool("arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbCdEf123")
//!         .build()?;
//!     let app: Router = Router::new()
//!         // No scopes: an ID token is required, as API Gateway does.
//!         .route("/hello", get(hello))
//!         .route_layer(auth.clone())
//!         // Scopes: an access token carrying one of them.
//!         .route(
//!             "/cats",
//!             get(|| async { "cats" })
//!                 .route_layer(auth.require_scopes(["https://my-petstore-api.example.com/cats.read"])?),
//!         );
//!     // axum::serve(listener, app).await?;
//!     # drop(app);
//!     Ok(())
//! }
//! ```
//!
//! # What is reproduced from API Gateway
//!
//! - **Token source**: one header (default `Authorization`), the bare token or
//!   `Bearer <token>`. Missing or empty → 401. A repeated header and tokens over
//!   8 KiB (configurable) are refused too, before any decoding.
//! - **Pools**: 1 to 1000 user pools, as ARNs or IDs; the token's `iss` selects
//!   the pool by exact match, `kid` the key in that pool's JWKS.
//! - **token_use and scopes**: a route without scopes takes only ID tokens; a
//!   route with scopes only access tokens carrying at least one of them
//!   (exact, case-sensitive). Both failures are 401, as in API Gateway.
//! - **Token validation**: an optional regular expression that `aud` must match
//!   in full (so access tokens, which have no `aud`, are refused).
//! - **Responses**: 401 `{"message":"Unauthorized"}`, 401
//!   `{"message":"The incoming token has expired"}`, 500 `{"message":null}`
//!   when no keys can be had, and 403 `{"message":"Missing Authentication
//!   Token"}` for a route missing from the policy table, each with
//!   `x-amzn-ErrorType`; each replaceable.
//! - **Claims**: the flat string map of `$context.authorizer.claims`; see
//!   [`claims`].
//!
//! # Per-route policy
//!
//! Three forms, with the same decisions (`token_use` included):
//!
//! - **Code-first axum apps: `route_layer` annotations.** One layer per route
//!   with [`CognitoAuthLayer::require_identity_token`],
//!   [`require_scopes`](CognitoAuthLayer::require_scopes) or
//!   [`with_policy`](CognitoAuthLayer::with_policy), added with axum's
//!   `route_layer`, so the router picks the route and unknown paths stay 404.
//! - **API Gateway exports: a policy table.** [`CognitoAuthBuilder::openapi`]
//!   makes an OpenAPI export (with `x-amazon-apigateway-authorizer` and
//!   per-operation `security`) the whole configuration: its Cognito
//!   authorizers, each with its own pools, token header and Token validation,
//!   and one route per operation. Routes can also be given by hand with
//!   [`CognitoAuthBuilder::route`]. The layer then wraps the whole app
//!   (`Router::layer`, or around the `Router`: see below), finds each request's route with [`matchit`] (axum's
//!   router), adds it to the request as [`MatchedRoute`] with its
//!   [`PathParams`], and applies the
//!   [`unlisted_routes`](CognitoAuthBuilder::unlisted_routes) policy (default:
//!   deny with API Gateway's 403 Missing Authentication Token) to requests
//!   matching no route.
//! - **tonic: the same table keyed by gRPC path**, with
//!   [`grpc_method`](CognitoAuthBuilder::grpc_method)
//!   (`/package.Service/Method`) and
//!   [`grpc_service`](CognitoAuthBuilder::grpc_service); `Server::builder().layer(auth)`.
//!
//! Public routes do no token work at all. Table matching follows API Gateway:
//! case-sensitive paths; one trailing slash ignored; static segments beat
//! `{param}`, which beats greedy `{proxy+}`; an exact method beats `ANY`;
//! `HEAD` is not `GET`; a path whose resource lacks the request's method
//! falls back to the greedy route covering it that has the method, else it
//! is unlisted.
//!
//! # Policy and dispatch agree on the path
//!
//! The router behind the layer must run the handler of the route the policy
//! was decided for. So:
//!
//! - **The matched path is passed on.** When the table normalises a path (one
//!   trailing slash dropped, percent-encoded unreserved characters decoded, hex
//!   digits of other escapes upper-cased), the request goes on with that path,
//!   query kept: `/admin/status/` reaches the inner service as `/admin/status`.
//!   A layer around the whole `Router` (`auth.layer(router)`, as axum
//!   recommends for middleware that changes the URI) makes axum route the
//!   normalised path.
//! - **After routing, no re-routing.** With `Router::layer` axum has already
//!   chosen the handler for the raw path (the request carries axum's
//!   `MatchedPath`). A path the table normalised into another route than the
//!   raw path's is then refused as unlisted
//!   ([`RejectionKind::UnlistedRoute`]) instead of running that handler under
//!   the other route's policy. This needs the `axum` feature (default).
//! - **Empty segments** (`/a//b`) match only a greedy parameter that covers
//!   them, as on API Gateway and in axum: never a narrower route.
//! - **A method the resource lacks** falls back, as on API Gateway, to the
//!   greedy route covering the path that has it (`OPTIONS /test` with only
//!   `POST /test` gets `OPTIONS /{proxy+}` and its policy). axum routes the
//!   path first: after routing (`Router::layer`) such a request is refused
//!   as unlisted rather than run by the path's own route under the greedy
//!   route's policy; around the router, list every method the router serves
//!   on a resource (or `ANY`), or a method the table forgot gets the greedy
//!   route's policy in front of the resource's handler.
//! - **`HEAD` (a choice):** axum serves `HEAD` with the `GET` handler, so `HEAD`
//!   on a resource with a `GET` route and no `HEAD` route gets the `GET` route,
//!   unless the `ANY` route or unlisted policy it would otherwise get is
//!   stricter (a refusal, or a token where `GET` is public). With the default
//!   [`UnlistedRoutes::Deny`], `HEAD` there is refused, as on API Gateway. A
//!   greedy route `HEAD` falls back to (API Gateway's answer) stays unless
//!   the `GET` route is stricter.
//! - **Percent-encoding (a choice):** `/%61dmin` is `/admin` (RFC 3986
//!   §6.2.2.2): escapes of `A-Z a-z 0-9 - . _ ~` are decoded before matching.
//!   Every other escape stays as it is, `%2F` included: an encoded `/` is data
//!   inside its segment, never a separator, so `/files/a%2Fsecret` is the
//!   `/files/{name}` resource with `name = a%2Fsecret`, never
//!   `/files/{name}/secret`.
//!
//! ```
//! use axum::{routing::get, Router};
//! use tower_cognito::{openapi::ImportOptions, CognitoAuthLayer, MatchedRoute};
//!
//! # fn run(export: &str) -> Result<(), Box<dyn std::error::Error>> {
//! let auth = CognitoAuthLayer::builder()
//!     .openapi(export, &ImportOptions::new().stage_variable("userPoolId", "us-east-1_AbCdEf123"))?
//!     .build()?;
//! println!("{}", auth.policy_summary());
//! let app: Router = Router::new()
//!     .route("/pets/{petId}", get(|route: axum::Extension<MatchedRoute>| async move {
//!         route.to_string() // "GET /pets/{petId}"
//!     }))
//!     .layer(auth);
//! # let _ = app; Ok(()) }
//! ```
//!
//! # Beyond API Gateway
//!
//! Allowed app client IDs, required groups, accepting both token types on
//! routes without scopes, a revocation check, gRPC replies for gRPC requests,
//! and typed claims. All opt-in except gRPC replies.
//!
//! # Choices where AWS documents nothing
//!
//! - A repeated token header is refused; tokens longer than 8 KiB are refused.
//! - Only RS256 is accepted (Cognito signs with nothing else). Headers carrying
//!   `jku`, `jwk`, `x5u`, `x5c` or `crit` are refused: Cognito never sets them.
//! - Payloads with a repeated top-level member are refused. The header and
//!   payload must be JSON that `serde_json` accepts, nested at most 127 deep.
//! - `exp` is required; `exp`, `iat`, `nbf` and `auth_time` must be integers from
//!   0 to 253402300799 when present. `nbf` later than now (plus leeway) is
//!   refused, and so is `iat` more than 5 minutes ahead.
//! - When no keys can be had for the token's pool the answer is API Gateway's
//!   best-known default, 500 `{"message":null}`. Such rejections log a
//!   `tracing` WARN at most once per 10 s per layer (clones share the limit),
//!   with `suppressed` counting the ones held back since the last; the others
//!   are DEBUG events like every other rejection. No log line holds any part
//!   of a token.
//! - gRPC requests get `grpc-status` 16 (UNAUTHENTICATED), 7 (PERMISSION_DENIED)
//!   for a missing scope, group or client, 13 (INTERNAL) when keys cannot be had.
//!   A request is gRPC when it is HTTP/2 with the content type `application/grpc`,
//!   `application/grpc+{subtype}` or `application/grpc;{parameters}`; any other
//!   request gets API Gateway's JSON responses.
//!
//! # Keys
//!
//! Each pool's JWKS is fetched once and each key parsed once, held in an
//! [`arc_swap::ArcSwap`] snapshot. Requests with a known `kid` verify
//! synchronously in `call`, with no lock and no allocation of key material. An
//! unknown `kid` triggers a refresh shared by concurrent requests and limited to
//! one per pool per 10 s after the last such refresh completed (misses inside
//! the limit are refused at once); the refresh runs in a task of its own, so a
//! client that hangs up cannot cancel it. A failed fetch keeps the last good
//! keys. See [`KeyStore`].
//!
//! # Order of checks, and the verified-token cache
//!
//! Each request is checked in this order; the first failure answers:
//!
//! 1. **Token source**: one header, within the size cap (before any decoding).
//! 2. **Shape**: three base64url segments; the header and the payload are each
//!    decoded and parsed once (`base64`, `serde_json`): a JSON object header
//!    naming RS256 with a `kid` and no key material, a JSON object payload
//!    with no repeated member.
//! 3. **Issuer**: `iss` must name a configured pool.
//! 4. **Time claims**: types, then `exp` (API Gateway's "expired" answer),
//!    `nbf` and `iat`. A choice: these need no key, so an expired token is
//!    refused before any key work; the issuer is checked first so that the
//!    "expired" answer goes only to tokens naming a configured pool, not to
//!    any made-up token with a past `exp`.
//! 5. **Key and signature**: the pool's key for `kid` (fetched once if
//!    unknown), then the RSA check.
//! 6. **Route policy**: `token_use`, scopes, Token validation, then the
//!    checks beyond API Gateway.
//!
//! The claims the checks read and the claims map the service is handed come
//! from that one parse of the payload.
//!
//! A token whose signature and time claims verified is cached (on by default;
//! see [`CognitoAuthBuilder::token_cache`]): keyed by the SHA-256 of the whole
//! token, bounded in entries and bytes, used only until the token's `exp` and
//! while the key that verified it is still in its pool's key set. Route policy
//! is decided on every request from the cached claims; failures are never
//! cached.
//!
//! # Metrics
//!
//! Feature `metrics` reports through the [`metrics`](https://docs.rs/metrics)
//! facade, to whichever recorder the application installs (Prometheus,
//! StatsD, OpenTelemetry...):
//!
//! | name | type | labels |
//! |---|---|---|
//! | `tower_cognito_requests_total` | counter | `authorizer`, `outcome` (`allowed`/`denied`), `reason` ([`RejectionKind::code`], `none` when allowed) |
//! | `tower_cognito_jwks_fetches_total` | counter | `pool`, `result` (`success`/`failure`) |
//! | `tower_cognito_jwks_fetch_duration_seconds` | histogram | `pool` |
//! | `tower_cognito_token_cache_hits_total`, `_misses_total`, `_evictions_total` | counters | |
//! | `tower_cognito_token_cache_entries` | gauge | |
//! | `tower_cognito_keys` | gauge | `pool` |
//! | `tower_cognito_revocations` | gauge | (entries of a [`revocation::RevocationList`], registered when it is made) |
//!
//! Requests on public routes are not counted (no authorizer looks at them);
//! requests refused by the route table before any authorizer are counted
//! with `authorizer="none"`. Labels come from the configuration only: never
//! from `sub`, `jti`, a username or any part of a token.
//!
//! Handles are registered when the layer is built, so **install the recorder
//! before building the layer**; a request then costs an atomic add per
//! metric, and with no recorder a branch.
//!
//! ```
//! use metrics_util::debugging::{DebugValue, DebuggingRecorder};
//! use tower_cognito::CognitoAuthLayer;
//!
//! let recorder = DebuggingRecorder::new();
//! let snapshotter = recorder.snapshotter();
//! // An application would call `metrics::set_global_recorder` once instead.
//! let auth = metrics::with_local_recorder(&recorder, || {
//!     CognitoAuthLayer::builder().user_pool("us-east-1_AbCdEf123").build()
//! })?;
//! let names: Vec<String> = snapshotter
//!     .snapshot()
//!     .into_vec()
//!     .into_iter()
//!     .filter(|(_, _, _, value)| *value == DebugValue::Counter(0))
//!     .map(|(key, ..)| key.key().name().to_owned())
//!     .collect();
//! assert!(names.iter().any(|n| n == "tower_cognito_requests_total"));
//! # drop(auth);
//! # Ok::<(), tower_cognito::ConfigError>(())
//! ```
//!
//! # Crypto backend
//!
//! Feature `aws-lc-rs` (default) verifies with pre-parsed aws-lc keys. Feature
//! `rust-crypto` (with default features off) verifies through jsonwebtoken's
//! RustCrypto provider instead. Building with neither is a compile error; with
//! both, aws-lc-rs is used. Building a layer also installs the chosen backend
//! as jsonwebtoken's process default unless one is installed already, so other
//! jsonwebtoken users in the process never meet its "no provider" panic.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod authorizer;
mod body;
mod builder;
mod cache;
pub mod claims;
mod crypto;
pub mod custom_authorizer;
mod envelope;
mod error;
#[cfg(feature = "axum")]
mod extract;
mod future;
mod keys;
mod layer;
mod observe;
#[cfg(feature = "openapi")]
#[cfg_attr(docsrs, doc(cfg(feature = "openapi")))]
pub mod openapi;
mod path_params;
mod policy;
mod pool;
mod response;
pub mod revocation;
mod route_table;
mod routes;
mod service;
// Only the route table still uses these helpers, and not all of them.
#[allow(dead_code)]
#[cfg(feature = "testing")]
pub mod testing;
mod token;

pub use body::ResponseBody;
pub use builder::{AuthorizerConfig, CognitoAuthBuilder};
pub use error::{AuthError, ConfigError, RejectionKind, ResponseType};
#[cfg(feature = "axum")]
pub use extract::MissingClaims;
pub use future::ResponseFuture;
pub use keys::{KeyLoadError, KeyStore, KeyStoreStatus, PoolStatus};
pub use layer::{CognitoAuthLayer, TokenCacheStats};
pub use path_params::PathParams;
pub use policy::RoutePolicy;
pub use response::{GatewayResponse, RejectedRequest};
pub use routes::{
    AuthorizerSummary, MatchedRoute, PolicySummary, PoolSummary, RouteSummary, UnlistedRoutes,
};
pub use service::CognitoAuth;
