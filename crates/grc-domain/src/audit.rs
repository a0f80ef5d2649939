//! The audit chain: every change writes an event whose hash covers the previous event's hash and
//! the event's canonical form, per tenant. Editing, deleting or reordering events breaks a link
//! that [`verify_chain`] finds.

use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The hash before a tenant's first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who did it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    User(Uuid),
    ApiKey(Uuid),
    /// An operator at the `grc` command line, or the system itself (`demo`, `migrate`).
    System(String),
}

impl Actor {
    /// The stored form: `user:<uuid>`, `api_key:<uuid>`, `system:<name>`.
    pub fn to_stored(&self) -> String {
        match self {
            Self::User(id) => format!("user:{id}"),
            Self::ApiKey(id) => format!("api_key:{id}"),
            Self::System(name) => format!("system:{name}"),
        }
    }
}

/// One event as stored, with everything its hash covers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuditRecord {
    pub tenant_id: Uuid,
    /// 1, 2, 3, ... per tenant, without gaps.
    pub seq: i64,
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub subject_type: String,
    pub subject_id: String,
    /// The change, as canonical JSON (sorted keys, no whitespace).
    pub change: String,
    /// SHA-256 of `change`, hex.
    pub change_digest: String,
    pub prev_hash: String,
    pub hash: String,
}

/// SHA-256 of a change's canonical JSON, hex. `serde_json` maps are sorted by key, so
/// `to_string` of a `Value` is canonical.
pub fn change_digest(change_json: &str) -> String {
    hex::encode(Sha256::digest(change_json.as_bytes()))
}

/// The canonical timestamp: UTC, microseconds (what both SQLite and PostgreSQL keep).
pub fn canonical_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Truncates a time to what storage keeps, so the hash computed before the insert is the hash
/// recomputed after a read.
pub fn truncate_to_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

/// The hash of an event: SHA-256 over the previous hash and each field, every field
/// length-prefixed so that no two different events share a byte string.
pub fn event_hash(r: &AuditRecord) -> String {
    let mut h = Sha256::new();
    let tenant = r.tenant_id.to_string();
    let seq = r.seq.to_string();
    let id = r.id.to_string();
    let at = canonical_time(r.occurred_at);
    for field in [
        "grc-audit-v1",
        r.prev_hash.as_str(),
        tenant.as_str(),
        seq.as_str(),
        id.as_str(),
        at.as_str(),
        r.actor.as_str(),
        r.action.as_str(),
        r.subject_type.as_str(),
        r.subject_id.as_str(),
        r.change_digest.as_str(),
    ] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Where and how a chain broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("event seq {found} follows seq {previous}: an event is missing or out of order")]
    Gap { previous: i64, found: i64 },
    #[error("event seq {seq}: its change does not match its digest (the change was edited)")]
    ChangeEdited { seq: i64 },
    #[error("event seq {seq}: it does not link to the event before it (deleted or reordered)")]
    BrokenLink { seq: i64 },
    #[error("event seq {seq}: its hash does not match its content (the event was edited)")]
    HashMismatch { seq: i64 },
    #[error(
        "the chain ends at seq {last} but the chain head says seq {head}: events were deleted or added"
    )]
    HeadMismatch { last: i64, head: i64 },
}

/// What a verified chain holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChainSummary {
    pub events: u64,
    pub last_hash: Option<String>,
}

/// Verifies one tenant's events in `seq` order against the recorded chain head
/// (`(last_seq, last_hash)`; `None` when the tenant has no events). Reports the first break.
pub fn verify_chain<I>(events: I, head: Option<(i64, &str)>) -> Result<ChainSummary, ChainBreak>
where
    I: IntoIterator<Item = AuditRecord>,
{
    let mut prev_hash = GENESIS_HASH.to_owned();
    let mut prev_seq = 0i64;
    let mut count = 0u64;
    for r in events {
        if r.seq != prev_seq + 1 {
            return Err(ChainBreak::Gap {
                previous: prev_seq,
                found: r.seq,
            });
        }
        if change_digest(&r.change) != r.change_digest {
            return Err(ChainBreak::ChangeEdited { seq: r.seq });
        }
        if r.prev_hash != prev_hash {
            return Err(ChainBreak::BrokenLink { seq: r.seq });
        }
        if event_hash(&r) != r.hash {
            return Err(ChainBreak::HashMismatch { seq: r.seq });
        }
        prev_seq = r.seq;
        prev_hash = r.hash;
        count += 1;
    }
    let head_seq = head.map_or(0, |(s, _)| s);
    if head_seq != prev_seq || head.is_some_and(|(_, h)| h != prev_hash) {
        return Err(ChainBreak::HeadMismatch {
            last: prev_seq,
            head: head_seq,
        });
    }
    Ok(ChainSummary {
        events: count,
        last_hash: (count > 0).then_some(prev_hash),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditRecord> {
        let tenant = Uuid::now_v7();
        let mut prev = GENESIS_HASH.to_owned();
        (1..=n)
            .map(|seq| {
                let change = format!(r#"{{"n":{seq}}}"#);
                let mut r = AuditRecord {
                    tenant_id: tenant,
                    seq,
                    id: Uuid::now_v7(),
                    occurred_at: truncate_to_micros(Utc::now()),
                    actor: "system:test".into(),
                    action: "test.event".into(),
                    subject_type: "Test".into(),
                    subject_id: seq.to_string(),
                    change_digest: change_digest(&change),
                    change,
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                r.hash = event_hash(&r);
                prev = r.hash.clone();
                r
            })
            .collect()
    }

    fn head(c: &[AuditRecord]) -> Option<(i64, &str)> {
        c.last().map(|r| (r.seq, r.hash.as_str()))
    }

    #[test]
    fn intact_chain_verifies() {
        let c = chain(5);
        let s = verify_chain(c.clone(), head(&c)).expect("intact");
        assert_eq!(s.events, 5);
        assert_eq!(verify_chain(vec![], None), Ok(ChainSummary::default()));
    }

    #[test]
    fn edits_are_caught() {
        let c = chain(4);
        let mut edited = c.clone();
        edited[2].action = "test.other".into();
        assert_eq!(
            verify_chain(edited, head(&c)),
            Err(ChainBreak::HashMismatch { seq: 3 })
        );

        let mut change_edited = c.clone();
        change_edited[1].change = r#"{"n":99}"#.into();
        assert_eq!(
            verify_chain(change_edited, head(&c)),
            Err(ChainBreak::ChangeEdited { seq: 2 })
        );

        // Edited content with a recomputed digest and hash still breaks the next link.
        let mut rehashed = c.clone();
        rehashed[1].actor = "user:someone".into();
        rehashed[1].hash = event_hash(&rehashed[1]);
        assert_eq!(
            verify_chain(rehashed, head(&c)),
            Err(ChainBreak::BrokenLink { seq: 3 })
        );
    }

    #[test]
    fn deletions_and_reorders_are_caught() {
        let c = chain(4);
        let mut deleted = c.clone();
        deleted.remove(1);
        assert_eq!(
            verify_chain(deleted, head(&c)),
            Err(ChainBreak::Gap {
                previous: 1,
                found: 3
            })
        );

        let mut tail_deleted = c.clone();
        tail_deleted.pop();
        assert_eq!(
            verify_chain(tail_deleted, head(&c)),
            Err(ChainBreak::HeadMismatch { last: 3, head: 4 })
        );

        // Swap the content of events 2 and 3 but keep the seq numbers in order.
        let mut swapped = c.clone();
        swapped.swap(1, 2);
        swapped[1].seq = 2;
        swapped[2].seq = 3;
        assert!(matches!(
            verify_chain(swapped, head(&c)),
            Err(ChainBreak::BrokenLink { seq: 2 } | ChainBreak::HashMismatch { seq: 2 })
        ));
    }

    #[test]
    fn micros_round_trip() {
        let t = DateTime::parse_from_rfc3339("2024-02-29T23:59:59.123456789Z")
            .expect("time")
            .with_timezone(&Utc);
        assert_eq!(
            canonical_time(truncate_to_micros(t)),
            "2024-02-29T23:59:59.123456Z"
        );
    }
}
