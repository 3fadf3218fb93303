//! Lambda authorizers (`token`, `request`) run as API Gateway runs them:
//! the library's [`CustomAuthorizerLayer`] decides, and the function named
//! by `authorizerUri` is invoked through the Lambda Invoke API at
//! `--lambda-endpoint` (as `aws_proxy` integrations are), within
//! `--authorizer-timeout-ms` (default 10 s, AWS's published Lambda
//! authorizer timeout; past it: 500 `{"message":null}`). Refusals go
//! through the export's gateway responses ([`crate::answers`]).
//!
//! The function's answer: a function error (`X-Amz-Function-Error`, or the
//! emulator's non-2xx) whose `errorMessage` is `Unauthorized` is the 401;
//! any other error, an unreachable endpoint or an answer over 1 MiB is the
//! 500, as is a malformed output.
//!
//! **[choice]** Without `--lambda-endpoint` such methods stay refused (401),
//! as before: the gateway never lets them through unchecked.

use std::collections::HashMap;
use std::time::Duration;

use axum::body::Body;
use http::header::{HeaderValue, CONTENT_TYPE};
use http::{Method, Request, Response, Uri};
use http_body_util::{BodyExt, Limited};
use serde_json::Value;
use tower_cognito::custom_authorizer::{
    AuthorizeFuture, AuthorizerError, AuthorizerRejection, CustomAuthorizerLayer,
};
use tower_cognito::openapi::{ImportedLambdaAuthorizer, OpenApiImport};

use crate::answers::{Answer, AnswerContext, Answers};

/// The largest authorizer answer read.
const MAX_ANSWER: usize = 1 << 20;

/// Invokes one function with the authorizer event.
struct Invoker {
    invoke: Uri,
}

impl tower_cognito::custom_authorizer::Authorize for Invoker {
    fn authorize(&self, event: Value) -> AuthorizeFuture {
        let invoke = self.invoke.clone();
        Box::pin(async move {
            let failed = |m: &str| AuthorizerError::Failed(m.to_owned());
            let payload = serde_json::to_vec(&event).map_err(|_| failed("event"))?;
            let mut request = Request::new(Body::from(payload));
            *request.method_mut() = Method::POST;
            *request.uri_mut() = invoke;
            let h = request.headers_mut();
            h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            h.insert(
                "x-amz-invocation-type",
                HeaderValue::from_static("RequestResponse"),
            );
            let response = crate::integration::backend::send(request)
                .await
                .map_err(|e| failed(&format!("invoke: {e}")))?;
            let function_error = !response.status().is_success()
                || response.headers().contains_key("x-amz-function-error");
            let bytes = Limited::new(response.into_body(), MAX_ANSWER)
                .collect()
                .await
                .map_err(|_| failed("answer unreadable or over 1 MiB"))?
                .to_bytes();
            let value: Value =
                serde_json::from_slice(&bytes).map_err(|_| failed("answer is not JSON"))?;
            if function_error {
                // A Lambda's `throw new Error("Unauthorized")` / `Err("Unauthorized")`.
                return Err(match value.get("errorMessage").and_then(Value::as_str) {
                    Some("Unauthorized") => AuthorizerError::Unauthorized,
                    _ => failed("function error"),
                });
            }
            Ok(value)
        })
    }
}

/// The Lambda authorizers of a deployment, by route (`GET /path`).
#[derive(Default)]
pub(crate) struct LambdaAuthorizers {
    /// The layer, and its description for the startup listing.
    by_route: HashMap<String, (CustomAuthorizerLayer, String)>,
}

impl LambdaAuthorizers {
    /// One layer per authorizer, shared by its routes (one cache each).
    /// Returns the authorizers and the routes they cover.
    pub(crate) fn build(
        import: &OpenApiImport,
        endpoint: Option<&str>,
        timeout: Duration,
        api_id: &str,
        stage: &str,
        stage_variables: &HashMap<String, String>,
    ) -> Result<Self, String> {
        let Some(endpoint) = endpoint else {
            return Ok(Self::default());
        };
        let endpoint = endpoint.trim_end_matches('/');
        let mut layers = HashMap::new();
        for a in &import.lambda_authorizers {
            let (name, qualifier, account) =
                crate::integration::lambda::split_function(&a.function).ok_or_else(|| {
                    format!(
                        "authorizer {} (#{}): {:?} is no Lambda function name or ARN",
                        a.name, a.pointer, a.function
                    )
                })?;
            let mut target = format!("{endpoint}/2015-03-31/functions/{name}/invocations");
            if let Some(q) = qualifier {
                target.push_str("?Qualifier=");
                target.push_str(q);
            }
            let invoke: Uri = target
                .parse()
                .map_err(|_| format!("--lambda-endpoint {endpoint:?}: not a URL"))?;
            let mut builder = a.layer(Invoker { invoke }).timeout(timeout).api(
                "us-east-1",
                account.unwrap_or("000000000000"),
                api_id,
                stage,
            );
            for (k, v) in stage_variables {
                builder = builder.stage_variable(k, v);
            }
            let layer = builder
                .build()
                .map_err(|e| format!("authorizer {} (#{}): {e}", a.name, a.pointer))?;
            let kind = match a.kind {
                tower_cognito::custom_authorizer::AuthorizerType::Request => "request",
                _ => "token",
            };
            let about = format!(
                "Lambda authorizer {} ({kind}, function {name}, cache {} s)",
                a.name, a.result_ttl_seconds
            );
            layers.insert(a.name.as_str(), (layer, about));
        }
        let mut by_route = HashMap::new();
        for skipped in &import.skipped {
            if let Some(entry) = layers.get(skipped.scheme.as_str()) {
                let method = skipped.method.as_ref().map_or("ANY", |m| m.as_str());
                by_route.insert(format!("{method} {}", skipped.path), entry.clone());
            }
        }
        Ok(Self { by_route })
    }

    /// The Lambda authorizer of the export that protects `route`, if one does.
    pub(crate) fn of_route<'a>(
        import: &'a OpenApiImport,
        route: &str,
    ) -> Option<&'a ImportedLambdaAuthorizer> {
        let skipped = import.skipped.iter().find(|s| {
            let method = s.method.as_ref().map_or("ANY", |m| m.as_str());
            route.strip_prefix(method).and_then(|r| r.strip_prefix(' ')) == Some(s.path.as_str())
        })?;
        import
            .lambda_authorizers
            .iter()
            .find(|a| a.name == skipped.scheme)
    }

    pub(crate) fn get(&self, route: &str) -> Option<&CustomAuthorizerLayer> {
        self.by_route.get(route).map(|(layer, _)| layer)
    }

    /// For the startup listing.
    pub(crate) fn describe(&self, route: &str) -> Option<&str> {
        self.by_route.get(route).map(|(_, about)| about.as_str())
    }

    pub(crate) fn covers(&self, route: &str) -> bool {
        self.by_route.contains_key(route)
    }
}

/// A refusal as API Gateway answers it, the export's gateway response for
/// its type applied (see [`crate::answers`]).
pub(crate) fn refuse(
    rejection: &AuthorizerRejection,
    answers: &Answers,
    context: &AnswerContext<'_>,
) -> Response<Body> {
    let kind = match rejection {
        AuthorizerRejection::Unauthorized => Answer::Unauthorized,
        AuthorizerRejection::ExplicitDeny | AuthorizerRejection::NotAuthorized => {
            Answer::AccessDenied
        }
        AuthorizerRejection::Configuration(reason) => {
            tracing::warn!(%reason, "Lambda authorizer failed");
            Answer::AuthorizerConfigurationError
        }
        _ => Answer::AuthorizerConfigurationError,
    };
    let (_, _, body) = rejection.parts();
    answers.respond_refusal(kind, rejection.message(), body, context)
}

/// Runs the authorizer for `req` on `route`; allowed, the integration with
/// the authorizer's output in the request extensions.
pub(crate) async fn serve(
    deployment: &crate::config::Deployment,
    authorizer: &CustomAuthorizerLayer,
    route: tower_cognito::MatchedRoute,
    req: Request<Body>,
    ids: &crate::ids::RequestIds,
) -> Response<Body> {
    let (mut parts, body) = req.into_parts();
    if let Some((_, params)) = deployment
        .layer
        .route_and_params_for(&parts.method, parts.uri.path())
    {
        parts.extensions.insert(params);
    }
    // The route template is the REQUEST event's `resource`.
    parts.extensions.insert(route);
    match authorizer.authorize_request(&parts).await {
        Ok(output) => {
            parts.extensions.insert(output);
            let req = Request::from_parts(parts, body);
            deployment.integrations.respond(req, ids).await
        }
        Err(rejection) => refuse(&rejection, &deployment.answers, &AnswerContext { ids }),
    }
}
