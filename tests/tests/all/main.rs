//! All end-to-end tests, in one binary (one host build, one link).

mod host;
mod outage;
mod outbound;
