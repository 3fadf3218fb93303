//! Security schemes: a Cognito authorizer's pools, token header and Token
//! validation, and what any other scheme is.

use std::collections::HashMap;

use serde_json::Value;

use super::import::Importer;
use super::json::{child, expect_object, kind, required_str};
use super::{ImportError, ImportedAuthorizer};

/// Cognito authorizer extension key.
const AUTHORIZER_KEY: &str = "x-amazon-apigateway-authorizer";
/// API Gateway allows at most this many user pools per authorizer.
pub(super) const MAX_PROVIDER_ARNS: usize = 1000;

impl Importer<'_> {
    /// Returns the authorizer for a Cognito scheme, `None` for any other scheme.
    pub(super) fn scheme(
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
}

/// Replaces every `${stageVariables.NAME}`; values are not scanned again.
pub(super) fn substitute_stage_variables(
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
pub(super) fn check_user_pool_arn(arn: &str, pointer: &str) -> Result<(), ImportError> {
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
pub(super) fn describe_scheme(scheme: &Value) -> String {
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
