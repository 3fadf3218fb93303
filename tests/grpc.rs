//! gRPC policy by `/package.Service/Method` and by service, through a real
//! tonic server (tonic-health's generated `HealthServer`) and client on
//! loopback. `Server::builder().layer(auth)` takes the layer as it is.

use std::net::SocketAddr;
use tonic::metadata::MetadataValue;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Channel, Server};
use tonic::{Code, Request};
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;
use tower_cognito::testing::TestIssuer;
use tower_cognito::{CognitoAuthLayer, RoutePolicy};

const POOL: &str = "us-east-1_AbCdEf123";
const CHECK: &str = "https://api.example.com/health.check";

async fn serve(auth: CognitoAuthLayer) -> SocketAddr {
    let (_reporter, health) = tonic_health::server::health_reporter();
    let incoming = TcpIncoming::bind("127.0.0.1:0".parse().unwrap()).expect("bind");
    let addr = incoming.local_addr().expect("addr");
    tokio::spawn(
        Server::builder()
            .layer(auth)
            .add_service(health)
            .serve_with_incoming(incoming),
    );
    addr
}

async fn client(addr: SocketAddr) -> HealthClient<Channel> {
    let channel = Channel::from_shared(format!("http://{addr}"))
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    HealthClient::new(channel)
}

fn with_token<T>(message: T, token: Option<&str>) -> Request<T> {
    let mut req = Request::new(message);
    if let Some(t) = token {
        let value: MetadataValue<_> = t.parse().expect("ascii token");
        req.metadata_mut().insert("authorization", value);
    }
    req
}

async fn check(client: &mut HealthClient<Channel>, token: Option<&str>) -> Result<(), Code> {
    client
        .check(with_token(HealthCheckRequest::default(), token))
        .await
        .map(|_| ())
        .map_err(|s| s.code())
}

async fn watch(client: &mut HealthClient<Channel>, token: Option<&str>) -> Result<(), Code> {
    let mut stream = client
        .watch(with_token(HealthCheckRequest::default(), token))
        .await
        .map_err(|s| s.code())?
        .into_inner();
    stream.message().await.map(|_| ()).map_err(|s| s.code())
}

#[tokio::test]
async fn method_and_service_policies_over_a_real_tonic_server() {
    let issuer = TestIssuer::new(POOL);
    let auth = CognitoAuthLayer::builder()
        .user_pool(POOL)
        .jwks(POOL, issuer.jwks())
        .grpc_service("grpc.health.v1.Health", RoutePolicy::identity_token())
        .grpc_method(
            "/grpc.health.v1.Health/Check",
            RoutePolicy::scopes([CHECK]).unwrap(),
        )
        .build()
        .expect("layer");
    assert_eq!(
        auth.route_for(&http::Method::POST, "/grpc.health.v1.Health/Check")
            .map(|r| r.as_str()),
        Some("ANY /grpc.health.v1.Health/Check")
    );
    let addr = serve(auth).await;
    let mut client = client(addr).await;

    let id = issuer.id_token().sign();
    let access = issuer.access_token().scopes(["x", CHECK]).sign();
    let no_scope = issuer.access_token().sign();
    let expired = issuer.access_token().scopes([CHECK]).expires_in(-5).sign();

    // The method's own policy: access token with the scope.
    assert_eq!(check(&mut client, Some(&access)).await, Ok(()));
    let bearer = format!("Bearer {access}");
    assert_eq!(check(&mut client, Some(&bearer)).await, Ok(()));
    assert_eq!(check(&mut client, None).await, Err(Code::Unauthenticated));
    assert_eq!(
        check(&mut client, Some("not-a-token")).await,
        Err(Code::Unauthenticated)
    );
    assert_eq!(
        check(&mut client, Some(&expired)).await,
        Err(Code::Unauthenticated)
    );
    assert_eq!(
        check(&mut client, Some(&id)).await,
        Err(Code::Unauthenticated)
    );
    assert_eq!(
        check(&mut client, Some(&no_scope)).await,
        Err(Code::PermissionDenied)
    );

    // The rest of the service: identity token.
    assert_eq!(watch(&mut client, Some(&id)).await, Ok(()));
    assert_eq!(watch(&mut client, None).await, Err(Code::Unauthenticated));
    assert_eq!(
        watch(&mut client, Some(&access)).await,
        Err(Code::Unauthenticated)
    );
}

#[tokio::test]
async fn unlisted_grpc_services_are_denied() {
    let issuer = TestIssuer::new(POOL);
    // Only another service is listed: the health service is unlisted.
    let auth = CognitoAuthLayer::builder()
        .user_pool(POOL)
        .jwks(POOL, issuer.jwks())
        .grpc_service("example.v1.Pets", RoutePolicy::public())
        .build()
        .expect("layer");
    let addr = serve(auth).await;
    let mut client = client(addr).await;
    let id = issuer.id_token().sign();
    // As a gRPC server answers a method it does not have; a valid token or
    // none makes no difference.
    assert_eq!(
        check(&mut client, Some(&id)).await,
        Err(Code::Unimplemented)
    );
    assert_eq!(check(&mut client, None).await, Err(Code::Unimplemented));
    let status = client
        .check(with_token(HealthCheckRequest::default(), Some(&id)))
        .await
        .unwrap_err();
    assert_eq!(status.message(), "Missing Authentication Token");

    // A public method needs no token.
    let auth = CognitoAuthLayer::builder()
        .user_pool(POOL)
        .grpc_method("/grpc.health.v1.Health/Check", RoutePolicy::public())
        .build()
        .expect("layer");
    let addr = serve(auth).await;
    let mut client = self::client(addr).await;
    assert_eq!(check(&mut client, None).await, Ok(()));
    assert_eq!(
        watch(&mut client, Some(&id)).await,
        Err(Code::Unimplemented)
    );
}

/// gRPC replies (HTTP 200, 16 or 7) go only to HTTP/2 requests whose content
/// type is gRPC's: `application/grpc`, `+subtype` or `;parameters`. Any other
/// request, HTTP/1.1 or a look-alike content type, gets API Gateway's JSON, so
/// a REST client cannot learn a scope failure from a bad token. Over a real
/// tonic server that also accepts HTTP/1.1, with reqwest as the client.
#[tokio::test]
async fn grpc_replies_only_for_http2_requests_with_grpc_content_types() {
    let issuer = TestIssuer::new(POOL);
    let auth = CognitoAuthLayer::builder()
        .user_pool(POOL)
        .jwks(POOL, issuer.jwks())
        .grpc_service(
            "grpc.health.v1.Health",
            RoutePolicy::scopes([CHECK]).unwrap(),
        )
        .build()
        .expect("layer");
    let (_reporter, health) = tonic_health::server::health_reporter();
    let incoming = TcpIncoming::bind("127.0.0.1:0".parse().unwrap()).expect("bind");
    let addr = incoming.local_addr().expect("addr");
    tokio::spawn(
        Server::builder()
            .accept_http1(true)
            .layer(auth)
            .add_service(health)
            .serve_with_incoming(incoming),
    );
    let url = format!("http://{addr}/grpc.health.v1.Health/Check");
    let h1 = reqwest::Client::builder()
        .no_proxy()
        .http1_only()
        .build()
        .unwrap();
    let h2 = reqwest::Client::builder()
        .no_proxy()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let no_scope = issuer.access_token().sign();
    let send = |client: &reqwest::Client, content_type: &str, token: Option<&str>| {
        let mut req = client
            .post(&url)
            .header("content-type", content_type)
            .body(Vec::new());
        if let Some(t) = token {
            req = req.header("authorization", t);
        }
        async move {
            let res = req.send().await.expect("send");
            let version = res.version();
            let status = res.status().as_u16();
            let headers = res.headers().clone();
            let body = res.text().await.expect("body");
            (version, status, headers, body)
        }
    };
    let json = |out: &(reqwest::Version, u16, http::HeaderMap, String), what: &str| {
        assert_eq!(out.1, 401, "{what}: {out:?}");
        assert_eq!(out.3, r#"{"message":"Unauthorized"}"#, "{what}");
        assert_eq!(out.2["content-type"], "application/json", "{what}");
        assert_eq!(out.2["x-amzn-errortype"], "UnauthorizedException", "{what}");
        assert!(out.2.get("grpc-status").is_none(), "{what}");
    };
    let grpc = |out: &(reqwest::Version, u16, http::HeaderMap, String), code: &str, what: &str| {
        assert_eq!(out.0, reqwest::Version::HTTP_2, "{what}");
        assert_eq!(out.1, 200, "{what}: {out:?}");
        assert_eq!(out.2["grpc-status"], code, "{what}");
        assert_eq!(out.2["content-type"], "application/grpc", "{what}");
    };

    // HTTP/1.1: JSON whatever the content type, a scope failure included.
    for content_type in [
        "application/grpcXYZ",
        "application/grpc",
        "application/grpc+proto",
    ] {
        for token in [None, Some(no_scope.as_str())] {
            let out = send(&h1, content_type, token).await;
            assert_eq!(out.0, reqwest::Version::HTTP_11);
            json(
                &out,
                &format!("HTTP/1.1 {content_type} {}", token.is_some()),
            );
        }
    }
    // HTTP/2 with a content type that only starts like gRPC's: JSON.
    for content_type in [
        "application/grpcXYZ",
        "application/grpc-web",
        "application/grpc-web+proto",
        "application/json",
        "Application/gRPC",
    ] {
        for token in [None, Some(no_scope.as_str())] {
            let out = send(&h2, content_type, token).await;
            assert_eq!(out.0, reqwest::Version::HTTP_2);
            json(&out, &format!("HTTP/2 {content_type} {}", token.is_some()));
        }
    }
    // HTTP/2 with gRPC's content type: gRPC replies.
    for content_type in [
        "application/grpc",
        "application/grpc+proto",
        "application/grpc;charset=utf-8",
    ] {
        grpc(&send(&h2, content_type, None).await, "16", content_type);
        grpc(
            &send(&h2, content_type, Some(&no_scope)).await,
            "7",
            content_type,
        );
    }
}
