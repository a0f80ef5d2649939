//! ISMS GraphQL: evidence files. Uploads arrive through the GraphQL multipart request spec
//! (`http.rs` parses them under `GRC_MAX_UPLOAD_BYTES`); the bytes go to the object store
//! before the row is written and are removed again if the row's transaction fails. Downloads are
//! plain HTTP (`GET /evidence/{id}/content`, see [`prepare_download`]): authorized like every
//! read, audited before the bytes go out, and checked against the recorded SHA-256.

use super::common::{
    actor_user, checked_date, checked_text, conflict, free_text, invalid, not_found, require_edit,
    settle, today,
};
use super::connection::{ConnectionFields, PageArgs, build, wants_total};
use super::ids::{Kind, decode_kind, encode};
use super::{Authorized, authorize, store};
use crate::auth::AuthContext;
use crate::catalog::{CatalogView, FrameworkRef};
use crate::errors::{ErrorCode, MutationError, StoreErrorExt, UserError, gql_error};
use crate::events::EventBus;
use async_graphql::connection::Connection;
use async_graphql::{
    Context, Enum, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject, Upload,
};
use chrono::{DateTime, NaiveDate, Utc};
use grc_domain::authz::Operation;
use grc_store::objects::{ObjectError, Objects};
use grc_store::{
    AuditEntry, EvidenceFilter as StoreFilter, EvidenceLink, EvidenceRecord, NewEvidence, Store,
    TenantScope, TenantTx,
};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use uuid::Uuid;

/// At most this many links of each kind in one call.
const MAX_LINKS: usize = 50;

/// What the evidence resolvers and the download handler share: the object store and the
/// upload limit. Put into every GraphQL request by the HTTP layer.
#[derive(Debug, Clone)]
pub struct EvidenceFiles {
    pub objects: Objects,
    pub max_upload_bytes: usize,
    /// Where download audit events are announced to live subscribers.
    pub bus: Option<EventBus>,
}

fn files<'a>(ctx: &Context<'a>) -> Result<&'a EvidenceFiles> {
    ctx.data_opt::<EvidenceFiles>().ok_or_else(|| {
        tracing::error!("evidence files are not available in this request");
        gql_error(ErrorCode::Internal, "internal error")
    })
}

/// Whether evidence that expires on `expires_on` has expired on `today`: it is valid through
/// its expiry date and expired from the day after.
pub(crate) fn is_expired(expires_on: Option<NaiveDate>, today: NaiveDate) -> bool {
    expires_on.is_some_and(|d| d < today)
}

/// What evidence supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "grc_store::EvidenceTargetKind")]
pub enum EvidenceTargetKind {
    /// A catalog control: ISO 27001 Annex A, ISO 27701, NIST SP 800-53, or the tenant's own.
    Control,
    /// A catalog requirement: an ISO 27001 clause (4–10), a HIPAA standard or implementation
    /// specification.
    Requirement,
    /// A risk of the tenant's register.
    Risk,
}

/// One thing an evidence file supports.
#[derive(Debug, Clone, SimpleObject)]
pub struct EvidenceTarget {
    pub kind: EvidenceTargetKind,
    /// A `Control` id for controls and requirements, a `Risk` id for risks.
    pub target_id: ID,
}

impl From<EvidenceLink> for EvidenceTarget {
    fn from(l: EvidenceLink) -> Self {
        let kind = match l.kind {
            grc_store::EvidenceTargetKind::Risk => Kind::Risk,
            _ => Kind::Control,
        };
        Self {
            kind: l.kind.into(),
            target_id: encode(kind, l.target),
        }
    }
}

/// An evidence file: its metadata (every member sees it) and where to download the file
/// (members who may download: not viewers).
#[derive(Debug, Clone)]
pub struct Evidence {
    pub(crate) rec: EvidenceRecord,
    pub(crate) links: Vec<EvidenceLink>,
}

/// The HTTP path of an evidence file's content.
pub fn download_path(id: Uuid) -> String {
    format!("/evidence/{}/content", encode(Kind::Evidence, id).0)
}

#[Object]
impl Evidence {
    pub async fn id(&self) -> ID {
        encode(Kind::Evidence, self.rec.id)
    }
    async fn title(&self) -> &str {
        &self.rec.title
    }
    async fn description(&self) -> &str {
        &self.rec.description
    }
    /// The uploaded file's name (without any directory part).
    async fn filename(&self) -> &str {
        &self.rec.filename
    }
    /// The declared media type, checked against the content at upload.
    async fn media_type(&self) -> &str {
        &self.rec.media_type
    }
    async fn size_bytes(&self) -> i64 {
        self.rec.size_bytes
    }
    /// SHA-256 of the content, lower-case hex (also the download's ETag).
    async fn sha256(&self) -> &str {
        &self.rec.sha256
    }
    /// The date from which the evidence holds (distinct from the upload date).
    async fn effective_date(&self) -> NaiveDate {
        self.rec.effective_date
    }
    /// The last date on which the evidence holds; none: it does not expire.
    async fn expires_on(&self) -> Option<NaiveDate> {
        self.rec.expires_on
    }
    /// Whether the expiry date lies before today (UTC).
    async fn expired(&self) -> bool {
        is_expired(self.rec.expires_on, today())
    }
    /// Who uploaded it: the user (global id), none for an API key.
    async fn uploader_id(&self) -> Option<ID> {
        self.rec.uploader_id.map(|u| encode(Kind::User, u))
    }
    /// The uploading actor as the audit trail names it (`user:<uuid>`, `api_key:<uuid>`).
    async fn uploaded_by(&self) -> &str {
        &self.rec.uploaded_by
    }
    async fn uploaded_at(&self) -> DateTime<Utc> {
        self.rec.uploaded_at
    }
    async fn archived_at(&self) -> Option<DateTime<Utc>> {
        self.rec.archived_at
    }
    /// The controls, requirements and risks this evidence supports.
    async fn links(&self) -> Vec<EvidenceTarget> {
        self.links.iter().copied().map(Into::into).collect()
    }
    /// `GET` this path (with the same credentials as `/graphql`) for the file.
    async fn download_path(&self) -> String {
        download_path(self.rec.id)
    }
}

/// Which evidence to list.
#[derive(Debug, Default, InputObject)]
pub struct EvidenceFilter {
    /// Only evidence linked to this control or requirement (a `Control` id).
    pub control_id: Option<ID>,
    /// Only evidence linked to this risk.
    pub risk_id: Option<ID>,
    /// true: only expired evidence; false: only evidence still valid.
    pub expired: Option<bool>,
    /// Also archived evidence (default false).
    pub include_archived: Option<bool>,
}

/// Loads the links of `recs` in one query and pairs them.
async fn with_links(tx: &TenantTx, recs: Vec<EvidenceRecord>) -> Result<Vec<Evidence>> {
    let ids: Vec<Uuid> = recs.iter().map(|r| r.id).collect();
    let mut links = tx.evidence_links_of(&ids).await.map_err(StoreErrorExt)?;
    Ok(recs
        .into_iter()
        .map(|rec| Evidence {
            links: links.remove(&rec.id).unwrap_or_default(),
            rec,
        })
        .collect())
}

async fn one(tx: &TenantTx, id: Uuid) -> Result<Option<Evidence>> {
    let Some(rec) = tx.evidence(id).await.map_err(StoreErrorExt)? else {
        return Ok(None);
    };
    Ok(with_links(tx, vec![rec]).await?.pop())
}

/// `node(id:)` for an evidence id, in the node lookup's transaction: the current tenant's
/// evidence, else null.
pub(crate) async fn resolve_node(tx: &TenantTx, id: Uuid) -> Result<Option<Evidence>> {
    one(tx, id).await
}

#[derive(Debug, Default)]
pub struct EvidenceQuery;

#[Object]
impl EvidenceQuery {
    /// One evidence file of the current tenant (archived ones too).
    async fn evidence(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Evidence>> {
        let az = authorize(ctx, Operation::ReadIsms)?;
        let Some(id) = decode_kind(&id, Kind::Evidence) else {
            return Ok(None);
        };
        let tx = store(ctx)
            .tenant_tx(az.scope)
            .await
            .map_err(StoreErrorExt)?;
        let e = one(&tx, id).await?;
        tx.commit().await.map_err(StoreErrorExt)?;
        Ok(e)
    }

    /// The current tenant's evidence, newest upload first.
    #[graphql(complexity = "super::query::page_cost(first, last, child_complexity)")]
    async fn evidences(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<EvidenceFilter>,
    ) -> Result<Connection<String, Evidence, ConnectionFields>> {
        let az = authorize(ctx, Operation::ReadIsms)?;
        let page = PageArgs {
            first,
            after,
            last,
            before,
        }
        .into_request(|k| Uuid::try_parse(k).ok())?;
        let f = filter.unwrap_or_default();
        let bad = |field: &str| {
            gql_error(
                ErrorCode::BadUserInput,
                format!("filter.{field} is not an id of the right kind"),
            )
        };
        let filter = StoreFilter {
            control: f
                .control_id
                .as_ref()
                .map(|id| decode_kind(id, Kind::Control).ok_or_else(|| bad("controlId")))
                .transpose()?,
            risk: f
                .risk_id
                .as_ref()
                .map(|id| decode_kind(id, Kind::Risk).ok_or_else(|| bad("riskId")))
                .transpose()?,
            expired: f.expired,
            today: Some(today()),
            include_archived: f.include_archived.unwrap_or(false),
        };
        let tx = store(ctx)
            .tenant_tx(az.scope)
            .await
            .map_err(StoreErrorExt)?;
        let rows = tx
            .evidence_page(&filter, &page)
            .await
            .map_err(StoreErrorExt)?;
        let total = if wants_total(ctx) {
            tx.evidence_count(&filter).await.map_err(StoreErrorExt)?
        } else {
            0
        };
        let items = with_links(&tx, rows.items).await?;
        tx.commit().await.map_err(StoreErrorExt)?;
        let page = grc_store::Page {
            items,
            has_next_page: rows.has_next_page,
            has_previous_page: rows.has_previous_page,
        };
        Ok(build(page, total, |e| e.rec.id.to_string()))
    }
}

#[derive(Debug, InputObject)]
pub struct UploadEvidenceInput {
    /// The file: a multipart request part (GraphQL multipart request spec). Its
    /// `Content-Type` is the declared media type and must match the content.
    pub file: Upload,
    pub title: String,
    pub description: Option<String>,
    /// The date from which the evidence holds.
    pub effective_date: NaiveDate,
    /// The last date on which it holds; not before `effectiveDate`.
    pub expires_on: Option<NaiveDate>,
    /// Controls (`Control` ids of Annex A, ISO 27701, NIST or the tenant's own controls).
    pub control_ids: Option<Vec<ID>>,
    /// Requirements (`Control` ids of ISO 27001 clauses, HIPAA standards and specifications).
    pub requirement_ids: Option<Vec<ID>>,
    pub risk_ids: Option<Vec<ID>>,
}

#[derive(Debug, InputObject)]
pub struct UpdateEvidenceInput {
    pub evidence_id: ID,
    pub title: Option<String>,
    pub description: Option<String>,
    pub effective_date: Option<NaiveDate>,
    /// A date, or null to remove the expiry date; absent leaves it.
    pub expires_on: MaybeUndefined<NaiveDate>,
}

#[derive(Debug, InputObject)]
pub struct EvidenceLinksInput {
    pub evidence_id: ID,
    pub control_ids: Option<Vec<ID>>,
    pub requirement_ids: Option<Vec<ID>>,
    pub risk_ids: Option<Vec<ID>>,
}

#[derive(Debug, InputObject)]
pub struct ArchiveEvidenceInput {
    pub evidence_id: ID,
}

#[derive(Debug, SimpleObject)]
pub struct EvidencePayload {
    pub evidence: Option<Evidence>,
    pub user_errors: Vec<UserError>,
}

/// Which catalog controls count as a 'control' and which as a 'requirement': `None` when the
/// id is not in the tenant's catalog, `Some(None)` when it is but evidence does not attach to
/// that kind of entry (a NIST CSF subcategory, a HIPAA section heading).
fn catalog_kind(view: &CatalogView, id: Uuid) -> Option<Option<grc_store::EvidenceTargetKind>> {
    use grc_store::EvidenceTargetKind as K;
    let (f, c) = view.control(id)?;
    Some(match f {
        FrameworkRef::Custom(_) => Some(K::Control),
        FrameworkRef::Shared(f) => match c.kind.as_str() {
            "clause" => Some(K::Requirement),
            "standard" | "implementation-specification" if f.key.starts_with("hipaa") => {
                Some(K::Requirement)
            }
            "control" => Some(K::Control),
            _ => None,
        },
    })
}

/// Decodes the link arguments; controls and requirements are checked against the catalog view
/// here, risks against the database with [`check_risks`].
fn parse_links(
    view: Option<&CatalogView>,
    controls: Option<&[ID]>,
    requirements: Option<&[ID]>,
    risks: Option<&[ID]>,
    check_catalog: bool,
) -> Result<Vec<EvidenceLink>, MutationError> {
    use grc_store::EvidenceTargetKind as K;
    let mut out = Vec::new();
    for (field, ids, kind) in [
        ("controlIds", controls, K::Control),
        ("requirementIds", requirements, K::Requirement),
        ("riskIds", risks, K::Risk),
    ] {
        let ids = ids.unwrap_or(&[]);
        if ids.len() > MAX_LINKS {
            return Err(invalid(field, format!("at most {MAX_LINKS} ids")));
        }
        let gid_kind = if kind == K::Risk {
            Kind::Risk
        } else {
            Kind::Control
        };
        for id in ids {
            let target = decode_kind(id, gid_kind).ok_or_else(|| not_found("target", field))?;
            if check_catalog && kind != K::Risk {
                let found = view.and_then(|v| catalog_kind(v, target));
                match found {
                    None => return Err(not_found("catalog control", field)),
                    Some(None) => {
                        return Err(invalid(
                            field,
                            format!(
                                "{} is not a control or requirement evidence attaches to",
                                id.0
                            ),
                        ));
                    }
                    Some(Some(k)) if k != kind => {
                        return Err(invalid(
                            field,
                            format!("{} is a {}, not a {}", id.0, k.as_str(), kind.as_str()),
                        ));
                    }
                    Some(Some(_)) => {}
                }
            }
            out.push(EvidenceLink { kind, target });
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

async fn check_risks(tx: &TenantTx, links: &[EvidenceLink]) -> Result<(), MutationError> {
    for l in links {
        if l.kind == grc_store::EvidenceTargetKind::Risk && !tx.risk_exists(l.target).await? {
            return Err(not_found("risk", "riskIds"));
        }
    }
    Ok(())
}

fn links_json(links: &[EvidenceLink]) -> serde_json::Value {
    json!(
        links
            .iter()
            .map(|l| json!({ "kind": l.kind.as_str(), "target": l.target }))
            .collect::<Vec<_>>()
    )
}

/// The catalog view, read before the tenant transaction (SQLite has one connection), only
/// when control or requirement ids must be checked.
async fn view_if(
    ctx: &Context<'_>,
    az: &Authorized,
    needed: bool,
) -> Result<Option<Arc<CatalogView>>, MutationError> {
    if needed {
        Ok(Some(super::catalog::view(ctx, az).await?))
    } else {
        Ok(None)
    }
}

fn wants_catalog(controls: Option<&[ID]>, requirements: Option<&[ID]>) -> bool {
    controls.is_some_and(|c| !c.is_empty()) || requirements.is_some_and(|r| !r.is_empty())
}

/// The evidence named by `id`, which the caller may change.
async fn editable(
    tx: &TenantTx,
    az: &Authorized,
    id: &ID,
) -> Result<EvidenceRecord, MutationError> {
    let id = decode_kind(id, Kind::Evidence).ok_or_else(|| not_found("evidence", "evidenceId"))?;
    let rec = tx
        .evidence(id)
        .await?
        .ok_or_else(|| not_found("evidence", "evidenceId"))?;
    require_edit(az, rec.uploader_id)?;
    if rec.archived_at.is_some() {
        return Err(conflict("evidenceId", "archived evidence does not change"));
    }
    Ok(rec)
}

/// A file name without directories, 1 to 255 characters, no control characters.
pub(crate) fn clean_filename(name: &str) -> Result<String, MutationError> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("").trim();
    if base.is_empty() || base == "." || base == ".." {
        return Err(invalid("file", "the file needs a name"));
    }
    if base.chars().count() > 255 || base.chars().any(char::is_control) {
        return Err(invalid(
            "file",
            "the file name must be at most 255 characters without control characters",
        ));
    }
    Ok(base.to_owned())
}

/// A media type's essence (`type/subtype`, lower case, no parameters), with common aliases
/// mapped to their registered names.
pub(crate) fn media_essence(declared: Option<&str>) -> Result<String, MutationError> {
    let raw = declared.unwrap_or("application/octet-stream");
    let essence = raw
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let ok = essence.len() <= 255
        && essence.split_once('/').is_some_and(|(t, s)| {
            let tok = |x: &str| {
                !x.is_empty()
                    && x.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
            };
            tok(t) && tok(s)
        });
    if !ok {
        return Err(invalid(
            "file",
            "the file's Content-Type is not a media type",
        ));
    }
    Ok(match essence.as_str() {
        "image/jpg" | "image/pjpeg" => "image/jpeg",
        "application/x-pdf" => "application/pdf",
        "application/x-zip-compressed" | "application/x-zip" => "application/zip",
        "application/x-gzip" => "application/gzip",
        "text/x-csv" | "application/csv" => "text/csv",
        other => other,
    }
    .to_owned())
}

fn is_textual(m: &str) -> bool {
    m.starts_with("text/")
        || m.ends_with("+json")
        || m.ends_with("+xml")
        || matches!(
            m,
            "application/json"
                | "application/xml"
                | "application/yaml"
                | "application/x-yaml"
                | "application/toml"
                | "application/sql"
                | "application/javascript"
                | "application/x-ndjson"
        )
}

/// Containers whose signature is a zip archive or an OLE compound file.
fn container_of(declared: &str) -> Option<&'static str> {
    if declared.starts_with("application/vnd.openxmlformats-officedocument.")
        || declared.starts_with("application/vnd.oasis.opendocument.")
        || declared.ends_with("+zip")
        || declared == "application/java-archive"
    {
        Some("application/zip")
    } else if matches!(
        declared,
        "application/msword"
            | "application/vnd.ms-excel"
            | "application/vnd.ms-powerpoint"
            | "application/vnd.ms-outlook"
            | "application/vnd.visio"
    ) {
        Some("application/x-ole-storage")
    } else {
        None
    }
}

/// Whether `content` is what the declared media type (an essence) says. Binary formats are
/// recognised by their signature (`infer`); a declared type whose signature `infer` knows
/// must show it; textual types must be UTF-8 without NUL bytes and carry no binary signature;
/// `application/octet-stream` and binary types without a known signature are taken as given.
pub(crate) fn media_type_matches(declared: &str, content: &[u8]) -> Result<(), String> {
    let detected = infer::get(content).map(|t| t.mime_type());
    if is_textual(declared) {
        if let Some(d) = detected
            && !is_textual(d)
        {
            return Err(format!("declared {declared}, but the content is {d}"));
        }
        let body = content.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(content);
        if std::str::from_utf8(body).is_err() || body.contains(&0) {
            return Err(format!(
                "declared {declared}, but the content is not UTF-8 text"
            ));
        }
        return Ok(());
    }
    if declared == "application/octet-stream" {
        return Ok(());
    }
    match detected {
        Some(d) if d == declared => Ok(()),
        Some(d) if container_of(declared) == Some(d) => Ok(()),
        // infer names OOXML and ODF by their own types; a declared generic zip is fine too.
        Some(d) if declared == "application/zip" && container_of(d) == Some("application/zip") => {
            Ok(())
        }
        Some(d) => Err(format!("declared {declared}, but the content is {d}")),
        None if infer::is_mime_supported(declared) || container_of(declared).is_some() => Err(
            format!("declared {declared}, but the content does not have that format's signature"),
        ),
        None => Ok(()),
    }
}

fn checked_dates(
    effective: NaiveDate,
    expires: Option<NaiveDate>,
) -> Result<(NaiveDate, Option<NaiveDate>), MutationError> {
    let effective = checked_date("effectiveDate", effective)?;
    let expires = expires.map(|d| checked_date("expiresOn", d)).transpose()?;
    if let Some(x) = expires
        && x < effective
    {
        return Err(invalid("expiresOn", "must not be before effectiveDate"));
    }
    Ok((effective, expires))
}

/// Removes an object whose row was not written, unless the row exists after all (a commit
/// whose answer was lost). An object that cannot be removed is logged and left.
async fn discard_object(st: &Store, scope: TenantScope, objects: &Objects, id: Uuid, key: &str) {
    let row = match st.tenant_tx(scope).await {
        Ok(tx) => {
            let r = tx.evidence(id).await;
            let _ = tx.rollback().await;
            r
        }
        Err(e) => Err(e),
    };
    match row {
        Ok(None) => {
            if let Err(e) = objects.delete(key).await {
                tracing::error!(error = %e, key, "an evidence object whose row failed could not be removed");
            }
        }
        Ok(Some(_)) => {}
        Err(e) => {
            tracing::error!(error = %e, key, "cannot tell whether an evidence row was written; its object is kept");
        }
    }
}

/// An uploaded file and its evidence metadata, checked (size limit, media type against the
/// content, file name, title, description, dates) and not stored yet.
#[derive(Debug)]
pub(crate) struct CheckedUpload {
    content: bytes::Bytes,
    filename: String,
    media_type: String,
    title: String,
    description: String,
    effective_date: NaiveDate,
    expires_on: Option<NaiveDate>,
}

/// Checks an uploaded file and the metadata of the evidence it becomes, in this order: the
/// file (present, within `GRC_MAX_UPLOAD_BYTES`, not empty, a clean name, a media type its
/// content matches), the title, the description and the dates. Nothing is stored.
pub(crate) fn check_upload(
    ctx: &Context<'_>,
    file: &Upload,
    title: &str,
    description: Option<&str>,
    effective_date: NaiveDate,
    expires_on: Option<NaiveDate>,
) -> Result<CheckedUpload, MutationError> {
    let files = files(ctx)?;
    let upload = file
        .value(ctx)
        .map_err(|_| invalid("file", "the file part is missing"))?;
    let content = upload.content;
    let max = files.max_upload_bytes;
    if content.len() > max {
        return Err(invalid(
            "file",
            format!("the file is larger than the limit of {max} bytes"),
        ));
    }
    if content.is_empty() {
        return Err(invalid("file", "the file is empty"));
    }
    let filename = clean_filename(&upload.filename)?;
    let media_type = media_essence(upload.content_type.as_deref())?;
    media_type_matches(&media_type, &content).map_err(|m| invalid("file", m))?;
    let title = checked_text("title", title, 300)?;
    let description = free_text("description", description, 5000)?;
    let (effective_date, expires_on) = checked_dates(effective_date, expires_on)?;
    Ok(CheckedUpload {
        content,
        filename,
        media_type,
        title,
        description,
        effective_date,
        expires_on,
    })
}

/// What [`store_upload`] runs in the evidence row's transaction, after the row and its
/// `evidence.upload` audit event are written and before the commit.
pub(crate) type AfterUpload<'t, T> = futures_util::future::BoxFuture<'t, Result<T, MutationError>>;

/// Stores a checked upload as evidence: the object first (under the tenant's evidence key,
/// its SHA-256 and size recorded), then in one transaction the row with its `links` (risks
/// checked again there), its `evidence.upload` audit event and whatever `then` writes with it;
/// if that transaction fails the object is removed again. The caller checks what it can
/// before calling (so that a refused request stores no object).
pub(crate) async fn store_upload<T, F>(
    ctx: &Context<'_>,
    az: &Authorized,
    upload: CheckedUpload,
    links: &[EvidenceLink],
    then: F,
) -> Result<(Evidence, T), MutationError>
where
    F: for<'t> FnOnce(&'t mut TenantTx, &'t EvidenceRecord) -> AfterUpload<'t, T> + Send,
    T: Send,
{
    let files = files(ctx)?;
    let CheckedUpload {
        content,
        filename,
        media_type,
        title,
        description,
        effective_date,
        expires_on,
    } = upload;
    let id = Uuid::now_v7();
    let key = Objects::evidence_key(az.scope, id);
    let sha256 = hex::encode(Sha256::digest(&content));
    let size_bytes =
        i64::try_from(content.len()).map_err(|_| invalid("file", "the file is too large"))?;
    files
        .objects
        .put(&key, content)
        .await
        .map_err(|e| MutationError::Top(crate::errors::internal(&e)))?;
    let new = NewEvidence {
        id,
        title,
        description,
        filename,
        media_type,
        size_bytes,
        sha256,
        object_key: key.clone(),
        effective_date,
        expires_on,
        uploaded_by: az.actor.to_stored(),
        uploader_id: actor_user(az),
        uploaded_at: Utc::now(),
    };
    let written = async {
        let mut tx = store(ctx).tenant_tx(az.scope).await?;
        check_risks(&tx, links).await?;
        let rec = tx.insert_evidence(&new, links).await?;
        super::mutation::record(
            &mut tx,
            az,
            "evidence.upload",
            "Evidence",
            id.to_string(),
            json!({
                "title": rec.title,
                "filename": rec.filename,
                "mediaType": rec.media_type,
                "sizeBytes": rec.size_bytes,
                "sha256": rec.sha256,
                "effectiveDate": rec.effective_date,
                "expiresOn": rec.expires_on,
                "links": links_json(links),
            }),
        )
        .await?;
        let extra = then(&mut tx, &rec).await?;
        super::mutation::commit(ctx, tx).await?;
        Ok::<_, MutationError>((
            Evidence {
                rec,
                links: links.to_vec(),
            },
            extra,
        ))
    }
    .await;
    if written.is_err() {
        discard_object(store(ctx), az.scope, &files.objects, id, &key).await;
    }
    written
}

#[derive(Debug, Default)]
pub struct EvidenceMutation;

#[Object]
impl EvidenceMutation {
    /// Uploads an evidence file (a multipart request) with its metadata and links.
    async fn upload_evidence(
        &self,
        ctx: &Context<'_>,
        input: UploadEvidenceInput,
    ) -> Result<EvidencePayload> {
        let az = authorize(ctx, Operation::ManageIsms)?;
        files(ctx)?;
        let (evidence, user_errors) = settle(
            async {
                let checked = check_upload(
                    ctx,
                    &input.file,
                    &input.title,
                    input.description.as_deref(),
                    input.effective_date,
                    input.expires_on,
                )?;
                let (c, r, k) = (
                    input.control_ids.as_deref(),
                    input.requirement_ids.as_deref(),
                    input.risk_ids.as_deref(),
                );
                let view = view_if(ctx, &az, wants_catalog(c, r)).await?;
                let links = parse_links(view.as_deref(), c, r, k, true)?;
                // Risks are checked before the object is written, and again in the writing
                // transaction.
                {
                    let tx = store(ctx).tenant_tx(az.scope).await?;
                    check_risks(&tx, &links).await?;
                    tx.rollback().await?;
                }
                let (evidence, ()) =
                    store_upload(ctx, &az, checked, &links, |_, _| Box::pin(async { Ok(()) }))
                        .await?;
                Ok(evidence)
            }
            .await,
        )?;
        Ok(EvidencePayload {
            evidence,
            user_errors,
        })
    }

    /// Changes an evidence file's title, description or dates (not the file: upload anew).
    async fn update_evidence(
        &self,
        ctx: &Context<'_>,
        input: UpdateEvidenceInput,
    ) -> Result<EvidencePayload> {
        let az = authorize(ctx, Operation::ManageIsms)?;
        let (evidence, user_errors) = settle(
            async {
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let rec = editable(&tx, &az, &input.evidence_id).await?;
                let title = match &input.title {
                    Some(t) => checked_text("title", t, 300)?,
                    None => rec.title.clone(),
                };
                let description = match &input.description {
                    Some(d) => free_text("description", Some(d), 5000)?,
                    None => rec.description.clone(),
                };
                let expires = match &input.expires_on {
                    MaybeUndefined::Undefined => rec.expires_on,
                    MaybeUndefined::Null => None,
                    MaybeUndefined::Value(d) => Some(*d),
                };
                let (effective, expires) =
                    checked_dates(input.effective_date.unwrap_or(rec.effective_date), expires)?;
                tx.update_evidence(rec.id, &title, &description, effective, expires)
                    .await?;
                super::mutation::record(
                    &mut tx,
                    &az,
                    "evidence.update",
                    "Evidence",
                    rec.id.to_string(),
                    json!({
                        "title": title,
                        "description": description,
                        "effectiveDate": effective,
                        "expiresOn": expires,
                        "old": {
                            "title": rec.title,
                            "description": rec.description,
                            "effectiveDate": rec.effective_date,
                            "expiresOn": rec.expires_on,
                        },
                    }),
                )
                .await?;
                let e = one(&tx, rec.id)
                    .await?
                    .ok_or_else(|| not_found("evidence", "evidenceId"))?;
                super::mutation::commit(ctx, tx).await?;
                Ok(e)
            }
            .await,
        )?;
        Ok(EvidencePayload {
            evidence,
            user_errors,
        })
    }

    /// Links evidence to controls, requirements and risks (links already there are kept).
    async fn link_evidence(
        &self,
        ctx: &Context<'_>,
        input: EvidenceLinksInput,
    ) -> Result<EvidencePayload> {
        self.relink(ctx, input, true).await
    }

    /// Removes links of an evidence file.
    async fn unlink_evidence(
        &self,
        ctx: &Context<'_>,
        input: EvidenceLinksInput,
    ) -> Result<EvidencePayload> {
        self.relink(ctx, input, false).await
    }

    /// Archives an evidence file: it leaves the default lists, and its file stays for what
    /// cites it (evidence is never deleted).
    async fn archive_evidence(
        &self,
        ctx: &Context<'_>,
        input: ArchiveEvidenceInput,
    ) -> Result<EvidencePayload> {
        let az = authorize(ctx, Operation::ManageIsms)?;
        let (evidence, user_errors) = settle(
            async {
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let rec = editable(&tx, &az, &input.evidence_id).await?;
                tx.archive_evidence(rec.id, Utc::now()).await?;
                super::mutation::record(
                    &mut tx,
                    &az,
                    "evidence.archive",
                    "Evidence",
                    rec.id.to_string(),
                    json!({ "title": rec.title }),
                )
                .await?;
                let e = one(&tx, rec.id)
                    .await?
                    .ok_or_else(|| not_found("evidence", "evidenceId"))?;
                super::mutation::commit(ctx, tx).await?;
                Ok(e)
            }
            .await,
        )?;
        Ok(EvidencePayload {
            evidence,
            user_errors,
        })
    }
}

impl EvidenceMutation {
    async fn relink(
        &self,
        ctx: &Context<'_>,
        input: EvidenceLinksInput,
        add: bool,
    ) -> Result<EvidencePayload> {
        let az = authorize(ctx, Operation::ManageIsms)?;
        let (evidence, user_errors) = settle(
            async {
                let (c, r, k) = (
                    input.control_ids.as_deref(),
                    input.requirement_ids.as_deref(),
                    input.risk_ids.as_deref(),
                );
                let view = view_if(ctx, &az, add && wants_catalog(c, r)).await?;
                let mut tx = store(ctx).tenant_tx(az.scope).await?;
                let rec = editable(&tx, &az, &input.evidence_id).await?;
                let links = parse_links(view.as_deref(), c, r, k, add)?;
                if links.is_empty() {
                    return Err(invalid("controlIds", "name at least one target"));
                }
                let changed = if add {
                    check_risks(&tx, &links).await?;
                    u64::try_from(tx.link_evidence(rec.id, &links).await?).unwrap_or(u64::MAX)
                } else {
                    tx.unlink_evidence(rec.id, &links).await?
                };
                if changed > 0 {
                    super::mutation::record(
                        &mut tx,
                        &az,
                        if add {
                            "evidence.link"
                        } else {
                            "evidence.unlink"
                        },
                        "Evidence",
                        rec.id.to_string(),
                        json!({ "links": links_json(&links) }),
                    )
                    .await?;
                }
                let e = one(&tx, rec.id)
                    .await?
                    .ok_or_else(|| not_found("evidence", "evidenceId"))?;
                super::mutation::commit(ctx, tx).await?;
                Ok(e)
            }
            .await,
        )?;
        Ok(EvidencePayload {
            evidence,
            user_errors,
        })
    }
}

/// Why a download is refused: the HTTP status, the error code and a message.
#[derive(Debug)]
pub struct DownloadRefusal {
    pub status: u16,
    pub code: ErrorCode,
    pub message: &'static str,
}

pub(crate) const fn refuse(status: u16, code: ErrorCode, message: &'static str) -> DownloadRefusal {
    DownloadRefusal {
        status,
        code,
        message,
    }
}

/// A file ready to send: its audit event is committed and its content verified.
#[derive(Debug)]
pub struct Download {
    pub filename: String,
    pub media_type: String,
    pub sha256: String,
    pub content: bytes::Bytes,
}

/// `GET /evidence/{id}/content` after authentication: authorizes `DownloadEvidence`, finds the
/// current tenant's evidence (another tenant's is 404), reads the object whole and checks its
/// SHA-256 and size against the row before anything is sent (a mismatch is logged and
/// answered 500: altered evidence is not served as genuine), then commits the
/// `evidence.download` audit event, and only then hands the bytes over.
pub async fn prepare_download(
    st: &Store,
    files: &EvidenceFiles,
    auth: &AuthContext,
    id: &str,
) -> Result<Download, DownloadRefusal> {
    match &auth.tenant {
        None => {
            return Err(refuse(
                400,
                ErrorCode::BadUserInput,
                "send the X-Tenant header with the tenant's slug",
            ));
        }
        Some((_, role)) if !grc_domain::authz::permits(*role, Operation::DownloadEvidence) => {
            return Err(refuse(
                403,
                ErrorCode::Forbidden,
                "this role may not download evidence",
            ));
        }
        Some(_) => {}
    }
    let az = super::authorize_caller(auth, Operation::DownloadEvidence).map_err(|_| {
        refuse(
            403,
            ErrorCode::Forbidden,
            "this role may not download evidence",
        )
    })?;
    let not_found = || refuse(404, ErrorCode::NotFound, "no such evidence");
    let internal = || refuse(500, ErrorCode::Internal, "internal error");
    let id = decode_kind(id, Kind::Evidence).ok_or_else(not_found)?;
    let rec = {
        let tx = st.tenant_tx(az.scope).await.map_err(|e| {
            tracing::error!(error = %e, "evidence download: no transaction");
            internal()
        })?;
        let rec = tx.evidence(id).await.map_err(|e| {
            tracing::error!(error = %e, "evidence download: reading the row");
            internal()
        })?;
        let _ = tx.rollback().await;
        rec.ok_or_else(not_found)?
    };
    if rec.object_key != Objects::evidence_key(az.scope, rec.id) {
        tracing::error!(evidence = %rec.id, key = %rec.object_key, "evidence row names an object outside its tenant's keys");
        return Err(internal());
    }
    let content = files.objects.get(&rec.object_key).await.map_err(|e| {
        match e {
            ObjectError::NotFound => tracing::error!(evidence = %rec.id, key = %rec.object_key, "evidence object is missing"),
            other => tracing::error!(evidence = %rec.id, error = %other, "evidence object unreadable"),
        }
        internal()
    })?;
    let actual = hex::encode(Sha256::digest(&content));
    if actual != rec.sha256 || i64::try_from(content.len()).ok() != Some(rec.size_bytes) {
        tracing::error!(
            tenant = %az.scope.tenant_id(),
            evidence = %rec.id,
            recorded = %rec.sha256,
            actual = %actual,
            recorded_size = rec.size_bytes,
            actual_size = content.len(),
            "evidence object does not match its recorded SHA-256 and size; not served"
        );
        return Err(internal());
    }
    let mut tx = st.tenant_tx(az.scope).await.map_err(|e| {
        tracing::error!(error = %e, "evidence download: no transaction");
        internal()
    })?;
    tx.append_audit(AuditEntry {
        actor: az.actor.clone(),
        action: "evidence.download".into(),
        subject_type: "Evidence".into(),
        subject_id: rec.id.to_string(),
        change: json!({ "filename": rec.filename, "sha256": rec.sha256, "sizeBytes": rec.size_bytes }),
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "evidence download: audit event");
        internal()
    })?;
    let events = tx.commit().await.map_err(|e| {
        tracing::error!(error = %e, "evidence download: commit");
        internal()
    })?;
    if let Some(bus) = &files.bus {
        for e in events {
            bus.publish(e).await;
        }
    }
    Ok(Download {
        filename: rec.filename,
        media_type: rec.media_type,
        sha256: rec.sha256,
        content,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn expiry_is_inclusive() {
        // Valid through its expiry date, expired the day after (a leap day, a year end).
        assert!(!is_expired(Some(d(2024, 2, 29)), d(2024, 2, 29)));
        assert!(is_expired(Some(d(2024, 2, 29)), d(2024, 3, 1)));
        assert!(!is_expired(Some(d(2025, 12, 31)), d(2025, 12, 31)));
        assert!(is_expired(Some(d(2025, 12, 31)), d(2026, 1, 1)));
        assert!(!is_expired(None, d(2099, 1, 1)));
    }

    #[test]
    fn media_types_are_checked_against_content() {
        let pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n";
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0";
        assert!(media_type_matches("application/pdf", pdf).is_ok());
        assert!(media_type_matches("image/png", png).is_ok());
        assert!(media_type_matches("image/png", pdf).is_err());
        assert!(media_type_matches("text/plain", pdf).is_err());
        assert!(media_type_matches("text/plain", b"\x00\x01\x02\xff\xfe").is_err());
        assert!(media_type_matches("text/plain", "caf\u{e9} ok\n".as_bytes()).is_ok());
        assert!(media_type_matches("text/csv", b"a,b\n1,2\n").is_ok());
        assert!(media_type_matches("application/json", b"{\"a\":1}").is_ok());
        // A PDF signature is known: a declared PDF without it is refused.
        assert!(media_type_matches("application/pdf", b"just words").is_err());
        // Opaque binary is taken as given.
        assert!(media_type_matches("application/octet-stream", pdf).is_ok());
        assert!(media_type_matches("application/vnd.example", b"\x00\x01").is_ok());
    }

    #[test]
    fn media_essence_and_filenames() {
        assert_eq!(
            media_essence(Some("Text/Plain; charset=UTF-8")).ok(),
            Some("text/plain".into())
        );
        assert_eq!(
            media_essence(Some("image/jpg")).ok(),
            Some("image/jpeg".into())
        );
        assert_eq!(
            media_essence(None).ok(),
            Some("application/octet-stream".into())
        );
        assert!(media_essence(Some("nonsense")).is_err());
        assert!(media_essence(Some("a/b c")).is_err());
        assert_eq!(
            clean_filename("C:\\x\\..\\report.pdf").ok(),
            Some("report.pdf".into())
        );
        assert_eq!(
            clean_filename("../../etc/passwd").ok(),
            Some("passwd".into())
        );
        assert!(clean_filename("dir/").is_err());
        assert!(clean_filename("a\u{7}b").is_err());
    }
}
