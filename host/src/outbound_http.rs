//! Outbound HTTP for guests (`wasi:http@0.3.0` client, what spin-sdk's `http::send` uses):
//! the component's `allowed_outbound_hosts` is enforced, and every request has a connect timeout,
//! a total timeout and a response size cap. A denied host is the interface's `HTTP-request-denied`
//! error value, never a trap.
//!
//! Plain `http://` only: the local host talks to loopback services (the mock payment provider).
//! An `https://` request gets a clear configuration error; production Spin does TLS itself.

use crate::config::HttpSettings;
use crate::state::ComponentContext;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::time::{Instant, Sleep};
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

pub struct OutboundHttp {
    component: Arc<ComponentContext>,
    settings: HttpSettings,
}

impl OutboundHttp {
    pub fn new(component: Arc<ComponentContext>, settings: HttpSettings) -> Self {
        Self {
            component,
            settings,
        }
    }
}

type ResponseIo = Box<dyn Future<Output = Result<(), Error>> + Send>;

impl WasiHttpHooks for OutboundHttp {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> Box<dyn Future<Output = Result<(http::Response<WasiBody>, ResponseIo), Error>> + Send>
    {
        let component = self.component.clone();
        let settings = self.settings.clone();
        Box::new(async move {
            let response = send(&component, &settings, request, options).await;
            if let Err(e) = &response {
                tracing::debug!(component = %component.id, error = %e, "outbound http failed");
            }
            response.map(|r| (r, Box::new(async { Ok(()) }) as ResponseIo))
        })
    }
}

async fn send(
    component: &ComponentContext,
    settings: &HttpSettings,
    mut request: http::Request<WasiBody>,
    options: Option<RequestOptions>,
) -> Result<http::Response<WasiBody>, Error> {
    let uri = request.uri().clone();
    let scheme = uri.scheme_str().ok_or(Error::HttpRequestUriInvalid)?;
    let authority = uri.authority().ok_or(Error::HttpRequestUriInvalid)?;
    if !component
        .outbound
        .allows_url(&format!("{scheme}://{authority}"), scheme)
    {
        tracing::warn!(component = %component.id, %authority, "outbound http denied by allowed_outbound_hosts");
        return Err(Error::HttpRequestDenied);
    }
    if scheme != "http" {
        return Err(Error::InternalError(Some(format!(
            "the local host speaks plain http only; `{scheme}` is for production Spin"
        ))));
    }
    let port = authority.port_u16().unwrap_or(80);
    let deadline = Instant::now() + settings.total_timeout;
    // A guest may ask for shorter timeouts, never longer ones.
    let connect_timeout = options
        .and_then(|o| o.connect_timeout)
        .map_or(settings.connect_timeout, |t| {
            t.min(settings.connect_timeout)
        });

    let stream = tokio::time::timeout(
        connect_timeout,
        tokio::net::TcpStream::connect((authority.host(), port)),
    )
    .await
    .map_err(|_| Error::ConnectionTimeout)?
    .map_err(|e| match e.kind() {
        std::io::ErrorKind::ConnectionRefused => Error::ConnectionRefused,
        _ => Error::DestinationUnavailable,
    })?;
    let _ = stream.set_nodelay(true);
    let (mut sender, connection) = tokio::time::timeout_at(
        deadline,
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)),
    )
    .await
    .map_err(|_| Error::ConnectionTimeout)?
    .map_err(|_| Error::HttpProtocolError)?;
    tokio::spawn(async move {
        let _ = connection.await;
    });

    // The wire request carries only the path; the authority travels in the Host header.
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    *request.uri_mut() = http::Uri::try_from(path).map_err(|_| Error::HttpRequestUriInvalid)?;
    if !request.headers().contains_key(http::header::HOST) {
        let host = http::HeaderValue::from_str(authority.as_str())
            .map_err(|_| Error::HttpRequestUriInvalid)?;
        request.headers_mut().insert(http::header::HOST, host);
    }

    let response = tokio::time::timeout_at(deadline, sender.send_request(request))
        .await
        .map_err(|_| Error::HttpResponseTimeout)?
        .map_err(|_| Error::HttpProtocolError)?;
    let declared_len = response
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if let Some(len) = declared_len
        && len > settings.max_response_bytes as u64
    {
        return Err(Error::HttpResponseBodySize(Some(len)));
    }
    let max = settings.max_response_bytes;
    Ok(response.map(|incoming| {
        CappedBody {
            inner: incoming,
            read: 0,
            max,
            deadline: Box::pin(tokio::time::sleep_until(deadline)),
        }
        .boxed_unsync()
    }))
}

/// A response body that fails once it exceeds the size cap or outlives the total deadline.
struct CappedBody {
    inner: hyper::body::Incoming,
    read: usize,
    max: usize,
    deadline: Pin<Box<Sleep>>,
}

impl Body for CappedBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.read += data.len();
                    if this.read > this.max {
                        return Poll::Ready(Some(Err(Error::HttpResponseBodySize(Some(
                            this.read as u64,
                        )))));
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(_))) => Poll::Ready(Some(Err(Error::HttpResponseIncomplete))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => match this.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(Error::HttpResponseTimeout))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
