//! Configuration, read from Spin variables once per request (a fresh instance per request).

use urr_component::{ApiError, Result, variable};
use urr_ratelimit::Limits;
use urr_tokens::{AllowedOrigins, KeySet, SigningKey};

pub struct Settings {
    pub key_prefix: String,
    pub public_keys: KeySet,
    pub allowed_origins: AllowedOrigins,
    pub trusted_client_ip_header: Option<String>,
    pub limits: Limits,
}

fn misconfigured(name: &str, err: impl std::fmt::Display) -> ApiError {
    eprintln!("variable `{name}` is invalid: {err}");
    ApiError::internal()
}

impl Settings {
    pub async fn load() -> Result<Self> {
        let public_keys = KeySet::parse(&variable("jwt_public_keys").await?)
            .map_err(|e| misconfigured("jwt_public_keys", e))?;
        let limits = Limits::parse(&variable("rate_limits").await?)
            .map_err(|e| misconfigured("rate_limits", e))?;
        let header = variable("trusted_client_ip_header").await?;
        Ok(Self {
            key_prefix: variable("key_prefix").await?,
            public_keys,
            allowed_origins: AllowedOrigins::parse(&variable("allowed_origins").await?),
            trusted_client_ip_header: Some(header.trim().to_ascii_lowercase())
                .filter(|h| !h.is_empty()),
            limits,
        })
    }
}

/// The current signing key (only the two auth components declare it).
pub async fn signing_key() -> Result<SigningKey> {
    let pem = variable("jwt_signing_key").await?;
    let kid = variable("jwt_signing_kid").await?;
    SigningKey::from_pem(&pem, &kid).map_err(|e| misconfigured("jwt_signing_key", e))
}
