//! ISMS: records.

use grc_e2e::TestApp;

/// Writes at least one row in each of this feature's tenant-owned tables, through the API, as
/// the tenant whose owner token is given (the row-level security test calls it for two tenants).
pub async fn populate(_app: &TestApp, _token: &str) {}
