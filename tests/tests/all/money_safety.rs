//! Money safety through the real host: each test reproduces a hole an outside review found —
//! a reserve racing an event cancel, payments for a cancelled event, a stale re-send failed on
//! our side alone, one broken row stopping reconciliation, an over-capture stored as a sale, a
//! refund made at the provider ignored — and requires the rule that closes it.

use crate::booking_support::{self, Show};
use crate::payments::{
    STALE_WAIT, World, assert_ledger_balances, deliver, get, now_secs, order_id, post, process,
    reserve, seat_statuses, send, signed, statuses, user, world,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Connection as _;
use std::time::Duration;
use urr_mock_provider::{Config, MockProvider, OVER_CAPTURE_EXTRA, Scenario};
use urr_tests::AppOptions;

/// The longest the racing event cancel keeps its transaction open while it waits for the
/// reserves sent meanwhile to reach Postgres (it commits as soon as they wait on its lock).
const CANCEL_HELD_OPEN: Duration = Duration::from_secs(5);

/// A show whose application reaches a mock provider.
async fn show_with_provider() -> (Show, MockProvider) {
    let mock = MockProvider::start("127.0.0.1:0", Config::default())
        .await
        .expect("mock provider");
    let options = AppOptions::application().payment_provider(&mock).variable(
        "rate_limits",
        "auth=60,queue=120,booking=5000,default=60000",
    );
    let show = booking_support::show(options, 1, 10).await;
    (show, mock)
}

/// Runs `admin_cancel_event` for the show's event in a transaction held open while `during`
/// runs, until `waiters` statements of the test database wait on a lock (the reserves reached
/// Postgres while the cancel was in flight) or `during` finished without waiting (at most
/// [`CANCEL_HELD_OPEN`]), then commits.
async fn cancel_event_while<F: std::future::Future>(
    show: &Show,
    waiters: i64,
    during: F,
) -> F::Output {
    let mut conn = booking_support::db(&show.app).await;
    let mut watch = booking_support::db(&show.app).await;
    let mut tx = conn.begin().await.expect("begin");
    let outcome: String = sqlx::query_scalar(
        "SELECT outcome FROM admin_cancel_event(gen_random_uuid(), NULL, '{}', $1::uuid, 'race')",
    )
    .bind(&show.event_id)
    .fetch_one(&mut *tx)
    .await
    .expect("cancel");
    assert_eq!(outcome, "cancelled");
    let during = std::pin::pin!(during);
    let mut during = futures::FutureExt::fuse(during);
    let deadline = tokio::time::Instant::now() + CANCEL_HELD_OPEN;
    let mut finished = None;
    while tokio::time::Instant::now() < deadline {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity \
              WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(&mut watch)
        .await
        .expect("lock waiters");
        if waiting >= waiters {
            println!("{waiting} statements wait on the cancel's lock: committing it");
            break;
        }
        tokio::select! {
            output = &mut during => { finished = Some(output); break; }
            () = tokio::time::sleep(Duration::from_millis(50)) => {}
        }
    }
    tx.commit().await.expect("commit the cancel");
    match finished {
        Some(output) => output,
        None => during.await,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reserve_racing_an_event_cancel_is_refused_and_never_paid() {
    let (show, _mock) = show_with_provider().await;
    let standing = booking_support::buyer(&show).await;
    let seated = booking_support::buyer(&show).await;
    let seat = show.seats[0].clone();
    let seats = [seat.as_str()];
    let (held, body) = show.hold(&seated, &seats).await;
    assert_eq!(held, StatusCode::OK, "{body}");

    let ((standing_status, standing_body), (seated_status, seated_body)) =
        cancel_event_while(&show, 2, async {
            tokio::join!(
                show.reserve_standing(&standing, 2, None),
                show.reserve(&seated, &seats, None)
            )
        })
        .await;
    println!("standing: {standing_status} {standing_body}; seated: {seated_status} {seated_body}");

    let mut conn = booking_support::db(&show.app).await;
    let live: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM reservations WHERE event_id = $1::uuid \
           AND status IN ('pending', 'confirmed')",
    )
    .bind(&show.event_id)
    .fetch_one(&mut conn)
    .await
    .expect("reservations");
    assert_eq!(live, 0, "no live reservation of a cancelled event");
    for (name, status, body) in [
        ("standing", standing_status, &standing_body),
        ("seated", seated_status, &seated_body),
    ] {
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("event_not_on_sale")),
            "{name}: {body}"
        );
    }
    let (available, total): (i32, i32) = sqlx::query_as(
        "SELECT available_quantity, total_quantity FROM ticket_types WHERE id = $1::uuid",
    )
    .bind(&show.ticket_type_id)
    .fetch_one(&mut conn)
    .await
    .expect("ticket type");
    assert_eq!(available, total, "no standing ticket left the pool");
}

/// An order prepared for `reservation`, its id.
async fn prepare(world: &World, buyer: &crate::payments::User, id: &str, amount: i32) -> Value {
    let answer = post(
        &world.app,
        "/api/v1/payments/prepare",
        buyer,
        json!({"reservationId": id, "amount": amount}),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body
}

/// A signed provider webhook about `object`.
async fn webhook(world: &World, event_id: &str, object: Value) -> Value {
    let body = serde_json::to_vec(&json!({
        "eventId": event_id, "eventType": "PAYMENT_STATUS_CHANGED", "data": object,
    }))
    .expect("json");
    let answer = send(signed(
        world,
        &body,
        &world.mock.webhook_secret(),
        now_secs(),
    ))
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_path_takes_money_for_a_reservation_of_a_cancelled_event() {
    // Reservations the event cancel did not reach (made by a reserve that raced it before the
    // reserve locked the event): prepare, process, confirm and a capture webhook must all
    // refuse to sell them, and a capture that happens anyway is refunded.
    let world = world().await;
    let buyer = user(false);
    let by_process = reserve(&world.pool, &buyer, 1, 300).await;
    let by_widget = reserve(&world.pool, &buyer, 1, 300).await;
    let by_webhook = reserve(&world.pool, &buyer, 1, 300).await;
    let widget_order = prepare(&world, &buyer, &by_widget.id, by_widget.amount).await;
    world.mock.set_default_scenario(Scenario::UnknownOutcome);
    assert_eq!(process(&world.app, &buyer, &by_webhook).await.status, 502);
    world.mock.set_default_scenario(Scenario::Approve);
    sqlx::query(
        "UPDATE events SET cancelled = true, cancelled_at = now() WHERE id = ANY($1::uuid[])",
    )
    .bind(vec![
        by_process.event_id.clone(),
        by_widget.event_id.clone(),
        by_webhook.event_id.clone(),
    ])
    .execute(&world.pool)
    .await
    .expect("cancel the events");

    let prepared = post(
        &world.app,
        "/api/v1/payments/prepare",
        &buyer,
        json!({"reservationId": by_process.id, "amount": by_process.amount}),
    )
    .await;
    assert_eq!(
        (prepared.status, prepared.body["code"].as_str()),
        (409, Some("event_cancelled")),
        "prepare: {}",
        prepared.body
    );
    let processed = process(&world.app, &buyer, &by_process).await;
    assert_eq!(
        (processed.status, processed.body["code"].as_str()),
        (409, Some("event_cancelled")),
        "process: {}",
        processed.body
    );
    let confirmed = post(
        &world.app,
        "/api/v1/payments/confirm",
        &buyer,
        json!({"paymentKey": "pk_widget_cancelled", "orderId": widget_order["orderId"],
               "amount": by_widget.amount}),
    )
    .await;
    assert_eq!(
        (confirmed.status, confirmed.body["code"].as_str()),
        (409, Some("event_cancelled")),
        "confirm: {}",
        confirmed.body
    );
    assert_eq!(
        world.mock.counts().total_captures(),
        1,
        "only the capture made before the cancel"
    );

    // The capture made before the cancel arrives by webhook: refunded, never a ticket.
    let order_id = order_id(&world.pool, &by_webhook).await;
    let captured = world.mock.payment(&order_id).expect("captured");
    let applied = webhook(&world, "evt_cancelled_event", json!(captured)).await;
    assert_eq!(applied["outcome"], "refund_pending", "{applied}");
    for reservation in [&by_process, &by_widget] {
        let (status, payment_status, _) = statuses(&world.pool, reservation).await;
        assert_eq!(
            status, "pending",
            "never sold, left to expire: {payment_status}"
        );
    }
    let (status, failure): (String, Option<String>) = sqlx::query_as(
        "SELECT r.status, p.failure_code FROM reservations AS r \
           JOIN payments AS p ON p.reservation_id = r.id WHERE r.id = $1::uuid",
    )
    .bind(&by_webhook.id)
    .fetch_one(&world.pool)
    .await
    .expect("the captured one");
    assert_eq!(
        (status.as_str(), failure.as_deref()),
        ("cancelled", Some("event_cancelled"))
    );
    assert_eq!(seat_statuses(&world.pool, &by_webhook).await, ["available"]);
    deliver(&world.app).await;
    assert_eq!(world.mock.counts().total_refunds(), 1);
    assert_ledger_balances(&world).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_resend_while_the_provider_is_unreachable_never_fails_a_possible_capture() {
    let world = world().await;
    let buyer = user(false);
    let reservation = reserve(&world.pool, &buyer, 1, 300).await;
    // The first attempt is captured, but its answer is lost.
    world.mock.set_default_scenario(Scenario::UnknownOutcome);
    assert_eq!(process(&world.app, &buyer, &reservation).await.status, 502);
    tokio::time::sleep(STALE_WAIT).await;
    // The buyer retries while the provider cannot be reached: the re-send never leaves.
    world.mock.set_down(true).await.expect("provider down");
    let retried = process(&world.app, &buyer, &reservation).await;
    println!(
        "re-send while unreachable: {} {}",
        retried.status, retried.body
    );
    assert_eq!(retried.status, 502, "{}", retried.body);
    let (_, _, payments) = statuses(&world.pool, &reservation).await;
    assert_eq!(
        payments,
        ["processing"],
        "a payment that may be captured is never failed on our side alone"
    );

    // Once the provider is back and the re-send has gone stale too, the next re-send (same
    // idempotency key) gets the original capture back.
    world.mock.set_down(false).await.expect("provider up");
    world.mock.set_default_scenario(Scenario::Approve);
    tokio::time::sleep(STALE_WAIT).await;
    let paid = process(&world.app, &buyer, &reservation).await;
    assert_eq!(paid.status, 200, "{}", paid.body);
    deliver(&world.app).await;
    let counts = world.mock.counts();
    assert_eq!(counts.total_captures(), 1, "one charge: {counts:?}");
    let (status, _, payments) = statuses(&world.pool, &reservation).await;
    assert_eq!(
        (status.as_str(), payments.as_slice()),
        ("confirmed", &["confirmed".to_string()][..])
    );
    assert_ledger_balances(&world).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_over_capture_is_refunded_in_full_and_never_sold() {
    let world = world().await;
    let buyer = user(false);
    let reservation = reserve(&world.pool, &buyer, 1, 300).await;
    world
        .mock
        .set_amount_scenario(reservation.amount, Scenario::OverCapture);
    let answer = process(&world.app, &buyer, &reservation).await;
    assert_eq!(answer.status, 409, "{}", answer.body);
    let pass = deliver(&world.app).await;
    println!("after the over-capture: pass {pass}");
    let counts = world.mock.counts();
    assert_eq!(
        counts.refunded_amount,
        i64::from(reservation.amount + OVER_CAPTURE_EXTRA),
        "the whole capture goes back: {counts:?}"
    );
    let (status, _, payments) = statuses(&world.pool, &reservation).await;
    assert_ne!(status, "confirmed");
    assert_eq!(payments, ["refunded"]);
    assert_ledger_balances(&world).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_broken_row_is_parked_and_reconciliation_goes_on_for_everyone() {
    let world = world().await;
    let stuck_buyer = user(false);
    let other_buyer = user(false);
    // A payment whose outcome is unknown, and whose capture can never be recorded: the
    // provider's key for it already names another payment in our records.
    let stuck = reserve(&world.pool, &stuck_buyer, 1, 300).await;
    world.mock.set_default_scenario(Scenario::UnknownOutcome);
    assert_eq!(process(&world.app, &stuck_buyer, &stuck).await.status, 502);
    let order_id = order_id(&world.pool, &stuck).await;
    let key = world.mock.payment(&order_id).expect("captured").payment_key;
    world.mock.set_default_scenario(Scenario::Approve);
    let squatter = reserve(&world.pool, &other_buyer, 1, 300).await;
    assert_eq!(
        process(&world.app, &other_buyer, &squatter).await.status,
        200
    );
    sqlx::query("UPDATE payments SET payment_key = $1 WHERE reservation_id = $2::uuid")
        .bind(&key)
        .bind(&squatter.id)
        .execute(&world.pool)
        .await
        .expect("collide the key");
    // Work behind the broken row: another buyer's unknown outcome, started later (so listed
    // after it), and a refund owed.
    world.mock.set_default_scenario(Scenario::UnknownOutcome);
    let later = reserve(&world.pool, &other_buyer, 1, 300).await;
    assert_eq!(process(&world.app, &other_buyer, &later).await.status, 502);
    world.mock.set_default_scenario(Scenario::Approve);
    tokio::time::sleep(STALE_WAIT).await;

    let refunded = reserve(&world.pool, &other_buyer, 1, 300).await;
    assert_eq!(
        process(&world.app, &other_buyer, &refunded).await.status,
        200
    );
    world.mock.set_down(true).await.expect("provider down");
    let cancelled = post(
        &world.app,
        &format!("/api/v1/reservations/{}/cancel", refunded.id),
        &other_buyer,
        json!({}),
    )
    .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    world.mock.set_down(false).await.expect("provider up");

    let pass = deliver(&world.app).await;
    println!("delivery pass with one broken row: {pass}");
    assert_eq!(
        (
            &pass["parked"],
            &pass["confirmed"],
            &pass["refundsDelivered"]
        ),
        (&json!(1), &json!(1), &json!(1)),
        "{pass}"
    );
    let (_, _, payments) = statuses(&world.pool, &refunded).await;
    assert_eq!(payments, ["refunded"]);
    let (status, _, _) = statuses(&world.pool, &later).await;
    assert_eq!(
        status, "confirmed",
        "the row behind the broken one was resolved"
    );
    // The stuck buyer's own calls work.
    let mine = get(&world.app, "/api/v1/payments/user/me", &stuck_buyer).await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    let parked: (Option<String>,) =
        sqlx::query_as("SELECT parked_reason FROM payments WHERE reservation_id = $1::uuid")
            .bind(&stuck.id)
            .fetch_one(&world.pool)
            .await
            .expect("parked");
    assert!(
        parked.0.is_some(),
        "the broken row is parked with its reason"
    );

    let admin = user(true);
    let dashboard = get(&world.app, "/api/v1/admin/dashboard", &admin).await;
    assert_eq!(dashboard.status, 200, "{}", dashboard.body);
    assert_eq!(
        dashboard.body["parkedWork"]["payments"], 1,
        "{}",
        dashboard.body
    );
    assert_eq!(
        dashboard.body["counters"]["work"]["parked"], 1,
        "{}",
        dashboard.body
    );
    let metrics = world.app.metrics().await;
    assert_eq!(
        urr_tests::metric(&metrics, "urr_work_parked_total"),
        Some(1)
    );
    // A second pass does not try the parked row again (it would fail and count as parked).
    let again = deliver(&world.app).await;
    assert_eq!(again["parked"], 0, "{again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_made_at_the_provider_cancels_the_reservation_and_frees_its_seats() {
    let world = world().await;
    let buyer = user(false);
    let reservation = reserve(&world.pool, &buyer, 2, 300).await;
    assert_eq!(process(&world.app, &buyer, &reservation).await.status, 200);
    let order_id = order_id(&world.pool, &reservation).await;
    world
        .mock
        .set_webhook_url(&format!("{}/api/v1/payments/webhook", world.app.url));
    assert!(
        world
            .mock
            .refund_from_console(&order_id)
            .await
            .expect("console refund")
    );
    let (status, payment_status, payments) = statuses(&world.pool, &reservation).await;
    assert_eq!(
        (
            status.as_str(),
            payment_status.as_str(),
            payments.as_slice()
        ),
        ("cancelled", "refunded", &["refunded".to_string()][..])
    );
    assert_eq!(
        seat_statuses(&world.pool, &reservation).await,
        ["available", "available"]
    );
    // Applied once: the provider's replay of the same news changes nothing.
    let object = world.mock.payment(&order_id).expect("payment");
    let replay = webhook(&world, "evt_console_again", json!(object)).await;
    assert_ne!(replay["outcome"], "refunded_by_provider", "{replay}");
    assert_eq!(world.mock.counts().total_refunds(), 1);
    let admin = user(true);
    let dashboard = get(&world.app, "/api/v1/admin/dashboard", &admin).await;
    assert_eq!(
        dashboard.body["counters"]["refunds"]["by_provider"], 1,
        "{}",
        dashboard.body
    );
    assert_ledger_balances(&world).await;
}
