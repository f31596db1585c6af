//! All end-to-end tests, in one binary (one host build, one link).

mod admin;
mod admin_booking;
mod artists;
mod auth;
mod booking;
mod booking_support;
mod capabilities;
mod catalog;
mod catalog_boundaries;
mod devstack;
mod edge;
mod host;
mod limits;
mod memberships;
mod money_safety;
mod openapi;
mod outage;
mod outbound;
mod payments;
mod queue;
mod queue_store;
mod safety_edges;
mod seat_release;
mod seats_storm;
mod spin_conformance;
