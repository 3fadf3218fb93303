//! A request's way through the gateway: identifiers, path safety, route,
//! authorizer (the library's layer), integration, API Gateway's answers.
//!
//! - The request's URI as the client sent it travels in [`ClientUri`] (the
//!   layer passes the normalised path on, `/pets/` as `/pets`): what an
//!   integration reports as the request's path (`$context.path`, the Lambda
//!   event's `path` and `requestContext.path`) is the client's, as on AWS
//!   (LocalStack's recorded test_lambda_aws_proxy_integration,
//!   invocation-payload-with-trailing-slash). Routing is unchanged.
//! - Every HTTP/1.1 answer on a connection that stays open says
//!   `Connection: keep-alive`, as AWS's do (LocalStack's recorded
//!   test_invocation_trace_id, for mock, http and Lambda alike; hyper leaves
//!   it out): not when the client asked to close, never on HTTP/1.0 or
//!   HTTP/2 (where the header is forbidden). hyper closes a connection also
//!   when the server shuts down, and then adds `close`, which the client
//!   obeys.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use arc_swap::ArcSwap;
use axum::body::Body;
use http::header::{HeaderValue, CONNECTION};
use http::uri::PathAndQuery;
use http::{HeaderMap, Method, Request, Response, Uri, Version};
use tower::{Service, ServiceExt};
use tower_cognito::claims::CognitoClaims;

use tower_cognito::{AuthError, MatchedRoute, ResponseType};

use crate::integration::http_proxy::Call;
use crate::integration::request::{read_body, RequestData};

use crate::answers::{Answer, AnswerContext, Answers, Detail};
use crate::config::{Deployment, Operations};
use crate::ids::RequestIds;
use crate::integration::mock::MockOutcome;
use crate::integration::{echo, Integration};
use crate::observe;
use crate::path_safety;
use crate::validation::{Invalid, RequestValidator};
use tracing::Instrument;

type BoxFuture = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

/// The gateway as one tower service over the current deployment.
#[derive(Clone)]
pub(crate) struct Gateway {
    current: Arc<ArcSwap<Deployment>>,
}

impl Gateway {
    pub(crate) fn new(current: Arc<ArcSwap<Deployment>>) -> Self {
        Self { current }
    }

    /// The answer to `req`: what the service's `call` returns, from a shared
    /// reference (each serving thread's connections call it without a
    /// clone per request).
    pub(crate) fn respond(&self, req: Request<Body>) -> BoxFuture {
        // One snapshot per request: a reload swaps the next requests only.
        let deployment = self.current.load_full();
        let keep_alive = keeps_alive(req.version(), req.headers());
        Box::pin(async move {
            // Made by the outermost layer when there is one (so CORS answers
            // carry them too), which then stamps them; else here.
            let mut res = match req.extensions().get::<RequestIds>().cloned() {
                Some(ids) => handle(&deployment, &ids, req).await,
                None => {
                    let ids = RequestIds::new();
                    let mut res = handle(&deployment, &ids, req).await;
                    ids.stamp(res.headers_mut());
                    res
                }
            };
            if keep_alive {
                res.headers_mut()
                    .entry(CONNECTION)
                    .or_insert(HeaderValue::from_static("keep-alive"));
            }
            Ok(res)
        })
    }
}

impl Service<Request<Body>> for Gateway {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        self.respond(req)
    }
}

async fn handle(
    deployment: &Deployment,
    ids: &RequestIds,
    mut req: Request<Body>,
) -> Response<Body> {
    let answer = |a| deployment.answers.respond(a, &AnswerContext { ids });
    // An absolute-form target, or a path with dot or empty segments, never
    // reaches route matching (API Gateway's own answer for unknown paths).
    // HTTP/2 requests always carry `:scheme` and `:authority`, which hyper
    // puts in the URI: only HTTP/1 has an absolute form to refuse.
    let absolute_form = req.version() < http::Version::HTTP_2
        && (req.uri().scheme().is_some() || req.uri().authority().is_some());
    // Only API Gateway's seven methods reach an integration, `ANY` routes
    // included; any other (TRACE, CONNECT, WebDAV's, made-up ones) is a
    // method not on the resource **[choice]**.
    let known_method = matches!(
        *req.method(),
        Method::GET
            | Method::POST
            | Method::PUT
            | Method::PATCH
            | Method::DELETE
            | Method::HEAD
            | Method::OPTIONS
    );
    if absolute_form || !known_method {
        return answer(Answer::MissingAuthenticationToken);
    }
    let Some(routable) = path_safety::routable(req.uri().path()) else {
        return answer(Answer::MissingAuthenticationToken);
    };
    let empty_segments = routable.empty_segments;
    let client = ClientUri(req.uri().clone());
    if routable.path.len() != req.uri().path().len() {
        // A leading `//` is routed as one `/` (path_safety's module docs).
        let Some(uri) = with_path(req.uri(), routable.path) else {
            return answer(Answer::MissingAuthenticationToken);
        };
        *req.uri_mut() = uri;
    }
    req.extensions_mut().insert(client);
    // With the authorizer off, the route's parameters come from this same
    // lookup (the layer would add them otherwise).
    let found = if deployment.service.is_some() {
        deployment
            .layer
            .route_for(req.method(), req.uri().path())
            .map(|route| (route.clone(), None))
    } else {
        deployment
            .layer
            .route_and_params_for(req.method(), req.uri().path())
            .map(|(route, params)| (route.clone(), Some(params)))
    };
    let Some((route, params)) = found else {
        return answer(Answer::MissingAuthenticationToken);
    };
    // Empty segments reach only what cannot be confused by them.
    if empty_segments && !deployment.integrations.takes_empty_segments(&route) {
        return answer(Answer::MissingAuthenticationToken);
    }
    // A one-segment parameter's value must stay one segment on its way to a
    // backend that decodes `%2F` (path_safety's module docs).
    if !path_safety::params_are_single_segments(route.template(), req.uri().path()) {
        return answer(Answer::MissingAuthenticationToken);
    }
    // Protected by what the gateway does not check: refused, whatever the
    // authorizer setting (extensions::Refusal).
    if !deployment.refusals.is_empty() {
        if let Some(refusal) = deployment.refusals.get(route.as_str()) {
            return answer(refusal.answer(req.headers(), req.uri().query()));
        }
    }
    // A declared length over the limit is refused before any work (an
    // authorizer's included, whichever kind); a streamed body is cut off by
    // the integration reading it.
    let declared = req
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > deployment.max_body_bytes) {
        return answer(Answer::RequestTooLarge);
    }
    // Behind a Lambda authorizer: it decides, then the integration runs
    // (the Cognito layer, which cannot run it, is not asked).
    if let Some(authorizer) = deployment.lambda_authorizers.get(route.as_str()) {
        return crate::authorizers::serve(deployment, authorizer, route, req, ids).await;
    }
    let Some(service) = &deployment.service else {
        // Authorizer off: the route and its parameters the layer would add,
        // and the integrations called in place (no service, box or clone in
        // between); the identifiers go along as they are.
        if let Some(params) = params {
            req.extensions_mut().insert(params);
        }
        req.extensions_mut().insert(route);
        return deployment.integrations.respond(req, ids).await;
    };
    req.extensions_mut().insert(ids.clone());
    let Ok(res) = service.clone().oneshot(req).await;
    let (parts, body) = res.into_parts();
    if let Some(error) = parts.extensions.get::<AuthError>() {
        let kind = match error.kind().response_type() {
            ResponseType::Unauthorized => Some(Answer::Unauthorized),
            ResponseType::ExpiredToken => Some(Answer::ExpiredToken),
            ResponseType::AuthorizerConfigurationError => {
                Some(Answer::AuthorizerConfigurationError)
            }
            #[allow(unreachable_patterns)]
            _ => None,
        };
        if let Some(kind) = kind.filter(|k| deployment.answers.is_customized(*k)) {
            let mut res = answer(kind);
            // The rejection's reason stays visible to metrics and logs.
            res.extensions_mut().insert(error.clone());
            return res;
        }
    }
    Response::from_parts(parts, Body::new(body))
}

/// The request's URI as the client sent it (a request extension): see the
/// module docs.
#[derive(Clone, Debug)]
pub(crate) struct ClientUri(Uri);

impl ClientUri {
    /// The path as the client sent it (`$context.path` after the stage).
    pub(crate) fn path(&self) -> &str {
        self.0.path()
    }

    /// The path as it was routed: a leading `//` as one `/` (the Lambda
    /// event's `path`).
    pub(crate) fn routed_path(&self) -> &str {
        path_safety::routable(self.0.path()).map_or(self.0.path(), |r| r.path)
    }
}

/// The path of a request's `ClientUri`, else of its URI.
pub(crate) fn client_path<'a>(extensions: &'a http::Extensions, uri: &'a Uri) -> &'a str {
    extensions
        .get::<ClientUri>()
        .map_or(uri.path(), ClientUri::path)
}

/// `uri` with `path` for its path, the query kept.
fn with_path(uri: &Uri, path: &str) -> Option<Uri> {
    let target = match uri.query() {
        Some(query) => PathAndQuery::try_from(format!("{path}?{query}")).ok()?,
        None => PathAndQuery::try_from(path).ok()?,
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(target);
    Uri::from_parts(parts).ok()
}

/// Whether an HTTP/1.1 connection stays open after this request: the
/// client did not ask to close it.
fn keeps_alive(version: Version, headers: &HeaderMap) -> bool {
    version == Version::HTTP_11
        && !headers
            .get_all(CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|token| token.trim().eq_ignore_ascii_case("close"))
}

/// The integrations of a deployment, as the service the authorizer wraps.
#[derive(Clone, Debug)]
pub(crate) struct Integrations {
    operations: Arc<Operations>,
    answers: Arc<Answers>,
}

impl Integrations {
    pub(crate) fn new(operations: Arc<Operations>, answers: Arc<Answers>) -> Self {
        Self {
            operations,
            answers,
        }
    }

    pub(crate) fn operations(&self) -> &Operations {
        &self.operations
    }

    /// Whether `route`'s integration takes a path with empty segments: a
    /// `mock` or `aws_proxy` one, which passes no path on for a backend to
    /// read otherwise (path_safety's module docs).
    fn takes_empty_segments(&self, route: &MatchedRoute) -> bool {
        self.operations
            .by_route
            .get(route.as_str())
            .is_some_and(|op| {
                matches!(
                    op.integration,
                    Integration::Mock(_) | Integration::Lambda(_)
                )
            })
    }
}

impl Service<Request<Body>> for Integrations {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            // Past the authorizer, the identifiers travel in the extensions.
            let ids = req
                .extensions()
                .get::<RequestIds>()
                .cloned()
                .unwrap_or_else(RequestIds::new);
            Ok(this.respond(req, &ids).await)
        })
    }
}

impl Integrations {
    /// The integration's answer to `req`, observed (metrics, the span).
    pub(crate) async fn respond(&self, req: Request<Body>, ids: &RequestIds) -> Response<Body> {
        let seen = observe::integration_started(&req);
        let span = observe::integration_span(req.extensions().get::<MatchedRoute>());
        let res = self.integrate(req, ids).instrument(span).await;
        observe::integration_finished(seen, &res);
        res
    }

    async fn integrate(&self, req: Request<Body>, ids: &RequestIds) -> Response<Body> {
        let answer = |a| self.answers.respond(a, &AnswerContext { ids });
        let Some(route) = req.extensions().get::<MatchedRoute>().cloned() else {
            // Only a route the layer matched gets here; fail closed.
            return answer(Answer::ApiConfigurationError);
        };
        let Some(operation) = self.operations.by_route.get(route.as_str()) else {
            return echo::respond(
                self.operations.echo,
                route.as_str(),
                req.extensions().get::<CognitoClaims>(),
            );
        };
        // Past the authorizer, before the integration request, as on AWS.
        let req = match &operation.validator {
            None => req,
            Some(validator) => match validate(validator, req, self.operations.max_body_bytes).await
            {
                Ok(req) => req,
                Err(Err(a)) => return answer(a),
                Err(Ok(invalid)) => {
                    let kind = match invalid {
                        Invalid::Parameters(_) => Answer::BadRequestParameters,
                        _ => Answer::InvalidRequestBody,
                    };
                    let (message, errors) = (invalid.message(), invalid.validation_error_string());
                    let detail = Detail {
                        message: &message,
                        validation_error_string: &errors,
                    };
                    return self.answers.respond_detailed(
                        kind,
                        Some(detail),
                        &AnswerContext { ids },
                    );
                }
            },
        };
        match &operation.integration {
            Integration::Echo => echo::respond(
                self.operations.echo,
                route.as_str(),
                req.extensions().get::<CognitoClaims>(),
            ),
            Integration::Mock(mock) => {
                let stage = self.operations.stage.as_str();
                let (parts, body) = req.into_parts();
                let data = RequestData::new(&parts, &route, stage);
                let body = match read_body(body, self.operations.max_body_bytes).await {
                    Ok(body) => body,
                    Err(a) => return answer(a),
                };
                match mock.respond(&data.facts(ids, stage), &String::from_utf8_lossy(&body)) {
                    MockOutcome::Respond(res) => res,
                    MockOutcome::Answer(a) => answer(a),
                }
            }
            Integration::Http(http) => {
                let stage = self.operations.stage.as_str();
                let (parts, body) = req.into_parts();
                let data = RequestData::new(&parts, &route, stage);
                let body = match read_body(body, self.operations.max_body_bytes).await {
                    Ok(body) => body,
                    Err(a) => return answer(a),
                };
                match http
                    .call(&parts.method, &data.facts(ids, stage), body)
                    .await
                {
                    Ok(res) => res,
                    Err(a) => answer(a),
                }
            }
            Integration::Unsupported(_) => answer(Answer::ApiConfigurationError),
            Integration::Lambda(lambda) => {
                let (stage, limit) = (&self.operations.stage, self.operations.max_body_bytes);
                match lambda.call(req, &route, ids, stage, limit).await {
                    Ok(res) => res,
                    Err(a) => answer(a),
                }
            }
            Integration::HttpProxy(proxy) => {
                let stage = self.operations.stage.as_str();
                let (parts, body) = req.into_parts();
                let data = RequestData::new(&parts, &route, stage);
                let call = Call {
                    facts: data.facts(ids, stage),
                    max_body_bytes: self.operations.max_body_bytes,
                };
                match proxy.call(&parts, body, call).await {
                    Ok(res) => res,
                    Err(a) => answer(a),
                }
            }
        }
    }
}

/// `req` checked by its validator: the parameters from its head, then the
/// body (read whole, at most `limit` bytes, and put back) when a model
/// applies. `Err(Ok(_))`: invalid; `Err(Err(_))`: the body could not be read.
async fn validate(
    validator: &RequestValidator,
    req: Request<Body>,
    limit: u64,
) -> Result<Request<Body>, Result<Invalid, Answer>> {
    validator
        .check_parameters(req.headers(), req.uri().query())
        .map_err(Ok)?;
    if !validator.checks_body() {
        return Ok(req);
    }
    let (parts, body) = req.into_parts();
    let body = read_body(body, limit).await.map_err(Err)?;
    validator
        .check_body(parts.headers.get(http::header::CONTENT_TYPE), &body)
        .map_err(Ok)?;
    Ok(Request::from_parts(parts, Body::from(body)))
}
