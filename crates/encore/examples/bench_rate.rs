//! A constant-rate (open-loop) load generator for `POST /v1/rights/check`: it offers exactly
//! `--rate` requests per second whatever the server does, so the latency it reports is the
//! latency a client sees at that rate, and a stall shows as a stall instead of slowing the
//! load down (wrk's closed loop measures a saturated server and hides stalls behind fewer
//! requests: "coordinated omission").
//!
//!     cargo run --release -p encore --example bench_rate -- --url http://127.0.0.1:18080
//!         --key enc_… --ids ids.txt [--rate 5000] [--seconds 20] [--inputs 1,2,3,4]
//!         [--max-in-flight 1024] [--trace FILE]
//!
//! Requests are the same as `scripts/bench/rights-check.lua`: random recordings from `--ids`
//! (one id per line), a random territory, 1 to 4 inputs (remix for one, mashup for more)
//! drawn from `--inputs`. Request `i` is due at `start + i / rate`; a clock ticking every
//! millisecond sends every request that is due, each on a task of its own, so a slow response
//! never holds the next request back. Latency runs from the moment a request is sent to the
//! end of its response; `late` reports how far after its due time each request was sent (at
//! most the 1 ms tick while the generator keeps up), so a generator that fell behind shows.
//! A request due while `--max-in-flight` others are open is counted as `dropped` and fails
//! the run. `--trace FILE` writes one line per request, in the order they finished:
//! milliseconds from the start to when it was due, its latency and how late it was sent (µs),
//! so a slow stretch can be lined up with what the server logged at that moment.
//!
//! Runs on one thread, so it takes at most one core from the server on a small machine.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;

const TERRITORIES: [&str; 13] = [
    "US", "GB", "DE", "FR", "JP", "BR", "CA", "AU", "SE", "NL", "MX", "KR", "WW",
];

struct Args {
    url: String,
    key: String,
    ids: String,
    rate: u32,
    seconds: u32,
    inputs: Vec<usize>,
    max_in_flight: usize,
    trace: Option<String>,
}

fn args() -> anyhow::Result<Args> {
    let mut a = Args {
        url: String::new(),
        key: String::new(),
        ids: String::new(),
        rate: 5_000,
        seconds: 20,
        inputs: vec![1, 2, 3, 4],
        max_in_flight: 1_024,
        trace: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--url" => a.url = value.trim_end_matches('/').to_owned(),
            "--key" => a.key = value,
            "--ids" => a.ids = value,
            "--rate" => a.rate = value.parse().context("--rate must be a whole number")?,
            "--seconds" => a.seconds = value.parse().context("--seconds must be a whole number")?,
            "--inputs" => {
                a.inputs = value
                    .split(',')
                    .map(|n| match n.trim().parse::<usize>() {
                        Ok(n @ 1..=4) => Ok(n),
                        _ => anyhow::bail!("--inputs takes numbers from 1 to 4, e.g. 1,2,3,4"),
                    })
                    .collect::<anyhow::Result<_>>()?;
            }
            "--max-in-flight" => a.max_in_flight = value.parse()?,
            "--trace" => a.trace = Some(value),
            other => anyhow::bail!("unknown flag {other}; see the example's doc comment"),
        }
    }
    anyhow::ensure!(!a.url.is_empty(), "--url is required");
    anyhow::ensure!(!a.key.is_empty(), "--key is required (an enc_… API key)");
    anyhow::ensure!(
        !a.ids.is_empty(),
        "--ids is required (a file of recording ids)"
    );
    anyhow::ensure!(
        a.rate > 0 && a.seconds > 0,
        "--rate and --seconds must be above 0"
    );
    Ok(a)
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n as u64) as usize
    }
}

fn body(rng: &mut Rng, ids: &[String], inputs: &[usize]) -> String {
    let n = inputs[rng.below(inputs.len())];
    let recordings: Vec<&str> = (0..n).map(|_| ids[rng.below(ids.len())].as_str()).collect();
    serde_json::json!({
        "use": if n == 1 { "remix" } else { "mashup" },
        "recordings": recordings,
        "territory": TERRITORIES[rng.below(TERRITORIES.len())],
    })
    .to_string()
}

#[derive(Default)]
struct Outcome {
    latencies_us: Vec<u64>,
    late_us: Vec<u64>,
    /// (due ms from the start, latency µs, late µs) per request, when tracing.
    trace: Vec<(f64, u64, u64)>,
    non_2xx: u64,
    failed: u64,
    dropped: u64,
    first_error: Option<String>,
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1000.0
}

fn main() -> anyhow::Result<()> {
    let args = args()?;
    let ids: Vec<String> = std::fs::read_to_string(&args.ids)
        .with_context(|| format!("reading --ids {}", args.ids))?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    anyhow::ensure!(!ids.is_empty(), "{} has no ids", args.ids);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(run(args, ids))
}

async fn run(args: Args, ids: Vec<String>) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.max_in_flight)
        .timeout(Duration::from_secs(10))
        .build()?;
    let url = format!("{}/v1/rights/check", args.url);
    let auth = format!("Bearer {}", args.key);
    let outcome = Arc::new(std::sync::Mutex::new(Outcome::default()));
    let in_flight = Arc::new(tokio::sync::Semaphore::new(args.max_in_flight));
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let total = u64::from(args.rate) * u64::from(args.seconds);
    let period_ns = 1_000_000_000f64 / f64::from(args.rate);
    let mut tasks = tokio::task::JoinSet::new();
    let start = Instant::now() + Duration::from_millis(10);
    let mut sent = 0u64;
    let mut tick = tokio::time::interval_at(start.into(), Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let start_unix_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() + 10);
    eprintln!(
        "offering {} requests/s for {} s ({} requests, inputs {:?}), starting at unix ms {}",
        args.rate, args.seconds, total, args.inputs, start_unix_ms
    );
    let mut next_report = start + Duration::from_secs(5);
    let tracing = args.trace.is_some();
    while sent < total {
        tick.tick().await;
        let now = Instant::now();
        while sent < total {
            let due = start + Duration::from_nanos((sent as f64 * period_ns) as u64);
            if due > now {
                break;
            }
            sent += 1;
            let Ok(permit) = in_flight.clone().try_acquire_owned() else {
                outcome.lock().unwrap_or_else(|e| e.into_inner()).dropped += 1;
                continue;
            };
            let request = client
                .post(&url)
                .header("Authorization", &auth)
                .header("Content-Type", "application/json")
                .body(body(&mut rng, &ids, &args.inputs));
            let outcome = outcome.clone();
            tasks.spawn(async move {
                let sent_at = Instant::now();
                let late = sent_at.saturating_duration_since(due);
                let result = match request.send().await {
                    Ok(r) => {
                        let status = r.status();
                        r.bytes().await.map(|_| status)
                    }
                    Err(e) => Err(e),
                };
                let took = sent_at.elapsed();
                drop(permit);
                let mut o = outcome.lock().unwrap_or_else(|e| e.into_inner());
                o.late_us.push(late.as_micros() as u64);
                if tracing {
                    let due_ms = due.saturating_duration_since(start).as_secs_f64() * 1e3;
                    let t = (due_ms, took.as_micros() as u64, late.as_micros() as u64);
                    o.trace.push(t);
                }
                match result {
                    Ok(status) if status.is_success() => {
                        o.latencies_us.push(took.as_micros() as u64)
                    }
                    Ok(status) => {
                        o.non_2xx += 1;
                        o.first_error
                            .get_or_insert_with(|| format!("HTTP {status}"));
                    }
                    Err(e) => {
                        o.failed += 1;
                        o.first_error.get_or_insert_with(|| e.to_string());
                    }
                }
            });
        }
        // Reap finished tasks so the set does not grow for the whole run.
        while tasks.try_join_next().is_some() {}
        if now >= next_report {
            next_report += Duration::from_secs(5);
            eprintln!("  {sent} of {total} sent, {} in flight", tasks.len());
        }
    }
    while tasks.join_next().await.is_some() {}
    let elapsed = start.elapsed().as_secs_f64();
    let mut o = std::mem::take(&mut *outcome.lock().unwrap_or_else(|e| e.into_inner()));
    if let Some(path) = &args.trace {
        use std::fmt::Write as _;
        let mut text = String::new();
        for (due_ms, took_us, late_us) in &o.trace {
            let _ = writeln!(text, "{due_ms:.3} {took_us} {late_us}");
        }
        std::fs::write(path, text).with_context(|| format!("writing --trace {path}"))?;
    }
    o.latencies_us.sort_unstable();
    o.late_us.sort_unstable();
    let l = &o.latencies_us;
    println!(
        "offered {} requests/s for {} s: {} ok in {:.1} s ({:.0}/s)",
        args.rate,
        args.seconds,
        l.len(),
        elapsed,
        l.len() as f64 / elapsed
    );
    println!(
        "p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms  p99.9 {:.2} ms  max {:.2} ms",
        percentile(l, 50.0),
        percentile(l, 90.0),
        percentile(l, 99.0),
        percentile(l, 99.9),
        percentile(l, 100.0)
    );
    println!(
        "generator late: p99 {:.2} ms, max {:.2} ms",
        percentile(&o.late_us, 99.0),
        percentile(&o.late_us, 100.0)
    );
    println!(
        "errors: non-2xx {}, failed {}, dropped {}",
        o.non_2xx, o.failed, o.dropped
    );
    if let Some(e) = &o.first_error {
        println!("first error: {e}");
    }
    anyhow::ensure!(
        o.non_2xx + o.failed + o.dropped == 0,
        "some requests failed; the figures above do not count"
    );
    Ok(())
}
