//! Transcribes an audio file with Basic Pitch, prints its notes and the speed.
//!
//! Usage: `cargo run --release -p encore-engine --example transcribe -- FILE [--midi OUT.mid] [--render OUT.wav]`
//!
//! The speed is seconds of audio per second of compute on one thread (both
//! engines run single-threaded by default), split into decoding and
//! resampling, the model, and note tracking.  It says which engine ran: ONNX
//! Runtime when `scripts/setup.sh` has fetched it, else tract;
//! `ENCORE_TRANSCRIBE_BACKEND=tract` (or `onnxruntime`) chooses.
//! `scripts/bench-transcribe.sh` is the benchmark against Python basic-pitch.

use std::path::PathBuf;
use std::time::Instant;

use encore_engine::audio::{DecodeLimits, decode, encode_wav, resample};
use encore_engine::transcribe::{
    BasicPitch, NoteParams, SAMPLE_RATE, Unattended, default_model_path, encode_midi,
    notes_from_activations, render_notes,
};
use encore_engine::{DEFAULT_SOUNDFONT_PATH, SoundFontBank};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut input = None;
    let mut midi_out = None;
    let mut render_out = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--midi" => midi_out = Some(PathBuf::from(args.next().ok_or("--midi needs a path")?)),
            "--render" => {
                render_out = Some(PathBuf::from(args.next().ok_or("--render needs a path")?));
            }
            _ if input.is_none() => input = Some(PathBuf::from(arg)),
            _ => return Err(format!("unexpected argument {arg}").into()),
        }
    }
    let input = input.ok_or("give the audio file as the first argument")?;

    let t = Instant::now();
    let model = BasicPitch::load(&default_model_path())?;
    println!(
        "model loaded and optimised in {:.2} s; engine: {}{}",
        t.elapsed().as_secs_f64(),
        model.backend(),
        model
            .fallback_reason()
            .map(|r| format!(" (onnxruntime not used: {r})"))
            .unwrap_or_default()
    );

    let t = Instant::now();
    let audio = decode(&std::fs::read(&input)?, &DecodeLimits::default())?;
    let mono = resample(&audio.to_mono(), SAMPLE_RATE)?;
    let prep_s = t.elapsed().as_secs_f64();
    let samples = mono.channel(0).unwrap_or_default();
    let audio_s = audio.duration().as_secs_f64();

    let t = Instant::now();
    let activations = model.activations(samples, &Unattended)?;
    let model_s = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let notes = notes_from_activations(&activations, &NoteParams::default());
    let notes_s = t.elapsed().as_secs_f64();

    println!("start_s\tend_s\tpitch\tvelocity");
    for n in &notes {
        println!(
            "{:.4}\t{:.4}\t{}\t{}",
            n.start_s,
            n.end_s,
            n.pitch,
            n.velocity()
        );
    }
    let total = prep_s + model_s + notes_s;
    println!(
        "{} notes from {audio_s:.2} s of audio in {total:.3} s: {:.1}x real time \
         (decode+resample {prep_s:.3} s, model ({}) {model_s:.3} s = {:.1}x, notes {notes_s:.3} s)",
        notes.len(),
        audio_s / total.max(1e-9),
        model.backend(),
        audio_s / model_s.max(1e-9),
    );

    if let Some(path) = midi_out {
        std::fs::write(&path, encode_midi(&notes, 0, 120.0))?;
        println!("wrote {}", path.display());
    }
    if let Some(path) = render_out {
        let t = Instant::now();
        let bank = SoundFontBank::load(std::path::Path::new(DEFAULT_SOUNDFONT_PATH))?;
        let rendered = render_notes(&bank, &notes, 0)?;
        std::fs::write(&path, encode_wav(&rendered))?;
        println!(
            "rendered {} in {:.2} s",
            path.display(),
            t.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
