//! The shared GCRA limiter over Redis (the script and the quotas live in `urr-ratelimit`).
//!
//! Routes that need Redis to be correct (login, refresh, queue join, holds) charge with
//! [`decide`] and fail closed on [`RedisDown`]; public reads use [`charge_client_or_pass`], which
//! lets a request through when Redis cannot answer (reads must keep working in an outage).

use crate::store::{RedisDown, open_redis, run_script};
use crate::{ApiError, Result, variable};
use spin_sdk::http::Request;
use spin_sdk::redis::Connection;
use urr_ratelimit::{Category, Decision, GCRA_SCRIPT, GCRA_SCRIPT_SHA1, Identity, Limits, Quota};

/// The 429 of the contract: `Retry-After` header and `retryAfter` in the body.
pub fn limited(retry_after_secs: u32) -> ApiError {
    ApiError {
        retry_after_secs: Some(retry_after_secs),
        ..ApiError::new(429, "rate_limited", "Too many requests; try again later")
    }
}

/// The shortest `Retry-After` of a limiter refusal: a client told "0" retries at once.
pub const MIN_RETRY_AFTER_SECS: u32 = 1;

/// The 429 for a decision that did not allow the request.
pub fn refused(decision: Decision) -> ApiError {
    limited(decision.retry_after_secs().unwrap_or(MIN_RETRY_AFTER_SECS))
}

/// Runs the GCRA script for one key.
pub async fn decide(
    conn: &Connection,
    key: String,
    quota: Quota,
    commit: bool,
) -> std::result::Result<Decision, RedisDown> {
    let reply = run_script(
        conn,
        GCRA_SCRIPT,
        GCRA_SCRIPT_SHA1,
        &[key],
        &quota.script_args(1, commit),
    )
    .await?;
    Decision::from_reply(&reply).ok_or_else(|| RedisDown(format!("unexpected reply {reply:?}")))
}

/// The client's IP: the trusted proxy header named by `trusted_client_ip_header` when it is set
/// and present, else the peer address the runtime reports.
pub async fn client_ip(req: &Request) -> String {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let trusted_name = variable("trusted_client_ip_header")
        .await
        .map(|h| h.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let trusted = (!trusted_name.is_empty())
        .then(|| header(&trusted_name))
        .flatten();
    urr_ratelimit::client_ip(trusted, header("spin-client-addr"))
}

/// Charges one request of `category` to the client's IP; 429 over the quota. When Redis (or the
/// limiter's configuration) is unavailable the request passes, and the log says why: this is for
/// public reads, which must keep working in an outage.
pub async fn charge_client_or_pass(req: &Request, category: Category) -> Result<()> {
    let Ok(conn) = open_redis().await else {
        return Ok(());
    };
    let (Ok(prefix), Ok(limits)) = (variable("key_prefix").await, variable("rate_limits").await)
    else {
        return Ok(());
    };
    let limits = match Limits::parse(&limits) {
        Ok(limits) => limits,
        Err(e) => {
            eprintln!("variable `rate_limits` is invalid: {e}");
            return Ok(());
        }
    };
    let key = urr_ratelimit::limiter_key(&prefix, category, &Identity::Ip(client_ip(req).await));
    match decide(&conn, key, limits.quota(category), true).await {
        Ok(Decision::Allowed { .. }) => Ok(()),
        Ok(over) => Err(refused(over)),
        Err(RedisDown(e)) => {
            eprintln!("redis: rate limit skipped: {e}");
            Ok(())
        }
    }
}
