//! Lambda authorizers (`x-amazon-apigateway-authorizer` types `token` and
//! `request`): what [`crate::custom_authorizer`] needs to run them.
//!
//! Methods naming one stay in [`OpenApiImport::skipped`](super::OpenApiImport::skipped)
//! with the scheme's name, so the Cognito layer keeps refusing them: only a
//! server that runs the authorizer (a [`CustomAuthorizerLayer`] built with
//! [`ImportedLambdaAuthorizer::layer`]) serves them.
//!
//! [`CustomAuthorizerLayer`]: crate::custom_authorizer::CustomAuthorizerLayer

use serde_json::{Map, Value};

use super::import::Importer;
use super::json::{child, kind, required_str};
use super::scheme::substitute_stage_variables;
use super::ImportError;
use crate::custom_authorizer::{
    Authorize, AuthorizerType, CustomAuthorizerBuilder, CustomAuthorizerLayer, IdentitySource,
    MAX_RESULT_TTL_SECONDS,
};

/// A Lambda (`token` or `request`) authorizer from a security scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImportedLambdaAuthorizer {
    /// The security scheme's name, as used in operations' `security`.
    pub name: String,
    /// `TOKEN` or `REQUEST`.
    pub kind: AuthorizerType,
    /// `authorizerUri`, stage variables substituted.
    pub authorizer_uri: String,
    /// The function's name (or ARN, alias kept) read from `authorizerUri`:
    /// what the Lambda Invoke API takes.
    pub function: String,
    /// `identitySource`, comma-separated; for `token` without one, the
    /// scheme's header.
    pub identity_source: String,
    /// `identityValidationExpression` (`token` only).
    pub identity_validation_expression: Option<String>,
    /// `authorizerResultTtlInSeconds`: default 300, at most 3600, 0 off.
    pub result_ttl_seconds: u32,
    /// JSON pointer of the security scheme.
    pub pointer: String,
}

impl ImportedLambdaAuthorizer {
    /// A [`CustomAuthorizerLayer`] builder configured as the export says,
    /// calling `authorizer`.
    ///
    /// ```
    /// use tower_cognito::custom_authorizer::AuthorizerError;
    /// use tower_cognito::openapi::{ImportOptions, OpenApiImport};
    ///
    /// let export = r#"{"openapi": "3.0.1", "info": {"title": "t", "version": "1"}, "paths": {},
    ///   "components": {"securitySchemes": {"tok": {"type": "apiKey", "name": "Authorization",
    ///     "in": "header", "x-amazon-apigateway-authorizer": {"type": "token",
    ///     "authorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/auth/invocations"}}}}}"#;
    /// let import = OpenApiImport::parse(export, &ImportOptions::new()).unwrap();
    /// let tok = &import.lambda_authorizers[0];
    /// assert_eq!((tok.function.as_str(), tok.result_ttl_seconds), ("auth", 300));
    /// let layer = tok
    ///     .layer(|_event: serde_json::Value| async { Err::<serde_json::Value, _>(AuthorizerError::Unauthorized) })
    ///     .build()
    ///     .unwrap();
    /// # drop(layer);
    /// ```
    pub fn layer(&self, authorizer: impl Authorize) -> CustomAuthorizerBuilder {
        let mut b = match self.kind {
            AuthorizerType::Request => CustomAuthorizerLayer::request(authorizer),
            _ => CustomAuthorizerLayer::token(authorizer),
        }
        .identity_source(&self.identity_source)
        .result_ttl_seconds(self.result_ttl_seconds);
        if let Some(re) = &self.identity_validation_expression {
            b = b.identity_validation_expression(re);
        }
        b
    }
}

impl Importer<'_> {
    /// The Lambda authorizer of a scheme, `None` for any other scheme.
    pub(super) fn lambda_scheme(
        &mut self,
        name: &str,
        scheme: &Map<String, Value>,
        pointer: &str,
    ) -> Result<Option<ImportedLambdaAuthorizer>, ImportError> {
        let ext_ptr = child(pointer, "x-amazon-apigateway-authorizer");
        let Some(Value::Object(ext)) = scheme.get("x-amazon-apigateway-authorizer") else {
            return Ok(None);
        };
        let ty = required_str(ext, &ext_ptr, "type")?;
        let ty_kind = if ty.eq_ignore_ascii_case("token") {
            AuthorizerType::Token
        } else if ty.eq_ignore_ascii_case("request") {
            AuthorizerType::Request
        } else {
            return Ok(None);
        };
        let uri_ptr = child(&ext_ptr, "authorizerUri");
        let uri = required_str(ext, &ext_ptr, "authorizerUri")?;
        let uri = substitute_stage_variables(uri, &self.options.stage_variables, &uri_ptr)?;
        let function = function_of(&uri).ok_or_else(|| {
            ImportError::new(
                &uri_ptr,
                format!(
                    "`{uri}` is not a Lambda invocation URI \
                     (arn:aws:apigateway:{{region}}:lambda:path/2015-03-31/functions/{{function ARN}}/invocations)"
                ),
            )
        })?;
        let text = |key: &str| -> Result<Option<String>, ImportError> {
            match ext.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(other) => Err(ImportError::new(
                    child(&ext_ptr, key),
                    format!("expected a string, found {}", kind(other)),
                )),
            }
        };
        let header = scheme
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("Authorization");
        let identity_source = match (text("identitySource")?, ty_kind) {
            (Some(s), _) => s,
            (None, AuthorizerType::Token) => format!("method.request.header.{header}"),
            (None, _) => String::new(),
        };
        for part in identity_source.split(',').filter(|p| !p.trim().is_empty()) {
            if IdentitySource::parse(part).is_none() {
                return Err(ImportError::new(
                    child(&ext_ptr, "identitySource"),
                    format!("identity source `{}` is not supported", part.trim()),
                ));
            }
        }
        let ttl_ptr = child(&ext_ptr, "authorizerResultTtlInSeconds");
        let result_ttl_seconds = match ext.get("authorizerResultTtlInSeconds") {
            None | Some(Value::Null) => 300,
            Some(Value::Number(n)) => match n.as_u64() {
                Some(t) if t <= u64::from(MAX_RESULT_TTL_SECONDS) => t as u32,
                _ => {
                    return Err(ImportError::new(
                        ttl_ptr,
                        format!("expected 0 to {MAX_RESULT_TTL_SECONDS} seconds, found {n}"),
                    ))
                }
            },
            Some(other) => {
                return Err(ImportError::new(
                    ttl_ptr,
                    format!("expected a number of seconds, found {}", kind(other)),
                ))
            }
        };
        let identity_validation_expression = text("identityValidationExpression")?;
        if identity_validation_expression.is_some() && ty_kind == AuthorizerType::Request {
            self.warn(
                child(&ext_ptr, "identityValidationExpression"),
                "ignored: API Gateway checks it for `token` authorizers only",
            );
        }
        if ext.contains_key("authorizerCredentials") {
            self.warn(
                child(&ext_ptr, "authorizerCredentials"),
                "ignored: the function is invoked with the server's own credentials",
            );
        }
        let built = ImportedLambdaAuthorizer {
            name: name.to_owned(),
            kind: ty_kind,
            authorizer_uri: uri,
            function,
            identity_source,
            identity_validation_expression: identity_validation_expression
                .filter(|_| ty_kind == AuthorizerType::Token),
            result_ttl_seconds,
            pointer: pointer.to_owned(),
        };
        // Every other check the layer makes (regex, sources for the type).
        let probe =
            |_e: Value| async { Err(crate::custom_authorizer::AuthorizerError::Unauthorized) };
        if let Err(e) = built.layer(probe).build() {
            return Err(ImportError::new(&ext_ptr, e.to_string()));
        }
        Ok(Some(built))
    }
}

/// `arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{fn}/invocations` → `{fn}`.
fn function_of(uri: &str) -> Option<String> {
    let (_, rest) = uri.split_once(":lambda:path/")?;
    let rest = rest.split_once("/functions/")?.1;
    let function = rest.strip_suffix("/invocations")?;
    (!function.is_empty() && !function.contains('/')).then(|| function.to_owned())
}

#[cfg(test)]
mod tests {
    #[test]
    fn function_names() {
        let f = |u: &str| super::function_of(u);
        assert_eq!(
            f("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:auth/invocations").as_deref(),
            Some("arn:aws:lambda:us-east-1:123456789012:function:auth")
        );
        assert_eq!(
            f("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions//invocations"),
            None
        );
        assert_eq!(f("https://example.com/auth"), None);
    }
}
