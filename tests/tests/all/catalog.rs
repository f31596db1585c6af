//! The public catalog (`catalog` component) over the demo data of `urr-edge seed`: listing,
//! filters, search, paging, detail, ticket types, layouts, caching, bad input, and the SQL it
//! stands on (seat generation, status from the sale window, grants).

use serde_json::Value;
use sqlx::{Connection as _, PgConnection};
use urr_edge::seed::{EVENTS, LAYOUTS, SeedReport, seed};
use urr_tests::{AppOptions, TestApp, assert_permission_denied, count, spawn_app_with};

/// Seats of the three demo layouts, each used by exactly one seated demo event.
const DEMO_SEATS: u64 = 265 + 1_250 + 4_900;
const CACHE_CONTROL: &str = "public, max-age=0, s-maxage=5, stale-while-revalidate=30";

const MUSICAL: &str = "5e3d0a4c-1b7e-4c2a-9f00-000000000001";
const ENCORE: &str = "5e3d0a4c-1b7e-4c2a-9f00-000000000002";
const STADIUM: &str = "5e3d0a4c-1b7e-4c2a-9f00-000000000003";
const INDIE: &str = "5e3d0a4c-1b7e-4c2a-9f00-000000000004";
const FESTIVAL: &str = "5e3d0a4c-1b7e-4c2a-9f00-000000000005";
const FAN_MEETING: &str = "5e3d0a4c-1b7e-4c2a-9f00-000000000006";

async fn seeded_app() -> TestApp {
    let app = spawn_app_with(AppOptions::application()).await;
    seed(&app.database.url).await.expect("seeding");
    app
}

async fn db(app: &TestApp) -> PgConnection {
    PgConnection::connect(&app.database.url)
        .await
        .expect("connecting to the test database")
}

/// Inserts a standing event whose sale window is given in seconds from Postgres' `now()`.
async fn insert_event(
    conn: &mut PgConnection,
    title: &str,
    artist: &str,
    venue: &str,
    (opens_in_secs, closes_in_secs): (i32, i32),
) -> String {
    sqlx::query_scalar(
        "INSERT INTO events (title, artist_name, venue, event_date, sale_start_date, sale_end_date) \
         VALUES ($1, $2, $3, now() + interval '90 days', \
                 now() + make_interval(secs => $4), now() + make_interval(secs => $5)) \
         RETURNING id::text",
    )
    .bind(title)
    .bind(artist)
    .bind(venue)
    .bind(f64::from(opens_in_secs))
    .bind(f64::from(closes_in_secs))
    .fetch_one(conn)
    .await
    .expect("inserting an event")
}

fn ids(body: &Value) -> Vec<String> {
    body["events"]
        .as_array()
        .unwrap_or_else(|| panic!("no events in {body}"))
        .iter()
        .map(|e| e["id"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn status_of<'a>(body: &'a Value, id: &str) -> &'a str {
    body["events"]
        .as_array()
        .and_then(|events| events.iter().find(|e| e["id"] == id))
        .and_then(|e| e["status"].as_str())
        .unwrap_or_else(|| panic!("event {id} not listed in {body}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeding_twice_inserts_everything_exactly_once() {
    let app = spawn_app_with(AppOptions::application()).await;
    let started = std::time::Instant::now();
    let first = seed(&app.database.url).await.expect("first seed");
    let first_took = started.elapsed();
    let second = seed(&app.database.url).await.expect("second seed");
    eprintln!(
        "seed: first run {first_took:?}, second run {:?}",
        started.elapsed() - first_took
    );
    let standing_types: usize = EVENTS.iter().map(|e| e.ticket_types.len()).sum();
    assert_eq!(
        first,
        SeedReport {
            layouts: LAYOUTS.len() as u64,
            events: EVENTS.len() as u64,
            ticket_types: standing_types as u64,
            seats: DEMO_SEATS,
        }
    );
    assert_eq!(
        second,
        SeedReport::default(),
        "a second seed must insert nothing"
    );

    let mut conn = db(&app).await;
    assert_eq!(
        count(&mut conn, "SELECT count(*) FROM seat_layouts").await,
        3
    );
    assert_eq!(count(&mut conn, "SELECT count(*) FROM events").await, 6);
    assert_eq!(
        count(&mut conn, "SELECT count(*) FROM ticket_types").await,
        standing_types as i64
    );
    assert_eq!(
        count(&mut conn, "SELECT count(*) FROM seats").await,
        DEMO_SEATS as i64
    );
    // Each seated event has exactly its layout's seats.
    let mismatched = count(
        &mut conn,
        "SELECT count(*) FROM events e JOIN seat_layouts l ON l.id = e.seat_layout_id \
         WHERE l.total_seats <> (SELECT count(*) FROM seats s WHERE s.event_id = e.id)",
    )
    .await;
    assert_eq!(mismatched, 0);
    for (name, seats) in [
        ("small_theater", 265),
        ("large_theater", 1_250),
        ("sports_stadium", 4_900),
    ] {
        let total: i32 = sqlx::query_scalar("SELECT total_seats FROM seat_layouts WHERE name = $1")
            .bind(name)
            .fetch_one(&mut conn)
            .await
            .expect("layout");
        assert_eq!(total, seats, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_seats_follow_their_layout_in_one_call() {
    let app = seeded_app().await;
    let mut conn = db(&app).await;
    // Labels are `<section>-<row>-<n>`, rows numbered from each section's startRow.
    let rows: Vec<(String, i32)> = sqlx::query_as(
        "SELECT seat_label, price FROM seats WHERE event_id = $1::uuid \
         AND seat_label IN ('VIP-1-1', 'VIP-3-15', 'R-4-1', 'S-14-20', 'S-15-1', 'VIP-4-1') \
         ORDER BY seat_label",
    )
    .bind(MUSICAL)
    .fetch_all(&mut conn)
    .await
    .expect("seats");
    assert_eq!(
        rows,
        vec![
            ("R-4-1".to_string(), 120_000),
            ("S-14-20".to_string(), 90_000),
            ("VIP-1-1".to_string(), 150_000),
            ("VIP-3-15".to_string(), 150_000),
        ]
    );
    let per_section: Vec<(String, i64)> = sqlx::query_as(
        "SELECT section, count(*) FROM seats WHERE event_id = $1::uuid \
         GROUP BY section ORDER BY section",
    )
    .bind(STADIUM)
    .fetch_all(&mut conn)
    .await
    .expect("sections");
    assert_eq!(
        per_section,
        [
            ("East", 1_100),
            ("Floor", 500),
            ("North", 1_100),
            ("South", 1_100),
            ("West", 1_100)
        ]
        .map(|(s, n)| (s.to_string(), n))
        .to_vec()
    );
    let fresh: (String, i64, i64, Option<String>) = sqlx::query_as(
        "SELECT min(status), min(version)::int8, max(fencing_token), min(held_by::text) \
         FROM seats WHERE event_id = $1::uuid",
    )
    .bind(STADIUM)
    .fetch_one(&mut conn)
    .await
    .expect("seat state");
    assert_eq!(fresh, ("available".to_string(), 0, 0, None));

    // Regenerating the stadium from scratch is one call, timed for the record.
    sqlx::query("DELETE FROM seats WHERE event_id = $1::uuid")
        .bind(STADIUM)
        .execute(&mut conn)
        .await
        .expect("delete");
    let started = std::time::Instant::now();
    let generated: i32 = sqlx::query_scalar("SELECT generate_event_seats($1::uuid)")
        .bind(STADIUM)
        .fetch_one(&mut conn)
        .await
        .expect("generate");
    eprintln!(
        "generate_event_seats: {generated} seats in {:?}",
        started.elapsed()
    );
    assert_eq!(generated, 4_900);
    for (event, expected) in [
        (STADIUM, 0),
        (INDIE, 0),
        ("00000000-0000-4000-8000-000000000000", 0),
    ] {
        let again: i32 = sqlx::query_scalar("SELECT generate_event_seats($1::uuid)")
            .bind(event)
            .fetch_one(&mut conn)
            .await
            .expect("generate");
        assert_eq!(
            again, expected,
            "{event}: existing seats, standing, unknown"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_listing_shows_the_demo_events_with_their_computed_status() {
    let app = seeded_app().await;
    let (status, body) = app.get_json("/api/v1/events?limit=100").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["pagination"]["total"], 6, "{body}");
    assert_eq!(body["pagination"]["totalPages"], 1);
    for (id, expected) in [
        (MUSICAL, "on_sale"),
        (ENCORE, "upcoming"),
        (STADIUM, "on_sale"),
        (INDIE, "on_sale"),
        (FESTIVAL, "ended"),
        (FAN_MEETING, "upcoming"),
    ] {
        assert_eq!(status_of(&body, id), expected, "{id}");
    }
    // Soonest event first; the ended festival happened a month ago.
    assert_eq!(ids(&body).first().map(String::as_str), Some(FESTIVAL));

    let indie = body["events"]
        .as_array()
        .and_then(|events| events.iter().find(|e| e["id"] == INDIE))
        .cloned()
        .unwrap_or_default();
    let mut keys: Vec<&str> = indie
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "address",
            "artist_name",
            "description",
            "event_date",
            "id",
            "max_price",
            "min_price",
            "poster_image_url",
            "sale_end_date",
            "sale_start_date",
            "status",
            "ticket_type_count",
            "title",
            "venue"
        ]
    );
    assert_eq!(indie["ticket_type_count"], 2);
    assert_eq!(indie["min_price"], 66_000);
    assert_eq!(indie["max_price"], 77_000);
    assert!(
        indie["sale_start_date"]
            .as_str()
            .is_some_and(|t| t.len() == 24 && t.ends_with('Z')),
        "{indie}"
    );
    let stadium = body["events"]
        .as_array()
        .and_then(|events| events.iter().find(|e| e["id"] == STADIUM))
        .cloned()
        .unwrap_or_default();
    assert_eq!(stadium["ticket_type_count"], 0);
    assert_eq!(
        (stadium["min_price"].clone(), stadium["max_price"].clone()),
        (Value::from(99_000), Value::from(165_000)),
        "a seated event's prices come from its layout"
    );

    // The same under /api/...
    let (status, plain) = app.get_json("/api/events?limit=100").await;
    assert_eq!(status, 200);
    assert_eq!(ids(&plain), ids(&body));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_follows_the_sale_window_and_filters_the_listing() {
    let app = spawn_app_with(AppOptions::application()).await;
    let mut conn = db(&app).await;
    let upcoming = insert_event(&mut conn, "Opens soon", "A", "Hall", (3_600, 7_200)).await;
    let on_sale = insert_event(&mut conn, "Just opened", "A", "Hall", (-1, 3_600)).await;
    let ended = insert_event(&mut conn, "Just closed", "A", "Hall", (-7_200, -1)).await;
    let cancelled = insert_event(&mut conn, "Called off", "A", "Hall", (-1, 3_600)).await;
    sqlx::query("UPDATE events SET cancelled = true, cancelled_at = now() WHERE id = $1::uuid")
        .bind(&cancelled)
        .execute(&mut conn)
        .await
        .expect("cancel");

    for (status, id) in [
        ("upcoming", &upcoming),
        ("on_sale", &on_sale),
        ("ended", &ended),
        ("cancelled", &cancelled),
    ] {
        let (code, body) = app
            .get_json(&format!("/api/v1/events?status={status}"))
            .await;
        assert_eq!(code, 200, "{body}");
        assert_eq!(ids(&body), vec![id.clone()], "status={status}: {body}");
        assert_eq!(body["events"][0]["status"], status);
        assert_eq!(body["pagination"]["total"], 1);
    }

    // At the boundaries, with the instant pinned: start inclusive, end exclusive.
    let at: Vec<(String, String, String, String)> = sqlx::query_as(
        "WITH w AS (SELECT timestamptz '2026-12-01 12:00:00+09' AS s, \
                           timestamptz '2026-12-02 12:00:00+09' AS e) \
         SELECT event_status(false, s, e, s - interval '1 microsecond'), \
                event_status(false, s, e, s), \
                event_status(false, s, e, e - interval '1 microsecond'), \
                event_status(false, s, e, e) FROM w",
    )
    .fetch_all(&mut conn)
    .await
    .expect("event_status");
    assert_eq!(
        at,
        vec![(
            "upcoming".to_string(),
            "on_sale".to_string(),
            "on_sale".to_string(),
            "ended".to_string()
        )]
    );
    let cancelled_wins: String = sqlx::query_scalar(
        "SELECT event_status(true, now() - interval '1 hour', now() + interval '1 hour', now())",
    )
    .fetch_one(&mut conn)
    .await
    .expect("event_status");
    assert_eq!(cancelled_wins, "cancelled");

    // The window is enforced by the schema.
    let err = sqlx::query(
        "INSERT INTO events (title, venue, event_date, sale_start_date, sale_end_date) \
         VALUES ('x', 'y', now(), now(), now() - interval '1 second')",
    )
    .execute(&mut conn)
    .await
    .expect_err("sale end before start");
    assert!(
        err.to_string().contains("events_sale_window_check"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_covers_title_artist_and_venue_and_escapes_like_metacharacters() {
    let app = seeded_app().await;
    let mut conn = db(&app).await;
    let percent = insert_event(&mut conn, "100% Live", "X", "Hall", (-1, 3_600)).await;
    let hundred = insert_event(&mut conn, "1000 Live", "X", "Hall", (-1, 3_600)).await;
    let underscore = insert_event(&mut conn, "snake_case night", "X", "Hall", (-1, 3_600)).await;
    let lookalike = insert_event(&mut conn, "snakeXcase night", "X", "Hall", (-1, 3_600)).await;
    let backslash = insert_event(&mut conn, r"back\slash", "X", "Hall", (-1, 3_600)).await;

    let search = |q: &'static str| {
        let app = &app;
        async move {
            let (status, body) = app
                .get_json(&format!("/api/v1/events?limit=100&q={q}"))
                .await;
            assert_eq!(status, 200, "q={q}: {body}");
            let mut found = ids(&body);
            found.sort();
            found
        }
    };
    assert_eq!(
        search("100%25").await,
        vec![percent.clone()],
        "`%` is literal"
    );
    assert_eq!(
        search("e_c").await,
        vec![underscore.clone()],
        "`_` is literal"
    );
    assert_eq!(search("%25").await, vec![percent.clone()]);
    assert_eq!(search("_").await, vec![underscore.clone()]);
    assert_eq!(
        search("%5C").await,
        vec![backslash.clone()],
        r"`\` is literal"
    );
    assert_eq!(search("1000").await, vec![hundred.clone()]);
    let mut snakes = vec![underscore.clone(), lookalike.clone()];
    snakes.sort();
    assert_eq!(search("snake").await, snakes);
    // Artist (case-insensitive) and venue, in Korean too.
    assert_eq!(search("iu").await, vec![ENCORE.to_string()]);
    assert_eq!(
        search("%EB%A1%A4%EB%A7%81%ED%99%80").await,
        vec![INDIE.to_string()],
        "venue 롤링홀"
    );
    assert!(search("nothing-like-this").await.is_empty());

    // Search composes with the status filter and the price range.
    let (_, body) = app
        .get_json("/api/v1/events?q=Various&status=on_sale")
        .await;
    assert_eq!(ids(&body), vec![STADIUM.to_string()], "{body}");
    let (_, body) = app
        .get_json("/api/v1/events?min_price=60000&max_price=70000&limit=100")
        .await;
    assert_eq!(ids(&body), vec![INDIE.to_string()], "{body}");
    let (_, body) = app.get_json("/api/v1/events?minPrice=168000").await;
    assert_eq!(
        ids(&body),
        vec![ENCORE.to_string()],
        "large theater VIP: {body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_is_clamped_and_counted() {
    let app = seeded_app().await;
    let (_, all) = app.get_json("/api/v1/events?limit=100").await;
    let all = ids(&all);
    assert_eq!(all.len(), 6);

    let (status, body) = app.get_json("/api/v1/events?page=2&limit=4").await;
    assert_eq!(status, 200);
    assert_eq!(ids(&body), all[4..].to_vec());
    assert_eq!(
        body["pagination"],
        serde_json::json!({"page": 2, "limit": 4, "total": 6, "totalPages": 2})
    );
    let (_, body) = app.get_json("/api/v1/events").await;
    assert_eq!(body["pagination"]["limit"], 10, "default page size");
    for (query, limit) in [("limit=0", 1), ("limit=-3", 1), ("limit=1000", 100)] {
        let (status, body) = app.get_json(&format!("/api/v1/events?{query}")).await;
        assert_eq!(status, 200, "{query}");
        assert_eq!(body["pagination"]["limit"], limit, "{query}");
        assert!(ids(&body).len() <= 6);
    }
    let (_, body) = app.get_json("/api/v1/events?page=0&limit=1").await;
    assert_eq!(body["pagination"]["page"], 1);
    assert_eq!(ids(&body), all[..1].to_vec());
    // Past the end: an empty page that still knows the total.
    let (status, body) = app.get_json("/api/v1/events?page=50").await;
    assert_eq!(status, 200);
    assert!(ids(&body).is_empty());
    assert_eq!(body["pagination"]["total"], 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_a_400_with_a_code_and_unknown_ids_are_404() {
    let app = seeded_app().await;
    let long = "a".repeat(101);
    for (path, code) in [
        ("/api/v1/events?status=bogus", "invalid_status"),
        ("/api/v1/events?page=abc", "invalid_page"),
        ("/api/v1/events?page=99999999", "invalid_page"),
        ("/api/v1/events?limit=ten", "invalid_limit"),
        ("/api/v1/events?min_price=-1", "invalid_price"),
        ("/api/v1/events?max_price=1.5", "invalid_price"),
        (
            "/api/v1/events?min_price=5000&max_price=10",
            "invalid_price_range",
        ),
        (&format!("/api/v1/events?q={long}"), "invalid_search"),
        ("/api/v1/events/not-a-uuid", "invalid_id"),
        ("/api/events/1%27%20OR%201=1", "invalid_id"),
        ("/api/v1/tickets/event/123", "invalid_id"),
        ("/api/v1/tickets/availability/xyz", "invalid_id"),
    ] {
        let (status, body) = app.get_json(path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["code"], code, "{path}: {body}");
        assert_eq!(body["error"], body["message"], "{path}");
    }
    let unknown = "6f1c2b3a-0000-4000-8000-000000000000";
    for path in [
        format!("/api/v1/events/{unknown}"),
        format!("/api/v1/tickets/event/{unknown}"),
        format!("/api/v1/tickets/availability/{unknown}"),
    ] {
        let (status, body) = app.get_json(&path).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert_eq!(body["code"], "not_found");
    }
    let response = app
        .post("/api/v1/events")
        .send()
        .await
        .expect("POST /events");
    assert_eq!(response.status(), 405);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_detail_has_every_column_and_its_ticket_types() {
    let app = seeded_app().await;
    let (status, body) = app.get_json(&format!("/api/v1/events/{INDIE}")).await;
    assert_eq!(status, 200, "{body}");
    let event = &body["event"];
    assert_eq!(event["id"], INDIE);
    assert_eq!(event["status"], "on_sale");
    assert_eq!(event["venue"], "롤링홀");
    for (snake, camel) in [
        ("seat_layout_id", "seatLayoutId"),
        ("sale_start_date", "saleStartDate"),
        ("sale_end_date", "saleEndDate"),
        ("event_date", "eventDate"),
        ("artist_name", "artistName"),
        ("poster_image_url", "posterImageUrl"),
    ] {
        assert!(event.get(snake).is_some(), "{snake} missing: {event}");
        assert_eq!(event[snake], event[camel], "{snake} vs {camel}");
    }
    assert_eq!(event["seat_layout_id"], Value::Null, "standing");
    let types = body["ticketTypes"].as_array().cloned().unwrap_or_default();
    assert_eq!(types.len(), 2, "{body}");
    assert_eq!(types[0]["name"], "스탠딩 B", "cheapest first");
    assert_eq!(types[0]["price"], 66_000);
    assert_eq!(types[0]["total_quantity"], 200);
    assert_eq!(types[0]["available_quantity"], 200);
    assert!(types[0]["description"].is_string());

    // A seated event names its layout, the one /seats/layouts lists.
    let (_, seated) = app.get_json(&format!("/api/events/{STADIUM}")).await;
    let (_, layouts) = app.get_json("/api/v1/seats/layouts").await;
    let stadium_layout = layouts["layouts"]
        .as_array()
        .and_then(|l| l.iter().find(|l| l["name"] == "sports_stadium"))
        .map(|l| l["id"].clone())
        .unwrap_or_default();
    assert_eq!(seated["event"]["seatLayoutId"], stadium_layout);
    assert_eq!(seated["ticketTypes"], serde_json::json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ticket_types_and_availability_are_read_per_event_and_type() {
    let app = seeded_app().await;
    let (status, body) = app
        .get_json(&format!("/api/v1/tickets/event/{INDIE}"))
        .await;
    assert_eq!(status, 200, "{body}");
    let types = body["ticketTypes"].as_array().cloned().unwrap_or_default();
    assert_eq!(types.len(), 2);
    let a = types
        .iter()
        .find(|t| t["name"] == "스탠딩 A")
        .cloned()
        .unwrap_or_default();

    let mut conn = db(&app).await;
    sqlx::query("UPDATE ticket_types SET available_quantity = 123 WHERE id = $1::uuid")
        .bind(a["id"].as_str().unwrap_or_default())
        .execute(&mut conn)
        .await
        .expect("update");
    let (status, body) = app
        .get_json(&format!(
            "/api/tickets/availability/{}",
            a["id"].as_str().unwrap_or_default()
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        serde_json::json!({"available_quantity": 123, "total_quantity": 300})
    );
    // The schema keeps quantities within bounds.
    let err = sqlx::query("UPDATE ticket_types SET available_quantity = total_quantity + 1")
        .execute(&mut conn)
        .await
        .expect_err("more available than total");
    assert!(
        err.to_string().contains("ticket_types_quantity_check"),
        "{err}"
    );

    // An event without ticket types lists none.
    let (status, body) = app
        .get_json(&format!("/api/v1/tickets/event/{MUSICAL}"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body, serde_json::json!({"ticketTypes": []}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seat_layouts_are_listed_smallest_first() {
    let app = seeded_app().await;
    let (status, body) = app.get_json("/api/v1/seats/layouts").await;
    assert_eq!(status, 200, "{body}");
    let layouts = body["layouts"].as_array().cloned().unwrap_or_default();
    let summary: Vec<(String, i64)> = layouts
        .iter()
        .map(|l| {
            (
                l["name"].as_str().unwrap_or_default().to_string(),
                l["total_seats"].as_i64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("small_theater", 265),
            ("large_theater", 1_250),
            ("sports_stadium", 4_900)
        ]
        .map(|(n, s)| (n.to_string(), s))
        .to_vec()
    );
    let sections = layouts[0]["layout_config"]["sections"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(sections.len(), 3);
    assert_eq!(sections[0]["name"], "VIP");
    assert_eq!(sections[0]["seatsPerRow"], 15);
    assert!(layouts[0]["id"].as_str().is_some_and(|id| id.len() == 36));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_reads_are_cacheable_and_revalidate_with_304() {
    let app = seeded_app().await;
    let first = app
        .get("/api/v1/events?status=on_sale")
        .send()
        .await
        .expect("GET");
    assert_eq!(first.status(), 200);
    let header = |r: &reqwest::Response, name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    assert_eq!(
        header(&first, "cache-control").as_deref(),
        Some(CACHE_CONTROL)
    );
    let etag = header(&first, "etag").expect("an ETag");
    assert!(
        etag.starts_with('"') && etag.ends_with('"'),
        "strong: {etag}"
    );

    let revalidate = |tag: String| {
        app.get("/api/v1/events?status=on_sale")
            .header("if-none-match", tag)
            .send()
    };
    let not_modified = revalidate(etag.clone()).await.expect("GET");
    assert_eq!(not_modified.status(), 304);
    assert_eq!(header(&not_modified, "etag"), Some(etag.clone()));
    assert_eq!(
        header(&not_modified, "cache-control").as_deref(),
        Some(CACHE_CONTROL)
    );
    assert!(not_modified.text().await.unwrap_or_default().is_empty());
    assert_eq!(
        revalidate(format!("\"x\", W/{etag}"))
            .await
            .expect("GET")
            .status(),
        304
    );
    assert_eq!(
        revalidate("\"stale\"".into()).await.expect("GET").status(),
        200
    );

    // A change to the data changes the tag: the old one no longer matches.
    let mut conn = db(&app).await;
    sqlx::query("UPDATE events SET title = 'Renamed' WHERE id = $1::uuid")
        .bind(STADIUM)
        .execute(&mut conn)
        .await
        .expect("update");
    let changed = revalidate(etag.clone()).await.expect("GET");
    assert_eq!(changed.status(), 200);
    assert_ne!(header(&changed, "etag"), Some(etag));

    for path in [
        format!("/api/v1/events/{STADIUM}"),
        format!("/api/v1/tickets/event/{INDIE}"),
        "/api/v1/seats/layouts".to_string(),
    ] {
        let response = app.get(&path).send().await.expect("GET");
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            header(&response, "cache-control").as_deref(),
            Some(CACHE_CONTROL),
            "{path}"
        );
        let tag = header(&response, "etag").expect("an ETag");
        let again = app
            .get(&path)
            .header("if-none-match", tag)
            .send()
            .await
            .expect("GET");
        assert_eq!(again.status(), 304, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_clock_is_served_by_catalog_and_never_cached() {
    let app = spawn_app_with(AppOptions::application()).await;
    for path in ["/api/time", "/api/v1/time"] {
        let response = app.get(path).send().await.expect("GET");
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            response
                .headers()
                .get("cache-control")
                .and_then(|v| v.to_str().ok()),
            Some("no-store")
        );
        assert!(response.headers().get("etag").is_none());
        let body: Value = response.json().await.expect("json");
        let time = body["time"].as_str().unwrap_or_default();
        assert!(time.len() == 24 && time.ends_with('Z'), "{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalog_role_reads_the_catalog_and_writes_nothing() {
    let app = seeded_app().await;
    let mut catalog = PgConnection::connect(&app.database.url_as("urr_catalog"))
        .await
        .expect("connecting as urr_catalog");
    assert_eq!(count(&mut catalog, "SELECT count(*) FROM events").await, 6);
    for sql in [
        "UPDATE events SET title = 'x'",
        "DELETE FROM ticket_types",
        "INSERT INTO seat_layouts (name, layout_config) VALUES ('x', '{}')",
        "SELECT count(*) FROM seats",
        "SELECT count(*) FROM admin_audit_log",
        "SELECT generate_event_seats(gen_random_uuid())",
    ] {
        assert_permission_denied(&mut catalog, sql).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_down_is_a_503_with_retry_after() {
    // Nothing listens on port 1: every connection attempt is refused.
    let app = spawn_app_with(
        AppOptions::application()
            .variable("pg_host", "127.0.0.1:1")
            .variable(
                "pg_address_catalog",
                "postgres://urr_catalog@127.0.0.1:1/urr",
            ),
    )
    .await;
    for path in ["/api/v1/events", "/api/v1/seats/layouts"] {
        let response = app.get(path).send().await.expect("GET");
        assert_eq!(response.status(), 503, "{path}");
        assert!(response.headers().get("retry-after").is_some(), "{path}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["code"], "postgres_unavailable", "{body}");
    }
    // The clock needs no store.
    assert_eq!(app.get_json("/api/time").await.0, 200);
}
