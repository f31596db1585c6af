//! Deliberate damage, to show that each checker catches a broken system end to end (on the
//! real stores, through the real snapshot), not only in its unit tests: `--sabotage <kind>`
//! breaks one invariant the way a faulty build would leave it, and the run must then fail.
//! Never used by CI's clean runs.

use anyhow::{Context, Result};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Sabotage {
    /// Admits more users than the threshold (extra live members in an active set): `queue`.
    QueueOverflow,
    /// Loses one standing ticket (available − 1 with nothing sold): `standing`.
    StandingLeak,
    /// Frees the seat of a confirmed reservation, as a double sale would begin: `seats`.
    SeatReleased,
    /// Cancels a paid reservation without owing its refund: `money`.
    LostSale,
    /// A capture at the provider that no payment of ours records: `money`.
    UnrecordedCapture,
    /// Turns a paid (acknowledged) reservation back into an expired one: `acknowledged`.
    LostPayment,
}

/// Damage done while the workload runs (the queue monitor must see it).
pub async fn during(
    kind: Sabotage,
    redis_url: &str,
    prefix: &str,
    event: &str,
    threshold: u32,
) -> Result<()> {
    if kind != Sabotage::QueueOverflow {
        return Ok(());
    }
    let client = redis::Client::open(redis_url)?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    let key = format!("{prefix}:queue:{{evt:{event}}}:active");
    let until = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as u64
        + 60_000;
    for i in 0..=threshold {
        let _: () = redis::cmd("ZADD")
            .arg(&key)
            .arg(until)
            .arg(format!("00000000-0000-4000-8000-{i:012}"))
            .query_async(&mut conn)
            .await?;
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    Ok(())
}

/// Damage done to the end state, after settling and before the checks.
pub async fn at_end(
    kind: Sabotage,
    app_url: &str,
    provider_url: &str,
    provider_secret: &str,
) -> Result<()> {
    let pool = sqlx::PgPool::connect(app_url).await?;
    let statement = match kind {
        Sabotage::QueueOverflow => None,
        Sabotage::StandingLeak => Some(
            "UPDATE ticket_types SET available_quantity = available_quantity - 1 \
              WHERE id = (SELECT id FROM ticket_types WHERE available_quantity > 0 \
                           ORDER BY id LIMIT 1)",
        ),
        Sabotage::SeatReleased => Some(
            "UPDATE seats SET status = 'available', reservation_id = NULL \
              WHERE id = (SELECT i.seat_id FROM reservation_items AS i \
                            JOIN reservations AS r ON r.id = i.reservation_id \
                           WHERE r.status = 'confirmed' AND i.seat_id IS NOT NULL \
                           ORDER BY r.id LIMIT 1)",
        ),
        Sabotage::LostSale => Some(
            "UPDATE reservations SET status = 'cancelled', cancelled_at = now() \
              WHERE id = (SELECT id FROM reservations WHERE status = 'confirmed' \
                           ORDER BY id LIMIT 1)",
        ),
        Sabotage::LostPayment => Some(
            "UPDATE reservations SET status = 'expired', confirmed_at = NULL, \
                    payment_status = 'pending' \
              WHERE id = (SELECT reservation_id FROM payments WHERE status = 'confirmed' \
                           ORDER BY id LIMIT 1)",
        ),
        Sabotage::UnrecordedCapture => None,
    };
    if let Some(statement) = statement {
        let done = sqlx::query(statement)
            .execute(&pool)
            .await
            .with_context(|| format!("sabotage {kind:?}"))?;
        anyhow::ensure!(
            done.rows_affected() == 1,
            "sabotage {kind:?}: nothing to break"
        );
    }
    pool.close().await;
    if kind == Sabotage::UnrecordedCapture {
        let body = serde_json::to_value(urr_payments::provider::ChargeBody {
            order_id: "sabotage-order".into(),
            amount: 5_000,
            method: "card".into(),
            payment_key: None,
        })?;
        let (status, answer) = provider_post(
            &format!("{provider_url}/v1/payments/charge"),
            provider_secret,
            body,
        )
        .await?;
        anyhow::ensure!(status == 200, "sabotage charge answered {status}: {answer}");
    }
    Ok(())
}

async fn provider_post(url: &str, secret: &str, body: serde_json::Value) -> Result<(u16, String)> {
    let target = urr_bench::load::Target::parse_url(url)?;
    let mut client = urr_bench::load::FlowClient::new(target.0, Duration::from_secs(10));
    let spec = urr_bench::scenario::RequestSpec {
        method: http::Method::POST,
        path: target.1,
        headers: vec![
            (
                http::header::AUTHORIZATION,
                http::HeaderValue::from_str(&format!("Bearer {secret}"))?,
            ),
            (
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/json"),
            ),
            (
                http::HeaderName::from_static("idempotency-key"),
                http::HeaderValue::from_static("sabotage-key"),
            ),
        ],
        body: bytes::Bytes::from(body.to_string()),
    };
    let reply = client
        .send(spec)
        .await
        .map_err(|e| anyhow::anyhow!("charging the provider: {e}"))?;
    Ok((
        reply.status.as_u16(),
        String::from_utf8_lossy(&reply.body).into_owned(),
    ))
}
