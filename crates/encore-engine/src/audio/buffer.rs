//! The decoded audio buffer every generator works on.

use std::time::Duration;

use super::AudioError;

/// The most channels an [`Audio`] may hold; WAV and FLAC top out at 8 in practice.
pub const CHANNELS_MAX: usize = 32;

/// Decoded audio: planar `f32` samples (nominally in `[-1.0, 1.0]`) and a sample rate.
///
/// Planar, because every processing step (resampling, loudness, limiting,
/// stretching) works one channel at a time; [`Audio::interleaved`] gives the
/// other layout for encoders that want it.  Every channel has the same number
/// of frames, and there is at least one channel; the constructors check both.
#[derive(Clone, Debug, PartialEq)]
pub struct Audio {
    channels: Vec<Vec<f32>>,
    sample_rate: u32,
}

impl Audio {
    /// Wraps per-channel sample vectors, refusing no channels, more than
    /// [`CHANNELS_MAX`], unequal lengths or a zero sample rate.
    pub fn from_planar(channels: Vec<Vec<f32>>, sample_rate: u32) -> Result<Self, AudioError> {
        if channels.is_empty() || channels.len() > CHANNELS_MAX {
            return Err(AudioError::InvalidParameter(format!(
                "audio needs 1 to {CHANNELS_MAX} channels, not {}",
                channels.len()
            )));
        }
        let frames = channels[0].len();
        if channels.iter().any(|c| c.len() != frames) {
            return Err(AudioError::InvalidParameter(
                "every channel must hold the same number of frames".to_owned(),
            ));
        }
        if sample_rate == 0 {
            return Err(AudioError::InvalidParameter(
                "the sample rate must be above zero".to_owned(),
            ));
        }
        Ok(Self {
            channels,
            sample_rate,
        })
    }

    /// Splits interleaved samples (`L R L R …`) into channels; a trailing partial frame is refused.
    pub fn from_interleaved(
        samples: &[f32],
        channel_count: u16,
        sample_rate: u32,
    ) -> Result<Self, AudioError> {
        let n = usize::from(channel_count);
        if n == 0 || samples.len() % n != 0 {
            return Err(AudioError::InvalidParameter(format!(
                "{} interleaved samples do not divide into frames of {n} channels",
                samples.len()
            )));
        }
        let frames = samples.len() / n;
        let channels = (0..n)
            .map(|c| samples.iter().skip(c).step_by(n).copied().collect())
            .collect::<Vec<Vec<f32>>>();
        debug_assert!(channels.iter().all(|ch| ch.len() == frames));
        Self::from_planar(channels, sample_rate)
    }

    /// Frames per second.
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// Number of channels (at least one).
    pub fn channel_count(&self) -> u16 {
        // `from_planar` caps the count at CHANNELS_MAX, far below u16::MAX.
        u16::try_from(self.channels.len()).unwrap_or(u16::MAX)
    }

    /// Samples per channel.
    pub fn frames(&self) -> usize {
        self.channels.first().map_or(0, Vec::len)
    }

    /// Whether the buffer holds no frames.
    pub fn is_empty(&self) -> bool {
        self.frames() == 0
    }

    /// Length in time, exact to the nanosecond.
    pub fn duration(&self) -> Duration {
        let nanos = self.frames() as u128 * 1_000_000_000 / u128::from(self.sample_rate.max(1));
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }

    /// One channel's samples, or `None` past the last channel.
    pub fn channel(&self, index: usize) -> Option<&[f32]> {
        self.channels.get(index).map(Vec::as_slice)
    }

    /// All channels, in order.
    pub fn channels(&self) -> &[Vec<f32>] {
        &self.channels
    }

    /// All channels, mutable in place (their lengths cannot change).
    pub fn channels_mut(&mut self) -> impl Iterator<Item = &mut [f32]> {
        self.channels.iter_mut().map(Vec::as_mut_slice)
    }

    /// Gives up the channel vectors.
    pub fn into_planar(self) -> Vec<Vec<f32>> {
        self.channels
    }

    /// The samples interleaved frame by frame (`L R L R …`).
    pub fn interleaved(&self) -> Vec<f32> {
        let n = self.channels.len();
        let mut out = Vec::with_capacity(self.frames() * n);
        for i in 0..self.frames() {
            out.extend(self.channels.iter().map(|c| c[i]));
        }
        out
    }

    /// The largest absolute sample value over all channels (the sample peak, not the true peak).
    pub fn sample_peak(&self) -> f32 {
        self.channels
            .iter()
            .flatten()
            .fold(0.0f32, |m, &s| if s.abs() > m { s.abs() } else { m })
    }

    /// A one-channel copy: the mean of all channels, so equal channels come out unchanged.
    pub fn to_mono(&self) -> Audio {
        if self.channels.len() == 1 {
            return self.clone();
        }
        let scale = 1.0 / self.channels.len() as f32;
        let mono = (0..self.frames())
            .map(|i| self.channels.iter().map(|c| c[i]).sum::<f32>() * scale)
            .collect();
        Audio {
            channels: vec![mono],
            sample_rate: self.sample_rate,
        }
    }

    /// A two-channel copy.
    ///
    /// Mono is duplicated into both sides.  More than two channels are taken
    /// in the WAV/FLAC order (front left, front right, centre, LFE, surround
    /// left, surround right) and folded down as ITU-R BS.775 does: centre and
    /// surrounds at -3 dB into their side, LFE dropped, channels past the sixth
    /// ignored.  The fold-down can exceed full scale; loudness normalisation
    /// and its limiter bring it back.
    pub fn to_stereo(&self) -> Audio {
        const MINUS_3_DB: f32 = std::f32::consts::FRAC_1_SQRT_2;
        let ch = |i: usize| self.channels.get(i);
        let (left, right) = match self.channels.len() {
            1 => (self.channels[0].clone(), self.channels[0].clone()),
            2 => (self.channels[0].clone(), self.channels[1].clone()),
            _ => {
                let mix = |front: &[f32], surround: Option<&Vec<f32>>| -> Vec<f32> {
                    (0..self.frames())
                        .map(|i| {
                            let centre = ch(2).map_or(0.0, |c| c[i]);
                            let back = surround.map_or(0.0, |c| c[i]);
                            front[i] + MINUS_3_DB * (centre + back)
                        })
                        .collect()
                };
                (mix(&self.channels[0], ch(4)), mix(&self.channels[1], ch(5)))
            }
        };
        Audio {
            channels: vec![left, right],
            sample_rate: self.sample_rate,
        }
    }

    /// Multiplies every sample by `gain` (linear).
    pub fn apply_gain(&mut self, gain: f32) {
        for s in self.channels.iter_mut().flatten() {
            *s *= gain;
        }
    }

    /// The `seconds` of audio from `start_s` (both clamped to the buffer), cut at whole
    /// frames: a clip, a test excerpt.  Empty when the range lies past the end.
    pub fn excerpt(&self, start_s: f64, seconds: f64) -> Audio {
        let rate = f64::from(self.sample_rate);
        let frames = self.frames();
        let from = ((start_s.max(0.0) * rate) as usize).min(frames);
        let to = (((start_s.max(0.0) + seconds.max(0.0)) * rate) as usize).clamp(from, frames);
        let channels = self.channels.iter().map(|c| c[from..to].to_vec()).collect();
        Self::from_parts(channels, self.sample_rate)
    }

    /// Builds a buffer the crate already knows to be well formed.
    pub(crate) fn from_parts(channels: Vec<Vec<f32>>, sample_rate: u32) -> Self {
        debug_assert!(!channels.is_empty());
        debug_assert!(channels.iter().all(|c| c.len() == channels[0].len()));
        Self {
            channels,
            sample_rate,
        }
    }
}
