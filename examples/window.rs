//! Incidents from a stream of error events: a 5-minute window per (service, route, error code),
//! threshold 10, 5 s of allowed lateness, events arriving out of order, one late event, an idle
//! period closed with `advance`, and a snapshot handed to another consumer.
//!
//! `cargo run --example window`
use faultlens::Artifact;
use faultlens::window::{Event, WindowAggregator, WindowConfig};

fn main() -> faultlens::Result<()> {
    let config = WindowConfig {
        threshold: 10,
        allowed_lateness_ms: Some(5_000),
        ..Default::default()
    };
    let mut w = WindowAggregator::new(config)?;
    let t0: i64 = 1_700_000_000_000;

    // A steady trickle of timeouts on /pay (one every 40 s: never more than 8 in 5 minutes), then
    // a burst of 15 within 30 s, delivered out of order by up to 3 s.
    let mut times: Vec<i64> = (0..20).map(|i| t0 + i * 40_000).collect();
    let burst = t0 + 900_000;
    times.extend((0..15).map(|i| burst + i * 2_000 - (i % 3) * 1_500));
    let traces: Vec<String> = (0..times.len()).map(|i| format!("trace-{i:04}")).collect();
    let events: Vec<Event<'_>> = times
        .iter()
        .zip(&traces)
        .map(|(&t, tr)| {
            Event::new(t, "checkout", "/pay", "E503")
                .message("upstream timeout after 30000 ms")
                .trace_id(tr)
        })
        .collect();
    let mut out = w.push_batch(&events);
    println!("pushed {} events, {} late", events.len(), out.late.len());

    // An event 10 s behind the newest one is later than the 5 s allowed: reported, not counted.
    let late = w.push(&Event::new(burst, "checkout", "/pay", "E503").message("stale"));
    println!("late event reported at index {:?}", late.late);

    // Hand the state to another consumer (e.g. after a Kafka rebalance), then let time pass.
    let mut other = WindowAggregator::from_bytes(&w.to_bytes()?)?;
    out.incidents
        .extend(other.advance(burst + 60_000).incidents);
    for i in &out.incidents {
        println!(
            "incident {} {:?}/{:?}/{:?}: {} events in [{}, {}] (threshold {}, {:?}); samples {:?}; traces {:?}",
            i.id,
            i.key.service,
            i.key.route,
            i.key.error_code,
            i.count,
            i.start_ms - t0,
            i.end_ms - t0,
            i.threshold,
            i.severity,
            i.samples,
            &i.trace_ids[..3.min(i.trace_ids.len())],
        );
    }
    println!("{:?}", other.stats());
    assert_eq!(out.incidents.len(), 1);
    Ok(())
}
