//! [`CognitoAuthLayer`]: configuration shared by every service it wraps.

use crate::authorizer::Authorizer;
use crate::builder::CognitoAuthBuilder;
use crate::cache::TokenCache;
use crate::error::ConfigError;
use crate::keys::KeyStore;
use crate::observe::RequestMetrics;
use crate::path_params::PathParams;
use crate::policy::{Requirement, RoutePolicy, Rule};
use crate::response::Responses;
use crate::routes::{AuthorizerSummary, MatchedRoute, PolicySource, PolicySummary, PoolSummary};
use crate::service::CognitoAuth;
use http::Method;
use std::fmt;
use std::sync::Arc;
use tower_layer::Layer;

/// What is shared by every clone of a layer and every service it made.
pub(crate) struct Core {
    /// Every authorizer; rules refer to them by index.
    pub(crate) authorizers: Box<[Authorizer]>,
    /// The one used by policies that name none.
    pub(crate) default_authorizer: usize,
    /// Every pool of every authorizer, deduplicated.
    pub(crate) keys: KeyStore,
    /// Verified tokens, shared by every authorizer (entries remember their pool).
    pub(crate) cache: Option<TokenCache>,
    pub(crate) responses: Responses,
    /// OpenAPI import warnings, for the summary.
    pub(crate) warnings: Vec<String>,
    /// Counters of requests denied before any authorizer saw them.
    pub(crate) route_metrics: RequestMetrics,
}

impl Core {
    fn authorizer_index(&self, name: &str) -> Option<usize> {
        self.authorizers.iter().position(|a| &*a.name == name)
    }
}

/// The state of the verified-token cache; see
/// [`CognitoAuthBuilder::token_cache`](crate::CognitoAuthBuilder::token_cache).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenCacheStats {
    /// Verified tokens held.
    pub entries: usize,
    /// Bytes accounted for them.
    pub bytes: usize,
}

/// A tower [`Layer`] that authorizes requests with Cognito user pool tokens, as
/// API Gateway's `COGNITO_USER_POOLS` authorizer does.
///
/// Cheap to clone: clones share one key store (and its background refresh),
/// one configuration and one set of responses. See the [crate docs](crate) for
/// an example.
#[derive(Clone)]
#[must_use]
pub struct CognitoAuthLayer {
    pub(crate) core: Arc<Core>,
    pub(crate) policy: PolicySource,
}

impl fmt::Debug for CognitoAuthLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CognitoAuthLayer")
            .field("keys", &self.core.keys)
            .finish_non_exhaustive()
    }
}

impl CognitoAuthLayer {
    /// Starts a configuration.
    ///
    /// ```
    /// let layer = tower_cognito::CognitoAuthLayer::builder()
    ///     .user_pool("arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbCdEf123")
    ///     .build()
    ///     .unwrap();
    /// # drop(layer);
    /// ```
    pub fn builder() -> CognitoAuthBuilder {
        CognitoAuthBuilder::default()
    }

    pub(crate) fn from_parts(core: Arc<Core>, policy: PolicySource) -> Self {
        Self { core, policy }
    }

    /// The key store shared by every clone: await its first load, seed keys,
    /// read its status.
    pub fn key_store(&self) -> &KeyStore {
        &self.core.keys
    }

    /// Entries and accounted bytes of the verified-token cache, or `None` when
    /// it is off. Shared by every clone.
    pub fn token_cache_stats(&self) -> Option<TokenCacheStats> {
        self.core.cache.as_ref().map(|c| TokenCacheStats {
            entries: c.len(),
            bytes: c.bytes(),
        })
    }

    /// The same authorizers (same pools, keys and responses) with one policy for
    /// every request through the layer, replacing any route table. This is the
    /// form for axum's `route_layer` in code-first apps: the router picks the
    /// route, so unknown paths stay 404. See the crate docs, "Per-route policy".
    ///
    /// A policy naming an unknown authorizer refuses every request (and logs a
    /// warning): check names with [`policy_summary`](Self::policy_summary).
    ///
    /// ```
    /// use tower_cognito::{CognitoAuthLayer, RoutePolicy};
    ///
    /// let auth = CognitoAuthLayer::builder().user_pool("us-east-1_AbCdEf123").build().unwrap();
    /// let cats_read = auth.with_policy(RoutePolicy::scopes(["pets/cats.read"]).unwrap());
    /// # drop(cats_read);
    /// ```
    pub fn with_policy(&self, policy: RoutePolicy) -> Self {
        let index = match &policy.authorizer {
            None => Some(self.core.default_authorizer),
            Some(name) => self.core.authorizer_index(name),
        };
        let rule = match index {
            Some(authorizer) => Rule {
                authorizer,
                requirement: policy.requirement,
            },
            None => {
                tracing::warn!(
                    authorizer = policy.authorizer.as_deref().unwrap_or(""),
                    "policy names an unknown authorizer; every request will be refused"
                );
                Rule {
                    authorizer: self.core.default_authorizer,
                    requirement: Requirement::Deny,
                }
            }
        };
        Self {
            core: Arc::clone(&self.core),
            policy: PolicySource::Fixed(rule),
        }
    }

    /// [`with_policy`](Self::with_policy) with an access-token scope list.
    pub fn require_scopes<I, S>(&self, scopes: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Ok(self.with_policy(RoutePolicy::scopes(scopes)?))
    }

    /// [`with_policy`](Self::with_policy) with [`RoutePolicy::identity_token`]:
    /// an ID token of the default authorizer (API Gateway: a method with the
    /// authorizer and no OAuth scopes).
    pub fn require_identity_token(&self) -> Self {
        self.with_policy(RoutePolicy::identity_token())
    }

    /// The route of the policy table that a request with this method and raw
    /// path (no query string) matches, as the layer adds it to the request's
    /// extensions. `None` without a table or when no route matches.
    pub fn route_for(&self, method: &Method, path: &str) -> Option<&MatchedRoute> {
        match &self.policy {
            PolicySource::Table(t) => t.route_for(method, path),
            PolicySource::Fixed(_) => None,
        }
    }

    /// The path parameter values a request with this method and raw path (no
    /// query string) gets, as the layer adds them to the request's extensions
    /// beside its [`MatchedRoute`]: for a service that routes with the layer's
    /// table without running the layer (an authorizer switched off).
    /// `None` without a table or when no route matches.
    ///
    /// ```
    /// use http::Method;
    /// use tower_cognito::{CognitoAuthLayer, RoutePolicy};
    ///
    /// let layer = CognitoAuthLayer::builder()
    ///     .user_pool("us-east-1_AbCdEf123")
    ///     .route("GET", "/pets/{petId}", RoutePolicy::public())
    ///     .build()
    ///     .unwrap();
    /// let params = layer.path_params_for(&Method::GET, "/pets/7").unwrap();
    /// assert_eq!(params.get("petId"), Some("7"));
    /// assert!(layer.path_params_for(&Method::GET, "/cats/7").is_none());
    /// ```
    pub fn path_params_for(&self, method: &Method, path: &str) -> Option<PathParams> {
        match &self.policy {
            PolicySource::Table(t) => t.path_params_for(method, path),
            PolicySource::Fixed(_) => None,
        }
    }

    /// [`route_for`](Self::route_for) and
    /// [`path_params_for`](Self::path_params_for) from one lookup of the
    /// table: what a service that routes with the layer's table without
    /// running the layer puts in a request's extensions.
    ///
    /// ```
    /// use http::Method;
    /// use tower_cognito::{CognitoAuthLayer, RoutePolicy};
    ///
    /// let layer = CognitoAuthLayer::builder()
    ///     .user_pool("us-east-1_AbCdEf123")
    ///     .route("GET", "/files/{proxy+}", RoutePolicy::public())
    ///     .build()
    ///     .unwrap();
    /// let (route, params) = layer
    ///     .route_and_params_for(&Method::GET, "/files/a/b.txt")
    ///     .unwrap();
    /// assert_eq!(route.template(), "/files/{proxy+}");
    /// assert_eq!(params.get("proxy"), Some("a/b.txt"));
    /// assert!(layer.route_and_params_for(&Method::POST, "/files/a").is_none());
    /// ```
    pub fn route_and_params_for(
        &self,
        method: &Method,
        path: &str,
    ) -> Option<(&MatchedRoute, PathParams)> {
        match &self.policy {
            PolicySource::Table(t) => t.route_and_params_for(method, path),
            PolicySource::Fixed(_) => None,
        }
    }

    /// What this layer enforces: each authorizer with its token header, Token
    /// validation and pools (issuer and JWKS URL), each route of the table and
    /// the import's warnings. Meant for startup logs.
    pub fn policy_summary(&self) -> PolicySummary {
        let status = self.core.keys.status();
        let mut authorizers: Vec<AuthorizerSummary> = self
            .core
            .authorizers
            .iter()
            .enumerate()
            .map(|(i, a)| AuthorizerSummary {
                name: a.name.to_string(),
                is_default: i == self.core.default_authorizer,
                token_header: a.header.as_str().to_owned(),
                token_validation: a.token_validation_source.as_deref().map(str::to_owned),
                pools: a
                    .slots
                    .iter()
                    .filter_map(|&slot| status.pools.get(slot))
                    .map(|p| PoolSummary {
                        pool_id: p.pool_id.clone(),
                        issuer: p.issuer.clone(),
                        jwks_url: p.jwks_url.clone(),
                    })
                    .collect(),
            })
            .collect();
        // Stable: the others keep their order.
        authorizers.sort_by_key(|a| !a.is_default);
        let (routes, unlisted) = match &self.policy {
            PolicySource::Table(t) => (t.summary.clone(), Some(t.unlisted_kind)),
            PolicySource::Fixed(_) => (Vec::new(), None),
        };
        PolicySummary {
            authorizers,
            routes,
            unlisted,
            warnings: self.core.warnings.clone(),
        }
    }
}

impl<S> Layer<S> for CognitoAuthLayer {
    type Service = CognitoAuth<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CognitoAuth::new(inner, self.clone())
    }
}
