//! The layer inside real servers over loopback: axum 0.8 (`layer` and
//! `route_layer`, the extractor, a policy table around a router) and tonic
//! 0.14 (`Server::builder().layer`).

mod common;

use axum::routing::get;
use axum::{Json, Router};
use common::*;
use std::net::SocketAddr;
use std::sync::OnceLock;
use tower_cognito::claims::CognitoClaims;
use tower_cognito::testing::TestIssuer;
use tower_cognito::CognitoAuthLayer;

fn issuer() -> &'static TestIssuer {
    static ISSUER: OnceLock<TestIssuer> = OnceLock::new();
    ISSUER.get_or_init(|| TestIssuer::new(POOL))
}

fn auth() -> CognitoAuthLayer {
    seeded(issuer()).build().unwrap()
}

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

async fn claims_map(claims: CognitoClaims) -> Json<serde_json::Value> {
    Json(claims.api_gateway().to_json())
}

async fn maybe(claims: Option<CognitoClaims>) -> String {
    match claims {
        Some(c) => format!("user {}", c.username().unwrap_or("?")),
        None => "anonymous".into(),
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap()
}

#[tokio::test]
async fn axum_router_layer_over_loopback() {
    let auth = auth();
    let app = Router::new()
        .route("/claims", get(claims_map))
        .layer(auth.clone());
    let addr = serve(app).await;
    let http = client();
    let url = format!("http://{addr}/claims");

    let res = http.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers()["content-type"], "application/json");
    assert_eq!(res.headers()["x-amzn-errortype"], "UnauthorizedException");
    assert_eq!(res.text().await.unwrap(), r#"{"message":"Unauthorized"}"#);

    let token = issuer().id_token().claim("custom:role", "owner").sign();
    let res = http.get(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["custom:role"], "owner");
    assert_eq!(body["cognito:username"], "testuser");
    assert_eq!(body["token_use"], "id");

    // `layer` runs for unknown paths too: the 404 fallback is protected.
    let res = http
        .get(format!("http://{addr}/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn axum_route_layer_extractor_and_option() {
    let auth = auth();
    let app = Router::new()
        .route("/me", get(claims_map))
        .route_layer(auth.clone())
        .route(
            "/cats",
            get(claims_map).route_layer(auth.require_scopes(["pets/cats.read"]).unwrap()),
        )
        .route("/maybe", get(maybe))
        .route("/forgot", get(claims_map));
    let addr = serve(app).await;
    let http = client();
    let id = issuer().id_token().sign();
    let access = issuer().access_token().scopes(["pets/cats.read"]).sign();

    let get_with = |path: &str, token: Option<&str>| {
        let mut req = http.get(format!("http://{addr}{path}"));
        if let Some(t) = token {
            req = req.header("authorization", t);
        }
        req.send()
    };
    assert_eq!(get_with("/me", Some(&id)).await.unwrap().status(), 200);
    assert_eq!(get_with("/me", Some(&access)).await.unwrap().status(), 401);
    assert_eq!(
        get_with("/cats", Some(&access)).await.unwrap().status(),
        200
    );
    assert_eq!(get_with("/cats", Some(&id)).await.unwrap().status(), 401);
    // route_layer leaves unknown paths alone: still 404.
    assert_eq!(get_with("/nope", None).await.unwrap().status(), 404);
    // Option<CognitoClaims> on a public route.
    let res = get_with("/maybe", None).await.unwrap();
    assert_eq!(res.text().await.unwrap(), "anonymous");
    // A handler asking for claims on a route without the layer: a clear 500.
    let res = get_with("/forgot", Some(&id)).await.unwrap();
    assert_eq!(res.status(), 500);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("is `CognitoAuthLayer` applied"));
}

#[tokio::test]
async fn axum_router_behind_a_policy_table_over_loopback() {
    use axum::extract::Path;
    use axum::routing::any;
    use axum::Extension;
    use tower::Layer;
    use tower_cognito::{PathParams, RoutePolicy};

    let auth = seeded(issuer())
        .route("GET", "/pets/{petId}", RoutePolicy::public())
        .route("ANY", "/{proxy+}", RoutePolicy::identity_token())
        .build()
        .unwrap();
    let router = Router::new()
        .route(
            "/pets/{id}",
            get(
                |Path(id): Path<String>, params: Extension<PathParams>| async move {
                    format!("pet {id} {}", params.get("petId").unwrap_or("-"))
                },
            ),
        )
        .route("/{*path}", any(|| async { "catch-all" }));
    // Around the whole router, so axum routes the path the table matched.
    let addr = serve(Router::new().fallback_service(auth.layer(router))).await;
    let http = client();
    let get_with = |path: &str, token: Option<String>| {
        let mut req = http.get(format!("http://{addr}{path}"));
        if let Some(t) = token {
            req = req.header("authorization", t);
        }
        req.send()
    };
    for path in ["/pets/7", "/pets/7/", "/pets/%37", "/p%65ts/7/?x=1"] {
        let res = get_with(path, None).await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.text().await.unwrap(), "pet 7 7", "{path}");
    }
    // Not a pet: the catch-all, with a token only.
    for path in ["/pets/7/x", "/pets//7", "/pets%2F7", "///"] {
        let res = get_with(path, None).await.unwrap();
        assert_eq!(res.status(), 401, "{path}");
        let id = Some(issuer().id_token().sign());
        let res = get_with(path, id).await.unwrap();
        assert_eq!(res.text().await.unwrap(), "catch-all", "{path}");
    }
    // `//` is the root resource, which the table does not list: refused, and
    // never the catch-all.
    let id = Some(issuer().id_token().sign());
    let res = get_with("//", id).await.unwrap();
    assert_ne!(res.status(), 200);
}

#[tokio::test]
async fn tonic_server_layer_over_loopback() {
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::HealthCheckRequest;

    let (_reporter, health) = tonic_health::server::health_reporter();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let scoped = auth().require_scopes(["health/check"]).unwrap();
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .layer(scoped)
            .add_service(health)
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
            .await
            .unwrap();
    });
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let check = |token: Option<String>| {
        let mut client = HealthClient::new(channel.clone());
        async move {
            let mut req = tonic::Request::new(HealthCheckRequest {
                service: String::new(),
            });
            if let Some(t) = token {
                req.metadata_mut()
                    .insert("authorization", t.parse().unwrap());
            }
            client.check(req).await
        }
    };
    let ok = check(Some(
        issuer().access_token().scopes(["health/check"]).sign(),
    ))
    .await;
    assert!(ok.is_ok(), "{ok:?}");
    let err = check(None).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unauthenticated);
    assert_eq!(err.message(), "Unauthorized");
    let err = check(Some(issuer().access_token().scopes(["other"]).sign()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::PermissionDenied);
    let err = check(Some(issuer().id_token().sign())).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unauthenticated);
    let expired = issuer()
        .access_token()
        .scopes(["health/check"])
        .expires_in(-1)
        .sign();
    let err = check(Some(expired)).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unauthenticated);
    assert_eq!(err.message(), "The incoming token has expired");
}
