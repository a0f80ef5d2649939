//! The demo world of `grc serve --demo` seeds on both backends, twice without change, and its
//! certificates and vendor register show what the README promises: each compliance outcome
//! computed from dates relative to today.

use grc_e2e::{Backend, TestApp, both_backends};
use serde_json::{Value, json};
use std::time::Duration;

both_backends! {
    the_demo_world_seeds_once_and_shows_each_outcome => demo_world;
}

fn token(logins: &[grc_api::demo::DemoLogin], email: &str) -> String {
    logins
        .iter()
        .find(|l| l.email == email)
        .map(|l| l.token.clone())
        .unwrap_or_else(|| panic!("no demo login {email}"))
}

async fn read(app: &TestApp, token: &str, tenant: &str, query: &str) -> Value {
    let a = app.gql(token, Some(tenant), query, json!({})).await;
    assert!(a.body["errors"].is_null(), "{:?}", a.body);
    a.data().clone()
}

async fn demo_world(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ttl = Duration::from_secs(600);
    let logins = grc_api::demo::seed(&app.store, &app.issuer, ttl)
        .await
        .expect("the demo seeds");
    // Seeding again finds everything in place and adds nothing.
    let again = grc_api::demo::seed(&app.store, &app.issuer, ttl)
        .await
        .expect("the demo seeds again");
    assert_eq!(logins.len(), again.len());

    let cm = token(&logins, "compliance@st-marys.example");
    let q = "{ vendorCompliance { vendors compliant atRisk nonCompliant baaMissingTerms }
               vendors(first: 10) { totalCount nodes { name subcontractorChain { vendor { name } depth }
                 compliance { status baa { state missingTerms } } } } }";
    let d = read(&app, &cm, "st-marys", q).await;
    assert_eq!(
        d["vendorCompliance"],
        json!({ "vendors": 4, "compliant": 2, "atRisk": 1, "nonCompliant": 1, "baaMissingTerms": 1 })
    );
    assert_eq!(d["vendors"]["totalCount"], 4);
    let by_name = |name: &str| {
        d["vendors"]["nodes"]
            .as_array()
            .and_then(|a| a.iter().find(|v| v["name"] == name))
            .cloned()
            .unwrap_or_else(|| panic!("no vendor {name}"))
    };
    // CloudChart: a valid ISO certificate, a current SOC 2 Type II, a pen test of 10 months
    // ago and a complete BAA; its data centre is its subcontractor.
    let cc = by_name("CloudChart EHR Hosting");
    assert_eq!(cc["compliance"]["status"], "COMPLIANT");
    assert_eq!(
        cc["subcontractorChain"],
        json!([{ "vendor": { "name": "NorthDC Colocation" }, "depth": 1 }])
    );
    // MedBill: its pen test lapsed and its BAA lacks the security-incident term.
    let mb = by_name("MedBill Revenue Services");
    assert_eq!(mb["compliance"]["status"], "NON_COMPLIANT");
    assert_eq!(
        mb["compliance"]["baa"]["missingTerms"],
        json!(["security-incidents"])
    );
    // SecureShred: its BAA ends within the 30-day window.
    let ss = by_name("SecureShred");
    assert_eq!(ss["compliance"]["status"], "AT_RISK");
    assert_eq!(ss["compliance"]["baa"]["state"], "EXPIRING");

    // CloudChart's own certificate: decided 20 months ago, surveilled on time, active, with its
    // recertification due on its expiry.
    let cc_cm = token(&logins, "compliance@cloudchart.example");
    let c = read(
        &app,
        &cc_cm,
        "cloudchart",
        "{ certificates(first: 5) { nodes { certificateNumber accredited firstSurveillanceOnTime
             status { status validUntil } nextDueEvents { kind due } } } }",
    )
    .await;
    let cert = &c["certificates"]["nodes"][0];
    assert_eq!(cert["certificateNumber"], "CC-ISMS-0417");
    assert_eq!(cert["accredited"], true);
    assert_eq!(cert["firstSurveillanceOnTime"], true);
    assert_eq!(cert["status"]["status"], "ACTIVE");
    let events = cert["nextDueEvents"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let recert = events
        .iter()
        .find(|e| e["kind"] == "RECERTIFICATION")
        .expect("a recertification is due");
    assert_eq!(recert["due"], cert["status"]["validUntil"]);

    // CloudChart shares all its ISO certificates with St. Mary's: the hospital's vendor record
    // shows that certificate, live, through the accepted connection.
    let s = read(
        &app,
        &cm,
        "st-marys",
        "{ sharedWithMe(first: 5) { totalCount nodes { artifactKind owner { slug }
             artifacts { title status validUntil } } }
           vendors(first: 10) { nodes { name connection { status peer { slug } }
             sharedArtifacts { status } } } }",
    )
    .await;
    assert_eq!(s["sharedWithMe"]["totalCount"], 1);
    let g = &s["sharedWithMe"]["nodes"][0];
    assert_eq!(g["artifactKind"], "ALL_ISO_CERTIFICATES");
    assert_eq!(g["owner"]["slug"], "cloudchart");
    assert_eq!(g["artifacts"][0]["status"], "active");
    assert_eq!(
        g["artifacts"][0]["validUntil"],
        cert["status"]["validUntil"]
    );
    let linked = s["vendors"]["nodes"]
        .as_array()
        .and_then(|a| a.iter().find(|v| v["name"] == "CloudChart EHR Hosting"))
        .cloned()
        .expect("the CloudChart vendor record");
    assert_eq!(linked["connection"]["status"], "ACTIVE");
    assert_eq!(linked["connection"]["peer"]["slug"], "cloudchart");
    assert_eq!(linked["sharedArtifacts"], json!([{ "status": "active" }]));
}
