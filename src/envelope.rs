//! A token's decoded payload, parsed once by `serde_json` before any key is
//! used. The parse keeps every claim as a tree whose plain strings point into
//! the payload (nothing copied, so refusing a token allocates little); the
//! issuer, the time claims and what route policy reads are taken from it, and
//! the claims map the service asks for is built from it, not parsed again.
//! One parse, so what the checks read and what the service reads cannot
//! disagree.

use crate::claims::{PolicyClaims, PolicyParts};
use crate::error::RejectionKind;
use serde::de::{DeserializeSeed, Deserializer, Error, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::fmt;

/// A numeric (date) claim as found: absent, an integer in `i64`, or anything
/// else (a string, a float, a number out of range).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Numeric {
    #[default]
    Absent,
    Int(i64),
    Invalid,
}

/// A string of the payload: where it lies in the payload when it holds no
/// escape, else its decoded text.
#[derive(Debug)]
enum Text {
    Span(usize, usize),
    Decoded(Box<str>),
}

/// A JSON value as parsed, `serde_json`'s `Value` in all but the strings.
#[derive(Debug)]
enum Node {
    Null,
    Bool(bool),
    Number(Number),
    Str(Text),
    Array(Vec<Node>),
    Object(Vec<(Text, Node)>),
}

/// The claims of a payload: one JSON object, no top-level member repeated.
/// Nesting, escapes, UTF-8 and number ranges are `serde_json`'s rules (at
/// most 127 containers, the payload object counted).
#[derive(Debug)]
pub(crate) struct Payload {
    text: String,
    /// In the payload's order.
    members: Vec<(Text, Node)>,
    known: Known,
}

/// Where the members the checks and route policy read are, found in one
/// pass over the names.
#[derive(Debug, Default)]
struct Known {
    iss: Option<usize>,
    exp: Option<usize>,
    iat: Option<usize>,
    nbf: Option<usize>,
    auth_time: Option<usize>,
    token_use: Option<usize>,
    scope: Option<usize>,
    aud: Option<usize>,
    client_id: Option<usize>,
    groups: Option<usize>,
    sub: Option<usize>,
    jti: Option<usize>,
    origin_jti: Option<usize>,
}

impl Known {
    fn find(payload: &[u8], members: &[(Text, Node)]) -> Self {
        let mut known = Known::default();
        for (i, (name, _)) in members.iter().enumerate() {
            let slot = match bytes_of(payload, name) {
                b"iss" => &mut known.iss,
                b"exp" => &mut known.exp,
                b"iat" => &mut known.iat,
                b"nbf" => &mut known.nbf,
                b"auth_time" => &mut known.auth_time,
                b"token_use" => &mut known.token_use,
                b"scope" => &mut known.scope,
                b"aud" => &mut known.aud,
                b"client_id" => &mut known.client_id,
                b"cognito:groups" => &mut known.groups,
                b"sub" => &mut known.sub,
                b"jti" => &mut known.jti,
                b"origin_jti" => &mut known.origin_jti,
                _ => continue,
            };
            *slot = Some(i);
        }
        known
    }
}

impl Payload {
    pub(crate) fn parse(bytes: Vec<u8>) -> Result<Self, RejectionKind> {
        // JSON is UTF-8: checked once for the whole payload, so serde_json
        // reads it as `str` and does not check each string again.
        let text = String::from_utf8(bytes).map_err(|_| RejectionKind::MalformedToken)?;
        let payload = text.as_bytes();
        let mut de = serde_json::Deserializer::from_str(&text);
        let members = de
            .deserialize_map(Members { payload })
            .and_then(|m| de.end().map(|()| m))
            .map_err(|_| RejectionKind::MalformedToken)?;
        let known = Known::find(payload, &members);
        Ok(Self {
            text,
            members,
            known,
        })
    }

    fn text<'a>(&'a self, text: &'a Text) -> &'a str {
        name_of(&self.text, text)
    }

    fn get(&self, at: Option<usize>) -> Option<&Node> {
        self.members.get(at?).map(|(_, node)| node)
    }

    fn str_claim(&self, at: Option<usize>) -> Option<&str> {
        match self.get(at)? {
            Node::Str(t) => Some(self.text(t)),
            _ => None,
        }
    }

    /// `iss` when it is a string: any other type names no pool.
    pub(crate) fn iss(&self) -> Option<&str> {
        self.str_claim(self.known.iss)
    }

    fn numeric(&self, at: Option<usize>) -> Numeric {
        match self.get(at) {
            None => Numeric::Absent,
            Some(Node::Number(n)) => n.as_i64().map_or(Numeric::Invalid, Numeric::Int),
            Some(_) => Numeric::Invalid,
        }
    }

    /// The time claims, as found: `exp`, `iat`, `nbf`, `auth_time`.
    pub(crate) fn times(&self) -> [Numeric; 4] {
        let k = &self.known;
        [k.exp, k.iat, k.nbf, k.auth_time].map(|at| self.numeric(at))
    }

    /// What route policy reads: strings when they are strings, the string
    /// elements of `cognito:groups`.
    pub(crate) fn policy(&self) -> PolicyClaims {
        let k = &self.known;
        let groups = match self.get(k.groups) {
            Some(Node::Array(items)) => items
                .iter()
                .filter_map(|item| match item {
                    Node::Str(t) => Some(Box::from(self.text(t))),
                    _ => None,
                })
                .collect(),
            _ => Box::default(),
        };
        let auth_time = match self.numeric(k.auth_time) {
            Numeric::Int(t) => Some(t),
            _ => None,
        };
        PolicyClaims::new(PolicyParts {
            token_use: self.str_claim(k.token_use),
            scope: self.str_claim(k.scope),
            aud: self.str_claim(k.aud),
            client_id: self.str_claim(k.client_id),
            groups,
            iss: self.str_claim(k.iss),
            sub: self.str_claim(k.sub),
            origin_jti: self.str_claim(k.origin_jti),
            jti: self.str_claim(k.jti),
            auth_time,
        })
    }

    /// The claims map, built from the parse: the same as `serde_json`'s own
    /// `Map` of the payload (in a nested object, the last of repeated members
    /// wins, as there: the map's own `FromIterator` keeps the last).
    pub(crate) fn into_map(self) -> Map<String, Value> {
        self.members
            .iter()
            .map(|(k, v)| (self.text(k).to_owned(), self.value(v)))
            .collect()
    }

    fn value(&self, node: &Node) -> Value {
        match node {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::Number(n) => Value::Number(n.clone()),
            Node::Str(t) => Value::String(self.text(t).to_owned()),
            Node::Array(items) => Value::Array(items.iter().map(|n| self.value(n)).collect()),
            Node::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|(k, v)| (self.text(k).to_owned(), self.value(v)))
                    .collect(),
            ),
        }
    }
}

/// Where `s` lies in `payload`, if it is a slice of it.
fn span(payload: &[u8], s: &str) -> Option<(usize, usize)> {
    let start = (s.as_ptr() as usize).checked_sub(payload.as_ptr() as usize)?;
    let end = start.checked_add(s.len())?;
    // The offset is only trusted once it finds the very bytes of the string.
    let found = payload.get(start..end)?;
    (found.as_ptr() == s.as_ptr()).then_some((start, end))
}

fn text_of(payload: &[u8], s: &str) -> Text {
    match span(payload, s) {
        Some((start, end)) => Text::Span(start, end),
        None => Text::Decoded(s.into()),
    }
}

/// Reads a string as [`Text`].
#[derive(Clone, Copy)]
struct TextSeed<'a> {
    payload: &'a [u8],
}

impl<'de> DeserializeSeed<'de> for TextSeed<'_> {
    type Value = Text;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Text, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for TextSeed<'_> {
    type Value = Text;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E: Error>(self, s: &'de str) -> Result<Text, E> {
        Ok(text_of(self.payload, s))
    }
    fn visit_str<E: Error>(self, s: &str) -> Result<Text, E> {
        Ok(Text::Decoded(s.into()))
    }
}

/// Reads any JSON value as a [`Node`].
#[derive(Clone, Copy)]
struct NodeSeed<'a> {
    payload: &'a [u8],
}

impl<'de> DeserializeSeed<'de> for NodeSeed<'_> {
    type Value = Node;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NodeSeed<'_> {
    type Value = Node;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E: Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_bool<E: Error>(self, b: bool) -> Result<Node, E> {
        Ok(Node::Bool(b))
    }
    fn visit_i64<E: Error>(self, n: i64) -> Result<Node, E> {
        Ok(Node::Number(n.into()))
    }
    fn visit_u64<E: Error>(self, n: u64) -> Result<Node, E> {
        Ok(Node::Number(n.into()))
    }
    fn visit_f64<E: Error>(self, n: f64) -> Result<Node, E> {
        // As serde_json's own `Value` does (its parser yields finite numbers).
        Ok(Number::from_f64(n).map_or(Node::Null, Node::Number))
    }
    fn visit_borrowed_str<E: Error>(self, s: &'de str) -> Result<Node, E> {
        Ok(Node::Str(text_of(self.payload, s)))
    }
    fn visit_str<E: Error>(self, s: &str) -> Result<Node, E> {
        Ok(Node::Str(Text::Decoded(s.into())))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut access: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = access.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Node::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, access: A) -> Result<Node, A::Error> {
        members(self.payload, access, 0).map(Node::Object)
    }
}

/// An object's members, in the payload's order. Not sorted here: only the
/// claims map needs an order, and its `FromIterator` sorts (stably) itself.
fn members<'de, A: MapAccess<'de>>(
    payload: &[u8],
    mut access: A,
    capacity: usize,
) -> Result<Vec<(Text, Node)>, A::Error> {
    let mut members = Vec::with_capacity(capacity);
    while let Some(name) = access.next_key_seed(TextSeed { payload })? {
        members.push((name, access.next_value_seed(NodeSeed { payload })?));
    }
    Ok(members)
}

/// Up to this many members, [`repeated`] compares names directly; past it,
/// it sorts them, so no payload costs more than `n log n` comparisons.
const FEW_MEMBERS: usize = 32;

/// Whether two members have the same name. A token's dozen or so names are
/// compared only where a cheap signature of them (length, first and last
/// byte) collides.
fn repeated(payload: &[u8], members: &[(Text, Node)]) -> bool {
    if members.len() > FEW_MEMBERS {
        let mut names: Vec<&[u8]> = members.iter().map(|(n, _)| bytes_of(payload, n)).collect();
        names.sort_unstable();
        return names.windows(2).any(|w| w[0] == w[1]);
    }
    let mut seen = 0u64;
    for (i, (name, _)) in members.iter().enumerate() {
        let name = bytes_of(payload, name);
        let bit = 1u64 << signature(name);
        if seen & bit != 0
            && members[..i]
                .iter()
                .any(|(other, _)| bytes_of(payload, other) == name)
        {
            return true;
        }
        seen |= bit;
    }
    false
}

/// A name's bucket among 64: equal names share one.
fn signature(name: &[u8]) -> u32 {
    let first = u32::from(name.first().copied().unwrap_or(0));
    let last = u32::from(name.last().copied().unwrap_or(0));
    (name.len() as u32)
        .wrapping_mul(31)
        .wrapping_add(first)
        .wrapping_add(last.wrapping_mul(7))
        % 64
}

/// A string's bytes, compared as such (UTF-8's byte order is its code
/// points' order, `str`'s), without checking the UTF-8 again.
fn bytes_of<'a>(payload: &'a [u8], text: &'a Text) -> &'a [u8] {
    match text {
        Text::Span(start, end) => payload.get(*start..*end).unwrap_or_default(),
        Text::Decoded(s) => s.as_bytes(),
    }
}

/// A string's text. A span was checked to hold the very string parsed
/// there, so it is found and lies on character boundaries.
fn name_of<'a>(payload: &'a str, text: &'a Text) -> &'a str {
    match text {
        Text::Span(start, end) => payload.get(*start..*end).unwrap_or_default(),
        Text::Decoded(s) => s,
    }
}

/// The top-level object: its members, a repeated one refused
/// (parsers disagree on which of two equal members wins, so such payloads
/// are not read at all).
struct Members<'a> {
    payload: &'a [u8],
}

impl<'de> Visitor<'de> for Members<'_> {
    type Value = Vec<(Text, Node)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, access: A) -> Result<Self::Value, A::Error> {
        let payload = self.payload;
        // Room for a Cognito token's members (about 12 to 18), so the list
        // rarely grows, in at most 1 KiB: glibc serves blocks up to 1,032
        // bytes from its per-thread cache, larger ones by a slower path.
        let members = members(payload, access, 1024 / std::mem::size_of::<(Text, Node)>())?;
        if repeated(payload, &members) {
            return Err(A::Error::custom("repeated member"));
        }
        Ok(members)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::TokenUse;
    use proptest::prelude::*;

    /// The deepest nesting accepted, the payload object counted: `serde_json`'s
    /// recursion limit of 128 is reached by the 128th container.
    const MAX_DEPTH: usize = 127;

    fn read(payload: &[u8]) -> Result<Payload, RejectionKind> {
        Payload::parse(payload.to_vec())
    }

    #[test]
    fn reads_json_objects() {
        for payload in [
            "{}",
            " \t\r\n{ \t\r\n} \t\r\n",
            r#"{"exp":0,"iat":1,"nbf":123456789012345678,"auth_time":1234567890123456789}"#,
            r#"{"exp":12345678901234567890,"iat":-1,"nbf":-0,"auth_time":1.0}"#,
            r#"{"exp":1e3,"iat":1E+3,"nbf":0.5e-3,"auth_time":9223372036854775807}"#,
            r#"{"exp":9223372036854775808,"iat":-9223372036854775808,"nbf":"1","auth_time":null}"#,
            r#"{"exp":[1],"iat":{"a":1},"nbf":true,"auth_time":false}"#,
            r#"{"exp":1e308,"iat":123456789012345678901234567890}"#,
            r#"{"iss":"https://cognito-idp.us-east-1.amazonaws.com/us-east-1_x","scope":"a b"}"#,
            r#"{"iss":"caf\u00e9","scope":"café","aud":"\ud83d\ude00","client_id":"😀"}"#,
            r#"{"token_use":"\"\\\/\b\f\n\r\t","cognito:groups":["a","b\u0041",1,null,[],{}]}"#,
            r#"{"cognito:groups":[],"x":[[],{},[{}],{"a":[]}],"y":"\u0000"}"#,
            r#"{"":"","\u0000":0,"😀":1,"del\u007f":""}"#,
            r#"{"a" : 1 , "b" :[ 1 , 2 ] , "c" : { "d" : "e" } }"#,
        ] {
            assert!(read(payload.as_bytes()).is_ok(), "{payload}");
        }
    }

    #[test]
    fn numeric_claims_are_integers_in_i64_or_invalid() {
        let p = read(br#"{"exp":9223372036854775807,"iat":-9223372036854775808,"nbf":9223372036854775808,"auth_time":1.0,"a":"1","b":1e3,"c":null}"#).unwrap();
        assert_eq!(
            p.times(),
            [
                Numeric::Int(i64::MAX),
                Numeric::Int(i64::MIN),
                Numeric::Invalid,
                Numeric::Invalid
            ]
        );
        for value in ["\"1\"", "1e3", "null", "[1]", "true"] {
            let p = read(format!(r#"{{"exp":{value}}}"#).as_bytes()).unwrap();
            assert_eq!(p.times()[0], Numeric::Invalid, "{value}");
        }
        assert_eq!(read(b"{}").unwrap().times(), [Numeric::Absent; 4]);
        assert_eq!(read(br#"{"iss":7}"#).unwrap().iss(), None);
        assert_eq!(read(br#"{"iss":"x\/y"}"#).unwrap().iss(), Some("x/y"));
    }

    #[test]
    fn refuses_what_is_not_one_json_object() {
        for payload in [
            &b""[..],
            b" ",
            b"[]",
            b"null",
            b"{",
            b"{}}",
            b"{} {}",
            b"{}x",
            b"{\"a\"}",
            b"{\"a\":}",
            b"{\"a\":1,}",
            b"{,}",
            b"{\"a\":1 \"b\":2}",
            b"{\"a\"::1}",
            b"{a:1}",
            b"{'a':1}",
            b"{\"a\":[1,]}",
            b"{\"a\":[,1]}",
            b"{\"a\":[1 2]}",
            b"{\"a\":{\"b\"}}",
            b"{\"a\":{1:2}}",
            b"{\"a\":tru}",
            b"{\"a\":truex}",
            b"{\"a\":nul}",
            b"{\"a\":False}",
            b"{\"a\":01}",
            b"{\"a\":-}",
            b"{\"a\":+1}",
            b"{\"a\":1.}",
            b"{\"a\":.5}",
            b"{\"a\":1e}",
            b"{\"a\":1e400}",
            b"{\"a\":-1e400}",
            b"{\"a\":1-2}",
            b"{\"exp\":00}",
            b"{\"exp\":1.5.3}",
            b"{\"a\":\"\\x\"}",
            b"{\"a\":\"\\u12\"}",
            b"{\"a\":\"\\ud800\"}",
            b"{\"a\":\"\\udc00\"}",
            b"{\"a\":\"\x01\"}",
            b"{\"a\":\"\t\"}",
            b"{\"a\":\"\xff\"}",
            b"{\"a\":\"\xc3\"}",
            b"{\"a\":\"\xed\xa0\x80\"}",
            b"{\"a\":\"unterminated}",
            b"{\"a\":\"ends in a backslash\\",
            b"{\"a\xff\":1}",
            b"{\"a\":1}\x00",
            b"{\"a\":1,\"a\":2}",
            b"{\"a\":1,\"\\u0061\":2}",
            b"{\"iss\":\"x\",\"iss\":\"y\"}",
            b"\x0c{}",
            b"\xef\xbb\xbf{}",
        ] {
            assert_eq!(
                read(payload).err(),
                Some(RejectionKind::MalformedToken),
                "{}",
                String::from_utf8_lossy(payload)
            );
        }
    }

    #[test]
    fn nesting_stops_at_serde_json_s_limit() {
        // Inside the payload object: one container fewer.
        for (depth, ok) in [(MAX_DEPTH - 1, true), (MAX_DEPTH, false), (10_000, false)] {
            for payload in [
                format!(r#"{{"x":{}{}}}"#, "[".repeat(depth), "]".repeat(depth)),
                format!(
                    r#"{{"x":{}1{}}}"#,
                    r#"{"a":"#.repeat(depth),
                    "}".repeat(depth)
                ),
                format!(r#"{{"exp":{}{}}}"#, "[".repeat(depth), "]".repeat(depth)),
            ] {
                assert_eq!(read(payload.as_bytes()).is_ok(), ok, "depth {depth}");
            }
        }
    }

    #[test]
    fn repeated_members_are_refused_however_many_there_are() {
        let object = |names: &[String]| {
            let members: Vec<String> = names.iter().map(|n| format!(r#""{n}":1"#)).collect();
            format!("{{{}}}", members.join(","))
        };
        // Both ways of comparing: directly up to FEW_MEMBERS, sorted past it.
        for count in [
            2,
            5,
            FEW_MEMBERS - 1,
            FEW_MEMBERS,
            FEW_MEMBERS + 1,
            63,
            64,
            65,
            200,
        ] {
            let names: Vec<String> = (0..count).map(|i| format!("claim{i}")).collect();
            assert!(read(object(&names).as_bytes()).is_ok(), "{count} distinct");
            // A repeat first and last, and one spelled with an escape.
            for (at, repeat) in [
                (0, names[count - 1].clone()),
                (count - 1, names[0].clone()),
                (count / 2, "claim\\u0031".to_owned()),
            ] {
                let mut repeated = names.clone();
                repeated.insert(at, repeat.clone());
                assert_eq!(
                    read(object(&repeated).as_bytes()).err(),
                    Some(RejectionKind::MalformedToken),
                    "{count} names, {repeat} again at {at}"
                );
            }
        }
    }

    #[test]
    fn names_that_share_a_signature_are_still_told_apart() {
        // Same length, first and last byte: one bucket, three names.
        assert_eq!(signature(b"axb"), signature(b"ayb"));
        assert!(read(br#"{"axb":1,"ayb":2,"azb":3}"#).is_ok());
        assert_eq!(
            read(br#"{"axb":1,"ayb":2,"axb":3}"#).err(),
            Some(RejectionKind::MalformedToken)
        );
        assert_eq!(
            read(br#"{"":1,"a":2,"":3}"#).err(),
            Some(RejectionKind::MalformedToken)
        );
    }

    /// The map built from the parse is `serde_json`'s own map of the payload.
    fn same_map_as_serde_json(payload: &[u8]) -> Result<(), String> {
        let shown = String::from_utf8_lossy(payload);
        let theirs = serde_json::from_slice::<Map<String, Value>>(payload);
        match (read(payload), theirs) {
            (Ok(ours), Ok(theirs)) => {
                let ours = ours.into_map();
                if ours == theirs {
                    Ok(())
                } else {
                    Err(format!("{ours:?} != {theirs:?} for {shown}"))
                }
            }
            (Ok(_), Err(e)) => Err(format!("accepted what serde_json refuses ({e}): {shown}")),
            // Refused: serde_json refuses it too, or a top-level member repeats.
            (Err(_), Err(_)) => Ok(()),
            (Err(_), Ok(theirs)) => {
                let names = payload_names(payload);
                if names.len() > theirs.len() {
                    Ok(())
                } else {
                    Err(format!("refused what serde_json accepts: {shown}"))
                }
            }
        }
    }

    /// The top-level member names, repeats kept.
    fn payload_names(payload: &[u8]) -> Vec<String> {
        struct Names(Vec<String>);
        impl<'de> serde::Deserialize<'de> for Names {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = Names;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("an object")
                    }
                    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Names, A::Error> {
                        let mut names = Vec::new();
                        while let Some((k, serde::de::IgnoredAny)) = a.next_entry::<String, _>()? {
                            names.push(k);
                        }
                        Ok(Names(names))
                    }
                }
                d.deserialize_map(V)
            }
        }
        serde_json::from_slice::<Names>(payload)
            .map(|n| n.0)
            .unwrap_or_default()
    }

    #[test]
    fn the_map_is_serde_json_s_map() {
        for payload in [
            r#"{}"#,
            r#"{"iss":"x\/y","n":[1,-0,1.5,1e3,18446744073709551615,-9223372036854775808],"b":[true,false,null]}"#,
            r#"{"s":"caf\u00e9 😀 \"q\" \\ \n","e":"","o":{"z":1,"a":{"k":[{}]},"z":2},"😀":"\ud83d\ude00"}"#,
            r#"{"cognito:groups":["a","b\u0041",1,null,[],{}],"custom:x":"y"}"#,
        ] {
            same_map_as_serde_json(payload.as_bytes()).unwrap();
            assert!(read(payload.as_bytes()).is_ok(), "{payload}");
        }
    }

    #[test]
    fn policy_claims_are_read_through_escapes_and_other_types() {
        let payload = br#"{"iss":"x\/y","token_use":"acc\u0065ss","scope":"a\u0020b","aud":"c1","client_id":"c\u0032","cognito:groups":["g\u0031",5,{"a":1},"g2"]}"#;
        let payload = read(payload).unwrap();
        assert_eq!(payload.iss(), Some("x/y"));
        let policy = payload.policy();
        assert_eq!(policy.token_use, Some(TokenUse::Access));
        assert_eq!(policy.scope(), Some("a b"));
        assert_eq!(policy.aud(), Some("c1"));
        assert_eq!(policy.client_id(), Some("c2"));
        assert_eq!(&*policy.groups, [Box::from("g1"), Box::from("g2")]);

        // Other types read as absent; token_use must be exactly id or access.
        let payload = br#"{"iss":7,"token_use":"ID","scope":{"a":[1,"s"]},"aud":[1],"client_id":null,"cognito:groups":"admin"}"#;
        let payload = read(payload).unwrap();
        assert_eq!(payload.iss(), None);
        let policy = payload.policy();
        assert_eq!(policy.token_use, None);
        assert_eq!(policy.scope(), None);
        assert_eq!(policy.aud(), None);
        assert_eq!(policy.client_id(), None);
        assert!(policy.groups.is_empty());

        // ...but are still checked as any member is.
        for bad in [
            &br#"{"scope":["\ud800"]}"#[..],
            br#"{"aud":{"a":1e400}}"#,
            br#"{"iss":[1,]}"#,
            br#"{"cognito:groups":{"a":"\ud800"}}"#,
            br#"{"cognito:groups":["a",1e400]}"#,
        ] {
            assert_eq!(
                read(bad).err(),
                Some(RejectionKind::MalformedToken),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    /// Member names as found in tokens, and some that need care.
    fn name() -> impl Strategy<Value = String> {
        prop_oneof![
            proptest::sample::select(vec![
                "iss",
                "exp",
                "iat",
                "nbf",
                "auth_time",
                "token_use",
                "scope",
                "aud",
                "client_id",
                "cognito:groups",
                "sub",
                "",
                "é",
                "a\"b",
                "\u{1}",
            ])
            .prop_map(String::from),
            "[a-z:_]{0,20}",
        ]
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            "[ -~]{0,12}".prop_map(Value::from),
            any::<String>().prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 24, 5, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                proptest::collection::vec((name(), inner), 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// A payload: members (names may repeat), compact or spaced.
    fn payload() -> impl Strategy<Value = Vec<u8>> {
        (
            proptest::collection::vec((name(), value()), 0..10),
            any::<bool>(),
        )
            .prop_map(|(members, spaced)| {
                let sep = if spaced { " \n\t" } else { "" };
                let members: Vec<String> = members
                    .iter()
                    .map(|(k, v)| {
                        let k = serde_json::to_string(k).unwrap();
                        format!("{sep}{k}{sep}:{sep}{v}{sep}")
                    })
                    .collect();
                format!("{{{}}}", members.join(",")).into_bytes()
            })
    }

    /// Bytes that change what a payload means when put somewhere in it.
    fn edit_byte() -> impl Strategy<Value = u8> {
        proptest::sample::select(b"\"\\{}[],: 0-+.eEu9tfn\x01\x7f\x80\xc3\xff/".to_vec())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1_000))]

        #[test]
        fn same_map_as_serde_json_on_payloads(payload in payload()) {
            prop_assert_eq!(same_map_as_serde_json(&payload), Ok(()));
        }

        #[test]
        fn same_verdict_as_serde_json_on_edited_payloads(
            payload in payload(),
            edits in proptest::collection::vec((any::<prop::sample::Index>(), 0..3u8, edit_byte()), 1..4),
        ) {
            let mut payload = payload;
            for (at, op, byte) in edits {
                let i = at.index(payload.len() + 1);
                match op {
                    0 => payload.insert(i, byte),
                    1 if i < payload.len() => { payload.remove(i); }
                    _ if i < payload.len() => payload[i] = byte,
                    _ => payload.push(byte),
                }
            }
            prop_assert_eq!(same_map_as_serde_json(&payload), Ok(()));
        }
    }
}
