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
-- One row per order, created by its first webhook. order_id is the business key, webhook_id (the
-- webhook that created the row) the idempotency key of creations: the workers' multi-row
-- INSERT ... ON CONFLICT DO NOTHING skips a webhook whose id was already stored (redelivery) and
-- a second order.created that carries an order_id already stored (the first one wins; later ones
-- are counted in dispatchd_orders_skipped_total). Later events of the order (order.updated,
-- order.paid, order.cancelled: apply_order_events below) carry the whole order and its version:
-- version and state are those of the newest event applied; status is the vendors' race.
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
    accepted_at  timestamptz,
    version      integer NOT NULL DEFAULT 1,
    state        text NOT NULL DEFAULT 'created'
                 CHECK (state IN ('created', 'updated', 'paid', 'cancelled')),
    cancelled_at timestamptz
) WITH (fillfactor = 80);
-- (databases made by an older dispatchd get the lifecycle columns here)
ALTER TABLE orders ADD COLUMN IF NOT EXISTS version integer NOT NULL DEFAULT 1;
ALTER TABLE orders ADD COLUMN IF NOT EXISTS state text NOT NULL DEFAULT 'created'
    CHECK (state IN ('created', 'updated', 'paid', 'cancelled'));
ALTER TABLE orders ADD COLUMN IF NOT EXISTS cancelled_at timestamptz;

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
    received_at  timestamptz NOT NULL DEFAULT now(),
    event_type   text NOT NULL DEFAULT 'order.created',
    version      integer NOT NULL DEFAULT 1
);
ALTER TABLE webhook_inbox ADD COLUMN IF NOT EXISTS event_type text NOT NULL
    DEFAULT 'order.created';
ALTER TABLE webhook_inbox ADD COLUMN IF NOT EXISTS version integer NOT NULL DEFAULT 1;
CREATE INDEX IF NOT EXISTS webhook_inbox_received_at ON webhook_inbox (received_at);

-- The webhook-ids of the order events handled (--dedupe on): a retry or duplicate of one is
-- recorded as received and not handled again.
CREATE TABLE IF NOT EXISTS webhook_receipts (
    webhook_id   text COLLATE "C" PRIMARY KEY,
    received_at  timestamptz NOT NULL DEFAULT now()
);

-- Every order event handled, one row per handling: what a receiver does once per event beyond
-- the order's row (a ledger entry, a notification) is done once per row here. applied says
-- whether the event changed the order; prev_version is the order's version before it (NULL: the
-- event created the order). An event handled twice has two rows (--dedupe off); an applied
-- event with prev_version > version overwrote a newer state (--ordering ignore).
CREATE TABLE IF NOT EXISTS order_events (
    id           bigserial PRIMARY KEY,
    webhook_id   text COLLATE "C" NOT NULL,
    order_id     text COLLATE "C" NOT NULL,
    type         text NOT NULL,
    version      integer NOT NULL,
    prev_version integer,
    applied      boolean NOT NULL,
    received_at  timestamptz NOT NULL,
    handled_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS order_events_webhook_id ON order_events (webhook_id);
CREATE INDEX IF NOT EXISTS order_events_order_id ON order_events (order_id);

-- Handles a batch of order events in order: batch is a JSON array of the workers' rows
-- ({"w":webhook_id,"t":received ms,"o","c","n","p", "e":type,"v":version}; without "e" an
-- order.created of version 1). dedupe: skip webhook-ids already handled; versioned: an event not
-- newer than the stored version does not change the order (it is still recorded). An event of
-- an order not stored yet creates it from its own data. Returns the events handled and the
-- orders created.
CREATE OR REPLACE FUNCTION apply_order_events(batch json, dedupe boolean, versioned boolean,
                                              OUT handled integer, OUT created integer)
LANGUAGE plpgsql AS $fn$
DECLARE
    ev record;
    typ text;
    ver integer;
    prev integer;
    changed boolean;
BEGIN
    handled := 0;
    created := 0;
    FOR ev IN SELECT * FROM json_to_recordset(batch)
              AS x(w text, t bigint, o text, c text, n bigint, p json, e text, v integer) LOOP
        typ := coalesce(ev.e, 'order.created');
        ver := coalesce(ev.v, 1);
        changed := false;
        IF dedupe THEN
            INSERT INTO webhook_receipts (webhook_id) VALUES (ev.w) ON CONFLICT DO NOTHING;
            CONTINUE WHEN NOT FOUND;
        END IF;
        SELECT version INTO prev FROM orders WHERE order_id = ev.o FOR UPDATE;
        IF NOT FOUND THEN
            prev := NULL;
            INSERT INTO orders (webhook_id, order_id, customer_id, total_cents, payload,
                                received_at, version, state, cancelled_at)
            VALUES (ev.w, ev.o, ev.c, ev.n, ev.p, to_timestamp(ev.t / 1000.0), ver,
                    split_part(typ, '.', 2),
                    CASE WHEN typ = 'order.cancelled' THEN now() END)
            ON CONFLICT DO NOTHING;
            IF FOUND THEN
                created := created + 1;
                changed := true;
            ELSE /* stored meanwhile by another worker, or this webhook created it before */
                SELECT version INTO prev FROM orders WHERE order_id = ev.o FOR UPDATE;
            END IF;
        END IF;
        IF prev IS NOT NULL THEN
            changed := NOT versioned OR ver > prev;
            IF changed THEN
                UPDATE orders
                   SET version = ver, state = split_part(typ, '.', 2), payload = ev.p,
                       customer_id = ev.c, total_cents = ev.n,
                       cancelled_at = CASE WHEN typ = 'order.cancelled'
                                           THEN coalesce(cancelled_at, now()) END
                 WHERE order_id = ev.o;
            END IF;
        END IF;
        INSERT INTO order_events (webhook_id, order_id, type, version, prev_version, applied,
                                  received_at)
        VALUES (ev.w, ev.o, typ, ver, prev, changed, to_timestamp(ev.t / 1000.0));
        handled := handled + 1;
    END LOOP;
END
$fn$;
