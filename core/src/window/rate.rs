//! Rate triggers: each key learns its own normal count per window online, and an incident also
//! fires when a count rises far enough above it.
//!
//! The estimator (also in `docs/window.md`), per key:
//!
//! - Event time is cut into tumbling **periods** of `window_ms`, aligned to time 0: the event at
//!   `t` is in period `p = floor(t / window_ms)`. A period is as long as the sliding window, so its
//!   count is directly comparable to a window count.
//! - The **baseline** `b` is an exponentially weighted mean of the key's counts in its complete
//!   periods, oldest first: at the first event of a later period, the current period's count
//!   `c` is folded in (`b = (1 - alpha) b + alpha c`), then `b = (1 - alpha) b` once for each empty
//!   period in between. The first period with an event starts the baseline at 0 with no history.
//! - A key whose last event is more than `forget_after` periods back starts over (no history):
//!   its old normal says little, and the rule lets idle keys be dropped from memory exactly.
//! - At an event at `t` with window count `n` (the same count the fixed threshold uses), the rate
//!   is **over** when at least `min_history` periods were folded, `n >= min_count`,
//!   `n > factor * b`, and `(n - b) / sqrt(max(b, 1)) >= z` (a Poisson z-score: a count's variance
//!   equals its mean). The baseline used is that of the periods before `t`'s own.
//!
//! "Over" is then `n > threshold || rate over`, with the same firing, re-arming and cooldown rule
//! as the threshold alone. Every step is a fixed sequence of float operations on the key's own
//! on-time events in time order, so the result does not depend on arrival order or batching.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Fires on a rise over a key's own normal rate (see the module docs of [`crate::window`] and
/// `docs/window.md` for the estimator). Set as [`WindowConfig::rate`](super::WindowConfig::rate).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default, deny_unknown_fields)]
pub struct RateTrigger {
    /// The count must exceed `factor` times the key's baseline (default 1.5; at least 1).
    /// "15% more errors than usual" is 1.15.
    pub factor: f64,
    /// ...and lie at least `z` Poisson standard deviations above it (default 3; at least 0).
    pub z: f64,
    /// Weight of the newest complete period in the baseline, in (0, 1] (default 0.1: roughly the
    /// last 10 periods count).
    pub alpha: f64,
    /// Complete periods a key needs before its baseline is trusted (default 3, at least 1).
    pub min_history: u32,
    /// A key with no event for more than this many periods starts over (default 100, 1..=10000).
    pub forget_after: u32,
    /// Counts below this never fire on rate (default 1).
    pub min_count: u64,
}

impl Default for RateTrigger {
    fn default() -> Self {
        Self {
            factor: 1.5,
            z: 3.0,
            alpha: 0.1,
            min_history: 3,
            forget_after: 100,
            min_count: 1,
        }
    }
}

impl RateTrigger {
    /// Checks every field (named `rate.<field>` in the error).
    pub fn validate(&self) -> Result<()> {
        let bad = |field: &'static str, why: String| Err(Error::config(field, why));
        if !(self.factor.is_finite() && self.factor >= 1.0) {
            return bad(
                "rate.factor",
                format!("{} is invalid: need a finite factor >= 1", self.factor),
            );
        }
        if !(self.z.is_finite() && self.z >= 0.0) {
            return bad(
                "rate.z",
                format!("{} is invalid: need a finite z >= 0", self.z),
            );
        }
        if !(self.alpha > 0.0 && self.alpha <= 1.0) {
            return bad(
                "rate.alpha",
                format!("{} is invalid: need 0 < alpha <= 1", self.alpha),
            );
        }
        if self.min_history == 0 {
            return bad("rate.min_history", "0 is invalid: need at least 1".into());
        }
        if !(1..=10_000).contains(&self.forget_after) {
            return bad(
                "rate.forget_after",
                format!("{} is outside 1..=10000", self.forget_after),
            );
        }
        Ok(())
    }

    /// The least count that can be over the rule: `n >= min_count`, `n > factor * b >= 0` and
    /// `n - b >= z * sqrt(max(b, 1)) >= z` for every baseline `b >= 0`.
    pub(super) fn floor(&self) -> u64 {
        self.min_count.max(self.z.ceil() as u64).max(1)
    }

    /// Whether `count` is over the rate rule given the key's state (already advanced to the
    /// count's period), and the baseline it was judged against (`None` while not trusted).
    pub(super) fn judge(&self, count: u64, s: &RateState) -> (bool, Option<f64>) {
        if s.periods < self.min_history {
            return (false, None);
        }
        let (n, b) = (count as f64, s.mean);
        let over =
            count >= self.min_count && n > self.factor * b && (n - b) >= self.z * b.max(1.0).sqrt();
        (over, Some(b))
    }
}

/// Which rule raised an incident.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// The count exceeded the fixed threshold (also when the rate rule held too).
    #[default]
    Threshold,
    /// The count rose over the key's own baseline (`WindowConfig::rate`), under the threshold.
    Rate,
}

impl Trigger {
    /// `"threshold"` or `"rate"`, as bindings spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Threshold => "threshold",
            Trigger::Rate => "rate",
        }
    }
}

/// A key's baseline: its current period, the count in it, the weighted mean of earlier periods
/// and how many periods that mean covers.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RateState {
    pub(super) period: i64,
    pub(super) count: u64,
    pub(super) mean: f64,
    pub(super) periods: u32,
}

impl RateState {
    pub(super) fn new(period: i64) -> Self {
        Self {
            period,
            count: 0,
            mean: 0.0,
            periods: 0,
        }
    }

    /// Moves to `period` (folding the periods left behind), or restarts after a long gap.
    /// Returns false for an earlier period (possible only after a merge), which is not counted.
    pub(super) fn advance(&mut self, period: i64, r: &RateTrigger) -> bool {
        let gap = i128::from(period) - i128::from(self.period);
        if gap < 0 {
            return false;
        }
        if gap == 0 {
            return true;
        }
        if gap > i128::from(r.forget_after) {
            *self = Self::new(period);
            return true;
        }
        let keep = 1.0 - r.alpha;
        self.mean = keep * self.mean + r.alpha * self.count as f64;
        for _ in 1..gap {
            self.mean *= keep;
        }
        self.periods = self.periods.saturating_add(gap as u32);
        self.period = period;
        self.count = 0;
        true
    }

    /// Whether no later event (at or after the watermark `wm`) can use this state: the next one
    /// is more than `forget_after` periods on, so it starts over anyway.
    pub(super) fn forgotten(&self, wm_period: i64, r: &RateTrigger) -> bool {
        i128::from(wm_period) - i128::from(self.period) > i128::from(r.forget_after)
    }

    /// Unites two sides' states of one key (merge): both are brought to the later period and,
    /// the mean being linear in the counts, their means and counts add up.
    pub(super) fn unite(mut a: Self, mut b: Self, r: &RateTrigger) -> Self {
        let p = a.period.max(b.period);
        a.advance(p, r);
        b.advance(p, r);
        Self {
            period: p,
            count: a.count.saturating_add(b.count),
            mean: a.mean + b.mean,
            periods: a.periods.max(b.periods),
        }
    }
}

/// The period of an event time.
pub(super) fn period_of(t: i64, window: i64) -> i64 {
    t.div_euclid(window)
}
