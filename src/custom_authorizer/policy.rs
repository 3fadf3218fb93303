//! The IAM policy a Lambda authorizer returns, evaluated as API Gateway does.
//!
//! Only `execute-api:Invoke` matters: a statement counts when one of its
//! actions matches `execute-api:Invoke` (`*`, `execute-api:*`, ... with IAM's
//! wildcards, case-insensitively as IAM compares actions) and one of its
//! resources matches the method ARN (case-sensitively). An explicit `Deny`
//! wins over any `Allow`; no matching `Allow` is a denial.
//!
//! **[choice]** A statement API Gateway might read differently is refused as
//! malformed (500) rather than guessed at: `NotAction`, `NotResource`, an
//! `Effect` other than `Allow`/`Deny`, a missing `Action` or `Resource`, or a
//! non-string element in them. `Condition` blocks are not evaluated, so a
//! statement carrying one is malformed too: ignoring it could widen an `Allow`.

use serde_json::Value;

/// What a policy says about one method ARN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// A matching `Allow` and no matching `Deny`.
    Allow,
    /// A matching `Deny`: 403 "... with an explicit deny".
    ExplicitDeny,
    /// No matching statement: 403 "User is not authorized to access this resource".
    NoAllow,
}

/// A parsed `policyDocument`: its `Statement` reduced to what API Gateway reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyDocument {
    statements: Vec<Statement>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Statement {
    allow: bool,
    actions: Vec<String>,
    resources: Vec<String>,
}

/// Why a `policyDocument` could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MalformedPolicy(pub(crate) &'static str);

impl std::fmt::Display for MalformedPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "malformed policyDocument: {}", self.0)
    }
}

impl std::error::Error for MalformedPolicy {}

impl PolicyDocument {
    /// Reads a `policyDocument` object (`Statement` an object or a list).
    ///
    /// ```
    /// use tower_cognito::custom_authorizer::{Decision, PolicyDocument};
    ///
    /// let policy = PolicyDocument::from_json(&serde_json::json!({
    ///     "Version": "2012-10-17",
    ///     "Statement": [{
    ///         "Action": "execute-api:Invoke",
    ///         "Effect": "Allow",
    ///         "Resource": "arn:aws:execute-api:us-east-1:123456789012:api/prod/GET/*"
    ///     }]
    /// })).unwrap();
    /// let arn = "arn:aws:execute-api:us-east-1:123456789012:api/prod/GET/pets/1";
    /// assert_eq!(policy.evaluate(arn), Decision::Allow);
    /// assert_eq!(
    ///     policy.evaluate("arn:aws:execute-api:us-east-1:123456789012:api/prod/POST/pets"),
    ///     Decision::NoAllow
    /// );
    /// ```
    pub fn from_json(value: &Value) -> Result<Self, MalformedPolicy> {
        let obj = value.as_object().ok_or(MalformedPolicy("not an object"))?;
        let statements = match obj.get("Statement") {
            Some(Value::Array(list)) => list.iter().map(Statement::parse).collect(),
            Some(one @ Value::Object(_)) => Statement::parse(one).map(|s| vec![s]),
            _ => Err(MalformedPolicy(
                "Statement missing or not an object or list",
            )),
        }?;
        Ok(Self { statements })
    }

    /// The decision for one method ARN: explicit `Deny` over `Allow`, no
    /// `Allow` a denial.
    pub fn evaluate(&self, method_arn: &str) -> Decision {
        let mut allowed = false;
        for s in &self.statements {
            let action = s
                .actions
                .iter()
                .any(|a| wildcard_match(&a.to_ascii_lowercase(), "execute-api:invoke"));
            if !action || !s.resources.iter().any(|r| wildcard_match(r, method_arn)) {
                continue;
            }
            if !s.allow {
                return Decision::ExplicitDeny;
            }
            allowed = true;
        }
        if allowed {
            Decision::Allow
        } else {
            Decision::NoAllow
        }
    }
}

impl Statement {
    fn parse(value: &Value) -> Result<Self, MalformedPolicy> {
        let obj = value
            .as_object()
            .ok_or(MalformedPolicy("a statement is not an object"))?;
        for refused in ["NotAction", "NotResource", "Condition"] {
            if obj.contains_key(refused) {
                return Err(MalformedPolicy(
                    "NotAction, NotResource and Condition are not supported",
                ));
            }
        }
        let allow = match obj.get("Effect").and_then(Value::as_str) {
            Some("Allow") => true,
            Some("Deny") => false,
            _ => return Err(MalformedPolicy("Effect must be Allow or Deny")),
        };
        Ok(Self {
            allow,
            actions: strings(obj.get("Action"), "Action")?,
            resources: strings(obj.get("Resource"), "Resource")?,
        })
    }
}

/// A string or a non-empty list of strings.
fn strings(value: Option<&Value>, what: &'static str) -> Result<Vec<String>, MalformedPolicy> {
    let bad = MalformedPolicy(match what {
        "Action" => "Action must be a string or a list of strings",
        _ => "Resource must be a string or a list of strings",
    });
    match value {
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(list)) if !list.is_empty() => list
            .iter()
            .map(|v| v.as_str().map(str::to_owned).ok_or(bad.clone()))
            .collect(),
        _ => Err(bad),
    }
}

/// IAM's wildcards: `*` any run of characters (`/` included), `?` one character.
///
/// Greedy by segments, never backtracking past a `*`: each literal segment
/// between stars is placed at its leftmost occurrence after the previous one
/// (leftmost is always safe, as the next star absorbs whatever follows). So
/// the cost is at most text length × pattern length, never exponential, even
/// for `*a*a*a*…b` against `aaaa…`.
///
/// ```
/// use tower_cognito::custom_authorizer::wildcard_match;
///
/// assert!(wildcard_match("arn:*:api/*/GET/pets/*", "arn:aws:api/prod/GET/pets/1"));
/// assert!(wildcard_match("a?c", "abc"));
/// assert!(!wildcard_match("a?c", "ac"));
/// ```
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let mut segments = p.split(|&c| c == '*');
    // No star: the one segment must cover the whole text.
    let first = segments.next().unwrap_or(&[]);
    if !p.contains(&'*') {
        return first.len() == t.len() && seg_eq(first, &t);
    }
    if t.len() < first.len() || !seg_eq(first, &t[..first.len()]) {
        return false;
    }
    let mut rest: Vec<&[char]> = segments.collect();
    // The last segment is anchored at the end of the text.
    let last = rest.pop().unwrap_or(&[]);
    let mut pos = first.len();
    if t.len() < pos + last.len() {
        return false;
    }
    let end = t.len() - last.len();
    if !seg_eq(last, &t[end..]) {
        return false;
    }
    for seg in rest {
        if seg.is_empty() {
            continue;
        }
        match find(seg, &t[pos..end]) {
            Some(at) => pos += at + seg.len(),
            None => return false,
        }
    }
    true
}

fn seg_eq(seg: &[char], text: &[char]) -> bool {
    seg.len() == text.len() && seg.iter().zip(text).all(|(p, c)| *p == '?' || p == c)
}

fn find(seg: &[char], text: &[char]) -> Option<usize> {
    if seg.len() > text.len() {
        return None;
    }
    (0..=text.len() - seg.len()).find(|&i| seg_eq(seg, &text[i..i + seg.len()]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/pets/1";

    #[test]
    fn wildcards() {
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("*", "x"));
        assert!(wildcard_match("a*", "a"));
        assert!(wildcard_match("*a", "ba"));
        assert!(!wildcard_match("*a", "ab"));
        assert!(wildcard_match("a*b*c", "aXbYbc"));
        assert!(!wildcard_match("a*b*c", "aXcYb"));
        assert!(!wildcard_match("ab*ba", "aba"));
        assert!(wildcard_match("ab*ba", "abba"));
        assert!(wildcard_match("??", "éx"));
        assert!(!wildcard_match("abc", "abcd"));
        assert!(wildcard_match("*/GET/*", ARN));
        assert!(!wildcard_match("*/POST/*", ARN));
    }

    #[test]
    fn many_stars_stay_cheap() {
        // Exponential with naive backtracking; here a few million char comparisons.
        let pattern = format!("{}b", "*a".repeat(200));
        let text = "a".repeat(5000);
        assert!(!wildcard_match(&pattern, &text));
        assert!(wildcard_match(&pattern, &format!("{text}b")));
    }

    fn eval(policy: Value) -> Result<Decision, MalformedPolicy> {
        PolicyDocument::from_json(&policy).map(|p| p.evaluate(ARN))
    }

    #[test]
    fn deny_over_allow_and_action_forms() {
        let allow = json!({"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"});
        let deny =
            json!({"Effect":"Deny","Action":["s3:GetObject","execute-api:*"],"Resource":[ARN]});
        assert_eq!(
            eval(json!({"Statement": [allow.clone()]})),
            Ok(Decision::Allow)
        );
        assert_eq!(
            eval(json!({"Statement": allow.clone()})),
            Ok(Decision::Allow)
        );
        assert_eq!(
            eval(json!({"Statement": [allow, deny.clone()]})),
            Ok(Decision::ExplicitDeny)
        );
        assert_eq!(
            eval(json!({"Statement": [deny]})),
            Ok(Decision::ExplicitDeny)
        );
        assert_eq!(eval(json!({"Statement": []})), Ok(Decision::NoAllow));
        let other = json!({"Effect":"Allow","Action":"s3:*","Resource":"*"});
        assert_eq!(eval(json!({"Statement": [other]})), Ok(Decision::NoAllow));
        let star = json!({"Effect":"Allow","Action":"*","Resource":"arn:aws:execute-api:*:*:abc123/prod/GET/pets/?"});
        assert_eq!(eval(json!({"Statement": [star]})), Ok(Decision::Allow));
        let case =
            json!({"Effect":"Allow","Action":"Execute-API:invoke","Resource":ARN.to_uppercase()});
        assert_eq!(eval(json!({"Statement": [case]})), Ok(Decision::NoAllow));
    }

    #[test]
    fn malformed() {
        for bad in [
            json!(null),
            json!({}),
            json!({"Statement": "x"}),
            json!({"Statement": [{"Effect":"allow","Action":"*","Resource":"*"}]}),
            json!({"Statement": [{"Effect":"Allow","Resource":"*"}]}),
            json!({"Statement": [{"Effect":"Allow","Action":[],"Resource":"*"}]}),
            json!({"Statement": [{"Effect":"Allow","Action":"*","Resource":[1]}]}),
            json!({"Statement": [{"Effect":"Allow","NotAction":"s3:*","Resource":"*"}]}),
            json!({"Statement": [{"Effect":"Allow","Action":"*","Resource":"*","Condition":{}}]}),
        ] {
            assert!(eval(bad.clone()).is_err(), "{bad}");
        }
    }
}
