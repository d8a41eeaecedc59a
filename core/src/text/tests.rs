//! Preprocessing tests: masks against their regexes, segmentation, stemming, Korean, batches.

use crate::error::Error;

use super::config::{MaskRule, PreprocessorConfig};
use super::fnv1a64;
use super::masks::{LineFlags, builtin_mask, mask_numbers, replace_mask};
use super::preprocessor::Preprocessor;
use super::segment::{Segment, segment, segment_ascii};

fn plain() -> PreprocessorConfig {
    PreprocessorConfig {
        stemmer: "none".into(),
        stop_words: "none".into(),
        min_token_length: 1,
        ..Default::default()
    }
}

fn toks(cfg: PreprocessorConfig, text: &str) -> Vec<String> {
    Preprocessor::new(cfg).unwrap().tokens(text)
}

#[test]
fn shape_prefilter_never_changes_a_masked_line() {
    let lines: Vec<String> = include_str!("../../../tests/fixtures/classify/train.jsonl")
        .lines()
        .chain(include_str!("../../../tests/fixtures/classify/test.jsonl").lines())
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["text"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let edges = [
        "req 123e4567-e89b-12d3-a456-426614174000 done",
        "at 2001:0db8:85a3:0000:0000:8a2e:0370:7334 now",
        "at fe80::1ff:fe23:4567:890a",
        "peer ::ffff:10.0.0.1 and ::1 and 1::2",
        "see https://example.com/a?b=1 now, mail ops@example.co.kr",
        "ptr 0xdeadbeef 0x1 0xg 0X7f id 3f2a9c 3f2a9 abcdef 123456 a1b2c3d4e5",
        "at 2024-01-02T03:04:05.123Z 2015/07/29 Jun 14 15:16:01 7:05:09",
        "from 10.251.73.220:50010 to 1.2.3 v1.2",
    ];
    let lines: Vec<String> = lines
        .into_iter()
        .chain(edges.iter().map(|e| e.to_string()))
        .collect();
    // Seeded random lines over the characters the shapes look at, plus a few non-ASCII ones.
    let alphabet: Vec<char> = "0123456789abcdefxX:.-/ _@~\\<>=,zZ0x::1٣".chars().collect();
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let random: Vec<String> = (0..6_000)
        .map(|_| {
            let len = (next() % 40) as usize;
            (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect()
        })
        .collect();
    let custom = PreprocessorConfig {
        // A custom placeholder holding hex letters and a digit (`<ab12cd>`) runs first.
        custom_masks: vec![MaskRule {
            pattern: "q+".into(),
            placeholder: "<ab12cd>".into(),
        }],
        ..Default::default()
    };
    let upper = PreprocessorConfig {
        lowercase: false,
        ..Default::default()
    };
    for cfg in [PreprocessorConfig::default(), custom, upper] {
        let p = Preprocessor::new(cfg).unwrap();
        for line in lines.iter().chain(&random) {
            for text in [line.clone(), format!("q{line}q"), line.to_uppercase()] {
                assert_eq!(
                    p.masked_with(&text, true),
                    p.masked_with(&text, false),
                    "{text:?}"
                );
            }
        }
    }
    // The shapes do skip work: a plain counter line runs no ts/ip/uuid/hex regex.
    let sh = LineFlags::scan(b"blk_-1608999687919862906 size 67108864 at 10:22").shapes;
    assert!(!sh.ip && !sh.uuid && !sh.hex && !sh.url && sh.ts);
}

#[test]
fn equal_configs_share_one_compiled_form_and_others_do_not() {
    let custom = PreprocessorConfig {
        custom_masks: vec![MaskRule {
            pattern: r"ord-\d+".into(),
            placeholder: "<order>".into(),
        }],
        ..plain()
    };
    let a = Preprocessor::new(custom.clone()).unwrap();
    let b = Preprocessor::new(custom.clone()).unwrap();
    assert!(std::sync::Arc::ptr_eq(&a.compiled, &b.compiled));
    let other = Preprocessor::new(plain()).unwrap();
    assert!(!std::sync::Arc::ptr_eq(&a.compiled, &other.compiled));
    assert_eq!(a.tokens("ord-17 failed"), vec!["<order>", "failed"]);
    assert_eq!(
        other.tokens("ord-17 failed"),
        vec!["ord", "<num>", "failed"]
    );
    // A bad config is never cached as if it were good.
    let bad = PreprocessorConfig {
        masks: vec!["nope".into()],
        ..plain()
    };
    assert!(Preprocessor::new(bad.clone()).is_err());
    assert!(Preprocessor::new(bad).is_err());
}

#[test]
fn masks_each_kind() {
    let cases = [
        ("see https://example.com/a?b=1 now", "see <url> now"),
        ("mail ops@example.co.kr today", "mail <email> today"),
        (
            "req 123e4567-e89b-12d3-a456-426614174000 done",
            "req <uuid> done",
        ),
        ("at 2024-01-02T03:04:05.123Z ok", "at <ts> ok"),
        ("at 2015-07-29 17:41:44,747 ok", "at <ts> ok"),
        ("at Jun 14 15:16:01 ok", "at <ts> ok"),
        ("from 10.251.73.220:50010 up", "from <ip> up"),
        ("from fe80::1ff:fe23:4567:890a up", "from <ip> up"),
        ("open /var/log/syslog.1 failed", "open <path> failed"),
        ("open C:\\temp\\x.txt failed", "open <path> failed"),
        ("ptr 0x7ffd1234 bad", "ptr <hex> bad"),
        ("id deadbeef42 bad", "id <hex> bad"),
        ("took 250 ms and 3.5 s", "took <num> ms and <num> s"),
        ("took 250ms", "took <num> ms"),
        ("id 3f2a9 x2 user123", "id 3f2a9 x2 user123"),
    ];
    for (text, want) in cases {
        assert_eq!(
            Preprocessor::new(plain()).unwrap().process(text),
            want,
            "{text}"
        );
    }
}

#[test]
fn read_write_is_not_a_path_and_short_hex_words_stay() {
    assert_eq!(
        toks(plain(), "read/write face cafe"),
        ["read", "write", "face", "cafe"]
    );
}

#[test]
fn keeps_identifiers_whole_and_optionally_splits_them() {
    let t = toks(
        plain(),
        "java.lang.NullPointerException ERR_CONNECTION_REFUSED kube-proxy error.code",
    );
    assert_eq!(
        t,
        [
            "java.lang.nullpointerexception",
            "err_connection_refused",
            "kube-proxy",
            "error.code"
        ]
    );
    let t = toks(
        PreprocessorConfig {
            split_identifiers: true,
            ..plain()
        },
        "kube-proxy",
    );
    assert_eq!(t, ["kube-proxy", "kube", "proxy"]);
}

#[test]
fn combining_mark_after_a_space_is_not_glued_to_the_space() {
    // Found by tests/fuzz.rs: UAX #29 makes " \u{1e000}" one segment.
    let cfg = PreprocessorConfig {
        lowercase: false,
        mask: false,
        ..Default::default()
    };
    let t = toks(cfg, "10.0.0.1:8080 \u{1e000}");
    assert!(
        t.iter().all(|t| !t.chars().any(char::is_whitespace)),
        "{t:?}"
    );
    assert_eq!(
        t,
        ["10.0.0.1", "8080"],
        "a lone mark is one char: below min_token_length"
    );
}

#[test]
fn korean_and_mixed_scripts() {
    let t = toks(
        PreprocessorConfig::default(),
        "데이터베이스 연결 실패: Connection timed out after 30s",
    );
    assert_eq!(t[..3], ["데이터베이스", "연결", "실패"]);
    assert!(t.contains(&"connect".to_string()));
    let t = toks(plain(), "接続エラー 😀 emoji");
    assert_eq!(t, ["接続エラー", "emoji"]);
}

#[test]
fn stopwords_match_after_stemming_and_case() {
    let cfg = PreprocessorConfig {
        extra_stop_words: vec!["Retrying".into()],
        ..Default::default()
    };
    assert_eq!(toks(cfg.clone(), "The server is retrying"), ["server"]);
    let cfg = PreprocessorConfig {
        lowercase: false,
        ..cfg
    };
    assert_eq!(toks(cfg, "The Server retries"), ["Server"]);
}

#[test]
fn negations_are_not_stopwords() {
    assert_eq!(
        toks(PreprocessorConfig::default(), "file not found"),
        ["file", "not", "found"]
    );
}

#[test]
fn custom_masks_and_their_errors() {
    let rule = MaskRule {
        pattern: r"ord-[a-z]+".into(),
        placeholder: "<order>".into(),
    };
    let cfg = PreprocessorConfig {
        custom_masks: vec![rule],
        ..plain()
    };
    assert_eq!(
        toks(cfg, "order ord-abc failed"),
        ["order", "<order>", "failed"]
    );
    let bad = MaskRule {
        pattern: "(".into(),
        placeholder: "<x>".into(),
    };
    let err = Preprocessor::new(PreprocessorConfig {
        custom_masks: vec![bad],
        ..plain()
    })
    .unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidConfig {
            field: "custom_masks",
            ..
        }
    ));
    let bad = MaskRule {
        pattern: "x".into(),
        placeholder: "oops".into(),
    };
    assert!(
        Preprocessor::new(PreprocessorConfig {
            custom_masks: vec![bad],
            ..plain()
        })
        .is_err()
    );
}

#[test]
fn bad_config_names_the_field() {
    for (cfg, field) in [
        (
            PreprocessorConfig {
                stemmer: "klingon".into(),
                ..Default::default()
            },
            "stemmer",
        ),
        (
            PreprocessorConfig {
                stop_words: "french".into(),
                ..Default::default()
            },
            "stop_words",
        ),
        (
            PreprocessorConfig {
                masks: vec!["phone".into()],
                ..Default::default()
            },
            "masks",
        ),
    ] {
        match Preprocessor::new(cfg).unwrap_err() {
            Error::InvalidConfig { field: f, .. } => assert_eq!(f, field),
            e => panic!("{e}"),
        }
    }
}

#[test]
fn number_scanner_matches_regex() {
    let m = builtin_mask("num");
    let alphabet = ["1", "23", "-", ".", ",", "a", "_", " ", "초", "x9"];
    let mut samples = vec!["blk_-123 1.5,6 a-7 -8- 250ms 3f2a9 v1.2.3 1..2 1,,2 --3".to_string()];
    for x in alphabet {
        for y in alphabet {
            for z in alphabet {
                samples.push(format!("{x}{y}{z}{x}1{y}"));
            }
        }
    }
    for s in &samples {
        assert_eq!(mask_numbers(s, "<num>"), replace_mask(&m, s), "{s:?}");
    }
}

#[test]
fn ascii_segmentation_matches_uax29() {
    let mut samples: Vec<String> = vec![
        "a.b a:b a'b 1.2 1,2 1;2 a.1 1.a a_.b _a_ a__b ab: :ab a:: 1.2.3 v1.2 x.y.z. ..a a..b"
            .into(),
        "kube-proxy <num> <a b> a-<num> -a- a--b e.g. don't 10.0.0.1:80 k=v (x) [y] {z}".into(),
    ];
    // Every pair of ASCII classes, in short strings.
    let alphabet = [
        "a", "Z", "1", "_", ":", ".", "'", ",", ";", "-", " ", "<", ">", "/",
    ];
    for x in alphabet {
        for y in alphabet {
            for z in alphabet {
                samples.push(format!("{x}{y}{z}a{x}1{y}{z}"));
            }
        }
    }
    let render = |v: Vec<Segment<'_>>| {
        v.into_iter()
            .map(|s| match s {
                Segment::Word(w) => format!("W({w})"),
                Segment::Placeholder(p) => format!("P({p})"),
            })
            .collect::<Vec<_>>()
    };
    for s in &samples {
        assert_eq!(render(segment_ascii(s)), render(segment(s)), "{s:?}");
    }
}

#[test]
fn template_is_stable() {
    let p = Preprocessor::default();
    let a = p.template("PacketResponder 1 for block blk_38865049064139660 terminating");
    let b = p.template("PacketResponder  0 for block blk_-6952295868487656571 terminating");
    assert_eq!(a, b);
    assert_eq!(
        a.masked,
        "packetresponder <num> for block blk_<num> terminating"
    );
    assert_eq!(a.id, format!("{:016x}", fnv1a64(a.masked.as_bytes())));
    assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
}

#[test]
fn degenerate_inputs_are_defined() {
    let p = Preprocessor::default();
    assert!(p.tokens("").is_empty());
    assert!(p.tokens(" \t\n ").is_empty());
    assert_eq!(p.tokens("a\0b error\0"), ["error"]);
    let long = "timeout error ".repeat(800_000);
    assert_eq!(p.tokens(&long).len(), 1_600_000);
}
