//! The `admin` component: who may call it (every route: anonymous 401, user 403, admin through),
//! creating an event with a layout, generating its seats and reading the audit rows, the audit
//! row's atomicity with the change, the bad-input matrix, and the role's grants. Booking-side
//! rules (seat deletion, event cancel, ticket totals, reservation status) are in `admin_booking`.

use reqwest::Method;
use serde_json::{Value, json};
use sqlx::{Connection as _, PgConnection};
use urr_edge::seed::seed;
pub use urr_tests::count;
use urr_tests::{AppOptions, TestApp, assert_permission_denied, mint_access_token, spawn_app_with};

/// Seeded demo events (host/src/seed.rs).
pub const MUSICAL: &str = "5e3d0a4c-1b7e-4c2a-9f00-000000000001";
pub const INDIE: &str = "5e3d0a4c-1b7e-4c2a-9f00-000000000004";

/// A seeded application and an admin's and a user's tokens.
pub struct Admin {
    pub app: TestApp,
    pub admin_id: String,
    pub admin_token: String,
    pub user_token: String,
}

pub async fn admin_app() -> Admin {
    let app = spawn_app_with(AppOptions::application()).await;
    seed(&app.database.url).await.expect("seeding");
    let admin_id = uuid::Uuid::new_v4().to_string();
    let admin_token = mint_access_token(
        &admin_id,
        "admin@example.com",
        true,
        &uuid::Uuid::new_v4().to_string(),
    );
    let user_token = mint_access_token(
        &uuid::Uuid::new_v4().to_string(),
        "user@example.com",
        false,
        &uuid::Uuid::new_v4().to_string(),
    );
    Admin {
        app,
        admin_id,
        admin_token,
        user_token,
    }
}

pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub cache_control: String,
}

/// One request to `/api/v1<path>` (a bearer token when given, a JSON body when given).
pub async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Reply {
    let mut request = app
        .client
        .request(method.clone(), format!("{}/api/v1{path}", app.url));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let status = response.status().as_u16();
    let cache_control = response
        .headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = response.json().await.unwrap_or(Value::Null);
    Reply {
        status,
        body,
        cache_control,
    }
}

impl Admin {
    pub async fn admin(&self, method: Method, path: &str, body: Option<&Value>) -> Reply {
        call(&self.app, method, path, Some(&self.admin_token), body).await
    }

    pub async fn db(&self) -> PgConnection {
        PgConnection::connect(&self.app.database.url)
            .await
            .expect("connecting to the test database")
    }

    pub async fn layout_id(&self, name: &str) -> String {
        let reply = self.admin(Method::GET, "/admin/seat-layouts", None).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.body["layouts"]
            .as_array()
            .and_then(|l| l.iter().find(|l| l["name"] == name))
            .and_then(|l| l["id"].as_str())
            .unwrap_or_else(|| panic!("layout {name} in {}", reply.body))
            .to_string()
    }

    /// Creates an event through the API (layout by id, or standing with `ticket_types`).
    pub async fn create_event(&self, layout_id: Option<&str>, ticket_types: Value) -> String {
        let reply = self
            .admin(
                Method::POST,
                "/admin/events",
                Some(&event_body(layout_id, ticket_types)),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.body["event"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no event id in {}", reply.body))
            .to_string()
    }
}

/// A valid event body: on sale now (started a day ago), event in 30 days.
pub fn event_body(layout_id: Option<&str>, ticket_types: Value) -> Value {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let iso = |secs: i64| urr_api_time(secs);
    json!({
        "title": "Admin Test Concert",
        "description": "Created by a test",
        "venue": "Test Hall",
        "address": "Seoul",
        "artistName": "Tester",
        "eventDate": iso(now + 30 * 86_400),
        "saleStartDate": iso(now - 86_400),
        "saleEndDate": iso(now + 29 * 86_400),
        "seatLayoutId": layout_id,
        "ticketTypes": ticket_types,
    })
}

/// `YYYY-MM-DDTHH:MM:SSZ` for Unix seconds (civil-from-days).
fn urr_api_time(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        sod / 3600,
        (sod % 3600) / 60,
        sod % 60
    )
}

/// Every admin route of the contract (plus the audit log), with a body where it takes one. Ids
/// that do not exist keep the destructive routes harmless: an admin then gets a 404.
fn every_route() -> Vec<(Method, String, Option<Value>)> {
    let missing = uuid::Uuid::new_v4();
    vec![
        (Method::GET, "/admin/dashboard".into(), None),
        (Method::GET, "/admin/seat-layouts".into(), None),
        (
            Method::POST,
            "/admin/events".into(),
            Some(event_body(None, json!([]))),
        ),
        (
            Method::PUT,
            format!("/admin/events/{MUSICAL}"),
            Some(json!({"description": "Edited"})),
        ),
        (
            Method::POST,
            format!("/admin/events/{missing}/cancel"),
            None,
        ),
        (Method::DELETE, format!("/admin/events/{missing}"), None),
        (
            Method::POST,
            format!("/admin/events/{MUSICAL}/generate-seats"),
            None,
        ),
        (
            Method::DELETE,
            format!("/admin/events/{missing}/seats"),
            None,
        ),
        (
            Method::POST,
            format!("/admin/events/{INDIE}/tickets"),
            Some(json!({"name": "Late", "price": 1000, "totalQuantity": 5})),
        ),
        (
            Method::PUT,
            format!("/admin/tickets/{missing}"),
            Some(json!({"price": 1})),
        ),
        (
            Method::GET,
            "/admin/reservations?page=1&limit=10&status=pending".into(),
            None,
        ),
        (
            Method::PATCH,
            format!("/admin/reservations/{missing}/status"),
            Some(json!({"status": "cancelled"})),
        ),
        (Method::GET, "/admin/audit-log".into(), None),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_admin_route_is_401_anonymous_403_for_users_and_open_to_admins() {
    let t = admin_app().await;
    let mut checked = 0;
    for (method, path, body) in every_route() {
        let anonymous = call(&t.app, method.clone(), &path, None, body.as_ref()).await;
        assert_eq!(
            anonymous.status, 401,
            "anonymous {method} {path}: {}",
            anonymous.body
        );
        let user = call(
            &t.app,
            method.clone(),
            &path,
            Some(&t.user_token),
            body.as_ref(),
        )
        .await;
        assert_eq!(user.status, 403, "user {method} {path}: {}", user.body);
        assert_eq!(user.body["code"], "admin_required", "{}", user.body);
        let admin = t.admin(method.clone(), &path, body.as_ref()).await;
        assert!(
            (200..500).contains(&admin.status) && admin.status != 401 && admin.status != 403,
            "admin {method} {path}: {} {}",
            admin.status,
            admin.body
        );
        for reply in [&anonymous, &user, &admin] {
            assert_eq!(reply.cache_control, "no-store", "{method} {path}");
        }
        checked += 1;
    }
    eprintln!("admin authorization: {checked} routes x 3 callers");
    assert_eq!(checked, 13);
    // The same routes under /api (no version), and a bad token is a 401 like none at all.
    let unversioned = t
        .app
        .client
        .get(format!("{}/api/admin/dashboard", t.app.url))
        .bearer_auth(&t.admin_token)
        .send()
        .await
        .expect("GET");
    assert_eq!(unversioned.status(), 200);
    let forged = call(
        &t.app,
        Method::GET,
        "/admin/dashboard",
        Some("not.a.token"),
        None,
    )
    .await;
    assert_eq!(forged.status, 401);
    // Unknown paths and wrong methods, for an admin.
    assert_eq!(
        t.admin(Method::GET, "/admin/nothing", None).await.status,
        404
    );
    assert_eq!(
        t.admin(Method::GET, "/admin/events", None).await.status,
        405
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_session_cannot_change_anything() {
    let t = admin_app().await;
    let family = uuid::Uuid::new_v4().to_string();
    let token = mint_access_token(&t.admin_id, "admin@example.com", true, &family);
    let client = redis::Client::open(urr_tests::redis_url()).expect("redis url");
    let mut redis = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    let key = urr_tokens::deny_family_key(&t.app.key_prefix, &t.admin_id, &family);
    let _: () = redis::AsyncCommands::set_ex(&mut redis, &key, 1, 600)
        .await
        .expect("deny-listing the family");
    let body = event_body(None, json!([]));
    let reply = call(
        &t.app,
        Method::POST,
        "/admin/events",
        Some(&token),
        Some(&body),
    )
    .await;
    assert_eq!(reply.status, 401, "{}", reply.body);
    assert_eq!(reply.body["code"], "session_revoked");
    let mut db = t.db().await;
    assert_eq!(
        count(&mut db, "SELECT count(*) FROM admin_audit_log").await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_creates_an_event_with_a_layout_generates_its_seats_and_sees_the_audit_rows() {
    let t = admin_app().await;
    let layout = t.layout_id("small_theater").await;
    let body = event_body(
        Some(&layout),
        json!([{"name": "Wheelchair", "price": 50000, "totalQuantity": 4, "description": "Row A"}]),
    );
    let created = t.admin(Method::POST, "/admin/events", Some(&body)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["message"], "Event created");
    let event = &created.body["event"];
    let event_id = event["id"].as_str().expect("id").to_string();
    assert_eq!(event["title"], "Admin Test Concert");
    assert_eq!(event["seat_layout_id"], layout.as_str());
    assert_eq!(event["seatLayoutId"], layout.as_str());
    assert_eq!(event["status"], "on_sale");
    assert_eq!(created.body["ticketTypes"][0]["available_quantity"], 4);

    let generated = t
        .admin(
            Method::POST,
            &format!("/admin/events/{event_id}/generate-seats"),
            None,
        )
        .await;
    assert_eq!(generated.status, 200, "{}", generated.body);
    assert_eq!(generated.body["seatsCreated"], 265);
    assert_eq!(generated.body["totalSeats"], 265);

    // The public catalog shows it.
    let (status, public) = t.app.get_json(&format!("/api/v1/events/{event_id}")).await;
    assert_eq!(status, 200, "{public}");
    assert_eq!(public["event"]["title"], "Admin Test Concert");

    // The audit rows, newest first, through the API and in the table.
    let audit = t
        .admin(
            Method::GET,
            &format!("/admin/audit-log?resourceType=event&resourceId={event_id}"),
            None,
        )
        .await;
    assert_eq!(audit.status, 200, "{}", audit.body);
    let rows = audit.body["auditLog"].as_array().expect("rows");
    let actions: Vec<&str> = rows.iter().filter_map(|r| r["action"].as_str()).collect();
    assert_eq!(
        actions,
        ["event.generate_seats", "event.create"],
        "{}",
        audit.body
    );
    for row in rows {
        assert_eq!(row["admin_id"], t.admin_id.as_str());
        assert_eq!(row["client_ip"], "127.0.0.1");
        assert_eq!(row["resource_id"], event_id.as_str());
    }
    assert_eq!(rows[0]["resulting_status"], "seats_generated");
    assert_eq!(rows[0]["request_summary"]["seatsCreated"], 265);
    assert_eq!(rows[1]["resulting_status"], "created");
    assert_eq!(
        rows[1]["request_summary"]["ticketTypes"][0]["name"],
        "Wheelchair"
    );
    assert_eq!(audit.body["pagination"]["total"], 2);

    let mut db = t.db().await;
    let seats = count(
        &mut db,
        &format!("SELECT count(*) FROM seats WHERE event_id = '{event_id}'"),
    )
    .await;
    assert_eq!(seats, 265);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_seats_follow_each_seeded_layout_and_generation_is_idempotent() {
    let t = admin_app().await;
    for (layout, seats) in [
        ("small_theater", 265),
        ("large_theater", 1_250),
        ("sports_stadium", 4_900),
    ] {
        let layout_id = t.layout_id(layout).await;
        let event_id = t.create_event(Some(&layout_id), json!([])).await;
        let path = format!("/admin/events/{event_id}/generate-seats");
        let first = t.admin(Method::POST, &path, None).await;
        assert_eq!(first.status, 200, "{}", first.body);
        assert_eq!(first.body["seatsCreated"], seats, "{layout}");
        let again = t.admin(Method::POST, &path, None).await;
        assert_eq!(again.body["seatsCreated"], 0, "{layout}: {}", again.body);
        assert_eq!(again.body["totalSeats"], seats, "{layout}");
        eprintln!("{layout}: {seats} seats");
    }
    // A standing event has no layout to generate from.
    let standing = t
        .create_event(
            None,
            json!([{"name": "GA", "price": 1000, "totalQuantity": 10}]),
        )
        .await;
    let reply = t
        .admin(
            Method::POST,
            &format!("/admin/events/{standing}/generate-seats"),
            None,
        )
        .await;
    assert_eq!(
        (reply.status, reply.body["code"].as_str()),
        (409, Some("no_layout"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_audit_write_rolls_the_change_back() {
    let t = admin_app().await;
    let layout = t.layout_id("small_theater").await;
    let seated = t.create_event(Some(&layout), json!([])).await;
    let standing = t
        .create_event(
            None,
            json!([{"name": "GA", "price": 1000, "totalQuantity": 10}]),
        )
        .await;
    let mut db = t.db().await;
    let ticket_id: String =
        sqlx::query_scalar("SELECT id::text FROM ticket_types WHERE event_id = $1::uuid")
            .bind(&standing)
            .fetch_one(&mut db)
            .await
            .expect("ticket type");
    // From here on, every audit row is refused.
    sqlx::query(
        "ALTER TABLE admin_audit_log ADD CONSTRAINT admin_audit_log_test_refuses_all \
         CHECK (false) NOT VALID",
    )
    .execute(&mut db)
    .await
    .expect("adding the refusing constraint");
    let events_before = count(&mut db, "SELECT count(*) FROM events").await;
    let audit_before = count(&mut db, "SELECT count(*) FROM admin_audit_log").await;

    let attempts = [
        (
            Method::POST,
            "/admin/events".to_string(),
            Some(event_body(Some(&layout), json!([]))),
        ),
        (
            Method::POST,
            format!("/admin/events/{seated}/generate-seats"),
            None,
        ),
        (
            Method::PUT,
            format!("/admin/events/{seated}"),
            Some(json!({"title": "Changed"})),
        ),
        (
            Method::PUT,
            format!("/admin/tickets/{ticket_id}"),
            Some(json!({"totalQuantity": 50})),
        ),
        (
            Method::POST,
            format!("/admin/events/{standing}/tickets"),
            Some(json!({"name": "VIP", "price": 1, "totalQuantity": 1})),
        ),
        (Method::POST, format!("/admin/events/{seated}/cancel"), None),
        (Method::DELETE, format!("/admin/events/{standing}"), None),
    ];
    for (method, path, body) in attempts {
        let reply = t.admin(method.clone(), &path, body.as_ref()).await;
        assert_eq!(reply.status, 500, "{method} {path}: {}", reply.body);
        assert_eq!(reply.body["code"], "internal_error");
    }
    assert_eq!(
        count(&mut db, "SELECT count(*) FROM events").await,
        events_before
    );
    assert_eq!(
        count(&mut db, "SELECT count(*) FROM admin_audit_log").await,
        audit_before
    );
    let seats = count(
        &mut db,
        &format!("SELECT count(*) FROM seats WHERE event_id = '{seated}'"),
    )
    .await;
    assert_eq!(seats, 0, "seat generation must have been rolled back");
    let (title, cancelled): (String, bool) =
        sqlx::query_as("SELECT title, cancelled FROM events WHERE id = $1::uuid")
            .bind(&seated)
            .fetch_one(&mut db)
            .await
            .expect("event");
    assert_eq!((title.as_str(), cancelled), ("Admin Test Concert", false));
    let (total, types): (i32, i64) = sqlx::query_as(
        "SELECT max(total_quantity), count(*) FROM ticket_types WHERE event_id = $1::uuid",
    )
    .bind(&standing)
    .fetch_one(&mut db)
    .await
    .expect("ticket types");
    assert_eq!((total, types), (10, 1));

    // With the audit log writable again, the same change goes through.
    sqlx::query("ALTER TABLE admin_audit_log DROP CONSTRAINT admin_audit_log_test_refuses_all")
        .execute(&mut db)
        .await
        .expect("dropping the constraint");
    let reply = t
        .admin(
            Method::POST,
            &format!("/admin/events/{seated}/generate-seats"),
            None,
        )
        .await;
    assert_eq!(reply.body["seatsCreated"], 265, "{}", reply.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_a_400_with_a_code_and_changes_nothing() {
    let t = admin_app().await;
    let mut db = t.db().await;
    let events_before = count(&mut db, "SELECT count(*) FROM events").await;
    let with = |overrides: Value| {
        let mut body = event_body(
            None,
            json!([{"name": "GA", "price": 1000, "totalQuantity": 10}]),
        );
        if let (Some(map), Value::Object(extra)) = (body.as_object_mut(), overrides) {
            map.extend(extra);
        }
        body
    };
    let unknown = uuid::Uuid::new_v4().to_string();
    let cases: Vec<(Method, String, Option<Value>, &str)> = vec![
        (
            Method::POST,
            "/admin/events".into(),
            Some(with(
                json!({"saleEndDate": "2000-01-02T00:00:00Z", "saleStartDate": "2000-01-03T00:00:00Z"}),
            )),
            "invalid_sale_window",
        ),
        (
            Method::POST,
            "/admin/events".into(),
            Some(with(
                json!({"ticketTypes": [{"name": "A", "price": -1, "totalQuantity": 1}]}),
            )),
            "invalid_price",
        ),
        (
            Method::POST,
            "/admin/events".into(),
            Some(with(json!({"seatLayoutId": unknown}))),
            "unknown_layout",
        ),
        (
            Method::POST,
            "/admin/events".into(),
            Some(with(json!({"seatLayoutId": "small_theater"}))),
            "invalid_layout_id",
        ),
        (
            Method::POST,
            "/admin/events".into(),
            Some(with(json!({"title": "x".repeat(201)}))),
            "text_too_long",
        ),
        (
            Method::POST,
            "/admin/events".into(),
            Some(with(json!({"venue": "v".repeat(10_000)}))),
            "text_too_long",
        ),
        (
            Method::POST,
            "/admin/events".into(),
            Some(with(json!({"eventDate": "soon"}))),
            "invalid_date",
        ),
        (
            Method::POST,
            "/admin/events".into(),
            Some(with(json!({"posterImageUrl": "javascript:alert(1)"}))),
            "invalid_url",
        ),
        (
            Method::POST,
            "/admin/events".into(),
            Some(json!([1, 2])),
            "invalid_body",
        ),
        (Method::POST, "/admin/events".into(), None, "missing_field"),
        (
            Method::PUT,
            "/admin/events/not-a-uuid".into(),
            Some(json!({"title": "x"})),
            "invalid_id",
        ),
        (
            Method::PUT,
            format!("/admin/events/{MUSICAL}"),
            Some(json!({})),
            "empty_update",
        ),
        (
            Method::PUT,
            format!("/admin/events/{MUSICAL}"),
            Some(json!({"saleEndDate": "2000-01-01T00:00:00Z"})),
            "invalid_sale_window",
        ),
        (
            Method::PUT,
            format!("/admin/events/{MUSICAL}"),
            Some(json!({"seatLayoutId": unknown})),
            "unknown_layout",
        ),
        (
            Method::POST,
            "/admin/events/1/cancel".into(),
            None,
            "invalid_id",
        ),
        (
            Method::DELETE,
            "/admin/events/%27%20OR%201=1/seats".into(),
            None,
            "invalid_id",
        ),
        (
            Method::PUT,
            "/admin/tickets/abc".into(),
            Some(json!({"price": 1})),
            "invalid_id",
        ),
        (
            Method::POST,
            format!("/admin/events/{INDIE}/tickets"),
            Some(json!({"name": "N", "price": 1.5, "totalQuantity": 1})),
            "invalid_price",
        ),
        (
            Method::POST,
            format!("/admin/events/{INDIE}/tickets"),
            Some(json!({"name": "N", "price": 1, "totalQuantity": -3})),
            "invalid_quantity",
        ),
        (
            Method::GET,
            "/admin/reservations?page=0".into(),
            None,
            "invalid_page",
        ),
        (
            Method::GET,
            "/admin/reservations?page=99999999999".into(),
            None,
            "invalid_page",
        ),
        (
            Method::GET,
            "/admin/reservations?limit=100000".into(),
            None,
            "invalid_limit",
        ),
        (
            Method::GET,
            "/admin/reservations?status=paid".into(),
            None,
            "invalid_status",
        ),
        (
            Method::GET,
            "/admin/audit-log?limit=abc".into(),
            None,
            "invalid_limit",
        ),
        (
            Method::PATCH,
            format!("/admin/reservations/{unknown}/status"),
            Some(json!({"status": "gone"})),
            "invalid_status",
        ),
    ];
    let n = cases.len();
    for (method, path, body, code) in cases {
        let reply = t.admin(method.clone(), &path, body.as_ref()).await;
        assert_eq!(reply.status, 400, "{method} {path}: {}", reply.body);
        assert_eq!(reply.body["code"], code, "{method} {path}: {}", reply.body);
        assert!(reply.body["error"].as_str().is_some_and(|e| !e.is_empty()));
    }
    eprintln!("bad input matrix: {n} cases, all 400");
    assert_eq!(
        count(&mut db, "SELECT count(*) FROM events").await,
        events_before
    );
    assert_eq!(
        count(&mut db, "SELECT count(*) FROM admin_audit_log").await,
        0
    );
    // A body over the limit is a 413, not a 500.
    let huge = json!({"title": "x".repeat(70_000)});
    let reply = t.admin(Method::POST, "/admin/events", Some(&huge)).await;
    assert_eq!(reply.status, 413, "{}", reply.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_changes_only_the_named_fields_and_keeps_the_window_valid() {
    let t = admin_app().await;
    let path = format!("/admin/events/{MUSICAL}");
    let reply = t
        .admin(Method::PUT, &path, Some(&json!({"title": "영웅 (재공연)", "posterImageUrl": "https://cdn.example.com/p.jpg"})))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["event"]["title"], "영웅 (재공연)");
    assert_eq!(
        reply.body["event"]["poster_image_url"],
        "https://cdn.example.com/p.jpg"
    );
    assert_eq!(reply.body["event"]["venue"], "블루스퀘어 신한카드홀");
    // The merged window: a new end before the stored start is refused by the SQL.
    let reply = t
        .admin(
            Method::PUT,
            &path,
            Some(&json!({"saleEndDate": "2001-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(
        (reply.status, reply.body["code"].as_str()),
        (400, Some("invalid_sale_window"))
    );
    // The layout of an event with seats cannot change.
    let other = t.layout_id("large_theater").await;
    let reply = t
        .admin(Method::PUT, &path, Some(&json!({"seatLayoutId": other})))
        .await;
    assert_eq!(
        (reply.status, reply.body["code"].as_str()),
        (409, Some("seats_exist"))
    );
    let missing = uuid::Uuid::new_v4();
    let reply = t
        .admin(
            Method::PUT,
            &format!("/admin/events/{missing}"),
            Some(&json!({"title": "x"})),
        )
        .await;
    assert_eq!(reply.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_role_writes_only_through_the_audited_functions() {
    let t = admin_app().await;
    let mut role = PgConnection::connect(&t.app.database.url_as("urr_admin"))
        .await
        .expect("connecting as urr_admin");
    assert!(count(&mut role, "SELECT count(*) FROM events").await >= 6);
    assert!(count(&mut role, "SELECT count(*) FROM reservations").await >= 0);
    for sql in [
        "UPDATE events SET title = 'x'",
        "DELETE FROM seats",
        "INSERT INTO ticket_types (event_id, name, price, total_quantity, available_quantity) \
         SELECT id, 'x', 1, 1, 1 FROM events LIMIT 1",
        "INSERT INTO admin_audit_log (admin_id, action, resource_type, resulting_status) \
         VALUES (gen_random_uuid(), 'x', 'x', 'x')",
        "SELECT generate_event_seats(gen_random_uuid())",
        "SELECT count(*) FROM payments",
        "SELECT count(*) FROM payment_outbox",
        "UPDATE reservations SET status = 'cancelled'",
    ] {
        assert_permission_denied(&mut role, sql).await;
    }
    // Other roles may not call the admin functions.
    let mut catalog = PgConnection::connect(&t.app.database.url_as("urr_catalog"))
        .await
        .expect("connecting as urr_catalog");
    assert_permission_denied(&mut catalog, "SELECT admin_dashboard()").await;
    // The host's metrics role reads the business counters and nothing else; no component but
    // admin may read them, and nobody writes them but the counting triggers.
    let mut metrics = PgConnection::connect(&t.app.database.url_as("urr_metrics"))
        .await
        .expect("connecting as urr_metrics");
    let counters: Vec<(String, i64)> =
        sqlx::query_as("SELECT counter, value FROM business_counters()")
            .fetch_all(&mut metrics)
            .await
            .expect("urr_metrics reads the counters");
    // Every counter the `business_counter` enum names (two migrations add them).
    assert_eq!(counters.len(), 13, "{counters:?}");
    for sql in [
        "SELECT count(*) FROM reservations",
        "SELECT count(*) FROM users",
        "SELECT count(*) FROM business_counter_log",
        "UPDATE business_counter_totals SET value = value + 1",
        "INSERT INTO business_counter_log VALUES ('payments_confirmed', 1)",
        "SELECT admin_dashboard()",
    ] {
        assert_permission_denied(&mut metrics, sql).await;
    }
    assert_permission_denied(&mut catalog, "SELECT * FROM business_counters()").await;
}

#[test]
fn spin_toml_sends_every_admin_path_to_admin_and_the_queue_admin_paths_elsewhere() {
    let manifest = urr_edge::manifest::Manifest::load(&urr_tests::repo_root().join("spin.toml"))
        .expect("spin.toml parses");
    let router = urr_edge::routes::Router::new(
        &manifest.base,
        manifest
            .triggers
            .iter()
            .enumerate()
            .map(|(i, t)| (t.route.clone(), i))
            .collect(),
    );
    let component_of = |path: &str| {
        router
            .route(path)
            .map(|r| manifest.triggers[r.component].component.clone())
    };
    for prefix in ["/api/v1", "/api"] {
        for (_, path, _) in every_route() {
            let path = format!("{prefix}{}", path.split('?').next().unwrap_or(&path));
            assert_eq!(component_of(&path).as_deref(), Some("admin"), "{path}");
        }
        let queue_admin = format!("{prefix}/queue/admin/{MUSICAL}");
        assert_ne!(
            component_of(&queue_admin).as_deref(),
            Some("admin"),
            "{queue_admin}"
        );
    }
}

/// A counting log nobody has folded for a minute is folded by the counting statements themselves
/// (about one in 256 checks), so it stays bounded where nobody reads the counters; folding loses
/// and doubles nothing; a read folds what is left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_counting_log_is_folded_as_it_grows_and_every_count_survives() {
    /// Counting statements: with one in 256 checking, no fold at all has odds of 1 in 10^6.
    const STATEMENTS: i64 = 3_500;
    let t = admin_app().await;
    let mut db = t.db().await;
    let event: String = sqlx::query_scalar(
        "INSERT INTO events (title, venue, event_date, sale_start_date, sale_end_date) \
         VALUES ('Fold test', 'Hall', now() + interval '30 days', now() - interval '1 day', \
                 now() + interval '10 days') RETURNING id::text",
    )
    .fetch_one(&mut db)
    .await
    .expect("event");
    for n in 0..STATEMENTS {
        sqlx::query(
            "INSERT INTO reservations (reservation_number, user_id, event_id, kind, \
                                       total_amount, expires_at) \
             VALUES ('F-' || $1, gen_random_uuid(), $2::uuid, 'seated', 1000, \
                     now() + interval '1 hour')",
        )
        .bind(n)
        .bind(&event)
        .execute(&mut db)
        .await
        .expect("reservation");
    }
    let logged = count(&mut db, "SELECT count(*) FROM business_counter_log").await;
    let folded = count(
        &mut db,
        "SELECT value FROM business_counter_totals WHERE counter = 'reservations_created'",
    )
    .await;
    println!("{STATEMENTS} counting statements: {folded} folded, {logged} still in the log");
    assert!(
        folded > 0 && logged < STATEMENTS,
        "the triggers never folded"
    );
    assert_eq!(
        folded + logged,
        STATEMENTS,
        "a fold lost or doubled a count"
    );

    let counters = t.app.business_counters().await;
    assert_eq!(counters["reservations_created"], STATEMENTS);
    let left = count(&mut db, "SELECT count(*) FROM business_counter_log").await;
    assert_eq!(left, 0, "a read folds what is left");
}
