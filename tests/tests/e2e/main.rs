//! End-to-end tests: one binary, a module per feature. Every test runs the real server.

#![allow(clippy::unwrap_used, unreachable_pub)]

mod audit;
mod audits;
mod auth;
mod catalog;
mod catalog_import;
mod certificates;
mod demo;
mod evidence;
mod exports;
mod incidents;
mod isms;
mod isolation;
mod limits;
mod live;
mod ops;
mod records;
mod reminders_api;
mod rls;
mod roles;
mod schema;
mod sharing;
mod vendors;
