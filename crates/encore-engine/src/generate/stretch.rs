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
/// with the input, as Signalsmith Stretch's notes on latency describe: the
/// first input-latency frames are given to `seek` (so processing starts at
/// the input's first frame), input-latency frames of silence follow the
/// input (so processing reaches its end), the rest is read with `flush`, and
/// the output's first output-latency frames (the stretcher's pre-roll,
/// about 60 ms) are dropped.  The stretcher's random phase choices are
/// seeded with `seed`, so the output is reproducible.
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

    // Input frames past the end read as silence.
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

    // After the seek, processing time is the input's first frame; feeding the
    // rest of the input and input-latency frames of silence (as many frames
    // as the input has) takes it to the input's end, and the output for that
    // span is the input's length over the tempo.
    let span = in_len.max(1);
    st.seek_vec(&slice(0, in_latency), to_i32(in_latency)?, tempo);
    let body_in = span;
    let body_out = ((span as f64 / tempo).round() as usize).max(1);
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
    let mut output: Vec<Vec<f32>> = vec![Vec::with_capacity(body_out + out_latency); channels];
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
        let ins = slice(in_latency + a, in_latency + b);
        st.process_vec(&ins, to_i32(b - a)?, &mut outs, to_i32(ob - oa)?);
        for (o, part) in output.iter_mut().zip(&outs) {
            o.extend(part.iter().take(ob - oa));
        }
        job.progress((k + 1) as f32 / n_chunks as f32);
    }
    st.flush_vec(&mut outs, to_i32(out_latency)?);
    for (o, part) in output.iter_mut().zip(&outs) {
        o.extend(part.iter().take(out_latency));
        // The pre-roll goes; what is left starts in step with the input.
        o.drain(..out_latency.min(o.len()));
        o.truncate(out_len);
        o.resize(out_len, 0.0);
    }
    Ok(Audio::from_planar(output, rate)?)
}
