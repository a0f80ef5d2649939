//! Exports for auditors: an approved Statement of Applicability version and the risk register
//! (current, or as a dated assessment froze it), as CSV (RFC 4180) and XLSX.
//!
//! `GET /exports/soa-versions/{id}.{csv|xlsx}` and
//! `GET /exports/risk-register/{ismsId}.{csv|xlsx}[?asOf=YYYY-MM-DD]`. Authenticated like
//! `/graphql` (Bearer JWT or API key, `X-Tenant`), authorized as `ReadIsms`; an export is a
//! disclosure, so each one appends an `isms.export` audit event before the file goes out.
//! Text that a spreadsheet would run as a formula is neutralised in both formats. See
//! `docs/EXPORTS.md`.

use crate::auth::AuthContext;
use crate::catalog::{CatalogCache, CatalogView};
use crate::errors::ErrorCode;
use crate::graphql::Authorized;
use crate::graphql::ids::{Kind, decode_kind};
use crate::http::AppState;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use grc_domain::authz::Operation;
use grc_domain::ids::UserId;
use grc_domain::isms::{RiskCriteria, natural_ref_cmp};
use grc_store::{AuditEntry, IsmsRecord, PageRequest, RiskRecord, StoreError, TenantTx};
use serde_json::json;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

pub const CSV_CONTENT_TYPE: &str = "text/csv; charset=utf-8";
pub const XLSX_CONTENT_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The longest text an XLSX cell holds (Excel's limit).
const XLSX_MAX_TEXT: usize = 32_767;

/// What the export handlers share: their own catalog cache (the schema's is not reachable from
/// a plain route), one per server.
#[derive(Debug, Default)]
pub struct Exports {
    catalog: CatalogCache,
}

/// Mounts the export routes; `exports` is shared by the workers.
pub fn routes(cfg: &mut web::ServiceConfig, exports: web::Data<Exports>) {
    cfg.app_data(exports)
        .route("/exports/soa-versions/{file}", web::get().to(soa_version))
        .route(
            "/exports/risk-register/{file}",
            web::get().to(risk_register),
        );
}

// ---- errors and authorization (shared by plain HTTP routes) ----

/// A plain-route error, in the shape of every HTTP-level error of the server:
/// `{"errors": [{"message": ..., "extensions": {"code": ...}}]}`.
pub fn error_json(status: StatusCode, code: ErrorCode, message: &str) -> HttpResponse {
    let mut b = HttpResponse::build(status);
    if status == StatusCode::UNAUTHORIZED {
        b.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
    }
    b.insert_header((header::CACHE_CONTROL, "no-store")).json(
        json!({ "errors": [{ "message": message, "extensions": { "code": code.as_str() } }] }),
    )
}

/// Authenticates a plain HTTP request the way `/graphql` does (credential, `X-Tenant`, rate
/// limit) and checks that the caller's role in the tenant permits `op`: the plain-route
/// equivalent of [`crate::graphql::authorize`]. The error is the response to send.
pub async fn authorize_request(
    req: &HttpRequest,
    state: &AppState,
    op: Operation,
) -> Result<Authorized, HttpResponse> {
    // Refusals come in the server's one HTTP error shape, with their headers.
    let auth = crate::http::authenticate(req, state, false).await?;
    authorize_context(&auth, op)
}

/// The role check of [`authorize_request`] on an authenticated caller (the same check as
/// GraphQL's, [`crate::graphql::check_caller`]), as this route's response.
// The error is the response itself, built once on the way out.
#[allow(clippy::result_large_err)]
pub fn authorize_context(a: &AuthContext, op: Operation) -> Result<Authorized, HttpResponse> {
    crate::graphql::check_caller(a, op).map_err(|(code, message)| {
        let status = match code {
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::BadUserInput => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        error_json(status, code, &message)
    })
}

fn internal(e: &dyn std::fmt::Display) -> HttpResponse {
    tracing::error!(error = %e, "export failed");
    error_json(
        StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::Internal,
        "internal error",
    )
}

fn not_found(message: &str) -> HttpResponse {
    error_json(StatusCode::NOT_FOUND, ErrorCode::NotFound, message)
}

// ---- formats and cells ----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
        }
    }
}

/// Splits `{id}.{csv|xlsx}`.
fn split_file(file: &str) -> Option<(&str, Format)> {
    let (id, ext) = file.rsplit_once('.')?;
    let format = match ext.to_ascii_lowercase().as_str() {
        "csv" => Format::Csv,
        "xlsx" => Format::Xlsx,
        _ => return None,
    };
    Some((id, format))
}

/// A global id of `kind`, or the raw UUID.
fn parse_id(s: &str, kind: Kind) -> Option<Uuid> {
    decode_kind(s, kind).or_else(|| Uuid::try_parse(s).ok())
}

/// Text a spreadsheet would take for a formula (or a DDE call) gets a leading `'`: cells that
/// start with `=`, `+`, `-`, `@`, a tab or a carriage return.
pub fn neutralise(s: &str) -> Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// One cell of an export.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Text(String),
    Int(i64),
    Date(NaiveDate),
    Time(DateTime<Utc>),
    Empty,
}

impl Cell {
    fn text(s: impl Into<String>) -> Self {
        Self::Text(s.into())
    }
    fn opt_text(s: Option<&str>) -> Self {
        s.map_or(Self::Empty, |s| Self::Text(s.to_owned()))
    }
    fn yes_no(b: bool) -> Self {
        Self::text(if b { "Yes" } else { "No" })
    }
    fn csv(&self) -> String {
        match self {
            Self::Text(s) => neutralise(s).into_owned(),
            Self::Int(n) => n.to_string(),
            Self::Date(d) => d.format("%Y-%m-%d").to_string(),
            Self::Time(t) => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            Self::Empty => String::new(),
        }
    }
}

/// A column: its heading and its width in the XLSX (characters).
#[derive(Debug, Clone, Copy)]
struct Col {
    heading: &'static str,
    width: f64,
}

const fn col(heading: &'static str, width: f64) -> Col {
    Col { heading, width }
}

/// Score columns filled by whether they are within the acceptance threshold.
#[derive(Debug, Clone)]
struct ScoreFill {
    columns: Vec<u16>,
    threshold: u16,
}

/// A table to export, with what the XLSX's "About" sheet says about it.
#[derive(Debug)]
struct Table {
    sheet: &'static str,
    title: String,
    cols: &'static [Col],
    rows: Vec<Vec<Cell>>,
    about: Vec<(&'static str, Cell)>,
    fill: Option<ScoreFill>,
}

fn to_csv(t: &Table) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    w.write_record(t.cols.iter().map(|c| c.heading))?;
    for row in &t.rows {
        w.write_record(row.iter().map(Cell::csv))?;
    }
    w.into_inner()
        .map_err(|e| csv::Error::from(std::io::Error::other(e.to_string())))
}

fn excel_date(d: NaiveDate) -> Result<rust_xlsxwriter::ExcelDateTime, rust_xlsxwriter::XlsxError> {
    rust_xlsxwriter::ExcelDateTime::from_ymd(
        u16::try_from(d.year()).unwrap_or(1900),
        d.month() as u8,
        d.day() as u8,
    )
}

fn excel_time(
    t: DateTime<Utc>,
) -> Result<rust_xlsxwriter::ExcelDateTime, rust_xlsxwriter::XlsxError> {
    excel_date(t.date_naive())?.and_hms(t.hour() as u16, t.minute() as u8, f64::from(t.second()))
}

fn capped(s: &str) -> Cow<'_, str> {
    let s = neutralise(s);
    if s.chars().count() <= XLSX_MAX_TEXT {
        s
    } else {
        Cow::Owned(s.chars().take(XLSX_MAX_TEXT).collect())
    }
}

struct Styles {
    bold: rust_xlsxwriter::Format,
    date: rust_xlsxwriter::Format,
    time: rust_xlsxwriter::Format,
    wrap: rust_xlsxwriter::Format,
}

fn write_cell(
    ws: &mut rust_xlsxwriter::Worksheet,
    row: u32,
    col: u16,
    cell: &Cell,
    st: &Styles,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    // Text goes in as text, never as a formula, and neutralised all the same: a copy pasted
    // or re-saved as CSV must stay harmless.
    match cell {
        Cell::Text(s) => ws.write_string_with_format(row, col, capped(s), &st.wrap)?,
        Cell::Int(n) => ws.write_number(row, col, *n as f64)?,
        Cell::Date(d) => ws.write_datetime_with_format(row, col, excel_date(*d)?, &st.date)?,
        Cell::Time(t) => ws.write_datetime_with_format(row, col, excel_time(*t)?, &st.time)?,
        Cell::Empty => ws,
    };
    Ok(())
}

fn to_xlsx(t: &Table) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{
        Color, ConditionalFormatCell, ConditionalFormatCellRule, DocProperties, Workbook,
    };
    let st = Styles {
        bold: rust_xlsxwriter::Format::new().set_bold(),
        date: rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd"),
        time: rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd hh:mm:ss \"UTC\""),
        wrap: rust_xlsxwriter::Format::new(),
    };
    let mut wb = Workbook::new();
    wb.set_properties(&DocProperties::new().set_title(capped(&t.title)));
    let ws = wb.add_worksheet();
    ws.set_name(t.sheet)?;
    for (c, col) in t.cols.iter().enumerate() {
        let c = c as u16;
        ws.write_string_with_format(0, c, col.heading, &st.bold)?;
        ws.set_column_width(c, col.width)?;
    }
    for (r, row) in t.rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            write_cell(ws, r as u32 + 1, c as u16, cell, &st)?;
        }
    }
    let last_col = t.cols.len().saturating_sub(1) as u16;
    let last_row = t.rows.len() as u32;
    ws.set_freeze_panes(1, 0)?;
    ws.autofilter(0, 0, last_row, last_col)?;
    if let Some(fill) = &t.fill
        && last_row > 0
    {
        let over = rust_xlsxwriter::Format::new().set_background_color(Color::RGB(0xFF_C7_CE));
        let within = rust_xlsxwriter::Format::new().set_background_color(Color::RGB(0xC6_EF_CE));
        let threshold = f64::from(fill.threshold);
        for &c in &fill.columns {
            ws.add_conditional_format(
                1,
                c,
                last_row,
                c,
                &ConditionalFormatCell::new()
                    .set_rule(ConditionalFormatCellRule::GreaterThan(threshold))
                    .set_format(&over),
            )?;
            ws.add_conditional_format(
                1,
                c,
                last_row,
                c,
                &ConditionalFormatCell::new()
                    .set_rule(ConditionalFormatCellRule::Between(1.0, threshold))
                    .set_format(&within),
            )?;
        }
    }
    let about = wb.add_worksheet();
    about.set_name("About")?;
    about.set_column_width(0, 28)?;
    about.set_column_width(1, 70)?;
    about.write_string_with_format(0, 0, capped(&t.title), &st.bold)?;
    for (i, (k, v)) in t.about.iter().enumerate() {
        let r = i as u32 + 2;
        about.write_string_with_format(r, 0, *k, &st.bold)?;
        write_cell(about, r, 1, v, &st)?;
    }
    wb.save_to_buffer()
}

/// A file name of lower-case letters, digits and `-` only (at most 60 characters from `name`).
pub fn safe_name(name: &str) -> String {
    let mut out = String::new();
    for ch in name.chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(ch.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
        if out.len() >= 60 {
            break;
        }
    }
    let out = out.trim_end_matches('-');
    if out.is_empty() {
        "isms".to_owned()
    } else {
        out.to_owned()
    }
}

fn render(t: &Table, format: Format, stem: &str) -> HttpResponse {
    let (body, content_type) = match format {
        Format::Csv => match to_csv(t) {
            Ok(b) => (b, CSV_CONTENT_TYPE),
            Err(e) => return internal(&e),
        },
        Format::Xlsx => match to_xlsx(t) {
            Ok(b) => (b, XLSX_CONTENT_TYPE),
            Err(e) => return internal(&e),
        },
    };
    let disposition = format!("attachment; filename=\"{stem}.{}\"", format.as_str());
    let mut r = HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(body);
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

// ---- what both exports look up ----

/// The tenant's members as `Name <e-mail>`, by user id, read in pages of 500 (one query for
/// most tenants), never per row.
async fn member_names(tx: &TenantTx) -> Result<HashMap<Uuid, String>, StoreError> {
    let mut out = HashMap::new();
    let mut after: Option<UserId> = None;
    loop {
        let page = tx
            .members(&PageRequest::Forward { first: 500, after })
            .await?;
        after = page.items.last().map(|m| m.user_id);
        for m in page.items {
            out.insert(m.user_id.0, format!("{} <{}>", m.display_name, m.email));
        }
        if !page.has_next_page || after.is_none() {
            return Ok(out);
        }
    }
}

fn person(members: &HashMap<Uuid, String>, id: Option<Uuid>) -> Cell {
    match id {
        None => Cell::Empty,
        Some(id) => Cell::Text(
            members
                .get(&id)
                .cloned()
                .unwrap_or_else(|| format!("former member {id}")),
        ),
    }
}

async fn audit_export(
    tx: &mut TenantTx,
    az: &Authorized,
    subject_type: &str,
    subject_id: Uuid,
    change: serde_json::Value,
) -> Result<(), StoreError> {
    tx.append_audit(AuditEntry {
        actor: az.actor.clone(),
        action: "isms.export".to_owned(),
        subject_type: subject_type.to_owned(),
        subject_id: subject_id.to_string(),
        change,
    })
    .await?;
    Ok(())
}

// ---- the SoA ----

const SOA_COLS: &[Col] = &[
    col("Control", 10.0),
    col("Title", 40.0),
    col("Theme", 28.0),
    col("Applicable", 11.0),
    col("Justification", 50.0),
    col("Implementation status", 20.0),
    col("Owner", 32.0),
    col("Linked risks", 12.0),
    col("Risk references", 24.0),
    col("Linked evidence", 14.0),
    col("Inherited from", 38.0),
];

/// `GET /exports/soa-versions/{id}.{csv|xlsx}`: an approved SoA version.
pub async fn soa_version(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    exports: web::Data<Exports>,
) -> HttpResponse {
    let az = match authorize_request(&req, &state, Operation::ReadIsms).await {
        Ok(az) => az,
        Err(r) => return r,
    };
    let Some((id, format)) = split_file(&path) else {
        return not_found("no such export: use /exports/soa-versions/{id}.csv or .xlsx");
    };
    let Some(id) = parse_id(id, Kind::SoaVersion) else {
        return not_found("no SoA version with this id");
    };
    match soa_export(&state, &exports, &az, id, format).await {
        Ok(r) => r,
        Err(e) => internal(&e),
    }
}

async fn soa_export(
    state: &AppState,
    exports: &Exports,
    az: &Authorized,
    id: Uuid,
    format: Format,
) -> Result<HttpResponse, StoreError> {
    // The catalog is read before the transaction (SQLite has one connection).
    let view = exports.catalog.read_view(&state.store, az.scope).await?;
    let mut tx = state.store.tenant_tx(az.scope).await?;
    let Some(version) = tx.soa_version(id).await? else {
        return Ok(not_found("no SoA version with this id"));
    };
    if !version.intact {
        tracing::warn!(version = %id, "SoA version no longer matches its digest");
        return Ok(error_json(
            StatusCode::CONFLICT,
            ErrorCode::Conflict,
            "this SoA version no longer matches the digest taken at its approval: it has been \
             altered and is not exported as approved",
        ));
    }
    let Some(isms) = tx.isms(version.isms_id).await? else {
        return Ok(not_found("no SoA version with this id"));
    };
    let members = member_names(&tx).await?;
    let risk_ids: Vec<Uuid> = version
        .entries
        .iter()
        .flat_map(|e| e.risks.iter().copied())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let risk_refs: HashMap<Uuid, String> = tx
        .risks_by_ids(&risk_ids)
        .await?
        .into_iter()
        .map(|r| (r.id, r.reference))
        .collect();
    let table = soa_table(&isms, &version, &view, &members, &risk_refs);
    audit_export(
        &mut tx,
        az,
        "SoaVersion",
        version.id,
        json!({
            "export": "soa",
            "format": format.as_str(),
            "isms": isms.id,
            "version": version.number,
            "digest": version.digest,
            "rows": table.rows.len(),
        }),
    )
    .await?;
    let response = render(&table, format, &soa_stem(&isms, version.number));
    tx.commit().await?;
    Ok(response)
}

fn soa_stem(isms: &IsmsRecord, number: i32) -> String {
    format!("soa-{}-v{number}", safe_name(&isms.name))
}

fn theme(view: &CatalogView, control: Uuid) -> (Option<String>, Option<String>) {
    let Some((f, c)) = view.control(control) else {
        return (None, None);
    };
    let theme = c.group.as_deref().map(|g| {
        f.framework()
            .groups
            .iter()
            .find(|x| x.reference == g)
            .map_or_else(|| g.to_owned(), |x| format!("{} {}", x.reference, x.title))
    });
    (Some(c.title.clone()), theme)
}

fn soa_table(
    isms: &IsmsRecord,
    version: &grc_store::SoaVersionRecord,
    view: &CatalogView,
    members: &HashMap<Uuid, String>,
    risk_refs: &HashMap<Uuid, String>,
) -> Table {
    let mut entries: Vec<&grc_domain::isms::SoaEntry> = version.entries.iter().collect();
    // Catalog order where the control is still in the catalog, then by reference.
    let sort_of = |id: Uuid| view.control(id).map_or(i32::MAX, |(_, c)| c.sort);
    entries.sort_by(|a, b| {
        sort_of(a.control_id)
            .cmp(&sort_of(b.control_id))
            .then_with(|| natural_ref_cmp(&a.control_ref, &b.control_ref))
    });
    let rows = entries
        .into_iter()
        .map(|e| {
            let (title, theme) = theme(view, e.control_id);
            let mut refs: Vec<String> = e
                .risks
                .iter()
                .map(|r| {
                    risk_refs
                        .get(r)
                        .cloned()
                        .unwrap_or_else(|| format!("deleted risk {r}"))
                })
                .collect();
            refs.sort_by(|a, b| natural_ref_cmp(a, b));
            vec![
                Cell::text(&e.control_ref),
                Cell::opt_text(title.as_deref()),
                Cell::opt_text(theme.as_deref()),
                Cell::yes_no(e.applicable),
                Cell::text(&e.justification),
                Cell::text(e.status.as_str()),
                person(members, e.owner),
                Cell::Int(e.risks.len() as i64),
                Cell::text(refs.join("; ")),
                Cell::Int(e.evidence.len() as i64),
                e.inherited_from
                    .map_or(Cell::Empty, |v| Cell::text(v.to_string())),
            ]
        })
        .collect();
    let approver = version
        .approver_id
        .and_then(|id| members.get(&id).cloned())
        .unwrap_or_else(|| version.approved_by.clone());
    Table {
        sheet: "Statement of Applicability",
        title: format!(
            "Statement of Applicability: {}, version {}",
            isms.name, version.number
        ),
        cols: SOA_COLS,
        rows,
        about: vec![
            ("ISMS", Cell::text(&isms.name)),
            ("Framework", Cell::text(&isms.base_framework)),
            ("Version", Cell::Int(i64::from(version.number))),
            ("Approved by", Cell::text(approver)),
            ("Approved at", Cell::Time(version.approved_at)),
            ("Approval note", Cell::opt_text(version.note.as_deref())),
            ("Entries", Cell::Int(i64::from(version.entry_count))),
            ("Digest (SHA-256)", Cell::text(&version.digest)),
            ("Intact", Cell::yes_no(version.intact)),
            ("Exported at", Cell::Time(Utc::now())),
        ],
        fill: None,
    }
}

// ---- the risk register ----

const RISK_COLS: &[Col] = &[
    col("Reference", 11.0),
    col("Title", 36.0),
    col("Threat", 30.0),
    col("Vulnerability", 30.0),
    col("Owner", 32.0),
    col("Assets", 30.0),
    col("Inherent likelihood", 10.0),
    col("Inherent impact", 10.0),
    col("Inherent score", 10.0),
    col("Residual likelihood", 10.0),
    col("Residual impact", 10.0),
    col("Residual score", 10.0),
    col("Within acceptance", 12.0),
    col("Treatment", 11.0),
    col("Treatment plan", 40.0),
    col("Controls", 24.0),
    col("Accepted by", 32.0),
    col("Accepted at", 20.0),
    col("Review date", 12.0),
];
const INHERENT_SCORE_COL: u16 = 8;
const RESIDUAL_SCORE_COL: u16 = 11;

/// `GET /exports/risk-register/{ismsId}.{csv|xlsx}[?asOf=YYYY-MM-DD]`.
pub async fn risk_register(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    exports: web::Data<Exports>,
) -> HttpResponse {
    let az = match authorize_request(&req, &state, Operation::ReadIsms).await {
        Ok(az) => az,
        Err(r) => return r,
    };
    let Some((id, format)) = split_file(&path) else {
        return not_found("no such export: use /exports/risk-register/{ismsId}.csv or .xlsx");
    };
    let Some(id) = parse_id(id, Kind::Isms) else {
        return not_found("no ISMS with this id");
    };
    let as_of = match as_of(req.query_string()) {
        Ok(d) => d,
        Err(message) => {
            return error_json(StatusCode::BAD_REQUEST, ErrorCode::BadUserInput, &message);
        }
    };
    match register_export(&state, &exports, &az, id, as_of, format).await {
        Ok(r) => r,
        Err(e) => internal(&e),
    }
}

/// The `asOf` parameter, if given: a calendar date `YYYY-MM-DD`.
fn as_of(query: &str) -> Result<Option<NaiveDate>, String> {
    let mut found = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if k != "asOf" {
            continue;
        }
        if found.is_some() {
            return Err("give asOf once".into());
        }
        let d = NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .ok()
            .filter(|_| v.len() == 10)
            .ok_or_else(|| format!("asOf must be a date YYYY-MM-DD, not {v:?}"))?;
        found = Some(d);
    }
    Ok(found)
}

/// A risk with its links, from the register or from a snapshot.
struct RegisterRow {
    risk: RiskRecord,
    assets: Vec<Uuid>,
    controls: Vec<Uuid>,
}

async fn register_export(
    state: &AppState,
    exports: &Exports,
    az: &Authorized,
    isms_id: Uuid,
    as_of: Option<NaiveDate>,
    format: Format,
) -> Result<HttpResponse, StoreError> {
    let view = exports.catalog.read_view(&state.store, az.scope).await?;
    let mut tx = state.store.tenant_tx(az.scope).await?;
    let Some(isms) = tx.isms(isms_id).await? else {
        return Ok(not_found("no ISMS with this id"));
    };
    let mut about: Vec<(&'static str, Cell)> = vec![("ISMS", Cell::text(&isms.name))];
    let (rows, assessment) = match as_of {
        Some(date) => {
            let Some(a) = tx.risk_assessment_as_of(isms_id, date).await? else {
                return Ok(not_found(&format!(
                    "no risk assessment of this ISMS was performed on or before {date}"
                )));
            };
            if !a.intact {
                tracing::warn!(assessment = %a.id, "risk assessment no longer matches its digest");
                return Ok(error_json(
                    StatusCode::CONFLICT,
                    ErrorCode::Conflict,
                    "the risk assessment in effect on that date no longer matches its digest: \
                     it has been altered and is not exported",
                ));
            }
            about.extend([
                ("Register as of", Cell::Date(date)),
                ("Assessment", Cell::Int(i64::from(a.number))),
                ("Assessment title", Cell::text(&a.title)),
                ("Performed on", Cell::Date(a.performed_on)),
                ("Recorded by", Cell::text(&a.recorded_by)),
                ("Recorded at", Cell::Time(a.recorded_at)),
                ("Digest (SHA-256)", Cell::text(&a.digest)),
                ("Intact", Cell::yes_no(a.intact)),
            ]);
            let rows: Vec<RegisterRow> = a
                .risks
                .into_iter()
                .map(|s| RegisterRow {
                    risk: s.risk,
                    assets: s.assets,
                    controls: s.controls,
                })
                .collect();
            (rows, Some((a.id, a.number)))
        }
        None => {
            about.push((
                "Register",
                Cell::text("current (not a recorded assessment)"),
            ));
            let risks = tx.all_risks(isms_id).await?;
            let ids: Vec<Uuid> = risks.iter().map(|r| r.id).collect();
            let mut assets: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
            for (r, a) in tx.risk_assets_of(&ids).await? {
                assets.entry(r).or_default().push(a);
            }
            let mut controls: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
            for (r, c) in tx.risk_controls_of(&ids).await? {
                controls.entry(r).or_default().push(c);
            }
            let rows = risks
                .into_iter()
                .map(|risk| RegisterRow {
                    assets: assets.remove(&risk.id).unwrap_or_default(),
                    controls: controls.remove(&risk.id).unwrap_or_default(),
                    risk,
                })
                .collect();
            (rows, None)
        }
    };
    let asset_ids: Vec<Uuid> = rows
        .iter()
        .flat_map(|r| r.assets.iter().copied())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let asset_names: HashMap<Uuid, String> = tx
        .assets_by_ids(&asset_ids)
        .await?
        .into_iter()
        .map(|a| (a.id, a.name))
        .collect();
    // Controls no longer in the catalog keep the reference the SoA draft froze for them.
    let draft_refs: HashMap<Uuid, String> = tx
        .soa_entries(isms_id)
        .await?
        .into_iter()
        .map(|e| (e.control_id, e.control_ref))
        .collect();
    let members = member_names(&tx).await?;
    let c = &isms.criteria;
    about.extend([
        (
            "Risk criteria",
            Cell::text(format!(
                "likelihood 1-{}, impact 1-{}; a score (likelihood x impact) up to {} is within acceptance",
                c.likelihood_levels, c.impact_levels, c.acceptance_threshold
            )),
        ),
        ("Risks", Cell::Int(rows.len() as i64)),
        ("Exported at", Cell::Time(Utc::now())),
    ]);
    let ctx = RegisterContext {
        criteria: c,
        members: &members,
        asset_names: &asset_names,
        view: &view,
        draft_refs: &draft_refs,
    };
    let mut rows = rows;
    rows.sort_by(|a, b| natural_ref_cmp(&a.risk.reference, &b.risk.reference));
    let table = Table {
        sheet: "Risk register",
        title: match as_of {
            Some(d) => format!("Risk register: {}, as of {d}", isms.name),
            None => format!("Risk register: {}", isms.name),
        },
        cols: RISK_COLS,
        rows: rows.iter().map(|r| ctx.row(r)).collect(),
        about,
        fill: Some(ScoreFill {
            columns: vec![INHERENT_SCORE_COL, RESIDUAL_SCORE_COL],
            threshold: c.acceptance_threshold,
        }),
    };
    audit_export(
        &mut tx,
        az,
        "Isms",
        isms.id,
        json!({
            "export": "risk-register",
            "format": format.as_str(),
            "asOf": as_of,
            "assessment": assessment.map(|(id, _)| id),
            "assessmentNumber": assessment.map(|(_, n)| n),
            "rows": table.rows.len(),
        }),
    )
    .await?;
    let stem = match as_of {
        Some(d) => format!("risk-register-{}-{d}", safe_name(&isms.name)),
        None => format!("risk-register-{}", safe_name(&isms.name)),
    };
    let response = render(&table, format, &stem);
    tx.commit().await?;
    Ok(response)
}

struct RegisterContext<'a> {
    criteria: &'a RiskCriteria,
    members: &'a HashMap<Uuid, String>,
    asset_names: &'a HashMap<Uuid, String>,
    view: &'a CatalogView,
    draft_refs: &'a HashMap<Uuid, String>,
}

impl RegisterContext<'_> {
    fn row(&self, r: &RegisterRow) -> Vec<Cell> {
        let risk = &r.risk;
        let mut assets: Vec<String> = r
            .assets
            .iter()
            .map(|a| {
                self.asset_names
                    .get(a)
                    .cloned()
                    .unwrap_or_else(|| format!("deleted asset {a}"))
            })
            .collect();
        assets.sort();
        let mut controls: Vec<String> = r
            .controls
            .iter()
            .map(|c| match self.view.control(*c) {
                Some((_, ctl)) => ctl.reference.clone(),
                None => self
                    .draft_refs
                    .get(c)
                    .cloned()
                    .unwrap_or_else(|| format!("control {c}")),
            })
            .collect();
        controls.sort_by(|a, b| natural_ref_cmp(a, b));
        let rating_cells = |x: Option<grc_domain::isms::Rating>| match x {
            Some(x) => [
                Cell::Int(i64::from(x.likelihood)),
                Cell::Int(i64::from(x.impact)),
                Cell::Int(i64::from(x.score())),
            ],
            None => [Cell::Empty, Cell::Empty, Cell::Empty],
        };
        // The level that counts is the residual one once assessed, else the inherent one.
        let level = risk.residual.unwrap_or(risk.inherent);
        let mut row = vec![
            Cell::text(&risk.reference),
            Cell::text(&risk.title),
            Cell::text(&risk.threat),
            Cell::text(&risk.vulnerability),
            person(self.members, risk.owner_id),
            Cell::text(assets.join("; ")),
        ];
        row.extend(rating_cells(Some(risk.inherent)));
        row.extend(rating_cells(risk.residual));
        row.extend([
            Cell::yes_no(self.criteria.acceptable(level)),
            risk.treatment
                .map_or(Cell::Empty, |t| Cell::text(t.as_str())),
            Cell::opt_text(risk.treatment_plan.as_deref()),
            Cell::text(controls.join("; ")),
            person(self.members, risk.accepted_by),
            risk.accepted_at.map_or(Cell::Empty, Cell::Time),
            risk.review_date.map_or(Cell::Empty, Cell::Date),
        ]);
        row
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn neutralises_formula_starts_only() {
        for bad in ["=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralise(bad), format!("'{bad}"));
        }
        for ok in ["A.5.1", "1-2", "", " =x", "R-1", "a=b"] {
            assert_eq!(neutralise(ok), ok);
        }
    }

    #[test]
    fn safe_file_names() {
        assert_eq!(safe_name("Acme ISMS 2026"), "acme-isms-2026");
        assert_eq!(safe_name("\"../../etc\";x"), "etc-x");
        assert_eq!(safe_name("Ünïcode only ☃"), "n-code-only");
        assert_eq!(safe_name("???"), "isms");
        assert!(safe_name(&"a".repeat(200)).len() <= 60);
    }

    #[test]
    fn file_and_date_parameters() {
        assert_eq!(split_file("abc.csv"), Some(("abc", Format::Csv)));
        assert_eq!(split_file("abc.XLSX"), Some(("abc", Format::Xlsx)));
        assert_eq!(split_file("abc.pdf"), None);
        assert_eq!(split_file("abc"), None);
        assert_eq!(as_of(""), Ok(None));
        assert_eq!(
            as_of("asOf=2024-02-29"),
            Ok(NaiveDate::from_ymd_opt(2024, 2, 29))
        );
        assert!(as_of("asOf=2023-02-29").is_err());
        assert!(as_of("asOf=2024-2-9").is_err());
        assert!(as_of("asOf=2024-01-01&asOf=2024-01-02").is_err());
        assert_eq!(as_of("other=1"), Ok(None));
    }

    #[test]
    fn csv_quotes_per_rfc_4180() {
        const COLS: &[Col] = &[col("A", 1.0), col("B", 1.0)];
        let t = Table {
            sheet: "S",
            title: "t".into(),
            cols: COLS,
            rows: vec![vec![
                Cell::text("a \"quoted\", text\nnext line"),
                Cell::text("=cmd"),
            ]],
            about: vec![],
            fill: None,
        };
        let out = String::from_utf8(to_csv(&t).unwrap()).unwrap();
        assert_eq!(
            out,
            "A,B\r\n\"a \"\"quoted\"\", text\nnext line\",'=cmd\r\n"
        );
    }
}
