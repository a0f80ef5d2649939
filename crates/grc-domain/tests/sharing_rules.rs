//! The sharing rules, computed by hand from `grc_domain::sharing`: a grant's state at an instant
//! (revocation before expiry, both from their instant on), what a grant opens, the checks on a
//! new grant, the access request's transitions, the artifact kinds, the inheritance of an SoA
//! entry from a vendor, and the SHA-256 digests an NDA acceptance and an access receipt record.
//! Expected digests were computed outside Rust (`printf '%s' TEXT | sha256sum`).

#![allow(clippy::unwrap_used)]

use chrono::{DateTime, TimeDelta, Utc};
use grc_domain::DomainError;
use grc_domain::isms::ImplementationStatus;
use grc_domain::sharing::{
    ArtifactKind as A, ConnectionStatus, DocumentClosed, GrantState, InheritanceState as I,
    Opening, RequestAction, RequestStatus, ShareAccess, ShareChange, check_new_grant,
    check_request_transition, grant_state, inheritance_state, metadata_digest, nda_digest, opening,
};
use serde_json::json;
use uuid::Uuid;

/// The instant every test reads at.
fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-06-01T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn us(n: i64) -> TimeDelta {
    TimeDelta::microseconds(n)
}

fn owner() -> Uuid {
    Uuid::from_u128(1)
}

fn grantee() -> Uuid {
    Uuid::from_u128(2)
}

/// The field an `Invalid` error names, joined with dots.
fn invalid_field(e: &DomainError) -> String {
    match e {
        DomainError::Invalid(f) => f.field.join("."),
        other => panic!("expected an invalid-input error, got {other:?}"),
    }
}

/// The field a `Conflict` error names.
fn conflict_field(e: &DomainError) -> &str {
    match e {
        DomainError::Conflict { field, .. } => field,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// grant_state
// ---------------------------------------------------------------------------------------------

#[test]
fn a_grant_without_revocation_or_expiry_is_live() {
    // Rule: live when neither a revocation nor an expiry has come.
    assert_eq!(grant_state(None, None, now()), GrantState::Live);
}

#[test]
fn a_grant_is_expired_at_its_expiry_instant_and_live_one_microsecond_before() {
    // Rule: expired from the expiry on (`e <= now`): the expiry instant itself is not live.
    let expires = now();
    assert_eq!(grant_state(None, Some(expires), now()), GrantState::Expired);
    assert_eq!(
        grant_state(None, Some(expires), now() - us(1)),
        GrantState::Live
    );
    // And an expiry long past stays expired.
    assert_eq!(
        grant_state(None, Some(now() - TimeDelta::days(30)), now()),
        GrantState::Expired
    );
}

#[test]
fn a_grant_is_revoked_from_its_revocation_instant() {
    // Rule: revoked from the revocation on (`r <= now`), the instant included.
    assert_eq!(grant_state(Some(now()), None, now()), GrantState::Revoked);
    assert_eq!(
        grant_state(Some(now()), None, now() - us(1)),
        GrantState::Live
    );
}

#[test]
fn revocation_wins_over_expiry() {
    // Rule: a grant both revoked and expired at `now` is reported revoked, whichever came first.
    let earlier = now() - TimeDelta::days(2);
    let later = now() - TimeDelta::days(1);
    assert_eq!(
        grant_state(Some(later), Some(earlier), now()),
        GrantState::Revoked
    );
    assert_eq!(
        grant_state(Some(earlier), Some(later), now()),
        GrantState::Revoked
    );
    assert_eq!(
        grant_state(Some(now()), Some(now()), now()),
        GrantState::Revoked
    );
}

#[test]
fn a_revocation_in_the_future_does_not_revoke_yet() {
    // Rule: `revoked_at > now` is not yet a revocation; the grant stays live, or expired if its
    // expiry has come.
    let tomorrow = now() + TimeDelta::days(1);
    assert_eq!(grant_state(Some(tomorrow), None, now()), GrantState::Live);
    assert_eq!(
        grant_state(Some(now() + us(1)), None, now()),
        GrantState::Live
    );
    assert_eq!(
        grant_state(Some(tomorrow), Some(now()), now()),
        GrantState::Expired
    );
    assert_eq!(
        grant_state(Some(tomorrow), Some(now() + us(1)), now()),
        GrantState::Live
    );
}

// ---------------------------------------------------------------------------------------------
// opening
// ---------------------------------------------------------------------------------------------

/// Every combination of the opening's boolean inputs and access, as (access, nda_required,
/// nda_current_accepted, has_document).
fn all_inputs() -> Vec<(ShareAccess, bool, bool, bool)> {
    let mut v = Vec::new();
    for access in [ShareAccess::Metadata, ShareAccess::Document] {
        for nda in [false, true] {
            for accepted in [false, true] {
                for doc in [false, true] {
                    v.push((access, nda, accepted, doc));
                }
            }
        }
    }
    v
}

#[test]
fn a_grant_that_is_not_live_opens_nothing() {
    // Rule: nothing through a grant that is not live, whatever it grants; the reason is
    // "not-live" (checked before metadata-only, NDA and document).
    for state in [GrantState::Expired, GrantState::Revoked] {
        for (access, nda, accepted, doc) in all_inputs() {
            assert_eq!(
                opening(state, access, nda, accepted, doc),
                Opening {
                    metadata: false,
                    document: false,
                    document_closed: Some(DocumentClosed::NotLive),
                },
                "{state:?} {access:?} nda={nda} accepted={accepted} doc={doc}"
            );
        }
    }
}

#[test]
fn a_live_grant_opens_the_metadata_whatever_its_access() {
    // Rule: the data opens through any live grant, metadata or document, NDA or not.
    for (access, nda, accepted, doc) in all_inputs() {
        assert!(
            opening(GrantState::Live, access, nda, accepted, doc).metadata,
            "{access:?} nda={nda} accepted={accepted} doc={doc}"
        );
    }
}

#[test]
fn a_live_metadata_grant_never_opens_the_document() {
    // Rule: a metadata grant keeps the document closed as "metadata-only", even when there is a
    // document and an NDA was accepted (checked before the NDA and the document).
    for nda in [false, true] {
        for accepted in [false, true] {
            for doc in [false, true] {
                assert_eq!(
                    opening(GrantState::Live, ShareAccess::Metadata, nda, accepted, doc),
                    Opening {
                        metadata: true,
                        document: false,
                        document_closed: Some(DocumentClosed::MetadataOnly),
                    }
                );
            }
        }
    }
}

#[test]
fn a_document_grant_whose_nda_is_not_accepted_keeps_the_document_closed() {
    // Rule: a live document grant that requires an NDA not accepted in its current version keeps
    // the document closed as "nda-not-accepted", checked before whether there is a document.
    for doc in [false, true] {
        assert_eq!(
            opening(GrantState::Live, ShareAccess::Document, true, false, doc),
            Opening {
                metadata: true,
                document: false,
                document_closed: Some(DocumentClosed::NdaNotAccepted),
            }
        );
    }
}

#[test]
fn a_document_grant_without_a_document_opens_only_the_metadata() {
    // Rule: a live document grant with no NDA, or an accepted one, still opens no document when
    // the artifact has none ("no-document").
    for (nda, accepted) in [(false, false), (false, true), (true, true)] {
        assert_eq!(
            opening(
                GrantState::Live,
                ShareAccess::Document,
                nda,
                accepted,
                false
            ),
            Opening {
                metadata: true,
                document: false,
                document_closed: Some(DocumentClosed::NoDocument),
            },
            "nda={nda} accepted={accepted}"
        );
    }
}

#[test]
fn a_live_document_grant_opens_everything_when_its_nda_is_accepted_or_absent() {
    // Rule: data and document open through a live document grant with the NDA (if any) accepted
    // in its current version and a document present; no reason is given.
    for (nda, accepted) in [(false, false), (false, true), (true, true)] {
        assert_eq!(
            opening(GrantState::Live, ShareAccess::Document, nda, accepted, true),
            Opening {
                metadata: true,
                document: true,
                document_closed: None,
            },
            "nda={nda} accepted={accepted}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// check_new_grant
// ---------------------------------------------------------------------------------------------

#[test]
fn a_tenant_cannot_grant_to_itself() {
    // Rule: never to oneself; the error names `granteeTenantId` (checked first, so an otherwise
    // bad grant still reports it).
    let e = check_new_grant(
        owner(),
        owner(),
        A::Certificate,
        ShareAccess::Document,
        None,
        false,
        now(),
    )
    .unwrap_err();
    assert_eq!(invalid_field(&e), "granteeTenantId");
    let e = check_new_grant(
        owner(),
        owner(),
        A::SoaSummary,
        ShareAccess::Document,
        Some(now()),
        true,
        now(),
    )
    .unwrap_err();
    assert_eq!(invalid_field(&e), "granteeTenantId");
}

#[test]
fn an_expiry_must_lie_in_the_future() {
    // Rule: an expiry at `now` or before is refused (`e <= now`), naming `expiresAt`; one
    // microsecond after `now` is accepted.
    for expires in [now(), now() - us(1), now() - TimeDelta::days(365)] {
        let e = check_new_grant(
            owner(),
            grantee(),
            A::Attestation,
            ShareAccess::Metadata,
            Some(expires),
            false,
            now(),
        )
        .unwrap_err();
        assert_eq!(invalid_field(&e), "expiresAt", "expiry {expires}");
    }
    assert_eq!(
        check_new_grant(
            owner(),
            grantee(),
            A::Attestation,
            ShareAccess::Metadata,
            Some(now() + us(1)),
            false,
            now(),
        ),
        Ok(())
    );
}

#[test]
fn an_soa_summary_cannot_be_granted_with_document_access() {
    // Rule: document access only for a kind that has documents; an SoA summary has none, so the
    // error names `access`. The same summary with metadata access is fine.
    let e = check_new_grant(
        owner(),
        grantee(),
        A::SoaSummary,
        ShareAccess::Document,
        None,
        false,
        now(),
    )
    .unwrap_err();
    assert_eq!(invalid_field(&e), "access");
    assert_eq!(
        check_new_grant(
            owner(),
            grantee(),
            A::SoaSummary,
            ShareAccess::Metadata,
            None,
            false,
            now(),
        ),
        Ok(())
    );
}

#[test]
fn an_nda_requires_document_access() {
    // Rule: an NDA guards documents; a metadata grant with an NDA is refused, naming `ndaId`.
    for kind in A::ALL.iter().copied() {
        let e = check_new_grant(
            owner(),
            grantee(),
            kind,
            ShareAccess::Metadata,
            None,
            true,
            now(),
        )
        .unwrap_err();
        assert_eq!(invalid_field(&e), "ndaId", "{kind:?}");
    }
}

#[test]
fn valid_grants_pass() {
    // Rule: two distinct tenants, a future or no expiry, document access only for kinds with
    // documents, an NDA only with document access.
    for kind in [
        A::Certificate,
        A::AllIsoCertificates,
        A::Attestation,
        A::Baa,
    ] {
        for nda in [false, true] {
            assert_eq!(
                check_new_grant(
                    owner(),
                    grantee(),
                    kind,
                    ShareAccess::Document,
                    Some(now() + TimeDelta::days(90)),
                    nda,
                    now(),
                ),
                Ok(()),
                "{kind:?} nda={nda}"
            );
        }
    }
    for kind in A::ALL.iter().copied() {
        assert_eq!(
            check_new_grant(
                owner(),
                grantee(),
                kind,
                ShareAccess::Metadata,
                None,
                false,
                now(),
            ),
            Ok(()),
            "{kind:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// check_request_transition
// ---------------------------------------------------------------------------------------------

#[test]
fn a_pending_request_can_be_approved_denied_or_withdrawn() {
    // Rule: only a pending request is decided or withdrawn; the result is the action's status.
    let cases = [
        (RequestAction::Approved, RequestStatus::Approved),
        (RequestAction::Denied, RequestStatus::Denied),
        (RequestAction::Withdrawn, RequestStatus::Withdrawn),
    ];
    for (action, next) in cases {
        assert_eq!(
            check_request_transition(RequestStatus::Pending, action),
            Ok(next)
        );
    }
}

#[test]
fn a_decided_or_withdrawn_request_takes_no_further_action() {
    // Rule: a request is decided or withdrawn once; from approved, denied or withdrawn every
    // action is a conflict on `requestId`.
    for status in [
        RequestStatus::Approved,
        RequestStatus::Denied,
        RequestStatus::Withdrawn,
    ] {
        for action in RequestAction::ALL.iter().copied() {
            let e = check_request_transition(status, action).unwrap_err();
            assert_eq!(conflict_field(&e), "requestId", "{status:?} {action:?}");
        }
    }
}

#[test]
fn approving_an_already_denied_request_is_a_conflict() {
    // Rule (the issue's bad input): a denied request cannot be approved; the message says why.
    let e = check_request_transition(RequestStatus::Denied, RequestAction::Approved).unwrap_err();
    assert_eq!(
        e,
        DomainError::conflict(
            "requestId",
            "the request is already denied; only a pending request can be approved"
        )
    );
}

#[test]
fn requested_is_never_a_transition() {
    // Rule: `Requested` is how a request starts, never an action on an existing one, so it is a
    // conflict in every status, pending included.
    for status in RequestStatus::ALL.iter().copied() {
        let e = check_request_transition(status, RequestAction::Requested).unwrap_err();
        assert_eq!(conflict_field(&e), "requestId", "{status:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// ArtifactKind
// ---------------------------------------------------------------------------------------------

#[test]
fn a_kind_covers_itself_and_all_iso_certificates_covers_a_certificate() {
    // Rule: a grant covers an item of its own kind; "all ISO certificates" also covers a single
    // certificate; nothing else covers anything else (25 pairs, 6 true).
    let mut covered = Vec::new();
    for grant in A::ALL.iter().copied() {
        for item in A::ALL.iter().copied() {
            if grant.covers(item) {
                covered.push((grant, item));
            }
        }
    }
    assert_eq!(
        covered,
        vec![
            (A::Certificate, A::Certificate),
            (A::AllIsoCertificates, A::Certificate),
            (A::AllIsoCertificates, A::AllIsoCertificates),
            (A::Attestation, A::Attestation),
            (A::Baa, A::Baa),
            (A::SoaSummary, A::SoaSummary),
        ]
    );
    // Not the other way round: one certificate does not cover "all ISO certificates".
    assert!(!A::Certificate.covers(A::AllIsoCertificates));
}

#[test]
fn the_item_kind_of_all_iso_certificates_is_a_certificate() {
    // Rule: a grant of "all ISO certificates" opens single certificates; every other kind opens
    // items of its own kind.
    assert_eq!(A::AllIsoCertificates.item_kind(), A::Certificate);
    for kind in [A::Certificate, A::Attestation, A::Baa, A::SoaSummary] {
        assert_eq!(kind.item_kind(), kind);
    }
}

#[test]
fn every_kind_but_all_iso_certificates_names_one_artifact() {
    // Rule: `has_id` is false only for "all ISO certificates".
    let without_id: Vec<A> = A::ALL.iter().copied().filter(|k| !k.has_id()).collect();
    assert_eq!(without_id, vec![A::AllIsoCertificates]);
}

#[test]
fn every_kind_but_the_soa_summary_can_carry_a_document() {
    // Rule: `has_document` is false only for an SoA summary (never evidence, no document).
    let without_document: Vec<A> = A::ALL
        .iter()
        .copied()
        .filter(|k| !k.has_document())
        .collect();
    assert_eq!(without_document, vec![A::SoaSummary]);
}

#[test]
fn only_an_invitation_or_an_active_link_is_an_open_connection() {
    // Rule: invited and active count; declined, cancelled and ended do not.
    let open: Vec<ConnectionStatus> = ConnectionStatus::ALL
        .iter()
        .copied()
        .filter(|s| s.is_open())
        .collect();
    assert_eq!(
        open,
        vec![ConnectionStatus::Invited, ConnectionStatus::Active]
    );
}

#[test]
fn a_share_change_serializes_as_its_topic_suffix() {
    // Rule: the outbox topic is `share.<as_str>`, so the serde name and `as_str` agree.
    let all = [
        (ShareChange::Updated, "updated"),
        (ShareChange::StatusChanged, "status-changed"),
        (ShareChange::Added, "added"),
        (ShareChange::Removed, "removed"),
        (ShareChange::Revoked, "revoked"),
        (ShareChange::Granted, "granted"),
    ];
    for (change, text) in all {
        assert_eq!(change.as_str(), text);
        assert_eq!(serde_json::to_value(change).unwrap(), json!(text));
    }
}

// ---------------------------------------------------------------------------------------------
// inheritance_state
// ---------------------------------------------------------------------------------------------

/// The vendor's approved SoA lists the control as applicable and implemented.
const IMPLEMENTED: Option<Option<(bool, ImplementationStatus)>> =
    Some(Some((true, ImplementationStatus::Implemented)));

#[test]
fn not_connected_comes_first() {
    // Rule: without a connection nothing else matters, not even a fully implemented entry.
    for shared in [false, true] {
        for entry in [None, Some(None), IMPLEMENTED] {
            assert_eq!(inheritance_state(false, shared, entry), I::NotConnected);
        }
    }
}

#[test]
fn not_shared_comes_second() {
    // Rule: connected but without a live SoA summary share, whatever the vendor's SoA says.
    for entry in [None, Some(None), IMPLEMENTED] {
        assert_eq!(inheritance_state(true, false, entry), I::NotShared);
    }
}

#[test]
fn no_approved_soa_comes_third() {
    // Rule: connected and shared, but the vendor has no approved SoA version (`None`).
    assert_eq!(inheritance_state(true, true, None), I::NoApprovedSoa);
}

#[test]
fn an_unlisted_or_excluded_control_is_not_applicable() {
    // Rule: the approved SoA does not list the control (`Some(None)`), or lists it as not
    // applicable, whatever the status reported with it.
    assert_eq!(inheritance_state(true, true, Some(None)), I::NotApplicable);
    for status in ImplementationStatus::ALL.iter().copied() {
        assert_eq!(
            inheritance_state(true, true, Some(Some((false, status)))),
            I::NotApplicable,
            "{status:?}"
        );
    }
}

#[test]
fn an_applicable_control_short_of_implemented_is_not_implemented() {
    // Rule: applicable but not started, planned or partial does not support the entry.
    for status in [
        ImplementationStatus::NotStarted,
        ImplementationStatus::Planned,
        ImplementationStatus::Partial,
    ] {
        assert_eq!(
            inheritance_state(true, true, Some(Some((true, status)))),
            I::NotImplemented,
            "{status:?}"
        );
    }
}

#[test]
fn connected_shared_applicable_and_implemented_is_supported() {
    // Rule: supported only with all four: connected, shared, applicable, implemented.
    assert_eq!(inheritance_state(true, true, IMPLEMENTED), I::Supported);
}

// ---------------------------------------------------------------------------------------------
// Digests
// ---------------------------------------------------------------------------------------------

#[test]
fn the_nda_digest_is_the_sha256_of_the_text() {
    // Rule: the SHA-256 (lowercase hex) of the UTF-8 text. FIPS 180-2's "abc" vector, and the
    // empty string.
    assert_eq!(
        nda_digest("abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(
        nda_digest(""),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    // A changed text is a new version.
    assert_ne!(nda_digest("abc"), nda_digest("abc "));
}

/// SHA-256 of the canonical text `{"a":2,"b":1}` (`printf '%s' '{"a":2,"b":1}' | sha256sum`).
const A2_B1: &str = "d3626ac30a87e6f7a6428233b3c68299976865fa5508e4267c5415c76af7a772";

#[test]
fn the_metadata_digest_does_not_depend_on_key_order() {
    // Rule: the digest is the SHA-256 of canonical JSON with sorted keys and no whitespace, so
    // {"b":1,"a":2} and {"a":2,"b":1} are both `{"a":2,"b":1}`.
    let ba: serde_json::Value = serde_json::from_str(r#"{ "b": 1, "a": 2 }"#).unwrap();
    let ab: serde_json::Value = serde_json::from_str(r#"{"a":2,"b":1}"#).unwrap();
    assert_eq!(metadata_digest(&ba), A2_B1);
    assert_eq!(metadata_digest(&ab), A2_B1);
    assert_eq!(metadata_digest(&json!({"b": 1, "a": 2})), A2_B1);
}

#[test]
fn nested_objects_and_arrays_are_canonical() {
    // Rule: keys are sorted at every depth, arrays keep their order, no whitespace anywhere:
    // the canonical text is `{"a":[1,{"x":true,"y":null}],"z":{"m":"s","n":1.5}}`
    // (`printf '%s' ... | sha256sum`).
    let expected = "4c08b8ea5506bcb5a8b6a557e4285c1f1d24568d7b197982d266ba119368fced";
    let value: serde_json::Value = serde_json::from_str(
        r#"{ "z": { "n": 1.5, "m": "s" },
             "a": [ 1, { "y": null, "x": true } ] }"#,
    )
    .unwrap();
    assert_eq!(metadata_digest(&value), expected);
    // Array order is data: swapping the two elements changes the digest.
    let swapped: serde_json::Value =
        serde_json::from_str(r#"{"a":[{"x":true,"y":null},1],"z":{"m":"s","n":1.5}}"#).unwrap();
    assert_ne!(metadata_digest(&swapped), expected);
}

#[test]
fn a_changed_value_changes_the_metadata_digest() {
    // Rule: a changed artifact carries a new digest: {"a":3,"b":1} is the SHA-256 of
    // `{"a":3,"b":1}`, not of `{"a":2,"b":1}`.
    let changed = metadata_digest(&json!({"b": 1, "a": 3}));
    assert_eq!(
        changed,
        "3a974a3f7ea14274f2b8bf0b2a505aee72d15d56fc4459587dab5154eaa0bdf4"
    );
    assert_ne!(changed, A2_B1);
}
