//! encore's audio engine.
//!
//! It checks uploaded audio before the catalogue accepts it ([`probe()`]),
//! decodes, resamples, normalises and encodes audio ([`audio`]) and renders
//! the demo catalogue's music from a General MIDI SoundFont ([`synth`]), and
//! transcribes audio to notes with Basic Pitch, writing them as MIDI or
//! playing them through the SoundFont ([`transcribe`]).  The generators
//! (remix, mashup, cover) turn catalog audio into new music behind one
//! interface ([`generate`]); [`job`] is their progress and cancellation, and
//! [`analysis`] finds the tempo, beats and key that mashup matches.
//! [`fingerprint`] recognises catalog audio inside other audio (identify,
//! and the cover guard).

pub mod analysis;
pub mod audio;
pub mod fingerprint;
pub mod generate;
pub mod job;
pub mod probe;
pub mod synth;
pub mod transcribe;

pub use audio::{Audio, AudioError, DecodeLimits};
pub use probe::{AudioFormat, AudioInfo, ProbeError, probe};
pub use synth::{
    DEFAULT_SOUNDFONT_PATH, RenderedSong, RenderedStem, SongSpec, SoundFontBank, SynthError,
    demo_songs, encode_wav_i16, render_song,
};
