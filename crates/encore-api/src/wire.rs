//! Request and response bodies: the JSON shapes of the API, and their conversion from store
//! records. Requests are turned into domain types in the handlers' first lines.

use encore_store::{ApiKey, AudioAsset, AudioSlot, Page, Party, Recording, Work};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

/// RFC 3339 text for a Unix-ms time.
pub fn rfc3339(ms: i64) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// Tells "absent" (`None`) from "null" (`Some(None)`) in PATCH bodies.
fn double_option<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    de: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(de).map(Some)
}

/// One party's share.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SplitEntry {
    /// Party id.
    pub party: String,
    /// Parts per million; all entries total exactly 1,000,000.
    pub share_ppm: u64,
}

/// A new party.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartyCreate {
    /// Your own identifier for this party (unique among parties).
    #[serde(rename = "ref")]
    pub ext_ref: Option<String>,
    /// Display name.
    pub name: String,
    /// `person` or `organisation`.
    pub kind: String,
    /// IPI name number (up to 11 digits).
    pub ipi: Option<String>,
    /// ISNI (16 characters, last may be X).
    pub isni: Option<String>,
}

/// Changes to a party; absent fields stay, `null` clears.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartyPatch {
    /// Your own identifier.
    #[serde(rename = "ref", default, deserialize_with = "double_option")]
    pub ext_ref: Option<Option<String>>,
    /// Display name.
    pub name: Option<String>,
    /// `person` or `organisation`.
    pub kind: Option<String>,
    /// IPI name number.
    #[serde(default, deserialize_with = "double_option")]
    pub ipi: Option<Option<String>>,
    /// ISNI.
    #[serde(default, deserialize_with = "double_option")]
    pub isni: Option<Option<String>>,
}

/// A party: a person (artist, writer) or an organisation (label, publisher).
#[derive(Debug, Serialize, ToSchema)]
pub struct PartyOut {
    /// Identifier.
    pub id: String,
    /// The submitter's identifier.
    #[serde(rename = "ref")]
    pub ext_ref: Option<String>,
    /// Display name.
    pub name: String,
    /// `person` or `organisation`.
    pub kind: String,
    /// IPI name number, 11 digits.
    pub ipi: Option<String>,
    /// ISNI, 16 characters.
    pub isni: Option<String>,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

impl From<Party> for PartyOut {
    fn from(p: Party) -> Self {
        Self {
            id: p.id,
            ext_ref: p.fields.ext_ref,
            name: p.fields.name,
            kind: p.fields.kind.as_str().to_owned(),
            ipi: p.fields.ipi.map(|v| v.as_str().to_owned()),
            isni: p.fields.isni.map(|v| v.as_str().to_owned()),
            created_at: rfc3339(p.created_at_ms),
            updated_at: rfc3339(p.updated_at_ms),
        }
    }
}

/// A new musical work (composition).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkCreate {
    /// Your own identifier (unique among works).
    #[serde(rename = "ref")]
    pub ext_ref: Option<String>,
    /// ISWC, e.g. `T-034.524.680-1`; the check digit is verified.
    pub iswc: Option<String>,
    /// Title.
    pub title: String,
    /// Writer party ids.
    #[serde(default)]
    pub writers: Vec<String>,
    /// Publishing splits; omit or `null` while unknown (the work stays unusable for AI).
    pub splits: Option<Vec<SplitEntry>>,
}

/// Changes to a work; absent fields stay, `null` clears.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkPatch {
    /// Your own identifier.
    #[serde(rename = "ref", default, deserialize_with = "double_option")]
    pub ext_ref: Option<Option<String>>,
    /// ISWC.
    #[serde(default, deserialize_with = "double_option")]
    pub iswc: Option<Option<String>>,
    /// Title.
    pub title: Option<String>,
    /// Writer party ids (replaces the list).
    pub writers: Option<Vec<String>>,
    /// Publishing splits (replaces them; `null` marks them unknown).
    #[serde(default, deserialize_with = "double_option")]
    pub splits: Option<Option<Vec<SplitEntry>>>,
}

/// A musical work.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkOut {
    /// Identifier.
    pub id: String,
    /// The submitter's identifier.
    #[serde(rename = "ref")]
    pub ext_ref: Option<String>,
    /// ISWC, formatted `T-034.524.680-1`.
    pub iswc: Option<String>,
    /// Title.
    pub title: String,
    /// Writer party ids.
    pub writers: Vec<String>,
    /// Whether publishing splits are known (a work without them cannot be used for AI).
    pub splits_known: bool,
    /// Publishing splits: shown only to admins, the creator, shareholders and writers.
    pub splits: Option<Vec<SplitEntry>>,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

/// Splits as they appear on the wire.
pub fn split_entries(splits: &Option<encore_core::Splits<String>>) -> Option<Vec<SplitEntry>> {
    splits.as_ref().map(|s| {
        s.entries()
            .iter()
            .map(|(party, share)| SplitEntry {
                party: party.clone(),
                share_ppm: u64::from(share.ppm()),
            })
            .collect()
    })
}

impl WorkOut {
    /// The response for a caller who may or may not see private fields.
    pub fn new(w: Work, private: bool) -> Self {
        Self {
            splits_known: w.fields.splits.is_some(),
            splits: if private {
                split_entries(&w.fields.splits)
            } else {
                None
            },
            id: w.id,
            ext_ref: w.fields.ext_ref,
            iswc: w.fields.iswc.map(|v| v.formatted()),
            title: w.fields.title,
            writers: w.fields.writers,
            created_at: rfc3339(w.created_at_ms),
            updated_at: rfc3339(w.updated_at_ms),
        }
    }
}

/// A new recording.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordingCreate {
    /// Your own identifier (unique among recordings).
    #[serde(rename = "ref")]
    pub ext_ref: Option<String>,
    /// ISRC, e.g. `USRC17607839` or `US-RC1-76-07839`.
    pub isrc: String,
    /// Title.
    pub title: String,
    /// Declared duration in ms.
    pub duration_ms: Option<i64>,
    /// Main artist party ids.
    #[serde(default)]
    pub artists: Vec<String>,
    /// Ids of the works this recording performs.
    #[serde(default)]
    pub works: Vec<String>,
    /// Master splits; omit or `null` while unknown (the recording stays unusable for AI).
    pub splits: Option<Vec<SplitEntry>>,
}

/// Changes to a recording; absent fields stay, `null` clears.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordingPatch {
    /// Your own identifier.
    #[serde(rename = "ref", default, deserialize_with = "double_option")]
    pub ext_ref: Option<Option<String>>,
    /// ISRC.
    pub isrc: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// Declared duration in ms.
    #[serde(default, deserialize_with = "double_option")]
    pub duration_ms: Option<Option<i64>>,
    /// Main artist party ids (replaces the list).
    pub artists: Option<Vec<String>>,
    /// Work ids (replaces the list).
    pub works: Option<Vec<String>>,
    /// Master splits (replaces them; `null` marks them unknown).
    #[serde(default, deserialize_with = "double_option")]
    pub splits: Option<Option<Vec<SplitEntry>>>,
}

/// Uploaded audio, decoded and measured.
#[derive(Debug, Serialize, ToSchema)]
pub struct AudioOut {
    /// Stem name, absent for the full mix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stem: Option<String>,
    /// SHA-256 of the uploaded bytes.
    pub sha256: String,
    /// Size in bytes.
    pub size_bytes: i64,
    /// Container: `wav`, `flac`, `mp3` or `ogg`.
    pub format: String,
    /// Codec.
    pub codec: String,
    /// Sample rate, Hz.
    pub sample_rate: i64,
    /// Channels.
    pub channels: i64,
    /// Measured duration, ms.
    pub duration_ms: i64,
    /// Upload time (RFC 3339).
    pub uploaded_at: String,
}

impl From<&AudioAsset> for AudioOut {
    fn from(a: &AudioAsset) -> Self {
        Self {
            stem: match &a.slot {
                AudioSlot::Mix => None,
                AudioSlot::Stem(name) => Some(name.clone()),
            },
            sha256: a.sha256.clone(),
            size_bytes: a.size_bytes,
            format: a.format.clone(),
            codec: a.codec.clone(),
            sample_rate: a.sample_rate,
            channels: a.channels,
            duration_ms: a.duration_ms,
            uploaded_at: rfc3339(a.uploaded_at_ms),
        }
    }
}

/// A recording's audio.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordingAudio {
    /// The full mix, once uploaded.
    pub mix: Option<AudioOut>,
    /// Named stems.
    pub stems: Vec<AudioOut>,
}

/// A sound recording.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordingOut {
    /// Identifier.
    pub id: String,
    /// The submitter's identifier.
    #[serde(rename = "ref")]
    pub ext_ref: Option<String>,
    /// ISRC, 12 characters.
    pub isrc: String,
    /// Title.
    pub title: String,
    /// Declared duration, ms.
    pub duration_ms: Option<i64>,
    /// Main artist party ids.
    pub artists: Vec<String>,
    /// Work ids.
    pub works: Vec<String>,
    /// Whether master splits are known (a recording without them cannot be used for AI).
    pub splits_known: bool,
    /// Master splits: shown only to admins, the creator, shareholders and main artists.
    pub splits: Option<Vec<SplitEntry>>,
    /// Uploaded audio.
    pub audio: RecordingAudio,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

impl RecordingOut {
    /// The response for a caller who may or may not see private fields.
    pub fn new(r: Recording, private: bool) -> Self {
        let mix = r
            .audio
            .iter()
            .find(|a| a.slot == AudioSlot::Mix)
            .map(AudioOut::from);
        let stems = r
            .audio
            .iter()
            .filter(|a| a.slot != AudioSlot::Mix)
            .map(AudioOut::from)
            .collect();
        Self {
            splits_known: r.fields.splits.is_some(),
            splits: if private {
                split_entries(&r.fields.splits)
            } else {
                None
            },
            id: r.id,
            ext_ref: r.fields.ext_ref,
            isrc: r.fields.isrc.as_str().to_owned(),
            title: r.fields.title,
            duration_ms: r.fields.duration_ms,
            artists: r.fields.artists,
            works: r.fields.works,
            audio: RecordingAudio { mix, stems },
            created_at: rfc3339(r.created_at_ms),
            updated_at: rfc3339(r.updated_at_ms),
        }
    }
}

/// A page of results.
#[derive(Debug, Serialize, ToSchema)]
pub struct PageOut<T> {
    /// The items, oldest first.
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl<T> PageOut<T> {
    /// Converts a store page.
    pub fn map<U>(page: Page<U>, f: impl FnMut(U) -> T) -> Self {
        Self {
            items: page.items.into_iter().map(f).collect(),
            next_cursor: page.next_cursor,
        }
    }
}

/// List parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Case-insensitive text to find in titles (works, recordings) or names (parties).
    pub q: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<u32>,
}

/// A new API key.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyCreate {
    /// `admin`, `partner`, `artist`, `fan` or `worker`.
    pub role: String,
    /// Party ids the key acts for: one or more for a partner, exactly one person for an artist.
    #[serde(default)]
    pub parties: Vec<String>,
    /// A label for people.
    pub name: Option<String>,
}

/// An API key (never its secret, except once at creation).
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyOut {
    /// Identifier.
    pub id: String,
    /// The secret's first characters, to tell keys apart.
    pub prefix: String,
    /// Role.
    pub role: String,
    /// Label.
    pub name: String,
    /// Party ids the key acts for.
    pub parties: Vec<String>,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Revocation time (RFC 3339), if revoked.
    pub revoked_at: Option<String>,
    /// The secret: present only in the response that created the key. Store it now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl From<ApiKey> for KeyOut {
    fn from(k: ApiKey) -> Self {
        Self {
            id: k.id,
            prefix: k.prefix,
            role: k.role.as_str().to_owned(),
            name: k.name,
            parties: k.parties,
            created_at: rfc3339(k.created_at_ms),
            revoked_at: k.revoked_at_ms.map(rfc3339),
            secret: None,
        }
    }
}

/// The key list.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyList {
    /// Every key, oldest first.
    pub items: Vec<KeyOut>,
}
