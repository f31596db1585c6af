//! Process-wide store clients shared by every request: one multiplexed, auto-reconnecting Redis
//! connection per address, and one sqlx pool per Postgres address.
//!
//! Maps are keyed by the full address the guest opens, so two roles on one server get two pools.

use crate::config::StoreSettings;
use anyhow::{Context, Result};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use sqlx::postgres::{PgPool, PgPoolOptions};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// After a failed Redis connect, opens of that address fail at once for this long instead of
/// queueing behind another attempt: during an outage every request gets its 503 now, not after
/// waiting in line behind one connect timeout per request ahead of it.
pub const REDIS_RECONNECT_BACKOFF: Duration = Duration::from_millis(500);

pub struct Stores {
    settings: StoreSettings,
    redis: Mutex<HashMap<String, Arc<RedisEntry>>>,
    pg: Mutex<HashMap<String, PgPool>>,
}

/// One Redis address: its shared connection or its last failure, and a lock that lets one
/// connect attempt run at a time (the others wait for its outcome instead of starting their own).
#[derive(Default)]
struct RedisEntry {
    state: Mutex<Option<RedisState>>,
    connecting: tokio::sync::Mutex<()>,
}

enum RedisState {
    Ready(ConnectionManager),
    Failed { at: Instant, error: String },
}

impl RedisEntry {
    /// The connection, or the recent failure; `None` when a new attempt is due.
    fn settled(&self) -> Option<Result<ConnectionManager>> {
        let state = self.state.lock().ok()?;
        match state.as_ref()? {
            RedisState::Ready(manager) => Some(Ok(manager.clone())),
            RedisState::Failed { at, error } if at.elapsed() < REDIS_RECONNECT_BACKOFF => {
                Some(Err(anyhow::anyhow!("Redis is unavailable: {error}")))
            }
            RedisState::Failed { .. } => None,
        }
    }

    fn set(&self, new: RedisState) {
        if let Ok(mut state) = self.state.lock() {
            *state = Some(new);
        }
    }
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

    /// The shared connection for `address`, created on first use (it reconnects on its own
    /// afterwards). One connect attempt runs at a time per address; a failure is remembered for
    /// [`REDIS_RECONNECT_BACKOFF`], then the next open tries again (Redis came back).
    pub async fn redis(&self, address: &str) -> Result<ConnectionManager> {
        let entry = {
            let mut map = self
                .redis
                .lock()
                .map_err(|_| anyhow::anyhow!("redis map poisoned"))?;
            map.entry(address.to_string()).or_default().clone()
        };
        if let Some(settled) = entry.settled() {
            return settled;
        }
        let _attempt = entry.connecting.lock().await;
        // Another request may have connected, or failed, while this one waited.
        if let Some(settled) = entry.settled() {
            return settled;
        }
        match self.connect_redis(address).await {
            Ok(manager) => {
                entry.set(RedisState::Ready(manager.clone()));
                Ok(manager)
            }
            Err(e) => {
                entry.set(RedisState::Failed {
                    at: Instant::now(),
                    error: format!("{e:#}"),
                });
                Err(e)
            }
        }
    }

    async fn connect_redis(&self, address: &str) -> Result<ConnectionManager> {
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
