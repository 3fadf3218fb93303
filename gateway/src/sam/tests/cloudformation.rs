//! CloudFormation resources, stages, pools and parameters, and what stops a
//! conversion.

use serde_json::{json, Value};

use super::*;

#[test]
fn cloudformation_resources_become_the_export() {
    let c = convert_text(CFN).unwrap();
    let doc = &c.export;
    assert_eq!(doc["openapi"], "3.0.1");
    assert_eq!(doc["info"]["title"], "pets");
    assert_eq!(
        doc["x-amazon-apigateway-binary-media-types"],
        json!(["image/png"])
    );
    let get = &doc["paths"]["/pets/{petId}"]["get"];
    assert_eq!(get["security"], json!([{"PetsPool": []}]));
    assert_eq!(
        get["parameters"],
        json!([{"name": "petId", "in": "path", "required": true, "schema": {"type": "string"}}])
    );
    assert_eq!(
        get["x-amazon-apigateway-integration"],
        json!({
            "type": "mock", "passthroughBehavior": "when_no_templates",
            "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
            "responses": {
                "default": {"statusCode": "200", "responseTemplates": {"application/json": "{\"id\": \"$input.params('petId')\"}"}},
                "4\\d{2}": {"statusCode": "404"}
            }
        })
    );
    assert_eq!(
        doc["paths"]["/"]["x-amazon-apigateway-any-method"]["x-amazon-apigateway-integration"]
            ["httpMethod"],
        "ANY"
    );
    assert!(
        doc["paths"].get("/pets").is_none(),
        "a method whose condition is false is left out"
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["PetsPool"]["x-amazon-apigateway-authorizer"]
            ["providerARNs"],
        json!(["arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_Pool"])
    );
    assert_eq!(c.stage_variables, [("env".to_owned(), "dev".to_owned())]);
    assert!(dev_default(&c));

    // The same template, deployed with Env=prod: the scopes apply, the
    // conditional method exists.
    let prod = convert_with(CFN, &[("Env", "prod")], None).unwrap();
    assert_eq!(
        prod.export["paths"]["/pets/{petId}"]["get"]["security"],
        json!([{"PetsPool": ["pets/read"]}])
    );
    assert!(prod.export["paths"]["/pets"].get("delete").is_some());
    assert_eq!(
        prod.stage_variables,
        [("env".to_owned(), "prod".to_owned())]
    );
}

#[test]
fn what_is_unknown_or_wrong_stops_the_conversion_saying_where() {
    let err = |text: &str| convert_text(text).unwrap_err();
    // An intrinsic with no offline value, where it decides an authorizer.
    let e = err(&CFN.replace(
        "ProviderARNs: [!GetAtt Pool.Arn]",
        "ProviderARNs: [!ImportValue shared-pool]",
    ));
    assert!(e.contains("resource Auth (AWS::ApiGateway::Authorizer), property ProviderARNs.0: Fn::ImportValue has no value"), "{e}");
    // An attribute that exists only once deployed.
    let e = err(&CFN.replace(
        "ProviderARNs: [!GetAtt Pool.Arn]",
        "ProviderARNs: [!GetAtt Pool.Nope]",
    ));
    assert!(e.contains("Fn::GetAtt Pool.Nope"), "{e}");
    // AuthorizerId on a public method.
    let e = err(&CFN.replace(
        "      HttpMethod: ANY\n      AuthorizationType: NONE\n",
        "      HttpMethod: ANY\n      AuthorizationType: NONE\n      AuthorizerId: !Ref Auth\n",
    ));
    assert!(
        e.contains(
            "resource RootGet (AWS::ApiGateway::Method): AuthorizerId with AuthorizationType NONE"
        ),
        "{e}"
    );
    // A Cognito authorizer reading a query string.
    let e = err(&CFN.replace(
        "method.request.header.Authorization",
        "method.request.querystring.token",
    ));
    assert!(e.contains("reads its token from a header"), "{e}");
    // A parent that is not a resource of the API.
    let e = err(&CFN.replace("ParentId: !Ref Pets", "ParentId: elsewhere"));
    assert!(
        e.contains("\"elsewhere\" is neither Api's RootResourceId"),
        "{e}"
    );
    // A cycle of resources.
    let e = err(&CFN.replace(
        "ParentId: !GetAtt Api.RootResourceId, PathPart: pets",
        "ParentId: !Ref Pet, PathPart: pets",
    ));
    assert!(e.contains("form a cycle"), "{e}");
    // SAM's own checks.
    let e = err(&IMPLICIT.replace("      DefaultAuthorizer: Pool\n", ""));
    assert!(
        e.contains("'NONE' is only a valid value when a DefaultAuthorizer"),
        "{e}"
    );
    let e = err(&IMPLICIT.replace("Auth: {Authorizer: Scoped}", "Auth: {Authorizer: Nobody}"));
    assert!(e.contains("Unable to set Authorizer [Nobody]"), "{e}");
    let e = err(&IMPLICIT.replace(
        "Properties: {Path: /open, Method: ANY, Auth: {Authorizer: NONE}}",
        "Properties: {Path: /hello, Method: get}",
    ));
    assert!(e.contains("defined multiple times"), "{e}");
    // Other transforms, several APIs, none.
    let e = err(&IMPLICIT.replace(
        "Transform: AWS::Serverless-2016-10-31",
        "Transform: [AWS::Serverless-2016-10-31, Custom::Macro]",
    ));
    assert!(e.contains("Transform Custom::Macro"), "{e}");
    let both = format!("{IMPLICIT}  Other:\n    Type: AWS::ApiGateway::RestApi\n");
    let e = err(&both);
    assert!(
        e.contains("several REST APIs (Other, ServerlessRestApi): choose one with --template-api"),
        "{e}"
    );
    assert!(convert_with(&both, &[], Some("Other")).is_ok());
    let e = convert_with(&both, &[], Some("Nope")).unwrap_err();
    assert!(e.contains("--template-api Nope"), "{e}");
    let e = err("Resources:\n  T: {Type: AWS::SNS::Topic}\n");
    assert!(e.contains("no REST API"), "{e}");
    // An unknown override, a parameter without a value.
    let e = convert_with(CFN, &[("Stage", "x")], None).unwrap_err();
    assert!(e.contains("--parameter-overrides Stage"), "{e}");
    let e = err(&CFN.replace("Default: dev, AllowedValues", "AllowedValues"));
    assert!(
        e.contains("parameter Env has no Default: pass --parameter-overrides Env=VALUE"),
        "{e}"
    );
}

#[test]
fn several_stages_need_a_choice() {
    let text = format!(
        "{CFN}  Prod:\n    Type: AWS::ApiGateway::Stage\n    Properties: {{RestApiId: !Ref Api, StageName: prod, DeploymentId: x, Variables: {{env: production}}}}\n"
    );
    let template = yaml::load(&text).unwrap();
    let e = convert_value(&template, &source(&[], None), "local", Path::new(".")).unwrap_err();
    assert!(
        e.contains("several stages (dev, prod): choose one with --stage NAME"),
        "{e}"
    );
    let c = convert_value(&template, &source(&[], None), "prod", Path::new(".")).unwrap();
    assert_eq!(
        c.stage_variables,
        [("env".to_owned(), "production".to_owned())]
    );
}

#[test]
fn declared_pools_need_the_dev_issuer_or_a_deployed_pool() {
    let c = convert_text(IMPLICIT).unwrap();
    let import = OpenApiImport::parse(
        &c.export.to_string(),
        &tower_cognito::openapi::ImportOptions::new(),
    )
    .unwrap();
    assert!(dev_issuer_by_default(&c, &import, false));
    assert!(!dev_issuer_by_default(&c, &import, true));
    assert!(check_declared_pools(&c, &import, true, false).is_ok());
    assert!(check_declared_pools(&c, &import, false, true).is_ok());
    let e = check_declared_pools(&c, &import, false, false).unwrap_err();
    assert!(
        e.contains("uses the user pool UserPool (AWS::Cognito::UserPool) declared in the template"),
        "{e}"
    );
}

#[test]
fn parameter_overrides_read_as_sam_reads_them() {
    let parsed = parse_overrides(&[
        "Env=prod Name=\"a b\" ParameterKey=Pool,ParameterValue=x,y".to_owned(),
        "AWS::Region=eu-west-1 Env='dev'".to_owned(),
    ])
    .unwrap();
    let get = |n: &str| parsed.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    assert_eq!(get("Env"), Some("dev"), "the last value wins");
    assert_eq!(get("Name"), Some("a b"));
    assert_eq!(get("Pool"), Some("x,y"));
    assert_eq!(get("AWS::Region"), Some("eu-west-1"));
    assert!(parse_overrides(&["novalue".to_owned()]).is_err());
    assert!(parse_overrides(&["A=\"open".to_owned()]).is_err());
    assert!(parse_overrides(&["a-b=1".to_owned()]).is_err());
    assert_eq!(
        parse_overrides(&[String::new()]).unwrap(),
        Vec::<(String, String)>::new()
    );
}

#[test]
fn the_export_is_one_the_importer_takes() {
    for text in [IMPLICIT, CFN] {
        let c = convert_text(text).unwrap();
        let import = OpenApiImport::parse(
            &c.export.to_string(),
            &tower_cognito::openapi::ImportOptions::new().skip_unsupported_authorizers(true),
        )
        .unwrap();
        assert!(!import.routes.is_empty());
        let _: &Value = &c.export;
    }
}
