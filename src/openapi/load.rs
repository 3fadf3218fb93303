//! Reading a document's text into a JSON value, within bounds.
//!
//! A document is operator input, but a reload must not take the process down,
//! so each way a small text can cost much is refused before it does:
//! - the size, against [`ImportOptions::max_document_bytes`];
//! - a document that starts with `{` or `[` is JSON and only JSON: serde_json
//!   refuses one nested too deep at once, where YAML (a superset) would pay
//!   for it again;
//! - YAML flow nesting (`[[[[...`), counted before the YAML parser sees the
//!   text: the parser reads every event of a document before the
//!   deserializer's depth limit (128) can fire, about 10 µs a level;
//! - YAML aliases, by counting the nodes the document expands to against
//!   [`ImportOptions::max_yaml_nodes`] before building anything: a 30 KB text
//!   whose one anchor is aliased thousands of times expands to gigabytes.
//!   `serde_norway`'s own guard (alias jumps up to 100 times the number of
//!   events) lets such a document through, and it has no setting for it.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess};
use serde::de::{VariantAccess, Visitor};
use serde_json::Value;

use super::{ImportError, ImportOptions};

/// Deepest YAML flow nesting read; `serde_norway` refuses deeper documents
/// anyway, after loading them whole.
const MAX_FLOW_DEPTH: usize = 128;

pub(super) fn load(document: &str, options: &ImportOptions) -> Result<Value, ImportError> {
    if document.len() > options.max_document_bytes {
        return Err(ImportError::new(
            "",
            format!(
                "the document is {} bytes, more than the limit of {} \
                 (ImportOptions::max_document_bytes)",
                document.len(),
                options.max_document_bytes
            ),
        ));
    }
    let text = document.strip_prefix('\u{feff}').unwrap_or(document);
    if text.trim_start().starts_with(['{', '[']) {
        return serde_json::from_str(text).map_err(|e| {
            ImportError::new(
                "",
                format!(
                    "invalid JSON: {e} (a document starting with `{{` or `[` is read as \
                     JSON only; start YAML flow style with `---`)"
                ),
            )
        });
    }
    check_flow_depth(text)?;
    count_nodes(text, options.max_yaml_nodes)?;
    load_yaml(text)
}

fn invalid_yaml(e: &dyn fmt::Display) -> ImportError {
    ImportError::new("", format!("invalid YAML: {e}"))
}

fn load_yaml(text: &str) -> Result<Value, ImportError> {
    let mut yaml: serde_norway::Value =
        serde_norway::from_str(text).map_err(|e| invalid_yaml(&e))?;
    // Hand-written YAML uses `<<` merge keys; resolve them like most tools do.
    yaml.apply_merge().map_err(|e| invalid_yaml(&e))?;
    // Non-string keys (`200:` response codes) become strings here.
    serde_json::to_value(yaml).map_err(|e| invalid_yaml(&e))
}

/// Refuses YAML whose flow collections nest deeper than [`MAX_FLOW_DEPTH`].
///
/// A scan of YAML's lexical rules as far as flow collections need them:
/// quoted scalars, comments and block scalars are skipped, and `[`/`{` count
/// where a node may start. Where it cannot tell it counts (a plain scalar's
/// continuation line starting with `[` counts as a collection), so odd text
/// is refused rather than let through. It is a guard, not a second parser:
/// text crafted to read differently to it and to the parser could still make
/// the parser pay for its depth, which `max_document_bytes` then bounds.
pub(super) fn check_flow_depth(text: &str) -> Result<(), ImportError> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    // A node may start here (line start, after an indicator or a property).
    let mut node_start = true;
    // Inside a flow plain scalar: quotes are content until it ends.
    let mut in_plain = false;
    let mut line_indent = 0usize;
    let mut at_line_start = true;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if at_line_start {
            let start = i;
            while i < bytes.len() && bytes[i] == b' ' {
                i += 1;
            }
            line_indent = i - start;
            at_line_start = false;
            if depth == 0 {
                node_start = true;
                in_plain = false;
                // `---` and `...` (document markers) are followed by a node.
                let rest = &bytes[i..];
                if line_indent == 0
                    && (rest.starts_with(b"---") || rest.starts_with(b"..."))
                    && next_blank(bytes, i + 2)
                {
                    i += 3;
                }
            }
            continue;
        }
        let prev_blank = i == 0 || matches!(bytes[i - 1], b' ' | b'\t' | b'\n' | b'\r');
        match b {
            b'\n' => {
                at_line_start = true;
                i += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' => {
                i += 1;
                continue;
            }
            b'#' if prev_blank => {
                i = skip_line(bytes, i);
                continue;
            }
            _ => {}
        }
        if depth == 0 {
            // Block context: only a node start opens a collection or a quote.
            if node_start {
                match b {
                    b'[' | b'{' => {
                        depth = 1;
                        node_start = true;
                        in_plain = false;
                        i += 1;
                        continue;
                    }
                    b'\'' | b'"' => {
                        i = skip_quoted(bytes, i);
                        node_start = false;
                        continue;
                    }
                    b'|' | b'>' => {
                        i = skip_block_scalar(bytes, i, line_indent);
                        at_line_start = true;
                        continue;
                    }
                    b'&' | b'!' => {
                        i = skip_word(bytes, i);
                        continue;
                    }
                    b'-' | b'?' | b':' if next_blank(bytes, i) => {
                        i += 1;
                        continue;
                    }
                    _ => node_start = false,
                }
            } else if matches!(b, b':' | b'-' | b'?') && next_blank(bytes, i) {
                node_start = true;
            }
            i += 1;
            continue;
        }
        // Flow context.
        match b {
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_FLOW_DEPTH {
                    return Err(ImportError::new(
                        "",
                        format!(
                            "invalid YAML: flow collections nested deeper than \
                             {MAX_FLOW_DEPTH} levels"
                        ),
                    ));
                }
                node_start = true;
                in_plain = false;
            }
            b']' | b'}' => {
                depth -= 1;
                node_start = depth == 0;
                in_plain = false;
            }
            b',' => {
                node_start = true;
                in_plain = false;
            }
            b':' if in_plain => {
                // `a:b` stays one scalar; `a: b` and `a:,` end it.
                let next = bytes.get(i + 1).copied();
                if next.is_none_or(|n| b" \t\r\n,[]{}".contains(&n)) {
                    in_plain = false;
                    node_start = true;
                }
            }
            b':' | b'?' => node_start = true,
            b'\'' | b'"' if !in_plain => {
                i = skip_quoted(bytes, i);
                node_start = false;
                continue;
            }
            b'&' | b'!' if !in_plain => {
                i = skip_word(bytes, i);
                continue;
            }
            _ => {
                in_plain = true;
                node_start = false;
            }
        }
        i += 1;
    }
    Ok(())
}

fn next_blank(bytes: &[u8], i: usize) -> bool {
    bytes
        .get(i + 1)
        .is_none_or(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

/// The index of the line break ending the line at `i` (or the end).
fn skip_line(bytes: &[u8], i: usize) -> usize {
    bytes[i..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |p| i + p)
}

/// Past an anchor or tag (`&name`, `!tag`): up to the next blank or flow indicator.
fn skip_word(bytes: &[u8], i: usize) -> usize {
    bytes[i..]
        .iter()
        .position(|b| b" \t\r\n,[]{}".contains(b))
        .map_or(bytes.len(), |p| i + p)
}

/// Past a quoted scalar starting at `i` (`'...'` with `''`, `"..."` with `\`).
fn skip_quoted(bytes: &[u8], i: usize) -> usize {
    let quote = bytes[i];
    let mut j = i + 1;
    while j < bytes.len() {
        match bytes[j] {
            b'\\' if quote == b'"' => j += 2,
            b'\'' if quote == b'\'' && bytes.get(j + 1) == Some(&b'\'') => j += 2,
            c if c == quote => return j + 1,
            _ => j += 1,
        }
    }
    bytes.len()
}

/// Past a block scalar (`|` or `>` at `i`, on a line indented `indent`): its
/// header line, then, as YAML detects a block scalar's indentation, every
/// line that is blank or indented at least as much as its first non-blank
/// line (when that one is indented more than `indent`). Returns the index of
/// the first line that is not part of it.
fn skip_block_scalar(bytes: &[u8], i: usize, indent: usize) -> usize {
    let mut content_indent = None;
    let mut line = skip_line(bytes, i);
    while line < bytes.len() {
        let start = line + 1;
        let spaces = bytes[start..].iter().take_while(|&&b| b == b' ').count();
        let rest = bytes.get(start + spaces).copied();
        let blank = rest.is_none_or(|b| matches!(b, b'\n' | b'\r'));
        if !blank {
            let m = *content_indent.get_or_insert(spaces);
            if m <= indent || spaces < m {
                return start;
            }
        }
        line = skip_line(bytes, start);
    }
    bytes.len()
}

/// Refuses YAML that expands (aliases replayed) to more than `max` nodes,
/// by walking it once without building anything.
fn count_nodes(text: &str, max: usize) -> Result<(), ImportError> {
    let left = Cell::new(max);
    let exceeded = Cell::new(false);
    let counter = Count {
        left: &left,
        exceeded: &exceeded,
    };
    match counter.deserialize(serde_norway::Deserializer::from_str(text)) {
        Ok(()) => Ok(()),
        Err(_) if exceeded.get() => Err(ImportError::new(
            "",
            format!(
                "the YAML document expands to more than {max} nodes (aliases are \
                 counted each time they are used; ImportOptions::max_yaml_nodes)"
            ),
        )),
        Err(e) => Err(invalid_yaml(&e)),
    }
}

/// Counts each node it visits, failing once the budget is spent.
#[derive(Clone, Copy)]
struct Count<'a> {
    left: &'a Cell<usize>,
    exceeded: &'a Cell<bool>,
}

impl Count<'_> {
    fn tick<E: de::Error>(self) -> Result<(), E> {
        match self.left.get().checked_sub(1) {
            Some(left) => {
                self.left.set(left);
                Ok(())
            }
            None => {
                self.exceeded.set(true);
                Err(E::custom("node limit exceeded"))
            }
        }
    }
}

impl<'de> DeserializeSeed<'de> for Count<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Count<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.tick()
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.tick()
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.tick()
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.tick()
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.tick()
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.tick()
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.tick()
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.tick()?;
        while seq.next_element_seed(self)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.tick()?;
        while map.next_key_seed(self)?.is_some() {
            map.next_value_seed(self)?;
        }
        Ok(())
    }

    /// A tagged value (`!Ref x`): the tag, then the value.
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        let ((), variant) = data.variant_seed(self)?;
        variant.newtype_variant_seed(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth_ok(text: &str) -> bool {
        check_flow_depth(text).is_ok()
    }

    #[test]
    fn flow_depth_counts_collections_not_text() {
        let deep = "[".repeat(MAX_FLOW_DEPTH + 1);
        assert!(!depth_ok(&format!("a: {deep}")));
        assert!(!depth_ok(&format!("- {deep}")));
        assert!(!depth_ok(&format!("--- {deep}")));
        assert!(!depth_ok(&format!("a: &x !!seq {deep}")));
        assert!(!depth_ok(&format!("a:\n  {deep}")));
        assert!(!depth_ok(&"{a: ".repeat(MAX_FLOW_DEPTH + 1)));
        let limit = "[".repeat(MAX_FLOW_DEPTH) + &"]".repeat(MAX_FLOW_DEPTH);
        assert!(depth_ok(&format!("a: {limit}\nb: {limit}")));
        // Brackets that are not collections.
        for text in [
            format!("a: \"{deep}\""),
            format!("a: '{deep}'"),
            format!("a: x{deep}"),
            format!("a: 1 # {deep}"),
            format!("# {deep}"),
            format!("a: |\n  {deep}\n  more\nb: 1"),
            format!("a: [x, 'it''s {deep}', \"\\\" {deep}\"]"),
        ] {
            assert!(depth_ok(&text), "{text}");
        }
        // A closing bracket in a quoted scalar does not end a collection.
        let hidden = format!("a: [[[\"]]]\", '] ] ]', {deep}");
        assert!(!depth_ok(&hidden));
        // A quote inside a plain scalar is content, not the start of a quoted one.
        assert!(!depth_ok(&format!("a: [don't, {deep}")));
        // A block scalar ends at the first line indented less than its content.
        assert!(!depth_ok(&format!("a: |\n    text\nb: {deep}")));
        assert!(!depth_ok(&format!("a: |\n\n    text\n  {deep}")));
    }
}
