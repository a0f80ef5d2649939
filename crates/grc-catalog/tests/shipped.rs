//! The shipped catalogs, counted and compared against the public-domain NIST data in
//! `tests/fixtures/reference-data` and the facts of the domain primer (ISO identifiers, HIPAA
//! citations and Required/Addressable flags).

use grc_catalog::model::{ControlStatus, Requirement};
use grc_catalog::{Bundle, Framework, Method};
use std::collections::{BTreeMap, BTreeSet, HashMap};

fn reference(path: &str) -> String {
    let full = format!(
        "{}/../../tests/fixtures/reference-data/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn csv_rows(path: &str) -> Vec<HashMap<String, String>> {
    let text = reference(path);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().expect("headers").clone();
    reader
        .records()
        .map(|r| {
            let r = r.expect("row");
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_owned(), v.to_owned()))
                .collect()
        })
        .collect()
}

fn bundle() -> Bundle {
    Bundle::shipped().expect("the shipped catalogs load")
}

fn fw<'a>(b: &'a Bundle, key: &str) -> &'a Framework {
    b.framework(key)
        .unwrap_or_else(|| panic!("framework {key}"))
}

fn refs_where(f: &Framework, pred: impl Fn(&grc_catalog::Control) -> bool) -> Vec<String> {
    f.controls
        .iter()
        .filter(|c| pred(c))
        .map(|c| c.reference.clone())
        .collect()
}

#[test]
fn iso27001_2022_annex_a_has_93_controls_in_four_themes_with_the_right_ids() {
    let b = bundle();
    let iso = fw(&b, "iso27001-2022");
    for (theme, count) in [("A.5", 37), ("A.6", 8), ("A.7", 14), ("A.8", 34)] {
        let got = refs_where(iso, |c| c.group.as_deref() == Some(theme));
        let want: Vec<String> = (1..=count).map(|n| format!("{theme}.{n}")).collect();
        assert_eq!(got, want, "theme {theme}");
        assert!(
            got.iter()
                .all(|r| iso.control(r).is_some_and(|c| c.kind == "control"))
        );
    }
    let annex = refs_where(iso, |c| c.reference.starts_with("A."));
    assert_eq!(annex.len(), 93);
    let new: BTreeSet<String> = refs_where(iso, |c| {
        c.reference.starts_with("A.") && c.tags.iter().any(|t| t == "new-in-2022")
    })
    .into_iter()
    .collect();
    let want: BTreeSet<String> = [
        "A.5.7", "A.5.23", "A.5.30", "A.7.4", "A.8.9", "A.8.10", "A.8.11", "A.8.12", "A.8.16",
        "A.8.23", "A.8.28",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(new, want);
    // Spot checks of titles from the primer's table.
    assert_eq!(
        iso.control("A.5.7").map(|c| c.title.as_str()),
        Some("Threat intelligence")
    );
    assert_eq!(
        iso.control("A.8.34").map(|c| c.title.as_str()),
        Some("Protection of information systems during audit testing")
    );
}

#[test]
fn iso27001_2022_clauses_are_complete_with_documented_information_flags() {
    let b = bundle();
    let iso = fw(&b, "iso27001-2022");
    let clauses = refs_where(iso, |c| c.kind == "clause");
    let want = [
        "4", "4.1", "4.2", "4.3", "4.4", "5", "5.1", "5.2", "5.3", "6", "6.1", "6.1.1", "6.1.2",
        "6.1.3", "6.2", "6.3", "7", "7.1", "7.2", "7.3", "7.4", "7.5", "7.5.1", "7.5.2", "7.5.3",
        "8", "8.1", "8.2", "8.3", "9", "9.1", "9.2", "9.2.1", "9.2.2", "9.3", "9.3.1", "9.3.2",
        "9.3.3", "10", "10.1", "10.2",
    ];
    assert_eq!(clauses, want);
    // Every sub-clause's parent is the clause its number names.
    for c in iso.controls.iter().filter(|c| c.kind == "clause") {
        let expected = c.reference.rsplit_once('.').map(|(p, _)| p.to_owned());
        assert_eq!(c.parent, expected, "parent of {}", c.reference);
    }
    let di: BTreeSet<String> = refs_where(iso, |c| c.documented_information)
        .into_iter()
        .collect();
    let want_di: BTreeSet<String> = [
        "4.3", "5.2", "6.1.2", "6.1.3", "6.2", "7.2", "7.5.1", "8.1", "8.2", "8.3", "9.1", "9.2.2",
        "9.3.3", "10.2",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(di, want_di);
    let amd = refs_where(iso, |c| c.tags.iter().any(|t| t == "amd1-2024"));
    assert_eq!(amd, ["4.1", "4.2"]);
    assert!(iso.version.contains("amd1-2024"));
}

#[test]
fn iso27001_2013_has_114_controls_in_14_domains() {
    let b = bundle();
    let iso = fw(&b, "iso27001-2013");
    let domain_of = |group: &str| -> String {
        let g = iso
            .groups
            .iter()
            .find(|g| g.reference == group)
            .expect("group");
        g.parent
            .clone()
            .filter(|p| p != "A")
            .unwrap_or_else(|| g.reference.clone())
    };
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for c in &iso.controls {
        *counts
            .entry(domain_of(c.group.as_deref().expect("grouped")))
            .or_default() += 1;
    }
    let want = [
        ("A.5", 2),
        ("A.6", 7),
        ("A.7", 6),
        ("A.8", 10),
        ("A.9", 14),
        ("A.10", 2),
        ("A.11", 15),
        ("A.12", 14),
        ("A.13", 7),
        ("A.14", 13),
        ("A.15", 5),
        ("A.16", 7),
        ("A.17", 4),
        ("A.18", 8),
    ];
    let want: BTreeMap<String, usize> = want.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    assert_eq!(counts, want);
    assert_eq!(iso.controls.len(), 114);
    // Each control sits in the objective its id names (A.9.4.5 in A.9.4).
    for c in &iso.controls {
        let objective = c.reference.rsplit_once('.').map(|(p, _)| p.to_owned());
        assert_eq!(c.group, objective, "{}", c.reference);
    }
}

#[test]
fn iso27701_editions_have_their_controller_and_processor_controls() {
    let b = bundle();
    let v2019 = fw(&b, "iso27701-2019");
    let tagged = |f: &Framework, t: &str| refs_where(f, |c| c.tags.iter().any(|x| x == t));
    assert_eq!(tagged(v2019, "controller").len(), 31);
    assert_eq!(tagged(v2019, "processor").len(), 18);
    assert!(
        tagged(v2019, "controller")
            .iter()
            .all(|r| r.starts_with("A.7."))
    );
    assert!(
        tagged(v2019, "processor")
            .iter()
            .all(|r| r.starts_with("B.8."))
    );
    let v2025 = fw(&b, "iso27701-2025");
    let a1 = refs_where(v2025, |c| c.reference.starts_with("A.1."));
    let a2 = refs_where(v2025, |c| c.reference.starts_with("A.2."));
    assert_eq!((a1.len(), a2.len()), (31, 18));
    // The +1 renumbering: 2019 A.7.2.1 is 2025 A.1.2.2; B.8.5.8 is A.2.5.9.
    assert!(v2025.control("A.1.2.2").is_some_and(|c| {
        c.title
            == v2019
                .control("A.7.2.1")
                .map(|x| x.title.clone())
                .unwrap_or_default()
    }));
    assert!(v2025.control("A.2.5.9").is_some());
    // Only what the primer saw is confirmed; A.3 is marked unconfirmed.
    let confirmed: BTreeSet<String> = refs_where(v2025, |c| c.confirmed).into_iter().collect();
    let mut want: BTreeSet<String> = (2..=9).map(|n| format!("A.1.2.{n}")).collect();
    want.extend(["A.2.2.2", "A.2.2.4", "A.2.2.5"].map(String::from));
    assert_eq!(confirmed, want);
    assert!(
        refs_where(v2025, |c| c.reference.starts_with("A.3."))
            .iter()
            .all(|r| !v2025.control(r).is_some_and(|c| c.confirmed))
    );
}

#[test]
fn hipaa_security_rule_matches_the_regulation_table() {
    let b = bundle();
    let hipaa = fw(&b, "hipaa-sr");
    let rows: Vec<_> = csv_rows("derived-from-nist/hipaa_security_rule_elements.csv")
        .into_iter()
        .filter(|r| r["element_type"] != "section")
        .collect();
    assert_eq!(rows.len(), 68);
    assert_eq!(hipaa.controls.len(), 68);
    for r in &rows {
        let cite = &r["cfr_citation_45CFR"];
        let c = hipaa
            .control(cite)
            .unwrap_or_else(|| panic!("{cite} missing"));
        assert_eq!(
            c.citation.as_deref(),
            Some(format!("45 CFR {cite}").as_str())
        );
        match r["element_type"].as_str() {
            "standard" => {
                assert_eq!(c.kind, "standard", "{cite}");
                assert_eq!(c.requirement, None, "{cite}");
                assert_eq!(c.parent, None, "{cite}");
            }
            "implementation_specification" => {
                assert_eq!(c.kind, "implementation-specification", "{cite}");
                let want = match r["requirement"].as_str() {
                    "Required" => Requirement::Required,
                    "Addressable" => Requirement::Addressable,
                    other => panic!("{cite}: {other}"),
                };
                assert_eq!(c.requirement, Some(want), "{cite}");
                assert_eq!(
                    c.parent.as_deref(),
                    Some(r["parent_standard"].as_str()),
                    "{cite}"
                );
            }
            other => panic!("{other}"),
        }
        let section = cite.split('(').next().unwrap_or_default();
        assert_eq!(c.group.as_deref(), Some(section), "{cite}");
    }
    let count = |k: &str| hipaa.controls.iter().filter(|c| c.kind == k).count();
    assert_eq!(
        (count("standard"), count("implementation-specification")),
        (22, 46)
    );
    let req = |r: Requirement| {
        hipaa
            .controls
            .iter()
            .filter(|c| c.requirement == Some(r))
            .count()
    };
    assert_eq!(
        (req(Requirement::Required), req(Requirement::Addressable)),
        (24, 22)
    );
    // Current numbering for the written contract, the pre-Omnibus label kept as an alias.
    let contract = hipaa.control("164.308(b)(3)").expect("164.308(b)(3)");
    assert_eq!(contract.requirement, Some(Requirement::Required));
    assert!(contract.aliases.iter().any(|a| a == "164.308(b)(4)"));
    assert!(hipaa.control("164.308(b)(4)").is_none());
}

/// NIST's OSCAL ids (ac-2.1) in the SP 800-53 spreadsheet's form (AC-2(1)).
fn nist_label(id: &str) -> String {
    let upper = id.to_uppercase();
    match upper.split_once('.') {
        Some((base, enh)) => format!("{base}({enh})"),
        None => upper,
    }
}

fn profile_ids(path: &str) -> BTreeSet<String> {
    let v: serde_json::Value = serde_json::from_str(&reference(path)).expect("json");
    v["profile"]["imports"][0]["include-controls"][0]["with-ids"]
        .as_array()
        .expect("with-ids")
        .iter()
        .map(|x| nist_label(x.as_str().expect("id")))
        .collect()
}

#[test]
fn sp800_53r5_matches_nist_control_list_and_baseline_profiles() {
    let b = bundle();
    let nist = fw(&b, "nist-sp800-53r5");
    let rows = csv_rows("derived-from-nist/sp800-53r5_controls.csv");
    assert_eq!(nist.controls.len(), rows.len());
    for r in &rows {
        let c = nist
            .control(&r["id"])
            .unwrap_or_else(|| panic!("{} missing", r["id"]));
        assert_eq!(c.kind, r["kind"], "{}", r["id"]);
        assert_eq!(c.group.as_deref(), Some(r["family"].as_str()));
        let withdrawn = r["status"] == "withdrawn";
        assert_eq!(
            c.status == ControlStatus::Withdrawn,
            withdrawn,
            "{}",
            r["id"]
        );
        let baselines: Vec<&str> = ["low", "moderate", "high", "privacy"]
            .into_iter()
            .filter(|b| r[&format!("baseline_{b}")] == "x")
            .collect();
        assert_eq!(c.baselines, baselines, "{}", r["id"]);
    }
    assert_eq!(nist.groups.len(), 20);
    for (baseline, file, count) in [
        ("low", "NIST_SP-800-53_rev5_LOW-baseline_profile.json", 149),
        (
            "moderate",
            "NIST_SP-800-53_rev5_MODERATE-baseline_profile.json",
            287,
        ),
        (
            "high",
            "NIST_SP-800-53_rev5_HIGH-baseline_profile.json",
            370,
        ),
        (
            "privacy",
            "NIST_SP-800-53_rev5_PRIVACY-baseline_profile.json",
            96,
        ),
    ] {
        let want = profile_ids(&format!("nist-sp800-53r5/{file}"));
        assert_eq!(want.len(), count, "{file}");
        let got: BTreeSet<String> = refs_where(nist, |c| c.baselines.iter().any(|b| b == baseline))
            .into_iter()
            .collect();
        assert_eq!(got, want, "{baseline} baseline");
    }
}

#[test]
fn csf_2_0_ships_its_active_elements_only() {
    let b = bundle();
    let csf = fw(&b, "nist-csf-2.0");
    let rows = csv_rows("derived-from-nist/csf2.0_elements.csv");
    let active = |t: &str| -> BTreeSet<String> {
        rows.iter()
            .filter(|r| r["type"] == t && r["status_heuristic"] == "active")
            .map(|r| r["id"].clone())
            .collect()
    };
    let groups: BTreeSet<String> = csf.groups.iter().map(|g| g.reference.clone()).collect();
    assert_eq!(groups, active("function"));
    assert_eq!(groups.len(), 6);
    let of =
        |k: &str| -> BTreeSet<String> { refs_where(csf, |c| c.kind == k).into_iter().collect() };
    assert_eq!(of("category"), active("category"));
    assert_eq!(of("subcategory"), active("subcategory"));
    assert_eq!((of("category").len(), of("subcategory").len()), (22, 106));
}

/// The pairs of a reference mapping file, with both ends resolved to catalog refs.
fn resolved_pairs(
    b: &Bundle,
    file: &str,
    (src_key, src_col): (&str, &str),
    (tgt_key, tgt_col): (&str, &str),
) -> BTreeSet<(String, String)> {
    let resolve = |key: &str, label: &str| -> String {
        let f = fw(b, key);
        f.controls
            .iter()
            .find(|c| c.reference == label || c.aliases.iter().any(|a| a == label))
            .map(|c| c.reference.clone())
            .unwrap_or_else(|| panic!("{label} does not resolve in {key}"))
    };
    csv_rows(file)
        .iter()
        .map(|r| (resolve(src_key, &r[src_col]), resolve(tgt_key, &r[tgt_col])))
        .collect()
}

fn shipped_pairs(b: &Bundle, key: &str) -> (usize, BTreeSet<(String, String)>) {
    let walk = b.crosswalk(key).expect("crosswalk");
    let find = |k: &str, id| {
        fw(b, k)
            .controls
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.reference.clone())
            .unwrap_or_else(|| panic!("link end {id} is not a control of {k}"))
    };
    let pairs = walk
        .links
        .iter()
        .map(|l| {
            (
                find(&walk.source_framework, l.source),
                find(&walk.target_framework, l.target),
            )
        })
        .collect();
    (walk.links.len(), pairs)
}

#[test]
fn published_crosswalks_keep_every_nist_link() {
    let b = bundle();
    let want = resolved_pairs(
        &b,
        "derived-from-nist/hipaa_sr_to_sp800-53r5.csv",
        ("hipaa-sr", "hipaa_element"),
        ("nist-sp800-53r5", "sp800_53r5_control"),
    );
    let rows = csv_rows("derived-from-nist/hipaa_sr_to_sp800-53r5.csv").len();
    let (n, got) = shipped_pairs(&b, "hipaa-sr_to_sp800-53r5");
    assert_eq!((n, rows), (278, 278));
    assert_eq!(got, want);
    let controls: BTreeSet<&String> = got.iter().map(|(_, t)| t).collect();
    assert_eq!(
        controls.len(),
        108,
        "108 distinct SP 800-53 controls, as NIST reports"
    );

    let want = resolved_pairs(
        &b,
        "derived-from-nist/sp800-53r5_to_iso27001-2022_olir155.csv",
        ("nist-sp800-53r5", "sp800_53r5_control"),
        ("iso27001-2022", "iso27001_2022_ref"),
    );
    let (n, got) = shipped_pairs(&b, "sp800-53r5_to_iso27001-2022");
    assert_eq!(n, 642);
    assert_eq!(got, want);
    for w in &b.crosswalks {
        assert_ne!(w.method, Method::Tenant);
        assert!(!w.source.is_empty(), "{} names its source", w.key);
    }
}

#[test]
fn derived_hipaa_to_iso_links_equal_the_composition_with_their_paths() {
    let b = bundle();
    let hipaa = fw(&b, "hipaa-sr");
    let nist = fw(&b, "nist-sp800-53r5");
    let iso = fw(&b, "iso27001-2022");
    let walk = b
        .crosswalk("hipaa-sr_to_iso27001-2022_derived")
        .expect("derived");
    assert_eq!(walk.method, Method::Derived);
    let name = |f: &Framework, id| {
        f.controls
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.reference.clone())
            .expect("control")
    };
    let mut got: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for l in &walk.links {
        let via: BTreeSet<String> = l.via.iter().map(|v| name(nist, *v)).collect();
        assert!(!via.is_empty());
        got.insert((name(hipaa, l.source), name(iso, l.target)), via);
    }
    let resolve = |label: &str| {
        hipaa
            .controls
            .iter()
            .find(|c| c.reference == label || c.aliases.iter().any(|a| a == label))
            .map(|c| c.reference.clone())
            .unwrap_or_else(|| panic!("{label}"))
    };
    let want: BTreeMap<(String, String), BTreeSet<String>> =
        csv_rows("derived-from-nist/DERIVED_hipaa_standard_to_iso27001-2022_via_sp800-53r5.csv")
            .iter()
            .map(|r| {
                (
                    (
                        resolve(&r["hipaa_standard"]),
                        r["iso27001_2022_ref"].clone(),
                    ),
                    r["via_sp800_53r5_controls"]
                        .split(' ')
                        .map(String::from)
                        .collect(),
                )
            })
            .collect();
    assert_eq!(walk.links.len(), 419);
    assert_eq!(got, want);
    // The primer's figures: every standard reaches ISO; 75 Annex A controls and 25 clauses.
    let sources: BTreeSet<&String> = got.keys().map(|(s, _)| s).collect();
    assert_eq!(sources.len(), 22);
    let targets: BTreeSet<&String> = got.keys().map(|(_, t)| t).collect();
    assert_eq!(targets.iter().filter(|t| t.starts_with("A.")).count(), 75);
    assert_eq!(targets.iter().filter(|t| !t.starts_with("A.")).count(), 25);
    let never: Vec<&str> = [
        "A.5.6", "A.5.7", "A.5.17", "A.5.21", "A.5.32", "A.5.35", "A.7.6", "A.8.5", "A.8.11",
        "A.8.12", "A.8.19", "A.8.25", "A.8.27", "A.8.28", "A.8.31", "A.8.32", "A.8.33", "A.8.34",
    ]
    .to_vec();
    for r in &never {
        assert!(
            !targets.iter().any(|t| t.as_str() == *r),
            "{r} is never reached"
        );
    }
}

#[test]
fn the_bundle_version_changes_with_content_only() {
    let a = bundle();
    let b = bundle();
    assert_eq!(a.version(), b.version());
    assert_eq!(a.version().len(), 64);
}
