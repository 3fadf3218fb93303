//! Route table: maps `(method, path)` to a per-route value the way API Gateway
//! maps a request to a resource and method.
//!
//! Paths are matched by [`matchit`], axum's router, so the table and an axum
//! `Router` with the same routes agree on which route a path is. A lookup
//! costs about the depth of the path, not the number of routes.
//!
//! Template syntax (API Gateway resource paths, which are also OpenAPI paths):
//! - `/pets/{petId}`: `{name}` matches exactly one non-empty path segment;
//! - `/admin/{proxy+}`: `{name+}` (greedy, last segment only) matches one or more
//!   segments, so `/admin/{proxy+}` matches `/admin/a` and `/admin/a/b/c` but not
//!   `/admin` or `/admin/`;
//! - a parameter must be a whole segment (`/pets/x{id}` is rejected, as API Gateway
//!   rejects it), and empty segments (`/a//b`) are rejected.
//!
//! Priority follows API Gateway (and matchit): a static segment beats a
//! parameter, which beats a greedy parameter (`/pets/{id}` wins over
//! `/{proxy+}` for `/pets/1`); when the more specific branch leads nowhere the
//! next one is tried (`/pets/1/x` falls back to `/{proxy+}`). Within one path
//! an exact method beats `ANY`. A path whose resource lacks the request's
//! method (and has no `ANY`) falls back to the first route with the method
//! in that same order, when it is a greedy one: `OPTIONS /test`, where
//! `/test` has only `POST`, is `/{proxy+}`'s `OPTIONS`, as API Gateway
//! answered in LocalStack's recording
//! (`test_proxy_routing_with_hardcoded_resource_sibling`). The route's own
//! policy applies. **[choice]** When the first route with the method is a
//! one-segment parameter (`/test` `POST`, `/{id}` `OPTIONS`), no route:
//! API Gateway's pick there is not recorded ([`RouteTable::fallback`]).
//!
//! **Request paths** are normalised first ([`normalise_request_path`]):
//! - *Trailing slash [choice, as observed on API Gateway REST APIs]:* API
//!   Gateway has no resources with a trailing slash and routes `/pets/` to the
//!   `/pets` resource. So one trailing slash is dropped from templates (`/pets/`
//!   is the same route as `/pets`, and inserting both for one method is a
//!   duplicate) and from request paths. The root `/` is kept as is.
//! - *Percent-encoding [choice]:* `%61` is `a` (RFC 3986 §6.2.2.2), so
//!   percent-encoded unreserved characters (`A-Z a-z 0-9 - . _ ~`) are decoded
//!   and the hex digits of other escapes upper-cased, in request paths and
//!   template segments alike: `/%61dmin` is the `/admin` resource. Every other
//!   escape stays encoded, `%2F` included: an encoded `/` is data inside its
//!   segment (RFC 3986 §2.2), never a separator, so it cannot make a path match
//!   a deeper resource. Paths otherwise match raw and case-sensitively.
//!
//! The layer passes the normalised path on to the service it wraps, so a router
//! behind it dispatches on the path the policy was decided for.
//!
//! **What is not matchit's, and why** (the smallest wrapper that keeps API
//! Gateway's rules):
//! - *Methods:* matchit maps a path to one value; each path holds a short
//!   per-method list and an optional `ANY`.
//! - *Parameter names:* matchit routes name parameters by position here
//!   (`{p1}`), so `GET /pets/{id}` and `DELETE /pets/{petId}` share a path, and
//!   each match reports its template and names as written. (API Gateway refuses
//!   two names under one parent; this table accepts them.)
//! - *One variable per position:* matchit accepts `/pets/{petId}` beside
//!   `/pets/{proxy+}`; API Gateway refuses the pair ("only one variable path
//!   part is allowed"), and so does the table, with [`RouteError::Conflict`]
//!   naming both templates.
//! - *Empty segments:* matchit lets a `{name}` match an empty segment in the
//!   middle of a path (`/pets//photos`); API Gateway does not. A path with an
//!   empty segment can only be matched by a greedy parameter that starts at or
//!   before it, so such paths are looked up in a second matchit router holding
//!   only the greedy routes, with the path cut after the segment the greedy
//!   parameter must cover.
//! - *Parameter values* are read from the matched path's segments by position.
//! - *Sharding by first segment:* routes whose first segment is static live in
//!   one small matchit router per first segment, found by hash; the rest (a
//!   variable first segment, and `/`) in one more router, tried when the
//!   shard has no match. This is the same order matchit itself backtracks in
//!   (static before variable), but a lookup among 10,000 resources no longer
//!   walks matchit's byte-by-byte static nodes (`/svc1`, `/svc10`, ...), which
//!   scan their children one by one and miss the cache at each level.

mod path;
#[cfg(test)]
mod tests;

pub(crate) use path::normalise_request_path;
#[cfg_attr(not(feature = "openapi"), allow(unused_imports))]
pub(crate) use path::validate_template;
use path::{key, parse_template, segment, segment_start, Segment};

use http::Method;
use std::collections::{HashMap, HashSet};
use std::fmt;

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
// The layer reports the route from its value; template and method serve this
// module's tests and error messages.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) struct Match<'a, T> {
    /// The value stored for the route.
    pub(crate) value: &'a T,
    /// The route's template as originally written, e.g. `/pets/{petId}`.
    pub(crate) template: &'a str,
    /// The route's method as written: `GET`, ... or `ANY` for an any-method route.
    pub(crate) method: &'a str,
    params: &'a [Param],
}

impl<'a, T> Match<'a, T> {
    /// The route's `(name, value)` parameters, in template order, read from
    /// `path`, the normalised path the route was found for.
    pub(crate) fn params<'p>(
        &self,
        path: &'p str,
    ) -> impl Iterator<Item = (&'a str, &'p str)> + use<'a, 'p, T> {
        self.params.iter().filter_map(move |p| {
            let value = if p.greedy {
                path.get(segment_start(path, p.index)?..)?
            } else {
                segment(path, p.index)?
            };
            Some((&*p.name, value))
        })
    }
}

/// A parameter of a template: its name and segment position.
#[derive(Debug)]
struct Param {
    name: Box<str>,
    index: usize,
    greedy: bool,
}

#[derive(Debug)]
struct Slot<T> {
    template: Box<str>,
    params: Box<[Param]>,
    value: T,
}

impl<T> Slot<T> {
    fn found<'a>(&'a self, method: &'a str) -> Match<'a, T> {
        Match {
            value: &self.value,
            template: &self.template,
            method,
            params: &self.params,
        }
    }
}

/// All routes sharing one normalised path: one resource.
#[derive(Debug)]
struct PathEntry<T> {
    /// Few entries per path (API Gateway has 7 methods), so a scan beats a map.
    exact: Vec<(Method, Slot<T>)>,
    any: Option<Slot<T>>,
}

/// The routes of the resource a path matched.
#[derive(Debug)]
pub(crate) struct Resource<'a, T> {
    entry: &'a PathEntry<T>,
}

impl<T> Clone for Resource<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Resource<'_, T> {}

impl<'a, T> Resource<'a, T> {
    /// The route for `method`: its own, else the resource's `ANY` route.
    pub(crate) fn route(self, method: &Method) -> Option<Match<'a, T>> {
        self.exact(method)
            .or_else(|| self.entry.any.as_ref().map(|slot| slot.found(ANY)))
    }

    /// The route for exactly `method`, without `ANY`.
    pub(crate) fn exact(self, method: &Method) -> Option<Match<'a, T>> {
        let (m, slot) = self.entry.exact.iter().find(|(m, _)| m == method)?;
        Some(slot.found(m.as_str()))
    }
}

/// Immutable route table; build it with [`RouteTable::builder`].
#[derive(Debug)]
pub(crate) struct RouteTable<T> {
    /// Paths with a static first segment, by that segment.
    shards: HashMap<Box<str>, matchit::Router<usize>>,
    /// Paths with a variable first segment, and `/`.
    wild: matchit::Router<usize>,
    /// The paths ending in a greedy parameter, for paths with empty segments.
    greedy: matchit::Router<usize>,
    /// matchit route -> entry, for [`RouteTable::fallback`].
    paths: HashMap<Box<str>, usize>,
    /// The matchit routes of every path's proper prefixes (`/a/{p1}` of
    /// `/a/{p1}/b`), for [`RouteTable::fallback`].
    prefixes: HashSet<Box<str>>,
    entries: Vec<PathEntry<T>>,
    len: usize,
}

/// Collects routes for a [`RouteTable`].
#[derive(Debug)]
pub(crate) struct RouteTableBuilder<T> {
    table: RouteTable<T>,
    /// Path before a variable segment -> whether it is greedy, and the first
    /// template with it (API Gateway's one variable per position).
    variables: HashMap<String, (bool, Box<str>)>,
}

impl<T> Default for RouteTableBuilder<T> {
    fn default() -> Self {
        Self {
            table: RouteTable {
                shards: HashMap::new(),
                wild: matchit::Router::new(),
                greedy: matchit::Router::new(),
                paths: HashMap::new(),
                prefixes: HashSet::new(),
                entries: Vec::new(),
                len: 0,
            },
            variables: HashMap::new(),
        }
    }
}

impl<T> RouteTable<T> {
    /// Starts an empty builder.
    pub(crate) fn builder() -> RouteTableBuilder<T> {
        RouteTableBuilder::default()
    }

    /// Number of `(method, template)` routes.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Finds the route for a request. `path` is the raw request path without the
    /// query string, normalised here. An exact method route wins over the
    /// path's `ANY` route.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn lookup(&self, method: &Method, path: &str) -> Option<Match<'_, T>> {
        let path = normalise_request_path(path);
        let resource = self.resource(&path)?;
        resource
            .route(method)
            .or_else(|| self.fallback(&path, method))
    }

    /// The route of a request whose path matched a resource without a
    /// route for its method (nor `ANY`): the first route for the method in
    /// the order paths are matched in (segment by segment, a static segment,
    /// then a parameter, then a greedy parameter), when that route is a
    /// greedy one; otherwise none. `path` is normalised.
    ///
    /// API Gateway was recorded falling back from `/test` (`POST` only) to
    /// its sibling `/{proxy+}` for `OPTIONS /test`; whether it also falls
    /// back to a one-segment parameter is not known, so a request whose first
    /// route for its method is one gets none **[choice]**: refused rather
    /// than sent to a route API Gateway might not pick.
    pub(crate) fn fallback(&self, path: &str, method: &Method) -> Option<Match<'_, T>> {
        let rest = path.strip_prefix('/')?;
        let segments: Vec<&str> = if rest.is_empty() {
            Vec::new()
        } else {
            rest.split('/').collect()
        };
        let mut key = String::with_capacity(path.len() + 16);
        match self.first_route(&segments, 0, &mut key, method)? {
            (m, true) => Some(m),
            (_, false) => None,
        }
    }

    /// The first route for `method` among the paths that match `segments`
    /// from `index` on, below the matchit key `key` (walked depth first, in
    /// matchit's order), and whether it is greedy. Only prefixes of
    /// inserted paths are walked, so a walk visits at most one node per
    /// inserted prefix.
    fn first_route<'a>(
        &'a self,
        segments: &[&str],
        index: usize,
        key: &mut String,
        method: &Method,
    ) -> Option<(Match<'a, T>, bool)> {
        let route_at = |key: &str| {
            let entry = self.entries.get(*self.paths.get(key)?)?;
            Resource { entry }.route(method)
        };
        let Some(segment) = segments.get(index) else {
            return route_at(if key.is_empty() { "/" } else { key }).map(|m| (m, false));
        };
        let len = key.len();
        // A static segment never holds braces (templates cannot), so such a
        // segment cannot be taken for a parameter's key.
        let mut steps: [Option<String>; 2] = [None, None];
        if !segment.is_empty() {
            if !segment.contains(['{', '}']) {
                steps[0] = Some(format!("/{segment}"));
            }
            steps[1] = Some(format!("/{{p{index}}}"));
        }
        for step in steps.into_iter().flatten() {
            key.push_str(&step);
            let found =
                if self.prefixes.contains(key.as_str()) || self.paths.contains_key(key.as_str()) {
                    self.first_route(segments, index + 1, key, method)
                } else {
                    None
                };
            key.truncate(len);
            if found.is_some() {
                return found;
            }
        }
        // A greedy parameter covers the rest, which must not be empty.
        if index + 1 == segments.len() && segment.is_empty() {
            return None;
        }
        key.push_str(&format!("/{{*p{index}}}"));
        let found = route_at(key);
        key.truncate(len);
        found.map(|m| (m, true))
    }

    /// The resource of a path already normalised with [`normalise_request_path`]
    /// (or taken as it is).
    pub(crate) fn resource(&self, path: &str) -> Option<Resource<'_, T>> {
        let entry = self.find(path)?;
        self.entries.get(entry).map(|entry| Resource { entry })
    }

    fn find(&self, path: &str) -> Option<usize> {
        if !path.starts_with('/') {
            return None;
        }
        let empty = path.len() > 1 && (path.ends_with('/') || path.contains("//"));
        if !empty {
            let first = path
                .get(1..)
                .unwrap_or_default()
                .split('/')
                .next()
                .unwrap_or_default();
            if let Some(shard) = self.shards.get(first) {
                if let Ok(m) = shard.at(path) {
                    return Some(*m.value);
                }
            }
            return self.wild.at(path).ok().map(|m| *m.value);
        }
        // The first empty segment must lie inside a greedy parameter's part,
        // and the greedy part must not be empty: a trailing empty segment needs
        // the segment before it too. The path is cut after the segment the
        // parameter must start at or before, with a stand-in for that segment
        // that no static segment equals (templates cannot hold `{`).
        let segments = path.get(1..)?.split('/');
        let last = segments.clone().count() - 1;
        let first_empty = segments.clone().position(str::is_empty)?;
        let cover = if first_empty == last {
            first_empty.checked_sub(1)?
        } else {
            first_empty
        };
        let prefix = path.get(..segment_start(path, cover)?)?;
        let query = format!("{prefix}{{");
        self.greedy.at(&query).ok().map(|m| *m.value)
    }
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
        // Check before changing anything, so a refused route leaves no trace.
        self.check_variables(template, &segments)?;
        let path = key(&segments, segments.len());
        let entry = match self.table.paths.get(path.as_str()) {
            Some(&entry) => entry,
            None => self.new_entry(template, &path, &segments)?,
        };
        let Some(entry) = self.table.entries.get_mut(entry) else {
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
        let params = segments
            .iter()
            .enumerate()
            .filter_map(|(index, s)| match s {
                Segment::Static(_) => None,
                Segment::Param(name) | Segment::Greedy(name) => Some(Param {
                    name: (*name).into(),
                    index,
                    greedy: matches!(s, Segment::Greedy(_)),
                }),
            })
            .collect();
        let slot = Slot {
            template: template.into(),
            params,
            value,
        };
        match method {
            MethodMatch::Any => entry.any = Some(slot),
            MethodMatch::Exact(m) => entry.exact.push((m, slot)),
        }
        self.table.len += 1;
        for (i, s) in segments.iter().enumerate() {
            if !matches!(s, Segment::Static(_)) {
                let greedy = matches!(s, Segment::Greedy(_));
                self.variables
                    .entry(key(&segments, i))
                    .or_insert_with(|| (greedy, template.into()));
            }
        }
        Ok(())
    }

    /// Freezes the table.
    pub(crate) fn build(self) -> RouteTable<T> {
        self.table
    }

    /// Refuses a `{name}` where a `{name+}` hangs, or the reverse.
    fn check_variables(&self, template: &str, segments: &[Segment<'_>]) -> Result<(), RouteError> {
        for (i, s) in segments.iter().enumerate() {
            if matches!(s, Segment::Static(_)) {
                continue;
            }
            let greedy = matches!(s, Segment::Greedy(_));
            if let Some((other, existing)) = self.variables.get(&key(segments, i)) {
                if *other != greedy {
                    return Err(RouteError::Conflict {
                        template: template.to_owned(),
                        existing: existing.to_string(),
                    });
                }
            }
        }
        Ok(())
    }

    /// A new, empty entry for a path, known to matchit.
    fn new_entry(
        &mut self,
        template: &str,
        path: &str,
        segments: &[Segment<'_>],
    ) -> Result<usize, RouteError> {
        let entry = self.table.entries.len();
        let refused = |e: matchit::InsertError| RouteError::InvalidTemplate {
            template: template.to_owned(),
            reason: match e {
                matchit::InsertError::Conflict { .. } => "conflicts with another route",
                _ => "not a path the router accepts",
            },
        };
        let router = match segments.first() {
            Some(Segment::Static(_)) => {
                let first = path
                    .get(1..)
                    .unwrap_or_default()
                    .split('/')
                    .next()
                    .unwrap_or_default();
                self.table.shards.entry(first.into()).or_default()
            }
            _ => &mut self.table.wild,
        };
        router.insert(path, entry).map_err(refused)?;
        if matches!(segments.last(), Some(Segment::Greedy(_))) {
            if let Err(e) = self.table.greedy.insert(path, entry) {
                // Keep both routers in step.
                router.remove(path);
                return Err(refused(e));
            }
        }
        self.table.entries.push(PathEntry {
            exact: Vec::new(),
            any: None,
        });
        for len in 1..segments.len() {
            self.table.prefixes.insert(key(segments, len).into());
        }
        self.table.paths.insert(path.into(), entry);
        Ok(entry)
    }
}

/// Entries come from the builder itself; a miss would be a bug, reported
/// rather than a panic.
fn inconsistent(template: &str) -> RouteError {
    RouteError::InvalidTemplate {
        template: template.to_owned(),
        reason: "internal route table inconsistency",
    }
}
