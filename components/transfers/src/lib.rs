//! Component `transfers`, as the `urr_transfers` database role (signed-in users only):
//!
//! - `POST /transfers {reservationId}`   — `transfer_list`: the caller's confirmed reservation
//!   listed whole, at face value plus the fee of the seller's tier
//! - `GET /transfers?artistId&page&limit` — listings still for sale, newest first
//! - `GET /transfers/my`                 — the caller's listings as seller, every status
//! - `GET /transfers/{id}`               — one listing (`buyer_id` only to seller and buyer)
//! - `POST /transfers/{id}/cancel`       — `transfer_cancel`: the seller ends a live listing
//!
//! Buying is `pay`'s (`paymentType: "transfer"`): the capture's transaction sells the ticket.
//! The role runs these five functions and reads no table. Writes check the session deny-list
//! and are charged to the caller's `booking` quota, the per-user write limit; reads are charged
//! to `default` and pass uncounted when Redis is down. Seat holds and the waiting room do not
//! apply: a listing is one row, sold by one row lock at capture time. Nothing is cacheable.

use spin_sdk::http::Request;
use spin_sdk::http_service;
use spin_sdk::pg::ParameterValue;
use urr_component::pg::{Store, column, optional, optional_text, uuid};
use urr_component::request::{body, route as api_route};
use urr_component::{
    Access, ApiError, Caller, RedisPolicy, Response, Result, Settings, json_text, respond,
    route_refused,
};
use urr_fan::sql;
use urr_fan::transfer::{Browse, MAX_MY_TRANSFERS, TransferRoute, parse_listing, total_pages};
use urr_fan::{FanError, Id};
use urr_ratelimit::Category;

const STORE: Store = Store::new("transfers");

#[http_service]
async fn handle(req: Request) -> Response {
    urr_component::edge(req, route).await
}

async fn route(req: Request) -> Response {
    let route = match TransferRoute::parse(req.method().as_str(), &api_route(&req)) {
        Ok(route) => route,
        Err(refusal) => return route_refused(refusal),
    };
    respond(match route {
        TransferRoute::List => list(req).await,
        TransferRoute::Browse => browse(req).await,
        TransferRoute::Mine => mine(req).await,
        TransferRoute::Detail(id) => detail(req, &id).await,
        TransferRoute::Cancel(id) => cancel(req, &id).await,
    })
}

/// The signed-in caller of a read: the token's word stands when Redis cannot say.
async fn reader(req: &Request) -> Result<Caller> {
    let settings = Settings::load().await?;
    Caller::admit(
        req,
        &settings,
        Access::Read,
        Category::Default,
        RedisPolicy::Optional,
    )
    .await
}

/// The signed-in caller of a write, charged to the per-user write quota.
async fn writer(req: &Request) -> Result<Caller> {
    let settings = Settings::load().await?;
    Caller::admit(
        req,
        &settings,
        Access::Write,
        Category::Booking,
        RedisPolicy::Optional,
    )
    .await
}

/// A refusal a SQL function named; an outcome this crate does not know is a bug, not the
/// caller's fault.
fn refused(outcome: &str) -> ApiError {
    FanError::from_outcome(outcome)
        .map(ApiError::from)
        .unwrap_or_else(|| {
            eprintln!("transfers: unexpected outcome `{outcome}`");
            ApiError::internal()
        })
}

/// `{reservationId}` → 200 `{transfer, message}` (200, not 201, as URR answers).
async fn list(req: Request) -> Result<Response> {
    let caller = writer(&req).await?;
    let request = parse_listing(&body(req).await?)?;
    let row = STORE
        .one(
            sql::LIST_TRANSFER,
            vec![
                uuid(&caller.user.user_id),
                uuid(request.reservation_id.as_str()),
            ],
        )
        .await?;
    let outcome: String = column(&row, "outcome")?;
    if outcome != "listed" {
        return Err(refused(&outcome));
    }
    let transfer: String = column(&row, "transfer")?;
    Ok(json_text(
        200,
        format!(r#"{{"transfer":{transfer},"message":"Transfer listed successfully"}}"#),
    ))
}

async fn browse(req: Request) -> Result<Response> {
    let caller = reader(&req).await?;
    let query = Browse::parse(req.uri().query().unwrap_or(""))?;
    let page = query.page;
    let row = STORE
        .one(
            sql::BROWSE_TRANSFERS,
            vec![
                uuid(&caller.user.user_id),
                optional_text(query.artist_id.as_ref().map(Id::as_str)),
                int(page.limit)?,
                int(page.offset())?,
            ],
        )
        .await?;
    let total: i64 = column(&row, "total")?;
    let transfers: String = column(&row, "transfers")?;
    // The page is JSON Postgres wrote; only the envelope is built here.
    Ok(json_text(
        200,
        format!(
            r#"{{"transfers":{transfers},"pagination":{{"page":{},"limit":{},"total":{total},"totalPages":{}}}}}"#,
            page.page,
            page.limit,
            total_pages(total.max(0), page.limit)
        ),
    ))
}

async fn mine(req: Request) -> Result<Response> {
    let caller = reader(&req).await?;
    let row = STORE
        .one(
            sql::MY_TRANSFERS,
            vec![uuid(&caller.user.user_id), int(MAX_MY_TRANSFERS)?],
        )
        .await?;
    let transfers: String = column(&row, "transfers")?;
    Ok(json_text(200, format!(r#"{{"transfers":{transfers}}}"#)))
}

async fn detail(req: Request, id: &Id) -> Result<Response> {
    let caller = reader(&req).await?;
    let row = STORE
        .one(
            sql::TRANSFER_DETAIL,
            vec![uuid(id.as_str()), uuid(&caller.user.user_id)],
        )
        .await?;
    let transfer: String = optional(&row, "transfer")?.ok_or(FanError::TransferNotFound)?;
    Ok(json_text(200, format!(r#"{{"transfer":{transfer}}}"#)))
}

async fn cancel(req: Request, id: &Id) -> Result<Response> {
    let caller = writer(&req).await?;
    let row = STORE
        .one(
            sql::CANCEL_TRANSFER,
            vec![uuid(&caller.user.user_id), uuid(id.as_str())],
        )
        .await?;
    let outcome: String = column(&row, "outcome")?;
    if outcome != "cancelled" {
        return Err(refused(&outcome));
    }
    Ok(json_text(
        200,
        r#"{"message":"Transfer cancelled"}"#.to_string(),
    ))
}

/// A bounded count or offset as the `int4` the functions take (paging keeps them far below).
fn int(value: i64) -> Result<ParameterValue> {
    i32::try_from(value)
        .map(ParameterValue::Int32)
        .map_err(|_| ApiError::internal())
}
