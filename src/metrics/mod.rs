//! Metrics: the registry (single source of truth), the pure snapshot → points conversion, and
//! the renderings of points and of the metric documentation.

pub mod docs;
pub mod record;
pub mod registry;
pub mod render;

pub use record::{
    record, record_into, Attributes, ClusterRole, Point, PointSink, RecordOptions, RecordSummary,
    Recorded, DEFAULT_CLUSTER_NAME,
};
pub use registry::{MetricId, MetricSpec, REGISTRY};
