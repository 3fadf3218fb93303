//! A token's decoded payload, parsed once by `serde_json` before any key is
//! used: the claims map the service is later handed, from which the issuer,
//! the time claims and what route policy reads are all taken. One parse, so
//! what the checks read and what the service reads cannot disagree.

use crate::error::RejectionKind;
use serde::de::{Deserializer, Error, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};
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

/// The claims of a payload: one JSON object, no top-level member repeated.
/// Nesting, escapes, UTF-8 and number ranges are `serde_json`'s rules (at
/// most 127 containers inside the payload object).
#[derive(Debug)]
pub(crate) struct Payload(pub(crate) Map<String, Value>);

impl Payload {
    pub(crate) fn parse(payload: &[u8]) -> Result<Self, RejectionKind> {
        serde_json::from_slice(payload).map_err(|_| RejectionKind::MalformedToken)
    }

    /// `iss` when it is a string: any other type names no pool.
    pub(crate) fn iss(&self) -> Option<&str> {
        self.0.get("iss").and_then(Value::as_str)
    }

    /// A numeric claim (`exp`, `iat`, `nbf`, `auth_time`).
    pub(crate) fn numeric(&self, name: &str) -> Numeric {
        match self.0.get(name) {
            None => Numeric::Absent,
            Some(value) => value.as_i64().map_or(Numeric::Invalid, Numeric::Int),
        }
    }
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(UniqueMembers)
    }
}

/// Builds the map, refusing a repeated member: parsers disagree on which of
/// two equal members wins, so such payloads are not read at all. Members are
/// sorted, compared, then built into the map in one go, which packs its nodes
/// (the token cache bounds what they take).
struct UniqueMembers;

impl<'de> Visitor<'de> for UniqueMembers {
    type Value = Payload;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Payload, A::Error> {
        let mut members: Vec<(String, Value)> = Vec::new();
        while let Some(name) = access.next_key()? {
            members.push((name, access.next_value()?));
        }
        members.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        if members.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err(A::Error::custom("repeated member"));
        }
        Ok(Payload(members.into_iter().collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The deepest nesting accepted, the payload object counted: `serde_json`'s
    /// recursion limit of 128 is reached by the 128th container.
    const MAX_DEPTH: usize = 127;

    fn read(payload: &[u8]) -> Result<Payload, RejectionKind> {
        Payload::parse(payload)
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
            r#"{"iss":"caf\u00e9","scope":"café","aud":"\ud83d\ude00","client_id":"😀"}"#,
            r#"{"token_use":"\"\\\/\b\f\n\r\t","cognito:groups":["a","b\u0041",1,null,[],{}]}"#,
            r#"{"":"","\u0000":0,"😀":1,"del\u007f":""}"#,
            r#"{"a" : 1 , "b" :[ 1 , 2 ] , "c" : { "d" : "e", "d" : "f" } }"#,
        ] {
            assert!(read(payload.as_bytes()).is_ok(), "{payload}");
        }
    }

    #[test]
    fn numeric_claims_are_integers_in_i64_or_invalid() {
        let p = read(br#"{"exp":9223372036854775807,"iat":-9223372036854775808,"nbf":9223372036854775808,"auth_time":1.0,"a":"1","b":1e3,"c":null}"#).unwrap();
        assert_eq!(p.numeric("exp"), Numeric::Int(i64::MAX));
        assert_eq!(p.numeric("iat"), Numeric::Int(i64::MIN));
        for name in ["nbf", "auth_time", "a", "b", "c"] {
            assert_eq!(p.numeric(name), Numeric::Invalid, "{name}");
        }
        assert_eq!(p.numeric("absent"), Numeric::Absent);
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
            b"{a:1}",
            b"{'a':1}",
            b"{\"a\":[1,]}",
            b"{\"a\":tru}",
            b"{\"a\":False}",
            b"{\"a\":01}",
            b"{\"a\":+1}",
            b"{\"a\":1.}",
            b"{\"a\":.5}",
            b"{\"a\":1e400}",
            b"{\"a\":-1e400}",
            b"{\"a\":\"\\x\"}",
            b"{\"a\":\"\\u12\"}",
            b"{\"a\":\"\\ud800\"}",
            b"{\"a\":\"\\udc00\"}",
            b"{\"a\":\"\x01\"}",
            b"{\"a\":\"\xff\"}",
            b"{\"a\":\"\xed\xa0\x80\"}",
            b"{\"a\xff\":1}",
            b"{\"a\":\"unterminated}",
            b"{\"a\":1}\x00",
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
        for count in [2, 63, 64, 65, 200] {
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
}
