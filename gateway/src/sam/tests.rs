//! Conversions of small templates, checked on the export they give.

use serde_json::json;

use super::*;

fn source(overrides: &[(&str, &str)], api: Option<&str>) -> TemplateSource {
    TemplateSource {
        path: PathBuf::from("template.yaml"),
        overrides: overrides
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
        api: api.map(str::to_owned),
    }
}

fn convert_text(text: &str) -> Result<Converted, String> {
    convert_with(text, &[], None)
}

fn convert_with(
    text: &str,
    overrides: &[(&str, &str)],
    api: Option<&str>,
) -> Result<Converted, String> {
    let template = yaml::load(text)?;
    convert_value(&template, &source(overrides, api), "local", Path::new("."))
}

const IMPLICIT: &str = r#"
Transform: AWS::Serverless-2016-10-31
Globals:
  Api:
    Cors:
      AllowOrigin: "'https://app.example.com'"
      AllowHeaders: "'Authorization,Content-Type'"
    Auth:
      DefaultAuthorizer: Pool
      Authorizers:
        Pool:
          UserPoolArn: !GetAtt UserPool.Arn
          Identity:
            Header: X-Token
            ValidationExpression: "^client$"
        Scoped:
          UserPoolArn: [!GetAtt UserPool.Arn]
          AuthorizationScopes: [pets/read]
Resources:
  UserPool:
    Type: AWS::Cognito::UserPool
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Get:
          Type: Api
          Properties: {Path: /hello, Method: get}
        Open:
          Type: Api
          Properties: {Path: /open, Method: ANY, Auth: {Authorizer: NONE}}
        Scoped:
          Type: Api
          Properties: {Path: /hello, Method: post, Auth: {Authorizer: Scoped}}
        Written:
          Type: Api
          Properties: {Path: /hello, Method: put, Auth: {Authorizer: Scoped, AuthorizationScopes: [pets/write]}}
        Queue:
          Type: SQS
          Properties: {Queue: arn}
  Named:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Sub "${AWS::StackName}-named"
      AutoPublishAlias: live
      Events:
        Get:
          Type: Api
          Properties: {Path: "/named/{id}", Method: get, TimeoutInMillis: 5000}
"#;

#[test]
fn implicit_api_is_what_sam_deploys() {
    let c = convert_text(IMPLICIT).unwrap();
    assert_eq!(
        c.description,
        "REST API ServerlessRestApi (AWS::Serverless::Api, implicit), template stage Prod"
    );
    let doc = &c.export;
    assert_eq!(doc["swagger"], "2.0");
    let pool = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_UserPool";
    assert_eq!(
        doc["securityDefinitions"]["Pool"],
        json!({
            "type": "apiKey", "name": "X-Token", "in": "header",
            "x-amazon-apigateway-authtype": "cognito_user_pools",
            "x-amazon-apigateway-authorizer": {
                "type": "cognito_user_pools", "providerARNs": [pool],
                "identityValidationExpression": "^client$"
            }
        })
    );
    let paths = &doc["paths"];
    // The default authorizer, on events without their own.
    assert_eq!(paths["/hello"]["get"]["security"], json!([{"Pool": []}]));
    // NONE: no authorizer at all.
    assert!(paths["/open"]["x-amazon-apigateway-any-method"]
        .get("security")
        .is_none());
    // The authorizer's own scopes, or the event's.
    assert_eq!(
        paths["/hello"]["post"]["security"],
        json!([{"Scoped": ["pets/read"]}])
    );
    assert_eq!(
        paths["/hello"]["put"]["security"],
        json!([{"Scoped": ["pets/write"]}])
    );
    assert_eq!(
        paths["/hello"]["get"]["x-amazon-apigateway-integration"],
        json!({
            "type": "aws_proxy", "httpMethod": "POST",
            "uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:Hello/invocations"
        })
    );
    assert_eq!(
        paths["/named/{id}"]["get"]["x-amazon-apigateway-integration"],
        json!({
            "type": "aws_proxy", "httpMethod": "POST", "timeoutInMillis": 5000,
            "uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:local-named:live/invocations"
        })
    );
    // CORS preflights, protected by the default authorizer as SAM leaves them.
    let options = &paths["/hello"]["options"];
    assert_eq!(options["x-amazon-apigateway-integration"]["type"], "mock");
    assert_eq!(
        options["x-amazon-apigateway-integration"]["responses"]["default"]["responseParameters"],
        json!({
            "method.response.header.Access-Control-Allow-Origin": "'https://app.example.com'",
            "method.response.header.Access-Control-Allow-Headers": "'Authorization,Content-Type'",
            "method.response.header.Access-Control-Allow-Methods": "'GET,OPTIONS,POST,PUT'",
        })
    );
    assert_eq!(options["security"], json!([{"Pool": []}]));
    assert_eq!(
        paths["/open"]["options"]["x-amazon-apigateway-integration"]["responses"]["default"]
            ["responseParameters"]["method.response.header.Access-Control-Allow-Methods"],
        "'DELETE,GET,HEAD,OPTIONS,PATCH,POST,PUT'"
    );
    assert_eq!(c.declared_pools.len(), 1);
    assert_eq!(c.declared_pools[0].id, "us-east-1_UserPool");
    assert!(c.notes.is_empty(), "{:?}", c.notes);
}

#[test]
fn preflights_stay_open_when_sam_is_told_so() {
    let text = IMPLICIT.replace(
        "      DefaultAuthorizer: Pool\n",
        "      DefaultAuthorizer: Pool\n      AddDefaultAuthorizerToCorsPreflight: false\n",
    );
    let c = convert_text(&text).unwrap();
    assert!(c.export["paths"]["/hello"]["options"]
        .get("security")
        .is_none());
    assert_eq!(
        c.export["paths"]["/hello"]["get"]["security"],
        json!([{"Pool": []}])
    );
}

#[test]
fn definition_body_is_kept_and_given_the_api_auth() {
    let text = r#"
Transform: AWS::Serverless-2016-10-31
Parameters:
  PoolArn:
    Type: String
    Default: arn:aws:cognito-idp:eu-west-1:111122223333:userpool/eu-west-1_AbCdEf123
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: v1
      Variables: {tier: gold}
      Auth:
        DefaultAuthorizer: Cognito
        Authorizers:
          Cognito: {UserPoolArn: !Ref PoolArn}
      DefinitionBody:
        openapi: 3.0.1
        info: {title: x, version: "1"}
        paths:
          /items:
            get:
              x-amazon-apigateway-integration:
                type: aws_proxy
                httpMethod: POST
                uri: !Sub "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations"
            post:
              description: no integration, so SAM's default leaves it alone
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Extra:
          Type: Api
          Properties: {Path: /extra, Method: get, RestApiId: !Ref Api}
        InBody:
          Type: Api
          Properties: {Path: /items, Method: get, RestApiId: !Ref Api}
"#;
    let c = convert_text(text).unwrap();
    let doc = &c.export;
    assert_eq!(
        doc["components"]["securitySchemes"]["Cognito"]["x-amazon-apigateway-authorizer"]
            ["providerARNs"],
        json!(["arn:aws:cognito-idp:eu-west-1:111122223333:userpool/eu-west-1_AbCdEf123"])
    );
    assert!(doc.get("securityDefinitions").is_none());
    assert_eq!(
        doc["paths"]["/items"]["get"]["security"],
        json!([{"Cognito": []}])
    );
    assert!(doc["paths"]["/items"]["post"].get("security").is_none());
    assert_eq!(
        doc["paths"]["/items"]["get"]["x-amazon-apigateway-integration"]["uri"],
        "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:Fn/invocations"
    );
    assert!(doc["paths"].get("/extra").is_none());
    assert_eq!(c.notes.len(), 1);
    assert!(
        c.notes[0].contains("Events.Extra: not added to Api"),
        "{:?}",
        c.notes
    );
    assert_eq!(c.stage_variables, [("tier".to_owned(), "gold".to_owned())]);
    assert!(c.description.ends_with("template stage v1"));
    assert!(!dev_default(&c));
}

fn dev_default(c: &Converted) -> bool {
    let import = OpenApiImport::parse(
        &c.export.to_string(),
        &tower_cognito::openapi::ImportOptions::new(),
    )
    .unwrap();
    dev_issuer_by_default(c, &import, false)
}

const CFN: &str = r#"
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Env: {Type: String, Default: dev, AllowedValues: [dev, prod]}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Resources:
  Pool: {Type: AWS::Cognito::UserPool}
  Api:
    Type: AWS::ApiGateway::RestApi
    Properties: {Name: pets, BinaryMediaTypes: [image~1png]}
  Pets:
    Type: AWS::ApiGateway::Resource
    Properties: {RestApiId: !Ref Api, ParentId: !GetAtt Api.RootResourceId, PathPart: pets}
  Pet:
    Type: AWS::ApiGateway::Resource
    Properties: {RestApiId: !Ref Api, ParentId: !Ref Pets, PathPart: "{petId}"}
  Auth:
    Type: AWS::ApiGateway::Authorizer
    Properties:
      Name: PetsPool
      RestApiId: !Ref Api
      Type: COGNITO_USER_POOLS
      IdentitySource: method.request.header.Authorization
      ProviderARNs: [!GetAtt Pool.Arn]
  GetPet:
    Type: AWS::ApiGateway::Method
    Properties:
      RestApiId: !Ref Api
      ResourceId: !Ref Pet
      HttpMethod: GET
      AuthorizationType: COGNITO_USER_POOLS
      AuthorizerId: !Ref Auth
      AuthorizationScopes: !If [IsProd, [pets/read], !Ref AWS::NoValue]
      RequestParameters: {method.request.path.petId: true}
      Integration:
        Type: MOCK
        PassthroughBehavior: WHEN_NO_TEMPLATES
        RequestTemplates: {application/json: '{"statusCode": 200}'}
        IntegrationResponses:
          - StatusCode: 200
            ResponseTemplates: {application/json: '{"id": "$input.params(''petId'')"}'}
          - StatusCode: "404"
            SelectionPattern: "4\\d{2}"
  RootGet:
    Type: AWS::ApiGateway::Method
    Properties:
      RestApiId: !Ref Api
      ResourceId: !GetAtt Api.RootResourceId
      HttpMethod: ANY
      AuthorizationType: NONE
      Integration: {Type: HTTP_PROXY, IntegrationHttpMethod: ANY, Uri: https://example.com/}
  ProdOnly:
    Type: AWS::ApiGateway::Method
    Condition: IsProd
    Properties:
      RestApiId: !Ref Api
      ResourceId: !Ref Pets
      HttpMethod: DELETE
      AuthorizationType: NONE
  Stage:
    Type: AWS::ApiGateway::Stage
    Properties: {RestApiId: !Ref Api, StageName: dev, DeploymentId: x, Variables: {env: !Ref Env}}
"#;

mod cloudformation;
