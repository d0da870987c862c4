//! Running Basic Pitch's ONNX model with ONNX Runtime or tract.
//!
//! Two engines run the same file.  ONNX Runtime (through `ort`, loaded at run
//! time from the `libonnxruntime.so` that `scripts/lib.sh` takes from the
//! `onnxruntime` wheel on PyPI) is about 2.4 times faster here; tract (pure
//! Rust, always built in) is the fallback when that library is absent.  Both
//! run on the calling thread by default.
//!
//! The windowing, padding and stitching replicate `basic_pitch/inference.py`
//! (basic-pitch 0.4.0, Copyright 2024 Spotify AB, Apache-2.0): the audio is
//! preceded by half an overlap of silence, cut into windows of
//! [`WINDOW_SAMPLES`] samples that overlap by 30 frames, and each window's
//! 172 output frames lose 15 frames at each end before they are concatenated
//! and trimmed to the audio's length.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::TensorRef;
use tract_onnx::prelude::*;

use super::{Job, TranscribeError};

/// The model's input rate: 22,050 Hz mono.
pub const SAMPLE_RATE: u32 = 22_050;
/// Samples in one model window: two seconds less one hop (`AUDIO_N_SAMPLES`).
pub const WINDOW_SAMPLES: usize = 2 * SAMPLE_RATE as usize - FFT_HOP;
/// Pitches in the note and onset outputs: the 88 piano keys, MIDI 21 to 108.
pub const N_PITCHES: usize = 88;
/// SHA-256 of `basic_pitch/saved_models/icassp_2022/nmp.onnx` in the basic-pitch
/// 0.4.0 wheel; `scripts/lib.sh` checks the fetched file against the same value.
pub const MODEL_FILE_SHA256: &str =
    "2c3c1d144bfa61ad236e92e169c13535c880469a12a047d4e73451f2c059a0ec";
/// Environment variable naming the model file; it overrides [`default_model_path`].
pub const MODEL_ENV: &str = "ENCORE_BASIC_PITCH_MODEL";
/// Environment variable naming the folder of fetched models.
pub const MODELS_DIR_ENV: &str = "ENCORE_MODELS_DIR";
/// The ONNX Runtime release whose library encore loads: the one whose C API
/// `ort` 2.0.0-rc.10 speaks.  `scripts/lib.sh` fetches the same version.
pub const ONNXRUNTIME_VERSION: &str = "1.22.1";
/// Environment variable naming the ONNX Runtime library (`libonnxruntime.so`);
/// it overrides `ORT_DYLIB_PATH` and [`default_onnxruntime_path`].
pub const ONNXRUNTIME_LIB_ENV: &str = "ENCORE_ONNXRUNTIME_LIB";
/// Environment variable choosing the engine: `auto` (the default: ONNX Runtime
/// when its library is found, else tract), `onnxruntime` or `tract`.
pub const BACKEND_ENV: &str = "ENCORE_TRANSCRIBE_BACKEND";
/// Environment variable setting ONNX Runtime's intra-op threads (default 1).
pub const THREADS_ENV: &str = "ENCORE_ONNXRUNTIME_THREADS";

/// Samples per model frame (`FFT_HOP`).
pub(crate) const FFT_HOP: usize = 256;
/// Frames the model produces per window (`ANNOT_N_FRAMES`: 86 frames/s for 2 s).
pub(crate) const WINDOW_FRAMES: usize = 172;
/// Frames shared by neighbouring windows (`n_overlapping_frames`).
const OVERLAP_FRAMES: usize = 30;
/// Samples shared by neighbouring windows.
const OVERLAP_SAMPLES: usize = OVERLAP_FRAMES * FFT_HOP;
/// Samples between window starts.
const HOP_SAMPLES: usize = WINDOW_SAMPLES - OVERLAP_SAMPLES;
/// Bins of the contour output (three per semitone).
const N_CONTOUR_BINS: usize = 3 * N_PITCHES;
/// basic-pitch's integer frame rate (`ANNOTATIONS_FPS = 22050 // 256`), which it
/// uses to trim the stitched output to the audio's length.
const ANNOTATIONS_FPS: usize = SAMPLE_RATE as usize / FFT_HOP;

/// The ONNX input name, as basic-pitch's own ONNX runner feeds it.
const INPUT_AUDIO: &str = "serving_default_input_2:0";
/// The ONNX output names, as basic-pitch's own ONNX runner maps them.
const OUTPUT_NOTE: &str = "StatefulPartitionedCall:1";
const OUTPUT_ONSET: &str = "StatefulPartitionedCall:2";
const OUTPUT_CONTOUR: &str = "StatefulPartitionedCall:0";

/// Where encore looks for the model: `$ENCORE_BASIC_PITCH_MODEL`, else
/// `$ENCORE_MODELS_DIR/basic-pitch-0.4.0/nmp.onnx`, else the same under
/// `$HOME/.cache/encore/models` (where `scripts/setup.sh` puts it).
pub fn default_model_path() -> PathBuf {
    if let Some(path) = std::env::var_os(MODEL_ENV).filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    let dir = std::env::var_os(MODELS_DIR_ENV)
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME").unwrap_or_default();
            PathBuf::from(home).join(".cache/encore/models")
        });
    dir.join("basic-pitch-0.4.0").join("nmp.onnx")
}

/// Where encore looks for ONNX Runtime: `$ENCORE_ONNXRUNTIME_LIB`, else
/// `$ORT_DYLIB_PATH`, else `$HOME/.cache/encore/lib/libonnxruntime.so.1.22.1`
/// (where `scripts/setup.sh` puts it).
pub fn default_onnxruntime_path() -> PathBuf {
    for var in [ONNXRUNTIME_LIB_ENV, "ORT_DYLIB_PATH"] {
        if let Some(path) = std::env::var_os(var).filter(|p| !p.is_empty()) {
            return PathBuf::from(path);
        }
    }
    let home = std::env::var_os("HOME").unwrap_or_default();
    PathBuf::from(home)
        .join(".cache/encore/lib")
        .join(format!("libonnxruntime.so.{ONNXRUNTIME_VERSION}"))
}

/// The engine that runs the model.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    /// ONNX Runtime, loaded at run time through `ort`.
    OnnxRuntime,
    /// tract, pure Rust, built in.
    Tract,
}

impl Backend {
    /// `onnxruntime` or `tract`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::OnnxRuntime => "onnxruntime",
            Backend::Tract => "tract",
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Which engine [`BasicPitch::load_with`] uses.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum BackendChoice {
    /// ONNX Runtime when its library is found and loads, else tract.
    #[default]
    Auto,
    /// ONNX Runtime or an error.
    OnnxRuntime,
    /// tract.
    Tract,
}

impl std::str::FromStr for BackendChoice {
    type Err = TranscribeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => Ok(BackendChoice::Auto),
            "onnxruntime" | "ort" => Ok(BackendChoice::OnnxRuntime),
            "tract" => Ok(BackendChoice::Tract),
            other => Err(TranscribeError::Backend(format!(
                "unknown transcription backend {other:?}: use auto, onnxruntime or tract"
            ))),
        }
    }
}

/// How [`BasicPitch::load_with`] runs the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelOptions {
    /// The engine (default [`BackendChoice::Auto`]).
    pub backend: BackendChoice,
    /// The ONNX Runtime library (default [`default_onnxruntime_path`]).
    pub onnxruntime_lib: PathBuf,
    /// ONNX Runtime's intra-op threads per run (default 1; tract always uses one).
    pub threads: usize,
}

impl Default for ModelOptions {
    fn default() -> Self {
        ModelOptions {
            backend: BackendChoice::Auto,
            onnxruntime_lib: default_onnxruntime_path(),
            threads: 1,
        }
    }
}

impl ModelOptions {
    /// The defaults, changed by `$ENCORE_TRANSCRIBE_BACKEND` and `$ENCORE_ONNXRUNTIME_THREADS`.
    pub fn from_env() -> Result<Self, TranscribeError> {
        let mut options = ModelOptions::default();
        if let Ok(choice) = std::env::var(BACKEND_ENV) {
            options.backend = choice.parse()?;
        }
        if let Ok(threads) = std::env::var(THREADS_ENV) {
            options.threads = threads
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|&n| (1..=256).contains(&n))
                .ok_or_else(|| {
                    TranscribeError::Backend(format!(
                        "{THREADS_ENV}={threads:?} is not a thread count from 1 to 256"
                    ))
                })?;
        }
        Ok(options)
    }
}

/// The model's note and onset activations over a whole piece, frame by frame.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Activations {
    /// Frames (86.13 a second).
    pub frames: usize,
    /// Note (frame) activations, `frames * 88`, row-major by frame.
    pub note: Vec<f32>,
    /// Onset activations, `frames * 88`, row-major by frame.
    pub onset: Vec<f32>,
}

/// Basic Pitch, loaded and optimised once, reusable for any number of transcriptions.
pub struct BasicPitch {
    engine: Engine,
    /// Why ONNX Runtime is not the engine, when it was looked for.
    fallback: Option<String>,
}

/// The loaded model in one engine or the other.
enum Engine {
    Tract(Box<TractModel>),
    Ort(OrtModel),
}

/// tract's optimised plan and the positions of the outputs in it.
struct TractModel {
    plan: TypedRunnableModel<TypedModel>,
    note: usize,
    onset: usize,
    contour: usize,
}

/// ONNX Runtime sessions over the model.  `Session::run` needs `&mut`, so
/// each run takes an idle session (building another when none is idle) and
/// puts it back: concurrent transcriptions never wait for each other.
struct OrtModel {
    model: Vec<u8>,
    threads: usize,
    idle: Mutex<Vec<Session>>,
}

impl std::fmt::Debug for BasicPitch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicPitch")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

/// The ONNX Runtime library this process loaded (or why it could not):
/// `ort` loads one library per process, once.
static ORT_LOADED: OnceLock<Result<PathBuf, String>> = OnceLock::new();

/// Loads ONNX Runtime from `lib` for this process, or says why it cannot.
fn ort_init(lib: &Path) -> Result<(), String> {
    if !lib.is_file() {
        return Err(format!("no ONNX Runtime library at {}", lib.display()));
    }
    let loaded = ORT_LOADED.get_or_init(|| {
        let path = lib.display().to_string();
        // `ort` panics when the library does not load or speaks another API
        // version; that must not take the caller down.
        let committed = std::panic::catch_unwind(|| {
            ort::init_from(path)
                .with_name("encore")
                .with_telemetry(false)
                .commit()
        });
        match committed {
            Ok(Ok(_)) => Ok(lib.to_path_buf()),
            Ok(Err(e)) => Err(format!(
                "ONNX Runtime at {} did not start: {e}",
                lib.display()
            )),
            Err(panic) => {
                let detail = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("it panicked");
                Err(format!(
                    "ONNX Runtime at {} cannot be used (encore needs {ONNXRUNTIME_VERSION}): {detail}",
                    lib.display()
                ))
            }
        }
    });
    match loaded {
        Ok(path) if path == lib => Ok(()),
        Ok(path) => Err(format!(
            "this process already loaded ONNX Runtime from {}, not {}",
            path.display(),
            lib.display()
        )),
        Err(e) => Err(e.clone()),
    }
}

impl OrtModel {
    /// Starts ONNX Runtime and builds a first session, checking the model's
    /// input and output names.
    fn load(model: Vec<u8>, lib: &Path, threads: usize) -> Result<Self, String> {
        ort_init(lib)?;
        let loaded = OrtModel {
            model,
            threads: threads.max(1),
            idle: Mutex::new(Vec::new()),
        };
        let session = loaded.session()?;
        if !session.inputs.iter().any(|i| i.name == INPUT_AUDIO) {
            return Err(format!("the model has no input named {INPUT_AUDIO}"));
        }
        for name in [OUTPUT_NOTE, OUTPUT_ONSET, OUTPUT_CONTOUR] {
            if !session.outputs.iter().any(|o| o.name == name) {
                return Err(format!("the model has no output named {name}"));
            }
        }
        loaded.put_back(session);
        Ok(loaded)
    }

    /// A new session: graph optimisations on, `threads` intra-op threads, one inter-op.
    fn session(&self) -> Result<Session, String> {
        Session::builder()
            .and_then(|b| b.with_optimization_level(GraphOptimizationLevel::Level3))
            .and_then(|b| b.with_intra_threads(self.threads))
            .and_then(|b| b.with_inter_threads(1))
            .and_then(|b| b.with_parallel_execution(false))
            .and_then(|b| b.commit_from_memory(&self.model))
            .map_err(|e| format!("ONNX Runtime refused the model: {e}"))
    }

    fn take(&self) -> Result<Session, String> {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        match idle {
            Some(session) => Ok(session),
            None => self.session(),
        }
    }

    fn put_back(&self, session: Session) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(session);
        }
    }

    /// Runs one window; returns its note and onset activations.
    fn window(&self, samples: &[f32]) -> Result<(Vec<f32>, Vec<f32>), TranscribeError> {
        let mut session = self.take().map_err(TranscribeError::Inference)?;
        let result = Self::run(&mut session, samples);
        self.put_back(session);
        result
    }

    fn run(
        session: &mut Session,
        samples: &[f32],
    ) -> Result<(Vec<f32>, Vec<f32>), TranscribeError> {
        let fail = |e: ort::Error| TranscribeError::Inference(e.to_string());
        let input =
            TensorRef::from_array_view(([1usize, WINDOW_SAMPLES, 1], samples)).map_err(fail)?;
        let outputs = session
            .run(ort::inputs![INPUT_AUDIO => input])
            .map_err(fail)?;
        let take = |name: &str, bins: usize| -> Result<Vec<f32>, TranscribeError> {
            let value = outputs.get(name).ok_or_else(|| {
                TranscribeError::Inference(format!("the model returned no output {name}"))
            })?;
            let (shape, data) = value.try_extract_tensor::<f32>().map_err(fail)?;
            if **shape != [1, WINDOW_FRAMES as i64, bins as i64] {
                return Err(TranscribeError::Inference(format!(
                    "output {name} has shape {shape:?}, expected [1, {WINDOW_FRAMES}, {bins}]"
                )));
            }
            Ok(data.to_vec())
        };
        take(OUTPUT_CONTOUR, N_CONTOUR_BINS)?;
        Ok((
            take(OUTPUT_NOTE, N_PITCHES)?,
            take(OUTPUT_ONSET, N_PITCHES)?,
        ))
    }
}

impl TractModel {
    /// Loads and optimises `nmp.onnx` with tract.
    fn load(path: &Path) -> Result<Self, TranscribeError> {
        let invalid = |detail: String| TranscribeError::ModelInvalid {
            path: path.to_path_buf(),
            detail,
        };
        let mut model = tract_onnx::onnx()
            .model_for_path(path)
            .map_err(|e| invalid(format!("{e:#}")))?;
        model
            .set_input_fact(
                0,
                InferenceFact::dt_shape(f32::datum_type(), tvec!(1, WINDOW_SAMPLES, 1)),
            )
            .map_err(|e| invalid(format!("{e:#}")))?;
        let outlets = model
            .output_outlets()
            .map_err(|e| invalid(format!("{e:#}")))?
            .to_vec();
        let find = |name: &str| {
            outlets
                .iter()
                .position(|o| model.outlet_label(*o) == Some(name))
                .ok_or_else(|| invalid(format!("it has no output named {name}")))
        };
        let (note, onset, contour) = (
            find(OUTPUT_NOTE)?,
            find(OUTPUT_ONSET)?,
            find(OUTPUT_CONTOUR)?,
        );
        let plan = model
            .into_optimized()
            .and_then(|m| m.into_runnable())
            .map_err(|e| invalid(format!("{e:#}")))?;
        Ok(TractModel {
            plan,
            note,
            onset,
            contour,
        })
    }

    /// Runs one window of [`WINDOW_SAMPLES`] samples; returns its note and onset
    /// activations, each `WINDOW_FRAMES * 88`.
    fn window(&self, samples: &[f32]) -> Result<(Vec<f32>, Vec<f32>), TranscribeError> {
        let fail = |e: TractError| TranscribeError::Inference(format!("{e:#}"));
        let input = Tensor::from_shape(&[1, WINDOW_SAMPLES, 1], samples).map_err(fail)?;
        let outputs = self.plan.run(tvec!(input.into())).map_err(fail)?;
        let take = |ix: usize, bins: usize| -> Result<Vec<f32>, TranscribeError> {
            let t = outputs.get(ix).ok_or_else(|| {
                TranscribeError::Inference(format!("the model returned no output {ix}"))
            })?;
            if t.shape() != [1, WINDOW_FRAMES, bins] {
                return Err(TranscribeError::Inference(format!(
                    "output {ix} has shape {:?}, expected [1, {WINDOW_FRAMES}, {bins}]",
                    t.shape()
                )));
            }
            Ok(t.as_slice::<f32>().map_err(fail)?.to_vec())
        };
        take(self.contour, N_CONTOUR_BINS)?;
        Ok((take(self.note, N_PITCHES)?, take(self.onset, N_PITCHES)?))
    }
}

impl BasicPitch {
    /// Loads the model from [`default_model_path`] with [`ModelOptions::from_env`].
    pub fn load_default() -> Result<Self, TranscribeError> {
        Self::load(&default_model_path())
    }

    /// Loads `nmp.onnx` with [`ModelOptions::from_env`]: ONNX Runtime when its
    /// library is found, else tract.
    pub fn load(path: &Path) -> Result<Self, TranscribeError> {
        Self::load_with(path, &ModelOptions::from_env()?)
    }

    /// Loads and optimises `nmp.onnx` for one window at a time with the engine
    /// `options` choose.
    pub fn load_with(path: &Path, options: &ModelOptions) -> Result<Self, TranscribeError> {
        if !path.is_file() {
            return Err(TranscribeError::ModelMissing {
                path: path.to_path_buf(),
            });
        }
        let fallback = match options.backend {
            BackendChoice::Tract => None,
            BackendChoice::OnnxRuntime | BackendChoice::Auto => {
                let bytes = std::fs::read(path).map_err(|e| TranscribeError::ModelInvalid {
                    path: path.to_path_buf(),
                    detail: e.to_string(),
                })?;
                match OrtModel::load(bytes, &options.onnxruntime_lib, options.threads) {
                    Ok(model) => {
                        let loaded = BasicPitch {
                            engine: Engine::Ort(model),
                            fallback: None,
                        };
                        loaded.check(path)?;
                        return Ok(loaded);
                    }
                    Err(reason) if options.backend == BackendChoice::OnnxRuntime => {
                        return Err(TranscribeError::Backend(format!(
                            "{reason} (scripts/setup.sh fetches ONNX Runtime {ONNXRUNTIME_VERSION}; \
                             {ONNXRUNTIME_LIB_ENV} names another copy)"
                        )));
                    }
                    Err(reason) => Some(reason),
                }
            }
        };
        let loaded = BasicPitch {
            engine: Engine::Tract(Box::new(TractModel::load(path)?)),
            fallback,
        };
        loaded.check(path)?;
        Ok(loaded)
    }

    /// One silent window checks the output shapes now rather than mid-job.
    fn check(&self, path: &Path) -> Result<(), TranscribeError> {
        self.window(&vec![0.0; WINDOW_SAMPLES])
            .map(|_| ())
            .map_err(|e| TranscribeError::ModelInvalid {
                path: path.to_path_buf(),
                detail: e.to_string(),
            })
    }

    /// The engine running the model.
    pub fn backend(&self) -> Backend {
        match self.engine {
            Engine::Ort(_) => Backend::OnnxRuntime,
            Engine::Tract(_) => Backend::Tract,
        }
    }

    /// Why ONNX Runtime is not the engine, when [`BackendChoice::Auto`] looked
    /// for it and fell back to tract.
    pub fn fallback_reason(&self) -> Option<&str> {
        self.fallback.as_deref()
    }

    /// Runs one window of [`WINDOW_SAMPLES`] samples; returns its note and onset
    /// activations, each `WINDOW_FRAMES * 88`.
    fn window(&self, samples: &[f32]) -> Result<(Vec<f32>, Vec<f32>), TranscribeError> {
        match &self.engine {
            Engine::Ort(model) => model.window(samples),
            Engine::Tract(model) => model.window(samples),
        }
    }

    /// Runs the model over `samples` (22,050 Hz mono), reporting progress and
    /// checking for cancellation between windows.
    pub fn activations(
        &self,
        samples: &[f32],
        job: &dyn Job,
    ) -> Result<Activations, TranscribeError> {
        // The audio starts after half an overlap of silence, so the first
        // window's trimmed frames begin at the audio's first sample.
        let padded_len = OVERLAP_SAMPLES / 2 + samples.len();
        let windows = padded_len.div_ceil(HOP_SAMPLES);
        let frames = samples.len() * ANNOTATIONS_FPS / SAMPLE_RATE as usize;
        let keep = WINDOW_FRAMES - OVERLAP_FRAMES;
        let mut note = Vec::with_capacity(windows * keep * N_PITCHES);
        let mut onset = Vec::with_capacity(windows * keep * N_PITCHES);
        let mut buffer = vec![0.0f32; WINDOW_SAMPLES];
        for w in 0..windows {
            if job.cancelled() {
                return Err(TranscribeError::Cancelled);
            }
            // Fill the window from the virtual padded signal: zeros, the audio, zeros.
            let start = w * HOP_SAMPLES;
            for (i, slot) in buffer.iter_mut().enumerate() {
                let p = start + i;
                *slot = p
                    .checked_sub(OVERLAP_SAMPLES / 2)
                    .and_then(|s| samples.get(s))
                    .copied()
                    .unwrap_or(0.0);
            }
            let (n, o) = self.window(&buffer)?;
            let trim =
                OVERLAP_FRAMES / 2 * N_PITCHES..(WINDOW_FRAMES - OVERLAP_FRAMES / 2) * N_PITCHES;
            note.extend_from_slice(&n[trim.clone()]);
            onset.extend_from_slice(&o[trim]);
            job.progress((w + 1) as f32 / windows as f32 * 0.95);
        }
        let frames = frames.min(note.len() / N_PITCHES);
        note.truncate(frames * N_PITCHES);
        onset.truncate(frames * N_PITCHES);
        Ok(Activations {
            frames,
            note,
            onset,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_can_be_shared_between_worker_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<BasicPitch>();
    }

    #[test]
    fn windows_overlap_by_thirty_frames() {
        assert_eq!(WINDOW_SAMPLES, 43_844);
        assert_eq!(HOP_SAMPLES, 36_164);
        assert_eq!(ANNOTATIONS_FPS, 86);
    }
}
