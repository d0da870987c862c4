//! Running Basic Pitch's ONNX model with tract.
//!
//! The windowing, padding and stitching replicate `basic_pitch/inference.py`
//! (basic-pitch 0.4.0, Copyright 2024 Spotify AB, Apache-2.0): the audio is
//! preceded by half an overlap of silence, cut into windows of
//! [`WINDOW_SAMPLES`] samples that overlap by 30 frames, and each window's
//! 172 output frames lose 15 frames at each end before they are concatenated
//! and trimmed to the audio's length.

use std::path::{Path, PathBuf};

use tract_onnx::prelude::*;

use super::{Job, TranscribeError};

/// The model's input rate: 22,050 Hz mono.
pub const SAMPLE_RATE: u32 = 22_050;
/// Samples in one model window: two seconds less one hop (`AUDIO_N_SAMPLES`).
pub const WINDOW_SAMPLES: usize = 2 * SAMPLE_RATE as usize - FFT_HOP;
/// Pitches in the note and onset outputs: the 88 piano keys, MIDI 21 to 108.
pub const N_PITCHES: usize = 88;
/// SHA-256 of `basic_pitch/saved_models/icassp_2022/nmp.onnx` in the basic-pitch
/// 0.4.0 wheel; `scripts/lib.sh` checks the fetched file against the same value.
pub const MODEL_FILE_SHA256: &str =
    "2c3c1d144bfa61ad236e92e169c13535c880469a12a047d4e73451f2c059a0ec";
/// Environment variable naming the model file; it overrides [`default_model_path`].
pub const MODEL_ENV: &str = "ENCORE_BASIC_PITCH_MODEL";
/// Environment variable naming the folder of fetched models.
pub const MODELS_DIR_ENV: &str = "ENCORE_MODELS_DIR";

/// Samples per model frame (`FFT_HOP`).
pub(crate) const FFT_HOP: usize = 256;
/// Frames the model produces per window (`ANNOT_N_FRAMES`: 86 frames/s for 2 s).
pub(crate) const WINDOW_FRAMES: usize = 172;
/// Frames shared by neighbouring windows (`n_overlapping_frames`).
const OVERLAP_FRAMES: usize = 30;
/// Samples shared by neighbouring windows.
const OVERLAP_SAMPLES: usize = OVERLAP_FRAMES * FFT_HOP;
/// Samples between window starts.
const HOP_SAMPLES: usize = WINDOW_SAMPLES - OVERLAP_SAMPLES;
/// Bins of the contour output (three per semitone).
const N_CONTOUR_BINS: usize = 3 * N_PITCHES;
/// basic-pitch's integer frame rate (`ANNOTATIONS_FPS = 22050 // 256`), which it
/// uses to trim the stitched output to the audio's length.
const ANNOTATIONS_FPS: usize = SAMPLE_RATE as usize / FFT_HOP;

/// The ONNX output names, as basic-pitch's own ONNX runner maps them.
const OUTPUT_NOTE: &str = "StatefulPartitionedCall:1";
const OUTPUT_ONSET: &str = "StatefulPartitionedCall:2";
const OUTPUT_CONTOUR: &str = "StatefulPartitionedCall:0";

/// Where encore looks for the model: `$ENCORE_BASIC_PITCH_MODEL`, else
/// `$ENCORE_MODELS_DIR/basic-pitch-0.4.0/nmp.onnx`, else the same under
/// `$HOME/.cache/encore/models` (where `scripts/setup.sh` puts it).
pub fn default_model_path() -> PathBuf {
    if let Some(path) = std::env::var_os(MODEL_ENV).filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    let dir = std::env::var_os(MODELS_DIR_ENV)
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME").unwrap_or_default();
            PathBuf::from(home).join(".cache/encore/models")
        });
    dir.join("basic-pitch-0.4.0").join("nmp.onnx")
}

/// The model's note and onset activations over a whole piece, frame by frame.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Activations {
    /// Frames (86.13 a second).
    pub frames: usize,
    /// Note (frame) activations, `frames * 88`, row-major by frame.
    pub note: Vec<f32>,
    /// Onset activations, `frames * 88`, row-major by frame.
    pub onset: Vec<f32>,
}

/// Basic Pitch, loaded and optimised once, reusable for any number of transcriptions.
pub struct BasicPitch {
    plan: TypedRunnableModel<TypedModel>,
    note: usize,
    onset: usize,
    contour: usize,
}

impl std::fmt::Debug for BasicPitch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicPitch").finish_non_exhaustive()
    }
}

impl BasicPitch {
    /// Loads the model from [`default_model_path`].
    pub fn load_default() -> Result<Self, TranscribeError> {
        Self::load(&default_model_path())
    }

    /// Loads and optimises `nmp.onnx` for one window at a time.
    pub fn load(path: &Path) -> Result<Self, TranscribeError> {
        if !path.is_file() {
            return Err(TranscribeError::ModelMissing {
                path: path.to_path_buf(),
            });
        }
        let invalid = |detail: String| TranscribeError::ModelInvalid {
            path: path.to_path_buf(),
            detail,
        };
        let mut model = tract_onnx::onnx()
            .model_for_path(path)
            .map_err(|e| invalid(format!("{e:#}")))?;
        model
            .set_input_fact(
                0,
                InferenceFact::dt_shape(f32::datum_type(), tvec!(1, WINDOW_SAMPLES, 1)),
            )
            .map_err(|e| invalid(format!("{e:#}")))?;
        let outlets = model
            .output_outlets()
            .map_err(|e| invalid(format!("{e:#}")))?
            .to_vec();
        let find = |name: &str| {
            outlets
                .iter()
                .position(|o| model.outlet_label(*o) == Some(name))
                .ok_or_else(|| invalid(format!("it has no output named {name}")))
        };
        let (note, onset, contour) = (
            find(OUTPUT_NOTE)?,
            find(OUTPUT_ONSET)?,
            find(OUTPUT_CONTOUR)?,
        );
        let plan = model
            .into_optimized()
            .and_then(|m| m.into_runnable())
            .map_err(|e| invalid(format!("{e:#}")))?;
        let loaded = BasicPitch {
            plan,
            note,
            onset,
            contour,
        };
        // One silent window checks the output shapes now rather than mid-job.
        loaded
            .window(&vec![0.0; WINDOW_SAMPLES])
            .map_err(|e| invalid(e.to_string()))?;
        Ok(loaded)
    }

    /// Runs one window of [`WINDOW_SAMPLES`] samples; returns its note and onset
    /// activations, each `WINDOW_FRAMES * 88`.
    fn window(&self, samples: &[f32]) -> Result<(Vec<f32>, Vec<f32>), TranscribeError> {
        let fail = |e: TractError| TranscribeError::Inference(format!("{e:#}"));
        let input = Tensor::from_shape(&[1, WINDOW_SAMPLES, 1], samples).map_err(fail)?;
        let outputs = self.plan.run(tvec!(input.into())).map_err(fail)?;
        let take = |ix: usize, bins: usize| -> Result<Vec<f32>, TranscribeError> {
            let t = outputs.get(ix).ok_or_else(|| {
                TranscribeError::Inference(format!("the model returned no output {ix}"))
            })?;
            if t.shape() != [1, WINDOW_FRAMES, bins] {
                return Err(TranscribeError::Inference(format!(
                    "output {ix} has shape {:?}, expected [1, {WINDOW_FRAMES}, {bins}]",
                    t.shape()
                )));
            }
            Ok(t.as_slice::<f32>().map_err(fail)?.to_vec())
        };
        take(self.contour, N_CONTOUR_BINS)?;
        Ok((take(self.note, N_PITCHES)?, take(self.onset, N_PITCHES)?))
    }

    /// Runs the model over `samples` (22,050 Hz mono), reporting progress and
    /// checking for cancellation between windows.
    pub fn activations(
        &self,
        samples: &[f32],
        job: &dyn Job,
    ) -> Result<Activations, TranscribeError> {
        // The audio starts after half an overlap of silence, so the first
        // window's trimmed frames begin at the audio's first sample.
        let padded_len = OVERLAP_SAMPLES / 2 + samples.len();
        let windows = padded_len.div_ceil(HOP_SAMPLES);
        let frames = samples.len() * ANNOTATIONS_FPS / SAMPLE_RATE as usize;
        let keep = WINDOW_FRAMES - OVERLAP_FRAMES;
        let mut note = Vec::with_capacity(windows * keep * N_PITCHES);
        let mut onset = Vec::with_capacity(windows * keep * N_PITCHES);
        let mut buffer = vec![0.0f32; WINDOW_SAMPLES];
        for w in 0..windows {
            if job.cancelled() {
                return Err(TranscribeError::Cancelled);
            }
            // Fill the window from the virtual padded signal: zeros, the audio, zeros.
            let start = w * HOP_SAMPLES;
            for (i, slot) in buffer.iter_mut().enumerate() {
                let p = start + i;
                *slot = p
                    .checked_sub(OVERLAP_SAMPLES / 2)
                    .and_then(|s| samples.get(s))
                    .copied()
                    .unwrap_or(0.0);
            }
            let (n, o) = self.window(&buffer)?;
            let trim =
                OVERLAP_FRAMES / 2 * N_PITCHES..(WINDOW_FRAMES - OVERLAP_FRAMES / 2) * N_PITCHES;
            note.extend_from_slice(&n[trim.clone()]);
            onset.extend_from_slice(&o[trim]);
            job.progress((w + 1) as f32 / windows as f32 * 0.95);
        }
        let frames = frames.min(note.len() / N_PITCHES);
        note.truncate(frames * N_PITCHES);
        onset.truncate(frames * N_PITCHES);
        Ok(Activations {
            frames,
            note,
            onset,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_can_be_shared_between_worker_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<BasicPitch>();
    }

    #[test]
    fn windows_overlap_by_thirty_frames() {
        assert_eq!(WINDOW_SAMPLES, 43_844);
        assert_eq!(HOP_SAMPLES, 36_164);
        assert_eq!(ANNOTATIONS_FPS, 86);
    }
}
