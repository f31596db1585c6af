//! The payments store (`urr_component::pg`, as the `urr_payments` role): a lost connection, an
//! overloaded server or a serialization conflict is a 503 worth retrying; a bad statement or
//! column is a 500; a statement that broke a rule on its row's data is a 500 whose code says so.

use urr_component::ApiError;
use urr_component::pg::{self, Store};

/// SQLSTATE classes that are worth a retry: connection exceptions, transaction rollback
/// (serialization failure, deadlock), insufficient resources, operator intervention.
const RETRYABLE_SQLSTATE_CLASSES: &[&str] = &["08", "40", "53", "57"];

/// SQLSTATE classes of a statement that broke a rule on the data it was given (22 data
/// exception, 23 integrity constraint violation): the row is wrong, not the code or the store.
const DATA_CONFLICT_SQLSTATE_CLASSES: &[&str] = &["22", "23"];

/// The `code` of a 500 whose statement broke a rule on its row's data (the client still sees an
/// internal error; reconciliation parks such a row instead of stopping, see `settle.rs`).
pub const DATA_CONFLICT: &str = "data_conflict";

pub const STORE: Store = Store::with_failure("payments", store_error);

fn store_error(context: &'static str, err: &pg::Error) -> ApiError {
    let api = pg::pg_failure(context, err, RETRYABLE_SQLSTATE_CLASSES);
    match pg::sqlstate(err) {
        Some(code)
            if api.status == 500
                && DATA_CONFLICT_SQLSTATE_CLASSES
                    .iter()
                    .any(|class| code.starts_with(class)) =>
        {
            ApiError::new(500, DATA_CONFLICT, api.message)
        }
        _ => api,
    }
}
