//! The API Gateway console's "Test" button for a Cognito authorizer: what
//! would API Gateway do with this token on this route?
//!
//! ```sh
//! cargo run --example test_invoke -- --token "$ID_TOKEN" --route "GET /pets/7"
//! cargo run --example test_invoke -- --token - --pool us-east-1_AbCdEf123 --jwks keys.json < token.txt
//! ```
//!
//! Prints the decision: `ALLOW` with the route and the claims map the
//! integration would get (`$context.authorizer.claims`), or `DENY` with the
//! reason and the exact response API Gateway would send (status, headers,
//! body). Exit status: 0 allow, 1 deny, 2 usage or configuration error.
//!
//! The configuration is an OpenAPI export (`--openapi FILE`; default the
//! shipped `examples/petstore-export.json`) with its routes, or pools given
//! with `--pool` (one policy for every route: an ID token, or with `--scope`
//! an access token with one of the scopes). Keys are fetched from the pools'
//! JWKS URLs, or, with `--jwks FILE`, taken from that JWKS document for every
//! pool (offline).

use std::process::ExitCode;
use std::time::Duration;

use http::{Request, Response};
use tower::{ServiceBuilder, ServiceExt};
use tower_cognito::claims::CognitoClaims;
use tower_cognito::openapi::ImportOptions;
use tower_cognito::{AuthError, CognitoAuthLayer, RoutePolicy};

const SHIPPED_EXPORT: &str = include_str!("petstore-export.json");
const KEY_LOAD_TIMEOUT: Duration = Duration::from_secs(10);

const USAGE: &str = "\
usage: test_invoke --token TOKEN [--openapi FILE | --pool ID_OR_ARN ... [--scope S ...]]
                   [--route \"METHOD /path\"] [--jwks FILE] [--jwks-endpoint URL]
                   [--issuer-endpoint URL] [--token-validation REGEX]

  --token TOKEN          the token to test, bare or `Bearer ...`; `-` reads it from stdin
  --openapi FILE         API Gateway OpenAPI export (default: the shipped petstore export)
  --pool ID_OR_ARN       a user pool (repeatable), instead of a document
  --scope S              with --pool: require an access token with one of these scopes
  --route \"GET /path\"    the request to test (default with --pool: \"GET /\"; required
                         with --openapi)
  --jwks FILE            the pools' keys as a JWKS document (no fetch)
  --jwks-endpoint URL    base URL of the JWKS (as COGNITO_JWKS_ENDPOINT)
  --issuer-endpoint URL  base URL of the expected iss (as COGNITO_ISSUER_ENDPOINT)
  --token-validation RE  Token validation regular expression for aud

exit status: 0 allow, 1 deny, 2 usage or configuration error";

/// The parsed command line.
#[derive(Default)]
struct Args {
    token: Option<String>,
    openapi: Option<String>,
    pools: Vec<String>,
    scopes: Vec<String>,
    route: Option<String>,
    jwks: Option<String>,
    jwks_endpoint: Option<String>,
    issuer_endpoint: Option<String>,
    token_validation: Option<String>,
}

impl Args {
    fn parse(mut argv: impl Iterator<Item = String>) -> Result<Self, String> {
        let mut args = Args::default();
        while let Some(flag) = argv.next() {
            if flag == "-h" || flag == "--help" {
                return Err(String::new());
            }
            let mut value = || argv.next().ok_or_else(|| format!("{flag} needs a value"));
            match flag.as_str() {
                "--token" => args.token = Some(value()?),
                "--openapi" => args.openapi = Some(value()?),
                "--pool" => args.pools.push(value()?),
                "--scope" => args.scopes.push(value()?),
                "--route" => args.route = Some(value()?),
                "--jwks" => args.jwks = Some(value()?),
                "--jwks-endpoint" => args.jwks_endpoint = Some(value()?),
                "--issuer-endpoint" => args.issuer_endpoint = Some(value()?),
                "--token-validation" => args.token_validation = Some(value()?),
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        if args.token.is_none() {
            return Err("--token is required".into());
        }
        if args.openapi.is_some() && !args.pools.is_empty() {
            return Err("give --openapi or --pool, not both".into());
        }
        if !args.scopes.is_empty() && args.pools.is_empty() {
            return Err("--scope goes with --pool (a document gives each route its scopes)".into());
        }
        if args.pools.is_empty() && args.route.is_none() {
            return Err("--route is required with an OpenAPI document".into());
        }
        Ok(args)
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("test_invoke: {message}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(args).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(message) => {
            eprintln!("test_invoke: {message}");
            ExitCode::from(2)
        }
    }
}

/// Ok(true) on allow, Ok(false) on deny, Err on a configuration error.
async fn run(args: Args) -> Result<bool, String> {
    let token = match args.token.as_deref() {
        Some("-") => {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .map_err(|e| format!("reading the token from stdin: {e}"))?;
            text.trim().to_owned()
        }
        Some(token) => token.trim().to_owned(),
        None => unreachable!("checked by Args::parse"),
    };
    let (method, path) = {
        let route = args.route.as_deref().unwrap_or("GET /");
        let (method, path) = route
            .trim()
            .split_once(' ')
            .ok_or_else(|| format!("--route {route:?}: expected \"METHOD /path\""))?;
        let method = http::Method::from_bytes(method.as_bytes())
            .map_err(|_| format!("--route {route:?}: bad method"))?;
        let path = path.trim();
        if !path.starts_with('/') {
            return Err(format!("--route {route:?}: the path must start with /"));
        }
        (method, path.to_owned())
    };

    let mut builder = CognitoAuthLayer::builder();
    if args.pools.is_empty() {
        let (name, document) = match &args.openapi {
            Some(file) => (
                file.clone(),
                std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?,
            ),
            None => (
                "examples/petstore-export.json".to_owned(),
                SHIPPED_EXPORT.to_owned(),
            ),
        };
        builder = builder
            .openapi(&document, &ImportOptions::new())
            .map_err(|e| format!("{name}: {e}"))?;
    } else {
        builder = builder.user_pools(args.pools.iter().cloned());
        if !args.scopes.is_empty() {
            let policy = RoutePolicy::scopes(args.scopes.iter().cloned())
                .map_err(|e| format!("--scope: {e}"))?;
            builder = builder.policy(policy);
        }
    }
    if let Some(expression) = &args.token_validation {
        builder = builder.override_token_validation(expression.clone());
    }
    if let Some(base) = &args.jwks_endpoint {
        builder = builder.jwks_endpoint(base.clone());
    }
    if let Some(base) = &args.issuer_endpoint {
        builder = builder.issuer_endpoint(base.clone());
    }
    let jwks = match &args.jwks {
        Some(file) => Some(std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?),
        None => None,
    };
    let auth = builder.build().map_err(|e| e.to_string())?;
    let summary = auth.policy_summary();
    let pool_ids: Vec<String> = summary
        .authorizers
        .iter()
        .flat_map(|a| a.pools.iter().map(|p| p.pool_id.clone()))
        .collect();
    match &jwks {
        // Every pool gets the file's keys; the token's `iss` still picks the
        // pool and its `kid` the key.
        Some(document) => {
            for pool in &pool_ids {
                auth.key_store()
                    .insert_jwks(pool, document)
                    .map_err(|e| format!("--jwks: {e}"))?;
            }
        }
        None => match tokio::time::timeout(KEY_LOAD_TIMEOUT, auth.key_store().load()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("test_invoke: warning: {e}"),
            Err(_) => {
                eprintln!("test_invoke: warning: keys not loaded within {KEY_LOAD_TIMEOUT:?}")
            }
        },
    }

    // The token goes in every authorizer's header; each route's authorizer
    // reads only its own.
    let mut request = Request::builder().method(method.clone()).uri(&path);
    let mut headers: Vec<&str> = summary
        .authorizers
        .iter()
        .map(|a| a.token_header.as_str())
        .collect();
    headers.sort_unstable();
    headers.dedup();
    for header in headers {
        request = request.header(header, token.as_str());
    }
    let request = request
        .body(String::new())
        .map_err(|e| format!("--route: {e}"))?;

    // The backend: hands back what the authorizer passed on.
    let backend = tower::service_fn(|req: Request<String>| async move {
        let claims = req.extensions().get::<CognitoClaims>().cloned();
        let mut res = Response::new(String::new());
        res.extensions_mut().insert(Passed { claims });
        Ok::<_, std::convert::Infallible>(res)
    });
    let Ok(response) = ServiceBuilder::new()
        .layer(auth.clone())
        .service(backend)
        .oneshot(request)
        .await;

    println!("request: {method} {path}");
    match auth.route_for(&method, &path) {
        Some(route) => {
            let policy = summary
                .routes
                .iter()
                .find(|r| r.route == *route)
                .map(|r| r.policy.to_string())
                .unwrap_or_default();
            println!("route: {route}: {policy}");
        }
        None if summary.routes.is_empty() => {
            println!("route: every request: {}", describe_fixed(&args.scopes));
        }
        None => println!("route: none matches (unlisted: {:?})", summary.unlisted),
    }
    if let Some(passed) = response.extensions().get::<Passed>() {
        println!("decision: ALLOW");
        let claims = passed
            .claims
            .as_ref()
            .map(|c| c.api_gateway().to_json())
            .unwrap_or(serde_json::Value::Null);
        println!(
            "claims ($context.authorizer.claims):\n{}",
            serde_json::to_string_pretty(&claims).unwrap_or_default()
        );
        return Ok(true);
    }
    let reason = response
        .extensions()
        .get::<AuthError>()
        .map_or_else(|| "unknown".to_owned(), |e| e.to_string());
    println!("decision: DENY ({reason})");
    println!("response API Gateway would send:");
    let (parts, body) = response.into_parts();
    let body = http_body_util::BodyExt::collect(body)
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    println!("  status: {}", parts.status);
    for (name, value) in &parts.headers {
        println!("  {}: {}", name, value.to_str().unwrap_or("<binary>"));
    }
    println!("  body: {}", String::from_utf8_lossy(&body));
    Ok(false)
}

/// What the backend was given; found in the response when it was called.
#[derive(Clone)]
struct Passed {
    claims: Option<CognitoClaims>,
}

fn describe_fixed(scopes: &[String]) -> String {
    if scopes.is_empty() {
        "identity token".to_owned()
    } else {
        format!("access token with any of [{}]", scopes.join(", "))
    }
}
