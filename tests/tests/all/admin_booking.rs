//! The admin rules that meet the booking side: seats are never deleted from under a live
//! reservation, cancelling an event cancels its reservations (refunds recorded for paid ones),
//! ticket totals never drop below what is sold, an event with reservations is never deleted,
//! operators may only cancel a reservation, and the dashboard and reservation list count it all.
//! Reservations and payments are inserted by SQL in the states the booking schema defines (see
//! its "seat row states" comment), so these tests need no booking component.

use reqwest::Method;
use serde_json::json;
use sqlx::PgConnection;

use crate::admin::{Admin, admin_app, count};

/// A reservation of one seat, in the states of migrations/20261130000001_booking_schema.sql:
/// `pending` (seat `locked` by it, expiring in 5 minutes, or already expired when
/// `expired_already`), or `confirmed` with a confirmed card payment (seat `reserved`).
pub(crate) async fn reserve_seat(
    db: &mut PgConnection,
    event_id: &str,
    seat_id: &str,
    status: &str,
    expired_already: bool,
) -> String {
    reserve_seat_for(
        db,
        uuid::Uuid::new_v4(),
        event_id,
        seat_id,
        status,
        expired_already,
    )
    .await
}

/// [`reserve_seat`] for a given buyer.
pub(crate) async fn reserve_seat_for(
    db: &mut PgConnection,
    user: uuid::Uuid,
    event_id: &str,
    seat_id: &str,
    status: &str,
    expired_already: bool,
) -> String {
    let expires = if expired_already {
        "-1 minute"
    } else {
        "5 minutes"
    };
    let reservation_id: String = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "INSERT INTO reservations (reservation_number, user_id, event_id, kind, total_amount, \
                                   status, payment_status, payment_method, expires_at, confirmed_at) \
         SELECT 'R-' || substr(md5(random()::text), 1, 12), $1, $2::uuid, 'seated', s.price, $3, \
                CASE WHEN $3 = 'confirmed' THEN 'completed' ELSE 'pending' END, \
                CASE WHEN $3 = 'confirmed' THEN 'card' END, \
                now() + interval '{expires}', \
                CASE WHEN $3 = 'confirmed' THEN now() END \
         FROM seats AS s WHERE s.id = $4::uuid \
         RETURNING id::text"
    )))
    .bind(user)
    .bind(event_id)
    .bind(status)
    .bind(seat_id)
    .fetch_one(&mut *db)
    .await
    .expect("inserting a reservation");
    sqlx::query(
        "INSERT INTO reservation_items (reservation_id, seat_id, quantity, unit_price, fencing_token) \
         SELECT $1::uuid, s.id, 1, s.price, 1 FROM seats AS s WHERE s.id = $2::uuid",
    )
    .bind(&reservation_id)
    .bind(seat_id)
    .execute(&mut *db)
    .await
    .expect("inserting its item");
    sqlx::query(
        "UPDATE seats AS s SET status = CASE WHEN r.status = 'confirmed' THEN 'reserved' ELSE 'locked' END, \
                reservation_id = r.id, \
                held_by = CASE WHEN r.status = 'pending' THEN r.user_id END, \
                hold_expires_at = CASE WHEN r.status = 'pending' THEN r.expires_at END, \
                fencing_token = 1, version = s.version + 1 \
         FROM reservations AS r WHERE r.id = $1::uuid AND s.id = $2::uuid",
    )
    .bind(&reservation_id)
    .bind(seat_id)
    .execute(&mut *db)
    .await
    .expect("holding the seat");
    if status == "confirmed" {
        sqlx::query(
            "INSERT INTO payments (order_id, reservation_id, user_id, amount, method, status, \
                                   payment_key, idempotency_key, approved_at) \
             SELECT 'order-' || r.id, r.id, r.user_id, r.total_amount, 'card', 'confirmed', \
                    'pk-' || r.id, 'idem-' || r.id, now() \
             FROM reservations AS r WHERE r.id = $1::uuid",
        )
        .bind(&reservation_id)
        .execute(&mut *db)
        .await
        .expect("inserting its payment");
    }
    reservation_id
}

/// A fresh seated event (small theater, 265 seats generated) and its first `n` seat ids.
pub(crate) async fn seated_event(
    t: &Admin,
    db: &mut PgConnection,
    n: i64,
) -> (String, Vec<String>) {
    let layout = t.layout_id("small_theater").await;
    let event_id = t.create_event(Some(&layout), json!([])).await;
    let reply = t
        .admin(
            Method::POST,
            &format!("/admin/events/{event_id}/generate-seats"),
            None,
        )
        .await;
    assert_eq!(reply.body["seatsCreated"], 265, "{}", reply.body);
    let seats: Vec<String> = sqlx::query_scalar(
        "SELECT id::text FROM seats WHERE event_id = $1::uuid \
         ORDER BY section, row_number, seat_number LIMIT $2",
    )
    .bind(&event_id)
    .bind(n)
    .fetch_all(&mut *db)
    .await
    .expect("seats");
    (event_id, seats)
}

async fn reservation_status(db: &mut PgConnection, id: &str) -> String {
    sqlx::query_scalar("SELECT status FROM reservations WHERE id = $1::uuid")
        .bind(id)
        .fetch_one(db)
        .await
        .expect("reservation")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seats_are_never_deleted_while_a_live_reservation_holds_one() {
    let t = admin_app().await;
    let mut db = t.db().await;

    // Pending, not yet expired: refused.
    let (pending_event, seats) = seated_event(&t, &mut db, 1).await;
    reserve_seat(&mut db, &pending_event, &seats[0], "pending", false).await;
    let path = format!("/admin/events/{pending_event}/seats");
    let reply = t.admin(Method::DELETE, &path, None).await;
    assert_eq!(
        (reply.status, reply.body["code"].as_str()),
        (409, Some("seats_in_use")),
        "{}",
        reply.body
    );

    // Confirmed: refused.
    let (paid_event, seats) = seated_event(&t, &mut db, 1).await;
    reserve_seat(&mut db, &paid_event, &seats[0], "confirmed", false).await;
    let reply = t
        .admin(
            Method::DELETE,
            &format!("/admin/events/{paid_event}/seats"),
            None,
        )
        .await;
    assert_eq!(
        (reply.status, reply.body["code"].as_str()),
        (409, Some("seats_in_use"))
    );

    // A pending reservation past its expiry holds nothing, but its item is history: still kept.
    let (expired_event, seats) = seated_event(&t, &mut db, 1).await;
    reserve_seat(&mut db, &expired_event, &seats[0], "pending", true).await;
    let reply = t
        .admin(
            Method::DELETE,
            &format!("/admin/events/{expired_event}/seats"),
            None,
        )
        .await;
    assert_eq!(
        (reply.status, reply.body["code"].as_str()),
        (409, Some("seats_have_history"))
    );

    for event in [&pending_event, &paid_event, &expired_event] {
        let seats = count(
            &mut db,
            &format!("SELECT count(*) FROM seats WHERE event_id = '{event}'"),
        )
        .await;
        assert_eq!(seats, 265, "a refused delete keeps every seat");
    }

    // Nothing ever reserved: deleted, audited, and generation starts over.
    let (free_event, _) = seated_event(&t, &mut db, 0).await;
    let reply = t
        .admin(
            Method::DELETE,
            &format!("/admin/events/{free_event}/seats"),
            None,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["seatsDeleted"], 265);
    let audited = count(
        &mut db,
        &format!(
            "SELECT count(*) FROM admin_audit_log WHERE action = 'event.delete_seats' \
             AND resource_id = '{free_event}' AND resulting_status = 'seats_deleted'"
        ),
    )
    .await;
    assert_eq!(audited, 1);
    let regenerated = t
        .admin(
            Method::POST,
            &format!("/admin/events/{free_event}/generate-seats"),
            None,
        )
        .await;
    assert_eq!(regenerated.body["seatsCreated"], 265);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_an_event_frees_pending_seats_and_records_a_refund_for_a_paid_one() {
    let t = admin_app().await;
    let mut db = t.db().await;
    let (event_id, seats) = seated_event(&t, &mut db, 3).await;
    let pending = reserve_seat(&mut db, &event_id, &seats[0], "pending", false).await;
    let paid = reserve_seat(&mut db, &event_id, &seats[1], "confirmed", false).await;
    let stale = reserve_seat(&mut db, &event_id, &seats[2], "pending", true).await;
    let price: i32 = sqlx::query_scalar("SELECT price FROM seats WHERE id = $1::uuid")
        .bind(&seats[1])
        .fetch_one(&mut db)
        .await
        .expect("price");

    let reply = t
        .admin(
            Method::POST,
            &format!("/admin/events/{event_id}/cancel"),
            Some(&json!({"reason": "artist ill"})),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["event"]["status"], "cancelled");
    assert_eq!(reply.body["reservationsCancelled"], 2, "{}", reply.body);
    assert_eq!(reply.body["reservationsExpired"], 1);
    assert_eq!(reply.body["refundsRecorded"], 1);

    assert_eq!(reservation_status(&mut db, &pending).await, "cancelled");
    assert_eq!(reservation_status(&mut db, &paid).await, "cancelled");
    assert_eq!(reservation_status(&mut db, &stale).await, "expired");
    let held = count(
        &mut db,
        &format!(
            "SELECT count(*) FROM seats WHERE event_id = '{event_id}' AND status <> 'available'"
        ),
    )
    .await;
    assert_eq!(held, 0, "every seat is back on sale");
    let (amount, status, reason): (i32, String, String) = sqlx::query_as(
        "SELECT o.amount, o.status, o.reason FROM payment_outbox AS o \
         JOIN payments AS p ON p.id = o.payment_id \
         WHERE p.reservation_id = $1::uuid AND o.action = 'refund'",
    )
    .bind(&paid)
    .fetch_one(&mut db)
    .await
    .expect("the refund is in the outbox");
    assert_eq!((amount, status.as_str()), (price, "pending"));
    assert!(reason.contains("artist ill"), "{reason}");
    let (cancelled, title_status): (bool, String) = sqlx::query_as(
        "SELECT cancelled, event_status(cancelled, sale_start_date, sale_end_date, now()) \
         FROM events WHERE id = $1::uuid",
    )
    .bind(&event_id)
    .fetch_one(&mut db)
    .await
    .expect("event");
    assert_eq!((cancelled, title_status.as_str()), (true, "cancelled"));

    // Once is enough; a cancelled event is final.
    let again = t
        .admin(
            Method::POST,
            &format!("/admin/events/{event_id}/cancel"),
            None,
        )
        .await;
    assert_eq!(
        (again.status, again.body["code"].as_str()),
        (409, Some("already_cancelled"))
    );
    let edit = t
        .admin(
            Method::PUT,
            &format!("/admin/events/{event_id}"),
            Some(&json!({"title": "Back"})),
        )
        .await;
    assert_eq!(
        (edit.status, edit.body["code"].as_str()),
        (409, Some("event_cancelled"))
    );

    // The dashboard sees the refund waiting for delivery.
    let dashboard = t.admin(Method::GET, "/admin/dashboard", None).await;
    assert_eq!(dashboard.status, 200, "{}", dashboard.body);
    assert_eq!(
        dashboard.body["pendingRefunds"]["count"], 1,
        "{}",
        dashboard.body
    );
    assert_eq!(dashboard.body["pendingRefunds"]["amount"], price);
    assert_eq!(dashboard.body["events"]["cancelled"], 1);
    assert_eq!(dashboard.body["reservations"]["cancelled"], 2);
    assert_eq!(dashboard.body["reservations"]["expired"], 1);
    let audit = count(
        &mut db,
        &format!(
            "SELECT count(*) FROM admin_audit_log WHERE action = 'event.cancel' \
             AND resource_id = '{event_id}' AND request_summary ->> 'refundsRecorded' = '1'"
        ),
    )
    .await;
    assert_eq!(audit, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ticket_totals_never_drop_below_what_is_sold() {
    let t = admin_app().await;
    let mut db = t.db().await;
    let event_id = t
        .create_event(
            None,
            json!([{"name": "GA", "price": 50000, "totalQuantity": 100}]),
        )
        .await;
    let ticket_id: String =
        sqlx::query_scalar("SELECT id::text FROM ticket_types WHERE event_id = $1::uuid")
            .bind(&event_id)
            .fetch_one(&mut db)
            .await
            .expect("ticket type");
    // 30 sold.
    sqlx::query("UPDATE ticket_types SET available_quantity = 70 WHERE id = $1::uuid")
        .bind(&ticket_id)
        .execute(&mut db)
        .await
        .expect("selling 30");
    let path = format!("/admin/tickets/{ticket_id}");

    let below = t
        .admin(Method::PUT, &path, Some(&json!({"totalQuantity": 29})))
        .await;
    assert_eq!(
        (below.status, below.body["code"].as_str()),
        (409, Some("below_sold")),
        "{}",
        below.body
    );
    assert!(
        below.body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("30")
    );

    let shrink = t
        .admin(Method::PUT, &path, Some(&json!({"totalQuantity": 50})))
        .await;
    assert_eq!(shrink.status, 200, "{}", shrink.body);
    let ticket = &shrink.body["ticketType"];
    assert_eq!(
        (
            ticket["total_quantity"].as_i64(),
            ticket["available_quantity"].as_i64()
        ),
        (Some(50), Some(20))
    );

    let exact = t
        .admin(
            Method::PUT,
            &path,
            Some(&json!({"totalQuantity": 30, "price": 55000})),
        )
        .await;
    let ticket = &exact.body["ticketType"];
    assert_eq!(
        (
            ticket["total_quantity"].as_i64(),
            ticket["available_quantity"].as_i64()
        ),
        (Some(30), Some(0))
    );
    assert_eq!(ticket["price"], 55000);

    let grow = t
        .admin(Method::PUT, &path, Some(&json!({"totalQuantity": 130})))
        .await;
    let ticket = &grow.body["ticketType"];
    assert_eq!(
        (
            ticket["total_quantity"].as_i64(),
            ticket["available_quantity"].as_i64()
        ),
        (Some(130), Some(100))
    );

    let (total, available): (i32, i32) = sqlx::query_as(
        "SELECT total_quantity, available_quantity FROM ticket_types WHERE id = $1::uuid",
    )
    .bind(&ticket_id)
    .fetch_one(&mut db)
    .await
    .expect("ticket type");
    assert_eq!(total - available, 30, "sold never moves");

    // A second type of the same name is a conflict; a new name is created with all available.
    let tickets = format!("/admin/events/{event_id}/tickets");
    let dup = t
        .admin(
            Method::POST,
            &tickets,
            Some(&json!({"name": "GA", "price": 1, "totalQuantity": 1})),
        )
        .await;
    assert_eq!(
        (dup.status, dup.body["code"].as_str()),
        (409, Some("duplicate_name"))
    );
    let vip = t
        .admin(
            Method::POST,
            &tickets,
            Some(&json!({"name": "VIP", "price": 99000, "totalQuantity": 10})),
        )
        .await;
    assert_eq!(vip.status, 201, "{}", vip.body);
    assert_eq!(vip.body["ticketType"]["available_quantity"], 10);
    let audited = count(
        &mut db,
        "SELECT count(*) FROM admin_audit_log WHERE resource_type = 'ticket_type'",
    )
    .await;
    assert_eq!(
        audited, 4,
        "three updates and one create; refusals write nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_with_reservations_is_never_deleted() {
    let t = admin_app().await;
    let mut db = t.db().await;
    let (booked, seats) = seated_event(&t, &mut db, 1).await;
    let reservation = reserve_seat(&mut db, &booked, &seats[0], "pending", false).await;
    // Even once cancelled, the reservation is history that keeps its event.
    let cancel = t
        .admin(
            Method::PATCH,
            &format!("/admin/reservations/{reservation}/status"),
            Some(&json!({"status": "cancelled"})),
        )
        .await;
    assert_eq!(cancel.status, 200, "{}", cancel.body);
    let reply = t
        .admin(Method::DELETE, &format!("/admin/events/{booked}"), None)
        .await;
    assert_eq!(
        (reply.status, reply.body["code"].as_str()),
        (409, Some("has_reservations"))
    );
    assert!(
        reply.body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("cancel")
    );

    let (unbooked, _) = seated_event(&t, &mut db, 0).await;
    let reply = t
        .admin(Method::DELETE, &format!("/admin/events/{unbooked}"), None)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let left = count(
        &mut db,
        &format!("SELECT count(*) FROM events WHERE id = '{unbooked}'"),
    )
    .await;
    assert_eq!(left, 0);
    let seats_left = count(
        &mut db,
        &format!("SELECT count(*) FROM seats WHERE event_id = '{unbooked}'"),
    )
    .await;
    assert_eq!(seats_left, 0, "its seats went with it");
    let again = t
        .admin(Method::DELETE, &format!("/admin/events/{unbooked}"), None)
        .await;
    assert_eq!(again.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_may_only_cancel_a_reservation_and_a_paid_one_is_refunded() {
    let t = admin_app().await;
    let mut db = t.db().await;
    let (event_id, seats) = seated_event(&t, &mut db, 2).await;
    let pending = reserve_seat(&mut db, &event_id, &seats[0], "pending", false).await;
    let paid = reserve_seat(&mut db, &event_id, &seats[1], "confirmed", false).await;
    let status_of = |id: &str| format!("/admin/reservations/{id}/status");

    for (target, status, code) in [
        ("confirmed", 409, "transition_not_allowed"),
        ("refunded", 409, "transition_not_allowed"),
        ("pending", 400, "invalid_status"),
        ("expired", 400, "invalid_status"),
    ] {
        let reply = t
            .admin(
                Method::PATCH,
                &status_of(&pending),
                Some(&json!({"status": target})),
            )
            .await;
        assert_eq!(
            (reply.status, reply.body["code"].as_str()),
            (status, Some(code)),
            "{target}"
        );
    }
    let reply = t
        .admin(
            Method::PATCH,
            &status_of(&pending),
            Some(&json!({"status": "cancelled", "reason": "duplicate order"})),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["reservation"]["status"], "cancelled");
    assert_eq!(reply.body["reservation"]["refundPending"], false);
    let again = t
        .admin(
            Method::PATCH,
            &status_of(&pending),
            Some(&json!({"status": "cancelled"})),
        )
        .await;
    assert_eq!(
        (again.status, again.body["code"].as_str()),
        (409, Some("already_cancelled"))
    );

    let reply = t
        .admin(
            Method::PATCH,
            &status_of(&paid),
            Some(&json!({"status": "cancelled"})),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["reservation"]["refundPending"], true);
    assert!(
        reply.body["reservation"]["refundAmount"]
            .as_i64()
            .is_some_and(|a| a > 0)
    );
    let refunds = count(
        &mut db,
        "SELECT count(*) FROM payment_outbox WHERE action = 'refund'",
    )
    .await;
    assert_eq!(refunds, 1);

    let missing = uuid::Uuid::new_v4().to_string();
    let reply = t
        .admin(
            Method::PATCH,
            &status_of(&missing),
            Some(&json!({"status": "cancelled"})),
        )
        .await;
    assert_eq!(reply.status, 404);
    let audited = count(
        &mut db,
        "SELECT count(*) FROM admin_audit_log WHERE action = 'reservation.status'",
    )
    .await;
    assert_eq!(audited, 2, "two changes; refusals write nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reservations_are_listed_newest_first_by_status_and_paged() {
    let t = admin_app().await;
    let mut db = t.db().await;
    let (event_id, seats) = seated_event(&t, &mut db, 5).await;
    let mut pending = Vec::new();
    for seat in &seats[..3] {
        pending.push(reserve_seat(&mut db, &event_id, seat, "pending", false).await);
    }
    reserve_seat(&mut db, &event_id, &seats[3], "confirmed", false).await;
    reserve_seat(&mut db, &event_id, &seats[4], "pending", true).await;

    let all = t.admin(Method::GET, "/admin/reservations", None).await;
    assert_eq!(all.status, 200, "{}", all.body);
    assert_eq!(all.body["pagination"]["total"], 5);
    let first = &all.body["reservations"][0];
    assert_eq!(first["event_title"], "Admin Test Concert");
    assert!(
        first["created_at"]
            .as_str()
            .is_some_and(|s| s.ends_with('Z'))
    );

    let page = t
        .admin(
            Method::GET,
            "/admin/reservations?status=pending&limit=2&page=2",
            None,
        )
        .await;
    assert_eq!(page.body["pagination"]["total"], 3, "{}", page.body);
    assert_eq!(page.body["pagination"]["totalPages"], 2);
    assert_eq!(page.body["reservations"].as_array().map(Vec::len), Some(1));
    let expired = t
        .admin(Method::GET, "/admin/reservations?status=expired", None)
        .await;
    assert_eq!(
        expired.body["pagination"]["total"], 1,
        "the effective status counts"
    );
    let beyond = t
        .admin(Method::GET, "/admin/reservations?page=50", None)
        .await;
    assert_eq!(beyond.status, 200);
    assert_eq!(beyond.body["reservations"], json!([]));
    assert_eq!(beyond.body["pagination"]["total"], 5);

    let dashboard = t.admin(Method::GET, "/admin/dashboard", None).await;
    let d = &dashboard.body;
    assert_eq!(d["reservations"]["pending"], 3, "{d}");
    assert_eq!(d["reservations"]["confirmed"], 1);
    assert_eq!(d["reservations"]["expired"], 1);
    assert!(d["revenue"].as_i64().is_some_and(|r| r > 0), "{d}");
    assert_eq!(d["seatsSold"], 1);
    assert_eq!(d["events"]["total"], 7);
}
