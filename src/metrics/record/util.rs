//! Small conversions shared by the recorders: Qdrant enum names to snake_case, timestamps to
//! Unix seconds, optimizer status to a state, and collection-name hashing.

use smol_str::{SmolStr, SmolStrBuilder};

use crate::qdrant::models::OptimizerStatus;

/// `PreCandidate` → `pre_candidate`; already snake_case input is unchanged. Held inline (no
/// allocation) up to 23 bytes: every state Qdrant has.
pub(super) fn snake_case(name: &str) -> SmolStr {
    let mut out = SmolStrBuilder::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            for lower in c.to_lowercase() {
                out.push(lower);
            }
        } else {
            out.push(c);
        }
    }
    out.finish()
}

/// RFC 3339 (or Qdrant's zone-less UTC `2026-11-22T11:29:05`) → Unix seconds (fractional).
pub(super) fn unix_seconds(timestamp: &str) -> Option<f64> {
    let time = humantime::parse_rfc3339_weak(timestamp).ok()?;
    Some(
        time.duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_secs_f64(),
    )
}

/// `"ok"` or `{"error": "..."}` → `ok` / `error`.
pub(super) fn optimizer_state(status: &OptimizerStatus) -> &'static str {
    match status {
        OptimizerStatus::Ok => "ok",
        OptimizerStatus::Error => "error",
    }
}

/// A stable, irreversible stand-in for a collection name: the first 16 hex digits of its
/// SHA-256.
pub fn hash_name(name: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(name.as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_handles_qdrant_enums() {
        assert_eq!(snake_case("PreCandidate"), "pre_candidate");
        assert_eq!(snake_case("ReshardingScaleDown"), "resharding_scale_down");
        assert_eq!(snake_case("Active"), "active");
        assert_eq!(snake_case("stopped_with_err"), "stopped_with_err");
    }

    #[test]
    fn nanosecond_timestamps_parse() {
        let t = unix_seconds("2026-11-22T11:31:50.230190321Z").unwrap();
        assert!((t - 1_795_347_110.230_190_3).abs() < 1e-3, "{t}");
    }

    #[test]
    fn zone_less_snapshot_times_parse() {
        assert_eq!(unix_seconds("1970-01-01T00:01:40"), Some(100.0));
    }

    #[test]
    fn hashes_are_the_sha256_prefix_and_not_the_name() {
        // `printf articles | sha256sum` → 906c7ff47cd7c682246c…
        assert_eq!(hash_name("articles"), "906c7ff47cd7c682");
        assert_ne!(hash_name("articles"), hash_name("articles2"));
    }

    #[test]
    fn optimizer_errors_are_objects() {
        let state = |json: &str| {
            let status: Option<OptimizerStatus> = serde_json::from_str(json).expect("parses");
            status.as_ref().map(optimizer_state)
        };
        assert_eq!(state(r#""ok""#), Some("ok"));
        assert_eq!(state(r#"{"error": "x"}"#), Some("error"));
        assert_eq!(state(r#""starting""#), Some("error"), "anything but ok");
        assert_eq!(state("null"), None, "no status");
    }
}
