//! The agent's own metrics on the node they describe: poll duration per source and poll errors
//! per source and error type (zeros included), from the agent's statistics; export failures,
//! rejected points and exported points, from the export task's own statistics (see
//! [`export_points`]).

use smallvec::smallvec;
use smol_str::SmolStr;

use std::collections::BTreeMap;

use super::out::Out;
use crate::metrics::registry::MetricSelection;
use crate::metrics::registry::{attr, MetricId};
use crate::metrics::{Attributes, Point};
use crate::qdrant::ErrorType;
use crate::snapshot::{AgentStats, NodeSnapshot};
use crate::source_id::SourceId;

pub(super) fn record(out: &mut Out, snapshot: &NodeSnapshot, stats: &AgentStats) {
    // A source may make several requests (e.g. `snapshots`): its duration is their sum.
    let mut durations: BTreeMap<SourceId, f64> = BTreeMap::new();
    for report in &snapshot.sources {
        *durations.entry(report.source).or_default() += report.duration.as_secs_f64();
    }
    for (source, seconds) in durations {
        out.push(
            MetricId::PollDuration,
            seconds,
            smallvec![(attr::SOURCE, SmolStr::new_static(source.as_str()))],
        );
    }
    record_poll_errors(out, snapshot, stats);
    for (source, age) in &snapshot.data_age {
        out.push(
            MetricId::DataAge,
            *age,
            smallvec![(attr::SOURCE, SmolStr::new_static(source.as_str()))],
        );
    }
}

/// The export task's own metrics: failed exports and points the Collector rejected so far,
/// and the points of the last export.
pub fn export_points(
    failures: u64,
    rejected_points: u64,
    exported: Option<u64>,
    selection: &MetricSelection,
) -> Vec<Point> {
    let mut points = Vec::new();
    let mut push = |metric, value: f64| {
        if selection.is_enabled(metric) {
            points.push(Point {
                metric,
                attributes: Attributes::new(),
                value,
            });
        }
    };
    push(MetricId::ExportFailures, failures as f64);
    push(MetricId::ExportRejectedPoints, rejected_points as f64);
    if let Some(exported) = exported {
        push(MetricId::ExportedPoints, exported as f64);
    }
    points
}

/// Every error type of every source polled so far, zeros included, so that the first error of
/// a kind is an increase and not the birth of a series.
fn record_poll_errors(out: &mut Out, snapshot: &NodeSnapshot, stats: &AgentStats) {
    let mut errors: BTreeMap<(SourceId, ErrorType), u64> = BTreeMap::new();
    let sources = snapshot
        .sources
        .iter()
        .map(|r| r.source)
        .chain(stats.poll_errors.keys().map(|(s, _)| *s));
    for source in sources {
        for error_type in ErrorType::ALL {
            errors.entry((source, error_type)).or_insert(0);
        }
    }
    for (key, count) in &stats.poll_errors {
        errors.insert(*key, *count);
    }
    for ((source, error_type), count) in errors {
        out.push(
            MetricId::PollErrors,
            count as f64,
            smallvec![
                (attr::SOURCE, SmolStr::new_static(source.as_str())),
                (attr::ERROR_TYPE, SmolStr::new_static(error_type.as_str())),
            ],
        );
    }
}
