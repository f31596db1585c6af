//! Configuration, read from Spin variables once per request: the session settings every
//! component shares, plus the queue's public keys and the booking lifetimes and caps.

use urr_booking::config::{
    DEFAULT_HOLD_TTL_SECS, DEFAULT_RESERVATION_TTL_SECS, HoldLimits, MAX_TTL_SECS, PurchaseLimits,
    parse_ttl_secs,
};
use urr_component::caller::misconfigured;
use urr_component::{Result, Settings, variable};
use urr_tokens::KeySet;

pub struct BookingSettings {
    pub session: Settings,
    /// Verifies entry tokens (`queue_public_keys`).
    pub queue_keys: KeySet,
    pub hold_ttl_secs: u32,
    pub reservation_ttl_secs: u32,
    pub hold_limits: HoldLimits,
    pub purchase_limits: PurchaseLimits,
}

impl BookingSettings {
    /// The reservation lifetime as the SQL functions take it (`integer`): bounded by
    /// `MAX_TTL_SECS` (an hour) when parsed, so it always fits.
    pub fn reservation_ttl_secs_i32(&self) -> i32 {
        i32::try_from(self.reservation_ttl_secs.min(MAX_TTL_SECS)).unwrap_or(i32::MAX)
    }

    pub async fn load() -> Result<Self> {
        let queue_keys = KeySet::parse(&variable("queue_public_keys").await?)
            .map_err(|e| misconfigured("queue_public_keys", e))?;
        let hold_ttl_secs = parse_ttl_secs(
            "hold_ttl_secs",
            &variable("hold_ttl_secs").await?,
            DEFAULT_HOLD_TTL_SECS,
        )
        .map_err(|e| misconfigured("hold_ttl_secs", e))?;
        let reservation_ttl_secs = parse_ttl_secs(
            "reservation_ttl_secs",
            &variable("reservation_ttl_secs").await?,
            DEFAULT_RESERVATION_TTL_SECS,
        )
        .map_err(|e| misconfigured("reservation_ttl_secs", e))?;
        let hold_limits = HoldLimits::parse(&variable("hold_limits").await?)
            .map_err(|e| misconfigured("hold_limits", e))?;
        let purchase_limits = PurchaseLimits::parse(&variable("purchase_limits").await?)
            .map_err(|e| misconfigured("purchase_limits", e))?;
        Ok(Self {
            session: Settings::load().await?,
            queue_keys,
            hold_ttl_secs,
            reservation_ttl_secs,
            hold_limits,
            purchase_limits,
        })
    }
}
