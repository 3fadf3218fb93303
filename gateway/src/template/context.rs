//! What a render reads: the request's body and parameters, `$context`,
//! the claims and the stage variables, borrowed from the request.

use std::borrow::Cow;

/// An ordered map of strings, borrowed where it can be.
///
/// Lookups are linear: these maps hold a request's few headers or claims,
/// and a scan over them costs less than hashing. A name inserted twice
/// keeps its first value for lookups, as `$input.params` reads the first
/// header of a repeated name.
///
/// ```
/// use tower_cognito_gateway::template::StrMap;
///
/// let owned = String::from("v2");
/// let mut m = StrMap::new();
/// m.insert("a", "v1");
/// m.insert("b", owned); // owned values are fine too
/// assert_eq!(m.get("a"), Some("v1"));
/// assert_eq!(m.get("b"), Some("v2"));
/// assert_eq!(m.get("c"), None);
/// assert_eq!(m.len(), 2);
/// ```
#[derive(Debug, Clone, Default)]
pub struct StrMap<'a> {
    entries: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

impl<'a> StrMap<'a> {
    /// An empty map.
    ///
    /// ```
    /// assert!(tower_cognito_gateway::template::StrMap::new().is_empty());
    /// ```
    pub fn new() -> Self {
        StrMap {
            entries: Vec::new(),
        }
    }

    /// Appends an entry.
    ///
    /// ```
    /// let mut m = tower_cognito_gateway::template::StrMap::new();
    /// m.insert("sub", "abc");
    /// assert_eq!(m.get("sub"), Some("abc"));
    /// ```
    pub fn insert(&mut self, name: impl Into<Cow<'a, str>>, value: impl Into<Cow<'a, str>>) {
        self.entries.push((name.into(), value.into()));
    }

    /// The first value for `name`, compared exactly.
    ///
    /// ```
    /// let m: tower_cognito_gateway::template::StrMap = [("k", "v")].into_iter().collect();
    /// assert_eq!(m.get("k"), Some("v"));
    /// assert_eq!(m.get("K"), None);
    /// ```
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| &**v)
    }

    /// The number of entries.
    ///
    /// ```
    /// assert_eq!(tower_cognito_gateway::template::StrMap::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the map has no entries.
    ///
    /// ```
    /// assert!(tower_cognito_gateway::template::StrMap::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries in insertion order.
    ///
    /// ```
    /// let m: tower_cognito_gateway::template::StrMap = [("a", "1"), ("b", "2")].into_iter().collect();
    /// let names: Vec<&str> = m.iter().map(|(k, _)| k).collect();
    /// assert_eq!(names, ["a", "b"]);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (&**k, &**v))
    }

    pub(crate) fn entries(&self) -> &[(Cow<'a, str>, Cow<'a, str>)] {
        &self.entries
    }
}

impl<'a, K: Into<Cow<'a, str>>, V: Into<Cow<'a, str>>> FromIterator<(K, V)> for StrMap<'a> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        StrMap {
            entries: iter
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }
}

/// Everything a template can read, for one render.
///
/// Fill it per request from borrowed data; nothing here is copied until a
/// template asks for it. `vars` holds the plain `$context` variables by
/// their dotted names (`requestId`, `identity.sourceIp`, `error.message`,
/// ...); the claims of the Cognito authorizer go in `claims`, already
/// turned into strings (`$context.authorizer.claims.NAME`).
///
/// ```
/// use tower_cognito_gateway::template::{Context, Template};
///
/// let body = String::from(r#"{"pets":[{"id":1},{"id":2}]}"#);
/// let mut ctx = Context::default();
/// ctx.body = &body;
/// ctx.vars.insert("requestId", "c6a1d40c");
/// ctx.claims.insert("custom:role", "admin");
/// ctx.path.insert("petId", "7");
/// ctx.stage_variables.insert("env", "prod");
///
/// let t = Template::parse(concat!(
///     r#"$context.requestId $context.authorizer.claims['custom:role'] "#,
///     r#"$input.params('petId') $input.path('$.pets').size() $stageVariables.env"#,
/// ))?;
/// assert_eq!(t.render(&ctx)?.body, "c6a1d40c admin 7 2 prod");
/// # Ok::<(), tower_cognito_gateway::template::TemplateError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Context<'a> {
    /// `$input.body`: the request (or integration response) payload.
    pub body: &'a str,
    /// Path parameters, for `$input.params()`.
    pub path: StrMap<'a>,
    /// Query string parameters, for `$input.params()`.
    pub querystring: StrMap<'a>,
    /// Request headers, for `$input.params()`.
    pub header: StrMap<'a>,
    /// `$stageVariables`.
    pub stage_variables: StrMap<'a>,
    /// Plain `$context` variables by dotted name.
    pub vars: StrMap<'a>,
    /// `$context.authorizer.claims`, each claim as a string.
    pub claims: StrMap<'a>,
    /// What the request's earlier template set in
    /// `$context.requestOverride` / `$context.responseOverride`: a render
    /// starts from these (a mock's response template reads what its request
    /// template set, as on AWS).
    pub overrides: super::Overrides,
}
