//! The rate limiter over Redis: the auth category per user else per IP, and the per-account
//! login throttle. Login, register and refresh fail closed when Redis is down (the caller passes
//! the connection result straight through); other routes may proceed.

use spin_sdk::redis::Connection;
use urr_component::ratelimit::{decide, refused};
use urr_component::store::run_script;
use urr_component::{Result, Settings};
use urr_ratelimit::{Category, Decision, Identity, Quota};

/// Charges one auth-category request to `identity`: 429 with Retry-After over the quota, 503
/// when Redis fails (fail closed).
pub async fn charge(conn: &Connection, settings: &Settings, identity: &Identity) -> Result<()> {
    let key = urr_ratelimit::limiter_key(&settings.key_prefix, Category::Auth, identity);
    match decide(conn, key, settings.limits.quota(Category::Auth), true).await? {
        Decision::Allowed { .. } => Ok(()),
        over => Err(refused(over)),
    }
}

/// Like [`charge`], but a Redis failure lets the request through (routes that need no Redis to
/// be correct: me, logout, verify-token).
pub async fn charge_or_pass(
    conn: Option<&Connection>,
    settings: &Settings,
    identity: &Identity,
) -> Result<()> {
    let Some(conn) = conn else { return Ok(()) };
    match charge(conn, settings, identity).await {
        Err(e) if e.status == 503 => Ok(()),
        other => other,
    }
}

/// Gives one charge back to `key`, charged under `quota` (the login throttle: a right password,
/// or an attempt that never reached the check, costs nothing). A Redis failure only costs the
/// account that one attempt, so it is logged, not answered.
pub async fn give_back(conn: &Connection, key: String, quota: Quota) {
    if let Err(e) = run_script(
        conn,
        urr_auth::throttle::GIVE_BACK_SCRIPT,
        urr_auth::throttle::GIVE_BACK_SCRIPT_SHA1,
        &[key],
        &urr_auth::throttle::give_back_args(quota),
    )
    .await
    {
        eprintln!("login throttle: giving a charge back failed: {}", e.0);
    }
}
