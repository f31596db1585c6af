//! All end-to-end tests, in one binary (one host build, one link).

mod admin;
mod admin_booking;
mod auth;
mod catalog;
mod devstack;
mod host;
mod outage;
mod outbound;
