//! The transcription benchmark's Rust half (`scripts/bench-transcribe.sh` drives it).
//!
//! ```text
//! transcribe_bench render OUT_DIR [--pieces N] [--seed S] [--demo-songs K]
//! transcribe_bench run --out RESULTS.json [--backend auto|onnxruntime|tract] [--threads T] [--repeat R] FILE...
//! ```
//!
//! `render` writes the test material: `OUT_DIR/known/NN-name.wav` (44.1 kHz
//! stereo) with its ground truth `NN-name.json` (N pieces of random but
//! musical notes, seeded: monophonic melodies, piano and guitar polyphony,
//! two-instrument pieces, tempos from 70 to 150 bpm, rendered with
//! `render_notes` through the FluidR3 SoundFont), the same pieces at the
//! model's 22,050 Hz mono in `OUT_DIR/known22/` (so both engines read the
//! very same samples, with no resampler of their own), and
//! `OUT_DIR/demo/NN-title.wav`, the demo catalog's mixes rendered as
//! `encore demo` renders them.
//!
//! `run` transcribes each file with the chosen engine, one thread, and writes
//! the notes and timings as JSON: decoding and resampling to 22,050 Hz mono
//! (`prep_s`), the model (`model_s`) and note tracking (`notes_s`, basic-pitch's
//! default parameters) in wall-clock seconds, and the thread's CPU time for
//! model and note tracking (`cpu_s`), each the fastest of `--repeat` runs,
//! model load excluded.

use std::path::{Path, PathBuf};
use std::time::Instant;

use encore_engine::audio::{Audio, DecodeLimits, decode, encode_wav, resample};
use encore_engine::transcribe::{
    BackendChoice, BasicPitch, ModelOptions, Note, NoteParams, SAMPLE_RATE, Unattended,
    default_model_path, notes_from_activations, render_notes,
};
use encore_engine::{DEFAULT_SOUNDFONT_PATH, SoundFontBank, demo_songs, render_song};
use serde_json::json;

type Error = Box<dyn std::error::Error>;
/// `--name value` pairs, in order.
type Flags = Vec<(String, String)>;

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("render") => render(&args[1..]),
        Some("run") => run(&args[1..]),
        _ => Err("usage: transcribe_bench render OUT_DIR [--pieces N] [--seed S] [--demo-songs K] | \
                  run --out RESULTS.json [--backend auto|onnxruntime|tract] [--threads T] [--repeat R] FILE..."
            .into()),
    }
}

/// Splits `args` into `--flag value` pairs and the rest.
fn parse(args: &[String]) -> Result<(Flags, Vec<String>), Error> {
    let mut flags = Vec::new();
    let mut rest = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if let Some(name) = a.strip_prefix("--") {
            let value = it.next().ok_or_else(|| format!("--{name} needs a value"))?;
            flags.push((name.to_owned(), value.clone()));
        } else {
            rest.push(a.clone());
        }
    }
    Ok((flags, rest))
}

fn flag<T: std::str::FromStr>(
    flags: &[(String, String)],
    name: &str,
    default: T,
) -> Result<T, Error> {
    match flags.iter().rev().find(|(n, _)| n == name) {
        Some((_, v)) => v
            .parse()
            .map_err(|_| format!("--{name} {v}: not a valid value").into()),
        None => Ok(default),
    }
}

// ---------------------------------------------------------------- render

/// A small seeded xorshift generator, so the material is the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// Uniform in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    /// Uniform in `[lo, hi)`.
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (self.next() >> 11) as f64 / (1u64 << 53) as f64 * (hi - lo)
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

/// One part of a piece: a GM program and its notes.
struct Part {
    program: u8,
    name: &'static str,
    gain: f32,
    notes: Vec<Note>,
}

const MAJOR: [i32; 7] = [0, 2, 4, 5, 7, 9, 11];
const MINOR: [i32; 7] = [0, 2, 3, 5, 7, 8, 10];

/// The musical frame of a piece: key, scale, tempo and length.
struct Frame {
    tonic: i32,
    scale: [i32; 7],
    beat_s: f64,
    bars: usize,
}

impl Frame {
    /// MIDI pitch of scale degree `degree` (any integer) above the tonic in octave `octave`.
    fn pitch(&self, degree: i32, octave: i32) -> u8 {
        let d = degree.rem_euclid(7) as usize;
        let o = degree.div_euclid(7);
        (12 * (octave + o + 1) + self.tonic + self.scale[d]).clamp(21, 108) as u8
    }

    /// Degrees of a diatonic triad on `root`, plus the seventh when `seventh`.
    fn chord(&self, root: i32, seventh: bool) -> Vec<i32> {
        let mut c = vec![root, root + 2, root + 4];
        if seventh {
            c.push(root + 6);
        }
        c
    }
}

fn note(start_beats: f64, len_beats: f64, pitch: u8, amplitude: f32, frame: &Frame) -> Note {
    Note {
        start_s: 0.5 + start_beats * frame.beat_s,
        end_s: 0.5 + (start_beats + len_beats) * frame.beat_s,
        pitch,
        amplitude,
    }
}

/// A stepwise melody with some leaps and rests, 4 beats a bar.
fn melody(rng: &mut Rng, f: &Frame, octave: i32) -> Vec<Note> {
    let mut notes = Vec::new();
    let mut t = 0.0;
    let mut degree = rng.below(5) as i32;
    let end = (f.bars * 4) as f64;
    while t < end - 0.5 {
        let len = rng
            .pick(&[0.5f64, 0.5, 1.0, 1.0, 1.0, 1.5, 2.0])
            .min(end - t);
        if rng.below(8) == 0 {
            t += len; // a rest
            continue;
        }
        let step = rng.pick(&[-2, -1, -1, 1, 1, 2, 0, 3, -3, 4]);
        degree = (degree + step).clamp(-3, 10);
        let amp = rng.range(0.55, 0.9) as f32;
        notes.push(note(t, len * 0.92, f.pitch(degree, octave), amp, f));
        t += len;
    }
    notes
}

/// A chord progression: one chord a bar, struck `hits` times, each held to the next hit.
fn chords(rng: &mut Rng, f: &Frame, octave: i32, hits: usize) -> Vec<Note> {
    let roots = [0, 3, 4, 5, 1, 2];
    let mut notes = Vec::new();
    for bar in 0..f.bars {
        let root = if bar == 0 || bar + 1 == f.bars {
            0
        } else {
            rng.pick(&roots)
        };
        let seventh = rng.below(3) == 0;
        let amp = rng.range(0.5, 0.8) as f32;
        let len = 4.0 / hits as f64;
        for h in 0..hits {
            for d in f.chord(root, seventh) {
                let start = (bar * 4) as f64 + h as f64 * len;
                notes.push(note(start, len * 0.95, f.pitch(d, octave), amp, f));
            }
        }
    }
    notes
}

/// Broken chords in eighths, each tone ringing for a beat (so notes overlap).
fn arpeggios(rng: &mut Rng, f: &Frame, octave: i32) -> Vec<Note> {
    let roots = [0, 3, 4, 5];
    let mut notes = Vec::new();
    for bar in 0..f.bars {
        let root = if bar == 0 { 0 } else { rng.pick(&roots) };
        let chord = f.chord(root, false);
        let pattern = [0, 1, 2, 3, 2, 1, 0, 2];
        for (i, &k) in pattern.iter().enumerate() {
            let degree = if k == 3 { chord[0] + 7 } else { chord[k] };
            let amp = rng.range(0.5, 0.85) as f32;
            let start = (bar * 4) as f64 + i as f64 * 0.5;
            notes.push(note(start, 1.0, f.pitch(degree, octave), amp, f));
        }
    }
    notes
}

/// A root-and-fifth bass line in quarters and halves.
fn bass(rng: &mut Rng, f: &Frame) -> Vec<Note> {
    let roots = [0, 3, 4, 5];
    let mut notes = Vec::new();
    for bar in 0..f.bars {
        let root = if bar == 0 { 0 } else { rng.pick(&roots) };
        let mut t = 0.0;
        while t < 4.0 {
            let len = rng.pick(&[1.0f64, 1.0, 2.0]).min(4.0 - t);
            let degree = if rng.below(3) == 0 { root + 4 } else { root };
            let amp = rng.range(0.6, 0.9) as f32;
            notes.push(note(
                (bar * 4) as f64 + t,
                len * 0.9,
                f.pitch(degree, 2),
                amp,
                f,
            ));
            t += len;
        }
    }
    notes
}

/// The `index`th piece: its kind cycles through six arrangements.
fn piece(index: usize, seed: u64) -> (String, f64, Vec<Part>) {
    let mut rng = Rng(seed ^ (index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    for _ in 0..4 {
        rng.next();
    }
    let tempo = rng.range(70.0, 150.0).round();
    let f = Frame {
        tonic: rng.below(12) as i32,
        scale: if rng.below(2) == 0 { MAJOR } else { MINOR },
        beat_s: 60.0 / tempo,
        bars: (20.0 / (4.0 * 60.0 / tempo)).round().max(4.0) as usize,
    };
    let part = |program, name, gain, notes| Part {
        program,
        name,
        gain,
        notes,
    };
    let (name, parts) = match index % 6 {
        0 => {
            let (program, name) = rng.pick(&[
                (73u8, "flute"),
                (40, "violin"),
                (56, "trumpet"),
                (71, "clarinet"),
                (65, "alto-sax"),
                (68, "oboe"),
            ]);
            (
                "mono",
                vec![part(program, name, 1.0, melody(&mut rng, &f, 4))],
            )
        }
        1 => (
            "piano",
            vec![
                part(0, "piano-chords", 0.8, chords(&mut rng, &f, 3, 2)),
                part(0, "piano-melody", 1.0, melody(&mut rng, &f, 5)),
            ],
        ),
        2 => (
            "guitar",
            vec![part(24, "nylon-guitar", 1.0, arpeggios(&mut rng, &f, 3))],
        ),
        3 => (
            "bass-vibes",
            vec![
                part(33, "fingered-bass", 0.9, bass(&mut rng, &f)),
                part(11, "vibraphone", 1.0, melody(&mut rng, &f, 4)),
            ],
        ),
        4 => (
            "epiano-lead",
            vec![
                part(4, "electric-piano", 0.7, chords(&mut rng, &f, 3, 4)),
                part(80, "square-lead", 0.8, melody(&mut rng, &f, 5)),
            ],
        ),
        _ => (
            "strings-flute",
            vec![
                part(48, "strings", 0.7, chords(&mut rng, &f, 3, 1)),
                part(73, "flute", 1.0, melody(&mut rng, &f, 5)),
            ],
        ),
    };
    (name.to_owned(), tempo, parts)
}

/// Renders each part and mixes them, peak-normalised to -1 dBFS.
fn mix(bank: &SoundFontBank, parts: &[Part]) -> Result<Audio, Error> {
    let mut out: Vec<Vec<f32>> = vec![Vec::new(), Vec::new()];
    let mut rate = 44_100;
    for p in parts {
        let audio = render_notes(bank, &p.notes, p.program)?;
        rate = audio.sample_rate();
        for (o, ch) in out.iter_mut().zip(audio.channels()) {
            if o.len() < ch.len() {
                o.resize(ch.len(), 0.0);
            }
            for (a, b) in o.iter_mut().zip(ch) {
                *a += b * p.gain;
            }
        }
    }
    let peak = out
        .iter()
        .flatten()
        .fold(0f32, |m, s| m.max(s.abs()))
        .max(1e-9);
    for s in out.iter_mut().flatten() {
        *s *= 0.891 / peak;
    }
    Ok(Audio::from_planar(out, rate)?)
}

fn slug(s: &str) -> String {
    s.to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

fn render(args: &[String]) -> Result<(), Error> {
    let (flags, rest) = parse(args)?;
    let out = PathBuf::from(rest.first().ok_or("give the output folder")?);
    let pieces: usize = flag(&flags, "pieces", 12)?;
    let seed: u64 = flag(&flags, "seed", 2024)?;
    let demo_count: usize = flag(&flags, "demo-songs", usize::MAX)?;
    let bank = SoundFontBank::load(Path::new(DEFAULT_SOUNDFONT_PATH))?;

    let known = out.join("known");
    let known22 = out.join("known22");
    std::fs::create_dir_all(&known)?;
    std::fs::create_dir_all(&known22)?;
    for i in 0..pieces {
        let (kind, tempo, parts) = piece(i, seed);
        let audio = mix(&bank, &parts)?;
        let stem = format!("{:02}-{kind}-{}bpm", i + 1, tempo as u32);
        std::fs::write(known.join(format!("{stem}.wav")), encode_wav(&audio))?;
        let notes: Vec<_> = parts
            .iter()
            .flat_map(|p| {
                p.notes.iter().map(move |n| {
                    json!({"start_s": n.start_s, "end_s": n.end_s, "pitch": n.pitch,
                           "program": p.program, "part": p.name})
                })
            })
            .collect();
        let truth = json!({
            "kind": kind,
            "tempo_bpm": tempo,
            "seed": seed,
            "parts": parts.iter().map(|p| json!({"name": p.name, "program": p.program})).collect::<Vec<_>>(),
            "notes": notes,
        });
        let truth = serde_json::to_vec_pretty(&truth)?;
        std::fs::write(known.join(format!("{stem}.json")), &truth)?;
        // The same piece already at the model's rate, mono: both engines then
        // read identical samples, with no resampler of their own in between.
        let mono = resample(&audio.to_mono(), SAMPLE_RATE)?;
        std::fs::write(known22.join(format!("{stem}.wav")), encode_wav(&mono))?;
        std::fs::write(known22.join(format!("{stem}.json")), &truth)?;
        eprintln!(
            "  known {stem}: {} notes, {:.1} s",
            notes.len(),
            audio.duration().as_secs_f64()
        );
    }

    let demo = out.join("demo");
    std::fs::create_dir_all(&demo)?;
    for (i, spec) in demo_songs().iter().take(demo_count).enumerate() {
        let song = render_song(&bank, spec, None)?;
        let name = format!("{:02}-{}.wav", i + 1, slug(spec.title));
        std::fs::write(demo.join(&name), &song.mix_wav)?;
        eprintln!("  demo {name}: {:.1} s", song.duration_ms as f64 / 1000.0);
    }
    Ok(())
}

// ---------------------------------------------------------------- run

/// CPU time this thread has run, in seconds (`/proc/thread-self/schedstat`;
/// ONNX Runtime with one intra-op thread and tract both compute on the
/// calling thread).  Unlike wall-clock time it leaves out time the thread
/// waited while other processes had the core.
fn thread_cpu_s() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(f64::NAN, |ns| ns / 1e9)
}

fn run(args: &[String]) -> Result<(), Error> {
    let (flags, files) = parse(args)?;
    let out = PathBuf::from(flag(&flags, "out", String::new())?);
    if out.as_os_str().is_empty() || files.is_empty() {
        return Err("run needs --out RESULTS.json and at least one audio file".into());
    }
    let backend: String = flag(&flags, "backend", "auto".to_owned())?;
    let repeat: usize = flag(&flags, "repeat", 1usize)?.max(1);
    let options = ModelOptions {
        backend: backend.parse::<BackendChoice>()?,
        threads: flag(&flags, "threads", 1usize)?,
        ..ModelOptions::default()
    };
    let t = Instant::now();
    let model = BasicPitch::load_with(&default_model_path(), &options)?;
    let load_s = t.elapsed().as_secs_f64();
    eprintln!(
        "encore: {} backend ({} thread{}), model loaded in {load_s:.2} s{}",
        model.backend(),
        options.threads,
        if options.threads == 1 { "" } else { "s" },
        model
            .fallback_reason()
            .map(|r| format!(" (not onnxruntime: {r})"))
            .unwrap_or_default()
    );
    let params = NoteParams::default();
    let mut results = Vec::new();
    for (i, file) in files.iter().enumerate() {
        let bytes = std::fs::read(file)?;
        let (mut prep_s, mut model_s, mut notes_s) = (f64::MAX, f64::MAX, f64::MAX);
        let mut cpu_s = f64::MAX;
        let mut notes = Vec::new();
        let mut audio_s = 0.0;
        for _ in 0..repeat {
            let t = Instant::now();
            let audio = decode(&bytes, &DecodeLimits::default())?;
            let mono = resample(&audio.to_mono(), SAMPLE_RATE)?;
            prep_s = prep_s.min(t.elapsed().as_secs_f64());
            audio_s = audio.duration().as_secs_f64();
            let samples = mono.channel(0).unwrap_or_default();
            let cpu = thread_cpu_s();
            let t = Instant::now();
            let activations = model.activations(samples, &Unattended)?;
            model_s = model_s.min(t.elapsed().as_secs_f64());
            let t = Instant::now();
            notes = notes_from_activations(&activations, &params);
            notes_s = notes_s.min(t.elapsed().as_secs_f64());
            cpu_s = cpu_s.min(thread_cpu_s() - cpu);
        }
        eprintln!(
            "  [{}/{}] {}: {} notes, {audio_s:.1} s audio, model {model_s:.3} s + notes {notes_s:.3} s = {:.1}x real time",
            i + 1,
            files.len(),
            Path::new(file)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            notes.len(),
            audio_s / (model_s + notes_s).max(1e-9)
        );
        results.push(json!({
            "path": file,
            "audio_s": audio_s,
            "prep_s": prep_s,
            "model_s": model_s,
            "notes_s": notes_s,
            "cpu_s": cpu_s,
            "notes": notes.iter().map(|n| json!([n.start_s, n.end_s, n.pitch, n.amplitude])).collect::<Vec<_>>(),
        }));
    }
    let doc = json!({
        "engine": "encore",
        "backend": model.backend().name(),
        "threads": options.threads,
        "repeat": repeat,
        "load_s": load_s,
        "files": results,
    });
    std::fs::write(&out, serde_json::to_vec(&doc)?)?;
    Ok(())
}
