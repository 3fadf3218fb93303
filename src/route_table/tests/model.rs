//! The table against a brute-force reference, at scale, and the parameter
//! values a match reads from the path.

use super::*;

/// A brute-force reference: the template that matches the path, the most
/// specific one (static < `{name}` < `{name+}`, segment by segment).
fn reference<'a>(templates: &[&'a str], path: &str) -> Option<&'a str> {
    ranked(templates, path).into_iter().next()
}

/// Every template that matches the path, the most specific first.
fn ranked<'a>(templates: &[&'a str], path: &str) -> Vec<&'a str> {
    let path = normalise_request_path(path);
    let Some(rest) = path.strip_prefix('/') else {
        return Vec::new();
    };
    let parts: Vec<&str> = if rest.is_empty() {
        Vec::new()
    } else {
        rest.split('/').collect()
    };
    let mut all: Vec<(Vec<u8>, &str)> = Vec::new();
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
                Segment::Param(_) => {
                    matched &= parts.get(i).is_some_and(|p| !p.is_empty());
                    rank.push(1);
                }
                Segment::Greedy(_) => {
                    matched &= parts.len() > i && !parts[i..].join("/").is_empty();
                    rank.push(2);
                }
            }
        }
        let whole =
            matches!(segments.last(), Some(Segment::Greedy(_))) || segments.len() == parts.len();
        if matched && whole {
            all.push((rank, template));
        }
    }
    all.sort();
    all.into_iter().map(|(_, t)| t).collect()
}

/// The resource a template is (`/a/{x}` and `/a/{y}` are one).
fn shape(template: &str) -> String {
    let segments = parse_template(template).expect("valid");
    key(&segments, segments.len())
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

proptest::proptest! {
    /// A method the path's resource lacks falls back to the first route with
    /// it, in matching order, when that route is greedy.
    #[test]
    fn method_fallback_agrees_with_brute_force(
        routes in proptest::collection::vec(
            (proptest::collection::vec(0u8..6, 0..4), 0u8..3), 1..14),
        paths in proptest::collection::vec(
            proptest::collection::vec(0u8..5, 0..5), 1..12),
    ) {
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
        let methods = [
            MethodMatch::Exact(Method::GET),
            MethodMatch::Exact(Method::POST),
            MethodMatch::Any,
        ];
        let mut b = RouteTable::builder();
        let mut kept: Vec<String> = Vec::new();
        let mut has: std::collections::HashSet<(String, String)> = Default::default();
        for (kinds, m) in &routes {
            let t = template(kinds);
            let method = methods[usize::from(*m)].clone();
            if b.insert(method.clone(), &t, ()).is_ok() {
                has.insert((shape(&t), method.to_string()));
                if !kept.contains(&t) {
                    kept.push(t);
                }
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
            for method in [Method::GET, Method::POST, Method::PUT] {
                let answers = |t: &str| {
                    has.contains(&(shape(t), method.to_string()))
                        || has.contains(&(shape(t), "ANY".to_owned()))
                };
                let all = ranked(&kept, &path);
                let want = match all.first() {
                    Some(r) if answers(r) => Some(shape(r)),
                    Some(_) => all
                        .iter()
                        .find(|t| answers(t))
                        .filter(|t| t.ends_with("+}"))
                        .map(|t| shape(t)),
                    None => None,
                };
                let got = table.lookup(&method, &path).map(|m| shape(m.template));
                proptest::prop_assert_eq!(got, want, "{} {:?} routes {:?}", method, path, kept);
            }
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
        // A method the route does not have: the greedy route covering it.
        if i % 3 != 2 {
            let m = t.lookup(&Method::PATCH, &path).expect("proxy");
            assert_eq!(m.template, "/{proxy+}");
        }
    }
    let m = t.lookup(&Method::GET, "/svc1/static/r2").expect("proxy");
    assert_eq!((m.template, *m.value), ("/{proxy+}", usize::MAX));
}

fn params(t: &RouteTable<usize>, m: Method, p: &str) -> Option<Vec<(String, String)>> {
    let path = normalise_request_path(p);
    let found = t.resource(&path)?.route(&m)?;
    Some(
        found
            .params(&path)
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect(),
    )
}

fn pairs(list: &[(&str, &str)]) -> Option<Vec<(String, String)>> {
    Some(
        list.iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect(),
    )
}

#[test]
fn parameter_values_come_from_the_path() {
    let t = table(&[
        get("/pets/{petId}"),
        (MethodMatch::Exact(Method::DELETE), "/pets/{id}"),
        get("/pets/{petId}/toys/{toyId}"),
        (MethodMatch::Any, "/files/{proxy+}"),
        (MethodMatch::Any, "/{root+}"),
        get("/"),
    ]);
    assert_eq!(params(&t, Method::GET, "/pets/7"), pairs(&[("petId", "7")]));
    assert_eq!(
        params(&t, Method::DELETE, "/pets/7/"),
        pairs(&[("id", "7")])
    );
    assert_eq!(
        params(&t, Method::GET, "/pets/%37/toys/a%2Fb"),
        pairs(&[("petId", "7"), ("toyId", "a%2Fb")])
    );
    assert_eq!(
        params(&t, Method::GET, "/files/a/b.txt"),
        pairs(&[("proxy", "a/b.txt")])
    );
    // Greedy parts keep empty segments; one trailing slash is still dropped.
    assert_eq!(
        params(&t, Method::GET, "/files//a//b/"),
        pairs(&[("proxy", "/a//b")])
    );
    assert_eq!(params(&t, Method::GET, "//"), pairs(&[]));
    assert_eq!(params(&t, Method::GET, "///"), pairs(&[("root", "/")]));
    assert_eq!(
        params(&t, Method::GET, "/files//"),
        pairs(&[("root", "files/")])
    );
    assert_eq!(
        params(&t, Method::GET, "/pets//toys/x"),
        pairs(&[("root", "pets//toys/x")])
    );
    assert_eq!(params(&t, Method::GET, "/"), pairs(&[]));
}

#[test]
fn refused_routes_leave_no_trace() {
    let mut b = RouteTable::builder();
    b.insert(MethodMatch::Exact(Method::GET), "/a/{x}", 1)
        .expect("first");
    b.insert(MethodMatch::Any, "/a/{proxy+}", 2)
        .expect_err("conflict");
    b.insert(MethodMatch::Exact(Method::GET), "/a/{y}/", 3)
        .expect_err("duplicate");
    // The refused greedy route is in neither router.
    b.insert(MethodMatch::Any, "/{proxy+}", 4)
        .expect("root greedy");
    let t = b.build();
    assert_eq!(t.len(), 2);
    assert_eq!(found(&t, Method::GET, "/a/b/c"), Some(("/{proxy+}", "ANY")));
    assert_eq!(found(&t, Method::GET, "/a//c"), Some(("/{proxy+}", "ANY")));
    assert_eq!(found(&t, Method::GET, "/a/b"), Some(("/a/{x}", "GET")));
}

#[test]
fn first_segment_shards_back_off_to_variable_first_segments() {
    let t = table(&[
        get("/pets/y"),
        get("/{kind}/x"),
        get("/svc1/a"),
        get("/svc10/{id}"),
        get("/"),
    ]);
    // The `pets` shard has no `/pets/x`: the variable first segment takes it.
    assert_eq!(
        found(&t, Method::GET, "/pets/x"),
        Some(("/{kind}/x", "GET"))
    );
    assert_eq!(found(&t, Method::GET, "/pets/y"), Some(("/pets/y", "GET")));
    // A first segment that only starts like another is its own shard.
    assert_eq!(
        found(&t, Method::GET, "/svc10/7"),
        Some(("/svc10/{id}", "GET"))
    );
    assert_eq!(found(&t, Method::GET, "/svc1/7"), None);
    assert_eq!(
        found(&t, Method::GET, "/svc1/x"),
        Some(("/{kind}/x", "GET"))
    );
    assert_eq!(found(&t, Method::GET, "/"), Some(("/", "GET")));
    assert_eq!(found(&t, Method::GET, "/other"), None);
}
