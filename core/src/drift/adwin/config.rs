//! ADWIN's options, named and defaulted as river's, and their checks.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Options of [`Adwin`](super::Adwin), named and defaulted as river's `drift.ADWIN`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default, deny_unknown_fields)]
pub struct AdwinConfig {
    /// Confidence of the cut test (default 0.002, in (0, 1)).
    pub delta: f64,
    /// Check for a change every `clock` values (default 32, at least 1).
    pub clock: u32,
    /// Buckets of each size kept before two are merged (default 5; 2 to 4096: with 1 a merge
    /// empties its row, which river 0.26 does not handle, it panics).
    pub max_buckets: usize,
    /// Smallest sub-window considered at a cut (default 5, at least 1).
    pub min_window_length: u32,
    /// No checks until the window holds more than this many values (default 10).
    pub grace_period: u32,
}

impl Default for AdwinConfig {
    fn default() -> Self {
        Self {
            delta: 0.002,
            clock: 32,
            max_buckets: 5,
            min_window_length: 5,
            grace_period: 10,
        }
    }
}

/// Buckets per row are stored in a fixed stride of `max_buckets + 1`, so it is bounded.
pub(super) const MAX_BUCKETS: usize = 4096;

impl AdwinConfig {
    /// Checks every field; [`Adwin::new`](super::Adwin::new) calls it.
    pub fn validate(&self) -> Result<()> {
        if !(self.delta > 0.0 && self.delta < 1.0) {
            return Err(Error::config(
                "delta",
                format!("{} is out of range: need 0 < delta < 1", self.delta),
            ));
        }
        if self.clock == 0 {
            return Err(Error::config("clock", "must be at least 1"));
        }
        if !(2..=MAX_BUCKETS).contains(&self.max_buckets) {
            return Err(Error::config(
                "max_buckets",
                format!(
                    "{} is out of range: need 2 to {MAX_BUCKETS} (1 would empty a row at each \
                     merge)",
                    self.max_buckets
                ),
            ));
        }
        if self.min_window_length == 0 {
            return Err(Error::config("min_window_length", "must be at least 1"));
        }
        Ok(())
    }
}
