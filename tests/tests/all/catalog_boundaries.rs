//! The sale window's exact edges, at a pinned instant (the listing tests use windows a second
//! away from `now()`): the start is inclusive, the end exclusive, and cancelled wins over both.

use sqlx::{Connection as _, PgConnection};
use urr_tests::TestDatabase;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sale_is_on_from_its_first_instant_and_over_at_its_last() {
    let database = TestDatabase::create().await.expect("test database");
    let mut conn = PgConnection::connect(&database.url).await.expect("connect");
    let start = "2026-12-01T11:00:00Z";
    let end = "2026-12-24T09:00:00Z";
    for (at, cancelled, expected) in [
        ("2026-12-01T10:59:59.999999Z", false, "upcoming"),
        ("2026-12-01T11:00:00Z", false, "on_sale"),
        ("2026-12-24T08:59:59.999999Z", false, "on_sale"),
        ("2026-12-24T09:00:00Z", false, "ended"),
        ("2026-12-01T11:00:00Z", true, "cancelled"),
        ("2026-11-01T00:00:00Z", true, "cancelled"),
    ] {
        let status: String = sqlx::query_scalar(
            "SELECT event_status($1, $2::timestamptz, $3::timestamptz, $4::timestamptz)",
        )
        .bind(cancelled)
        .bind(start)
        .bind(end)
        .bind(at)
        .fetch_one(&mut conn)
        .await
        .expect("event_status");
        assert_eq!(status, expected, "at {at}, cancelled {cancelled}");
    }
}
