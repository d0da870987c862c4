-- Rights: agreements (owners' consent) and participation (people's consent). Times are Unix
-- milliseconds. Terms and choices are JSON documents written and read by the store
-- (src/rights.rs), so the engine's types can grow without a migration per field.
CREATE TABLE agreements (
    id            TEXT PRIMARY KEY,
    licensor_id   TEXT NOT NULL REFERENCES parties (id),
    status        TEXT NOT NULL CHECK (status IN ('proposed', 'accepted', 'revoked')),
    revoked_at_ms BIGINT,
    terms         TEXT NOT NULL,
    created_by    TEXT,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX agreements_licensor ON agreements (licensor_id);

CREATE TABLE participation (
    party_id      TEXT PRIMARY KEY REFERENCES parties (id),
    document      TEXT NOT NULL,
    updated_by    TEXT,
    updated_at_ms BIGINT NOT NULL
);
