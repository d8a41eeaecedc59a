//! ADWIN's saved form and the conversions to and from the detector.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

use super::Adwin;
use super::config::AdwinConfig;

/// One row of the exponential histogram as saved: up to `max_buckets` buckets of 2^level
/// values, oldest first.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct Level {
    pub(super) totals: Vec<f64>,
    pub(super) variances: Vec<f64>,
}

/// The saved form (the same fields as before the flat layout, so older files load).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct AdwinState {
    pub(super) config: AdwinConfig,
    pub(super) levels: Vec<Level>,
    pub(super) total: f64,
    pub(super) variance: f64,
    pub(super) width: f64,
    pub(super) tick: u64,
    pub(super) drift: bool,
    pub(super) n_detections: u64,
}

impl From<Adwin> for AdwinState {
    fn from(mut a: Adwin) -> Self {
        a.flush();
        let levels = (0..a.rows.count())
            .map(|i| {
                let row: Vec<[f64; 2]> = (0..a.rows.len(i)).map(|k| a.rows.get(i, k)).collect();
                Level {
                    totals: row.iter().map(|b| b[0]).collect(),
                    variances: row.iter().map(|b| b[1]).collect(),
                }
            })
            .collect();
        Self {
            config: a.config,
            levels,
            total: a.total,
            variance: a.variance,
            width: a.width,
            tick: a.tick,
            drift: a.drift,
            n_detections: a.n_detections,
        }
    }
}

impl TryFrom<AdwinState> for Adwin {
    type Error = Error;
    fn try_from(s: AdwinState) -> Result<Self> {
        let mut a = Self::new(s.config)?;
        if s.levels.is_empty() || s.levels.len() > 64 {
            return Err(Error::Corrupt(format!(
                "ADWIN has {} rows of buckets: need 1 to 64",
                s.levels.len()
            )));
        }
        for (i, l) in s.levels.iter().enumerate() {
            if l.totals.len() != l.variances.len() || l.totals.len() >= a.rows.cap {
                return Err(Error::Corrupt(format!(
                    "ADWIN row {i} holds {} totals and {} variances: need equal counts below {}",
                    l.totals.len(),
                    l.variances.len(),
                    a.rows.cap
                )));
            }
            if i > 0 {
                a.rows.add_row();
            }
            for (&t, &v) in l.totals.iter().zip(&l.variances) {
                a.rows.push(i, [t, v]);
            }
        }
        let clock = u64::from(a.config.clock);
        (a.total, a.variance, a.width, a.tick) = (s.total, s.variance, s.width, s.tick);
        a.validate()?;
        a.until_check = (clock - s.tick % clock) as u32;
        (a.drift, a.n_detections) = (s.drift, s.n_detections);
        Ok(a)
    }
}
