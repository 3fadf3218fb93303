//! Walking the tree: directives, references and operators, with Velocity
//! 1.7's semantics (null `#set` leaves the variable alone, `#foreach`
//! restores its variable afterwards, `==` between different types compares
//! their strings).

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::HashSet;
use std::rc::Rc;

use super::ast::*;
use super::context::Context;
use super::error::{ErrorKind, TemplateError};
use super::value::{parse_json, MapData, Origin, TooLong, Value};
use super::Overrides;

mod operators;
mod statements;

use self::operators::{binary, index};

/// AWS's limit on `#foreach` iterations.
pub(crate) const MAX_ITERATIONS: usize = 1_000;
/// The longest `[a..b]` range a template may build.
const MAX_RANGE: i64 = 10_000;
/// `#foreach` iterations of one render, all loops together: nested loops
/// would otherwise multiply AWS's per-loop limit.
pub(crate) const MAX_TOTAL_ITERATIONS: usize = 100_000;
/// The largest body or string a render may build: API Gateway's payload
/// limit (10 MB).
pub(crate) const MAX_TEXT: usize = 10 * 1024 * 1024;
const OVER_LIMIT: &str = "the rendered body exceeds 10 MiB";
/// What one render may do, in bytes read or written and values visited:
/// some fifteen passes over the largest body (reading a body's JSON and
/// writing it out takes three). A loop repeating work on the whole body
/// (`#set($s = "$s$item")`, `$input.json('$')` inside two nested loops)
/// would otherwise cost its iterations times the body.
pub(crate) const MAX_WORK: usize = 16 * MAX_TEXT;
/// How deeply a template may nest the lists and maps it builds (JSON
/// documents stop at 128).
const MAX_NESTING: u32 = 200;
/// Names one override map may hold (`$context.requestOverride.header`,
/// ...): a loop setting computed names would otherwise grow it without
/// bound, and every set scans it.
pub(crate) const MAX_OVERRIDES: usize = 1_000;
/// `$input.body` of an empty payload: AWS renders `{}` (LocalStack's
/// recorded test_input_body_formatting).
const EMPTY_BODY: &str = "{}";

pub(crate) struct Eval<'r> {
    pub(crate) ctx: &'r Context<'r>,
    pub(crate) src: &'r str,
    pub(crate) vars: Vec<Value<'r>>,
    loops: Vec<(usize, usize)>,
    iterations: usize,
    /// The directive being evaluated, for errors about values.
    at: Pos,
    pub(crate) out: String,
    body_json: Option<Value<'r>>,
    pub(crate) overrides: Overrides,
    /// Work done so far, against [`MAX_WORK`].
    work: Cell<usize>,
}

pub(crate) enum Flow {
    Normal,
    Break,
    Stop,
}

pub(crate) type EResult<T> = Result<T, TemplateError>;

impl<'r> Eval<'r> {
    pub(crate) fn new(ctx: &'r Context<'r>, src: &'r str, nvars: usize) -> Self {
        Eval {
            ctx,
            src,
            vars: vec![Value::Null; nvars],
            loops: Vec::new(),
            iterations: 0,
            at: Pos(0),
            out: String::with_capacity(src.len() + 64),
            body_json: None,
            overrides: ctx.overrides.clone(),
            work: Cell::new(0),
        }
    }

    /// Counts `n` bytes or values of work; fails past [`MAX_WORK`].
    pub(crate) fn charge(&self, n: usize, at: Pos) -> EResult<()> {
        let work = self.work.get().saturating_add(n);
        self.work.set(work);
        if work > MAX_WORK {
            return Err(self.fail(
                ErrorKind::Render,
                at,
                format!("the template does more than {MAX_WORK} bytes of work on this request"),
            ));
        }
        Ok(())
    }

    pub(crate) fn fail(&self, kind: ErrorKind, at: Pos, msg: impl Into<String>) -> TemplateError {
        TemplateError::at(kind, self.src, at.0, msg)
    }

    pub(crate) fn nodes(&mut self, nodes: &'r [Node]) -> EResult<Flow> {
        for node in nodes {
            match node {
                Node::Text(t) => {
                    self.charge(t.len(), self.at)?;
                    self.out.push_str(t);
                    // A loop repeats its text as often as the body has items.
                    if self.out.len() > MAX_TEXT {
                        return Err(self.fail(ErrorKind::Render, self.at, OVER_LIMIT));
                    }
                }
                Node::Ref(r) => {
                    let v = self.reference(r)?;
                    let before = self.out.len();
                    if v.append_text(&mut self.out).is_err() {
                        return Err(self.fail(ErrorKind::Render, r.pos, OVER_LIMIT));
                    }
                    self.charge(v.text_cost(self.out.len() - before), r.pos)?;
                }
                Node::Set(target, e, at) => {
                    self.at = *at;
                    let v = self.expr(e)?;
                    if matches!(&v, Value::Str(s) if s.len() > MAX_TEXT) {
                        return Err(self.fail(
                            ErrorKind::Render,
                            *at,
                            "#set of a string over 10 MiB",
                        ));
                    }
                    self.assign(target, v)?;
                }
                Node::If(branches, otherwise) => {
                    let mut taken = None;
                    for (cond, body) in branches {
                        if self.expr(cond)?.truthy() {
                            taken = Some(body);
                            break;
                        }
                    }
                    if let Some(body) = taken.or(otherwise.as_ref()) {
                        match self.nodes(body)? {
                            Flow::Normal => {}
                            flow => return Ok(flow),
                        }
                    }
                }
                Node::Foreach(f) => {
                    if let Flow::Stop = self.foreach(f)? {
                        return Ok(Flow::Stop);
                    }
                }
                Node::Break => return Ok(Flow::Break),
                Node::Stop => return Ok(Flow::Stop),
            }
        }
        Ok(Flow::Normal)
    }

    /// A value's text ([`Value::to_text`]), or the render's failure when
    /// that would pass [`MAX_TEXT`].
    pub(crate) fn text(&self, v: &Value<'_>, at: Pos) -> EResult<String> {
        let text = v.to_text().map_err(|TooLong| self.too_long(at))?;
        self.charge(v.text_cost(text.len()), at)?;
        Ok(text)
    }

    pub(crate) fn too_long(&self, at: Pos) -> TemplateError {
        self.fail(ErrorKind::Render, at, "a value's text exceeds 10 MiB")
    }

    pub(crate) fn reference(&mut self, r: &'r Reference) -> EResult<Value<'r>> {
        let mut chain = &r.chain[..];
        let mut v = match &r.root {
            Root::Context(ContextPath::OverrideMap(slot)) => match chain.first() {
                Some(Modifier::Method(Method::Put, args)) => {
                    chain = &chain[1..];
                    self.put(*slot, args, r.pos)?
                }
                _ => self.override_map(*slot, r.pos)?,
            },
            Root::Var(slot) => self.vars[*slot].clone(),
            Root::Input => Value::Input,
            Root::Util => Value::Util,
            Root::StageVariables => str_map(self.ctx.stage_variables.entries()),
            Root::Context(path) => self.context_value(path),
            Root::Foreach(prop) => {
                let (i, len) = self.loops.last().copied().unwrap_or((0, 0));
                match prop {
                    LoopProp::HasNext => Value::Bool(i + 1 < len),
                    LoopProp::Index => Value::Int(i as i64),
                    LoopProp::Count => Value::Int(i as i64 + 1),
                    LoopProp::First => Value::Bool(i == 0),
                    LoopProp::Last => Value::Bool(i + 1 == len),
                }
            }
            Root::VelocityCount => Value::Int(self.loops.last().map_or(0, |l| l.0 as i64 + 1)),
            Root::VelocityHasNext => {
                Value::Bool(self.loops.last().is_some_and(|(i, len)| i + 1 < *len))
            }
        };
        for m in chain {
            v = match m {
                Modifier::Property(p) => match &v {
                    Value::Input if p == "body" => {
                        Value::Str(Cow::Borrowed(if self.ctx.body.is_empty() {
                            EMPTY_BODY
                        } else {
                            self.ctx.body
                        }))
                    }
                    other => other.map_get(p),
                },
                Modifier::Index(e) => {
                    let key = self.expr(e)?;
                    index(&v, &key)
                }
                Modifier::Method(method, args) => {
                    let mut vals = Vec::with_capacity(args.len());
                    for a in args {
                        vals.push(self.arg(a)?);
                    }
                    self.call(r.pos, v, *method, vals)?
                }
            };
        }
        // API Gateway turns a null reference into the empty string, in
        // output and in expressions alike: AWS renders `#if($missing)yes#end`
        // as "yes" (the empty string is true in Velocity 1.7).
        if v.is_null() {
            v = Value::Str(Cow::Borrowed(""));
        }
        Ok(v)
    }

    /// A method argument; a JSONPath parsed at parse time stays parsed.
    fn arg(&mut self, e: &'r Expr) -> EResult<Arg<'r>> {
        match e {
            Expr::Path(p, _) => Ok(Arg::Path(p)),
            e => self.expr(e).map(Arg::Value),
        }
    }

    fn context_value(&self, path: &ContextPath) -> Value<'r> {
        let s = |o: Option<&'r str>| o.map_or(Value::Null, |s| Value::Str(Cow::Borrowed(s)));
        match path {
            ContextPath::Var(name) => s(self.ctx.vars.get(name)),
            ContextPath::Claim(name) => s(self.ctx.claims.get(name)),
            ContextPath::Claims => Value::Null,
            ContextPath::Status => self
                .overrides
                .response_status
                .clone()
                .map_or(Value::Null, Value::str),
            ContextPath::Override(slot, name) => self
                .overrides
                .slot(*slot)
                .iter()
                .find(|(k, _)| k == name)
                .map_or(Value::Null, |(_, v)| Value::str(v.clone())),
            // Read in `reference`, which may change it.
            ContextPath::OverrideMap(_) => Value::Null,
        }
    }

    /// The payload as JSON, parsed once per render; an empty payload is
    /// `{}`.
    pub(crate) fn body_json(&mut self, at: Pos) -> EResult<Value<'r>> {
        if let Some(v) = &self.body_json {
            return Ok(v.clone());
        }
        let body = self.ctx.body;
        self.charge(body.len(), at)?;
        let v = if body.trim().is_empty() {
            Value::Map(Rc::default(), Origin::Json)
        } else {
            parse_json(body).map_err(|e| {
                self.fail(
                    ErrorKind::InvalidBody,
                    at,
                    format!("Could not parse request body into json: {e}"),
                )
            })?
        };
        self.body_json = Some(v.clone());
        Ok(v)
    }

    pub(crate) fn expr(&mut self, e: &'r Expr) -> EResult<Value<'r>> {
        Ok(match e {
            Expr::Bool(b) => Value::Bool(*b),
            Expr::Int(i) => Value::Int(*i),
            Expr::Float(f) => Value::Float(*f),
            Expr::Str(s) => Value::Str(Cow::Borrowed(s)),
            Expr::Path(_, s) => Value::Str(Cow::Borrowed(s)),
            Expr::Interpolated(nodes) => {
                let outer = std::mem::take(&mut self.out);
                let r = self.nodes(nodes);
                let inner = std::mem::replace(&mut self.out, outer);
                r?;
                Value::str(inner)
            }
            Expr::List(items) => {
                let mut vals = Vec::with_capacity(items.len());
                for i in items {
                    let v = self.expr(i)?;
                    vals.push(self.nestable(v)?);
                }
                Value::List(Rc::new(vals), Origin::Vtl)
            }
            Expr::Range(a, b) => match (self.expr(a)?, self.expr(b)?) {
                (Value::Int(a), Value::Int(b)) => {
                    if (a - b).abs() >= MAX_RANGE {
                        return Ok(Value::Null);
                    }
                    self.charge(a.abs_diff(b) as usize, self.at)?;
                    let vals: Vec<Value<'r>> = if a <= b {
                        (a..=b).map(Value::Int).collect()
                    } else {
                        (b..=a).rev().map(Value::Int).collect()
                    };
                    Value::List(Rc::new(vals), Origin::Vtl)
                }
                _ => Value::Null,
            },
            Expr::Map(entries) => {
                let mut vals = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    let k = self.expr(k)?;
                    let k = self.text(&k, self.at)?;
                    let v = self.expr(v)?;
                    let v = self.nestable(v)?;
                    match vals
                        .iter_mut()
                        .find(|(old, _): &&mut (Cow<'r, str>, Value<'r>)| *old == k)
                    {
                        Some(slot) => slot.1 = v,
                        None => vals.push((Cow::Owned(k), v)),
                    }
                }
                Value::Map(MapData::new(vals), Origin::Vtl)
            }
            Expr::Ref(r) => self.reference(r)?,
            Expr::Not(e) => Value::Bool(!self.expr(e)?.truthy()),
            Expr::Binary(BinOp::Or, a, b) => {
                Value::Bool(self.expr(a)?.truthy() || self.expr(b)?.truthy())
            }
            Expr::Binary(BinOp::And, a, b) => {
                Value::Bool(self.expr(a)?.truthy() && self.expr(b)?.truthy())
            }
            Expr::Binary(op, a, b) => {
                let (a, b) = (self.expr(a)?, self.expr(b)?);
                let mut work = 0;
                let v = binary(*op, a, b, &mut work);
                self.charge(work, self.at)?;
                v.map_err(|TooLong| self.too_long(self.at))?
            }
        })
    }
}

impl<'r> Eval<'r> {
    /// A value about to go into a list or map literal, refused when that
    /// would nest collections more than [`MAX_NESTING`] deep (rendering and
    /// dropping them recurses).
    fn nestable(&self, v: Value<'r>) -> EResult<Value<'r>> {
        fn deeper_than(v: &Value<'_>, limit: u32, visits: &mut usize) -> bool {
            *visits += 1;
            match v {
                _ if limit == 0 => matches!(v, Value::List(..) | Value::Map(..)),
                Value::List(items, _) => items.iter().any(|i| deeper_than(i, limit - 1, visits)),
                Value::Map(entries, _) => entries
                    .iter()
                    .any(|(_, i)| deeper_than(i, limit - 1, visits)),
                _ => false,
            }
        }
        let mut visits = 0;
        let deep = deeper_than(&v, MAX_NESTING, &mut visits);
        self.charge(visits, self.at)?;
        if deep {
            return Err(self.fail(
                ErrorKind::Render,
                self.at,
                format!("lists and maps nested more than {MAX_NESTING} deep"),
            ));
        }
        Ok(v)
    }
}

pub(crate) enum Arg<'r> {
    Value(Value<'r>),
    Path(&'r super::jsonpath::JsonPath),
}

/// A map of the request's parameters, the first of a repeated name kept;
/// a client may send some ten thousand, so names are checked once each.
pub(crate) fn str_map<'r>(entries: &'r [(Cow<'r, str>, Cow<'r, str>)]) -> Value<'r> {
    let mut seen: HashSet<&str> = HashSet::with_capacity(entries.len());
    let out = entries
        .iter()
        .filter(|(k, _)| seen.insert(k))
        .map(|(k, v)| (Cow::Borrowed(&**k), Value::Str(Cow::Borrowed(&**v))))
        .collect();
    Value::Map(MapData::new(out), Origin::Vtl)
}
