//! `spin:redis@3.0.0` on one shared, multiplexed, auto-reconnecting connection per address.
//! `execute` carries any command, including EVAL/EVALSHA; multi-bulk replies come back flattened.
//!
//! Replies and errors are Spin's (its `factor-outbound-redis`): a map, verbatim-string, attribute
//! or push reply is an error, not flattened; every failure is `other(message)` except a type
//! error of `sadd`, and an address the Redis client cannot parse is `invalid-address`. Spin opens
//! a connection of its own for every `open`; this host shares one per address, so the commands
//! that change a connection's state (SELECT, MULTI, WATCH, CLIENT, ...) are refused here rather
//! than leaking into other requests — they behave differently on the two runtimes.

use super::{Spin, rd};
use crate::state::HostState;
use redis::aio::ConnectionManager;
use wasmtime::component::{Accessor, Resource};

pub struct RedisConnection {
    conn: ConnectionManager,
}

/// Commands whose effect outlives the call on the connection that ran them. Spin gives each
/// `open` its own connection; this host shares one per address, so it refuses them.
const CONNECTION_STATE_COMMANDS: &[&str] = &[
    "AUTH",
    "CLIENT",
    "DISCARD",
    "EXEC",
    "HELLO",
    "MONITOR",
    "MULTI",
    "PSUBSCRIBE",
    "QUIT",
    "READONLY",
    "READWRITE",
    "RESET",
    "SELECT",
    "SSUBSCRIBE",
    "SUBSCRIBE",
    "UNWATCH",
    "WATCH",
];

fn to_error(e: redis::RedisError) -> rd::Error {
    // The server's own message (e.g. "NOSCRIPT ...", "ERR ...") is what guests branch on.
    rd::Error::Other(e.to_string())
}

/// `sadd` is the one call whose type errors Spin reports as `type-error`.
fn to_sadd_error(e: redis::RedisError) -> rd::Error {
    if e.kind() == redis::ErrorKind::UnexpectedReturnType {
        rd::Error::TypeError
    } else {
        to_error(e)
    }
}

fn connection<U>(
    accessor: &Accessor<U, Spin>,
    r: &Resource<RedisConnection>,
) -> wasmtime::Result<ConnectionManager> {
    accessor.with(|mut access| Ok(access.get().table.get(r)?.conn.clone()))
}

async fn run<R: redis::FromRedisValue>(
    mut conn: ConnectionManager,
    cmd: redis::Cmd,
) -> Result<R, rd::Error> {
    cmd.query_async::<R>(&mut conn).await.map_err(to_error)
}

fn unsupported(what: &str) -> rd::Error {
    rd::Error::Other(format!("Could not convert Redis response - {what}"))
}

fn flatten(value: redis::Value, out: &mut Vec<rd::RedisResult>) -> Result<(), rd::Error> {
    use redis::Value as V;
    match value {
        V::Nil => out.push(rd::RedisResult::Nil),
        V::Int(i) => out.push(rd::RedisResult::Int64(i)),
        V::BulkString(b) => out.push(rd::RedisResult::Binary(b)),
        V::SimpleString(s) => out.push(rd::RedisResult::Status(s)),
        V::Okay => out.push(rd::RedisResult::Status("OK".into())),
        V::Array(items) | V::Set(items) => {
            for item in items {
                flatten(item, out)?;
            }
        }
        V::Boolean(b) => out.push(rd::RedisResult::Int64(i64::from(b))),
        V::Double(d) => out.push(rd::RedisResult::Binary(d.to_string().into_bytes())),
        // The number's decimal digits, as Spin sends them.
        V::BigNumber(digits) => out.push(rd::RedisResult::Binary(digits)),
        V::ServerError(e) => return Err(rd::Error::Other(format!("Server error: {e:?}"))),
        // Spin refuses these rather than flatten them (RESP3 maps, formatted strings, ...).
        V::Map(_) => return Err(unsupported("Redis Map type is not supported")),
        V::VerbatimString { .. } => {
            return Err(unsupported(
                "Redis string with format attribute is not supported",
            ));
        }
        V::Attribute { .. } => return Err(unsupported("Redis Attribute type is not supported")),
        V::Push { .. } => return Err(unsupported("Redis Pub/Sub types are not supported")),
        other => {
            return Err(unsupported(&format!("unsupported Redis reply: {other:?}")));
        }
    }
    Ok(())
}

impl rd::Host for HostState {}

impl rd::HostConnection for HostState {
    async fn drop(&mut self, rep: Resource<RedisConnection>) -> wasmtime::Result<()> {
        self.table.delete(rep)?;
        Ok(())
    }
}

impl<U> rd::HostConnectionWithStore<U> for Spin {
    async fn open(
        accessor: &Accessor<U, Self>,
        address: String,
    ) -> wasmtime::Result<Result<Resource<RedisConnection>, rd::Error>> {
        let (stores, allowed, component) = accessor.with(|mut access| {
            let state = access.get();
            (
                state.stores.clone(),
                state
                    .component
                    .outbound
                    .allows_url(&address, crate::outbound::REDIS_SCHEME),
                state.component.id.clone(),
            )
        });
        if !allowed {
            tracing::warn!(%component, address = %crate::stores::redact(&address), "redis address denied by allowed_outbound_hosts");
            return Ok(Err(rd::Error::InvalidAddress));
        }
        // An address the Redis client cannot read is `invalid-address` in Spin, not `other`.
        if redis::Client::open(address.as_str()).is_err() {
            return Ok(Err(rd::Error::InvalidAddress));
        }
        let conn = match stores.redis(&address).await {
            Ok(c) => c,
            Err(e) => return Ok(Err(rd::Error::Other(format!("{e:#}")))),
        };
        let resource =
            accessor.with(|mut access| access.get().table.push(RedisConnection { conn }))?;
        Ok(Ok(resource))
    }

    async fn publish(
        accessor: &Accessor<U, Self>,
        this: Resource<RedisConnection>,
        channel: String,
        payload: Vec<u8>,
    ) -> wasmtime::Result<Result<(), rd::Error>> {
        let c = connection(accessor, &this)?;
        Ok(run::<()>(c, redis::cmd("PUBLISH").arg(channel).arg(payload).clone()).await)
    }

    async fn get(
        accessor: &Accessor<U, Self>,
        this: Resource<RedisConnection>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, rd::Error>> {
        let c = connection(accessor, &this)?;
        Ok(run(c, redis::cmd("GET").arg(key).clone()).await)
    }

    async fn set(
        accessor: &Accessor<U, Self>,
        this: Resource<RedisConnection>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), rd::Error>> {
        let c = connection(accessor, &this)?;
        Ok(run::<()>(c, redis::cmd("SET").arg(key).arg(value).clone()).await)
    }

    async fn incr(
        accessor: &Accessor<U, Self>,
        this: Resource<RedisConnection>,
        key: String,
    ) -> wasmtime::Result<Result<i64, rd::Error>> {
        let c = connection(accessor, &this)?;
        Ok(run(c, redis::cmd("INCR").arg(key).clone()).await)
    }

    async fn del(
        accessor: &Accessor<U, Self>,
        this: Resource<RedisConnection>,
        keys: Vec<String>,
    ) -> wasmtime::Result<Result<u32, rd::Error>> {
        let c = connection(accessor, &this)?;
        Ok(run(c, redis::cmd("DEL").arg(keys).clone()).await)
    }

    async fn sadd(
        accessor: &Accessor<U, Self>,
        this: Resource<RedisConnection>,
        key: String,
        values: Vec<String>,
    ) -> wasmtime::Result<Result<u32, rd::Error>> {
        let mut c = connection(accessor, &this)?;
        Ok(redis::cmd("SADD")
            .arg(key)
            .arg(values)
            .query_async::<u32>(&mut c)
            .await
            .map_err(to_sadd_error))
    }

    async fn smembers(
        accessor: &Accessor<U, Self>,
        this: Resource<RedisConnection>,
        key: String,
    ) -> wasmtime::Result<Result<Vec<String>, rd::Error>> {
        let c = connection(accessor, &this)?;
        Ok(run(c, redis::cmd("SMEMBERS").arg(key).clone()).await)
    }

    async fn srem(
        accessor: &Accessor<U, Self>,
        this: Resource<RedisConnection>,
        key: String,
        values: Vec<String>,
    ) -> wasmtime::Result<Result<u32, rd::Error>> {
        let c = connection(accessor, &this)?;
        Ok(run(c, redis::cmd("SREM").arg(key).arg(values).clone()).await)
    }

    async fn execute(
        accessor: &Accessor<U, Self>,
        this: Resource<RedisConnection>,
        command: String,
        arguments: Vec<rd::RedisParameter>,
    ) -> wasmtime::Result<Result<Vec<rd::RedisResult>, rd::Error>> {
        if CONNECTION_STATE_COMMANDS.contains(&command.to_ascii_uppercase().as_str()) {
            return Ok(Err(rd::Error::Other(format!(
                "`{command}` changes the connection's state, which this host shares between requests (Spin gives each open its own connection): not supported by urr-edge"
            ))));
        }
        let c = connection(accessor, &this)?;
        let mut cmd = redis::cmd(&command);
        for argument in arguments {
            match argument {
                rd::RedisParameter::Int64(i) => cmd.arg(i),
                rd::RedisParameter::Binary(b) => cmd.arg(b),
            };
        }
        let value: redis::Value = match run(c, cmd).await {
            Ok(v) => v,
            Err(e) => return Ok(Err(e)),
        };
        let mut out = Vec::new();
        Ok(flatten(value, &mut out).map(|()| out))
    }
}
