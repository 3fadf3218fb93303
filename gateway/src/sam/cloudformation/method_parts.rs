//! A method's parts as export sections: its authorizer scheme and security,
//! parameters, integration and responses.

use super::*;

/// An authorizer as an export's security scheme.
pub(super) fn authorizer_scheme(
    r: &Resolver,
    logical: &str,
    props: &Map<String, Value>,
) -> Result<Value, String> {
    let ty = text(props, "Type")
        .ok_or_else(|| format!("{}: missing", r.at(logical, "Type")))?
        .to_ascii_uppercase();
    let source = text(props, "IdentitySource");
    match ty.as_str() {
        "COGNITO_USER_POOLS" => {
            let header = match source {
                None => "Authorization",
                Some(s) => s
                    .trim()
                    .strip_prefix("method.request.header.")
                    .ok_or_else(|| {
                        format!(
                            "{}: {s:?}: a Cognito authorizer reads its token from a header \
                         (method.request.header.NAME)",
                            r.at(logical, "IdentitySource")
                        )
                    })?,
            };
            let arns = props
                .get("ProviderARNs")
                .and_then(Value::as_array)
                .ok_or_else(|| {
                    format!(
                        "{}: expected a list of user pool ARNs",
                        r.at(logical, "ProviderARNs")
                    )
                })?;
            let mut extension = json!({"type": "cognito_user_pools", "providerARNs": arns});
            if let Some(expression) =
                text(props, "IdentityValidationExpression").filter(|e| !e.is_empty())
            {
                extension["identityValidationExpression"] = expression.into();
            }
            Ok(json!({
                "type": "apiKey",
                "name": header,
                "in": "header",
                "x-amazon-apigateway-authtype": "cognito_user_pools",
                "x-amazon-apigateway-authorizer": extension,
            }))
        }
        "TOKEN" | "REQUEST" => {
            let header = source
                .and_then(|s| s.trim().strip_prefix("method.request.header."))
                .unwrap_or("Unused");
            let mut extension = json!({"type": ty.to_ascii_lowercase()});
            if let Some(uri) = text(props, "AuthorizerUri") {
                extension["authorizerUri"] = uri.into();
            }
            if let Some(s) = source {
                extension["identitySource"] = s.into();
            }
            Ok(json!({
                "type": "apiKey",
                "name": header,
                "in": "header",
                "x-amazon-apigateway-authtype": "custom",
                "x-amazon-apigateway-authorizer": extension,
            }))
        }
        other => Err(format!(
            "{}: {other:?}: expected COGNITO_USER_POOLS, TOKEN or REQUEST",
            r.at(logical, "Type")
        )),
    }
}

/// A method's security requirement (one object: API Gateway allows one
/// authorizer per method, and an API key beside it).
pub(super) fn security(
    props: &Map<String, Value>,
    scheme_of: &HashMap<String, String>,
    authorizers: &BTreeMap<String, Map<String, Value>>,
    extra: &mut Map<String, Value>,
    at: &str,
) -> Result<Map<String, Value>, String> {
    let ty = text(props, "AuthorizationType")
        .unwrap_or("NONE")
        .to_ascii_uppercase();
    let authorizer = text(props, "AuthorizerId");
    let scopes = match props.get("AuthorizationScopes") {
        None => json!([]),
        Some(v @ Value::Array(_)) => v.clone(),
        Some(_) => {
            return Err(format!(
                "{at}, property AuthorizationScopes: expected a list"
            ))
        }
    };
    let mut out = Map::new();
    match ty.as_str() {
        "NONE" => {
            if authorizer.is_some() {
                return Err(format!(
                    "{at}: AuthorizerId with AuthorizationType NONE (set COGNITO_USER_POOLS or \
                     CUSTOM, or remove AuthorizerId)"
                ));
            }
        }
        "COGNITO_USER_POOLS" | "CUSTOM" => {
            let id = authorizer
                .ok_or_else(|| format!("{at}: AuthorizationType {ty} needs an AuthorizerId"))?;
            let name = scheme_of.get(id).ok_or_else(|| {
                format!(
                    "{at}, property AuthorizerId: names no AWS::ApiGateway::Authorizer of this API"
                )
            })?;
            let authorizer_type = authorizers
                .get(id)
                .and_then(|a| text(a, "Type"))
                .unwrap_or_default()
                .to_ascii_uppercase();
            let cognito = authorizer_type == "COGNITO_USER_POOLS";
            if cognito != (ty == "COGNITO_USER_POOLS") {
                return Err(format!(
                    "{at}: AuthorizationType {ty} with an authorizer of type {authorizer_type}"
                ));
            }
            // Scopes apply to Cognito authorizers only.
            out.insert(name.clone(), if cognito { scopes } else { json!([]) });
        }
        "AWS_IAM" => {
            extra.insert(
                "sigv4".into(),
                json!({"type": "apiKey", "name": "Authorization", "in": "header", "x-amazon-apigateway-authtype": "awsSigv4"}),
            );
            out.insert("sigv4".into(), json!([]));
        }
        other => {
            return Err(format!(
                "{at}, property AuthorizationType: {other:?}: expected NONE, COGNITO_USER_POOLS, \
                 CUSTOM or AWS_IAM"
            ))
        }
    }
    if props
        .get("ApiKeyRequired")
        .is_some_and(|v| v == true || v == "true")
    {
        extra.insert(
            "api_key".into(),
            json!({"type": "apiKey", "name": "x-api-key", "in": "header"}),
        );
        out.insert("api_key".into(), json!([]));
    }
    Ok(out)
}

/// `method.request.{path|querystring|header}.NAME: required` as parameters.
pub(super) fn parameters_of(parameters: &Value, openapi3: bool, at: &str) -> Result<Value, String> {
    let map = parameters
        .as_object()
        .ok_or_else(|| format!("{at}, property RequestParameters: expected an object"))?;
    let mut out = Vec::new();
    for (key, required) in map {
        let Some((location, name)) = key
            .strip_prefix("method.request.")
            .and_then(|rest| rest.split_once('.'))
        else {
            return Err(format!(
                "{at}, property RequestParameters.{key}: expected method.request.{{path|querystring|header}}.NAME"
            ));
        };
        let location = match location {
            "path" => "path",
            "querystring" | "multivaluequerystring" => "query",
            "header" | "multivalueheader" => "header",
            _ => {
                return Err(format!(
                    "{at}, property RequestParameters.{key}: unknown location {location}"
                ))
            }
        };
        let required = required.as_bool().unwrap_or(required == "true");
        out.push(if openapi3 {
            json!({"name": name, "in": location, "required": required, "schema": {"type": "string"}})
        } else {
            json!({"name": name, "in": location, "required": required, "type": "string"})
        });
    }
    Ok(Value::Array(out))
}

/// A method's `Integration` in the export's spelling.
pub(super) fn integration_of(
    integration: &Value,
    at: &str,
    notes: &mut Vec<String>,
) -> Result<Value, String> {
    let at = format!("{at}, property Integration");
    let map = integration
        .as_object()
        .ok_or_else(|| format!("{at}: expected an object"))?;
    let mut out = Map::new();
    for (key, value) in map {
        let (name, value) = match key.as_str() {
            "Type" => ("type", lower(value)),
            "PassthroughBehavior" => ("passthroughBehavior", lower(value)),
            "Uri" => ("uri", value.clone()),
            "IntegrationHttpMethod" => ("httpMethod", value.clone()),
            "RequestParameters" => ("requestParameters", value.clone()),
            "RequestTemplates" => ("requestTemplates", value.clone()),
            "TimeoutInMillis" => ("timeoutInMillis", value.clone()),
            "ContentHandling" => ("contentHandling", value.clone()),
            "ConnectionType" => ("connectionType", value.clone()),
            "ConnectionId" => ("connectionId", value.clone()),
            "Credentials" => ("credentials", value.clone()),
            "CacheKeyParameters" => ("cacheKeyParameters", value.clone()),
            "CacheNamespace" => ("cacheNamespace", value.clone()),
            "ResponseTransferMode" => ("responseTransferMode", value.clone()),
            "TlsConfig" => (
                "tlsConfig",
                json!({"insecureSkipVerification": value.get("InsecureSkipVerification").cloned().unwrap_or(json!(false))}),
            ),
            "IntegrationResponses" => ("responses", responses_of(value, &at)?),
            other => {
                notes.push(format!("{at}.{other}: not read"));
                continue;
            }
        };
        out.insert(name.to_owned(), value);
    }
    if !out.contains_key("type") {
        return Err(format!("{at}.Type: missing"));
    }
    Ok(Value::Object(out))
}

pub(super) fn lower(value: &Value) -> Value {
    value
        .as_str()
        .map_or_else(|| value.clone(), |s| Value::String(s.to_ascii_lowercase()))
}

/// `IntegrationResponses` as the export's `responses`, keyed by
/// `SelectionPattern` (`default` without one).
pub(super) fn responses_of(list: &Value, at: &str) -> Result<Value, String> {
    let at = format!("{at}.IntegrationResponses");
    let list = list
        .as_array()
        .ok_or_else(|| format!("{at}: expected a list"))?;
    let mut out = Map::new();
    for (i, entry) in list.iter().enumerate() {
        let entry = entry
            .as_object()
            .ok_or_else(|| format!("{at}.{i}: expected an object"))?;
        let key = match entry.get("SelectionPattern").and_then(Value::as_str) {
            Some(p) if !p.is_empty() => p.to_owned(),
            _ => "default".to_owned(),
        };
        let mut response = Map::new();
        let code = entry
            .get("StatusCode")
            .ok_or_else(|| format!("{at}.{i}.StatusCode: missing"))?;
        response.insert(
            "statusCode".into(),
            Value::String(
                code.as_str()
                    .map_or_else(|| code.to_string(), str::to_owned),
            ),
        );
        for (from, to) in [
            ("ResponseParameters", "responseParameters"),
            ("ResponseTemplates", "responseTemplates"),
            ("ContentHandling", "contentHandling"),
        ] {
            if let Some(v) = entry.get(from) {
                response.insert(to.into(), v.clone());
            }
        }
        if out.insert(key.clone(), Value::Object(response)).is_some() {
            return Err(format!("{at}: two responses with SelectionPattern {key:?}"));
        }
    }
    Ok(Value::Object(out))
}
