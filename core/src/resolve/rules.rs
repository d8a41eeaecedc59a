//! Rules: hand-written regex rules, first match in file order wins, linear-time matching.

use std::path::Path;

use aho_corasick::{AhoCorasick, MatchKind};
use regex::{RegexBuilder, RegexSet, RegexSetBuilder};
use regex_syntax::ast::Ast;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Compiled size limit per rule: the `regex` crate never backtracks, so matching is linear in the
/// text; this bounds the memory a hand-written rule can take.
const RULE_SIZE_LIMIT: usize = 1 << 20;

/// Regex rules per `RegexSet`. One set over all rules compiles in superlinear time (4,000 rules
/// took 9 s, 10,000 took 221 s), while sets of bounded size compile in linear time overall.
/// Matching runs the sets in rule order and stops at the first that matches, so a text is
/// scanned at most once per chunk (benches/resolve.rs measures both; docs/resolve.md).
const SET_CHUNK: usize = 128;

/// One rule: when `pattern` (a case-insensitive regex) matches the error text, answer `solution`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// A name for reports and error messages; defaults to `rule <n>` (1-based).
    #[serde(default)]
    pub name: String,
    /// Regular expression (Rust `regex` syntax), matched case-insensitively anywhere in the text.
    pub pattern: String,
    /// The remedy to return.
    pub solution: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RulesFile {
    List(Vec<Rule>),
    Table { rules: Vec<Rule> },
}

/// Ordered rules; the first rule (in file order) whose pattern matches wins.
///
/// Rules whose pattern is a plain ASCII string (after escapes: `refused \(111\)` is one) go into
/// one Aho-Corasick automaton, built in time linear in their total length; the others into
/// `RegexSet`s of at most `SET_CHUNK` rules each. Both never backtrack: matching is linear in
/// the text for a given rule set.
#[derive(Clone, Debug, Default)]
pub struct Rules {
    rules: Vec<Rule>,
    literals: Option<Literals>,
    chunks: Vec<Chunk>,
}

/// The literal rules: automaton pattern `p` is rule `rule[p]`, in rule order.
#[derive(Clone, Debug)]
struct Literals {
    automaton: AhoCorasick,
    rule: Vec<usize>,
}

/// Consecutive regex rules (in rule order) compiled together: set pattern `p` is rule `rule[p]`.
#[derive(Clone, Debug)]
struct Chunk {
    set: RegexSet,
    rule: Vec<usize>,
}

impl PartialEq for Rules {
    fn eq(&self, other: &Self) -> bool {
        self.rules == other.rules
    }
}

/// The text of a pattern that matches exactly one ASCII string, case-insensitively, as a regex
/// would; `None` for any other pattern (inline flags such as `(?-i)` included).
fn ascii_literal(pattern: &str) -> Option<String> {
    // Most literal rules are plain text: no need to parse them.
    let meta = |b: u8| b"\\.+*?()|[]{}^$".contains(&b);
    if pattern.is_ascii() && !pattern.bytes().any(meta) {
        return Some(pattern.to_owned());
    }
    // The syntax tree alone tells (escapes such as `\.` are literals); it is much cheaper to
    // build than the compiled form.
    let ast = regex_syntax::ast::parse::Parser::new()
        .parse(pattern)
        .ok()?;
    let one = |a: &Ast| match a {
        Ast::Literal(l) if l.c.is_ascii() => Some(l.c),
        _ => None,
    };
    match &ast {
        Ast::Literal(_) => one(&ast).map(String::from),
        Ast::Concat(c) => c.asts.iter().map(one).collect(),
        _ => None,
    }
}

/// The only non-ASCII characters that case-insensitive matching (Unicode simple case folding, as
/// the `regex` crate does it) equates with ASCII letters: KELVIN SIGN with `k`, LONG S with `s`.
/// With them replaced and ASCII lowercased, a text contains a lowercased literal exactly when
/// the literal's case-insensitive regex matches it (a unit test checks every character).
const ASCII_FOLDS: [(char, &str); 2] = [('\u{212A}', "k"), ('\u{17F}', "s")];

/// `text` as the literal automaton reads it: ASCII lowercased, `ASCII_FOLDS` applied.
fn fold_ascii(text: &str) -> String {
    // Both folded characters start with one of these bytes; most texts have neither.
    if !text.bytes().any(|b| b == 0xE2 || b == 0xC5) {
        return text.to_ascii_lowercase();
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match ASCII_FOLDS.iter().find(|&&(f, _)| f == c) {
            Some(&(_, a)) => out.push_str(a),
            None => out.push(c.to_ascii_lowercase()),
        }
    }
    out
}

impl Literals {
    /// The lowest rule index among the literal rules found in `text`.
    fn first(&self, text: &str) -> Option<usize> {
        // The automaton holds lowercased literals and is case-sensitive: building it with ASCII
        // case folding instead takes three times longer for large rule sets.
        let hay = fold_ascii(text);
        // Overlapping search reports every pattern occurring in the text, shorter ones ending
        // at the same place included; pattern ids are in rule order.
        let mut best: Option<usize> = None;
        for m in self.automaton.find_overlapping_iter(&hay) {
            let p = m.pattern().as_usize();
            if best.is_none_or(|b| p < b) {
                best = Some(p);
                if p == 0 {
                    break;
                }
            }
        }
        best.map(|p| self.rule[p])
    }
}

impl Rules {
    /// Compiles `rules`; an invalid pattern is an error naming the rule.
    pub fn new(mut rules: Vec<Rule>) -> Result<Self> {
        let mut literal_text = Vec::new();
        let mut literal_rule = Vec::new();
        let mut regex_rule = Vec::new();
        for (i, r) in rules.iter_mut().enumerate() {
            if r.name.trim().is_empty() {
                r.name = format!("rule {}", i + 1);
            }
            if r.pattern.is_empty() {
                return Err(Error::InvalidInput(format!(
                    "rule {} `{}`: empty pattern",
                    i + 1,
                    r.name
                )));
            }
            if r.solution.trim().is_empty() {
                return Err(Error::InvalidInput(format!(
                    "rule {} `{}`: empty solution",
                    i + 1,
                    r.name
                )));
            }
            match ascii_literal(&r.pattern) {
                Some(mut text) => {
                    text.make_ascii_lowercase();
                    literal_text.push(text);
                    literal_rule.push(i);
                }
                None => regex_rule.push(i),
            }
        }
        let literals = if literal_rule.is_empty() {
            None
        } else {
            let automaton = AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .build(&literal_text)
                .map_err(|e| Error::InvalidInput(format!("literal rules do not compile: {e}")))?;
            Some(Literals {
                automaton,
                rule: literal_rule,
            })
        };
        let chunks = regex_rule
            .chunks(SET_CHUNK)
            .map(|ids| Self::chunk(&rules, ids))
            .collect::<Result<Vec<_>>>()?;
        Ok(Rules {
            rules,
            literals,
            chunks,
        })
    }

    /// Compiles the regex rules `ids` as one set, each rule held to its own size limit.
    fn chunk(rules: &[Rule], ids: &[usize]) -> Result<Chunk> {
        let alone = |i: usize| {
            let r = &rules[i];
            RegexBuilder::new(&r.pattern)
                .case_insensitive(true)
                .size_limit(RULE_SIZE_LIMIT)
                .build()
                .map(drop)
                .map_err(|e| {
                    Error::InvalidInput(format!(
                        "rule {} `{}`: invalid regex {:?}: {e}",
                        i + 1,
                        r.name,
                        r.pattern
                    ))
                })
        };
        // Only counted repetition or a long pattern can reach the per-rule size limit; those
        // are compiled alone too, so one rule cannot take its whole chunk's budget.
        for &i in ids {
            let p = &rules[i].pattern;
            if p.len() > 256 || p.contains('{') {
                alone(i)?;
            }
        }
        let set = RegexSetBuilder::new(ids.iter().map(|&i| &rules[i].pattern))
            .case_insensitive(true)
            .size_limit(RULE_SIZE_LIMIT.saturating_mul(ids.len()))
            .build()
            .map_err(|e| {
                // Name the rule: the first that fails alone (a syntax error, usually).
                match ids.iter().find_map(|&i| alone(i).err()) {
                    Some(named) => named,
                    None => Error::InvalidInput(format!(
                        "rules {}..={} do not compile together: {e}",
                        ids[0] + 1,
                        ids[ids.len() - 1] + 1
                    )),
                }
            })?;
        Ok(Chunk {
            set,
            rule: ids.to_vec(),
        })
    }

    /// Parses a JSON rules file: a list of rules or `{"rules": [...]}`.
    pub fn from_json(text: &str) -> Result<Self> {
        let file: RulesFile = serde_json::from_str(text)
            .map_err(|e| Error::InvalidInput(format!("rules JSON: {e}")))?;
        Self::new(file.into_rules())
    }

    /// Parses a TOML rules file: `[[rules]]` tables with `name`, `pattern`, `solution`.
    pub fn from_toml(text: &str) -> Result<Self> {
        let file: RulesFile =
            toml::from_str(text).map_err(|e| Error::InvalidInput(format!("rules TOML: {e}")))?;
        Self::new(file.into_rules())
    }

    /// Reads a rules file: TOML when the name ends in `.toml`, JSON otherwise.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io_at(path, e))?;
        let parsed = if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
        {
            Self::from_toml(&text)
        } else {
            Self::from_json(&text)
        };
        parsed.map_err(|e| match e {
            Error::InvalidInput(m) => Error::InvalidInput(format!("{}: {m}", path.display())),
            other => other,
        })
    }

    /// The rules, in order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The first rule matching `text`, with its index.
    pub fn first_match(&self, text: &str) -> Option<(usize, &Rule)> {
        let literal = self.literals.as_ref().and_then(|l| l.first(text));
        let mut best = literal;
        for c in &self.chunks {
            // Chunks are in rule order: none after a literal match can hold an earlier rule.
            if literal.is_some_and(|l| c.rule[0] > l) {
                break;
            }
            // One pass over the text for the chunk; the lowest index is the first in order.
            if let Some(p) = c.set.matches(text).iter().next() {
                best = Some(best.map_or(c.rule[p], |l| l.min(c.rule[p])));
                break;
            }
        }
        best.map(|i| (i, &self.rules[i]))
    }
}

impl RulesFile {
    fn into_rules(self) -> Vec<Rule> {
        match self {
            RulesFile::List(r) | RulesFile::Table { rules: r } => r,
        }
    }
}

impl Serialize for Rules {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.rules.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Rules {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Rules::new(Vec::<Rule>::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// Rule matching against what one regex per rule would answer (tests/resolve.rs holds the large
/// oracle comparisons).
#[cfg(test)]
mod tests {
    use super::*;

    /// The automaton folds ASCII case only, plus `ASCII_FOLDS`: for every ASCII character, that
    /// must be exactly the set of characters a case-insensitive regex equates with it (the
    /// parser the `regex` crate uses computes that set).
    #[test]
    fn ascii_folds_are_all_the_regex_folds_of_ascii() {
        use regex_syntax::hir::{Class, HirKind};
        for a in (0u8..128).map(char::from) {
            let pattern = format!("(?i){}", regex::escape(&a.to_string()));
            let hir = regex_syntax::Parser::new().parse(&pattern).unwrap();
            let mut regex_set: Vec<char> = match hir.kind() {
                HirKind::Literal(l) => std::str::from_utf8(&l.0).unwrap().chars().collect(),
                HirKind::Class(Class::Unicode(c)) => c
                    .iter()
                    .flat_map(|r| (r.start()..=r.end()).collect::<Vec<_>>())
                    .collect(),
                other => panic!("{a:?}: {other:?}"),
            };
            let mut ours = vec![a.to_ascii_lowercase(), a.to_ascii_uppercase()];
            ours.extend(
                ASCII_FOLDS
                    .iter()
                    .filter(|&&(_, s)| s.starts_with(a.to_ascii_lowercase()))
                    .map(|&(c, _)| c),
            );
            for v in [&mut regex_set, &mut ours] {
                v.sort_unstable();
                v.dedup();
            }
            assert_eq!(ours, regex_set, "{a:?}");
        }
    }

    #[test]
    fn literal_patterns_are_told_from_regex_ones() {
        assert_eq!(ascii_literal("disk full").as_deref(), Some("disk full"));
        assert_eq!(
            ascii_literal(r"refused \(111\)").as_deref(),
            Some("refused (111)")
        );
        assert_eq!(ascii_literal(r"a\.b").as_deref(), Some("a.b"));
        for p in [
            "a.b", "a|b", "ab+", "^ab", r"\bab", "(?-i)AB", "(ab)", "échec", "[ab]",
        ] {
            assert_eq!(ascii_literal(p), None, "{p}");
        }
    }

    #[test]
    fn literal_and_regex_rules_keep_file_order() {
        let rule = |p: &str| Rule {
            name: String::new(),
            pattern: p.into(),
            solution: format!("fix {p}"),
        };
        let r = Rules::new(vec![
            rule("zzz"),
            rule("time.?out"),
            rule("TIMEOUT"),
            rule("(?-i)Kelvin"),
            rule("kelvin"),
            rule("miſs"),
        ])
        .unwrap();
        assert_eq!(r.first_match("a timeout").map(|m| m.0), Some(1));
        assert_eq!(r.first_match("a TIMEOUT zzz").map(|m| m.0), Some(0));
        assert_eq!(r.first_match("kelvin").map(|m| m.0), Some(4));
        assert_eq!(r.first_match("Kelvin").map(|m| m.0), Some(3));
        // KELVIN SIGN folds to k, as in the regex.
        assert_eq!(r.first_match("\u{212A}ELVIN").map(|m| m.0), Some(4));
        // A non-ASCII pattern is a regex: LONG S matches s and S there too.
        assert_eq!(r.first_match("MISS").map(|m| m.0), Some(5));
        assert!(r.first_match("nothing").is_none());
        // Non-ASCII literals take the regex path, case-insensitively as before.
        let r = Rules::new(vec![rule("ÉCHEC")]).unwrap();
        assert_eq!(r.first_match("échec total").map(|m| m.0), Some(0));
    }
}
