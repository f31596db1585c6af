//! The spin-sdk side of booking, shared by components `seat-lock`, `reserve` and
//! `reservations` so each handler stays thin: settings from variables, the admitted caller
//! (`urr_component::Caller`, and a Postgres budget for reserve while Redis is down),
//! the waiting-room gate (entry token + live slot), script runs with mixed arguments, one-call
//! SQL with store failures mapped, and refusals as responses. `free` is also used by the
//! components that cancel (`payments`, `admin`). Decisions live in `urr-booking`.

pub mod entry;
pub mod free;
pub mod settings;
pub mod store;

pub use settings::BookingSettings;

use spin_sdk::http::Request;
use urr_booking::BookingError;
use urr_component::ratelimit::limited;
use urr_component::store::RedisDown;
use urr_component::{Access, ApiError, Caller, RedisPolicy, Response};
use urr_ratelimit::Category;

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

/// Booking settings and the admitted caller ([`Caller::admit`]): what every booking route
/// checks before it reads its body.
pub async fn admit(
    req: &Request,
    access: Access,
    category: Category,
    policy: RedisPolicy,
) -> Result<(BookingSettings, Caller), Refusal> {
    let settings = BookingSettings::load().await?;
    let caller = Caller::admit(req, &settings.session, access, category, policy).await?;
    Ok((settings, caller))
}

/// Charges the caller's per-minute `category` budget in Postgres (`booking_fallback_charge`)
/// when Redis could not count the request: reserve may go on with Postgres alone, but not
/// without a limit (one buyer could otherwise cost it a transaction per call). One extra round
/// trip, only while Redis is down.
pub async fn charge_uncounted_in_postgres(
    caller: &Caller,
    settings: &BookingSettings,
    category: Category,
) -> Result<(), Refusal> {
    if caller.counted {
        return Ok(());
    }
    let per_minute = settings.session.limits.quota(category).per_minute;
    let rows = store::STORE
        .query(
            urr_booking::sql::FALLBACK_CHARGE,
            vec![
                spin_sdk::pg::ParameterValue::Uuid(caller.user.user_id.clone()),
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
        Ok(secs) => Err(limited(secs).into()),
        Err(_) => Err(ApiError::internal().into()),
    }
}

/// The longest `Retry-After` of a hold refused by the hold script's own rate limit: its windows
/// are seconds, so only a corrupt reply could ask for more than fits, and a minute is then a wait
/// a buyer survives.
const HOLD_RETRY_AFTER_CAP_SECS: u32 = 60;

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
            let secs = retry_after_ms.max(1).unsigned_abs().div_ceil(1000);
            Err(ApiError {
                retry_after_secs: Some(u32::try_from(secs).unwrap_or(HOLD_RETRY_AFTER_CAP_SECS)),
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
