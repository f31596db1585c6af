//! Component `reserve`: `POST /seats/reserve` (seated) and `POST /reservations` (standing).
//!
//! A seated reserve has three phases. Phase 1 takes (or refreshes the caller's own) Redis holds
//! and gets a fencing token: the fast filter that turns most losers away before Postgres.
//! Phases 2-3 are ONE SQL function call (`booking_reserve_seats`): seat rows locked in id
//! order, availability (an expired hold is free), version and fencing checks, the pending
//! reservation, its items and the idempotency record — all or nothing. Then the holds are set
//! to expire with the reservation. A refusal releases the holds this call took.
//!
//! With Redis down the reserve goes on with Postgres alone: no holds, the entry token's own
//! word, the buyer's rate limit kept in Postgres instead, and the SQL function derives the
//! fencing token from its rows and clock.

use spin_sdk::http::Request;
use spin_sdk::http_service;
use spin_sdk::pg::ParameterValue;
use spin_sdk::redis::Connection;
use urr_booking::idempotency::{reserve_hash, standing_hash};
use urr_booking::input::{ReserveRequest, StandingRequest};
use urr_booking::outcome::{ReserveOutcome, ReserveRow};
use urr_booking::route::ReserveRoute;
use urr_booking::scripts::{self, AlignTo, HoldTerms};
use urr_booking::{BookingError, sql};
use urr_booking_glue::entry::require_entry;
use urr_booking_glue::{
    BookingSettings, Handled, Refusal, charge_uncounted_in_postgres, held, no_store, respond, store,
};
use urr_component::pg::{optional_bytes, optional_text, text_array, uuid};
use urr_component::request::{body, route as api_route};
use urr_component::{Access, ApiError, Caller, RedisPolicy, Response, route_refused};
use urr_ratelimit::Category;

/// How many times a reserve whose hold lost to a newer token (Redis lost its counter and its
/// clock is behind) re-holds with the row's token as the floor and tries again.
const STALE_HOLD_RETRIES: u32 = 1;

#[http_service]
async fn handle(req: Request) -> Response {
    urr_component::edge(req, route).await
}

async fn route(req: Request) -> Response {
    match ReserveRoute::parse(req.method().as_str(), &api_route(&req)) {
        Ok(ReserveRoute::Seats) => respond(reserve_seats(req).await),
        Ok(ReserveRoute::Standing) => respond(reserve_standing(req).await),
        Err(refusal) => route_refused(refusal),
    }
}

/// What both routes check before the body: Redis if it answers, the user, the origin rule, and
/// the booking rate limit (charged in Postgres when Redis cannot count it).
async fn admit(req: &Request) -> Result<(BookingSettings, Caller), Refusal> {
    let (settings, caller) =
        urr_booking_glue::admit(req, Access::Read, Category::Booking, RedisPolicy::Optional)
            .await?;
    charge_uncounted_in_postgres(&caller, &settings, Category::Booking).await?;
    Ok((settings, caller))
}

fn idempotency_header(req: &Request) -> Option<String> {
    req.headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn reserve_row(rows: &[spin_sdk::pg::Row]) -> Result<ReserveRow, Refusal> {
    let row = rows.first().ok_or_else(ApiError::internal)?;
    let body = store::json_body(rows)?.unwrap_or_default();
    Ok(ReserveRow {
        outcome: row
            .get::<String>("outcome")
            .ok_or_else(ApiError::internal)?,
        http_status: row
            .get::<i32>("http_status")
            .ok_or_else(ApiError::internal)?,
        body,
        fencing_token: row.get::<Option<i64>>("fencing_token").flatten(),
        expires_at_ms: row.get::<Option<i64>>("expires_at_ms").flatten(),
    })
}

/// Phase 1: the caller's holds and their token; `Ok(None)` when Redis fails mid-way (the
/// reserve goes on with Postgres alone).
async fn take_holds(
    conn: &Connection,
    settings: &BookingSettings,
    user_id: &str,
    request: &ReserveRequest,
    token_floor: i64,
) -> Result<Option<i64>, Refusal> {
    // Never longer than the reservation these holds are for: taken before it, they then end
    // before it does even when aligning them fails, so an expired reservation never leaves a
    // hold behind that refuses its seats to the next buyer.
    let ttl_secs = settings.hold_ttl_secs.min(settings.reservation_ttl_secs);
    let terms = HoldTerms {
        ttl_ms: i64::from(ttl_secs) * 1000,
        limits: settings.hold_limits,
        token_floor,
    };
    let call = scripts::hold(
        &settings.session.key_prefix,
        &request.event_id,
        user_id,
        &request.seats,
        terms,
    );
    let answer = match store::run(conn, &call).await {
        Ok(answer) => answer,
        Err(e) => {
            eprintln!("reserve without holds, redis: {}", e.0);
            return Ok(None);
        }
    };
    match held(&answer, &request.seats, settings) {
        Ok((token, _)) => Ok(Some(token)),
        // The held-at-once cap counts holds that already became reservations (and holds of
        // reservations cancelled since): the purchase cap in Postgres is the one that decides
        // here, so go on without holds and let it answer.
        Err(Refusal::Booking(BookingError::HoldLimit { .. })) => Ok(None),
        Err(refusal) => Err(refusal),
    }
}

/// Runs a follow-up hold script (align, release); its failure only costs the fast filter.
async fn run_follow_up(conn: &Connection, call: &scripts::ScriptCall, what: &str) {
    if let Err(e) = store::run(conn, call).await {
        eprintln!("{what} skipped, redis: {}", e.0);
    }
}

async fn reserve_seats(req: Request) -> Handled {
    let (settings, caller) = admit(&req).await?;
    let redis = caller.redis.as_ref();
    let headers = req.headers().clone();
    let key_header = idempotency_header(&req);
    let request = ReserveRequest::parse(&body(req).await?, key_header.as_deref())?;
    let user_id = caller.user.user_id.as_str();
    require_entry(&headers, &settings, user_id, &request.event_id, redis).await?;
    let hash = request
        .idempotency_key
        .as_ref()
        .map(|_| reserve_hash(&request));
    let prefix = settings.session.key_prefix.as_str();

    let mut token_floor = 0;
    let mut attempt = 0;
    loop {
        let token = match redis {
            Some(conn) => take_holds(conn, &settings, user_id, &request, token_floor).await?,
            None => None,
        };
        let rows = store::STORE
            .query(
                sql::RESERVE_SEATS,
                vec![
                    uuid(user_id),
                    uuid(request.event_id.as_str()),
                    text_array(request.seats.strings()),
                    token.map_or(ParameterValue::DbNull, ParameterValue::Int64),
                    ParameterValue::Int32(settings.reservation_ttl_secs_i32()),
                    ParameterValue::Int32(
                        i32::try_from(settings.purchase_limits.seats).unwrap_or(i32::MAX),
                    ),
                    optional_text(request.idempotency_key.as_deref()),
                    optional_bytes(hash.clone()),
                ],
            )
            .await?;
        let outcome = reserve_row(&rows)?.outcome().ok_or_else(|| {
            eprintln!("reserve: unknown outcome");
            ApiError::internal()
        })?;
        let (Some(conn), Some(token)) = (redis, token) else {
            return finish(outcome);
        };
        let release =
            || scripts::release(prefix, &request.event_id, user_id, &request.seats, token);
        match outcome {
            ReserveOutcome::Respond {
                expires_at_ms: Some(at),
                fencing_token,
                ..
            } => {
                // A replay took fresh holds under a new token: they carry the reservation's
                // own from now on, the one its cancel frees them by.
                let to = AlignTo {
                    hold_token: token,
                    reservation_token: fencing_token.unwrap_or(token),
                    expires_at_ms: at,
                };
                let call = scripts::align(prefix, &request.event_id, user_id, &request.seats, to);
                run_follow_up(conn, &call, "aligning holds").await;
            }
            ReserveOutcome::Stale { row_token, .. } if attempt < STALE_HOLD_RETRIES => {
                attempt += 1;
                token_floor = row_token;
                continue;
            }
            ReserveOutcome::Respond { .. } => {}
            // A concurrent call with the same key owns these holds now: leave them.
            ReserveOutcome::Refused(
                BookingError::IdempotencyInFlight | BookingError::IdempotencyMismatch,
            ) => {}
            ReserveOutcome::Stale { .. } | ReserveOutcome::Refused(_) => {
                run_follow_up(conn, &release(), "releasing holds").await;
            }
        }
        return finish(outcome);
    }
}

fn finish(outcome: ReserveOutcome) -> Handled {
    match outcome {
        ReserveOutcome::Respond { status, body, .. } => {
            Ok(no_store(urr_component::json(status, &body)))
        }
        ReserveOutcome::Stale { seats, .. } => Err(BookingError::StaleHold { seats }.into()),
        ReserveOutcome::Refused(e) => Err(e.into()),
    }
}

async fn reserve_standing(req: Request) -> Handled {
    let (settings, caller) = admit(&req).await?;
    let redis = caller.redis.as_ref();
    let headers = req.headers().clone();
    let key_header = idempotency_header(&req);
    let request = StandingRequest::parse(&body(req).await?, key_header.as_deref())?;
    let user_id = caller.user.user_id.as_str();
    require_entry(&headers, &settings, user_id, &request.event_id, redis).await?;
    let hash = request
        .idempotency_key
        .as_ref()
        .map(|_| standing_hash(&request));
    let rows = store::STORE
        .query(
            sql::RESERVE_STANDING,
            vec![
                uuid(user_id),
                uuid(request.event_id.as_str()),
                text_array(
                    request
                        .items
                        .iter()
                        .map(|i| i.ticket_type_id.as_str().to_string()),
                ),
                text_array(request.items.iter().map(|i| i.quantity.to_string())),
                ParameterValue::Int32(settings.reservation_ttl_secs_i32()),
                ParameterValue::Int32(
                    i32::try_from(settings.purchase_limits.standing).unwrap_or(i32::MAX),
                ),
                optional_text(request.idempotency_key.as_deref()),
                optional_bytes(hash),
            ],
        )
        .await?;
    let outcome = reserve_row(&rows)?.outcome().ok_or_else(|| {
        eprintln!("reserve standing: unknown outcome");
        ApiError::internal()
    })?;
    finish(outcome)
}
