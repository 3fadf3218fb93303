//! SAM's `Auth`: the authorizers, IAM and API-key schemes, each event's
//! authorization.

use super::*;

/// An event's `Auth`, checked and applied as SAM's `add_auth_to_swagger`.
pub(super) fn add_event_auth(
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

pub(super) fn add_iam_scheme(doc: &mut Value) {
    let schemes = object_at(doc, "securityDefinitions");
    schemes.entry("AWS_IAM").or_insert_with(|| {
        json!({"x-amazon-apigateway-authtype": "awsSigv4", "type": "apiKey", "name": "Authorization", "in": "header"})
    });
}

pub(super) fn add_api_key_scheme(doc: &mut Value) {
    let schemes = object_at(doc, "securityDefinitions");
    schemes
        .entry("api_key")
        .or_insert_with(|| json!({"type": "apiKey", "name": "x-api-key", "in": "header"}));
}

/// One authorizer of `Auth.Authorizers` as SAM writes its security scheme.
pub(super) fn authorizer_scheme(name: &str, authorizer: &Value) -> Result<Value, String> {
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
pub(super) fn add_auth(
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
