//! Route table: maps `(method, path)` to a per-route value the way API Gateway
//! maps a request to a resource and method.
//!
//! The table is a tree of path segments, as API Gateway's resources are: each
//! node has its static children (scanned while at most eight, else in an
//! open-addressing hash table), at most one `{name}` child and at most one
//! `{name+}` route. A lookup walks the request path one segment at a time, so
//! its cost follows the depth of the path, not the number of routes: a table of
//! 10,000 resources answers as fast as a table of one. Nodes are one cache line
//! each with their label inline, so a step reads the node and, among many
//! siblings, one hash slot. A path entry holds a tiny per-method list plus an
//! optional any-method (`ANY`) fallback.
//!
//! Template syntax (API Gateway resource paths, which are also OpenAPI paths):
//! - `/pets/{petId}`: `{name}` matches exactly one non-empty path segment;
//! - `/admin/{proxy+}`: `{name+}` (greedy, last segment only) matches one or more
//!   segments, so `/admin/{proxy+}` matches `/admin/a` and `/admin/a/b/c` but not
//!   `/admin` or `/admin/`;
//! - a parameter must be a whole segment (`/pets/x{id}` is rejected, as API Gateway
//!   rejects it), and empty segments (`/a//b`) are rejected.
//!
//! Priority follows API Gateway: a static segment beats a parameter, which beats a
//! greedy parameter (`/pets/{id}` wins over `/{proxy+}` for `/pets/1`); when the
//! more specific branch leads nowhere the walk backs up and tries the next one
//! (`/pets/1/x` falls back to `/{proxy+}`). Each tree node is visited at most once,
//! so a lookup never costs more than the table's size, whatever the request.
//! Within one path an exact method beats `ANY`; a path whose resource lacks the
//! request's method does not fall back to another resource.
//!
//! **Trailing slash [choice, as observed on API Gateway REST APIs]:** API Gateway
//! has no resources with a trailing slash and routes `/pets/` to the `/pets`
//! resource. So one trailing slash is dropped from templates (`/pets/` is the same
//! route as `/pets`, and inserting both for one method is a duplicate) and from
//! request paths before matching. The root `/` is kept as is.
//!
//! **Case and encoding:** paths match case-sensitively on the raw (still
//! percent-encoded) path, as axum's router does: `/pet%73` does not match `/pets`.
//! Callers strip the query string first.
//!
//! **Parameter names:** a node has one `{name}` child whatever the name, so
//! `GET /pets/{id}` and `POST /pets/{petId}` share it and each lookup still
//! reports the template as its route was written. (API Gateway itself refuses
//! two differently named variables under one parent; this table accepts them.)
//! A greedy parameter and a plain parameter at the same position
//! (`/pets/{petId}` and `/pets/{proxy+}`) are rejected with
//! [`RouteError::Conflict`] naming both templates, as API Gateway rejects that
//! pair ("only one variable path part is allowed").

use std::fmt;

use crate::short_bytes::{segment_hash, segment_len, short_words, words_hash};

use http::Method;

/// Which request methods a route answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MethodMatch {
    /// Every method not given a route of its own on the same path
    /// (`x-amazon-apigateway-any-method`, API Gateway's `ANY`).
    Any,
    /// Exactly this method (`HEAD` is not derived from `GET`, as in API Gateway).
    Exact(Method),
}

impl fmt::Display for MethodMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MethodMatch::Any => f.write_str(ANY),
            MethodMatch::Exact(m) => f.write_str(m.as_str()),
        }
    }
}

/// The method name reported for any-method routes.
const ANY: &str = "ANY";

/// Why a route could not be added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RouteError {
    /// The template is not a valid resource path.
    InvalidTemplate {
        /// The template as given.
        template: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The same method (or `ANY`) was given twice for one path.
    Duplicate {
        /// `GET`, `ANY`, ...
        method: String,
        /// The template being inserted.
        template: String,
        /// The template already holding this method (may differ in spelling, e.g.
        /// `/pets/` vs `/pets` or `{id}` vs `{petId}`).
        existing: String,
    },
    /// The template cannot live next to an existing one in the router.
    Conflict {
        /// The template being inserted.
        template: String,
        /// The template it conflicts with.
        existing: String,
    },
}

impl fmt::Display for RouteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouteError::InvalidTemplate { template, reason } => {
                write!(f, "invalid route template `{template}`: {reason}")
            }
            RouteError::Duplicate {
                method,
                template,
                existing,
            } => write!(
                f,
                "duplicate route {method} `{template}`: already defined as {method} `{existing}`"
            ),
            RouteError::Conflict { template, existing } => write!(
                f,
                "route template `{template}` conflicts with `{existing}` \
                 (a greedy and a non-greedy path parameter at the same position)"
            ),
        }
    }
}

impl std::error::Error for RouteError {}

/// A successful lookup.
#[derive(Debug)]
// The layer reports the route from its value; template, method and the table's
// length serve this module's tests and error messages.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) struct Match<'a, T> {
    /// The value stored for the route.
    pub(crate) value: &'a T,
    /// The route's template as originally written, e.g. `/pets/{petId}`.
    pub(crate) template: &'a str,
    /// The route's method as written: `GET`, ... or `ANY` for an any-method route.
    pub(crate) method: &'a str,
}

#[derive(Debug)]
struct Slot<T> {
    template: Box<str>,
    value: T,
}

/// All routes sharing one normalised path.
#[derive(Debug)]
struct PathEntry<T> {
    /// Few entries per path (API Gateway has 7 methods), so a scan beats a map.
    exact: Vec<(Method, Slot<T>)>,
    any: Option<Slot<T>>,
}

/// Index of a node or entry. `u32` keeps nodes small; the builder refuses a
/// table that would not fit.
type Id = u32;

/// No node or entry.
const NONE: Id = Id::MAX;

/// The root node's index.
const ROOT: Id = 0;

/// Static children are scanned up to this many and hashed above.
const SCAN_LIMIT: usize = 8;

/// One path segment of the tree. Everything a lookup reads of a node sits in
/// one cache line, label included, so a walk touches a line per segment plus
/// one for a hashed child list, whatever the size of the table.
#[derive(Debug)]
#[repr(align(64))]
struct Node {
    /// The static segment leading here as [`short_words`] (its first sixteen
    /// bytes); longer labels are compared against `RouteTable::texts`.
    head: (u64, u64),
    /// Static children: their ids while at most [`SCAN_LIMIT`], else an
    /// open-addressing table at most half full of `id + 1` (0: free slot). A
    /// probe compares the child's inline label, the line it reads next anyway.
    statics: Box<[Id]>,
    /// The `{name}` child, the entry of `{name+}` routes hanging here and the
    /// entry of routes ending here, or [`NONE`].
    param: Id,
    greedy: Id,
    entry: Id,
    /// Where the walk backs up to.
    parent: Id,
    /// The static label's length in bytes (0 for the root and `{name}` nodes).
    len: u32,
    /// How many static children there are.
    kids: u32,
    kind: Kind,
}

/// How a node hangs from its parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Root,
    Static,
    Param,
}

impl Node {
    fn new(parent: Id, kind: Kind, label: &str) -> Self {
        Self {
            head: short_words(label.as_bytes()),
            statics: Box::default(),
            param: NONE,
            greedy: NONE,
            entry: NONE,
            parent,
            // Labels are segments of a template held in memory; a template of
            // 4 GiB is not a route.
            len: u32::try_from(label.len()).unwrap_or(u32::MAX),
            kids: 0,
            kind,
        }
    }

    fn hashed(&self) -> bool {
        self.kids as usize > SCAN_LIMIT
    }
}

/// `Some(id)` unless `id` is [`NONE`].
#[inline(always)]
fn some(id: Id) -> Option<Id> {
    (id != NONE).then_some(id)
}

/// Which alternative of a node the walk tries next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Try {
    Static,
    Param,
    Greedy,
}

/// Immutable route table; build it with [`RouteTable::builder`].
#[derive(Debug)]
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) struct RouteTable<T> {
    nodes: Vec<Node>,
    /// Per node: the static label, or for a `{name}` node the first template
    /// through it (for conflict errors). Read only for labels over 16 bytes.
    texts: Vec<Box<str>>,
    entries: Vec<PathEntry<T>>,
    len: usize,
}

/// Collects routes for a [`RouteTable`].
#[derive(Debug)]
pub(crate) struct RouteTableBuilder<T> {
    table: RouteTable<T>,
}

impl<T> Default for RouteTableBuilder<T> {
    fn default() -> Self {
        Self {
            table: RouteTable {
                nodes: vec![Node::new(NONE, Kind::Root, "")],
                texts: vec!["".into()],
                entries: Vec::new(),
                len: 0,
            },
        }
    }
}

#[cfg_attr(not(test), allow(dead_code))]
impl<T> RouteTable<T> {
    /// Starts an empty builder.
    pub(crate) fn builder() -> RouteTableBuilder<T> {
        RouteTableBuilder::default()
    }

    /// Number of `(method, template)` routes.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Finds the route for a request. `path` is the raw request path without the
    /// query string. An exact method route wins over the path's `ANY` route.
    pub(crate) fn lookup(&self, method: &Method, path: &str) -> Option<Match<'_, T>> {
        let entry = self
            .entries
            .get(self.find(normalise_request_path(path))? as usize)?;
        if let Some((m, slot)) = entry.exact.iter().find(|(m, _)| m == method) {
            return Some(Match {
                value: &slot.value,
                template: &slot.template,
                method: m.as_str(),
            });
        }
        entry.any.as_ref().map(|slot| Match {
            value: &slot.value,
            template: &slot.template,
            method: ANY,
        })
    }

    /// The entry for a normalised path: a depth-first walk, static before
    /// `{name}` before `{name+}`, without recursion or allocation. `pos` is the
    /// index of the `/` before the next segment, or `path.len()` at the end.
    fn find(&self, path: &str) -> Option<Id> {
        // Only ASCII `/` is searched for, so byte offsets are all it takes.
        let bytes = path.as_bytes();
        if bytes.first() != Some(&b'/') {
            return None;
        }
        let root = self.nodes.first()?;
        if bytes.len() == 1 {
            return some(root.entry);
        }
        let mut node = root;
        let mut pos = 0;
        let mut next = Try::Static;
        loop {
            if pos == bytes.len() {
                if node.entry != NONE {
                    return Some(node.entry);
                }
            } else {
                let start = pos + 1;
                let rest = bytes.get(start..).unwrap_or_default();
                if next == Try::Static {
                    if let Some((_, child)) = self.static_child(node, rest) {
                        node = child;
                        pos = start + child.len as usize;
                        continue;
                    }
                }
                // A `{name}` child needs a non-empty segment.
                if next <= Try::Param && node.param != NONE {
                    let len = rest.iter().position(|&b| b == b'/').unwrap_or(rest.len());
                    if len > 0 {
                        node = self.nodes.get(node.param as usize)?;
                        pos = start + len;
                        next = Try::Static;
                        continue;
                    }
                }
                // `{name+}` takes the rest of the path, which must not be empty.
                if node.greedy != NONE && !rest.is_empty() {
                    return Some(node.greedy);
                }
            }
            // Dead end: back up to the parent and try its next alternative.
            let back = match node.kind {
                Kind::Root => return None,
                Kind::Static => {
                    next = Try::Param;
                    pos.checked_sub(node.len as usize + 1)?
                }
                Kind::Param => {
                    next = Try::Greedy;
                    bytes.get(..pos)?.iter().rposition(|&b| b == b'/')?
                }
            };
            node = self.nodes.get(node.parent as usize)?;
            pos = back;
        }
    }

    /// The static child whose label is the whole segment at the start of
    /// `rest` (the bytes up to the next `/`).
    #[inline(always)]
    fn static_child(&self, node: &Node, rest: &[u8]) -> Option<(Id, &Node)> {
        if !node.hashed() {
            // Few children: each label is tried as a prefix, which spares
            // finding the segment's end.
            return node.statics.iter().find_map(|&id| {
                let child = self.nodes.get(id as usize)?;
                let len = child.len as usize;
                let segment = rest.get(..len)?;
                let whole = rest.get(len).is_none_or(|&b| b == b'/');
                let label = whole && self.is_label(id, child, segment, short_words(segment));
                label.then_some((id, child))
            });
        }
        let len = segment_len(rest, b'/');
        let segment = rest.get(..len)?;
        // Short segments, the rule, are hashed from the words compared below.
        let words = short_words(segment);
        let hash = if len <= 16 {
            words_hash(words, len)
        } else {
            segment_hash(segment)
        };
        let mask = node.statics.len() - 1;
        let mut i = hash as usize & mask;
        loop {
            let slot = *node.statics.get(i)?;
            if slot == 0 {
                return None;
            }
            let id = slot - 1;
            let child = self.nodes.get(id as usize)?;
            if child.len as usize == len && self.is_label(id, child, segment, words) {
                return Some((id, child));
            }
            i = (i + 1) & mask;
        }
    }

    /// Whether `segment`, of the child's label length and with
    /// [`short_words`] `words`, is its label.
    #[inline(always)]
    fn is_label(&self, id: Id, child: &Node, segment: &[u8], words: (u64, u64)) -> bool {
        if segment.len() <= 16 {
            words == child.head
        } else {
            self.texts
                .get(id as usize)
                .is_some_and(|t| t.as_bytes() == segment)
        }
    }
}

/// One segment of a parsed template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Segment<'a> {
    Static(&'a str),
    Param,
    Greedy,
}

impl<T> RouteTableBuilder<T> {
    /// Adds a route. Fails on an invalid template, a duplicate `(method, path)`,
    /// or a `{name+}` next to a `{name}` at the same position.
    pub(crate) fn insert(
        &mut self,
        method: MethodMatch,
        template: &str,
        value: T,
    ) -> Result<(), RouteError> {
        let segments = parse_template(template)?;
        // Check before building anything, so a refused route leaves no trace.
        self.check_conflicts(template, &segments)?;
        let entry = self.entry_for(template, &segments)?;
        let table = &mut self.table;
        let Some(entry) = table.entries.get_mut(entry as usize) else {
            return Err(inconsistent(template));
        };
        let existing = match &method {
            MethodMatch::Any => entry.any.as_ref(),
            MethodMatch::Exact(m) => entry.exact.iter().find(|(e, _)| e == m).map(|(_, s)| s),
        };
        if let Some(existing) = existing {
            return Err(RouteError::Duplicate {
                method: method.to_string(),
                template: template.to_owned(),
                existing: existing.template.to_string(),
            });
        }
        let slot = Slot {
            template: template.into(),
            value,
        };
        match method {
            MethodMatch::Any => entry.any = Some(slot),
            MethodMatch::Exact(m) => entry.exact.push((m, slot)),
        }
        table.len += 1;
        Ok(())
    }

    /// Freezes the table.
    pub(crate) fn build(self) -> RouteTable<T> {
        self.table
    }

    /// The existing static child of `id` labelled `label`.
    fn static_child(&self, id: Id, label: &str) -> Option<Id> {
        let node = self.table.nodes.get(id as usize)?;
        // A label has no `/`, so the segment found is the whole label.
        self.table
            .static_child(node, label.as_bytes())
            .map(|(id, _)| id)
    }

    /// Follows the template through the nodes that exist so far and refuses a
    /// `{name}` where a `{name+}` hangs, or the reverse.
    fn check_conflicts(&self, template: &str, segments: &[Segment<'_>]) -> Result<(), RouteError> {
        let table = &self.table;
        let mut id = ROOT;
        for segment in segments {
            let Some(node) = table.nodes.get(id as usize) else {
                return Ok(());
            };
            let conflict = |existing: Option<String>| {
                Err(RouteError::Conflict {
                    template: template.to_owned(),
                    existing: existing.unwrap_or_default(),
                })
            };
            let next = match segment {
                Segment::Static(s) => self.static_child(id, s),
                Segment::Param => {
                    if node.greedy != NONE {
                        return conflict(self.first_template(node.greedy));
                    }
                    some(node.param)
                }
                Segment::Greedy => {
                    if node.param != NONE {
                        let origin = table.texts.get(node.param as usize);
                        return conflict(origin.map(|t| t.to_string()));
                    }
                    None
                }
            };
            // Past the last existing node nothing can conflict.
            let Some(next) = next else { return Ok(()) };
            id = next;
        }
        Ok(())
    }

    /// The template of some route of an entry, for error messages.
    fn first_template(&self, entry: Id) -> Option<String> {
        let e = self.table.entries.get(entry as usize)?;
        e.exact
            .first()
            .map(|(_, s)| s)
            .or(e.any.as_ref())
            .map(|s| s.template.to_string())
    }

    /// The entry the template's routes live in, creating nodes and the entry.
    fn entry_for(&mut self, template: &str, segments: &[Segment<'_>]) -> Result<Id, RouteError> {
        let mut id = ROOT;
        for segment in segments {
            let node = self
                .table
                .nodes
                .get(id as usize)
                .ok_or_else(|| inconsistent(template))?;
            let existing = match segment {
                Segment::Static(s) => self.static_child(id, s),
                Segment::Param => some(node.param),
                // `{name+}` is last: it names an entry, not a node.
                Segment::Greedy => {
                    let entry = match some(node.greedy) {
                        Some(entry) => entry,
                        None => {
                            let entry = self.new_entry(template)?;
                            self.node_mut(id, template)?.greedy = entry;
                            entry
                        }
                    };
                    return Ok(entry);
                }
            };
            id = match existing {
                Some(child) => child,
                None => self.new_node(id, *segment, template)?,
            };
        }
        let entry = match some(self.node_mut(id, template)?.entry) {
            Some(entry) => entry,
            None => {
                let entry = self.new_entry(template)?;
                self.node_mut(id, template)?.entry = entry;
                entry
            }
        };
        Ok(entry)
    }

    fn node_mut(&mut self, id: Id, template: &str) -> Result<&mut Node, RouteError> {
        self.table
            .nodes
            .get_mut(id as usize)
            .ok_or_else(|| inconsistent(template))
    }

    fn new_entry(&mut self, template: &str) -> Result<Id, RouteError> {
        let entry = next_id(self.table.entries.len(), template)?;
        self.table.entries.push(PathEntry::default());
        Ok(entry)
    }

    /// Adds a child of `parent` for a static or `{name}` segment.
    fn new_node(
        &mut self,
        parent: Id,
        segment: Segment<'_>,
        template: &str,
    ) -> Result<Id, RouteError> {
        let id = next_id(self.table.nodes.len(), template)?;
        let (node, text) = match segment {
            Segment::Static(label) => (Node::new(parent, Kind::Static, label), label),
            // The text of a `{name}` node names a template for conflict errors.
            _ => (Node::new(parent, Kind::Param, ""), template),
        };
        self.table.nodes.push(node);
        self.table.texts.push(text.into());
        match segment {
            Segment::Static(_) => self.add_static(parent, id, template)?,
            _ => self.node_mut(parent, template)?.param = id,
        }
        Ok(id)
    }

    /// Adds a static child to a node's list, switching to (or growing) the
    /// hash table past [`SCAN_LIMIT`] children.
    fn add_static(&mut self, parent: Id, id: Id, template: &str) -> Result<(), RouteError> {
        let RouteTable { nodes, texts, .. } = &mut self.table;
        let node = nodes
            .get_mut(parent as usize)
            .ok_or_else(|| inconsistent(template))?;
        let label_hash = |id: Id| {
            texts
                .get(id as usize)
                .map_or(0, |t| segment_hash(t.as_bytes()))
        };
        node.kids += 1;
        if !node.hashed() {
            let mut ids = std::mem::take(&mut node.statics).into_vec();
            ids.push(id);
            node.statics = ids.into_boxed_slice();
            return Ok(());
        }
        let kids = node.kids as usize;
        if kids * 2 > node.statics.len() {
            // Was a list (bare ids) or a full table (tagged ids plus one).
            let old: Vec<Id> = if kids - 1 <= SCAN_LIMIT {
                node.statics.to_vec()
            } else {
                node.statics
                    .iter()
                    .filter(|&&s| s != 0)
                    .map(|&s| s - 1)
                    .collect()
            };
            node.statics = vec![0; (kids * 2).next_power_of_two().max(32)].into_boxed_slice();
            for old in old {
                place(&mut node.statics, label_hash(old), old);
            }
        }
        place(&mut node.statics, label_hash(id), id);
        Ok(())
    }
}

/// Puts `id + 1` (0 is a free slot) into the first free slot of its probe run.
fn place(slots: &mut [Id], hash: u64, id: Id) {
    let mask = slots.len() - 1;
    let mut i = hash as usize & mask;
    while slots.get(i).is_some_and(|&s| s != 0) {
        i = (i + 1) & mask;
    }
    if let Some(slot) = slots.get_mut(i) {
        *slot = id + 1;
    }
}

impl<T> Default for PathEntry<T> {
    fn default() -> Self {
        Self {
            exact: Vec::new(),
            any: None,
        }
    }
}

/// The id the next node or entry gets, if it fits an [`Id`].
fn next_id(len: usize, template: &str) -> Result<Id, RouteError> {
    // `NONE` is reserved, and a hash slot holds `id + 1`.
    Id::try_from(len)
        .ok()
        .filter(|&id| id < NONE)
        .ok_or_else(|| too_large(template))
}

fn too_large(template: &str) -> RouteError {
    RouteError::InvalidTemplate {
        template: template.to_owned(),
        reason: "the route table is full",
    }
}

/// Ids come from the builder itself; a miss would be a bug, reported rather
/// than a panic.
fn inconsistent(template: &str) -> RouteError {
    RouteError::InvalidTemplate {
        template: template.to_owned(),
        reason: "internal route table inconsistency",
    }
}

/// Drops one trailing slash (not from `/`); an empty path is the root.
fn normalise_request_path(path: &str) -> &str {
    if path.is_empty() {
        return "/";
    }
    match path.strip_suffix('/') {
        Some(stripped) if !stripped.is_empty() => stripped,
        _ => path,
    }
}

/// Checks an API Gateway / OpenAPI path template. Used by the OpenAPI importer
/// to report bad paths with their JSON pointer.
#[cfg_attr(not(feature = "openapi"), allow(dead_code))]
pub(crate) fn validate_template(template: &str) -> Result<(), RouteError> {
    parse_template(template).map(|_| ())
}

/// Splits a template into segments (`/pets/{petId}` -> `pets`, `{}`), dropping
/// one trailing slash; `/` is the empty list.
fn parse_template(template: &str) -> Result<Vec<Segment<'_>>, RouteError> {
    let invalid = |reason| RouteError::InvalidTemplate {
        template: template.to_owned(),
        reason,
    };
    let Some(rest) = template.strip_prefix('/') else {
        return Err(invalid("must start with `/`"));
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.is_empty() {
        // `/` or `//` (the latter normalised like a trailing slash on the root).
        if template.len() > 2 {
            return Err(invalid("empty path segment"));
        }
        return Ok(Vec::new());
    }
    let count = rest.split('/').count();
    let mut segments = Vec::with_capacity(count);
    for (i, segment) in rest.split('/').enumerate() {
        if segment.is_empty() {
            return Err(invalid("empty path segment"));
        }
        if !segment.contains(['{', '}']) {
            segments.push(Segment::Static(segment));
            continue;
        }
        let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
            return Err(invalid(
                "a path parameter must be a whole segment, like `{id}`",
            ));
        };
        let (name, greedy) = match name.strip_suffix('+') {
            Some(n) => (n, true),
            None => (name, false),
        };
        if name.is_empty() || name.contains(['{', '}', '*', '+']) {
            return Err(invalid("invalid path parameter name"));
        }
        if greedy && i != count - 1 {
            return Err(invalid(
                "a greedy parameter `{name+}` must be the last segment",
            ));
        }
        segments.push(if greedy {
            Segment::Greedy
        } else {
            Segment::Param
        });
    }
    Ok(segments)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(routes: &[(MethodMatch, &str)]) -> RouteTable<usize> {
        let mut b = RouteTable::builder();
        for (i, (m, t)) in routes.iter().enumerate() {
            b.insert(m.clone(), t, i).expect("insert");
        }
        b.build()
    }

    fn get(t: &str) -> (MethodMatch, &str) {
        (MethodMatch::Exact(Method::GET), t)
    }

    fn found<'a>(t: &'a RouteTable<usize>, m: Method, p: &str) -> Option<(&'a str, &'a str)> {
        t.lookup(&m, p).map(|m| (m.template, m.method))
    }

    #[test]
    fn static_and_param_routes() {
        let t = table(&[
            get("/"),
            get("/pets"),
            get("/pets/{petId}"),
            get("/pets/{petId}/photos"),
        ]);
        assert_eq!(t.len(), 4);
        assert_eq!(found(&t, Method::GET, "/"), Some(("/", "GET")));
        assert_eq!(found(&t, Method::GET, "/pets"), Some(("/pets", "GET")));
        assert_eq!(
            found(&t, Method::GET, "/pets/7"),
            Some(("/pets/{petId}", "GET"))
        );
        assert_eq!(
            found(&t, Method::GET, "/pets/7/photos"),
            Some(("/pets/{petId}/photos", "GET"))
        );
        assert_eq!(found(&t, Method::GET, "/pets/7/other"), None);
        assert_eq!(found(&t, Method::GET, "/dogs"), None);
        assert_eq!(found(&t, Method::POST, "/pets"), None);
    }

    #[test]
    fn exact_method_beats_any() {
        let t = table(&[
            (MethodMatch::Any, "/pets"),
            (MethodMatch::Exact(Method::POST), "/pets"),
        ]);
        assert_eq!(found(&t, Method::POST, "/pets"), Some(("/pets", "POST")));
        assert_eq!(found(&t, Method::GET, "/pets"), Some(("/pets", "ANY")));
        assert_eq!(
            found(&t, Method::from_bytes(b"PURGE").expect("method"), "/pets"),
            Some(("/pets", "ANY"))
        );
        let m = t.lookup(&Method::DELETE, "/pets").expect("match");
        assert_eq!(*m.value, 0);
    }

    #[test]
    fn head_is_not_get() {
        let t = table(&[get("/pets")]);
        assert_eq!(found(&t, Method::HEAD, "/pets"), None);
    }

    #[test]
    fn greedy_proxy() {
        let t = table(&[(MethodMatch::Any, "/{proxy+}")]);
        assert_eq!(found(&t, Method::GET, "/"), None, "greedy needs a segment");
        assert_eq!(found(&t, Method::GET, "/a"), Some(("/{proxy+}", "ANY")));
        assert_eq!(found(&t, Method::PUT, "/a/b/c"), Some(("/{proxy+}", "ANY")));
        assert_eq!(found(&t, Method::GET, "/a/b/"), Some(("/{proxy+}", "ANY")));
    }

    #[test]
    fn nested_greedy_does_not_match_its_parent() {
        let t = table(&[(MethodMatch::Any, "/admin/{proxy+}")]);
        assert_eq!(found(&t, Method::GET, "/admin"), None);
        assert_eq!(found(&t, Method::GET, "/admin/"), None);
        assert_eq!(
            found(&t, Method::GET, "/admin/users/1"),
            Some(("/admin/{proxy+}", "ANY"))
        );
    }

    #[test]
    fn specific_beats_greedy() {
        let t = table(&[
            (MethodMatch::Any, "/{proxy+}"),
            get("/pets"),
            get("/pets/{petId}"),
            get("/pets/special"),
        ]);
        assert_eq!(found(&t, Method::GET, "/pets"), Some(("/pets", "GET")));
        assert_eq!(
            found(&t, Method::GET, "/pets/special"),
            Some(("/pets/special", "GET"))
        );
        assert_eq!(
            found(&t, Method::GET, "/pets/1"),
            Some(("/pets/{petId}", "GET"))
        );
        // Deeper than any specific route: back to the greedy one.
        assert_eq!(
            found(&t, Method::GET, "/pets/1/x"),
            Some(("/{proxy+}", "ANY"))
        );
        // Path matches a specific route but not its method: no fallback to the
        // greedy route (API Gateway picks the resource first, then the method).
        assert_eq!(found(&t, Method::POST, "/pets"), None);
    }

    #[test]
    fn trailing_slash_is_ignored() {
        let t = table(&[get("/pets"), get("/orders/"), get("/pets/{petId}")]);
        assert_eq!(found(&t, Method::GET, "/pets/"), Some(("/pets", "GET")));
        assert_eq!(found(&t, Method::GET, "/orders"), Some(("/orders/", "GET")));
        assert_eq!(
            found(&t, Method::GET, "/orders/"),
            Some(("/orders/", "GET"))
        );
        assert_eq!(
            found(&t, Method::GET, "/pets/1/"),
            Some(("/pets/{petId}", "GET"))
        );
        // Only one slash is dropped.
        assert_eq!(found(&t, Method::GET, "/pets//"), None);
        // Empty path is the root.
        let root = table(&[get("/")]);
        assert_eq!(found(&root, Method::GET, ""), Some(("/", "GET")));
    }

    #[test]
    fn param_needs_non_empty_segment() {
        let t = table(&[get("/pets/{petId}")]);
        assert_eq!(found(&t, Method::GET, "/pets/"), None);
        assert_eq!(found(&t, Method::GET, "/pets"), None);
    }

    #[test]
    fn case_sensitive_and_raw_encoding() {
        let t = table(&[get("/pets"), get("/caf%C3%A9")]);
        assert_eq!(found(&t, Method::GET, "/Pets"), None);
        assert_eq!(found(&t, Method::GET, "/pet%73"), None);
        assert_eq!(
            found(&t, Method::GET, "/caf%C3%A9"),
            Some(("/caf%C3%A9", "GET"))
        );
    }

    #[test]
    fn braces_in_request_path_are_literal() {
        let t = table(&[get("/pets/{petId}"), get("/pets/x")]);
        assert_eq!(
            found(&t, Method::GET, "/pets/{petId}"),
            Some(("/pets/{petId}", "GET"))
        );
        assert_eq!(found(&t, Method::GET, "/pets/{x}/y"), None);
    }

    #[test]
    fn different_param_names_share_a_node() {
        let t = table(&[
            get("/pets/{id}"),
            (MethodMatch::Exact(Method::DELETE), "/pets/{petId}"),
            get("/pets/{name}/photos"),
        ]);
        assert_eq!(
            found(&t, Method::GET, "/pets/1"),
            Some(("/pets/{id}", "GET"))
        );
        assert_eq!(
            found(&t, Method::DELETE, "/pets/1"),
            Some(("/pets/{petId}", "DELETE"))
        );
        assert_eq!(
            found(&t, Method::GET, "/pets/1/photos"),
            Some(("/pets/{name}/photos", "GET"))
        );
    }

    #[test]
    fn duplicates_are_rejected() {
        let mut b = RouteTable::builder();
        b.insert(MethodMatch::Exact(Method::GET), "/pets/{id}", 1)
            .expect("first");
        let e = b
            .insert(MethodMatch::Exact(Method::GET), "/pets/{petId}", 2)
            .expect_err("dup");
        assert_eq!(
            e,
            RouteError::Duplicate {
                method: "GET".into(),
                template: "/pets/{petId}".into(),
                existing: "/pets/{id}".into(),
            }
        );
        assert!(e.to_string().contains("/pets/{id}"));
        b.insert(MethodMatch::Any, "/pets", 3).expect("any");
        let e = b
            .insert(MethodMatch::Any, "/pets/", 4)
            .expect_err("dup any");
        assert!(matches!(e, RouteError::Duplicate { ref method, .. } if method == "ANY"));
        // Same path, other method: fine.
        b.insert(MethodMatch::Exact(Method::POST), "/pets/{x}", 5)
            .expect("post");
        assert_eq!(b.build().len(), 3);
    }

    #[test]
    fn greedy_next_to_param_is_a_conflict() {
        let mut b = RouteTable::builder();
        b.insert(MethodMatch::Exact(Method::GET), "/pets/{petId}", 1)
            .expect("first");
        let e = b
            .insert(MethodMatch::Any, "/pets/{proxy+}", 2)
            .expect_err("conflict");
        assert_eq!(
            e,
            RouteError::Conflict {
                template: "/pets/{proxy+}".into(),
                existing: "/pets/{petId}".into(),
            }
        );
        let msg = e.to_string();
        assert!(msg.contains("/pets/{proxy+}") && msg.contains("/pets/{petId}"));
        // The failed insert left the table usable.
        let t = b.build();
        assert_eq!(t.len(), 1);
        assert!(t.lookup(&Method::GET, "/pets/1").is_some());
    }

    #[test]
    fn invalid_templates() {
        for bad in [
            "",
            "pets",
            "/a//b",
            "///",
            "/pets/x{id}",
            "/pets/{id}x",
            "/pets/{}",
            "/pets/{+}",
            "/pets/{a{b}}",
            "/pets/{id",
            "/pets/id}",
            "/{proxy+}/more",
            "/{*proxy}",
        ] {
            let mut b = RouteTable::<()>::builder();
            let e = b
                .insert(MethodMatch::Any, bad, ())
                .expect_err(&format!("`{bad}` must be rejected"));
            assert!(
                matches!(e, RouteError::InvalidTemplate { ref template, .. } if template == bad),
                "{bad}: {e:?}"
            );
            assert!(validate_template(bad).is_err());
        }
        for good in ["/", "/a", "/a/", "//", "/{a}/{b}/{c+}", "/a.b-c_d"] {
            assert!(validate_template(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn backtracks_to_the_next_alternative() {
        let t = table(&[
            get("/a/b/c"),
            get("/a/{p}/d"),
            get("/a/{p}/x"),
            get("/a/b/{q}"),
        ]);
        // `b` leads to `/a/b/c` only; `d` is found under `{p}`.
        assert_eq!(found(&t, Method::GET, "/a/b/d"), Some(("/a/b/{q}", "GET")));
        assert_eq!(found(&t, Method::GET, "/a/b/c"), Some(("/a/b/c", "GET")));
        // Static `b` then `{q}` beats `{p}` then static `x`: the first segment decides.
        assert_eq!(found(&t, Method::GET, "/a/b/x"), Some(("/a/b/{q}", "GET")));
        assert_eq!(found(&t, Method::GET, "/a/z/x"), Some(("/a/{p}/x", "GET")));
        assert_eq!(found(&t, Method::GET, "/a/z/c"), None);
        // Backing up several levels to a greedy route near the root.
        let t = table(&[
            get("/a/b/c/d"),
            get("/a/{p}/c/e"),
            get("/a/b/{q}/{proxy+}"),
            (MethodMatch::Any, "/{proxy+}"),
        ]);
        assert_eq!(
            found(&t, Method::GET, "/a/b/c/d"),
            Some(("/a/b/c/d", "GET"))
        );
        // Static `b` then a greedy tail still beats `{p}`: the first segment decides.
        assert_eq!(
            found(&t, Method::GET, "/a/b/c/e"),
            Some(("/a/b/{q}/{proxy+}", "GET"))
        );
        assert_eq!(
            found(&t, Method::GET, "/a/z/c/e"),
            Some(("/a/{p}/c/e", "GET"))
        );
        assert_eq!(
            found(&t, Method::GET, "/a/b/c/f"),
            Some(("/a/b/{q}/{proxy+}", "GET"))
        );
        assert_eq!(
            found(&t, Method::GET, "/a/z/c/f"),
            Some(("/{proxy+}", "ANY"))
        );
        assert_eq!(found(&t, Method::GET, "/a/b/c"), Some(("/{proxy+}", "ANY")));
        assert_eq!(found(&t, Method::GET, "/a"), Some(("/{proxy+}", "ANY")));
    }

    #[test]
    fn empty_segments_and_odd_paths() {
        let t = table(&[
            get("/pets/{id}/photos"),
            (MethodMatch::Any, "/files/{path+}"),
        ]);
        assert_eq!(found(&t, Method::GET, "/pets//photos"), None);
        assert_eq!(
            found(&t, Method::GET, "/files/a//b"),
            Some(("/files/{path+}", "ANY"))
        );
        // One trailing slash is dropped; what is left after `/files/` is empty.
        assert_eq!(found(&t, Method::GET, "/files//"), None);
        for odd in ["*", "pets/1/photos", "files/x", "?", "//pets/1/photos"] {
            assert_eq!(found(&t, Method::GET, odd), None, "{odd}");
        }
    }

    #[test]
    fn greedy_then_param_is_a_conflict_too() {
        let mut b = RouteTable::builder();
        b.insert(MethodMatch::Any, "/pets/{proxy+}", 1)
            .expect("greedy");
        for param in ["/pets/{petId}", "/pets/{petId}/photos"] {
            let e = b
                .insert(MethodMatch::Exact(Method::GET), param, 2)
                .expect_err("conflict");
            assert_eq!(
                e,
                RouteError::Conflict {
                    template: param.into(),
                    existing: "/pets/{proxy+}".into(),
                }
            );
        }
        // Static siblings and deeper routes elsewhere are fine.
        b.insert(MethodMatch::Exact(Method::GET), "/pets/mine", 3)
            .expect("static");
        b.insert(MethodMatch::Exact(Method::GET), "/{kind}/{id}", 4)
            .expect("params elsewhere");
        let t = b.build();
        assert_eq!(
            found(&t, Method::GET, "/pets/mine"),
            Some(("/pets/mine", "GET"))
        );
        assert_eq!(
            found(&t, Method::GET, "/pets/1"),
            Some(("/pets/{proxy+}", "ANY"))
        );
        assert_eq!(
            found(&t, Method::GET, "/dogs/1"),
            Some(("/{kind}/{id}", "GET"))
        );
    }

    #[test]
    fn a_node_is_one_cache_line() {
        assert_eq!(std::mem::size_of::<Node>(), 64);
        assert_eq!(std::mem::align_of::<Node>(), 64);
    }

    #[test]
    fn many_children_and_long_labels() {
        // Enough siblings at two levels for hashed child lists, labels on both
        // sides of sixteen bytes, and labels sharing their first sixteen bytes.
        let mut routes = Vec::new();
        for i in 0..300 {
            routes.push(format!("/s{i}"));
            routes.push(format!("/shared-prefix-0123456789-{i}"));
            routes.push(format!("/s7/k{i}/{{id}}"));
        }
        routes.push("/s7/{other}/x".to_owned());
        routes.push("/{proxy+}".to_owned());
        let mut b = RouteTable::builder();
        for (i, r) in routes.iter().enumerate() {
            b.insert(MethodMatch::Any, r, i).expect("insert");
        }
        let t = b.build();
        for (i, r) in routes.iter().enumerate() {
            let path = r.replace("{id}", "1").replace("{other}", "o");
            if r == "/{proxy+}" {
                continue;
            }
            let m = t.lookup(&Method::GET, &path).expect(&path);
            assert_eq!((m.template, *m.value), (r.as_str(), i), "{path}");
        }
        for (path, want) in [
            ("/s300", "/{proxy+}"),
            ("/s", "/{proxy+}"),
            ("/s10x", "/{proxy+}"),
            ("/shared-prefix-0123456789-", "/{proxy+}"),
            ("/shared-prefix-0123456789-3000", "/{proxy+}"),
            ("/shared-prefix-0123456789-7/x", "/{proxy+}"),
            ("/s7/k300/1", "/{proxy+}"),
            ("/s7/k12/x", "/s7/k12/{id}"),
            ("/s7/k300/x", "/s7/{other}/x"),
            ("/s7/k12", "/{proxy+}"),
        ] {
            let m = t.lookup(&Method::GET, path).expect(path);
            assert_eq!(m.template, want, "{path}");
        }
    }

    /// A brute-force reference: every template that matches the path, the most
    /// specific first (static < `{name}` < `{name+}`, segment by segment).
    fn reference<'a>(templates: &[&'a str], path: &str) -> Option<&'a str> {
        let path = normalise_request_path(path);
        let rest = path.strip_prefix('/')?;
        let parts: Vec<&str> = if rest.is_empty() {
            Vec::new()
        } else {
            rest.split('/').collect()
        };
        let mut best: Option<(Vec<u8>, &str)> = None;
        for &template in templates {
            let segments = parse_template(template).expect("valid");
            let mut rank = Vec::new();
            let mut matched = true;
            for (i, segment) in segments.iter().enumerate() {
                match segment {
                    Segment::Static(s) => {
                        matched &= parts.get(i) == Some(s);
                        rank.push(0);
                    }
                    Segment::Param => {
                        matched &= parts.get(i).is_some_and(|p| !p.is_empty());
                        rank.push(1);
                    }
                    Segment::Greedy => {
                        matched &= parts.len() > i && !parts[i..].join("/").is_empty();
                        rank.push(2);
                    }
                }
            }
            let whole =
                matches!(segments.last(), Some(Segment::Greedy)) || segments.len() == parts.len();
            if matched && whole && best.as_ref().is_none_or(|(r, _)| rank < *r) {
                best = Some((rank, template));
            }
        }
        best.map(|(_, t)| t)
    }

    proptest::proptest! {
        #[test]
        fn lookup_agrees_with_brute_force(
            routes in proptest::collection::vec(
                proptest::collection::vec(0u8..6, 0..4), 1..12),
            paths in proptest::collection::vec(
                proptest::collection::vec(0u8..5, 0..5), 1..12),
            fillers in 0usize..24,
        ) {
            // Segments from a tiny alphabet so routes overlap and compete.
            let template = |kinds: &Vec<u8>| -> String {
                let mut t = String::new();
                for (i, k) in kinds.iter().enumerate() {
                    t.push('/');
                    t.push_str(match k {
                        0 => "a",
                        1 => "b",
                        2 | 3 => "{p}",
                        4 => "c",
                        _ if i == kinds.len() - 1 => "{rest+}",
                        _ => "{q}",
                    });
                }
                if t.is_empty() { t.push('/'); }
                t
            };
            let mut b = RouteTable::builder();
            let mut kept = Vec::new();
            // Siblings that push child lists past the scan limit.
            for i in 0..fillers {
                for t in [format!("/f{i}"), format!("/a/f{i}"), format!("/b/{{p}}/f{i}")] {
                    if b.insert(MethodMatch::Any, &t, ()).is_ok() {
                        kept.push(t);
                    }
                }
            }
            for kinds in &routes {
                let t = template(kinds);
                // Duplicates and greedy/param conflicts are refused; keep the rest.
                if b.insert(MethodMatch::Any, &t, ()).is_ok() {
                    kept.push(t);
                }
            }
            let table = b.build();
            let kept: Vec<&str> = kept.iter().map(String::as_str).collect();
            for p in &paths {
                let mut path = String::new();
                for s in p {
                    path.push('/');
                    path.push_str(["a", "b", "c", "x", ""][*s as usize]);
                }
                let got = table.lookup(&Method::GET, &path).map(|m| m.template);
                proptest::prop_assert_eq!(got, reference(&kept, &path), "path {:?} routes {:?}", path, kept);
            }
        }
    }

    #[test]
    fn ten_thousand_routes() {
        let mut b = RouteTable::builder();
        for i in 0..10_000 {
            let method = match i % 3 {
                0 => MethodMatch::Exact(Method::GET),
                1 => MethodMatch::Exact(Method::POST),
                _ => MethodMatch::Any,
            };
            let template = if i % 2 == 0 {
                format!("/svc{i}/items/{{itemId}}")
            } else {
                format!("/svc{i}/static/r{i}")
            };
            b.insert(method, &template, i).expect("insert");
        }
        b.insert(MethodMatch::Any, "/{proxy+}", usize::MAX)
            .expect("proxy");
        let t = b.build();
        assert_eq!(t.len(), 10_001);
        for i in 0..10_000 {
            let (path, template) = if i % 2 == 0 {
                (
                    format!("/svc{i}/items/x{i}"),
                    format!("/svc{i}/items/{{itemId}}"),
                )
            } else {
                (
                    format!("/svc{i}/static/r{i}"),
                    format!("/svc{i}/static/r{i}"),
                )
            };
            let method = if i % 3 == 1 {
                Method::POST
            } else {
                Method::GET
            };
            let m = t.lookup(&method, &path).expect("route");
            assert_eq!(*m.value, i);
            assert_eq!(m.template, template);
            // A method the route does not have: exact routes give no match.
            if i % 3 != 2 {
                assert!(t.lookup(&Method::PATCH, &path).is_none());
            }
        }
        let m = t.lookup(&Method::GET, "/svc1/static/r2").expect("proxy");
        assert_eq!((m.template, *m.value), ("/{proxy+}", usize::MAX));
    }
}
