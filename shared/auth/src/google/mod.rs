//! Google sign-in (`POST /auth/google`): the Google Identity Services ID token a browser hands
//! us, verified locally against Google's published keys, never by asking Google about the token.
//!
//! - `keys`  — the published key set (JWKS): parsing, how long a fetched set is cached, and when
//!   an unknown key id may trigger a refetch
//! - `token` — the ID token: shape and header checks before any key is touched, the RS256
//!   signature, then the claims (`iss`, `aud`, `exp`/`iat`/`nbf`, `sub`, `email`,
//!   `email_verified`) into a [`GoogleIdentity`]
//!
//! Configuration is two variables: `google_client_id` (empty: sign-in is off, 501) and
//! `google_jwks_url`. The body is `{credential}`.

pub mod keys;
pub mod token;

pub use keys::{GoogleKeys, KeysPlan};
pub use token::{GoogleIdentity, UnverifiedIdToken};

use crate::AuthError;
use crate::input::json_object;
use serde_json::Value;

/// The issuers Google writes into ID tokens (both spellings are in use).
pub const GOOGLE_ISSUERS: [&str; 2] = ["accounts.google.com", "https://accounts.google.com"];
/// Google's published key set (JWKS), the default of `google_jwks_url`.
pub const DEFAULT_JWKS_URL: &str = "https://www.googleapis.com/oauth2/v3/certs";

/// `google_client_id` spelling "no client": a parameter store that cannot hold an empty value
/// (AWS SSM) says this instead.
pub const OFF: &str = "off";

/// What the component reads from its variables: sign-in is on only with a client id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoogleSettings {
    /// The OAuth client id the web app was built with; ID tokens must name it as `aud`.
    pub client_id: String,
    /// Where the key set is fetched (GET, over an allowed outbound host).
    pub jwks_url: String,
}

impl GoogleSettings {
    /// `None` when no client id is configured, empty or [`OFF`] (the feature is off); an error
    /// names what is wrong with a configured one.
    pub fn parse(client_id: &str, jwks_url: &str) -> Result<Option<Self>, String> {
        let client_id = client_id.trim();
        if client_id.is_empty() || client_id == OFF {
            return Ok(None);
        }
        if client_id.len() > 256 || !client_id.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("google_client_id must be printable ASCII, at most 256 bytes".into());
        }
        let jwks_url = jwks_url.trim();
        let has_scheme = jwks_url.starts_with("https://") || jwks_url.starts_with("http://");
        if !has_scheme || jwks_url.len() > 2048 || jwks_url.contains(char::is_whitespace) {
            return Err("google_jwks_url must be an http(s) URL".into());
        }
        Ok(Some(Self {
            client_id: client_id.to_string(),
            jwks_url: jwks_url.to_string(),
        }))
    }
}

/// `{credential}` → the ID token text. A missing or blank credential is 400 `missing_field`;
/// what the token says is judged by [`UnverifiedIdToken::decode`].
pub fn parse_sign_in(body: &[u8]) -> Result<String, AuthError> {
    let map = json_object(body)?;
    match map.get("credential") {
        None | Some(Value::Null) => Err(missing_credential()),
        Some(Value::String(s)) if s.trim().is_empty() => Err(missing_credential()),
        Some(Value::String(s)) => Ok(s.trim().to_string()),
        Some(_) => Err(AuthError::bad_input(
            "invalid_type",
            "Field `credential` must be a string",
        )),
    }
}

fn missing_credential() -> AuthError {
    AuthError::bad_input(
        "missing_field",
        "Field `credential` is required (Google credential is required)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_client_id_means_sign_in_is_off() {
        assert_eq!(GoogleSettings::parse("", DEFAULT_JWKS_URL), Ok(None));
        assert_eq!(GoogleSettings::parse("  ", DEFAULT_JWKS_URL), Ok(None));
        assert_eq!(GoogleSettings::parse("off", DEFAULT_JWKS_URL), Ok(None));
        let on = GoogleSettings::parse(" 123.apps.googleusercontent.com ", DEFAULT_JWKS_URL)
            .expect("valid")
            .expect("on");
        assert_eq!(on.client_id, "123.apps.googleusercontent.com");
        assert!(GoogleSettings::parse("id", "ftp://x/certs").is_err());
        assert!(GoogleSettings::parse("id with space", DEFAULT_JWKS_URL).is_err());
    }

    #[test]
    fn the_body_is_one_credential() {
        assert_eq!(
            parse_sign_in(br#"{"credential":" a.b.c "}"#),
            Ok("a.b.c".into())
        );
        let code = |body: &[u8]| parse_sign_in(body).expect_err("refused").code();
        assert_eq!(code(b"{}"), "missing_field");
        assert_eq!(code(br#"{"credential":null}"#), "missing_field");
        assert_eq!(code(br#"{"credential":"  "}"#), "missing_field");
        assert_eq!(code(br#"{"credential":5}"#), "invalid_type");
        assert_eq!(code(b"not json"), "invalid_json");
        assert_eq!(code(b"[]"), "invalid_json");
    }
}
