//! What goes wrong in a configuration: one [`Problem`] (key, origin, message), and
//! [`ConfigError`], all of them at once, which every validation step appends to. An
//! origin says where a value came from (`config file …`, `environment variable …`, `command-line
//! flag …`, `built-in default`); the [`Context`] every section's validation gets holds that
//! lookup and the injected environment (the only place `OTEL_*` variables are read).

use std::collections::HashMap;
use std::fmt;

use figment::{Figment, Metadata, Profile, Source};

use super::layers::{LAYER_ENV, LAYER_FLAG};

/// One configuration problem: the key, where its value came from, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub key: String,
    pub origin: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.key, self.origin, self.message)
    }
}

/// Every problem found, listed one per line. While validation runs, the collector every step
/// appends to in the order found ([`Problems`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    pub problems: Vec<Problem>,
}

/// The problems found so far; an error once there is one.
pub type Problems = ConfigError;

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.problems.len();
        writeln!(
            f,
            "invalid configuration ({count} problem{}):",
            if count == 1 { "" } else { "s" }
        )?;
        for problem in &self.problems {
            writeln!(f, "  - {problem}")?;
        }
        Ok(())
    }
}

impl ConfigError {
    pub fn push(&mut self, key: &str, origin: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            key: key.into(),
            origin: origin.into(),
            message: message.into(),
        });
    }

    /// Whether a problem was already reported for `key` (e.g. it had the wrong type).
    pub fn has(&self, key: &str) -> bool {
        self.problems.iter().any(|p| p.key == key)
    }

    /// `value` when nothing was found wrong.
    pub fn into_result<T>(self, value: T) -> Result<T, ConfigError> {
        match self.problems.is_empty() {
            true => Ok(value),
            false => Err(self),
        }
    }
}

pub(crate) const BUILT_IN: &str = "built-in default";

/// What validation may consult besides the raw values.
pub struct Context<'a> {
    pub figment: &'a Figment,
    /// The environment (`ConfigSources.env`).
    pub env: &'a HashMap<String, String>,
}

impl<'a> Context<'a> {
    /// Where `key`'s value came from. Map keys may themselves hold dots (metric and attribute
    /// names), so a key that cannot be found is looked up by its longest known prefix.
    pub fn origin(&self, key: &str) -> String {
        let keys: Vec<&str> = key.split('.').collect();
        (1..=keys.len())
            .rev()
            .find_map(|n| {
                let prefix = keys[..n].join(".");
                self.figment
                    .find_metadata(&prefix)
                    .map(|metadata| describe_metadata(Some(metadata), &keys[..n]))
            })
            .unwrap_or_else(|| describe_metadata(None, &keys))
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
