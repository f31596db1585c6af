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
//! - `catalog`   — the catalog reads through the host next to the same SQL run directly
//! - `booking_flow` — simulated buyers walking queue → seat map → hold → reserve → pay → list

pub mod baselines;
pub mod booking_flow;
pub mod catalog;
pub mod load;
pub mod procs;
pub mod scenario;
pub mod stack;
pub mod stats;
pub mod suite;
