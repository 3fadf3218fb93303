//! API Gateway's mapping templates: its dialect of Apache Velocity (VTL),
//! parsed once, rendered per request.
//!
//! No Rust crate implements this dialect, so the engine is written here:
//! a lexer and parser following Velocity 1.7's grammar, an evaluator, the
//! `$input`, `$util`, `$context` and `$stageVariables` variables of AWS's
//! "API Gateway mapping template and access logging variable reference",
//! and the JSONPath subset it documents.
//!
//! ```
//! use tower_cognito_gateway::template::{Context, Template};
//!
//! // The seed page's template, parsed once at startup...
//! let template = Template::parse(r#"{
//!     "context" : {
//!         "sub" : "$context.authorizer.claims.sub",
//!         "role" : "$context.authorizer.claims['custom:role']"
//!     }
//! }"#)?;
//!
//! // ...and rendered per request from borrowed request data.
//! let mut ctx = Context::default();
//! ctx.claims.insert("sub", "7d8a-42");
//! ctx.claims.insert("custom:role", "admin");
//! let out = template.render(&ctx)?;
//! assert!(out.body.contains(r#""sub" : "7d8a-42""#));
//! assert!(out.body.contains(r#""role" : "admin""#));
//! # Ok::<(), tower_cognito_gateway::template::TemplateError>(())
//! ```
//!
//! # The dialect
//!
//! - References `$x`, `${x}`, `$!x`, `$!{x}`; properties, `['name']` and
//!   `[n]`; method calls; string (`"..."` interpolates, `'...'` does not),
//!   number, boolean, list, range (`[1..3]`) and map literals; `+ - * / %`,
//!   `== != < <= > >=` (and `eq ne lt le gt ge`), `&& || !` (and `and or
//!   not`).
//! - `#set`, `#if` / `#elseif` / `#else` / `#end`, `#foreach` (with
//!   `$foreach.hasNext`, `.index`, `.count`, `.first`, `.last` and
//!   `$velocityCount`, `$velocityHasNext`; at most 1,000 iterations), `#break`, `#stop`, `##`,
//!   `#* *#` and `#[[ ]]#`.
//! - `$input.body`, `.json(path)`, `.path(path)` (JSONPath `$`, `.name`,
//!   `['name']`, `[n]`, `[*]`, `.*`, `..name`), `.params()`,
//!   `.params(name)` (path, then query string, then header); `$util.escapeJavaScript`, `.parseJson`, `.urlEncode`,
//!   `.urlDecode`, `.base64Encode`, `.base64Decode`; `$stageVariables`;
//!   the `$context` variables of AWS's reference, with
//!   `authorizer.claims.NAME` and the settable `requestOverride.*` and
//!   `responseOverride.*` (returned in [`Rendered::overrides`]; a render
//!   starts from [`Context::overrides`], what the request's earlier
//!   template set). Their maps take computed names
//!   (`#set($context.requestOverride.querystring[$name] = ...)`) and
//!   `put(name, value)`, and read as maps; `responseOverride.NAME` holds
//!   any other name for later templates (AWS: LocalStack's recorded
//!   test_integration_mock_with_vtl_map_assignation and
//!   test_integration_mock_with_response_override_in_request_template).
//! - String, list and map methods: `size length get keySet values
//!   containsKey contains isEmpty toString toLowerCase toUpperCase trim
//!   startsWith endsWith indexOf lastIndexOf substring replace replaceAll
//!   split equals equalsIgnoreCase matches`.
//!
//! Anything else fails in [`Template::parse`] with the line and column:
//! macros, `#parse`/`#include`/`#evaluate`/`#define`, unknown methods,
//! `$util` functions or `$context` variables, JSONPath filters, `\$`
//! escapes, `#set` of anything but a variable or an override, `put()` on
//! anything but an override map.
//!
//! # Semantics, and who decides
//!
//! AWS decides where it speaks: its documentation, and the output API
//! Gateway produced for the 103 templates of `tests/templates/aws-recorded.json`
//! (recorded by LocalStack's airspeed-ext snapshot tests on AWS). Where AWS
//! is silent, Velocity 1.7's rules apply; API Gateway runs a Velocity 1.x
//! (AWS's page says `$context.authorizer.claims.custom-sub` works, and only
//! 1.x lets identifiers hold `-` by default; `$velocityHasNext` answers on
//! AWS).
//!
//! - **A null reference is the empty string**, in output and in
//!   expressions: AWS renders `Hello $name` as `Hello ` and
//!   `#if($missing)yes#end` as `yes`. So `#if` is false only for `false`
//!   (and a null that is not a reference, such as `1 / 0`); test a value
//!   with `#if($x != "")` as AWS users do. `#set` to such a null leaves the
//!   variable as it was.
//! - Whitespace follows Velocity 1.7's lexer: `)` closing `#set`, `#if`,
//!   `#elseif`, `#foreach`, and `#else` / `#end`, eat the blanks and one
//!   newline after them; `#set` also eats the blanks before it when only
//!   blanks stand between it and the previous directive, reference or
//!   comment; `##` comments eat their newline, `#* *#` does not.
//! - String literals keep their backslashes, and a doubled quote stands for
//!   one (AWS renders `"{""a"": 2}"` as `{"a": 2}`; its own
//!   `replaceAll("\\'","'")` example needs the backslashes).
//! - `#foreach` over a map walks its values and restores its variable
//!   afterwards; `==` between different types compares their strings; `+`
//!   with a string concatenates; integer division truncates; doubles print
//!   as Java does (`2.0`, `1.0E7`).
//! - `$util.escapeJavaScript` escapes `'` (AWS: it "will turn any regular
//!   single quotes (') into escaped ones (\')"), `"`, `\` and `/`, as
//!   commons-lang does; non-ASCII becomes `\uXXXX`.
//! - Maps render as Java's `{k=v, k2=v2}`, lists built by the template as
//!   `[a, b]`, lists of JSON (`$input.path`, `$util.parseJson`) as compact
//!   JSON; `$context.authorizer.claims` alone is null (AWS's page).
//!
//! The oracles (`tests/template_oracle.rs`) disagree with AWS on some of
//! these; each case is marked in the corpus with its reason. In short:
//! both make a missing reference null (false in `#if`, unequal to `""`);
//! both drop the newline after `*#`; airspeed-ext keeps the newline after
//! `#foreach(...)` and its indentation, renders Python's repr of map and
//! list literals, cannot add a string and a number, and has no `#break`
//! or `#[[ ]]#`; velocityjs keeps the blanks before an indented `#set`,
//! uses JavaScript numbers (`17 / 5` is `3.4`, `10.0` prints `10`), renders
//! JSON null as `null` and JSON arrays as `[a, b]`, lacks `#stop`,
//! `$foreach.first` / `.last` and `$velocityHasNext`, cannot parse doubled
//! quotes, and finishes the iteration a `#break` is in.
//!
//! `$input.body` of an empty payload is `{}`, as AWS renders it in request
//! and response templates alike (LocalStack's recorded
//! test_input_body_formatting: `$util.urlEncode($input.body)` is `%7B%7D`).
//!
//! Choices where nothing decides: `$input.json` of a missing definite path
//! is `null` and of an empty payload `{}` (as LocalStack);
//! `$input.params(name)` compares names exactly and is `""` when absent;
//! more than 1,000 `#foreach` iterations, an out-of-range `substring` or
//! `get`, bad base64 or `%`-escapes and a regex the `regex` crate cannot
//! compile are render errors (fail closed) rather than guesses.
//!
//! # Limits
//!
//! A client's body decides how much a render does, so every bound below is
//! linear in its size. Past one, the render fails, as a rendered body over
//! 10 MiB always did (API Gateway's 500). **\[choice\]** AWS documents none
//! of them but the payload limit; failing closed beats rendering a part.
//!
//! - **Text, 10 MiB** (API Gateway's payload limit): the rendered body, and
//!   every string or value's text a render builds (`#set`, `$input.json`,
//!   `toString`, `+`, the `toString` of a comparison between types,
//!   `$util.escapeJavaScript` and the encodings, `replace`, `replaceAll`).
//!   Text is bounded as it is built, and a list or map is measured before
//!   it is written: a deep scan (`$..id`) whose matches repeat their
//!   subtrees a hundred times fails without building them.
//! - **JSONPath, 5,242,880 values** (more than a list can hold and still
//!   render in 10 MiB) at any step, and four times that many visited: a
//!   deep scan after a deep scan (`$..a..b`) meets each value once per
//!   ancestor.
//! - **`split`, 5,242,880 parts**, borrowed from the string when it is the
//!   request's.
//! - **`#foreach`, 1,000 iterations** per loop (AWS's limit) and 100,000 per
//!   render; a map is walked in place, never copied.
//! - **Override maps, 1,000 names** each (`$context.requestOverride.header`,
//!   ...): computed names would otherwise let a loop grow one, and every
//!   set scans it (the scan is counted as work).
//! - **Work, 160 MiB** per render: bytes of text read or written (a list or
//!   map's twice: measured, then written) and JSON values visited, some
//!   fifteen passes over the largest body. Loops would otherwise multiply
//!   work on the whole body: `#set($s = "$s$item")` copies all it has
//!   built at each iteration, `$input.json('$')` in two nested loops
//!   serialises the body 100,000 times.
//! - The body's JSON is parsed in linear time (a repeated key keeps its
//!   first place and its last value, as Jayway's `LinkedHashMap` does), its
//!   strings borrowed from the body; a map of more than 16 keys is indexed
//!   the first time a key is looked up in it, so lookups in a loop cost
//!   one pass over it, not one each.
//!
//! # Cost
//!
//! [`Template`] is immutable, `Send` and `Sync`: share one per route.
//! Rendering allocates the output and whatever the template builds; the
//! request data in [`Context`] is borrowed, and the payload is parsed as
//! JSON at most once per render, only when `$input.json` / `$input.path`
//! ask for it.

mod ast;
mod context;
mod error;
mod eval;
mod expr;
mod jsonpath;
mod methods;
mod names;
mod parser;
mod value;

pub use context::{Context, StrMap};
pub use error::{ErrorKind, TemplateError};

use ast::{Node, OverrideSlot};

/// A parsed mapping template. See the [module docs](self).
///
/// ```
/// use tower_cognito_gateway::template::{Context, Template};
///
/// let t = Template::parse("#foreach($i in [1..3])$i#if($foreach.hasNext),#end#end")?;
/// assert_eq!(t.render(&Context::default())?.body, "1,2,3");
/// # Ok::<(), tower_cognito_gateway::template::TemplateError>(())
/// ```
#[derive(Debug)]
pub struct Template {
    nodes: Vec<Node>,
    nvars: usize,
    src: String,
}

/// The result of a render: the body, and what the template set in
/// `$context.requestOverride` / `$context.responseOverride`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rendered {
    /// The rendered text.
    pub body: String,
    /// The overrides the template set.
    pub overrides: Overrides,
}

/// Values a template assigned with `#set($context.requestOverride...)` or
/// `#set($context.responseOverride...)`, in the order first set.
///
/// ```
/// use tower_cognito_gateway::template::{Context, Template};
///
/// let t = Template::parse(concat!(
///     "#set($context.responseOverride.status = 201)",
///     "#set($context.requestOverride.header.X-Role = $context.authorizer.claims.role)",
/// ))?;
/// let mut ctx = Context::default();
/// ctx.claims.insert("role", "admin");
/// let out = t.render(&ctx)?;
/// assert_eq!(out.overrides.response_status.as_deref(), Some("201"));
/// assert_eq!(out.overrides.request_header, [("X-Role".to_owned(), "admin".to_owned())]);
/// # Ok::<(), tower_cognito_gateway::template::TemplateError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `$context.requestOverride.header.NAME`.
    pub request_header: Vec<(String, String)>,
    /// `$context.requestOverride.querystring.NAME`.
    pub request_querystring: Vec<(String, String)>,
    /// `$context.requestOverride.path.NAME`.
    pub request_path: Vec<(String, String)>,
    /// `$context.responseOverride.header.NAME`.
    pub response_header: Vec<(String, String)>,
    /// `$context.responseOverride.status`, as the template wrote it.
    pub response_status: Option<String>,
    /// `$context.responseOverride.NAME` for names other than `status` and
    /// `header`: kept for the templates after it to read, with no effect
    /// (as on AWS).
    pub response_other: Vec<(String, String)>,
}

impl Overrides {
    fn slot(&self, slot: OverrideSlot) -> &Vec<(String, String)> {
        match slot {
            OverrideSlot::RequestHeader => &self.request_header,
            OverrideSlot::RequestQuery => &self.request_querystring,
            OverrideSlot::RequestPath => &self.request_path,
            OverrideSlot::ResponseHeader => &self.response_header,
            OverrideSlot::ResponseOther => &self.response_other,
        }
    }

    fn slot_mut(&mut self, slot: OverrideSlot) -> &mut Vec<(String, String)> {
        match slot {
            OverrideSlot::RequestHeader => &mut self.request_header,
            OverrideSlot::RequestQuery => &mut self.request_querystring,
            OverrideSlot::RequestPath => &mut self.request_path,
            OverrideSlot::ResponseHeader => &mut self.response_header,
            OverrideSlot::ResponseOther => &mut self.response_other,
        }
    }
}

impl Template {
    /// Parses a template, checking every construct against the dialect.
    ///
    /// # Errors
    ///
    /// A [`TemplateError`] of kind [`ErrorKind::Syntax`] or
    /// [`ErrorKind::Unsupported`], with the line and column.
    ///
    /// ```
    /// use tower_cognito_gateway::template::{ErrorKind, Template};
    ///
    /// let err = Template::parse("{\"v\": \"$input.path('$.a[?(@.b)]')\"}").unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Unsupported);
    /// assert_eq!((err.line(), err.column()), (1, 8));
    /// ```
    pub fn parse(src: &str) -> Result<Template, TemplateError> {
        let (nodes, vars) = parser::Parser::new(src).parse_template()?;
        Ok(Template {
            nodes,
            nvars: vars.len(),
            src: src.to_owned(),
        })
    }

    /// Renders the template for one request.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidBody`] when `$input.json` / `$input.path` meet a
    /// payload that is not JSON (API Gateway answers 400), and
    /// [`ErrorKind::Render`] for the other failures listed there.
    ///
    /// ```
    /// use tower_cognito_gateway::template::{Context, ErrorKind, Template};
    ///
    /// let t = Template::parse("$input.json('$.a')")?;
    /// let mut ctx = Context::default();
    /// ctx.body = r#"{"a": [1, "x"]}"#;
    /// assert_eq!(t.render(&ctx)?.body, r#"[1,"x"]"#);
    /// ctx.body = "not json";
    /// assert_eq!(t.render(&ctx).unwrap_err().kind(), ErrorKind::InvalidBody);
    /// # Ok::<(), tower_cognito_gateway::template::TemplateError>(())
    /// ```
    pub fn render(&self, ctx: &Context<'_>) -> Result<Rendered, TemplateError> {
        let mut ev = eval::Eval::new(ctx, &self.src, self.nvars);
        ev.nodes(&self.nodes)?;
        Ok(Rendered {
            body: ev.out,
            overrides: ev.overrides,
        })
    }

    /// The source the template was parsed from.
    ///
    /// ```
    /// # use tower_cognito_gateway::template::Template;
    /// assert_eq!(Template::parse("x")?.source(), "x");
    /// # Ok::<(), tower_cognito_gateway::template::TemplateError>(())
    /// ```
    pub fn source(&self) -> &str {
        &self.src
    }
}

#[cfg(test)]
mod tests;
