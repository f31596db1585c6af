//! The admin screens' reads: the dashboard's counts, the seat layouts, the audit log.

use spin_sdk::pg::ParameterValue;
use spin_sdk::redis::{Connection, RedisParameter, RedisResult};
use urr_admin_domain::live::{self, LiveCounters};
use urr_admin_domain::query::AuditQuery;
use urr_admin_domain::reply::{AuditEntry, AuditList};
use urr_admin_domain::sql;
use urr_catalog_domain::reply::{Layout, LayoutList, Pagination, iso_time};
use urr_component::{ApiError, Response, Result};

use crate::store::{STORE, reply};
use urr_component::pg::{column, optional_text};

/// Layouts listed at once: a venue catalog, not a data set (the catalog's bound too).
const MAX_LAYOUTS: i64 = 100;

/// `{stats:{totalEvents, totalReservations, totalRevenue, todayReservations}, recentReservations,
/// events:{total, upcoming, on_sale, ended, cancelled}, reservations:{total, pending, confirmed,
/// cancelled, expired}, revenue, seatsSold, standingTicketsSold, pendingRefunds:{count, amount},
/// counters, live}`: `stats` and `recentReservations` as URR's web reads them
/// (`admin_dashboard_web()`, definitions in docs/admin.md): the table counts from `admin_dashboard()` (status at this instant),
/// `counters` the transitions Postgres counted with each change (`sql::DASHBOARD`), and `live`
/// (`urr_admin_domain::live`) the waiting room's and the seat holds' counters from Redis, or
/// `null` when Redis cannot answer.
pub async fn dashboard(redis: Option<&Connection>, key_prefix: &str) -> Result<Response> {
    let rows = STORE.query(sql::DASHBOARD, Vec::new()).await?;
    let row = rows.first().ok_or_else(ApiError::internal)?;
    let json = |name: &str| -> Result<serde_json::Value> {
        let text: String = column(row, name)?;
        serde_json::from_str(&text).map_err(|e| {
            eprintln!("admin: the dashboard's {name} is not JSON: {e}");
            ApiError::internal()
        })
    };
    let mut value = json("dashboard")?;
    value["counters"] = json("counters")?;
    // URR's web reads `stats` (the cards) and `recentReservations` beside our richer fields.
    let web = json("web")?;
    value["stats"] = web["stats"].clone();
    value["recentReservations"] = web["recentReservations"].clone();
    let live = match redis {
        Some(conn) => live_counters(conn, key_prefix).await?,
        None => None,
    };
    value["live"] = serde_json::to_value(live).map_err(|_| ApiError::internal())?;
    reply(200, &value)
}

/// Sums the per-event counters; `None` when Redis fails part-way (a partial sum would mislead).
async fn live_counters(conn: &Connection, key_prefix: &str) -> Result<Option<LiveCounters>> {
    let rows = STORE
        .query(
            sql::LIVE_EVENTS,
            vec![ParameterValue::Int64(live::MAX_LIVE_EVENTS)],
        )
        .await?;
    let mut live = LiveCounters::default();
    for row in &rows {
        let id: String = column(row, "id")?;
        let (queue_key, hold_key) = live::event_keys(key_prefix, &id).map_err(|e| {
            eprintln!("admin: event id {id}: {e}");
            ApiError::internal()
        })?;
        let (Some(queue), Some(holds)) = (
            hmget(conn, &queue_key, &live::QUEUE_FIELDS).await,
            hmget(conn, &hold_key, &live::HOLD_FIELDS).await,
        ) else {
            return Ok(None);
        };
        live.add_event(&queue, &holds);
    }
    Ok(Some(live))
}

async fn hmget(conn: &Connection, key: &str, fields: &[&str]) -> Option<Vec<Option<String>>> {
    let mut args = vec![RedisParameter::Binary(key.as_bytes().to_vec())];
    args.extend(
        fields
            .iter()
            .map(|f| RedisParameter::Binary(f.as_bytes().to_vec())),
    );
    match conn.execute("HMGET", args).await {
        Ok(values) => Some(
            values
                .into_iter()
                .map(|v| match v {
                    RedisResult::Binary(b) => String::from_utf8(b).ok(),
                    RedisResult::Status(s) => Some(s),
                    RedisResult::Int64(n) => Some(n.to_string()),
                    RedisResult::Nil => None,
                })
                .collect(),
        ),
        Err(e) => {
            eprintln!("admin: live counters unavailable, redis: {e:?}");
            None
        }
    }
}

pub async fn seat_layouts() -> Result<Response> {
    let rows = STORE
        .query(
            urr_catalog_domain::sql::LIST_LAYOUTS,
            vec![ParameterValue::Int64(MAX_LAYOUTS)],
        )
        .await?;
    let mut layouts = Vec::with_capacity(rows.len());
    for row in &rows {
        layouts.push(Layout {
            id: column(row, "id")?,
            name: column(row, "name")?,
            description: column(row, "description")?,
            total_seats: column(row, "total_seats")?,
            layout_config: column(row, "layout_config")?,
        });
    }
    reply(200, &LayoutList { layouts })
}

pub async fn audit_log(raw_query: &str) -> Result<Response> {
    let q = AuditQuery::parse(raw_query)?;
    let rows = STORE
        .query(
            sql::LIST_AUDIT_LOG,
            vec![
                optional_text(q.resource_type.as_deref()),
                optional_text(q.resource_id.as_deref()),
                ParameterValue::Int64(q.paging.limit),
                ParameterValue::Int64(q.paging.offset()),
            ],
        )
        .await?;
    let mut total = 0;
    let mut entries = Vec::with_capacity(rows.len());
    for row in &rows {
        total = column::<i64>(row, "total")?;
        let Some(entry_id) = column::<Option<i64>>(row, "id")? else {
            continue;
        };
        let summary: String = column(row, "request_summary")?;
        entries.push(AuditEntry {
            id: entry_id,
            admin_id: column(row, "admin_id")?,
            action: column(row, "action")?,
            resource_type: column(row, "resource_type")?,
            resource_id: column(row, "resource_id")?,
            request_summary: serde_json::from_str(&summary).unwrap_or(serde_json::Value::Null),
            resulting_status: column(row, "resulting_status")?,
            client_ip: column(row, "client_ip")?,
            created_at: iso_time(column(row, "created_at")?),
        });
    }
    reply(
        200,
        &AuditList {
            audit_log: entries,
            pagination: Pagination::new(q.paging.page, q.paging.limit, total),
        },
    )
}
