-- Delegation: the partner parties (organisations) a person lets change their participation.
-- The set is replaced whole by the store (src/rights.rs), with one audit entry per change.
CREATE TABLE participation_delegates (
    party_id   TEXT NOT NULL REFERENCES parties (id),
    partner_id TEXT NOT NULL REFERENCES parties (id),
    PRIMARY KEY (party_id, partner_id)
);
CREATE INDEX participation_delegates_partner ON participation_delegates (partner_id);
