//! The bounds on what a client's body can make a render cost (the module
//! docs' "Limits"): each fails the render with a message saying which.

use super::*;

fn with_body(body: &str) -> Context<'_> {
    Context {
        body,
        ..Context::default()
    }
}

fn render_err_msg(src: &str, body: &str) -> String {
    let err = render_err(src, &with_body(body));
    assert_eq!(err.kind(), ErrorKind::Render, "{src}: {err}");
    err.message().to_owned()
}

#[test]
fn text_is_refused_while_it_is_built() {
    const BUILT: &str = "a value's text exceeds 10 MiB";
    // 200,000 bytes of body, each made 60: 12 MB, refused by the method
    // that builds it, not by the output once it is whole.
    let body = "a".repeat(200_000);
    let sixty = "b".repeat(60);
    for src in [
        format!("$input.body.replace('a', '{sixty}')"),
        format!("$input.body.replaceAll('a', '$0{sixty}')"),
        format!("#set($x = $input.body.replaceAll('(a)', '$1{sixty}'))"),
    ] {
        assert_eq!(render_err_msg(&src, &body), BUILT, "{src}");
    }
    // Each control character becomes six bytes.
    let controls = "\u{1}".repeat(2 << 20);
    assert_eq!(
        render_err_msg("$util.escapeJavaScript($input.body)", &controls),
        BUILT
    );
    // A sum, and a comparison between types (their toString()).
    let big = "c".repeat(6 << 20);
    assert_eq!(
        render_err_msg("#set($x = $input.body + $input.body)", &big),
        BUILT
    );
    let doc = format!("[\"{}\"]", "d".repeat(4 << 20));
    let src = "#set($l = [$input.path('$'), $input.path('$'), $input.path('$')])#if($l == 'x')#end";
    assert_eq!(render_err_msg(src, &doc), BUILT);
    // Under the limit, the same methods answer as before.
    assert_eq!(
        render_with("$input.body.replace('a', 'bb')", &with_body("xay")),
        "xbby"
    );
}

#[test]
fn a_deep_scan_of_a_deep_scan_is_bounded() {
    // 60 levels of `{"a": [{"b": 0} x 5,000, <the next level>]}`: `$..b`
    // yields 300,000 values, `$..a..b` each level's `b`s once per `a`
    // above them (about 9 million).
    let bs = vec![r#"{"b":0}"#; 5_000].join(",");
    let mut doc = String::new();
    for _ in 0..60 {
        doc.push_str(&format!(r#"{{"a":[{bs},"#));
    }
    doc.push('0');
    doc.push_str(&"]}".repeat(60));
    let ctx = with_body(&doc);
    assert_eq!(render_with("$input.path('$..b').size()", &ctx), "300000");
    let err = render_err("$input.path('$..a..b').size()", &ctx);
    assert!(
        err.message().starts_with("JSONPath yields more than"),
        "{err}"
    );
}

#[test]
fn split_keeps_javas_parts() {
    // Its bound is checked in `methods`' tests, on parts rather than text.
    for (body, parts) in [
        ("a,,b,,", "[a, , b]"),
        (",a", "[, a]"),
        (",,,", "[]"),
        // An empty payload is `{}` (see `input_json_and_path`).
        ("", "[{}]"),
        ("ab", "[ab]"),
    ] {
        assert_eq!(
            render_with("$input.body.split(',')", &with_body(body)),
            parts,
            "{body:?}"
        );
    }
}

#[test]
fn a_render_does_bounded_work() {
    // Each iteration copies the string built so far: quadratic, refused
    // once the render has done MAX_WORK.
    let body = "e".repeat(1_000);
    let src = "#set($s = '')#foreach($a in [1..100])#foreach($b in [1..1000])#set($s = \"$s$input.body\")#end#end";
    let msg = render_err_msg(src, &body);
    assert!(msg.starts_with("the template does more than"), "{msg}");
}

#[test]
fn lookups_in_large_maps_find_what_a_search_finds() {
    // Past 16 keys a map is looked up through its index: the answers are
    // those of a search, escaped keys and repeated ones included.
    let mut doc = String::from("{");
    for i in 0..1_000 {
        doc.push_str(&format!("\"k{i}\":{i},"));
    }
    doc.push_str(r#""k7":"again","esc\u0061ped":"e","":"empty"}"#);
    let ctx = with_body(&doc);
    let src = "#set($m = $input.path('$'))$m.size() $m.k7 $m.get('k999') $m['escaped'] $m.get('') $m.containsKey('k1000') $m.containsKey('k0') $input.path('$.k500') $input.json('$.escaped') [$m.get('nope')]";
    assert_eq!(
        render_with(src, &ctx),
        "1002 again 999 e empty false true 500 \"e\" []"
    );
    // The parameters' map keeps the first of a repeated name.
    let mut ctx = Context::default();
    for i in 0..100 {
        ctx.querystring.insert(format!("q{i}"), format!("v{i}"));
    }
    ctx.querystring.insert("q3", "later");
    assert_eq!(
        render_with(
            "$input.params().querystring.q3 $input.params().querystring.size()",
            &ctx
        ),
        "v3 100"
    );
}
