//! What several engine test files load: the system SoundFont and the Basic Pitch model, each
//! skipped with a message when absent (the model only outside CI, where its absence fails).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use encore_engine::transcribe::{BasicPitch, default_model_path, default_onnxruntime_path};
use encore_engine::{DEFAULT_SOUNDFONT_PATH, SoundFontBank};

/// The system SoundFont, or `None` (with a message) when it is absent.
pub fn bank() -> Option<SoundFontBank> {
    let path = Path::new(DEFAULT_SOUNDFONT_PATH);
    if !path.exists() {
        println!(
            "skipping: {DEFAULT_SOUNDFONT_PATH} is absent; install the fluid-soundfont-gm package to run this test"
        );
        return None;
    }
    Some(SoundFontBank::load(path).expect("the installed SoundFont loads"))
}

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// The ONNX Runtime library, or `None` (with a message) when it is absent outside CI or
/// when `scripts/lib.sh` fetches none for this platform (it fetches the x86_64 Linux build).
pub fn onnxruntime_lib() -> Option<PathBuf> {
    let path = default_onnxruntime_path();
    if !path.is_file() && !cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        eprintln!("SKIPPED: no ONNX Runtime build is fetched for this platform");
        return None;
    }
    if !path.is_file() {
        assert!(
            !ci(),
            "ONNX Runtime is missing at {} and CI is set: scripts/test.sh fetches it",
            path.display()
        );
        eprintln!(
            "SKIPPED: ONNX Runtime is missing at {}; run scripts/setup.sh to fetch it",
            path.display()
        );
        return None;
    }
    Some(path)
}

/// The model, or `None` (with a message) when it is absent outside CI.
pub fn model() -> Option<BasicPitch> {
    let path = default_model_path();
    if !path.is_file() {
        assert!(
            !ci(),
            "the Basic Pitch model is missing at {} and CI is set: scripts/test.sh fetches it",
            path.display()
        );
        eprintln!(
            "SKIPPED: the Basic Pitch model is missing at {}; run scripts/setup.sh to fetch it",
            path.display()
        );
        return None;
    }
    match BasicPitch::load(&path) {
        Ok(model) => Some(model),
        Err(e) => panic!("the model at {} does not load: {e}", path.display()),
    }
}
