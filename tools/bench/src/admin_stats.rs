//! The admin statistics benchmark: each of the 14 `GET /stats/*` figures through the host, one
//! request at a time (c=1, what one operator's page does), on a database holding
//! `--reservations` reservations (100,000 by default) spread over 90 days, 50 events and 20,000
//! buyers, with their items, payments (70% captured, a seventh of those refunded) and delivered
//! refunds. Reports p50/p95 per figure against the 200 ms budget (docs/admin.md).

use crate::load::{self, Target};
use crate::scenario::{Fixed, RequestSpec, Scenario};
use crate::stack::{BenchStack, StackConfig};
use crate::stats::RunResult;
use anyhow::{Context, Result};
use http::HeaderValue;
use serde::Serialize;
use sqlx::{Connection as _, Executor as _};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What each figure must stay under at p95 (the contract's budget).
pub const BUDGET_MS: f64 = 200.0;

/// The figures as URR's page calls them (plus the two it never calls).
pub const FIGURES: [&str; 14] = [
    "/api/v1/stats/overview",
    "/api/v1/stats/daily?days=30",
    "/api/v1/stats/events?limit=20&sortBy=revenue",
    "/api/v1/stats/events/{event}",
    "/api/v1/stats/payments",
    "/api/v1/stats/revenue?period=daily&days=30",
    "/api/v1/stats/users?days=30",
    "/api/v1/stats/hourly-traffic?days=7",
    "/api/v1/stats/conversion?days=30",
    "/api/v1/stats/cancellations?days=30",
    "/api/v1/stats/realtime",
    "/api/v1/stats/performance",
    "/api/v1/stats/seat-preferences",
    "/api/v1/stats/user-behavior?days=30",
];

pub struct AdminStatsConfig {
    pub repo: PathBuf,
    pub host_bin: PathBuf,
    pub pg_url: String,
    pub redis_url: String,
    pub reservations: u32,
    pub duration: Duration,
    pub warmup: Duration,
    pub timeout: Duration,
    pub scratch: PathBuf,
}

#[derive(Debug, Clone, Serialize)]
pub struct AdminStatsReport {
    pub reservations: u32,
    pub seed_seconds: f64,
    pub runs: Vec<RunResult>,
}

/// The history, in set-based statements (`$1`: reservations). Statuses by a uniform draw:
/// 60% confirmed, 10% confirmed then cancelled and refunded, 10% cancelled while pending, 10%
/// expired, 10% pending (their holds mostly expired by now).
const SEED: [&str; 7] = [
    "INSERT INTO users (email, password_hash, name, created_at) \
     SELECT 'bench' || g || '@example.com', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', \
            'Bench ' || g, now() - random() * interval '180 days' \
     FROM generate_series(1, 20000) AS g",
    "INSERT INTO events (title, venue, event_date, sale_start_date, sale_end_date, artist_name) \
     SELECT 'Bench Event ' || g, 'Bench Hall', now() + interval '60 days', \
            now() - interval '120 days', now() + interval '30 days', 'Bench' \
     FROM generate_series(1, 50) AS g",
    "INSERT INTO ticket_types (event_id, name, price, total_quantity, available_quantity) \
     SELECT id, 'GA', 100000, 1000000, 1000000 FROM events WHERE title LIKE 'Bench Event %'",
    "WITH ev AS (SELECT array_agg(id ORDER BY id) AS ids FROM events \
                  WHERE title LIKE 'Bench Event %'), \
          us AS (SELECT array_agg(id ORDER BY id) AS ids FROM users \
                  WHERE email LIKE 'bench%'), \
          r AS (SELECT g, random() AS s, now() - random() * interval '90 days' AS created \
                  FROM generate_series(1, $1::int4) AS g) \
     INSERT INTO reservations (reservation_number, user_id, event_id, kind, total_amount, \
                               status, payment_status, payment_method, expires_at, \
                               confirmed_at, cancelled_at, created_at) \
     SELECT 'BENCH-' || g, us.ids[1 + g % array_length(us.ids, 1)], ev.ids[1 + g % 50], \
            'standing', 50000 + (g % 10) * 10000, \
            CASE WHEN s < 0.6 THEN 'confirmed' WHEN s < 0.8 THEN 'cancelled' \
                 WHEN s < 0.9 THEN 'expired' ELSE 'pending' END, \
            CASE WHEN s < 0.6 THEN 'completed' WHEN s < 0.7 THEN 'refunded' ELSE 'pending' END, \
            CASE WHEN s < 0.7 THEN (ARRAY['card', 'kakao_pay', 'naver_pay', 'bank_transfer'])[1 + g % 4] END, \
            created + interval '5 minutes', \
            CASE WHEN s < 0.7 THEN created + interval '2 minutes' END, \
            CASE WHEN s >= 0.6 AND s < 0.9 THEN created + interval '30 minutes' END, created \
     FROM r, ev, us",
    "INSERT INTO reservation_items (reservation_id, ticket_type_id, quantity, unit_price) \
     SELECT r.id, t.id, 1, r.total_amount FROM reservations AS r \
     JOIN ticket_types AS t ON t.event_id = r.event_id \
     WHERE r.reservation_number LIKE 'BENCH-%'",
    "INSERT INTO payments (order_id, reservation_id, user_id, amount, method, status, \
                           payment_key, idempotency_key, approved_at, refund_amount, \
                           refunded_at, created_at) \
     SELECT 'bench-' || r.id, r.id, r.user_id, r.total_amount, r.payment_method, \
            CASE WHEN r.status = 'confirmed' THEN 'confirmed' ELSE 'refunded' END, \
            'bench-pk-' || r.id, 'bench-ik-' || r.id, r.confirmed_at, \
            CASE WHEN r.status = 'cancelled' THEN r.total_amount END, \
            CASE WHEN r.status = 'cancelled' THEN r.cancelled_at + interval '1 minute' END, \
            r.created_at + interval '1 minute' \
     FROM reservations AS r \
     WHERE r.reservation_number LIKE 'BENCH-%' AND r.confirmed_at IS NOT NULL",
    "INSERT INTO payment_outbox (payment_id, action, amount, reason, idempotency_key, status, \
                                 attempts, delivered_at, created_at) \
     SELECT id, 'refund', amount, 'bench', 'refund-' || id, 'delivered', 1, refunded_at, \
            refunded_at - interval '1 minute' \
     FROM payments WHERE status = 'refunded'",
];

pub async fn run(config: AdminStatsConfig) -> Result<AdminStatsReport> {
    let mut stack_config = StackConfig::new(
        "stats",
        config.repo.clone(),
        config.host_bin.clone(),
        &config.pg_url,
        &config.redis_url,
    );
    stack_config.scratch = config.scratch.clone();
    let stack = BenchStack::start(&stack_config).await?;
    let result = measure(&config, &stack).await;
    stack.stop().await?;
    result
}

async fn measure(config: &AdminStatsConfig, stack: &BenchStack) -> Result<AdminStatsReport> {
    let started = Instant::now();
    let mut db = sqlx::PgConnection::connect(&stack.app_url)
        .await
        .context("connecting to the benchmark database")?;
    for statement in SEED {
        sqlx::query(sqlx::AssertSqlSafe(statement))
            .bind(i32::try_from(config.reservations).unwrap_or(i32::MAX))
            .execute(&mut db)
            .await
            .with_context(|| format!("seeding: {statement}"))?;
    }
    db.execute("ANALYZE").await.context("ANALYZE")?;
    let event: String = sqlx::query_scalar(
        "SELECT id::text FROM events WHERE title LIKE 'Bench Event %' ORDER BY id LIMIT 1",
    )
    .fetch_one(&mut db)
    .await?;
    db.close().await?;
    let seed_seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "seeded {} reservations in {seed_seconds:.1} s",
        config.reservations
    );

    let token = stack.access_token(&uuid::Uuid::new_v4().to_string(), true)?;
    let bearer = HeaderValue::from_str(&format!("Bearer {token}"))?;
    let mut runs = Vec::new();
    for figure in FIGURES {
        let mut spec = RequestSpec::get(figure.replace("{event}", &event));
        spec.headers
            .push((http::header::AUTHORIZATION, bearer.clone()));
        let scenario: Arc<dyn Scenario> = Arc::new(Fixed { spec });
        let result = cell(config, &stack.target, scenario).await?;
        runs.push(result);
    }
    Ok(AdminStatsReport {
        reservations: config.reservations,
        seed_seconds,
        runs,
    })
}

async fn cell(
    config: &AdminStatsConfig,
    target: &Target,
    scenario: Arc<dyn Scenario>,
) -> Result<RunResult> {
    let phases = (config.warmup, config.duration, config.timeout);
    let result = load::closed_cell(target, scenario, 1, phases).await?;
    eprintln!(
        "{}: p50 {:.1} ms, p95 {:.1} ms, {} ok, {} errors",
        result.label,
        result.latency.p50_us / 1000.0,
        result.latency.p95_us / 1000.0,
        result.ok,
        result.errors
    );
    Ok(result)
}

pub fn render_markdown(report: &AdminStatsReport) -> String {
    let mut md = format!(
        "Admin statistics, c=1, {} reservations (seeded in {:.0} s)\n\n\
         | figure | requests | errors | p50 ms | p95 ms | max ms | under {BUDGET_MS:.0} ms at p95 |\n\
         |---|---:|---:|---:|---:|---:|---|\n",
        report.reservations, report.seed_seconds
    );
    for run in &report.runs {
        let l = &run.latency;
        md.push_str(&format!(
            "| `{}` | {} | {} | {:.1} | {:.1} | {:.1} | {} |\n",
            run.label.trim_start_matches("GET /api/v1"),
            run.ok,
            run.errors,
            l.p50_us / 1000.0,
            l.p95_us / 1000.0,
            l.max_us / 1000.0,
            if l.p95_us / 1000.0 < BUDGET_MS && run.errors == 0 {
                "yes"
            } else {
                "**no**"
            }
        ));
    }
    md
}
