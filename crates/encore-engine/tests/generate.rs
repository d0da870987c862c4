//! Generator stories through the public interface: remix changes tempo
//! without pitch and key without tempo, balances stems, loops, fades and caps
//! its output, always at -14 LUFS; cover performs the notes anew; bad
//! parameters and bad audio are clear errors; outputs are reproducible; and
//! random parameters and audio never panic (remix, mashup and cover).
//! Mashup's own stories are in `tests/mashup.rs`.
//!
//! Tests that need the SoundFont skip when it is absent.  Cover tests need the
//! Basic Pitch model: without it they print why and pass, unless `CI` is set,
//! when they fail (as in `tests/transcribe.rs`).

mod common;

use common::{bank, model};
use std::cell::RefCell;
use std::sync::Arc;

use encore_engine::analysis::estimate_tempo;
use encore_engine::audio::{
    Audio, AudioError, DecodeLimits, FlacBitDepth, decode, encode_flac, encode_wav,
    measure_loudness,
};
use encore_engine::generate::{
    Cover, CoverGuard, Execution, GenInput, GenOutput, GenerateError, Generator, Mashup, Params,
    Remix, UseType, generator, generators,
};
use encore_engine::job::{Job, Unattended};
use encore_engine::transcribe::{Note, render_notes};
use encore_engine::{SoundFontBank, demo_songs, render_song};
use serde_json::json;

const RATE: u32 = 44_100;

/// A demo song (about 5 s of music plus its release tail) with its four stems.
fn demo_input(bank: &SoundFontBank) -> GenInput {
    let songs = demo_songs();
    let song = render_song(bank, &songs[0], Some(5)).expect("renders");
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

fn params(value: serde_json::Value) -> Params {
    match value {
        serde_json::Value::Object(map) => map,
        other => panic!("parameters must be an object, not {other}"),
    }
}

fn remix(input: &GenInput, p: serde_json::Value) -> Result<GenOutput, GenerateError> {
    Remix::new().run(std::slice::from_ref(input), &params(p), 0, &Unattended)
}

fn seconds(audio: &Audio) -> f64 {
    audio.frames() as f64 / f64::from(audio.sample_rate())
}

/// A sine at `freq_hz`, stereo, at half scale.
fn sine(freq_hz: f64, seconds: f64, rate: u32) -> Audio {
    let n = (seconds * f64::from(rate)) as usize;
    let s: Vec<f32> = (0..n)
        .map(|i| {
            (0.5 * (2.0 * std::f64::consts::PI * freq_hz * i as f64 / f64::from(rate)).sin()) as f32
        })
        .collect();
    Audio::from_planar(vec![s.clone(), s], rate).expect("audio")
}

/// The frequency of a steady tone from its zero crossings in the middle half.
fn tone_hz(audio: &Audio) -> f64 {
    let mono = audio.to_mono();
    let s = mono.channel(0).expect("one channel");
    let (a, b) = (s.len() / 4, 3 * s.len() / 4);
    let crossings = s[a..b]
        .windows(2)
        .filter(|w| (w[0] <= 0.0) != (w[1] <= 0.0))
        .count();
    crossings as f64 / 2.0 / ((b - a) as f64 / f64::from(audio.sample_rate()))
}

/// Bins per octave of the log-frequency spectrum below (a bin is half a semitone).
const BINS_PER_OCTAVE: f64 = 24.0;

/// The average magnitude spectrum of the mono mix in log-frequency bins from
/// 110 Hz over five octaves (Goertzel filters on Hann-windowed frames spread
/// over the middle of the audio), as dB.
fn log_spectrum(audio: &Audio) -> Vec<f64> {
    let mono = audio.to_mono();
    let s = mono.channel(0).expect("one channel");
    let frame = 4096usize;
    let frames = 12usize;
    let rate = f64::from(audio.sample_rate());
    let bins = (5.0 * BINS_PER_OCTAVE) as usize;
    let mut power = vec![0.0f64; bins];
    let span = s.len().saturating_sub(frame).max(1);
    for f in 0..frames {
        let start = span / 8 + f * (span * 3 / 4) / frames;
        let x: Vec<f64> = (0..frame)
            .map(|i| {
                let w = 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / frame as f64).cos();
                w * f64::from(s.get(start + i).copied().unwrap_or(0.0))
            })
            .collect();
        for (b, p) in power.iter_mut().enumerate() {
            let freq = 110.0 * 2f64.powf(b as f64 / BINS_PER_OCTAVE);
            let coeff = 2.0 * (2.0 * std::f64::consts::PI * freq / rate).cos();
            let (mut s1, mut s2) = (0.0, 0.0);
            for &v in &x {
                let s0 = v + coeff * s1 - s2;
                s2 = s1;
                s1 = s0;
            }
            *p += s1 * s1 + s2 * s2 - coeff * s1 * s2;
        }
    }
    power.iter().map(|p| 10.0 * (p + 1e-12).log10()).collect()
}

/// The shift, in half-semitone bins, that best lines `shifted`'s spectrum up with `original`'s.
fn spectral_shift_bins(original: &Audio, shifted: &Audio) -> i64 {
    let (a, b) = (log_spectrum(original), log_spectrum(shifted));
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let score = |lag: i64| -> f64 {
        let pairs: Vec<(f64, f64)> = (0..a.len() as i64)
            .filter_map(|i| {
                let j = i + lag;
                (j >= 0 && (j as usize) < b.len()).then(|| (a[i as usize], b[j as usize]))
            })
            .collect();
        let xs: Vec<f64> = pairs.iter().map(|p| p.0).collect();
        let ys: Vec<f64> = pairs.iter().map(|p| p.1).collect();
        let (mx, my) = (mean(&xs), mean(&ys));
        let cov: f64 = pairs.iter().map(|(x, y)| (x - mx) * (y - my)).sum();
        let vx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
        let vy: f64 = ys.iter().map(|y| (y - my).powi(2)).sum();
        cov / (vx * vy).sqrt().max(1e-12)
    };
    (-10..=10)
        .max_by(|&x, &y| score(x).total_cmp(&score(y)))
        .expect("lags")
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

fn correlation(a: &[f32], b: &[f32]) -> f64 {
    let n = a.len().min(b.len());
    let dot: f64 = (0..n).map(|i| f64::from(a[i]) * f64::from(b[i])).sum();
    let ea: f64 = a[..n].iter().map(|&x| f64::from(x).powi(2)).sum();
    let eb: f64 = b[..n].iter().map(|&x| f64::from(x).powi(2)).sum();
    dot / (ea * eb).sqrt().max(1e-12)
}

fn rms(s: &[f32]) -> f64 {
    (s.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / s.len().max(1) as f64).sqrt()
}

fn invalid_parameter(result: Result<GenOutput, GenerateError>) -> (String, String) {
    match result {
        Err(e @ GenerateError::InvalidParameter { .. }) => {
            let name = e.parameter().expect("names the parameter").to_owned();
            (name, e.to_string())
        }
        Err(other) => panic!("expected InvalidParameter, got {other:?}"),
        Ok(_) => panic!("expected InvalidParameter, got output"),
    }
}

#[test]
fn registry_lists_remix_mashup_and_cover_with_schemas() {
    let all = generators();
    let names: Vec<&str> = all.iter().map(|g| g.name()).collect();
    assert_eq!(names, ["remix", "mashup", "cover"]);
    assert_eq!(
        generator("remix").expect("remix").use_type(),
        UseType::Remix
    );
    assert_eq!(
        generator("mashup").expect("mashup").use_type(),
        UseType::Mashup
    );
    assert_eq!(
        generator("cover").expect("cover").use_type(),
        UseType::Cover
    );
    assert!(generator("mashup-nope").is_none());
    for g in &all {
        assert_eq!(g.execution(), Execution::Local);
        let limits = g.limits();
        let counts = if g.name() == "mashup" { (2, 4) } else { (1, 1) };
        assert_eq!((limits.inputs_min, limits.inputs_max), counts);
        assert!(limits.output_duration_max_ms > 0 && limits.memory_bytes_estimate > 0);
        let schema = g.params_schema();
        assert_eq!(schema["type"], "object");
        let props = schema["properties"].as_object().expect("properties");
        assert!(!props.is_empty());
        for (name, p) in props {
            assert!(
                p["description"].is_string(),
                "{} {name} has no description",
                g.name()
            );
            assert!(
                p["type"].is_string() || p["oneOf"].is_array(),
                "{} {name} has no type",
                g.name()
            );
        }
    }
    let remix = generator("remix").expect("remix").params_schema();
    assert_eq!(remix["properties"]["tempo"]["minimum"], 0.5);
    assert_eq!(remix["properties"]["tempo"]["maximum"], 2.0);
    assert_eq!(remix["properties"]["tempo"]["default"], 1.0);
    assert_eq!(remix["properties"]["semitones"]["minimum"], -12.0);
    let mashup = generator("mashup").expect("mashup").params_schema();
    assert_eq!(mashup["properties"]["tempo_bpm"]["minimum"], 40.0);
    assert_eq!(
        mashup["properties"]["mode"]["enum"],
        json!(["layer", "sequence"])
    );
    assert!(mashup["patternProperties"]["^gain\\.[1-4]$"].is_object());
}

#[test]
fn remix_tempo_changes_duration_not_pitch() {
    let input = GenInput::new(sine(440.0, 4.0, RATE));
    let out = remix(&input, json!({"tempo": 1.25})).expect("remixes");
    let expected = 4.0 / 1.25;
    assert!(
        (seconds(&out.audio) - expected).abs() <= expected * 0.02,
        "{} s",
        seconds(&out.audio)
    );
    let hz = tone_hz(&out.audio);
    assert!((hz - 440.0).abs() < 440.0 * 0.01, "pitch moved to {hz} Hz");
    assert_eq!(out.audio.channel_count(), 2);
    assert_eq!(out.audio.sample_rate(), 44_100);
    assert_streaming_loudness(&out.audio);
}

#[test]
fn remix_keeps_the_beat_where_it_was() {
    // Clicks ringing at 440 Hz on every beat at 120 BPM, from 0.3 s.
    let lead = 0.3;
    let period = 0.5;
    let n = (6.0 * f64::from(RATE)) as usize;
    let s: Vec<f32> = (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(RATE) - lead;
            if t < 0.0 {
                return 0.0;
            }
            let k = t % period;
            (0.6 * (-k * 30.0).exp() * (2.0 * std::f64::consts::PI * 440.0 * k).sin()) as f32
        })
        .collect();
    let input = GenInput::new(Audio::from_planar(vec![s.clone(), s], RATE).expect("audio"));
    let before = estimate_tempo(&input.mix)
        .expect("analyses")
        .expect("a beat");
    for (p, speed) in [
        (json!({"tempo": 1.25}), 1.25),
        (json!({"tempo": 0.8, "semitones": -2}), 0.8),
        (json!({"semitones": 3}), 1.0),
    ] {
        let out = remix(&input, p.clone()).expect("remixes");
        let after = estimate_tempo(&out.audio)
            .expect("analyses")
            .expect("a beat");
        // The stretcher's pre-roll is dropped: beats move only by the tempo.
        let expected = before.first_beat_s / speed;
        assert!(
            (after.first_beat_s - expected).abs() < 0.015,
            "{p}: first beat at {:.4} s, expected {expected:.4}",
            after.first_beat_s
        );
        assert!((after.bpm - before.bpm * speed).abs() < before.bpm * speed * 0.01);
    }
}

#[test]
fn remix_semitones_change_pitch_not_duration() {
    let input = GenInput::new(sine(440.0, 3.0, 48_000));
    let out = remix(&input, json!({"semitones": 2})).expect("remixes");
    assert!(
        (seconds(&out.audio) - 3.0).abs() < 0.01,
        "{} s",
        seconds(&out.audio)
    );
    let hz = tone_hz(&out.audio);
    let expected = 440.0 * 2f64.powf(2.0 / 12.0);
    assert!(
        (hz - expected).abs() < expected * 0.01,
        "{hz} Hz, expected {expected}"
    );
}

#[test]
fn remix_of_a_demo_song_keeps_or_moves_its_key_as_asked() {
    let Some(bank) = bank() else { return };
    let input = demo_input(&bank);
    let in_s = seconds(&input.mix);

    let faster = remix(&input, json!({"tempo": 1.25})).expect("tempo");
    let expected = in_s / 1.25;
    assert!(
        (seconds(&faster.audio) - expected).abs() <= expected * 0.02,
        "{} s, expected {expected}",
        seconds(&faster.audio)
    );
    let shift = spectral_shift_bins(&input.mix, &faster.audio);
    assert!(
        shift.abs() <= 1,
        "tempo moved the key by {shift} half-semitones"
    );
    assert_streaming_loudness(&faster.audio);

    let higher = remix(&input, json!({"semitones": 2})).expect("key");
    assert!((seconds(&higher.audio) - in_s).abs() < 0.01);
    // Two semitones are four half-semitone bins.
    let shift = spectral_shift_bins(&input.mix, &higher.audio);
    assert!(
        (3..=5).contains(&shift),
        "shifted by {shift} half-semitones, not 4"
    );
    assert_streaming_loudness(&higher.audio);
}

#[test]
fn remix_mutes_and_balances_stems() {
    let Some(bank) = bank() else { return };
    let input = demo_input(&bank);
    let stem = |name: &str| {
        input.stems[name]
            .to_mono()
            .channel(0)
            .expect("mono")
            .to_vec()
    };

    let bass_only = remix(
        &input,
        json!({"stem.drums": 0, "stem.keys": 0, "stem.lead": 0}),
    )
    .expect("remixes");
    let out = bass_only.audio.to_mono().channel(0).expect("mono").to_vec();
    assert!(
        correlation(&out, &stem("bass")) > 0.99,
        "{}",
        correlation(&out, &stem("bass"))
    );
    assert!(correlation(&out, &stem("drums")).abs() < 0.3);

    // The object form does the same as the dotted form.
    let same =
        remix(&input, json!({"stems": {"drums": 0, "keys": 0, "lead": 0}})).expect("remixes");
    assert_eq!(same.audio, bass_only.audio);

    let no_drums = remix(&input, json!({"stem.drums": 0, "stem.bass": 1.5})).expect("remixes");
    let out = no_drums.audio.to_mono().channel(0).expect("mono").to_vec();
    let mix = input.mix.to_mono().channel(0).expect("mono").to_vec();
    assert!(correlation(&out, &stem("drums")) < correlation(&mix, &stem("drums")));
    assert_streaming_loudness(&no_drums.audio);
}

#[test]
fn unknown_stems_are_named() {
    let Some(bank) = bank() else { return };
    let input = demo_input(&bank);
    match remix(&input, json!({"stem.vocals": 0})) {
        Err(e @ GenerateError::UnknownStem { .. }) => {
            assert_eq!(e.parameter(), Some("stem.vocals"));
            let text = e.to_string();
            assert!(
                text.contains("'vocals'") && text.contains("bass, drums, keys, lead"),
                "{text}"
            );
        }
        other => panic!("expected UnknownStem, got {other:?}"),
    }
    // A recording without stems has none to balance.
    let plain = GenInput::new(sine(220.0, 1.0, RATE));
    match remix(&plain, json!({"stems": {"drums": 0}})) {
        Err(e @ GenerateError::UnknownStem { .. }) => {
            assert!(e.to_string().contains("no stems"), "{e}");
        }
        other => panic!("expected UnknownStem, got {other:?}"),
    }
}

#[test]
fn remix_loops_fades_and_caps() {
    let input = GenInput::new(sine(330.0, 4.0, RATE));
    let looped = remix(
        &input,
        json!({"loop_start_s": 1.0, "loop_end_s": 2.0, "loop_repeats": 3}),
    )
    .expect("loops");
    assert!(
        (seconds(&looped.audio) - 3.0).abs() < 0.001,
        "{}",
        seconds(&looped.audio)
    );

    let capped = remix(&input, json!({"tempo": 0.5, "max_duration_s": 2})).expect("caps");
    assert!(
        (seconds(&capped.audio) - 2.0).abs() < 0.001,
        "{}",
        seconds(&capped.audio)
    );

    let faded = remix(&input, json!({"fade_in_s": 1.0, "fade_out_s": 1.0})).expect("fades");
    let s = faded.audio.channel(0).expect("left");
    let ms = |a: f64, b: f64| &s[(a * 44_100.0) as usize..(b * 44_100.0) as usize];
    let middle = rms(ms(1.5, 2.5));
    assert!(rms(ms(0.0, 0.05)) < middle * 0.1, "fade-in");
    assert!(rms(ms(3.95, 4.0)) < middle * 0.1, "fade-out");
    assert!(rms(ms(0.45, 0.55)) < middle * 0.7, "fade-in is gradual");
    assert_streaming_loudness(&faded.audio);
}

#[test]
fn bad_parameters_are_named() {
    let input = GenInput::new(sine(440.0, 1.0, RATE));
    let (name, text) = invalid_parameter(remix(&input, json!({"tempo": 0})));
    assert_eq!(name, "tempo");
    assert!(text.contains("tempo must be between 0.5 and 2.0"), "{text}");
    let (name, text) = invalid_parameter(remix(&input, json!({"semitones": 40})));
    assert_eq!(name, "semitones");
    assert!(text.contains("between -12.0 and 12.0"), "{text}");
    let (name, _) = invalid_parameter(remix(&input, json!({"tempo": "fast"})));
    assert_eq!(name, "tempo");
    let (name, text) = invalid_parameter(remix(&input, json!({"tempi": 1.2})));
    assert_eq!(name, "tempi");
    assert!(text.contains("no parameter named tempi"), "{text}");
    let (name, _) = invalid_parameter(remix(&input, json!({"loop_repeats": 1.5})));
    assert_eq!(name, "loop_repeats");
    let (name, _) = invalid_parameter(remix(&input, json!({"loop_start_s": 5})));
    assert_eq!(name, "loop_start_s");
    let (name, _) = invalid_parameter(remix(
        &input,
        json!({"loop_start_s": 0.5, "loop_end_s": 0.2}),
    ));
    assert_eq!(name, "loop_end_s");
    let (name, _) = invalid_parameter(remix(&input, json!({"max_duration_s": 0})));
    assert_eq!(name, "max_duration_s");
    let err = remix(&input, json!({"tempo": 0})).expect_err("bad");
    assert!(err.is_bad_input());
}

#[test]
fn bad_audio_is_a_clear_error() {
    let empty = GenInput::new(Audio::from_planar(vec![Vec::new()], RATE).expect("audio"));
    for g in generators() {
        let limits = g.limits();
        let fewest = vec![empty.clone(); limits.inputs_min];
        let err = g
            .run(&fewest, &Params::new(), 0, &Unattended)
            .expect_err("empty audio");
        assert!(
            matches!(err, GenerateError::Audio(AudioError::Empty)),
            "{}: {err:?}",
            g.name()
        );
        assert!(err.is_bad_input());

        let err = g
            .run(&[], &Params::new(), 0, &Unattended)
            .expect_err("no input");
        assert!(
            matches!(err, GenerateError::InputCount { got: 0, .. }),
            "{err:?}"
        );
        let too_many = vec![empty.clone(); limits.inputs_max + 1];
        let err = g
            .run(&too_many, &Params::new(), 0, &Unattended)
            .expect_err("too many inputs");
        let not = format!("not {}", limits.inputs_max + 1);
        assert!(err.to_string().contains(&not), "{err}");
    }
    // Garbage never becomes audio in the first place.
    assert!(matches!(
        decode(b"this is not audio at all", &DecodeLimits::default()),
        Err(AudioError::Unsupported)
    ));
    // Audio longer than the limit is refused before any work.
    let long =
        GenInput::new(Audio::from_planar(vec![vec![0.0; 8_000 * 601]], 8_000).expect("audio"));
    let err = Remix::new()
        .run(std::slice::from_ref(&long), &Params::new(), 0, &Unattended)
        .expect_err("too long");
    assert!(
        matches!(err, GenerateError::InputTooLong { index: 0, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("600 s"), "{err}");
    let short = GenInput::new(sine(220.0, 1.0, RATE));
    let err = Mashup::new()
        .run(&[short, long], &Params::new(), 0, &Unattended)
        .expect_err("too long");
    assert!(
        matches!(err, GenerateError::InputTooLong { index: 1, .. }),
        "{err:?}"
    );
    // A rate nothing can resample from is refused, not attempted.
    let odd = GenInput::new(Audio::from_planar(vec![vec![0.1; 100]], 3).expect("audio"));
    let err = Remix::new()
        .run(std::slice::from_ref(&odd), &Params::new(), 0, &Unattended)
        .expect_err("odd rate");
    assert!(err.to_string().contains("sample rate"), "{err}");
}

#[test]
fn same_inputs_params_and_seed_give_the_same_bytes() {
    let mut tone = sine(261.63, 2.0, RATE);
    let mut x = 1u32;
    for c in tone.channels_mut() {
        for s in c {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            *s += (x >> 9) as f32 / (1u32 << 23) as f32 * 0.05;
        }
    }
    let input = GenInput::new(tone);
    let p = params(json!({"tempo": 1.1, "semitones": -3, "fade_out_s": 0.5}));
    let run = || {
        Remix::new()
            .run(std::slice::from_ref(&input), &p, 42, &Unattended)
            .expect("remixes")
    };
    let (a, b) = (run(), run());
    assert_eq!(encode_wav(&a.audio), encode_wav(&b.audio));
    assert_eq!(
        encode_flac(&a.audio, FlacBitDepth::Sixteen).expect("flac"),
        encode_flac(&b.audio, FlacBitDepth::Sixteen).expect("flac")
    );
}

/// Records progress reports and cancels once asked to.
struct Recorder {
    reports: RefCell<Vec<f32>>,
    cancel: bool,
}

impl Job for Recorder {
    fn progress(&self, done: f32) {
        self.reports.borrow_mut().push(done);
    }
    fn cancelled(&self) -> bool {
        self.cancel && !self.reports.borrow().is_empty()
    }
}

#[test]
fn remix_reports_progress_and_can_be_cancelled() {
    let input = GenInput::new(sine(440.0, 5.0, RATE));
    let p = params(json!({"tempo": 0.8}));
    let job = Recorder {
        reports: RefCell::new(Vec::new()),
        cancel: false,
    };
    Remix::new()
        .run(std::slice::from_ref(&input), &p, 0, &job)
        .expect("remixes");
    let reports = job.reports.borrow();
    assert!(reports.len() >= 4, "{reports:?}");
    assert!(reports.windows(2).all(|w| w[0] <= w[1]), "{reports:?}");
    assert_eq!(reports.last().copied(), Some(1.0));

    let job = Recorder {
        reports: RefCell::new(Vec::new()),
        cancel: true,
    };
    let err = Remix::new()
        .run(std::slice::from_ref(&input), &p, 0, &job)
        .expect_err("cancelled");
    assert!(matches!(err, GenerateError::Cancelled), "{err:?}");
}

/// A small deterministic generator for the property loop.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[(self.next() % items.len() as u64) as usize]
    }
}

/// Short random audio: noise, a chord of sines, silence or a click, at a random rate and width.
fn random_audio(rng: &mut Rng) -> Audio {
    let rate = rng.pick(&[8_000u32, 22_050, 44_100, 48_000]);
    let channels = rng.pick(&[1usize, 2]);
    let frames = ((rng.range(0.02, 3.0)) * f64::from(rate)) as usize;
    let kind = rng.next() % 4;
    let freqs = [rng.range(50.0, 2000.0), rng.range(50.0, 2000.0)];
    let mut data = vec![vec![0.0f32; frames.max(1)]; channels];
    for c in &mut data {
        for (i, s) in c.iter_mut().enumerate() {
            let t = i as f64 / f64::from(rate);
            *s = match kind {
                0 => (rng.unit() * 2.0 - 1.0) as f32,
                1 => {
                    (freqs
                        .iter()
                        .map(|f| (2.0 * std::f64::consts::PI * f * t).sin())
                        .sum::<f64>()
                        * 0.4) as f32
                }
                2 => 0.0,
                _ => {
                    if i % 1000 == 0 {
                        1.0
                    } else {
                        0.0
                    }
                }
            };
        }
    }
    Audio::from_planar(data, rate).expect("audio")
}

fn random_remix_params(rng: &mut Rng, input_s: f64) -> Params {
    let mut p = Params::new();
    if rng.unit() < 0.7 {
        p.insert("tempo".into(), json!(rng.range(0.5, 2.0)));
    }
    if rng.unit() < 0.5 {
        p.insert("semitones".into(), json!(rng.range(-12.0, 12.0)));
    }
    if rng.unit() < 0.3 && input_s > 0.3 {
        let start = rng.range(0.0, input_s - 0.2);
        p.insert("loop_start_s".into(), json!(start));
        p.insert("loop_end_s".into(), json!(start + rng.range(0.1, 10.0)));
        p.insert("loop_repeats".into(), json!(1 + rng.next() % 64));
    }
    if rng.unit() < 0.3 {
        p.insert("fade_in_s".into(), json!(rng.range(0.0, 60.0)));
    }
    if rng.unit() < 0.3 {
        p.insert("fade_out_s".into(), json!(rng.range(0.0, 60.0)));
    }
    if rng.unit() < 0.3 {
        p.insert("max_duration_s".into(), json!(rng.range(1.0, 600.0)));
    }
    p
}

fn random_mashup_params(rng: &mut Rng, inputs: usize) -> Params {
    let mut p = Params::new();
    if rng.unit() < 0.7 {
        p.insert("mode".into(), json!(rng.pick(&["layer", "sequence"])));
    }
    if rng.unit() < 0.5 {
        p.insert("tempo_bpm".into(), json!(rng.range(40.0, 240.0)));
    }
    if rng.unit() < 0.4 {
        let key = rng.pick(&["auto", "keep", "A minor", "Eb", "F#m", "c major"]);
        p.insert("key".into(), json!(key));
    }
    for n in 1..=inputs {
        if rng.unit() < 0.4 {
            p.insert(format!("gain.{n}"), json!(rng.range(0.0, 4.0)));
        }
    }
    let mut section_beats = 32.0;
    if rng.unit() < 0.4 {
        let bars = 1 + rng.next() % 64;
        section_beats = (bars * 4) as f64;
        p.insert("section_bars".into(), json!(bars));
    }
    if rng.unit() < 0.4 {
        let most = section_beats.min(16.0);
        p.insert("crossfade_beats".into(), json!(rng.range(0.0, most)));
    }
    if rng.unit() < 0.3 {
        p.insert("fade_in_s".into(), json!(rng.range(0.0, 60.0)));
    }
    if rng.unit() < 0.3 {
        p.insert("fade_out_s".into(), json!(rng.range(0.0, 60.0)));
    }
    if rng.unit() < 0.3 {
        p.insert("max_duration_s".into(), json!(rng.range(1.0, 300.0)));
    }
    p
}

fn check_output(g: &dyn Generator, result: Result<GenOutput, GenerateError>) {
    match result {
        Ok(out) => {
            let max_frames = g.limits().output_duration_max_ms as f64 / 1000.0 * 44_100.0 + 1.0;
            assert!(
                (out.audio.frames() as f64) <= max_frames,
                "{} frames",
                out.audio.frames()
            );
            assert_eq!(out.audio.channel_count(), 2);
            assert!(
                out.audio
                    .channels()
                    .iter()
                    .flatten()
                    .all(|s| s.is_finite() && s.abs() <= 1.0),
                "{} produced non-finite or clipped samples",
                g.name()
            );
        }
        Err(e) => assert!(
            e.is_bad_input(),
            "{} failed on valid parameters: {e:?}",
            g.name()
        ),
    }
}

#[test]
fn random_parameters_and_audio_never_panic() {
    let mut rng = Rng(0x5eed_cafe_f00d_0001);
    let remix = Remix::new();
    for _ in 0..24 {
        let audio = random_audio(&mut rng);
        let input_s = seconds(&audio);
        let p = random_remix_params(&mut rng, input_s);
        let seed = rng.next();
        let result = remix.run(&[GenInput::new(audio)], &p, seed, &Unattended);
        check_output(&remix, result);
    }
    let mashup = Mashup::new();
    for _ in 0..6 {
        let count = 2 + (rng.next() % 3) as usize;
        let inputs: Vec<GenInput> = (0..count)
            .map(|_| GenInput::new(random_audio(&mut rng)))
            .collect();
        let p = random_mashup_params(&mut rng, count);
        let seed = rng.next();
        let result = mashup.run(&inputs, &p, seed, &Unattended);
        check_output(&mashup, result);
    }
    let (Some(model), Some(bank)) = (model(), bank()) else {
        return;
    };
    let cover = Cover::with_resources(model, bank);
    let names = ["piano", "strings", "flute", "0", "127", "synth_pad"];
    for _ in 0..6 {
        let audio = random_audio(&mut rng);
        let mut p = Params::new();
        p.insert("instrument".into(), json!(rng.pick(&names)));
        if rng.unit() < 0.5 {
            p.insert("tempo".into(), json!(rng.range(0.5, 2.0)));
        }
        let result = cover.run(&[GenInput::new(audio)], &p, rng.next(), &Unattended);
        check_output(&cover, result);
    }
}

fn note(start_s: f64, dur_s: f64, pitch: u8) -> Note {
    Note {
        start_s,
        end_s: start_s + dur_s,
        pitch,
        amplitude: 0.7,
    }
}

/// A C major scale then two chords, played on the piano: known notes to cover.
fn piano_piece(bank: &SoundFontBank) -> Audio {
    let mut notes = Vec::new();
    for (i, &p) in [60u8, 62, 64, 65, 67, 69, 71, 72].iter().enumerate() {
        notes.push(note(0.25 + 0.3 * i as f64, 0.27, p));
    }
    for (i, chord) in [[48u8, 60, 64, 67], [53, 60, 65, 69]].iter().enumerate() {
        for &p in chord {
            notes.push(note(2.8 + 0.6 * i as f64, 0.55, p));
        }
    }
    render_notes(bank, &notes, 0).expect("renders")
}

#[test]
fn cover_performs_the_notes_with_another_instrument() {
    let (Some(model), Some(bank)) = (model(), bank()) else {
        return;
    };
    let input = GenInput::new(piano_piece(&bank));
    let cover = Cover::with_resources(model, bank);
    let out = cover
        .run(
            std::slice::from_ref(&input),
            &params(json!({"instrument": "strings"})),
            0,
            &Unattended,
        )
        .expect("covers");
    let notes = out.notes.as_ref().expect("notes");
    let scale: Vec<u8> = notes
        .iter()
        .filter(|n| n.start_s < 2.6)
        .map(|n| n.pitch)
        .collect();
    for p in [60u8, 62, 64, 65, 67, 69, 71, 72] {
        assert!(scale.contains(&p), "missing pitch {p} in {scale:?}");
    }
    let midi = out.midi.as_ref().expect("midi");
    assert_eq!(&midi[..4], b"MThd");
    // Program change to strings (48) on channel 1.
    assert!(midi.windows(2).any(|w| w == [0xC0, 48]));
    assert!((seconds(&out.audio) - seconds(&input.mix)).abs() < 1.0);
    assert_streaming_loudness(&out.audio);

    // Twice the tempo halves the note times.
    let fast = cover
        .run(
            std::slice::from_ref(&input),
            &params(json!({"tempo": 2.0, "instrument": 0})),
            0,
            &Unattended,
        )
        .expect("covers");
    let last = |n: &[Note]| n.iter().map(|n| n.start_s).fold(0.0, f64::max);
    let fast_notes = fast.notes.as_ref().expect("notes");
    assert!((last(fast_notes) - last(notes) / 2.0).abs() < 0.01);

    // Same input, parameters and seed: the same bytes.
    let again = cover
        .run(
            std::slice::from_ref(&input),
            &params(json!({"instrument": "strings"})),
            0,
            &Unattended,
        )
        .expect("covers");
    assert_eq!(encode_wav(&again.audio), encode_wav(&out.audio));
    assert_eq!(again.midi, out.midi);
}

#[test]
fn cover_refuses_silence_noise_bad_parameters_and_matches() {
    let (Some(model), Some(bank)) = (model(), bank()) else {
        return;
    };
    let piece = GenInput::new(piano_piece(&bank));
    let cover = Cover::with_resources(model, bank);
    let silence =
        GenInput::new(Audio::from_planar(vec![vec![0.0; RATE as usize * 2]], RATE).expect("audio"));
    let err = cover
        .run(
            std::slice::from_ref(&silence),
            &Params::new(),
            0,
            &Unattended,
        )
        .expect_err("silence");
    assert!(matches!(err, GenerateError::NoNotes), "{err:?}");
    assert!(err.to_string().contains("no notes found"), "{err}");

    let (name, text) = invalid_parameter(cover.run(
        std::slice::from_ref(&piece),
        &params(json!({"instrument": "banjolele"})),
        0,
        &Unattended,
    ));
    assert_eq!(name, "instrument");
    assert!(text.contains("strings"), "{text}");
    let (name, _) = invalid_parameter(cover.run(
        std::slice::from_ref(&piece),
        &params(json!({"instrument": 128})),
        0,
        &Unattended,
    ));
    assert_eq!(name, "instrument");
    match cover.run(
        std::slice::from_ref(&piece),
        &params(json!({"stem": "keys"})),
        0,
        &Unattended,
    ) {
        Err(e @ GenerateError::UnknownStem { .. }) => assert_eq!(e.parameter(), Some("stem")),
        other => panic!("expected UnknownStem, got {other:?}"),
    }

    struct AlwaysMatches;
    impl CoverGuard for AlwaysMatches {
        fn audio_matches_input(&self, _input: &GenInput, _output: &Audio) -> bool {
            true
        }
    }
    let (Some(model), Some(bank)) = (self::model(), self::bank()) else {
        return;
    };
    let guarded = Cover::with_resources(model, bank).with_guard(Arc::new(AlwaysMatches));
    let err = guarded
        .run(std::slice::from_ref(&piece), &Params::new(), 0, &Unattended)
        .expect_err("guarded");
    assert!(matches!(err, GenerateError::CoverMatchesInput), "{err:?}");
}

#[test]
fn cover_transcribes_a_chosen_stem() {
    let (Some(model), Some(bank)) = (model(), bank()) else {
        return;
    };
    let input = demo_input(&bank);
    let cover = Cover::with_resources(model, bank);
    let out = cover
        .run(
            std::slice::from_ref(&input),
            &params(json!({"stem": "keys", "instrument": "harp"})),
            0,
            &Unattended,
        )
        .expect("covers the keys");
    assert!(!out.notes.as_ref().expect("notes").is_empty());
    assert_streaming_loudness(&out.audio);
}
