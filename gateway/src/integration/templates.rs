//! The request side of `mock` and `http` integrations: `requestTemplates`
//! chosen by the request's `Content-Type`, `passthroughBehavior`, and the
//! [`Context`] a template renders with, built from the request.
//!
//! - The template is the one keyed by the request's media type (parameters
//!   such as `; charset=utf-8` left out, compared case-insensitively), or
//!   `application/json` when the request names no type, as API Gateway does.
//! - No template for that type: `when_no_match` (the default) passes the
//!   body through; `when_no_templates` passes it through only when the
//!   integration has no template at all; `never` refuses it. Refused: 415
//!   `{"message":"Unsupported Media Type"}` with `x-amzn-ErrorType:
//!   BadRequestException` (the answers module).
//! - Every template is parsed at startup; one the engine cannot take is a
//!   startup error naming the template and its line and column (the
//!   configuration adds the operation).
//!
//! **[choice]** `$input.params().header` holds the request's headers under
//! their canonical spelling (`Content-Type`, `X-Amzn-Trace-Id`): HTTP/2 and
//! hyper lower-case names, and AWS's examples read them the way clients
//! usually send them (`$input.params('Authorization')`).
//! The client's `Connection`, `Content-MD5`, `Expect`, `Max-Forwards`,
//! `Proxy-Authenticate`, `Server`, `TE`, `Transfer-Encoding`, `Trailer`,
//! `Upgrade` and `WWW-Authenticate` are not among them, as recorded
//! (`headers::method_request_hidden`).
//! `$context.requestTime` is `dd/MMM/yyyy:HH:mm:ss +0000`, as AWS writes it;
//! `$context.protocol` is `HTTP/1.1` **[choice]**; `$context.resourceId` is
//! the resource path's stable ID (`mapping::resource_id`, **[choice]**);
//! `accountId`, `domainName` and `deploymentId` render empty (a local
//! deployment has none).

use std::collections::{BTreeMap, HashMap};

use http::header::CONTENT_TYPE;
use http::HeaderMap;
use serde_json::Value;

use crate::mapping::Facts;
use crate::template::{Context, StrMap, Template};

/// `passthroughBehavior`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Passthrough {
    WhenNoMatch,
    WhenNoTemplates,
    Never,
}

/// An integration's request templates, parsed once.
#[derive(Debug)]
pub(crate) struct RequestTemplates {
    /// By lower-cased media type.
    by_type: BTreeMap<String, Template>,
    passthrough: Passthrough,
}

/// What the request's body becomes.
pub(crate) enum Choice<'a> {
    /// Rendered by this template (its key is the content type sent on).
    Render(&'a str, &'a Template),
    /// Passed through as it is.
    PassThrough,
    /// Refused: 415.
    Unsupported,
}

impl RequestTemplates {
    /// Parses `requestTemplates` and `passthroughBehavior`.
    pub(crate) fn parse(integration: &Value) -> Result<Self, String> {
        let passthrough = match integration.get("passthroughBehavior") {
            None => Passthrough::WhenNoMatch,
            Some(v) => match v.as_str().map(str::to_ascii_lowercase).as_deref() {
                Some("when_no_match") => Passthrough::WhenNoMatch,
                Some("when_no_templates") => Passthrough::WhenNoTemplates,
                Some("never") => Passthrough::Never,
                _ => {
                    return Err(format!(
                    "passthroughBehavior {v}: expected WHEN_NO_MATCH, WHEN_NO_TEMPLATES or NEVER"
                ))
                }
            },
        };
        Ok(Self {
            by_type: parse_templates(integration.get("requestTemplates"), "requestTemplates")?,
            passthrough,
        })
    }

    /// The template (or passthrough) for a request with these headers.
    pub(crate) fn choose(&self, headers: &HeaderMap) -> Choice<'_> {
        let wanted = media_type(headers).unwrap_or_else(|| "application/json".to_owned());
        if let Some((key, template)) = self.by_type.get_key_value(&wanted) {
            return Choice::Render(key, template);
        }
        match self.passthrough {
            Passthrough::WhenNoMatch => Choice::PassThrough,
            Passthrough::WhenNoTemplates if self.by_type.is_empty() => Choice::PassThrough,
            Passthrough::WhenNoTemplates | Passthrough::Never => Choice::Unsupported,
        }
    }

    /// The template for one content type.
    pub(crate) fn get(&self, content_type: &str) -> Option<&Template> {
        self.by_type.get(content_type)
    }

    /// Whether there is none.
    pub(crate) fn is_empty(&self) -> bool {
        self.by_type.is_empty()
    }
}

/// A `requestTemplates` / `responseTemplates` map, each template parsed.
pub(crate) fn parse_templates(
    map: Option<&Value>,
    what: &str,
) -> Result<BTreeMap<String, Template>, String> {
    let mut out = BTreeMap::new();
    let Some(map) = map else {
        return Ok(out);
    };
    let map = map
        .as_object()
        .ok_or_else(|| format!("{what}: expected an object"))?;
    for (content_type, text) in map {
        let text = text
            .as_str()
            .ok_or_else(|| format!("{what}['{content_type}']: expected a string"))?;
        let template =
            Template::parse(text).map_err(|e| format!("{what}['{content_type}']: {e}"))?;
        out.insert(content_type.trim().to_ascii_lowercase(), template);
    }
    Ok(out)
}

/// The request's media type, lower-cased, without parameters.
pub(crate) fn media_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .filter(|v| !v.is_empty())
}

/// Stage variables in name order, for the template context.
pub(crate) fn sorted(vars: &HashMap<String, String>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    out.sort();
    out
}

/// What a template context borrows that `Facts` does not hold.
pub(crate) struct Extra<'a> {
    pub(crate) api_id: &'a str,
    pub(crate) stage_variables: &'a [(String, String)],
    /// Owned strings the context points into (canonical header names, the
    /// epoch, the request time).
    pub(crate) scratch: &'a Scratch,
}

/// Strings computed per request for the context.
pub(crate) struct Scratch {
    headers: Vec<(String, String)>,
    epoch: String,
    time: String,
    resource_id: String,
    /// `authorizer.KEY` for each Lambda authorizer value.
    authorizer_names: Vec<String>,
}

impl Scratch {
    pub(crate) fn new(facts: &Facts<'_>) -> Self {
        let headers = facts
            .headers
            .iter()
            .filter(|(n, _)| !crate::headers::method_request_hidden(n.as_str()))
            .filter_map(|(n, v)| Some((canonical(n.as_str()), v.to_str().ok()?.to_owned())))
            .collect();
        Self {
            headers,
            epoch: facts.request_time_epoch.to_string(),
            time: request_time(facts.request_time_epoch),
            resource_id: crate::mapping::resource_id(facts.resource_path),
            authorizer_names: facts
                .authorizer
                .iter()
                .map(|(k, _)| format!("authorizer.{k}"))
                .collect(),
        }
    }
}

/// The context a template renders with, for this request and `body`
/// (`$input.body`).
pub(crate) fn context<'a>(
    facts: &'a Facts<'a>,
    extra: &'a Extra<'a>,
    body: &'a str,
) -> Context<'a> {
    let mut ctx = Context {
        body,
        ..Context::default()
    };
    for &(n, v) in facts.path_params {
        ctx.path.insert(n, v);
    }
    for (n, v) in facts.query {
        ctx.querystring.insert(n.as_str(), v.as_str());
    }
    for (n, v) in &extra.scratch.headers {
        ctx.header.insert(n.as_str(), v.as_str());
    }
    for (n, v) in extra.stage_variables {
        ctx.stage_variables.insert(n.as_str(), v.as_str());
    }
    if let Some(claims) = facts.claims {
        ctx.claims = claims.iter().collect::<StrMap<'a>>();
    }
    let user_agent = facts
        .headers
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let vars = &mut ctx.vars;
    vars.insert("requestId", facts.request_id);
    vars.insert("extendedRequestId", facts.extended_request_id);
    vars.insert("httpMethod", facts.http_method);
    vars.insert("resourcePath", facts.resource_path);
    vars.insert("resourceId", extra.scratch.resource_id.as_str());
    vars.insert("path", facts.path);
    vars.insert("stage", facts.stage);
    vars.insert("apiId", extra.api_id);
    vars.insert("identity.sourceIp", facts.source_ip);
    vars.insert("identity.userAgent", user_agent);
    vars.insert("requestTimeEpoch", extra.scratch.epoch.as_str());
    vars.insert("requestTime", extra.scratch.time.as_str());
    vars.insert("protocol", "HTTP/1.1");
    // `$context.authorizer.principalId` and `$context.authorizer.KEY`.
    for (k, v) in facts.authorizer {
        let name = extra
            .scratch
            .authorizer_names
            .iter()
            .find(|n| n[11..] == **k);
        if let Some(name) = name {
            vars.insert(name.as_str(), v.as_str());
        }
    }
    ctx
}

/// `x-user-sub` as `X-User-Sub`.
fn canonical(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = true;
    for c in name.chars() {
        out.push(if upper { c.to_ascii_uppercase() } else { c });
        upper = c == '-';
    }
    out
}

/// `01/Dec/2026:11:43:55 +0000` for epoch milliseconds.
fn request_time(epoch_ms: u128) -> String {
    let mut out = String::with_capacity(26);
    crate::access_log::clf_time(&mut out, epoch_ms);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use serde_json::json;

    fn with_type(t: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_TYPE, HeaderValue::from_str(t).unwrap());
        h
    }

    fn kind(c: Choice<'_>) -> String {
        match c {
            Choice::Render(key, _) => format!("render {key}"),
            Choice::PassThrough => "pass".into(),
            Choice::Unsupported => "415".into(),
        }
    }

    #[test]
    fn templates_are_chosen_by_content_type_then_passthrough_behavior() {
        let templates = json!({"application/json": "{}", "text/plain": "$input.body"});
        let cases = [
            ("when_no_match", None, "render application/json"),
            (
                "when_no_match",
                Some("Text/Plain; charset=utf-8"),
                "render text/plain",
            ),
            ("when_no_match", Some("application/xml"), "pass"),
            ("WHEN_NO_TEMPLATES", Some("application/xml"), "415"),
            ("never", Some("application/xml"), "415"),
            ("never", None, "render application/json"),
        ];
        for (behavior, content_type, expected) in cases {
            let t = RequestTemplates::parse(
                &json!({"requestTemplates": templates, "passthroughBehavior": behavior}),
            )
            .unwrap();
            let headers = content_type.map(with_type).unwrap_or_default();
            assert_eq!(
                kind(t.choose(&headers)),
                expected,
                "{behavior} {content_type:?}"
            );
        }
        let none =
            RequestTemplates::parse(&json!({"passthroughBehavior": "when_no_templates"})).unwrap();
        assert_eq!(kind(none.choose(&with_type("application/xml"))), "pass");
        let never = RequestTemplates::parse(&json!({"passthroughBehavior": "NEVER"})).unwrap();
        assert_eq!(kind(never.choose(&HeaderMap::new())), "415");
        assert!(RequestTemplates::parse(&json!({"passthroughBehavior": "sometimes"})).is_err());
    }

    #[test]
    fn a_template_the_engine_refuses_is_named_with_its_position() {
        let err = RequestTemplates::parse(&json!({
            "requestTemplates": {"application/json": "{\n  \"a\": #macro(m)#end\n}"}
        }))
        .unwrap_err();
        assert_eq!(
            err,
            "requestTemplates['application/json']: line 2, column 8: #macro is not supported"
        );
    }

    /// `test_apigateway_header_remapping_http[HTTP]` / `full-integration`:
    /// `$input.params()` does not see these client headers; the resource ID
    /// is the resource path's.
    #[test]
    fn templates_see_the_method_request_as_aws_gives_it() {
        let mut headers = HeaderMap::new();
        for (n, v) in [
            ("connection", "close"),
            ("content-md5", "x"),
            ("expect", "100-continue"),
            ("max-forwards", "2"),
            ("proxy-authenticate", "Basic"),
            ("server", "s"),
            ("te", "deflate"),
            ("trailer", "Expires"),
            ("transfer-encoding", "chunked"),
            ("upgrade", "h2c"),
            ("www-authenticate", "Basic"),
            ("content-encoding", "deflate"),
            ("via", "p.example.net"),
            ("host", "api.example"),
        ] {
            headers.insert(
                http::HeaderName::from_static(n),
                HeaderValue::from_static(v),
            );
        }
        let facts = Facts {
            path_params: &[],
            query: &[],
            headers: &headers,
            claims: None,
            authorizer: &[],
            request_id: "r",
            extended_request_id: "e",
            http_method: "GET",
            resource_path: "/full",
            path: "/prod/full",
            stage: "prod",
            source_ip: "127.0.0.1",
            request_time_epoch: 0,
        };
        let scratch = Scratch::new(&facts);
        let mut names: Vec<&str> = scratch.headers.iter().map(|(n, _)| n.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["Content-Encoding", "Host", "Via"]);
        assert_eq!(scratch.resource_id, crate::mapping::resource_id("/full"));
    }

    #[test]
    fn request_time_and_canonical_names() {
        assert_eq!(request_time(0), "01/Jan/1970:00:00:00 +0000");
        assert_eq!(
            request_time(1_796_125_435_000),
            "01/Dec/2026:11:43:55 +0000"
        );
        assert_eq!(canonical("x-amzn-trace-id"), "X-Amzn-Trace-Id");
        assert_eq!(canonical("authorization"), "Authorization");
    }
}
