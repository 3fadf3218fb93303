//! An API Gateway export served locally, protected as API Gateway would
//! protect it.
//!
//! ```sh
//! cargo run --release --example gateway
//! ```
//!
//! serves the API described by an OpenAPI export (with API Gateway's
//! extensions) on `127.0.0.1:3000`, behind a `CognitoAuthLayer` configured
//! from that document alone. Every operation answers `200` with
//! `{"route":"GET /pets/{petId}","claims":{...}}`: the route the request
//! matched and the claims as API Gateway passes them to an integration
//! (`$context.authorizer.claims`, every value a string), or `null` on a
//! public route. Rejections are API Gateway's responses, byte for byte.
//!
//! With no configuration it runs offline: the embedded dev issuer stands in
//! for the document's user pools and the startup output ends with `curl`
//! lines to paste, with tokens that pass and tokens that fail.
//!
//! # Environment
//!
//! | variable | meaning |
//! |---|---|
//! | `GATEWAY_ADDR` | address to listen on; default `127.0.0.1:3000` (port `0`: any free port) |
//! | `OPENAPI_FILE` | the export to serve (JSON or YAML, OpenAPI 3 or 2); default `examples/petstore-export.json`, built into the binary |
//! | `COGNITO_USER_POOL_ARNS` | comma-separated pool ARNs or IDs replacing every authorizer's `providerARNs` |
//! | `COGNITO_JWKS_ENDPOINT` | base URL replacing `https://cognito-idp.{region}.amazonaws.com` for fetching `/{userPoolId}/.well-known/jwks.json` (an emulator such as moto) |
//! | `COGNITO_ISSUER_ENDPOINT` | the same for the expected `iss` |
//! | `COGNITO_TOKEN_VALIDATION` | regular expression `aud` must match, replacing every `identityValidationExpression` (empty: none) |
//! | `GATEWAY_DEV_ISSUER` | `1`: embedded dev issuer on; `0`: off. Unset: on when neither `OPENAPI_FILE` nor any of the `COGNITO_*` variables above is set |
//! | `GATEWAY_CORS_ORIGIN` | `*` or comma-separated origins: a CORS layer outside the authorizer, so rejections carry CORS headers and preflights are answered before authorization |
//!
//! For benchmarks and soak runs (`scripts/bench`, `scripts/soak`):
//!
//! | variable | meaning |
//! |---|---|
//! | `GATEWAY_AUTH` | `off`: no authorizer at all; every request answers `{"route":null,"claims":null}` (the baseline) |
//! | `GATEWAY_ECHO` | `empty`: every answer is `{}` instead of the route and claims, so a benchmark compares the authorizer alone |
//! | `GATEWAY_TOKEN_CACHE` | `off`, or the verified-token cache's capacity in entries (default 10,000) |
//! | `GATEWAY_KEY_REFRESH_SECS` | background key refresh interval (default 3600) |
//! | `GATEWAY_DEV_TOKENS_FILE` | with the dev issuer: write `GATEWAY_DEV_TOKENS` (default 1000) distinct valid ID tokens there, one per line |
//! | `GATEWAY_DEV_EXPIRED_TOKENS_FILE` | with the dev issuer: the same number of ID tokens that expired a minute ago |
//! | `GATEWAY_DEV_ROTATE_SECS` | with the dev issuer: every so many seconds, publish a new extra key in place of the previous extra one (the signing keys stay) |
//!
//! Apart from `COGNITO_TOKEN_VALIDATION`, a variable set to the empty string
//! counts as unset.
//!
//! # Dev issuer
//!
//! It keeps the document's pool IDs and AWS-form issuers, generates one RSA
//! key per pool, publishes the keys on a loopback port
//! ([`tower_cognito::testing::JwksServer`]) and points the layer's JWKS
//! endpoint there, so keys are fetched over HTTP as in a real deployment. Its
//! tokens are signed by keys that live as long as the process.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::Serialize;
use tower_cognito::claims::{ApiGatewayClaims, CognitoClaims};
use tower_cognito::openapi::{ImportOptions, OpenApiImport};
use tower_cognito::testing::{JwksServer, TestIssuer};
use tower_cognito::{CognitoAuthLayer, MatchedRoute, PolicySummary};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The shipped export, used when `OPENAPI_FILE` is unset (built in, so the
/// example runs from any directory).
const SHIPPED_EXPORT: &str = include_str!("petstore-export.json");
const SHIPPED_EXPORT_NAME: &str = "examples/petstore-export.json";
const DEFAULT_ADDR: &str = "127.0.0.1:3000";
/// How long startup waits for the first key fetch.
const KEY_LOAD_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the example stopped: bad configuration (exit status 2) or a failure
/// while running (1).
enum Failure {
    Config(String),
    Runtime(String),
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Config(message)) => {
            eprintln!("gateway: configuration error: {message}");
            ExitCode::from(2)
        }
        Err(Failure::Runtime(message)) => {
            eprintln!("gateway: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The example's configuration, read from the environment.
struct Settings {
    addr: SocketAddr,
    document_name: String,
    document: String,
    pools: Option<Vec<String>>,
    jwks_endpoint: Option<String>,
    issuer_endpoint: Option<String>,
    token_validation: Option<String>,
    dev_issuer: bool,
    /// Why the dev issuer is on or off, for the startup log.
    dev_issuer_reason: &'static str,
    cors_origins: Option<String>,
    auth_off: bool,
    /// `None`: default; `Some(0)`: off.
    token_cache: Option<usize>,
    key_refresh: Option<Duration>,
    tokens_file: Option<String>,
    expired_tokens_file: Option<String>,
    tokens_count: usize,
    rotate_every: Option<Duration>,
}

/// A variable's value; empty counts as unset.
fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Settings {
    fn from_env() -> Result<Self, Failure> {
        let config = Failure::Config;
        let addr_text = var("GATEWAY_ADDR").unwrap_or_else(|| DEFAULT_ADDR.to_owned());
        let addr = addr_text.trim().parse().map_err(|e| {
            config(format!(
                "GATEWAY_ADDR={addr_text:?}: {e} (expected IP:PORT)"
            ))
        })?;
        let (document_name, document) = match var("OPENAPI_FILE") {
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| config(format!("OPENAPI_FILE={path}: {e}")))?;
                (path, text)
            }
            None => (
                format!("{SHIPPED_EXPORT_NAME} (shipped)"),
                SHIPPED_EXPORT.to_owned(),
            ),
        };
        let pools = var("COGNITO_USER_POOL_ARNS").map(|list| {
            list.split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        });
        let jwks_endpoint = var("COGNITO_JWKS_ENDPOINT");
        let issuer_endpoint = var("COGNITO_ISSUER_ENDPOINT");
        // Empty is meaningful here: it removes the document's Token validation.
        let token_validation = std::env::var("COGNITO_TOKEN_VALIDATION").ok();
        let configured = var("OPENAPI_FILE").is_some()
            || pools.is_some()
            || jwks_endpoint.is_some()
            || issuer_endpoint.is_some()
            || token_validation.is_some();
        let (dev_issuer, dev_issuer_reason) = match var("GATEWAY_DEV_ISSUER").as_deref() {
            Some("1") => (true, "GATEWAY_DEV_ISSUER=1"),
            Some("0") => (false, "GATEWAY_DEV_ISSUER=0"),
            Some(other) => {
                return Err(config(format!(
                    "GATEWAY_DEV_ISSUER={other:?}: expected 1 or 0"
                )))
            }
            None if configured => (false, "OPENAPI_FILE or COGNITO_* set"),
            None => (true, "no OPENAPI_FILE or COGNITO_* variable set"),
        };
        if dev_issuer && jwks_endpoint.is_some() {
            return Err(config(
                "the dev issuer serves its own keys: unset COGNITO_JWKS_ENDPOINT or GATEWAY_DEV_ISSUER"
                    .into(),
            ));
        }
        let number = |name: &str| -> Result<Option<u64>, Failure> {
            var(name)
                .map(|v| {
                    v.trim()
                        .parse::<u64>()
                        .map_err(|_| Failure::Config(format!("{name}={v:?}: expected a number")))
                })
                .transpose()
        };
        let auth_off = match var("GATEWAY_AUTH").as_deref() {
            None | Some("on") => false,
            Some("off") => true,
            Some(other) => {
                return Err(config(format!(
                    "GATEWAY_AUTH={other:?}: expected on or off"
                )))
            }
        };
        match var("GATEWAY_ECHO").as_deref() {
            None | Some("full") => {}
            Some("empty") => {
                let _ = ECHO_EMPTY.set(true);
            }
            Some(other) => {
                return Err(config(format!(
                    "GATEWAY_ECHO={other:?}: expected full or empty"
                )))
            }
        }
        let token_cache = match var("GATEWAY_TOKEN_CACHE").as_deref() {
            None => None,
            Some("off") => Some(0),
            Some(_) => number("GATEWAY_TOKEN_CACHE")?.map(|n| n as usize),
        };
        Ok(Self {
            auth_off,
            token_cache,
            key_refresh: number("GATEWAY_KEY_REFRESH_SECS")?.map(Duration::from_secs),
            tokens_file: var("GATEWAY_DEV_TOKENS_FILE"),
            expired_tokens_file: var("GATEWAY_DEV_EXPIRED_TOKENS_FILE"),
            tokens_count: number("GATEWAY_DEV_TOKENS")?.unwrap_or(1000) as usize,
            rotate_every: number("GATEWAY_DEV_ROTATE_SECS")?
                .filter(|&n| n > 0)
                .map(Duration::from_secs),
            addr,
            document_name,
            document,
            pools,
            jwks_endpoint,
            issuer_endpoint,
            token_validation,
            dev_issuer,
            dev_issuer_reason,
            cors_origins: var("GATEWAY_CORS_ORIGIN"),
        })
    }
}

async fn run() -> Result<(), Failure> {
    let settings = Settings::from_env()?;
    let config = Failure::Config;

    // The document is the whole configuration; the environment overrides it.
    let import = OpenApiImport::parse(&settings.document, &ImportOptions::new())
        .map_err(|e| config(format!("{}: {e}", settings.document_name)))?;
    let mut builder = CognitoAuthLayer::builder().openapi_import(&import);
    if let Some(pools) = &settings.pools {
        builder = builder.override_user_pools(pools.iter().cloned());
    }
    if let Some(expression) = &settings.token_validation {
        builder = builder.override_token_validation(expression.clone());
    }
    if let Some(base) = &settings.issuer_endpoint {
        builder = builder.issuer_endpoint(base.clone());
    }
    let dev = if settings.dev_issuer {
        let dev = DevIssuer::start(&import, &settings).await?;
        builder = builder.jwks_endpoint(dev.server.base_url());
        Some(dev)
    } else {
        if let Some(base) = &settings.jwks_endpoint {
            builder = builder.jwks_endpoint(base.clone());
        }
        None
    };
    match settings.token_cache {
        Some(0) => builder = builder.no_token_cache(),
        Some(entries) => builder = builder.token_cache(entries, usize::MAX),
        None => {}
    }
    if let Some(every) = settings.key_refresh {
        builder = builder.refresh_interval(every);
    }
    let auth = builder.build().map_err(|e| {
        config(format!(
            "{} with the COGNITO_* overrides: {e}",
            settings.document_name
        ))
    })?;
    let summary = auth.policy_summary();
    if let Some(dev) = &dev {
        dev.check(&summary)?;
    }

    let listener = tokio::net::TcpListener::bind(settings.addr)
        .await
        .map_err(|e| Failure::Runtime(format!("cannot listen on {}: {e}", settings.addr)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Failure::Runtime(e.to_string()))?;

    println!("OpenAPI document: {}", settings.document_name);
    match &dev {
        Some(dev) => println!(
            "dev issuer: on ({}); keys published at {}",
            settings.dev_issuer_reason,
            dev.server.base_url()
        ),
        None => println!("dev issuer: off ({})", settings.dev_issuer_reason),
    }
    // Pools with issuers and JWKS URLs, authorizers, routes, import warnings.
    print!("{summary}");
    match tokio::time::timeout(KEY_LOAD_TIMEOUT, auth.key_store().load()).await {
        Ok(Ok(())) => println!("keys: loaded for every pool"),
        Ok(Err(e)) => {
            println!("keys: WARNING {e}; requests for those pools get 500 until a retry succeeds")
        }
        Err(_) => println!(
            "keys: WARNING not loaded within {KEY_LOAD_TIMEOUT:?}; requests get 500 until they are"
        ),
    }

    let mut app = if settings.auth_off {
        println!("authorizer: OFF (GATEWAY_AUTH=off)");
        Router::new().fallback(echo_unprotected)
    } else {
        Router::new().fallback(echo).layer(auth.clone())
    };
    match &settings.cors_origins {
        Some(origins) => {
            // Outermost, so it sees the authorizer's rejections and answers
            // preflights (which carry no token) before the authorizer does.
            app = app.layer(cors_layer(origins, &summary)?);
            println!("CORS: allowed origins {origins}");
        }
        None => {
            println!("CORS: off (set GATEWAY_CORS_ORIGIN to add CORS headers to every response)")
        }
    }
    if let Some(dev) = &dev {
        dev.print_curl_lines(&summary, addr);
        if let Some(path) = &settings.tokens_file {
            dev.write_tokens(path, settings.tokens_count, DEV_TOKEN_LIFETIME)?;
            println!("dev tokens: {} written to {path}", settings.tokens_count);
        }
        if let Some(path) = &settings.expired_tokens_file {
            dev.write_tokens(path, settings.tokens_count, -60)?;
            println!(
                "expired dev tokens: {} written to {path}",
                settings.tokens_count
            );
        }
        if let Some(every) = settings.rotate_every {
            dev.rotate_keys(every);
            println!("dev issuer: publishing a new extra key every {every:?}");
        }
    }
    println!("listening on http://{addr} (Ctrl-C to stop)");

    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| Failure::Runtime(format!("server error: {e}")))?;
    println!("stopped");
    Ok(())
}

/// The body of every answer that reaches the backend.
#[derive(Serialize)]
struct Answer<'a> {
    /// The route matched, `GET /pets/{petId}` (`null` with the authorizer off).
    route: Option<&'a str>,
    /// `$context.authorizer.claims`; `null` on public routes.
    claims: Option<&'a ApiGatewayClaims>,
}

/// The backend: says which route was matched and which claims it was given.
async fn echo(req: Request) -> Response {
    if ECHO_EMPTY.get() == Some(&true) {
        return EMPTY_ANSWER.into_response();
    }
    let Some(route) = req.extensions().get::<MatchedRoute>() else {
        // Only reachable if unlisted routes are let through.
        return (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({ "message": "Not Found" })),
        )
            .into_response();
    };
    let claims = req.extensions().get::<CognitoClaims>();
    Json(Answer {
        route: Some(route.as_str()),
        claims: claims.map(CognitoClaims::api_gateway),
    })
    .into_response()
}

/// `GATEWAY_ECHO=empty`: every backend answer is this, with or without the
/// authorizer, so a benchmark compares the authorizer alone.
static ECHO_EMPTY: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
const EMPTY_ANSWER: (StatusCode, [(&str, &str); 1], &str) =
    (StatusCode::OK, [("content-type", "application/json")], "{}");

/// The backend with the authorizer off (`GATEWAY_AUTH=off`): the same work
/// minus authorization, for benchmarks.
async fn echo_unprotected(_req: Request) -> Response {
    if ECHO_EMPTY.get() == Some(&true) {
        return EMPTY_ANSWER.into_response();
    }
    Json(Answer {
        route: None,
        claims: None,
    })
    .into_response()
}

/// CORS for `origins` (`*` or a comma-separated list), allowing every
/// authorizer's token header and exposing `x-amzn-ErrorType` to scripts.
fn cors_layer(origins: &str, summary: &PolicySummary) -> Result<CorsLayer, Failure> {
    let allow_origin = if origins.trim() == "*" {
        AllowOrigin::any()
    } else {
        let list = origins
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(|o| {
                HeaderValue::from_str(o)
                    .map_err(|_| Failure::Config(format!("GATEWAY_CORS_ORIGIN: bad origin {o:?}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        AllowOrigin::list(list)
    };
    // `Access-Control-Allow-Headers: *` does not cover `Authorization`, so
    // name the headers.
    let mut headers = vec![
        axum::http::header::AUTHORIZATION,
        axum::http::header::CONTENT_TYPE,
    ];
    for authorizer in &summary.authorizers {
        if let Ok(name) = HeaderName::try_from(authorizer.token_header.as_str()) {
            if !headers.contains(&name) {
                headers.push(name);
            }
        }
    }
    Ok(CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_methods([
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers(headers)
        .expose_headers([HeaderName::from_static("x-amzn-errortype")])
        .max_age(Duration::from_secs(600)))
}

/// Ctrl-C, or SIGTERM on Unix.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    println!("shutting down");
}

/// The embedded dev issuer: one key per pool of the document, published on
/// loopback, and tokens minted with them.
struct DevIssuer {
    /// By pool ID.
    issuers: Arc<BTreeMap<String, TestIssuer>>,
    server: Arc<JwksServer>,
}

/// Fake user the dev tokens describe.
const DEV_USERNAME: &str = "dev-user";
const DEV_SUB: &str = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
const DEV_GROUPS: [&str; 2] = ["developers", "pet-owners"];
const DEV_ROLE: &str = "developer";
/// Dev tokens' lifetime, Cognito's default.
const DEV_TOKEN_LIFETIME: i64 = 3600;

impl DevIssuer {
    /// Generates a key for every pool the layer will use (the document's, or
    /// `COGNITO_USER_POOL_ARNS`) and publishes them.
    async fn start(import: &OpenApiImport, settings: &Settings) -> Result<Self, Failure> {
        let given: Vec<String> = match &settings.pools {
            Some(pools) => pools.clone(),
            None => import
                .authorizers
                .iter()
                .flat_map(|a| a.provider_arns.iter().cloned())
                .collect(),
        };
        let mut issuers = BTreeMap::new();
        for pool in given {
            // `arn:aws:cognito-idp:{region}:{account}:userpool/{id}` or an ID.
            let id = pool
                .rsplit_once("userpool/")
                .map_or(pool.as_str(), |(_, id)| id)
                .to_owned();
            if issuers.contains_key(&id) {
                continue;
            }
            let region = id.split('_').next().unwrap_or_default();
            let base = settings
                .issuer_endpoint
                .clone()
                .unwrap_or_else(|| format!("https://cognito-idp.{region}.amazonaws.com"));
            let issuer =
                TestIssuer::with_issuer(&id, format!("{}/{id}", base.trim_end_matches('/')))
                    .client_id("devclient0123456789abcdefgh");
            issuers.insert(id, issuer);
        }
        let all: Vec<&TestIssuer> = issuers.values().collect();
        let server = JwksServer::start(&all).await.map_err(|e| {
            Failure::Runtime(format!("dev issuer: cannot listen on 127.0.0.1: {e}"))
        })?;
        Ok(Self {
            issuers: Arc::new(issuers),
            server: Arc::new(server),
        })
    }

    /// Every pool of the layer must be one of ours, with the same issuer.
    fn check(&self, summary: &PolicySummary) -> Result<(), Failure> {
        for pool in summary.authorizers.iter().flat_map(|a| &a.pools) {
            match self.issuers.get(&pool.pool_id) {
                Some(issuer) if issuer.issuer() == pool.issuer => {}
                _ => {
                    return Err(Failure::Runtime(format!(
                        "dev issuer: pool {} (iss {}) has no dev key",
                        pool.pool_id, pool.issuer
                    )))
                }
            }
        }
        Ok(())
    }

    /// Writes `count` distinct ID tokens of the first pool, one per line,
    /// living `lifetime` seconds (negative: already expired).
    fn write_tokens(&self, path: &str, count: usize, lifetime: i64) -> Result<(), Failure> {
        let issuer = self
            .issuers
            .values()
            .next()
            .ok_or_else(|| Failure::Runtime("dev issuer: no pool".into()))?;
        let mut out = String::new();
        for i in 0..count {
            let token = issuer
                .id_token()
                .claim("sub", DEV_SUB)
                .claim("cognito:username", format!("{DEV_USERNAME}-{i}"))
                .expires_in(lifetime)
                .sign();
            out.push_str(&token);
            out.push('\n');
        }
        std::fs::write(path, out)
            .map_err(|e| Failure::Runtime(format!("GATEWAY_DEV_TOKENS_FILE={path}: {e}")))
    }

    /// Publishes, every `every`, the signing keys plus one new extra key (the
    /// previous extra key leaves the set): key rotation traffic on the JWKS
    /// endpoint while the signing keys stay valid.
    fn rotate_keys(&self, every: Duration) {
        let server = Arc::clone(&self.server);
        let signing = Arc::clone(&self.issuers);
        tokio::spawn(async move {
            let mut round = 0u64;
            loop {
                tokio::time::sleep(every).await;
                round += 1;
                let pools = Arc::clone(&signing);
                // Key generation takes a while: off the request threads.
                let extras = tokio::task::spawn_blocking(move || {
                    pools
                        .values()
                        .map(|i| {
                            TestIssuer::with_issuer(i.pool_id(), i.issuer())
                                .kid(format!("rotating-{round}"))
                        })
                        .collect::<Vec<_>>()
                })
                .await;
                let Ok(extras) = extras else { return };
                let keys: Vec<&TestIssuer> = signing.values().chain(extras.iter()).collect();
                server.publish(&keys);
            }
        });
    }

    fn id_token(&self, issuer: &TestIssuer) -> String {
        issuer
            .id_token()
            .claim("sub", DEV_SUB)
            .claim("cognito:username", DEV_USERNAME)
            .claim("email", format!("{DEV_USERNAME}@example.com"))
            .claim("custom:role", DEV_ROLE)
            .groups(DEV_GROUPS)
            .expires_in(DEV_TOKEN_LIFETIME)
            .sign()
    }

    fn access_token(&self, issuer: &TestIssuer, scopes: &[&str]) -> String {
        issuer
            .access_token()
            .claim("sub", DEV_SUB)
            .claim("username", DEV_USERNAME)
            .groups(DEV_GROUPS)
            .scopes(scopes)
            .expires_in(DEV_TOKEN_LIFETIME)
            .sign()
    }

    /// Prints shell variables holding dev tokens and, for each protected
    /// route, a `curl` line that passes and one that fails for the route's
    /// reason.
    ///
    /// This is the one place tokens are printed, on purpose: they are signed
    /// by a key generated for this process, valid nowhere else.
    fn print_curl_lines(&self, summary: &PolicySummary, addr: SocketAddr) {
        // Per pool: an ID token, an access token with every scope the pool's
        // routes ask for, and an access token with none of them (Cognito's
        // `aws.cognito.signin.user.admin` only).
        let mut variables: Vec<(String, String, String)> = Vec::new();
        let mut names: BTreeMap<(String, &str), String> = BTreeMap::new();
        for (n, (pool_id, issuer)) in self.issuers.iter().enumerate() {
            let suffix = if n == 0 {
                String::new()
            } else {
                format!("_{}", n + 1)
            };
            let mut scopes: Vec<&str> = Vec::new();
            for route in &summary.routes {
                let uses_pool = route
                    .policy
                    .authorizer_name()
                    .and_then(|name| summary.authorizers.iter().find(|a| a.name == name))
                    .is_some_and(|a| a.pools.iter().any(|p| &p.pool_id == pool_id));
                if uses_pool {
                    for scope in route.policy.required_scopes().unwrap_or_default() {
                        let scope: &str = scope;
                        if !scopes.contains(&scope) {
                            scopes.push(scope);
                        }
                    }
                }
            }
            let tokens = [
                (
                    "id",
                    format!("ID_TOKEN{suffix}"),
                    self.id_token(issuer),
                    format!("ID token of {pool_id}"),
                ),
                (
                    "access",
                    format!("ACCESS_TOKEN{suffix}"),
                    self.access_token(issuer, &scopes),
                    format!("access token of {pool_id}, scope: {}", scopes.join(" ")),
                ),
                (
                    "no-scope",
                    format!("NO_SCOPE_TOKEN{suffix}"),
                    self.access_token(issuer, &["aws.cognito.signin.user.admin"]),
                    format!("access token of {pool_id} without the routes' scopes"),
                ),
            ];
            for (kind, name, token, what) in tokens {
                names.insert((pool_id.clone(), kind), name.clone());
                variables.push((name, token, what));
            }
        }

        println!();
        println!(
            "Dev tokens (user {DEV_USERNAME}, groups {}, custom:role {DEV_ROLE}; valid {} min, \
             for this run only). Paste these lines into a shell:",
            DEV_GROUPS.join(","),
            DEV_TOKEN_LIFETIME / 60
        );
        println!();
        for (name, token, what) in &variables {
            println!("# {what}");
            println!("{name}='{token}'");
        }
        for route in &summary.routes {
            let policy = &route.policy;
            if policy.is_public() || policy.is_deny() {
                let method = curl_method(route.route.method());
                println!();
                println!("# {}: {policy}", route.route);
                let expect = if policy.is_public() { "200" } else { "403" };
                println!(
                    "curl -i{method} http://{addr}{}  # expect {expect}",
                    example_path(route.route.template())
                );
                continue;
            }
            let Some(authorizer) = policy
                .authorizer_name()
                .and_then(|name| summary.authorizers.iter().find(|a| a.name == name))
            else {
                continue;
            };
            let Some(pool) = authorizer.pools.first() else {
                continue;
            };
            let var_of = |kind: &str| names.get(&(pool.pool_id.clone(), kind)).cloned();
            let (pass, fail, reason) = match policy.required_scopes() {
                Some(_) => (var_of("access"), var_of("no-scope"), "missing scope"),
                None => (
                    var_of("id"),
                    var_of("access"),
                    "access token on an identity route",
                ),
            };
            let (Some(pass), Some(fail)) = (pass, fail) else {
                continue;
            };
            let method = curl_method(route.route.method());
            let url = format!("http://{addr}{}", example_path(route.route.template()));
            let header = &authorizer.token_header;
            println!();
            println!("# {}: {policy}", route.route);
            println!("curl -i{method} -H \"{header}: Bearer ${pass}\" {url}  # expect 200");
            println!(
                "curl -i{method} -H \"{header}: Bearer ${fail}\" {url}  # expect 401 ({reason})"
            );
        }
        println!();
    }
}

/// ` -X METHOD` for curl, nothing for `GET` (and for `ANY`, which takes it).
fn curl_method(method: &str) -> String {
    match method {
        "GET" | "ANY" => String::new(),
        "HEAD" => " -I".to_owned(),
        other => format!(" -X {other}"),
    }
}

/// A concrete path for a template: `{petId}` → `1`, `{proxy+}` → `a/b.txt`.
fn example_path(template: &str) -> String {
    template
        .split('/')
        .map(|segment| match segment {
            s if s.starts_with('{') && s.ends_with("+}") => "a/b.txt",
            s if s.starts_with('{') && s.ends_with('}') => "1",
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}
