//! Pure request/response types shared by every URR Edge component: the error body of the HTTP
//! contract, the health report, and the clock reply. No spin-sdk, no I/O: it tests natively.

pub mod error;
pub mod health;
pub mod time;

pub use error::{ApiError, ErrorBody};
pub use health::{Dependency, DependencyStatus, Readiness};
