//! Reading the token from its header and taking it apart, before any key is used.

use crate::base64url;
use crate::claims::{PolicyClaims, TokenUse};
use crate::error::RejectionKind;
use crate::short_bytes::{self, segment_len};
use http::header::{HeaderMap, HeaderName};
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;

/// Longest signature accepted: an 8192-bit RSA signature.
pub(crate) const MAX_SIGNATURE: usize = 1024;

/// Headers up to this size are decoded on the stack (Cognito's are about 80
/// bytes); larger ones go to the heap.
const HEADER_ON_STACK: usize = 512;

/// The raw token from the configured header: exactly one header, non-empty,
/// within the cap, with an optional case-insensitive `Bearer ` prefix.
pub(crate) fn extract<'h>(
    headers: &'h HeaderMap,
    name: &HeaderName,
    max_len: usize,
) -> Result<&'h [u8], RejectionKind> {
    let mut values = headers.get_all(name).iter();
    let value = values.next().ok_or(RejectionKind::MissingToken)?;
    if values.next().is_some() {
        return Err(RejectionKind::MultipleTokens);
    }
    let mut token = value.as_bytes();
    // The cap applies before anything is decoded.
    if token.len() > max_len.saturating_add(7) {
        return Err(RejectionKind::TokenTooLarge);
    }
    if token.len() >= 6 && token[..6].eq_ignore_ascii_case(b"bearer") {
        let rest = &token[6..];
        if rest.is_empty() {
            return Err(RejectionKind::MissingToken);
        }
        if rest[0] == b' ' {
            token = trim_start_spaces(rest);
        }
    }
    if token.is_empty() {
        return Err(RejectionKind::MissingToken);
    }
    if token.len() > max_len {
        return Err(RejectionKind::TokenTooLarge);
    }
    Ok(token)
}

fn trim_start_spaces(mut s: &[u8]) -> &[u8] {
    while let [b' ', rest @ ..] = s {
        s = rest;
    }
    s
}

/// The JOSE header fields that matter. Fields naming key material are read only
/// to refuse tokens that carry them; unknown fields are ignored.
#[derive(Deserialize)]
struct Header<'a> {
    #[serde(borrow)]
    alg: Cow<'a, str>,
    #[serde(borrow)]
    kid: Option<Cow<'a, str>>,
    crit: Option<IgnoredAny>,
    jku: Option<IgnoredAny>,
    jwk: Option<IgnoredAny>,
    x5u: Option<IgnoredAny>,
    x5c: Option<IgnoredAny>,
}

/// A token taken apart but not yet verified.
pub(crate) struct Parsed<'t, 'p> {
    /// `base64(header) "." base64(payload)`: what the signature covers.
    pub(crate) signing_input: &'t [u8],
    /// The signature, still in base64url: decoded only once a key is at hand,
    /// so tokens refused before cost nothing for it and this stays small.
    signature_b64: &'t [u8],
    pub(crate) kid: String,
    /// What is needed before the signature, borrowed from the decoded
    /// payload: the issuer, the time claims, what route policy reads.
    pub(crate) envelope: Envelope<'p>,
}

impl Parsed<'_, '_> {
    /// The decoded signature, in `buf`; one that does not decode is malformed.
    pub(crate) fn signature<'b>(
        &self,
        buf: &'b mut [u8; MAX_SIGNATURE],
    ) -> Result<&'b [u8], RejectionKind> {
        let len = base64url::decode_to(self.signature_b64, buf)
            .map_err(|_| RejectionKind::MalformedToken)?;
        buf.get(..len).ok_or(RejectionKind::MalformedToken)
    }
}

/// A numeric date claim as found: absent, an integer, or anything else (a
/// string, a float, a number out of range), which is refused, never ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Numeric {
    #[default]
    Absent,
    Int(i64),
    Invalid,
}

/// The claims read in one pass over the payload, before any key is used: the
/// issuer and time claims, and what route policy reads. Strings are borrowed
/// from the payload (copied only when they hold escapes), so refusing a token
/// allocates nothing here. The pass also checks that the payload is one JSON
/// object with no repeated top-level member, so the full claims can be parsed
/// later, on demand, without surprises.
#[derive(Debug, Default)]
pub(crate) struct Envelope<'p> {
    pub(crate) iss: Option<Cow<'p, str>>,
    pub(crate) exp: Numeric,
    pub(crate) iat: Numeric,
    pub(crate) nbf: Numeric,
    pub(crate) auth_time: Numeric,
    token_use: Option<Cow<'p, str>>,
    scope: Option<Cow<'p, str>>,
    aud: Option<Cow<'p, str>>,
    client_id: Option<Cow<'p, str>>,
    groups: Vec<Cow<'p, str>>,
}

impl Envelope<'_> {
    /// What route policy reads, owned: taken once the signature holds.
    pub(crate) fn policy(&self) -> PolicyClaims {
        let owned = |s: &Option<Cow<'_, str>>| s.as_deref().map(Box::from);
        PolicyClaims {
            token_use: match self.token_use.as_deref() {
                Some("id") => Some(TokenUse::Id),
                Some("access") => Some(TokenUse::Access),
                _ => None,
            },
            scope: owned(&self.scope),
            aud: owned(&self.aud),
            client_id: owned(&self.client_id),
            groups: self.groups.iter().map(|g| Box::from(&**g)).collect(),
        }
    }
}

/// A string claim, borrowed when it has no escapes; `None` for any other JSON
/// value, which is still checked as [`Skip`] checks it.
struct StrOrOther<'a>(Option<Cow<'a, str>>);

impl<'de> Deserialize<'de> for StrOrOther<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StrOrOther<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(StrOrOther(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(StrOrOther(Some(Cow::Owned(v.to_owned()))))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(StrOrOther(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(StrOrOther(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(StrOrOther(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(StrOrOther(None))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(StrOrOther(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                Skip.visit_seq(seq).map(|_| StrOrOther(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                Skip.visit_map(map).map(|_| StrOrOther(None))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// The string elements of an array claim; nothing for any other JSON value.
struct Strings<'a>(Vec<Cow<'a, str>>);

impl<'de> Deserialize<'de> for Strings<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Strings<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Strings(Vec::new()))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Strings(Vec::new()))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Strings(Vec::new()))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Strings(Vec::new()))
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Strings(Vec::new()))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Strings(Vec::new()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(StrOrOther(item)) = seq.next_element()? {
                    out.extend(item);
                }
                Ok(Strings(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                Skip.visit_map(map).map(|_| Strings(Vec::new()))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// A member name, borrowed from the payload unless it has escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        deserializer.deserialize_str(V)
    }
}

/// A payload value passed over but checked as the full claims parse checks it:
/// UTF-8 and escapes in strings, numbers in range, nesting within the
/// parser's depth limit. (`IgnoredAny` checks none of these, so a payload the
/// full parse refuses would pass here and reach the service with no claims.)
/// Borrowed strings are not copied.
struct Skip;

impl<'de> Visitor<'de> for Skip {
    type Value = Skip;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_str<E>(self, _: &str) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_unit<E>(self) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Skip, A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(Skip)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skip, A::Error> {
        while map.next_entry::<Skip, Skip>()?.is_some() {}
        Ok(Skip)
    }
}

impl<'de> Deserialize<'de> for Skip {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Skip)
    }
}

struct NumericSeed;

impl<'de> Visitor<'de> for NumericSeed {
    type Value = Numeric;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_i64<E>(self, v: i64) -> Result<Numeric, E> {
        Ok(Numeric::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Numeric, E> {
        Ok(i64::try_from(v).map_or(Numeric::Invalid, Numeric::Int))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Numeric, E> {
        Ok(Numeric::Invalid)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Numeric, E> {
        Ok(Numeric::Invalid)
    }
    fn visit_str<E>(self, _: &str) -> Result<Numeric, E> {
        Ok(Numeric::Invalid)
    }
    fn visit_unit<E>(self) -> Result<Numeric, E> {
        Ok(Numeric::Invalid)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Numeric, A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(Numeric::Invalid)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Numeric, A::Error> {
        while map.next_entry::<Skip, Skip>()?.is_some() {}
        Ok(Numeric::Invalid)
    }
}

impl<'de> Deserialize<'de> for Numeric {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NumericSeed)
    }
}

/// Member names hashed on the stack for the repeat check; payloads with more
/// members (or two names with one hash) get the exact check instead.
const NAMES_ON_STACK: usize = 64;

impl<'p> Envelope<'p> {
    /// Reads the envelope of a decoded payload.
    pub(crate) fn read(payload: &'p [u8]) -> Result<Self, RejectionKind> {
        let (envelope, names_collide) = serde_json::from_slice::<Scan<'p>>(payload)
            .map_err(|_| RejectionKind::MalformedToken)?
            .0;
        // Rare: compare the names themselves.
        if names_collide && serde_json::from_slice::<NoRepeats>(payload).is_err() {
            return Err(RejectionKind::MalformedToken);
        }
        Ok(envelope)
    }
}

/// One pass over the payload: the envelope, and whether two member names
/// might be equal (their hashes are).
struct Scan<'a>((Envelope<'a>, bool));

impl<'de> Deserialize<'de> for Scan<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scan<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Scan<'de>, A::Error> {
                let mut out = Envelope::default();
                let mut hashes = [0u64; NAMES_ON_STACK];
                let mut count = 0;
                while let Some(Key(key)) = access.next_key::<Key<'de>>()? {
                    if let Some(slot) = hashes.get_mut(count) {
                        *slot = short_bytes::hash(key.as_bytes());
                    }
                    count += 1;
                    match &*key {
                        // A non-string `iss` names no pool: the same as absent.
                        "iss" => out.iss = access.next_value::<StrOrOther>()?.0,
                        "exp" => out.exp = access.next_value()?,
                        "iat" => out.iat = access.next_value()?,
                        "nbf" => out.nbf = access.next_value()?,
                        "auth_time" => out.auth_time = access.next_value()?,
                        "token_use" => out.token_use = access.next_value::<StrOrOther>()?.0,
                        "scope" => out.scope = access.next_value::<StrOrOther>()?.0,
                        "aud" => out.aud = access.next_value::<StrOrOther>()?.0,
                        "client_id" => out.client_id = access.next_value::<StrOrOther>()?.0,
                        "cognito:groups" => out.groups = access.next_value::<Strings>()?.0,
                        _ => {
                            access.next_value::<Skip>()?;
                        }
                    }
                }
                // Parsers disagree on which of two equal members wins: such
                // payloads are refused. Equal names have equal hashes.
                let collide = match hashes.get_mut(..count) {
                    Some(seen) => {
                        seen.sort_unstable();
                        seen.windows(2).any(|w| w[0] == w[1])
                    }
                    None => true,
                };
                Ok(Scan((out, collide)))
            }
        }
        deserializer.deserialize_map(V)
    }
}

/// The exact repeat check: every member name, sorted and compared. Runs only
/// after [`Scan`] accepted the payload, so values need no checking here.
struct NoRepeats;

impl<'de> Deserialize<'de> for NoRepeats {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = NoRepeats;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<NoRepeats, A::Error> {
                let mut names: Vec<Cow<'de, str>> = Vec::new();
                while let Some((Key(name), IgnoredAny)) = access.next_entry()? {
                    names.push(name);
                }
                names.sort_unstable();
                if names.windows(2).any(|w| w[0] == w[1]) {
                    return Err(serde::de::Error::custom("repeated member"));
                }
                Ok(NoRepeats)
            }
        }
        deserializer.deserialize_map(V)
    }
}

/// Splits and decodes a compact JWS, checking everything that needs no key:
/// three canonical base64url segments, a JSON object header naming RS256 with a
/// string `kid` and no key material or critical extensions, a JSON object payload
/// with no repeated top-level member.
///
/// The payload is decoded into `payload` (moved into the claims once the
/// signature holds); the envelope borrows from it.
pub(crate) fn parse<'t, 'p>(
    token: &'t [u8],
    payload: &'p mut Vec<u8>,
) -> Result<Parsed<'t, 'p>, RejectionKind> {
    let malformed = RejectionKind::MalformedToken;
    // The separators, eight bytes at a time: tokens are a kilobyte or more.
    let h_len = segment_len(token, b'.');
    let after_h = token.get(h_len + 1..).ok_or(malformed)?;
    let p_len = segment_len(after_h, b'.');
    let s = after_h.get(p_len + 1..).ok_or(malformed)?;
    let (h, p) = (&token[..h_len], &after_h[..p_len]);
    if h.is_empty() || p.is_empty() || s.is_empty() || segment_len(s, b'.') != s.len() {
        return Err(malformed);
    }
    let mut header_buf = [0u8; HEADER_ON_STACK];
    let header_json: Cow<'_, [u8]> = match base64url::decoded_len(h.len()) {
        Some(len) if len <= HEADER_ON_STACK => {
            let len = base64url::decode_to(h, &mut header_buf).map_err(|_| malformed)?;
            Cow::Borrowed(header_buf.get(..len).ok_or(malformed)?)
        }
        _ => Cow::Owned(base64url::decode(h).map_err(|_| malformed)?),
    };
    let header: Header = serde_json::from_slice(&header_json).map_err(|_| malformed)?;
    if header.alg != "RS256" {
        return Err(RejectionKind::UnsupportedHeader);
    }
    if header.crit.is_some()
        || header.jku.is_some()
        || header.jwk.is_some()
        || header.x5u.is_some()
        || header.x5c.is_some()
    {
        return Err(RejectionKind::UnsupportedHeader);
    }
    let kid = match header.kid {
        Some(kid) if !kid.is_empty() => kid.into_owned(),
        _ => return Err(RejectionKind::MissingKeyId),
    };
    // Longer than the largest signature, or a length no base64 has.
    if s.len() > MAX_SIGNATURE * 4 / 3 + 1 || s.len() % 4 == 1 {
        return Err(malformed);
    }
    *payload = base64url::decode(p).map_err(|_| malformed)?;
    let envelope = Envelope::read(payload)?;
    Ok(Parsed {
        signing_input: &token[..h.len() + 1 + p.len()],
        signature_b64: s,
        kid,
        envelope,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use http::HeaderValue;

    fn b64(s: &str) -> String {
        URL_SAFE_NO_PAD.encode(s)
    }

    fn token(header: &str, payload: &str) -> String {
        format!(
            "{}.{}.{}",
            b64(header),
            b64(payload),
            URL_SAFE_NO_PAD.encode([7u8; 256])
        )
    }

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(
                http::header::AUTHORIZATION,
                HeaderValue::from_str(v).unwrap(),
            );
        }
        map
    }

    #[test]
    fn extracts_raw_and_bearer() {
        let name = http::header::AUTHORIZATION;
        assert_eq!(extract(&headers(&["abc"]), &name, 10).unwrap(), b"abc");
        assert_eq!(
            extract(&headers(&["Bearer abc"]), &name, 10).unwrap(),
            b"abc"
        );
        assert_eq!(
            extract(&headers(&["bEaReR   abc"]), &name, 10).unwrap(),
            b"abc"
        );
        assert_eq!(
            extract(&headers(&[]), &name, 10),
            Err(RejectionKind::MissingToken)
        );
        assert_eq!(
            extract(&headers(&[""]), &name, 10),
            Err(RejectionKind::MissingToken)
        );
        assert_eq!(
            extract(&headers(&["Bearer"]), &name, 10),
            Err(RejectionKind::MissingToken)
        );
        assert_eq!(
            extract(&headers(&["a", "b"]), &name, 10),
            Err(RejectionKind::MultipleTokens)
        );
        assert_eq!(
            extract(&headers(&["abcdefghijk"]), &name, 10),
            Err(RejectionKind::TokenTooLarge)
        );
        assert_eq!(
            extract(&headers(&["Bearer abcdefghijk"]), &name, 10),
            Err(RejectionKind::TokenTooLarge)
        );
    }

    #[test]
    fn parses_a_well_formed_token() {
        let t = token(r#"{"alg":"RS256","kid":"k1"}"#, r#"{"iss":"x","exp":1}"#);
        let mut payload = Vec::new();
        let p = parse(t.as_bytes(), &mut payload).unwrap();
        assert_eq!(p.kid, "k1");
        assert_eq!(p.envelope.iss.as_deref(), Some("x"));
        assert_eq!(p.envelope.exp, Numeric::Int(1));
        let mut buf = [0u8; MAX_SIGNATURE];
        assert_eq!(p.signature(&mut buf).unwrap(), &[7u8; 256][..]);
        assert!(t.starts_with(std::str::from_utf8(p.signing_input).unwrap()));
    }

    #[test]
    fn large_and_escaped_headers_parse_like_small_ones() {
        // Past the stack buffer: decoded on the heap, same result.
        let pad = "x".repeat(HEADER_ON_STACK);
        let t = token(
            &format!(r#"{{"alg":"RS256","kid":"k1","pad":"{pad}"}}"#),
            r#"{"exp":1}"#,
        );
        assert_eq!(parse(t.as_bytes(), &mut Vec::new()).unwrap().kid, "k1");
        let t = token(
            &format!(r#"{{"alg":"RS256","kid":"k1","x5c":["{pad}"]}}"#),
            r#"{"exp":1}"#,
        );
        assert_eq!(
            parse(t.as_bytes(), &mut Vec::new()).err(),
            Some(RejectionKind::UnsupportedHeader)
        );
        // Escapes in the header's strings are read, not refused.
        let t = token(
            r#"{"alg":"RS\u0032\u00356","kid":"k\u0031"}"#,
            r#"{"exp":1}"#,
        );
        assert_eq!(parse(t.as_bytes(), &mut Vec::new()).unwrap().kid, "k1");
    }

    #[test]
    fn a_signature_that_does_not_decode_is_malformed() {
        let good = token(r#"{"alg":"RS256","kid":"k1"}"#, r#"{"exp":1}"#);
        let (input, _) = good.rsplit_once('.').unwrap();
        let mut buf = [0u8; MAX_SIGNATURE];
        // Refused while parsing: impossible lengths.
        for sig in ["A".repeat(MAX_SIGNATURE * 4 / 3 + 2), "AAAAA".into()] {
            let t = format!("{input}.{sig}");
            assert_eq!(
                parse(t.as_bytes(), &mut Vec::new()).err(),
                Some(RejectionKind::MalformedToken)
            );
        }
        // Refused when decoded for the key: characters outside base64url,
        // non-canonical trailing bits.
        for sig in ["AAA*", "AA+/", "AAAAAB"] {
            let t = format!("{input}.{sig}");
            let mut payload = Vec::new();
            let p = parse(t.as_bytes(), &mut payload).unwrap();
            assert_eq!(
                p.signature(&mut buf).err(),
                Some(RejectionKind::MalformedToken),
                "{sig}"
            );
        }
    }

    #[test]
    fn refuses_before_any_key_work() {
        let sig = URL_SAFE_NO_PAD.encode([7u8; 256]);
        let cases: Vec<(String, RejectionKind)> = vec![
            ("a.b".into(), RejectionKind::MalformedToken),
            ("a.b.c.d".into(), RejectionKind::MalformedToken),
            (
                token(r#"{"alg":"none","kid":"k"}"#, "{}"),
                RejectionKind::UnsupportedHeader,
            ),
            (
                token(r#"{"alg":"HS256","kid":"k"}"#, "{}"),
                RejectionKind::UnsupportedHeader,
            ),
            (
                token(r#"{"alg":"rs256","kid":"k"}"#, "{}"),
                RejectionKind::UnsupportedHeader,
            ),
            (token(r#"{"kid":"k"}"#, "{}"), RejectionKind::MalformedToken),
            (
                token(r#"{"alg":"RS256"}"#, "{}"),
                RejectionKind::MissingKeyId,
            ),
            (
                token(r#"{"alg":"RS256","kid":""}"#, "{}"),
                RejectionKind::MissingKeyId,
            ),
            (
                token(r#"{"alg":"RS256","kid":5}"#, "{}"),
                RejectionKind::MalformedToken,
            ),
            (
                token(r#"{"alg":"RS256","kid":"k","jku":"http://x"}"#, "{}"),
                RejectionKind::UnsupportedHeader,
            ),
            (
                token(r#"{"alg":"RS256","kid":"k","jwk":{}}"#, "{}"),
                RejectionKind::UnsupportedHeader,
            ),
            (
                token(r#"{"alg":"RS256","kid":"k","x5u":"x"}"#, "{}"),
                RejectionKind::UnsupportedHeader,
            ),
            (
                token(r#"{"alg":"RS256","kid":"k","x5c":[]}"#, "{}"),
                RejectionKind::UnsupportedHeader,
            ),
            (
                token(r#"{"alg":"RS256","kid":"k","crit":["b64"]}"#, "{}"),
                RejectionKind::UnsupportedHeader,
            ),
            (
                token(r#"{"alg":"RS256","alg":"RS256","kid":"k"}"#, "{}"),
                RejectionKind::MalformedToken,
            ),
            (
                token(r#"{"alg":"RS256","kid":"k"}"#, "[]"),
                RejectionKind::MalformedToken,
            ),
            (
                token(r#"{"alg":"RS256","kid":"k"}"#, r#"{"exp":1,"exp":2}"#),
                RejectionKind::MalformedToken,
            ),
            (
                token(
                    r#"{"alg":"RS256","kid":"k"}"#,
                    r#"{"email":"a","sub":"x","email":"b"}"#,
                ),
                RejectionKind::MalformedToken,
            ),
            (
                token(
                    r#"{"alg":"RS256","kid":"k"}"#,
                    r#"{"e\u006dail":"a","email":"b"}"#,
                ),
                RejectionKind::MalformedToken,
            ),
            (token(r#"["RS256"]"#, "{}"), RejectionKind::MalformedToken),
            (
                format!(
                    "{}=.{}.{sig}",
                    b64(r#"{"alg":"RS256","kid":"k"}"#),
                    b64("{}")
                ),
                RejectionKind::MalformedToken,
            ),
            (
                format!(
                    "{}.{}.{}",
                    b64(r#"{"alg":"RS256","kid":"k"}"#),
                    b64("{}"),
                    &sig[..sig.len() - 1]
                ),
                RejectionKind::MalformedToken,
            ),
        ];
        for (t, kind) in cases {
            assert_eq!(
                parse(t.as_bytes(), &mut Vec::new()).err(),
                Some(kind),
                "{t}"
            );
        }
    }

    #[test]
    fn payloads_the_full_parse_refuses_are_refused_up_front() {
        // Members skipped on the way to the claims that matter are checked as
        // the full parse checks them, so a payload cannot pass here and then
        // fail to give the service its claims.
        let h = r#"{"alg":"RS256","kid":"k"}"#;
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let deep_objects = format!("{}1{}", "{\"a\":".repeat(500), "}".repeat(500));
        for payload in [
            r#"{"exp":1,"name":"\ud800"}"#.to_owned(),
            r#"{"exp":1,"big":1e400}"#.to_owned(),
            format!(r#"{{"exp":1,"deep":{deep}}}"#),
            format!(r#"{{"exp":1,"deep":{deep_objects}}}"#),
            format!(r#"{{"exp":[{deep}]}}"#),
        ] {
            assert_eq!(
                parse(token(h, &payload).as_bytes(), &mut Vec::new()).err(),
                Some(RejectionKind::MalformedToken)
            );
        }
        let sig = URL_SAFE_NO_PAD.encode([7u8; 256]);
        let not_utf8 = URL_SAFE_NO_PAD.encode(b"{\"exp\":1,\"name\":\"\xff\"}");
        let t = format!("{}.{not_utf8}.{sig}", b64(h));
        assert_eq!(
            parse(t.as_bytes(), &mut Vec::new()).err(),
            Some(RejectionKind::MalformedToken)
        );
        // Within the limits, the same shapes parse.
        let ok = format!(
            r#"{{"exp":1,"deep":{}{}}}"#,
            "[".repeat(100),
            "]".repeat(100)
        );
        assert!(parse(token(h, &ok).as_bytes(), &mut Vec::new()).is_ok());
    }

    #[test]
    fn policy_claims_are_read_through_escapes_and_other_types() {
        let payload = br#"{"iss":"x\/y","token_use":"acc\u0065ss","scope":"a\u0020b","aud":"c1","client_id":"c\u0032","cognito:groups":["g\u0031",5,{"a":1},"g2"]}"#;
        let envelope = Envelope::read(payload).unwrap();
        assert_eq!(envelope.iss.as_deref(), Some("x/y"));
        let policy = envelope.policy();
        assert_eq!(policy.token_use, Some(TokenUse::Access));
        assert_eq!(policy.scope.as_deref(), Some("a b"));
        assert_eq!(policy.aud.as_deref(), Some("c1"));
        assert_eq!(policy.client_id.as_deref(), Some("c2"));
        assert_eq!(&*policy.groups, [Box::from("g1"), Box::from("g2")]);

        // Other types read as absent; token_use must be exactly id or access.
        let payload = br#"{"iss":7,"token_use":"ID","scope":{"a":[1,"s"]},"aud":[1],"client_id":null,"cognito:groups":"admin"}"#;
        let envelope = Envelope::read(payload).unwrap();
        assert_eq!(envelope.iss, None);
        let policy = envelope.policy();
        assert_eq!(policy.token_use, None);
        assert_eq!(policy.scope, None);
        assert_eq!(policy.aud, None);
        assert_eq!(policy.client_id, None);
        assert!(policy.groups.is_empty());

        // ...but are still checked as the full parse checks them.
        for bad in [
            &br#"{"scope":["\ud800"]}"#[..],
            br#"{"aud":{"a":1e400}}"#,
            br#"{"iss":[1,]}"#,
            br#"{"cognito:groups":{"a":"\ud800"}}"#,
            br#"{"cognito:groups":["a",1e400]}"#,
        ] {
            assert_eq!(
                Envelope::read(bad).err(),
                Some(RejectionKind::MalformedToken),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn repeated_members_are_refused_however_many_there_are() {
        let object = |names: &[String]| {
            let members: Vec<String> = names.iter().map(|n| format!(r#""{n}":1"#)).collect();
            format!("{{{}}}", members.join(","))
        };
        for count in [
            2,
            NAMES_ON_STACK - 1,
            NAMES_ON_STACK,
            NAMES_ON_STACK + 1,
            200,
        ] {
            let names: Vec<String> = (0..count).map(|i| format!("claim{i}")).collect();
            assert!(
                Envelope::read(object(&names).as_bytes()).is_ok(),
                "{count} distinct"
            );
            // A repeat first and last, and one spelled with an escape.
            for (at, repeat) in [
                (0, names[count - 1].clone()),
                (count - 1, names[0].clone()),
                (count / 2, "claim\\u0031".to_owned()),
            ] {
                let mut repeated = names.clone();
                repeated.insert(at, repeat.clone());
                assert_eq!(
                    Envelope::read(object(&repeated).as_bytes()).err(),
                    Some(RejectionKind::MalformedToken),
                    "{count} names, {repeat} again at {at}"
                );
            }
        }
    }
}
