//! CloudFormation's `AWS::ApiGateway::RestApi` as the export API Gateway
//! would give for it once deployed: its `Body` (an OpenAPI definition with
//! API Gateway's extensions), with the API's resources added, or built from
//! them alone (what CDK's `RestApi` synthesizes):
//!
//! - `AWS::ApiGateway::Resource`: `PathPart` under `ParentId` (the API's
//!   `RootResourceId` or another resource), a path per chain;
//! - `AWS::ApiGateway::Method`: `HttpMethod` (`ANY` as API Gateway's
//!   any-method), `AuthorizationType` (`NONE`, `COGNITO_USER_POOLS`,
//!   `CUSTOM`, `AWS_IAM`) with `AuthorizerId` and `AuthorizationScopes`,
//!   `ApiKeyRequired`, `Integration` (every property, in the export's
//!   spelling: `IntegrationResponses` become `responses` keyed by
//!   `SelectionPattern`, else `default`), `RequestParameters`,
//!   `RequestModels`, `RequestValidatorId`, `OperationName`;
//! - `AWS::ApiGateway::Authorizer`: `COGNITO_USER_POOLS` with
//!   `ProviderARNs`, `IdentitySource` (a header) and
//!   `IdentityValidationExpression`, the security scheme named by its
//!   `Name` as in an export; `TOKEN` and `REQUEST` (Lambda) as such, which
//!   the gateway refuses or answers as AWS answers without credentials;
//! - `AWS::ApiGateway::Model`, `AWS::ApiGateway::RequestValidator`,
//!   `AWS::ApiGateway::GatewayResponse`, the API's `BinaryMediaTypes`;
//! - `AWS::ApiGateway::Stage` (and a `Deployment`'s `StageDescription`):
//!   `StageName` and `Variables`.
//!
//! **[choice]** Where CloudFormation would accept what API Gateway then
//! serves in a way AWS does not document, startup stops: an `AuthorizerId`
//! on a method whose `AuthorizationType` is `NONE`, a Cognito authorizer
//! reading its token anywhere but a header, a method defined twice (in the
//! `Body` and as a resource).

use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Map, Value};

use super::intrinsics::{root_resource_id, Resolver};
use super::serverless::Built;

mod method_parts;
use self::method_parts::*;

const INTEGRATION: &str = "x-amazon-apigateway-integration";
/// How deep a chain of resources may go (API Gateway's own limit on a
/// resource path is lower).
const MAX_PATH_DEPTH: usize = 64;

/// The API's resources, by type, resolved.
struct Children {
    resources: BTreeMap<String, Map<String, Value>>,
    methods: BTreeMap<String, Map<String, Value>>,
    authorizers: BTreeMap<String, Map<String, Value>>,
    models: BTreeMap<String, Map<String, Value>>,
    validators: BTreeMap<String, Map<String, Value>>,
    responses: BTreeMap<String, Map<String, Value>>,
    /// `(StageName, Variables)`.
    stages: Vec<(String, Vec<(String, String)>)>,
}

/// A resource's properties, resolved, when it belongs to `api`.
fn properties_of(
    r: &Resolver,
    logical: &str,
    api: &str,
) -> Result<Option<Map<String, Value>>, String> {
    let raw = r
        .resources()
        .get(logical)
        .and_then(|res| res.get("Properties"))
        .cloned()
        .unwrap_or_else(|| json!({}));
    let Some(rest_api) = raw.get("RestApiId") else {
        return Err(format!("{}: missing", r.at(logical, "RestApiId")));
    };
    if r.string(rest_api, &r.at(logical, "RestApiId"))? != api {
        return Ok(None);
    }
    let Value::Object(raw) = raw else {
        return Err(format!("resource {logical}: Properties must be an object"));
    };
    let mut props = Map::new();
    for (key, value) in &raw {
        if let Some(v) = r.resolve(value, &r.at(logical, key))? {
            props.insert(key.clone(), v);
        }
    }
    Ok(Some(props))
}

fn children(r: &Resolver, api: &str) -> Result<Children, String> {
    let mut out = Children {
        resources: BTreeMap::new(),
        methods: BTreeMap::new(),
        authorizers: BTreeMap::new(),
        models: BTreeMap::new(),
        validators: BTreeMap::new(),
        responses: BTreeMap::new(),
        stages: Vec::new(),
    };
    for logical in r.resources().keys() {
        let ty = r.type_of(logical);
        let slot = match ty {
            "AWS::ApiGateway::Resource" => &mut out.resources,
            "AWS::ApiGateway::Method" => &mut out.methods,
            "AWS::ApiGateway::Authorizer" => &mut out.authorizers,
            "AWS::ApiGateway::Model" => &mut out.models,
            "AWS::ApiGateway::RequestValidator" => &mut out.validators,
            "AWS::ApiGateway::GatewayResponse" => &mut out.responses,
            "AWS::ApiGateway::Stage" | "AWS::ApiGateway::Deployment" => {
                if !r.enabled(logical)? {
                    continue;
                }
                let Some(props) = properties_of(r, logical, api)? else {
                    continue;
                };
                let (name, variables) = if ty == "AWS::ApiGateway::Stage" {
                    (props.get("StageName"), props.get("Variables"))
                } else {
                    (
                        props.get("StageName"),
                        props
                            .get("StageDescription")
                            .and_then(|d| d.get("Variables")),
                    )
                };
                let Some(name) = name.and_then(Value::as_str) else {
                    continue;
                };
                let variables = match variables {
                    None => Vec::new(),
                    Some(Value::Object(v)) => v
                        .iter()
                        .map(|(k, v)| {
                            let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                            (k.clone(), v)
                        })
                        .collect(),
                    Some(_) => {
                        return Err(format!(
                            "{}: expected an object",
                            r.at(logical, "Variables")
                        ))
                    }
                };
                out.stages.push((name.to_owned(), variables));
                continue;
            }
            _ => continue,
        };
        if !r.enabled(logical)? {
            continue;
        }
        if let Some(props) = properties_of(r, logical, api)? {
            slot.insert(logical.clone(), props);
        }
    }
    Ok(out)
}

fn text<'a>(props: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    props.get(key).and_then(Value::as_str)
}

/// The path of a resource (`None`: the root).
fn path_of(
    api: &str,
    resources: &BTreeMap<String, Map<String, Value>>,
    id: &str,
    at: &str,
) -> Result<String, String> {
    let root = root_resource_id(api);
    let mut parts = Vec::new();
    let mut current = id.to_owned();
    let mut seen = Vec::new();
    while current != root {
        if seen.contains(&current) {
            return Err(format!(
                "{at}: the resources {} form a cycle",
                seen.join(" -> ")
            ));
        }
        if seen.len() >= MAX_PATH_DEPTH {
            return Err(format!(
                "{at}: a resource path deeper than {MAX_PATH_DEPTH}"
            ));
        }
        let Some(resource) = resources.get(&current) else {
            return Err(format!(
                "{at}: {current:?} is neither {api}'s RootResourceId nor an \
                 AWS::ApiGateway::Resource of {api}"
            ));
        };
        let part = text(resource, "PathPart")
            .filter(|p| !p.is_empty() && !p.contains('/'))
            .ok_or_else(|| {
                format!("resource {current}, property PathPart: expected one path segment")
            })?;
        parts.push(part.to_owned());
        seen.push(current.clone());
        current = text(resource, "ParentId")
            .ok_or_else(|| format!("resource {current}, property ParentId: missing"))?
            .to_owned();
    }
    parts.reverse();
    Ok(format!("/{}", parts.join("/")))
}

/// Converts the `AWS::ApiGateway::RestApi` `api`.
pub(super) fn convert(r: &Resolver, api: &str, notes: &mut Vec<String>) -> Result<Built, String> {
    if r.property(api, "BodyS3Location")?.is_some() {
        return Err(format!(
            "{}: an S3 location cannot be read offline; inline the definition as Body",
            r.at(api, "BodyS3Location")
        ));
    }
    let mut doc = match r.property(api, "Body")? {
        Some(Value::Object(body)) => Value::Object(body),
        Some(Value::String(text)) => {
            super::yaml::load(&text).map_err(|e| format!("{}: {e}", r.at(api, "Body")))?
        }
        Some(_) => {
            return Err(format!(
                "{}: expected an OpenAPI definition",
                r.at(api, "Body")
            ))
        }
        None => {
            let title = match r.property(api, "Name")? {
                Some(Value::String(name)) => name,
                _ => api.to_owned(),
            };
            json!({"openapi": "3.0.1", "info": {"title": title, "version": "1.0"}, "paths": {}})
        }
    };
    if !doc.is_object() {
        return Err(format!(
            "{}: expected an OpenAPI definition",
            r.at(api, "Body")
        ));
    }
    if !doc.get("paths").is_some_and(Value::is_object) {
        doc["paths"] = json!({});
    }
    let openapi3 = doc.get("swagger").is_none();
    let kids = children(r, api)?;

    // Security schemes from the authorizers, named as an export names them.
    let mut scheme_of: HashMap<String, String> = HashMap::new();
    let mut schemes = Map::new();
    for (logical, props) in &kids.authorizers {
        let name = text(props, "Name")
            .ok_or_else(|| format!("{}: missing", r.at(logical, "Name")))?
            .to_owned();
        if schemes.contains_key(&name) {
            return Err(format!(
                "{}: two authorizers are named {name}",
                r.at(logical, "Name")
            ));
        }
        schemes.insert(name.clone(), authorizer_scheme(r, logical, props)?);
        scheme_of.insert(logical.clone(), name);
    }
    let mut validator_of: HashMap<String, String> = HashMap::new();
    let mut validators = Map::new();
    for (logical, props) in &kids.validators {
        let name = text(props, "Name").unwrap_or(logical).to_owned();
        validators.insert(
            name.clone(),
            json!({
                "validateRequestBody": props.get("ValidateRequestBody").and_then(Value::as_bool).unwrap_or(false),
                "validateRequestParameters": props.get("ValidateRequestParameters").and_then(Value::as_bool).unwrap_or(false),
            }),
        );
        validator_of.insert(logical.clone(), name);
    }
    let mut model_of: HashMap<String, String> = HashMap::new();
    let mut schemas = Map::new();
    for (logical, props) in &kids.models {
        let name = text(props, "Name").unwrap_or(logical).to_owned();
        let schema = match props.get("Schema") {
            Some(Value::String(s)) => serde_json::from_str(s)
                .map_err(|e| format!("{}: not JSON: {e}", r.at(logical, "Schema")))?,
            Some(v @ Value::Object(_)) => v.clone(),
            _ => json!({}),
        };
        schemas.insert(name.clone(), schema);
        // A method names its model by name, or by `Ref` (the logical ID here).
        model_of.insert(logical.clone(), name.clone());
        model_of.insert(name.clone(), name);
    }

    let paths = doc["paths"].as_object_mut().expect("made an object above");
    let mut extra_schemes = Map::new();
    for (logical, props) in &kids.methods {
        let at = format!("resource {logical} (AWS::ApiGateway::Method)");
        let resource = text(props, "ResourceId")
            .ok_or_else(|| format!("{at}, property ResourceId: missing"))?;
        let path = path_of(
            api,
            &kids.resources,
            resource,
            &format!("{at}, property ResourceId"),
        )?;
        let method = text(props, "HttpMethod")
            .ok_or_else(|| format!("{at}, property HttpMethod: missing"))?
            .to_ascii_lowercase();
        let key = if method == "any" {
            "x-amazon-apigateway-any-method".to_owned()
        } else {
            method
        };
        let mut op = Map::new();
        if let Some(name) = text(props, "OperationName") {
            op.insert("operationId".into(), name.into());
        }
        let security = security(
            props,
            &scheme_of,
            &kids.authorizers,
            &mut extra_schemes,
            &at,
        )?;
        if !security.is_empty() {
            op.insert("security".into(), json!([security]));
        }
        if let Some(parameters) = props.get("RequestParameters") {
            op.insert(
                "parameters".into(),
                parameters_of(parameters, openapi3, &at)?,
            );
        }
        if let Some(Value::Object(models)) = props.get("RequestModels") {
            let mut content = Map::new();
            for (ty, model) in models {
                let model = model
                    .as_str()
                    .and_then(|m| model_of.get(m))
                    .ok_or_else(|| format!("{at}, property RequestModels.{ty}: names no AWS::ApiGateway::Model of {api}"))?;
                let prefix = if openapi3 {
                    "#/components/schemas/"
                } else {
                    "#/definitions/"
                };
                content.insert(
                    ty.clone(),
                    json!({"schema": {"$ref": format!("{prefix}{model}")}}),
                );
            }
            if openapi3 {
                op.insert("requestBody".into(), json!({"content": content}));
            } else {
                let list = op.entry("parameters").or_insert_with(|| json!([]));
                if let (Some(list), Some((_, first))) = (list.as_array_mut(), content.iter().next())
                {
                    list.push(json!({"in": "body", "name": "body", "required": true, "schema": first["schema"]}));
                }
                op.insert(
                    "consumes".into(),
                    Value::Array(content.keys().cloned().map(Value::String).collect()),
                );
            }
        }
        if let Some(id) = text(props, "RequestValidatorId") {
            let name = validator_of.get(id).ok_or_else(|| {
                format!("{at}, property RequestValidatorId: names no AWS::ApiGateway::RequestValidator of {api}")
            })?;
            op.insert(
                "x-amazon-apigateway-request-validator".into(),
                name.clone().into(),
            );
        }
        if let Some(integration) = props.get("Integration") {
            op.insert(INTEGRATION.into(), integration_of(integration, &at, notes)?);
        }
        op.insert("responses".into(), json!({}));
        let item = paths
            .entry(path.clone())
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .ok_or_else(|| format!("{at}: the Body's path {path} is not an object"))?;
        if item.contains_key(&key) {
            return Err(format!(
                "{at}: {} {path} is defined twice (in the Body, or by another Method)",
                key.to_ascii_uppercase()
            ));
        }
        item.insert(key, Value::Object(op));
    }

    schemes.extend(extra_schemes);
    let (schemes_at, schemas_at) = if openapi3 {
        ("/components/securitySchemes", "/components/schemas")
    } else {
        ("/securityDefinitions", "/definitions")
    };
    merge_into(&mut doc, schemes_at, schemes);
    merge_into(&mut doc, schemas_at, schemas);
    merge_into(
        &mut doc,
        "/x-amazon-apigateway-request-validators",
        validators,
    );
    let mut responses = Map::new();
    for (logical, props) in &kids.responses {
        let ty = text(props, "ResponseType")
            .ok_or_else(|| format!("{}: missing", r.at(logical, "ResponseType")))?;
        let mut response = Map::new();
        if let Some(code) = props.get("StatusCode") {
            response.insert("statusCode".into(), code.clone());
        }
        for (from, to) in [
            ("ResponseParameters", "responseParameters"),
            ("ResponseTemplates", "responseTemplates"),
        ] {
            if let Some(v) = props.get(from) {
                response.insert(to.into(), v.clone());
            }
        }
        responses.insert(ty.to_owned(), Value::Object(response));
    }
    merge_into(
        &mut doc,
        "/x-amazon-apigateway-gateway-responses",
        responses,
    );
    if doc.get("x-amazon-apigateway-binary-media-types").is_none() {
        if let Some(Value::Array(types)) = r.property(api, "BinaryMediaTypes")? {
            let types: Vec<Value> = types
                .iter()
                .filter_map(Value::as_str)
                .map(|t| Value::String(t.replace("~1", "/")))
                .collect();
            doc["x-amazon-apigateway-binary-media-types"] = Value::Array(types);
        }
    }
    if r.property(api, "Policy")?.is_some() && doc.get("x-amazon-apigateway-policy").is_none() {
        // Named at startup as not evaluated (see `extensions`).
        doc["x-amazon-apigateway-policy"] = json!({"Version": "2012-10-17", "Statement": []});
    }
    if let Some(Value::String(source)) = r.property(api, "ApiKeySourceType")? {
        doc["x-amazon-apigateway-api-key-source"] = source.into();
    }
    Ok(Built {
        export: doc,
        stages: kids.stages,
    })
}

/// Adds `entries` to the object at `pointer` (made when missing).
fn merge_into(doc: &mut Value, pointer: &str, entries: Map<String, Value>) {
    if entries.is_empty() {
        return;
    }
    let mut at = &mut *doc;
    for segment in pointer.trim_start_matches('/').split('/') {
        if !at.get(segment).is_some_and(Value::is_object) {
            at[segment] = json!({});
        }
        at = &mut at[segment];
    }
    if let Some(map) = at.as_object_mut() {
        map.extend(entries);
    }
}
