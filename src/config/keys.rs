//! The key table of docs/configuration.md, rendered from the schema ([`super::schema`]) between
//! marker comments by `qdrant-otel-agent docs`: key, variables, flag, default and meaning.

use super::schema::{keys, Entry};
use super::{RawConfig, ENV_PREFIX};

/// Where the table goes.
pub const CONFIG_DOC_PATH: &str = "docs/configuration.md";
pub const BEGIN_MARKER: &str = "<!-- BEGIN GENERATED: config keys -->";
pub const END_MARKER: &str = "<!-- END GENERATED -->";

/// `QDRANT_OTEL_<SECTION>__<KEY>` for a key.
pub fn env_name(key: &str) -> String {
    format!(
        "{ENV_PREFIX}{}",
        key.replace('.', "__").to_ascii_uppercase()
    )
}

/// Every variable that sets the key, in precedence order (highest first).
pub fn env_names(entry: &Entry) -> Vec<String> {
    let mut names = vec![env_name(&entry.name)];
    names.extend(entry.key.alias.iter().map(|name| name.to_string()));
    names.extend(entry.key.fallback.iter().map(|name| name.to_string()));
    names
}

fn default_of(entry: &Entry, defaults: &serde_json::Value) -> String {
    if !entry.key.shown.is_empty() {
        return entry.key.shown.to_string();
    }
    let pointer = format!("/{}", entry.name.replace('.', "/"));
    match defaults.pointer(&pointer) {
        Some(serde_json::Value::String(s)) => format!("`{s}`"),
        Some(serde_json::Value::Array(list)) if list.is_empty() => "none".into(),
        Some(value) => format!("`{value}`"),
        None => "none".into(),
    }
}

/// The Markdown table of keys.
pub fn render_table() -> String {
    let defaults = serde_json::to_value(RawConfig::default()).unwrap_or_default();
    let mut out =
        String::from("| key | environment | flag | default | meaning |\n|---|---|---|---|---|\n");
    for entry in keys() {
        let env: Vec<String> = env_names(&entry)
            .iter()
            .map(|name| format!("`{name}`"))
            .collect();
        let flag = match entry.key.flag {
            "" => String::new(),
            flag => format!("`{flag}`"),
        };
        out.push_str(&format!(
            "| `{}` | {} | {flag} | {} | {} |\n",
            entry.name,
            env.join(", "),
            default_of(&entry, &defaults),
            entry.key.doc.trim()
        ));
    }
    out
}

/// `document` with the table between the markers replaced by a fresh rendering.
pub fn render_config_doc(document: &str) -> Result<String, String> {
    let start = document
        .find(BEGIN_MARKER)
        .ok_or_else(|| format!("{CONFIG_DOC_PATH} lacks the marker {BEGIN_MARKER}"))?
        + BEGIN_MARKER.len();
    let end = document[start..]
        .find(END_MARKER)
        .ok_or_else(|| format!("{CONFIG_DOC_PATH} lacks the marker {END_MARKER}"))?
        + start;
    Ok(format!(
        "{}\n{}{}",
        &document[..start],
        render_table(),
        &document[end..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
