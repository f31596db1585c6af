//! `bench-native`: the native baseline. A plain hyper server doing the same work as the
//! benchmarked components, without Wasm:
//!
//! - `GET /health` answers `{"status":"ok"}` (the `health` component's liveness reply);
//! - `GET /fixture/incr/<key>` does one Redis `INCR <prefix>:fixture:<key>` on a shared
//!   `ConnectionManager` and answers `{"value":n}` (the fixture component's Redis round trip).
//!
//! Loopback only, like the host it stands in for.

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use clap::Parser;
use http::{HeaderValue, Response, StatusCode};
use http_body_util::Full;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "bench-native",
    about = "Native hyper baseline for the URR Edge benchmarks"
)]
struct Args {
    /// Address to listen on (loopback only).
    #[arg(long, default_value = "127.0.0.1:3902")]
    listen: String,
    /// Redis for `/fixture/incr/<key>`.
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    redis: String,
    /// Prefix of the keys it increments (the benchmark deletes them afterwards).
    #[arg(long, default_value = "urrbench:native")]
    key_prefix: String,
    /// Tokio worker threads (the host uses one per core).
    #[arg(long)]
    threads: Option<usize>,
}

struct App {
    redis: redis::aio::ConnectionManager,
    key_prefix: String,
}

type Body = Full<Bytes>;

fn json(status: StatusCode, text: String) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(text)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

async fn handle(app: Arc<App>, req: http::Request<hyper::body::Incoming>) -> Response<Body> {
    let path = req.uri().path();
    if path == "/health" {
        return json(StatusCode::OK, r#"{"status":"ok"}"#.to_string());
    }
    if let Some(key) = path.strip_prefix("/fixture/incr/") {
        let key = format!("{}:fixture:{key}", app.key_prefix);
        let mut conn = app.redis.clone();
        let result: redis::RedisResult<i64> =
            redis::cmd("INCR").arg(&key).query_async(&mut conn).await;
        return match result {
            Ok(n) => json(
                StatusCode::OK,
                serde_json::json!({ "value": n }).to_string(),
            ),
            Err(e) => json(
                StatusCode::INTERNAL_SERVER_ERROR,
                serde_json::json!({ "error": e.to_string() }).to_string(),
            ),
        };
    }
    json(
        StatusCode::NOT_FOUND,
        r#"{"error":{"code":"not_found"}}"#.to_string(),
    )
}

fn main() -> Result<()> {
    let args = Args::parse();
    let addr: std::net::SocketAddr = args
        .listen
        .parse()
        .with_context(|| format!("`{}` is not ip:port", args.listen))?;
    if !addr.ip().is_loopback() {
        bail!("bench-native listens on loopback addresses only");
    }
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = args.threads {
        rt.worker_threads(n);
    }
    rt.enable_all().build()?.block_on(serve(args, addr))
}

async fn serve(args: Args, addr: std::net::SocketAddr) -> Result<()> {
    let client = redis::Client::open(args.redis.as_str())?;
    let redis = redis::aio::ConnectionManager::new(client)
        .await
        .context("connecting to Redis")?;
    let app = Arc::new(App {
        redis,
        key_prefix: args.key_prefix,
    });
    let listener = tokio::net::TcpListener::bind(addr).await?;
    eprintln!("bench-native listening on http://{addr}");
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    eprintln!("accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = term.recv() => return Ok(()),
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        tokio::spawn(async move {
            let io = hyper_util::rt::TokioIo::new(stream);
            let service = hyper::service::service_fn(move |req| {
                let app = app.clone();
                async move { Ok::<_, std::convert::Infallible>(handle(app, req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, service)
                .await;
        });
    }
}
