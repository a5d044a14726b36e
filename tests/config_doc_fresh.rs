//! The key table of docs/configuration.md is generated from `config::keys`: it must be fresh,
//! list every key of the schema once with its variables, flag and default, and be replaced
//! between its markers only.

use qdrant_otel_agent::config::keys::{
    env_names, render_config_doc, render_table, BEGIN_MARKER, CONFIG_DOC_PATH, END_MARKER,
};
use qdrant_otel_agent::config::schema::keys;
use qdrant_otel_agent::config::RawConfig;

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

/// Walks the schema: each key has exactly one row of the committed document, naming every
/// variable and the flag that set it.
#[test]
fn every_key_is_documented_once_with_its_variables_and_flag() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(CONFIG_DOC_PATH);
    let committed = std::fs::read_to_string(path).unwrap();
    for entry in keys() {
        let rows: Vec<&str> = committed
            .lines()
            .filter(|line| line.starts_with(&format!("| `{}` |", entry.name)))
            .collect();
        assert_eq!(rows.len(), 1, "{}: one row", entry.name);
        let cells: Vec<&str> = rows[0].split(" | ").collect();
        for name in env_names(&entry) {
            assert!(cells[1].contains(&format!("`{name}`")), "{name}");
        }
        if !entry.key.flag.is_empty() {
            assert_eq!(cells[2], format!("`{}`", entry.key.flag), "{}", entry.name);
        }
        assert_eq!(cells[4].trim_end_matches(" |"), entry.key.doc.trim());
    }
    assert!(committed.contains("`QDRANT_OTEL_QDRANT__URL`, `QDRANT_URL`"));
    assert!(committed.contains("`OTEL_EXPORTER_OTLP_METRICS_PROTOCOL`"));
}

/// Every value of the serialized schema is a key of the table (serde and the table agree).
#[test]
fn the_table_lists_the_keys_of_the_serialized_schema() {
    fn leaves(path: &mut Vec<String>, value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) if !map.is_empty() => {
                for (k, v) in map {
                    path.push(k.clone());
                    leaves(path, v, out);
                    path.pop();
                }
            }
            _ => out.push(path.join(".")),
        }
    }
    let mut found = Vec::new();
    let defaults = serde_json::to_value(RawConfig::default()).unwrap();
    leaves(&mut Vec::new(), &defaults, &mut found);
    let names: Vec<String> = keys().into_iter().map(|e| e.name).collect();
    for leaf in found {
        let prefix = |n: &String| n == &leaf || n.starts_with(&format!("{leaf}."));
        assert!(names.iter().any(prefix), "{leaf} is not in the table");
    }
}

#[test]
fn defaults_come_from_the_schema() {
    let table = render_table();
    assert!(
        table.contains(
            "| `poll.interval` | `QDRANT_OTEL_POLL__INTERVAL` | `--poll-interval` | `15s` |"
        ),
        "{table}"
    );
    assert!(
        table.contains(
            "| `qdrant.max_concurrency` | `QDRANT_OTEL_QDRANT__MAX_CONCURRENCY` |  | `8` |"
        ),
        "{table}"
    );
}

#[test]
fn the_table_replaces_what_is_between_the_markers() {
    let doc = format!("intro\n{BEGIN_MARKER}\nold\n{END_MARKER}\nrest\n");
    let rendered = render_config_doc(&doc).unwrap();
    assert!(rendered.starts_with(&format!("intro\n{BEGIN_MARKER}\n| key |")));
    assert!(rendered.ends_with(&format!("|\n{END_MARKER}\nrest\n")));
    assert_eq!(render_config_doc(&rendered).unwrap(), rendered);
    assert!(render_config_doc("no markers").is_err());
}
