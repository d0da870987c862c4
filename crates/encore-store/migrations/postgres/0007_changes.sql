-- Every committed change that can alter a rights decision or an API key, in commit order, so
-- that each `encore serve` process can keep in-memory copies and drop exactly what changed
-- (src/cache.rs). seq is assigned under the audit log's lock (gap-free, in commit order).
-- kind names what changed and item its id: recording, work, party, licensor (its agreements),
-- participation, model, key; use_table and catalog (a bulk import: everything) have item ''.
CREATE TABLE changes (
    seq  BIGINT PRIMARY KEY,
    kind TEXT NOT NULL,
    item TEXT NOT NULL
);
