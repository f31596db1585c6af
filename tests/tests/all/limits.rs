//! The shared limiter at the edge: one abusive client at ten times its quota is held to the quota
//! while a well-behaved client beside it is not slowed down, every 429 says when to retry, and
//! public reads keep working when Redis is gone (fail open for reads only).

use std::time::{Duration, Instant};
use urr_tests::{AppOptions, PrivateRedis, spawn_app_with};

/// The header the test deployment trusts for the client's address (CloudFront's role).
const CLIENT_IP_HEADER: &str = "x-test-client-ip";
/// The `default` category's quota in this test, per minute (burst = quota).
const PER_MINUTE: u32 = 60;
const RUN: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abusive_client_is_held_to_its_quota_and_a_neighbour_is_not_slowed() {
    let app = spawn_app_with(
        AppOptions::application()
            .variable("rate_limits", format!("default={PER_MINUTE}"))
            .variable("trusted_client_ip_header", CLIENT_IP_HEADER),
    )
    .await;
    let get = |ip: &'static str| app.get("/api/v1/time").header(CLIENT_IP_HEADER, ip).send();
    let started = Instant::now();
    let (mut abuser_ok, mut abuser_429, mut neighbour_ok, mut neighbour_429) = (0u32, 0u32, 0, 0);
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let mut n = 0u64;
    while started.elapsed() < RUN {
        tick.tick().await;
        n += 1;
        // Ten times the quota: 600 per minute.
        let response = get("198.51.100.7").await.expect("abuser");
        match response.status().as_u16() {
            200 => abuser_ok += 1,
            429 => {
                abuser_429 += 1;
                let retry = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u32>().ok());
                assert!(retry.is_some_and(|s| s >= 1), "429 without Retry-After");
                let body: serde_json::Value = response.json().await.expect("json");
                assert!(
                    body["retryAfter"].as_u64().is_some_and(|s| s >= 1),
                    "{body}"
                );
            }
            other => panic!("abuser got {other}"),
        }
        // Half the quota: one request every four ticks (150 per minute would be too many; this
        // is 150/4 = 37.5 per minute).
        if n.is_multiple_of(4) {
            match get("203.0.113.9")
                .await
                .expect("neighbour")
                .status()
                .as_u16()
            {
                200 => neighbour_ok += 1,
                429 => neighbour_429 += 1,
                other => panic!("neighbour got {other}"),
            }
        }
    }
    let elapsed_min = started.elapsed().as_secs_f64() / 60.0;
    // GCRA: the burst (a minute's quota) plus what the elapsed time earns, +1% and one request of
    // rounding.
    let ceiling = (f64::from(PER_MINUTE) * (1.0 + elapsed_min) * 1.01).ceil() as u32 + 1;
    println!(
        "abuser: {abuser_ok} admitted, {abuser_429} refused (ceiling {ceiling}); neighbour: \
         {neighbour_ok} admitted, {neighbour_429} refused"
    );
    assert!(abuser_ok <= ceiling, "{abuser_ok} > {ceiling}");
    // The quota was really exercised: the burst went through and most of the rest was refused.
    assert!(abuser_ok >= PER_MINUTE, "{abuser_ok}");
    assert!(abuser_429 >= 80, "{abuser_429}");
    assert_eq!(neighbour_429, 0);
    assert!(neighbour_ok >= 40, "{neighbour_ok}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_reads_pass_when_redis_is_down_and_logins_do_not() {
    let mut redis = PrivateRedis::start().expect("private redis");
    let app = spawn_app_with(
        AppOptions::application()
            .redis(&format!("redis://127.0.0.1:{}", redis.port))
            .variable("rate_limits", "default=1000"),
    )
    .await;
    assert_eq!(app.get_json("/api/v1/events").await.0, 200);
    redis.kill();
    for path in ["/api/v1/events", "/api/v1/seats/layouts", "/api/v1/time"] {
        let (status, body) = app.get_json(path).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
    let login = app
        .post("/api/v1/auth/login")
        .json(&serde_json::json!({"email": "a@b.co", "password": "long enough pw"}))
        .send()
        .await
        .expect("login");
    assert_eq!(login.status().as_u16(), 503);
    assert!(login.headers().get("retry-after").is_some());
    // /metrics still answers, says the Redis counters could not be read, and still shows the
    // ones Postgres keeps.
    let text = app.metrics().await;
    assert_eq!(
        urr_tests::metric(&text, "urr_business_up"),
        Some(0),
        "{text}"
    );
    assert_eq!(
        urr_tests::metric(&text, "urr_business_db_up"),
        Some(1),
        "{text}"
    );
    assert!(text.contains("\nurr_reservations_created_total "), "{text}");
    assert!(text.contains("urr_requests_total"), "{text}");
}
