//! Why a request was rejected, and why a configuration was refused.

use std::fmt;

/// What went wrong with a request's token.
///
/// Attached to every rejection response's extensions as an [`AuthError`], so an
/// outer layer can log or count it. New kinds may be added in minor releases.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectionKind {
    /// The token header is absent or empty.
    MissingToken,
    /// The token header appears more than once.
    MultipleTokens,
    /// The token is longer than the configured cap.
    TokenTooLarge,
    /// Not three base64url segments with a JSON object header and payload.
    MalformedToken,
    /// The header names an algorithm other than RS256, or carries key material
    /// or critical extensions that are never honoured.
    UnsupportedHeader,
    /// The header has no `kid`.
    MissingKeyId,
    /// `iss` is missing or names no configured user pool.
    UnknownIssuer,
    /// The issuing pool's key set has no key with the token's `kid`.
    UnknownKeyId,
    /// The signature does not verify.
    InvalidSignature,
    /// A claim is missing or has the wrong type (`exp` absent, a string, a float...).
    InvalidClaims,
    /// `exp` has passed.
    Expired,
    /// `nbf` or `iat` lies in the future.
    NotYetValid,
    /// An access token on a route without scopes, or an ID token on a route with scopes.
    WrongTokenUse,
    /// None of the route's scopes is in the token's `scope` claim.
    InsufficientScope,
    /// The Token validation expression does not match `aud`, or `aud` is absent.
    AudienceMismatch,
    /// The app client is not in the allowed list.
    ClientNotAllowed,
    /// The user is in none of the required groups.
    GroupNotAllowed,
    /// The revocation check or the revocation list refused the token.
    Revoked,
    /// A shared revocation list is not loaded yet, or (with
    /// [`OnOutage::Deny`](crate::revocation::OnOutage::Deny)) not fresh:
    /// every token is refused, with
    /// [`ResponseType::AuthorizerConfigurationError`].
    RevocationUnavailable,
    /// The route is not in the policy table and unlisted routes are denied, or
    /// its policy is [`RoutePolicy::deny`](crate::RoutePolicy::deny) (as for
    /// OpenAPI methods skipped for an unsupported authorizer). Answered as API
    /// Gateway answers a resource or method it does not have:
    /// [`ResponseType::MissingAuthenticationToken`].
    UnlistedRoute,
    /// No keys could be had for the issuing pool (never loaded, fetch failing).
    KeysUnavailable,
}

impl RejectionKind {
    /// The API Gateway response class this kind maps to.
    pub fn response_type(self) -> ResponseType {
        match self {
            RejectionKind::Expired => ResponseType::ExpiredToken,
            RejectionKind::KeysUnavailable | RejectionKind::RevocationUnavailable => {
                ResponseType::AuthorizerConfigurationError
            }
            RejectionKind::UnlistedRoute => ResponseType::MissingAuthenticationToken,
            _ => ResponseType::Unauthorized,
        }
    }

    /// The kind in snake_case (`missing_token`, `invalid_signature`...): the
    /// `reason` label of the `tower_cognito_requests_total` metric, stable
    /// across releases and never token material.
    ///
    /// ```
    /// use tower_cognito::RejectionKind;
    ///
    /// assert_eq!(RejectionKind::InvalidSignature.code(), "invalid_signature");
    /// assert_eq!(RejectionKind::KeysUnavailable.code(), "keys_unavailable");
    /// ```
    pub fn code(self) -> &'static str {
        match self {
            RejectionKind::MissingToken => "missing_token",
            RejectionKind::MultipleTokens => "multiple_tokens",
            RejectionKind::TokenTooLarge => "token_too_large",
            RejectionKind::MalformedToken => "malformed_token",
            RejectionKind::UnsupportedHeader => "unsupported_header",
            RejectionKind::MissingKeyId => "missing_key_id",
            RejectionKind::UnknownIssuer => "unknown_issuer",
            RejectionKind::UnknownKeyId => "unknown_key_id",
            RejectionKind::InvalidSignature => "invalid_signature",
            RejectionKind::InvalidClaims => "invalid_claims",
            RejectionKind::Expired => "expired",
            RejectionKind::NotYetValid => "not_yet_valid",
            RejectionKind::WrongTokenUse => "wrong_token_use",
            RejectionKind::InsufficientScope => "insufficient_scope",
            RejectionKind::AudienceMismatch => "audience_mismatch",
            RejectionKind::ClientNotAllowed => "client_not_allowed",
            RejectionKind::GroupNotAllowed => "group_not_allowed",
            RejectionKind::Revoked => "revoked",
            RejectionKind::RevocationUnavailable => "revocation_unavailable",
            RejectionKind::UnlistedRoute => "unlisted_route",
            RejectionKind::KeysUnavailable => "keys_unavailable",
        }
    }

    /// How many kinds there are.
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) const COUNT: usize = 21;

    /// Every kind, in declaration order. A new kind must join it (and
    /// `COUNT`), or its requests are counted under no reason.
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) const ALL: [RejectionKind; Self::COUNT] = [
        RejectionKind::MissingToken,
        RejectionKind::MultipleTokens,
        RejectionKind::TokenTooLarge,
        RejectionKind::MalformedToken,
        RejectionKind::UnsupportedHeader,
        RejectionKind::MissingKeyId,
        RejectionKind::UnknownIssuer,
        RejectionKind::UnknownKeyId,
        RejectionKind::InvalidSignature,
        RejectionKind::InvalidClaims,
        RejectionKind::Expired,
        RejectionKind::NotYetValid,
        RejectionKind::WrongTokenUse,
        RejectionKind::InsufficientScope,
        RejectionKind::AudienceMismatch,
        RejectionKind::ClientNotAllowed,
        RejectionKind::GroupNotAllowed,
        RejectionKind::Revoked,
        RejectionKind::RevocationUnavailable,
        RejectionKind::UnlistedRoute,
        RejectionKind::KeysUnavailable,
    ];

    /// The kind's position in [`ALL`](Self::ALL).
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// A short, fixed description; never contains token material.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectionKind::MissingToken => "missing token",
            RejectionKind::MultipleTokens => "token header repeated",
            RejectionKind::TokenTooLarge => "token too large",
            RejectionKind::MalformedToken => "malformed token",
            RejectionKind::UnsupportedHeader => "unsupported token header",
            RejectionKind::MissingKeyId => "missing kid",
            RejectionKind::UnknownIssuer => "unknown issuer",
            RejectionKind::UnknownKeyId => "unknown kid",
            RejectionKind::InvalidSignature => "invalid signature",
            RejectionKind::InvalidClaims => "invalid claims",
            RejectionKind::Expired => "token expired",
            RejectionKind::NotYetValid => "token not yet valid",
            RejectionKind::WrongTokenUse => "wrong token_use for route",
            RejectionKind::InsufficientScope => "no matching scope",
            RejectionKind::AudienceMismatch => "aud does not match token validation",
            RejectionKind::ClientNotAllowed => "app client not allowed",
            RejectionKind::GroupNotAllowed => "user not in a required group",
            RejectionKind::Revoked => "token revoked",
            RejectionKind::RevocationUnavailable => "revocation list unavailable",
            RejectionKind::UnlistedRoute => "route not in policy table",
            RejectionKind::KeysUnavailable => "signing keys unavailable",
        }
    }
}

impl fmt::Display for RejectionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The response classes of API Gateway's "gateway responses" that this
/// authorizer produces; each one's response can be replaced.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResponseType {
    /// `UNAUTHORIZED`: 401, `{"message":"Unauthorized"}`.
    Unauthorized,
    /// `EXPIRED_TOKEN`: 401, `{"message":"The incoming token has expired"}`.
    ExpiredToken,
    /// `AUTHORIZER_CONFIGURATION_ERROR`: 500, `{"message":null}`.
    AuthorizerConfigurationError,
    /// `MISSING_AUTHENTICATION_TOKEN`: 403, `{"message":"Missing Authentication
    /// Token"}`, API Gateway's answer to a resource or method it does not have
    /// (and, here, to a route whose policy denies every request).
    MissingAuthenticationToken,
}

/// A rejected request's reason.
///
/// Found in the extensions of every rejection response:
///
/// ```
/// use tower_cognito::{AuthError, RejectionKind};
///
/// fn log_rejection(res: &http::Response<()>) {
///     if let Some(err) = res.extensions().get::<AuthError>() {
///         assert_ne!(err.kind().as_str(), "");
///     }
/// }
/// # let mut res = http::Response::new(());
/// # res.extensions_mut().insert(AuthError::new(RejectionKind::MissingToken));
/// # log_rejection(&res);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthError {
    kind: RejectionKind,
}

impl AuthError {
    /// An error of the given kind.
    pub fn new(kind: RejectionKind) -> Self {
        Self { kind }
    }

    /// What went wrong.
    pub fn kind(&self) -> RejectionKind {
        self.kind
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.as_str())
    }
}

impl std::error::Error for AuthError {}

impl From<RejectionKind> for AuthError {
    fn from(kind: RejectionKind) -> Self {
        Self::new(kind)
    }
}

/// A configuration the builder refused; the message names the bad value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// No user pool was given.
    NoUserPools,
    /// More user pools than API Gateway allows (1000).
    TooManyUserPools(usize),
    /// A pool ARN or pool ID that does not parse.
    InvalidUserPool {
        /// The value as given.
        value: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// An endpoint override that is not an `http(s)://` base URL.
    InvalidEndpoint {
        /// The value as given.
        value: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// The token header name is not a valid HTTP header name.
    InvalidHeaderName(String),
    /// The Token validation expression does not compile.
    InvalidTokenValidation {
        /// The expression as given.
        expression: String,
        /// The regex compiler's message.
        reason: String,
    },
    /// An empty scope, or one containing whitespace.
    InvalidScope(String),
    /// An inline JWKS document that does not parse or names an unknown pool.
    InvalidJwks {
        /// The pool the document was given for.
        pool: String,
        /// Why it was refused.
        reason: String,
    },
    /// A route that cannot be added to the policy table: bad method or
    /// template, a duplicate, or a conflict with another route.
    InvalidRoute {
        /// The route as given (with its JSON pointer when imported).
        route: String,
        /// Why it was refused.
        reason: String,
    },
    /// A policy or `default_authorizer` names an authorizer that is not defined.
    UnknownAuthorizer(String),
    /// Anything else, with a message naming the value.
    Other(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::NoUserPools => f.write_str("at least one user pool is required"),
            ConfigError::TooManyUserPools(n) => {
                write!(f, "{n} user pools given; an authorizer takes at most 1000")
            }
            ConfigError::InvalidUserPool { value, reason } => {
                write!(f, "invalid user pool {value:?}: {reason}")
            }
            ConfigError::InvalidEndpoint { value, reason } => {
                write!(f, "invalid endpoint {value:?}: {reason}")
            }
            ConfigError::InvalidHeaderName(name) => write!(f, "invalid token header name {name:?}"),
            ConfigError::InvalidTokenValidation { expression, reason } => {
                write!(
                    f,
                    "invalid token validation expression {expression:?}: {reason}"
                )
            }
            ConfigError::InvalidScope(scope) => write!(f, "invalid scope {scope:?}"),
            ConfigError::InvalidJwks { pool, reason } => {
                write!(f, "invalid JWKS for pool {pool:?}: {reason}")
            }
            ConfigError::InvalidRoute { route, reason } => {
                write!(f, "invalid route {route}: {reason}")
            }
            ConfigError::UnknownAuthorizer(name) => {
                write!(f, "no authorizer is named {name:?}")
            }
            ConfigError::Other(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_index_and_a_distinct_snake_case_code() {
        let mut codes = std::collections::HashSet::new();
        for (i, kind) in RejectionKind::ALL.iter().enumerate() {
            assert_eq!(kind.index(), i, "{kind:?}");
            let code = kind.code();
            assert!(
                code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{code}"
            );
            assert!(codes.insert(code), "{code} twice");
        }
        // The list ends with the enum's last variant.
        assert_eq!(
            RejectionKind::KeysUnavailable.index(),
            RejectionKind::COUNT - 1
        );
    }
}
