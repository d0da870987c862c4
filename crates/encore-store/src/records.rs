//! The records the store reads and writes. Fields hold validated domain types; ids are opaque
//! strings with a kind prefix (`par_`, `wrk_`, `rec_`, `key_`).

use encore_core::{Ipi, Isni, Isrc, Iswc, PartyKind, Splits};

/// A party's fields as given by a caller (create or full replace).
#[derive(Debug, Clone)]
pub struct PartyInput {
    /// The submitter's own identifier for the party, unique among parties.
    pub ext_ref: Option<String>,
    /// Display name.
    pub name: String,
    /// Person or organisation.
    pub kind: PartyKind,
    /// IPI name number.
    pub ipi: Option<Ipi>,
    /// ISNI.
    pub isni: Option<Isni>,
}

/// A stored party.
#[derive(Debug, Clone)]
pub struct Party {
    /// Identifier.
    pub id: String,
    /// The fields.
    pub fields: PartyInput,
    /// The key that created it, if created through the API.
    pub created_by: Option<String>,
    /// Creation time, Unix ms.
    pub created_at_ms: i64,
    /// Last change, Unix ms.
    pub updated_at_ms: i64,
}

/// A musical work's fields as given by a caller.
#[derive(Debug, Clone)]
pub struct WorkInput {
    /// The submitter's own identifier, unique among works.
    pub ext_ref: Option<String>,
    /// ISWC, when one is assigned.
    pub iswc: Option<Iswc>,
    /// Title.
    pub title: String,
    /// Writer party ids, in credit order.
    pub writers: Vec<String>,
    /// Publishing splits by party id; `None` while they are not known.
    pub splits: Option<Splits<String>>,
}

/// A stored work.
#[derive(Debug, Clone)]
pub struct Work {
    /// Identifier.
    pub id: String,
    /// The fields.
    pub fields: WorkInput,
    /// The key that created it.
    pub created_by: Option<String>,
    /// Creation time, Unix ms.
    pub created_at_ms: i64,
    /// Last change, Unix ms.
    pub updated_at_ms: i64,
}

/// A recording's fields as given by a caller.
#[derive(Debug, Clone)]
pub struct RecordingInput {
    /// The submitter's own identifier, unique among recordings.
    pub ext_ref: Option<String>,
    /// ISRC.
    pub isrc: Isrc,
    /// Title.
    pub title: String,
    /// Duration as declared, in ms (the uploaded audio's measured duration is on its asset).
    pub duration_ms: Option<i64>,
    /// Main artist party ids, in credit order.
    pub artists: Vec<String>,
    /// Linked work ids.
    pub works: Vec<String>,
    /// Master splits by party id; `None` while they are not known.
    pub splits: Option<Splits<String>>,
}

/// A stored recording.
#[derive(Debug, Clone)]
pub struct Recording {
    /// Identifier.
    pub id: String,
    /// The fields.
    pub fields: RecordingInput,
    /// Uploaded audio: the full mix and stems.
    pub audio: Vec<AudioAsset>,
    /// The key that created it.
    pub created_by: Option<String>,
    /// Creation time, Unix ms.
    pub created_at_ms: i64,
    /// Last change, Unix ms.
    pub updated_at_ms: i64,
}

/// Which audio of a recording an asset is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudioSlot {
    /// The full mix.
    Mix,
    /// A named stem (`vocals`, `drums`, …).
    Stem(String),
}

impl AudioSlot {
    pub(crate) fn to_db(&self) -> String {
        match self {
            AudioSlot::Mix => "mix".to_owned(),
            AudioSlot::Stem(name) => format!("stem:{name}"),
        }
    }

    pub(crate) fn from_db(s: &str) -> Self {
        match s.strip_prefix("stem:") {
            Some(name) => AudioSlot::Stem(name.to_owned()),
            None => AudioSlot::Mix,
        }
    }
}

/// A fingerprint to store with a recording's mix (`encore_engine::fingerprint`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFingerprint {
    /// The algorithm that computed it (`encore_engine::fingerprint::ALGORITHM`).
    pub algorithm: i64,
    /// Its items as little-endian `u32`s.
    pub items: Vec<u8>,
}

/// A recording's fingerprint changed: replaced (`fingerprint` is the new one) or forgotten
/// (`None`: its mix was replaced by audio without one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FingerprintChange {
    /// The change's seq in the change log.
    pub seq: i64,
    /// The recording.
    pub recording_id: String,
    /// Its fingerprint as of this change.
    pub fingerprint: Option<NewFingerprint>,
}

/// Uploaded, decoded and measured audio of a recording.
#[derive(Debug, Clone)]
pub struct AudioAsset {
    /// Mix or stem.
    pub slot: AudioSlot,
    /// SHA-256 of the bytes: the blob's name.
    pub sha256: String,
    /// Size in bytes.
    pub size_bytes: i64,
    /// Container: wav, flac, mp3, ogg.
    pub format: String,
    /// Codec as decoded.
    pub codec: String,
    /// Sample rate in Hz.
    pub sample_rate: i64,
    /// Channel count.
    pub channels: i64,
    /// Measured duration in ms.
    pub duration_ms: i64,
    /// The key that uploaded it.
    pub uploaded_by: Option<String>,
    /// Upload time, Unix ms.
    pub uploaded_at_ms: i64,
}

/// What a list call asks for.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// Case-insensitive text contained in the title or name.
    pub q: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, clamped to [`crate::limits::PAGE_SIZE_MAX`].
    pub limit: Option<u32>,
}

impl ListQuery {
    pub(crate) fn page_size(&self) -> u32 {
        self.limit
            .unwrap_or(crate::limits::PAGE_SIZE_DEFAULT)
            .clamp(1, crate::limits::PAGE_SIZE_MAX)
    }
}

/// One page of a list.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items, in id (creation) order.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}
