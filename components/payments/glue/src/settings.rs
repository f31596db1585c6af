//! Configuration, read from Spin variables once per request (a fresh instance per request).

use urr_auth_session::Settings;
use urr_component::{ApiError, Result, variable};

/// Added to the provider timeout before a `processing` payment counts as unknown: the guest
/// abandons its provider call at the timeout, and this margin covers the host tearing the
/// connection down, so a request still on the wire is never reconciled as "never captured".
pub const STALE_MARGIN_MS: u32 = 2_000;
/// Bounds of `payment_provider_timeout_ms`: below 100 ms every charge would time out; above
/// 10 s the host's own outbound deadline ends the call first.
pub const MIN_PROVIDER_TIMEOUT_MS: u32 = 100;
pub const MAX_PROVIDER_TIMEOUT_MS: u32 = 10_000;

pub struct PaySettings {
    pub session: Settings,
    /// `scheme://host[:port]` of the provider's API (also the allowed outbound host).
    pub provider_url: String,
    pub secret_key: String,
    /// The provider's public key, handed to the browser by `/payments/prepare`.
    pub client_key: String,
    pub webhook_secret: String,
    pub provider_timeout_ms: u32,
}

impl PaySettings {
    pub async fn load() -> Result<Self> {
        let timeout = variable("payment_provider_timeout_ms").await?;
        let provider_timeout_ms = timeout
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|ms| (MIN_PROVIDER_TIMEOUT_MS..=MAX_PROVIDER_TIMEOUT_MS).contains(ms))
            .ok_or_else(|| {
                eprintln!("variable `payment_provider_timeout_ms` is invalid: `{timeout}`");
                ApiError::internal()
            })?;
        Ok(Self {
            session: Settings::load().await?,
            provider_url: variable("payment_provider_url").await?,
            secret_key: variable("payment_provider_secret_key").await?,
            client_key: variable("payment_client_key").await?,
            webhook_secret: variable("payment_webhook_secret").await?,
            provider_timeout_ms,
        })
    }

    /// How old a `processing` payment must be before its outcome counts as unknown.
    pub fn stale_after_ms(&self) -> i32 {
        i32::try_from(self.provider_timeout_ms + STALE_MARGIN_MS).unwrap_or(i32::MAX)
    }

    pub fn provider(&self) -> urr_payments::provider::HttpProvider {
        urr_payments::provider::HttpProvider::new(&self.provider_url, &self.secret_key)
    }
}
