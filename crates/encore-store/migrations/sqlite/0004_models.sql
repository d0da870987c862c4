-- Generative models: the uses each can perform and its declared training set. Times are Unix
-- milliseconds. Uses (a JSON list) and the training set (a JSON document) are written and read
-- by the store (src/models.rs).
CREATE TABLE models (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    uses          TEXT NOT NULL,
    training      TEXT NOT NULL,
    created_by    TEXT,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
);
