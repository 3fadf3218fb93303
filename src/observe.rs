//! Metrics through the [`metrics`](https://docs.rs/metrics) facade (feature
//! `metrics`); without the feature every type here is empty and every call
//! compiles to nothing.
//!
//! Handles are registered once, when the layer is built, and kept: a request
//! then costs one counter increment (an atomic add under a recorder, a branch
//! without one), never a key lookup or an allocation. The recorder in force
//! when the layer is built is the one that counts.
//!
//! Labels come from configuration only (authorizer names, pool IDs, fixed
//! words): never from a token or a claim.

use crate::error::RejectionKind;

/// Metric names, one place for the docs, the gateway and the dashboard.
#[cfg(feature = "metrics")]
mod names {
    pub(super) const REQUESTS: &str = "tower_cognito_requests_total";
    pub(super) const JWKS_FETCHES: &str = "tower_cognito_jwks_fetches_total";
    pub(super) const JWKS_FETCH_DURATION: &str = "tower_cognito_jwks_fetch_duration_seconds";
    pub(super) const CACHE_HITS: &str = "tower_cognito_token_cache_hits_total";
    pub(super) const CACHE_MISSES: &str = "tower_cognito_token_cache_misses_total";
    pub(super) const CACHE_EVICTIONS: &str = "tower_cognito_token_cache_evictions_total";
    pub(super) const CACHE_ENTRIES: &str = "tower_cognito_token_cache_entries";
    pub(super) const KEYS: &str = "tower_cognito_keys";
    pub(super) const REVOCATIONS: &str = "tower_cognito_revocations";
}

/// The authorizer label of decisions taken before any authorizer looked at
/// the token (a route the policy denies, an unlisted route).
#[cfg(feature = "metrics")]
const NO_AUTHORIZER: &str = "none";

/// Every rejection kind, in the order of [`RejectionKind::index`].
#[cfg(feature = "metrics")]
const KINDS: [RejectionKind; RejectionKind::COUNT] = RejectionKind::ALL;

/// One authorizer's request counters, by outcome and reason.
pub(crate) struct RequestMetrics {
    #[cfg(feature = "metrics")]
    allowed: metrics::Counter,
    #[cfg(feature = "metrics")]
    denied: Box<[metrics::Counter]>,
}

impl RequestMetrics {
    /// Registers the counters of authorizer `name` (`None`: decisions taken
    /// before any authorizer).
    #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
    pub(crate) fn new(name: Option<&str>) -> Self {
        #[cfg(feature = "metrics")]
        {
            let authorizer = name.unwrap_or(NO_AUTHORIZER).to_owned();
            let counter = |outcome: &'static str, reason: &'static str| {
                metrics::counter!(
                    names::REQUESTS,
                    "authorizer" => authorizer.clone(),
                    "outcome" => outcome,
                    "reason" => reason,
                )
            };
            // Before any authorizer, only the route table refuses (and a
            // policy naming no authorizer): no series for the other reasons.
            let route_level = [RejectionKind::UnlistedRoute, RejectionKind::KeysUnavailable];
            let denied = KINDS
                .iter()
                .map(|k| match name {
                    None if !route_level.contains(k) => metrics::Counter::noop(),
                    _ => counter("denied", k.code()),
                })
                .collect();
            Self {
                allowed: match name {
                    Some(_) => counter("allowed", "none"),
                    None => metrics::Counter::noop(),
                },
                denied,
            }
        }
        #[cfg(not(feature = "metrics"))]
        Self {}
    }

    #[inline]
    pub(crate) fn allowed(&self) {
        #[cfg(feature = "metrics")]
        self.allowed.increment(1);
    }

    #[inline]
    #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
    pub(crate) fn denied(&self, kind: RejectionKind) {
        #[cfg(feature = "metrics")]
        if let Some(counter) = self.denied.get(kind.index()) {
            counter.increment(1);
        }
    }
}

/// One pool's key metrics.
pub(crate) struct PoolMetrics {
    #[cfg(feature = "metrics")]
    success: metrics::Counter,
    #[cfg(feature = "metrics")]
    failure: metrics::Counter,
    #[cfg(feature = "metrics")]
    duration: metrics::Histogram,
    #[cfg(feature = "metrics")]
    keys: metrics::Gauge,
}

impl PoolMetrics {
    #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
    pub(crate) fn new(pool_id: &str) -> Self {
        #[cfg(feature = "metrics")]
        {
            let pool = pool_id.to_owned();
            let fetches = |result: &'static str| metrics::counter!(names::JWKS_FETCHES, "pool" => pool.clone(), "result" => result);
            Self {
                success: fetches("success"),
                failure: fetches("failure"),
                duration: metrics::histogram!(names::JWKS_FETCH_DURATION, "pool" => pool.clone()),
                keys: metrics::gauge!(names::KEYS, "pool" => pool),
            }
        }
        #[cfg(not(feature = "metrics"))]
        Self {}
    }

    /// One fetch done, in `elapsed`.
    #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
    pub(crate) fn fetched(&self, ok: bool, elapsed: std::time::Duration) {
        #[cfg(feature = "metrics")]
        {
            if ok { &self.success } else { &self.failure }.increment(1);
            self.duration.record(elapsed.as_secs_f64());
        }
    }

    /// A key set of `count` keys installed.
    #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
    pub(crate) fn keys(&self, count: usize) {
        #[cfg(feature = "metrics")]
        self.keys.set(count as f64);
    }
}

/// The token cache's metrics.
pub(crate) struct CacheMetrics {
    #[cfg(feature = "metrics")]
    hits: metrics::Counter,
    #[cfg(feature = "metrics")]
    misses: metrics::Counter,
    #[cfg(feature = "metrics")]
    evictions: metrics::Counter,
    #[cfg(feature = "metrics")]
    entries: metrics::Gauge,
}

impl CacheMetrics {
    pub(crate) fn new() -> Self {
        #[cfg(feature = "metrics")]
        {
            Self {
                hits: metrics::counter!(names::CACHE_HITS),
                misses: metrics::counter!(names::CACHE_MISSES),
                evictions: metrics::counter!(names::CACHE_EVICTIONS),
                entries: metrics::gauge!(names::CACHE_ENTRIES),
            }
        }
        #[cfg(not(feature = "metrics"))]
        Self {}
    }

    #[inline]
    pub(crate) fn hit(&self) {
        #[cfg(feature = "metrics")]
        self.hits.increment(1);
    }

    #[inline]
    pub(crate) fn miss(&self) {
        #[cfg(feature = "metrics")]
        self.misses.increment(1);
    }

    /// Entries dropped to make room (expired ones first, then any).
    #[inline]
    #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
    pub(crate) fn evicted(&self, count: usize) {
        #[cfg(feature = "metrics")]
        if count > 0 {
            self.evictions.increment(count as u64);
        }
    }

    /// The number of entries changed by `delta`.
    #[inline]
    #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
    pub(crate) fn entries(&self, delta: isize) {
        #[cfg(feature = "metrics")]
        if delta != 0 {
            self.entries.increment(delta as f64);
        }
    }
}

/// A revocation list's size (`tower_cognito_revocations`), registered when
/// the list is made: set on every change and every sweep of expired entries.
pub(crate) struct RevocationMetrics {
    #[cfg(feature = "metrics")]
    entries: metrics::Gauge,
}

impl RevocationMetrics {
    pub(crate) fn new() -> Self {
        #[cfg(feature = "metrics")]
        {
            let entries = metrics::gauge!(names::REVOCATIONS);
            entries.set(0.0);
            Self { entries }
        }
        #[cfg(not(feature = "metrics"))]
        Self {}
    }

    #[inline]
    #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
    pub(crate) fn entries(&self, count: usize) {
        #[cfg(feature = "metrics")]
        self.entries.set(count as f64);
    }
}
