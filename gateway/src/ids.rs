//! The identifiers API Gateway puts on every response: `x-amzn-RequestId`
//! (`$context.requestId`, a UUID) and `x-amz-apigw-id`
//! (`$context.extendedRequestId`).

use base64::Engine as _;
use http::header::{HeaderMap, HeaderName, HeaderValue};

const X_AMZN_REQUEST_ID: HeaderName = HeaderName::from_static("x-amzn-requestid");
const X_AMZ_APIGW_ID: HeaderName = HeaderName::from_static("x-amz-apigw-id");

/// One request's identifiers.
#[derive(Clone, Debug)]
pub(crate) struct RequestIds {
    request_id: String,
    apigw_id: String,
}

impl RequestIds {
    /// Fresh random identifiers.
    pub(crate) fn new() -> Self {
        let request_id = uuid::Uuid::new_v4().to_string();
        // Shaped like AWS's `LLCm7FonFiAFXFg=`: 11 random bytes in base64.
        let random = uuid::Uuid::new_v4();
        let apigw_id = base64::engine::general_purpose::STANDARD.encode(&random.as_bytes()[..11]);
        Self {
            request_id,
            apigw_id,
        }
    }

    /// `x-amzn-RequestId`, also `$context.requestId`.
    pub(crate) fn request_id(&self) -> &str {
        &self.request_id
    }

    /// `x-amz-apigw-id`, also `$context.extendedRequestId`.
    pub(crate) fn apigw_id(&self) -> &str {
        &self.apigw_id
    }

    /// Adds both headers (replacing any a backend sent).
    pub(crate) fn stamp(&self, headers: &mut HeaderMap) {
        if let Ok(v) = HeaderValue::from_str(&self.request_id) {
            headers.insert(X_AMZN_REQUEST_ID, v);
        }
        if let Ok(v) = HeaderValue::from_str(&self.apigw_id) {
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
    }
}
