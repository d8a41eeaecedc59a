"""The classify job written with scikit-learn, for the throughput comparison (`bench.py`).

`preprocess` + `tokenize` do in Python what faultlens' `TextClassifier` does in Rust before its
TF-IDF (docs/text.md), as the system faultlens replaces did it (lowercase, regex cleanup,
tokenize, stop words, then a stemmer or lemmatiser per token):

- lowercase, then the same masks with the same patterns and in the same order: `<url>`,
  `<email>`, `<uuid>`, `<ts>`, `<ip>`, `<host>` (a dotted name ending in a top-level domain),
  `<path>`, `<hex>`, `<num>`;
- tokens: placeholders, and words with their inner `.`, `_`, `-`, `:` (`java.lang.Error`,
  `kube-proxy`, `blk_<num>`); at least 2 characters;
- English stop words (scikit-learn's list without the negations and state words faultlens keeps);
- Snowball's English stemmer (NLTK's, which needs no downloaded data: the seed's WordNet
  lemmatiser and `word_tokenize` need corpora that only `nltk.download` fetches) on alphabetic
  tokens, memoised per word (a dict: the cheapest way to stem in Python, so the comparison gives
  scikit-learn every advantage);
- then `TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)` + `LogisticRegression`, the
  options of faultlens' default logistic model.

The functions live in this module (shipped to the executors with `addPyFile`) so the pickled
pipeline refers to them by name.
"""
import pickle
import re
import time

import pandas as pd
from nltk.stem.snowball import SnowballStemmer
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

_GENERIC_TLDS = {"com", "net", "org", "edu", "gov", "mil", "info", "biz", "local", "localdomain",
                 "internal", "lan", "corp", "home", "intranet"}
_COUNTRY_TLDS = {"uk", "de", "fr", "nl", "jp", "kr", "cn", "ru", "br", "es", "au", "ca", "ch", "se",
                 "fi", "dk", "eu", "tw", "hk", "sg", "nz", "za", "mx", "ar", "cz", "hu", "il", "ie",
                 "pt", "gr", "tr", "ua", "vn", "th", "ph", "ro", "sk", "cl", "co", "ve", "pe", "io",
                 "us"}


def _host(m: re.Match) -> str:
    name = m.group(0).rsplit(":", 1)[0] if ":" in m.group(0) else m.group(0)
    labels = name.split(".")
    tld_ok = (len(labels) >= 2 and labels[-1] in _GENERIC_TLDS) or \
        (len(labels) >= 3 and labels[-1] in _COUNTRY_TLDS)
    return "<host>" if tld_ok and any(c.isalpha() for c in name) else m.group(0)


def _hex(m: re.Match) -> str:
    s = m.group(0)
    return "<hex>" if s.startswith("0x") or len(s) >= 6 else s


# faultlens' built-in masks (core/src/text/masks.rs), its look-behind conditions written as
# look-behinds (Python's `re` has them).
_MASKS = [
    (re.compile(r"\b(?:[a-z][a-z0-9+.\-]{1,15})://[^\s<>\"']+"), "<url>"),
    (re.compile(r"\b[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,}\b"), "<email>"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), "<uuid>"),
    (re.compile(
        r"\b\d{4}[-/]\d{1,2}[-/]\d{1,2}(?:[t ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:z|[+\-]\d{2}:?\d{2})?)?\b"
        r"|\b(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s+)?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
        r"[a-z]*\s+\d{1,2}(?:,?\s+\d{4})?\s+\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?(?:\s+(?:19|20)\d{2})?\b"
        r"|\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b"), "<ts>"),
    (re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?\b|\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\b"
                r"|\b(?:[0-9a-f]{1,4}:){1,6}:[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,5}\b"
                r"|::(?:ffff:)?(?:\d{1,3}\.){3}\d{1,3}\b|::1\b"), "<ip>"),
    (re.compile(r"(?<![\w.<])[a-z0-9][a-z0-9\-]*(?:\.[a-z0-9][a-z0-9\-]*)+(?::\d{1,5}\b)?(?![\w\-]|\.\w)"), _host),
    (re.compile(r"(?<![\w<])(?:[a-z]:\\|~/|\.{1,2}/|/)(?:[\w.\-@%+~$]+[/\\])*[\w.\-@%+~$]+/?"), "<path>"),
    (re.compile(r"\b0x[0-9a-f]+\b|\b[0-9a-f]*(?:[0-9][0-9a-f]*[a-f]|[a-f][0-9a-f]*[0-9])[0-9a-f]*\b"), _hex),
    # A number not inside an id (`user123`, `3f2a9`) but after `_` (`blk_123`).
    (re.compile(r"(?<![^\W_])-?\d+(?:[.,]\d+)*(?![^\W_]*\d)"), "<num>"),
]

_TOKEN = re.compile(r"<[a-z]+>|\w+(?:[.\-:]\w+)*")
# faultlens keeps negations and state words: they decide what an error means.
_KEEP = {"not", "no", "nor", "never", "none", "cannot", "down", "off", "after", "before", "over",
         "under", "again", "against", "out", "up", "empty", "least", "less", "few", "without"}
_STOP = frozenset(ENGLISH_STOP_WORDS - _KEEP)
_stemmer = SnowballStemmer("english")
_stems: dict[str, str] = {}


def preprocess(text: str) -> str:
    """Lowercase and mask the variable parts, as faultlens' default preprocessor."""
    text = text.lower()
    for pattern, repl in _MASKS:
        text = pattern.sub(repl, text)
    return text


def tokenize(text: str) -> list[str]:
    """Tokens of a preprocessed line: stop words and 1-character tokens out, words stemmed."""
    out = []
    for t in _TOKEN.findall(text):
        if len(t) < 2 or t in _STOP:
            continue
        if t.isalpha():
            s = _stems.get(t)
            if s is None:
                s = _stems[t] = _stemmer.stem(t)
            t = s
        out.append(t)
    return out


def same_job() -> object:
    """The scikit-learn pipeline doing faultlens' work: preprocessing, 1-2-grams, logistic."""
    return make_pipeline(
        TfidfVectorizer(preprocessor=preprocess, tokenizer=tokenize, token_pattern=None, lowercase=False,
                        ngram_range=(1, 2), sublinear_tf=True),
        LogisticRegression(max_iter=1000))


def bare() -> object:
    """scikit-learn's default text pipeline: no masking, stemming or stop words (not the same job)."""
    return make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000))


# One unpickled pipeline per Python worker, per broadcast (PySpark reuses workers across tasks).
_models: dict = {}


def predict_udf(bc, acc_model):
    """A pandas UDF predicting with the pickled pipeline in broadcast `bc`; its thread CPU is
    added to the accumulator `acc_model`."""
    from pyspark.sql.functions import pandas_udf

    @pandas_udf("string")
    def predict(text: pd.Series) -> pd.Series:
        key = hash(bc.value)
        model = _models.get(key)
        if model is None:
            _models.clear()
            model = _models[key] = pickle.loads(bc.value)
        t0 = time.thread_time()
        out = pd.Series(model.predict(text))
        acc_model.add(time.thread_time() - t0)
        return out
    return predict
