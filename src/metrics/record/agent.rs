//! The agent's own metrics on the node they describe: poll duration per source, poll errors
//! per source and error type (zeros included), export failures and exported points.

use std::collections::BTreeMap;

use super::out::Out;
use crate::metrics::registry::{attr, MetricId};
use crate::qdrant::ErrorType;
use crate::snapshot::NodeSnapshot;
use crate::sources::SourceId;

pub(super) fn record(out: &mut Out, snapshot: &NodeSnapshot) {
    // A source may make several requests (e.g. `snapshots`): its duration is their sum.
    let mut durations: BTreeMap<SourceId, f64> = BTreeMap::new();
    for report in &snapshot.sources {
        *durations.entry(report.source).or_default() += report.duration.as_secs_f64();
    }
    for (source, seconds) in durations {
        out.push(
            MetricId::PollDuration,
            seconds,
            vec![(attr::SOURCE, source.as_str().to_string())],
        );
    }
    record_poll_errors(out, snapshot);
    out.push(
        MetricId::ExportFailures,
        snapshot.agent.export_failures as f64,
        vec![],
    );
    out.push_opt(
        MetricId::ExportedPoints,
        snapshot.agent.exported_points.map(|n| n as f64),
        vec![],
    );
}

/// Every error type of every source polled so far, zeros included, so that the first error of
/// a kind is an increase and not the birth of a series.
fn record_poll_errors(out: &mut Out, snapshot: &NodeSnapshot) {
    let mut errors: BTreeMap<(SourceId, ErrorType), u64> = BTreeMap::new();
    let sources = snapshot
        .sources
        .iter()
        .map(|r| r.source)
        .chain(snapshot.agent.poll_errors.keys().map(|(s, _)| *s));
    for source in sources {
        for error_type in ErrorType::ALL {
            errors.entry((source, error_type)).or_insert(0);
        }
    }
    for (key, count) in &snapshot.agent.poll_errors {
        errors.insert(*key, *count);
    }
    for ((source, error_type), count) in errors {
        out.push(
            MetricId::PollErrors,
            count as f64,
            vec![
                (attr::SOURCE, source.as_str().to_string()),
                (attr::ERROR_TYPE, error_type.as_str().to_string()),
            ],
        );
    }
}
