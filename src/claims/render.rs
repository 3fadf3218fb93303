//! API Gateway's rendering of claims as a flat map of strings
//! (`$context.authorizer.claims`).

use serde_json::{Map, Value};
use std::fmt::Write;

const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Seconds since the epoch as Java's `Date.toString()` in UTC:
/// `Thu Dec 06 17:08:23 UTC 2018`.
pub(crate) fn java_date(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    // Civil-from-days (proleptic Gregorian), after Howard Hinnant's algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let weekday = DAYS[days.rem_euclid(7) as usize];
    format!(
        "{weekday} {} {day:02} {h:02}:{m:02}:{s:02} UTC {year}",
        MONTHS[(month - 1) as usize]
    )
}

/// One array element: strings bare, everything else as compact JSON.
fn push_element(out: &mut String, value: &Value) {
    match value {
        Value::String(s) => out.push_str(s),
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

/// One claim's value as API Gateway renders it; `None` for JSON null.
pub(crate) fn render_value(key: &str, value: &Value) -> Option<String> {
    Some(match value {
        Value::Null => return None,
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match (key, n.as_i64()) {
            ("exp" | "iat", Some(secs)) => java_date(secs),
            _ => n.to_string(),
        },
        Value::Array(items) => {
            let mut out = String::new();
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_element(&mut out, item);
            }
            out
        }
        Value::Object(_) => value.to_string(),
    })
}

/// The whole map, keys unchanged (`custom:role`, `cognito:groups`), sorted
/// by name.
pub(crate) fn render(claims: &Map<String, Value>) -> Box<[(Box<str>, Box<str>)]> {
    let mut entries: Vec<(Box<str>, Box<str>)> = claims
        .iter()
        .filter_map(|(k, v)| render_value(k, v).map(|s| (k.as_str().into(), s.into())))
        .collect();
    // Already sorted when the map is (serde_json's default); cheap then.
    entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    entries.into_boxed_slice()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn java_dates() {
        assert_eq!(java_date(1_544_116_103), "Thu Dec 06 17:08:23 UTC 2018");
        assert_eq!(java_date(0), "Thu Jan 01 00:00:00 UTC 1970");
        assert_eq!(java_date(951_782_400), "Tue Feb 29 00:00:00 UTC 2000");
        assert_eq!(java_date(1_709_208_000), "Thu Feb 29 12:00:00 UTC 2024");
        assert_eq!(java_date(253_402_300_799), "Fri Dec 31 23:59:59 UTC 9999");
        assert_eq!(java_date(-1), "Wed Dec 31 23:59:59 UTC 1969");
    }

    #[test]
    fn renders_like_api_gateway() {
        let claims = json!({
            "sub": "abc",
            "scope": "a/read b/write",
            "custom:role": "admin",
            "auth_time": 1544112503,
            "version": 2,
            "exp": 1544116103,
            "iat": 1544112503,
            "email_verified": true,
            "phone_number_verified": false,
            "cognito:groups": ["admin", "staging-manager"],
            "identities": [{"userId": "1", "providerName": "Google"}, {"userId": "2"}],
            "ratio": 1.5,
            "gone": null,
            "addr": {"street": "x"}
        });
        let entries = render(claims.as_object().unwrap());
        let map: std::collections::BTreeMap<&str, &str> =
            entries.iter().map(|(k, v)| (&**k, &**v)).collect();
        assert_eq!(map["sub"], "abc");
        assert_eq!(map["scope"], "a/read b/write");
        assert_eq!(map["custom:role"], "admin");
        assert_eq!(map["auth_time"], "1544112503");
        assert_eq!(map["version"], "2");
        assert_eq!(map["exp"], "Thu Dec 06 17:08:23 UTC 2018");
        assert_eq!(map["iat"], "Thu Dec 06 16:08:23 UTC 2018");
        assert_eq!(map["email_verified"], "true");
        assert_eq!(map["phone_number_verified"], "false");
        assert_eq!(map["cognito:groups"], "admin,staging-manager");
        assert_eq!(
            map["identities"],
            r#"{"providerName":"Google","userId":"1"},{"userId":"2"}"#
        );
        assert_eq!(map["ratio"], "1.5");
        assert_eq!(map["addr"], r#"{"street":"x"}"#);
        assert!(!map.contains_key("gone"));
        assert_eq!(map.len(), entries.len());
    }
}
