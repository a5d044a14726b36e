//! The registry's own checks: names, sources, state sets, start times, Prometheus names.

use super::*;
use std::collections::HashSet;

#[test]
fn no_metric_is_older_than_its_source() {
    for spec in REGISTRY {
        assert!(
            spec.since >= spec.source.since(),
            "{} claims {} but its source {} arrived in {}",
            spec.name,
            spec.since,
            spec.source,
            spec.source.since()
        );
    }
}

#[test]
fn every_source_but_the_agent_names_its_endpoints() {
    for spec in REGISTRY {
        assert_eq!(
            spec.source.endpoints().is_empty(),
            spec.source == SourceId::Agent,
            "{}",
            spec.name
        );
    }
}

#[test]
fn names_are_unique_and_never_a_namespace_of_another() {
    let names: HashSet<&str> = REGISTRY.iter().map(|s| s.name).collect();
    assert_eq!(names.len(), REGISTRY.len(), "duplicate metric names");
    for spec in REGISTRY {
        let prefix = format!("{}.", spec.name);
        for other in REGISTRY {
            assert!(
                !other.name.starts_with(&prefix),
                "{} is also the namespace of {}",
                spec.name,
                other.name
            );
        }
    }
}

#[test]
fn state_sets_carry_the_state_attribute() {
    for spec in REGISTRY {
        assert_eq!(
            !spec.states.is_empty(),
            spec.attributes.contains(&attr::STATE),
            "{}: a state set lists its states and has the `state` attribute",
            spec.name
        );
    }
}

#[test]
fn prometheus_names_follow_the_translation_rules() {
    let name = |id| MetricSpec::get(id).prometheus_name();
    assert_eq!(name(MetricId::Uptime), "qdrant_uptime_seconds");
    assert_eq!(name(MetricId::MemoryActive), "qdrant_memory_active_bytes");
    assert_eq!(name(MetricId::RestResponses), "qdrant_rest_responses_total");
    assert_eq!(
        name(MetricId::RestResponseDuration),
        "qdrant_rest_response_duration_seconds_total"
    );
    assert_eq!(name(MetricId::CollectionPoints), "qdrant_collection_points");
    // `{point}/s`: the annotation goes and `/s` reads `per_second`, as the OTLP → Prometheus
    // compatibility spec translates `x/y` units.
    assert_eq!(
        name(MetricId::OptimizationThroughput),
        "qdrant_collection_optimization_throughput_per_second"
    );
    assert_eq!(
        name(MetricId::QuotaPeerUsage),
        "qdrant_quota_peer_usage_ratio"
    );
}

/// Every counter Qdrant keeps counts from Qdrant's start, as do the search sums that drop
/// after merges; the agent's own counters and every level count from the agent's start.
#[test]
fn qdrant_owned_counts_start_at_qdrants_start() {
    for spec in REGISTRY {
        if spec.instrument == Instrument::Counter && spec.source != SourceId::Agent {
            assert_eq!(spec.counts_from, CountsFrom::QdrantStart, "{}", spec.name);
        }
        if spec.counts_from == CountsFrom::QdrantStart {
            assert_ne!(spec.instrument, Instrument::Gauge, "{}", spec.name);
            assert_ne!(spec.source, SourceId::Agent, "{}", spec.name);
        }
    }
    let from = |id| MetricSpec::get(id).counts_from;
    assert_eq!(from(MetricId::Searches), CountsFrom::QdrantStart);
    assert_eq!(from(MetricId::PollErrors), CountsFrom::Agent);
    assert_eq!(from(MetricId::CollectionPoints), CountsFrom::Agent);
}

/// Qdrant's per-segment search counts drop when segments merge: a monotonic Sum would
/// decrease under an unchanged start time.
#[test]
fn search_counts_that_drop_after_merges_are_not_monotonic() {
    for id in [MetricId::Searches, MetricId::SearchDuration] {
        assert_eq!(MetricSpec::get(id).instrument, Instrument::UpDownCounter);
    }
    let name = |id| MetricSpec::get(id).prometheus_name();
    assert_eq!(name(MetricId::Searches), "qdrant_collection_searches");
    assert_eq!(
        name(MetricId::SearchDuration),
        "qdrant_collection_search_duration_seconds"
    );
}

#[test]
fn per_node_cluster_metrics_name_their_cluster() {
    for spec in REGISTRY {
        assert_eq!(
            spec.source == SourceId::Cluster && spec.scope == Scope::Node,
            spec.attributes.first() == Some(&attr::CLUSTER_NAME),
            "{}: the per-node cluster metrics, and only they, carry {} (first)",
            spec.name,
            attr::CLUSTER_NAME
        );
    }
}
