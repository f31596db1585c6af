//! Components `seat-lock`, `reserve` and `reservations` end to end: holds, reserve, reads,
//! the waiting-room gate, idempotency, caps, expiry takeover, fencing at the storage, standing
//! tickets and Redis outages.

use crate::booking_support::{Buyer, Show, buyer, db, send, show};
use reqwest::StatusCode;
use serde_json::{Value, json};
use urr_tests::{AppOptions, PrivateRedis, mint_entry_token};

fn seat_ids(body: &Value) -> Vec<String> {
    body["seats"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

async fn redis(app: &urr_tests::TestApp) -> redis::aio::MultiplexedConnection {
    redis::Client::open(urr_tests::redis_url())
        .expect("client")
        .get_multiplexed_async_connection()
        .await
        .unwrap_or_else(|e| panic!("redis for {}: {e}", app.key_prefix))
}

fn hold_key(app: &urr_tests::TestApp, event: &str, seat: &str) -> String {
    format!("{}:seat:{{evt:{event}}}:{seat}", app.key_prefix)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buyer_holds_reserves_and_reads_back_their_reservation() {
    let show = show(AppOptions::application(), 1, 10).await;
    let me = buyer(&show).await;
    let seats = [show.seats[0].as_str(), show.seats[1].as_str()];

    let (status, held) = show.hold(&me, &seats).await;
    assert_eq!(status, StatusCode::OK, "{held}");
    assert!(held["fencingToken"].as_i64().unwrap_or(0) > 0, "{held}");

    let (status, body) = show.reserve(&me, &seats, None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let reservation = &body["reservation"];
    let id = reservation["id"].as_str().expect("id").to_string();
    assert_eq!(reservation["status"], "pending");
    assert_eq!(reservation["total_amount"], 100_000);
    assert_eq!(reservation["totalAmount"], 100_000);
    assert_eq!(
        reservation["reservationNumber"],
        reservation["reservation_number"]
    );
    assert_eq!(reservation["seats"].as_array().map(Vec::len), Some(2));
    let token = reservation["fencingToken"].as_i64().expect("token");
    assert!(token > held["fencingToken"].as_i64().unwrap_or(0), "{body}");

    // The Redis holds now expire with the reservation.
    let mut conn = redis(&show.app).await;
    let hold_expiry: i64 = redis::cmd("PEXPIRETIME")
        .arg(hold_key(&show.app, &show.event_id, seats[0]))
        .query_async(&mut conn)
        .await
        .expect("pexpiretime");
    let mut pg = db(&show.app).await;
    let (row_token, row_expiry): (i64, i64) = sqlx::query_as(
        "SELECT s.fencing_token, (extract(epoch FROM r.expires_at) * 1000)::int8 \
         FROM seats s JOIN reservations r ON r.id = s.reservation_id WHERE s.id = $1::uuid",
    )
    .bind(seats[0])
    .fetch_one(&mut pg)
    .await
    .expect("seat row");
    assert_eq!(row_token, token);
    assert!(
        (hold_expiry - row_expiry).abs() <= 1,
        "hold {hold_expiry} vs reservation {row_expiry}"
    );

    for path in [
        format!("/api/v1/reservations/{id}"),
        format!("/api/seats/reservation/{id}"),
    ] {
        let (status, body) = show.get(&me, &path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        assert_eq!(body["reservation"]["status"], "pending");
        assert!(body["reservation"]["expires_at"].is_string());
        assert_eq!(
            body["reservation"]["items"].as_array().map(Vec::len),
            Some(2)
        );
        assert_eq!(body["reservation"]["items"][0]["seatLabel"], "A-1-1");
    }
    let (status, mine) = show.get(&me, "/api/v1/reservations/my").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(mine["reservations"][0]["id"], id.as_str());
    assert!(mine["reservations"][0]["items"].is_array());

    // Someone else's reservation does not exist for them (BOLA → 404).
    let other = buyer(&show).await;
    for path in [
        format!("/api/v1/reservations/{id}"),
        format!("/api/v1/seats/reservation/{id}"),
    ] {
        let (status, body) = show.get(&other, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
    }
    let (_, theirs) = show.get(&other, "/api/v1/reservations/my").await;
    assert_eq!(theirs["reservations"], json!([]));

    // The seat map shows the seats locked (the reserve dropped the shared copy), revalidated on
    // every use, kept only by the buyer's browser.
    let response = show
        .with(
            &other,
            show.app
                .get(&format!("/api/v1/seats/events/{}", show.event_id)),
        )
        .send()
        .await
        .expect("map");
    assert_eq!(response.headers()["cache-control"], "private, no-cache");
    let map: Value = response.json().await.expect("json");
    let statuses: Vec<&str> = map["seats"]
        .as_array()
        .expect("seats")
        .iter()
        .map(|s| s["status"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(&statuses[..3], ["locked", "locked", "available"]);
    assert_eq!(map["event"]["title"], "Storm Night");
}

/// One seat map read: status, headers and the raw (possibly compressed) body.
async fn seat_map_read(
    show: &Show,
    who: &Buyer,
    headers: &[(&str, &str)],
) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let mut request = show.with(
        who,
        show.app
            .get(&format!("/api/v1/seats/events/{}", show.event_id)),
    );
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("seat map");
    let (status, headers) = (response.status(), response.headers().clone());
    (
        status,
        headers,
        response.bytes().await.expect("body").to_vec(),
    )
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(bytes), &mut out).expect("gzip");
    out
}

fn status_of(map: &[u8], seat: &str) -> String {
    let map: Value = serde_json::from_slice(map).expect("map json");
    map["seats"]
        .as_array()
        .and_then(|seats| seats.iter().find(|s| s["id"] == seat))
        .and_then(|s| s["status"].as_str())
        .unwrap_or("missing")
        .to_string()
}

/// The seat map is served from a shared copy: gzip when the client takes it (the same JSON,
/// smaller), a bodiless 304 for a client that holds it, at most a second old, and dropped by a
/// cancel so freed seats show at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seat_map_is_a_shared_compressed_copy_at_most_a_second_old() {
    let show = show(AppOptions::application(), 2, 10).await;
    let me = buyer(&show).await;
    let started = std::time::Instant::now();
    let (status, plain_headers, plain) = seat_map_read(&show, &me, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(plain_headers.get("content-encoding").is_none());
    let (status, headers, zipped) = seat_map_read(&show, &me, &[("accept-encoding", "gzip")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-encoding"], "gzip");
    assert_eq!(headers["vary"], "Accept-Encoding");
    assert_eq!(gunzip(&zipped), plain, "the same JSON, compressed");
    println!(
        "seat map of {} seats: {} bytes, {} gzip",
        show.seats.len(),
        plain.len(),
        zipped.len()
    );
    assert!(zipped.len() * 2 < plain.len());

    // A client holding either form gets a 304 without a body.
    for held in [&plain_headers["etag"], &headers["etag"]] {
        let held = held.to_str().expect("etag");
        let (status, _, body) = seat_map_read(&show, &me, &[("if-none-match", held)]).await;
        assert_eq!(status, StatusCode::NOT_MODIFIED, "{held}");
        assert!(body.is_empty());
    }

    // A change made behind the application's back shows within a second, not before: the copy
    // is served, Postgres is not asked again.
    let seat = show.seats[5].as_str();
    let mut pg = db(&show.app).await;
    sqlx::query("UPDATE seats SET status = 'reserved' WHERE id = $1::uuid")
        .bind(seat)
        .execute(&mut pg)
        .await
        .expect("update");
    let (_, _, copy) = seat_map_read(&show, &me, &[]).await;
    if started.elapsed() < std::time::Duration::from_millis(900) {
        assert_eq!(status_of(&copy, seat), "available", "served from the copy");
    }
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let (_, _, fresh) = seat_map_read(&show, &me, &[]).await;
    assert_eq!(
        status_of(&fresh, seat),
        "reserved",
        "rebuilt after a second"
    );

    // A cancel drops the copy: the freed seat shows available at once, not a second later.
    let other = show.seats[0].as_str();
    assert_eq!(status_of(&fresh, other), "available");
    let (status, body) = show.reserve(&me, &[other], None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let (_, _, reserved) = seat_map_read(&show, &me, &[]).await;
    assert_eq!(
        status_of(&reserved, other),
        "locked",
        "shown within a second"
    );
    let id = body["reservation"]["id"].as_str().expect("id");
    let (status, body) = send(
        show.app
            .post(&format!("/api/v1/reservations/{id}/cancel"))
            .bearer_auth(&me.access),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, _, after) = seat_map_read(&show, &me, &[]).await;
    assert_eq!(
        status_of(&after, other),
        "available",
        "a cancel drops the copy"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn taken_seats_are_a_409_naming_them_and_nothing_is_held_half() {
    let show = show(AppOptions::application(), 1, 10).await;
    let (first, second) = (buyer(&show).await, buyer(&show).await);
    let (a, b, c) = (
        show.seats[0].as_str(),
        show.seats[1].as_str(),
        show.seats[2].as_str(),
    );
    assert_eq!(show.hold(&first, &[a]).await.0, StatusCode::OK);

    let (status, body) = show.hold(&second, &[b, a]).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "seat_taken");
    assert_eq!(seat_ids(&body), vec![a.to_string()]);
    // All or none: b was not held for the loser.
    assert_eq!(show.hold(&first, &[b]).await.0, StatusCode::OK);

    // Reserved in Postgres: a second buyer loses there too, even with the Redis hold gone.
    let (status, body) = show.reserve(&first, &[a, b], None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let mut conn = redis(&show.app).await;
    let _: i64 = redis::cmd("DEL")
        .arg(hold_key(&show.app, &show.event_id, a))
        .arg(format!(
            "{}:seat:{{evt:{}}}:fence",
            show.app.key_prefix, show.event_id
        ))
        .query_async(&mut conn)
        .await
        .expect("del");
    let (status, body) = show.reserve(&second, &[a, c], None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "seat_taken");
    assert_eq!(seat_ids(&body), vec![a.to_string()]);
    // The loser's holds were released: c is free for someone else.
    let third = buyer(&show).await;
    assert_eq!(show.hold(&third, &[c]).await.0, StatusCode::OK);

    // A release needs the holder and its token.
    let (_, held) = show.hold(&second, &[show.seats[5].as_str()]).await;
    let token = held["fencingToken"].clone();
    let (_, body) = show
        .release(&third, &[show.seats[5].as_str()], &token)
        .await;
    assert_eq!(body["released"], 0);
    let (_, body) = show
        .release(&second, &[show.seats[5].as_str()], &json!(1))
        .await;
    assert_eq!(body["released"], 0);
    let (status, body) = show
        .release(&second, &[show.seats[5].as_str()], &token)
        .await;
    assert_eq!(
        (status, body["released"].clone()),
        (StatusCode::OK, json!(1))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_inputs_are_4xx_with_a_code_and_change_nothing() {
    let show = show(AppOptions::application(), 1, 10).await;
    let me = buyer(&show).await;
    let s = &show.seats;
    let cases: Vec<(Value, StatusCode, &str)> = vec![
        (
            json!({"eventId": show.event_id, "seatIds": []}),
            StatusCode::BAD_REQUEST,
            "no_seats",
        ),
        (
            json!({"eventId": show.event_id}),
            StatusCode::BAD_REQUEST,
            "no_seats",
        ),
        (
            json!({"eventId": show.event_id, "seatIds": [s[0], s[0]]}),
            StatusCode::BAD_REQUEST,
            "duplicate_seat",
        ),
        (
            json!({"eventId": show.event_id, "seatIds": [s[0], s[1], s[2], s[3], s[4]]}),
            StatusCode::BAD_REQUEST,
            "too_many_seats",
        ),
        (
            json!({"eventId": show.event_id, "seatIds": ["A-1-1"]}),
            StatusCode::BAD_REQUEST,
            "invalid_id",
        ),
        (
            json!({"eventId": "nope", "seatIds": [s[0]]}),
            StatusCode::BAD_REQUEST,
            "invalid_id",
        ),
        (
            json!({"eventId": show.event_id, "seatIds": [uuid::Uuid::new_v4().to_string()]}),
            StatusCode::NOT_FOUND,
            "seat_not_found",
        ),
        (
            json!({"eventId": show.event_id, "seatIds": [s[0]], "idempotencyKey": ""}),
            StatusCode::BAD_REQUEST,
            "invalid_idempotency_key",
        ),
    ];
    for (body, status, code) in cases {
        let (got, reply) =
            send(show.with(&me, show.app.post("/api/v1/seats/reserve").json(&body))).await;
        assert_eq!(
            (got, reply["code"].as_str()),
            (status, Some(code)),
            "{body}: {reply}"
        );
    }
    let (status, reply) = send(show.with(
        &me,
        show.app.post("/api/v1/seats/reserve").body("{not json"),
    ))
    .await;
    assert_eq!(
        (status, reply["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_body"))
    );

    // A seat of another event is not in this one.
    let mut pg = db(&show.app).await;
    let other_seat: uuid::Uuid = sqlx::query_scalar(
        "WITH e AS (INSERT INTO events (title, venue, event_date, sale_start_date, sale_end_date) \
         VALUES ('Other', 'Hall', now() + interval '30 days', now() - interval '1 day', \
                 now() + interval '1 day') RETURNING id) \
         INSERT INTO seats (event_id, section, row_number, seat_number, price) \
         SELECT id, 'B', 1, 1, 1000 FROM e RETURNING id",
    )
    .fetch_one(&mut pg)
    .await
    .expect("other seat");
    let (status, reply) = show
        .reserve(&me, &[s[0].as_str(), &other_seat.to_string()], None)
        .await;
    assert_eq!(
        (status, reply["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("seat_not_found")),
        "{reply}"
    );
    assert_eq!(seat_ids(&reply), vec![other_seat.to_string()]);

    // An event that is not on sale.
    sqlx::query("UPDATE events SET sale_start_date = now() + interval '1 day' WHERE id = $1::uuid")
        .bind(&show.event_id)
        .execute(&mut pg)
        .await
        .expect("not yet on sale");
    let (status, reply) = show.reserve(&me, &[s[0].as_str()], None).await;
    assert_eq!(
        (status, reply["code"].as_str()),
        (StatusCode::CONFLICT, Some("event_not_on_sale")),
        "{reply}"
    );

    // Nothing changed.
    let (reservations, locked): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM reservations), (SELECT count(*) FROM seats WHERE status <> 'available')",
    )
    .fetch_one(&mut pg)
    .await
    .expect("counts");
    assert_eq!((reservations, locked), (0, 0));

    // Unauthenticated: 401. A bad reservation id: 400.
    let (status, _) = send(show.app.post("/api/v1/seats/reserve").json(&json!({}))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, reply) = show.get(&me, "/api/v1/reservations/not-a-uuid").await;
    assert_eq!(
        (status, reply["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_id"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_entry_token_must_be_for_this_event_and_this_user_with_a_live_slot() {
    let show = show(AppOptions::application(), 1, 10).await;
    let me = buyer(&show).await;
    let seat = [show.seats[0].as_str()];
    let other_event = uuid::Uuid::new_v4().to_string();
    let someone = uuid::Uuid::new_v4().to_string();
    let not_admitted = Buyer {
        entry: mint_entry_token(&someone, &show.event_id),
        access: urr_tests::mint_access_token(&someone, "x@example.com", false, "f"),
        user_id: someone.clone(),
    };
    let wrong = [
        Buyer {
            entry: String::new(),
            ..me.clone()
        },
        Buyer {
            entry: "garbage".into(),
            ..me.clone()
        },
        Buyer {
            entry: mint_entry_token(&me.user_id, &other_event),
            ..me.clone()
        },
        Buyer {
            entry: mint_entry_token(&uuid::Uuid::new_v4().to_string(), &show.event_id),
            ..me.clone()
        },
        // A valid token whose active slot does not exist (never admitted, or the slot ended).
        not_admitted,
    ];
    for (i, who) in wrong.iter().enumerate() {
        for (status, body) in [
            show.hold(who, &seat).await,
            show.reserve(who, &seat, None).await,
            show.reserve_standing(who, 1, None).await,
            show.get(who, &format!("/api/v1/seats/events/{}", show.event_id))
                .await,
        ] {
            assert_eq!(status, StatusCode::FORBIDDEN, "case {i}: {body}");
            assert_eq!(body["code"], "queue_required");
            assert_eq!(body["redirectTo"], format!("/queue/{}", show.event_id));
        }
    }
    // Reads of one's own reservations need no entry token.
    let bare = Buyer {
        entry: String::new(),
        ..me.clone()
    };
    assert_eq!(
        show.get(&bare, "/api/v1/reservations/my").await.0,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_replays_refuses_other_bodies_and_reports_calls_in_flight() {
    let show = show(AppOptions::application(), 1, 10).await;
    let me = buyer(&show).await;
    let (a, b) = (show.seats[0].as_str(), show.seats[1].as_str());

    let first = show.reserve(&me, &[a, b], Some("key-1")).await;
    assert_eq!(first.0, StatusCode::CREATED, "{}", first.1);
    // Same key, same body (seats listed in another order): the first response again.
    let again = show.reserve(&me, &[b, a], Some("key-1")).await;
    assert_eq!(again, first);
    // Header and field agree: the same key.
    let by_header = send(
        show.with(&me, show.app.post("/api/v1/seats/reserve"))
            .header("Idempotency-Key", "key-1")
            .json(&json!({"eventId": show.event_id, "seatIds": [a, b]})),
    )
    .await;
    assert_eq!(by_header, first);
    // Same key, another body: 422.
    let (status, body) = show.reserve(&me, &[a], Some("key-1")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("idempotency_key_reused")
        )
    );
    // Another user's same key is their own.
    let other = buyer(&show).await;
    let (status, body) = show
        .reserve(&other, &[show.seats[2].as_str()], Some("key-1"))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // The record is kept at least 24 hours.
    let mut pg = db(&show.app).await;
    let kept: bool = sqlx::query_scalar(
        "SELECT bool_and(expires_at >= created_at + interval '24 hours') FROM idempotency_keys",
    )
    .fetch_one(&mut pg)
    .await
    .expect("records");
    assert!(kept);

    // Concurrent duplicates: every answer is the one response or a 409 in flight, and exactly
    // one reservation exists.
    let seats = [show.seats[5].as_str(), show.seats[6].as_str()];
    let racer = buyer(&show).await;
    let calls = (0..8).map(|_| show.reserve(&racer, &seats, Some("race")));
    let answers = futures::future::join_all(calls).await;
    let created: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .map(|(_, b)| b)
        .collect();
    assert!(!created.is_empty(), "{answers:?}");
    assert!(created.iter().all(|b| *b == created[0]), "{answers:?}");
    for (status, body) in &answers {
        assert!(
            *status == StatusCode::CREATED
                || (*status == StatusCode::CONFLICT && body["code"] == "idempotency_in_flight"),
            "{status}: {body}"
        );
    }
    let count: i64 =
        sqlx::query_scalar("SELECT count(*) FROM reservations WHERE user_id = $1::uuid")
            .bind(&racer.user_id)
            .fetch_one(&mut pg)
            .await
            .expect("count");
    assert_eq!(count, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_purchase_cap_counts_live_reservations_per_event() {
    let show = show(AppOptions::application(), 1, 20).await;
    let me = buyer(&show).await;
    let s: Vec<&str> = show.seats.iter().map(String::as_str).collect();
    assert_eq!(
        show.reserve(&me, &s[0..3], None).await.0,
        StatusCode::CREATED
    );
    let (status, body) = show.reserve(&me, &s[3..5], None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("purchase_limit")),
        "{body}"
    );
    assert_eq!(
        show.reserve(&me, &s[3..4], None).await.0,
        StatusCode::CREATED
    );

    assert_eq!(
        show.reserve_standing(&me, 7, None).await.0,
        StatusCode::CREATED
    );
    let (status, body) = show.reserve_standing(&me, 4, None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("purchase_limit")),
        "{body}"
    );

    // A cancelled reservation no longer counts.
    let mut pg = db(&show.app).await;
    let id: uuid::Uuid = sqlx::query_scalar(
        "SELECT id FROM reservations WHERE user_id = $1::uuid AND kind = 'seated' ORDER BY created_at LIMIT 1",
    )
    .bind(&me.user_id)
    .fetch_one(&mut pg)
    .await
    .expect("reservation");
    let outcome: String =
        sqlx::query_scalar("SELECT outcome FROM cancel_reservation($1, NULL, 'test')")
            .bind(id)
            .fetch_one(&mut pg)
            .await
            .expect("cancel");
    assert_eq!(outcome, "cancelled");
    assert_eq!(
        show.reserve(&me, &s[5..8], None).await.0,
        StatusCode::CREATED
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_reservation_is_taken_over_at_the_boundary_and_released_once() {
    let options = AppOptions::application()
        .variable("reservation_ttl_secs", "1")
        .variable("hold_ttl_secs", "1");
    let show = show(options, 1, 5).await;
    let (first, second) = (buyer(&show).await, buyer(&show).await);
    let (a, b) = (show.seats[0].as_str(), show.seats[1].as_str());
    let (status, body) = show.reserve(&first, &[a, b], None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let old_id = body["reservation"]["id"].as_str().expect("id").to_string();
    assert_eq!(
        show.reserve_standing(&first, 5, None).await.0,
        StatusCode::CREATED
    );
    assert_eq!(
        show.reserve_standing(&second, 1, None).await.1["code"],
        "sold_out"
    );

    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;
    // Past expiry: shown expired and available without any writer having run.
    let (_, mine) = show
        .get(&first, &format!("/api/v1/reservations/{old_id}"))
        .await;
    assert_eq!(mine["reservation"]["status"], "expired");
    let (_, map) = show
        .get(&second, &format!("/api/v1/seats/events/{}", show.event_id))
        .await;
    assert_eq!(map["seats"][0]["status"], "available");

    // Taken over by someone else: the old reservation is marked expired, its other seat
    // released, exactly once.
    let (status, body) = show.reserve(&second, &[a], None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = show.reserve_standing(&second, 5, None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let mut pg = db(&show.app).await;
    let (old_status, b_status, available): (String, String, i32) = sqlx::query_as(
        "SELECT (SELECT status FROM reservations WHERE id = $1::uuid), \
                (SELECT status FROM seats WHERE id = $2::uuid), \
                (SELECT available_quantity FROM ticket_types WHERE id = $3::uuid)",
    )
    .bind(&old_id)
    .bind(b)
    .bind(&show.ticket_type_id)
    .fetch_one(&mut pg)
    .await
    .expect("state");
    assert_eq!(
        (old_status.as_str(), b_status.as_str(), available),
        ("expired", "available", 0)
    );
    let expired: i64 =
        sqlx::query_scalar("SELECT count(*) FROM reservations WHERE status = 'expired'")
            .fetch_one(&mut pg)
            .await
            .expect("expired");
    assert_eq!(expired, 2, "each expired reservation released exactly once");
    // Counted once each, when the takeover recorded them; the sold-out attempt counted nothing.
    let counters = show.app.business_counters().await;
    assert_eq!(counters["reservations_created"], 4, "{counters:?}");
    assert_eq!(counters["reservations_expired"], 2, "{counters:?}");
    assert_eq!(counters["reservations_cancelled"], 0, "{counters:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_storage_rejects_an_older_fencing_token() {
    let show = show(AppOptions::application(), 1, 10).await;
    let (paused, fresh) = (buyer(&show).await, buyer(&show).await);
    let seat = show.seats[0].as_str();
    // The paused holder got its token first ...
    let (_, held) = show.hold(&paused, &[seat]).await;
    let old_token = held["fencingToken"].as_i64().expect("token");
    // ... lost the hold, and a newer holder reserved and then cancelled (the seat is free but
    // carries the newer token).
    let mut conn = redis(&show.app).await;
    let _: i64 = redis::cmd("DEL")
        .arg(hold_key(&show.app, &show.event_id, seat))
        .query_async(&mut conn)
        .await
        .expect("del");
    let (status, body) = show.reserve(&fresh, &[seat], None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let mut pg = db(&show.app).await;
    let id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM reservations")
        .fetch_one(&mut pg)
        .await
        .expect("id");
    sqlx::query("SELECT cancel_reservation($1, NULL, 'test')")
        .bind(id)
        .execute(&mut pg)
        .await
        .expect("cancel");

    // The paused holder's write, straight at the storage as the reserve role: rejected.
    sqlx::query("SET ROLE urr_booking")
        .execute(&mut pg)
        .await
        .expect("role");
    let (outcome, status, body): (String, i32, Value) = sqlx::query_as(
        "SELECT outcome, http_status, body FROM booking_reserve_seats($1::uuid, $2::uuid, \
         ARRAY[$3::uuid], $4, 300, 4, NULL, NULL)",
    )
    .bind(&paused.user_id)
    .bind(&show.event_id)
    .bind(seat)
    .bind(old_token)
    .fetch_one(&mut pg)
    .await
    .expect("reserve");
    assert_eq!((outcome.as_str(), status), ("stale_hold", 409), "{body}");
    sqlx::query("RESET ROLE")
        .execute(&mut pg)
        .await
        .expect("role");
    let (seat_status, row_token): (String, i64) =
        sqlx::query_as("SELECT status, fencing_token FROM seats WHERE id = $1::uuid")
            .bind(seat)
            .fetch_one(&mut pg)
            .await
            .expect("seat");
    assert_eq!(seat_status, "available");
    assert!(row_token > old_token);

    // End to end, with Redis having lost every key of the event and a row token ahead of
    // Redis' clock: the reserve re-holds above the row's token and wins, never writing an
    // older token.
    sqlx::query("UPDATE seats SET fencing_token = fencing_token + 60000000 WHERE id = $1::uuid")
        .bind(seat)
        .execute(&mut pg)
        .await
        .expect("ahead");
    let _: i64 = redis::cmd("DEL")
        .arg(format!(
            "{}:seat:{{evt:{}}}:fence",
            show.app.key_prefix, show.event_id
        ))
        .arg(hold_key(&show.app, &show.event_id, seat))
        .query_async(&mut conn)
        .await
        .expect("del");
    let (status, body) = show.reserve(&paused, &[seat], None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(body["reservation"]["fencingToken"].as_i64().unwrap_or(0) > row_token + 60000000 - 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_holds_fail_closed_and_reserve_and_reads_go_on_postgres_alone() {
    let mut private = PrivateRedis::start().expect("private redis");
    let show = show(AppOptions::application().redis(&private.url()), 1, 10).await;
    let me = buyer(&show).await;
    let other = buyer(&show).await;
    private.kill();
    let seat = [show.seats[0].as_str()];
    let response = show
        .with(&me, show.app.post("/api/v1/seats/lock"))
        .json(&json!({"eventId": show.event_id, "seatIds": seat}))
        .send()
        .await
        .expect("hold");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key("retry-after"));

    let (status, body) = show.reserve(&me, &seat, Some("k")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(body["reservation"]["fencingToken"].as_i64().unwrap_or(0) > 0);
    let (status, body) = show.reserve(&other, &seat, None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("seat_taken"))
    );
    assert_eq!(
        show.reserve_standing(&me, 2, None).await.0,
        StatusCode::CREATED
    );
    assert_eq!(
        show.get(&me, "/api/v1/reservations/my").await.0,
        StatusCode::OK
    );
    let (status, map) = show
        .get(&me, &format!("/api/v1/seats/events/{}", show.event_id))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(map["seats"][0]["status"], "locked");
}

/// Business counters: the scripts count what they did, the admin dashboard sums them (`live`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_what_the_queue_and_hold_scripts_counted() {
    let show = show(AppOptions::application(), 1, 10).await;
    let admin_id = uuid::Uuid::new_v4().to_string();
    let admin = Buyer {
        access: urr_tests::mint_access_token(&admin_id, "admin@example.com", true, "fam"),
        entry: String::new(),
        user_id: admin_id,
    };
    let dashboard = || async {
        let (status, body) = show.get(&admin, "/api/v1/admin/dashboard").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["live"].clone()
    };
    let before = dashboard().await;
    assert!(
        before.is_object(),
        "live counters while Redis answers: {before}"
    );

    // One newcomer joins through the real route (admitted at once: room for 1,000).
    let newcomer = uuid::Uuid::new_v4().to_string();
    let (status, body) = send(
        show.app
            .post(&format!("/api/v1/queue/check/{}", show.event_id))
            .bearer_auth(urr_tests::mint_access_token(
                &newcomer,
                "new@example.com",
                false,
                "fam",
            )),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // One hold of two seats granted, one refused because a seat is taken.
    let (a, b) = (buyer(&show).await, buyer(&show).await);
    let seats = [show.seats[0].as_str(), show.seats[1].as_str()];
    assert_eq!(show.hold(&a, &seats).await.0, StatusCode::OK);
    assert_eq!(show.hold(&b, &seats[1..]).await.0, StatusCode::CONFLICT);

    let after = dashboard().await;
    let grew = |path: &str| {
        let read = |v: &Value| v.pointer(path).and_then(Value::as_i64).unwrap_or(-1);
        read(&after) - read(&before)
    };
    println!("live before {before}\nlive after  {after}");
    assert_eq!(grew("/queue/joined"), 1);
    assert_eq!(grew("/queue/admitted"), 1);
    assert_eq!(grew("/holds/granted"), 1);
    assert_eq!(grew("/holds/seatsGranted"), 2);
    assert_eq!(grew("/holds/refusedTaken"), 1);
    assert_eq!(grew("/holds/refusedCap"), 0);

    // The host's /metrics reads the same hashes: the same numbers, all events of this test's
    // prefix (only this one).
    let metrics = show.app.metrics().await;
    let gauge = |name: &str| -> i64 {
        urr_tests::metric(&metrics, name)
            .unwrap_or_else(|| panic!("{name} is not on /metrics:\n{metrics}"))
    };
    assert_eq!(gauge("urr_business_up"), 1);
    assert_eq!(gauge("urr_business_scan_truncated"), 0);
    for (name, path) in [
        ("urr_business_events", "/events"),
        ("urr_queue_joined", "/queue/joined"),
        ("urr_queue_admitted", "/queue/admitted"),
        ("urr_holds_granted", "/holds/granted"),
        ("urr_holds_seats_granted", "/holds/seatsGranted"),
        ("urr_holds_refused_taken", "/holds/refusedTaken"),
    ] {
        let on_dashboard = after.pointer(path).and_then(Value::as_i64);
        assert_eq!(
            Some(gauge(name)),
            on_dashboard,
            "{name} vs the dashboard's {path}"
        );
    }
    assert!(gauge("urr_holds_granted") >= 1 && gauge("urr_queue_joined") >= 1);
}

/// OWASP C17, property level: a reserve body cannot set its price, status, owner or token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reserve_ignores_fields_a_client_must_not_set() {
    let show = show(AppOptions::application(), 1, 10).await;
    let me = buyer(&show).await;
    let someone = uuid::Uuid::new_v4().to_string();
    let seat = show.seats[0].as_str();
    assert_eq!(show.hold(&me, &[seat]).await.0, StatusCode::OK);
    let (status, body) = send(show.with(
        &me,
        show.app.post("/api/v1/seats/reserve").json(&json!({
            "eventId": show.event_id, "seatIds": [seat],
            "totalAmount": 1, "total_amount": 1, "status": "confirmed",
            "paymentStatus": "completed", "userId": someone, "fencingToken": 1,
        })),
    ))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let reservation = &body["reservation"];
    assert_eq!(reservation["totalAmount"], 50_000, "{body}");
    assert_eq!(reservation["status"], "pending");
    assert!(
        reservation["fencingToken"].as_i64().unwrap_or(0) > 1,
        "{body}"
    );
    let id = reservation["id"].as_str().expect("id");
    let (status, mine) = show.get(&me, &format!("/api/v1/reservations/{id}")).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the buyer, not `userId`, owns it: {mine}"
    );
    assert_eq!(mine["reservation"]["payment_status"], "pending");
}

/// `GET /reservations/my?page&limit`: pages of the buyer's reservations, newest first with
/// `pagination`; without paging the reply the web reads today (the newest, no `pagination`);
/// another buyer's rows never appear; bad paging is a 400 with its code; the answers conform to
/// the spec (the harness checks every answer).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn my_reservations_page_newest_first_and_unpaged_stays_as_the_web_reads_it() {
    use crate::payments::{get, reserve, user, world};
    const BOOKINGS: usize = 23;
    let world = world().await;
    let buyer = user(false);
    let neighbour = user(false);
    let mut made = Vec::new();
    for _ in 0..BOOKINGS {
        made.push(reserve(&world.pool, &buyer, 1, 300).await.id);
    }
    reserve(&world.pool, &neighbour, 1, 300).await;
    made.reverse(); // newest first

    let ids = |body: &Value| -> Vec<String> {
        body["reservations"]
            .as_array()
            .map(|rows| {
                rows.iter()
                    .map(|r| r["id"].as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let unpaged = get(&world.app, "/api/v1/reservations/my", &buyer).await;
    assert_eq!(unpaged.status, 200, "{}", unpaged.body);
    assert_eq!(ids(&unpaged.body), made, "every reservation, newest first");
    assert!(unpaged.body.get("pagination").is_none(), "{}", unpaged.body);
    assert!(unpaged.body["reservations"][0]["items"].is_array());

    let mut paged = Vec::new();
    for page in 1..=3 {
        let answer = get(
            &world.app,
            &format!("/api/v1/reservations/my?page={page}&limit=10"),
            &buyer,
        )
        .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(
            answer.body["pagination"],
            json!({"page": page, "limit": 10, "total": BOOKINGS, "totalPages": 3})
        );
        paged.extend(ids(&answer.body));
    }
    assert_eq!(
        paged, made,
        "the pages together are the history, in order, once"
    );
    let past_the_end = get(&world.app, "/api/v1/reservations/my?page=9", &buyer).await;
    assert_eq!(past_the_end.body["reservations"], json!([]));
    assert_eq!(
        past_the_end.body["pagination"]["limit"], 20,
        "the default page size"
    );
    let clamped = get(&world.app, "/api/v1/reservations/my?limit=0", &buyer).await;
    assert_eq!(ids(&clamped.body), made[..1].to_vec(), "limit clamps to 1");

    for (query, code) in [
        ("page=abc", "invalid_page"),
        ("page=10001", "invalid_page"),
        ("limit=x", "invalid_limit"),
    ] {
        let refused = get(
            &world.app,
            &format!("/api/v1/reservations/my?{query}"),
            &buyer,
        )
        .await;
        assert_eq!(
            (refused.status, refused.body["code"].as_str()),
            (400, Some(code)),
            "{query}: {}",
            refused.body
        );
    }
}
