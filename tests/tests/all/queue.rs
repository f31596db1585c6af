//! Components `queue-join` and `queue` end to end: the atomic join under a rush, the event gate,
//! status / heartbeat / leave, admin routes, entry tokens bound to event and user, the rate
//! limit, and Redis dying mid-test.

use reqwest::StatusCode;
use serde_json::Value;
use std::collections::HashSet;
use std::time::Duration;
use urr_tests::{
    AppOptions, PrivateRedis, TestApp, mint_access_token, spawn_app_with, test_queue_public_keys,
};

fn options(queue_settings: &str) -> AppOptions {
    AppOptions::application()
        .variable("queue_settings", queue_settings)
        .configure(|c| {
            // The rush test sends 1,000 joins at once: let them wait for an instance, not shed.
            c.limits.max_waiting = 4_096;
            c.limits.queue_timeout = Duration::from_secs(60);
        })
}

async fn app(queue_settings: &str) -> TestApp {
    spawn_app_with(options(queue_settings)).await
}

/// An event whose sale opened `opened_secs_ago` seconds ago (negative: opens in the future) and
/// ends `ends_in_secs` from now.
async fn insert_event(
    app: &TestApp,
    opened_secs_ago: f64,
    ends_in_secs: f64,
    cancelled: bool,
) -> String {
    let pool = sqlx::PgPool::connect(&app.database.url).await.expect("db");
    sqlx::query_scalar(
        "INSERT INTO events (title, venue, artist_name, event_date, sale_start_date, \
                             sale_end_date, cancelled, cancelled_at) \
         VALUES ('Rush Hour', 'Olympic Hall', 'IU', now() + interval '30 days', \
                 now() - make_interval(secs => $1), now() + make_interval(secs => $2), \
                 $3, CASE WHEN $3 THEN now() END) \
         RETURNING id::text",
    )
    .bind(opened_secs_ago)
    .bind(ends_in_secs)
    .bind(cancelled)
    .fetch_one(&pool)
    .await
    .expect("insert event")
}

async fn on_sale_event(app: &TestApp) -> String {
    insert_event(app, 60.0, 86_400.0, false).await
}

struct User {
    id: String,
    token: String,
}

fn user(admin: bool) -> User {
    let id = uuid::Uuid::new_v4().to_string();
    let token = mint_access_token(
        &id,
        "fan@example.com",
        admin,
        &uuid::Uuid::new_v4().to_string(),
    );
    User { id, token }
}

async fn send(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.expect("request");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn join(app: &TestApp, event: &str, who: &User) -> (StatusCode, Value) {
    // Bodyless, no Content-Type: exactly what the web client sends.
    send(
        app.post(&format!("/api/v1/queue/check/{event}"))
            .bearer_auth(&who.token),
    )
    .await
}

async fn status(app: &TestApp, event: &str, who: &User) -> (StatusCode, Value) {
    send(
        app.get(&format!("/api/queue/status/{event}"))
            .bearer_auth(&who.token),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_joins_never_pass_the_threshold_and_place_everyone_once() {
    const USERS: usize = 1_000;
    const THRESHOLD: u64 = 100;
    let app = app("threshold=100,rate=100").await;
    let event = on_sale_event(&app).await;
    let users: Vec<User> = (0..USERS).map(|_| user(false)).collect();

    let replies = futures::future::join_all(users.iter().map(|u| join(&app, &event, u))).await;

    let mut max_active = 0;
    let mut active = HashSet::new();
    let mut positions = Vec::new();
    for (u, (code, body)) in users.iter().zip(&replies) {
        assert_eq!(*code, StatusCode::OK, "{body}");
        max_active = max_active.max(body["currentUsers"].as_u64().expect("currentUsers"));
        match body["status"].as_str() {
            Some("active") => {
                assert!(body["entryToken"].is_string(), "{body}");
                active.insert(u.id.clone());
            }
            Some("queued") => positions.push(body["position"].as_u64().expect("position")),
            other => panic!("unexpected status {other:?}: {body}"),
        }
    }
    positions.sort_unstable();
    println!(
        "{USERS} joins: {} active, {} queued, max currentUsers seen {max_active}",
        active.len(),
        positions.len()
    );
    assert!(
        max_active <= THRESHOLD,
        "max active {max_active} > {THRESHOLD}"
    );
    assert_eq!(
        active.len() as u64,
        THRESHOLD,
        "the free slots were all taken"
    );
    assert_eq!(
        positions,
        (1..=(USERS as u64 - THRESHOLD)).collect::<Vec<_>>(),
        "queued positions are a permutation of 1..=900"
    );

    // Redis agrees: every user in exactly one place.
    let keys = urr_queue::EventKeys::new(&app.key_prefix, &event);
    let client = redis::Client::open(urr_tests::redis_url()).expect("redis");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("conn");
    let in_active: Vec<String> = redis::AsyncCommands::zrange(&mut conn, &keys.active, 0, -1)
        .await
        .expect("zrange");
    let in_line: Vec<String> = redis::AsyncCommands::zrange(&mut conn, &keys.waiting, 0, -1)
        .await
        .expect("zrange");
    let a: HashSet<_> = in_active.into_iter().collect();
    let w: HashSet<_> = in_line.into_iter().collect();
    println!(
        "redis: {} active, {} waiting, {} in both",
        a.len(),
        w.len(),
        a.intersection(&w).count()
    );
    assert_eq!(a, active);
    assert!(a.is_disjoint(&w));
    assert_eq!(a.len() + w.len(), USERS);
    assert!(users.iter().all(|u| a.contains(&u.id) || w.contains(&u.id)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_gate_takes_joins_only_while_the_sale_is_open_or_about_to_open() {
    let app = app("open_lead_secs=600").await;
    let fan = user(false);
    let cases = [
        (
            insert_event(&app, 60.0, 3_600.0, false).await,
            StatusCode::OK,
            "",
        ),
        (
            insert_event(&app, -300.0, 3_600.0, false).await,
            StatusCode::OK,
            "",
        ),
        (
            insert_event(&app, -3_600.0, 7_200.0, false).await,
            StatusCode::CONFLICT,
            "sale_not_open",
        ),
        (
            insert_event(&app, 60.0, 3_600.0, true).await,
            StatusCode::CONFLICT,
            "event_cancelled",
        ),
        (
            insert_event(&app, 7_200.0, -3_600.0, false).await,
            StatusCode::CONFLICT,
            "sale_ended",
        ),
        (
            uuid::Uuid::new_v4().to_string(),
            StatusCode::NOT_FOUND,
            "event_not_found",
        ),
        (
            "not-a-uuid".to_string(),
            StatusCode::BAD_REQUEST,
            "invalid_event_id",
        ),
    ];
    for (event, expected, code) in cases {
        let (got, body) = join(&app, &event, &fan).await;
        assert_eq!(got, expected, "{event}: {body}");
        if !code.is_empty() {
            assert_eq!(body["code"], code, "{body}");
        } else {
            assert_eq!(body["eventInfo"]["title"], "Rush Hour", "{body}");
            assert_eq!(body["eventInfo"]["artist"], "IU", "{body}");
        }
    }
    // Anonymous callers are not placed anywhere.
    let event = on_sale_event(&app).await;
    let (code, body) = send(app.post(&format!("/api/queue/check/{event}"))).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiter_moves_up_is_admitted_with_a_token_bound_to_event_and_user_and_can_leave() {
    let app = app("threshold=1,rate=100").await;
    let event = on_sale_event(&app).await;
    let (first, second) = (user(false), user(false));

    let (_, body) = join(&app, &event, &first).await;
    assert_eq!(body["status"], "active", "{body}");
    let (_, body) = join(&app, &event, &second).await;
    assert_eq!(body["status"], "queued", "{body}");
    assert_eq!(body["position"], 1);
    // Joining again is not a second place.
    let (_, again) = join(&app, &event, &second).await;
    assert_eq!(again["position"], 1, "{again}");

    let (code, body) = status(&app, &event, &second).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    for field in [
        "position",
        "peopleAhead",
        "peopleBehind",
        "queueSize",
        "estimatedWait",
        "nextPoll",
        "threshold",
        "currentUsers",
    ] {
        assert!(body[field].is_u64(), "{field} in {body}");
    }
    assert_eq!(body["eventInfo"]["title"], "Rush Hour");
    let (code, beat) = send(
        app.post(&format!("/api/v1/queue/heartbeat/{event}"))
            .bearer_auth(&second.token),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(
        beat,
        serde_json::json!({"status": "queued", "queued": true})
    );

    // The first user leaves (bodyless, then again as a text/plain beacon: idempotent).
    let leave = format!("/api/v1/queue/leave/{event}");
    let (code, body) = send(app.post(&leave).bearer_auth(&first.token)).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let (code, _) = send(
        app.post(&leave)
            .bearer_auth(&first.token)
            .header("content-type", "text/plain;charset=UTF-8")
            .body("{\"eventId\":\"x\"}"),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    let (_, body) = status(&app, &event, &first).await;
    assert_eq!(body["status"], "not_in_queue", "{body}");

    // The freed slot goes to the head of the line at the admission rate (lazily, on a poll).
    let mut admitted = Value::Null;
    for _ in 0..100 {
        let (_, body) = status(&app, &event, &second).await;
        if body["status"] == "active" {
            admitted = body;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(admitted["queued"], false, "never admitted: {admitted}");
    let token = admitted["entryToken"].as_str().expect("entry token");
    let entry = urr_tokens::verify_entry(&test_queue_public_keys(), token).expect("valid token");
    assert_eq!(entry.admits(&second.id, &event), Ok(()));
    assert!(entry.admits(&first.id, &event).is_err(), "another user");
    assert!(
        entry
            .admits(&second.id, &uuid::Uuid::new_v4().to_string())
            .is_err(),
        "another event"
    );
    assert!(
        urr_tokens::verify_access(&test_queue_public_keys(), token).is_err(),
        "an entry token is no access token"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_routes_need_the_admin_role() {
    let app = app("threshold=5").await;
    let event = on_sale_event(&app).await;
    let (fan, admin) = (user(false), user(true));
    join(&app, &event, &fan).await;

    let view = format!("/api/v1/queue/admin/{event}");
    assert_eq!(send(app.get(&view)).await.0, StatusCode::UNAUTHORIZED);
    let (code, body) = send(app.get(&view).bearer_auth(&fan.token)).await;
    assert_eq!(code, StatusCode::FORBIDDEN, "{body}");
    let (code, body) = send(app.get(&view).bearer_auth(&admin.token)).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(body["currentUsers"], 1);
    assert_eq!(body["available"], 4);

    let threshold = format!("/api/queue/admin/threshold/{event}");
    let (code, body) = send(
        app.post(&format!("{threshold}?threshold=0"))
            .bearer_auth(&admin.token),
    )
    .await;
    assert_eq!(
        (code, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_threshold"))
    );
    assert_eq!(
        send(
            app.post(&format!("{threshold}?threshold=9"))
                .bearer_auth(&fan.token)
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let (code, body) = send(
        app.post(&format!("{threshold}?threshold=9"))
            .bearer_auth(&admin.token),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(body, serde_json::json!({"eventId": event, "threshold": 9}));
    assert_eq!(
        send(app.get(&view).bearer_auth(&admin.token)).await.1["threshold"],
        9
    );

    let clear = format!("/api/v1/queue/admin/clear/{event}");
    assert_eq!(
        send(app.post(&clear).bearer_auth(&fan.token)).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        send(app.post(&clear).bearer_auth(&admin.token)).await.0,
        StatusCode::OK
    );
    assert_eq!(status(&app, &event, &fan).await.1["status"], "not_in_queue");
    assert_eq!(
        send(app.get(&view).bearer_auth(&admin.token)).await.1["threshold"],
        9,
        "configuration stays"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_rate_limit_answers_429_with_retry_after() {
    let app = spawn_app_with(options("").variable("rate_limits", "queue=3")).await;
    let event = on_sale_event(&app).await;
    let fan = user(false);
    let mut codes = Vec::new();
    let mut retry_after = None;
    for _ in 0..5 {
        let response = app
            .get(&format!("/api/v1/queue/status/{event}"))
            .bearer_auth(&fan.token)
            .send()
            .await
            .expect("request");
        codes.push(response.status().as_u16());
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            retry_after = response.headers().get("retry-after").cloned();
        }
    }
    println!("statuses: {codes:?}");
    assert_eq!(codes, vec![200, 200, 200, 429, 429]);
    assert!(retry_after.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_killed_join_and_status_fail_closed_with_503() {
    let mut redis = PrivateRedis::start().expect("private redis");
    let app = spawn_app_with(options("").redis(&redis.url())).await;
    let event = on_sale_event(&app).await;
    let fan = user(false);
    assert_eq!(join(&app, &event, &fan).await.0, StatusCode::OK);

    redis.kill();
    for path in [
        format!("/api/v1/queue/check/{event}"),
        format!("/api/v1/queue/status/{event}"),
    ] {
        let request = if path.contains("check") {
            app.post(&path)
        } else {
            app.get(&path)
        };
        let response = request
            .bearer_auth(&fan.token)
            .send()
            .await
            .expect("request");
        let code = response.status();
        let retry = response.headers().get("retry-after").cloned();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE, "{path}: {body}");
        assert!(retry.is_some(), "{path}: Retry-After");
        assert_eq!(body["code"], "redis_unavailable", "{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fair_start_order_is_reproducible_from_the_revealed_seed() {
    use sha2::Digest;
    let app = app("threshold=2,rate=1000,open_lead_secs=600").await;
    // The sale opens in 4 seconds.
    let event = insert_event(&app, -4.0, 3_600.0, false).await;
    let fans: Vec<User> = (0..6).map(|_| user(false)).collect();
    let mut seed_hash = Value::Null;
    for fan in &fans {
        let (code, body) = join(&app, &event, fan).await;
        assert_eq!(code, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "queued", "{body}");
        assert!(
            body["position"].is_null(),
            "no place before the draw: {body}"
        );
        assert!(body["fairStart"]["seed"].is_null(), "seed secret: {body}");
        assert_eq!(body["fairStart"]["inPool"], true);
        if seed_hash.is_null() {
            seed_hash = body["fairStart"]["seedHash"].clone();
        }
        assert_eq!(
            body["fairStart"]["seedHash"], seed_hash,
            "one seed per event"
        );
    }
    // Anyone signed in sees the hash before the opening.
    let outsider = user(false);
    let (_, body) = status(&app, &event, &outsider).await;
    assert_eq!(body["status"], "not_in_queue");
    assert_eq!(body["fairStart"]["seedHash"], seed_hash, "{body}");
    assert!(body["fairStart"]["seed"].is_null());

    // After the opening: the seed is revealed and matches the hash published before.
    let opens_at = body["fairStart"]["opensAt"].as_u64().expect("opensAt");
    let mut revealed = Value::Null;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (_, body) = status(&app, &event, &outsider).await;
        if !body["fairStart"]["seed"].is_null() {
            revealed = body["fairStart"]["seed"].clone();
            break;
        }
    }
    let seed_hex = revealed.as_str().expect("seed revealed after the opening");
    let seed = crate::queue_store::hex_bytes(seed_hex);
    let hash: String = sha2::Sha256::digest(&seed)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(Value::String(hash), seed_hash);
    assert!(opens_at > 0);

    // The order the seed gives: the first two (threshold 2) are in, the rest wait in that order.
    let mut expected: Vec<&User> = fans.iter().collect();
    expected.sort_by_key(|u| {
        (
            crate::queue_store::published_draw(&seed, &u.id),
            u.id.clone(),
        )
    });
    let mut seen = Vec::new();
    for _ in 0..100 {
        seen.clear();
        for fan in &expected {
            let (_, body) = status(&app, &event, fan).await;
            seen.push(body);
        }
        if seen.iter().filter(|b| b["status"] == "active").count() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for (rank, body) in seen.iter().enumerate() {
        if rank < 2 {
            assert_eq!(body["status"], "active", "rank {rank}: {body}");
        } else {
            assert_eq!(body["position"], (rank - 1) as u64, "rank {rank}: {body}");
        }
        assert_eq!(body["fairStart"]["seed"], revealed);
    }
}
