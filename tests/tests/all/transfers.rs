//! The `transfers` component and buying a listing through `pay`, end to end against the mock
//! provider: list (whole reservation, face value plus the seller's tier fee), browse, mine,
//! detail (`buyer_id` hidden from third parties), cancel; bad input and another user's objects
//! refused with nothing changed; the sale in the capture's transaction (the buyer owns the
//! reservation, the seller gets a payout of sales − fees, the listing completes, a repeat
//! replays); an event cancel refunding the CURRENT owner once; and the resale storm: 32 buyers
//! race for 10 listings while sellers cancel and an admin cancels the event, checked for double
//! sales, captures that are neither a ticket nor a refund, payouts and both ledgers against the
//! provider's own account — and the same storm against a sale without its guards is caught.

use crate::payments::{Answer, SEAT_PRICE, User, World, get, post, send, user, world, world_with};
use serde_json::{Value, json};
use sqlx::PgPool;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// SILVER (and no artist) fee of a 15,000 KRW ticket, and what the buyer pays.
const FEE_10: i32 = SEAT_PRICE / 10;
const TOTAL_10: i32 = SEAT_PRICE + FEE_10;

/// An event on sale, starting in 30 days, of the artist named `artist` ("": none; the insert
/// resolves the name to its artist, creating it when new).
async fn event(pool: &PgPool, artist: &str) -> String {
    sqlx::query_scalar(
        "INSERT INTO events (title, venue, event_date, sale_start_date, sale_end_date, \
                             artist_name) \
         VALUES ('Resale test', 'Hall', now() + interval '30 days', now() - interval '1 day', \
                 now() + interval '10 days', $1) RETURNING id::text",
    )
    .bind(artist)
    .fetch_one(pool)
    .await
    .expect("event")
}

/// A pending reservation of seat `seat` (locked for it), not yet paid.
async fn pending_ticket(pool: &PgPool, owner: &User, event_id: &str, seat: i32) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        "INSERT INTO reservations (id, reservation_number, user_id, event_id, kind, total_amount, \
                                   expires_at) \
         VALUES ($1::uuid, 'R-' || $1, $2::uuid, $3::uuid, 'seated', $4, \
                 now() + interval '10 minutes')",
    )
    .bind(&id)
    .bind(&owner.id)
    .bind(event_id)
    .bind(SEAT_PRICE)
    .execute(pool)
    .await
    .expect("reservation");
    sqlx::query(
        "INSERT INTO seats (event_id, section, row_number, seat_number, price, status, \
                            fencing_token, held_by, hold_expires_at, reservation_id) \
         SELECT $1::uuid, 'A', 1, $2, $3, 'locked', 100 + $2, $4::uuid, r.expires_at, r.id \
           FROM reservations AS r WHERE r.id = $5::uuid",
    )
    .bind(event_id)
    .bind(seat)
    .bind(SEAT_PRICE)
    .bind(&owner.id)
    .bind(&id)
    .execute(pool)
    .await
    .expect("seat");
    sqlx::query(
        "INSERT INTO reservation_items (reservation_id, seat_id, quantity, unit_price, fencing_token) \
         SELECT reservation_id, id, 1, price, fencing_token FROM seats WHERE reservation_id = $1::uuid",
    )
    .bind(&id)
    .execute(pool)
    .await
    .expect("item");
    id
}

/// A confirmed ticket of `owner`, paid through `pay` (so the provider holds its money).
async fn ticket(world: &World, owner: &User, event_id: &str, seat: i32) -> String {
    let id = pending_ticket(&world.pool, owner, event_id, seat).await;
    let paid = post(
        &world.app,
        "/api/v1/payments/process",
        owner,
        json!({"reservationId": id, "paymentMethod": "card"}),
    )
    .await;
    assert_eq!(paid.status, 200, "{}", paid.body);
    id
}

/// An active membership straight in the table (paying for one is `memberships`' to test).
async fn member(pool: &PgPool, who: &User, artist: &str, points: i32, tier: &str) {
    sqlx::query(
        "INSERT INTO artist_memberships (user_id, artist_id, tier, points, status, expires_at) \
         VALUES ($1::uuid, $2::uuid, $3, $4, 'active', now() + interval '1 year')",
    )
    .bind(&who.id)
    .bind(artist)
    .bind(tier)
    .bind(points)
    .execute(pool)
    .await
    .expect("membership");
}

async fn list(world: &World, seller: &User, reservation: &str) -> Answer {
    post(
        &world.app,
        "/api/v1/transfers",
        seller,
        json!({"reservationId": reservation}),
    )
    .await
}

/// Lists and returns the listing's id.
async fn listed(world: &World, seller: &User, reservation: &str) -> String {
    let answer = list(world, seller, reservation).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body["transfer"]["id"]
        .as_str()
        .expect("id")
        .to_string()
}

async fn buy(world: &World, buyer: &User, transfer: &str) -> Answer {
    post(
        &world.app,
        "/api/v1/payments/process",
        buyer,
        json!({"paymentType": "transfer", "referenceId": transfer, "paymentMethod": "card"}),
    )
    .await
}

async fn cancel_listing(world: &World, who: &User, transfer: &str) -> Answer {
    post(
        &world.app,
        &format!("/api/v1/transfers/{transfer}/cancel"),
        who,
        json!({}),
    )
    .await
}

async fn my_reservation_ids(world: &World, who: &User) -> Vec<String> {
    let mine = get(&world.app, "/api/v1/reservations/my", who).await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    mine.body["reservations"]
        .as_array()
        .expect("reservations")
        .iter()
        .filter_map(|r| r["id"].as_str().map(str::to_string))
        .collect()
}

/// The single bigint `sql` returns.
async fn scalar_i64(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Every owed refund delivered (a few bounded passes).
async fn deliver_all(world: &World) {
    let admin = user(true);
    for _ in 0..10 {
        let done = post(
            &world.app,
            "/api/v1/payments/outbox/deliver",
            &admin,
            json!({}),
        )
        .await;
        assert_eq!(done.status, 200, "{}", done.body);
        if done.body["refundsPending"] == 0 && done.body["unknown"] == 0 {
            return;
        }
    }
}

/// What the resale checker finds wrong (all zero: nothing).
#[derive(Debug, Default, PartialEq, Eq)]
struct Violations {
    /// A listing paid for (captured, not failed) by more than one buyer: a ticket with two owners.
    listings_sold_twice: i64,
    /// A sale whose buyer is not the listing's buyer, or a completed listing without its sale.
    sales_not_matching_their_listing: i64,
    /// A captured transfer payment that is neither the standing sale of its listing nor refunded.
    captures_neither_ticket_nor_refund: i64,
    /// Payouts that are not sales − fees, or a sale without exactly one payout.
    payout_mismatches: i64,
    /// Events whose payment_ledger or transfer_ledger does not balance, or owe refunds.
    unbalanced_ledgers: i64,
    /// The provider's own account (captured − refunded) minus the value that stands.
    provider_difference: i64,
}

async fn check(world: &World) -> Violations {
    let pool = &world.pool;
    let sold = "p.payment_type = 'transfer' AND p.payment_key IS NOT NULL \
                AND p.failure_code IS NULL";
    let listings_sold_twice = scalar_i64(
        pool,
        &format!(
            "SELECT count(*) FROM (SELECT p.transfer_id FROM payments AS p WHERE {sold} \
              GROUP BY p.transfer_id HAVING count(*) > 1) AS x"
        ),
    )
    .await;
    let sales_not_matching_their_listing = scalar_i64(
        pool,
        &format!(
            "SELECT (SELECT count(*) FROM payments AS p JOIN ticket_transfers AS t \
                       ON t.id = p.transfer_id \
                      WHERE {sold} AND (t.status <> 'completed' OR t.buyer_id <> p.user_id)) \
                  + (SELECT count(*) FROM ticket_transfers AS t WHERE t.status = 'completed' \
                       AND NOT EXISTS (SELECT FROM payments AS p \
                                        WHERE p.transfer_id = t.id AND {sold}))"
        ),
    )
    .await;
    // Standing: the sale of a completed listing, still confirmed with no refund owed; else the
    // money must be on its way back (a refund row, delivered by now).
    let captures_neither_ticket_nor_refund = scalar_i64(
        pool,
        "SELECT count(*) FROM payments AS p \
          WHERE p.payment_type = 'transfer' AND p.payment_key IS NOT NULL \
            AND NOT EXISTS (SELECT FROM payment_outbox AS o \
                             WHERE o.payment_id = p.id AND o.action = 'refund' \
                               AND o.status = 'delivered') \
            AND NOT (p.status = 'confirmed' AND p.failure_code IS NULL AND EXISTS ( \
                     SELECT FROM ticket_transfers AS t JOIN reservations AS r \
                         ON r.id = t.reservation_id \
                      WHERE t.id = p.transfer_id AND t.status = 'completed' \
                        AND t.buyer_id = p.user_id \
                        AND (r.user_id = p.user_id OR r.status = 'cancelled' \
                             OR EXISTS (SELECT FROM ticket_transfers AS later \
                                         WHERE later.reservation_id = r.id \
                                           AND later.seller_id = p.user_id \
                                           AND later.status = 'completed'))))",
    )
    .await;
    let payout_mismatches = scalar_i64(
        pool,
        "SELECT (SELECT count(*) FROM transfer_ledger \
                  WHERE payouts <> sales - fees) \
              + (SELECT count(*) FROM ticket_transfers AS t WHERE t.status = 'completed' \
                   AND (SELECT count(*) FROM transfer_payouts AS po \
                         WHERE po.transfer_id = t.id \
                           AND po.amount = t.total_price - t.transfer_fee) <> 1)",
    )
    .await;
    let unbalanced_ledgers = scalar_i64(
        pool,
        "SELECT (SELECT count(*) FROM payment_ledger WHERE NOT balanced OR refund_owed <> 0) \
              + (SELECT count(*) FROM transfer_ledger WHERE NOT balanced OR refund_owed <> 0)",
    )
    .await;
    let standing = scalar_i64(
        pool,
        "SELECT ((SELECT coalesce(sum(value_sold), 0) FROM payment_ledger) \
              + (SELECT coalesce(sum(value_sold), 0) FROM transfer_ledger))::int8",
    )
    .await;
    let counts = world.mock.counts();
    Violations {
        listings_sold_twice,
        sales_not_matching_their_listing,
        captures_neither_ticket_nor_refund,
        payout_mismatches,
        unbalanced_ledgers,
        provider_difference: counts.captured_amount - counts.refunded_amount - standing,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_is_bought_once_and_the_ticket_changes_hands_with_the_payout() {
    let world = world().await;
    let (seller, buyer, other) = (user(false), user(false), user(false));
    let event_id = event(&world.pool, "").await;
    let reservation = ticket(&world, &seller, &event_id, 1).await;

    let first = list(&world, &seller, &reservation).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.body["message"], "Transfer listed successfully");
    let t = &first.body["transfer"];
    assert_eq!(
        (
            &t["original_price"],
            &t["transfer_fee_percent"],
            &t["transfer_fee"],
            &t["total_price"]
        ),
        (
            &json!(SEAT_PRICE),
            &json!(10),
            &json!(FEE_10),
            &json!(TOTAL_10)
        ),
        "face value plus the 10% fee of an event without an artist"
    );
    assert_eq!(
        (&t["status"], &t["seats"], &t["buyer_id"]),
        (&json!("listed"), &json!("A-1-1"), &Value::Null)
    );
    let id = t["id"].as_str().expect("id").to_string();
    let again = list(&world, &seller, &reservation).await;
    assert_eq!(
        (again.status, again.body["code"].as_str()),
        (409, Some("already_listed"))
    );

    // Browse (any signed-in user), detail, and the seller's own list.
    let page = get(&world.app, "/api/v1/transfers?limit=5", &buyer).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(
        page.body["pagination"],
        json!({"page": 1, "limit": 5, "total": 1, "totalPages": 1})
    );
    assert_eq!(page.body["transfers"][0]["id"], json!(id));
    assert_eq!(page.body["transfers"][0]["event_title"], "Resale test");
    let old_path = get(&world.app, "/api/transfers", &buyer).await;
    assert_eq!(old_path.body["transfers"][0]["id"], json!(id));

    // Pay: the server's amount, never the seller's own listing.
    let mismatch = post(
        &world.app,
        "/api/v1/payments/prepare",
        &buyer,
        json!({"paymentType": "transfer", "referenceId": id, "amount": SEAT_PRICE}),
    )
    .await;
    assert_eq!(
        (mismatch.status, mismatch.body["code"].as_str()),
        (400, Some("amount_mismatch"))
    );
    let own = buy(&world, &seller, &id).await;
    assert_eq!(
        (own.status, own.body["code"].as_str()),
        (400, Some("own_transfer"))
    );
    let prepared = post(
        &world.app,
        "/api/v1/payments/prepare",
        &buyer,
        json!({"paymentType": "transfer", "referenceId": id, "amount": TOTAL_10}),
    )
    .await;
    assert_eq!(prepared.status, 200, "{}", prepared.body);
    let paid = buy(&world, &buyer, &id).await;
    assert_eq!(paid.status, 200, "{}", paid.body);
    assert_eq!(paid.body["payment"]["amount"], TOTAL_10);
    assert_eq!(
        paid.body["payment"]["orderId"], prepared.body["orderId"],
        "the prepared order is the one paid"
    );
    let replay = buy(&world, &buyer, &id).await;
    assert_eq!(
        (replay.status, &replay.body["payment"]["id"]),
        (200, &paid.body["payment"]["id"]),
        "a repeat replays the first answer"
    );
    assert_eq!(
        world.mock.counts().total_captures(),
        2,
        "seller's and buyer's"
    );

    // The ticket changed hands: the buyer holds the reservation, the seller no longer.
    assert_eq!(
        my_reservation_ids(&world, &buyer).await,
        vec![reservation.clone()]
    );
    assert!(my_reservation_ids(&world, &seller).await.is_empty());
    let payout: (String, i32) = sqlx::query_as(
        "SELECT seller_id::text, amount FROM transfer_payouts WHERE transfer_id = $1::uuid",
    )
    .bind(&id)
    .fetch_one(&world.pool)
    .await
    .expect("payout");
    assert_eq!(payout, (seller.id.clone(), TOTAL_10 - FEE_10));

    let seen_by_buyer = get(&world.app, &format!("/api/v1/transfers/{id}"), &buyer).await;
    assert_eq!(seen_by_buyer.body["transfer"]["status"], "completed");
    assert_eq!(seen_by_buyer.body["transfer"]["buyer_id"], json!(buyer.id));
    let seen_by_other = get(&world.app, &format!("/api/v1/transfers/{id}"), &other).await;
    assert_eq!(seen_by_other.status, 200, "{}", seen_by_other.body);
    assert_eq!(
        seen_by_other.body["transfer"]["buyer_id"],
        Value::Null,
        "a third party never learns the buyer"
    );
    let mine = get(&world.app, "/api/v1/transfers/my", &seller).await;
    assert_eq!(mine.body["transfers"][0]["status"], "completed");
    assert!(mine.body["transfers"][0].get("artist_image_url").is_none());
    let sold_out = get(&world.app, "/api/v1/transfers", &other).await;
    assert_eq!(sold_out.body["transfers"], json!([]));

    // Sold is sold: nobody else may buy it, the seller may not cancel it, nor cancel the
    // reservation they no longer own.
    let late = buy(&world, &other, &id).await;
    assert_eq!(
        (late.status, late.body["code"].as_str()),
        (409, Some("transfer_unavailable"))
    );
    let cancel = cancel_listing(&world, &seller, &id).await;
    assert_eq!(
        (cancel.status, cancel.body["code"].as_str()),
        (409, Some("not_listed"))
    );
    let seller_cancel = post(
        &world.app,
        &format!("/api/v1/reservations/{reservation}/cancel"),
        &seller,
        json!({}),
    )
    .await;
    assert_eq!(seller_cancel.status, 404, "{}", seller_cancel.body);

    // The buyer may list it again, at face value.
    let relisted = list(&world, &buyer, &reservation).await;
    assert_eq!(relisted.status, 200, "{}", relisted.body);
    assert_eq!(relisted.body["transfer"]["original_price"], SEAT_PRICE);

    assert_eq!(check(&world).await, Violations::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_and_other_users_objects_are_refused_and_change_nothing() {
    let world = world().await;
    let (seller, intruder) = (user(false), user(false));
    let event_id = event(&world.pool, "").await;
    let reservation = ticket(&world, &seller, &event_id, 1).await;
    let unpaid = pending_ticket(&world.pool, &seller, &event_id, 2).await;
    let id = listed(&world, &seller, &reservation).await;
    let count = || scalar_i64(&world.pool, "SELECT count(*) FROM ticket_transfers");
    let before = count().await;

    let unknown = uuid::Uuid::new_v4().to_string();
    for (body, status, code) in [
        (json!({}), 400, "missing_field"),
        (json!({"reservationId": null}), 400, "missing_field"),
        (json!({"reservationId": "nope"}), 400, "invalid_id"),
        (json!({"reservationId": 7}), 400, "invalid_id"),
        (json!([reservation]), 400, "invalid_body"),
        (
            json!({"reservationId": unknown}),
            404,
            "reservation_not_found",
        ),
        (
            json!({"reservationId": unpaid}),
            409,
            "reservation_not_transferable",
        ),
    ] {
        let answer = post(&world.app, "/api/v1/transfers", &seller, body.clone()).await;
        assert_eq!(
            (answer.status, answer.body["code"].as_str()),
            (status, Some(code)),
            "{body}: {}",
            answer.body
        );
    }
    // Another user's reservation is not found (never told apart from an unknown one).
    let theirs = list(&world, &intruder, &reservation).await;
    assert_eq!(
        (theirs.status, theirs.body["code"].as_str()),
        (404, Some("reservation_not_found"))
    );
    for (path, status, code) in [
        ("/api/v1/transfers?page=abc", 400, "invalid_page"),
        ("/api/v1/transfers?limit=ten", 400, "invalid_limit"),
        ("/api/v1/transfers?artistId=x", 400, "invalid_id"),
        ("/api/v1/transfers/nope", 400, "invalid_id"),
    ] {
        let answer = get(&world.app, path, &seller).await;
        assert_eq!(
            (answer.status, answer.body["code"].as_str()),
            (status, Some(code)),
            "{path}"
        );
    }
    let missing = get(&world.app, &format!("/api/v1/transfers/{unknown}"), &seller).await;
    assert_eq!(
        (missing.status, missing.body["code"].as_str()),
        (404, Some("transfer_not_found"))
    );
    let anonymous = send(world.app.get("/api/v1/transfers")).await;
    assert_eq!(anonymous.status, 401);
    let anonymous_list = send(
        world
            .app
            .post("/api/v1/transfers")
            .json(&json!({"reservationId": reservation})),
    )
    .await;
    assert_eq!(anonymous_list.status, 401);

    // BOLA: the intruder cannot end the seller's listing, and it stays for sale.
    let not_theirs = cancel_listing(&world, &intruder, &id).await;
    assert_eq!(
        (not_theirs.status, not_theirs.body["code"].as_str()),
        (403, Some("not_seller"))
    );
    let not_found = cancel_listing(&world, &intruder, &unknown).await;
    assert_eq!(not_found.status, 404);
    let bad_id = cancel_listing(&world, &intruder, "nope").await;
    assert_eq!(bad_id.status, 400);
    let mine = get(&world.app, "/api/v1/transfers/my", &intruder).await;
    assert_eq!(mine.body["transfers"], json!([]));
    let detail = get(&world.app, &format!("/api/v1/transfers/{id}"), &intruder).await;
    assert_eq!(detail.body["transfer"]["status"], "listed");

    // Paying: the reference is required and must be a listing.
    for (body, status, code) in [
        (
            json!({"paymentType": "transfer", "paymentMethod": "card"}),
            400,
            "missing_field",
        ),
        (
            json!({"paymentType": "transfer", "referenceId": "x", "paymentMethod": "card"}),
            400,
            "invalid_id",
        ),
        (
            json!({"paymentType": "transfer", "referenceId": unknown, "paymentMethod": "card"}),
            404,
            "transfer_not_found",
        ),
    ] {
        let answer = post(
            &world.app,
            "/api/v1/payments/process",
            &intruder,
            body.clone(),
        )
        .await;
        assert_eq!(
            (answer.status, answer.body["code"].as_str()),
            (status, Some(code)),
            "{body}"
        );
    }
    assert_eq!(count().await, before, "no refusal wrote a listing");
    assert_eq!(world.mock.counts().total_captures(), 1, "only the seller's");

    // The seller ends it; then it is neither cancellable again nor buyable.
    let cancelled = cancel_listing(&world, &seller, &id).await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    assert_eq!(cancelled.body["message"], "Transfer cancelled");
    let twice = cancel_listing(&world, &seller, &id).await;
    assert_eq!(
        (twice.status, twice.body["code"].as_str()),
        (409, Some("not_listed"))
    );
    let gone = buy(&world, &intruder, &id).await;
    assert_eq!(
        (gone.status, gone.body["code"].as_str()),
        (409, Some("transfer_unavailable"))
    );
    let mine = get(&world.app, "/api/v1/transfers/my", &seller).await;
    assert_eq!(mine.body["transfers"][0]["status"], "cancelled");

    // Listed again, then the seller cancels the RESERVATION: the listing is voided with it.
    let id = listed(&world, &seller, &reservation).await;
    let cancel = post(
        &world.app,
        &format!("/api/v1/reservations/{reservation}/cancel"),
        &seller,
        json!({}),
    )
    .await;
    assert_eq!(cancel.status, 200, "{}", cancel.body);
    let detail = get(&world.app, &format!("/api/v1/transfers/{id}"), &intruder).await;
    assert_eq!(detail.body["transfer"]["status"], "cancelled");
    let gone = buy(&world, &intruder, &id).await;
    assert_eq!(gone.status, 409, "{}", gone.body);
    deliver_all(&world).await;
    assert_eq!(check(&world).await, Violations::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_artists_event_needs_memberships_and_the_fee_follows_the_sellers_tier() {
    let world = world().await;
    let (seller, buyer) = (user(false), user(false));
    let event_id = event(&world.pool, "Resale Artist").await;
    let artist: String =
        sqlx::query_scalar("SELECT artist_id::text FROM events WHERE id = $1::uuid")
            .bind(&event_id)
            .fetch_one(&world.pool)
            .await
            .expect("the event's artist");
    let reservation = ticket(&world, &seller, &event_id, 1).await;

    let refused = list(&world, &seller, &reservation).await;
    assert_eq!(
        (refused.status, refused.body["code"].as_str()),
        (403, Some("membership_required"))
    );
    assert_eq!(
        refused.body["message"],
        "양도 등록에 실패했습니다. 해당 아티스트의 Silver 이상 멤버십이 필요합니다."
    );
    member(&world.pool, &seller, &artist, 600, "GOLD").await;
    let answer = list(&world, &seller, &reservation).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let t = &answer.body["transfer"];
    assert_eq!(
        (
            &t["transfer_fee_percent"],
            &t["transfer_fee"],
            &t["artist_name"]
        ),
        (
            &json!(5),
            &json!(SEAT_PRICE * 5 / 100),
            &json!("Resale Artist")
        )
    );
    let id = t["id"].as_str().expect("id").to_string();
    let by_artist = get(
        &world.app,
        &format!("/api/v1/transfers?artistId={artist}"),
        &buyer,
    )
    .await;
    assert_eq!(by_artist.body["pagination"]["total"], 1);
    let other_artist = get(
        &world.app,
        &format!("/api/v1/transfers?artistId={}", uuid::Uuid::new_v4()),
        &buyer,
    )
    .await;
    assert_eq!(other_artist.body["pagination"]["total"], 0);

    let not_member = buy(&world, &buyer, &id).await;
    assert_eq!(
        (not_member.status, not_member.body["code"].as_str()),
        (403, Some("buyer_membership_required"))
    );
    assert_eq!(
        world.mock.counts().total_captures(),
        1,
        "refused before any charge"
    );
    member(&world.pool, &buyer, &artist, 0, "SILVER").await;
    let paid = buy(&world, &buyer, &id).await;
    assert_eq!(paid.status, 200, "{}", paid.body);
    assert_eq!(
        paid.body["payment"]["amount"],
        SEAT_PRICE + SEAT_PRICE * 5 / 100
    );
    assert_eq!(check(&world).await, Violations::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_cancel_refunds_the_current_owner_once_and_voids_live_listings() {
    let world = world().await;
    let (seller, buyer, holder) = (user(false), user(false), user(false));
    let admin = user(true);
    let event_id = event(&world.pool, "").await;
    let resold = ticket(&world, &seller, &event_id, 1).await;
    let still_listed = ticket(&world, &holder, &event_id, 2).await;
    let sold = listed(&world, &seller, &resold).await;
    let open = listed(&world, &holder, &still_listed).await;
    assert_eq!(buy(&world, &buyer, &sold).await.status, 200);

    let cancel = post(
        &world.app,
        &format!("/api/v1/admin/events/{event_id}/cancel"),
        &admin,
        json!({"reason": "venue closed"}),
    )
    .await;
    assert_eq!(cancel.status, 200, "{}", cancel.body);
    assert_eq!(cancel.body["refundsRecorded"], 2, "{}", cancel.body);
    deliver_all(&world).await;

    // The buyer (the current owner) gets what they paid; the seller keeps the payout and their
    // original payment; the holder whose ticket was only listed gets their face value back.
    let refunds: Vec<(String, String, i32)> = sqlx::query_as(
        "SELECT p.user_id::text, p.payment_type, o.amount FROM payment_outbox AS o \
         JOIN payments AS p ON p.id = o.payment_id WHERE o.status = 'delivered' \
         ORDER BY o.amount DESC",
    )
    .fetch_all(&world.pool)
    .await
    .expect("refunds");
    assert_eq!(
        refunds,
        vec![
            (buyer.id.clone(), "transfer".to_string(), TOTAL_10),
            (holder.id.clone(), "reservation".to_string(), SEAT_PRICE),
        ]
    );
    let seller_payment: String = sqlx::query_scalar(
        "SELECT status FROM payments WHERE reservation_id = $1::uuid AND user_id = $2::uuid",
    )
    .bind(&resold)
    .bind(&seller.id)
    .fetch_one(&world.pool)
    .await
    .expect("seller's payment");
    assert_eq!(seller_payment, "confirmed");
    let open_now = get(&world.app, &format!("/api/v1/transfers/{open}"), &buyer).await;
    assert_eq!(open_now.body["transfer"]["status"], "cancelled");
    let late = buy(&world, &buyer, &open).await;
    assert_eq!(late.status, 409, "{}", late.body);
    let browse = get(&world.app, "/api/v1/transfers", &buyer).await;
    assert_eq!(browse.body["pagination"]["total"], 0);

    // Once: a second cancel changes nothing and refunds nobody again.
    let again = post(
        &world.app,
        &format!("/api/v1/admin/events/{event_id}/cancel"),
        &admin,
        json!({}),
    )
    .await;
    assert_eq!(again.status, 409);
    deliver_all(&world).await;
    let counts = world.mock.counts();
    assert_eq!((counts.total_refunds(), counts.duplicate_refunds), (2, 0));
    assert_eq!(check(&world).await, Violations::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_postgres_down_transfers_are_503_with_retry_after() {
    let world = world_with(|o| {
        o.variable(
            "pg_address_transfers",
            "postgres://urr_transfers@127.0.0.1:1/urr",
        )
    })
    .await;
    let who = user(false);
    let browse = get(&world.app, "/api/v1/transfers", &who).await;
    assert_eq!(browse.status, 503, "{}", browse.body);
    assert!(browse.retry_after.is_some());
    let listing = post(
        &world.app,
        "/api/v1/transfers",
        &who,
        json!({"reservationId": uuid::Uuid::new_v4().to_string()}),
    )
    .await;
    assert_eq!(listing.status, 503, "{}", listing.body);
    assert!(listing.retry_after.is_some());
}

// ---------------------------------------------------------------- the resale storm

const BUYERS: usize = 32;
const LISTINGS: i32 = 10;
/// How long buyers keep trying; the event is cancelled at a third of it.
const STORM_MS: u64 = 3_000;

#[derive(Default)]
struct Counts {
    attempts: AtomicU64,
    wins: AtomicU64,
    lost_before_charge: AtomicU64,
    lost_after_capture: AtomicU64,
    seller_cancels: AtomicU64,
    server_errors: AtomicU64,
    other: AtomicU64,
}

impl Counts {
    fn report(&self, name: &str) -> String {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        format!(
            "{name}: attempts={} wins={} lost_before_charge(409)={} \
             lost_after_capture(refunded)={} seller_cancels={} 5xx={} other={}",
            get(&self.attempts),
            get(&self.wins),
            get(&self.lost_before_charge),
            get(&self.lost_after_capture),
            get(&self.seller_cancels),
            get(&self.server_errors),
            get(&self.other),
        )
    }
}

fn storm_world() -> impl FnOnce(urr_tests::AppOptions) -> urr_tests::AppOptions {
    |o| {
        o.configure(|config| {
            // Every buy is two SQL calls and a provider call; the test pool (3) would serialize
            // the contest instead of the row locks.
            config.stores.pg_pool_max = 12;
        })
    }
}

async fn storm(world: Arc<World>, name: &str) -> Arc<Counts> {
    let event_id = event(&world.pool, "").await;
    let mut listings = Vec::new();
    let mut sellers = Vec::new();
    for seat in 1..=LISTINGS {
        let seller = user(false);
        let reservation = ticket(&world, &seller, &event_id, seat).await;
        listings.push(listed(&world, &seller, &reservation).await);
        sellers.push(seller);
    }
    let listings = Arc::new(listings);
    let counts = Arc::new(Counts::default());
    let wins = Arc::new(Mutex::new(HashSet::new()));
    let start = Instant::now();
    let until = start + Duration::from_millis(STORM_MS);
    let mut tasks = Vec::new();
    for i in 0..BUYERS {
        let (world, listings, counts, wins) = (
            world.clone(),
            listings.clone(),
            counts.clone(),
            wins.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let me = user(false);
            let mut n = i;
            while Instant::now() < until {
                n = (n * 7 + 3) % listings.len();
                let answer = buy(&world, &me, &listings[n]).await;
                counts.attempts.fetch_add(1, Ordering::Relaxed);
                let slot = match (answer.status, answer.body["code"].as_str()) {
                    (200, _) => {
                        let payment = answer.body["payment"]["id"].to_string();
                        if wins.lock().await.insert(payment) {
                            &counts.wins
                        } else {
                            continue;
                        }
                    }
                    (409, Some("payment_refunded")) => &counts.lost_after_capture,
                    (409, _) => &counts.lost_before_charge,
                    (s, _) if s >= 500 => &counts.server_errors,
                    _ => &counts.other,
                };
                slot.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    // Three sellers change their minds at staggered moments.
    for (k, seller) in sellers.into_iter().enumerate().take(3) {
        let (world, listings, counts) = (world.clone(), listings.clone(), counts.clone());
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20 * k as u64)).await;
            if cancel_listing(&world, &seller, &listings[k]).await.status == 200 {
                counts.seller_cancels.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    {
        let world = world.clone();
        let event_id = event_id.clone();
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(STORM_MS / 3)).await;
            let admin = user(true);
            let answer = post(
                &world.app,
                &format!("/api/v1/admin/events/{event_id}/cancel"),
                &admin,
                json!({"reason": "storm"}),
            )
            .await;
            assert_eq!(answer.status, 200, "{}", answer.body);
        }));
    }
    for task in tasks {
        task.await.expect("storm task");
    }
    deliver_all(&world).await;
    println!("{}", counts.report(name));
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_resale_storm_never_sells_a_ticket_twice_and_is_a_real_contest() {
    let world = Arc::new(world_with(storm_world()).await);
    let counts = storm(world.clone(), "resale storm").await;
    let violations = check(&world).await;
    println!(
        "resale storm | {violations:?} | provider {:?}",
        world.mock.counts().captured_amount
    );
    assert_eq!(
        violations,
        Violations::default(),
        "{}",
        counts.report("storm")
    );
    let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
    assert!(get(&counts.wins) >= 3, "{}", counts.report("storm"));
    assert!(
        get(&counts.lost_before_charge) + get(&counts.lost_after_capture) >= 20,
        "{}",
        counts.report("storm")
    );
    assert_eq!(get(&counts.server_errors), 0, "{}", counts.report("storm"));
    // Every sale was undone by the event cancel: the buyers got what they paid back once.
    let standing: i64 = scalar_i64(
        &world.pool,
        "SELECT coalesce(sum(value_sold), 0)::int8 FROM transfer_ledger",
    )
    .await;
    assert_eq!(standing, 0);
    assert_eq!(world.mock.counts().duplicate_refunds, 0);
}

/// The sale without its guards: no listing-status (or reservation, or event) check at capture,
/// and the two constraints that would still refuse a second sale dropped. Installed only in
/// this test's database.
const BROKEN_SALE: &str = r#"
DROP INDEX payments_one_confirmed_per_transfer;
ALTER TABLE transfer_payouts DROP CONSTRAINT transfer_payouts_pkey;
CREATE OR REPLACE FUNCTION transfer_unsellable_reason(t ticket_transfers, r reservations)
RETURNS text LANGUAGE sql STABLE RETURN NULL;
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_storm_against_a_sale_without_its_guards_is_caught_selling_twice() {
    let world =
        world_with(|o| storm_world()(o).off_spec("the broken sale answers what no spec describes"))
            .await;
    sqlx::raw_sql(BROKEN_SALE)
        .execute(&world.pool)
        .await
        .expect("install the broken sale");
    let world = Arc::new(world);
    storm(world.clone(), "broken resale storm").await;
    let violations = check(&world).await;
    println!("broken resale storm | {violations:?}");
    assert!(
        violations.listings_sold_twice > 0,
        "the checker must catch the double sales of the broken sale: {violations:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_buyer_of_a_resold_ticket_who_cancels_it_gets_what_they_paid() {
    let world = world().await;
    let (seller, buyer) = (user(false), user(false));
    let event_id = event(&world.pool, "").await;
    let reservation = ticket(&world, &seller, &event_id, 1).await;
    let sold = listed(&world, &seller, &reservation).await;
    assert_eq!(buy(&world, &buyer, &sold).await.status, 200);
    let relisted = listed(&world, &buyer, &reservation).await;

    let cancel = post(
        &world.app,
        &format!("/api/v1/reservations/{reservation}/cancel"),
        &buyer,
        json!({}),
    )
    .await;
    assert_eq!(cancel.status, 200, "{}", cancel.body);
    deliver_all(&world).await;
    let detail = get(&world.app, &format!("/api/v1/transfers/{relisted}"), &buyer).await;
    assert_eq!(
        detail.body["transfer"]["status"], "cancelled",
        "the live listing died with its reservation"
    );
    let refunds: Vec<(String, i32)> = sqlx::query_as(
        "SELECT p.user_id::text, o.amount FROM payment_outbox AS o \
         JOIN payments AS p ON p.id = o.payment_id WHERE o.status = 'delivered'",
    )
    .fetch_all(&world.pool)
    .await
    .expect("refunds");
    assert_eq!(
        refunds,
        vec![(buyer.id.clone(), TOTAL_10)],
        "the current owner's payment, at what they paid; the seller's stays"
    );
    let payment_status: String =
        sqlx::query_scalar("SELECT payment_status FROM reservations WHERE id = $1::uuid")
            .bind(&reservation)
            .fetch_one(&world.pool)
            .await
            .expect("reservation");
    assert_eq!(payment_status, "refunded", "the buyer sees their refund");
    assert_eq!(check(&world).await, Violations::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_made_at_the_provider_follows_the_current_owner() {
    let world = world().await;
    let (seller, buyer) = (user(false), user(false));
    let event_id = event(&world.pool, "").await;
    let reservation = ticket(&world, &seller, &event_id, 1).await;
    let sold = listed(&world, &seller, &reservation).await;
    assert_eq!(buy(&world, &buyer, &sold).await.status, 200);
    let order = |column: &'static str, id: String| {
        let pool = world.pool.clone();
        async move {
            sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(format!(
                "SELECT order_id FROM payments WHERE {column} = $1::uuid AND status = 'confirmed'"
            )))
            .bind(id)
            .fetch_one(&pool)
            .await
            .expect("order")
        }
    };
    let owner = || async {
        sqlx::query_as::<_, (String, String)>(
            "SELECT user_id::text, status FROM reservations WHERE id = $1::uuid",
        )
        .bind(&reservation)
        .fetch_one(&world.pool)
        .await
        .expect("reservation")
    };

    // The seller's original payment refunded at the provider (a chargeback after the payout):
    // recorded, but the buyer keeps the ticket they paid for.
    let seller_order = order("reservation_id", reservation.clone()).await;
    assert!(
        world
            .mock
            .refund_from_console(&seller_order)
            .await
            .expect("console refund")
    );
    assert_eq!(owner().await, (buyer.id.clone(), "confirmed".to_string()));
    let payment_status: String =
        sqlx::query_scalar("SELECT payment_status FROM reservations WHERE id = $1::uuid")
            .bind(&reservation)
            .fetch_one(&world.pool)
            .await
            .expect("reservation");
    assert_eq!(
        payment_status, "completed",
        "the buyer's ticket is not marked refunded"
    );
    // The loss shows: the event's sale stands, its money went back.
    let balanced: bool =
        sqlx::query_scalar("SELECT balanced FROM payment_ledger WHERE event_id = $1::uuid")
            .bind(&event_id)
            .fetch_one(&world.pool)
            .await
            .expect("ledger");
    assert!(
        !balanced,
        "a chargeback after a resale is a loss the ledger shows"
    );

    // The buyer's payment refunded at the provider: the ticket goes back on sale.
    let buyer_order = order("transfer_id", sold.clone()).await;
    assert!(
        world
            .mock
            .refund_from_console(&buyer_order)
            .await
            .expect("console refund")
    );
    assert_eq!(owner().await.1, "cancelled");
    let seat: String = sqlx::query_scalar("SELECT status FROM seats WHERE event_id = $1::uuid")
        .bind(&event_id)
        .fetch_one(&world.pool)
        .await
        .expect("seat");
    assert_eq!(seat, "available");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepare_and_confirm_buy_a_listing_at_its_price_only() {
    let world = world().await;
    let (seller, buyer, stranger) = (user(false), user(false), user(false));
    let event_id = event(&world.pool, "").await;
    let reservation = ticket(&world, &seller, &event_id, 1).await;
    let id = listed(&world, &seller, &reservation).await;
    let prepare = |amount: i32| {
        post(
            &world.app,
            "/api/v1/payments/prepare",
            &buyer,
            json!({"paymentType": "transfer", "referenceId": id, "amount": amount}),
        )
    };
    let prepared = prepare(TOTAL_10).await;
    assert_eq!(prepared.status, 200, "{}", prepared.body);
    let order = prepared.body["orderId"]
        .as_str()
        .expect("order")
        .to_string();
    assert_eq!(
        prepare(TOTAL_10).await.body["orderId"],
        json!(order),
        "reused"
    );
    let confirm = |who: &User, amount: i32| {
        send(
            world
                .app
                .post("/api/v1/payments/confirm")
                .bearer_auth(&who.token)
                .json(&json!({"paymentKey": "pk_widget_t1", "orderId": order, "amount": amount})),
        )
    };
    assert_eq!(
        confirm(&stranger, TOTAL_10).await.status,
        404,
        "another user's order"
    );
    assert_eq!(confirm(&buyer, SEAT_PRICE).await.status, 400);
    let confirmed = confirm(&buyer, TOTAL_10).await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    let again = confirm(&buyer, TOTAL_10).await;
    assert_eq!(again.status, 400);
    assert!(
        again.body["message"]
            .as_str()
            .unwrap_or("")
            .contains("already confirmed")
    );
    let after = prepare(TOTAL_10).await;
    assert_eq!(
        (after.status, after.body["code"].as_str()),
        (400, Some("already_paid"))
    );
    assert_eq!(my_reservation_ids(&world, &buyer).await, vec![reservation]);
    let record = get(
        &world.app,
        &format!("/api/v1/payments/order/{order}"),
        &buyer,
    )
    .await;
    assert_eq!(record.body["payment"]["paymentType"], "transfer");
    assert_eq!(record.body["payment"]["referenceId"], json!(id));
    assert_eq!(check(&world).await, Violations::default());
}
