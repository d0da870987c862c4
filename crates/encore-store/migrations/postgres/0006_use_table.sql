-- The use table as operator data: one row holding the whole table as a JSON document written
-- and read by the store (src/rights.rs). No row means the default table of product.md.
CREATE TABLE use_table (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    document      TEXT NOT NULL,
    updated_by    TEXT,
    updated_at_ms BIGINT NOT NULL
);
