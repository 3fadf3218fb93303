use super::*;
use serde_json::json;

/// The crate's own answer: `pattern` alone, with the models' options.
fn crate_says(pattern: &str, text: &str) -> bool {
    jsonschema::draft4::options()
        .with_pattern_options(PatternOptions::regex())
        .build(&json!({ "pattern": pattern }))
        .unwrap()
        .is_valid(&json!(text))
}

#[test]
fn one_ascii_class_repeated_and_anchored_takes_the_fast_form() {
    let class = AsciiClass::of("^[a-z0-9 ]+$").expect("one class");
    assert_eq!(class.ranges, vec![(b' ', 0), (b'0', 9), (b'a', 25)]);
    assert_eq!((class.min, class.max), (1, None));
    let class = AsciiClass::of("^[A-Z]{2,8}$").expect("counted");
    assert_eq!((class.min, class.max), (2, Some(8)));
    // ECMA's `\d` and `\w` are ASCII (the crate's translation).
    let class = AsciiClass::of(r"^\d*$").expect("a digit, any number of times");
    assert_eq!((class.ranges, class.min), (vec![(b'0', 9)], 0));
    let class = AsciiClass::of(r"^\w+$").expect("a word character");
    assert_eq!(
        class.ranges,
        vec![(b'0', 9), (b'A', 25), (b'_', 0), (b'a', 25)]
    );
    // `\s`, though, is ECMA's: Unicode spaces too (validation.rs docs).
    assert!(crate_says(r"^\s$", "\u{3000}"));
    assert!(!crate_says(r"^\d$", "\u{663}"));
    assert!(!crate_says(r"^\w$", "é"));
    // One character repeated is a class of one.
    let class = AsciiClass::of("^x{3}$").expect("one character");
    assert_eq!(
        (class.ranges, class.min, class.max),
        (vec![(b'x', 0)], 3, Some(3))
    );
}

#[test]
fn other_patterns_are_left_to_the_crate() {
    for pattern in [
        "[a-z]+",                  // unanchored: a substring is enough
        "^[a-z]+",                 // open end
        "[a-z]+$",                 // open start
        "^[a-z]+$|^x$",            // alternation
        "^[a-z][0-9]+$",           // two classes
        "^[^a-z]+$",               // negated: holds characters beyond ASCII
        r"^\S+$",                  // ECMA's `\S`: beyond ASCII too
        "^[a-zé]+$",               // a member beyond ASCII
        "^(?i)[k]+$",              // case folding adds the Kelvin sign
        "^[a-z]+\n$",              // something after the class
        "^([a-z]+)+$",             // a group repeated
        "^[acegikmoqsuwy02468]+$", // more ranges than compared in bulk
    ] {
        assert_eq!(AsciiClass::of(pattern), None, "{pattern:?}");
    }
}

#[test]
fn the_fast_form_answers_as_the_crate_does() {
    let patterns = [
        "^[a-z0-9 ]+$",
        "^[A-Z]{2,8}$",
        r"^\d*$",
        r"^\w+$",
        "^x{3}$",
        "^[-a-f]{0,40}$",
        r"^[\x20-\x7e]*$",
        "^[ab]{17,33}$",
        "^[a-z]{0,1}$",
    ];
    let long = "lorem ipsum dolor sit amet ".repeat(30);
    let texts: Vec<String> = [
        "",
        "a",
        "abc",
        "ABC",
        "AB",
        "ABCDEFGHI",
        "0123456789",
        "a_b",
        "xxx",
        "xxxx",
        "-abcdef-",
        "tab\there",
        "new\nline",
        "trailing\n",
        "é",
        "aé",
        "\u{212a}",
        "٣",
        long.trim_end(),
        &long,
        &format!("{}!", long.trim_end()),
        &format!("{}é", "a".repeat(31)),
        &"ab".repeat(8),
        &"ab".repeat(9),
        &"ab".repeat(17),
        &format!("{}A{}", "a".repeat(16), "b".repeat(15)),
    ]
    .iter()
    .map(|t| t.to_string())
    .collect();
    for pattern in patterns {
        let class = AsciiClass::of(pattern).expect(pattern);
        for text in &texts {
            assert_eq!(
                class.is_match(text),
                crate_says(pattern, text),
                "{pattern:?} on {text:?}"
            );
        }
    }
}

#[test]
fn every_count_of_ranges_compares_every_byte() {
    // One to eight ranges (each compiled loop), a byte outside them at
    // every position of strings that span several blocks and a remainder.
    let members = b"acegikmo";
    for count in 1..=MAX_RANGES {
        let set = &members[..count];
        let pattern = format!("^[{}]*$", String::from_utf8_lossy(set));
        let class = AsciiClass::of(&pattern).expect("a class");
        assert_eq!(class.ranges.len(), count, "{pattern}");
        let good: String = (0..53).map(|i| set[i % count] as char).collect();
        assert!(class.is_match(&good), "{pattern} on {good}");
        for at in 0..good.len() {
            let mut bad = good.clone().into_bytes();
            bad[at] = b'b';
            let bad = String::from_utf8(bad).unwrap();
            assert!(!class.is_match(&bad), "{pattern}: b at {at}");
        }
    }
}

#[test]
fn the_keyword_decides_as_the_crate_for_every_pattern() {
    // Through the factory: fast forms and the crate's own alike.
    for (pattern, text, expected) in [
        ("^[a-z]+$", "tea", true),
        ("^[a-z]+$", "TEA", false),
        ("^[a-z]+$", "", false),
        ("^[a-z]+@[a-z]+$", "a@b", true),
        ("^[a-z]+@[a-z]+$", "a@", false),
        ("b", "abc", true),
    ] {
        let validator = jsonschema::draft4::options()
            .with_pattern_options(PatternOptions::regex())
            .with_keyword("pattern", keyword::<jsonschema::json::SerdeJson>)
            .build(&json!({ "pattern": pattern }))
            .unwrap();
        assert_eq!(
            validator.is_valid(&json!(text)),
            expected,
            "{pattern:?} on {text:?}"
        );
        assert_eq!(
            crate_says(pattern, text),
            expected,
            "{pattern:?} on {text:?}"
        );
        assert_eq!(
            validator.validate(&json!(text)).is_ok(),
            expected,
            "validate agrees with is_valid"
        );
        assert!(validator.is_valid(&json!(7)), "only strings are matched");
    }
    // A pattern the crate refuses is refused here too.
    let refused = jsonschema::draft4::options()
        .with_pattern_options(PatternOptions::regex())
        .with_keyword("pattern", keyword::<jsonschema::json::SerdeJson>)
        .build(&json!({ "pattern": "^(?=a)a+$" }));
    assert!(refused.is_err());
}
