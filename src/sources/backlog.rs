//! The optimizer's throughput and the time left to optimize the queued backlog, per
//! collection, from what successive polls show: telemetry's `total_optimized_points` (every
//! poll) and `/optimizations`' `queued_points` (slow, kept between reads).
//!
//! [`estimate`] is pure: the samples of one collection in, a throughput and an ETA out. The
//! [`BacklogHistory`] keeps a few samples per collection between polls, spaced so that at most
//! about ten cover the window, however short the poll interval.
//!
//! The rule when nothing can be said (no point is emitted then, rather than a made-up value):
//! - throughput: unknown until two samples are some time apart; after a Qdrant restart (its
//!   count starts again from 0) the history starts again;
//! - ETA: 0 when nothing is queued (finished); else the backlog divided by the throughput,
//!   only when the throughput is above 0 (not stalled) and the backlog is not larger than at
//!   the window's start (not growing, where no finish time exists at this pace).

use std::collections::VecDeque;
use std::time::SystemTime;

use rustc_hash::FxHashMap;
use smol_str::SmolStr;

use crate::snapshot::{NodeSnapshot, OptimizerEstimate};

/// How far back the throughput looks: long enough to span several optimizer runs (each adds
/// its points only when it finishes), short enough to follow a change of pace.
pub const WINDOW_SECS: f64 = 300.0;
/// Samples kept closer together than this are merged (the newer one stays).
const SPACING_SECS: f64 = WINDOW_SECS / 8.0;

/// One poll's view of one collection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BacklogSample {
    /// Seconds on the agent's monotonic clock.
    pub at: f64,
    /// `total_optimized_points` summed over the local shards (since Qdrant started).
    pub optimized_points: f64,
    /// `queued_points` of the last `/optimizations` read, if any.
    pub queued_points: Option<f64>,
}

/// The estimate from one collection's samples, oldest first.
pub fn estimate(samples: &[BacklogSample]) -> OptimizerEstimate {
    let (Some(first), Some(last)) = (samples.first(), samples.last()) else {
        return OptimizerEstimate::default();
    };
    let span = last.at - first.at;
    let done = last.optimized_points - first.optimized_points;
    let throughput = (span > 0.0 && done >= 0.0)
        .then(|| done / span)
        .filter(|r| r.is_finite());
    let eta = match last.queued_points {
        None => None,
        Some(queued) if queued <= 0.0 => Some(0.0),
        Some(queued) => {
            let growing = first.queued_points.is_some_and(|start| queued > start);
            throughput
                .filter(|rate| *rate > 0.0 && !growing)
                .map(|rate| queued / rate)
        }
    };
    OptimizerEstimate { throughput, eta }
}

/// Recent samples of every collection of one node.
#[derive(Debug, Default)]
pub struct BacklogHistory {
    /// Each collection's samples, and the last poll that saw it.
    by_collection: FxHashMap<SmolStr, (u64, VecDeque<BacklogSample>)>,
    /// Polls observed so far.
    polls: u64,
    /// The Qdrant process start the samples belong to.
    process_start: Option<SystemTime>,
}

impl BacklogHistory {
    /// Add this poll's samples (collections not in it are forgotten) and estimate each.
    /// Updated in place: a collection seen before costs no allocation.
    pub fn observe(
        &mut self,
        process_start: Option<SystemTime>,
        samples: Vec<(&str, BacklogSample)>,
    ) -> FxHashMap<SmolStr, OptimizerEstimate> {
        if process_start.is_some() && process_start != self.process_start {
            // A restart: counts since the old start say nothing about the new one.
            self.by_collection.clear();
            self.process_start = process_start;
        }
        self.polls += 1;
        let poll = self.polls;
        let mut estimates = FxHashMap::default();
        estimates.reserve(samples.len());
        for (name, sample) in samples {
            let (seen, history) = match self.by_collection.get_mut(name) {
                Some(entry) => entry,
                None => self.by_collection.entry(SmolStr::new(name)).or_default(),
            };
            *seen = poll;
            push(history, sample);
            estimates.insert(SmolStr::new(name), estimate(history.make_contiguous()));
        }
        self.by_collection.retain(|_, (seen, _)| *seen == poll);
        estimates
    }
}

/// Add a sample: a count that went down (a restart) or a clock that went back starts the
/// history again; samples too close to the previous one replace the newest; those older than
/// needed to span the window are dropped.
fn push(history: &mut VecDeque<BacklogSample>, sample: BacklogSample) {
    let valid = |v: f64| v.is_finite() && v >= 0.0;
    if !valid(sample.optimized_points) || !sample.at.is_finite() {
        return;
    }
    let sample = BacklogSample {
        queued_points: sample.queued_points.filter(|q| valid(*q)),
        ..sample
    };
    if let Some(last) = history.back() {
        if sample.optimized_points < last.optimized_points || sample.at < last.at {
            history.clear();
        }
    }
    if history.len() >= 2 && sample.at - history[history.len() - 2].at < SPACING_SECS {
        history.pop_back();
    }
    history.push_back(sample);
    while history.len() > 2 && sample.at - history[1].at >= WINDOW_SECS {
        history.pop_front();
    }
}

/// This poll's samples: every collection telemetry lists with an optimized-points count.
pub fn samples(snapshot: &NodeSnapshot, at: f64) -> Vec<(&str, BacklogSample)> {
    let listed = snapshot.telemetry.iter().flat_map(|t| t.collection_list());
    listed
        .filter_map(|collection| {
            let name = collection.id.as_ref()?;
            let optimized_points = collection
                .local_shards()
                .filter_map(|local| local.total_optimized_points)
                .reduce(|a, b| a + b)?;
            let queued_points = snapshot
                .optimizations
                .as_ref()
                .and_then(|reads| reads.get(name.as_str()))
                .and_then(|info| info.summary.as_ref()?.queued_points);
            let sample = BacklogSample {
                at,
                optimized_points,
                queued_points,
            };
            Some((name.as_str(), sample))
        })
        .collect()
}

#[cfg(test)]
mod tests;
