//! `spin:redis@3.0.0` on one shared, multiplexed, auto-reconnecting connection per address.
//! `execute` carries any command, including EVAL/EVALSHA; multi-bulk replies come back flattened,
//! as Spin does.

use super::{Spin, rd};
use crate::state::HostState;
use redis::aio::ConnectionManager;
use wasmtime::component::{Accessor, Resource};

pub struct RedisConnection {
    conn: ConnectionManager,
}

fn to_error(e: redis::RedisError) -> rd::Error {
    if e.kind() == redis::ErrorKind::UnexpectedReturnType {
        rd::Error::TypeError
    } else {
        // The server's own message (e.g. "NOSCRIPT ...", "ERR ...") is what guests branch on.
        rd::Error::Other(e.to_string())
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
        V::Map(pairs) => {
            for (k, v) in pairs {
                flatten(k, out)?;
                flatten(v, out)?;
            }
        }
        V::Boolean(b) => out.push(rd::RedisResult::Int64(i64::from(b))),
        V::Double(d) => out.push(rd::RedisResult::Binary(d.to_string().into_bytes())),
        V::VerbatimString { text, .. } => out.push(rd::RedisResult::Binary(text.into_bytes())),
        V::ServerError(e) => return Err(rd::Error::Other(format!("{e:?}"))),
        other => {
            return Err(rd::Error::Other(format!(
                "unsupported Redis reply: {other:?}"
            )));
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
        let c = connection(accessor, &this)?;
        Ok(run(c, redis::cmd("SADD").arg(key).arg(values).clone()).await)
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
