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

mod auth;
use self::auth::*;

mod sections;
use self::sections::*;

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

/// RFC 6901 escaping of one pointer segment.
fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}
