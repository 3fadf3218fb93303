//! Writing values out: Java's `toString` and JSON, within the text bound.

use super::*;

/// Appends `s` unless that would pass the limit (checked first, so a large
/// string is never copied only to be refused).
pub(super) fn put<S: Sink>(out: &mut S, s: &str) -> Result<(), TooLong> {
    if out.len() + s.len() > MAX_TEXT {
        return Err(TooLong);
    }
    out.write_str(s).map_err(|_| TooLong)
}

/// Appends a number (at most a few dozen bytes).
pub(super) fn put_display<S: Sink>(out: &mut S, v: &impl std::fmt::Display) -> Result<(), TooLong> {
    write!(out, "{v}").map_err(|_| TooLong)?;
    if out.len() > MAX_TEXT {
        return Err(TooLong);
    }
    Ok(())
}

/// [`put`] for a `String`.
pub(crate) fn push_bounded(out: &mut String, s: &str) -> Result<(), TooLong> {
    put(out, s)
}

pub(super) fn write_json_list<S: Sink>(items: &[Value<'_>], out: &mut S) -> Result<(), TooLong> {
    put(out, "[")?;
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            put(out, ",")?;
        }
        item.write_json(out)?;
    }
    put(out, "]")
}

/// A JSON string as `serde_json` writes it: `"` and `\` escaped, the short
/// escapes for backspace, form feed, newline, carriage return and tab,
/// `\u00xx` (lower-case) for the other control characters, everything
/// else as it is.
pub(super) fn write_json_str<S: Sink>(s: &str, out: &mut S) -> Result<(), TooLong> {
    put(out, "\"")?;
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let short = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x0c => "\\f",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x00..=0x1f => "",
            _ => continue,
        };
        // Escaped bytes are ASCII: `i` is a character boundary.
        put(out, &s[start..i])?;
        start = i + 1;
        if short.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            let code = [
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0xf)],
            ];
            put(out, std::str::from_utf8(&code).unwrap_or_default())?;
        } else {
            put(out, short)?;
        }
    }
    put(out, &s[start..])?;
    put(out, "\"")
}

/// `Double.toString`: plain between 10^-3 and 10^7, else `1.5E10`; always
/// a fractional part.
pub(crate) fn write_java_double(f: f64, out: &mut String) {
    if f.is_nan() {
        out.push_str("NaN");
    } else if f.is_infinite() {
        out.push_str(if f > 0.0 { "Infinity" } else { "-Infinity" });
    } else if f == 0.0 || (1e-3..1e7).contains(&f.abs()) {
        let start = out.len();
        let _ = write!(out, "{f}");
        if !out[start..].contains('.') {
            out.push_str(".0");
        }
    } else {
        let sci = format!("{f:e}");
        let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
        out.push_str(mantissa);
        if !mantissa.contains('.') {
            out.push_str(".0");
        }
        out.push('E');
        out.push_str(exp);
    }
}
