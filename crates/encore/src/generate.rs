//! `encore generate`: runs a generator on local files, with a progress bar.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use encore_engine::audio::{
    DecodeLimits, FlacBitDepth, OGG_VORBIS_QUALITY_DEFAULT, decode, encode_flac, encode_ogg_vorbis,
    encode_wav, measure_loudness,
};
use encore_engine::generate::{GenInput, GenerateError, Generator, Params, generator, generators};
use encore_engine::job::Job;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

/// Steps of the progress bar.
const PROGRESS_STEPS: u64 = 1000;

#[derive(clap::Args)]
pub struct GenerateArgs {
    /// The generator: remix, mashup or cover.
    generator: String,
    /// An input recording (WAV, FLAC, MP3 or Ogg Vorbis); repeat for generators that take several.
    #[arg(long = "input", value_name = "FILE", required = true)]
    inputs: Vec<PathBuf>,
    /// A stem, as NAME=FILE for the first input or N:NAME=FILE for input N (from 1), e.g.
    /// drums=drums.wav or 2:vocals=vocals.wav; repeat for each stem.
    #[arg(long = "stem", value_name = "[N:]NAME=FILE")]
    stems: Vec<String>,
    /// A parameter, as NAME=VALUE (e.g. tempo=1.25, stem.drums=0, mode=sequence,
    /// instrument=strings); repeat.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    params: Vec<String>,
    /// Where to write the audio; the extension chooses the format: .wav, .flac or .ogg.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Where to write the notes as a Standard MIDI File (cover).
    #[arg(long, value_name = "FILE")]
    midi: Option<PathBuf>,
    /// The seed: the same inputs, parameters and seed give the same output.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

/// Why a run failed: the command line was wrong (exit 2) or the work failed (exit 1).
enum Failure {
    Usage(String),
    Other(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Other(e)
    }
}

/// Runs the command; exit 0 on success, 2 for a bad generator, parameter or
/// output name, 1 for anything else (unreadable input, no notes, …).
pub fn run(args: GenerateArgs) -> anyhow::Result<ExitCode> {
    match generate(&args) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(Failure::Usage(message)) => {
            eprintln!("error: {message}");
            Ok(ExitCode::from(2))
        }
        Err(Failure::Other(e)) => Err(e),
    }
}

#[derive(Copy, Clone)]
enum OutFormat {
    Wav,
    Flac,
    Ogg,
}

fn out_format(path: &Path) -> Option<OutFormat> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "wav" => Some(OutFormat::Wav),
        "flac" => Some(OutFormat::Flac),
        "ogg" | "oga" => Some(OutFormat::Ogg),
        _ => None,
    }
}

fn generate(args: &GenerateArgs) -> Result<(), Failure> {
    let Some(gen_) = generator(&args.generator) else {
        let names: Vec<&str> = generators().iter().map(|g| g.name()).collect();
        return Err(Failure::Usage(format!(
            "there is no generator named '{}': choose one of {}",
            args.generator,
            names.join(", ")
        )));
    };
    let Some(format) = out_format(&args.out) else {
        return Err(Failure::Usage(format!(
            "--out {}: name the output with a .wav, .flac or .ogg extension to choose its format",
            args.out.display()
        )));
    };
    let params = parse_params(&args.params)?;
    let limits = gen_.limits();
    let decode_limits = DecodeLimits::with_max_duration_ms(limits.input_duration_max_ms);
    let mut inputs = Vec::with_capacity(args.inputs.len());
    for path in &args.inputs {
        inputs.push(GenInput::new(read_audio(path, &decode_limits)?));
    }
    for stem in &args.stems {
        let Some((target, file)) = stem.split_once('=') else {
            return Err(Failure::Usage(format!(
                "--stem {stem}: write it as NAME=FILE, e.g. drums=drums.wav, or N:NAME=FILE for input N"
            )));
        };
        let (number, name) = match target.split_once(':') {
            Some((n, name)) => match n.trim().parse::<usize>() {
                Ok(n) if (1..=inputs.len()).contains(&n) => (n, name),
                _ => {
                    return Err(Failure::Usage(format!(
                        "--stem {stem}: '{n}' is not an input number; give 1 to {} (the --input files in order)",
                        inputs.len()
                    )));
                }
            },
            None => (1, target),
        };
        let audio = read_audio(Path::new(file), &decode_limits)?;
        if let Some(input) = inputs.get_mut(number - 1) {
            input.stems.insert(name.trim().to_owned(), audio);
        }
    }

    let bar = ProgressBar::new(PROGRESS_STEPS);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {percent:>3}% {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(gen_.name());
    let started = Instant::now();
    let result = gen_.run(&inputs, &params, args.seed, &BarJob(bar.clone()));
    bar.finish_and_clear();
    let elapsed_s = started.elapsed().as_secs_f64();
    let output = match result {
        Ok(output) => output,
        Err(e) => return Err(run_failure(gen_.as_ref(), e)),
    };
    if args.midi.is_some() && output.midi.is_none() {
        return Err(Failure::Usage(format!(
            "--midi: {} produces no notes; leave --midi out (cover writes MIDI)",
            gen_.name()
        )));
    }

    let audio = &output.audio;
    let bytes = match format {
        OutFormat::Wav => encode_wav(audio),
        OutFormat::Flac => encode_flac(audio, FlacBitDepth::TwentyFour).context("encoding FLAC")?,
        OutFormat::Ogg => {
            encode_ogg_vorbis(audio, OGG_VORBIS_QUALITY_DEFAULT).context("encoding Ogg Vorbis")?
        }
    };
    std::fs::write(&args.out, bytes).with_context(|| format!("writing {}", args.out.display()))?;
    if let (Some(path), Some(midi)) = (&args.midi, &output.midi) {
        std::fs::write(path, midi).with_context(|| format!("writing {}", path.display()))?;
        eprintln!(
            "wrote {} ({} notes)",
            path.display(),
            output.notes.as_ref().map_or(0, Vec::len)
        );
    }
    let in_s: f64 = inputs.iter().map(|i| i.mix.duration().as_secs_f64()).sum();
    let out_s = audio.duration().as_secs_f64();
    let loudness = measure_loudness(audio).context("measuring the output")?;
    eprintln!(
        "wrote {}: {out_s:.2} s, {:.1} LUFS, {:.1} dBTP ({} of {in_s:.2} s of input in {elapsed_s:.2} s, {:.1}x real time)",
        args.out.display(),
        loudness.integrated_lufs,
        loudness.true_peak_dbtp,
        gen_.name(),
        in_s / elapsed_s.max(1e-9),
    );
    Ok(())
}

fn read_audio(path: &Path, limits: &DecodeLimits) -> Result<encore_engine::Audio, Failure> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(decode(&bytes, limits).with_context(|| format!("decoding {}", path.display()))?)
}

/// Bad parameters and input counts are the caller's to fix (exit 2); the rest exit 1.
fn run_failure(gen_: &dyn Generator, e: GenerateError) -> Failure {
    match &e {
        GenerateError::InvalidParameter { name, .. } | GenerateError::UnknownStem { name, .. } => {
            Failure::Usage(format!(
                "{e}; change --param {name} (see the {} parameters with their ranges in the API's /docs)",
                gen_.name()
            ))
        }
        GenerateError::InputCount { .. } => {
            Failure::Usage(format!("{e}; give that many --input files"))
        }
        _ => Failure::Other(anyhow::Error::new(e).context(format!("{} failed", gen_.name()))),
    }
}

/// `NAME=VALUE` pairs as a parameter object: numbers and `true`/`false` as
/// JSON, anything else as a string; a repeated name keeps its last value.
fn parse_params(pairs: &[String]) -> Result<Params, Failure> {
    let mut params = Params::new();
    for pair in pairs {
        let Some((name, value)) = pair.split_once('=') else {
            return Err(Failure::Usage(format!(
                "--param {pair}: write it as NAME=VALUE, e.g. tempo=1.25"
            )));
        };
        let name = name.trim();
        if name.is_empty() {
            return Err(Failure::Usage(format!(
                "--param {pair}: the parameter name is missing, e.g. tempo=1.25"
            )));
        }
        params.insert(name.to_owned(), param_value(value.trim()));
    }
    Ok(params)
}

fn param_value(text: &str) -> Value {
    if let Ok(n) = text.parse::<i64>() {
        return Value::from(n);
    }
    if let Some(n) = text
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
    {
        return Value::Number(n);
    }
    match text {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => Value::String(text.to_owned()),
    }
}

/// Drives the progress bar from the generator's progress; never cancelled.
struct BarJob(ProgressBar);

impl Job for BarJob {
    fn progress(&self, done: f32) {
        let position = (f64::from(done.clamp(0.0, 1.0)) * PROGRESS_STEPS as f64) as u64;
        self.0.set_position(position);
    }

    fn cancelled(&self) -> bool {
        false
    }
}
