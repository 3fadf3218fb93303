//! Nothing in an export is left silently unenforced: every API Gateway
//! extension (AWS's list, "API Gateway extensions to OpenAPI") is either
//! enforced, or named at startup with what the gateway does instead; and
//! methods protected by what the gateway cannot check (IAM, API keys,
//! Lambda authorizers) are answered as AWS answers a request without valid
//! credentials, never served as public.

use std::collections::BTreeMap;

use http::HeaderMap;
use serde_json::Value;

/// What the gateway does with an extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Handling {
    Enforced,
    /// Not enforced: what happens instead.
    Instead(&'static str),
}

use Handling::{Enforced, Instead};

/// Every top-level extension of AWS's list, REST and HTTP APIs alike.
pub(crate) const EXTENSIONS: &[(&str, Handling)] = &[
    ("x-amazon-apigateway-any-method", Enforced),
    ("x-amazon-apigateway-api-key-source", Instead("API keys are not checked: methods that require one answer 403 Forbidden (--refuse-unsupported-auth)")),
    ("x-amazon-apigateway-auth", Enforced),
    ("x-amazon-apigateway-authorizer", Enforced),
    ("x-amazon-apigateway-authtype", Enforced),
    ("x-amazon-apigateway-binary-media-types", Enforced),
    ("x-amazon-apigateway-cors", Instead("HTTP API CORS is not applied; use --cors-origin")),
    ("x-amazon-apigateway-documentation", Instead("documentation only: nothing to enforce")),
    ("x-amazon-apigateway-endpoint-access-mode", Instead("served on the gateway's own listener")),
    ("x-amazon-apigateway-endpoint-configuration", Instead("served on the gateway's own listener (no execute-api endpoint, VPC endpoint or disabled default endpoint)")),
    ("x-amazon-apigateway-gateway-responses", Enforced),
    ("x-amazon-apigateway-importexport-version", Instead("export metadata: nothing to enforce")),
    ("x-amazon-apigateway-integration", Enforced),
    ("x-amazon-apigateway-integrations", Instead("HTTP API reusable integrations are not read")),
    ("x-amazon-apigateway-minimum-compression-size", Instead("responses are not compressed")),
    ("x-amazon-apigateway-policy", Instead("the resource policy is not evaluated: every client may call the API")),
    ("x-amazon-apigateway-request-validator", Enforced),
    ("x-amazon-apigateway-request-validators", Enforced),
    ("x-amazon-apigateway-security-policy", Instead("TLS is not terminated by the gateway")),
    ("x-amazon-apigateway-tag-value", Instead("tags are metadata: nothing to enforce")),
];

/// Keys of `x-amazon-apigateway-integration` and what becomes of them.
pub(crate) const INTEGRATION_KEYS: &[(&str, Handling)] = &[
    ("type", Enforced),
    ("uri", Enforced),
    ("httpMethod", Enforced),
    ("requestParameters", Enforced),
    ("requestTemplates", Enforced),
    ("responses", Enforced),
    ("passthroughBehavior", Enforced),
    ("timeoutInMillis", Enforced),
    ("connectionType", Enforced),
    (
        "connectionId",
        Instead("the VPC link is not used: the uri's host (or --integration-base) is called"),
    ),
    ("credentials", Instead("calls are not signed with the role")),
    (
        "cacheKeyParameters",
        Instead("integration responses are not cached"),
    ),
    (
        "cacheNamespace",
        Instead("integration responses are not cached"),
    ),
    (
        "contentHandling",
        Instead("bodies are not converted between text and binary"),
    ),
    (
        "tlsConfig",
        Instead("backend certificates are always verified"),
    ),
    (
        "integrationSubtype",
        Instead("HTTP API AWS service integrations are not supported"),
    ),
    (
        "payloadFormatVersion",
        Instead("Lambda events use payload format 1.0"),
    ),
];

/// The startup warnings for `document`: each extension (and integration
/// key) not enforced, once per name with how often it appears.
pub(crate) fn notices(document: &Value) -> Vec<String> {
    let mut seen: BTreeMap<String, (String, usize)> = BTreeMap::new();
    walk(document, &mut String::new(), &mut seen);
    seen.into_iter()
        .map(|(what, (first, count))| {
            let more = match count {
                1 => String::new(),
                n => format!(" and {} more", n - 1),
            };
            format!("{what} (#{first}{more})")
        })
        .collect()
}

fn note(seen: &mut BTreeMap<String, (String, usize)>, what: String, at: &str) {
    let entry = seen.entry(what).or_insert_with(|| (at.to_owned(), 0));
    entry.1 += 1;
}

/// Walks the export (already bounded in size and depth by the import).
fn walk(value: &Value, pointer: &mut String, seen: &mut BTreeMap<String, (String, usize)>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
                if key.starts_with("x-amazon-apigateway-") {
                    extension(key, child, pointer, seen);
                }
                walk(child, pointer, seen);
                pointer.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&i.to_string());
                walk(child, pointer, seen);
                pointer.truncate(len);
            }
        }
        _ => {}
    }
}

/// Notes an extension found at `pointer` unless it is enforced, and the
/// keys of an integration the same way.
fn extension(
    key: &str,
    value: &Value,
    pointer: &str,
    seen: &mut BTreeMap<String, (String, usize)>,
) {
    match EXTENSIONS.iter().find(|(name, _)| *name == key) {
        Some((_, Enforced)) => {}
        Some((_, Instead(what))) => note(seen, format!("{key}: not enforced: {what}"), pointer),
        None => note(
            seen,
            format!("{key}: unknown extension, not enforced"),
            pointer,
        ),
    }
    let (Some(integration), "x-amazon-apigateway-integration") = (value.as_object(), key) else {
        return;
    };
    for name in integration.keys() {
        let what = match INTEGRATION_KEYS.iter().find(|(k, _)| k == name) {
            Some((_, Enforced)) => continue,
            Some((_, Instead(what))) => format!("not enforced: {what}"),
            None => "unknown key, not enforced".to_owned(),
        };
        note(seen, format!("{key}.{name}: {what}"), pointer);
    }
}

/// A method protected by what the gateway does not check, answered as AWS
/// answers a request without valid credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// `AWS_IAM`: 403 Missing Authentication Token unless signed; signed,
    /// 403 as for a key AWS does not know **[choice]**.
    Iam,
    /// An API key: 403 Forbidden (no key can be checked here).
    ApiKey,
    /// A Lambda authorizer: 401 Unauthorized **[choice]**.
    Lambda,
    /// Any other scheme: 403 Missing Authentication Token **[choice]**.
    Other,
}

impl Refusal {
    /// What protects the operation at `pointer`, naming `scheme` (empty:
    /// `x-amazon-apigateway-auth` alone).
    pub(crate) fn classify(document: &Value, pointer: &str, scheme: &str) -> Self {
        if scheme.is_empty() {
            let auth = document
                .pointer(pointer)
                .and_then(|op| op.get("x-amazon-apigateway-auth"))
                .or_else(|| document.get("x-amazon-apigateway-auth"))
                .and_then(|a| a.get("type"))
                .and_then(Value::as_str)
                .unwrap_or("");
            return match auth.to_ascii_uppercase().as_str() {
                "AWS_IAM" => Refusal::Iam,
                "CUSTOM" => Refusal::Lambda,
                _ => Refusal::Other,
            };
        }
        let definition = document
            .pointer("/components/securitySchemes")
            .or_else(|| document.get("securityDefinitions"))
            .and_then(|all| all.get(scheme));
        let Some(definition) = definition else {
            return Refusal::Other;
        };
        let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_ascii_lowercase();
        let authtype = text(definition.get("x-amazon-apigateway-authtype"));
        let authorizer = text(definition.pointer("/x-amazon-apigateway-authorizer/type"));
        match (authtype.as_str(), authorizer.as_str()) {
            ("awssigv4", _) => Refusal::Iam,
            (_, "token" | "request") | ("custom", _) => Refusal::Lambda,
            ("", "") if text(definition.get("type")) == "apikey" => Refusal::ApiKey,
            _ => Refusal::Other,
        }
    }

    /// The answer for a request with these headers and query.
    pub(crate) fn answer(self, headers: &HeaderMap, query: Option<&str>) -> crate::answers::Answer {
        use crate::answers::Answer;
        match self {
            Refusal::Iam => {
                let signed = headers
                    .get(http::header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.trim_start().starts_with("AWS4-HMAC-SHA256"))
                    || query.is_some_and(|q| {
                        q.split('&')
                            .any(|p| p.split('=').next() == Some("X-Amz-Signature"))
                    });
                if signed {
                    Answer::InvalidSignature
                } else {
                    Answer::MissingAuthenticationToken
                }
            }
            Refusal::ApiKey => Answer::InvalidApiKey,
            Refusal::Lambda => Answer::Unauthorized,
            Refusal::Other => Answer::MissingAuthenticationToken,
        }
    }

    /// For the startup listing.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Refusal::Iam => "IAM authorization, not checked: refused (403)",
            Refusal::ApiKey => "an API key, not checked: refused (403 Forbidden)",
            Refusal::Lambda => "a Lambda authorizer, not run: refused (401)",
            Refusal::Other => "an authorizer the gateway does not run: refused (403)",
        }
    }
}

#[cfg(test)]
mod tests;
