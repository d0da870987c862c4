//! The identify benchmark: `POST /v1/identify` with a 10 s clip against a catalog of
//! fingerprinted recordings (10,000 by default), end to end over HTTP on a real store.
//!
//!     cargo run --release -p encore --example bench_identify -- [--tracks 10000] [--seconds 90]
//!         [--queries 200] [--database URL]
//!
//! Each catalog track is synthetic music (a seeded chord progression with bass and a melody,
//! 70 to 160 BPM, in one of 24 keys, so many tracks share a key and progression as real
//! catalogs do), rendered at 11,025 Hz, fingerprinted and stored with its recording exactly as
//! an upload stores it. Each query is a 10 s excerpt of a random track cut at a random sample,
//! rendered again at 44,100 Hz, made quieter and encoded as Ogg Vorbis, then sent to a server
//! running in this process; a tenth of the queries are music not in the catalog. Reported:
//! latency percentiles over HTTP (decoding, fingerprinting, the index sync query, the search
//! and the titles' lookup included), the search alone in process, and how many queries found
//! the right recording at the right place.

use std::time::{Duration, Instant};

use anyhow::Context;
use encore_api::{ApiConfig, AppState};
use encore_blob::BlobStore;
use encore_core::{Isrc, Role, Share, Splits};
use encore_engine::audio::{Audio, encode_ogg_vorbis};
use encore_engine::fingerprint::{ALGORITHM, FingerprintIndex, fingerprint};
use encore_store::{
    AudioAsset, AudioSlot, NewFingerprint, NewKey, PartyInput, RecordingInput, Store,
};

struct Args {
    tracks: usize,
    seconds: f64,
    queries: usize,
    database: Option<String>,
}

fn args() -> anyhow::Result<Args> {
    let mut a = Args {
        tracks: 10_000,
        seconds: 90.0,
        queries: 200,
        database: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--tracks" => a.tracks = value.parse()?,
            "--seconds" => a.seconds = value.parse()?,
            "--queries" => a.queries = value.parse()?,
            "--database" => a.database = Some(value),
            other => anyhow::bail!("unknown flag {other}; see the example's doc comment"),
        }
    }
    anyhow::ensure!(a.seconds >= 20.0, "--seconds must be at least 20");
    Ok(a)
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Track `seed`'s music, `seconds` long, at `rate`: the same notes at any rate.
fn render(seed: u64, seconds: f64, rate: u32) -> Audio {
    let mut rng = Rng::new(seed);
    let bpm = 70.0 + rng.below(91) as f64;
    let tonic = rng.below(12) as i32;
    let minor = rng.below(2) == 1;
    let scale: [i32; 7] = if minor {
        [0, 2, 3, 5, 7, 8, 10]
    } else {
        [0, 2, 4, 5, 7, 9, 11]
    };
    // One of six common progressions (scale degrees), a chord per bar of four beats.
    const PROGRESSIONS: [[usize; 4]; 6] = [
        [0, 4, 5, 3],
        [0, 5, 3, 4],
        [0, 3, 4, 4],
        [5, 3, 0, 4],
        [0, 3, 5, 4],
        [1, 4, 0, 0],
    ];
    let progression = PROGRESSIONS[rng.below(6) as usize];
    let beat = 60.0 / bpm;
    let beats = (seconds / beat).ceil() as usize;
    // A melody note per half beat, walking the scale.
    let mut melody = Vec::with_capacity(beats * 2);
    let mut degree = rng.below(7) as i32;
    for _ in 0..beats * 2 {
        degree = (degree + rng.below(5) as i32 - 2).clamp(0, 13);
        melody.push(if rng.below(6) == 0 {
            None
        } else {
            Some(degree)
        });
    }
    let midi_hz = |note: i32| 440.0 * 2f64.powf(f64::from(note - 69) / 12.0);
    let pitch = |deg: i32, octave_base: i32| {
        let d = deg.rem_euclid(7) as usize;
        octave_base + tonic + scale[d] + 12 * deg.div_euclid(7)
    };

    let n = (seconds * f64::from(rate)) as usize;
    let mut out = vec![0f32; n];
    let rate_f = f64::from(rate);
    // Harmonics by rotating phasors (no sin per sample); exponential decay by a factor.
    let mut add_note = |start_s: f64, dur_s: f64, hz: f64, amp: f64, harmonics: usize| {
        let from = (start_s * rate_f) as usize;
        let len = (dur_s * rate_f) as usize;
        let decay = (-3.0 / (dur_s * rate_f)).exp();
        for h in 1..=harmonics {
            let f = hz * h as f64;
            if f >= rate_f / 2.0 {
                break;
            }
            let step = std::f64::consts::TAU * f / rate_f;
            let (rot_c, rot_s) = (step.cos(), step.sin());
            let (mut c, mut s) = (1.0f64, 0.0f64);
            let mut env = amp / h as f64;
            for i in 0..len {
                let at = from + i;
                if at >= n {
                    break;
                }
                let attack = (i as f64 * 200.0 / rate_f).min(1.0);
                out[at] += (env * attack * s) as f32;
                let nc = c * rot_c - s * rot_s;
                s = c * rot_s + s * rot_c;
                c = nc;
                env *= decay;
            }
        }
    };
    for b in 0..beats {
        let chord = progression[(b / 4) % 4] as i32;
        let start = b as f64 * beat;
        for k in [0, 2, 4] {
            add_note(start, beat, midi_hz(pitch(chord + k, 48)), 0.08, 3);
        }
        if b % 2 == 0 {
            add_note(start, beat * 2.0, midi_hz(pitch(chord, 36)), 0.15, 4);
        }
        for half in 0..2 {
            if let Some(d) = melody[b * 2 + half] {
                add_note(
                    start + half as f64 * beat / 2.0,
                    beat / 2.0,
                    midi_hz(pitch(d, 60)),
                    0.12,
                    5,
                );
            }
        }
    }
    Audio::from_planar(vec![out], rate).unwrap_or_else(|_| unreachable!("non-empty audio"))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = args()?;
    let dir = tempfile::tempdir()?;
    let url = a
        .database
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("encore.db").display()));
    let store = Store::open(&url)
        .await
        .with_context(|| format!("opening {url}"))?;
    let blobs = BlobStore::open(dir.path().join("blobs").to_str().context("utf-8 path")?)?;
    let label = store
        .create_party(
            &PartyInput {
                ext_ref: None,
                name: "Bench Label".into(),
                kind: encore_core::PartyKind::Organisation,
                ipi: None,
                isni: None,
            },
            None,
        )
        .await?;

    // The catalog: render, fingerprint and store each track, as an upload does.
    let started = Instant::now();
    let mut fingerprint_s = 0.0;
    let mut ids = Vec::with_capacity(a.tracks);
    let mut index = FingerprintIndex::new();
    for i in 0..a.tracks {
        if i % 500 == 0 {
            eprintln!(
                "catalog: {i}/{} tracks stored ({:.0} s)",
                a.tracks,
                started.elapsed().as_secs_f64()
            );
        }
        let audio = render(i as u64, a.seconds, 11_025);
        let t = Instant::now();
        let print = fingerprint(&audio);
        fingerprint_s += t.elapsed().as_secs_f64();
        let rec = store
            .create_recording(
                &RecordingInput {
                    ext_ref: None,
                    isrc: Isrc::parse(&format!("QZDA726{i:05}"))?,
                    title: format!("Bench track {i}"),
                    duration_ms: Some((a.seconds * 1000.0) as i64),
                    artists: vec![],
                    works: vec![],
                    splits: Some(Splits::new(vec![(label.id.clone(), Share::FULL)])?),
                },
                None,
            )
            .await?;
        let asset = AudioAsset {
            slot: AudioSlot::Mix,
            sha256: format!("{i:064x}"),
            size_bytes: 0,
            format: "wav".into(),
            codec: "pcm_s16le".into(),
            sample_rate: 11_025,
            channels: 1,
            duration_ms: (a.seconds * 1000.0) as i64,
            uploaded_by: None,
            uploaded_at_ms: 0,
        };
        let new = NewFingerprint {
            algorithm: i64::from(ALGORITHM),
            items: print.to_bytes(),
        };
        store.put_audio(&rec.id, &asset, Some(&new)).await?;
        index.insert(&rec.id, &print);
        ids.push(rec.id);
    }
    eprintln!(
        "catalog: {} tracks of {} s stored in {:.0} s ({:.1} ms fingerprinting each)",
        a.tracks,
        a.seconds,
        started.elapsed().as_secs_f64(),
        fingerprint_s * 1000.0 / a.tracks as f64
    );

    // The server, as `encore serve` runs it, loading the fingerprints.
    let state = AppState::new(store.clone(), blobs, ApiConfig::default());
    let t = Instant::now();
    state.fingerprints.sync(&store).await?;
    eprintln!(
        "index: {} recordings, {} items, loaded from the store in {:.2} s",
        state.fingerprints.len(),
        index.items(),
        t.elapsed().as_secs_f64()
    );
    let key = store
        .create_key(&NewKey {
            role: Role::Fan,
            parties: vec![],
            name: "bench".into(),
        })
        .await?
        .secret;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let router = encore_api::router(state.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;

    // The queries.
    let mut rng = Rng::new(0xC0FFEE);
    let mut http_ms = Vec::new();
    let mut search_ms = Vec::new();
    let (mut right, mut wrong, mut missed, mut strangers_found) = (0, 0, 0, 0);
    let mut right_scores = Vec::new();
    let mut stranger_scores = Vec::new();
    let warmup = 5;
    for q in 0..a.queries + warmup {
        let stranger = q % 10 == 9;
        let track = if stranger {
            a.tracks as u64 + 1_000_000 + q as u64
        } else {
            rng.below(a.tracks as u64)
        };
        let start = rng.unit() * (a.seconds - 11.0);
        let full = render(track, a.seconds, 44_100);
        let mut clip = full.excerpt(start, 10.0);
        clip.apply_gain(0.7);
        let body = encode_ogg_vorbis(&clip, 0.4)?;

        let t = Instant::now();
        let found = index.identify(&fingerprint(&clip), 5);
        let search = t.elapsed().as_secs_f64() * 1000.0;
        let _ = found;

        let t = Instant::now();
        let resp = client
            .post(format!("{base}/v1/identify"))
            .bearer_auth(&key)
            .header("content-type", "audio/ogg")
            .body(body)
            .send()
            .await?;
        let status = resp.status();
        let answer: serde_json::Value = resp.json().await?;
        let elapsed = t.elapsed().as_secs_f64() * 1000.0;
        anyhow::ensure!(status == 200, "identify answered {status}: {answer}");
        if q < warmup {
            continue;
        }
        http_ms.push(elapsed);
        search_ms.push(search);
        let best = &answer["matches"][0];
        if stranger {
            if best.is_object() {
                strangers_found += 1;
                stranger_scores.push(best["confidence"].as_f64().unwrap_or(0.0));
            }
            continue;
        }
        match best["recording_id"].as_str() {
            Some(id) if id == ids[track as usize] => {
                let placed = best["recording_offset_ms"].as_f64().unwrap_or(0.0)
                    - best["clip_offset_ms"].as_f64().unwrap_or(0.0);
                if (placed / 1000.0 - start).abs() < 0.5 {
                    right += 1;
                    right_scores.push(best["confidence"].as_f64().unwrap_or(0.0));
                } else {
                    wrong += 1;
                }
            }
            Some(_) => wrong += 1,
            None => missed += 1,
        }
        if (q - warmup) % 50 == 49 {
            eprintln!("queries: {}/{}", q - warmup + 1, a.queries);
        }
    }
    http_ms.sort_by(f64::total_cmp);
    search_ms.sort_by(f64::total_cmp);
    println!(
        "identify over HTTP, 10 s Ogg clip, {} tracks x {} s, {} queries",
        a.tracks,
        a.seconds,
        http_ms.len()
    );
    println!(
        "  HTTP ms      p50 {:.1}  p90 {:.1}  p99 {:.1}  max {:.1}",
        percentile(&http_ms, 0.5),
        percentile(&http_ms, 0.9),
        percentile(&http_ms, 0.99),
        percentile(&http_ms, 1.0)
    );
    println!(
        "  in process (fingerprint the decoded clip + search) ms  p50 {:.1}  p99 {:.1}",
        percentile(&search_ms, 0.5),
        percentile(&search_ms, 0.99)
    );
    println!(
        "  catalog clips: {right} found at the right place, {wrong} wrong, {missed} missed; clips not in the catalog matched: {strangers_found}"
    );
    right_scores.sort_by(f64::total_cmp);
    if !right_scores.is_empty() {
        println!(
            "  confidence of right matches: min {:.3}  p10 {:.3}  p50 {:.3}",
            right_scores[0],
            percentile(&right_scores, 0.1),
            percentile(&right_scores, 0.5)
        );
    }
    if !stranger_scores.is_empty() {
        println!("  confidence of false matches: {stranger_scores:?}");
    }
    Ok(())
}
