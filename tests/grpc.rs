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
    assert_eq!(
        check(&mut client, Some(&id)).await,
        Err(Code::Unauthenticated)
    );

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
        Err(Code::Unauthenticated)
    );
}
