//! The agent's facts that belong beside a node's data (as Prometheus keeps `up` beside a
//! target's series): each source's duration and data age, poll errors per source and error
//! type (zeros included), and the points of the last export (see [`export_points`]). The
//! agent's other metrics are its own telemetry (the `telemetry` module).

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
            MetricId::SourceDuration,
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

/// The points of the export task's last export.
pub fn export_points(exported: Option<u64>, selection: &MetricSelection) -> Vec<Point> {
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
