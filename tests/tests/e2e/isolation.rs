//! A member of tenant A cannot read or change anything of tenant B, through any operation.

use grc_domain::tenancy::Role;
use grc_e2e::{Backend, TestApp, both_backends};
use serde_json::{Value, json};

both_backends! {
    tenant_a_cannot_see_or_change_tenant_b => cross_tenant;
    x_tenant_for_a_foreign_tenant_is_unauthenticated => foreign_x_tenant;
    nodes_resolve_own_objects_and_null_foreign_ones => mixed_nodes;
}

async fn mixed_nodes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app
        .tenant("alpha", &[("owner", Role::Owner), ("viewer", Role::Viewer)])
        .await;
    let b = app.tenant("bravo", &[("owner", Role::Owner)]).await;
    app.gql(
        a.token("owner"),
        None,
        "mutation { createApiKey(input: {name: \"a\", role: VIEWER}) { secret } }",
        json!({}),
    )
    .await;
    let own = app.gql(a.token("owner"), None, B_OBJECTS, json!({})).await;
    let foreign = app
        .gql(b.token("owner"), None, "{ tenant { id } }", json!({}))
        .await;
    let d = own.data();
    let ids = json!([
        d["tenant"]["id"],
        d["members"]["edges"][1]["node"]["id"],
        d["members"]["edges"][1]["node"]["user"]["id"],
        foreign.data()["tenant"]["id"],
        d["apiKeys"]["edges"][0]["node"]["id"],
        "not-an-id",
        d["auditEvents"]["edges"][0]["node"]["id"],
    ]);
    let r = app
        .gql(
            a.token("owner"),
            None,
            "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }",
            json!({ "ids": ids }),
        )
        .await;
    let types: Vec<Value> = r.data()["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{:?}", r.body))
        .iter()
        .map(|n| n["__typename"].clone())
        .collect();
    assert_eq!(
        types,
        [
            json!("Tenant"),
            json!("Membership"),
            json!("User"),
            Value::Null,
            json!("ApiKey"),
            Value::Null,
            json!("AuditEvent")
        ]
    );
    for (i, n) in r.data()["nodes"].as_array().unwrap().iter().enumerate() {
        if !n.is_null() {
            assert_eq!(n["id"], ids[i]);
        }
    }
    // A viewer of the same tenant: members and the tenant, but keys and audit events are
    // refused by role (FORBIDDEN), not hidden.
    let r = app
        .gql(
            a.token("viewer"),
            None,
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": [ids[0].clone(), ids[1].clone()] }),
        )
        .await;
    assert_eq!(
        r.data()["nodes"],
        json!([{ "id": ids[0] }, { "id": ids[1] }]),
        "{:?}",
        r.body
    );
    let r = app
        .gql(
            a.token("viewer"),
            None,
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": ids[4] }),
        )
        .await;
    assert_eq!(r.code(), Some("FORBIDDEN"), "{:?}", r.body);
}

const B_OBJECTS: &str = "{ tenant { id } members { edges { node { id user { id } } } }
  apiKeys { edges { node { id } } } auditEvents(last: 1) { edges { node { id } } } }";

async fn cross_tenant(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app
        .tenant(
            "alpha",
            &[("owner", Role::Owner), ("auditor", Role::Auditor)],
        )
        .await;
    let b = app
        .tenant(
            "bravo",
            &[("owner", Role::Owner), ("member", Role::Contributor)],
        )
        .await;

    // B's owner creates an API key, so B has one of everything.
    let created = app
        .gql(b.token("owner"), None, "mutation { createApiKey(input: {name: \"ci\", role: VIEWER}) { apiKey { id } secret userErrors { code } } }", json!({}))
        .await;
    assert_eq!(
        created.data()["createApiKey"]["userErrors"],
        json!([]),
        "{:?}",
        created.body
    );
    let b_objects = app.gql(b.token("owner"), None, B_OBJECTS, json!({})).await;
    let d = b_objects.data();
    let b_ids: Vec<String> = [
        d["tenant"]["id"].clone(),
        d["members"]["edges"][0]["node"]["id"].clone(),
        d["members"]["edges"][0]["node"]["user"]["id"].clone(),
        d["members"]["edges"][1]["node"]["user"]["id"].clone(),
        d["apiKeys"]["edges"][0]["node"]["id"].clone(),
        d["auditEvents"]["edges"][0]["node"]["id"].clone(),
    ]
    .iter()
    .map(|v| {
        v.as_str()
            .unwrap_or_else(|| panic!("missing id in {d}"))
            .to_owned()
    })
    .collect();
    let b_member = b_ids[3].clone();
    let b_key = b_ids[4].clone();
    let b_audit_before = app
        .db
        .store()
        .await
        .verify_audit(Some(vec![b.tenant.id]))
        .await
        .unwrap();

    for who in ["owner", "auditor"] {
        let token = a.token(who);
        // node(id:) with each of B's ids is null, and so is nodes(ids:).
        for id in &b_ids {
            let r = app
                .gql(
                    token,
                    None,
                    "query($id: ID!) { node(id: $id) { id } }",
                    json!({ "id": id }),
                )
                .await;
            assert_eq!(r.status, 200);
            assert_eq!(
                r.data()["node"],
                Value::Null,
                "{who} saw B's {id}: {:?}",
                r.body
            );
        }
        let r = app
            .gql(
                token,
                None,
                "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
                json!({ "ids": b_ids }),
            )
            .await;
        assert_eq!(
            r.data()["nodes"],
            json!([null, null, null, null, null, null]),
            "{:?}",
            r.body
        );
        // A's lists hold only A's things.
        let r = app.gql(token, None, B_OBJECTS, json!({})).await;
        let own = serde_json::to_string(r.data()).unwrap();
        for id in &b_ids {
            assert!(!own.contains(id.as_str()), "{who}'s lists show B's {id}");
        }
    }

    // Mutations on B's objects fail with NOT_FOUND and change nothing.
    let owner = a.token("owner");
    let r = app
        .gql(owner, None, "mutation($u: ID!) { changeMemberRole(input: {userId: $u, role: OWNER}) { membership { id } userErrors { field code } } }", json!({ "u": b_member }))
        .await;
    assert_eq!(
        r.data()["changeMemberRole"]["userErrors"][0]["code"],
        "NOT_FOUND",
        "{:?}",
        r.body
    );
    assert_eq!(r.data()["changeMemberRole"]["membership"], Value::Null);
    let r = app
        .gql(owner, None, "mutation($u: ID!) { removeMember(input: {userId: $u}) { removedUserId userErrors { code } } }", json!({ "u": b_member }))
        .await;
    assert_eq!(
        r.data()["removeMember"]["userErrors"][0]["code"],
        "NOT_FOUND",
        "{:?}",
        r.body
    );
    let r = app
        .gql(owner, None, "mutation($k: ID!) { revokeApiKey(input: {id: $k}) { apiKey { id } userErrors { code } } }", json!({ "k": b_key }))
        .await;
    assert_eq!(
        r.data()["revokeApiKey"]["userErrors"][0]["code"],
        "NOT_FOUND",
        "{:?}",
        r.body
    );

    // B is as it was: same members, roles, key, and audit chain.
    let after = app
        .gql(
            b.token("owner"),
            None,
            "{ members { edges { node { role } } } apiKeys { edges { node { revoked } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        after.data()["members"]["edges"].as_array().unwrap().len(),
        2
    );
    assert_eq!(
        after.data()["members"]["edges"][1]["node"]["role"],
        "CONTRIBUTOR"
    );
    assert_eq!(
        after.data()["apiKeys"]["edges"][0]["node"]["revoked"],
        false
    );
    let b_audit_after = app
        .db
        .store()
        .await
        .verify_audit(Some(vec![b.tenant.id]))
        .await
        .unwrap();
    assert_eq!(b_audit_before, b_audit_after);
}

async fn foreign_x_tenant(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app.tenant("alpha", &[("owner", Role::Owner)]).await;
    app.tenant("bravo", &[("owner", Role::Owner)]).await;
    for slug in ["bravo", "nonexistent", "BAD SLUG"] {
        let r = app
            .gql(
                a.token("owner"),
                Some(slug),
                "{ viewer { user { email } } }",
                json!({}),
            )
            .await;
        assert_eq!(r.status, 401, "X-Tenant {slug}: {:?}", r.body);
        assert_eq!(r.code(), Some("UNAUTHENTICATED"));
        assert_eq!(r.body["errors"][0]["message"], "authentication required");
    }
    let r = app
        .gql(
            a.token("owner"),
            Some("alpha"),
            "{ tenant { slug } }",
            json!({}),
        )
        .await;
    assert_eq!(r.data()["tenant"]["slug"], "alpha");
}
