//! Transcription stories: notes rendered through the SoundFont come back as
//! the same notes; silence and noise give "no notes found"; a missing model
//! is a clear error; ONNX Runtime and tract give the same notes, and the
//! engine in use is reported.
//!
//! The model and ONNX Runtime are fetched by `scripts/setup.sh` and
//! `scripts/test.sh`.  Without them these tests print why and pass, unless
//! `CI` is set, when they fail.

mod common;

use common::{bank, model, onnxruntime_lib};
use std::cell::{Cell, RefCell};
use std::path::Path;

use encore_engine::audio::resample;
use encore_engine::audio::{Audio, DecodeLimits, decode, encode_wav};
use encore_engine::transcribe::{
    Backend, BackendChoice, BasicPitch, Job, ModelOptions, Note, NoteParams, SAMPLE_RATE,
    TranscribeError, Unattended, default_model_path, encode_midi, notes_from_activations,
    render_notes, transcribe,
};

fn note(start_s: f64, dur_s: f64, pitch: u8) -> Note {
    Note {
        start_s,
        end_s: start_s + dur_s,
        pitch,
        amplitude: 0.7,
    }
}

/// A C major scale (C4 to C5) and then the chords C, F, G7 and C on piano.
fn scale_and_chords() -> Vec<Note> {
    let mut notes = Vec::new();
    let scale = [60, 62, 64, 65, 67, 69, 71, 72];
    for (i, &p) in scale.iter().enumerate() {
        notes.push(note(0.25 + 0.3 * i as f64, 0.27, p));
    }
    let chords: [&[u8]; 4] = [
        &[48, 60, 64, 67],
        &[53, 60, 65, 69],
        &[55, 59, 62, 65],
        &[48, 55, 64, 72],
    ];
    for (i, chord) in chords.iter().enumerate() {
        for &p in *chord {
            notes.push(note(2.8 + 0.6 * i as f64, 0.55, p));
        }
    }
    notes
}

/// Note-level F1: a found note matches an unmatched reference note of the same
/// pitch whose onset is within 50 ms.
fn f1(reference: &[Note], found: &[Note]) -> f64 {
    let mut used = vec![false; found.len()];
    let mut hits = 0usize;
    for r in reference {
        let best = found
            .iter()
            .enumerate()
            .filter(|(i, f)| {
                !used[*i] && f.pitch == r.pitch && (f.start_s - r.start_s).abs() <= 0.05
            })
            .min_by(|a, b| {
                (a.1.start_s - r.start_s)
                    .abs()
                    .total_cmp(&(b.1.start_s - r.start_s).abs())
            });
        if let Some((i, _)) = best {
            used[i] = true;
            hits += 1;
        }
    }
    if hits == 0 {
        return 0.0;
    }
    let precision = hits as f64 / found.len() as f64;
    let recall = hits as f64 / reference.len() as f64;
    2.0 * precision * recall / (precision + recall)
}

/// Records progress and cancels after a number of progress reports.
struct Recorder {
    reports: RefCell<Vec<f32>>,
    cancel_after: Option<usize>,
    asked: Cell<usize>,
}

impl Job for Recorder {
    fn progress(&self, done: f32) {
        self.reports.borrow_mut().push(done);
    }
    fn cancelled(&self) -> bool {
        self.asked.set(self.asked.get() + 1);
        self.cancel_after
            .is_some_and(|n| self.reports.borrow().len() >= n)
    }
}

#[test]
fn rendered_scale_and_chords_are_transcribed() {
    let Some(model) = model() else { return };
    let Some(bank) = bank() else { return };
    let reference = scale_and_chords();
    let audio = render_notes(&bank, &reference, 0).expect("renders");
    // Through the WAV writer and the decoder, as an upload would arrive.
    let audio = decode(&encode_wav(&audio), &DecodeLimits::default()).expect("decodes");
    let job = Recorder {
        reports: RefCell::new(Vec::new()),
        cancel_after: None,
        asked: Cell::new(0),
    };
    let found = transcribe(&model, &audio, &NoteParams::default(), &job).expect("transcribes");
    let score = f1(&reference, &found);
    let scale_score = f1(
        &reference[..8],
        &found
            .iter()
            .filter(|n| n.start_s < 2.7)
            .copied()
            .collect::<Vec<_>>(),
    );
    println!(
        "F1 {score:.3} over {} reference notes ({} found); scale alone F1 {scale_score:.3}",
        reference.len(),
        found.len()
    );
    for n in &found {
        println!(
            "  {:7.3} {:7.3} {:3} {:.2}",
            n.start_s, n.end_s, n.pitch, n.amplitude
        );
    }
    assert!(score >= 0.8, "F1 {score:.3} is below 0.8");

    let reports = job.reports.into_inner();
    assert!(reports.windows(2).all(|w| w[0] <= w[1]), "{reports:?}");
    assert_eq!(reports.last().copied(), Some(1.0));

    let midi = encode_midi(&found, 0, 120.0);
    assert_eq!(&midi[..4], b"MThd");
    assert!(midi.windows(3).filter(|w| w[0] == 0x90).count() >= found.len());
}

#[test]
fn silence_has_no_notes() {
    let Some(model) = model() else { return };
    let silence = Audio::from_planar(vec![vec![0.0; 44_100 * 3]], 44_100).expect("audio");
    let result = transcribe(&model, &silence, &NoteParams::default(), &Unattended);
    assert!(
        matches!(result, Err(TranscribeError::NoNotes)),
        "{result:?}"
    );
}

#[test]
fn white_noise_has_no_notes() {
    let Some(model) = model() else { return };
    // A fixed xorshift sequence, so the test is reproducible.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let samples: Vec<f32> = (0..22_050 * 3)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ((state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * 0.3
        })
        .collect();
    let noise = Audio::from_planar(vec![samples], 22_050).expect("audio");
    match transcribe(&model, &noise, &NoteParams::default(), &Unattended) {
        Err(TranscribeError::NoNotes) => println!("white noise: no notes"),
        Ok(notes) => {
            println!("white noise: {} notes: {notes:?}", notes.len());
            assert!(notes.len() <= 3, "{} notes in white noise", notes.len());
        }
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn cancellation_stops_between_windows() {
    let Some(model) = model() else { return };
    let audio = Audio::from_planar(vec![vec![0.0; 22_050 * 6]], 22_050).expect("audio");
    let job = Recorder {
        reports: RefCell::new(Vec::new()),
        cancel_after: Some(1),
        asked: Cell::new(0),
    };
    let result = transcribe(&model, &audio, &NoteParams::default(), &job);
    assert!(
        matches!(result, Err(TranscribeError::Cancelled)),
        "{result:?}"
    );
    assert_eq!(job.reports.borrow().len(), 1);
}

#[test]
fn a_missing_model_says_how_to_fetch_it() {
    let path = Path::new("/nonexistent/encore/nmp.onnx");
    let err = BasicPitch::load(path).expect_err("no model there");
    assert!(
        matches!(err, TranscribeError::ModelMissing { .. }),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("scripts/setup.sh"), "{message}");
    assert!(
        message.contains("/nonexistent/encore/nmp.onnx"),
        "{message}"
    );
}

#[test]
fn a_file_that_is_not_the_model_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("nmp.onnx");
    std::fs::write(&path, b"not a model").expect("write");
    let err = BasicPitch::load(&path).expect_err("not a model");
    assert!(
        matches!(err, TranscribeError::ModelInvalid { .. }),
        "{err:?}"
    );
}

#[test]
fn onnxruntime_and_tract_give_the_same_notes() {
    let Some(lib) = onnxruntime_lib() else { return };
    if model().is_none() {
        return;
    }
    let Some(bank) = bank() else { return };
    let load = |backend| {
        let options = ModelOptions {
            backend,
            onnxruntime_lib: lib.clone(),
            threads: 1,
        };
        BasicPitch::load_with(&default_model_path(), &options).expect("the model loads")
    };
    let ort = load(BackendChoice::OnnxRuntime);
    let tract = load(BackendChoice::Tract);
    assert_eq!(ort.backend(), Backend::OnnxRuntime);
    assert_eq!(tract.backend(), Backend::Tract);

    // The scale and chords three times over, on piano and then strings and
    // guitar: about 16 s, so nine windows are stitched.
    let mut reference = Vec::new();
    for (i, program) in [0u8, 48, 24].into_iter().enumerate() {
        let offset = 5.5 * i as f64;
        let notes: Vec<Note> = scale_and_chords()
            .into_iter()
            .map(|n| Note {
                start_s: n.start_s + offset,
                end_s: n.end_s + offset,
                ..n
            })
            .collect();
        let audio = render_notes(&bank, &notes, program).expect("renders");
        reference.push(audio);
    }
    let frames = reference.iter().map(|a| a.frames()).max().unwrap_or(0);
    let mut mixed = vec![0.0f32; frames];
    for audio in &reference {
        let mono = audio.to_mono();
        for (m, s) in mixed.iter_mut().zip(mono.channel(0).unwrap_or_default()) {
            *m += s / 3.0;
        }
    }
    let audio = Audio::from_planar(vec![mixed], 44_100).expect("audio");
    let mono = resample(&audio, SAMPLE_RATE).expect("resamples");
    let samples = mono.channel(0).expect("one channel");

    let a = ort
        .activations(samples, &Unattended)
        .expect("onnxruntime runs");
    let b = tract.activations(samples, &Unattended).expect("tract runs");
    assert_eq!(a.frames, b.frames);
    let max_diff = |x: &[f32], y: &[f32]| {
        x.iter()
            .zip(y)
            .map(|(p, q)| (p - q).abs())
            .fold(0f32, f32::max)
    };
    let (note_diff, onset_diff) = (max_diff(&a.note, &b.note), max_diff(&a.onset, &b.onset));
    println!(
        "{} frames; largest difference: note {note_diff:.2e}, onset {onset_diff:.2e}",
        a.frames
    );
    assert!(
        note_diff < 1e-3 && onset_diff < 1e-3,
        "{note_diff} {onset_diff}"
    );

    let params = NoteParams::default();
    let from_ort = notes_from_activations(&a, &params);
    let from_tract = notes_from_activations(&b, &params);
    println!("{} notes from each", from_ort.len());
    assert!(from_ort.len() > 30, "{} notes", from_ort.len());
    let key = |n: &Note| {
        (
            n.pitch,
            (n.start_s * 1e6).round() as i64,
            (n.end_s * 1e6).round() as i64,
        )
    };
    assert_eq!(
        from_ort.iter().map(key).collect::<Vec<_>>(),
        from_tract.iter().map(key).collect::<Vec<_>>()
    );
}

#[test]
fn the_engine_in_use_is_reported() {
    if model().is_none() {
        return;
    }
    let path = default_model_path();
    let options = |backend, lib: &Path| ModelOptions {
        backend,
        onnxruntime_lib: lib.to_path_buf(),
        threads: 1,
    };
    let absent = Path::new("/nonexistent/encore/libonnxruntime.so");

    // Without the library, auto falls back to tract and says why.
    let fallback =
        BasicPitch::load_with(&path, &options(BackendChoice::Auto, absent)).expect("tract loads");
    assert_eq!(fallback.backend(), Backend::Tract);
    let reason = fallback.fallback_reason().expect("a reason");
    assert!(
        reason.contains("/nonexistent/encore/libonnxruntime.so"),
        "{reason}"
    );

    // Asking for ONNX Runtime without it is an error naming the fix.
    let err = BasicPitch::load_with(&path, &options(BackendChoice::OnnxRuntime, absent))
        .expect_err("no library there");
    assert!(matches!(err, TranscribeError::Backend(_)), "{err:?}");
    assert!(err.to_string().contains("scripts/setup.sh"), "{err}");

    // tract when asked, with no reason to give.
    let tract =
        BasicPitch::load_with(&path, &options(BackendChoice::Tract, absent)).expect("tract loads");
    assert_eq!(tract.backend(), Backend::Tract);
    assert_eq!(tract.fallback_reason(), None);

    // With the library, auto runs ONNX Runtime.
    let Some(lib) = onnxruntime_lib() else { return };
    let auto =
        BasicPitch::load_with(&path, &options(BackendChoice::Auto, &lib)).expect("the model loads");
    assert_eq!(
        auto.backend(),
        Backend::OnnxRuntime,
        "{:?}",
        auto.fallback_reason()
    );
    assert_eq!(auto.fallback_reason(), None);
    assert_eq!(Backend::OnnxRuntime.to_string(), "onnxruntime");
}

#[test]
fn backend_names_are_parsed() {
    assert_eq!(
        "auto".parse::<BackendChoice>().ok(),
        Some(BackendChoice::Auto)
    );
    assert_eq!(
        "ONNXRuntime".parse::<BackendChoice>().ok(),
        Some(BackendChoice::OnnxRuntime)
    );
    assert_eq!(
        "tract".parse::<BackendChoice>().ok(),
        Some(BackendChoice::Tract)
    );
    let err = "tensorflow".parse::<BackendChoice>().expect_err("unknown");
    assert!(
        err.to_string().contains("auto, onnxruntime or tract"),
        "{err}"
    );
}
