//! Note tracking: from Basic Pitch's activations to notes.
//!
//! A port of `output_to_notes_polyphonic`, `get_infered_onsets` and
//! `model_frames_to_time` from `basic_pitch/note_creation.py` (basic-pitch
//! 0.4.0, Copyright 2024 Spotify AB, licensed under the Apache License 2.0),
//! with basic-pitch's defaults.  Onsets are local maxima in time of the onset
//! activations (strengthened by sharp rises in the note activations) above
//! the onset threshold; each note lasts while its note activation stays above
//! the frame threshold, allowing short dips; the "melodia trick" then turns
//! the strongest energy left over into further notes.  Each note clears its
//! neighbouring semitones, which keeps harmonics' smearing from doubling it.
//! Pitch bends from the contour output are not computed.

use super::Note;
use super::model::{Activations, FFT_HOP, N_PITCHES, SAMPLE_RATE, WINDOW_FRAMES, WINDOW_SAMPLES};

/// MIDI key of the first activation bin (A0).
const MIDI_OFFSET: usize = 21;

/// The note-tracking settings, with basic-pitch's `predict` defaults.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct NoteParams {
    /// Minimum onset activation peak that starts a note (0.5).
    pub onset_threshold: f32,
    /// Minimum note activation that keeps a note sounding (0.3).
    pub frame_threshold: f32,
    /// Notes no longer than this are dropped, in milliseconds (127.70, i.e. 11 frames).
    pub min_note_ms: f32,
    /// Adds onsets where the note activations rise sharply (true).
    pub infer_onsets: bool,
    /// Turns leftover energy into notes (true).
    pub melodia_trick: bool,
    /// Frames a note may dip below the frame threshold and continue (11).
    pub energy_tolerance: usize,
}

impl Default for NoteParams {
    fn default() -> Self {
        NoteParams {
            onset_threshold: 0.5,
            frame_threshold: 0.3,
            min_note_ms: 127.70,
            infer_onsets: true,
            melodia_trick: true,
            energy_tolerance: 11,
        }
    }
}

impl NoteParams {
    /// The minimum note length in frames, rounded as basic-pitch rounds it.
    fn min_note_frames(&self) -> usize {
        let frames = f64::from(self.min_note_ms) / 1000.0 * f64::from(SAMPLE_RATE) / FFT_HOP as f64;
        frames.round_ties_even().max(0.0) as usize
    }
}

/// Seconds from the start of the audio to frame `frame`.
///
/// basic-pitch's `model_frames_to_time`: the frame's nominal time less a
/// per-window correction (its window count is taken in steps of 172 frames,
/// magic number included), so that times match the Python package exactly.
fn frame_seconds(frame: usize) -> f64 {
    let hop_s = FFT_HOP as f64 / f64::from(SAMPLE_RATE);
    let window_offset =
        hop_s * (WINDOW_FRAMES as f64 - WINDOW_SAMPLES as f64 / FFT_HOP as f64) + 0.0018;
    frame as f64 * hop_s - window_offset * (frame / WINDOW_FRAMES) as f64
}

/// Turns activations into notes, sorted by onset then pitch; silence gives none.
pub fn notes_from_activations(activations: &Activations, params: &NoteParams) -> Vec<Note> {
    let n = activations.frames;
    if n == 0 || activations.note.len() != n * N_PITCHES || activations.onset.len() != n * N_PITCHES
    {
        return Vec::new();
    }
    let frames: Vec<f64> = activations.note.iter().map(|&v| f64::from(v)).collect();
    let onsets: Vec<f64> = activations.onset.iter().map(|&v| f64::from(v)).collect();
    let onsets = if params.infer_onsets {
        inferred_onsets(&onsets, &frames, n)
    } else {
        Some(onsets)
    };
    let onset_thresh = f64::from(params.onset_threshold);
    let frame_thresh = f64::from(params.frame_threshold);
    let min_len = params.min_note_frames();
    let tol = params.energy_tolerance;
    let at = |t: usize, f: usize| t * N_PITCHES + f;

    let mut remaining = frames.clone();
    // (start frame, end frame, bin, amplitude)
    let mut events: Vec<(usize, usize, usize, f64)> = Vec::new();
    let mean = |from: usize, to: usize, f: usize| {
        let len = to.saturating_sub(from).max(1) as f64;
        (from..to).map(|t| frames[at(t, f)]).sum::<f64>() / len
    };

    // Onset peaks: strict local maxima in time (scipy's argrelmax, which never
    // picks the first or last frame), visited backwards in time and pitch.
    if let Some(onsets) = onsets {
        let mut peaks = Vec::new();
        for t in 1..n.saturating_sub(1) {
            for f in 0..N_PITCHES {
                let v = onsets[at(t, f)];
                if v > onsets[at(t - 1, f)] && v > onsets[at(t + 1, f)] && v >= onset_thresh {
                    peaks.push((t, f));
                }
            }
        }
        for &(start, f) in peaks.iter().rev() {
            if start >= n - 1 {
                continue;
            }
            let mut i = start + 1;
            let mut k = 0;
            while i < n - 1 && k < tol {
                if remaining[at(i, f)] < frame_thresh {
                    k += 1;
                } else {
                    k = 0;
                }
                i += 1;
            }
            let end = i - k;
            if end - start <= min_len {
                continue;
            }
            for t in start..end {
                remaining[at(t, f)] = 0.0;
                if f + 1 < N_PITCHES {
                    remaining[at(t, f + 1)] = 0.0;
                }
                if f > 0 {
                    remaining[at(t, f - 1)] = 0.0;
                }
            }
            events.push((start, end, f, mean(start, end, f)));
        }
    }

    if params.melodia_trick {
        // basic-pitch repeatedly takes the argmax of the remaining energy.  Cells
        // only ever fall to zero, so visiting the cells above the threshold in
        // falling order (ties by position, as argmax breaks them) and skipping
        // those already cleared finds the same maxima without rescanning.
        let mut order: Vec<usize> = (0..remaining.len())
            .filter(|&c| remaining[c] > frame_thresh)
            .collect();
        order.sort_by(|&a, &b| remaining[b].total_cmp(&remaining[a]).then(a.cmp(&b)));
        let n_i = n as isize;
        for cell in order {
            if remaining[cell] <= frame_thresh {
                continue;
            }
            let (mid, f) = (cell / N_PITCHES, cell % N_PITCHES);
            remaining[cell] = 0.0;
            let clear = |remaining: &mut [f64], t: usize| {
                remaining[at(t, f)] = 0.0;
                if f + 1 < N_PITCHES {
                    remaining[at(t, f + 1)] = 0.0;
                }
                if f > 0 {
                    remaining[at(t, f - 1)] = 0.0;
                }
            };

            // Forward pass.
            let mut i = mid as isize + 1;
            let mut k = 0isize;
            while i < n_i - 1 && k < tol as isize {
                let t = i as usize;
                if remaining[at(t, f)] < frame_thresh {
                    k += 1;
                } else {
                    k = 0;
                }
                clear(&mut remaining, t);
                i += 1;
            }
            let end = i - 1 - k;

            // Backward pass.
            let mut i = mid as isize - 1;
            let mut k = 0isize;
            while i > 0 && k < tol as isize {
                let t = i as usize;
                if remaining[at(t, f)] < frame_thresh {
                    k += 1;
                } else {
                    k = 0;
                }
                clear(&mut remaining, t);
                i -= 1;
            }
            let start = i + 1 + k;

            if end - start <= min_len as isize {
                continue;
            }
            let (start, end) = (start.max(0) as usize, end.max(0) as usize);
            events.push((start, end, f, mean(start, end, f)));
        }
    }

    let mut notes: Vec<Note> = events
        .into_iter()
        .map(|(start, end, f, amplitude)| Note {
            start_s: frame_seconds(start),
            end_s: frame_seconds(end),
            pitch: (f + MIDI_OFFSET) as u8,
            amplitude: amplitude as f32,
        })
        .collect();
    notes.sort_by(|a, b| a.start_s.total_cmp(&b.start_s).then(a.pitch.cmp(&b.pitch)));
    notes
}

/// basic-pitch's `get_infered_onsets`: the larger of the onset activations and
/// the rise of the note activations over the last one and two frames, the rise
/// scaled to the onsets' maximum.
///
/// Where the note activations never rise, basic-pitch divides zero by zero and
/// every onset becomes NaN, so no onset peak is found; `None` stands for that.
fn inferred_onsets(onsets: &[f64], frames: &[f64], n: usize) -> Option<Vec<f64>> {
    const N_DIFF: usize = 2;
    let at = |t: usize, f: usize| t * N_PITCHES + f;
    let mut diff = vec![0.0f64; n * N_PITCHES];
    for t in N_DIFF.min(n)..n {
        for f in 0..N_PITCHES {
            let now = frames[at(t, f)];
            let d = (1..=N_DIFF)
                .map(|back| now - frames[at(t - back, f)])
                .fold(f64::INFINITY, f64::min);
            diff[at(t, f)] = d.max(0.0);
        }
    }
    let max_diff = diff.iter().copied().fold(0.0f64, f64::max);
    if max_diff <= 0.0 || !max_diff.is_finite() {
        return None;
    }
    let max_onset = onsets.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some(
        onsets
            .iter()
            .zip(&diff)
            .map(|(&o, &d)| o.max(max_onset * d / max_diff))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_times_match_basic_pitch() {
        // Values from basic_pitch.note_creation.model_frames_to_time.
        assert!((frame_seconds(0) - 0.0).abs() < 1e-12);
        assert!((frame_seconds(86) - 86.0 * 256.0 / 22050.0).abs() < 1e-12);
        let offset = 256.0 / 22050.0 * (172.0 - 43844.0 / 256.0) + 0.0018;
        assert!((frame_seconds(172) - (172.0 * 256.0 / 22050.0 - offset)).abs() < 1e-12);
        assert!((frame_seconds(400) - (400.0 * 256.0 / 22050.0 - 2.0 * offset)).abs() < 1e-12);
    }

    #[test]
    fn minimum_length_is_eleven_frames() {
        assert_eq!(NoteParams::default().min_note_frames(), 11);
    }

    fn activations(frames: usize, notes: &[(usize, usize, usize)]) -> Activations {
        let mut a = Activations {
            frames,
            note: vec![0.05; frames * N_PITCHES],
            onset: vec![0.01; frames * N_PITCHES],
        };
        for &(start, end, f) in notes {
            a.onset[start * N_PITCHES + f] = 0.9;
            for t in start..end {
                a.note[t * N_PITCHES + f] = 0.8;
            }
        }
        a
    }

    #[test]
    fn a_held_note_is_found_once() {
        let a = activations(200, &[(20, 80, 39)]);
        let notes = notes_from_activations(&a, &NoteParams::default());
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert_eq!(notes[0].pitch, 60);
        assert!((notes[0].start_s - frame_seconds(20)).abs() < 1e-9);
        assert!((notes[0].end_s - frame_seconds(80)).abs() < 1e-9);
        assert!((notes[0].amplitude - 0.8).abs() < 1e-6);
    }

    #[test]
    fn short_blips_and_silence_give_nothing() {
        let a = activations(200, &[(20, 26, 39)]);
        assert!(notes_from_activations(&a, &NoteParams::default()).is_empty());
        let silent = Activations {
            frames: 100,
            note: vec![0.0; 100 * N_PITCHES],
            onset: vec![0.0; 100 * N_PITCHES],
        };
        assert!(notes_from_activations(&silent, &NoteParams::default()).is_empty());
        assert!(notes_from_activations(&Activations::default(), &NoteParams::default()).is_empty());
    }

    #[test]
    fn energy_without_an_onset_is_found_by_the_melodia_trick() {
        let mut a = activations(200, &[]);
        for t in 30..90 {
            a.note[t * N_PITCHES + 50] = 0.7;
        }
        // No onset peak and no rise past the first frames: only melodia can find it.
        let params = NoteParams {
            infer_onsets: false,
            ..NoteParams::default()
        };
        let notes = notes_from_activations(&a, &params);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert_eq!(notes[0].pitch, 71);
        let off = NoteParams {
            melodia_trick: false,
            ..params
        };
        assert!(notes_from_activations(&a, &off).is_empty());
    }
}
