//! The point sink every recorder writes to: drops disabled metrics and excluded collections,
//! hashes collection names when asked, routes cluster-scoped points by the node's cluster role
//! to the node's or the cluster's [`PointSink`], and expands state sets and per-state counts.

use smallvec::smallvec;
use smol_str::SmolStr;

use super::{hash_name, Attributes, ClusterRole, PointSink, RecordOptions};
use crate::metrics::registry::{attr, Instrument, MetricId, MetricSpec, Scope, ValueType};
use crate::qdrant::models::VecMap;
use crate::source_id::SourceId;

pub(super) struct Out<'a> {
    /// Points on the node's resource.
    node: &'a mut dyn PointSink,
    /// Points on the cluster's resource (the leader only).
    cluster: &'a mut dyn PointSink,
    role: ClusterRole,
    options: &'a RecordOptions,
    /// Whether any collection is excluded or renamed (most setups: none is).
    names_change: bool,
    /// The last collection name decided and what it became (`None`: excluded): the points of a
    /// collection come together, so each name is matched and hashed once, not once per point.
    last_name: Option<(SmolStr, Option<SmolStr>)>,
    /// The sources of impossible values left out.
    pub(super) dropped: Vec<SourceId>,
}

impl<'a> Out<'a> {
    pub(super) fn new(
        options: &'a RecordOptions,
        role: ClusterRole,
        node: &'a mut dyn PointSink,
        cluster: &'a mut dyn PointSink,
    ) -> Out<'a> {
        Out {
            node,
            cluster,
            role,
            options,
            names_change: options.hash_collection_names || !options.collections.is_everything(),
            last_name: None,
            dropped: Vec::new(),
        }
    }

    /// What the collection called `name` is exported as; `None` when it is excluded.
    fn exported_name(&mut self, name: &SmolStr) -> Option<SmolStr> {
        if let Some((last, exported)) = &self.last_name {
            if last == name {
                return exported.clone();
            }
        }
        let exported = self.options.collections.includes(name).then(|| {
            if self.options.hash_collection_names {
                SmolStr::from(hash_name(name))
            } else {
                name.clone()
            }
        });
        self.last_name = Some((name.clone(), exported.clone()));
        exported
    }

    /// The attributes every per-node cluster point starts from: the configured cluster name,
    /// so that the nodes of clusters sharing one job stay apart.
    pub(super) fn cluster_base(&self) -> Attributes {
        smallvec![(attr::CLUSTER_NAME, self.options.cluster_name.clone())]
    }

    /// Cluster mode is off: node-local and cluster-wide numbers are the same.
    pub(super) fn is_standalone(&self) -> bool {
        self.role == ClusterRole::Standalone
    }

    /// Cluster-scoped points go to the cluster when this node is the leader, stay on the node
    /// when it is standalone, and are left to the leader by a follower.
    pub(super) fn push(&mut self, metric: MetricId, value: f64, mut attributes: Attributes) {
        if !self.options.selection.is_enabled(metric) {
            return;
        }
        if self.names_change {
            let collection = attributes
                .iter_mut()
                .find(|(key, value)| *key == attr::COLLECTION && !value.is_empty());
            if let Some((_, name)) = collection {
                match self.exported_name(name) {
                    Some(exported) => *name = exported,
                    None => return,
                }
            }
        }
        let spec = MetricSpec::get(metric);
        // Counts, sizes and counters cannot be negative; nothing can be NaN or infinite.
        let overflows = spec.value_type == ValueType::Int && value.abs() >= 9.2e18;
        if !value.is_finite() || overflows || value < 0.0 && spec.instrument != Instrument::Gauge {
            self.dropped.push(spec.source);
            return;
        }
        let target = match (spec.scope, self.role) {
            (Scope::Node, _) | (Scope::Cluster, ClusterRole::Standalone) => &mut *self.node,
            (Scope::Cluster, ClusterRole::Leader) => &mut *self.cluster,
            (Scope::Cluster, ClusterRole::Follower) => return,
        };
        target.push(metric, value, &attributes);
    }

    pub(super) fn push_opt(
        &mut self,
        metric: MetricId,
        value: Option<f64>,
        attributes: Attributes,
    ) {
        if let Some(value) = value {
            self.push(metric, value, attributes);
        }
    }

    /// A state set: every declared state with 1 for the current one and 0 for the others; an
    /// undeclared current state (a newer Qdrant) is reported too rather than lost.
    pub(super) fn state_set(&mut self, metric: MetricId, current: &str, attributes: &Attributes) {
        let states = MetricSpec::get(metric).states;
        for state in states {
            self.push(
                metric,
                f64::from(u8::from(*state == current)),
                with(attributes, attr::STATE, SmolStr::new_static(state)),
            );
        }
        if !states.contains(&current) {
            self.push(metric, 1.0, with_state(attributes, current));
        }
    }

    /// Counts per state: every declared state (0 when absent) plus any undeclared one seen.
    pub(super) fn state_counts(
        &mut self,
        metric: MetricId,
        counts: &VecMap<SmolStr, f64>,
        attributes: &Attributes,
    ) {
        let states = MetricSpec::get(metric).states;
        for state in states {
            let value = counts.get(*state).copied().unwrap_or(0.0);
            self.push(
                metric,
                value,
                with(attributes, attr::STATE, SmolStr::new_static(state)),
            );
        }
        for (state, value) in counts {
            if !states.contains(&state.as_str()) {
                self.push(metric, *value, with_state(attributes, state));
            }
        }
    }
}

/// The collection attribute every per-collection point starts from.
pub(super) fn collection_base(name: &str) -> Attributes {
    smallvec![(attr::COLLECTION, SmolStr::new(name))]
}

/// `attributes` plus one more. A declared state or other `&'static str` is best passed as
/// `SmolStr::new_static`: it is then referenced rather than copied into every point.
pub(super) fn with(
    attributes: &Attributes,
    key: &'static str,
    value: impl Into<SmolStr>,
) -> Attributes {
    // Sized once and filled by `push`: `clone` goes through `SmallVec`'s generic `extend`, and a
    // clone of two pairs is built inline only to be moved to the heap by the third.
    let mut extended = Attributes::with_capacity(attributes.len() + 1);
    for (present, its_value) in attributes {
        extended.push((*present, its_value.clone()));
    }
    extended.push((key, value.into()));
    extended
}

fn with_state(attributes: &Attributes, state: &str) -> Attributes {
    with(attributes, attr::STATE, state)
}
