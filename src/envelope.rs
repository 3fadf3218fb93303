//! The one pass over a token's decoded payload before any key is used: the
//! issuer, the time claims and what route policy reads, and a check that the
//! payload is what the full claims parse (`serde_json`, on demand, later)
//! accepts, with no repeated top-level member.

use crate::claims::{PolicyClaims, TokenUse};
use crate::error::RejectionKind;
use crate::json_scan::{Numeric, Scanner, Text};
use crate::short_bytes;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;

/// Member names hashed on the stack for the repeat check; payloads with more
/// members (or two names with one hash) get the exact check instead.
const NAMES_ON_STACK: usize = 64;

/// The claims read in one pass over the payload, before any key is used: the
/// issuer and time claims, and what route policy reads. Strings are borrowed
/// from the payload (copied only when they hold escapes), so refusing a token
/// allocates nothing here.
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

impl<'p> Envelope<'p> {
    /// Reads the envelope of a decoded payload.
    pub(crate) fn read(payload: &'p [u8]) -> Result<Self, RejectionKind> {
        let mut out = Envelope::default();
        let mut hashes = [0u64; NAMES_ON_STACK];
        let mut count = 0;
        Scanner::new(payload).document(|s, name| {
            match name.bytes() {
                // A non-string `iss` names no pool: the same as absent.
                b"iss" => out.iss = s.text_or_other(1)?,
                b"exp" => out.exp = s.numeric(1)?,
                b"iat" => out.iat = s.numeric(1)?,
                b"nbf" => out.nbf = s.numeric(1)?,
                b"auth_time" => out.auth_time = s.numeric(1)?,
                b"token_use" => out.token_use = s.text_or_other(1)?,
                b"scope" => out.scope = s.text_or_other(1)?,
                b"aud" => out.aud = s.text_or_other(1)?,
                b"client_id" => out.client_id = s.text_or_other(1)?,
                b"cognito:groups" => out.groups = s.texts(1)?,
                _ => s.value(1)?,
            }
            if let Some(slot) = hashes.get_mut(count) {
                *slot = short_bytes::hash(name.bytes());
            }
            count += 1;
            Ok(())
        })?;
        // Parsers disagree on which of two equal members wins: such payloads
        // are refused. Equal names have equal hashes; on equal hashes, or
        // more names than kept, compare the names themselves (rare).
        let collide = match hashes.get_mut(..count) {
            Some(seen) => {
                seen.sort_unstable();
                seen.windows(2).any(|w| w[0] == w[1])
            }
            None => true,
        };
        if collide && serde_json::from_slice::<NoRepeats>(payload).is_err() {
            return Err(RejectionKind::MalformedToken);
        }
        Ok(out)
    }

    /// What route policy reads, owned: taken once the signature holds.
    pub(crate) fn policy(&self) -> PolicyClaims {
        let owned = |s: &Option<Cow<'_, str>>| s.as_deref().map(Box::from);
        PolicyClaims {
            token_use: TokenUse::from_claim(self.token_use.as_deref()),
            scope: owned(&self.scope),
            aud: owned(&self.aud),
            client_id: owned(&self.client_id),
            groups: self.groups.iter().map(|g| Box::from(&**g)).collect(),
        }
    }
}

/// The exact repeat check: every member name, sorted and compared. Runs only
/// after the scanner accepted the payload, so values need no checking here.
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
                while let Some((Text(name), IgnoredAny)) = access.next_entry()? {
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

#[cfg(any(test, fuzzing))]
/// What the full parse makes of a payload, if this pass must accept it.
fn reference(payload: &[u8]) -> Option<serde_json::Map<String, serde_json::Value>> {
    let map: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(payload).ok()?;
    serde_json::from_slice::<NoRepeats>(payload).ok()?;
    Some(map)
}

/// Checks this pass against the full parse: the same verdict, and the
/// same claims when both accept. For the tests and the `envelope` fuzz
/// target.
#[cfg(any(test, fuzzing))]
pub(crate) fn agrees(payload: &[u8]) -> Result<(), String> {
    let shown = String::from_utf8_lossy(payload);
    match (Envelope::read(payload), reference(payload)) {
        (Err(_), None) => Ok(()),
        (Ok(_), None) => Err(format!("accepted what the full parse refuses: {shown}")),
        (Err(e), Some(_)) => Err(format!(
            "refused ({e:?}) what the full parse accepts: {shown}"
        )),
        (Ok(envelope), Some(map)) => {
            let text = |k: &str| map.get(k).and_then(serde_json::Value::as_str);
            let numeric = |k: &str| match map.get(k) {
                None => Numeric::Absent,
                Some(serde_json::Value::Number(n)) => {
                    n.as_i64().map_or(Numeric::Invalid, Numeric::Int)
                }
                Some(_) => Numeric::Invalid,
            };
            let groups: Vec<&str> = map
                .get("cognito:groups")
                .and_then(serde_json::Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(serde_json::Value::as_str)
                .collect();
            let found = (
                envelope.iss.as_deref(),
                [envelope.exp, envelope.iat, envelope.nbf, envelope.auth_time],
                [
                    envelope.token_use.as_deref(),
                    envelope.scope.as_deref(),
                    envelope.aud.as_deref(),
                    envelope.client_id.as_deref(),
                ],
                envelope.groups.iter().map(|g| &**g).collect::<Vec<_>>(),
            );
            let expected = (
                text("iss"),
                ["exp", "iat", "nbf", "auth_time"].map(numeric),
                ["token_use", "scope", "aud", "client_id"].map(text),
                groups,
            );
            if found == expected {
                Ok(())
            } else {
                Err(format!("{found:?} != {expected:?} for {shown}"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json_scan::MAX_DEPTH;
    use proptest::prelude::*;
    use serde_json::Value;

    #[test]
    fn reads_what_the_full_parse_reads() {
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
            agrees(payload.as_bytes()).unwrap();
            assert!(Envelope::read(payload.as_bytes()).is_ok(), "{payload}");
        }
    }

    #[test]
    fn refuses_what_the_full_parse_refuses() {
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
            agrees(payload).unwrap();
            assert!(
                Envelope::read(payload).is_err(),
                "{}",
                String::from_utf8_lossy(payload)
            );
        }
    }

    #[test]
    fn nesting_stops_where_the_full_parse_stops() {
        for depth in 1..=MAX_DEPTH + 3 {
            let open = |s: &str| s.repeat(depth);
            for payload in [
                format!(r#"{{"x":{}{}}}"#, open("["), open("]")),
                format!(r#"{{"x":{}1{}}}"#, open(r#"{"a":"#), open("}")),
                format!(r#"{{"cognito:groups":{}{}}}"#, open("["), open("]")),
                format!(r#"{{"exp":{}{}}}"#, open("["), open("]")),
                format!(r#"{{"scope":{}{}}}"#, open("["), open("]")),
            ] {
                agrees(payload.as_bytes()).unwrap();
            }
        }
        let deepest = format!(
            r#"{{"x":{}{}}}"#,
            "[".repeat(MAX_DEPTH - 1),
            "]".repeat(MAX_DEPTH - 1)
        );
        assert!(Envelope::read(deepest.as_bytes()).is_ok());
        let deeper = format!(
            r#"{{"x":{}{}}}"#,
            "[".repeat(MAX_DEPTH),
            "]".repeat(MAX_DEPTH)
        );
        assert!(Envelope::read(deeper.as_bytes()).is_err());
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
            (0i64..4_000_000_000).prop_map(Value::from),
            "[ -~]{0,12}".prop_map(Value::from),
            any::<String>().prop_map(Value::from),
            proptest::sample::select(vec!["id", "access", "a b", "pets/read"])
                .prop_map(Value::from),
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
                        let v = if spaced {
                            serde_json::to_string_pretty(v).unwrap()
                        } else {
                            v.to_string()
                        };
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
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        #[test]
        fn agrees_with_the_full_parse_on_payloads(payload in payload()) {
            prop_assert_eq!(agrees(&payload), Ok(()));
        }

        #[test]
        fn agrees_with_the_full_parse_on_edited_payloads(
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
            prop_assert_eq!(agrees(&payload), Ok(()));
        }

        #[test]
        fn agrees_with_the_full_parse_on_fragments(
            parts in proptest::collection::vec(proptest::sample::select(vec![
                "{", "}", "[", "]", ":", ",", " ", "\"", "\"iss\"", "\"exp\"", "\"scope\"",
                "\"cognito:groups\"", "\"a\\u0041\"", "\\", "\"x\"", "1", "-", "0", ".5",
                "e9", "1e400", "01", "true", "nul", "null", "\u{e9}", "\u{1}", "18446744073709551616",
            ]), 0..16),
        ) {
            let mut payload = String::from("{");
            payload.extend(parts);
            prop_assert_eq!(agrees(payload.as_bytes()), Ok(()));
        }
    }
}
