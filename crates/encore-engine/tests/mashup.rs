//! Mashup stories through the public interface: songs of known, different
//! tempos and keys (rendered by the demo synthesiser) come out at one tempo
//! (re-estimated on the output), in compatible keys, at -14 LUFS with the
//! peak under -1 dB (checked with `sox` too when it is installed), as long
//! as the plan says; stems choose what plays; bad parameters and input
//! counts are named; the same inputs give the same samples; progress is
//! reported and cancellation honoured.
//!
//! Tests that need the SoundFont skip when it is absent.

mod common;
#[path = "common/music.rs"]
mod music;

use std::cell::RefCell;
use std::path::Path;
use std::process::Command;

use common::bank;
use encore_engine::analysis::{Key, KeyMode, estimate_key, estimate_tempo};
use encore_engine::audio::{Audio, encode_wav, measure_loudness};
use encore_engine::generate::{
    GenInput, GenOutput, GenerateError, Generator, Mashup, MashupMode, Params, compatible_shift,
};
use encore_engine::job::{Job, Unattended};
use encore_engine::synth::Style;
use serde_json::json;

const RATE: u32 = 44_100;

fn params(value: serde_json::Value) -> Params {
    match value {
        serde_json::Value::Object(map) => map,
        other => panic!("parameters must be an object, not {other}"),
    }
}

fn mashup(inputs: &[GenInput], p: serde_json::Value) -> Result<GenOutput, GenerateError> {
    Mashup::new().run(inputs, &params(p), 0, &Unattended)
}

fn seconds(audio: &Audio) -> f64 {
    audio.frames() as f64 / f64::from(audio.sample_rate())
}

fn assert_streaming_loudness(audio: &Audio) {
    let l = measure_loudness(audio).expect("measures");
    assert!(
        (l.integrated_lufs - -14.0).abs() <= 1.0,
        "integrated loudness {} LUFS",
        l.integrated_lufs
    );
    assert!(
        l.true_peak_dbtp <= -0.8,
        "true peak {} dBTP",
        l.true_peak_dbtp
    );
}

fn assert_tempo(audio: &Audio, bpm: f64) {
    let found = estimate_tempo(audio)
        .expect("analyses")
        .expect("the output has a beat");
    assert!(
        (found.bpm - bpm).abs() <= bpm * 0.02,
        "the output's tempo is {:.2} BPM, not {bpm:.2}",
        found.bpm
    );
}

/// Writes `audio` as WAV and checks its length and peak with `sox`, when installed.
fn check_with_sox(audio: &Audio, name: &str, expected_s: f64) {
    let Ok(version) = Command::new("sox").arg("--version").output() else {
        eprintln!("sox is not installed (scripts/lib.sh installs it); skipping its checks");
        return;
    };
    assert!(version.status.success());
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("mashup-test-{name}.wav"));
    std::fs::write(&path, encode_wav(audio)).expect("write wav");
    let d = Command::new("sox")
        .args(["--i", "-D"])
        .arg(&path)
        .output()
        .expect("sox --i");
    let sox_seconds: f64 = String::from_utf8_lossy(&d.stdout)
        .trim()
        .parse()
        .expect("sox prints a duration");
    assert!(
        (sox_seconds - expected_s).abs() < 0.01,
        "sox says {sox_seconds} s, expected {expected_s}"
    );
    let stats = Command::new("sox")
        .arg(&path)
        .args(["-n", "stats"])
        .output()
        .expect("sox stats");
    let said = String::from_utf8_lossy(&stats.stderr);
    let stat = |label: &str| -> f64 {
        said.lines()
            .find(|l| l.starts_with(label))
            .and_then(|l| l.split_whitespace().last())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {label} in sox stats: {said}"))
    };
    let peak_db = stat("Pk lev dB");
    let rms_db = stat("RMS lev dB");
    assert!(peak_db <= -1.0 && peak_db > -10.0, "sox peak {peak_db} dB");
    // -14 LUFS music sits around -14 to -20 dBFS RMS.
    assert!((-24.0..=-12.0).contains(&rms_db), "sox RMS {rms_db} dB");
}

#[test]
fn two_songs_layer_at_the_first_ones_tempo_in_a_compatible_key() {
    let Some(bank) = bank() else { return };
    let a = music::render(
        &bank,
        &music::spec(100, 0, KeyMode::Major, Style::PopBallad),
        8,
    );
    let b = music::render(&bank, &music::spec(120, 3, KeyMode::Major, Style::House), 8);
    let inputs = [a, b];

    let plan = Mashup::new()
        .plan(&inputs, &Params::new(), &Unattended)
        .expect("plans");
    assert_eq!(plan.mode, MashupMode::Layer);
    assert!((plan.tempo_bpm - 100.0).abs() < 1.0, "{plan:?}");
    assert_eq!(plan.key, Some(Key::new(0, KeyMode::Major)), "{plan:?}");
    assert_eq!(plan.inputs[0].semitones, 0);
    assert!((plan.inputs[0].stretch - 1.0).abs() < 1e-12);
    // E-flat major against C major: two semitones up to F major, C's subdominant.
    assert_eq!(plan.inputs[1].key, Some(Key::new(3, KeyMode::Major)));
    assert_eq!(plan.inputs[1].semitones, 2, "{plan:?}");
    assert!(
        (plan.inputs[1].stretch - 100.0 / 120.0).abs() < 0.01,
        "{plan:?}"
    );
    // Both start on the beat, so the output is as long as the longer, once stretched.
    let longest = seconds(&inputs[0].mix).max(seconds(&inputs[1].mix) * 1.2);
    assert!((plan.duration_s - longest).abs() < 0.1, "{plan:?}");

    let out = mashup(&inputs, json!({})).expect("mashes up");
    assert_eq!(out.audio.sample_rate(), RATE);
    assert_eq!(out.audio.channel_count(), 2);
    assert!((seconds(&out.audio) - plan.duration_s).abs() < 1e-3);
    assert_tempo(&out.audio, 100.0);
    assert_streaming_loudness(&out.audio);
    check_with_sox(&out.audio, "two-layered", seconds(&out.audio));

    // The second song alone, as the mashup plays it: at 100 BPM, in F major.
    let b_only = mashup(&inputs, json!({"gain.1": 0})).expect("mashes up");
    assert_tempo(&b_only.audio, 100.0);
    let key = estimate_key(&b_only.audio)
        .expect("analyses")
        .expect("a key");
    assert_eq!(key.key, Key::new(5, KeyMode::Major), "{key:?}");
    assert_streaming_loudness(&b_only.audio);
}

#[test]
fn four_songs_in_sequence_at_a_chosen_tempo() {
    let Some(bank) = bank() else { return };
    let specs = [
        music::spec(84, 2, KeyMode::Major, Style::PopBallad),
        music::spec(100, 9, KeyMode::Minor, Style::Rock),
        music::spec(126, 7, KeyMode::Major, Style::House),
        music::spec(144, 4, KeyMode::Minor, Style::Disco),
    ];
    let inputs: Vec<GenInput> = specs.iter().map(|s| music::render(&bank, s, 8)).collect();
    let p = json!({
        "mode": "sequence", "tempo_bpm": 110, "section_bars": 2,
        "crossfade_beats": 1, "max_duration_s": 16, "fade_out_s": 1,
    });

    let plan = Mashup::new()
        .plan(&inputs, &params(p.clone()), &Unattended)
        .expect("plans");
    assert_eq!(plan.tempo_bpm, 110.0);
    for (i, (input, spec)) in plan.inputs.iter().zip(&specs).enumerate() {
        let written = f64::from(spec.tempo_bpm);
        let found = input.tempo_bpm.expect("a tempo");
        assert!(
            (found - written).abs() < written * 0.02,
            "input {i}: {found}"
        );
        assert!(
            (input.stretch - 110.0 / written).abs() < 0.02,
            "input {i}: {}",
            input.stretch
        );
        assert!(input.semitones.abs() <= 6);
    }
    // Sections take turns, on the bar lines of the output's beat grid.
    let order: Vec<usize> = plan.segments.iter().map(|g| g.input).collect();
    assert_eq!(&order[..4], &[0, 1, 2, 3], "{order:?}");
    let beat = 60.0 / 110.0;
    let origin = plan.inputs[0].first_beat_s;
    for g in &plan.segments[1..] {
        let bar_line = g.start_s + g.fade_in_s / 2.0 - origin;
        let bars = bar_line / (4.0 * beat);
        assert!(
            (bars - bars.round()).abs() < 1e-6,
            "{g:?} is not on a bar line"
        );
    }
    // The first sections are whole: two bars each.
    for (k, g) in plan.segments[1..4].iter().enumerate() {
        let bar_line = g.start_s + g.fade_in_s / 2.0 - origin;
        let expected = 2.0 * (k + 1) as f64 * 4.0 * beat;
        assert!((bar_line - expected).abs() < 1e-6, "{g:?}");
    }
    assert_eq!(plan.duration_s, 16.0);

    let out = mashup(&inputs, p).expect("mashes up");
    assert_eq!(out.audio.frames(), 16 * RATE as usize);
    assert_tempo(&out.audio, 110.0);
    assert_streaming_loudness(&out.audio);
    check_with_sox(&out.audio, "four-sequenced", 16.0);
}

#[test]
fn stems_choose_what_plays() {
    let Some(bank) = bank() else { return };
    let a = music::render(&bank, &music::spec(96, 7, KeyMode::Major, Style::Disco), 6);
    let b = GenInput::new(a.stems["drums"].clone());
    let inputs = [a, b];
    // Only the bass of the first; the second muted: the first's own tempo
    // and key, so the bass plays untouched, moved only by the alignment.
    let p = json!({"stems.1": "bass", "gain.2": 0});
    let plan = Mashup::new()
        .plan(&inputs, &params(p.clone()), &Unattended)
        .expect("plans");
    assert_eq!(plan.inputs[0].stretch, 1.0);
    assert_eq!(plan.inputs[0].semitones, 0);
    let out = mashup(&inputs, p).expect("mashes up");
    let delay = (plan.segments[0].start_s * f64::from(RATE)).round() as usize;
    let left = out.audio.channel(0).expect("left");
    let bass = inputs[0].stems["bass"].channel(0).expect("left");
    let n = bass.len().min(left.len() - delay);
    let r = correlation(&left[delay..delay + n], &bass[..n]);
    assert!(r > 0.98, "the output is not the bass stem: correlation {r}");
    assert_streaming_loudness(&out.audio);

    // The array and object forms say the same.
    let same = mashup(
        &inputs,
        json!({"stems": {"1": ["bass"]}, "gains": {"2": 0}}),
    )
    .expect("mashes up");
    assert_eq!(same.audio, out.audio);
}

fn correlation(a: &[f32], b: &[f32]) -> f64 {
    let n = a.len().min(b.len());
    let dot: f64 = (0..n).map(|i| f64::from(a[i]) * f64::from(b[i])).sum();
    let ea: f64 = a[..n].iter().map(|&x| f64::from(x).powi(2)).sum();
    let eb: f64 = b[..n].iter().map(|&x| f64::from(x).powi(2)).sum();
    dot / (ea * eb).sqrt().max(1e-12)
}

/// Two short tones, one with stems, for the checks that need no music.
fn tones() -> Vec<GenInput> {
    let tone = |hz: f64, seconds: f64| {
        let n = (seconds * f64::from(RATE)) as usize;
        let s: Vec<f32> = (0..n)
            .map(|i| (0.4 * (2.0 * std::f64::consts::PI * hz * i as f64 / 44_100.0).sin()) as f32)
            .collect();
        Audio::from_planar(vec![s.clone(), s], RATE).expect("audio")
    };
    vec![
        GenInput::new(tone(220.0, 2.0)).with_stem("keys", tone(220.0, 2.0)),
        GenInput::new(tone(330.0, 1.5)),
    ]
}

fn invalid(result: Result<GenOutput, GenerateError>) -> (String, String) {
    match result {
        Err(e @ GenerateError::InvalidParameter { .. }) => {
            (e.parameter().expect("named").to_owned(), e.to_string())
        }
        Err(other) => panic!("expected InvalidParameter, got {other:?}"),
        Ok(_) => panic!("expected InvalidParameter, got output"),
    }
}

#[test]
fn bad_parameters_and_input_counts_are_named() {
    let inputs = tones();
    for (p, name, says) in [
        (
            json!({"tempo_bpm": 0}),
            "tempo_bpm",
            "between 40.0 and 240.0",
        ),
        (json!({"tempo_bpm": "fast"}), "tempo_bpm", "not a number"),
        (json!({"gain.1": 5}), "gain.1", "between 0.0 and 4.0"),
        (json!({"gain.1": -0.5}), "gain.1", "between 0.0 and 4.0"),
        (json!({"gain.3": 1}), "gain.3", "1 to 2"),
        (json!({"gains": {"x": 1}}), "gain.x", "1 to 2"),
        (json!({"gains": 3}), "gains", "object"),
        (json!({"mode": "blend"}), "mode", "layer or sequence"),
        (json!({"key": "H minor"}), "key", "auto, keep"),
        (json!({"section_bars": 1.5}), "section_bars", "whole number"),
        (
            json!({"section_bars": 0}),
            "section_bars",
            "between 1.0 and 64.0",
        ),
        (
            json!({"mode": "sequence", "section_bars": 1, "crossfade_beats": 8}),
            "crossfade_beats",
            "at most the length of a section",
        ),
        (json!({"crossfade_beats": 17}), "crossfade_beats", "between"),
        (
            json!({"max_duration_s": 301}),
            "max_duration_s",
            "between 1.0 and 300.0",
        ),
        (json!({"fade_in_s": -1}), "fade_in_s", "between"),
        (json!({"stems.1": ""}), "stems.1", "at least one stem"),
        (json!({"stems.1": 4}), "stems.1", "stem names"),
        (json!({"tempo": 1.2}), "tempo", "no parameter named tempo"),
    ] {
        let (got, text) = invalid(mashup(&inputs, p.clone()));
        assert_eq!(got, name, "{p}: {text}");
        assert!(text.contains(says), "{p}: {text}");
    }
    // Stems that do not exist are named with what there is.
    for (p, name, stem, has) in [
        (
            json!({"stems.1": "keys,vocals"}),
            "stems.1",
            "vocals",
            "it has keys",
        ),
        (
            json!({"stems": {"2": ["drums"]}}),
            "stems.2",
            "drums",
            "no stems",
        ),
    ] {
        match mashup(&inputs, p) {
            Err(e @ GenerateError::UnknownStem { .. }) => {
                assert_eq!(e.parameter(), Some(name));
                let text = e.to_string();
                assert!(text.contains(stem) && text.contains(has), "{text}");
                assert!(e.is_bad_input());
            }
            other => panic!("expected UnknownStem, got {other:?}"),
        }
    }
    // One input, or five, is the wrong number.
    let one = &inputs[..1];
    let five: Vec<GenInput> = (0..5).map(|i| inputs[i % 2].clone()).collect();
    for (given, got) in [(one.to_vec(), 1usize), (five, 5)] {
        match mashup(&given, json!({})) {
            Err(e @ GenerateError::InputCount { .. }) => {
                assert!(
                    matches!(e, GenerateError::InputCount { min: 2, max: 4, got: g, .. } if g == got),
                    "{e:?}"
                );
                assert!(e.to_string().contains("2 to 4 input recordings"), "{e}");
                assert!(e.is_bad_input());
            }
            other => panic!("expected InputCount for {got}, got {other:?}"),
        }
    }
}

#[test]
fn same_inputs_and_parameters_give_the_same_samples() {
    let mut inputs = tones();
    // A little noise, so the stretcher has detail to treat.
    let mut x = 7u32;
    for c in inputs[1].mix.channels_mut() {
        for s in c {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            *s += (x >> 9) as f32 / (1u32 << 23) as f32 * 0.05;
        }
    }
    let p = params(json!({"tempo_bpm": 97, "key": "D minor", "gain.2": 0.7, "fade_in_s": 0.2}));
    let run = || {
        Mashup::new()
            .run(&inputs, &p, 9, &Unattended)
            .expect("mashes up")
    };
    let (a, b) = (run(), run());
    assert_eq!(a.audio, b.audio);
    assert_eq!(encode_wav(&a.audio), encode_wav(&b.audio));
}

/// Records progress reports and cancels once asked to.
struct Recorder {
    reports: RefCell<Vec<f32>>,
    cancel_after: Option<usize>,
}

impl Job for Recorder {
    fn progress(&self, done: f32) {
        self.reports.borrow_mut().push(done);
    }
    fn cancelled(&self) -> bool {
        self.cancel_after
            .is_some_and(|n| self.reports.borrow().len() > n)
    }
}

#[test]
fn progress_is_reported_and_cancellation_honoured() {
    let inputs = tones();
    let p = params(json!({"tempo_bpm": 150, "key": "E"}));
    let job = Recorder {
        reports: RefCell::new(Vec::new()),
        cancel_after: None,
    };
    Mashup::new().run(&inputs, &p, 0, &job).expect("mashes up");
    let reports = job.reports.borrow();
    assert!(reports.len() >= 5, "{reports:?}");
    assert!(reports.windows(2).all(|w| w[0] <= w[1]), "{reports:?}");
    assert_eq!(reports.last().copied(), Some(1.0));

    // Cancelled during analysis, and during rendering.
    for after in [1, 3] {
        let job = Recorder {
            reports: RefCell::new(Vec::new()),
            cancel_after: Some(after),
        };
        let err = Mashup::new()
            .run(&inputs, &p, 0, &job)
            .expect_err("cancelled");
        assert!(matches!(err, GenerateError::Cancelled), "{err:?}");
    }
}

#[test]
fn compatible_keys_are_reached_by_the_smallest_shift() {
    let c_major = Key::new(0, KeyMode::Major);
    let key = |text: &str| Key::parse(text).expect("a key");
    for (from, shift) in [
        ("C", 0),
        ("G", 0),       // the dominant
        ("F", 0),       // the subdominant
        ("A minor", 0), // the relative minor
        ("D minor", 0), // a neighbour of the relative
        ("E minor", 0),
        ("Eb", 2),        // up to F
        ("E", 1),         // up to F
        ("D", -2),        // down to C
        ("F#", 1),        // the tritone: up to G
        ("F# minor", -2), // down to E minor
        ("C minor", 2),   // up to D minor
        ("B", 1),         // up to C
    ] {
        let got = compatible_shift(key(from), c_major);
        assert_eq!(got, shift, "{from} against C major");
        let moved = key(from).transposed(got);
        let fits = [c_major, c_major.transposed(7), c_major.transposed(5)]
            .iter()
            .any(|k| *k == moved || k.relative() == moved);
        assert!(fits, "{from} moved by {got} is {moved}");
    }
    // Every key is within six semitones of a compatible one.
    for tonic in 0..12 {
        for mode in [KeyMode::Major, KeyMode::Minor] {
            assert!(compatible_shift(Key::new(tonic, mode), c_major).abs() <= 6);
        }
    }
}

#[test]
fn key_keep_and_an_asked_key_are_honoured() {
    let Some(bank) = bank() else { return };
    let a = music::render(
        &bank,
        &music::spec(110, 9, KeyMode::Minor, Style::Synthwave),
        6,
    );
    let b = music::render(&bank, &music::spec(110, 1, KeyMode::Major, Style::Disco), 6);
    let inputs = [a, b];
    let keep = Mashup::new()
        .plan(&inputs, &params(json!({"key": "keep"})), &Unattended)
        .expect("plans");
    assert_eq!(keep.key, None);
    assert!(keep.inputs.iter().all(|i| i.semitones == 0), "{keep:?}");
    let asked = Mashup::new()
        .plan(&inputs, &params(json!({"key": "G major"})), &Unattended)
        .expect("plans");
    assert_eq!(asked.key, Some(Key::new(7, KeyMode::Major)));
    // A minor against G major: its relative is E minor, whose neighbours are
    // B minor and A minor: no shift.  D-flat major: up to D (+1).
    assert_eq!(asked.inputs[0].semitones, 0, "{asked:?}");
    assert_eq!(asked.inputs[1].semitones, 1, "{asked:?}");
}

/// A click with a 440 Hz ring on every beat at `bpm`, for `seconds`, in stereo.
fn metronome(bpm: f64, seconds: f64) -> Audio {
    let period = (60.0 / bpm * f64::from(RATE)) as usize;
    let s: Vec<f32> = (0..(seconds * f64::from(RATE)) as usize)
        .map(|i| {
            let k = (i % period) as f64 / f64::from(RATE);
            (0.6 * (-k * 30.0).exp() * (2.0 * std::f64::consts::PI * 440.0 * k).sin()) as f32
        })
        .collect();
    Audio::from_planar(vec![s.clone(), s], RATE).expect("audio")
}

#[test]
fn sequence_leaves_no_gap_when_an_input_runs_out() {
    // A long and a short input at 120 BPM (2 s bars), sections of two bars.
    let inputs = [
        GenInput::new(metronome(120.0, 17.0)),
        GenInput::new(metronome(120.0, 5.0)),
    ];
    let p = json!({"mode": "sequence", "section_bars": 2, "crossfade_beats": 0});
    let plan = Mashup::new()
        .plan(&inputs, &params(p.clone()), &Unattended)
        .expect("plans");
    let order: Vec<usize> = plan.segments.iter().map(|g| g.input).collect();
    // A, B, A, then B's last second in a bar of its own, then A to its end
    // as one continuous segment.
    assert_eq!(order, [0, 1, 0, 1, 0], "{plan:?}");
    // Where the output has sound from some input; gaps must be under a bar.
    let mut heard: Vec<(f64, f64)> = plan
        .segments
        .iter()
        .map(|g| {
            let left = plan.inputs[g.input].stretched_s - g.source_s;
            (g.start_s, g.start_s + g.duration_s.min(left))
        })
        .collect();
    heard.sort_by(|a, b| a.0.total_cmp(&b.0));
    for pair in heard.windows(2) {
        assert!(pair[1].0 - pair[0].1 < 2.0, "a gap of {:?}", pair);
    }
    // Everything of both is heard: the whole mashup is as long as both together.
    let total: f64 = plan.inputs.iter().map(|i| i.stretched_s).sum();
    assert!(plan.duration_s >= total - 0.05, "{plan:?}");
    assert!(plan.duration_s < total + 2.0, "{plan:?}");
    let out = mashup(&inputs, p).expect("mashes up");
    assert!((seconds(&out.audio) - plan.duration_s).abs() < 1e-3);
    assert_tempo(&out.audio, 120.0);
}
