-- Chromaprint fingerprints of each recording's mix (encore-engine's fingerprint module), stored in
-- the same transaction as the mix so an upload is never half-written. Each change is also noted
-- in changes (kind 'fingerprint', item the recording), and seq is that change's seq, so every
-- process's identify index can load fingerprints in commit order and learn of replacements.
-- items: one little-endian u32 per 0.124 s of audio.
CREATE TABLE fingerprints (
    recording_id  TEXT PRIMARY KEY REFERENCES recordings (id),
    seq           BIGINT NOT NULL UNIQUE,
    sha256        TEXT NOT NULL,
    algorithm     BIGINT NOT NULL,
    items         BYTEA NOT NULL,
    created_at_ms BIGINT NOT NULL
);
