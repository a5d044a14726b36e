//! The sources the agent polls (see docs/architecture.md and the source column of
//! docs/metrics.md) and the poll of one node.
//!
//! Cadence: `app`, `ready`, `telemetry`, `cluster` and `quotas` every poll; `telemetry_detail`,
//! the per-collection sources, `issues` and full-storage snapshots every `detail_every`-th poll
//! (the first poll included), their results kept in between so their series never blink.
//! Version: a source newer than the server (by the version `/` reports) is not called, and a
//! 404 marks a source unsupported until the version changes — neither counts as an error.

pub mod backlog;
mod collections;
mod filter;
mod per_collection;
mod plan;
mod poller;
mod spread;
mod state;
mod telemetry;

pub use filter::CollectionFilter;
pub use plan::{PollSettings, SourcePlan};
pub use poller::poll_node;
pub use state::NodeState;
