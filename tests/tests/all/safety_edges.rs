//! Money and seat safety at the edges, through the real host: the login throttle under parallel
//! guessing, slow request bodies against a component's slots, the development secrets outside
//! development, who may read `/metrics` and what a scrape costs, CORS on the answers the host
//! writes itself, and kept-alive connections left open between requests as Spin leaves them.

use futures::future::join_all;
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use urr_tests::{AppOptions, spawn_app_with, try_spawn_app};

const WEB_ORIGIN: &str = "http://localhost:3000";
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

// ---------------------------------------------------------------- slow request bodies

/// Concurrency slots of every component in the slow-body test, and how many tricklers it opens.
const SLOTS: usize = 4;
const TRICKLERS: usize = 2 * SLOTS;
/// What a trickler declares: a 60 KB payment body, under pay's 64 KiB cap.
const TRICKLED_BODY_BYTES: usize = 60_000;
/// One byte per this interval: 4 bytes per second, far below any acceptable rate.
const TRICKLE_INTERVAL: Duration = Duration::from_millis(250);
/// How long a trickler waits for the host's answer before the test gives up on it.
const TRICKLE_GIVE_UP: Duration = Duration::from_secs(25);

/// Sends a POST's headers to `addr`, then its body one byte per [`TRICKLE_INTERVAL`], and
/// returns the status line the host answers with (`None`: no answer within `give_up`).
async fn trickle(addr: std::net::SocketAddr, path: &str, give_up: Duration) -> Option<String> {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (mut reader, mut writer) = stream.into_split();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {TRICKLED_BODY_BYTES}\r\n\r\n"
    );
    writer.write_all(head.as_bytes()).await.expect("headers");
    let sender = tokio::spawn(async move {
        for _ in 0..TRICKLED_BODY_BYTES {
            tokio::time::sleep(TRICKLE_INTERVAL).await;
            if writer.write_all(b" ").await.is_err() {
                break;
            }
        }
    });
    let answer = tokio::time::timeout(give_up, async {
        let mut buf = vec![0_u8; 4096];
        let n = reader.read(&mut buf).await.unwrap_or(0);
        String::from_utf8_lossy(&buf[..n])
            .lines()
            .next()
            .map(str::to_string)
    })
    .await
    .ok()
    .flatten();
    sender.abort();
    answer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_bodies_do_not_hold_a_components_slots() {
    let app = spawn_app_with(AppOptions::application().configure(|c| {
        c.limits.max_concurrency = SLOTS;
        c.limits.max_waiting = 0;
    }))
    .await;
    let addr = app.host().addr();
    let path = "/api/v1/payments/process";
    let tricklers: Vec<_> = (0..TRICKLERS)
        .map(|_| tokio::spawn(trickle(addr, path, TRICKLE_GIVE_UP)))
        .collect();
    // Every trickler has sent its headers and a byte or two by now.
    tokio::time::sleep(Duration::from_millis(800)).await;

    // A buyer beside them is served by the guest (401: no session), not shed.
    let started = Instant::now();
    let buyer = app
        .post(path)
        .json(&json!({"reservationId": uuid::Uuid::new_v4().to_string()}))
        .send()
        .await
        .expect("buyer");
    let buyer_status = buyer.status().as_u16();
    let mut answers = Vec::new();
    for trickler in tricklers {
        answers.push(trickler.await.expect("trickler task"));
    }
    println!(
        "{TRICKLERS} tricklers at {SLOTS} slots: the buyer got {buyer_status} in {:?}; the \
         tricklers got {answers:?}",
        started.elapsed()
    );
    assert_ne!(buyer_status, 503, "the buyer was shed behind slow bodies");
    assert_eq!(buyer_status, 401, "the guest answers an anonymous buyer");
    for answer in &answers {
        assert!(
            answer.as_deref().is_some_and(|l| l.contains(" 408 ")),
            "every trickler is cut off with 408: {answers:?}"
        );
    }
}

// ---------------------------------------------------------------- development secrets

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_development_secrets_refuse_to_boot_outside_development_mode() {
    // spin.toml's defaults are the development mock's secrets.
    let refused =
        try_spawn_app(AppOptions::application().variable("development_mode", "false")).await;
    let message = match refused {
        Ok(_) => panic!("the host booted with the development secrets outside development mode"),
        Err(e) => format!("{e:#}"),
    };
    println!("refused: {message}");
    for needle in [
        "provider_webhook_secret",
        "provider_secret_key",
        "development_mode",
    ] {
        assert!(message.contains(needle), "`{needle}` not named: {message}");
    }
    // Real secrets boot without development mode.
    let real = spawn_app_with(
        AppOptions::application()
            .variable("development_mode", "false")
            .variable("provider_secret_key", "sk_live_not_the_mock")
            .variable("provider_client_key", "ck_live_not_the_mock")
            .variable("provider_webhook_secret", "whsec_live_not_the_mock"),
    )
    .await;
    assert_eq!(real.get_json("/health").await.0, 200);
    // And the development secrets boot in development mode.
    let dev = spawn_app_with(AppOptions::application().variable("development_mode", "true")).await;
    assert_eq!(dev.get_json("/health").await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outside_development_mode_the_payment_components_refuse_the_development_secrets() {
    // As on real Spin, where no boot check runs: the components alone must refuse.
    let app = spawn_app_with(
        AppOptions::application()
            .variable("development_mode", "false")
            .configure(|c| c.refuse_development_secrets = false),
    )
    .await;
    let body = serde_json::to_vec(&json!({
        "eventId": "evt_forged", "eventType": "PAYMENT_STATUS_CHANGED",
        "data": {"orderId": "order_forged", "status": "DONE"},
    }))
    .expect("json");
    let at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    // Signed with the well-known development secret: anyone could forge this.
    let forged = app
        .post("/api/v1/payments/webhook")
        .header(
            urr_payments::webhook::SIGNATURE_HEADER,
            urr_payments::webhook::sign(b"whsec_test_mock", at, &body),
        )
        .header(urr_payments::webhook::TIMESTAMP_HEADER, at.to_string())
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("webhook");
    let status = forged.status().as_u16();
    let retry_after = forged.headers().get("retry-after").cloned();
    println!("a webhook signed with the development secret: {status}");
    assert_eq!(status, 503, "{}", forged.text().await.unwrap_or_default());
    assert!(retry_after.is_some());
    let output = app.guest_output();
    assert!(
        output.contains("development") && output.contains("payment_webhook_secret"),
        "{output}"
    );

    // In development mode the same webhook is verified and read (and this one names no payment).
    let dev = spawn_app_with(
        AppOptions::application().configure(|c| c.refuse_development_secrets = false),
    )
    .await;
    let body = br#"{"eventId":"evt_dev","eventType":"PAYMENT_STATUS_CHANGED","data":{}}"#;
    let verified = dev
        .post("/api/v1/payments/webhook")
        .header(
            urr_payments::webhook::SIGNATURE_HEADER,
            urr_payments::webhook::sign(b"whsec_test_mock", at, body),
        )
        .header(urr_payments::webhook::TIMESTAMP_HEADER, at.to_string())
        .header("content-type", "application/json")
        .body(body.to_vec())
        .send()
        .await
        .expect("webhook");
    assert_ne!(verified.status(), 503);
    assert_ne!(verified.status(), 401, "the development secret verifies");
}

// ---------------------------------------------------------------- /metrics

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_not_served_on_the_public_listener() {
    let app = spawn_app_with(AppOptions::application()).await;
    let (status, body) = app.get_json("/metrics").await;
    assert_eq!(status, 404, "/metrics on the public listener: {body}");
    // The metrics listener is loopback, apart from the API's, and serves nothing else.
    let metrics = app.host().metrics_addr().expect("a metrics listener");
    assert!(metrics.ip().is_loopback(), "{metrics}");
    assert_ne!(metrics, app.host().addr());
    let elsewhere = app
        .client
        .get(format!("http://{metrics}/api/v1/events"))
        .send()
        .await
        .expect("metrics listener");
    assert_eq!(elsewhere.status(), 404);
    assert!(app.metrics().await.contains("urr_requests_total"));
}

/// Long enough that two scrapes in a row fall within it on any machine.
const SCRAPE_CACHE_WINDOW: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scrape_within_the_cache_window_reads_the_stores_once() {
    let app = spawn_app_with(
        AppOptions::application().configure(|c| c.metrics_cache = SCRAPE_CACHE_WINDOW),
    )
    .await;
    let first = app.metrics().await;
    let second = app.metrics().await;
    let scrapes = |text: &str, source: &str| {
        urr_tests::metric(
            text,
            &format!("urr_business_scrapes_total{{source=\"{source}\"}}"),
        )
    };
    println!(
        "after two scrapes: {:?} read the stores, {:?} reused the read",
        scrapes(&second, "stores"),
        scrapes(&second, "cache")
    );
    assert_eq!(scrapes(&first, "stores"), Some(1), "{first}");
    assert_eq!(
        scrapes(&second, "stores"),
        Some(1),
        "the second scrape read the stores again:\n{second}"
    );
    assert_eq!(scrapes(&second, "cache"), Some(1), "{second}");
    assert_eq!(urr_tests::metric(&second, "urr_business_db_up"), Some(1));
}

// ---------------------------------------------------------------- CORS on every answer

fn cors_of(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get("access-control-allow-origin")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_cors_for_an_allowed_origin_and_none_for_others() {
    let app = spawn_app_with(AppOptions::application()).await;
    let unknown = || app.get("/api/v1/nowhere");
    let not_allowed = || app.get("/api/v1/auth/login");

    let response = unknown()
        .header("origin", WEB_ORIGIN)
        .send()
        .await
        .expect("unknown route");
    assert_eq!(response.status(), 404);
    assert_eq!(cors_of(&response).as_deref(), Some(WEB_ORIGIN));
    assert_eq!(
        response
            .headers()
            .get("access-control-allow-credentials")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );

    let response = not_allowed()
        .header("origin", WEB_ORIGIN)
        .send()
        .await
        .expect("405");
    assert_eq!(response.status(), 405);
    assert_eq!(cors_of(&response).as_deref(), Some(WEB_ORIGIN));

    // The host's own 413 (a declared body over the cap) carries them too.
    let response = app
        .post("/api/v1/auth/login")
        .header("origin", WEB_ORIGIN)
        .header("content-type", "application/json")
        .body(vec![b' '; 70_000])
        .send()
        .await
        .expect("413");
    assert_eq!(response.status(), 413);
    assert_eq!(cors_of(&response).as_deref(), Some(WEB_ORIGIN));

    // A preflight for a path nobody serves is answered like any other, so the browser goes on to
    // show its page the 404 instead of a CORS failure.
    let preflight = || {
        app.client
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/api/v1/nowhere", app.url),
            )
            .header("access-control-request-method", "POST")
    };
    let response = preflight()
        .header("origin", WEB_ORIGIN)
        .send()
        .await
        .expect("preflight");
    assert_eq!(response.status(), 204);
    assert_eq!(cors_of(&response).as_deref(), Some(WEB_ORIGIN));

    // A foreign origin gets none, whoever answers.
    let response = preflight()
        .header("origin", "https://evil.example.com")
        .send()
        .await
        .expect("preflight");
    assert_eq!(response.status(), 403);
    assert!(cors_of(&response).is_none(), "{response:?}");
    for request in [unknown(), not_allowed()] {
        let response = request
            .header("origin", "https://evil.example.com")
            .send()
            .await
            .expect("foreign origin");
        assert!(cors_of(&response).is_none(), "{response:?}");
    }
}

// ---------------------------------------------------------------- kept-alive connections

/// A pause between two requests on one connection: longer than the 10 s after which the host used
/// to close an idle connection, shorter than the load balancer's 60 s idle timeout.
const PAUSE_BETWEEN_REQUESTS: Duration = Duration::from_secs(12);

/// Sends one `GET` on `stream` and returns the status line of the answer (`None`: the
/// connection was closed instead). The answers read here are small enough to arrive whole.
async fn get_on(stream: &mut tokio::net::TcpStream, host: &str, path: &str) -> Option<String> {
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut buf = vec![0_u8; 16 * 1024];
    let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
        .await
        .ok()?
        .ok()?;
    let answer = String::from_utf8_lossy(&buf[..n]).into_owned();
    answer.lines().next().map(str::to_string)
}

/// Spin closes no kept-alive connection between requests; clients (a browser, a load balancer,
/// a pooled HTTP client) reuse one after a pause and must not find it closed under them. The
/// host used to close a connection idle for 10 s, and a client reusing it at that moment got a
/// reset instead of an answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_alive_connection_is_still_served_after_a_pause() {
    let app = spawn_app_with(AppOptions::application()).await;
    let host = app.url.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(host.as_str())
        .await
        .expect("connect");
    let first = get_on(&mut stream, &host, "/health").await;
    assert!(
        first.as_deref().is_some_and(|l| l.contains(" 200 ")),
        "{first:?}"
    );
    tokio::time::sleep(PAUSE_BETWEEN_REQUESTS).await;
    let second = get_on(&mut stream, &host, "/health").await;
    assert!(
        second.as_deref().is_some_and(|l| l.contains(" 200 ")),
        "the connection was closed after a {PAUSE_BETWEEN_REQUESTS:?} pause: {second:?}"
    );
}
