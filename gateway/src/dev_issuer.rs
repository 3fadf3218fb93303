//! The embedded dev issuer: one key per pool of the document, published on
//! loopback ([`tower_cognito::testing::JwksServer`]), and tokens minted with
//! them, so the gateway runs offline with keys fetched over HTTP as in a real
//! deployment. Its tokens are signed by keys that live as long as the process.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tower_cognito::openapi::OpenApiImport;
use tower_cognito::testing::{JwksServer, TestIssuer};
use tower_cognito::PolicySummary;

/// The embedded dev issuer: one key per pool of the document, published on
/// loopback, and tokens minted with them.
pub(crate) struct DevIssuer {
    /// By pool ID.
    issuers: Arc<BTreeMap<String, TestIssuer>>,
    pub(crate) server: Arc<JwksServer>,
}

/// Fake user the dev tokens describe.
const DEV_USERNAME: &str = "dev-user";
const DEV_SUB: &str = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
const DEV_GROUPS: [&str; 2] = ["developers", "pet-owners"];
const DEV_ROLE: &str = "developer";
/// Dev tokens' lifetime, Cognito's default.
pub(crate) const DEV_TOKEN_LIFETIME: i64 = 3600;

impl DevIssuer {
    /// Generates a key for every pool the layer will use (the document's, or
    /// `COGNITO_USER_POOL_ARNS`) and publishes them.
    pub(crate) async fn start(
        import: &OpenApiImport,
        pools: Option<&[String]>,
        issuer_endpoint: Option<&str>,
    ) -> Result<Self, String> {
        let given: Vec<String> = match pools {
            Some(pools) => pools.to_vec(),
            None => import
                .authorizers
                .iter()
                .flat_map(|a| a.provider_arns.iter().cloned())
                .collect(),
        };
        let mut issuers = BTreeMap::new();
        for pool in given {
            // `arn:aws:cognito-idp:{region}:{account}:userpool/{id}` or an ID.
            let id = pool
                .rsplit_once("userpool/")
                .map_or(pool.as_str(), |(_, id)| id)
                .to_owned();
            if issuers.contains_key(&id) {
                continue;
            }
            let region = id.split('_').next().unwrap_or_default();
            let base = issuer_endpoint
                .map(str::to_owned)
                .unwrap_or_else(|| format!("https://cognito-idp.{region}.amazonaws.com"));
            let issuer =
                TestIssuer::with_issuer(&id, format!("{}/{id}", base.trim_end_matches('/')))
                    .client_id("devclient0123456789abcdefgh");
            issuers.insert(id, issuer);
        }
        let all: Vec<&TestIssuer> = issuers.values().collect();
        let server = JwksServer::start(&all)
            .await
            .map_err(|e| format!("dev issuer: cannot listen on 127.0.0.1: {e}"))?;
        Ok(Self {
            issuers: Arc::new(issuers),
            server: Arc::new(server),
        })
    }

    /// Every pool of the layer must be one of ours, with the same issuer.
    pub(crate) fn check(&self, summary: &PolicySummary) -> Result<(), String> {
        for pool in summary.authorizers.iter().flat_map(|a| &a.pools) {
            match self.issuers.get(&pool.pool_id) {
                Some(issuer) if issuer.issuer() == pool.issuer => {}
                _ => {
                    return Err(format!(
                        "dev issuer: pool {} (iss {}) has no dev key",
                        pool.pool_id, pool.issuer
                    ))
                }
            }
        }
        Ok(())
    }

    /// Writes `count` distinct ID tokens of the first pool, one per line,
    /// living `lifetime` seconds (negative: already expired).
    pub(crate) fn write_tokens(
        &self,
        path: &Path,
        count: usize,
        lifetime: i64,
    ) -> Result<(), String> {
        let issuer = self
            .issuers
            .values()
            .next()
            .ok_or_else(|| "dev issuer: no pool".to_owned())?;
        let mut out = String::new();
        for i in 0..count {
            let token = issuer
                .id_token()
                .claim("sub", DEV_SUB)
                .claim("cognito:username", format!("{DEV_USERNAME}-{i}"))
                .expires_in(lifetime)
                .sign();
            out.push_str(&token);
            out.push('\n');
        }
        std::fs::write(path, out).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Publishes, every `every`, the signing keys plus one new extra key (the
    /// previous extra key leaves the set): key rotation traffic on the JWKS
    /// endpoint while the signing keys stay valid.
    pub(crate) fn rotate_keys(&self, every: Duration) {
        let server = Arc::clone(&self.server);
        let signing = Arc::clone(&self.issuers);
        tokio::spawn(async move {
            let mut round = 0u64;
            loop {
                tokio::time::sleep(every).await;
                round += 1;
                let pools = Arc::clone(&signing);
                // Key generation takes a while: off the request threads.
                let extras = tokio::task::spawn_blocking(move || {
                    pools
                        .values()
                        .map(|i| {
                            TestIssuer::with_issuer(i.pool_id(), i.issuer())
                                .kid(format!("rotating-{round}"))
                        })
                        .collect::<Vec<_>>()
                })
                .await;
                let Ok(extras) = extras else { return };
                let keys: Vec<&TestIssuer> = signing.values().chain(extras.iter()).collect();
                server.publish(&keys);
            }
        });
    }

    fn id_token(&self, issuer: &TestIssuer) -> String {
        issuer
            .id_token()
            .claim("sub", DEV_SUB)
            .claim("cognito:username", DEV_USERNAME)
            .claim("email", format!("{DEV_USERNAME}@example.com"))
            .claim("custom:role", DEV_ROLE)
            .groups(DEV_GROUPS)
            .expires_in(DEV_TOKEN_LIFETIME)
            .sign()
    }

    fn access_token(&self, issuer: &TestIssuer, scopes: &[&str]) -> String {
        issuer
            .access_token()
            .claim("sub", DEV_SUB)
            .claim("username", DEV_USERNAME)
            .groups(DEV_GROUPS)
            .scopes(scopes)
            .expires_in(DEV_TOKEN_LIFETIME)
            .sign()
    }

    /// Prints shell variables holding dev tokens and, for each protected
    /// route, a `curl` line that passes and one that fails for the route's
    /// reason.
    ///
    /// This is the one place tokens are printed, on purpose: they are signed
    /// by a key generated for this process, valid nowhere else.
    pub(crate) fn print_curl_lines(&self, summary: &PolicySummary, addr: SocketAddr) {
        // Per pool: an ID token, an access token with every scope the pool's
        // routes ask for, and an access token with none of them (Cognito's
        // `aws.cognito.signin.user.admin` only).
        let mut variables: Vec<(String, String, String)> = Vec::new();
        let mut names: BTreeMap<(String, &str), String> = BTreeMap::new();
        for (n, (pool_id, issuer)) in self.issuers.iter().enumerate() {
            let suffix = if n == 0 {
                String::new()
            } else {
                format!("_{}", n + 1)
            };
            let mut scopes: Vec<&str> = Vec::new();
            for route in &summary.routes {
                let uses_pool = route
                    .policy
                    .authorizer_name()
                    .and_then(|name| summary.authorizers.iter().find(|a| a.name == name))
                    .is_some_and(|a| a.pools.iter().any(|p| &p.pool_id == pool_id));
                if uses_pool {
                    for scope in route.policy.required_scopes().unwrap_or_default() {
                        let scope: &str = scope;
                        if !scopes.contains(&scope) {
                            scopes.push(scope);
                        }
                    }
                }
            }
            let tokens = [
                (
                    "id",
                    format!("ID_TOKEN{suffix}"),
                    self.id_token(issuer),
                    format!("ID token of {pool_id}"),
                ),
                (
                    "access",
                    format!("ACCESS_TOKEN{suffix}"),
                    self.access_token(issuer, &scopes),
                    format!("access token of {pool_id}, scope: {}", scopes.join(" ")),
                ),
                (
                    "no-scope",
                    format!("NO_SCOPE_TOKEN{suffix}"),
                    self.access_token(issuer, &["aws.cognito.signin.user.admin"]),
                    format!("access token of {pool_id} without the routes' scopes"),
                ),
            ];
            for (kind, name, token, what) in tokens {
                names.insert((pool_id.clone(), kind), name.clone());
                variables.push((name, token, what));
            }
        }

        println!();
        println!(
            "Dev tokens (user {DEV_USERNAME}, groups {}, custom:role {DEV_ROLE}; valid {} min, \
             for this run only). Paste these lines into a shell:",
            DEV_GROUPS.join(","),
            DEV_TOKEN_LIFETIME / 60
        );
        println!();
        for (name, token, what) in &variables {
            println!("# {what}");
            println!("{name}='{token}'");
        }
        for route in &summary.routes {
            let policy = &route.policy;
            if policy.is_public() || policy.is_deny() {
                let method = curl_method(route.route.method());
                println!();
                println!("# {}: {policy}", route.route);
                let expect = if policy.is_public() { "200" } else { "401" };
                println!(
                    "curl -i{method} http://{addr}{}  # expect {expect}",
                    example_path(route.route.template())
                );
                continue;
            }
            let Some(authorizer) = policy
                .authorizer_name()
                .and_then(|name| summary.authorizers.iter().find(|a| a.name == name))
            else {
                continue;
            };
            let Some(pool) = authorizer.pools.first() else {
                continue;
            };
            let var_of = |kind: &str| names.get(&(pool.pool_id.clone(), kind)).cloned();
            let (pass, fail, reason) = match policy.required_scopes() {
                Some(_) => (var_of("access"), var_of("no-scope"), "missing scope"),
                None => (
                    var_of("id"),
                    var_of("access"),
                    "access token on an identity route",
                ),
            };
            let (Some(pass), Some(fail)) = (pass, fail) else {
                continue;
            };
            let method = curl_method(route.route.method());
            let url = format!("http://{addr}{}", example_path(route.route.template()));
            let header = &authorizer.token_header;
            println!();
            println!("# {}: {policy}", route.route);
            println!("curl -i{method} -H \"{header}: Bearer ${pass}\" {url}  # expect 200");
            println!(
                "curl -i{method} -H \"{header}: Bearer ${fail}\" {url}  # expect 401 ({reason})"
            );
        }
        println!();
    }
}

/// ` -X METHOD` for curl, nothing for `GET` (and for `ANY`, which takes it).
fn curl_method(method: &str) -> String {
    match method {
        "GET" | "ANY" => String::new(),
        "HEAD" => " -I".to_owned(),
        other => format!(" -X {other}"),
    }
}

/// A concrete path for a template: `{petId}` → `1`, `{proxy+}` → `a/b.txt`.
fn example_path(template: &str) -> String {
    template
        .split('/')
        .map(|segment| match segment {
            s if s.starts_with('{') && s.ends_with("+}") => "a/b.txt",
            s if s.starts_with('{') && s.ends_with('}') => "1",
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}
