//! Captures guest stdout/stderr into a shared, bounded buffer, each line tagged with the
//! component id. The test harness prints it when a test fails.

use crate::config::GUEST_OUTPUT_CAPTURE_BYTES;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};

pub struct CaptureStream {
    buffer: Arc<Mutex<Vec<u8>>>,
    tag: String,
}

impl CaptureStream {
    pub fn new(buffer: Arc<Mutex<Vec<u8>>>, tag: String) -> Self {
        Self { buffer, tag }
    }
}

impl IsTerminal for CaptureStream {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CaptureStream {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(CaptureWriter {
            buffer: self.buffer.clone(),
            tag: self.tag.clone(),
            at_line_start: true,
        })
    }
}

struct CaptureWriter {
    buffer: Arc<Mutex<Vec<u8>>>,
    tag: String,
    at_line_start: bool,
}

impl AsyncWrite for CaptureWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = &mut *self;
        if let Ok(mut buffer) = this.buffer.lock() {
            for &byte in data {
                if this.at_line_start {
                    buffer.extend_from_slice(this.tag.as_bytes());
                }
                buffer.push(byte);
                this.at_line_start = byte == b'\n';
            }
            // Keep the newest output: the end of a failing test's log is what explains it.
            if buffer.len() > GUEST_OUTPUT_CAPTURE_BYTES {
                let excess = buffer.len() - GUEST_OUTPUT_CAPTURE_BYTES;
                buffer.drain(..excess);
            }
        }
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
