//! Tempo and key changes with Signalsmith Stretch (MIT), through `ssstretch`.

use ssstretch::Stretch;

use super::{GenerateError, Job};
use crate::audio::{Audio, AudioError};

/// Input frames per processing call: progress and cancellation are checked
/// between calls, and the per-call copies stay small.
const CHUNK_SECONDS: f64 = 1.0;

/// Plays `audio` `tempo` times as fast (0.5 to 2.0) without changing its
/// pitch, and `semitones` higher or lower without changing its tempo, in one
/// pass.  The output has `round(frames / tempo)` frames and starts in step
/// with the input (the stretcher's latency is compensated: its first input
/// latency of samples is given as pre-roll and its output latency flushed at
/// the end).  The stretcher's random phase choices are seeded with `seed`, so
/// the output is reproducible.
pub(crate) fn stretch(
    audio: &Audio,
    tempo: f64,
    semitones: f64,
    seed: u64,
    job: &dyn Job,
) -> Result<Audio, GenerateError> {
    let channels = audio.channels().len();
    let rate = audio.sample_rate();
    let in_len = audio.frames();
    let out_len = ((in_len as f64 / tempo).round() as usize).max(1);
    let to_i32 = |n: usize| {
        i32::try_from(n).map_err(|_| {
            GenerateError::Audio(AudioError::InvalidParameter(format!(
                "{n} frames is too many for the stretcher"
            )))
        })
    };

    // The seed's bits are reinterpreted, not converted; any u64 is a valid seed.
    let mut st = Stretch::with_seed(i64::from_ne_bytes(seed.to_ne_bytes()));
    st.preset_default(to_i32(channels)?, rate as f32);
    if semitones != 0.0 {
        st.set_transpose_semitones(semitones as f32, None);
    }
    let in_latency = usize::try_from(st.input_latency()).unwrap_or(0);
    let out_latency = usize::try_from(st.output_latency()).unwrap_or(0);

    // Very short input is padded with silence so that the pre-roll and the
    // flushed tail fit, and the output cut back afterwards.
    let padded_in = in_len.max(2 * (in_latency + out_latency));
    let padded_out = ((padded_in as f64 / tempo).round() as usize).max(out_latency + 1);
    let slice = |start: usize, end: usize| -> Vec<Vec<f32>> {
        audio
            .channels()
            .iter()
            .map(|c| {
                let mut v: Vec<f32> = c
                    .get(start.min(in_len)..end.min(in_len))
                    .unwrap_or(&[])
                    .to_vec();
                v.resize(end - start, 0.0);
                v
            })
            .collect()
    };

    let seek_len = in_latency.min(padded_in);
    st.seek_vec(&slice(0, seek_len), to_i32(seek_len)?, tempo);

    let body_in = padded_in - seek_len;
    let body_out = padded_out - out_latency;
    let chunk = ((CHUNK_SECONDS * f64::from(rate)) as usize).max(1);
    // Whole chunks only, the last taking the remainder, so no call is tiny.
    let n_chunks = (body_in / chunk).max(1);
    let out_at = |i: usize| -> usize {
        if i >= body_in {
            body_out
        } else {
            ((i as f64) * body_out as f64 / body_in as f64).round() as usize
        }
    };
    let mut output: Vec<Vec<f32>> = vec![Vec::with_capacity(padded_out); channels];
    let mut outs: Vec<Vec<f32>> = vec![Vec::new(); channels];
    for k in 0..n_chunks {
        if job.cancelled() {
            return Err(GenerateError::Cancelled);
        }
        let a = k * chunk;
        let b = if k + 1 == n_chunks {
            body_in
        } else {
            a + chunk
        };
        let (oa, ob) = (out_at(a), out_at(b));
        let ins = slice(seek_len + a, seek_len + b);
        st.process_vec(&ins, to_i32(b - a)?, &mut outs, to_i32(ob - oa)?);
        for (o, part) in output.iter_mut().zip(&outs) {
            o.extend(part.iter().take(ob - oa));
        }
        job.progress((k + 1) as f32 / n_chunks as f32);
    }
    st.flush_vec(&mut outs, to_i32(out_latency)?);
    for (o, part) in output.iter_mut().zip(&outs) {
        o.extend(part.iter().take(out_latency));
        o.truncate(out_len);
        o.resize(out_len, 0.0);
    }
    Ok(Audio::from_planar(output, rate)?)
}
