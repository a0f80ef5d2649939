//! PostgreSQL row-level security: the second wall behind the repositories.

use grc_domain::tenancy::Role;
use grc_e2e::{Backend, TestApp, TestDb};
use grc_store::TenantScope;
use grc_store::migration::tenant_owned_tables;
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement, TransactionTrait};
use secrecy::ExposeSecret;

async fn count(conn: &impl ConnectionTrait, sql: &str) -> i64 {
    let row = conn
        .query_one_raw(Statement::from_string(DbBackend::Postgres, sql.to_owned()))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

/// A mutation that must succeed; its payload.
async fn must(
    app: &TestApp,
    token: &str,
    name: &str,
    q: &str,
    vars: serde_json::Value,
) -> serde_json::Value {
    grc_e2e::gql::ok(app, token, name, q, vars).await
}

/// A query's data, which must have no errors.
async fn data(app: &TestApp, token: &str, q: &str) -> serde_json::Value {
    let a = app.gql(token, None, q, serde_json::json!({})).await;
    assert!(a.body["errors"].is_null(), "{q}: {:?}", a.body);
    a.data().clone()
}

/// Sharing both ways between two populated tenants: each is the other's customer and
/// provider, lists, keeps an NDA, grants (all ISO certificates with the NDA, an attestation, a
/// BAA, its SoA summary), accepts the other's NDA, asks for access, and reads what it was
/// granted: a row of each side in every sharing table.
async fn populate_sharing(app: &TestApp, a: &grc_e2e::Fixture, b: &grc_e2e::Fixture) {
    let tenant_gid = |f: &grc_e2e::Fixture| grc_e2e::global_id("Tenant", f.tenant.id.0);
    for (x, y) in [(a, b), (b, a)] {
        let d = data(
            app,
            x.token("owner"),
            "{ vendors(first: 1) { edges { node { id } } } }",
        )
        .await;
        let vendor = d["vendors"]["edges"][0]["node"]["id"].clone();
        let c = must(app, x.token("owner"), "inviteConnection",
            "mutation($v: ID!, $s: String!) { inviteConnection(input: {vendorId: $v, providerSlug: $s}) { connection { id } userErrors { field message code } } }",
            serde_json::json!({"v": vendor, "s": y.tenant.slug})).await;
        must(app, y.token("owner"), "answerConnection",
            "mutation($c: ID!) { answerConnection(input: {connectionId: $c, accept: true}) { connection { id } userErrors { field message code } } }",
            serde_json::json!({"c": c["connection"]["id"]})).await;
    }
    for (x, y) in [(a, b), (b, a)] {
        let t = x.token("owner");
        let nda = must(app, t, "createNda",
            "mutation { createNda(input: {title: \"Mutual NDA\", text: \"Keep it confidential.\"}) { nda { id } userErrors { field message code } } }",
            serde_json::json!({})).await["nda"]["id"].clone();
        must(app, t, "listArtifact",
            "mutation { listArtifact(input: {kind: ALL_ISO_CERTIFICATES, title: \"Our ISO certificates\"}) { listing { id } userErrors { field message code } } }",
            serde_json::json!({})).await;
        let d = data(app, t, "{ attestations(first: 1) { edges { node { id } } } baas(first: 1) { edges { node { id } } } managementSystems { id } }").await;
        let grant = "mutation($g: ID!, $k: ArtifactKind!, $a: ID, $acc: ShareAccess!, $n: ID) { grantShare(input: {granteeTenantId: $g, kind: $k, artifactId: $a, access: $acc, ndaId: $n}) { grant { id } userErrors { field message code } } }";
        let g = tenant_gid(y);
        must(
            app,
            t,
            "grantShare",
            grant,
            serde_json::json!({"g": g, "k": "ALL_ISO_CERTIFICATES", "acc": "DOCUMENT", "n": nda}),
        )
        .await;
        must(app, t, "grantShare", grant, serde_json::json!({"g": g, "k": "ATTESTATION", "a": d["attestations"]["edges"][0]["node"]["id"], "acc": "METADATA"})).await;
        must(app, t, "grantShare", grant, serde_json::json!({"g": g, "k": "BAA", "a": d["baas"]["edges"][0]["node"]["id"], "acc": "METADATA"})).await;
        for (i, m) in d["managementSystems"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
        {
            must(
                app,
                t,
                "grantShare",
                grant,
                serde_json::json!({"g": g, "k": "SOA_SUMMARY", "a": m["id"], "acc": "METADATA"}),
            )
            .await;
            // A change to the shared summary (its title is the ISMS's name) moves the
            // grantee's share version.
            must(app, t, "updateManagementSystem",
                "mutation($i: ID!, $n: String!) { updateManagementSystem(input: {id: $i, name: $n}) { managementSystem { id } userErrors { field message code } } }",
                serde_json::json!({"i": m["id"], "n": format!("Renamed ISMS {i}")})).await;
        }
    }
    for x in [a, b] {
        let t = x.token("owner");
        let d = data(app, t, "{ sharedWithMe(first: 10) { edges { node { id artifactKind nda { id currentVersion } artifacts { id } } } } connections(status: ACTIVE, side: CUSTOMER) { id } }").await;
        for e in d["sharedWithMe"]["edges"].as_array().unwrap() {
            let n = &e["node"];
            if !n["nda"].is_null() {
                must(app, t, "acceptNda",
                    "mutation($n: ID!, $v: Int!) { acceptNda(input: {ndaId: $n, version: $v}) { acceptance { id } userErrors { field message code } } }",
                    serde_json::json!({"n": n["nda"]["id"], "v": n["nda"]["currentVersion"]})).await;
            }
            if n["artifactKind"] == "ALL_ISO_CERTIFICATES" {
                let art = n["artifacts"][0]["id"].clone();
                let v = data(
                    app,
                    t,
                    &format!(
                        "{{ sharedArtifact(grantId: \"{}\", artifactId: \"{}\") {{ sha256 }} }}",
                        n["id"].as_str().unwrap(),
                        art.as_str().unwrap()
                    ),
                )
                .await;
                assert!(v["sharedArtifact"]["sha256"].is_string(), "{v:?}");
            }
        }
        must(app, t, "requestAccess",
            "mutation($c: ID!) { requestAccess(input: {connectionId: $c, kind: ALL_ISO_CERTIFICATES, access: METADATA}) { request { id } userErrors { field message code } } }",
            serde_json::json!({"c": d["connections"][0]["id"]})).await;
    }
}

/// One row in each reminder and notification table (issue 7), written through the store (the
/// API for them comes later): settings, a policy, a digest option, a reminder with its outbox
/// event, delivery and attempt, an endpoint with a secret, a notification, a calendar feed.
async fn populate_reminders(app: &TestApp, f: &grc_e2e::Fixture) {
    use chrono::{TimeDelta, Utc};
    use grc_domain::reminders::{Channel, DigestOption, DueKind, Occurrence, Step};
    use grc_domain::webhooks::{DeliveryOutcome, WebhookSecret};
    use grc_store::entity::reminders::{notification, webhook_endpoint};

    let owner = f.user_ids["owner"];
    let scope = TenantScope::new(f.tenant.id);
    let mut tx = app.store.tenant_tx(scope).await.unwrap();
    tx.put_reminder_settings("Europe/Berlin", 9, 0, "system:test")
        .await
        .unwrap();
    let (policy, _) = tx.reminder_policy(DueKind::BaaEnd).await.unwrap();
    tx.put_reminder_policy(&policy, "system:test")
        .await
        .unwrap();
    tx.put_digest_preference(owner, &DigestOption::default())
        .await
        .unwrap();
    let now = Utc::now();
    let due_on = now.date_naive() + TimeDelta::days(30);
    let o = Occurrence {
        tenant_id: f.tenant.id.0,
        subject_id: uuid::Uuid::now_v7(),
        kind: DueKind::CertificateExpiry,
        due_on,
        step: Step::Lead { days: 30 },
        local_date: now.date_naive(),
        send_at: now,
        escalated: false,
    };
    assert!(
        tx.insert_reminder(&o, "Certificate", grc_store::ReminderStatus::Queued)
            .await
            .unwrap()
    );
    let event = tx
        .queue_event(grc_store::PeerEvent {
            topic: "reminder.due".into(),
            subject_type: "Certificate".into(),
            subject_id: o.subject_id.to_string(),
            payload: serde_json::json!({}),
            dedupe_key: o.idempotency_key(),
        })
        .await
        .unwrap();
    let (d, _) = tx
        .insert_delivery(&grc_store::NewDelivery {
            delivery_key: format!("{}:in-app:user-{owner}", o.idempotency_key()),
            outbox_event_id: event,
            reminder_id: Some(o.idempotency_uuid()),
            channel: Channel::InApp,
            target: owner.to_string(),
            due_at: now,
        })
        .await
        .unwrap();
    tx.record_delivery_attempt(
        d.id,
        &grc_store::AttemptRecord {
            attempted_at: now,
            outcome: DeliveryOutcome::Delivered,
            status_code: None,
            error: None,
            duration_ms: Some(1),
            next_attempt_at: None,
        },
    )
    .await
    .unwrap();
    assert!(
        tx.insert_notification(notification::Model {
            tenant_id: uuid::Uuid::nil(),
            id: uuid::Uuid::now_v7(),
            user_id: owner,
            delivery_id: Some(d.id),
            topic: "reminder.due".into(),
            title: "Certificate expires in 30 days".into(),
            body: String::new(),
            subject_type: Some("Certificate".into()),
            subject_id: Some(o.subject_id.to_string()),
            link: None,
            created_at: now,
            read_at: None,
        })
        .await
        .unwrap()
    );
    let ep = tx
        .insert_webhook_endpoint(webhook_endpoint::Model {
            tenant_id: uuid::Uuid::nil(),
            id: uuid::Uuid::now_v7(),
            url: "https://hooks.example.com/grc".into(),
            description: String::new(),
            event_types: "[]".into(),
            enabled: true,
            disabled_reason: None,
            disabled_at: None,
            consecutive_failures: 0,
            first_failure_at: None,
            created_by: "system:test".into(),
            created_at: now,
            updated_at: now,
        })
        .await
        .unwrap();
    tx.add_webhook_secret(
        ep.id,
        &WebhookSecret::from_random_bytes(&[7u8; 32]).unwrap(),
        now,
    )
    .await
    .unwrap();
    tx.create_calendar_feed(owner).await.unwrap();
    tx.append_audit(grc_store::AuditEntry {
        actor: grc_domain::audit::Actor::System("test".into()),
        action: "reminders.populate".into(),
        subject_type: "Tenant".into(),
        subject_id: f.tenant.id.to_string(),
        change: serde_json::json!({}),
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

/// One row in each incident table for `f`'s tenant, through the store, and a business
/// associate's notice from it to `peer` (a connected customer): its `sent` row here, the
/// `received` row in the peer's tenant.
async fn populate_incidents(app: &TestApp, f: &grc_e2e::Fixture, peer: &grc_e2e::Fixture) {
    use chrono::{TimeDelta, Utc};
    use grc_domain::incidents::{
        BreachAssessment, BreachDecision, LawEnforcementDelay, Notification, NotificationMethod,
        PhiSecurity, Recipient, Severity, StatementForm,
    };

    let today = Utc::now().date_naive();
    let discovered_on = today - TimeDelta::days(10);
    let scope = TenantScope::new(f.tenant.id);
    let mut tx = app.store.tenant_tx(scope).await.unwrap();
    let fields = grc_store::IncidentFields {
        title: "Stolen laptop".into(),
        description: String::new(),
        severity: Severity::High,
        discovered_at: None,
        discovered_on,
        occurred_from: None,
        occurred_until: None,
        reporter: "it@example.org".into(),
        reporter_id: None,
        owner_id: None,
        affected_systems: vec![],
        affected_asset_ids: vec![],
        ephi_involved: true,
        lessons_learned: String::new(),
    };
    let inc = tx
        .create_incident(&fields, "system:test", today)
        .await
        .unwrap();
    tx.append_incident_timeline(
        inc.id,
        grc_store::TimelineKind::Note,
        Utc::now(),
        "reported",
        "system:test",
    )
    .await
    .unwrap();
    let evidence = uuid::Uuid::now_v7();
    tx.insert_evidence(
        &grc_store::NewEvidence {
            id: evidence,
            title: "Police report".into(),
            description: String::new(),
            filename: "report.pdf".into(),
            media_type: "application/pdf".into(),
            size_bytes: 1,
            sha256: "0".repeat(64),
            object_key: format!("incidents/{evidence}"),
            effective_date: discovered_on,
            expires_on: None,
            uploaded_by: "system:test".into(),
            uploader_id: None,
            uploaded_at: grc_domain::audit::truncate_to_micros(Utc::now()),
        },
        &[],
    )
    .await
    .unwrap();
    tx.link_incident_evidence(inc.id, evidence, "system:test")
        .await
        .unwrap();
    tx.put_breach_assessment(
        inc.id,
        &BreachAssessment {
            phi_security: PhiSecurity::Unsecured,
            factors: vec![],
            decision: BreachDecision::Breach,
            decided_on: today,
        },
        "Privacy Officer",
        None,
        "system:test",
        today,
    )
    .await
    .unwrap();
    tx.set_affected_counts(inc.id, 10, &[("CA", 10)], "system:test")
        .await
        .unwrap();
    tx.add_law_enforcement_delay(
        inc.id,
        &grc_store::NewDelay {
            delay: LawEnforcementDelay {
                form: StatementForm::Oral,
                stated_on: today,
                ends_on: None,
            },
            agency: "Police".into(),
            official: "Det. Smith".into(),
            notes: String::new(),
        },
        "system:test",
        today,
    )
    .await
    .unwrap();
    tx.record_breach_notification(
        inc.id,
        &grc_store::NewNotification {
            notification: Notification {
                recipient: Recipient::Individuals,
                jurisdiction: None,
                sent_on: today,
                method: NotificationMethod::FirstClassMail,
            },
            recipient_detail: String::new(),
            individuals: Some(10),
        },
        "system:test",
        today,
    )
    .await
    .unwrap();
    let entry = |what: &str| grc_store::AuditEntry {
        actor: grc_domain::audit::Actor::System("test".into()),
        action: format!("incidents.{what}"),
        subject_type: "Tenant".into(),
        subject_id: f.tenant.id.to_string(),
        change: serde_json::json!({}),
    };
    tx.send_ba_notice(
        inc.id,
        peer.tenant.id.0,
        &grc_store::NewBaNotice {
            notice_on: today,
            method: NotificationMethod::Platform,
            summary: "Stolen laptop with your patients' records".into(),
            affected_total: Some(10),
        },
        "system:test",
        entry("notice"),
        today,
    )
    .await
    .unwrap();
    tx.append_audit(entry("populate")).await.unwrap();
    tx.commit().await.unwrap();
}

/// The rows of other tenants the row-level security policies admit into tenant `a`'s
/// transactions, per table, by the rules of docs/SHARING.md written out independently (as the
/// superuser sees the tables). `None`: no row of another tenant is ever admitted.
fn admitted(t: &str, a: &str) -> Option<String> {
    let live = |kind_rule: &str| {
        format!(
            "EXISTS (SELECT 1 FROM share_grants g WHERE g.tenant_id = x.tenant_id AND g.grantee_tenant_id = '{a}'
               AND g.revoked_at IS NULL AND (g.expires_at IS NULL OR g.expires_at > now())
               AND EXISTS (SELECT 1 FROM connections c WHERE c.status = 'active'
                 AND c.tenant_id = g.connection_tenant_id AND c.id = g.connection_id)
               AND ({kind_rule}))"
        )
    };
    let connected = format!(
        "EXISTS (SELECT 1 FROM connections c WHERE c.status = 'active' AND ((c.tenant_id = x.tenant_id AND c.provider_tenant_id = '{a}') OR (c.tenant_id = '{a}' AND c.provider_tenant_id = x.tenant_id)))"
    );
    let cert = |col: &str| {
        live(&format!(
            "(g.artifact_kind = 'certificate' AND g.artifact_id = x.{col}) OR g.artifact_kind = 'all-iso-certificates'"
        ))
    };
    Some(match t {
        "connections" => format!("x.provider_tenant_id = '{a}'"),
        "share_listings" | "ndas" | "nda_versions" => connected,
        "nda_acceptances" | "share_grants" | "access_receipts" => {
            format!("x.grantee_tenant_id = '{a}'")
        }
        "access_requests" => format!("x.requester_tenant_id = '{a}'"),
        "access_request_events" => format!(
            "EXISTS (SELECT 1 FROM access_requests r WHERE r.tenant_id = x.tenant_id AND r.id = x.request_id AND r.requester_tenant_id = '{a}')"
        ),
        "certificates" => cert("id"),
        "certificate_audits" | "certificate_decisions" => cert("certificate_id"),
        "attestations" => live("g.artifact_kind = 'attestation' AND g.artifact_id = x.id"),
        "baas" => live("g.artifact_kind = 'baa' AND g.artifact_id = x.id"),
        "soa_versions" => live("g.artifact_kind = 'soa-summary' AND g.artifact_id = x.isms_id"),
        "isms" => live("g.artifact_kind = 'soa-summary' AND g.artifact_id = x.id"),
        // Documents: only those a live document grant's artifact holds (none here: the
        // populated certificates carry no document), behind an accepted NDA.
        "evidence" => live(
            "g.access = 'document' AND g.artifact_kind IN ('certificate', 'all-iso-certificates') AND EXISTS (SELECT 1 FROM certificates c WHERE c.tenant_id = x.tenant_id AND c.document_id = x.id AND (g.artifact_id IS NULL OR c.id = g.artifact_id))",
        ),
        _ => return None,
    })
}

/// A framework of the tenant's own with one control, a link from it to ISO A.5.1, a review of
/// a derived link, and licensed text on A.5.1: one row in each tenant-owned catalog table.
async fn populate_catalog_tables(app: &TestApp, token: &str) {
    let created = app
        .gql(
            token,
            None,
            r#"mutation { createFramework(input: {key: "contract", name: "Contract schedule", version: "1",
                 controls: [{ref: "S-1", title: "Encrypt backups"}]}) {
                 framework { control(ref: "S-1") { id } } userErrors { message } } }"#,
            serde_json::json!({}),
        )
        .await;
    let own = created.data()["createFramework"]["framework"]["control"]["id"].clone();
    let iso = app
        .gql(
            token,
            None,
            r#"{ framework(key: "iso27001-2022") { control(ref: "A.5.1") { id
                 mappings(toFramework: "hipaa-sr") { hops { mapping { id } } } } } }"#,
            serde_json::json!({}),
        )
        .await;
    let control = &iso.data()["framework"]["control"];
    let derived = control["mappings"][0]["hops"][0]["mapping"]["id"].clone();
    let r = app
        .gql(
            token,
            None,
            r#"mutation($own: ID!, $iso: ID!, $link: ID!) {
                 a: addMapping(input: {sourceControlId: $own, targetControlId: $iso, relationship: SUBSET_OF}) { userErrors { message } }
                 b: confirmMapping(input: {mappingId: $link}) { userErrors { message } }
                 c: setLicensedText(input: {controlId: $iso, text: "licensed wording"}) { userErrors { message } } }"#,
            serde_json::json!({ "own": own, "iso": control["id"], "link": derived }),
        )
        .await;
    for m in ["a", "b", "c"] {
        assert_eq!(
            r.data()[m]["userErrors"],
            serde_json::json!([]),
            "{:?}",
            r.body
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_role_sees_only_its_tenant() {
    let app = TestApp::spawn(Backend::Postgres).await;
    let a = app
        .tenant("alpha", &[("owner", Role::Owner), ("viewer", Role::Viewer)])
        .await;
    let b = app.tenant("bravo", &[("owner", Role::Owner)]).await;
    let key = app
        .gql(
            b.token("owner"),
            None,
            "mutation { createApiKey(input: {name: \"k\", role: VIEWER}) { secret } }",
            serde_json::json!({}),
        )
        .await;
    assert!(
        key.data()["createApiKey"]["secret"].is_string(),
        "{:?}",
        key.body
    );

    // Both tenants write a row into every catalog table of their own.
    for t in [&a, &b] {
        populate_catalog_tables(&app, t.token("owner")).await;
        // One row in each ISMS table (each feature's test module knows its own).
        super::isms::populate(&app, t.token("owner")).await;
        super::evidence::populate(&app, t.token("owner")).await;
        super::records::populate(&app, t.token("owner")).await;
        super::audits::populate(&app, t.token("owner")).await;
        super::vendors::populate(&app, t.token("owner")).await;
        super::certificates::populate(&app, t.token("owner")).await;
    }
    // And sharing, both ways.
    populate_sharing(&app, &a, &b).await;
    // Reminders and notifications, through the store.
    for t in [&a, &b] {
        populate_reminders(&app, t).await;
    }
    // Incidents, through the store, with a business associate's notice each way.
    populate_incidents(&app, &a, &b).await;
    populate_incidents(&app, &b, &a).await;

    // A second link between the same two controls, the other way round, is refused by the
    // database itself (the API refuses it first; this is the backstop for concurrent requests).
    let err = app
        .db
        .admin
        .execute_unprepared(
            "INSERT INTO tenant_mappings (tenant_id, id, source_catalog_control, source_custom_control,
               target_catalog_control, target_custom_control, relationship, created_by, created_at)
             SELECT tenant_id, gen_random_uuid(), target_catalog_control, NULL, NULL,
               source_custom_control, 'superset-of', 'test', now()
             FROM tenant_mappings LIMIT 1",
        )
        .await
        .expect_err("a reversed duplicate link must be refused");
    assert!(err.to_string().contains("tenant_mappings_ends"), "{err}");

    // The superuser sees both tenants' rows.
    for t in tenant_owned_tables() {
        let n = count(
            &app.db.admin,
            &format!("SELECT count(DISTINCT tenant_id) FROM {t}"),
        )
        .await;
        let expected = if t == "api_keys" { 1 } else { 2 };
        assert_eq!(n, expected, "{t} as superuser");
    }

    // The application role, outside a tenant transaction, sees nothing.
    let app_conn = Database::connect(app.db.settings.effective_database_url())
        .await
        .unwrap();
    for t in tenant_owned_tables() {
        assert_eq!(
            count(&app_conn, &format!("SELECT count(*) FROM {t}")).await,
            0,
            "{t} outside a tenant"
        );
        let tx = app_conn.begin().await.unwrap();
        assert_eq!(
            count(&tx, &format!("SELECT count(*) FROM {t}")).await,
            0,
            "{t} in a plain transaction"
        );
        tx.rollback().await.unwrap();
    }

    // Inside A's transaction, only A's rows, even with no tenant predicate at all.
    let tx = app
        .store
        .tenant_tx(TenantScope::new(a.tenant.id))
        .await
        .unwrap();
    let conn = tx.raw_connection();
    let a_id = a.tenant.id.to_string();
    // Other tenants' rows: exactly those a peer or grantee policy admits (sharing), which the
    // superuser counts by the rules written out independently; none anywhere else.
    for t in tenant_owned_tables() {
        let foreign = count(
            conn,
            &format!("SELECT count(*) FROM {t} WHERE tenant_id <> '{a_id}'"),
        )
        .await;
        match admitted(t, &a_id) {
            None => assert_eq!(foreign, 0, "{t}: A's transaction sees other tenants' rows"),
            Some(rule) => {
                let expected = count(
                    &app.db.admin,
                    &format!(
                        "SELECT count(*) FROM {t} x WHERE x.tenant_id <> '{a_id}' AND ({rule})"
                    ),
                )
                .await;
                assert_eq!(
                    foreign, expected,
                    "{t}: A sees other tenants' rows beyond what is shared"
                );
                // Shared rows are there to be seen (the check above is not vacuous), except
                // documents (none were shared).
                if t != "evidence" {
                    assert!(expected > 0, "{t}: nothing shared with A to check");
                }
            }
        }
    }
    // A peer may take only its own step: a grantee cannot widen a grant it received, a
    // requester cannot record an approval of its own request. Each refusal aborts its
    // transaction, so each is tried in a fresh one.
    drop(tx);
    for (sql, refusal) in [
        (
            format!("UPDATE share_grants SET access = 'document' WHERE grantee_tenant_id = '{a_id}'"),
            "only its own step",
        ),
        (
            format!(
                "INSERT INTO access_request_events (tenant_id, request_id, seq, action, actor_tenant_id, actor, detail, occurred_at)
                 SELECT tenant_id, id, 99, 'approved', '{a_id}', 'user:x', '{{}}', now()
                 FROM access_requests WHERE requester_tenant_id = '{a_id}' LIMIT 1"
            ),
            "row-level security",
        ),
    ] {
        let tx = app
            .store
            .tenant_tx(TenantScope::new(a.tenant.id))
            .await
            .unwrap();
        let err = tx
            .raw_connection()
            .execute_unprepared(&sql)
            .await
            .expect_err("a peer's step beyond its own must be refused");
        assert!(err.to_string().contains(refusal), "{sql}: {err}");
    }
    let tx = app
        .store
        .tenant_tx(TenantScope::new(a.tenant.id))
        .await
        .unwrap();
    let conn = tx.raw_connection();
    assert_eq!(count(conn, "SELECT count(*) FROM memberships").await, 2);
    assert!(count(conn, "SELECT count(*) FROM audit_events").await >= 3);
    // Writing a row for B from A's transaction is refused by the policy's WITH CHECK.
    let b_user = b.user_ids["owner"];
    let err = conn
        .execute_unprepared(&format!(
            "INSERT INTO memberships (tenant_id, user_id, role, created_at, updated_at) VALUES ('{}', '{b_user}', 'viewer', now(), now())",
            b.tenant.id
        ))
        .await
        .expect_err("cross-tenant insert must fail");
    assert!(err.to_string().contains("row-level security"), "{err}");
    drop(tx);

    // A user-scoped transaction sees that user's memberships and nothing else.
    let utx = app_conn.begin().await.unwrap();
    utx.execute_unprepared(&format!(
        "SELECT set_config('app.user_id', '{}', true)",
        a.user_ids["viewer"]
    ))
    .await
    .unwrap();
    assert_eq!(count(&utx, "SELECT count(*) FROM memberships").await, 1);
    assert_eq!(count(&utx, "SELECT count(*) FROM audit_events").await, 0);
    assert_eq!(count(&utx, "SELECT count(*) FROM api_keys").await, 0);
    utx.rollback().await.unwrap();

    // The authentication shortcut scopes only its own statement: on the same connection, the
    // next statement sees nothing again.
    let mut one = sea_orm::ConnectOptions::new(app.db.settings.effective_database_url());
    one.max_connections(1).min_connections(1);
    let one = Database::connect(one).await.unwrap();
    let viewer = a.user_ids["viewer"];
    assert_eq!(
        count(
            &one,
            &format!("SELECT count(*) FROM grc_user_memberships('{viewer}')")
        )
        .await,
        1
    );
    assert_eq!(count(&one, "SELECT count(*) FROM memberships").await, 0);
    assert_eq!(count(&one, "SELECT count(*) FROM audit_events").await, 0);

    // Audit events are insert-only for the application role.
    let tx = app
        .store
        .tenant_tx(TenantScope::new(a.tenant.id))
        .await
        .unwrap();
    let err = tx
        .raw_connection()
        .execute_unprepared("UPDATE audit_events SET action = 'x'")
        .await
        .expect_err("update must be refused");
    assert!(err.to_string().contains("permission denied"), "{err}");
    drop(tx);
    let tx = app
        .store
        .tenant_tx(TenantScope::new(a.tenant.id))
        .await
        .unwrap();
    let err = tx
        .raw_connection()
        .execute_unprepared("DELETE FROM audit_events")
        .await
        .expect_err("delete must be refused");
    assert!(err.to_string().contains("permission denied"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_keeps_the_tenancy_rules() {
    let db = TestDb::new(Backend::Postgres).await;
    // Every table with a tenant_id column is in the tenant-owned list, and vice versa.
    let rows = db
        .admin
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT table_name::text FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'tenant_id' ORDER BY 1",
        ))
        .await
        .unwrap();
    let mut with_tenant: Vec<String> = rows
        .iter()
        .map(|r| r.try_get_by_index(0).unwrap())
        .collect();
    let mut listed: Vec<String> = tenant_owned_tables()
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    with_tenant.sort();
    listed.sort();
    assert_eq!(with_tenant, listed);
    for t in tenant_owned_tables() {
        // Row-level security is enabled and forced.
        let on = count(&db.admin, &format!("SELECT count(*) FROM pg_class WHERE relname = '{t}' AND relrowsecurity AND relforcerowsecurity")).await;
        assert_eq!(on, 1, "{t}: RLS not enabled and forced");
        let policies = count(
            &db.admin,
            &format!("SELECT count(*) FROM pg_policies WHERE tablename = '{t}'"),
        )
        .await;
        assert!(policies >= 1, "{t}: no policy");
        // tenant_id leads the primary key and every unique constraint.
        let bad_keys = count(
            &db.admin,
            &format!(
                "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
                 JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0]
                 WHERE c.relname = '{t}' AND (i.indisprimary OR i.indisunique) AND a.attname <> 'tenant_id'"
            ),
        )
        .await;
        assert_eq!(bad_keys, 0, "{t}: a key does not start with tenant_id");
    }
    // The application role owns nothing, is no superuser and cannot bypass RLS.
    assert_eq!(count(&db.admin, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = 'grc_test_app'").await, 0);
    assert_eq!(count(&db.admin, "SELECT count(*) FROM pg_roles WHERE rolname = 'grc_test_app' AND (rolsuper OR rolbypassrls)").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_refuses_a_role_that_bypasses_rls() {
    let mut db = TestDb::new(Backend::Postgres).await;
    // Point the server at the superuser.
    let owner_url = db.settings.migration_database_url.clone().unwrap();
    let su = url::Url::parse(owner_url.expose_secret()).unwrap();
    let mut su_url = url::Url::parse(&grc_e2e::pg_admin_url()).unwrap();
    su_url.set_path(su.path());
    db.settings.database_url = Some(su_url.to_string().into());
    db.settings.migration_database_url = None;
    let err = grc_api::open_store(&db.settings)
        .await
        .expect_err("superuser must be refused");
    assert!(
        err.to_string().contains("bypasses row-level security"),
        "{err}"
    );
    db.settings.allow_rls_bypass = true;
    assert!(grc_api::open_store(&db.settings).await.is_ok());
}
