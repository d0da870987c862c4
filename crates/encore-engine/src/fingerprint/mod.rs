//! Audio fingerprints: recognising catalog audio inside other audio.
//!
//! A [`Fingerprint`] is Chromaprint's (through `rusty-chromaprint`, its
//! default `TEST2` algorithm): one 32-bit item per [`ITEM_SECONDS`] of audio,
//! each bit a quantised comparison of chroma (pitch-class) energy, so the
//! same recording decoded from another encoding, at another level or cut at
//! another point gives nearly the same items, while other music differs in
//! about half of the bits.
//!
//! - [`probe_and_fingerprint`] checks an upload exactly as [`crate::probe()`]
//!   does and fingerprints it in the same decoding pass.
//! - [`fingerprint`] fingerprints decoded [`Audio`] (a clip, a generator's
//!   output).
//! - [`FingerprintIndex`] holds the fingerprints of a whole catalog as one
//!   sorted inverted index (item value to positions), so a query looks up
//!   each of its items once instead of comparing against every track; the
//!   positions vote for a (track, time offset) alignment, and the best
//!   alignments are verified item by item ([`align`]).
//! - [`FingerprintGuard`] is the cover guard: it refuses a cover whose audio
//!   matches the recording (or any stem) it was made from.
//!
//! Scores are `1 - (mean differing bits per item) / 16`: identical audio
//! scores 1, a lossy re-encoding, quieter and resampled, about 0.84 to 0.95,
//! and unrelated audio (16 of 32 bits differing on average) 0.  Different
//! music with the same chords at the same tempo can reach 0.6 to 0.72
//! (measured by `bench_identify`), so a run of items counts as a match only
//! where its smoothed bit errors stay under [`ITEM_ERRORS_MAX`] for at least
//! [`MATCH_ITEMS_MIN`] items, and is reported when its score is at least
//! [`MATCH_SCORE_MIN`].

mod index;

pub use index::{FingerprintIndex, IndexMatch};

use rusty_chromaprint::{Configuration, Fingerprinter};
use symphonia::core::audio::{AudioBuffer, AudioBufferRef, Signal};

use crate::audio::Audio;
use crate::generate::{CoverGuard, GenInput};
use crate::probe::{AudioInfo, FrameSink, ProbeError, StreamHeader, walk};

/// The Chromaprint algorithm used (`TEST2`, Chromaprint's default), stored
/// beside each fingerprint so a future change of algorithm is detectable.
pub const ALGORITHM: u8 = 2;

/// Seconds of audio per fingerprint item (1,365 samples at 11,025 Hz).
pub const ITEM_SECONDS: f64 = 1365.0 / 11025.0;

/// Items per smoothing window when looking for a matching run (about 1 s).
const SMOOTHING_ITEMS: usize = 8;

/// Most differing bits (of 32) per item, averaged over the smoothing window,
/// for items to count as matching.  Unrelated audio averages 16.
pub const ITEM_ERRORS_MAX: f64 = 10.0;

/// Fewest consecutive matching items for a match (about 2 s).
pub const MATCH_ITEMS_MIN: usize = 16;

/// The lowest score reported as a match: above what different music with the
/// same chords reaches, below what lossy copies of the same audio keep.
pub const MATCH_SCORE_MIN: f64 = 0.75;

/// A Chromaprint fingerprint: one 32-bit item per [`ITEM_SECONDS`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fingerprint {
    items: Vec<u32>,
}

impl Fingerprint {
    /// A fingerprint from its items.
    pub fn from_items(items: Vec<u32>) -> Self {
        Self { items }
    }

    /// The items, one per [`ITEM_SECONDS`].
    pub fn items(&self) -> &[u32] {
        &self.items
    }

    /// Whether the audio was too short (under about 2 s) to fingerprint.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// How much audio the items cover, in seconds.
    pub fn duration_seconds(&self) -> f64 {
        self.items.len() as f64 * ITEM_SECONDS
    }

    /// The items as little-endian bytes, for storage.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.items.iter().flat_map(|i| i.to_le_bytes()).collect()
    }

    /// Reads [`Fingerprint::to_bytes`] back; `None` if the length is not a
    /// multiple of four.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() % 4 != 0 {
            return None;
        }
        Some(Self {
            items: bytes
                .chunks_exact(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        })
    }
}

/// Where one fingerprint's audio appears in another's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Span {
    /// Where the match starts in the query (the clip), in seconds.
    pub query_start_seconds: f64,
    /// Where the match starts in the track (the catalog recording), in seconds.
    pub track_start_seconds: f64,
    /// How long the matching run is, in seconds.
    pub duration_seconds: f64,
    /// `1 - mean differing bits / 16` over the run: 1 identical, 0 unrelated.
    pub score: f64,
}

fn chromaprint() -> Fingerprinter {
    Fingerprinter::new(&Configuration::preset_test2())
}

fn to_i16(sample: f32) -> i16 {
    if sample.is_finite() {
        (sample.clamp(-1.0, 1.0) * 32767.0).round() as i16
    } else {
        0
    }
}

/// Fingerprints decoded audio (mixed to mono first).
///
/// Audio under about 2 s, or at a rate Chromaprint cannot take, gives an
/// empty fingerprint, which matches nothing.
pub fn fingerprint(audio: &Audio) -> Fingerprint {
    let mono = audio.to_mono();
    let Some(samples) = mono.channel(0) else {
        return Fingerprint::default();
    };
    let mut printer = chromaprint();
    if printer.start(audio.sample_rate(), 1).is_err() {
        return Fingerprint::default();
    }
    let mut chunk = Vec::with_capacity(CHUNK_FRAMES);
    for block in samples.chunks(CHUNK_FRAMES) {
        chunk.clear();
        chunk.extend(block.iter().map(|&s| to_i16(s)));
        printer.consume(&chunk);
    }
    printer.finish();
    Fingerprint::from_items(printer.fingerprint().to_vec())
}

/// Samples handed to Chromaprint at a time.
const CHUNK_FRAMES: usize = 16_384;

/// Checks `bytes` exactly as [`crate::probe()`] does and fingerprints the
/// decoded audio in the same pass, without holding the whole decoded file.
pub fn probe_and_fingerprint(
    bytes: &[u8],
    max_duration_ms: u64,
) -> Result<(AudioInfo, Fingerprint), ProbeError> {
    let mut sink = PrintSink {
        printer: chromaprint(),
        rate: None,
        usable: true,
        scratch: None,
        mono: Vec::new(),
    };
    let info = walk(bytes, max_duration_ms, &mut sink)?;
    let fingerprint = match sink.rate {
        Some(_) if sink.usable => {
            sink.printer.finish();
            Fingerprint::from_items(sink.printer.fingerprint().to_vec())
        }
        _ => Fingerprint::default(),
    };
    Ok((info, fingerprint))
}

/// Feeds each decoded packet, mixed to mono, to Chromaprint.
struct PrintSink {
    printer: Fingerprinter,
    /// The stream's rate, once the first packet has started the fingerprinter.
    rate: Option<u32>,
    /// False once the stream turned out unusable for fingerprinting (a rate
    /// Chromaprint refuses, or one that changes midway): the upload is still
    /// probed, and gets an empty fingerprint.
    usable: bool,
    scratch: Option<AudioBuffer<f32>>,
    mono: Vec<i16>,
}

impl FrameSink for PrintSink {
    type Error = ProbeError;

    fn start(&mut self, _header: &StreamHeader) -> Result<(), ProbeError> {
        Ok(())
    }

    fn frames(&mut self, decoded: &AudioBufferRef<'_>, keep: usize) -> Result<(), ProbeError> {
        if keep == 0 || !self.usable {
            return Ok(());
        }
        let spec = *decoded.spec();
        let channels = spec.channels.count();
        if channels == 0 {
            return Ok(());
        }
        match self.rate {
            None => {
                if self.printer.start(spec.rate, 1).is_err() {
                    self.usable = false;
                    return Ok(());
                }
                self.rate = Some(spec.rate);
            }
            Some(rate) if rate != spec.rate => {
                self.usable = false;
                return Ok(());
            }
            Some(_) => {}
        }
        let mut scratch = match self.scratch.take() {
            Some(buf) if buf.capacity() >= decoded.capacity() && *buf.spec() == spec => buf,
            _ => decoded.make_equivalent::<f32>(),
        };
        decoded.convert(&mut scratch);
        let keep = keep.min(scratch.frames());
        self.mono.clear();
        let scale = 1.0 / channels as f32;
        for frame in 0..keep {
            let sum: f32 = (0..channels).map(|c| scratch.chan(c)[frame]).sum();
            self.mono.push(to_i16(sum * scale));
        }
        self.printer.consume(&self.mono);
        self.scratch = Some(scratch);
        Ok(())
    }
}

/// Finds where `query` matches `track` when `query`'s item `i` lines up with
/// `track`'s item `i + offset`: the longest run whose smoothed bit errors stay
/// under [`ITEM_ERRORS_MAX`], if it is at least [`MATCH_ITEMS_MIN`] items long.
pub fn align(query: &[u32], track: &[u32], offset: i64) -> Option<Span> {
    let first = usize::try_from((-offset).max(0)).ok()?;
    let end = i64::try_from(query.len())
        .ok()?
        .min(i64::try_from(track.len()).ok()? - offset);
    let end = usize::try_from(end).ok()?;
    if end <= first || end - first < MATCH_ITEMS_MIN {
        return None;
    }
    let errors: Vec<u32> = (first..end)
        .map(|i| {
            let t = (i as i64 + offset) as usize;
            (query[i] ^ track[t]).count_ones()
        })
        .collect();

    // Smoothed errors: the mean over a centred window.
    let n = errors.len();
    let half = SMOOTHING_ITEMS / 2;
    let mut prefix = Vec::with_capacity(n + 1);
    prefix.push(0u64);
    for &e in &errors {
        prefix.push(prefix[prefix.len() - 1] + u64::from(e));
    }
    let smoothed = |i: usize| {
        let lo = i.saturating_sub(half);
        let hi = (i + half).min(n);
        (prefix[hi] - prefix[lo]) as f64 / (hi - lo) as f64
    };

    let mut best: Option<(usize, usize)> = None;
    let mut run_start = None;
    for i in 0..=n {
        let good = i < n && smoothed(i) <= ITEM_ERRORS_MAX;
        match (good, run_start) {
            (true, None) => run_start = Some(i),
            (false, Some(start)) => {
                if best.is_none_or(|(s, e)| i - start > e - s) {
                    best = Some((start, i));
                }
                run_start = None;
            }
            _ => {}
        }
    }
    let (start, stop) = best?;
    if stop - start < MATCH_ITEMS_MIN {
        return None;
    }
    let mean = (prefix[stop] - prefix[start]) as f64 / (stop - start) as f64;
    let query_start = first + start;
    Some(Span {
        query_start_seconds: query_start as f64 * ITEM_SECONDS,
        track_start_seconds: (query_start as i64 + offset) as f64 * ITEM_SECONDS,
        duration_seconds: (stop - start) as f64 * ITEM_SECONDS,
        score: (1.0 - mean / 16.0).clamp(0.0, 1.0),
    })
}

/// The best match of `query` inside `track`, if any scores at least
/// [`MATCH_SCORE_MIN`]: the two-fingerprint case of [`FingerprintIndex`].
pub fn compare(query: &Fingerprint, track: &Fingerprint) -> Option<Span> {
    let mut index = FingerprintIndex::new();
    index.insert("track", track);
    index.identify(query, 1).into_iter().next().map(|m| m.span)
}

/// The cover guard: refuses a cover whose audio matches its input's mix or
/// any of its stems (see [`crate::generate::Cover`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct FingerprintGuard;

impl CoverGuard for FingerprintGuard {
    fn audio_matches_input(&self, input: &GenInput, output: &Audio) -> bool {
        let out = fingerprint(output);
        if out.is_empty() {
            return false;
        }
        std::iter::once(&input.mix)
            .chain(input.stems.values())
            .any(|source| compare(&out, &fingerprint(source)).is_some())
    }
}
