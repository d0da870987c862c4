//! Renders the demo catalogue's music through a General MIDI SoundFont.
//!
//! encore's demo ships songs that the program composes and renders itself, so
//! the catalogue is free of third-party recordings and is reproducible: the
//! same [`SongSpec`] always produces the same notes.  Each stem is played by
//! its own synthesiser so that drums, bass, keys and lead can be delivered as
//! separate files that sum exactly to the mix.

mod catalog;
mod compose;
mod style;
mod theory;
mod wav;

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustysynth::{SoundFont, Synthesizer, SynthesizerSettings};

pub use catalog::demo_songs;
pub use style::Style;
pub use theory::{Chord, Mode, Quality, chord};
pub use wav::encode_wav_i16;
pub(crate) use wav::encode_wav_i16_channels;

use compose::{Note, Score, compose};
use style::{Profile, Swing};

/// Where Debian's `fluid-soundfont-gm` package installs its SoundFont.
pub const DEFAULT_SOUNDFONT_PATH: &str = "/usr/share/sounds/sf2/FluidR3_GM.sf2";

/// Output sample rate of every rendered file.
pub const SAMPLE_RATE: u32 = 44_100;

/// Frames rendered between event checks; 64 frames (1.5 ms) is finer than
/// a listener can hear and matches the synthesiser's internal block.
const BLOCK: usize = 64;
/// Silence left after the last note so releases and reverb decay naturally.
pub(crate) const TAIL_SECS: f64 = 1.6;
/// The last part of the tail fades out so no file ends on a click.
pub(crate) const FADE_SECS: f64 = 0.25;
/// Mix peak after normalisation: -1 dBFS.
pub(crate) const TARGET_PEAK: f32 = 0.891_250_9;

/// Why the synthesiser could not produce a song.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// The SoundFont file could not be opened or read.
    #[error(
        "the SoundFont {} could not be opened ({source}): install the fluid-soundfont-gm package (apt-get install fluid-soundfont-gm) or give the path of another General MIDI SoundFont",
        path.display()
    )]
    SoundFontUnavailable {
        /// The path that was tried.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The file exists but is not a usable SoundFont.
    #[error(
        "the file {} is not a usable SoundFont ({detail}): reinstall the fluid-soundfont-gm package or give the path of another General MIDI SoundFont",
        path.display()
    )]
    SoundFontInvalid {
        /// The path that was read.
        path: PathBuf,
        /// What the SoundFont parser reported.
        detail: String,
    },
    /// The song description cannot be played.
    #[error("the song \"{title}\" cannot be rendered: {reason}")]
    InvalidSong {
        /// Title of the offending song.
        title: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The synthesiser refused to start or a render thread failed.
    #[error("the synthesiser failed: {0}")]
    Synth(String),
}

/// A loaded SoundFont, cheap to clone and share between render threads.
#[derive(Clone)]
pub struct SoundFontBank(Arc<SoundFont>);

impl std::fmt::Debug for SoundFontBank {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The sample data runs to hundreds of megabytes, so only summarise it.
        f.debug_struct("SoundFontBank")
            .field("presets", &self.0.get_presets().len())
            .finish()
    }
}

impl SoundFontBank {
    /// Reads and parses a SoundFont (`.sf2`) file.
    pub fn load(path: &Path) -> Result<Self, SynthError> {
        let file = File::open(path).map_err(|source| SynthError::SoundFontUnavailable {
            path: path.to_path_buf(),
            source,
        })?;
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let font = SoundFont::new(&mut reader).map_err(|e| SynthError::SoundFontInvalid {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })?;
        if font.get_presets().is_empty() {
            return Err(SynthError::SoundFontInvalid {
                path: path.to_path_buf(),
                detail: "it contains no presets".to_owned(),
            });
        }
        Ok(SoundFontBank(Arc::new(font)))
    }
}

/// General MIDI programs for each stem, plus register adjustments.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Instruments {
    /// Drum kit on the percussion channel (0 standard, 8 room, 16 power,
    /// 24 electronic, 25 TR-808, 32 jazz, 40 brush, 48 orchestra).
    pub drum_kit: u8,
    /// GM program of the bass (0-based, e.g. 33 fingered bass).
    pub bass: u8,
    /// GM program of the chord instrument (e.g. 0 grand piano, 89 warm pad).
    pub keys: u8,
    /// GM program of the melody instrument (e.g. 73 flute).
    pub lead: u8,
    /// Octaves to move the bass up from the E1-D#2 range (synth basses sit higher).
    pub bass_octave: i8,
    /// Octaves to move the melody from its default range around C5.
    pub lead_octave: i8,
}

impl Instruments {
    /// Instruments at their default registers.
    pub const fn new(drum_kit: u8, bass: u8, keys: u8, lead: u8) -> Self {
        Instruments {
            drum_kit,
            bass,
            keys,
            lead,
            bass_octave: 0,
            lead_octave: 0,
        }
    }

    /// Moves the bass by whole octaves.
    pub const fn bass_octave(mut self, octaves: i8) -> Self {
        self.bass_octave = octaves;
        self
    }

    /// Moves the melody by whole octaves.
    pub const fn lead_octave(mut self, octaves: i8) -> Self {
        self.lead_octave = octaves;
        self
    }
}

/// Everything needed to compose and render one song.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SongSpec {
    /// Display title.
    pub title: &'static str,
    /// Tempo in quarter-note beats per minute.
    pub tempo_bpm: u32,
    /// Display key, e.g. "A minor"; must agree with `tonic` and `mode`.
    pub key: &'static str,
    /// Length in bars, including the final held chord.
    pub bars: u32,
    /// Pitch class of the tonic, 0 = C .. 11 = B.
    pub tonic: u8,
    /// Scale of the melody and quality of the final chord.
    pub mode: Mode,
    /// Chords relative to the tonic, cycled through the song.
    pub progression: &'static [Chord],
    /// How many bars each chord of the progression lasts.
    pub bars_per_chord: u32,
    /// Genre template: grooves, bass figure, comping, feel and meter.
    pub style: Style,
    /// GM programs of the stems.
    pub instruments: Instruments,
    /// Seed of the composer's random choices.
    pub seed: u64,
}

impl SongSpec {
    /// Beats per bar, which the style decides (3 for the waltz, otherwise 4).
    pub fn beats_per_bar(&self) -> u32 {
        self.style.profile().steps_per_bar / 4
    }

    /// Seconds of one bar at this tempo.
    fn bar_seconds(&self) -> f64 {
        f64::from(self.beats_per_bar()) * 60.0 / f64::from(self.tempo_bpm.max(1))
    }

    /// Bars actually rendered when limited to `seconds_max` (never fewer than one).
    pub fn bars_within(&self, seconds_max: Option<u32>) -> u32 {
        match seconds_max {
            None => self.bars.max(1),
            Some(limit) => {
                let fit = (f64::from(limit) / self.bar_seconds()).floor() as u32;
                self.bars.min(fit).max(1)
            }
        }
    }

    /// Length of the music without the release tail, in seconds.
    pub fn nominal_seconds(&self, seconds_max: Option<u32>) -> f64 {
        f64::from(self.bars_within(seconds_max)) * self.bar_seconds()
    }

    /// Rejects specs the composer cannot play, with a reason a person can act on.
    fn validate(&self) -> Result<(), SynthError> {
        let fail = |reason: &str| {
            Err(SynthError::InvalidSong {
                title: self.title.to_owned(),
                reason: reason.to_owned(),
            })
        };
        if !(20..=300).contains(&self.tempo_bpm) {
            return fail("the tempo must be between 20 and 300 bpm");
        }
        if self.bars == 0 || self.bars > 512 {
            return fail("the length must be between 1 and 512 bars");
        }
        if self.tonic > 11 || self.progression.iter().any(|c| c.root > 11) {
            return fail("pitch classes must be between 0 (C) and 11 (B)");
        }
        if self.progression.is_empty() || self.bars_per_chord == 0 {
            return fail("the chord progression must have at least one chord lasting a bar");
        }
        Ok(())
    }
}

/// One rendered stem.
#[derive(Clone, Debug)]
pub struct RenderedStem {
    /// Stem name: "drums", "bass", "keys" or "lead".
    pub name: String,
    /// 16-bit stereo WAV at [`SAMPLE_RATE`], scaled by the same gain as the mix.
    pub wav: Vec<u8>,
}

/// A rendered song: its stems and their sum.
#[derive(Clone, Debug)]
pub struct RenderedSong {
    /// Drums, bass, keys and lead, in that order; they sum to the mix.
    pub stems: Vec<RenderedStem>,
    /// 16-bit stereo WAV of the full mix, peak-normalised to -1 dBFS.
    pub mix_wav: Vec<u8>,
    /// Length of every file, including the release tail.
    pub duration_ms: u64,
    /// Sample rate of every file.
    pub sample_rate: u32,
}

/// MIDI setup and notes for one stem's synthesiser.
struct StemPlan<'a> {
    name: &'static str,
    channel: i32,
    program: u8,
    pan: u8,
    reverb: u8,
    chorus: u8,
    /// Fraction of each note's written length that is actually held.
    articulation: f64,
    notes: &'a [Note],
}

/// Composes `spec` and renders it to a mix and four stems.
///
/// `seconds_max` keeps only as many whole bars as fit in that many seconds
/// (at least one), which keeps tests quick; the ending and release tail are
/// still added.
pub fn render_song(
    bank: &SoundFontBank,
    spec: &SongSpec,
    seconds_max: Option<u32>,
) -> Result<RenderedSong, SynthError> {
    spec.validate()?;
    let profile = spec.style.profile();
    let bars = spec.bars_within(seconds_max);
    let score = compose(spec, &profile, bars);
    let step_secs = 15.0 / f64::from(spec.tempo_bpm);
    let music_secs = f64::from(score.total_steps) * step_secs;
    let total_frames = ((music_secs + TAIL_SECS) * f64::from(SAMPLE_RATE)).ceil() as usize;

    let plans = stem_plans(spec, &profile, &score);
    let timing = Timing {
        step_secs,
        swing: profile.swing,
    };
    let rendered: Vec<Result<Vec<f32>, SynthError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = plans
            .iter()
            .map(|plan| scope.spawn(|| render_stem(bank, plan, &timing, total_frames)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(SynthError::Synth(
                        "a stem render thread panicked".to_owned(),
                    ))
                })
            })
            .collect()
    });
    let mut stems: Vec<Vec<f32>> = rendered.into_iter().collect::<Result<_, _>>()?;

    for stem in &mut stems {
        fade_out(stem, (FADE_SECS * f64::from(SAMPLE_RATE)) as usize);
    }
    let gains = balance(&stems, &profile);
    let mut mix = vec![0f32; total_frames * 2];
    for (stem, gain) in stems.iter().zip(&gains) {
        for (m, s) in mix.iter_mut().zip(stem) {
            *m += s * gain;
        }
    }
    let peak = mix.iter().fold(0f32, |p, s| p.max(s.abs()));
    let norm = if peak > 1e-9 { TARGET_PEAK / peak } else { 1.0 };
    for m in &mut mix {
        *m *= norm;
    }

    let stems = stems
        .iter_mut()
        .zip(&gains)
        .zip(&plans)
        .map(|((samples, gain), plan)| {
            let g = gain * norm;
            for s in samples.iter_mut() {
                *s *= g;
            }
            RenderedStem {
                name: plan.name.to_owned(),
                wav: encode_wav_i16(samples, SAMPLE_RATE),
            }
        })
        .collect();

    Ok(RenderedSong {
        stems,
        mix_wav: encode_wav_i16(&mix, SAMPLE_RATE),
        duration_ms: total_frames as u64 * 1000 / u64::from(SAMPLE_RATE),
        sample_rate: SAMPLE_RATE,
    })
}

/// The four stems' channels, programs and mix settings.
fn stem_plans<'a>(spec: &SongSpec, profile: &Profile, score: &'a Score) -> Vec<StemPlan<'a>> {
    let ins = spec.instruments;
    let percussion = Synthesizer::PERCUSSION_CHANNEL as i32;
    vec![
        StemPlan {
            name: "drums",
            channel: percussion,
            program: ins.drum_kit,
            pan: 64,
            reverb: profile.reverb[0],
            chorus: 0,
            articulation: 1.0,
            notes: &score.drums,
        },
        StemPlan {
            name: "bass",
            channel: 0,
            program: ins.bass,
            pan: 64,
            reverb: profile.reverb[1],
            chorus: 0,
            articulation: 0.9,
            notes: &score.bass,
        },
        StemPlan {
            name: "keys",
            channel: 0,
            program: ins.keys,
            pan: 50,
            reverb: profile.reverb[2],
            chorus: 30,
            articulation: 0.95,
            notes: &score.keys,
        },
        StemPlan {
            name: "lead",
            channel: 0,
            program: ins.lead,
            pan: 76,
            reverb: profile.reverb[3],
            chorus: 15,
            articulation: 0.92,
            notes: &score.lead,
        },
    ]
}

/// Maps grid steps to seconds, applying the style's swing.
struct Timing {
    step_secs: f64,
    swing: Swing,
}

impl Timing {
    /// Seconds from the song start to grid position `step`.
    fn seconds(&self, step: f64) -> f64 {
        let warped = match self.swing {
            Swing::Straight => step,
            Swing::Eighths(amount) => swing(step, 2.0, amount),
            Swing::Sixteenths(amount) => swing(step, 1.0, amount),
        };
        warped * self.step_secs
    }
}

/// Delays the off-beat of each pair of `unit`-step notes by `amount` of a unit,
/// stretching the first half and squeezing the second so time stays continuous.
fn swing(step: f64, unit: f64, amount: f64) -> f64 {
    let pair = 2.0 * unit;
    let base = (step / pair).floor() * pair;
    let u = step - base;
    let mid = unit * (1.0 + amount.clamp(0.0, 0.9));
    if u < unit {
        base + u * mid / unit
    } else {
        base + mid + (u - unit) * (pair - mid) / unit
    }
}

/// A note-on or note-off at an absolute frame.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Event {
    /// Frame at [`SAMPLE_RATE`] where the event happens.
    pub frame: usize,
    /// Note-on (`true`) or note-off.
    pub on: bool,
    /// MIDI key number.
    pub key: u8,
    /// MIDI velocity of a note-on.
    pub vel: u8,
}

/// The MIDI set-up of one synthesiser: its channel, program and mix controllers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Voice {
    /// MIDI channel (9 is percussion).
    pub channel: i32,
    /// General MIDI program, 0-based.
    pub program: u8,
    /// Pan controller, 64 is centre.
    pub pan: u8,
    /// Reverb send controller.
    pub reverb: u8,
    /// Chorus send controller.
    pub chorus: u8,
}

/// Renders one stem with its own synthesiser into interleaved stereo samples.
fn render_stem(
    bank: &SoundFontBank,
    plan: &StemPlan<'_>,
    timing: &Timing,
    total_frames: usize,
) -> Result<Vec<f32>, SynthError> {
    let sr = f64::from(SAMPLE_RATE);
    let mut events: Vec<Event> = Vec::with_capacity(plan.notes.len() * 2);
    for n in plan.notes {
        let on = (timing.seconds(n.start) * sr).round() as usize;
        let held = n.dur * plan.articulation;
        let off = ((timing.seconds(n.start + held) * sr).round() as usize).max(on + 1);
        events.push(Event {
            frame: on,
            on: true,
            key: n.key,
            vel: n.vel,
        });
        events.push(Event {
            frame: off,
            on: false,
            key: n.key,
            vel: 0,
        });
    }
    let voice = Voice {
        channel: plan.channel,
        program: plan.program,
        pan: plan.pan,
        reverb: plan.reverb,
        chorus: plan.chorus,
    };
    play_events(bank, voice, events, total_frames)
}

/// Plays `events` on one synthesiser set up as `voice` into interleaved stereo
/// samples at [`SAMPLE_RATE`], `total_frames` frames long.
pub(crate) fn play_events(
    bank: &SoundFontBank,
    voice: Voice,
    mut events: Vec<Event>,
    total_frames: usize,
) -> Result<Vec<f32>, SynthError> {
    let mut settings = SynthesizerSettings::new(SAMPLE_RATE as i32);
    settings.block_size = BLOCK;
    settings.maximum_polyphony = 128;
    let mut synth =
        Synthesizer::new(&bank.0, &settings).map_err(|e| SynthError::Synth(e.to_string()))?;

    let ch = voice.channel;
    synth.process_midi_message(ch, 0xC0, i32::from(voice.program), 0);
    for (controller, value) in [
        (7, 100),
        (10, voice.pan),
        (91, voice.reverb),
        (93, voice.chorus),
    ] {
        synth.process_midi_message(ch, 0xB0, controller, i32::from(value));
    }

    // Offs before ons at the same frame, so a repeated key is released and then struck.
    events.sort_by_key(|e| (e.frame, e.on));

    let mut left = vec![0f32; total_frames];
    let mut right = vec![0f32; total_frames];
    let mut next = 0;
    let mut start = 0;
    while start < total_frames {
        let end = (start + BLOCK).min(total_frames);
        // Events land on the block boundary nearest to their frame.
        while let Some(e) = events.get(next) {
            if e.frame >= start + BLOCK / 2 {
                break;
            }
            if e.on {
                synth.note_on(ch, i32::from(e.key), i32::from(e.vel));
            } else {
                synth.note_off(ch, i32::from(e.key));
            }
            next += 1;
        }
        synth.render(&mut left[start..end], &mut right[start..end]);
        start = end;
    }

    let mut out = Vec::with_capacity(total_frames * 2);
    for (l, r) in left.into_iter().zip(right) {
        out.push(l);
        out.push(r);
    }
    Ok(out)
}

/// Fades the last `frames` frames of interleaved stereo audio to silence.
pub(crate) fn fade_out(samples: &mut [f32], frames: usize) {
    let total = samples.len() / 2;
    let frames = frames.min(total);
    for i in 0..frames {
        let gain = i as f32 / frames.max(1) as f32;
        let frame = total - 1 - i;
        samples[2 * frame] *= gain;
        samples[2 * frame + 1] *= gain;
    }
}

/// Per-stem gains that bring each stem to the style's relative loudness.
///
/// SoundFont presets differ in level by 10 dB or more, so stems are measured
/// (RMS over the windows where they actually play) rather than trusted.
fn balance(stems: &[Vec<f32>], profile: &Profile) -> Vec<f32> {
    const WINDOW: usize = 4410 * 2;
    const SILENT: f64 = 1e-8;
    stems
        .iter()
        .enumerate()
        .map(|(i, stem)| {
            let mut energy = 0.0f64;
            let mut windows = 0usize;
            for w in stem.chunks(WINDOW) {
                let ms = w.iter().map(|&s| f64::from(s) * f64::from(s)).sum::<f64>()
                    / w.len().max(1) as f64;
                if ms > SILENT {
                    energy += ms;
                    windows += 1;
                }
            }
            if windows == 0 {
                return 1.0;
            }
            let rms = (energy / windows as f64).sqrt();
            let target =
                10f64.powf(f64::from(profile.mix_db.get(i).copied().unwrap_or(0.0)) / 20.0);
            (target / rms.max(1e-6)) as f32
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swing_is_continuous_and_fixes_beats() {
        assert!((swing(0.0, 2.0, 0.33) - 0.0).abs() < 1e-9);
        assert!((swing(4.0, 2.0, 0.33) - 4.0).abs() < 1e-9);
        assert!((swing(2.0, 2.0, 0.33) - 2.66).abs() < 1e-9);
        let mut prev = -1.0;
        for i in 0..64 {
            let t = swing(f64::from(i) * 0.25, 1.0, 0.3);
            assert!(t > prev);
            prev = t;
        }
    }

    #[test]
    fn seconds_limit_keeps_whole_bars() {
        let songs = demo_songs();
        let ballad = &songs[0];
        assert_eq!(ballad.bars_within(Some(3)), 1);
        assert_eq!(ballad.bars_within(Some(7)), 2);
        assert_eq!(ballad.bars_within(None), ballad.bars);
        assert_eq!(ballad.bars_within(Some(10_000)), ballad.bars);
    }

    #[test]
    fn invalid_specs_are_refused_with_a_reason() {
        let mut spec = demo_songs()[0].clone();
        spec.tempo_bpm = 5;
        let err = spec
            .validate()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("tempo"), "{err}");
    }

    #[test]
    fn missing_soundfont_error_names_the_path_and_the_package() {
        let path = Path::new("/nonexistent/encore/test.sf2");
        let err = SoundFontBank::load(path)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("/nonexistent/encore/test.sf2"), "{err}");
        assert!(err.contains("fluid-soundfont-gm"), "{err}");
    }
}
