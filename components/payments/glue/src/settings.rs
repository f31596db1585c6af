//! Configuration, read from Spin variables once per request (a fresh instance per request).

use urr_component::{ApiError, Result, Settings, variable};

/// Added to the provider timeout before a `processing` payment counts as unknown: the guest
/// abandons its provider call at the timeout, and this margin covers the host tearing the
/// connection down, so a request still on the wire is never reconciled as "never captured".
pub const STALE_MARGIN_MS: u32 = 2_000;
/// Bounds of `payment_provider_timeout_ms`: below 100 ms every charge would time out; above
/// 10 s the host's own outbound deadline ends the call first.
pub const MIN_PROVIDER_TIMEOUT_MS: u32 = 100;
pub const MAX_PROVIDER_TIMEOUT_MS: u32 = 10_000;
/// `Retry-After` while payments refuse the mock's published values: a deploy has to fix it.
pub const NOT_CONFIGURED_RETRY_AFTER_SECS: u32 = 60;

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
        let settings = Self {
            session: Settings::load().await?,
            provider_url: variable("payment_provider_url").await?,
            secret_key: variable("payment_provider_secret_key").await?,
            client_key: variable("payment_client_key").await?,
            webhook_secret: variable("payment_webhook_secret").await?,
            provider_timeout_ms,
        };
        settings.refuse_development_values().await?;
        Ok(settings)
    }

    /// The mock provider's published keys and webhook secret are for development only: with
    /// them anyone could sign a webhook. Spin runs none of the host's boot checks, so payments
    /// refuse them here (503) unless `development_mode` is on (`urr_payments::development`).
    async fn refuse_development_values(&self) -> Result<()> {
        use urr_payments::development::{DEVELOPMENT_MODE_VARIABLE, is_on, refused};
        let development = variable(DEVELOPMENT_MODE_VARIABLE)
            .await
            .is_ok_and(|v| is_on(&v));
        let names = refused(
            development,
            &[
                ("payment_provider_secret_key", &self.secret_key),
                ("payment_client_key", &self.client_key),
                ("payment_webhook_secret", &self.webhook_secret),
            ],
        );
        if names.is_empty() {
            return Ok(());
        }
        eprintln!(
            "payments refused: variables {} hold the mock provider's published development \
             values and `{DEVELOPMENT_MODE_VARIABLE}` is not `true`; set the real values",
            names.join(", ")
        );
        Err(ApiError::unavailable(
            "payments_not_configured",
            "Payments are not available right now",
            NOT_CONFIGURED_RETRY_AFTER_SECS,
        ))
    }

    /// How old a `processing` payment must be before its outcome counts as unknown.
    pub fn stale_after_ms(&self) -> i32 {
        i32::try_from(self.provider_timeout_ms + STALE_MARGIN_MS).unwrap_or(i32::MAX)
    }

    pub fn provider(&self) -> urr_payments::provider::HttpProvider {
        urr_payments::provider::HttpProvider::new(&self.provider_url, &self.secret_key)
    }
}
