//! The seat storm (scorecard C1, short CI version): 64 clients hammer the same 100 seats with
//! holds, reserves, releases and cancels plus 20% deliberate retries (same idempotency key),
//! limits raised. Pass: no seat in two live reservations, no live reservation missing its
//! seats, every acknowledged reservation exists, enough successes AND enough lost races to
//! prove a real contest, < 1% 5xx. The same storm against a reserve function with its guards
//! removed must be caught by the same checker.

use crate::booking_support::{Buyer, Show, buyer, show};
use reqwest::StatusCode;
use sqlx::Connection as _;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;
use urr_tests::AppOptions;

const CLIENTS: usize = 64;

#[derive(Default)]
struct Counts {
    requests: AtomicU64,
    reserved: AtomicU64,
    lost_races: AtomicU64,
    server_errors: AtomicU64,
    replays: AtomicU64,
    replay_mismatches: AtomicU64,
    cancels: AtomicU64,
}

impl Counts {
    fn report(&self, name: &str) -> String {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        format!(
            "{name}: requests={} reserved={} lost_races(409)={} 5xx={} replays={} \
             replay_mismatches={} cancels={}",
            get(&self.requests),
            get(&self.reserved),
            get(&self.lost_races),
            get(&self.server_errors),
            get(&self.replays),
            get(&self.replay_mismatches),
            get(&self.cancels),
        )
    }
}

/// xorshift64*: deterministic enough per client, no extra dependency.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

fn storm_options() -> AppOptions {
    AppOptions::application()
        .variable("rate_limits", "booking=60000,default=60000")
        .variable("hold_limits", "seats=1000,per_minute=60000")
        .variable("purchase_limits", "seats=100000,standing=1000")
        .configure(|config| {
            // Reserve runs one SQL function; the test pool (3) would be the bottleneck.
            config.stores.pg_pool_max = 12;
        })
}

fn tally(counts: &Counts, status: StatusCode) {
    counts.requests.fetch_add(1, Ordering::Relaxed);
    if status == StatusCode::CONFLICT {
        counts.lost_races.fetch_add(1, Ordering::Relaxed);
    } else if status.is_server_error() {
        counts.server_errors.fetch_add(1, Ordering::Relaxed);
    }
}

/// One client: pick 1-2 hot seats; hold then reserve, or reserve directly; retry 20% of
/// reserves with the same key; then cancel (and release), release only (the reservation stays:
/// the next holder passes Redis and must lose in Postgres), or keep.
async fn client(
    show: Arc<Show>,
    me: Buyer,
    seed: u64,
    until: Instant,
    counts: Arc<Counts>,
    acknowledged: Arc<Mutex<Vec<String>>>,
    pool: sqlx::PgPool,
) {
    let mut dice = Dice(seed | 1);
    while Instant::now() < until {
        let first = dice.below(100) as usize;
        let mut seats = vec![show.seats[first].as_str()];
        if dice.below(2) == 0 {
            seats.push(show.seats[(first + 1 + dice.below(3) as usize) % 100].as_str());
        }
        if dice.below(2) == 0 {
            let (status, _) = show.hold(&me, &seats).await;
            tally(&counts, status);
            if status != StatusCode::OK {
                continue;
            }
        }
        let key = uuid::Uuid::new_v4().to_string();
        let (status, body) = show.reserve(&me, &seats, Some(&key)).await;
        tally(&counts, status);
        if dice.below(5) == 0 {
            let (again, replay) = show.reserve(&me, &seats, Some(&key)).await;
            tally(&counts, again);
            counts.replays.fetch_add(1, Ordering::Relaxed);
            if status == StatusCode::CREATED && (again != status || replay != body) {
                counts.replay_mismatches.fetch_add(1, Ordering::Relaxed);
            }
        }
        if status != StatusCode::CREATED {
            continue;
        }
        counts.reserved.fetch_add(1, Ordering::Relaxed);
        let reservation = &body["reservation"];
        let id = reservation["id"].as_str().unwrap_or_default().to_string();
        acknowledged.lock().await.push(id.clone());
        let token = reservation["fencingToken"].clone();
        match dice.below(100) {
            0..70 => {
                let cancelled = sqlx::query("SELECT cancel_reservation($1::uuid, NULL, 'storm')")
                    .bind(&id)
                    .execute(&pool)
                    .await;
                if cancelled.is_ok() {
                    counts.cancels.fetch_add(1, Ordering::Relaxed);
                }
                let (status, _) = show.release(&me, &seats, &token).await;
                tally(&counts, status);
            }
            70..85 => {
                let (status, _) = show.release(&me, &seats, &token).await;
                tally(&counts, status);
            }
            _ => {}
        }
    }
}

/// What the invariant checker found.
#[derive(Debug, Default, PartialEq, Eq)]
struct Violations {
    seats_in_two_live_reservations: i64,
    live_reservations_missing_seats: i64,
    acknowledged_missing: i64,
}

async fn check(pool: &sqlx::PgPool, acknowledged: &[String]) -> Violations {
    let live = "(r.status = 'confirmed' OR (r.status = 'pending' AND r.expires_at > now()))";
    let doubled: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM (SELECT i.seat_id FROM reservation_items i \
         JOIN reservations r ON r.id = i.reservation_id \
         WHERE i.seat_id IS NOT NULL AND {live} GROUP BY i.seat_id HAVING count(*) > 1) d"
    )))
    .fetch_one(pool)
    .await
    .expect("double sells");
    let missing: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(DISTINCT r.id) FROM reservations r \
         JOIN reservation_items i ON i.reservation_id = r.id JOIN seats s ON s.id = i.seat_id \
         WHERE {live} AND (s.reservation_id IS DISTINCT FROM r.id \
                           OR s.status NOT IN ('locked', 'reserved'))"
    )))
    .fetch_one(pool)
    .await
    .expect("missing seats");
    let unique: HashSet<&String> = acknowledged.iter().collect();
    let ids: Vec<String> = unique.into_iter().cloned().collect();
    let found: i64 =
        sqlx::query_scalar("SELECT count(*) FROM reservations WHERE id::text = ANY($1)")
            .bind(&ids)
            .fetch_one(pool)
            .await
            .expect("acknowledged");
    Violations {
        seats_in_two_live_reservations: doubled,
        live_reservations_missing_seats: missing,
        acknowledged_missing: ids.len() as i64 - found,
    }
}

async fn storm(show: Arc<Show>, secs: u64, name: &str) -> (Arc<Counts>, Violations) {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect(&show.app.database.url)
        .await
        .expect("pool");
    let counts = Arc::new(Counts::default());
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let until = Instant::now() + Duration::from_secs(secs);
    let mut clients = Vec::new();
    for i in 0..CLIENTS {
        let me = buyer(&show).await;
        clients.push(tokio::spawn(client(
            show.clone(),
            me,
            0x9e37_79b9_7f4a_7c15 ^ (i as u64 + 1).wrapping_mul(0x1000_0000_01b3),
            until,
            counts.clone(),
            acknowledged.clone(),
            pool.clone(),
        )));
    }
    for c in clients {
        c.await.expect("client");
    }
    let violations = check(&pool, &acknowledged.lock().await).await;
    println!("{} | {violations:?}", counts.report(name));
    (counts, violations)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_seat_storm_never_double_sells_and_is_a_real_contest() {
    let show = Arc::new(show(storm_options(), 10, 10).await);
    let (counts, violations) = storm(show.clone(), 12, "storm").await;
    assert_eq!(violations, Violations::default());
    let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
    // The business counters Postgres kept through the contest: exactly the rows that exist
    // (every attempt that lost its race or was replayed counted nothing).
    let counters = show.app.business_counters().await;
    let mut db = sqlx::PgConnection::connect(&show.app.database.url)
        .await
        .expect("db");
    let (created, cancelled, expired): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE status = 'cancelled'), \
                count(*) FILTER (WHERE status = 'expired') FROM reservations",
    )
    .fetch_one(&mut db)
    .await
    .expect("reservations");
    println!(
        "counted {counters:?}; rows: {created} created, {cancelled} cancelled, {expired} expired"
    );
    assert_eq!(counters["reservations_created"], created);
    assert_eq!(counters["reservations_cancelled"], cancelled);
    assert_eq!(counters["reservations_expired"], expired);
    assert!(cancelled >= 50, "a real count of cancels: {cancelled}");
    assert!(get(&counts.reserved) >= 100, "{}", counts.report("storm"));
    assert!(get(&counts.lost_races) >= 500, "{}", counts.report("storm"));
    assert!(
        get(&counts.server_errors) * 100 < get(&counts.requests),
        "{}",
        counts.report("storm")
    );
    assert_eq!(
        get(&counts.replay_mismatches),
        0,
        "{}",
        counts.report("storm")
    );
}

/// The reserve function with its guards removed: no row lock, no availability, version or
/// fencing check — it trusts the Redis hold. Installed only in this test's database.
const BROKEN_RESERVE: &str = r#"
CREATE OR REPLACE FUNCTION booking_reserve_seats(
    p_user_id uuid, p_event_id uuid, p_seat_ids uuid[], p_fencing_token bigint,
    p_ttl_secs integer, p_max_seats integer, p_idempotency_key text, p_request_hash bytea)
RETURNS TABLE (outcome text, http_status integer, body jsonb, fencing_token bigint,
               expires_at_ms bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_begin record;
    v_id uuid := gen_random_uuid();
    v_expires timestamptz := now() + make_interval(secs => p_ttl_secs);
    v_token bigint := coalesce(p_fencing_token, 1);
    v_body jsonb;
BEGIN
    IF p_idempotency_key IS NOT NULL THEN
        v_begin := booking_idempotency_begin(p_user_id, p_idempotency_key, p_request_hash);
        IF v_begin.outcome <> 'proceed' THEN
            RETURN QUERY SELECT v_begin.outcome, v_begin.http_status, v_begin.body,
                                NULL::bigint, NULL::bigint;
            RETURN;
        END IF;
    END IF;
    INSERT INTO reservations (id, reservation_number, user_id, event_id, kind, total_amount,
                              expires_at)
    SELECT v_id, booking_reservation_number(), p_user_id, p_event_id, 'seated', sum(price),
           v_expires
      FROM seats WHERE id = ANY (p_seat_ids);
    UPDATE seats SET status = 'locked', reservation_id = v_id, held_by = p_user_id,
                     hold_expires_at = v_expires, fencing_token = v_token, version = version + 1
     WHERE id = ANY (p_seat_ids);
    INSERT INTO reservation_items (reservation_id, seat_id, quantity, unit_price, fencing_token)
    SELECT v_id, id, 1, price, v_token FROM seats WHERE id = ANY (p_seat_ids);
    v_body := jsonb_build_object('message', 'Seats reserved', 'reservation',
        jsonb_build_object('id', v_id, 'status', 'pending', 'fencingToken', v_token,
                           'expires_at', booking_iso(v_expires)));
    IF p_idempotency_key IS NOT NULL THEN
        PERFORM booking_idempotency_record(p_user_id, p_idempotency_key, 'reserve',
                                           p_request_hash, 201, v_body, v_id);
    END IF;
    RETURN QUERY SELECT 'created'::text, 201, v_body, v_token,
                        floor(extract(epoch FROM v_expires) * 1000)::bigint;
END;
$$;
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_storm_against_a_reserve_without_its_guards_is_caught_double_selling() {
    let options = storm_options().off_spec("the broken function answers a reduced body");
    let show = Arc::new(show(options, 10, 10).await);
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&show.app.database.url)
        .await
        .expect("pool");
    sqlx::raw_sql(BROKEN_RESERVE)
        .execute(&pool)
        .await
        .expect("install the broken function");
    let (_, violations) = storm(show.clone(), 6, "broken storm").await;
    assert!(
        violations.seats_in_two_live_reservations > 0,
        "the checker must catch the double sells of the broken function: {violations:?}"
    );
}
