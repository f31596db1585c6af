//! The `news` component end to end: public reads (a detail read counts a view, exactly under
//! concurrent views), admin writes signed with the account's name and audited in the same
//! transaction, any admin editing any notice, users and anonymous callers refused on every write
//! with nothing changed, the bad-input matrix, and the role's grants.

use reqwest::Method;
use serde_json::{Value, json};
use sqlx::{Connection as _, PgConnection};
use urr_tests::{AppOptions, TestApp, assert_permission_denied, count, spawn_app_with};

use crate::admin::call;
use crate::community::{account, db};

async fn app() -> TestApp {
    spawn_app_with(AppOptions::application()).await
}

fn id_of(value: &Value) -> String {
    value["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {value}"))
        .to_string()
}

#[tokio::test]
async fn an_admin_publishes_edits_and_deletes_a_notice_each_audited() {
    let app = app().await;
    let writer = account(&app, "운영자 김", true).await;
    let editor = account(&app, "운영자 박", true).await;
    let body = json!({
        "title": "점검 안내", "content": "<b>새벽 2시</b> 점검 & 공지\n감사합니다",
        "author": "클라이언트가 보낸 이름", "author_id": editor.id, "is_pinned": true
    });
    let created = call(
        &app,
        Method::POST,
        "/news",
        Some(&writer.token),
        Some(&body),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let news = &created.body["news"];
    let news_id = id_of(news);
    assert_eq!(
        news["author"], "운영자 김",
        "the account's name, never the body's"
    );
    assert_eq!(news["author_id"], writer.id.as_str());
    assert_eq!(news["content"], "<b>새벽 2시</b> 점검 & 공지\n감사합니다");
    assert_eq!(
        (news["is_pinned"].as_bool(), news["views"].as_i64()),
        (Some(true), Some(0))
    );
    let plain = json!({"title": "둘째 공지", "content": "본문"});
    let second = call(
        &app,
        Method::POST,
        "/news",
        Some(&writer.token),
        Some(&plain),
    )
    .await;
    assert_eq!(
        (second.status, &second.body["news"]["is_pinned"]),
        (201, &json!(false))
    );

    let list = call(&app, Method::GET, "/news", None, None).await;
    assert_eq!(list.status, 200);
    assert!(
        list.cache_control.starts_with("public"),
        "{}",
        list.cache_control
    );
    assert_eq!(list.body["news"][0]["id"], news_id.as_str(), "pinned first");
    assert_eq!(list.body["news"][1]["title"], "둘째 공지");
    assert_eq!(
        list.body["pagination"],
        json!({"page": 1, "limit": 20, "total": 2, "totalPages": 1})
    );
    let path = format!("/news/{news_id}");
    for n in 1..=2 {
        let detail = call(&app, Method::GET, &path, None, None).await;
        assert_eq!(
            (detail.status, detail.body["news"]["views"].as_i64()),
            (200, Some(n))
        );
        assert_eq!(detail.cache_control, "no-store");
    }

    // Another admin edits it (Q14); a missing `is_pinned` keeps the pin; the author stays.
    let edit = json!({"title": "점검 안내 (변경)", "content": "새벽 3시"});
    let updated = call(&app, Method::PUT, &path, Some(&editor.token), Some(&edit)).await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.body["news"]["title"], "점검 안내 (변경)");
    assert_eq!(updated.body["news"]["is_pinned"], true);
    assert_eq!(updated.body["news"]["author"], "운영자 김");
    let unpin = json!({"title": "t", "content": "c", "is_pinned": false});
    let updated = call(&app, Method::PUT, &path, Some(&editor.token), Some(&unpin)).await;
    assert_eq!(updated.body["news"]["is_pinned"], false);

    let deleted = call(&app, Method::DELETE, &path, Some(&editor.token), None).await;
    assert_eq!(
        (deleted.status, &deleted.body["message"]),
        (200, &json!("News deleted successfully"))
    );
    let missing = call(&app, Method::GET, &path, None, None).await;
    assert_eq!(
        (missing.status, missing.body["code"].as_str()),
        (404, Some("news_not_found"))
    );
    for method in [Method::PUT, Method::DELETE] {
        let reply = call(
            &app,
            method.clone(),
            &path,
            Some(&editor.token),
            Some(&edit),
        )
        .await;
        assert_eq!(
            (reply.status, reply.body["code"].as_str()),
            (404, Some("news_not_found")),
            "{method}"
        );
    }

    // One audit row per change, none for the refusals, visible on the admin screens.
    let mut db = db(&app).await;
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT action, admin_id::text, resulting_status FROM admin_audit_log \
         WHERE resource_type = 'news' ORDER BY id",
    )
    .fetch_all(&mut db)
    .await
    .expect("audit rows");
    let expected = [
        ("news.create", &writer.id, "created"),
        ("news.create", &writer.id, "created"),
        ("news.update", &editor.id, "updated"),
        ("news.update", &editor.id, "updated"),
        ("news.delete", &editor.id, "deleted"),
    ];
    assert_eq!(rows.len(), expected.len(), "{rows:?}");
    for ((action, admin, status), (want_action, want_admin, want_status)) in
        rows.iter().zip(expected)
    {
        assert_eq!(
            (action.as_str(), admin, status.as_str()),
            (want_action, want_admin, want_status)
        );
    }
    let summary: Value = sqlx::query_scalar(
        "SELECT request_summary FROM admin_audit_log WHERE resource_type = 'news' ORDER BY id LIMIT 1",
    )
    .fetch_one(&mut db)
    .await
    .expect("summary");
    assert_eq!(summary["title"], "점검 안내");
    assert!(
        summary.get("content").is_none(),
        "the audit row holds no body text: {summary}"
    );
    let log = call(
        &app,
        Method::GET,
        "/admin/audit-log?resourceType=news",
        Some(&writer.token),
        None,
    )
    .await;
    assert_eq!(log.status, 200, "{}", log.body);
}

#[tokio::test]
async fn users_and_anonymous_callers_cannot_write_news_and_change_nothing() {
    let app = app().await;
    let admin = account(&app, "관리자", true).await;
    let user = account(&app, "일반", false).await;
    let body = json!({"title": "공지", "content": "본문"});
    let created = call(&app, Method::POST, "/news", Some(&admin.token), Some(&body)).await;
    let path = format!("/news/{}", id_of(&created.body["news"]));
    let mut db = db(&app).await;
    let snapshot = "SELECT md5(string_agg(n::text, ',' ORDER BY n.id)) || \
                    (SELECT count(*) FROM admin_audit_log)::text FROM news AS n";
    let before: String = sqlx::query_scalar(snapshot)
        .fetch_one(&mut db)
        .await
        .expect("snapshot");
    for (method, target) in [
        (Method::POST, "/news".to_string()),
        (Method::PUT, path.clone()),
        (Method::DELETE, path.clone()),
    ] {
        let refused = call(
            &app,
            method.clone(),
            &target,
            Some(&user.token),
            Some(&body),
        )
        .await;
        assert_eq!(
            (refused.status, refused.body["code"].as_str()),
            (403, Some("admin_required")),
            "{method} {target}"
        );
        assert_eq!(refused.body["message"], "Admin role required");
        let anonymous = call(&app, method.clone(), &target, None, Some(&body)).await;
        assert_eq!(
            (anonymous.status, anonymous.body["code"].as_str()),
            (401, Some("unauthenticated")),
            "{method} {target}"
        );
    }
    let after: String = sqlx::query_scalar(snapshot)
        .fetch_one(&mut db)
        .await
        .expect("snapshot");
    assert_eq!(before, after, "a refused write changed something");
}

#[tokio::test]
async fn bad_news_input_is_a_400_with_its_code_and_changes_nothing() {
    let app = app().await;
    let admin = account(&app, "관리자", true).await;
    let created = call(
        &app,
        Method::POST,
        "/news",
        Some(&admin.token),
        Some(&json!({"title": "t", "content": "c"})),
    )
    .await;
    let path = format!("/news/{}", id_of(&created.body["news"]));
    let cases = [
        (
            Method::POST,
            "/news".to_string(),
            json!({"content": "c"}),
            "missing_field",
        ),
        (
            Method::POST,
            "/news".into(),
            json!({"title": "t", "content": " "}),
            "missing_field",
        ),
        (
            Method::POST,
            "/news".into(),
            json!({"title": "가".repeat(256), "content": "c"}),
            "text_too_long",
        ),
        (
            Method::POST,
            "/news".into(),
            json!({"title": "t", "content": "c", "is_pinned": "yes"}),
            "invalid_body",
        ),
        (
            Method::POST,
            "/news".into(),
            json!("just text"),
            "invalid_body",
        ),
        (
            Method::PUT,
            path.clone(),
            json!({"title": "t"}),
            "missing_field",
        ),
        (
            Method::PUT,
            "/news/1".into(),
            json!({"title": "t", "content": "c"}),
            "invalid_id",
        ),
        (Method::DELETE, "/news/1".into(), Value::Null, "invalid_id"),
    ];
    for (method, target, body, code) in cases {
        let body = (!body.is_null()).then_some(&body);
        let reply = call(&app, method.clone(), &target, Some(&admin.token), body).await;
        assert_eq!(
            (reply.status, reply.body["code"].as_str()),
            (400, Some(code)),
            "{method} {target}: {}",
            reply.body
        );
    }
    for query in ["page=x", "limit=1.5", "page=10001"] {
        assert_eq!(
            call(&app, Method::GET, &format!("/news?{query}"), None, None)
                .await
                .status,
            400,
            "{query}"
        );
    }
    assert_eq!(
        call(&app, Method::GET, "/news/nope", None, None).await.body["code"],
        "invalid_id"
    );
    let mut db = db(&app).await;
    assert_eq!(count(&mut db, "SELECT count(*) FROM news").await, 1);
    assert_eq!(
        count(
            &mut db,
            "SELECT count(*) FROM news WHERE title = 't' AND updated_at = created_at"
        )
        .await,
        1
    );
    assert_eq!(
        count(&mut db, "SELECT count(*) FROM admin_audit_log").await,
        1
    );
}

#[tokio::test]
async fn concurrent_news_views_are_counted_exactly() {
    const VIEWS: usize = 120;
    let app = app().await;
    let admin = account(&app, "관리자", true).await;
    let created = call(
        &app,
        Method::POST,
        "/news",
        Some(&admin.token),
        Some(&json!({"title": "t", "content": "c"})),
    )
    .await;
    let news_id = id_of(&created.body["news"]);
    let url = format!("{}/api/news/{news_id}", app.url);
    let answers = futures::future::join_all((0..VIEWS).map(|_| {
        let request = app.client.get(&url);
        async move {
            let body: Value = request
                .send()
                .await
                .expect("GET")
                .json()
                .await
                .expect("json");
            body["news"]["views"].as_i64().expect("views")
        }
    }))
    .await;
    let mut db = db(&app).await;
    let folded = count(
        &mut db,
        &format!("SELECT views FROM news WHERE id = '{news_id}'"),
    )
    .await;
    let pending = count(&mut db, "SELECT count(*) FROM news_view_log").await;
    let distinct = answers
        .iter()
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    println!(
        "{VIEWS} concurrent news views: {distinct} distinct answers; folded {folded}, pending {pending}"
    );
    assert_eq!(folded + pending, VIEWS as i64);
    assert!(answers.iter().all(|&v| (1..=VIEWS as i64).contains(&v)));
    let list = call(&app, Method::GET, "/news", None, None).await;
    assert_eq!(list.body["news"][0]["views"], VIEWS);
    sqlx::query("SELECT news_fold_views(1000000)")
        .execute(&mut db)
        .await
        .expect("fold");
    assert_eq!(
        count(
            &mut db,
            &format!("SELECT views FROM news WHERE id = '{news_id}'")
        )
        .await,
        VIEWS as i64
    );
}

#[tokio::test]
async fn the_news_role_reads_notices_and_changes_them_only_through_its_functions() {
    let app = app().await;
    let mut role = PgConnection::connect(&app.database.url_as("urr_news"))
        .await
        .expect("connecting as urr_news");
    assert_eq!(count(&mut role, "SELECT count(*) FROM news").await, 0);
    for sql in [
        "INSERT INTO news (title, content, author) VALUES ('t', 'c', 'a')",
        "UPDATE news SET views = 1",
        "INSERT INTO admin_audit_log (admin_id, action, resource_type, resulting_status) \
         VALUES (gen_random_uuid(), 'x', 'x', 'x')",
        "SELECT count(*) FROM users",
        "SELECT count(*) FROM community_posts",
        "SELECT news_fold_views(10)",
    ] {
        assert_permission_denied(&mut role, sql).await;
    }
}
