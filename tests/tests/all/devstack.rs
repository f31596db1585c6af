//! The private store servers `urr-edge up` starts when nothing answers on the standard ports
//! (started here directly, on free ports, so the shared servers are never touched).

use sqlx::Connection as _;
use urr_edge::devstack::{LocalStack, start_private_postgres, start_private_redis};

/// Logs in with `url` and runs a query (the role's login and CONNECT grant work).
async fn selects_one_as(url: &str) {
    let mut pg = sqlx::PgConnection::connect(url)
        .await
        .expect("the role logs in");
    let one: i32 = sqlx::query_scalar("SELECT 1")
        .fetch_one(&mut pg)
        .await
        .expect("select");
    assert_eq!(one, 1);
    pg.close().await.expect("close");
}

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
    selects_one_as(&app_as_role).await;

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

/// A packaged server that wants passwords over TCP and trusts only its local socket: `up` goes
/// in through the socket as `postgres`, makes itself a development superuser with a generated
/// password, and the component roles get generated passwords that work over TCP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_wants_passwords_over_tcp_is_provisioned_through_its_socket() {
    let state =
        std::env::temp_dir().join(format!("urr-devstack-{}", uuid::Uuid::new_v4().simple()));
    let (bin, data, trusted_url) = start_private_postgres(&state).expect("private postgres");
    let stack = LocalStack::owning(None, Some((bin, data.clone())));
    let port: u16 = urr_edge::devstack::host_port(&trusted_url)
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse().ok())
        .expect("port");

    // Make TCP need a password, as a packaged server does.
    std::fs::write(
        data.join("pg_hba.conf"),
        "local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n",
    )
    .expect("pg_hba.conf");
    let mut admin = sqlx::PgConnection::connect(&trusted_url)
        .await
        .expect("trusted admin");
    sqlx::query("SELECT pg_reload_conf()")
        .execute(&mut admin)
        .await
        .expect("reload");
    admin.close().await.expect("close");
    assert!(
        sqlx::PgConnection::connect(&trusted_url).await.is_err(),
        "after the reload TCP must want a password, or this test proves nothing"
    );

    let socket_dir = state.join("pg");
    let (admin_url, passwords) =
        urr_edge::devstack::provision_over_socket(&state, &socket_dir, port)
            .await
            .expect("provisioned through the socket");
    assert!(admin_url.contains(urr_edge::devstack::DEV_ADMIN_ROLE));
    let migrations = urr_tests::repo_root().join("migrations");
    urr_edge::database::setup_with_passwords(&admin_url, "urr", &migrations, &|role| {
        passwords.get(role).cloned()
    })
    .await
    .expect("setup with generated role passwords");

    let role_url = urr_edge::database::as_role(
        &urr_edge::database::with_database(&admin_url, "urr"),
        "urr_health",
    );
    assert!(
        sqlx::PgConnection::connect(&role_url).await.is_err(),
        "a role without its password must be refused"
    );
    let with_password = role_url.replacen(
        "://urr_health@",
        &format!("://urr_health:{}@", passwords["urr_health"]),
        1,
    );
    selects_one_as(&with_password).await;

    // A second run reuses the same passwords (they live in the state folder).
    let (again, passwords_again) =
        urr_edge::devstack::provision_over_socket(&state, &socket_dir, port)
            .await
            .expect("second provisioning");
    assert_eq!(again, admin_url);
    assert_eq!(passwords_again, passwords);

    drop(stack);
    let _ = std::fs::remove_dir_all(&state);
}
