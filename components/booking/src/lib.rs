//! The spin-sdk side of booking, shared by components `seat-lock`, `reserve` and
//! `reservations` so each handler stays thin: settings from variables, the signed-in user and
//! the rate limit (the session crate's, or a Postgres budget for reserve while Redis is down),
//! the waiting-room gate (entry token + live slot), script runs with mixed arguments, one-call
//! SQL with store failures mapped, and refusals as responses. `free` is also used by the
//! components that cancel (`payments`, `admin`). Decisions live in `urr-booking`.

pub mod entry;
pub mod free;
pub mod settings;
pub mod store;

pub use settings::BookingSettings;

use urr_auth_session::store::RedisDown;
use urr_booking::BookingError;
use urr_component::{ApiError, Response};
use urr_ratelimit::{Category, Decision, Identity};

/// Why a handler did not produce its response.
#[derive(Debug)]
pub enum Refusal {
    Api(ApiError),
    Booking(BookingError),
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Self::Api(e)
    }
}

impl From<BookingError> for Refusal {
    fn from(e: BookingError) -> Self {
        Self::Booking(e)
    }
}

impl From<RedisDown> for Refusal {
    fn from(e: RedisDown) -> Self {
        Self::Api(e.into())
    }
}

pub type Handled = Result<Response, Refusal>;

/// The response for a handler's result (refusals in the contract's error shape).
pub fn respond(result: Handled) -> Response {
    match result {
        Ok(response) => response,
        Err(Refusal::Api(e)) => urr_component::error(&e),
        Err(Refusal::Booking(e)) => urr_component::json(e.status(), &e.body()),
    }
}

/// Booking answers are per user and change by the second: never cached anywhere.
pub fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    response
}

/// What the rate limit does when Redis cannot answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WithoutRedis {
    /// 503 (holds: Redis is their store).
    FailClosed,
    /// Go on without a limit (reads, which Postgres answers as they are).
    Pass,
    /// Charge the user's budget in Postgres instead (reserve, which may go on with Postgres
    /// alone, but not without a limit: one buyer could otherwise cost it a transaction per call).
    PostgresBudget,
}

/// Charges one request of `category` to `identity`, or, when Redis cannot answer, does what
/// `without_redis` says.
pub async fn charge(
    redis: Option<&spin_sdk::redis::Connection>,
    settings: &BookingSettings,
    identity: &Identity,
    category: Category,
    without_redis: WithoutRedis,
) -> Result<(), Refusal> {
    let quota = settings.session.limits.quota(category);
    let down = |why: String| async move {
        match without_redis {
            WithoutRedis::FailClosed => Err(RedisDown(why).into()),
            WithoutRedis::Pass => {
                eprintln!("rate limiter skipped, redis: {why}");
                Ok(())
            }
            WithoutRedis::PostgresBudget => postgres_budget(identity, quota.per_minute).await,
        }
    };
    let Some(conn) = redis else {
        return down("no connection".into()).await;
    };
    let key = urr_ratelimit::limiter_key(&settings.session.key_prefix, category, identity);
    match urr_auth_session::limits::decide(conn, key, quota, true).await {
        Ok(Decision::Allowed { .. }) => Ok(()),
        Ok(limited) => Err(rate_limited(limited.retry_after_secs().unwrap_or(1))),
        Err(e) => down(e.0).await,
    }
}

fn rate_limited(retry_after_secs: u32) -> Refusal {
    ApiError {
        retry_after_secs: Some(retry_after_secs),
        ..ApiError::new(429, "rate_limited", "Too many requests; try again later")
    }
    .into()
}

/// The same per-minute budget, kept in Postgres (`booking_fallback_charge`): one extra round
/// trip, only while Redis is down. Only a user has a budget there (ids are UUIDs).
async fn postgres_budget(identity: &Identity, per_minute: u32) -> Result<(), Refusal> {
    let Identity::User(user_id) = identity else {
        return Ok(());
    };
    let rows = store::query(
        urr_booking::sql::FALLBACK_CHARGE,
        vec![
            spin_sdk::pg::ParameterValue::Uuid(user_id.clone()),
            spin_sdk::pg::ParameterValue::Int32(i32::try_from(per_minute).unwrap_or(i32::MAX)),
        ],
    )
    .await?;
    let wait = rows
        .first()
        .and_then(|r| r.get::<i32>("retry_after_secs"))
        .ok_or_else(ApiError::internal)?;
    match u32::try_from(wait) {
        Ok(0) => Ok(()),
        Ok(secs) => Err(rate_limited(secs)),
        Err(_) => Err(ApiError::internal().into()),
    }
}

/// The hold script's answer as `(token, expires_at_ms)`, or the refusal the client sees.
pub fn held(
    answer: &[i64],
    seats: &urr_booking::SeatSet,
    settings: &BookingSettings,
) -> Result<(i64, i64), Refusal> {
    use urr_booking::scripts::HoldReply;
    match HoldReply::from_reply(answer, seats) {
        Some(HoldReply::Held {
            token,
            expires_at_ms,
        }) => Ok((token, expires_at_ms)),
        Some(HoldReply::Taken(seats)) => Err(BookingError::SeatTaken { seats }.into()),
        Some(HoldReply::TooManyHeld { .. }) => Err(BookingError::HoldLimit {
            limit: i64::from(settings.hold_limits.max_seats_held),
        }
        .into()),
        Some(HoldReply::RateLimited { retry_after_ms }) => {
            let secs = u64::try_from(retry_after_ms.max(1))
                .unwrap_or(1)
                .div_ceil(1000);
            Err(ApiError {
                retry_after_secs: Some(u32::try_from(secs).unwrap_or(60)),
                ..ApiError::new(429, "rate_limited", "Too many holds; try again later")
            }
            .into())
        }
        None => {
            eprintln!("hold script: unexpected reply {answer:?}");
            Err(ApiError::internal().into())
        }
    }
}
