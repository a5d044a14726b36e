//! The key table of docs/configuration.md, rendered from the schema ([`super::schema`]) between
//! marker comments by `qdrant-otel-agent docs`: key, variables, flag, default and meaning.

use super::schema::{keys, Entry};
use super::{RawConfig, ENV_PREFIX};

/// Where the table goes.
pub const CONFIG_DOC_PATH: &str = "docs/configuration.md";
pub const BEGIN_MARKER: &str = "<!-- BEGIN GENERATED: config keys -->";
pub const END_MARKER: &str = "<!-- END GENERATED -->";

/// Every variable that sets the key, in precedence order (highest first):
/// `QDRANT_OTEL_<SECTION>__<KEY>`, then the aliases, then the standard variables.
pub fn env_names(entry: &Entry) -> Vec<String> {
    let own = entry.name.replace('.', "__").to_ascii_uppercase();
    let mut names = vec![format!("{ENV_PREFIX}{own}")];
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
    let (before, after) = (&document[..start], &document[end..]);
    Ok(format!("{before}\n{}{after}", render_table()))
}
