//! One provider call over `wasi:http` (the host enforces `allowed_outbound_hosts`), raced
//! against the provider timeout. Transport failures are told apart by what they mean for money:
//! a request that never left cannot have captured anything; one that timed out or lost its
//! answer may have, so its payment stays `processing` until reconciled.

use futures::future::{Either, select};
use spin_sdk::http::body::IncomingBodyExt as _;
use spin_sdk::http::{EmptyBody, FullBody};
use spin_sdk::wasip3::http::types::ErrorCode;
use urr_payments::provider::{HttpMethod, OutboundRequest};

#[derive(Debug)]
pub enum Transport {
    /// The request never reached the provider (refused, unreachable, denied): nothing captured.
    NotSent(String),
    /// No answer within the provider timeout: outcome unknown.
    TimedOut,
    /// The answer was lost after the request went out: outcome unknown.
    Lost(String),
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Transport::NotSent(e) => write!(f, "not sent: {e}"),
            Transport::TimedOut => f.write_str("timed out"),
            Transport::Lost(e) => write!(f, "answer lost: {e}"),
        }
    }
}

fn classify(code: &ErrorCode) -> Transport {
    match code {
        ErrorCode::ConnectionRefused
        | ErrorCode::DestinationUnavailable
        | ErrorCode::DestinationNotFound
        | ErrorCode::DestinationIpUnroutable
        | ErrorCode::DestinationIpProhibited
        | ErrorCode::DnsTimeout
        | ErrorCode::DnsError(_)
        | ErrorCode::ConnectionTimeout
        | ErrorCode::HttpRequestDenied
        | ErrorCode::HttpRequestUriInvalid => Transport::NotSent(format!("{code:?}")),
        ErrorCode::HttpResponseTimeout => Transport::TimedOut,
        other => Transport::Lost(format!("{other:?}")),
    }
}

async fn exchange(request: &OutboundRequest) -> Result<(u16, Vec<u8>), Transport> {
    let method = match request.method {
        HttpMethod::Get => spin_sdk::http::Method::GET,
        HttpMethod::Post => spin_sdk::http::Method::POST,
    };
    let mut builder = http::Request::builder().method(method).uri(&request.url);
    for (name, value) in &request.headers {
        builder = builder.header(*name, value.as_str());
    }
    if let Some(traceparent) = urr_component::outgoing_traceparent() {
        builder = builder.header("traceparent", traceparent);
    }
    let response = match &request.body {
        Some(body) => {
            let built = builder
                .body(FullBody::new(bytes::Bytes::from(body.clone())))
                .map_err(|e| Transport::NotSent(e.to_string()))?;
            spin_sdk::http::send(built).await
        }
        None => {
            let built = builder
                .body(EmptyBody::new())
                .map_err(|e| Transport::NotSent(e.to_string()))?;
            spin_sdk::http::send(built).await
        }
    }
    .map_err(|e| classify(&e))?;
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .bytes()
        .await
        .map_err(|e| Transport::Lost(format!("{e:?}")))?;
    Ok((status, body.to_vec()))
}

/// Sends `request` and reads the whole answer, or gives up after `timeout_ms` (the in-flight
/// call is dropped, which closes its connection).
pub async fn call(request: &OutboundRequest, timeout_ms: u32) -> Result<(u16, Vec<u8>), Transport> {
    let exchange = std::pin::pin!(exchange(request));
    let timer = std::pin::pin!(spin_sdk::time::sleep(std::time::Duration::from_millis(
        u64::from(timeout_ms)
    )));
    match select(exchange, timer).await {
        Either::Left((result, _)) => result,
        Either::Right(((), _)) => Err(Transport::TimedOut),
    }
}
