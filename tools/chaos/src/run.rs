//! One run: start the system, drive the workload with the nemesis, heal, settle, read the end
//! state independently, check, report.

use crate::check::{self, Anomaly};
use crate::history::{self, History, Kind};
use crate::nemesis;
use crate::rng::Rng;
use crate::system::{PROVIDER_SECRET_KEY, PROVIDER_WEBHOOK_SECRET, System, SystemConfig};
use crate::workload::{self, Buyer, Ctx, Plan};
use anyhow::{Context, Result, bail};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;
use tokio::time::Instant;

/// The seeded events the workload shops for (host/src/seed.rs): the 265-seat theatre (on sale),
/// the stadium (on sale; the operator cancels it midway) and the standing club show (on sale).
pub const SEATED_EVENT: &str = "5e3d0a4c-1b7e-4c2a-9f00-000000000001";
pub const CANCELLED_EVENT: &str = "5e3d0a4c-1b7e-4c2a-9f00-000000000003";
pub const STANDING_EVENT: &str = "5e3d0a4c-1b7e-4c2a-9f00-000000000004";
/// Contended seats per seated event: few, so buyers collide.
const SEATED_POOL: i64 = 10;
const CANCELLED_POOL: i64 = 6;
/// Short lifetimes, so expiry happens inside a run (at the boundary of payments).
const RESERVATION_TTL_SECS: u32 = 20;
const HOLD_TTL_SECS: u32 = 30;
/// The host's provider timeout (a black-holed provider answers 504 after this).
const PROVIDER_TIMEOUT_MS: u32 = 1_500;
/// How long buyers may take to finish their current step after the workload ends.
const DRAIN: Duration = Duration::from_secs(40);

pub struct RunConfig {
    pub seed: u64,
    pub duration: Duration,
    pub buyers: usize,
    pub threshold: u32,
    pub faults: bool,
    pub repo: PathBuf,
    pub host_bin: PathBuf,
    pub provider_bin: PathBuf,
    /// Where the history and the report go.
    pub out: PathBuf,
    /// Deliberate damage (the run must then fail).
    pub sabotage: Option<crate::sabotage::Sabotage>,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub seed: u64,
    pub buyers: usize,
    pub threshold: u32,
    pub workload_s: f64,
    pub wall_s: f64,
    /// Completed operations by name and outcome (`reserve` → {ok, fail, unknown}).
    pub operations: BTreeMap<String, BTreeMap<String, u64>>,
    pub faults: Vec<String>,
    pub settle: serde_json::Value,
    pub state: StateSummary,
    pub anomalies: Vec<Anomaly>,
    pub history: PathBuf,
}

#[derive(Debug, Default, Serialize)]
pub struct StateSummary {
    pub reservations: BTreeMap<String, u64>,
    pub payments: BTreeMap<String, u64>,
    pub provider_captured: i64,
    pub provider_refunded: i64,
    pub refunds_owed: i64,
}

pub fn variables(threshold: u32) -> Vec<(String, String)> {
    let mut vars = urr_bench::booking_flow::limit_variables(threshold);
    vars.push((
        "reservation_ttl_secs".into(),
        RESERVATION_TTL_SECS.to_string(),
    ));
    vars.push(("hold_ttl_secs".into(), HOLD_TTL_SECS.to_string()));
    vars.push((
        "provider_timeout_ms".into(),
        PROVIDER_TIMEOUT_MS.to_string(),
    ));
    vars
}

pub async fn run(config: &RunConfig) -> Result<Report> {
    let started = Instant::now();
    std::fs::create_dir_all(&config.out)?;
    let scratch = std::env::temp_dir().join(format!("urr-chaos-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let history_path = config.out.join("history.jsonl");
    let history = History::create(&history_path)?;
    let mut system = System::start(&SystemConfig {
        repo: config.repo.clone(),
        host_bin: config.host_bin.clone(),
        provider_bin: config.provider_bin.clone(),
        scratch: scratch.clone(),
        variables: variables(config.threshold),
    })
    .await?;
    let result = drive(config, &mut system, &history, started).await;
    history.flush();
    let stopped = system.stop().await;
    match &result {
        Ok(report) if report.anomalies.is_empty() => {
            let _ = std::fs::remove_dir_all(&scratch);
        }
        _ => eprintln!("logs and store data kept in {}", scratch.display()),
    }
    let report = result?;
    stopped?;
    Ok(report)
}

async fn plan(app_url: &str) -> Result<Plan> {
    let pool = sqlx::PgPool::connect(app_url).await?;
    let seats = |event: &'static str, n: i64| {
        sqlx::query_scalar::<_, String>(
            "SELECT id::text FROM seats WHERE event_id = $1::uuid \
             ORDER BY section, row_number, seat_number LIMIT $2",
        )
        .bind(event)
        .bind(n)
        .fetch_all(&pool)
    };
    let seated_pool = seats(SEATED_EVENT, SEATED_POOL).await?;
    let cancelled_pool = seats(CANCELLED_EVENT, CANCELLED_POOL).await?;
    let ticket_types: Vec<String> = sqlx::query_scalar(
        "SELECT id::text FROM ticket_types WHERE event_id = $1::uuid ORDER BY name",
    )
    .bind(STANDING_EVENT)
    .fetch_all(&pool)
    .await?;
    pool.close().await;
    if seated_pool.is_empty() || cancelled_pool.is_empty() || ticket_types.is_empty() {
        bail!("the seeded catalog lacks the events the workload needs");
    }
    Ok(Plan {
        seated_event: SEATED_EVENT.into(),
        seated_pool,
        cancelled_event: CANCELLED_EVENT.into(),
        cancelled_pool,
        standing_event: STANDING_EVENT.into(),
        ticket_types,
    })
}

async fn drive(
    config: &RunConfig,
    system: &mut System,
    history: &History,
    started: Instant,
) -> Result<Report> {
    let root = Rng::new(config.seed);
    let plan = plan(&system.app_url).await?;
    let stack = system.stack()?;
    let workload_start = Instant::now();
    let deadline = workload_start + config.duration;
    let mut users_rng = root.fork(u64::MAX);
    let users: Vec<String> = (0..config.buyers)
        .map(|_| users_rng.uuid().to_string())
        .collect();
    let admin = stack.access_token(&users_rng.uuid().to_string(), true)?;
    let ctx = Arc::new(Ctx {
        history: history.clone(),
        target: stack.target.clone(),
        provider_url: system.provider_url.clone(),
        provider_secret: PROVIDER_SECRET_KEY.into(),
        webhook_secret: PROVIDER_WEBHOOK_SECRET.into(),
        plan: plan.clone(),
        deadline,
        event_cancelled: AtomicBool::new(false),
    });
    let mut tasks = Vec::new();
    for (i, user) in users.iter().enumerate() {
        let access = stack.access_token(user, false)?;
        let buyer = Buyer::new(ctx.clone(), i, user.clone(), access, root.fork(i as u64))?;
        tasks.push(tokio::spawn(buyer.run()));
    }
    let cancel_at = workload_start + config.duration.mul_f64(0.55);
    tasks.push(tokio::spawn(workload::operator(
        ctx.clone(),
        admin.clone(),
        cancel_at,
    )));
    tasks.push(tokio::spawn(workload::monitor(
        ctx.clone(),
        system.redis.url(),
        stack.key_prefix.clone(),
        vec![
            SEATED_EVENT.into(),
            CANCELLED_EVENT.into(),
            STANDING_EVENT.into(),
        ],
    )));

    if let Some(kind) = config.sabotage {
        let (redis_url, prefix, threshold) = (
            system.redis.url(),
            stack.key_prefix.clone(),
            config.threshold,
        );
        let at = workload_start + config.duration.mul_f64(0.3);
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(at).await;
            if let Err(e) =
                crate::sabotage::during(kind, &redis_url, &prefix, SEATED_EVENT, threshold).await
            {
                eprintln!("sabotage: {e:#}");
            }
        }));
    }
    let steps = if config.faults {
        nemesis::schedule(
            &mut root.fork(u64::MAX - 1),
            config.duration.as_millis() as u64,
        )
    } else {
        Vec::new()
    };
    let mut faults = Vec::new();
    for step in &steps {
        let at = workload_start + Duration::from_millis(step.at_ms);
        tokio::time::sleep_until(at).await;
        if Instant::now() >= deadline {
            break;
        }
        nemesis::apply(system, history, step).await;
        faults.push(format!(
            "{:.1}s {} ({} ms)",
            step.at_ms as f64 / 1000.0,
            step.fault.name(),
            step.hold_ms
        ));
    }
    tokio::time::sleep_until(deadline).await;
    let drain_end = Instant::now() + DRAIN;
    for task in tasks {
        let abort = task.abort_handle();
        if tokio::time::timeout_at(drain_end, task).await.is_err() {
            abort.abort();
        }
    }
    let workload_s = workload_start.elapsed().as_secs_f64();

    // Heal everything, then let reconciliation finish: stale `processing` payments are looked up
    // once older than the provider timeout plus its margin; owed refunds are delivered.
    system.heal_network();
    if !system.host_answers().await
        && let Some(stack) = system.stack.as_mut()
    {
        stack.restart_host().await?;
    }
    tokio::time::sleep(Duration::from_millis(
        u64::from(PROVIDER_TIMEOUT_MS) + 2_500,
    ))
    .await;
    let settle = workload::settle(&ctx, &admin, 15).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    history.flush();

    if let Some(kind) = config.sabotage {
        crate::sabotage::at_end(
            kind,
            &system.app_url,
            &system.provider_url,
            PROVIDER_SECRET_KEY,
        )
        .await?;
    }
    let snapshot = crate::snapshot::read(
        &system.app_url,
        &system.provider_url,
        PROVIDER_SECRET_KEY,
        i64::from(config.threshold),
    )
    .await
    .context("reading the end state")?;
    let events = history.events();
    let anomalies = check::all(&snapshot, &events);

    let mut operations: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for e in events.iter().filter(|e| e.kind != Kind::Invoke) {
        let kind = match e.kind {
            Kind::Ok => "ok",
            Kind::Fail => "fail",
            Kind::Unknown => "unknown",
            Kind::Invoke => "invoke",
        };
        *operations
            .entry(e.op.clone())
            .or_default()
            .entry(kind.into())
            .or_default() += 1;
    }
    let mut state = StateSummary {
        provider_captured: snapshot.provider_captured,
        provider_refunded: snapshot.provider_refunded,
        refunds_owed: snapshot
            .outbox
            .iter()
            .filter(|o| o.status == "pending")
            .map(|o| o.amount)
            .sum(),
        ..StateSummary::default()
    };
    for r in &snapshot.reservations {
        *state.reservations.entry(r.status.clone()).or_default() += 1;
    }
    for p in &snapshot.payments {
        *state.payments.entry(p.status.clone()).or_default() += 1;
    }
    Ok(Report {
        seed: config.seed,
        buyers: config.buyers,
        threshold: config.threshold,
        workload_s,
        wall_s: started.elapsed().as_secs_f64(),
        operations,
        faults,
        settle,
        state,
        anomalies,
        history: config.out.join("history.jsonl"),
    })
}

/// The report as a few lines, with a history excerpt for each anomaly.
pub fn render(report: &Report, events: &[history::Event]) -> String {
    let mut out = String::new();
    let total: u64 = report.operations.values().flat_map(|m| m.values()).sum();
    out.push_str(&format!(
        "urr-chaos seed {}: {} operations by {} buyers in {:.0} s ({:.0} s wall), {} faults, {} anomalies\n",
        report.seed,
        total,
        report.buyers,
        report.workload_s,
        report.wall_s,
        report.faults.len(),
        report.anomalies.len()
    ));
    for (op, kinds) in &report.operations {
        let kinds: Vec<String> = kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
        out.push_str(&format!("  {op:<22} {}\n", kinds.join(", ")));
    }
    out.push_str(&format!("  faults: {}\n", report.faults.join("; ")));
    out.push_str(&format!(
        "  end state: reservations {:?}, payments {:?}, provider captured {} refunded {}, refunds owed {}\n",
        report.state.reservations,
        report.state.payments,
        report.state.provider_captured,
        report.state.provider_refunded,
        report.state.refunds_owed
    ));
    for a in report.anomalies.iter().take(10) {
        out.push_str(&format!("ANOMALY [{}] {}\n", a.checker, a.message));
        for e in history::excerpt(events, &a.key, 8) {
            out.push_str(&format!(
                "    {:>7}ms {:<10} {:<8} {:<20} {} -> {}\n",
                e.time_ms,
                e.process,
                format!("{:?}", e.kind).to_lowercase(),
                e.op,
                e.args,
                e.result
            ));
        }
    }
    if !report.anomalies.is_empty() {
        out.push_str(&format!(
            "reproduce: urr-chaos --seed {} --buyers {} --threshold {} (history: {})\n",
            report.seed,
            report.buyers,
            report.threshold,
            report.history.display()
        ));
    }
    out
}
