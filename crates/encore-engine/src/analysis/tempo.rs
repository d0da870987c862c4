//! Tempo and beat positions from audio.
//!
//! 1. **Onset strength.**  Magnitude spectra of 1,024-sample frames every
//!    256 samples at 22,050 Hz (86 frames a second), averaged into
//!    quarter-octave bands from 40 Hz (so a cymbal's many high bins do not
//!    outweigh a kick drum's few low ones) and compressed as
//!    `ln(1 + 1000 |X|)`; the envelope is the summed rise of the bands from
//!    one frame to the next (spectral flux), less its one-second moving
//!    average, negative values cut to zero.
//! 2. **Tempo.**  The envelope's autocorrelation is read at four multiples of
//!    each candidate beat period (a comb) for tempos from [`TEMPO_BPM_MIN`] to
//!    [`TEMPO_BPM_MAX`] in 0.1 BPM steps, weighted by a broad log-normal
//!    preference for tempos near 120 BPM (one octave wide), and the best is
//!    taken.  The comb scores a tempo and its half alike (the half's lags are
//!    a subset), so the preference decides between them: 80 BPM music is
//!    read as 80, not 160 or 40, but half-time styles (trap at 140, drum and
//!    bass at 170) can come out at half their written tempo.  When the points
//!    half-way between the chosen beats carry as much onset strength as the
//!    beats themselves, the tempo is doubled (if that stays in range).
//! 3. **Beats.**  Dynamic programming over the envelope (Ellis, "Beat tracking
//!    by dynamic programming", 2007, as librosa implements it): each frame's
//!    best score is its onset strength plus the best earlier beat's score,
//!    penalised by how far the gap is from one beat period (tightness 100);
//!    the last strong beat is traced back, and weak beats at either end (in
//!    silence) are dropped.
//! 4. **Refinement.**  A straight line is fitted through the beats against
//!    their beat numbers; when the beats sit on it (steady tempo, as in most
//!    produced music), its slope gives the tempo to a fraction of a percent
//!    and its value at the first beat is [`TempoEstimate::first_beat_s`].

use crate::audio::{Audio, AudioError};

use super::{ANALYSIS_SAMPLE_RATE, analysis_signal, stft_magnitudes};

/// The slowest tempo reported, in beats per minute.
pub const TEMPO_BPM_MIN: f64 = 60.0;
/// The fastest tempo reported, in beats per minute.
pub const TEMPO_BPM_MAX: f64 = 200.0;

/// Samples per analysis frame at 22,050 Hz (46 ms).
const FRAME: usize = 1024;
/// Samples between frames at 22,050 Hz (11.6 ms).
const HOP: usize = 256;
/// Magnitudes are compressed as `ln(1 + LOG_GAIN * |X|)`.
const LOG_GAIN: f32 = 1000.0;
/// The lowest onset band's lower edge, in Hz, and the ratio between band edges.
const BAND_LOW_HZ: f64 = 40.0;
const BAND_RATIO: f64 = 1.189_207_1;
/// The moving average taken off the flux, in seconds.
const DETREND_SECONDS: f64 = 1.0;
/// Candidate tempos are this far apart, in BPM.
const BPM_STEP: f64 = 0.1;
/// Multiples of the beat period the comb reads.
const COMB_HARMONICS: usize = 4;
/// Centre of the tempo preference, in BPM, and its width in octaves.
const PRIOR_BPM: f64 = 120.0;
const PRIOR_OCTAVES: f64 = 1.0;
/// A tempo is doubled when the onsets half-way between its beats are at
/// least this strong relative to its beats.
const OFFBEAT_RATIO_DOUBLE: f64 = 0.9;
/// How strictly beats keep to the period (librosa's default).
const TIGHTNESS: f64 = 100.0;
/// Beats further than this from the fitted line mean the tempo is not steady.
const STEADY_RESIDUAL_SECONDS: f64 = 0.035;
/// Signals quieter than this (RMS) have no onsets to speak of.
const SILENCE_RMS: f64 = 1e-5;
/// Audio shorter than this gives no estimate, in seconds.
const SECONDS_MIN: f64 = 1.0;

/// The tempo of a recording and where its beats fall.
#[derive(Clone, Debug, PartialEq)]
pub struct TempoEstimate {
    /// Beats per minute, from [`TEMPO_BPM_MIN`] to [`TEMPO_BPM_MAX`] (a line
    /// fitted through steady beats may land a little outside).
    pub bpm: f64,
    /// Beat times in seconds from the start, as tracked (in order).
    pub beats: Vec<f64>,
    /// Where the first beat falls, in seconds: on the line fitted through the
    /// beats when the tempo is steady, otherwise the first tracked beat.
    pub first_beat_s: f64,
    /// How clearly the onsets repeat at this tempo: the autocorrelation of
    /// the onset envelope averaged over the comb, 0 (no pulse) to 1.
    pub confidence: f32,
    /// Whether the tracked beats sit on one straight line (a steady tempo).
    pub steady: bool,
}

impl TempoEstimate {
    /// Seconds between beats.
    pub fn beat_period_s(&self) -> f64 {
        60.0 / self.bpm
    }
}

/// The tempo and beats of `audio`, or `None` for silence and audio shorter
/// than a second.
pub fn estimate_tempo(audio: &Audio) -> Result<Option<TempoEstimate>, AudioError> {
    let mono = analysis_signal(audio)?;
    Ok(estimate_from_signal(&mono, ANALYSIS_SAMPLE_RATE))
}

/// [`estimate_tempo`] on mono samples at `rate` (the analysis assumes 22,050 Hz
/// frame sizes, so other rates change the resolution, not the result's units).
pub(crate) fn estimate_from_signal(signal: &[f32], rate: u32) -> Option<TempoEstimate> {
    let rate_f = f64::from(rate);
    if (signal.len() as f64) < SECONDS_MIN * rate_f {
        return None;
    }
    let energy: f64 = signal.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    if (energy / signal.len() as f64).sqrt() < SILENCE_RMS {
        return None;
    }
    let fps = rate_f / HOP as f64;
    let envelope = onset_envelope(signal);
    if envelope.iter().all(|&e| e <= 0.0) {
        return None;
    }

    let (bpm, confidence) = tempo_from_envelope(&envelope, fps)?;
    let period = fps * 60.0 / bpm;
    let frames = track_beats(&envelope, period);
    if frames.is_empty() {
        return None;
    }
    let beats: Vec<f64> = frames.iter().map(|&f| f as f64 / fps).collect();
    let (bpm, first_beat_s, steady) = match fit_line(&beats, period / fps) {
        Some((first, slope)) if (slope * fps / period - 1.0).abs() < 0.05 => {
            (60.0 / slope, first, true)
        }
        _ => (bpm, beats[0], false),
    };
    Some(TempoEstimate {
        bpm,
        beats,
        first_beat_s,
        confidence,
        steady,
    })
}

/// The onset-strength envelope of `signal` (22,050 Hz), one value a frame.
pub(crate) fn onset_envelope(signal: &[f32]) -> Vec<f32> {
    let bands = band_edges();
    let mut flux = Vec::with_capacity(signal.len() / HOP + 1);
    let mut previous: Vec<f32> = Vec::new();
    let mut current: Vec<f32> = Vec::with_capacity(bands.len());
    stft_magnitudes(signal, FRAME, HOP, |_, magnitudes| {
        current.clear();
        current.extend(bands.windows(2).map(|w| {
            let band = magnitudes.get(w[0]..w[1]).unwrap_or(&[]);
            let mean = band.iter().sum::<f32>() / band.len().max(1) as f32;
            (LOG_GAIN * mean).ln_1p()
        }));
        // Before the first frame is silence, so music that starts at once has an onset.
        if previous.is_empty() {
            previous.resize(current.len(), 0.0);
        }
        let rise: f32 = current
            .iter()
            .zip(&previous)
            .map(|(c, p)| (c - p).max(0.0))
            .sum();
        flux.push(rise);
        std::mem::swap(&mut previous, &mut current);
    });
    // Take off the slowly varying part so that the envelope is about onsets,
    // not about how busy the music is.
    let fps = f64::from(ANALYSIS_SAMPLE_RATE) / HOP as f64;
    let half = ((DETREND_SECONDS * fps) / 2.0).round() as usize;
    let mut prefix = Vec::with_capacity(flux.len() + 1);
    prefix.push(0.0f64);
    for &f in &flux {
        let last = prefix.last().copied().unwrap_or(0.0);
        prefix.push(last + f64::from(f));
    }
    (0..flux.len())
        .map(|i| {
            let a = i.saturating_sub(half);
            let b = (i + half + 1).min(flux.len());
            let mean = (prefix[b] - prefix[a]) / (b - a) as f64;
            (f64::from(flux[i]) - mean).max(0.0) as f32
        })
        .collect()
}

/// Bin edges of the bands the flux is summed over: quarter-octave bands
/// from 40 Hz up (at least one bin each), so that the many high bins of a
/// cymbal do not outweigh the few low bins of a kick drum.
fn band_edges() -> Vec<usize> {
    let bin_hz = f64::from(ANALYSIS_SAMPLE_RATE) / FRAME as f64;
    let last = FRAME / 2;
    let mut edges = vec![(BAND_LOW_HZ / bin_hz).floor().max(1.0) as usize];
    let mut hz = BAND_LOW_HZ;
    loop {
        hz *= BAND_RATIO;
        let previous = edges.last().copied().unwrap_or(1);
        let edge = ((hz / bin_hz).round() as usize).max(previous + 1);
        if edge >= last {
            edges.push(last);
            break;
        }
        edges.push(edge);
    }
    edges
}

/// The tempo (BPM) and its comb score from the envelope's autocorrelation.
fn tempo_from_envelope(envelope: &[f32], fps: f64) -> Option<(f64, f32)> {
    let n = envelope.len();
    let mean = envelope.iter().map(|&e| f64::from(e)).sum::<f64>() / n as f64;
    let x: Vec<f64> = envelope.iter().map(|&e| f64::from(e) - mean).collect();
    // Lags up to four periods of the slowest tempo, and no more than half the
    // envelope, so every lag is averaged over at least half of it.
    let slowest = fps * 60.0 / TEMPO_BPM_MIN;
    let max_lag = ((slowest * COMB_HARMONICS as f64).ceil() as usize).min(n / 2);
    let fastest = fps * 60.0 / TEMPO_BPM_MAX;
    if (max_lag as f64) < fastest * 1.5 {
        return None;
    }
    let mut ac = vec![0.0f64; max_lag + 2];
    for (lag, slot) in ac.iter_mut().enumerate() {
        if lag >= n {
            break;
        }
        let sum: f64 = x[..n - lag].iter().zip(&x[lag..]).map(|(a, b)| a * b).sum();
        *slot = sum / (n - lag) as f64;
    }
    let zero = ac[0];
    if zero <= 0.0 {
        return None;
    }
    for v in &mut ac {
        *v /= zero;
    }
    let at = |lag: f64| -> f64 {
        let i = lag.floor() as usize;
        let f = lag - i as f64;
        match (ac.get(i), ac.get(i + 1)) {
            (Some(a), Some(b)) => a * (1.0 - f) + b * f,
            _ => 0.0,
        }
    };
    let comb = |bpm: f64| -> Option<f64> {
        let period = fps * 60.0 / bpm;
        let mut sum = 0.0;
        let mut count = 0usize;
        for k in 1..=COMB_HARMONICS {
            let lag = period * k as f64;
            if lag > max_lag as f64 {
                break;
            }
            sum += at(lag);
            count += 1;
        }
        (count > 0).then(|| sum / count as f64)
    };
    let prior = |bpm: f64| -> f64 {
        let octaves = (bpm / PRIOR_BPM).log2() / PRIOR_OCTAVES;
        (-0.5 * octaves * octaves).exp()
    };

    let steps = ((TEMPO_BPM_MAX - TEMPO_BPM_MIN) / BPM_STEP).round() as usize;
    let mut best: Option<(f64, f64)> = None;
    for s in 0..=steps {
        let bpm = TEMPO_BPM_MIN + s as f64 * BPM_STEP;
        let Some(score) = comb(bpm) else { continue };
        let weighted = score * prior(bpm);
        if best.is_none_or(|(_, w)| weighted > w) {
            best = Some((bpm, weighted));
        }
    }
    let (mut bpm, _) = best?;
    // Settle the octave on the onsets themselves: when the points half-way
    // between beats are as strong as the beats, the pulse is the faster one.
    if bpm * 2.0 <= TEMPO_BPM_MAX
        && offbeat_ratio(envelope, fps * 60.0 / bpm) >= OFFBEAT_RATIO_DOUBLE
    {
        bpm *= 2.0;
    }
    let confidence = comb(bpm).unwrap_or(0.0).clamp(0.0, 1.0) as f32;
    Some((bpm, confidence))
}

/// How strong the envelope is half-way between beats of `period` frames
/// compared with on them, at the phase where the beats are strongest.
fn offbeat_ratio(envelope: &[f32], period: f64) -> f64 {
    let n = envelope.len();
    if period < 2.0 || (n as f64) < period * 2.0 {
        return 1.0;
    }
    // Mean envelope (with a frame either side) at `phase + k * period`.
    let grid_mean = |phase: f64| -> f64 {
        let mut sum = 0.0;
        let mut count = 0usize;
        let mut t = phase;
        while t < n as f64 {
            let i = t.round() as usize;
            let lo = i.saturating_sub(1);
            let hi = (i + 1).min(n - 1);
            let peak = envelope[lo..=hi].iter().fold(0.0f32, |m, &e| m.max(e));
            sum += f64::from(peak);
            count += 1;
            t += period;
        }
        if count == 0 { 0.0 } else { sum / count as f64 }
    };
    let phases = period.floor() as usize;
    let (mut best_phase, mut best) = (0.0, f64::MIN);
    for p in 0..phases {
        let m = grid_mean(p as f64);
        if m > best {
            best = m;
            best_phase = p as f64;
        }
    }
    if best <= 0.0 {
        return 1.0;
    }
    grid_mean(best_phase + period / 2.0) / best
}

/// Beat frames by dynamic programming (Ellis 2007, as in librosa's `beat_track`).
fn track_beats(envelope: &[f32], period: f64) -> Vec<usize> {
    let n = envelope.len();
    if n == 0 || period < 1.0 {
        return Vec::new();
    }
    // Normalise by the standard deviation, then smooth with a Gaussian a
    // thirty-second of a beat wide.
    let mean = envelope.iter().map(|&e| f64::from(e)).sum::<f64>() / n as f64;
    let var = envelope
        .iter()
        .map(|&e| (f64::from(e) - mean).powi(2))
        .sum::<f64>()
        / (n.max(2) - 1) as f64;
    let std = var.sqrt();
    if std <= 0.0 {
        return Vec::new();
    }
    let radius = period.round() as isize;
    let kernel: Vec<f64> = (-radius..=radius)
        .map(|i| (-0.5 * (i as f64 * 32.0 / period).powi(2)).exp())
        .collect();
    let local: Vec<f64> = (0..n as isize)
        .map(|i| {
            kernel
                .iter()
                .enumerate()
                .filter_map(|(k, w)| {
                    let j = i + k as isize - radius;
                    usize::try_from(j)
                        .ok()
                        .and_then(|j| envelope.get(j))
                        .map(|&e| w * f64::from(e) / std)
                })
                .sum()
        })
        .collect();
    let local_max = local.iter().copied().fold(0.0f64, f64::max);

    // Predecessors from two periods to half a period back.
    let far = (2.0 * period).round() as usize;
    let near = ((period / 2.0).round() as usize).max(1);
    let penalty: Vec<f64> = (near..=far)
        .map(|gap| -TIGHTNESS * (gap as f64 / period).ln().powi(2))
        .collect();
    let mut cumulative = vec![0.0f64; n];
    let mut backlink: Vec<Option<usize>> = vec![None; n];
    let mut first_beat = true;
    for i in 0..n {
        let mut best = f64::MIN;
        let mut best_from = None;
        for (k, p) in penalty.iter().enumerate() {
            let gap = near + k;
            let (score, from) = match i.checked_sub(gap) {
                Some(j) => (p + cumulative[j], Some(j)),
                None => (*p, None),
            };
            if score > best {
                best = score;
                best_from = from;
            }
        }
        cumulative[i] = local[i] + best;
        if first_beat && local[i] < 0.01 * local_max {
            backlink[i] = None;
        } else {
            backlink[i] = best_from;
            first_beat = false;
        }
    }

    // The last beat: the last local maximum of the cumulative score above
    // half the median of those maxima.
    let is_max = |i: usize| -> bool {
        let left = i == 0 || cumulative[i] > cumulative[i - 1];
        let right = i + 1 >= n || cumulative[i] >= cumulative[i + 1];
        left && right
    };
    let mut maxima: Vec<f64> = (0..n)
        .filter(|&i| is_max(i))
        .map(|i| cumulative[i])
        .collect();
    if maxima.is_empty() {
        return Vec::new();
    }
    maxima.sort_by(f64::total_cmp);
    let median = maxima[maxima.len() / 2];
    let Some(last) = (0..n)
        .rev()
        .find(|&i| is_max(i) && cumulative[i] * 2.0 > median)
    else {
        return Vec::new();
    };
    let mut beats = vec![last];
    while let Some(prev) = backlink[beats[beats.len() - 1]] {
        beats.push(prev);
        if beats.len() > n {
            break;
        }
    }
    beats.reverse();

    // Drop weak beats at either end: those in silence before and after the music.
    let strength: Vec<f64> = beats.iter().map(|&b| local[b]).collect();
    let hann = [0.25, 0.75, 1.0, 0.75, 0.25];
    let smooth: Vec<f64> = (0..strength.len())
        .map(|i| {
            hann.iter()
                .enumerate()
                .filter_map(|(k, w)| {
                    (i + k)
                        .checked_sub(2)
                        .and_then(|j| strength.get(j))
                        .map(|s| w * s)
                })
                .sum()
        })
        .collect();
    let rms = (smooth.iter().map(|s| s * s).sum::<f64>() / smooth.len().max(1) as f64).sqrt();
    let threshold = 0.5 * rms;
    let first = smooth.iter().position(|&s| s > threshold);
    let last = smooth.iter().rposition(|&s| s > threshold);
    match (first, last) {
        (Some(a), Some(b)) => beats[a..=b].to_vec(),
        _ => Vec::new(),
    }
}

/// A straight line through beat times against their beat numbers (each
/// beat's number counted in periods of about `period_s` from the first):
/// the line's time at the first beat and its slope (seconds a beat), when
/// at least four beats all sit within a few tens of milliseconds of it.
fn fit_line(beats: &[f64], period_s: f64) -> Option<(f64, f64)> {
    if beats.len() < 4 || period_s <= 0.0 {
        return None;
    }
    let t0 = beats[0];
    let index: Vec<f64> = beats
        .iter()
        .map(|&t| ((t - t0) / period_s).round())
        .collect();
    let n = beats.len() as f64;
    let mx = index.iter().sum::<f64>() / n;
    let my = beats.iter().sum::<f64>() / n;
    let sxx: f64 = index.iter().map(|x| (x - mx).powi(2)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let sxy: f64 = index
        .iter()
        .zip(beats)
        .map(|(x, y)| (x - mx) * (y - my))
        .sum();
    let slope = sxy / sxx;
    let intercept = my - slope * mx;
    if slope <= 0.0 {
        return None;
    }
    let mut residuals: Vec<f64> = index
        .iter()
        .zip(beats)
        .map(|(x, y)| (y - (intercept + slope * x)).abs())
        .collect();
    residuals.sort_by(f64::total_cmp);
    // Allow a stray beat or two (a fill, a pickup) but not a drifting tempo.
    let p90 = residuals[(residuals.len() * 9 / 10).min(residuals.len() - 1)];
    (p90 <= STEADY_RESIDUAL_SECONDS).then_some((intercept, slope))
}
