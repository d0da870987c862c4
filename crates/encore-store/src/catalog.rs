//! Catalog reads and writes: parties, works, recordings and their audio.

use encore_core::{Isrc, Iswc};

use crate::audit::dispatch_audit;
use crate::records::*;
use crate::{Store, StoreError, dispatch};

impl Store {
    /// Creates a party.
    pub async fn create_party(
        &self,
        input: &PartyInput,
        created_by: Option<&str>,
    ) -> Result<Party, StoreError> {
        dispatch!(self, insert_party(input, created_by))
    }

    /// Replaces a party's fields.
    pub async fn update_party(&self, id: &str, input: &PartyInput) -> Result<Party, StoreError> {
        let out = dispatch!(self, update_party(id, input));
        self.wrote();
        out
    }

    /// A party by id.
    pub async fn party(&self, id: &str) -> Result<Option<Party>, StoreError> {
        if !crate::storable_id(id) {
            return Ok(None);
        }
        dispatch!(self, get_party(id))
    }

    /// A page of parties, optionally filtered by name.
    pub async fn parties(&self, query: &ListQuery) -> Result<Page<Party>, StoreError> {
        dispatch!(self, list_parties(query))
    }

    /// Creates a work with its writers and splits, all or nothing.
    pub async fn create_work(
        &self,
        input: &WorkInput,
        created_by: Option<&str>,
    ) -> Result<Work, StoreError> {
        dispatch!(self, insert_work(input, created_by))
    }

    /// Replaces a work's fields, writers and splits, all or nothing.
    pub async fn update_work(&self, id: &str, input: &WorkInput) -> Result<Work, StoreError> {
        let out = dispatch!(self, update_work(id, input));
        self.wrote();
        out
    }

    /// A work by id.
    pub async fn work(&self, id: &str) -> Result<Option<Work>, StoreError> {
        if !crate::storable_id(id) {
            return Ok(None);
        }
        dispatch!(self, get_work(id))
    }

    /// A work by ISWC.
    pub async fn work_by_iswc(&self, iswc: &Iswc) -> Result<Option<Work>, StoreError> {
        dispatch!(self, get_work_by_iswc(iswc))
    }

    /// A page of works, optionally filtered by title.
    pub async fn works(&self, query: &ListQuery) -> Result<Page<Work>, StoreError> {
        dispatch!(self, list_works(query))
    }

    /// Creates a recording with its artists, works and splits, all or nothing.
    pub async fn create_recording(
        &self,
        input: &RecordingInput,
        created_by: Option<&str>,
    ) -> Result<Recording, StoreError> {
        dispatch!(self, insert_recording(input, created_by))
    }

    /// Replaces a recording's fields and relations, all or nothing. Audio is kept.
    pub async fn update_recording(
        &self,
        id: &str,
        input: &RecordingInput,
    ) -> Result<Recording, StoreError> {
        let out = dispatch!(self, update_recording(id, input));
        self.wrote();
        out
    }

    /// A recording by id.
    pub async fn recording(&self, id: &str) -> Result<Option<Recording>, StoreError> {
        if !crate::storable_id(id) {
            return Ok(None);
        }
        dispatch!(self, get_recording(id))
    }

    /// A recording by ISRC.
    pub async fn recording_by_isrc(&self, isrc: &Isrc) -> Result<Option<Recording>, StoreError> {
        dispatch!(self, get_recording_by_isrc(isrc))
    }

    /// A page of recordings, optionally filtered by title.
    pub async fn recordings(&self, query: &ListQuery) -> Result<Page<Recording>, StoreError> {
        dispatch!(self, list_recordings(query))
    }

    /// Records uploaded audio for a recording, replacing what was in that slot. The bytes must
    /// already be in blob storage under `asset.sha256`. For the mix, `fingerprint` replaces the
    /// recording's fingerprint in the same transaction (`None` forgets the old one); stems
    /// ignore it.
    pub async fn put_audio(
        &self,
        recording_id: &str,
        asset: &AudioAsset,
        fingerprint: Option<&NewFingerprint>,
    ) -> Result<(), StoreError> {
        dispatch!(self, put_audio(recording_id, asset, fingerprint))
    }

    /// Stores the fingerprint of a mix uploaded before fingerprints were kept, if the mix is
    /// still the one with `sha256` and has none yet; returns whether it was stored.
    pub async fn backfill_fingerprint(
        &self,
        recording_id: &str,
        sha256: &str,
        fingerprint: &NewFingerprint,
    ) -> Result<bool, StoreError> {
        dispatch!(
            self,
            backfill_fingerprint(recording_id, sha256, fingerprint)
        )
    }

    /// Up to `limit` mixes that have no fingerprint, after recording id `after` (`""` from
    /// the start) in id order: (recording id, the mix's sha256).
    pub async fn unprinted_mixes(
        &self,
        after: &str,
        limit: u32,
    ) -> Result<Vec<(String, String)>, StoreError> {
        dispatch!(self, unprinted_mixes(after, i64::from(limit)))
    }

    /// Fingerprint changes committed after change `after`, oldest first, at most `limit`, and
    /// the change seq to continue from. Changes of other kinds are skipped, so the returned
    /// seq can advance even when no fingerprint changed.
    pub async fn fingerprint_changes(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<(Vec<FingerprintChange>, i64), StoreError> {
        let upto = dispatch_audit!(self, last_change())?;
        let changes = dispatch!(self, fingerprint_changes(after, upto, i64::from(limit)))?;
        let next = if changes.len() as u64 == u64::from(limit) {
            changes.last().map_or(upto, |c| c.seq)
        } else {
            upto
        };
        Ok((changes, next))
    }
}
