//! The function behind the gateway's `aws_proxy` tests. What it does depends
//! on the event's `pathParameters.action`:
//!
//! - `echo` (and anything unknown): 200, the event itself as a JSON body;
//! - `respond`: the request body, parsed as JSON, returned as the proxy
//!   response itself (the tests choose status, headers, base64 bodies, or a
//!   malformed answer);
//! - `fail`: an error (the Invoke API's `X-Amz-Function-Error`);
//! - `sleep`: waits `?ms=` milliseconds (at most 10 s), then echoes;
//! - `authorizer-calls`: how many authorizer events this process has had.
//!
//! An authorizer event (`type` `TOKEN` or `REQUEST`) is answered as a Lambda
//! authorizer, by its token (the `authorizationToken`, or the `x-key`
//! header): `allow` (GET only, with a `context`), `deny` (an explicit deny of
//! `GET /tok/secret`), `malformed` (an object in `context`), `boom` (an
//! error), anything else `Unauthorized`.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};

static AUTHORIZER_CALLS: AtomicU64 = AtomicU64::new(0);

fn authorizer(event: &Value) -> Result<Value, Error> {
    AUTHORIZER_CALLS.fetch_add(1, Ordering::SeqCst);
    let token = event
        .get("authorizationToken")
        .or_else(|| event.pointer("/headers/x-key"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let statement = |effect: &str, resource: &str| {
        json!({"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource})
    };
    let policy = |statements: Vec<Value>| json!({"Version": "2012-10-17", "Statement": statements});
    match token {
        "allow" => Ok(json!({
            "principalId": "user-allow",
            "policyDocument": policy(vec![statement("Allow", "arn:aws:execute-api:*:*:*/*/GET/*")]),
            "context": {"tier": "gold", "quota": 5, "admin": false}
        })),
        "deny" => Ok(json!({
            "principalId": "user-deny",
            "policyDocument": policy(vec![statement("Allow", "*"), statement("Deny", "*/GET/tok/secret")])
        })),
        "malformed" => Ok(json!({
            "principalId": "user-bad",
            "policyDocument": policy(vec![statement("Allow", "*")]),
            "context": {"nested": {"a": 1}}
        })),
        "boom" => Err("the authorizer failed on purpose".into()),
        _ => Err("Unauthorized".into()),
    }
}

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let event = event.payload;
    if matches!(event.get("type").and_then(Value::as_str), Some("TOKEN" | "REQUEST")) {
        return authorizer(&event);
    }
    let action = event
        .pointer("/pathParameters/action")
        .and_then(Value::as_str)
        .unwrap_or("echo")
        .to_owned();
    match action.as_str() {
        "respond" => {
            let body = event.get("body").and_then(Value::as_str).unwrap_or("null");
            Ok(serde_json::from_str(body)?)
        }
        "fail" => Err("the function failed on purpose".into()),
        "authorizer-calls" => Ok(json!({
            "statusCode": 200,
            "body": AUTHORIZER_CALLS.load(Ordering::SeqCst).to_string(),
        })),
        "sleep" => {
            let ms = event
                .pointer("/queryStringParameters/ms")
                .and_then(Value::as_str)
                .and_then(|s| s.parse::<u64>().ok())
                .unwrap_or(0)
                .min(10_000);
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            Ok(echo(&event))
        }
        _ => Ok(echo(&event)),
    }
}

fn echo(event: &Value) -> Value {
    json!({
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": event.to_string(),
    })
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(handle)).await
}
