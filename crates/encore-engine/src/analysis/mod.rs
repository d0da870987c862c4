//! Musical analysis of recordings: tempo, beats and key.
//!
//! Generators that combine recordings (mashup) must know each one's tempo,
//! where its beats fall and what key it is in.  Everything here works on the
//! audio alone, in pure Rust over `realfft`:
//!
//! - [`estimate_tempo`]: an onset-strength envelope (log-magnitude spectral
//!   flux over quarter-octave bands), its autocorrelation read through a comb
//!   of four harmonics for every tempo from [`TEMPO_BPM_MIN`] to
//!   [`TEMPO_BPM_MAX`] with a broad preference for tempos near 120 BPM (which
//!   settles most octave questions; half-time styles can come out at half
//!   tempo), then beats tracked by dynamic programming (Ellis 2007) and the
//!   tempo refined by a straight line through them.
//! - [`estimate_key`]: a chromagram from tuned spectral peaks (65 Hz to
//!   2.1 kHz, within 12 cents of a semitone), correlated with the 24
//!   rotations of Albrecht and Shanahan's major and minor key profiles.
//! - [`analyse`] does both from one conversion of the audio.
//!
//! Both work on a mono copy at [`ANALYSIS_SAMPLE_RATE`]; results are
//! deterministic.  Silence gives no estimate (`None`), never an error.

pub mod key;
pub mod tempo;

pub use key::{Key, KeyEstimate, KeyMode, estimate_key};
pub use tempo::{TEMPO_BPM_MAX, TEMPO_BPM_MIN, TempoEstimate, estimate_tempo};

use realfft::RealFftPlanner;

use crate::audio::{Audio, AudioError, resample};

/// The sample rate the analysis runs at: enough for onsets and pitch up to 11 kHz.
pub const ANALYSIS_SAMPLE_RATE: u32 = 22_050;

/// What [`analyse`] finds in one recording.
#[derive(Clone, Debug, PartialEq)]
pub struct Analysis {
    /// Tempo and beats, or `None` when the audio has no onsets (silence, or
    /// shorter than about a second).
    pub tempo: Option<TempoEstimate>,
    /// Key, or `None` when the audio has no pitched content to measure.
    pub key: Option<KeyEstimate>,
}

/// Tempo, beats and key of `audio`.
pub fn analyse(audio: &Audio) -> Result<Analysis, AudioError> {
    let mono = analysis_signal(audio)?;
    Ok(Analysis {
        tempo: tempo::estimate_from_signal(&mono, ANALYSIS_SAMPLE_RATE),
        key: key::estimate_from_signal(&mono, ANALYSIS_SAMPLE_RATE),
    })
}

/// `audio` as mono at [`ANALYSIS_SAMPLE_RATE`], non-finite samples silenced.
pub(crate) fn analysis_signal(audio: &Audio) -> Result<Vec<f32>, AudioError> {
    let mono = resample(&audio.to_mono(), ANALYSIS_SAMPLE_RATE)?;
    let mut samples = mono.into_planar().into_iter().next().unwrap_or_default();
    for s in &mut samples {
        if !s.is_finite() {
            *s = 0.0;
        }
    }
    Ok(samples)
}

/// Magnitude spectra of Hann-windowed frames of `signal`: frame `n` is centred
/// on sample `n * hop` (zero-padded at both ends), `size` samples long, and
/// holds bins `0..=size / 2` scaled so a full-scale sine peaks near 0.5.
/// `visit` is called with each frame's index and magnitudes.
pub(crate) fn stft_magnitudes(
    signal: &[f32],
    size: usize,
    hop: usize,
    mut visit: impl FnMut(usize, &[f32]),
) {
    if signal.is_empty() || size < 2 || hop == 0 {
        return;
    }
    let mut planner = RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(size);
    let window: Vec<f32> = (0..size)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / size as f32).cos())
        .collect();
    let scale = 1.0 / window.iter().sum::<f32>();
    let mut input = fft.make_input_vec();
    let mut output = fft.make_output_vec();
    let mut scratch = fft.make_scratch_vec();
    let mut magnitudes = vec![0.0f32; output.len()];
    let frames = signal.len() / hop + 1;
    let half = size / 2;
    for n in 0..frames {
        let centre = n * hop;
        for (i, (x, w)) in input.iter_mut().zip(&window).enumerate() {
            let at = (centre + i).checked_sub(half);
            *x = at.and_then(|j| signal.get(j)).copied().unwrap_or(0.0) * w;
        }
        // The buffers come from the plan, so their lengths are right and this cannot fail.
        if fft
            .process_with_scratch(&mut input, &mut output, &mut scratch)
            .is_err()
        {
            return;
        }
        for (m, c) in magnitudes.iter_mut().zip(&output) {
            *m = c.norm() * scale;
        }
        visit(n, &magnitudes);
    }
}
