//! The Rust core's own rate on the very data of benches/python/bench_arrow_*.py, which run this
//! and print the Python binding's rate beside it.
//!
//! - `arrow_baseline window-parquet EVENTS.parquet CONFIG.json BATCH`: events per second of the
//!   whole job the Python benchmark times: read the Parquet file (arrow-rs, one thread, batches
//!   of BATCH rows, the key columns `service`/`route`/`error_code` read as dictionaries), build
//!   the events and push them through `WindowAggregator::push_batch`, then `flush`. The read is
//!   timed.
//! - `arrow_baseline window EVENTS.tsv CONFIG.json BATCH`: events per second of
//!   `WindowAggregator::push_batch` alone (in batches of BATCH; lines
//!   `ts \t service \t route \t code`), the events already in memory: the read is not timed.
//! - `arrow_baseline classify MODEL.flm LINES.txt`: lines per second of `TextClassifier::predict`.
//! - `arrow_baseline resolve RESOLVER.flm LINES.txt`: lines per second of `Resolver::resolve_batch`.
//!
//! Each prints one JSON object on stdout (the window modes add the incidents and the late count,
//! which the benchmark compares with the Python side's).
use std::fs::File;
use std::sync::Arc;
use std::time::Instant;

use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, Int64Type};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use faultlens::resolve::{Mode, Resolver};
use faultlens::window::{Event, Incident, WindowAggregator, WindowConfig};
use faultlens::{Artifact, TextClassifier};
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};

/// The key columns, in `Event` order; each also read as a dictionary from Parquet.
const KEYS: [&str; 3] = ["service", "route", "error_code"];

fn fail(msg: String) -> ! {
    eprintln!("arrow_baseline: {msg}");
    std::process::exit(2)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| fail(format!("{path}: {e}")))
}

/// Nanoseconds this thread has run on a CPU (Linux; 0 elsewhere). The machine may be shared,
/// so wall time alone would understate the speed.
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

/// Best of `reps` runs of `f`: (wall seconds, CPU seconds of this thread; meaningful for
/// one-thread work only). The minimum is the least noisy.
fn best(reps: usize, mut f: impl FnMut()) -> (f64, f64) {
    (0..reps)
        .map(|_| {
            let (t, c) = (Instant::now(), cpu_ns());
            f();
            (t.elapsed().as_secs_f64(), (cpu_ns() - c) as f64 / 1e9)
        })
        .fold((f64::INFINITY, f64::INFINITY), |a, b| {
            (a.0.min(b.0), a.1.min(b.1))
        })
}

/// Runs of each window measure; the Python side's processes also keep the best of two.
const WINDOW_REPS: usize = 2;

/// What a window run found: the incidents and the number of late events.
#[derive(Default)]
struct Found {
    incidents: Vec<Incident>,
    late: usize,
}

impl Found {
    fn add(&mut self, out: faultlens::window::Outcome) {
        self.incidents.extend(out.incidents);
        self.late += out.late.len();
    }
}

/// One JSON line: rates, and the incidents as `[[service, route, code], start, end, count]` for
/// the benchmark to compare with the Python side's.
fn report(events: usize, (secs, cpu): (f64, f64), found: &Found) {
    let incidents: Vec<_> = found
        .incidents
        .iter()
        .map(|i| {
            serde_json::json!([
                [i.key.service, i.key.route, i.key.error_code],
                i.start_ms,
                i.end_ms,
                i.count
            ])
        })
        .collect();
    println!(
        "{}",
        serde_json::json!({
            "events": events,
            "seconds": secs,
            "cpu_seconds": cpu,
            "per_s": events as f64 / secs,
            "late": found.late,
            "incidents": incidents,
        })
    );
}

/// One string column of a batch, read in place: plain strings, or a dictionary read through its
/// keys (each distinct value looked up once per batch, as the Python binding does).
enum KeyCol<'a> {
    Plain(&'a arrow_array::StringArray),
    Dict(&'a [i32], Vec<&'a str>),
}

impl<'a> KeyCol<'a> {
    fn new(name: &str, a: &'a ArrayRef) -> Self {
        if a.null_count() > 0 {
            fail(format!(
                "column `{name}` has nulls; this baseline reads complete events only"
            ));
        }
        match a.data_type() {
            DataType::Utf8 => KeyCol::Plain(a.as_string::<i32>()),
            DataType::Dictionary(k, v) if **k == DataType::Int32 && **v == DataType::Utf8 => {
                let d = a.as_dictionary::<Int32Type>();
                let values = d.values().as_string::<i32>();
                let values = (0..values.len()).map(|i| values.value(i)).collect();
                KeyCol::Dict(d.keys().values(), values)
            }
            t => fail(format!("column `{name}` is {t}, not strings")),
        }
    }

    /// Sets the field `set` of each event from this column.
    fn fill(&self, events: &mut [Event<'a>], set: impl Fn(&mut Event<'a>, &'a str)) {
        match self {
            KeyCol::Plain(a) => {
                for (i, e) in events.iter_mut().enumerate() {
                    set(e, a.value(i));
                }
            }
            KeyCol::Dict(keys, values) => {
                for (e, &k) in events.iter_mut().zip(keys.iter()) {
                    set(e, values.get(k as usize).copied().unwrap_or(""));
                }
            }
        }
    }
}

/// The batch's events into `out` (cleared first), column by column.
fn batch_events<'a>(batch: &'a RecordBatch, out: &mut Vec<Event<'a>>) {
    let column = |name: &str| {
        batch
            .column_by_name(name)
            .unwrap_or_else(|| fail(format!("no column `{name}`")))
    };
    let ts = column("timestamp_ms");
    if ts.null_count() > 0 || ts.data_type() != &DataType::Int64 {
        fail("column `timestamp_ms` must be int64 without nulls".into());
    }
    out.clear();
    out.extend(
        ts.as_primitive::<Int64Type>()
            .values()
            .iter()
            .map(|&t| Event::new(t, "", "", "")),
    );
    let [s, r, c] = KEYS.map(|k| KeyCol::new(k, column(k)));
    s.fill(out, |e, v| e.service = v);
    r.fill(out, |e, v| e.route = v);
    c.fill(out, |e, v| e.error_code = v);
}

/// Reads `path` and pushes every batch through a new aggregator, then flushes. The file is
/// opened and its footer read here too: all of it is the job being timed.
fn parquet_run(path: &str, config: &WindowConfig, batch: usize) -> (usize, Found) {
    let file = File::open(path).unwrap_or_else(|e| fail(format!("{path}: {e}")));
    let meta = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new())
        .unwrap_or_else(|e| fail(format!("{path}: {e}")));
    // The key columns as dictionaries: Parquet stores them so, and the reader then hands out
    // each row group's dictionary once plus its keys, instead of one string per row.
    let fields: Vec<Field> = meta
        .schema()
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Utf8 if KEYS.contains(&f.name().as_str()) => {
                f.as_ref().clone().with_data_type(DataType::Dictionary(
                    Box::new(DataType::Int32),
                    Box::new(DataType::Utf8),
                ))
            }
            _ => f.as_ref().clone(),
        })
        .collect();
    let options = ArrowReaderOptions::new().with_schema(Arc::new(Schema::new(fields)));
    let meta = ArrowReaderMetadata::try_new(meta.metadata().clone(), options)
        .unwrap_or_else(|e| fail(format!("{path}: {e}")));
    let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(file, meta)
        .with_batch_size(batch)
        .build()
        .unwrap_or_else(|e| fail(format!("{path}: {e}")));
    let mut w =
        WindowAggregator::new(config.clone()).unwrap_or_else(|e| fail(format!("config: {e}")));
    let (mut found, mut rows) = (Found::default(), 0);
    for b in reader {
        let b = b.unwrap_or_else(|e| fail(format!("{path}: {e}")));
        rows += b.num_rows();
        let mut events = Vec::with_capacity(b.num_rows());
        batch_events(&b, &mut events);
        found.add(w.push_batch(&events));
    }
    found.add(w.flush());
    (rows, found)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| {
        args.get(i)
            .cloned()
            .unwrap_or_else(|| fail("usage: see the file's header".into()))
    };
    match arg(1).as_str() {
        "window-parquet" => {
            let config: WindowConfig = serde_json::from_str(&read(&arg(3)))
                .unwrap_or_else(|e| fail(format!("config: {e}")));
            let batch: usize = arg(4).parse().unwrap_or(128 * 1024);
            let (mut rows, mut found) = (0, Found::default());
            let times = best(WINDOW_REPS, || {
                (rows, found) = parquet_run(&arg(2), &config, batch);
            });
            report(rows, times, &found);
        }
        "window" => {
            let text = read(&arg(2));
            let config: WindowConfig = serde_json::from_str(&read(&arg(3)))
                .unwrap_or_else(|e| fail(format!("config: {e}")));
            let batch: usize = arg(4).parse().unwrap_or(100_000);
            let rows: Vec<(i64, &str, &str, &str)> = text
                .lines()
                .map(|l| {
                    let mut p = l.split('\t');
                    let ts = p.next().and_then(|t| t.parse().ok()).unwrap_or(0);
                    let mut s = || p.next().unwrap_or("");
                    (ts, s(), s(), s())
                })
                .collect();
            let mut found = Found::default();
            let times = best(WINDOW_REPS, || {
                let mut w = WindowAggregator::new(config.clone())
                    .unwrap_or_else(|e| fail(format!("config: {e}")));
                found = Found::default();
                for chunk in rows.chunks(batch) {
                    let events: Vec<Event<'_>> = chunk
                        .iter()
                        .map(|&(t, s, r, c)| Event::new(t, s, r, c))
                        .collect();
                    found.add(w.push_batch(&events));
                }
                found.add(w.flush());
            });
            report(rows.len(), times, &found);
        }
        "classify" | "resolve" => {
            let text = read(&arg(3));
            let lines: Vec<&str> = text.lines().collect();
            let (secs, _) = if arg(1) == "classify" {
                let m = TextClassifier::load(arg(2)).unwrap_or_else(|e| fail(format!("{e}")));
                best(3, || {
                    let _ = m.predict(&lines);
                })
            } else {
                let r = Resolver::load(arg(2)).unwrap_or_else(|e| fail(format!("{e}")));
                best(3, || {
                    let _ = r.resolve_batch(&lines, Mode::Auto);
                })
            };
            println!(
                "{{\"lines\": {}, \"seconds\": {secs}, \"per_s\": {}}}",
                lines.len(),
                lines.len() as f64 / secs
            );
        }
        other => fail(format!("unknown mode `{other}`")),
    }
}
