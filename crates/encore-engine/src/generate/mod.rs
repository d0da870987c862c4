//! Generators: the built-in ways to make new music from catalog audio.
//!
//! A [`Generator`] has a name, the [`UseType`] it performs (what the rights
//! engine must allow before it runs), a JSON Schema of its parameters (for the
//! OpenAPI document and client forms), [`Limits`], and a [`Generator::run`]
//! that turns [`GenInput`]s into a [`GenOutput`], reporting progress and
//! honouring cancellation through a [`Job`].  [`generators`] lists the
//! built-ins and [`generator`] finds one by name:
//!
//! - [`Remix`] (`remix`): one recording's tempo, key, stem gains, a looped
//!   section, fades and an output length cap.
//! - [`Mashup`] (`mashup`): two to four recordings, each one's tempo, beats
//!   and key estimated from its audio ([`crate::analysis`]), stretched to a
//!   common tempo, shifted to a compatible key, aligned on the beat, and
//!   layered (with gains and stem choices) or played in turn in crossfaded
//!   sections; fades and an output length cap.
//! - [`Cover`] (`cover`): the recording (or one stem) transcribed to notes with
//!   Basic Pitch and performed anew with a General MIDI instrument.
//!
//! # Contract
//!
//! - Parameters are checked before any audio work; a bad one is
//!   [`GenerateError::InvalidParameter`] or [`GenerateError::UnknownStem`]
//!   naming it ([`GenerateError::parameter`]).  Unknown parameters are refused
//!   too, so a typo is never silently ignored.
//! - Output audio is stereo at 44,100 Hz, normalised to -14 LUFS integrated
//!   with its true peak at or under -1 dBTP (silence is left silent).
//! - The same inputs, parameters and seed give the same output samples, so
//!   the same encoded bytes.  No built-in draws random numbers of its own;
//!   the seed goes to the stretcher's phase choices (remix, mashup) and is
//!   part of the interface for generators that do.
//! - Work is bounded: inputs longer than [`Limits::input_duration_max_ms`] are
//!   refused and outputs never exceed [`Limits::output_duration_max_ms`].
//!
//! # External generators
//!
//! A model served elsewhere (a GPU service) implements the same trait and
//! says so with [`Execution::Remote`].  Its `name`, `use_type`,
//! `params_schema` and `limits` come from the service's registration; its
//! `run` validates parameters locally with the same rules, submits the inputs
//! and parameters through the job protocol (defined by the creation-flow
//! work, not here), and waits for the result, forwarding the remote job's
//! progress to [`Job::progress`], asking for remote cancellation when
//! [`Job::cancelled`] says so, and returning the service's audio as a
//! [`GenOutput`] (normalised here if the service did not).  Callers do not
//! change: rights checks, metering and provenance see a [`Generator`] either
//! way, and a scheduler can use [`Generator::execution`] to run remote
//! generators off the CPU worker pool.

mod cover;
mod mashup;
mod params;
mod remix;
mod stretch;

use std::collections::BTreeMap;

pub use encore_core::UseType;

pub use cover::{Cover, CoverGuard, GM_INSTRUMENTS};
pub use mashup::{
    BEATS_PER_BAR, InputPlan, MASHUP_INPUT_SECONDS_MAX, MASHUP_INPUTS_MAX,
    MASHUP_OUTPUT_SECONDS_MAX, Mashup, MashupMode, MashupPlan, Segment, compatible_shift,
};
pub use params::Params;
pub use remix::{REMIX_INPUT_SECONDS_MAX, REMIX_OUTPUT_SECONDS_MAX, Remix};

use crate::audio::{
    Audio, AudioError, LOUDNESS_TARGET_LUFS, Normalization, SAMPLE_RATE_MAX, SAMPLE_RATE_MIN,
    TRUE_PEAK_CEILING_DBTP, normalize, resample,
};
pub use crate::job::{Job, Stage, Unattended};
use crate::transcribe::Note;

/// The sample rate of every generator's output.
pub const OUTPUT_SAMPLE_RATE: u32 = 44_100;

/// A generator: a named way to turn inputs and parameters into new audio.
///
/// Object safe, so a registry can hold built-in and remote generators alike.
pub trait Generator: Send + Sync {
    /// The generator's stable name, as used in requests (`remix`, `cover`).
    fn name(&self) -> &'static str;
    /// One sentence for people choosing a generator.
    fn description(&self) -> &'static str;
    /// The use it performs, which the rights engine must allow for every input.
    fn use_type(&self) -> UseType;
    /// Where it runs; built-ins run locally on the CPU.
    fn execution(&self) -> Execution {
        Execution::Local
    }
    /// A JSON Schema (draft 2020-12) object describing the parameters: each
    /// with its type, range, default and description.
    fn params_schema(&self) -> serde_json::Value;
    /// How much input it takes and how much output and memory it may use.
    fn limits(&self) -> Limits;
    /// Runs the generator.  Parameters are checked first; see the module docs.
    fn run(
        &self,
        inputs: &[GenInput],
        params: &Params,
        seed: u64,
        job: &dyn Job,
    ) -> Result<GenOutput, GenerateError>;
}

/// Where a generator does its work.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Execution {
    /// In this process, on the CPU.
    Local,
    /// In a service elsewhere, reached through the job protocol.
    Remote,
}

/// A generator's bounds, checked before it runs.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The fewest recordings it takes.
    pub inputs_min: usize,
    /// The most recordings it takes.
    pub inputs_max: usize,
    /// The longest input (mix or stem) accepted, in milliseconds.
    pub input_duration_max_ms: u64,
    /// The longest output it produces, in milliseconds (longer results are cut).
    pub output_duration_max_ms: u64,
    /// Roughly the most memory one run takes at the longest input, in bytes.
    pub memory_bytes_estimate: u64,
}

/// One input recording: its full mix and, when the catalog has them, its stems.
#[derive(Clone, Debug, PartialEq)]
pub struct GenInput {
    /// The full mix.
    pub mix: Audio,
    /// Stems by name (`drums`, `bass`, …), each the same recording split by
    /// instrument; ordered by name so processing is deterministic.
    pub stems: BTreeMap<String, Audio>,
}

impl GenInput {
    /// An input with no stems.
    pub fn new(mix: Audio) -> Self {
        Self {
            mix,
            stems: BTreeMap::new(),
        }
    }

    /// Adds (or replaces) a stem.
    pub fn with_stem(mut self, name: impl Into<String>, audio: Audio) -> Self {
        self.stems.insert(name.into(), audio);
        self
    }
}

/// What a generator made.
#[derive(Clone, Debug, PartialEq)]
pub struct GenOutput {
    /// Stereo audio at [`OUTPUT_SAMPLE_RATE`], normalised to -14 LUFS with a
    /// true peak at or under -1 dBTP.
    pub audio: Audio,
    /// A Standard MIDI File of the notes performed, for generators that have notes.
    pub midi: Option<Vec<u8>>,
    /// The notes performed, for generators that have notes.
    pub notes: Option<Vec<Note>>,
}

/// Why a generator did not produce output.
///
/// [`GenerateError::parameter`] names the parameter for the two variants about
/// parameters; [`GenerateError::is_bad_input`] separates what the caller can
/// fix (a 422 or 400 at the API) from failures of the service.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// A parameter is unknown, of the wrong type or out of range.
    #[error("invalid parameter {name}: {message}")]
    InvalidParameter {
        /// The parameter, as named in the request (`tempo`, `stem.drums`).
        name: String,
        /// What is wrong and what is accepted, e.g. "tempo must be between 0.5 and 2.0, not 0".
        message: String,
    },
    /// A parameter names a stem the input does not have.
    #[error("invalid parameter {name}: the recording has no stem named '{stem}' ({})", available_text(.available))]
    UnknownStem {
        /// The parameter that named it.
        name: String,
        /// The stem asked for.
        stem: String,
        /// The stems the input has.
        available: Vec<String>,
    },
    /// Too few or too many inputs.
    #[error("{generator} takes {}, not {got}", count_text(.min, .max))]
    InputCount {
        /// The generator.
        generator: &'static str,
        /// The fewest it takes.
        min: usize,
        /// The most it takes.
        max: usize,
        /// How many were given.
        got: usize,
    },
    /// An input is longer than the generator accepts.
    #[error("input {index} ({what}) is longer than the limit of {} s: trim it and try again", .limit_ms / 1000)]
    InputTooLong {
        /// The input's position, from 0.
        index: usize,
        /// `mix` or the stem's name.
        what: String,
        /// The limit, in milliseconds.
        limit_ms: u64,
    },
    /// Transcription found no notes (silence, noise or percussion only).
    #[error(
        "no notes found: the audio holds no pitched notes to perform (silence, noise or percussion only); choose a recording or stem with melody or harmony"
    )]
    NoNotes,
    /// The cover guard found the original audio in the output.
    #[error(
        "the cover matches its input's audio, and a cover must contain none of the original recording; it was not emitted"
    )]
    CoverMatchesInput,
    /// The caller cancelled the work.
    #[error("the generation was cancelled")]
    Cancelled,
    /// The input audio is unusable (empty, an unsupported rate) or processing failed.
    #[error(transparent)]
    Audio(#[from] AudioError),
    /// A model or instrument bank the generator needs is missing or failed.
    #[error("{0}")]
    Model(String),
}

fn count_text(min: &usize, max: &usize) -> String {
    match (*min, *max) {
        (1, 1) => "one input recording".to_owned(),
        (min, max) if min == max => format!("{min} input recordings"),
        (min, max) => format!("{min} to {max} input recordings"),
    }
}

fn available_text(available: &[String]) -> String {
    if available.is_empty() {
        "it has no stems".to_owned()
    } else {
        format!("it has {}", available.join(", "))
    }
}

impl GenerateError {
    /// The parameter at fault, for [`GenerateError::InvalidParameter`] and
    /// [`GenerateError::UnknownStem`].
    pub fn parameter(&self) -> Option<&str> {
        match self {
            GenerateError::InvalidParameter { name, .. }
            | GenerateError::UnknownStem { name, .. } => Some(name),
            _ => None,
        }
    }

    /// Whether the caller can fix this by changing the request (parameters or
    /// inputs), as opposed to a failure of the service.
    pub fn is_bad_input(&self) -> bool {
        match self {
            GenerateError::InvalidParameter { .. }
            | GenerateError::UnknownStem { .. }
            | GenerateError::InputCount { .. }
            | GenerateError::InputTooLong { .. }
            | GenerateError::NoNotes
            | GenerateError::CoverMatchesInput => true,
            GenerateError::Audio(e) => matches!(
                e,
                AudioError::Unsupported
                    | AudioError::Corrupt(_)
                    | AudioError::Empty
                    | AudioError::TooLong { .. }
                    | AudioError::TooLarge { .. }
                    | AudioError::InvalidParameter(_)
            ),
            GenerateError::Cancelled | GenerateError::Model(_) => false,
        }
    }

    pub(crate) fn invalid(name: &str, message: impl Into<String>) -> Self {
        GenerateError::InvalidParameter {
            name: name.to_owned(),
            message: message.into(),
        }
    }
}

/// The built-in generators, in a stable order.
///
/// Cheap: models and instrument banks are loaded on a generator's first run.
pub fn generators() -> Vec<Box<dyn Generator>> {
    vec![
        Box::new(Remix::new()),
        Box::new(Mashup::new()),
        Box::new(Cover::new()),
    ]
}

/// The built-in generator called `name`, if there is one.
pub fn generator(name: &str) -> Option<Box<dyn Generator>> {
    generators().into_iter().find(|g| g.name() == name)
}

/// Checks the input count, that every input (mix and stems) holds audio at a
/// usable rate, and the duration limit.
pub(crate) fn check_inputs(
    generator: &'static str,
    inputs: &[GenInput],
    limits: &Limits,
) -> Result<(), GenerateError> {
    if !(limits.inputs_min..=limits.inputs_max).contains(&inputs.len()) {
        return Err(GenerateError::InputCount {
            generator,
            min: limits.inputs_min,
            max: limits.inputs_max,
            got: inputs.len(),
        });
    }
    for (index, input) in inputs.iter().enumerate() {
        let all = std::iter::once(("mix", &input.mix))
            .chain(input.stems.iter().map(|(n, a)| (n.as_str(), a)));
        for (what, audio) in all {
            if audio.is_empty() {
                return Err(AudioError::Empty.into());
            }
            let rate = audio.sample_rate();
            if !(SAMPLE_RATE_MIN..=SAMPLE_RATE_MAX).contains(&rate) {
                return Err(AudioError::InvalidParameter(format!(
                    "input {index} ({what}) has a sample rate of {rate} Hz; use {SAMPLE_RATE_MIN} to {SAMPLE_RATE_MAX} Hz"
                ))
                .into());
            }
            let ms = audio.duration().as_millis();
            if ms > u128::from(limits.input_duration_max_ms) {
                return Err(GenerateError::InputTooLong {
                    index,
                    what: what.to_owned(),
                    limit_ms: limits.input_duration_max_ms,
                });
            }
        }
    }
    Ok(())
}

/// Stereo at [`OUTPUT_SAMPLE_RATE`], with non-finite samples silenced.
pub(crate) fn prepare(audio: &Audio) -> Result<Audio, AudioError> {
    let mut stereo = audio.to_stereo();
    for channel in stereo.channels_mut() {
        for s in channel {
            if !s.is_finite() {
                *s = 0.0;
            }
        }
    }
    resample(&stereo, OUTPUT_SAMPLE_RATE)
}

/// Normalises a generator's output to the streaming target.
///
/// Audio the meter calls silent (too quiet, or shorter than one 400 ms
/// gating block) is left at its level, but never above -1 dBFS sample peak.
pub(crate) fn finish_audio(mut audio: Audio) -> Result<Audio, AudioError> {
    if let Normalization::Silent { .. } =
        normalize(&mut audio, LOUDNESS_TARGET_LUFS, TRUE_PEAK_CEILING_DBTP)?
    {
        let ceiling = 10f32.powf(TRUE_PEAK_CEILING_DBTP as f32 / 20.0);
        let peak = audio.sample_peak();
        if peak > ceiling {
            audio.apply_gain(ceiling / peak);
        }
    }
    Ok(audio)
}
