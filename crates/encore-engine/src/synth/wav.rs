//! Minimal RIFF WAVE writer for the synthesiser's output.

/// Bytes in the canonical 44-byte header of a PCM WAV file.
const HEADER_LEN: usize = 44;
/// The synthesiser always writes interleaved stereo.
const CHANNELS: u16 = 2;
/// Every file is 16-bit, which all players and symphonia's PCM decoder accept.
const BITS_PER_SAMPLE: u16 = 16;

/// Encodes interleaved stereo `f32` samples as a 16-bit PCM RIFF WAV file.
///
/// Samples are clipped to `[-1.0, 1.0]` before conversion and NaN becomes
/// silence, so an overshooting mix saturates instead of wrapping around.  A
/// trailing odd sample (half a frame) is dropped because a WAV frame must hold
/// both channels, and audio beyond the 4 GiB a RIFF size field can describe is
/// left out rather than producing a file with a wrapped length.
pub fn encode_wav_i16(samples_interleaved_stereo: &[f32], sample_rate: u32) -> Vec<u8> {
    encode_wav_i16_channels(samples_interleaved_stereo, CHANNELS, sample_rate)
}

/// Encodes interleaved `f32` samples of `channels` channels as 16-bit PCM WAV,
/// with the same clipping and truncation rules as [`encode_wav_i16`].
pub(crate) fn encode_wav_i16_channels(
    samples_interleaved: &[f32],
    channels: u16,
    sample_rate: u32,
) -> Vec<u8> {
    let channels = channels.max(1);
    let bytes_per_frame = usize::from(channels) * usize::from(BITS_PER_SAMPLE / 8);
    let max_frames = (u32::MAX as usize - (HEADER_LEN - 8)) / bytes_per_frame;
    let frames = (samples_interleaved.len() / usize::from(channels)).min(max_frames);
    let samples = &samples_interleaved[..frames * usize::from(channels)];

    let data_len = frames * bytes_per_frame;
    // Both conversions are in range because `frames` was capped above.
    let data_len_u32 = u32::try_from(data_len).unwrap_or(u32::MAX);
    let riff_len = data_len_u32.saturating_add((HEADER_LEN - 8) as u32);
    let block_align = channels * (BITS_PER_SAMPLE / 8);
    let byte_rate = sample_rate.saturating_mul(u32::from(block_align));

    let mut out = Vec::with_capacity(HEADER_LEN + data_len);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&riff_len.to_le_bytes());
    out.extend_from_slice(b"WAVE");
    out.extend_from_slice(b"fmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&sample_rate.to_le_bytes());
    out.extend_from_slice(&byte_rate.to_le_bytes());
    out.extend_from_slice(&block_align.to_le_bytes());
    out.extend_from_slice(&BITS_PER_SAMPLE.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len_u32.to_le_bytes());
    for &s in samples {
        out.extend_from_slice(&to_i16(s).to_le_bytes());
    }
    out
}

/// Converts one sample to 16-bit, saturating at full scale.
fn to_i16(sample: f32) -> i16 {
    if sample.is_nan() {
        return 0;
    }
    // The clamp keeps the product inside i16's range, so the cast cannot wrap.
    (sample.clamp(-1.0, 1.0) * 32767.0).round() as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_describes_the_data() {
        let wav = encode_wav_i16(&[0.0, 0.5, -0.5, 1.0], 44_100);
        assert_eq!(wav.len(), 44 + 8);
        assert_eq!(&wav[0..4], b"RIFF");
        assert_eq!(u32::from_le_bytes([wav[4], wav[5], wav[6], wav[7]]), 44);
        assert_eq!(u32::from_le_bytes([wav[40], wav[41], wav[42], wav[43]]), 8);
    }

    #[test]
    fn clips_and_silences_bad_samples() {
        assert_eq!(to_i16(2.0), 32767);
        assert_eq!(to_i16(-7.0), -32767);
        assert_eq!(to_i16(f32::NAN), 0);
        assert_eq!(to_i16(f32::INFINITY), 32767);
    }

    #[test]
    fn drops_half_frames() {
        let wav = encode_wav_i16(&[0.1, 0.2, 0.3], 8_000);
        assert_eq!(wav.len(), 44 + 4);
    }
}
