//! Writing [`Audio`] out: a FLAC master, an Ogg Vorbis stream and WAV.

use std::num::{NonZeroU8, NonZeroU32};

use flacenc::bitsink::ByteSink;
use flacenc::component::BitRepr;
use flacenc::error::Verify;
use vorbis_rs::{VorbisBitrateManagementStrategy, VorbisEncoderBuilder};

use super::{Audio, AudioError};
use crate::synth::encode_wav_i16_channels;

/// Frames per FLAC block: the reference encoder's default, within the FLAC subset.
const FLAC_BLOCK_FRAMES: usize = 4096;
/// FLAC's format limit on channels.
const FLAC_CHANNELS_MAX: usize = 8;
/// Frames handed to the Vorbis encoder at a time, the size libvorbis suggests.
const VORBIS_BLOCK_FRAMES: usize = 1024;
/// The Ogg stream serial number.  Fixed rather than random, so the same audio
/// always encodes to the same bytes (generators promise reproducible output).
const OGG_STREAM_SERIAL: i32 = 0x656e_636f; // "enco"
/// Vorbis quality for streaming copies: about 160 kbit/s for stereo music.
pub const OGG_VORBIS_QUALITY_DEFAULT: f32 = 0.5;

/// Sample depth of a FLAC master.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FlacBitDepth {
    /// 16-bit, CD quality.
    Sixteen,
    /// 24-bit, studio quality.
    TwentyFour,
}

impl FlacBitDepth {
    fn bits(self) -> usize {
        match self {
            FlacBitDepth::Sixteen => 16,
            FlacBitDepth::TwentyFour => 24,
        }
    }
}

/// Encodes `audio` as a FLAC file (a lossless master).
///
/// Samples are scaled as symphonia reads them back (`2^(bits-1)` is full
/// scale), rounded and clipped, without dither; audio that came from 16-bit
/// integers survives a 16-bit round trip bit for bit.
///
/// `flacenc` records the shortest block it wrote, including a short final
/// block, as the STREAMINFO minimum block size; symphonia refuses a minimum
/// under 16 and the FLAC format says the final block does not count.  The
/// minimum is therefore set back to the fixed block size, as the reference
/// encoder writes it.
pub fn encode_flac(audio: &Audio, depth: FlacBitDepth) -> Result<Vec<u8>, AudioError> {
    let channels = audio.channels().len();
    if channels > FLAC_CHANNELS_MAX {
        return Err(AudioError::InvalidParameter(format!(
            "FLAC holds at most {FLAC_CHANNELS_MAX} channels, not {channels}"
        )));
    }
    let bits = depth.bits();
    let full_scale = f64::from(1u32 << (bits - 1));
    let (min, max) = (-full_scale, full_scale - 1.0);
    let samples: Vec<i32> = audio
        .interleaved()
        .into_iter()
        .map(|s| {
            if s.is_nan() {
                0
            } else {
                // Clamped into the integer range first, so the cast cannot wrap.
                (f64::from(s) * full_scale).round().clamp(min, max) as i32
            }
        })
        .collect();
    let rate = usize::try_from(audio.sample_rate()).map_err(encode_error)?;

    let mut config = flacenc::config::Encoder::default();
    config.block_size = FLAC_BLOCK_FRAMES;
    config.multithread = false;
    let config = config.into_verified().map_err(|(_, e)| encode_error(e))?;
    let source = flacenc::source::MemSource::from_samples(&samples, channels, bits, rate);
    let mut stream = flacenc::encode_with_fixed_block_size(&config, source, FLAC_BLOCK_FRAMES)
        .map_err(encode_error)?;
    stream
        .stream_info_mut()
        .set_block_sizes(FLAC_BLOCK_FRAMES, FLAC_BLOCK_FRAMES)
        .map_err(encode_error)?;

    let mut sink = ByteSink::new();
    stream.write(&mut sink).map_err(encode_error)?;
    Ok(sink.into_inner())
}

/// Encodes `audio` as Ogg Vorbis at `quality` (-0.1 to 1.0; see
/// [`OGG_VORBIS_QUALITY_DEFAULT`]), the streaming copy.
///
/// Ogg Vorbis rather than Opus: `vorbis_rs` builds libvorbis from bundled C
/// sources (no system package), and symphonia reads it back, so tests check
/// every file written.  Samples are clipped to `[-1.0, 1.0]` and NaN becomes
/// silence.  The output's granule positions give the exact input length, so
/// decoders trim the final block.
pub fn encode_ogg_vorbis(audio: &Audio, quality: f32) -> Result<Vec<u8>, AudioError> {
    if !(-0.1..=1.0).contains(&quality) {
        return Err(AudioError::InvalidParameter(format!(
            "the Vorbis quality {quality} is outside -0.1 to 1.0"
        )));
    }
    let rate = NonZeroU32::new(audio.sample_rate())
        .ok_or_else(|| AudioError::InvalidParameter("the sample rate is zero".to_owned()))?;
    let channels = u8::try_from(audio.channels().len())
        .ok()
        .and_then(NonZeroU8::new)
        .ok_or_else(|| AudioError::InvalidParameter("Vorbis holds 1 to 255 channels".to_owned()))?;

    let mut encoder =
        VorbisEncoderBuilder::new_with_serial(rate, channels, Vec::new(), OGG_STREAM_SERIAL)
            .bitrate_management_strategy(VorbisBitrateManagementStrategy::QualityVbr {
                target_quality: quality,
            })
            .build()
            .map_err(encode_error)?;
    let mut block: Vec<Vec<f32>> =
        vec![Vec::with_capacity(VORBIS_BLOCK_FRAMES); audio.channels().len()];
    for start in (0..audio.frames()).step_by(VORBIS_BLOCK_FRAMES) {
        let end = (start + VORBIS_BLOCK_FRAMES).min(audio.frames());
        for (out, channel) in block.iter_mut().zip(audio.channels()) {
            out.clear();
            out.extend(
                channel[start..end].iter().map(
                    |&s| {
                        if s.is_nan() { 0.0 } else { s.clamp(-1.0, 1.0) }
                    },
                ),
            );
        }
        encoder.encode_audio_block(&block).map_err(encode_error)?;
    }
    encoder.finish().map_err(encode_error)
}

/// Encodes `audio` as 16-bit PCM WAV with the synthesiser's writer (clipped, no dither).
///
/// That writer scales full scale to 32,767 while decoders divide by 32,768, so
/// a WAV round trip is within one step, not bit-exact; use [`encode_flac`] for
/// a master.
pub fn encode_wav(audio: &Audio) -> Vec<u8> {
    encode_wav_i16_channels(
        &audio.interleaved(),
        audio.channel_count(),
        audio.sample_rate(),
    )
}

fn encode_error(e: impl std::fmt::Display) -> AudioError {
    AudioError::Encode(e.to_string())
}
