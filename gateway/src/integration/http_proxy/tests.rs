/// `--integration-base` matches on a URL boundary, not a string prefix.
#[test]
fn integration_bases_match_on_url_boundaries() {
    use super::rest_after_base as rest;
    let base = "http://api.internal";
    assert_eq!(rest("http://api.internal", base), Some(""));
    assert_eq!(rest("http://api.internal/x/y", base), Some("/x/y"));
    assert_eq!(rest("http://api.internal?q=1", base), Some("?q=1"));
    assert_eq!(rest("http://api.internal.evil.example/x", base), None);
    assert_eq!(rest("http://api.internal:8443/x", base), None);
    assert_eq!(rest("http://api.internalx/x", base), None);
    assert_eq!(rest("http://h/v10/x", "http://h/v1"), None);
    assert_eq!(rest("http://h/v1/x", "http://h/v1"), Some("/x"));
    assert_eq!(rest("http://h/v1/x", "http://h/v1/"), Some("x"));
    assert_eq!(rest("http://other/x", base), None);
}

use super::*;

#[test]
fn uris_split_and_fill() {
    let (s, a, p, q) = split_uri("http://backend:8080/pets/{petId}?x=1").unwrap();
    assert_eq!(
        (s, a, p, q),
        ("http", "backend:8080", "/pets/{petId}", Some("x=1"))
    );
    assert_eq!(split_uri("https://h").unwrap().2, "/");
    assert!(split_uri("ftp://h/").is_err());
    assert!(split_uri("http://user@h/").is_err());
    let values = [
        ("petId", "7", true),
        ("proxy", "a/b%20c", true),
        ("doc", "a/b c", false),
        ("dots", "..", false),
        ("tomcat", "..;x", true),
        ("empty", "", false),
    ];
    assert_eq!(fill_path("/pets/{petId}", &values).unwrap(), "/pets/7");
    assert_eq!(fill_path("/f/{proxy+}", &values).unwrap(), "/f/a/b%20c");
    // A mapped `/` stays inside its segment.
    assert_eq!(fill_path("/d/{doc}", &values).unwrap(), "/d/a%2Fb%20c");
    assert_eq!(fill_path("/x/{nope}", &values), None);
    assert_eq!(fill_path("/x/{petId", &values), None);
    for refused in ["/d/{dots}", "/d/{tomcat}", "/d/{empty}/x", "/d/.{petId}/."] {
        assert_eq!(fill_path(refused, &values), None, "{refused}");
    }
    assert_eq!(fill_path("/d/{empty}", &values).unwrap(), "/d/");
}

#[test]
fn query_placeholders_are_filled_as_one_component_each() {
    let fill = |template: &str, values: &[(&str, &str, bool)]| {
        let mut out = String::new();
        fill_query_into(&mut out, template, |name| {
            let &(_, v, raw) = values.iter().find(|(n, _, _)| *n == name)?;
            Some((Cow::Borrowed(v), raw))
        })
        .map(|()| out)
    };
    let values = [
        ("pathVar", "a%26b%3D1", true),
        ("qsVar", "x&y=1 z", false),
        ("plain", "foobar", true),
    ];
    assert_eq!(
        fill("testVar={pathVar}&testQs={qsVar}&p={plain+}", &values).unwrap(),
        "testVar=a%26b%3D1&testQs=x%26y%3D1%20z&p=foobar"
    );
    assert_eq!(fill("a=1&b=2", &values).unwrap(), "a=1&b=2");
    assert_eq!(fill("a={nope}", &values), None);
    assert_eq!(fill("a={plain", &values), None);
}

#[test]
fn mapped_query_names_are_matched_decoded_and_case_sensitively() {
    let names = ["tenant".to_owned()];
    for pair in [
        "tenant=a",
        "tenant",
        "tenant=",
        "ten%61nt=a",
        "%74enant=a",
        "x=1;tenant=a",
    ] {
        assert!(names_a_mapped_parameter(pair, &names), "{pair}");
    }
    for pair in [
        "Tenant=a",
        "tenants=a",
        "x=tenant",
        "tenant%3D=a",
        "t+enant=a",
    ] {
        assert!(!names_a_mapped_parameter(pair, &names), "{pair}");
    }
}

#[test]
fn a_uri_path_unsafe_with_any_value_is_a_startup_error() {
    let vars = HashMap::new();
    for uri in [
        "http://h/a/../{x}",
        "http://h/a/{x}/.",
        "http://h//a",
        "http://h/a/{x",
    ] {
        let integration = serde_json::json!({ "uri": uri });
        let err = HttpProxy::parse(&integration, &vars, &[], "api").unwrap_err();
        assert!(err.contains("dot segment"), "{uri}: {err}");
    }
    let integration = serde_json::json!({ "uri": "http://h/a/{x}/" });
    assert!(HttpProxy::parse(&integration, &vars, &[], "api").is_ok());
}

/// What AWS deploys and answers 500 per request parses, failing, with
/// its warning (`test_import_with_stage_variables`,
/// `test_apigateway_header_remapping_http`).
#[test]
fn unset_stage_variables_and_framing_mappings_fail_every_request() {
    let vars = HashMap::new();
    let unset =
        serde_json::json!({"uri": "https://${stageVariables.TestHost}/p?${stageVariables.q}"});
    let proxy = HttpProxy::parse(&unset, &vars, &[], "api").unwrap();
    let fails = proxy.fails.as_deref().unwrap();
    assert!(
        fails.contains("stage variable TestHost is not set"),
        "{fails}"
    );
    assert_eq!(proxy.warnings, [fails]);
    assert!(
        proxy.describe().contains("answers 500"),
        "{}",
        proxy.describe()
    );
    let framing = serde_json::json!({
        "uri": "http://h/p",
        "requestParameters": {"integration.request.header.Content-Length": "'0'"}
    });
    let proxy = HttpProxy::parse(&framing, &vars, &[], "api").unwrap();
    assert!(proxy.fails.unwrap().contains("frames the body"));
    let malformed = serde_json::json!({"uri": "http://${stageVariables.h/p"});
    assert!(HttpProxy::parse(&malformed, &vars, &[], "api")
        .unwrap_err()
        .contains("unclosed"));
}

#[test]
fn stage_variables_are_substituted() {
    let vars = HashMap::from([("host".to_owned(), "127.0.0.1:9".to_owned())]);
    assert_eq!(
        substitute_stage_variables("http://${stageVariables.host}/a", &vars).unwrap(),
        "http://127.0.0.1:9/a"
    );
    assert!(
        substitute_stage_variables("http://${stageVariables.nope}/", &vars)
            .unwrap_err()
            .contains("nope")
    );
}

#[test]
fn percent_coding() {
    assert_eq!(encode("a b/ü"), "a%20b%2F%C3%BC");
    assert_eq!(decode("a%20b+c%2f%zz%"), "a b c/%zz%");
}
