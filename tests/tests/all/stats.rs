//! The `stats` component: the 14 `GET /stats/*` figures of URR's `/admin/statistics` page through
//! the real host. Who may call them (anonymous 401, user 403), the query rules (400 codes,
//! defaults, clamps), and every figure checked against numbers the test computes itself from
//! the rows it made: buyers with known purchase histories, a refund delivered, a cancellation,
//! a live and an expired hold, an active waiting-room user.

use reqwest::Method;
use serde_json::{Value, json};
use sqlx::PgConnection;

use crate::admin::{Admin, admin_app, call, count};
use crate::admin_booking::{reserve_seat_for, seated_event};

/// Every figure's path, as the web calls them (realtime and the two it never calls included).
const FIGURES: [&str; 14] = [
    "/stats/overview",
    "/stats/daily?days=30",
    "/stats/events?limit=20&sortBy=revenue",
    "/stats/events/0b5e7c1e-3f7a-4b8e-9a4e-1c2d3e4f5a6b",
    "/stats/payments",
    "/stats/revenue?period=daily&days=30",
    "/stats/users?days=30",
    "/stats/hourly-traffic?days=7",
    "/stats/conversion?days=30",
    "/stats/cancellations?days=30",
    "/stats/realtime",
    "/stats/performance",
    "/stats/seat-preferences",
    "/stats/user-behavior?days=30",
];

async fn insert_user(db: &mut PgConnection, name: &str) -> uuid::Uuid {
    sqlx::query_scalar(
        "INSERT INTO users (email, password_hash, name) \
         VALUES ($1 || '@example.com', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', $1) \
         RETURNING id",
    )
    .bind(name)
    .fetch_one(db)
    .await
    .expect("inserting a user")
}

async fn seat_price(db: &mut PgConnection, seat: &str) -> i64 {
    count(
        db,
        &format!("SELECT price::int8 FROM seats WHERE id = '{seat}'"),
    )
    .await
}

/// `data` of a figure that must answer 200 in URR's wrapper.
async fn figure(t: &Admin, path: &str) -> Value {
    let reply = t.admin(Method::GET, path, None).await;
    assert_eq!(reply.status, 200, "{path}: {}", reply.body);
    assert_eq!(reply.cache_control, "no-store", "{path}");
    assert_eq!(reply.body["success"], true, "{path}");
    reply.body["data"].clone()
}

fn sum(items: &Value, field: &str) -> i64 {
    items
        .as_array()
        .map(|a| a.iter().filter_map(|i| i[field].as_i64()).sum())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_admins_read_statistics() {
    let t = admin_app().await;
    for path in FIGURES {
        let anon = call(&t.app, Method::GET, path, None, None).await;
        assert_eq!(
            (anon.status, anon.body["code"].as_str()),
            (401, Some("unauthenticated")),
            "{path}"
        );
        let user = call(&t.app, Method::GET, path, Some(&t.user_token), None).await;
        assert_eq!(
            (user.status, user.body["code"].as_str()),
            (403, Some("admin_required")),
            "{path}"
        );
    }
    // Also under `/api/...`, and a write is a 405.
    let reply = t
        .app
        .client
        .get(format!("{}/api/stats/overview", t.app.url))
        .bearer_auth(&t.admin_token)
        .send()
        .await
        .expect("GET /api/stats/overview");
    assert_eq!(reply.status().as_u16(), 200);
    let post = t.admin(Method::POST, "/stats/overview", None).await;
    assert_eq!(post.status, 405);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_query_values_are_400s_with_their_codes_and_bounds_clamp() {
    let t = admin_app().await;
    let cases = [
        ("/stats/daily?days=abc", "invalid_days"),
        ("/stats/daily?days=1.5", "invalid_days"),
        ("/stats/users?days=x", "invalid_days"),
        ("/stats/hourly-traffic?days=7d", "invalid_days"),
        ("/stats/conversion?days=%20-", "invalid_days"),
        ("/stats/cancellations?days=ten", "invalid_days"),
        ("/stats/user-behavior?days=NaN", "invalid_days"),
        ("/stats/revenue?days=1e3", "invalid_days"),
        ("/stats/revenue?period=hourly", "invalid_period"),
        ("/stats/events?limit=all", "invalid_limit"),
        ("/stats/events?sortBy=title", "invalid_sort"),
        ("/stats/events/not-a-uuid", "invalid_id"),
        ("/stats/seat-preferences?eventId=42", "invalid_id"),
    ];
    for (path, code) in cases {
        let reply = t.admin(Method::GET, path, None).await;
        assert_eq!(
            (reply.status, reply.body["code"].as_str()),
            (400, Some(code)),
            "{path}: {}",
            reply.body
        );
    }
    let missing = t
        .admin(
            Method::GET,
            &format!("/stats/events/{}", uuid::Uuid::new_v4()),
            None,
        )
        .await;
    assert_eq!(
        (missing.status, missing.body["code"].as_str()),
        (404, Some("event_not_found"))
    );
    // Missing or <= 0: the default (30 days, 7 for hourly); above the bound: clamped.
    for (path, days) in [
        ("/stats/daily", 30),
        ("/stats/daily?days=0", 30),
        ("/stats/daily?days=-3", 30),
        ("/stats/daily?days=2", 2),
        ("/stats/daily?days=5000", 365),
        ("/stats/users?days=5000", 365),
    ] {
        let data = figure(&t, path).await;
        let rows = data.as_array().or_else(|| data["daily"].as_array());
        assert_eq!(rows.map(Vec::len), Some(days), "{path}");
    }
    let events = figure(&t, "/stats/events?limit=0").await;
    assert_eq!(events.as_array().map(Vec::len), Some(1), "limit 0 → 1");
    let seeded = count(&mut t.db().await, "SELECT count(*) FROM events").await;
    let events = figure(&t, "/stats/events?limit=1000").await;
    assert_eq!(
        events.as_array().map(Vec::len),
        Some(usize::try_from(seeded.min(100)).unwrap_or_default())
    );
    // Dates are plain KST days, newest first.
    let daily = figure(&t, "/stats/daily?days=3").await;
    let dates: Vec<&str> = daily
        .as_array()
        .map(|d| d.iter().filter_map(|r| r["date"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(dates.len(), 3);
    assert!(
        dates
            .iter()
            .all(|d| d.len() == 10 && d.as_bytes()[4] == b'-')
    );
    assert!(dates[0] > dates[1] && dates[1] > dates[2], "{dates:?}");
    let hourly = figure(&t, "/stats/hourly-traffic?days=365").await;
    assert_eq!(hourly["hourly"].as_array().map(Vec::len), Some(24));
}

/// The figures against a history whose every number the test knows:
/// - `loyal` buys 3 seats (3 purchases ever: loyal);
/// - `fresh` buys 1 seat and a second one that an operator refunds (delivered): 1 purchase, new;
/// - `browser` holds 1 seat live, 1 expired, and 1 an operator cancelled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_figure_matches_the_rows_it_was_computed_from() {
    let t = admin_app().await;
    let mut db = t.db().await;
    let loyal = insert_user(&mut db, "loyal").await;
    let fresh = insert_user(&mut db, "fresh").await;
    let browser = insert_user(&mut db, "browser").await;
    let (event, seats) = seated_event(&t, &mut db, 8).await;
    let mut prices = Vec::new();
    for seat in &seats {
        prices.push(seat_price(&mut db, seat).await);
    }
    let mut reserve = async |user, seat: usize, status, expired| {
        reserve_seat_for(&mut db, user, &event, &seats[seat], status, expired).await
    };
    for seat in 0..3 {
        reserve(loyal, seat, "confirmed", false).await;
    }
    reserve(fresh, 3, "confirmed", false).await;
    let refunded = reserve(fresh, 4, "confirmed", false).await;
    reserve(browser, 5, "pending", false).await;
    reserve(browser, 6, "pending", true).await;
    let cancelled = reserve(browser, 7, "pending", false).await;
    for (id, status) in [(&refunded, "refunded"), (&cancelled, "cancelled")] {
        let reply = t
            .admin(
                Method::PATCH,
                &format!("/admin/reservations/{id}/status"),
                Some(&json!({"status": status})),
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    // The provider confirms the refund (what the payments component records on delivery).
    sqlx::query("SELECT * FROM payment_refund_delivered((SELECT id FROM payment_outbox))")
        .execute(&mut db)
        .await
        .expect("delivering the refund");
    urr_tests::admit_to_event(&t.app, &browser.to_string(), &event).await;

    // Known from the construction above.
    let loyal_spend: i64 = prices[0..3].iter().sum();
    let kept = loyal_spend + prices[3];
    let captured = kept + prices[4];
    let refund = prices[4];
    let users = count(&mut db, "SELECT count(*) FROM users").await;
    let events_on_sale = count(
        &mut db,
        "SELECT count(*) FROM events WHERE NOT cancelled \
         AND sale_start_date <= now() AND sale_end_date > now()",
    )
    .await;

    let o = figure(&t, "/stats/overview").await;
    assert_eq!(o["total_users"], users, "{o}");
    assert_eq!(o["active_events"], events_on_sale);
    assert_eq!(o["total_reservations"], 8);
    assert_eq!(o["confirmed_reservations"], 4);
    assert_eq!(o["completed_payments"], 4);
    assert_eq!(o["payment_revenue"], captured);
    assert_eq!(o["total_revenue"], captured - refund);

    let daily = figure(&t, "/stats/daily?days=1").await;
    let today = &daily[0];
    assert_eq!(today["reservations"], 8, "{daily}");
    assert_eq!(
        today["confirmed"], 5,
        "the refunded one was confirmed today too"
    );
    assert_eq!(today["cancelled"], 2);
    assert_eq!(today["revenue"], captured);

    let ranked = figure(&t, "/stats/events?limit=100&sortBy=revenue").await;
    let mine = &ranked[0];
    assert_eq!(mine["event_id"], event.as_str(), "the only earner first");
    assert_eq!(mine["id"], event.as_str());
    assert_eq!(mine["title"], "Admin Test Concert");
    for (a, b, value) in [
        ("reservations", "total_reservations", json!(8)),
        ("revenue", "total_revenue", json!(captured - refund)),
    ] {
        assert_eq!((&mine[a], &mine[b]), (&value, &value), "{mine}");
    }
    assert_eq!(mine["confirmed_reservations"], 4);
    assert_eq!(mine["total_seats"], 265);
    assert_eq!(mine["sold_seats"], 4);
    assert_eq!(mine["occupancy_rate"], json!(1.51), "4 / 265");
    assert_eq!(mine["seat_utilization"], json!(1.51));
    let by_count = figure(&t, "/stats/events?limit=1&sortBy=reservations").await;
    assert_eq!(by_count[0]["event_id"], event.as_str());

    let one = figure(&t, &format!("/stats/events/{event}")).await;
    let one = &one["overview"];
    assert_eq!(one["total_reservations"], 8, "{one}");
    assert_eq!(one["pending_reservations"], 1);
    assert_eq!(one["cancelled_reservations"], 3, "2 cancelled + 1 expired");
    assert_eq!(one["available_seats"], 265 - 4 - 1, "sold and held seats");

    let payments = figure(&t, "/stats/payments").await;
    let card = payments
        .as_array()
        .and_then(|p| p.iter().find(|m| m["method"] == "card"))
        .expect("card");
    assert_eq!(card["count"], 4, "{payments}");
    assert_eq!(card["total_amount"], kept);
    assert_eq!(
        card["average_amount"],
        json!((kept as f64 / 4.0).round() as i64)
    );
    assert_eq!(sum(&payments, "count"), 4, "nothing else confirmed");
    assert!(payments.as_array().is_some_and(|p| p.len() >= 5));

    let revenue = figure(&t, "/stats/revenue?period=daily&days=1").await;
    assert_eq!(revenue[0]["payment_count"], 5, "{revenue}");
    assert_eq!(revenue[0]["total_revenue"], captured - refund);
    for period in ["weekly", "monthly"] {
        let r = figure(&t, &format!("/stats/revenue?period={period}&days=1")).await;
        assert_eq!(r[0]["total_revenue"], captured - refund, "{period}: {r}");
    }

    let u = figure(&t, "/stats/users?days=1").await;
    assert_eq!(sum(&u["byRole"], "count"), users, "{u}");
    assert_eq!(u["daily"][0]["cumulative_users"], users);

    let traffic = figure(&t, "/stats/hourly-traffic").await;
    assert_eq!(
        sum(&traffic["hourly"], "total_reservations"),
        8,
        "{traffic}"
    );
    assert_eq!(sum(&traffic["hourly"], "confirmed"), 4);
    assert_eq!(sum(&traffic["hourly"], "revenue"), kept);
    let busiest = traffic["hourly"].as_array().and_then(|h| {
        h.iter()
            .filter_map(|r| r["total_reservations"].as_i64())
            .max()
    });
    assert_eq!(traffic["peakHour"]["reservations"].as_i64(), busiest);
    assert_eq!(sum(&traffic["weekdayComparison"], "reservations"), 8);

    let c = figure(&t, "/stats/conversion?days=1").await;
    assert_eq!(
        c["funnel"],
        json!({"total_started": 8, "completed": 4, "cancelled": 3, "pending": 1})
    );
    assert_eq!(c["rates"]["conversion_rate"], json!(50.0), "{c}");
    assert_eq!(c["rates"]["cancellation_rate"], json!(37.5));
    assert_eq!(c["rates"]["pending_rate"], json!(12.5));

    let x = figure(&t, "/stats/cancellations?days=1").await;
    assert_eq!(x["overview"]["total_cancelled"], 2, "{x}");
    assert_eq!(x["overview"]["total_refund_amount"], refund);
    assert_eq!(sum(&x["hourlyPattern"], "cancellations"), 2);
    let by_event = &x["byEvent"][0];
    assert_eq!(by_event["event_id"], event.as_str());
    assert_eq!(by_event["cancelled_count"], 2);
    assert_eq!(by_event["total_cancelled"], 2);
    assert_eq!(by_event["refund_amount"], refund);
    assert_eq!(by_event["cancellation_rate"], json!(25.0));

    let now = figure(&t, "/stats/realtime").await;
    assert_eq!(now["current"]["locked_seats"], 1, "{now}");
    assert_eq!(now["current"]["active_payments"], 0);
    assert_eq!(now["current"]["active_users"], 1, "the admitted browser");
    assert_eq!(now["lastHour"]["reservations"], 8);
    assert_eq!(now["lastHour"]["revenue"], captured);
    let trending = &now["trendingEvents"][0];
    assert_eq!(trending["event_id"], event.as_str());
    assert_eq!(trending["reservations"], 8);

    let perf = figure(&t, "/stats/performance").await;
    let counts = &perf["database"]["tableCounts"];
    assert_eq!(counts["reservations"], 8, "{perf}");
    assert_eq!(counts["payments"], 5);
    assert_eq!(counts["users"], users);
    assert!(
        perf["database"]["size"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    assert_eq!(perf["recentPerformance"]["totalRequests"], 8);
    assert_eq!(perf["recentPerformance"]["successRate"], json!(50.0));
    assert_eq!(sum(&perf["loadPattern"], "request_count"), 8);

    let seats_pref = figure(&t, &format!("/stats/seat-preferences?eventId={event}")).await;
    assert_eq!(
        sum(&seats_pref["bySection"], "total_seats"),
        265,
        "{seats_pref}"
    );
    assert_eq!(sum(&seats_pref["bySection"], "reserved_seats"), 4);
    assert_eq!(sum(&seats_pref["byPriceTier"], "reserved_seats"), 4);
    assert!(seats_pref["byPriceTier"][0]["tier"].is_string());

    let b = figure(&t, "/stats/user-behavior?days=1").await;
    let types: Vec<(String, i64, i64)> = b["userTypes"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|t| {
                    (
                        t["user_type"].as_str().unwrap_or_default().to_string(),
                        t["user_count"].as_i64().unwrap_or(-1),
                        t["total_reservations"].as_i64().unwrap_or(-1),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        types,
        [
            ("new".to_string(), 1, 1),
            ("returning".to_string(), 0, 0),
            ("loyal".to_string(), 1, 3)
        ],
        "{b}"
    );
    let m = &b["averageMetrics"];
    assert_eq!(m["avg_reservations"], json!(2.0), "{m}");
    assert_eq!(m["max_reservations"], 3);
    assert_eq!(
        m["avg_spending"],
        json!(((loyal_spend + prices[3]) as f64 / 2.0).round() as i64)
    );
    assert_eq!(sum(&b["spendingDistribution"], "user_count"), 2);
    assert!(b["spendingDistribution"][0]["range"].is_string());
    assert_eq!(sum(&b["weekdayActivity"], "reservations"), 4);
}

/// The demo sales history `urr-edge seed` loads (so a fresh local stack's dashboard and
/// statistics show numbers): inserted once, consistent with the rows a real sale leaves — the
/// ledger balances with nothing owed, sold seats are `reserved` by confirmed reservations only,
/// standing stock is what confirmed reservations left, the business counters counted every
/// move — and every chart of `/admin/statistics` has data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_history_is_consistent_and_fills_every_chart() {
    let t = admin_app().await;
    let inserted = urr_edge::seed::seed_history(&t.app.database.url)
        .await
        .expect("the demo history");
    let again = urr_edge::seed::seed_history(&t.app.database.url)
        .await
        .expect("the demo history, again");
    println!("demo history: {inserted} reservations, then {again}");
    assert!(inserted >= 100, "a history worth charting: {inserted}");
    assert_eq!(again, 0, "a second seed inserts nothing");

    let mut db = <PgConnection as sqlx::Connection>::connect(&t.app.database.url)
        .await
        .expect("the test database");
    let unbalanced = count(
        &mut db,
        "SELECT count(*) FROM payment_ledger WHERE NOT balanced OR refund_owed <> 0",
    )
    .await;
    assert_eq!(unbalanced, 0, "every event's ledger balances, nothing owed");
    let misplaced_seats = count(
        &mut db,
        "SELECT count(*) FROM seats AS s \
           LEFT JOIN reservations AS r ON r.id = s.reservation_id \
          WHERE (s.status = 'reserved') <> (r.status IS NOT DISTINCT FROM 'confirmed') \
             OR (s.status = 'available' AND s.reservation_id IS NOT NULL)",
    )
    .await;
    assert_eq!(
        misplaced_seats, 0,
        "sold seats belong to confirmed reservations"
    );
    let wrong_stock = count(
        &mut db,
        "SELECT count(*) FROM ticket_types AS t \
          WHERE t.available_quantity <> t.total_quantity - coalesce(( \
                SELECT sum(i.quantity) FROM reservation_items AS i \
                  JOIN reservations AS r ON r.id = i.reservation_id \
                 WHERE i.ticket_type_id = t.id AND r.status = 'confirmed'), 0)",
    )
    .await;
    assert_eq!(wrong_stock, 0, "standing stock is what the sales left");
    let confirmed = count(
        &mut db,
        "SELECT count(*) FROM reservations WHERE status = 'confirmed'",
    )
    .await;
    let refunded = count(
        &mut db,
        "SELECT count(*) FROM payments WHERE status = 'refunded'",
    )
    .await;
    assert!(
        confirmed > 0 && refunded > 0,
        "{confirmed} sold, {refunded} refunded"
    );
    let counters = t.app.business_counters().await;
    assert_eq!(counters["reservations_created"], inserted as i64);
    assert_eq!(
        counters["payments_confirmed"],
        confirmed + refunded,
        "every capture counted once: {counters:?}"
    );
    assert_eq!(counters["refunds_delivered"], refunded, "{counters:?}");

    let overview = figure(&t, "/stats/overview").await;
    assert_eq!(overview["confirmed_reservations"], confirmed, "{overview}");
    for (path, series) in [
        ("/stats/daily?days=30", None),
        ("/stats/revenue?period=daily&days=30", None),
        ("/stats/cancellations?days=30", Some("dailyTrend")),
    ] {
        let data = figure(&t, path).await;
        let points = series
            .map_or(&data, |name| &data[name])
            .as_array()
            .map(Vec::len)
            .unwrap_or_default();
        assert!(points > 0, "{path}: no points in {data}");
    }
    let events = figure(&t, "/stats/events?limit=20&sortBy=revenue").await;
    assert!(sum(&events, "revenue") > 0, "{events}");
    let methods = figure(&t, "/stats/payments").await;
    assert_eq!(sum(&methods, "count"), confirmed, "{methods}");
}
