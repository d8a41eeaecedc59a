//! Outcome counts per feedback key, looked up without allocating (the cascade looks up one key
//! per stage answer and one per similar hit).

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use super::answer::Method;
use super::metrics::OutcomeCounts;

/// What an outcome counts for: the matched past error of a similarity answer, the label
/// otherwise. Saved as `pair:<id>` / `label:<solution>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum FeedbackKey<'a> {
    Pair(u64),
    Label(&'a str),
}

impl<'a> FeedbackKey<'a> {
    pub(super) fn of(method: Method, matched: Option<u64>, solution: &'a str) -> Self {
        match (method, matched) {
            (Method::SimilarityMatch, Some(id)) => FeedbackKey::Pair(id),
            _ => FeedbackKey::Label(solution),
        }
    }
}

/// Outcomes per [`FeedbackKey`]: one map per kind of key, so a lookup hashes an id or a
/// borrowed str. The saved form is the one map of string keys it has always been.
#[derive(Debug, Default)]
pub(super) struct Feedback {
    pairs: FxHashMap<u64, OutcomeCounts>,
    labels: FxHashMap<String, OutcomeCounts>,
    /// Saved keys of neither form: never looked up, kept so that a file saves back as it loaded.
    other: BTreeMap<String, OutcomeCounts>,
}

impl Feedback {
    pub(super) fn is_empty(&self) -> bool {
        self.pairs.is_empty() && self.labels.is_empty() && self.other.is_empty()
    }

    pub(super) fn get(&self, key: FeedbackKey<'_>) -> Option<&OutcomeCounts> {
        match key {
            FeedbackKey::Pair(id) => self.pairs.get(&id),
            FeedbackKey::Label(label) => self.labels.get(label),
        }
    }

    pub(super) fn entry(&mut self, key: FeedbackKey<'_>) -> &mut OutcomeCounts {
        match key {
            FeedbackKey::Pair(id) => self.pairs.entry(id).or_default(),
            FeedbackKey::Label(label) => self.labels.entry(label.to_owned()).or_default(),
        }
    }

    /// The saved form: every key as a string, in string order.
    pub(super) fn to_map(&self) -> BTreeMap<String, OutcomeCounts> {
        let mut map = self.other.clone();
        map.extend(self.pairs.iter().map(|(id, c)| (format!("pair:{id}"), *c)));
        map.extend(self.labels.iter().map(|(l, c)| (format!("label:{l}"), *c)));
        map
    }

    /// Reads the saved form. A `pair:` key is an id only in the form `to_map` writes (a
    /// `pair:007` was never matched by a lookup, and still is not).
    pub(super) fn from_map(map: BTreeMap<String, OutcomeCounts>) -> Self {
        let mut fb = Feedback::default();
        for (key, counts) in map {
            if let Some(label) = key.strip_prefix("label:") {
                fb.labels.insert(label.to_owned(), counts);
            } else if let Some(id) = key
                .strip_prefix("pair:")
                .and_then(|rest| rest.parse::<u64>().ok().filter(|id| id.to_string() == rest))
            {
                fb.pairs.insert(id, counts);
            } else {
                fb.other.insert(key, counts);
            }
        }
        fb
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(success: u64, failure: u64) -> OutcomeCounts {
        OutcomeCounts { success, failure }
    }

    /// Every saved key reads back to the same lookups and saves back unchanged, odd ones included.
    #[test]
    fn saved_keys_round_trip_and_look_up_as_strings_did() {
        let saved: BTreeMap<String, OutcomeCounts> = [
            ("label:free_disk", counts(2, 1)),
            ("label:", counts(1, 0)),
            ("label:pair:3", counts(0, 4)),
            ("pair:3", counts(5, 0)),
            ("pair:18446744073709551615", counts(1, 1)),
            ("pair:007", counts(9, 9)),
            ("pair:+4", counts(9, 9)),
            ("pair:x", counts(9, 9)),
            ("legacy", counts(9, 9)),
        ]
        .into_iter()
        .map(|(k, c)| (k.to_owned(), c))
        .collect();
        let fb = Feedback::from_map(saved.clone());
        assert_eq!(fb.to_map(), saved);
        assert_eq!(fb.get(FeedbackKey::Label("free_disk")), Some(&counts(2, 1)));
        assert_eq!(fb.get(FeedbackKey::Label("")), Some(&counts(1, 0)));
        assert_eq!(fb.get(FeedbackKey::Label("pair:3")), Some(&counts(0, 4)));
        assert_eq!(fb.get(FeedbackKey::Pair(3)), Some(&counts(5, 0)));
        assert_eq!(fb.get(FeedbackKey::Pair(u64::MAX)), Some(&counts(1, 1)));
        assert_eq!(fb.get(FeedbackKey::Pair(7)), None);
        assert_eq!(fb.get(FeedbackKey::Pair(4)), None);
        assert_eq!(fb.get(FeedbackKey::Label("legacy")), None);
        assert!(Feedback::from_map(BTreeMap::new()).is_empty());
        assert!(!fb.is_empty());
    }

    #[test]
    fn keys_follow_the_answering_method() {
        assert_eq!(
            FeedbackKey::of(Method::SimilarityMatch, Some(4), "s"),
            FeedbackKey::Pair(4)
        );
        assert_eq!(
            FeedbackKey::of(Method::SimilarityMatch, None, "s"),
            FeedbackKey::Label("s")
        );
        for m in [Method::ExactMatch, Method::MlPrediction, Method::NoMatch] {
            assert_eq!(FeedbackKey::of(m, Some(4), "s"), FeedbackKey::Label("s"));
        }
        let mut fb = Feedback::default();
        fb.entry(FeedbackKey::Pair(4)).success += 1;
        fb.entry(FeedbackKey::Label("s")).failure += 1;
        fb.entry(FeedbackKey::Label("s")).failure += 1;
        assert_eq!(fb.get(FeedbackKey::Label("s")), Some(&counts(0, 2)));
        let map = fb.to_map();
        let keys: Vec<&str> = map.keys().map(String::as_str).collect();
        assert_eq!(keys, ["label:s", "pair:4"]);
    }
}
