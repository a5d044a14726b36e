//! The key table of docs/configuration.md is generated from `config::keys`: it must be fresh.

use qdrant_otel_agent::config::keys::{render_config_doc, CONFIG_DOC_PATH};

#[test]
fn configuration_doc_is_fresh() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(CONFIG_DOC_PATH);
    let committed = std::fs::read_to_string(&path).expect("docs/configuration.md");
    let rendered = render_config_doc(&committed).expect("the marker comments");
    assert!(
        committed == rendered,
        "the key table of {CONFIG_DOC_PATH} is stale: regenerate it with `cargo run -- docs`"
    );
}
