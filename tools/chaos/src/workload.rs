//! Simulated buyers and an operator over the public HTTP API, each decision drawn from the
//! run's seed. A buyer joins an event's waiting room and polls until admitted (sometimes
//! leaving), opens the seat map, holds seats from a small contended pool (sometimes releasing
//! them), reserves with an idempotency key (retried with the same key, and with the same key and
//! another body), or reserves standing tickets; pays (prepare, then process or confirm, with the
//! provider told per order to decline, answer 5xx, drop its answer, over-capture or send a late
//! webhook), re-sends the provider's webhook (duplicated, and late after a cancel), and cancels.
//! The operator runs the outbox delivery pass now and then and cancels one whole event midway.
//! A monitor samples every waiting room's active set straight from Redis.

use crate::history::{History, Kind};
use crate::rng::Rng;
use crate::snapshot::Provider;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::time::Instant;
use urr_bench::load::{FlowClient, Target};
use urr_bench::scenario::RequestSpec;

/// What the buyers shop for.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The seated event most buyers contend for, and its contended seats.
    pub seated_event: String,
    pub seated_pool: Vec<String>,
    /// The seated event the operator cancels midway, and its seats.
    pub cancelled_event: String,
    pub cancelled_pool: Vec<String>,
    /// The standing event and its ticket types.
    pub standing_event: String,
    pub ticket_types: Vec<String>,
}

pub struct Ctx {
    pub history: History,
    pub target: Target,
    pub provider_url: String,
    pub provider_secret: String,
    pub webhook_secret: String,
    pub plan: Plan,
    pub deadline: Instant,
    pub event_cancelled: AtomicBool,
}

/// An HTTP answer as the history classifies it.
pub struct Answer {
    pub kind: Kind,
    pub status: u16,
    pub body: Value,
    pub retry_after: Option<Duration>,
}

impl Answer {
    fn ok(&self) -> bool {
        self.kind == Kind::Ok
    }

    fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
}

fn header(value: &str) -> HeaderValue {
    HeaderValue::from_str(value).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

/// Sends `spec` as `op` of `process`, recording invoke and outcome: 2xx ok, 4xx fail, never
/// sent (connect refused) fail, anything else (5xx, a dropped connection, a timeout) unknown.
pub async fn call(
    history: &History,
    client: &mut FlowClient,
    process: &str,
    op: &str,
    spec: RequestSpec,
    args: Value,
    keep_body: bool,
) -> Answer {
    history.record(process, Kind::Invoke, op, args.clone(), Value::Null);
    let (kind, status, body, error, retry_after) = match client.send(spec).await {
        Ok(reply) => {
            let status = reply.status.as_u16();
            let body = reply.json();
            let kind = match status {
                200..=299 => Kind::Ok,
                400..=499 => Kind::Fail,
                // A decline is definite (the provider captured nothing): docs/payments.md.
                502 if body["code"] == "payment_declined" => Kind::Fail,
                _ => Kind::Unknown,
            };
            let retry_after = reply
                .headers
                .get(http::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            (kind, status, body, None, retry_after)
        }
        Err("connect") => (Kind::Fail, 0, Value::Null, Some("connect"), None),
        Err(e) => (Kind::Unknown, 0, Value::Null, Some(e), None),
    };
    let recorded = if keep_body || kind != Kind::Ok {
        body.clone()
    } else {
        json!({"code": body["code"]})
    };
    let mut result = json!({"status": status, "body": recorded});
    if let Some(e) = error {
        result["error"] = json!(e);
    }
    history.record(process, kind, op, args, result);
    Answer {
        kind,
        status,
        body,
        retry_after,
    }
}

pub struct Buyer {
    pub ctx: Arc<Ctx>,
    pub name: String,
    pub user: String,
    pub access: String,
    pub rng: Rng,
    pub client: FlowClient,
    pub provider: Provider,
    entries: HashMap<String, String>,
}

impl Buyer {
    pub fn new(
        ctx: Arc<Ctx>,
        number: usize,
        user: String,
        access: String,
        rng: Rng,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            client: FlowClient::new(ctx.target.clone(), Duration::from_secs(8)),
            provider: Provider::new(&ctx.provider_url, &ctx.provider_secret)?,
            name: format!("buyer-{number}"),
            ctx,
            user,
            access,
            rng,
            entries: HashMap::new(),
        })
    }

    fn over(&self) -> bool {
        Instant::now() >= self.ctx.deadline
    }

    fn request(
        &self,
        method: Method,
        path: &str,
        entry: Option<&str>,
        body: Option<&Value>,
        key: Option<&str>,
    ) -> RequestSpec {
        let mut headers = vec![(
            http::header::AUTHORIZATION,
            header(&format!("Bearer {}", self.access)),
        )];
        if let Some(entry) = entry {
            headers.push((
                HeaderName::from_static("x-queue-entry-token"),
                header(entry),
            ));
        }
        if let Some(key) = key {
            headers.push((HeaderName::from_static("idempotency-key"), header(key)));
        }
        RequestSpec::with_json(method, path, headers, body)
    }

    async fn send(
        &mut self,
        op: &str,
        spec: RequestSpec,
        mut args: Value,
        keep_body: bool,
    ) -> Answer {
        args["user"] = json!(self.user);
        let answer = call(
            &self.ctx.history,
            &mut self.client,
            &self.name,
            op,
            spec,
            args,
            keep_body,
        )
        .await;
        if answer.status == 403 && answer.code() == "queue_required" {
            self.entries.clear();
        }
        answer
    }

    async fn pause(&mut self, lo_ms: u64, hi_ms: u64) {
        let ms = self.rng.range(lo_ms, hi_ms);
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }

    pub async fn run(mut self) {
        while !self.over() {
            let roll = self.rng.below(100);
            let plan = self.ctx.plan.clone();
            if roll < 60 {
                self.seated(&plan.seated_event, &plan.seated_pool).await;
            } else if roll < 75 {
                self.seated(&plan.cancelled_event, &plan.cancelled_pool)
                    .await;
            } else if roll < 95 {
                self.standing(&plan.standing_event, &plan.ticket_types)
                    .await;
            } else {
                let spec = self.request(Method::GET, "/api/v1/reservations/my", None, None, None);
                self.send("my_reservations", spec, json!({}), false).await;
            }
            self.pause(20, 300).await;
        }
    }

    /// An entry token for `event`: the one in hand, else join and poll until admitted.
    async fn admit(&mut self, event: &str) -> Option<String> {
        if let Some(token) = self.entries.get(event) {
            return Some(token.clone());
        }
        let args = json!({"eventId": event});
        let spec = self.request(
            Method::POST,
            &format!("/api/v1/queue/check/{event}"),
            None,
            None,
            None,
        );
        let join = self.send("queue_join", spec, args.clone(), true).await;
        if !join.ok() {
            tokio::time::sleep(
                join.retry_after
                    .unwrap_or(Duration::from_millis(300))
                    .min(Duration::from_secs(2)),
            )
            .await;
            return None;
        }
        let mut token = (join.body["status"] == "active")
            .then(|| join.body["entryToken"].as_str().map(str::to_string))
            .flatten();
        let mut next_poll = join.body["nextPoll"].as_f64().unwrap_or(0.3);
        let started = Instant::now();
        while token.is_none() {
            if self.over() || started.elapsed() > Duration::from_secs(20) {
                return None;
            }
            if self.rng.chance(4) {
                let spec = self.request(
                    Method::POST,
                    &format!("/api/v1/queue/leave/{event}"),
                    None,
                    None,
                    None,
                );
                self.send("queue_leave", spec, args.clone(), true).await;
                return None;
            }
            tokio::time::sleep(Duration::from_secs_f64(next_poll.clamp(0.2, 1.0))).await;
            let spec = self.request(
                Method::GET,
                &format!("/api/v1/queue/status/{event}"),
                None,
                None,
                None,
            );
            let status = self.send("queue_status", spec, args.clone(), true).await;
            if !status.ok() {
                return None;
            }
            next_poll = status.body["nextPoll"].as_f64().unwrap_or(1.0);
            if status.body["status"] == "active" {
                token = Some(status.body["entryToken"].as_str()?.to_string());
            }
        }
        let token = token?;
        self.entries.insert(event.to_string(), token.clone());
        Some(token)
    }

    /// Now and then a buyer leaves the room after a purchase attempt (freeing the slot).
    async fn maybe_leave(&mut self, event: &str) {
        if self.rng.chance(30) {
            self.entries.remove(event);
            let spec = self.request(
                Method::POST,
                &format!("/api/v1/queue/leave/{event}"),
                None,
                None,
                None,
            );
            self.send("queue_leave", spec, json!({"eventId": event}), true)
                .await;
        }
    }

    async fn seated(&mut self, event: &str, pool: &[String]) {
        let Some(entry) = self.admit(event).await else {
            return;
        };
        let spec = self.request(
            Method::GET,
            &format!("/api/v1/seats/events/{event}"),
            Some(&entry),
            None,
            None,
        );
        let map = self
            .send("seat_map", spec, json!({"eventId": event}), false)
            .await;
        let available: Vec<String> = map.body["seats"]
            .as_array()
            .map(|seats| {
                seats
                    .iter()
                    .filter(|s| s["status"] == "available")
                    .filter_map(|s| s["id"].as_str())
                    .filter(|id| pool.iter().any(|p| p == id))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let k = 1 + self.rng.below(2) as usize;
        let from: Vec<String> = if available.len() >= k && self.rng.chance(70) {
            available
        } else {
            pool.to_vec()
        };
        let seats = self.distinct(&from, k);
        if seats.is_empty() {
            return;
        }
        let body = json!({"eventId": event, "seatIds": seats});
        if self.rng.chance(85) {
            let spec = self.request(
                Method::POST,
                "/api/v1/seats/lock",
                Some(&entry),
                Some(&body),
                None,
            );
            let hold = self.send("hold", spec, body.clone(), true).await;
            if hold.status == 409 && self.rng.chance(60) {
                return;
            }
            if hold.ok() && self.rng.chance(8) {
                let mut release = body.clone();
                release["fencingToken"] = hold.body["fencingToken"].clone();
                let spec = self.request(
                    Method::DELETE,
                    "/api/v1/seats/lock",
                    Some(&entry),
                    Some(&release),
                    None,
                );
                self.send("release", spec, release.clone(), true).await;
                return;
            }
        }
        let key = self.rng.uuid().to_string();
        let reservation = self
            .reserve("reserve", "/api/v1/seats/reserve", &entry, &body, &key)
            .await;
        if self.rng.chance(10) {
            // The same key with another body: one of these seats, or these and one more.
            let other = if seats.len() > 1 {
                seats[..1].to_vec()
            } else {
                let mut more = seats.clone();
                let rest: Vec<String> = pool
                    .iter()
                    .filter(|s| !seats.contains(s))
                    .cloned()
                    .collect();
                more.extend(self.distinct(&rest, 1));
                more
            };
            let other_body = json!({"eventId": event, "seatIds": other});
            self.reserve(
                "reserve_other_body",
                "/api/v1/seats/reserve",
                &entry,
                &other_body,
                &key,
            )
            .await;
        }
        if let Some((id, amount)) = reservation {
            self.pay(&id, amount).await;
        }
        self.maybe_leave(event).await;
    }

    fn distinct(&mut self, from: &[String], k: usize) -> Vec<String> {
        let mut chosen: Vec<String> = Vec::new();
        for _ in 0..k * 4 {
            if chosen.len() == k {
                break;
            }
            if let Some(s) = self.rng.pick(from)
                && !chosen.contains(s)
            {
                chosen.push(s.clone());
            }
        }
        chosen
    }

    /// A reserve with `key`, retried with the same key and body when the answer was not
    /// definite (and sometimes anyway): the reservation's id and amount once acknowledged.
    async fn reserve(
        &mut self,
        op: &str,
        path: &str,
        entry: &str,
        body: &Value,
        key: &str,
    ) -> Option<(String, i64)> {
        let mut args = body.clone();
        args["key"] = json!(key);
        let mut acknowledged = None;
        for attempt in 0..3 {
            let op_name = if attempt == 0 {
                op.to_string()
            } else {
                format!("{op}_retry")
            };
            let spec = self.request(Method::POST, path, Some(entry), Some(body), Some(key));
            let answer = self.send(&op_name, spec, args.clone(), true).await;
            if answer.ok() {
                let r = &answer.body["reservation"];
                if let (Some(id), Some(amount)) = (r["id"].as_str(), r["totalAmount"].as_i64()) {
                    acknowledged = Some((id.to_string(), amount));
                }
            }
            let retry = match answer.kind {
                Kind::Unknown => true,
                Kind::Ok => self.rng.chance(20),
                _ => {
                    answer.code() == "idempotency_in_flight" || answer.code() == "concurrent_change"
                }
            };
            if !retry || self.over() {
                break;
            }
            tokio::time::sleep(
                answer
                    .retry_after
                    .unwrap_or(Duration::from_millis(300))
                    .min(Duration::from_secs(2)),
            )
            .await;
        }
        acknowledged
    }

    async fn standing(&mut self, event: &str, ticket_types: &[String]) {
        let Some(entry) = self.admit(event).await else {
            return;
        };
        let lines = 1 + self.rng.below(2) as usize;
        let chosen = self.distinct(ticket_types, lines);
        let items: Vec<Value> = chosen
            .iter()
            .map(|t| json!({"ticketTypeId": t, "quantity": 1 + self.rng.below(3)}))
            .collect();
        let body = json!({"eventId": event, "items": items});
        let key = self.rng.uuid().to_string();
        if let Some((id, amount)) = self
            .reserve(
                "reserve_standing",
                "/api/v1/reservations",
                &entry,
                &body,
                &key,
            )
            .await
        {
            self.pay(&id, amount).await;
        }
        self.maybe_leave(event).await;
    }

    async fn pay(&mut self, reservation: &str, amount: i64) {
        if self.rng.chance(12) {
            // Abandoned: the reservation expires (short TTLs in this run).
            return;
        }
        let body = json!({"reservationId": reservation, "amount": amount});
        let spec = self.request(
            Method::POST,
            "/api/v1/payments/prepare",
            None,
            Some(&body),
            None,
        );
        let prepare = self.send("prepare", spec, body, true).await;
        let Some(order) = prepare.body["orderId"].as_str().map(str::to_string) else {
            return;
        };
        let roll = self.rng.below(100);
        let scenario = match roll {
            0..8 => Some("decline"),
            8..14 => Some("timeout"),
            14..22 => Some("unknown_outcome"),
            22..32 => Some("approve_with_delayed_webhook"),
            32..35 => Some("over_capture"),
            _ => None,
        };
        if let Some(scenario) = scenario {
            let set = self.provider.set_scenario(&order, scenario).await;
            self.ctx.history.record(
                &self.name,
                if set.is_ok() { Kind::Ok } else { Kind::Fail },
                "provider_scenario",
                json!({"orderId": order, "scenario": scenario}),
                Value::Null,
            );
        }
        let mut paid = None;
        if self.rng.chance(15) {
            let payment_key = format!("pk_chaos_{}", self.rng.uuid().simple());
            let body = json!({"paymentKey": payment_key, "orderId": order, "amount": amount});
            let mut args = body.clone();
            args["reservationId"] = json!(reservation);
            for _ in 0..3 {
                let spec = self.request(
                    Method::POST,
                    "/api/v1/payments/confirm",
                    None,
                    Some(&body),
                    None,
                );
                let answer = self.send("confirm", spec, args.clone(), true).await;
                if answer.ok() {
                    paid = Some(payment_key.clone());
                }
                if answer.kind != Kind::Unknown || self.over() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(self.rng.range(800, 2500))).await;
            }
        } else {
            let body = json!({"reservationId": reservation, "paymentMethod": "card"});
            for _ in 0..3 {
                let spec = self.request(
                    Method::POST,
                    "/api/v1/payments/process",
                    None,
                    Some(&body),
                    None,
                );
                let answer = self.send("process", spec, body.clone(), true).await;
                if answer.ok() {
                    paid = answer.body["payment"]["paymentKey"]
                        .as_str()
                        .map(str::to_string);
                }
                let again = answer.kind == Kind::Unknown
                    || answer.code() == "payment_in_flight"
                    || answer.status == 409 && answer.retry_after.is_some();
                if !again || self.over() {
                    break;
                }
                tokio::time::sleep(
                    answer
                        .retry_after
                        .unwrap_or(Duration::from_millis(1000))
                        .clamp(Duration::from_millis(500), Duration::from_secs(3)),
                )
                .await;
            }
        }
        let Some(payment_key) = paid else {
            return;
        };
        if self.rng.chance(12) {
            self.webhooks(&order).await;
        }
        if self.rng.chance(15) {
            let body = json!({"reservationId": reservation});
            let spec = self.request(
                Method::POST,
                &format!("/api/v1/reservations/{reservation}/cancel"),
                None,
                Some(&json!({})),
                None,
            );
            let cancel = self.send("cancel_reservation", spec, body, true).await;
            if cancel.ok() && self.rng.chance(40) {
                // The capture's webhook, late: after the refund.
                self.webhooks(&order).await;
            }
        } else if self.rng.chance(4) {
            let body = json!({"reservationId": reservation, "paymentKey": payment_key});
            let spec = self.request(
                Method::POST,
                &format!("/api/v1/payments/{payment_key}/cancel"),
                None,
                Some(&json!({})),
                None,
            );
            self.send("cancel_payment", spec, body, true).await;
        }
    }

    /// The provider's notification about `order`, as its ledger has it now, delivered twice
    /// under one event id and once more under another (providers retry, and resend).
    async fn webhooks(&mut self, order: &str) {
        let Ok(object) = self
            .provider
            .get_json(&format!("/v1/payments/orders/{order}"), true)
            .await
        else {
            return;
        };
        let Ok(data) = serde_json::from_value::<urr_payments::provider::PaymentObject>(object)
        else {
            return;
        };
        let first = format!("evt_chaos_{}", self.rng.uuid().simple());
        let second = format!("evt_chaos_{}", self.rng.uuid().simple());
        for event_id in [&first, &first, &second] {
            let event = urr_payments::webhook::WebhookEvent {
                event_id: event_id.clone(),
                event_type: "PAYMENT_STATUS_CHANGED".into(),
                data: data.clone(),
            };
            let Ok(body) = serde_json::to_vec(&event) else {
                return;
            };
            let timestamp = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or_default();
            let signature =
                urr_payments::webhook::sign(self.ctx.webhook_secret.as_bytes(), timestamp, &body);
            let spec = RequestSpec {
                method: Method::POST,
                path: "/api/v1/payments/webhook".into(),
                headers: vec![
                    (
                        http::header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    ),
                    (
                        HeaderName::from_static(urr_payments::webhook::SIGNATURE_HEADER),
                        header(&signature),
                    ),
                    (
                        HeaderName::from_static(urr_payments::webhook::TIMESTAMP_HEADER),
                        header(&timestamp.to_string()),
                    ),
                ],
                body: Bytes::from(body),
            };
            let args = json!({"eventId": event_id, "orderId": order, "status": data.status});
            call(
                &self.ctx.history,
                &mut self.client,
                &self.name,
                "webhook",
                spec,
                args,
                true,
            )
            .await;
        }
    }
}

/// The operator: a delivery pass every few seconds (what a scheduler would run), and the
/// cancel of one whole event at `cancel_at`, retried until acknowledged.
pub async fn operator(ctx: Arc<Ctx>, access: String, cancel_at: Instant) {
    let mut client = FlowClient::new(ctx.target.clone(), Duration::from_secs(15));
    let auth = header(&format!("Bearer {access}"));
    while Instant::now() < ctx.deadline {
        tokio::time::sleep(Duration::from_secs(3)).await;
        let spec = RequestSpec {
            method: Method::POST,
            path: "/api/v1/payments/outbox/deliver".into(),
            headers: vec![(http::header::AUTHORIZATION, auth.clone())],
            body: Bytes::new(),
        };
        call(
            &ctx.history,
            &mut client,
            "operator",
            "deliver",
            spec,
            json!({}),
            true,
        )
        .await;
        if Instant::now() >= cancel_at && !ctx.event_cancelled.load(Ordering::Relaxed) {
            let event = ctx.plan.cancelled_event.clone();
            let spec = RequestSpec {
                method: Method::POST,
                path: format!("/api/v1/admin/events/{event}/cancel"),
                headers: vec![
                    (http::header::AUTHORIZATION, auth.clone()),
                    (
                        http::header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    ),
                ],
                body: Bytes::from(json!({"reason": "chaos: called off"}).to_string()),
            };
            let answer = call(
                &ctx.history,
                &mut client,
                "operator",
                "cancel_event",
                spec,
                json!({"eventId": event}),
                true,
            )
            .await;
            if answer.ok() {
                ctx.event_cancelled.store(true, Ordering::Relaxed);
            }
        }
    }
}

/// Delivery passes until nothing is owed or unknown (or `passes` are done): the settling after
/// the faults stop. Returns the last pass's answer.
pub async fn settle(ctx: &Ctx, access: &str, passes: usize) -> Value {
    let mut client = FlowClient::new(ctx.target.clone(), Duration::from_secs(15));
    let mut last = Value::Null;
    for _ in 0..passes {
        let spec = RequestSpec {
            method: Method::POST,
            path: "/api/v1/payments/outbox/deliver".into(),
            headers: vec![(
                http::header::AUTHORIZATION,
                header(&format!("Bearer {access}")),
            )],
            body: Bytes::new(),
        };
        let answer = call(
            &ctx.history,
            &mut client,
            "operator",
            "deliver",
            spec,
            json!({"settling": true}),
            true,
        )
        .await;
        last = answer.body.clone();
        let busy = [
            "refundsDelivered",
            "refundsPending",
            "confirmed",
            "refunded",
            "notCaptured",
            "unknown",
        ]
        .iter()
        .any(|k| answer.body[*k].as_i64().unwrap_or(0) > 0);
        if answer.ok() && !busy {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    last
}

/// Samples each event's active set (`<prefix>:queue:{evt:<id>}:active`, score = slot expiry in
/// ms) straight from Redis every 250 ms: live slots by Redis' own clock.
pub async fn monitor(ctx: Arc<Ctx>, redis_url: String, prefix: String, events: Vec<String>) {
    let Ok(client) = redis::Client::open(redis_url.as_str()) else {
        return;
    };
    let mut conn: Option<redis::aio::MultiplexedConnection> = None;
    while Instant::now() < ctx.deadline {
        tokio::time::sleep(Duration::from_millis(250)).await;
        if conn.is_none() {
            conn = tokio::time::timeout(
                Duration::from_secs(1),
                client.get_multiplexed_async_connection(),
            )
            .await
            .ok()
            .and_then(Result::ok);
        }
        let Some(c) = conn.as_mut() else {
            continue;
        };
        for event in &events {
            let key = format!("{prefix}:queue:{{evt:{event}}}:active");
            let sample = async {
                let (secs, micros): (u64, u64) = redis::cmd("TIME").query_async(c).await?;
                let now_ms = secs * 1000 + micros / 1000;
                redis::cmd("ZCOUNT")
                    .arg(&key)
                    .arg(format!("({now_ms}"))
                    .arg("+inf")
                    .query_async::<i64>(c)
                    .await
            };
            match tokio::time::timeout(Duration::from_secs(1), sample).await {
                Ok(Ok(active)) => ctx.history.record(
                    "monitor",
                    Kind::Ok,
                    "observe_active",
                    json!({"eventId": event}),
                    json!({"active": active}),
                ),
                _ => {
                    conn = None;
                    break;
                }
            }
        }
    }
}
