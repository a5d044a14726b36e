//! The third-party servers in `target/e2e-bin/` (the OpenTelemetry Collector, Prometheus 3 and
//! promtool), built from their Go modules by `scripts/fetch-e2e-servers.sh` (`make test` runs
//! it first).
//!
//! Without them a plain `cargo test` skips the tests that need them, saying so; under CI (the
//! `CI` environment variable is set, as CI systems and `.ci/run` do) a missing server fails the
//! test instead, so CI cannot pass by skipping.

use std::io::Write;
use std::path::{Path, PathBuf};

pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/e2e-bin")
}

/// The directory holding every one of `names`, or `None` (after printing why) when one is
/// missing outside CI. Panics when one is missing under CI.
pub fn require(test: &str, names: &[&str]) -> Option<PathBuf> {
    let dir = dir();
    let missing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|name| !dir.join(name).is_file())
        .collect();
    if missing.is_empty() {
        return Some(dir);
    }
    let message = format!(
        "{test}: {} missing from target/e2e-bin: run scripts/fetch-e2e-servers.sh or make test",
        missing.join(", ")
    );
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        panic!("{message} (CI is set, so a missing server fails the test)");
    }
    // Straight to stderr: the test harness captures eprintln! of passing tests.
    let _ = writeln!(std::io::stderr(), "\n*** skipped: {message} ***\n");
    None
}
