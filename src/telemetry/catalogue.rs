//! The agent's own metrics, as the SDK creates them and docs/metrics.md lists them: one entry
//! per instrument, the single source of its name, unit, attributes and description.

/// The kind of an SDK instrument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Histogram,
    Counter,
    /// Observed at each collection (process CPU time).
    ObservableCounter,
    /// Observed at each collection; can go down.
    ObservableUpDownCounter,
    ObservableGauge,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Histogram => "histogram",
            Kind::Counter => "counter",
            Kind::ObservableCounter => "counter (observed)",
            Kind::ObservableUpDownCounter => "up-down counter (observed)",
            Kind::ObservableGauge => "gauge (observed)",
        }
    }
}

/// One instrument of the agent's own telemetry.
#[derive(Debug)]
pub struct OwnMetric {
    pub name: &'static str,
    pub kind: Kind,
    pub unit: &'static str,
    pub attributes: &'static [&'static str],
    pub description: &'static str,
}

/// The node polled (its `service.instance.id`, `host:port`): the `instance` of its own data.
pub const NODE: &str = "qdrant.instance";
/// The exported resource: a node's `host:port`, or the cluster's name.
pub const RESOURCE: &str = "qdrant.resource";
pub const ERROR_TYPE: &str = "error.type";
/// Why points were not delivered: `invalid` or `replaced`.
pub const REASON: &str = "qdrant.agent.drop.reason";
/// `user` or `system`.
pub const CPU_MODE: &str = "cpu.mode";

pub const POLL_DURATION: OwnMetric = OwnMetric {
    name: "qdrant.agent.poll.duration",
    kind: Kind::Histogram,
    unit: "s",
    attributes: &[NODE],
    description: "Wall time of one poll of a node, all its sources together.",
};

pub const EXPORT_DURATION: OwnMetric = OwnMetric {
    name: "qdrant.agent.export.duration",
    kind: Kind::Histogram,
    unit: "s",
    attributes: &[RESOURCE],
    description: "Wall time of one export of a resource's points (every request, until \
                  delivered or failed).",
};

pub const EXPORT_BYTES: OwnMetric = OwnMetric {
    name: "qdrant.agent.export.bytes",
    kind: Kind::Counter,
    unit: "By",
    attributes: &[RESOURCE],
    description: "Bytes of OTLP requests delivered (encoded protobuf, before compression).",
};

pub const EXPORT_FAILURES: OwnMetric = OwnMetric {
    name: "qdrant.agent.export.failures",
    kind: Kind::Counter,
    unit: "{failure}",
    attributes: &[RESOURCE, ERROR_TYPE],
    description: "Exports that failed (the newest points are sent at the next attempt), by \
                  error type; a zero series without `error.type` per resource from its start.",
};

pub const EXPORT_REJECTED_POINTS: OwnMetric = OwnMetric {
    name: "qdrant.agent.export.rejected_points",
    kind: Kind::Counter,
    unit: "{point}",
    attributes: &[RESOURCE],
    description: "Data points the receiver rejected in requests it accepted in part (OTLP \
                  partial success); never sent again.",
};

pub const POINTS_DROPPED: OwnMetric = OwnMetric {
    name: "qdrant.agent.points.dropped",
    kind: Kind::Counter,
    unit: "{point}",
    attributes: &[RESOURCE, REASON],
    description: "Points never delivered: `invalid` (impossible values left out by recording, \
                  also counted as decode errors) or `replaced` (newer points of the same \
                  resource replaced them before they were delivered).",
};

pub const RESPONSES_HELD: OwnMetric = OwnMetric {
    name: "qdrant.agent.responses.held",
    kind: Kind::ObservableUpDownCounter,
    unit: "By",
    attributes: &[],
    description: "Bytes of Qdrant response bodies held in memory now, across all nodes.",
};

pub const RESPONSES_LIMIT: OwnMetric = OwnMetric {
    name: "qdrant.agent.responses.limit",
    kind: Kind::ObservableUpDownCounter,
    unit: "By",
    attributes: &[],
    description: "The bound on `qdrant.agent.responses.held` (`qdrant.max_response_bytes`): \
                  a response that would pass it fails as too large.",
};

pub const CPU_TIME: OwnMetric = OwnMetric {
    name: "process.cpu.time",
    kind: Kind::ObservableCounter,
    unit: "s",
    attributes: &[CPU_MODE],
    description: "CPU time the agent's process used, by mode (`user`, `system`).",
};

pub const MEMORY_USAGE: OwnMetric = OwnMetric {
    name: "process.memory.usage",
    kind: Kind::ObservableUpDownCounter,
    unit: "By",
    attributes: &[],
    description: "The agent's resident memory (RSS).",
};

/// Every instrument, in the order docs/metrics.md lists them.
pub const ALL: &[&OwnMetric] = &[
    &POLL_DURATION,
    &EXPORT_DURATION,
    &EXPORT_BYTES,
    &EXPORT_FAILURES,
    &EXPORT_REJECTED_POINTS,
    &POINTS_DROPPED,
    &RESPONSES_HELD,
    &RESPONSES_LIMIT,
    &CPU_TIME,
    &MEMORY_USAGE,
];

/// Upper bounds of the duration histograms' buckets, in seconds: from a fast poll of one node
/// to an export that hits a long timeout.
pub const DURATION_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

impl OwnMetric {
    /// The name after the OTLP → Prometheus translation (a histogram's series add `_bucket`,
    /// `_sum` and `_count`).
    pub fn prometheus_name(&self) -> String {
        let mut name = self.name.replace('.', "_");
        let unit = match self.unit {
            "s" => "_seconds",
            "By" => "_bytes",
            _ => "",
        };
        // A name that already ends with its unit does not get it twice.
        if !name.ends_with(unit) {
            name.push_str(unit);
        }
        if matches!(self.kind, Kind::Counter | Kind::ObservableCounter) {
            name.push_str("_total");
        }
        name
    }
}

/// The section of docs/metrics.md on the agent's own metrics.
pub fn render_doc() -> String {
    let mut doc = String::from(
        "\n## The agent's own metrics\n\n\
         Exported through the OpenTelemetry SDK on the agent's own resource: `service.name` \
         `qdrant-otel-agent` (`job=\"qdrant-otel-agent\"` in Prometheus), `service.version`, \
         `service.instance.id` (a random UUID per start, or the `service.instance.id` given in \
         `resource.attributes` or `OTEL_RESOURCE_ATTRIBUTES`), the other configured resource \
         attributes, and the SDK's `telemetry.sdk.*`. Sent every `poll.interval` to the same \
         endpoint over the same connection as the Qdrant data, with the same temporality; \
         `otlp.self_telemetry: false` turns them off. Facts that belong beside a node's data \
         stay on the node's resource (above): `qdrant.up`, `qdrant.agent.source.duration`, \
         `qdrant.agent.data.age`, `qdrant.agent.poll.errors`, `qdrant.agent.exported_points`.\n\n\
         | Metric | Prometheus name | Type | Unit | Attributes |\n|---|---|---|---|---|\n",
    );
    for spec in ALL {
        let attributes: Vec<String> = spec.attributes.iter().map(|a| format!("`{a}`")).collect();
        let name = spec.prometheus_name();
        let prometheus = if spec.kind == Kind::Histogram {
            format!("`{name}_bucket`, `{name}_sum`, `{name}_count`")
        } else {
            format!("`{name}`")
        };
        doc.push_str(&format!(
            "| `{}` | {} | {} | `{}` | {} |\n",
            spec.name,
            prometheus,
            spec.kind.as_str(),
            spec.unit,
            attributes.join(", ")
        ));
    }
    doc.push('\n');
    for spec in ALL {
        doc.push_str(&format!("- `{}`: {}\n", spec.name, spec.description));
    }
    doc.push_str(TRACES_DOC);
    doc
}

/// The section of docs/metrics.md on the traces of the polls (`telemetry::traces`).
const TRACES_DOC: &str = "\n## Traces of the polls\n\n\
    Off by default; `otlp.traces: true` (`QDRANT_OTEL_OTLP__TRACES=true`) turns them on. On the \
    agent's resource above, to the same Collector over the same connection (OTLP/HTTP: \
    `/v1/traces` beside `/v1/metrics`). Every poll is traced; a Collector's sampling \
    processor thins them if need be. The shipped Collector config has a `traces` pipeline \
    to its `debug` exporter: point it at your tracing backend.\n\n\
    - `qdrant.poll` (internal, a root span): one node's poll. `server.address`, \
    `server.port` (int) of the node; `qdrant.poll.slow` (bool: this poll reads the slow \
    sources); `qdrant.up` (bool), and an error status when the node is down. A poll cut \
    short by shutdown ends without `qdrant.up`.\n\
    - `GET` (client, under its poll): one request to Qdrant, per the HTTP semantic \
    conventions: `http.request.method`, `url.full` (credentials in the URL replaced by \
    `REDACTED`), `server.address`, `server.port`, `http.response.status_code` (int), and \
    on failure an error status and `error.type`: the status code for an HTTP error, else \
    `timeout`, `connect`, `decode` or `too_large`.\n";
