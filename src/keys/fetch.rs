//! Fetching a JWKS document over HTTP.

use std::time::Duration;

/// Limits for key fetches.
#[derive(Debug, Clone)]
pub(crate) struct FetchLimits {
    pub(crate) connect_timeout: Duration,
    pub(crate) timeout: Duration,
    pub(crate) max_bytes: usize,
}

/// One HTTP client for the store's lifetime: connections are reused across refreshes.
pub(crate) fn client(limits: &FetchLimits) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .connect_timeout(limits.connect_timeout)
        .timeout(limits.timeout)
        // A key URL that redirects elsewhere is a misconfiguration or an attack.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("tower-cognito/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot build HTTP client: {e}"))
}

/// GETs `url`, refusing non-200 answers and bodies over the cap.
pub(crate) async fn fetch(
    client: &reqwest::Client,
    url: &str,
    max_bytes: usize,
) -> Result<Vec<u8>, String> {
    let mut res = client
        .get(url)
        .header(http::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| format!("GET {url}: {}", error_chain(&e)))?;
    if res.status() != http::StatusCode::OK {
        return Err(format!("GET {url}: status {}", res.status()));
    }
    if res
        .content_length()
        .is_some_and(|len| len > max_bytes as u64)
    {
        return Err(format!("GET {url}: body larger than {max_bytes} bytes"));
    }
    let mut body = Vec::new();
    while let Some(chunk) = res
        .chunk()
        .await
        .map_err(|e| format!("GET {url}: {}", error_chain(&e)))?
    {
        if body.len() + chunk.len() > max_bytes {
            return Err(format!("GET {url}: body larger than {max_bytes} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}
