//! The `memberships` component and paying for a membership through `pay`, end to end against
//! the mock provider: subscribe (idempotent, 404/409/400s, sessions), the reads with expiry
//! computed when read, another user's membership refused (BOLA), the pay flow by `process` and by
//! `prepare` + `confirm` (activation and its 200 points in the confirming transaction, a repeat
//! replaying the first answer, never a second capture), renewal, and TICKET_PURCHASE points:
//! earned once per confirmed purchase, taken back once per refund, the tier recomputed. The
//! ledgers (events and memberships) and the provider's own account balance after each test.

use crate::payments::{Answer, Reservation, User, World, get, post, reserve, send, user, world};
use serde_json::{Value, json};

const PRICE: i32 = 30_000;

/// A new artist, straight in the table (the admin route is `artists`' to test).
async fn artist(world: &World, name: &str) -> String {
    sqlx::query_scalar("INSERT INTO artists (name) VALUES ($1) RETURNING id::text")
        .bind(name)
        .fetch_one(&world.pool)
        .await
        .expect("artist")
}

async fn subscribe(world: &World, who: &User, artist: &str) -> Answer {
    post(
        &world.app,
        "/api/v1/memberships/subscribe",
        who,
        json!({"artistId": artist}),
    )
    .await
}

async fn pay_membership(world: &World, who: &User, membership: &str) -> Answer {
    post(
        &world.app,
        "/api/v1/payments/process",
        who,
        json!({"paymentType": "membership", "referenceId": membership, "paymentMethod": "naver_pay"}),
    )
    .await
}

/// Subscribes and pays: the membership id.
async fn member(world: &World, who: &User, artist: &str) -> String {
    let subscribed = subscribe(world, who, artist).await;
    assert_eq!(subscribed.status, 201, "{}", subscribed.body);
    let id = subscribed.body["membershipId"]
        .as_str()
        .expect("id")
        .to_string();
    let paid = pay_membership(world, who, &id).await;
    assert_eq!(paid.status, 200, "{}", paid.body);
    id
}

async fn points(world: &World, membership: &str) -> (i64, String, i64) {
    let (points, tier): (i32, String) =
        sqlx::query_as("SELECT points, tier FROM artist_memberships WHERE id = $1::uuid")
            .bind(membership)
            .fetch_one(&world.pool)
            .await
            .expect("membership");
    let logged: i64 = sqlx::query_scalar(
        "SELECT coalesce(sum(points), 0)::int8 FROM membership_point_logs WHERE membership_id = $1::uuid",
    )
    .bind(membership)
    .fetch_one(&world.pool)
    .await
    .expect("log");
    (i64::from(points), tier, logged)
}

/// Both ledgers balance and, together, match the provider's own account.
async fn assert_all_ledgers_balance(world: &World) {
    let rows: Vec<(String, i64, i64, i64, i64, bool)> = sqlx::query_as(
        "SELECT artist_id::text, captured, refunded, refund_owed, value_sold, balanced \
         FROM membership_ledger",
    )
    .fetch_all(&world.pool)
    .await
    .expect("membership ledger");
    let mut memberships_sold = 0;
    for (artist, captured, refunded, owed, sold, balanced) in &rows {
        assert!(
            *balanced && *owed == 0,
            "artist {artist}: captured {captured} refunded {refunded} owed {owed} sold {sold}"
        );
        memberships_sold += sold;
    }
    let events_sold: i64 =
        sqlx::query_scalar("SELECT coalesce(sum(value_sold), 0)::int8 FROM payment_ledger")
            .fetch_one(&world.pool)
            .await
            .expect("ledger");
    let counts = world.mock.counts();
    assert_eq!(
        counts.captured_amount - counts.refunded_amount,
        events_sold + memberships_sold,
        "the provider's account is what was sold: {counts:?}"
    );
    assert_eq!(counts.duplicate_refunds, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_then_process_activates_once_with_the_welcome_points() {
    let world = world().await;
    let fan = user(false);
    let artist = artist(&world, "Membership Artist").await;

    let first = subscribe(&world, &fan, &artist).await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.body["status"], "pending");
    assert_eq!(first.body["price"], PRICE);
    assert_eq!(first.body["artistName"], "Membership Artist");
    let id = first.body["membershipId"].as_str().expect("id").to_string();
    let again = subscribe(&world, &fan, &artist).await;
    assert_eq!(
        (again.status, &again.body["membershipId"]),
        (201, &json!(id)),
        "idempotent"
    );

    // Pending is not a membership yet: hidden from the reads, BRONZE, the price from the server.
    let mine = get(&world.app, "/api/v1/memberships/my", &fan).await;
    assert_eq!(mine.body["memberships"], json!([]));
    let one = get(
        &world.app,
        &format!("/api/v1/memberships/my/{artist}"),
        &fan,
    )
    .await;
    assert_eq!(
        one.body,
        json!({"membership": {}, "pointHistory": [], "tier": "BRONZE"})
    );
    let benefits = get(
        &world.app,
        &format!("/api/v1/memberships/benefits/{artist}"),
        &fan,
    )
    .await;
    assert_eq!(benefits.status, 200, "{}", benefits.body);
    assert_eq!(
        (&benefits.body["tier"], &benefits.body["membership_price"]),
        (&json!("BRONZE"), &json!(PRICE))
    );

    let paid = pay_membership(&world, &fan, &id).await;
    assert_eq!(paid.status, 200, "{}", paid.body);
    assert_eq!(paid.body["payment"]["amount"], PRICE, "the server's amount");
    let payment_id = paid.body["payment"]["id"].clone();
    assert_eq!(points(&world, &id).await, (200, "SILVER".into(), 200));

    // A repeat replays the first answer; nothing is charged again.
    let replay = pay_membership(&world, &fan, &id).await;
    assert_eq!(
        (replay.status, &replay.body["payment"]["id"]),
        (200, &payment_id)
    );
    assert_eq!(world.mock.counts().total_captures(), 1);
    assert_eq!(points(&world, &id).await.0, 200);

    let mine = get(&world.app, "/api/v1/memberships/my", &fan).await;
    let row = &mine.body["memberships"][0];
    assert_eq!(
        (&row["status"], &row["effective_tier"], &row["points"]),
        (&json!("active"), &json!("SILVER"), &json!(200))
    );
    assert_eq!(row["artist_name"], "Membership Artist");
    let one = get(
        &world.app,
        &format!("/api/v1/memberships/my/{artist}"),
        &fan,
    )
    .await;
    assert_eq!(one.body["membership"]["id"], json!(id));
    assert_eq!(
        one.body["pointHistory"][0]["action_type"],
        "MEMBERSHIP_JOIN"
    );
    assert_eq!(one.body["pointHistory"][0]["points"], 200);
    assert_eq!(one.body["benefits"]["preSaleLabel"], "선예매 3");
    let benefits = get(
        &world.app,
        &format!("/api/v1/memberships/benefits/{artist}"),
        &fan,
    )
    .await;
    assert_eq!(
        (&benefits.body["tier"], &benefits.body["transferFeePercent"]),
        (&json!("SILVER"), &json!(10))
    );
    let (_, page) = world
        .app
        .get_json(&format!("/api/v1/artists/{artist}"))
        .await;
    assert_eq!(page["memberCount"], 1);

    let member = subscribe(&world, &fan, &artist).await;
    assert_eq!(
        (member.status, member.body["code"].as_str()),
        (409, Some("already_member"))
    );
    let not_pending = pay_membership(&world, &user(false), &id).await;
    assert_eq!(
        not_pending.status, 404,
        "another user's: {}",
        not_pending.body
    );
    assert_all_ledgers_balance(&world).await;
    assert_ledger_balances_of_events(&world).await;
}

/// The events' ledger on its own (no event is sold in some tests: empty and balanced).
async fn assert_ledger_balances_of_events(world: &World) {
    let unbalanced: i64 =
        sqlx::query_scalar("SELECT count(*) FROM payment_ledger WHERE NOT balanced")
            .fetch_one(&world.pool)
            .await
            .expect("ledger");
    assert_eq!(unbalanced, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepare_and_confirm_pay_a_membership_at_the_servers_price_only() {
    let world = world().await;
    let fan = user(false);
    let artist = artist(&world, "Widget Artist").await;
    sqlx::query("UPDATE artists SET membership_price = 45000 WHERE id = $1::uuid")
        .bind(&artist)
        .execute(&world.pool)
        .await
        .expect("price");
    let id = subscribe(&world, &fan, &artist).await.body["membershipId"]
        .as_str()
        .expect("id")
        .to_string();
    let prepare = |amount: i32| {
        post(
            &world.app,
            "/api/v1/payments/prepare",
            &fan,
            json!({"paymentType": "membership", "referenceId": id, "amount": amount}),
        )
    };
    let wrong = prepare(PRICE).await;
    assert_eq!(
        (wrong.status, wrong.body["code"].as_str()),
        (400, Some("amount_mismatch"))
    );
    let prepared = prepare(45_000).await;
    assert_eq!(prepared.status, 200, "{}", prepared.body);
    let order = prepared.body["orderId"]
        .as_str()
        .expect("order")
        .to_string();
    assert_eq!(
        prepare(45_000).await.body["orderId"],
        json!(order),
        "reused"
    );

    let confirm = |who: &User, amount: i32| {
        let request = world
            .app
            .post("/api/v1/payments/confirm")
            .bearer_auth(&who.token)
            .json(&json!({"paymentKey": "pk_widget_m1", "orderId": order, "amount": amount}));
        send(request)
    };
    let stranger = user(false);
    assert_eq!(
        confirm(&stranger, 45_000).await.status,
        404,
        "another user's order"
    );
    assert_eq!(confirm(&fan, 44_999).await.status, 400);
    let confirmed = confirm(&fan, 45_000).await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    let again = confirm(&fan, 45_000).await;
    assert_eq!(again.status, 400);
    assert!(
        again.body["message"]
            .as_str()
            .unwrap_or("")
            .contains("already confirmed")
    );
    assert_eq!(points(&world, &id).await, (200, "SILVER".into(), 200));
    let after = prepare(45_000).await;
    assert_eq!(
        (after.status, after.body["code"].as_str()),
        (409, Some("membership_not_pending"))
    );
    assert_eq!(world.mock.counts().total_captures(), 1);
    let record = get(&world.app, &format!("/api/v1/payments/order/{order}"), &fan).await;
    assert_eq!(record.body["payment"]["paymentType"], "membership");
    assert_eq!(record.body["payment"]["referenceId"], json!(id));
    assert_all_ledgers_balance(&world).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_sessions_and_other_users_memberships_are_refused_changing_nothing() {
    let world = world().await;
    let owner = user(false);
    let thief = user(false);
    let artist = artist(&world, "Guarded Artist").await;
    let id = subscribe(&world, &owner, &artist).await.body["membershipId"]
        .as_str()
        .expect("id")
        .to_string();

    // BOLA: another user's membership is not found, on every payment route.
    let stolen = pay_membership(&world, &thief, &id).await;
    assert_eq!(
        (stolen.status, stolen.body["code"].as_str()),
        (404, Some("membership_not_found"))
    );
    let prepared = post(
        &world.app,
        "/api/v1/payments/prepare",
        &thief,
        json!({"paymentType": "membership", "referenceId": id, "amount": PRICE}),
    )
    .await;
    assert_eq!(
        (prepared.status, prepared.body["code"].as_str()),
        (404, Some("membership_not_found"))
    );
    let unknown = uuid::Uuid::new_v4().to_string();
    assert_eq!(pay_membership(&world, &owner, &unknown).await.status, 404);
    for (body, code) in [
        (
            json!({"paymentType": "membership", "paymentMethod": "card"}),
            "missing_field",
        ),
        (
            json!({"paymentType": "membership", "referenceId": "nope", "paymentMethod": "card"}),
            "invalid_id",
        ),
        (
            json!({"paymentType": "resale", "referenceId": id, "paymentMethod": "card"}),
            "invalid_payment_type",
        ),
    ] {
        let bad = post(&world.app, "/api/v1/payments/process", &owner, body.clone()).await;
        assert_eq!(
            (bad.status, bad.body["code"].as_str()),
            (400, Some(code)),
            "{body}"
        );
    }
    let payments: i64 = sqlx::query_scalar("SELECT count(*) FROM payments")
        .fetch_one(&world.pool)
        .await
        .expect("count");
    assert_eq!(payments, 0, "no refusal wrote a payment");
    assert_eq!(world.mock.counts().total_captures(), 0);

    // The membership routes: sessions, ids, bodies.
    let paths = [
        format!("/api/v1/memberships/my/{artist}"),
        format!("/api/v1/memberships/benefits/{artist}"),
        "/api/v1/memberships/my".to_string(),
    ];
    for path in &paths {
        let anon = send(world.app.get(path)).await;
        assert_eq!(anon.status, 401, "{path}");
    }
    let anon = send(
        world
            .app
            .post("/api/v1/memberships/subscribe")
            .json(&json!({"artistId": artist})),
    )
    .await;
    assert_eq!(anon.status, 401);
    for path in [
        "/api/v1/memberships/my/nope",
        "/api/v1/memberships/benefits/nope",
    ] {
        let bad = get(&world.app, path, &owner).await;
        assert_eq!(
            (bad.status, bad.body["code"].as_str()),
            (400, Some("invalid_id")),
            "{path}"
        );
    }
    let missing = get(
        &world.app,
        &format!("/api/v1/memberships/benefits/{unknown}"),
        &owner,
    )
    .await;
    assert_eq!(
        (missing.status, missing.body["code"].as_str()),
        (404, Some("artist_not_found"))
    );
    for (body, status, code) in [
        (json!({}), 400, "missing_field"),
        (json!({"artistId": "x"}), 400, "invalid_id"),
        (json!("artist"), 400, "invalid_body"),
        (json!({"artistId": unknown}), 404, "artist_not_found"),
    ] {
        let bad = post(
            &world.app,
            "/api/v1/memberships/subscribe",
            &owner,
            body.clone(),
        )
        .await;
        assert_eq!(
            (bad.status, bad.body["code"].as_str()),
            (status, Some(code)),
            "{body}"
        );
    }
    // The thief's reads show only the thief's (nothing).
    let theirs = get(
        &world.app,
        &format!("/api/v1/memberships/my/{artist}"),
        &thief,
    )
    .await;
    assert_eq!(theirs.body["tier"], "BRONZE");
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM artist_memberships")
        .fetch_one(&world.pool)
        .await
        .expect("count");
    assert_eq!(rows, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_membership_reads_as_expired_and_renews_with_its_points() {
    let world = world().await;
    let fan = user(false);
    let artist = artist(&world, "Renewal Artist").await;
    let id = member(&world, &fan, &artist).await;
    sqlx::query("UPDATE artist_memberships SET expires_at = now() - interval '1 second' WHERE id = $1::uuid")
        .bind(&id)
        .execute(&world.pool)
        .await
        .expect("expire");

    let mine = get(&world.app, "/api/v1/memberships/my", &fan).await;
    let row = &mine.body["memberships"][0];
    assert_eq!(
        (&row["status"], &row["effective_tier"]),
        (&json!("expired"), &json!("BRONZE"))
    );
    let benefits = get(
        &world.app,
        &format!("/api/v1/memberships/benefits/{artist}"),
        &fan,
    )
    .await;
    assert_eq!(benefits.body["tier"], "BRONZE");
    let (_, page) = world
        .app
        .get_json(&format!("/api/v1/artists/{artist}"))
        .await;
    assert_eq!(
        page["memberCount"], 0,
        "an expired membership counts for nothing"
    );

    let renewed = subscribe(&world, &fan, &artist).await;
    assert_eq!(
        (renewed.status, &renewed.body["membershipId"]),
        (201, &json!(id))
    );
    assert_eq!(renewed.body["status"], "pending");
    assert_eq!(points(&world, &id).await.0, 200, "points kept");
    let paid = pay_membership(&world, &fan, &id).await;
    assert_eq!(paid.status, 200, "{}", paid.body);
    assert_eq!(points(&world, &id).await, (400, "SILVER".into(), 400));
    let history = get(
        &world.app,
        &format!("/api/v1/memberships/my/{artist}"),
        &fan,
    )
    .await;
    assert_eq!(
        history.body["pointHistory"][0]["action_type"],
        "MEMBERSHIP_RENEW"
    );
    assert_eq!(
        world.mock.counts().total_captures(),
        2,
        "one charge per year"
    );
    assert_all_ledgers_balance(&world).await;
}

/// A pending reservation of `seats` seats of a new event of "Points Artist" (the event's
/// `artist_name` resolves to the artist).
async fn buy(world: &World, fan: &User, seats: i32) -> Reservation {
    let reservation = reserve(&world.pool, fan, seats, 300).await;
    sqlx::query("UPDATE events SET artist_name = 'Points Artist' WHERE id = $1::uuid")
        .bind(&reservation.event_id)
        .execute(&world.pool)
        .await
        .expect("the event's artist");
    reservation
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ticket_points_are_earned_once_per_purchase_and_taken_back_once_per_refund() {
    let world = world().await;
    let fan = user(false);
    let artist = artist(&world, "Points Artist").await;
    let id = member(&world, &fan, &artist).await;
    // 250 more points from elsewhere, so one purchase crosses into GOLD (500).
    sqlx::query(
        "WITH l AS (INSERT INTO membership_point_logs (membership_id, action_type, points) \
                    VALUES ($1::uuid, 'TEST_BONUS', 250)) \
         UPDATE artist_memberships SET points = points + 250, tier = membership_tier(points + 250) \
          WHERE id = $1::uuid",
    )
    .bind(&id)
    .execute(&world.pool)
    .await
    .expect("bonus");

    let first = buy(&world, &fan, 2).await;
    let paid = crate::payments::process(&world.app, &fan, &first).await;
    assert_eq!(paid.status, 200, "{}", paid.body);
    assert_eq!(
        points(&world, &id).await,
        (550, "GOLD".into(), 550),
        "100 per reservation"
    );
    let replay = crate::payments::process(&world.app, &fan, &first).await;
    assert_eq!(replay.status, 200);
    assert_eq!(points(&world, &id).await.0, 550, "a replay earns nothing");

    // Someone without a membership earns nothing (and the event's artist changes nothing else).
    let stranger = user(false);
    let theirs = reserve(&world.pool, &stranger, 1, 300).await;
    sqlx::query("UPDATE events SET artist_name = 'Points Artist' WHERE id = $1::uuid")
        .bind(&theirs.event_id)
        .execute(&world.pool)
        .await
        .expect("artist");
    assert_eq!(
        crate::payments::process(&world.app, &stranger, &theirs)
            .await
            .status,
        200
    );
    let strangers: i64 =
        sqlx::query_scalar("SELECT count(*) FROM artist_memberships WHERE user_id = $1::uuid")
            .bind(&stranger.id)
            .fetch_one(&world.pool)
            .await
            .expect("count");
    assert_eq!(strangers, 0);

    // The refund takes them back, once; the tier follows.
    let cancel = |r: &Reservation| {
        let path = format!("/api/v1/reservations/{}/cancel", r.id);
        send(
            world
                .app
                .post(&path)
                .bearer_auth(&fan.token)
                .json(&json!({})),
        )
    };
    let cancelled = cancel(&first).await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    assert_eq!(points(&world, &id).await, (450, "SILVER".into(), 450));
    assert_eq!(cancel(&first).await.status, 409);
    assert_eq!(points(&world, &id).await.0, 450, "taken back once");
    let history = get(
        &world.app,
        &format!("/api/v1/memberships/my/{artist}"),
        &fan,
    )
    .await;
    let actions: Vec<Value> = history.body["pointHistory"]
        .as_array()
        .expect("history")
        .iter()
        .map(|e| json!([e["action_type"], e["points"]]))
        .collect();
    assert!(
        actions.contains(&json!(["TICKET_PURCHASE", 100])),
        "{actions:?}"
    );
    assert!(
        actions.contains(&json!(["TICKET_PURCHASE_REVERSED", -100])),
        "{actions:?}"
    );

    // A second purchase earns again (its own reference), a provider refund takes it back.
    let second = buy(&world, &fan, 1).await;
    assert_eq!(
        crate::payments::process(&world.app, &fan, &second)
            .await
            .status,
        200
    );
    assert_eq!(points(&world, &id).await, (550, "GOLD".into(), 550));
    let order: String =
        sqlx::query_scalar("SELECT order_id FROM payments WHERE reservation_id = $1::uuid")
            .bind(&second.id)
            .fetch_one(&world.pool)
            .await
            .expect("order");
    assert!(
        world
            .mock
            .refund_from_console(&order)
            .await
            .expect("console refund")
    );
    let mut settled = false;
    for _ in 0..50 {
        if points(&world, &id).await.0 == 450 {
            settled = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        settled,
        "the provider's refund takes the points back: {:?}",
        points(&world, &id).await
    );
    assert_eq!(points(&world, &id).await, (450, "SILVER".into(), 450));
    crate::payments::deliver(&world.app).await;
    assert_all_ledgers_balance(&world).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_payments_of_one_membership_charge_once() {
    /// Parallel `process` calls for one pending membership.
    const CALLS: usize = 100;
    let world = world().await;
    let fan = user(false);
    let artist = artist(&world, "Storm Artist").await;
    let id = subscribe(&world, &fan, &artist).await.body["membershipId"]
        .as_str()
        .expect("id")
        .to_string();
    let answers =
        futures::future::join_all((0..CALLS).map(|_| pay_membership(&world, &fan, &id))).await;
    let mut statuses = std::collections::BTreeMap::new();
    let mut ids = std::collections::BTreeSet::new();
    for a in &answers {
        *statuses.entry(a.status).or_insert(0) += 1;
        if a.status == 200 {
            ids.insert(a.body["payment"]["id"].to_string());
        }
    }
    let captures = world.mock.counts().total_captures();
    println!("{CALLS} parallel membership payments: statuses {statuses:?}, captures {captures}");
    assert!(
        statuses.keys().all(|s| [200, 409, 503].contains(s)),
        "{statuses:?}"
    );
    assert!(statuses.get(&200).is_some_and(|n| *n >= 1));
    assert!(
        statuses.get(&200).is_some_and(|n| *n < CALLS),
        "a real contest loses some races"
    );
    assert_eq!(ids.len(), 1, "every 200 names the same payment");
    assert_eq!(captures, 1);
    assert_eq!(points(&world, &id).await, (200, "SILVER".into(), 200));
    assert_all_ledgers_balance(&world).await;
}
