//! What goes wrong in a configuration: one [`Problem`] (key, origin, message), the [`Problems`]
//! collector every validation step appends to, and [`ConfigError`], all of them at once.

use std::fmt;

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

/// Every problem found, listed one per line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    pub problems: Vec<Problem>,
}

impl ConfigError {
    /// A configuration with this one problem.
    pub fn single(key: &str, origin: &str, message: String) -> ConfigError {
        ConfigError {
            problems: vec![Problem {
                key: key.into(),
                origin: origin.into(),
                message,
            }],
        }
    }
}

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

/// Collects problems in the order they are found; turned into a [`ConfigError`] at the end.
#[derive(Debug, Default)]
pub struct Problems {
    list: Vec<Problem>,
}

impl Problems {
    pub fn push(&mut self, key: &str, origin: &str, message: impl Into<String>) {
        self.list.push(Problem {
            key: key.into(),
            origin: origin.into(),
            message: message.into(),
        });
    }

    /// Whether a problem was already reported for `key` (e.g. it had the wrong type).
    pub fn has(&self, key: &str) -> bool {
        self.list.iter().any(|p| p.key == key)
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// `value` when nothing was found wrong.
    pub fn into_result<T>(self, value: T) -> Result<T, ConfigError> {
        if self.list.is_empty() {
            Ok(value)
        } else {
            Err(ConfigError {
                problems: self.list,
            })
        }
    }
}
