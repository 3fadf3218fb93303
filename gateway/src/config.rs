//! Export + stage variables + overrides -> one immutable [`Deployment`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tower::Layer as _;
use tower_cognito::openapi::{ImportOptions, OpenApiImport};
use tower_cognito::{CognitoAuth, CognitoAuthLayer, PolicySummary};

use crate::answers::Answers;
use crate::authorizers::LambdaAuthorizers;
use crate::cli::{EchoMode, ServeArgs, Switch};
use crate::extensions::{self, Refusal};
use crate::integration::lambda::BinaryMediaTypes;
use crate::integration::{responses, Integration, ParseContext};
use crate::pipeline::Integrations;
use crate::sam::{self, TemplateSource};
use crate::validation::{Models, RequestValidator};

mod settings;

/// The shipped export, served when no `--openapi` is given (built in, so the
/// binary runs from any directory).
pub(crate) const SHIPPED_EXPORT: &str = include_str!("../exports/petstore.json");
pub(crate) const SHIPPED_EXPORT_NAME: &str = "gateway/exports/petstore.json";

/// Where the document comes from.
#[derive(Clone, Debug)]
pub(crate) enum DocumentSource {
    Shipped,
    File(std::path::PathBuf),
    /// A SAM or CloudFormation template, converted to its export.
    Template(TemplateSource),
}

impl DocumentSource {
    pub(crate) fn name(&self) -> String {
        match self {
            DocumentSource::Shipped => format!("{SHIPPED_EXPORT_NAME} (shipped)"),
            DocumentSource::File(path) => path.display().to_string(),
            DocumentSource::Template(t) => t.path.display().to_string(),
        }
    }

    pub(crate) fn read(&self) -> Result<String, String> {
        match self {
            DocumentSource::Shipped => Ok(SHIPPED_EXPORT.to_owned()),
            DocumentSource::File(path) | DocumentSource::Template(TemplateSource { path, .. }) => {
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
            }
        }
    }
}

/// The settings a deployment is built from (the CLI, checked).
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub(crate) source: DocumentSource,
    pub(crate) stage_variables: Vec<(String, String)>,
    pub(crate) stage: String,
    pub(crate) pools: Option<Vec<String>>,
    pub(crate) jwks_endpoint: Option<String>,
    pub(crate) issuer_endpoint: Option<String>,
    pub(crate) token_validation: Option<String>,
    pub(crate) allow_unsupported: bool,
    /// `--refuse-unsupported-auth`.
    pub(crate) refuse_unsupported_auth: bool,
    /// `--strict`: what AWS deploys but answers otherwise than the export
    /// says (an unset stage variable in a URI, a mapping onto
    /// `Content-Length`...) refuses the export instead of a warning.
    pub(crate) strict: bool,
    pub(crate) auth: bool,
    pub(crate) echo: EchoMode,
    /// `None`: default; `Some(0)`: off.
    pub(crate) token_cache: Option<usize>,
    pub(crate) key_refresh: Option<Duration>,
    pub(crate) max_body_bytes: u64,
    pub(crate) integration_bases: Vec<(String, String)>,
    /// `NAME=VALUE` lines read on every (re)load, after `--stage-variable`.
    pub(crate) stage_variables_file: Option<std::path::PathBuf>,
    /// `--lambda-endpoint`: the Lambda Invoke API for `aws_proxy`.
    pub(crate) lambda_endpoint: Option<String>,
    /// `--authorizer-timeout-ms`: how long a Lambda authorizer may take.
    pub(crate) authorizer_timeout: Duration,
    /// The shared revocation list (`--redis`), kept across reloads.
    pub(crate) revocations: Option<tower_cognito::revocation::RevocationList>,
}

/// One operation of the export.
#[derive(Debug)]
pub(crate) struct Operation {
    pub(crate) integration: Integration,
    /// Its request validator, when one applies and validates something.
    pub(crate) validator: Option<RequestValidator>,
}

/// The operations by route (`GET /pets/{petId}`, as
/// [`MatchedRoute::as_str`](tower_cognito::MatchedRoute::as_str)).
#[derive(Debug)]
pub(crate) struct Operations {
    pub(crate) by_route: HashMap<String, Operation>,
    pub(crate) echo: EchoMode,
    pub(crate) stage: String,
    pub(crate) max_body_bytes: u64,
}

/// Everything a request needs, swapped whole on reload.
pub(crate) struct Deployment {
    pub(crate) layer: CognitoAuthLayer,
    /// The authorizer around the integrations; `None` with `--auth off`.
    pub(crate) service: Option<CognitoAuth<Integrations>>,
    pub(crate) integrations: Integrations,
    pub(crate) answers: Arc<Answers>,
    pub(crate) summary: PolicySummary,
    /// Largest request body accepted.
    pub(crate) max_body_bytes: u64,
    /// Whether the layer (and its keys) is the previous deployment's.
    pub(crate) keys_kept: bool,
    /// Otherwise, the pools whose keys the new layer took over from it.
    pub(crate) keys_adopted: Vec<String>,
    /// Methods protected by what the gateway does not check, by route
    /// (`--refuse-unsupported-auth`).
    pub(crate) refusals: HashMap<String, Refusal>,
    /// Methods behind a Lambda authorizer, run before the integration.
    pub(crate) lambda_authorizers: LambdaAuthorizers,
    /// Startup warnings: what is served otherwise than the export says, as
    /// AWS serves it, then what the export asks for that is not enforced.
    pub(crate) notices: Vec<String>,
}

/// A parsed document: the library's import and the raw value.
pub(crate) struct Document {
    pub(crate) name: String,
    pub(crate) import: OpenApiImport,
    pub(crate) value: Value,
    /// For a template: what it was converted to, besides the export.
    pub(crate) template: Option<sam::Converted>,
}

impl Document {
    pub(crate) fn load(settings: &Settings) -> Result<Self, String> {
        let mut name = settings.source.name();
        let (text, template) = match &settings.source {
            DocumentSource::Template(source) => {
                let converted = sam::convert(source, &settings.stage)?;
                name = format!("{name} ({})", converted.description);
                (converted.export.to_string(), Some(converted))
            }
            other => (other.read()?, None),
        };
        // Methods the layer cannot protect are kept apart (and denied by the
        // layer); `build` refuses or answers them.
        let mut options = ImportOptions::new().skip_unsupported_authorizers(true);
        let template_variables = template.iter().flat_map(|t| t.stage_variables.iter());
        for (k, v) in template_variables.chain(&settings.stage_variables) {
            options = options.stage_variable(k.clone(), v.clone());
        }
        let import = OpenApiImport::parse(&text, &options).map_err(|e| format!("{name}: {e}"))?;
        let value = match template.as_ref() {
            Some(t) => t.export.clone(),
            None => parse_value(&text).map_err(|e| format!("{name}: {e}"))?,
        };
        Ok(Self {
            name,
            import,
            value,
            template,
        })
    }

    /// Stage variables: the template's stage's, then the command line's.
    fn stage_variables(&self, settings: &Settings) -> HashMap<String, String> {
        let template = self.template.iter().flat_map(|t| t.stage_variables.iter());
        template.chain(&settings.stage_variables).cloned().collect()
    }

    /// For a template, whether the dev issuer is on by default (see
    /// [`sam::dev_issuer_by_default`]); `None` otherwise.
    pub(crate) fn dev_issuer_by_default(&self, settings: &Settings) -> Option<bool> {
        let template = self.template.as_ref()?;
        let cognito_options = settings.pools.is_some()
            || settings.jwks_endpoint.is_some()
            || settings.issuer_endpoint.is_some();
        Some(sam::dev_issuer_by_default(
            template,
            &self.import,
            cognito_options,
        ))
    }

    /// For a template, that its declared pools are served (see
    /// [`sam::check_declared_pools`]).
    pub(crate) fn check_declared_pools(
        &self,
        settings: &Settings,
        dev_issuer: bool,
    ) -> Result<(), String> {
        match &self.template {
            Some(t) => {
                sam::check_declared_pools(t, &self.import, dev_issuer, settings.pools.is_some())
                    .map_err(|e| format!("{}: {e}", self.name))
            }
            None => Ok(()),
        }
    }
}

/// `X-Amzn-Apigateway-Api-Id`: the API ID of the export's
/// `{id}.execute-api.{region}.amazonaws.com` server, else `local`.
pub(crate) fn api_id(document: &Value) -> String {
    let host = document
        .pointer("/servers/0/url")
        .and_then(Value::as_str)
        .and_then(|u| u.split_once("://").map(|(_, rest)| rest))
        .or_else(|| document.get("host").and_then(Value::as_str))
        .unwrap_or("");
    match host.split_once(".execute-api.") {
        Some((id, _)) if !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric()) => {
            id.to_owned()
        }
        _ => "local".to_owned(),
    }
}

/// JSON, or else YAML, as a JSON value.
pub(crate) fn parse_value(text: &str) -> Result<Value, String> {
    if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| e.to_string())
    } else {
        serde_norway::from_str(text).map_err(|e| e.to_string())
    }
}

/// Builds a deployment; `jwks_endpoint` is the dev issuer's when it runs.
pub(crate) fn build(
    settings: &Settings,
    document: &Document,
    jwks_endpoint: Option<&str>,
    previous: Option<&Deployment>,
) -> Result<Deployment, String> {
    let stage_variables = document.stage_variables(settings);
    let api_id = api_id(&document.value);
    // Lambda authorizers run when functions can be invoked; else refused.
    let lambda_authorizers = LambdaAuthorizers::build(
        &document.import,
        settings.lambda_endpoint.as_deref(),
        settings.authorizer_timeout,
        &api_id,
        &settings.stage,
        &stage_variables,
    )
    .map_err(|e| format!("{}: {e}", document.name))?;
    let mut refusals = HashMap::new();
    let mut unsupported = Vec::new();
    for skipped in &document.import.skipped {
        let method = skipped.method.as_ref().map_or("ANY", |m| m.as_str());
        let key = format!("{method} {}", skipped.path);
        if lambda_authorizers.covers(&key) {
            continue;
        }
        let refusal = Refusal::classify(&document.value, &skipped.pointer, &skipped.scheme);
        unsupported.push(format!(
            "operation {key} (#{}): {}",
            skipped.pointer, skipped.reason
        ));
        refusals.insert(key, refusal);
    }
    if !unsupported.is_empty() && !settings.refuse_unsupported_auth {
        return Err(format!(
            "{}: methods protected by what the gateway does not check (IAM, API keys, Lambda \
             authorizers); --refuse-unsupported-auth (GATEWAY_REFUSE_UNSUPPORTED_AUTH) serves \
             them, answering as AWS answers a request without valid credentials:\n  {}",
            document.name,
            unsupported.join("\n  ")
        ));
    }
    let mut builder = CognitoAuthLayer::builder()
        .openapi_import(&document.import)
        .grpc_replies(false);
    if let Some(pools) = &settings.pools {
        builder = builder.override_user_pools(pools.iter().cloned());
    }
    if let Some(expression) = &settings.token_validation {
        builder = builder.override_token_validation(expression.clone());
    }
    if let Some(base) = &settings.issuer_endpoint {
        builder = builder.issuer_endpoint(base.clone());
    }
    if let Some(base) = jwks_endpoint.or(settings.jwks_endpoint.as_deref()) {
        builder = builder.jwks_endpoint(base.to_owned());
    }
    match settings.token_cache {
        Some(0) => builder = builder.no_token_cache(),
        Some(entries) => builder = builder.token_cache(entries, usize::MAX),
        None => {}
    }
    if let Some(every) = settings.key_refresh {
        builder = builder.refresh_interval(every);
    }
    if let Some(list) = &settings.revocations {
        builder = builder.revocation_list(list.clone());
    }
    let layer = builder
        .build()
        .map_err(|e| format!("{} with the Cognito overrides: {e}", document.name))?;
    // Same authorizers, pools and policies as the deployment in force: keep
    // its layer, so its keys (and verified tokens) carry over.
    let (layer, keys_kept) = match previous {
        Some(p) if p.summary == layer.policy_summary() => (p.layer.clone(), true),
        _ => (layer, false),
    };
    // Other authorizers or policies: a new layer, which still takes over the
    // keys of the pools it shares with the previous one (no refetch).
    let keys_adopted = match previous {
        Some(p) if !keys_kept => layer.key_store().adopt_keys(p.layer.key_store()),
        _ => Vec::new(),
    };

    let binary_media_types = BinaryMediaTypes::from_document(&document.value)
        .map_err(|e| format!("{}: {e}", document.name))?;
    let cx = ParseContext {
        allow_unsupported: settings.allow_unsupported,
        stage_variables: &stage_variables,
        bases: &settings.integration_bases,
        api_id: &api_id,
        lambda_endpoint: settings.lambda_endpoint.as_deref(),
        binary_media_types: &binary_media_types,
    };
    let mut by_route = HashMap::new();
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    // Compiled once per deployment, each distinct model once.
    let mut models = Models::new(&document.value);
    // Methods behind a Lambda authorizer are served too.
    let served = document
        .import
        .routes
        .iter()
        .map(|r| (&r.method, &r.path, &r.pointer))
        .chain(
            document
                .import
                .skipped
                .iter()
                .map(|r| (&r.method, &r.path, &r.pointer)),
        )
        .filter(|(m, p, _)| {
            let method = m.as_ref().map_or("ANY", |m| m.as_str());
            !refusals.contains_key(&format!("{method} {p}"))
        });
    for (method, path, pointer) in served {
        let method = method.as_ref().map_or("ANY", |m| m.as_str());
        let key = format!("{method} {path}");
        let operation = document.value.pointer(pointer).unwrap_or(&Value::Null);
        let validator = RequestValidator::for_operation(&mut models, pointer, path);
        match (Integration::parse(operation, &cx), validator) {
            (Ok(integration), Ok(validator)) => {
                for warning in served_otherwise(&integration, operation) {
                    let line = format!("operation {key} (#{}): {warning}", pointer);
                    if settings.strict {
                        errors.push(format!("{line} (--strict)"));
                    } else {
                        warnings.push(format!("{line} (--strict refuses it)"));
                    }
                }
                by_route.insert(
                    key,
                    Operation {
                        integration,
                        validator,
                    },
                );
            }
            (Err(e), _) | (_, Err(e)) => {
                errors.push(format!("operation {key} (#{}): {e}", pointer))
            }
        }
    }
    if !errors.is_empty() {
        return Err(format!("{}:\n  {}", document.name, errors.join("\n  ")));
    }
    let answers = Arc::new(
        Answers::from_document(&document.value, &settings.stage)
            .map_err(|e| format!("{}: {e}", document.name))?,
    );
    let integrations = Integrations::new(
        Arc::new(Operations {
            by_route,
            echo: settings.echo,
            stage: settings.stage.clone(),
            max_body_bytes: settings.max_body_bytes,
        }),
        Arc::clone(&answers),
    );
    let service = settings.auth.then(|| layer.layer(integrations.clone()));
    let summary = layer.policy_summary();
    Ok(Deployment {
        layer,
        service,
        integrations,
        answers,
        summary,
        max_body_bytes: settings.max_body_bytes,
        keys_kept,
        keys_adopted,
        refusals,
        lambda_authorizers,
        notices: warnings
            .into_iter()
            .chain(extensions::notices(&document.value))
            .chain(
                document
                    .template
                    .iter()
                    .flat_map(|t| t.notes.iter().cloned()),
            )
            .collect(),
    })
}

/// What an operation's integration serves otherwise than its export says,
/// as AWS does (`mapping.rs`, `http_proxy.rs`, `responses.rs`): startup
/// warnings, or with `--strict` startup errors.
fn served_otherwise(integration: &Integration, operation: &Value) -> Vec<String> {
    let json = operation
        .get("x-amazon-apigateway-integration")
        .unwrap_or(&Value::Null);
    match integration {
        Integration::HttpProxy(proxy) => proxy.warnings.clone(),
        Integration::Http(http) => http
            .warnings()
            .iter()
            .cloned()
            .chain(responses::parameter_warnings(json))
            .collect(),
        Integration::Mock(_) => responses::parameter_warnings(json),
        _ => Vec::new(),
    }
}

impl Deployment {
    /// One line per route: policy and integration; then the warnings.
    pub(crate) fn route_lines(&self) -> Vec<String> {
        self.summary
            .routes
            .iter()
            .map(|r| {
                if let Some(refusal) = self.refusals.get(r.route.as_str()) {
                    return format!("route {}: {}", r.route, refusal.describe());
                }
                let operation = self
                    .integrations
                    .operations()
                    .by_route
                    .get(r.route.as_str());
                let mut integration =
                    operation.map_or_else(|| "echo".to_owned(), |o| o.integration.describe());
                if let Some(validator) = operation.and_then(|o| o.validator.as_ref()) {
                    integration.push_str(&format!(", request validator {}", validator.name()));
                }
                match self.lambda_authorizers.describe(r.route.as_str()) {
                    Some(about) => format!("route {}: {about} -> {integration}", r.route),
                    None => format!("route {}: {} -> {integration}", r.route, r.policy),
                }
            })
            .chain(self.notices.iter().map(|n| format!("warning: {n}")))
            .collect()
    }
}
