//! Store outages, on a private redis-server (the shared one is never touched).

use std::time::Duration;
use urr_tests::{AppOptions, PrivateRedis, spawn_app_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_redis_down_and_back_while_the_host_keeps_serving() {
    let mut redis = PrivateRedis::start().expect("private redis");
    let app = spawn_app_with(AppOptions::fixture().redis(&redis.url())).await;
    assert_eq!(app.get_json("/health/ready").await.0, 200);

    redis.kill();
    let response = app.get("/health/ready").send().await.expect("request");
    assert_eq!(response.status(), 503);
    assert!(response.headers().get("retry-after").is_some());
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["dependencies"]["redis"], "down", "{body}");
    assert_eq!(body["dependencies"]["postgres"], "ok", "{body}");
    assert_eq!(
        app.get_json("/health").await.0,
        200,
        "liveness must not depend on Redis"
    );

    redis.restart().expect("restart");
    // The shared connection reconnects on its own; give it a moment.
    let mut status = 0;
    for _ in 0..50 {
        status = app.get_json("/health/ready").await.0;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200, "readiness must recover once Redis is back");
}

/// A Redis that accepts connections and never answers (a hung server, a half-open network path).
/// Requests arriving together must all get their 503 within one connect attempt, instead of
/// queueing behind one connect timeout per request ahead of them (which turns into 504s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_redis_costs_concurrent_requests_one_connect_attempt_not_one_each() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("listener");
    let url = format!("redis://{}", silent.local_addr().expect("addr"));
    let app = spawn_app_with(AppOptions::fixture().redis(&url)).await;

    const REQUESTS: usize = 8;
    let statuses = futures::future::join_all((0..REQUESTS).map(|_| async {
        app.get("/health/ready")
            .send()
            .await
            .map(|r| r.status().as_u16())
    }))
    .await;
    let statuses: Vec<u16> = statuses.into_iter().map(|s| s.expect("response")).collect();
    println!("statuses with a silent Redis: {statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 503),
        "every readiness probe must answer 503 (Redis down), none 504: {statuses:?}"
    );
    drop(silent);
}
