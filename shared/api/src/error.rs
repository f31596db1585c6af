//! The one error shape of the API contract: `{"error", "message", "code"}` plus a status.
//!
//! Clients read `error` (some read `message`, so both carry the same text); `code` is a stable
//! snake_case identifier that tests and clients may match on. Internals never reach the body.

use serde::Serialize;

/// The JSON body every non-2xx response carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorBody {
    pub error: String,
    pub message: String,
    pub code: &'static str,
    #[serde(rename = "retryAfter", skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u32>,
    #[serde(rename = "requestId", skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// An error a handler returns: status, stable code and a human message that is safe to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    /// Seconds a client should wait before retrying (429 and 503 carry it).
    pub retry_after_secs: Option<u32>,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after_secs: None,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }

    pub fn not_found() -> Self {
        Self::new(404, "not_found", "Not found")
    }

    pub fn method_not_allowed() -> Self {
        Self::new(405, "method_not_allowed", "Method not allowed")
    }

    /// No valid credential (a missing, forged or expired access token).
    pub fn unauthenticated() -> Self {
        Self::new(401, "unauthenticated", "Authentication required")
    }

    /// A refusal that says only its `code` (the CSRF origin rule, a missing role).
    pub fn forbidden(code: &'static str) -> Self {
        Self::new(403, code, "Request refused")
    }

    /// A body past [`crate::body::MAX_BODY_BYTES`].
    pub fn payload_too_large() -> Self {
        Self::new(413, "payload_too_large", "Request body too large")
    }

    /// A dependency is down: the caller may retry after `retry_after_secs`.
    pub fn unavailable(
        code: &'static str,
        message: impl Into<String>,
        retry_after_secs: u32,
    ) -> Self {
        Self {
            retry_after_secs: Some(retry_after_secs),
            ..Self::new(503, code, message)
        }
    }

    pub fn internal() -> Self {
        Self::new(500, "internal_error", "Internal server error")
    }

    pub fn body(&self, request_id: Option<String>) -> ErrorBody {
        ErrorBody {
            error: self.message.clone(),
            message: self.message.clone(),
            code: self.code,
            retry_after_secs: self.retry_after_secs,
            request_id,
        }
    }

    pub fn to_json(&self, request_id: Option<String>) -> String {
        // Serializing a struct of strings and integers cannot fail; fall back to a fixed body
        // rather than panicking on a request path.
        serde_json::to_string(&self.body(request_id)).unwrap_or_else(|_| {
            r#"{"error":"Internal server error","message":"Internal server error","code":"internal_error"}"#
                .to_string()
        })
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_carries_error_and_message_with_the_same_text() {
        let json = ApiError::not_found().to_json(None);
        let value: serde_json::Value = serde_json::from_str(&json).expect("valid json");
        assert_eq!(value["error"], "Not found");
        assert_eq!(value["message"], "Not found");
        assert_eq!(value["code"], "not_found");
        assert!(value.get("retryAfter").is_none());
    }

    #[test]
    fn an_unavailable_error_says_when_to_retry() {
        let err = ApiError::unavailable("redis_unavailable", "Redis is down", 2);
        assert_eq!(err.status, 503);
        let value: serde_json::Value =
            serde_json::from_str(&err.to_json(Some("abc".into()))).expect("valid json");
        assert_eq!(value["retryAfter"], 2);
        assert_eq!(value["requestId"], "abc");
    }
}
