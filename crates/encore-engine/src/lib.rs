//! encore's audio engine.
//!
//! It checks uploaded audio before the catalogue accepts it ([`probe`]) and
//! renders the demo catalogue's music from a General MIDI SoundFont
//! ([`synth`]).  The generators (remix, cover and so on) will live here too.

pub mod probe;
pub mod synth;

pub use probe::{AudioFormat, AudioInfo, ProbeError, probe};
pub use synth::{
    DEFAULT_SOUNDFONT_PATH, RenderedSong, RenderedStem, SongSpec, SoundFontBank, SynthError,
    demo_songs, encode_wav_i16, render_song,
};
