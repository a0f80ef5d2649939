//! The audit chain: every mutation writes one event in its transaction; edits, deletions and
//! reorders made behind the application's back are caught by verification.

use grc_domain::audit::{ChainBreak, ChainSummary};
use grc_domain::tenancy::Role;
use grc_e2e::{Backend, TestApp, both_backends};
use sea_orm::ConnectionTrait;
use serde_json::json;

both_backends! {
    mutations_write_one_event_each => mutations_audited;
    verification_catches_tampering => tampering;
}

async fn events(app: &TestApp, token: &str) -> Vec<serde_json::Value> {
    let r = app
        .gql(token, None, "{ auditEvents(first: 100) { totalCount edges { node { seq action actor subjectType subjectId change prevHash hash } } } }", json!({}))
        .await;
    r.data()["auditEvents"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{:?}", r.body))
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

async fn mutations_audited(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app.tenant("alpha", &[("owner", Role::Owner)]).await;
    let owner = a.token("owner");
    let owner_id = a.user_ids["owner"];
    let before = events(&app, owner).await.len();

    let r = app
        .gql(owner, None, "mutation { addMember(input: {email: \"New.Person@Alpha.test\", role: CONTRIBUTOR}) { membership { user { id email } role } userErrors { code } } }", json!({}))
        .await;
    assert_eq!(
        r.data()["addMember"]["membership"]["user"]["email"],
        "new.person@alpha.test",
        "{:?}",
        r.body
    );
    let new_user = r.data()["addMember"]["membership"]["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let all = events(&app, owner).await;
    assert_eq!(all.len(), before + 1);
    let last = all.last().unwrap();
    assert_eq!(last["action"], "member.add");
    assert_eq!(last["actor"], format!("user:{owner_id}"));
    assert_eq!(
        last["change"],
        json!({ "email": "new.person@alpha.test", "role": "contributor" })
    );
    assert_eq!(last["prevHash"], all[all.len() - 2]["hash"]);

    // A refused mutation (a duplicate member) writes nothing.
    let r = app
        .gql(owner, None, "mutation { addMember(input: {email: \"new.person@alpha.test\", role: VIEWER}) { membership { role } userErrors { field code } } }", json!({}))
        .await;
    assert_eq!(
        r.data()["addMember"]["userErrors"][0]["code"],
        "CONFLICT",
        "{:?}",
        r.body
    );
    assert_eq!(events(&app, owner).await.len(), before + 1);

    let r = app
        .gql(owner, None, "mutation($u: ID!) { changeMemberRole(input: {userId: $u, role: AUDITOR}) { membership { role } userErrors { code } } }", json!({ "u": new_user }))
        .await;
    assert_eq!(
        r.data()["changeMemberRole"]["membership"]["role"],
        "AUDITOR",
        "{:?}",
        r.body
    );
    let r = app
        .gql(owner, None, "mutation($u: ID!) { removeMember(input: {userId: $u}) { removedUserId userErrors { code } } }", json!({ "u": new_user }))
        .await;
    assert_eq!(
        r.data()["removeMember"]["removedUserId"],
        json!(new_user),
        "{:?}",
        r.body
    );
    let all = events(&app, owner).await;
    let actions: Vec<&str> = all[before..]
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["member.add", "member.change_role", "member.remove"]
    );
    assert_eq!(
        all[before + 1]["change"],
        json!({ "from": "contributor", "to": "auditor" })
    );
    let seqs: Vec<i64> = all.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(
        seqs,
        (1..=i64::try_from(all.len()).unwrap()).collect::<Vec<_>>()
    );

    let v = app
        .store
        .verify_audit(Some(vec![a.tenant.id]))
        .await
        .unwrap();
    assert_eq!(v[0].result.as_ref().map(|s| s.events), Ok(all.len() as u64));
}

async fn tamper(app: &TestApp, sql: &str) {
    app.db
        .admin
        .execute_unprepared(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

const ALPHA: &str = "(SELECT id FROM tenants WHERE slug = 'alpha')";

/// A fresh server with tenants alpha (four audit events: the tenant, three members) and bravo;
/// runs the raw SQL against alpha's events behind the application's back and verifies alpha.
async fn tampered(
    backend: Backend,
    statements: &[&str],
) -> (TestApp, Result<ChainSummary, ChainBreak>) {
    let app = TestApp::spawn(backend).await;
    let a = app
        .tenant(
            "alpha",
            &[
                ("owner", Role::Owner),
                ("b", Role::Viewer),
                ("c", Role::Viewer),
            ],
        )
        .await;
    app.tenant("bravo", &[("owner", Role::Owner)]).await;
    let before = app.store.verify_audit(None).await.unwrap();
    assert!(before.iter().all(|v| v.result.is_ok()), "{before:?}");
    for sql in statements {
        let sql = sql.replace("{ALPHA}", ALPHA);
        tamper(&app, &sql).await;
    }
    let v = app
        .store
        .verify_audit(Some(vec![a.tenant.id]))
        .await
        .unwrap();
    let result = v[0].result.clone();
    (app, result)
}

async fn tampering(backend: Backend) {
    // Edited; the other tenant's chain is untouched and still verifies.
    let (app, r) = tampered(
        backend,
        &["UPDATE audit_events SET actor = 'user:someone-else' WHERE tenant_id = {ALPHA} AND seq = 3"],
    )
    .await;
    assert_eq!(r, Err(ChainBreak::HashMismatch { seq: 3 }));
    let all = app.store.verify_audit(None).await.unwrap();
    assert_eq!(all.iter().filter(|v| v.result.is_ok()).count(), 1);

    // The change itself edited.
    let (_, r) = tampered(
        backend,
        &["UPDATE audit_events SET change = '{\"role\":\"owner\"}' WHERE tenant_id = {ALPHA} AND seq = 2"],
    )
    .await;
    assert_eq!(r, Err(ChainBreak::ChangeEdited { seq: 2 }));

    // Deleted in the middle, and at the end.
    let (_, r) = tampered(
        backend,
        &["DELETE FROM audit_events WHERE tenant_id = {ALPHA} AND seq = 2"],
    )
    .await;
    assert_eq!(
        r,
        Err(ChainBreak::Gap {
            previous: 1,
            found: 3
        })
    );
    let (_, r) = tampered(
        backend,
        &["DELETE FROM audit_events WHERE tenant_id = {ALPHA} AND seq = 4"],
    )
    .await;
    assert_eq!(r, Err(ChainBreak::HeadMismatch { last: 3, head: 4 }));

    // Reordered: events 2 and 3 swap places.
    let (_, r) = tampered(
        backend,
        &[
            "UPDATE audit_events SET seq = 1000002 WHERE tenant_id = {ALPHA} AND seq = 2",
            "UPDATE audit_events SET seq = 2 WHERE tenant_id = {ALPHA} AND seq = 3",
            "UPDATE audit_events SET seq = 3 WHERE tenant_id = {ALPHA} AND seq = 1000002",
        ],
    )
    .await;
    assert!(
        matches!(
            r,
            Err(ChainBreak::BrokenLink { seq: 2 } | ChainBreak::HashMismatch { seq: 2 })
        ),
        "{r:?}"
    );
}
