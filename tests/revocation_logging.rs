//! A Redis outage logs one warning and one recovery line, however many
//! retries. A test binary of its own: `tracing` caches per call site whether
//! anyone listens, and a test elsewhere in the binary hitting the same call
//! site with no subscriber would race this one.

#[path = "support/redis.rs"]
mod redis_server;

use redis_server::RedisServer;
use std::time::{Duration, Instant};
use tower_cognito::revocation::{OnOutage, RevocationList};

fn list(url: &str) -> RevocationList {
    RevocationList::builder()
        .redis(url)
        .reconcile_interval(Duration::from_millis(200))
        .command_timeout(Duration::from_millis(500))
        .on_outage(OnOutage::Serve)
        .build()
        .unwrap()
}

async fn within(what: &str, limit: Duration, cond: impl Fn() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[derive(Clone, Default)]
struct Buffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buffer {
    fn count(&self, text: &str) -> usize {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .matches(text)
            .count()
    }
}

/// One warning per outage, not one per retry; one line when it is over.
/// A current-thread runtime, so the sync task logs to this thread's subscriber.
#[tokio::test]
async fn an_outage_is_logged_once() {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let mut server = RedisServer::start();
    let list = list(&server.url());
    tokio::time::timeout(Duration::from_secs(10), list.loaded())
        .await
        .expect("loaded");
    for outage in 1..=2 {
        server.stop();
        within("stale", Duration::from_secs(3), || !list.status().fresh).await;
        // Long enough for several retries (100 ms doubling, at most 200 ms).
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(buffer.count("revocation store unreachable"), outage);
        server.restart();
        within("fresh again", Duration::from_secs(5), || {
            list.status().fresh
        })
        .await;
        assert_eq!(buffer.count("revocation store reachable again"), outage);
    }
}
