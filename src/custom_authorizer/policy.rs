//! The IAM policy a Lambda authorizer returns, evaluated as API Gateway does.
//!
//! Only `execute-api:Invoke` matters: a statement counts when its actions
//! cover `execute-api:Invoke` (`*`, `execute-api:*`, ... with IAM's
//! wildcards, case-insensitively as IAM compares actions) and its resources
//! cover the method ARN (case-sensitively). An explicit `Deny` wins over any
//! `Allow`; no matching `Allow` is a denial. (AWS's "Output from an API
//! Gateway Lambda authorizer" points to IAM's statement reference for
//! `execute-api`; IAM's evaluation logic gives the rest.)
//!
//! - `NotAction` and `NotResource`, as IAM reads them: the statement applies
//!   to every action (resource) its list does *not* match. A statement takes
//!   one of `Action` / `NotAction` and one of `Resource` / `NotResource`;
//!   both or neither is malformed (500), as IAM refuses such a policy.
//! - `Condition`: **\[choice\]** the gateway has no request context to test
//!   a condition against, so it fails closed statement by statement: an
//!   `Allow` with a `Condition` never allows (its condition is taken as
//!   false), a `Deny` with one denies wherever its actions and resources
//!   match (its condition is taken as true). A policy whose only grant is
//!   conditional is therefore a 403.
//! - **\[choice\]** Refused as malformed (500) rather than guessed at: an
//!   `Effect` other than `Allow`/`Deny`, and a non-string or empty
//!   `Action`/`Resource` list.

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
    /// Whether `Action` / `NotAction` covers `execute-api:Invoke`: the same
    /// for every request, so decided once when the answer is read.
    invokes: bool,
    resources: Vec<String>,
    /// `NotResource`: the statement covers the ARNs its list does not match.
    not_resource: bool,
    /// A `Condition` the gateway cannot test (see the module docs).
    conditional: bool,
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
    /// Its texts plus `per_allocation` for each statement and resource.
    pub(crate) fn weight(&self, per_allocation: usize) -> usize {
        self.statements
            .iter()
            .map(|st| {
                per_allocation
                    + st.resources
                        .iter()
                        .map(|r| r.len() + per_allocation)
                        .sum::<usize>()
            })
            .sum()
    }

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
            if !s.invokes {
                continue;
            }
            let listed = s.resources.iter().any(|r| wildcard_match(r, method_arn));
            if listed == s.not_resource {
                continue;
            }
            match (s.allow, s.conditional) {
                (false, _) => return Decision::ExplicitDeny,
                // An Allow whose condition cannot be tested grants nothing.
                (true, true) => {}
                (true, false) => allowed = true,
            }
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
        let allow = match obj.get("Effect").and_then(Value::as_str) {
            Some("Allow") => true,
            Some("Deny") => false,
            _ => return Err(MalformedPolicy("Effect must be Allow or Deny")),
        };
        let (actions, not_action) = one_of(obj, "Action", "NotAction")?;
        let (resources, not_resource) = one_of(obj, "Resource", "NotResource")?;
        // IAM compares actions case-insensitively.
        let listed = actions
            .iter()
            .any(|a| wildcard_match(&a.to_ascii_lowercase(), "execute-api:invoke"));
        Ok(Self {
            allow,
            invokes: listed != not_action,
            resources,
            not_resource,
            conditional: obj.contains_key("Condition"),
        })
    }
}

/// The list under `key` or under `not_key` (exactly one of them), and
/// whether it was `not_key`.
fn one_of(
    obj: &serde_json::Map<String, Value>,
    key: &'static str,
    not_key: &'static str,
) -> Result<(Vec<String>, bool), MalformedPolicy> {
    match (obj.get(key), obj.get(not_key)) {
        (Some(v), None) => Ok((strings(Some(v), key)?, false)),
        (None, Some(v)) => Ok((strings(Some(v), not_key)?, true)),
        (Some(_), Some(_)) => Err(MalformedPolicy(match key {
            "Action" => "a statement has both Action and NotAction",
            _ => "a statement has both Resource and NotResource",
        })),
        (None, None) => Err(MalformedPolicy(match key {
            "Action" => "a statement has neither Action nor NotAction",
            _ => "a statement has neither Resource nor NotResource",
        })),
    }
}

/// A string or a non-empty list of strings.
fn strings(value: Option<&Value>, what: &'static str) -> Result<Vec<String>, MalformedPolicy> {
    let bad = MalformedPolicy(match what {
        "Action" => "Action must be a string or a list of strings",
        "NotAction" => "NotAction must be a string or a list of strings",
        "NotResource" => "NotResource must be a string or a list of strings",
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
    // ASCII (method ARNs are: their paths are percent-encoded) is matched
    // byte by byte without copying; otherwise by characters, so `?` takes
    // one character, not one byte.
    if pattern.is_ascii() && text.is_ascii() {
        return matches(pattern.as_bytes(), text.as_bytes(), b'*', b'?');
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    matches(&p, &t, '*', '?')
}

fn matches<T: Copy + PartialEq>(p: &[T], t: &[T], star: T, one: T) -> bool {
    let seg_eq = |seg: &[T], text: &[T]| {
        seg.len() == text.len() && seg.iter().zip(text).all(|(p, c)| *p == one || p == c)
    };
    let find = |seg: &[T], text: &[T]| {
        if seg.len() > text.len() {
            return None;
        }
        (0..=text.len() - seg.len()).find(|&i| seg_eq(seg, &text[i..i + seg.len()]))
    };
    let mut segments = p.split(|&c| c == star);
    // No star: the one segment must cover the whole text.
    let first = segments.next().unwrap_or(&[]);
    if first.len() == p.len() {
        return seg_eq(first, t);
    }
    if t.len() < first.len() || !seg_eq(first, &t[..first.len()]) {
        return false;
    }
    // The last segment is anchored at the end of the text.
    let last = p.rsplit(|&c| c == star).next().unwrap_or(&[]);
    let mut pos = first.len();
    if t.len() < pos + last.len() {
        return false;
    }
    let end = t.len() - last.len();
    if !seg_eq(last, &t[end..]) {
        return false;
    }
    // The segments between the first star and the last one.
    let (first_star, last_star) = (first.len(), p.len() - last.len() - 1);
    let middle = p.get(first_star + 1..last_star).unwrap_or(&[]);
    for seg in middle.split(|&c| c == star) {
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
        assert!(wildcard_match("**", "ab"));
        assert!(wildcard_match("a**b", "ab"));
        assert!(wildcard_match("a*?*b", "axb"));
        assert!(!wildcard_match("a*?*b", "ab"));
        assert!(wildcard_match("é*x", "éyyx"));
        assert!(!wildcard_match("?", "é?"));
        assert!(wildcard_match("", ""));
        assert!(!wildcard_match("", "a"));
    }

    /// Every pattern over `ab*?` and text over `ab` up to 5 characters,
    /// against a plain backtracking matcher.
    #[test]
    fn agrees_with_backtracking() {
        fn naive(p: &[u8], t: &[u8]) -> bool {
            match (p.first(), t.first()) {
                (None, _) => t.is_empty(),
                (Some(b'*'), _) => naive(&p[1..], t) || (!t.is_empty() && naive(p, &t[1..])),
                (Some(_), None) => false,
                (Some(&c), Some(&d)) => (c == b'?' || c == d) && naive(&p[1..], &t[1..]),
            }
        }
        fn all(alphabet: &[u8], max: usize) -> Vec<String> {
            let mut out = vec![String::new()];
            let mut last = vec![String::new()];
            for _ in 0..max {
                last = last
                    .iter()
                    .flat_map(|s| alphabet.iter().map(move |&c| format!("{s}{}", c as char)))
                    .collect();
                out.extend(last.iter().cloned());
            }
            out
        }
        for p in all(b"ab*?", 5) {
            for t in all(b"ab", 5) {
                let expected = naive(p.as_bytes(), t.as_bytes());
                assert_eq!(wildcard_match(&p, &t), expected, "{p:?} on {t:?}");
            }
        }
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

    /// IAM's `NotAction` / `NotResource`: the statement covers what its
    /// list does not match.
    #[test]
    fn not_action_and_not_resource_as_iam_reads_them() {
        let allow_all = json!({"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"});
        // NotAction listing other services' actions covers Invoke.
        let s3 = json!({"Effect":"Allow","NotAction":["s3:*","dynamodb:*"],"Resource":"*"});
        assert_eq!(eval(json!({"Statement": [s3]})), Ok(Decision::Allow));
        // NotAction listing Invoke (by a wildcard) does not.
        let not_invoke = json!({"Effect":"Allow","NotAction":"execute-api:*","Resource":"*"});
        assert_eq!(
            eval(json!({"Statement": [not_invoke]})),
            Ok(Decision::NoAllow)
        );
        // Deny everything except GET: this GET stays allowed...
        let deny_not_get = json!({"Effect":"Deny","Action":"execute-api:Invoke",
            "NotResource":"arn:aws:execute-api:*:*:abc123/*/GET/*"});
        assert_eq!(
            eval(json!({"Statement": [allow_all.clone(), deny_not_get.clone()]})),
            Ok(Decision::Allow)
        );
        // ...and a POST is explicitly denied.
        let post = ARN.replace("/GET/", "/POST/");
        let policy = PolicyDocument::from_json(&json!({"Statement": [allow_all, deny_not_get]}));
        assert_eq!(policy.unwrap().evaluate(&post), Decision::ExplicitDeny);
        // An Allow of every ARN but this one.
        let allow_not_this = json!({"Effect":"Allow","Action":"*","NotResource":[ARN]});
        assert_eq!(
            eval(json!({"Statement": [allow_not_this]})),
            Ok(Decision::NoAllow)
        );
        // A Deny by NotAction of Invoke denies nothing here.
        let deny_not_invoke =
            json!({"Effect":"Deny","NotAction":"execute-api:Invoke","Resource":"*"});
        let allow = json!({"Effect":"Allow","Action":"*","Resource":"*"});
        assert_eq!(
            eval(json!({"Statement": [allow, deny_not_invoke]})),
            Ok(Decision::Allow)
        );
    }

    /// A `Condition` cannot be tested: fail closed, statement by statement.
    #[test]
    fn conditions_fail_closed() {
        let cond = json!({"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}});
        let allow_if = json!({"Effect":"Allow","Action":"*","Resource":"*","Condition":cond});
        let allow = json!({"Effect":"Allow","Action":"*","Resource":"*"});
        let deny_if = json!({"Effect":"Deny","Action":"*","Resource":"*","Condition":cond});
        let deny_other_if =
            json!({"Effect":"Deny","Action":"*","Resource":"*/POST/*","Condition":cond});
        // A conditional Allow alone grants nothing.
        assert_eq!(
            eval(json!({"Statement": [allow_if.clone()]})),
            Ok(Decision::NoAllow)
        );
        // An unconditional Allow beside it still does.
        assert_eq!(
            eval(json!({"Statement": [allow_if, allow.clone()]})),
            Ok(Decision::Allow)
        );
        // A conditional Deny denies where it matches, and only there.
        assert_eq!(
            eval(json!({"Statement": [allow.clone(), deny_if]})),
            Ok(Decision::ExplicitDeny)
        );
        assert_eq!(
            eval(json!({"Statement": [allow, deny_other_if]})),
            Ok(Decision::Allow)
        );
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
            json!({"Statement": [{"Effect":"Allow","Action":"*","NotAction":"s3:*","Resource":"*"}]}),
            json!({"Statement": [{"Effect":"Allow","Action":"*","Resource":"*","NotResource":"*"}]}),
            json!({"Statement": [{"Effect":"Allow","Action":"*"}]}),
            json!({"Statement": [{"Effect":"Allow","NotAction":[],"Resource":"*"}]}),
            json!({"Statement": [{"Effect":"Allow","Action":"*","NotResource":[7]}]}),
        ] {
            assert!(eval(bad.clone()).is_err(), "{bad}");
        }
    }
}
