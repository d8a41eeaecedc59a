//! Batches grouped by masked form, so each distinct masked line is tokenised and weighted once.

use std::borrow::Cow;

use rustc_hash::FxHashMap;

use crate::parallel;
use crate::text::Preprocessor;

/// A batch of lines grouped by masked form. Masked log lines repeat heavily (the 16,000 Loghub
/// lines have 1,000 distinct masked forms), so batch calls mask every line but tokenise, count
/// and weight each distinct masked line once; results are identical to line-by-line work.
pub(super) struct Grouped<'a> {
    pub(super) masked: Vec<Cow<'a, str>>,
    /// Line → index of its distinct masked form.
    pub(super) slot: Vec<usize>,
    /// Distinct form → its first line.
    pub(super) first: Vec<usize>,
}

impl<'a> Grouped<'a> {
    pub(super) fn new<S: AsRef<str> + Sync>(p: &Preprocessor, texts: &'a [S]) -> Self {
        let lines: Vec<&'a str> = texts.iter().map(AsRef::as_ref).collect();
        let masked = parallel::map(&lines, |t| p.mask(t));
        let mut index: FxHashMap<&str, usize> = FxHashMap::default();
        let mut first = Vec::new();
        let slot = masked
            .iter()
            .enumerate()
            .map(|(line, m)| {
                *index.entry(m.as_ref()).or_insert_with(|| {
                    first.push(line);
                    first.len() - 1
                })
            })
            .collect();
        drop(index);
        Grouped {
            masked,
            slot,
            first,
        }
    }

    /// How many lines share each distinct form.
    pub(super) fn counts(&self) -> Vec<u32> {
        let mut c = vec![0u32; self.first.len()];
        for &s in &self.slot {
            c[s] += 1;
        }
        c
    }

    pub(super) fn distinct_tokens(&self, p: &Preprocessor) -> Vec<Vec<String>> {
        parallel::map(&self.first, |&i| {
            let mut out = Vec::new();
            p.for_each_masked_token(&self.masked[i], |t| out.push(t.to_owned()));
            out
        })
    }
}
