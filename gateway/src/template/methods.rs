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

/// The parts of a split, Java's way: trailing empty strings dropped (all
/// but one if every part is empty); `None` past [`MAX_MATCHES`] parts.
fn split_bounded<'r>(parts: impl Iterator<Item = Cow<'r, str>>) -> Option<Vec<Value<'r>>> {
    let mut items = Vec::new();
    // Empty parts are counted, not kept, until a part follows them.
    let mut empties = 0;
    for part in parts {
        if part.is_empty() {
            empties += 1;
            continue;
        }
        if items.len() + empties >= MAX_MATCHES {
            return None;
        }
        items.extend(std::iter::repeat_n(Value::str(""), empties));
        empties = 0;
        items.push(Value::Str(part));
    }
    if items.is_empty() && empties > 0 {
        items.push(Value::str(""));
    }
    Some(items)
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

fn find_units(hay: &[u16], needle: &[u16], last: bool, from: Option<i64>) -> i64 {
    let n = needle.len();
    if n > hay.len() {
        return -1;
    }
    let max = hay.len() - n;
    let hit = |i: &usize| hay[*i..*i + n] == *needle;
    let found = if last {
        let top = from.map_or(max, |f| (f.max(-1) as usize).min(max));
        if from.is_some_and(|f| f < 0) {
            None
        } else {
            (0..=top).rev().find(hit)
        }
    } else {
        let bottom = from.map_or(0, |f| f.max(0) as usize);
        (bottom..=max).find(hit)
    };
    found.map_or(-1, |i| i as i64)
}

/// A piece of a `replaceAll` replacement.
#[derive(Debug, PartialEq)]
enum Piece {
    Text(String),
    /// A group by number (`$1`); a group the regex lacks is empty.
    Group(usize),
}

/// Java's replacement syntax: `$1` is a group, `\$` (or a `$` before no
/// digit) a dollar, `\x` the character x.
fn java_replacement(r: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut text = String::with_capacity(r.len());
    let mut chars = r.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => text.extend(chars.next()),
            '$' => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                if digits.is_empty() {
                    text.push('$');
                } else {
                    if !text.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    pieces.push(Piece::Group(digits.parse().unwrap_or(usize::MAX)));
                }
            }
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    pieces
}

/// One match's replacement, appended within the limit.
fn expand(pieces: &[Piece], caps: regex::Captures<'_>, out: &mut String) -> Result<(), TooLong> {
    for piece in pieces {
        match piece {
            Piece::Text(t) => push_bounded(out, t)?,
            Piece::Group(i) => push_bounded(out, caps.get(*i).map_or("", |m| m.as_str()))?,
        }
    }
    Ok(())
}

/// `s` with each match (its start, and what `replace` needs of it) replaced
/// by what `replace` appends, the result never passing [`MAX_TEXT`].
fn replace_bounded<M: Matched>(
    s: &str,
    matches: impl Iterator<Item = (usize, M)>,
    mut replace: impl FnMut(M, &mut String) -> Result<(), TooLong>,
) -> Result<String, TooLong> {
    let mut out = String::with_capacity(s.len().min(MAX_TEXT));
    let mut last = 0;
    for (start, m) in matches {
        push_bounded(&mut out, &s[last..start])?;
        last = start + m.len();
        replace(m, &mut out)?;
    }
    push_bounded(&mut out, &s[last..])?;
    Ok(out)
}

/// A match's length in bytes.
trait Matched {
    fn len(&self) -> usize;
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

/// `StringEscapeUtils.escapeJavaScript` (commons-lang 2): quotes, `\` and
/// `/` escaped, control characters as `\n`-style or `\u00XX`, everything
/// outside ASCII as `\uXXXX` (upper-case hex, per UTF-16 unit).
/// Each unit may become six bytes: the result is bounded as it is built.
pub(crate) fn escape_javascript(s: &str) -> Result<String, TooLong> {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(s.len().min(MAX_TEXT) + 8);
    for unit in s.encode_utf16() {
        if out.len() > MAX_TEXT {
            return Err(TooLong);
        }
        match unit {
            0x08 => out.push_str("\\b"),
            0x0a => out.push_str("\\n"),
            0x09 => out.push_str("\\t"),
            0x0c => out.push_str("\\f"),
            0x0d => out.push_str("\\r"),
            0x27 => out.push_str("\\'"),
            0x22 => out.push_str("\\\""),
            0x5c => out.push_str("\\\\"),
            0x2f => out.push_str("\\/"),
            u if !(0x20..=0x7f).contains(&u) => {
                let _ = write!(out, "\\u{u:04X}");
            }
            u => out.push(char::from(u as u8)),
        }
    }
    if out.len() > MAX_TEXT {
        return Err(TooLong);
    }
    Ok(out)
}

/// `java.net.URLDecoder`: `+` is a space; a bad `%` escape is an error.
fn url_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = b.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_javascript_is_commons_lang() {
        assert_eq!(
            escape_javascript(r#"it's "x" a/b \ "#).unwrap(),
            r#"it\'s \"x\" a\/b \\ "#
        );
        assert_eq!(
            escape_javascript("é\n\u{1}😀").unwrap(),
            "\\u00E9\\n\\u0001\\uD83D\\uDE00"
        );
        // DEL (0x7f) is not escaped by commons-lang 2.
        assert_eq!(escape_javascript("\u{7f}").unwrap(), "\u{7f}");
    }

    #[test]
    fn url_decode_rejects_bad_escapes() {
        assert_eq!(url_decode("a+b%2Fc").as_deref(), Some("a b/c"));
        assert_eq!(url_decode("%zz"), None);
        assert_eq!(url_decode("%4"), None);
    }

    #[test]
    fn split_is_bounded_in_parts() {
        let n = MAX_MATCHES;
        let parts = |iter: &mut dyn Iterator<Item = &'static str>| {
            split_bounded(iter.map(Cow::Borrowed)).map(|p| p.len())
        };
        assert_eq!(parts(&mut std::iter::repeat_n("a", n)), Some(n));
        assert_eq!(parts(&mut std::iter::repeat_n("a", n + 1)), None);
        // Empty parts count once a part follows them; trailing ones are
        // dropped (Java), so never count.
        let mut empties_then_a = std::iter::repeat_n("", n).chain(["a"]);
        assert_eq!(parts(&mut empties_then_a), None);
        let mut a_then_empties = std::iter::once("a").chain(std::iter::repeat_n("", 2 * n));
        assert_eq!(parts(&mut a_then_empties), Some(1));
        assert_eq!(parts(&mut std::iter::repeat_n("", 3)), Some(1));
    }

    #[test]
    fn java_replacements() {
        use Piece::*;
        assert_eq!(java_replacement("'"), [Text("'".into())]);
        assert_eq!(
            java_replacement("<$1>"),
            [Text("<".into()), Group(1), Text(">".into())]
        );
        assert_eq!(java_replacement("\\$x$"), [Text("$x$".into())]);
        assert_eq!(
            java_replacement("$12$99999999999999999999999"),
            [Group(12), Group(usize::MAX)]
        );
    }
}
