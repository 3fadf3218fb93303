//! `test-invoke` on a route behind a Lambda authorizer: its function is
//! called at `--lambda-endpoint` with the event the gateway would send, and
//! the decision printed as the gateway would act on it: `ALLOW` with
//! `principalId` and `$context.authorizer`, or `DENY` with the reason and the
//! response the gateway would send (the export's gateway responses applied).
//!
//! The token fills each `method.request.header.X` identity source that no
//! `--header` sets; query string sources come from the route's `?query`.

use std::collections::HashMap;

use http::{Method, Request};
use serde_json::Value;
use tower_cognito::custom_authorizer::{AuthorizerRejection, DEFAULT_TIMEOUT};
use tower_cognito::openapi::{ImportedLambdaAuthorizer, OpenApiImport};
use tower_cognito::CognitoAuthLayer;

use crate::answers::{AnswerContext, Answers};
use crate::authorizers::{refuse, LambdaAuthorizers};
use crate::cli::TestInvokeArgs;
use crate::ids::RequestIds;

/// The request under test.
pub(crate) struct Target<'a> {
    pub(crate) method: &'a Method,
    pub(crate) path: &'a str,
    pub(crate) query: Option<&'a str>,
    pub(crate) token: &'a str,
}

/// Ok(true) on allow, Ok(false) on deny, Err on a configuration error.
pub(crate) async fn run(
    args: &TestInvokeArgs,
    import: &OpenApiImport,
    document: &Value,
    table: &CognitoAuthLayer,
    authorizer: &ImportedLambdaAuthorizer,
    target: Target<'_>,
) -> Result<bool, String> {
    let Target {
        method,
        path,
        query,
        token,
    } = target;
    let Some(endpoint) = args.lambda_endpoint.as_deref() else {
        return Err(format!(
            "{method} {path} is behind the Lambda authorizer {}: give --lambda-endpoint URL \
             (the Lambda Invoke API its function {} is served by)",
            authorizer.name, authorizer.function
        ));
    };
    let stage_variables: HashMap<String, String> = args.stage_variables.iter().cloned().collect();
    let api_id = crate::config::api_id(document);
    let authorizers = LambdaAuthorizers::build(
        import,
        Some(endpoint),
        DEFAULT_TIMEOUT,
        &api_id,
        &args.stage,
        &stage_variables,
    )?;
    let Some((route, params)) = table.route_and_params_for(method, path) else {
        return Err(format!("{method} {path}: no route"));
    };
    let layer = authorizers
        .get(route.as_str())
        .ok_or_else(|| format!("{route}: no Lambda authorizer"))?;

    let uri = match query {
        Some(q) => format!("{path}?{q}"),
        None => path.to_owned(),
    };
    let mut request = Request::builder().method(method.clone()).uri(&uri);
    for (name, value) in &args.headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let header_sources = authorizer
        .identity_source
        .split(',')
        .filter_map(|s| s.trim().strip_prefix("method.request.header."));
    for name in header_sources {
        if !args
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            request = request.header(name, token);
        }
    }
    let (mut parts, ()) = request
        .body(())
        .map_err(|e| format!("--route / --header: {e}"))?
        .into_parts();
    // The route's template and parameters: the REQUEST event's resource
    // and pathParameters, as when the gateway serves it.
    parts.extensions.insert(params);
    parts.extensions.insert(route.clone());

    println!("request: {method} {uri}");
    let about = authorizers.describe(route.as_str()).unwrap_or_default();
    println!("route: {route}: {about}");
    let rejection = match layer.authorize_request(&parts).await {
        Ok(output) => {
            println!("decision: ALLOW");
            println!("principalId: {}", output.principal_id());
            println!(
                "context ($context.authorizer):\n{}",
                serde_json::to_string_pretty(&output.to_request_context()).unwrap_or_default()
            );
            return Ok(true);
        }
        Err(rejection) => rejection,
    };
    let reason = match &rejection {
        AuthorizerRejection::Unauthorized => {
            "Unauthorized: an identity source missing or refused, or the function's Unauthorized"
                .to_owned()
        }
        AuthorizerRejection::ExplicitDeny => "explicit deny".to_owned(),
        AuthorizerRejection::NotAuthorized => "no matching Allow".to_owned(),
        AuthorizerRejection::Configuration(reason) => format!("authorizer failed: {reason}"),
        other => format!("{other:?}"),
    };
    println!("decision: DENY ({reason})");
    let answers = Answers::from_document(document, &args.stage)?;
    let ids = RequestIds::new();
    let response = refuse(&rejection, &answers, &AnswerContext { ids: &ids });
    super::print_answer(response).await;
    Ok(false)
}
