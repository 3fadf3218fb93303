//! Import the Cognito user pool authorizers and per-method authorization of an
//! API Gateway OpenAPI definition (OpenAPI 2.0, 3.0 or 3.1, JSON or YAML), as
//! written by hand or by API Gateway's "Export as OpenAPI + API Gateway
//! extensions".
//!
//! The result is a neutral description: which authorizers exist, and for each
//! `(method, path)` whether it is public or which authorizer (and which OAuth
//! scopes) it requires. Everything the importer rejects is reported as an
//! [`ImportError`] carrying the RFC 6901 JSON pointer of the offending value.
//!
//! What is read, following API Gateway:
//! - Security schemes in `components.securitySchemes` (OpenAPI 3) or
//!   `securityDefinitions` (OpenAPI 2). A scheme whose
//!   `x-amazon-apigateway-authorizer.type` is `cognito_user_pools` is a Cognito
//!   authorizer: `providerARNs` are its user pools, the scheme's `name` is the
//!   header carrying the token (the scheme must be `type: apiKey`, `in: header`),
//!   and `identityValidationExpression` is optional. `x-amazon-apigateway-authtype`
//!   has no functional effect. Enumerated values (`cognito_user_pools`, `apiKey`,
//!   `header`, ...) are compared ASCII case-insensitively **\[choice\]**: AWS's own
//!   tools spell the authorizer type both `cognito_user_pools` (OpenAPI) and
//!   `COGNITO_USER_POOLS` (API, CloudFormation), and accepting a spelling API
//!   Gateway might refuse can only turn an import error into a working import.
//! - `${stageVariables.NAME}` in `providerARNs` is replaced from
//!   [`ImportOptions::stage_variables`]; a variable that is not given is an error.
//! - Operation-level `security`: absent or `[]` means public; `[{"Pool": []}]`
//!   means the identity token of authorizer `Pool`; `[{"Pool": ["a/b", ...]}]`
//!   means an access token carrying any one of the scopes. API Gateway allows one
//!   authorizer per method, so several requirement objects (OR) or several
//!   schemes in one object (AND) are errors. `[{}]` (OpenAPI's "anonymous") is
//!   public, with a warning.
//! - Root-level `security` is ignored, as API Gateway ignores it, with a warning.
//! - Methods `get put post delete options head patch` and
//!   `x-amazon-apigateway-any-method` (`ANY`); `trace` and unknown keys are
//!   ignored with a warning; path-level `parameters`, `summary`, `description`,
//!   `servers` and `x-` extensions are ignored silently. Paths are kept as written
//!   (`/{proxy+}` stays `/{proxy+}`), after checking that they are valid API
//!   Gateway resource paths. `basePath` (2.0) and `servers` (3.x) are ignored: the
//!   paths are matched as the service sees them, without a stage prefix.
//!
//! Methods protected by anything else are errors: a Lambda `token`/`request`
//! authorizer, IAM `awsSigv4`, a plain `apiKey` scheme (an API key, even next
//! to a Cognito scheme), or an `x-amazon-apigateway-auth` whose `type` is not
//! `NONE` (`AWS_IAM`, `CUSTOM`, or `COGNITO_USER_POOLS` without a Cognito scheme
//! in `security`), on the operation or, for operations with neither their own
//! nor a `security`, at the root (with a warning: API Gateway documents it on
//! operations). The
//! layer checks no API keys, so a root-level `x-amazon-apigateway-api-key-source`
//! is warned about. Unless [`ImportOptions::skip_unsupported_authorizers`] is
//! set: then such methods are left out
//! of [`OpenApiImport::routes`], listed in [`OpenApiImport::skipped`] and warned
//! about. **A skipped method never becomes public through the import**:
//! [`CognitoAuthBuilder::openapi`](crate::CognitoAuthBuilder::openapi) adds it
//! to the route table as a denied route, which also beats an
//! `x-amazon-apigateway-any-method` on the same path and a `{proxy+}` above it.
//! Callers building their own table from an import must do the same.
//!
//! Authorizers come out sorted by name and routes by path and method, whatever
//! the document's order, so the JSON and YAML spellings of one document give
//! identical results.
//!
//! # With the layer
//!
//! [`CognitoAuthBuilder::openapi`](crate::CognitoAuthBuilder::openapi) makes a
//! document the layer's whole configuration: one authorizer per Cognito
//! scheme (pools, token header, Token validation), one route per operation,
//! unlisted routes denied. Its overrides replace the document's pools and
//! Token validation for every authorizer.
//!
//! # Example
//!
//! ```
//! use tower_cognito::openapi::{ImportOptions, OpenApiImport, RouteAuth};
//!
//! let doc = r#"
//! openapi: 3.0.1
//! info: { title: pets, version: "1" }
//! components:
//!   securitySchemes:
//!     MyUserPool:
//!       type: apiKey
//!       name: Authorization
//!       in: header
//!       x-amazon-apigateway-authtype: cognito_user_pools
//!       x-amazon-apigateway-authorizer:
//!         type: cognito_user_pools
//!         providerARNs:
//!           - arn:aws:cognito-idp:us-east-1:123456789012:userpool/${stageVariables.pool}
//! paths:
//!   /pets:
//!     get:
//!       security: [{ MyUserPool: ["https://my-petstore-api.example.com/cats.read"] }]
//!   /health:
//!     get: {}
//! "#;
//! let options = ImportOptions::new().stage_variable("pool", "us-east-1_AbCdEf123");
//! let import = OpenApiImport::parse(doc, &options)?;
//!
//! assert_eq!(
//!     import.authorizers[0].provider_arns,
//!     ["arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbCdEf123"]
//! );
//! assert_eq!(import.routes[0].path, "/health");
//! assert_eq!(import.routes[0].auth, RouteAuth::Public);
//! assert_eq!(
//!     import.routes[1].auth,
//!     RouteAuth::Authorizer {
//!         name: "MyUserPool".into(),
//!         scopes: vec!["https://my-petstore-api.example.com/cats.read".into()],
//!     }
//! );
//! # Ok::<(), tower_cognito::openapi::ImportError>(())
//! ```

// YAML crate: `serde_norway`. `serde_yaml` is archived and marked deprecated by
// its author; `serde_yml` was flagged unsound (RUSTSEC-2025-0068) and is now a
// deprecated shim; `serde-saphyr` needs Rust 1.89 (above our MSRV 1.88).
// `serde_norway` is the maintained fork of `serde_yaml` with the same API and a
// 1.71 MSRV; its libyaml port (`unsafe-libyaml-norway`) is maintained with it.

use std::collections::HashMap;
use std::fmt;

use http::Method;
use serde_json::{Map, Value};

use crate::route_table;

mod load;

/// API Gateway's any-method operation key.
const ANY_METHOD_KEY: &str = "x-amazon-apigateway-any-method";
/// Cognito authorizer extension key.
const AUTHORIZER_KEY: &str = "x-amazon-apigateway-authorizer";
/// A method's (or, here, the API's) authorization type: `NONE`, `AWS_IAM`...
const AUTH_KEY: &str = "x-amazon-apigateway-auth";
/// Where API keys come from (`HEADER`, `AUTHORIZER`); the layer checks none.
const API_KEY_SOURCE_KEY: &str = "x-amazon-apigateway-api-key-source";
/// API Gateway allows at most this many user pools per authorizer.
const MAX_PROVIDER_ARNS: usize = 1000;

/// The result of importing an OpenAPI document.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OpenApiImport {
    /// Every Cognito user pool authorizer defined in the document, used or not,
    /// sorted by name.
    pub authorizers: Vec<ImportedAuthorizer>,
    /// Every imported `(method, path)`, sorted by path, then method name, with
    /// any-method routes last on their path.
    pub routes: Vec<ImportedRoute>,
    /// Methods left out because they use an unsupported authorizer (only with
    /// [`ImportOptions::skip_unsupported_authorizers`]). They are not public: see
    /// the [module docs](self).
    pub skipped: Vec<SkippedRoute>,
    /// Things the import ignored that the user may not expect to be ignored.
    pub warnings: Vec<ImportWarning>,
}

/// A `COGNITO_USER_POOLS` authorizer from a security scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImportedAuthorizer {
    /// The security scheme's name, as used in operations' `security`.
    pub name: String,
    /// The header carrying the token (the scheme's `name`, e.g. `Authorization`),
    /// as written.
    pub token_header: String,
    /// User pool ARNs (`providerARNs`), stage variables substituted.
    pub provider_arns: Vec<String>,
    /// The "Token validation" regular expression for the ID token's `aud`, if set
    /// (an empty string counts as unset).
    pub identity_validation_expression: Option<String>,
    /// JSON pointer of the security scheme.
    pub pointer: String,
}

/// One method on one path.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImportedRoute {
    /// The method; `None` for `x-amazon-apigateway-any-method`.
    pub method: Option<Method>,
    /// The path template as written in the document, e.g. `/pets/{petId}`.
    pub path: String,
    /// What the method requires.
    pub auth: RouteAuth,
    /// JSON pointer of the operation.
    pub pointer: String,
}

/// What a method requires from the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteAuth {
    /// No authorization (no `security` on the operation).
    Public,
    /// A token from the named Cognito authorizer's pools.
    Authorizer {
        /// The authorizer's (security scheme's) name.
        name: String,
        /// Empty: an ID token is required. Otherwise an access token whose
        /// `scope` claim contains at least one of these (duplicates removed,
        /// order kept).
        scopes: Vec<String>,
    },
}

/// A method left out of the import because its authorization is not a Cognito
/// user pool authorizer the layer can enforce.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SkippedRoute {
    /// The method; `None` for `x-amazon-apigateway-any-method`.
    pub method: Option<Method>,
    /// The path template as written.
    pub path: String,
    /// The security scheme the operation names; empty when it names none
    /// (protected by `x-amazon-apigateway-auth` alone).
    pub scheme: String,
    /// Why the method is skipped, e.g. "`x-amazon-apigateway-auth` type
    /// `AWS_IAM` is IAM authorization".
    pub reason: String,
    /// JSON pointer of the operation.
    pub pointer: String,
}

/// Settings for [`OpenApiImport::parse`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ImportOptions {
    /// Values for `${stageVariables.NAME}` in `providerARNs`.
    pub stage_variables: HashMap<String, String>,
    /// Leave out (instead of failing on) methods that use a non-Cognito
    /// authorizer. Skipped methods are not made public.
    pub skip_unsupported_authorizers: bool,
    /// Longest document read, in bytes; default 10 MiB.
    pub max_document_bytes: usize,
    /// Most nodes a YAML document may expand to, each use of an alias
    /// counting its whole anchored value again; default 250,000 (a YAML
    /// document of a few megabytes; about 25 MB once parsed). JSON has no
    /// aliases: its size is its bound.
    pub max_yaml_nodes: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            stage_variables: HashMap::new(),
            skip_unsupported_authorizers: false,
            max_document_bytes: 10 * 1024 * 1024,
            max_yaml_nodes: 250_000,
        }
    }
}

impl ImportOptions {
    /// Default options: no stage variables, unsupported authorizers are
    /// errors, documents up to 10 MiB and YAML up to 250,000 nodes.
    ///
    /// ```
    /// use tower_cognito::openapi::{ImportOptions, OpenApiImport};
    ///
    /// let options = ImportOptions::new().max_document_bytes(64);
    /// let long = format!("openapi: 3.0.1\npaths: {{}}\n# {}\n", "x".repeat(64));
    /// let err = OpenApiImport::parse(&long, &options).unwrap_err();
    /// assert!(err.message().contains("max_document_bytes"));
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`ImportOptions::max_document_bytes`].
    #[must_use]
    pub fn max_document_bytes(mut self, bytes: usize) -> Self {
        self.max_document_bytes = bytes;
        self
    }

    /// Sets [`ImportOptions::max_yaml_nodes`].
    #[must_use]
    pub fn max_yaml_nodes(mut self, nodes: usize) -> Self {
        self.max_yaml_nodes = nodes;
        self
    }

    /// Sets one stage variable.
    #[must_use]
    pub fn stage_variable(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.stage_variables.insert(name.into(), value.into());
        self
    }

    /// Sets [`ImportOptions::skip_unsupported_authorizers`].
    #[must_use]
    pub fn skip_unsupported_authorizers(mut self, skip: bool) -> Self {
        self.skip_unsupported_authorizers = skip;
        self
    }
}

/// Why a document could not be imported: a message and the JSON pointer of
/// the offending value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    pointer: String,
    message: String,
}

impl ImportError {
    fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            pointer: pointer.into(),
            message: message.into(),
        }
    }

    /// RFC 6901 JSON pointer of the offending value (`""` for the whole document).
    pub fn pointer(&self) -> &str {
        &self.pointer
    }

    /// What is wrong.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        display_located(f, &self.pointer, &self.message)
    }
}

impl std::error::Error for ImportError {}

/// Something the import ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportWarning {
    pointer: String,
    message: String,
}

impl ImportWarning {
    /// RFC 6901 JSON pointer of the ignored value.
    pub fn pointer(&self) -> &str {
        &self.pointer
    }

    /// What was ignored and why.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ImportWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        display_located(f, &self.pointer, &self.message)
    }
}

/// `{pointer}: {message}`; the root pointer is empty, so it is named instead.
fn display_located(f: &mut fmt::Formatter<'_>, pointer: &str, message: &str) -> fmt::Result {
    if pointer.is_empty() {
        write!(f, "(document root): {message}")
    } else {
        write!(f, "{pointer}: {message}")
    }
}

/// Appends one reference token to a JSON pointer, escaped per RFC 6901.
fn child(pointer: &str, token: &str) -> String {
    let mut out = String::with_capacity(pointer.len() + token.len() + 1);
    out.push_str(pointer);
    out.push('/');
    for c in token.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    Swagger2,
    OpenApi3,
}

/// A security scheme as far as operations are concerned.
enum Scheme {
    Cognito,
    /// Not a Cognito authorizer; the text says what it is.
    Unsupported(String),
}

/// An operation's `security`, resolved.
enum Security {
    Route(RouteAuth),
    Skip { scheme: String, reason: String },
}

/// An `x-amazon-apigateway-auth` type other than `NONE`, and where it is.
#[derive(Clone)]
struct AuthType {
    name: String,
    pointer: String,
}

impl OpenApiImport {
    /// Parses and imports a document. A text that starts with `{` or `[`
    /// (after white space and a byte order mark) is read as JSON only, with no
    /// second try as YAML; anything else is read as YAML. A YAML document
    /// written in flow style (`{openapi: 3.0.1, ...}`) is read as YAML when it
    /// starts with `---`.
    ///
    /// The import is bounded, so a reload cannot take the process down: a
    /// document longer than [`ImportOptions::max_document_bytes`], YAML that
    /// expands (aliases counted each time they are used) to more than
    /// [`ImportOptions::max_yaml_nodes`] nodes, or YAML flow collections
    /// nested deeper than 128 levels, are errors before anything is built.
    pub fn parse(document: &str, options: &ImportOptions) -> Result<Self, ImportError> {
        let value = load::load(document, options)?;
        Importer {
            options,
            warnings: Vec::new(),
            root_auth: None,
        }
        .import(&value)
    }
}

struct Importer<'o> {
    options: &'o ImportOptions,
    warnings: Vec<ImportWarning>,
    /// A root-level `x-amazon-apigateway-auth`, for operations without their own.
    root_auth: Option<AuthType>,
}

impl Importer<'_> {
    fn warn(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.warnings.push(ImportWarning {
            pointer: pointer.into(),
            message: message.into(),
        });
    }

    fn import(mut self, root: &Value) -> Result<OpenApiImport, ImportError> {
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
        for (name, scheme) in schemes.into_iter().flatten() {
            let pointer = child(schemes_ptr, name);
            match self.scheme(name, scheme, &pointer)? {
                Some(authorizer) => {
                    authorizers.push(authorizer);
                    kinds.insert(name.as_str(), Scheme::Cognito);
                }
                None => {
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
        routes
            .sort_by(|a, b| route_order(&a.path, &a.method).cmp(&route_order(&b.path, &b.method)));
        skipped
            .sort_by(|a, b| route_order(&a.path, &a.method).cmp(&route_order(&b.path, &b.method)));

        Ok(OpenApiImport {
            authorizers,
            routes,
            skipped,
            warnings: self.warnings,
        })
    }

    /// Returns the authorizer for a Cognito scheme, `None` for any other scheme.
    fn scheme(
        &mut self,
        name: &str,
        scheme: &Value,
        pointer: &str,
    ) -> Result<Option<ImportedAuthorizer>, ImportError> {
        let obj = expect_object(scheme, pointer)?;
        if obj.contains_key("$ref") {
            return Err(ImportError::new(
                child(pointer, "$ref"),
                "`$ref` security schemes are not supported; inline the scheme",
            ));
        }
        let ext_ptr = child(pointer, AUTHORIZER_KEY);
        let Some(ext) = obj.get(AUTHORIZER_KEY) else {
            let authtype = obj
                .get("x-amazon-apigateway-authtype")
                .and_then(Value::as_str);
            if authtype.is_some_and(|t| t.eq_ignore_ascii_case("cognito_user_pools")) {
                return Err(ImportError::new(
                    pointer,
                    format!(
                        "`x-amazon-apigateway-authtype` is `cognito_user_pools` but \
                         `{AUTHORIZER_KEY}` is missing (it holds the user pools)"
                    ),
                ));
            }
            return Ok(None);
        };
        let ext = expect_object(ext, &ext_ptr)?;
        let ty = required_str(ext, &ext_ptr, "type")?;
        if !ty.eq_ignore_ascii_case("cognito_user_pools") {
            return Ok(None);
        }

        // The token header: an apiKey scheme in a header.
        let scheme_type = required_str(obj, pointer, "type")?;
        if !scheme_type.eq_ignore_ascii_case("apiKey") {
            return Err(ImportError::new(
                child(pointer, "type"),
                format!(
                    "a Cognito authorizer's scheme must have `type: apiKey`, found `{scheme_type}`"
                ),
            ));
        }
        let location = required_str(obj, pointer, "in")?;
        if !location.eq_ignore_ascii_case("header") {
            return Err(ImportError::new(
                child(pointer, "in"),
                format!("a Cognito authorizer's token must come from a header (`in: header`), found `{location}`"),
            ));
        }
        let header = required_str(obj, pointer, "name")?;
        if http::HeaderName::from_bytes(header.as_bytes()).is_err() {
            return Err(ImportError::new(
                child(pointer, "name"),
                format!("`{header}` is not a valid HTTP header name"),
            ));
        }

        let arns_ptr = child(&ext_ptr, "providerARNs");
        let arns = match ext.get("providerARNs") {
            None => {
                return Err(ImportError::new(
                    &ext_ptr,
                    "missing `providerARNs` (the authorizer's user pool ARNs)",
                ))
            }
            Some(Value::Array(arns)) => arns,
            Some(other) => {
                return Err(ImportError::new(
                    arns_ptr,
                    format!("expected an array of user pool ARNs, found {}", kind(other)),
                ))
            }
        };
        if arns.is_empty() || arns.len() > MAX_PROVIDER_ARNS {
            return Err(ImportError::new(
                arns_ptr,
                format!(
                    "an authorizer needs 1 to {MAX_PROVIDER_ARNS} user pool ARNs, found {}",
                    arns.len()
                ),
            ));
        }
        let mut provider_arns = Vec::with_capacity(arns.len());
        for (i, arn) in arns.iter().enumerate() {
            let arn_ptr = child(&arns_ptr, &i.to_string());
            let Some(arn) = arn.as_str() else {
                return Err(ImportError::new(
                    arn_ptr,
                    format!("expected a user pool ARN string, found {}", kind(arn)),
                ));
            };
            let arn = substitute_stage_variables(arn, &self.options.stage_variables, &arn_ptr)?;
            check_user_pool_arn(&arn, &arn_ptr)?;
            provider_arns.push(arn);
        }

        let identity_validation_expression = match ext.get("identityValidationExpression") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.is_empty() => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                return Err(ImportError::new(
                    child(&ext_ptr, "identityValidationExpression"),
                    format!("expected a string, found {}", kind(other)),
                ))
            }
        };
        if ext.contains_key("identitySource") {
            self.warn(
                child(&ext_ptr, "identitySource"),
                "ignored: a Cognito authorizer reads the token from the header in the scheme's `name`",
            );
        }

        Ok(Some(ImportedAuthorizer {
            name: name.to_owned(),
            token_header: header.to_owned(),
            provider_arns,
            identity_validation_expression,
            pointer: pointer.to_owned(),
        }))
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

impl Importer<'_> {
    /// Applies an `x-amazon-apigateway-auth` type to a resolved `security`:
    /// `NONE` (or none) changes nothing; `COGNITO_USER_POOLS` needs a Cognito
    /// scheme in `security` (the pools are there); any other type (`AWS_IAM`,
    /// `CUSTOM`...) is an authorization the layer cannot enforce, so the
    /// method is never public: an error, or skipped and denied.
    fn with_auth_type(
        &self,
        security: Security,
        auth: Option<AuthType>,
    ) -> Result<Security, ImportError> {
        let Some(auth) = auth else {
            return Ok(security);
        };
        let cognito = auth.name.eq_ignore_ascii_case("COGNITO_USER_POOLS");
        let scheme = match security {
            Security::Skip { .. } => return Ok(security),
            Security::Route(RouteAuth::Authorizer { .. }) if cognito => return Ok(security),
            Security::Route(RouteAuth::Authorizer { name, .. }) => name,
            Security::Route(RouteAuth::Public) => String::new(),
        };
        let what = if cognito {
            "has no Cognito scheme in `security` to name its user pools"
        } else if auth.name.eq_ignore_ascii_case("AWS_IAM") {
            "is IAM authorization"
        } else if auth.name.eq_ignore_ascii_case("CUSTOM") {
            "is a Lambda authorizer"
        } else {
            "is an authorization type the layer does not know"
        };
        let place = if auth.pointer.starts_with("/paths/") {
            ""
        } else {
            "root-level "
        };
        let reason = format!("{place}`{AUTH_KEY}` type `{}` {what}", auth.name);
        if self.options.skip_unsupported_authorizers {
            return Ok(Security::Skip { scheme, reason });
        }
        Err(ImportError::new(
            auth.pointer,
            format!(
                "{reason}, not a Cognito user pool authorizer (set \
                 skip_unsupported_authorizers to leave such methods out)"
            ),
        ))
    }
}

/// Reads an `x-amazon-apigateway-auth` value: `None` when absent or `NONE`.
fn auth_type(value: Option<&Value>, pointer: &str) -> Result<Option<AuthType>, ImportError> {
    let Some(value) = value else {
        return Ok(None);
    };
    let obj = expect_object(value, pointer)?;
    let name = required_str(obj, pointer, "type")?;
    if name.eq_ignore_ascii_case("NONE") {
        return Ok(None);
    }
    Ok(Some(AuthType {
        name: name.to_owned(),
        pointer: pointer.to_owned(),
    }))
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

/// Replaces every `${stageVariables.NAME}`; values are not scanned again.
fn substitute_stage_variables(
    text: &str,
    variables: &HashMap<String, String>,
    pointer: &str,
) -> Result<String, ImportError> {
    const OPEN: &str = "${stageVariables.";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        out.push_str(&rest[..start]);
        let after = &rest[start + OPEN.len()..];
        let Some(end) = after.find('}') else {
            return Err(ImportError::new(
                pointer,
                "unterminated `${stageVariables.` reference",
            ));
        };
        let name = &after[..end];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(ImportError::new(
                pointer,
                format!("invalid stage variable name `{name}`"),
            ));
        }
        let Some(value) = variables.get(name) else {
            return Err(ImportError::new(
                pointer,
                format!("stage variable `{name}` is not set (ImportOptions::stage_variables)"),
            ));
        };
        out.push_str(value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Shape check only (`arn:{partition}:cognito-idp:{region}:{account}:userpool/{id}`);
/// the layer's configuration validates pool IDs further.
fn check_user_pool_arn(arn: &str, pointer: &str) -> Result<(), ImportError> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = match parts.as_slice() {
        ["arn", partition, "cognito-idp", region, account, resource] => {
            !partition.is_empty()
                && !region.is_empty()
                && !account.is_empty()
                && resource
                    .strip_prefix("userpool/")
                    .is_some_and(|id| !id.is_empty() && !id.contains(['/', ':']))
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(ImportError::new(
            pointer,
            format!(
                "`{arn}` is not a user pool ARN \
                 (arn:aws:cognito-idp:{{region}}:{{account}}:userpool/{{userPoolId}})"
            ),
        ))
    }
}

/// Names a non-Cognito scheme for error messages.
fn describe_scheme(scheme: &Value) -> String {
    let ext_type = scheme
        .get(AUTHORIZER_KEY)
        .and_then(|e| e.get("type"))
        .and_then(Value::as_str);
    let authtype = scheme
        .get("x-amazon-apigateway-authtype")
        .and_then(Value::as_str);
    match (ext_type, authtype) {
        (Some(t), _) if t.eq_ignore_ascii_case("token") || t.eq_ignore_ascii_case("request") => {
            format!("a Lambda authorizer (type `{t}`)")
        }
        (Some(t), _) => format!("an authorizer of type `{t}`"),
        (None, Some(a)) if a.eq_ignore_ascii_case("awsSigv4") => {
            "IAM authorization (awsSigv4)".into()
        }
        _ => match scheme.get("type").and_then(Value::as_str) {
            Some(t) => format!("a plain `{t}` scheme without `{AUTHORIZER_KEY}`"),
            None => format!("a scheme without `{AUTHORIZER_KEY}`"),
        },
    }
}

fn expect_object<'v>(
    value: &'v Value,
    pointer: &str,
) -> Result<&'v Map<String, Value>, ImportError> {
    value.as_object().ok_or_else(|| {
        ImportError::new(
            pointer,
            format!("expected an object, found {}", kind(value)),
        )
    })
}

fn optional_object<'v>(
    parent: &'v Map<String, Value>,
    parent_ptr: &str,
    key: &str,
) -> Result<Option<&'v Map<String, Value>>, ImportError> {
    parent
        .get(key)
        .map(|v| expect_object(v, &child(parent_ptr, key)))
        .transpose()
}

fn required_str<'v>(
    parent: &'v Map<String, Value>,
    parent_ptr: &str,
    key: &str,
) -> Result<&'v str, ImportError> {
    match parent.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(Value::String(_)) => Err(ImportError::new(
            child(parent_ptr, key),
            format!("`{key}` must not be empty"),
        )),
        Some(other) => Err(ImportError::new(
            child(parent_ptr, key),
            format!("expected a string, found {}", kind(other)),
        )),
        None => Err(ImportError::new(parent_ptr, format!("missing `{key}`"))),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests;
