//! `urr-chaos`: fault injection and history checking for the whole booking flow (a small
//! Jepsen for URR Edge). The system runs as separate processes on loopback (host, private Redis
//! and Postgres, the mock provider, fault proxies); seeded buyers drive the public API while a
//! seeded nemesis injects faults; every operation lands in a JSON-lines history; at the end the
//! checkers read Postgres, Redis and the provider's own ledger independently.
//!
//! - `rng`      — the seeded generator (workload and faults repeat with the seed)
//! - `history`  — invoke / ok / fail / unknown events, JSON lines, excerpts
//! - `stores`   — private redis-server and PostgreSQL that can crash and restart
//! - `proxy`    — the TCP fault proxy (latency, resets, black holes)
//! - `system`   — everything as processes, on top of `urr-bench`'s stack
//! - `workload` — buyers, the operator, the queue monitor
//! - `nemesis`  — the fault schedule and how each fault is applied
//! - `snapshot` — the end state from the stores and the provider
//! - `check`    — the checkers (pure, each shown failing in its tests)
//! - `sabotage` — deliberate damage, to see each checker fail end to end
//! - `run`      — one run, its report

pub mod check;
pub mod history;
pub mod nemesis;
pub mod proxy;
pub mod rng;
pub mod run;
pub mod sabotage;
pub mod snapshot;
pub mod stores;
pub mod system;
pub mod workload;
