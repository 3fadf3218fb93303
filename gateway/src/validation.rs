//! Request validators: `x-amazon-apigateway-request-validators` and the
//! `x-amazon-apigateway-request-validator` chosen for a method (its own, else
//! the API's), checked as API Gateway checks them before the integration
//! request.
//!
//! - **Parameters** (`validateRequestParameters`): each header, path and
//!   query parameter marked `required: true` (the operation's `parameters`
//!   and its path item's, `$ref` resolved) must be present and not blank.
//!   The answer names the missing ones as AWS does, sorted by their full key
//!   `method.request.{header|path|querystring}.NAME` (headers, then path,
//!   then query), e.g. `Missing required request parameters: [x-header-param,
//!   issuer, qs1]` (LocalStack's `test_api_gateway_request_validator`,
//!   recorded against AWS). A required path parameter the resource path does
//!   not have is always missing, as on AWS.
//! - **Body** (`validateRequestBody`): the body is checked against the model
//!   for its `Content-Type` (OpenAPI 3 `requestBody.content.<type>.schema`,
//!   OpenAPI 2 the `in: body` parameter's `schema` for each of `consumes`,
//!   `$ref` resolved inside the export, AWS's
//!   `https://apigateway.amazonaws.com/restapis/<id>/models/NAME` read as the
//!   export's model `NAME`); a type without a model falls back to `$default`,
//!   then to `application/json` **\[choice\]**: a client cannot skip the
//!   schema by naming another type. An empty body is validated as `{}`, so a
//!   body-less GET on a method with a JSON model fails, as on AWS; a body
//!   that is not JSON fails. A method without models has no body check.
//!   Answer: 400 `{"message": "Invalid request body"}`.
//!
//! Models are JSON Schema draft 4 (API Gateway's dialect), compiled once per
//! deployment by the `jsonschema` crate, identical schemas once. A body is
//! parsed by serde_json into a flat tape rather than a `serde_json::Value`
//! (`body.rs`, about three times cheaper) and decided there: first by the
//! model's plan (`plan.rs`: the common keywords compiled into plain tables,
//! able only to accept), then by the crate, patterns of one ASCII class
//! checked in bulk (`pattern.rs`); the errors of an invalid body are the
//! crate's for the `Value`, so answers are those of the crate on a `Value`
//! (`tests/validation_agreement.rs`, `plan/tests.rs`). Differences from AWS's Java
//! validator:
//! - `pattern` runs on Rust's `regex` engine, linear in the input, not
//!   Java's backtracking `java.util.regex`: lookaround, backreferences and
//!   possessive quantifiers do not compile, and such a model stops startup
//!   naming the operation. Patterns are read as ECMA 262 (the crate's
//!   translation): `\d` and `\w` are ASCII, as in Java, but `\s` also
//!   matches Unicode spaces (U+3000), ASCII-only in Java by default.
//! - `$context.error.validationErrorString` holds the crate's messages in
//!   brackets (`["a" is a required property]`), not the Java library's
//!   wording (`[object has missing required properties (["a"])]`)
//!   **\[choice\]**.

use std::collections::HashMap;

use http::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

mod body;
mod models;
mod pattern;
mod plan;

pub use self::body::ParsedBody;
use self::body::{NodeRef, Parsed};
use self::models::{body_schemas, resolve};
pub use self::models::{Model, Models};

/// Why a request failed its validator.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Invalid {
    /// Required parameters missing or blank: their names, in AWS's order.
    Parameters(Vec<String>),
    /// The body does not match its model: the validation errors.
    Body(Vec<String>),
}

impl Invalid {
    /// `$context.error.message`: `Missing required request parameters: [a, b]`
    /// or `Invalid request body`.
    pub fn message(&self) -> String {
        match self {
            Invalid::Parameters(names) => {
                format!(
                    "Missing required request parameters: [{}]",
                    names.join(", ")
                )
            }
            Invalid::Body(_) => "Invalid request body".to_owned(),
        }
    }

    /// `$context.error.validationErrorString`: the errors in brackets.
    pub fn validation_error_string(&self) -> String {
        match self {
            Invalid::Parameters(_) => self.message(),
            Invalid::Body(errors) => format!("[{}]", errors.join(", ")),
        }
    }
}

/// One method's validator, built once per deployment.
///
/// ```
/// use serde_json::json;
/// use tower_cognito_gateway::validation::{Invalid, Models, RequestValidator};
///
/// let export = json!({
///     "openapi": "3.0.1",
///     "x-amazon-apigateway-request-validators": {
///         "all": {"validateRequestBody": true, "validateRequestParameters": true}
///     },
///     "x-amazon-apigateway-request-validator": "all",
///     "paths": {"/pets/{id}": {"post": {
///         "parameters": [{"name": "x-tenant", "in": "header", "required": true}],
///         "requestBody": {"content": {"application/json": {"schema": {
///             "$ref": "#/components/schemas/Pet"}}}}
///     }}},
///     "components": {"schemas": {"Pet": {
///         "type": "object", "required": ["name"],
///         "properties": {"name": {"type": "string"}}
///     }}}
/// });
/// let mut models = Models::new(&export);
/// let validator = RequestValidator::for_operation(&mut models, "/paths/~1pets~1{id}/post", "/pets/{id}")
///     .unwrap()
///     .expect("the API's default validator applies");
///
/// let headers = http::HeaderMap::new();
/// assert_eq!(
///     validator.check_parameters(&headers, None),
///     Err(Invalid::Parameters(vec!["x-tenant".to_owned()]))
/// );
/// assert!(validator.check_body(None, br#"{"name": "Rex"}"#).is_ok());
/// assert!(matches!(validator.check_body(None, b""), Err(Invalid::Body(_))));
/// ```
#[derive(Debug, Clone)]
pub struct RequestValidator {
    /// The validator's name in the export, for the startup listing.
    name: String,
    /// Required headers, `(lowercase name, as written)`.
    headers: Vec<(HeaderName, String)>,
    /// Required query parameters, case-sensitive.
    query: Vec<String>,
    /// Every required parameter by its full key, sorted: AWS's order.
    keys: Vec<(String, Kind, usize)>,
    /// Required path parameters the resource path lacks: always missing.
    path_missing: Vec<String>,
    /// `None`: no body check. Media type (lowercase) -> model.
    models: Option<Vec<(String, Model)>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Header,
    Path,
    Query,
}

impl RequestValidator {
    /// The validator of the operation at `pointer` (a JSON pointer into the
    /// export, e.g. `/paths/~1pets/post`) whose resource path is `template`:
    /// `Ok(None)` when no validator applies or it validates nothing; `Err`
    /// names what is wrong (an unknown validator, a model that does not
    /// compile, a `$ref` that leads nowhere).
    pub fn for_operation(
        models: &mut Models<'_>,
        pointer: &str,
        template: &str,
    ) -> Result<Option<Self>, String> {
        let document = models.document;
        let operation = document
            .pointer(pointer)
            .ok_or_else(|| format!("no operation at {pointer}"))?;
        let chosen = operation
            .get("x-amazon-apigateway-request-validator")
            .or_else(|| document.get("x-amazon-apigateway-request-validator"));
        let Some(chosen) = chosen else {
            return Ok(None);
        };
        let name = chosen
            .as_str()
            .ok_or("x-amazon-apigateway-request-validator: expected a validator's name")?;
        let settings = document
            .get("x-amazon-apigateway-request-validators")
            .and_then(|all| all.get(name))
            .ok_or_else(|| {
                format!(
                    "request validator {name:?} is not in x-amazon-apigateway-request-validators"
                )
            })?;
        let flag = |key: &str| settings.get(key).and_then(Value::as_bool).unwrap_or(false);
        let (params, body) = (
            flag("validateRequestParameters"),
            flag("validateRequestBody"),
        );
        if !params && !body {
            return Ok(None);
        }
        let mut validator = Self {
            name: name.to_owned(),
            headers: Vec::new(),
            query: Vec::new(),
            keys: Vec::new(),
            path_missing: Vec::new(),
            models: None,
        };
        if params {
            validator.required_parameters(document, pointer, operation, template)?;
        }
        if body {
            let bodies = body_schemas(document, operation)?;
            if !bodies.is_empty() {
                let mut compiled = Vec::with_capacity(bodies.len());
                for (media, schema) in bodies {
                    let model = models
                        .compile(schema)
                        .map_err(|e| format!("requestBody {media}: {e}"))?;
                    compiled.push((media, model));
                }
                validator.models = Some(compiled);
            }
        }
        let nothing = validator.keys.is_empty() && validator.models.is_none();
        Ok((!nothing).then_some(validator))
    }

    fn required_parameters(
        &mut self,
        document: &Value,
        pointer: &str,
        operation: &Value,
        template: &str,
    ) -> Result<(), String> {
        // The path item's parameters, then the operation's (which win).
        let path_item = pointer
            .rsplit_once('/')
            .and_then(|(parent, _)| document.pointer(parent));
        let lists = [
            path_item.and_then(|p| p.get("parameters")),
            operation.get("parameters"),
        ];
        let mut required: HashMap<(String, String), bool> = HashMap::new();
        for list in lists.into_iter().flatten() {
            let list = list.as_array().ok_or("parameters: expected an array")?;
            for param in list {
                let param = resolve(document, param)?;
                let (Some(name), Some(place)) = (
                    param.get("name").and_then(Value::as_str),
                    param.get("in").and_then(Value::as_str),
                ) else {
                    continue;
                };
                let is_required = param.get("required").and_then(Value::as_bool) == Some(true);
                required.insert((place.to_owned(), name.to_owned()), is_required);
            }
        }
        let mut keys: Vec<(String, Kind, String)> = Vec::new();
        for ((place, name), is_required) in required {
            if !is_required {
                continue;
            }
            let (kind, key) = match place.as_str() {
                "header" => (Kind::Header, "header"),
                "path" => (Kind::Path, "path"),
                "query" => (Kind::Query, "querystring"),
                _ => continue,
            };
            keys.push((format!("method.request.{key}.{name}"), kind, name));
        }
        keys.sort();
        for (key, kind, name) in keys {
            let index = match kind {
                Kind::Header => {
                    let header = HeaderName::try_from(name.as_str())
                        .map_err(|_| format!("parameter {name:?}: not a header name"))?;
                    self.headers.push((header, name));
                    self.headers.len() - 1
                }
                Kind::Query => {
                    self.query.push(name);
                    self.query.len() - 1
                }
                Kind::Path => {
                    let in_template = template.contains(&format!("{{{name}}}"))
                        || template.contains(&format!("{{{name}+}}"));
                    if in_template {
                        // Route matching guarantees a non-empty segment.
                        continue;
                    }
                    self.path_missing.push(name);
                    self.path_missing.len() - 1
                }
            };
            self.keys.push((key, kind, index));
        }
        Ok(())
    }

    /// The validator's name in the export.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the body is checked (so it must be read whole first).
    pub fn checks_body(&self) -> bool {
        self.models.is_some()
    }

    /// Checks the required parameters against the request's headers and raw
    /// query string (names percent-decoded, case-sensitive).
    pub fn check_parameters(
        &self,
        headers: &HeaderMap,
        query: Option<&str>,
    ) -> Result<(), Invalid> {
        if self.keys.is_empty() {
            return Ok(());
        }
        let mut missing = Vec::new();
        for (_, kind, index) in &self.keys {
            let absent = match kind {
                Kind::Header => {
                    let (header, _) = &self.headers[*index];
                    !headers
                        .get_all(header)
                        .iter()
                        .any(|v| !is_blank(v.as_bytes()))
                }
                Kind::Query => !query_has(query.unwrap_or(""), &self.query[*index]),
                Kind::Path => true,
            };
            if absent {
                let name = match kind {
                    Kind::Header => &self.headers[*index].1,
                    Kind::Query => &self.query[*index],
                    Kind::Path => &self.path_missing[*index],
                };
                missing.push(name.clone());
            }
        }
        if missing.is_empty() {
            Ok(())
        } else {
            Err(Invalid::Parameters(missing))
        }
    }

    /// Checks `body` against the model for `content_type` (none:
    /// `application/json`). Linear in the body: serde_json's parser into a
    /// flat tape ([`ParsedBody`]), then the compiled schema with
    /// linear-time patterns.
    pub fn check_body(
        &self,
        content_type: Option<&HeaderValue>,
        body: &[u8],
    ) -> Result<(), Invalid> {
        match self.model_for(content_type) {
            Some(model) => model.check(&ParsedBody::parse(body)?),
            None => Ok(()),
        }
    }

    /// Checks a body already parsed against the model for `content_type`:
    /// what [`check_body`](Self::check_body) does after parsing.
    ///
    /// ```
    /// # use serde_json::json;
    /// # use tower_cognito_gateway::validation::{Models, ParsedBody, RequestValidator};
    /// let export = json!({
    ///     "openapi": "3.0.1",
    ///     "x-amazon-apigateway-request-validators": {"body": {"validateRequestBody": true}},
    ///     "paths": {"/tags": {"post": {
    ///         "x-amazon-apigateway-request-validator": "body",
    ///         "requestBody": {"content": {"application/json": {"schema": {
    ///             "type": "array", "items": {"type": "string", "pattern": "^[a-z]+$"}}}}}
    ///     }}}
    /// });
    /// let mut models = Models::new(&export);
    /// let validator = RequestValidator::for_operation(&mut models, "/paths/~1tags/post", "/tags")
    ///     .unwrap()
    ///     .unwrap();
    /// let body = ParsedBody::parse(br#"["red", "green"]"#).unwrap();
    /// assert!(validator.check_parsed(None, &body).is_ok());
    /// let body = ParsedBody::parse(br#"["red", "Green"]"#).unwrap();
    /// assert!(validator.check_parsed(None, &body).is_err());
    /// ```
    pub fn check_parsed(
        &self,
        content_type: Option<&HeaderValue>,
        body: &ParsedBody<'_>,
    ) -> Result<(), Invalid> {
        self.model_for(content_type)
            .map_or(Ok(()), |model| model.check(body))
    }

    /// Checks a body parsed into a `serde_json::Value` against the
    /// `application/json` model (or `$default`), with the crate's own
    /// reading of a `Value` (slower than [`check_parsed`](Self::check_parsed)).
    pub fn check_value(&self, instance: &Value) -> Result<(), Invalid> {
        let Some(models) = &self.models else {
            return Ok(());
        };
        let model = models
            .iter()
            .find(|(m, _)| m == "application/json")
            .or_else(|| models.iter().find(|(m, _)| m == "$default"))
            .map(|(_, model)| model);
        model.map_or(Ok(()), |model| model.check_value(instance))
    }

    /// The model for `content_type`; a type without one falls back to
    /// `$default`, then `application/json`.
    fn model_for(&self, content_type: Option<&HeaderValue>) -> Option<&Model> {
        let models = self.models.as_ref()?;
        let media = content_type
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "application/json".to_owned());
        let find = |want: &str| {
            models
                .iter()
                .find(|(m, _)| m == want)
                .map(|(_, model)| model)
        };
        find(&media)
            .or_else(|| find("$default"))
            .or_else(|| find("application/json"))
    }
}

impl Model {
    /// `body` against the model: valid, or its first errors.
    fn check(&self, body: &ParsedBody<'_>) -> Result<(), Invalid> {
        match &body.0 {
            Parsed::Tape { tape, bytes } => {
                // The common case, valid, decided on the tape: by the
                // plan when it can, else by the crate.
                if self
                    .plan
                    .as_ref()
                    .is_some_and(|plan| plan.accepts(tape, bytes.len()))
                    || self.tape.is_valid(NodeRef::new(tape, 0))
                {
                    return Ok(());
                }
                // The errors as the crate words them for the `Value`; the
                // body parsed once already, so it parses again.
                let instance: Value = serde_json::from_slice(bytes)
                    .map_err(|e| Invalid::Body(vec![format!("body is not JSON: {e}")]))?;
                Err(Invalid::Body(self.errors(&instance)))
            }
            Parsed::Value(instance) => self.check_value(instance),
        }
    }

    /// `instance` against the model, read as a `Value`.
    fn check_value(&self, instance: &Value) -> Result<(), Invalid> {
        if self.value.is_valid(instance) {
            return Ok(());
        }
        Err(Invalid::Body(self.errors(instance)))
    }

    fn errors(&self, instance: &Value) -> Vec<String> {
        self.value
            .iter_errors(instance)
            .take(MAX_ERRORS)
            .map(|e| e.to_string())
            .collect()
    }
}

/// Errors kept for `validationErrorString`: enough to say what is wrong,
/// never a copy of a hostile body's every fault.
const MAX_ERRORS: usize = 10;

/// Blank: empty or only spaces and tabs.
fn is_blank(value: &[u8]) -> bool {
    value.iter().all(|b| *b == b' ' || *b == b'\t')
}

/// Whether the raw query has `name` (percent-decoded) with a non-blank value.
fn query_has(query: &str, name: &str) -> bool {
    query.split('&').any(|pair| {
        let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
        percent_encoding::percent_decode_str(n).decode_utf8_lossy() == name
            && !percent_encoding::percent_decode_str(v).all(|b| b == b' ' || b == b'\t')
    })
}

#[cfg(test)]
mod tests;
