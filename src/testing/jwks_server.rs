//! A loopback HTTP server publishing [`TestIssuer`] keys as Cognito does.
//!
//! hyper (HTTP/1.1 only) rather than a hand-written responder: keep-alive,
//! `HEAD` and malformed requests are handled correctly for free, and hyper is
//! already compiled for reqwest, so the feature adds no crate to the tree.

use super::TestIssuer;
use bytes::Bytes;
use http::{header, Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// What every connection reads: the documents by pool ID, counters and the
/// answer delay.
#[derive(Default)]
struct Shared {
    documents: RwLock<HashMap<String, Bytes>>,
    hits: AtomicU64,
    requests: AtomicU64,
    /// Nanoseconds each answer waits before the documents are read.
    delay_nanos: AtomicU64,
}

impl Shared {
    fn publish(&self, issuers: &[&TestIssuer]) {
        let mut by_pool: HashMap<&str, Vec<&TestIssuer>> = HashMap::new();
        for issuer in issuers {
            by_pool.entry(issuer.pool_id()).or_default().push(issuer);
        }
        let documents = by_pool
            .into_iter()
            .map(|(pool, keys)| (pool.to_owned(), Bytes::from(TestIssuer::jwks_of(&keys))))
            .collect();
        *self.documents.write().unwrap_or_else(|e| e.into_inner()) = documents;
    }

    fn answer(&self, req: &Request<Incoming>) -> Response<Full<Bytes>> {
        let reply = |status: StatusCode, body: Bytes| {
            let mut res = Response::new(Full::new(body));
            *res.status_mut() = status;
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("application/json"),
            );
            res
        };
        if req.method() != Method::GET && req.method() != Method::HEAD {
            return reply(
                StatusCode::METHOD_NOT_ALLOWED,
                Bytes::from_static(br#"{"message":"Method Not Allowed"}"#),
            );
        }
        let document = req
            .uri()
            .path()
            .strip_prefix('/')
            .and_then(|p| p.strip_suffix("/.well-known/jwks.json"))
            .and_then(|pool| {
                self.documents
                    .read()
                    .unwrap_or_else(|e| e.into_inner())
                    .get(pool)
                    .cloned()
            });
        match document {
            Some(body) => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                reply(StatusCode::OK, body)
            }
            None => reply(
                StatusCode::NOT_FOUND,
                Bytes::from_static(br#"{"message":"Not Found"}"#),
            ),
        }
    }
}

/// A JWKS endpoint on loopback for tests and local development (feature
/// `testing`).
///
/// Serves each pool's keys at `{base_url}/{userPoolId}/.well-known/jwks.json`
/// (the path Cognito uses under `https://cognito-idp.{region}.amazonaws.com`),
/// `404` for anything else. Give [`base_url`](Self::base_url) to
/// [`CognitoAuthBuilder::jwks_endpoint`](crate::CognitoAuthBuilder::jwks_endpoint);
/// tokens keep the issuer their [`TestIssuer`] gives them. Several issuers of
/// one pool are published together (key rotation), and
/// [`publish`](Self::publish) replaces the keys while serving.
///
/// The server runs on the Tokio runtime it was started on and stops, closing
/// its connections, when dropped.
///
/// ```
/// use tower_cognito::testing::{JwksServer, TestIssuer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let customers = TestIssuer::new("us-east-1_CuStOmEr1");
/// let staff = TestIssuer::new("eu-west-1_StAfF2");
/// let server = JwksServer::start(&[&customers, &staff]).await?;
/// assert_eq!(
///     server.jwks_url("eu-west-1_StAfF2"),
///     format!("{}/eu-west-1_StAfF2/.well-known/jwks.json", server.base_url())
/// );
/// # Ok(())
/// # }
/// ```
pub struct JwksServer {
    addr: SocketAddr,
    base_url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl fmt::Debug for JwksServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwksServer")
            .field("base_url", &self.base_url)
            .field("hits", &self.hits())
            .finish_non_exhaustive()
    }
}

impl JwksServer {
    /// Publishes the issuers' keys on a free port of `127.0.0.1`.
    ///
    /// # Panics
    /// Outside a Tokio runtime.
    pub async fn start(issuers: &[&TestIssuer]) -> std::io::Result<Self> {
        Self::bind(SocketAddr::from(([127, 0, 0, 1], 0)), issuers).await
    }

    /// Publishes the issuers' keys on `addr` (port 0 for a free one).
    ///
    /// # Panics
    /// Outside a Tokio runtime.
    pub async fn bind(addr: SocketAddr, issuers: &[&TestIssuer]) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        shared.publish(issuers);
        let task = tokio::spawn(serve(listener, Arc::clone(&shared)));
        Ok(Self {
            addr,
            base_url: format!("http://{addr}"),
            shared,
            task,
        })
    }

    /// The address listened on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, for
    /// [`jwks_endpoint`](crate::CognitoAuthBuilder::jwks_endpoint).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The URL of one pool's key set.
    pub fn jwks_url(&self, pool_id: &str) -> String {
        format!("{}/{pool_id}/.well-known/jwks.json", self.base_url)
    }

    /// Replaces every published key set with these issuers' keys (pools not
    /// among them get `404`).
    pub fn publish(&self, issuers: &[&TestIssuer]) {
        self.shared.publish(issuers);
    }

    /// How many key sets were served so far.
    pub fn hits(&self) -> u64 {
        self.shared.hits.load(Ordering::Relaxed)
    }

    /// How many requests arrived so far, answered or not (a slow answer counts
    /// here as soon as its request is read, in [`hits`](Self::hits) once sent).
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// Makes every later answer wait `delay` before it reads the published
    /// documents, as a slow key endpoint would: a document published during
    /// the wait is the one served. `Duration::ZERO` (the default) answers at
    /// once.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_cognito::testing::TestIssuer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let issuer = TestIssuer::new("us-east-1_SlOw1");
    /// let server = issuer.serve_jwks().await?;
    /// server.set_delay(Duration::from_millis(50));
    /// let started = std::time::Instant::now();
    /// let client = reqwest::Client::builder().no_proxy().build().unwrap();
    /// let fetched = client.get(server.jwks_url("us-east-1_SlOw1")).send().await.unwrap();
    /// assert_eq!(fetched.status(), 200);
    /// assert!(started.elapsed() >= Duration::from_millis(50));
    /// assert_eq!((server.requests(), server.hits()), (1, 1));
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_delay(&self, delay: Duration) {
        let nanos = u64::try_from(delay.as_nanos()).unwrap_or(u64::MAX);
        self.shared.delay_nanos.store(nanos, Ordering::Relaxed);
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        // Dropping the task drops its JoinSet, which aborts every connection.
        self.task.abort();
    }
}

async fn serve(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors and the like: try again shortly.
                Err(_) => {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            // Reap finished connections so the set does not grow.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        let shared = Arc::clone(&shared);
        connections.spawn(async move {
            let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                let shared = Arc::clone(&shared);
                async move {
                    shared.requests.fetch_add(1, Ordering::Relaxed);
                    let delay = shared.delay_nanos.load(Ordering::Relaxed);
                    if delay > 0 {
                        tokio::time::sleep(Duration::from_nanos(delay)).await;
                    }
                    Ok::<_, Infallible>(shared.answer(&req))
                }
            });
            // A client that goes away mid-request is not our concern.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn serves_each_pools_keys_and_404_otherwise() {
        let a = TestIssuer::new("us-east-1_PoolA");
        let a2 = TestIssuer::new("us-east-1_PoolA");
        let b = TestIssuer::new("eu-west-1_PoolB");
        let server = JwksServer::start(&[&a, &a2, &b]).await.unwrap();
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let get = |url: String| {
            let client = client.clone();
            async move {
                let res = client.get(url).send().await.unwrap();
                (res.status().as_u16(), res.text().await.unwrap())
            }
        };

        let (status, body) = get(server.jwks_url("us-east-1_PoolA")).await;
        assert_eq!(status, 200);
        let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
        let mut kids: Vec<&str> = doc["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap())
            .collect();
        kids.sort_unstable();
        let mut want = vec![a.key_id(), a2.key_id()];
        want.sort_unstable();
        assert_eq!(kids, want);

        let (status, body) = get(server.jwks_url("eu-west-1_PoolB")).await;
        assert_eq!((status, body), (200, b.jwks()));
        assert_eq!(server.hits(), 2);

        let (status, _) = get(server.jwks_url("us-east-1_Other")).await;
        assert_eq!(status, 404);
        let (status, _) = get(format!("{}/us-east-1_PoolA", server.base_url())).await;
        assert_eq!(status, 404);
        assert_eq!(server.hits(), 2);

        // Rotation: the new set replaces the old one.
        server.publish(&[&a2]);
        let (_, body) = get(server.jwks_url("us-east-1_PoolA")).await;
        assert_eq!(body, a2.jwks());
        let (status, _) = get(server.jwks_url("eu-west-1_PoolB")).await;
        assert_eq!(status, 404);
    }

    #[tokio::test]
    async fn stops_when_dropped() {
        let issuer = TestIssuer::new("us-east-1_PoolA");
        let server = issuer.serve_jwks().await.unwrap();
        let url = server.jwks_url("us-east-1_PoolA");
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(std::time::Duration::from_secs(5))
            .build()
            .unwrap();
        assert_eq!(client.get(&url).send().await.unwrap().status(), 200);
        drop(server);
        tokio::task::yield_now().await;
        assert!(client.get(&url).send().await.is_err());
    }
}
