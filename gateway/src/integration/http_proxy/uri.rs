//! The integration URI: stage variables substituted, split into its parts,
//! `{name}` placeholders filled in its path and query, and the percent
//! encoding API Gateway applies to values.

use std::borrow::Cow;
use std::collections::HashMap;

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::mapping;

/// `${stageVariables.NAME}` replaced: `Ok(Err(name))` names the first
/// variable that is not set; `Err` is a malformed reference.
pub(crate) fn substitute(
    uri: &str,
    vars: &HashMap<String, String>,
) -> Result<Result<String, String>, String> {
    let mut out = String::with_capacity(uri.len());
    let mut rest = uri;
    while let Some(at) = rest.find("${stageVariables.") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "${stageVariables.".len()..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("uri {uri:?}: unclosed ${{stageVariables."))?;
        let name = &after[..end];
        let Some(value) = vars.get(name) else {
            return Ok(Err(name.to_owned()));
        };
        out.push_str(value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(Ok(out))
}

/// `${stageVariables.NAME}` replaced; an unset variable is an error (for
/// `aws_proxy` URIs, which name the function).
pub(crate) fn substitute_stage_variables(
    uri: &str,
    vars: &HashMap<String, String>,
) -> Result<String, String> {
    substitute(uri, vars)?.map_err(|name| {
        format!("uri {uri:?}: stage variable {name} is not set (--stage-variable {name}=...)")
    })
}

/// `scheme`, `authority`, `path` (at least `/`) and query of a URI whose path
/// may hold `{name}` placeholders.
pub(crate) fn split_uri(uri: &str) -> Result<(&str, &str, &str, Option<&str>), String> {
    let (scheme, rest) = uri
        .split_once("://")
        .ok_or_else(|| format!("uri {uri:?}: expected http:// or https://"))?;
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err(format!("uri {uri:?}: expected http:// or https://"));
    }
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..end];
    if authority.is_empty() || authority.contains('@') {
        return Err(format!("uri {uri:?}: bad host"));
    }
    let rest = &rest[end..];
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    let path = if path.is_empty() { "/" } else { path };
    Ok((scheme, authority, path, query))
}

/// Whether a raw query pair names one of `names`: its name decoded, and
/// every `;`-separated piece of it read as a pair too (backends that still
/// split there would find the name in `x=1;tenant=victim`).
pub(crate) fn names_a_mapped_parameter(pair: &str, names: &[String]) -> bool {
    pair.split(';').any(|piece| {
        let name = piece.split_once('=').map_or(piece, |(n, _)| n);
        if name.contains(['%', '+']) {
            names.contains(&decode(name))
        } else {
            names.iter().any(|n| n == name)
        }
    })
}

/// A value for a path placeholder as it is sent: `None` (a 500) when it
/// holds a dot segment (checked before encoding: see `mapping.rs`);
/// percent-encoded, `/` included, unless it is a path parameter of the
/// method request, which stays as the client encoded it and as it was
/// authorized.
pub(crate) fn path_value(value: Cow<'_, str>, from_the_path: bool) -> Option<Cow<'_, str>> {
    if mapping::has_dot_segment(&value) {
        return None;
    }
    Some(if from_the_path {
        value
    } else {
        Cow::Owned(encode(&value))
    })
}

/// The path with each `{name}` (or `{name+}`) filled from `values` (names
/// first to last, the first of a name wins), each through [`path_value`];
/// `None` when a value is missing or the path is not safe to send.
#[cfg(test)]
pub(crate) fn fill_path(template: &str, values: &[(&str, &str, bool)]) -> Option<String> {
    let mut out = String::with_capacity(template.len() + 16);
    fill_path_into(&mut out, template, |name| {
        let &(_, value, from_the_path) = values.iter().find(|(n, _, _)| *n == name)?;
        path_value(Cow::Borrowed(value), from_the_path)
    })?;
    Some(out)
}

/// The path parameter `name`, as it came.
pub(crate) fn param<'a>(params: &[(&'a str, &'a str)], name: &str) -> Option<Cow<'a, str>> {
    params
        .iter()
        .find(|(n, _)| *n == name)
        .map(|&(_, v)| Cow::Borrowed(v))
}

/// The path with each `{name}` (or `{name+}`) filled from `value`, appended
/// to `out`; `None` when a value is missing or the filled path is not safe
/// to send (`mapping::is_safe_backend_path`: a dot or empty segment).
pub(crate) fn fill_path_into<'v>(
    out: &mut String,
    template: &str,
    mut value: impl FnMut(&str) -> Option<Cow<'v, str>>,
) -> Option<()> {
    let start = out.len();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}')? + open;
        let name = rest[open + 1..close].trim_end_matches('+');
        out.push_str(&value(name)?);
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    mapping::is_safe_backend_path(&out[start..]).then_some(())
}

/// The URI's query with each `{name}` (or `{name+}`) filled from `value` (a
/// value and whether it is a raw path parameter), appended to `out`, each
/// value percent-encoded as a query component (a raw path parameter
/// decoded first, so it is encoded once): a value never adds a pair.
/// `None` when a value is missing or a `{` is unclosed.
pub(crate) fn fill_query_into<'v>(
    out: &mut String,
    template: &str,
    mut value: impl FnMut(&str) -> Option<(Cow<'v, str>, bool)>,
) -> Option<()> {
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}')? + open;
        let name = rest[open + 1..close].trim_end_matches('+');
        let (value, raw) = value(name)?;
        if raw {
            encode_into(out, &percent_decode_str(&value).decode_utf8_lossy());
        } else {
            encode_into(out, &value);
        }
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    Some(())
}

/// RFC 3986's unreserved characters: all that is left as is.
pub(crate) const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes all but RFC 3986's unreserved characters.
pub(crate) fn encode(text: &str) -> String {
    utf8_percent_encode(text, UNRESERVED).to_string()
}

/// [`encode`], appending to `out`.
pub(crate) fn encode_into(out: &mut String, text: &str) {
    out.extend(utf8_percent_encode(text, UNRESERVED));
}

/// Decodes `%XX` (and `+` as a space, as query strings write it); a `%`
/// without two hex digits stays as it is.
pub(crate) fn decode(text: &str) -> String {
    // `+` first: an encoded `%2B` is a plus, not a space.
    let spaced: Cow<'_, str> = if text.contains('+') {
        Cow::Owned(text.replace('+', " "))
    } else {
        Cow::Borrowed(text)
    };
    percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
}
