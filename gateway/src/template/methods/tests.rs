use super::*;

#[test]
fn escape_javascript_is_commons_lang() {
    assert_eq!(
        escape_javascript(r#"it's "x" a/b \ "#).unwrap(),
        r#"it\'s \"x\" a\/b \\ "#
    );
    assert_eq!(
        escape_javascript("é\n\u{1}😀").unwrap(),
        "\\u00E9\\n\\u0001\\uD83D\\uDE00"
    );
    // DEL (0x7f) is not escaped by commons-lang 2.
    assert_eq!(escape_javascript("\u{7f}").unwrap(), "\u{7f}");
}

#[test]
fn url_decode_rejects_bad_escapes() {
    assert_eq!(url_decode("a+b%2Fc").as_deref(), Some("a b/c"));
    assert_eq!(url_decode("%zz"), None);
    assert_eq!(url_decode("%4"), None);
}

#[test]
fn split_is_bounded_in_parts() {
    let n = MAX_MATCHES;
    let parts = |iter: &mut dyn Iterator<Item = &'static str>| {
        split_bounded(iter.map(Cow::Borrowed)).map(|p| p.len())
    };
    assert_eq!(parts(&mut std::iter::repeat_n("a", n)), Some(n));
    assert_eq!(parts(&mut std::iter::repeat_n("a", n + 1)), None);
    // Empty parts count once a part follows them; trailing ones are
    // dropped (Java), so never count.
    let mut empties_then_a = std::iter::repeat_n("", n).chain(["a"]);
    assert_eq!(parts(&mut empties_then_a), None);
    let mut a_then_empties = std::iter::once("a").chain(std::iter::repeat_n("", 2 * n));
    assert_eq!(parts(&mut a_then_empties), Some(1));
    assert_eq!(parts(&mut std::iter::repeat_n("", 3)), Some(1));
}

#[test]
fn java_replacements() {
    use Piece::*;
    assert_eq!(java_replacement("'"), [Text("'".into())]);
    assert_eq!(
        java_replacement("<$1>"),
        [Text("<".into()), Group(1), Text(">".into())]
    );
    assert_eq!(java_replacement("\\$x$"), [Text("$x$".into())]);
    assert_eq!(
        java_replacement("$12$99999999999999999999999"),
        [Group(12), Group(usize::MAX)]
    );
}
