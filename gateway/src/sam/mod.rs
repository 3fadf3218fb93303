//! A SAM or CloudFormation template (`--template`) as the API Gateway export
//! it deploys: the REST API's OpenAPI definition with API Gateway's
//! extensions, which the gateway then serves as it serves `--openapi`, so a
//! template and the export of the API it deploys get the same answers.
//!
//! - [`yaml`]: the text (JSON, or YAML with CloudFormation's short-form
//!   tags), bounded;
//! - [`intrinsics`]: `Ref`, `Fn::GetAtt`, `Fn::Sub`... with the stand-ins a
//!   stack has before it is deployed;
//! - [`serverless`]: `AWS::Serverless::Api`, explicit or the implicit
//!   `ServerlessRestApi`, with functions' `Api` events, as SAM's transform
//!   writes it;
//! - [`cloudformation`]: `AWS::ApiGateway::RestApi`, its `Body` or its
//!   resources, methods, authorizers and stages.
//!
//! One REST API is served: the template's only one, or the one
//! `--template-api` names. HTTP APIs (`AWS::Serverless::HttpApi`,
//! `AWS::ApiGatewayV2::*`) are not REST APIs and are left out, named at
//! startup.
//!
//! User pools declared in the template (`AWS::Cognito::UserPool`) have no
//! ID until deployed: they get a stand-in ID (`{region}_{LogicalId}`),
//! served by the dev issuer, which is on by default when every pool the
//! authorizers use is declared in the template and no Cognito option is
//! given; `--user-pool` replaces them with a deployed pool.
//!
//! **[choice]** What the conversion cannot know stops startup, naming the
//! resource and property: an intrinsic without an offline value, an S3
//! location, a stack transform other than SAM's and
//! `AWS::LanguageExtensions`, a template with several REST APIs and no
//! `--template-api`, several stages and no `--stage` naming one, a declared
//! pool with neither the dev issuer nor `--user-pool`. Guessing could serve
//! a method with other authorization than the deployed API has.

mod cloudformation;
mod intrinsics;
mod serverless;
mod yaml;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;
use tower_cognito::openapi::OpenApiImport;

use intrinsics::Resolver;

/// The transforms whose effect is known: SAM's, and the language
/// extensions (whose functions the resolver refuses one by one).
const KNOWN_TRANSFORMS: [&str; 2] = ["AWS::Serverless-2016-10-31", "AWS::LanguageExtensions"];

/// `--template` and what goes with it.
#[derive(Clone, Debug)]
pub(crate) struct TemplateSource {
    pub(crate) path: PathBuf,
    /// `--parameter-overrides`, parsed.
    pub(crate) overrides: Vec<(String, String)>,
    /// `--template-api`.
    pub(crate) api: Option<String>,
}

/// A user pool declared in the template.
#[derive(Clone, Debug)]
pub(crate) struct DeclaredPool {
    pub(crate) logical_id: String,
    /// Its stand-in ID.
    pub(crate) id: String,
}

/// A template, converted.
#[derive(Debug)]
pub(crate) struct Converted {
    /// The export.
    pub(crate) export: Value,
    /// What was served, for the startup line.
    pub(crate) description: String,
    /// The chosen stage's variables.
    pub(crate) stage_variables: Vec<(String, String)>,
    pub(crate) declared_pools: Vec<DeclaredPool>,
    /// What the template has that is not served, for the startup listing.
    pub(crate) notes: Vec<String>,
    /// The files read besides the template (local `DefinitionUri`s).
    pub(crate) files: Vec<PathBuf>,
}

/// Reads and converts the template; `stage` is `--stage`, which picks one
/// of several stages.
pub(crate) fn convert(source: &TemplateSource, stage: &str) -> Result<Converted, String> {
    let shown = source.path.display();
    let text = std::fs::read_to_string(&source.path).map_err(|e| format!("{shown}: {e}"))?;
    let template = yaml::load(&text).map_err(|e| format!("{shown}: {e}"))?;
    convert_value(
        &template,
        source,
        stage,
        source.path.parent().unwrap_or(Path::new(".")),
    )
    .map_err(|e| format!("{shown}: {e}"))
}

fn convert_value(
    template: &Value,
    source: &TemplateSource,
    stage: &str,
    dir: &Path,
) -> Result<Converted, String> {
    if !template.is_object() {
        return Err("not a template (expected an object with Resources)".into());
    }
    let transforms: Vec<&str> = match template.get("Transform") {
        None => Vec::new(),
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(list)) => list
            .iter()
            .map(|t| t.as_str().unwrap_or("(not a name)"))
            .collect(),
        Some(_) => vec!["(not a name)"],
    };
    if let Some(unknown) = transforms.iter().find(|t| !KNOWN_TRANSFORMS.contains(t)) {
        return Err(format!(
            "Transform {unknown}: a macro may rewrite the template, so what it deploys is unknown \
             offline (supported: {})",
            KNOWN_TRANSFORMS.join(", ")
        ));
    }
    let r = Resolver::new(template, &source.overrides)?;
    let mut notes = Vec::new();
    let mut files = Vec::new();

    // The REST APIs, and the one to serve.
    let mut apis: Vec<(String, &'static str)> = Vec::new();
    let mut http_apis = Vec::new();
    for logical in r.resources().keys() {
        let ty = r.type_of(logical);
        match ty {
            "AWS::Serverless::Api" | "AWS::ApiGateway::RestApi" if r.enabled(logical)? => {
                apis.push((
                    logical.clone(),
                    if ty == "AWS::Serverless::Api" {
                        "AWS::Serverless::Api"
                    } else {
                        "AWS::ApiGateway::RestApi"
                    },
                ));
            }
            "AWS::Serverless::HttpApi" | "AWS::ApiGatewayV2::Api" => {
                http_apis.push(logical.clone())
            }
            _ => {}
        }
    }
    if serverless::has_implicit_api(&r)? && !apis.iter().any(|(a, _)| a == serverless::IMPLICIT_API)
    {
        apis.push((serverless::IMPLICIT_API.to_owned(), "AWS::Serverless::Api"));
    }
    for api in &http_apis {
        notes.push(format!(
            "resource {api} ({}): an HTTP API is not served: the gateway serves REST APIs",
            r.type_of(api)
        ));
    }
    let names = || {
        apis.iter()
            .map(|(a, _)| a.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (api, ty) = match &source.api {
        Some(wanted) => apis
            .iter()
            .find(|(a, _)| a == wanted)
            .cloned()
            .ok_or_else(|| {
                format!(
                    "--template-api {wanted}: the template's REST APIs are: {}",
                    if apis.is_empty() {
                        "none".to_owned()
                    } else {
                        names()
                    }
                )
            })?,
        None => match apis.as_slice() {
            [one] => one.clone(),
            [] => {
                return Err(
                    "no REST API: no AWS::Serverless::Api, no function with an Api event, no \
                     AWS::ApiGateway::RestApi"
                        .into(),
                )
            }
            _ => {
                return Err(format!(
                    "several REST APIs ({}): choose one with --template-api LOGICAL_ID",
                    names()
                ))
            }
        },
    };
    let built = if ty == "AWS::Serverless::Api" {
        serverless::convert(&r, template, &api, dir, &mut notes, &mut files)?
    } else {
        cloudformation::convert(&r, &api, &mut notes)?
    };
    let (stage_name, stage_variables) = match built.stages.as_slice() {
        [] => (None, Vec::new()),
        [(name, variables)] => (Some(name.clone()), variables.clone()),
        several => match several.iter().find(|(name, _)| name == stage) {
            Some((name, variables)) => (Some(name.clone()), variables.clone()),
            None => {
                let mut names: Vec<&str> = several.iter().map(|(n, _)| n.as_str()).collect();
                names.sort_unstable();
                return Err(format!(
                    "{api} has several stages ({}): choose one with --stage NAME",
                    names.join(", ")
                ));
            }
        },
    };
    let mut declared_pools = Vec::new();
    for logical in r.resources().keys() {
        if r.type_of(logical) == "AWS::Cognito::UserPool" && r.enabled(logical)? {
            declared_pools.push(DeclaredPool {
                logical_id: logical.clone(),
                id: r.pool_id(logical),
            });
        }
    }
    let implicit = if api == serverless::IMPLICIT_API && !r.resources().contains_key(&api) {
        ", implicit"
    } else {
        ""
    };
    let description = match &stage_name {
        Some(s) => format!("REST API {api} ({ty}{implicit}), template stage {s}"),
        None => format!("REST API {api} ({ty}{implicit})"),
    };
    Ok(Converted {
        export: built.export,
        description,
        stage_variables,
        declared_pools,
        notes,
        files,
    })
}

/// The user pools of the import's authorizers that the template declares:
/// `(authorizer, pool's logical ID)`.
fn declared_in_use<'a>(
    converted: &'a Converted,
    import: &'a OpenApiImport,
) -> Vec<(&'a str, &'a DeclaredPool)> {
    let mut out = Vec::new();
    for authorizer in &import.authorizers {
        for arn in &authorizer.provider_arns {
            let id = arn
                .rsplit_once("userpool/")
                .map_or(arn.as_str(), |(_, id)| id);
            if let Some(pool) = converted.declared_pools.iter().find(|p| p.id == id) {
                out.push((authorizer.name.as_str(), pool));
            }
        }
    }
    out
}

/// Whether the dev issuer is on by default: every pool the authorizers use
/// is declared in the template (so no deployed pool could issue a token
/// for it), and no Cognito option points elsewhere.
pub(crate) fn dev_issuer_by_default(
    converted: &Converted,
    import: &OpenApiImport,
    cognito_options: bool,
) -> bool {
    let pools: BTreeSet<&str> = import
        .authorizers
        .iter()
        .flat_map(|a| a.provider_arns.iter())
        .map(|arn| {
            arn.rsplit_once("userpool/")
                .map_or(arn.as_str(), |(_, id)| id)
        })
        .collect();
    !cognito_options
        && !pools.is_empty()
        && pools
            .iter()
            .all(|id| converted.declared_pools.iter().any(|p| p.id == *id))
}

/// A declared pool needs the dev issuer or `--user-pool` to mean anything.
pub(crate) fn check_declared_pools(
    converted: &Converted,
    import: &OpenApiImport,
    dev_issuer: bool,
    user_pools_given: bool,
) -> Result<(), String> {
    if dev_issuer || user_pools_given {
        return Ok(());
    }
    if let Some((authorizer, pool)) = declared_in_use(converted, import).first() {
        return Err(format!(
            "authorizer {authorizer} uses the user pool {} (AWS::Cognito::UserPool) declared in \
             the template, which has no ID until deployed (stand-in {}): serve it with the dev \
             issuer (GATEWAY_DEV_ISSUER=1, the default when every pool is declared in the \
             template and no COGNITO_* option is set), or pass --user-pool with a deployed pool",
            pool.logical_id, pool.id
        ));
    }
    Ok(())
}

/// `--parameter-overrides` values as SAM CLI reads them: `NAME=VALUE` pairs
/// separated by spaces (a value quoted with `"` or `'` may hold spaces),
/// or `ParameterKey=NAME,ParameterValue=VALUE`.
pub(crate) fn parse_overrides(values: &[String]) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    for value in values {
        for token in split_quoted(value)? {
            let (name, value) = match token.strip_prefix("ParameterKey=") {
                Some(rest) => rest
                    .split_once(",ParameterValue=")
                    .map(|(n, v)| (n.to_owned(), v.to_owned()))
                    .ok_or_else(|| format!("--parameter-overrides {token:?}: expected ParameterKey=NAME,ParameterValue=VALUE"))?,
                None => token
                    .split_once('=')
                    .map(|(n, v)| (n.to_owned(), v.to_owned()))
                    .ok_or_else(|| format!("--parameter-overrides {token:?}: expected NAME=VALUE"))?,
            };
            let ok = !name.is_empty()
                && name
                    .strip_prefix("AWS::")
                    .unwrap_or(&name)
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric());
            if !ok {
                return Err(format!(
                    "--parameter-overrides {token:?}: {name:?} is not a parameter name"
                ));
            }
            out.retain(|(n, _)| *n != name);
            out.push((name, unquote(&value)));
        }
    }
    Ok(out)
}

/// Splits at spaces outside quotes.
fn split_quoted(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, c) if c.is_whitespace() => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            (None, '"' | '\'') => {
                quote = Some(c);
                current.push(c);
            }
            (Some(q), c) if c == q => {
                quote = None;
                current.push(c);
            }
            (Some(_), '\\') => {
                current.push(c);
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            (_, c) => current.push(c),
        }
    }
    if quote.is_some() {
        return Err(format!(
            "--parameter-overrides {text:?}: unterminated quote"
        ));
    }
    if !current.is_empty() {
        out.push(current);
    }
    Ok(out)
}

/// `"a b"` or `'a b'` as `a b`, `\"` as `"`.
fn unquote(value: &str) -> String {
    let inner = match value.as_bytes() {
        [q @ (b'"' | b'\''), .., last] if q == last && value.len() >= 2 => {
            &value[1..value.len() - 1]
        }
        _ => return value.to_owned(),
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests;
