//! The admin screens' reads: the dashboard's counts, the seat layouts, the audit log.

use spin_sdk::pg::ParameterValue;
use urr_admin_domain::query::AuditQuery;
use urr_admin_domain::reply::{AuditEntry, AuditList};
use urr_admin_domain::sql;
use urr_catalog_domain::reply::{Layout, LayoutList, Pagination, iso_time};
use urr_component::{ApiError, Response, Result};

use crate::store::{column, optional_text, query, reply};

/// Layouts listed at once: a venue catalog, not a data set (the catalog's bound too).
const MAX_LAYOUTS: i64 = 100;

/// `{events:{total, upcoming, on_sale, ended, cancelled}, reservations:{total, pending, confirmed,
/// cancelled, expired}, revenue, seatsSold, standingTicketsSold, pendingRefunds:{count, amount}}`.
pub async fn dashboard() -> Result<Response> {
    let rows = query(sql::DASHBOARD, Vec::new()).await?;
    let row = rows.first().ok_or_else(ApiError::internal)?;
    let text: String = column(row, "dashboard")?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        eprintln!("admin: the dashboard is not JSON: {e}");
        ApiError::internal()
    })?;
    reply(200, &value)
}

pub async fn seat_layouts() -> Result<Response> {
    let rows = query(
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
    let rows = query(
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
