//! Java's `String` semantics the methods reproduce: UTF-16 index search,
//! `split`, `replaceAll` replacements, `escapeJavaScript` and URL decoding,
//! each bounded.

use super::*;

/// The parts of a split, Java's way: trailing empty strings dropped (all
/// but one if every part is empty); `None` past [`MAX_MATCHES`] parts.
pub(super) fn split_bounded<'r>(
    parts: impl Iterator<Item = Cow<'r, str>>,
) -> Option<Vec<Value<'r>>> {
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

pub(super) fn find_units(hay: &[u16], needle: &[u16], last: bool, from: Option<i64>) -> i64 {
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

/// Java's replacement syntax: `$1` is a group, `\$` (or a `$` before no
/// digit) a dollar, `\x` the character x.
pub(super) fn java_replacement(r: &str) -> Vec<Piece> {
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
pub(super) fn expand(
    pieces: &[Piece],
    caps: regex::Captures<'_>,
    out: &mut String,
) -> Result<(), TooLong> {
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
pub(super) fn replace_bounded<M: Matched>(
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
pub(super) trait Matched {
    fn len(&self) -> usize;
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
pub(super) fn url_decode(s: &str) -> Option<String> {
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
