//! Policy and dispatch agree on the path: a policy table in front of real axum
//! routers, both where the layer can re-route (around the whole `Router`, so
//! it sees the request before routing) and where it cannot (`Router::layer`,
//! which runs after routing). Trailing slashes, `//`, nested routers, `HEAD` on
//! a GET-only route, percent-encoded unreserved characters and `%2F`, and the
//! path parameters handed to the service.

mod common;

use axum::body::Body;
use axum::extract::Request;
use axum::routing::{any, get};
use axum::{Extension, Router};
use common::*;
use http::{Method, StatusCode};
use http_body_util::BodyExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use tower::{Layer, ServiceExt};
use tower_cognito::testing::TestIssuer;
use tower_cognito::{
    AuthError, CognitoAuthLayer, MatchedRoute, PathParams, RejectionKind, RoutePolicy,
    UnlistedRoutes,
};

fn issuer() -> &'static TestIssuer {
    static ISSUER: OnceLock<TestIssuer> = OnceLock::new();
    ISSUER.get_or_init(|| TestIssuer::new(POOL))
}

fn id_token() -> String {
    issuer().id_token().sign()
}

fn scoped() -> RoutePolicy {
    RoutePolicy::scopes(["admin/all"]).expect("scopes")
}

/// A response: status, body, and the rejection kind if the layer refused.
#[derive(Debug)]
struct Reply {
    status: StatusCode,
    body: String,
    rejection: Option<RejectionKind>,
}

impl Reply {
    /// A handler answered (it names itself in the body).
    fn reached(&self, handler: &str) -> bool {
        self.status == StatusCode::OK && self.body == handler
    }
}

async fn send<S>(app: &S, method: Method, uri: &str, token: Option<&str>) -> Reply
where
    S: tower::Service<
            Request,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
        > + Clone,
{
    let mut req = http::Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header("authorization", t);
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    let status = res.status();
    let rejection = res.extensions().get::<AuthError>().map(AuthError::kind);
    let body = res.into_body().collect().await.expect("body").to_bytes();
    Reply {
        status,
        body: String::from_utf8_lossy(&body).into_owned(),
        rejection,
    }
}

/// A handler that answers its own name and counts its calls.
fn named(name: &'static str, calls: &Arc<AtomicUsize>) -> axum::routing::MethodRouter {
    let calls = Arc::clone(calls);
    any(move || {
        calls.fetch_add(1, Ordering::SeqCst);
        async move { name }
    })
}

/// Both placements of one router behind one layer: around the whole router
/// (the layer sees the request first) and with `Router::layer` (after routing).
fn placements(router: Router, auth: &CognitoAuthLayer) -> (Router, Router) {
    let around = Router::new().fallback_service(auth.layer(router.clone()));
    (around, router.layer(auth.clone()))
}

#[tokio::test]
async fn trailing_slash_never_runs_a_wider_handler_under_a_narrower_policy() {
    let auth = seeded(issuer())
        .route("GET", "/admin/status", RoutePolicy::public())
        .route("ANY", "/admin/{proxy+}", scoped())
        .build()
        .expect("layer");
    let calls = Arc::new(AtomicUsize::new(0));
    let router = Router::new()
        .route("/admin/status", named("status", &calls))
        .route("/admin/{*proxy}", named("proxy", &calls));
    let (around, after) = placements(router, &auth);

    // Around the router the layer passes the normalised path on, so axum runs
    // the handler of the route the policy was decided for.
    let r = send(&around, Method::GET, "/admin/status/?x=1", None).await;
    assert!(r.reached("status"), "{r:?}");
    let r = send(&around, Method::GET, "/admin/users/", None).await;
    assert!(!r.reached("proxy") && r.status != StatusCode::OK, "{r:?}");

    // After routing it cannot re-route: axum picked `/admin/{*proxy}` for the
    // raw path, and the policy of `/admin/status` must not let it run.
    let before = calls.load(Ordering::SeqCst);
    let r = send(&after, Method::GET, "/admin/status/", None).await;
    assert!(!r.reached("proxy") && r.status != StatusCode::OK, "{r:?}");
    assert_eq!(r.rejection, Some(RejectionKind::UnlistedRoute), "{r:?}");
    assert_eq!(calls.load(Ordering::SeqCst), before, "no handler ran");
    // Paths the table takes as they are still work after routing.
    let r = send(&after, Method::GET, "/admin/status", None).await;
    assert!(r.reached("status"), "{r:?}");
}

#[tokio::test]
async fn double_slash_and_trailing_slash_do_not_reach_a_protected_catch_all() {
    let auth = seeded(issuer())
        .route("GET", "/", RoutePolicy::public())
        .route("GET", "/health", RoutePolicy::public())
        .route("ANY", "/{proxy+}", RoutePolicy::identity_token())
        .build()
        .expect("layer");
    let calls = Arc::new(AtomicUsize::new(0));
    let router = Router::new()
        .route("/", named("root", &calls))
        .route("/health", named("health", &calls))
        .route("/{*path}", named("path", &calls));
    let (around, after) = placements(router, &auth);

    for app in [&around, &after] {
        for uri in ["//", "/health/", "///health"] {
            let r = send(app, Method::GET, uri, None).await;
            assert!(!r.reached("path"), "{uri}: {r:?}");
        }
        // The catch-all still answers with a token.
        let r = send(app, Method::GET, "/a//b", Some(&id_token())).await;
        assert!(r.reached("path"), "{r:?}");
        let r = send(app, Method::GET, "/a//b", None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");
    }
    // Around the router, `/health/` and `//` are the public resources they
    // are on API Gateway.
    assert!(send(&around, Method::GET, "/health/", None)
        .await
        .reached("health"));
    assert!(send(&around, Method::GET, "//", None).await.reached("root"));
}

#[tokio::test]
async fn nested_routers_agree_with_the_table() {
    let auth = seeded(issuer())
        .route("GET", "/api/status", RoutePolicy::public())
        .route("ANY", "/api/{proxy+}", RoutePolicy::identity_token())
        .build()
        .expect("layer");
    let calls = Arc::new(AtomicUsize::new(0));
    let api = Router::new()
        .route("/status", named("status", &calls))
        .route("/{*rest}", named("rest", &calls));
    let router = Router::new().nest("/api", api.clone());
    let (around, after) = placements(router, &auth);
    for app in [&around, &after] {
        let r = send(app, Method::GET, "/api/status/", None).await;
        assert!(!r.reached("rest"), "{r:?}");
        let r = send(app, Method::GET, "/api/%73tatus/x", None).await;
        assert!(!r.reached("rest"), "{r:?}");
        let r = send(app, Method::GET, "/api/other", Some(&id_token())).await;
        assert!(r.reached("rest"), "{r:?}");
    }
    assert!(send(&around, Method::GET, "/api/status/", None)
        .await
        .reached("status"));

    // The layer inside the nested router sees the path without its prefix.
    let inner = seeded(issuer())
        .route("GET", "/status", RoutePolicy::public())
        .route("ANY", "/{proxy+}", RoutePolicy::identity_token())
        .build()
        .expect("layer");
    let app = Router::new().nest("/api", api.layer(inner));
    let r = send(&app, Method::GET, "/api/status/", None).await;
    assert!(!r.reached("rest"), "{r:?}");
    assert!(send(&app, Method::GET, "/api/status", None)
        .await
        .reached("status"));
}

/// LocalStack's `test_proxy_routing_with_hardcoded_resource_sibling`
/// (recorded against AWS): `OPTIONS /test`, where `/test` has only `POST`, is
/// the sibling `/{proxy+}`'s. After routing, axum has picked `/test`'s own
/// handler, which must not run under the other route's policy.
#[tokio::test]
async fn a_method_the_resource_lacks_falls_back_to_a_greedy_route_before_routing_only() {
    let auth = seeded(issuer())
        .route("POST", "/test", scoped())
        .route("GET", "/admin", scoped())
        .route("OPTIONS", "/{proxy+}", RoutePolicy::public())
        .route("HEAD", "/{proxy+}", RoutePolicy::public())
        .build()
        .expect("layer");
    let route = |m: Method, p: &str| auth.route_for(&m, p).map(|r| r.as_str().to_owned());
    assert_eq!(
        route(Method::OPTIONS, "/test").as_deref(),
        Some("OPTIONS /{proxy+}")
    );
    assert_eq!(route(Method::GET, "/test"), None);
    // HEAD on a GET route: the stricter of GET's and the fallback's policy;
    // at the same strictness, the fallback (API Gateway's route).
    assert_eq!(route(Method::HEAD, "/admin").as_deref(), Some("GET /admin"));
    let same = seeded(issuer())
        .route("GET", "/r", RoutePolicy::identity_token())
        .route("ANY", "/{proxy+}", scoped())
        .build()
        .expect("layer");
    assert_eq!(
        same.route_for(&Method::HEAD, "/r")
            .map(MatchedRoute::as_str),
        Some("ANY /{proxy+}")
    );

    let calls = Arc::new(AtomicUsize::new(0));
    let router = Router::new()
        .route("/test", named("test", &calls))
        .route("/{*proxy}", named("proxy", &calls));
    let (around, after) = placements(router, &auth);
    let r = send(&after, Method::OPTIONS, "/test", None).await;
    assert_eq!(r.rejection, Some(RejectionKind::UnlistedRoute), "{r:?}");
    assert_eq!(calls.load(Ordering::SeqCst), 0, "no handler ran");
    // Around the router, the greedy route's policy is the request's.
    let r = send(&around, Method::OPTIONS, "/test", None).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let r = send(&around, Method::GET, "/test", None).await;
    assert_eq!(r.rejection, Some(RejectionKind::UnlistedRoute), "{r:?}");
}

#[tokio::test]
async fn head_on_a_get_only_route_gets_the_get_policy() {
    for unlisted in [UnlistedRoutes::Public, UnlistedRoutes::IdentityToken] {
        let auth = seeded(issuer())
            .route("GET", "/admin", scoped())
            .route("GET", "/open", RoutePolicy::public())
            .unlisted_routes(unlisted)
            .build()
            .expect("layer");
        let calls = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&calls);
        let router = Router::new()
            .route(
                "/admin",
                get(move || {
                    seen.fetch_add(1, Ordering::SeqCst);
                    async { "admin" }
                }),
            )
            .route("/open", get(|| async { "open" }));
        let (around, after) = placements(router, &auth);
        for app in [&around, &after] {
            // axum serves HEAD with the GET handler: it must get GET's policy.
            let r = send(app, Method::HEAD, "/admin", None).await;
            assert_ne!(r.status, StatusCode::OK, "{unlisted:?}: {r:?}");
            let r = send(app, Method::HEAD, "/admin", Some(&id_token())).await;
            assert_ne!(r.status, StatusCode::OK, "{unlisted:?}: {r:?}");
            assert_eq!(calls.load(Ordering::SeqCst), 0, "{unlisted:?}");
            // A public GET gives HEAD no less than the unlisted policy.
            let r = send(app, Method::HEAD, "/open", None).await;
            let want = match unlisted {
                UnlistedRoutes::Public => StatusCode::OK,
                _ => StatusCode::UNAUTHORIZED,
            };
            assert_eq!(r.status, want, "{unlisted:?}: {r:?}");
            let r = send(app, Method::HEAD, "/open", Some(&id_token())).await;
            assert_eq!(r.status, StatusCode::OK, "{unlisted:?}: {r:?}");
        }
        assert_eq!(
            auth.route_for(&Method::HEAD, "/admin")
                .map(MatchedRoute::as_str),
            Some("GET /admin"),
            "{unlisted:?}"
        );
    }
    // Denied unlisted routes stay denied for HEAD (API Gateway's answer).
    let auth = seeded(issuer())
        .route("GET", "/open", RoutePolicy::public())
        .build()
        .expect("layer");
    let app = Router::new()
        .route("/open", get(|| async { "open" }))
        .layer(auth);
    let r = send(&app, Method::HEAD, "/open", None).await;
    assert_eq!(r.rejection, Some(RejectionKind::UnlistedRoute), "{r:?}");
}

#[tokio::test]
async fn percent_encoded_unreserved_characters_match_their_resource() {
    let auth = seeded(issuer())
        .route("GET", "/admin", RoutePolicy::identity_token())
        .route("ANY", "/{proxy+}", RoutePolicy::public())
        .build()
        .expect("layer");
    let calls = Arc::new(AtomicUsize::new(0));
    let router = Router::new()
        .route("/admin", named("admin", &calls))
        .route("/{*path}", named("path", &calls));
    let (around, after) = placements(router, &auth);
    for app in [&around, &after] {
        for uri in [
            "/%61dmin",
            "/%61%64%6D%69%6E",
            "/%61%64%6d%69%6e/",
            "/adm%69n",
        ] {
            let r = send(app, Method::GET, uri, None).await;
            assert_ne!(r.status, StatusCode::OK, "{uri}: {r:?}");
        }
    }
    // Around the router the decoded path is passed on: the token opens the
    // resource the policy was decided for.
    let r = send(&around, Method::GET, "/%61dmin?q=%61", Some(&id_token())).await;
    assert!(r.reached("admin"), "{r:?}");
    assert_eq!(
        auth.route_for(&Method::GET, "/%61dmin")
            .map(MatchedRoute::as_str),
        Some("GET /admin")
    );
}

#[tokio::test]
async fn an_encoded_slash_stays_inside_its_segment() {
    let auth = seeded(issuer())
        .route("GET", "/files/{name}", RoutePolicy::public())
        .route("GET", "/files/{name}/secret", RoutePolicy::identity_token())
        .build()
        .expect("layer");
    for uri in ["/files/a%2Fsecret", "/files/a%2fsecret"] {
        assert_eq!(
            auth.route_for(&Method::GET, uri).map(MatchedRoute::as_str),
            Some("GET /files/{name}"),
            "{uri}"
        );
    }
    assert_eq!(auth.route_for(&Method::GET, "/files%2Fa"), None);
    let app = Router::new()
        .route(
            "/files/{name}",
            get(|params: Extension<PathParams>| async move {
                params.get("name").unwrap_or("-").to_owned()
            }),
        )
        .route("/files/{name}/secret", get(|| async { "secret" }));
    let app = Router::new().fallback_service(auth.layer(app));
    let r = send(&app, Method::GET, "/files/a%2fsecret", None).await;
    assert_eq!((r.status, r.body.as_str()), (StatusCode::OK, "a%2Fsecret"));
}

/// What a handler saw: the matched route and its parameters.
async fn params_of(req: Request) -> String {
    let route = req
        .extensions()
        .get::<MatchedRoute>()
        .map(|r| r.to_string());
    let params = req.extensions().get::<PathParams>().map(|p| {
        p.iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    });
    format!("{route:?} {params:?} {}", req.uri())
}

#[tokio::test]
async fn path_parameters_are_in_the_extensions() {
    let auth = seeded(issuer())
        .route("GET", "/pets/{petId}", RoutePolicy::public())
        .route(
            "GET",
            "/pets/{petId}/toys/{toyId}",
            RoutePolicy::identity_token(),
        )
        .route("ANY", "/files/{proxy+}", RoutePolicy::public())
        .route("GET", "/plain", RoutePolicy::public())
        .build()
        .expect("layer");
    let app = Router::new().fallback(params_of).layer(auth);
    let cases = [
        (
            "/pets/7",
            None,
            r#"Some("GET /pets/{petId}") Some("petId=7") /pets/7"#,
        ),
        (
            "/pets/%37/?a=b",
            None,
            r#"Some("GET /pets/{petId}") Some("petId=7") /pets/7?a=b"#,
        ),
        (
            "/files/a/b.txt",
            None,
            r#"Some("ANY /files/{proxy+}") Some("proxy=a/b.txt") /files/a/b.txt"#,
        ),
        (
            "/files/a//b%2F.txt",
            None,
            r#"Some("ANY /files/{proxy+}") Some("proxy=a//b%2F.txt") /files/a//b%2F.txt"#,
        ),
        ("/plain", None, r#"Some("GET /plain") Some("") /plain"#),
    ];
    for (uri, token, want) in cases {
        let r = send(&app, Method::GET, uri, token).await;
        assert_eq!((r.status, r.body.as_str()), (StatusCode::OK, want), "{uri}");
    }
    let token = id_token();
    let r = send(&app, Method::GET, "/pets/1/toys/x-9", Some(&token)).await;
    assert_eq!(
        r.body,
        r#"Some("GET /pets/{petId}/toys/{toyId}") Some("petId=1,toyId=x-9") /pets/1/toys/x-9"#
    );
}

#[tokio::test]
async fn one_lookup_gives_what_route_for_and_path_params_for_give() {
    let auth = seeded(issuer())
        .route("GET", "/pets", RoutePolicy::public())
        .route("GET", "/pets/{petId}", RoutePolicy::identity_token())
        .route("ANY", "/pets/{petId}/toys", RoutePolicy::public())
        .route("GET", "/files/{proxy+}", RoutePolicy::public())
        .route("HEAD", "/files/{proxy+}", RoutePolicy::public())
        .build()
        .expect("layer");
    let pairs = |p: &PathParams| -> Vec<(String, String)> {
        p.iter()
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect()
    };
    let mut matched = 0;
    for (method, path) in [
        (Method::GET, "/pets"),
        (Method::GET, "/pets/"),
        (Method::GET, "/pets/7"),
        (Method::DELETE, "/pets/7/toys"),
        (Method::GET, "/files/a/b.txt"),
        (Method::HEAD, "/files/a"),
        (Method::HEAD, "/pets/7"),
        (Method::POST, "/pets"),
        (Method::GET, "/cats/1"),
        (Method::GET, "/files%2Fa"),
    ] {
        let one = auth.route_and_params_for(&method, path);
        let two = auth
            .route_for(&method, path)
            .zip(auth.path_params_for(&method, path));
        assert_eq!(
            one.as_ref().map(|(r, p)| (r.as_str(), pairs(p))),
            two.as_ref().map(|(r, p)| (r.as_str(), pairs(p))),
            "{method} {path}"
        );
        matched += usize::from(one.is_some());
    }
    assert_eq!(matched, 6, "the cases cover both matches and misses");
}
