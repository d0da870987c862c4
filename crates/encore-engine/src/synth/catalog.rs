//! The demo catalogue: sixteen short songs in different genres.
//!
//! Titles are invented for encore; the progressions are common-practice
//! patterns that no one owns, so the demo carries no third-party rights.

use super::style::Style;
use super::theory::{Chord, Mode, Quality::*, chord};
use super::{Instruments, SongSpec};

/// I V vi IV, the pop progression.
const POP: &[Chord] = &[
    chord(0, Major),
    chord(7, Major),
    chord(9, Minor),
    chord(5, Major),
];
/// i VI III VII, the minor-key anthem loop.
const MINOR_LOOP: &[Chord] = &[
    chord(0, Minor),
    chord(8, Major),
    chord(3, Major),
    chord(10, Major),
];

/// The demo songs, in catalogue order.
///
/// Each is about 20 to 30 seconds long at its default bar count; the final bar
/// is always a held tonic chord so every song has a real ending.
pub fn demo_songs() -> Vec<SongSpec> {
    vec![
        SongSpec {
            title: "Paper Lanterns",
            tempo_bpm: 72,
            key: "C major",
            bars: 8,
            tonic: 0,
            mode: Mode::Major,
            progression: POP,
            bars_per_chord: 1,
            style: Style::PopBallad,
            instruments: Instruments::new(0, 33, 0, 73),
            seed: 0x5EED_0001,
        },
        SongSpec {
            title: "Neon Boulevard",
            tempo_bpm: 100,
            key: "A minor",
            bars: 11,
            tonic: 9,
            mode: Mode::Minor,
            progression: MINOR_LOOP,
            bars_per_chord: 1,
            style: Style::Synthwave,
            instruments: Instruments::new(24, 38, 89, 81).bass_octave(1),
            seed: 0x5EED_0002,
        },
        SongSpec {
            title: "Midnight Warehouse",
            tempo_bpm: 124,
            key: "F minor",
            bars: 13,
            tonic: 5,
            mode: Mode::Minor,
            progression: const {
                &[
                    chord(0, Min7),
                    chord(10, Major),
                    chord(8, Maj7),
                    chord(10, Major),
                ]
            },
            bars_per_chord: 1,
            style: Style::House,
            instruments: Instruments::new(25, 39, 4, 80).bass_octave(1),
            seed: 0x5EED_0003,
        },
        SongSpec {
            title: "Velvet Pocket",
            tempo_bpm: 104,
            key: "E Dorian",
            bars: 11,
            tonic: 4,
            mode: Mode::Dorian,
            progression: const { &[chord(0, Min7), chord(5, Dom7)] },
            bars_per_chord: 1,
            style: Style::Funk,
            instruments: Instruments::new(0, 36, 7, 61),
            seed: 0x5EED_0004,
        },
        SongSpec {
            title: "Rainy Window",
            tempo_bpm: 78,
            key: "F major",
            bars: 8,
            tonic: 5,
            mode: Mode::Major,
            progression: const {
                &[
                    chord(2, Min7),
                    chord(7, Dom7),
                    chord(0, Maj7),
                    chord(9, Min7),
                ]
            },
            bars_per_chord: 1,
            style: Style::LoFiHipHop,
            instruments: Instruments::new(8, 33, 4, 11),
            seed: 0x5EED_0005,
        },
        SongSpec {
            title: "Highway Static",
            tempo_bpm: 140,
            key: "E minor",
            bars: 15,
            tonic: 4,
            mode: Mode::Minor,
            progression: const {
                &[
                    chord(0, Power),
                    chord(8, Power),
                    chord(3, Power),
                    chord(10, Power),
                ]
            },
            bars_per_chord: 1,
            style: Style::Rock,
            instruments: Instruments::new(16, 34, 29, 30),
            seed: 0x5EED_0006,
        },
        SongSpec {
            title: "Sal e Sol",
            tempo_bpm: 132,
            key: "D major",
            bars: 14,
            tonic: 2,
            mode: Mode::Major,
            progression: const {
                &[
                    chord(0, Maj7),
                    chord(2, Dom7),
                    chord(2, Min7),
                    chord(7, Dom7),
                ]
            },
            bars_per_chord: 2,
            style: Style::BossaNova,
            instruments: Instruments::new(40, 32, 24, 65),
            seed: 0x5EED_0007,
        },
        SongSpec {
            title: "Harvest Waltz",
            tempo_bpm: 104,
            key: "G major",
            bars: 15,
            tonic: 7,
            mode: Mode::Major,
            progression: const {
                &[
                    chord(0, Major),
                    chord(5, Major),
                    chord(0, Major),
                    chord(7, Major),
                ]
            },
            bars_per_chord: 1,
            style: Style::FolkWaltz,
            instruments: Instruments::new(40, 32, 21, 40),
            seed: 0x5EED_0008,
        },
        SongSpec {
            title: "Island Telegram",
            tempo_bpm: 76,
            key: "B minor",
            bars: 8,
            tonic: 11,
            mode: Mode::Minor,
            progression: const {
                &[
                    chord(0, Minor),
                    chord(5, Minor),
                    chord(10, Major),
                    chord(5, Minor),
                ]
            },
            bars_per_chord: 1,
            style: Style::Reggae,
            instruments: Instruments::new(0, 33, 17, 22),
            seed: 0x5EED_0009,
        },
        SongSpec {
            title: "Subway Circuit",
            tempo_bpm: 170,
            key: "F# minor",
            bars: 17,
            tonic: 6,
            mode: Mode::Minor,
            progression: const {
                &[
                    chord(0, Min7),
                    chord(8, Maj7),
                    chord(3, Major),
                    chord(10, Major),
                ]
            },
            bars_per_chord: 2,
            style: Style::DrumAndBass,
            instruments: Instruments::new(8, 39, 88, 5).bass_octave(1),
            seed: 0x5EED_000A,
        },
        SongSpec {
            title: "Mirror Ball Sunday",
            tempo_bpm: 118,
            key: "Bb major",
            bars: 13,
            tonic: 10,
            mode: Mode::Major,
            progression: const {
                &[
                    chord(0, Maj7),
                    chord(9, Min7),
                    chord(2, Min7),
                    chord(7, Dom7),
                ]
            },
            bars_per_chord: 1,
            style: Style::Disco,
            instruments: Instruments::new(0, 37, 50, 62),
            seed: 0x5EED_000B,
        },
        SongSpec {
            title: "Dust Road Shuffle",
            tempo_bpm: 150,
            key: "A major",
            bars: 16,
            tonic: 9,
            mode: Mode::Major,
            progression: const {
                &[
                    chord(0, Major),
                    chord(5, Major),
                    chord(7, Major),
                    chord(0, Major),
                ]
            },
            bars_per_chord: 1,
            style: Style::Country,
            instruments: Instruments::new(0, 32, 25, 105),
            seed: 0x5EED_000C,
        },
        SongSpec {
            title: "Smoky Room",
            tempo_bpm: 96,
            key: "Eb major",
            bars: 10,
            tonic: 3,
            mode: Mode::Major,
            progression: const {
                &[
                    chord(5, Min7),
                    chord(10, Dom7),
                    chord(0, Maj7),
                    chord(9, Dom7),
                ]
            },
            bars_per_chord: 1,
            style: Style::Jazz,
            instruments: Instruments::new(32, 32, 0, 66).lead_octave(-1),
            seed: 0x5EED_000D,
        },
        SongSpec {
            title: "Concrete Garden",
            tempo_bpm: 140,
            key: "C minor",
            bars: 15,
            tonic: 0,
            mode: Mode::Minor,
            progression: const {
                &[
                    chord(0, Minor),
                    chord(8, Major),
                    chord(5, Minor),
                    chord(7, Major),
                ]
            },
            bars_per_chord: 1,
            style: Style::Trap,
            instruments: Instruments::new(25, 38, 0, 10).bass_octave(1),
            seed: 0x5EED_000E,
        },
        SongSpec {
            title: "Sunburst Parade",
            tempo_bpm: 112,
            key: "F major",
            bars: 12,
            tonic: 5,
            mode: Mode::Major,
            progression: const {
                &[
                    chord(0, Major),
                    chord(5, Major),
                    chord(7, Major),
                    chord(5, Major),
                ]
            },
            bars_per_chord: 1,
            style: Style::Afrobeat,
            instruments: Instruments::new(0, 33, 27, 56),
            seed: 0x5EED_000F,
        },
        SongSpec {
            title: "Lighthouse Keeper",
            tempo_bpm: 70,
            key: "D minor",
            bars: 8,
            tonic: 2,
            mode: Mode::Minor,
            progression: MINOR_LOOP,
            bars_per_chord: 1,
            style: Style::Cinematic,
            instruments: Instruments::new(48, 43, 48, 60).lead_octave(-1),
            seed: 0x5EED_0010,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::Key;
    use std::collections::HashSet;

    #[test]
    fn catalogue_is_varied() {
        let songs = demo_songs();
        assert!(songs.len() >= 14);
        let titles: HashSet<_> = songs.iter().map(|s| s.title).collect();
        assert_eq!(titles.len(), songs.len(), "titles must be distinct");
        let styles: HashSet<_> = songs.iter().map(|s| s.style).collect();
        assert_eq!(styles.len(), songs.len(), "one song per style");
        assert!(songs.iter().any(|s| s.mode == Mode::Major));
        assert!(songs.iter().any(|s| s.mode == Mode::Minor));
        assert!(songs.iter().any(|s| s.beats_per_bar() == 3));
        for s in &songs {
            assert!((70..=170).contains(&s.tempo_bpm), "{}", s.title);
        }
    }

    #[test]
    fn labels_match_the_musical_key() {
        for s in demo_songs() {
            let (note, mode) = s.key.split_once(' ').unwrap_or((s.key, ""));
            assert_eq!(
                Key::parse(note).map(|k| k.tonic),
                Some(s.tonic),
                "{}",
                s.title
            );
            assert_eq!(mode, s.mode.name(), "{}", s.title);
        }
    }

    #[test]
    fn default_lengths_are_twenty_to_thirty_seconds() {
        for s in demo_songs() {
            let secs = s.nominal_seconds(None);
            assert!((20.0..=30.0).contains(&secs), "{}: {secs:.1} s", s.title);
        }
    }

    #[test]
    fn progressions_are_valid() {
        for s in demo_songs() {
            assert!(!s.progression.is_empty() && s.bars_per_chord >= 1);
            assert!(s.progression.iter().all(|c| c.root < 12), "{}", s.title);
            assert!(s.tonic < 12);
        }
    }
}
