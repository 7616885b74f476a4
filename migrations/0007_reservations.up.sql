-- The reservation feed: the events the reservation worker decides on, with
-- a partial index so reading them skips every other event.
CREATE INDEX events_reservation_feed_ix ON events (tx_id, global_position)
    WHERE event_type IN ('inventory.reservation.requested.v1', 'cart.item_quantity_changed.v1', 'cart.item_removed.v1');

-- Reservation index: one row per reservation with its latest decision,
-- written in the same transaction as the inventory event that decided it.
-- It answers "is it decided yet?" (add-to-cart ?wait=), "which holds expire
-- now?" (the expiry sweep) and "is this hold live?" (checkout) without
-- reading inventory streams.
CREATE TABLE reservation_index (
    reservation_id uuid        PRIMARY KEY,
    tenant_id      uuid        NOT NULL,
    variant_id     uuid        NOT NULL,
    cart_id        uuid        NOT NULL,
    line_id        uuid        NOT NULL,
    status         text        NOT NULL CHECK (status IN ('reserved', 'rejected', 'released', 'expired', 'committed')),
    location_id    uuid,
    quantity       bigint      NOT NULL,
    expires_at     timestamptz,
    hot            boolean     NOT NULL DEFAULT false,
    decided_at     timestamptz NOT NULL
);
CREATE INDEX reservation_index_due_ix ON reservation_index (expires_at) WHERE status = 'reserved';
CREATE INDEX reservation_index_cart_ix ON reservation_index (tenant_id, cart_id);

-- Checkpoints of the reservation worker's lanes (hot and normal).
CREATE TABLE worker_checkpoints (
    name       text        PRIMARY KEY,
    tx_id      xid8        NOT NULL DEFAULT '0',
    position   bigint      NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Human order numbers, per tenant (HT-000123). A number is taken in its own
-- short statement before checkout, so the counter row is never held for a
-- whole checkout; a failed checkout leaves a gap, as sequences do.
CREATE TABLE order_counters (
    tenant_id uuid   PRIMARY KEY,
    last      bigint NOT NULL
);

-- Aggregate snapshots: a cache of an aggregate's state at a stream version,
-- so long streams (a hot SKU's inventory) load from the snapshot plus the
-- events after it. Deleting every row is always safe.
CREATE TABLE snapshots (
    tenant_id   uuid        NOT NULL,
    stream_id   uuid        NOT NULL,
    stream_type text        NOT NULL,
    version     bigint      NOT NULL,
    state       bytea       NOT NULL,
    taken_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, stream_id)
);
