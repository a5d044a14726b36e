//! Qdrant's process start, kept per node between polls: the start time of Qdrant's own
//! cumulative counters (`CountsFrom::QdrantStart`). It moves only when Qdrant restarts, so a
//! counter that drops is a new series start, never a decrease; between restarts it stays put,
//! whatever small differences the poll time minus the uptime shows from poll to poll.

use std::time::{Duration, SystemTime};

/// A derived start closer than this to the kept one is the same process start.
pub const TOLERANCE: Duration = Duration::from_secs(5);

/// One node's Qdrant start, as last established.
#[derive(Debug, Default)]
pub struct ProcessStart {
    kept: Option<Kept>,
}

#[derive(Debug, Clone, Copy)]
struct Kept {
    start: SystemTime,
    uptime: f64,
}

impl ProcessStart {
    /// Take a poll's view (its derived start and its uptime) and return the start to export:
    /// a new one when Qdrant restarted (the uptime went down) or the derived start moved by more
    /// than [`TOLERANCE`]; else the kept one. A poll without them (telemetry failed) keeps the
    /// last; `None` until one was seen.
    pub fn observe(
        &mut self,
        start: Option<SystemTime>,
        uptime: Option<f64>,
    ) -> Option<SystemTime> {
        if let (Some(start), Some(uptime)) = (start, uptime) {
            match &mut self.kept {
                Some(kept) if uptime >= kept.uptime && !moved(kept.start, start) => {
                    kept.uptime = uptime;
                }
                _ => self.kept = Some(Kept { start, uptime }),
            }
        }
        self.kept.map(|kept| kept.start)
    }
}

fn moved(kept: SystemTime, derived: SystemTime) -> bool {
    let distance = derived
        .duration_since(kept)
        .or_else(|_| kept.duration_since(derived))
        .unwrap_or_default();
    distance > TOLERANCE
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> Option<SystemTime> {
        Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
    }

    #[test]
    fn the_start_stays_put_between_restarts_and_moves_with_one() {
        let mut start = ProcessStart::default();
        assert_eq!(start.observe(None, None), None, "nothing seen yet");
        assert_eq!(start.observe(at(1000), Some(500.0)), at(1000));
        // Jitter of the derived start (rounding, a proxy's clock): kept.
        assert_eq!(start.observe(at(1003), Some(515.0)), at(1000));
        assert_eq!(start.observe(at(997), Some(530.0)), at(1000));
        // Telemetry failed: the last start stays.
        assert_eq!(start.observe(None, None), at(1000));
        // Restarted: the uptime went down.
        assert_eq!(start.observe(at(1540), Some(5.0)), at(1540));
        // Restarted again within the tolerance of the last start, seen by the uptime alone.
        assert_eq!(start.observe(at(1543), Some(2.0)), at(1543));
        // The derived start jumped without a lower uptime (a clock was set): taken.
        assert_eq!(start.observe(at(2000), Some(30.0)), at(2000));
    }
}
