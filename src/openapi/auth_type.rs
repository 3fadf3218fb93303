//! `x-amazon-apigateway-auth`: a method's authorization type, which makes a
//! method that is not public by Cognito never public by the import.

use serde_json::Value;

use super::import::{Importer, Security};
use super::json::{expect_object, required_str};
use super::{ImportError, RouteAuth};

/// A method's (or, here, the API's) authorization type: `NONE`, `AWS_IAM`...
pub(super) const AUTH_KEY: &str = "x-amazon-apigateway-auth";

/// An `x-amazon-apigateway-auth` type other than `NONE`, and where it is.
#[derive(Clone)]
pub(super) struct AuthType {
    pub(super) name: String,
    pub(super) pointer: String,
}

impl Importer<'_> {
    /// Applies an `x-amazon-apigateway-auth` type to a resolved `security`:
    /// `NONE` (or none) changes nothing; `COGNITO_USER_POOLS` needs a Cognito
    /// scheme in `security` (the pools are there); any other type (`AWS_IAM`,
    /// `CUSTOM`...) is an authorization the layer cannot enforce, so the
    /// method is never public: an error, or skipped and denied.
    pub(super) fn with_auth_type(
        &self,
        security: Security,
        auth: Option<AuthType>,
    ) -> Result<Security, ImportError> {
        let Some(auth) = auth else {
            return Ok(security);
        };
        let cognito = auth.name.eq_ignore_ascii_case("COGNITO_USER_POOLS");
        let scheme = match security {
            Security::Skip { .. } => return Ok(security),
            Security::Route(RouteAuth::Authorizer { .. }) if cognito => return Ok(security),
            Security::Route(RouteAuth::Authorizer { name, .. }) => name,
            Security::Route(RouteAuth::Public) => String::new(),
        };
        let what = if cognito {
            "has no Cognito scheme in `security` to name its user pools"
        } else if auth.name.eq_ignore_ascii_case("AWS_IAM") {
            "is IAM authorization"
        } else if auth.name.eq_ignore_ascii_case("CUSTOM") {
            "is a Lambda authorizer"
        } else {
            "is an authorization type the layer does not know"
        };
        let place = if auth.pointer.starts_with("/paths/") {
            ""
        } else {
            "root-level "
        };
        let reason = format!("{place}`{AUTH_KEY}` type `{}` {what}", auth.name);
        if self.options.skip_unsupported_authorizers {
            return Ok(Security::Skip { scheme, reason });
        }
        Err(ImportError::new(
            auth.pointer,
            format!(
                "{reason}, not a Cognito user pool authorizer (set \
                 skip_unsupported_authorizers to leave such methods out)"
            ),
        ))
    }
}

/// Reads an `x-amazon-apigateway-auth` value: `None` when absent or `NONE`.
pub(super) fn auth_type(
    value: Option<&Value>,
    pointer: &str,
) -> Result<Option<AuthType>, ImportError> {
    let Some(value) = value else {
        return Ok(None);
    };
    let obj = expect_object(value, pointer)?;
    let name = required_str(obj, pointer, "type")?;
    if name.eq_ignore_ascii_case("NONE") {
        return Ok(None);
    }
    Ok(Some(AuthType {
        name: name.to_owned(),
        pointer: pointer.to_owned(),
    }))
}
