//! Lambda authorizers (TOKEN and REQUEST) through a real axum server on
//! 127.0.0.1 and a real HTTP client: events, answers byte for byte, the
//! cache observed through the authorizer's call count.

use axum::{routing::get, Router};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tower_cognito::custom_authorizer::{
    AuthorizerError, AuthorizerOutput, CustomAuthorizerBuilder, CustomAuthorizerLayer,
    ServiceAuthorizer,
};

const DENY_EXPLICIT: &str =
    r#"{"Message":"User is not authorized to access this resource with an explicit deny"}"#;
const DENY: &str = r#"{"Message":"User is not authorized to access this resource"}"#;
const UNAUTHORIZED: &str = r#"{"message":"Unauthorized"}"#;
const CONFIG: &str = r#"{"message":null}"#;

/// The authorizer under test: its answer depends on the token/header value.
#[derive(Clone, Default)]
struct Recorder {
    calls: Arc<AtomicUsize>,
    events: Arc<Mutex<Vec<Value>>>,
}

impl Recorder {
    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn last(&self) -> Value {
        self.events.lock().unwrap().last().cloned().unwrap()
    }

    fn authorizer(
        &self,
    ) -> impl Fn(
        Value,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Value, AuthorizerError>> + Send>,
    > + Send
           + Sync
           + 'static {
        let me = self.clone();
        move |event: Value| {
            me.calls.fetch_add(1, Ordering::SeqCst);
            me.events.lock().unwrap().push(event.clone());
            let token = event["authorizationToken"]
                .as_str()
                .or_else(|| event["headers"]["x-key"].as_str())
                .unwrap_or("")
                .to_owned();
            Box::pin(async move { answer(&token) })
        }
    }
}

fn statement(effect: &str, resource: &str) -> Value {
    json!({"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource})
}

fn answer(token: &str) -> Result<Value, AuthorizerError> {
    let policy = |statements: Vec<Value>| json!({"Version": "2012-10-17", "Statement": statements});
    let get_only = "arn:aws:execute-api:eu-west-1:111122223333:api1/dev/GET/*";
    let out = match token {
        "allow" | "allow-2" => json!({
            "principalId": "user-1",
            "policyDocument": policy(vec![statement("Allow", get_only)]),
            "context": {"tier": "gold", "quota": 5, "admin": false},
            "usageIdentifierKey": "key-1"
        }),
        "deny" => json!({
            "principalId": "user-2",
            "policyDocument": policy(vec![statement("Allow", "*"), statement("Deny", "*/pets/*")])
        }),
        "nested" => json!({
            "principalId": "user-3",
            "policyDocument": policy(vec![statement("Allow", "*")]),
            "context": {"o": {"a": 1}}
        }),
        "broken" => json!({"policyDocument": policy(vec![])}),
        "fail" => return Err(AuthorizerError::Failed("boom".into())),
        _ => return Err(AuthorizerError::Unauthorized),
    };
    Ok(out)
}

async fn echo(req: axum::extract::Request) -> String {
    let out = req.extensions().get::<AuthorizerOutput>().unwrap();
    let ctx: Vec<String> = out
        .context()
        .map(|(k, v)| format!("{k}={}", v.to_text()))
        .collect();
    format!("{} {}", out.principal_id(), ctx.join(","))
}

async fn serve(layer: CustomAuthorizerLayer) -> String {
    let app = Router::new()
        .route("/pets/{id}", get(echo).post(echo))
        .route("/files/{*path}", get(echo))
        .route("/other", get(echo))
        .layer(layer);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // The client's address reaches the REQUEST event's identity.sourceIp.
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn configure(b: CustomAuthorizerBuilder) -> CustomAuthorizerBuilder {
    b.api("eu-west-1", "111122223333", "api1", "dev")
}

async fn send(
    client: &reqwest::Client,
    req: reqwest::RequestBuilder,
) -> (u16, Option<String>, String) {
    let res = client.execute(req.build().unwrap()).await.unwrap();
    let kind = res
        .headers()
        .get("x-amzn-errortype")
        .map(|v| v.to_str().unwrap().to_owned());
    (res.status().as_u16(), kind, res.text().await.unwrap())
}

#[tokio::test]
async fn token_authorizer_answers_and_cache() {
    let rec = Recorder::default();
    let layer = configure(CustomAuthorizerLayer::token(rec.authorizer()))
        .identity_validation_expression("[a-z-]+")
        .build()
        .unwrap();
    let base = serve(layer).await;
    let c = reqwest::Client::new();
    let get = |path: &str, token: Option<&str>| {
        let r = c.get(format!("{base}{path}"));
        match token {
            Some(t) => r.header("authorization", t),
            None => r,
        }
    };

    // Allowed: principal and context reach the service.
    let (s, _, body) = send(&c, get("/pets/1", Some("allow"))).await;
    assert_eq!(
        (s, body.as_str()),
        (200, "user-1 admin=false,quota=5,tier=gold")
    );
    assert_eq!(
        rec.last(),
        json!({"type": "TOKEN", "authorizationToken": "allow",
               "methodArn": "arn:aws:execute-api:eu-west-1:111122223333:api1/dev/GET/pets/1"})
    );
    assert_eq!(rec.calls(), 1);
    // Cached, and the cached policy judged again for another method ARN.
    let (s, ..) = send(&c, get("/other", Some("allow"))).await;
    assert_eq!(s, 200);
    let post = c
        .post(format!("{base}/pets/1"))
        .header("authorization", "allow");
    assert_eq!(
        send(&c, post).await,
        (403, Some("AccessDeniedException".into()), DENY.into())
    );
    assert_eq!(rec.calls(), 1);

    // Explicit deny beats the Allow of `*`.
    assert_eq!(
        send(&c, get("/pets/2", Some("deny"))).await,
        (
            403,
            Some("AccessDeniedException".into()),
            DENY_EXPLICIT.into()
        )
    );
    assert_eq!(send(&c, get("/other", Some("deny"))).await.0, 200);
    assert_eq!(rec.calls(), 2);

    // Missing, empty, or failing the validation expression: 401, no call.
    for token in [None, Some(""), Some("ALLOW"), Some("allow-2 x")] {
        assert_eq!(
            send(&c, get("/pets/1", token)).await,
            (
                401,
                Some("UnauthorizedException".into()),
                UNAUTHORIZED.into()
            ),
            "{token:?}"
        );
    }
    assert_eq!(rec.calls(), 2);

    // A header that is not text (obs-text bytes) is no token: 401, no call,
    // however often it comes.
    for _ in 0..2 {
        let bytes = http::HeaderValue::from_bytes(b"allow\xe9").unwrap();
        let req = c
            .get(format!("{base}/pets/1"))
            .header("authorization", bytes);
        assert_eq!(send(&c, req).await.0, 401);
    }
    assert_eq!(rec.calls(), 2);

    // The authorizer's Unauthorized: 401; not cached, so asked again.
    for _ in 0..2 {
        assert_eq!(send(&c, get("/pets/1", Some("nobody"))).await.0, 401);
    }
    assert_eq!(rec.calls(), 4);

    // Failures and malformed answers: 500 {"message":null}.
    for token in ["fail", "nested", "broken"] {
        assert_eq!(
            send(&c, get("/pets/1", Some(token))).await,
            (
                500,
                Some("AuthorizerConfigurationException".into()),
                CONFIG.into()
            ),
            "{token}"
        );
    }
}

#[tokio::test]
async fn request_authorizer_event_sources_and_cache_key() {
    let rec = Recorder::default();
    let layer = configure(CustomAuthorizerLayer::request(rec.authorizer()))
        .identity_source(
            "method.request.header.X-Key, method.request.querystring.q, stageVariables.v",
        )
        .stage_variable("v", "1")
        .build()
        .unwrap();
    let base = serve(layer).await;
    let c = reqwest::Client::new();
    let req = |key: Option<&str>, query: &str| {
        let r = c.get(format!("{base}/pets/7{query}"));
        match key {
            Some(k) => r.header("x-key", k),
            None => r,
        }
    };
    let (s, _, body) = send(&c, req(Some("allow"), "?q=a&q=b%20c")).await;
    assert_eq!(
        (s, body.as_str()),
        (200, "user-1 admin=false,quota=5,tier=gold")
    );
    let ev = rec.last();
    assert_eq!(ev["type"], "REQUEST");
    assert_eq!(
        ev["methodArn"],
        "arn:aws:execute-api:eu-west-1:111122223333:api1/dev/GET/pets/7"
    );
    // AWS's "Input to an API Gateway Lambda authorizer": the route's
    // resource and parameters (axum's MatchedPath behind its router), the
    // client's address in requestContext.identity.sourceIp.
    assert_eq!(
        (ev["path"].as_str(), ev["resource"].as_str()),
        (Some("/pets/7"), Some("/pets/{id}"))
    );
    assert_eq!(ev["pathParameters"], json!({"id": "7"}));
    assert_eq!(ev["requestContext"]["resourcePath"], "/pets/{id}");
    assert_eq!(ev["requestContext"]["identity"]["sourceIp"], "127.0.0.1");
    assert_eq!(ev["requestContext"]["httpMethod"], "GET");
    assert_eq!(ev["httpMethod"], "GET");
    assert_eq!(ev["headers"]["x-key"], "allow");
    assert_eq!(ev["multiValueHeaders"]["x-key"], json!(["allow"]));
    assert_eq!(ev["queryStringParameters"], json!({"q": "b c"}));
    assert_eq!(
        ev["multiValueQueryStringParameters"],
        json!({"q": ["a", "b c"]})
    );
    assert_eq!(ev["stageVariables"], json!({"v": "1"}));
    assert_eq!(ev["requestContext"]["stage"], "dev");
    assert_eq!(ev["requestContext"]["path"], "/dev/pets/7");
    // A greedy axum parameter is API Gateway's `{name+}`, its value the rest
    // of the path as sent.
    let greedy = c
        .get(format!("{base}/files/a/b%20c.txt?q=z"))
        .header("x-key", "allow");
    assert_eq!(send(&c, greedy).await.0, 200);
    let ev = rec.last();
    assert_eq!(ev["resource"], "/files/{path+}");
    assert_eq!(ev["pathParameters"], json!({"path": "a/b%20c.txt"}));

    // Same identity values: cached. Another query value: a new call.
    assert_eq!(send(&c, req(Some("allow"), "?q=b%20c")).await.0, 200);
    assert_eq!(rec.calls(), 2);
    assert_eq!(send(&c, req(Some("allow"), "?q=other")).await.0, 200);
    assert_eq!(rec.calls(), 3);

    // With caching on, a missing or empty source is 401 without a call.
    for (key, query) in [(None, "?q=x"), (Some("allow"), ""), (Some("allow"), "?q=")] {
        assert_eq!(
            send(&c, req(key, query)).await,
            (
                401,
                Some("UnauthorizedException".into()),
                UNAUTHORIZED.into()
            )
        );
    }
    assert_eq!(rec.calls(), 3);
}

#[tokio::test]
async fn uncached_request_authorizer_takes_missing_sources_and_a_service() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let svc = tower::service_fn(move |event: Value| {
        counted.fetch_add(1, Ordering::SeqCst);
        async move { answer(event["headers"]["x-key"].as_str().unwrap_or("allow")) }
    });
    let layer = configure(CustomAuthorizerLayer::request(ServiceAuthorizer::new(svc)))
        .identity_source("method.request.header.X-Key")
        .result_ttl_seconds(0)
        .build()
        .unwrap();
    let base = serve(layer).await;
    let c = reqwest::Client::new();
    for _ in 0..2 {
        assert_eq!(send(&c, c.get(format!("{base}/pets/1"))).await.0, 200);
    }
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_slow_authorizer_is_a_500() {
    let layer = configure(CustomAuthorizerLayer::token(|_event: Value| async {
        tokio::time::sleep(Duration::from_secs(60)).await;
        answer("allow")
    }))
    .timeout(Duration::from_millis(50))
    .build()
    .unwrap();
    let base = serve(layer).await;
    let c = reqwest::Client::new();
    assert_eq!(
        send(
            &c,
            c.get(format!("{base}/pets/1")).header("authorization", "t")
        )
        .await,
        (
            500,
            Some("AuthorizerConfigurationException".into()),
            CONFIG.into()
        )
    );
}

#[test]
fn configuration_is_checked() {
    let f = |_e: Value| async { answer("allow") };
    assert!(CustomAuthorizerLayer::token(f)
        .result_ttl_seconds(3601)
        .build()
        .is_err());
    assert!(CustomAuthorizerLayer::token(f)
        .result_ttl_seconds(3600)
        .build()
        .is_ok());
    assert!(CustomAuthorizerLayer::token(f)
        .identity_source("method.request.querystring.t")
        .build()
        .is_err());
    assert!(CustomAuthorizerLayer::token(f)
        .identity_validation_expression("(")
        .build()
        .is_err());
    assert!(CustomAuthorizerLayer::request(f)
        .identity_source("method.request.path.id")
        .build()
        .is_err());
    assert!(CustomAuthorizerLayer::request(f)
        .identity_source("method.request.header.A")
        .identity_validation_expression(".*")
        .build()
        .is_err());
}

/// A slow authorizer counting its calls and answering per token.
fn slow(
    calls: Arc<AtomicUsize>,
    delay: Duration,
) -> impl Fn(
    Value,
) -> std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<Value, AuthorizerError>> + Send>,
> + Send
       + Sync
       + 'static {
    move |event: Value| {
        calls.fetch_add(1, Ordering::SeqCst);
        let token = event["authorizationToken"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        Box::pin(async move {
            tokio::time::sleep(delay).await;
            answer(&token)
        })
    }
}

/// `n` concurrent GETs of `path` with `token`: their statuses, and how long
/// the slowest took.
async fn concurrently(base: &str, path: &str, token: &str, n: usize) -> (Vec<u16>, Duration) {
    let c = reqwest::Client::new();
    let start = std::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        let req = c
            .get(format!("{base}{path}"))
            .header("authorization", token);
        tasks.spawn(async move { req.send().await.unwrap().status().as_u16() });
    }
    let mut statuses = Vec::new();
    while let Some(status) = tasks.join_next().await {
        statuses.push(status.unwrap());
    }
    (statuses, start.elapsed())
}

/// Single flight: requests missing the cache together with the same token
/// ask the authorizer once and share its answer; each judges the policy for
/// its own method ARN.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_misses_ask_the_authorizer_once() {
    let calls = Arc::new(AtomicUsize::new(0));
    let layer = configure(CustomAuthorizerLayer::token(slow(
        calls.clone(),
        Duration::from_millis(300),
    )))
    .build()
    .unwrap();
    let base = serve(layer).await;
    let (statuses, _) = concurrently(&base, "/pets/1", "allow", 20).await;
    assert_eq!(statuses, vec![200; 20]);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // Another token is another flight.
    let (statuses, _) = concurrently(&base, "/other", "allow-2", 20).await;
    assert_eq!(statuses, vec![200; 20]);
    assert_eq!(calls.load(Ordering::SeqCst), 2);

    // The authorizer's Unauthorized goes to every waiter, and is not cached:
    // the next request asks again.
    let (statuses, _) = concurrently(&base, "/pets/1", "nobody", 20).await;
    assert_eq!(statuses, vec![401; 20]);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    let (statuses, _) = concurrently(&base, "/pets/1", "nobody", 1).await;
    assert_eq!(statuses, vec![401]);
    assert_eq!(calls.load(Ordering::SeqCst), 4);
    // Nor is a failure.
    let (statuses, _) = concurrently(&base, "/pets/1", "fail", 20).await;
    assert_eq!(statuses, vec![500; 20]);
    assert_eq!(calls.load(Ordering::SeqCst), 5);
    let (statuses, _) = concurrently(&base, "/pets/1", "fail", 1).await;
    assert_eq!(statuses, vec![500]);
    assert_eq!(calls.load(Ordering::SeqCst), 6);
}

/// The waiters of a call that hangs are bounded by the authorizer's timeout,
/// like the caller: all get the 500, in about the timeout, after one call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiters_of_a_hung_call_get_the_timeout_answer() {
    let calls = Arc::new(AtomicUsize::new(0));
    let layer = configure(CustomAuthorizerLayer::token(slow(
        calls.clone(),
        Duration::from_secs(60),
    )))
    .timeout(Duration::from_millis(300))
    .build()
    .unwrap();
    let base = serve(layer).await;
    let (statuses, took) = concurrently(&base, "/pets/1", "allow", 20).await;
    assert_eq!(statuses, vec![500; 20]);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert!(took >= Duration::from_millis(300), "{took:?}");
}

/// `context.X` identity sources read `requestContext`, nested keys too.
#[tokio::test]
async fn context_identity_sources() {
    let rec = Recorder::default();
    let layer = configure(CustomAuthorizerLayer::request(rec.authorizer()))
        .identity_source("method.request.header.X-Key, context.identity.sourceIp")
        .build()
        .unwrap();
    let base = serve(layer).await;
    let c = reqwest::Client::new();
    for _ in 0..2 {
        let req = c.get(format!("{base}/pets/1")).header("x-key", "allow");
        assert_eq!(send(&c, req).await.0, 200);
    }
    // The client's address is part of the key: cached after one call.
    assert_eq!(rec.calls(), 1);
    let layer = configure(CustomAuthorizerLayer::request(rec.authorizer()))
        .identity_source("method.request.header.X-Key, context.nothing")
        .build()
        .unwrap();
    let base = serve(layer).await;
    let req = c.get(format!("{base}/pets/1")).header("x-key", "allow");
    assert_eq!(send(&c, req).await.0, 401);
    assert_eq!(rec.calls(), 1);
}
