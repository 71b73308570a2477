-- The Herald journal, schema version 1 (PRAGMA user_version = 1,
-- PRAGMA application_id = 1213352004, the ASCII bytes "HRLD").
--
-- One row per PERSISTENT message, one row per place a message holds in a durable
-- store (a queue or a durable subscription), one row per durable subscription.
-- docs/journal.md describes every column and what survives what.

-- Persistent messages, stored once however many stores hold them.
CREATE TABLE message (
    key  INTEGER PRIMARY KEY,   -- the broker's message key, increasing in send order
    data BLOB NOT NULL          -- headers, properties and body, as MessagePack
);

-- A message's place in a store. A message leaves a store when it is acknowledged,
-- expired or moved; a message no store holds is deleted in the same transaction.
CREATE TABLE entry (
    key            INTEGER NOT NULL REFERENCES message (key),
    store          TEXT NOT NULL,              -- 'queue:NAME' or a subscription's store
    delivery_count INTEGER NOT NULL DEFAULT 0, -- deliveries without an acknowledgement
    PRIMARY KEY (key, store)
) WITHOUT ROWID;

-- Durable subscriptions (JMS durable and shared durable subscriptions).
CREATE TABLE subscription (
    store     TEXT PRIMARY KEY,     -- the store its messages sit in (entry.store)
    client_id TEXT,                 -- NULL for a shared subscription without client ID
    name      TEXT NOT NULL,
    topic     TEXT NOT NULL,
    selector  TEXT,                 -- NULL: every message
    no_local  INTEGER NOT NULL,     -- 0 or 1
    shared    INTEGER NOT NULL      -- 0 or 1
);
