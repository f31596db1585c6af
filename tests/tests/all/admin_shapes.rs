//! The admin pages as URR's web app reads them: the dashboard's `stats` cards and recent
//! reservations (checked against counts taken from the rows the test made), the buyers' names on
//! the reservation list, and the status change the web sends (`confirmed`, `cancelled`,
//! `refunded`) with its effects — a paid reservation's refund recorded in the payments outbox
//! exactly once, however many operators press 환불 at the same time.

use reqwest::Method;
use serde_json::{Value, json};
use sqlx::PgConnection;

use crate::admin::{Admin, admin_app, call, count};
use crate::admin_booking::{reserve_seat_for, seated_event};

/// A user row the reservations can name (the auth schema's shape; the hash is never checked).
async fn insert_user(db: &mut PgConnection, name: &str, email: &str) -> uuid::Uuid {
    sqlx::query_scalar(
        "INSERT INTO users (email, password_hash, name) \
         VALUES ($1, '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', $2) RETURNING id",
    )
    .bind(email)
    .bind(name)
    .fetch_one(db)
    .await
    .expect("inserting a user")
}

fn status_path(id: &str) -> String {
    format!("/admin/reservations/{id}/status")
}

/// Reservations in every state the dashboard tells apart, for one named buyer.
struct Booked {
    buyer: uuid::Uuid,
    paid: String,
    pending: String,
    expired: String,
    cancelled: String,
}

async fn book(t: &Admin, db: &mut PgConnection) -> Booked {
    let buyer = insert_user(db, "Kim Minji", "minji@example.com").await;
    let (event_id, seats) = seated_event(t, db, 4).await;
    let paid = reserve_seat_for(db, buyer, &event_id, &seats[0], "confirmed", false).await;
    let pending = reserve_seat_for(db, buyer, &event_id, &seats[1], "pending", false).await;
    let expired = reserve_seat_for(db, buyer, &event_id, &seats[2], "pending", true).await;
    let cancelled = reserve_seat_for(db, buyer, &event_id, &seats[3], "pending", false).await;
    let reply = t
        .admin(
            Method::PATCH,
            &status_path(&cancelled),
            Some(&json!({"status": "cancelled"})),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    Booked {
        buyer,
        paid,
        pending,
        expired,
        cancelled,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_admins_reach_the_web_s_admin_shapes() {
    let t = admin_app().await;
    let some_id = uuid::Uuid::new_v4().to_string();
    let routes = [
        (Method::GET, "/admin/dashboard".to_string()),
        (Method::GET, "/admin/dashboard/stats".to_string()),
        (Method::GET, "/admin/reservations".to_string()),
        (Method::PATCH, status_path(&some_id)),
    ];
    let body = json!({"status": "cancelled"});
    for (method, path) in &routes {
        let anon = call(&t.app, method.clone(), path, None, Some(&body)).await;
        assert_eq!(
            (anon.status, anon.body["code"].as_str()),
            (401, Some("unauthenticated")),
            "{method} {path}"
        );
        let user = call(
            &t.app,
            method.clone(),
            path,
            Some(&t.user_token),
            Some(&body),
        )
        .await;
        assert_eq!(
            (user.status, user.body["code"].as_str()),
            (403, Some("admin_required")),
            "{method} {path}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_cards_count_what_the_rows_say() {
    let t = admin_app().await;
    let mut db = t.db().await;
    let booked = book(&t, &mut db).await;

    // Independently of the function under test: from the rows themselves.
    let events = count(&mut db, "SELECT count(*) FROM events").await;
    let paid_amount = count(
        &mut db,
        "SELECT coalesce(sum(amount), 0)::int8 FROM payments WHERE status = 'confirmed'",
    )
    .await;
    assert!(paid_amount > 0);

    for path in ["/admin/dashboard", "/admin/dashboard/stats"] {
        let reply = t.admin(Method::GET, path, None).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.cache_control, "no-store");
        let stats = &reply.body["stats"];
        assert_eq!(stats["totalEvents"], events, "{stats}");
        // Live: the paid one and the pending one; not the expired or the cancelled one.
        assert_eq!(stats["totalReservations"], 2, "{stats}");
        assert_eq!(stats["todayReservations"], 2, "{stats}");
        assert_eq!(stats["totalRevenue"], paid_amount, "{stats}");
        // The richer fields stay beside them.
        assert_eq!(reply.body["reservations"]["total"], 4, "{}", reply.body);
        let recent = reply.body["recentReservations"]
            .as_array()
            .expect("recentReservations");
        assert_eq!(recent.len(), 4);
        let mut ids: Vec<&str> = recent.iter().filter_map(|r| r["id"].as_str()).collect();
        ids.sort_unstable();
        let mut expected = vec![
            booked.paid.as_str(),
            booked.pending.as_str(),
            booked.expired.as_str(),
            booked.cancelled.as_str(),
        ];
        expected.sort_unstable();
        assert_eq!(ids, expected);
        for r in recent {
            assert_eq!(r["user_name"], "Kim Minji", "{r}");
            assert_eq!(r["user_email"], "minji@example.com");
            assert_eq!(r["user_id"], booked.buyer.to_string());
            assert_eq!(r["event_title"], "Admin Test Concert");
        }
        let expired = recent
            .iter()
            .find(|r| r["id"] == booked.expired.as_str())
            .expect("expired listed");
        assert_eq!(expired["status"], "expired", "the effective status");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reservations_carry_the_buyer_s_name_and_e_mail() {
    let t = admin_app().await;
    let mut db = t.db().await;
    let booked = book(&t, &mut db).await;
    let (event_id, seats) = seated_event(&t, &mut db, 1).await;
    let stranger = uuid::Uuid::new_v4();
    let unknown = reserve_seat_for(&mut db, stranger, &event_id, &seats[0], "pending", false).await;

    let reply = call(
        &t.app,
        Method::GET,
        "/admin/reservations",
        Some(&t.admin_token),
        None,
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let rows = reply.body["reservations"].as_array().expect("reservations");
    assert_eq!(rows.len(), 5);
    for row in rows {
        if row["id"] == unknown.as_str() {
            assert_eq!(row["user_name"], Value::Null, "no account: null");
            assert_eq!(row["user_email"], Value::Null);
        } else {
            assert_eq!(row["user_name"], "Kim Minji", "{row}");
            assert_eq!(row["user_email"], "minji@example.com");
            assert_eq!(row["user_id"], booked.buyer.to_string());
        }
        assert_eq!(row["venue"], "Test Hall");
        assert!(row["event_date"].as_str().is_some_and(|d| d.ends_with('Z')));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_status_the_web_sends_has_its_effect_and_bad_ones_change_nothing() {
    let t = admin_app().await;
    let mut db = t.db().await;
    let booked = book(&t, &mut db).await;
    let audited = "SELECT count(*) FROM admin_audit_log WHERE action = 'reservation.status'";
    let before = count(&mut db, audited).await;

    let patch = |id: String, body: Value| {
        let t = &t;
        async move { t.admin(Method::PATCH, &status_path(&id), Some(&body)).await }
    };
    // Refusals, each with its code, and none writes anything.
    let refusals = [
        (
            &booked.pending,
            json!({"status": "confirmed"}),
            409,
            "transition_not_allowed",
        ),
        (
            &booked.pending,
            json!({"status": "refunded"}),
            409,
            "transition_not_allowed",
        ),
        (
            &booked.expired,
            json!({"status": "cancelled"}),
            409,
            "already_cancelled",
        ),
        (
            &booked.expired,
            json!({"status": "refunded"}),
            409,
            "already_cancelled",
        ),
        (
            &booked.expired,
            json!({"status": "confirmed"}),
            409,
            "transition_not_allowed",
        ),
        (
            &booked.cancelled,
            json!({"status": "cancelled"}),
            409,
            "already_cancelled",
        ),
        (
            &booked.cancelled,
            json!({"status": "confirmed"}),
            409,
            "transition_not_allowed",
        ),
        (
            &booked.pending,
            json!({"status": "paid"}),
            400,
            "invalid_status",
        ),
        (
            &booked.pending,
            json!({"status": "pending"}),
            400,
            "invalid_status",
        ),
        (
            &booked.pending,
            json!({"paymentStatus": "pending"}),
            400,
            "invalid_status",
        ),
        (&booked.pending, json!({}), 400, "missing_field"),
        (
            &booked.pending,
            json!({"reason": "why"}),
            400,
            "missing_field",
        ),
    ];
    for (id, body, status, code) in refusals {
        let reply = patch(id.clone(), body.clone()).await;
        assert_eq!(
            (reply.status, reply.body["code"].as_str()),
            (status, Some(code)),
            "{body} on {id}: {}",
            reply.body
        );
    }
    let bad_id = t
        .admin(
            Method::PATCH,
            "/admin/reservations/not-a-uuid/status",
            Some(&json!({"status": "cancelled"})),
        )
        .await;
    assert_eq!(
        (bad_id.status, bad_id.body["code"].as_str()),
        (400, Some("invalid_id"))
    );
    let missing = patch(
        uuid::Uuid::new_v4().to_string(),
        json!({"status": "refunded"}),
    )
    .await;
    assert_eq!(missing.status, 404, "{}", missing.body);
    assert_eq!(
        count(&mut db, audited).await,
        before,
        "refusals audit nothing"
    );

    // `confirmed` on a confirmed reservation: 200, and nothing changes.
    let same = patch(booked.paid.clone(), json!({"status": "confirmed"})).await;
    assert_eq!(same.status, 200, "{}", same.body);
    assert_eq!(same.body["reservation"]["status"], "confirmed");
    assert_eq!(same.body["reservation"]["payment_status"], "completed");
    assert_eq!(same.body["reservation"]["refundPending"], false);
    assert_eq!(count(&mut db, audited).await, before);

    // `cancelled` on a live pending one: cancelled, its seat back on sale, nothing to refund.
    let cancel = call(
        &t.app,
        Method::PATCH,
        &status_path(&booked.pending),
        Some(&t.admin_token),
        Some(&json!({"status": "cancelled"})),
    )
    .await;
    assert_eq!(cancel.status, 200, "{}", cancel.body);
    assert_eq!(cancel.body["reservation"]["status"], "cancelled");
    assert_eq!(cancel.body["reservation"]["refundPending"], false);
    let seat_free = count(
        &mut db,
        &format!(
            "SELECT count(*) FROM seats WHERE reservation_id = '{}'",
            booked.pending
        ),
    )
    .await;
    assert_eq!(seat_free, 0, "its seat is released");
    assert_eq!(count(&mut db, audited).await, before + 1);
    assert_eq!(
        count(&mut db, "SELECT count(*) FROM payment_outbox").await,
        0,
        "no money moved for an unpaid reservation"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_pressed_by_many_operators_at_once_is_recorded_once() {
    let t = admin_app().await;
    let mut db = t.db().await;
    let booked = book(&t, &mut db).await;
    let amount = count(
        &mut db,
        &format!(
            "SELECT amount::int8 FROM payments WHERE reservation_id = '{}'",
            booked.paid
        ),
    )
    .await;

    const OPERATORS: usize = 8;
    let path = status_path(&booked.paid);
    let body = json!({"status": "refunded", "reason": "customer request"});
    let replies = futures::future::join_all((0..OPERATORS).map(|i| {
        // Half send the web's `status`, half URR's `paymentStatus`: the same refund.
        let body = if i % 2 == 0 {
            body.clone()
        } else {
            json!({"paymentStatus": "refunded"})
        };
        let (t, path) = (&t, &path);
        async move {
            call(
                &t.app,
                Method::PATCH,
                path,
                Some(&t.admin_token),
                Some(&body),
            )
            .await
        }
    }))
    .await;
    let ok: Vec<_> = replies.iter().filter(|r| r.status == 200).collect();
    let refused = replies
        .iter()
        .filter(|r| r.status == 409 && r.body["code"] == "already_cancelled")
        .count();
    println!(
        "concurrent refunds: {} accepted, {refused} refused as already cancelled",
        ok.len()
    );
    assert_eq!(ok.len(), 1, "exactly one refund accepted");
    assert_eq!(refused, OPERATORS - 1, "every other press refused");
    let accepted = &ok[0].body["reservation"];
    assert_eq!(accepted["status"], "cancelled");
    assert_eq!(accepted["refundPending"], true);
    assert_eq!(accepted["refundAmount"], amount);
    assert_eq!(
        accepted["payment_status"], "completed",
        "refunded only once the provider confirms"
    );

    let outbox = count(
        &mut db,
        "SELECT count(*) FROM payment_outbox WHERE action = 'refund'",
    )
    .await;
    assert_eq!(outbox, 1, "one refund in the outbox");
    let owed = count(
        &mut db,
        "SELECT coalesce(sum(amount), 0)::int8 FROM payment_outbox WHERE action = 'refund'",
    )
    .await;
    assert_eq!(owed, amount, "the whole captured amount, once");
    let audits = count(
        &mut db,
        &format!(
            "SELECT count(*) FROM admin_audit_log WHERE action = 'reservation.status' \
             AND resource_id = '{}'",
            booked.paid
        ),
    )
    .await;
    assert_eq!(audits, 1, "one change, one audit row");

    // Pressing it again later changes nothing either.
    let again = t
        .admin(Method::PATCH, &path, Some(&json!({"status": "cancelled"})))
        .await;
    assert_eq!(
        (again.status, again.body["code"].as_str()),
        (409, Some("already_cancelled"))
    );
    let outbox = count(&mut db, "SELECT count(*) FROM payment_outbox").await;
    assert_eq!(outbox, 1);
}
