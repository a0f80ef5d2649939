//! Parsing and converting the NIST SP 800-53r5 HIGH resolved catalog (about 2 MB, 370 controls):
//! the in-process part of `grc catalog import`.

use criterion::{Criterion, criterion_group, criterion_main};
use grc_catalog::oscal;
use std::hint::black_box;

fn high_catalog(c: &mut Criterion) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/reference-data/nist-sp800-53r5/NIST_SP-800-53_rev5_HIGH-baseline-resolved-profile_catalog-min.json"
    );
    let bytes = std::fs::read(path).expect("the HIGH resolved catalog fixture");
    c.bench_function("parse HIGH resolved catalog", |b| {
        b.iter(|| {
            let doc = oscal::parse(black_box(&bytes)).expect("parses");
            black_box(doc)
        })
    });
}

criterion_group!(benches, high_catalog);
criterion_main!(benches);
