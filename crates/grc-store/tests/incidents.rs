//! The incident and breach-notification store (issue 8) on both backends: round trips of every
//! method, every bad input refused with the domain rule's code and nothing stored, tenant
//! isolation for every method (on PostgreSQL also below the repositories: row-level security as
//! the application role), append-only tables, and business-associate notices that appear only
//! in the covered entity they name. PostgreSQL must be running (`GRC_TEST_PG_URL`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`): the test fails, never skips, without it.

#![allow(clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

use chrono::{DateTime, NaiveDate, Utc};
use grc_domain::audit::Actor;
use grc_domain::incidents::{
    BaRelation, BreachAssessment, BreachDecision, ClockKind, DecisionKind, FactorAssessment,
    FactorLevel, IncidentStatus, Jurisdiction, LawEnforcementDelay, Notification,
    NotificationMethod, PhiSecurity, Recipient, RiskFactor, Severity, StatementForm,
    TransitionKind,
};
use grc_store::entity::sharing::connection;
use grc_store::entity::vendors::vendor;
use grc_store::testing::{PgTestDb, audited_commit, sqlite_store, tenant};
use grc_store::{
    AuditEntry, IncidentFields, IncidentFilter, NewBaNotice, NewDelay, NewEvidence,
    NewNotification, PageRequest, Store, StoreError, TenantScope, TimelineKind, assessment_of,
};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use uuid::Uuid;

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn first(n: u64) -> PageRequest<Uuid> {
    PageRequest::Forward {
        first: n,
        after: None,
    }
}

/// "Today" in the tenant's time zone, for every rule bounded by it.
const TODAY: &str = "2026-06-30";

fn today() -> NaiveDate {
    day(TODAY)
}

fn fields(title: &str, discovered_on: &str, ephi: bool) -> IncidentFields {
    IncidentFields {
        title: title.into(),
        description: "Laptop stolen from a car".into(),
        severity: Severity::High,
        discovered_at: Some(at(&format!("{discovered_on}T08:30:00.123456789Z"))),
        discovered_on: day(discovered_on),
        occurred_from: Some(day(discovered_on) - chrono::Days::new(2)),
        occurred_until: None,
        reporter: "nurse@example.org".into(),
        reporter_id: None,
        owner_id: None,
        affected_systems: vec!["EHR laptop".into()],
        affected_asset_ids: vec![Uuid::now_v7()],
        ephi_involved: ephi,
        lessons_learned: String::new(),
    }
}

fn factor(f: RiskFactor) -> FactorAssessment {
    FactorAssessment {
        factor: f,
        level: FactorLevel::Low,
        rationale: format!("{f} weighed"),
    }
}

fn low_probability(decided_on: &str) -> BreachAssessment {
    BreachAssessment {
        phi_security: PhiSecurity::Unsecured,
        factors: RiskFactor::ALL.iter().copied().map(factor).collect(),
        decision: BreachDecision::LowProbability {
            rationale: "the disk was encrypted and the key was not on the laptop".into(),
        },
        decided_on: day(decided_on),
    }
}

fn breach(decided_on: &str) -> BreachAssessment {
    BreachAssessment {
        phi_security: PhiSecurity::Unsecured,
        factors: vec![factor(RiskFactor::NatureAndExtent)],
        decision: BreachDecision::Breach,
        decided_on: day(decided_on),
    }
}

fn notice(recipient: Recipient, sent_on: &str, method: NotificationMethod) -> NewNotification {
    NewNotification {
        notification: Notification {
            recipient,
            jurisdiction: None,
            sent_on: day(sent_on),
            method,
        },
        recipient_detail: String::new(),
        individuals: None,
    }
}

fn rule(e: StoreError) -> &'static str {
    match e {
        StoreError::Rule { code, .. } => code,
        other => panic!("expected a rule error, got {other:?}"),
    }
}

/// Fields for an incident recorded from a business associate's notice (no occurrence dates:
/// the discovery date is the rule's, not the caller's).
fn from_notice(title: &str) -> IncidentFields {
    let mut f = fields(title, "2026-06-20", false);
    f.occurred_from = None;
    f
}

fn peer_audit(what: &str) -> AuditEntry {
    AuditEntry {
        actor: Actor::System("test".into()),
        action: format!("incident.{what}"),
        subject_type: "BaBreachNotice".into(),
        subject_id: what.into(),
        change: serde_json::json!({}),
    }
}

async fn evidence(store: &Store, t: TenantScope) -> Uuid {
    let id = Uuid::now_v7();
    let mut tx = store.tenant_tx(t).await.unwrap();
    tx.insert_evidence(
        &NewEvidence {
            id,
            title: "Police report".into(),
            description: String::new(),
            filename: "report.pdf".into(),
            media_type: "application/pdf".into(),
            size_bytes: 1,
            sha256: "0".repeat(64),
            object_key: format!("k/{id}"),
            effective_date: day("2026-05-01"),
            expires_on: None,
            uploaded_by: "user:test".into(),
            uploader_id: None,
            uploaded_at: grc_domain::audit::truncate_to_micros(Utc::now()),
        },
        &[],
    )
    .await
    .unwrap();
    audited_commit(tx, "evidence").await;
    id
}

/// What one tenant's incident left behind: its ids, for the isolation checks.
#[derive(Debug, Clone, Copy)]
struct Recorded {
    incident: Uuid,
    evidence: Uuid,
    delay: Uuid,
}

/// Every method's round trip on one incident, through its whole life: created, updated,
/// listed, timeline, evidence, assessments (with history), counts, delays, notices, clocks,
/// closed and reopened.
async fn round_trip(store: &Store, a: TenantScope, owner: Uuid) -> Recorded {
    let ev = evidence(store, a).await;
    let mut tx = store.tenant_tx(a).await.unwrap();
    let mut f = fields("Stolen laptop", "2026-05-01", true);
    f.owner_id = Some(owner);
    f.reporter_id = Some(owner);
    let inc = tx.create_incident(&f, "user:test", today()).await.unwrap();
    assert_eq!(inc.tenant_id, a.tenant_id().0);
    assert_eq!(inc.status, "triage");
    assert_eq!(inc.severity, "high");
    assert_eq!(inc.discovered_on, day("2026-05-01"));
    assert_eq!(inc.occurred_from, Some(day("2026-04-29")));
    // Instants are stored to the microsecond, as the codebase does.
    assert_eq!(inc.discovered_at, Some(at("2026-05-01T08:30:00.123456Z")));
    assert!(inc.ephi_involved);
    assert_eq!(inc.closed_at, None);
    let got = tx.incident(inc.id).await.unwrap().unwrap();
    assert_eq!(got, inc);
    let systems: Vec<String> = serde_json::from_str(&got.affected_systems).unwrap();
    assert_eq!(systems, vec!["EHR laptop".to_owned()]);

    // Update: the fields change, the status does not.
    let mut f2 = f.clone();
    f2.title = "Stolen laptop (clinic B)".into();
    f2.severity = Severity::Critical;
    f2.occurred_until = Some(day("2026-04-30"));
    f2.lessons_learned = "Lock the car".into();
    let up = tx.update_incident(inc.id, &f2, today()).await.unwrap();
    assert_eq!(up.title, "Stolen laptop (clinic B)");
    assert_eq!(up.severity, "critical");
    assert_eq!(up.lessons_learned, "Lock the car");
    assert_eq!(up.status, "triage");
    assert_eq!(up.created_at, inc.created_at);
    assert_eq!(tx.incident(inc.id).await.unwrap().unwrap(), up);

    // A second incident, without ePHI, for the list's filters.
    let other = tx
        .create_incident(
            &fields("Phishing mail", "2026-06-01", false),
            "user:test",
            today(),
        )
        .await
        .unwrap();
    let (page, total) = tx
        .incidents_page(&IncidentFilter::default(), &first(10), true)
        .await
        .unwrap();
    assert_eq!(total, 2);
    assert_eq!(
        page.items.iter().map(|i| i.id).collect::<Vec<_>>(),
        vec![inc.id, other.id]
    );
    let (page, total) = tx
        .incidents_page(
            &IncidentFilter {
                ephi_involved: Some(false),
                ..Default::default()
            },
            &first(10),
            true,
        )
        .await
        .unwrap();
    assert_eq!((total, page.items[0].id), (1, other.id));
    let (page, _) = tx
        .incidents_page(&IncidentFilter::default(), &first(1), false)
        .await
        .unwrap();
    assert!(page.has_next_page);
    let (page, total) = tx
        .incidents_page(
            &IncidentFilter {
                severity: Some(Severity::Critical),
                status: Some(IncidentStatus::Triage),
                ..Default::default()
            },
            &first(10),
            true,
        )
        .await
        .unwrap();
    assert_eq!((total, page.items.len()), (1, 1));
    // The incident without anything recorded on it can be deleted (recorded in error).
    assert!(tx.delete_incident(other.id).await.unwrap());
    assert!(!tx.delete_incident(other.id).await.unwrap());

    // Timeline: entries by the time they happened.
    tx.append_incident_timeline(
        inc.id,
        TimelineKind::Action,
        at("2026-05-01T10:00:00Z"),
        "Remote wipe requested",
        "user:test",
    )
    .await
    .unwrap();
    tx.append_incident_timeline(
        inc.id,
        TimelineKind::Note,
        at("2026-05-01T09:00:00Z"),
        "Reported by phone",
        "user:test",
    )
    .await
    .unwrap();
    let tl = tx.incident_timeline(inc.id).await.unwrap();
    assert_eq!(
        tl.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        vec!["note", "action"]
    );
    assert_eq!(tl[0].body, "Reported by phone");

    // Evidence: linked once, listed, unlinked, linked again.
    assert!(
        tx.link_incident_evidence(inc.id, ev, "user:test")
            .await
            .unwrap()
    );
    assert!(
        !tx.link_incident_evidence(inc.id, ev, "user:test")
            .await
            .unwrap()
    );
    assert!(tx.unlink_incident_evidence(inc.id, ev).await.unwrap());
    assert!(!tx.unlink_incident_evidence(inc.id, ev).await.unwrap());
    assert!(tx.incident_evidence(inc.id).await.unwrap().is_empty());
    assert!(
        tx.link_incident_evidence(inc.id, ev, "user:test")
            .await
            .unwrap()
    );
    assert_eq!(
        tx.incident_evidence(inc.id).await.unwrap()[0].evidence_id,
        ev
    );
    // An incident with records on it cannot be deleted.
    assert!(matches!(
        tx.delete_incident(inc.id).await,
        Err(StoreError::Conflict(_))
    ));
    audited_commit(tx, "incident").await;

    let mut tx = store.tenant_tx(a).await.unwrap();
    // Status: forward with a skip, then closing waits for the breach decision.
    let (m, kind) = tx
        .transition_incident(
            inc.id,
            IncidentStatus::Contained,
            Some("wiped"),
            "user:test",
        )
        .await
        .unwrap();
    assert_eq!(
        (m.status.as_str(), kind),
        ("contained", TransitionKind::Advance)
    );
    assert_eq!(
        rule(
            tx.transition_incident(inc.id, IncidentStatus::Closed, None, "user:test")
                .await
                .unwrap_err()
        ),
        "closed-without-decision"
    );

    // Assessments: a low-probability decision, replaced by a breach decision; both kept.
    let lp = tx
        .put_breach_assessment(
            inc.id,
            &low_probability("2026-05-10"),
            "Privacy Officer",
            Some(owner),
            "user:test",
            today(),
        )
        .await
        .unwrap();
    assert_eq!(lp.decision, "low-probability");
    assert_eq!(assessment_of(&lp).unwrap(), low_probability("2026-05-10"));
    let b = tx
        .put_breach_assessment(
            inc.id,
            &breach("2026-05-12"),
            "Privacy Officer",
            None,
            "user:test",
            today(),
        )
        .await
        .unwrap();
    let current = tx.breach_assessment(inc.id).await.unwrap().unwrap();
    assert_eq!(current.id, b.id);
    assert_eq!(assessment_of(&current).unwrap(), breach("2026-05-12"));
    let history = tx.breach_assessment_history(inc.id).await.unwrap();
    assert_eq!(history.len(), 2);
    assert!(history[0].superseded_at.is_some());
    assert_eq!(history[1].superseded_at, None);

    // Counts: California above the media threshold, an unplaced remainder.
    let counts = tx
        .set_affected_counts(inc.id, 700, &[("ca", 501), ("NV", 20)], "user:test")
        .await
        .unwrap();
    assert_eq!(counts.total(), 700);
    assert_eq!(tx.affected_counts(inc.id).await.unwrap().unwrap(), counts);
    // Replaced whole.
    let counts = tx
        .set_affected_counts(inc.id, 650, &[("CA", 600)], "user:test")
        .await
        .unwrap();
    assert_eq!(tx.affected_counts(inc.id).await.unwrap().unwrap(), counts);
    assert_eq!(
        tx.incident(inc.id).await.unwrap().unwrap().affected_total,
        Some(650)
    );

    // A law-enforcement delay: an oral statement, ended early.
    let d = tx
        .add_law_enforcement_delay(
            inc.id,
            &NewDelay {
                delay: LawEnforcementDelay {
                    form: StatementForm::Oral,
                    stated_on: day("2026-05-05"),
                    ends_on: None,
                },
                agency: "County police".into(),
                official: "Det. Smith, badge 12".into(),
                notes: String::new(),
            },
            "user:test",
            today(),
        )
        .await
        .unwrap();
    assert_eq!(d.ends_on, None);
    let ended = tx
        .end_law_enforcement_delay(d.id, day("2026-05-15"), "user:test", today())
        .await
        .unwrap();
    assert_eq!(ended.ends_on, Some(day("2026-05-15")));
    assert!(matches!(
        tx.end_law_enforcement_delay(d.id, day("2026-05-14"), "user:test", today())
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        tx.law_enforcement_delays(inc.id).await.unwrap(),
        vec![ended]
    );

    // Notices, and the clocks from the stored facts: the ten days of delay move every clock.
    let sent = tx
        .record_breach_notification(
            inc.id,
            &notice(
                Recipient::Individuals,
                "2026-06-20",
                NotificationMethod::FirstClassMail,
            ),
            "user:test",
            today(),
        )
        .await
        .unwrap();
    let mut media = notice(
        Recipient::Media,
        "2026-06-21",
        NotificationMethod::MediaOutlet,
    );
    media.notification.jurisdiction = Some(Jurisdiction::California);
    media.recipient_detail = "LA Times".into();
    tx.record_breach_notification(inc.id, &media, "user:test", today())
        .await
        .unwrap();
    let notices = tx.breach_notifications(inc.id).await.unwrap();
    assert_eq!(notices.len(), 2);
    assert_eq!(notices[0], sent);
    assert_eq!(notices[1].jurisdiction.as_deref(), Some("CA"));
    let facts = tx.breach_facts(inc.id).await.unwrap();
    assert_eq!(facts.decision, Some(DecisionKind::Breach));
    assert_eq!(facts.notifications.len(), 2);
    let clocks = facts.clocks().unwrap();
    let individuals = &clocks.clocks[0];
    assert_eq!(individuals.kind, ClockKind::Individuals);
    // 2026-05-01 + 60 = 2026-06-30, + 10 days of delay (05-06 through 05-15).
    assert_eq!(individuals.due_on, day("2026-07-10"));
    assert!(
        clocks
            .clocks
            .iter()
            .any(|c| c.kind == ClockKind::Hhs && c.required)
    );

    // Closing, now that the decision is recorded; reopening.
    let (m, _) = tx
        .transition_incident(inc.id, IncidentStatus::Closed, None, "user:test")
        .await
        .unwrap();
    assert!(m.closed_at.is_some());
    let (m, kind) = tx
        .transition_incident(
            inc.id,
            IncidentStatus::Triage,
            Some("more records"),
            "user:test",
        )
        .await
        .unwrap();
    assert_eq!(
        (m.status.as_str(), kind),
        ("triage", TransitionKind::Reopen)
    );
    assert_eq!(m.closed_at, None);
    let kinds: Vec<String> = tx
        .incident_timeline(inc.id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    for k in [
        "note",
        "action",
        "status",
        "assessment",
        "counts",
        "delay",
        "notification",
    ] {
        assert!(kinds.iter().any(|x| x == k), "no {k} entry in {kinds:?}");
    }
    audited_commit(tx, "life").await;
    Recorded {
        incident: inc.id,
        evidence: ev,
        delay: d.id,
    }
}

/// Every bad input is refused with the domain rule's code, and nothing is stored.
async fn refusals(store: &Store, a: TenantScope) {
    let mut tx = store.tenant_tx(a).await.unwrap();
    let (_, before) = tx
        .incidents_page(&IncidentFilter::default(), &first(100), true)
        .await
        .unwrap();
    // A discovery in the future.
    let future = fields("Future", "2026-07-01", true);
    assert_eq!(
        rule(
            tx.create_incident(&future, "user:test", today())
                .await
                .unwrap_err()
        ),
        "discovery-in-future"
    );
    // An occurrence after the discovery; a blank title.
    let mut late = fields("Late", "2026-06-01", true);
    late.occurred_from = Some(day("2026-06-02"));
    assert_eq!(
        rule(
            tx.create_incident(&late, "user:test", today())
                .await
                .unwrap_err()
        ),
        "occurrence-after-discovery"
    );
    let mut blank = fields(" ", "2026-06-01", true);
    assert_eq!(
        rule(
            tx.create_incident(&blank, "user:test", today())
                .await
                .unwrap_err()
        ),
        "text-blank"
    );
    blank.title = "x".repeat(301);
    assert_eq!(
        rule(
            tx.create_incident(&blank, "user:test", today())
                .await
                .unwrap_err()
        ),
        "text-too-long"
    );
    let (_, after) = tx
        .incidents_page(&IncidentFilter::default(), &first(100), true)
        .await
        .unwrap();
    assert_eq!(after, before);

    let inc = tx
        .create_incident(
            &fields("Misdirected fax", "2026-06-01", true),
            "user:test",
            today(),
        )
        .await
        .unwrap();
    // An update that moves the discovery into the future.
    assert_eq!(
        rule(
            tx.update_incident(inc.id, &future, today())
                .await
                .unwrap_err()
        ),
        "discovery-in-future"
    );
    // A notice dated before the discovery; in the future; by a method not allowed; a media
    // notice without its State.
    for (n, code) in [
        (
            notice(
                Recipient::Individuals,
                "2026-05-31",
                NotificationMethod::Email,
            ),
            "notification-before-discovery",
        ),
        (
            notice(
                Recipient::Individuals,
                "2026-07-01",
                NotificationMethod::Email,
            ),
            "notification-in-future",
        ),
        (
            notice(Recipient::Hhs, "2026-06-10", NotificationMethod::Email),
            "method-not-allowed",
        ),
        (
            notice(
                Recipient::Media,
                "2026-06-10",
                NotificationMethod::MediaOutlet,
            ),
            "jurisdiction-mismatch",
        ),
    ] {
        assert_eq!(
            rule(
                tx.record_breach_notification(inc.id, &n, "user:test", today())
                    .await
                    .unwrap_err()
            ),
            code
        );
    }
    // A low-probability decision without the four factors; a decision before the discovery.
    let mut missing = low_probability("2026-06-02");
    missing.factors.pop();
    assert_eq!(
        rule(
            tx.put_breach_assessment(inc.id, &missing, "PO", None, "user:test", today())
                .await
                .unwrap_err()
        ),
        "factors-missing"
    );
    assert_eq!(
        rule(
            tx.put_breach_assessment(
                inc.id,
                &low_probability("2026-05-31"),
                "PO",
                None,
                "user:test",
                today()
            )
            .await
            .unwrap_err()
        ),
        "decision-before-discovery"
    );
    // A total below the per-State sum; an unknown State; a State twice.
    for (total, by, code) in [
        (10, vec![("CA", 8), ("NY", 5)], "count-below-state-sum"),
        (10, vec![("XX", 1)], "unknown-jurisdiction"),
        (10, vec![("CA", 1), ("ca", 1)], "jurisdiction-repeated"),
        (-1, vec![], "count-out-of-range"),
    ] {
        assert_eq!(
            rule(
                tx.set_affected_counts(inc.id, total, &by, "user:test")
                    .await
                    .unwrap_err()
            ),
            code
        );
    }
    // A written delay without its period; a statement in the future.
    let mut d = NewDelay {
        delay: LawEnforcementDelay {
            form: StatementForm::Written,
            stated_on: day("2026-06-05"),
            ends_on: None,
        },
        agency: "FBI".into(),
        official: "SA Jones".into(),
        notes: String::new(),
    };
    assert_eq!(
        rule(
            tx.add_law_enforcement_delay(inc.id, &d, "user:test", today())
                .await
                .unwrap_err()
        ),
        "written-delay-without-period"
    );
    d.delay.stated_on = day("2026-07-05");
    d.delay.ends_on = Some(day("2026-08-05"));
    assert_eq!(
        rule(
            tx.add_law_enforcement_delay(inc.id, &d, "user:test", today())
                .await
                .unwrap_err()
        ),
        "statement-in-future"
    );
    // Illegal transitions: backwards, to the same status.
    tx.transition_incident(inc.id, IncidentStatus::Recovered, None, "user:test")
        .await
        .unwrap();
    assert_eq!(
        rule(
            tx.transition_incident(inc.id, IncidentStatus::Contained, None, "user:test")
                .await
                .unwrap_err()
        ),
        "invalid-transition"
    );
    assert_eq!(
        rule(
            tx.transition_incident(inc.id, IncidentStatus::Recovered, None, "user:test")
                .await
                .unwrap_err()
        ),
        "no-change"
    );
    // A blank timeline entry.
    assert_eq!(
        rule(
            tx.append_incident_timeline(inc.id, TimelineKind::Note, Utc::now(), "  ", "user:test")
                .await
                .unwrap_err()
        ),
        "text-blank"
    );
    // Nothing of those was stored: only the one status change.
    assert!(tx.breach_notifications(inc.id).await.unwrap().is_empty());
    assert!(
        tx.breach_assessment_history(inc.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(tx.affected_counts(inc.id).await.unwrap(), None);
    assert!(tx.law_enforcement_delays(inc.id).await.unwrap().is_empty());
    let tl = tx.incident_timeline(inc.id).await.unwrap();
    assert_eq!(tl.len(), 1);
    assert_eq!(tl[0].body, "triage → recovered");
    let m = tx.incident(inc.id).await.unwrap().unwrap();
    assert_eq!(
        (m.status.as_str(), m.discovered_on),
        ("recovered", day("2026-06-01"))
    );
    audited_commit(tx, "refusals").await;

    // Once a notice is recorded, the discovery cannot move after it.
    let mut tx = store.tenant_tx(a).await.unwrap();
    tx.record_breach_notification(
        inc.id,
        &notice(
            Recipient::Individuals,
            "2026-06-10",
            NotificationMethod::Email,
        ),
        "user:test",
        today(),
    )
    .await
    .unwrap();
    assert_eq!(
        rule(
            tx.update_incident(
                inc.id,
                &fields("Misdirected fax", "2026-06-11", true),
                today()
            )
            .await
            .unwrap_err()
        ),
        "notification-before-discovery"
    );
    audited_commit(tx, "notice").await;
}

/// Another tenant cannot read, list, change, transition or delete anything of A's through any
/// method; A's rows are unchanged afterwards.
async fn isolation(store: &Store, a: TenantScope, b: TenantScope, r: Recorded) {
    let tx = store.tenant_tx(a).await.unwrap();
    let before = (
        tx.incident(r.incident).await.unwrap().unwrap(),
        tx.incident_timeline(r.incident).await.unwrap().len(),
        tx.breach_assessment_history(r.incident)
            .await
            .unwrap()
            .len(),
        tx.breach_notifications(r.incident).await.unwrap().len(),
        tx.law_enforcement_delays(r.incident).await.unwrap(),
        tx.incident_evidence(r.incident).await.unwrap().len(),
        tx.affected_counts(r.incident).await.unwrap(),
    );
    tx.rollback().await.unwrap();
    let b_evidence = evidence(store, b).await;

    let mut tx = store.tenant_tx(b).await.unwrap();
    let i = r.incident;
    assert_eq!(tx.incident(i).await.unwrap(), None);
    let (page, total) = tx
        .incidents_page(&IncidentFilter::default(), &first(100), true)
        .await
        .unwrap();
    assert!(page.items.is_empty() && total == 0);
    let f = fields("Hijack", "2026-06-01", true);
    assert!(matches!(
        tx.update_incident(i, &f, today()).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        tx.transition_incident(i, IncidentStatus::Contained, None, "user:b")
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(!tx.delete_incident(i).await.unwrap());
    assert!(matches!(
        tx.append_incident_timeline(i, TimelineKind::Note, Utc::now(), "x", "user:b")
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(tx.incident_timeline(i).await.unwrap().is_empty());
    // Neither A's evidence on A's incident, nor B's own evidence on A's incident.
    for ev in [r.evidence, b_evidence] {
        assert!(matches!(
            tx.link_incident_evidence(i, ev, "user:b").await,
            Err(StoreError::NotFound)
        ));
    }
    assert!(!tx.unlink_incident_evidence(i, r.evidence).await.unwrap());
    assert!(tx.incident_evidence(i).await.unwrap().is_empty());
    assert!(matches!(
        tx.put_breach_assessment(i, &breach("2026-06-02"), "x", None, "user:b", today())
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(tx.breach_assessment(i).await.unwrap(), None);
    assert!(tx.breach_assessment_history(i).await.unwrap().is_empty());
    assert!(matches!(
        tx.set_affected_counts(i, 1, &[("CA", 1)], "user:b").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        tx.affected_counts(i).await,
        Err(StoreError::NotFound)
    ));
    let d = NewDelay {
        delay: LawEnforcementDelay {
            form: StatementForm::Oral,
            stated_on: day("2026-06-05"),
            ends_on: None,
        },
        agency: "x".into(),
        official: "y".into(),
        notes: String::new(),
    };
    assert!(matches!(
        tx.add_law_enforcement_delay(i, &d, "user:b", today()).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        tx.end_law_enforcement_delay(r.delay, day("2026-05-06"), "user:b", today())
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(tx.law_enforcement_delays(i).await.unwrap().is_empty());
    assert!(matches!(
        tx.record_breach_notification(
            i,
            &notice(
                Recipient::Individuals,
                "2026-06-10",
                NotificationMethod::Email
            ),
            "user:b",
            today()
        )
        .await,
        Err(StoreError::NotFound)
    ));
    assert!(tx.breach_notifications(i).await.unwrap().is_empty());
    assert!(matches!(
        tx.breach_facts(i).await,
        Err(StoreError::NotFound)
    ));
    assert!(tx.ba_notices_of_incident(i).await.unwrap().is_empty());
    // B wrote its evidence only: nothing to audit in this transaction.
    tx.commit().await.unwrap();

    let tx = store.tenant_tx(a).await.unwrap();
    let after = (
        tx.incident(r.incident).await.unwrap().unwrap(),
        tx.incident_timeline(r.incident).await.unwrap().len(),
        tx.breach_assessment_history(r.incident)
            .await
            .unwrap()
            .len(),
        tx.breach_notifications(r.incident).await.unwrap().len(),
        tx.law_enforcement_delays(r.incident).await.unwrap(),
        tx.incident_evidence(r.incident).await.unwrap().len(),
        tx.affected_counts(r.incident).await.unwrap(),
    );
    tx.rollback().await.unwrap();
    assert_eq!(after, before);
}

/// `customer` records a vendor and an active connection to `provider`.
async fn connect(store: &Store, customer: TenantScope, provider: TenantScope, name: &str) {
    let now = grc_domain::audit::truncate_to_micros(Utc::now());
    let mut tx = store.tenant_tx(customer).await.unwrap();
    let v = tx
        .insert_vendor(vendor::Model {
            tenant_id: Uuid::nil(),
            id: Uuid::now_v7(),
            name: name.into(),
            legal_name: None,
            website: None,
            description: String::new(),
            services: "[]".into(),
            ephi_access: "full".into(),
            phi_records: None,
            tier: 1,
            status: "active".into(),
            contacts: "[]".into(),
            owner_id: None,
            created_at: now,
            updated_at: now,
        })
        .await
        .unwrap();
    tx.insert_connection(connection::Model {
        tenant_id: Uuid::nil(),
        id: Uuid::now_v7(),
        vendor_id: v.id,
        provider_tenant_id: provider.tenant_id().0,
        status: "active".into(),
        message: String::new(),
        invited_by: "user:test".into(),
        invited_at: now,
        responded_by: Some("user:test".into()),
        responded_at: Some(now),
        response_reason: None,
        ended_by_tenant: None,
        ended_by: None,
        ended_at: None,
        end_reason: None,
    })
    .await
    .unwrap();
    audited_commit(tx, "connect").await;
}

/// A business associate's notice: written on both sides, appearing only in the covered entity
/// it names (not in another customer of the same business associate, not in a tenant without a
/// connection), accepted once into the covered entity's register with the discovery date its
/// basis gives. Returns the business associate's notice id.
async fn ba_notices(store: &Store, ba: TenantScope) -> Uuid {
    let (ce, _) = tenant(store, "inc-ce").await;
    let (other_ce, _) = tenant(store, "inc-other-ce").await;
    let (stranger, _) = tenant(store, "inc-stranger").await;
    connect(store, ce, ba, "Billing BA").await;
    connect(store, other_ce, ba, "Billing BA").await;
    // The covered entity is also the business associate's vendor: a connection the other way
    // round, which names no covered entity for the notice.
    connect(store, ba, ce, "Clinic services").await;
    let mut tx = store.tenant_tx(ba).await.unwrap();
    let inc = tx
        .create_incident(
            &fields("Ransomware", "2026-06-01", true),
            "user:ba",
            today(),
        )
        .await
        .unwrap();
    audited_commit(tx, "ba-incident").await;
    let n = NewBaNotice {
        notice_on: day("2026-06-10"),
        method: NotificationMethod::Platform,
        summary: "Ransomware on the billing server; 120 of your patients".into(),
        affected_total: Some(120),
    };
    // Refused: to a tenant without a connection; to itself; dated before the discovery; by a
    // method not allowed for a covered entity.
    let mut tx = store.tenant_tx(ba).await.unwrap();
    for to in [stranger.tenant_id().0, ba.tenant_id().0] {
        assert!(matches!(
            tx.send_ba_notice(inc.id, to, &n, "user:ba", peer_audit("x"), today())
                .await,
            Err(StoreError::NotFound)
        ));
    }
    let mut early = n.clone();
    early.notice_on = day("2026-05-31");
    assert_eq!(
        rule(
            tx.send_ba_notice(
                inc.id,
                ce.tenant_id().0,
                &early,
                "user:ba",
                peer_audit("x"),
                today()
            )
            .await
            .unwrap_err()
        ),
        "notification-before-discovery"
    );
    let mut by_media = n.clone();
    by_media.method = NotificationMethod::MediaOutlet;
    assert_eq!(
        rule(
            tx.send_ba_notice(
                inc.id,
                ce.tenant_id().0,
                &by_media,
                "user:ba",
                peer_audit("x"),
                today()
            )
            .await
            .unwrap_err()
        ),
        "method-not-allowed"
    );
    // A covered entity cannot send a notice about an incident that is not its own.
    tx.rollback().await.unwrap();
    let mut tx = store.tenant_tx(ce).await.unwrap();
    assert!(matches!(
        tx.send_ba_notice(
            inc.id,
            ba.tenant_id().0,
            &n,
            "user:ce",
            peer_audit("x"),
            today()
        )
        .await,
        Err(StoreError::NotFound)
    ));
    tx.rollback().await.unwrap();

    let mut tx = store.tenant_tx(ba).await.unwrap();
    let (sent, peer_rec) = tx
        .send_ba_notice(
            inc.id,
            ce.tenant_id().0,
            &n,
            "user:ba",
            peer_audit("sent"),
            today(),
        )
        .await
        .unwrap();
    assert_eq!(peer_rec.tenant_id, ce.tenant_id().0);
    assert_eq!(sent.direction, "sent");
    assert_eq!(sent.incident_id, Some(inc.id));
    assert_eq!(sent.ba_discovered_on, day("2026-06-01"));
    // The business associate's own record shows the notice to the covered entity.
    let own = tx.breach_notifications(inc.id).await.unwrap();
    assert_eq!(own.len(), 1);
    assert_eq!(
        (own[0].recipient.as_str(), own[0].method.as_str()),
        ("covered-entity", "platform")
    );
    assert_eq!(
        tx.ba_notices_of_incident(inc.id).await.unwrap(),
        vec![sent.clone()]
    );
    assert!(
        tx.ba_notices_page(true, &first(10))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    audited_commit(tx, "ba-sent").await;

    // Only the covered entity named sees it, as received; the other customer and the stranger
    // see nothing.
    for t in [other_ce, stranger] {
        let tx = store.tenant_tx(t).await.unwrap();
        assert!(
            tx.ba_notices_page(true, &first(10))
                .await
                .unwrap()
                .items
                .is_empty()
        );
        assert!(
            tx.ba_notices_page(false, &first(10))
                .await
                .unwrap()
                .items
                .is_empty()
        );
        assert_eq!(tx.ba_notice(sent.id).await.unwrap(), None);
        tx.rollback().await.unwrap();
    }
    let mut tx = store.tenant_tx(ce).await.unwrap();
    let got = tx.ba_notices_page(true, &first(10)).await.unwrap().items;
    assert_eq!(got.len(), 1);
    let recv = &got[0];
    assert_eq!(recv.id, sent.id);
    assert_eq!(recv.direction, "received");
    assert_eq!(recv.peer_tenant_id, ba.tenant_id().0);
    assert_eq!(recv.peer_incident_id, Some(inc.id));
    assert_eq!(recv.incident_id, None);
    assert!(recv.vendor_id.is_some());
    assert_eq!(recv.summary, n.summary);
    // The covered entity's chain has the business associate's event.
    let events = tx
        .audit_events(&PageRequest::Forward {
            first: 100,
            after: None,
        })
        .await
        .unwrap();
    assert!(events.items.iter().any(|e| e.action == "incident.sent"));
    // The covered entity cannot read the business associate's incident.
    assert_eq!(tx.incident(inc.id).await.unwrap(), None);

    // Accepted: an incident in the covered entity's register, from the business associate's
    // discovery (an agent's knowledge is the covered entity's).
    let (accepted, ce_inc) = tx
        .accept_ba_notice(
            sent.id,
            BaRelation::Agent,
            &from_notice("Billing BA ransomware"),
            "user:ce",
            today(),
        )
        .await
        .unwrap();
    assert_eq!(ce_inc.discovered_on, day("2026-06-01"));
    assert!(ce_inc.ephi_involved);
    assert_eq!(accepted.incident_id, Some(ce_inc.id));
    assert_eq!(accepted.discovery_basis.as_deref(), Some("agent-knowledge"));
    assert_eq!(
        tx.ba_notices_of_incident(ce_inc.id).await.unwrap(),
        vec![accepted.clone()]
    );
    assert!(tx.incident_timeline(ce_inc.id).await.unwrap()[0].kind == "ba-notice");
    assert!(matches!(
        tx.accept_ba_notice(
            sent.id,
            BaRelation::Agent,
            &from_notice("Again"),
            "user:ce",
            today()
        )
        .await,
        Err(StoreError::Conflict(_))
    ));
    audited_commit(tx, "ba-accepted").await;
    // The business associate cannot accept its own sent notice, nor see the covered entity's
    // side.
    let mut tx = store.tenant_tx(ba).await.unwrap();
    assert!(matches!(
        tx.accept_ba_notice(
            sent.id,
            BaRelation::Agent,
            &from_notice("x"),
            "user:ba",
            today()
        )
        .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        tx.ba_notice(sent.id).await.unwrap().unwrap().direction,
        "sent"
    );
    assert_eq!(tx.incident(ce_inc.id).await.unwrap(), None);
    tx.rollback().await.unwrap();

    // A second notice, accepted as from an independent contractor: discovered on the notice.
    let mut tx = store.tenant_tx(ba).await.unwrap();
    let mut n2 = n.clone();
    n2.notice_on = day("2026-06-15");
    let (sent2, _) = tx
        .send_ba_notice(
            inc.id,
            ce.tenant_id().0,
            &n2,
            "user:ba",
            peer_audit("sent2"),
            today(),
        )
        .await
        .unwrap();
    audited_commit(tx, "ba-sent2").await;
    let mut tx = store.tenant_tx(ce).await.unwrap();
    let (acc2, inc2) = tx
        .accept_ba_notice(
            sent2.id,
            BaRelation::IndependentContractor,
            &from_notice("Billing BA ransomware (2)"),
            "user:ce",
            today(),
        )
        .await
        .unwrap();
    assert_eq!(inc2.discovered_on, day("2026-06-15"));
    assert_eq!(acc2.discovery_basis.as_deref(), Some("notice-received"));
    audited_commit(tx, "ba-accepted2").await;
    // Both chains still verify.
    for t in [ba, ce] {
        let tx = store.tenant_tx(t).await.unwrap();
        assert!(tx.verify_audit_chain().await.unwrap().is_ok());
        tx.rollback().await.unwrap();
    }
    sent.id
}

/// Rows of the append-only tables are never changed, on either backend.
async fn append_only(store: &Store, a: TenantScope, incident: Uuid) {
    let backend = store.backend();
    for table in ["incident_timeline", "breach_notifications"] {
        let tx = store.tenant_tx(a).await.unwrap();
        let sql = format!("UPDATE {table} SET recorded_at = recorded_at WHERE incident_id = $1");
        let sql = if backend == DbBackend::Postgres {
            sql
        } else {
            sql.replace('$', "?")
        };
        let r = tx
            .raw_connection()
            .execute_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [incident.into()],
            ))
            .await;
        assert!(r.is_err(), "{table}: a row was updated");
        tx.rollback().await.unwrap();
    }
}

async fn exercise(store: &Store) -> (TenantScope, TenantScope, Recorded) {
    let (a, a_owner) = tenant(store, "incidents-a").await;
    let (b, _) = tenant(store, "incidents-b").await;
    let r = round_trip(store, a, a_owner).await;
    refusals(store, a).await;
    isolation(store, a, b, r).await;
    ba_notices(store, a).await;
    append_only(store, a, r.incident).await;
    (a, b, r)
}

#[tokio::test]
async fn incident_store_on_sqlite() {
    let (store, dir) = sqlite_store("grc-store-inc").await;
    exercise(&store).await;
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL: a fresh database, an owner that migrates, an application role that cannot
// bypass row-level security.
// ---------------------------------------------------------------------------------------------

async fn count(conn: &impl ConnectionTrait, sql: &str) -> i64 {
    conn.query_one_raw(Statement::from_string(DbBackend::Postgres, sql.to_owned()))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap()
}

const TABLES: [&str; 8] = [
    "incidents",
    "incident_timeline",
    "incident_evidence",
    "breach_assessments",
    "incident_affected_counts",
    "law_enforcement_delays",
    "breach_notifications",
    "ba_breach_notices",
];

/// Row-level security below the repositories: in B's transaction, raw SQL without any tenant
/// predicate sees none of A's rows in any of the new tables, changes none, and cannot write one
/// in A's name; outside a tenant the application role sees nothing; the application role may
/// only insert into the append-only tables.
async fn rls(
    db: &PgTestDb,
    admin: &DatabaseConnection,
    store: &Store,
    a: TenantScope,
    b: TenantScope,
) {
    let a_id = a.tenant_id().0;
    for t in TABLES {
        let n = count(
            admin,
            &format!("SELECT count(*) FROM {t} WHERE tenant_id = '{a_id}'"),
        )
        .await;
        assert!(n > 0, "{t}: no row of A to check against");
    }
    let tx = store.tenant_tx(b).await.unwrap();
    let conn = tx.raw_connection();
    for t in TABLES {
        assert_eq!(
            count(
                conn,
                &format!("SELECT count(*) FROM {t} WHERE tenant_id = '{a_id}'")
            )
            .await,
            0,
            "{t}: B sees A's rows"
        );
        if !matches!(t, "incident_timeline" | "breach_notifications") {
            let r = conn
                .execute_unprepared(&format!("DELETE FROM {t} WHERE tenant_id = '{a_id}'"))
                .await
                .unwrap();
            assert_eq!(r.rows_affected(), 0, "{t}: B deletes A's rows");
        }
    }
    let r = conn
        .execute_unprepared(&format!(
            "UPDATE incidents SET title = 'mine' WHERE tenant_id = '{a_id}'"
        ))
        .await
        .unwrap();
    assert_eq!(r.rows_affected(), 0);
    tx.rollback().await.unwrap();
    // Writing in A's name from B's transaction: refused by the policy's WITH CHECK.
    let tx = store.tenant_tx(b).await.unwrap();
    let r = tx
        .raw_connection()
        .execute_unprepared(&format!(
            "INSERT INTO incidents (tenant_id, id, title, description, severity, status, discovered_on,
               reporter, affected_systems, affected_asset_ids, ephi_involved, lessons_learned,
               created_by, created_at, updated_at)
             VALUES ('{a_id}', '{}', 'x', '', 'low', 'triage', '2026-06-01', 'x', '[]', '[]', false, '',
               'x', now(), now())",
            Uuid::now_v7()
        ))
        .await;
    assert!(r.is_err(), "B wrote an incident in A's name");
    tx.rollback().await.unwrap();
    // Outside a tenant: nothing.
    let mut one = sea_orm::ConnectOptions::new(db.app_url());
    one.max_connections(1).min_connections(1);
    let one = Database::connect(one).await.unwrap();
    for t in TABLES {
        assert_eq!(
            count(&one, &format!("SELECT count(*) FROM {t}")).await,
            0,
            "{t}"
        );
    }
    one.close().await.unwrap();
    // The append-only tables: insert and select only.
    for t in ["incident_timeline", "breach_notifications"] {
        assert_eq!(
            count(
                admin,
                &format!("SELECT count(*) FROM information_schema.role_table_grants WHERE grantee = 'grc_store_inc_app' AND table_name = '{t}' AND privilege_type IN ('UPDATE', 'DELETE')")
            )
            .await,
            0,
            "{t}"
        );
    }
    // Every new table has its policy, enabled and forced.
    for t in TABLES {
        assert_eq!(
            count(
                admin,
                &format!("SELECT count(*) FROM pg_class WHERE relname = '{t}' AND relrowsecurity AND relforcerowsecurity")
            )
            .await,
            1,
            "{t}"
        );
        assert_eq!(
            count(
                admin,
                &format!("SELECT count(*) FROM pg_policies WHERE tablename = '{t}' AND policyname = 'tenant_isolation'")
            )
            .await,
            1,
            "{t}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incident_store_on_postgres() {
    let db = PgTestDb::create("grc_store_inc_owner", "grc_store_inc_app", "grc_inc_").await;
    let admin = Database::connect(db.url_as("postgres")).await.unwrap();
    let store = db.app_store().await;
    let (a, b, _) = exercise(&store).await;
    rls(&db, &admin, &store, a, b).await;
    drop(store);
    admin.close().await.unwrap();
    db.drop().await;
}
