//! Times the generators on one thread: remix (tempo, key, both, stems),
//! mashup (two recordings layered and in sequence; analysis alone too) and
//! cover, in seconds of audio per second of compute (for mashup, seconds of
//! input, all inputs counted).
//!
//! Usage: `cargo run --release -p encore-engine --example generate_speed -- [FILE] [--seconds N]`
//!
//! Without a file it renders the first demo song (`--seconds` of music, 30 by
//! default) with its stems; mashup pairs it with the second demo song (or,
//! given a file, with the file itself a semitone up, so the two differ).
//! Cover is timed only when the Basic Pitch model is present.

use std::path::Path;
use std::time::Instant;

use encore_engine::analysis::analyse;
use encore_engine::audio::{DecodeLimits, decode};
use encore_engine::generate::{Cover, GenInput, Generator, Mashup, Params, Remix};
use encore_engine::job::Unattended;
use encore_engine::transcribe::default_model_path;
use encore_engine::{DEFAULT_SOUNDFONT_PATH, SoundFontBank, demo_songs, render_song};
use serde_json::json;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut file = None;
    let mut seconds = 30u32;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => seconds = args.next().ok_or("--seconds needs a number")?.parse()?,
            _ => file = Some(arg),
        }
    }
    let render = |index: usize| -> Result<GenInput, Box<dyn std::error::Error>> {
        let bank = SoundFontBank::load(Path::new(DEFAULT_SOUNDFONT_PATH))?;
        let song = render_song(&bank, &demo_songs()[index], Some(seconds))?;
        let limits = DecodeLimits::default();
        let mut input = GenInput::new(decode(&song.mix_wav, &limits)?);
        for stem in &song.stems {
            input = input.with_stem(stem.name.clone(), decode(&stem.wav, &limits)?);
        }
        Ok(input)
    };
    let (input, partner) = match file {
        Some(path) => {
            let input = GenInput::new(decode(&std::fs::read(path)?, &DecodeLimits::default())?);
            let up = Remix::new().run(
                std::slice::from_ref(&input),
                &params(json!({"semitones": 1})),
                0,
                &Unattended,
            )?;
            (input, GenInput::new(up.audio))
        }
        None => (render(0)?, render(1)?),
    };
    let audio_s = input.mix.duration().as_secs_f64();
    println!("input: {audio_s:.1} s");
    let inputs = [input];

    let time =
        |g: &dyn Generator, p: serde_json::Value| -> Result<(), Box<dyn std::error::Error>> {
            let params: Params = match p {
                serde_json::Value::Object(map) => map,
                _ => Params::new(),
            };
            let t = Instant::now();
            let out = g.run(&inputs, &params, 0, &Unattended)?;
            let s = t.elapsed().as_secs_f64();
            println!(
                "{:<6} {:<48} {:>7.3} s  {:>6.1}x real time  ({:.1} s out)",
                g.name(),
                serde_json::Value::Object(params).to_string(),
                s,
                audio_s / s,
                out.audio.duration().as_secs_f64()
            );
            Ok(())
        };
    let pair = [inputs[0].clone(), partner];
    let pair_s: f64 = pair.iter().map(|i| i.mix.duration().as_secs_f64()).sum();
    let t = Instant::now();
    for input in &pair {
        analyse(&input.mix)?;
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "{:<6} {:<48} {:>7.3} s  {:>6.1}x real time",
        "tempo+key",
        "(analysis of both inputs)",
        s,
        pair_s / s
    );
    let time_pair = |p: serde_json::Value| -> Result<(), Box<dyn std::error::Error>> {
        let params = params(p);
        let t = Instant::now();
        let out = Mashup::new().run(&pair, &params, 0, &Unattended)?;
        let s = t.elapsed().as_secs_f64();
        println!(
            "{:<6} {:<48} {:>7.3} s  {:>6.1}x real time  ({:.1} s out)",
            "mashup",
            serde_json::Value::Object(params).to_string(),
            s,
            pair_s / s,
            out.audio.duration().as_secs_f64()
        );
        Ok(())
    };
    time_pair(json!({}))?;
    time_pair(json!({"mode": "sequence", "section_bars": 4}))?;
    if !pair[0].stems.is_empty() {
        time_pair(json!({"stems.1": "drums,bass", "tempo_bpm": 90}))?;
    }

    let remix = Remix::new();
    time(&remix, json!({}))?;
    time(&remix, json!({"tempo": 1.25}))?;
    time(&remix, json!({"semitones": 2}))?;
    time(&remix, json!({"tempo": 0.8, "semitones": -3}))?;
    if !inputs[0].stems.is_empty() {
        time(&remix, json!({"stem.drums": 0, "tempo": 1.1}))?;
    }
    if default_model_path().is_file() {
        let cover = Cover::new();
        // The first run loads the model and the SoundFont; time the second.
        cover.run(&inputs, &Params::new(), 0, &Unattended)?;
        time(&cover, json!({"instrument": "strings"}))?;
    } else {
        println!(
            "cover skipped: no Basic Pitch model at {}",
            default_model_path().display()
        );
    }
    Ok(())
}

fn params(p: serde_json::Value) -> Params {
    match p {
        serde_json::Value::Object(map) => map,
        _ => Params::new(),
    }
}
