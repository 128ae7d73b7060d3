-- dispatchd's schema (PostgreSQL 15). dispatchd applies it at start, inside one transaction that
-- holds an advisory lock, so concurrent starts of several instances do not race; every statement
-- is idempotent. service/schema.c embeds an identical copy (tests/integration/dispatchd.sh checks).

-- Identifiers are opaque: COLLATE "C" makes their index comparisons byte comparisons instead of
-- locale-aware ones (several times cheaper under the webhook load).
--
-- payload is the webhook body exactly as received (type json keeps it byte for byte, optional
-- fields included, and costs PostgreSQL about half of what jsonb's conversion does).
--
-- fillfactor 80 leaves room on each page so that accepting an order (an UPDATE of non-indexed
-- columns) is a HOT update: no new entries in the two unique indexes, less WAL per accept.
--
-- One row per accepted webhook. order_id is the business key, webhook_id the idempotency key:
-- the workers' multi-row INSERT ... ON CONFLICT DO NOTHING skips a webhook whose id was already
-- stored (redelivery) and a second webhook that carries an order_id already stored (the first
-- one wins; later ones are counted in dispatchd_orders_skipped_total).
CREATE TABLE IF NOT EXISTS orders (
    order_id     text COLLATE "C" PRIMARY KEY,
    webhook_id   text COLLATE "C" NOT NULL UNIQUE,
    customer_id  text NOT NULL,
    total_cents  bigint NOT NULL CHECK (total_cents >= 0),
    payload      json NOT NULL,
    status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'accepted')),
    vendor_id    text COLLATE "C",
    received_at  timestamptz NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    accepted_at  timestamptz
) WITH (fillfactor = 80);

-- The winner of each order's race: at most one row per order (the primary key is the
-- UNIQUE(order_id) that backs the conditional UPDATE in the same transaction).
CREATE TABLE IF NOT EXISTS order_assignments (
    order_id     text COLLATE "C" PRIMARY KEY REFERENCES orders (order_id),
    vendor_id    text COLLATE "C" NOT NULL,
    accepted_at  timestamptz NOT NULL
);

-- Webhooks received while Redis was unavailable (circuit open); the workers move them into
-- orders with FOR UPDATE SKIP LOCKED, oldest first.
CREATE TABLE IF NOT EXISTS webhook_inbox (
    webhook_id   text COLLATE "C" PRIMARY KEY,
    order_id     text COLLATE "C" NOT NULL,
    customer_id  text NOT NULL,
    total_cents  bigint NOT NULL,
    payload      json NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS webhook_inbox_received_at ON webhook_inbox (received_at);
