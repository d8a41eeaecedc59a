//! Rules against a naive first-match oracle: one case-insensitive regex per rule, tried in file
//! order (literal rules go through an Aho-Corasick automaton and regex rules through chunked
//! regex sets; the answers must not change). Fixed seeds.

use faultlens::resolve::{Rule, Rules};
use regex::RegexBuilder;

/// xorshift64*: a fixed-seed generator, enough for test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// 40 syllables (k and s among the consonants, for the folds).
fn syllable(rng: &mut Rng) -> String {
    let c = ["k", "s", "t", "r", "n", "d", "x", "q"][rng.below(8)];
    let v = ["a", "e", "i", "o", "u"][rng.below(5)];
    format!("{c}{v}")
}

/// `min` to `min + spread - 1` syllables.
fn word(rng: &mut Rng, min: usize, spread: usize) -> String {
    let n = min + rng.below(spread);
    (0..n).map(|_| syllable(rng)).collect()
}

/// A text of random words in random case, sometimes with KELVIN SIGN or LONG S standing for k
/// and s (a case-insensitive regex matches them there).
fn text(rng: &mut Rng) -> String {
    let words: Vec<String> = (0..2 + rng.below(10)).map(|_| word(rng, 1, 4)).collect();
    let mut t = words.join(if rng.below(2) == 0 { " " } else { "." });
    t = t
        .chars()
        .map(|c| match (c, rng.below(12)) {
            ('k', 0) => '\u{212A}',
            ('s', 0) => '\u{17F}',
            (c, 1..=4) => c.to_ascii_uppercase(),
            (c, _) => c,
        })
        .collect();
    t
}

fn rule(i: usize, pattern: String) -> Rule {
    Rule {
        name: format!("r{i}"),
        pattern,
        solution: format!("fix {i}"),
    }
}

/// The first rule whose own case-insensitive regex matches: the semantics before any prefilter.
fn oracle(regexes: &[regex::Regex], text: &str) -> Option<usize> {
    regexes.iter().position(|r| r.is_match(text))
}

fn compile_each(rules: &[Rule]) -> Vec<regex::Regex> {
    rules
        .iter()
        .map(|r| {
            RegexBuilder::new(&r.pattern)
                .case_insensitive(true)
                .build()
                .unwrap()
        })
        .collect()
}

/// 20,000 literal rules (many overlapping, prefixes and suffixes of each other, duplicates).
/// The oracle here folds the text the way a case-insensitive regex does for ASCII patterns
/// (`k`/`s` also match KELVIN SIGN / LONG S), since 20,000 regexes take too long to build in a
/// debug test; the mixed test below uses real per-rule regexes.
#[test]
fn twenty_thousand_literal_rules_agree_with_a_first_match_oracle() {
    let mut rng = Rng(0x5EED_0001);
    let rules: Vec<Rule> = (0..20_000)
        .map(|i| {
            let w: Vec<String> = (0..1 + rng.below(2))
                .map(|_| word(&mut rng, 2, 2))
                .collect();
            rule(i, w.join(" "))
        })
        .collect();
    let compiled = Rules::new(rules.clone()).unwrap();
    let lowered: Vec<String> = rules
        .iter()
        .map(|r| r.pattern.to_ascii_lowercase())
        .collect();
    let (mut hits, mut late) = (0, 0);
    for _ in 0..400 {
        let t = text(&mut rng);
        let folded = t
            .replace('\u{212A}', "k")
            .replace('\u{17F}', "s")
            .to_ascii_lowercase();
        let want = lowered.iter().position(|p| folded.contains(p.as_str()));
        assert_eq!(compiled.first_match(&t).map(|m| m.0), want, "{t:?}");
        hits += usize::from(want.is_some());
        late += usize::from(want.is_some_and(|i| i > 1_000));
    }
    // The data exercises both answers and matches deep in the list.
    assert!(hits > 60 && hits < 400 && late > 5, "{hits} {late}");
}

/// Literal, escaped-literal and regex rules interleaved across several regex sets, with
/// inline flags, anchors, classes and non-ASCII patterns, against one regex per rule.
#[test]
fn mixed_rules_agree_with_one_regex_per_rule() {
    let mut rng = Rng(0x5EED_0002);
    let rules: Vec<Rule> = (0..700)
        .map(|i| {
            let (a, b) = (word(&mut rng, 2, 1), word(&mut rng, 1, 2));
            let pattern = match rng.below(10) {
                0..=3 => a,
                4 => format!(r"{a}\.{b}"),
                5 => format!("{a}|{b}"),
                6 => format!(r"\b{a}\b"),
                7 => format!("(?-i){}", a.to_ascii_uppercase()),
                8 => format!("^{a}.*{b}"),
                _ => format!("{a}[s\u{17F}]?{b}é?"),
            };
            rule(i, pattern)
        })
        .collect();
    let compiled = Rules::new(rules.clone()).unwrap();
    let regexes = compile_each(&rules);
    let mut hits = 0;
    for _ in 0..1_500 {
        let t = text(&mut rng);
        let want = oracle(&regexes, &t);
        assert_eq!(compiled.first_match(&t).map(|m| m.0), want, "{t:?}");
        hits += usize::from(want.is_some());
    }
    assert!(hits > 300 && hits < 1_500, "{hits}");
}

/// A text for `thousands_of_generated_rules_agree_with_one_regex_per_rule`: random words,
/// numbers and words the rules are made of (so deep rules match too), in random case and with
/// KELVIN SIGN / LONG S standing for k and s now and then.
fn rule_text(rng: &mut Rng, pieces: &[(String, String)]) -> String {
    let n = 1 + rng.below(6);
    let mut t = String::new();
    for i in 0..n {
        if i > 0 {
            t.push_str([" ", " ", ".", "", "  "][rng.below(5)]);
        }
        match rng.below(6) {
            0 => t.push_str(&word(rng, 1, 3)),
            1 => t.push_str(&rng.below(100_000).to_string()),
            2 => t.push_str(["échec", "ÉCHEC", "x", "y", "\u{212A}", "_"][rng.below(6)]),
            3 => t.push_str(&pieces[rng.below(pieces.len())].1),
            _ => t.push_str(&pieces[rng.below(pieces.len())].0),
        }
    }
    t.chars()
        .map(|c| match (c, rng.below(16)) {
            ('k', 0) => '\u{212A}',
            ('s', 0) => '\u{17F}',
            (c, 1..=4) => c.to_ascii_uppercase(),
            (c, _) => c,
        })
        .collect()
}

/// 3,000 generated rules (two fifths literal, the rest regexes of nine shapes: classes,
/// counted repetition, anchors, word boundaries, inline flags, Unicode), spread over many sets,
/// answer exactly what one case-insensitive regex per rule, tried in file order, answers.
#[test]
fn thousands_of_generated_rules_agree_with_one_regex_per_rule() {
    let mut rng = Rng(0x5EED_0003);
    let mut pieces = Vec::new();
    let rules: Vec<Rule> = (0..3_000)
        .map(|i| {
            let (a, b) = (word(&mut rng, 2, 2), word(&mut rng, 1, 2));
            let pattern = match rng.below(15) {
                0..=3 => a.clone(),
                4 => format!("{a} {b}"),
                5 => format!(r"{a}\.{b}"),
                6 => format!("{a}|{b}x"),
                7 => format!(r"\b{a}\b"),
                8 => format!("(?-i){}", a.to_ascii_uppercase()),
                9 => format!("^{a}.*{b}"),
                10 => format!("{a}[s\u{17F}]?{b}é?"),
                11 => format!(r"{a}\d+"),
                12 => format!("{a}(?:{b}){{1,2}}$"),
                13 => format!("(?i)échec {a}|[kst]{b}"),
                _ => format!(r"{a}\s+\w*{b}"),
            };
            pieces.push((a, b));
            rule(i, pattern)
        })
        .collect();
    let compiled = Rules::new(rules.clone()).unwrap();
    let regexes = compile_each(&rules);
    let (mut hits, mut late) = (0, 0);
    for _ in 0..1_000 {
        let t = rule_text(&mut rng, &pieces);
        let want = oracle(&regexes, &t);
        assert_eq!(compiled.first_match(&t).map(|m| m.0), want, "{t:?}");
        hits += usize::from(want.is_some());
        late += usize::from(want.is_some_and(|i| i >= 1_500));
    }
    // Both answers, and matches deep in the list (sets compiled late, after literal hits).
    assert!(hits > 200 && hits < 1_000 && late > 20, "{hits} {late}");
}

/// A bad regex anywhere (here deep in the second chunk) is still an error naming its rule.
#[test]
fn a_bad_rule_among_many_is_named() {
    let mut rules: Vec<Rule> = (0..300).map(|i| rule(i, format!("e{i}|x{i}"))).collect();
    rules[250].pattern = "unclosed (".into();
    let err = Rules::new(rules).unwrap_err().to_string();
    assert!(err.contains("rule 251 `r250`"), "{err}");
}

/// Feedback per solution: outcomes name the rule or matched past error that answered, a success
/// teaches an empty resolver, per-solution thresholds override a stage's, and `summary()` adds
/// it all up.
#[test]
fn feedback_per_solution_and_summary() {
    use faultlens::resolve::{Method, Mode, Resolver, ResolverConfig, SolutionThreshold};

    // An empty resolver: the first success starts its knowledge base.
    let r = Resolver::new(ResolverConfig::default()).unwrap();
    assert_eq!(r.knowledge_size(), 0);
    r.record_outcome("disk quota exceeded on /home", "clean /home", true)
        .unwrap();
    assert_eq!(r.knowledge_size(), 1);
    let res = r
        .resolve("disk quota exceeded on /home", Mode::Auto)
        .unwrap();
    assert_eq!(res.solution.as_deref(), Some("clean /home"));
    assert_eq!(res.method, Method::SimilarityMatch);

    let mut r = Resolver::new(ResolverConfig {
        solution_thresholds: vec![SolutionThreshold {
            solution: "restart the database".into(),
            threshold: 1.0,
        }],
        ..Default::default()
    })
    .unwrap();
    r.set_rules(
        Rules::new(vec![Rule {
            name: "oom".into(),
            pattern: "OutOfMemoryError".into(),
            solution: "raise the heap".into(),
        }])
        .unwrap(),
    );
    r.add_knowledge(
        &[
            "connection refused to db-1:5432",
            "connection refused to db-2:5432",
            "disk quota exceeded on /var",
        ],
        &["restart the database", "restart the database", "clean /var"],
    )
    .unwrap();
    let oom = "java.lang.OutOfMemoryError: heap";
    assert_eq!(
        r.resolve(oom, Mode::Auto).unwrap().method,
        Method::ExactMatch
    );
    r.record_outcome(oom, "raise the heap", true).unwrap();
    r.record_outcome(oom, "raise the heap", false).unwrap();
    let last = r.outcomes().pop().unwrap();
    assert_eq!(last.rule.as_deref(), Some("oom"));
    assert_eq!(last.method, Method::ExactMatch);

    // The database remedy demands certainty 1.0: a similarity answer abstains.
    let db = r
        .resolve("upstream connection refused by the db proxy", Mode::Auto)
        .unwrap();
    assert!(db.confidence < 1.0, "{db:?}");
    assert_eq!(db.solution.as_deref(), Some("restart the database"));
    assert!(!db.reliable, "{db:?}");
    let disk = "disk quota exceeded on /var";
    let d = r.resolve(disk, Mode::Auto).unwrap();
    assert!(d.reliable && d.method == Method::SimilarityMatch, "{d:?}");
    r.record_outcome(disk, "clean /var", true).unwrap();
    let last = r.outcomes().pop().unwrap();
    assert!(last.matched_id.is_some() && last.similarity.is_some() && last.rule.is_none());
    let bad = ResolverConfig {
        solution_thresholds: vec![SolutionThreshold {
            solution: "x".into(),
            threshold: 1.5,
        }],
        ..Default::default()
    };
    match Resolver::new(bad) {
        Err(faultlens::Error::InvalidConfig { field, .. }) => {
            assert_eq!(field, "solution_thresholds")
        }
        other => panic!("{other:?}"),
    }

    let s = r.summary();
    assert_eq!(s.total, 3);
    assert_eq!((s.reliable, s.unreliable), (2, 1));
    assert_eq!(s.outcomes, 3);
    assert!((s.success_rate.unwrap() - 2.0 / 3.0).abs() < 1e-12);
    let heap = &s.by_solution["raise the heap"];
    assert_eq!(
        (heap.success, heap.failure, heap.success_rate),
        (1, 1, Some(0.5))
    );
    assert_eq!(s.by_solution["clean /var"].success_rate, Some(1.0));
    let exact = &s.by_stage["exact_match"];
    assert_eq!((exact.resolutions, exact.success, exact.failure), (1, 1, 1));
    assert_eq!(s.by_stage["similarity_match"].resolutions, 2);
    let (mean, max) = (s.mean_latency_ms.unwrap(), s.max_latency_ms.unwrap());
    assert!(mean > 0.0 && max >= mean * 0.999, "{mean} {max}");
    assert!(s.mean_confidence.unwrap() > 0.0);
    // Per-solution counts are saved with the resolver.
    let back =
        <Resolver as faultlens::Artifact>::from_bytes(&faultlens::Artifact::to_bytes(&r).unwrap())
            .unwrap();
    assert_eq!(back.summary().by_solution, s.by_solution);
}
