//! Per-request store data: a fresh `HostState` for every request, as Spin gives every request a
//! fresh instance. It carries the component's resolved variables and outbound policy, and a handle
//! to the process-wide store clients.

use crate::config::{GuestOutput, HttpSettings};
use crate::outbound::OutboundPolicy;
use crate::outbound_http::OutboundHttp;
use crate::stores::Stores;
use std::collections::HashMap;
use std::sync::Arc;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// What every instance of one component shares: resolved once at boot.
#[derive(Debug)]
pub struct ComponentContext {
    pub id: String,
    pub variables: HashMap<String, String>,
    pub outbound: OutboundPolicy,
}

pub struct HostState {
    pub wasi: WasiCtx,
    pub http: WasiHttpCtx,
    pub outbound_http: OutboundHttp,
    pub table: ResourceTable,
    pub stores: Arc<Stores>,
    pub component: Arc<ComponentContext>,
    pub limits: wasmtime::StoreLimits,
}

impl HostState {
    pub fn new(
        component: Arc<ComponentContext>,
        stores: Arc<Stores>,
        http: &HttpSettings,
        output: &GuestOutput,
        max_memory_bytes: usize,
    ) -> Self {
        let mut wasi = WasiCtx::builder();
        match output {
            GuestOutput::Inherit => {
                wasi.inherit_stdout().inherit_stderr();
            }
            GuestOutput::Capture(buffer) => {
                let tag = format!("[{}] ", component.id);
                wasi.stdout(crate::guest_log::CaptureStream::new(
                    buffer.clone(),
                    tag.clone(),
                ))
                .stderr(crate::guest_log::CaptureStream::new(buffer.clone(), tag));
            }
            GuestOutput::Discard => {}
        }
        Self {
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            outbound_http: OutboundHttp::new(component.clone(), http.clone()),
            table: ResourceTable::new(),
            stores,
            component,
            limits: wasmtime::StoreLimitsBuilder::new()
                .memory_size(max_memory_bytes)
                .instances(32)
                .build(),
        }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.outbound_http,
        }
    }
}
