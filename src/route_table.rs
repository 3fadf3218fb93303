//! Route table: maps `(method, path)` to a per-route value the way API Gateway
//! maps a request to a resource and method.
//!
//! One [`matchit`] radix tree holds every distinct path; each path entry holds a
//! tiny per-method list plus an optional any-method (`ANY`) fallback. A lookup is
//! one radix walk plus a scan of at most a handful of methods, so its cost does not
//! grow with the number of routes.
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
//! greedy parameter (`/pets/{id}` wins over `/{proxy+}` for `/pets/1`); within one
//! path an exact method beats `ANY`.
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
//! **Parameter names:** names are normalised internally to their position, so
//! `GET /pets/{id}` and `POST /pets/{petId}` share one tree entry and each lookup
//! still reports the template as its route was written. (API Gateway itself refuses
//! two differently named variables under one parent; this table accepts them.)
//! A greedy parameter and a plain parameter at the same position
//! (`/pets/{petId}` and `/pets/{proxy+}`) cannot be represented by `matchit` and
//! are rejected with [`RouteError::Conflict`] naming both templates; API Gateway
//! rejects that pair as well ("only one variable path part is allowed").

use std::collections::HashMap;
use std::fmt;

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

/// Immutable route table; build it with [`RouteTable::builder`].
#[derive(Debug)]
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) struct RouteTable<T> {
    router: matchit::Router<usize>,
    entries: Vec<PathEntry<T>>,
    len: usize,
}

/// Collects routes for a [`RouteTable`].
#[derive(Debug)]
pub(crate) struct RouteTableBuilder<T> {
    router: matchit::Router<usize>,
    entries: Vec<PathEntry<T>>,
    /// Normalised matchit path -> index into `entries`.
    by_path: HashMap<String, usize>,
    len: usize,
}

impl<T> Default for RouteTableBuilder<T> {
    fn default() -> Self {
        Self {
            router: matchit::Router::new(),
            entries: Vec::new(),
            by_path: HashMap::new(),
            len: 0,
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
        let path = normalise_request_path(path);
        let index = *self.router.at(path).ok()?.value;
        let entry = self.entries.get(index)?;
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
}

impl<T> RouteTableBuilder<T> {
    /// Adds a route. Fails on an invalid template, a duplicate `(method, path)`,
    /// or a template the router cannot hold next to an earlier one.
    pub(crate) fn insert(
        &mut self,
        method: MethodMatch,
        template: &str,
        value: T,
    ) -> Result<(), RouteError> {
        let key = to_matchit_path(template)?;
        let index = match self.by_path.get(&key) {
            Some(&index) => index,
            None => {
                let index = self.entries.len();
                self.router
                    .insert(key.clone(), index)
                    .map_err(|e| self.conflict(template, e))?;
                self.entries.push(PathEntry {
                    exact: Vec::new(),
                    any: None,
                });
                self.by_path.insert(key, index);
                index
            }
        };
        // The index was just pushed or comes from `by_path`, so it exists; the
        // error arm only keeps this free of panics.
        let Some(entry) = self.entries.get_mut(index) else {
            return Err(RouteError::InvalidTemplate {
                template: template.to_owned(),
                reason: "internal route table inconsistency",
            });
        };
        let slot = Slot {
            template: template.into(),
            value,
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
        match method {
            MethodMatch::Any => entry.any = Some(slot),
            MethodMatch::Exact(m) => entry.exact.push((m, slot)),
        }
        self.len += 1;
        Ok(())
    }

    /// Freezes the table.
    pub(crate) fn build(self) -> RouteTable<T> {
        RouteTable {
            router: self.router,
            entries: self.entries,
            len: self.len,
        }
    }

    fn conflict(&self, template: &str, error: matchit::InsertError) -> RouteError {
        let existing = match &error {
            matchit::InsertError::Conflict { with } => self
                .by_path
                .get(with)
                .and_then(|&i| self.entries.get(i))
                .and_then(|e| {
                    e.exact
                        .first()
                        .map(|(_, s)| s)
                        .or(e.any.as_ref())
                        .map(|s| s.template.to_string())
                })
                // Fall back to matchit's spelling (positional parameter names).
                .unwrap_or_else(|| with.clone()),
            // Templates are validated first, so matchit's syntax errors should not
            // occur; report them rather than panic.
            other => {
                return RouteError::InvalidTemplate {
                    template: template.to_owned(),
                    reason: match other {
                        matchit::InsertError::InvalidParam => "invalid parameter",
                        matchit::InsertError::InvalidParamSegment => {
                            "more than one parameter in a segment"
                        }
                        matchit::InsertError::InvalidCatchAll => "invalid greedy parameter",
                        _ => "rejected by the router",
                    },
                };
            }
        };
        RouteError::Conflict {
            template: template.to_owned(),
            existing,
        }
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
    to_matchit_path(template).map(|_| ())
}

/// Converts a template to matchit syntax with positional parameter names
/// (`/pets/{petId}` -> `/pets/{p1}`, `/{proxy+}` -> `/{*p0}`).
fn to_matchit_path(template: &str) -> Result<String, RouteError> {
    let invalid = |reason| RouteError::InvalidTemplate {
        template: template.to_owned(),
        reason,
    };
    let Some(rest) = template.strip_prefix('/') else {
        return Err(invalid("must start with `/`"));
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let mut out = String::with_capacity(template.len() + 4);
    if rest.is_empty() {
        // `/` or `//` (the latter normalised like a trailing slash on the root).
        if template.len() > 2 {
            return Err(invalid("empty path segment"));
        }
        out.push('/');
        return Ok(out);
    }
    let segments: Vec<&str> = rest.split('/').collect();
    let last = segments.len() - 1;
    for (i, segment) in segments.iter().enumerate() {
        out.push('/');
        if segment.is_empty() {
            return Err(invalid("empty path segment"));
        }
        if !segment.contains(['{', '}']) {
            out.push_str(segment);
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
        if greedy && i != last {
            return Err(invalid(
                "a greedy parameter `{name+}` must be the last segment",
            ));
        }
        // Positional names let differently named parameters share a tree node.
        if greedy {
            out.push_str(&format!("{{*p{i}}}"));
        } else {
            out.push_str(&format!("{{p{i}}}"));
        }
    }
    Ok(out)
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
