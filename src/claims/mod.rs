//! The verified claims handed to the inner service.
//!
//! The layer inserts one [`CognitoClaims`] into the request extensions. It offers
//! typed accessors and, through [`CognitoClaims::api_gateway`], the flat map of
//! strings API Gateway hands an integration as `$context.authorizer.claims`
//! (and a Lambda proxy integration as `requestContext.authorizer.claims`):
//!
//! - strings unchanged (`scope` keeps its spaces, keys keep colons: `custom:role`);
//! - numbers as decimal text (`auth_time` → `"1544112503"`);
//! - `exp` and `iat` as a Java date in UTC: `"Thu Dec 06 17:08:23 UTC 2018"`;
//! - booleans as `"true"` / `"false"`;
//! - arrays joined with `,` (`"cognito:groups": "admin,staging-manager"`), objects in
//!   arrays as compact JSON;
//! - objects as compact JSON; `null` values are left out (a choice: AWS does not
//!   document them, and Cognito never issues them).
//!
//! ```
//! use tower_cognito::claims::CognitoClaims;
//! use serde_json::json;
//!
//! let claims = CognitoClaims::from_json(json!({
//!     "sub": "3c9c4f61",
//!     "token_use": "id",
//!     "cognito:username": "alice",
//!     "cognito:groups": ["admin", "staging-manager"],
//!     "custom:role": "owner",
//!     "exp": 1544116103,
//! }))
//! .unwrap();
//! assert_eq!(claims.username(), Some("alice"));
//! assert_eq!(claims.custom("role"), Some("owner"));
//! assert_eq!(claims.groups().collect::<Vec<_>>(), ["admin", "staging-manager"]);
//! let map = claims.api_gateway();
//! assert_eq!(map.get("cognito:groups"), Some("admin,staging-manager"));
//! assert_eq!(map.get("exp"), Some("Thu Dec 06 17:08:23 UTC 2018"));
//! ```

mod policy;
mod render;
mod size;

pub(crate) use policy::{PolicyClaims, PolicyParts, RevocationKeys};

use crate::envelope::Payload;
use serde_json::{Map, Value};
use std::fmt;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, OnceLock};

/// Which kind of Cognito token the claims came from (`token_use`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenUse {
    /// An ID token (`token_use: "id"`).
    Id,
    /// An access token (`token_use: "access"`).
    Access,
}

impl TokenUse {
    /// The kind a `token_use` claim names: `"id"` or `"access"`, nothing else.
    pub(crate) fn from_claim(value: Option<&str>) -> Option<Self> {
        match value {
            Some("id") => Some(TokenUse::Id),
            Some("access") => Some(TokenUse::Access),
            _ => None,
        }
    }

    /// `"id"` or `"access"`.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenUse::Id => "id",
            TokenUse::Access => "access",
        }
    }
}

/// The claims of a verified Cognito token. Cheap to clone (one `Arc`).
///
/// See the [module docs](self) for an example.
#[derive(Clone)]
pub struct CognitoClaims(Arc<Inner>);

struct Inner {
    /// A verified token's parsed payload, until the claims map is built from
    /// it on first use (route policy needs only a few claims).
    payload: Mutex<Option<Payload>>,
    /// Every claim, from the one parse of the payload that the checks before
    /// the signature read too.
    raw: OnceLock<Map<String, Value>>,
    token_use: TokenUse,
    exp: i64,
    /// What route policy reads, taken from `raw` when built.
    policy: PolicyClaims,
    api_gateway: OnceLock<ApiGatewayClaims>,
    /// The revocation list state in which this token was last found not
    /// revoked (see `revocation::RevocationList::check`).
    revocation_memo: AtomicU64,
}

fn token_use_of(policy: &PolicyClaims) -> Result<TokenUse, ClaimsError> {
    policy
        .token_use
        .ok_or(ClaimsError("token_use must be \"id\" or \"access\""))
}

impl fmt::Debug for CognitoClaims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Claims are not secrets the way a token is, but keep logs short.
        f.debug_struct("CognitoClaims")
            .field("sub", &self.sub())
            .field("token_use", &self.0.token_use)
            .field("exp", &self.0.exp)
            .finish_non_exhaustive()
    }
}

/// Why [`CognitoClaims::from_json`] refused a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimsError(&'static str);

impl fmt::Display for ClaimsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for ClaimsError {}

impl CognitoClaims {
    /// Builds claims from a JSON object without any verification, for tests and
    /// for code that verified the token elsewhere. Requires `token_use` (`id` or
    /// `access`) and an integer `exp`.
    pub fn from_json(value: Value) -> Result<Self, ClaimsError> {
        match value {
            Value::Object(map) => Self::from_map(map),
            _ => Err(ClaimsError("claims must be a JSON object")),
        }
    }

    fn from_map(raw: Map<String, Value>) -> Result<Self, ClaimsError> {
        let policy = PolicyClaims::from_map(&raw);
        let token_use = token_use_of(&policy)?;
        let exp = raw
            .get("exp")
            .and_then(Value::as_i64)
            .ok_or(ClaimsError("exp must be an integer"))?;
        Ok(Self(Arc::new(Inner {
            payload: Mutex::new(None),
            raw: OnceLock::from(raw),
            token_use,
            exp,
            policy,
            api_gateway: OnceLock::new(),
            revocation_memo: AtomicU64::new(0),
        })))
    }

    /// Claims of a verified token, from its parsed payload and its checked
    /// `exp`.
    pub(crate) fn from_payload(payload: Payload, exp: i64) -> Result<Self, ClaimsError> {
        let policy = payload.policy();
        let token_use = token_use_of(&policy)?;
        Ok(Self(Arc::new(Inner {
            payload: Mutex::new(Some(payload)),
            raw: OnceLock::new(),
            token_use,
            exp,
            policy,
            api_gateway: OnceLock::new(),
            revocation_memo: AtomicU64::new(0),
        })))
    }

    fn str_claim(&self, key: &str) -> Option<&str> {
        self.raw().get(key).and_then(Value::as_str)
    }

    /// Any claim by its full name, as JSON (`"custom:role"`, `"cognito:groups"`).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.raw().get(key)
    }

    /// All claims as the JSON object the token carried. Built on first use
    /// from the payload's one parse, and kept.
    pub fn raw(&self) -> &Map<String, Value> {
        self.0.raw.get_or_init(|| {
            let payload = self
                .0
                .payload
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take();
            payload.map(Payload::into_map).unwrap_or_default()
        })
    }

    /// `sub`: the user's unique, stable ID (or the app client for
    /// client-credentials access tokens).
    pub fn sub(&self) -> Option<&str> {
        self.str_claim("sub")
    }

    /// `cognito:username` (ID tokens) or `username` (access tokens).
    pub fn username(&self) -> Option<&str> {
        self.str_claim("cognito:username")
            .or_else(|| self.str_claim("username"))
    }

    /// `token_use`.
    pub fn token_use(&self) -> TokenUse {
        self.0.token_use
    }

    /// The app client: `client_id` for access tokens, `aud` for ID tokens.
    pub fn client_id(&self) -> Option<&str> {
        match self.0.token_use {
            TokenUse::Access => self.0.policy.client_id(),
            TokenUse::Id => self.0.policy.aud(),
        }
    }

    /// `aud`, when it is a string (ID tokens).
    pub fn audience(&self) -> Option<&str> {
        self.0.policy.aud()
    }

    /// `iss`.
    pub fn issuer(&self) -> Option<&str> {
        self.str_claim("iss")
    }

    /// The scopes of an access token's space-separated `scope` claim.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.0
            .policy
            .scope()
            .unwrap_or("")
            .split(' ')
            .filter(|s| !s.is_empty())
    }

    /// Whether `scope` lists this scope exactly (case-sensitive).
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes().any(|s| s == scope)
    }

    /// `cognito:groups`.
    pub fn groups(&self) -> impl Iterator<Item = &str> {
        self.0.policy.groups.iter().map(|g| &**g)
    }

    /// Whether the user is in this group.
    pub fn in_group(&self, group: &str) -> bool {
        self.groups().any(|g| g == group)
    }

    /// `email`.
    pub fn email(&self) -> Option<&str> {
        self.str_claim("email")
    }

    /// A custom attribute by its name without the prefix: `custom("role")` reads
    /// `custom:role`.
    pub fn custom(&self, name: &str) -> Option<&str> {
        self.raw()
            .iter()
            .find(|(k, _)| k.strip_prefix("custom:") == Some(name))
            .and_then(|(_, v)| v.as_str())
    }

    /// `exp`, seconds since the epoch.
    pub fn exp(&self) -> i64 {
        self.0.exp
    }

    /// `iat`, seconds since the epoch.
    pub fn iat(&self) -> Option<i64> {
        self.raw().get("iat").and_then(Value::as_i64)
    }

    /// `auth_time`, seconds since the epoch.
    pub fn auth_time(&self) -> Option<i64> {
        self.raw().get("auth_time").and_then(Value::as_i64)
    }

    /// What the revocation list looks up.
    pub(crate) fn revocation_keys(&self) -> RevocationKeys<'_> {
        self.0.policy.revocation()
    }

    pub(crate) fn revocation_memo(&self) -> &AtomicU64 {
        &self.0.revocation_memo
    }

    /// The claims as API Gateway renders them for `$context.authorizer.claims`.
    /// Rendered on first use and kept.
    pub fn api_gateway(&self) -> &ApiGatewayClaims {
        self.0.api_gateway.get_or_init(|| ApiGatewayClaims {
            entries: render::render(self.raw()),
        })
    }
}

/// API Gateway's `$context.authorizer.claims`: every claim as a string.
///
/// Serializes as a JSON object of strings. See the [module docs](self).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiGatewayClaims {
    /// Sorted by name; boxed, so each string takes exactly its length.
    entries: Box<[(Box<str>, Box<str>)]>,
}

impl ApiGatewayClaims {
    /// `$context.authorizer.claims['name']`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .binary_search_by(|(k, _)| (**k).cmp(name))
            .ok()
            .map(|i| &*self.entries[i].1)
    }

    /// All entries, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (&**k, &**v))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The map as a JSON object.
    pub fn to_json(&self) -> Value {
        Value::Object(
            self.iter()
                .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
                .collect(),
        )
    }
}

impl serde::Serialize for ApiGatewayClaims {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}
