//! The walk over a parsed document: schemes, paths, operations and their
//! authorization.

use std::collections::HashMap;

use http::Method;
use serde_json::{Map, Value};

use super::auth_type::{auth_type, AuthType, AUTH_KEY};
use super::json::{child, expect_object, kind, optional_object};
use super::scheme::describe_scheme;
use super::{ImportError, ImportOptions, ImportWarning, ImportedRoute, OpenApiImport};
use super::{RouteAuth, SkippedRoute};
use crate::route_table;

/// API Gateway's any-method operation key.
const ANY_METHOD_KEY: &str = "x-amazon-apigateway-any-method";
/// Where API keys come from (`HEADER`, `AUTHORIZER`); the layer checks none.
const API_KEY_SOURCE_KEY: &str = "x-amazon-apigateway-api-key-source";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    Swagger2,
    OpenApi3,
}

/// A security scheme as far as operations are concerned.
pub(super) enum Scheme {
    Cognito,
    /// Not a Cognito authorizer; the text says what it is.
    Unsupported(String),
}

/// An operation's `security`, resolved.
pub(super) enum Security {
    Route(RouteAuth),
    Skip { scheme: String, reason: String },
}

pub(super) struct Importer<'o> {
    pub(super) options: &'o ImportOptions,
    warnings: Vec<ImportWarning>,
    /// A root-level `x-amazon-apigateway-auth`, for operations without their own.
    root_auth: Option<AuthType>,
}

impl<'o> Importer<'o> {
    pub(super) fn new(options: &'o ImportOptions) -> Self {
        Self {
            options,
            warnings: Vec::new(),
            root_auth: None,
        }
    }
}

impl Importer<'_> {
    pub(super) fn warn(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.warnings.push(ImportWarning {
            pointer: pointer.into(),
            message: message.into(),
        });
    }

    pub(super) fn import(mut self, root: &Value) -> Result<OpenApiImport, ImportError> {
        let root = root.as_object().ok_or_else(|| {
            ImportError::new("", format!("expected an object, found {}", kind(root)))
        })?;
        let version = version(root)?;

        let (schemes_ptr, other_ptr, schemes) = match version {
            Version::OpenApi3 => {
                let components = optional_object(root, "", "components")?;
                let schemes = match components {
                    Some(c) => optional_object(c, "/components", "securitySchemes")?,
                    None => None,
                };
                (
                    "/components/securitySchemes",
                    "/securityDefinitions",
                    schemes,
                )
            }
            Version::Swagger2 => (
                "/securityDefinitions",
                "/components",
                optional_object(root, "", "securityDefinitions")?,
            ),
        };
        if root.contains_key(&other_ptr[1..]) {
            self.warn(
                other_ptr,
                format!(
                    "ignored: security schemes of this OpenAPI version are read from `{schemes_ptr}`"
                ),
            );
        }

        let mut kinds = HashMap::new();
        let mut authorizers = Vec::new();
        let mut lambda_authorizers = Vec::new();
        for (name, scheme) in schemes.into_iter().flatten() {
            let pointer = child(schemes_ptr, name);
            match self.scheme(name, scheme, &pointer)? {
                Some(authorizer) => {
                    authorizers.push(authorizer);
                    kinds.insert(name.as_str(), Scheme::Cognito);
                }
                None => {
                    // A Lambda authorizer: described for the caller to run;
                    // its methods stay skipped here (the Cognito layer cannot).
                    if let Some(obj) = scheme.as_object() {
                        if let Some(lambda) = self.lambda_scheme(name, obj, &pointer)? {
                            lambda_authorizers.push(lambda);
                        }
                    }
                    kinds.insert(name.as_str(), Scheme::Unsupported(describe_scheme(scheme)));
                }
            }
        }

        self.root_auth = auth_type(root.get(AUTH_KEY), &child("", AUTH_KEY))?;
        if let Some(auth) = &self.root_auth {
            let message = format!(
                "root-level `{AUTH_KEY}` type `{}`: applied to every operation with \
                 neither its own nor a `security`, so none of them is public",
                auth.name
            );
            self.warn(auth.pointer.clone(), message);
        }
        if root.contains_key(API_KEY_SOURCE_KEY) {
            self.warn(
                child("", API_KEY_SOURCE_KEY),
                "the layer checks no API keys: methods that require one (a `security` \
                 naming an apiKey scheme) are refused, or skipped and denied",
            );
        }

        if let Some(security) = root.get("security") {
            let non_empty = security.as_array().is_none_or(|a| !a.is_empty());
            if non_empty {
                self.warn(
                    "/security",
                    "ignored: API Gateway ignores root-level `security`; \
                     set `security` on each operation",
                );
            }
        }

        let mut routes = Vec::new();
        let mut skipped = Vec::new();
        match root.get("paths") {
            None => self.warn("", "no `paths`: nothing to import"),
            Some(paths) => {
                let paths = paths.as_object().ok_or_else(|| {
                    ImportError::new(
                        "/paths",
                        format!("expected an object, found {}", kind(paths)),
                    )
                })?;
                for (path, item) in paths {
                    self.path_item(path, item, &kinds, &mut routes, &mut skipped)?;
                }
            }
        }

        // Sorted explicitly: `serde_json::Map` keeps document order instead of
        // sorting when some crate in the build enables `preserve_order`.
        authorizers.sort_by(|a, b| a.name.cmp(&b.name));
        lambda_authorizers.sort_by(|a: &super::ImportedLambdaAuthorizer, b| a.name.cmp(&b.name));
        routes
            .sort_by(|a, b| route_order(&a.path, &a.method).cmp(&route_order(&b.path, &b.method)));
        skipped
            .sort_by(|a, b| route_order(&a.path, &a.method).cmp(&route_order(&b.path, &b.method)));

        Ok(OpenApiImport {
            authorizers,
            lambda_authorizers,
            routes,
            skipped,
            warnings: self.warnings,
        })
    }

    fn path_item(
        &mut self,
        path: &str,
        item: &Value,
        schemes: &HashMap<&str, Scheme>,
        routes: &mut Vec<ImportedRoute>,
        skipped: &mut Vec<SkippedRoute>,
    ) -> Result<(), ImportError> {
        let pointer = child("/paths", path);
        route_table::validate_template(path)
            .map_err(|e| ImportError::new(&pointer, e.to_string()))?;
        let item = expect_object(item, &pointer)?;
        if item.contains_key("$ref") {
            return Err(ImportError::new(
                child(&pointer, "$ref"),
                "`$ref` path items are not supported; inline the operations",
            ));
        }
        let mut any_method_public = false;
        let mut skipped_here = Vec::new();
        for (key, operation) in item {
            let method = match key.as_str() {
                "get" => Some(Method::GET),
                "put" => Some(Method::PUT),
                "post" => Some(Method::POST),
                "delete" => Some(Method::DELETE),
                "options" => Some(Method::OPTIONS),
                "head" => Some(Method::HEAD),
                "patch" => Some(Method::PATCH),
                ANY_METHOD_KEY => None,
                "parameters" | "summary" | "description" | "servers" => continue,
                k if k.starts_with("x-") => continue,
                "trace" => {
                    self.warn(
                        child(&pointer, key),
                        "ignored: API Gateway has no TRACE methods",
                    );
                    continue;
                }
                _ => {
                    self.warn(
                        child(&pointer, key),
                        format!("ignored: `{key}` is not an operation (methods are lower case)"),
                    );
                    continue;
                }
            };
            let op_ptr = child(&pointer, key);
            let operation = expect_object(operation, &op_ptr)?;
            let security = self.security(operation, &op_ptr, schemes)?;
            let own_auth = auth_type(operation.get(AUTH_KEY), &child(&op_ptr, AUTH_KEY))?;
            // The root's type stands in for a missing `security` only: an
            // operation naming its authorizer has chosen it.
            let auth = match (operation.get(AUTH_KEY), &security) {
                (Some(_), _) => own_auth,
                (None, Security::Route(RouteAuth::Public)) => self.root_auth.clone(),
                (None, _) => None,
            };
            match self.with_auth_type(security, auth)? {
                Security::Route(auth) => {
                    any_method_public |= method.is_none() && auth == RouteAuth::Public;
                    routes.push(ImportedRoute {
                        method,
                        path: path.to_owned(),
                        auth,
                        pointer: op_ptr,
                    });
                }
                Security::Skip { scheme, reason } => {
                    self.warn(
                        &op_ptr,
                        format!(
                            "skipped: {reason}, not a Cognito user pool authorizer; the \
                             layer denies this method"
                        ),
                    );
                    skipped_here.push(SkippedRoute {
                        method,
                        path: path.to_owned(),
                        scheme,
                        reason,
                        pointer: op_ptr,
                    });
                }
            }
        }
        if any_method_public {
            for s in skipped_here.iter().filter(|s| s.method.is_some()) {
                self.warn(
                    &s.pointer,
                    "this skipped method would be served by the public \
                     x-amazon-apigateway-any-method of the same path unless it is denied \
                     (the layer denies it)",
                );
            }
        }
        skipped.append(&mut skipped_here);
        Ok(())
    }

    fn security(
        &mut self,
        operation: &Map<String, Value>,
        op_ptr: &str,
        schemes: &HashMap<&str, Scheme>,
    ) -> Result<Security, ImportError> {
        let sec_ptr = child(op_ptr, "security");
        let requirements = match operation.get("security") {
            None => return Ok(Security::Route(RouteAuth::Public)),
            Some(Value::Array(r)) => r,
            Some(other) => {
                return Err(ImportError::new(
                    sec_ptr,
                    format!(
                        "expected an array of security requirements, found {}",
                        kind(other)
                    ),
                ))
            }
        };
        // API Gateway writes an API key next to an authorizer as a second
        // scheme (AND) or requirement (OR): any unsupported scheme among them
        // makes the method one the layer cannot enforce.
        if self.options.skip_unsupported_authorizers {
            let names = requirements
                .iter()
                .filter_map(Value::as_object)
                .flat_map(|r| r.keys());
            for name in names {
                if let Some(Scheme::Unsupported(what)) = schemes.get(name.as_str()) {
                    return Ok(Security::Skip {
                        scheme: name.clone(),
                        reason: format!("security scheme `{name}` is {what}"),
                    });
                }
            }
        }
        let requirement = match requirements.as_slice() {
            [] => return Ok(Security::Route(RouteAuth::Public)),
            [one] => one,
            [_, ..] => {
                return Err(ImportError::new(
                    sec_ptr,
                    format!(
                        "{} alternative security requirements: API Gateway allows one \
                         authorizer per method",
                        requirements.len()
                    ),
                ))
            }
        };
        let req_ptr = child(&sec_ptr, "0");
        let requirement = expect_object(requirement, &req_ptr)?;
        let mut entries = requirement.iter();
        let (name, scopes) = match (entries.next(), entries.next()) {
            (None, _) => {
                self.warn(
                    &req_ptr,
                    "empty security requirement `{}` (anonymous access): the method is public",
                );
                return Ok(Security::Route(RouteAuth::Public));
            }
            (Some(entry), None) => entry,
            (Some(_), Some(_)) => {
                return Err(ImportError::new(
                    req_ptr,
                    format!(
                        "{} security schemes required together: API Gateway allows one \
                         authorizer per method",
                        requirement.len()
                    ),
                ))
            }
        };
        let scopes_ptr = child(&req_ptr, name);
        let Value::Array(scope_values) = scopes else {
            return Err(ImportError::new(
                scopes_ptr,
                format!("expected an array of OAuth scopes, found {}", kind(scopes)),
            ));
        };
        let mut scopes: Vec<String> = Vec::with_capacity(scope_values.len());
        for (i, scope) in scope_values.iter().enumerate() {
            let scope = match scope {
                Value::String(s) if !s.is_empty() && !s.contains(char::is_whitespace) => s,
                _ => {
                    return Err(ImportError::new(
                        child(&scopes_ptr, &i.to_string()),
                        "expected an OAuth scope: a non-empty string without spaces",
                    ))
                }
            };
            if !scopes.contains(scope) {
                scopes.push(scope.clone());
            }
        }
        match schemes.get(name.as_str()) {
            Some(Scheme::Cognito) => Ok(Security::Route(RouteAuth::Authorizer {
                name: name.clone(),
                scopes,
            })),
            Some(Scheme::Unsupported(what)) => {
                if self.options.skip_unsupported_authorizers {
                    Ok(Security::Skip {
                        scheme: name.clone(),
                        reason: format!("security scheme `{name}` is {what}"),
                    })
                } else {
                    Err(ImportError::new(
                        req_ptr,
                        format!(
                            "security scheme `{name}` is {what}, not a Cognito user pool \
                             authorizer (set skip_unsupported_authorizers to leave such \
                             methods out)"
                        ),
                    ))
                }
            }
            None => Err(ImportError::new(
                req_ptr,
                format!("security scheme `{name}` is not defined"),
            )),
        }
    }
}

/// Sort key: path, then method name, with `ANY` last.
fn route_order<'a>(path: &'a str, method: &'a Option<Method>) -> (&'a str, bool, &'a str) {
    match method {
        Some(m) => (path, false, m.as_str()),
        None => (path, true, ""),
    }
}

fn version(root: &Map<String, Value>) -> Result<Version, ImportError> {
    let field = |key: &str| -> Result<Option<&str>, ImportError> {
        match root.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(ImportError::new(
                child("", key),
                format!(
                    "expected the version as a string, found {} (quote it in YAML: \"3.0.1\")",
                    kind(other)
                ),
            )),
        }
    };
    match (field("openapi")?, field("swagger")?) {
        (Some(_), Some(_)) => Err(ImportError::new(
            "",
            "both `openapi` and `swagger` are present",
        )),
        (Some(v), None) if v.starts_with("3.0") || v.starts_with("3.1") => Ok(Version::OpenApi3),
        (Some(v), None) => Err(ImportError::new(
            "/openapi",
            format!("unsupported OpenAPI version `{v}` (expected 3.0.x or 3.1.x)"),
        )),
        (None, Some("2.0")) => Ok(Version::Swagger2),
        (None, Some(v)) => Err(ImportError::new(
            "/swagger",
            format!("unsupported Swagger version `{v}` (expected 2.0)"),
        )),
        (None, None) => Err(ImportError::new(
            "",
            "not an OpenAPI document: neither `openapi` nor `swagger` is present",
        )),
    }
}
