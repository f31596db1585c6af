//! Components `auth` and `auth-refresh` end to end: sessions, rotation and reuse detection, the
//! JWT negative matrix, cookies and CSRF, password storage, rate limits, and Redis outages.

use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use urr_tests::{
    AppOptions, PrivateRedis, TestApp, access_claims, access_header, sign_claims, spawn_app_with,
    test_signing_key,
};

const WEB_ORIGIN: &str = "http://localhost:3000";
const PASSWORD: &str = "correct horse battery";

async fn app() -> TestApp {
    spawn_app_with(AppOptions::application()).await
}

/// A session as an API client sees it (`X-Token-Delivery: body`).
#[derive(Debug, Clone)]
struct Session {
    user_id: String,
    access: String,
    refresh: String,
}

fn session_from(body: &Value) -> Session {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    Session {
        user_id: text(&body["user"]["id"]),
        access: text(&body["token"]),
        refresh: text(&body["refreshToken"]),
    }
}

async fn send_json(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.expect("request");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn register(app: &TestApp, email: &str) -> Session {
    let (status, body) = send_json(
        app.post("/api/v1/auth/register")
            .header("x-token-delivery", "body")
            .json(&json!({"email": email, "password": PASSWORD, "name": "Kim"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    session_from(&body)
}

async fn login(app: &TestApp, email: &str, password: &str) -> (StatusCode, Value) {
    send_json(
        app.post("/api/v1/auth/login")
            .header("x-token-delivery", "body")
            .json(&json!({"email": email, "password": password})),
    )
    .await
}

async fn refresh(app: &TestApp, refresh_token: &str) -> (StatusCode, Value) {
    send_json(
        app.post("/api/v1/auth/refresh")
            .header("x-token-delivery", "body")
            .json(&json!({"refreshToken": refresh_token})),
    )
    .await
}

async fn me(app: &TestApp, access: &str) -> StatusCode {
    app.get("/api/v1/auth/me")
        .bearer_auth(access)
        .send()
        .await
        .expect("request")
        .status()
}

fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect()
}

fn cookie_value(cookies: &[String], name: &str) -> Option<String> {
    cookies.iter().find_map(|c| {
        c.split(';')
            .next()
            .and_then(|pair| pair.split_once('='))
            .filter(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_full_flow_register_me_refresh_logout_then_refresh_fails() {
    let app = app().await;
    let first = register(&app, "Flow@Example.com").await;
    assert!(
        !first.access.is_empty() && first.refresh.len() == 43,
        "{first:?}"
    );

    let (status, body) = send_json(app.get("/api/auth/me").bearer_auth(&first.access)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["email"], "flow@example.com");
    assert_eq!(body["user"]["role"], "user");
    assert!(
        body["user"]["createdAt"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );

    let (status, body) = refresh(&app, &first.refresh).await;
    assert_eq!(status, 200, "{body}");
    let second = session_from(&body);
    assert_ne!(second.refresh, first.refresh);
    assert_eq!(body["user"]["id"], first.user_id.as_str());
    assert_eq!(me(&app, &second.access).await, 200);

    let (status, body) =
        send_json(app.post("/api/v1/auth/logout").bearer_auth(&second.access)).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = refresh(&app, &second.refresh).await;
    assert_eq!(status, 401, "refresh after logout: {body}");
    assert_eq!(body["code"], "invalid_refresh_token");
    assert_eq!(
        me(&app, &second.access).await,
        401,
        "the logged-out session's access token"
    );

    // Logging in again works, with the same 200 shape.
    let (status, body) = login(&app, "flow@EXAMPLE.com", PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["userId"], first.user_id.as_str());
    assert_eq!(
        me(&app, body["token"].as_str().unwrap_or_default()).await,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reuse_after_the_grace_window_revokes_the_whole_family() {
    let app = spawn_app_with(AppOptions::application().variable("refresh_grace_ms", "1000")).await;
    let first = register(&app, "reuse@example.com").await;
    let (status, body) = refresh(&app, &first.refresh).await;
    assert_eq!(status, 200, "{body}");
    let newest = session_from(&body);
    assert_eq!(me(&app, &newest.access).await, 200);

    tokio::time::sleep(Duration::from_millis(1_300)).await;
    let (status, body) = refresh(&app, &first.refresh).await;
    assert_eq!(status, 401, "replay after the grace window: {body}");

    let (status, body) = refresh(&app, &newest.refresh).await;
    assert_eq!(status, 401, "the newest token dies with its family: {body}");
    assert_eq!(
        me(&app, &newest.access).await,
        401,
        "live access token of the family"
    );
    assert_eq!(
        me(&app, &first.access).await,
        401,
        "older access token of the family"
    );

    // Another session of the same user is untouched.
    let (status, body) = login(&app, "reuse@example.com", PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        me(&app, body["token"].as_str().unwrap_or_default()).await,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inside_the_grace_window_the_same_child_comes_back_and_two_generations_back_fails() {
    let app = app().await;
    let first = register(&app, "tabs@example.com").await;
    let (status, body) = refresh(&app, &first.refresh).await;
    assert_eq!(status, 200, "{body}");
    let child = session_from(&body);
    let (status, body) = refresh(&app, &first.refresh).await;
    assert_eq!(status, 200, "second tab inside the grace window: {body}");
    assert_eq!(session_from(&body).refresh, child.refresh, "the same child");

    let (status, body) = refresh(&app, &child.refresh).await;
    assert_eq!(status, 200, "{body}");
    let grandchild = session_from(&body);
    let (status, _) = refresh(&app, &first.refresh).await;
    assert_eq!(status, 401, "two generations back always fails");
    let (status, _) = refresh(&app, &grandchild.refresh).await;
    assert_eq!(status, 401, "and revokes the family");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_refreshes_with_one_token_never_fork_the_family() {
    const CONCURRENT: usize = 16;
    let app = app().await;
    let first = register(&app, "race@example.com").await;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(CONCURRENT));
    let attempts = (0..CONCURRENT).map(|_| {
        let barrier = barrier.clone();
        let request = app
            .post("/api/v1/auth/refresh")
            .header("x-token-delivery", "body")
            .json(&json!({"refreshToken": first.refresh}));
        async move {
            barrier.wait().await;
            send_json(request).await
        }
    });
    let results = futures::future::join_all(attempts).await;
    let ok: Vec<String> = results
        .iter()
        .filter(|(s, _)| *s == 200)
        .map(|(_, b)| session_from(b).refresh)
        .collect();
    let refused = results.iter().filter(|(s, _)| *s == 401).count();
    let mut children = ok.clone();
    children.sort();
    children.dedup();
    let rows: i64 = {
        let pool = sqlx::PgPool::connect(&app.database.url).await.expect("db");
        sqlx::query_scalar("SELECT count(*) FROM refresh_tokens WHERE parent_hash IS NOT NULL")
            .fetch_one(&pool)
            .await
            .expect("count")
    };
    println!(
        "concurrent refreshes: {CONCURRENT} sent, {} ok, {refused} refused, {} distinct children, {rows} child rows",
        ok.len(),
        children.len()
    );
    assert_eq!(
        ok.len() + refused,
        CONCURRENT,
        "only 200 or 401: {results:?}"
    );
    assert_eq!(children.len(), 1, "exactly one child for the family");
    assert_eq!(rows, 1, "exactly one child row");
    assert!(
        ok.len() >= 2,
        "a real contest: several requests must have raced for the token"
    );
    let (status, _) = refresh(&app, &children[0]).await;
    assert_eq!(status, 200, "the one child is live");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_jwt_negative_matrix_is_rejected_completely() {
    use urr_tokens::jwt_simple::prelude::*;
    let app = app().await;
    let session = register(&app, "matrix@example.com").await;
    let (fid, user) = {
        let pool = sqlx::PgPool::connect(&app.database.url).await.expect("db");
        let fid: String = sqlx::query_scalar("SELECT id::text FROM refresh_families LIMIT 1")
            .fetch_one(&pool)
            .await
            .expect("family");
        (fid, session.user_id.clone())
    };
    let b64 =
        |v: &Value| Base64UrlSafeNoPadding::encode_to_string(v.to_string()).unwrap_or_default();
    let good = access_claims(&user, &fid);
    let bend = |changes: Value| {
        let mut claims = good.clone();
        for (k, v) in changes.as_object().into_iter().flatten() {
            if v.is_null() {
                claims.as_object_mut().map(|m| m.remove(k));
            } else {
                claims[k] = v.clone();
            }
        }
        claims
    };
    let now = good["iat"].as_u64().unwrap_or_default();
    let hs256 = {
        let key = HS256Key::from_bytes(&test_signing_key().public_key_bytes())
            .with_key_id(test_signing_key().kid());
        let claims = Claims::with_custom_claims(
            json!({"email":"x@y.z","role":"admin","typ":"access","fid":fid}),
            Duration::from_secs(600),
        )
        .with_issuer(urr_tokens::ISSUER)
        .with_audience(urr_tokens::AUDIENCE)
        .with_subject(&user);
        key.authenticate(claims).expect("hs256 token")
    };
    let mut tampered = sign_claims(&access_header(), &good);
    let last = if tampered.ends_with('A') { 'B' } else { 'A' };
    tampered.pop();
    tampered.push(last);
    let header_with =
        |alg: &str| json!({"alg": alg, "typ": "JWT", "kid": test_signing_key().kid()});
    let cases: Vec<(&str, String)> = vec![
        (
            "alg=none",
            format!("{}.{}.", b64(&header_with("none")), b64(&good)),
        ),
        (
            "alg=noNE",
            format!("{}.{}.", b64(&header_with("noNE")), b64(&good)),
        ),
        ("alg=none, signed", sign_claims(&header_with("none"), &good)),
        ("HS256 signed with the public key", hs256),
        (
            "wrong aud",
            sign_claims(&access_header(), &bend(json!({"aud": "other-api"}))),
        ),
        (
            "wrong iss",
            sign_claims(&access_header(), &bend(json!({"iss": "evil"}))),
        ),
        (
            "expired beyond leeway",
            sign_claims(
                &access_header(),
                &bend(json!({"exp": now - 120, "iat": now - 900, "nbf": now - 900})),
            ),
        ),
        (
            "future nbf",
            sign_claims(&access_header(), &bend(json!({"nbf": now + 600}))),
        ),
        (
            "future iat",
            sign_claims(&access_header(), &bend(json!({"iat": now + 600}))),
        ),
        (
            "no exp",
            sign_claims(&access_header(), &bend(json!({"exp": null}))),
        ),
        (
            "unknown kid",
            sign_claims(&json!({"alg":"EdDSA","typ":"JWT","kid":"nope"}), &good),
        ),
        (
            "no kid",
            sign_claims(&json!({"alg":"EdDSA","typ":"JWT"}), &good),
        ),
        ("tampered signature", tampered),
        (
            "oversized token",
            sign_claims(&access_header(), &bend(json!({"pad": "x".repeat(4096)}))),
        ),
        ("refresh token as access token", session.refresh.clone()),
        (
            "typ=refresh",
            sign_claims(&access_header(), &bend(json!({"typ": "refresh"}))),
        ),
        (
            "entry token (typ=entry)",
            sign_claims(&access_header(), &bend(json!({"typ": "entry"}))),
        ),
        (
            "no typ",
            sign_claims(&access_header(), &bend(json!({"typ": null}))),
        ),
        (
            "role escalation to root",
            sign_claims(&access_header(), &bend(json!({"role": "root"}))),
        ),
        ("garbage", "a.b.c".to_string()),
    ];
    // Positive control: the same claims, untouched, are accepted, so every refusal is the bend's.
    assert_eq!(
        me(&app, &sign_claims(&access_header(), &good)).await,
        200,
        "control"
    );
    let mut rejected = 0;
    for (name, token) in &cases {
        let status = me(&app, token).await;
        if status == 401 {
            rejected += 1;
        } else {
            println!("NOT rejected: {name} -> {status}");
        }
    }
    println!("jwt negative matrix: {rejected}/{} rejected", cases.len());
    assert_eq!(rejected, cases.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_cookies_carry_the_contract_attributes_and_tokens_stay_out_of_bodies() {
    let app = app().await;
    let response = app
        .post("/api/v1/auth/register")
        .json(&json!({"email": "cookie@example.com", "password": PASSWORD, "name": "Kim"}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 201);
    let cookies = set_cookies(&response);
    let body: Value = response.json().await.expect("json");
    assert!(
        body.get("token").is_none() && body.get("refreshToken").is_none(),
        "{body}"
    );
    let refresh_line = cookies
        .iter()
        .find(|c| c.starts_with("__Host-urr_refresh="))
        .expect("refresh cookie");
    let access_line = cookies
        .iter()
        .find(|c| c.starts_with("__Host-urr_access="))
        .expect("access cookie");
    for attribute in [
        "Secure",
        "HttpOnly",
        "SameSite=Strict",
        "Path=/",
        "Max-Age=604800",
    ] {
        assert!(
            refresh_line.split("; ").any(|a| a == attribute),
            "{refresh_line} lacks {attribute}"
        );
    }
    for attribute in [
        "Secure",
        "HttpOnly",
        "SameSite=Lax",
        "Path=/",
        "Max-Age=1800",
    ] {
        assert!(
            access_line.split("; ").any(|a| a == attribute),
            "{access_line} lacks {attribute}"
        );
    }
    assert!(
        !cookies
            .iter()
            .any(|c| c.to_ascii_lowercase().contains("domain="))
    );

    // Both our cookie and the old name authenticate.
    let access = cookie_value(&cookies, "__Host-urr_access").expect("access");
    for name in ["__Host-urr_access", "access_token"] {
        let status = app
            .get("/api/auth/me")
            .header("cookie", format!("{name}={access}"))
            .send()
            .await
            .expect("request")
            .status();
        assert_eq!(status, 200, "cookie {name}");
    }
    // The web client's bodyless refresh from its own origin, with the old refresh cookie name.
    let refresh_token = cookie_value(&cookies, "__Host-urr_refresh").expect("refresh");
    let response = app
        .post("/api/v1/auth/refresh")
        .header("origin", WEB_ORIGIN)
        .header("cookie", format!("refresh_token={refresh_token}"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let rotated = set_cookies(&response);
    assert!(
        rotated
            .iter()
            .any(|c| c.starts_with("__Host-urr_refresh=") && c.contains("SameSite=Strict"))
    );
    // Logout clears both.
    let response = app
        .post("/api/v1/auth/logout")
        .header("origin", WEB_ORIGIN)
        .header("cookie", format!("__Host-urr_access={access}"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let cleared = set_cookies(&response);
    assert_eq!(
        cleared.iter().filter(|c| c.contains("Max-Age=0")).count(),
        2,
        "{cleared:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csrf_foreign_origins_are_refused_and_the_web_apps_bodyless_posts_pass() {
    let app = app().await;
    let response = app
        .post("/api/v1/auth/register")
        .json(&json!({"email": "csrf@example.com", "password": PASSWORD, "name": "Kim"}))
        .send()
        .await
        .expect("request");
    let cookies = set_cookies(&response);
    let refresh_cookie = format!(
        "__Host-urr_refresh={}",
        cookie_value(&cookies, "__Host-urr_refresh").expect("refresh")
    );
    let refresh_with = |headers: &[(&str, &str)]| {
        let mut request = app
            .post("/api/v1/auth/refresh")
            .header("cookie", &refresh_cookie);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        request
    };
    let mut refused = 0;
    let foreign: [&[(&str, &str)]; 4] = [
        &[("origin", "https://evil.example")],
        &[("origin", "null")],
        &[("sec-fetch-site", "cross-site")],
        &[],
    ];
    for headers in foreign {
        let (status, body) = send_json(refresh_with(headers)).await;
        assert_eq!(status, 403, "{headers:?}: {body}");
        assert!(
            body["code"]
                .as_str()
                .is_some_and(|c| c.starts_with("csrf_")),
            "{body}"
        );
        refused += 1;
    }
    println!("csrf: {refused}/{} foreign requests refused", foreign.len());
    // A foreign page cannot log a victim in either.
    let (status, _) = send_json(
        app.post("/api/v1/auth/login")
            .header("origin", "https://evil.example")
            .json(&json!({"email": "csrf@example.com", "password": PASSWORD})),
    )
    .await;
    assert_eq!(status, 403);
    // The web app's bodyless POST (no Content-Type) from the allowed origin passes.
    let (status, body) = send_json(refresh_with(&[
        ("origin", WEB_ORIGIN),
        ("sec-fetch-site", "same-site"),
    ]))
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_passwords_are_argon2id_v19_at_or_above_the_owasp_floor() {
    let app = app().await;
    register(&app, "hash1@example.com").await;
    register(&app, "hash2@example.com").await;
    let pool = sqlx::PgPool::connect(&app.database.url).await.expect("db");
    let hashes: Vec<String> = sqlx::query_scalar("SELECT password_hash FROM users")
        .fetch_all(&pool)
        .await
        .expect("hashes");
    assert_eq!(hashes.len(), 2);
    for hash in &hashes {
        assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
        let params = hash.split('$').nth(3).unwrap_or_default();
        let value = |key: &str| {
            params
                .split(',')
                .find_map(|p| p.strip_prefix(key))
                .and_then(|v| v.parse::<u32>().ok())
                .unwrap_or(0)
        };
        assert!(
            value("m=") >= 19_456 && value("t=") >= 2 && value("p=") == 1,
            "{hash}"
        );
        assert!(!hash.contains(PASSWORD));
    }
    assert_ne!(hashes[0], hashes[1], "salted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthenticated_is_401_forbidden_is_403_and_bad_logins_look_alike() {
    let app = app().await;
    let session = register(&app, "kim@example.com").await;
    let (status, body) = send_json(app.get("/api/v1/auth/me")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthenticated"))
    );
    let (status, _) = send_json(
        app.post("/api/v1/auth/logout")
            .header("origin", "https://evil.example")
            .header("cookie", format!("__Host-urr_access={}", session.access)),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        me(&app, &session.access).await,
        200,
        "the refused logout changed nothing"
    );

    let (wrong_status, wrong) = login(&app, "kim@example.com", "not the password").await;
    let (unknown_status, unknown) = login(&app, "nobody@example.com", "not the password").await;
    assert_eq!(wrong_status, 401);
    assert_eq!((wrong_status, &wrong), (unknown_status, &unknown));
    assert_eq!(wrong["error"], "Invalid email or password");

    let (status, body) = send_json(
        app.post("/api/v1/auth/register")
            .json(&json!({"email": "KIM@example.com", "password": PASSWORD, "name": "Kim"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        body["error"],
        "Registration failed. Please try again or login."
    );

    let (status, body) = send_json(
        app.post("/api/v1/auth/verify-token")
            .json(&json!({"token": session.access})),
    )
    .await;
    assert_eq!(
        (status, &body["valid"]),
        (StatusCode::OK, &json!(true)),
        "{body}"
    );
    let (status, body) = send_json(
        app.post("/api/v1/auth/verify-token")
            .json(&json!({"token": "x.y.z"})),
    )
    .await;
    assert_eq!(
        (status, &body["valid"]),
        (StatusCode::OK, &json!(false)),
        "{body}"
    );
    let (status, _) = send_json(app.post("/api/v1/auth/verify-token").json(&json!({}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_limit_is_429_with_retry_after_per_ip_and_per_account() {
    let app = spawn_app_with(AppOptions::application().variable("rate_limits", "auth=3")).await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let response = app
            .post("/api/v1/auth/login")
            .header("content-type", "application/json")
            .body("{")
            .send()
            .await
            .expect("request");
        let status = response.status();
        if status == 429 {
            assert!(
                response.headers().get("retry-after").is_some(),
                "Retry-After on every 429"
            );
            let body: Value = response.json().await.expect("json");
            assert!(
                body["retryAfter"].as_u64().is_some_and(|s| s >= 1),
                "{body}"
            );
        }
        statuses.push(status.as_u16());
    }
    println!("per-IP auth limit 3/min: {statuses:?}");
    assert_eq!(statuses, vec![400, 400, 400, 429, 429]);

    // Per-account throttle: five failures, then the account waits (whoever asks).
    let app = spawn_app_with(AppOptions::application().variable("rate_limits", "auth=1000")).await;
    register(&app, "throttle@example.com").await;
    let mut statuses = Vec::new();
    for _ in 0..7 {
        let response = app
            .post("/api/v1/auth/login")
            .json(&json!({"email": "throttle@example.com", "password": "wrong password"}))
            .send()
            .await
            .expect("request");
        if response.status() == 429 {
            assert!(response.headers().get("retry-after").is_some());
        }
        statuses.push(response.status().as_u16());
    }
    println!("per-account failures: {statuses:?}");
    assert_eq!(statuses, vec![401, 401, 401, 401, 401, 429, 429]);
    let (status, _) = login(&app, "throttle@example.com", PASSWORD).await;
    assert_eq!(status, 429, "even the right password waits");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_killed_login_register_and_refresh_fail_closed_with_503() {
    let mut redis = PrivateRedis::start().expect("private redis");
    let app = spawn_app_with(AppOptions::application().redis(&redis.url())).await;
    let session = register(&app, "outage@example.com").await;
    redis.kill();
    let attempts = [
        app.post("/api/v1/auth/login")
            .json(&json!({"email": "outage@example.com", "password": PASSWORD})),
        app.post("/api/v1/auth/register")
            .json(&json!({"email": "new@example.com", "password": PASSWORD, "name": "N"})),
        app.post("/api/v1/auth/refresh")
            .json(&json!({"refreshToken": session.refresh})),
    ];
    for request in attempts {
        let response = request.send().await.expect("request");
        assert_eq!(response.status(), 503);
        assert!(response.headers().get("retry-after").is_some());
    }
    // Reads by a valid token go on; a write by a token that might be revoked does not.
    assert_eq!(me(&app, &session.access).await, 200);
    redis.restart().expect("restart");
    let mut status = StatusCode::SERVICE_UNAVAILABLE;
    for _ in 0..50 {
        status = login(&app, "outage@example.com", PASSWORD).await.0;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200, "login recovers once Redis is back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_a_4xx_with_a_code_and_stores_nothing() {
    let app = app().await;
    let big = format!(
        r#"{{"email":"big@example.com","password":"{PASSWORD}","name":"{}"}}"#,
        "x".repeat(70 * 1024)
    );
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("malformed json", b"{\"email\":".to_vec(), 400),
        ("not an object", b"[]".to_vec(), 400),
        (
            "wrong type",
            br#"{"email":1,"password":"12345678","name":"n"}"#.to_vec(),
            400,
        ),
        (
            "missing field",
            br#"{"email":"a@b.co","name":"n"}"#.to_vec(),
            400,
        ),
        (
            "short password",
            br#"{"email":"a@b.co","password":"1234","name":"n"}"#.to_vec(),
            400,
        ),
        (
            "bad email",
            br#"{"email":"nope","password":"12345678","name":"n"}"#.to_vec(),
            400,
        ),
        (
            "invalid utf-8",
            b"{\"email\":\"a\xff@b.co\",\"password\":\"12345678\",\"name\":\"n\"}".to_vec(),
            400,
        ),
        ("over 64 KiB", big.into_bytes(), 413),
        (
            "nested deeper than the limit",
            format!(
                r#"{{"email":"a@b.co","password":"12345678","name":"n","x":{}{}}}"#,
                "[".repeat(urr_api::body::MAX_JSON_DEPTH),
                "]".repeat(urr_api::body::MAX_JSON_DEPTH)
            )
            .into_bytes(),
            400,
        ),
    ];
    for (name, body, expected) in cases {
        let (status, reply) = send_json(
            app.post("/api/v1/auth/register")
                .header("content-type", "application/json")
                .body(body),
        )
        .await;
        assert_eq!(status.as_u16(), expected, "{name}: {reply}");
        assert!(
            reply["code"].as_str().is_some_and(|c| !c.is_empty()),
            "{name}: {reply}"
        );
    }
    let pool = sqlx::PgPool::connect(&app.database.url).await.expect("db");
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(users, 0, "nothing stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_all_ends_every_session_of_the_user() {
    let app = app().await;
    let first = register(&app, "all@example.com").await;
    let (status, body) = login(&app, "all@example.com", PASSWORD).await;
    assert_eq!(status, 200);
    let second = session_from(&body);
    let (status, _) = send_json(
        app.post("/api/v1/auth/logout?all=true")
            .bearer_auth(&second.access),
    )
    .await;
    assert_eq!(status, 200);
    for session in [&first, &second] {
        assert_eq!(me(&app, &session.access).await, 401);
        assert_eq!(refresh(&app, &session.refresh).await.0, 401);
    }
}

/// `urr-edge seed` with URR_ADMIN_EMAIL / URR_ADMIN_PASSWORD: an admin who can log in, created
/// once; a second run changes nothing; a new password or a demoted account is put right.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeding_the_admin_creates_it_once_and_it_logs_in_as_admin() {
    use urr_edge::seed::{AdminOutcome, seed_admin};
    let app = app().await;
    let url = &app.database.url;
    let email = "Admin@Example.com";

    assert_eq!(
        seed_admin(url, email, PASSWORD).await.expect("seed"),
        AdminOutcome::Created
    );
    assert_eq!(
        seed_admin(url, email, PASSWORD).await.expect("again"),
        AdminOutcome::Unchanged
    );
    let (status, body) = login(&app, "admin@example.com", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["role"], "admin", "{body}");

    let new_password = "another horse battery";
    assert_eq!(
        seed_admin(url, email, new_password)
            .await
            .expect("new password"),
        AdminOutcome::Updated
    );
    assert_eq!(
        login(&app, email, PASSWORD).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(login(&app, email, new_password).await.0, StatusCode::OK);

    // Bad configuration is refused before anything is written.
    assert!(seed_admin(url, "not-an-email", PASSWORD).await.is_err());
    assert!(seed_admin(url, "short@example.com", "short").await.is_err());
    let pool = sqlx::PgPool::connect(url).await.expect("db");
    let admins: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE role = 'admin'")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(admins, 1, "exactly one admin account");
}

/// OWASP C17, property level: fields a client must not write are ignored at registration.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_ignores_fields_a_client_must_not_set() {
    let app = app().await;
    let chosen_id = uuid::Uuid::new_v4().to_string();
    let (status, body) = send_json(
        app.post("/api/v1/auth/register")
            .header("x-token-delivery", "body")
            .json(&json!({
                "email": "mass@example.com", "password": PASSWORD, "name": "Kim",
                "role": "admin", "id": chosen_id, "userId": chosen_id,
                "createdAt": "2000-01-01T00:00:00Z",
            })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["user"]["role"], "user", "{body}");
    assert_ne!(body["user"]["id"], chosen_id, "{body}");
    let session = session_from(&body);
    let (status, me) = send_json(app.get("/api/v1/auth/me").bearer_auth(&session.access)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["user"]["role"], "user");
    assert!(
        !me["user"]["createdAt"]
            .as_str()
            .is_some_and(|t| t.starts_with("2000")),
        "{me}"
    );
    // And the admin routes say so.
    let (status, _) = send_json(
        app.get("/api/v1/admin/dashboard")
            .bearer_auth(&session.access),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
