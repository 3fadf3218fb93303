//! Building a [`CognitoAuthLayer`].

use crate::authorizer::Authorizer;
use crate::cache::{CacheLimits, TokenCache};
use crate::error::ConfigError;
use crate::keys::{FetchLimits, KeyStore, PoolSpec, StoreSettings};
use crate::layer::{CognitoAuthLayer, Core};
use crate::observe::RequestMetrics;
use crate::policy::{anchored_regex, Checks, Requirement, RoutePolicy, Rule};
use crate::pool::{default_base, UserPool};
use crate::response::Responses;
use crate::route_table::RouteTable;
use crate::routes::{
    MatchedRoute, PolicySource, PolicyTable, RouteSummary, TableEntry, UnlistedRoutes,
};

pub use self::authorizer_config::AuthorizerConfig;
use self::routes::RouteSpec;

mod authorizer_config;
mod routes;
mod settings;
use http::header::HeaderName;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// API Gateway's limit on `providerARNs`.
const MAX_POOLS: usize = 1000;

/// Builder for [`CognitoAuthLayer`]; get one from [`CognitoAuthLayer::builder`].
///
/// Every setting has API Gateway's behaviour as its default; the ones beyond
/// API Gateway are opt-in. Errors are reported by [`build`](Self::build), naming
/// the bad value.
///
/// # Authorizers
///
/// [`user_pool`](Self::user_pool), [`token_header`](Self::token_header) and
/// [`token_validation`](Self::token_validation) configure the authorizer named
/// `default`. More can be added by name with [`authorizer`](Self::authorizer),
/// and an OpenAPI import adds one per Cognito security scheme. Policies that
/// name no authorizer use the default one: `default` when
/// [`user_pool`](Self::user_pool) was given, else the one named with
/// [`default_authorizer`](Self::default_authorizer), else the first added (for
/// an import, the first scheme by name). All pools share one key store.
///
/// # Routes
///
/// Without routes, every request gets one [`policy`](Self::policy). With
/// [`route`](Self::route), [`grpc_method`](Self::grpc_method),
/// [`grpc_service`](Self::grpc_service), [`unlisted_routes`](Self::unlisted_routes)
/// or an OpenAPI import, the layer looks each request up in a route table
/// instead, and requests matching no route get the
/// [`unlisted_routes`](Self::unlisted_routes) policy (default: deny).
///
/// # Overrides
///
/// [`override_user_pools`](Self::override_user_pools) and
/// [`override_token_validation`](Self::override_token_validation) apply to
/// every authorizer, whatever the order of calls, and win over the document
/// and over [`AuthorizerConfig`]. [`jwks_endpoint`](Self::jwks_endpoint) and
/// [`issuer_endpoint`](Self::issuer_endpoint) apply to every pool. So a
/// program can take an API Gateway export as its configuration and point it
/// at other pools (or a local emulator) from its environment.
#[must_use]
pub struct CognitoAuthBuilder {
    /// The `default` authorizer's pools, token header and Token validation.
    own: AuthorizerConfig,
    jwks_endpoint: Option<String>,
    issuer_endpoint: Option<String>,
    leeway: Duration,
    max_token_len: usize,
    cache: CacheLimits,
    policy: Option<Result<RoutePolicy, ConfigError>>,
    authorizers: Vec<(String, AuthorizerConfig)>,
    default_authorizer: Option<String>,
    override_pools: Option<Vec<String>>,
    override_token_validation: Option<String>,
    routes: Vec<RouteSpec>,
    table: bool,
    unlisted: UnlistedRoutes,
    warnings: Vec<String>,
    /// The first invalid argument, reported by `build`.
    error: Option<ConfigError>,
    client_ids: Option<Vec<String>>,
    groups: Option<Vec<String>>,
    accept_any_token_use: bool,
    revoked: Option<crate::policy::RevocationFn>,
    revocation_list: Option<crate::revocation::RevocationList>,
    refresh_interval: Duration,
    retry_interval: Duration,
    miss_rate_limit: Duration,
    connect_timeout: Duration,
    fetch_timeout: Duration,
    max_jwks_bytes: usize,
    inline_jwks: Vec<(String, String)>,
    responses: Responses,
}

impl std::fmt::Debug for CognitoAuthBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CognitoAuthBuilder")
            .field("pools", &self.own.pools)
            .field("token_header", &self.own.token_header)
            .field("authorizers", &self.authorizers)
            .field("routes", &self.routes.len())
            .finish_non_exhaustive()
    }
}

impl Default for CognitoAuthBuilder {
    fn default() -> Self {
        Self {
            own: AuthorizerConfig::new(),
            jwks_endpoint: None,
            issuer_endpoint: None,
            leeway: Duration::ZERO,
            max_token_len: 8 * 1024,
            cache: CacheLimits {
                max_entries: 10_000,
                max_bytes: 64 * 1024 * 1024,
            },
            policy: None,
            authorizers: Vec::new(),
            default_authorizer: None,
            override_pools: None,
            override_token_validation: None,
            routes: Vec::new(),
            table: false,
            unlisted: UnlistedRoutes::Deny,
            warnings: Vec::new(),
            error: None,
            client_ids: None,
            groups: None,
            accept_any_token_use: false,
            revoked: None,
            revocation_list: None,
            refresh_interval: Duration::from_secs(3600),
            retry_interval: Duration::from_secs(10),
            miss_rate_limit: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(2),
            fetch_timeout: Duration::from_secs(5),
            max_jwks_bytes: 64 * 1024,
            inline_jwks: Vec::new(),
            responses: Responses::default(),
        }
    }
}

fn validate_endpoint(value: &str) -> Result<String, ConfigError> {
    let invalid = |reason| ConfigError::InvalidEndpoint {
        value: value.to_owned(),
        reason,
    };
    let trimmed = value.trim_end_matches('/');
    let uri: http::Uri = trimmed.parse().map_err(|_| invalid("not a URL"))?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        _ => return Err(invalid("the scheme must be http or https")),
    }
    if uri.authority().is_none() {
        return Err(invalid("a host is required"));
    }
    if uri.query().is_some() || trimmed.contains('#') {
        return Err(invalid("a base URL takes no query or fragment"));
    }
    Ok(trimmed.to_owned())
}

impl CognitoAuthBuilder {
    fn fail(&mut self, error: ConfigError) {
        self.error.get_or_insert(error);
    }

    /// Checks the configuration and builds the layer.
    ///
    /// Inside a Tokio runtime this starts the background key refresh; outside
    /// one, it starts with the first request. Keys are not awaited here: see
    /// [`KeyStore::load`].
    pub fn build(self) -> Result<CognitoAuthLayer, ConfigError> {
        crate::crypto::install_jsonwebtoken_provider();
        if let Some(error) = self.error {
            return Err(error);
        }
        let jwks_base = self
            .jwks_endpoint
            .as_deref()
            .map(validate_endpoint)
            .transpose()?;
        let issuer_base = self
            .issuer_endpoint
            .as_deref()
            .map(validate_endpoint)
            .transpose()?;
        let lenient = jwks_base.is_some() || issuer_base.is_some();

        // Authorizer definitions: `default` (builder-level settings), then named.
        let mut defs: Vec<(String, AuthorizerConfig)> = Vec::new();
        if !self.own.pools.is_empty() || self.authorizers.is_empty() {
            defs.push((DEFAULT_AUTHORIZER.to_owned(), self.own));
        } else if self.own.token_header.is_some() || self.own.token_validation.is_some() {
            return Err(ConfigError::Other(
                "token_header and token_validation configure the authorizer given with \
                 user_pool, and none was given; use AuthorizerConfig for named authorizers \
                 or override_token_validation for every authorizer"
                    .into(),
            ));
        }
        for (name, config) in self.authorizers {
            if defs.iter().any(|(n, _)| *n == name) {
                return Err(ConfigError::Other(format!(
                    "authorizer {name:?} is defined twice"
                )));
            }
            defs.push((name, config));
        }
        if let Some(pools) = &self.override_pools {
            for (_, config) in &mut defs {
                config.pools.clone_from(pools);
            }
        }
        if let Some(expression) = &self.override_token_validation {
            for (_, config) in &mut defs {
                config.token_validation = Some(expression.clone()).filter(|e| !e.is_empty());
            }
        }
        let default_authorizer = match &self.default_authorizer {
            Some(name) => defs
                .iter()
                .position(|(n, _)| n == name)
                .ok_or_else(|| ConfigError::UnknownAuthorizer(name.clone()))?,
            None => 0,
        };

        // Every pool once in the key store; each authorizer maps its issuers.
        let mut specs: Vec<PoolSpec> = Vec::new();
        let mut by_given: HashMap<String, Box<str>> = HashMap::new();
        let checks = Checks {
            token_validation: None,
            client_ids: self
                .client_ids
                .map(|ids| ids.into_iter().map(String::into_boxed_str).collect()),
            groups: self
                .groups
                .map(|g| g.into_iter().map(String::into_boxed_str).collect()),
            accept_any_token_use: self.accept_any_token_use,
            revoked: self.revoked,
            revocation_list: self.revocation_list,
        };
        let leeway = i64::try_from(self.leeway.as_secs()).unwrap_or(i64::MAX / 4);
        let mut authorizers = Vec::with_capacity(defs.len());
        for (name, config) in defs {
            if config.pools.is_empty() {
                return Err(ConfigError::NoUserPools);
            }
            if config.pools.len() > MAX_POOLS {
                return Err(ConfigError::TooManyUserPools(config.pools.len()));
            }
            let header_text = config.token_header.as_deref().unwrap_or("Authorization");
            let header = HeaderName::try_from(header_text)
                .map_err(|_| ConfigError::InvalidHeaderName(header_text.to_owned()))?;
            let mut issuers = HashMap::with_capacity(config.pools.len());
            let mut slots = Vec::with_capacity(config.pools.len());
            for given in &config.pools {
                let pool = UserPool::parse(given, lenient)?;
                by_given.insert(given.clone(), pool.id.clone());
                let slot = match specs.iter().position(|s| s.pool_id == pool.id) {
                    Some(slot) => slot,
                    None => {
                        let base = |over: &Option<String>| {
                            over.clone().unwrap_or_else(|| default_base(&pool.region))
                        };
                        let issuer = format!("{}/{}", base(&issuer_base), pool.id);
                        let jwks_url =
                            format!("{}/{}/.well-known/jwks.json", base(&jwks_base), pool.id);
                        specs.push(PoolSpec {
                            pool_id: pool.id,
                            issuer: issuer.into(),
                            jwks_url: jwks_url.into(),
                        });
                        specs.len() - 1
                    }
                };
                if !slots.contains(&slot) {
                    slots.push(slot);
                    issuers.insert(specs[slot].issuer.clone(), slot);
                }
            }
            let token_validation = config
                .token_validation
                .as_deref()
                .map(anchored_regex)
                .transpose()?;
            authorizers.push(Authorizer {
                metrics: RequestMetrics::new(Some(&name)),
                name: name.into(),
                slots: slots.into(),
                token_validation_source: config.token_validation.map(String::into_boxed_str),
                header,
                max_token_len: self.max_token_len,
                issuers,
                leeway,
                checks: Checks {
                    token_validation,
                    ..checks.clone()
                },
            });
        }

        let keys = KeyStore::new(
            specs,
            StoreSettings {
                refresh_interval: self.refresh_interval,
                retry_interval: self.retry_interval,
                miss_rate_limit: self.miss_rate_limit,
                limits: FetchLimits {
                    connect_timeout: self.connect_timeout,
                    timeout: self.fetch_timeout,
                    max_bytes: self.max_jwks_bytes,
                },
            },
        )?;
        for (given, doc) in &self.inline_jwks {
            let id = match by_given.get(given.as_str()) {
                Some(id) => id.to_string(),
                None => UserPool::parse(given, lenient)
                    .map(|p| p.id.to_string())
                    .unwrap_or_else(|_| given.clone()),
            };
            keys.insert_jwks(&id, doc)?;
        }
        keys.ensure_started();

        let rule_for = |policy: &RoutePolicy| -> Result<Rule, ConfigError> {
            let authorizer = match &policy.authorizer {
                None => default_authorizer,
                Some(name) => authorizers
                    .iter()
                    .position(|a| *a.name == **name)
                    .ok_or_else(|| ConfigError::UnknownAuthorizer(name.to_string()))?,
            };
            Ok(Rule {
                authorizer,
                requirement: policy.requirement.clone(),
            })
        };
        let policy = if self.table {
            if self.policy.is_some() {
                return Err(ConfigError::Other(
                    "policy() and scopes() set one policy for every request; a layer with \
                     routes uses unlisted_routes() for requests that match none"
                        .into(),
                ));
            }
            let mut table = RouteTable::builder();
            let mut summary = Vec::with_capacity(self.routes.len());
            for spec in self.routes {
                let rule = rule_for(&spec.policy)?;
                let route = MatchedRoute::new(&spec.method.to_string(), &spec.template);
                let shown = match &spec.source {
                    Some(pointer) => format!("{route} (at {pointer})"),
                    None => route.to_string(),
                };
                let mut policy = spec.policy;
                if matches!(
                    rule.requirement,
                    Requirement::Identity | Requirement::Scopes(_)
                ) {
                    policy = policy.authorizer(authorizers[rule.authorizer].name.to_string());
                }
                table
                    .insert(
                        spec.method,
                        &spec.template,
                        TableEntry {
                            rule,
                            route: route.clone(),
                        },
                    )
                    .map_err(|e| ConfigError::InvalidRoute {
                        route: shown,
                        reason: e.to_string(),
                    })?;
                summary.push(RouteSummary {
                    route,
                    policy,
                    source: spec.source,
                });
            }
            let requirement = match self.unlisted {
                UnlistedRoutes::Deny => Requirement::Deny,
                UnlistedRoutes::Public => Requirement::Public,
                UnlistedRoutes::IdentityToken => Requirement::Identity,
            };
            PolicySource::Table(Arc::new(PolicyTable {
                table: table.build(),
                unlisted: Rule {
                    authorizer: default_authorizer,
                    requirement,
                },
                unlisted_kind: self.unlisted,
                summary,
            }))
        } else {
            let policy = self
                .policy
                .unwrap_or_else(|| Ok(RoutePolicy::identity_token()))?;
            PolicySource::Fixed(rule_for(&policy)?)
        };

        let core = Core {
            cache: TokenCache::new(self.cache),
            authorizers: authorizers.into(),
            default_authorizer,
            keys,
            responses: self.responses,
            warnings: self.warnings,
            route_metrics: RequestMetrics::new(None),
        };
        Ok(CognitoAuthLayer::from_parts(Arc::new(core), policy))
    }
}

/// The name of the authorizer configured with the builder's own settings.
const DEFAULT_AUTHORIZER: &str = "default";
