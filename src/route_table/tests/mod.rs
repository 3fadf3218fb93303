use super::*;

mod model;

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
    // Path matches a specific route but not its method: the greedy route
    // that covers the path answers it, as on API Gateway.
    assert_eq!(found(&t, Method::POST, "/pets"), Some(("/{proxy+}", "ANY")));
}

/// LocalStack's `test_proxy_routing_with_hardcoded_resource_sibling`,
/// recorded against AWS: `OPTIONS /test`, where `/test` has only `POST`, is
/// served by the sibling `/{proxy+}`'s `OPTIONS`.
#[test]
fn a_method_missing_on_its_resource_falls_back_to_a_greedy_route() {
    let options = |t| (MethodMatch::Exact(Method::OPTIONS), t);
    let post = |t| (MethodMatch::Exact(Method::POST), t);
    let t = table(&[
        post("/test"),
        (MethodMatch::Any, "/test/any"),
        options("/{proxy+}"),
    ]);
    assert_eq!(
        found(&t, Method::OPTIONS, "/test"),
        Some(("/{proxy+}", "OPTIONS"))
    );
    assert_eq!(found(&t, Method::POST, "/test/"), Some(("/test", "POST")));
    assert_eq!(
        found(&t, Method::OPTIONS, "/test/any"),
        Some(("/test/any", "ANY"))
    );
    // Nobody has the method: nothing.
    assert_eq!(found(&t, Method::GET, "/test"), None);

    // The greedy routes covering the path, the more specific first.
    let t = table(&[
        get("/a/b"),
        post("/a/{proxy+}"),
        (MethodMatch::Exact(Method::PUT), "/{proxy+}"),
        get("/"),
    ]);
    assert_eq!(
        found(&t, Method::POST, "/a/b"),
        Some(("/a/{proxy+}", "POST"))
    );
    assert_eq!(found(&t, Method::PUT, "/a/b"), Some(("/{proxy+}", "PUT")));
    assert_eq!(found(&t, Method::PUT, "/a/b/c"), Some(("/{proxy+}", "PUT")));
    assert_eq!(found(&t, Method::DELETE, "/a/b"), None);
    // A greedy parameter never matches the root.
    assert_eq!(found(&t, Method::PUT, "/"), None);
    // Empty segments are covered as a lookup covers them.
    assert_eq!(found(&t, Method::PUT, "/a//b"), Some(("/{proxy+}", "PUT")));
    assert_eq!(
        found(&t, Method::POST, "/a//b"),
        Some(("/a/{proxy+}", "POST"))
    );

    // The first route with the method is a one-segment parameter: AWS's
    // choice is not known, so none.
    let t = table(&[
        get("/a/b"),
        (MethodMatch::Exact(Method::PUT), "/a/{id}"),
        (MethodMatch::Exact(Method::PUT), "/{proxy+}"),
    ]);
    assert_eq!(found(&t, Method::PUT, "/a/b"), None);
    assert_eq!(found(&t, Method::PUT, "/a/c"), Some(("/a/{id}", "PUT")));
    assert_eq!(found(&t, Method::PUT, "/a/b/c"), Some(("/{proxy+}", "PUT")));
    // A path segment that looks like a parameter's key is still data.
    assert_eq!(
        found(&t, Method::PUT, "/{p0}/b"),
        Some(("/{proxy+}", "PUT"))
    );
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
