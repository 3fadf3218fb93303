//! Per-route policy: the table a layer consults per request, the route it
//! reports to the inner service, and a printable summary of what is in force.

use crate::path_params::PathParams;
use crate::policy::{Requirement, RoutePolicy, Rule};
use crate::route_table::{normalise_request_path, Match, RouteTable};
use http::Method;
use std::fmt;
use std::sync::Arc;

/// The route a request matched in the layer's policy table, added to the
/// request's extensions before the inner service is called (for public routes
/// too), with the route's [`PathParams`].
///
/// It names the route as configured, not the request: method (`ANY` for an
/// any-method route) and path template as written, e.g. `GET /pets/{petId}`.
/// Only layers with a policy table (routes, gRPC entries or an OpenAPI import)
/// add it; a layer with one policy for everything (as used with axum's
/// `route_layer`) leaves that to the router.
///
/// ```
/// use tower_cognito::{CognitoAuthLayer, RoutePolicy};
///
/// let layer = CognitoAuthLayer::builder()
///     .user_pool("us-east-1_AbCdEf123")
///     .route("GET", "/pets/{petId}", RoutePolicy::public())
///     .build()
///     .unwrap();
/// let route = layer.route_for(&http::Method::GET, "/pets/7").unwrap();
/// assert_eq!(route.as_str(), "GET /pets/{petId}");
/// assert_eq!((route.method(), route.template()), ("GET", "/pets/{petId}"));
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MatchedRoute {
    // One allocation at build time; clones share it.
    inner: Arc<str>,
    method_len: usize,
}

impl MatchedRoute {
    pub(crate) fn new(method: &str, template: &str) -> Self {
        Self {
            inner: format!("{method} {template}").into(),
            method_len: method.len(),
        }
    }

    /// The route's method as configured: `GET`, `POST`, ... or `ANY`.
    pub fn method(&self) -> &str {
        self.inner.get(..self.method_len).unwrap_or("")
    }

    /// The path template as written, e.g. `/pets/{petId}` or `/{proxy+}`.
    pub fn template(&self) -> &str {
        self.inner.get(self.method_len + 1..).unwrap_or("")
    }

    /// Whether the route answers every method (`x-amazon-apigateway-any-method`).
    pub fn is_any_method(&self) -> bool {
        self.method() == "ANY"
    }

    /// Method and template: `GET /pets/{petId}`.
    pub fn as_str(&self) -> &str {
        &self.inner
    }
}

impl fmt::Debug for MatchedRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("MatchedRoute").field(&self.as_str()).finish()
    }
}

impl fmt::Display for MatchedRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.inner)
    }
}

/// What a layer with a policy table does with a request that matches no route.
///
/// Set with [`CognitoAuthBuilder::unlisted_routes`](crate::CognitoAuthBuilder::unlisted_routes).
/// The default is [`Deny`](Self::Deny): API Gateway answers a path or method it
/// does not know without calling any backend, and a policy table that forgot
/// a route should fail closed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UnlistedRoutes {
    /// Refuse with API Gateway's 403 Missing Authentication Token response
    /// ([`RejectionKind::UnlistedRoute`](crate::RejectionKind::UnlistedRoute)),
    /// without looking at the token.
    #[default]
    Deny,
    /// Pass to the inner service with no token work (it may answer 404).
    /// `HEAD` on a resource with a stricter `GET` route gets the `GET` route
    /// instead, since axum serves it with the `GET` handler (see the
    /// [crate docs](crate#policy-and-dispatch-agree-on-the-path)).
    Public,
    /// Require an ID token of the default authorizer.
    IdentityToken,
}

/// One entry of the table: the rule and the route reported downstream.
#[derive(Debug)]
pub(crate) struct TableEntry {
    pub(crate) rule: Rule,
    pub(crate) route: MatchedRoute,
}

/// The routes of a layer, looked up once per request.
#[derive(Debug)]
pub(crate) struct PolicyTable {
    pub(crate) table: RouteTable<TableEntry>,
    pub(crate) unlisted: Rule,
    pub(crate) unlisted_kind: UnlistedRoutes,
    pub(crate) summary: Vec<RouteSummary>,
}

/// A request's rule and, with a table, the route it matched.
pub(crate) struct Resolved<'a> {
    pub(crate) rule: &'a Rule,
    pub(crate) route: Option<&'a MatchedRoute>,
    /// The route's parameter values, with `route`.
    pub(crate) params: Option<PathParams>,
    /// The path the table matched, when it differs from the request's: the
    /// service passes it on so the inner service routes where the policy was
    /// decided.
    pub(crate) normalised: Option<String>,
}

/// Where a request's policy comes from.
#[derive(Clone, Debug)]
pub(crate) enum PolicySource {
    /// One rule for every request through the layer.
    Fixed(Rule),
    /// A (method, path) table; one lookup per request.
    Table(Arc<PolicyTable>),
}

/// The rule of a request refused because the layer cannot make its inner
/// service route it where the policy was decided.
static REFUSED: Rule = Rule {
    authorizer: 0,
    requirement: Requirement::Deny,
};

impl PolicySource {
    /// Resolves a request: one lookup (two when an axum router has already
    /// routed a path the table normalises).
    #[inline]
    pub(crate) fn resolve<B>(&self, req: &http::Request<B>) -> Resolved<'_> {
        let t = match self {
            PolicySource::Fixed(rule) => {
                return Resolved {
                    rule,
                    route: None,
                    params: None,
                    normalised: None,
                }
            }
            PolicySource::Table(t) => t,
        };
        let raw = req.uri().path();
        let path = normalise_request_path(raw);
        // An empty path (authority-form targets) is left alone.
        let changed = !raw.is_empty() && *path != *raw;
        let picked = t.pick_route(req.method(), &path);
        // After routing (axum's `Router::layer`) the inner service was chosen
        // for the path's own resource: another resource's route (a
        // fallback) would put its handler under that route's policy.
        let fell_back = picked.as_ref().is_some_and(|(_, other)| *other);
        let hit = picked.map(|(m, _)| m);
        if fell_back && routed_already(req) {
            return Resolved {
                rule: &REFUSED,
                route: None,
                params: None,
                normalised: None,
            };
        }
        // After routing the inner service was chosen for the raw path, and a
        // new path cannot change that either: refuse unless both paths are
        // the same route.
        if changed && routed_already(req) {
            let raw_hit = t.pick(req.method(), raw);
            let same = match (&hit, &raw_hit) {
                (Some(a), Some(b)) => std::ptr::eq(a.value, b.value),
                (None, None) => true,
                _ => false,
            };
            if !same {
                return Resolved {
                    rule: &REFUSED,
                    route: None,
                    params: None,
                    normalised: None,
                };
            }
        }
        let normalised = changed.then(|| path.to_string());
        match hit {
            Some(m) => Resolved {
                rule: &m.value.rule,
                route: Some(&m.value.route),
                params: Some(PathParams::from_pairs(m.params(&path))),
                normalised,
            },
            None => Resolved {
                rule: &t.unlisted,
                route: None,
                params: None,
                normalised,
            },
        }
    }

    /// The rule of a request [`resolve`](Self::resolve) has accepted and whose
    /// path it has normalised: its path is taken as it is.
    pub(crate) fn resolved_rule<B>(&self, req: &http::Request<B>) -> &Rule {
        match self {
            PolicySource::Fixed(rule) => rule,
            PolicySource::Table(t) => t
                .pick(req.method(), req.uri().path())
                .map_or(&t.unlisted, |m| &m.value.rule),
        }
    }
}

impl PolicyTable {
    /// The route a request gets on a normalised path. `HEAD` without a route
    /// of its own on a resource with a `GET` route gets the `GET` route, which
    /// serves it in front of an axum router, unless the `ANY` route or the
    /// unlisted policy that would apply is stricter (a refusal, or a token
    /// where `GET` is public), or the greedy route it falls back to is at
    /// least as strict.
    pub(crate) fn pick(&self, method: &Method, path: &str) -> Option<Match<'_, TableEntry>> {
        self.pick_route(method, path).map(|(m, _)| m)
    }

    /// [`pick`](Self::pick), and whether the route is another resource's
    /// than the one the path matched (a fallback, see
    /// [`RouteTable::fallback`]).
    pub(crate) fn pick_route(
        &self,
        method: &Method,
        path: &str,
    ) -> Option<(Match<'_, TableEntry>, bool)> {
        let resource = self.table.resource(path)?;
        let own = resource.route(method);
        let own_head = own.as_ref().is_some_and(|m| m.method == "HEAD");
        let hit = match own {
            Some(m) => Some((m, false)),
            None => self.table.fallback(path, method).map(|m| (m, true)),
        };
        if *method != Method::HEAD || own_head {
            return hit;
        }
        let Some(get) = resource.exact(&Method::GET) else {
            return hit;
        };
        let (other, fell_back) = match &hit {
            Some((m, fell_back)) => (&m.value.rule, *fell_back),
            None => (&self.unlisted, false),
        };
        let (other, get_rule) = (
            strictness(&other.requirement),
            strictness(&get.value.rule.requirement),
        );
        // Another resource's route is API Gateway's answer: it stays unless
        // `GET`'s is stricter (never weaker than either).
        let keep = if fell_back {
            other >= get_rule
        } else {
            other > get_rule
        };
        if keep {
            hit
        } else {
            Some((get, false))
        }
    }

    /// The parameters of the route a request with this method and raw path gets.
    pub(crate) fn path_params_for(&self, method: &Method, path: &str) -> Option<PathParams> {
        let path = normalise_request_path(path);
        self.pick(method, &path)
            .map(|m| PathParams::from_pairs(m.params(&path)))
    }

    /// Both of the above from one lookup.
    pub(crate) fn route_and_params_for(
        &self,
        method: &Method,
        path: &str,
    ) -> Option<(&MatchedRoute, PathParams)> {
        let path = normalise_request_path(path);
        self.pick(method, &path)
            .map(|m| (&m.value.route, PathParams::from_pairs(m.params(&path))))
    }

    /// The route reported for a request with this method and raw path.
    pub(crate) fn route_for(&self, method: &Method, path: &str) -> Option<&MatchedRoute> {
        let path = normalise_request_path(path);
        self.pick(method, &path).map(|m| &m.value.route)
    }
}

/// Orders requirements for the `HEAD` rule: no token, a token, never.
fn strictness(requirement: &Requirement) -> u8 {
    match requirement {
        Requirement::Public => 0,
        Requirement::Identity | Requirement::Scopes(_) => 1,
        Requirement::Deny => 2,
    }
}

/// Whether an axum router has already routed the request: it then carries
/// axum's `MatchedPath` (not in fallbacks, nor for a nested router's prefix).
#[cfg(feature = "axum")]
fn routed_already<B>(req: &http::Request<B>) -> bool {
    req.extensions()
        .get::<axum::extract::MatchedPath>()
        .is_some()
}

#[cfg(not(feature = "axum"))]
fn routed_already<B>(_req: &http::Request<B>) -> bool {
    false
}

/// One route of a layer's policy, for printing at startup.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RouteSummary {
    /// The route: method (or `ANY`) and template as written.
    pub route: MatchedRoute,
    /// What it requires; token policies name the authorizer checking them.
    pub policy: RoutePolicy,
    /// Where it came from in an OpenAPI document (a JSON pointer), if imported.
    pub source: Option<String>,
}

impl fmt::Display for RouteSummary {
    /// `GET /pets/{petId}: access token with any of [a] (authorizer Pool)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.route, self.policy)
    }
}

/// One user pool of an authorizer, for printing at startup.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolSummary {
    /// The user pool ID.
    pub pool_id: String,
    /// The `iss` its tokens must carry.
    pub issuer: String,
    /// Where its keys are fetched from.
    pub jwks_url: String,
}

/// One authorizer of a layer, for printing at startup.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthorizerSummary {
    /// Its name (`default` for the one configured with
    /// [`user_pool`](crate::CognitoAuthBuilder::user_pool), else the name given
    /// or the OpenAPI security scheme's).
    pub name: String,
    /// Whether policies that name no authorizer use it.
    pub is_default: bool,
    /// The header the token is read from.
    pub token_header: String,
    /// The Token validation expression `aud` must match, if any.
    pub token_validation: Option<String>,
    /// Its user pools, in configuration order.
    pub pools: Vec<PoolSummary>,
}

/// What a layer enforces: authorizers, pools, routes. From
/// [`CognitoAuthLayer::policy_summary`](crate::CognitoAuthLayer::policy_summary).
///
/// ```
/// use tower_cognito::{CognitoAuthLayer, RoutePolicy};
///
/// let layer = CognitoAuthLayer::builder()
///     .user_pool("us-east-1_AbCdEf123")
///     .route("GET", "/health", RoutePolicy::public())
///     .route("ANY", "/{proxy+}", RoutePolicy::identity_token())
///     .build()
///     .unwrap();
/// let summary = layer.policy_summary();
/// let pool = &summary.authorizers[0].pools[0];
/// assert_eq!(
///     pool.jwks_url,
///     "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123/.well-known/jwks.json"
/// );
/// assert_eq!(summary.routes[0].to_string(), "GET /health: public");
/// assert_eq!(
///     summary.routes[1].to_string(),
///     "ANY /{proxy+}: identity token (authorizer default)"
/// );
/// println!("{summary}");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PolicySummary {
    /// Every authorizer, the default one first.
    pub authorizers: Vec<AuthorizerSummary>,
    /// Every route of the table in configuration order; empty for a layer with
    /// one policy for every request.
    pub routes: Vec<RouteSummary>,
    /// The policy for requests that match no route (`None` without a table).
    pub unlisted: Option<UnlistedRoutes>,
    /// Warnings of the OpenAPI import, if any, as `pointer: message`.
    pub warnings: Vec<String>,
}

impl fmt::Display for PolicySummary {
    /// A multi-line listing for startup logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for a in &self.authorizers {
            write!(f, "authorizer {} (header {}", a.name, a.token_header)?;
            if let Some(v) = &a.token_validation {
                write!(f, ", token validation {v}")?;
            }
            if a.is_default {
                f.write_str(", default")?;
            }
            f.write_str(")\n")?;
            for p in &a.pools {
                writeln!(
                    f,
                    "  pool {} iss {} jwks {}",
                    p.pool_id, p.issuer, p.jwks_url
                )?;
            }
        }
        for r in &self.routes {
            writeln!(f, "route {r}")?;
        }
        if let Some(u) = &self.unlisted {
            writeln!(f, "unlisted routes: {u:?}")?;
        }
        for w in &self.warnings {
            writeln!(f, "warning: {w}")?;
        }
        Ok(())
    }
}
