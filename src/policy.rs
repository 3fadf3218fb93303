//! What a route requires, and the decision over (route policy, claims).

use crate::claims::{CognitoClaims, TokenUse};
use crate::error::{ConfigError, RejectionKind};
use regex::Regex;
use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

/// What one route requires, as API Gateway configures it per method.
///
/// - [`RoutePolicy::public`]: no authorization; no token work at all.
/// - [`RoutePolicy::identity_token`]: the method has no OAuth scopes, so only
///   ID tokens (`token_use: "id"`) pass.
/// - [`RoutePolicy::scopes`]: the method lists OAuth scopes, so only access tokens
///   (`token_use: "access"`) pass, and only if their `scope` claim holds at least
///   one of the listed scopes, compared exactly.
/// - [`RoutePolicy::deny`]: every request is refused with the 403 Missing
///   Authentication Token response, with no token work.
///
/// A policy checks tokens with the layer's default authorizer unless it names
/// another one with [`authorizer`](Self::authorizer) (an OpenAPI document may
/// define several, each with its own pools, token header and Token validation).
///
/// ```
/// use tower_cognito::RoutePolicy;
///
/// let read = RoutePolicy::scopes(["https://my-petstore-api.example.com/cats.read"]).unwrap();
/// assert_eq!(read.required_scopes(), Some(&["https://my-petstore-api.example.com/cats.read".into()][..]));
/// assert!(RoutePolicy::public().is_public());
/// assert!(RoutePolicy::scopes(Vec::<String>::new()).is_err());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct RoutePolicy {
    pub(crate) requirement: Requirement,
    /// `None`: the layer's default authorizer.
    pub(crate) authorizer: Option<Arc<str>>,
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) enum Requirement {
    Public,
    Identity,
    Scopes(Arc<[Box<str>]>),
    /// Refused without token work (unlisted routes, skipped imports).
    Deny,
}

/// A route's requirement and the authorizer (index into the layer's list) that
/// checks it, resolved at build time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rule {
    pub(crate) authorizer: usize,
    pub(crate) requirement: Requirement,
}

impl fmt::Debug for RoutePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.requirement {
            Requirement::Public => f.write_str("Public")?,
            Requirement::Identity => f.write_str("IdentityToken")?,
            Requirement::Scopes(s) => f.debug_tuple("AccessToken").field(s).finish()?,
            Requirement::Deny => f.write_str("Deny")?,
        }
        if let Some(name) = &self.authorizer {
            write!(f, " via {name:?}")?;
        }
        Ok(())
    }
}

impl fmt::Display for RoutePolicy {
    /// `public`, `identity token`, `access token with any of [a, b]` or `deny`,
    /// followed by ` (authorizer NAME)` when one is named.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.requirement {
            Requirement::Public => f.write_str("public")?,
            Requirement::Identity => f.write_str("identity token")?,
            Requirement::Scopes(s) => write!(f, "access token with any of [{}]", s.join(", "))?,
            Requirement::Deny => f.write_str("deny")?,
        }
        if let Some(name) = &self.authorizer {
            write!(f, " (authorizer {name})")?;
        }
        Ok(())
    }
}

impl RoutePolicy {
    /// No authorization.
    pub fn public() -> Self {
        Self::of(Requirement::Public)
    }

    /// An ID token (API Gateway: authorizer set, OAuth scopes `NONE`).
    pub fn identity_token() -> Self {
        Self::of(Requirement::Identity)
    }

    /// Refuse every request with API Gateway's 403 Missing Authentication Token
    /// response, as for a route missing from the table, without looking at
    /// the token ([`RejectionKind::UnlistedRoute`]).
    pub fn deny() -> Self {
        Self::of(Requirement::Deny)
    }

    fn of(requirement: Requirement) -> Self {
        Self {
            requirement,
            authorizer: None,
        }
    }

    /// Checks the token with the named authorizer instead of the layer's
    /// default one (for example an OpenAPI security scheme's name). Unknown
    /// names are refused by [`build`](crate::CognitoAuthBuilder::build).
    ///
    /// ```
    /// use tower_cognito::RoutePolicy;
    ///
    /// let p = RoutePolicy::identity_token().authorizer("StaffPool");
    /// assert_eq!(p.authorizer_name(), Some("StaffPool"));
    /// assert_eq!(p.to_string(), "identity token (authorizer StaffPool)");
    /// ```
    pub fn authorizer(mut self, name: impl Into<String>) -> Self {
        self.authorizer = Some(name.into().into());
        self
    }

    /// The authorizer named with [`authorizer`](Self::authorizer), if any.
    pub fn authorizer_name(&self) -> Option<&str> {
        self.authorizer.as_deref()
    }

    /// An access token carrying any one of `scopes`.
    ///
    /// Fails on an empty list (use [`identity_token`](Self::identity_token)) and on
    /// scopes that are empty or contain whitespace.
    pub fn scopes<I, S>(scopes: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut list: Vec<Box<str>> = Vec::new();
        for s in scopes {
            let s: String = s.into();
            if s.is_empty() || s.chars().any(char::is_whitespace) {
                return Err(ConfigError::InvalidScope(s));
            }
            if !list.iter().any(|x| **x == *s) {
                list.push(s.into());
            }
        }
        if list.is_empty() {
            return Err(ConfigError::InvalidScope(String::new()));
        }
        Ok(Self::of(Requirement::Scopes(list.into())))
    }

    /// Whether every request is refused.
    pub fn is_deny(&self) -> bool {
        self.requirement == Requirement::Deny
    }

    /// Whether the route needs no token.
    pub fn is_public(&self) -> bool {
        self.requirement == Requirement::Public
    }

    /// The scopes an access token must carry one of, or `None` when the route
    /// takes an ID token or is public.
    pub fn required_scopes(&self) -> Option<&[Box<str>]> {
        match &self.requirement {
            Requirement::Scopes(s) => Some(s),
            _ => None,
        }
    }
}

/// A revocation check: `true` means the token is revoked.
pub(crate) type RevocationFn = Arc<dyn Fn(&CognitoClaims) -> bool + Send + Sync>;

/// Checks beyond the route's own policy, fixed at build time.
#[derive(Clone, Default)]
pub(crate) struct Checks {
    /// API Gateway's Token validation (`identityValidationExpression`), anchored.
    pub(crate) token_validation: Option<Regex>,
    pub(crate) client_ids: Option<HashSet<Box<str>>>,
    pub(crate) groups: Option<Box<[Box<str>]>>,
    pub(crate) accept_any_token_use: bool,
    pub(crate) revoked: Option<RevocationFn>,
    pub(crate) revocation_list: Option<crate::revocation::RevocationList>,
}

impl Checks {
    /// Decides whether verified claims satisfy the route. Pure: a function of the
    /// route's requirement, these settings and the claims.
    pub(crate) fn decide(
        &self,
        requirement: &Requirement,
        claims: &CognitoClaims,
    ) -> Result<(), RejectionKind> {
        match requirement {
            Requirement::Public => return Ok(()),
            Requirement::Deny => return Err(RejectionKind::UnlistedRoute),
            Requirement::Identity => {
                if claims.token_use() != TokenUse::Id && !self.accept_any_token_use {
                    return Err(RejectionKind::WrongTokenUse);
                }
            }
            Requirement::Scopes(scopes) => {
                if claims.token_use() != TokenUse::Access {
                    return Err(RejectionKind::WrongTokenUse);
                }
                if !claims.scopes().any(|s| scopes.iter().any(|r| **r == *s)) {
                    return Err(RejectionKind::InsufficientScope);
                }
            }
        }
        if let Some(re) = &self.token_validation {
            match claims.audience() {
                Some(aud) if re.is_match(aud) => {}
                _ => return Err(RejectionKind::AudienceMismatch),
            }
        }
        if let Some(allowed) = &self.client_ids {
            match claims.client_id() {
                Some(id) if allowed.contains(id) => {}
                _ => return Err(RejectionKind::ClientNotAllowed),
            }
        }
        if let Some(groups) = &self.groups {
            if !claims.groups().any(|g| groups.iter().any(|r| **r == *g)) {
                return Err(RejectionKind::GroupNotAllowed);
            }
        }
        if let Some(revoked) = &self.revoked {
            if revoked(claims) {
                return Err(RejectionKind::Revoked);
            }
        }
        Ok(())
    }
}

impl Checks {
    /// The revocation list's check, after [`decide`](Self::decide) passed.
    pub(crate) fn revocation(&self, claims: &CognitoClaims, now: i64) -> Result<(), RejectionKind> {
        use crate::revocation::Refusal;
        match &self.revocation_list {
            None => Ok(()),
            Some(list) => list.check(claims, now).map_err(|r| match r {
                Refusal::Revoked => RejectionKind::Revoked,
                Refusal::Unavailable => RejectionKind::RevocationUnavailable,
            }),
        }
    }
}

/// Compiles a Token validation expression so that it must match all of `aud`.
///
/// The expression is parsed on its own first: wrapped unchecked, an unbalanced
/// one such as `client1)|(.*` would close the wrapper's group and escape the
/// anchors (`^(?:client1)|(.*)$` accepts every `aud`). Java, API Gateway's
/// engine, refuses such an expression too.
pub(crate) fn anchored_regex(expression: &str) -> Result<Regex, ConfigError> {
    let invalid = |reason: String| ConfigError::InvalidTokenValidation {
        expression: expression.to_owned(),
        reason,
    };
    Regex::new(expression).map_err(|e| invalid(e.to_string()))?;
    // Parsed alone, the expression cannot reach past the wrapper's group; a
    // trailing `(?x)` comment would swallow it, and is refused here.
    Regex::new(&format!("^(?:{expression})$")).map_err(|_| {
        invalid("the expression cannot be anchored (does it end in a `#` comment?)".into())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn id() -> CognitoClaims {
        CognitoClaims::from_json(
            json!({"token_use":"id","exp":1,"aud":"client1","cognito:groups":["g1"]}),
        )
        .unwrap()
    }
    fn access(scope: &str) -> CognitoClaims {
        CognitoClaims::from_json(
            json!({"token_use":"access","exp":1,"client_id":"client1","scope":scope}),
        )
        .unwrap()
    }

    #[test]
    fn token_use_follows_the_route() {
        let c = Checks::default();
        let scoped = RoutePolicy::scopes(["a/read", "a/write"])
            .unwrap()
            .requirement;
        assert_eq!(c.decide(&Requirement::Identity, &id()), Ok(()));
        assert_eq!(
            c.decide(&Requirement::Identity, &access("a/read")),
            Err(RejectionKind::WrongTokenUse)
        );
        assert_eq!(c.decide(&scoped, &id()), Err(RejectionKind::WrongTokenUse));
        assert_eq!(c.decide(&scoped, &access("x a/write")), Ok(()));
        assert_eq!(
            c.decide(&scoped, &access("A/READ")),
            Err(RejectionKind::InsufficientScope)
        );
        assert_eq!(
            c.decide(&scoped, &access("a/rea a/readx")),
            Err(RejectionKind::InsufficientScope)
        );
        assert_eq!(
            c.decide(&scoped, &access("")),
            Err(RejectionKind::InsufficientScope)
        );
        let both = Checks {
            accept_any_token_use: true,
            ..Checks::default()
        };
        assert_eq!(both.decide(&Requirement::Identity, &access("")), Ok(()));
        assert_eq!(
            both.decide(&scoped, &id()),
            Err(RejectionKind::WrongTokenUse)
        );
    }

    #[test]
    fn token_validation_is_a_full_match_on_aud() {
        let c = Checks {
            token_validation: Some(anchored_regex("client[0-9]").unwrap()),
            ..Checks::default()
        };
        assert_eq!(c.decide(&Requirement::Identity, &id()), Ok(()));
        let c = Checks {
            token_validation: Some(anchored_regex("client").unwrap()),
            ..Checks::default()
        };
        assert_eq!(
            c.decide(&Requirement::Identity, &id()),
            Err(RejectionKind::AudienceMismatch)
        );
        let c = Checks {
            token_validation: Some(anchored_regex(".*").unwrap()),
            accept_any_token_use: true,
            ..Checks::default()
        };
        assert_eq!(
            c.decide(&Requirement::Identity, &access("")),
            Err(RejectionKind::AudienceMismatch)
        );
        assert!(anchored_regex("(").is_err());
    }

    #[test]
    fn token_validation_cannot_escape_its_anchors() {
        // Anchored without a check, this is `^(?:client1)|(.*)$`: any `aud`.
        for escape in ["client1)|(.*", ")|(", "a)|(?:b", "(?x)client1 # comment"] {
            match anchored_regex(escape) {
                Err(ConfigError::InvalidTokenValidation { expression, .. }) => {
                    assert_eq!(expression, escape);
                }
                other => panic!("{escape:?} was accepted: {other:?}"),
            }
        }
        // A balanced alternation stays inside the anchors.
        let re = anchored_regex("client1|client2").unwrap();
        assert!(re.is_match("client2"));
        assert!(!re.is_match("client1x"));
        assert!(!re.is_match("xclient2"));
    }

    #[test]
    fn client_ids_groups_and_revocation() {
        let c = Checks {
            client_ids: Some(["client1".into()].into_iter().collect()),
            ..Checks::default()
        };
        assert_eq!(c.decide(&Requirement::Identity, &id()), Ok(()));
        let scoped = RoutePolicy::scopes(["s"]).unwrap().requirement;
        assert_eq!(c.decide(&scoped, &access("s")), Ok(()));
        let c = Checks {
            client_ids: Some(["other".into()].into_iter().collect()),
            ..Checks::default()
        };
        assert_eq!(
            c.decide(&Requirement::Identity, &id()),
            Err(RejectionKind::ClientNotAllowed)
        );
        let c = Checks {
            groups: Some(vec!["g2".into(), "g1".into()].into()),
            ..Checks::default()
        };
        assert_eq!(c.decide(&Requirement::Identity, &id()), Ok(()));
        let c = Checks {
            groups: Some(vec!["g2".into()].into()),
            ..Checks::default()
        };
        assert_eq!(
            c.decide(&Requirement::Identity, &id()),
            Err(RejectionKind::GroupNotAllowed)
        );
        let c = Checks {
            revoked: Some(Arc::new(|c: &CognitoClaims| {
                c.audience() == Some("client1")
            })),
            ..Checks::default()
        };
        assert_eq!(
            c.decide(&Requirement::Identity, &id()),
            Err(RejectionKind::Revoked)
        );
    }
}
