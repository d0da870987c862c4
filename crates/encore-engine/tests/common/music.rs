//! Test music with a known tempo and key: songs composed and rendered by the
//! demo synthesiser from a spec we choose, so the answers are known exactly.
//! Used by `tests/analysis.rs` and `tests/mashup.rs` (`#[path]`-included).

#![allow(dead_code)]

use encore_engine::analysis::{Key, KeyMode};
use encore_engine::audio::{Audio, DecodeLimits, decode};
use encore_engine::generate::GenInput;
use encore_engine::synth::{Chord, Instruments, Mode, Quality, Style, chord};
use encore_engine::{SongSpec, SoundFontBank, render_song};

/// I IV V I: a major key stated plainly.
pub const MAJOR_CADENCE: &[Chord] = &[
    chord(0, Quality::Major),
    chord(5, Quality::Major),
    chord(7, Quality::Major),
    chord(0, Quality::Major),
];
/// i iv V7 i: a minor key with its leading tone.
pub const MINOR_CADENCE: &[Chord] = &[
    chord(0, Quality::Minor),
    chord(5, Quality::Minor),
    chord(7, Quality::Dom7),
    chord(0, Quality::Minor),
];

/// A song at `tempo_bpm` in `tonic` (0 = C) major or minor, in `style`.
///
/// The composer starts the music on beat one at time zero and keeps a
/// steady tempo, so beat `k` falls at `k * 60 / tempo_bpm` seconds.
pub fn spec(tempo_bpm: u32, tonic: u8, mode: KeyMode, style: Style) -> SongSpec {
    let (mode, progression) = match mode {
        KeyMode::Major => (Mode::Major, MAJOR_CADENCE),
        KeyMode::Minor => (Mode::Minor, MINOR_CADENCE),
    };
    SongSpec {
        title: "test piece",
        tempo_bpm,
        key: "test key",
        bars: 64,
        tonic,
        mode,
        progression,
        bars_per_chord: 1,
        style,
        instruments: Instruments::new(0, 33, 0, 73),
        seed: 7 + u64::from(tempo_bpm) + u64::from(tonic),
    }
}

/// The key a spec is written in.
pub fn key_of(spec: &SongSpec) -> Key {
    let mode = if spec.mode.is_major() {
        KeyMode::Major
    } else {
        KeyMode::Minor
    };
    Key::new(spec.tonic, mode)
}

/// `spec` rendered for about `seconds` (whole bars) plus its release tail:
/// the mix and the four stems.
pub fn render(bank: &SoundFontBank, spec: &SongSpec, seconds: u32) -> GenInput {
    let song = render_song(bank, spec, Some(seconds)).expect("renders");
    let limits = DecodeLimits::default();
    let mut input = GenInput::new(decode(&song.mix_wav, &limits).expect("mix decodes"));
    for stem in &song.stems {
        input = input.with_stem(
            stem.name.clone(),
            decode(&stem.wav, &limits).expect("stem decodes"),
        );
    }
    input
}

/// The rendered mix of `spec` alone.
pub fn render_mix(bank: &SoundFontBank, spec: &SongSpec, seconds: u32) -> Audio {
    render(bank, spec, seconds).mix
}
