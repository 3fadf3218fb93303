//! HTTP/2 both ways through the `cognito-gateway` process: clients speaking
//! HTTP/2 (prior knowledge, h2c) to the gateway, and an `http_proxy`
//! integration to a backend that speaks only HTTP/2 over TLS (Node's `http2`
//! module in its own process, `tests/backend/h2.js`), reached with ALPN and
//! trusted through `SSL_CERT_FILE`.

mod support;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use http::{StatusCode, Version};
use serde_json::{json, Value};
use support::backend::Backend;
use support::process::Gateway;
use tower_cognito::testing::TestIssuer;

const POOL: &str = "us-east-1_Http2Pool1";

fn export() -> String {
    let mock = json!({"type": "mock", "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
        "responses": {"default": {"statusCode": "200", "responseTemplates": {"application/json": "{\"mock\":true}"}}}});
    json!({
        "openapi": "3.0.1",
        "info": {"title": "Http2", "version": "1"},
        "paths": {
            "/mock": {"get": {"x-amazon-apigateway-integration": mock}},
            "/private": {"get": {"security": [{"Pool": []}], "x-amazon-apigateway-integration": mock}},
            "/h2/{id}": {"post": {"security": [{"Pool": []}], "x-amazon-apigateway-integration": {
                "type": "http_proxy", "httpMethod": "POST",
                "uri": "https://127.0.0.1:${stageVariables.h2port}/back/{id}",
                "requestParameters": {
                    "integration.request.path.id": "method.request.path.id",
                    "integration.request.header.X-User-Sub": "context.authorizer.claims.sub"
                }}}}
        },
        "components": {"securitySchemes": {"Pool": {
            "type": "apiKey", "name": "Authorization", "in": "header",
            "x-amazon-apigateway-authtype": "cognito_user_pools",
            "x-amazon-apigateway-authorizer": {"type": "cognito_user_pools",
                "providerARNs": [format!("arn:aws:cognito-idp:us-east-1:123456789012:userpool/{POOL}")]}
        }}}
    })
    .to_string()
}

/// A CA and a certificate for `127.0.0.1` signed by it, as PEM files.
struct Certs {
    dir: PathBuf,
}

impl Certs {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "gateway-http2-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "gateway test CA");
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
            .unwrap()
            .signed_by(&key, &issuer)
            .unwrap();
        std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
        std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
        std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
        std::fs::write(dir.join("export.json"), export()).unwrap();
        Self { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

impl Drop for Certs {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

struct Setup {
    _certs: Certs,
    _backend: Backend,
    _keys: tower_cognito::testing::JwksServer,
    gateway: Gateway,
    issuer: TestIssuer,
}

async fn setup() -> Setup {
    let issuer = TestIssuer::new(POOL);
    let keys = issuer.serve_jwks().await.unwrap();
    let certs = Certs::new();
    let (cert, key) = (certs.path("cert.pem"), certs.path("key.pem"));
    let backend = tokio::task::spawn_blocking(move || Backend::start_h2(&cert, &key))
        .await
        .unwrap();
    let gateway = start_gateway(&certs, &certs, backend.port, &keys).await;
    Setup {
        _certs: certs,
        _backend: backend,
        _keys: keys,
        gateway,
        issuer,
    }
}

/// The gateway on `certs`' export, to the backend on `h2_port`, trusting
/// `trusted`'s CA (through `SSL_CERT_FILE`).
async fn start_gateway(
    certs: &Certs,
    trusted: &Certs,
    h2_port: u16,
    keys: &tower_cognito::testing::JwksServer,
) -> Gateway {
    let args = [
        "--openapi".to_owned(),
        certs.path("export.json").display().to_string(),
        "--stage-variable".to_owned(),
        format!("h2port={h2_port}"),
        "--jwks-endpoint".to_owned(),
        keys.base_url().to_owned(),
    ];
    let ca = trusted.path("ca.pem").display().to_string();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Gateway::start_with(&[("SSL_CERT_FILE", ca.as_str())], &args)
    })
    .await
    .unwrap()
}

fn h2_client() -> reqwest::Client {
    reqwest::Client::builder()
        .http2_prior_knowledge()
        .no_proxy()
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .unwrap()
}

#[tokio::test]
async fn clients_speaking_http2_get_the_same_answers() {
    let s = setup().await;
    let client = h2_client();
    let reply = client.get(s.gateway.url("/mock")).send().await.unwrap();
    assert_eq!(reply.version(), Version::HTTP_2);
    assert_eq!(reply.status(), StatusCode::OK);
    assert!(reply.headers().contains_key("x-amzn-requestid"));
    assert_eq!(reply.text().await.unwrap(), r#"{"mock":true}"#);

    // The authorizer over HTTP/2: no token, then a token.
    let reply = client.get(s.gateway.url("/private")).send().await.unwrap();
    assert_eq!(reply.version(), Version::HTTP_2);
    assert_eq!(reply.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(reply.text().await.unwrap(), r#"{"message":"Unauthorized"}"#);
    let token = s.issuer.id_token().sign();
    let reply = client
        .get(s.gateway.url("/private"))
        .header("authorization", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::OK);

    // Unknown routes: API Gateway's 403, over HTTP/2 too.
    let reply = client.get(s.gateway.url("/nowhere")).send().await.unwrap();
    assert_eq!(reply.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        reply.headers()["x-amzn-errortype"],
        "MissingAuthenticationTokenException"
    );
}

async fn through_gateway(s: &Setup, client: &reqwest::Client) -> (StatusCode, Value) {
    let token = s.issuer.id_token().claim("sub", "h2-user").sign();
    let reply = client
        .post(s.gateway.url("/h2/7?x=1"))
        .header("authorization", &token)
        .header("te", "trailers")
        .body("hello over h2")
        .send()
        .await
        .unwrap();
    let status = reply.status();
    assert_eq!(
        reply.headers()["x-backend"],
        "h2",
        "not the h2 backend's answer"
    );
    let body = reply.text().await.unwrap();
    let value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    (status, value)
}

#[tokio::test]
async fn an_http2_only_backend_over_tls_gets_what_api_gateway_sends() {
    let s = setup().await;
    for client in [support::loopback::client(), h2_client()] {
        let (status, seen) = through_gateway(&s, &client).await;
        assert_eq!(status, StatusCode::OK, "{seen}");
        assert_eq!(seen["version"], "2", "{seen}");
        assert_eq!(seen["method"], "POST");
        assert_eq!(seen["path"], "/back/7?x=1");
        assert_eq!(
            seen["authority"],
            format!("127.0.0.1:{}", s._backend.port),
            "{seen}"
        );
        assert_eq!(seen["body"], "hello over h2");
        let headers = &seen["headers"];
        assert_eq!(headers["x-user-sub"], "h2-user", "{seen}");
        assert!(headers.get("x-amzn-apigateway-api-id").is_some(), "{seen}");
        assert!(headers.get("x-amzn-trace-id").is_some(), "{seen}");
        // Dropped on the way to the backend, as API Gateway drops it.
        assert!(headers.get("te").is_none(), "{seen}");
    }
}

#[tokio::test]
async fn an_untrusted_backend_certificate_is_a_network_error_never_a_pass() {
    let issuer = TestIssuer::new(POOL);
    let keys = issuer.serve_jwks().await.unwrap();
    let certs = Certs::new();
    let (cert, key) = (certs.path("cert.pem"), certs.path("key.pem"));
    let backend = tokio::task::spawn_blocking(move || Backend::start_h2(&cert, &key))
        .await
        .unwrap();
    // Trusting another CA's file: the backend's certificate does not verify.
    let other = Certs::new();
    let gateway = start_gateway(&certs, &other, backend.port, &keys).await;
    let reply = support::loopback::client()
        .post(gateway.url("/h2/7"))
        .header("authorization", issuer.id_token().sign())
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(
        reply.text().await.unwrap(),
        r#"{"message": "Network error communicating with endpoint"}"#
    );
}
