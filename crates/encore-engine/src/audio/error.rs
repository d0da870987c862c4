//! The one error type of the audio plumbing.

use crate::probe::{ProbeError, format_ms};

/// Why audio could not be decoded, processed or encoded.
///
/// The first five variants are about the input a caller supplied and map to
/// the same HTTP statuses as [`ProbeError`]; the rest are about a request the
/// engine could not carry out.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// The bytes are not a container or codec encore can read.
    #[error("the audio could not be recognised: use WAV, FLAC, MP3 or Ogg Vorbis")]
    Unsupported,
    /// The container was recognised but the audio does not decode.
    #[error(
        "the audio file is damaged or incomplete ({0}): export it again from the original and try again"
    )]
    Corrupt(String),
    /// The file decodes to no audio at all.
    #[error("the audio file contains no sound: use a file with at least one sample of audio")]
    Empty,
    /// The audio is longer than the caller allows.
    #[error(
        "the audio is longer than the limit of {}: trim it and try again",
        format_ms(*limit_ms)
    )]
    TooLong {
        /// The limit that was exceeded, in milliseconds.
        limit_ms: u64,
    },
    /// The audio would need more memory than the caller allows (too many channels or
    /// too high a sample rate for its length).
    #[error(
        "the audio holds more than {limit_samples} samples, the limit for one file: lower its sample rate or channel count"
    )]
    TooLarge {
        /// The limit that was exceeded, in samples summed over channels.
        limit_samples: u64,
    },
    /// A buffer or parameter handed to the engine is out of range.
    #[error("invalid audio parameter: {0}")]
    InvalidParameter(String),
    /// The resampler refused the conversion.
    #[error("resampling failed: {0}")]
    Resample(String),
    /// An encoder refused the audio.
    #[error("encoding failed: {0}")]
    Encode(String),
}

impl From<ProbeError> for AudioError {
    fn from(e: ProbeError) -> Self {
        match e {
            ProbeError::Unsupported => AudioError::Unsupported,
            ProbeError::Corrupt(detail) => AudioError::Corrupt(detail),
            ProbeError::Empty => AudioError::Empty,
            ProbeError::TooLong { limit_ms } => AudioError::TooLong { limit_ms },
        }
    }
}
