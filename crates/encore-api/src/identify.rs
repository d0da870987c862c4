//! Identify: which catalog recordings a piece of audio holds (`POST /v1/identify`).
//!
//! Each recording's mix is fingerprinted at upload and stored with it
//! (`fingerprints`, noted in the change log). Every process keeps all of them in one
//! [`FingerprintIndex`] and brings it up to date from the change log before each query, so
//! a mix uploaded through any replica is found by all of them. `encore serve` loads the
//! index in the background at start and fingerprints mixes uploaded before fingerprints
//! were kept ([`backfill`]).

use std::sync::RwLock;

use axum::extract::{Request, State};
use encore_engine::fingerprint::{
    ALGORITHM, Fingerprint, FingerprintIndex, ITEM_SECONDS, probe_and_fingerprint,
};
use encore_store::{FingerprintChange, NewFingerprint, Store, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Caller;
use crate::catalog::probe_error;
use crate::error::{ApiError, Problem};
use crate::extract::{Query, body_bytes};

/// Most matches one query returns.
pub const MATCHES_MAX: u32 = 50;
/// Matches returned when `limit` is not given.
pub const MATCHES_DEFAULT: u32 = 5;
/// Shortest clip that can be identified, in seconds.
pub const CLIP_SECONDS_MIN: f64 = 3.0;
/// Fingerprint changes read per query to the store while syncing.
const CHANGES_PER_READ: u32 = 2_000;

/// The catalog's fingerprints, searchable, following the store's change log.
#[derive(Debug, Default)]
pub struct Fingerprints {
    index: RwLock<FingerprintIndex>,
    /// The last change applied; the async lock makes one sync run at a time.
    synced: tokio::sync::Mutex<i64>,
}

impl Fingerprints {
    /// An empty index that has read nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many recordings are indexed.
    pub fn len(&self) -> usize {
        self.index.read().map(|i| i.len()).unwrap_or_default()
    }

    /// Whether no recording is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Applies every fingerprint change committed since the last sync; returns how many
    /// changes were applied.
    pub async fn sync(&self, store: &Store) -> Result<usize, StoreError> {
        let mut synced = self.synced.lock().await;
        let mut applied = 0;
        loop {
            let (changes, next) = store.fingerprint_changes(*synced, CHANGES_PER_READ).await?;
            let full = changes.len() as u64 == u64::from(CHANGES_PER_READ);
            applied += changes.len();
            if !changes.is_empty() {
                self.apply(changes);
            }
            *synced = next;
            if !full {
                return Ok(applied);
            }
        }
    }

    fn apply(&self, changes: Vec<FingerprintChange>) {
        // Decoded outside the lock; runs of additions go in as one batch (one sort).
        let decoded: Vec<(String, Option<Fingerprint>)> = changes
            .into_iter()
            .map(|c| {
                let print = c
                    .fingerprint
                    .filter(|f| f.algorithm == i64::from(ALGORITHM))
                    .and_then(|f| Fingerprint::from_bytes(&f.items));
                (c.recording_id, print)
            })
            .collect();
        let Ok(mut index) = self.index.write() else {
            return;
        };
        let mut batch: Vec<(&str, &Fingerprint)> = Vec::new();
        for (id, print) in &decoded {
            match print {
                Some(p) => batch.push((id, p)),
                None => {
                    index.extend(batch.drain(..));
                    index.remove(id);
                }
            }
        }
        index.extend(batch);
    }

    fn identify(
        &self,
        clip: &Fingerprint,
        limit: usize,
    ) -> Vec<encore_engine::fingerprint::IndexMatch> {
        self.index
            .read()
            .map(|i| i.identify(clip, limit))
            .unwrap_or_default()
    }
}

/// Fingerprints every stored mix that has none (uploaded before fingerprints were kept),
/// reading each from blob storage; returns how many were stored. Mixes that no longer
/// decode are skipped with a warning.
pub async fn backfill(state: &AppState) -> Result<usize, StoreError> {
    let mut stored = 0;
    // Paged by recording id, so mixes that cannot be fingerprinted are passed over once.
    let mut after = String::new();
    loop {
        let page = state.store.unprinted_mixes(&after, 100).await?;
        let Some((last, _)) = page.last() else {
            return Ok(stored);
        };
        after = last.clone();
        for (id, sha256) in page {
            let print = match state.blobs.get(&sha256).await {
                Ok(bytes) => tokio::task::spawn_blocking(move || {
                    probe_and_fingerprint(&bytes, u64::MAX).map(|(_, p)| p)
                })
                .await
                .ok()
                .and_then(Result::ok),
                Err(e) => {
                    tracing::warn!(recording = %id, error = %e, "mix missing from blob storage; not fingerprinted");
                    None
                }
            };
            let Some(print) = print.filter(|p| !p.is_empty()) else {
                tracing::warn!(recording = %id, "the mix could not be fingerprinted (it does not decode, or is under 3 s)");
                continue;
            };
            let new = NewFingerprint {
                algorithm: i64::from(ALGORITHM),
                items: print.to_bytes(),
            };
            if state.store.backfill_fingerprint(&id, &sha256, &new).await? {
                stored += 1;
            }
        }
    }
}

/// How many matches to return.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IdentifyParams {
    /// At most this many matches, best first (1 to 50, default 5).
    pub limit: Option<u32>,
}

/// One catalog recording heard in the clip.
#[derive(Debug, Serialize, ToSchema)]
pub struct IdentifyMatch {
    /// The recording.
    pub recording_id: String,
    /// Its title.
    pub title: String,
    /// Its ISRC.
    pub isrc: String,
    /// How closely the audio matches, from 0.75 (the least reported) to 1 (identical).
    pub confidence: f64,
    /// Where in the recording the matching audio starts, in ms.
    pub recording_offset_ms: u64,
    /// Where in the clip it starts, in ms.
    pub clip_offset_ms: u64,
    /// How long the matching audio is, in ms (fingerprints are coarse: about 124 ms steps,
    /// and a couple of seconds at the clip's ends are not compared).
    pub duration_ms: u64,
}

/// What the clip holds.
#[derive(Debug, Serialize, ToSchema)]
pub struct IdentifyOut {
    /// The clip's length, in ms.
    pub clip_duration_ms: u64,
    /// Matching recordings, best first; empty when none matches.
    pub matches: Vec<IdentifyMatch>,
    /// How many recordings were searched.
    pub recordings_indexed: usize,
}

fn ms(seconds: f64) -> u64 {
    (seconds.max(0.0) * 1000.0).round() as u64
}

/// Find the catalog recordings in a piece of audio: send a clip (WAV, FLAC, MP3 or Ogg
/// Vorbis, at least 3 s) as the body; get each recording heard in it, where, and how surely.
/// Every recording's mix is fingerprinted when it is uploaded.
#[utoipa::path(post, path = "/v1/identify", tag = "audio", params(IdentifyParams),
    request_body(content = Vec<u8>, content_type = "audio/*"),
    responses((status = 200, body = IdentifyOut), (status = 413, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = [])))]
pub async fn identify(
    State(state): State<AppState>,
    _caller: Caller,
    Query(params): Query<IdentifyParams>,
    req: Request,
) -> Result<axum::Json<IdentifyOut>, ApiError> {
    let limit = params.limit.unwrap_or(MATCHES_DEFAULT);
    if !(1..=MATCHES_MAX).contains(&limit) {
        return Err(ApiError::field(
            "limit",
            format!("must be between 1 and {MATCHES_MAX}, not {limit}"),
        ));
    }
    let bytes = body_bytes(req, &()).await?;
    if bytes.is_empty() {
        return Err(ApiError::field(
            "body",
            "the clip is empty; send the audio to identify as the request body",
        ));
    }
    let limit_ms = state.config.audio_duration_max_ms;
    let (info, clip) = tokio::task::spawn_blocking(move || probe_and_fingerprint(&bytes, limit_ms))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(probe_error)?;
    let seconds = info.duration_ms as f64 / 1000.0;
    if seconds < CLIP_SECONDS_MIN || clip.is_empty() {
        return Err(ApiError::field(
            "body",
            format!(
                "the clip is {seconds:.1} s long; send at least {CLIP_SECONDS_MIN:.0} s of audio to identify"
            ),
        ));
    }
    state.fingerprints.sync(&state.store).await?;
    let found = state.fingerprints.identify(&clip, limit as usize);
    let mut matches = Vec::with_capacity(found.len());
    for m in found {
        // A recording is never deleted, but stay correct if it is missing.
        let Some(rec) = state.store.recording(&m.id).await? else {
            continue;
        };
        matches.push(IdentifyMatch {
            recording_id: m.id,
            title: rec.fields.title,
            isrc: rec.fields.isrc.as_str().to_owned(),
            confidence: (m.span.score * 1000.0).round() / 1000.0,
            recording_offset_ms: ms(m.span.track_start_seconds),
            clip_offset_ms: ms(m.span.query_start_seconds),
            duration_ms: ms(m.span.duration_seconds.max(ITEM_SECONDS)),
        });
    }
    metrics::counter!("encore_identify_total").increment(1);
    Ok(axum::Json(IdentifyOut {
        clip_duration_ms: info.duration_ms,
        matches,
        recordings_indexed: state.fingerprints.len(),
    }))
}
