//! The request side of the engine: `$input`, `$util`, `$context` and its
//! overrides, stage variables, and the errors they raise.

use super::*;

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
    // An empty payload is `{}`, as `$input.body` too (AWS, recorded by
    // LocalStack's test_input_body_formatting: response-raw-body).
    let empty = Context::default();
    assert_eq!(
        render_with("$input.json('$') [$input.body]", &empty),
        "{} [{}]"
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

/// LocalStack's recorded test_integration_mock_with_vtl_map_assignation:
/// a computed name, `put()`, and `$context["requestOverride"]`.
#[test]
fn override_maps_take_computed_names_and_put() {
    let src = concat!(
        "#set($paramName = \"foo\")",
        "#set($context.requestOverride.querystring[$paramName] = \"bar\")",
        "#set($paramPutName = \"putfoo\")",
        "[$context.requestOverride.querystring.put($paramPutName, \"putBar\")]",
        "#set($context[\"requestOverride\"].querystring[\"nestedfoo\"] = \"nestedFoo\")",
        "[$context.requestOverride.querystring.put('foo', 'again')]",
        "$context.requestOverride.querystring.size() ",
        "$context.requestOverride.querystring[\"putfoo\"] ",
        "$context.requestOverride.querystring.nestedfoo ",
        "$context.requestOverride.header.put('X-A', 1)",
        "$context.responseOverride.header.put('h', 'v')",
        "#set($context.requestOverride.path[1 / 0] = 'x')",
        "$context.requestOverride.path.put('p', 1 / 0)",
        "$context.requestOverride.path.size()",
    );
    let out = Template::parse(src)
        .unwrap()
        .render(&Context::default())
        .unwrap();
    // `put()` answers the value it replaced, as Java's `Map.put` does.
    assert_eq!(out.body, "[][bar]3 putBar nestedFoo 0");
    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    assert_eq!(
        out.overrides.request_querystring,
        pairs(&[
            ("foo", "again"),
            ("putfoo", "putBar"),
            ("nestedfoo", "nestedFoo")
        ])
    );
    assert_eq!(out.overrides.request_header, pairs(&[("X-A", "1")]));
    assert_eq!(out.overrides.response_header, pairs(&[("h", "v")]));
    // A null (not a reference, which is never null) sets nothing.
    assert!(out.overrides.request_path.is_empty());
}

/// A render starts from the overrides an earlier template of the request
/// set (a mock's request template, read by its response template:
/// LocalStack's recorded
/// test_integration_mock_with_response_override_in_request_template), and
/// `$context.responseOverride.NAME` holds any name.
#[test]
fn a_render_reads_the_overrides_it_was_given() {
    let request = Template::parse(concat!(
        "#set($context.responseOverride.status = 444)",
        "#set($context.responseOverride.header.foo = \"bar\")",
        "#set($context.responseOverride.custom = \"is also passed around\")",
        "#set($context.requestOverride.path.body = '{\"message\": \"path1\"}')",
    ))
    .unwrap()
    .render(&Context::default())
    .unwrap();
    assert_eq!(
        request.overrides.response_other,
        [("custom".to_owned(), "is also passed around".to_owned())]
    );
    let ctx = Context {
        overrides: request.overrides.clone(),
        ..Context::default()
    };
    let response = concat!(
        "$context.responseOverride.status $context.responseOverride.header.foo ",
        "$context.responseOverride.custom ",
        "$util.parseJson($context.requestOverride.path.body).message",
        "#set($context.responseOverride.status = 201)",
    );
    let out = Template::parse(response).unwrap().render(&ctx).unwrap();
    assert_eq!(out.body, "444 bar is also passed around path1");
    // Its own setting wins; what it did not touch stays.
    assert_eq!(out.overrides.response_status.as_deref(), Some("201"));
    assert_eq!(
        out.overrides.response_header,
        request.overrides.response_header
    );
}

/// An override map holds at most 1,000 names: a loop setting computed
/// names fails the render instead of growing it (and its scans) unbounded.
#[test]
fn override_maps_are_bounded() {
    let fill = |extra: &str| {
        format!(
            "#foreach($i in [1..1000])#set($context.requestOverride.header[\"h$i\"] = $i)#end{extra}$context.requestOverride.header.size()"
        )
    };
    assert_eq!(render(&fill("")), "1000");
    let err = render_err(
        &fill("$context.requestOverride.header.put('one', 'more')"),
        &Context::default(),
    );
    assert_eq!(err.kind(), ErrorKind::Render);
    assert!(err.message().contains("1000 names"), "{err}");
    // Setting a name again does not count twice.
    let again = "#foreach($i in [1..1000])#set($old = $context.requestOverride.querystring.put('q', $i))#end$old $context.requestOverride.querystring.q";
    assert_eq!(render(again), "999 1000");
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
        // `put()` changes a map: only `$context`'s override maps take it.
        ("$x.put('a', 1)", ErrorKind::Unsupported, (1, 1), "put"),
        (
            "$context.requestOverride.header.a.put('a', 1)",
            ErrorKind::Unsupported,
            (1, 1),
            "put",
        ),
        (
            "#set($m = {})$m.put('a', 1)",
            ErrorKind::Unsupported,
            (1, 14),
            "put",
        ),
        (
            "#set($context.requestOverride.header[1][2] = 1)",
            ErrorKind::Unsupported,
            (1, 6),
            "#set",
        ),
        (
            "$context.requestOverride.other.x",
            ErrorKind::Unsupported,
            (1, 1),
            "requestOverride",
        ),
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
