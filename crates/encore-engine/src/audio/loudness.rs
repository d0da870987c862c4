//! Loudness measurement (EBU R128 / ITU-R BS.1770) and normalisation.

use ebur128::{EbuR128, Mode};

use super::{Audio, AudioError, limiter};

/// The integrated loudness streaming services play at, and encore's output target.
pub const LOUDNESS_TARGET_LUFS: f64 = -14.0;
/// The highest true peak allowed after normalisation, leaving room for lossy encoders.
pub const TRUE_PEAK_CEILING_DBTP: f64 = -1.0;
/// BS.1770's absolute gate: audio whose integrated loudness is not above it is silence.
pub const SILENCE_GATE_LUFS: f64 = -70.0;
/// The most [`normalize`] will raise the level, so near-silence (hiss, a fade) is not
/// turned into loud noise; quieter audio comes out below the target.
pub const NORMALIZE_GAIN_MAX_DB: f64 = 40.0;
/// How close to the target [`normalize`] tries to land before it stops iterating.
const TARGET_TOLERANCE_DB: f64 = 0.1;
/// Rounds of gain correction after the limiter has taken some loudness away.
const NORMALIZE_ROUNDS_MAX: usize = 4;
/// The limiter aims this far under the ceiling, because its peak estimate and
/// the meter's (both 4x oversampled, with different filters) differ slightly.
const LIMITER_MARGIN_DB: f64 = 0.2;

/// The loudness of a piece of audio.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Loudness {
    /// Gated integrated loudness per BS.1770-4, in LUFS; negative infinity for silence.
    pub integrated_lufs: f64,
    /// The largest 4x-oversampled peak over all channels, in dBTP; negative infinity for silence.
    pub true_peak_dbtp: f64,
}

/// What [`normalize`] did.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum Normalization {
    /// The audio is silent (not louder than [`SILENCE_GATE_LUFS`]) and was left unchanged,
    /// since no gain can bring silence to a loudness target.  Audio shorter than one
    /// 400 ms gating block has no integrated loudness either and is reported here too.
    Silent {
        /// The measured integrated loudness (negative infinity for digital silence).
        integrated_lufs: f64,
    },
    /// Gain and, if needed, the limiter were applied.
    Applied {
        /// Loudness before.
        before: Loudness,
        /// Loudness after.
        after: Loudness,
        /// The static gain applied before the limiter, in dB.
        gain_db: f64,
        /// The deepest gain reduction of the limiter, in dB (0 when it did nothing).
        limiter_reduction_db: f64,
    },
}

/// Measures integrated loudness and true peak per EBU R128 / ITU-R BS.1770-4.
///
/// Channels are weighted as `ebur128` maps them by default (left, right,
/// centre, LFE unused, surrounds at +1.5 dB), so a mono file counts as one
/// channel: a full-scale 997 Hz sine reads -3.01 LUFS in mono and 0 LUFS in
/// stereo (both channels at full scale).
pub fn measure_loudness(audio: &Audio) -> Result<Loudness, AudioError> {
    let mut meter = EbuR128::new(
        u32::from(audio.channel_count()),
        audio.sample_rate(),
        Mode::I | Mode::TRUE_PEAK,
    )
    .map_err(meter_error)?;
    let planes: Vec<&[f32]> = audio.channels().iter().map(Vec::as_slice).collect();
    meter.add_frames_planar_f32(&planes).map_err(meter_error)?;
    let integrated_lufs = meter.loudness_global().map_err(meter_error)?;
    let mut peak = 0.0f64;
    for channel in 0..u32::from(audio.channel_count()) {
        peak = peak.max(meter.true_peak(channel).map_err(meter_error)?);
    }
    Ok(Loudness {
        integrated_lufs,
        true_peak_dbtp: linear_to_db(peak),
    })
}

/// Brings `audio` to `target_lufs` integrated loudness with its true peak at or
/// under `true_peak_ceiling_dbtp` (use [`LOUDNESS_TARGET_LUFS`] and
/// [`TRUE_PEAK_CEILING_DBTP`] for streaming).
///
/// A static gain moves the loudness to the target; where that pushes peaks
/// over the ceiling, a look-ahead limiter on a 4x-oversampled peak estimate
/// (5 ms attack, 80 ms release, one gain for all channels) holds them down.
/// The limiter takes a little loudness away, so the gain is corrected and the
/// pass repeated (at most four rounds) until the result is within 0.1 LU of
/// the target.  A final measurement checks the true peak; any overshoot left
/// by the two peak estimators' differences is removed with a small static
/// trim, so the ceiling always holds.  Quiet material with loud transients
/// therefore still reaches the target, with only its transients limited.
///
/// Silence is left unchanged and reported as [`Normalization::Silent`]; the
/// gain never exceeds [`NORMALIZE_GAIN_MAX_DB`].
pub fn normalize(
    audio: &mut Audio,
    target_lufs: f64,
    true_peak_ceiling_dbtp: f64,
) -> Result<Normalization, AudioError> {
    if !(-70.0..=0.0).contains(&target_lufs) {
        return Err(AudioError::InvalidParameter(format!(
            "the loudness target {target_lufs} LUFS is outside -70 to 0 LUFS"
        )));
    }
    if !(-20.0..=0.0).contains(&true_peak_ceiling_dbtp) {
        return Err(AudioError::InvalidParameter(format!(
            "the true-peak ceiling {true_peak_ceiling_dbtp} dBTP is outside -20 to 0 dBTP"
        )));
    }
    let before = measure_loudness(audio)?;
    if before.integrated_lufs.is_nan() || before.integrated_lufs <= SILENCE_GATE_LUFS {
        return Ok(Normalization::Silent {
            integrated_lufs: before.integrated_lufs,
        });
    }

    let limiter_ceiling = db_to_linear(true_peak_ceiling_dbtp - LIMITER_MARGIN_DB) as f32;
    let mut gain_db = (target_lufs - before.integrated_lufs).min(NORMALIZE_GAIN_MAX_DB);
    let mut result = None;
    for _ in 0..NORMALIZE_ROUNDS_MAX {
        let mut work = audio.clone();
        work.apply_gain(db_to_linear(gain_db) as f32);
        let min_gain = limiter::limit(&mut work, limiter_ceiling);
        let mut after = measure_loudness(&work)?;
        if after.true_peak_dbtp > true_peak_ceiling_dbtp {
            let trim_db = true_peak_ceiling_dbtp - after.true_peak_dbtp - 0.01;
            work.apply_gain(db_to_linear(trim_db) as f32);
            after = measure_loudness(&work)?;
        }
        let miss_db = target_lufs - after.integrated_lufs;
        let at_max = gain_db >= NORMALIZE_GAIN_MAX_DB;
        let reduction_db = if min_gain < 1.0 {
            -linear_to_db(f64::from(min_gain))
        } else {
            0.0
        };
        result = Some((work, after, gain_db, reduction_db));
        if miss_db.abs() <= TARGET_TOLERANCE_DB || (at_max && miss_db > 0.0) {
            break;
        }
        gain_db = (gain_db + miss_db).min(NORMALIZE_GAIN_MAX_DB);
    }
    let Some((work, after, gain_db, limiter_reduction_db)) = result else {
        // NORMALIZE_ROUNDS_MAX is above zero, so the loop ran at least once.
        return Ok(Normalization::Silent {
            integrated_lufs: before.integrated_lufs,
        });
    };
    *audio = work;
    Ok(Normalization::Applied {
        before,
        after,
        gain_db,
        limiter_reduction_db,
    })
}

fn db_to_linear(db: f64) -> f64 {
    10f64.powf(db / 20.0)
}

fn linear_to_db(linear: f64) -> f64 {
    if linear <= 0.0 {
        f64::NEG_INFINITY
    } else {
        20.0 * linear.log10()
    }
}

fn meter_error(e: ebur128::Error) -> AudioError {
    AudioError::InvalidParameter(format!("the loudness meter refused the audio: {e}"))
}
