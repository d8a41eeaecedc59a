//! A test-only count of tokenised lines: how tests tell that a caller tokenised a line once.

#[cfg(test)]
thread_local! {
    /// Lines this thread tokenised (test builds only): how tests tell that a caller tokenised a
    /// line once.
    static TOKENISED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Counts one tokenised line (test builds only).
#[inline]
pub(super) fn count_tokenised(_lines: usize) {
    #[cfg(test)]
    TOKENISED.with(|c| c.set(c.get() + _lines));
}

/// Lines this thread has tokenised so far through any vectoriser.
#[cfg(test)]
pub(crate) fn tokenised() -> usize {
    TOKENISED.with(std::cell::Cell::get)
}
