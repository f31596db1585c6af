//! All end-to-end tests, in one binary (one host build, one link).

mod admin;
mod admin_booking;
mod auth;
mod catalog;
mod catalog_boundaries;
mod devstack;
mod host;
mod outage;
mod outbound;
