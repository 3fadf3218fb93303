use super::*;
use http_body_util::BodyExt;
use serde_json::json;
use std::collections::HashMap;

fn parse(v: Value) -> Responses {
    Responses::parse(&v, &HashMap::from([("env".to_owned(), "beta".to_owned())])).unwrap()
}

async fn text(res: Response<Body>) -> String {
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[test]
fn patterns_match_the_whole_status_then_default() {
    let r = parse(json!({"responses": {
        "4\\d{2}": {"statusCode": "400"},
        "5": {"statusCode": "502"},
        "default": {"statusCode": "200"}
    }}));
    assert_eq!(r.select("404").unwrap().status, 400);
    assert_eq!(
        r.select("500").unwrap().status,
        200,
        "5 is no full match of 500"
    );
    assert_eq!(r.select("5").unwrap().status, 502);
    assert_eq!(r.select("201").unwrap().status, 200);
    let none = parse(json!({"responses": {"2\\d{2}": {"statusCode": "200"}}}));
    assert!(none.select("500").is_none());
}

#[tokio::test]
async fn parameters_templates_by_accept_and_overrides() {
    let r = parse(json!({"responses": {"default": {
        "statusCode": "200",
        "responseParameters": {
            "method.response.header.X-Static": "'s'",
            "method.response.header.X-From": "integration.response.header.X-Backend",
            "method.response.header.X-Name": "integration.response.body.pet.name",
            "method.response.header.X-Pet": "integration.response.body.pet",
            "method.response.header.X-Missing": "integration.response.body.nope",
            "method.response.header.X-Env": "stageVariables.env"
        },
        "responseTemplates": {
            "application/json": "{\"n\":\"$input.path('$.pet.name')\"}",
            "application/xml": "#set($context.responseOverride.status = 203)#set($context.responseOverride.header.X-Static = 'o')<n>$input.path('$.pet.name')</n>"
        }
    }}}));
    let mut backend_headers = HeaderMap::new();
    backend_headers.insert("x-backend", HeaderValue::from_static("b"));
    let body = r#"{"pet":{"name":"Rex"}}"#;
    let raw = bytes::Bytes::from_static(body.as_bytes());
    let backend = Backend {
        headers: &backend_headers,
        body,
        raw: &raw,
    };
    let ctx = Context {
        body,
        ..Context::default()
    };
    let chosen = r.select("200").unwrap();
    let res = chosen
        .respond(&HeaderMap::new(), &backend, || ctx.clone())
        .unwrap();
    assert_eq!(res.status(), 200);
    let h = res.headers().clone();
    assert_eq!(h["x-static"], "s");
    assert_eq!(h["x-from"], "b");
    assert_eq!(h["x-name"], "Rex");
    assert_eq!(h["x-pet"], r#"{"name":"Rex"}"#);
    assert_eq!(h["x-env"], "beta");
    assert!(h.get("x-missing").is_none());
    assert_eq!(h["content-type"], "application/json");
    assert_eq!(text(res).await, r#"{"n":"Rex"}"#);

    let mut accept = HeaderMap::new();
    accept.insert(
        ACCEPT,
        HeaderValue::from_static("text/html, application/xml;q=0.9"),
    );
    let res = chosen.respond(&accept, &backend, || ctx.clone()).unwrap();
    assert_eq!(res.status(), 203);
    assert_eq!(res.headers()["x-static"], "o");
    assert_eq!(res.headers()["content-type"], "application/xml");
    assert_eq!(text(res).await, "<n>Rex</n>");
}

/// A template's status override is held to 200-599 (a 1xx would be an
/// interim response nobody asked for); 204 and 304 go out with no body
/// and no `Content-Length`, whatever the template rendered.
#[tokio::test]
async fn status_overrides_are_final_statuses_and_bodiless_ones_carry_nothing() {
    let respond = |status: &str| {
        let r = parse(json!({"responses": {"default": {"responseTemplates": {
            "application/json": format!("#set($context.responseOverride.status = {status})rendered")
        }}}}));
        let raw = bytes::Bytes::new();
        let backend = Backend {
            headers: &HeaderMap::new(),
            body: "",
            raw: &raw,
        };
        r.select("200")
            .unwrap()
            .respond(&HeaderMap::new(), &backend, Context::default)
    };
    for status in ["100", "101", "103", "199", "600", "99"] {
        assert!(
            matches!(respond(status), Err(Answer::ApiConfigurationError)),
            "{status}"
        );
    }
    for status in [204, 304] {
        let res = respond(&status.to_string()).unwrap();
        assert_eq!(res.status(), status);
        assert!(res.headers().get(CONTENT_LENGTH).is_none(), "{status}");
        assert_eq!(text(res).await, "", "{status}");
    }
    let res = respond("200").unwrap();
    assert_eq!(res.headers()[CONTENT_LENGTH], "8");
    assert_eq!(text(res).await, "rendered");
    let err = Responses::parse(
        &json!({"responses": {"default": {"statusCode": "101"}}}),
        &HashMap::new(),
    )
    .unwrap_err();
    assert!(err.contains("200 to 599"), "{err}");
}

/// `test_apigateway_header_remapping_http[HTTP]` / `full-integration`:
/// mapped headers AWS writes itself go out renamed, `Transfer-Encoding`
/// not at all; each is a startup warning.
#[test]
fn reserved_response_parameters_are_remapped_or_dropped() {
    let integration = json!({"responses": {"default": {
        "statusCode": "200",
        "responseParameters": {
            "method.response.header.Content-Length": "'cl'",
            "method.response.header.Date": "'d'",
            "method.response.header.Transfer-Encoding": "'te'",
            "method.response.header.TE": "'t'"
        }
    }}});
    let r = parse(integration.clone());
    let raw = bytes::Bytes::from_static(b"{}");
    let backend = Backend {
        headers: &HeaderMap::new(),
        body: "{}",
        raw: &raw,
    };
    let res = r
        .select("200")
        .unwrap()
        .respond(&HeaderMap::new(), &backend, Context::default)
        .unwrap();
    let h = res.headers();
    assert_eq!(h["x-amzn-remapped-content-length"], "cl");
    assert_eq!(h["x-amzn-remapped-date"], "d");
    assert_eq!(h[CONTENT_LENGTH], "2");
    assert_eq!(h["te"], "t");
    assert!(h.get("date").is_none() && h.get("transfer-encoding").is_none());
    assert!(!h.values().any(|v| v == "te"));
    let warnings = parameter_warnings(&integration);
    assert_eq!(warnings.len(), 3, "{warnings:?}");
    assert!(warnings.contains(
        &"responses.default: responseParameters \"method.response.header.Content-Length\": goes out as x-amzn-Remapped-Content-Length, as on AWS".to_owned()
    ));
    assert!(warnings.contains(
        &"responses.default: responseParameters \"method.response.header.Transfer-Encoding\": is not sent, as on AWS".to_owned()
    ));
}

#[test]
fn bad_response_parameters_are_refused() {
    for (target, source, expected) in [
        (
            "method.response.header.X",
            "integration.response.nope",
            "unsupported source",
        ),
        (
            "integration.response.header.X",
            "'1'",
            "method.response.header",
        ),
        (
            "method.response.header.X",
            "stageVariables.unset",
            "not set",
        ),
    ] {
        let err = Responses::parse(
            &json!({"responses": {"default": {"responseParameters": {target: source}}}}),
            &HashMap::new(),
        )
        .unwrap_err();
        assert!(err.contains(expected), "{target} <- {source}: {err}");
    }
}
