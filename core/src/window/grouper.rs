//! Stable incident groups, assigned online: [`IncidentGrouper`].
//!
//! The rule (also in `docs/window.md`): two incidents are **linked** when their similarity (a fixed
//! function of the two incidents alone, below) is at least `min_similarity`; the **groups** are the
//! connected components of the links among every incident added so far; a group's **id** is the id
//! of its first member, ordered by `(time_ms, id)`. Nothing depends on the order or batching in
//! which incidents were added, so the same incidents always give the same groups and ids.
//!
//! Similarity, for incidents `a` and `b`:
//! - text: cosine of their token vectors (the project's preprocessing: lowercase, masking of
//!   numbers, ids and paths, word segmentation, stopwords, stemming), each token weighted
//!   `1 + ln(count)` and identified by a 64-bit FNV-1a hash of its text. No IDF: an IDF would
//!   change every similarity as incidents arrive, and with it old groups.
//! - embedding: cosine of the caller's vectors.
//! - both present on both sides: `text_weight * text + (1 - text_weight) * embedding`; when only
//!   one kind is present on both, that one; when they share neither, 0 (never linked).
//!
//! Candidates come from the crate's sparse search ([`SparseIndex`]) over the token vectors
//! (incidents sharing a token) and, for an incident with an embedding, every incident with one;
//! the similarity above then decides each link, so the search changes no result.
//!
//! A group id changes only when its group merges with another whose first member comes earlier
//! (an incident similar to both arrived), or when an incident earlier than the group's first
//! member joins it; each call reports these as `renamed`.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::index::SparseIndex;
use crate::models::Artifact;
use crate::text::{Preprocessor, PreprocessorConfig};

/// Options of an [`IncidentGrouper`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default, deny_unknown_fields)]
pub struct GrouperConfig {
    /// Incidents at least this similar are linked (default 0.5, in (0, 1]).
    pub min_similarity: f64,
    /// Weight of the text similarity when both incidents have text and an embedding (default
    /// 0.5, in [0, 1]).
    pub text_weight: f64,
    /// Most incidents held (default 100,000): each add compares with the held incidents that
    /// share a token with it (with an embedding: every held incident that has one).
    pub max_incidents: usize,
    /// How texts become tokens (default: the project's default preprocessing).
    pub preprocessor: PreprocessorConfig,
}

impl Default for GrouperConfig {
    fn default() -> Self {
        Self {
            min_similarity: 0.5,
            text_weight: 0.5,
            max_incidents: 100_000,
            preprocessor: PreprocessorConfig::default(),
        }
    }
}

impl GrouperConfig {
    /// Checks every field.
    pub fn validate(&self) -> Result<()> {
        if !(self.min_similarity > 0.0 && self.min_similarity <= 1.0) {
            return Err(Error::config(
                "min_similarity",
                format!(
                    "{} is invalid: need 0 < min_similarity <= 1",
                    self.min_similarity
                ),
            ));
        }
        if !(0.0..=1.0).contains(&self.text_weight) {
            return Err(Error::config(
                "text_weight",
                format!(
                    "{} is invalid: need 0 <= text_weight <= 1",
                    self.text_weight
                ),
            ));
        }
        if self.max_incidents == 0 {
            return Err(Error::config(
                "max_incidents",
                "0 is invalid: need at least 1",
            ));
        }
        self.preprocessor.validate()
    }
}

/// One incident to group: an id (unique within the grouper), a time that orders members for
/// naming groups, and text, an embedding or both.
#[derive(Clone, Copy, Debug, Default)]
pub struct GroupInput<'a> {
    /// The incident's id (e.g. [`Incident::id`](super::Incident::id)); unique, non-empty.
    pub id: &'a str,
    /// Orders members: a group is named after its earliest (`time_ms`, then `id`) member.
    pub time_ms: i64,
    /// Text (e.g. the incident's samples joined), if any.
    pub text: Option<&'a str>,
    /// An embedding from the caller's model, if any (all of one dimension).
    pub embedding: Option<&'a [f32]>,
}

/// Where one added incident ended up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// The incident.
    pub id: String,
    /// Its group's id once the whole call was applied.
    pub group: String,
    /// True when the incident linked to no incident held before it (it opened a group, possibly
    /// joined later in the same call).
    pub new_group: bool,
}

/// A group id that stopped existing during a call, and the id its members now have.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Renamed {
    /// The old group id.
    pub from: String,
    /// The group's id now.
    pub to: String,
}

/// What [`IncidentGrouper::add`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupUpdate {
    /// One per added incident, in input order.
    pub assignments: Vec<Assignment>,
    /// Groups renamed by this call (merged into an earlier group, or joined by an earlier
    /// incident), sorted by `from`.
    pub renamed: Vec<Renamed>,
}

/// A group and its members.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// The id of its earliest member.
    pub id: String,
    /// Member ids, ordered by (`time_ms`, id).
    pub members: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Member {
    id: String,
    time_ms: i64,
    /// (token hash, weight), sorted by hash, unit length; empty = no text.
    terms: Vec<(u64, f32)>,
    /// Unit length; `None` = no embedding.
    embedding: Option<Vec<f32>>,
}

/// Online, order-independent incident grouping; see the module docs for the rule. Saves and loads
/// through the model file ([`Artifact`]).
#[derive(Clone, Debug)]
pub struct IncidentGrouper {
    config: GrouperConfig,
    pre: Preprocessor,
    members: Vec<Member>,
    by_id: FxHashMap<String, u32>,
    /// Union-find; a root is its group's earliest member.
    parent: Vec<u32>,
    dim: Option<usize>,
    /// Every member's token vector, item `i` = member `i` (features from `features`).
    text: SparseIndex,
    /// Token hash → feature number in `text`.
    features: FxHashMap<u64, u32>,
    /// Members with an embedding, ascending.
    embedded: Vec<u32>,
}

fn fnv64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn unit(v: &mut [f32]) -> bool {
    let n = v
        .iter()
        .map(|&x| f64::from(x) * f64::from(x))
        .sum::<f64>()
        .sqrt();
    if n > 0.0 && n.is_finite() {
        for x in v.iter_mut() {
            *x = (f64::from(*x) / n) as f32;
        }
        true
    } else {
        false
    }
}

fn sparse_dot(a: &[(u64, f32)], b: &[(u64, f32)]) -> f64 {
    let (mut i, mut j, mut s) = (0, 0, 0.0f64);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                s += f64::from(a[i].1) * f64::from(b[j].1);
                i += 1;
                j += 1;
            }
        }
    }
    s
}

impl IncidentGrouper {
    /// An empty grouper; `InvalidConfig` names a bad field.
    pub fn new(config: GrouperConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self {
            pre: Preprocessor::new(config.preprocessor.clone())?,
            config,
            members: Vec::new(),
            by_id: FxHashMap::default(),
            parent: Vec::new(),
            dim: None,
            text: SparseIndex::default(),
            features: FxHashMap::default(),
            embedded: Vec::new(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &GrouperConfig {
        &self.config
    }

    /// Incidents held.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether no incident was added.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The similarity of two held incidents (see the module docs), `None` for an unknown id.
    pub fn similarity(&self, a: &str, b: &str) -> Option<f64> {
        let (a, b) = (*self.by_id.get(a)?, *self.by_id.get(b)?);
        Some(self.sim(&self.members[a as usize], &self.members[b as usize]))
    }

    fn sim(&self, a: &Member, b: &Member) -> f64 {
        let text =
            (!a.terms.is_empty() && !b.terms.is_empty()).then(|| sparse_dot(&a.terms, &b.terms));
        let emb = match (&a.embedding, &b.embedding) {
            (Some(x), Some(y)) => Some(
                x.iter()
                    .zip(y)
                    .map(|(&p, &q)| f64::from(p) * f64::from(q))
                    .sum::<f64>(),
            ),
            _ => None,
        };
        match (text, emb) {
            (Some(t), Some(e)) => self.config.text_weight * t + (1.0 - self.config.text_weight) * e,
            (Some(t), None) => t,
            (None, Some(e)) => e,
            (None, None) => 0.0,
        }
    }

    /// `m`'s token vector under the feature numbers of `text` (new tokens get new numbers).
    fn features_of(&mut self, m: &Member) -> (Vec<u32>, Vec<f64>) {
        let mut v: Vec<(u32, f64)> = m
            .terms
            .iter()
            .map(|&(h, w)| {
                let next = self.features.len() as u32;
                (*self.features.entry(h).or_insert(next), f64::from(w))
            })
            .collect();
        v.sort_unstable_by_key(|t| t.0);
        v.into_iter().unzip()
    }

    /// Held members that may be linked to `m`: those whose token cosine may reach
    /// `min_similarity`, and with an embedding every member with one (ascending, deduplicated).
    fn candidates(&self, query: &(Vec<u32>, Vec<f64>), m: &Member) -> Vec<u32> {
        // Without embeddings on both sides the similarity is the token cosine, which the search
        // scores too (the same products, summed in another order: equal within far less than
        // the slack), so pairs clearly below the floor need no exact check.
        let floor = self.config.min_similarity - 1e-9;
        let mut out: Vec<u32> = self
            .text
            .touching(&query.0, &query.1)
            .into_iter()
            .filter(|h| h.1 >= floor)
            .map(|h| h.0)
            .collect();
        if m.embedding.is_some() && !self.embedded.is_empty() {
            out.extend_from_slice(&self.embedded);
            out.sort_unstable();
            out.dedup();
        }
        out
    }

    /// Appends a member (already checked) to the members and the search structures.
    fn push(&mut self, m: Member, query: &(Vec<u32>, Vec<f64>)) -> Result<u32> {
        let me = self.members.len() as u32;
        self.text.add(&query.0, &query.1)?;
        if m.embedding.is_some() {
            self.embedded.push(me);
        }
        self.by_id.insert(m.id.clone(), me);
        self.members.push(m);
        self.parent.push(me);
        Ok(me)
    }

    fn key(&self, m: u32) -> (i64, &str) {
        let m = &self.members[m as usize];
        (m.time_ms, m.id.as_str())
    }

    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = p;
        }
        x
    }

    /// The id of the group `id` is in, `None` for an unknown id.
    pub fn group_of(&self, id: &str) -> Option<String> {
        let mut x = *self.by_id.get(id)?;
        while self.parent[x as usize] != x {
            x = self.parent[x as usize];
        }
        Some(self.members[x as usize].id.clone())
    }

    /// Every group with its members, ordered by group id's (`time_ms`, id).
    pub fn groups(&self) -> Vec<Group> {
        let mut by_root: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
        for m in 0..self.members.len() as u32 {
            let mut x = m;
            while self.parent[x as usize] != x {
                x = self.parent[x as usize];
            }
            by_root.entry(x).or_default().push(m);
        }
        let mut groups: Vec<(u32, Vec<u32>)> = by_root.into_iter().collect();
        groups.sort_by(|a, b| self.key(a.0).cmp(&self.key(b.0)));
        groups
            .into_iter()
            .map(|(root, mut ms)| {
                ms.sort_by(|&a, &b| self.key(a).cmp(&self.key(b)));
                Group {
                    id: self.members[root as usize].id.clone(),
                    members: ms
                        .iter()
                        .map(|&m| self.members[m as usize].id.clone())
                        .collect(),
                }
            })
            .collect()
    }

    /// Checks and converts one input (no state change).
    fn member(&self, i: usize, x: &GroupInput<'_>) -> Result<Member> {
        let bad = |why: String| Err(Error::InvalidInput(format!("incident {i}: {why}")));
        if x.id.is_empty() {
            return bad("`id` is empty".into());
        }
        if self.by_id.contains_key(x.id) {
            return bad(format!("id `{}` was already added", x.id));
        }
        let mut counts: FxHashMap<u64, u32> = FxHashMap::default();
        for t in x.text.map(|t| self.pre.tokens(t)).unwrap_or_default() {
            *counts.entry(fnv64(t.as_bytes())).or_default() += 1;
        }
        let mut terms: Vec<(u64, f32)> = counts
            .into_iter()
            .map(|(h, c)| (h, (1.0 + f64::from(c).ln()) as f32))
            .collect();
        terms.sort_unstable_by_key(|t| t.0);
        let n = terms
            .iter()
            .map(|t| f64::from(t.1).powi(2))
            .sum::<f64>()
            .sqrt();
        for t in &mut terms {
            t.1 = (f64::from(t.1) / n) as f32;
        }
        let embedding = match x.embedding {
            None => None,
            Some(e) => {
                if let Some(d) = self.dim
                    && d != e.len()
                {
                    return Err(Error::Dimension {
                        expected: d,
                        got: e.len(),
                    });
                }
                if e.iter().any(|v| !v.is_finite()) {
                    return bad("`embedding` holds a NaN or infinite value".into());
                }
                let mut v = e.to_vec();
                if !unit(&mut v) {
                    return bad("`embedding` is all zeros".into());
                }
                Some(v)
            }
        };
        Ok(Member {
            id: x.id.to_owned(),
            time_ms: x.time_ms,
            terms,
            embedding,
        })
    }

    /// Adds incidents and links each to every held incident at least `min_similarity` similar.
    /// The whole batch is checked first (bad input: `InvalidInput` naming the incident, a
    /// different embedding dimension: `Dimension`; nothing is added then). Adding the same
    /// incidents in any order or batching leaves the same groups.
    pub fn add(&mut self, incidents: &[GroupInput<'_>]) -> Result<GroupUpdate> {
        if self.members.len() + incidents.len() > self.config.max_incidents {
            return Err(Error::InvalidInput(format!(
                "adding {} incidents to {} would exceed max_incidents = {}",
                incidents.len(),
                self.members.len(),
                self.config.max_incidents
            )));
        }
        let mut fresh = Vec::with_capacity(incidents.len());
        let mut dim = self.dim;
        let mut ids = std::collections::HashSet::new();
        for (i, x) in incidents.iter().enumerate() {
            if !ids.insert(x.id) {
                return Err(Error::InvalidInput(format!(
                    "incident {i}: id `{}` appears twice in the batch",
                    x.id
                )));
            }
            let m = self.member(i, x)?;
            if let Some(e) = &m.embedding {
                match dim {
                    Some(d) if d != e.len() => {
                        return Err(Error::Dimension {
                            expected: d,
                            got: e.len(),
                        });
                    }
                    _ => dim = Some(e.len()),
                }
            }
            fresh.push(m);
        }
        self.dim = dim;
        // Roots held before the call that a link reached, with their ids then (a member that is a
        // root now was one before: union only takes that away), to report renames.
        let n0 = self.members.len() as u32;
        let mut before: Vec<(u32, String)> = Vec::new();
        let mut assignments = Vec::with_capacity(fresh.len());
        let mut new_idx = Vec::with_capacity(fresh.len());
        for m in fresh {
            let query = self.features_of(&m);
            let links: Vec<u32> = self
                .candidates(&query, &m)
                .into_iter()
                .filter(|&o| self.sim(&self.members[o as usize], &m) >= self.config.min_similarity)
                .collect();
            let me = self.push(m, &query)?;
            let new_group = links.is_empty();
            for o in links {
                let (ra, rb) = (self.find(o), self.find(me));
                if ra == rb {
                    continue;
                }
                for r in [ra, rb] {
                    if r < n0 && !before.iter().any(|(x, _)| *x == r) {
                        before.push((r, self.members[r as usize].id.clone()));
                    }
                }
                let (keep, lose) = if self.key(ra) <= self.key(rb) {
                    (ra, rb)
                } else {
                    (rb, ra)
                };
                self.parent[lose as usize] = keep;
            }
            new_idx.push(me);
            assignments.push(new_group);
        }
        let mut renamed: Vec<Renamed> = before
            .into_iter()
            .filter_map(|(r, from)| {
                let root = self.find(r);
                let to = self.members[root as usize].id.clone();
                (to != from).then_some(Renamed { from, to })
            })
            .collect();
        renamed.sort_by(|a, b| a.from.cmp(&b.from));
        let assignments = new_idx
            .into_iter()
            .zip(assignments)
            .map(|(m, new_group)| {
                let root = self.find(m);
                Assignment {
                    id: self.members[m as usize].id.clone(),
                    group: self.members[root as usize].id.clone(),
                    new_group,
                }
            })
            .collect();
        Ok(GroupUpdate {
            assignments,
            renamed,
        })
    }
}

/// The saved form: config, members in insertion order, each member's group root.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct GrouperState {
    config: GrouperConfig,
    members: Vec<Member>,
    roots: Vec<u32>,
}

impl Serialize for IncidentGrouper {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let roots = (0..self.members.len() as u32)
            .map(|mut x| {
                while self.parent[x as usize] != x {
                    x = self.parent[x as usize];
                }
                x
            })
            .collect();
        GrouperState {
            config: self.config.clone(),
            members: self.members.clone(),
            roots,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for IncidentGrouper {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        let st = GrouperState::deserialize(d)?;
        let corrupt = |why: &str| D::Error::custom(format!("incident grouper state {why}"));
        let mut g = IncidentGrouper::new(st.config).map_err(D::Error::custom)?;
        if st.roots.len() != st.members.len() {
            return Err(corrupt("has a root per member missing"));
        }
        for (i, m) in st.members.into_iter().enumerate() {
            if m.id.is_empty() || g.by_id.insert(m.id.clone(), i as u32).is_some() {
                return Err(corrupt("holds an empty or repeated id"));
            }
            if let Some(e) = &m.embedding {
                if g.dim.is_some_and(|d| d != e.len()) || e.iter().any(|v| !v.is_finite()) {
                    return Err(corrupt("holds embeddings of different dimensions"));
                }
                g.dim = Some(e.len());
            }
            let query = g.features_of(&m);
            g.push(m, &query).map_err(D::Error::custom)?;
        }
        for &r in &st.roots {
            // A root must be its own root.
            if st.roots.get(r as usize) != Some(&r) {
                return Err(corrupt("holds a group root that is not a root"));
            }
        }
        g.parent = st.roots;
        Ok(g)
    }
}

impl Artifact for IncidentGrouper {
    const KIND: &'static str = "incident_grouper";
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inp<'a>(id: &'a str, t: i64, text: &'a str) -> GroupInput<'a> {
        GroupInput {
            id,
            time_ms: t,
            text: Some(text),
            embedding: None,
        }
    }

    #[test]
    fn similar_texts_share_a_group_named_after_the_earliest() {
        let mut g = IncidentGrouper::new(GrouperConfig::default()).unwrap();
        let u = g
            .add(&[
                inp("b", 2, "connection refused to db-1 port 5432"),
                inp("c", 3, "disk quota exceeded on /var/lib"),
            ])
            .unwrap();
        assert!(u.assignments.iter().all(|a| a.new_group));
        let u = g
            .add(&[inp("a", 1, "connection refused to db-7 port 5432")])
            .unwrap();
        assert_eq!(u.assignments[0].group, "a");
        assert_eq!(
            u.renamed,
            vec![Renamed {
                from: "b".into(),
                to: "a".into()
            }]
        );
        assert_eq!(g.group_of("b").as_deref(), Some("a"));
        assert_eq!(g.group_of("c").as_deref(), Some("c"));
        let back = IncidentGrouper::from_bytes(&g.to_bytes().unwrap()).unwrap();
        assert_eq!(back.groups(), g.groups());
    }

    #[test]
    fn bad_input_adds_nothing() {
        let mut g = IncidentGrouper::new(GrouperConfig::default()).unwrap();
        let e = [1.0f32, 0.0];
        let f = [1.0f32, 0.0, 0.0];
        let x = |id, emb| GroupInput {
            id,
            time_ms: 0,
            text: None,
            embedding: Some(emb),
        };
        assert_eq!(
            g.add(&[x("a", &e), x("b", &f)]).unwrap_err().code(),
            "Dimension"
        );
        assert_eq!(
            g.add(&[x("a", &e), x("a", &e)]).unwrap_err().code(),
            "InvalidInput"
        );
        assert_eq!(g.add(&[x("", &e)]).unwrap_err().code(), "InvalidInput");
        assert_eq!(
            g.add(&[x("z", &[0.0, 0.0])]).unwrap_err().code(),
            "InvalidInput"
        );
        assert!(g.is_empty());
        g.add(&[x("a", &e)]).unwrap();
        assert_eq!(g.add(&[x("a", &e)]).unwrap_err().code(), "InvalidInput");
        let bad = GrouperConfig {
            text_weight: 2.0,
            ..Default::default()
        };
        match IncidentGrouper::new(bad) {
            Err(Error::InvalidConfig { field, .. }) => assert_eq!(field, "text_weight"),
            other => panic!("{other:?}"),
        }
    }
}
