//! A look-ahead peak limiter driven by an oversampled (true-peak) estimate.
//!
//! The limiter computes, for each frame, the gain that would bring that
//! frame's true peak (the largest of its samples and of the three points a 4x
//! band-limited interpolation places after it) down to the ceiling.  That
//! gain curve is turned into a smooth one in three steps:
//!
//! 1. a look-ahead minimum over the next `L` frames, so the gain is already
//!    down when a transient arrives;
//! 2. an exponential release back towards unity, so the gain does not pump;
//! 3. a moving average over `L` frames, so the gain has no corners.
//!
//! Every frame of the average covers a window that contains the frame itself,
//! and each value averaged is at most that frame's required gain, so the
//! smoothed gain never lets a frame exceed the ceiling.  The same gain is
//! applied to every channel, keeping the stereo image.

use std::collections::VecDeque;

use super::Audio;

/// Look-ahead (and attack) time.
const LOOKAHEAD_S: f64 = 0.005;
/// Time constant of the release back to unity gain.
const RELEASE_S: f64 = 0.08;
/// Half the interpolation filter's length, in input samples.
const TAPS_HALF: usize = 8;
/// Oversampling factor of the peak estimate, as ITU-R BS.1770-4 Annex 2 asks for.
const OVERSAMPLING: usize = 4;
/// Frames examined at once when skipping quiet stretches.
const BLOCK_FRAMES: usize = 256;

/// Limits `audio` so its estimated true peak stays at or below `ceiling` (linear),
/// and returns the smallest gain it applied (1.0 when nothing was touched).
pub(crate) fn limit(audio: &mut Audio, ceiling: f32) -> f32 {
    let frames = audio.frames();
    if frames == 0 {
        return 1.0;
    }
    let interp = Interpolator::new();
    let required = required_gain(audio, ceiling, &interp);
    if required.iter().all(|&g| g >= 1.0) {
        return 1.0;
    }

    let rate = f64::from(audio.sample_rate());
    let window = ((rate * LOOKAHEAD_S).round() as usize).max(1);
    let ahead = forward_min(&required, window);
    let release = (1.0 - (-1.0 / (rate * RELEASE_S)).exp()) as f32;

    // Steps 2 and 3 in one pass: `held` follows the release, and a running sum
    // over the last `window` values of it gives the moving average.
    let mut gain = Vec::with_capacity(frames);
    let mut held = 1.0f32;
    let mut history: VecDeque<f32> = std::iter::repeat_n(1.0f32, window).collect();
    let mut sum = window as f64;
    for &target in &ahead {
        held = target.min(held + (1.0 - held) * release);
        sum += f64::from(held);
        history.push_back(held);
        sum -= f64::from(history.pop_front().unwrap_or(1.0));
        gain.push(((sum / window as f64) as f32).min(1.0));
    }
    // Float rounding in the running sum can leave the average a hair above a
    // requirement; clamp to it so the guarantee holds exactly.
    for (g, r) in gain.iter_mut().zip(&required) {
        *g = g.min(*r);
    }

    for channel in audio.channels_mut() {
        for (s, g) in channel.iter_mut().zip(&gain) {
            *s *= g;
        }
    }
    gain.iter().copied().fold(1.0, f32::min)
}

/// The gain each frame needs for its own true peak to stay under `ceiling`.
fn required_gain(audio: &Audio, ceiling: f32, interp: &Interpolator) -> Vec<f32> {
    let frames = audio.frames();
    let mut required = vec![1.0f32; frames];
    let bound = interp.gain_bound();
    for start in (0..frames).step_by(BLOCK_FRAMES) {
        let end = (start + BLOCK_FRAMES).min(frames);
        // No interpolated point can exceed the filter's gain bound times the
        // largest sample it draws on, so quiet blocks are skipped.
        let lo = start.saturating_sub(TAPS_HALF);
        let hi = (end + TAPS_HALF).min(frames);
        let local_max = audio
            .channels()
            .iter()
            .flat_map(|c| &c[lo..hi])
            .fold(0.0f32, |m, s| m.max(s.abs()));
        if local_max * bound <= ceiling {
            continue;
        }
        for (n, slot) in required.iter_mut().enumerate().take(end).skip(start) {
            let peak = audio
                .channels()
                .iter()
                .map(|c| interp.peak_after(c, n))
                .fold(0.0f32, f32::max);
            if peak > ceiling {
                *slot = ceiling / peak;
            }
        }
    }
    required
}

/// `out[i]` is the smallest of `values[i..i + window]` (fewer at the end).
fn forward_min(values: &[f32], window: usize) -> Vec<f32> {
    let mut out = vec![1.0f32; values.len()];
    // Indices whose values increase from back to front; the front is the minimum.
    let mut candidates: VecDeque<usize> = VecDeque::new();
    for i in (0..values.len()).rev() {
        while candidates.back().is_some_and(|&b| values[b] >= values[i]) {
            candidates.pop_back();
        }
        candidates.push_back(i);
        while candidates.front().is_some_and(|&f| f >= i + window) {
            candidates.pop_front();
        }
        if let Some(&f) = candidates.front() {
            out[i] = values[f];
        }
    }
    out
}

/// A polyphase windowed-sinc interpolator for the points between samples.
struct Interpolator {
    /// One row per fractional position `p / OVERSAMPLING`, `p` in `1..OVERSAMPLING`.
    phases: Vec<[f32; 2 * TAPS_HALF]>,
}

impl Interpolator {
    fn new() -> Self {
        let half = TAPS_HALF as f64;
        let phases = (1..OVERSAMPLING)
            .map(|p| {
                let frac = p as f64 / OVERSAMPLING as f64;
                let mut row = [0.0f32; 2 * TAPS_HALF];
                for (j, c) in row.iter_mut().enumerate() {
                    // Tap j weighs sample n + j - (TAPS_HALF - 1).
                    let t = frac - (j as f64 - (half - 1.0));
                    let x = std::f64::consts::PI * t;
                    let sinc = if t.abs() < 1e-12 { 1.0 } else { x.sin() / x };
                    let w = t / half; // in (-1, 1)
                    let blackman = 0.42
                        + 0.5 * (std::f64::consts::PI * w).cos()
                        + 0.08 * (2.0 * std::f64::consts::PI * w).cos();
                    *c = (sinc * blackman) as f32;
                }
                row
            })
            .collect();
        Self { phases }
    }

    /// The most any interpolated point can be, relative to the largest input sample.
    fn gain_bound(&self) -> f32 {
        self.phases
            .iter()
            .map(|row| row.iter().map(|c| c.abs()).sum::<f32>())
            .fold(1.0f32, f32::max)
    }

    /// The largest magnitude among sample `n` and the interpolated points after it.
    fn peak_after(&self, x: &[f32], n: usize) -> f32 {
        let mut peak = x[n].abs();
        let first = n as isize - (TAPS_HALF as isize - 1);
        for row in &self.phases {
            let mut acc = 0.0f32;
            for (j, c) in row.iter().enumerate() {
                let idx = first + j as isize;
                if idx >= 0
                    && let Some(s) = x.get(idx as usize)
                {
                    acc += c * s;
                }
            }
            peak = peak.max(acc.abs());
        }
        peak
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_min_looks_ahead() {
        let v = [1.0, 1.0, 0.5, 1.0, 0.2, 1.0];
        assert_eq!(forward_min(&v, 2), vec![1.0, 0.5, 0.5, 0.2, 0.2, 1.0]);
    }

    #[test]
    fn interpolator_reproduces_a_slow_sine() {
        let interp = Interpolator::new();
        let x: Vec<f32> = (0..64).map(|i| (i as f32 * 0.1).sin()).collect();
        for row_index in 0..OVERSAMPLING - 1 {
            let frac = (row_index + 1) as f32 / OVERSAMPLING as f32;
            let first = 32 - (TAPS_HALF - 1);
            let y: f32 = interp.phases[row_index]
                .iter()
                .enumerate()
                .map(|(j, c)| c * x[first + j])
                .sum();
            assert!((y - ((32.0 + frac) * 0.1).sin()).abs() < 0.01);
        }
    }

    #[test]
    fn limited_peaks_stay_under_the_ceiling() {
        let mut samples: Vec<f32> = (0..48_000).map(|i| (i as f32 * 0.05).sin() * 0.1).collect();
        samples[24_000] = 1.0;
        let mut audio = Audio::from_planar(vec![samples], 48_000).expect("valid");
        let min_gain = limit(&mut audio, 0.5);
        assert!(min_gain < 0.6);
        let interp = Interpolator::new();
        let c = &audio.channels()[0];
        let worst = (0..c.len())
            .map(|n| interp.peak_after(c, n))
            .fold(0.0, f32::max);
        assert!(worst <= 0.52, "peak {worst}");
    }
}
