//! The `artists` component end to end: the seeded artists (one per named demo event) with their
//! counts, paging and its 400s, the detail with prices as `GET /events` computes them and the
//! pre-sale schedule, the CDN cache validators, the admins' audited writes (401/403 for others,
//! 409s, bad input changing nothing), enrich's 501, the artist an event's name resolves to, and
//! what the two new roles may touch.

use reqwest::Method;
use serde_json::{Value, json};
use sqlx::{Connection as _, PgConnection};
use urr_edge::seed::{EVENTS, seed};
use urr_tests::{
    AppOptions, TestApp, assert_permission_denied, count, mint_access_token, spawn_app_with,
};

pub(crate) struct Fan {
    pub(crate) app: TestApp,
    pub(crate) admin: String,
    pub(crate) user: String,
}

pub(crate) async fn fan_app() -> Fan {
    let app = spawn_app_with(AppOptions::application()).await;
    seed(&app.database.url).await.expect("seeding");
    let token = |admin: bool| {
        mint_access_token(
            &uuid::Uuid::new_v4().to_string(),
            "fan@example.com",
            admin,
            &uuid::Uuid::new_v4().to_string(),
        )
    };
    Fan {
        admin: token(true),
        user: token(false),
        app,
    }
}

pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: Value,
    pub(crate) headers: reqwest::header::HeaderMap,
}

/// One request to `path` (a bearer token and a JSON body when given).
pub(crate) async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Reply {
    let mut request = app.client.request(method, format!("{}{path}", app.url));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.json().await.unwrap_or(Value::Null);
    Reply {
        status,
        body,
        headers,
    }
}

async fn db(app: &TestApp) -> PgConnection {
    PgConnection::connect(&app.database.url)
        .await
        .expect("database")
}

pub(crate) async fn artist_id(app: &TestApp, name: &str) -> String {
    sqlx::query_scalar("SELECT id::text FROM artists WHERE name = $1")
        .bind(name)
        .fetch_one(&mut db(app).await)
        .await
        .expect("artist")
}

async fn audit_rows(app: &TestApp, action: &str) -> i64 {
    let mut db = db(app).await;
    let sql = format!("SELECT count(*) FROM admin_audit_log WHERE action = '{action}'");
    count(&mut db, &sql).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seeded_artists_are_listed_with_their_counts_and_paged() {
    let fan = fan_app().await;
    let app = &fan.app;
    let names: std::collections::BTreeSet<&str> = EVENTS
        .iter()
        .map(|e| e.artist_name.trim())
        .filter(|n| !n.is_empty())
        .collect();
    let list = call(app, Method::GET, "/api/v1/artists", None, None).await;
    assert_eq!(list.status, 200, "{}", list.body);
    let artists = list.body["artists"].as_array().expect("artists");
    let listed: Vec<&str> = artists.iter().filter_map(|a| a["name"].as_str()).collect();
    let mut sorted = listed.clone();
    sorted.sort_unstable();
    assert_eq!(listed, sorted, "ordered by name");
    assert_eq!(
        listed
            .iter()
            .copied()
            .collect::<std::collections::BTreeSet<_>>(),
        names,
        "one artist per named demo event"
    );
    for a in artists {
        let name = a["name"].as_str().unwrap_or_default();
        let events = EVENTS.iter().filter(|e| e.artist_name == name).count();
        assert_eq!(a["event_count"], events, "{a}");
        assert_eq!(a["member_count"], 0, "{a}");
        assert_eq!(a["membership_price"], 30_000);
    }
    assert_eq!(list.body["pagination"]["total"], names.len());
    assert_eq!(list.body["pagination"]["limit"], 50);
    assert!(
        list.headers["cache-control"]
            .to_str()
            .unwrap_or("")
            .starts_with("public"),
        "cacheable like the catalog"
    );
    let etag = list.headers["etag"].to_str().expect("etag").to_string();
    let revalidated = app
        .get("/api/v1/artists")
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("request");
    assert_eq!(revalidated.status().as_u16(), 304);

    // Paging: clamped, and refused when it is not a whole number or absurd.
    let page = call(app, Method::GET, "/api/artists?page=2&limit=2", None, None).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.body["artists"][0]["name"], listed[2]);
    assert_eq!(
        page.body["pagination"]["totalPages"],
        names.len().div_ceil(2)
    );
    let clamped = call(
        app,
        Method::GET,
        "/api/v1/artists?page=0&limit=500",
        None,
        None,
    )
    .await;
    assert_eq!(
        (
            &clamped.body["pagination"]["page"],
            &clamped.body["pagination"]["limit"]
        ),
        (&json!(1), &json!(100))
    );
    for (query, code) in [
        ("page=abc", "invalid_page"),
        ("page=10001", "invalid_page"),
        ("limit=ten", "invalid_limit"),
    ] {
        let bad = call(
            app,
            Method::GET,
            &format!("/api/v1/artists?{query}"),
            None,
            None,
        )
        .await;
        assert_eq!(
            (bad.status, bad.body["code"].as_str()),
            (400, Some(code)),
            "{query}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_artist_page_lists_its_events_with_prices_and_the_pre_sale_schedule() {
    let fan = fan_app().await;
    let app = &fan.app;
    let name = EVENTS[1].artist_name;
    let id = artist_id(app, name).await;
    let detail = call(
        app,
        Method::GET,
        &format!("/api/v1/artists/{id}"),
        None,
        None,
    )
    .await;
    assert_eq!(detail.status, 200, "{}", detail.body);
    assert_eq!(detail.body["artist"]["name"], name);
    assert_eq!(detail.body["memberCount"], 0);
    let events = detail.body["events"].as_array().expect("events");
    assert_eq!(
        events.len(),
        EVENTS.iter().filter(|e| e.artist_name == name).count()
    );
    for event in events {
        let id = event["id"].as_str().expect("id");
        let (status, catalog) = app.get_json(&format!("/api/v1/events/{id}")).await;
        assert_eq!(status, 200);
        for field in ["min_price", "max_price", "status", "event_date", "title"] {
            assert_eq!(
                event[field], catalog["event"][field],
                "{field}: as GET /events"
            );
        }
        let schedule = &event["pre_sale_schedule"];
        assert_eq!(schedule["diamond"], catalog["event"]["sale_start_date"]);
        let mut db = db(app).await;
        let mut hours = Vec::new();
        for tier in ["gold", "silver", "bronze"] {
            let h: f64 = sqlx::query_scalar(
                "SELECT extract(epoch FROM $1::text::timestamptz - $2::text::timestamptz)::float8 / 3600",
            )
            .bind(schedule[tier].as_str())
            .bind(schedule["diamond"].as_str())
            .fetch_one(&mut db)
            .await
            .expect("interval");
            hours.push(h);
        }
        assert_eq!(hours, [1.0, 24.0, 48.0]);
    }

    let unknown = uuid::Uuid::new_v4();
    let missing = call(
        app,
        Method::GET,
        &format!("/api/v1/artists/{unknown}"),
        None,
        None,
    )
    .await;
    assert_eq!(
        (missing.status, missing.body["code"].as_str()),
        (404, Some("artist_not_found"))
    );
    let malformed = call(app, Method::GET, "/api/v1/artists/not-a-uuid", None, None).await;
    assert_eq!(
        (malformed.status, malformed.body["code"].as_str()),
        (400, Some("invalid_id"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_writes_are_audited_and_refused_to_everyone_else() {
    let fan = fan_app().await;
    let app = &fan.app;
    let img = "https://urr-assets.s3.ap-northeast-2.amazonaws.com/artists/new.jpg";
    let new = json!({"name": "새 아티스트", "imageUrl": img, "membershipPrice": 45000});

    // Who may write: 401 without a session, 403 for a user; nothing written.
    let anon = call(
        app,
        Method::POST,
        "/api/v1/artists",
        None,
        Some(new.clone()),
    )
    .await;
    assert_eq!(
        (anon.status, anon.body["code"].as_str()),
        (401, Some("unauthenticated"))
    );
    let user = call(
        app,
        Method::POST,
        "/api/v1/artists",
        Some(&fan.user),
        Some(new.clone()),
    )
    .await;
    assert_eq!(
        (user.status, user.body["code"].as_str()),
        (403, Some("admin_required"))
    );
    assert_eq!(audit_rows(app, "artist.create").await, 0);

    let created = call(
        app,
        Method::POST,
        "/api/v1/artists",
        Some(&fan.admin),
        Some(new.clone()),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["artist"]["membership_price"], 45_000);
    assert_eq!(created.body["artist"]["image_url"], img);
    assert_eq!(created.headers["cache-control"], "no-store");
    let id = created.body["artist"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    assert_eq!(audit_rows(app, "artist.create").await, 1);

    // Refusals change nothing and write no audit row.
    let duplicate = call(
        app,
        Method::POST,
        "/api/v1/artists",
        Some(&fan.admin),
        Some(new),
    )
    .await;
    assert_eq!(
        (duplicate.status, duplicate.body["code"].as_str()),
        (409, Some("duplicate_name"))
    );
    for (body, code) in [
        (json!({"imageUrl": img}), "missing_field"),
        (json!({"name": ""}), "invalid_text"),
        (json!({"name": "x".repeat(256)}), "invalid_text"),
        (
            json!({"name": "Price", "membershipPrice": 0}),
            "invalid_price",
        ),
        (
            json!({"name": "Spotify", "imageUrl": "https://i.scdn.co/image/ab67"}),
            "invalid_image_url",
        ),
        (json!([1, 2]), "invalid_body"),
    ] {
        let bad = call(
            app,
            Method::POST,
            "/api/v1/artists",
            Some(&fan.admin),
            Some(body.clone()),
        )
        .await;
        assert_eq!(
            (bad.status, bad.body["code"].as_str()),
            (400, Some(code)),
            "{body}"
        );
    }
    assert_eq!(audit_rows(app, "artist.create").await, 1);
    let total = call(app, Method::GET, "/api/v1/artists", None, None).await;
    let before = total.body["pagination"]["total"].clone();

    // Update: a rename reaches the artist's events in the catalog; null clears the image.
    let seeded = EVENTS[1].artist_name;
    let seeded_id = artist_id(app, seeded).await;
    let path = format!("/api/v1/artists/{seeded_id}");
    let renamed = call(
        app,
        Method::PATCH,
        &path,
        Some(&fan.admin),
        Some(json!({"name": "Renamed", "imageUrl": null, "description": "Singer"})),
    )
    .await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    assert_eq!(renamed.body["artist"]["name"], "Renamed");
    assert_eq!(renamed.body["artist"]["description"], "Singer");
    let (_, event) = app
        .get_json(&format!("/api/v1/events/{}", EVENTS[1].id))
        .await;
    assert_eq!(event["event"]["artist_name"], "Renamed");
    let still = call(app, Method::GET, &path, None, None).await;
    assert!(
        !still.body["events"].as_array().expect("events").is_empty(),
        "the events stay its"
    );
    assert_eq!(audit_rows(app, "artist.update").await, 1);
    for (body, status, code) in [
        (json!({}), 400, "nothing_to_change"),
        (json!({"name": "새 아티스트"}), 409, "duplicate_name"),
        (json!({"membershipPrice": "free"}), 400, "invalid_price"),
    ] {
        let bad = call(
            app,
            Method::PATCH,
            &path,
            Some(&fan.admin),
            Some(body.clone()),
        )
        .await;
        assert_eq!(
            (bad.status, bad.body["code"].as_str()),
            (status, Some(code)),
            "{body}"
        );
    }
    let unknown = format!("/api/v1/artists/{}", uuid::Uuid::new_v4());
    let missing = call(
        app,
        Method::PATCH,
        &unknown,
        Some(&fan.admin),
        Some(json!({"name": "Nobody"})),
    )
    .await;
    assert_eq!(
        (missing.status, missing.body["code"].as_str()),
        (404, Some("artist_not_found"))
    );
    let foreign = call(
        app,
        Method::PATCH,
        &path,
        Some(&fan.user),
        Some(json!({"name": "Mine"})),
    )
    .await;
    assert_eq!(foreign.status, 403);
    assert_eq!(audit_rows(app, "artist.update").await, 1);

    // Delete: refused while events name the artist; a free one goes, once.
    let busy = call(app, Method::DELETE, &path, Some(&fan.admin), None).await;
    assert_eq!(
        (busy.status, busy.body["code"].as_str()),
        (409, Some("artist_has_events"))
    );
    let mine = format!("/api/v1/artists/{id}");
    assert_eq!(
        call(app, Method::DELETE, &mine, Some(&fan.user), None)
            .await
            .status,
        403
    );
    assert_eq!(
        call(app, Method::DELETE, &mine, None, None).await.status,
        401
    );
    let deleted = call(app, Method::DELETE, &mine, Some(&fan.admin), None).await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    let again = call(app, Method::DELETE, &mine, Some(&fan.admin), None).await;
    assert_eq!(again.status, 404);
    assert_eq!(audit_rows(app, "artist.delete").await, 1);
    let after = call(app, Method::GET, "/api/v1/artists", None, None).await;
    assert_eq!(
        after.body["pagination"]["total"].as_i64(),
        before.as_i64().map(|n| n - 1)
    );

    // Enrichment needs an external service that is not configured.
    let enrich = call(
        app,
        Method::POST,
        "/api/v1/artists/enrich",
        Some(&fan.admin),
        None,
    )
    .await;
    assert_eq!(
        (enrich.status, enrich.body["code"].as_str()),
        (501, Some("enrich_unavailable"))
    );
    assert_eq!(
        call(
            app,
            Method::POST,
            "/api/v1/artists/enrich",
            Some(&fan.user),
            None
        )
        .await
        .status,
        403
    );
    assert_eq!(
        call(app, Method::POST, "/api/v1/artists/enrich", None, None)
            .await
            .status,
        401
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_events_artist_name_resolves_to_its_artist_and_the_roles_stay_in_their_lane() {
    let fan = fan_app().await;
    let app = &fan.app;
    let mut db = db(app).await;
    let event: String = sqlx::query_scalar(
        "INSERT INTO events (title, venue, event_date, sale_start_date, sale_end_date, artist_name) \
         VALUES ('New show', 'Hall', now() + interval '30 days', now() - interval '1 day', \
                 now() + interval '10 days', '  Brand New Band ') RETURNING artist_id::text",
    )
    .fetch_one(&mut db)
    .await
    .expect("event");
    assert_eq!(
        event,
        artist_id(app, "Brand New Band").await,
        "created and linked"
    );
    let relinked: String = sqlx::query_scalar(
        "UPDATE events SET artist_name = $1 WHERE id = $2::uuid RETURNING artist_id::text",
    )
    .bind(EVENTS[1].artist_name)
    .bind(EVENTS[0].id)
    .fetch_one(&mut db)
    .await
    .expect("update");
    assert_eq!(relinked, artist_id(app, EVENTS[1].artist_name).await);

    let mut artists = PgConnection::connect(&app.database.url_as("urr_artists"))
        .await
        .expect("connecting as urr_artists");
    for sql in [
        "SELECT count(*) FROM artist_memberships",
        "INSERT INTO artists (name) VALUES ('direct')",
        "UPDATE artists SET membership_price = 1",
        "INSERT INTO admin_audit_log (admin_id, action, resource_type, resulting_status) \
         VALUES (gen_random_uuid(), 'artist.create', 'artist', 'created')",
        "SELECT count(*) FROM payments",
    ] {
        assert_permission_denied(&mut artists, sql).await;
    }
    let mut memberships = PgConnection::connect(&app.database.url_as("urr_memberships"))
        .await
        .expect("connecting as urr_memberships");
    for sql in [
        "INSERT INTO artist_memberships (user_id, artist_id, status) \
         SELECT gen_random_uuid(), id, 'active' FROM artists LIMIT 1",
        "UPDATE artist_memberships SET points = 10000",
        "INSERT INTO membership_point_logs (membership_id, action_type, points) \
         SELECT id, 'X', 1 FROM artist_memberships LIMIT 1",
        "SELECT count(*) FROM payments",
        "SELECT count(*) FROM events",
    ] {
        assert_permission_denied(&mut memberships, sql).await;
    }
}
