//! [`LineTokens`]: one line's tokens, produced once and weighted by every vectoriser that
//! tokenises alike (the resolver's knowledge base and its classifier, see `tokenises_like`).

use super::tokenised::count_tokenised;
use super::vectorizer::TfidfVectorizer;
use crate::error::Result;

/// The tokens of one line, in order, in one buffer (one allocation for the text, one for the
/// bounds, however many tokens).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct LineTokens {
    text: String,
    ends: Vec<usize>,
}

impl LineTokens {
    fn push(&mut self, token: &str) {
        self.text.push_str(token);
        self.ends.push(self.text.len());
    }

    /// The tokens, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(&self.ends).map(|(a, &b)| &self.text[a..b])
    }
}

/// One sparse row: column ids (ascending) and their values.
pub(crate) type SparseRow = (Vec<u32>, Vec<f64>);

impl TfidfVectorizer {
    /// The tokens of `text` as `transform` sees them (through the preprocessor, else split on
    /// whitespace), for [`row_with_unseen`](Self::row_with_unseen) of this vectoriser or of any
    /// that [`tokenises_like`](Self::tokenises_like) it.
    pub(crate) fn line_tokens(&self, text: &str) -> LineTokens {
        count_tokenised(1);
        let mut out = LineTokens::default();
        match &self.preprocessor {
            Some(p) => p.for_each_token(text, |t| out.push(t)),
            None => text.split_whitespace().for_each(|t| out.push(t)),
        }
        out
    }

    /// Whether `other` turns every text into the same tokens as this vectoriser (equal
    /// preprocessor configs, or neither has one), so one [`LineTokens`] serves both.
    pub(crate) fn tokenises_like(&self, other: &TfidfVectorizer) -> bool {
        self.config.preprocessor == other.config.preprocessor
    }

    /// The TF-IDF row of an already tokenised line and its unseen share: exactly what
    /// [`transform_with_unseen`](Self::transform_with_unseen) gives for the line, without
    /// tokenising it again.
    pub(crate) fn row_with_unseen(&self, tokens: &LineTokens) -> Result<(SparseRow, f64)> {
        let vocab = self.vocab()?;
        let ids: Vec<u32> = tokens.iter().map(|t| vocab.token_id(t)).collect();
        Ok(self.row_and_unseen(vocab, &ids))
    }
}
