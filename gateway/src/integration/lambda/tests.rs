use super::response::respond;
use super::*;
use serde_json::json;

async fn body(res: Response<Body>) -> Vec<u8> {
    res.into_body().collect().await.unwrap().to_bytes().to_vec()
}

fn answer(v: Value, accept_binary: bool) -> Result<Response<Body>, Answer> {
    respond(&serde_json::to_vec(&v).unwrap(), accept_binary)
}

#[test]
fn uris_name_the_function() {
    let uri = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:pets/invocations";
    let f = function_of(uri).unwrap();
    assert_eq!(
        split_function(f),
        Some(("pets", None, Some("123456789012")))
    );
    let aliased = "arn:aws:lambda:eu-west-1:123456789012:function:pets:live";
    assert_eq!(
        split_function(aliased),
        Some(("pets", Some("live"), Some("123456789012")))
    );
    assert_eq!(split_function("pets"), Some(("pets", None, None)));
    assert_eq!(
        split_function("pets:$LATEST"),
        Some(("pets", Some("$LATEST"), None))
    );
    for bad in [
        "",
        "pe/ts",
        "pets?x=1",
        "pets%2f",
        "arn:aws:s3:::bucket",
        "arn:aws:lambda:us-east-1:12:function:pets",
        "pets:a:b",
    ] {
        assert_eq!(split_function(bad), None, "{bad}");
    }
    for bad in [
        "https://example.com/fn",
        "arn:aws:apigateway:us-east-1:s3:path/bucket",
        "arn:aws:apigateway::lambda:path/2015-03-31/functions/pets/invocations",
        "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions//invocations",
        "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/pets",
    ] {
        assert!(function_of(bad).is_err(), "{bad}");
    }
}

#[test]
fn parse_resolves_stage_variables_and_refuses_bad_uris() {
    let vars = HashMap::from([("fn".to_owned(), "pets-dev".to_owned())]);
    let binary = BinaryMediaTypes::default();
    let cx = LambdaContext {
        endpoint: "http://127.0.0.1:9000/",
        stage_variables: &vars,
        binary: &binary,
        api_id: "local",
    };
    let integration = json!({
        "type": "aws_proxy",
        "httpMethod": "POST",
        "uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:${stageVariables.fn}/invocations",
    });
    let lambda = Lambda::parse(&integration, &cx).unwrap();
    assert_eq!(
        lambda.invoke.to_string(),
        "http://127.0.0.1:9000/2015-03-31/functions/pets-dev/invocations"
    );
    assert_eq!(lambda.account_id, "123456789012");
    assert_eq!(lambda.stage_variables, json!({"fn": "pets-dev"}));

    let unset = json!({"uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${stageVariables.nope}/invocations"});
    assert!(Lambda::parse(&unset, &cx).unwrap_err().contains("nope"));
    let injected = json!({"uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/a/../b/invocations"});
    assert!(Lambda::parse(&injected, &cx).is_err());
    let slow = json!({"uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/a/invocations", "timeoutInMillis": 30000});
    assert!(Lambda::parse(&slow, &cx)
        .unwrap_err()
        .contains("timeoutInMillis"));
    let bad_endpoint = LambdaContext {
        endpoint: "ftp://x",
        ..cx
    };
    assert!(Lambda::parse(&integration, &bad_endpoint).is_err());
}

#[tokio::test]
async fn responses_map_status_headers_and_bodies() {
    let res = answer(
        json!({
            "statusCode": 201,
            "headers": {"x-one": "1", "x-both": "single", "server": "fn", "flag": true},
            "multiValueHeaders": {"x-both": ["a", "b"], "set-cookie": ["a=1", "b=2"]},
            "body": "{\"ok\":true}",
            "isBase64Encoded": false,
        }),
        false,
    )
    .unwrap();
    assert_eq!(res.status(), 201);
    let h = res.headers();
    assert_eq!(h["x-one"], "1");
    assert_eq!(h["flag"], "true");
    // Both maps name it: the multiValueHeaders values, then the headers one.
    let both: Vec<_> = h.get_all("x-both").iter().collect();
    assert_eq!(both, ["a", "b", "single"]);
    assert_eq!(h.get_all("set-cookie").iter().count(), 2);
    assert_eq!(h["x-amzn-remapped-server"], "fn");
    assert!(h.get("server").is_none());
    assert_eq!(h["content-type"], "application/json");
    assert_eq!(h["content-length"], "11");
    assert_eq!(body(res).await, b"{\"ok\":true}");

    // A string status code, no body; the function's framing is not used.
    let res = answer(
        json!({"statusCode": "204", "headers": {"content-length": "99", "content-type": "text/plain"}}),
        false,
    )
    .unwrap();
    assert_eq!(res.status(), 204);
    // No content, so no length (RFC 9110 §8.6).
    assert!(res.headers().get("content-length").is_none());
    assert_eq!(res.headers()["x-amzn-remapped-content-length"], "99");
    assert_eq!(res.headers()["content-type"], "text/plain");
}

#[tokio::test]
async fn base64_bodies_decode_only_for_binary_accept() {
    let v = json!({"statusCode": 200, "body": "AAEC/w==", "isBase64Encoded": true,
                   "headers": {"content-type": "application/octet-stream"}});
    let res = answer(v.clone(), true).unwrap();
    assert_eq!(body(res).await, [0u8, 1, 2, 255]);
    let res = answer(v, false).unwrap();
    assert_eq!(body(res).await, b"AAEC/w==");
}

/// LocalStack `test_aws_proxy_binary_response`, snapshot `19-test3`: AWS
/// answers base64 that does not decode with 500, not a malformed answer's
/// 502. Without a binary `Accept` nothing is decoded: the text goes out.
#[tokio::test]
async fn base64_that_does_not_decode_is_a_500() {
    let text = "\u{e8}\u{e9}+\u{e0})(";
    let undecodable = json!({"statusCode": 200, "body": text, "isBase64Encoded": true});
    assert_eq!(
        answer(undecodable.clone(), true).unwrap_err(),
        Answer::ApiConfigurationError
    );
    let res = answer(undecodable, false).unwrap();
    assert_eq!(body(res).await, text.as_bytes());
}

/// LocalStack `test_lambda_aws_proxy_response_format` (`empty-response`,
/// `no-body`, `only-headers`) and
/// `test_aws_proxy_response_payload_format_validation`: no field is
/// required, no `statusCode` is 200.
#[tokio::test]
async fn a_missing_status_code_is_200() {
    for v in [
        json!({}),
        json!({"statusCode": null}),
        json!({"headers": {"test-header": "value"}}),
        json!({"body": ""}),
    ] {
        let res = answer(v.clone(), false).unwrap();
        assert_eq!(res.status(), 200, "{v}");
        assert_eq!(res.headers()["content-type"], "application/json", "{v}");
        assert_eq!(res.headers()["content-length"], "0", "{v}");
        assert_eq!(body(res).await, b"", "{v}");
    }
    let res = answer(json!({"body": "text"}), false).unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(body(res).await, b"text");
}

/// `test_aws_proxy_response_payload_format_validation`, snapshots
/// `invoke-api-multi-headers-overwrite` and `...-overwrite-casing`: AWS
/// answers `value-multi, value-solo`, whatever the names' case.
#[test]
fn headers_and_multi_value_headers_merge() {
    for (multi, single) in [("test-multi", "test-multi"), ("tesT-Multi", "test-multi")] {
        let res = answer(
            json!({"statusCode": 200,
                   "multiValueHeaders": {multi: ["value-multi"]},
                   "headers": {single: "value-solo"}}),
            false,
        )
        .unwrap();
        let values: Vec<_> = res.headers().get_all("test-multi").iter().collect();
        assert_eq!(values, ["value-multi", "value-solo"], "{multi} / {single}");
    }
}

#[test]
fn malformed_responses_are_refused() {
    for bad in [
        json!("just a string"),
        json!([1, 2]),
        json!(null),
        json!({"statusCode": 200, "extra": 1}),
        json!({"statusCode": "OK"}),
        json!({"statusCode": 99}),
        json!({"statusCode": 600}),
        json!({"statusCode": -1}),
        json!({"statusCode": 200, "body": {"an": "object"}}),
        json!({"statusCode": 200, "isBase64Encoded": "yes"}),
        json!({"statusCode": 200, "headers": ["x"]}),
        json!({"statusCode": 200, "headers": {"x": 1}}),
        json!({"statusCode": 200, "headers": {"x": "a\r\nset-cookie: evil=1"}}),
        json!({"statusCode": 200, "headers": {"bad name": "v"}}),
        json!({"statusCode": 200, "multiValueHeaders": {"x": "not a list"}}),
        json!({"statusCode": 200, "multiValueHeaders": {"x": ["a\nb"]}}),
    ] {
        assert_eq!(
            answer(bad.clone(), false).unwrap_err(),
            Answer::LambdaError,
            "{bad}"
        );
    }
    for bad in [&b"{not json"[..], b""] {
        assert_eq!(respond(bad, false).unwrap_err(), Answer::LambdaError);
    }
}

#[test]
fn binary_media_types_match_with_wildcards() {
    let doc = json!({"x-amazon-apigateway-binary-media-types": ["image~1png", "application/*"]});
    let types = BinaryMediaTypes::from_document(&doc).unwrap();
    assert!(types.matches("image/png"));
    assert!(types.matches("IMAGE/PNG; q=0.9"));
    assert!(types.matches("application/octet-stream"));
    assert!(types.matches("application/*"));
    assert!(!types.matches("image/jpeg"));
    assert!(!types.matches("text/plain"));
    assert!(!types.matches("application"));
    assert!(!types.matches("*/*"));
    assert!(!types.matches(""));
    let all = BinaryMediaTypes::from_document(
        &json!({"x-amazon-apigateway-binary-media-types": ["*/*"]}),
    )
    .unwrap();
    assert!(all.matches("text/html"));
    assert!(all.matches("*/*"));
    assert!(!BinaryMediaTypes::from_document(&json!({}))
        .unwrap()
        .matches("image/png"));
    for bad in [json!("image/png"), json!([1]), json!(["png"])] {
        let doc = json!({"x-amazon-apigateway-binary-media-types": bad});
        assert!(BinaryMediaTypes::from_document(&doc).is_err());
    }
}

/// LocalStack `test_aws_proxy_binary_response` with `["image/png",
/// "*/test"]` (snapshots `04-test2` to `07-test2`): a wildcard on the left
/// of a listed type is no wildcard, and a wildcard `Accept` matches no
/// listed type.
#[test]
fn a_left_wildcard_is_no_wildcard() {
    let doc = json!({"x-amazon-apigateway-binary-media-types": ["image/png", "*/test"]});
    let types = BinaryMediaTypes::from_document(&doc).unwrap();
    for accept in ["*/test", "random/test", "image/*", "*/*"] {
        assert!(!types.matches(accept), "{accept}");
    }
    assert!(types.matches("image/png"));
}

/// `test_lambda_aws_proxy_integration_non_post_method` and
/// `test_apigateway_header_remapping_aws[AWS_PROXY]`: integrations AWS
/// accepts and then fails at every request.
#[test]
fn integrations_aws_fails_are_marked() {
    let uri = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/f/invocations";
    assert_eq!(refusal(&json!({"uri": uri})).unwrap(), None);
    assert_eq!(refusal(&json!({"httpMethod": "post"})).unwrap(), None);
    assert!(refusal(&json!({"httpMethod": "GET"}))
        .unwrap()
        .unwrap()
        .contains("httpMethod GET"));
    assert!(refusal(&json!({"httpMethod": 1})).is_err());
    for header in UNMAPPABLE {
        for spelled in [header.to_owned(), header.to_ascii_uppercase()] {
            let params = json!({
                "httpMethod": "POST",
                "requestParameters": {
                    format!("integration.request.header.{spelled}"): "'x'",
                },
            });
            assert!(refusal(&params).unwrap().is_some(), "{spelled}");
        }
    }
    // What AWS answered 200 for (the `full` resource of the recording).
    let fine = json!({"requestParameters": {
        "integration.request.header.Accept": "'text/html'",
        "integration.request.header.Host": "method.request.header.Host",
        "integration.request.header.User-Agent": "'Override-Agent'",
        "integration.request.header.Trailer": "'user-agent'",
        "integration.request.querystring.authorization": "'x'",
    }});
    assert_eq!(refusal(&fine).unwrap(), None);
    assert!(refusal(&json!({"requestParameters": []})).is_err());
}

#[test]
fn request_time_is_api_gateways_format() {
    assert_eq!(event::request_time(0), "01/Jan/1970:00:00:00 +0000");
    // 2015-04-09T12:34:56Z, AWS's documented example.
    assert_eq!(
        event::request_time(1_428_582_896),
        "09/Apr/2015:12:34:56 +0000"
    );
}
