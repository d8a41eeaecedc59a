//! The resolver cascade users run today — exact regex rules, then similar past errors, then a
//! classifier — and the metrics a host service exposes at `/metrics`.
//!
//! - [`Rules`]: hand-written rule files (JSON or TOML), first match wins, linear-time regexes.
//! - [`KnowledgeBase`]: past error → solution pairs searched by similarity (JSONL files); or,
//!   through [`Resolver::set_knowledge_index`], any [`TextIndex`](crate::index::TextIndex)
//!   (e.g. of the caller's own sentence embeddings) whose payloads are the solutions.
//! - [`Resolver`]: the cascade, per-stage thresholds, method preference, feedback, save/load.
//! - [`Metrics`]: counters and histograms, as a snapshot and in the Prometheus text format.

mod answer;
mod config;
mod feedback;
mod knowledge;
mod metrics;
mod resolver;
mod rules;
mod source;
mod summary;
#[cfg(test)]
mod tests;

pub use answer::{LabelScore, Method, Outcome, Resolution, SimilarError};
pub use config::{Mode, ResolverConfig, SolutionThreshold};
pub use knowledge::KnowledgeBase;
pub use metrics::{
    CONFIDENCE_BUCKETS, HistogramSnapshot, LATENCY_BUCKETS, Metrics, MetricsSnapshot, OutcomeCounts,
};
pub use resolver::Resolver;
pub use rules::{Rule, Rules};
pub use summary::{ResolverSummary, SolutionSummary, StageSummary};
