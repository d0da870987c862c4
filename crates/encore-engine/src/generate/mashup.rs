//! `mashup`: two to four recordings brought to one tempo and compatible keys,
//! aligned on their beats, and layered or played in turn.

use std::borrow::Cow;
use std::f64::consts::{FRAC_PI_2, SQRT_2};

use serde_json::{Value, json};

use super::params::{Reader, number_in, number_schema};
use super::stretch::stretch;
use super::{
    GenInput, GenOutput, GenerateError, Generator, Job, Limits, OUTPUT_SAMPLE_RATE, Params, Stage,
    UseType, check_inputs, finish_audio, prepare,
};
use crate::analysis::{Key, analyse};
use crate::audio::{Audio, SILENCE_GATE_LUFS, measure_loudness};

/// The longest input mashup accepts, in seconds.
pub const MASHUP_INPUT_SECONDS_MAX: u64 = 600;
/// The longest output mashup produces, in seconds (and the most `max_duration_s` may ask).
pub const MASHUP_OUTPUT_SECONDS_MAX: u64 = 300;
/// The most recordings one mashup combines.
pub const MASHUP_INPUTS_MAX: usize = 4;

const INPUTS_MIN: usize = 2;
const TEMPO_BPM_MIN: f64 = 40.0;
const TEMPO_BPM_MAX: f64 = 240.0;
/// The tempo used when no input has a clear beat and none is asked for.
const TEMPO_BPM_DEFAULT: f64 = 120.0;
const GAIN_MAX: f64 = 4.0;
const SECTION_BARS_MAX: f64 = 64.0;
const SECTION_BARS_DEFAULT: f64 = 8.0;
const CROSSFADE_BEATS_MAX: f64 = 16.0;
const CROSSFADE_BEATS_DEFAULT: f64 = 2.0;
const FADE_SECONDS_MAX: f64 = 60.0;
const MAX_DURATION_SECONDS_MIN: f64 = 1.0;
/// Bars are counted as four beats: the analysis finds beats, not metre.
pub const BEATS_PER_BAR: u32 = 4;
/// Inputs whose pulse is less clear than this (the tempo estimate's
/// confidence) are neither stretched nor aligned on a beat.
const TEMPO_CONFIDENCE_MIN: f32 = 0.1;
/// Inputs whose key fits its profile less well than this (correlation) are not shifted.
const KEY_CONFIDENCE_MIN: f32 = 0.5;
/// Before layering, every input is brought to this loudness, so `gain.N`
/// balances recordings that start out equally loud.
const MATCH_LUFS: f64 = -20.0;
/// The most that loudness matching raises a quiet input, in dB.
const MATCH_GAIN_MAX_DB: f64 = 24.0;
/// Ramp at a cut, so it does not click.
const JOIN_RAMP_SECONDS: f64 = 0.005;

const PARAMS: &[&str] = &[
    "mode",
    "tempo_bpm",
    "key",
    "gains (or gain.<n>)",
    "stems (or stems.<n>)",
    "section_bars",
    "crossfade_beats",
    "fade_in_s",
    "fade_out_s",
    "max_duration_s",
];

/// Combines two to four recordings: estimates each one's tempo, beats and key
/// ([`crate::analysis`]), stretches each to a common tempo and shifts each to
/// a key compatible with the target (Signalsmith Stretch, one pass), lines up
/// their first beats, and then either layers them (`mode=layer`, each with
/// its gain and, when it has stems, a choice of stems) or plays them in turn
/// (`mode=sequence`, sections of `section_bars` bars crossfaded over
/// `crossfade_beats` beats), with fades and an output length cap.
///
/// Inputs are numbered from 1 in parameters (`gain.1` is the first input).
/// The target tempo is `tempo_bpm`, or the first input's (the first with a
/// clear beat; 120 BPM if none has one).  Tempos are matched by the smallest
/// stretch, counting a beat of half or double the tempo as the same pulse,
/// so no input is stretched by more than a factor of √2.  The target key is
/// `key`, or the first input's; each other input moves by the fewest
/// semitones (at most 6) to the target key, its relative major or minor, or
/// either neighbour on the circle of fifths in its own mode.  Every input
/// is loudness-matched before its gain is applied.  See [`Mashup::plan`].
#[derive(Clone, Debug, Default)]
pub struct Mashup;

impl Mashup {
    /// The mashup generator.
    pub fn new() -> Self {
        Mashup
    }
}

/// How the inputs are combined.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MashupMode {
    /// All inputs at once, each at its gain.
    Layer,
    /// Sections of each input in turn, crossfaded.
    Sequence,
}

/// What a mashup will do: the tempo and key chosen and, per input, what was
/// found and how it is changed.  [`Mashup::plan`] returns it without
/// rendering any audio.
#[derive(Clone, Debug, PartialEq)]
pub struct MashupPlan {
    /// How the inputs are combined.
    pub mode: MashupMode,
    /// The output tempo, in BPM.
    pub tempo_bpm: f64,
    /// The target key, when one was asked for or found.
    pub key: Option<Key>,
    /// One entry per input, in input order.
    pub inputs: Vec<InputPlan>,
    /// Where each input's audio lands in the output, in play order.
    pub segments: Vec<Segment>,
    /// The output length before normalisation, in seconds.
    pub duration_s: f64,
}

/// One input's analysis and treatment.
#[derive(Clone, Debug, PartialEq)]
pub struct InputPlan {
    /// The tempo found, in BPM, when the input has a clear beat.
    pub tempo_bpm: Option<f64>,
    /// The key found, when the input has a clear key.
    pub key: Option<Key>,
    /// How many times as fast it is played (1 when it has no clear beat).
    pub stretch: f64,
    /// How many semitones it is moved (0 when it has no clear key or `key=keep`).
    pub semitones: i32,
    /// Its first beat, in seconds of the stretched input.
    pub first_beat_s: f64,
    /// Its length once stretched, in seconds.
    pub stretched_s: f64,
}

/// A stretch of one input placed in the output.
#[derive(Clone, Debug, PartialEq)]
pub struct Segment {
    /// The input, from 0.
    pub input: usize,
    /// Where the stretch starts in the stretched input, in seconds (negative: silence first).
    pub source_s: f64,
    /// Where it starts in the output, in seconds.
    pub start_s: f64,
    /// How long it lasts, in seconds.
    pub duration_s: f64,
    /// Its fade-in and fade-out (equal-power), in seconds.
    pub fade_in_s: f64,
    /// See `fade_in_s`.
    pub fade_out_s: f64,
}

/// What the key parameter asks for.
#[derive(Copy, Clone, Debug, PartialEq)]
enum KeyTarget {
    Auto,
    Keep,
    Key(Key),
}

/// Mashup parameters, checked.
struct Settings {
    mode: MashupMode,
    tempo_bpm: Option<f64>,
    key: KeyTarget,
    /// Per input.
    gains: Vec<f32>,
    /// Per input: the stems to play instead of the mix, sorted, when chosen.
    stems: Vec<Option<Vec<String>>>,
    section_bars: u32,
    crossfade_beats: f64,
    fade_in_s: f64,
    fade_out_s: f64,
    max_duration_s: f64,
}

/// The input number (from 1) in a `gain.<n>` or `stems.<n>` parameter, as an index from 0.
fn input_index(name: &str, key: &str, inputs: usize) -> Result<usize, GenerateError> {
    match key.parse::<usize>() {
        Ok(n) if (1..=inputs).contains(&n) => Ok(n - 1),
        _ => Err(GenerateError::invalid(
            name,
            format!(
                "{name} must name an input by its number, 1 to {inputs} (there are {inputs} inputs), not '{key}'"
            ),
        )),
    }
}

fn settings(params: &Params, inputs: &[GenInput]) -> Result<Settings, GenerateError> {
    let mut r = Reader::new("mashup", params);
    let n = inputs.len();
    let mode = match r.text("mode")?.as_deref() {
        None | Some("layer") => MashupMode::Layer,
        Some("sequence") => MashupMode::Sequence,
        Some(other) => {
            return Err(GenerateError::invalid(
                "mode",
                format!("mode must be layer or sequence, not '{other}'"),
            ));
        }
    };
    let tempo_bpm = r.number("tempo_bpm", TEMPO_BPM_MIN, TEMPO_BPM_MAX)?;
    let key = match r.text("key")?.as_deref() {
        None | Some("auto") => KeyTarget::Auto,
        Some("keep") => KeyTarget::Keep,
        Some(text) => match Key::parse(text) {
            Some(key) => KeyTarget::Key(key),
            None => {
                return Err(GenerateError::invalid(
                    "key",
                    format!(
                        "key must be auto, keep, or a key such as \"A minor\", \"F#m\" or \"Bb major\", not '{text}'"
                    ),
                ));
            }
        },
    };

    let mut gains = vec![1.0f32; n];
    for (name, index, value) in r.keyed("gain.", "gains")? {
        let i = input_index(&name, &index, n)?;
        gains[i] = number_in(&name, value, 0.0, GAIN_MAX)? as f32;
    }

    let mut stems: Vec<Option<Vec<String>>> = vec![None; n];
    for (name, index, value) in r.keyed("stems.", "stems")? {
        let i = input_index(&name, &index, n)?;
        let names: Vec<String> = match value {
            Value::String(s) => s
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
            Value::Array(items) => {
                let mut names = Vec::with_capacity(items.len());
                for item in items {
                    let Value::String(s) = item else {
                        return Err(GenerateError::invalid(
                            &name,
                            format!("{name} must list stem names, not {item}"),
                        ));
                    };
                    names.push(s.trim().to_owned());
                }
                names
            }
            other => {
                return Err(GenerateError::invalid(
                    &name,
                    format!(
                        "{name} must be stem names separated by commas (\"vocals,drums\") or a list of them, not {other}"
                    ),
                ));
            }
        };
        if names.is_empty() {
            return Err(GenerateError::invalid(
                &name,
                format!(
                    "{name} must name at least one stem; leave it out to use the whole recording"
                ),
            ));
        }
        let available = &inputs[i].stems;
        if let Some(missing) = names.iter().find(|s| !available.contains_key(*s)) {
            return Err(GenerateError::UnknownStem {
                name,
                stem: missing.clone(),
                available: available.keys().cloned().collect(),
            });
        }
        let mut names = names;
        names.sort();
        names.dedup();
        stems[i] = Some(names);
    }

    let section_bars = r.number_or("section_bars", SECTION_BARS_DEFAULT, 1.0, SECTION_BARS_MAX)?;
    if section_bars.fract() != 0.0 {
        return Err(GenerateError::invalid(
            "section_bars",
            format!(
                "section_bars must be a whole number from 1 to {SECTION_BARS_MAX}, not {section_bars}"
            ),
        ));
    }
    let crossfade_beats = r.number_or(
        "crossfade_beats",
        CROSSFADE_BEATS_DEFAULT,
        0.0,
        CROSSFADE_BEATS_MAX,
    )?;
    let section_beats = section_bars * f64::from(BEATS_PER_BAR);
    if mode == MashupMode::Sequence && crossfade_beats > section_beats {
        return Err(GenerateError::invalid(
            "crossfade_beats",
            format!(
                "crossfade_beats must be at most the length of a section ({section_bars} bars, {section_beats} beats), not {crossfade_beats}"
            ),
        ));
    }
    let fade_in_s = r.number_or("fade_in_s", 0.0, 0.0, FADE_SECONDS_MAX)?;
    let fade_out_s = r.number_or("fade_out_s", 0.0, 0.0, FADE_SECONDS_MAX)?;
    let out_max = MASHUP_OUTPUT_SECONDS_MAX as f64;
    let max_duration_s =
        r.number_or("max_duration_s", out_max, MAX_DURATION_SECONDS_MIN, out_max)?;
    r.finish(PARAMS)?;
    Ok(Settings {
        mode,
        tempo_bpm,
        key,
        gains,
        stems,
        section_bars: section_bars as u32,
        crossfade_beats,
        fade_in_s,
        fade_out_s,
        max_duration_s,
    })
}

/// The first `seconds` of `audio` (all of it when shorter).
fn head(audio: &Audio, seconds: f64) -> Cow<'_, Audio> {
    let frames = (seconds * f64::from(audio.sample_rate())).ceil() as usize;
    if audio.frames() <= frames {
        return Cow::Borrowed(audio);
    }
    let channels = audio
        .channels()
        .iter()
        .map(|c| c[..frames].to_vec())
        .collect();
    Cow::Owned(Audio::from_parts(channels, audio.sample_rate()))
}

/// What the analysis found in one input, reduced to what planning needs.
struct Found {
    /// Tempo (BPM) and first beat (seconds), when the beat is clear.
    beat: Option<(f64, f64)>,
    key: Option<Key>,
    /// The input's length, in seconds (of the part used).
    seconds: f64,
}

/// The smallest semitone move (at most 6 either way) from `from` to a key
/// compatible with `target`: the target itself (or its relative, when the
/// modes differ) or its neighbours a fifth above and below in `from`'s mode.
/// Ties go to the target or relative key first, then the fifth above.
pub fn compatible_shift(from: Key, target: Key) -> i32 {
    let home = if from.mode == target.mode {
        target
    } else {
        target.relative()
    };
    [home, home.transposed(7), home.transposed(5)]
        .iter()
        .map(|k| from.shift_to_tonic(k.tonic))
        .enumerate()
        .min_by_key(|&(order, shift)| (shift.abs(), order))
        .map_or(0, |(_, shift)| shift)
}

/// The stretch that plays `source_bpm` at `target_bpm`, counting a half or
/// double tempo as the same pulse: within 1/√2 to √2.
fn stretch_ratio(source_bpm: f64, target_bpm: f64) -> f64 {
    let mut ratio = target_bpm / source_bpm;
    while ratio > SQRT_2 {
        ratio /= 2.0;
    }
    while ratio < 1.0 / SQRT_2 {
        ratio *= 2.0;
    }
    ratio
}

fn make_plan(s: &Settings, found: &[Found]) -> MashupPlan {
    let tempo_bpm = s
        .tempo_bpm
        .or_else(|| found.iter().find_map(|f| f.beat.map(|(bpm, _)| bpm)))
        .unwrap_or(TEMPO_BPM_DEFAULT);
    let key = match s.key {
        KeyTarget::Keep => None,
        KeyTarget::Key(k) => Some(k),
        KeyTarget::Auto => found.iter().find_map(|f| f.key),
    };
    let inputs: Vec<InputPlan> = found
        .iter()
        .map(|f| {
            let (stretch, first_beat) = match f.beat {
                Some((bpm, first)) => (stretch_ratio(bpm, tempo_bpm), first),
                None => (1.0, 0.0),
            };
            let semitones = match (f.key, key, s.key) {
                (_, _, KeyTarget::Keep) => 0,
                (Some(from), Some(to), _) => compatible_shift(from, to),
                _ => 0,
            };
            InputPlan {
                tempo_bpm: f.beat.map(|(bpm, _)| bpm),
                key: f.key,
                stretch,
                semitones,
                first_beat_s: first_beat / stretch,
                stretched_s: f.seconds / stretch,
            }
        })
        .collect();

    let beat_s = 60.0 / tempo_bpm;
    let mut segments = match s.mode {
        MashupMode::Layer => {
            let origin = inputs.iter().map(|i| i.first_beat_s).fold(0.0, f64::max);
            inputs
                .iter()
                .enumerate()
                .map(|(index, i)| Segment {
                    input: index,
                    source_s: 0.0,
                    start_s: origin - i.first_beat_s,
                    duration_s: i.stretched_s,
                    fade_in_s: 0.0,
                    fade_out_s: 0.0,
                })
                .collect()
        }
        MashupMode::Sequence => sequence(
            &inputs,
            beat_s,
            s.section_bars,
            s.crossfade_beats * beat_s,
            s.max_duration_s,
        ),
    };
    // Nothing past the length cap.
    segments.retain(|g| g.start_s < s.max_duration_s);
    let duration_s = segments
        .iter()
        .map(|g| g.start_s + g.duration_s)
        .fold(0.0, f64::max)
        .min(s.max_duration_s);
    MashupPlan {
        mode: s.mode,
        tempo_bpm,
        key,
        inputs,
        segments,
        duration_s,
    }
}

/// Sections of `section_bars` bars from each input in turn, each continuing
/// its input from where its previous section ended (the first from its first
/// beat; the very first from the start, keeping its lead-in), with
/// `crossfade_s`-long equal-power crossfades centred on the bar lines where
/// sections meet.  An input with less than a section left gets only the
/// bars it needs (so at most part of a bar is silent), and one with less
/// than a beat left drops out.  The last section plays its input to the end.
fn sequence(
    inputs: &[InputPlan],
    beat_s: f64,
    section_bars: u32,
    crossfade_s: f64,
    max_duration_s: f64,
) -> Vec<Segment> {
    let half = crossfade_s / 2.0;
    let bar_s = f64::from(BEATS_PER_BAR) * beat_s;
    let origin = inputs.first().map_or(0.0, |i| i.first_beat_s);
    let mut next = inputs.iter().map(|i| i.first_beat_s).collect::<Vec<f64>>();
    // (input, where in it the section starts, where in the output, bars).
    let mut slots: Vec<(usize, f64, f64, u32)> = Vec::new();
    let mut at = origin;
    'rounds: loop {
        let mut any = false;
        for (index, input) in inputs.iter().enumerate() {
            let left = input.stretched_s - next[index];
            // The very first section always plays, however short.
            if left < beat_s && !slots.is_empty() {
                continue;
            }
            if at >= max_duration_s {
                break 'rounds;
            }
            let bars = ((left / bar_s).ceil().max(1.0) as u32).min(section_bars);
            slots.push((index, next[index], at, bars));
            next[index] += f64::from(bars) * bar_s;
            at += f64::from(bars) * bar_s;
            any = true;
        }
        if !any {
            break;
        }
    }

    let mut segments: Vec<Segment> = Vec::with_capacity(slots.len());
    for (k, &(index, from, start, bars)) in slots.iter().enumerate() {
        let first = k == 0;
        let last = k + 1 == slots.len();
        let (source_s, start_s) = if first {
            (0.0, 0.0)
        } else {
            (from - half, start - half)
        };
        let end = if last {
            // The input plays out, release tail and all.
            start + (inputs[index].stretched_s - from).max(0.0)
        } else {
            start + f64::from(bars) * bar_s + half
        };
        // A section that follows one of the same input continues it seamlessly.
        if let Some(previous) = segments.last_mut()
            && previous.input == index
            && ((previous.source_s - previous.start_s) - (source_s - start_s)).abs() < 1e-9
        {
            previous.duration_s = end - previous.start_s;
            previous.fade_out_s = if last { 0.0 } else { crossfade_s };
            continue;
        }
        segments.push(Segment {
            input: index,
            source_s,
            start_s,
            duration_s: end - start_s,
            fade_in_s: if first { 0.0 } else { crossfade_s },
            fade_out_s: if last { 0.0 } else { crossfade_s },
        });
    }
    segments
}

impl Mashup {
    /// Checks the parameters, analyses the inputs and decides the tempo, the
    /// keys, every input's stretch and shift and where its audio goes,
    /// without rendering anything.
    pub fn plan(
        &self,
        inputs: &[GenInput],
        params: &Params,
        job: &dyn Job,
    ) -> Result<MashupPlan, GenerateError> {
        check_inputs(self.name(), inputs, &self.limits())?;
        let s = settings(params, inputs)?;
        let found = analyse_inputs(inputs, &s, job)?;
        Ok(make_plan(&s, &found))
    }
}

/// How much of an input a mashup can use: the output cap at the fastest
/// stretch, and a second more for the stretcher.
fn source_seconds(s: &Settings) -> f64 {
    s.max_duration_s * SQRT_2 + 1.0
}

fn analyse_inputs(
    inputs: &[GenInput],
    s: &Settings,
    job: &dyn Job,
) -> Result<Vec<Found>, GenerateError> {
    let keep = source_seconds(s);
    let mut found = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.iter().enumerate() {
        if job.cancelled() {
            return Err(GenerateError::Cancelled);
        }
        let mix = head(&input.mix, keep);
        let analysis = analyse(&mix)?;
        let beat = analysis
            .tempo
            .filter(|t| t.confidence >= TEMPO_CONFIDENCE_MIN)
            .map(|t| (t.bpm, t.first_beat_s));
        let key = analysis
            .key
            .filter(|k| k.confidence >= KEY_CONFIDENCE_MIN)
            .map(|k| k.key);
        found.push(Found {
            beat,
            key,
            seconds: mix.duration().as_secs_f64(),
        });
        job.progress((i + 1) as f32 / inputs.len() as f32);
    }
    Ok(found)
}

impl Generator for Mashup {
    fn name(&self) -> &'static str {
        "mashup"
    }

    fn description(&self) -> &'static str {
        "Combines two to four recordings: matched in tempo and key, aligned on the beat, layered or played in turn with crossfades."
    }

    fn use_type(&self) -> UseType {
        UseType::Mashup
    }

    fn params_schema(&self) -> Value {
        let out_s = MASHUP_OUTPUT_SECONDS_MAX as f64;
        let inputs = format!("^[1-{MASHUP_INPUTS_MAX}]$");
        let gain = number_schema(
            0.0,
            GAIN_MAX,
            Some(1.0),
            "Linear gain for this input after loudness matching: 0 mutes it, 1 keeps it level with the others, 2 is about 6 dB louder.",
        );
        let stems = json!({
            "oneOf": [
                {"type": "string", "description": "Stem names separated by commas, e.g. \"vocals,drums\"."},
                {"type": "array", "items": {"type": "string"}, "minItems": 1, "description": "Stem names."},
            ],
            "description": "The stems of this input to play instead of its full mix; the input must have them. Its tempo and key are still found from the full mix.",
        });
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "mashup parameters",
            "type": "object",
            "properties": {
                "mode": {
                    "type": "string", "enum": ["layer", "sequence"], "default": "layer",
                    "description": "layer plays every input at once, aligned on the beat; sequence plays sections of each input in turn, crossfaded on the beat.",
                },
                "tempo_bpm": number_schema(TEMPO_BPM_MIN, TEMPO_BPM_MAX, None,
                    "The output tempo in beats per minute (default: the first input's). Each input is stretched to it, counting half or double tempo as the same pulse, so none is stretched by more than a factor of 1.41."),
                "key": {
                    "type": "string", "default": "auto",
                    "description": "The key to match: auto (the first input's), keep (shift nothing), or a key such as \"A minor\", \"F#m\" or \"Bb major\". Each input moves at most 6 semitones, to this key, its relative major or minor, or a neighbour on the circle of fifths.",
                },
                "gains": {
                    "type": "object",
                    "description": "Gains by input number from 1 (for example {\"1\": 1, \"2\": 0.5}); the same gains may be given as gain.<n> parameters. Inputs are loudness-matched first.",
                    "propertyNames": {"pattern": inputs},
                    "additionalProperties": gain,
                },
                "stems": {
                    "type": "object",
                    "description": "Stems to play by input number from 1 (for example {\"2\": \"vocals\"}); the same choices may be given as stems.<n> parameters. Inputs not named play their full mix.",
                    "propertyNames": {"pattern": inputs},
                    "additionalProperties": stems,
                },
                "section_bars": {
                    "type": "integer", "minimum": 1, "maximum": SECTION_BARS_MAX as u64, "default": SECTION_BARS_DEFAULT as u64,
                    "description": "sequence mode: how many bars (of four beats) each section lasts.",
                },
                "crossfade_beats": number_schema(0.0, CROSSFADE_BEATS_MAX, Some(CROSSFADE_BEATS_DEFAULT),
                    "sequence mode: the length of each crossfade between sections, in beats, centred on the bar line (at most one section)."),
                "fade_in_s": number_schema(0.0, FADE_SECONDS_MAX, Some(0.0), "Fade-in length, in seconds of output."),
                "fade_out_s": number_schema(0.0, FADE_SECONDS_MAX, Some(0.0), "Fade-out length, in seconds of output."),
                "max_duration_s": number_schema(MAX_DURATION_SECONDS_MIN, out_s, Some(out_s),
                    "The longest output, in seconds; longer results are cut (with the fade-out, if any, at the cut)."),
            },
            "patternProperties": {
                format!("^gain\\.[1-{MASHUP_INPUTS_MAX}]$"): gain,
                format!("^stems\\.[1-{MASHUP_INPUTS_MAX}]$"): stems,
            },
            "additionalProperties": false,
        })
    }

    fn limits(&self) -> Limits {
        // One input at a time: its analysis copy (mono f32 at 22,050 Hz), then
        // its prepared source (stereo f32 at 44.1 kHz, at most √2 times the
        // output cap) and the stretched result, plus the output; the inputs
        // themselves are the caller's.
        let second_bytes = u64::from(OUTPUT_SAMPLE_RATE) * 2 * 4;
        let analysis_second_bytes = u64::from(crate::analysis::ANALYSIS_SAMPLE_RATE) * 4;
        let source_s = (MASHUP_OUTPUT_SECONDS_MAX as f64 * SQRT_2).ceil() as u64 + 1;
        Limits {
            inputs_min: INPUTS_MIN,
            inputs_max: MASHUP_INPUTS_MAX,
            input_duration_max_ms: MASHUP_INPUT_SECONDS_MAX * 1000,
            output_duration_max_ms: MASHUP_OUTPUT_SECONDS_MAX * 1000,
            memory_bytes_estimate: second_bytes * (source_s + MASHUP_OUTPUT_SECONDS_MAX * 2)
                + analysis_second_bytes * source_s,
        }
    }

    fn run(
        &self,
        inputs: &[GenInput],
        params: &Params,
        seed: u64,
        job: &dyn Job,
    ) -> Result<GenOutput, GenerateError> {
        check_inputs(self.name(), inputs, &self.limits())?;
        let s = settings(params, inputs)?;
        job.progress(0.0);
        let found = analyse_inputs(inputs, &s, &Stage::new(job, 0.0, 0.25))?;
        let plan = make_plan(&s, &found);
        let rate = f64::from(OUTPUT_SAMPLE_RATE);
        let out_frames = (plan.duration_s * rate).round() as usize;
        let mut out = vec![vec![0.0f32; out_frames]; 2];
        let keep = source_seconds(&s);

        let span = 0.7 / inputs.len() as f32;
        for (index, (input, p)) in inputs.iter().zip(&plan.inputs).enumerate() {
            if job.cancelled() {
                return Err(GenerateError::Cancelled);
            }
            let segments: Vec<&Segment> =
                plan.segments.iter().filter(|g| g.input == index).collect();
            if segments.is_empty() || s.gains[index] == 0.0 {
                continue;
            }
            // The stretched input as far as its last segment reaches in the output.
            let needed_s = segments
                .iter()
                .map(|g| g.source_s + g.duration_s.min(plan.duration_s - g.start_s))
                .fold(0.0, f64::max)
                .min(p.stretched_s);
            let source_s = (needed_s * p.stretch + 1.0).min(keep);
            let source = match &s.stems[index] {
                None => prepare(&head(&input.mix, source_s))?,
                Some(names) => mix_stems(input, names, source_s)?,
            };
            let stage_start = 0.25 + span * index as f32;
            let stretched = if p.stretch != 1.0 || p.semitones != 0 {
                stretch(
                    &source,
                    p.stretch,
                    f64::from(p.semitones),
                    seed,
                    &Stage::new(job, stage_start, stage_start + span * 0.9),
                )?
            } else {
                source
            };
            let gain = match_gain(&stretched)? * s.gains[index];
            for g in segments {
                place(&mut out, &stretched, g, gain);
            }
            job.progress(stage_start + span);
        }
        if job.cancelled() {
            return Err(GenerateError::Cancelled);
        }

        let mut audio = Audio::from_planar(out, OUTPUT_SAMPLE_RATE)?;
        let cut = plan
            .segments
            .iter()
            .any(|g| g.start_s + g.duration_s > plan.duration_s + 1e-9);
        let mut fade_out = (s.fade_out_s * rate).round() as usize;
        if cut {
            fade_out = fade_out.max((JOIN_RAMP_SECONDS * rate) as usize);
        }
        fade(&mut audio, (s.fade_in_s * rate).round() as usize, fade_out);
        job.progress(0.97);
        let audio = finish_audio(audio)?;
        job.progress(1.0);
        Ok(GenOutput {
            audio,
            midi: None,
            notes: None,
        })
    }
}

/// The gain that brings `audio` to [`MATCH_LUFS`] (1 for silence), at most
/// [`MATCH_GAIN_MAX_DB`] up.
fn match_gain(audio: &Audio) -> Result<f32, GenerateError> {
    let loudness = measure_loudness(audio)?.integrated_lufs;
    if !loudness.is_finite() || loudness <= SILENCE_GATE_LUFS {
        return Ok(1.0);
    }
    let db = (MATCH_LUFS - loudness).min(MATCH_GAIN_MAX_DB);
    Ok(10f64.powf(db / 20.0) as f32)
}

/// The named stems of `input` (their first `seconds`), each prepared, summed;
/// as long as the longest.
fn mix_stems(input: &GenInput, names: &[String], seconds: f64) -> Result<Audio, GenerateError> {
    let mut sum: Vec<Vec<f32>> = vec![Vec::new(), Vec::new()];
    for name in names {
        let Some(stem) = input.stems.get(name) else {
            continue;
        };
        let stem = prepare(&head(stem, seconds))?;
        for (acc, channel) in sum.iter_mut().zip(stem.channels()) {
            if acc.len() < channel.len() {
                acc.resize(channel.len(), 0.0);
            }
            for (a, s) in acc.iter_mut().zip(channel) {
                *a += s;
            }
        }
    }
    Ok(Audio::from_planar(sum, OUTPUT_SAMPLE_RATE)?)
}

/// Adds `segment` of `source` into `out` with `gain` and its equal-power fades.
fn place(out: &mut [Vec<f32>], source: &Audio, segment: &Segment, gain: f32) {
    let rate = f64::from(OUTPUT_SAMPLE_RATE);
    let start = (segment.start_s * rate).round() as i64;
    let offset = (segment.source_s * rate).round() as i64 - start;
    let length = (segment.duration_s * rate).round() as i64;
    let fade_in = ((segment.fade_in_s * rate).round() as i64).clamp(0, length);
    let fade_out = ((segment.fade_out_s * rate).round() as i64).clamp(0, length);
    for (channel, from) in out.iter_mut().zip(source.channels()) {
        let end = (start + length).min(channel.len() as i64);
        for t in start.max(0)..end {
            let Some(&sample) = usize::try_from(t + offset).ok().and_then(|i| from.get(i)) else {
                continue;
            };
            let k = t - start;
            let mut g = f64::from(gain);
            if k < fade_in {
                g *= ((k as f64 + 0.5) / fade_in as f64 * FRAC_PI_2).sin();
            }
            let left = length - 1 - k;
            if left < fade_out {
                g *= ((left as f64 + 0.5) / fade_out as f64 * FRAC_PI_2).sin();
            }
            if let Some(slot) = usize::try_from(t).ok().and_then(|i| channel.get_mut(i)) {
                *slot += (g as f32) * sample;
            }
        }
    }
}

/// Linear fades over the first `fade_in` and last `fade_out` frames (each at most the whole).
fn fade(audio: &mut Audio, fade_in: usize, fade_out: usize) {
    let frames = audio.frames();
    let fade_in = fade_in.min(frames);
    let fade_out = fade_out.min(frames);
    for channel in audio.channels_mut() {
        for (i, s) in channel.iter_mut().take(fade_in).enumerate() {
            *s *= i as f32 / fade_in as f32;
        }
        for (i, s) in channel.iter_mut().rev().take(fade_out).enumerate() {
            *s *= i as f32 / fade_out as f32;
        }
    }
}
