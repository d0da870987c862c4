//! Renders every demo song into a folder, to listen to and to time the synthesiser.
//!
//! Usage: `cargo run --release -p encore-engine --example render_demo -- OUT_DIR [SOUNDFONT]`

use std::path::PathBuf;
use std::time::Instant;

use encore_engine::{DEFAULT_SOUNDFONT_PATH, SoundFontBank, demo_songs, probe, render_song};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(
        args.next()
            .ok_or("give the output folder as the first argument")?,
    );
    let font = args
        .next()
        .map_or_else(|| PathBuf::from(DEFAULT_SOUNDFONT_PATH), PathBuf::from);
    std::fs::create_dir_all(&out)?;

    let started = Instant::now();
    let bank = SoundFontBank::load(&font)?;
    let load_secs = started.elapsed().as_secs_f64();
    println!("loaded {} in {load_secs:.2} s", font.display());

    let mut audio_secs = 0.0;
    let render_started = Instant::now();
    for (i, spec) in demo_songs().iter().enumerate() {
        let t = Instant::now();
        let song = render_song(&bank, spec, None)?;
        let took = t.elapsed().as_secs_f64();
        let slug: String = spec
            .title
            .to_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let dir = out.join(format!("{:02}-{slug}", i + 1));
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("mix.wav"), &song.mix_wav)?;
        for stem in &song.stems {
            std::fs::write(dir.join(format!("{}.wav", stem.name)), &stem.wav)?;
        }
        let info = probe(&song.mix_wav, 10 * 60 * 1000)?;
        audio_secs += song.duration_ms as f64 / 1000.0;
        println!(
            "{:<20} {:>3} bpm {:<9} {:<14} {:>5.1} s audio, rendered in {took:.2} s ({} frames)",
            spec.title,
            spec.tempo_bpm,
            spec.key,
            spec.style.name(),
            song.duration_ms as f64 / 1000.0,
            info.frames
        );
    }
    let render_secs = render_started.elapsed().as_secs_f64();
    println!(
        "rendered {audio_secs:.1} s of music in {render_secs:.2} s ({:.1}x real time), plus {load_secs:.2} s to load the SoundFont",
        audio_secs / render_secs
    );
    Ok(())
}
