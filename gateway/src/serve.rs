//! Startup and serving: settings, dev issuer, first deployment, listener,
//! CORS, graceful shutdown.

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use http::{HeaderName, HeaderValue, Method};
use tower::util::BoxCloneService;
use tower_cognito::revocation::{OnOutage, RevocationList};
use tower_cognito::PolicySummary;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::access_log::{self, AccessLogFormat};
use crate::admin;
use crate::cli::{OutageMode, ServeArgs};
use crate::config::{self, Document, Settings};
use crate::dev_issuer::{DevIssuer, DEV_TOKEN_LIFETIME};
use crate::ids::RequestIds;
use crate::observe::{self, Observer};
use crate::pipeline::Gateway;
use crate::reload::Reloader;
use crate::workers::{self, App, BodyTimeoutAnswer, Limits};

/// How long startup waits for the first key fetch.
const KEY_LOAD_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the gateway stopped: bad configuration (exit status 2) or a failure
/// while running (1).
#[derive(Debug)]
pub(crate) enum Failure {
    Config(String),
    Runtime(String),
}

/// Serves until Ctrl-C or SIGTERM.
pub(crate) async fn run(args: ServeArgs) -> Result<(), Failure> {
    let config = Failure::Config;
    let tracing_on = init_tracing();
    // Before any layer or revocation list is made: the library registers
    // its metrics then.
    let metrics = match args.admin_listen {
        Some(_) => Some(admin::install_recorder().map_err(Failure::Runtime)?),
        None => None,
    };
    let mut settings = Settings::from_args(&args).map_err(config)?;
    settings.revocations = revocation_list(&args)?;
    let given = settings.clone();
    let settings = settings.with_file_variables().map_err(config)?;
    let document = Document::load(&settings).map_err(config)?;
    let (dev_issuer, dev_issuer_reason) = match args.dev_issuer.as_deref() {
        Some("1") => (true, "GATEWAY_DEV_ISSUER=1"),
        Some("0") => (false, "GATEWAY_DEV_ISSUER=0"),
        _ => match document.dev_issuer_by_default(&settings) {
            Some(true) => (true, "every user pool is declared in the template"),
            Some(false) => (false, "TEMPLATE_FILE with deployed pools or COGNITO_* set"),
            None if settings.configured() => (false, "OPENAPI_FILE or COGNITO_* set"),
            None => (true, "no OPENAPI_FILE or COGNITO_* variable set"),
        },
    };
    document
        .check_declared_pools(&settings, dev_issuer)
        .map_err(config)?;
    if dev_issuer && settings.jwks_endpoint.is_some() {
        return Err(config(
            "the dev issuer serves its own keys: unset COGNITO_JWKS_ENDPOINT or GATEWAY_DEV_ISSUER"
                .into(),
        ));
    }
    let access_log = args
        .access_log_format
        .as_deref()
        .filter(|f| !f.is_empty())
        .map(AccessLogFormat::parse)
        .transpose()
        .map_err(|e| config(format!("GATEWAY_ACCESS_LOG_FORMAT: {e}")))?;
    if args.admin_listen == Some(args.listen) && args.listen.port() != 0 {
        return Err(config(format!(
            "GATEWAY_ADMIN_ADDR: the admin listener cannot be the public one ({})",
            args.listen
        )));
    }
    let dev = if dev_issuer {
        let dev = DevIssuer::start(
            &document.import,
            settings.pools.as_deref(),
            settings.issuer_endpoint.as_deref(),
        )
        .await
        .map_err(Failure::Runtime)?;
        Some(dev)
    } else {
        None
    };
    let dev_jwks = dev.as_ref().map(|d| d.server.base_url());
    let deployment = config::build(&settings, &document, dev_jwks, None).map_err(config)?;
    if let Some(dev) = &dev {
        dev.check(&deployment.summary).map_err(Failure::Runtime)?;
    }
    let summary = deployment.summary.clone();
    let key_store = deployment.layer.key_store().clone();

    let workers = args
        .workers
        .map_or_else(workers::default_workers, usize::from);
    let listeners = workers::bind(args.listen, workers)
        .map_err(|e| Failure::Runtime(format!("cannot listen on {}: {e}", args.listen)))?;
    let addr = listeners.addr;

    println!("OpenAPI document: {}", document.name);
    match &dev {
        Some(dev) => println!(
            "dev issuer: on ({dev_issuer_reason}); keys published at {}",
            dev.server.base_url()
        ),
        None => println!("dev issuer: off ({dev_issuer_reason})"),
    }
    println!("stage: {}", settings.stage);
    // Pools with issuers and JWKS URLs, then routes with their integration.
    let mut head = summary.clone();
    head.routes.clear();
    print!("{head}");
    for line in deployment.route_lines() {
        println!("{line}");
    }
    let current = Arc::new(ArcSwap::from_pointee(deployment));
    // Up before the keys, so `/ready` answers 503 while they load.
    if let (Some(admin_addr), Some(handle)) = (args.admin_listen, &metrics) {
        let listener = tokio::net::TcpListener::bind(admin_addr)
            .await
            .map_err(|e| Failure::Runtime(format!("cannot listen on {admin_addr}: {e}")))?;
        let bound = listener
            .local_addr()
            .map_err(|e| Failure::Runtime(e.to_string()))?;
        let mut sources: Vec<Box<dyn admin::ReadinessSource>> = vec![Box::new(admin::KeysReady {
            current: Arc::clone(&current),
        })];
        if let Some(list) = &settings.revocations {
            sources.push(Box::new(admin::RevocationsReady { list: list.clone() }));
        }
        admin::spawn(listener, admin::router(handle.clone(), sources));
        println!("admin: listening on http://{bound} (/metrics, /ready, /live)");
    }
    let log_on = access_log.is_some();
    if log_on {
        // Its writer thread, before the first request.
        access_log::start();
    }
    match &access_log {
        Some(_) => println!("access log: on (one line per request below)"),
        None => println!("access log: off (set GATEWAY_ACCESS_LOG_FORMAT to log each request)"),
    }
    match tokio::time::timeout(KEY_LOAD_TIMEOUT, key_store.load()).await {
        Ok(Ok(())) => println!("keys: loaded for every pool"),
        Ok(Err(e)) => {
            println!("keys: WARNING {e}; requests for those pools get 500 until a retry succeeds")
        }
        Err(_) => println!(
            "keys: WARNING not loaded within {KEY_LOAD_TIMEOUT:?}; requests get 500 until they are"
        ),
    }
    if let Some(list) = &settings.revocations {
        wait_for_revocations(list).await;
    }
    if !settings.auth {
        println!("authorizer: OFF (GATEWAY_AUTH=off)");
    }

    let dev = dev.map(Arc::new);
    let reloader = Arc::new(Reloader {
        settings: given,
        dev: dev.clone(),
        current: Arc::clone(&current),
    });
    let watch = args
        .watch
        .then(|| Duration::from_millis(args.watch_interval_ms.max(10)));
    match watch {
        Some(every) => {
            println!("reload: on SIGHUP, and when the files change (polled every {every:?})")
        }
        None => println!("reload: on SIGHUP"),
    }
    reloader.spawn(watch);
    let cors = match args.cors_origin.as_deref().filter(|o| !o.trim().is_empty()) {
        Some(origins) => {
            let layer = cors_layer(origins, &summary)?;
            println!("CORS: allowed origins {origins}");
            Some(layer)
        }
        None => {
            println!("CORS: off (set GATEWAY_CORS_ORIGIN to add CORS headers to every response)");
            None
        }
    };
    // Only when something takes what it observes: otherwise a request
    // costs nothing more.
    let observer = (metrics.is_some() || access_log.is_some() || tracing_on).then(|| {
        Arc::new(Observer::new(
            Arc::clone(&current),
            access_log,
            metrics.is_some(),
            settings.stage.clone(),
        ))
    });
    // The identifiers are made outermost when a layer answers or logs
    // before the gateway does (CORS preflights, the access log); without
    // such a layer the gateway makes and stamps them itself, and is served
    // alone.
    let outer_ids = cors.is_some() || observer.is_some();
    // No router: the gateway's own route table is the only one, and a
    // request goes through just the layers that are on.
    let gateway = Gateway::new(Arc::clone(&current));
    let app = if outer_ids {
        App::Layered(BoxCloneService::new(
            tower::ServiceBuilder::new()
                .layer(axum::middleware::from_fn(stamp_ids))
                // Outside CORS: preflights are timed and logged too.
                .option_layer(
                    observer.map(|o| axum::middleware::from_fn_with_state(o, observe::observe)),
                )
                // Outside the gateway, so it sees every rejection and answers
                // preflights (which carry no token) before the authorizer does.
                .option_layer(cors)
                // Innermost: a 408 for a stalled body is what the layers
                // above see and log.
                .service(BodyTimeoutAnswer(gateway)),
        ))
    } else {
        App::Gateway(gateway)
    };
    if let Some(dev) = &dev {
        dev.print_curl_lines(&summary, addr);
        if let Some(path) = &args.dev_tokens_file {
            dev.write_tokens(path, args.dev_tokens, DEV_TOKEN_LIFETIME)
                .map_err(Failure::Runtime)?;
            println!(
                "dev tokens: {} written to {}",
                args.dev_tokens,
                path.display()
            );
        }
        if let Some(path) = &args.dev_expired_tokens_file {
            dev.write_tokens(path, args.dev_tokens, -60)
                .map_err(Failure::Runtime)?;
            println!(
                "expired dev tokens: {} written to {}",
                args.dev_tokens,
                path.display()
            );
        }
        if let Some(every) = args.dev_rotate_secs.filter(|&s| s > 0) {
            let every = Duration::from_secs(every);
            dev.rotate_keys(every);
            println!("dev issuer: publishing a new extra key every {every:?}");
        }
    }
    println!(
        "serving threads: {} (one runtime each; set GATEWAY_WORKERS to change)",
        listeners.len()
    );
    let limits = limits(&args);
    println!(
        "connections: at most {} open (GATEWAY_MAX_CONNECTIONS); timeouts: header read {:?}, \
         idle {:?}, body read {:?}",
        limits.max_connections, limits.header_read, limits.idle, limits.body_read
    );
    println!("listening on http://{addr} (Ctrl-C to stop)");

    let served = workers::serve(listeners, app, limits, shutdown_signal()).await;
    if log_on {
        access_log::finish();
    }
    served.map_err(Failure::Runtime)?;
    println!("stopped");
    Ok(())
}

/// The connection limits of `args` (see `workers`).
fn limits(args: &ServeArgs) -> Limits {
    let ms = Duration::from_millis;
    Limits {
        header_read: ms(args.header_read_timeout_ms),
        idle: ms(args.idle_timeout_ms),
        body_read: ms(args.body_read_timeout_ms),
        max_connections: args
            .max_connections
            .map_or_else(workers::default_max_connections, |n| n as usize),
        http2_keep_alive_interval: (args.http2_keep_alive_interval_ms > 0)
            .then(|| ms(args.http2_keep_alive_interval_ms)),
        http2_keep_alive_timeout: ms(args.http2_keep_alive_timeout_ms),
        http2_max_concurrent_streams: args.http2_max_concurrent_streams,
    }
}

/// How long startup waits for the first load of the revocation list.
const REVOCATION_LOAD_TIMEOUT: Duration = Duration::from_secs(10);

/// The shared revocation list of `--redis`, its sync started.
fn revocation_list(args: &ServeArgs) -> Result<Option<RevocationList>, Failure> {
    let Some(url) = args.redis.as_deref().filter(|u| !u.trim().is_empty()) else {
        return Ok(None);
    };
    let on_outage = match args.revocation_outage {
        OutageMode::Serve => OnOutage::Serve,
        OutageMode::Deny => OnOutage::Deny,
    };
    RevocationList::builder()
        .redis(url.trim())
        .on_outage(on_outage)
        .reconcile_interval(Duration::from_millis(args.revocation_reconcile_ms.max(10)))
        .build()
        .map(Some)
        .map_err(|e| Failure::Config(format!("--redis / REDIS_URL: {e}")))
}

/// Loads the list before listening, so a token revoked before this replica
/// started is refused from its first request. Until it is loaded, every
/// token is refused (500).
async fn wait_for_revocations(list: &RevocationList) {
    let loaded = tokio::time::timeout(REVOCATION_LOAD_TIMEOUT, list.loaded())
        .await
        .is_ok();
    watch_revocations(list.clone(), loaded);
    if loaded {
        println!(
            "revocations: shared list loaded from Redis, {} entries",
            list.status().entries
        );
    } else {
        println!(
            "revocations: WARNING shared list not loaded within {REVOCATION_LOAD_TIMEOUT:?}; \
             every token gets 500 until it is"
        );
    }
}

/// Prints one line when the list goes stale (Redis unreachable) and one when
/// it is fresh again: once per outage, not once per retry.
fn watch_revocations(list: RevocationList, mut fresh: bool) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        loop {
            tick.tick().await;
            let now = list.status().fresh;
            if now != fresh {
                fresh = now;
                if now {
                    println!("revocations: Redis reachable again, list in step");
                } else {
                    println!(
                        "revocations: WARNING Redis unreachable or list stale; {}",
                        if list.on_outage() == OnOutage::Deny {
                            "refusing every token until it is fresh (deny)"
                        } else {
                            "serving with the last list loaded"
                        }
                    );
                }
            }
        }
    });
}

/// Tracing to standard error when `RUST_LOG` is set (`RUST_LOG=info`: one
/// line per request span as it closes, with its route, authorizer, outcome,
/// reason and verification time).
/// Returns whether it is on.
fn init_tracing() -> bool {
    if std::env::var_os("RUST_LOG").is_none_or(|v| v.is_empty()) {
        return false;
    }
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init()
        .is_ok()
}

/// `x-amzn-RequestId` and `x-amz-apigw-id`, made once per request and put in
/// its extensions for the pipeline (`$context.requestId`).
async fn stamp_ids(
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let ids = RequestIds::new();
    req.extensions_mut().insert(ids.clone());
    let mut res = next.run(req).await;
    ids.stamp(res.headers_mut());
    res
}

/// CORS for `origins` (`*` or a comma-separated list), allowing every
/// authorizer's token header and exposing `x-amzn-ErrorType` to scripts.
fn cors_layer(origins: &str, summary: &PolicySummary) -> Result<CorsLayer, Failure> {
    let allow_origin = if origins.trim() == "*" {
        AllowOrigin::any()
    } else {
        let list = origins
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(|o| {
                HeaderValue::from_str(o)
                    .map_err(|_| Failure::Config(format!("GATEWAY_CORS_ORIGIN: bad origin {o:?}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        AllowOrigin::list(list)
    };
    // `Access-Control-Allow-Headers: *` does not cover `Authorization`, so
    // name the headers.
    let mut headers = vec![http::header::AUTHORIZATION, http::header::CONTENT_TYPE];
    for authorizer in &summary.authorizers {
        if let Ok(name) = HeaderName::try_from(authorizer.token_header.as_str()) {
            if !headers.contains(&name) {
                headers.push(name);
            }
        }
    }
    Ok(CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_methods([
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers(headers)
        .expose_headers([
            HeaderName::from_static("x-amzn-errortype"),
            HeaderName::from_static("x-amzn-requestid"),
        ])
        .max_age(Duration::from_secs(600)))
}

/// Ctrl-C, or SIGTERM on Unix.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    println!("shutting down");
}
