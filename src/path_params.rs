//! [`PathParams`]: the values of a matched route's path parameters.

use std::sync::Arc;

/// The path parameters of the route a request matched, added to the request's
/// extensions beside [`MatchedRoute`](crate::MatchedRoute) by a layer with a
/// policy table.
///
/// Each value is the request path's text for that parameter as it arrived
/// (still percent-encoded): `/pets/{petId}` on `/pets/7` gives `petId = 7`, and
/// a greedy `/files/{proxy+}` on `/files/a/b.txt` gives `proxy = a/b.txt`.
/// Names are as written in the template, without braces or `+`.
///
/// ```
/// use tower_cognito::PathParams;
///
/// let params = PathParams::default();
/// assert_eq!(params.get("petId"), None);
/// assert!(params.is_empty());
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

    /// The value of parameter `name`, still percent-encoded as in the path.
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
