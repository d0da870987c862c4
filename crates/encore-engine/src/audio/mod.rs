//! Audio plumbing: decoded buffers, decoding, resampling, loudness and encoding.
//!
//! Every generator works on an [`Audio`]: planar `f32` samples in `[-1.0, 1.0]`
//! with a sample rate.  Audio enters through [`decode`] (WAV, FLAC, MP3, Ogg
//! Vorbis, under [`DecodeLimits`]), is brought to a common rate with
//! [`resample`], is measured and normalised with [`measure_loudness`] and
//! [`normalize`] (EBU R128 / ITU-R BS.1770), and leaves as a lossless FLAC
//! master ([`encode_flac`]), an Ogg Vorbis stream ([`encode_ogg_vorbis`]) or a
//! WAV file ([`encode_wav`]).

mod buffer;
mod decode;
mod encode;
mod error;
mod limiter;
mod loudness;
mod resample;

pub use buffer::{Audio, CHANNELS_MAX};
pub use decode::{DecodeLimits, decode};
pub use encode::{
    FlacBitDepth, OGG_VORBIS_QUALITY_DEFAULT, encode_flac, encode_ogg_vorbis, encode_wav,
};
pub use error::AudioError;
pub use loudness::{
    LOUDNESS_TARGET_LUFS, Loudness, NORMALIZE_GAIN_MAX_DB, Normalization, SILENCE_GATE_LUFS,
    TRUE_PEAK_CEILING_DBTP, measure_loudness, normalize,
};
pub use resample::{SAMPLE_RATE_MAX, SAMPLE_RATE_MIN, resample};
