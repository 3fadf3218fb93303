use super::*;

fn java(f: f64) -> String {
    let mut s = String::new();
    write_java_double(f, &mut s);
    s
}

#[test]
fn doubles_print_as_java_does() {
    assert_eq!(java(249.99), "249.99");
    assert_eq!(java(1.0), "1.0");
    assert_eq!(java(0.001), "0.001");
    assert_eq!(java(1e7), "1.0E7");
    assert_eq!(java(1.5e-5), "1.5E-5");
    assert_eq!(java(-2.5e10), "-2.5E10");
}

#[test]
fn json_keeps_key_order_and_renders_like_jayway() {
    let v = parse_json(r#"{"b":1,"a":[{"c":"x"}],"d":{"e":null}}"#).unwrap();
    assert_eq!(v.to_text().unwrap(), r#"{b=1, a=[{"c":"x"}], d={e=null}}"#);
    assert_eq!(json(&v), r#"{"b":1,"a":[{"c":"x"}],"d":{"e":null}}"#);
}

fn json(v: &Value<'_>) -> String {
    let mut j = String::new();
    v.append_json(&mut j).unwrap();
    j
}

#[test]
fn a_repeated_key_keeps_its_first_place_and_its_last_value() {
    // Below and past the size where objects switch to a hash index.
    for n in [3, SMALL_OBJECT - 1, SMALL_OBJECT, SMALL_OBJECT + 1, 1_000] {
        let keys: Vec<String> = (0..n).map(|i| format!("\"k{i}\":{i}")).collect();
        let text = format!("{{{},\"k1\":\"last\",\"k0\":null}}", keys.join(","));
        let v = parse_json(&text).unwrap();
        let Value::Map(entries, _) = &v else {
            panic!("{text}")
        };
        assert_eq!(entries.len(), n, "{text}");
        let mut expected: Vec<String> = (0..n).map(|i| format!("\"k{i}\":{i}")).collect();
        expected[0] = "\"k0\":null".into();
        expected[1] = "\"k1\":\"last\"".into();
        assert_eq!(json(&v), format!("{{{}}}", expected.join(",")));
    }
}

#[test]
fn strings_are_borrowed_unless_escaped() {
    let v = parse_json(r#"{"a":"plain","b\u0062":"esc\n"}"#).unwrap();
    let Value::Map(entries, _) = &v else { panic!() };
    assert!(matches!(entries[0].0, Cow::Borrowed("a")));
    assert!(matches!(entries[0].1, Value::Str(Cow::Borrowed("plain"))));
    assert!(matches!(&entries[1].0, Cow::Owned(k) if k == "bb"));
    assert!(matches!(&entries[1].1, Value::Str(Cow::Owned(s)) if s == "esc\n"));
    let owned = parse_json_owned(r#"{"a":"plain"}"#).unwrap();
    assert_eq!(json(&owned), r#"{"a":"plain"}"#);
    assert!(parse_json_owned("{} x").is_err());
}

#[test]
fn strings_are_escaped_as_serde_json_escapes_them() {
    let mut all: String = (0u32..0x80).filter_map(char::from_u32).collect();
    all.push_str("é€😀\u{2028}");
    for s in [all.as_str(), "", "\"", "a\\b", "\u{1f}x\u{7f}"] {
        let mut out = String::new();
        write_json_str(s, &mut out).unwrap();
        assert_eq!(out, serde_json::to_string(s).unwrap());
    }
}

#[test]
fn text_past_the_limit_is_refused_before_it_is_built() {
    // 11 items of 1 MiB: 11 MiB of text from 1 MiB of data.
    let big = Value::str("x".repeat(1 << 20));
    let list = Value::List(Rc::new(vec![big; 11]), Origin::Json);
    let mut out = String::new();
    assert_eq!(list.append_json(&mut out), Err(TooLong));
    assert_eq!(list.append_text(&mut out), Err(TooLong));
    assert_eq!(list.to_text(), Err(TooLong));
    assert_eq!(out.capacity(), 0, "nothing was written");
    // Ten a little smaller fit, with what is already there counted.
    let item = (1 << 20) - 4;
    let list = Value::List(Rc::new(vec![Value::str("x".repeat(item)); 10]), Origin::Vtl);
    assert_eq!(list.to_text().unwrap().len(), 10 * item + 2 + 9 * 2);
    let mut out = "y".repeat(1 << 20);
    assert_eq!(list.append_text(&mut out), Err(TooLong));
    assert_eq!(out.len(), 1 << 20);
}
