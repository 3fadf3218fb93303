//! The claims route policy and the revocation list read, copied out of a
//! verified token's payload once, when its claims are made: the strings in
//! one allocation, since the uncached path makes one such copy per request.

use super::TokenUse;
use serde_json::{Map, Value};

/// Indexes into `PolicyClaims::strings`.
const SCOPE: usize = 0;
const AUD: usize = 1;
const CLIENT_ID: usize = 2;
const POOL: usize = 3;
const SUB: usize = 4;
const FAMILY: usize = 5;

/// The claims route policy reads (`token_use`, `scope`, `aud`, `client_id`,
/// `cognito:groups`), strings when they are strings, the string elements of
/// `cognito:groups`; and what the revocation list looks up: the pool (the
/// last segment of `iss`), `sub`, the family (`origin_jti`, else `jti`) and
/// `auth_time`.
#[derive(Debug, Default, Clone)]
pub(crate) struct PolicyClaims {
    /// `None` when absent or neither `"id"` nor `"access"`.
    pub(crate) token_use: Option<TokenUse>,
    /// `scope`, `aud`, `client_id`, pool, `sub` and family.
    strings: Strings<6>,
    pub(crate) groups: Box<[Box<str>]>,
    auth_time: Option<i64>,
}

/// The claims a [`PolicyClaims`] is made of, as the payload holds them.
pub(crate) struct PolicyParts<'a> {
    pub(crate) token_use: Option<&'a str>,
    pub(crate) scope: Option<&'a str>,
    pub(crate) aud: Option<&'a str>,
    pub(crate) client_id: Option<&'a str>,
    pub(crate) groups: Box<[Box<str>]>,
    pub(crate) iss: Option<&'a str>,
    pub(crate) sub: Option<&'a str>,
    pub(crate) origin_jti: Option<&'a str>,
    pub(crate) jti: Option<&'a str>,
    pub(crate) auth_time: Option<i64>,
}

/// What the revocation list looks up; empty strings read as absent.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RevocationKeys<'a> {
    pub(crate) pool: Option<&'a str>,
    pub(crate) sub: Option<&'a str>,
    pub(crate) family: Option<&'a str>,
    pub(crate) auth_time: Option<i64>,
}

impl PolicyClaims {
    pub(crate) fn new(parts: PolicyParts<'_>) -> Self {
        fn nonempty(s: Option<&str>) -> Option<&str> {
            s.filter(|s| !s.is_empty())
        }
        let pool = nonempty(parts.iss.and_then(|i| i.rsplit('/').next()));
        let family = nonempty(parts.origin_jti).or(nonempty(parts.jti));
        Self {
            token_use: TokenUse::from_claim(parts.token_use),
            strings: Strings::new([
                parts.scope,
                parts.aud,
                parts.client_id,
                pool,
                nonempty(parts.sub),
                family,
            ]),
            groups: parts.groups,
            auth_time: parts.auth_time,
        }
    }

    pub(crate) fn from_map(raw: &Map<String, Value>) -> Self {
        let text = |key: &str| raw.get(key).and_then(Value::as_str);
        Self::new(PolicyParts {
            token_use: text("token_use"),
            scope: text("scope"),
            aud: text("aud"),
            client_id: text("client_id"),
            groups: raw
                .get("cognito:groups")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(Into::into)
                .collect(),
            iss: text("iss"),
            sub: text("sub"),
            origin_jti: text("origin_jti"),
            jti: text("jti"),
            auth_time: raw.get("auth_time").and_then(Value::as_i64),
        })
    }

    pub(crate) fn scope(&self) -> Option<&str> {
        self.strings.get(SCOPE)
    }

    pub(crate) fn aud(&self) -> Option<&str> {
        self.strings.get(AUD)
    }

    pub(crate) fn client_id(&self) -> Option<&str> {
        self.strings.get(CLIENT_ID)
    }

    pub(crate) fn revocation(&self) -> RevocationKeys<'_> {
        RevocationKeys {
            pool: self.strings.get(POOL),
            sub: self.strings.get(SUB),
            family: self.strings.get(FAMILY),
            auth_time: self.auth_time,
        }
    }

    /// The lengths of the heap blocks these claims hold (the strings', the
    /// groups' list and each group), for the cache's accounting.
    pub(crate) fn heap_blocks(&self) -> impl Iterator<Item = usize> + '_ {
        [
            self.strings.text.len(),
            self.groups.len() * size_of::<Box<str>>(),
        ]
        .into_iter()
        .chain(self.groups.iter().map(|g| g.len()))
    }
}

/// `N` optional strings in one allocation.
#[derive(Debug, Clone)]
struct Strings<const N: usize> {
    text: Box<str>,
    /// Where each present string lies in `text`.
    spans: [Option<(usize, usize)>; N],
}

impl<const N: usize> Default for Strings<N> {
    fn default() -> Self {
        Self {
            text: Box::default(),
            spans: [None; N],
        }
    }
}

impl<const N: usize> Strings<N> {
    fn new(parts: [Option<&str>; N]) -> Self {
        let mut text = String::with_capacity(parts.iter().flatten().map(|s| s.len()).sum());
        let spans = parts.map(|part| {
            part.map(|s| {
                let start = text.len();
                text.push_str(s);
                (start, text.len())
            })
        });
        Self {
            text: text.into_boxed_str(),
            spans,
        }
    }

    fn get(&self, i: usize) -> Option<&str> {
        let (start, end) = self.spans.get(i).copied().flatten()?;
        self.text.get(start..end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_string_comes_back_as_given_and_empty_revocation_keys_are_absent() {
        let raw = json!({
            "token_use": "access", "scope": "a b", "client_id": "c1", "aud": "",
            "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_P",
            "sub": "", "jti": "j1", "auth_time": 7, "cognito:groups": ["g1", 2, "g2"],
        });
        let policy = PolicyClaims::from_map(raw.as_object().unwrap());
        assert_eq!(policy.token_use, Some(TokenUse::Access));
        assert_eq!(policy.scope(), Some("a b"));
        assert_eq!(policy.client_id(), Some("c1"));
        // Policy reads an empty `aud` as given; the revocation keys do not.
        assert_eq!(policy.aud(), Some(""));
        let keys = policy.revocation();
        assert_eq!(keys.pool, Some("us-east-1_P"));
        assert_eq!(keys.sub, None);
        assert_eq!(keys.family, Some("j1"));
        assert_eq!(keys.auth_time, Some(7));
        assert_eq!(&*policy.groups, [Box::from("g1"), Box::from("g2")]);
        let with_origin = json!({"origin_jti": "o1", "jti": "j1"});
        let keys = PolicyClaims::from_map(with_origin.as_object().unwrap());
        assert_eq!(keys.revocation().family, Some("o1"));
        assert_eq!(keys.scope(), None);
        let empty = PolicyClaims::default();
        assert_eq!((empty.scope(), empty.revocation().pool), (None, None));
    }
}
