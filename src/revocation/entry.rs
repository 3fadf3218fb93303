//! One revocation, as held in memory, written to a store and announced.

use super::DEFAULT_MAX_TOKEN_LIFETIME;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;
use std::time::Duration;

/// One revocation. Times are seconds since the epoch.
///
/// As stored in Redis and announced, a JSON object:
/// `{"kind":"family","id":"…","until":1700003600}` or
/// `{"kind":"user","pool":"us-east-1_…","sub":"…","before":1700000000,"until":1700086400}`.
///
/// ```
/// use tower_cognito::revocation::Revocation;
///
/// let r = Revocation::user("us-east-1_AbCdEf123", "3c9c4f61", 1_700_000_000);
/// assert_eq!(r.expires_at(), 1_700_000_000 + 86_400);
/// let json = r.to_json();
/// assert_eq!(Revocation::from_json(&json).unwrap(), r);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
#[non_exhaustive]
pub enum Revocation {
    /// Every token whose `origin_jti` is `id` (or, for a token without
    /// `origin_jti`, whose `jti` is `id`), until `until`.
    Family {
        /// The family: an `origin_jti` (or a `jti`).
        id: String,
        /// When the entry expires: the last `exp` of the tokens it covers.
        until: i64,
    },
    /// Every token of user `sub` in pool `pool` with `auth_time` before
    /// `before`, until `until`.
    User {
        /// The user pool ID (`us-east-1_AbCdEf123`), the last segment of `iss`.
        pool: String,
        /// The user's `sub`.
        sub: String,
        /// Tokens signed in before this time are refused.
        before: i64,
        /// When the entry expires: `before` plus the longest token lifetime.
        until: i64,
    },
}

/// Why a revocation or a token could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationParseError(pub(crate) String);

impl fmt::Display for RevocationParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RevocationParseError {}

impl Revocation {
    /// The family `id` (an `origin_jti`, or a `jti`) until `until`.
    pub fn family(id: impl Into<String>, until: i64) -> Self {
        Revocation::Family {
            id: id.into(),
            until,
        }
    }

    /// User `sub` of pool `pool` (its ID, or its ARN) for tokens signed in
    /// before `before`, kept for [`DEFAULT_MAX_TOKEN_LIFETIME`] (1 day).
    pub fn user(pool: impl Into<String>, sub: impl Into<String>, before: i64) -> Self {
        Self::user_with_lifetime(pool, sub, before, DEFAULT_MAX_TOKEN_LIFETIME)
    }

    /// As [`user`](Self::user), kept for `max_lifetime`: the longest ID or
    /// access token validity configured on the pool's app clients.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_cognito::revocation::Revocation;
    ///
    /// let r = Revocation::user_with_lifetime("us-east-1_AbCdEf123", "u1", 100, Duration::from_secs(3600));
    /// assert_eq!(r.expires_at(), 3700);
    /// ```
    pub fn user_with_lifetime(
        pool: impl Into<String>,
        sub: impl Into<String>,
        before: i64,
        max_lifetime: Duration,
    ) -> Self {
        let pool: String = pool.into();
        // An ARN's pool ID is after `userpool/`.
        let pool = match pool.rsplit_once("userpool/") {
            Some((_, id)) => id.to_owned(),
            None => pool,
        };
        let lifetime = i64::try_from(max_lifetime.as_secs()).unwrap_or(i64::MAX);
        Revocation::User {
            pool,
            sub: sub.into(),
            before,
            until: before.saturating_add(lifetime),
        }
    }

    /// What `RevokeToken` on this token's refresh token revokes: the token's
    /// family (`origin_jti`, else `jti`) until its `exp`. The signature is not
    /// checked (the token need not be verifiable here); only the payload is
    /// read.
    ///
    /// Tokens of the family minted later than this one (refreshed before the
    /// revocation) may expire later: revoke the family with their `exp`, or
    /// use [`family`](Self::family) with a later `until`.
    ///
    /// ```
    /// use base64::Engine as _;
    /// use tower_cognito::revocation::Revocation;
    ///
    /// let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    /// let token = format!("{}.{}.sig", b64(r#"{"alg":"RS256"}"#), b64(r#"{"origin_jti":"f1","jti":"t1","exp":1700003600}"#));
    /// assert_eq!(Revocation::of_token(&token).unwrap(), Revocation::family("f1", 1_700_003_600));
    /// assert!(Revocation::of_token("not a token").is_err());
    /// ```
    pub fn of_token(token: &str) -> Result<Self, RevocationParseError> {
        let err = |m: &str| RevocationParseError(m.to_owned());
        let token = token.trim();
        let token = token.strip_prefix("Bearer ").unwrap_or(token);
        let mut parts = token.split('.');
        let (Some(_), Some(payload), Some(_), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(err("not a JWT: expected three dot-separated segments"));
        };
        let bytes = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| err("the payload is not base64url"))?;
        let claims: Value =
            serde_json::from_slice(&bytes).map_err(|_| err("the payload is not JSON"))?;
        let text = |k: &str| {
            claims
                .get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        let id = text("origin_jti")
            .or_else(|| text("jti"))
            .ok_or_else(|| err("the token has neither origin_jti nor jti"))?;
        let until = claims
            .get("exp")
            .and_then(Value::as_i64)
            .ok_or_else(|| err("the token has no integer exp"))?;
        Ok(Self::family(id, until))
    }

    /// When the entry expires (seconds since the epoch): no token it covers
    /// can still be valid then.
    pub fn expires_at(&self) -> i64 {
        match self {
            Revocation::Family { until, .. } | Revocation::User { until, .. } => *until,
        }
    }

    /// The entry as JSON, as stored and announced.
    pub fn to_json(&self) -> String {
        // Two strings and integers: serializing cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads an entry written by [`to_json`](Self::to_json). Empty IDs are
    /// refused.
    pub fn from_json(json: &str) -> Result<Self, RevocationParseError> {
        let r: Self = serde_json::from_str(json)
            .map_err(|e| RevocationParseError(format!("not a revocation: {e}")))?;
        let empty = match &r {
            Revocation::Family { id, .. } => id.is_empty(),
            Revocation::User { pool, sub, .. } => pool.is_empty() || sub.is_empty(),
        };
        if empty {
            return Err(RevocationParseError("empty ID in a revocation".into()));
        }
        Ok(r)
    }

    /// What this entry covers, for messages: `family F until T` or
    /// `user P/S signed in before B (until T)`.
    pub fn describe(&self) -> String {
        match self {
            Revocation::Family { id, until } => format!("token family {id} until {until}"),
            Revocation::User {
                pool,
                sub,
                before,
                until,
            } => format!("user {sub} of pool {pool}: tokens signed in before {before} (entry kept until {until})"),
        }
    }
}
