//! Every way an auth request fails, with a stable code, mapped to the contract's error shape.

use urr_api::ApiError;

/// What the client sees on a bad login: the same for an unknown email and a wrong password.
pub const INVALID_CREDENTIALS: &str = "Invalid email or password";
/// The contract's message for a taken email (accepted enumeration; rate-limited).
pub const EMAIL_TAKEN: &str = "Registration failed. Please try again or login.";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("{message}")]
    BadInput { code: &'static str, message: String },
    #[error("request body too large")]
    TooLarge,
    #[error("email taken")]
    EmailTaken,
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("not authenticated")]
    Unauthenticated,
    #[error("refresh token invalid: {0}")]
    RefreshRefused(&'static str),
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("too many failed logins")]
    AccountThrottled { retry_after_secs: u32 },
    /// No `google_client_id` is configured: Google sign-in is off.
    #[error("google sign-in is not configured")]
    GoogleNotConfigured,
    /// The ID token failed a check (the reason is for the log only).
    #[error("google token refused: {0}")]
    InvalidGoogleToken(&'static str),
    /// A valid token for an address Google has not verified.
    #[error("google e-mail not verified")]
    EmailNotVerified,
    /// The address belongs to an account linked to another Google account.
    #[error("google account mismatch")]
    GoogleAccountMismatch,
}

impl AuthError {
    pub fn bad_input(code: &'static str, message: impl Into<String>) -> Self {
        AuthError::BadInput {
            code,
            message: message.into(),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AuthError::BadInput { code, .. } => code,
            AuthError::TooLarge => "payload_too_large",
            AuthError::EmailTaken => "email_taken",
            AuthError::InvalidCredentials => "invalid_credentials",
            AuthError::Unauthenticated => "unauthenticated",
            AuthError::RefreshRefused(_) => "invalid_refresh_token",
            AuthError::Forbidden(code) => code,
            AuthError::AccountThrottled { .. } => "too_many_attempts",
            AuthError::GoogleNotConfigured => "google_not_configured",
            AuthError::InvalidGoogleToken(_) => "invalid_google_token",
            AuthError::EmailNotVerified => "email_not_verified",
            AuthError::GoogleAccountMismatch => "google_account_mismatch",
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        let code = e.code();
        match e {
            AuthError::BadInput { message, .. } => ApiError::bad_request(code, message),
            AuthError::TooLarge => ApiError::payload_too_large(),
            AuthError::EmailTaken => ApiError::new(409, code, EMAIL_TAKEN),
            AuthError::InvalidCredentials => ApiError::new(401, code, INVALID_CREDENTIALS),
            AuthError::Unauthenticated => ApiError::unauthenticated(),
            AuthError::RefreshRefused(_) => {
                ApiError::new(401, code, "Refresh token is missing, invalid or expired")
            }
            AuthError::Forbidden(code) => ApiError::forbidden(code),
            AuthError::AccountThrottled { retry_after_secs } => ApiError {
                retry_after_secs: Some(retry_after_secs),
                ..ApiError::new(429, code, "Too many failed logins; try again later")
            },
            AuthError::GoogleNotConfigured => {
                ApiError::new(501, code, "Google sign-in is not configured")
            }
            AuthError::InvalidGoogleToken(_) => ApiError::new(401, code, "Invalid Google token"),
            AuthError::EmailNotVerified => {
                ApiError::new(401, code, "Google has not verified this account's e-mail")
            }
            AuthError::GoogleAccountMismatch => ApiError::new(
                409,
                code,
                "This e-mail belongs to an account linked to another Google account",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_email_and_wrong_password_look_the_same() {
        let e: ApiError = AuthError::InvalidCredentials.into();
        assert_eq!((e.status, e.message.as_str()), (401, INVALID_CREDENTIALS));
    }

    #[test]
    fn statuses_follow_the_contract() {
        let status = |e: AuthError| ApiError::from(e).status;
        assert_eq!(status(AuthError::bad_input("invalid_email", "x")), 400);
        assert_eq!(status(AuthError::TooLarge), 413);
        assert_eq!(status(AuthError::EmailTaken), 409);
        assert_eq!(status(AuthError::Unauthenticated), 401);
        assert_eq!(status(AuthError::RefreshRefused("reused")), 401);
        assert_eq!(status(AuthError::Forbidden("csrf_origin")), 403);
        assert_eq!(status(AuthError::GoogleNotConfigured), 501);
        assert_eq!(status(AuthError::InvalidGoogleToken("signature")), 401);
        assert_eq!(status(AuthError::EmailNotVerified), 401);
        assert_eq!(status(AuthError::GoogleAccountMismatch), 409);
        let throttled: ApiError = AuthError::AccountThrottled {
            retry_after_secs: 7,
        }
        .into();
        assert_eq!(
            (throttled.status, throttled.retry_after_secs),
            (429, Some(7))
        );
    }

    #[test]
    fn the_refusals_every_component_shares_keep_their_code_and_message() {
        let pair = |e: AuthError| {
            let api = ApiError::from(e);
            (api.status, api.code, api.message)
        };
        let expected = |status, code, message: &str| (status, code, message.to_string());
        assert_eq!(
            pair(AuthError::TooLarge),
            expected(413, "payload_too_large", "Request body too large")
        );
        assert_eq!(
            pair(AuthError::Unauthenticated),
            expected(401, "unauthenticated", "Authentication required")
        );
        assert_eq!(
            pair(AuthError::Forbidden("csrf_origin")),
            expected(403, "csrf_origin", "Request refused")
        );
    }
}
