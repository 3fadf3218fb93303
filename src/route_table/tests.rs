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
    // `%73` is `s`, an unreserved character: the same path (RFC 3986 §6.2.2.2).
    assert_eq!(found(&t, Method::GET, "/pet%73"), Some(("/pets", "GET")));
    assert_eq!(found(&t, Method::GET, "/Pet%73"), None);
    // Other escapes stay encoded; their hex digits' case does not matter.
    assert_eq!(
        found(&t, Method::GET, "/caf%c3%a9"),
        Some(("/caf%C3%A9", "GET"))
    );
    assert_eq!(found(&t, Method::GET, "/caf%C3%A9%2F"), None);
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
