//! Method calls: `$input`, `$util`, and the `java.lang.String`,
//! `java.util.List` and `java.util.Map` methods templates use. A method
//! that does not apply to its receiver yields null, as Velocity's
//! introspection does (and API Gateway renders null as nothing); a method
//! that throws in Java (`substring` out of range, a bad regex) is a render
//! error.

use std::borrow::Cow;
use std::rc::Rc;

use base64::Engine as _;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::ast::{Method, Pos};
use super::error::ErrorKind;
use super::eval::MAX_TEXT;
use super::eval::{str_map, Arg, EResult, Eval};
use super::jsonpath::JsonPath;
use super::jsonpath::{PathTooBig, MAX_MATCHES, MAX_VISITS};
use super::value::{
    parse_json, parse_json_owned, push_bounded, Map, MapData, Origin, TooLong, Value,
};

mod java;
pub(crate) use self::java::*;

/// `java.net.URLEncoder` leaves `a-zA-Z0-9.-*_` alone (and turns spaces
/// into `+`, below).
const URL_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'.')
    .remove(b'-')
    .remove(b'*')
    .remove(b'_');

impl<'r> Eval<'r> {
    pub(crate) fn call(
        &mut self,
        at: Pos,
        recv: Value<'r>,
        m: Method,
        args: Vec<Arg<'r>>,
    ) -> EResult<Value<'r>> {
        let mut vals: Vec<Value<'r>> = Vec::with_capacity(args.len());
        let mut path: Option<&'r JsonPath> = None;
        for a in args {
            match a {
                Arg::Value(v) => vals.push(v),
                Arg::Path(p) => path = Some(p),
            }
        }
        // Methods that walk their receiver (or `$util`'s argument) cost
        // its length; what they build is counted below.
        let walked = match (&recv, m) {
            (Value::Str(s), _) => s.len(),
            (Value::Util, _) => match vals.first() {
                Some(Value::Str(s)) => s.len(),
                _ => 0,
            },
            (Value::List(items, _), Method::Contains | Method::ToString) => items.len(),
            (Value::Map(entries, _), Method::KeySet | Method::Values | Method::ToString) => {
                entries.len()
            }
            _ => 0,
        };
        self.charge(walked, at)?;
        let v = self.dispatch(at, recv, m, path, vals)?;
        if let Value::Str(Cow::Owned(s)) = &v {
            self.charge(s.len(), at)?;
        }
        Ok(v)
    }

    fn dispatch(
        &mut self,
        at: Pos,
        recv: Value<'r>,
        m: Method,
        path: Option<&'r JsonPath>,
        vals: Vec<Value<'r>>,
    ) -> EResult<Value<'r>> {
        match recv {
            Value::Null => Ok(Value::Null),
            Value::Input => self.input(at, m, path, vals),
            Value::Util => self.util(at, m, vals),
            Value::Str(s) if m == Method::Split => self.split(at, s, &vals),
            Value::Str(s) => self.string(at, &s, m, &vals),
            Value::List(items, _) => self.list(at, &items, m, &vals),
            Value::Map(entries, origin) => {
                map_method(&entries, origin, m, &vals).map_err(|TooLong| self.too_long(at))
            }
            other => Ok(match m {
                Method::ToString => Value::str(self.text(&other, at)?),
                Method::Equals => Value::Bool(strict_equals(&other, vals.first())),
                _ => Value::Null,
            }),
        }
    }

    fn input(
        &mut self,
        at: Pos,
        m: Method,
        path: Option<&'r JsonPath>,
        vals: Vec<Value<'r>>,
    ) -> EResult<Value<'r>> {
        match m {
            Method::Json | Method::Path => {
                let parsed;
                let p = match (path, vals.first()) {
                    (Some(p), _) => p,
                    (None, Some(Value::Str(s))) => {
                        parsed =
                            JsonPath::parse(s).map_err(|e| self.fail(ErrorKind::Render, at, e))?;
                        &parsed
                    }
                    (None, _) => return Ok(Value::Null),
                };
                let doc = self.body_json(at)?;
                let mut work = 0;
                let v = p.eval(&doc, &mut work);
                self.charge(work, at)?;
                let v = v.map_err(|PathTooBig| {
                    self.fail(
                        ErrorKind::Render,
                        at,
                        format!("JSONPath yields more than {MAX_MATCHES} values or visits more than {MAX_VISITS}"),
                    )
                })?;
                if m == Method::Path {
                    return Ok(v);
                }
                let mut s = String::new();
                v.append_json(&mut s).map_err(|TooLong| self.too_long(at))?;
                // The text is counted once more as the call's result.
                self.charge(v.text_cost(s.len()) - s.len(), at)?;
                Ok(Value::str(s))
            }
            Method::Params => {
                let ctx = self.ctx;
                match vals.first() {
                    None => {
                        let n = ctx.path.entries().len()
                            + ctx.querystring.entries().len()
                            + ctx.header.entries().len();
                        self.charge(n, at)?;
                        Ok(Value::Map(
                            MapData::new(vec![
                                (Cow::Borrowed("path"), str_map(ctx.path.entries())),
                                (
                                    Cow::Borrowed("querystring"),
                                    str_map(ctx.querystring.entries()),
                                ),
                                (Cow::Borrowed("header"), str_map(ctx.header.entries())),
                            ]),
                            Origin::Vtl,
                        ))
                    }
                    Some(name) => {
                        let name = self.text(name, at)?;
                        let found = ctx
                            .path
                            .get(&name)
                            .or_else(|| ctx.querystring.get(&name))
                            .or_else(|| ctx.header.get(&name));
                        Ok(Value::Str(Cow::Borrowed(found.unwrap_or(""))))
                    }
                }
            }
            _ => Ok(Value::Null),
        }
    }

    fn util(&mut self, at: Pos, m: Method, vals: Vec<Value<'r>>) -> EResult<Value<'r>> {
        let Some(arg) = vals.into_iter().next() else {
            return Ok(Value::Null);
        };
        if arg.is_null() {
            return Ok(Value::Null);
        }
        let text = match &arg {
            Value::Str(s) => Cow::Borrowed(&**s),
            other => Cow::Owned(self.text(other, at)?),
        };
        let bad = |what: &str| self.fail(ErrorKind::Render, at, what.to_owned());
        let v = match m {
            Method::EscapeJavaScript => {
                Value::str(escape_javascript(&text).map_err(|TooLong| self.too_long(at))?)
            }
            Method::ParseJson => match &arg {
                // Text of the request (`$input.body`) is borrowed, as the
                // body's own JSON is; anything else is copied.
                Value::Str(Cow::Borrowed(s)) => parse_json(s),
                _ => parse_json_owned(&text),
            }
            .map_err(|e| bad(&format!("$util.parseJson: {e}")))?,
            Method::UrlEncode => Value::str(
                utf8_percent_encode(&text, URL_ENCODE)
                    .to_string()
                    .replace("%20", "+"),
            ),
            Method::UrlDecode => Value::str(
                url_decode(&text).ok_or_else(|| bad("$util.urlDecode: malformed %-escape"))?,
            ),
            Method::Base64Encode => {
                Value::str(base64::engine::general_purpose::STANDARD.encode(text.as_bytes()))
            }
            Method::Base64Decode => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(text.trim().as_bytes())
                    .map_err(|e| bad(&format!("$util.base64Decode: {e}")))?;
                Value::str(String::from_utf8_lossy(&bytes).into_owned())
            }
            _ => Value::Null,
        };
        // The encodings grow their input by a bounded factor (at most 3x).
        match &v {
            Value::Str(s) if s.len() > MAX_TEXT => Err(self.too_long(at)),
            _ => Ok(v),
        }
    }

    fn string(&self, at: Pos, s: &str, m: Method, vals: &[Value<'r>]) -> EResult<Value<'r>> {
        let args = vals
            .iter()
            .map(|v| self.text(v, at))
            .collect::<EResult<Vec<String>>>()?;
        let arg = |i: usize| args.get(i).map_or("", String::as_str);
        let int = |i: usize| match vals.get(i) {
            Some(Value::Int(n)) => Some(*n),
            _ => None,
        };
        let units: Vec<u16>;
        Ok(match m {
            Method::Length => Value::Int(s.encode_utf16().count() as i64),
            Method::ToString => Value::str(s.to_owned()),
            Method::ToLowerCase => Value::str(s.to_lowercase()),
            Method::ToUpperCase => Value::str(s.to_uppercase()),
            Method::Trim => Value::str(s.trim_matches(|c: char| c <= ' ').to_owned()),
            Method::IsEmpty => Value::Bool(s.is_empty()),
            Method::Contains => Value::Bool(s.contains(arg(0))),
            Method::StartsWith => Value::Bool(s.starts_with(arg(0))),
            Method::EndsWith => Value::Bool(s.ends_with(arg(0))),
            Method::Equals => Value::Bool(matches!(vals.first(), Some(Value::Str(o)) if o == s)),
            Method::EqualsIgnoreCase => Value::Bool(
                matches!(vals.first(), Some(Value::Str(o)) if o.to_lowercase() == s.to_lowercase()),
            ),
            Method::IndexOf | Method::LastIndexOf => {
                units = s.encode_utf16().collect();
                let needle: Vec<u16> = arg(0).encode_utf16().collect();
                Value::Int(find_units(
                    &units,
                    &needle,
                    m == Method::LastIndexOf,
                    int(1),
                ))
            }
            Method::Substring => {
                units = s.encode_utf16().collect();
                let len = units.len() as i64;
                let (b, e) = (int(0).unwrap_or(-1), int(1).unwrap_or(len));
                if b < 0 || e > len || b > e {
                    return Err(self.fail(
                        ErrorKind::Render,
                        at,
                        format!("substring({b}, {e}) out of range for length {len}"),
                    ));
                }
                Value::str(String::from_utf16_lossy(&units[b as usize..e as usize]))
            }
            // Each match of a short pattern can become a long replacement:
            // both are bounded as they are built.
            Method::Replace => Value::str(
                replace_bounded(s, s.match_indices(arg(0)), |_, out| {
                    push_bounded(out, arg(1))
                })
                .map_err(|TooLong| self.too_long(at))?,
            ),
            Method::ReplaceAll => {
                let re = self.regex(at, arg(0), false)?;
                let pieces = java_replacement(arg(1));
                let text = replace_bounded(
                    s,
                    re.captures_iter(s)
                        .filter_map(|c| Some((c.get(0)?.start(), c))),
                    |caps, out| expand(&pieces, caps, out),
                )
                .map_err(|TooLong| self.too_long(at))?;
                Value::str(text)
            }
            Method::Matches => Value::Bool(self.regex(at, arg(0), true)?.is_match(s)),
            _ => Value::Null,
        })
    }

    /// `String.split`, into at most [`MAX_MATCHES`] parts (a body split
    /// on every byte would otherwise hold 32 bytes of list per byte of
    /// body), borrowed from the string when it is the request's.
    fn split(&self, at: Pos, s: Cow<'r, str>, vals: &[Value<'r>]) -> EResult<Value<'r>> {
        let pattern = match vals.first() {
            Some(v) => self.text(v, at)?,
            None => String::new(),
        };
        let re = self.regex(at, &pattern, false)?;
        let parts = match &s {
            Cow::Borrowed(text) => split_bounded(re.split(text).map(Cow::Borrowed)),
            Cow::Owned(text) => split_bounded(re.split(text).map(|p| Cow::Owned(p.to_owned()))),
        };
        let items = parts.ok_or_else(|| {
            self.fail(
                ErrorKind::Render,
                at,
                format!("split into more than {MAX_MATCHES} parts"),
            )
        })?;
        self.charge(items.len(), at)?;
        Ok(Value::List(Rc::new(items), Origin::Vtl))
    }

    fn list(
        &self,
        at: Pos,
        items: &Rc<Vec<Value<'r>>>,
        m: Method,
        vals: &[Value<'r>],
    ) -> EResult<Value<'r>> {
        Ok(match m {
            Method::Size => Value::Int(items.len() as i64),
            Method::IsEmpty => Value::Bool(items.is_empty()),
            Method::Get => match vals.first() {
                Some(Value::Int(i)) => match usize::try_from(*i).ok().and_then(|i| items.get(i)) {
                    Some(v) => v.clone(),
                    None => {
                        return Err(self.fail(
                            ErrorKind::Render,
                            at,
                            format!("get({i}) out of range for size {}", items.len()),
                        ))
                    }
                },
                _ => Value::Null,
            },
            Method::Contains => Value::Bool(items.iter().any(|v| strict_equals(v, vals.first()))),
            Method::ToString => {
                Value::str(self.text(&Value::List(items.clone(), Origin::Vtl), at)?)
            }
            _ => Value::Null,
        })
    }

    fn regex(&self, at: Pos, pattern: &str, full: bool) -> EResult<regex::Regex> {
        let p = if full {
            format!("^(?:{pattern})$")
        } else {
            pattern.to_owned()
        };
        regex::RegexBuilder::new(&p)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| {
                self.fail(
                    ErrorKind::Render,
                    at,
                    format!("regular expression `{pattern}`: {e}"),
                )
            })
    }
}

fn map_method<'r>(
    entries: &Map<'r>,
    origin: Origin,
    m: Method,
    vals: &[Value<'r>],
) -> Result<Value<'r>, TooLong> {
    let key = vals
        .first()
        .map(Value::to_text)
        .transpose()?
        .unwrap_or_default();
    let key = || key.as_str();
    Ok(match m {
        Method::Size => Value::Int(entries.len() as i64),
        Method::IsEmpty => Value::Bool(entries.is_empty()),
        Method::Get => Value::Map(entries.clone(), origin).map_get(key()),
        Method::ContainsKey => Value::Bool(entries.get(key()).is_some()),
        Method::KeySet => Value::List(
            Rc::new(entries.iter().map(|(k, _)| Value::Str(k.clone())).collect()),
            Origin::Vtl,
        ),
        Method::Values => Value::List(
            Rc::new(entries.iter().map(|(_, v)| v.clone()).collect()),
            Origin::Vtl,
        ),
        Method::ToString => Value::str(Value::Map(entries.clone(), origin).to_text()?),
        _ => Value::Null,
    })
}

/// Java's `equals`: same type and value (numbers of either kind compare
/// as numbers).
fn strict_equals(a: &Value<'_>, b: Option<&Value<'_>>) -> bool {
    match (a, b) {
        (Value::Str(x), Some(Value::Str(y))) => x == y,
        (Value::Int(x), Some(Value::Int(y))) => x == y,
        (Value::Float(x), Some(Value::Float(y))) => x == y,
        (Value::Bool(x), Some(Value::Bool(y))) => x == y,
        _ => false,
    }
}

/// A piece of a `replaceAll` replacement.
#[derive(Debug, PartialEq)]
enum Piece {
    Text(String),
    /// A group by number (`$1`); a group the regex lacks is empty.
    Group(usize),
}

impl Matched for &str {
    fn len(&self) -> usize {
        str::len(self)
    }
}

impl Matched for regex::Captures<'_> {
    fn len(&self) -> usize {
        self.get(0).map_or(0, |m| m.len())
    }
}

#[cfg(test)]
mod tests;
