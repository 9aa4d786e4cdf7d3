-- The first schema of a paperrec store. Papers keep corpus order in ord (a
-- replaced paper keeps its row, so its place); changes is the append-only
-- log, numbered by meta.seq (see Store.Commit for why not a sequence).
-- Paper columns are json, not jsonb: stored as written, and jsonb refuses
-- the \u0000 that a Go string may hold; cast to jsonb to query them.

CREATE TABLE meta (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    seq bigint NOT NULL CHECK (seq >= 0)
);
INSERT INTO meta (seq) VALUES (0);

CREATE TABLE papers (
    id    text PRIMARY KEY,
    ord   bigserial NOT NULL UNIQUE,
    paper json NOT NULL
);

CREATE TABLE changes (
    seq   bigint PRIMARY KEY,
    op    text NOT NULL CHECK (op IN ('add', 'put', 'remove')),
    id    text NOT NULL,
    paper json,
    time  timestamptz NOT NULL
);

-- A snapshot is its bytes in chunks of at most 1 MiB; saving one commits
-- its row and its chunks together, and deleting the row deletes them.
CREATE TABLE snapshots (
    id     bigserial PRIMARY KEY,
    seq    bigint NOT NULL,
    sha256 bytea NOT NULL,
    size   bigint NOT NULL,
    chunks integer NOT NULL,
    saved  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX snapshots_newest ON snapshots (seq DESC, id DESC);

CREATE TABLE snapshot_chunks (
    snapshot bigint NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
    n        integer NOT NULL,
    data     bytea NOT NULL,
    PRIMARY KEY (snapshot, n)
);
-- Out of line and uncompressed: a snapshot is mostly floats, which pglz
-- spends time on for little gain.
ALTER TABLE snapshot_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
