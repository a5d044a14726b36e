//! Provenance: where a key's value came from (`config file …`, `environment variable …`,
//! `command-line flag …`, `built-in default`), and the [`Context`] every section's validation
//! gets: that lookup plus the injected environment (the only place `OTEL_*` variables are read).

use std::collections::HashMap;

use figment::{Figment, Metadata, Profile, Source};

use super::layers::{LAYER_ENV, LAYER_FLAG};

pub(crate) const BUILT_IN: &str = "built-in default";

/// What validation may consult besides the raw values.
pub struct Context<'a> {
    pub figment: &'a Figment,
    /// The environment (`ConfigSources.env`).
    pub env: &'a HashMap<String, String>,
}

impl<'a> Context<'a> {
    /// Where `key`'s value came from.
    pub fn origin(&self, key: &str) -> String {
        origin(self.figment, key)
    }

    /// Whether `key` was given by the user (any layer above the built-in defaults).
    pub fn is_set(&self, key: &str) -> bool {
        self.origin(key) != BUILT_IN
    }

    /// A variable of the environment; set but empty (or blank) counts as unset, as the
    /// OpenTelemetry specification says.
    pub fn env_var(&self, name: &str) -> Option<&'a str> {
        self.env
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }
}

/// Describe where `key`'s value came from.
///
/// Map keys may themselves hold dots (metric and attribute names), so a key that cannot be
/// found is looked up by its longest known prefix.
pub fn origin(figment: &Figment, key: &str) -> String {
    let keys: Vec<&str> = key.split('.').collect();
    (1..=keys.len())
        .rev()
        .find_map(|n| {
            let prefix = keys[..n].join(".");
            figment
                .find_metadata(&prefix)
                .map(|metadata| describe_metadata(Some(metadata), &keys[..n]))
        })
        .unwrap_or_else(|| describe_metadata(None, &keys))
}

/// `config file PATH`, `environment variable NAME`, `command-line flag --NAME` or the default.
pub fn describe_metadata(metadata: Option<&Metadata>, keys: &[&str]) -> String {
    let Some(metadata) = metadata else {
        return BUILT_IN.into();
    };
    if let Some(Source::File(path)) = &metadata.source {
        return format!("config file {}", path.display());
    }
    match metadata.name.as_ref() {
        LAYER_ENV | LAYER_FLAG => format!(
            "{} {}",
            metadata.name,
            metadata.interpolate(&Profile::Default, keys)
        ),
        _ => BUILT_IN.into(),
    }
}

/// The origin of a standard variable read from the environment.
pub fn env_origin(name: &str) -> String {
    format!("{LAYER_ENV} {name}")
}
