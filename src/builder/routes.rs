//! The builder's route table: routes, gRPC methods and services, unlisted
//! routes, and OpenAPI imports.

use super::CognitoAuthBuilder;
use crate::error::ConfigError;
use crate::policy::RoutePolicy;
use crate::route_table::MethodMatch;
use crate::routes::UnlistedRoutes;
use http::Method;

impl CognitoAuthBuilder {
    /// Adds a route to the policy table: `method` is an HTTP method (`GET`,
    /// compared exactly; `HEAD` is not `GET`) or `ANY` for every method without
    /// a route of its own on the same path. `template` is an API Gateway /
    /// OpenAPI path template: `/pets/{petId}` (one segment), `/{proxy+}`
    /// (greedy, one or more segments, last only).
    ///
    /// Matching is case-sensitive, escapes of unreserved characters decoded;
    /// one trailing slash ignored; static beats a parameter, beats a greedy one.
    /// A path whose resource has no route for the method (nor `ANY`) gets
    /// the greedy route that covers the path and has one, as in API Gateway
    /// (`OPTIONS /test` with only `POST /test` is `OPTIONS /{proxy+}`), else
    /// it is unlisted; see the
    /// [crate docs](crate#policy-and-dispatch-agree-on-the-path).
    pub fn route(mut self, method: &str, template: impl Into<String>, policy: RoutePolicy) -> Self {
        let template = template.into();
        let method = if method == "ANY" {
            MethodMatch::Any
        } else {
            match Method::from_bytes(method.as_bytes()) {
                Ok(m) => MethodMatch::Exact(m),
                Err(_) => {
                    self.fail(ConfigError::InvalidRoute {
                        route: format!("{method} {template}"),
                        reason: "invalid method".into(),
                    });
                    return self;
                }
            }
        };
        self.push_route(method, template, policy, None);
        self
    }

    /// Adds a gRPC method to the policy table by its path,
    /// `/package.Service/Method` (any HTTP method, as gRPC always POSTs). It
    /// beats a [`grpc_service`](Self::grpc_service) entry for its service.
    ///
    /// ```
    /// use tower_cognito::{CognitoAuthLayer, RoutePolicy};
    ///
    /// let auth = CognitoAuthLayer::builder()
    ///     .user_pool("us-east-1_AbCdEf123")
    ///     .grpc_service("grpc.health.v1.Health", RoutePolicy::scopes(["health/read"]).unwrap())
    ///     .grpc_method("/grpc.health.v1.Health/Check", RoutePolicy::public())
    ///     .build()
    ///     .unwrap();
    /// let route = auth.route_for(&http::Method::POST, "/grpc.health.v1.Health/Watch").unwrap();
    /// assert_eq!(route.as_str(), "ANY /grpc.health.v1.Health/{method}");
    /// ```
    pub fn grpc_method(mut self, path: impl Into<String>, policy: RoutePolicy) -> Self {
        let path = path.into();
        let valid = path
            .strip_prefix('/')
            .and_then(|rest| rest.split_once('/'))
            .is_some_and(|(service, method)| valid_grpc_name(service) && valid_grpc_name(method));
        if valid {
            self.push_route(MethodMatch::Any, path, policy, None);
        } else {
            self.fail(ConfigError::InvalidRoute {
                route: path,
                reason: "a gRPC method path has the form /package.Service/Method".into(),
            });
        }
        self
    }

    /// Adds every method of a gRPC service (`package.Service`, no slashes) to
    /// the policy table, as the route `ANY /package.Service/{method}`.
    pub fn grpc_service(mut self, service: impl Into<String>, policy: RoutePolicy) -> Self {
        let service = service.into();
        if valid_grpc_name(&service) {
            self.push_route(
                MethodMatch::Any,
                format!("/{service}/{{method}}"),
                policy,
                None,
            );
        } else {
            self.fail(ConfigError::InvalidRoute {
                route: service,
                reason: "a gRPC service name has the form package.Service".into(),
            });
        }
        self
    }

    /// The policy for requests that match no route of the table (and makes
    /// the layer use a table even without routes). Default
    /// [`UnlistedRoutes::Deny`].
    pub fn unlisted_routes(mut self, policy: UnlistedRoutes) -> Self {
        self.unlisted = policy;
        self.table = true;
        self
    }

    /// Imports an API Gateway OpenAPI export (OpenAPI 3.x or 2.0, JSON or YAML)
    /// as the layer's authorizers and route table; see the [`openapi`](crate::openapi)
    /// module for what is read. Import warnings (root-level `security`, skipped
    /// methods...) are logged with `tracing::warn!` and kept in
    /// [`CognitoAuthLayer::policy_summary`](crate::CognitoAuthLayer::policy_summary).
    /// Methods skipped because of an unsupported authorizer are denied.
    ///
    /// To inspect the import first, parse it yourself with
    /// [`OpenApiImport::parse`](crate::openapi::OpenApiImport::parse) and pass
    /// it to [`openapi_import`](Self::openapi_import).
    ///
    /// ```
    /// use tower_cognito::{openapi::ImportOptions, CognitoAuthLayer};
    ///
    /// let document = r#"{
    ///   "openapi": "3.0.1",
    ///   "components": {"securitySchemes": {"MyUserPool": {
    ///     "type": "apiKey", "name": "Authorization", "in": "header",
    ///     "x-amazon-apigateway-authorizer": {"type": "cognito_user_pools",
    ///       "providerARNs": ["arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbCdEf123"]}}}},
    ///   "paths": {"/pets": {"get": {"security": [{"MyUserPool": []}]}}}
    /// }"#;
    /// let layer = CognitoAuthLayer::builder()
    ///     .openapi(document, &ImportOptions::new())?
    ///     .override_user_pools(["us-east-1_OtHeR9876"])
    ///     .build()?;
    /// let summary = layer.policy_summary();
    /// assert_eq!(summary.authorizers[0].pools[0].pool_id, "us-east-1_OtHeR9876");
    /// assert_eq!(summary.routes[0].to_string(), "GET /pets: identity token (authorizer MyUserPool)");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "openapi")]
    #[cfg_attr(docsrs, doc(cfg(feature = "openapi")))]
    pub fn openapi(
        self,
        document: &str,
        options: &crate::openapi::ImportOptions,
    ) -> Result<Self, crate::openapi::ImportError> {
        let import = crate::openapi::OpenApiImport::parse(document, options)?;
        Ok(self.openapi_import(&import))
    }

    /// Adds an import made with
    /// [`OpenApiImport::parse`](crate::openapi::OpenApiImport::parse); see
    /// [`openapi`](Self::openapi).
    #[cfg(feature = "openapi")]
    #[cfg_attr(docsrs, doc(cfg(feature = "openapi")))]
    pub fn openapi_import(mut self, import: &crate::openapi::OpenApiImport) -> Self {
        use crate::openapi::RouteAuth;
        for w in &import.warnings {
            tracing::warn!(pointer = w.pointer(), "OpenAPI import: {}", w.message());
            self.warnings.push(w.to_string());
        }
        for a in &import.authorizers {
            let mut config = super::AuthorizerConfig::new()
                .user_pools(a.provider_arns.iter().cloned())
                .token_header(a.token_header.clone());
            if let Some(v) = &a.identity_validation_expression {
                config = config.token_validation(v.clone());
            }
            self.authorizers.push((a.name.clone(), config));
        }
        let method_of = |m: &Option<Method>| m.clone().map_or(MethodMatch::Any, MethodMatch::Exact);
        for r in &import.routes {
            let policy = match &r.auth {
                RouteAuth::Public => Ok(RoutePolicy::public()),
                RouteAuth::Authorizer { name, scopes } if scopes.is_empty() => {
                    Ok(RoutePolicy::identity_token().authorizer(name.clone()))
                }
                RouteAuth::Authorizer { name, scopes } => {
                    RoutePolicy::scopes(scopes.iter().cloned()).map(|p| p.authorizer(name.clone()))
                }
            };
            match policy {
                Ok(policy) => self.push_route(
                    method_of(&r.method),
                    r.path.clone(),
                    policy,
                    Some(&r.pointer),
                ),
                Err(e) => self.fail(e),
            }
        }
        // Never public: a method whose authorizer cannot be reproduced is refused.
        for r in &import.skipped {
            self.push_route(
                method_of(&r.method),
                r.path.clone(),
                RoutePolicy::deny(),
                Some(&r.pointer),
            );
        }
        self.table = true;
        self
    }

    fn push_route(
        &mut self,
        method: MethodMatch,
        template: String,
        policy: RoutePolicy,
        source: Option<&str>,
    ) {
        self.routes.push(RouteSpec {
            method,
            template,
            policy,
            source: source.map(str::to_owned),
        });
        self.table = true;
    }
}

/// A gRPC package-qualified service name or a method name.
fn valid_grpc_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// A route waiting for `build`.
#[derive(Debug)]
pub(super) struct RouteSpec {
    pub(super) method: MethodMatch,
    pub(super) template: String,
    pub(super) policy: RoutePolicy,
    /// JSON pointer of an imported operation.
    pub(super) source: Option<String>,
}
