//! `cognito-gateway test-invoke`: the API Gateway console's "Test" button for
//! an authorizer. Prints the decision: `ALLOW` with the route and the
//! claims map the integration would get (`$context.authorizer.claims`), or
//! `DENY` with the reason and the exact response API Gateway would send.
//! A route behind a Lambda authorizer is decided by its function, called
//! at `--lambda-endpoint` as the gateway calls it (see [`lambda`]).
//! Exit status: 0 allow, 1 deny, 2 usage or configuration error.

use std::time::Duration;

use http::{Request, Response};
use tower::{ServiceBuilder, ServiceExt};
use tower_cognito::claims::CognitoClaims;
use tower_cognito::openapi::{ImportOptions, OpenApiImport};
use tower_cognito::{AuthError, CognitoAuthLayer, RoutePolicy};

use crate::authorizers::LambdaAuthorizers;
use crate::cli::TestInvokeArgs;
use crate::config::{SHIPPED_EXPORT, SHIPPED_EXPORT_NAME};

mod lambda;

const KEY_LOAD_TIMEOUT: Duration = Duration::from_secs(10);

/// Ok(true) on allow, Ok(false) on deny, Err on a configuration error.
pub(crate) async fn run(args: TestInvokeArgs) -> Result<bool, String> {
    let token = match args.token.as_str() {
        "-" => {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .map_err(|e| format!("reading the token from stdin: {e}"))?;
            text.trim().to_owned()
        }
        token => token.trim().to_owned(),
    };
    let (method, path, query) = {
        let route = args.route.as_deref().unwrap_or("GET /");
        let (method, target) = route
            .trim()
            .split_once(' ')
            .ok_or_else(|| format!("--route {route:?}: expected \"METHOD /path\""))?;
        let method = http::Method::from_bytes(method.as_bytes())
            .map_err(|_| format!("--route {route:?}: bad method"))?;
        let target = target.trim();
        if !target.starts_with('/') {
            return Err(format!("--route {route:?}: the path must start with /"));
        }
        let (path, query) = match target.split_once('?') {
            Some((path, query)) => (path, Some(query.to_owned())),
            None => (target, None),
        };
        (method, path.to_owned(), query)
    };

    let mut builder = CognitoAuthLayer::builder();
    let mut document_import = None;
    if args.pool.is_empty() {
        let (name, document) = match &args.openapi {
            Some(file) => (
                file.display().to_string(),
                std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?,
            ),
            None => (SHIPPED_EXPORT_NAME.to_owned(), SHIPPED_EXPORT.to_owned()),
        };
        // Methods behind other authorizers stay in the table (refused by
        // the layer); a Lambda authorizer's are decided below.
        let mut options = ImportOptions::new().skip_unsupported_authorizers(true);
        for (k, v) in &args.stage_variables {
            options = options.stage_variable(k.clone(), v.clone());
        }
        let import =
            OpenApiImport::parse(&document, &options).map_err(|e| format!("{name}: {e}"))?;
        builder = builder.openapi_import(&import);
        let value = crate::config::parse_value(&document).map_err(|e| format!("{name}: {e}"))?;
        document_import = Some((import, value));
    } else {
        builder = builder.user_pools(args.pool.iter().cloned());
        if !args.scope.is_empty() {
            let policy = RoutePolicy::scopes(args.scope.iter().cloned())
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
        Some(file) => {
            Some(std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?)
        }
        None => None,
    };
    let auth = builder.build().map_err(|e| e.to_string())?;
    if let (Some((import, value)), Some(route)) = (&document_import, auth.route_for(&method, &path))
    {
        if let Some(authorizer) = LambdaAuthorizers::of_route(import, route.as_str()) {
            let target = lambda::Target {
                method: &method,
                path: &path,
                query: query.as_deref(),
                token: &token,
            };
            return lambda::run(&args, import, value, &auth, authorizer, target).await;
        }
    }
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
            Ok(Err(e)) => eprintln!("test-invoke: warning: {e}"),
            Err(_) => {
                eprintln!("test-invoke: warning: keys not loaded within {KEY_LOAD_TIMEOUT:?}")
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
            println!("route: every request: {}", describe_fixed(&args.scope));
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
    print_answer(response).await;
    Ok(false)
}

/// The refusal as the client would get it: status, headers, body.
async fn print_answer<B: http_body::Body>(response: Response<B>) {
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
