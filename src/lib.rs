//! qdrant-otel-agent: polls Qdrant's REST API and pushes OpenTelemetry metrics over OTLP.
//!
//! Data flow: [`agent`] ticks → [`sources`] poll a node through [`qdrant`] → one immutable
//! [`snapshot::NodeSnapshot`] → [`metrics::record`] (pure) → [`export`] (OTLP).

pub mod agent;
pub mod cli;
pub mod config;
pub mod events;
pub mod export;
pub mod metrics;
pub mod qdrant;
pub mod resource;
pub mod snapshot;
pub mod source_id;
pub mod sources;
pub mod telemetry;

/// docs/metrics.md: the Qdrant metrics (`metrics::docs`), then the agent's own (`telemetry`).
pub fn metrics_doc() -> String {
    metrics::docs::render_metrics_doc() + &telemetry::catalogue::render_doc()
}
