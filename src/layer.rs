//! [`CognitoAuthLayer`]: configuration shared by every service it wraps.

use crate::authorizer::Authorizer;
use crate::builder::CognitoAuthBuilder;
use crate::error::ConfigError;
use crate::keys::KeyStore;
use crate::policy::{Requirement, RoutePolicy};
use crate::response::Responses;
use crate::service::CognitoAuth;
use std::fmt;
use std::sync::Arc;
use tower_layer::Layer;

/// What is shared by every clone of a layer and every service it made.
pub(crate) struct Core {
    pub(crate) authorizer: Authorizer,
    pub(crate) keys: KeyStore,
    pub(crate) responses: Responses,
}

/// Where a request's policy comes from.
#[derive(Clone)]
pub(crate) enum PolicySource {
    /// One policy for every request through the layer.
    Fixed(Requirement),
}

impl PolicySource {
    #[inline]
    pub(crate) fn requirement<B>(&self, _req: &http::Request<B>) -> &Requirement {
        match self {
            PolicySource::Fixed(r) => r,
        }
    }
}

/// A tower [`Layer`] that authorizes requests with Cognito user pool tokens, as
/// API Gateway's `COGNITO_USER_POOLS` authorizer does.
///
/// Cheap to clone: clones share one key store (and its background refresh),
/// one configuration and one set of responses. See the [crate docs](crate) for
/// an example.
#[derive(Clone)]
#[must_use]
pub struct CognitoAuthLayer {
    pub(crate) core: Arc<Core>,
    pub(crate) policy: PolicySource,
}

impl fmt::Debug for CognitoAuthLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CognitoAuthLayer")
            .field("keys", &self.core.keys)
            .finish_non_exhaustive()
    }
}

impl CognitoAuthLayer {
    /// Starts a configuration.
    ///
    /// ```
    /// let layer = tower_cognito::CognitoAuthLayer::builder()
    ///     .user_pool("arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbCdEf123")
    ///     .build()
    ///     .unwrap();
    /// # drop(layer);
    /// ```
    pub fn builder() -> CognitoAuthBuilder {
        CognitoAuthBuilder::default()
    }

    pub(crate) fn from_parts(core: Arc<Core>, policy: PolicySource) -> Self {
        Self { core, policy }
    }

    /// The key store shared by every clone: await its first load, seed keys,
    /// read its status.
    pub fn key_store(&self) -> &KeyStore {
        &self.core.keys
    }

    /// The same authorizer (same pools, keys and responses) with another policy
    /// for every request through it. Handy with axum's `route_layer`.
    ///
    /// ```
    /// use tower_cognito::{CognitoAuthLayer, RoutePolicy};
    ///
    /// let auth = CognitoAuthLayer::builder().user_pool("us-east-1_AbCdEf123").build().unwrap();
    /// let cats_read = auth.with_policy(RoutePolicy::scopes(["pets/cats.read"]).unwrap());
    /// # drop(cats_read);
    /// ```
    pub fn with_policy(&self, policy: RoutePolicy) -> Self {
        Self {
            core: Arc::clone(&self.core),
            policy: PolicySource::Fixed(policy.requirement),
        }
    }

    /// [`with_policy`](Self::with_policy) with an access-token scope list.
    pub fn require_scopes<I, S>(&self, scopes: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Ok(self.with_policy(RoutePolicy::scopes(scopes)?))
    }
}

impl<S> Layer<S> for CognitoAuthLayer {
    type Service = CognitoAuth<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CognitoAuth::new(inner, self.clone())
    }
}
