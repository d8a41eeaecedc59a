//! The seeded event stream of the window benchmark (shared by benches/window.rs and
//! examples/profile_window.rs): keys = Loghub system x template x 15 routes (about 10k),
//! Zipf(1.1)-distributed; 1 event per ms of event time with up to 3 s of out-of-order jitter;
//! a burst of 300 events on a random key every 20k events; 0.05% of events 20 s late.
#![allow(dead_code)]

pub struct Owned {
    pub t: i64,
    pub key: usize,
    pub message: usize,
    pub trace: String,
}

pub struct Stream {
    pub keys: Vec<(String, String, String)>,
    pub messages: Vec<String>,
    pub events: Vec<Owned>,
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn loghub_classes() -> Vec<(String, String, Vec<String>)> {
    let mut classes: std::collections::BTreeMap<(String, String), Vec<String>> = Default::default();
    if let Some(dir) = faultlens_suite::loghub_dir() {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
            .collect();
        files.sort();
        for f in files {
            for line in std::fs::read_to_string(f).unwrap_or_default().lines() {
                let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                    continue;
                };
                let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
                classes
                    .entry((s("system"), s("label")))
                    .or_default()
                    .push(s("text"));
            }
        }
    }
    if classes.is_empty() {
        for i in 0..700 {
            classes.insert(
                (format!("svc{}", i % 8), format!("E{i}")),
                vec![format!("worker {i} failed: connection refused")],
            );
        }
    }
    classes.into_iter().map(|((s, l), t)| (s, l, t)).collect()
}

pub fn stream(n: usize) -> Stream {
    let classes = loghub_classes();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut keys = Vec::new();
    let mut key_msgs = Vec::new();
    let mut messages = Vec::new();
    for (system, label, texts) in &classes {
        let first = messages.len();
        messages.extend(texts.iter().cloned());
        for r in 0..15 {
            keys.push((system.clone(), format!("/api/v1/r{r}"), label.clone()));
            key_msgs.push((first, texts.len()));
        }
    }
    // Zipf(1.1) over a seeded permutation of the keys, sampled through the cumulative weights.
    let mut order: Vec<usize> = (0..keys.len()).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, (rng.next() % (i as u64 + 1)) as usize);
    }
    let mut cdf = Vec::with_capacity(keys.len());
    let mut total = 0.0;
    for rank in 0..keys.len() {
        total += 1.0 / ((rank + 1) as f64).powf(1.1);
        cdf.push(total);
    }
    let mut events = Vec::with_capacity(n + n / 50);
    let mut i = 0usize;
    while events.len() < n {
        let base = i as i64;
        let u = rng.unit() * total;
        let key = order[cdf.partition_point(|&c| c < u).min(keys.len() - 1)];
        let mut t = base - (rng.next() % 3_000) as i64;
        if rng.next().is_multiple_of(2_000) {
            t -= 20_000;
        }
        let (first, len) = key_msgs[key];
        events.push(Owned {
            t,
            key,
            message: first + i % len,
            trace: format!("{:016x}", rng.next()),
        });
        if i % 20_000 == 19_999 {
            let hot = (rng.next() % keys.len() as u64) as usize;
            for b in 0..300 {
                let (first, len) = key_msgs[hot];
                events.push(Owned {
                    t: base + (b * 1_000 / 300) as i64,
                    key: hot,
                    message: first + b as usize % len,
                    trace: format!("{:016x}", rng.next()),
                });
            }
        }
        i += 1;
    }
    events.truncate(n);
    Stream {
        keys,
        messages,
        events,
    }
}

impl Stream {
    /// The events as borrowed views.
    pub fn events(&self) -> Vec<faultlens::window::Event<'_>> {
        self.events
            .iter()
            .map(|e| {
                let (svc, route, code) = &self.keys[e.key];
                faultlens::window::Event::new(e.t, svc, route, code)
                    .message(&self.messages[e.message])
                    .trace_id(&e.trace)
            })
            .collect()
    }
}

/// The benchmark's aggregator config: 5-minute window, threshold 200, 5 s allowed lateness.
pub fn config() -> faultlens::window::WindowConfig {
    faultlens::window::WindowConfig {
        threshold: 200,
        allowed_lateness_ms: Some(5_000),
        ..Default::default()
    }
}
