//! `schema/schema.graphql` is what `grc schema` prints.

#[test]
fn committed_sdl_is_current() {
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../schema/schema.graphql"
    ))
    .expect("schema/schema.graphql exists");
    let current = grc_api::graphql::sdl();
    assert!(
        committed == current,
        "schema/schema.graphql is stale: run `cargo run -p grc -- schema > schema/schema.graphql`"
    );
}
