//! `encore generate`, run as an operator would: a remix written as FLAC and
//! read back, checked with `sox` when it is installed; a mashup of two and of
//! three recordings (one with a stem) at the first one's tempo; bad
//! parameters and input counts exit 2 naming the parameter.

use std::path::Path;
use std::process::{Command, Output};

use encore_engine::analysis::estimate_tempo;
use encore_engine::audio::{Audio, DecodeLimits, decode, encode_wav, measure_loudness};

fn encore(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_encore"))
        .args(args)
        .current_dir(dir)
        .env("ENCORE_DATA_DIR", dir.join("data"))
        .env_remove("ENCORE_CONFIG")
        .output()
        .expect("run encore")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Three seconds of a stereo A major chord, written as WAV.
fn write_chord(path: &Path) {
    let rate = 44_100u32;
    let samples: Vec<f32> = (0..3 * rate as usize)
        .map(|i| {
            let t = i as f64 / f64::from(rate);
            [440.0, 554.37, 659.25]
                .iter()
                .map(|f| (2.0 * std::f64::consts::PI * f * t).sin() * 0.2)
                .sum::<f64>() as f32
        })
        .collect();
    let audio = Audio::from_planar(vec![samples.clone(), samples], rate).expect("audio");
    std::fs::write(path, encode_wav(&audio)).expect("write wav");
}

fn sox() -> Option<()> {
    Command::new("sox")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|_| ())
}

#[test]
fn generate_remix_writes_a_flac_of_the_new_length() {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("chord.wav");
    write_chord(&input);
    let out_path = dir.path().join("out.flac");
    let out = encore(
        dir.path(),
        &[
            "generate",
            "remix",
            "--input",
            input.to_str().expect("utf-8"),
            "--param",
            "tempo=1.5",
            "--param",
            "semitones=-2",
            "--out",
            out_path.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("wrote"), "{}", text(&out));

    let audio = decode(
        &std::fs::read(&out_path).expect("output written"),
        &DecodeLimits::default(),
    )
    .expect("the FLAC reads back");
    let seconds = audio.duration().as_secs_f64();
    assert!((seconds - 2.0).abs() < 0.04, "{seconds} s");
    let loudness = measure_loudness(&audio).expect("measures");
    assert!(
        (loudness.integrated_lufs + 14.0).abs() <= 1.0,
        "{loudness:?}"
    );
    assert!(loudness.true_peak_dbtp <= -0.8, "{loudness:?}");

    // sox agrees on the length and the peak.
    if sox().is_none() {
        eprintln!("sox is not installed (scripts/lib.sh installs it); skipping its checks");
        return;
    }
    let d = Command::new("sox")
        .args(["--i", "-D"])
        .arg(&out_path)
        .output()
        .expect("sox --i");
    let sox_seconds: f64 = String::from_utf8_lossy(&d.stdout)
        .trim()
        .parse()
        .expect("sox prints a duration");
    assert!((sox_seconds - 2.0).abs() < 0.04, "sox says {sox_seconds} s");
    let stats = Command::new("sox")
        .arg(&out_path)
        .args(["-n", "stats"])
        .output()
        .expect("sox stats");
    let said = String::from_utf8_lossy(&stats.stderr);
    let peak_db: f64 = said
        .lines()
        .find(|l| l.starts_with("Pk lev dB"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no peak in sox stats: {said}"));
    assert!(peak_db <= -0.9 && peak_db > -12.0, "sox peak {peak_db} dB");
}

#[test]
fn generate_bad_input_exits_with_a_named_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("chord.wav");
    write_chord(&input);
    let input = input.to_str().expect("utf-8");
    let out_path = dir.path().join("out.wav");
    let out_file = out_path.to_str().expect("utf-8");

    let out = encore(
        dir.path(),
        &[
            "generate", "remix", "--input", input, "--param", "tempo=0", "--out", out_file,
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("tempo must be between 0.5 and 2.0"),
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("--param tempo"), "{}", text(&out));
    assert!(!out_path.exists());

    let out = encore(
        dir.path(),
        &[
            "generate",
            "remix",
            "--input",
            input,
            "--param",
            "stem.vocals=0",
            "--out",
            out_file,
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("vocals"), "{}", text(&out));

    let out = encore(
        dir.path(),
        &[
            "generate", "remix", "--input", input, "--param", "tempo", "--out", out_file,
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("NAME=VALUE"), "{}", text(&out));

    let out = encore(
        dir.path(),
        &["generate", "remux", "--input", input, "--out", out_file],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("remix, mashup, cover"),
        "{}",
        text(&out)
    );

    let out = encore(
        dir.path(),
        &["generate", "remix", "--input", input, "--out", "out.mp4"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains(".wav, .flac or .ogg"), "{}", text(&out));

    // A file that is not audio is a failure to read, exit 1, naming the file.
    let junk = dir.path().join("junk.wav");
    std::fs::write(&junk, b"not audio").expect("write");
    let out = encore(
        dir.path(),
        &[
            "generate",
            "remix",
            "--input",
            junk.to_str().expect("utf-8"),
            "--out",
            out_file,
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("junk.wav"), "{}", text(&out));
}

#[test]
fn generate_cover_writes_audio_and_midi() {
    let model = encore_engine::transcribe::default_model_path();
    if !model.is_file() {
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
        assert!(
            !ci,
            "the Basic Pitch model is missing at {} and CI is set",
            model.display()
        );
        eprintln!(
            "SKIPPED: the Basic Pitch model is missing at {}",
            model.display()
        );
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("chord.wav");
    write_chord(&input);
    let out_path = dir.path().join("cover.ogg");
    let midi_path = dir.path().join("cover.mid");
    let out = encore(
        dir.path(),
        &[
            "generate",
            "cover",
            "--input",
            input.to_str().expect("utf-8"),
            "--param",
            "instrument=strings",
            "--out",
            out_path.to_str().expect("utf-8"),
            "--midi",
            midi_path.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let midi = std::fs::read(&midi_path).expect("MIDI written");
    assert_eq!(&midi[..4], b"MThd");
    let audio = decode(
        &std::fs::read(&out_path).expect("audio written"),
        &DecodeLimits::default(),
    )
    .expect("the Ogg Vorbis reads back");
    assert!(
        audio.duration().as_secs_f64() > 2.5,
        "{:?}",
        audio.duration()
    );

    // remix has no notes to write.
    let out = encore(
        dir.path(),
        &[
            "generate",
            "remix",
            "--input",
            input.to_str().expect("utf-8"),
            "--out",
            out_path.to_str().expect("utf-8"),
            "--midi",
            midi_path.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--midi"), "{}", text(&out));
}

/// `seconds` of a chord struck on every beat at `bpm` (a decaying ring, so
/// the beat is clear), written as stereo WAV.
fn write_beat(path: &Path, bpm: f64, freqs: &[f64], seconds: f64) {
    let rate = 44_100u32;
    let period = 60.0 / bpm;
    let samples: Vec<f32> = (0..(seconds * f64::from(rate)) as usize)
        .map(|i| {
            let t = i as f64 / f64::from(rate);
            let since = t % period;
            let ring = (-since * 8.0).exp();
            freqs
                .iter()
                .map(|f| (2.0 * std::f64::consts::PI * f * t).sin() * 0.2 * ring)
                .sum::<f64>() as f32
        })
        .collect();
    let audio = Audio::from_planar(vec![samples.clone(), samples], rate).expect("audio");
    std::fs::write(path, encode_wav(&audio)).expect("write wav");
}

#[test]
fn generate_mashup_of_two_and_three_recordings() {
    let dir = tempfile::tempdir().expect("temp dir");
    let a = dir.path().join("a.wav");
    let b = dir.path().join("b.wav");
    let c = dir.path().join("c.wav");
    write_beat(&a, 100.0, &[261.63, 329.63, 392.0], 8.0);
    write_beat(&b, 124.0, &[293.66, 369.99, 440.0], 8.0);
    write_beat(&c, 90.0, &[220.0, 261.63, 329.63], 6.0);
    let path = |p: &Path| p.to_str().expect("utf-8").to_owned();
    let out_path = dir.path().join("mashup.flac");

    let out = encore(
        dir.path(),
        &[
            "generate",
            "mashup",
            "--input",
            &path(&a),
            "--input",
            &path(&b),
            "--param",
            "mode=sequence",
            "--param",
            "section_bars=1",
            "--param",
            "max_duration_s=12",
            "--out",
            &path(&out_path),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("wrote"), "{}", text(&out));
    let audio = decode(
        &std::fs::read(&out_path).expect("output written"),
        &DecodeLimits::default(),
    )
    .expect("the FLAC reads back");
    let seconds = audio.duration().as_secs_f64();
    assert!((seconds - 12.0).abs() < 0.01, "{seconds} s");
    let tempo = estimate_tempo(&audio).expect("analyses").expect("a beat");
    assert!((tempo.bpm - 100.0).abs() < 2.0, "{tempo:?}");
    let loudness = measure_loudness(&audio).expect("measures");
    assert!(
        (loudness.integrated_lufs + 14.0).abs() <= 1.0,
        "{loudness:?}"
    );
    assert!(loudness.true_peak_dbtp <= -0.8, "{loudness:?}");
    if sox().is_some() {
        let d = Command::new("sox")
            .args(["--i", "-D"])
            .arg(&out_path)
            .output()
            .expect("sox --i");
        let sox_seconds: f64 = String::from_utf8_lossy(&d.stdout)
            .trim()
            .parse()
            .expect("sox prints a duration");
        assert!(
            (sox_seconds - 12.0).abs() < 0.01,
            "sox says {sox_seconds} s"
        );
    }

    // Three inputs, the third's stem chosen by number.
    let stem = dir.path().join("c-keys.wav");
    write_beat(&stem, 90.0, &[220.0], 6.0);
    let out = encore(
        dir.path(),
        &[
            "generate",
            "mashup",
            "--input",
            &path(&a),
            "--input",
            &path(&b),
            "--input",
            &path(&c),
            "--stem",
            &format!("3:keys={}", path(&stem)),
            "--param",
            "stems.3=keys",
            "--param",
            "gain.2=0.5",
            "--out",
            &path(&dir.path().join("three.wav")),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // One input is too few; a stem of an input that does not exist, and a
    // gain for one, are named.
    let bad = |args: &[&str]| {
        let mut all = vec!["generate", "mashup"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--out", "x.wav"]);
        encore(dir.path(), &all)
    };
    let out = bad(&["--input", &path(&a)]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("2 to 4 input recordings, not 1"),
        "{}",
        text(&out)
    );
    let out = bad(&[
        "--input",
        &path(&a),
        "--input",
        &path(&b),
        "--param",
        "gain.3=1",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--param gain.3"), "{}", text(&out));
    let out = bad(&[
        "--input",
        &path(&a),
        "--input",
        &path(&b),
        "--stem",
        &format!("5:keys={}", path(&stem)),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("not an input number"), "{}", text(&out));
    assert!(!dir.path().join("x.wav").exists());
}
