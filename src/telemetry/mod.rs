//! The agent's own telemetry, through the OpenTelemetry SDK, the way the Collector reports its
//! own: the Qdrant data keeps its direct encoder (`export`), while what the agent says of itself
//! (poll and export durations, bytes, failures, points dropped, memory held, process CPU and
//! memory) goes through `opentelemetry` instruments, an `SdkMeterProvider` on the agent's own
//! resource (`service.name = qdrant-otel-agent`, so `job="qdrant-otel-agent"` in Prometheus),
//! and `opentelemetry-otlp`'s exporter over the data path's connection (`export::sdk`).
//!
//! Facts that belong beside a node's data stay on the node's resource, as Prometheus keeps `up`
//! beside a target's series: `qdrant.up`, data age, poll errors, exported points.
//! The instruments are listed once, in `catalogue`; docs/metrics.md is rendered from it.
//! When asked (`otlp.traces`), the polls are traced too, on the same resource (`traces`).

pub mod catalogue;
mod instruments;
mod process;
mod traces;

use std::sync::Arc;
use std::time::Duration;

use opentelemetry::metrics::Meter;
use opentelemetry::metrics::MeterProvider;
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::resource::TelemetryResourceDetector;
use opentelemetry_sdk::Resource;
use tokio::sync::Semaphore;

use crate::export::OtlpClient;
pub use instruments::{DropReason, Recorder};
pub use traces::Traces;

/// The agent's `service.name`.
pub const SERVICE_NAME: &str = "qdrant-otel-agent";

/// The semantic conventions the attribute and metric names follow.
pub const SCHEMA_URL: &str = "https://opentelemetry.io/schemas/1.38.0";

/// Resolved attributes that describe the Qdrant nodes, not the agent: left out of its resource.
const NODE_ONLY: &[&str] = &["service.name", "server.address", "server.port"];

/// Why the agent's own telemetry could not start.
#[derive(Debug, thiserror::Error)]
#[error("the agent's own telemetry: {0}")]
pub struct TelemetryError(String);

/// The running SDK pipeline; [`SelfTelemetry::shutdown`] exports what is left.
pub struct SelfTelemetry {
    provider: SdkMeterProvider,
    recorder: Recorder,
}

/// What the observed instruments read.
pub struct Observed {
    /// The memory bound of response bodies, shared by every node's client (permits are KiB).
    pub budget: Arc<Semaphore>,
    /// `qdrant.max_response_bytes`.
    pub budget_bytes: u64,
}

impl SelfTelemetry {
    /// Export the agent's own metrics every `interval` over `otlp`'s connection, on the
    /// agent's `resource` ([`agent_resource`]). Call within the Tokio runtime.
    pub fn start(
        otlp: &OtlpClient,
        interval: Duration,
        resource: Resource,
        observed: Observed,
    ) -> Result<SelfTelemetry, TelemetryError> {
        let exporter = otlp
            .sdk_metric_exporter()
            .map_err(|e| TelemetryError(e.to_string()))?;
        let reader = PeriodicReader::builder(exporter)
            .with_interval(interval.max(Duration::from_secs(1)))
            .build();
        let provider = SdkMeterProvider::builder()
            .with_resource(resource)
            .with_reader(reader)
            .build();
        let meter = provider.meter_with_scope(scope());
        register_observed(&meter, observed);
        let recorder = Recorder::new(&meter);
        Ok(SelfTelemetry { provider, recorder })
    }

    /// What the poll and export tasks record with.
    pub fn recorder(&self) -> Recorder {
        self.recorder.clone()
    }

    /// Export what was recorded since the last export, and stop (bounded by `grace`).
    pub async fn shutdown(self, grace: Duration) {
        let provider = self.provider;
        stop_within(grace, "metrics", move || provider.shutdown()).await;
    }
}

/// Shut an SDK provider down (blocking: its exporting thread exports and answers) within
/// `grace`.
async fn stop_within(
    grace: Duration,
    what: &'static str,
    shutdown: impl FnOnce() -> opentelemetry_sdk::error::OTelSdkResult + Send + 'static,
) {
    match tokio::time::timeout(grace, tokio::task::spawn_blocking(shutdown)).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(error))) => {
            tracing::warn!(%error, "The agent's own {what} did not shut down cleanly.")
        }
        Ok(Err(_)) | Err(_) => {
            tracing::warn!("The agent's own {what} did not shut down in time.")
        }
    }
}

/// The scope of the agent's instruments.
fn scope() -> InstrumentationScope {
    InstrumentationScope::builder(SERVICE_NAME)
        .with_version(env!("CARGO_PKG_VERSION"))
        .with_schema_url(SCHEMA_URL)
        .build()
}

/// `service.name = qdrant-otel-agent`, the agent's version, its instance id (the resolved
/// `service.instance.id` if the user gave one, else a random one per start, as the Collector
/// does for its own), the resolved attributes that are not about Qdrant, and the SDK's own.
/// Built once per start: the metrics and the traces share it.
pub fn agent_resource(resolved: &[(String, String)]) -> Resource {
    let instance = resolved
        .iter()
        .find(|(key, _)| key == "service.instance.id")
        .map(|(_, value)| value.clone())
        .unwrap_or_else(random_instance_id);
    let mut attributes: Vec<KeyValue> = resolved
        .iter()
        .filter(|(key, _)| !NODE_ONLY.contains(&key.as_str()) && key != "service.instance.id")
        .map(|(key, value)| KeyValue::new(key.clone(), value.clone()))
        .collect();
    attributes.extend([
        KeyValue::new("service.name", SERVICE_NAME),
        KeyValue::new("service.version", env!("CARGO_PKG_VERSION")),
        KeyValue::new("service.instance.id", instance),
    ]);
    Resource::builder_empty()
        .with_detector(Box::new(TelemetryResourceDetector))
        .with_attributes(attributes)
        .with_schema_url([], SCHEMA_URL)
        .build()
}

/// A random UUID (version 4), the form the semantic conventions recommend.
fn random_instance_id() -> String {
    let mut bytes: [u8; 16] = rand::random();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// The observed instruments: read by the SDK at each export.
fn register_observed(meter: &Meter, observed: Observed) {
    let Observed {
        budget,
        budget_bytes,
    } = observed;
    let budget_kib = budget_bytes.div_ceil(1024);
    let spec = &catalogue::RESPONSES_HELD;
    meter
        .i64_observable_up_down_counter(spec.name)
        .with_unit(spec.unit)
        .with_description(spec.description)
        .with_callback(move |observer| {
            let free = budget.available_permits() as u64;
            observer.observe(saturating_i64(budget_kib.saturating_sub(free) * 1024), &[]);
        })
        .build();
    let spec = &catalogue::RESPONSES_LIMIT;
    meter
        .i64_observable_up_down_counter(spec.name)
        .with_unit(spec.unit)
        .with_description(spec.description)
        .with_callback(move |observer| observer.observe(saturating_i64(budget_bytes), &[]))
        .build();
    let spec = &catalogue::CPU_TIME;
    meter
        .f64_observable_counter(spec.name)
        .with_unit(spec.unit)
        .with_description(spec.description)
        .with_callback(|observer| {
            if let Some((user, system)) = process::cpu_seconds() {
                observer.observe(user, &[KeyValue::new(catalogue::CPU_MODE, "user")]);
                observer.observe(system, &[KeyValue::new(catalogue::CPU_MODE, "system")]);
            }
        })
        .build();
    let spec = &catalogue::MEMORY_USAGE;
    meter
        .i64_observable_up_down_counter(spec.name)
        .with_unit(spec.unit)
        .with_description(spec.description)
        .with_callback(|observer| {
            if let Some(bytes) = process::resident_bytes() {
                observer.observe(saturating_i64(bytes), &[]);
            }
        })
        .build();
}

fn saturating_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attributes(resource: &Resource) -> std::collections::BTreeMap<String, String> {
        resource
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_agent_has_its_own_service_and_keeps_the_attributes_not_about_qdrant() {
        let resolved = [
            ("service.name".to_string(), "qdrant-prod".to_string()),
            (
                "deployment.environment.name".to_string(),
                "prod".to_string(),
            ),
            ("server.port".to_string(), "6333".to_string()),
        ];
        let first = attributes(&agent_resource(&resolved));
        assert_eq!(first["service.name"], SERVICE_NAME);
        assert_eq!(first["deployment.environment.name"], "prod");
        assert!(!first.contains_key("server.port"));
        assert_eq!(first["telemetry.sdk.language"], "rust");
        let id = &first["service.instance.id"];
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4", "a version 4 UUID: {id}");
        let second = attributes(&agent_resource(&resolved));
        assert_ne!(second["service.instance.id"], *id, "one per start");
    }

    #[test]
    fn a_given_instance_id_names_the_agent() {
        let resolved = [("service.instance.id".to_string(), "agent-7".to_string())];
        let attributes = attributes(&agent_resource(&resolved));
        assert_eq!(attributes["service.instance.id"], "agent-7");
    }
}
