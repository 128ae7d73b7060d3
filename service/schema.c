/* schema.c — the embedded copy of sql/schema.sql, applied by db.c when the first connection to
 * PostgreSQL is made.
 *
 * Why a copy rather than reading the file: dispatchd must start from any directory and from an
 * installed bin/ without the source tree next to it, and the Makefile compiles the service sources
 * as they are (no generated sources). The copy is kept byte-identical to sql/schema.sql, which
 * stays the readable, reviewable original; tests/integration/dispatchd.sh compares `dispatchd
 * --print-schema` with the file, so the two cannot drift apart unnoticed. */
#include "schema.h"

/* clang-format off */
const char schema_sql[] =
    "-- dispatchd's schema (PostgreSQL 15). dispatchd applies it at start, inside one transaction that\n"
    "-- holds an advisory lock, so concurrent starts of several instances do not race; every statement\n"
    "-- is idempotent. service/schema.c embeds an identical copy (tests/integration/dispatchd.sh checks).\n"
    "\n"
    "-- Identifiers are opaque: COLLATE \"C\" makes their index comparisons byte comparisons instead of\n"
    "-- locale-aware ones (several times cheaper under the webhook load).\n"
    "--\n"
    "-- payload is the webhook body exactly as received (type json keeps it byte for byte, optional\n"
    "-- fields included, and costs PostgreSQL about half of what jsonb's conversion does).\n"
    "--\n"
    "-- fillfactor 80 leaves room on each page so that accepting an order (an UPDATE of non-indexed\n"
    "-- columns) is a HOT update: no new entries in the two unique indexes, less WAL per accept.\n"
    "--\n"
    "-- One row per accepted webhook. order_id is the business key, webhook_id the idempotency key:\n"
    "-- the workers' multi-row INSERT ... ON CONFLICT DO NOTHING skips a webhook whose id was already\n"
    "-- stored (redelivery) and a second webhook that carries an order_id already stored (the first\n"
    "-- one wins; later ones are counted in dispatchd_orders_skipped_total).\n"
    "CREATE TABLE IF NOT EXISTS orders (\n"
    "    order_id     text COLLATE \"C\" PRIMARY KEY,\n"
    "    webhook_id   text COLLATE \"C\" NOT NULL UNIQUE,\n"
    "    customer_id  text NOT NULL,\n"
    "    total_cents  bigint NOT NULL CHECK (total_cents >= 0),\n"
    "    payload      json NOT NULL,\n"
    "    status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'accepted')),\n"
    "    vendor_id    text COLLATE \"C\",\n"
    "    received_at  timestamptz NOT NULL,\n"
    "    created_at   timestamptz NOT NULL DEFAULT now(),\n"
    "    accepted_at  timestamptz\n"
    ") WITH (fillfactor = 80);\n"
    "\n"
    "-- The winner of each order's race: at most one row per order (the primary key is the\n"
    "-- UNIQUE(order_id) that backs the conditional UPDATE in the same transaction).\n"
    "CREATE TABLE IF NOT EXISTS order_assignments (\n"
    "    order_id     text COLLATE \"C\" PRIMARY KEY REFERENCES orders (order_id),\n"
    "    vendor_id    text COLLATE \"C\" NOT NULL,\n"
    "    accepted_at  timestamptz NOT NULL\n"
    ");\n"
    "\n"
    "-- Webhooks received while Redis was unavailable (circuit open); the workers move them into\n"
    "-- orders with FOR UPDATE SKIP LOCKED, oldest first.\n"
    "CREATE TABLE IF NOT EXISTS webhook_inbox (\n"
    "    webhook_id   text COLLATE \"C\" PRIMARY KEY,\n"
    "    order_id     text COLLATE \"C\" NOT NULL,\n"
    "    customer_id  text NOT NULL,\n"
    "    total_cents  bigint NOT NULL,\n"
    "    payload      json NOT NULL,\n"
    "    received_at  timestamptz NOT NULL DEFAULT now()\n"
    ");\n"
    "CREATE INDEX IF NOT EXISTS webhook_inbox_received_at ON webhook_inbox (received_at);\n";
/* clang-format on */
