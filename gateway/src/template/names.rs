//! What a reference's name means: `$input`, `$util`, `$context.*`,
//! `$stageVariables`, `$foreach`, or a template variable. Checked at parse
//! time, so a typo in a `$context` variable fails the template, not the
//! request.

use super::ast::*;
use super::error::ErrorKind;
use super::jsonpath::JsonPath;
use super::parser::{PResult, Parser};

const CONTEXT_VARS: &[&str] = &[
    "accountId",
    "apiId",
    "awsEndpointRequestId",
    "deploymentId",
    "domainName",
    "domainPrefix",
    "extendedRequestId",
    "httpMethod",
    "isCanaryRequest",
    "path",
    "protocol",
    "requestId",
    "requestTime",
    "requestTimeEpoch",
    "resourceId",
    "resourcePath",
    "stage",
    "wafResponseCode",
    "webaclArn",
    "xrayTraceId",
];

const IDENTITY_VARS: &[&str] = &[
    "accountId",
    "apiKey",
    "apiKeyId",
    "caller",
    "cognitoAuthenticationProvider",
    "cognitoAuthenticationType",
    "cognitoIdentityId",
    "cognitoIdentityPoolId",
    "principalOrgId",
    "sourceIp",
    "user",
    "userAgent",
    "userArn",
    "vpceId",
];

const ERROR_VARS: &[&str] = &[
    "message",
    "messageString",
    "responseType",
    "validationErrorString",
];

impl Parser<'_> {
    pub(crate) fn resolve(
        &mut self,
        at: usize,
        name: &str,
        mut chain: Vec<Modifier>,
    ) -> PResult<Reference> {
        let unsupported = |p: &Self, what: String| Err(p.err(ErrorKind::Unsupported, at, what));
        let root = match name {
            "input" => match chain.first_mut() {
                Some(Modifier::Property(p)) if p == "body" => Root::Input,
                Some(Modifier::Method(
                    m @ (Method::Json | Method::Path | Method::Params),
                    args,
                )) => {
                    if matches!(m, Method::Json | Method::Path) {
                        self.literal_path(at, args)?;
                    }
                    Root::Input
                }
                Some(Modifier::Property(p)) => {
                    return unsupported(self, format!("$input.{p} is not supported"))
                }
                Some(Modifier::Method(m, _)) => {
                    return unsupported(
                        self,
                        format!("$input.{} is not supported", method_name(*m)),
                    )
                }
                _ => {
                    return unsupported(
                        self,
                        "$input needs .body, .json(), .path() or .params()".into(),
                    )
                }
            },
            "util" => match chain.first() {
                Some(Modifier::Method(
                    Method::EscapeJavaScript
                    | Method::ParseJson
                    | Method::UrlEncode
                    | Method::UrlDecode
                    | Method::Base64Encode
                    | Method::Base64Decode,
                    _,
                )) => Root::Util,
                Some(Modifier::Method(m, _)) => {
                    return unsupported(self, format!("$util.{} is not supported", method_name(*m)))
                }
                _ => return unsupported(self, "$util needs one of its functions".into()),
            },
            "context" => Root::Context(self.context_path(at, &mut chain)?),
            "stageVariables" => Root::StageVariables,
            "foreach" | "velocityCount" | "velocityHasNext" if self.loop_depth == 0 => {
                return unsupported(self, format!("${name} outside #foreach"))
            }
            "velocityCount" => Root::VelocityCount,
            "velocityHasNext" => Root::VelocityHasNext,
            "foreach" => {
                let prop = match chain.first() {
                    Some(Modifier::Property(p)) => match p.as_str() {
                        "hasNext" => LoopProp::HasNext,
                        "index" => LoopProp::Index,
                        "count" => LoopProp::Count,
                        "first" => LoopProp::First,
                        "last" => LoopProp::Last,
                        other => {
                            return unsupported(self, format!("$foreach.{other} is not supported"))
                        }
                    },
                    _ => {
                        return unsupported(
                            self,
                            "$foreach needs .hasNext, .index, .count, .first or .last".into(),
                        )
                    }
                };
                chain.remove(0);
                Root::Foreach(prop)
            }
            _ => Root::Var(self.slot(name)),
        };
        // `put()` changes the map it is called on: only an override map,
        // which the gateway reads as strings, may be changed.
        let on_override_map = matches!(root, Root::Context(ContextPath::OverrideMap(_)));
        for (i, m) in chain.iter().enumerate() {
            if matches!(m, Modifier::Method(Method::Put, _)) && !(i == 0 && on_override_map) {
                return unsupported(
                    self,
                    "put() is supported on $context.requestOverride.header, .querystring, .path \
                     and $context.responseOverride.header only"
                        .into(),
                );
            }
        }
        Ok(Reference {
            root,
            chain,
            pos: self.abs(at),
        })
    }

    /// A string-literal JSONPath is parsed (and checked) now, once.
    fn literal_path(&self, at: usize, args: &mut [Expr]) -> PResult<()> {
        if let Some(arg) = args.first_mut() {
            if let Expr::Str(s) = arg {
                let path =
                    JsonPath::parse(s).map_err(|e| self.err(ErrorKind::Unsupported, at, e))?;
                *arg = Expr::Path(path, std::mem::take(s));
            }
        }
        Ok(())
    }

    fn context_path(&self, at: usize, chain: &mut Vec<Modifier>) -> PResult<ContextPath> {
        let mut segs: Vec<String> = Vec::new();
        for m in chain.iter().take(3) {
            match m {
                Modifier::Property(p) => segs.push(p.clone()),
                Modifier::Index(Expr::Str(s)) => segs.push(s.clone()),
                _ => break,
            }
        }
        let s: Vec<&str> = segs.iter().map(String::as_str).collect();
        let (path, used) = match s.as_slice() {
            ["authorizer", "claims", claim, ..] => (ContextPath::Claim((*claim).to_owned()), 3),
            ["authorizer", "claims"] => (ContextPath::Claims, 2),
            ["authorizer", key, ..] => (ContextPath::Var(format!("authorizer.{key}")), 2),
            ["requestOverride", kind @ ("header" | "querystring" | "path"), name, ..] => {
                let slot = match *kind {
                    "header" => OverrideSlot::RequestHeader,
                    "querystring" => OverrideSlot::RequestQuery,
                    _ => OverrideSlot::RequestPath,
                };
                (ContextPath::Override(slot, (*name).to_owned()), 3)
            }
            ["requestOverride", kind @ ("header" | "querystring" | "path")] => {
                let slot = match *kind {
                    "header" => OverrideSlot::RequestHeader,
                    "querystring" => OverrideSlot::RequestQuery,
                    _ => OverrideSlot::RequestPath,
                };
                (ContextPath::OverrideMap(slot), 2)
            }
            ["responseOverride", "status", ..] => (ContextPath::Status, 2),
            ["responseOverride", "header", name, ..] => (
                ContextPath::Override(OverrideSlot::ResponseHeader, (*name).to_owned()),
                3,
            ),
            ["responseOverride", "header"] => {
                (ContextPath::OverrideMap(OverrideSlot::ResponseHeader), 2)
            }
            // Kept for later templates to read, with no effect (AWS passes
            // them around: LocalStack's recorded
            // test_integration_mock_with_response_override_in_request_template).
            ["responseOverride", name, ..] => (
                ContextPath::Override(OverrideSlot::ResponseOther, (*name).to_owned()),
                2,
            ),
            ["identity", v, ..] if IDENTITY_VARS.contains(v) => {
                (ContextPath::Var(format!("identity.{v}")), 2)
            }
            ["error", v, ..] if ERROR_VARS.contains(v) => {
                (ContextPath::Var(format!("error.{v}")), 2)
            }
            [v, ..] if CONTEXT_VARS.contains(v) => (ContextPath::Var((*v).to_owned()), 1),
            _ => {
                let shown = if s.is_empty() {
                    String::new()
                } else {
                    format!(".{}", s.join("."))
                };
                return Err(self.err(
                    ErrorKind::Unsupported,
                    at,
                    format!("$context{shown} is not an API Gateway context variable this engine supports"),
                ));
            }
        };
        chain.drain(..used);
        Ok(path)
    }
}

fn method_name(m: Method) -> String {
    let debug = format!("{m:?}");
    let mut chars = debug.chars();
    chars.next().map_or(String::new(), |c| {
        c.to_ascii_lowercase().to_string() + chars.as_str()
    })
}
