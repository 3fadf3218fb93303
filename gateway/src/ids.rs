//! The identifiers API Gateway puts on every response: `x-amzn-RequestId`
//! (`$context.requestId`, a UUID) and `x-amz-apigw-id`
//! (`$context.extendedRequestId`).

use std::sync::Arc;

use base64::Engine as _;
use http::header::{HeaderMap, HeaderName, HeaderValue};

const X_AMZN_REQUEST_ID: HeaderName = HeaderName::from_static("x-amzn-requestid");
const X_AMZ_APIGW_ID: HeaderName = HeaderName::from_static("x-amz-apigw-id");

/// One request's identifiers: one allocation, shared by every clone (the
/// request's extensions, the access log, the answers).
#[derive(Clone, Debug)]
pub(crate) struct RequestIds(Arc<Ids>);

#[derive(Debug)]
struct Ids {
    /// A hyphenated lower-case UUID v4.
    request_id: [u8; uuid::fmt::Hyphenated::LENGTH],
    /// 11 random bytes in padded base64.
    apigw_id: [u8; 16],
}

impl RequestIds {
    /// Fresh random identifiers, from a thread-local generator seeded by
    /// the OS (uuid's `fast-rng`): no system call per request.
    pub(crate) fn new() -> Self {
        let mut request_id = [0; uuid::fmt::Hyphenated::LENGTH];
        uuid::Uuid::new_v4()
            .hyphenated()
            .encode_lower(&mut request_id);
        // Shaped like AWS's `LLCm7FonFiAFXFg=`: 11 random bytes in base64.
        let random = uuid::Uuid::new_v4();
        let mut apigw_id = [0; 16];
        let written = base64::engine::general_purpose::STANDARD
            .encode_slice(&random.as_bytes()[..11], &mut apigw_id)
            .unwrap_or(0);
        debug_assert_eq!(written, apigw_id.len());
        Self(Arc::new(Ids {
            request_id,
            apigw_id,
        }))
    }

    /// `x-amzn-RequestId`, also `$context.requestId`.
    pub(crate) fn request_id(&self) -> &str {
        std::str::from_utf8(&self.0.request_id).unwrap_or_default()
    }

    /// `x-amz-apigw-id`, also `$context.extendedRequestId`.
    pub(crate) fn apigw_id(&self) -> &str {
        std::str::from_utf8(&self.0.apigw_id).unwrap_or_default()
    }

    /// Adds both headers (replacing any a backend sent).
    pub(crate) fn stamp(&self, headers: &mut HeaderMap) {
        if let Ok(v) = HeaderValue::from_bytes(&self.0.request_id) {
            headers.insert(X_AMZN_REQUEST_ID, v);
        }
        if let Ok(v) = HeaderValue::from_bytes(&self.0.apigw_id) {
            headers.insert(X_AMZ_APIGW_ID, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_a_uuid_and_an_apigw_shaped_id() {
        let ids = RequestIds::new();
        let id = ids.request_id();
        assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 4);
        assert_eq!(ids.apigw_id().len(), 16);
        assert!(ids.apigw_id().ends_with('='));
        assert_ne!(RequestIds::new().request_id(), id);
        assert_ne!(RequestIds::new().apigw_id(), ids.apigw_id());
        let mut headers = HeaderMap::new();
        ids.stamp(&mut headers);
        assert_eq!(headers["x-amzn-requestid"], id);
        assert_eq!(headers["x-amz-apigw-id"], ids.apigw_id());
    }
}
