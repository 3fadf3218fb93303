//! Behaviour tests of the engine, one construct per test.

use super::*;

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

fn request() -> Context<'static> {
    let mut ctx = Context {
        body: r#"{"pets":[{"id":1,"type":"dog","price":249.99},{"id":2,"type":"cat","price":124.99}],"name":"Ann \"A\" /x","n":null}"#,
        ..Context::default()
    };
    ctx.path.insert("id", "p1");
    ctx.querystring.insert("id", "q1");
    ctx.querystring.insert("page", "2");
    ctx.header.insert("id", "h1");
    ctx.header.insert("Accept", "application/json");
    ctx.stage_variables.insert("env", "beta");
    ctx.vars.insert("requestId", "r-1");
    ctx.vars.insert("identity.sourceIp", "192.0.2.1");
    ctx
}

#[test]
fn input_json_and_path() {
    let ctx = request();
    assert_eq!(
        render_with("$input.json('$.pets[0]')", &ctx),
        r#"{"id":1,"type":"dog","price":249.99}"#
    );
    assert_eq!(
        render_with("$input.json('$.pets[*].type')", &ctx),
        r#"["dog","cat"]"#
    );
    assert_eq!(
        render_with("$input.json('$.name')", &ctx),
        r#""Ann \"A\" /x""#
    );
    assert_eq!(
        render_with("$input.json('$.none') $input.json('$.n')", &ctx),
        "null null"
    );
    assert_eq!(
        render_with(
            "$input.path('$.pets').size() $input.path('$.pets[1].price')",
            &ctx
        ),
        "2 124.99"
    );
    assert_eq!(
        render_with("$input.path('$.pets[0]')", &ctx),
        "{id=1, type=dog, price=249.99}"
    );
    assert_eq!(
        render_with("$input.path('$.pets')", &ctx),
        ctx.body[8..ctx.body.find("],").unwrap() + 1].to_owned()
    );
    assert_eq!(
        render_with("#set($p = '$..id')$input.json($p)", &ctx),
        "[1,2]"
    );
    let empty = Context::default();
    assert_eq!(
        render_with("$input.json('$') [$input.body]", &empty),
        "{} []"
    );
}

#[test]
fn input_params() {
    let ctx = request();
    assert_eq!(render_with("$input.params('id') $input.params('page') $input.params('Accept') [$input.params('none')]", &ctx), "p1 2 application/json []");
    assert_eq!(render_with("$input.params().keySet() $input.params().querystring $input.params().header.get('Accept')", &ctx), "[path, querystring, header] {id=q1, page=2} application/json");
    assert_eq!(
        render_with("#if($input.params('none') == '')empty#end", &ctx),
        "empty"
    );
}

#[test]
fn util_functions() {
    let ctx = request();
    let src = r#"$util.urlEncode("a b&c=d/é*~") $util.urlDecode("a+b%26c") $util.base64Encode("hi?") $util.base64Decode("aGk/") $util.escapeJavaScript($input.path('$.name'))"#;
    assert_eq!(
        render_with(src, &ctx),
        r#"a+b%26c%3Dd%2F%C3%A9*%7E a b&c aGk/ hi? Ann \"A\" \/x"#
    );
    let parse =
        r#"#set($o = $util.parseJson('{"key2":{"arr":[1,2,3]}}'))$o.key2.arr[0] $o.key2.arr"#;
    assert_eq!(render_with(parse, &ctx), "1 [1,2,3]");
    assert_eq!(
        render_err("$util.base64Decode('!!')", &ctx).kind(),
        ErrorKind::Render
    );
    assert_eq!(
        render_err("$util.urlDecode('%G0')", &ctx).kind(),
        ErrorKind::Render
    );
    assert_eq!(
        render_err("$util.parseJson('{')", &ctx).kind(),
        ErrorKind::Render
    );
    assert_eq!(render_with("[$util.escapeJavaScript($none)]", &ctx), "[]");
}

#[test]
fn context_and_stage_variables() {
    let ctx = request();
    let src = "$context.requestId $context.identity.sourceIp [$context.stage] $stageVariables.env $stageVariables['env'] ${stageVariables['env']}";
    assert_eq!(render_with(src, &ctx), "r-1 192.0.2.1 [] beta beta beta");
}

#[test]
fn overrides_can_be_set_and_read_back() {
    let src = "#set($context.requestOverride.querystring.q = 'v')#set($context.requestOverride.path.p = 1)#set($context.responseOverride.header.H = 'h')#set($context.responseOverride.status = 418)$context.responseOverride.status $context.requestOverride.querystring.q";
    let out = Template::parse(src)
        .unwrap()
        .render(&Context::default())
        .unwrap();
    assert_eq!(out.body, "418 v");
    assert_eq!(
        out.overrides.request_querystring,
        [("q".to_owned(), "v".to_owned())]
    );
    assert_eq!(
        out.overrides.request_path,
        [("p".to_owned(), "1".to_owned())]
    );
    assert_eq!(
        out.overrides.response_header,
        [("H".to_owned(), "h".to_owned())]
    );
}

#[test]
fn invalid_body_is_its_own_error() {
    let ctx = Context {
        body: "{oops",
        ..Context::default()
    };
    let err = render_err("ok\n  $input.path('$.a')", &ctx);
    assert_eq!(err.kind(), ErrorKind::InvalidBody);
    assert_eq!((err.line(), err.column()), (2, 3));
    // A template that never reads the payload as JSON does not care.
    assert_eq!(render_with("$input.body", &ctx), "{oops");
}

#[test]
fn unsupported_constructs_fail_at_parse_time_with_their_position() {
    let cases: &[(&str, ErrorKind, (u32, u32), &str)] = &[
        ("#macro(m)#end", ErrorKind::Unsupported, (1, 1), "#macro"),
        ("x\n #parse('a')", ErrorKind::Unsupported, (2, 2), "#parse"),
        ("#include('a')", ErrorKind::Unsupported, (1, 1), "#include"),
        (
            "#evaluate('a')",
            ErrorKind::Unsupported,
            (1, 1),
            "#evaluate",
        ),
        (
            "#define($a)x#end",
            ErrorKind::Unsupported,
            (1, 1),
            "#define",
        ),
        ("#mymacro()", ErrorKind::Unsupported, (1, 1), "#mymacro"),
        (
            "$util.toJson($a)",
            ErrorKind::Unsupported,
            (1, 7),
            "$util.toJson",
        ),
        ("$input.foo", ErrorKind::Unsupported, (1, 1), "$input.foo"),
        ("$input", ErrorKind::Unsupported, (1, 1), "$input"),
        ("$x.put('a', 1)", ErrorKind::Unsupported, (1, 4), "put"),
        (
            "$context.requestID",
            ErrorKind::Unsupported,
            (1, 1),
            "requestID",
        ),
        (
            "$context.identity.nope",
            ErrorKind::Unsupported,
            (1, 1),
            "identity.nope",
        ),
        ("$context", ErrorKind::Unsupported, (1, 1), "$context"),
        (
            "$input.json('$.a[?(@.b)]')",
            ErrorKind::Unsupported,
            (1, 1),
            "not supported",
        ),
        (
            "$input.path('pets')",
            ErrorKind::Unsupported,
            (1, 1),
            "must start with",
        ),
        ("\\$a", ErrorKind::Unsupported, (1, 1), "escaped"),
        ("#set($a.b = 1)", ErrorKind::Unsupported, (1, 6), "#set"),
        (
            "#set($context.stage = 1)",
            ErrorKind::Unsupported,
            (1, 6),
            "#set",
        ),
        ("#break", ErrorKind::Unsupported, (1, 1), "#break"),
        ("$foreach.index", ErrorKind::Unsupported, (1, 1), "outside"),
        (
            "#foreach($i in [1])$foreach.parent#end",
            ErrorKind::Unsupported,
            (1, 20),
            "parent",
        ),
        ("a\n#end", ErrorKind::Syntax, (2, 1), "#end"),
        ("#if(true)", ErrorKind::Syntax, (1, 1), "#end"),
        ("#foreach($i in [1])", ErrorKind::Syntax, (1, 1), "#end"),
        ("#set($a 1)", ErrorKind::Syntax, (1, 1), "="),
        ("#if(1 +)#end", ErrorKind::Syntax, (1, 8), "`)`"),
        ("${a", ErrorKind::Syntax, (1, 1), "}"),
        ("#* open", ErrorKind::Syntax, (1, 1), "comment"),
        ("#set($a = \"open)", ErrorKind::Syntax, (1, 11), "string"),
        (
            "$a.substring(1, 2, 3)",
            ErrorKind::Syntax,
            (1, 4),
            "argument",
        ),
        ("é$a.size(", ErrorKind::Syntax, (1, 10), "expected"),
    ];
    for (src, kind, pos, needle) in cases {
        let err = parse_err(src);
        assert_eq!(err.kind(), *kind, "{src:?}: {err}");
        assert_eq!((err.line(), err.column()), *pos, "{src:?}: {err}");
        assert!(err.message().contains(needle), "{src:?}: {err}");
    }
}

#[test]
fn a_template_renders_many_times_and_is_shareable() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Template>();
    let t = Template::parse("#set($n = $input.params('n'))$n").unwrap();
    for n in ["1", "2", "3"] {
        let mut ctx = Context::default();
        ctx.querystring.insert("n", n);
        assert_eq!(t.render(&ctx).unwrap().body, n);
    }
}

#[test]
fn hostile_nesting_is_refused_at_parse_time() {
    for src in [
        "#if(true)".repeat(150) + &"#end".repeat(150),
        format!("#set($a = {}1{})", "(".repeat(150), ")".repeat(150)),
        format!("#set($a = {}1)", "!".repeat(150)),
        format!("#set($a = 1{})", " + 1".repeat(150)),
        format!("#set($a = {}{})", "[".repeat(150), "]".repeat(150)),
        format!("$a{}", "[$a".repeat(150) + &"]".repeat(150)),
    ] {
        let err = parse_err(&src);
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    }
    // Nesting within the limit parses and renders.
    let ok = "#if(true)".repeat(50) + "x" + &"#end".repeat(50);
    assert_eq!(render(&ok), "x");
}

#[test]
fn runaway_renders_stop_with_an_error() {
    let ctx = Context::default();
    // Nested loops multiply: the total is bounded, not only each loop.
    let err = render_err(
        "#foreach($a in [1..1000])#foreach($b in [1..1000])#end#end",
        &ctx,
    );
    assert!(err.message().contains("iterations in one render"), "{err}");
    // Doubling a string until it outgrows the payload limit.
    let err = render_err(
        "#set($s = 'xxxxxxxxxxxxxxxx')#foreach($i in [1..40])#set($s = \"$s$s\")#end",
        &ctx,
    );
    assert!(err.message().contains("10 MiB"), "{err}");
    assert_eq!((err.line(), err.column()), (1, 66));
    // Wrapping a list in a list in a loop.
    let err = render_err(
        "#set($l = [])#foreach($i in [1..300])#set($l = [$l])#end",
        &ctx,
    );
    assert!(err.message().contains("nested"), "{err}");
    // The output itself is bounded.
    let body = "y".repeat(1 << 20);
    let ctx = Context {
        body: &body,
        ..Context::default()
    };
    let err = render_err("#foreach($i in [1..11])$input.body#end", &ctx);
    assert!(err.message().contains("10 MiB"), "{err}");
}

#[test]
fn directives_cut_short_are_syntax_errors() {
    // Found by tests/template_fuzz.rs: these read past the end.
    for src in ["#foreach(", "#set(", "#foreach( ", "#set(x"] {
        assert_eq!(parse_err(src).kind(), ErrorKind::Syntax, "{src:?}");
    }
}
