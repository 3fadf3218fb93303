//! The function behind the gateway's `aws_proxy` tests. What it does depends
//! on the event's `pathParameters.action`:
//!
//! - `echo` (and anything unknown): 200, the event itself as a JSON body;
//! - `respond`: the request body, parsed as JSON, returned as the proxy
//!   response itself (the tests choose status, headers, base64 bodies, or a
//!   malformed answer);
//! - `fail`: an error (the Invoke API's `X-Amz-Function-Error`);
//! - `sleep`: waits `?ms=` milliseconds (at most 10 s), then echoes.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::{json, Value};

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let event = event.payload;
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
