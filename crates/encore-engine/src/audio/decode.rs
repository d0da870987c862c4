//! Decoding uploads and fixtures into [`Audio`].

use symphonia::core::audio::{AudioBuffer, AudioBufferRef, Signal};

use super::buffer::CHANNELS_MAX;
use super::{Audio, AudioError};
use crate::probe::{FrameSink, StreamHeader, exceeds, walk};

/// How much audio [`decode`] may produce, and so how much memory it may take.
///
/// Decoded audio costs 4 bytes per sample, so the defaults (10 minutes,
/// 115,200,000 samples: 10 minutes of 96 kHz stereo) cap one decode at about
/// 461 MB.  Both limits are checked against the container's declared length
/// before decoding starts, and again as packets are decoded, so a file that
/// lies about its length still stops at the limit.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct DecodeLimits {
    /// The longest audio accepted, in milliseconds.
    pub max_duration_ms: u64,
    /// The most samples accepted, summed over channels.
    pub max_samples: u64,
}

impl DecodeLimits {
    /// Ten minutes.
    pub const DURATION_MS_DEFAULT: u64 = 10 * 60 * 1000;
    /// Ten minutes of 96 kHz stereo.
    pub const SAMPLES_DEFAULT: u64 = 10 * 60 * 96_000 * 2;

    /// The defaults with another duration limit.
    pub fn with_max_duration_ms(max_duration_ms: u64) -> Self {
        Self {
            max_duration_ms,
            ..Self::default()
        }
    }
}

impl Default for DecodeLimits {
    fn default() -> Self {
        Self {
            max_duration_ms: Self::DURATION_MS_DEFAULT,
            max_samples: Self::SAMPLES_DEFAULT,
        }
    }
}

/// Decodes a whole WAV, FLAC, MP3 or Ogg Vorbis file into planar `f32` samples.
///
/// The file is checked exactly as [`crate::probe()`] checks an upload (every
/// packet decoded, truncation and checksum errors refused); in addition the
/// decoded samples are kept, within `limits`.  Integer samples are scaled by
/// symphonia's convention (`i16` divides by 32,768), so 16-bit audio written by
/// [`super::encode_flac`] reads back bit-exact.
pub fn decode(bytes: &[u8], limits: &DecodeLimits) -> Result<Audio, AudioError> {
    let mut sink = Collect {
        limits: *limits,
        channels: Vec::new(),
        sample_rate: 0,
        scratch: None,
    };
    let info = walk(bytes, limits.max_duration_ms, &mut sink)?;
    let channels = sink.channels;
    if channels.is_empty() || channels[0].is_empty() {
        return Err(AudioError::Empty);
    }
    debug_assert_eq!(channels[0].len() as u64, info.frames);
    Ok(Audio::from_parts(channels, info.sample_rate))
}

/// The sink that keeps every decoded sample, as `f32`, one vector per channel.
struct Collect {
    limits: DecodeLimits,
    channels: Vec<Vec<f32>>,
    sample_rate: u32,
    /// Reused conversion buffer, so each packet does not allocate.
    scratch: Option<AudioBuffer<f32>>,
}

impl Collect {
    fn too_large(&self) -> AudioError {
        AudioError::TooLarge {
            limit_samples: self.limits.max_samples,
        }
    }
}

impl FrameSink for Collect {
    type Error = AudioError;

    fn start(&mut self, header: &StreamHeader) -> Result<(), AudioError> {
        let channels = u64::from(header.channels);
        if usize::from(header.channels) > CHANNELS_MAX {
            return Err(AudioError::InvalidParameter(format!(
                "the audio has {channels} channels; at most {CHANNELS_MAX} are supported"
            )));
        }
        if let Some(declared) = header.declared_frames
            && declared.saturating_mul(channels) > self.limits.max_samples
        {
            return Err(self.too_large());
        }
        // Reserve what the file declares, but never more than the limits allow, so a
        // lying header cannot make this allocation large.
        if let Some(declared) = header.declared_frames
            && channels > 0
            && header.sample_rate > 0
        {
            let by_duration = self
                .limits
                .max_duration_ms
                .saturating_mul(u64::from(header.sample_rate))
                / 1000;
            let by_samples = self.limits.max_samples / channels;
            let frames = declared.min(by_duration).min(by_samples);
            let frames = usize::try_from(frames).unwrap_or(0);
            self.channels = (0..channels).map(|_| Vec::with_capacity(frames)).collect();
        }
        Ok(())
    }

    fn frames(&mut self, decoded: &AudioBufferRef<'_>, keep: usize) -> Result<(), AudioError> {
        let spec = *decoded.spec();
        let n = spec.channels.count();
        if n == 0 || n > CHANNELS_MAX {
            return Err(AudioError::Corrupt(format!(
                "it has {n} channels; encore reads 1 to {CHANNELS_MAX}"
            )));
        }
        if self.channels.is_empty() {
            self.channels = vec![Vec::new(); n];
        }
        if self.channels.len() != n {
            return Err(AudioError::Corrupt(
                "its channel count changes midway".to_owned(),
            ));
        }
        if self.sample_rate == 0 {
            self.sample_rate = spec.rate;
        } else if self.sample_rate != spec.rate {
            return Err(AudioError::Corrupt(
                "its sample rate changes midway".to_owned(),
            ));
        }
        let held = self.channels[0].len() as u64;
        let after = (held + keep as u64).saturating_mul(n as u64);
        if after > self.limits.max_samples {
            return Err(self.too_large());
        }
        // The walker has already refused audio past the duration limit; this is a
        // second guard in case a stream changes its rate.
        if exceeds(held + keep as u64, spec.rate, self.limits.max_duration_ms) {
            return Err(AudioError::TooLong {
                limit_ms: self.limits.max_duration_ms,
            });
        }
        if keep == 0 {
            return Ok(());
        }

        let scratch = match self.scratch.take() {
            Some(buf) if buf.capacity() >= decoded.capacity() && *buf.spec() == spec => buf,
            _ => decoded.make_equivalent::<f32>(),
        };
        let mut scratch = scratch;
        decoded.convert(&mut scratch);
        let keep = keep.min(scratch.frames());
        for (c, out) in self.channels.iter_mut().enumerate() {
            out.extend_from_slice(&scratch.chan(c)[..keep]);
        }
        self.scratch = Some(scratch);
        Ok(())
    }
}
