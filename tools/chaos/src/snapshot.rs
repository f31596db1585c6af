//! The end state, read independently of the application: Postgres directly as its superuser,
//! and the mock provider's own ledger (its counters, and each order our payments name, asked
//! with the provider's API key as any client of the provider would).

use crate::check::{Item, Outbox, Payment, ProviderOrder, Reservation, Seat, Snapshot, TicketType};
use anyhow::{Context, Result};
use bytes::Bytes;
use std::collections::BTreeMap;
use std::time::Duration;
use urr_bench::load::{FlowClient, Target};
use urr_bench::scenario::RequestSpec;

pub async fn read(
    app_url: &str,
    provider_url: &str,
    provider_secret: &str,
    queue_threshold: i64,
) -> Result<Snapshot> {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect(app_url)
        .await
        .context("connecting to the run's database for the checks")?;
    let reservations: Vec<(String, String, String, String, String, i32, bool)> = sqlx::query_as(
        "SELECT id::text, user_id::text, event_id::text, status, payment_status, total_amount, \
                (status = 'pending' AND expires_at <= now()) FROM reservations",
    )
    .fetch_all(&pool)
    .await?;
    let items: Vec<(String, Option<String>, Option<String>, i32)> = sqlx::query_as(
        "SELECT reservation_id::text, seat_id::text, ticket_type_id::text, quantity \
           FROM reservation_items",
    )
    .fetch_all(&pool)
    .await?;
    let seats: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT s.id::text, s.status, s.reservation_id::text FROM seats AS s \
          WHERE s.id IN (SELECT seat_id FROM reservation_items WHERE seat_id IS NOT NULL)",
    )
    .fetch_all(&pool)
    .await?;
    let ticket_types: Vec<(String, i32, i32)> =
        sqlx::query_as("SELECT id::text, total_quantity, available_quantity FROM ticket_types")
            .fetch_all(&pool)
            .await?;
    let payments: Vec<(String, String, String, String, String, Option<i32>)> = sqlx::query_as(
        "SELECT id::text, reservation_id::text, order_id, status, idempotency_key, refund_amount \
           FROM payments",
    )
    .fetch_all(&pool)
    .await?;
    let outbox: Vec<(String, i32, String)> =
        sqlx::query_as("SELECT payment_id::text, amount, status FROM payment_outbox")
            .fetch_all(&pool)
            .await?;
    let cancelled: Vec<String> = sqlx::query_scalar("SELECT id::text FROM events WHERE cancelled")
        .fetch_all(&pool)
        .await
        .or_else(|_| Ok::<_, sqlx::Error>(Vec::new()))?;
    pool.close().await;

    let mut provider = Provider::new(provider_url, provider_secret)?;
    let counts = provider.get_json("/_mock/counts", false).await?;
    let capture_keys: BTreeMap<String, u32> = counts["captures"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0) as u32))
                .collect()
        })
        .unwrap_or_default();
    let mut orders = Vec::new();
    for (_, _, order_id, _, _, _) in &payments {
        let object = provider
            .get_json(&format!("/v1/payments/orders/{order_id}"), true)
            .await?;
        if let Some(status) = object["status"].as_str() {
            orders.push(ProviderOrder {
                order_id: order_id.clone(),
                amount: object["amount"].as_i64().unwrap_or(0),
                status: status.to_string(),
            });
        }
    }

    Ok(Snapshot {
        reservations: reservations
            .into_iter()
            .map(
                |(id, user_id, event_id, status, payment_status, total, expired)| Reservation {
                    id,
                    user_id,
                    event_id,
                    status,
                    payment_status,
                    total_amount: i64::from(total),
                    expired,
                },
            )
            .collect(),
        items: items
            .into_iter()
            .map(|(reservation_id, seat_id, ticket_type_id, quantity)| Item {
                reservation_id,
                seat_id,
                ticket_type_id,
                quantity: i64::from(quantity),
            })
            .collect(),
        seats: seats
            .into_iter()
            .map(|(id, status, reservation_id)| Seat {
                id,
                status,
                reservation_id,
            })
            .collect(),
        ticket_types: ticket_types
            .into_iter()
            .map(|(id, total, available)| TicketType {
                id,
                total: i64::from(total),
                available: i64::from(available),
            })
            .collect(),
        payments: payments
            .into_iter()
            .map(
                |(id, reservation_id, order_id, status, idempotency_key, refund)| Payment {
                    id,
                    reservation_id,
                    order_id,
                    status,
                    idempotency_key,
                    refund_amount: refund.map(i64::from),
                },
            )
            .collect(),
        outbox: outbox
            .into_iter()
            .map(|(payment_id, amount, status)| Outbox {
                payment_id,
                amount: i64::from(amount),
                status,
            })
            .collect(),
        cancelled_events: cancelled.into_iter().collect(),
        provider_capture_keys: capture_keys,
        provider_orders: orders,
        provider_captured: counts["captured_amount"].as_i64().unwrap_or(0),
        provider_refunded: counts["refunded_amount"].as_i64().unwrap_or(0),
        queue_threshold,
    })
}

/// A client of the mock provider (its API with the secret key, and its test controls).
pub struct Provider {
    client: FlowClient,
    secret: String,
}

impl Provider {
    pub fn new(url: &str, secret: &str) -> Result<Self> {
        let target = Target::parse_url(url)?.0;
        Ok(Self {
            client: FlowClient::new(target, Duration::from_secs(10)),
            secret: secret.to_string(),
        })
    }

    pub async fn get_json(&mut self, path: &str, authorised: bool) -> Result<serde_json::Value> {
        let mut spec = RequestSpec::get(path);
        if authorised {
            spec.headers.push((
                http::header::AUTHORIZATION,
                http::HeaderValue::from_str(&format!("Bearer {}", self.secret))?,
            ));
        }
        let reply = self
            .client
            .send(spec)
            .await
            .map_err(|e| anyhow::anyhow!("asking the provider {path}: {e}"))?;
        Ok(reply.json())
    }

    /// `POST /_mock/scenario`: how the provider answers the charge of `order_id`.
    pub async fn set_scenario(&mut self, order_id: &str, scenario: &str) -> Result<()> {
        let body = serde_json::json!({"scenario": scenario, "orderId": order_id});
        let spec = RequestSpec {
            method: http::Method::POST,
            path: "/_mock/scenario".into(),
            headers: vec![(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/json"),
            )],
            body: Bytes::from(body.to_string()),
        };
        let reply = self
            .client
            .send(spec)
            .await
            .map_err(|e| anyhow::anyhow!("setting a provider scenario: {e}"))?;
        anyhow::ensure!(
            reply.status.is_success(),
            "the provider refused the scenario"
        );
        Ok(())
    }
}
