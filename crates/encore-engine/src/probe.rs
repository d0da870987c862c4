//! Checking and measuring uploaded audio.
//!
//! An upload is only accepted once every packet has been decoded, because a
//! good header says nothing about whether the rest of the file is intact.
//! The container is recognised from its leading bytes rather than by
//! symphonia's marker scan, so that random bytes which happen to contain an
//! MPEG sync word are reported as unsupported instead of as a broken MP3.

use std::io::{Cursor, ErrorKind};

use symphonia::core::audio::AudioBufferRef;
use symphonia::core::codecs::{CODEC_TYPE_NULL, CodecType, DecoderOptions};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::{MediaSourceStream, MediaSourceStreamOptions};
use symphonia::default::formats::{FlacReader, MpaReader, OggReader, WavReader};

/// The facts about an accepted upload that the catalogue stores and shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AudioInfo {
    /// The container the audio arrived in.
    pub format: AudioFormat,
    /// symphonia's short codec name, such as `pcm_s16le`, `flac`, `mp3` or `vorbis`.
    pub codec: String,
    /// Frames per second of the decoded audio.
    pub sample_rate: u32,
    /// Number of interleaved channels in the decoded audio.
    pub channels: u16,
    /// Exact number of decoded frames (samples per channel).
    pub frames: u64,
    /// Duration derived from `frames` and `sample_rate`, rounded down to the millisecond.
    pub duration_ms: u64,
}

/// The containers encore accepts for uploads.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum AudioFormat {
    /// RIFF WAVE, usually PCM.
    Wav,
    /// Native FLAC stream.
    Flac,
    /// MPEG audio (layer III, and layers I/II which the same decoder handles).
    Mp3,
    /// Ogg container carrying Vorbis.
    Ogg,
}

impl AudioFormat {
    /// Short lowercase name, used as a file extension and in API responses.
    pub fn as_str(self) -> &'static str {
        match self {
            AudioFormat::Wav => "wav",
            AudioFormat::Flac => "flac",
            AudioFormat::Mp3 => "mp3",
            AudioFormat::Ogg => "ogg",
        }
    }

    /// MIME type to send as `Content-Type` when serving a file of this format.
    pub fn mime(self) -> &'static str {
        match self {
            AudioFormat::Wav => "audio/wav",
            AudioFormat::Flac => "audio/flac",
            AudioFormat::Mp3 => "audio/mpeg",
            AudioFormat::Ogg => "audio/ogg",
        }
    }
}

impl std::fmt::Display for AudioFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an upload was refused; each variant maps to one HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The bytes are not a container or codec encore can read (HTTP 415).
    #[error("the audio could not be recognised: upload WAV, FLAC, MP3 or Ogg Vorbis")]
    Unsupported,
    /// The container was recognised but the audio does not decode (HTTP 422).
    #[error(
        "the audio file is damaged or incomplete ({0}): export it again from the original and re-upload it"
    )]
    Corrupt(String),
    /// The file decodes to no audio at all (HTTP 422).
    #[error("the audio file contains no sound: upload a file with at least one sample of audio")]
    Empty,
    /// The audio is longer than the caller allows (HTTP 422).
    #[error(
        "the audio is longer than the limit of {}: trim it and upload it again",
        format_ms(*limit_ms)
    )]
    TooLong {
        /// The limit that was exceeded, in milliseconds.
        limit_ms: u64,
    },
}

/// Formats a millisecond count as minutes and seconds for error messages.
pub(crate) fn format_ms(ms: u64) -> String {
    let total_s = ms / 1000;
    let rest_ms = ms % 1000;
    let (m, s) = (total_s / 60, total_s % 60);
    match (m, rest_ms) {
        (0, 0) => format!("{s} s"),
        (0, r) => format!("{s}.{r:03} s"),
        (m, 0) => format!("{m} min {s} s"),
        (m, r) => format!("{m} min {s}.{r:03} s"),
    }
}

/// Decodes `bytes` completely and reports what it is, refusing anything
/// unrecognised, damaged, silent-by-absence or longer than `max_duration_ms`.
///
/// Decoding stops as soon as the running frame count passes the limit, so an
/// oversized upload costs at most the limit's worth of decoding.
pub fn probe(bytes: &[u8], max_duration_ms: u64) -> Result<AudioInfo, ProbeError> {
    walk(bytes, max_duration_ms, &mut CountOnly)
}

/// What a stream declares before its first packet is decoded.
pub(crate) struct StreamHeader {
    /// Frames per second, or 0 when the container does not say.
    pub sample_rate: u32,
    /// Channel count, or 0 when the container does not say.
    pub channels: u16,
    /// The container's frame count, when it is exact enough to refuse a file by.
    pub declared_frames: Option<u64>,
}

/// Receives the decoded audio of a stream as [`walk`] produces it.
pub(crate) trait FrameSink {
    /// The error the sink can add to those of decoding.
    type Error: From<ProbeError>;

    /// Called once, after the container and codec are open and before any decoding.
    fn start(&mut self, header: &StreamHeader) -> Result<(), Self::Error>;

    /// Called for each decoded packet; only its first `keep` frames belong to the stream.
    fn frames(&mut self, decoded: &AudioBufferRef<'_>, keep: usize) -> Result<(), Self::Error>;
}

/// The sink of [`probe`], which only needs the counts that [`walk`] keeps anyway.
struct CountOnly;

impl FrameSink for CountOnly {
    type Error = ProbeError;

    fn start(&mut self, _header: &StreamHeader) -> Result<(), ProbeError> {
        Ok(())
    }

    fn frames(&mut self, _decoded: &AudioBufferRef<'_>, _keep: usize) -> Result<(), ProbeError> {
        Ok(())
    }
}

/// Decodes every packet of `bytes`, hands each to `sink` and reports what the stream is.
///
/// This is the one place that drives symphonia: [`probe`] counts with it and
/// [`crate::audio::decode`] collects samples with it, so both refuse exactly
/// the same files.  A container whose exact declared length is already over
/// the limit is refused before anything is decoded.
pub(crate) fn walk<S: FrameSink>(
    bytes: &[u8],
    max_duration_ms: u64,
    sink: &mut S,
) -> Result<AudioInfo, S::Error> {
    let bytes = skip_id3v2(bytes);
    let format = sniff(bytes).ok_or(ProbeError::Unsupported)?;

    if format == AudioFormat::Ogg {
        check_ogg_tail(bytes)?;
    }

    // The reader takes ownership of its source, so it gets its own copy; uploads are
    // already size-limited by the caller, so the copy is bounded.
    let source = Cursor::new(bytes.to_vec());
    let mss = MediaSourceStream::new(Box::new(source), MediaSourceStreamOptions::default());
    let options = FormatOptions {
        // Gapless trimming removes encoder delay and padding, so MP3 and Vorbis frame
        // counts match what the user actually recorded.
        enable_gapless: true,
        ..FormatOptions::default()
    };
    let reader: Result<Box<dyn FormatReader>, SymphoniaError> = match format {
        AudioFormat::Wav => WavReader::try_new(mss, &options).map(|r| Box::new(r) as _),
        AudioFormat::Flac => FlacReader::try_new(mss, &options).map(|r| Box::new(r) as _),
        AudioFormat::Mp3 => MpaReader::try_new(mss, &options).map(|r| Box::new(r) as _),
        AudioFormat::Ogg => OggReader::try_new(mss, &options).map(|r| Box::new(r) as _),
    };
    let mut reader = reader.map_err(open_error)?;

    let track = reader
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or(ProbeError::Unsupported)?;
    let track_id = track.id;
    let params = track.codec_params.clone();

    let mut decoder = symphonia::default::get_codecs()
        .make(&params, &DecoderOptions { verify: true })
        .map_err(open_error)?;

    let codec = codec_name(params.codec);
    let mut sample_rate = params.sample_rate.unwrap_or(0);
    let mut channels = params
        .channels
        .map(|c| u16::try_from(c.count()).unwrap_or(u16::MAX))
        .unwrap_or(0);
    // An MP3 length without a LAME tag is a guess from the bitrate, too rough to refuse by.
    let declared_frames = match format {
        AudioFormat::Mp3 if params.delay.is_none() => None,
        _ => params.n_frames,
    };
    if let Some(declared) = declared_frames
        && sample_rate > 0
        && exceeds(declared, sample_rate, max_duration_ms)
    {
        return Err(ProbeError::TooLong {
            limit_ms: max_duration_ms,
        }
        .into());
    }
    sink.start(&StreamHeader {
        sample_rate,
        channels,
        declared_frames,
    })?;

    let mut frames: u64 = 0;
    // Vorbis decodes whole blocks, and the Ogg spec makes the last page's granule
    // position the true end of the stream; symphonia 0.5 does not trim the final
    // block to it, so the count is capped here instead.
    let cap = match format {
        AudioFormat::Ogg => params.n_frames,
        _ => None,
    };
    let counted = |frames: u64| cap.map_or(frames, |c| frames.min(c));

    loop {
        let packet = match reader.next_packet() {
            Ok(packet) => packet,
            // Every reader reports the end of its data as an unexpected EOF; whether the
            // end came too soon is judged below against the declared length.
            Err(SymphoniaError::IoError(e)) if e.kind() == ErrorKind::UnexpectedEof => break,
            // A chained Ogg stream starts a new logical stream; encore only measures the first.
            Err(SymphoniaError::ResetRequired) => break,
            Err(e) => return Err(corrupt(e).into()),
        };
        if packet.track_id() != track_id {
            continue;
        }
        let decoded = decoder.decode(&packet).map_err(corrupt)?;
        let spec = decoded.spec();
        if sample_rate == 0 {
            sample_rate = spec.rate;
        }
        if channels == 0 {
            channels = u16::try_from(spec.channels.count()).unwrap_or(u16::MAX);
        }
        let before = counted(frames);
        frames += decoded.frames() as u64;
        let keep = usize::try_from(counted(frames) - before).unwrap_or(usize::MAX);

        if sample_rate > 0 && exceeds(counted(frames), sample_rate, max_duration_ms) {
            return Err(ProbeError::TooLong {
                limit_ms: max_duration_ms,
            }
            .into());
        }
        sink.frames(&decoded, keep)?;
    }

    if let Some(expected) = params.n_frames
        && ends_early(format, &params, frames, expected)
    {
        return Err(ProbeError::Corrupt(format!(
            "it ends after {frames} of the {expected} frames its header announces"
        ))
        .into());
    }
    // FLAC carries an MD5 of its audio; a mismatch means the samples were altered.
    if decoder.finalize().verify_ok == Some(false) {
        return Err(ProbeError::Corrupt(
            "its audio does not match the checksum in its header".to_owned(),
        )
        .into());
    }
    let frames = counted(frames);
    if frames == 0 {
        return Err(ProbeError::Empty.into());
    }
    if sample_rate == 0 || channels == 0 {
        return Err(ProbeError::Corrupt(
            "it does not state its sample rate or channel count".to_owned(),
        )
        .into());
    }

    if exceeds(frames, sample_rate, max_duration_ms) {
        return Err(ProbeError::TooLong {
            limit_ms: max_duration_ms,
        }
        .into());
    }
    let duration_ms = frames_to_ms(frames, sample_rate);

    Ok(AudioInfo {
        format,
        codec,
        sample_rate,
        channels,
        frames,
        duration_ms,
    })
}

/// Recognises the container from its first bytes, or returns `None` for anything else.
fn sniff(bytes: &[u8]) -> Option<AudioFormat> {
    if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WAVE" {
        return Some(AudioFormat::Wav);
    }
    if bytes.starts_with(b"fLaC") {
        return Some(AudioFormat::Flac);
    }
    if bytes.starts_with(b"OggS") {
        return Some(AudioFormat::Ogg);
    }
    if bytes.len() >= 4 && is_mpeg_audio_header(&bytes[0..4]) {
        return Some(AudioFormat::Mp3);
    }
    None
}

/// Strips leading ID3v2 tags, which taggers put before MP3 (and sometimes FLAC) audio.
///
/// The tag is skipped by its declared size rather than scanned past, because
/// embedded cover art is full of bytes that look like MPEG sync words.
fn skip_id3v2(mut bytes: &[u8]) -> &[u8] {
    while bytes.len() >= 10 && bytes.starts_with(b"ID3") {
        let syncsafe = bytes[6..10]
            .iter()
            .fold(0usize, |acc, &b| (acc << 7) | usize::from(b & 0x7F));
        let footer = if bytes[5] & 0x10 != 0 { 10 } else { 0 };
        let total = 10 + syncsafe + footer;
        if total > bytes.len() {
            // A tag longer than the file leaves no audio to find.
            return &[];
        }
        bytes = &bytes[total..];
    }
    bytes
}

/// Checks the fields of a 4-byte MPEG audio frame header that can be invalid, so a
/// stray `0xFFE` sync pattern alone is not mistaken for MP3.
fn is_mpeg_audio_header(h: &[u8]) -> bool {
    let sync = h[0] == 0xFF && (h[1] & 0xE0) == 0xE0;
    let version = (h[1] >> 3) & 0b11; // 0b01 is reserved
    let layer = (h[1] >> 1) & 0b11; // 0b00 is reserved
    let bitrate = h[2] >> 4; // 0b1111 is invalid (0 is "free format", allowed)
    let rate = (h[2] >> 2) & 0b11; // 0b11 is reserved
    sync && version != 0b01 && layer != 0b00 && bitrate != 0b1111 && rate != 0b11
}

/// Verifies that an Ogg file ends with a complete page flagged end-of-stream.
///
/// symphonia treats a page cut short by truncation exactly like the clean end of
/// the file, so without this check a half-uploaded Ogg would be accepted as a
/// shorter, valid one.
fn check_ogg_tail(bytes: &[u8]) -> Result<(), ProbeError> {
    const HEADER_LEN: usize = 27;
    const EOS_FLAG: u8 = 0x04;
    let truncated = || ProbeError::Corrupt("its last Ogg page is incomplete".to_owned());

    let last_page = bytes
        .windows(4)
        .rposition(|w| w == b"OggS")
        .ok_or_else(truncated)?;
    let page = &bytes[last_page..];
    if page.len() < HEADER_LEN {
        return Err(truncated());
    }
    let n_segments = usize::from(page[26]);
    let table_end = HEADER_LEN + n_segments;
    let segment_table = page.get(HEADER_LEN..table_end).ok_or_else(truncated)?;
    let body_len: usize = segment_table.iter().map(|&s| usize::from(s)).sum();
    if page.len() < table_end + body_len {
        return Err(truncated());
    }
    if page[5] & EOS_FLAG == 0 {
        return Err(ProbeError::Corrupt(
            "its Ogg stream stops without an end-of-stream page".to_owned(),
        ));
    }
    Ok(())
}

/// Decides whether the decoded frame count falls short of the header's promise.
///
/// WAV, FLAC and Ogg (whose length comes from the last page's granule position)
/// declare exact lengths.  An MP3 length is exact only with a LAME tag (signalled
/// by a known encoder delay); otherwise symphonia estimates it from the bitrate,
/// which is too rough to judge by.
fn ends_early(
    format: AudioFormat,
    params: &symphonia::core::codecs::CodecParameters,
    frames: u64,
    expected: u64,
) -> bool {
    match format {
        AudioFormat::Wav | AudioFormat::Flac | AudioFormat::Ogg => frames < expected,
        AudioFormat::Mp3 => {
            // One MPEG frame of slack absorbs rounding in the LAME tag's padding field.
            const MP3_FRAME: u64 = 1152;
            params.delay.is_some() && frames + MP3_FRAME < expected
        }
    }
}

/// Whether `frames` at `sample_rate` is strictly longer than `limit_ms`.
pub(crate) fn exceeds(frames: u64, sample_rate: u32, limit_ms: u64) -> bool {
    // Compare in integers so that a file exactly at the limit is accepted.
    u128::from(frames) * 1000 > u128::from(limit_ms) * u128::from(sample_rate)
}

/// Converts a frame count to whole milliseconds, rounding down.
fn frames_to_ms(frames: u64, sample_rate: u32) -> u64 {
    let ms = u128::from(frames) * 1000 / u128::from(sample_rate.max(1));
    u64::try_from(ms).unwrap_or(u64::MAX)
}

/// Looks up symphonia's short name for a codec so callers can show it.
fn codec_name(codec: CodecType) -> String {
    symphonia::default::get_codecs()
        .get_codec(codec)
        .map(|d| d.short_name.to_owned())
        .unwrap_or_else(|| codec.to_string())
}

/// Maps an error met while opening the container or codec.
///
/// symphonia says "unsupported" for features it lacks (such as Opus in Ogg),
/// which is a 415 for the caller; anything else means the header is broken.
fn open_error(e: SymphoniaError) -> ProbeError {
    match e {
        SymphoniaError::Unsupported(_) => ProbeError::Unsupported,
        other => corrupt(other),
    }
}

/// Wraps a decoding failure with a short, user-facing description.
fn corrupt(e: SymphoniaError) -> ProbeError {
    let detail = match e {
        SymphoniaError::IoError(ref io) if io.kind() == ErrorKind::UnexpectedEof => {
            "it ends in the middle of its header".to_owned()
        }
        SymphoniaError::IoError(io) => format!("it could not be read: {io}"),
        SymphoniaError::DecodeError(msg) => format!("decoding failed: {msg}"),
        SymphoniaError::Unsupported(msg) => format!("it uses an unsupported feature: {msg}"),
        SymphoniaError::LimitError(msg) => format!("it exceeds a decoder limit: {msg}"),
        SymphoniaError::SeekError(_) => "it could not be read in order".to_owned(),
        SymphoniaError::ResetRequired => "its stream changes format midway".to_owned(),
    };
    ProbeError::Corrupt(detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_and_mimes() {
        assert_eq!(AudioFormat::Mp3.as_str(), "mp3");
        assert_eq!(AudioFormat::Mp3.mime(), "audio/mpeg");
        assert_eq!(AudioFormat::Ogg.to_string(), "ogg");
    }

    #[test]
    fn limit_is_inclusive() {
        assert!(!exceeds(44_100, 44_100, 1000));
        assert!(exceeds(44_101, 44_100, 1000));
    }

    #[test]
    fn messages_read_as_sentences() {
        let msg = ProbeError::TooLong { limit_ms: 90_000 }.to_string();
        assert_eq!(
            msg,
            "the audio is longer than the limit of 1 min 30 s: trim it and upload it again"
        );
    }

    #[test]
    fn mpeg_header_check_rejects_reserved_fields() {
        assert!(is_mpeg_audio_header(&[0xFF, 0xFB, 0x90, 0x00]));
        assert!(!is_mpeg_audio_header(&[0xFF, 0xFB, 0xF0, 0x00]));
        assert!(!is_mpeg_audio_header(&[0xFF, 0xE9, 0x90, 0x00]));
    }
}
