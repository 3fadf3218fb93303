//! Reading the token from its header and taking it apart, before any key is used.

use crate::base64url;
use crate::envelope::Envelope;
use crate::error::RejectionKind;
use crate::short_bytes::find_byte;
use http::header::{HeaderMap, HeaderName};
use serde::de::IgnoredAny;
use serde::Deserialize;
use std::borrow::Cow;

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
    // The separators, 32 bytes at a time: tokens are a kilobyte or more.
    let h_len = find_byte(token, b'.');
    let after_h = token.get(h_len + 1..).ok_or(malformed)?;
    let p_len = find_byte(after_h, b'.');
    let s = after_h.get(p_len + 1..).ok_or(malformed)?;
    let (h, p) = (&token[..h_len], &after_h[..p_len]);
    if h.is_empty() || p.is_empty() || s.is_empty() || find_byte(s, b'.') != s.len() {
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
        assert_eq!(p.envelope.exp, crate::envelope::Numeric::Int(1));
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
}
