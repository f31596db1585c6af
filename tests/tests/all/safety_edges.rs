//! Money and seat safety at the edges, through the real host: the login throttle under parallel
//! guessing.

use futures::future::join_all;
use serde_json::json;
use urr_tests::{AppOptions, spawn_app_with};

const PASSWORD: &str = "correct horse battery";

// ---------------------------------------------------------------- the login throttle

/// Wrong passwords sent at once, for one account.
const PARALLEL_GUESSES: usize = 40;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_wrong_passwords_are_each_charged_to_the_account() {
    // The per-IP auth limit out of the way: this is about the per-account throttle.
    let app = spawn_app_with(AppOptions::application().variable("rate_limits", "auth=1000")).await;
    let email = "guessed@example.com";
    let registered = app
        .post("/api/v1/auth/register")
        .json(&json!({"email": email, "password": PASSWORD, "name": "Kim"}))
        .send()
        .await
        .expect("register");
    assert_eq!(registered.status(), 201);

    let guesses = (0..PARALLEL_GUESSES).map(|i| {
        app.post("/api/v1/auth/login")
            .json(&json!({"email": email, "password": format!("wrong password {i}")}))
            .send()
    });
    let (mut refused_401, mut throttled_429, mut other) = (0, 0, Vec::new());
    for response in join_all(guesses).await {
        let response = response.expect("login");
        match response.status().as_u16() {
            401 => refused_401 += 1,
            429 => {
                assert!(response.headers().get("retry-after").is_some());
                throttled_429 += 1;
            }
            status => other.push(status),
        }
    }
    let burst = urr_auth::throttle::LOGIN_FAILURE_BURST as usize;
    println!(
        "{PARALLEL_GUESSES} wrong passwords at once: {refused_401} checked (401), \
         {throttled_429} throttled (429), other {other:?}; the account allows {burst}"
    );
    assert!(other.is_empty(), "{other:?}");
    assert!(
        refused_401 <= burst,
        "{refused_401} guesses reached the password check; at most {burst} may"
    );
    assert_eq!(refused_401 + throttled_429, PARALLEL_GUESSES);

    // docs/auth.md: while the account is throttled, even the right password waits.
    let right = app
        .post("/api/v1/auth/login")
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(right.status(), 429, "the right password waits too");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_right_password_gives_its_charge_back() {
    let app = spawn_app_with(AppOptions::application().variable("rate_limits", "auth=1000")).await;
    let email = "forgetful@example.com";
    let registered = app
        .post("/api/v1/auth/register")
        .json(&json!({"email": email, "password": PASSWORD, "name": "Kim"}))
        .send()
        .await
        .expect("register");
    assert_eq!(registered.status(), 201);
    let login = |password: &'static str| {
        let attempt = app
            .post("/api/v1/auth/login")
            .json(&json!({"email": email, "password": password}));
        async move { attempt.send().await.expect("login").status().as_u16() }
    };
    let burst = urr_auth::throttle::LOGIN_FAILURE_BURST as usize;
    // Successful logins between the failures cost nothing: the account still has its whole
    // burst of failures, then waits.
    let mut statuses = Vec::new();
    for _ in 0..burst - 1 {
        statuses.push(login("wrong password").await);
        statuses.push(login(PASSWORD).await);
    }
    for _ in 0..2 {
        statuses.push(login("wrong password").await);
    }
    println!("wrong/right alternating, then wrong twice: {statuses:?}");
    let mut expected: Vec<u16> = (0..burst - 1).flat_map(|_| [401, 200]).collect();
    expected.extend([401, 429]);
    assert_eq!(statuses, expected);
}
