//! `POST /auth/google` end to end: ID tokens minted by a test key server on loopback (never
//! Google), verified by component `auth` against the key set it fetches and caches in Redis;
//! the negative matrix, account creation (once, under a race), linking by email, the subject
//! mismatch, the key cache and its unknown-kid refetch, and the switch that turns it off.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Connection as _;
use urr_tests::google::{GoogleKeyServer, KID, ROTATED_KID};
use urr_tests::{AppOptions, TestApp, count, spawn_app_with};

const SIGN_IN: &str = "/api/v1/auth/google";
const PASSWORD: &str = "correct horse battery";

async fn app_with_keys() -> (TestApp, GoogleKeyServer) {
    let keys = GoogleKeyServer::start().await;
    let app = spawn_app_with(AppOptions::application().google(&keys)).await;
    (app, keys)
}

/// Signs in with `credential` (tokens in the body): status, body and the Set-Cookie lines.
async fn sign_in(app: &TestApp, credential: &str) -> (StatusCode, Value, Vec<String>) {
    sign_in_body(app, &json!({ "credential": credential }).to_string()).await
}

async fn sign_in_body(app: &TestApp, body: &str) -> (StatusCode, Value, Vec<String>) {
    let response = app
        .post(SIGN_IN)
        .header("x-token-delivery", "body")
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("POST /auth/google");
    let status = response.status();
    let cookies = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect();
    (
        status,
        response.json().await.unwrap_or(Value::Null),
        cookies,
    )
}

async fn db(app: &TestApp) -> sqlx::PgConnection {
    sqlx::PgConnection::connect(&app.database.url)
        .await
        .expect("test database")
}

async fn me(app: &TestApp, access: &str) -> (StatusCode, Value) {
    let response = app
        .get("/api/v1/auth/me")
        .bearer_auth(access)
        .send()
        .await
        .expect("GET /auth/me");
    (
        response.status(),
        response.json().await.unwrap_or(Value::Null),
    )
}

fn token_for(sub: &str, email: &str) -> String {
    GoogleKeyServer::mint(&GoogleKeyServer::claims(sub, email))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_google_user_gets_one_account_and_a_working_session() {
    let (app, keys) = app_with_keys().await;
    let (status, body, cookies) = sign_in(&app, &token_for("1001", "New.User@Example.com")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["message"], "Google login successful");
    assert_eq!(body["user"]["email"], "new.user@example.com");
    assert_eq!(body["user"]["name"], "Kim Google");
    assert_eq!(body["user"]["role"], "user");
    assert_eq!(
        body["user"]["picture"],
        "https://lh3.googleusercontent.com/a/test"
    );
    assert_eq!(body["user"]["userId"], body["user"]["id"]);
    assert!(
        cookies.iter().any(|c| c.starts_with("__Host-urr_access=")),
        "{cookies:?}"
    );
    assert!(
        cookies.iter().any(|c| c.starts_with("__Host-urr_refresh=")),
        "{cookies:?}"
    );
    let user_id = body["user"]["id"].as_str().expect("id").to_string();

    // The session works on a user route, and its refresh token rotates like any other.
    let (status, shown) = me(&app, body["token"].as_str().expect("token")).await;
    assert_eq!(
        (status, shown["user"]["id"].as_str()),
        (StatusCode::OK, Some(user_id.as_str()))
    );
    let refreshed = app
        .post("/api/v1/auth/refresh")
        .header("x-token-delivery", "body")
        .json(&json!({ "refreshToken": body["refreshToken"] }))
        .send()
        .await
        .expect("refresh");
    assert_eq!(refreshed.status(), StatusCode::OK);

    // Signing in again is the same account; the key set was fetched once (cached for max-age).
    let (status, again, _) = sign_in(&app, &token_for("1001", "new.user@example.com")).await;
    assert_eq!(
        (status, again["user"]["id"].as_str()),
        (StatusCode::OK, Some(user_id.as_str()))
    );
    assert_eq!(
        keys.fetches(),
        1,
        "the second sign-in must use the cached keys"
    );

    let mut db = db(&app).await;
    assert_eq!(count(&mut db, "SELECT count(*) FROM users").await, 1);
    assert_eq!(
        count(
            &mut db,
            "SELECT count(*) FROM users WHERE google_id = '1001' AND password_hash IS NULL"
        )
        .await,
        1
    );
    assert_eq!(
        count(&mut db, "SELECT count(*) FROM refresh_families").await,
        2
    );

    // A Google-only account has no password: password login is the usual 401.
    let login = app
        .post("/api/v1/auth/login")
        .json(&json!({"email": "new.user@example.com", "password": PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), StatusCode::UNAUTHORIZED);
    let login: Value = login.json().await.expect("json");
    assert_eq!(login["code"], "invalid_credentials");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_sign_ins_of_one_google_user_create_one_account() {
    const RACERS: usize = 8;
    let (app, keys) = app_with_keys().await;
    // Warm the key cache with someone else, so every racer goes straight to the account.
    assert_eq!(
        sign_in(&app, &token_for("warm", "warm@example.com"))
            .await
            .0,
        StatusCode::OK
    );
    let token = token_for("2002", "racer@example.com");

    // A real contest: with `users` locked against writes, every racer that reaches Postgres
    // finds no account and stops at its insert; the lock goes once they all wait there.
    let mut gate = db(&app).await;
    sqlx::query("BEGIN")
        .execute(&mut gate)
        .await
        .expect("begin");
    sqlx::query("LOCK TABLE users IN SHARE MODE")
        .execute(&mut gate)
        .await
        .expect("lock");
    let racers = futures::future::join_all((0..RACERS).map(|_| sign_in(&app, &token)));
    let waiting = async {
        let mut watcher = db(&app).await;
        let expected = (urr_tests::TEST_PG_POOL_MAX as usize).min(RACERS) as i64;
        loop {
            let blocked = count(
                &mut watcher,
                "SELECT count(*) FROM pg_locks WHERE relation = 'users'::regclass AND NOT granted \
                 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            )
            .await;
            if blocked >= expected {
                break blocked;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    };
    let (answers, blocked) = futures::future::join(racers, async {
        let blocked = waiting.await;
        sqlx::query("COMMIT")
            .execute(&mut gate)
            .await
            .expect("commit");
        blocked
    })
    .await;

    let ids: std::collections::BTreeSet<String> = answers
        .iter()
        .map(|(status, body, _)| {
            assert_eq!(*status, StatusCode::OK, "{body}");
            body["user"]["id"].as_str().expect("id").to_string()
        })
        .collect();
    let mut db = db(&app).await;
    let accounts = count(
        &mut db,
        "SELECT count(*) FROM users WHERE google_id = '2002'",
    )
    .await;
    let families = count(
        &mut db,
        "SELECT count(*) FROM refresh_families f JOIN users u ON u.id = f.user_id \
         WHERE u.google_id = '2002'",
    )
    .await;
    println!(
        "{RACERS} concurrent first sign-ins, {blocked} at the insert at once: {accounts} account(s), \
         {} distinct id(s), {families} sessions",
        ids.len()
    );
    assert!(
        blocked >= 2,
        "no contest: {blocked} racer(s) reached the insert together"
    );
    assert_eq!((accounts, ids.len()), (1, 1));
    assert_eq!(families, RACERS as i64, "every racer got its own session");
    assert_eq!(keys.fetches(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_password_account_is_linked_by_email_and_another_subject_is_refused() {
    let (app, _keys) = app_with_keys().await;
    let registered = app
        .post("/api/v1/auth/register")
        .header("x-token-delivery", "body")
        .json(&json!({"email": "Linked@Example.com", "password": PASSWORD, "name": "Kim"}))
        .send()
        .await
        .expect("register");
    assert_eq!(registered.status(), StatusCode::CREATED);
    let registered: Value = registered.json().await.expect("json");
    let user_id = registered["user"]["id"].as_str().expect("id").to_string();

    // Case-insensitive: Google's address in another case links the same account.
    let (status, body, _) = sign_in(&app, &token_for("3003", "LINKED@example.COM")).await;
    assert_eq!(
        (status, body["user"]["id"].as_str()),
        (StatusCode::OK, Some(user_id.as_str())),
        "{body}"
    );
    assert_eq!(
        body["user"]["name"], "Kim",
        "linking keeps the account's own name"
    );
    let mut db = db(&app).await;
    assert_eq!(
        count(
            &mut db,
            &format!("SELECT count(*) FROM users WHERE id = '{user_id}' AND google_id = '3003'")
        )
        .await,
        1
    );
    // The password still works after linking.
    let login = app
        .post("/api/v1/auth/login")
        .json(&json!({"email": "linked@example.com", "password": PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), StatusCode::OK);

    // Another Google account claiming the same address: 409, nothing changes.
    let families = count(&mut db, "SELECT count(*) FROM refresh_families").await;
    let (status, body, cookies) = sign_in(&app, &token_for("4004", "linked@example.com")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("google_account_mismatch")),
        "{body}"
    );
    assert!(cookies.is_empty(), "{cookies:?}");
    assert_eq!(count(&mut db, "SELECT count(*) FROM users").await, 1);
    assert_eq!(
        count(
            &mut db,
            "SELECT count(*) FROM users WHERE google_id = '3003'"
        )
        .await,
        1
    );
    assert_eq!(
        count(&mut db, "SELECT count(*) FROM refresh_families").await,
        families
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_token_or_body_is_refused_and_creates_nothing() {
    let (app, _keys) = app_with_keys().await;
    let good = GoogleKeyServer::claims("5005", "matrix@example.com");
    let with = |change: &dyn Fn(&mut Value)| {
        let mut claims = good.clone();
        change(&mut claims);
        GoogleKeyServer::mint(&claims)
    };
    let b64 = |v: &Value| {
        use ct_codecs::Encoder as _;
        ct_codecs::Base64UrlSafeNoPadding::encode_to_string(v.to_string()).expect("b64")
    };
    let valid = GoogleKeyServer::mint(&good);
    let parts: Vec<&str> = valid.split('.').collect();
    let mut other = good.clone();
    other["email"] = json!("attacker@example.com");
    let tampered = format!("{}.{}.{}", parts[0], b64(&other), parts[2]);
    let unsigned = format!("{}.{}.", b64(&json!({"alg": "none", "kid": KID})), parts[1]);
    let now = good["iat"].as_u64().expect("iat");

    let tokens: Vec<(&str, String, StatusCode, &str)> = vec![
        (
            "wrong audience",
            with(&|c| c["aud"] = json!("other-client.apps.googleusercontent.com")),
            StatusCode::UNAUTHORIZED,
            "invalid_google_token",
        ),
        (
            "wrong issuer",
            with(&|c| c["iss"] = json!("https://accounts.evil.example")),
            StatusCode::UNAUTHORIZED,
            "invalid_google_token",
        ),
        (
            "expired",
            with(&|c| {
                c["iat"] = json!(now - 7200);
                c["exp"] = json!(now - 3600);
            }),
            StatusCode::UNAUTHORIZED,
            "invalid_google_token",
        ),
        (
            "issued in the future",
            with(&|c| {
                c["iat"] = json!(now + 600);
                c["exp"] = json!(now + 4200);
            }),
            StatusCode::UNAUTHORIZED,
            "invalid_google_token",
        ),
        (
            "unsigned (alg none)",
            unsigned,
            StatusCode::UNAUTHORIZED,
            "invalid_google_token",
        ),
        (
            "HS256 keyed with the public key",
            GoogleKeyServer::hs256_with_public_key(&good),
            StatusCode::UNAUTHORIZED,
            "invalid_google_token",
        ),
        (
            "unknown kid",
            GoogleKeyServer::sign(&json!({"alg": "RS256", "kid": "forged-kid"}), &good),
            StatusCode::UNAUTHORIZED,
            "invalid_google_token",
        ),
        (
            "tampered payload",
            tampered,
            StatusCode::UNAUTHORIZED,
            "invalid_google_token",
        ),
        (
            "unverified email",
            with(&|c| c["email_verified"] = json!(false)),
            StatusCode::UNAUTHORIZED,
            "email_not_verified",
        ),
        (
            "no email",
            with(&|c| c["email"] = json!(null)),
            StatusCode::UNAUTHORIZED,
            "invalid_google_token",
        ),
        (
            "not a JWT",
            "not-a-token".into(),
            StatusCode::UNAUTHORIZED,
            "invalid_google_token",
        ),
        (
            "garbage parts",
            "%%.%%.%%".into(),
            StatusCode::UNAUTHORIZED,
            "invalid_google_token",
        ),
    ];
    for (case, token, status, code) in &tokens {
        let (got, body, cookies) = sign_in(&app, token).await;
        assert_eq!(
            (got, body["code"].as_str()),
            (*status, Some(*code)),
            "{case}: {body}"
        );
        assert!(cookies.is_empty(), "{case}: {cookies:?}");
    }
    let bodies: [(&str, &str, StatusCode, &str); 5] = [
        (
            "empty object",
            "{}",
            StatusCode::BAD_REQUEST,
            "missing_field",
        ),
        (
            "blank credential",
            r#"{"credential":"  "}"#,
            StatusCode::BAD_REQUEST,
            "missing_field",
        ),
        (
            "credential not a string",
            r#"{"credential":42}"#,
            StatusCode::BAD_REQUEST,
            "invalid_type",
        ),
        (
            "not JSON",
            "credential=abc",
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            "a JSON array",
            "[]",
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
    ];
    for (case, body, status, code) in bodies {
        let (got, answer, _) = sign_in_body(&app, body).await;
        assert_eq!(
            (got, answer["code"].as_str()),
            (status, Some(code)),
            "{case}: {answer}"
        );
    }
    println!(
        "refused {} bad tokens and {} bad bodies",
        tokens.len(),
        bodies.len()
    );

    let mut db = db(&app).await;
    assert_eq!(count(&mut db, "SELECT count(*) FROM users").await, 0);
    assert_eq!(
        count(&mut db, "SELECT count(*) FROM refresh_families").await,
        0
    );
    // The same claims, properly signed, do sign in: the refusals above were the changes alone.
    assert_eq!(sign_in(&app, &valid).await.0, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_kid_refetches_the_keys_at_most_once_per_interval() {
    let (app, keys) = app_with_keys().await;
    let claims = GoogleKeyServer::claims("6006", "kid@example.com");
    assert_eq!(
        sign_in(&app, &GoogleKeyServer::mint(&claims)).await.0,
        StatusCode::OK
    );
    assert_eq!(keys.fetches(), 1);

    // A forged kid makes one refetch; more forged kids within the interval make none.
    for attempt in 0..5 {
        let forged = GoogleKeyServer::sign(
            &json!({"alg": "RS256", "kid": format!("forged-{attempt}")}),
            &claims,
        );
        let (status, body, _) = sign_in(&app, &forged).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_google_token"))
        );
    }
    println!("five unknown kids: {} fetches in all", keys.fetches());
    assert_eq!(keys.fetches(), 2, "one refetch for five unknown kids");
    // Known keys keep working from the cache meanwhile.
    assert_eq!(
        sign_in(&app, &GoogleKeyServer::mint(&claims)).await.0,
        StatusCode::OK
    );
    assert_eq!(keys.fetches(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_key_is_fetched_when_a_token_first_names_it() {
    let (app, keys) = app_with_keys().await;
    let claims = GoogleKeyServer::claims("7007", "rotate@example.com");
    assert_eq!(
        sign_in(&app, &GoogleKeyServer::mint(&claims)).await.0,
        StatusCode::OK
    );
    keys.rotate();
    let rotated = GoogleKeyServer::sign(
        &json!({"alg": "RS256", "kid": ROTATED_KID, "typ": "JWT"}),
        &claims,
    );
    let (status, body, _) = sign_in(&app, &rotated).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(keys.fetches(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_keys_sign_in_is_503_and_creates_nothing() {
    let (app, keys) = app_with_keys().await;
    keys.fail();
    let response = app
        .post(SIGN_IN)
        .json(&json!({ "credential": token_for("8008", "down@example.com") }))
        .send()
        .await
        .expect("POST /auth/google");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key("retry-after"));
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["code"], "google_keys_unavailable");
    assert_eq!(
        count(&mut db(&app).await, "SELECT count(*) FROM users").await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_client_id_google_sign_in_is_501() {
    let keys = GoogleKeyServer::start().await;
    // The key server is reachable, only the client id is missing (the default).
    let app = spawn_app_with(
        AppOptions::application()
            .variable("google_jwks_url", keys.url())
            .variable("google_jwks_origin", keys.origin()),
    )
    .await;
    for path in [SIGN_IN, "/api/auth/google"] {
        let response = app
            .post(path)
            .json(&json!({ "credential": token_for("9009", "off@example.com") }))
            .send()
            .await
            .expect("POST");
        assert_eq!(response.status(), StatusCode::NOT_IMPLEMENTED, "{path}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["code"], "google_not_configured", "{path}");
    }
    assert_eq!(keys.fetches(), 0);
}
