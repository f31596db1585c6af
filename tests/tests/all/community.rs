//! The `community` component end to end: the board as the web reads it (posts, a post with its
//! view counted, comments), raw text that is never escaped, ownership (another user's post or
//! comment is refused and unchanged; the author edits, the author or an admin deletes), the
//! bad-input matrix (each a 400 with its code that changed nothing), paging and the artist
//! filter, the per-user write limit, exact view counts under concurrent views, the seeded board,
//! and the role's grants.

use reqwest::Method;
use serde_json::{Value, json};
use sqlx::{Connection as _, PgConnection};
use urr_tests::{
    AppOptions, TestApp, assert_permission_denied, count, mint_access_token, spawn_app_with,
};

use crate::admin::{Reply, call};

/// The artists the tests file posts under (a post must name an artist that exists).
pub const ARTIST: &str = "a0000000-0000-4000-8000-0000000000a1";
const OTHER_ARTIST: &str = "a0000000-0000-4000-8000-0000000000a2";
/// A well-formed id no artist has.
const NO_ARTIST: &str = "a0000000-0000-4000-8000-0000000000ff";

/// Inserts the test artists (as an admin's artist create would).
async fn with_artists(app: TestApp) -> TestApp {
    let mut db = db(&app).await;
    for (id, name) in [(ARTIST, "게시판 가수"), (OTHER_ARTIST, "다른 가수")] {
        sqlx::query("INSERT INTO artists (id, name) VALUES ($1::uuid, $2)")
            .bind(id)
            .bind(name)
            .execute(&mut db)
            .await
            .expect("inserting a test artist");
    }
    app
}

/// A signed-in account: its id, display name and access token.
pub struct Account {
    pub id: String,
    pub name: String,
    pub token: String,
}

/// Creates an account row (as registration would) and mints its access token.
pub async fn account(app: &TestApp, name: &str, admin: bool) -> Account {
    let id = uuid::Uuid::new_v4();
    let email = format!("{}@example.com", id.simple());
    let mut db = db(app).await;
    sqlx::query(
        "INSERT INTO users (id, email, password_hash, name, role) \
         VALUES ($1, $2, '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo', $3, $4)",
    )
    .bind(id)
    .bind(&email)
    .bind(name)
    .bind(if admin { "admin" } else { "user" })
    .execute(&mut db)
    .await
    .expect("inserting an account");
    let id = id.to_string();
    let token = mint_access_token(&id, &email, admin, &uuid::Uuid::new_v4().to_string());
    Account {
        id,
        name: name.to_string(),
        token,
    }
}

pub async fn db(app: &TestApp) -> PgConnection {
    PgConnection::connect(&app.database.url)
        .await
        .expect("connecting to the test database")
}

async fn as_user(
    app: &TestApp,
    who: &Account,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> Reply {
    call(app, method, path, Some(&who.token), body).await
}

async fn anon(app: &TestApp, path: &str) -> Reply {
    call(app, Method::GET, path, None, None).await
}

/// Creates a post through the API and returns it.
async fn create_post(app: &TestApp, who: &Account, title: &str, artist: &str) -> Value {
    let body = json!({"title": title, "content": format!("{title} body"), "artist_id": artist});
    let reply = as_user(app, who, Method::POST, "/community/posts", Some(&body)).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.body["post"].clone()
}

fn id_of(value: &Value) -> String {
    value["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {value}"))
        .to_string()
}

async fn app() -> TestApp {
    with_artists(spawn_app_with(AppOptions::application()).await).await
}

#[tokio::test]
async fn a_post_with_its_comments_round_trips_as_the_web_reads_it() {
    let app = app().await;
    let author = account(&app, "김작가", false).await;
    let reader = account(&app, "이독자", false).await;
    // Raw text: markup, entities, quotes and line breaks come back byte for byte.
    let content = "<b>굵게?</b> &amp; \"따옴표\" <script>alert(1)</script>\n\t둘째 줄";
    let body = json!({"title": "  첫 글 <3 ", "content": content, "artist_id": ARTIST});
    let created = as_user(&app, &author, Method::POST, "/community/posts", Some(&body)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.cache_control, "no-store");
    let post = &created.body["post"];
    let post_id = id_of(post);
    assert_eq!(post["title"], "첫 글 <3");
    assert_eq!(post["content"], content);
    assert_eq!(post["author_id"], author.id.as_str());
    assert_eq!(
        post["author_name"], "김작가",
        "the account's name, not the e-mail"
    );
    assert_eq!(post["artist_id"], ARTIST);
    assert_eq!(
        (post["views"].as_i64(), post["comment_count"].as_i64()),
        (Some(0), Some(0))
    );
    assert_eq!(post["is_pinned"], false);

    let list = anon(&app, "/community/posts?page=1&limit=20").await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(
        list.cache_control.starts_with("public"),
        "{}",
        list.cache_control
    );
    assert_eq!(
        list.body["pagination"],
        json!({"page": 1, "limit": 20, "total": 1, "totalPages": 1})
    );
    let listed = &list.body["posts"][0];
    assert_eq!(listed["id"], post_id.as_str());
    assert!(
        listed.get("content").is_none(),
        "the list carries no content"
    );

    // Each detail read counts itself; the /api prefix is the same route.
    for (n, prefix) in [(1, "/api/v1"), (2, "/api")] {
        let response = app
            .client
            .get(format!("{}{prefix}/community/posts/{post_id}", app.url))
            .send()
            .await
            .expect("GET post");
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["cache-control"], "no-store");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["post"]["views"], n);
        assert_eq!(body["post"]["content"], content);
    }

    let edit = json!({"title": "고친 제목", "content": "고친 본문"});
    let path = format!("/community/posts/{post_id}");
    let updated = as_user(&app, &author, Method::PUT, &path, Some(&edit)).await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.body["post"]["title"], "고친 제목");
    assert_eq!(updated.body["post"]["views"], 2, "an edit keeps the views");

    let comments_path = format!("/community/posts/{post_id}/comments");
    let mut comment_ids = Vec::new();
    for (who, text) in [(&reader, "첫 댓글 <i>!</i>"), (&author, "답글")] {
        let reply = as_user(
            &app,
            who,
            Method::POST,
            &comments_path,
            Some(&json!({"content": text})),
        )
        .await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        let comment = &reply.body["comment"];
        assert_eq!(comment["content"], text);
        assert_eq!(comment["post_id"], post_id.as_str());
        assert_eq!(comment["author_name"], who.name.as_str());
        comment_ids.push(id_of(comment));
    }
    let comments = anon(&app, &format!("{comments_path}?page=1&limit=100")).await;
    assert_eq!(comments.status, 200, "{}", comments.body);
    assert_eq!(
        comments.body["comments"][0]["content"], "첫 댓글 <i>!</i>",
        "oldest first"
    );
    assert_eq!(comments.body["pagination"]["total"], 2);
    let detail = anon(&app, &path).await;
    assert_eq!(detail.body["post"]["comment_count"], 2);

    let own = format!("{comments_path}/{}", comment_ids[0]);
    let deleted = as_user(&app, &reader, Method::DELETE, &own, None).await;
    assert_eq!(
        (deleted.status, &deleted.body["message"]),
        (200, &json!("Comment deleted successfully"))
    );
    assert_eq!(anon(&app, &path).await.body["post"]["comment_count"], 1);

    let gone = as_user(&app, &author, Method::DELETE, &path, None).await;
    assert_eq!(
        (gone.status, &gone.body["message"]),
        (200, &json!("Post deleted successfully"))
    );
    let missing = anon(&app, &path).await;
    assert_eq!(
        (missing.status, missing.body["code"].as_str()),
        (404, Some("post_not_found"))
    );
    assert_eq!(missing.body["message"], "Post not found");
    let mut db = db(&app).await;
    assert_eq!(
        count(&mut db, "SELECT count(*) FROM community_comments").await,
        0,
        "comments go with the post"
    );
}

#[tokio::test]
async fn another_users_post_or_comment_is_refused_and_left_unchanged() {
    let app = app().await;
    let owner = account(&app, "주인", false).await;
    let other = account(&app, "남", false).await;
    let admin = account(&app, "관리자", true).await;
    let post_id = id_of(&create_post(&app, &owner, "내 글", ARTIST).await);
    let second_post = id_of(&create_post(&app, &owner, "다른 글", ARTIST).await);
    let path = format!("/community/posts/{post_id}");
    let comment = as_user(
        &app,
        &owner,
        Method::POST,
        &format!("{path}/comments"),
        Some(&json!({"content": "내 댓글"})),
    )
    .await;
    let comment_id = id_of(&comment.body["comment"]);
    let comment_path = format!("{path}/comments/{comment_id}");
    let mut db = db(&app).await;
    let snapshot = "SELECT md5(string_agg(p::text || coalesce(c::text, ''), ',' ORDER BY p.id)) \
                    FROM community_posts AS p LEFT JOIN community_comments AS c ON c.post_id = p.id";
    let before: String = sqlx::query_scalar(snapshot)
        .fetch_one(&mut db)
        .await
        .expect("snapshot");

    let edit = json!({"title": "남이 고침", "content": "x"});
    for (who, method, target, body, code, message) in [
        (
            &other,
            Method::PUT,
            path.clone(),
            Some(&edit),
            "not_author",
            "Only the author can edit this post",
        ),
        // Not even an admin edits another's post (the contract's rule).
        (
            &admin,
            Method::PUT,
            path.clone(),
            Some(&edit),
            "not_author",
            "Only the author can edit this post",
        ),
        (
            &other,
            Method::DELETE,
            path.clone(),
            None,
            "not_author",
            "No permission to delete this post",
        ),
        (
            &other,
            Method::DELETE,
            comment_path.clone(),
            None,
            "not_author",
            "No permission to delete this comment",
        ),
    ] {
        let reply = as_user(&app, who, method.clone(), &target, body).await;
        assert_eq!(
            (reply.status, reply.body["code"].as_str()),
            (403, Some(code)),
            "{method} {target}: {}",
            reply.body
        );
        assert_eq!(reply.body["message"], message);
    }
    // The comment under another post's path is not found (URR ignored the post).
    let crossed = format!("/community/posts/{second_post}/comments/{comment_id}");
    let reply = as_user(&app, &owner, Method::DELETE, &crossed, None).await;
    assert_eq!(
        (reply.status, reply.body["code"].as_str()),
        (404, Some("comment_not_found"))
    );
    let after: String = sqlx::query_scalar(snapshot)
        .fetch_one(&mut db)
        .await
        .expect("snapshot");
    assert_eq!(before, after, "a refused write changed something");

    // An admin deletes another's comment and post.
    let reply = as_user(&app, &admin, Method::DELETE, &comment_path, None).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let reply = as_user(&app, &admin, Method::DELETE, &path, None).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        count(&mut db, "SELECT count(*) FROM community_posts").await,
        1
    );
}

#[tokio::test]
async fn bad_input_is_a_400_with_its_code_and_changes_nothing() {
    let app = app().await;
    let user = account(&app, "입력", false).await;
    let post_id = id_of(&create_post(&app, &user, "기준 글", ARTIST).await);
    let long = |n: usize| "가".repeat(n);
    let post = |title: Value, content: Value, artist: Value| json!({"title": title, "content": content, "artist_id": artist});
    let cases: Vec<(Method, String, Value, &str)> = vec![
        (
            Method::POST,
            "/community/posts".into(),
            post(json!(""), json!("c"), json!(ARTIST)),
            "missing_field",
        ),
        (
            Method::POST,
            "/community/posts".into(),
            json!({"content": "c", "artist_id": ARTIST}),
            "missing_field",
        ),
        (
            Method::POST,
            "/community/posts".into(),
            post(json!("t"), json!("c"), Value::Null),
            "missing_field",
        ),
        (
            Method::POST,
            "/community/posts".into(),
            post(json!(long(256)), json!("c"), json!(ARTIST)),
            "text_too_long",
        ),
        (
            Method::POST,
            "/community/posts".into(),
            post(json!("t"), json!(long(10_001)), json!(ARTIST)),
            "text_too_long",
        ),
        (
            Method::POST,
            "/community/posts".into(),
            post(json!("t"), json!("c"), json!("not-a-uuid")),
            "invalid_id",
        ),
        (
            Method::POST,
            "/community/posts".into(),
            post(json!(7), json!("c"), json!(ARTIST)),
            "invalid_text",
        ),
        (
            Method::POST,
            "/community/posts".into(),
            post(json!("t\u{0}"), json!("c"), json!(ARTIST)),
            "invalid_text",
        ),
        (
            Method::POST,
            "/community/posts".into(),
            json!(["not", "an", "object"]),
            "invalid_body",
        ),
        (
            Method::PUT,
            format!("/community/posts/{post_id}"),
            json!({"title": "t"}),
            "missing_field",
        ),
        (
            Method::PUT,
            "/community/posts/123".into(),
            json!({"title": "t", "content": "c"}),
            "invalid_id",
        ),
        (
            Method::POST,
            format!("/community/posts/{post_id}/comments"),
            json!({"content": long(1_001)}),
            "text_too_long",
        ),
        (
            Method::POST,
            format!("/community/posts/{post_id}/comments"),
            json!({"content": "  "}),
            "missing_field",
        ),
        (
            Method::DELETE,
            format!("/community/posts/{post_id}/comments/nope"),
            Value::Null,
            "invalid_id",
        ),
    ];
    let mut db = db(&app).await;
    for (method, path, body, code) in cases {
        let body = (!body.is_null()).then_some(&body);
        let reply = as_user(&app, &user, method.clone(), &path, body).await;
        assert_eq!(
            (reply.status, reply.body["code"].as_str()),
            (400, Some(code)),
            "{method} {path}: {}",
            reply.body
        );
        assert!(
            !reply.body["message"]
                .as_str()
                .unwrap_or_default()
                .is_empty()
        );
    }
    for query in ["page=abc", "page=10001", "limit=x", "artistId=42"] {
        let reply = anon(&app, &format!("/community/posts?{query}")).await;
        assert_eq!(reply.status, 400, "{query}: {}", reply.body);
    }
    assert_eq!(
        anon(&app, "/community/posts/42").await.body["code"],
        "invalid_id"
    );
    assert_eq!(
        anon(&app, "/community/posts/42/comments").await.body["code"],
        "invalid_id"
    );
    // A post under an artist that does not exist is 404 and writes nothing.
    let reply = as_user(
        &app,
        &user,
        Method::POST,
        "/community/posts",
        Some(&post(json!("t"), json!("c"), json!(NO_ARTIST))),
    )
    .await;
    assert_eq!(
        (reply.status, reply.body["code"].as_str()),
        (404, Some("artist_not_found")),
        "{}",
        reply.body
    );
    // Anonymous writes are 401; a comment on an unknown post is 404; neither writes anything.
    let unknown = uuid::Uuid::new_v4();
    let reply = call(
        &app,
        Method::POST,
        "/community/posts",
        None,
        Some(&post(json!("t"), json!("c"), json!(ARTIST))),
    )
    .await;
    assert_eq!(
        (reply.status, reply.body["code"].as_str()),
        (401, Some("unauthenticated"))
    );
    let reply = as_user(
        &app,
        &user,
        Method::POST,
        &format!("/community/posts/{unknown}/comments"),
        Some(&json!({"content": "c"})),
    )
    .await;
    assert_eq!(
        (reply.status, reply.body["code"].as_str()),
        (404, Some("post_not_found"))
    );
    let reply = as_user(
        &app,
        &user,
        Method::PUT,
        &format!("/community/posts/{unknown}"),
        Some(&json!({"title": "t", "content": "c"})),
    )
    .await;
    assert_eq!(reply.status, 404);
    let empty = anon(&app, &format!("/community/posts/{unknown}/comments")).await;
    assert_eq!((empty.status, &empty.body["comments"]), (200, &json!([])));
    // A token whose account does not exist cannot write.
    let ghost = mint_access_token(&unknown.to_string(), "ghost@example.com", false, "f");
    let reply = call(
        &app,
        Method::POST,
        "/community/posts",
        Some(&ghost),
        Some(&post(json!("t"), json!("c"), json!(ARTIST))),
    )
    .await;
    assert_eq!(
        (reply.status, reply.body["code"].as_str()),
        (401, Some("unauthenticated"))
    );
    assert_eq!(
        count(&mut db, "SELECT count(*) FROM community_posts").await,
        1
    );
    assert_eq!(
        count(&mut db, "SELECT count(*) FROM community_comments").await,
        0
    );
    assert_eq!(
        count(&mut db, "SELECT count(*) FROM community_posts WHERE title = '기준 글' AND updated_at = created_at").await,
        1
    );
}

#[tokio::test]
async fn the_board_pages_pinned_first_then_newest_and_filters_by_artist() {
    let app = app().await;
    let user = account(&app, "페이지", false).await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let artist = if n % 2 == 0 { ARTIST } else { OTHER_ARTIST };
        ids.push(id_of(
            &create_post(&app, &user, &format!("글 {n}"), artist).await,
        ));
    }
    // The oldest post is a pinned notice (no API pins: the operator does, in the database).
    let mut db = db(&app).await;
    sqlx::query("UPDATE community_posts SET is_pinned = true WHERE id = $1::uuid")
        .bind(&ids[0])
        .execute(&mut db)
        .await
        .expect("pinning");
    let titles = |body: &Value| -> Vec<String> {
        body["posts"]
            .as_array()
            .expect("posts")
            .iter()
            .map(|p| p["title"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let first = anon(&app, "/community/posts?page=1&limit=2").await;
    assert_eq!(
        titles(&first.body),
        ["글 0", "글 4"],
        "pinned first, then newest"
    );
    assert_eq!(
        first.body["pagination"],
        json!({"page": 1, "limit": 2, "total": 5, "totalPages": 3})
    );
    let last = anon(&app, "/community/posts?page=3&limit=2").await;
    assert_eq!(titles(&last.body), ["글 1"]);
    let beyond = anon(&app, "/community/posts?page=9&limit=2").await;
    assert_eq!(
        (
            titles(&beyond.body).len(),
            beyond.body["pagination"]["total"].as_i64()
        ),
        (0, Some(5))
    );
    let clamped = anon(&app, "/community/posts?page=0&limit=1000").await;
    assert_eq!(clamped.body["pagination"]["limit"], 100);
    assert_eq!(clamped.body["pagination"]["page"], 1);
    let tab = anon(&app, &format!("/community/posts?artistId={OTHER_ARTIST}")).await;
    assert_eq!(titles(&tab.body), ["글 3", "글 1"]);
    assert_eq!(tab.body["pagination"]["total"], 2);

    // Comments page oldest first.
    let comments = format!("/community/posts/{}/comments", ids[4]);
    for n in 0..3 {
        let reply = as_user(
            &app,
            &user,
            Method::POST,
            &comments,
            Some(&json!({"content": format!("댓글 {n}")})),
        )
        .await;
        assert_eq!(reply.status, 201);
    }
    let page = anon(&app, &format!("{comments}?page=2&limit=2")).await;
    assert_eq!(page.body["comments"][0]["content"], "댓글 2");
    assert_eq!(
        page.body["pagination"],
        json!({"page": 2, "limit": 2, "total": 3, "totalPages": 2})
    );
}

#[tokio::test]
async fn concurrent_views_are_counted_exactly_without_a_hot_row() {
    const VIEWS: usize = 240;
    let app = app().await;
    let user = account(&app, "인기", false).await;
    let post_id = id_of(&create_post(&app, &user, "인기 글", ARTIST).await);
    let path = format!("{}/api/v1/community/posts/{post_id}", app.url);
    let answers = futures::future::join_all((0..VIEWS).map(|_| {
        let request = app.client.get(&path);
        async move {
            let response = request.send().await.expect("GET post");
            assert_eq!(response.status(), 200);
            let body: Value = response.json().await.expect("json");
            body["post"]["views"].as_i64().expect("views")
        }
    }))
    .await;
    let highest = answers.iter().copied().max().unwrap_or_default();
    let distinct = answers
        .iter()
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let mut db = db(&app).await;
    let folded = count(
        &mut db,
        &format!("SELECT views FROM community_posts WHERE id = '{post_id}'"),
    )
    .await;
    let pending = count(&mut db, "SELECT count(*) FROM community_post_view_log").await;
    println!(
        "{VIEWS} concurrent views: highest answer {highest}, {distinct} distinct answers; folded {folded}, pending {pending}"
    );
    assert!(
        distinct > 1 && answers.iter().all(|&v| (1..=VIEWS as i64).contains(&v)),
        "{answers:?}"
    );
    assert_eq!(
        folded + pending,
        VIEWS as i64,
        "every view is logged or folded, once"
    );

    // What the list shows (folded + pending) is exact; a full fold moves everything, exactly.
    let list = anon(&app, "/community/posts").await;
    assert_eq!(list.body["posts"][0]["views"], VIEWS);
    sqlx::query("SELECT community_fold_post_views(1000000)")
        .execute(&mut db)
        .await
        .expect("fold");
    let folded = count(
        &mut db,
        &format!("SELECT views FROM community_posts WHERE id = '{post_id}'"),
    )
    .await;
    let pending = count(&mut db, "SELECT count(*) FROM community_post_view_log").await;
    println!("after a full fold: folded {folded}, pending {pending}");
    assert_eq!((folded, pending), (VIEWS as i64, 0));
    assert_eq!(
        anon(&app, &format!("/community/posts/{post_id}"))
            .await
            .body["post"]["views"],
        VIEWS + 1
    );
}

#[tokio::test]
async fn writes_are_limited_per_user() {
    let app = with_artists(
        spawn_app_with(AppOptions::application().variable("rate_limits", "write=3")).await,
    )
    .await;
    let busy = account(&app, "도배", false).await;
    let calm = account(&app, "차분", false).await;
    for n in 0..3 {
        create_post(&app, &busy, &format!("글 {n}"), ARTIST).await;
    }
    let body = json!({"title": "넷째", "content": "c", "artist_id": ARTIST});
    let response = app
        .client
        .post(format!("{}/api/v1/community/posts", app.url))
        .bearer_auth(&busy.token)
        .json(&body)
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
    create_post(&app, &calm, "다른 사람", ARTIST).await;
    let mut db = db(&app).await;
    assert_eq!(
        count(&mut db, "SELECT count(*) FROM community_posts").await,
        4
    );
    // Reads are not charged to the write limit.
    assert_eq!(anon(&app, "/community/posts").await.status, 200);
}

#[tokio::test]
async fn a_fresh_seed_shows_a_board_with_a_pinned_notice() {
    let app = app().await;
    urr_edge::seed::seed(&app.database.url)
        .await
        .expect("seeding");
    urr_edge::seed::seed(&app.database.url)
        .await
        .expect("seeding twice changes nothing");
    let list = anon(&app, "/community/posts").await;
    assert_eq!(
        list.body["pagination"]["total"],
        urr_edge::seed::POSTS.len()
    );
    assert_eq!(list.body["posts"][0]["is_pinned"], true);
    let with_comments = list.body["posts"]
        .as_array()
        .expect("posts")
        .iter()
        .find(|p| p["comment_count"] == 2)
        .expect("a post with comments");
    let comments = anon(
        &app,
        &format!("/community/posts/{}/comments", id_of(with_comments)),
    )
    .await;
    assert_eq!(comments.body["pagination"]["total"], 2);
}

#[tokio::test]
async fn the_role_reads_the_board_and_changes_it_only_through_its_functions() {
    let app = app().await;
    let user = account(&app, "권한", false).await;
    create_post(&app, &user, "글", ARTIST).await;
    let mut role = PgConnection::connect(&app.database.url_as("urr_community"))
        .await
        .expect("connecting as urr_community");
    assert_eq!(
        count(&mut role, "SELECT count(*) FROM community_posts").await,
        1
    );
    for sql in [
        "UPDATE community_posts SET views = 1000000",
        "DELETE FROM community_comments",
        "INSERT INTO community_post_view_log (post_id) VALUES (gen_random_uuid())",
        "SELECT count(*) FROM users",
        "SELECT count(*) FROM news",
        "SELECT community_fold_post_views(10)",
        "SELECT count(*) FROM admin_audit_log",
    ] {
        assert_permission_denied(&mut role, sql).await;
    }
}

/// Points for writing (contract §2.2, Q7): a post earns 30 and a comment 10 for the author's
/// active membership of the post's artist, in the write's transaction; a member of another
/// artist, an expired member and a non-member earn nothing; a day's awards stop at the cap (10
/// posts, 30 comments a day per membership) while the writes themselves still succeed; deleting
/// a post takes nothing back.
#[tokio::test]
async fn members_earn_points_for_posts_and_comments_up_to_a_daily_cap() {
    let app = with_artists(
        spawn_app_with(AppOptions::application().variable("rate_limits", "write=1000")).await,
    )
    .await;
    let member = account(&app, "팬", false).await;
    let other_fan = account(&app, "다른 팬", false).await;
    let lapsed = account(&app, "만료", false).await;
    let mut db = db(&app).await;
    for (who, artist, expires) in [
        (&member, ARTIST, "1 year"),
        (&other_fan, OTHER_ARTIST, "1 year"),
        (&lapsed, ARTIST, "-1 day"),
    ] {
        sqlx::query(
            "INSERT INTO artist_memberships (user_id, artist_id, status, expires_at) \
             VALUES ($1::uuid, $2::uuid, 'active', now() + $3::interval)",
        )
        .bind(&who.id)
        .bind(artist)
        .bind(expires)
        .execute(&mut db)
        .await
        .expect("a membership");
    }
    let points = |who: &Account| {
        format!(
            "SELECT coalesce(sum(points), 0)::int8 FROM artist_memberships WHERE user_id = '{}'",
            who.id
        )
    };

    let first = id_of(&create_post(&app, &member, "첫 글", ARTIST).await);
    assert_eq!(count(&mut db, &points(&member)).await, 30);
    let comment = json!({"content": "좋아요"});
    let path = format!("/community/posts/{first}/comments");
    let reply = as_user(&app, &member, Method::POST, &path, Some(&comment)).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(count(&mut db, &points(&member)).await, 40);
    // Writing under an artist one is not a member of, or with an expired membership: nothing.
    create_post(&app, &other_fan, "남의 가수", ARTIST).await;
    let reply = as_user(&app, &other_fan, Method::POST, &path, Some(&comment)).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    create_post(&app, &lapsed, "만료된 팬", ARTIST).await;
    assert_eq!(count(&mut db, &points(&other_fan)).await, 0);
    assert_eq!(count(&mut db, &points(&lapsed)).await, 0);

    // The day's post cap: ten awarded posts, then posts still succeed but earn nothing.
    for n in 2..=12 {
        create_post(&app, &member, &format!("글 {n}"), ARTIST).await;
    }
    let awarded = count(
        &mut db,
        &format!(
            "SELECT count(*) FROM membership_point_logs AS l \
               JOIN artist_memberships AS m ON m.id = l.membership_id \
              WHERE m.user_id = '{}' AND l.action_type = 'COMMUNITY_POST'",
            member.id
        ),
    )
    .await;
    println!("posts written 12, awarded {awarded}");
    assert_eq!(awarded, 10);
    assert_eq!(count(&mut db, &points(&member)).await, 10 * 30 + 10);
    let tier: String =
        sqlx::query_scalar("SELECT tier FROM artist_memberships WHERE user_id = $1::uuid")
            .bind(&member.id)
            .fetch_one(&mut db)
            .await
            .expect("tier");
    assert_eq!(tier, "SILVER", "310 points");

    // Deleting a post takes nothing back.
    let reply = as_user(
        &app,
        &member,
        Method::DELETE,
        &format!("/community/posts/{first}"),
        None,
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(count(&mut db, &points(&member)).await, 310);
}
