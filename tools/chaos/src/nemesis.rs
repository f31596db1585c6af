//! The nemesis: faults on a schedule drawn from the seed, each applied, held for a while and
//! healed, and recorded in the history as process `nemesis`.

use crate::history::Kind;
use crate::proxy::Mode;
use crate::rng::Rng;
use crate::system::System;
use serde_json::json;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Redis,
    Postgres,
    Provider,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// `kill -9` of the host, restarted after the hold.
    KillHost,
    /// Redis killed and started again with its data (append-only file).
    RedisRestart,
    /// Redis killed and started again empty (its files deleted: data loss).
    RedisRestartEmpty,
    /// Postgres crashed (`-m immediate`) and started again (crash recovery).
    PostgresRestart,
    /// A network fault between the host and a store or the provider.
    Net(Link, Mode),
}

impl Fault {
    pub fn name(&self) -> String {
        match self {
            Fault::KillHost => "kill-host".into(),
            Fault::RedisRestart => "redis-restart".into(),
            Fault::RedisRestartEmpty => "redis-restart-empty".into(),
            Fault::PostgresRestart => "postgres-restart".into(),
            Fault::Net(link, mode) => {
                let link = match link {
                    Link::Redis => "redis",
                    Link::Postgres => "postgres",
                    Link::Provider => "provider",
                };
                let mode = match mode {
                    Mode::Pass => "pass".to_string(),
                    Mode::Delay(ms) => format!("latency-{ms}ms"),
                    Mode::Blackhole => "blackhole".into(),
                    Mode::Reset => "reset".into(),
                };
                format!("{link}-{mode}")
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// When, in milliseconds from the start of the workload.
    pub at_ms: u64,
    pub fault: Fault,
    pub hold_ms: u64,
}

/// The faults of a run of `duration_ms`: one every 5 to 10 s after a quiet first 4 s, none in
/// the last 4 s, each held 1 to 4 s.
pub fn schedule(rng: &mut Rng, duration_ms: u64) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut t = 4_000 + rng.below(3_000);
    while t + 4_000 < duration_ms {
        let hold_ms = rng.range(1_000, 4_000);
        let link = *rng
            .pick(&[Link::Redis, Link::Postgres, Link::Provider])
            .unwrap_or(&Link::Redis);
        let mode = match rng.below(3) {
            0 => Mode::Delay(rng.range(200, 1_500)),
            1 => Mode::Blackhole,
            _ => Mode::Reset,
        };
        let fault = match rng.below(10) {
            0 | 1 => Fault::KillHost,
            2 => Fault::RedisRestart,
            3 => Fault::RedisRestartEmpty,
            4 | 5 => Fault::PostgresRestart,
            _ => Fault::Net(link, mode),
        };
        steps.push(Step {
            at_ms: t,
            fault,
            hold_ms,
        });
        t += hold_ms + rng.range(5_000, 10_000);
    }
    steps
}

/// Applies one step: the fault, the hold, the heal.
pub async fn apply(system: &mut System, history: &crate::history::History, step: &Step) {
    let args = json!({"fault": step.fault.name(), "holdMs": step.hold_ms});
    history.record(
        "nemesis",
        Kind::Invoke,
        "fault",
        args.clone(),
        serde_json::Value::Null,
    );
    let hold = Duration::from_millis(step.hold_ms);
    let outcome: anyhow::Result<()> = async {
        match step.fault {
            Fault::KillHost => {
                if let Some(stack) = system.stack.as_mut() {
                    let _ = stack.host.child.start_kill();
                    tokio::time::sleep(hold).await;
                    stack.restart_host().await?;
                }
            }
            Fault::RedisRestart | Fault::RedisRestartEmpty => {
                tokio::task::block_in_place(|| system.redis.kill());
                tokio::time::sleep(hold).await;
                let empty = step.fault == Fault::RedisRestartEmpty;
                tokio::task::block_in_place(|| system.redis.restart(empty))?;
            }
            Fault::PostgresRestart => {
                tokio::task::block_in_place(|| system.postgres.crash());
                tokio::time::sleep(hold).await;
                tokio::task::block_in_place(|| system.postgres.restart())?;
            }
            Fault::Net(link, mode) => {
                let proxy = match link {
                    Link::Redis => &system.redis_proxy,
                    Link::Postgres => &system.postgres_proxy,
                    Link::Provider => &system.provider_proxy,
                };
                proxy.set(mode);
                tokio::time::sleep(hold).await;
                proxy.set(Mode::Pass);
            }
        }
        Ok(())
    }
    .await;
    match outcome {
        Ok(()) => history.record("nemesis", Kind::Ok, "fault", args, json!({"healed": true})),
        Err(e) => history.record(
            "nemesis",
            Kind::Fail,
            "fault",
            args,
            json!({"error": format!("{e:#}")}),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_gives_one_schedule_inside_the_run() {
        let a = schedule(&mut Rng::new(42), 120_000);
        let b = schedule(&mut Rng::new(42), 120_000);
        assert_eq!(a, b);
        assert!(a.len() >= 8, "{}", a.len());
        assert!(
            a.iter()
                .all(|s| s.at_ms >= 4_000 && s.at_ms + 4_000 < 120_000)
        );
        assert!(a.windows(2).all(|w| w[0].at_ms + w[0].hold_ms < w[1].at_ms));
        assert_ne!(a, schedule(&mut Rng::new(43), 120_000));
    }
}
