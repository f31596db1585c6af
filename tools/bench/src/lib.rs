//! `urr-bench`: a load generator for the URR Edge host, and the benchmark suite behind
//! docs/benchmarks.md.
//!
//! - `stats`     — latency samples, percentiles, ratios, formatting (pure, unit-tested)
//! - `scenario`  — what to send: a fixed request, a script, extra headers (the token extension point)
//! - `load`      — keep-alive workers at a fixed concurrency or a fixed arrival rate, loopback only
//! - `procs`     — servers under test as child processes: readiness, RSS, stop by pid
//! - `baselines` — `redis-benchmark` and `pgbench`, when installed
//! - `suite`     — the full comparison and its Markdown/JSON report
//! - `stack`     — the whole application under benchmark: own database, keys, host; token minting
//! - `auth`      — login (Argon2id in Wasm vs native) and refresh rotation chains
//! - `catalog`   — the catalog reads through the host next to the same SQL run directly
//! - `queue_rush` — the waiting room's queue-rush: joins, status under a rush, status flatness
//! - `seats`     — seat holds and reserves through the host next to raw EVALSHA and pgbench
//! - `booking_flow` — simulated buyers walking queue → seat map → hold → reserve → pay → list
//! - `admin_stats` — the 14 admin statistics figures, c=1, over 100,000 seeded reservations

pub mod admin_stats;
pub mod auth;
pub mod baselines;
pub mod booking_flow;
pub mod catalog;
pub mod load;
pub mod procs;
pub mod queue_rush;
pub mod scenario;
pub mod seats;
pub mod stack;
pub mod stats;
pub mod suite;
