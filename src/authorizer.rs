//! The verification pipeline: header → token → issuer → times → key →
//! signature → route policy (the order of checks in the crate docs).

use crate::cache::{Lookup, TokenCache};
use crate::claims::CognitoClaims;
use crate::envelope::{Numeric, Payload};
use crate::error::RejectionKind;
use crate::keys::KeyStore;
use crate::observe::RequestMetrics;
use crate::policy::{Checks, Requirement};
use crate::token;
use http::header::{HeaderMap, HeaderName};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Largest numeric date accepted: 9999-12-31T23:59:59Z. Larger values are not
/// dates any issuer means, and would overflow arithmetic elsewhere.
const MAX_NUMERIC_DATE: i64 = 253_402_300_799;

/// How far in the future `iat` may lie beyond the leeway before the token is
/// refused: tolerates clock skew between Cognito and this host.
const IAT_SKEW: i64 = 300;

/// One authorizer: token source, pools by issuer, and the extra checks.
pub(crate) struct Authorizer {
    /// `default`, the name given to the builder, or the security scheme's.
    pub(crate) name: Box<str>,
    /// Its pools' slots in the key store, in configuration order.
    pub(crate) slots: Box<[usize]>,
    /// The Token validation expression as given, for the summary.
    pub(crate) token_validation_source: Option<Box<str>>,
    pub(crate) header: HeaderName,
    pub(crate) max_token_len: usize,
    /// Exact `iss` → pool slot in the key store: one lookup, never a scan.
    pub(crate) issuers: HashMap<Box<str>, usize>,
    pub(crate) leeway: i64,
    pub(crate) checks: Checks,
    /// Its request counters (feature `metrics`).
    pub(crate) metrics: RequestMetrics,
}

/// The outcome of one attempt.
pub(crate) enum Verdict {
    Allow(CognitoClaims),
    Deny(RejectionKind),
    /// The kid is not in the issuing pool's snapshot: refresh, then try again.
    Miss {
        slot: usize,
        kid: Box<str>,
    },
}

pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A numeric claim within `0..=MAX_NUMERIC_DATE`, when present.
fn numeric(value: Numeric) -> Result<Option<i64>, RejectionKind> {
    match value {
        Numeric::Absent => Ok(None),
        Numeric::Int(v) if (0..=MAX_NUMERIC_DATE).contains(&v) => Ok(Some(v)),
        _ => Err(RejectionKind::InvalidClaims),
    }
}

/// Time claims: `exp` required; `exp`, `iat`, `nbf`, `auth_time` type-checked.
/// Returns `exp`.
fn check_times(claims: &Payload, now: i64, leeway: i64) -> Result<i64, RejectionKind> {
    let [exp, iat, nbf, auth_time] = claims.times();
    let exp = numeric(exp)?.ok_or(RejectionKind::InvalidClaims)?;
    let iat = numeric(iat)?;
    let nbf = numeric(nbf)?;
    numeric(auth_time)?;
    // Saturating: the leeway may be as large as i64::MAX seconds.
    if exp <= now.saturating_sub(leeway) {
        return Err(RejectionKind::Expired);
    }
    if nbf.is_some_and(|nbf| nbf > now.saturating_add(leeway)) {
        return Err(RejectionKind::NotYetValid);
    }
    if iat.is_some_and(|iat| iat > now.saturating_add(leeway).saturating_add(IAT_SKEW)) {
        return Err(RejectionKind::NotYetValid);
    }
    Ok(exp)
}

impl Authorizer {
    /// Runs the whole pipeline synchronously. With `defer_miss`, an unknown kid
    /// (or a pool with no keys yet) yields [`Verdict::Miss`]; without it, the miss
    /// is final and decided from the snapshot.
    pub(crate) fn authorize(
        &self,
        keys: &KeyStore,
        cache: Option<&TokenCache>,
        headers: &HeaderMap,
        requirement: &Requirement,
        now: i64,
        defer_miss: bool,
    ) -> Verdict {
        match self.try_authorize(keys, cache, headers, requirement, now, defer_miss) {
            Ok(claims) => Verdict::Allow(claims),
            Err(Err(kind)) => Verdict::Deny(kind),
            Err(Ok((slot, kid))) => Verdict::Miss { slot, kid },
        }
    }

    /// Runs the pipeline after a refresh: a miss is now final.
    pub(crate) fn authorize_final(
        &self,
        keys: &KeyStore,
        cache: Option<&TokenCache>,
        headers: &HeaderMap,
        requirement: &Requirement,
        now: i64,
    ) -> Result<CognitoClaims, RejectionKind> {
        self.try_authorize(keys, cache, headers, requirement, now, false)
            .map_err(|e| e.err().unwrap_or(RejectionKind::UnknownKeyId))
    }

    #[allow(clippy::type_complexity)]
    fn try_authorize(
        &self,
        keys: &KeyStore,
        cache: Option<&TokenCache>,
        headers: &HeaderMap,
        requirement: &Requirement,
        now: i64,
        defer_miss: bool,
    ) -> Result<CognitoClaims, Result<(usize, Box<str>), RejectionKind>> {
        let raw = token::extract(headers, &self.header, self.max_token_len).map_err(Err)?;
        let mut hash = None;
        if let Some(cache) = cache {
            let (found, h) = cache.get(raw, keys, |slot| self.slots.contains(&slot));
            hash = h;
            if let Lookup::Hit(claims, exp) = found {
                if exp <= now.saturating_sub(self.leeway) {
                    cache.remove(raw);
                    return Err(Err(RejectionKind::Expired));
                }
                self.checks.decide(requirement, &claims).map_err(Err)?;
                self.checks.revocation(&claims, now).map_err(Err)?;
                return Ok(claims);
            }
        }
        let mut header = token::HeaderBuf::new();
        let parsed = token::parse(raw, &mut header).map_err(Err)?;
        // The issuer first: only a token naming a configured pool hears that
        // it expired, so a forger cannot pick that answer for any token.
        let slot = *parsed
            .payload
            .iss()
            .and_then(|iss| self.issuers.get(iss))
            .ok_or(Err(RejectionKind::UnknownIssuer))?;
        // Time claims need no key: an expired or mistyped token is refused
        // before any signature work.
        let exp = check_times(&parsed.payload, now, self.leeway).map_err(Err)?;
        let snapshot = keys.snapshot(slot);
        let Some(entry) = snapshot.keys.get(&*parsed.kid) else {
            if defer_miss && keys.miss_may_fetch(slot) {
                return Err(Ok((slot, Box::from(&*parsed.kid))));
            }
            return Err(Err(if snapshot.loaded {
                RejectionKind::UnknownKeyId
            } else {
                RejectionKind::KeysUnavailable
            }));
        };
        let mut buf = [0u8; token::MAX_SIGNATURE];
        let signature = parsed.signature(&mut buf).map_err(Err)?;
        if !entry.key.verify(parsed.signing_input, signature) {
            return Err(Err(RejectionKind::InvalidSignature));
        }
        let key = Arc::clone(entry);
        let version = snapshot.version;
        drop(snapshot);
        let kid = parsed.kid;
        let claims = CognitoClaims::from_payload(parsed.payload, exp)
            .map_err(|_| Err(RejectionKind::InvalidClaims))?;
        if let (Some(cache), Some(hash)) = (cache, hash) {
            cache.insert(hash, &claims, exp, now, slot, &kid, &key, version);
        }
        self.checks.decide(requirement, &claims).map_err(Err)?;
        self.checks.revocation(&claims, now).map_err(Err)?;
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn times(v: Value) -> Result<(), RejectionKind> {
        let payload = v.to_string();
        check_times(&Payload::parse(payload.into_bytes()).unwrap(), 1_000_000, 0).map(|_| ())
    }

    #[test]
    fn time_claims_are_type_checked() {
        assert_eq!(times(json!({"exp": 1_000_001})), Ok(()));
        assert_eq!(
            times(json!({"exp": 1_000_000})),
            Err(RejectionKind::Expired)
        );
        assert_eq!(times(json!({"exp": 999_999})), Err(RejectionKind::Expired));
        assert_eq!(times(json!({})), Err(RejectionKind::InvalidClaims));
        assert_eq!(
            times(json!({"exp": "2000000"})),
            Err(RejectionKind::InvalidClaims)
        );
        assert_eq!(
            times(json!({"exp": 2_000_000.5})),
            Err(RejectionKind::InvalidClaims)
        );
        assert_eq!(times(json!({"exp": -5})), Err(RejectionKind::InvalidClaims));
        assert_eq!(
            times(json!({"exp": 1e300})),
            Err(RejectionKind::InvalidClaims)
        );
        assert_eq!(
            times(json!({"exp": u64::MAX})),
            Err(RejectionKind::InvalidClaims)
        );
        assert_eq!(
            times(json!({"exp": null})),
            Err(RejectionKind::InvalidClaims)
        );
        assert_eq!(
            times(json!({"exp": 2_000_000, "iat": "1"})),
            Err(RejectionKind::InvalidClaims)
        );
        assert_eq!(
            times(json!({"exp": 2_000_000, "auth_time": true})),
            Err(RejectionKind::InvalidClaims)
        );
        assert_eq!(
            times(json!({"exp": 2_000_000, "nbf": 1_000_001})),
            Err(RejectionKind::NotYetValid)
        );
        assert_eq!(times(json!({"exp": 2_000_000, "nbf": 1_000_000})), Ok(()));
        assert_eq!(
            times(json!({"exp": 2_000_000, "iat": 1_000_301})),
            Err(RejectionKind::NotYetValid)
        );
        assert_eq!(times(json!({"exp": 2_000_000, "iat": 1_000_300})), Ok(()));
    }

    #[test]
    fn leeway_extends_expiry() {
        let payload = json!({"exp": 999_990}).to_string();
        let payload = Payload::parse(payload.into_bytes()).unwrap();
        assert_eq!(
            check_times(&payload, 1_000_000, 10),
            Err(RejectionKind::Expired)
        );
        assert_eq!(check_times(&payload, 1_000_000, 11), Ok(999_990));
    }
}
