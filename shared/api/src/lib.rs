//! Pure request/response types shared by every URR Edge component: the error body of the HTTP
//! contract, the edge policy (CORS, security headers, request ids), the health report, the
//! clock reply, HTTP validators and encodings, and the shape of every group's typed route. No spin-sdk, no I/O: it tests
//! natively.

pub mod body;
pub mod cache;
pub mod edge;
pub mod error;
pub mod health;
pub mod id;
pub mod paging;
pub mod route;
pub mod time;
pub mod trace;

pub use error::{ApiError, ErrorBody};
pub use health::{Dependency, DependencyStatus, Readiness};
