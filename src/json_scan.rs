//! A scanner for the small JSON documents of a token (its header and
//! payload), checked exactly as `serde_json` checks them, at a fraction of
//! the cost.
//!
//! Plain strings (ASCII, no escapes) are found eight bytes at a time and
//! borrowed, small non-negative integers are read in place, and member names
//! are compared as bytes. Everything else, strings with escapes or non-ASCII
//! bytes and any other number, is handed to `serde_json` itself, so escapes,
//! UTF-8 and number ranges are judged by the same code as a full parse,
//! never by a copy of its rules. The scanner owns only the structure:
//! brackets, separators, literals, whitespace and the nesting limit.

use crate::error::RejectionKind;
use crate::short_bytes;
use serde::de::{Deserializer, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;

/// The deepest nesting `serde_json` accepts, counting the outermost object:
/// its recursion limit of 128 is reached by the 128th container.
pub(crate) const MAX_DEPTH: usize = 127;

/// Integers with at most this many digits fit an `i64` whatever they are.
const PLAIN_DIGITS: usize = 18;

/// A numeric (date) member as found: absent, an integer in `i64`, or
/// anything else (a string, a float, a number out of range).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Numeric {
    #[default]
    Absent,
    Int(i64),
    Invalid,
}

/// The input is not JSON `serde_json` accepts, or not of the expected shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Malformed;

impl From<Malformed> for RejectionKind {
    fn from(_: Malformed) -> Self {
        RejectionKind::MalformedToken
    }
}

/// A string as found: plain (its bytes are its text) or decoded by
/// `serde_json`.
pub(crate) enum Str<'p> {
    Plain(&'p [u8]),
    Decoded(Cow<'p, str>),
}

impl<'p> Str<'p> {
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            Str::Plain(b) => b,
            Str::Decoded(s) => s.as_bytes(),
        }
    }

    pub(crate) fn into_text(self) -> Result<Cow<'p, str>, Malformed> {
        match self {
            // Plain bytes are ASCII: this cannot fail.
            Str::Plain(b) => std::str::from_utf8(b)
                .map(Cow::Borrowed)
                .map_err(|_| Malformed),
            Str::Decoded(s) => Ok(s),
        }
    }
}

/// A cursor over one JSON document.
pub(crate) struct Scanner<'p> {
    bytes: &'p [u8],
    at: usize,
}

impl<'p> Scanner<'p> {
    pub(crate) fn new(bytes: &'p [u8]) -> Self {
        Self { bytes, at: 0 }
    }

    /// What is left to read (the cursor never passes the end; empty if it
    /// somehow did, rather than a panic).
    fn rest(&self) -> &'p [u8] {
        self.bytes.get(self.at..).unwrap_or_default()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// JSON whitespace: space, tab, line feed, carriage return.
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    /// The next byte after whitespace, consumed.
    fn next_token(&mut self) -> Option<u8> {
        self.skip_ws();
        let b = self.peek()?;
        self.at += 1;
        Some(b)
    }

    fn expect(&mut self, b: u8) -> Result<(), Malformed> {
        if self.next_token() == Some(b) {
            Ok(())
        } else {
            Err(Malformed)
        }
    }

    /// The whole input as one object: `member` reads each member's value,
    /// given the member's name (whitespace before the value skipped).
    pub(crate) fn document(
        mut self,
        mut member: impl FnMut(&mut Self, Str<'p>) -> Result<(), Malformed>,
    ) -> Result<(), Malformed> {
        self.expect(b'{')?;
        self.items(1, b'}', |s, _| {
            s.expect(b'"')?;
            let name = s.string()?;
            s.expect(b':')?;
            s.skip_ws();
            member(s, name)
        })?;
        self.skip_ws();
        if self.at != self.bytes.len() {
            return Err(Malformed);
        }
        Ok(())
    }

    #[inline]
    fn string(&mut self) -> Result<Str<'p>, Malformed> {
        let rest = self.rest();
        let plain = plain_len(rest);
        if rest.get(plain) == Some(&b'"') {
            self.at += plain + 1;
            return Ok(Str::Plain(&rest[..plain]));
        }
        self.special_string(plain)
    }

    /// The rest of a string with an escape, a control character or a
    /// non-ASCII byte `plain` bytes in: find the closing quote (a backslash
    /// always takes the byte after it) and let serde_json judge and decode
    /// the literal. Kept apart so the common case stays small.
    #[cold]
    #[inline(never)]
    fn special_string(&mut self, plain: usize) -> Result<Str<'p>, Malformed> {
        let open = self.at.checked_sub(1).ok_or(Malformed)?;
        let rest = self.rest();
        let mut end = plain;
        loop {
            match rest.get(end) {
                None => return Err(Malformed),
                Some(b'"') => break,
                Some(b'\\') => end += 2,
                Some(_) => end += 1,
            }
        }
        self.at += end + 1;
        let literal = self.bytes.get(open..self.at).ok_or(Malformed)?;
        let Text(text) = serde_json::from_slice(literal).map_err(|_| Malformed)?;
        Ok(Str::Decoded(text))
    }

    /// A number starting here. Plain non-negative integers (no leading zero,
    /// at most [`PLAIN_DIGITS`] digits) are read in one pass; anything else
    /// is its maximal run of number characters, judged by serde_json. A
    /// valid JSON number is never followed by another number character, so
    /// the run is a number exactly when the full parse reads one there.
    fn number(&mut self) -> Result<Numeric, Malformed> {
        let rest = self.rest();
        let mut value: i64 = 0;
        let mut digits = 0;
        while let Some(&d @ b'0'..=b'9') = rest.get(digits) {
            if digits == PLAIN_DIGITS {
                break;
            }
            value = value * 10 + i64::from(d - b'0');
            digits += 1;
        }
        let plain = (digits == 1 || rest.first() != Some(&b'0'))
            && !matches!(
                rest.get(digits),
                Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
            );
        if digits > 0 && plain {
            self.at += digits;
            return Ok(Numeric::Int(value));
        }
        let len = rest
            .iter()
            .position(|b| !matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
            .unwrap_or(rest.len());
        self.at += len;
        serde_json::from_slice::<Numeric>(&rest[..len]).map_err(|_| Malformed)
    }

    /// Any value, checked and passed over; `depth` is that of the container
    /// holding it.
    pub(crate) fn value(&mut self, depth: usize) -> Result<(), Malformed> {
        match self.next_token().ok_or(Malformed)? {
            b'"' => self.string().map(drop),
            b'{' => self.object(depth + 1),
            b'[' => self.array(depth + 1, |s, d| s.value(d)),
            b't' => self.literal(b"rue"),
            b'f' => self.literal(b"alse"),
            b'n' => self.literal(b"ull"),
            b'-' | b'0'..=b'9' => {
                self.at -= 1;
                self.number().map(drop)
            }
            _ => Err(Malformed),
        }
    }

    fn literal(&mut self, rest: &[u8]) -> Result<(), Malformed> {
        if self.rest().starts_with(rest) {
            self.at += rest.len();
            Ok(())
        } else {
            Err(Malformed)
        }
    }

    /// An object whose `{` was just consumed, at nesting `depth`.
    fn object(&mut self, depth: usize) -> Result<(), Malformed> {
        self.items(depth, b'}', |s, depth| {
            s.expect(b'"')?;
            s.string()?;
            s.expect(b':')?;
            s.value(depth)
        })
    }

    /// An array whose `[` was just consumed, at nesting `depth`; `element`
    /// reads each element.
    fn array(
        &mut self,
        depth: usize,
        element: impl FnMut(&mut Self, usize) -> Result<(), Malformed>,
    ) -> Result<(), Malformed> {
        self.items(depth, b']', element)
    }

    /// The comma-separated items of an object or array at nesting `depth`,
    /// its opening bracket just consumed, up to `close`.
    fn items(
        &mut self,
        depth: usize,
        close: u8,
        mut item: impl FnMut(&mut Self, usize) -> Result<(), Malformed>,
    ) -> Result<(), Malformed> {
        if depth > MAX_DEPTH {
            return Err(Malformed);
        }
        self.skip_ws();
        if self.peek() == Some(close) {
            self.at += 1;
            return Ok(());
        }
        loop {
            item(self, depth)?;
            match self.next_token() {
                Some(b',') => {}
                Some(b) if b == close => return Ok(()),
                _ => return Err(Malformed),
            }
        }
    }

    /// A string value, else [`Malformed`].
    pub(crate) fn text(&mut self) -> Result<Cow<'p, str>, Malformed> {
        if self.peek() != Some(b'"') {
            return Err(Malformed);
        }
        self.at += 1;
        self.string()?.into_text()
    }

    /// Whether the value here is `null` (then consumed; anything else is
    /// left for the caller).
    pub(crate) fn null(&mut self) -> bool {
        let null = self.rest().starts_with(b"null");
        if null {
            self.at += 4;
        }
        null
    }

    /// A member value read as text when it is a string; any other value is
    /// checked and reads as absent.
    pub(crate) fn text_or_other(
        &mut self,
        depth: usize,
    ) -> Result<Option<Cow<'p, str>>, Malformed> {
        if self.peek() == Some(b'"') {
            self.at += 1;
            return self.string()?.into_text().map(Some);
        }
        self.value(depth).map(|()| None)
    }

    /// A member value read as a numeric date: integers as such, any other
    /// value checked and [`Numeric::Invalid`].
    pub(crate) fn numeric(&mut self, depth: usize) -> Result<Numeric, Malformed> {
        match self.peek() {
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => self.value(depth).map(|()| Numeric::Invalid),
        }
    }

    /// The string elements of an array value; nothing for any other value.
    pub(crate) fn texts(&mut self, depth: usize) -> Result<Vec<Cow<'p, str>>, Malformed> {
        let mut out = Vec::new();
        if self.peek() == Some(b'[') {
            self.at += 1;
            self.array(depth + 1, |s, d| {
                s.skip_ws();
                if let Some(text) = s.text_or_other(d)? {
                    out.push(text);
                }
                Ok(())
            })?;
        } else {
            self.value(depth)?;
        }
        Ok(out)
    }
}

/// The length of the plain start of a string's content: the bytes before the
/// first `"`, `\`, control character or non-ASCII byte, eight at a time.
#[inline(always)]
fn plain_len(rest: &[u8]) -> usize {
    use short_bytes::{HIGHS, ONES};
    let mut at = 0;
    loop {
        // Whole words while the input lasts (past the string's end is
        // fine: only the first flagged byte counts), then the zero-padded
        // rest, whose padding reads as a control character.
        let w = match rest.get(at..at + 8) {
            Some(word) => u64::from_le_bytes(word.try_into().unwrap_or_default()),
            None => short_bytes::tail(rest.get(at..).unwrap_or_default()),
        };
        let quote = w ^ (ONES * u64::from(b'"'));
        let backslash = w ^ (ONES * u64::from(b'\\'));
        // Per byte: equal to `"` or `\`, below 0x20, or with its high bit set.
        // Borrows only flag bytes above a flagged byte, so the lowest flag is
        // exact.
        let found = (quote.wrapping_sub(ONES) & !quote
            | backslash.wrapping_sub(ONES) & !backslash
            | w.wrapping_sub(ONES * 0x20) & !w
            | w)
            & HIGHS;
        if found != 0 {
            return (at + (found.trailing_zeros() / 8) as usize).min(rest.len());
        }
        at += 8;
    }
}

/// A string judged and decoded by `serde_json`, borrowed when it has no
/// escapes.
pub(crate) struct Text<'a>(pub(crate) Cow<'a, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
        }
        deserializer.deserialize_str(V)
    }
}

/// A number judged by `serde_json`: an integer in `i64`, or invalid (a
/// fraction, an exponent, out of range).
impl<'de> Deserialize<'de> for Numeric {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Numeric;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_i64<E>(self, v: i64) -> Result<Numeric, E> {
                Ok(Numeric::Int(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Numeric, E> {
                Ok(i64::try_from(v).map_or(Numeric::Invalid, Numeric::Int))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Numeric, E> {
                Ok(Numeric::Invalid)
            }
        }
        deserializer.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_len_stops_at_the_first_special_byte() {
        for len in 0..40usize {
            let plain: Vec<u8> = (0..len).map(|i| b"az09 ~\x7f!#/"[i % 10]).collect();
            assert_eq!(plain_len(&plain), len);
            for special in [b'"', b'\\', 0x00, 0x1f, 0x80, 0xff] {
                let mut s = plain.clone();
                s.push(special);
                s.extend_from_slice(b"\"abc\\\x01");
                assert_eq!(plain_len(&s), len, "{len} then {special:#x}");
            }
        }
    }
}
