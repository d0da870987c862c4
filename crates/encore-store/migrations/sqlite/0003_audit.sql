-- The audit log: every change to agreements and participation, appended in the transaction
-- that makes it, in a SHA-256 hash chain (src/audit.rs). seq is assigned in order, from 1,
-- without gaps; parties is a JSON list of the party ids an entry concerns, for reading access.
CREATE TABLE audit_log (
    seq          INTEGER PRIMARY KEY,
    at_ms        INTEGER NOT NULL,
    key_id       TEXT,
    action       TEXT NOT NULL,
    subject_kind TEXT NOT NULL,
    subject_id   TEXT NOT NULL,
    parties      TEXT NOT NULL,
    before       TEXT,
    after        TEXT NOT NULL,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL
);

-- Stored rights decisions: the request, the answer, and what the engine saw (agreements with
-- their status, participation consulted), so a decision can be explained later.
CREATE TABLE decisions (
    id       TEXT PRIMARY KEY,
    at_ms    INTEGER NOT NULL,
    key_id   TEXT NOT NULL,
    request  TEXT NOT NULL,
    decision TEXT NOT NULL,
    snapshot TEXT NOT NULL
);
