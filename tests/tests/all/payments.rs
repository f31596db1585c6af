//! Components `pay` and `payments` end to end, against the mock payment provider started
//! in-process: natural idempotency under a storm, decline / timeout / lost answers and their
//! reconciliation, expiry and fencing, webhook signatures, refunds through the outbox across a
//! provider outage, owner-only reads, and the ledger after every test.
//!
//! Reservations are made by SQL fixtures in exactly the states the booking schema describes
//! (seats `locked` for a pending reservation, with the items' fencing tokens).

use serde_json::{Value, json};
use sqlx::PgPool;
use std::time::Duration;
use urr_mock_provider::{Config, MockProvider, Scenario};
use urr_tests::{AppOptions, TestApp, mint_access_token, spawn_app_with};

/// The provider timeout the tests run with: short, so unknown outcomes go stale quickly.
pub(crate) const PROVIDER_TIMEOUT_MS: u64 = 800;
/// `PROVIDER_TIMEOUT_MS` + the components' stale margin (2 s), plus slack.
pub(crate) const STALE_WAIT: Duration = Duration::from_millis(PROVIDER_TIMEOUT_MS + 2_300);
pub(crate) const SEAT_PRICE: i32 = 15_000;

pub(crate) struct World {
    pub(crate) app: TestApp,
    pub(crate) mock: MockProvider,
    pub(crate) pool: PgPool,
}

pub(crate) async fn world_with(options: impl FnOnce(AppOptions) -> AppOptions) -> World {
    let mock = MockProvider::start(
        "127.0.0.1:0",
        Config {
            timeout_delay: Duration::from_secs(6),
            webhook_delay: Duration::from_millis(200),
            ..Config::default()
        },
    )
    .await
    .expect("mock provider");
    let base = AppOptions::application()
        .payment_provider(&mock)
        .variable("provider_timeout_ms", PROVIDER_TIMEOUT_MS.to_string())
        .variable(
            "rate_limits",
            "auth=60,queue=120,booking=5000,default=60000",
        );
    let app = spawn_app_with(options(base)).await;
    mock.set_webhook_url(&format!("{}/api/v1/payments/webhook", app.url));
    let pool = PgPool::connect(&app.database.url)
        .await
        .expect("test database");
    World { app, mock, pool }
}

pub(crate) async fn world() -> World {
    world_with(|o| o).await
}

pub(crate) struct User {
    pub(crate) id: String,
    pub(crate) token: String,
}

pub(crate) fn user(admin: bool) -> User {
    let id = uuid::Uuid::new_v4().to_string();
    let token = mint_access_token(
        &id,
        "buyer@example.com",
        admin,
        &uuid::Uuid::new_v4().to_string(),
    );
    User { id, token }
}

pub(crate) struct Reservation {
    pub(crate) id: String,
    pub(crate) event_id: String,
    pub(crate) amount: i32,
}

/// An on-sale event with `seats` seats locked for a new pending reservation of `user` that
/// expires in `expires_in_secs` (negative: already expired), items carrying the seats' tokens.
pub(crate) async fn reserve(
    pool: &PgPool,
    user: &User,
    seats: i32,
    expires_in_secs: i64,
) -> Reservation {
    let event_id: String = sqlx::query_scalar(
        "INSERT INTO events (title, venue, event_date, sale_start_date, sale_end_date) \
         VALUES ('Payments test', 'Hall', now() + interval '30 days', now() - interval '1 day', \
                 now() + interval '10 days') RETURNING id::text",
    )
    .fetch_one(pool)
    .await
    .expect("event");
    let reservation_id = uuid::Uuid::new_v4().to_string();
    let amount = SEAT_PRICE * seats;
    sqlx::query(
        "INSERT INTO reservations (id, reservation_number, user_id, event_id, kind, total_amount, \
                                   expires_at) \
         VALUES ($1::uuid, 'R-' || $1, $2::uuid, $3::uuid, 'seated', $4, \
                 now() + make_interval(secs => $5))",
    )
    .bind(&reservation_id)
    .bind(&user.id)
    .bind(&event_id)
    .bind(amount)
    .bind(expires_in_secs as f64)
    .execute(pool)
    .await
    .expect("reservation");
    sqlx::query(
        "INSERT INTO seats (event_id, section, row_number, seat_number, price, status, \
                            fencing_token, held_by, hold_expires_at, reservation_id) \
         SELECT $1::uuid, 'A', 1, n, $2, 'locked', 100 + n, $3::uuid, r.expires_at, r.id \
           FROM generate_series(1, $4) AS n, reservations AS r WHERE r.id = $5::uuid",
    )
    .bind(&event_id)
    .bind(SEAT_PRICE)
    .bind(&user.id)
    .bind(seats)
    .bind(&reservation_id)
    .execute(pool)
    .await
    .expect("seats");
    sqlx::query(
        "INSERT INTO reservation_items (reservation_id, seat_id, quantity, unit_price, fencing_token) \
         SELECT reservation_id, id, 1, price, fencing_token FROM seats WHERE reservation_id = $1::uuid",
    )
    .bind(&reservation_id)
    .execute(pool)
    .await
    .expect("items");
    Reservation {
        id: reservation_id,
        event_id,
        amount,
    }
}

pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: Value,
    pub(crate) retry_after: Option<String>,
}

pub(crate) async fn send(request: reqwest::RequestBuilder) -> Answer {
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = response.json().await.unwrap_or(Value::Null);
    Answer {
        status,
        body,
        retry_after,
    }
}

pub(crate) async fn post(app: &TestApp, path: &str, user: &User, body: Value) -> Answer {
    send(app.post(path).bearer_auth(&user.token).json(&body)).await
}

pub(crate) async fn get(app: &TestApp, path: &str, user: &User) -> Answer {
    send(app.get(path).bearer_auth(&user.token)).await
}

pub(crate) async fn process(app: &TestApp, user: &User, reservation: &Reservation) -> Answer {
    post(
        app,
        "/api/v1/payments/process",
        user,
        json!({"reservationId": reservation.id, "paymentMethod": "card"}),
    )
    .await
}

pub(crate) async fn deliver(app: &TestApp) -> Value {
    let admin = user(true);
    let answer = post(app, "/api/v1/payments/outbox/deliver", &admin, json!({})).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body
}

pub(crate) async fn statuses(
    pool: &PgPool,
    reservation: &Reservation,
) -> (String, String, Vec<String>) {
    let (status, payment_status): (String, String) =
        sqlx::query_as("SELECT status, payment_status FROM reservations WHERE id = $1::uuid")
            .bind(&reservation.id)
            .fetch_one(pool)
            .await
            .expect("reservation");
    let payments: Vec<String> = sqlx::query_scalar(
        "SELECT status FROM payments WHERE reservation_id = $1::uuid ORDER BY created_at",
    )
    .bind(&reservation.id)
    .fetch_all(pool)
    .await
    .expect("payments");
    (status, payment_status, payments)
}

/// The order id of `reservation`'s (only) payment.
pub(crate) async fn order_id(pool: &PgPool, reservation: &Reservation) -> String {
    sqlx::query_scalar("SELECT order_id FROM payments WHERE reservation_id = $1::uuid")
        .bind(&reservation.id)
        .fetch_one(pool)
        .await
        .expect("order")
}

pub(crate) async fn seat_statuses(pool: &PgPool, reservation: &Reservation) -> Vec<String> {
    sqlx::query_scalar("SELECT status FROM seats WHERE event_id = $1::uuid ORDER BY seat_number")
        .bind(&reservation.event_id)
        .fetch_all(pool)
        .await
        .expect("seats")
}

/// captured − refunded = value sold for every event (nothing owed), in the database AND in the
/// provider's own account.
pub(crate) async fn assert_ledger_balances(world: &World) {
    let rows: Vec<(String, i64, i64, i64, i64, bool)> = sqlx::query_as(
        "SELECT event_id::text, captured, refunded, refund_owed, value_sold, balanced FROM payment_ledger",
    )
    .fetch_all(&world.pool)
    .await
    .expect("ledger");
    let mut sold_total = 0;
    for (event, captured, refunded, owed, sold, balanced) in &rows {
        assert!(
            *balanced && *owed == 0,
            "event {event}: captured {captured} refunded {refunded} owed {owed} sold {sold}"
        );
        sold_total += sold;
    }
    let counts = world.mock.counts();
    assert_eq!(
        counts.captured_amount - counts.refunded_amount,
        sold_total,
        "the provider's own account must match the value sold: {counts:?}"
    );
    assert_eq!(counts.duplicate_refunds, 0, "{counts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_process_calls_make_one_payment_and_one_charge() {
    /// Parallel calls for ONE reservation (the scorecard's C6 number).
    const CALLS: usize = 1_000;
    let world = world().await;
    let buyer = user(false);
    let reservation = reserve(&world.pool, &buyer, 2, 300).await;
    // The buyer holds an active slot in the event's waiting room until they have paid.
    let slot_key = format!(
        "{}:queue:{{evt:{}}}:active",
        world.app.key_prefix, reservation.event_id
    );
    let mut redis = redis::Client::open(urr_tests::redis_url())
        .expect("redis url")
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    let _: i64 = redis::cmd("ZADD")
        .arg(&slot_key)
        .arg(1)
        .arg(&buyer.id)
        .query_async(&mut redis)
        .await
        .expect("zadd");
    let calls = (0..CALLS).map(|_| process(&world.app, &buyer, &reservation));
    let answers = futures::future::join_all(calls).await;

    let (mut ok, mut conflict, mut shed, mut other) = (0, 0, 0, Vec::new());
    let mut payment_ids = std::collections::BTreeSet::new();
    for a in &answers {
        match a.status {
            200 => {
                ok += 1;
                payment_ids.insert(a.body["payment"]["id"].as_str().unwrap_or("").to_string());
            }
            409 | 503 => {
                assert!(
                    a.retry_after.is_some(),
                    "{} without Retry-After: {}",
                    a.status,
                    a.body
                );
                if a.status == 409 {
                    conflict += 1;
                } else {
                    shed += 1;
                }
            }
            _ => other.push((a.status, a.body.clone())),
        }
    }
    let payments: i64 =
        sqlx::query_scalar("SELECT count(*) FROM payments WHERE reservation_id = $1::uuid")
            .bind(&reservation.id)
            .fetch_one(&world.pool)
            .await
            .expect("count");
    let counts = world.mock.counts();
    println!(
        "{CALLS} parallel process calls: {ok} x 200, {conflict} x 409, {shed} x 503, other {other:?}; \
         payment rows {payments}, provider charge requests {}, captures {}",
        counts.charge_requests.values().sum::<u32>(),
        counts.total_captures()
    );
    assert!(
        other.is_empty(),
        "only 200, 409 or 503 are allowed: {other:?}"
    );
    assert!(ok >= 1, "someone must win");
    assert!(conflict + shed >= 1, "a real contest loses some races");
    assert_eq!(
        payment_ids.len(),
        1,
        "every 200 names the same payment: {payment_ids:?}"
    );
    assert_eq!(payments, 1);
    assert_eq!(counts.total_captures(), 1);
    // After the storm, a repeat replays the same payment.
    let again = process(&world.app, &buyer, &reservation).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(
        again.body["payment"]["id"].as_str(),
        payment_ids.iter().next().map(String::as_str)
    );
    let (status, payment_status, _) = statuses(&world.pool, &reservation).await;
    assert_eq!(
        (status.as_str(), payment_status.as_str()),
        ("confirmed", "completed")
    );
    assert_eq!(
        seat_statuses(&world.pool, &reservation).await,
        ["reserved", "reserved"]
    );
    let slot: Option<f64> = redis::cmd("ZSCORE")
        .arg(&slot_key)
        .arg(&buyer.id)
        .query_async(&mut redis)
        .await
        .expect("zscore");
    assert_eq!(slot, None, "the paid buyer's queue slot is released");
    assert_ledger_balances(&world).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_down_a_buyer_can_still_pay() {
    let mut private = urr_tests::PrivateRedis::start().expect("private redis");
    let url = private.url();
    let world = world_with(|o| o.redis(&url)).await;
    private.kill();
    let buyer = user(false);
    let reservation = reserve(&world.pool, &buyer, 1, 300).await;
    let paid = process(&world.app, &buyer, &reservation).await;
    assert_eq!(
        paid.status, 200,
        "Postgres decides a payment: {}",
        paid.body
    );
    assert_eq!(world.mock.counts().total_captures(), 1);
    assert_ledger_balances(&world).await;
}

/// W3C trace context: the caller's trace reaches the provider with our span as the parent, and
/// the response says which span answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_callers_trace_reaches_the_provider() {
    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    let incoming = format!("00-{TRACE}-00f067aa0ba902b7-01");
    let world = world().await;
    let buyer = user(false);
    let reservation = reserve(&world.pool, &buyer, 1, 300).await;
    let response = world
        .app
        .post("/api/v1/payments/process")
        .bearer_auth(&buyer.token)
        .header("traceparent", &incoming)
        .json(&json!({"reservationId": reservation.id, "paymentMethod": "card"}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let answered = response
        .headers()
        .get("traceresponse")
        .and_then(|v| v.to_str().ok())
        .expect("traceresponse")
        .to_string();
    let ours: Vec<&str> = answered.split('-').collect();
    assert_eq!(
        (ours[0], ours[1], ours[3]),
        ("00", TRACE, "01"),
        "{answered}"
    );
    assert_ne!(ours[2], "00f067aa0ba902b7", "a span of our own");
    let seen = world.mock.traceparents();
    assert!(!seen.is_empty(), "the charge carried no traceparent");
    assert!(
        seen.iter().all(|t| t == &answered),
        "the provider saw {seen:?}, our span is {answered}"
    );

    // Without a (valid) traceparent a new trace starts, still propagated.
    let again = send(
        world
            .app
            .get("/api/v1/payments/user/me")
            .bearer_auth(&buyer.token)
            .header("traceparent", "garbage"),
    )
    .await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_ledger_balances(&world).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_payment_leaves_the_reservation_payable() {
    let world = world().await;
    let buyer = user(false);
    let reservation = reserve(&world.pool, &buyer, 1, 300).await;
    world
        .mock
        .set_amount_scenario(reservation.amount, Scenario::Decline);
    let declined = process(&world.app, &buyer, &reservation).await;
    assert_eq!(declined.status, 502, "{}", declined.body);
    assert_eq!(declined.body["code"], "payment_declined");
    let (status, _, payments) = statuses(&world.pool, &reservation).await;
    assert_eq!(
        (status.as_str(), payments.as_slice()),
        ("pending", &["failed".to_string()][..])
    );
    assert_eq!(seat_statuses(&world.pool, &reservation).await, ["locked"]);

    world
        .mock
        .set_amount_scenario(reservation.amount, Scenario::Approve);
    let paid = process(&world.app, &buyer, &reservation).await;
    assert_eq!(paid.status, 200, "{}", paid.body);
    assert_eq!(world.mock.counts().total_captures(), 1);
    assert_ledger_balances(&world).await;
    let counters = world.app.business_counters().await;
    for (name, expected) in [
        ("payments_failed", 1),
        ("payments_confirmed", 1),
        ("reservations_confirmed", 1),
        ("refunds_recorded", 0),
    ] {
        assert_eq!(counters[name], expected, "{name}: {counters:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_timeout_is_504_and_reconciled_to_not_captured() {
    let world = world().await;
    let buyer = user(false);
    let reservation = reserve(&world.pool, &buyer, 1, 300).await;
    world.mock.set_default_scenario(Scenario::Timeout);
    let slow = process(&world.app, &buyer, &reservation).await;
    assert_eq!(slow.status, 504, "{}", slow.body);
    assert!(slow.retry_after.is_some());
    let (status, _, payments) = statuses(&world.pool, &reservation).await;
    assert_eq!(
        (status.as_str(), payments.as_slice()),
        ("pending", &["processing".to_string()][..])
    );
    // While the outcome may still change, nobody charges again.
    let busy = process(&world.app, &buyer, &reservation).await;
    assert_eq!(
        (busy.status, busy.body["code"].as_str()),
        (409, Some("payment_in_progress"))
    );

    tokio::time::sleep(STALE_WAIT).await;
    let pass = deliver(&world.app).await;
    assert_eq!(pass["notCaptured"], 1, "{pass}");
    let (status, _, payments) = statuses(&world.pool, &reservation).await;
    assert_eq!(
        (status.as_str(), payments.as_slice()),
        ("pending", &["failed".to_string()][..])
    );

    world.mock.set_default_scenario(Scenario::Approve);
    let paid = process(&world.app, &buyer, &reservation).await;
    assert_eq!(paid.status, 200, "{}", paid.body);
    assert_eq!(world.mock.counts().total_captures(), 1);
    assert_ledger_balances(&world).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_is_reconciled_to_a_confirmation() {
    let world = world().await;
    let buyer = user(false);
    let reservation = reserve(&world.pool, &buyer, 2, 300).await;
    world.mock.set_default_scenario(Scenario::UnknownOutcome);
    let lost = process(&world.app, &buyer, &reservation).await;
    assert_eq!(lost.status, 502, "{}", lost.body);
    let (status, _, payments) = statuses(&world.pool, &reservation).await;
    assert_eq!(
        (status.as_str(), payments.as_slice()),
        ("pending", &["processing".to_string()][..])
    );
    assert_eq!(
        world.mock.counts().total_captures(),
        1,
        "captured, answer lost"
    );

    tokio::time::sleep(STALE_WAIT).await;
    let pass = deliver(&world.app).await;
    assert_eq!(pass["confirmed"], 1, "{pass}");
    let (status, payment_status, _) = statuses(&world.pool, &reservation).await;
    assert_eq!(
        (status.as_str(), payment_status.as_str()),
        ("confirmed", "completed")
    );
    assert_eq!(
        seat_statuses(&world.pool, &reservation).await,
        ["reserved", "reserved"]
    );
    let replay = process(&world.app, &buyer, &reservation).await;
    assert_eq!(replay.status, 200, "{}", replay.body);
    assert_eq!(world.mock.counts().total_captures(), 1);
    assert_ledger_balances(&world).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_after_the_hold_was_lost_is_refunded() {
    let world = world().await;
    let buyer = user(false);
    let reservation = reserve(&world.pool, &buyer, 2, 300).await;
    world.mock.set_default_scenario(Scenario::UnknownOutcome);
    assert_eq!(process(&world.app, &buyer, &reservation).await.status, 502);
    // A newer holder's token lands on one seat while the outcome is unknown.
    sqlx::query("UPDATE seats SET fencing_token = fencing_token + 1000 WHERE event_id = $1::uuid AND seat_number = 2")
        .bind(&reservation.event_id)
        .execute(&world.pool)
        .await
        .expect("bump token");
    tokio::time::sleep(STALE_WAIT).await;
    // The buyer's retry sees the lost hold before any provider call; the delivery pass then
    // finds the capture, which cannot become a ticket, and refunds it.
    world.mock.set_default_scenario(Scenario::Approve);
    let retried = process(&world.app, &buyer, &reservation).await;
    assert_eq!(retried.status, 409, "{}", retried.body);
    let pass = deliver(&world.app).await;
    let counts = world.mock.counts();
    println!("after the stale-token capture: pass {pass}, provider {counts:?}");
    assert_eq!(counts.total_captures(), 1);
    assert_eq!(
        counts.total_refunds(),
        1,
        "the capture without a ticket is refunded once"
    );
    let (status, _, payments) = statuses(&world.pool, &reservation).await;
    assert_eq!(
        (status.as_str(), payments.as_slice()),
        ("expired", &["refunded".to_string()][..])
    );
    // The seat whose token still matched is free again; the other belongs to its newer holder.
    assert_eq!(
        seat_statuses(&world.pool, &reservation).await,
        ["available", "locked"]
    );
    assert_ledger_balances(&world).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_token_or_an_expired_reservation_is_never_charged() {
    let world = world().await;
    let buyer = user(false);
    let stale = reserve(&world.pool, &buyer, 1, 300).await;
    sqlx::query("UPDATE seats SET fencing_token = fencing_token + 1 WHERE event_id = $1::uuid")
        .bind(&stale.event_id)
        .execute(&world.pool)
        .await
        .expect("bump token");
    let refused = process(&world.app, &buyer, &stale).await;
    assert_eq!(
        (refused.status, refused.body["code"].as_str()),
        (409, Some("hold_lost"))
    );

    let expired = reserve(&world.pool, &buyer, 1, -1).await;
    let refused = process(&world.app, &buyer, &expired).await;
    assert_eq!(
        (refused.status, refused.body["code"].as_str()),
        (409, Some("reservation_expired"))
    );
    let prepare = post(
        &world.app,
        "/api/payments/prepare",
        &buyer,
        json!({"reservationId": expired.id, "amount": expired.amount}),
    )
    .await;
    assert_eq!(prepare.status, 409, "{}", prepare.body);

    let counts = world.mock.counts();
    assert!(
        counts.charge_requests.is_empty(),
        "nothing reached the provider: {counts:?}"
    );
    assert_ledger_balances(&world).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepare_and_confirm_follow_the_contract() {
    let world = world().await;
    let buyer = user(false);
    let reservation = reserve(&world.pool, &buyer, 1, 300).await;
    let prepare = |amount: i32| {
        post(
            &world.app,
            "/api/v1/payments/prepare",
            &buyer,
            json!({"reservationId": reservation.id, "amount": amount}),
        )
    };
    assert_eq!(prepare(reservation.amount + 1).await.status, 400);
    let prepared = prepare(reservation.amount).await;
    assert_eq!(prepared.status, 200, "{}", prepared.body);
    assert_eq!(prepared.body["clientKey"], "ck_test_mock");
    let order_id = prepared.body["orderId"].as_str().unwrap_or("").to_string();
    assert_eq!(
        prepare(reservation.amount).await.body["orderId"],
        order_id.as_str(),
        "reused"
    );

    let confirm = |amount: i32| {
        post(
            &world.app,
            "/api/v1/payments/confirm",
            &buyer,
            json!({"paymentKey": "pk_widget_1", "orderId": order_id, "amount": amount}),
        )
    };
    assert_eq!(confirm(reservation.amount - 1).await.status, 400);
    let confirmed = confirm(reservation.amount).await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    assert_eq!(confirmed.body["payment"]["paymentKey"], "pk_widget_1");
    let again = confirm(reservation.amount).await;
    assert_eq!(again.status, 400);
    for field in ["error", "message"] {
        assert!(
            again.body[field]
                .as_str()
                .unwrap_or("")
                .contains("already confirmed"),
            "{}",
            again.body
        );
    }
    let other = user(false);
    let foreign = post(
        &world.app,
        "/api/v1/payments/confirm",
        &other,
        json!({"paymentKey": "pk_x", "orderId": order_id, "amount": reservation.amount}),
    )
    .await;
    assert_eq!(foreign.status, 404);
    assert_eq!(world.mock.counts().total_captures(), 1);
    assert_ledger_balances(&world).await;
}

pub(crate) fn signed(world: &World, body: &[u8], secret: &str, at: i64) -> reqwest::RequestBuilder {
    let signature = urr_payments::webhook::sign(secret.as_bytes(), at, body);
    world
        .app
        .post("/api/v1/payments/webhook")
        .header(urr_payments::webhook::SIGNATURE_HEADER, signature)
        .header(urr_payments::webhook::TIMESTAMP_HEADER, at.to_string())
        .header("content-type", "application/json")
        .body(body.to_vec())
}

pub(crate) fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_are_verified_deduplicated_and_reconcile_lost_answers() {
    let world = world().await;
    let buyer = user(false);
    let reservation = reserve(&world.pool, &buyer, 1, 300).await;
    world.mock.set_default_scenario(Scenario::UnknownOutcome);
    assert_eq!(process(&world.app, &buyer, &reservation).await.status, 502);
    let order_id = order_id(&world.pool, &reservation).await;
    let captured = world
        .mock
        .payment(&order_id)
        .expect("the provider captured it");
    let event = json!({
        "eventId": "evt_test_1", "eventType": "PAYMENT_STATUS_CHANGED",
        "data": captured,
    });
    let body = serde_json::to_vec(&event).expect("json");
    let secret = world.mock.webhook_secret();

    let mut tampered = event.clone();
    tampered["data"]["amount"] = json!(1);
    let tampered = serde_json::to_vec(&tampered).expect("json");
    for (name, request) in [
        (
            "wrong secret",
            signed(&world, &body, "not-the-secret", now_secs()),
        ),
        (
            "old timestamp",
            signed(&world, &body, &secret, now_secs() - 301),
        ),
        ("tampered body", {
            let good = urr_payments::webhook::sign(secret.as_bytes(), now_secs(), &body);
            world
                .app
                .post("/api/v1/payments/webhook")
                .header(urr_payments::webhook::SIGNATURE_HEADER, good)
                .header(
                    urr_payments::webhook::TIMESTAMP_HEADER,
                    now_secs().to_string(),
                )
                .body(tampered.clone())
        }),
        (
            "no signature",
            world
                .app
                .post("/api/v1/payments/webhook")
                .body(body.clone()),
        ),
    ] {
        let answer = send(request).await;
        assert_eq!(answer.status, 401, "{name}: {}", answer.body);
        let (_, _, payments) = statuses(&world.pool, &reservation).await;
        assert_eq!(payments, ["processing"], "{name} changed nothing");
    }

    let applied = send(signed(&world, &body, &secret, now_secs())).await;
    assert_eq!(
        (applied.status, applied.body["outcome"].as_str()),
        (200, Some("confirmed")),
        "{}",
        applied.body
    );
    let replayed = send(signed(&world, &body, &secret, now_secs())).await;
    assert_eq!(
        (replayed.status, replayed.body["duplicate"].as_bool()),
        (200, Some(true))
    );
    let (status, payment_status, payments) = statuses(&world.pool, &reservation).await;
    assert_eq!(
        (status.as_str(), payment_status.as_str()),
        ("confirmed", "completed")
    );
    assert_eq!(payments, ["confirmed"]);

    // The provider's own delayed webhook for an approved payment is harmless.
    let second = reserve(&world.pool, &buyer, 1, 300).await;
    world
        .mock
        .set_default_scenario(Scenario::ApproveWithDelayedWebhook);
    assert_eq!(process(&world.app, &buyer, &second).await.status, 200);
    for _ in 0..50 {
        if world.mock.counts().webhooks_sent >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(world.mock.counts().webhooks_sent, 1);
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM payment_webhook_events")
        .fetch_one(&world.pool)
        .await
        .expect("events");
    assert_eq!(events, 2);
    assert_eq!(world.mock.counts().total_captures(), 2);
    assert_ledger_balances(&world).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refunds_owed_across_a_provider_outage_are_delivered_exactly_once() {
    /// Cancels whose refund delivery fails between the commit and the provider.
    const CANCELS: usize = 50;
    let world = world().await;
    let buyer = user(false);
    let mut reservations = Vec::new();
    for _ in 0..CANCELS {
        let r = reserve(&world.pool, &buyer, 1, 300).await;
        let paid = process(&world.app, &buyer, &r).await;
        assert_eq!(paid.status, 200, "{}", paid.body);
        reservations.push(r);
    }
    world.mock.set_down(true).await.expect("down");
    for r in &reservations {
        let cancelled = post(
            &world.app,
            &format!("/api/v1/reservations/{}/cancel", r.id),
            &buyer,
            json!({}),
        )
        .await;
        assert_eq!(cancelled.status, 200, "{}", cancelled.body);
        assert!(
            cancelled.body["message"]
                .as_str()
                .unwrap_or("")
                .contains("on its way"),
            "{}",
            cancelled.body
        );
    }
    let owed: i64 =
        sqlx::query_scalar("SELECT count(*) FROM payment_outbox WHERE status = 'pending'")
            .fetch_one(&world.pool)
            .await
            .expect("owed");
    assert_eq!(owed, CANCELS as i64);
    world.mock.set_down(false).await.expect("up");

    // Recovery: the delivery pass, then a forced second pass and the buyer's own next call.
    let first = deliver(&world.app).await;
    let second = deliver(&world.app).await;
    let mine = get(&world.app, "/api/v1/payments/user/me?limit=100", &buyer).await;
    assert_eq!(mine.status, 200);
    let counts = world.mock.counts();
    println!(
        "{CANCELS} refunds owed across an outage: first pass {first}, second pass {second}; \
         provider refunds {} (requests {}), duplicates {}",
        counts.total_refunds(),
        counts.refund_requests.values().sum::<u32>(),
        counts.duplicate_refunds
    );
    assert_eq!(first["refundsDelivered"], CANCELS);
    assert_eq!(counts.total_refunds(), CANCELS as u32);
    assert!(counts.refunds.values().all(|n| *n == 1), "{counts:?}");
    let delivered: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM payment_outbox WHERE status = 'delivered' AND attempts >= 2",
    )
    .fetch_one(&world.pool)
    .await
    .expect("delivered");
    assert_eq!(
        delivered, CANCELS as i64,
        "each failed once, then was delivered"
    );
    let again = post(
        &world.app,
        &format!("/api/v1/reservations/{}/cancel", reservations[0].id),
        &buyer,
        json!({}),
    )
    .await;
    assert_eq!(again.status, 409);
    assert_eq!(world.mock.counts().total_refunds(), CANCELS as u32);
    assert_ledger_balances(&world).await;
    // Counted with each change: a refund that failed to deliver and was delivered later counts
    // once recorded and once delivered; the refused second cancel counts nothing.
    let counters = world.app.business_counters().await;
    let n = CANCELS as i64;
    for (name, expected) in [
        ("reservations_created", n),
        ("reservations_confirmed", n),
        ("payments_confirmed", n),
        ("reservations_cancelled", n),
        ("refunds_recorded", n),
        ("refunds_delivered", n),
        ("payments_refunded", n),
        ("payments_failed", 0),
        ("voids_recorded", 0),
    ] {
        assert_eq!(counters[name], expected, "{name}: {counters:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payments_are_read_and_cancelled_by_their_owner_only() {
    let world = world().await;
    let buyer = user(false);
    let stranger = user(false);
    let reservation = reserve(&world.pool, &buyer, 1, 300).await;
    let paid = process(&world.app, &buyer, &reservation).await;
    assert_eq!(paid.status, 200, "{}", paid.body);
    let order_id = paid.body["payment"]["orderId"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let payment_key = paid.body["payment"]["paymentKey"]
        .as_str()
        .unwrap_or("")
        .to_string();

    let mine = get(
        &world.app,
        &format!("/api/v1/payments/order/{order_id}"),
        &buyer,
    )
    .await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    assert_eq!(mine.body["payment"]["status"], "confirmed");
    let theirs = get(
        &world.app,
        &format!("/api/payments/order/{order_id}"),
        &stranger,
    )
    .await;
    assert_eq!(theirs.status, 404);
    let list = get(
        &world.app,
        "/api/v1/payments/user/me?limit=1000&offset=-3",
        &buyer,
    )
    .await;
    assert_eq!(
        list.body["pagination"],
        json!({"limit": 100, "offset": 0, "total": 1})
    );
    assert_eq!(
        get(&world.app, "/api/v1/payments/user/me", &stranger)
            .await
            .body["payments"],
        json!([])
    );
    assert_eq!(
        send(world.app.get("/api/v1/payments/user/me")).await.status,
        401
    );

    let path = format!("/api/v1/payments/{payment_key}/cancel");
    assert_eq!(
        post(&world.app, &path, &stranger, json!({})).await.status,
        404
    );
    assert_eq!(
        post(
            &world.app,
            &format!("/api/v1/reservations/{}/cancel", reservation.id),
            &stranger,
            json!({})
        )
        .await
        .status,
        404
    );
    let cancelled = post(&world.app, &path, &buyer, json!({})).await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    assert_eq!(cancelled.body["refundAmount"], reservation.amount);
    assert_eq!(post(&world.app, &path, &buyer, json!({})).await.status, 400);
    let (status, payment_status, payments) = statuses(&world.pool, &reservation).await;
    assert_eq!(
        (status.as_str(), payment_status.as_str()),
        ("cancelled", "refunded")
    );
    assert_eq!(payments, ["refunded"]);
    assert_eq!(
        seat_statuses(&world.pool, &reservation).await,
        ["available"]
    );
    let non_admin = post(
        &world.app,
        "/api/v1/payments/outbox/deliver",
        &buyer,
        json!({}),
    )
    .await;
    assert_eq!(non_admin.status, 403);
    assert_ledger_balances(&world).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_postgres_down_pay_is_503_and_nothing_is_captured() {
    let world = world_with(|o| {
        o.variable(
            "pg_address_payments",
            "postgres://urr_payments@127.0.0.1:1/urr",
        )
        .variable(
            "pg_address_metrics",
            "postgres://urr_metrics@127.0.0.1:1/urr",
        )
        .variable("pg_host", "127.0.0.1:1")
    })
    .await;
    // /metrics still answers, and says the Postgres counters could not be read.
    let metrics = world.app.metrics().await;
    assert_eq!(
        urr_tests::metric(&metrics, "urr_business_db_up"),
        Some(0),
        "{metrics}"
    );
    assert!(
        !metrics.contains("urr_reservations_created_total"),
        "{metrics}"
    );
    let buyer = user(false);
    let fake = Reservation {
        id: uuid::Uuid::new_v4().to_string(),
        event_id: String::new(),
        amount: SEAT_PRICE,
    };
    let answer = process(&world.app, &buyer, &fake).await;
    assert_eq!(answer.status, 503, "{}", answer.body);
    assert!(answer.retry_after.is_some());
    assert!(world.mock.counts().charge_requests.is_empty());
}

/// OWASP API authorization (C17) over every route that names a reservation or a payment: another
/// user's object is refused (never 2xx), the refusal leaks none of its identifiers, and nothing
/// changes; the intruder's own lists stay empty; the admin-only payment route refuses a user.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_users_reservation_and_payment_are_refused_on_every_route() {
    let world = world().await;
    let (owner, intruder) = (user(false), user(false));
    let reservation = reserve(&world.pool, &owner, 1, 300).await;
    let paid = process(&world.app, &owner, &reservation).await;
    assert_eq!(paid.status, 200, "{}", paid.body);
    let order_id = paid.body["payment"]["orderId"]
        .as_str()
        .expect("order")
        .to_string();
    let payment_key = paid.body["payment"]["paymentKey"]
        .as_str()
        .expect("payment key")
        .to_string();
    let id = &reservation.id;
    let attempts: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", format!("/api/v1/reservations/{id}"), None),
        ("GET", format!("/api/v1/seats/reservation/{id}"), None),
        ("POST", format!("/api/v1/reservations/{id}/cancel"), None),
        ("GET", format!("/api/v1/payments/order/{order_id}"), None),
        (
            "POST",
            format!("/api/v1/payments/{payment_key}/cancel"),
            Some(json!({"cancelReason": "mine now"})),
        ),
        (
            "POST",
            "/api/v1/payments/prepare".into(),
            Some(json!({"reservationId": id, "amount": reservation.amount})),
        ),
        (
            "POST",
            "/api/v1/payments/process".into(),
            Some(json!({"reservationId": id, "paymentMethod": "card"})),
        ),
        (
            "POST",
            "/api/v1/payments/confirm".into(),
            Some(
                json!({"paymentKey": payment_key, "orderId": order_id, "amount": reservation.amount}),
            ),
        ),
        (
            "POST",
            "/api/v1/payments/outbox/deliver".into(),
            Some(json!({})),
        ),
    ];
    for (method, path, body) in &attempts {
        let request = match *method {
            "GET" => world.app.get(path),
            _ => world.app.post(path),
        }
        .bearer_auth(&intruder.token);
        let request = match body {
            Some(body) => request.json(body),
            None => request,
        };
        let answer = send(request).await;
        let text = answer.body.to_string();
        println!("{method} {path} as another user: {} {text}", answer.status);
        // Another user's object answers exactly like a missing one; the admin route, 403.
        let expected = if path.ends_with("/outbox/deliver") {
            403
        } else {
            404
        };
        assert_eq!(answer.status, expected, "{method} {path}: {text}");
        for secret in [order_id.as_str(), payment_key.as_str(), &format!("R-{id}")] {
            assert!(
                !text.contains(secret),
                "{method} {path} leaks {secret}: {text}"
            );
        }
    }
    // Nothing changed: still confirmed and paid once, nothing refunded.
    let (status, payment_status, payments) = statuses(&world.pool, &reservation).await;
    assert_eq!(
        (
            status.as_str(),
            payment_status.as_str(),
            payments.as_slice()
        ),
        ("confirmed", "completed", &["confirmed".to_string()][..])
    );
    assert_eq!(world.mock.counts().total_refunds(), 0);
    // The intruder's own lists hold nothing of the owner's.
    let mine = get(&world.app, "/api/v1/reservations/my", &intruder).await;
    assert_eq!(mine.body["reservations"], json!([]), "{}", mine.body);
    let payments = get(&world.app, "/api/v1/payments/user/me", &intruder).await;
    assert_eq!(payments.body["payments"], json!([]), "{}", payments.body);
    assert_ledger_balances(&world).await;
}
