//! `cover`: the composition performed anew, none of the original audio.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::params::{Reader, number_schema};
use super::{
    GenInput, GenOutput, GenerateError, Generator, Job, Limits, OUTPUT_SAMPLE_RATE, Params, Stage,
    UseType, check_inputs, finish_audio,
};
use crate::audio::Audio;
use crate::fingerprint::FingerprintGuard;
use crate::synth::{DEFAULT_SOUNDFONT_PATH, SoundFontBank};
use crate::transcribe::{
    BasicPitch, NoteParams, RENDER_SECONDS_MAX, TRANSCRIBE_SECONDS_MAX, TranscribeError,
    default_model_path, encode_midi, render_notes, transcribe,
};

/// General MIDI instruments by the names `instrument` accepts (0-based programs).
pub const GM_INSTRUMENTS: &[(&str, u8)] = &[
    ("piano", 0),
    ("bright_piano", 1),
    ("electric_piano", 4),
    ("harpsichord", 6),
    ("celesta", 8),
    ("music_box", 10),
    ("vibraphone", 11),
    ("marimba", 12),
    ("organ", 16),
    ("church_organ", 19),
    ("accordion", 21),
    ("nylon_guitar", 24),
    ("guitar", 25),
    ("electric_guitar", 27),
    ("bass", 33),
    ("violin", 40),
    ("cello", 42),
    ("harp", 46),
    ("strings", 48),
    ("choir", 52),
    ("trumpet", 56),
    ("trombone", 57),
    ("brass", 61),
    ("sax", 65),
    ("oboe", 68),
    ("clarinet", 71),
    ("flute", 73),
    ("pan_flute", 75),
    ("synth_lead", 80),
    ("synth_pad", 88),
    ("steel_drums", 114),
];

const TEMPO_MIN: f64 = 0.5;
const TEMPO_MAX: f64 = 2.0;
/// The tempo written into the MIDI file; note times are absolute, so it only sets bar lines.
const MIDI_TEMPO_BPM: f64 = 120.0;

const PARAMS: &[&str] = &["instrument", "stem", "tempo"];

/// Decides whether a cover still contains its input's audio.
///
/// A cover must contain none of the original recording.  Every [`Cover`]
/// starts with [`FingerprintGuard`] (Chromaprint fingerprints of the output
/// against the input's mix and stems); [`Cover::with_guard`] replaces it, for
/// instance with one that also searches the whole catalog.  A cover for which
/// [`CoverGuard::audio_matches_input`] says yes is refused with
/// [`GenerateError::CoverMatchesInput`].  Rendering from notes alone cannot
/// copy audio, so the guard is a second line of defence.
pub trait CoverGuard: Send + Sync {
    /// Whether `output` contains audio of `input` (the recording being covered).
    fn audio_matches_input(&self, input: &GenInput, output: &Audio) -> bool;
}

/// The model and instrument bank, loaded once.
struct Resources {
    model: BasicPitch,
    bank: SoundFontBank,
}

/// Transcribes the recording (or one stem) to notes with Basic Pitch and
/// performs them with a General MIDI instrument through the FluidR3 SoundFont;
/// returns the rendered audio, the notes and a Standard MIDI File of them.
pub struct Cover {
    model_path: Option<PathBuf>,
    soundfont_path: PathBuf,
    resources: Mutex<Option<Arc<Resources>>>,
    guard: Arc<dyn CoverGuard>,
}

impl Default for Cover {
    fn default() -> Self {
        Self::new()
    }
}

impl Cover {
    /// The cover generator with the model at [`default_model_path`] (looked up
    /// on first run) and the system's FluidR3 SoundFont; both are loaded on
    /// the first run.  Its guard is [`FingerprintGuard`].
    pub fn new() -> Self {
        Self {
            model_path: None,
            soundfont_path: PathBuf::from(DEFAULT_SOUNDFONT_PATH),
            resources: Mutex::new(None),
            guard: Arc::new(FingerprintGuard),
        }
    }

    /// The cover generator with a model and SoundFont from given paths.
    pub fn with_paths(model: &Path, soundfont: &Path) -> Self {
        Self {
            model_path: Some(model.to_path_buf()),
            soundfont_path: soundfont.to_path_buf(),
            ..Self::new()
        }
    }

    /// The cover generator with an already loaded model and bank.
    pub fn with_resources(model: BasicPitch, bank: SoundFontBank) -> Self {
        Self {
            resources: Mutex::new(Some(Arc::new(Resources { model, bank }))),
            ..Self::new()
        }
    }

    /// Refuses covers that `guard` finds contain their input's audio.
    pub fn with_guard(mut self, guard: Arc<dyn CoverGuard>) -> Self {
        self.guard = guard;
        self
    }

    fn resources(&self) -> Result<Arc<Resources>, GenerateError> {
        let mut slot = self.resources.lock().map_err(|_| {
            GenerateError::Model(
                "the cover generator's resources were poisoned by an earlier failure".to_owned(),
            )
        })?;
        if let Some(r) = slot.as_ref() {
            return Ok(Arc::clone(r));
        }
        let path = self.model_path.clone().unwrap_or_else(default_model_path);
        let model = BasicPitch::load(&path).map_err(|e| GenerateError::Model(e.to_string()))?;
        let bank = SoundFontBank::load(&self.soundfont_path)
            .map_err(|e| GenerateError::Model(e.to_string()))?;
        let loaded = Arc::new(Resources { model, bank });
        *slot = Some(Arc::clone(&loaded));
        Ok(loaded)
    }
}

/// Cover parameters, checked.
struct Settings {
    program: u8,
    stem: Option<String>,
    tempo: f64,
}

fn settings(params: &Params, input: &GenInput) -> Result<Settings, GenerateError> {
    let mut r = Reader::new("cover", params);
    let program = match r.text("instrument")? {
        None => 0,
        Some(text) => instrument_program(&text).ok_or_else(|| {
            let names: Vec<&str> = GM_INSTRUMENTS.iter().map(|(n, _)| *n).collect();
            GenerateError::invalid(
                "instrument",
                format!(
                    "instrument must be a General MIDI program from 0 to 127 or one of {}, not '{text}'",
                    names.join(", ")
                ),
            )
        })?,
    };
    let stem = r.text("stem")?;
    if let Some(stem) = &stem
        && !input.stems.contains_key(stem)
    {
        return Err(GenerateError::UnknownStem {
            name: "stem".to_owned(),
            stem: stem.clone(),
            available: input.stems.keys().cloned().collect(),
        });
    }
    let tempo = r.number_or("tempo", 1.0, TEMPO_MIN, TEMPO_MAX)?;
    r.finish(PARAMS)?;
    Ok(Settings {
        program,
        stem,
        tempo,
    })
}

/// A program number (`0` to `127`) or a name from [`GM_INSTRUMENTS`].
fn instrument_program(text: &str) -> Option<u8> {
    if let Ok(n) = text.parse::<u8>() {
        return (n <= 127).then_some(n);
    }
    let wanted = text.to_ascii_lowercase().replace([' ', '-'], "_");
    GM_INSTRUMENTS
        .iter()
        .find(|(name, _)| *name == wanted)
        .map(|&(_, p)| p)
}

impl Generator for Cover {
    fn name(&self) -> &'static str {
        "cover"
    }

    fn description(&self) -> &'static str {
        "Performs the composition anew: notes transcribed with Basic Pitch, played by a General MIDI instrument."
    }

    fn use_type(&self) -> UseType {
        UseType::Cover
    }

    fn params_schema(&self) -> Value {
        let names: Vec<&str> = GM_INSTRUMENTS.iter().map(|(n, _)| *n).collect();
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "cover parameters",
            "type": "object",
            "properties": {
                "instrument": {
                    "description": "The General MIDI instrument that performs the notes: a program number (0 grand piano to 127) or a name.",
                    "default": "piano",
                    "oneOf": [
                        { "type": "integer", "minimum": 0, "maximum": 127 },
                        { "type": "string", "enum": names },
                    ],
                },
                "stem": {
                    "type": "string",
                    "description": "Transcribe this stem (for example \"keys\" or \"lead\") instead of the full mix; the recording must have it.",
                },
                "tempo": number_schema(TEMPO_MIN, TEMPO_MAX, Some(1.0),
                    "Tempo as a ratio of the original, applied to the note times: 1.25 is 25% faster."),
            },
            "additionalProperties": false,
        })
    }

    fn limits(&self) -> Limits {
        // The model's activations (about 60 kB per second), the mono 22 kHz
        // copy, the rendered stereo output, and the model and SoundFont themselves.
        let input_s = u64::from(TRANSCRIBE_SECONDS_MAX);
        let output_s = RENDER_SECONDS_MAX as u64;
        Limits {
            inputs_min: 1,
            inputs_max: 1,
            input_duration_max_ms: input_s * 1000,
            output_duration_max_ms: output_s * 1000,
            memory_bytes_estimate: input_s * (60_000 + 22_050 * 4)
                + output_s * u64::from(OUTPUT_SAMPLE_RATE) * 2 * 4 * 2
                + 200_000_000,
        }
    }

    fn run(
        &self,
        inputs: &[GenInput],
        params: &Params,
        _seed: u64,
        job: &dyn Job,
    ) -> Result<GenOutput, GenerateError> {
        check_inputs(self.name(), inputs, &self.limits())?;
        let input = &inputs[0];
        let s = settings(params, input)?;
        let source = match &s.stem {
            Some(stem) => input.stems.get(stem).unwrap_or(&input.mix),
            None => &input.mix,
        };
        let resources = self.resources()?;
        job.progress(0.02);

        let mut notes = transcribe(
            &resources.model,
            source,
            &NoteParams::default(),
            &Stage::new(job, 0.02, 0.75),
        )
        .map_err(|e| match e {
            TranscribeError::NoNotes => GenerateError::NoNotes,
            TranscribeError::Cancelled => GenerateError::Cancelled,
            TranscribeError::Audio(e) => GenerateError::Audio(e),
            other => GenerateError::Model(other.to_string()),
        })?;
        for n in &mut notes {
            n.start_s /= s.tempo;
            n.end_s /= s.tempo;
        }
        if job.cancelled() {
            return Err(GenerateError::Cancelled);
        }

        let rendered = render_notes(&resources.bank, &notes, s.program)
            .map_err(|e| GenerateError::Model(e.to_string()))?;
        job.progress(0.9);
        let max_frames = (RENDER_SECONDS_MAX * f64::from(rendered.sample_rate())) as usize;
        let rendered = if rendered.frames() > max_frames {
            let rate = rendered.sample_rate();
            let channels = rendered
                .into_planar()
                .into_iter()
                .map(|mut c| {
                    c.truncate(max_frames);
                    c
                })
                .collect();
            Audio::from_planar(channels, rate)?
        } else {
            rendered
        };
        let audio = finish_audio(rendered)?;
        if self.guard.audio_matches_input(input, &audio) {
            return Err(GenerateError::CoverMatchesInput);
        }
        let midi = encode_midi(&notes, s.program, MIDI_TEMPO_BPM);
        job.progress(1.0);
        Ok(GenOutput {
            audio,
            midi: Some(midi),
            notes: Some(notes),
        })
    }
}
