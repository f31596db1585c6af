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
