//! The integrations of an export's operations, one module per type.

pub(crate) mod echo;
pub(crate) mod mock;

use serde_json::Value;

use mock::Mock;

/// What an operation does once authorized.
#[derive(Debug)]
pub(crate) enum Integration {
    /// No `x-amazon-apigateway-integration`: the route and claims as JSON.
    Echo,
    /// `type: mock`.
    Mock(Mock),
    /// A type not supported yet, served as 500 (`--allow-unsupported`).
    Unsupported(String),
}

impl Integration {
    /// Parses an operation's integration; `Err` says what is wrong.
    pub(crate) fn parse(operation: &Value, allow_unsupported: bool) -> Result<Self, String> {
        let Some(integration) = operation.get("x-amazon-apigateway-integration") else {
            return Ok(Integration::Echo);
        };
        let kind = integration
            .get("type")
            .and_then(Value::as_str)
            .ok_or("x-amazon-apigateway-integration: no type")?
            .to_ascii_lowercase();
        match kind.as_str() {
            "mock" => Mock::parse(integration).map(Integration::Mock),
            "http_proxy" | "http" | "aws" | "aws_proxy" if allow_unsupported => {
                Ok(Integration::Unsupported(kind))
            }
            "http_proxy" | "http" | "aws" | "aws_proxy" => Err(format!(
                "integration type {kind} is not supported yet (--allow-unsupported answers 500 instead)"
            )),
            other => Err(format!("unknown integration type {other:?}")),
        }
    }

    /// For the startup listing.
    pub(crate) fn describe(&self) -> String {
        match self {
            Integration::Echo => "echo".to_owned(),
            Integration::Mock(mock) => mock.describe(),
            Integration::Unsupported(kind) => format!("{kind} (unsupported: answers 500)"),
        }
    }
}
