//! `remix`: one recording's tempo, key, stem balance, a looped section, fades
//! and a length cap.

use serde_json::{Value, json};

use super::params::{Reader, number_in, number_schema};
use super::stretch::stretch;
use super::{
    GenInput, GenOutput, GenerateError, Generator, Job, Limits, OUTPUT_SAMPLE_RATE, Params, Stage,
    UseType, check_inputs, finish_audio, prepare,
};
use crate::audio::Audio;

/// The longest input remix accepts, in seconds.
pub const REMIX_INPUT_SECONDS_MAX: u64 = 600;
/// The longest output remix produces, in seconds (and the most `max_duration_s` may ask).
pub const REMIX_OUTPUT_SECONDS_MAX: u64 = 600;

const TEMPO_MIN: f64 = 0.5;
const TEMPO_MAX: f64 = 2.0;
const SEMITONES_MAX: f64 = 12.0;
const STEM_GAIN_MAX: f64 = 4.0;
const LOOP_REPEATS_MAX: f64 = 64.0;
const LOOP_SECONDS_MIN: f64 = 0.1;
const FADE_SECONDS_MAX: f64 = 60.0;
const MAX_DURATION_SECONDS_MIN: f64 = 1.0;
/// Ramp at each end of a looped section and at a cut, so joins do not click.
const JOIN_RAMP_SECONDS: f64 = 0.005;

const PARAMS: &[&str] = &[
    "tempo",
    "semitones",
    "stems (or stem.<name>)",
    "loop_start_s",
    "loop_end_s",
    "loop_repeats",
    "fade_in_s",
    "fade_out_s",
    "max_duration_s",
];

/// Reworks one recording: tempo without changing pitch, key without changing
/// tempo (both with Signalsmith Stretch), stem gains and mutes, a section
/// repeated as a loop, fades in and out, and an output length cap.
///
/// Processing order: stems are mixed with their gains (when any gain is
/// given; otherwise the full mix is used), the loop section is cut from the
/// original timeline and repeated, tempo and key are changed together in one
/// pass, the result is cut to `max_duration_s`, faded, and normalised.
#[derive(Clone, Debug, Default)]
pub struct Remix;

impl Remix {
    /// The remix generator.
    pub fn new() -> Self {
        Remix
    }
}

/// Remix parameters, checked.
struct Settings {
    tempo: f64,
    semitones: f64,
    /// (stem name, gain), only when at least one gain was given.
    stem_gains: Vec<(String, f32)>,
    /// Start and end (exclusive, `None` for the end of the recording) in
    /// seconds of the original, and repeats, when a loop was asked for.
    looped: Option<(f64, Option<f64>, usize)>,
    fade_in_s: f64,
    fade_out_s: f64,
    max_duration_s: f64,
}

fn settings(params: &Params, input: &GenInput) -> Result<Settings, GenerateError> {
    let mut r = Reader::new("remix", params);
    let tempo = r.number_or("tempo", 1.0, TEMPO_MIN, TEMPO_MAX)?;
    let semitones = r.number_or("semitones", 0.0, -SEMITONES_MAX, SEMITONES_MAX)?;

    let mut stem_gains: Vec<(String, f32)> = Vec::new();
    for (name, stem, value) in r.keyed("stem.", "stems")? {
        if !input.stems.contains_key(&stem) {
            return Err(GenerateError::UnknownStem {
                name,
                stem,
                available: input.stems.keys().cloned().collect(),
            });
        }
        let gain = number_in(&name, value, 0.0, STEM_GAIN_MAX)?;
        stem_gains.retain(|(s, _)| *s != stem);
        stem_gains.push((stem, gain as f32));
    }
    if !stem_gains.is_empty() {
        // Every stem plays; those not named keep their level.
        for name in input.stems.keys() {
            if !stem_gains.iter().any(|(s, _)| s == name) {
                stem_gains.push((name.clone(), 1.0));
            }
        }
        stem_gains.sort_by(|a, b| a.0.cmp(&b.0));
    }

    let input_s = REMIX_INPUT_SECONDS_MAX as f64;
    let loop_start = r.number("loop_start_s", 0.0, input_s)?;
    let loop_end = r.number("loop_end_s", 0.0, input_s)?;
    let repeats = r.number("loop_repeats", 1.0, LOOP_REPEATS_MAX)?;
    if let Some(n) = repeats
        && n.fract() != 0.0
    {
        return Err(GenerateError::invalid(
            "loop_repeats",
            format!("loop_repeats must be a whole number from 1 to {LOOP_REPEATS_MAX}, not {n}"),
        ));
    }
    let looped = if loop_start.is_some() || loop_end.is_some() || repeats.is_some() {
        let start = loop_start.unwrap_or(0.0);
        let duration_s = input.mix.duration().as_secs_f64();
        if start + LOOP_SECONDS_MIN > duration_s {
            return Err(GenerateError::invalid(
                "loop_start_s",
                format!(
                    "loop_start_s must be at least {LOOP_SECONDS_MIN} s before the end of the recording ({duration_s:.2} s), not {start}"
                ),
            ));
        }
        if let Some(end) = loop_end
            && end < start + LOOP_SECONDS_MIN
        {
            return Err(GenerateError::invalid(
                "loop_end_s",
                format!(
                    "loop_end_s must be at least {LOOP_SECONDS_MIN} s after loop_start_s ({start}), not {end}"
                ),
            ));
        }
        Some((start, loop_end, repeats.unwrap_or(1.0) as usize))
    } else {
        None
    };

    let fade_in_s = r.number_or("fade_in_s", 0.0, 0.0, FADE_SECONDS_MAX)?;
    let fade_out_s = r.number_or("fade_out_s", 0.0, 0.0, FADE_SECONDS_MAX)?;
    let out_max = REMIX_OUTPUT_SECONDS_MAX as f64;
    let max_duration_s =
        r.number_or("max_duration_s", out_max, MAX_DURATION_SECONDS_MIN, out_max)?;
    r.finish(PARAMS)?;
    Ok(Settings {
        tempo,
        semitones,
        stem_gains,
        looped,
        fade_in_s,
        fade_out_s,
        max_duration_s,
    })
}

impl Generator for Remix {
    fn name(&self) -> &'static str {
        "remix"
    }

    fn description(&self) -> &'static str {
        "Reworks one recording: tempo, key, stem levels, a looped section, fades and a length cap."
    }

    fn use_type(&self) -> UseType {
        UseType::Remix
    }

    fn params_schema(&self) -> Value {
        let input_s = REMIX_INPUT_SECONDS_MAX as f64;
        let out_s = REMIX_OUTPUT_SECONDS_MAX as f64;
        let stem_gain = number_schema(
            0.0,
            STEM_GAIN_MAX,
            Some(1.0),
            "Linear gain for this stem: 0 mutes it, 1 keeps it, 1.5 is about 3.5 dB louder.",
        );
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "remix parameters",
            "type": "object",
            "properties": {
                "tempo": number_schema(TEMPO_MIN, TEMPO_MAX, Some(1.0),
                    "Tempo as a ratio of the original, without changing pitch: 1.25 is 25% faster (and 20% shorter), 0.5 half speed."),
                "semitones": number_schema(-SEMITONES_MAX, SEMITONES_MAX, Some(0.0),
                    "Key change in semitones, without changing tempo: 2 is a whole tone up, -12 an octave down."),
                "stems": {
                    "type": "object",
                    "description": "Gains by stem name (for example {\"drums\": 0, \"bass\": 1.5}); the recording must have the stems named. When any is given the output is remixed from the stems, unnamed ones at gain 1. The same gains may be given as stem.<name> parameters.",
                    "additionalProperties": stem_gain,
                },
                "loop_start_s": number_schema(0.0, input_s, Some(0.0),
                    "Start of the section to loop, in seconds of the original recording."),
                "loop_end_s": number_schema(0.0, input_s, None,
                    "End of the section to loop, in seconds of the original recording (default: its end); at least 0.1 s after loop_start_s."),
                "loop_repeats": {
                    "type": "integer", "minimum": 1, "maximum": LOOP_REPEATS_MAX as u64, "default": 1,
                    "description": "How many times the section plays. Giving any loop parameter makes the output the section repeated.",
                },
                "fade_in_s": number_schema(0.0, FADE_SECONDS_MAX, Some(0.0), "Fade-in length, in seconds of output."),
                "fade_out_s": number_schema(0.0, FADE_SECONDS_MAX, Some(0.0), "Fade-out length, in seconds of output."),
                "max_duration_s": number_schema(MAX_DURATION_SECONDS_MIN, out_s, Some(out_s),
                    "The longest output, in seconds; longer results are cut (with the fade-out, if any, at the cut)."),
            },
            "patternProperties": {
                "^stem\\.[^.]+$": stem_gain,
            },
            "additionalProperties": false,
        })
    }

    fn limits(&self) -> Limits {
        // Stereo f32 at 44.1 kHz: the decoded input, its prepared copy, the
        // looped copy and the stretched output, plus the stretcher's buffers.
        let second_bytes = u64::from(OUTPUT_SAMPLE_RATE) * 2 * 4;
        Limits {
            inputs_min: 1,
            inputs_max: 1,
            input_duration_max_ms: REMIX_INPUT_SECONDS_MAX * 1000,
            output_duration_max_ms: REMIX_OUTPUT_SECONDS_MAX * 1000,
            memory_bytes_estimate: second_bytes
                * (REMIX_INPUT_SECONDS_MAX * 3 + REMIX_OUTPUT_SECONDS_MAX * 2),
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
        let input = &inputs[0];
        let s = settings(params, input)?;
        let rate = f64::from(OUTPUT_SAMPLE_RATE);

        let source = if s.stem_gains.is_empty() {
            prepare(&input.mix)?
        } else {
            mix_stems(input, &s.stem_gains)?
        };
        if job.cancelled() {
            return Err(GenerateError::Cancelled);
        }
        job.progress(0.05);

        // Only as much source as the capped output can use is kept, so long
        // loops and slow tempos cannot grow memory past the output limit.
        let out_cap = (s.max_duration_s * rate).round() as usize;
        let source_cap = ((out_cap as f64) * s.tempo).ceil() as usize + OUTPUT_SAMPLE_RATE as usize;
        let source = match s.looped {
            Some((start_s, end_s, repeats)) => {
                let start = ((start_s * rate).round() as usize).min(source.frames());
                let end = end_s
                    .map_or(source.frames(), |e| (e * rate).round() as usize)
                    .min(source.frames());
                loop_section(&source, start, end.max(start), repeats, source_cap)
            }
            None => truncate(source, source_cap),
        };

        let mut out = if s.tempo != 1.0 || s.semitones != 0.0 {
            stretch(
                &source,
                s.tempo,
                s.semitones,
                seed,
                &Stage::new(job, 0.05, 0.9),
            )?
        } else {
            source
        };
        if job.cancelled() {
            return Err(GenerateError::Cancelled);
        }
        let cut = out.frames() > out_cap;
        out = truncate(out, out_cap);
        let ramp = (JOIN_RAMP_SECONDS * rate) as usize;
        let fade_in = (s.fade_in_s * rate).round() as usize;
        let mut fade_out = (s.fade_out_s * rate).round() as usize;
        if cut {
            fade_out = fade_out.max(ramp);
        }
        fade(&mut out, fade_in, fade_out);
        job.progress(0.92);
        let audio = finish_audio(out)?;
        job.progress(1.0);
        Ok(GenOutput {
            audio,
            midi: None,
            notes: None,
        })
    }
}

/// The stems, each prepared, summed with their gains; as long as the longest.
fn mix_stems(input: &GenInput, gains: &[(String, f32)]) -> Result<Audio, GenerateError> {
    let mut sum: Vec<Vec<f32>> = vec![Vec::new(), Vec::new()];
    for (name, gain) in gains {
        let Some(stem) = input.stems.get(name) else {
            continue;
        };
        if *gain == 0.0 {
            continue;
        }
        let stem = prepare(stem)?;
        for (acc, channel) in sum.iter_mut().zip(stem.channels()) {
            if acc.len() < channel.len() {
                acc.resize(channel.len(), 0.0);
            }
            for (a, s) in acc.iter_mut().zip(channel) {
                *a += gain * s;
            }
        }
    }
    // All stems muted: silence as long as the mix would be after resampling.
    let mix_frames = (input.mix.frames() as u64 * u64::from(OUTPUT_SAMPLE_RATE))
        .div_ceil(u64::from(input.mix.sample_rate().max(1)));
    let frames = sum[0]
        .len()
        .max(usize::try_from(mix_frames).unwrap_or(usize::MAX));
    for channel in &mut sum {
        channel.resize(frames, 0.0);
    }
    Ok(Audio::from_planar(sum, OUTPUT_SAMPLE_RATE)?)
}

/// `audio[start..end]` repeated `repeats` times (at most `cap` frames), each
/// repetition ramped in and out over 5 ms so the joins do not click.
fn loop_section(audio: &Audio, start: usize, end: usize, repeats: usize, cap: usize) -> Audio {
    let len = end - start;
    let total = (len * repeats).min(cap);
    let ramp = ((JOIN_RAMP_SECONDS * f64::from(OUTPUT_SAMPLE_RATE)) as usize).min(len / 2);
    let channels = audio
        .channels()
        .iter()
        .map(|c| {
            let mut section = c[start..end].to_vec();
            for i in 0..ramp {
                let g = i as f32 / ramp as f32;
                section[i] *= g;
                section[len - 1 - i] *= g;
            }
            section.iter().copied().cycle().take(total).collect()
        })
        .collect();
    Audio::from_parts(channels, audio.sample_rate())
}

fn truncate(audio: Audio, frames: usize) -> Audio {
    if audio.frames() <= frames {
        return audio;
    }
    let rate = audio.sample_rate();
    let channels = audio
        .into_planar()
        .into_iter()
        .map(|mut c| {
            c.truncate(frames);
            c
        })
        .collect();
    Audio::from_parts(channels, rate)
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
