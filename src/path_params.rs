//! [`PathParams`]: the values of a matched route's path parameters.

use std::sync::Arc;

/// The path parameters of the route a request matched, added to the request's
/// extensions beside [`MatchedRoute`](crate::MatchedRoute) by a layer with a
/// policy table (public routes too; empty for a route without parameters).
///
/// Each value is the request path's text for that parameter as the table
/// matched it: percent-encoded unreserved characters decoded, every other
/// escape kept (`%2F` included), one trailing slash dropped. `/pets/{petId}` on
/// `/pets/7` gives `petId = 7`, and a greedy `/files/{proxy+}` on
/// `/files/a/b.txt` gives `proxy = a/b.txt`. Names are as written in the
/// template, without braces or `+`.
///
/// ```
/// use http::{Request, Response};
/// use std::convert::Infallible;
/// use tower::{service_fn, Layer, ServiceExt};
/// use tower_cognito::{CognitoAuthLayer, PathParams, RoutePolicy};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let auth = CognitoAuthLayer::builder()
///     .user_pool("us-east-1_AbCdEf123")
///     .route("GET", "/pets/{petId}/files/{proxy+}", RoutePolicy::public())
///     .build()
///     .unwrap();
/// let app = auth.layer(service_fn(|req: Request<()>| async move {
///     let params = req.extensions().get::<PathParams>().unwrap();
///     let text = format!("{} {}", params.get("petId").unwrap(), params.get("proxy").unwrap());
///     Ok::<_, Infallible>(Response::builder().header("x-params", text).body(()).unwrap())
/// }));
/// let req = Request::get("/pets/%37/files/a/b.txt").body(()).unwrap();
/// let res = app.oneshot(req).await.unwrap();
/// assert_eq!(res.headers()["x-params"], "7 a/b.txt");
/// # }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PathParams {
    // Few parameters per route: a list beats a map. Shared between clones.
    pairs: Arc<[(Box<str>, Box<str>)]>,
}

impl PathParams {
    /// Parameters from `(name, value)` pairs, in template order.
    pub(crate) fn from_pairs<I, N, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (N, V)>,
        N: Into<Box<str>>,
        V: Into<Box<str>>,
    {
        Self {
            pairs: pairs
                .into_iter()
                .map(|(n, v)| (n.into(), v.into()))
                .collect(),
        }
    }

    /// The value of parameter `name`, as the table matched it (see above).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| &**n == name)
            .map(|(_, v)| &**v)
    }

    /// Every `(name, value)` pair, in template order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(n, v)| (&**n, &**v))
    }

    /// How many parameters the route has.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether the route has no parameters.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}
