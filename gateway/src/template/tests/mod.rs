//! Behaviour tests of the engine, one construct per test.

use super::*;

mod limits;
mod request;

fn render(src: &str) -> String {
    render_with(src, &Context::default())
}

fn render_with(src: &str, ctx: &Context<'_>) -> String {
    Template::parse(src)
        .unwrap_or_else(|e| panic!("{src:?}: {e}"))
        .render(ctx)
        .unwrap_or_else(|e| panic!("{src:?}: {e}"))
        .body
}

fn parse_err(src: &str) -> TemplateError {
    match Template::parse(src) {
        Ok(t) => panic!("{src:?} parsed: {t:?}"),
        Err(e) => e,
    }
}

fn render_err(src: &str, ctx: &Context<'_>) -> TemplateError {
    match Template::parse(src).unwrap().render(ctx) {
        Ok(r) => panic!("{src:?} rendered {:?}", r.body),
        Err(e) => e,
    }
}

#[test]
fn references_in_every_form() {
    let src = "#set($a = 'x')[$a][${a}][$!a][$!{a}][$nothing][$!nothing][${a}b]";
    assert_eq!(render(src), "[x][x][x][x][][][xb]");
}

#[test]
fn plain_dollars_and_hashes_are_text() {
    assert_eq!(render("$ 5$ #1 # #{ x $.a #foo"), "$ 5$ #1 # #{ x $.a #foo");
    assert_eq!(render("a\\b \\\"q\\\""), "a\\b \\\"q\\\"");
}

#[test]
fn identifiers_may_hold_hyphens() {
    let mut ctx = Context::default();
    ctx.claims.insert("custom-sub", "s1");
    assert_eq!(
        render_with("$context.authorizer.claims.custom-sub", &ctx),
        "s1"
    );
}

#[test]
fn claims_by_dot_and_bracket() {
    let mut ctx = Context::default();
    ctx.claims.insert("sub", "abc");
    ctx.claims.insert("custom:role", "admin");
    ctx.claims.insert("a.b", "dotted");
    let src = r#"$context.authorizer.claims.sub $context.authorizer.claims['custom:role'] $context.authorizer.claims["a.b"] [$context.authorizer.claims] [$context.authorizer.claims.none]"#;
    assert_eq!(render_with(src, &ctx), "abc admin dotted [] []");
}

#[test]
fn literals() {
    let src =
        r#"#set($m = {"k": [1, 2.5, true, 'x', "y$z"], "n": {}})$m $m.k $m.get('k').get(1) [$m.n]"#;
    assert_eq!(
        render(src),
        "{k=[1, 2.5, true, x, y], n={}} [1, 2.5, true, x, y] 2.5 [{}]"
    );
    // Blanks between a reference and #set are eaten (Velocity 1.7).
    assert_eq!(render("#set($r = [3..1])$r #set($e = [])$e"), "[3, 2, 1][]");
    assert_eq!(render("#set($f = 1e3)$f,#set($g = -0.5)$g"), "1000.0,-0.5");
}

#[test]
fn interpolated_strings() {
    let src = r#"#set($n = "w")#set($s = "hello $n, ${n}s #if(true)yes#end")$s"#;
    assert_eq!(render(src), "hello w, ws yes");
    assert_eq!(render(r#"#set($s = 'no $n')$s"#), "no $n");
    assert_eq!(
        render(r#"#set($s = "{""a"": 2}")$s #set($t = 'it''s')$t"#),
        r#"{"a": 2}it's"#
    );
}

#[test]
fn arithmetic() {
    let src = "#set($a = 7)#set($b = 2)${a}+${b}: #set($x = $a + $b)$x,#set($x = $a - $b)$x,#set($x = $a * $b)$x,#set($x = $a / $b)$x,#set($x = $a % $b)$x,#set($x = $a / 2.0)$x";
    assert_eq!(render(src), "7+2: 9,5,14,3,1,3.5");
    assert_eq!(render("#set($x = 'a' + 1)$x,#set($y = 1 / 0)[$y]"), "a1,[]");
    assert_eq!(render("#set($x = (1 + 2) * 3)$x"), "9");
}

#[test]
fn comparisons_and_logic() {
    let src = "#if(1 < 2 && 2 <= 2 && 3 > 2 && 3 >= 3 && 1 == 1.0 && 'a' != 'b')ok#end";
    assert_eq!(render(src), "ok");
    let words = "#if(1 lt 2 and not (1 gt 2) or false)ok#end";
    assert_eq!(render(words), "ok");
    assert_eq!(render("#if(!true || !$none)y#else n#end"), " n");
    assert_eq!(render("#if(1 == '1')same#end"), "same");
}

#[test]
fn if_truth_is_velocity_17() {
    assert_eq!(render("#if('')t#else f#end"), "t");
    // A null reference is the empty string, so true (AWS's recorded output).
    assert_eq!(render("#if($none)t#else f#end"), "t");
    assert_eq!(render("#if(false)t#else f#end"), " f");
    assert_eq!(render("#if(false)a#elseif(0)b#else c#end"), "b");
}

#[test]
fn set_to_null_keeps_the_old_value() {
    assert_eq!(render("#set($a = 1)#set($a = 1 / 0)$a"), "1");
    // A reference is never null: a missing one assigns "".
    assert_eq!(render("#set($a = 1)#set($a = $none)[$a]"), "[]");
}

#[test]
fn foreach_variables() {
    let src = "#foreach($x in ['a', 'b', 'c'])$velocityCount:$foreach.index:$foreach.count:$x#if($foreach.first)F#end#if($foreach.last)L#end#if($foreach.hasNext),#end#if($velocityHasNext);#end#end";
    assert_eq!(render(src), "1:0:1:aF,;2:1:2:b,;3:2:3:cL");
}

#[test]
fn foreach_restores_its_variable_and_walks_map_values() {
    let src = "#set($x = 'outer')#foreach($x in {'k': 1, 'j': 2})$x#end $x";
    assert_eq!(render(src), "12 outer");
    assert_eq!(render("#foreach($x in $none)never#end."), ".");
}

#[test]
fn nested_loops_see_their_own_foreach() {
    let src =
        "#foreach($a in [1, 2])#foreach($b in [1, 2, 3])$foreach.count#end/$foreach.count #end";
    assert_eq!(render(src), "123/1 123/2 ");
}

#[test]
fn break_and_stop() {
    assert_eq!(
        render("#foreach($i in [1..5])#if($i == 3)#break#end$i#end."),
        "12."
    );
    assert_eq!(
        render("a#foreach($i in [1..5])$i#if($i == 2)#stop#end#end never"),
        "a12"
    );
    assert_eq!(render("x#stop y"), "x");
}

#[test]
fn foreach_stops_at_aws_limit() {
    let ok = render("#foreach($i in [1..1000])#end done");
    assert_eq!(ok, " done");
    let err = render_err("\n #foreach($i in [1..1001])#end", &Context::default());
    assert_eq!(err.kind(), ErrorKind::Render);
    assert_eq!((err.line(), err.column()), (2, 2));
    assert!(err.message().contains("1000"), "{err}");
}

#[test]
fn comments() {
    assert_eq!(render("a## gone\nb#* also\ngone *#c#** doc *#d"), "abcd");
    assert_eq!(render("#[[ $raw #if ]]#"), " $raw #if ");
}

#[test]
fn whitespace_follows_velocity_17() {
    // `)` and #end eat their newline; #set eats its indentation after a
    // directive's newline, not after text.
    let src = "{\n  #set($a = 1)\n  \"x\": $a,\n#if(true)\n  y\n#end\n  #set($b = 2)\n  $b\n}";
    assert_eq!(render(src), "{\n    \"x\": 1,\n  y\n  2\n}");
    assert_eq!(
        render("#set($a = 1)   \r\nx#if(true)  \r\ny#end \t\nz"),
        "xyz"
    );
    assert_eq!(render("#if(true) a#end b"), " a b");
}

#[test]
fn string_methods() {
    let src = r#"#set($s = " Hello/World ")$s.trim().toLowerCase()|$s.length()|$s.indexOf('o')|$s.lastIndexOf('o')|$s.substring(1, 6)|$s.replace('o', '0')|$s.contains('World')|$s.startsWith(' H')|$s.trim().endsWith('d')|$s.isEmpty()"#;
    assert_eq!(
        render(src),
        "hello/world|13|5|8|Hello| Hell0/W0rld |true|true|true|false"
    );
    let re = r#"#set($s = "a1b22c")$s.replaceAll("[0-9]+", "<$0>")|$s.matches("[a-c0-9]+")|$s.split("[0-9]+")|$s.toUpperCase()|$s.equals("a1b22c")|$s.equalsIgnoreCase("A1B22C")"#;
    assert_eq!(render(re), "a<1>b<22>c|true|[a, b, c]|A1B22C|true|true");
}

#[test]
fn aws_replace_all_example_restores_quotes() {
    let mut ctx = Context::default();
    ctx.querystring.insert("q", "it's");
    let src = r#"$util.escapeJavaScript($input.params('q')).replaceAll("\\'","'")"#;
    assert_eq!(render_with(src, &ctx), "it's");
    assert_eq!(
        render_with("$util.escapeJavaScript($input.params('q'))", &ctx),
        "it\\'s"
    );
}

#[test]
fn map_and_list_methods() {
    let src = "#set($m = {'a': 1, 'b': 2})$m.size() $m.keySet() $m.values() $m.containsKey('a') $m.get('z') $m.isEmpty() $m.a";
    assert_eq!(render(src), "2 [a, b] [1, 2] true  false 1");
    let list = "#set($l = [1, 'x'])$l.size() $l.get(1) $l.contains('x') $l[0] $l[5] $l.isEmpty()";
    assert_eq!(render(list), "2 x true 1  false");
    assert_eq!(
        render_err("#set($l = [1])$l.get(3)", &Context::default()).kind(),
        ErrorKind::Render
    );
}
