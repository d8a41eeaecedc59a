//! The classifier's model file: what is saved, and the checks a loaded file must pass.

use serde::{Deserialize, Serialize};

use super::classifier::{Derived, Fitted, TextClassifier};
use super::config::ClassifierConfig;
use super::linear::{Link, bounded};
use crate::models::Artifact;
use crate::vectorize::TfidfVectorizer;

#[derive(Serialize, Deserialize)]
pub(super) struct Persisted {
    pub(super) config: ClassifierConfig,
    pub(super) vectorizer: TfidfVectorizer,
    pub(super) fitted: Option<Fitted>,
}

impl Serialize for TextClassifier {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Out<'a> {
            config: &'a ClassifierConfig,
            vectorizer: &'a TfidfVectorizer,
            fitted: &'a Option<Fitted>,
        }
        Out {
            config: &self.config,
            vectorizer: &self.vectorizer,
            fitted: &self.fitted,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for TextClassifier {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        let p = Persisted::deserialize(d)?;
        p.config.validate().map_err(D::Error::custom)?;
        if let Some(f) = &p.fitted {
            let nf = p.vectorizer.n_features().map_err(D::Error::custom)?;
            let k = f.classes.len();
            let link_ok = match &f.link {
                Link::Softmax => true,
                // `fit_temperature` searches ln(t) within ±7.
                Link::Temperature { t } => (1e-4..=1e4).contains(t),
                Link::Platt { a, b } => a.len() == k && b.len() == k,
            };
            if !f.linear.is_valid(nf, k) || !link_ok {
                return Err(D::Error::custom(
                    "classifier weights do not match its vocabulary and classes",
                ));
            }
            // What fit guarantees: two or more distinct labels, and NB counts that fit them.
            if k < 2 {
                return Err(D::Error::custom(format!(
                    "{k} class(es) stored: a fitted classifier has at least two"
                )));
            }
            let mut seen = std::collections::HashSet::new();
            if let Some(dup) = f.classes.iter().find(|c| !seen.insert(c.as_str())) {
                return Err(D::Error::custom(format!(
                    "class label {dup:?} is stored twice"
                )));
            }
            if let Link::Platt { a, b } = &f.link
                && !a.iter().chain(b).all(bounded)
            {
                return Err(D::Error::custom(
                    "Platt calibration holds a value out of range",
                ));
            }
            if let Some(nb) = &f.nb
                && (nb.class_count.len() != k
                    || nb.feature_count.len() != k.saturating_mul(nf)
                    || !nb
                        .class_count
                        .iter()
                        .chain(&nb.feature_count)
                        .all(|v| bounded(v) && *v >= 0.0))
            {
                return Err(D::Error::custom(
                    "naive Bayes counts do not match the classes and vocabulary, or are not finite counts",
                ));
            }
        }
        let mut p = p;
        if let Some(n) = p.fitted.as_mut().and_then(|f| {
            let k = f.classes.len();
            f.novelty.as_mut().map(|n| (n, k))
        }) {
            let (n, k) = n;
            let nf = p.vectorizer.n_features().map_err(D::Error::custom)?;
            // Two support features in files from before the exact-copy feature, three since.
            let calibrator_ok = n
                .calibrator
                .as_ref()
                .is_none_or(|c| c.is_valid(2) || c.is_valid(3));
            let floor_ok = (0.0..=1.0).contains(&n.support_floor);
            if !n.reference.is_valid(nf, k) || !calibrator_ok || !floor_ok {
                return Err(D::Error::custom(
                    "classifier training rows or confidence model do not match its vocabulary and classes",
                ));
            }
            n.reference.index(nf);
        }
        let mut c = TextClassifier {
            config: p.config,
            vectorizer: p.vectorizer,
            fitted: p.fitted,
            derived: Derived::default(),
            counters: Default::default(),
        };
        c.derive().map_err(D::Error::custom)?;
        Ok(c)
    }
}

impl Artifact for TextClassifier {
    const KIND: &'static str = "text_classifier";
}
