//! SAM's `AWS::Serverless::Api`, explicit or implicit, as the API Gateway
//! definition SAM's transform deploys (`samtranslator`'s `api_generator`,
//! `eventsources/push.py` `Api`, `swagger/swagger.py`):
//!
//! - the definition: `DefinitionBody` as written, a local `DefinitionUri`
//!   file, or, with neither (and for the implicit `ServerlessRestApi` made
//!   from events without `RestApiId`, stage `Prod`), one SAM generates;
//! - functions' `Api` events add their path and method, an `aws_proxy`
//!   integration invoking the function (its `AutoPublishAlias` as the
//!   qualifier), to a generated definition only (or with
//!   `MergeDefinitions`): SAM leaves a `DefinitionBody` as written;
//! - per-event `Auth`: `Authorizer` (a name, `NONE`, `AWS_IAM`),
//!   `AuthorizationScopes` (else the authorizer's), `ApiKeyRequired`; the
//!   checks SAM makes (an unknown authorizer, `NONE` without a
//!   `DefaultAuthorizer`, scopes without an authorizer) stop startup as
//!   they stop `sam deploy`;
//! - `Cors`: an `OPTIONS` mock method on every path that has none;
//! - `Auth.Authorizers` (`UserPoolArn`, `Identity.Header`,
//!   `Identity.ValidationExpression`, `AuthorizationScopes`; Lambda
//!   authorizers as such), then `Auth.DefaultAuthorizer` on every method
//!   with an integration that has no authorizer of its own or `NONE`,
//!   preflights included unless `AddDefaultAuthorizerToCorsPreflight:
//!   false`; `Auth.ApiKeyRequired`; `Auth.ResourcePolicy` as
//!   `x-amazon-apigateway-policy`;
//! - `GatewayResponses`, `BinaryMediaTypes`, `Models` with events'
//!   `RequestModel` (validators `body-only`...), `RequestParameters`,
//!   `TimeoutInMillis`;
//! - `Globals.Api` and `Globals.Function` merged first, as SAM merges them
//!   (objects merged, lists concatenated, the resource's value winning).

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use super::intrinsics::{as_intrinsic, Resolver};

/// The implicit API's logical ID and stage, as SAM names them.
pub(super) const IMPLICIT_API: &str = "ServerlessRestApi";
const IMPLICIT_STAGE: &str = "Prod";
const INTEGRATION: &str = "x-amazon-apigateway-integration";
const ANY_METHOD: &str = "x-amazon-apigateway-any-method";
/// Keys of a path item that are not methods.
const NOT_METHODS: [&str; 3] = ["summary", "description", "parameters"];

/// An API as converted.
pub(super) struct Built {
    pub(super) export: Value,
    /// Its stages: `(StageName, Variables)`.
    pub(super) stages: Vec<(String, Vec<(String, String)>)>,
}

/// `Globals`, raw.
pub(super) struct Globals<'t> {
    api: Option<&'t Value>,
    function: Option<&'t Value>,
}

impl<'t> Globals<'t> {
    pub(super) fn of(template: &'t Value) -> Self {
        let globals = template.get("Globals");
        Self {
            api: globals.and_then(|g| g.get("Api")),
            function: globals.and_then(|g| g.get("Function")),
        }
    }
}

/// SAM's merge: objects merged, lists concatenated, else the local value.
fn merge(global: &Value, local: &Value) -> Value {
    match (global, local) {
        (Value::Object(g), Value::Object(l))
            if as_intrinsic(global).is_none() && as_intrinsic(local).is_none() =>
        {
            let mut out = g.clone();
            for (k, v) in l {
                let merged = match g.get(k) {
                    Some(gv) => merge(gv, v),
                    None => v.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (Value::Array(g), Value::Array(l)) => Value::Array(g.iter().chain(l).cloned().collect()),
        _ => local.clone(),
    }
}

/// A resource's `Properties` with its section of `Globals` merged in, unless
/// it says `IgnoreGlobals`.
fn with_globals(resource: Option<&Value>, global: Option<&Value>, section: &str) -> Value {
    let local = resource
        .and_then(|r| r.get("Properties"))
        .cloned()
        .unwrap_or_else(|| json!({}));
    let ignored = match resource.and_then(|r| r.get("IgnoreGlobals")) {
        Some(Value::String(s)) => s == "*" || s == section,
        Some(Value::Array(items)) => items.iter().any(|i| i == "*" || i == section),
        _ => false,
    };
    match global {
        Some(g) if !ignored => merge(g, &local),
        _ => local,
    }
}

/// A function's `Api` event: where it goes and what it says.
struct ApiEvent {
    function: String,
    event: String,
    api: String,
    props: Map<String, Value>,
}

/// The enabled functions' `Api` events (all APIs), in logical ID order;
/// `HttpApi` events are named in `notes`.
fn api_events(r: &Resolver, notes: &mut Vec<String>) -> Result<Vec<ApiEvent>, String> {
    let mut out = Vec::new();
    for (logical, resource) in r.resources() {
        if r.type_of(logical) != "AWS::Serverless::Function" || !r.enabled(logical)? {
            continue;
        }
        let Some(events) = resource.pointer("/Properties/Events") else {
            continue;
        };
        let events = events
            .as_object()
            .ok_or_else(|| format!("{}: expected an object", r.at(logical, "Events")))?;
        for (name, event) in events {
            let at = r.at(logical, &format!("Events.{name}"));
            let ty = event.get("Type").and_then(Value::as_str).unwrap_or("");
            if ty == "HttpApi" {
                notes.push(format!(
                    "{at}: an HttpApi event (HTTP API, payload 2.0) is not served: the gateway \
                     serves REST APIs"
                ));
            }
            if ty != "Api" {
                continue;
            }
            let props = match event.get("Properties") {
                Some(p) => r.value(p, &format!("{at}.Properties"))?,
                None => json!({}),
            };
            let Value::Object(props) = props else {
                return Err(format!("{at}.Properties: expected an object"));
            };
            let api = match props.get("RestApiId") {
                None => IMPLICIT_API.to_owned(),
                Some(Value::String(id)) => id.clone(),
                Some(_) => {
                    return Err(format!(
                        "{at}.Properties.RestApiId: expected a Ref to an AWS::Serverless::Api"
                    ))
                }
            };
            out.push(ApiEvent {
                function: logical.clone(),
                event: name.clone(),
                api,
                props,
            });
        }
    }
    Ok(out)
}

/// Whether SAM makes the implicit API (an `Api` event without `RestApiId`).
pub(super) fn has_implicit_api(r: &Resolver) -> Result<bool, String> {
    let mut ignored = Vec::new();
    Ok(api_events(r, &mut ignored)?
        .iter()
        .any(|e| e.api == IMPLICIT_API))
}

/// Converts the API `api` (explicit, or [`IMPLICIT_API`]).
pub(super) fn convert(
    r: &Resolver,
    template: &Value,
    api: &str,
    dir: &Path,
    notes: &mut Vec<String>,
    files: &mut Vec<PathBuf>,
) -> Result<Built, String> {
    let globals = Globals::of(template);
    let implicit = api == IMPLICIT_API && !r.resources().contains_key(api);
    let label = |property: &str| {
        if implicit {
            format!("implicit API {IMPLICIT_API} (Globals.Api), property {property}")
        } else {
            r.at(api, property)
        }
    };
    let raw = with_globals(r.resources().get(api), globals.api, "AWS::Serverless::Api");
    let prop = |name: &str| -> Result<Option<Value>, String> {
        match raw.get(name) {
            None => Ok(None),
            Some(v) => r.resolve(v, &label(name)),
        }
    };

    // The definition, and whether SAM manages it (adds events to it).
    let merge_definitions = prop("MergeDefinitions")?.is_some_and(|v| v == true);
    let (mut doc, managed, inline) = match (prop("DefinitionBody")?, raw.get("DefinitionUri")) {
        (Some(body), _) => (body, merge_definitions, true),
        (None, Some(uri)) => {
            let uri = r.value(uri, &label("DefinitionUri"))?;
            let Some(file) = uri.as_str().filter(|u| !u.starts_with("s3://")) else {
                return Err(format!(
                    "{}: an S3 location cannot be read offline; use a local file or DefinitionBody",
                    label("DefinitionUri")
                ));
            };
            let path = dir.join(file);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("{}: {}: {e}", label("DefinitionUri"), path.display()))?;
            files.push(path.clone());
            let body = super::yaml::load(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            (body, false, false)
        }
        (None, None) => (
            json!({"swagger": "2.0", "info": {"version": "1.0", "title": r.stack_name()}, "paths": {}}),
            true,
            true,
        ),
    };
    if !doc.is_object() || doc.get("paths").is_some_and(|p| !p.is_object()) {
        return Err(format!(
            "{}: not an OpenAPI definition",
            label("DefinitionBody")
        ));
    }
    if doc.get("paths").is_none() {
        doc["paths"] = json!({});
    }
    let auth = match prop("Auth")? {
        None => Map::new(),
        Some(Value::Object(a)) => a,
        Some(_) => return Err(format!("{}: expected an object", label("Auth"))),
    };
    for (property, ok) in [
        ("Auth", auth.is_empty()),
        ("Cors", raw.get("Cors").is_none()),
        ("GatewayResponses", raw.get("GatewayResponses").is_none()),
        ("Models", raw.get("Models").is_none()),
    ] {
        if !inline && !ok {
            return Err(format!(
                "{}: works only with an inline DefinitionBody (as SAM says)",
                label(property)
            ));
        }
    }
    let authorizers = match auth.get("Authorizers") {
        None => Map::new(),
        Some(Value::Object(a)) => a.clone(),
        Some(_) => return Err(format!("{}: expected an object", label("Auth.Authorizers"))),
    };
    let default_authorizer = match auth.get("DefaultAuthorizer") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            return Err(format!(
                "{}: expected a name",
                label("Auth.DefaultAuthorizer")
            ))
        }
    };

    // Events, first (SAM applies the API's defaults after them).
    let models = prop("Models")?;
    let mut events = api_events(r, notes)?;
    events.retain(|e| e.api == api);
    for event in &events {
        let at = r.at(&event.function, &format!("Events.{}", event.event));
        if !managed {
            let path = event
                .props
                .get("Path")
                .and_then(Value::as_str)
                .unwrap_or("");
            let method = event
                .props
                .get("Method")
                .and_then(Value::as_str)
                .unwrap_or("");
            let pointer = format!("/paths/{}/{}", escape(path), escape(&method_key(method)));
            if event
                .props
                .get("Auth")
                .and_then(|a| a.get("OverrideApiAuth"))
                == Some(&Value::Bool(true))
            {
                add_event_auth(&mut doc, event, &at, &auth, &authorizers)?;
            } else if doc.pointer(&pointer).is_none() {
                // `sam local start-api` serves such an event; the deployed API does not.
                notes.push(format!(
                    "{at}: not added to {api}, whose definition SAM deploys as written \
                     (SAM adds events only to definitions it generates, or with MergeDefinitions)"
                ));
            }
            continue;
        }
        add_event(
            r,
            &mut doc,
            event,
            &at,
            &auth,
            &authorizers,
            models.as_ref(),
            globals.function,
        )?;
    }

    // Then the API's own settings, in SAM's order.
    if let Some(cors) = prop("Cors")? {
        add_cors(&mut doc, &cors).map_err(|e| format!("{}: {e}", label("Cors")))?;
    }
    if !auth.is_empty() {
        add_auth(&mut doc, &auth, &authorizers, default_authorizer.as_deref())
            .map_err(|e| format!("{}: {e}", label("Auth")))?;
    }
    if let Some(responses) = prop("GatewayResponses")? {
        add_gateway_responses(&mut doc, &responses)
            .map_err(|e| format!("{}: {e}", label("GatewayResponses")))?;
    }
    if let Some(types) = prop("BinaryMediaTypes")? {
        let types = types
            .as_array()
            .ok_or_else(|| format!("{}: expected a list", label("BinaryMediaTypes")))?
            .iter()
            .map(|t| t.as_str().map(|t| Value::String(t.replace("~1", "/"))))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| format!("{}: expected strings", label("BinaryMediaTypes")))?;
        doc["x-amazon-apigateway-binary-media-types"] = Value::Array(types);
    }
    if let Some(models) = &models {
        let models = models
            .as_object()
            .ok_or_else(|| format!("{}: expected an object", label("Models")))?;
        let definitions = object_at(&mut doc, "definitions");
        for (name, schema) in models {
            if schema.get("type").is_none() {
                return Err(format!(
                    "{}: 'Models' schema is missing 'type'",
                    label("Models")
                ));
            }
            definitions.insert(name.to_lowercase(), schema.clone());
        }
    }
    strip_markers(&mut doc);
    openapi3_postprocess(&mut doc);

    let stage = if implicit {
        Some(IMPLICIT_STAGE.to_owned())
    } else {
        prop("StageName")?
            .as_ref()
            .and_then(|s| s.as_str().map(str::to_owned))
    };
    let variables = match prop("Variables")? {
        None => Vec::new(),
        Some(Value::Object(vars)) => vars
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                other => Ok((k.clone(), other.to_string())),
            })
            .collect::<Result<_, String>>()?,
        Some(_) => return Err(format!("{}: expected an object", label("Variables"))),
    };
    Ok(Built {
        export: doc,
        stages: stage.map(|s| (s, variables)).into_iter().collect(),
    })
}

/// SAM's method key: lower case, `any` as API Gateway's any-method.
fn method_key(method: &str) -> String {
    let method = method.to_ascii_lowercase();
    if method == "any" {
        ANY_METHOD.to_owned()
    } else {
        method
    }
}

fn object_at<'a>(doc: &'a mut Value, key: &str) -> &'a mut Map<String, Value> {
    if !doc.get(key).is_some_and(Value::is_object) {
        doc[key] = json!({});
    }
    doc[key].as_object_mut().expect("just made an object")
}

/// The path item's methods that have an integration (those SAM's defaults
/// apply to).
fn methods_with_integration(
    item: &mut Map<String, Value>,
) -> impl Iterator<Item = (&String, &mut Map<String, Value>)> {
    item.iter_mut()
        .filter(|(k, _)| {
            !NOT_METHODS.contains(&k.as_str()) && !k.starts_with("x-") || k.as_str() == ANY_METHOD
        })
        .filter_map(|(k, v)| v.as_object_mut().map(|m| (k, m)))
        .filter(|(_, m)| m.contains_key(INTEGRATION))
}

#[allow(clippy::too_many_arguments)]
fn add_event(
    r: &Resolver,
    doc: &mut Value,
    event: &ApiEvent,
    at: &str,
    api_auth: &Map<String, Value>,
    authorizers: &Map<String, Value>,
    models: Option<&Value>,
    function_globals: Option<&Value>,
) -> Result<(), String> {
    let path = event
        .props
        .get("Path")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{at}.Properties.Path: expected a string"))?
        .to_owned();
    let method = event
        .props
        .get("Method")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{at}.Properties.Method: expected a string"))?;
    let key = method_key(method);

    // The function's ARN, with its alias when SAM publishes one.
    let function = with_globals(
        r.resources().get(&event.function),
        function_globals,
        "AWS::Serverless::Function",
    );
    let mut arn = r
        .resolve(&json!({"Fn::GetAtt": [event.function, "Arn"]}), at)?
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    if let Some(alias) = function.get("AutoPublishAlias") {
        let alias = r.string(alias, &r.at(&event.function, "AutoPublishAlias"))?;
        arn.push(':');
        arn.push_str(&alias);
    }
    let partition = r.string(&json!({"Ref": "AWS::Partition"}), at)?;
    let uri = format!(
        "arn:{partition}:apigateway:{}:lambda:path/2015-03-31/functions/{arn}/invocations",
        r.region()
    );

    let paths = object_at(doc, "paths");
    let item = paths
        .entry(path.clone())
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or_else(|| format!("{at}: the definition's path {path} is not an object"))?;
    if item.get(&key).is_some_and(|m| m.get(INTEGRATION).is_some()) {
        return Err(format!(
            "{at}: API method \"{}\" defined multiple times for path \"{path}\"",
            method.to_ascii_lowercase()
        ));
    }
    let operation = item
        .entry(key.clone())
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or_else(|| format!("{at}: the definition's {key} {path} is not an object"))?;
    let mut integration = json!({"type": "aws_proxy", "httpMethod": "POST", "uri": uri});
    if let Some(timeout) = event.props.get("TimeoutInMillis") {
        integration["timeoutInMillis"] = timeout.clone();
    }
    operation.insert(INTEGRATION.to_owned(), integration);
    operation.entry("responses").or_insert_with(|| json!({}));

    if event.props.contains_key("Auth") {
        add_event_auth(doc, event, at, api_auth, authorizers)?;
    }
    if let Some(model) = event.props.get("RequestModel") {
        add_request_model(doc, &path, &key, model, models, at)?;
    }
    if let Some(parameters) = event.props.get("RequestParameters") {
        add_request_parameters(doc, &path, &key, parameters, at)?;
    }
    Ok(())
}

/// An event's `Auth`, checked and applied as SAM's `add_auth_to_swagger`.
fn add_event_auth(
    doc: &mut Value,
    event: &ApiEvent,
    at: &str,
    api_auth: &Map<String, Value>,
    authorizers: &Map<String, Value>,
) -> Result<(), String> {
    let Some(auth) = event.props.get("Auth") else {
        return Ok(());
    };
    let auth = auth
        .as_object()
        .ok_or_else(|| format!("{at}.Properties.Auth: expected an object"))?;
    let path = event
        .props
        .get("Path")
        .and_then(Value::as_str)
        .unwrap_or("/");
    let method = event
        .props
        .get("Method")
        .and_then(Value::as_str)
        .unwrap_or("get");
    let key = method_key(method);
    let at = format!("{at}.Properties.Auth");
    let authorizer = match auth.get("Authorizer") {
        None => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => return Err(format!("{at}.Authorizer: expected a name")),
    };
    match authorizer {
        Some("AWS_IAM") | None => {}
        Some("NONE") => {
            if !api_auth.contains_key("DefaultAuthorizer") {
                return Err(format!(
                    "{at}: Unable to set Authorizer on API method [{method}] for path [{path}] because \
                     'NONE' is only a valid value when a DefaultAuthorizer on the API is specified"
                ));
            }
        }
        Some(name) => {
            if !authorizers.contains_key(name) {
                return Err(format!(
                    "{at}: Unable to set Authorizer [{name}] on API method [{method}] for path \
                     [{path}] because it wasn't defined in the API's Authorizers"
                ));
            }
        }
    }
    let scopes = auth.get("AuthorizationScopes");
    if let Some(scopes) = scopes {
        if !scopes.is_array() {
            return Err(format!("{at}.AuthorizationScopes: expected a list"));
        }
        if authorizer.is_none() && scopes.as_array().is_some_and(|s| !s.is_empty()) {
            return Err(format!(
                "{at}: AuthorizationScopes works only when Authorizer is set"
            ));
        }
    }
    let api_key = auth.get("ApiKeyRequired");
    if api_key == Some(&Value::Bool(false))
        && api_auth.get("ApiKeyRequired") != Some(&Value::Bool(true))
    {
        return Err(format!(
            "{at}: Unable to set ApiKeyRequired [False] on API method [{method}] for path [{path}] \
             because the related API does not specify any ApiKeyRequired"
        ));
    }
    let Some(operation) = doc
        .pointer_mut(&format!("/paths/{}/{}", escape(path), escape(&key)))
        .and_then(Value::as_object_mut)
    else {
        return Ok(());
    };
    let mut security: Vec<Value> = operation
        .get("security")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if let Some(name) = authorizer {
        let mut scopes_of = json!([]);
        if name != "NONE" {
            let own = authorizers
                .get(name)
                .and_then(|a| a.get("AuthorizationScopes"));
            if let Some(s) = scopes.or(own) {
                scopes_of = s.clone();
            }
        }
        security.push(json!({ name: scopes_of }));
        if name == "AWS_IAM" {
            add_iam_scheme(doc);
        }
    }
    match api_key {
        Some(Value::Bool(true)) => {
            security.push(json!({"api_key": []}));
            add_api_key_scheme(doc);
        }
        Some(Value::Bool(false)) => security.push(json!({"api_key_false": []})),
        _ => {}
    }
    if let Some(op) = doc
        .pointer_mut(&format!("/paths/{}/{}", escape(path), escape(&key)))
        .and_then(Value::as_object_mut)
    {
        if !security.is_empty() {
            op.insert("security".into(), Value::Array(security));
        }
    }
    if auth.contains_key("ResourcePolicy") && doc.get("x-amazon-apigateway-policy").is_none() {
        // Named at startup as not evaluated (see `extensions`).
        doc["x-amazon-apigateway-policy"] = json!({"Version": "2012-10-17", "Statement": []});
    }
    Ok(())
}

/// RFC 6901 escaping of one pointer segment.
fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn add_iam_scheme(doc: &mut Value) {
    let schemes = object_at(doc, "securityDefinitions");
    schemes.entry("AWS_IAM").or_insert_with(|| {
        json!({"x-amazon-apigateway-authtype": "awsSigv4", "type": "apiKey", "name": "Authorization", "in": "header"})
    });
}

fn add_api_key_scheme(doc: &mut Value) {
    let schemes = object_at(doc, "securityDefinitions");
    schemes
        .entry("api_key")
        .or_insert_with(|| json!({"type": "apiKey", "name": "x-api-key", "in": "header"}));
}

fn add_request_model(
    doc: &mut Value,
    path: &str,
    key: &str,
    model: &Value,
    models: Option<&Value>,
    at: &str,
) -> Result<(), String> {
    let at = format!("{at}.Properties.RequestModel");
    let name = model
        .get("Model")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{at}.Model: expected a model name"))?;
    if models.is_none_or(|m| m.get(name).is_none()) {
        return Err(format!(
            "{at}: Unable to set RequestModel [{name}] on API method [{key}] for path [{path}] \
             because it wasn't defined in the API's Models"
        ));
    }
    let lower = name.to_lowercase();
    let openapi3 = doc.get("swagger").is_none() && doc.get("openapi").is_some();
    let required = model.get("Required").cloned();
    let Some(op) = doc
        .pointer_mut(&format!("/paths/{}/{}", escape(path), escape(key)))
        .and_then(Value::as_object_mut)
    else {
        return Ok(());
    };
    if openapi3 {
        let mut body = json!({"content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{lower}")}}}});
        if let Some(r) = required {
            body["required"] = r;
        }
        op.insert("requestBody".into(), body);
    } else {
        let mut parameter = json!({"in": "body", "name": lower, "schema": {"$ref": format!("#/definitions/{lower}")}});
        if let Some(r) = required {
            parameter["required"] = r;
        }
        parameters_of(op).push(parameter);
    }
    let body = model.get("ValidateBody");
    let params = model.get("ValidateParameters");
    if body.is_some() || params.is_some() {
        let (Some(body), Some(params)) = (
            body.map_or(Some(false), Value::as_bool),
            params.map_or(Some(false), Value::as_bool),
        ) else {
            return Err(format!(
                "{at}: ValidateBody and ValidateParameters must be booleans"
            ));
        };
        let name = match (body, params) {
            (true, true) => "body-and-params",
            (true, false) => "body-only",
            (false, true) => "params-only",
            (false, false) => "no-validation",
        };
        op.insert("x-amazon-apigateway-request-validator".into(), name.into());
        object_at(doc, "x-amazon-apigateway-request-validators")
            .entry(name)
            .or_insert_with(
                || json!({"validateRequestBody": body, "validateRequestParameters": params}),
            );
    }
    Ok(())
}

fn parameters_of(op: &mut Map<String, Value>) -> &mut Vec<Value> {
    if !op.get("parameters").is_some_and(Value::is_array) {
        op.insert("parameters".into(), json!([]));
    }
    op.get_mut("parameters")
        .and_then(Value::as_array_mut)
        .expect("just made a list")
}

fn add_request_parameters(
    doc: &mut Value,
    path: &str,
    key: &str,
    parameters: &Value,
    at: &str,
) -> Result<(), String> {
    let at = format!("{at}.Properties.RequestParameters");
    let list = parameters
        .as_array()
        .ok_or_else(|| format!("{at}: expected a list"))?;
    let openapi3 = doc.get("swagger").is_none() && doc.get("openapi").is_some();
    let Some(op) = doc
        .pointer_mut(&format!("/paths/{}/{}", escape(path), escape(key)))
        .and_then(Value::as_object_mut)
    else {
        return Ok(());
    };
    for item in list {
        let (name, required) = match item {
            Value::String(s) => (s.as_str(), false),
            Value::Object(m) if m.len() == 1 => {
                let (name, settings) = m.iter().next().expect("one entry");
                (
                    name.as_str(),
                    settings
                        .get("Required")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                )
            }
            _ => return Err(format!("{at}: each entry is a string or a one-key object")),
        };
        let Some((location, name)) = name
            .strip_prefix("method.request.")
            .and_then(|rest| rest.split_once('.'))
            .filter(|(l, _)| matches!(*l, "querystring" | "path" | "header"))
        else {
            return Err(format!(
                "{at}: {name:?}: keys must be method.request.[querystring|path|header].NAME"
            ));
        };
        let location = if location == "querystring" {
            "query"
        } else {
            location
        };
        let parameter = if openapi3 {
            json!({"in": location, "name": name, "required": required, "schema": {"type": "string"}})
        } else {
            json!({"in": location, "name": name, "required": required, "type": "string"})
        };
        parameters_of(op).push(parameter);
    }
    Ok(())
}

/// `Cors`: an `OPTIONS` mock method on every path without one.
fn add_cors(doc: &mut Value, cors: &Value) -> Result<(), String> {
    let quoted = |v: Option<&Value>| v.and_then(|v| v.as_str().map(str::to_owned));
    let (origin, headers, methods, max_age, credentials) = match cors {
        Value::String(origin) => (Some(origin.clone()), None, None, None, false),
        Value::Object(m) => {
            for key in m.keys() {
                if ![
                    "AllowOrigin",
                    "AllowHeaders",
                    "AllowMethods",
                    "MaxAge",
                    "AllowCredentials",
                ]
                .contains(&key.as_str())
                {
                    return Err(format!("Invalid key '{key}' for 'Cors' property"));
                }
            }
            (
                quoted(m.get("AllowOrigin")),
                quoted(m.get("AllowHeaders")),
                quoted(m.get("AllowMethods")),
                m.get("MaxAge").cloned(),
                m.get("AllowCredentials") == Some(&Value::Bool(true)),
            )
        }
        _ => return Err("Invalid value for 'Cors' property".into()),
    };
    let Some(origin) = origin.filter(|o| !o.is_empty()) else {
        return Err("Invalid input. Value for AllowedOrigins is required".into());
    };
    if credentials && origin == "'*'" {
        return Err(
            "'AllowCredentials' can not be true when 'AllowOrigin' is \"'*'\" or not set".into(),
        );
    }
    let paths = object_at(doc, "paths");
    let mut seen = std::collections::HashSet::new();
    for (path, item) in paths.iter_mut() {
        let normalized = if path == "/" {
            path.as_str()
        } else {
            path.trim_end_matches('/')
        };
        if !seen.insert(normalized.to_owned()) {
            continue;
        }
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        if item.contains_key("options") {
            continue;
        }
        let methods = methods.clone().unwrap_or_else(|| {
            let mut list: Vec<String> = if item.contains_key(ANY_METHOD) {
                ["OPTIONS", "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"]
                    .map(String::from)
                    .to_vec()
            } else {
                item.keys()
                    .map(|k| k.to_ascii_uppercase())
                    .chain(std::iter::once("OPTIONS".to_owned()))
                    .collect()
            };
            list.sort();
            list.dedup();
            format!("'{}'", list.join(","))
        });
        let mut parameters = Map::new();
        parameters.insert(
            "method.response.header.Access-Control-Allow-Origin".into(),
            origin.clone().into(),
        );
        if let Some(h) = headers.as_ref().filter(|h| !h.is_empty()) {
            parameters.insert(
                "method.response.header.Access-Control-Allow-Headers".into(),
                h.clone().into(),
            );
        }
        if !methods.is_empty() {
            parameters.insert(
                "method.response.header.Access-Control-Allow-Methods".into(),
                methods.into(),
            );
        }
        if let Some(age) = &max_age {
            // A number in the template: the header's value, as a literal.
            let age = match age {
                Value::Number(n) => format!("'{n}'"),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            parameters.insert(
                "method.response.header.Access-Control-Max-Age".into(),
                age.into(),
            );
        }
        if credentials {
            parameters.insert(
                "method.response.header.Access-Control-Allow-Credentials".into(),
                "'true'".into(),
            );
        }
        item.insert(
            "options".into(),
            json!({
                "summary": "CORS support",
                "consumes": ["application/json"],
                "produces": ["application/json"],
                INTEGRATION: {
                    "type": "mock",
                    "requestTemplates": {"application/json": "{\n  \"statusCode\" : 200\n}\n"},
                    "responses": {"default": {
                        "statusCode": "200",
                        "responseParameters": parameters,
                        "responseTemplates": {"application/json": "{}\n"}
                    }}
                },
                "responses": {"200": {"description": "Default response for CORS method"}}
            }),
        );
    }
    Ok(())
}

/// One authorizer of `Auth.Authorizers` as SAM writes its security scheme.
fn authorizer_scheme(name: &str, authorizer: &Value) -> Result<Value, String> {
    let at = format!("Authorizers.{name}");
    let obj = authorizer
        .as_object()
        .ok_or_else(|| format!("{at}: expected an object"))?;
    let identity = obj.get("Identity").cloned().unwrap_or_else(|| json!({}));
    if !identity.is_object() {
        return Err(format!("{at}.Identity: expected an object"));
    }
    let header = match identity.get("Header") {
        None => "Authorization".to_owned(),
        Some(Value::String(h)) if !h.is_empty() => h.clone(),
        Some(_) => return Err(format!("{at}.Identity.Header: expected a header name")),
    };
    let validation = identity.get("ValidationExpression").cloned();
    if let Some(pools) = obj.get("UserPoolArn") {
        let pools = match pools {
            Value::Array(list) => list.clone(),
            one => vec![one.clone()],
        };
        let mut extension = json!({"type": "cognito_user_pools", "providerARNs": pools});
        if let Some(v) = validation.filter(|v| v.as_str().is_some_and(|s| !s.is_empty())) {
            extension["identityValidationExpression"] = v;
        }
        return Ok(json!({
            "type": "apiKey",
            "name": header,
            "in": "header",
            "x-amazon-apigateway-authtype": "cognito_user_pools",
            "x-amazon-apigateway-authorizer": extension,
        }));
    }
    let Some(function) = obj.get("FunctionArn").and_then(Value::as_str) else {
        return Err(format!(
            "{at}: neither UserPoolArn (a Cognito authorizer) nor FunctionArn (a Lambda authorizer)"
        ));
    };
    let payload = obj
        .get("FunctionPayloadType")
        .and_then(Value::as_str)
        .unwrap_or("TOKEN");
    let request = payload.eq_ignore_ascii_case("REQUEST");
    Ok(json!({
        "type": "apiKey",
        "name": if request { "Unused".to_owned() } else { header },
        "in": "header",
        "x-amazon-apigateway-authtype": "custom",
        "x-amazon-apigateway-authorizer": {
            "type": if request { "request" } else { "token" },
            "authorizerUri": format!("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{function}/invocations"),
        },
    }))
}

/// `Auth`: the schemes, then the defaults on every method.
fn add_auth(
    doc: &mut Value,
    auth: &Map<String, Value>,
    authorizers: &Map<String, Value>,
    default: Option<&str>,
) -> Result<(), String> {
    const KNOWN: [&str; 10] = [
        "Authorizers",
        "DefaultAuthorizer",
        "InvokeRole",
        "AddDefaultAuthorizerToCorsPreflight",
        "AddApiKeyRequiredToCorsPreflight",
        "ApiKeyRequired",
        "ResourcePolicy",
        "UsagePlan",
        "DisableFunctionDefaultPermissions",
        "OverrideApiAuth",
    ];
    if let Some(key) = auth.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(format!("Invalid value for 'Auth' property ({key})"));
    }
    let mut schemes = Map::new();
    if default == Some("AWS_IAM") {
        schemes.insert(
            "AWS_IAM".into(),
            json!({"x-amazon-apigateway-authtype": "awsSigv4", "type": "apiKey", "name": "Authorization", "in": "header"}),
        );
    }
    for (name, authorizer) in authorizers {
        schemes.insert(name.clone(), authorizer_scheme(name, authorizer)?);
    }
    if !schemes.is_empty() {
        let existing = object_at(doc, "securityDefinitions");
        for (name, scheme) in schemes {
            existing.insert(name, scheme);
        }
    }
    if let Some(default) = default {
        if default != "AWS_IAM" && !authorizers.contains_key(default) {
            return Err(format!(
                "Unable to set DefaultAuthorizer because '{default}' was not defined in 'Authorizers'"
            ));
        }
        let to_preflight =
            auth.get("AddDefaultAuthorizerToCorsPreflight") != Some(&Value::Bool(false));
        let default_scopes = authorizers
            .get(default)
            .and_then(|a| a.get("AuthorizationScopes"))
            .cloned()
            .unwrap_or_else(|| json!([]));
        let mut names: Vec<&str> = vec!["AWS_IAM"];
        names.extend(authorizers.keys().map(String::as_str));
        let mut iam_used = false;
        for (_, item) in object_at(doc, "paths").iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, op) in methods_with_integration(item) {
                if method == "options" && !to_preflight {
                    continue;
                }
                let existing = match op.get("security") {
                    None => Vec::new(),
                    Some(Value::Array(list)) => list.clone(),
                    Some(_) => return Err(format!("security of {method} must be a list")),
                };
                let (mut others, own): (Vec<Value>, Vec<Value>) =
                    existing.into_iter().partition(|s| {
                        s.as_object()
                            .is_none_or(|m| !m.keys().any(|k| names.contains(&k.as_str())))
                    });
                let none = others.iter().position(|s| s.get("NONE").is_some());
                let chosen = if let Some(i) = none {
                    others.remove(i);
                    Vec::new()
                } else if !own.is_empty() {
                    own
                } else {
                    vec![json!({ default: default_scopes.clone() })]
                };
                let security: Vec<Value> = others.into_iter().chain(chosen).collect();
                if !security.is_empty() {
                    iam_used |= security[0].get("AWS_IAM").is_some();
                    op.insert("security".into(), Value::Array(security));
                }
            }
        }
        if iam_used {
            add_iam_scheme(doc);
        }
    }
    if auth.get("ApiKeyRequired") == Some(&Value::Bool(true)) {
        add_api_key_scheme(doc);
        let to_preflight =
            auth.get("AddApiKeyRequiredToCorsPreflight") != Some(&Value::Bool(false));
        for (_, item) in object_at(doc, "paths").iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, op) in methods_with_integration(item) {
                let existing = op
                    .get("security")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let (mut others, mut keys): (Vec<Value>, Vec<Value>) = existing
                    .iter()
                    .cloned()
                    .partition(|s| s.get("api_key").is_none() && s.get("api_key_false").is_none());
                let no_key = keys.iter().position(|s| s.get("api_key_false").is_some());
                let chosen = match no_key {
                    Some(i) => {
                        keys.remove(i);
                        keys
                    }
                    None => vec![json!({"api_key": []})],
                };
                if method != "options" || to_preflight {
                    others.extend(chosen);
                }
                if others != existing {
                    op.insert("security".into(), Value::Array(others));
                }
            }
        }
    }
    if auth.contains_key("ResourcePolicy") && doc.get("x-amazon-apigateway-policy").is_none() {
        doc["x-amazon-apigateway-policy"] = json!({"Version": "2012-10-17", "Statement": []});
    }
    Ok(())
}

/// SAM's markers as API Gateway deploys them. `{"NONE": []}` (an event's
/// `Authorizer: NONE`) stays in the definition SAM writes, naming no
/// scheme: the method is deployed without authorization (SAM's own
/// translator tests, `api_with_auth_all_maximum`), which in an export is
/// no `security`. `api_key_false` is SAM's, never deployed.
fn strip_markers(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for item in paths.values_mut().filter_map(Value::as_object_mut) {
        for op in item.values_mut().filter_map(Value::as_object_mut) {
            let Some(Value::Array(security)) = op.get_mut("security") else {
                continue;
            };
            security.retain(|s| s.get("NONE").is_none() && s.get("api_key_false").is_none());
            if security.is_empty() {
                op.remove("security");
            }
        }
    }
}

fn add_gateway_responses(doc: &mut Value, responses: &Value) -> Result<(), String> {
    let responses = responses.as_object().ok_or("expected an object")?;
    let mut out = Map::new();
    for (ty, response) in responses {
        let response = response
            .as_object()
            .ok_or_else(|| format!("{ty}: expected an object of type 'GatewayResponse'"))?;
        let mut parameters = Map::new();
        if let Some(p) = response.get("ResponseParameters") {
            let p = p
                .as_object()
                .ok_or_else(|| format!("{ty}.ResponseParameters: expected an object"))?;
            for (group, prefix) in [
                ("Headers", "header."),
                ("Paths", "path."),
                ("QueryStrings", "querystring."),
            ] {
                if let Some(values) = p.get(group).and_then(Value::as_object) {
                    for (k, v) in values {
                        parameters.insert(format!("gatewayresponse.{prefix}{k}"), v.clone());
                    }
                }
            }
        }
        let mut swagger = json!({
            "responseParameters": parameters,
            "responseTemplates": response.get("ResponseTemplates").cloned().unwrap_or_else(|| json!({})),
        });
        if let Some(code) = response.get("StatusCode") {
            let code = match code {
                Value::Number(n) => n.to_string(),
                Value::String(s) => s.clone(),
                _ => return Err(format!("{ty}.StatusCode: must be numeric")),
            };
            swagger["statusCode"] = code.into();
        }
        out.insert(ty.clone(), swagger);
    }
    doc["x-amazon-apigateway-gateway-responses"] = Value::Object(out);
    Ok(())
}

/// OpenAPI 3 definitions keep schemes and models under `components`.
fn openapi3_postprocess(doc: &mut Value) {
    if doc.get("swagger").is_some() || doc.get("openapi").is_none() {
        return;
    }
    for (from, to) in [
        ("securityDefinitions", "securitySchemes"),
        ("definitions", "schemas"),
    ] {
        if let Some(Value::Object(moved)) = doc.as_object_mut().and_then(|d| d.remove(from)) {
            let components = object_at(doc, "components");
            let target = components.entry(to).or_insert_with(|| json!({}));
            if let Some(target) = target.as_object_mut() {
                target.extend(moved);
            }
        }
    }
}
