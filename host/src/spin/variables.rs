//! `spin:variables@3.0.0`: a component reads only its own component variables, resolved at boot.

use super::{Spin, vars};
use crate::state::HostState;
use wasmtime::component::Accessor;

impl vars::Host for HostState {}

impl<U> vars::HostWithStore<U> for Spin {
    async fn get(
        accessor: &Accessor<U, Self>,
        name: String,
    ) -> wasmtime::Result<Result<String, vars::Error>> {
        Ok(accessor.with(|mut access| {
            let state = access.get();
            if !crate::variables::is_valid_name(&name) {
                return Err(vars::Error::InvalidName(name));
            }
            state
                .component
                .variables
                .get(&name)
                .cloned()
                .ok_or(vars::Error::Undefined(name))
        }))
    }
}
