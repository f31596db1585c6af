//! Component `memberships`, as the `urr_memberships` database role (signed-in users only):
//!
//! - `POST /memberships/subscribe {artistId}`    — `membership_subscribe`: the caller's membership
//!   as `pending`, to be paid through `/payments/*` with `paymentType: "membership"`
//! - `GET /memberships/my`                       — the caller's memberships
//! - `GET /memberships/my/{artistId}`            — one, with its newest points and benefits
//! - `GET /memberships/benefits/{artistId}`      — the caller's tier's benefits and the price
//!
//! Expiry is computed at read time (no worker): an active membership past `expires_at` reads as
//! `expired`, BRONZE, and counts for nothing. Reads are the caller's own rows only. Subscribe
//! checks the session deny-list (fails closed, 503, when Redis cannot say) and is charged to the
//! caller's `booking` quota, the per-user write limit; reads are charged to `default` and pass
//! uncounted when Redis is down. Nothing here is cacheable.

use serde_json::{Value, json};
use spin_sdk::http::Request;
use spin_sdk::http_service;
use spin_sdk::pg::ParameterValue;
use urr_component::pg::{Store, column, optional, uuid};
use urr_component::request::{body, route as api_route};
use urr_component::{
    Access, ApiError, Caller, RedisPolicy, Response, Result, Settings, json_text, respond,
    route_refused,
};
use urr_fan::input::parse_subscribe;
use urr_fan::route::MembershipRoute;
use urr_fan::sql::{self, MAX_MEMBERSHIPS, POINT_HISTORY_LIMIT};
use urr_fan::tier::{BenefitsReply, Tier};
use urr_fan::{FanError, Id};
use urr_ratelimit::Category;

const STORE: Store = Store::new("memberships");

#[http_service]
async fn handle(req: Request) -> Response {
    urr_component::edge(req, route).await
}

async fn route(req: Request) -> Response {
    let route = match MembershipRoute::parse(req.method().as_str(), &api_route(&req)) {
        Ok(route) => route,
        Err(refusal) => return route_refused(refusal),
    };
    respond(match route {
        MembershipRoute::Subscribe => subscribe(req).await,
        MembershipRoute::Mine => mine(req).await,
        MembershipRoute::MineFor(artist) => mine_for(req, &artist).await,
        MembershipRoute::Benefits(artist) => benefits(req, &artist).await,
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

/// `{artistId}` → 201 `{membershipId, artistId, artistName, price, status:"pending"}`, the same
/// pending membership on every repeat.
async fn subscribe(req: Request) -> Result<Response> {
    let settings = Settings::load().await?;
    let caller = Caller::admit(
        &req,
        &settings,
        Access::Write,
        Category::Booking,
        RedisPolicy::Optional,
    )
    .await?;
    let request = parse_subscribe(&body(req).await?)?;
    let row = STORE
        .one(
            sql::SUBSCRIBE,
            vec![uuid(&caller.user.user_id), uuid(request.artist_id.as_str())],
        )
        .await?;
    let outcome: String = column(&row, "outcome")?;
    if outcome != "subscribed" {
        return Err(FanError::from_outcome(&outcome)
            .map(ApiError::from)
            .unwrap_or_else(|| {
                eprintln!("memberships: unexpected outcome `{outcome}`");
                ApiError::internal()
            }));
    }
    Ok(urr_component::json(
        201,
        &json!({
            "membershipId": column::<String>(&row, "membership_id")?,
            "artistId": request.artist_id.as_str(),
            "artistName": column::<String>(&row, "artist_name")?,
            "price": column::<i64>(&row, "price")?,
            "status": column::<String>(&row, "status")?,
        }),
    ))
}

async fn mine(req: Request) -> Result<Response> {
    let caller = reader(&req).await?;
    let row = STORE
        .one(
            sql::MY_MEMBERSHIPS,
            vec![
                uuid(&caller.user.user_id),
                ParameterValue::Int64(MAX_MEMBERSHIPS),
            ],
        )
        .await?;
    let memberships: String = column(&row, "memberships")?;
    Ok(json_text(
        200,
        format!(r#"{{"memberships":{memberships}}}"#),
    ))
}

/// With a (non-pending) membership: `{membership, pointHistory, benefits}`; without one:
/// `{membership:{}, pointHistory:[], tier:"BRONZE"}` (an empty object, as URR sends).
async fn mine_for(req: Request, artist: &Id) -> Result<Response> {
    let caller = reader(&req).await?;
    let rows = STORE
        .query(
            sql::MY_MEMBERSHIP,
            vec![
                uuid(&caller.user.user_id),
                uuid(artist.as_str()),
                ParameterValue::Int64(POINT_HISTORY_LIMIT),
            ],
        )
        .await?;
    let Some(row) = rows.first() else {
        return Ok(urr_component::json(
            200,
            &json!({"membership": {}, "pointHistory": [], "tier": Tier::Bronze}),
        ));
    };
    let status: String = column(row, "status")?;
    let benefits = Tier::effective(&status, column(row, "points")?).benefits();
    let benefits = serde_json::to_string(&benefits).map_err(|_| ApiError::internal())?;
    let membership: String = column(row, "membership")?;
    let history: String = column(row, "point_history")?;
    Ok(json_text(
        200,
        format!(r#"{{"membership":{membership},"pointHistory":{history},"benefits":{benefits}}}"#),
    ))
}

async fn benefits(req: Request, artist: &Id) -> Result<Response> {
    let caller = reader(&req).await?;
    let rows = STORE
        .query(
            sql::BENEFITS,
            vec![uuid(&caller.user.user_id), uuid(artist.as_str())],
        )
        .await?;
    let row = rows.first().ok_or(FanError::ArtistNotFound)?;
    let status: Option<String> = optional(row, "status")?;
    let points: Option<i64> = optional(row, "points")?;
    let tier = Tier::effective(status.as_deref().unwrap_or(""), points.unwrap_or(0));
    let reply = BenefitsReply::new(tier, column(row, "membership_price")?);
    let value: Value = serde_json::to_value(reply).map_err(|_| ApiError::internal())?;
    Ok(urr_component::json(200, &value))
}
