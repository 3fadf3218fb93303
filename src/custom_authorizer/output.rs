//! A Lambda authorizer's answer: `principalId`, `policyDocument`, `context`,
//! `usageIdentifierKey`.
//!
//! **[choice]** What API Gateway answers 500 for is not all recorded; here any
//! departure from the documented shape is malformed (500): a missing or
//! non-string `principalId`, a missing `policyDocument`, a `context` that is
//! not an object or holds anything but strings, numbers and booleans (`null`
//! included), a non-string `usageIdentifierKey`.

use super::policy::{MalformedPolicy, PolicyDocument};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// One `context` value: API Gateway passes strings, numbers and booleans only.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ContextValue {
    /// A JSON string.
    String(String),
    /// A JSON number, as written.
    Number(serde_json::Number),
    /// A JSON boolean.
    Bool(bool),
}

impl ContextValue {
    /// The value as API Gateway renders it in `$context.authorizer.<key>`
    /// and mapped headers: strings as they are, numbers and booleans as JSON.
    pub fn to_text(&self) -> String {
        match self {
            Self::String(s) => s.clone(),
            Self::Number(n) => n.to_string(),
            Self::Bool(b) => b.to_string(),
        }
    }

    /// The value as JSON.
    pub fn to_json(&self) -> Value {
        match self {
            Self::String(s) => Value::String(s.clone()),
            Self::Number(n) => Value::Number(n.clone()),
            Self::Bool(b) => Value::Bool(*b),
        }
    }
}

/// The authorizer's verdict as it reaches the inner service, in the request
/// extensions: `principalId` and the `context` values.
///
/// ```
/// use tower_cognito::custom_authorizer::AuthorizerOutput;
///
/// let out = AuthorizerOutput::from_json(&serde_json::json!({
///     "principalId": "user-1",
///     "policyDocument": {"Statement": []},
///     "context": {"tier": "gold", "quota": 5, "admin": false}
/// })).unwrap();
/// assert_eq!(out.principal_id(), "user-1");
/// assert_eq!(out.context_value("quota").unwrap().to_text(), "5");
/// ```
#[derive(Clone, Debug)]
pub struct AuthorizerOutput {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    principal_id: String,
    policy: PolicyDocument,
    context: BTreeMap<String, ContextValue>,
    usage_identifier_key: Option<String>,
    /// An upper bound of the memory the answer holds (see [`weight`]).
    bytes: usize,
}

/// What an answer of these parts takes in memory, over-counted: its texts
/// plus a fixed charge per allocation (map nodes, strings, statements).
fn weight(
    principal_id: &str,
    policy: &PolicyDocument,
    context: &BTreeMap<String, ContextValue>,
    usage_identifier_key: Option<&str>,
) -> usize {
    const PER_ALLOCATION: usize = 64;
    let context: usize = context
        .iter()
        .map(|(k, v)| {
            let value = match v {
                ContextValue::String(s) => s.len(),
                ContextValue::Number(n) => n.to_string().len(),
                ContextValue::Bool(_) => 0,
            };
            k.len() + value + 3 * PER_ALLOCATION
        })
        .sum();
    256 + principal_id.len()
        + usage_identifier_key.map_or(0, str::len)
        + context
        + policy.weight(PER_ALLOCATION)
}

/// Why an authorizer's answer could not be used (a 500).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MalformedOutput(pub(crate) String);

impl std::fmt::Display for MalformedOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "malformed authorizer output: {}", self.0)
    }
}

impl std::error::Error for MalformedOutput {}

impl From<MalformedPolicy> for MalformedOutput {
    fn from(e: MalformedPolicy) -> Self {
        Self(e.0.to_owned())
    }
}

impl AuthorizerOutput {
    /// Reads an authorizer's JSON answer.
    pub fn from_json(value: &Value) -> Result<Self, MalformedOutput> {
        let bad = |m: &str| MalformedOutput(m.to_owned());
        let obj = value.as_object().ok_or_else(|| bad("not an object"))?;
        let principal_id = obj
            .get("principalId")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("principalId missing or not a string"))?
            .to_owned();
        let policy = PolicyDocument::from_json(
            obj.get("policyDocument")
                .ok_or_else(|| bad("policyDocument missing"))?,
        )?;
        let context = match obj.get("context") {
            None => BTreeMap::new(),
            Some(Value::Object(map)) => context(map)?,
            Some(_) => return Err(bad("context is not an object")),
        };
        let usage_identifier_key = match obj.get("usageIdentifierKey") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(bad("usageIdentifierKey is not a string")),
        };
        let bytes = weight(
            &principal_id,
            &policy,
            &context,
            usage_identifier_key.as_deref(),
        );
        Ok(Self {
            inner: Arc::new(Inner {
                principal_id,
                policy,
                context,
                usage_identifier_key,
                bytes,
            }),
        })
    }

    /// An upper bound of the memory this answer holds: what the result
    /// cache charges for it.
    pub(crate) fn bytes(&self) -> usize {
        self.inner.bytes
    }

    /// `principalId`: `$context.authorizer.principalId`.
    pub fn principal_id(&self) -> &str {
        &self.inner.principal_id
    }

    /// The policy, kept so a cached answer is judged again for each method ARN.
    pub fn policy(&self) -> &PolicyDocument {
        &self.inner.policy
    }

    /// One `context` value: `$context.authorizer.<key>`.
    pub fn context_value(&self, key: &str) -> Option<&ContextValue> {
        self.inner.context.get(key)
    }

    /// All `context` values, in key order.
    pub fn context(&self) -> impl Iterator<Item = (&str, &ContextValue)> {
        self.inner.context.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// `usageIdentifierKey`, when the authorizer gave one.
    pub fn usage_identifier_key(&self) -> Option<&str> {
        self.inner.usage_identifier_key.as_deref()
    }

    /// `requestContext.authorizer` of a Lambda proxy event: the `context`
    /// values plus `principalId`, as API Gateway sends them on.
    pub fn to_request_context(&self) -> Value {
        let mut map: Map<String, Value> = self
            .inner
            .context
            .iter()
            .map(|(k, v)| (k.clone(), v.to_json()))
            .collect();
        map.insert(
            "principalId".to_owned(),
            Value::String(self.inner.principal_id.clone()),
        );
        Value::Object(map)
    }
}

fn context(map: &Map<String, Value>) -> Result<BTreeMap<String, ContextValue>, MalformedOutput> {
    map.iter()
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) => ContextValue::String(s.clone()),
                Value::Number(n) => ContextValue::Number(n.clone()),
                Value::Bool(b) => ContextValue::Bool(*b),
                _ => {
                    return Err(MalformedOutput(format!(
                        "context value {k:?} is not a string, number or boolean"
                    )))
                }
            };
            Ok((k.clone(), v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn out(v: Value) -> Result<AuthorizerOutput, MalformedOutput> {
        AuthorizerOutput::from_json(&v)
    }

    #[test]
    fn reads_and_refuses() {
        let pd = json!({"Statement": []});
        let ok = out(json!({"principalId":"p","policyDocument":pd,"context":{"a":"x","n":1.5,"b":true},"usageIdentifierKey":"k"})).unwrap();
        assert_eq!(ok.usage_identifier_key(), Some("k"));
        assert_eq!(
            ok.to_request_context(),
            json!({"a":"x","n":1.5,"b":true,"principalId":"p"})
        );
        for bad in [
            json!([]),
            json!({"policyDocument": pd}),
            json!({"principalId": 1, "policyDocument": pd}),
            json!({"principalId": "p"}),
            json!({"principalId": "p", "policyDocument": pd, "context": {"o": {}}}),
            json!({"principalId": "p", "policyDocument": pd, "context": {"a": [1]}}),
            json!({"principalId": "p", "policyDocument": pd, "context": {"n": null}}),
            json!({"principalId": "p", "policyDocument": pd, "context": "x"}),
            json!({"principalId": "p", "policyDocument": pd, "usageIdentifierKey": 3}),
        ] {
            assert!(out(bad.clone()).is_err(), "{bad}");
        }
    }
}
