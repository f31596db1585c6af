//! `spin:postgres@4.2.0` over one sqlx pool per address.
//!
//! One guest `connection` holds one pooled server session for its lifetime, so a guest's
//! `BEGIN ... COMMIT` stays on one session (Spin has no transaction API). When the guest drops the
//! connection, or the request ends, the session goes back to the pool through a reset
//! (`ROLLBACK; RESET ALL; ...`, see `stores.rs`), so nothing leaks into the next request.
//! Every call is bounded by the host's store timeout; a timed-out session is closed, not reused.
//!
//! Statements run as Spin runs them (tokio-postgres): always through the extended protocol (one
//! statement per call, even without parameters), prepared with no parameter types so the server
//! infers them, each parameter checked against its inferred type (`pg_types.rs`). A result with
//! no rows has no columns, as in Spin.

#![expect(
    clippy::result_large_err,
    reason = "pg::Error is the WIT interface's error type, returned to the guest as is"
)]

use super::pg_types::{Call, Param, bind_params, columns, convert_params, decode_row, to_error};
use super::{Spin, pg};
use crate::state::HostState;
use futures::TryStreamExt as _;
use sqlx::Postgres;
use sqlx::pool::PoolConnection;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;
use wasmtime::component::{Accessor, FutureReader, Resource, StreamReader};

/// Most rows one synchronous `query` may return to a guest (it answers with the whole row set;
/// `query-async` streams instead). Every list query in the application has a LIMIT far
/// below this; hitting it means a missing LIMIT, which should fail loudly rather than eat memory.
pub const MAX_ROWS_PER_QUERY: usize = 50_000;

type Session = Arc<Mutex<PoolConnection<Postgres>>>;

pub struct PgConnection {
    session: Session,
    op_timeout: Duration,
}

pub struct PgBuilder {
    address: String,
}

async fn open(
    state: (Arc<crate::stores::Stores>, bool, String),
    address: &str,
) -> Result<PgConnection, pg::Error> {
    let (stores, allowed, component) = state;
    if !allowed {
        tracing::warn!(%component, address = %crate::stores::redact(address), "postgres address denied by allowed_outbound_hosts");
        return Err(pg::Error::ConnectionFailed(format!(
            "address {} is not allowed for component `{component}`",
            crate::stores::redact(address)
        )));
    }
    let pool = stores
        .pg(address)
        .map_err(|e| pg::Error::ConnectionFailed(format!("{e:#}")))?;
    let conn = pool.acquire().await.map_err(to_error)?;
    Ok(PgConnection {
        session: Arc::new(Mutex::new(conn)),
        op_timeout: stores.settings().op_timeout,
    })
}

fn open_context(state: &HostState, address: &str) -> (Arc<crate::stores::Stores>, bool, String) {
    (
        state.stores.clone(),
        state.component.outbound.allows_postgres(address),
        state.component.id.clone(),
    )
}

/// Runs one operation on the session under the store timeout. On timeout the session is marked to
/// close: its protocol state is unknown, so it must never serve another request.
async fn bounded<T>(
    session: &Session,
    op_timeout: Duration,
    op: impl AsyncFnOnce(&mut PoolConnection<Postgres>) -> Result<T, pg::Error>,
) -> Result<T, pg::Error> {
    let mut guard = session.lock().await;
    match tokio::time::timeout(op_timeout, op(&mut guard)).await {
        Ok(result) => result,
        Err(_) => {
            guard.close_on_drop();
            Err(pg::Error::QueryFailed(pg::QueryError::Text(format!(
                "query did not finish within {op_timeout:?}; the session was closed"
            ))))
        }
    }
}

/// The parameter types the server infers for `statement` (prepared with none given, as
/// tokio-postgres prepares). sqlx keeps the prepared statement in the session's cache, so the
/// execution that follows reuses it instead of preparing again with other types.
async fn inferred_types(
    conn: &mut PoolConnection<Postgres>,
    statement: &str,
) -> Result<Vec<sqlx::postgres::PgTypeInfo>, pg::Error> {
    use sqlx::Executor as _;
    use sqlx::Statement as _;
    let prepared = (&mut **conn)
        .prepare(sqlx::AssertSqlSafe(statement.to_string()).into_sql_str())
        .await
        .map_err(to_error)?;
    Ok(match prepared.parameters() {
        Some(sqlx::Either::Left(types)) => types.to_vec(),
        _ => Vec::new(),
    })
}

/// Prepares `statement` and binds `params` with the inferred types.
async fn typed_query<'q>(
    conn: &mut PoolConnection<Postgres>,
    statement: &'q str,
    params: Vec<Param>,
) -> Result<super::pg_types::PgQuery<'q>, pg::Error> {
    let types = inferred_types(conn, statement).await?;
    bind_params(sqlx::query(sqlx::AssertSqlSafe(statement)), params, &types)
}

async fn execute(
    session: &Session,
    op_timeout: Duration,
    statement: String,
    params: Vec<pg::ParameterValue>,
) -> Result<u64, pg::Error> {
    let params = convert_params(params, Call::Execute)?;
    bounded(session, op_timeout, async |conn| {
        let q = typed_query(conn, &statement, params).await?;
        Ok(q.execute(&mut **conn)
            .await
            .map_err(to_error)?
            .rows_affected())
    })
    .await
}

async fn query(
    session: &Session,
    op_timeout: Duration,
    statement: String,
    params: Vec<pg::ParameterValue>,
) -> Result<(Vec<pg::Column>, Vec<Vec<pg::DbValue>>), pg::Error> {
    let params = convert_params(params, Call::Query)?;
    bounded(session, op_timeout, async |conn| {
        let q = typed_query(conn, &statement, params).await?;
        let mut stream = q.fetch(&mut **conn);
        let mut cols = Vec::new();
        let mut rows = Vec::new();
        while let Some(row) = stream.try_next().await.map_err(to_error)? {
            if rows.len() == MAX_ROWS_PER_QUERY {
                return Err(pg::Error::Other(format!(
                    "query returned more than {MAX_ROWS_PER_QUERY} rows; add a LIMIT"
                )));
            }
            if cols.is_empty() {
                cols = columns(&row);
            }
            rows.push(decode_row(&row)?);
        }
        Ok((cols, rows))
    })
    .await
}

use sqlx::SqlSafeStr as _;

/// Rows a streaming query reads ahead of the guest. The guest's reading paces the query: the
/// server's rows are never buffered without bound.
pub const STREAM_READ_AHEAD_ROWS: usize = 16;

type Row = Vec<pg::DbValue>;
type Columns = Vec<pg::Column>;

/// Starts a query whose rows flow to the guest as it reads them. Returns once the columns are
/// known (with the first row; none when there is no row).
async fn stream_query(
    session: Session,
    op_timeout: Duration,
    statement: String,
    params: Vec<pg::ParameterValue>,
) -> Result<
    (
        Columns,
        tokio::sync::mpsc::Receiver<Row>,
        tokio::sync::oneshot::Receiver<Result<(), pg::Error>>,
    ),
    pg::Error,
> {
    let params = convert_params(params, Call::Query)?;
    let (columns_tx, columns_rx) = tokio::sync::oneshot::channel::<Result<Columns, pg::Error>>();
    let (rows_tx, rows_rx) = tokio::sync::mpsc::channel::<Row>(STREAM_READ_AHEAD_ROWS);
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let mut conn = session.lock_owned().await;
        let mut columns_tx = Some(columns_tx);
        let result = async {
            let q = typed_query(&mut conn, &statement, params).await?;
            let mut stream = q.fetch(&mut **conn);
            loop {
                // Each row must arrive within the store timeout: a hung server ends the query.
                let next = tokio::time::timeout(op_timeout, stream.try_next())
                    .await
                    .map_err(|_| {
                        pg::Error::QueryFailed(pg::QueryError::Text(format!(
                            "no row within {op_timeout:?}"
                        )))
                    })?;
                let Some(row) = next.map_err(to_error)? else {
                    break;
                };
                if let Some(tx) = columns_tx.take() {
                    let _ = tx.send(Ok(columns(&row)));
                }
                if rows_tx.send(decode_row(&row)?).await.is_err() {
                    // The guest dropped the stream: stop reading.
                    return Ok(());
                }
            }
            drop(stream);
            if let Some(tx) = columns_tx.take() {
                // No rows, no columns (Spin reads them off the first row).
                let _ = tx.send(Ok(Vec::new()));
            }
            Ok(())
        }
        .await;
        match result {
            Err(e) => {
                if matches!(&e, pg::Error::QueryFailed(pg::QueryError::Text(t)) if t.starts_with("no row within"))
                {
                    conn.close_on_drop();
                }
                match columns_tx.take() {
                    Some(tx) => {
                        let _ = tx.send(Err(e));
                    }
                    None => {
                        let _ = done_tx.send(Err(e));
                    }
                }
            }
            Ok(()) => {
                let _ = done_tx.send(Ok(()));
            }
        }
    });
    match tokio::time::timeout(op_timeout, columns_rx).await {
        Ok(Ok(Ok(columns))) => Ok((columns, rows_rx, done_rx)),
        Ok(Ok(Err(e))) => Err(e),
        Ok(Err(_)) => Err(pg::Error::Other("the query task ended early".into())),
        Err(_) => Err(pg::Error::QueryFailed(pg::QueryError::Text(format!(
            "query did not start answering within {op_timeout:?}"
        )))),
    }
}

/// The guest's end of a streaming query: one row per read, as the rows arrive.
struct RowStream {
    rows: tokio::sync::mpsc::Receiver<Row>,
}

impl<D> wasmtime::component::StreamProducer<D> for RowStream {
    type Item = Row;
    type Buffer = Option<Row>;

    fn poll_produce<'a>(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        mut store: wasmtime::StoreContextMut<'a, D>,
        mut destination: wasmtime::component::Destination<'a, Self::Item, Self::Buffer>,
        finish: bool,
    ) -> std::task::Poll<wasmtime::Result<wasmtime::component::StreamResult>> {
        use std::task::Poll;
        use wasmtime::component::StreamResult;
        // A zero-length read asks for readiness; the channel cannot peek, so say "ready".
        if destination.remaining(&mut store) == Some(0) {
            return Poll::Ready(Ok(StreamResult::Completed));
        }
        match self.rows.poll_recv(cx) {
            Poll::Ready(Some(row)) => {
                destination.set_buffer(Some(row));
                Poll::Ready(Ok(StreamResult::Completed))
            }
            Poll::Ready(None) => Poll::Ready(Ok(StreamResult::Dropped)),
            Poll::Pending if finish => Poll::Ready(Ok(StreamResult::Cancelled)),
            Poll::Pending => Poll::Pending,
        }
    }
}

fn session_of<U>(
    accessor: &Accessor<U, Spin>,
    r: &Resource<PgConnection>,
) -> wasmtime::Result<(Session, Duration)> {
    accessor.with(|mut access| {
        let c = access.get().table.get(r)?;
        Ok((c.session.clone(), c.op_timeout))
    })
}

impl pg::Host for HostState {}

impl pg::HostConnection for HostState {
    async fn open(
        &mut self,
        address: String,
    ) -> wasmtime::Result<Result<Resource<PgConnection>, pg::Error>> {
        match open(open_context(self, &address), &address).await {
            Ok(c) => Ok(Ok(self.table.push(c)?)),
            Err(e) => Ok(Err(e)),
        }
    }

    async fn query(
        &mut self,
        this: Resource<PgConnection>,
        statement: String,
        params: Vec<pg::ParameterValue>,
    ) -> wasmtime::Result<Result<pg::RowSet, pg::Error>> {
        let c = self.table.get(&this)?;
        let (session, op_timeout) = (c.session.clone(), c.op_timeout);
        Ok(query(&session, op_timeout, statement, params)
            .await
            .map(|(columns, rows)| pg::RowSet { columns, rows }))
    }

    async fn execute(
        &mut self,
        this: Resource<PgConnection>,
        statement: String,
        params: Vec<pg::ParameterValue>,
    ) -> wasmtime::Result<Result<u64, pg::Error>> {
        let c = self.table.get(&this)?;
        let (session, op_timeout) = (c.session.clone(), c.op_timeout);
        Ok(execute(&session, op_timeout, statement, params).await)
    }

    async fn drop(&mut self, rep: Resource<PgConnection>) -> wasmtime::Result<()> {
        // Dropping the last handle returns the session to the pool (through the reset).
        self.table.delete(rep)?;
        Ok(())
    }
}

impl<U> pg::HostConnectionWithStore<U> for Spin {
    async fn open_async(
        accessor: &Accessor<U, Self>,
        address: String,
    ) -> wasmtime::Result<Result<Resource<PgConnection>, pg::Error>> {
        let context = accessor.with(|mut access| open_context(access.get(), &address));
        match open(context, &address).await {
            Ok(c) => Ok(Ok(accessor.with(|mut access| access.get().table.push(c))?)),
            Err(e) => Ok(Err(e)),
        }
    }

    async fn query_async(
        accessor: &Accessor<U, Self>,
        this: Resource<PgConnection>,
        statement: String,
        params: Vec<pg::ParameterValue>,
    ) -> wasmtime::Result<
        Result<
            (
                Vec<pg::Column>,
                StreamReader<Vec<pg::DbValue>>,
                FutureReader<Result<(), pg::Error>>,
            ),
            pg::Error,
        >,
    > {
        let (session, op_timeout) = session_of(accessor, &this)?;
        let (columns, rows, done) = match stream_query(session, op_timeout, statement, params).await
        {
            Ok(v) => v,
            Err(e) => return Ok(Err(e)),
        };
        accessor.with(|mut access| {
            let rows = StreamReader::new(&mut access, RowStream { rows })?;
            let done =
                FutureReader::new(&mut access, async move {
                    Ok::<_, wasmtime::Error>(done.await.unwrap_or_else(|_| {
                        Err(pg::Error::Other("the query was cancelled".into()))
                    }))
                })?;
            Ok(Ok((columns, rows, done)))
        })
    }

    async fn execute_async(
        accessor: &Accessor<U, Self>,
        this: Resource<PgConnection>,
        statement: String,
        params: Vec<pg::ParameterValue>,
    ) -> wasmtime::Result<Result<u64, pg::Error>> {
        let (session, op_timeout) = session_of(accessor, &this)?;
        Ok(execute(&session, op_timeout, statement, params).await)
    }
}

impl pg::HostConnectionBuilder for HostState {
    async fn new(&mut self, address: String) -> wasmtime::Result<Resource<PgBuilder>> {
        Ok(self.table.push(PgBuilder { address })?)
    }

    async fn set_ca_root(
        &mut self,
        _this: Resource<PgBuilder>,
        _certificate: String,
    ) -> wasmtime::Result<Result<(), pg::Error>> {
        // Loopback Postgres needs no TLS; production Spin handles custom roots itself.
        Ok(Err(pg::Error::Other(
            "custom CA roots are not supported by the local host".into(),
        )))
    }

    async fn build(
        &mut self,
        this: Resource<PgBuilder>,
    ) -> wasmtime::Result<Result<Resource<PgConnection>, pg::Error>> {
        let address = self.table.get(&this)?.address.clone();
        pg::HostConnection::open(self, address).await
    }

    async fn drop(&mut self, rep: Resource<PgBuilder>) -> wasmtime::Result<()> {
        self.table.delete(rep)?;
        Ok(())
    }
}

impl<U> pg::HostConnectionBuilderWithStore<U> for Spin {
    async fn build_async(
        accessor: &Accessor<U, Self>,
        this: Resource<PgBuilder>,
    ) -> wasmtime::Result<Result<Resource<PgConnection>, pg::Error>> {
        let address = accessor.with(|mut access| -> wasmtime::Result<String> {
            Ok(access.get().table.get(&this)?.address.clone())
        })?;
        <Spin as pg::HostConnectionWithStore<U>>::open_async(accessor, address).await
    }
}
