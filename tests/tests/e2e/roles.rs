//! The role × operation matrix through the API, the membership rules, API keys, and Relay
//! pagination.

use grc_domain::tenancy::Role;
use grc_e2e::{Answer, Backend, Fixture, TestApp, both_backends};
use serde_json::{Value, json};

both_backends! {
    every_role_gets_exactly_its_operations => role_matrix;
    membership_rules_hold => membership_rules;
    api_keys_authenticate_and_revoke => api_keys;
    members_page_both_ways => pagination;
    platform_operators_create_tenants => create_tenant;
}

const ROLES: [(&str, Role); 5] = [
    ("owner", Role::Owner),
    ("manager", Role::ComplianceManager),
    ("contributor", Role::Contributor),
    ("auditor", Role::Auditor),
    ("viewer", Role::Viewer),
];

async fn counts(app: &TestApp, f: &Fixture) -> (u64, u64, u64) {
    let tx = app
        .store
        .tenant_tx(grc_store::TenantScope::new(f.tenant.id))
        .await
        .unwrap();
    let c = (
        tx.member_count().await.unwrap(),
        tx.api_key_count().await.unwrap(),
        tx.audit_event_count().await.unwrap(),
    );
    tx.commit().await.unwrap();
    c
}

fn user_gid(f: &Fixture, who: &str) -> String {
    grc_e2e::global_id("User", f.user_ids[who])
}

async fn role_matrix(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.tenant("alpha", &ROLES).await;
    // An owner's key to aim revocations at.
    let key = app
        .gql(
            f.token("owner"),
            None,
            "mutation { createApiKey(input: {name: \"target\", role: VIEWER}) { apiKey { id } } }",
            json!({}),
        )
        .await;
    let key_id = key.data()["createApiKey"]["apiKey"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let target = user_gid(&f, "viewer");

    let reads: [(&str, &str, &[&str]); 4] = [
        (
            "tenant",
            "{ tenant { slug } }",
            &["owner", "manager", "contributor", "auditor", "viewer"],
        ),
        (
            "members",
            "{ members { totalCount } }",
            &["owner", "manager", "contributor", "auditor", "viewer"],
        ),
        (
            "auditEvents",
            "{ auditEvents { totalCount } }",
            &["owner", "auditor"],
        ),
        (
            "apiKeys",
            "{ apiKeys { totalCount } }",
            &["owner", "auditor"],
        ),
    ];
    for (field, query, allowed) in reads {
        for (who, _) in ROLES {
            let r = app.gql(f.token(who), None, query, json!({})).await;
            assert_eq!(r.status, 200);
            if allowed.contains(&who) {
                assert!(
                    r.body.get("errors").is_none(),
                    "{who} {field}: {:?}",
                    r.body
                );
                assert!(!r.data()[field].is_null());
            } else {
                assert_eq!(r.code(), Some("FORBIDDEN"), "{who} {field}: {:?}", r.body);
                assert!(r.data().is_null() || r.data()[field].is_null());
            }
        }
    }

    let writes = [
        ("addMember", "mutation { addMember(input: {email: \"x@alpha.test\", role: VIEWER}) { userErrors { code } } }".to_owned()),
        ("changeMemberRole", format!("mutation {{ changeMemberRole(input: {{userId: \"{target}\", role: AUDITOR}}) {{ userErrors {{ code }} }} }}")),
        ("removeMember", format!("mutation {{ removeMember(input: {{userId: \"{target}\"}}) {{ userErrors {{ code }} }} }}")),
        ("createApiKey", "mutation { createApiKey(input: {name: \"k\", role: VIEWER}) { userErrors { code } } }".to_owned()),
        ("revokeApiKey", format!("mutation {{ revokeApiKey(input: {{id: \"{key_id}\"}}) {{ userErrors {{ code }} }} }}")),
    ];
    let before = counts(&app, &f).await;
    for (name, m) in &writes {
        for (who, _) in ROLES.iter().filter(|(w, _)| *w != "owner") {
            let r = app.gql(f.token(who), None, m, json!({})).await;
            assert_eq!(r.code(), Some("FORBIDDEN"), "{who} {name}: {:?}", r.body);
        }
    }
    assert_eq!(
        counts(&app, &f).await,
        before,
        "refused writes changed something"
    );
    // The owner may do each of them.
    for (name, m) in &writes {
        let r = app.gql(f.token("owner"), None, m, json!({})).await;
        assert!(r.body.get("errors").is_none(), "owner {name}: {:?}", r.body);
        assert_eq!(
            r.data()[*name]["userErrors"],
            json!([]),
            "owner {name}: {:?}",
            r.body
        );
    }
}

fn user_errors(r: &Answer, field: &str) -> Value {
    r.data()[field]["userErrors"].clone()
}

async fn membership_rules(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app
        .tenant("alpha", &[("owner", Role::Owner), ("second", Role::Viewer)])
        .await;
    let owner = f.token("owner");
    let me = user_gid(&f, "owner");
    let change = "mutation($u: ID!, $r: Role!) { changeMemberRole(input: {userId: $u, role: $r}) { membership { role } userErrors { field code message } } }";
    let remove = "mutation($u: ID!) { removeMember(input: {userId: $u}) { removedUserId userErrors { field code } } }";
    let before = counts(&app, &f).await;

    // The last owner can be neither demoted nor removed.
    let r = app
        .gql(owner, None, change, json!({ "u": me, "r": "VIEWER" }))
        .await;
    assert_eq!(
        user_errors(&r, "changeMemberRole")[0]["code"],
        "CONFLICT",
        "{:?}",
        r.body
    );
    assert_eq!(
        user_errors(&r, "changeMemberRole")[0]["field"],
        json!(["input", "role"])
    );
    let r = app.gql(owner, None, remove, json!({ "u": me })).await;
    assert_eq!(
        user_errors(&r, "removeMember")[0]["code"],
        "CONFLICT",
        "{:?}",
        r.body
    );
    // Bad input and unknown members change nothing.
    let r = app
        .gql(owner, None, "mutation { addMember(input: {email: \"nope\", role: VIEWER}) { membership { role } userErrors { field code } } }", json!({}))
        .await;
    assert_eq!(
        user_errors(&r, "addMember"),
        json!([{ "field": ["input", "email"], "code": "BAD_USER_INPUT" }])
    );
    let r = app
        .gql(owner, None, "mutation { createApiKey(input: {name: \"  \", role: VIEWER}) { secret userErrors { field code } } }", json!({}))
        .await;
    assert_eq!(
        user_errors(&r, "createApiKey"),
        json!([{ "field": ["input", "name"], "code": "BAD_USER_INPUT" }])
    );
    assert_eq!(r.data()["createApiKey"]["secret"], Value::Null);
    // An id of the right shape for a user who is nobody's member.
    let stranger = grc_e2e::global_id("User", uuid::Uuid::now_v7());
    for bad in ["garbage", "VXNlcjo", stranger.as_str()] {
        let r = app.gql(owner, None, remove, json!({ "u": bad })).await;
        assert_eq!(
            user_errors(&r, "removeMember")[0]["code"],
            "NOT_FOUND",
            "{bad}: {:?}",
            r.body
        );
    }
    assert_eq!(counts(&app, &f).await, before);

    // With a second owner, the first may step down; then the second is the last.
    let second = user_gid(&f, "second");
    let r = app
        .gql(owner, None, change, json!({ "u": second, "r": "OWNER" }))
        .await;
    assert_eq!(
        r.data()["changeMemberRole"]["membership"]["role"],
        "OWNER",
        "{:?}",
        r.body
    );
    let r = app
        .gql(owner, None, change, json!({ "u": me, "r": "AUDITOR" }))
        .await;
    assert_eq!(
        r.data()["changeMemberRole"]["membership"]["role"],
        "AUDITOR",
        "{:?}",
        r.body
    );
    // The former owner's next request already has the new role.
    let r = app
        .gql(
            owner,
            None,
            "{ viewer { role } auditEvents(first: 1) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(r.data()["viewer"]["role"], "AUDITOR", "{:?}", r.body);
    let r = app
        .gql(f.token("second"), None, remove, json!({ "u": second }))
        .await;
    assert_eq!(user_errors(&r, "removeMember")[0]["code"], "CONFLICT");
    // Removal takes effect on the removed member's next request.
    let r = app
        .gql(f.token("second"), None, remove, json!({ "u": me }))
        .await;
    assert_eq!(user_errors(&r, "removeMember"), json!([]), "{:?}", r.body);
    let r = app
        .gql(
            owner,
            None,
            "{ viewer { memberships { role } } }",
            json!({}),
        )
        .await;
    assert_eq!(r.data()["viewer"]["memberships"], json!([]));
    let r = app
        .gql(owner, Some("alpha"), "{ tenant { slug } }", json!({}))
        .await;
    assert_eq!(r.status, 401);
}

async fn api_keys(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.tenant("alpha", &[("owner", Role::Owner)]).await;
    app.tenant("bravo", &[("owner", Role::Owner)]).await;
    let create = |role: &str| {
        format!(
            "mutation {{ createApiKey(input: {{name: \"{role} key\", role: {role}}}) {{ apiKey {{ id role revoked lastUsedAt }} secret userErrors {{ code }} }} }}"
        )
    };
    let r = app
        .gql(f.token("owner"), None, &create("VIEWER"), json!({}))
        .await;
    let viewer_key = r.data()["createApiKey"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let viewer_id = r.data()["createApiKey"]["apiKey"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(viewer_key.starts_with("grck_"));
    assert_eq!(
        r.data()["createApiKey"]["apiKey"]["lastUsedAt"],
        Value::Null
    );
    let r = app
        .gql(f.token("owner"), None, &create("OWNER"), json!({}))
        .await;
    let owner_key = r.data()["createApiKey"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let owner_key_id = r.data()["createApiKey"]["apiKey"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let r = app
        .gql(
            &viewer_key,
            None,
            "{ viewer { role user { id } apiKey { name } currentTenant { slug } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        r.data()["viewer"],
        json!({ "role": "VIEWER", "user": null, "apiKey": { "name": "VIEWER key" }, "currentTenant": { "slug": "alpha" } }),
        "{:?}",
        r.body
    );
    let r = app.gql(&viewer_key, None, "mutation { addMember(input: {email: \"k@alpha.test\", role: VIEWER}) { userErrors { code } } }", json!({})).await;
    assert_eq!(r.code(), Some("FORBIDDEN"));
    let r = app.gql(&owner_key, None, "mutation { addMember(input: {email: \"k@alpha.test\", role: VIEWER}) { userErrors { code } } }", json!({})).await;
    assert_eq!(
        r.data()["addMember"]["userErrors"],
        json!([]),
        "{:?}",
        r.body
    );
    let r = app.gql(f.token("owner"), None, "{ auditEvents(last: 1) { edges { node { action actor } } } apiKeys { edges { node { id lastUsedAt } } } }", json!({})).await;
    let last = &r.data()["auditEvents"]["edges"][0]["node"];
    assert_eq!(last["action"], "member.add");
    let owner_key_uuid = owner_key.split('_').nth(2).unwrap();
    assert_eq!(
        last["actor"].as_str().unwrap().replace('-', ""),
        format!("api_key:{owner_key_uuid}")
    );
    assert!(
        r.data()["apiKeys"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["node"]["lastUsedAt"].is_string()),
        "{:?}",
        r.body
    );
    // The list never shows a secret (the type has no such field).
    let r = app
        .gql(
            f.token("owner"),
            None,
            "{ apiKeys { edges { node { secret } } } }",
            json!({}),
        )
        .await;
    assert_eq!(r.status, 400);

    // A key belongs to one tenant.
    let r = app
        .gql(&viewer_key, Some("bravo"), "{ viewer { role } }", json!({}))
        .await;
    assert_eq!(r.status, 401);

    // Revocation applies at once; twice is a conflict.
    let revoke = "mutation($k: ID!) { revokeApiKey(input: {id: $k}) { apiKey { revoked } userErrors { code } } }";
    let r = app
        .gql(f.token("owner"), None, revoke, json!({ "k": viewer_id }))
        .await;
    assert_eq!(
        r.data()["revokeApiKey"]["apiKey"]["revoked"],
        true,
        "{:?}",
        r.body
    );
    let r = app
        .gql(&viewer_key, None, "{ viewer { role } }", json!({}))
        .await;
    assert_eq!((r.status, r.code()), (401, Some("UNAUTHENTICATED")));
    let r = app
        .gql(f.token("owner"), None, revoke, json!({ "k": viewer_id }))
        .await;
    assert_eq!(
        r.data()["revokeApiKey"]["userErrors"][0]["code"],
        "CONFLICT"
    );
    // A key may revoke itself; its next request is refused.
    let r = app
        .gql(&owner_key, None, revoke, json!({ "k": owner_key_id }))
        .await;
    assert_eq!(
        r.data()["revokeApiKey"]["apiKey"]["revoked"],
        true,
        "{:?}",
        r.body
    );
    let r = app
        .gql(&owner_key, None, "{ viewer { role } }", json!({}))
        .await;
    assert_eq!(r.status, 401);
}

async fn pagination(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let members: Vec<(String, Role)> = (0..7).map(|i| (format!("m{i}"), Role::Viewer)).collect();
    let refs: Vec<(&str, Role)> = members.iter().map(|(n, r)| (n.as_str(), *r)).collect();
    let f = app.tenant("alpha", &refs).await;
    let t = f.token("m0");
    let q = "query($first: Int, $after: String, $last: Int, $before: String) { members(first: $first, after: $after, last: $last, before: $before) { totalCount edges { cursor node { user { email } } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }";
    let emails = |r: &Answer| -> Vec<String> {
        r.data()["members"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["user"]["email"].as_str().unwrap().to_owned())
            .collect()
    };
    let mut seen = Vec::new();
    let mut after = Value::Null;
    let mut pages = 0;
    loop {
        let r = app
            .gql(t, None, q, json!({ "first": 3, "after": after }))
            .await;
        assert_eq!(r.data()["members"]["totalCount"], 7, "{:?}", r.body);
        seen.extend(emails(&r));
        pages += 1;
        let info = &r.data()["members"]["pageInfo"];
        assert_eq!(info["hasPreviousPage"], pages > 1);
        if info["hasNextPage"] == false {
            break;
        }
        after = info["endCursor"].clone();
    }
    assert_eq!(pages, 3);
    let expected: Vec<String> = (0..7).map(|i| format!("m{i}@alpha.test")).collect();
    assert_eq!(seen, expected);
    // Backwards from the end: the last two, then the two before them.
    let r = app.gql(t, None, q, json!({ "last": 2 })).await;
    assert_eq!(emails(&r), ["m5@alpha.test", "m6@alpha.test"]);
    assert_eq!(r.data()["members"]["pageInfo"]["hasPreviousPage"], true);
    let before = r.data()["members"]["pageInfo"]["startCursor"].clone();
    let r = app
        .gql(t, None, q, json!({ "last": 2, "before": before }))
        .await;
    assert_eq!(emails(&r), ["m3@alpha.test", "m4@alpha.test"]);
    assert_eq!(r.data()["members"]["pageInfo"]["hasNextPage"], true);
    // A user in two tenants picks one with X-Tenant.
    let g = app.tenant("golf", &[("owner", Role::Owner)]).await;
    let r = app
        .gql(g.token("owner"), None, "mutation { addMember(input: {email: \"m0@alpha.test\", role: AUDITOR}) { userErrors { code } } }", json!({}))
        .await;
    assert_eq!(r.data()["addMember"]["userErrors"], json!([]));
    let r = app
        .gql(
            t,
            None,
            "{ viewer { memberships { role tenant { slug } } } }",
            json!({}),
        )
        .await;
    let slugs: Vec<&str> = r.data()["viewer"]["memberships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["tenant"]["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["alpha", "golf"]);
    let r = app.gql(t, None, "{ tenant { slug } }", json!({})).await;
    assert_eq!(r.code(), Some("BAD_USER_INPUT"), "{:?}", r.body);
    let r = app
        .gql(
            t,
            Some("golf"),
            "{ tenant { slug } viewer { role } }",
            json!({}),
        )
        .await;
    assert_eq!(r.data()["tenant"]["slug"], "golf");
    assert_eq!(r.data()["viewer"]["role"], "AUDITOR");
    let _ = f;
}

async fn create_tenant(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.tenant("alpha", &[("owner", Role::Owner)]).await;
    let m = "mutation($slug: String!) { createTenant(input: {slug: $slug, name: \"New Clinic\", kind: COVERED_ENTITY, ownerEmail: \"boss@clinic.test\"}) { tenant { slug kind } owner { role user { email } } userErrors { field code } } }";
    let r = app
        .gql(f.token("owner"), None, m, json!({ "slug": "clinic" }))
        .await;
    assert_eq!(r.code(), Some("FORBIDDEN"), "{:?}", r.body);

    let ptx = app.store.platform_tx().await.unwrap();
    let (op, _) = ptx
        .ensure_user(
            &grc_domain::tenancy::Email::parse("ops@grc.test").unwrap(),
            None,
        )
        .await
        .unwrap();
    ptx.set_platform_operator(op.id, true).await.unwrap();
    ptx.commit().await.unwrap();
    let op_token = app.token(&op.subject);
    let r = app
        .gql(&op_token, None, m, json!({ "slug": "clinic" }))
        .await;
    assert_eq!(
        r.data()["createTenant"]["tenant"],
        json!({ "slug": "clinic", "kind": "COVERED_ENTITY" }),
        "{:?}",
        r.body
    );
    assert_eq!(r.data()["createTenant"]["owner"]["role"], "OWNER");
    let r = app
        .gql(&op_token, None, m, json!({ "slug": "clinic" }))
        .await;
    assert_eq!(
        user_errors(&r, "createTenant"),
        json!([{ "field": ["input", "slug"], "code": "CONFLICT" }])
    );
    let r = app
        .gql(&op_token, None, m, json!({ "slug": "Bad Slug" }))
        .await;
    assert_eq!(user_errors(&r, "createTenant")[0]["code"], "BAD_USER_INPUT");
    assert_eq!(r.data()["createTenant"]["tenant"], Value::Null);
    // The new owner signs in and finds the tenant, with its audit trail begun.
    let ptx = app.store.platform_tx().await.unwrap();
    let boss = ptx
        .user_by_email(&grc_domain::tenancy::Email::parse("boss@clinic.test").unwrap())
        .await
        .unwrap()
        .unwrap();
    ptx.commit().await.unwrap();
    let r = app
        .gql(
            &app.token(&boss.subject),
            None,
            "{ tenant { slug } auditEvents { edges { node { action } } } }",
            json!({}),
        )
        .await;
    assert_eq!(r.data()["tenant"]["slug"], "clinic", "{:?}", r.body);
    let actions: Vec<&str> = r.data()["auditEvents"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["tenant.create", "member.add"]);
}
