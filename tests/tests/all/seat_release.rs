//! Money and seat safety at the edges of a sale, end to end through the real host:
//!
//! - every path that frees seats in Postgres (a buyer's cancel, a refund on cancel, an
//!   operator's cancel, an event cancel) also frees their Redis holds at once, only the holds
//!   still carrying that reservation's fencing token, so the next buyer is not told `seat_taken`
//!   for a seat the seat map shows available; an expired reservation's holds end with it;
//! - a buyer cannot cancel (and be refunded) once the event's cut-off has passed, while the
//!   operator paths still can;
//! - prices are bounded so that no total can overflow into a 500;
//! - with Redis down, reserve still holds each buyer to a per-minute budget, kept in Postgres.

use crate::admin::{call, event_body};
use crate::booking_support::{Buyer, Show, buyer, db, send, show};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgConnection;
use urr_tests::{AppOptions, PrivateRedis, count, mint_access_token};

async fn redis(show: &Show) -> redis::aio::MultiplexedConnection {
    redis::Client::open(urr_tests::redis_url())
        .expect("client")
        .get_multiplexed_async_connection()
        .await
        .unwrap_or_else(|e| panic!("redis for {}: {e}", show.app.key_prefix))
}

fn hold_key(show: &Show, seat: &str) -> String {
    format!(
        "{}:seat:{{evt:{}}}:{seat}",
        show.app.key_prefix, show.event_id
    )
}

fn user_holds_key(show: &Show, buyer: &Buyer) -> String {
    format!(
        "{}:seat:{{evt:{}}}:user:{}",
        show.app.key_prefix, show.event_id, buyer.user_id
    )
}

/// What Redis says about `seat` (the hold's `<user>:<token>`, if any) and how many seats the
/// buyer holds for the event.
async fn redis_state(show: &Show, holder: &Buyer, seat: &str) -> (Option<String>, i64) {
    let mut conn = redis(show).await;
    let value: Option<String> = redis::cmd("GET")
        .arg(hold_key(show, seat))
        .query_async(&mut conn)
        .await
        .expect("GET");
    let held: i64 = redis::cmd("ZCARD")
        .arg(user_holds_key(show, holder))
        .query_async(&mut conn)
        .await
        .expect("ZCARD");
    (value, held)
}

/// An admin of the show's application.
fn operator() -> String {
    mint_access_token(
        &uuid::Uuid::new_v4().to_string(),
        "admin@example.com",
        true,
        &uuid::Uuid::new_v4().to_string(),
    )
}

async fn reserve_id(show: &Show, who: &Buyer, seats: &[&str], key: Option<&str>) -> String {
    let (status, body) = show.reserve(who, seats, key).await;
    assert!(status.is_success(), "reserve: {status} {body}");
    body["reservation"]["id"]
        .as_str()
        .expect("reservation id")
        .to_string()
}

async fn cancel(show: &Show, who: &Buyer, reservation_id: &str) -> (StatusCode, Value) {
    send(
        show.app
            .post(&format!("/api/v1/reservations/{reservation_id}/cancel"))
            .bearer_auth(&who.access),
    )
    .await
}

async fn seat_map_status(show: &Show, who: &Buyer, seat: &str) -> String {
    let (status, map) = show
        .get(who, &format!("/api/v1/seats/events/{}", show.event_id))
        .await;
    assert_eq!(status, StatusCode::OK, "{map}");
    map["seats"]
        .as_array()
        .and_then(|seats| seats.iter().find(|s| s["id"] == seat))
        .and_then(|s| s["status"].as_str())
        .unwrap_or_else(|| panic!("seat {seat} in {map}"))
        .to_string()
}

/// The next buyer's hold of a seat the seat map shows available: 200 at once.
async fn next_buyer_holds_at_once(show: &Show, seat: &str) {
    let next = buyer(show).await;
    assert_eq!(seat_map_status(show, &next, seat).await, "available");
    let (status, body) = show.hold(&next, &[seat]).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the seat map says available, so the hold must succeed at once: {body}"
    );
}

/// Marks a reservation made through the API as paid, the way a captured payment leaves it
/// (migrations/20261130000001_booking_schema.sql, seat row states): its seats `reserved`, a
/// confirmed payment. Returns the payment key.
async fn mark_paid(pg: &mut PgConnection, reservation_id: &str) -> String {
    sqlx::query(
        "UPDATE reservations SET status = 'confirmed', payment_status = 'completed', \
                payment_method = 'card', confirmed_at = now() WHERE id = $1::uuid",
    )
    .bind(reservation_id)
    .execute(&mut *pg)
    .await
    .expect("confirm");
    sqlx::query(
        "UPDATE seats SET status = 'reserved', held_by = NULL, hold_expires_at = NULL, \
                version = version + 1 WHERE reservation_id = $1::uuid",
    )
    .bind(reservation_id)
    .execute(&mut *pg)
    .await
    .expect("seats sold");
    sqlx::query_scalar(
        "INSERT INTO payments (order_id, reservation_id, user_id, amount, method, status, \
                               payment_key, idempotency_key, approved_at) \
         SELECT 'order-' || r.id, r.id, r.user_id, r.total_amount, 'card', 'confirmed', \
                'pk-' || r.id, 'idem-' || r.id, now() \
           FROM reservations AS r WHERE r.id = $1::uuid RETURNING payment_key",
    )
    .bind(reservation_id)
    .fetch_one(&mut *pg)
    .await
    .expect("payment")
}

// ---------------------------------------------------------------- holds follow Postgres

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_reservations_seat_can_be_held_by_the_next_buyer_at_once() {
    let show = show(AppOptions::application(), 1, 10).await;
    let first = buyer(&show).await;
    let (a, b, c) = (
        show.seats[0].as_str(),
        show.seats[1].as_str(),
        show.seats[2].as_str(),
    );
    // The buyer also holds a seat they never reserved: theirs, and it stays theirs.
    let (status, _) = show.hold(&first, &[c]).await;
    assert_eq!(status, StatusCode::OK);
    let id = reserve_id(&show, &first, &[a, b], None).await;
    assert!(redis_state(&show, &first, a).await.0.is_some());

    let (status, body) = cancel(&show, &first, &id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (hold, held) = redis_state(&show, &first, a).await;
    println!("after the cancel: hold on a = {hold:?}, seats the buyer holds = {held}");
    next_buyer_holds_at_once(&show, a).await;
    let other = buyer(&show).await;
    let (status, body) = show.reserve(&other, &[b], None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // Only the cancelled reservation's holds went: the plain hold on c is still the buyer's,
    // and their held-seat count no longer counts a and b.
    let (hold_c, held) = redis_state(&show, &first, c).await;
    assert!(
        hold_c.is_some_and(|v| v.starts_with(&first.user_id)),
        "a hold that was never part of the reservation stays"
    );
    assert_eq!(held, 1, "the buyer's held seats: only c");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refunded_reservations_seat_can_be_held_by_the_next_buyer_at_once() {
    let show = show(AppOptions::application(), 1, 10).await;
    let first = buyer(&show).await;
    let seat = show.seats[0].as_str();
    let id = reserve_id(&show, &first, &[seat], None).await;
    let mut pg = db(&show.app).await;
    let payment_key = mark_paid(&mut pg, &id).await;

    // Paid within its pending window: its hold is still live in Redis when the buyer cancels.
    let (status, body) = send(
        show.app
            .post(&format!("/api/v1/payments/{payment_key}/cancel"))
            .bearer_auth(&first.access),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let owed = count(
        &mut pg,
        &format!(
            "SELECT count(*) FROM payment_outbox AS o JOIN payments AS p ON p.id = o.payment_id \
             WHERE p.reservation_id = '{id}' AND o.action = 'refund'"
        ),
    )
    .await;
    assert_eq!(owed, 1, "the refund is owed");
    next_buyer_holds_at_once(&show, seat).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_cancelled_reservations_seat_can_be_held_by_the_next_buyer_at_once() {
    let show = show(AppOptions::application(), 1, 10).await;
    let first = buyer(&show).await;
    let seat = show.seats[0].as_str();
    let id = reserve_id(&show, &first, &[seat], None).await;

    let reply = call(
        &show.app,
        Method::PATCH,
        &format!("/admin/reservations/{id}/status"),
        Some(&operator()),
        Some(&json!({"status": "cancelled", "reason": "duplicate order"})),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let (hold, held) = redis_state(&show, &first, seat).await;
    assert_eq!((hold, held), (None, 0), "the reservation's hold is gone");
    next_buyer_holds_at_once(&show, seat).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_events_reserved_seats_lose_their_holds_at_once() {
    let show = show(AppOptions::application(), 1, 10).await;
    let (first, second) = (buyer(&show).await, buyer(&show).await);
    let (a, b) = (show.seats[0].as_str(), show.seats[1].as_str());
    reserve_id(&show, &first, &[a], None).await;
    let paid = reserve_id(&show, &second, &[b], None).await;
    let mut pg = db(&show.app).await;
    mark_paid(&mut pg, &paid).await;

    let reply = call(
        &show.app,
        Method::POST,
        &format!("/admin/events/{}/cancel", show.event_id),
        Some(&operator()),
        Some(&json!({"reason": "venue flooded"})),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["reservationsCancelled"], 2, "{}", reply.body);
    for (holder, seat) in [(&first, a), (&second, b)] {
        let (hold, held) = redis_state(&show, holder, seat).await;
        assert_eq!(
            (hold, held),
            (None, 0),
            "every hold of the cancelled event's reservations is gone"
        );
    }
    let next = buyer(&show).await;
    let (status, body) = show.hold(&next, &[a, b]).await;
    assert_ne!(
        body["code"], "seat_taken",
        "no stale hold answers for a seat Postgres freed: {status} {body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_reserve_leaves_holds_a_cancel_can_still_release() {
    let show = show(AppOptions::application(), 1, 10).await;
    let first = buyer(&show).await;
    let seat = show.seats[0].as_str();
    let id = reserve_id(&show, &first, &[seat], Some("replay-me")).await;
    // The retry re-takes the holds (a new token) and gets the first answer back: the holds must
    // still carry the reservation's own token, or its cancel cannot find them.
    let again = reserve_id(&show, &first, &[seat], Some("replay-me")).await;
    assert_eq!(again, id, "a replay");
    let token: i64 = sqlx::query_scalar(
        "SELECT fencing_token FROM reservation_items WHERE reservation_id = $1::uuid",
    )
    .bind(&id)
    .fetch_one(&mut db(&show.app).await)
    .await
    .expect("token");
    let (hold, _) = redis_state(&show, &first, seat).await;
    assert_eq!(hold, Some(format!("{}:{token}", first.user_id)));

    let (status, body) = cancel(&show, &first, &id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    next_buyer_holds_at_once(&show, seat).await;
}

/// Expiry takeover: the reserve makes its holds end exactly when the reservation does, so when
/// Postgres' clock says a pending reservation is over, Redis has let go of its seats too, even
/// with holds configured to outlive reservations by far.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_reservations_holds_end_with_it() {
    let options = AppOptions::application()
        .variable("reservation_ttl_secs", "1")
        .variable("hold_ttl_secs", "600");
    let show = show(options, 1, 10).await;
    let first = buyer(&show).await;
    let (a, b) = (show.seats[0].as_str(), show.seats[1].as_str());
    // Held first with the long hold lifetime, then reserved.
    assert_eq!(show.hold(&first, &[a, b]).await.0, StatusCode::OK);
    reserve_id(&show, &first, &[a, b], None).await;
    let mut conn = redis(&show).await;
    for seat in [a, b] {
        let ttl: i64 = redis::cmd("PTTL")
            .arg(hold_key(&show, seat))
            .query_async(&mut conn)
            .await
            .expect("PTTL");
        assert!(
            (1..=1000).contains(&ttl),
            "a reserved seat's hold ends with the reservation, not after {ttl} ms"
        );
    }

    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;
    let next = buyer(&show).await;
    // One seat taken over through reserve (which expires the old reservation), the other held.
    let (status, body) = show.reserve(&next, &[a], None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let later = buyer(&show).await;
    assert_eq!(seat_map_status(&show, &later, b).await, "available");
    let (status, body) = show.hold(&later, &[b]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// The cancel is Postgres' decision: with Redis gone it still happens (the holds it could not
/// release end by themselves, at the latest when the reservation would have expired).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_down_a_cancel_still_cancels() {
    let mut private = PrivateRedis::start().expect("private redis");
    let show = show(AppOptions::application().redis(&private.url()), 1, 10).await;
    let first = buyer(&show).await;
    let seat = show.seats[0].as_str();
    let id = reserve_id(&show, &first, &[seat], None).await;
    private.kill();
    let (status, body) = cancel(&show, &first, &id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut pg = db(&show.app).await;
    let state: (String, String) = sqlx::query_as(
        "SELECT r.status, s.status FROM reservations AS r, seats AS s \
          WHERE r.id = $1::uuid AND s.id = $2::uuid",
    )
    .bind(&id)
    .bind(seat)
    .fetch_one(&mut pg)
    .await
    .expect("state");
    assert_eq!(state, ("cancelled".into(), "available".into()));
}

// ---------------------------------------------------------------- the cancel cut-off

async fn set_event_start(pg: &mut PgConnection, event_id: &str, from_now: &str) {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE events SET event_date = now() + interval '{from_now}' WHERE id = '{event_id}'"
    )))
    .execute(pg)
    .await
    .expect("event start");
}

/// Everything a refused cancel must leave as it was: reservation, seat, payment, outbox.
async fn paid_state(pg: &mut PgConnection, reservation_id: &str) -> (String, String, String, i64) {
    sqlx::query_as(
        "SELECT r.status, \
                coalesce((SELECT string_agg(s.status, ',') FROM seats AS s \
                           WHERE s.reservation_id = r.id), ''), \
                (SELECT p.status FROM payments AS p WHERE p.reservation_id = r.id), \
                (SELECT count(*) FROM payment_outbox AS o JOIN payments AS p \
                    ON p.id = o.payment_id WHERE p.reservation_id = r.id) \
           FROM reservations AS r WHERE r.id = $1::uuid",
    )
    .bind(reservation_id)
    .fetch_one(pg)
    .await
    .expect("paid state")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paid_reservation_is_not_cancelled_or_refunded_after_the_event_has_started() {
    let show = show(AppOptions::application(), 1, 10).await;
    let first = buyer(&show).await;
    let id = reserve_id(&show, &first, &[show.seats[0].as_str()], None).await;
    let mut pg = db(&show.app).await;
    let payment_key = mark_paid(&mut pg, &id).await;
    set_event_start(&mut pg, &show.event_id, "-1 hour").await;
    let before = paid_state(&mut pg, &id).await;
    assert_eq!(
        before,
        ("confirmed".into(), "reserved".into(), "confirmed".into(), 0)
    );

    let (status, body) = cancel(&show, &first, &id).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("cancel_window_closed")),
        "{body}"
    );
    let (status, body) = send(
        show.app
            .post(&format!("/api/v1/payments/{payment_key}/cancel"))
            .bearer_auth(&first.access),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("cancel_window_closed")),
        "{body}"
    );
    assert_eq!(paid_state(&mut pg, &id).await, before, "nothing changed");

    // An operator is not bound by the buyer's cut-off (a refund owed after the show is theirs
    // to decide).
    let reply = call(
        &show.app,
        Method::PATCH,
        &format!("/admin/reservations/{id}/status"),
        Some(&operator()),
        Some(&json!({"status": "cancelled", "reason": "show interrupted"})),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(paid_state(&mut pg, &id).await.0, "cancelled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cancel_cutoff_is_a_setting_before_the_event_starts() {
    // Buyers may cancel until two hours before the start.
    let options = AppOptions::application().variable("cancel_cutoff_secs", "7200");
    let show = show(options, 1, 10).await;
    let first = buyer(&show).await;
    let (a, b) = (show.seats[0].as_str(), show.seats[1].as_str());
    let early = reserve_id(&show, &first, &[a], None).await;
    let late = reserve_id(&show, &first, &[b], None).await;
    let mut pg = db(&show.app).await;

    set_event_start(&mut pg, &show.event_id, "3 hours").await;
    let (status, body) = cancel(&show, &first, &early).await;
    assert_eq!(status, StatusCode::OK, "before the cut-off: {body}");

    set_event_start(&mut pg, &show.event_id, "1 hour").await;
    let (status, body) = cancel(&show, &first, &late).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("cancel_window_closed")),
        "{body}"
    );
    let still: String = sqlx::query_scalar("SELECT status FROM reservations WHERE id = $1::uuid")
        .bind(&late)
        .fetch_one(&mut pg)
        .await
        .expect("status");
    assert_eq!(still, "pending");
}

// ---------------------------------------------------------------- prices and totals

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_price_that_could_overflow_a_total_is_refused_and_the_highest_price_sells() {
    let show = show(AppOptions::application(), 1, 10).await;
    let admin = operator();
    let mut pg = db(&show.app).await;
    let events_before = count(&mut pg, "SELECT count(*) FROM events").await;
    let types_before = count(&mut pg, "SELECT count(*) FROM ticket_types").await;
    let event = |price: i64| {
        event_body(
            None,
            json!([{"name": "Gold", "price": price, "totalQuantity": 100}]),
        )
    };

    // The reproduction: a billion-won ticket was accepted, and three of them overflowed the
    // reservation total (`integer`) into a 500.
    let reply = call(
        &show.app,
        Method::POST,
        "/admin/events",
        Some(&admin),
        Some(&event(1_000_000_000)),
    )
    .await;
    if reply.status == 201 {
        let event_id = reply.body["event"]["id"].as_str().expect("id").to_string();
        let ticket = reply.body["ticketTypes"][0]["id"].as_str().expect("type");
        let user = uuid::Uuid::new_v4().to_string();
        urr_tests::admit_to_event(&show.app, &user, &event_id).await;
        let (status, body) = send(
            show.app
                .post("/api/v1/reservations")
                .bearer_auth(mint_access_token(&user, "b@example.com", false, "fam"))
                .header(
                    "x-queue-entry-token",
                    urr_tests::mint_entry_token(&user, &event_id),
                )
                .json(&json!({"eventId": event_id, "items": [{"ticketTypeId": ticket, "quantity": 3}]})),
        )
        .await;
        panic!("a price of 1,000,000,000 was accepted; three tickets answered {status}: {body}");
    }
    assert_eq!(
        (reply.status, reply.body["code"].as_str()),
        (400, Some("invalid_price")),
        "{}",
        reply.body
    );
    // One over the cap, on a new ticket type and on an existing one.
    for (method, path, body) in [
        (
            Method::POST,
            format!("/admin/events/{}/tickets", show.event_id),
            json!({"name": "Gold", "price": 10_000_001, "totalQuantity": 10}),
        ),
        (
            Method::PUT,
            format!("/admin/tickets/{}", show.ticket_type_id),
            json!({"price": 10_000_001}),
        ),
    ] {
        let reply = call(&show.app, method, &path, Some(&admin), Some(&body)).await;
        assert_eq!(
            (reply.status, reply.body["code"].as_str()),
            (400, Some("invalid_price")),
            "{path}: {}",
            reply.body
        );
    }
    assert_eq!(
        count(&mut pg, "SELECT count(*) FROM events").await,
        events_before
    );
    assert_eq!(
        count(&mut pg, "SELECT count(*) FROM ticket_types").await,
        types_before
    );
    let price: i32 = sqlx::query_scalar("SELECT price FROM ticket_types WHERE id = $1::uuid")
        .bind(&show.ticket_type_id)
        .fetch_one(&mut pg)
        .await
        .expect("price");
    assert_eq!(price, 30000, "nothing changed");

    // The schema holds the same bound for every writer (a seat layout, a direct insert).
    for statement in [
        format!(
            "UPDATE ticket_types SET price = 10000001 WHERE id = '{}'",
            show.ticket_type_id
        ),
        "INSERT INTO seat_layouts (name, layout_config) VALUES ('too_dear', \
         '{\"sections\":[{\"name\":\"A\",\"rows\":1,\"seatsPerRow\":4,\"price\":999999999}]}')"
            .to_string(),
        format!(
            "UPDATE seats SET price = 10000001 WHERE id = '{}'",
            show.seats[0]
        ),
    ] {
        let err = sqlx::query(sqlx::AssertSqlSafe(statement.clone()))
            .execute(&mut pg)
            .await
            .expect_err(&statement);
        assert_eq!(
            err.as_database_error().and_then(|e| e.code()).as_deref(),
            Some("23514"),
            "{statement}: {err}"
        );
    }

    // At the bound, the largest order sells and its total is exact.
    let reply = call(
        &show.app,
        Method::PUT,
        &format!("/admin/tickets/{}", show.ticket_type_id),
        Some(&admin),
        Some(&json!({"price": 10_000_000})),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let me = buyer(&show).await;
    let (status, body) = show.reserve_standing(&me, 10, None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["reservation"]["totalAmount"], 100_000_000, "{body}");
}

// ---------------------------------------------------------------- Redis down: the reserve budget

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_down_reserve_still_holds_each_buyer_to_a_per_minute_budget() {
    const PER_MINUTE: usize = 4;
    let mut private = PrivateRedis::start().expect("private redis");
    let options = AppOptions::application().redis(&private.url()).variable(
        "rate_limits",
        format!("auth=60,queue=120,booking={PER_MINUTE},default=3000"),
    );
    let show = show(options, 1, 100).await;
    let (me, other) = (buyer(&show).await, buyer(&show).await);
    private.kill();

    // Attempts that each cost Postgres a transaction (one ticket, and retries of a taken seat).
    let mut statuses = Vec::new();
    for i in 0..PER_MINUTE + 3 {
        let (status, body) = if i % 2 == 0 {
            show.reserve_standing(&me, 1, None).await
        } else {
            show.reserve(&me, &[show.seats[0].as_str()], None).await
        };
        assert!(!status.is_server_error(), "{status} {body}");
        statuses.push(status.as_u16());
    }
    println!("one buyer's reserves with Redis down: {statuses:?}");
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(
        limited, 3,
        "the budget ({PER_MINUTE} a minute) holds without Redis: {statuses:?}"
    );
    assert!(statuses[..PER_MINUTE].iter().all(|s| *s != 429));
    let response = show
        .with(&me, show.app.post("/api/v1/reservations"))
        .json(&json!({"eventId": show.event_id,
                      "items": [{"ticketTypeId": show.ticket_type_id, "quantity": 1}]}))
        .send()
        .await
        .expect("reserve");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    // Per buyer: someone else still gets through.
    let (status, body) = show.reserve_standing(&other, 1, None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let mut pg = db(&show.app).await;
    let mine = count(
        &mut pg,
        &format!(
            "SELECT count(*) FROM reservations WHERE user_id = '{}'",
            me.user_id
        ),
    )
    .await;
    assert!(mine <= PER_MINUTE as i64, "{mine} reservations");
}
