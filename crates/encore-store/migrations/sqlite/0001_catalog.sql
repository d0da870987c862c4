-- Catalog, keys and audio for the embedded (SQLite) store. Times are Unix milliseconds.
-- Relation tables are WITHOUT ROWID: their primary key is the whole row, so clustering on it
-- saves a b-tree per table on bulk imports. (Measured: the wider catalog tables are faster
-- with a rowid.)
CREATE TABLE parties (
    id            TEXT PRIMARY KEY,
    ext_ref       TEXT UNIQUE,
    name          TEXT NOT NULL,
    name_lower    TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('person', 'organisation')),
    ipi           TEXT UNIQUE,
    isni          TEXT UNIQUE,
    created_by    TEXT,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
);

CREATE TABLE works (
    id            TEXT PRIMARY KEY,
    ext_ref       TEXT UNIQUE,
    iswc          TEXT UNIQUE,
    title         TEXT NOT NULL,
    title_lower   TEXT NOT NULL,
    created_by    TEXT,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
);

CREATE TABLE work_writers (
    work_id  TEXT NOT NULL REFERENCES works (id),
    party_id TEXT NOT NULL REFERENCES parties (id),
    position INTEGER NOT NULL,
    PRIMARY KEY (work_id, party_id)
) WITHOUT ROWID;

CREATE TABLE work_splits (
    work_id   TEXT NOT NULL REFERENCES works (id),
    party_id  TEXT NOT NULL REFERENCES parties (id),
    share_ppm INTEGER NOT NULL CHECK (share_ppm > 0 AND share_ppm <= 1000000),
    position  INTEGER NOT NULL,
    PRIMARY KEY (work_id, party_id)
) WITHOUT ROWID;
CREATE INDEX work_splits_party ON work_splits (party_id);

CREATE TABLE recordings (
    id            TEXT PRIMARY KEY,
    ext_ref       TEXT UNIQUE,
    isrc          TEXT NOT NULL UNIQUE,
    title         TEXT NOT NULL,
    title_lower   TEXT NOT NULL,
    duration_ms   INTEGER,
    created_by    TEXT,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
);

CREATE TABLE recording_artists (
    recording_id TEXT NOT NULL REFERENCES recordings (id),
    party_id     TEXT NOT NULL REFERENCES parties (id),
    position     INTEGER NOT NULL,
    PRIMARY KEY (recording_id, party_id)
) WITHOUT ROWID;

CREATE TABLE recording_works (
    recording_id TEXT NOT NULL REFERENCES recordings (id),
    work_id      TEXT NOT NULL REFERENCES works (id),
    position     INTEGER NOT NULL,
    PRIMARY KEY (recording_id, work_id)
) WITHOUT ROWID;

CREATE TABLE recording_splits (
    recording_id TEXT NOT NULL REFERENCES recordings (id),
    party_id     TEXT NOT NULL REFERENCES parties (id),
    share_ppm    INTEGER NOT NULL CHECK (share_ppm > 0 AND share_ppm <= 1000000),
    position     INTEGER NOT NULL,
    PRIMARY KEY (recording_id, party_id)
) WITHOUT ROWID;
CREATE INDEX recording_splits_party ON recording_splits (party_id);

CREATE TABLE audio_assets (
    recording_id   TEXT NOT NULL REFERENCES recordings (id),
    slot           TEXT NOT NULL,
    sha256         TEXT NOT NULL,
    size_bytes     INTEGER NOT NULL,
    format         TEXT NOT NULL,
    codec          TEXT NOT NULL,
    sample_rate    INTEGER NOT NULL,
    channels       INTEGER NOT NULL,
    duration_ms    INTEGER NOT NULL,
    uploaded_by    TEXT,
    uploaded_at_ms INTEGER NOT NULL,
    PRIMARY KEY (recording_id, slot)
) WITHOUT ROWID;

CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY,
    key_hash      TEXT NOT NULL UNIQUE,
    prefix        TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'partner', 'artist', 'fan', 'worker')),
    name          TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    revoked_at_ms INTEGER
);

CREATE TABLE api_key_parties (
    key_id   TEXT NOT NULL REFERENCES api_keys (id),
    party_id TEXT NOT NULL REFERENCES parties (id),
    PRIMARY KEY (key_id, party_id)
) WITHOUT ROWID;
