//! Filters: which items a search may return, resolved once per search.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Restricts a search to some items. Results keep full recall however tight the filter: when few
/// items pass, the search scans exactly those items instead of walking the graph.
///
/// Payload conditions read the payload as a JSON object and look at one top-level field; an
/// item without a payload, or whose payload is not a JSON object, passes none of them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Filter {
    /// Only these ids (unknown ids are ignored).
    Ids {
        /// The ids that may be returned.
        ids: Vec<u64>,
    },
    /// Only these string keys (see [`SimilarityIndex::add_keyed`]; unknown keys are ignored).
    Keys {
        /// The keys that may be returned.
        keys: Vec<String>,
    },
    /// Only items whose payload has `field` equal to `value`.
    Payload {
        /// Top-level field of the payload object.
        field: String,
        /// Required value (compared as JSON: `"db"` matches the string, `3` the number).
        value: serde_json::Value,
    },
    /// Only items whose payload has `field` equal to one of `values` (SQL `IN`).
    PayloadIn {
        /// Top-level field of the payload object.
        field: String,
        /// Accepted values, compared as JSON.
        values: Vec<serde_json::Value>,
    },
    /// Only items whose payload has a numeric `field` within the bounds (each optional, at
    /// least one given; a field that is not a JSON number never passes).
    Range {
        /// Top-level field of the payload object.
        field: String,
        /// Greater than or equal to.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        gte: Option<f64>,
        /// Strictly greater than.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        gt: Option<f64>,
        /// Less than or equal to.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lte: Option<f64>,
        /// Strictly less than.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lt: Option<f64>,
    },
    /// Items that pass every one of `filters` (at least one).
    And {
        /// The conditions, all required.
        filters: Vec<Filter>,
    },
}

impl Filter {
    /// Checks bounds and nesting; every search calls it.
    pub fn validate(&self) -> Result<()> {
        match self {
            Filter::Range {
                field,
                gte,
                gt,
                lte,
                lt,
            } => {
                let bounds = [gte, gt, lte, lt];
                if bounds.iter().all(|b| b.is_none()) {
                    return Err(Error::InvalidInput(format!(
                        "filter: range on {field:?} needs at least one of gte, gt, lte, lt"
                    )));
                }
                if let Some(b) = bounds.iter().flat_map(|b| **b).find(|b| !b.is_finite()) {
                    return Err(Error::InvalidInput(format!(
                        "filter: range on {field:?} has a non-finite bound {b}"
                    )));
                }
                Ok(())
            }
            Filter::And { filters } if filters.is_empty() => Err(Error::InvalidInput(
                "filter: `and` needs at least one filter".into(),
            )),
            Filter::And { filters } => filters.iter().try_for_each(Filter::validate),
            _ => Ok(()),
        }
    }

    /// Whether `payload` (already parsed when some condition needed it) passes every payload
    /// condition; id and key conditions are checked by the caller.
    fn payload_passes(&self, payload: &mut Parsed<'_>) -> bool {
        match self {
            Filter::Ids { .. } | Filter::Keys { .. } => true,
            Filter::Payload { field, value } => payload.field(field).is_some_and(|v| v == value),
            Filter::PayloadIn { field, values } => payload
                .field(field)
                .is_some_and(|v| values.iter().any(|w| w == v)),
            Filter::Range {
                field,
                gte,
                gt,
                lte,
                lt,
            } => payload
                .field(field)
                .and_then(|v| v.as_f64())
                .is_some_and(|x| {
                    gte.is_none_or(|b| x >= b)
                        && gt.is_none_or(|b| x > b)
                        && lte.is_none_or(|b| x <= b)
                        && lt.is_none_or(|b| x < b)
                }),
            Filter::And { filters } => filters.iter().all(|f| f.payload_passes(payload)),
        }
    }

    /// Payload fields this filter reads (a payload holding none of them is skipped unparsed).
    fn fields<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Filter::Payload { field, .. }
            | Filter::PayloadIn { field, .. }
            | Filter::Range { field, .. } => out.push(field),
            Filter::And { filters } => filters.iter().for_each(|f| f.fields(out)),
            Filter::Ids { .. } | Filter::Keys { .. } => {}
        }
    }

    /// The id sets the filter requires (`Ids` and `Keys` anywhere under `And`), resolved.
    fn id_sets(&self, s: &Store, out: &mut Vec<FxHashSet<u64>>) {
        match self {
            Filter::Ids { ids } => out.push(ids.iter().copied().collect()),
            Filter::Keys { keys } => out.push(
                keys.iter()
                    .filter_map(|k| s.keys.get(k.as_str()).copied())
                    .collect(),
            ),
            Filter::And { filters } => filters.iter().for_each(|f| f.id_sets(s, out)),
            _ => {}
        }
    }
}

/// A payload parsed at most once, on the first condition that reads it.
pub(super) struct Parsed<'a> {
    pub(super) text: Option<&'a str>,
    pub(super) map: Option<Option<serde_json::Map<String, serde_json::Value>>>,
}

impl Parsed<'_> {
    fn field(&mut self, name: &str) -> Option<&serde_json::Value> {
        let text = self.text;
        self.map
            .get_or_insert_with(|| {
                text.filter(|t| t.trim_start().starts_with('{'))
                    .and_then(|t| serde_json::from_str(t).ok())
            })
            .as_ref()?
            .get(name)
    }
}

/// A filter resolved against the store: which nodes may appear and which of their ids.
pub(super) struct Allowed {
    pub(super) nodes: Vec<u32>,
    pub(super) node_mask: Vec<bool>,
    pub(super) ids: Option<FxHashSet<u64>>,
}

impl SimilarityIndex {
    pub(super) fn resolve_filter(&self, s: &Store, filter: &Filter) -> Allowed {
        let mut node_mask = vec![false; s.n_nodes()];
        let mut nodes = Vec::new();
        let mut ids = FxHashSet::default();
        let mut allow = |id: u64, node: u32| {
            ids.insert(id);
            if !node_mask[node as usize] {
                node_mask[node as usize] = true;
                nodes.push(node);
            }
        };
        let mut sets = Vec::new();
        filter.id_sets(s, &mut sets);
        let mut fields = Vec::new();
        filter.fields(&mut fields);
        // A payload that does not even contain a field's name cannot pass: skip parsing it.
        let may_pass = |p: Option<&str>| {
            fields.is_empty()
                || p.is_some_and(|p| {
                    p.trim_start().starts_with('{') && fields.iter().all(|f| p.contains(f))
                })
        };
        let mut check = |id: u64, item: &Item| {
            if sets.iter().all(|set| set.contains(&id)) && may_pass(item.payload.as_deref()) {
                let mut parsed = Parsed {
                    text: item.payload.as_deref(),
                    map: None,
                };
                if fields.is_empty() || filter.payload_passes(&mut parsed) {
                    allow(id, item.node);
                }
            }
        };
        match sets.iter().min_by_key(|set| set.len()) {
            // The smallest id set bounds the candidates: no walk over every item.
            Some(smallest) => {
                let mut cands: Vec<u64> = smallest.iter().copied().collect();
                cands.sort_unstable();
                for id in cands {
                    if let Some(item) = s.items.get(&id) {
                        check(id, item);
                    }
                }
            }
            None => {
                for (id, item) in &s.items {
                    check(*id, item);
                }
            }
        }
        nodes.sort_unstable();
        Allowed {
            nodes,
            node_mask,
            ids: Some(ids),
        }
    }

    /// A filter that lets few nodes through is answered by scanning them: the graph would have
    /// to visit about `live / allowed` nodes per result.
    pub(super) fn selective(&self, a: &Allowed, s: &Store) -> bool {
        a.nodes.len() <= self.config.exact_below.max(1) || a.nodes.len() * 10 <= s.live_nodes
    }

    /// Which nodes still hold ids, when some do not (the graph search must skip tombstones).
    pub(super) fn live_mask(s: &Store) -> Option<Vec<bool>> {
        (s.live_nodes < s.n_nodes()).then(|| s.node_ids.iter().map(|ids| !ids.is_empty()).collect())
    }
}
