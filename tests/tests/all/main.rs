//! All end-to-end tests, in one binary (one host build, one link).

mod auth;
mod catalog;
mod devstack;
mod host;
mod openapi;
mod outage;
mod outbound;
