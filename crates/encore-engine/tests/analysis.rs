//! Tempo, beat and key estimation against music whose tempo and key are
//! known: songs the demo synthesiser composes and renders from specs chosen
//! here (several styles, tempos and keys, major and minor).
//!
//! Tolerances: tempo within 2% of the written tempo (no octave errors are
//! accepted on this material); every tracked beat within 50 ms of a written
//! beat and at least 90% of the written beats found; the key's tonic and
//! mode right for at least 7 of 8 pieces, and a miss may only be the
//! relative or parallel key (the known weakness of key-profile methods; see
//! `encore_engine::analysis::key`).  `examples/analysis_accuracy.rs` reports
//! the same figures over more material, the demo catalogue included.
//!
//! Tests that need the SoundFont skip when it is absent.

mod common;
#[path = "common/music.rs"]
mod music;

use common::bank;
use encore_engine::analysis::{Key, KeyMode, analyse, estimate_key, estimate_tempo};
use encore_engine::audio::Audio;
use encore_engine::synth::Style;

#[test]
fn tempo_and_beats_of_rendered_songs() {
    let Some(bank) = bank() else { return };
    let cases = [
        (80, Style::PopBallad, 0, KeyMode::Major),
        (100, Style::Rock, 9, KeyMode::Minor),
        (120, Style::House, 10, KeyMode::Major),
        (140, Style::Disco, 4, KeyMode::Minor),
    ];
    for (tempo, style, tonic, mode) in cases {
        let spec = music::spec(tempo, tonic, mode, style);
        let audio = music::render_mix(&bank, &spec, 10);
        let found = estimate_tempo(&audio)
            .expect("analyses")
            .expect("finds a tempo");
        let written = f64::from(tempo);
        assert!(
            (found.bpm - written).abs() <= written * 0.02,
            "{style:?} at {tempo} BPM read as {:.2} BPM",
            found.bpm
        );
        assert!(
            found.steady,
            "{style:?} at {tempo}: the beats are not steady"
        );
        assert!(found.confidence > 0.2, "{style:?}: {}", found.confidence);

        // Beats on the written grid, from the first bar to the last but one
        // (the last is a held chord, with no beat to hear).
        let period = 60.0 / written;
        let music_s = spec.nominal_seconds(Some(10)) - f64::from(spec.beats_per_bar()) * period;
        for &b in &found.beats {
            let nearest = (b / period).round() * period;
            assert!(
                (b - nearest).abs() <= 0.05,
                "{style:?} at {tempo}: a beat at {b:.3} s is {:.0} ms from the grid",
                (b - nearest).abs() * 1000.0
            );
        }
        let written_beats = (music_s / period).round() as usize;
        let hit = (0..written_beats)
            .filter(|&k| {
                let t = k as f64 * period;
                found.beats.iter().any(|&b| (b - t).abs() <= 0.05)
            })
            .count();
        assert!(
            hit * 10 >= written_beats * 9,
            "{style:?} at {tempo}: {hit} of {written_beats} beats found: {:?}",
            found.beats
        );
        assert!(
            found.first_beat_s.abs() <= 0.05,
            "{style:?} at {tempo}: first beat at {:.3} s, not 0",
            found.first_beat_s
        );
    }
}

#[test]
fn key_of_rendered_songs_in_major_and_minor() {
    let Some(bank) = bank() else { return };
    let cases = [
        (0, KeyMode::Major, Style::PopBallad, 84),
        (10, KeyMode::Major, Style::House, 122),
        (6, KeyMode::Major, Style::Country, 128),
        (8, KeyMode::Major, Style::Funk, 96),
        (9, KeyMode::Minor, Style::Synthwave, 104),
        (4, KeyMode::Minor, Style::Disco, 118),
        (11, KeyMode::Minor, Style::Reggae, 78),
        (2, KeyMode::Minor, Style::PopBallad, 70),
    ];
    let mut misses = Vec::new();
    for (tonic, mode, style, tempo) in cases {
        let spec = music::spec(tempo, tonic, mode, style);
        let written = music::key_of(&spec);
        let audio = music::render_mix(&bank, &spec, 8);
        let found = estimate_key(&audio)
            .expect("analyses")
            .expect("finds a key");
        println!(
            "{style:?} in {written}: {} (correlation {:.2}, margin {:.3}, runner-up {})",
            found.key, found.confidence, found.margin, found.runner_up
        );
        if found.key != written {
            let parallel = Key::new(
                written.tonic,
                match written.mode {
                    KeyMode::Major => KeyMode::Minor,
                    KeyMode::Minor => KeyMode::Major,
                },
            );
            assert!(
                found.key == written.relative() || found.key == parallel,
                "{style:?} in {written} read as {}, neither its relative nor its parallel key",
                found.key
            );
            misses.push(format!("{style:?}: {written} read as {}", found.key));
        }
    }
    assert!(misses.len() <= 1, "more than one key wrong: {misses:?}");
}

#[test]
fn silence_and_very_short_audio_have_no_tempo_or_key() {
    let silence = Audio::from_planar(vec![vec![0.0; 44_100 * 3]], 44_100).expect("audio");
    let a = analyse(&silence).expect("analyses");
    assert!(a.tempo.is_none() && a.key.is_none(), "{a:?}");
    let blip = Audio::from_planar(vec![vec![0.3; 4_000]], 44_100).expect("audio");
    assert!(estimate_tempo(&blip).expect("analyses").is_none());
    // Noise has no key worth the name and no steady beat, but analysis does not fail.
    let mut x = 1u32;
    let noise: Vec<f32> = (0..44_100 * 3)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (x >> 9) as f32 / (1u32 << 23) as f32 - 0.5
        })
        .collect();
    let noise = Audio::from_planar(vec![noise], 44_100).expect("audio");
    let a = analyse(&noise).expect("analyses");
    if let Some(t) = &a.tempo {
        assert!(t.confidence < 0.3, "noise has a clear beat? {t:?}");
    }
}

#[test]
fn a_metronome_gives_its_tempo_at_any_sample_rate() {
    // Clicks at 96 BPM with a 440 Hz ring from 0.25 s: 8 seconds at 48 kHz and at 8 kHz.
    for rate in [48_000u32, 8_000] {
        let period = (60.0 / 96.0 * f64::from(rate)) as usize;
        let lead = rate as usize / 4;
        let frames = 8 * rate as usize;
        let samples: Vec<f32> = (0..frames)
            .map(|i| {
                let Some(i) = i.checked_sub(lead) else {
                    return 0.0;
                };
                let k = (i % period) as f64 / f64::from(rate);
                let decay = (-k * 40.0).exp();
                (0.8 * decay * (2.0 * std::f64::consts::PI * 440.0 * k).sin()) as f32
            })
            .collect();
        let audio = Audio::from_planar(vec![samples], rate).expect("audio");
        let found = estimate_tempo(&audio).expect("analyses").expect("a tempo");
        assert!(
            (found.bpm - 96.0).abs() < 96.0 * 0.02,
            "{rate} Hz: {found:?}"
        );
        assert!(
            (found.first_beat_s - 0.25).abs() < 0.03,
            "{rate} Hz: {found:?}"
        );
    }
}

#[test]
fn keys_are_named_parsed_and_related() {
    let a_minor = Key::new(9, KeyMode::Minor);
    assert_eq!(a_minor.to_string(), "A minor");
    assert_eq!(a_minor.relative(), Key::new(0, KeyMode::Major));
    assert_eq!(Key::new(0, KeyMode::Major).relative(), a_minor);
    assert_eq!(Key::new(10, KeyMode::Major).to_string(), "Bb major");
    assert_eq!(Key::new(1, KeyMode::Minor).to_string(), "C# minor");
    for (text, key) in [
        ("A minor", a_minor),
        ("am", a_minor),
        ("A min", a_minor),
        ("F#m", Key::new(6, KeyMode::Minor)),
        ("Bb", Key::new(10, KeyMode::Major)),
        ("eb major", Key::new(3, KeyMode::Major)),
        ("C♯ minor", Key::new(1, KeyMode::Minor)),
        ("Cb", Key::new(11, KeyMode::Major)),
    ] {
        assert_eq!(Key::parse(text), Some(key), "{text}");
    }
    for bad in ["", "H", "A dorian", "7", "Ab minor major"] {
        assert_eq!(Key::parse(bad), None, "{bad}");
    }
    assert_eq!(Key::new(0, KeyMode::Major).shift_to_tonic(7), -5);
    assert_eq!(Key::new(0, KeyMode::Major).shift_to_tonic(6), 6);
    assert_eq!(Key::new(11, KeyMode::Major).shift_to_tonic(1), 2);
    assert_eq!(
        Key::new(2, KeyMode::Minor).transposed(-3),
        Key::new(11, KeyMode::Minor)
    );
}
