use super::*;
use serde_json::json;

fn template() -> Value {
    json!({
        "Parameters": {
            "Env": {"Type": "String", "Default": "dev", "AllowedValues": ["dev", "prod"]},
            "Names": {"Type": "CommaDelimitedList", "Default": "a, b,c"},
            "NoDefault": {"Type": "String"},
            "FromSsm": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/app/pool"}
        },
        "Mappings": {"Stages": {"dev": {"Name": "development"}}},
        "Conditions": {
            "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
            "NotProd": {"Fn::Not": [{"Condition": "IsProd"}]},
            "Both": {"Fn::And": [{"Condition": "NotProd"}, {"Fn::Equals": ["a", "a"]}]},
            "Loop1": {"Fn::Not": [{"Condition": "Loop2"}]},
            "Loop2": {"Fn::Not": [{"Condition": "Loop1"}]}
        },
        "Resources": {
            "Fn": {"Type": "AWS::Serverless::Function", "Properties": {"FunctionName": {"Fn::Sub": "${AWS::StackName}-fn"}}},
            "Plain": {"Type": "AWS::Lambda::Function", "Properties": {}},
            "Pool": {"Type": "AWS::Cognito::UserPool"},
            "Api": {"Type": "AWS::ApiGateway::RestApi"},
            "A": {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": {"Fn::GetAtt": ["B", "Arn"]}}},
            "B": {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": {"Ref": "A"}}},
            "Imported": {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": {"Fn::ImportValue": "x"}}},
            "Live": {"Type": "AWS::Lambda::Alias", "Properties": {"FunctionName": {"Ref": "Plain"}, "Name": "live", "FunctionVersion": "1"}}
        }
    })
}

fn eval(t: &Value, overrides: &[(&str, &str)], v: Value) -> Result<Option<Value>, String> {
    let overrides: Vec<(String, String)> = overrides
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    Resolver::new(t, &overrides)?.resolve(&v, "here")
}

#[test]
fn functions_resolve_to_their_offline_values() {
    let t = template();
    let ok = |v: Value| eval(&t, &[], v).unwrap().unwrap();
    assert_eq!(ok(json!({"Ref": "Env"})), "dev");
    assert_eq!(ok(json!({"Ref": "Names"})), json!(["a", "b", "c"]));
    assert_eq!(ok(json!({"Ref": "Fn"})), "local-fn");
    assert_eq!(ok(json!({"Ref": "Plain"})), "Plain");
    assert_eq!(
        ok(json!({"Fn::GetAtt": ["Plain", "Arn"]})),
        "arn:aws:lambda:us-east-1:123456789012:function:Plain"
    );
    assert_eq!(ok(json!({"Ref": "Pool"})), "us-east-1_Pool");
    assert_eq!(
        ok(json!({"Ref": "Live"})),
        "arn:aws:lambda:us-east-1:123456789012:function:Plain:live"
    );
    assert_eq!(
        ok(json!({"Fn::GetAtt": ["Pool", "Arn"]})),
        "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_Pool"
    );
    assert_eq!(
        ok(json!({"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations ${!Literal}"})),
        "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:local-fn/invocations ${Literal}"
    );
    assert_eq!(
        ok(json!({"Fn::Sub": ["${X}/${Env}", {"X": {"Ref": "AWS::AccountId"}}]})),
        "123456789012/dev"
    );
    assert_eq!(
        ok(json!({"Fn::Join": ["-", [{"Ref": "Env"}, "x", 1]]})),
        "dev-x-1"
    );
    assert_eq!(
        ok(json!({"Fn::Select": ["1", {"Fn::Split": [",", "p,q,r"]}]})),
        "q"
    );
    assert_eq!(
        ok(json!({"Fn::FindInMap": ["Stages", {"Ref": "Env"}, "Name"]})),
        "development"
    );
    assert_eq!(ok(json!({"Fn::If": ["IsProd", "p", "d"]})), "d");
    assert_eq!(ok(json!({"Fn::If": ["Both", "yes", "no"]})), "yes");
    assert_eq!(
        ok(
            json!({"a": {"Fn::If": ["IsProd", 1, {"Ref": "AWS::NoValue"}]}, "b": [1, {"Ref": "AWS::NoValue"}]})
        ),
        json!({"b": [1]})
    );
    assert_eq!(ok(json!({"Fn::Base64": "hi"})), "aGk=");
    assert_eq!(
        eval(
            &t,
            &[("Env", "prod"), ("AWS::Region", "eu-west-1")],
            json!({"Fn::Sub": "${Env} ${Pool}"})
        )
        .unwrap()
        .unwrap(),
        "prod eu-west-1_Pool"
    );
    assert_eq!(
        eval(
            &t,
            &[("AWS::Region", "cn-north-1")],
            json!({"Ref": "AWS::Partition"})
        )
        .unwrap()
        .unwrap(),
        "aws-cn"
    );
}

#[test]
fn what_has_no_offline_value_is_refused_with_where() {
    let t = template();
    let err = |o: &[(&str, &str)], v: Value| eval(&t, o, v).unwrap_err();
    assert!(err(&[], json!({"x": {"Ref": "NoDefault"}}))
        .starts_with("here.x: parameter NoDefault has no Default"));
    assert!(err(&[], json!({"Ref": "FromSsm"})).contains("Systems Manager"));
    assert_eq!(
        eval(&t, &[("FromSsm", "v")], json!({"Ref": "FromSsm"}))
            .unwrap()
            .unwrap(),
        "v"
    );
    assert!(err(&[], json!({"Fn::ImportValue": "x"})).contains("Fn::ImportValue has no value"));
    assert!(err(&[], json!({"Ref": "Imported"})).contains(
        "resource Imported (AWS::Lambda::Function), property FunctionName: Fn::ImportValue"
    ));
    assert!(
        err(&[], json!({"Fn::GetAtt": ["Api", "Arn"]})).contains("only once the stack is deployed")
    );
    assert!(err(&[], json!({"Ref": "Nothing"})).contains("no parameter or resource Nothing"));
    assert!(err(&[("Env", "staging")], json!(1)).contains("AllowedValues"));
    assert!(err(&[("Typo", "1")], json!(1)).contains("--parameter-overrides Typo"));
    assert!(err(&[], json!({"Fn::Select": [5, ["a"]]})).contains("index 5"));
    assert!(err(&[], json!({"Fn::Bogus": 1})).contains("unknown intrinsic"));
}

#[test]
fn cycles_are_refused_not_followed() {
    let t = template();
    let e = eval(&t, &[], json!({"Ref": "A"})).unwrap_err();
    assert!(e.contains("circular reference"), "{e}");
    let e = eval(&t, &[], json!({"Fn::If": ["Loop1", 1, 2]})).unwrap_err();
    assert!(e.contains("circular reference"), "{e}");
    // A long chain stops at the bound, without recursing further.
    let mut resources = Map::new();
    for i in 0..200 {
        resources.insert(
            format!("F{i}"),
            json!({"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": {"Ref": format!("F{}", i + 1)}}}),
        );
    }
    let t = json!({"Resources": resources});
    let e = eval(&t, &[], json!({"Ref": "F0"})).unwrap_err();
    assert!(e.contains("nested deeper"), "{e}");
}

/// As deep as the loader lets a template be, at every hop: refused on a
/// test thread's stack (2 MiB, a worker's), not overflowing it.
#[test]
fn deep_values_at_every_hop_stay_within_a_worker_stack() {
    let text = {
        let mut resources = String::from("Resources:\n");
        for i in 0..40 {
            let mut value = format!("{{\"Ref\": \"F{}\"}}", i + 1);
            for _ in 0..40 {
                value = format!("{{\"Fn::Join\": [\"\", [{value}]]}}");
            }
            resources.push_str(&format!(
                "  F{i}:\n    Type: AWS::Lambda::Function\n    Properties:\n      FunctionName: {value}\n"
            ));
        }
        resources
    };
    let t = super::super::yaml::load(&text).unwrap();
    let e = eval(&t, &[], json!({"Ref": "F0"})).unwrap_err();
    assert!(e.contains("values nested deeper than 256"), "{e}");
}
