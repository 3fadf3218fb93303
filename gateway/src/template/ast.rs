//! The parsed form of a template: what [`super::Template`] keeps between
//! renders. Every name and JSONPath that can be checked is checked while
//! parsing, so rendering only walks this tree.

use super::jsonpath::JsonPath;

/// A byte offset in the template source; turned into a line and column
/// only when an error is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pos(pub(crate) usize);

#[derive(Debug)]
pub(crate) enum Node {
    Text(String),
    /// `$x...`; null renders as nothing, as API Gateway does (quiet or not).
    Ref(Reference),
    Set(SetTarget, Expr, Pos),
    If(Vec<(Expr, Vec<Node>)>, Option<Vec<Node>>),
    Foreach(Box<Foreach>),
    Break,
    Stop,
}

#[derive(Debug)]
pub(crate) struct Foreach {
    pub(crate) var: usize,
    pub(crate) iterable: Expr,
    pub(crate) body: Vec<Node>,
    pub(crate) pos: Pos,
}

#[derive(Debug)]
pub(crate) enum SetTarget {
    Var(usize),
    /// `$context.requestOverride.header.X` and friends.
    Override(OverrideSlot, String),
    /// `$context.requestOverride.querystring[$name]`: a name computed per
    /// render.
    OverrideKey(OverrideSlot, Expr),
    /// `$context.responseOverride.status`.
    Status,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OverrideSlot {
    RequestHeader,
    RequestQuery,
    RequestPath,
    ResponseHeader,
    /// `$context.responseOverride.NAME` besides `status` and `header`.
    ResponseOther,
}

#[derive(Debug)]
pub(crate) struct Reference {
    pub(crate) root: Root,
    pub(crate) chain: Vec<Modifier>,
    pub(crate) pos: Pos,
}

#[derive(Debug)]
pub(crate) enum Root {
    Var(usize),
    Input,
    Util,
    StageVariables,
    /// `$context` followed by the names resolved at parse time; the chain
    /// of the reference holds what comes after them.
    Context(ContextPath),
    /// `$foreach.<property>` of the innermost loop.
    Foreach(LoopProp),
    /// `$velocityCount`.
    VelocityCount,
    /// `$velocityHasNext` (Velocity 1.6+, which API Gateway answers).
    VelocityHasNext,
}

#[derive(Debug)]
pub(crate) enum ContextPath {
    /// A plain variable, by its dotted name (`identity.sourceIp`).
    Var(String),
    Claim(String),
    /// `$context.authorizer.claims` alone: null, as AWS documents.
    Claims,
    Override(OverrideSlot, String),
    /// `$context.requestOverride.header` (and `querystring`, `path`,
    /// `responseOverride.header`) as a whole: a map to read, index or
    /// `put()` into.
    OverrideMap(OverrideSlot),
    Status,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum LoopProp {
    HasNext,
    Index,
    Count,
    First,
    Last,
}

#[derive(Debug)]
pub(crate) enum Modifier {
    Property(String),
    Index(Expr),
    Method(Method, Vec<Expr>),
}

/// Every method a template may call; any other name fails to parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    // $input
    Json,
    Path,
    Params,
    // $util
    EscapeJavaScript,
    ParseJson,
    UrlEncode,
    UrlDecode,
    Base64Encode,
    Base64Decode,
    // java.lang.String, java.util.List, java.util.Map
    Size,
    Length,
    Get,
    KeySet,
    Values,
    ContainsKey,
    Contains,
    IsEmpty,
    ToString,
    ToLowerCase,
    ToUpperCase,
    Trim,
    StartsWith,
    EndsWith,
    IndexOf,
    LastIndexOf,
    Substring,
    Replace,
    ReplaceAll,
    Split,
    Equals,
    EqualsIgnoreCase,
    Matches,
    // java.util.Map, on `$context.requestOverride.*` maps only
    Put,
}

impl Method {
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        use Method::*;
        Some(match name {
            "json" => Json,
            "path" => Path,
            "params" => Params,
            "escapeJavaScript" => EscapeJavaScript,
            "parseJson" => ParseJson,
            "urlEncode" => UrlEncode,
            "urlDecode" => UrlDecode,
            "base64Encode" => Base64Encode,
            "base64Decode" => Base64Decode,
            "size" => Size,
            "length" => Length,
            "get" => Get,
            "keySet" => KeySet,
            "values" => Values,
            "containsKey" => ContainsKey,
            "contains" => Contains,
            "isEmpty" => IsEmpty,
            "toString" => ToString,
            "toLowerCase" => ToLowerCase,
            "toUpperCase" => ToUpperCase,
            "trim" => Trim,
            "startsWith" => StartsWith,
            "endsWith" => EndsWith,
            "indexOf" => IndexOf,
            "lastIndexOf" => LastIndexOf,
            "substring" => Substring,
            "replace" => Replace,
            "replaceAll" => ReplaceAll,
            "split" => Split,
            "equals" => Equals,
            "equalsIgnoreCase" => EqualsIgnoreCase,
            "matches" => Matches,
            "put" => Put,
            _ => return None,
        })
    }

    /// The argument counts the method accepts (checked at parse time).
    pub(crate) fn arity(self) -> &'static [usize] {
        use Method::*;
        match self {
            Params => &[0, 1],
            Substring | IndexOf | LastIndexOf => &[1, 2],
            Size | Length | KeySet | Values | IsEmpty | ToString | ToLowerCase | ToUpperCase
            | Trim => &[0],
            Replace | ReplaceAll | Put => &[2],
            _ => &[1],
        }
    }
}

#[derive(Debug)]
pub(crate) enum Expr {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// A double-quoted string with references or directives in it.
    Interpolated(Vec<Node>),
    List(Vec<Expr>),
    Range(Box<Expr>, Box<Expr>),
    Map(Vec<(Expr, Expr)>),
    Ref(Box<Reference>),
    /// A string literal used as a JSONPath, parsed once.
    Path(JsonPath, String),
    Not(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}
