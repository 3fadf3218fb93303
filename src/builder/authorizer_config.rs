//! One authorizer's own settings (pools, token header, Token validation), and
//! their setters, shared by [`AuthorizerConfig`] and [`CognitoAuthBuilder`]
//! (where they configure the authorizer named `default`).

use super::CognitoAuthBuilder;

/// One named authorizer's own settings, for
/// [`CognitoAuthBuilder::authorizer`]: its user pools (API Gateway's
/// `providerARNs`), token header and Token validation.
///
/// ```
/// use tower_cognito::{AuthorizerConfig, CognitoAuthLayer};
///
/// let staff = AuthorizerConfig::new()
///     .user_pool("us-east-1_StAfF4567")
///     .token_header("X-Staff-Token")
///     .token_validation("staff-app-[0-9]+");
/// let layer = CognitoAuthLayer::builder()
///     .authorizer("StaffPool", staff)
///     .build()?;
/// assert_eq!(layer.policy_summary().authorizers[0].name, "StaffPool");
/// # Ok::<(), tower_cognito::ConfigError>(())
/// ```
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct AuthorizerConfig {
    pub(super) pools: Vec<String>,
    pub(super) token_header: Option<String>,
    pub(super) token_validation: Option<String>,
}

impl AuthorizerConfig {
    /// No pools yet, token header `Authorization`, no Token validation.
    pub fn new() -> Self {
        Self::default()
    }
}

/// The setters of an authorizer's own settings, written once for both types.
/// `$($field)?` is the path from `self` to its [`AuthorizerConfig`].
macro_rules! authorizer_setters {
    ($($field:ident)?) => {
        /// Adds a user pool, as an ARN
        /// (`arn:aws:cognito-idp:{region}:{account}:userpool/{userPoolId}`) or a
        /// pool ID (`us-east-1_AbCdEf123`; the region is taken from it).
        pub fn user_pool(mut self, arn_or_id: impl Into<String>) -> Self {
            self $(.$field)? .pools.push(arn_or_id.into());
            self
        }

        /// Adds several user pools (API Gateway's `providerARNs`, 1 to 1000 in
        /// all). A token from any of them is accepted.
        pub fn user_pools<I, S>(mut self, pools: I) -> Self
        where
            I: IntoIterator<Item = S>,
            S: Into<String>,
        {
            self $(.$field)? .pools.extend(pools.into_iter().map(Into::into));
            self
        }

        /// The header the token is read from (API Gateway's "Token source");
        /// default `Authorization`. Matched case-insensitively.
        pub fn token_header(mut self, name: impl Into<String>) -> Self {
            self $(.$field)? .token_header = Some(name.into());
            self
        }

        /// API Gateway's "Token validation" (`identityValidationExpression`):
        /// `aud` must match this regular expression in full. Tokens without
        /// `aud` (every access token) are then refused. The syntax is Rust's
        /// `regex` crate's, a subset of Java's without look-around and
        /// backreferences; an expression that does not parse on its own (such
        /// as `client1)|(.*`) is refused by `build`. For every authorizer at once
        /// (imported ones included), see
        /// [`override_token_validation`](crate::CognitoAuthBuilder::override_token_validation).
        pub fn token_validation(mut self, expression: impl Into<String>) -> Self {
            self $(.$field)? .token_validation = Some(expression.into());
            self
        }
    };
}

impl AuthorizerConfig {
    authorizer_setters!();
}

impl CognitoAuthBuilder {
    authorizer_setters!(own);
}
