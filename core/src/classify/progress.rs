//! The progress callback `fit` reports through.

/// Optional progress callback: `(stage, done, total)`. Stages: `vectorize`, `cv`, `train`,
/// `calibrate`, `holdout`.
pub type Progress<'a> = &'a mut dyn FnMut(&str, usize, usize);

pub(super) struct Reporter<'a>(pub(super) Option<Progress<'a>>);

impl Reporter<'_> {
    pub(super) fn report(&mut self, stage: &str, done: usize, total: usize) {
        if let Some(f) = self.0.as_mut() {
            f(stage, done, total);
        }
    }
}
