//! A mock payment provider: a real HTTP server speaking the protocol of
//! `urr_payments::provider`, with behaviours chosen per request, so tests and local development
//! exercise every path the components must survive:
//!
//! | scenario | what the provider does |
//! |---|---|
//! | `approve` | captures, answers 200 |
//! | `decline` | captures nothing, answers 402 `CARD_DECLINED` |
//! | `timeout` | captures nothing, answers only after `timeout_delay` (longer than any client waits) |
//! | `approve_with_delayed_webhook` | captures, answers 200, and sends a signed `DONE` webhook after `webhook_delay` |
//! | `unknown_outcome` | captures, then drops the connection without answering |
//!
//! The scenario comes from a map keyed by order id, else by amount, else the default. Charges
//! and refunds are idempotent per `Idempotency-Key` (a repeat replays the first answer), and
//! every effect is counted per key ([`Counts`], also at `GET /_mock/counts`), so a test can read
//! the provider's own account of what happened. [`MockProvider::set_down`] closes the listener
//! (connections refused) and reopens it on the same port.

use anyhow::{Context, Result};
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::task::JoinHandle;
use urr_payments::provider::{CancelBody, ChargeBody, ErrorBody, PaymentObject};
use urr_payments::webhook::{SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookEvent};

/// Largest request body the mock reads (its requests are a few fields).
const MAX_REQUEST_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    Approve,
    Decline,
    Timeout,
    ApproveWithDelayedWebhook,
    UnknownOutcome,
    /// A faulty capture: the provider takes [`OVER_CAPTURE_EXTRA`] more than it was asked for
    /// and says so in its answer (the merchant must refund it in full, never sell it).
    OverCapture,
}

/// What an [`Scenario::OverCapture`] takes on top of the asked amount.
pub const OVER_CAPTURE_EXTRA: i32 = 1_000;

/// How the mock is set up.
#[derive(Debug, Clone)]
pub struct Config {
    pub secret_key: String,
    pub webhook_secret: String,
    /// Where webhooks go (`http://host:port/api/v1/payments/webhook`); none: never sent.
    pub webhook_url: Option<String>,
    /// How long a `timeout` charge waits before answering.
    pub timeout_delay: Duration,
    /// How long after the answer a delayed webhook is sent.
    pub webhook_delay: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            secret_key: "sk_test_mock".into(),
            webhook_secret: "whsec_test_mock".into(),
            webhook_url: None,
            timeout_delay: Duration::from_secs(30),
            webhook_delay: Duration::from_millis(300),
        }
    }
}

/// The provider's own account, per idempotency key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Charge requests received, per key (retries included).
    pub charge_requests: BTreeMap<String, u32>,
    /// Captures performed, per key (an idempotent replay performs none).
    pub captures: BTreeMap<String, u32>,
    /// Refund requests received, per key.
    pub refund_requests: BTreeMap<String, u32>,
    /// Refunds performed, per key.
    pub refunds: BTreeMap<String, u32>,
    /// Refund requests under a NEW key for an already refunded payment (a double refund attempt).
    pub duplicate_refunds: u32,
    pub captured_amount: i64,
    pub refunded_amount: i64,
    pub webhooks_sent: u32,
}

impl Counts {
    pub fn total_captures(&self) -> u32 {
        self.captures.values().sum()
    }

    pub fn total_refunds(&self) -> u32 {
        self.refunds.values().sum()
    }
}

#[derive(Debug, Clone)]
struct Payment {
    object: PaymentObject,
}

#[derive(Default)]
struct Book {
    default_scenario: Option<Scenario>,
    by_order: HashMap<String, Scenario>,
    by_amount: HashMap<i32, Scenario>,
    /// By order id.
    payments: HashMap<String, Payment>,
    /// Answers already given, per idempotency key: (status, body).
    charge_answers: HashMap<String, (u16, String)>,
    refund_answers: HashMap<String, (u16, String)>,
    counts: Counts,
    /// `traceparent` of every authorised API call, in arrival order (trace propagation tests).
    traceparents: Vec<String>,
}

struct Shared {
    config: Mutex<Config>,
    book: Mutex<Book>,
    sequence: AtomicU64,
}

impl Shared {
    fn book(&self) -> MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn config(&self) -> Config {
        self.config
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn next_id(&self, prefix: &str) -> String {
        let n = self.sequence.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        format!("{prefix}_{n}_{nanos:08x}")
    }
}

/// A running mock provider.
pub struct MockProvider {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: Mutex<Option<JoinHandle<()>>>,
}

impl MockProvider {
    /// Starts on `listen` (`127.0.0.1:0` for a free port).
    pub async fn start(listen: &str, config: Config) -> Result<Self> {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("binding the mock provider to {listen}"))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            config: Mutex::new(config),
            book: Mutex::new(Book::default()),
            sequence: AtomicU64::new(1),
        });
        let server = tokio::spawn(serve(listener, shared.clone()));
        Ok(Self {
            addr,
            shared,
            server: Mutex::new(Some(server)),
        })
    }

    /// Remembers captures made before this process started (a development provider restarted
    /// with its memory lost): each becomes a captured (`DONE`) payment that can be refunded,
    /// without counting as a capture of this run. An order it already knows is left as it is.
    /// Returns how many were added.
    pub fn remember_captures(&self, captured: Vec<PaymentObject>) -> usize {
        let mut book = self.shared.book();
        let mut added = 0;
        for mut object in captured {
            object.status = "DONE".into();
            if let std::collections::hash_map::Entry::Vacant(slot) =
                book.payments.entry(object.order_id.clone())
            {
                slot.insert(Payment { object });
                added += 1;
            }
        }
        added
    }

    /// `http://127.0.0.1:<port>`: the `payment_provider_url` to configure.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn secret_key(&self) -> String {
        self.shared.config().secret_key
    }

    pub fn webhook_secret(&self) -> String {
        self.shared.config().webhook_secret
    }

    /// Where webhooks go from now on.
    pub fn set_webhook_url(&self, url: &str) {
        self.shared
            .config
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .webhook_url = Some(url.to_string());
    }

    pub fn set_default_scenario(&self, scenario: Scenario) {
        self.shared.book().default_scenario = Some(scenario);
    }

    pub fn set_order_scenario(&self, order_id: &str, scenario: Scenario) {
        self.shared
            .book()
            .by_order
            .insert(order_id.to_string(), scenario);
    }

    pub fn set_amount_scenario(&self, amount: i32, scenario: Scenario) {
        self.shared.book().by_amount.insert(amount, scenario);
    }

    /// The `traceparent` headers of the API calls received so far.
    pub fn traceparents(&self) -> Vec<String> {
        self.shared.book().traceparents.clone()
    }

    pub fn counts(&self) -> Counts {
        self.shared.book().counts.clone()
    }

    /// The provider's record of an order, if it ever captured it.
    pub fn payment(&self, order_id: &str) -> Option<PaymentObject> {
        self.shared
            .book()
            .payments
            .get(order_id)
            .map(|p| p.object.clone())
    }

    /// A refund made at the provider itself (its console, or a chargeback): the payment of
    /// `order_id` is refunded in full, counted, and a `CANCELED` webhook is sent. `false`: no
    /// such captured payment.
    pub async fn refund_from_console(&self, order_id: &str) -> Result<bool> {
        let object = {
            let mut book = self.shared.book();
            let Some(payment) = book.payments.get_mut(order_id) else {
                return Ok(false);
            };
            if payment.object.status != "DONE" {
                return Ok(false);
            }
            payment.object.status = "CANCELED".into();
            let object = payment.object.clone();
            *book
                .counts
                .refunds
                .entry(format!("console-{order_id}"))
                .or_default() += 1;
            book.counts.refunded_amount += i64::from(object.amount);
            object
        };
        send_webhook(&self.shared, object).await?;
        Ok(true)
    }

    /// Down: the listener closes (connections refused) and open connections are dropped. Up:
    /// it listens again on the same port. State and counters survive.
    pub async fn set_down(&self, down: bool) -> Result<()> {
        let old = self.server.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(handle) = old {
            handle.abort();
            let _ = handle.await;
        }
        if !down {
            let listener = tokio::net::TcpListener::bind(self.addr)
                .await
                .with_context(|| format!("re-binding the mock provider to {}", self.addr))?;
            let server = tokio::spawn(serve(listener, self.shared.clone()));
            *self.server.lock().unwrap_or_else(|e| e.into_inner()) = Some(server);
        }
        Ok(())
    }
}

impl Drop for MockProvider {
    fn drop(&mut self) {
        if let Some(handle) = self.server.lock().unwrap_or_else(|e| e.into_inner()).take() {
            handle.abort();
        }
    }
}

/// Accepts connections until aborted; every connection's task is aborted with it (JoinSet), so
/// `set_down` really drops them.
async fn serve(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        while connections.try_join_next().is_some() {}
        let shared = shared.clone();
        connections.spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let shared = shared.clone();
                async move { handle(req, shared).await }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

type Reply = Response<Full<Bytes>>;

/// The answer was deliberately lost: hyper closes the connection without a response.
#[derive(Debug)]
struct DroppedAnswer;

impl std::fmt::Display for DroppedAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("answer dropped on purpose (unknown_outcome)")
    }
}

impl std::error::Error for DroppedAnswer {}

fn reply(status: u16, body: String) -> Reply {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

fn error(status: u16, code: &str, message: &str) -> Reply {
    let body = serde_json::to_string(&ErrorBody {
        code: code.into(),
        message: message.into(),
    })
    .unwrap_or_default();
    reply(status, body)
}

async fn handle(req: Request<Incoming>, shared: Arc<Shared>) -> Result<Reply, DroppedAnswer> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let segments: Vec<String> = path
        .trim_matches('/')
        .split('/')
        .map(str::to_string)
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    // Test controls need no key (loopback only); the API needs the secret key.
    if segments.first() == Some(&"_mock") {
        return Ok(control(req, &segments, &shared).await);
    }
    let config = shared.config();
    let authorized = req
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {}", config.secret_key));
    if !authorized {
        return Ok(error(401, "UNAUTHORIZED_KEY", "unknown secret key"));
    }
    if let Some(traceparent) = req
        .headers()
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
    {
        shared.book().traceparents.push(traceparent.to_string());
    }
    let key = req
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    match (method, segments.as_slice()) {
        (Method::POST, ["v1", "payments", "charge"]) => {
            let Some(key) = key else {
                return Ok(error(
                    400,
                    "IDEMPOTENCY_KEY_REQUIRED",
                    "Idempotency-Key is required",
                ));
            };
            let Some(body) = read_json::<ChargeBody>(req).await else {
                return Ok(error(400, "INVALID_REQUEST", "bad charge body"));
            };
            charge(&shared, &config, key, body).await
        }
        (Method::GET, ["v1", "payments", "orders", order_id]) => {
            let book = shared.book();
            Ok(match book.payments.get(*order_id) {
                Some(p) => reply(200, serde_json::to_string(&p.object).unwrap_or_default()),
                None => error(404, "NOT_FOUND_PAYMENT", "no such payment"),
            })
        }
        (Method::POST, ["v1", "payments", payment_key, "cancel"]) => {
            let Some(key) = key else {
                return Ok(error(
                    400,
                    "IDEMPOTENCY_KEY_REQUIRED",
                    "Idempotency-Key is required",
                ));
            };
            let payment_key = payment_key.to_string();
            let Some(body) = read_json::<CancelBody>(req).await else {
                return Ok(error(400, "INVALID_REQUEST", "bad cancel body"));
            };
            Ok(refund(&shared, key, &payment_key, body))
        }
        _ => Ok(error(404, "NOT_FOUND", "no such endpoint")),
    }
}

async fn read_json<T: serde::de::DeserializeOwned>(req: Request<Incoming>) -> Option<T> {
    let body = http_body_util::Limited::new(req.into_body(), MAX_REQUEST_BYTES)
        .collect()
        .await
        .ok()?
        .to_bytes();
    serde_json::from_slice(&body).ok()
}

fn now_rfc3339() -> String {
    let secs = unix_now();
    // Civil date from days since the epoch (Howard Hinnant's algorithm), UTC.
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

async fn charge(
    shared: &Arc<Shared>,
    config: &Config,
    key: String,
    body: ChargeBody,
) -> Result<Reply, DroppedAnswer> {
    let scenario = {
        let mut book = shared.book();
        *book.counts.charge_requests.entry(key.clone()).or_default() += 1;
        if let Some((status, answer)) = book.charge_answers.get(&key) {
            return Ok(reply(*status, answer.clone()));
        }
        book.by_order
            .get(&body.order_id)
            .or_else(|| book.by_amount.get(&body.amount))
            .copied()
            .or(book.default_scenario)
            .unwrap_or(Scenario::Approve)
    };
    match scenario {
        Scenario::Decline => {
            let answer = serde_json::to_string(&ErrorBody {
                code: "CARD_DECLINED".into(),
                message: "the card was declined".into(),
            })
            .unwrap_or_default();
            shared
                .book()
                .charge_answers
                .insert(key, (402, answer.clone()));
            Ok(reply(402, answer))
        }
        Scenario::Timeout => {
            // Too slow: the client gives up first. Nothing is captured, nothing remembered.
            tokio::time::sleep(config.timeout_delay).await;
            Ok(error(503, "PROVIDER_TIMEOUT", "took too long"))
        }
        Scenario::Approve
        | Scenario::ApproveWithDelayedWebhook
        | Scenario::UnknownOutcome
        | Scenario::OverCapture => {
            let amount = if scenario == Scenario::OverCapture {
                body.amount + OVER_CAPTURE_EXTRA
            } else {
                body.amount
            };
            let object = {
                let mut book = shared.book();
                if book.payments.contains_key(&body.order_id) {
                    // The same order under another key: a real provider refuses a second capture.
                    return Ok(error(409, "DUPLICATED_ORDER_ID", "order already paid"));
                }
                let object = PaymentObject {
                    payment_key: body
                        .payment_key
                        .clone()
                        .unwrap_or_else(|| shared.next_id("pk")),
                    order_id: body.order_id.clone(),
                    amount,
                    status: "DONE".into(),
                    approved_at: Some(now_rfc3339()),
                    method: Some(body.method.clone()),
                };
                book.payments.insert(
                    body.order_id.clone(),
                    Payment {
                        object: object.clone(),
                    },
                );
                *book.counts.captures.entry(key.clone()).or_default() += 1;
                book.counts.captured_amount += i64::from(amount);
                let answer = serde_json::to_string(&object).unwrap_or_default();
                book.charge_answers.insert(key, (200, answer));
                object
            };
            if scenario == Scenario::ApproveWithDelayedWebhook {
                let shared = shared.clone();
                let object = object.clone();
                let delay = config.webhook_delay;
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    let _ = send_webhook(&shared, object).await;
                });
            }
            if scenario == Scenario::UnknownOutcome {
                return Err(DroppedAnswer);
            }
            Ok(reply(
                200,
                serde_json::to_string(&object).unwrap_or_default(),
            ))
        }
    }
}

fn refund(shared: &Shared, key: String, payment_key: &str, body: CancelBody) -> Reply {
    let mut book = shared.book();
    *book.counts.refund_requests.entry(key.clone()).or_default() += 1;
    if let Some((status, answer)) = book.refund_answers.get(&key) {
        return reply(*status, answer.clone());
    }
    let Some(order_id) = book
        .payments
        .iter()
        .find(|(_, p)| p.object.payment_key == payment_key)
        .map(|(order, _)| order.clone())
    else {
        return error(404, "NOT_FOUND_PAYMENT", "no such payment");
    };
    let Some(payment) = book.payments.get_mut(&order_id) else {
        return error(404, "NOT_FOUND_PAYMENT", "no such payment");
    };
    if payment.object.status == "CANCELED" {
        book.counts.duplicate_refunds += 1;
        return error(
            400,
            urr_payments::provider::ALREADY_CANCELED,
            "already refunded",
        );
    }
    if body.cancel_amount != payment.object.amount {
        return error(
            400,
            "INVALID_CANCEL_AMOUNT",
            "only whole refunds are supported",
        );
    }
    payment.object.status = "CANCELED".into();
    let answer = serde_json::to_string(&payment.object).unwrap_or_default();
    let amount = payment.object.amount;
    *book.counts.refunds.entry(key.clone()).or_default() += 1;
    book.counts.refunded_amount += i64::from(amount);
    book.refund_answers.insert(key, (200, answer.clone()));
    reply(200, answer)
}

/// Sends one signed webhook about `object` to the configured URL.
async fn send_webhook(shared: &Shared, object: PaymentObject) -> Result<()> {
    let config = shared.config();
    let Some(url) = config.webhook_url else {
        return Ok(());
    };
    let event = WebhookEvent {
        event_id: shared.next_id("evt"),
        event_type: "PAYMENT_STATUS_CHANGED".into(),
        data: object,
    };
    let body = serde_json::to_vec(&event)?;
    let timestamp = unix_now();
    let signature = urr_payments::webhook::sign(config.webhook_secret.as_bytes(), timestamp, &body);
    post(
        &url,
        &[
            (SIGNATURE_HEADER, signature),
            (TIMESTAMP_HEADER, timestamp.to_string()),
        ],
        body,
    )
    .await?;
    shared.book().counts.webhooks_sent += 1;
    Ok(())
}

/// A minimal HTTP/1 POST (webhooks go to loopback in development and tests).
pub async fn post(url: &str, headers: &[(&str, String)], body: Vec<u8>) -> Result<(u16, Bytes)> {
    let uri: http::Uri = url.parse().context("webhook url")?;
    let authority = uri.authority().context("webhook url has no host")?.clone();
    let stream =
        tokio::net::TcpStream::connect((authority.host(), authority.port_u16().unwrap_or(80)))
            .await?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(uri.path_and_query().map_or("/", |p| p.as_str()))
        .header(http::header::HOST, authority.as_str())
        .header(http::header::CONTENT_TYPE, "application/json");
    for (name, value) in headers {
        request = request.header(*name, value.as_str());
    }
    let response = sender
        .send_request(request.body(Full::new(Bytes::from(body)))?)
        .await?;
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await?.to_bytes();
    Ok((status, bytes))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ScenarioRequest {
    scenario: Scenario,
    #[serde(default)]
    order_id: Option<String>,
    #[serde(default)]
    amount: Option<i32>,
}

/// `GET /_mock/counts`, `POST /_mock/scenario {scenario, orderId?, amount?}`.
async fn control(req: Request<Incoming>, segments: &[&str], shared: &Shared) -> Reply {
    match (req.method().clone(), segments) {
        (Method::GET, ["_mock", "counts"]) => reply(
            200,
            serde_json::to_string(&shared.book().counts).unwrap_or_default(),
        ),
        (Method::POST, ["_mock", "scenario"]) => {
            let Some(body) = read_json::<ScenarioRequest>(req).await else {
                return error(
                    400,
                    "INVALID_REQUEST",
                    "expected {scenario, orderId?, amount?}",
                );
            };
            let mut book = shared.book();
            match (body.order_id, body.amount) {
                (Some(order), _) => {
                    book.by_order.insert(order, body.scenario);
                }
                (None, Some(amount)) => {
                    book.by_amount.insert(amount, body.scenario);
                }
                (None, None) => book.default_scenario = Some(body.scenario),
            }
            reply(200, "{}".into())
        }
        _ => error(404, "NOT_FOUND", "no such control"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A capture from before the process started is refundable once, and is not counted as a
    /// capture of this run; an unknown payment still is not.
    #[tokio::test]
    async fn a_remembered_capture_can_be_refunded_once() {
        let provider = MockProvider::start("127.0.0.1:0", Config::default())
            .await
            .expect("mock");
        let earlier = PaymentObject {
            payment_key: "pk-earlier".into(),
            order_id: "order-earlier".into(),
            amount: 55_000,
            status: "DONE".into(),
            approved_at: None,
            method: Some("card".into()),
        };
        assert_eq!(provider.remember_captures(vec![earlier.clone()]), 1);
        assert_eq!(
            provider.remember_captures(vec![earlier]),
            0,
            "known already"
        );
        let cancel = |amount| CancelBody {
            cancel_reason: "test".into(),
            cancel_amount: amount,
        };
        let status = |reply: Reply| reply.status().as_u16();
        let shared = &provider.shared;
        assert_eq!(
            status(refund(shared, "k1".into(), "pk-unknown", cancel(1))),
            404
        );
        assert_eq!(
            status(refund(shared, "k2".into(), "pk-earlier", cancel(55_000))),
            200
        );
        assert_eq!(
            status(refund(shared, "k3".into(), "pk-earlier", cancel(55_000))),
            400
        );
        let counts = provider.counts();
        assert_eq!(
            (counts.total_captures(), counts.refunded_amount),
            (0, 55_000)
        );
        assert_eq!(counts.duplicate_refunds, 1);
    }

    #[test]
    fn rfc3339_now_has_the_expected_shape() {
        let now = now_rfc3339();
        assert!(
            urr_payments::provider::timestamp(Some(&now)).is_some(),
            "{now}"
        );
    }
}
