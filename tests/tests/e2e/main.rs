//! End-to-end tests: one binary, a module per feature. Every test runs the real server.

#![allow(clippy::unwrap_used, unreachable_pub)]

mod api_keys;
mod audit;
mod auth;
mod isolation;
mod limits;
mod live;
mod members;
mod observability;
mod ops;
mod redis;
mod rls;
mod roles;
mod schema;
mod subscriptions;
