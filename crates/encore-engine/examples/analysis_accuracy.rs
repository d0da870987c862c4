//! How well tempo, beats and key are found: over the demo catalogue (the
//! tempo and key each song is written in) and over pieces composed here in
//! more styles, tempos and keys (major: I IV V I, minor: i iv V7 i).
//!
//! Usage: `cargo run --release -p encore-engine --example analysis_accuracy -- [--seconds N]`
//!
//! Each piece is rendered for `--seconds` (20 by default) through the system
//! SoundFont.  A tempo counts as right within 2% of the written tempo, and as
//! an octave error at half or double it; a beat is hit when a tracked beat is
//! within 50 ms of a written one (F-measure over the bars before the final
//! held chord).  Keys count as right, relative (A minor for C major),
//! parallel (C minor for C major), a fifth away, or other.

use std::path::Path;
use std::time::Instant;

use encore_engine::analysis::{Key, KeyMode, analyse};
use encore_engine::audio::{DecodeLimits, decode};
use encore_engine::synth::{Chord, Instruments, Mode, Quality, Style, chord};
use encore_engine::{DEFAULT_SOUNDFONT_PATH, SongSpec, SoundFontBank, demo_songs, render_song};

const MAJOR_CADENCE: &[Chord] = &[
    chord(0, Quality::Major),
    chord(5, Quality::Major),
    chord(7, Quality::Major),
    chord(0, Quality::Major),
];
const MINOR_CADENCE: &[Chord] = &[
    chord(0, Quality::Minor),
    chord(5, Quality::Minor),
    chord(7, Quality::Dom7),
    chord(0, Quality::Minor),
];

fn composed() -> Vec<SongSpec> {
    let styles = [
        Style::PopBallad,
        Style::Rock,
        Style::House,
        Style::Disco,
        Style::Funk,
        Style::Synthwave,
        Style::Country,
        Style::Reggae,
        Style::BossaNova,
        Style::Afrobeat,
        Style::LoFiHipHop,
        Style::Jazz,
    ];
    let tempos = [80, 100, 120, 140, 90, 110, 130, 70, 150, 115, 85, 125];
    styles
        .iter()
        .zip(tempos)
        .enumerate()
        .flat_map(|(i, (&style, tempo))| {
            [Mode::Major, Mode::Minor].map(|mode| SongSpec {
                title: "composed",
                tempo_bpm: tempo,
                key: "",
                bars: 64,
                tonic: ((i * 7 + usize::from(mode == Mode::Minor) * 5) % 12) as u8,
                mode,
                progression: if mode == Mode::Major {
                    MAJOR_CADENCE
                } else {
                    MINOR_CADENCE
                },
                bars_per_chord: 1,
                style,
                instruments: Instruments::new(0, 33, 0, 73),
                seed: 11 + i as u64,
            })
        })
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut seconds = 20u32;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--seconds" {
            seconds = args.next().ok_or("--seconds needs a number")?.parse()?;
        }
    }
    let bank = SoundFontBank::load(Path::new(DEFAULT_SOUNDFONT_PATH))?;
    for (set, specs) in [("demo catalogue", demo_songs()), ("composed", composed())] {
        println!("== {set}: {} pieces, {seconds} s each", specs.len());
        let mut tempo_right = 0;
        let mut tempo_octave = 0;
        let mut key_counts = [0usize; 5];
        let (mut hits, mut tracked, mut written_total) = (0usize, 0usize, 0usize);
        let mut analysis_s = 0.0;
        let mut audio_s = 0.0;
        for spec in &specs {
            let song = render_song(&bank, spec, Some(seconds))?;
            let audio = decode(&song.mix_wav, &DecodeLimits::default())?;
            audio_s += audio.duration().as_secs_f64();
            let t = Instant::now();
            let found = analyse(&audio)?;
            analysis_s += t.elapsed().as_secs_f64();
            let written = f64::from(spec.tempo_bpm);
            let (bpm, beats) = found
                .tempo
                .as_ref()
                .map_or((0.0, Vec::new()), |t| (t.bpm, t.beats.clone()));
            let tempo_verdict = if (bpm - written).abs() <= written * 0.02 {
                tempo_right += 1;
                "right"
            } else if (bpm * 2.0 - written).abs() <= written * 0.02
                || (bpm / 2.0 - written).abs() <= written * 0.02
            {
                tempo_octave += 1;
                "octave"
            } else {
                "wrong"
            };
            let period = 60.0 / written;
            let music_s =
                spec.nominal_seconds(Some(seconds)) - f64::from(spec.beats_per_bar()) * period;
            let grid: Vec<f64> = (0..)
                .map(|k| f64::from(k) * period)
                .take_while(|&t| t < music_s - 1e-6)
                .collect();
            let inside: Vec<f64> = beats.iter().copied().filter(|&b| b < music_s).collect();
            hits += grid
                .iter()
                .filter(|&&g| inside.iter().any(|&b| (b - g).abs() <= 0.05))
                .count();
            tracked += inside.len();
            written_total += grid.len();

            let mode = if spec.mode.is_major() {
                KeyMode::Major
            } else {
                KeyMode::Minor
            };
            let truth = Key::new(spec.tonic, mode);
            let (key_verdict, key_text) = match &found.key {
                None => (4, "none".to_owned()),
                Some(k) => {
                    let parallel = Key::new(
                        truth.tonic,
                        match truth.mode {
                            KeyMode::Major => KeyMode::Minor,
                            KeyMode::Minor => KeyMode::Major,
                        },
                    );
                    let verdict = if k.key == truth {
                        0
                    } else if k.key == truth.relative() {
                        1
                    } else if k.key == parallel {
                        2
                    } else if k.key.mode == truth.mode
                        && (k.key == truth.transposed(7) || k.key == truth.transposed(5))
                    {
                        3
                    } else {
                        4
                    };
                    (verdict, k.key.to_string())
                }
            };
            key_counts[key_verdict] += 1;
            println!(
                "{:<20} {:<12} {:>3} BPM -> {:>6.1} {:<6}  {:<10} -> {:<10} {}",
                spec.title,
                spec.style.name(),
                spec.tempo_bpm,
                bpm,
                tempo_verdict,
                truth.to_string(),
                key_text,
                ["right", "relative", "parallel", "fifth", "other"][key_verdict],
            );
        }
        let n = specs.len();
        let precision = hits as f64 / tracked.max(1) as f64;
        let recall = hits as f64 / written_total.max(1) as f64;
        let f = 2.0 * precision * recall / (precision + recall).max(1e-9);
        println!(
            "tempo: {tempo_right}/{n} within 2%, {tempo_octave} octave errors; beats F = {f:.3} (precision {precision:.3}, recall {recall:.3})"
        );
        println!(
            "key: {}/{n} right, {} relative, {} parallel, {} a fifth away, {} other",
            key_counts[0], key_counts[1], key_counts[2], key_counts[3], key_counts[4]
        );
        println!(
            "analysis: {:.1} s of audio in {analysis_s:.2} s ({:.0}x real time)\n",
            audio_s,
            audio_s / analysis_s.max(1e-9)
        );
    }
    Ok(())
}
