//! The only OTLP code. One `SdkMeterProvider` per exported resource (a Qdrant node, or a
//! cluster), observable instruments built from the registry whose callbacks read the latest
//! published points, and an explicit flush after each poll so the export result is known.
//!
//! Observable instruments in opentelemetry 0.33 report only what their latest callback
//! observed: a collection that disappears from Qdrant stops being exported on the next flush
//! (a synchronous gauge would repeat its last value forever).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use opentelemetry::metrics::{Meter, MeterProvider as _};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_otlp::{MetricExporter, WithExportConfig, WithHttpConfig, WithTonicConfig};
use opentelemetry_sdk::metrics::{
    Instrument as SdkInstrument, PeriodicReader, SdkMeterProvider, Stream,
};
use opentelemetry_sdk::Resource;

use crate::config::{Compression, OtlpProtocol, OtlpSettings};
use crate::metrics::registry::{Instrument, ValueType, REGISTRY};
use crate::metrics::Point;

/// The SDK's default per-instrument cardinality limit; the floor of ours.
const MIN_CARDINALITY_LIMIT: usize = 2_000;
/// The periodic reader only backs up the explicit flushes: exports are driven by the poll loop.
const READER_INTERVAL: Duration = Duration::from_secs(3600);

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot build the OTLP exporter: {0}")]
    Build(String),
    #[error("OTLP export failed: {0}")]
    Flush(String),
    #[error("OTLP export did not finish within {0:?}")]
    Timeout(Duration),
}

/// Points as the instruments' callbacks read them: per metric (registry order), the attribute
/// sets and values.
type PointTable = Vec<Vec<(Vec<KeyValue>, f64)>>;

/// Exports one resource's points.
pub struct ResourceExporter {
    otlp: OtlpSettings,
    table: Arc<ArcSwap<PointTable>>,
    active: Option<ActiveProvider>,
}

struct ActiveProvider {
    provider: SdkMeterProvider,
    resource: Vec<KeyValue>,
    cardinality_limit: usize,
}

impl ResourceExporter {
    pub fn new(otlp: OtlpSettings) -> ResourceExporter {
        ResourceExporter {
            otlp,
            table: Arc::new(ArcSwap::from_pointee(empty_table())),
            active: None,
        }
    }

    /// Replace the exported points. Rebuilds the provider when the resource changed (a new
    /// Qdrant version, a peer id learned) or the points outgrow the cardinality limit.
    pub fn publish(
        &mut self,
        resource: Vec<KeyValue>,
        parts: &[&[Point]],
    ) -> Result<usize, ExportError> {
        let mut table = empty_table();
        let points = parts.iter().flat_map(|part| part.iter());
        let count = parts.iter().map(|part| part.len()).sum();
        for point in points {
            let attributes = point
                .attributes
                .iter()
                .map(|(k, v)| KeyValue::new(*k, v.clone()))
                .collect();
            table[point.metric as usize].push((attributes, point.value));
        }
        let largest = table.iter().map(Vec::len).max().unwrap_or(0);
        let needs_rebuild = match &self.active {
            None => true,
            Some(active) => active.resource != resource || largest >= active.cardinality_limit,
        };
        if !needs_rebuild {
            self.table.store(Arc::new(table));
            return Ok(count);
        }
        if let Some(old) = self.active.take() {
            // The old provider keeps its own table, so its final export on shutdown repeats
            // its last points under its own resource rather than mixing old and new.
            shutdown_in_background(old.provider);
        }
        self.table = Arc::new(ArcSwap::from_pointee(table));
        let cardinality_limit = cardinality_limit_for(largest);
        let provider = self.build_provider(&resource, cardinality_limit)?;
        self.active = Some(ActiveProvider {
            provider,
            resource,
            cardinality_limit,
        });
        Ok(count)
    }

    /// Export the published points now.
    pub async fn flush(&self) -> Result<(), ExportError> {
        let Some(active) = &self.active else {
            return Ok(());
        };
        let provider = active.provider.clone();
        let bound = self.otlp.timeout + Duration::from_secs(1);
        // The HTTP exporter uses a blocking client: keep it off the async workers.
        let flush = tokio::task::spawn_blocking(move || provider.force_flush());
        match tokio::time::timeout(bound, flush).await {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(e))) => Err(ExportError::Flush(e.to_string())),
            Ok(Err(join)) => Err(ExportError::Flush(join.to_string())),
            Err(_) => Err(ExportError::Timeout(bound)),
        }
    }

    /// Flush and stop.
    pub async fn shutdown(mut self) {
        if let Some(active) = self.active.take() {
            let provider = active.provider;
            let _ = tokio::time::timeout(
                self.otlp.timeout,
                tokio::task::spawn_blocking(move || provider.shutdown()),
            )
            .await;
        }
    }

    fn build_provider(
        &self,
        resource: &[KeyValue],
        cardinality_limit: usize,
    ) -> Result<SdkMeterProvider, ExportError> {
        let exporter = build_exporter(&self.otlp)?;
        let reader = PeriodicReader::builder(exporter)
            .with_interval(READER_INTERVAL)
            .build();
        let provider = SdkMeterProvider::builder()
            .with_resource(
                Resource::builder_empty()
                    .with_attributes(resource.to_vec())
                    .build(),
            )
            .with_reader(reader)
            .with_view(move |_: &SdkInstrument| {
                Stream::builder()
                    .with_cardinality_limit(cardinality_limit)
                    .build()
                    .ok()
            })
            .build();
        let meter = provider.meter_with_scope(
            InstrumentationScope::builder("qdrant-otel-agent")
                .with_version(env!("CARGO_PKG_VERSION"))
                .build(),
        );
        register_instruments(&meter, &self.table);
        Ok(provider)
    }
}

/// `shutdown` blocks until the final export is done: keep it off the async workers.
fn shutdown_in_background(provider: SdkMeterProvider) {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            runtime.spawn_blocking(move || provider.shutdown());
        }
        Err(_) => {
            let _ = provider.shutdown();
        }
    }
}

fn empty_table() -> PointTable {
    vec![Vec::new(); REGISTRY.len()]
}

/// Enough for the largest metric with headroom, in steps of powers of two so that slow growth
/// does not rebuild the provider on every poll. The SDK preallocates in proportion to the
/// limit, so it is sized to need rather than set huge.
fn cardinality_limit_for(largest: usize) -> usize {
    (largest * 2).next_power_of_two().max(MIN_CARDINALITY_LIMIT)
}

/// One observable instrument per registry entry, reading its row of the table.
fn register_instruments(meter: &Meter, table: &Arc<ArcSwap<PointTable>>) {
    for spec in REGISTRY {
        let index = spec.id as usize;
        let table = Arc::clone(table);
        let name = spec.name;
        macro_rules! build {
            ($method:ident, $convert:expr) => {{
                meter
                    .$method(name)
                    .with_unit(spec.unit)
                    .with_description(spec.description)
                    .with_callback(move |observer| {
                        let table = table.load();
                        for (attributes, value) in &table[index] {
                            observer.observe($convert(*value), attributes);
                        }
                    })
                    .build();
            }};
        }
        match (spec.instrument, spec.value_type) {
            (Instrument::Gauge, ValueType::Int) => {
                build!(i64_observable_gauge, |v: f64| v.round() as i64)
            }
            (Instrument::Gauge, ValueType::Double) => build!(f64_observable_gauge, |v: f64| v),
            (Instrument::Counter, ValueType::Int) => {
                build!(u64_observable_counter, |v: f64| v.max(0.0).round() as u64)
            }
            (Instrument::Counter, ValueType::Double) => build!(f64_observable_counter, |v: f64| v),
            (Instrument::UpDownCounter, ValueType::Int) => {
                build!(i64_observable_up_down_counter, |v: f64| v.round() as i64)
            }
            (Instrument::UpDownCounter, ValueType::Double) => {
                build!(f64_observable_up_down_counter, |v: f64| v)
            }
        }
    }
}

/// Build (and drop) an exporter: a failure is a configuration problem, found at start-up
/// rather than at the first export. Needs a Tokio runtime context (gRPC).
pub fn check_exporter(otlp: &OtlpSettings) -> Result<(), ExportError> {
    build_exporter(otlp).map(drop)
}

/// Build the OTLP exporter with every setting resolved by the configuration (the agent's keys
/// and the standard variables of the injected environment), so that the SDK's own reading of
/// the process environment decides nothing. Two exceptions the SDK offers no way around: it
/// adds `OTEL_EXPORTER_OTLP_(METRICS_)HEADERS` from the process on top of ours, and with
/// compression `none` (no builder call for it) it falls back to
/// `OTEL_EXPORTER_OTLP_(METRICS_)COMPRESSION`. In the binary the configuration reads that same
/// process environment, so both agree unless an `otlp.*` key overrides the variable.
fn build_exporter(otlp: &OtlpSettings) -> Result<MetricExporter, ExportError> {
    let compression = match otlp.compression {
        Compression::Gzip => Some(opentelemetry_otlp::Compression::Gzip),
        Compression::None => None,
    };
    let built = match otlp.protocol {
        OtlpProtocol::HttpProtobuf => {
            let headers: HashMap<String, String> = otlp
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), v.expose().to_string()))
                .collect();
            let mut builder = MetricExporter::builder()
                .with_http()
                .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
                .with_endpoint(otlp.endpoint.clone())
                .with_timeout(otlp.timeout)
                .with_headers(headers);
            if let Some(compression) = compression {
                builder = builder.with_compression(compression);
            }
            builder.build()
        }
        OtlpProtocol::Grpc => {
            let mut metadata = tonic::metadata::MetadataMap::new();
            for (name, value) in &otlp.headers {
                let key =
                    tonic::metadata::MetadataKey::from_bytes(name.to_ascii_lowercase().as_bytes())
                        .map_err(|_| ExportError::Build(format!("invalid header name {name:?}")))?;
                let value = value.expose().parse().map_err(|_| {
                    ExportError::Build(format!("invalid value for header {name:?}"))
                })?;
                metadata.insert(key, value);
            }
            let mut builder = MetricExporter::builder()
                .with_tonic()
                .with_endpoint(otlp.endpoint.clone())
                .with_timeout(otlp.timeout)
                .with_metadata(metadata);
            if let Some(compression) = compression {
                builder = builder.with_compression(compression);
            }
            builder.build()
        }
    };
    built.map_err(|e| ExportError::Build(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::cardinality_limit_for;

    #[test]
    fn cardinality_limit_is_sized_to_need() {
        assert_eq!(cardinality_limit_for(0), 2_000);
        assert_eq!(cardinality_limit_for(1_500), 4_096);
        assert_eq!(cardinality_limit_for(20_000), 65_536);
    }
}
