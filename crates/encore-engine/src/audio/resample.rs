//! Sample-rate conversion with rubato's synchronous FFT resampler.

use rubato::audioadapter_buffers::direct::SequentialSliceOfVecs;
use rubato::{Fft, FixedSync, Resampler};

use super::{Audio, AudioError};

/// The lowest sample rate [`resample`] converts to.
pub const SAMPLE_RATE_MIN: u32 = 8_000;
/// The highest sample rate [`resample`] converts to; it bounds the output's size.
pub const SAMPLE_RATE_MAX: u32 = 192_000;
/// Input frames per FFT chunk: long enough for a steep anti-aliasing filter,
/// short enough that the resampler's own buffers stay small.
const CHUNK_FRAMES: usize = 1024;

/// Converts `audio` to `target_rate`, keeping its length in time.
///
/// rubato's `Fft` resampler is a fixed-ratio, FFT-based band-limited
/// resampler (a Blackman-Harris anti-aliasing filter), which is exact for the
/// rational ratios between common rates and much faster than a sinc
/// interpolator.  Its start-up delay is trimmed and its tail flushed, so the
/// output holds `ceil(frames * target_rate / rate)` frames: the input's length
/// rounded up by less than one output frame.  The same rate returns a copy.
pub fn resample(audio: &Audio, target_rate: u32) -> Result<Audio, AudioError> {
    if !(SAMPLE_RATE_MIN..=SAMPLE_RATE_MAX).contains(&target_rate) {
        return Err(AudioError::InvalidParameter(format!(
            "the target sample rate {target_rate} Hz is outside {SAMPLE_RATE_MIN} to {SAMPLE_RATE_MAX} Hz"
        )));
    }
    if target_rate == audio.sample_rate() {
        return Ok(audio.clone());
    }
    let channels = audio.channels().len();
    if audio.is_empty() {
        return Ok(Audio::from_parts(vec![Vec::new(); channels], target_rate));
    }
    let in_rate = usize::try_from(audio.sample_rate()).map_err(resample_error)?;
    let out_rate = usize::try_from(target_rate).map_err(resample_error)?;

    let mut resampler =
        Fft::<f32>::new(in_rate, out_rate, CHUNK_FRAMES, channels, FixedSync::Input)
            .map_err(resample_error)?;
    let frames = audio.frames();
    let input =
        SequentialSliceOfVecs::new(audio.channels(), channels, frames).map_err(resample_error)?;
    let capacity = resampler.process_all_needed_output_len(frames);
    let mut output = vec![vec![0.0f32; capacity]; channels];
    let (_, out_frames) = {
        let mut adapter = SequentialSliceOfVecs::new_mut(&mut output, channels, capacity)
            .map_err(resample_error)?;
        resampler
            .process_all_into_buffer(&input, &mut adapter, frames, None)
            .map_err(resample_error)?
    };
    for channel in &mut output {
        channel.truncate(out_frames);
    }
    Ok(Audio::from_parts(output, target_rate))
}

fn resample_error(e: impl std::fmt::Display) -> AudioError {
    AudioError::Resample(e.to_string())
}
