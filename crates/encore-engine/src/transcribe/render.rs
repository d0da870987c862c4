//! Playing transcribed notes through a General MIDI SoundFont.

use super::Note;
use crate::audio::Audio;
use crate::synth::{
    Event, FADE_SECS, SAMPLE_RATE, SoundFontBank, SynthError, TAIL_SECS, TARGET_PEAK, Voice,
    fade_out, play_events,
};

/// The longest rendering [`render_notes`] produces, in seconds (notes past it are dropped).
pub const RENDER_SECONDS_MAX: f64 = 900.0;

/// Renders `notes` with General MIDI program `program` (0-based, e.g. 0 grand
/// piano) into stereo audio at 44,100 Hz, peak-normalised to -1 dBFS, with a
/// release tail after the last note.
pub fn render_notes(
    bank: &SoundFontBank,
    notes: &[Note],
    program: u8,
) -> Result<Audio, SynthError> {
    let sr = f64::from(SAMPLE_RATE);
    let end_s = notes
        .iter()
        .map(|n| n.end_s)
        .filter(|s| s.is_finite())
        .fold(0.0f64, f64::max)
        .min(RENDER_SECONDS_MAX);
    let total_frames = ((end_s + TAIL_SECS) * sr).ceil() as usize;
    let mut events = Vec::with_capacity(notes.len() * 2);
    for n in notes
        .iter()
        .filter(|n| n.start_s.is_finite() && n.start_s < end_s)
    {
        let on = (n.start_s.max(0.0) * sr).round() as usize;
        let off = ((n.end_s.min(end_s) * sr).round() as usize).max(on + 1);
        let key = n.pitch.min(127);
        events.push(Event {
            frame: on,
            on: true,
            key,
            vel: n.velocity(),
        });
        events.push(Event {
            frame: off,
            on: false,
            key,
            vel: 0,
        });
    }
    let voice = Voice {
        channel: 0,
        program: program.min(127),
        pan: 64,
        reverb: 40,
        chorus: 0,
    };
    let mut samples = play_events(bank, voice, events, total_frames)?;
    fade_out(&mut samples, (FADE_SECS * sr) as usize);
    let peak = samples.iter().fold(0f32, |p, s| p.max(s.abs()));
    if peak > 1e-9 {
        let gain = TARGET_PEAK / peak;
        for s in &mut samples {
            *s *= gain;
        }
    }
    Audio::from_interleaved(&samples, 2, SAMPLE_RATE)
        .map_err(|e| SynthError::Synth(format!("the rendered notes are not audio: {e}")))
}
