//! Revocation shared through a real `redis-server` by real gateway
//! processes: `cognito-gateway revoke` reaches every replica within 1 s, a
//! replica started later refuses from its first request, Redis stopped and
//! restarted with its data kept, `deny` refusing while Redis is away.

mod support;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http::StatusCode;
use support::loopback::{client, get};
use support::process::{command, run, Gateway};
use support::redis::RedisServer;
use tower_cognito::testing::{JwksServer, TestIssuer};

const POOL: &str = "us-east-1_RevokeTest";
const RECONCILE_MS: &str = "200";

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

struct Setup {
    issuer: TestIssuer,
    jwks: JwksServer,
}

impl Setup {
    async fn new() -> Self {
        let issuer = TestIssuer::new(POOL);
        let jwks = JwksServer::start(&[&issuer]).await.expect("JWKS server");
        Self { issuer, jwks }
    }

    async fn gateway(&self, redis_url: &str, outage: &str) -> Gateway {
        let vars: Vec<(String, String)> = vec![
            (
                "OPENAPI_FILE".into(),
                "gateway/tests/fixtures/petstore-echo.json".into(),
            ),
            ("COGNITO_USER_POOL_ARNS".into(), POOL.into()),
            (
                "COGNITO_JWKS_ENDPOINT".into(),
                self.jwks.base_url().to_owned(),
            ),
            ("GATEWAY_DEV_ISSUER".into(), "0".into()),
            ("REDIS_URL".into(), redis_url.into()),
            (
                "GATEWAY_REVOCATION_RECONCILE_MS".into(),
                RECONCILE_MS.into(),
            ),
            ("GATEWAY_REVOCATION_OUTAGE".into(), outage.into()),
        ];
        tokio::task::spawn_blocking(move || {
            let vars: Vec<(&str, &str)> =
                vars.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            Gateway::start(&vars)
        })
        .await
        .expect("start cognito-gateway")
    }

    fn token(&self, family: &str, sub: &str, auth_time: i64) -> String {
        self.issuer
            .id_token()
            .claim("origin_jti", family)
            .claim("sub", sub)
            .claim("auth_time", auth_time)
            .sign()
    }
}

async fn status(gateway: &Gateway, token: &str) -> StatusCode {
    get(&client(), &gateway.url("/pets/42"), Some(token))
        .await
        .status
}

/// `cognito-gateway revoke ARGS...`: exit code, stdout, stderr.
async fn revoke(args: &[&str]) -> (i32, String, String) {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let mut c = command();
        c.arg("revoke").args(&args);
        let out = run(c, None, Duration::from_secs(30));
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

/// Polls (bounded) until every gateway answers `want` for `token`; the time it took.
async fn until_all(
    gateways: &[&Gateway],
    token: &str,
    want: StatusCode,
    limit: Duration,
) -> Duration {
    let start = Instant::now();
    loop {
        let mut all = true;
        for g in gateways {
            all &= status(g, token).await == want;
        }
        if all {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < limit,
            "not every replica answered {want} within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cli_revocation_reaches_both_replicas_and_later_ones() {
    let redis = RedisServer::start();
    let setup = Setup::new().await;
    let a = setup.gateway(&redis.url(), "serve").await;
    let b = setup.gateway(&redis.url(), "serve").await;
    assert!(
        a.startup_text()
            .contains("revocations: shared list loaded from Redis, 0 entries"),
        "{}",
        a.startup_text()
    );
    let t = now();
    let revoked = setup.token("family-revoked", "user-1", t - 30);
    let other = setup.token("family-kept", "user-1", t - 30);
    for g in [&a, &b] {
        // Seen and cached before the revocation.
        assert_eq!(status(g, &revoked).await, StatusCode::OK);
        assert_eq!(status(g, &other).await, StatusCode::OK);
    }
    let (code, out, err) = revoke(&["--redis", &redis.url(), "--token", &revoked]).await;
    assert_eq!(code, 0, "{out}{err}");
    let exp = t + 3600;
    assert!(
        out.contains(&format!(
            "revoked token family family-revoked until {}",
            exp
        )) || out.contains(&format!("until {}", exp - 1))
            || out.contains(&format!("until {}", exp + 1)),
        "{out}"
    );
    assert!(
        !out.contains(&revoked) && !err.contains(&revoked),
        "the token is never printed"
    );
    let took = until_all(
        &[&a, &b],
        &revoked,
        StatusCode::UNAUTHORIZED,
        Duration::from_secs(1),
    )
    .await;
    println!("revocation seen by both replicas after {took:?}");
    let reply = get(&client(), &a.url("/pets/42"), Some(&revoked)).await;
    assert_eq!(reply.body, r#"{"message":"Unauthorized"}"#);
    assert_eq!(reply.header("x-amzn-errortype"), "UnauthorizedException");
    for g in [&a, &b] {
        assert_eq!(status(g, &other).await, StatusCode::OK);
    }

    // A replica started after the revocation refuses it from its first request.
    let c = setup.gateway(&redis.url(), "serve").await;
    assert!(
        c.startup_text()
            .contains("revocations: shared list loaded from Redis, 1 entries"),
        "{}",
        c.startup_text()
    );
    assert_eq!(status(&c, &revoked).await, StatusCode::UNAUTHORIZED);
    assert_eq!(status(&c, &other).await, StatusCode::OK);

    // --origin-jti with --until.
    let fam = setup.token("family-by-id", "user-2", t - 30);
    assert_eq!(status(&a, &fam).await, StatusCode::OK);
    let until = (t + 600).to_string();
    let (code, out, err) = revoke(&[
        "--redis",
        &redis.url(),
        "--origin-jti",
        "family-by-id",
        "--until",
        &until,
    ])
    .await;
    assert_eq!(code, 0, "{out}{err}");
    until_all(
        &[&a, &b, &c],
        &fam,
        StatusCode::UNAUTHORIZED,
        Duration::from_secs(1),
    )
    .await;

    // A user: every earlier sign-in refused, a new one accepted.
    let (code, out, err) =
        revoke(&["--redis", &redis.url(), "--pool", POOL, "--sub", "user-1"]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("user user-1 of pool us-east-1_RevokeTest"),
        "{out}"
    );
    until_all(
        &[&a, &b, &c],
        &other,
        StatusCode::UNAUTHORIZED,
        Duration::from_secs(1),
    )
    .await;
    let new_sign_in = setup.token("family-new", "user-1", now() + 2);
    for g in [&a, &b, &c] {
        assert_eq!(status(g, &new_sign_in).await, StatusCode::OK);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_exit_codes() {
    let mut redis = RedisServer::start();
    let url = redis.url();
    for args in [
        vec!["--redis", url.as_str()],
        vec!["--redis", url.as_str(), "--origin-jti", "f"],
        vec!["--redis", url.as_str(), "--sub", "s"],
        vec!["--redis", url.as_str(), "--token", "not-a-token"],
        vec![
            "--redis",
            url.as_str(),
            "--token",
            "a.b.c",
            "--pool",
            "p",
            "--sub",
            "s",
        ],
        vec![
            "--redis",
            "http://127.0.0.1:1",
            "--origin-jti",
            "f",
            "--until",
            "4102444800",
        ],
    ] {
        let (code, out, err) = revoke(&args).await;
        assert_eq!(code, 2, "{args:?}: {out}{err}");
    }
    // Already over: nothing written, still a success.
    let (code, out, _) = revoke(&["--redis", &url, "--origin-jti", "f", "--until", "1000"]).await;
    assert_eq!(code, 0);
    assert!(out.contains("nothing to revoke"), "{out}");
    redis.stop();
    let (code, out, err) = revoke(&[
        "--redis",
        &url,
        "--origin-jti",
        "f",
        "--until",
        "4102444800",
    ])
    .await;
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("Redis unreachable"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stopped_and_restarted_with_its_data() {
    let mut redis = RedisServer::start();
    let setup = Setup::new().await;
    let a = setup.gateway(&redis.url(), "serve").await;
    let b = setup.gateway(&redis.url(), "serve").await;
    let deny = setup.gateway(&redis.url(), "deny").await;
    let t = now();
    let before = setup.token("family-before", "u", t - 30);
    let after = setup.token("family-after", "u", t - 30);
    let good = setup.token("family-good", "u", t - 30);
    let (code, ..) = revoke(&["--redis", &redis.url(), "--token", &before]).await;
    assert_eq!(code, 0);
    until_all(
        &[&a, &b, &deny],
        &before,
        StatusCode::UNAUTHORIZED,
        Duration::from_secs(1),
    )
    .await;

    redis.stop();
    // Deny: every token refused while Redis is away (500, as for keys).
    until_all(
        &[&deny],
        &good,
        StatusCode::INTERNAL_SERVER_ERROR,
        Duration::from_secs(5),
    )
    .await;
    let reply = get(&client(), &deny.url("/pets/42"), Some(&good)).await;
    assert_eq!(reply.body, r#"{"message":null}"#);
    // Serve: the last list, no stall.
    for _ in 0..20 {
        for g in [&a, &b] {
            let start = Instant::now();
            assert_eq!(status(g, &good).await, StatusCode::OK);
            assert_eq!(status(g, &before).await, StatusCode::UNAUTHORIZED);
            assert!(
                start.elapsed() < Duration::from_millis(500),
                "a request stalled: {:?}",
                start.elapsed()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    redis.restart();
    let (code, out, err) = revoke(&["--redis", &redis.url(), "--token", &after]).await;
    assert_eq!(code, 0, "{out}{err}");
    until_all(
        &[&a, &b, &deny],
        &after,
        StatusCode::UNAUTHORIZED,
        Duration::from_secs(10),
    )
    .await;
    until_all(&[&deny], &good, StatusCode::OK, Duration::from_secs(10)).await;
    for g in [&a, &b, &deny] {
        assert_eq!(status(g, &before).await, StatusCode::UNAUTHORIZED);
        assert_eq!(status(g, &good).await, StatusCode::OK);
        let err = g.stderr_text();
        assert!(!err.contains("panicked"), "{err}");
    }
    // Once per outage: one warning line each, not one per retry.
    for g in [&a, &b, &deny] {
        g.wait_for_output("revocations: Redis reachable again", Duration::from_secs(5));
        assert_eq!(
            g.count_output("revocations: WARNING Redis unreachable"),
            1,
            "{}",
            g.stderr_text()
        );
        assert_eq!(g.count_output("revocations: Redis reachable again"), 1);
    }
    assert_eq!(
        deny.count_output("refusing every token until it is fresh (deny)"),
        1
    );
}

/// moto's `AdminUserGlobalSignOut` ends the user's refresh tokens (and its
/// own access-token table), but the JWTs it issued still verify offline; a
/// user revocation written after it refuses them, and a new sign-in passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_global_sign_out_then_a_user_revocation() {
    use support::loopback::bounded;
    use support::moto::{jwt_claims, mark_ran, MotoCognito};
    let Some(moto) = MotoCognito::require() else {
        return;
    };
    let redis = RedisServer::start();
    let name = format!("tower-cognito-revoke-{}-{}", std::process::id(), now());
    let fixture = bounded("moto fixture", moto.fixture(&name))
        .await
        .unwrap_or_else(|e| panic!("moto fixture: {e}"));
    let old = bounded("sign in", fixture.sign_in(&moto)).await.unwrap();
    let vars: Vec<(String, String)> = vec![
        (
            "OPENAPI_FILE".into(),
            "gateway/tests/fixtures/petstore-echo.json".into(),
        ),
        ("COGNITO_USER_POOL_ARNS".into(), fixture.pool.arn.clone()),
        ("COGNITO_JWKS_ENDPOINT".into(), moto.endpoint().to_owned()),
        ("REDIS_URL".into(), redis.url()),
        (
            "GATEWAY_REVOCATION_RECONCILE_MS".into(),
            RECONCILE_MS.into(),
        ),
    ];
    let gateway = tokio::task::spawn_blocking(move || {
        let vars: Vec<(&str, &str)> = vars.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        Gateway::start(&vars)
    })
    .await
    .unwrap();
    assert_eq!(status(&gateway, &old.id_token).await, StatusCode::OK);
    let claims = jwt_claims(&old.id_token).unwrap();
    let sub = claims["sub"].as_str().expect("sub").to_owned();
    let auth_time = claims["auth_time"].as_i64().expect("auth_time");
    // Sign out in a later second than the sign-in, as in real use.
    while now() <= auth_time {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let signed_out_at = now();
    bounded(
        "AdminUserGlobalSignOut",
        moto.call(
            "AdminUserGlobalSignOut",
            serde_json::json!({"UserPoolId": fixture.pool.id, "Username": support::moto::Fixture::USERNAME}),
        ),
    )
    .await
    .unwrap_or_else(|e| panic!("AdminUserGlobalSignOut: {e}"));
    // What moto does: the refresh token is dead...
    let refresh = old.refresh_token.clone().expect("a refresh token");
    assert!(
        bounded("refresh", moto.refresh(&fixture.client_id, &refresh))
            .await
            .is_err(),
        "moto refreshed a signed-out session"
    );
    // ...but the ID token still verifies: without a revocation it passes.
    assert_eq!(status(&gateway, &old.id_token).await, StatusCode::OK);

    let before = signed_out_at.to_string();
    let (code, out, err) = revoke(&[
        "--redis",
        &redis.url(),
        "--pool",
        &fixture.pool.id,
        "--sub",
        &sub,
        "--before",
        &before,
    ])
    .await;
    assert_eq!(code, 0, "{out}{err}");
    until_all(
        &[&gateway],
        &old.id_token,
        StatusCode::UNAUTHORIZED,
        Duration::from_secs(1),
    )
    .await;
    let new = bounded("sign in again", fixture.sign_in(&moto))
        .await
        .unwrap();
    assert!(
        jwt_claims(&new.id_token).unwrap()["auth_time"]
            .as_i64()
            .unwrap()
            >= signed_out_at
    );
    assert_eq!(status(&gateway, &new.id_token).await, StatusCode::OK);
    assert_eq!(
        status(&gateway, &old.id_token).await,
        StatusCode::UNAUTHORIZED
    );
    mark_ran("moto_global_sign_out_then_a_user_revocation");
}

/// A port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_waits_for_the_revocation_list_and_metrics_show_its_size() {
    let setup = Setup::new().await;
    let mut redis = tokio::task::spawn_blocking(RedisServer::start)
        .await
        .unwrap();
    let url = redis.url();
    redis.stop();
    let admin_port = closed_port();
    let admin = format!("http://127.0.0.1:{admin_port}");
    let mut vars: Vec<(String, String)> = vec![
        (
            "OPENAPI_FILE".into(),
            "gateway/tests/fixtures/petstore-echo.json".into(),
        ),
        ("COGNITO_USER_POOL_ARNS".into(), POOL.into()),
        (
            "COGNITO_JWKS_ENDPOINT".into(),
            setup.jwks.base_url().to_owned(),
        ),
        ("GATEWAY_DEV_ISSUER".into(), "0".into()),
        ("REDIS_URL".into(), url.clone()),
        (
            "GATEWAY_REVOCATION_RECONCILE_MS".into(),
            RECONCILE_MS.into(),
        ),
    ];
    vars.push((
        "GATEWAY_ADMIN_ADDR".into(),
        format!("127.0.0.1:{admin_port}"),
    ));
    // It listens only once the list is loaded (or after 10 s): started in
    // the background while /ready is watched.
    let starting = tokio::task::spawn_blocking(move || {
        let vars: Vec<(&str, &str)> = vars.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        Gateway::start(&vars)
    });
    let http = client();
    let deadline = Instant::now() + Duration::from_secs(30);
    let not_ready = loop {
        assert!(Instant::now() < deadline, "/ready never answered");
        if let Ok(res) = http.get(format!("{admin}/ready")).send().await {
            assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
            break res.json::<serde_json::Value>().await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let check = not_ready["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "revocations")
        .cloned()
        .unwrap_or_else(|| panic!("no revocations check: {not_ready}"));
    assert_eq!(check["ready"], false, "{not_ready}");
    assert_eq!(check["loaded"], false, "{not_ready}");

    // Redis comes up: the list loads and /ready turns 200.
    let mut redis = tokio::task::spawn_blocking(move || {
        redis.restart();
        redis
    })
    .await
    .unwrap();
    let ready = loop {
        assert!(Instant::now() < deadline, "/ready never turned 200");
        let res = http.get(format!("{admin}/ready")).send().await.unwrap();
        if res.status() == StatusCode::OK {
            break res.json::<serde_json::Value>().await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        ready["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "revocations" && c["loaded"] == true),
        "{ready}"
    );
    let gateway = starting.await.unwrap();

    // One revocation through the CLI: the gauge says so once it arrives.
    let mut revoke = command();
    revoke.args([
        "revoke",
        "--redis",
        &url,
        "--origin-jti",
        "fam-gauge",
        "--until",
    ]);
    revoke.arg((now() + 3600).to_string());
    let out = tokio::task::spawn_blocking(move || run(revoke, None, Duration::from_secs(30)))
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = get(&http, &gateway.admin_url("/metrics"), None).await.body;
        if text.lines().any(|l| l == "tower_cognito_revocations 1") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no revocations gauge at 1:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    redis.stop();
}
