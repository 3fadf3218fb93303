use super::json::NodeRef;
use super::*;
use jsonschema::json::{Array, Node, Object};
use jsonschema::JsonType;
use serde_json::json;

fn tape<'p>(parsed: &'p ParsedBody<'_>) -> &'p Tape<'p> {
    match &parsed.0 {
        Parsed::Tape { tape, .. } => tape,
        Parsed::Value(value) => panic!("parsed as a Value: {value}"),
    }
}

fn prepared(name: &str) -> <TapeJson as jsonschema::json::Json>::PreparedKey {
    <TapeJson as jsonschema::json::Json>::prepare_key(name)
}

#[test]
fn the_tape_holds_what_the_value_holds() {
    let body = br#"{"s": "t\u00e9a \"q\"", "n": [1, -2, 1.5, 1.0, 1e2, 18446744073709551616, -0],
                   "b": true, "z": null, "o": {"a": {}, "e": []}, "w": "plain"}"#;
    let parsed = ParsedBody::parse(body).unwrap();
    let root = NodeRef::new(tape(&parsed), 0);
    let value: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(root.to_value().into_owned(), value);
    // An escaped string is owned, a plain one borrowed from the body.
    let object = root.as_object().unwrap();
    let s = object.get(&prepared("s")).unwrap().as_string().unwrap();
    assert_eq!(s, "téa \"q\"");
    let w = object.get(&prepared("w")).unwrap().as_string().unwrap();
    assert!(matches!(w, Cow::Borrowed(_)));
    // Numbers are serde_json's: 1.0 stays a float (draft 4: not an integer).
    let n = object.get(&prepared("n")).unwrap();
    let numbers: Vec<&Number> = n
        .as_array()
        .unwrap()
        .elements()
        .map(|e| e.as_number().unwrap())
        .collect();
    assert!(numbers[3].is_f64() && numbers[0].is_u64() && numbers[1].is_i64());
    assert_eq!(numbers[5].as_f64(), Some(18446744073709551616.0));
    assert_eq!(Object::len(&object), 6);
    assert_eq!(
        object.get(&prepared("missing")).map(|n| n.json_type()),
        None
    );
    assert_eq!(
        object.get(&prepared("z")).unwrap().json_type(),
        JsonType::Null
    );
}

#[test]
fn wide_objects_are_found_by_name_through_their_sorted_run() {
    // More members than are scanned; names of up to eight bytes (the key is
    // the name), and longer ones sharing their first eight bytes and their
    // length (found by what follows).
    let mut members = serde_json::Map::new();
    for i in 0..40 {
        members.insert(format!("f{i}"), json!(i));
        members.insert(format!("longname_{i:03}"), json!(-i));
    }
    members.insert(String::new(), json!("empty"));
    members.insert("a\u{0}".to_owned(), json!("nul"));
    members.insert("a".to_owned(), json!("a"));
    // Alone with its first eight bytes and length; and a name whose first
    // bytes another shorter, absent name shares.
    members.insert("onlyname_x".to_owned(), json!("x"));
    members.insert("b\u{0}".to_owned(), json!("b nul"));
    let body = serde_json::to_vec(&Value::Object(members.clone())).unwrap();
    let parsed = ParsedBody::parse(&body).unwrap();
    let tape = tape(&parsed);
    assert!(matches!(tape.slots[0], Slot::Object { sorted, .. } if sorted != UNSORTED));
    let object = NodeRef::new(tape, 0).as_object().unwrap();
    for (name, value) in &members {
        let found = object
            .get(&prepared(name))
            .map(|n| n.to_value().into_owned());
        assert_eq!(found.as_ref(), Some(value), "{name:?}");
    }
    for absent in [
        "f40",
        "longname_040",
        "longname_00",
        "longname_0000",
        "a\u{0}\u{0}",
        "b",
        "onlyname_y",
        "onlyname_",
    ] {
        assert!(object.get(&prepared(absent)).is_none(), "{absent:?}");
    }
    assert_eq!(Object::len(&object), members.len());
    assert_eq!(object.members().count(), members.len());
}

#[test]
fn a_repeated_name_is_read_as_a_value_where_the_last_wins() {
    let wide: String = (0..20).map(|i| format!("\"k{i}\": {i}, ")).collect();
    for body in [
        r#"{"a": 1, "a": "x"}"#.to_owned(),
        r#"{"o": {"b": [], "c": 2, "b": {}}}"#.to_owned(),
        format!("{{{wide}\"k3\": \"again\"}}"),
    ] {
        let parsed = ParsedBody::parse(body.as_bytes()).unwrap();
        let Parsed::Value(value) = &parsed.0 else {
            panic!("{body}: a repeated name must fall back to a Value");
        };
        assert_eq!(value, &serde_json::from_str::<Value>(&body).unwrap());
    }
    // The same names in different objects are no repeat.
    let parsed = ParsedBody::parse(br#"{"a": {"a": 1}, "b": {"a": 2}}"#).unwrap();
    assert!(matches!(parsed.0, Parsed::Tape { .. }));
}

#[test]
fn what_is_not_json_is_refused_with_serde_jsons_words() {
    let deep = "[".repeat(200) + &"]".repeat(200);
    for body in [
        &b"{\"a\": 1"[..],
        b"{\"a\": 1} x",
        b"[1, 2,]",
        b"{\"a\" 1}",
        b"\"\\ud800\"",
        b"1e400",
        b"\"\xff\"",
        b"\xff",
        b"nul",
        deep.as_bytes(),
    ] {
        let ours = ParsedBody::parse(body).unwrap_err();
        let theirs = serde_json::from_slice::<Value>(body).unwrap_err();
        assert_eq!(
            ours,
            super::super::Invalid::Body(vec![format!("body is not JSON: {theirs}")]),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn an_empty_body_is_an_empty_object() {
    for body in [&b""[..], b"  \r\n\t"] {
        let parsed = ParsedBody::parse(body).unwrap();
        assert!(matches!(&parsed.0, Parsed::Value(Value::Object(m)) if m.is_empty()));
    }
}

#[test]
fn equality_with_schema_values_is_the_crates() {
    let body = br#"[1, 1.0, "a", null, [1, {"x": 2.0}], {"x": [true], "y": 1}]"#;
    let parsed = ParsedBody::parse(body).unwrap();
    let items: Vec<NodeRef<'_>> = NodeRef::new(tape(&parsed), 0)
        .as_array()
        .unwrap()
        .elements()
        .collect();
    let value: Value = serde_json::from_slice(body).unwrap();
    let candidates = [
        json!(1),
        json!(1.0),
        json!(2),
        json!("a"),
        json!("b"),
        json!(null),
        json!(false),
        json!([1, {"x": 2}]),
        json!([1.0, {"x": 2}, 3]),
        json!({"x": [true], "y": 1.0}),
        json!({"x": [true]}),
        json!({"x": [true], "z": 1}),
    ];
    for (item, same) in items.iter().zip(value.as_array().unwrap()) {
        for candidate in &candidates {
            assert_eq!(
                item.equals_value(candidate),
                jsonschema::json::cmp::equal(same, candidate),
                "{same} = {candidate}"
            );
        }
    }
}

#[test]
fn nodes_report_their_lengths_and_identities() {
    let body = r#"["héllo", "🦀🦀", "", "abcd"]"#;
    let parsed = ParsedBody::parse(body.as_bytes()).unwrap();
    let items: Vec<NodeRef<'_>> = NodeRef::new(tape(&parsed), 0)
        .as_array()
        .unwrap()
        .elements()
        .collect();
    let lengths: Vec<Option<u64>> = items.iter().map(|n| n.string_length()).collect();
    assert_eq!(lengths, [Some(5), Some(2), Some(0), Some(4)]);
    for item in &items {
        let len = item.string_length().unwrap();
        for (min, max) in [
            (0, 0),
            (1, 1),
            (2, 2),
            (2, 5),
            (5, 5),
            (6, 9),
            (0, u64::MAX),
        ] {
            assert_eq!(
                item.string_length_within(min, max),
                Some((min..=max).contains(&len)),
                "{len} in {min}..={max}"
            );
        }
    }
    let identities: std::collections::HashSet<_> = items.iter().map(|n| n.identity()).collect();
    assert_eq!(
        identities.len(),
        items.len(),
        "distinct nodes, distinct identities"
    );
}
