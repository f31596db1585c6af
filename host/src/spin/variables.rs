//! `spin:variables@3.0.0`: a component reads only its own component variables, resolved at boot.
//! Errors carry the texts Spin's variables factor gives (`invalid-name` says why the name is not
//! a variable name; `undefined` names the component and the variable).

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
            if let Err(why) = crate::variables::validate_name(&name) {
                return Err(vars::Error::InvalidName(format!("{name:?}: {why}")));
            }
            state
                .component
                .variables
                .get(&name)
                .cloned()
                .ok_or_else(|| {
                    vars::Error::Undefined(format!(
                        "no variable for {:?}.{name:?}",
                        state.component.id
                    ))
                })
        }))
    }
}
