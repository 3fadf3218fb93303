//! Reading the token from its header and taking it apart, before any key is used.

use crate::envelope::Payload;
use crate::error::RejectionKind;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::{DecodeSliceError, Engine};
use http::header::{HeaderMap, HeaderName};
use serde::de::{Deserializer, Error, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;

/// Longest signature accepted: an 8192-bit RSA signature.
pub(crate) const MAX_SIGNATURE: usize = 1024;

/// Headers up to this size are decoded on the stack (Cognito's are about 80
/// bytes); larger ones go to the heap.
const HEADER_ON_STACK: usize = 256;

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

/// Where a token's header is decoded: on the stack when small (Cognito's
/// are about 80 bytes), else on the heap. The `kid` is borrowed from it.
pub(crate) struct HeaderBuf {
    stack: [u8; HEADER_ON_STACK],
    heap: Vec<u8>,
}

impl HeaderBuf {
    pub(crate) fn new() -> Self {
        Self {
            stack: [0; HEADER_ON_STACK],
            heap: Vec::new(),
        }
    }

    fn decode(&mut self, b64: &[u8]) -> Result<&[u8], RejectionKind> {
        let malformed = RejectionKind::MalformedToken;
        match URL_SAFE_NO_PAD.decode_slice(b64, &mut self.stack) {
            Ok(len) => self.stack.get(..len).ok_or(malformed),
            Err(DecodeSliceError::OutputSliceTooSmall) => {
                self.heap = URL_SAFE_NO_PAD.decode(b64).map_err(|_| malformed)?;
                Ok(&self.heap)
            }
            Err(DecodeSliceError::DecodeError(_)) => Err(malformed),
        }
    }
}

/// A JSON string, borrowed from the decoded input unless it holds escapes.
#[derive(Deserialize)]
#[serde(transparent)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

/// The JOSE header members that matter: `alg` (a string), `kid` (a string or
/// `null`), and whether a member naming key material or critical extensions
/// (`crit`, `jku`, `jwk`, `x5u`, `x5c`) has a value other than `null`.
struct Header<'h> {
    alg: Cow<'h, str>,
    kid: Option<Cow<'h, str>>,
    refused: bool,
}

impl<'de> Deserialize<'de> for Header<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(HeaderVisitor)
    }
}

struct HeaderVisitor;

impl<'de> Visitor<'de> for HeaderVisitor {
    type Value = Header<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JOSE header object")
    }

    /// Other members are parsed in full (their strings' UTF-8 and escapes
    /// checked, which serde's skipping would not do) and dropped; a repeated member
    /// that matters is refused, other members may repeat.
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Header<'de>, A::Error> {
        let (mut alg, mut kid, mut refused) = (None, None, false);
        let mut seen = 0u8;
        while let Some(Text(name)) = access.next_key()? {
            let bit = match &*name {
                "alg" => {
                    alg = Some(access.next_value::<Text>()?.0);
                    1
                }
                "kid" => {
                    kid = access.next_value::<Option<Text>>()?.map(|t| t.0);
                    2
                }
                "crit" => 4,
                "jku" => 8,
                "jwk" => 16,
                "x5u" => 32,
                "x5c" => 64,
                _ => 0,
            };
            if bit >= 4 {
                refused |= !access.next_value::<Value>()?.is_null();
            } else if bit == 0 {
                access.next_value::<Value>()?;
            }
            if seen & bit != 0 {
                return Err(A::Error::custom("repeated member"));
            }
            seen |= bit;
        }
        let alg = alg.ok_or_else(|| A::Error::missing_field("alg"))?;
        Ok(Header { alg, kid, refused })
    }
}

/// A token taken apart but not yet verified.
pub(crate) struct Parsed<'t, 'h> {
    /// `base64(header) "." base64(payload)`: what the signature covers.
    pub(crate) signing_input: &'t [u8],
    /// The signature, still in base64url: decoded only once a key is at hand,
    /// so tokens refused before cost nothing for it and this stays small.
    signature_b64: &'t [u8],
    /// Borrowed from the decoded header.
    pub(crate) kid: Cow<'h, str>,
    /// The claims, parsed once: the checks before the signature read them,
    /// and they are handed to the service once it holds.
    pub(crate) payload: Payload,
}

impl Parsed<'_, '_> {
    /// The decoded signature, in `buf`; one that does not decode is malformed.
    pub(crate) fn signature<'b>(
        &self,
        buf: &'b mut [u8; MAX_SIGNATURE],
    ) -> Result<&'b [u8], RejectionKind> {
        let len = URL_SAFE_NO_PAD
            .decode_slice(self.signature_b64, buf)
            .map_err(|_| RejectionKind::MalformedToken)?;
        buf.get(..len).ok_or(RejectionKind::MalformedToken)
    }
}

/// Splits and decodes a compact JWS, checking everything that needs no key:
/// three canonical base64url segments, a JSON object header naming RS256 with a
/// string `kid` and no key material or critical extensions, a JSON object payload
/// with no repeated top-level member.
///
/// The header is decoded into `header`; the payload is decoded and parsed into
/// the claims map.
pub(crate) fn parse<'t, 'h>(
    token: &'t [u8],
    header: &'h mut HeaderBuf,
) -> Result<Parsed<'t, 'h>, RejectionKind> {
    let malformed = RejectionKind::MalformedToken;
    // The header's end is found from the start, the signature's start from
    // the end; the payload between must hold no '.'.
    let first = memchr::memchr(b'.', token).ok_or(malformed)?;
    let last = memchr::memrchr(b'.', token).ok_or(malformed)?;
    let h = token.get(..first).ok_or(malformed)?;
    let p = token.get(first + 1..last).ok_or(malformed)?;
    let s = token.get(last + 1..).ok_or(malformed)?;
    if h.is_empty() || p.is_empty() || s.is_empty() || memchr::memchr(b'.', p).is_some() {
        return Err(malformed);
    }
    // UTF-8 checked once, not string by string (serde_json trusts a `str`).
    let header = std::str::from_utf8(header.decode(h)?).map_err(|_| malformed)?;
    let Header { alg, kid, refused } = serde_json::from_str(header).map_err(|_| malformed)?;
    if alg != "RS256" || refused {
        return Err(RejectionKind::UnsupportedHeader);
    }
    let kid = match kid {
        Some(kid) if !kid.is_empty() => kid,
        _ => return Err(RejectionKind::MissingKeyId),
    };
    // Longer than the largest signature, or a length no base64 has.
    if s.len() > MAX_SIGNATURE * 4 / 3 + 1 || s.len() % 4 == 1 {
        return Err(malformed);
    }
    let payload = Payload::parse(URL_SAFE_NO_PAD.decode(p).map_err(|_| malformed)?)?;
    Ok(Parsed {
        signing_input: token.get(..last).ok_or(malformed)?,
        signature_b64: s,
        kid,
        payload,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use http::HeaderValue;

    /// Parses with fresh buffers: the kid, or why the token is refused.
    fn kid_of(t: &str) -> Result<String, RejectionKind> {
        parse(t.as_bytes(), &mut HeaderBuf::new()).map(|p| p.kid.into_owned())
    }

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
        let mut header = HeaderBuf::new();
        let p = parse(t.as_bytes(), &mut header).unwrap();
        assert_eq!(p.kid, "k1");
        assert_eq!(p.payload.iss(), Some("x"));
        assert_eq!(p.payload.times()[0], crate::envelope::Numeric::Int(1));
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
        assert_eq!(kid_of(&t).unwrap(), "k1");
        let t = token(
            &format!(r#"{{"alg":"RS256","kid":"k1","x5c":["{pad}"]}}"#),
            r#"{"exp":1}"#,
        );
        assert_eq!(kid_of(&t).err(), Some(RejectionKind::UnsupportedHeader));
        // Escapes in the header's strings are read, not refused.
        let t = token(
            r#"{"alg":"RS\u0032\u00356","kid":"k\u0031"}"#,
            r#"{"exp":1}"#,
        );
        assert_eq!(kid_of(&t).unwrap(), "k1");
    }

    #[test]
    fn a_signature_that_does_not_decode_is_malformed() {
        let good = token(r#"{"alg":"RS256","kid":"k1"}"#, r#"{"exp":1}"#);
        let (input, _) = good.rsplit_once('.').unwrap();
        let mut buf = [0u8; MAX_SIGNATURE];
        // Refused while parsing: impossible lengths.
        for sig in ["A".repeat(MAX_SIGNATURE * 4 / 3 + 2), "AAAAA".into()] {
            let t = format!("{input}.{sig}");
            assert_eq!(kid_of(&t).err(), Some(RejectionKind::MalformedToken));
        }
        // Refused when decoded for the key: characters outside base64url,
        // non-canonical trailing bits.
        for sig in ["AAA*", "AA+/", "AAAAAB"] {
            let t = format!("{input}.{sig}");
            let mut header = HeaderBuf::new();
            let p = parse(t.as_bytes(), &mut header).unwrap();
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
            assert_eq!(kid_of(&t).err(), Some(kind), "{t}");
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
                parse(token(h, &payload).as_bytes(), &mut HeaderBuf::new()).err(),
                Some(RejectionKind::MalformedToken)
            );
        }
        let sig = URL_SAFE_NO_PAD.encode([7u8; 256]);
        let not_utf8 = URL_SAFE_NO_PAD.encode(b"{\"exp\":1,\"name\":\"\xff\"}");
        let t = format!("{}.{not_utf8}.{sig}", b64(h));
        assert_eq!(kid_of(&t).err(), Some(RejectionKind::MalformedToken));
        // Within the limits, the same shapes parse.
        let ok = format!(
            r#"{{"exp":1,"deep":{}{}}}"#,
            "[".repeat(100),
            "]".repeat(100)
        );
        assert!(kid_of(&token(h, &ok)).is_ok());
    }

    #[test]
    fn header_members_are_read_as_the_rules_say() {
        let kind = |header: &str| kid_of(&token(header, r#"{"exp":1}"#));
        // `null` is absence: for kid that means no kid, for the key-material
        // members nothing to refuse.
        assert_eq!(
            kind(r#"{"alg":"RS256","kid":null}"#),
            Err(RejectionKind::MissingKeyId)
        );
        assert_eq!(
            kind(
                r#"{"alg":"RS256","kid":"k","crit":null,"jku":null,"jwk":null,"x5u":null,"x5c":null}"#
            ),
            Ok("k".into())
        );
        // Any other value of those members is refused, once it is valid JSON.
        for member in ["crit", "jku", "jwk", "x5u", "x5c"] {
            for value in ["[]", "{}", "\"x\"", "0", "false", "[null]"] {
                assert_eq!(
                    kind(&format!(
                        r#"{{"alg":"RS256","kid":"k","{member}":{value}}}"#
                    )),
                    Err(RejectionKind::UnsupportedHeader),
                    "{member}: {value}"
                );
            }
            assert_eq!(
                kind(&format!(r#"{{"alg":"RS256","kid":"k","{member}":[1,]}}"#)),
                Err(RejectionKind::MalformedToken),
                "{member}"
            );
        }
        // A member that matters may not be repeated; others may.
        for header in [
            r#"{"alg":"RS256","kid":"k","kid":"k"}"#,
            r#"{"alg":"RS256","kid":"k","alg":"RS256"}"#,
            r#"{"alg":"RS256","kid":"k","x5c":null,"x5c":null}"#,
        ] {
            assert_eq!(kind(header), Err(RejectionKind::MalformedToken), "{header}");
        }
        assert_eq!(
            kind(r#"{"alg":"RS256","kid":"k","typ":"JWT","typ":"JWT"}"#),
            Ok("k".into())
        );
        // Types: alg must be a string, kid a string or null.
        for header in [
            r#"{"alg":null,"kid":"k"}"#,
            r#"{"alg":256,"kid":"k"}"#,
            r#"{"alg":["RS256"],"kid":"k"}"#,
            r#"{"alg":"RS256","kid":["k"]}"#,
            r#"{"alg":"RS256","kid":nullx}"#,
            r#"{"alg":"RS256","kid":"k","typ":"\ud800"}"#,
            r#"{"alg":"RS256","kid":"k"} x"#,
        ] {
            assert_eq!(kind(header), Err(RejectionKind::MalformedToken), "{header}");
        }
        // Unknown members are checked as JSON, including their UTF-8.
        let sig = URL_SAFE_NO_PAD.encode([7u8; 256]);
        let bad_utf8 = URL_SAFE_NO_PAD.encode(b"{\"alg\":\"RS256\",\"kid\":\"k\",\"x\":\"\xff\"}");
        let t = format!("{bad_utf8}.{}.{sig}", b64(r#"{"exp":1}"#));
        assert_eq!(kid_of(&t).err(), Some(RejectionKind::MalformedToken));
        // Escaped names and values read as what they spell.
        assert_eq!(
            kind(r#"{"\u0061lg":"RS256","k\u0069d":"k\/1"}"#),
            Ok("k/1".into())
        );
    }
}
