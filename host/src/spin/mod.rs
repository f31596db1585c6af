//! Host implementations of the Spin interfaces spin-sdk 7 imports: `spin:variables@3.0.0`,
//! `spin:redis@3.0.0` and `spin:postgres@4.2.0`. The bindings are generated here, in one place,
//! from the WIT in the repository's top-level `wit/` folder.
//!
//! Every failure a guest can cause or meet (bad name, denied address, store down, SQL error) is
//! returned as the interface's error value; only host bugs become traps.

mod pg_types;
mod postgres;
mod redis;
mod variables;

use crate::state::HostState;
use wasmtime::component::HasData;

wasmtime::component::bindgen!({
    path: "../wit",
    world: "urr:host/spin-imports",
    imports: { default: async | trappable },
    with: {
        "spin:redis/redis.connection": crate::spin::redis::RedisConnection,
        "spin:postgres/postgres.connection": crate::spin::postgres::PgConnection,
        "spin:postgres/postgres.connection-builder": crate::spin::postgres::PgBuilder,
    },
});

pub use spin::postgres::postgres as pg;
pub use spin::redis::redis as rd;
pub use spin::variables::variables as vars;

/// `HasData` marker: the host functions get `&mut HostState`.
pub struct Spin;

impl HasData for Spin {
    type Data<'a> = &'a mut HostState;
}

pub fn add_to_linker(linker: &mut wasmtime::component::Linker<HostState>) -> wasmtime::Result<()> {
    vars::add_to_linker::<HostState, Spin>(linker, |s| s)?;
    rd::add_to_linker::<HostState, Spin>(linker, |s| s)?;
    pg::add_to_linker::<HostState, Spin>(linker, |s| s)?;
    Ok(())
}
