//! The API's other SAM settings as export sections: request models and
//! parameters, CORS, gateway responses, and the last touches to the document.

use super::*;

pub(super) fn add_request_model(
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

pub(super) fn parameters_of(op: &mut Map<String, Value>) -> &mut Vec<Value> {
    if !op.get("parameters").is_some_and(Value::is_array) {
        op.insert("parameters".into(), json!([]));
    }
    op.get_mut("parameters")
        .and_then(Value::as_array_mut)
        .expect("just made a list")
}

pub(super) fn add_request_parameters(
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
pub(super) fn add_cors(doc: &mut Value, cors: &Value) -> Result<(), String> {
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

/// SAM's markers as API Gateway deploys them. `{"NONE": []}` (an event's
/// `Authorizer: NONE`) stays in the definition SAM writes, naming no
/// scheme: the method is deployed without authorization (SAM's own
/// translator tests, `api_with_auth_all_maximum`), which in an export is
/// no `security`. `api_key_false` is SAM's, never deployed.
pub(super) fn strip_markers(doc: &mut Value) {
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

pub(super) fn add_gateway_responses(doc: &mut Value, responses: &Value) -> Result<(), String> {
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
pub(super) fn openapi3_postprocess(doc: &mut Value) {
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
