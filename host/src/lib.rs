//! `urr-edge`: a Spin-compatible runtime for the URR Edge components, on wasmtime 48.
//!
//! It reads spin.toml, builds and pre-instantiates every component, and serves HTTP with a fresh
//! instance per request, implementing the Spin host interfaces over real Redis and Postgres.
//! Production runs the same components on Spin; this host exists for local development and tests.
//!
//! - `manifest`   — spin.toml parsing and validation
//! - `variables`  — Spin variables: names, templates, resolution
//! - `routes`     — Spin route syntax, specificity, `spin-*` headers
//! - `outbound`   — `allowed_outbound_hosts` patterns
//! - `config`     — typed host settings and named limits
//! - `runtime`    — engine, linker, compile cache, pre-instantiation
//! - `server`     — HTTP serving, per-request limits, errors, shutdown
//! - `spin`       — host implementations of spin:variables, spin:redis, spin:postgres
//! - `outbound_http` — guest HTTP client with the allow-list and timeouts
//! - `stores`     — shared Redis connections and Postgres pools
//! - `metrics`    — Prometheus text at `/metrics`
//! - `business`   — the business counters on `/metrics`, read from Redis
//! - `build`      — `urr-edge build`, like `spin build`
//! - `database`   — component roles, database creation, migrations
//! - `devstack`   — the local Redis/PostgreSQL behind `urr-edge up`
//! - `keys`       — development session keys for `urr-edge up` (`.urr/keys/`)
//! - `seed`       — the demo catalog behind `urr-edge seed` (and `up`)
//! - `spin_cli`   — the same application on the real Spin CLI (conformance run, benchmarks)

pub mod app_settings;
pub mod build;
pub mod business;
pub mod config;
pub mod database;
pub mod devstack;
mod guest_log;
pub mod keys;
pub mod manifest;
pub mod metrics;
pub mod outbound;
pub mod outbound_http;
pub mod routes;
pub mod runtime;
pub mod seed;
pub mod server;
pub mod spin;
pub mod spin_cli;
pub mod state;
pub mod stores;
pub mod variables;

pub use config::{Exchange, GuestOutput, HostConfig, ResponseTap};
pub use server::{RunningHost, start};
