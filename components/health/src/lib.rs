//! Component `health`: `/health` (shallow liveness, for the load balancer) and `/health/ready`
//! (Redis and Postgres through the host interfaces). The server clock lives in `catalog`.
//!
//! Liveness never touches a store, so a Redis blip cannot make the load balancer churn the fleet.
//! Readiness probes both stores at once; each probe is bounded by the host's store timeout, so a
//! hung store answers 503 well within the route deadline.

use spin_sdk::http::{Method, Request};
use spin_sdk::http_service;
use urr_api::health::{Dependency, DependencyStatus, Readiness};
use urr_component::{ApiError, Response, api_path, json, method_not_allowed};

#[http_service]
async fn handle(req: Request) -> Response {
    urr_component::edge(req, route).await
}

async fn route(req: Request) -> Response {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return method_not_allowed("GET, HEAD");
    }
    let path = api_path(req.uri().path());
    match path {
        "/health" => json(200, &liveness()),
        "/health/ready" => ready().await,
        _ => urr_component::error(&ApiError::not_found()),
    }
}

fn liveness() -> std::collections::BTreeMap<&'static str, &'static str> {
    [("status", "ok")].into()
}

async fn ready() -> Response {
    let (redis, postgres) = futures::join!(probe_redis(), probe_postgres());
    let readiness =
        Readiness::from_checks(&[(Dependency::Redis, redis), (Dependency::Postgres, postgres)]);
    let mut response = json(readiness.http_status, &readiness);
    if let Some(secs) = readiness.retry_after_secs()
        && let Ok(v) = secs.to_string().parse()
    {
        response.headers_mut().insert("retry-after", v);
    }
    response
}

fn down(reason: impl std::fmt::Debug) -> DependencyStatus {
    let reason = format!("{reason:?}");
    eprintln!("readiness: {reason}");
    DependencyStatus::Down { reason }
}

async fn probe_redis() -> DependencyStatus {
    let Ok(conn) = urr_component::redis().await else {
        return down("redis: cannot connect");
    };
    match conn.execute("PING", []).await {
        Ok(_) => DependencyStatus::Ok,
        Err(e) => down(e),
    }
}

async fn probe_postgres() -> DependencyStatus {
    let Ok(db) = urr_component::postgres().await else {
        return down("postgres: cannot connect");
    };
    match db.query("SELECT 1", Vec::new()).await {
        Ok(result) => match result.collect().await {
            Ok(rows) if rows.len() == 1 => DependencyStatus::Ok,
            Ok(rows) => down(format!("postgres: SELECT 1 returned {} rows", rows.len())),
            Err(e) => down(e),
        },
        Err(e) => down(e),
    }
}
