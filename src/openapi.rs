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
//! The import is bounded (document size, YAML nodes with aliases expanded, YAML
//! flow nesting; see [`OpenApiImport::parse`]), so reloading a document cannot
//! take the process down.
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

#[cfg(test)]
use self::json::child;
#[cfg(test)]
use self::scheme::{check_user_pool_arn, substitute_stage_variables, MAX_PROVIDER_ARNS};
#[cfg(test)]
use serde_json::Value;

mod auth_type;
mod import;
mod json;
mod lambda_scheme;
mod load;
mod scheme;

pub use lambda_scheme::ImportedLambdaAuthorizer;

/// The result of importing an OpenAPI document.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OpenApiImport {
    /// Every Cognito user pool authorizer defined in the document, used or not,
    /// sorted by name.
    pub authorizers: Vec<ImportedAuthorizer>,
    /// Every Lambda (`token`, `request`) authorizer defined in the document,
    /// sorted by name. Methods naming one are in [`skipped`](Self::skipped):
    /// see [`ImportedLambdaAuthorizer`].
    pub lambda_authorizers: Vec<ImportedLambdaAuthorizer>,
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
        import::Importer::new(options).import(&value)
    }
}

/// Refuses YAML text whose flow collections (`[...]`, `{...}`) nest deeper
/// than 128 levels, before a YAML parser reads it: `serde_norway` loads every
/// event of a document before its own depth limit can fire, so a small text
/// of `[[[[...` costs much. The guard [`OpenApiImport::parse`] runs, for
/// callers that read other YAML documents (a CloudFormation template, say)
/// with the same bound.
///
/// ```
/// use tower_cognito::openapi::check_yaml_flow_depth;
///
/// assert!(check_yaml_flow_depth("a: [1, {b: [2]}]").is_ok());
/// let deep = "[".repeat(129) + &"]".repeat(129);
/// assert!(check_yaml_flow_depth(&deep).is_err());
/// ```
pub fn check_yaml_flow_depth(text: &str) -> Result<(), ImportError> {
    load::check_flow_depth(text)
}

#[cfg(test)]
mod tests;
