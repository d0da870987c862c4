//! Audio to notes with Spotify's Basic Pitch model, and notes back to MIDI and audio.
//!
//! [`BasicPitch`] runs the model (`nmp.onnx` from the `basic-pitch` 0.4.0
//! wheel, fetched by `scripts/setup.sh`) with ONNX Runtime (loaded at run
//! time, when `scripts/setup.sh` has fetched it) or else `tract-onnx`, over
//! overlapping two-second windows, and stitches the activations exactly as
//! basic-pitch's `run_inference` does.  [`notes_from_activations`] turns the
//! activations into notes with basic-pitch's own note-tracking method (onset
//! peaks, frame energy, the "melodia trick"); [`transcribe`] does both from
//! any [`Audio`].
//! [`encode_midi`] writes the notes as a Standard MIDI File and
//! [`render_notes`] plays them through a General MIDI SoundFont.

mod midi;
mod model;
mod notes;
mod render;

use std::path::PathBuf;

use crate::audio::{Audio, AudioError, resample};

/// Re-exported from [`crate::job`], where the generators share them.
pub use crate::job::{Job, Unattended};

pub use midi::{MIDI_TICKS_PER_QUARTER, encode_midi};
pub use model::{
    Activations, BACKEND_ENV, Backend, BackendChoice, BasicPitch, MODEL_ENV, MODEL_FILE_SHA256,
    MODELS_DIR_ENV, ModelOptions, N_PITCHES, ONNXRUNTIME_LIB_ENV, ONNXRUNTIME_VERSION, SAMPLE_RATE,
    THREADS_ENV, WINDOW_SAMPLES, default_model_path, default_onnxruntime_path,
};
pub use notes::{NoteParams, notes_from_activations};
pub use render::{RENDER_SECONDS_MAX, render_notes};

/// The longest audio [`transcribe`] accepts: ten minutes, the decoder's default.
///
/// The activations it keeps cost about 60 kB per second of audio; the limit
/// bounds them at about 36 MB.
pub const TRANSCRIBE_SECONDS_MAX: u32 = 600;

/// One transcribed note.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Note {
    /// Onset, in seconds from the start of the audio.
    pub start_s: f64,
    /// Release, in seconds from the start of the audio.
    pub end_s: f64,
    /// MIDI key number, 21 (A0) to 108 (C8).
    pub pitch: u8,
    /// The model's mean note activation over the note, 0.0 to 1.0.
    pub amplitude: f32,
}

impl Note {
    /// MIDI velocity, 1 to 127, as basic-pitch computes it (`round(127 * amplitude)`).
    pub fn velocity(&self) -> u8 {
        (f64::from(self.amplitude.clamp(0.0, 1.0)) * 127.0)
            .round()
            .clamp(1.0, 127.0) as u8
    }
}

/// Why audio could not be transcribed.
#[derive(Debug, thiserror::Error)]
pub enum TranscribeError {
    /// The model file is not where encore looks for it.
    #[error(
        "the Basic Pitch model is missing at {}: run scripts/setup.sh to fetch it, or set {MODEL_ENV} to the path of nmp.onnx from basic-pitch 0.4.0",
        path.display()
    )]
    ModelMissing {
        /// The path that was tried.
        path: PathBuf,
    },
    /// The file exists but is not the model encore expects.
    #[error(
        "the Basic Pitch model at {} cannot be used ({detail}): delete it and run scripts/setup.sh to fetch it again",
        path.display()
    )]
    ModelInvalid {
        /// The path that was read.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },
    /// The chosen engine cannot be used: ONNX Runtime asked for but absent or
    /// unusable, or a bad `ENCORE_TRANSCRIBE_BACKEND` or
    /// `ENCORE_ONNXRUNTIME_THREADS` value.
    #[error("the transcription engine cannot be used: {0}")]
    Backend(String),
    /// The model failed while running.
    #[error("the transcription model failed: {0}")]
    Inference(String),
    /// The input audio could not be prepared.
    #[error(transparent)]
    Audio(#[from] AudioError),
    /// The model heard no notes (silence, noise or unpitched sound).
    #[error(
        "no notes found: the audio holds no pitched notes the model could hear (silence, noise or percussion only)"
    )]
    NoNotes,
    /// The caller cancelled the work.
    #[error("the transcription was cancelled")]
    Cancelled,
}

/// Transcribes `audio` (any rate, any channel count) to notes, sorted by onset then pitch.
///
/// The audio is mixed to mono and resampled to the model's 22,050 Hz.  Audio
/// in which the model finds no notes is [`TranscribeError::NoNotes`].
pub fn transcribe(
    model: &BasicPitch,
    audio: &Audio,
    params: &NoteParams,
    job: &dyn Job,
) -> Result<Vec<Note>, TranscribeError> {
    if audio.is_empty() {
        return Err(AudioError::Empty.into());
    }
    if audio.duration().as_secs_f64() > f64::from(TRANSCRIBE_SECONDS_MAX) {
        return Err(AudioError::TooLong {
            limit_ms: u64::from(TRANSCRIBE_SECONDS_MAX) * 1000,
        }
        .into());
    }
    let mono = resample(&audio.to_mono(), SAMPLE_RATE)?;
    let samples = mono.channel(0).unwrap_or_default();
    let activations = model.activations(samples, job)?;
    let notes = notes_from_activations(&activations, params);
    job.progress(1.0);
    if notes.is_empty() {
        return Err(TranscribeError::NoNotes);
    }
    Ok(notes)
}
