//! Process-wide store clients shared by every request: one multiplexed, auto-reconnecting Redis
//! connection per address, and one sqlx pool per Postgres address.
//!
//! Maps are keyed by the full address the guest opens, so two roles on one server get two pools.

use crate::config::StoreSettings;
use anyhow::{Context, Result};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use sqlx::postgres::{PgPool, PgPoolOptions};
use std::collections::HashMap;
use std::sync::Mutex;

pub struct Stores {
    settings: StoreSettings,
    redis: tokio::sync::Mutex<HashMap<String, ConnectionManager>>,
    pg: Mutex<HashMap<String, PgPool>>,
}

/// Statements run when a pooled connection goes back to the pool. A guest may leave a raw
/// `BEGIN` open (sqlx's own transaction tracking does not see it), change settings, or hold
/// advisory locks; none of that may leak into the next request's session.
const RESET_SESSION_SQL: &str = "ROLLBACK; RESET ALL; SELECT pg_advisory_unlock_all();";

impl Stores {
    pub fn new(settings: StoreSettings) -> Self {
        Self {
            settings,
            redis: Default::default(),
            pg: Default::default(),
        }
    }

    pub fn settings(&self) -> &StoreSettings {
        &self.settings
    }

    /// The shared connection for `address`, created on first use. A failed connect is not
    /// cached, so the next request tries again (Redis came back).
    pub async fn redis(&self, address: &str) -> Result<ConnectionManager> {
        let mut map = self.redis.lock().await;
        if let Some(c) = map.get(address) {
            return Ok(c.clone());
        }
        let client = redis::Client::open(address).context("invalid Redis address")?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.settings.redis_connect_timeout))
            .set_response_timeout(Some(self.settings.op_timeout))
            .set_number_of_retries(1);
        let manager = tokio::time::timeout(
            self.settings.redis_connect_timeout * 2,
            ConnectionManager::new_with_config(client, config),
        )
        .await
        .context("timed out connecting to Redis")?
        .context("connecting to Redis")?;
        map.insert(address.to_string(), manager.clone());
        Ok(manager)
    }

    /// The pool for `address`, created lazily (no connection is opened until a guest asks).
    pub fn pg(&self, address: &str) -> Result<PgPool> {
        let mut map = self
            .pg
            .lock()
            .map_err(|_| anyhow::anyhow!("pg pool map poisoned"))?;
        if let Some(p) = map.get(address) {
            return Ok(p.clone());
        }
        let pool = PgPoolOptions::new()
            .max_connections(self.settings.pg_pool_max)
            .acquire_timeout(self.settings.pg_acquire_timeout)
            .test_before_acquire(false)
            .after_release(|conn, _meta| {
                Box::pin(async move {
                    use sqlx::Executor as _;
                    // A failure here (server gone, session in COPY) closes the connection
                    // instead of handing a dirty session to the next request.
                    Ok(conn.execute(sqlx::raw_sql(RESET_SESSION_SQL)).await.is_ok())
                })
            })
            .connect_lazy(address)
            .context("invalid Postgres address")?;
        map.insert(address.to_string(), pool.clone());
        Ok(pool)
    }

    /// (address, size, idle) of every pool, for metrics.
    pub fn pg_pool_stats(&self) -> Vec<(String, u32, usize)> {
        self.pg
            .lock()
            .map(|map| {
                map.iter()
                    .map(|(a, p)| (redact(a), p.size(), p.num_idle()))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Strips credentials from an address before it reaches a log line or a metric label.
pub fn redact(address: &str) -> String {
    match (address.split_once("://"), address.rfind('@')) {
        (Some((scheme, _)), Some(at)) => format!("{scheme}://***@{}", &address[at + 1..]),
        _ => address.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn credentials_never_reach_labels() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://***@h:5432/db"
        );
        assert_eq!(redact("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
    }
}
