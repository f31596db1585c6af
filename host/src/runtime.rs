//! The Wasm side of the host: one engine, one linker with every interface a component may import,
//! and every component compiled (or loaded from the compile cache) and pre-instantiated at boot.
//! A missing import fails boot, naming the component and the interface.

use crate::config::HostConfig;
use crate::manifest::{ComponentDecl, Manifest};
use crate::outbound::OutboundPolicy;
use crate::state::{ComponentContext, HostState};
use crate::variables;
use anyhow::{Context, Result, anyhow};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};
use wasmtime_wasi_http::p3::bindings::ServicePre;

/// Instances the pooling allocator can hold at once, across all components. Above the sum of the
/// default per-component concurrency limits that can run at the same time on two cores.
pub const POOL_TOTAL_INSTANCES: u32 = 1000;
/// Epoch tick: a guest that never yields (a busy loop) is interrupted at this granularity, which
/// is what lets the route deadline stop it.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);
/// Bytes of each pooled linear memory kept resident between instances. With the kernel's
/// `PAGEMAP_SCAN` (Linux 6.7+) only the pages an instance dirtied are reset, so a generous value
/// costs nothing per request and spares the next instance its page faults; without it the first
/// `min(this, accessible)` bytes are zeroed with `memset` (a component's 1 MiB shadow stack plus
/// its heap, about 1.2 MiB for ours).
pub const MEMORY_KEEP_RESIDENT: usize = 4 << 20;
/// Bytes of each pooled table kept resident between instances (reset the same way).
pub const TABLE_KEEP_RESIDENT: usize = 64 << 10;

/// A component ready to serve: its pre-instantiated handler and its boot-time context.
pub struct LoadedComponent {
    pub context: Arc<ComponentContext>,
    pub pre: ServicePre<HostState>,
    pub decl: ComponentDecl,
}

pub struct Runtime {
    pub engine: Engine,
    pub components: Vec<LoadedComponent>,
    /// Component index by id.
    pub index: HashMap<String, usize>,
    /// How long compiling/loading took, per component (for the boot log and benchmarks).
    pub load_times: Vec<(String, Duration, bool)>,
    /// The application's variables, resolved (the host reads its business counters with them).
    pub app_vars: HashMap<String, String>,
}

pub fn build_engine(config: &HostConfig) -> Result<Engine> {
    let mut c = Config::new();
    c.wasm_component_model_async(true);
    c.epoch_interruption(true);
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(POOL_TOTAL_INSTANCES);
    pool.total_core_instances(POOL_TOTAL_INSTANCES * 4);
    pool.total_memories(POOL_TOTAL_INSTANCES * 2);
    pool.total_tables(POOL_TOTAL_INSTANCES * 4);
    pool.total_stacks(POOL_TOTAL_INSTANCES);
    pool.max_memory_size(config.max_memory_bytes);
    // Reset only what an instance dirtied (where the kernel can tell) and keep it resident:
    // tearing instances down was a quarter of the CPU of a fresh-instance request before.
    pool.pagemap_scan(Enabled::Auto);
    pool.linear_memory_keep_resident(MEMORY_KEEP_RESIDENT);
    pool.table_keep_resident(TABLE_KEEP_RESIDENT);
    c.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Engine::new(&c)
        .map_err(|e| anyhow!("{e:?}"))
        .context("configuring the Wasm engine")
}

/// Spawns the thread that advances the engine's epoch; it ends when the engine is dropped.
pub fn start_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("urr-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .map(|_| ())
        .unwrap_or_else(|e| tracing::error!("cannot start the epoch thread: {e}"));
}

pub fn build_linker(engine: &Engine) -> Result<Linker<HostState>> {
    let mut linker = Linker::<HostState>::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(|e| anyhow!("{e:?}"))?;
    wasmtime_wasi::p3::add_to_linker(&mut linker).map_err(|e| anyhow!("{e:?}"))?;
    wasmtime_wasi_http::p3::add_to_linker(&mut linker).map_err(|e| anyhow!("{e:?}"))?;
    crate::spin::add_to_linker(&mut linker).map_err(|e| anyhow!("{e:?}"))?;
    Ok(linker)
}

/// The compile-cache file for a component: keyed by the Wasm bytes and everything about the
/// engine that affects compiled code, so a changed component or engine setting recompiles.
fn cache_path(dir: &Path, engine: &Engine, id: &str, wasm: &[u8]) -> PathBuf {
    let mut engine_hash = std::collections::hash_map::DefaultHasher::new();
    engine
        .precompile_compatibility_hash()
        .hash(&mut engine_hash);
    let mut digest = Sha256::new();
    digest.update(wasm);
    digest.update(engine_hash.finish().to_le_bytes());
    digest.update(env!("CARGO_PKG_VERSION").as_bytes());
    let hex: String = digest
        .finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect();
    dir.join(format!("{id}-{hex}.cwasm"))
}

/// Compiles a component, or loads it from the cache. Returns whether the cache was hit.
fn load_component(
    engine: &Engine,
    decl: &ComponentDecl,
    cache: Option<&Path>,
) -> Result<(Component, bool)> {
    let wasm = std::fs::read(&decl.source).with_context(|| {
        format!(
            "component `{}`: cannot read {} (run `urr-edge build` first)",
            decl.id,
            decl.source.display()
        )
    })?;
    let Some(dir) = cache else {
        return Ok((
            Component::new(engine, &wasm).map_err(|e| anyhow!("{e:?}"))?,
            false,
        ));
    };
    let path = cache_path(dir, engine, &decl.id, &wasm);
    if path.exists() {
        // SAFETY: the file was written by `Component::serialize` of an engine with the same
        // compatibility hash (it is in the file name), into a cache directory only this tool
        // writes. A corrupt or foreign file is still checked by wasmtime's header validation.
        #[expect(
            unsafe_code,
            reason = "loading our own precompiled components is wasmtime's documented unsafe API"
        )]
        let loaded = unsafe { Component::deserialize_file(engine, &path) };
        match loaded {
            Ok(c) => return Ok((c, true)),
            Err(e) => {
                tracing::warn!(component = %decl.id, "ignoring unusable compile cache entry: {e}")
            }
        }
    }
    let component = Component::new(engine, &wasm).map_err(|e| anyhow!("{e:?}"))?;
    // The cache only saves time: failing to fill it must not fail the boot.
    if let Err(e) = store_in_cache(dir, &path, &component) {
        tracing::warn!(component = %decl.id, "could not write the compile cache: {e:#}");
    }
    Ok((component, false))
}

/// Writes `component` to `path`: to a file of its own first, then renamed into place, so a
/// concurrent boot never reads half a file. The temporary name is unique per write, not per
/// process: one process (the test harness) boots many hosts at once.
fn store_in_cache(dir: &Path, path: &Path, component: &Component) -> Result<()> {
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating compile cache {}", dir.display()))?;
    let bytes = component.serialize().map_err(|e| anyhow!("{e:?}"))?;
    let write = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("tmp{}-{write}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })?;
    Ok(())
}

impl Runtime {
    pub fn load(manifest: &Manifest, config: &HostConfig) -> Result<Self> {
        let engine = build_engine(config)?;
        let linker = build_linker(&engine)?;
        let app_vars = variables::resolve_application(&manifest.variables, &config.variables)?;
        crate::app_settings::check(&app_vars)?;

        let mut components = Vec::new();
        let mut index = HashMap::new();
        let mut load_times = Vec::new();
        for decl in &manifest.components {
            let vars = variables::resolve_component(&decl.variables, &app_vars)
                .with_context(|| format!("component `{}`", decl.id))?;
            // Spin resolves manifest expressions with application variables only, and a list it
            // cannot resolve or parse denies everything at run time: refuse it at boot instead.
            let hosts = decl
                .allowed_outbound_hosts
                .iter()
                .map(|h| variables::resolve_manifest_expression(h, &app_vars))
                .collect::<Result<Vec<_>>>()
                .with_context(|| format!("allowed_outbound_hosts of component `{}`", decl.id))?;
            let outbound = OutboundPolicy::new(&hosts)
                .with_context(|| format!("allowed_outbound_hosts of component `{}`", decl.id))?;

            let started = Instant::now();
            let (component, cached) =
                load_component(&engine, decl, config.compile_cache.as_deref())
                    .with_context(|| format!("component `{}`", decl.id))?;
            let pre = linker
                .instantiate_pre(&component)
                .map_err(|e| anyhow!("{e:#}"))
                .with_context(|| {
                    format!(
                        "component `{}` imports something the host does not provide",
                        decl.id
                    )
                })?;
            let pre = ServicePre::new(pre)
                .map_err(|e| anyhow!("{e:#}"))
                .with_context(|| {
                    format!(
                        "component `{}` does not export wasi:http/handler@0.3.0",
                        decl.id
                    )
                })?;
            load_times.push((decl.id.clone(), started.elapsed(), cached));

            index.insert(decl.id.clone(), components.len());
            components.push(LoadedComponent {
                context: Arc::new(ComponentContext {
                    id: decl.id.clone(),
                    variables: vars,
                    outbound,
                }),
                pre,
                decl: decl.clone(),
            });
        }
        Ok(Self {
            engine,
            components,
            index,
            load_times,
            app_vars,
        })
    }
}
