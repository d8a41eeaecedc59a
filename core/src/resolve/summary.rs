//! The resolver's monitoring summary: what the dashboards of an auto-resolver show (volume,
//! latency, confidence, and how often each stage's and each solution's answers worked).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{MetricsSnapshot, OutcomeCounts};

/// One stage (`exact_match`, `similarity_match`, `ml_prediction`, `no_match`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StageSummary {
    /// Resolutions this stage answered.
    pub resolutions: u64,
    /// Outcomes reported as successful for its answers.
    pub success: u64,
    /// Outcomes reported as failed.
    pub failure: u64,
    /// `success / (success + failure)`, `None` before any outcome.
    pub success_rate: Option<f64>,
}

/// One applied solution, whatever stage proposed it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SolutionSummary {
    /// Outcomes reported as successful.
    pub success: u64,
    /// Outcomes reported as failed.
    pub failure: u64,
    /// `success / (success + failure)`, `None` before any outcome.
    pub success_rate: Option<f64>,
}

/// [`Resolver::summary`](super::Resolver::summary). Latency and confidence cover the resolutions
/// since the last `reset_metrics`; per-solution counts are kept with the resolver (saved with it)
/// and survive a metrics reset.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ResolverSummary {
    /// Resolutions in total.
    pub total: u64,
    /// Resolutions some stage answered reliably.
    pub reliable: u64,
    /// Abstentions (no stage reached its threshold).
    pub unreliable: u64,
    /// Resolutions whose input was novel.
    pub novel: u64,
    /// Resolve calls that failed with an error.
    pub errors: u64,
    /// Mean time per resolution, in milliseconds (`None` before any).
    pub mean_latency_ms: Option<f64>,
    /// Longest resolution, in milliseconds (`None` before any).
    pub max_latency_ms: Option<f64>,
    /// Mean confidence of answered resolutions (`no_match` excluded; `None` before any).
    pub mean_confidence: Option<f64>,
    /// Outcomes reported in total.
    pub outcomes: u64,
    /// `successes / outcomes` over every stage, `None` before any outcome.
    pub success_rate: Option<f64>,
    /// Per stage.
    pub by_stage: BTreeMap<String, StageSummary>,
    /// Per applied solution.
    pub by_solution: BTreeMap<String, SolutionSummary>,
}

impl ResolverSummary {
    pub(super) fn new(
        m: &MetricsSnapshot,
        max_latency_seconds: f64,
        by_solution: &BTreeMap<String, OutcomeCounts>,
    ) -> Self {
        let mean = |sum: f64, n: u64| (n > 0).then(|| sum / n as f64);
        let by_stage: BTreeMap<String, StageSummary> = m
            .resolutions
            .iter()
            .map(|(stage, &n)| {
                let c = m.outcomes.get(stage).copied().unwrap_or_default();
                let s = StageSummary {
                    resolutions: n,
                    success: c.success,
                    failure: c.failure,
                    success_rate: c.success_rate(),
                };
                (stage.clone(), s)
            })
            .collect();
        let (ok, all) = m.outcomes.values().fold((0u64, 0u64), |(s, n), c| {
            (s + c.success, n + c.success + c.failure)
        });
        ResolverSummary {
            total: m.total,
            reliable: m.total.saturating_sub(m.unreliable),
            unreliable: m.unreliable,
            novel: m.novel,
            errors: m.errors,
            mean_latency_ms: mean(m.latency_seconds.sum * 1e3, m.latency_seconds.count),
            max_latency_ms: (m.latency_seconds.count > 0).then_some(max_latency_seconds * 1e3),
            mean_confidence: mean(m.confidence.sum, m.confidence.count),
            outcomes: all,
            success_rate: (all > 0).then(|| ok as f64 / all as f64),
            by_stage,
            by_solution: by_solution
                .iter()
                .map(|(sol, c)| {
                    let s = SolutionSummary {
                        success: c.success,
                        failure: c.failure,
                        success_rate: c.success_rate(),
                    };
                    (sol.clone(), s)
                })
                .collect(),
        }
    }
}
