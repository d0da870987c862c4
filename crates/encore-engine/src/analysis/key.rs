//! The key of a recording: tonic and major or minor.
//!
//! 1. **Spectral peaks.**  Magnitude spectra of 8,192-sample frames (372 ms
//!    at 22,050 Hz) every 4,096 samples.  In each frame the local maxima from
//!    65 Hz (C2) to 2.1 kHz (C7), down to 50 dB under the frame's loudest, have
//!    their frequency refined by a parabola through the log magnitudes of the
//!    peak bin and its neighbours.
//! 2. **Tuning.**  The recording's offset from A = 440 Hz equal temperament
//!    is the magnitude-weighted circular mean of every peak's distance to its
//!    nearest semitone, so music tuned to 432 or 446 Hz is read correctly.
//! 3. **Chromagram.**  Each peak within 12 cents of a (tuned) semitone adds
//!    the square root of its magnitude to that pitch class.  The tight window
//!    keeps out the fifth and seventh harmonics (14 and 31 cents flat of the
//!    equal-tempered major third and minor seventh), which would otherwise
//!    make every minor chord look a little major.
//! 4. **Key.**  The twelve totals are correlated (Pearson) with Albrecht and
//!    Shanahan's major and minor key profiles (2013) rotated to each of the
//!    twelve tonics; the best of the 24 is the key.
//!
//! Like every profile method it can mistake a key for its relative (A minor
//! for C major) when the harmony dwells on chords the two share, or for the
//! parallel key (F minor for F major) when thirds are scarce (power chords);
//! the tonic is more reliable than the mode.  Modes other than major and
//! minor come out as the major or minor key closest to them (E Dorian as E
//! minor).

use std::fmt;

use crate::audio::{Audio, AudioError};

use super::{ANALYSIS_SAMPLE_RATE, analysis_signal, stft_magnitudes};

/// Samples per frame at 22,050 Hz (2.7 Hz between bins).
const FRAME: usize = 8192;
/// Samples between frames.
const HOP: usize = 4096;
/// The lowest and highest frequencies counted, in Hz (C2 and C7).
const FREQ_MIN_HZ: f32 = 65.4;
const FREQ_MAX_HZ: f32 = 2093.0;
/// Peaks this far under the frame's loudest peak are ignored, as a magnitude ratio (-50 dB).
const PEAK_FLOOR: f32 = 0.003_162;
/// Peaks further than this from a tuned semitone are ignored, in semitones (12 cents).
const PITCH_TOLERANCE: f64 = 0.12;
/// Frames quieter than this (peak magnitude) hold nothing to count.
const SILENCE_MAGNITUDE: f32 = 1e-5;

/// Albrecht and Shanahan's key profiles (2013): how often each pitch class,
/// from the tonic up, sounds in major- and minor-key pieces of a corpus of
/// common-practice music, by duration.
const MAJOR_PROFILE: [f64; 12] = [
    0.238, 0.006, 0.111, 0.006, 0.137, 0.094, 0.016, 0.214, 0.009, 0.080, 0.008, 0.081,
];
const MINOR_PROFILE: [f64; 12] = [
    0.220, 0.006, 0.104, 0.123, 0.019, 0.103, 0.012, 0.214, 0.062, 0.022, 0.061, 0.052,
];

/// Major or minor.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyMode {
    /// A major key.
    Major,
    /// A minor key.
    Minor,
}

impl KeyMode {
    /// `major` or `minor`.
    pub fn name(self) -> &'static str {
        match self {
            KeyMode::Major => "major",
            KeyMode::Minor => "minor",
        }
    }
}

/// A key: a tonic pitch class (0 = C … 11 = B) and a mode.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    /// The tonic's pitch class, 0 (C) to 11 (B).
    pub tonic: u8,
    /// Major or minor.
    pub mode: KeyMode,
}

/// Pitch-class names as keys are usually spelled: flats for the keys that
/// are written with flats, sharps otherwise.
const MAJOR_NAMES: [&str; 12] = [
    "C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B",
];
const MINOR_NAMES: [&str; 12] = [
    "C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B",
];

impl Key {
    /// The key on `tonic` (taken modulo 12) in `mode`.
    pub fn new(tonic: u8, mode: KeyMode) -> Self {
        Key {
            tonic: tonic % 12,
            mode,
        }
    }

    /// The relative key: the minor key sharing a major key's notes (C major
    /// and A minor), or the major key sharing a minor key's.
    pub fn relative(self) -> Self {
        match self.mode {
            KeyMode::Major => Key::new(self.tonic + 9, KeyMode::Minor),
            KeyMode::Minor => Key::new(self.tonic + 3, KeyMode::Major),
        }
    }

    /// The key `semitones` higher (negative: lower), in the same mode.
    pub fn transposed(self, semitones: i32) -> Self {
        let tonic = (i32::from(self.tonic) + semitones).rem_euclid(12);
        Key::new(u8::try_from(tonic).unwrap_or(0), self.mode)
    }

    /// The smallest move, in semitones from -5 to 6, that takes this key's
    /// tonic to `tonic` (a tritone counts as 6 up).
    pub fn shift_to_tonic(self, tonic: u8) -> i32 {
        let up = (i32::from(tonic % 12) - i32::from(self.tonic)).rem_euclid(12);
        if up > 6 { up - 12 } else { up }
    }

    /// Reads a key name: a tonic letter with an optional `#` or `b` (or `♯`,
    /// `♭`), then optionally `major`, `maj`, `minor`, `min` or `m`; case
    /// does not matter for the words ("A minor", "F#m", "Bb", "eb maj").
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let mut chars = text.chars();
        let letter = chars.next()?.to_ascii_uppercase();
        let base: i32 = match letter {
            'C' => 0,
            'D' => 2,
            'E' => 4,
            'F' => 5,
            'G' => 7,
            'A' => 9,
            'B' => 11,
            _ => return None,
        };
        let rest = chars.as_str();
        let (accidental, rest) = match rest.chars().next() {
            Some('#' | '♯') => (1, &rest[rest.chars().next().map_or(0, char::len_utf8)..]),
            Some('b' | '♭') => (-1, &rest[rest.chars().next().map_or(0, char::len_utf8)..]),
            _ => (0, rest),
        };
        let mode = match rest.trim().to_ascii_lowercase().as_str() {
            "" | "maj" | "major" => KeyMode::Major,
            "m" | "min" | "minor" => KeyMode::Minor,
            _ => return None,
        };
        let tonic = u8::try_from((base + accidental).rem_euclid(12)).ok()?;
        Some(Key::new(tonic, mode))
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = match self.mode {
            KeyMode::Major => &MAJOR_NAMES,
            KeyMode::Minor => &MINOR_NAMES,
        };
        let name = names.get(usize::from(self.tonic)).copied().unwrap_or("?");
        write!(f, "{name} {}", self.mode.name())
    }
}

/// The key of a recording and how well it fits.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyEstimate {
    /// The best-fitting key.
    pub key: Key,
    /// The correlation of the recording's pitch-class profile with that key's
    /// profile, -1 to 1 (clear tonal music scores about 0.7 to 0.95).
    pub confidence: f32,
    /// How much better the key fits than the runner-up (often the relative
    /// or a fifth-related key); under about 0.05 the call is close.
    pub margin: f32,
    /// The second-best key.
    pub runner_up: Key,
    /// The pitch-class profile measured, C first, scaled to sum to 1.
    pub chroma: [f32; 12],
}

/// The key of `audio`, or `None` when it holds no pitched content (silence).
pub fn estimate_key(audio: &Audio) -> Result<Option<KeyEstimate>, AudioError> {
    let mono = analysis_signal(audio)?;
    Ok(estimate_from_signal(&mono, ANALYSIS_SAMPLE_RATE))
}

/// [`estimate_key`] on mono samples at `rate`.
pub(crate) fn estimate_from_signal(signal: &[f32], rate: u32) -> Option<KeyEstimate> {
    let chroma = chromagram(signal, rate)?;
    let mut scores: Vec<(f64, Key)> = Vec::with_capacity(24);
    for mode in [KeyMode::Major, KeyMode::Minor] {
        let profile = match mode {
            KeyMode::Major => &MAJOR_PROFILE,
            KeyMode::Minor => &MINOR_PROFILE,
        };
        for tonic in 0..12u8 {
            let rotated: [f64; 12] =
                std::array::from_fn(|pc| profile[(pc + 12 - usize::from(tonic)) % 12]);
            scores.push((pearson(&chroma, &rotated), Key::new(tonic, mode)));
        }
    }
    // Best first; equal scores keep the fixed order above, so ties are deterministic.
    scores.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (best, key) = scores[0];
    let (second, runner_up) = scores[1];
    Some(KeyEstimate {
        key,
        confidence: best as f32,
        margin: (best - second) as f32,
        runner_up,
        chroma: chroma.map(|c| c as f32),
    })
}

/// The pitch-class profile of `signal`, summing to 1, or `None` when nothing is pitched.
fn chromagram(signal: &[f32], rate: u32) -> Option<[f64; 12]> {
    let peaks = spectral_peaks(signal, rate);
    // The tuning: the weighted circular mean of each peak's offset from its
    // nearest equal-tempered semitone, in semitones (-0.5 to 0.5).
    let (mut x, mut y) = (0.0f64, 0.0f64);
    for &(midi, weight) in &peaks {
        let angle = 2.0 * std::f64::consts::PI * (midi - midi.round());
        x += weight * angle.cos();
        y += weight * angle.sin();
    }
    let tuning = if x == 0.0 && y == 0.0 {
        0.0
    } else {
        y.atan2(x) / (2.0 * std::f64::consts::PI)
    };
    let mut chroma = [0.0f64; 12];
    for &(midi, weight) in &peaks {
        let tuned = midi - tuning;
        let nearest = tuned.round();
        if (tuned - nearest).abs() > PITCH_TOLERANCE {
            continue;
        }
        let pc = (nearest as i64).rem_euclid(12) as usize;
        chroma[pc] += weight;
    }
    let total: f64 = chroma.iter().sum();
    if total <= 0.0 || !total.is_finite() {
        return None;
    }
    for c in &mut chroma {
        *c /= total;
    }
    Some(chroma)
}

/// Every frame's spectral peaks as (fractional MIDI pitch, square-root magnitude).
fn spectral_peaks(signal: &[f32], rate: u32) -> Vec<(f64, f64)> {
    let mut peaks = Vec::new();
    let bin_hz = rate as f32 / FRAME as f32;
    let lo = ((FREQ_MIN_HZ / bin_hz).floor() as usize).max(1);
    let hi = (FREQ_MAX_HZ / bin_hz).ceil() as usize;
    stft_magnitudes(signal, FRAME, HOP, |_, m| {
        let top = hi.min(m.len().saturating_sub(2));
        if lo >= top {
            return;
        }
        let loudest = m[lo..=top].iter().copied().fold(0.0f32, f32::max);
        if loudest < SILENCE_MAGNITUDE {
            return;
        }
        let floor = loudest * PEAK_FLOOR;
        for k in lo..=top {
            let (a, b, c) = (m[k - 1], m[k], m[k + 1]);
            if b < floor || b <= a || b < c {
                continue;
            }
            let (la, lb, lc) = (a.max(1e-12).ln(), b.ln(), c.max(1e-12).ln());
            let denominator = la - 2.0 * lb + lc;
            let offset = if denominator < 0.0 {
                (0.5 * (la - lc) / denominator).clamp(-0.5, 0.5)
            } else {
                0.0
            };
            let hz = f64::from((k as f32 + offset) * bin_hz);
            let midi = 69.0 + 12.0 * (hz / 440.0).log2();
            peaks.push((midi, f64::from(b.sqrt())));
        }
    });
    peaks
}

fn pearson(x: &[f64; 12], y: &[f64; 12]) -> f64 {
    let mx = x.iter().sum::<f64>() / 12.0;
    let my = y.iter().sum::<f64>() / 12.0;
    let mut sxy = 0.0;
    let mut sxx = 0.0;
    let mut syy = 0.0;
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    let d = (sxx * syy).sqrt();
    if d > 0.0 { sxy / d } else { 0.0 }
}
