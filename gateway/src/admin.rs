//! The admin listener (`--admin-listen`, never the public one): `/metrics`
//! in Prometheus's text format, `/ready` and `/live`.
//!
//! `/metrics` renders the process-wide recorder installed by [`install_recorder`]
//! before the first layer is built: the library's `tower_cognito_*` metrics
//! and the gateway's `http_server_request_duration_seconds`. `/ready` asks
//! each [`ReadinessSource`] in turn; a new source (a revocation list, say) is
//! one more entry in the list given to [`router`].

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use http::{header, StatusCode};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde_json::{json, Value};

use crate::config::Deployment;

/// Histogram buckets in seconds: OpenTelemetry's advice for
/// `http.server.request.duration`, with finer steps below 5 ms where a
/// cached authorization and a mock integration answer.
const BUCKETS: [f64; 19] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75,
    1.0, 2.5, 5.0, 7.5, 10.0,
];

/// Installs the Prometheus recorder as the process's recorder and returns
/// the handle `/metrics` renders. Call it before building a layer: the
/// library registers its metrics then.
pub(crate) fn install_recorder() -> Result<PrometheusHandle, String> {
    let recorder = PrometheusBuilder::new()
        .set_buckets(&BUCKETS)
        .map_err(|e| format!("metrics: {e}"))?
        .build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).map_err(|e| format!("metrics: {e}"))?;
    // Without its own HTTP listener the exporter needs this to drain
    // histogram samples between scrapes.
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(5));
        loop {
            every.tick().await;
            upkeep.run_upkeep();
        }
    });
    Ok(handle)
}

/// One thing `/ready` waits for.
pub(crate) trait ReadinessSource: Send + Sync {
    /// The check's name in `/ready`'s body.
    fn name(&self) -> &'static str;
    /// `Ok` with details when ready, `Err` with what is missing otherwise.
    fn check(&self) -> Result<Value, Value>;
}

/// Every pool of the deployment in force has keys. A refresh that fails
/// keeps the last keys, so a pool once loaded stays ready.
pub(crate) struct KeysReady {
    pub(crate) current: Arc<ArcSwap<Deployment>>,
}

impl ReadinessSource for KeysReady {
    fn name(&self) -> &'static str {
        "keys"
    }

    fn check(&self) -> Result<Value, Value> {
        let status = self.current.load().layer.key_store().status();
        let missing: Vec<Value> = status
            .pools
            .iter()
            .filter(|p| p.keys == 0)
            .map(|p| json!({"pool": p.pool_id, "last_error": p.last_error}))
            .collect();
        if missing.is_empty() {
            Ok(json!({"pools": status.pools.len()}))
        } else {
            Err(json!({"missing_pools": missing}))
        }
    }
}

/// With `--redis`, the shared revocation list has been loaded once. While
/// Redis is away afterwards the replica still serves with the last list
/// (or, with `deny`, refuses tokens itself), so it stays ready; `fresh` says
/// whether the list is in step right now.
pub(crate) struct RevocationsReady {
    pub(crate) list: tower_cognito::revocation::RevocationList,
}

impl ReadinessSource for RevocationsReady {
    fn name(&self) -> &'static str {
        "revocations"
    }

    fn check(&self) -> Result<Value, Value> {
        let status = self.list.status();
        let details =
            json!({"loaded": status.loaded, "fresh": status.fresh, "entries": status.entries});
        if status.loaded {
            Ok(details)
        } else {
            Err(details)
        }
    }
}

#[derive(Clone)]
struct AdminState {
    metrics: PrometheusHandle,
    sources: Arc<[Box<dyn ReadinessSource>]>,
}

/// The admin routes.
pub(crate) fn router(metrics: PrometheusHandle, sources: Vec<Box<dyn ReadinessSource>>) -> Router {
    Router::new()
        .route("/metrics", get(render_metrics))
        .route("/ready", get(ready))
        .route("/live", get(live))
        .with_state(AdminState {
            metrics,
            sources: sources.into(),
        })
}

async fn render_metrics(State(state): State<AdminState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

/// 200 when every source is ready, 503 otherwise; the body names each check.
async fn ready(State(state): State<AdminState>) -> Response {
    let mut all = true;
    let checks: Vec<Value> = state
        .sources
        .iter()
        .map(|source| {
            let (ready, mut detail) = match source.check() {
                Ok(d) => (true, d),
                Err(d) => (false, d),
            };
            all &= ready;
            if let Some(map) = detail.as_object_mut() {
                map.insert("name".into(), source.name().into());
                map.insert("ready".into(), ready.into());
            }
            detail
        })
        .collect();
    let status = if all {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    json_response(status, json!({"ready": all, "checks": checks}))
}

/// 200 while the process serves.
async fn live() -> Response {
    json_response(StatusCode::OK, json!({"live": true}))
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// Serves the admin routes on `listener` until the process ends.
pub(crate) fn spawn(listener: tokio::net::TcpListener, app: Router) {
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            eprintln!("cognito-gateway: admin listener: {e}");
        }
    });
}
