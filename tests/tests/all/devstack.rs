//! The private store servers `urr-edge up` starts when nothing answers on the standard ports
//! (started here directly, on free ports, so the shared servers are never touched).

use sqlx::Connection as _;
use urr_edge::devstack::{LocalStack, start_private_postgres, start_private_redis};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_redis_and_postgres_start_answer_and_stop_with_the_stack() {
    let state =
        std::env::temp_dir().join(format!("urr-devstack-{}", uuid::Uuid::new_v4().simple()));
    let (redis, redis_url) = start_private_redis(&state).expect("private redis-server");
    let (bin, data, admin_url) = start_private_postgres(&state).expect("private postgres");
    let stack = LocalStack::owning(Some(redis), Some((bin, data)));

    let client = redis::Client::open(redis_url.as_str()).expect("url");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis answers");
    let pong: String = redis::cmd("PING")
        .query_async(&mut conn)
        .await
        .expect("ping");
    assert_eq!(pong, "PONG");

    // The full setup `up` performs runs against the private server: database, roles, migrations.
    let migrations = urr_tests::repo_root().join("migrations");
    urr_edge::database::setup(&admin_url, "urr", &migrations)
        .await
        .expect("setup");
    let app_as_role = urr_edge::database::as_role(
        &urr_edge::database::with_database(&admin_url, "urr"),
        "urr_health",
    );
    let mut pg = sqlx::PgConnection::connect(&app_as_role)
        .await
        .expect("role connects");
    let one: i32 = sqlx::query_scalar("SELECT 1")
        .fetch_one(&mut pg)
        .await
        .expect("select");
    assert_eq!(one, 1);
    pg.close().await.expect("close");

    drop(stack);
    assert!(
        sqlx::PgConnection::connect(&admin_url).await.is_err(),
        "postgres must stop with the stack"
    );
    assert!(
        client.get_multiplexed_async_connection().await.is_err(),
        "redis must stop with the stack"
    );
    let _ = std::fs::remove_dir_all(&state);
}
